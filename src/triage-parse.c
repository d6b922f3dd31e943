/*
 * Reading a divergence log line into a struct triage_record. A full
 * JSON parser (jansson's json_loadb) builds a tree of every value and
 * reads about 50 MB/s; this scanner checks the whole line is one valid
 * JSON object (RFC 8259, UTF-8 included) but keeps only the members the
 * report needs, pointing into the line, at several hundred MB/s.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shadowdiff/diff.h"
#include "shadowdiff/triage.h"
#include "shadowdiff/util.h"

#define SCAN_DEPTH	128	/* nesting accepted in a value */

struct triage_parser {
	struct triage_diff	*diffs;
	size_t			 diffs_cap;
	char			*text;		/* decoded strings */
	size_t			 text_cap;
	size_t			 text_len;
};

struct scan {
	const char	*p;
	const char	*end;
	const char	*why;
};

/* The members of a record the schema requires, as bits. */
enum {
	HAS_TYPE = 1 << 0, HAS_TIME = 1 << 1, HAS_ID = 1 << 2,
	HAS_CONFIG = 1 << 3, HAS_ROUTE = 1 << 4, HAS_METHOD = 1 << 5,
	HAS_URI = 1 << 6, HAS_PRIMARY = 1 << 7, HAS_SHADOW = 1 << 8,
	HAS_DIFFS = 1 << 9, HAS_FORGIVEN = 1 << 10, HAS_NOTES = 1 << 11,
	HAS_ALL = (1 << 12) - 1
};

/* A new parser. */
struct triage_parser *
triage_parser_new(void)
{
	return (xcalloc(1, sizeof(struct triage_parser)));
}

/* Frees parser P. */
void
triage_parser_free(struct triage_parser *p)
{
	if (p == NULL)
		return;
	free(p->diffs);
	free(p->text);
	free(p);
}

/* Fails scan S with reason WHY; always -1. */
static int
scan_fail(struct scan *s, const char *why)
{
	if (s->why == NULL)
		s->why = s->p >= s->end ? "truncated" : why;
	return (-1);
}

/* Skips white space. */
static void
scan_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
	    *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/*
 * Scans the string at s->p (its opening quote): its raw contents into
 * RAW, and whether it has an escape into *ESC.
 */
static int
scan_string(struct scan *s, struct triage_str *raw, int *esc)
{
	const unsigned char	*p = (const unsigned char *)s->p + 1;
	const unsigned char	*end = (const unsigned char *)s->end;
	size_t			 n;

	*esc = 0;
	raw->p = (const char *)p;
	for (;;) {
		/* The common bytes first, without a branch per kind. */
		while (p < end && *p >= 0x20 && *p != '"' && *p != '\\' &&
		    *p < 0x80)
			p++;
		if (p == end) {
			s->p = s->end;
			return (scan_fail(s, "truncated"));
		}
		if (*p == '"')
			break;
		if (*p == '\\') {
			*esc = 1;
			if (end - p < 2) {
				s->p = s->end;
				return (scan_fail(s, "truncated"));
			}
			switch (p[1]) {
			case '"': case '\\': case '/': case 'b': case 'f':
			case 'n': case 'r': case 't':
				p += 2;
				break;
			case 'u':
				if (end - p < 6 || diff_hex4(p + 2, end) < 0)
					return (scan_fail(s,
					    "invalid \\u escape"));
				p += 6;
				break;
			default:
				return (scan_fail(s, "invalid escape"));
			}
			continue;
		}
		if (*p < 0x20)
			return (scan_fail(s, "control character in string"));
		if ((n = diff_utf8_len(p, end)) == 0)
			return (scan_fail(s, "invalid UTF-8"));
		p += n;
	}
	raw->len = (size_t)((const char *)p - raw->p);
	s->p = (const char *)p + 1;
	return (0);
}

/*
 * Decodes the escapes of RAW (scanned: valid) into P's text buffer,
 * which is as long as the line. A lone surrogate becomes U+FFFD.
 */
