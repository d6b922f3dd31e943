/*
 * Redaction: what a record, or anything else that shows a request or a
 * difference to people, must not show. One immutable object holds the
 * whole policy (header names, query parameter names, JSON Pointer
 * patterns of body values) and every place that shows a value asks it,
 * so a new view (the dashboard) hides what the log hides by calling the
 * same functions.
 *
 * Headers are hidden whole; query parameters keep their name and lose
 * their value; JSON values at or below a pattern, or a member whose
 * name holds a secret word, become the string "[redacted]" and the rest of the document is written back compact,
 * numbers in their original text. What cannot be parsed where a
 * pattern could apply is hidden whole: a cut value may hold the secret
 * in its first bytes.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff-int.h"

#define REDACTED	"[redacted]"

/*
 * Header names holding any of these words, in any case, are always
 * hidden: credentials (Authorization, Proxy-Authorization and the
 * X-Forwarded- copies gateways add), challenges and their answers
 * (WWW-Authenticate, Authentication-Info), session cookies both ways and
 * the usual API key and token headers (X-Api-Key, X-Auth-Token,
 * X-CSRF-Token).
 */
static const char *const redact_words[] = {
	"authorization", "authenticate", "authentication", "cookie",
	"token", "secret", "password", "api-key", "api_key", "apikey"
};

/*
 * JSON member names holding any of these words, folded to lower case
 * with '_' and '-' left out, have their values hidden (when the policy
 * says so): accessToken, refresh_token, Client-Secret, userPassword,
 * apiKey. "key" alone is not one: it names ordinary data too often.
 */
static const char *const redact_body_words[] = {
	"password", "passwd", "secret", "token", "apikey"
};

/* Headers whose value is a URI: their query is redacted like the uri. */
static const char *const redact_uri_headers[] = {
	"location", "content-location", "referer"
};

struct diff_redact {
	char		**headers;	/* lower case, whole names */
	size_t		  nheaders;
	char		**query;	/* parameter names, as written */
	size_t		  nquery;
	struct pattern	 *pats;
	size_t		  npats;
	int		  words;	/* hide members named redact_body_words */
};

/* A policy that hides the headers of redact_words and nothing else. */
struct diff_redact *
diff_redact_new(void)
{
	return (dx_calloc(1, sizeof(struct diff_redact)));
}

/* Frees a policy (NULL is fine). */
void
diff_redact_free(struct diff_redact *r)
{
	size_t	 i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nheaders; i++)
		free(r->headers[i]);
	free(r->headers);
	for (i = 0; i < r->nquery; i++)
		free(r->query[i]);
	free(r->query);
	for (i = 0; i < r->npats; i++)
		pattern_clear(&r->pats[i]);
	free(r->pats);
	free(r);
}

/* A copy of R, to add to (a route's policy from [log]'s). */
struct diff_redact *
diff_redact_copy(const struct diff_redact *r)
{
	struct diff_redact	*c = diff_redact_new();
	size_t			 i;

	for (i = 0; i < r->nheaders; i++)
		diff_redact_add_header(c, r->headers[i]);
	for (i = 0; i < r->nquery; i++)
		diff_redact_add_query(c, r->query[i]);
	c->pats = dx_reallocarray(NULL, r->npats, sizeof(*c->pats));
	for (i = 0; i < r->npats; i++)
		pattern_copy(&c->pats[i], &r->pats[i]);
	c->npats = r->npats;
	c->words = r->words;
	return (c);
}

/* Hides header NAME too, matched whole and in any case. */
void
diff_redact_add_header(struct diff_redact *r, const char *name)
{
	char	*c;

	r->headers = dx_reallocarray(r->headers, r->nheaders + 1,
	    sizeof(*r->headers));
	r->headers[r->nheaders++] = c = dx_strdup(name);
	for (; *c != '\0'; c++)
		*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
}

/* Hides the values of query parameter NAME (matched in any case). */
void
diff_redact_add_query(struct diff_redact *r, const char *name)
{
	r->query = dx_reallocarray(r->query, r->nquery + 1,
	    sizeof(*r->query));
	r->query[r->nquery++] = dx_strdup(name);
}

/*
 * Hides the JSON values at or below the patterns of LIST (the syntax of
 * the diff rules). Either all are added or, with -1 and *CAUSE, none.
 */
