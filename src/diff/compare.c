/*
 * Two parsed JSON documents compared under the rules.
 *
 * The walk keeps the current path as a stack of segments and, for each
 * rule pattern still able to match, its NFA state (pointer.c); a node
 * asks which patterns match it only when some are alive, so a document
 * outside every pattern costs nothing for the rules. The path's text is
 * built only when a difference is recorded.
 *
 * A comparison runs in one of two modes: reporting (record differences
 * and forgiven counts) or quiet (stop at the first difference, record
 * nothing). Quiet mode answers "would these differ?": for an ignored
 * subtree (is there anything to forgive?), and for candidate pairs of
 * elements of an unordered array.
 *
 * Unordered arrays are matched as multisets: every element gets a hash
 * that equal elements share under the rules (ignored members left out,
 * null, [] and {} alike where null_equals_empty holds, and so on); the
 * shadow's elements are sorted by hash and each of the primary's takes
 * the first equal one among those with its hash.
 *
 * Inside a shape_only subtree (c->shape > 0) scalars of one JSON type
 * are equal, objects still compare member names, and arrays compare as
 * the sets of their elements' shapes (an empty array fits any): a
 * value difference there is forgiven, counted once for the subtree.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff-int.h"

/* Hash values of the unordered matching. */
#define H_NULL		0x6e756c6cULL
#define H_FALSE		0x66616c73ULL
#define H_TRUE		0x74727565ULL
#define H_NUMBER	0x6e756d62ULL	/* all numbers, under a tolerance */
#define H_CONT		0x636f6e74ULL	/* containers; null where it is [] */
#define H_IGNORED	0x69676e6fULL
#define H_TIME		0x74696d65ULL
#define H_STRING	0x73747269ULL	/* any string, shape_only */
#define H_LIKE		0x6c696b65ULL	/* a string ignore_like fits */

/*
 * shape_only arrays: candidates of one hash tried for an element, and
 * the values compared in shape_only subtrees per comparison, past which
 * elements are no longer matched (a rule error; they are reported): a
 * bound on set matching over nested arrays, which could otherwise cost
 * SHAPE_CANDIDATES to the power of the depth.
 */
#define SHAPE_CANDIDATES	16
#define SHAPE_WORK_MAX		4000000

struct seg {
	const char	*s;	/* a key (decoded), or NULL for an index */
	size_t		 len;
	uint32_t	 index;
};

/* A rule pattern still alive on the current path, and its NFA state. */
struct pstate {
	uint32_t	 pat;
	uint64_t	 mask;
};

struct cmp {
	const struct diff_rules	*rules;
	const struct jdoc	*doc[2];
	struct diff_result	*res;
	int			 quiet;		/* > 0: record nothing */
	int			 forgave;	/* quiet: a rule forgave */
	int			 noignore;	/* > 0: inside an ignored
						   subtree, finding out if
						   it differs at all */
	struct seg		*segs;		/* the current path */
	size_t			 depth;
	size_t			 capsegs;
	struct pstate		*ps;		/* states, per path level */
	size_t			 nps;
	size_t			 capps;
	size_t			 lo;		/* the current path's states */
	size_t			 hi;
	enum rule_mode		 mode[RULE_NKINDS];
	int			 shape;		/* > 0: in a shape_only
						   subtree */
	int			 shape_forgave;	/* a value differed there */
	size_t			 shape_work;	/* values compared there */
	struct shape_scratch	 scratch;	/* ignore_like's regexes */
	uint32_t		 prefix;	/* nodes equal token for token */
};

/* Where to return to after a segment. */
struct mark {
	size_t	 lo;
	size_t	 hi;
	size_t	 nps;
};

/* The first pattern of each kind that matches the current path. */
struct match {
	const struct pattern	*pat[RULE_NKINDS];
};

/* An element of an unordered array, for matching. */
struct elem {
	uint64_t	 hash;
	uint32_t	 node;
	uint32_t	 index;
	int		 used;
};

static int	cmp_value(struct cmp *, uint32_t, uint32_t, int);
static uint64_t	cmp_hash(struct cmp *, int, uint32_t);

#define NODE(c, side, i)	(&(c)->doc[(side)]->nodes[(i)])

/* Appends segment (key S, or INDEX if S is NULL) to the path. */
static void
cmp_push(struct cmp *c, const char *s, size_t len, uint32_t index,
    struct mark *mk)
{
	const struct pattern	*p;
	char			 num[16];
	size_t			 i, n;
	uint64_t		 mask;

	mk->lo = c->lo;
	mk->hi = c->hi;
	mk->nps = c->nps;
	if (c->depth == c->capsegs) {
		c->capsegs = c->capsegs == 0 ? 64 : c->capsegs * 2;
		c->segs = dx_reallocarray(c->segs, c->capsegs,
		    sizeof(*c->segs));
	}
	c->segs[c->depth].s = s;
	c->segs[c->depth].len = len;
	c->segs[c->depth].index = index;
	c->depth++;
	if (c->lo == c->hi) {
		c->lo = c->hi = c->nps;
		return;
	}
	if (s == NULL) {
		len = (size_t)snprintf(num, sizeof(num), "%u", index);
		s = num;
	}
	n = c->hi - c->lo;
	if (c->nps + n > c->capps) {
		c->capps = (c->nps + n) * 2;
		c->ps = dx_reallocarray(c->ps, c->capps, sizeof(*c->ps));
	}
	for (i = mk->lo; i < mk->hi; i++) {
		p = &c->rules->pats[c->ps[i].pat];
		if ((mask = pattern_step(p, c->ps[i].mask, s, len)) == 0)
			continue;
		c->ps[c->nps].pat = c->ps[i].pat;
		c->ps[c->nps].mask = mask;
		c->nps++;
	}
	c->lo = mk->nps;
	c->hi = c->nps;
}

