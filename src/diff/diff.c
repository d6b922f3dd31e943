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

/* Compares two decoded bodies, parsing into the documents D. */
static void
diff_bodies(struct diff_result *res, const struct diff_rules *r,
    const struct diff_response *pa, const struct diff_response *pb,
    const struct body *a, const struct body *b, struct jdoc *d)
{
	enum media	 ma, mb;
	uint32_t	 prefix = 0;
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
	    json_stream_equal(a->data, a->len, b->data, b->len, &d[0], &d[1],
	    &prefix))
		return;
	oka = a->len == 0 || diff_parse(res, SIDE_PRIMARY, a, ma, &d[0]) == 0;
	okb = b->len == 0 || diff_parse(res, SIDE_SHADOW, b, mb, &d[1]) == 0;
	if (oka && okb)
		compare_json(res, r, a->len > 0 ? &d[0] : NULL,
		    b->len > 0 ? &d[1] : NULL, prefix);
	else
		diff_bytes(res, r, a, b);
}

/* A scratch for diff_compare_scratch(); see diff.h. */
struct diff_scratch *
diff_scratch_new(void)
{
	return (dx_calloc(1, sizeof(struct diff_scratch)));
}

/* Frees a scratch and the buffers it kept (NULL is fine). */
void
diff_scratch_free(struct diff_scratch *s)
{
	if (s == NULL)
		return;
	json_free(&s->doc[0]);
	json_free(&s->doc[1]);
	free(s);
}

/* Compares PRIMARY and SHADOW under RULES; see diff.h. */
struct diff_result *
diff_compare(const struct diff_rules *rules, const struct diff_response *a,
    const struct diff_response *b, size_t cap)
{
	return (diff_compare_scratch(NULL, rules, a, b, cap));
}

/* Compares PRIMARY and SHADOW under RULES with buffers of S; see diff.h. */
struct diff_result *
diff_compare_scratch(struct diff_scratch *s, const struct diff_rules *rules,
    const struct diff_response *a, const struct diff_response *b, size_t cap)
{
	struct diff_scratch	 local;
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
	if (s == NULL)
		memset(&local, 0, sizeof(local));
	diff_bodies(res, rules, a, b, &ba, &bb, s != NULL ? s->doc :
	    local.doc);
	/* What a large document needed is not held on to. */
	for (n = 0; n < 2; n++)
		if (s == NULL || json_size(&s->doc[n]) > SCRATCH_KEEP)
			json_free(s != NULL ? &s->doc[n] : &local.doc[n]);
	body_clear(&ba);
	body_clear(&bb);
	return (res);
}