int
diff_redact_add_paths(struct diff_redact *r, const char *list, char **cause)
{
	struct pattern	*add = NULL, *p;
	size_t		 nadd = 0, len, i;
	char		*word;
	int		 rc;

	while ((rc = pointer_token(&list, &word, &len, cause)) == 1) {
		if (r->npats + nadd == DIFF_MAX_PATTERNS) {
			*cause = dx_asprintf("at most %d patterns",
			    DIFF_MAX_PATTERNS);
			free(word);
			rc = -1;
			break;
		}
		add = dx_reallocarray(add, nadd + 1, sizeof(*add));
		p = &add[nadd++];
		memset(p, 0, sizeof(*p));
		p->name = dx_strdup(word);	/* pattern_copy wants one */
		rc = pattern_compile(p, word, len, cause);
		free(word);
		if (rc == -1)
			break;
	}
	if (rc == -1) {
		for (i = 0; i < nadd; i++)
			pattern_clear(&add[i]);
		free(add);
		return (-1);
	}
	r->pats = dx_reallocarray(r->pats, r->npats + nadd, sizeof(*r->pats));
	if (nadd > 0)
		memcpy(r->pats + r->npats, add, nadd * sizeof(*add));
	r->npats += nadd;
	free(add);
	return (0);
}

/* Hides (ON 1) or not the JSON members named by redact_body_words. */
void
diff_redact_set_words(struct diff_redact *r, int on)
{
	r->words = on;
}

/* Whether R hides JSON values at some paths. */
int
diff_redact_has_paths(const struct diff_redact *r)
{
	return (r->npats > 0 || r->words);
}

/*
 * Whether member name S (LEN bytes) holds a word of redact_body_words,
 * in any case, '_' and '-' skipped. No copy: this runs per member.
 */
static int
redact_body_word(const char *s, size_t len)
{
	const char	*w;
	size_t		 i, j, k;
	int		 c;

	for (i = 0; i < len; i++) {
		/* Most bytes start no word: skip them without the loop. */
		c = s[i] | 0x20;
		if (c != 'p' && c != 's' && c != 't' && c != 'a')
			continue;
		for (k = 0; k < sizeof(redact_body_words) /
		    sizeof(redact_body_words[0]); k++) {
			w = redact_body_words[k];
			for (j = i; *w != '\0' && j < len; j++) {
				if (s[j] == '_' || s[j] == '-')
					continue;
				c = s[j] >= 'A' && s[j] <= 'Z' ? s[j] + 32 :
				    s[j];
				if (c != *w)
					break;
				w++;
			}
			if (*w == '\0')
				return (1);
		}
	}
	return (0);
}

/* Whether header NAME (LEN bytes) is hidden whole. */
int
diff_redact_header(const struct diff_redact *r, const char *name,
    size_t len)
{
	size_t	 i, j, w;

	for (i = 0; i < r->nheaders; i++)
		if (dx_eqcase(name, len, r->headers[i], strlen(r->headers[i])))
			return (1);
	for (i = 0; i < sizeof(redact_words) / sizeof(redact_words[0]); i++) {
		w = strlen(redact_words[i]);
		for (j = 0; j + w <= len; j++)
			if (dx_eqcase(name + j, w, redact_words[i], w))
				return (1);
	}
	return (0);
}

/* The value of hex digit C, or -1. */
static int
redact_hex(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* Whether a word of decoded name S (LEN bytes) in brackets is hidden. */
static int
redact_query_words(const struct diff_redact *r, const char *s, size_t len)
{
	size_t	 i, start, k;

	for (start = i = 0; i <= len; i++) {
		if (i < len && s[i] != '[' && s[i] != ']')
			continue;
		for (k = 0; i > start && k < r->nquery; k++)
			if (dx_eqcase(s + start, i - start, r->query[k],
			    strlen(r->query[k])))
				return (1);
		start = i + 1;
	}
	return (0);
}

/* Whether parameter name S (LEN bytes, percent-encoded) is hidden. */
static int
redact_query_name(const struct diff_redact *r, const char *s, size_t len)
{
	char	 buf[128];
	size_t	 i, n = 0;
	int	 hi, lo;

	if (len >= sizeof(buf))
		return (0);	/* longer than any name worth a list */
	for (i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len &&
		    (hi = redact_hex(s[i + 1])) != -1 &&
		    (lo = redact_hex(s[i + 2])) != -1) {
			buf[n++] = (char)(hi << 4 | lo);
			i += 2;
		} else
			buf[n++] = s[i] == '+' ? ' ' : s[i];
	}
	for (i = 0; i < r->nquery; i++)
		if (dx_eqcase(buf, n, r->query[i], strlen(r->query[i])))
			return (1);
	/* PHP's and Rails' user[password] and password[]: each word. */
	return (memchr(buf, '[', n) != NULL &&
	    redact_query_words(r, buf, n));
}