/* Removes the last segment. */
static void
cmp_pop(struct cmp *c, const struct mark *mk)
{
	c->depth--;
	c->lo = mk->lo;
	c->hi = mk->hi;
	c->nps = mk->nps;
}

/* Which patterns match the current path. */
static void
cmp_match(const struct cmp *c, struct match *m)
{
	const struct pattern	*p;
	size_t			 i;

	memset(m, 0, sizeof(*m));
	for (i = c->lo; i < c->hi; i++) {
		p = &c->rules->pats[c->ps[i].pat];
		if (m->pat[p->kind] == NULL &&
		    pattern_matches(p, c->ps[i].mask))
			m->pat[p->kind] = p;
	}
	if (c->noignore)
		m->pat[RULE_IGNORE] = NULL;
}

/* Whether rule KIND holds at the current path. */
static int
cmp_rule_on(const struct cmp *c, const struct match *m, int kind)
{
	return (c->mode[kind] == MODE_ALL ||
	    (c->mode[kind] == MODE_PATHS && m->pat[kind] != NULL));
}

/* Counts a difference forgiven by rule NAME; 0, the values are equal. */
static int
cmp_forgive_name(struct cmp *c, const char *name)
{
	if (c->quiet)
		c->forgave = 1;
	else
		result_forgive(c->res, name, 1);
	return (0);
}

/* Counts a difference forgiven by rule KIND at the current path. */
static int
cmp_forgive(struct cmp *c, const struct match *m, int kind)
{
	return (cmp_forgive_name(c, c->mode[kind] == MODE_ALL ?
	    rules_kind_name(kind) : m->pat[kind]->name));
}

/* Writes the current path as a JSON Pointer. */
static void
cmp_path(const struct cmp *c, struct dbuf *b)
{
	size_t	 i;

	for (i = 0; i < c->depth; i++) {
		dbuf_addc(b, '/');
		if (c->segs[i].s != NULL)
			pointer_escape(b, c->segs[i].s, c->segs[i].len);
		else
			dbuf_printf(b, "%u", c->segs[i].index);
	}
}

/* Records a difference at the current path; 1, the values differ. */
static int
cmp_report_values(struct cmp *c, enum diff_op op, const uint32_t *a,
    size_t na, const uint32_t *b, size_t nb, int list)
{
	struct diff_entry	*e;
	struct dbuf		 buf;
	const uint32_t		*v;
	size_t			 i, n;
	int			 s, cut;

	if (c->quiet)
		return (1);
	memset(&buf, 0, sizeof(buf));
	cmp_path(c, &buf);
	e = result_add(c->res, KIND_BODY, op, buf.p == NULL ? "" : buf.p,
	    buf.len);
	if (e == NULL) {
		dbuf_free(&buf);
		return (1);
	}
	for (s = SIDE_PRIMARY; s <= SIDE_SHADOW; s++) {
		v = s == SIDE_PRIMARY ? a : b;
		n = s == SIDE_PRIMARY ? na : nb;
		if (n == 0)
			continue;
		buf.len = 0;
		cut = 0;
		if (list)
			dbuf_addc(&buf, '[');
		for (i = 0; i < n && !cut; i++) {
			if (i > 0)
				dbuf_addc(&buf, ',');
			cut = json_write(&buf, c->doc[s], v[i], DIFF_VALUE_MAX);
		}
		if (list && !cut)
			dbuf_addc(&buf, ']');
		result_set_value(e, s, buf.p, buf.len, cut);
	}
	dbuf_free(&buf);
	return (1);
}

/* Records a difference between nodes A and B (either may be J_NONE). */
static int
cmp_report(struct cmp *c, enum diff_op op, uint32_t a, uint32_t b)
{
	return (cmp_report_values(c, op, &a, a != J_NONE, &b, b != J_NONE,
	    0));
}

/*
 * Notes that ignore_like pattern P (NULL: shape_only) could not be
 * applied to SIDE's value.
 */
static void
cmp_rule_error(struct cmp *c, const struct pattern *p, int side,
    const char *why)
{
	struct dbuf	 buf;

	memset(&buf, 0, sizeof(buf));
	cmp_path(c, &buf);
	dbuf_addc(&buf, '\0');
	result_rule_error(c->res, side, p != NULL ? p->name : "shape_only",
	    why, buf.p);
	dbuf_free(&buf);
}

/*
 * The ignore_like pattern at the current path whose shape both strings
 * A and B (either may be NULL: any shape then fits it) have, or NULL. A
 * match that fails (a regex limit) counts as not fitting, and is noted.
 */
static const struct pattern *
cmp_like(struct cmp *c, const struct jnode *a, const struct jnode *b)
{
	const struct pattern	*p;
	const struct jnode	*v;
	const char		*why;
	size_t			 i;
	int			 s, rc;

	for (i = c->lo; i < c->hi; i++) {
		p = &c->rules->pats[c->ps[i].pat];
		if (p->kind != RULE_LIKE || !pattern_matches(p, c->ps[i].mask))
			continue;
		for (s = SIDE_PRIMARY, rc = 1; s <= SIDE_SHADOW && rc == 1;
		    s++) {
			if ((v = s == SIDE_PRIMARY ? a : b) == NULL)
				continue;
			why = NULL;
			rc = shape_match(p->shape, &c->scratch, v->s, v->len,
			    &why);
			if (rc == -1)
				cmp_rule_error(c, p, s, why);
		}
		if (rc == 1)
			return (p);
	}
	return (NULL);
}

/* A value difference inside a shape_only subtree: forgiven. */
static int
cmp_shape_forgive(struct cmp *c)
{
	if (c->quiet)
		c->forgave = 1;
	else
		c->shape_forgave = 1;
	return (0);
}

