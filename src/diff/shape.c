/*
 * Value shapes, for ignore_like: "a 43-character base64url string", "a
 * UUID", or a regular expression the whole string must match.
 *
 * Regular expressions are PCRE2's (8-bit, UTF). PCRE2 rather than
 * POSIX regexec(3) because PCRE2 enforces limits on one match: a
 * pattern such as (a+)+$ against a long value backtracks exponentially,
 * and regexec has no way to stop it, while pcre2_match() gives up past
 * SHAPE_MATCH_LIMIT steps, SHAPE_DEPTH_LIMIT nested backtracking frames
 * or SHAPE_HEAP_LIMIT KiB of backtracking memory, whatever the pattern
 * and the value. Such a failure is a rule error: the value is compared
 * as if the rule did not hold, and the result notes it.
 *
 * Threads: a shape is built once with the rules and then only read. Its
 * compiled code and its match context (which holds the limits) are
 * never written by pcre2_match(), so every diff thread uses them at
 * once; what a match writes is its match data, which each comparison
 * allocates for itself (struct shape_scratch). No JIT: JIT code would
 * need a stack per thread and does not honour the depth limit.
 */
#include "config.h"

#define PCRE2_CODE_UNIT_WIDTH	8
#include <pcre2.h>

#include <stdlib.h>
#include <string.h>

#include "diff-int.h"

/* The named shapes; SH_REGEX is "regex:...". */
enum shape_type {
	SH_STRING,
	SH_UUID,
	SH_RFC3339,
	SH_HEX,
	SH_DIGITS,
	SH_BASE64,
	SH_BASE64URL,
	SH_REGEX
};

static const char *const shape_names[] = {
	"string", "uuid", "rfc3339", "hex", "digits", "base64", "base64url"
};

struct shape {
	enum shape_type		 type;
	size_t			 min;	/* length in bytes, named shapes */
	size_t			 max;
	char			*source;	/* regex, as written */
	pcre2_code		*re;
	pcre2_match_context	*mctx;
};

/* Parses a length: N, or N-M; -1 if it is not one. */
static int
shape_parse_length(const char *s, size_t *min, size_t *max)
{
	char			*end;
	unsigned long long	 a, b;

	if (*s < '0' || *s > '9')
		return (-1);
	a = strtoull(s, &end, 10);
	b = a;
	if (*end == '-') {
		s = end + 1;
		if (*s < '0' || *s > '9')
			return (-1);
		b = strtoull(s, &end, 10);
	}
	if (*end != '\0' || a > b || b > 1024 * 1024 * 1024ULL)
		return (-1);
	*min = (size_t)a;
	*max = (size_t)b;
	return (0);
}

/* Compiles a regex shape; -1 with *CAUSE saying where and why. */
static int
shape_compile_regex(struct shape *sh, const char *src, char **cause)
{
	PCRE2_UCHAR	 msg[256];
	PCRE2_SIZE	 off;
	int		 err;

	if (*src == '\0') {
		*cause = dx_asprintf("a regular expression after regex:");
		return (-1);
	}
	/* The whole value must match: a shape, not a search. */
	sh->re = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_ANCHORED | PCRE2_ENDANCHORED, &err, &off,
	    NULL);
	if (sh->re == NULL) {
		if (pcre2_get_error_message(err, msg, sizeof(msg)) < 0)
			strcpy((char *)msg, "unknown error");
		*cause = dx_asprintf("a valid regular expression: regex:%s: "
		    "%s at offset %zu", src, (char *)msg, (size_t)off);
		return (-1);
	}
	if ((sh->mctx = pcre2_match_context_create(NULL)) == NULL)
		abort();
	pcre2_set_match_limit(sh->mctx, SHAPE_MATCH_LIMIT);
	pcre2_set_depth_limit(sh->mctx, SHAPE_DEPTH_LIMIT);
	pcre2_set_heap_limit(sh->mctx, SHAPE_HEAP_LIMIT);
	sh->source = dx_strdup(src);
	return (0);
}

/*
 * Parses a shape as written: NAME, NAME:LENGTH (N or N-M bytes) or
 * regex:EXPRESSION. Returns the shape, or NULL with *CAUSE.
 */
struct shape *
shape_parse(const char *text, char **cause)
{
	struct shape	*sh;
	const char	*colon;
	size_t		 i, nlen;

	sh = dx_calloc(1, sizeof(*sh));
	sh->max = SIZE_MAX;
	if (strncmp(text, "regex:", 6) == 0) {
		sh->type = SH_REGEX;
		if (shape_compile_regex(sh, text + 6, cause) == 0)
			return (sh);
		shape_free(sh);
		return (NULL);
	}
	colon = strchr(text, ':');
	nlen = colon != NULL ? (size_t)(colon - text) : strlen(text);
	for (i = 0; i < sizeof(shape_names) / sizeof(shape_names[0]); i++)
		if (strlen(shape_names[i]) == nlen &&
		    memcmp(shape_names[i], text, nlen) == 0)
			break;
	if (i == sizeof(shape_names) / sizeof(shape_names[0]) ||
	    (colon != NULL && shape_parse_length(colon + 1, &sh->min,
	    &sh->max) == -1)) {
		*cause = dx_asprintf("a value shape (string, uuid, rfc3339, "
		    "hex, digits, base64 or base64url, each maybe with :LENGTH "
		    "or :MIN-MAX, or regex:EXPRESSION), not %s", text);
		shape_free(sh);
		return (NULL);
	}
	sh->type = (enum shape_type)i;
	return (sh);
}