/*
 * Appends query Q (LEN bytes: name=value pairs between '&', or ';' as
 * older parsers also split on) to B, the values of hidden names
 * replaced. Returns 1 if any was.
 */
static int
redact_query_add(const struct diff_redact *r, struct dbuf *b, const char *q,
    size_t len)
{
	const char	*end = q + len, *amp, *eq;
	int		 hid = 0;

	while (q < end) {
		for (amp = q; amp < end && *amp != '&' && *amp != ';'; amp++)
			continue;
		eq = memchr(q, '=', (size_t)(amp - q));
		if (eq != NULL && eq + 1 < amp &&
		    redact_query_name(r, q, (size_t)(eq - q))) {
			dbuf_add(b, q, (size_t)(eq + 1 - q));
			dbuf_adds(b, REDACTED);
			hid = 1;
		} else
			dbuf_add(b, q, (size_t)(amp - q));
		if (amp < end)
			dbuf_addc(b, *amp);
		q = amp + 1;
	}
	return (hid);
}

/*
 * URI S (LEN bytes) with the values of hidden query parameters replaced
 * by "[redacted]", names kept; with FORM, S is a query alone (a body of
 * application/x-www-form-urlencoded). NULL if nothing is hidden; else
 * allocated, NUL-terminated, its length in *OUTLEN.
 */
char *
diff_redact_uri(const struct diff_redact *r, const char *s, size_t len,
    int form, size_t *outlen)
{
	struct dbuf	 b;
	const char	*q, *end;
	int		 hid;

	if (r->nquery == 0)
		return (NULL);
	q = s;
	if (!form) {
		if ((q = memchr(s, '?', len)) == NULL)
			return (NULL);
		q++;
	}
	/* A form body's '#' is data: only a URI has a fragment. */
	if (form || (end = memchr(q, '#', (size_t)(s + len - q))) == NULL)
		end = s + len;
	memset(&b, 0, sizeof(b));
	dbuf_add(&b, s, (size_t)(q - s));
	hid = redact_query_add(r, &b, q, (size_t)(end - q));
	dbuf_add(&b, end, (size_t)(s + len - end));
	if (!hid) {
		dbuf_free(&b);
		return (NULL);
	}
	*outlen = b.len;
	return (dbuf_finish(&b));
}

/*
 * What to show for the value of header NAME: NULL, the value itself;
 * else an allocated, NUL-terminated replacement ("[redacted]", or a URI
 * whose query is redacted), its length in *OUTLEN.
 */
char *
diff_redact_header_value(const struct diff_redact *r, const char *name,
    size_t nlen, const char *value, size_t vlen, size_t *outlen)
{
	size_t	 i;

	if (diff_redact_header(r, name, nlen)) {
		*outlen = sizeof(REDACTED) - 1;
		return (dx_strdup(REDACTED));
	}
	for (i = 0; i < sizeof(redact_uri_headers) /
	    sizeof(redact_uri_headers[0]); i++)
		if (dx_eqcase(name, nlen, redact_uri_headers[i],
		    strlen(redact_uri_headers[i])))
			return (diff_redact_uri(r, value, vlen, 0, outlen));
	return (NULL);
}

/* The walk of one document: the patterns' states, a row per depth. */
struct redact_walk {
	const struct diff_redact *r;
	const struct jdoc	*d;
	struct dbuf		*b;
	uint64_t		*masks;	/* [depth * npats + k] */
	int			 hid;
};

/*
 * Steps the states of row DEPTH by segment SEG into row DEPTH + 1.
 * Returns 1 if a pattern then matches, -1 if every state is dead, 0
 * otherwise.
 */
static int
redact_step(const struct diff_redact *r, uint64_t *masks, size_t depth,
    const char *seg, size_t len)
{
	const uint64_t	*m = masks + depth * r->npats;
	uint64_t	*next = masks + (depth + 1) * r->npats;
	size_t		 k;
	int		 alive = r->words;

	/* An index is digits: no word can match it. */
	if (r->words && redact_body_word(seg, len))
		return (1);
	for (k = 0; k < r->npats; k++) {
		next[k] = m[k] == 0 ? 0 :
		    pattern_step(&r->pats[k], m[k], seg, len);
		if (pattern_matches(&r->pats[k], next[k]))
			return (1);
		alive |= next[k] != 0;
	}
	return (alive ? 0 : -1);
}

/*
 * Writes node I, whose states are row DEPTH, with the values at its
 * matched paths hidden. The caller has checked that no pattern matches
 * node I itself and some state is alive.
 */
