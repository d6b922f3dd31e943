/*
 * diff: the pure diff engine. Given the primary's and the shadow's
 * responses and the rules of their route, it lists every difference that
 * matters and nothing that does not (docs/diff.md).
 *
 * No I/O, no libevent, no mutable globals: rules are built once from the
 * configuration and then shared read-only by any number of threads, and
 * each diff_compare() call owns everything it touches, but for the
 * buffers a caller's diff_scratch lends it. Out of memory aborts, like
 * the daemon's x* helpers.
 */
#ifndef SHADOWDIFF_DIFF_H
#define SHADOWDIFF_DIFF_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Bounds; each says what happens past it (docs/diff.md). */
#define DIFF_JSON_MAX_DEPTH	512	/* deeper: the body is unparseable */
#define DIFF_MAX_DIFFS		1000	/* more: counted in "diffs_omitted" */
#define DIFF_VALUE_MAX		1024	/* bytes of JSON kept per value */
#define DIFF_VALUE_LIMIT	256	/* default cut of values in records */
#define DIFF_PATH_MAX		4096	/* longer paths are cut and marked */
#define DIFF_EXCERPT		32	/* bytes shown of a non-JSON body */
#define DIFF_BODY_CAP		(1024 * 1024)	/* body_cap 0 means this */

struct diff_rules;	/* built once from config, then immutable */
struct diff_result;

/*
 * A route's rules start as a copy of the global [diff] rules (INHERIT),
 * or of the defaults when INHERIT is NULL.
 */
struct diff_rules	*diff_rules_new(const struct diff_rules *);
/*
 * Applies one key of [diff] or [route NAME]. Returns 0 if applied, -1
 * with *cause (allocated, no file:line prefix; it says what was expected
 * and reads after "expected ", as config.c prints it) if the value is
 * bad, 1 if KEY is not a diff key. Keys: ignore, ignore_like,
 * ignore_headers, unordered, float_tolerance, null_equals_empty,
 * missing_equals_default, timestamps, allow_added, shape_only,
 * status_equal, volatile_headers, profile. The list keys (ignore,
 * ignore_like, ignore_headers, unordered) add to what was inherited; the
 * others replace it. Regular expressions (ignore_like regex:) are
 * compiled here, once; matching them is bounded (docs/diff.md).
 */
int			 diff_rules_set(struct diff_rules *, const char *,
			    const char *, char **);
/* Frees rules (NULL is fine). */
void			 diff_rules_free(struct diff_rules *);
/*
 * Parses an RFC 3339 date-time (section 5.6; 'T' and 'Z' in either case),
 * the timestamps rule's, into microseconds since the epoch, the
 * fraction's digits past the sixth cut. Returns 0, or -1 if it is not one.
 */
int			 diff_time_parse(const char *, size_t, int64_t *);
/*
 * The pieces of JSON's strings (RFC 8259, RFC 3629), for the readers of
 * JSON beside the engine's: the length of the valid UTF-8 sequence at P
 * (below END), or 0; the value of the four hex digits at P, or -1; code
 * point CP written as UTF-8 at OUT (room for 4), its length.
 */
size_t			 diff_utf8_len(const unsigned char *,
			    const unsigned char *);
long			 diff_hex4(const unsigned char *, const unsigned char *);
size_t			 diff_utf8_put(char *, uint32_t);

struct diff_header {
	const char	*name;
	size_t		 name_len;
	const char	*value;
	size_t		 value_len;
};

struct diff_response {
	int				 status;
	const struct diff_header	*headers;
	size_t				 nheaders;
	const unsigned char		*body;	/* as captured, maybe encoded */
	size_t				 body_len;
	int				 body_truncated; /* capture was cut */
};

/*
 * Compares two responses under RULES. BODY_CAP bounds each body as
 * captured and as decoded (0: DIFF_BODY_CAP). Never fails: what cannot
 * be compared is noted in the result.
 */
struct diff_result	*diff_compare(const struct diff_rules *,
			    const struct diff_response *,
			    const struct diff_response *, size_t);
/*
 * What a thread that compares many responses keeps between its
 * comparisons: the buffers of the two parsed documents, so that each
 * comparison does not map and fault in fresh memory (glibc serves
 * allocations past its mmap threshold, 128 KiB at first, with mmap(2)
 * and gives them back with munmap(2)). A scratch holds at most 4 MiB
 * per document after a comparison (a larger one is freed); it belongs
 * to one thread at a time. The results do not depend on it.
 */
struct diff_scratch;
struct diff_scratch	*diff_scratch_new(void);
/* Frees a scratch (NULL is fine). */
void			 diff_scratch_free(struct diff_scratch *);
/* diff_compare() with the buffers of scratch S (NULL: its own). */
struct diff_result	*diff_compare_scratch(struct diff_scratch *,
			    const struct diff_rules *,
			    const struct diff_response *,
			    const struct diff_response *, size_t);
/* 1 if any difference was not forgiven by a rule, else 0. */
int			 diff_result_differs(const struct diff_result *);
/* Unforgiven differences found, including those past DIFF_MAX_DIFFS. */
size_t			 diff_result_count(const struct diff_result *);
/* Notes (unparseable, truncated, undecodable, rule_error) on either side. */
size_t			 diff_result_nnotes(const struct diff_result *);
/*
 * Rule matches that failed: an ignore_like regex that reached its match,
 * depth or heap limit (the value was then compared as if the rule did
 * not hold). Also "rule_errors" in the record, and a rule_error note.
 */
