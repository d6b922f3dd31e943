/*
 * The triage aggregation: per route and per field pattern, counts,
 * first and last seen, examples, the fields that differ together, and
 * the rules the evidence suggests. Every table has a fixed bound
 * (triage.h); what does not fit is counted under one overflow entry, so
 * memory depends on the bounds, never on the number of records.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shadowdiff/diff.h"
#include "shadowdiff/triage.h"
#include "shadowdiff/util.h"

#define ROUTE_SLOTS	(TRIAGE_MAX_ROUTES * 2)		/* power of two */
#define FIELD_SLOTS	(TRIAGE_MAX_FIELDS * 2)
#define OTHER_FIELD	TRIAGE_MAX_FIELDS		/* its index */
#define NO_SLOT		UINT32_MAX

/* The shape classes of a string value (those ignore_like knows). */
enum shape {
	SHAPE_UNSET,
	SHAPE_UUID,
	SHAPE_RFC3339,
	SHAPE_HEX,
	SHAPE_DIGITS,
	SHAPE_EMPTY,
	SHAPE_OTHER,
	SHAPE_MIXED
};

static const char *const shape_names[] = {
	[SHAPE_UUID] = "uuid", [SHAPE_RFC3339] = "rfc3339",
	[SHAPE_HEX] = "hex", [SHAPE_DIGITS] = "digits",
	[SHAPE_EMPTY] = "empty", [SHAPE_OTHER] = "string"
};

/* The shadow errors of docs/divergence-log.md, and one for the rest. */
static const char *const error_names[] = {
	"timeout", "refused", "reset", "bad_response", "too_large", "tls",
	"other"
};
#define ERRORS	((int)nitems(error_names))

static const char *const type_names[TRIAGE_TYPES] = {
	[TRIAGE_MISMATCH] = "mismatch", [TRIAGE_SHADOW_ERROR] = "shadow_error",
	[TRIAGE_MATCH] = "match"
};
static const char *const kind_names[TRIAGE_KINDS] = {
	[TRIAGE_STATUS] = "status", [TRIAGE_HEADER] = "header",
	[TRIAGE_BODY] = "body"
};
static const char *const op_names[TRIAGE_OPS] = {
	[TRIAGE_CHANGED] = "changed", [TRIAGE_TYPE] = "type",
	[TRIAGE_ADDED] = "added", [TRIAGE_REMOVED] = "removed",
	[TRIAGE_DUPLICATE] = "duplicate", [TRIAGE_OP_OTHER] = "other"
};

/* One example: copies, each cut at TRIAGE_TEXT_MAX bytes. */
struct example {
	char		*id;
	char		*uri;
	char		*primary;	/* JSON text, or NULL: absent */
	char		*shadow;
	int		 primary_cut;
	int		 shadow_cut;
	int64_t		 time_us;
};

struct partner {
	uint32_t	 field;
	uint64_t	 count;
};

struct field {
	char		*key;
	size_t		 key_len;
	enum triage_kind kind;
	uint64_t	 diffs;
	uint64_t	 records;
	uint64_t	 ops[TRIAGE_OPS];
	uint64_t	 same_shape;	/* changed strings, both one shape */
	enum shape	 shape;
	uint64_t	 reordered;	/* records where it is a permutation */
	uint64_t	 serial;	/* the last record counted */
	uint32_t	 slot;		/* in the record scratch, or NO_SLOT */
	int64_t		 first_us;
	int64_t		 last_us;
	struct partner	 partners[TRIAGE_PARTNERS];
	size_t		 npartners;
	struct example	 ex[TRIAGE_EXAMPLES];
	size_t		 nex;
};

struct route {
	char		*name;
	uint64_t	 types[TRIAGE_TYPES];
	uint64_t	 errors[nitems(error_names)];
	uint64_t	 diffs_omitted;
	int64_t		 first_us;
	int64_t		 last_us;
	struct field	*fields;
	size_t		 nfields;
	struct field	 other;		/* past TRIAGE_MAX_FIELDS */
	uint32_t	 slots[FIELD_SLOTS];	/* index + 1, 0 free */
};

/* A field of the record being counted: for pairs and permutations. */
struct record_field {
	uint32_t	 field;
	uint32_t	 changed;
	int		 other_op;
	uint64_t	 psum, ssum, pxor, sxor;
};

struct malformed {
	char		*file;
	uint64_t	 line;
	char		*reason;
};

struct file_count {
	char		*name;
	uint64_t	 lines;
	uint64_t	 records;
	uint64_t	 malformed;
};

