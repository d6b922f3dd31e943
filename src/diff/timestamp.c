/*
 * RFC 3339 timestamps as instants, for the timestamps rule: Go writes
 * 2024-01-02T03:04:05.1Z where chrono writes 2024-01-02T03:04:05.100Z,
 * and a local offset where the other side writes UTC. An instant is the
 * whole seconds since the epoch plus the fraction's digits without
 * trailing zeros, so any precision compares exactly.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "diff-int.h"

/* The value of N decimal digits at S, or -1. */
static int
ts_digits(const char *s, int n)
{
	int	 v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		v = v * 10 + (s[i] - '0');
	}
	return (v);
}

/* Days from 1970-01-01 to Y-M-D in the proleptic Gregorian calendar. */
static int64_t
ts_days(int64_t y, int m, int d)
{
	int64_t	 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468);
}

/* Days in month M of year Y. */
static int
ts_mdays(int y, int m)
{
	static const int	 days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
				    31, 30, 31 };

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return (29);
	return (days[m - 1]);
}

/*
 * Parses an RFC 3339 date-time (section 5.6; 'T' and 'Z' in either case)
 * into I. Returns 0, or -1 if S is not one.
 */
int
instant_parse(const char *s, size_t len, struct instant *i)
{
	const char	*p, *end = s + len;
	int		 y, mo, d, h, mi, sec, oh, om, sign;

	if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' &&
	    s[10] != 't') || s[13] != ':' || s[16] != ':')
		return (-1);
	if ((y = ts_digits(s, 4)) < 0 || (mo = ts_digits(s + 5, 2)) < 1 ||
	    mo > 12 || (d = ts_digits(s + 8, 2)) < 1 || d > ts_mdays(y, mo) ||
	    (h = ts_digits(s + 11, 2)) < 0 || h > 23 ||
	    (mi = ts_digits(s + 14, 2)) < 0 || mi > 59 ||
	    (sec = ts_digits(s + 17, 2)) < 0 || sec > 60)
		return (-1);
	p = s + 19;
	i->frac = p;
	i->fraclen = 0;
	if (*p == '.') {
		i->frac = ++p;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		if (p == i->frac)
			return (-1);
		i->fraclen = (size_t)(p - i->frac);
		while (i->fraclen > 0 && i->frac[i->fraclen - 1] == '0')
			i->fraclen--;
	}
	if (p < end && (*p == 'Z' || *p == 'z') && p + 1 == end) {
		oh = om = 0;
		sign = 1;
	} else if (p < end && (*p == '+' || *p == '-') && end - p == 6 &&
	    p[3] == ':') {
		sign = *p == '-' ? -1 : 1;
		if ((oh = ts_digits(p + 1, 2)) < 0 || oh > 23 ||
		    (om = ts_digits(p + 4, 2)) < 0 || om > 59)
			return (-1);
	} else
		return (-1);
	i->sec = ts_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	    sign * (oh * 3600 + om * 60);
	return (0);
}

/* Parses RFC 3339 text into microseconds since the epoch; 0 or -1. */
int
diff_time_parse(const char *s, size_t len, int64_t *us)
{
	struct instant	 t;
	int64_t		 frac = 0;
	size_t		 i;

	if (instant_parse(s, len, &t) == -1)
		return (-1);
	for (i = 0; i < 6; i++)
		frac = frac * 10 + (i < t.fraclen ? t.frac[i] - '0' : 0);
	*us = t.sec * 1000000 + frac;
	return (0);
}

/* Whether two instants are the same. */
int
instant_equal(const struct instant *a, const struct instant *b)
{
	return (a->sec == b->sec && a->fraclen == b->fraclen &&
	    memcmp(a->frac, b->frac, a->fraclen) == 0);
}

/* A hash that equal instants share. */
uint64_t
instant_hash(const struct instant *i)
{
	return (dx_hash(i->frac, i->fraclen, (uint64_t)i->sec));
}