static int
decode(struct triage_parser *pp, struct triage_str *raw)
{
	const unsigned char	*p = (const unsigned char *)raw->p;
	const unsigned char	*end = p + raw->len;
	char			*start = pp->text + pp->text_len, *q = start;
	long			 c, lo;

	while (p < end) {
		if (*p != '\\') {
			*q++ = (char)*p++;
			continue;
		}
		switch (p[1]) {
		case 'b': *q++ = '\b'; break;
		case 'f': *q++ = '\f'; break;
		case 'n': *q++ = '\n'; break;
		case 'r': *q++ = '\r'; break;
		case 't': *q++ = '\t'; break;
		case 'u':
			c = diff_hex4(p + 2, end);
			p += 6;
			if (c >= 0xd800 && c <= 0xdbff && end - p >= 6 &&
			    p[0] == '\\' && p[1] == 'u' &&
			    (lo = diff_hex4(p + 2, end)) >= 0xdc00 &&
			    lo <= 0xdfff) {
				c = 0x10000 + ((c - 0xd800) << 10) +
				    (lo - 0xdc00);
				p += 6;
			} else if (c >= 0xd800 && c <= 0xdfff)
				c = 0xfffd;
			q += diff_utf8_put(q, (uint32_t)c);
			continue;
		default: *q++ = (char)p[1]; break;
		}
		p += 2;
	}
	raw->p = start;
	raw->len = (size_t)(q - start);
	pp->text_len += raw->len;
	return (0);
}

/* Scans a string and decodes it into OUT. */
static int
scan_text(struct scan *s, struct triage_parser *pp, struct triage_str *out)
{
	int	 esc;

	scan_ws(s);
	if (s->p == s->end || *s->p != '"')
		return (scan_fail(s, "a field is not a string"));
	if (scan_string(s, out, &esc) == -1)
		return (-1);
	if (esc)
		decode(pp, out);
	return (0);
}

/* Scans a number. */
static int
scan_number(struct scan *s)
{
	const char	*p = s->p, *end = s->end;

	if (p < end && *p == '-')
		p++;
	if (p == end || *p < '0' || *p > '9')
		return (scan_fail(s, "invalid number"));
	if (*p == '0')
		p++;
	else
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	if (p < end && *p == '.') {
		p++;
		if (p == end || *p < '0' || *p > '9')
			return (scan_fail(s, "invalid number"));
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p == end || *p < '0' || *p > '9')
			return (scan_fail(s, "invalid number"));
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	s->p = p;
	return (0);
}

/* Scans the literal WORD. */
static int
scan_word(struct scan *s, const char *word, size_t len)
{
	if ((size_t)(s->end - s->p) < len || memcmp(s->p, word, len) != 0)
		return (scan_fail(s, "not JSON"));
	s->p += len;
	return (0);
}

/*
 * Enters the container OPEN at s->p, failing with WHY if there is none.
 * Returns 1 if it is empty (its CLOSE read too), 0 if elements follow,
 * or -1.
 */
static int
scan_open(struct scan *s, char open, char close, const char *why)
{
	scan_ws(s);
	if (s->p == s->end || *s->p != open)
		return (scan_fail(s, why));
	s->p++;
	scan_ws(s);
	if (s->p < s->end && *s->p == close) {
		s->p++;
		return (1);
	}
	return (0);
}

/*
 * Reads what follows an element of a container: returns 1 at its CLOSE
 * (read), 0 after a comma (another element follows), or -1.
 */
static int
scan_next(struct scan *s, char close)
{
	scan_ws(s);
	if (s->p == s->end)
		return (scan_fail(s, "truncated"));
	if (*s->p == close) {
		s->p++;
		return (1);
	}
	if (*s->p++ != ',')
		return (scan_fail(s, "not JSON"));
	return (0);
}

/*
 * Scans a member's key and its colon: the key's raw text into KEY, and
 * whether it has an escape into *ESC.
 */
static int
scan_key(struct scan *s, struct triage_str *key, int *esc)
{
	scan_ws(s);
	if (s->p == s->end || *s->p != '"')
		return (scan_fail(s, "truncated or not JSON"));
	if (scan_string(s, key, esc) == -1)
		return (-1);
	scan_ws(s);
	if (s->p == s->end || *s->p++ != ':')
		return (scan_fail(s, "truncated or not JSON"));
	return (0);
}