struct triage {
	struct route		*routes[TRIAGE_MAX_ROUTES];
	size_t			 nroutes;
	struct route		 other;		/* past the bound */
	uint32_t		 slots[ROUTE_SLOTS];
	uint64_t		 records;
	uint64_t		 filtered;
	uint64_t		 serial;
	int64_t			 first_us;
	int64_t			 last_us;
	char			*instances[TRIAGE_MAX_INSTANCES];
	size_t			 ninstances;
	uint64_t		 instances_omitted;
	struct malformed	 malformed[TRIAGE_MAX_MALFORMED];
	uint64_t		 nmalformed;
	struct file_count	*files;
	size_t			 nfiles;
	struct record_field	 rf[TRIAGE_RECORD_FIELDS];
	size_t			 nrf;
	char			 key[TRIAGE_KEY_MAX + 8];
};

/* FNV-1a of LEN bytes at P, after SEED. */
static uint64_t
hash(const char *p, size_t len, uint64_t seed)
{
	uint64_t	 h = seed ^ 14695981039346656037ULL;

	while (len-- > 0)
		h = (h ^ (unsigned char)*p++) * 1099511628211ULL;
	return (h);
}

/* LEN, shortened so as not to cut a UTF-8 sequence, at most MAX. */
static size_t
cut_utf8(const char *p, size_t len, size_t max)
{
	if (len <= max)
		return (len);
	len = max;
	while (len > 0 && ((unsigned char)p[len] & 0xc0) == 0x80)
		len--;
	return (len);
}

/* A new, empty aggregation. */
struct triage *
triage_new(void)
{
	struct triage	*t = xcalloc(1, sizeof(*t));

	t->other.name = xstrdup("(other routes)");
	t->first_us = INT64_MAX;
	t->last_us = INT64_MIN;
	t->other.first_us = INT64_MAX;
	t->other.last_us = INT64_MIN;
	return (t);
}

/* Frees the copies of field F. */
static void
field_clear(struct field *f)
{
	size_t	 i;

	free(f->key);
	for (i = 0; i < f->nex; i++) {
		free(f->ex[i].id);
		free(f->ex[i].uri);
		free(f->ex[i].primary);
		free(f->ex[i].shadow);
	}
}

/* Frees route R's fields and name. */
static void
route_clear(struct route *r)
{
	size_t	 i;

	for (i = 0; i < r->nfields; i++)
		field_clear(&r->fields[i]);
	free(r->fields);
	field_clear(&r->other);
	free(r->name);
}

/* Frees T. */
void
triage_free(struct triage *t)
{
	size_t	 i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nroutes; i++) {
		route_clear(t->routes[i]);
		free(t->routes[i]);
	}
	route_clear(&t->other);
	for (i = 0; i < t->ninstances; i++)
		free(t->instances[i]);
	for (i = 0; i < t->nmalformed && i < TRIAGE_MAX_MALFORMED; i++) {
		free(t->malformed[i].file);
		free(t->malformed[i].reason);
	}
	for (i = 0; i < t->nfiles; i++)
		free(t->files[i].name);
	free(t->files);
	free(t);
}

/* Initializes field F with key K. */
static void
field_init(struct field *f, enum triage_kind kind, const char *k, size_t len)
{
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->key = xstrndup(k, len);
	f->key_len = len;
	f->first_us = INT64_MAX;
	f->last_us = INT64_MIN;
	f->slot = NO_SLOT;
}

/* The route named NAME, made if there is room, else the overflow. */
static struct route *
route_get(struct triage *t, const struct triage_str *name)
{
	struct route	*r;
	uint32_t	 i, idx;

	i = (uint32_t)hash(name->p, name->len, 0) & (ROUTE_SLOTS - 1);
	for (;; i = (i + 1) & (ROUTE_SLOTS - 1)) {
		if ((idx = t->slots[i]) == 0)
			break;
		r = t->routes[idx - 1];
		if (strlen(r->name) == name->len &&
		    memcmp(r->name, name->p, name->len) == 0)
			return (r);
	}
	if (t->nroutes == TRIAGE_MAX_ROUTES)
		return (&t->other);
	r = xcalloc(1, sizeof(*r));
	r->name = xstrndup(name->p, name->len);
	r->first_us = INT64_MAX;
	r->last_us = INT64_MIN;
	field_init(&r->other, TRIAGE_BODY, "(other fields)", 14);
	t->routes[t->nroutes++] = r;
	t->slots[i] = (uint32_t)t->nroutes;
	return (r);
}

/* Field IDX of R (OTHER_FIELD: the overflow). */
static struct field *
field_at(struct route *r, uint32_t idx)
{
	return (idx == OTHER_FIELD ? &r->other : &r->fields[idx]);
}

