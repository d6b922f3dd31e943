/*
 * stats: per-worker counters. Each counter is written by its worker
 * only, with relaxed atomic stores (no lock, no shared cache line on the
 * request path), and summed over the workers when read.
 */
#ifndef SHADOWDIFF_STATS_H
#define SHADOWDIFF_STATS_H

#include <stdatomic.h>
#include <stdint.h>

#define STATS_COUNTERS(X)						\
	X(CONN_ACCEPTED, "client connections accepted")			\
	X(CONN_REFUSED, "client connections closed at max_connections")	\
	X(CONN_EVICTED, "idle client connections closed to make room")	\
	X(CONN_OPEN, "client connections open")				\
	X(REQUESTS, "requests received")				\
	X(CLIENT_ABORTS, "clients gone before their response ended")	\
	X(PRIMARY_CUT, "responses cut: the primary failed mid-response")\
	X(TLS_HANDSHAKES, "client TLS handshakes done")			\
	X(TLS_RESUMED, "client TLS handshakes that resumed a session")	\
	X(UP_CONNECTS, "upstream connections opened")			\
	X(UP_REUSED, "requests sent on a pooled connection")		\
	X(UP_RETRIES, "idempotent requests retried on a new connection")\
	X(UP_STALE, "pooled connections found closed before use")	\
	X(UP_OPEN, "upstream connections open")				\
	X(UP_TLS_HANDSHAKES, "upstream TLS handshakes done")		\
	X(UP_TLS_RESUMED, "upstream TLS handshakes that resumed a session")\
	X(UP_TLS_FAILED, "upstream TLS handshakes failed")		\
	X(MIRRORED, "requests mirrored to the shadow")			\
	X(SHADOW_OK, "shadow responses received whole")		\

/*
 * Counter families: counters that are one figure with a label (a status,
 * a reason). Each family is declared here once, an entry per member:
 * X(NAME, label, what), where label is its label value in /metrics and
 * its key in /stats, and what its words in the exit summary. Its
 * counters (STAT_<FAMILY>_<NAME>), the enum of its owner if it has one
 * (mirror.h, tls.h) and its figures in report.c are generated from it,
 * so none of them can list the members in another order or forget one.
 * Adding a member is adding a line here; docs/metrics.md says the rest.
 */

/* Error responses of our own to clients, by status (conn.c). */
#define STATS_CLIENT_ERRORS(X)						\
	X(400, "400", "malformed (400)")				\
	X(405, "405", "CONNECT (405)")					\
	X(408, "408", "too slow (408)")					\
	X(413, "413", "body over the limit (413)")			\
	X(414, "414", "target over the limit (414)")			\
	X(417, "417", "unknown expectation (417)")			\
	X(431, "431", "header block over the limit (431)")		\
	X(501, "501", "method not known (501)")				\
	X(502, "502", "primary refused, reset or answered badly (502)")	\
	X(504, "504", "primary timed out (504)")				\
	X(505, "505", "HTTP version other than 1.x (505)")

/*
 * Requests not mirrored, by reason: X(NAME, VERDICT, label, what), and
 * mirror.h's MIRROR_<VERDICT> is the verdict that gives the reason.
 */
#define STATS_NOT_MIRRORED(X)						\
	X(SAMPLED, SAMPLED_OUT, "sampled_out", "sampled out")		\
	X(METHOD, METHOD, "method", "method")				\
	X(BODY, BODY_TOO_LARGE, "body_too_large", "body over max_body")	\
	X(INFLIGHT, MAX_INFLIGHT, "max_inflight", "at max_inflight")	\
	X(DOWN, SHADOW_DOWN, "shadow_down", "shadow down")		\
	X(UPGRADE, UPGRADE, "upgrade", "upgrade")			\
	X(LOOP, LOOP, "loop", "marked (loop)")

/* Mirrors sent but not compared, by reason. */
#define STATS_MIRRORS_DROPPED(X)					\
	X(ABANDONED, "abandoned", "abandoned (client gone or primary "	\
	    "failed)")							\
	X(OVERLOADED, "overloaded", "dropped (too busy to read the "	\
	    "shadow in time)")						\
	X(RELOADED, "reloaded", "dropped (a reload changed the shadow "	\
	    "before the request was read whole)")				\
	X(SHUTDOWN, "shutdown", "dropped (still in flight when "	\
	    "drain_timeout ran out)")

/*
 * Why a shadow leg failed: diff_job.h's enum shadow_error, and the
 * label is a record's shadow.error (docs/divergence-log.md).
 */
#define STATS_SHADOW_ERRORS(X)						\
	X(TIMEOUT, "timeout", "timeout")				\
	X(REFUSED, "refused", "refused")				\
	X(RESET, "reset", "reset")					\
	X(BAD_RESPONSE, "bad_response", "bad response")			\
	X(TOO_LARGE, "too_large", "too large")				\
	X(TLS, "tls", "tls")

