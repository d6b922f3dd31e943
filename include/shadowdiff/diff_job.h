/*
 * diff_job: what a worker hands a diff thread, and the only thing that
 * crosses from one to the other. Plain data: the request's fields, the
 * timings, a capture of each leg's response and the request's headers
 * and body as bytes. No worker, connection or libevent object; a job
 * points at nothing a worker still uses, so a diff thread may read it
 * and free it (diff_job_free, its single teardown) without a lock.
 *
 * Made on the worker by moving the exchange's captures in (pointers
 * handed over, no body copied). Its bound is the exchange's: the
 * request's headers (as parsed) and body ([shadow] max_body), and per
 * leg a response head (the parser's header limit) and at most [diff]
 * max_body of body; past it the body's length and SHA-256 only.
 */
#ifndef SHADOWDIFF_DIFF_JOB_H
#define SHADOWDIFF_DIFF_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "shadowdiff/stats.h"

struct config;
struct diff_header;
struct diff_rules;

#define DIFF_JOB_SHA256_LEN	32

/*
 * The ways a shadow leg fails: stats.h's STATS_SHADOW_ERRORS, the one
 * declaration of the family (its counters STAT_SHADOW_<name>, its
 * record labels).
 */
enum shadow_error {
	SHADOW_ERROR_NONE,	/* answered whole */
#define SHADOW_ERROR_ENUM(name, label, what)	SHADOW_ERROR_##name,
	STATS_SHADOW_ERRORS(SHADOW_ERROR_ENUM)
#undef SHADOW_ERROR_ENUM
	SHADOW_ERROR_COUNT
};

/* The label of a shadow error in a record; NULL for none. */
static inline const char *
shadow_error_label(enum shadow_error e)
{
	static const char *const labels[SHADOW_ERROR_COUNT] = {
#define SHADOW_ERROR_LABEL(name, label, what) [SHADOW_ERROR_##name] = label,
		STATS_SHADOW_ERRORS(SHADOW_ERROR_LABEL)
#undef SHADOW_ERROR_LABEL
	};

	return ((unsigned int)e < SHADOW_ERROR_COUNT ? labels[e] : NULL);
}

/*
 * The legs a job compares, each a capture. A further copy of a leg (a
 * second primary) is one more name here.
 */
enum diff_leg {
	DIFF_LEG_PRIMARY,
	DIFF_LEG_SHADOW,
	DIFF_LEGS
};

/* A response (or the request's headers) as captured for the diff. */
struct diff_capture {
	int			 status;
	struct diff_header	*hdrs;
	size_t			 nhdrs;
	char			*hbuf;		/* the headers' bytes */
	size_t			 hsize;		/* hdrs and hbuf */
	unsigned char		*body;
	size_t			 len;		/* kept, at most the cap */
	size_t			 alloc;
	uint64_t		 bytes;		/* received */
	unsigned char		 digest[DIFF_JOB_SHA256_LEN]; /* if cut */
	uint64_t		 start_us;	/* monotonic: sent */
	uint64_t		 end_us;	/* answered, or failed */
};

struct diff_job {
	struct diff_job		*next;		/* a worker's batch */
	struct config		*cfg;		/* referenced */
	const struct diff_rules	*rules;		/* its route's, in cfg */
	size_t			 route_id;	/* stats.h */
	const char		*route_name;	/* in cfg */
	char			*id;		/* printable, for records */
	int			 method;
	char			*uri;		/* printable */
	int64_t			 time_us;	/* wall clock: the request */
	enum shadow_error	 shadow_error;
	struct diff_capture	 request;	/* headers, if logged */
	unsigned char		*reqbody;
	size_t			 reqbody_len;
	size_t			 reqbody_alloc;
	struct diff_capture	 legs[DIFF_LEGS];
};

/* Bytes the job holds, for the diff queue's bound. */
size_t		 diff_job_size(const struct diff_job *);
/* The job's single teardown; on whichever thread holds it. */
void		 diff_job_free(struct diff_job *);

#endif