/* The index of the field KIND KEY of R, made if there is room. */
static uint32_t
field_get(struct route *r, enum triage_kind kind, const char *key,
    size_t len)
{
	struct field	*f;
	uint32_t	 i, idx;

	i = (uint32_t)hash(key, len, kind) & (FIELD_SLOTS - 1);
	for (;; i = (i + 1) & (FIELD_SLOTS - 1)) {
		if ((idx = r->slots[i]) == 0)
			break;
		f = &r->fields[idx - 1];
		if (f->kind == kind && f->key_len == len &&
		    memcmp(f->key, key, len) == 0)
			return (idx - 1);
	}
	if (r->nfields == TRIAGE_MAX_FIELDS)
		return (OTHER_FIELD);
	if ((r->nfields & (r->nfields - 1)) == 0)	/* 0, 1, 2, 4... */
		r->fields = xreallocarray(r->fields, r->nfields ?
		    r->nfields * 2 : 1, sizeof(*r->fields));
	field_init(&r->fields[r->nfields], kind, key, len);
	r->slots[i] = (uint32_t)++r->nfields;
	return ((uint32_t)(r->nfields - 1));
}

/* Whether the LEN bytes at P are an array index (RFC 6901). */
static int
is_index(const char *p, size_t len)
{
	size_t	 i;

	if (len == 0 || len > 10 || (p[0] == '0' && len > 1))
		return (0);
	for (i = 0; i < len; i++)
		if (p[i] < '0' || p[i] > '9')
			return (0);
	return (1);
}

/* The pattern of pointer PATH into BUF (SIZE bytes): indices as "*". */
size_t
triage_pattern(const char *path, size_t len, char *buf, size_t size)
{
	const char	*p = path, *end = path + len, *seg;
	size_t		 n = 0, slen;

	if (size == 0)
		return (0);
	while (p < end) {
		seg = p;
		if (*p == '/')
			seg = ++p;
		while (p < end && *p != '/')
			p++;
		slen = (size_t)(p - seg);
		if (seg > path && n < size)
			buf[n++] = '/';
		if (is_index(seg, slen)) {
			seg = "*";
			slen = 1;
		}
		if (slen > size - n)
			slen = size - n;
		memcpy(buf + n, seg, slen);
		n += slen;
	}
	return (cut_utf8(buf, n, size - 1 < n ? size - 1 : n));
}

/* The shape of a JSON string's text V (quotes included). */
static enum shape
shape_of(const struct triage_str *v)
{
	const char	*p = v->p + 1;
	size_t		 len = v->len - 2, i, letters = 0;
	int64_t		 us;

	if (len == 0)
		return (SHAPE_EMPTY);
	if (len == 36 && p[8] == '-' && p[13] == '-' && p[18] == '-' &&
	    p[23] == '-') {
		for (i = 0; i < 36; i++)
			if (i != 8 && i != 13 && i != 18 && i != 23 &&
			    strchr("0123456789abcdefABCDEF", p[i]) == NULL)
				break;
		if (i == 36)
			return (SHAPE_UUID);
	}
	if (diff_time_parse(p, len, &us) == 0)
		return (SHAPE_RFC3339);
	for (i = 0; i < len; i++) {
		if (p[i] >= '0' && p[i] <= '9')
			continue;
		if ((p[i] >= 'a' && p[i] <= 'f') ||
		    (p[i] >= 'A' && p[i] <= 'F')) {
			letters++;
			continue;
		}
		return (SHAPE_OTHER);
	}
	if (letters == 0)
		return (SHAPE_DIGITS);
	return (len >= 8 ? SHAPE_HEX : SHAPE_OTHER);
}

/* Whether value text V is a JSON string. */
static int
is_string(const struct triage_str *v)
{
	return (v->p != NULL && v->len >= 2 && v->p[0] == '"');
}

/* A copy of V cut at TRIAGE_TEXT_MAX bytes; *CUT says if it was. */
static char *
copy_cut(const struct triage_str *v, int *cut)
{
	size_t	 n;

	if (v->p == NULL)
		return (NULL);
	n = cut_utf8(v->p, v->len, TRIAGE_TEXT_MAX);
	if (cut != NULL)
		*cut = n < v->len;
	return (xstrndup(v->p, n));
}

/* Keeps difference D of REC as an example of F, if F has room. */
static void
example_add(struct field *f, const struct triage_record *rec,
    const struct triage_diff *d)
{
	struct example	*e;

	if (f->nex == TRIAGE_EXAMPLES)
		return;
	e = &f->ex[f->nex++];
	e->id = copy_cut(&rec->id, NULL);
	e->uri = copy_cut(&rec->uri, NULL);
	e->primary = copy_cut(&d->primary, &e->primary_cut);
	e->shadow = copy_cut(&d->shadow, &e->shadow_cut);
	e->time_us = rec->time_us;
}

