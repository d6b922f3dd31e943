/*
 * triage: the figures an engineer asks of divergences ("which routes
 * diverge, in which fields, how often, since when, show me one"), built
 * from records one at a time in memory that the aggregation bounds, not
 * the number of records (docs/triage.md states the bounds).
 *
 * Plain C and jansson, no libevent and no daemon header: shadowdiff-report
 * feeds it the lines of divergence logs through triage_parse(); the
 * daemon can fill a struct triage_record from its own diff result and
 * feed the same aggregation. One struct triage has one owner: it takes
 * no lock.
 */
#ifndef SHADOWDIFF_TRIAGE_H
#define SHADOWDIFF_TRIAGE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* The bounds (docs/triage.md): past each, counted under one entry. */
#define TRIAGE_MAX_ROUTES	256	/* then route "(other routes)" */
#define TRIAGE_MAX_FIELDS	128	/* per route, then "(other fields)" */
#define TRIAGE_EXAMPLES		5	/* per field */
#define TRIAGE_PARTNERS		8	/* co-occurring fields counted */
#define TRIAGE_TOGETHER		3	/* of which shown */
#define TRIAGE_RECORD_FIELDS	32	/* a record's fields paired */
#define TRIAGE_MAX_INSTANCES	64	/* instance names kept */
#define TRIAGE_MAX_MALFORMED	10	/* malformed lines listed */
#define TRIAGE_KEY_MAX		256	/* bytes of a field pattern kept */
#define TRIAGE_TEXT_MAX		256	/* bytes of an id, URI or value kept */

/* Suggested rules: at least this many records, in this share. */
#define TRIAGE_SUGGEST_MIN	20
#define TRIAGE_SUGGEST_SHARE	0.95

enum triage_type {
	TRIAGE_MISMATCH,
	TRIAGE_SHADOW_ERROR,
	TRIAGE_MATCH,
	TRIAGE_TYPES
};

enum triage_kind {
	TRIAGE_STATUS,
	TRIAGE_HEADER,
	TRIAGE_BODY,
	TRIAGE_KINDS
};

enum triage_op {
	TRIAGE_CHANGED,
	TRIAGE_TYPE,
	TRIAGE_ADDED,
	TRIAGE_REMOVED,
	TRIAGE_DUPLICATE,
	TRIAGE_OP_OTHER,	/* an op of a newer schema */
	TRIAGE_OPS
};

/* A counted string, not NUL-terminated; len 0 with p NULL is absent. */
struct triage_str {
	const char	*p;
	size_t		 len;
};

/* One difference: path decoded, values as their JSON text. */
struct triage_diff {
	enum triage_kind	 kind;
	enum triage_op		 op;
	struct triage_str	 path;
	struct triage_str	 primary;	/* absent: p NULL */
	struct triage_str	 shadow;
};

/* What the aggregation needs of one record; strings decoded. */
struct triage_record {
	enum triage_type		 type;
	int64_t				 time_us;	/* since the epoch */
	struct triage_str		 id;
	struct triage_str		 route;
	struct triage_str		 uri;
	struct triage_str		 instance;	/* absent: p NULL */
	struct triage_str		 error;		/* shadow.error */
	const struct triage_diff	*diffs;
	size_t				 ndiffs;
	uint64_t			 diffs_omitted;
};

struct triage;
struct triage_parser;

/* A new, empty aggregation. */
struct triage	*triage_new(void);
void		 triage_free(struct triage *);
/* Counts record REC in T. */
void		 triage_add(struct triage *, const struct triage_record *);
/* Counts a line of FILE that is not a valid record, with the reason. */
void		 triage_malformed(struct triage *, const char *, uint64_t,
		    const char *);
/* Counts the lines and records read from FILE (for the report). */
void		 triage_file(struct triage *, const char *, uint64_t,
		    uint64_t, uint64_t);
/* Counts a record that a filter left out. */
void		 triage_filtered(struct triage *);
/*
 * The report as one JSON object (docs/triage.md). MATCH_SAMPLE is the
 * share of equal exchanges logged as match records ([log] log_matches),
 * from 0 to 1, or a negative number when unknown: rates over compared
 * exchanges are then null.
 */
json_t		*triage_json(struct triage *, double);
/* The number of malformed lines counted. */
uint64_t	 triage_malformed_count(const struct triage *);

/* A parser of divergence log lines; its buffers are reused. */
struct triage_parser	*triage_parser_new(void);
void			 triage_parser_free(struct triage_parser *);
/*
 * Parses the LEN bytes of LINE (no newline) into REC, whose strings
 * point into LINE or into P's buffers until the next call. Returns 0,
 * or -1 with a static reason in *REASON: not JSON, a required field
 * missing or of the wrong type. Unknown fields are ignored.
 */
int		 triage_parse(struct triage_parser *, const char *, size_t,
		    struct triage_record *, const char **);
/* The pattern of a field: array indices of pointer PATH as "*". */
size_t		 triage_pattern(const char *, size_t, char *, size_t);
/* Formats microseconds since the epoch as RFC 3339 UTC into BUF (32). */
void		 triage_time_format(int64_t, char *, size_t);

#endif
