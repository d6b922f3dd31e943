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

struct config;
struct config_route;
struct http_msg;

/* How long a shadow that refused a connection is left alone. */
#define MIRROR_DOWN_MS		1000
/* Request ids we make: 32 hex digits (128 random bits). */
#define MIRROR_ID_LEN		32

enum mirror_verdict {
	MIRROR_YES,
	MIRROR_NO_SHADOW,	/* no [shadow] url: not counted */
	MIRROR_SAMPLED_OUT,
	MIRROR_METHOD,
	MIRROR_BODY_TOO_LARGE,
	MIRROR_MAX_INFLIGHT,
	MIRROR_SHADOW_DOWN,
	MIRROR_UPGRADE		/* a protocol upgrade is never mirrored */
};

/* A worker's own mirroring state; only that worker touches it. */
struct mirror_state {
	uint64_t	 rng[2];	/* xorshift128+ */
	size_t		 inflight;	/* exchanges alive */
	uint64_t	 down_until_ms;	/* shadow refused: not before */
	int		 down;		/* for logging the change once */
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
/* The shadow refused a connection, or answered: for MIRROR_SHADOW_DOWN. */
void		 mirror_shadow_refused(struct mirror_state *, uint64_t,
		    const char *);
void		 mirror_shadow_answered(struct mirror_state *, const char *);
/* A uniform double in [0, 1). */
double		 mirror_random(struct mirror_state *);

#endif