/* Counts a partner P of F: the space-saving count of the top ones. */
static void
partner_add(struct field *f, uint32_t p)
{
	size_t	 i, min = 0;

	for (i = 0; i < f->npartners; i++) {
		if (f->partners[i].field == p) {
			f->partners[i].count++;
			return;
		}
		if (f->partners[i].count < f->partners[min].count)
			min = i;
	}
	if (f->npartners < TRIAGE_PARTNERS) {
		f->partners[f->npartners].field = p;
		f->partners[f->npartners++].count = 1;
		return;
	}
	/* Full: the least counted gives its place (and its count: an
	 * upper bound, as in the space-saving algorithm). */
	f->partners[min].field = p;
	f->partners[min].count++;
}

/* Counts difference D of REC in route R. */
static void
diff_add(struct triage *t, struct route *r, const struct triage_record *rec,
    const struct triage_diff *d)
{
	struct record_field	*rf;
	struct field		*f;
	const char		*key = d->path.p;
	size_t			 len = d->path.len;
	uint64_t		 hp, hs;
	uint32_t		 idx;
	enum shape		 sp, ss;

	if (d->kind == TRIAGE_STATUS) {
		key = "status";
		len = 6;
	} else if (d->kind == TRIAGE_BODY) {
		len = triage_pattern(d->path.p, d->path.len, t->key,
		    TRIAGE_KEY_MAX);
		key = t->key;
	} else
		len = cut_utf8(key, len, TRIAGE_KEY_MAX);
	idx = field_get(r, d->kind, key, len);
	f = field_at(r, idx);
	f->diffs++;
	f->ops[d->op]++;
	if (d->op == TRIAGE_CHANGED && is_string(&d->primary) &&
	    is_string(&d->shadow) && (sp = shape_of(&d->primary)) ==
	    (ss = shape_of(&d->shadow))) {
		f->same_shape++;
		if (f->shape == SHAPE_UNSET)
			f->shape = sp;
		else if (f->shape != sp)
			f->shape = SHAPE_MIXED;
	}
	if (f->serial != t->serial) {
		/* The first difference of this record at F. */
		f->serial = t->serial;
		f->records++;
		if (rec->time_us < f->first_us)
			f->first_us = rec->time_us;
		if (rec->time_us > f->last_us)
			f->last_us = rec->time_us;
		example_add(f, rec, d);
		f->slot = NO_SLOT;
		if (t->nrf < TRIAGE_RECORD_FIELDS) {
			f->slot = (uint32_t)t->nrf;
			rf = &t->rf[t->nrf++];
			memset(rf, 0, sizeof(*rf));
			rf->field = idx;
		}
	}
	if (f->slot == NO_SLOT)
		return;
	rf = &t->rf[f->slot];
	if (d->op == TRIAGE_CHANGED && d->primary.p != NULL &&
	    d->shadow.p != NULL) {
		/* Sums and xors do not depend on order: equal for both
		 * sides when the values were only moved. */
		hp = hash(d->primary.p, d->primary.len, 1);
		hs = hash(d->shadow.p, d->shadow.len, 1);
		rf->changed++;
		rf->psum += hp;
		rf->ssum += hs;
		rf->pxor ^= hp;
		rf->sxor ^= hs;
	} else
		rf->other_op = 1;
}

/* Counts record REC in T. */
void
triage_add(struct triage *t, const struct triage_record *rec)
{
	struct route		*r;
	struct record_field	*rf;
	size_t			 i, j, e;

	t->records++;
	t->serial++;
	if (rec->time_us < t->first_us)
		t->first_us = rec->time_us;
	if (rec->time_us > t->last_us)
		t->last_us = rec->time_us;
	if (rec->instance.p != NULL) {
		for (i = 0; i < t->ninstances; i++)
			if (strlen(t->instances[i]) == rec->instance.len &&
			    memcmp(t->instances[i], rec->instance.p,
			    rec->instance.len) == 0)
				break;
		if (i < t->ninstances)
			;
		else if (t->ninstances < TRIAGE_MAX_INSTANCES)
			t->instances[t->ninstances++] = copy_cut(&rec->instance,
			    NULL);
		else
			t->instances_omitted++;
	}
	r = route_get(t, &rec->route);
	r->types[rec->type]++;
	if (rec->time_us < r->first_us)
		r->first_us = rec->time_us;
	if (rec->time_us > r->last_us)
		r->last_us = rec->time_us;
	if (rec->type == TRIAGE_SHADOW_ERROR) {
		for (e = 0; e < (size_t)ERRORS - 1; e++)
			if (strlen(error_names[e]) == rec->error.len &&
			    memcmp(error_names[e], rec->error.p,
			    rec->error.len) == 0)
				break;
		r->errors[e]++;
	}
	if (rec->type != TRIAGE_MISMATCH)
		return;
	r->diffs_omitted += rec->diffs_omitted;
	t->nrf = 0;
	for (i = 0; i < rec->ndiffs; i++)
		diff_add(t, r, rec, &rec->diffs[i]);
	for (i = 0; i < t->nrf; i++) {
		rf = &t->rf[i];
		if (rf->changed >= 2 && !rf->other_op &&
		    rf->psum == rf->ssum && rf->pxor == rf->sxor)
			field_at(r, rf->field)->reordered++;
		for (j = 0; j < t->nrf; j++)
			if (j != i)
				partner_add(field_at(r, rf->field),
				    t->rf[j].field);
	}
}

