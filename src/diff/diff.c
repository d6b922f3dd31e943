/*
 * diff_compare(): status (status_equal may forgive it), then headers,
 * then bodies.
 *
 * Bodies are compared as JSON when both are JSON: a JSON media type
 * (application/json, any +json), or none and a body that parses. An
 * empty body is then "no document", so an empty body against `null` is
 * one difference at "" (added or removed). Byte-identical bodies are
 * equal without parsing; JSON bodies whose token streams match (same
 * key order) are equal without building trees. Anything else goes
 * byte for byte: a side that is not JSON, a JSON side that does not
 * parse (noted "unparseable"), a side cut at the cap ("truncated"; the
 * captured prefixes are compared) or still content-encoded.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff-int.h"

/* How a side's media type classifies its body. */
enum media {
	MEDIA_JSON,	/* a JSON media type */
	MEDIA_NONE,	/* no Content-Type: JSON if it parses */
	MEDIA_OTHER
};

/* The JSON classification of a response's media type. */
static enum media
diff_media(const struct diff_response *r)
{
	const char	*v;
	size_t		 len;

	if (!header_find(r, "content-type", &v, &len))
		return (MEDIA_NONE);
	return (media_type_is_json(v, len) ? MEDIA_JSON : MEDIA_OTHER);
}

/* The first ignore pattern that matches the whole document, or NULL. */
static const struct pattern *
diff_root_ignored(const struct diff_rules *r)
{
	size_t	 i;

	for (i = 0; i < r->npats; i++)
		if (r->pats[i].kind == RULE_IGNORE &&
		    pattern_matches(&r->pats[i], pattern_start(&r->pats[i])))
			return (&r->pats[i]);
	return (NULL);
}

/* Compares the bodies as bytes, unless the whole document is ignored. */
static void
diff_bytes(struct diff_result *res, const struct diff_rules *r,
    const struct body *a, const struct body *b)
{
	const struct pattern	*p;

	if ((p = diff_root_ignored(r)) != NULL) {
		if (body_compare_bytes(res, a, b, 0))
			result_forgive(res, p->name, 1);
		return;
	}
	body_compare_bytes(res, a, b, 1);
}

/*
 * Parses a side's body as JSON; returns 0, or -1 (noted unparseable if
 * the media type said JSON).
 */
static int
diff_parse(struct diff_result *res, enum side side, const struct body *b,
    enum media media, struct jdoc *d)
{
	if (json_parse(d, b->data, b->len) == 0)
		return (0);
	if (media == MEDIA_JSON)
		result_note(res, side, "unparseable", "%s at byte %zu",
		    d->err, d->erroff);
	return (-1);
}

/* Compares two decoded bodies. */
static void
diff_bodies(struct diff_result *res, const struct diff_rules *r,
    const struct diff_response *pa, const struct diff_response *pb,
    const struct body *a, const struct body *b)
{
	struct jdoc	 da, db;
	enum media	 ma, mb;
	int		 oka, okb;

	if (a->len == b->len && (a->len == 0 ||
	    memcmp(a->data, b->data, a->len) == 0))
		return;
	ma = diff_media(pa);
	mb = diff_media(pb);
	if (a->truncated || b->truncated || !a->decoded || !b->decoded ||
	    ma == MEDIA_OTHER || mb == MEDIA_OTHER) {
		diff_bytes(res, r, a, b);
		return;
	}
	if (a->len > 0 && b->len > 0 &&
	    json_stream_equal(a->data, a->len, b->data, b->len))
		return;
	memset(&da, 0, sizeof(da));
	memset(&db, 0, sizeof(db));
	oka = a->len == 0 || diff_parse(res, SIDE_PRIMARY, a, ma, &da) == 0;
	okb = b->len == 0 || diff_parse(res, SIDE_SHADOW, b, mb, &db) == 0;
	if (oka && okb)
		compare_json(res, r, a->len > 0 ? &da : NULL,
		    b->len > 0 ? &db : NULL);
	else
		diff_bytes(res, r, a, b);
	json_free(&da);
	json_free(&db);
}

/* Compares PRIMARY and SHADOW under RULES; see diff.h. */
struct diff_result *
diff_compare(const struct diff_rules *rules, const struct diff_response *a,
    const struct diff_response *b, size_t cap)
{
	struct diff_result	*res;
	struct diff_entry	*e;
	struct body		 ba, bb;
	const char		*name;
	char			 num[16];
	int			 n;

	res = dx_calloc(1, sizeof(*res));
	if (cap == 0)
		cap = DIFF_BODY_CAP;
	if (a->status != b->status &&
	    (name = rules_status_equal(rules, a->status, b->status)) != NULL)
		result_forgive(res, name, 1);
	else if (a->status != b->status &&
	    (e = result_add(res, KIND_STATUS, OP_CHANGED, "", 0)) != NULL) {
		n = snprintf(num, sizeof(num), "%d", a->status);
		result_set_value(e, SIDE_PRIMARY, num, (size_t)n, 0);
		n = snprintf(num, sizeof(num), "%d", b->status);
		result_set_value(e, SIDE_SHADOW, num, (size_t)n, 0);
	}
	body_decode(res, SIDE_PRIMARY, a, cap, &ba);
	body_decode(res, SIDE_SHADOW, b, cap, &bb);
	headers_compare(res, rules, a, b, ba.decoded && bb.decoded);
	diff_bodies(res, rules, a, b, &ba, &bb);
	body_clear(&ba);
	body_clear(&bb);
	return (res);
}
