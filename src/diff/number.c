/*
 * JSON numbers by exact decimal value, from their text: 1, 1.0, 1e0 and
 * 10E-1 are one number, -0 is 0, and integers of any length compare
 * digit by digit. Nothing goes through a double except float_tolerance,
 * which is approximate by definition.
 *
 * A number is read as its significant digits d1..dn (no leading or
 * trailing zeros) and the position P of the decimal point: the value is
 * 0.d1..dn x 10^P. Two non-zero numbers are equal when sign, P and the
 * digits are.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diff-int.h"

/* Exponents past this are held at it: 1e(10^16) and 1e(10^16+1) meet. */
#define NUM_EXP_MAX	10000000000000000LL

struct dec {
	int		 neg;
	const char	*ip;	/* integer digits */
	size_t		 ilen;
	const char	*fp;	/* fraction digits */
	size_t		 flen;
	size_t		 first;	/* where d1 is, in integer then fraction */
	size_t		 ndig;	/* 0: the number is zero */
	int64_t		 point;	/* P */
};

/* The K-th digit of the integer digits followed by the fraction digits. */
static inline char
dec_digit(const struct dec *d, size_t k)
{
	return (k < d->ilen ? d->ip[k] : d->fp[k - d->ilen]);
}

/* Reads the (valid) JSON number text S into D. */
static void
dec_read(struct dec *d, const char *s, size_t len)
{
	const char	*p = s, *end = s + len;
	int64_t		 exp = 0;
	size_t		 total, last;
	int		 eneg = 0;

	memset(d, 0, sizeof(*d));
	if (p < end && *p == '-') {
		d->neg = 1;
		p++;
	}
	d->ip = p;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	d->ilen = (size_t)(p - d->ip);
	d->fp = p;
	if (p < end && *p == '.') {
		d->fp = ++p;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		d->flen = (size_t)(p - d->fp);
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			eneg = (*p++ == '-');
		for (; p < end && *p >= '0' && *p <= '9'; p++)
			if (exp < NUM_EXP_MAX)
				exp = exp * 10 + (*p - '0');
		if (exp > NUM_EXP_MAX)
			exp = NUM_EXP_MAX;
		if (eneg)
			exp = -exp;
	}
	total = d->ilen + d->flen;
	for (d->first = 0; d->first < total; d->first++)
		if (dec_digit(d, d->first) != '0')
			break;
	if (d->first == total)
		return;		/* zero: ndig stays 0 */
	for (last = total - 1; dec_digit(d, last) == '0'; last--)
		;
	d->ndig = last - d->first + 1;
	d->point = (int64_t)d->ilen + exp - (int64_t)d->first;
}

/*
 * Whether the longer of two number texts is the shorter followed by
 * fraction zeros ("12.34" and "12.340", "1" and "1.00"): how encoders
 * most often differ, told without reading the digits.
 */
static int
num_zero_tail(const char *s, size_t slen, const char *l, size_t llen)
{
	size_t	 i;
	int	 point = 0;

	if (slen >= llen || memcmp(s, l, slen) != 0)
		return (0);
	for (i = 0; i < slen; i++) {
		if (s[i] == 'e' || s[i] == 'E')
			return (0);
		point |= s[i] == '.';
	}
	if (!point) {
		if (l[slen] != '.')
			return (0);
		/* "1." is not JSON: a digit follows the point. */
		i = slen + 1;
	} else
		i = slen;
	for (; i < llen; i++)
		if (l[i] != '0')
			return (0);
	return (1);
}

/* Whether two JSON number texts have the same decimal value. */
int
num_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	struct dec	 x, y;
	size_t		 k;

	if (alen < blen ? num_zero_tail(a, alen, b, blen) :
	    num_zero_tail(b, blen, a, alen))
		return (1);

	dec_read(&x, a, alen);
	dec_read(&y, b, blen);
	if (x.ndig == 0 || y.ndig == 0)
		return (x.ndig == y.ndig);
	if (x.neg != y.neg || x.ndig != y.ndig || x.point != y.point)
		return (0);
	for (k = 0; k < x.ndig; k++)
		if (dec_digit(&x, x.first + k) != dec_digit(&y, y.first + k))
			return (0);
	return (1);
}

/* Whether the number's value is an integer (1.0 and 1e3 are). */
static int
num_is_integer(const char *s, size_t len)
{
	struct dec	 d;

	dec_read(&d, s, len);
	return (d.ndig == 0 || (int64_t)d.ndig <= d.point);
}

/* Whether the number is zero (0, -0, 0.0, 0e7). */
int
num_is_zero(const char *s, size_t len)
{
	struct dec	 d;

	dec_read(&d, s, len);
	return (d.ndig == 0);
}

/* The number as a double (C locale: JSON numbers never have a comma). */
static double
num_double(const char *s, size_t len)
{
	char	 buf[64], *p;
	double	 v;

	if (len < sizeof(buf)) {
		memcpy(buf, s, len);
		buf[len] = '\0';
		return (strtod(buf, NULL));
	}
	p = dx_strndup(s, len);
	v = strtod(p, NULL);
	free(p);
	return (v);
}

/*
 * Whether two numbers that are not equal are within relative tolerance
 * TOL of each other: |a - b| <= TOL * max(|a|, |b|). Two integers never
 * are (integers stay exact), nor is a number too large for a double.
 */
int
num_close(const char *a, size_t alen, const char *b, size_t blen, double tol)
{
	double	 x, y;

	if (tol <= 0)
		return (0);
	if (num_is_integer(a, alen) && num_is_integer(b, blen))
		return (0);
	x = num_double(a, alen);
	y = num_double(b, blen);
	if (!isfinite(x) || !isfinite(y))
		return (0);
	return (fabs(x - y) <= tol * fmax(fabs(x), fabs(y)));
}

/* A hash that equal numbers share. */
uint64_t
num_hash(const char *s, size_t len)
{
	struct dec	 d;
	uint64_t	 h;
	size_t		 k;

	dec_read(&d, s, len);
	if (d.ndig == 0)
		return (0x5a17);
	h = (uint64_t)d.point * 0x9e3779b97f4a7c15ULL + (uint64_t)d.neg;
	for (k = 0; k < d.ndig; k++)
		h = (h ^ (uint64_t)dec_digit(&d, d.first + k)) *
		    0x100000001b3ULL;
	return (h);
}