/* Why a client's TLS handshake failed (tls.h's enum tls_failure). */
#define STATS_TLS_FAILURES(X)						\
	X(TIMEOUT, "timeout", "timeout")				\
	X(CLOSED, "closed", "closed")					\
	X(HTTP, "http_request", "plain HTTP")				\
	X(VERSION, "protocol_version", "version")			\
	X(CIPHER, "no_shared_cipher", "no shared cipher")		\
	X(ALPN, "no_application_protocol", "ALPN")			\
	X(CERTIFICATE, "certificate", "our certificate refused")	\
	X(OTHER, "other", "other")

enum stats_counter {
#define STATS_ENUM(name, help)	STAT_##name,
	STATS_COUNTERS(STATS_ENUM)
#undef STATS_ENUM
#define STATS_ENUM_ERR(code, label, what)	STAT_ERR_##code,
	STATS_CLIENT_ERRORS(STATS_ENUM_ERR)
#undef STATS_ENUM_ERR
#define STATS_ENUM_NM(name, verdict, label, what) STAT_NOT_MIRRORED_##name,
	STATS_NOT_MIRRORED(STATS_ENUM_NM)
#undef STATS_ENUM_NM
#define STATS_ENUM_MD(name, label, what)	STAT_MIRROR_##name,
	STATS_MIRRORS_DROPPED(STATS_ENUM_MD)
#undef STATS_ENUM_MD
#define STATS_ENUM_TLS(name, label, what)	STAT_TLS_FAIL_##name,
	STATS_TLS_FAILURES(STATS_ENUM_TLS)
#undef STATS_ENUM_TLS
#define STATS_ENUM_SE(name, label, what)	STAT_SHADOW_##name,
	STATS_SHADOW_ERRORS(STATS_ENUM_SE)
#undef STATS_ENUM_SE
	STAT_MAX
};

/* How many members a family has: STATS_COUNT(STATS_CLIENT_ERRORS). */
#define STATS_ONE(...)		+ 1
#define STATS_COUNT(family)	(0 family(STATS_ONE))

struct stats {
	_Atomic uint64_t	c[STAT_MAX];
};

/* Adds N to a counter; only the owning worker calls these. */
static inline void
stats_add(struct stats *s, enum stats_counter which, int64_t n)
{
	atomic_store_explicit(&s->c[which],
	    atomic_load_explicit(&s->c[which], memory_order_relaxed) +
	    (uint64_t)n, memory_order_relaxed);
}

#define stats_inc(s, w)	stats_add((s), (w), 1)
#define stats_dec(s, w)	stats_add((s), (w), -1)

/*
 * Per-route figures. A route is known by an id that its name keeps over
 * reloads (so that a counter never goes back), given out when a config
 * is read; the names are kept for the life of the process. Past
 * STATS_ROUTES_MAX names, new ones share STATS_ROUTE_OTHER.
 */
#define STATS_ROUTES_MAX	256
#define STATS_ROUTE_DEFAULT	0	/* "default": no route matched */
#define STATS_ROUTE_OTHER	1	/* "(other)": names past the max */

/* Latency histogram bounds, in seconds (the last bucket: above). */
#define STATS_LATENCY_BOUNDS	14
/* Responses by status class, 1xx to 5xx. */
#define STATS_CLASSES		5
extern const double stats_latency_bounds[STATS_LATENCY_BOUNDS];

enum stats_leg { STATS_PRIMARY, STATS_SHADOW, STATS_LEGS };

/* A route's figures in one worker, written by that worker only. */
struct stats_route {
	_Atomic uint64_t	responses[STATS_CLASSES];
	_Atomic uint64_t	mirrored;
	_Atomic uint64_t	latency[STATS_LEGS][STATS_LATENCY_BOUNDS + 1];
	_Atomic uint64_t	latency_us[STATS_LEGS];	/* their sum */
};

/* Adds N to one of the counters above (the owning thread only). */
static inline void
stats_route_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c,
	    memory_order_relaxed) + n, memory_order_relaxed);
}

/* The id of route NAME, registered if new (any thread). */
size_t		 stats_route_id(const char *);
/* How many ids are given out, and the name of each. */
size_t		 stats_route_count(void);
const char	*stats_route_name(size_t);
/* Counts a response of STATUS on route ID. */
void		 stats_route_status(struct stats_route *, size_t, int);
/* Counts one leg's time to a full response, US microseconds. */
void		 stats_route_latency(struct stats_route *, size_t,
		    enum stats_leg, uint64_t);

/* A counter's value, from any thread. */
uint64_t	stats_get(const struct stats *, enum stats_counter);

#endif