/* Whether node I of SIDE is an empty array or object. */
static int
cmp_empty(const struct cmp *c, int side, uint32_t i)
{
	const struct jnode	*n = NODE(c, side, i);

	return ((n->type == J_ARRAY || n->type == J_OBJECT) && n->n == 0);
}

/* A value that only one side has (MEMBER: an object's key). */
static int
cmp_missing(struct cmp *c, uint32_t a, uint32_t b, const struct match *m,
    int member)
{
	int	 side = a != J_NONE ? SIDE_PRIMARY : SIDE_SHADOW;

	if (member && side == SIDE_SHADOW && cmp_rule_on(c, m, RULE_ADDED))
		return (cmp_forgive(c, m, RULE_ADDED));
	if (member && cmp_rule_on(c, m, RULE_MISSING) &&
	    json_is_default(c->doc[side], side == SIDE_PRIMARY ? a : b))
		return (cmp_forgive(c, m, RULE_MISSING));
	return (cmp_report(c, a == J_NONE ? OP_ADDED : OP_REMOVED, a, b));
}

/*
 * Whether A and B (either may be J_NONE) are scalars of one type with
 * equal bytes: equal under any rules, with nothing to count, so their
 * path is not needed. Not in a shape_only subtree, where every value
 * compared counts towards SHAPE_WORK_MAX.
 */
static inline int
cmp_scalar_eq(const struct cmp *c, uint32_t a, uint32_t b)
{
	const struct jnode	*x, *y;

	if (a == J_NONE || b == J_NONE || c->shape)
		return (0);
	x = NODE(c, 0, a);
	y = NODE(c, 1, b);
	return (x->type == y->type && (x->type <= J_TRUE ||
	    ((x->type == J_STRING || x->type == J_NUMBER) &&
	    dx_memeq(x->s, x->len, y->s, y->len))));
}

/* Compares two arrays element by element. */
static int
cmp_array(struct cmp *c, uint32_t a, uint32_t b)
{
	struct mark	 mk;
	uint32_t	 ia = a + 1, ib = b + 1, i;
	uint32_t	 ea = NODE(c, 0, a)->end, eb = NODE(c, 1, b)->end;
	int		 differs = 0;

	for (i = 0; ia < ea || ib < eb; i++) {
		if (ia < ea && ib < eb && cmp_scalar_eq(c, ia, ib)) {
			ia = NODE(c, 0, ia)->end;
			ib = NODE(c, 1, ib)->end;
			continue;
		}
		cmp_push(c, NULL, 0, i, &mk);
		differs |= cmp_value(c, ia < ea ? ia : J_NONE,
		    ib < eb ? ib : J_NONE, 0);
		cmp_pop(c, &mk);
		if (differs && c->quiet)
			return (1);
		if (ia < ea)
			ia = NODE(c, 0, ia)->end;
		if (ib < eb)
			ib = NODE(c, 1, ib)->end;
	}
	return (differs);
}

/* Mixes a hash, for sums that must not cancel. */
static inline uint64_t
cmp_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return (h);
}

/*
 * The hash of node I of SIDE at the current path (see cmp_hash), whose
 * patterns are M.
 */
static uint64_t
cmp_hash_node(struct cmp *c, int side, uint32_t i, const struct match *m)
{
	const struct jnode	*n = NODE(c, side, i), *k;
	struct instant		 t;
	struct match		 mm;
	struct mark		 mk;
	uint64_t		 h;
	uint32_t		 j, idx;
	int			 unordered;

	switch (n->type) {
	case J_NULL:
		return (cmp_rule_on(c, m, RULE_NULL) ? H_CONT : H_NULL);
	case J_FALSE:
		return (c->shape ? H_TRUE : H_FALSE);
	case J_TRUE:
		return (H_TRUE);
	case J_NUMBER:
		if (c->rules->tolerance > 0 || c->shape)
			return (H_NUMBER);
		return (num_hash(n->s, n->len));
	case J_STRING:
		if (c->shape)
			return (H_STRING);
		/* Any string a pattern here fits may equal any other. */
		if (c->lo < c->hi && cmp_like(c, side == SIDE_PRIMARY ? n :
		    NULL, side == SIDE_SHADOW ? n : NULL) != NULL)
			return (H_LIKE);
		if (cmp_rule_on(c, m, RULE_TIME) &&
		    instant_parse(n->s, n->len, &t) == 0)
			return (H_TIME ^ instant_hash(&t));
		return (dx_hash(n->s, n->len, 0));
	case J_ARRAY:
		/* An empty array fits any: one hash for all arrays. */
		if (c->shape)
			return (H_CONT);
		h = H_CONT;
		unordered = m->pat[RULE_UNORDERED] != NULL;
		for (j = i + 1, idx = 0; j < n->end; j = NODE(c, side, j)->end,
		    idx++) {
			cmp_push(c, NULL, 0, idx, &mk);
			cmp_match(c, &mm);
			/* In order, an element's hash includes its index. */
			if (mm.pat[RULE_IGNORE] == NULL)
				h += cmp_mix(cmp_hash(c, side, j) + (unordered ?
				    0 : idx * 0x9e3779b97f4a7c15ULL));
			cmp_pop(c, &mk);
		}
		return (h);
	default:
		h = H_CONT;
		for (j = i + 1; j < n->end; j = NODE(c, side, j + 1)->end) {
			k = NODE(c, side, j);
			cmp_push(c, k->s, k->len, 0, &mk);
			cmp_match(c, &mm);
			if (mm.pat[RULE_IGNORE] == NULL &&
			    !cmp_rule_on(c, &mm, RULE_ADDED) &&
			    (!cmp_rule_on(c, &mm, RULE_MISSING) ||
			    !json_is_default(c->doc[side], j + 1)))
				h += cmp_mix(((uint64_t)k->n << 32 | k->len) ^
				    cmp_mix(cmp_hash(c, side, j + 1)));
			cmp_pop(c, &mk);
		}
		return (h);
	}
}