static void
redact_node(struct redact_walk *w, uint32_t i, size_t depth)
{
	const struct jnode	*n = &w->d->nodes[i];
	uint32_t		 k, idx = 0;
	char			 num[24];
	const char		*seg;
	size_t			 len;
	int			 st;

	if (n->type == J_STRING || n->type == J_NUMBER) {
		/* Not json_write: no allocation per leaf of a large body. */
		if (n->type == J_STRING)
			dbuf_add_jstring(w->b, n->s, n->len);
		else
			dbuf_add(w->b, n->s, n->len);
		return;
	}
	if (n->type != J_OBJECT && n->type != J_ARRAY) {
		dbuf_adds(w->b, n->type == J_NULL ? "null" :
		    n->type == J_TRUE ? "true" : "false");
		return;
	}
	dbuf_addc(w->b, n->type == J_OBJECT ? '{' : '[');
	for (k = i + 1; k < n->end; k = w->d->nodes[k].end, idx++) {
		if (idx > 0)
			dbuf_addc(w->b, ',');
		if (n->type == J_OBJECT) {
			seg = w->d->nodes[k].s;
			len = w->d->nodes[k].len;
			dbuf_add_jstring(w->b, seg, len);
			dbuf_addc(w->b, ':');
			k++;	/* the key's value */
		} else {
			len = (size_t)snprintf(num, sizeof(num), "%u", idx);
			seg = num;
		}
		st = redact_step(w->r, w->masks, depth, seg, len);
		if (st == 1) {
			dbuf_adds(w->b, "\"" REDACTED "\"");
			w->hid = 1;
		} else if (st == -1)
			json_write(w->b, w->d, k, SIZE_MAX);
		else
			redact_node(w, k, depth + 1);
	}
	dbuf_addc(w->b, n->type == J_OBJECT ? '}' : ']');
}

/*
 * Writes JSON text S with the values the patterns match hidden, row 0
 * of MASKS being the states at S's root (already checked: no pattern
 * matches there, some state is alive). Returns 1 if anything was
 * hidden, 0 if not, -1 if S is not JSON (B is then untouched).
 */
static int
redact_text(const struct diff_redact *r, uint64_t *masks,
    const unsigned char *s, size_t len, struct dbuf *b)
{
	struct redact_walk	 w;
	struct jdoc		 d;

	memset(&d, 0, sizeof(d));	/* json_parse reuses what it finds */
	if (json_parse(&d, s, len) == -1 || d.n == 0) {
		if (d.nodes != NULL)
			json_free(&d);
		return (-1);
	}
	w.r = r;
	w.d = &d;
	w.b = b;
	w.masks = masks;
	w.hid = 0;
	redact_node(&w, 0, 0);
	json_free(&d);
	return (w.hid);
}

/* Room for the patterns' states, a row per depth of a document. */
static uint64_t *
redact_masks(const struct diff_redact *r, size_t depth)
{
	return (dx_reallocarray(NULL, (depth + 1) * r->npats,
	    sizeof(uint64_t)));
}

/*
 * JSON text S (LEN bytes) with the values at or below the patterns
 * replaced by "[redacted]", written back compact. Returns 1 with the
 * text in *OUT (allocated, NUL-terminated) and its length in *OUTLEN; 0
 * if nothing is hidden (show S as it is); -1 if S is not JSON.
 */
int
diff_redact_json(const struct diff_redact *r, const unsigned char *s,
    size_t len, char **out, size_t *outlen)
{
	struct dbuf	 b;
	uint64_t	*masks;
	size_t		 k;
	int		 rc;

	if (r->npats == 0 && !r->words)
		return (0);
	masks = redact_masks(r, DIFF_JSON_MAX_DEPTH + 1);
	for (k = 0; k < r->npats; k++) {
		masks[k] = pattern_start(&r->pats[k]);
		if (pattern_matches(&r->pats[k], masks[k])) {
			/* The pattern "" (or a lone globstar): the whole. */
			free(masks);
			*out = dx_strdup("\"" REDACTED "\"");
			*outlen = strlen(*out);
			return (1);
		}
	}
	memset(&b, 0, sizeof(b));
	rc = redact_text(r, masks, s, len, &b);
	free(masks);
	if (rc != 1) {
		dbuf_free(&b);
		return (rc);
	}
	*outlen = b.len;
	*out = dbuf_finish(&b);
	return (1);
}

/*
 * Steps row 0 of MASKS, from the document's root, along pointer PATH
 * (escaped) and leaves the states at its end in row 0. Returns 1 if a
 * pattern matched PATH or a path above it, -1 if every state died, else
 * 0.
 */
