/*
 * The daemon's figures for the admin endpoint. They are gathered once per
 * request into a struct report (per-worker counters summed, read without
 * locks; the diff threads' and the log writer's counts), and that one
 * snapshot is written either as Prometheus text or as JSON: the two
 * endpoints cannot disagree, and their names are documented together in
 * docs/metrics.md.
 */
#include "config.h"

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
#include "shadowdiff/tls.h"
#include "shadowdiff/util.h"
#include "shadowdiff/worker.h"

static const char *const classes[] = { "1xx", "2xx", "3xx", "4xx", "5xx" };
static const char *const verdicts[] = { "match", "mismatch", "shadow_error" };
static const char *const legs[] = { "primary", "shadow" };

/* Label values of the stats.h counters grouped into labelled families. */
static const struct report_label {
	enum stats_counter	 which;
	const char		*value;
} primary_errors[] = {
	{ STAT_ERR_400, "400" }, { STAT_ERR_405, "405" },
	{ STAT_ERR_408, "408" }, { STAT_ERR_413, "413" },
	{ STAT_ERR_414, "414" }, { STAT_ERR_417, "417" },
	{ STAT_ERR_431, "431" }, { STAT_ERR_502, "502" },
	{ STAT_ERR_504, "504" }
}, not_mirrored[] = {
	{ STAT_NOT_MIRRORED_SAMPLED, "sampled_out" },
	{ STAT_NOT_MIRRORED_METHOD, "method" },
	{ STAT_NOT_MIRRORED_BODY, "body_too_large" },
	{ STAT_NOT_MIRRORED_INFLIGHT, "max_inflight" },
	{ STAT_NOT_MIRRORED_DOWN, "shadow_down" },
	{ STAT_NOT_MIRRORED_UPGRADE, "upgrade" }
}, mirrors_dropped[] = {
	{ STAT_MIRROR_ABANDONED, "abandoned" },
	{ STAT_MIRROR_OVERLOADED, "overloaded" },
	{ STAT_MIRROR_RELOADED, "reloaded" }
}, shadow_errors[] = {
	{ STAT_SHADOW_TIMEOUT, "timeout" }, { STAT_SHADOW_REFUSED, "refused" },
	{ STAT_SHADOW_RESET, "reset" },
	{ STAT_SHADOW_BAD_RESPONSE, "bad_response" },
	{ STAT_SHADOW_TOO_LARGE, "too_large" }, { STAT_SHADOW_TLS, "tls" }
};

struct report_route {
	const char			*name;
	uint64_t			 responses[5];
	uint64_t			 mirrored;
	uint64_t			 latency[STATS_LEGS][STATS_LATENCY_BOUNDS + 1];
	uint64_t			 latency_us[STATS_LEGS];
	struct differ_route_counts	 diff;
};

struct report_rule {
	char		*rule;
	uint64_t	 count;
};