size_t			 diff_result_rule_errors(const struct diff_result *);
/* Kinds of differences: 0 status, 1 header, 2 body; and their names. */
#define DIFF_KINDS	3
const char		*diff_kind_name(size_t);
/* Unforgiven differences of one kind, kept or not. */
size_t			 diff_result_kind_count(const struct diff_result *,
			    size_t);
/* The rules that forgave differences, and how many each. */
size_t			 diff_result_nforgiven(const struct diff_result *);
const char		*diff_result_forgiven(const struct diff_result *,
			    size_t, size_t *);
/*
 * The record's members as one JSON object, compact and NUL-terminated:
 * {"diffs":[...],"forgiven":{...},"notes":[...]} and "diffs_omitted"
 * when DIFF_MAX_DIFFS was passed, "rule_errors" when a rule failed. Values longer than VALUE_LIMIT bytes
 * of JSON (0: DIFF_VALUE_LIMIT; at most DIFF_VALUE_MAX) are cut. Text,
 * not a json_t, because numbers keep their original digits, which
 * jansson cannot hold; to add the members to a record of your own, drop
 * the record's closing '}' and this object's opening '{' and join them
 * with a comma. Allocated; free(3) it.
 */
char			*diff_result_json(const struct diff_result *, size_t);
/* The same differences as readable lines, for people (allocated). */
char			*diff_result_text(const struct diff_result *, size_t);
/* {"rule": count, ...}: what each rule forgave, for metrics. */
json_t			*diff_result_forgiven_json(const struct diff_result *);

/*
 * Redaction (src/diff/redact.c): one immutable policy of what must not
 * be shown, shared read-only by any number of threads. Every place that
 * shows a request or a difference to people (the divergence record, the
 * dashboard) asks it, so they all hide the same things.
 *
 * Always hidden: headers whose name holds authorization, authenticate,
 * authentication, cookie, token, secret, password, api-key, api_key or
 * apikey (any case). Added: whole header names, query parameter names
 * (their values hidden, names kept; in the URI and in Location,
 * Content-Location and Referer) and JSON Pointer patterns (the rules'
 * syntax) whose values, and everything below them, are hidden.
 */
struct diff_redact;

struct diff_redact	*diff_redact_new(void);
void			 diff_redact_free(struct diff_redact *);
/* A copy, to add to (a route's policy from the global one). */
struct diff_redact	*diff_redact_copy(const struct diff_redact *);
/* Hides header NAME too (whole name, any case). */
void			 diff_redact_add_header(struct diff_redact *,
			    const char *);
/* Hides the values of query parameter NAME (any case). */
void			 diff_redact_add_query(struct diff_redact *,
			    const char *);
/* Adds a list of patterns; 0, or -1 with *cause (then none is added). */
int			 diff_redact_add_paths(struct diff_redact *,
			    const char *, char **);
/* Hides (1) or not (0) JSON members whose name holds a secret word. */
void			 diff_redact_set_words(struct diff_redact *, int);
/* Whether the policy hides JSON values (patterns, or the words). */
int			 diff_redact_has_paths(const struct diff_redact *);
/* Whether header NAME (LEN bytes) is hidden whole. */
int			 diff_redact_header(const struct diff_redact *,
			    const char *, size_t);
/*
 * What to show for the value VALUE (VLEN bytes) of header NAME (NLEN):
 * NULL, the value as it is; else an allocated NUL-terminated
 * replacement, "[redacted]" or a URI whose query is redacted, its length
 * in *OUTLEN.
 */
char			*diff_redact_header_value(const struct diff_redact *,
			    const char *, size_t, const char *, size_t,
			    size_t *);
/*
 * URI S (LEN bytes) with the values of hidden query parameters written
 * "[redacted]"; FORM: S is a query alone (an urlencoded form body).
 * NULL if nothing is hidden; else allocated, length in *OUTLEN.
 */
char			*diff_redact_uri(const struct diff_redact *,
			    const char *, size_t, int, size_t *);
/*
 * JSON text with the values at or below the patterns written
 * "[redacted]", compact. 1 with *OUT (allocated) and *OUTLEN; 0 if
 * nothing is hidden; -1 if the text is not JSON.
 */
int			 diff_redact_json(const struct diff_redact *,
			    const unsigned char *, size_t, char **, size_t *);
/*
 * Hides in a result's values what the policy hides: each difference
 * stays at its path, its values become "[redacted]" (or the value with
 * the hidden parts so written).
 */
void			 diff_result_redact(struct diff_result *,
			    const struct diff_redact *);
/*
 * Adds a difference of the whole body (path "") with the JSON texts
 * PRIMARY and SHADOW as values, unless a body difference is listed
 * already: for bodies cut at the cap whose digests differ.
 */
void			 diff_result_add_body(struct diff_result *,
			    const char *, const char *);
/* Frees a result (NULL is fine). */
void			 diff_result_free(struct diff_result *);

#endif