/* Counts a malformed line. */
void
triage_malformed(struct triage *t, const char *file, uint64_t line,
    const char *reason)
{
	struct malformed	*m;

	if (t->nmalformed < TRIAGE_MAX_MALFORMED) {
		m = &t->malformed[t->nmalformed];
		m->file = xstrdup(file);
		m->line = line;
		m->reason = xstrdup(reason);
	}
	t->nmalformed++;
}

/* The number of malformed lines counted. */
uint64_t
triage_malformed_count(const struct triage *t)
{
	return (t->nmalformed);
}

/* Counts what was read of FILE. */
void
triage_file(struct triage *t, const char *name, uint64_t lines,
    uint64_t records, uint64_t malformed)
{
	struct file_count	*f;

	t->files = xreallocarray(t->files, t->nfiles + 1, sizeof(*t->files));
	f = &t->files[t->nfiles++];
	f->name = xstrdup(name);
	f->lines = lines;
	f->records = records;
	f->malformed = malformed;
}

/* Counts a record left out by a filter. */
void
triage_filtered(struct triage *t)
{
	t->filtered++;
}

/* A time as JSON: RFC 3339, or null when none was seen. */
static json_t *
time_json(int64_t us)
{
	char	 buf[40];

	if (us == INT64_MAX || us == INT64_MIN)
		return (json_null());
	triage_time_format(us, buf, sizeof(buf));
	return (json_string(buf));
}

/* A share N / D as JSON: null when D is 0 or not a count. */
static json_t *
rate_json(double n, double d)
{
	if (!(d > 0))
		return (json_null());
	/* Six decimals: printed short with JSON_REAL_PRECISION(15). */
	return (json_real((double)(int64_t)(n / d * 1e6 + 0.5) / 1e6));
}

/* An example value: the JSON value, or its cut text as a string. */
static void
value_set(json_t *o, const char *name, const char *text, int cut)
{
	json_t	*v = NULL;
	char	 flag[32];

	if (text == NULL)
		return;
	if (!cut)
		v = json_loads(text, JSON_DECODE_ANY, NULL);
	if (v == NULL) {
		/* Cut, or a number jansson cannot hold: the text. */
		v = json_string(text);
		snprintf(flag, sizeof(flag), "%s_text", name);
		json_object_set_new(o, flag, json_true());
	}
	json_object_set_new(o, name, v);
}

/* The examples of F. */
static json_t *
examples_json(const struct field *f)
{
	json_t		*a = json_array(), *o;
	size_t		 i;

	for (i = 0; i < f->nex; i++) {
		o = json_object();
		json_object_set_new(o, "id", json_string(f->ex[i].id));
		json_object_set_new(o, "uri", json_string(f->ex[i].uri));
		json_object_set_new(o, "time", time_json(f->ex[i].time_us));
		value_set(o, "primary", f->ex[i].primary, f->ex[i].primary_cut);
		value_set(o, "shadow", f->ex[i].shadow, f->ex[i].shadow_cut);
		json_array_append_new(a, o);
	}
	return (a);
}

/* Orders partners by count, most first. */
static int
partner_cmp(const void *a, const void *b)
{
	const struct partner	*pa = a, *pb = b;

	if (pa->count != pb->count)
		return (pa->count > pb->count ? -1 : 1);
	return (pa->field < pb->field ? -1 : pa->field > pb->field);
}

/* The name of field F as shown: its key; "" for a whole body. */
static json_t *
field_name_json(const struct field *f)
{
	return (json_stringn(f->key, f->key_len));
}

