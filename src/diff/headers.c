/*
 * Headers: names compare case-insensitively, a header that appears
 * several times compares as the ordered list of its values, and values
 * compare exactly once surrounding whitespace is cut, except media types
 * (Content-Type), whose type, subtype and parameter names ignore case
 * and whose parameters are a set: "application/json; charset=utf-8"
 * equals "application/json;charset=UTF-8" (a charset's value ignores
 * case too; other parameter values do not). A JSON type's charset=utf-8
 * is dropped: JSON is UTF-8 and defines no charset (RFC 8259 11).
 *
 * Never compared: hop-by-hop and framing headers, those a Connection
 * header names, the ignore_headers list, and Content-Encoding when both
 * bodies were decoded (the bodies are then compared decoded, so the
 * coding is transport, as Content-Length is). Volatile headers (Date,
 * trace ids, ...: volatile_headers) compare by presence only: their
 * values are not compared, but one side without them is a difference.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "diff-int.h"

#define MT_MAX_PARAMS	16	/* more: the value compares exactly */
#define MT_MAX_VALUE	256	/* longer parameter: the same */

static const char *const never_compared[] = {
	"connection", "keep-alive", "transfer-encoding", "content-length",
	"te", "trailer", "upgrade"
};

struct hent {
	const char	*name;
	size_t		 nlen;
	const char	*value;	/* trimmed */
	size_t		 vlen;
	enum side	 side;
	size_t		 idx;
};

struct mt_param {
	const char	*name;
	size_t		 nlen;
	const char	*value;
	size_t		 vlen;
};

struct media_type {
	const char	*type;	/* "type/subtype" */
	size_t		 tlen;
	struct mt_param	 params[MT_MAX_PARAMS];
	size_t		 nparams;
};

/* Whether C is an HTTP token character (RFC 9110 tchar). */
static int
hdr_tchar(int c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' &&
	    strchr("!#$%&'*+-.^_`|~", c) != NULL));
}

/* Cuts spaces and tabs from both ends of [*S, *S+*LEN). */
static void
hdr_trim(const char **s, size_t *len)
{
	while (*len > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
}

/* Orders entries by name, then side, then position. */
static int
hdr_entcmp(const void *va, const void *vb)
{
	const struct hent	*a = va, *b = vb;
	int			 c;

	if ((c = dx_casecmp(a->name, a->nlen, b->name, b->nlen)) != 0)
		return (c);
	if (a->side != b->side)
		return (a->side < b->side ? -1 : 1);
	return (a->idx < b->idx ? -1 : a->idx > b->idx);
}

static const char	*mt_value(const struct mt_param *, char *, size_t *);

/* Whether the type of M is application/json or a +json type. */
static int
mt_json(const struct media_type *m)
{
	if (dx_eqcase(m->type, m->tlen, "application/json", 16))
		return (1);
	return (m->tlen > 5 && dx_eqcase(m->type + m->tlen - 5, 5, "+json", 5) &&
	    memchr(m->type, '/', m->tlen - 5) != NULL);
}

/*
 * Whether PA is a charset=utf-8 that says nothing: RFC 8259 section 11
 * defines no charset for JSON, which is UTF-8 (Go's encoders leave it
 * out, many Rust frameworks add it).
 */
static int
mt_json_utf8(const struct media_type *m, const struct mt_param *pa)
{
	char		 buf[MT_MAX_VALUE];
	const char	*v;
	size_t		 len;

	return (mt_json(m) && dx_eqcase(pa->name, pa->nlen, "charset", 7) &&
	    (v = mt_value(pa, buf, &len)) != NULL &&
	    (dx_eqcase(v, len, "utf-8", 5) || dx_eqcase(v, len, "utf8", 4)));
}

/* Parses a media type; -1 if it is not one we can compare by parts. */
static int
mt_parse(const char *s, size_t len, struct media_type *m)
{
	const char	*p = s, *end = s + len;
	struct mt_param	*pa;

	m->nparams = 0;
	m->type = p;
	while (p < end && hdr_tchar((unsigned char)*p))
		p++;
	if (p == m->type || p == end || *p != '/')
		return (-1);
	for (p++; p < end && hdr_tchar((unsigned char)*p); p++)
		;
	if (p[-1] == '/')
		return (-1);
	m->tlen = (size_t)(p - m->type);
	for (;;) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end)
			return (0);
		if (*p++ != ';')
			return (-1);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end || *p == ';')
			continue;	/* an empty parameter */
		if (m->nparams == MT_MAX_PARAMS)
			return (-1);
		pa = &m->params[m->nparams++];
		pa->name = p;
		while (p < end && hdr_tchar((unsigned char)*p))
			p++;
		pa->nlen = (size_t)(p - pa->name);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (pa->nlen == 0 || p == end || *p++ != '=')
			return (-1);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		pa->value = p;
		if (p < end && *p == '"') {
			for (p++; p < end && *p != '"'; p++)
				if (*p == '\\' && p + 1 < end)
					p++;
			if (p == end)
				return (-1);
			p++;
		} else {
			while (p < end && hdr_tchar((unsigned char)*p))
				p++;
		}
		pa->vlen = (size_t)(p - pa->value);
		if (mt_json_utf8(m, pa))
			m->nparams--;
	}
}