/*
 * The hash of node I of SIDE at the current path: equal values (under
 * the rules) have equal hashes. Containers sum their children's mixed
 * hashes, leaving out ignored members and, where missing_equals_default
 * or allow_added hold, default or maybe added ones; an empty container
 * hashes as null does where null_equals_empty holds. In a shape_only
 * subtree scalars hash by type and arrays alike.
 */
static uint64_t
cmp_hash(struct cmp *c, int side, uint32_t i)
{
	struct match	 m;
	uint64_t	 h;

	cmp_match(c, &m);
	if (m.pat[RULE_IGNORE] != NULL)
		return (H_IGNORED);
	if (c->shape || !cmp_rule_on(c, &m, RULE_SHAPE))
		return (cmp_hash_node(c, side, i, &m));
	c->shape++;
	h = cmp_hash_node(c, side, i, &m);
	c->shape--;
	return (h);
}

/* Orders elements by hash, then position. */
static int
cmp_elemcmp(const void *va, const void *vb)
{
	const struct elem	*a = va, *b = vb;

	if (a->hash != b->hash)
		return (a->hash < b->hash ? -1 : 1);
	return (a->index < b->index ? -1 : a->index > b->index);
}

/* Orders elements by position. */
static int
cmp_elemcmp_index(const void *va, const void *vb)
{
	const struct elem	*a = va, *b = vb;

	return (a->index < b->index ? -1 : a->index > b->index);
}

/* Lists the elements of array I of SIDE, hashed. */
static struct elem *
cmp_elems(struct cmp *c, int side, uint32_t i)
{
	const struct jnode	*n = NODE(c, side, i);
	struct elem		*el;
	struct mark		 mk;
	uint32_t		 j, idx;

	el = dx_reallocarray(NULL, n->n, sizeof(*el));
	for (j = i + 1, idx = 0; j < n->end; j = NODE(c, side, j)->end,
	    idx++) {
		cmp_push(c, NULL, 0, idx, &mk);
		el[idx].hash = cmp_hash(c, side, j);
		cmp_pop(c, &mk);
		el[idx].node = j;
		el[idx].index = idx;
		el[idx].used = 0;
	}
	return (el);
}

/*
 * Whether elements A and B are equal, at the primary's index; in
 * reporting mode, what rules forgave to find so is counted.
 */
static int
cmp_pair_equal(struct cmp *c, const struct elem *a, const struct elem *b)
{
	struct mark	 mk;
	int		 differs, forgave = c->forgave;

	cmp_push(c, NULL, 0, a->index, &mk);
	c->quiet++;
	c->forgave = 0;
	differs = cmp_value(c, a->node, b->node, 0);
	c->quiet--;
	if (!differs && c->forgave && !c->quiet)
		cmp_value(c, a->node, b->node, 0);	/* to count them */
	c->forgave |= forgave;
	cmp_pop(c, &mk);
	return (!differs);
}

/*
 * Compares two arrays as multisets: what is only on one side is
 * removed (the primary's index) or added (the shadow's).
 */
static int
cmp_unordered(struct cmp *c, uint32_t a, uint32_t b)
{
	struct elem	*ea, *eb, *lo, key;
	struct mark	 mk;
	size_t		 na = NODE(c, 0, a)->n, nb = NODE(c, 1, b)->n, i, l, h;
	int		 differs = 0, forgave = c->forgave;

	/* Equal in order, the usual case, needs no hashing. */
	if (na == nb) {
		c->quiet++;
		c->forgave = 0;
		differs = cmp_array(c, a, b);
		c->quiet--;
		if (!differs && c->forgave && !c->quiet)
			cmp_array(c, a, b);	/* to count them */
		c->forgave |= forgave;
		if (!differs)
			return (0);
		differs = 0;
	}
	ea = cmp_elems(c, SIDE_PRIMARY, a);
	eb = cmp_elems(c, SIDE_SHADOW, b);
	qsort(eb, nb, sizeof(*eb), cmp_elemcmp);
	for (i = 0; i < na; i++) {
		/* The first of the shadow's elements with this hash. */
		key.hash = ea[i].hash;
		for (l = 0, h = nb; l < h; ) {
			if (eb[(l + h) / 2].hash < key.hash)
				l = (l + h) / 2 + 1;
			else
				h = (l + h) / 2;
		}
		for (lo = eb + l; lo < eb + nb && lo->hash == key.hash; lo++) {
			if (!lo->used && cmp_pair_equal(c, &ea[i], lo)) {
				lo->used = ea[i].used = 1;
				break;
			}
		}
		if (!ea[i].used && c->quiet) {
			differs = 1;
			goto out;
		}
	}
	for (i = 0; i < na; i++) {
		if (ea[i].used)
			continue;
		cmp_push(c, NULL, 0, ea[i].index, &mk);
		differs |= cmp_value(c, ea[i].node, J_NONE, 0);
		cmp_pop(c, &mk);
	}
	/* The shadow's leftovers, in the shadow's order. */
	qsort(eb, nb, sizeof(*eb), cmp_elemcmp_index);
	for (i = 0; i < nb; i++) {
		if (eb[i].used)
			continue;
		cmp_push(c, NULL, 0, eb[i].index, &mk);
		differs |= cmp_value(c, J_NONE, eb[i].node, 0);
		cmp_pop(c, &mk);
		if (differs && c->quiet)
			break;
	}
out:
	free(ea);
	free(eb);
	return (differs);
}