/* The fields that most often differ with F. */
static json_t *
together_json(struct route *r, const struct field *f)
{
	struct partner	 p[TRIAGE_PARTNERS];
	json_t		*a = json_array(), *o;
	struct field	*g;
	size_t		 i;

	memcpy(p, f->partners, f->npartners * sizeof(*p));
	qsort(p, f->npartners, sizeof(*p), partner_cmp);
	for (i = 0; i < f->npartners && i < TRIAGE_TOGETHER; i++) {
		g = field_at(r, p[i].field);
		o = json_object();
		json_object_set_new(o, "kind", json_string(kind_names[g->kind]));
		json_object_set_new(o, "field", field_name_json(g));
		json_object_set_new(o, "records", json_integer(
		    (json_int_t)p[i].count));
		json_array_append_new(a, o);
	}
	return (a);
}

/* Field F of route R as JSON; MISMATCHES and COMPARED for rates. */
static json_t *
field_json(struct route *r, const struct field *f, double compared)
{
	json_t		*o = json_object(), *ops = json_object();
	size_t		 i;

	json_object_set_new(o, "kind", json_string(kind_names[f->kind]));
	json_object_set_new(o, "field", field_name_json(f));
	if (f == &r->other)
		json_object_set_new(o, "overflow", json_true());
	json_object_set_new(o, "differences", json_integer(
	    (json_int_t)f->diffs));
	json_object_set_new(o, "records", json_integer((json_int_t)f->records));
	json_object_set_new(o, "share", rate_json((double)f->records,
	    (double)r->types[TRIAGE_MISMATCH]));
	json_object_set_new(o, "rate", rate_json((double)f->records,
	    compared));
	for (i = 0; i < TRIAGE_OPS; i++)
		if (f->ops[i] > 0)
			json_object_set_new(ops, op_names[i], json_integer(
			    (json_int_t)f->ops[i]));
	json_object_set_new(o, "ops", ops);
	json_object_set_new(o, "same_shape", json_integer(
	    (json_int_t)f->same_shape));
	json_object_set_new(o, "shape", f->shape == SHAPE_UNSET ||
	    f->shape == SHAPE_MIXED ? json_null() :
	    json_string(shape_names[f->shape]));
	json_object_set_new(o, "reordered", json_integer(
	    (json_int_t)f->reordered));
	json_object_set_new(o, "first_seen", time_json(f->first_us));
	json_object_set_new(o, "last_seen", time_json(f->last_us));
	json_object_set_new(o, "together", together_json(r, f));
	json_object_set_new(o, "examples", examples_json(f));
	return (o);
}

/* The array a body pattern's last "*" is an element of, into BUF. */
static int
array_of(const struct field *f, char *buf, size_t size)
{
	const char	*star = NULL, *p, *end = f->key + f->key_len;
	size_t		 n;

	for (p = f->key; p < end; p++)
		if (*p == '*' && p > f->key && p[-1] == '/' &&
		    (p + 1 == end || p[1] == '/'))
			star = p;
	if (star == NULL || (n = (size_t)(star - 1 - f->key)) == 0 ||
	    n + 1 > size)
		return (-1);
	memcpy(buf, f->key, n);
	buf[n] = '\0';
	return (0);
}

/* Adds the suggestion KEY = VALUE for F, unless R has it already. */
static void
suggest(json_t *a, const char *key, const char *value,
    const struct field *f, uint64_t evidence, uint64_t of, const char *why)
{
	json_t	*o;
	size_t	 i;
	char	*line = xasprintf("%s = %s", key, value);

	json_array_foreach(a, i, o)
		if (strcmp(json_string_value(json_object_get(o, "line")),
		    line) == 0) {
			free(line);
			return;
		}
	o = json_object();
	json_object_set_new(o, "line", json_string(line));
	json_object_set_new(o, "key", json_string(key));
	json_object_set_new(o, "value", json_string(value));
	json_object_set_new(o, "kind", json_string(kind_names[f->kind]));
	json_object_set_new(o, "field", field_name_json(f));
	json_object_set_new(o, "records", json_integer((json_int_t)evidence));
	json_object_set_new(o, "of", json_integer((json_int_t)of));
	json_object_set_new(o, "share", rate_json((double)evidence,
	    (double)of));
	json_object_set_new(o, "why", json_string(why));
	json_array_append_new(a, o);
	free(line);
}

/* Whether N of D is evidence enough for a rule. */
static int
enough(uint64_t n, uint64_t d)
{
	return (n >= TRIAGE_SUGGEST_MIN && d > 0 &&
	    (double)n >= TRIAGE_SUGGEST_SHARE * (double)d);
}