/* Scans any value, nested at most DEPTH deep more. */
static int
scan_value(struct scan *s, int depth)
{
	struct triage_str	 raw;
	int			 esc, r;

	scan_ws(s);
	if (s->p == s->end)
		return (scan_fail(s, "truncated"));
	switch (*s->p) {
	case '"':
		return (scan_string(s, &raw, &esc));
	case '{':
		if (depth == 0)
			return (scan_fail(s, "nested too deep"));
		if ((r = scan_open(s, '{', '}', NULL)) != 0)
			return (r == 1 ? 0 : -1);
		do {
			if (scan_key(s, &raw, &esc) == -1 ||
			    scan_value(s, depth - 1) == -1)
				return (-1);
		} while ((r = scan_next(s, '}')) == 0);
		return (r == 1 ? 0 : -1);
	case '[':
		if (depth == 0)
			return (scan_fail(s, "nested too deep"));
		if ((r = scan_open(s, '[', ']', NULL)) != 0)
			return (r == 1 ? 0 : -1);
		do {
			if (scan_value(s, depth - 1) == -1)
				return (-1);
		} while ((r = scan_next(s, ']')) == 0);
		return (r == 1 ? 0 : -1);
	case 't':
		return (scan_word(s, "true", 4));
	case 'f':
		return (scan_word(s, "false", 5));
	case 'n':
		return (scan_word(s, "null", 4));
	default:
		return (scan_number(s));
	}
}

/* Scans a value into RAW, its JSON text. */
static int
scan_raw(struct scan *s, struct triage_str *raw)
{
	scan_ws(s);
	raw->p = s->p;
	if (scan_value(s, SCAN_DEPTH) == -1)
		return (-1);
	raw->len = (size_t)(s->p - raw->p);
	return (0);
}

/* Whether counted string K is the C string WORD. */
static int
is(const struct triage_str *k, const char *word)
{
	size_t	 n = strlen(word);

	return (k->len == n && memcmp(k->p, word, n) == 0);
}

/*
 * Iterates the members of the object at s->p: calls MEMBER with each
 * key, which must consume the value. Returns 0 at the closing brace.
 */
static int
scan_object(struct scan *s, int (*member)(struct scan *,
    const struct triage_str *, void *), void *arg)
{
	struct triage_str	 key;
	int			 esc, r;

	if ((r = scan_open(s, '{', '}', "a field is not an object")) != 0)
		return (r == 1 ? 0 : -1);
	do {
		if (scan_key(s, &key, &esc) == -1)
			return (-1);
		/* Keys with escapes are no key of ours: skipped. */
		if (esc ? scan_value(s, SCAN_DEPTH) : member(s, &key, arg))
			return (-1);
	} while ((r = scan_next(s, '}')) == 0);
	return (r == 1 ? 0 : -1);
}

struct diff_ctx {
	struct triage_parser	*pp;
	struct triage_diff	*d;
	int			 has;
};

/* One member of a difference. */
static int
diff_member_cb(struct scan *s, const struct triage_str *k, void *arg)
{
	static const char *const kinds[TRIAGE_KINDS] = {
		[TRIAGE_STATUS] = "status", [TRIAGE_HEADER] = "header",
		[TRIAGE_BODY] = "body"
	};
	static const char *const ops[TRIAGE_OP_OTHER] = {
		[TRIAGE_CHANGED] = "changed", [TRIAGE_TYPE] = "type",
		[TRIAGE_ADDED] = "added", [TRIAGE_REMOVED] = "removed",
		[TRIAGE_DUPLICATE] = "duplicate"
	};
	struct diff_ctx		*c = arg;
	struct triage_str	 v;
	int			 i;

	if (is(k, "kind")) {
		if (scan_text(s, c->pp, &v) == -1)
			return (-1);
		for (i = 0; i < TRIAGE_KINDS && !is(&v, kinds[i]); i++)
			;
		if (i == TRIAGE_KINDS)
			return (scan_fail(s, "unknown kind of difference"));
		c->d->kind = (enum triage_kind)i;
		c->has |= 1;
	} else if (is(k, "path")) {
		if (scan_text(s, c->pp, &c->d->path) == -1)
			return (-1);
		c->has |= 2;
	} else if (is(k, "op")) {
		if (scan_text(s, c->pp, &v) == -1)
			return (-1);
		for (i = 0; i < TRIAGE_OP_OTHER && !is(&v, ops[i]); i++)
			;
		c->d->op = (enum triage_op)i;
		c->has |= 4;
	} else if (is(k, "primary"))
		return (scan_raw(s, &c->d->primary));
	else if (is(k, "shadow"))
		return (scan_raw(s, &c->d->shadow));
	else
		return (scan_value(s, SCAN_DEPTH));
	return (0);
}