/* The members of one object not yet compared, by key. */
struct keytab {
	uint32_t	*keys;	/* each member's key node, in order */
	uint32_t	*slots;	/* member number + 1, open addressing */
	uint8_t		*used;
	uint32_t	 mask;
	uint32_t	 n;
};

/* The members of a keytab that share a key, as value nodes. */
struct keyhits {
	uint32_t	*v;
	size_t		 n;
	uint32_t	 small[4];	/* v, unless more */
};

/* Indexes the members of SIDE's object from key node FROM to END. */
static void
keytab_build(struct cmp *c, int side, uint32_t from, uint32_t end,
    struct keytab *t)
{
	uint32_t	 k, j, size, n = 0;

	for (k = from; k < end; k = NODE(c, side, k + 1)->end)
		n++;
	for (size = 8; size < n * 2; size *= 2)
		;
	/* One allocation: keys, slots, then the used flags. */
	t->keys = dx_calloc(1, (n + size) * sizeof(uint32_t) + n);
	t->slots = t->keys + n;
	t->used = (uint8_t *)(t->slots + size);
	t->mask = size - 1;
	t->n = 0;
	for (k = from; k < end; k = NODE(c, side, k + 1)->end) {
		for (j = NODE(c, side, k)->n & t->mask; t->slots[j] != 0;
		    j = (j + 1) & t->mask)
			;
		t->slots[j] = t->n + 1;
		t->keys[t->n++] = k;
	}
}

/* Frees a key table. */
static void
keytab_free(struct keytab *t)
{
	free(t->keys);
}

/* Orders member numbers. */
static int
keytab_ordcmp(const void *va, const void *vb)
{
	uint32_t	 a = *(const uint32_t *)va, b = *(const uint32_t *)vb;

	return (a < b ? -1 : a > b);
}

/*
 * Finds the members of T whose key is KEY (a key node of the other side
 * or the same) and marks them used: their value nodes, in document
 * order, in H (keyhits_free() it).
 */
static void
keytab_find(struct cmp *c, int side, const struct keytab *t,
    const struct jnode *key, struct keyhits *h)
{
	const struct jnode	*k;
	uint32_t		 j;
	size_t			 i;

	h->v = h->small;
	h->n = 0;
	for (j = key->n & t->mask; t->slots[j] != 0; j = (j + 1) & t->mask) {
		k = NODE(c, side, t->keys[t->slots[j] - 1]);
		if (k->n != key->n || k->len != key->len ||
		    memcmp(k->s, key->s, k->len) != 0)
			continue;
		if (h->n == sizeof(h->small) / sizeof(h->small[0]) &&
		    h->v == h->small) {
			h->v = dx_reallocarray(NULL, h->n * 2, sizeof(*h->v));
			memcpy(h->v, h->small, sizeof(h->small));
		} else if (h->v != h->small && (h->n & (h->n - 1)) == 0)
			h->v = dx_reallocarray(h->v, h->n * 2, sizeof(*h->v));
		h->v[h->n++] = t->slots[j] - 1;
	}
	/* Probing may wrap around the table: put them in order. */
	if (h->n > 1)
		qsort(h->v, h->n, sizeof(*h->v), keytab_ordcmp);
	for (i = 0; i < h->n; i++) {
		t->used[h->v[i]] = 1;
		h->v[i] = t->keys[h->v[i]] + 1;
	}
}

/* Frees what keytab_find() allocated. */
static void
keyhits_free(struct keyhits *h)
{
	if (h->v != h->small)
		free(h->v);
}

/*
 * A key that appears more than once on a side: equal only if both
 * sides have the same values for it in the same order; otherwise one
 * "duplicate" difference listing every value of each side.
 */
static int
cmp_duplicates(struct cmp *c, const uint32_t *a, size_t na,
    const uint32_t *b, size_t nb)
{
	struct match	 m;
	size_t		 i;
	int		 differs = (na != nb), forgave = c->forgave;

	c->quiet++;
	c->forgave = 0;
	for (i = 0; !differs && i < na; i++)
		differs = cmp_value(c, a[i], b[i], 1);
	c->quiet--;
	if (!differs && c->forgave && !c->quiet)
		for (i = 0; i < na; i++)
			cmp_value(c, a[i], b[i], 1);	/* to count them */
	c->forgave |= forgave;
	if (!differs)
		return (0);
	cmp_match(c, &m);
	if (m.pat[RULE_IGNORE] != NULL)
		return (cmp_forgive_name(c, m.pat[RULE_IGNORE]->name));
	if (na == 0 && cmp_rule_on(c, &m, RULE_ADDED))
		return (cmp_forgive(c, &m, RULE_ADDED));
	return (cmp_report_values(c, OP_DUPLICATE, a, na, b, nb, 1));
}

/*
 * Compares the members of two objects from key nodes KA and KB on,
 * whatever their order: the primary's in its order, then what only the
 * shadow has in the shadow's order.
 */
