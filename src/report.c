/*
 * The daemon's figures for the admin endpoint and the exit summary. They
 * are gathered once per request into a struct report (per-worker
 * counters summed, read without locks; the diff threads' and the log
 * writer's counts), and that one snapshot is written as Prometheus text
 * or as JSON by walking one table of figures, report_figures; the exit
 * summary walks it too. The three cannot disagree, and their names are
 * documented together in docs/metrics.md.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "shadowdiff/config.h"
#include "shadowdiff/diff.h"
#include "shadowdiff/differ.h"
#include "shadowdiff/divlog.h"
#include "shadowdiff/log.h"
#include "shadowdiff/metrics.h"
#include "shadowdiff/report.h"
#include "shadowdiff/stats.h"
#include "shadowdiff/util.h"
#include "shadowdiff/worker.h"

static const char *const classes[STATS_CLASSES] = {
	"1xx", "2xx", "3xx", "4xx", "5xx"
};
static const char *const verdicts[RECORD_VERDICTS] = {
	"match", "mismatch", "shadow_error"
};
static const char *const legs[STATS_LEGS] = { "primary", "shadow" };

struct report_route {
	const char			*name;
	uint64_t			 responses[STATS_CLASSES];
	uint64_t			 mirrored;
	uint64_t			 latency[STATS_LEGS][STATS_LATENCY_BOUNDS + 1];
	uint64_t			 latency_us[STATS_LEGS];
	struct differ_route_counts	 diff;
};

struct report_rule {
	char		*rule;
	uint64_t	 count;
};

/*
 * One snapshot of every figure. The figure table below finds each value
 * by its offset in here, so every value it shows is a uint64_t.
 */
struct report {
	uint64_t		 c[STAT_MAX];	/* over the workers */
	uint64_t		 sc[STAT_MAX];	/* of the shadow's pools */
	struct report_route	 routes[STATS_ROUTES_MAX];
	size_t			 nroutes;
	struct report_rule	*rules;
	size_t			 nrules;
	struct differ_counts	 dc;
	uint64_t		 diff_depth;	/* dc's, as uint64_t */
	uint64_t		 diff_bytes;
	struct divlog_counts	 lc;
	uint64_t		 log_depth;
	uint64_t		 generation;
	uint64_t		 reloads_ok;
	uint64_t		 reloads_failed;
	uint64_t		 admin_evicted;
	int64_t			 start_us;	/* Unix time */
};

/* Where a value is in struct report: a worker counter, or a field. */
#define R_C(stat)	offsetof(struct report, c[stat])
#define R_SC(stat)	offsetof(struct report, sc[stat])
#define R_FIELD(f)	offsetof(struct report, f)

/* One value of a figure. */
struct report_value {
	const char	*label;		/* its label value; NULL: no label */
	const char	*key;		/* its key in /stats; NULL: label */
	const char	*what;		/* its words in the exit summary */
	size_t		 off;		/* the uint64_t in struct report */
};

/* The lines of the exit summary. */
enum report_line {
	REPORT_LINE_NONE,
	REPORT_LINE_MIRRORS,	/* the workers' mirroring */
	REPORT_LINE_SHADOW,	/* the shadow's answers */
	REPORT_LINE_COMPARED,	/* the diff threads' verdicts */
	REPORT_LINES
};

/*
 * A figure: one Prometheus family, its place in /stats and in the exit
 * summary. Most are values of the snapshot (VALUES); the few of another
 * shape (histograms, two labels, names known at run time) write
 * themselves (PROM, JSON), in their place in the table.
 */
struct report_figure {
	const char		 *metric;	/* NULL: not in /metrics */
	const char		 *type;		/* "counter", "gauge" */
	const char		 *help;
	const char		 *label;	/* the values' label name */
	const char		 *json;		/* object in /stats: "a.b" */
	enum report_line	  line;
	const char		 *lead;		/* words before the values */
	const struct report_value *values;
	size_t			  nvalues;
	void			(*prom)(struct evbuffer *,
				    const struct report *);
	void			(*json_fn)(json_t *, const struct report *);
};

/* An upstream pool counter, by backend: the primary's and the shadow's. */
#define UPSTREAM_VALUES(name, stat)	name[] = {			\
	{ "primary", NULL, NULL, R_C(stat) },				\
	{ "shadow", NULL, NULL, R_SC(stat) } }