/* A copy of SRC, for a route's rules. */
struct shape *
shape_copy(const struct shape *src)
{
	struct shape	*sh;

	sh = dx_calloc(1, sizeof(*sh));
	*sh = *src;
	if (src->type != SH_REGEX)
		return (sh);
	sh->source = dx_strdup(src->source);
	if ((sh->re = pcre2_code_copy(src->re)) == NULL ||
	    (sh->mctx = pcre2_match_context_copy(src->mctx)) == NULL)
		abort();
	return (sh);
}

/* Frees a shape (NULL is fine). */
void
shape_free(struct shape *sh)
{
	if (sh == NULL)
		return;
	pcre2_code_free(sh->re);
	pcre2_match_context_free(sh->mctx);
	free(sh->source);
	free(sh);
}

/* Whether [S, S+LEN) is not empty and OK accepts each byte. */
static int
shape_all(const char *s, size_t len, int (*ok)(int))
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (!ok((unsigned char)s[i]))
			return (0);
	return (len > 0);
}

/* Whether C is a decimal digit. */
static int
shape_isdigit(int c)
{
	return (c >= '0' && c <= '9');
}

/* Whether C is a hex digit. */
static int
shape_ishex(int c)
{
	return (shape_isdigit(c) || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F'));
}

/* Whether C is an ASCII letter or digit. */
static int
shape_isalnum(int c)
{
	return (shape_isdigit(c) || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'));
}

/* Whether C is in base64's alphabet (RFC 4648 4). */
static int
shape_isb64(int c)
{
	return (shape_isalnum(c) || c == '+' || c == '/');
}

/* Whether C is in base64url's alphabet (RFC 4648 5). */
static int
shape_isb64url(int c)
{
	return (shape_isalnum(c) || c == '-' || c == '_');
}

/* Whether S is a UUID: 8-4-4-4-12 hex digits, any case. */
static int
shape_uuid(const char *s, size_t len)
{
	size_t	 i;

	if (len != 36)
		return (0);
	for (i = 0; i < len; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return (0);
		} else if (!shape_ishex((unsigned char)s[i]))
			return (0);
	}
	return (1);
}

/* Base64 with its alphabet test OK and at most two '=' of padding. */
static int
shape_base64(const char *s, size_t len, int (*ok)(int))
{
	size_t	 n = len;

	while (n > 0 && len - n < 2 && s[n - 1] == '=')
		n--;
	return (shape_all(s, n, ok));
}

/*
 * Whether string [S, S+LEN) has shape SH: 1 yes, 0 no, -1 the regex
 * match failed (a limit was reached, or this comparison's budget of
 * matches is spent; *WHY says which). SCRATCH holds this comparison's
 * match data and budget.
 */
int
shape_match(const struct shape *sh, struct shape_scratch *scratch,
    const char *s, size_t len, const char **why)
{
	struct instant	 t;
	size_t		 i;
	int		 rc;

	if (sh->type != SH_REGEX && (len < sh->min || len > sh->max))
		return (0);
	switch (sh->type) {
	case SH_STRING:
		return (1);
	case SH_UUID:
		return (shape_uuid(s, len));
	case SH_RFC3339:
		return (instant_parse(s, len, &t) == 0);
	case SH_HEX:
		return (shape_all(s, len, shape_ishex));
	case SH_DIGITS:
		return (shape_all(s, len, shape_isdigit));
	case SH_BASE64:
		return (shape_base64(s, len, shape_isb64));
	case SH_BASE64URL:
		return (shape_base64(s, len, shape_isb64url));
	case SH_REGEX:
		break;
	}
	/*
	 * The budget bounds a comparison's regex work whatever the number
	 * of values: SHAPE_RUNS_MAX matches of at most SHAPE_MATCH_LIMIT
	 * steps, and a regex that reached a limit once does not run again
	 * (a value it would fail on is likely repeated). Both are counts,
	 * never a clock, so the result does not depend on load.
	 */
	for (i = 0; i < scratch->nfailed; i++)
		if (scratch->failed[i] == sh)
			return (0);
	if (scratch->runs >= SHAPE_RUNS_MAX) {
		if (scratch->runs++ > SHAPE_RUNS_MAX)
			return (0);
		*why = "regex budget of the comparison spent";
		return (-1);
	}
	scratch->runs++;
	/* One pair of offsets is enough: only "whether" is asked. */
	if (scratch->md == NULL &&
	    (scratch->md = pcre2_match_data_create(1, NULL)) == NULL)
		abort();
	rc = pcre2_match(sh->re, (PCRE2_SPTR)s, len, 0, 0,
	    (pcre2_match_data *)scratch->md, sh->mctx);
	if (rc >= 0)
		return (1);
	switch (rc) {
	case PCRE2_ERROR_NOMATCH:
	case PCRE2_ERROR_PARTIAL:
		return (0);
	case PCRE2_ERROR_MATCHLIMIT:
		*why = "match limit reached";
		break;
	case PCRE2_ERROR_DEPTHLIMIT:
		*why = "depth limit reached";
		break;
	case PCRE2_ERROR_HEAPLIMIT:
		*why = "heap limit reached";
		break;
	case PCRE2_ERROR_NOMEMORY:
		*why = "out of memory";
		break;
	default:
		/* Invalid UTF-8 cannot come from the parser: no match. */
		return (0);
	}
	scratch->failed = dx_reallocarray(scratch->failed,
	    scratch->nfailed + 1, sizeof(*scratch->failed));
	scratch->failed[scratch->nfailed++] = sh;
	return (-1);
}

/* Frees a comparison's match data and budget. */
void
shape_scratch_clear(struct shape_scratch *scratch)
{
	pcre2_match_data_free((pcre2_match_data *)scratch->md);
	free(scratch->failed);
	memset(scratch, 0, sizeof(*scratch));
}