static int
cmp_object_rest(struct cmp *c, uint32_t a, uint32_t b, uint32_t ka,
    uint32_t kb)
{
	const struct jnode	*key;
	struct keytab		 ta, tb;
	struct keyhits		 ha, hb;
	struct mark		 mk;
	uint32_t		 o, ea = NODE(c, 0, a)->end;
	int			 differs = 0, dups;

	dups = NODE(c, 0, a)->flags & JF_DUPKEYS;
	keytab_build(c, SIDE_SHADOW, kb, NODE(c, 1, b)->end, &tb);
	if (dups)
		keytab_build(c, SIDE_PRIMARY, ka, ea, &ta);
	for (; ka < ea && !(differs && c->quiet);
	    ka = NODE(c, 0, ka + 1)->end) {
		key = NODE(c, 0, ka);
		if (key->flags & JF_DUP)
			continue;	/* with its first occurrence */
		keytab_find(c, SIDE_SHADOW, &tb, key, &hb);
		if (dups)
			keytab_find(c, SIDE_PRIMARY, &ta, key, &ha);
		else {
			ha.v = ha.small;
			ha.small[0] = ka + 1;
			ha.n = 1;
		}
		cmp_push(c, key->s, key->len, 0, &mk);
		if (ha.n == 1 && hb.n <= 1)
			differs |= cmp_value(c, ha.v[0],
			    hb.n > 0 ? hb.v[0] : J_NONE, 1);
		else
			differs |= cmp_duplicates(c, ha.v, ha.n, hb.v, hb.n);
		cmp_pop(c, &mk);
		keyhits_free(&ha);
		keyhits_free(&hb);
	}
	for (o = 0; o < tb.n && !(differs && c->quiet); o++) {
		if (tb.used[o])
			continue;
		key = NODE(c, 1, tb.keys[o]);
		keytab_find(c, SIDE_SHADOW, &tb, key, &hb);
		cmp_push(c, key->s, key->len, 0, &mk);
		if (hb.n == 1)
			differs |= cmp_value(c, J_NONE, hb.v[0], 1);
		else
			differs |= cmp_duplicates(c, NULL, 0, hb.v, hb.n);
		cmp_pop(c, &mk);
		keyhits_free(&hb);
	}
	keytab_free(&tb);
	if (dups)
		keytab_free(&ta);
	return (differs);
}

/* Members left of an object that cmp_object_small() takes. */
#define SMALL_MEMBERS	16

/*
 * cmp_object_rest() for objects without duplicate keys whose shadow has
 * at most SMALL_MEMBERS members left (most objects): a scan of their
 * keys on the stack instead of a table. Returns -1 if not such a pair.
 */
static int
cmp_object_small(struct cmp *c, uint32_t a, uint32_t b, uint32_t ka,
    uint32_t kb)
{
	const struct jnode	*x, *y;
	struct mark		 mk;
	uint32_t		 keys[SMALL_MEMBERS], ea = NODE(c, 0, a)->end;
	uint32_t		 hash[SMALL_MEMBERS];
	uint32_t		 eb = NODE(c, 1, b)->end, n = 0, j, k;
	uint8_t			 used[SMALL_MEMBERS];
	int			 differs = 0;

	for (; kb < eb; kb = NODE(c, 1, kb + 1)->end) {
		if (n == SMALL_MEMBERS)
			return (-1);
		used[n] = 0;
		hash[n] = NODE(c, 1, kb)->n;
		keys[n++] = kb;
	}
	for (k = 0; ka < ea && !(differs && c->quiet);
	    ka = NODE(c, 0, ka + 1)->end) {
		x = NODE(c, 0, ka);
		/* From where the last key was found: orders stay close. */
		for (j = 0; j < n; j++, k = k + 1 == n ? 0 : k + 1) {
			if (hash[k] != x->n || used[k])
				continue;
			y = NODE(c, 1, keys[k]);
			if (dx_memeq(x->s, x->len, y->s, y->len))
				break;
		}
		if (j < n)
			used[k] = 1;
		if (j < n && cmp_scalar_eq(c, ka + 1, keys[k] + 1))
			continue;
		cmp_push(c, x->s, x->len, 0, &mk);
		differs |= cmp_value(c, ka + 1, j < n ? keys[k] + 1 : J_NONE,
		    1);
		cmp_pop(c, &mk);
	}
	for (k = 0; k < n && !(differs && c->quiet); k++) {
		if (used[k])
			continue;
		y = NODE(c, 1, keys[k]);
		cmp_push(c, y->s, y->len, 0, &mk);
		differs |= cmp_value(c, J_NONE, keys[k] + 1, 1);
		cmp_pop(c, &mk);
	}
	return (differs);
}

/*
 * Compares two objects. Members in the same order, the usual case, are
 * walked pairwise; from the first key that differs on, by key.
 */
static int
cmp_object(struct cmp *c, uint32_t a, uint32_t b)
{
	const struct jnode	*x, *y;
	struct mark		 mk;
	uint32_t		 ka = a + 1, kb = b + 1;
	uint32_t		 ea = NODE(c, 0, a)->end;
	uint32_t		 eb = NODE(c, 1, b)->end;
	int			 differs = 0, rest;

	if ((NODE(c, 0, a)->flags | NODE(c, 1, b)->flags) & JF_DUPKEYS)
		return (cmp_object_rest(c, a, b, ka, kb));
	while (ka < ea && kb < eb) {
		x = NODE(c, 0, ka);
		y = NODE(c, 1, kb);
		if (x->n != y->n || !dx_memeq(x->s, x->len, y->s, y->len))
			break;
		if (!cmp_scalar_eq(c, ka + 1, kb + 1)) {
			cmp_push(c, x->s, x->len, 0, &mk);
			differs |= cmp_value(c, ka + 1, kb + 1, 1);
			cmp_pop(c, &mk);
			if (differs && c->quiet)
				return (1);
		}
		ka = NODE(c, 0, ka + 1)->end;
		kb = NODE(c, 1, kb + 1)->end;
	}
	if (ka == ea && kb == eb)
		return (differs);
	if ((rest = cmp_object_small(c, a, b, ka, kb)) == -1)
		rest = cmp_object_rest(c, a, b, ka, kb);
	return (rest | differs);
}

/*
 * Finds, for each element of EA (NA of them, on side SIDE), an element
 * of EB (NB, sorted by hash, of the other side) of the same shape:
 * those without one are unused and the others used.
 */
