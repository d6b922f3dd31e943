/*
 * The diff engine's private interfaces: one section per file of
 * src/diff/. Nothing here is seen outside the engine, its tests and its
 * benchmark.
 */
#ifndef SHADOWDIFF_DIFF_INT_H
#define SHADOWDIFF_DIFF_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "shadowdiff/diff.h"

#define DIFF_MAX_PATTERNS	1024	/* per rules, all keys together */
#define DIFF_MAX_SEGMENTS	63	/* per pattern: its NFA is a uint64_t */

enum side {
	SIDE_PRIMARY,
	SIDE_SHADOW
};

/* util.c: allocation that aborts on exhaustion, growable buffers. */
void		*dx_malloc(size_t);
void		*dx_calloc(size_t, size_t);
void		*dx_reallocarray(void *, size_t, size_t);
char		*dx_strdup(const char *);
char		*dx_strndup(const char *, size_t);
char		*dx_asprintf(const char *, ...)
		    __attribute__((format(printf, 1, 2)));

struct dbuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};
void		 dbuf_add(struct dbuf *, const void *, size_t);
void		 dbuf_addc(struct dbuf *, int);
void		 dbuf_adds(struct dbuf *, const char *);
void		 dbuf_printf(struct dbuf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
char		*dbuf_finish(struct dbuf *);
void		 dbuf_free(struct dbuf *);
void		 dbuf_add_jstring(struct dbuf *, const void *, size_t);
size_t		 utf8_cut(const char *, size_t, size_t);
int		 utf8_valid(const char *);
int		 dx_casecmp(const char *, size_t, const char *, size_t);
int		 dx_eqcase(const char *, size_t, const char *, size_t);

/*
 * A fast 64-bit hash of LEN bytes; for in-process tables only. Inline:
 * the parser hashes every object key.
 */
static inline uint64_t
dx_hash(const void *p, size_t len, uint64_t h)
{
	const unsigned char	*s = p;
	uint64_t		 w;
	uint32_t		 lo, hi;

	h ^= (uint64_t)len * 0x9e3779b97f4a7c15ULL;
	while (len > 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
		s += 8;
		len -= 8;
	}
	/* The last 1 to 8 bytes, as two loads that may overlap. */
	if (len >= 4) {
		memcpy(&lo, s, 4);
		memcpy(&hi, s + len - 4, 4);
		w = (uint64_t)hi << 32 | lo;
	} else if (len > 0)
		w = (uint64_t)s[0] << 16 | (uint64_t)s[len / 2] << 8 |
		    s[len - 1];
	else
		w = 0;
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
	return (h);
}

/*
 * Whether the N bytes at A and B are equal (either may be NULL if N is
 * 0): memcmp(3) inline, for the short strings of most documents (keys,
 * ids, dates).
 */
static inline int
dx_eq(const void *pa, const void *pb, size_t n)
{
	const unsigned char	*a = pa, *b = pb;
	uint64_t		 x, y;
	uint32_t		 u, v;

	if (n >= 8) {
		for (; n > 8; a += 8, b += 8, n -= 8) {
			memcpy(&x, a, 8);
			memcpy(&y, b, 8);
			if (x != y)
				return (0);
		}
		/* The last 1 to 8 bytes, as 8 that may overlap. */
		memcpy(&x, a + n - 8, 8);
		memcpy(&y, b + n - 8, 8);
		return (x == y);
	}
	if (n >= 4) {
		memcpy(&u, a, 4);
		memcpy(&v, b, 4);
		if (u != v)
			return (0);
		memcpy(&u, a + n - 4, 4);
		memcpy(&v, b + n - 4, 4);
		return (u == v);
	}
	for (; n > 0; a++, b++, n--)
		if (*a != *b)
			return (0);
	return (1);
}

/* Whether two counted strings are equal (either may be NULL if empty). */
static inline int
dx_memeq(const void *a, size_t alen, const void *b, size_t blen)
{
	return (alen == blen && dx_eq(a, b, alen));
}

/* json.c: the tokenizer, the flat tree and the token-stream comparison. */
enum jtype {
	J_NULL,
	J_FALSE,
	J_TRUE,
	J_NUMBER,
	J_STRING,
	J_ARRAY,
	J_OBJECT
};

#define JF_INTEGER	0x01	/* number: no fraction, no exponent */
#define JF_DUPKEYS	0x02	/* object: a key appears more than once */
#define JF_DUP		0x04	/* key: an earlier key of its object is equal */
#define JF_MAYBEDUP	0x08	/* object, while parsed: two of its keys'
				   hashes set one bit of a 64-bit filter */

#define J_NONE		UINT32_MAX	/* no node: the key is absent */

/*
 * One value, or one object key, of a parsed document. A document is an
 * array of nodes in document order: a container's children follow it
 * and its subtree ends at END, so a subtree is skipped in one step. An
 * object's children alternate key, value.
 */
struct jnode {
	const char	*s;	/* string: decoded bytes; number: its text */
	uint32_t	 len;
	uint32_t	 end;	/* index one past the subtree */
	uint32_t	 n;	/* container: children; key: its hash */
	uint8_t		 type;	/* enum jtype */
	uint8_t		 flags;	/* JF_* */
};

/*
 * A parsed document. Its buffers outlive a parse: json_parse() reuses
 * what an earlier parse left (a diff_scratch keeps them between
 * comparisons), and json_free() releases them.
 */
struct jdoc {
	struct jnode	*nodes;
	uint32_t	 n;
	uint32_t	 cap;
	char		*arena;	/* decoded strings, at most the input size */
	size_t		 arenacap;
	uint32_t	*table;	/* duplicate-key detection, reused */
	size_t		 tablecap;
	const char	*err;	/* why parsing failed */
	size_t		 erroff;
};

int		 json_parse(struct jdoc *, const unsigned char *, size_t);
void		 json_free(struct jdoc *);
size_t		 json_size(const struct jdoc *);
int		 json_stream_equal(const unsigned char *, size_t,
		    const unsigned char *, size_t, struct jdoc *,
		    struct jdoc *, uint32_t *);
int		 json_write(struct dbuf *, const struct jdoc *, uint32_t,
		    size_t);
/* Whether two node types are the same JSON type (true and false are). */
static inline int
json_same_type(int a, int b)
{
	return (a == b || (a >= J_FALSE && a <= J_TRUE && b >= J_FALSE &&
	    b <= J_TRUE));
}
int		 json_is_default(const struct jdoc *, uint32_t);

/* number.c: JSON numbers by exact decimal value. */
int		 num_equal(const char *, size_t, const char *, size_t);
int		 num_is_zero(const char *, size_t);
int		 num_close(const char *, size_t, const char *, size_t, double);
uint64_t	 num_hash(const char *, size_t);

/* timestamp.c: RFC 3339 timestamps as instants. */
struct instant {
	int64_t		 sec;	/* since 1970-01-01T00:00:00Z */
	const char	*frac;	/* fraction digits, trailing zeros cut */
	size_t		 fraclen;
};
int		 instant_parse(const char *, size_t, struct instant *);
int		 instant_equal(const struct instant *, const struct instant *);
uint64_t	 instant_hash(const struct instant *);

/* pointer.c: JSON Pointers and the patterns of the rules. */
enum pseg_type {
	PSEG_LITERAL,
	PSEG_STAR,	/* one segment */
	PSEG_GLOBSTAR	/* any number of segments, none included */
};

struct pseg {
	enum pseg_type	 type;
	char		*lit;	/* unescaped */
	size_t		 len;
};

struct pattern {
	int		 kind;	/* enum rule_kind */
	char		*text;	/* as the user wrote it */
	char		*name;	/* "KEY TEXT", the forgiven counter's name */
	struct pseg	*segs;
	size_t		 nsegs;
	struct shape	*shape;	/* ignore_like: the value's shape */
};

int		 pattern_compile(struct pattern *, const char *, size_t,
		    char **);
void		 pattern_copy(struct pattern *, const struct pattern *);
void		 pattern_clear(struct pattern *);
uint64_t	 pattern_start(const struct pattern *);
uint64_t	 pattern_step(const struct pattern *, uint64_t, const char *,
		    size_t);
int		 pattern_matches(const struct pattern *, uint64_t);
void		 pointer_escape(struct dbuf *, const char *, size_t);
int		 pointer_token(const char **, char **, size_t *, char **);
char		*pointer_unquote(const char *, size_t *, char **);

/* shape.c: value shapes and PCRE2 regular expressions (ignore_like). */
#define SHAPE_MATCH_LIMIT	10000	/* pcre2_set_match_limit */
#define SHAPE_DEPTH_LIMIT	10000	/* pcre2_set_depth_limit */
#define SHAPE_HEAP_LIMIT	1024	/* KiB, pcre2_set_heap_limit */
#define SHAPE_RUNS_MAX		4096	/* regex matches per comparison */

struct shape;
/* What one comparison's regex matches write: its own, never shared. */
struct shape_scratch {
	void		*md;	/* pcre2_match_data, made when first needed */
	size_t		 runs;	/* regex matches run */
	const struct shape **failed;	/* regexes that reached a limit */
	size_t		 nfailed;
};
struct shape	*shape_parse(const char *, char **);
struct shape	*shape_copy(const struct shape *);
void		 shape_free(struct shape *);
int		 shape_match(const struct shape *, struct shape_scratch *,
		    const char *, size_t, const char **);
void		 shape_scratch_clear(struct shape_scratch *);

/* rules.c: what [diff] and [route NAME] say. */
enum rule_kind {
	RULE_IGNORE,
	RULE_UNORDERED,
	RULE_NULL,		/* null_equals_empty */
	RULE_MISSING,		/* missing_equals_default */
	RULE_TIME,		/* timestamps */
	RULE_LIKE,		/* ignore_like */
	RULE_ADDED,		/* allow_added */
	RULE_SHAPE,		/* shape_only */
	RULE_NKINDS
};

enum rule_mode {
	MODE_UNSET,	/* not set: the profile decides */
	MODE_OFF,
	MODE_ALL,
	MODE_PATHS
};

enum profile {
	PROFILE_NONE,
	PROFILE_GO_RUST
};

/* A status_equal item: a class (5xx) or a set of equal codes. */
struct status_eq {
	char		*name;		/* "status_equal ITEM" */
	int		 class;		/* 1 to 5, or 0 for a set */
	int		*codes;
	size_t		 ncodes;
};

struct diff_rules {
	struct pattern	*pats;
	size_t		 npats;
	char		**headers;	/* ignore_headers, lowercased */
	char		**header_names;	/* "ignore_headers NAME" */
	size_t		 nheaders;
	char		**volatile_hdrs; /* lowercased; "x-b3-*": a prefix */
	size_t		 nvolatile;
	struct status_eq *status_eq;
	size_t		 nstatus_eq;
	double		 tolerance;	/* float_tolerance; 0: exact */
	enum rule_mode	 mode[RULE_NKINDS];	/* RULE_NULL and later */
	enum profile	 profile;
};

enum rule_mode	 rules_mode(const struct diff_rules *, int);
const char	*rules_kind_name(int);
const char	*rules_status_equal(const struct diff_rules *, int, int);
int		 rules_header_volatile(const struct diff_rules *, const char *,
		    size_t);

/* result.c: the differences, notes and forgiven counts found. */
enum diff_kind {
	KIND_STATUS,
	KIND_HEADER,
	KIND_BODY
};

enum diff_op {
	OP_CHANGED,
	OP_TYPE,
	OP_ADDED,
	OP_REMOVED,
	OP_DUPLICATE
};

struct diff_entry {
	enum diff_kind	 kind;
	enum diff_op	 op;
	char		*path;
	int		 path_cut;
	char		*value[2];	/* JSON text per side, or NULL */
	size_t		 value_len[2];
	int		 value_cut[2];	/* cut at DIFF_VALUE_MAX */
	int		 has_offset;
	size_t		 offset;	/* non-JSON bodies */
};

struct diff_forgiven {
	char		*rule;
	size_t		 count;
};

struct diff_note {
	enum side	 side;
	const char	*note;	/* "unparseable", "truncated", "undecodable",
				   "rule_error" */
	char		*detail;
};

struct diff_result {
	struct diff_entry	*diffs;
	size_t			 ndiffs;
	size_t			 capdiffs;
	size_t			 omitted;
	size_t			 bykind[DIFF_KINDS];	/* omitted too */
	struct diff_forgiven	*forgiven;
	size_t			 nforgiven;
	struct diff_note	*notes;
	size_t			 nnotes;
	size_t			 rule_errors;	/* regex matches that failed */
};

struct diff_entry *result_add(struct diff_result *, enum diff_kind,
		    enum diff_op, const char *, size_t);
void		 result_set_value(struct diff_entry *, enum side,
		    const char *, size_t, int);
void		 result_forgive(struct diff_result *, const char *, size_t);
void		 result_note(struct diff_result *, enum side, const char *,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
void		 result_rule_error(struct diff_result *, enum side,
		    const char *, const char *, const char *);

/* headers.c: status and headers. */
void		 headers_compare(struct diff_result *,
		    const struct diff_rules *, const struct diff_response *,
		    const struct diff_response *, int);
int		 header_find(const struct diff_response *, const char *,
		    const char **, size_t *);
int		 media_type_is_json(const char *, size_t);

/* body.c: content decoding and byte comparison. */
struct body {
	const unsigned char	*data;
	size_t			 len;
	unsigned char		*owned;	/* decoded copy, or NULL */
	int			 truncated;
	int			 decoded;	/* content-coding removed */
};
void		 body_decode(struct diff_result *, enum side,
		    const struct diff_response *, size_t, struct body *);
void		 body_clear(struct body *);
int		 body_compare_bytes(struct diff_result *, const struct body *,
		    const struct body *, int);

/*
 * diff.c: what a diff thread keeps between comparisons (diff.h): the
 * two documents' buffers, each kept while at most SCRATCH_KEEP bytes.
 */
#define SCRATCH_KEEP	(4 * 1024 * 1024)
struct diff_scratch {
	struct jdoc	 doc[2];
};

/* compare.c: two parsed documents under the rules. */
int		 compare_json(struct diff_result *, const struct diff_rules *,
		    const struct jdoc *, const struct jdoc *, uint32_t);

#endif