static int
redact_path(const struct diff_redact *r, uint64_t *masks, const char *path)
{
	struct dbuf	 seg;
	const char	*s, *end;
	size_t		 k;
	int		 st = 0;

	for (k = 0; k < r->npats; k++) {
		masks[k] = pattern_start(&r->pats[k]);
		if (pattern_matches(&r->pats[k], masks[k]))
			return (1);
	}
	memset(&seg, 0, sizeof(seg));
	for (s = path; st == 0 && *s == '/'; s = end) {
		if ((end = strchr(s + 1, '/')) == NULL)
			end = s + strlen(s);
		seg.len = 0;
		for (s++; s < end; s++) {
			if (*s == '~' && s + 1 < end && (s[1] == '0' ||
			    s[1] == '1'))
				dbuf_addc(&seg, *++s == '0' ? '~' : '/');
			else
				dbuf_addc(&seg, *s);
		}
		st = redact_step(r, masks, 0, seg.p != NULL ? seg.p : "",
		    seg.len);
		memcpy(masks, masks + r->npats, r->npats * sizeof(*masks));
	}
	dbuf_free(&seg);
	return (st);
}

/* Replaces side S of E by TEXT (LEN bytes of JSON). */
static void
redact_set(struct diff_entry *e, int s, const char *text, size_t len)
{
	free(e->value[s]);
	result_set_value(e, (enum side)s, text, len, 0);
}

/* Hides what R hides in the values of body difference E. */
static void
redact_body_entry(const struct diff_redact *r, struct diff_entry *e,
    uint64_t *masks)
{
	static const char	 hidden[] = "\"" REDACTED "\"";
	struct dbuf		 b;
	int			 s, st, rc;

	st = redact_path(r, masks, e->path);
	if (st == -1)
		return;
	for (s = SIDE_PRIMARY; s <= SIDE_SHADOW; s++) {
		if (e->value[s] == NULL)
			continue;
		rc = 1;
		memset(&b, 0, sizeof(b));
		if (st == 0 && !e->path_cut)
			rc = redact_text(r, masks,
			    (const unsigned char *)e->value[s],
			    e->value_len[s], &b);
		if (rc == 1 && b.len > 0)
			redact_set(e, s, b.p, b.len);
		else if (rc != 0)
			/* Matched, or cut where a pattern may apply. */
			redact_set(e, s, hidden, sizeof(hidden) - 1);
		dbuf_free(&b);
	}
}

/* Hides what R hides in the values of header difference E. */
static void
redact_header_entry(const struct diff_redact *r, struct diff_entry *e)
{
	struct dbuf	 b;
	struct jdoc	 d;
	char		*v;
	size_t		 len;
	int		 s;

	for (s = SIDE_PRIMARY; s <= SIDE_SHADOW; s++) {
		if (e->value[s] == NULL)
			continue;
		/* A header's value is a JSON string (a list if repeated). */
		memset(&d, 0, sizeof(d));	/* json_parse reuses buffers */
		if (json_parse(&d, (const unsigned char *)e->value[s],
		    e->value_len[s]) == -1 || d.n == 0 ||
		    d.nodes[0].type != J_STRING) {
			if (d.nodes != NULL)
				json_free(&d);
			if (diff_redact_header(r, e->path, strlen(e->path)))
				redact_set(e, s, "\"" REDACTED "\"",
				    sizeof(REDACTED) + 1);
			continue;
		}
		v = diff_redact_header_value(r, e->path, strlen(e->path),
		    d.nodes[0].s, d.nodes[0].len, &len);
		json_free(&d);
		if (v == NULL)
			continue;
		memset(&b, 0, sizeof(b));
		dbuf_add_jstring(&b, v, len);
		redact_set(e, s, b.p, b.len);
		dbuf_free(&b);
		free(v);
	}
}

/*
 * Hides in RES's values what R hides: hidden headers' values, the query
 * values of URI headers, JSON values at or below R's patterns. Each
 * difference stays at its path; only values change.
 */
void
diff_result_redact(struct diff_result *res, const struct diff_redact *r)
{
	uint64_t	*masks = NULL;
	size_t		 i;

	for (i = 0; i < res->ndiffs; i++) {
		if (res->diffs[i].kind == KIND_HEADER)
			redact_header_entry(r, &res->diffs[i]);
		else if (res->diffs[i].kind == KIND_BODY &&
		    diff_redact_has_paths(r)) {
			/* Only a result with body differences pays for it. */
			if (masks == NULL)
				masks = redact_masks(r,
				    DIFF_JSON_MAX_DEPTH + 1);
			redact_body_entry(r, &res->diffs[i], masks);
		}
	}
	free(masks);
}