static void
cmp_shape_partners(struct cmp *c, int side, struct elem *ea, size_t na,
    const struct elem *eb, size_t nb)
{
	const struct elem	*lo;
	struct mark		 mk;
	size_t			 i, l, h, tries;
	int			 saved = c->forgave;

	c->quiet++;
	for (i = 0; i < na; i++) {
		if (c->shape_work > SHAPE_WORK_MAX) {
			cmp_rule_error(c, NULL, side, "work limit reached");
			break;
		}
		for (l = 0, h = nb; l < h; ) {
			if (eb[(l + h) / 2].hash < ea[i].hash)
				l = (l + h) / 2 + 1;
			else
				h = (l + h) / 2;
		}
		cmp_push(c, NULL, 0, ea[i].index, &mk);
		for (lo = eb + l, tries = 0; lo < eb + nb &&
		    lo->hash == ea[i].hash && tries < SHAPE_CANDIDATES;
		    lo++, tries++) {
			if (!(side == SIDE_PRIMARY ?
			    cmp_value(c, ea[i].node, lo->node, 0) :
			    cmp_value(c, lo->node, ea[i].node, 0))) {
				ea[i].used = 1;
				break;
			}
		}
		cmp_pop(c, &mk);
	}
	c->quiet--;
	c->forgave = saved;
}

/*
 * Compares two arrays in a shape_only subtree: as the sets of their
 * elements' shapes, an empty array fitting any. An element whose shape
 * the other side lacks is removed (the primary's) or added (the
 * shadow's), reported for the first element of each hash only.
 */
static int
cmp_shape_array(struct cmp *c, uint32_t a, uint32_t b)
{
	struct elem	*e[2], *sorted;
	struct mark	 mk;
	size_t		 n[2], i, j, k;
	int		 s, differs = 0, forgave = c->forgave;

	n[0] = NODE(c, 0, a)->n;
	n[1] = NODE(c, 1, b)->n;
	if (n[0] == 0 || n[1] == 0)
		return (n[0] != n[1] ? cmp_shape_forgive(c) : 0);
	/* In order first: the usual case, and equal values count nothing. */
	if (n[0] == n[1]) {
		c->quiet++;
		c->forgave = 0;
		differs = cmp_array(c, a, b);
		s = c->forgave;
		c->quiet--;
		c->forgave = forgave;
		if (!differs)
			return (s ? cmp_shape_forgive(c) : 0);
		differs = 0;
	}
	e[0] = cmp_elems(c, SIDE_PRIMARY, a);
	e[1] = cmp_elems(c, SIDE_SHADOW, b);
	for (s = SIDE_PRIMARY; s <= SIDE_SHADOW; s++) {
		sorted = dx_reallocarray(NULL, n[!s], sizeof(*sorted));
		memcpy(sorted, e[!s], n[!s] * sizeof(*sorted));
		qsort(sorted, n[!s], sizeof(*sorted), cmp_elemcmp);
		cmp_shape_partners(c, s, e[s], n[s], sorted, n[!s]);
		free(sorted);
	}
	for (s = SIDE_PRIMARY; s <= SIDE_SHADOW && !(differs && c->quiet);
	    s++) {
		/* The first element of each missing shape, in order. */
		for (i = j = 0; i < n[s]; i++)
			if (!e[s][i].used)
				e[s][j++] = e[s][i];
		qsort(e[s], j, sizeof(*e[s]), cmp_elemcmp);
		for (i = k = 0; i < j; i++)
			if (i == 0 || e[s][i].hash != e[s][i - 1].hash)
				e[s][k++] = e[s][i];
		qsort(e[s], k, sizeof(*e[s]), cmp_elemcmp_index);
		for (i = 0; i < k; i++) {
			cmp_push(c, NULL, 0, e[s][i].index, &mk);
			differs |= s == SIDE_PRIMARY ?
			    cmp_value(c, e[s][i].node, J_NONE, 0) :
			    cmp_value(c, J_NONE, e[s][i].node, 0);
			cmp_pop(c, &mk);
		}
	}
	free(e[0]);
	free(e[1]);
	/* Equal as sets, not in order: values or lengths were forgiven. */
	if (!differs)
		cmp_shape_forgive(c);
	return (differs);
}

/* Compares A and B, neither ignored (see cmp_value). */
static int
cmp_inner(struct cmp *c, uint32_t a, uint32_t b, const struct match *m,
    int member)
{
	const struct jnode	*x, *y;
	const struct pattern	*p;
	struct instant		 ia, ib;

	if (a == J_NONE || b == J_NONE)
		return (cmp_missing(c, a, b, m, member));
	x = NODE(c, 0, a);
	y = NODE(c, 1, b);
	if (!json_same_type(x->type, y->type)) {
		if (cmp_rule_on(c, m, RULE_NULL) &&
		    ((x->type == J_NULL && cmp_empty(c, SIDE_SHADOW, b)) ||
		    (y->type == J_NULL && cmp_empty(c, SIDE_PRIMARY, a))))
			return (cmp_forgive(c, m, RULE_NULL));
		return (cmp_report(c, OP_TYPE, a, b));
	}
	switch (x->type) {
	case J_NULL:
		return (0);
	case J_FALSE:
	case J_TRUE:
		if (x->type == y->type)
			return (0);
		if (c->shape)
			return (cmp_shape_forgive(c));
		return (cmp_report(c, OP_CHANGED, a, b));
	case J_NUMBER:
		if ((x->len == y->len && memcmp(x->s, y->s, x->len) == 0) ||
		    num_equal(x->s, x->len, y->s, y->len))
			return (0);
		if (num_close(x->s, x->len, y->s, y->len,
		    c->rules->tolerance))
			return (cmp_forgive_name(c, "float_tolerance"));
		if (c->shape)
			return (cmp_shape_forgive(c));
		return (cmp_report(c, OP_CHANGED, a, b));
	case J_STRING:
		if (x->len == y->len && memcmp(x->s, y->s, x->len) == 0)
			return (0);
		if (cmp_rule_on(c, m, RULE_TIME) &&
		    instant_parse(x->s, x->len, &ia) == 0 &&
		    instant_parse(y->s, y->len, &ib) == 0 &&
		    instant_equal(&ia, &ib))
			return (cmp_forgive(c, m, RULE_TIME));
		if (c->shape)
			return (cmp_shape_forgive(c));
		if (c->lo < c->hi && (p = cmp_like(c, x, y)) != NULL)
			return (cmp_forgive_name(c, p->name));
		return (cmp_report(c, OP_CHANGED, a, b));
	case J_ARRAY:
		if (c->shape)
			return (cmp_shape_array(c, a, b));
		if (m->pat[RULE_UNORDERED] != NULL)
			return (cmp_unordered(c, a, b));
		return (cmp_array(c, a, b));
	default:
		return (cmp_object(c, a, b));
	}
}

