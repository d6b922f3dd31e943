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
	X(CONN_OPEN, "client connections open")				\
	X(REQUESTS, "requests received")				\
	X(RESP_1XX, "final responses 1xx")				\
	X(RESP_2XX, "responses 2xx")					\
	X(RESP_3XX, "responses 3xx")					\
	X(RESP_4XX, "responses 4xx")					\
	X(RESP_5XX, "responses 5xx")					\
	X(ERR_400, "requests rejected as malformed (400)")		\
	X(ERR_405, "CONNECT requests refused (405)")			\
	X(ERR_408, "clients too slow (408)")				\
	X(ERR_413, "request bodies over the limit (413)")		\
	X(ERR_414, "request targets over the limit (414)")		\
	X(ERR_417, "unknown expectations (417)")			\
	X(ERR_431, "header blocks over the limit (431)")		\
	X(ERR_501, "request methods not known (501)")		\
	X(ERR_502, "primary refused, reset or answered badly (502)")	\
	X(ERR_504, "primary timed out (504)")				\
	X(ERR_505, "HTTP versions other than 1.x (505)")		\
	X(CLIENT_ABORTS, "clients gone before their response ended")	\
	X(TLS_HANDSHAKES, "client TLS handshakes done")			\
	X(TLS_RESUMED, "client TLS handshakes that resumed a session")	\
	X(TLS_FAIL_TIMEOUT, "client TLS handshakes failed: timeout")	\
	X(TLS_FAIL_CLOSED, "client TLS handshakes failed: closed")	\
	X(TLS_FAIL_HTTP, "client TLS handshakes failed: plain HTTP")	\
	X(TLS_FAIL_VERSION, "client TLS handshakes failed: version")	\
	X(TLS_FAIL_CIPHER, "client TLS handshakes failed: no shared cipher")\
	X(TLS_FAIL_ALPN, "client TLS handshakes failed: ALPN")		\
	X(TLS_FAIL_CERTIFICATE, "client TLS handshakes failed: our "	\
	    "certificate refused")					\
	X(TLS_FAIL_OTHER, "client TLS handshakes failed: other")	\
	X(UP_CONNECTS, "upstream connections opened")			\
	X(UP_REUSED, "requests sent on a pooled connection")		\
	X(UP_RETRIES, "idempotent requests retried on a new connection")\
	X(UP_STALE, "pooled connections found closed before use")	\
	X(UP_OPEN, "upstream connections open")				\
	X(UP_TLS_HANDSHAKES, "upstream TLS handshakes done")		\
	X(UP_TLS_RESUMED, "upstream TLS handshakes that resumed a session")\
	X(UP_TLS_FAILED, "upstream TLS handshakes failed")		\
	X(MIRRORED, "requests mirrored to the shadow")			\
	X(NOT_MIRRORED_SAMPLED, "requests not mirrored: sampled out")	\
	X(NOT_MIRRORED_METHOD, "requests not mirrored: method")	\
	X(NOT_MIRRORED_BODY, "requests not mirrored: body over max_body")\
	X(NOT_MIRRORED_INFLIGHT, "requests not mirrored: max_inflight")	\
	X(NOT_MIRRORED_DOWN, "requests not mirrored: shadow down")	\
	X(NOT_MIRRORED_UPGRADE, "requests not mirrored: upgrade")	\
	X(MIRROR_ABANDONED, "mirrors dropped: the primary exchange failed")\
	X(MIRROR_OVERLOADED, "mirrors dropped: the worker too busy to read "\
	    "the shadow in time")					\
	X(MIRROR_RELOADED, "mirrors dropped: a reload changed the shadow "\
	    "before the request was read whole")			\
	X(SHADOW_OK, "shadow responses received whole")		\
	X(SHADOW_TIMEOUT, "shadow errors: timeout")			\
	X(SHADOW_REFUSED, "shadow errors: refused")			\
	X(SHADOW_RESET, "shadow errors: reset")				\
	X(SHADOW_BAD_RESPONSE, "shadow errors: bad response")		\
	X(SHADOW_TOO_LARGE, "shadow errors: response over max_response")\
	X(SHADOW_TLS, "shadow errors: TLS handshake")			\
	X(DIFF_QUEUED, "exchanges handed to the diff threads")		\
	X(DIFF_DROPPED, "exchanges dropped: diff queue full")

enum stats_counter {
#define STATS_ENUM(name, help)	STAT_##name,
	STATS_COUNTERS(STATS_ENUM)
#undef STATS_ENUM
	STAT_MAX
};

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
extern const double stats_latency_bounds[STATS_LATENCY_BOUNDS];

enum stats_leg { STATS_PRIMARY, STATS_SHADOW, STATS_LEGS };

/* A route's figures in one worker, written by that worker only. */
struct stats_route {
	_Atomic uint64_t	responses[5];	/* by class, 1xx to 5xx */
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
/* Its name and description. */
const char	*stats_name(enum stats_counter);
const char	*stats_help(enum stats_counter);

#endif