/*
 * The rules the evidence of R suggests (docs/triage.md): conservative,
 * each with its count and share. A field that changes in nearly every
 * mismatch record, always as strings of one recognized shape on both
 * sides, is noise ignore_like can forgive while still catching a change
 * of shape; a header whose value changes in nearly every one, noise
 * ignore_headers can forgive; a field whose differences are, record
 * after record, the same values moved around, an unordered array.
 */
static json_t *
suggestions_json(struct route *r)
{
	json_t		*a = json_array();
	struct field	*f;
	uint64_t	 m = r->types[TRIAGE_MISMATCH];
	char		 buf[TRIAGE_KEY_MAX + 32], why[128];
	size_t		 i;

	for (i = 0; i < r->nfields; i++) {
		f = &r->fields[i];
		if (f->kind == TRIAGE_HEADER && enough(f->records, m) &&
		    f->ops[TRIAGE_CHANGED] == f->diffs) {
			snprintf(buf, sizeof(buf), "%.*s", (int)f->key_len,
			    f->key);
			suggest(a, "ignore_headers", buf, f, f->records, m,
			    "its value differs, present on both sides");
		}
		if (f->kind == TRIAGE_BODY && enough(f->records, m) &&
		    f->same_shape == f->diffs && f->shape >= SHAPE_UUID &&
		    f->shape <= SHAPE_DIGITS && f->key_len > 0 &&
		    memchr(f->key, ' ', f->key_len) == NULL) {
			snprintf(buf, sizeof(buf), "%.*s %s", (int)f->key_len,
			    f->key, shape_names[f->shape]);
			snprintf(why, sizeof(why), "every change a %s string "
			    "on both sides", shape_names[f->shape]);
			suggest(a, "ignore_like", buf, f, f->records, m, why);
		}
		if (f->kind == TRIAGE_BODY && enough(f->reordered,
		    f->records) && array_of(f, buf, sizeof(buf)) == 0 &&
		    strchr(buf, ' ') == NULL)
			suggest(a, "unordered", buf, f,
			    f->reordered, f->records, "its differences are the "
			    "same values in another order");
	}
	return (a);
}

/* Orders fields by records, then differences, then key. */
static int
field_cmp(const void *a, const void *b)
{
	const struct field	*fa = *(const struct field *const *)a;
	const struct field	*fb = *(const struct field *const *)b;
	int			 c;

	if (fa->records != fb->records)
		return (fa->records > fb->records ? -1 : 1);
	if (fa->diffs != fb->diffs)
		return (fa->diffs > fb->diffs ? -1 : 1);
	if (fa->kind != fb->kind)
		return (fa->kind < fb->kind ? -1 : 1);
	c = memcmp(fa->key, fb->key, fa->key_len < fb->key_len ?
	    fa->key_len : fb->key_len);
	if (c != 0)
		return (c);
	return (fa->key_len < fb->key_len ? -1 : fa->key_len > fb->key_len);
}

/* Route R as JSON; SAMPLE the match share, negative when unknown. */
static json_t *
route_json(struct route *r, int overflow, double sample)
{
	json_t		*o = json_object(), *e = json_object(), *fa;
	struct field	**sorted;
	double		 compared = -1;
	uint64_t	 records = 0;
	size_t		 i;

	for (i = 0; i < TRIAGE_TYPES; i++)
		records += r->types[i];
	/* Matches are logged as a sample: scaled back, when known. */
	if (sample > 0)
		compared = (double)r->types[TRIAGE_MISMATCH] +
		    (double)r->types[TRIAGE_MATCH] / sample;
	json_object_set_new(o, "route", json_string(r->name));
	if (overflow)
		json_object_set_new(o, "overflow", json_true());
	json_object_set_new(o, "records", json_integer((json_int_t)records));
	for (i = 0; i < TRIAGE_TYPES; i++)
		json_object_set_new(o, type_names[i], json_integer(
		    (json_int_t)r->types[i]));
	json_object_set_new(o, "compared", compared < 0 ? json_null() :
	    json_integer((json_int_t)(compared + 0.5)));
	json_object_set_new(o, "mismatch_rate", rate_json(
	    (double)r->types[TRIAGE_MISMATCH], compared));
	json_object_set_new(o, "shadow_error_rate", rate_json(
	    (double)r->types[TRIAGE_SHADOW_ERROR], compared < 0 ? -1 :
	    compared + (double)r->types[TRIAGE_SHADOW_ERROR]));
	json_object_set_new(o, "first_seen", time_json(r->first_us));
	json_object_set_new(o, "last_seen", time_json(r->last_us));
	for (i = 0; i < nitems(error_names); i++)
		if (r->errors[i] > 0)
			json_object_set_new(e, error_names[i], json_integer(
			    (json_int_t)r->errors[i]));
	json_object_set_new(o, "shadow_errors", e);
	json_object_set_new(o, "diffs_omitted", json_integer(
	    (json_int_t)r->diffs_omitted));
	sorted = xreallocarray(NULL, r->nfields + 1, sizeof(*sorted));
	for (i = 0; i < r->nfields; i++)
		sorted[i] = &r->fields[i];
	qsort(sorted, r->nfields, sizeof(*sorted), field_cmp);
	fa = json_array();
	for (i = 0; i < r->nfields; i++)
		json_array_append_new(fa, field_json(r, sorted[i], compared));
	if (r->other.diffs > 0)
		json_array_append_new(fa, field_json(r, &r->other, compared));
	free(sorted);
	json_object_set_new(o, "fields", fa);
	json_object_set_new(o, "suggestions", suggestions_json(r));
	return (o);
}