/* A parameter's value unquoted (into BUF), or NULL if too long. */
static const char *
mt_value(const struct mt_param *pa, char *buf, size_t *len)
{
	size_t	 i, n = 0;

	if (pa->vlen == 0 || pa->value[0] != '"') {
		*len = pa->vlen;
		return (pa->value);
	}
	for (i = 1; i + 1 < pa->vlen; i++) {
		if (pa->value[i] == '\\')
			i++;
		if (n == MT_MAX_VALUE)
			return (NULL);
		buf[n++] = pa->value[i];
	}
	*len = n;
	return (buf);
}

/* Whether two parameters are equal; -1 if that cannot be decided. */
static int
mt_param_equal(const struct mt_param *a, const struct mt_param *b)
{
	char		 abuf[MT_MAX_VALUE], bbuf[MT_MAX_VALUE];
	const char	*av, *bv;
	size_t		 alen, blen;

	if (!dx_eqcase(a->name, a->nlen, b->name, b->nlen))
		return (0);
	if ((av = mt_value(a, abuf, &alen)) == NULL ||
	    (bv = mt_value(b, bbuf, &blen)) == NULL)
		return (-1);
	if (dx_eqcase(a->name, a->nlen, "charset", 7))
		return (dx_eqcase(av, alen, bv, blen));
	return (dx_memeq(av, alen, bv, blen));
}

/* Whether two media types are equal (see the top of this file). */
static int
media_type_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	struct media_type	 x, y;
	size_t			 i, j;
	int			 used[MT_MAX_PARAMS] = { 0 }, eq;

	if (mt_parse(a, alen, &x) == -1 || mt_parse(b, blen, &y) == -1)
		return (dx_memeq(a, alen, b, blen));
	if (!dx_eqcase(x.type, x.tlen, y.type, y.tlen) ||
	    x.nparams != y.nparams)
		return (0);
	for (i = 0; i < x.nparams; i++) {
		for (j = 0; j < y.nparams; j++) {
			if (used[j])
				continue;
			if ((eq = mt_param_equal(&x.params[i],
			    &y.params[j])) == -1)
				return (dx_memeq(a, alen, b, blen));
			if (eq)
				break;
		}
		if (j == y.nparams)
			return (0);
		used[j] = 1;
	}
	return (1);
}

/* Whether a media type is JSON: application/json or any +json type. */
int
media_type_is_json(const char *s, size_t len)
{
	struct media_type	 m;

	hdr_trim(&s, &len);
	if (mt_parse(s, len, &m) == -1)
		return (0);
	return (mt_json(&m));
}

/* The first value of header NAME, trimmed; 0 if absent. */
int
header_find(const struct diff_response *r, const char *name,
    const char **value, size_t *len)
{
	size_t	 i;

	for (i = 0; i < r->nheaders; i++) {
		if (dx_eqcase(r->headers[i].name, r->headers[i].name_len,
		    name, strlen(name))) {
			*value = r->headers[i].value;
			*len = r->headers[i].value_len;
			hdr_trim(value, len);
			return (1);
		}
	}
	return (0);
}

/* Whether a Connection header of either side lists NAME. */
static int
hdr_connection_lists(const struct diff_response *a,
    const struct diff_response *b, const char *name, size_t nlen)
{
	const struct diff_response	*r;
	const char			*v, *tok, *end;
	size_t				 i, tlen;
	int				 s;

	for (s = 0; s < 2; s++) {
		r = s == 0 ? a : b;
		for (i = 0; i < r->nheaders; i++) {
			if (!dx_eqcase(r->headers[i].name,
			    r->headers[i].name_len, "connection", 10))
				continue;
			v = r->headers[i].value;
			end = v + r->headers[i].value_len;
			while (v < end) {
				tok = v;
				while (v < end && *v != ',')
					v++;
				tlen = (size_t)(v - tok);
				hdr_trim(&tok, &tlen);
				if (dx_eqcase(tok, tlen, name, nlen))
					return (1);
				if (v < end)
					v++;
			}
		}
	}
	return (0);
}

