/*
 * report: the daemon's figures for the admin endpoint, as Prometheus text
 * (GET /metrics) and as JSON (GET /stats), both from one snapshot taken
 * per request, and the summary logged at exit; all three walk one table
 * of figures (report.c). Called on the main thread; per-worker counters
 * are read without locks (stats.h). The names are documented in
 * docs/metrics.md.
 */
#ifndef SHADOWDIFF_REPORT_H
#define SHADOWDIFF_REPORT_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct differ;
struct differ_counts;
struct divlog;
struct evbuffer;
struct report;
struct worker;

/* Where the figures come from: the daemon's parts, and its own counts. */
struct report_src {
	struct worker		**workers;
	size_t			  nworkers;
	struct differ		 *differ;	/* NULL: no shadow yet */
	struct divlog		 *divlog;	/* NULL: no shadow yet */
	const struct config	 *cfg;		/* in service */
	uint64_t		  reloads_ok;
	uint64_t		  reloads_failed;
	uint64_t		  admin_evicted;	/* admin_evicted() */
	int64_t			  start_us;	/* Unix time */
	int			  draining;
};

/* Appends the figures as Prometheus text, format 0.0.4. */
void	report_metrics(const struct report_src *, struct evbuffer *);
/* Appends the same figures as a JSON object. */
void	report_stats(const struct report_src *, struct evbuffer *);
/*
 * The exit summary, from the same figures: the workers' counts taken
 * once they stopped (before they are freed), then logged with the diff
 * threads' final counts (NULL: none) and freed.
 */
struct report	*report_summary_new(struct worker **, size_t);
void		 report_summary_log(struct report *, int,
		    const struct differ_counts *);

#endif