/* One snapshot of every figure. */
struct report {
	uint64_t		 c[STAT_MAX];	/* over the workers */
	uint64_t		 sc[STAT_MAX];	/* of the shadow's pools */
	struct report_route	 routes[STATS_ROUTES_MAX];
	size_t			 nroutes;
	struct report_rule	*rules;
	size_t			 nrules;
	struct differ_counts	 dc;
	struct divlog_counts	 lc;
	size_t			 log_depth;
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
	for (i = 0; i < 5; i++)
		if (rr->responses[i] > 0)
			return (1);
	return (rr->mirrored > 0 || rr->diff.verdicts[0] > 0 ||
	    rr->diff.verdicts[1] > 0 || rr->diff.verdicts[2] > 0);
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
		for (i = 0; i < 5; i++)
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

/* Takes the snapshot. */
static void
report_gather(const struct report_src *src, struct report *r)
{
	struct report_route	 rr;
	size_t			 k, i, n = stats_route_count();

	memset(r, 0, sizeof(*r));
	for (k = 0; k < src->nworkers; k++) {
		for (i = 0; i < STAT_MAX; i++) {
			r->c[i] += stats_get(&src->workers[k]->stats, i);
			r->sc[i] += stats_get(&src->workers[k]->shadow_stats,
			    i);
		}
	}
	for (i = 0; i < n; i++) {
		report_route_sum(src, i, &rr);
		if (report_route_shown(src, &rr, i))
			r->routes[r->nroutes++] = rr;
	}
	if (src->differ != NULL) {
		differ_counts(src->differ, &r->dc);
		differ_forgiven(src->differ, report_add_rule, r);
	}
	if (src->divlog != NULL) {
		divlog_counts(src->divlog, &r->lc);
		r->log_depth = divlog_depth(src->divlog);
	}
}

static void
report_free(struct report *r)
{
	size_t	 i;

	for (i = 0; i < r->nrules; i++)
		free(r->rules[i].rule);
	free(r->rules);
}

/* A route's latency histogram of LEG, as seconds. */
static double
report_seconds(uint64_t us)
{
	return ((double)us / 1e6);
}

/* One labelled family of counters from stats.h. */
static void
prom_counters(struct evbuffer *out, const struct report *r, const char *name,
    const char *help, const char *label, const struct report_label *l,
    size_t n)
{
	struct metrics_label	 ml;
	size_t			 i;

	metrics_family(out, name, "counter", help);
	ml.name = label;
	for (i = 0; i < n; i++) {
		ml.value = l[i].value;
		metrics_u64(out, name, &ml, 1, r->c[l[i].which]);
	}
}

/* A family with one sample and no labels. */
static void
prom_one(struct evbuffer *out, const char *name, const char *type,
    const char *help, uint64_t v)
{
	metrics_family(out, name, type, help);
	metrics_u64(out, name, NULL, 0, v);
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
		for (j = 0, ml[0].value = r->routes[i].name; j < 5; j++) {
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
		for (j = 0, ml[0].value = r->routes[i].name; j < 3; j++) {
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

/* Client and backend TLS handshakes, by outcome and failure reason. */
static void
prom_tls(struct evbuffer *out, const struct report *r)
{
	struct metrics_label	 ml[2];
	const uint64_t		*c;
	size_t			 i;
	int			 f;

	prom_one(out, "shadowdiff_tls_handshakes_total", "counter",
	    "Client TLS handshakes done.", r->c[STAT_TLS_HANDSHAKES]);
	prom_one(out, "shadowdiff_tls_resumed_total", "counter",
	    "Client TLS handshakes that resumed a session.",
	    r->c[STAT_TLS_RESUMED]);
	metrics_family(out, "shadowdiff_tls_handshake_failures_total",
	    "counter", "Client TLS handshakes failed, by reason.");
	ml[0].name = "reason";
	for (f = 0; f < TLS_FAIL_MAX; f++) {
		ml[0].value = tls_failure_label(f);
		metrics_u64(out, "shadowdiff_tls_handshake_failures_total",
		    ml, 1, r->c[STAT_TLS_FAIL_TIMEOUT + f]);
	}
	metrics_family(out, "shadowdiff_upstream_tls_handshakes_total",
	    "counter", "TLS handshakes with the backends, by result.");
	ml[0].name = "backend";
	ml[1].name = "result";
	for (i = 0; i < 2; i++) {
		c = i == 0 ? r->c : r->sc;
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
	for (i = 0; i < 2; i++) {
		ml[0].value = legs[i];
		metrics_u64(out, "shadowdiff_upstream_tls_resumed_total", ml,
		    1, (i == 0 ? r->c : r->sc)[STAT_UP_TLS_RESUMED]);
	}
}

/* GET /metrics: the snapshot as Prometheus text, format 0.0.4. */
void
report_metrics(const struct report_src *src, struct evbuffer *out)
{
	struct report		 r;
	struct metrics_label	 ml;
	size_t			 i;

	report_gather(src, &r);
	prom_routes(out, &r);
	prom_counters(out, &r, "shadowdiff_primary_errors_total",
	    "Error responses of our own to clients, by status.", "status",
	    primary_errors, nitems(primary_errors));
	prom_counters(out, &r, "shadowdiff_not_mirrored_total",
	    "Requests not mirrored, by reason.", "reason", not_mirrored,
	    nitems(not_mirrored));
	prom_counters(out, &r, "shadowdiff_mirrors_dropped_total",
	    "Mirrors sent but not compared, by reason.", "reason",
	    mirrors_dropped, nitems(mirrors_dropped));
	prom_counters(out, &r, "shadowdiff_shadow_errors_total",
	    "Shadow exchanges that failed, by error.", "error", shadow_errors,
	    nitems(shadow_errors));

	metrics_family(out, "shadowdiff_forgiven_total", "counter",
	    "Differences forgiven, by rule.");
	ml.name = "rule";
	for (i = 0; i < r.nrules; i++) {
		ml.value = r.rules[i].rule;
		metrics_u64(out, "shadowdiff_forgiven_total", &ml, 1,
		    r.rules[i].count);
	}

	prom_one(out, "shadowdiff_diff_queue_depth", "gauge",
	    "Exchanges waiting for a diff thread.", r.dc.depth);
	prom_one(out, "shadowdiff_diff_queue_bytes", "gauge",
	    "Bytes held by the exchanges waiting.", r.dc.bytes);
	prom_one(out, "shadowdiff_diff_dropped_total", "counter",
	    "Exchanges dropped: the diff queue was full.", r.dc.dropped);
	metrics_family(out, "shadowdiff_log_records_total", "counter",
	    "Divergence records written, dropped (queue full) and lost (the "
	    "write failed).");
	ml.name = "outcome";
	ml.value = "written";
	metrics_u64(out, "shadowdiff_log_records_total", &ml, 1, r.lc.written);
	ml.value = "dropped";
	metrics_u64(out, "shadowdiff_log_records_total", &ml, 1, r.lc.dropped);
	ml.value = "lost";
	metrics_u64(out, "shadowdiff_log_records_total", &ml, 1, r.lc.lost);
	prom_one(out, "shadowdiff_log_queue_depth", "gauge",
	    "Divergence records waiting to be written.", r.log_depth);

	prom_one(out, "shadowdiff_config_generation", "gauge",
	    "Generation of the configuration in service (1 at start).",
	    src->cfg->generation);
	metrics_family(out, "shadowdiff_reloads_total", "counter",
	    "SIGHUP reloads, by result.");
	ml.name = "result";
	ml.value = "ok";
	metrics_u64(out, "shadowdiff_reloads_total", &ml, 1, src->reloads_ok);
	ml.value = "failed";
	metrics_u64(out, "shadowdiff_reloads_total", &ml, 1,
	    src->reloads_failed);

	prom_one(out, "shadowdiff_client_connections", "gauge",
	    "Client connections open.", r.c[STAT_CONN_OPEN]);
	prom_one(out, "shadowdiff_client_connections_refused_total", "counter",
	    "Client connections closed at max_connections.",
	    r.c[STAT_CONN_REFUSED]);
	prom_one(out, "shadowdiff_admin_connections_evicted_total", "counter",
	    "Admin connections closed to make room for a new one.",
	    src->admin_evicted);
	metrics_family(out, "shadowdiff_upstream_connections", "gauge",
	    "Connections open to the backends.");
	ml.name = "backend";
	ml.value = "primary";
	metrics_u64(out, "shadowdiff_upstream_connections", &ml, 1,
	    r.c[STAT_UP_OPEN]);
	ml.value = "shadow";
	metrics_u64(out, "shadowdiff_upstream_connections", &ml, 1,
	    r.sc[STAT_UP_OPEN]);
	prom_tls(out, &r);

	metrics_family(out, "process_start_time_seconds", "gauge",
	    "Start time of the process since the Unix epoch, in seconds.");
	metrics_double(out, "process_start_time_seconds", NULL, 0,
	    (double)(src->start_us / 1000000));
	metrics_family(out, "shadowdiff_build_info", "gauge",
	    "Always 1; its labels say which build runs.");
	ml.name = "version";
	ml.value = PACKAGE_VERSION;
	metrics_u64(out, "shadowdiff_build_info", &ml, 1, 1);
	report_free(&r);
}

/* A JSON object of the counters of stats.h in L, keyed by label. */
static json_t *
json_counters(const struct report *r, const struct report_label *l, size_t n)
{
	json_t	*o = json_object();
	size_t	 i;

	for (i = 0; i < n; i++)
		json_object_set_new(o, l[i].value,
		    json_integer((json_int_t)r->c[l[i].which]));
	return (o);
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

/* One route as JSON. */
static json_t *
json_route(const struct report_route *rr)
{
	json_t	*o = json_object(), *x;
	size_t	 i;

	x = json_object();
	for (i = 0; i < 5; i++)
		json_object_set_new(x, classes[i],
		    json_integer((json_int_t)rr->responses[i]));
	json_object_set_new(o, "requests", x);
	json_object_set_new(o, "mirrored", json_integer((json_int_t)rr->mirrored));
	x = json_object();
	for (i = 0; i < 3; i++)
		json_object_set_new(x, verdicts[i],
		    json_integer((json_int_t)rr->diff.verdicts[i]));
	json_object_set_new(o, "compared", x);
	x = json_object();
	for (i = 0; i < DIFF_KINDS; i++)
		json_object_set_new(x, diff_kind_name(i),
		    json_integer((json_int_t)rr->diff.kinds[i]));
	json_object_set_new(o, "differences", x);
	x = json_object();
	for (i = 0; i < STATS_LEGS; i++)
		json_object_set_new(x, legs[i], json_histogram(rr->latency[i],
		    rr->latency_us[i]));
	json_object_set_new(o, "response_seconds", x);
	return (o);
}

/* A backend's TLS handshakes as JSON. */
static json_t *
json_upstream_tls(const uint64_t *c)
{
	return (json_pack("{s:I,s:I,s:I}",
	    "ok", (json_int_t)c[STAT_UP_TLS_HANDSHAKES],
	    "resumed", (json_int_t)c[STAT_UP_TLS_RESUMED],
	    "failed", (json_int_t)c[STAT_UP_TLS_FAILED]));
}

/* The TLS figures as JSON. */
static json_t *
json_tls(const struct report *r)
{
	json_t	*o = json_object(), *x = json_object();
	int	 f;

	json_object_set_new(o, "handshakes",
	    json_integer((json_int_t)r->c[STAT_TLS_HANDSHAKES]));
	json_object_set_new(o, "resumed",
	    json_integer((json_int_t)r->c[STAT_TLS_RESUMED]));
	for (f = 0; f < TLS_FAIL_MAX; f++)
		json_object_set_new(x, tls_failure_label(f), json_integer(
		    (json_int_t)r->c[STAT_TLS_FAIL_TIMEOUT + f]));
	json_object_set_new(o, "failures", x);
	json_object_set_new(o, "primary", json_upstream_tls(r->c));
	json_object_set_new(o, "shadow", json_upstream_tls(r->sc));
	return (o);
}

/* GET /stats: the same snapshot as JSON (docs/metrics.md). */
void
report_stats(const struct report_src *src, struct evbuffer *out)
{
	struct report	 r;
	json_t		*o, *x;
	char		*text;
	size_t		 i;

	report_gather(src, &r);
	o = json_object();
	json_object_set_new(o, "version", json_string(PACKAGE_VERSION));
	json_object_set_new(o, "start_time", json_integer((json_int_t)
	    (src->start_us / 1000000)));
	json_object_set_new(o, "draining", json_boolean(src->draining));
	x = json_object();
	json_object_set_new(x, "generation",
	    json_integer((json_int_t)src->cfg->generation));
	json_object_set_new(x, "reloads_ok",
	    json_integer((json_int_t)src->reloads_ok));
	json_object_set_new(x, "reloads_failed",
	    json_integer((json_int_t)src->reloads_failed));
	json_object_set_new(o, "config", x);

	x = json_object();
	for (i = 0; i < r.nroutes; i++)
		json_object_set_new(x, r.routes[i].name,
		    json_route(&r.routes[i]));
	json_object_set_new(o, "routes", x);
	json_object_set_new(o, "primary_errors", json_counters(&r,
	    primary_errors, nitems(primary_errors)));
	json_object_set_new(o, "not_mirrored", json_counters(&r,
	    not_mirrored, nitems(not_mirrored)));
	json_object_set_new(o, "mirrors_dropped", json_counters(&r,
	    mirrors_dropped, nitems(mirrors_dropped)));
	json_object_set_new(o, "shadow_errors", json_counters(&r,
	    shadow_errors, nitems(shadow_errors)));
	x = json_object();
	for (i = 0; i < r.nrules; i++)
		json_object_set_new(x, r.rules[i].rule,
		    json_integer((json_int_t)r.rules[i].count));
	json_object_set_new(o, "forgiven", x);

	json_object_set_new(o, "diff_queue", json_pack("{s:I,s:I,s:I}",
	    "depth", (json_int_t)r.dc.depth, "bytes", (json_int_t)r.dc.bytes,
	    "dropped", (json_int_t)r.dc.dropped));
	json_object_set_new(o, "log", json_pack("{s:I,s:I,s:I,s:I}",
	    "written", (json_int_t)r.lc.written,
	    "dropped", (json_int_t)r.lc.dropped,
	    "lost", (json_int_t)r.lc.lost,
	    "queue_depth", (json_int_t)r.log_depth));
	json_object_set_new(o, "connections", json_pack("{s:I,s:I,s:I,s:I,s:I}",
	    "client", (json_int_t)r.c[STAT_CONN_OPEN],
	    "client_refused", (json_int_t)r.c[STAT_CONN_REFUSED],
	    "admin_evicted", (json_int_t)src->admin_evicted,
	    "primary", (json_int_t)r.c[STAT_UP_OPEN],
	    "shadow", (json_int_t)r.sc[STAT_UP_OPEN]));
	json_object_set_new(o, "tls", json_tls(&r));

	if ((text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(15))) ==
	    NULL)
		fatalx("out of memory");
	evbuffer_add(out, text, strlen(text));
	evbuffer_add(out, "\n", 1);
	free(text);
	json_decref(o);
	report_free(&r);
}
