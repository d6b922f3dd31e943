/*
 * mirror: whether a request goes to the shadow too. The decision looks
 * at the configuration, the route, the request and the worker's own
 * state (its mirrors in flight, whether the shadow is down); it does no
 * I/O. Every request that is not mirrored gets a reason, which the
 * caller counts.
 */
#ifndef SHADOWDIFF_MIRROR_H
#define SHADOWDIFF_MIRROR_H

#include <stddef.h>
#include <stdint.h>

#include "shadowdiff/stats.h"

struct config;
struct config_route;
struct http_msg;

/*
 * Outlier detection: after MIRROR_DOWN_FAILURES connection-level
 * failures in a row (refused, reset, TLS, connect timeout) the shadow is
 * down: nothing is sent to it for a backoff that starts at
 * MIRROR_DOWN_MS and doubles after each failed probe up to
 * MIRROR_DOWN_MAX_MS; then one request goes through as a probe, and an
 * answer brings the shadow back up. Per worker (docs/operations.md).
 */
#define MIRROR_DOWN_FAILURES	5
#define MIRROR_DOWN_MS		1000
#define MIRROR_DOWN_MAX_MS	30000
/* Request ids we make: 32 hex digits (128 random bits). */
#define MIRROR_ID_LEN		32

/*
 * The reasons not to mirror are a counter family (stats.h): the
 * verdicts past MIRROR_NO_SHADOW are generated from it. A protocol
 * upgrade (MIRROR_UPGRADE) is never mirrored, nor a request that
 * carries the shadow marker (MIRROR_LOOP): a shadow calling back
 * through the proxy.
 */
enum mirror_verdict {
	MIRROR_YES,
	MIRROR_NO_SHADOW,	/* no [shadow] url: not counted */
#define MIRROR_VERDICT_ENUM(name, verdict, label, what)	MIRROR_##verdict,
	STATS_NOT_MIRRORED(MIRROR_VERDICT_ENUM)
#undef MIRROR_VERDICT_ENUM
};

enum mirror_shadow {
	MIRROR_SHADOW_UP,
	MIRROR_SHADOW_DOWN_WAIT,	/* backing off: nothing sent */
	MIRROR_SHADOW_PROBING		/* one request sent to try */
};

/* A worker's own mirroring state; only that worker touches it. */
struct mirror_state {
	uint64_t	 rng[2];	/* xorshift128+ */
	size_t		 inflight;	/* exchanges alive */
	enum mirror_shadow shadow;	/* outlier detection */
	unsigned int	 failures;	/* connection-level, in a row */
	uint64_t	 backoff_ms;	/* the current one */
	uint64_t	 down_until_ms;	/* down: the next probe, not before */
};

/* Seeds the state from the system's random source. */
void		 mirror_state_init(struct mirror_state *);
/* Whether request M of ROUTE (NULL: none) is mirrored, or why not. */
enum mirror_verdict mirror_decide(const struct config *,
		    const struct config_route *, const struct http_msg *,
		    struct mirror_state *, uint64_t);
/* Whether KEY (LEN bytes) is in the sampled share SAMPLE (0 to 1). */
int		 mirror_key_sampled(double, const char *, size_t);
/* The value of the sample key in M, or NULL if M has none. */
const char	*mirror_sample_key(const struct config *,
		    const struct http_msg *, size_t *);
/* A new request id: MIRROR_ID_LEN hex digits and a NUL. */
void		 mirror_new_id(struct mirror_state *, char *);
/*
 * Outlier detection (MIRROR_SHADOW_DOWN): a connection to the shadow
 * failed (refused, reset, TLS, connect timeout) at NOW_MS, or the shadow
 * answered (anything: an answer is not a connection failure); HOST is
 * for the log. mirror_shadow_reset: a new shadow is up.
 */
void		 mirror_shadow_failed(struct mirror_state *, uint64_t,
		    const char *);
void		 mirror_shadow_answered(struct mirror_state *, const char *);
void		 mirror_shadow_reset(struct mirror_state *);
/* The counter of verdict V, a reason not to mirror (past NO_SHADOW). */
enum stats_counter mirror_verdict_counter(enum mirror_verdict);
/* A uniform double in [0, 1). */
double		 mirror_random(struct mirror_state *);

#endif
