/*
 * metrics: a writer of the Prometheus text exposition format (version
 * 0.0.4) into an evbuffer. It formats and escapes, and keeps no state:
 * a family is its metrics_family() lines followed by its samples, in
 * the order the caller writes them. Names are not checked (the callers'
 * are constants); label values and help texts may be any bytes.
 * Nothing is allocated per sample beyond the evbuffer's own growth.
 */
#ifndef SHADOWDIFF_METRICS_H
#define SHADOWDIFF_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;

struct metrics_label {
	const char	*name;
	const char	*value;
};

/* V as Prometheus spells it, in the buffer: the shortest exact form. */
const char *metrics_number(char *, size_t, double);
/*
 * The # HELP and # TYPE lines of family NAME; TYPE is "counter", "gauge"
 * or "histogram". The help text's backslashes and newlines are escaped.
 */
void	metrics_family(struct evbuffer *, const char *, const char *,
	    const char *);
/*
 * One sample line: name{l1="v1",...} value. Label values escape
 * backslash, double quote and newline; with no labels, no braces.
 */
void	metrics_u64(struct evbuffer *, const char *,
	    const struct metrics_label *, size_t, uint64_t);
/* The same with a double: %.17g, or +Inf, -Inf, NaN. */
void	metrics_double(struct evbuffer *, const char *,
	    const struct metrics_label *, size_t, double);
/*
 * A histogram's samples: NAME_bucket with the labels and le="bound",
 * cumulative, for each of the NBOUNDS finite increasing BOUNDS and then
 * le="+Inf"; then NAME_sum (SUM) and NAME_count. COUNTS holds NBOUNDS + 1
 * per-bucket (not cumulative) counts, the last one above the last bound.
 * Bounds are written in the fewest digits that read back the same, as
 * client_golang writes them (0.005, 0.25, 1, 2.5, 10, 1e+06).
 */
void	metrics_histogram(struct evbuffer *, const char *,
	    const struct metrics_label *, size_t, const double *, size_t,
	    const uint64_t *, double);

#endif
