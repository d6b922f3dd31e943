/*
 * The Prometheus text format, version 0.0.4:
 * https://prometheus.io/docs/instrumenting/exposition_formats/
 *
 * Numbers are formatted into a buffer on the stack and every piece is
 * appended with evbuffer_add(), so a scrape costs no allocation beyond
 * the evbuffer's. Numbers are printf's, whose decimal point is a '.'
 * only in the C locale: the daemon never calls setlocale(3).
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "shadowdiff/metrics.h"

/* Room for any number we write: at most 24 bytes (and a newline). */
#define METRICS_NUM_MAX	32

/* Appends S; QUOTE says a label value, whose quotes are escaped too. */
static void
metrics_escape(struct evbuffer *out, const char *s, int quote)
{
	const char	*run = s, *esc;

	/* Runs of plain bytes go in one piece, escapes in another. */
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			esc = "\\\\";
		else if (*s == '\n')
			esc = "\\n";
		else if (*s == '"' && quote)
			esc = "\\\"";
		else
			continue;
		evbuffer_add(out, run, (size_t)(s - run));
		evbuffer_add(out, esc, 2);
		run = s + 1;
	}
	evbuffer_add(out, run, (size_t)(s - run));
}

/* V's spelling if it is not a finite number, else NULL. */
static const char *
metrics_special(double v)
{
	if (isnan(v))
		return ("NaN");
	if (isinf(v))
		return (v > 0 ? "+Inf" : "-Inf");
	return (NULL);
}

/*
 * V in BUF: the fewest significant digits that read back the same, laid
 * out as Go's strconv.FormatFloat(v, 'g', -1, 64) does (with an exponent
 * below 1e-4 and from 1e+6 up), which is how client_golang spells values
 * and "le". Bounds are label values: people read them and type them into
 * queries, and a series is found by their bytes.
 */
const char *
metrics_number(char *buf, size_t len, double v)
{
	const char	*s;
	int		 prec, e10;

	if ((s = metrics_special(v)) != NULL)
		return (s);
	/* 17 significant digits ("%.16e") always read back. */
	for (prec = 0;; prec++) {
		snprintf(buf, len, "%.*e", prec, v);
		if (prec == 16 || strtod(buf, NULL) == v)
			break;
	}
	e10 = atoi(strchr(buf, 'e') + 1);
	if (e10 < -4 || e10 >= 6)
		return (buf);
	/* The same digits without the exponent. */
	snprintf(buf, len, "%.*f", prec > e10 ? prec - e10 : 0, v);
	return (buf);
}

/*
 * Writes a sample up to its value: NAME, SUFFIX (or NULL), the labels
 * and LE (or NULL) in braces if there are any, and the space.
 */
static void
metrics_sample(struct evbuffer *out, const char *name, const char *suffix,
    const struct metrics_label *labels, size_t nlabels, const char *le)
{
	size_t	 i;

	evbuffer_add(out, name, strlen(name));
	if (suffix != NULL)
		evbuffer_add(out, suffix, strlen(suffix));
	if (nlabels == 0 && le == NULL) {
		evbuffer_add(out, " ", 1);
		return;
	}
	evbuffer_add(out, "{", 1);
	for (i = 0; i < nlabels; i++) {
		if (i > 0)
			evbuffer_add(out, ",", 1);
		evbuffer_add(out, labels[i].name, strlen(labels[i].name));
		evbuffer_add(out, "=\"", 2);
		metrics_escape(out, labels[i].value, 1);
		evbuffer_add(out, "\"", 1);
	}
	if (le != NULL) {
		if (nlabels > 0)
			evbuffer_add(out, ",", 1);
		evbuffer_add(out, "le=\"", 4);
		evbuffer_add(out, le, strlen(le));
		evbuffer_add(out, "\"", 1);
	}
	evbuffer_add(out, "} ", 2);
}

/* Appends the value V and the end of the line. */
static void
metrics_value_u64(struct evbuffer *out, uint64_t v)
{
	char	 num[METRICS_NUM_MAX];
	int	 n;

	n = snprintf(num, sizeof(num), "%" PRIu64 "\n", v);
	evbuffer_add(out, num, (size_t)n);
}

/* Appends the value V (its shortest exact form) and the end of the line. */
static void
metrics_value_double(struct evbuffer *out, double v)
{
	char		 num[METRICS_NUM_MAX];
	const char	*s = metrics_number(num, sizeof(num), v);

	evbuffer_add(out, s, strlen(s));
	evbuffer_add(out, "\n", 1);
}

/* The # HELP and # TYPE lines of a family. */
void
metrics_family(struct evbuffer *out, const char *name, const char *type,
    const char *help)
{
	evbuffer_add(out, "# HELP ", 7);
	evbuffer_add(out, name, strlen(name));
	evbuffer_add(out, " ", 1);
	metrics_escape(out, help, 0);
	evbuffer_add(out, "\n# TYPE ", 8);
	evbuffer_add(out, name, strlen(name));
	evbuffer_add(out, " ", 1);
	evbuffer_add(out, type, strlen(type));
	evbuffer_add(out, "\n", 1);
}

/* One sample with an integer value. */
void
metrics_u64(struct evbuffer *out, const char *name,
    const struct metrics_label *labels, size_t nlabels, uint64_t v)
{
	metrics_sample(out, name, NULL, labels, nlabels, NULL);
	metrics_value_u64(out, v);
}

/* One sample with a floating-point value. */
void
metrics_double(struct evbuffer *out, const char *name,
    const struct metrics_label *labels, size_t nlabels, double v)
{
	metrics_sample(out, name, NULL, labels, nlabels, NULL);
	metrics_value_double(out, v);
}

/* The _bucket lines (cumulative), then _sum and _count, of a histogram. */
void
metrics_histogram(struct evbuffer *out, const char *name,
    const struct metrics_label *labels, size_t nlabels, const double *bounds,
    size_t nbounds, const uint64_t *counts, double sum)
{
	char		 num[METRICS_NUM_MAX];
	uint64_t	 total = 0;
	size_t		 i;

	for (i = 0; i < nbounds; i++) {
		total += counts[i];
		metrics_sample(out, name, "_bucket", labels, nlabels,
		    metrics_number(num, sizeof(num), bounds[i]));
		metrics_value_u64(out, total);
	}
	total += counts[nbounds];
	metrics_sample(out, name, "_bucket", labels, nlabels, "+Inf");
	metrics_value_u64(out, total);
	metrics_sample(out, name, "_sum", labels, nlabels, NULL);
	metrics_value_double(out, sum);
	metrics_sample(out, name, "_count", labels, nlabels, NULL);
	metrics_value_u64(out, total);
}