/* Whether a shape_only subtree starts at the current path. */
static inline int
cmp_shape_starts(const struct cmp *c, const struct match *m)
{
	return (c->mode[RULE_SHAPE] != MODE_OFF && !c->shape &&
	    cmp_rule_on(c, m, RULE_SHAPE));
}

/*
 * Compares A and B, neither ignored, in the shape_only subtree that
 * starts here: its value differences count once, as its pattern.
 */
static int
cmp_enter(struct cmp *c, uint32_t a, uint32_t b, const struct match *m,
    int member)
{
	int	 differs, saved = c->shape_forgave;

	c->shape++;
	c->shape_forgave = 0;
	differs = cmp_inner(c, a, b, m, member);
	c->shape--;
	if (c->shape_forgave)
		cmp_forgive(c, m, RULE_SHAPE);
	c->shape_forgave = saved;
	return (differs);
}

/*
 * Compares A (primary) and B (shadow) at the current path; either may
 * be J_NONE, absent (MEMBER: as an object's member). Returns 1 if they
 * differ in a way no rule forgives.
 */
static int
cmp_value(struct cmp *c, uint32_t a, uint32_t b, int member)
{
	static const struct match	 none;	/* no pattern alive */
	struct match			 m;
	int				 differs, forgave;

	/*
	 * The same node on both sides, its subtree closed within the
	 * prefix the token-stream pass found equal: equal under any rules
	 * (rules only forgive differences), so nothing to find or count.
	 */
	if (a == b && a < c->prefix && NODE(c, 0, a)->end < c->prefix &&
	    NODE(c, 1, b)->end < c->prefix)
		return (0);
	if (c->shape)
		c->shape_work++;
	/* Equal scalars, most values, are equal whatever the rules. */
	if (cmp_scalar_eq(c, a, b))
		return (0);
	if (c->lo == c->hi)
		return (cmp_shape_starts(c, &none) ? cmp_enter(c, a, b, &none,
		    member) : cmp_inner(c, a, b, &none, member));
	cmp_match(c, &m);
	if (m.pat[RULE_IGNORE] == NULL)
		return (cmp_shape_starts(c, &m) ? cmp_enter(c, a, b, &m,
		    member) : cmp_inner(c, a, b, &m, member));
	/*
	 * Ignored: forgiven, and counted only if it differs. Quiet, it
	 * tells its caller it forgave only then too: a shape_only array
	 * counts what its elements forgave.
	 */
	forgave = c->forgave;
	c->quiet++;
	c->noignore++;
	differs = cmp_shape_starts(c, &m) ? cmp_enter(c, a, b, &m, member) :
	    cmp_inner(c, a, b, &m, member);
	c->noignore--;
	c->quiet--;
	c->forgave = forgave;
	if (differs && c->quiet)
		c->forgave = 1;
	else if (differs)
		result_forgive(c->res, m.pat[RULE_IGNORE]->name, 1);
	return (0);
}

/*
 * Compares documents A (primary) and B (shadow), either NULL for an
 * empty body, recording into RES; their first PREFIX nodes are equal
 * token for token (json_stream_equal()), 0 if not known. Returns 1 if
 * they differ.
 */
int
compare_json(struct diff_result *res, const struct diff_rules *rules,
    const struct jdoc *a, const struct jdoc *b, uint32_t prefix)
{
	struct cmp	 c;
	size_t		 i;
	int		 differs;

	if (a == NULL && b == NULL)
		return (0);
	memset(&c, 0, sizeof(c));
	c.rules = rules;
	c.doc[SIDE_PRIMARY] = a;
	c.doc[SIDE_SHADOW] = b;
	c.res = res;
	c.prefix = a != NULL && b != NULL ? prefix : 0;
	for (i = 0; i < RULE_NKINDS; i++)
		c.mode[i] = rules_mode(rules, (int)i);
	c.capps = rules->npats + 16;
	c.ps = dx_reallocarray(NULL, c.capps, sizeof(*c.ps));
	for (i = 0; i < rules->npats; i++) {
		if (c.mode[rules->pats[i].kind] != MODE_PATHS)
			continue;
		c.ps[c.nps].pat = (uint32_t)i;
		c.ps[c.nps].mask = pattern_start(&rules->pats[i]);
		c.nps++;
	}
	c.hi = c.nps;
	differs = cmp_value(&c, a != NULL ? 0 : J_NONE, b != NULL ? 0 : J_NONE,
	    0);
	shape_scratch_clear(&c.scratch);
	free(c.ps);
	free(c.segs);
	return (differs);
}