/* Whether header NAME is never compared. */
static int
hdr_skipped(const struct diff_response *a, const struct diff_response *b,
    const char *name, size_t nlen, int skip_encoding)
{
	size_t	 i;

	for (i = 0; i < sizeof(never_compared) / sizeof(never_compared[0]);
	    i++)
		if (dx_eqcase(name, nlen, never_compared[i],
		    strlen(never_compared[i])))
			return (1);
	if (nlen >= 6 && dx_eqcase(name, 6, "proxy-", 6))
		return (1);
	if (skip_encoding && dx_eqcase(name, nlen, "content-encoding", 16))
		return (1);
	return (hdr_connection_lists(a, b, name, nlen));
}

/* Writes one side's values: a string, or an array if several. */
static void
hdr_put_values(struct dbuf *b, const struct hent *v, size_t n)
{
	size_t	 i;

	if (n == 1) {
		dbuf_add_jstring(b, v[0].value, v[0].vlen);
		return;
	}
	dbuf_addc(b, '[');
	for (i = 0; i < n; i++) {
		if (i > 0)
			dbuf_addc(b, ',');
		dbuf_add_jstring(b, v[i].value, v[i].vlen);
	}
	dbuf_addc(b, ']');
}

/* Compares one header's values: NA of the primary's, NB of the shadow's. */
static void
hdr_compare_one(struct diff_result *res, const struct diff_rules *r,
    const struct hent *a, size_t na, const struct hent *b, size_t nb)
{
	const struct hent	*h = na > 0 ? a : b;
	struct diff_entry	*e;
	struct dbuf		 buf;
	char			*lname;
	size_t			 i;
	int			 mt, eq = (na == nb);

	mt = dx_eqcase(h->name, h->nlen, "content-type", 12);
	for (i = 0; eq && i < na; i++) {
		if (mt)
			eq = media_type_equal(a[i].value, a[i].vlen,
			    b[i].value, b[i].vlen);
		else
			eq = dx_memeq(a[i].value, a[i].vlen, b[i].value,
			    b[i].vlen);
	}
	if (eq)
		return;
	lname = dx_strndup(h->name, h->nlen);
	for (i = 0; i < h->nlen; i++)
		if (lname[i] >= 'A' && lname[i] <= 'Z')
			lname[i] += 'a' - 'A';
	for (i = 0; i < r->nheaders; i++) {
		if (strcmp(r->headers[i], lname) == 0) {
			result_forgive(res, r->header_names[i], 1);
			free(lname);
			return;
		}
	}
	/* Volatile values differ every time: not counted as forgiven. */
	if (na > 0 && nb > 0 && rules_header_volatile(r, lname, h->nlen)) {
		free(lname);
		return;
	}
	e = result_add(res, KIND_HEADER, na == 0 ? OP_ADDED : nb == 0 ?
	    OP_REMOVED : OP_CHANGED, lname, h->nlen);
	free(lname);
	if (e == NULL)
		return;
	memset(&buf, 0, sizeof(buf));
	if (na > 0) {
		hdr_put_values(&buf, a, na);
		result_set_value(e, SIDE_PRIMARY, buf.p, buf.len, 0);
		buf.len = 0;
	}
	if (nb > 0) {
		hdr_put_values(&buf, b, nb);
		result_set_value(e, SIDE_SHADOW, buf.p, buf.len, 0);
	}
	dbuf_free(&buf);
}

/*
 * Compares the headers of A (primary) and B (shadow); SKIP_ENCODING
 * leaves Content-Encoding out (both bodies were decoded).
 */
void
headers_compare(struct diff_result *res, const struct diff_rules *r,
    const struct diff_response *a, const struct diff_response *b,
    int skip_encoding)
{
	const struct diff_response	*resp;
	struct hent			*ents, *h;
	size_t				 n = 0, i, j, na, s;

	ents = dx_reallocarray(NULL, a->nheaders + b->nheaders, sizeof(*ents));
	for (s = 0; s < 2; s++) {
		resp = s == 0 ? a : b;
		for (i = 0; i < resp->nheaders; i++) {
			h = &ents[n];
			h->name = resp->headers[i].name;
			h->nlen = resp->headers[i].name_len;
			hdr_trim(&h->name, &h->nlen);
			if (hdr_skipped(a, b, h->name, h->nlen, skip_encoding))
				continue;
			h->value = resp->headers[i].value;
			h->vlen = resp->headers[i].value_len;
			hdr_trim(&h->value, &h->vlen);
			h->side = s == 0 ? SIDE_PRIMARY : SIDE_SHADOW;
			h->idx = i;
			n++;
		}
	}
	qsort(ents, n, sizeof(*ents), hdr_entcmp);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && dx_casecmp(ents[i].name,
		    ents[i].nlen, ents[j].name, ents[j].nlen) == 0; j++)
			;
		for (na = 0; i + na < j && ents[i + na].side == SIDE_PRIMARY;
		    na++)
			;
		hdr_compare_one(res, r, &ents[i], na, &ents[i + na],
		    j - i - na);
	}
	free(ents);
}