/* The counter families of stats.h, one value per member. */
static const struct report_value client_errors[] = {
#define REPORT_ERR(code, label, what)	{ label, NULL, what,		\
	R_C(STAT_ERR_##code) },
	STATS_CLIENT_ERRORS(REPORT_ERR)
#undef REPORT_ERR
}, not_mirrored[] = {
#define REPORT_NM(name, verdict, label, what)	{ label, NULL, what,	\
	R_C(STAT_NOT_MIRRORED_##name) },
	STATS_NOT_MIRRORED(REPORT_NM)
#undef REPORT_NM
}, mirrors_dropped[] = {
#define REPORT_MD(name, label, what)	{ label, NULL, what,		\
	R_C(STAT_MIRROR_##name) },
	STATS_MIRRORS_DROPPED(REPORT_MD)
#undef REPORT_MD
}, tls_failures[] = {
#define REPORT_TLS(name, label, what)	{ label, NULL, what,		\
	R_C(STAT_TLS_FAIL_##name) },
	STATS_TLS_FAILURES(REPORT_TLS)
#undef REPORT_TLS
}, shadow_errors[] = {
#define REPORT_SE(name, label, what)	{ label, NULL, what,		\
	R_C(STAT_SHADOW_##name) },
	STATS_SHADOW_ERRORS(REPORT_SE)
#undef REPORT_SE
}, verdict_totals[] = {
	{ NULL, NULL, "mismatches", R_FIELD(dc.mismatches) },
	{ NULL, NULL, "shadow errors", R_FIELD(dc.shadow_errors) },
	{ NULL, NULL, "matches", R_FIELD(dc.matches) }
}, log_records[] = {
	{ "written", NULL, NULL, R_FIELD(lc.written) },
	{ "dropped", NULL, NULL, R_FIELD(lc.dropped) },
	{ "lost", NULL, NULL, R_FIELD(lc.lost) }
}, reloads[] = {
	{ "ok", "reloads_ok", NULL, R_FIELD(reloads_ok) },
	{ "failed", "reloads_failed", NULL, R_FIELD(reloads_failed) }
}, responses_cut[] = {
	{ "client", NULL, NULL, R_C(STAT_CLIENT_ABORTS) },
	{ "primary", NULL, NULL, R_C(STAT_PRIMARY_CUT) }
}, UPSTREAM_VALUES(upstream_open, STAT_UP_OPEN),
    UPSTREAM_VALUES(upstream_connects, STAT_UP_CONNECTS),
    UPSTREAM_VALUES(upstream_reused, STAT_UP_REUSED),
    UPSTREAM_VALUES(upstream_stale, STAT_UP_STALE),
    UPSTREAM_VALUES(upstream_retries, STAT_UP_RETRIES);
#undef UPSTREAM_VALUES

/* A figure of one value: its key in /stats, its words at exit, where. */
#define REPORT_ONE(key, what, off)					\
	(const struct report_value[]){ { NULL, key, what, off } }, 1
#define REPORT_ALL(values)	values, nitems(values)

static void	prom_routes(struct evbuffer *, const struct report *);
static void	json_routes(json_t *, const struct report *);
static void	prom_forgiven(struct evbuffer *, const struct report *);
static void	json_forgiven(json_t *, const struct report *);
static void	prom_upstream_tls(struct evbuffer *, const struct report *);
static void	json_upstream_tls(json_t *, const struct report *);
static void	prom_process(struct evbuffer *, const struct report *);

/*
 * Every figure, in the order of /metrics (and of /stats, whose few
 * figures of its own come first). A counter added to stats.h is shown
 * by a line here, or by nothing if it joins a family.
 */
static const struct report_figure report_figures[] = {
	{ NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, prom_routes,
	    json_routes },
	{ "shadowdiff_primary_errors_total", "counter",
	    "Error responses of our own to clients, by status.", "status",
	    "primary_errors", REPORT_LINE_NONE, NULL,
	    REPORT_ALL(client_errors), NULL, NULL },
	{ "shadowdiff_responses_cut_total", "counter",
	    "Responses that could not be sent whole, by the side that failed "
	    "(the client left, the primary failed mid-response).", "side",
	    "responses_cut", REPORT_LINE_NONE, NULL,
	    REPORT_ALL(responses_cut), NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL, REPORT_LINE_MIRRORS, "mirrored",
	    REPORT_ONE(NULL, "requests", R_C(STAT_MIRRORED)), NULL, NULL },
	{ "shadowdiff_not_mirrored_total", "counter",
	    "Requests not mirrored, by reason.", "reason", "not_mirrored",
	    REPORT_LINE_MIRRORS, "not mirrored:", REPORT_ALL(not_mirrored),
	    NULL, NULL },
	{ "shadowdiff_mirrors_dropped_total", "counter",
	    "Mirrors sent but not compared, by reason.", "reason",
	    "mirrors_dropped", REPORT_LINE_MIRRORS, NULL,
	    REPORT_ALL(mirrors_dropped), NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL, REPORT_LINE_SHADOW, "shadow:",
	    REPORT_ONE(NULL, "answered", R_C(STAT_SHADOW_OK)), NULL, NULL },
	{ "shadowdiff_shadow_errors_total", "counter",
	    "Shadow exchanges that failed, by error.", "error",
	    "shadow_errors", REPORT_LINE_SHADOW, "errors:",
	    REPORT_ALL(shadow_errors), NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, prom_forgiven,
	    json_forgiven },
	{ NULL, NULL, NULL, NULL, NULL, REPORT_LINE_COMPARED, "compared",
	    REPORT_ONE(NULL, "exchanges:", R_FIELD(dc.compared)), NULL,
	    NULL },
	{ NULL, NULL, NULL, NULL, NULL, REPORT_LINE_COMPARED, NULL,
	    REPORT_ALL(verdict_totals), NULL, NULL },
	{ "shadowdiff_diff_rule_errors_total", "counter",
	    "Rules that could not decide within their bounds (a regular "
	    "expression's match limit, shape_only's work bound).", NULL,
	    "diff", 0, NULL,
	    REPORT_ONE("rule_errors", NULL, R_FIELD(dc.rule_errors)), NULL,
	    NULL },
	{ "shadowdiff_diff_queue_depth", "gauge",
	    "Exchanges waiting for a diff thread.", NULL, "diff_queue", 0,
	    NULL, REPORT_ONE("depth", NULL, R_FIELD(diff_depth)), NULL,
	    NULL },
	{ "shadowdiff_diff_queue_bytes", "gauge",
	    "Bytes held by the exchanges waiting.", NULL, "diff_queue", 0,
	    NULL, REPORT_ONE("bytes", NULL, R_FIELD(diff_bytes)), NULL,
	    NULL },
	{ "shadowdiff_diff_dropped_total", "counter",
	    "Exchanges dropped: the diff queue was full.", NULL,
	    "diff_queue", REPORT_LINE_COMPARED, NULL,
	    REPORT_ONE("dropped", "dropped (diff queue full)",
	    R_FIELD(dc.dropped)), NULL, NULL },
	{ "shadowdiff_log_records_total", "counter",
	    "Divergence records written, dropped (queue full) and lost (the "
	    "write failed).", "outcome", "log", 0, NULL,
	    REPORT_ALL(log_records), NULL, NULL },
	{ "shadowdiff_log_reopens_total", "counter",
	    "Times the divergence log was opened again: SIGUSR1, a removed "
	    "file made anew, a failed write.", NULL, "log", 0, NULL,
	    REPORT_ONE("reopens", NULL, R_FIELD(lc.reopens)), NULL, NULL },
	{ "shadowdiff_log_queue_depth", "gauge",
	    "Divergence records waiting to be written.", NULL, "log", 0, NULL,
	    REPORT_ONE("queue_depth", NULL, R_FIELD(log_depth)), NULL, NULL },
	{ "shadowdiff_config_generation", "gauge",
	    "Generation of the configuration in service (1 at start).", NULL,
	    "config", 0, NULL,
	    REPORT_ONE("generation", NULL, R_FIELD(generation)), NULL, NULL },
	{ "shadowdiff_reloads_total", "counter", "SIGHUP reloads, by result.",
	    "result", "config", 0, NULL, REPORT_ALL(reloads), NULL, NULL },
	{ "shadowdiff_client_connections_accepted_total", "counter",
	    "Client connections accepted.", NULL, "client", 0, NULL,
	    REPORT_ONE("accepted", NULL, R_C(STAT_CONN_ACCEPTED)), NULL,
	    NULL },
	{ "shadowdiff_requests_received_total", "counter",
	    "Requests whose head was read, on every route.", NULL, "client",
	    0, NULL, REPORT_ONE("requests", NULL, R_C(STAT_REQUESTS)), NULL,
	    NULL },
	{ "shadowdiff_client_connections", "gauge",
	    "Client connections open.", NULL, "connections", 0, NULL,
	    REPORT_ONE("client", NULL, R_C(STAT_CONN_OPEN)), NULL, NULL },
	{ "shadowdiff_client_connections_refused_total", "counter",
	    "Client connections closed at max_connections.", NULL,
	    "connections", 0, NULL,
	    REPORT_ONE("client_refused", NULL, R_C(STAT_CONN_REFUSED)), NULL,
	    NULL },
	{ "shadowdiff_client_connections_evicted_total", "counter",
	    "Idle client connections closed to make room at max_connections.",
	    NULL, "connections", 0, NULL,
	    REPORT_ONE("client_evicted", NULL, R_C(STAT_CONN_EVICTED)), NULL,
	    NULL },
	{ "shadowdiff_admin_connections_evicted_total", "counter",
	    "Admin connections closed to make room for a new one.", NULL,
	    "connections", 0, NULL,
	    REPORT_ONE("admin_evicted", NULL, R_FIELD(admin_evicted)), NULL,
	    NULL },
	{ "shadowdiff_upstream_connections", "gauge",
	    "Connections open to the backends.", "backend", "connections", 0,
	    NULL, REPORT_ALL(upstream_open), NULL, NULL },
	{ "shadowdiff_upstream_connects_total", "counter",
	    "Connections opened to the backends.", "backend",
	    "upstream_connects", 0, NULL, REPORT_ALL(upstream_connects), NULL,
	    NULL },
	{ "shadowdiff_upstream_reused_total", "counter",
	    "Requests sent on a pooled connection.", "backend",
	    "upstream_reused", 0, NULL, REPORT_ALL(upstream_reused), NULL,
	    NULL },
	{ "shadowdiff_upstream_stale_total", "counter",
	    "Pooled connections found closed before use.", "backend",
	    "upstream_stale", 0, NULL, REPORT_ALL(upstream_stale), NULL, NULL },
	{ "shadowdiff_upstream_retries_total", "counter",
	    "Idempotent requests sent again on a new connection after a "
	    "pooled one failed.", "backend", "upstream_retries", 0, NULL,
	    REPORT_ALL(upstream_retries), NULL, NULL },
	{ "shadowdiff_tls_handshakes_total", "counter",
	    "Client TLS handshakes done.", NULL, "tls", 0, NULL,
	    REPORT_ONE("handshakes", NULL, R_C(STAT_TLS_HANDSHAKES)), NULL,
	    NULL },
	{ "shadowdiff_tls_resumed_total", "counter",
	    "Client TLS handshakes that resumed a session.", NULL, "tls", 0,
	    NULL, REPORT_ONE("resumed", NULL, R_C(STAT_TLS_RESUMED)), NULL,
	    NULL },
	{ "shadowdiff_tls_handshake_failures_total", "counter",
	    "Client TLS handshakes failed, by reason.", "reason",
	    "tls.failures", 0, NULL, REPORT_ALL(tls_failures), NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, prom_upstream_tls,
	    json_upstream_tls },
	{ NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, prom_process,
	    NULL }
};

/* Adds a rule's count to the snapshot (from differ_forgiven). */
static void
report_add_rule(void *arg, const char *rule, uint64_t count)
{
	struct report	*r = arg;

	r->rules = xreallocarray(r->rules, r->nrules + 1, sizeof(*r->rules));
	r->rules[r->nrules].rule = xstrdup(rule);
	r->rules[r->nrules++].count = count;
}

/* Whether route ID is worth showing: in the config, or counted. */
static int
report_route_shown(const struct report_src *src, const struct report_route *rr,
    size_t id)
{
	size_t	 i;

	if (id == STATS_ROUTE_DEFAULT)
		return (1);
	for (i = 0; i < src->cfg->nroutes; i++)
		if (src->cfg->routes[i].stat_id == id)
			return (1);
	for (i = 0; i < STATS_CLASSES; i++)
		if (rr->responses[i] > 0)
			return (1);
	for (i = 0; i < RECORD_VERDICTS; i++)
		if (rr->diff.verdicts[i] > 0)
			return (1);
	return (rr->mirrored > 0);
}

/* Sums one route's figures over the workers into RR. */
static void
report_route_sum(const struct report_src *src, size_t id,
    struct report_route *rr)
{
	const struct stats_route	*sr;
	size_t				 k, i, b;

	memset(rr, 0, sizeof(*rr));
	rr->name = stats_route_name(id);
	for (k = 0; k < src->nworkers; k++) {
		sr = &src->workers[k]->routes[id];
		for (i = 0; i < STATS_CLASSES; i++)
			rr->responses[i] += atomic_load_explicit(
			    &sr->responses[i], memory_order_relaxed);
		rr->mirrored += atomic_load_explicit(&sr->mirrored,
		    memory_order_relaxed);
		for (i = 0; i < STATS_LEGS; i++) {
			for (b = 0; b <= STATS_LATENCY_BOUNDS; b++)
				rr->latency[i][b] += atomic_load_explicit(
				    &sr->latency[i][b], memory_order_relaxed);
			rr->latency_us[i] += atomic_load_explicit(
			    &sr->latency_us[i], memory_order_relaxed);
		}
	}
	if (src->differ != NULL)
		differ_route_counts(src->differ, id, &rr->diff);
}

/* Sums the counters of the NWORKERS WORKERS into R. */
static void
report_sum_workers(struct report *r, struct worker **workers,
    size_t nworkers)
{
	size_t	 k, i;

	for (k = 0; k < nworkers; k++) {
		for (i = 0; i < STAT_MAX; i++) {
			r->c[i] += stats_get(&workers[k]->stats, i);
			r->sc[i] += stats_get(&workers[k]->shadow_stats, i);
		}
	}
}

/* Copies the diff threads' counts into R. */
static void
report_set_differ(struct report *r, const struct differ_counts *dc)
{
	r->dc = *dc;
	r->diff_depth = dc->depth;
	r->diff_bytes = dc->bytes;
}

/* Takes the snapshot. */
static void
report_gather(const struct report_src *src, struct report *r)
{
	struct report_route	 rr;
	struct differ_counts	 dc;
	size_t			 i, n = stats_route_count();

	memset(r, 0, sizeof(*r));
	report_sum_workers(r, src->workers, src->nworkers);
	for (i = 0; i < n; i++) {
		report_route_sum(src, i, &rr);
		if (report_route_shown(src, &rr, i))
			r->routes[r->nroutes++] = rr;
	}
	if (src->differ != NULL) {
		differ_counts(src->differ, &dc);
		report_set_differ(r, &dc);
		differ_forgiven(src->differ, report_add_rule, r);
	}
	if (src->divlog != NULL) {
		divlog_counts(src->divlog, &r->lc);
		r->log_depth = divlog_depth(src->divlog);
	}
	r->generation = src->cfg->generation;
	r->reloads_ok = src->reloads_ok;
	r->reloads_failed = src->reloads_failed;
	r->admin_evicted = src->admin_evicted;
	r->start_us = src->start_us;
}

static void
report_free(struct report *r)
{
	size_t	 i;

	for (i = 0; i < r->nrules; i++)
		free(r->rules[i].rule);
	free(r->rules);
	free(r);
}

/* The value V of the snapshot R. */
static uint64_t
report_value(const struct report *r, const struct report_value *v)
{
	uint64_t	 n;

	memcpy(&n, (const char *)r + v->off, sizeof(n));
	return (n);
}

/* Microseconds as seconds. */
static double
report_seconds(uint64_t us)
{
	return ((double)us / 1e6);
}

/* The per-route families. */
static void
prom_routes(struct evbuffer *out, const struct report *r)
{
	struct metrics_label	 ml[2] = { { "route", NULL }, { NULL, NULL } };
	const struct report_route *rr;
	size_t			 i, j;

	metrics_family(out, "shadowdiff_requests_total", "counter",
	    "Responses to clients, by route and status class.");
	ml[1].name = "class";
	for (i = 0; i < r->nroutes; i++)
		for (j = 0, ml[0].value = r->routes[i].name; j < STATS_CLASSES;
		    j++) {
			ml[1].value = classes[j];
			metrics_u64(out, "shadowdiff_requests_total", ml, 2,
			    r->routes[i].responses[j]);
		}
	metrics_family(out, "shadowdiff_mirrored_total", "counter",
	    "Requests mirrored to the shadow, by route.");
	for (i = 0; i < r->nroutes; i++) {
		ml[0].value = r->routes[i].name;
		metrics_u64(out, "shadowdiff_mirrored_total", ml, 1,
		    r->routes[i].mirrored);
	}
	metrics_family(out, "shadowdiff_compared_total", "counter",
	    "Exchanges compared, by route and verdict.");
	ml[1].name = "verdict";
	for (i = 0; i < r->nroutes; i++)
		for (j = 0, ml[0].value = r->routes[i].name;
		    j < RECORD_VERDICTS; j++) {
			ml[1].value = verdicts[j];
			metrics_u64(out, "shadowdiff_compared_total", ml, 2,
			    r->routes[i].diff.verdicts[j]);
		}
	metrics_family(out, "shadowdiff_differences_total", "counter",
	    "Differences not forgiven by a rule, by route and kind.");
	ml[1].name = "kind";
	for (i = 0; i < r->nroutes; i++)
		for (j = 0, ml[0].value = r->routes[i].name; j < DIFF_KINDS;
		    j++) {
			ml[1].value = diff_kind_name(j);
			metrics_u64(out, "shadowdiff_differences_total", ml, 2,
			    r->routes[i].diff.kinds[j]);
		}
	metrics_family(out, "shadowdiff_response_seconds", "histogram",
	    "Time to the full response of the primary (from the request's "
	    "head) and of the shadow (from sending it), by route.");
	ml[1].name = "backend";
	for (i = 0; i < r->nroutes; i++) {
		rr = &r->routes[i];
		ml[0].value = rr->name;
		for (j = 0; j < STATS_LEGS; j++) {
			ml[1].value = legs[j];
			metrics_histogram(out, "shadowdiff_response_seconds",
			    ml, 2, stats_latency_bounds, STATS_LATENCY_BOUNDS,
			    rr->latency[j], report_seconds(rr->latency_us[j]));
		}
	}
}

/* Differences forgiven, by rule: the rules are known at run time. */
static void
prom_forgiven(struct evbuffer *out, const struct report *r)
{
	struct metrics_label	 ml = { "rule", NULL };
	size_t			 i;

	metrics_family(out, "shadowdiff_forgiven_total", "counter",
	    "Differences forgiven, by rule.");
	for (i = 0; i < r->nrules; i++) {
		ml.value = r->rules[i].rule;
		metrics_u64(out, "shadowdiff_forgiven_total", &ml, 1,
		    r->rules[i].count);
	}
}

/* TLS with the backends: two labels, backend and result. */
static void
prom_upstream_tls(struct evbuffer *out, const struct report *r)
{
	struct metrics_label	 ml[2] = { { "backend", NULL },
				    { "result", NULL } };
	const uint64_t		*c;
	size_t			 i;

	metrics_family(out, "shadowdiff_upstream_tls_handshakes_total",
	    "counter", "TLS handshakes with the backends, by result.");
	for (i = 0; i < STATS_LEGS; i++) {
		c = i == STATS_PRIMARY ? r->c : r->sc;
		ml[0].value = legs[i];
		ml[1].value = "ok";
		metrics_u64(out, "shadowdiff_upstream_tls_handshakes_total",
		    ml, 2, c[STAT_UP_TLS_HANDSHAKES]);
		ml[1].value = "failed";
		metrics_u64(out, "shadowdiff_upstream_tls_handshakes_total",
		    ml, 2, c[STAT_UP_TLS_FAILED]);
	}
	metrics_family(out, "shadowdiff_upstream_tls_resumed_total",
	    "counter", "TLS handshakes with the backends that resumed a "
	    "session.");
	for (i = 0; i < STATS_LEGS; i++) {
		ml[0].value = legs[i];
		c = i == STATS_PRIMARY ? r->c : r->sc;
		metrics_u64(out, "shadowdiff_upstream_tls_resumed_total", ml,
		    1, c[STAT_UP_TLS_RESUMED]);
	}
}

/* The process: its start time and its build. */
static void
prom_process(struct evbuffer *out, const struct report *r)
{
	struct metrics_label	 ml = { "version", PACKAGE_VERSION };

	metrics_family(out, "process_start_time_seconds", "gauge",
	    "Start time of the process since the Unix epoch, in seconds.");
	metrics_double(out, "process_start_time_seconds", NULL, 0,
	    (double)(r->start_us / 1000000));
	metrics_family(out, "shadowdiff_build_info", "gauge",
	    "Always 1; its labels say which build runs.");
	metrics_u64(out, "shadowdiff_build_info", &ml, 1, 1);
}

/* The values of figure F as a Prometheus family. */
static void
prom_values(struct evbuffer *out, const struct report *r,
    const struct report_figure *f)
{
	struct metrics_label	 ml = { f->label, NULL };
	size_t			 i;

	metrics_family(out, f->metric, f->type, f->help);
	for (i = 0; i < f->nvalues; i++) {
		ml.value = f->values[i].label;
		metrics_u64(out, f->metric, &ml, ml.value != NULL ? 1 : 0,
		    report_value(r, &f->values[i]));
	}
}

/* GET /metrics: the snapshot as Prometheus text, format 0.0.4. */
void
report_metrics(const struct report_src *src, struct evbuffer *out)
{
	const struct report_figure	*f;
	struct report			*r = xcalloc(1, sizeof(*r));

	report_gather(src, r);
	for (f = report_figures; f < report_figures + nitems(report_figures);
	    f++) {
		if (f->prom != NULL)
			f->prom(out, r);
		else if (f->metric != NULL)
			prom_values(out, r, f);
	}
	report_free(r);
}

/* The object at PATH ("a.b") in O, made if missing. */
static json_t *
json_at(json_t *o, const char *path)
{
	json_t		*x;
	const char	*dot;
	char		 key[64];
	size_t		 len;

	for (;;) {
		dot = strchr(path, '.');
		len = dot != NULL ? (size_t)(dot - path) : strlen(path);
		if (len >= sizeof(key))
			fatalx("%s: %s: key too long", __func__, path);
		memcpy(key, path, len);
		key[len] = '\0';
		if ((x = json_object_get(o, key)) == NULL) {
			x = json_object();
			json_object_set_new(o, key, x);
		}
		if (dot == NULL)
			return (x);
		o = x;
		path = dot + 1;
	}
}

/* A latency histogram as JSON: cumulative buckets keyed as "le". */
static json_t *
json_histogram(const uint64_t *counts, uint64_t sum_us)
{
	json_t		*o = json_object(), *b = json_object();
	char		 num[32];
	uint64_t	 total = 0;
	size_t		 i;

	for (i = 0; i < STATS_LATENCY_BOUNDS; i++) {
		total += counts[i];
		json_object_set_new(b, metrics_number(num, sizeof(num),
		    stats_latency_bounds[i]), json_integer((json_int_t)total));
	}
	total += counts[STATS_LATENCY_BOUNDS];
	json_object_set_new(b, "+Inf", json_integer((json_int_t)total));
	json_object_set_new(o, "count", json_integer((json_int_t)total));
	json_object_set_new(o, "sum_seconds", json_real(report_seconds(sum_us)));
	json_object_set_new(o, "buckets", b);
	return (o);
}

/* N counts keyed by NAMES, as a JSON object. */
static json_t *
json_counts(const char *const *names, const uint64_t *counts, size_t n)
{
	json_t	*o = json_object();
	size_t	 i;

	for (i = 0; i < n; i++)
		json_object_set_new(o, names[i],
		    json_integer((json_int_t)counts[i]));
	return (o);
}

/* One route as JSON. */
static json_t *
json_route(const struct report_route *rr)
{
	json_t		*o = json_object(), *x;
	const char	*kinds[DIFF_KINDS];
	size_t		 i;

	for (i = 0; i < DIFF_KINDS; i++)
		kinds[i] = diff_kind_name(i);
	json_object_set_new(o, "requests", json_counts(classes,
	    rr->responses, STATS_CLASSES));
	json_object_set_new(o, "mirrored", json_integer((json_int_t)rr->mirrored));
	json_object_set_new(o, "compared", json_counts(verdicts,
	    rr->diff.verdicts, RECORD_VERDICTS));
	json_object_set_new(o, "differences", json_counts(kinds,
	    rr->diff.kinds, DIFF_KINDS));
	x = json_object();
	for (i = 0; i < STATS_LEGS; i++)
		json_object_set_new(x, legs[i], json_histogram(rr->latency[i],
		    rr->latency_us[i]));
	json_object_set_new(o, "response_seconds", x);
	return (o);
}

/* The routes, keyed by name. */
static void
json_routes(json_t *o, const struct report *r)
{
	json_t	*x = json_at(o, "routes");
	size_t	 i;

	for (i = 0; i < r->nroutes; i++)
		json_object_set_new(x, r->routes[i].name,
		    json_route(&r->routes[i]));
}

/* Differences forgiven, keyed by rule. */
static void
json_forgiven(json_t *o, const struct report *r)
{
	json_t	*x = json_at(o, "forgiven");
	size_t	 i;

	for (i = 0; i < r->nrules; i++)
		json_object_set_new(x, r->rules[i].rule,
		    json_integer((json_int_t)r->rules[i].count));
}

/* Each backend's TLS handshakes, in "tls". */
static void
json_upstream_tls(json_t *o, const struct report *r)
{
	json_t		*x = json_at(o, "tls");
	const uint64_t	*c;
	size_t		 i;

	for (i = 0; i < STATS_LEGS; i++) {
		c = i == STATS_PRIMARY ? r->c : r->sc;
		json_object_set_new(x, legs[i], json_pack("{s:I,s:I,s:I}",
		    "ok", (json_int_t)c[STAT_UP_TLS_HANDSHAKES],
		    "resumed", (json_int_t)c[STAT_UP_TLS_RESUMED],
		    "failed", (json_int_t)c[STAT_UP_TLS_FAILED]));
	}
}

/* The values of figure F into the JSON object O, at F's path. */
static void
json_values(json_t *o, const struct report *r, const struct report_figure *f)
{
	json_t		*x = json_at(o, f->json);
	const char	*key;
	size_t		 i;

	for (i = 0; i < f->nvalues; i++) {
		key = f->values[i].key != NULL ? f->values[i].key :
		    f->values[i].label;
		json_object_set_new(x, key,
		    json_integer((json_int_t)report_value(r, &f->values[i])));
	}
}

/* GET /stats: the same snapshot as JSON (docs/metrics.md). */
void
report_stats(const struct report_src *src, struct evbuffer *out)
{
	const struct report_figure	*f;
	struct report			*r = xcalloc(1, sizeof(*r));
	json_t				*o;
	char				*text;

	report_gather(src, r);
	o = json_object();
	json_object_set_new(o, "version", json_string(PACKAGE_VERSION));
	json_object_set_new(o, "start_time", json_integer((json_int_t)
	    (src->start_us / 1000000)));
	json_object_set_new(o, "draining", json_boolean(src->draining));
	/* The configuration's figures come first, as they always did. */
	json_at(o, "config");
	for (f = report_figures; f < report_figures + nitems(report_figures);
	    f++) {
		if (f->json_fn != NULL)
			f->json_fn(o, r);
		else if (f->json != NULL)
			json_values(o, r, f);
	}

	if ((text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(15))) == NULL)
		fatalx("out of memory");
	evbuffer_add(out, text, strlen(text));
	evbuffer_add(out, "\n", 1);
	free(text);
	json_decref(o);
	report_free(r);
}

/* Appends to LINE (SIZE bytes) what FMT says; cut short if full. */
static void __attribute__((format(printf, 3, 4)))
report_append(char *line, size_t size, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 len = strlen(line);

	va_start(ap, fmt);
	(void)vsnprintf(line + len, size - len, fmt, ap);
	va_end(ap);
}

/*
 * Line L of the exit summary into LINE: the figures of that line, in
 * the table's order, joined by "; " (by a space after a lead that ends
 * in a colon and takes the next part as its list).
 */
static void
report_summary_line(const struct report *r, enum report_line l, char *line,
    size_t size)
{
	const struct report_figure	*f;
	size_t				 i, j;
	int				 first = 1;

	line[0] = '\0';
	for (i = 0; i < nitems(report_figures); i++) {
		f = &report_figures[i];
		if (f->line != l)
			continue;
		if (!first)
			report_append(line, size, "%s",
			    line[strlen(line) - 1] == ':' ? " " : "; ");
		first = 0;
		if (f->lead != NULL)
			report_append(line, size, "%s ", f->lead);
		for (j = 0; j < f->nvalues; j++)
			report_append(line, size, "%s%llu %s",
			    j > 0 ? ", " : "",
			    (unsigned long long)report_value(r, &f->values[j]),
			    f->values[j].what);
	}
}

/* The exit summary's worker counts, taken once the workers stopped. */
struct report *
report_summary_new(struct worker **workers, size_t nworkers)
{
	struct report	*r = xcalloc(1, sizeof(*r));

	report_sum_workers(r, workers, nworkers);
	return (r);
}

/*
 * Logs the exit summary and frees R: the mirroring and the shadow's
 * lines if SHADOW, the diff threads' if DC (their final counts).
 */
void
report_summary_log(struct report *r, int shadow,
    const struct differ_counts *dc)
{
	char	 line[1024];
	int	 l;

	if (dc != NULL)
		report_set_differ(r, dc);
	for (l = REPORT_LINE_NONE + 1; l < REPORT_LINES; l++) {
		if (l == REPORT_LINE_COMPARED ? dc == NULL : !shadow)
			continue;
		report_summary_line(r, l, line, sizeof(line));
		log_info("%s", line);
	}
	report_free(r);
}
