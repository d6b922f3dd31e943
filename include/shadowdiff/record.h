/*
 * record: the divergence record, one JSON object per compared job. All
 * of the record's format is here, beside its contract,
 * docs/divergence-log.md (schema: docs/divergence-log.schema.json).
 * Runs on the diff threads; the line it makes goes to divlog's writer.
 */
#ifndef SHADOWDIFF_RECORD_H
#define SHADOWDIFF_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "shadowdiff/diff_job.h"

struct diff_redact;
struct diff_result;
struct json_t;

/* What a compared job turned out to be: a record's type. */
enum record_verdict {
	RECORD_MATCH,
	RECORD_MISMATCH,
	RECORD_SHADOW_ERROR,
	RECORD_VERDICTS
};

/* One side of an exchange, as a record tells it. */
struct record_side {
	int		 status;	/* 0: no response (see error) */
	double		 ms;		/* time to the full response */
	uint64_t	 bytes;		/* body bytes */
	const char	*error;		/* timeout, refused, reset, ... */
};

/* What a record says of an exchange besides its differences. */
struct record_entry {
	const char		*type;		/* mismatch, shadow_error, match */
	int64_t			 time_us;	/* Unix time, microseconds */
	const char		*id;
	const char		*route;
	const char		*method;
	const char		*uri;		/* request target, query too */
	uint64_t		 config;	/* its config's generation */
	struct record_side	 primary;
	struct record_side	 shadow;
	/* The request's headers and body where log_request asks (or NULL). */
	struct json_t		*request;
};

/* Room for record_digest's value: "sha256:" and 64 hex digits, quoted. */
#define RECORD_DIGEST_LEN	80

/* The label of a verdict: a record's type. */
const char	*record_type(enum record_verdict);
/*
 * What a record of JOB must hide: its route's redaction policy, or
 * [log]'s. The one source of what a record, or any other view of a
 * job (the dashboard), may show.
 */
const struct diff_redact *record_redact(const struct diff_job *);
/* A cut body's digest as a record's JSON value, "sha256:HEX". */
void		 record_digest(const unsigned char *, char *);
/*
 * The record of JOB, which compared to V with result RES (NULL after a
 * shadow error); allocated, no newline. NULL when none is to be
 * written (a match outside [log] matches).
 */
char		*record_job(const struct diff_job *, enum record_verdict,
		    const struct diff_result *);
/*
 * The record of E and its diff result RES (NULL: none, as for a shadow
 * error), values cut at VALUE_LIMIT bytes; allocated, no newline.
 */
char		*record_format(const struct record_entry *,
		    const struct diff_result *, size_t);

#endif