/* Scans the diffs array into P's diffs. */
static int
scan_diffs(struct scan *s, struct triage_parser *pp, size_t *n)
{
	struct diff_ctx	 c;
	int		 r;

	*n = 0;
	if ((r = scan_open(s, '[', ']', "diffs is not an array")) != 0)
		return (r == 1 ? 0 : -1);
	do {
		if (*n == pp->diffs_cap) {
			pp->diffs_cap = pp->diffs_cap ? pp->diffs_cap * 2 : 16;
			pp->diffs = xreallocarray(pp->diffs, pp->diffs_cap,
			    sizeof(*pp->diffs));
		}
		c.pp = pp;
		c.d = &pp->diffs[*n];
		c.has = 0;
		memset(c.d, 0, sizeof(*c.d));
		if (scan_object(s, diff_member_cb, &c) == -1)
			return (-1);
		if (c.has != 7)
			return (scan_fail(s, "a difference lacks kind, path "
			    "or op"));
		(*n)++;
	} while ((r = scan_next(s, ']')) == 0);
	return (r == 1 ? 0 : -1);
}

struct rec_ctx {
	struct triage_parser	*pp;
	struct triage_record	*rec;
	int			 has;
};

/* One member of shadow: keeps error. */
static int
shadow_member_cb(struct scan *s, const struct triage_str *k, void *arg)
{
	struct rec_ctx	*c = arg;

	if (is(k, "error"))
		return (scan_text(s, c->pp, &c->rec->error));
	return (scan_value(s, SCAN_DEPTH));
}

/* Scans a value that must be a JSON container OPEN. */
static int
scan_container(struct scan *s, char open)
{
	scan_ws(s);
	if (s->p == s->end || *s->p != open)
		return (scan_fail(s, open == '{' ? "a field is not an object" :
		    "a field is not an array"));
	return (scan_value(s, SCAN_DEPTH));
}

/* Scans an unsigned integer into *V. */
static int
scan_uint(struct scan *s, uint64_t *v)
{
	const char	*start;

	scan_ws(s);
	start = s->p;
	if (scan_number(s) == -1)
		return (-1);
	*v = 0;
	for (; start < s->p; start++) {
		if (*start < '0' || *start > '9')
			return (scan_fail(s, "not a whole number"));
		*v = *v * 10 + (uint64_t)(*start - '0');
	}
	return (0);
}