/* Orders routes by mismatches, then records, then name. */
static int
route_cmp(const void *a, const void *b)
{
	const struct route	*ra = *(const struct route *const *)a;
	const struct route	*rb = *(const struct route *const *)b;
	uint64_t		 na = 0, nb = 0;
	size_t			 i;

	if (ra->types[TRIAGE_MISMATCH] != rb->types[TRIAGE_MISMATCH])
		return (ra->types[TRIAGE_MISMATCH] >
		    rb->types[TRIAGE_MISMATCH] ? -1 : 1);
	for (i = 0; i < TRIAGE_TYPES; i++) {
		na += ra->types[i];
		nb += rb->types[i];
	}
	if (na != nb)
		return (na > nb ? -1 : 1);
	return (strcmp(ra->name, rb->name));
}

/* Orders C strings. */
static int
str_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* The report as one JSON object (docs/triage.md). */
json_t *
triage_json(struct triage *t, double sample)
{
	struct route	*sorted[TRIAGE_MAX_ROUTES];
	json_t		*o = json_object(), *a, *m;
	char		*inst[TRIAGE_MAX_INSTANCES];
	size_t		 i;
	uint64_t	 other = 0;

	json_object_set_new(o, "version", json_integer(1));
	a = json_array();
	for (i = 0; i < t->nfiles; i++) {
		m = json_object();
		json_object_set_new(m, "file", json_string(t->files[i].name));
		json_object_set_new(m, "lines", json_integer(
		    (json_int_t)t->files[i].lines));
		json_object_set_new(m, "records", json_integer(
		    (json_int_t)t->files[i].records));
		json_object_set_new(m, "malformed", json_integer(
		    (json_int_t)t->files[i].malformed));
		json_array_append_new(a, m);
	}
	json_object_set_new(o, "files", a);
	json_object_set_new(o, "records", json_integer((json_int_t)t->records));
	json_object_set_new(o, "filtered", json_integer(
	    (json_int_t)t->filtered));
	json_object_set_new(o, "malformed", json_integer(
	    (json_int_t)t->nmalformed));
	a = json_array();
	for (i = 0; i < t->nmalformed && i < TRIAGE_MAX_MALFORMED; i++) {
		m = json_object();
		json_object_set_new(m, "file", json_string(
		    t->malformed[i].file));
		json_object_set_new(m, "line", json_integer(
		    (json_int_t)t->malformed[i].line));
		json_object_set_new(m, "reason", json_string(
		    t->malformed[i].reason));
		json_array_append_new(a, m);
	}
	json_object_set_new(o, "malformed_lines", a);
	json_object_set_new(o, "first_seen", time_json(t->first_us));
	json_object_set_new(o, "last_seen", time_json(t->last_us));
	json_object_set_new(o, "match_sample", sample < 0 ? json_null() :
	    json_real(sample));
	memcpy(inst, t->instances, t->ninstances * sizeof(*inst));
	qsort(inst, t->ninstances, sizeof(*inst), str_cmp);
	a = json_array();
	for (i = 0; i < t->ninstances; i++)
		json_array_append_new(a, json_string(inst[i]));
	json_object_set_new(o, "instances", a);
	json_object_set_new(o, "instances_omitted", json_integer(
	    (json_int_t)t->instances_omitted));
	memcpy(sorted, t->routes, t->nroutes * sizeof(*sorted));
	qsort(sorted, t->nroutes, sizeof(*sorted), route_cmp);
	a = json_array();
	for (i = 0; i < t->nroutes; i++)
		json_array_append_new(a, route_json(sorted[i], 0, sample));
	for (i = 0; i < TRIAGE_TYPES; i++)
		other += t->other.types[i];
	if (other > 0)
		json_array_append_new(a, route_json(&t->other, 1, sample));
	json_object_set_new(o, "routes", a);
	return (o);
}