/* One member of a record. */
static int
record_member_cb(struct scan *s, const struct triage_str *k, void *arg)
{
	static const char *const types[TRIAGE_TYPES] = {
		[TRIAGE_MISMATCH] = "mismatch",
		[TRIAGE_SHADOW_ERROR] = "shadow_error",
		[TRIAGE_MATCH] = "match"
	};
	struct rec_ctx		*c = arg;
	struct triage_record	*r = c->rec;
	struct triage_str	 v;
	uint64_t		 u;
	int			 i;

	switch (k->len ? k->p[0] : 0) {
	case 't':
		if (is(k, "type")) {
			if (scan_text(s, c->pp, &v) == -1)
				return (-1);
			for (i = 0; i < TRIAGE_TYPES && !is(&v, types[i]); i++)
				;
			if (i == TRIAGE_TYPES)
				return (scan_fail(s, "unknown record type"));
			r->type = (enum triage_type)i;
			c->has |= HAS_TYPE;
			return (0);
		}
		if (is(k, "time")) {
			if (scan_text(s, c->pp, &v) == -1)
				return (-1);
			if (diff_time_parse(v.p, v.len, &r->time_us) == -1)
				return (scan_fail(s, "time is not RFC 3339"));
			c->has |= HAS_TIME;
			return (0);
		}
		break;
	case 'i':
		if (is(k, "id")) {
			c->has |= HAS_ID;
			return (scan_text(s, c->pp, &r->id));
		}
		if (is(k, "instance"))
			return (scan_text(s, c->pp, &r->instance));
		break;
	case 'c':
		if (is(k, "config")) {
			c->has |= HAS_CONFIG;
			return (scan_uint(s, &u));
		}
		break;
	case 'r':
		if (is(k, "route")) {
			if (scan_text(s, c->pp, &r->route) == -1)
				return (-1);
			if (r->route.len == 0)
				return (scan_fail(s, "route is empty"));
			c->has |= HAS_ROUTE;
			return (0);
		}
		break;
	case 'm':
		if (is(k, "method")) {
			c->has |= HAS_METHOD;
			return (scan_text(s, c->pp, &v));
		}
		break;
	case 'u':
		if (is(k, "uri")) {
			c->has |= HAS_URI;
			return (scan_text(s, c->pp, &r->uri));
		}
		break;
	case 'p':
		if (is(k, "primary")) {
			c->has |= HAS_PRIMARY;
			return (scan_container(s, '{'));
		}
		break;
	case 's':
		if (is(k, "shadow")) {
			c->has |= HAS_SHADOW;
			return (scan_object(s, shadow_member_cb, c));
		}
		break;
	case 'd':
		if (is(k, "diffs")) {
			c->has |= HAS_DIFFS;
			return (scan_diffs(s, c->pp, &r->ndiffs));
		}
		if (is(k, "diffs_omitted"))
			return (scan_uint(s, &r->diffs_omitted));
		break;
	case 'f':
		if (is(k, "forgiven")) {
			c->has |= HAS_FORGIVEN;
			return (scan_container(s, '{'));
		}
		break;
	case 'n':
		if (is(k, "notes")) {
			c->has |= HAS_NOTES;
			return (scan_container(s, '['));
		}
		break;
	}
	/* A member of a newer schema: checked as JSON, then ignored. */
	return (scan_value(s, SCAN_DEPTH));
}

/* Parses one line of a divergence log into REC. */
int
triage_parse(struct triage_parser *pp, const char *line, size_t len,
    struct triage_record *rec, const char **reason)
{
	struct scan	 s = { line, line + len, NULL };
	struct rec_ctx	 c = { pp, rec, 0 };

	/* Decoded strings are never longer than the line. */
	if (pp->text_cap < len + 1) {
		free(pp->text);
		pp->text_cap = len + 1 > 4096 ? len + 1 : 4096;
		pp->text = xcalloc(1, pp->text_cap);
	}
	pp->text_len = 0;
	memset(rec, 0, sizeof(*rec));
	scan_ws(&s);
	if (s.p == s.end) {
		*reason = "empty line";
		return (-1);
	}
	if (*s.p != '{') {
		*reason = "not a JSON object";
		return (-1);
	}
	if (scan_object(&s, record_member_cb, &c) == -1) {
		*reason = s.why;
		return (-1);
	}
	scan_ws(&s);
	if (s.p != s.end) {
		*reason = "data after the JSON object";
		return (-1);
	}
	if (c.has != HAS_ALL) {
		*reason = "a required field is missing";
		return (-1);
	}
	rec->diffs = pp->diffs;
	if (rec->type == TRIAGE_SHADOW_ERROR && rec->error.p == NULL) {
		*reason = "a shadow_error without shadow.error";
		return (-1);
	}
	return (0);
}

/* Formats US (microseconds since the epoch) as RFC 3339 UTC. */
void
triage_time_format(int64_t us, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 t;
	int64_t		 frac = us % 1000000;

	if (frac < 0)
		frac += 1000000;
	t = (time_t)((us - frac) / 1000000);
	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)frac);
}
