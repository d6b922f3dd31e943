/*
 * A comparison's result: the differences (at most DIFF_MAX_DIFFS kept,
 * each value at most DIFF_VALUE_MAX bytes of JSON, each path at most
 * DIFF_PATH_MAX bytes), the notes on either side, and what each rule
 * forgave. Values are kept as JSON text, so a number keeps its digits.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "diff-int.h"

static const char *const kind_names[] = { "status", "header", "body" };
static const char *const op_names[] = {
	"changed", "type", "added", "removed", "duplicate"
};
static const char *const side_names[] = { "primary", "shadow" };

/*
 * Adds a difference at PATH; NULL (counted in omitted) once
 * DIFF_MAX_DIFFS are kept. The caller sets the values.
 */
struct diff_entry *
result_add(struct diff_result *res, enum diff_kind kind, enum diff_op op,
    const char *path, size_t pathlen)
{
	struct diff_entry	*e;
	size_t			 n;

	res->bykind[kind]++;
	if (res->ndiffs == DIFF_MAX_DIFFS) {
		res->omitted++;
		return (NULL);
	}
	if (res->ndiffs == res->capdiffs) {
		res->capdiffs = res->capdiffs == 0 ? 8 : res->capdiffs * 2;
		res->diffs = dx_reallocarray(res->diffs, res->capdiffs,
		    sizeof(*res->diffs));
	}
	e = &res->diffs[res->ndiffs++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->op = op;
	n = utf8_cut(path, pathlen, DIFF_PATH_MAX);
	e->path = dx_strndup(path, n);
	e->path_cut = n < pathlen;
	return (e);
}

/* Sets one side's value, JSON text; CUT if the text is already cut. */
void
result_set_value(struct diff_entry *e, enum side side, const char *text,
    size_t len, int cut)
{
	size_t	 n;

	n = utf8_cut(text, len, DIFF_VALUE_MAX);
	e->value[side] = dx_strndup(text, n);
	e->value_len[side] = n;
	e->value_cut[side] = cut || n < len;
}

/* Counts one difference that RULE forgave. */
void
result_forgive(struct diff_result *res, const char *rule, size_t count)
{
	size_t	 i;

	for (i = 0; i < res->nforgiven; i++) {
		if (strcmp(res->forgiven[i].rule, rule) == 0) {
			res->forgiven[i].count += count;
			return;
		}
	}
	res->forgiven = dx_reallocarray(res->forgiven, res->nforgiven + 1,
	    sizeof(*res->forgiven));
	res->forgiven[res->nforgiven].rule = dx_strdup(rule);
	res->forgiven[res->nforgiven].count = count;
	res->nforgiven++;
}

/* Adds a note (NOTE is a static string) on one side. */
void
result_note(struct diff_result *res, enum side side, const char *note,
    const char *fmt, ...)
{
	struct diff_note	*n;
	va_list			 ap;

	res->notes = dx_reallocarray(res->notes, res->nnotes + 1,
	    sizeof(*res->notes));
	n = &res->notes[res->nnotes++];
	n->side = side;
	n->note = note;
	va_start(ap, fmt);
	if (vasprintf(&n->detail, fmt, ap) == -1)
		abort();
	va_end(ap);
}

/*
 * Counts a rule that could not be applied to SIDE's value at PATH (a
 * regex match past its limits), noted once per rule NAME and result:
 * the count says how often.
 */
void
result_rule_error(struct diff_result *res, enum side side, const char *name,
    const char *why, const char *path)
{
	size_t	 i, n = strlen(name);

	res->rule_errors++;
	for (i = 0; i < res->nnotes; i++)
		if (strcmp(res->notes[i].note, "rule_error") == 0 &&
		    strncmp(res->notes[i].detail, name, n) == 0 &&
		    res->notes[i].detail[n] == ':')
			return;
	result_note(res, side, "rule_error", "%s: %s at %s", name, why,
	    path[0] == '\0' ? "\"\"" : path);
}

/*
 * Adds a whole-body difference with the JSON values PRIMARY and SHADOW,
 * unless a body difference is listed already: for bodies that differ
 * only past the capture cap, told apart by their digests.
 */
void
diff_result_add_body(struct diff_result *res, const char *primary,
    const char *shadow)
{
	struct diff_entry	*e;
	size_t			 i;

	for (i = 0; i < res->ndiffs; i++)
		if (res->diffs[i].kind == KIND_BODY)
			return;
	if ((e = result_add(res, KIND_BODY, OP_CHANGED, "", 0)) == NULL)
		return;
	result_set_value(e, SIDE_PRIMARY, primary, strlen(primary), 0);
	result_set_value(e, SIDE_SHADOW, shadow, strlen(shadow), 0);
}

/* 1 if any difference was not forgiven. */
int
diff_result_differs(const struct diff_result *res)
{
	return (res->ndiffs > 0 || res->omitted > 0);
}

/* Unforgiven differences, kept or not. */
size_t
diff_result_count(const struct diff_result *res)
{
	return (res->ndiffs + res->omitted);
}

/* Notes on either side. */
size_t
diff_result_nnotes(const struct diff_result *res)
{
	return (res->nnotes);
}

/* Rule matches that failed (a regex past its limits). */
size_t
diff_result_rule_errors(const struct diff_result *res)
{
	return (res->rule_errors);
}

/* The name of a kind of difference, as in records. */
const char *
diff_kind_name(size_t kind)
{
	return (kind_names[kind]);
}

/* Unforgiven differences of KIND, kept or not. */
size_t
diff_result_kind_count(const struct diff_result *res, size_t kind)
{
	return (res->bykind[kind]);
}

/* How many rules forgave differences. */
size_t
diff_result_nforgiven(const struct diff_result *res)
{
	return (res->nforgiven);
}

/* The I-th rule that forgave differences; *COUNT, how many. */
const char *
diff_result_forgiven(const struct diff_result *res, size_t i, size_t *count)
{
	*count = res->forgiven[i].count;
	return (res->forgiven[i].rule);
}

/*
 * Appends one side's value, cut to LIMIT bytes: a cut value becomes a
 * string holding the first bytes of its JSON text. Returns 1 if cut.
 */
static int
result_put_value(struct dbuf *b, const struct diff_entry *e, enum side side,
    size_t limit)
{
	size_t	 n;

	if (!e->value_cut[side] && e->value_len[side] <= limit) {
		dbuf_add(b, e->value[side], e->value_len[side]);
		return (0);
	}
	n = utf8_cut(e->value[side], e->value_len[side], limit);
	dbuf_add_jstring(b, e->value[side], n);
	return (1);
}

/* The value limit a caller asked for, within the bounds. */
static size_t
result_limit(size_t limit)
{
	if (limit == 0)
		return (DIFF_VALUE_LIMIT);
	return (limit > DIFF_VALUE_MAX ? DIFF_VALUE_MAX : limit);
}

/* The record's diffs, forgiven and notes members as a JSON object. */
char *
diff_result_json(const struct diff_result *res, size_t limit)
{
	const struct diff_entry	*e;
	struct dbuf		 b;
	size_t			 i;
	int			 s, cut;

	limit = result_limit(limit);
	memset(&b, 0, sizeof(b));
	dbuf_adds(&b, "{\"diffs\":[");
	for (i = 0; i < res->ndiffs; i++) {
		e = &res->diffs[i];
		if (i > 0)
			dbuf_addc(&b, ',');
		dbuf_printf(&b, "{\"kind\":\"%s\",\"path\":",
		    kind_names[e->kind]);
		dbuf_add_jstring(&b, e->path, strlen(e->path));
		dbuf_printf(&b, ",\"op\":\"%s\"", op_names[e->op]);
		if (e->path_cut)
			dbuf_adds(&b, ",\"path_truncated\":true");
		if (e->has_offset)
			dbuf_printf(&b, ",\"offset\":%zu", e->offset);
		cut = 0;
		for (s = SIDE_PRIMARY; s <= SIDE_SHADOW; s++) {
			if (e->value[s] == NULL)
				continue;
			dbuf_printf(&b, ",\"%s\":", side_names[s]);
			cut |= result_put_value(&b, e, s, limit);
		}
		if (cut)
			dbuf_adds(&b, ",\"truncated\":true");
		dbuf_addc(&b, '}');
	}
	dbuf_adds(&b, "]");
	if (res->omitted > 0)
		dbuf_printf(&b, ",\"diffs_omitted\":%zu", res->omitted);
	dbuf_adds(&b, ",\"forgiven\":{");
	for (i = 0; i < res->nforgiven; i++) {
		if (i > 0)
			dbuf_addc(&b, ',');
		dbuf_add_jstring(&b, res->forgiven[i].rule,
		    strlen(res->forgiven[i].rule));
		dbuf_printf(&b, ":%zu", res->forgiven[i].count);
	}
	dbuf_adds(&b, "},\"notes\":[");
	for (i = 0; i < res->nnotes; i++) {
		if (i > 0)
			dbuf_addc(&b, ',');
		dbuf_printf(&b, "{\"side\":\"%s\",\"note\":\"%s\",\"detail\":",
		    side_names[res->notes[i].side], res->notes[i].note);
		dbuf_add_jstring(&b, res->notes[i].detail,
		    strlen(res->notes[i].detail));
		dbuf_addc(&b, '}');
	}
	dbuf_adds(&b, "]");
	if (res->rule_errors > 0)
		dbuf_printf(&b, ",\"rule_errors\":%zu", res->rule_errors);
	dbuf_addc(&b, '}');
	return (dbuf_finish(&b));
}

/* The differences, notes and forgiven counts as lines for people. */
char *
diff_result_text(const struct diff_result *res, size_t limit)
{
	const struct diff_entry	*e;
	struct dbuf		 b;
	size_t			 i;

	limit = result_limit(limit);
	memset(&b, 0, sizeof(b));
	for (i = 0; i < res->ndiffs; i++) {
		e = &res->diffs[i];
		dbuf_adds(&b, kind_names[e->kind]);
		if (e->kind == KIND_BODY && e->has_offset)
			dbuf_printf(&b, " at byte %zu", e->offset);
		else if (e->kind == KIND_BODY && e->path[0] == '\0')
			dbuf_adds(&b, " \"\"");
		else if (e->kind != KIND_STATUS)
			dbuf_printf(&b, " %s", e->path);
		dbuf_printf(&b, " %s: ", op_names[e->op]);
		if (e->value[SIDE_PRIMARY] != NULL)
			result_put_value(&b, e, SIDE_PRIMARY, limit);
		else
			dbuf_adds(&b, "(none)");
		dbuf_adds(&b, " -> ");
		if (e->value[SIDE_SHADOW] != NULL)
			result_put_value(&b, e, SIDE_SHADOW, limit);
		else
			dbuf_adds(&b, "(none)");
		dbuf_addc(&b, '\n');
	}
	if (res->omitted > 0)
		dbuf_printf(&b, "... and %zu more differences\n",
		    res->omitted);
	for (i = 0; i < res->nnotes; i++)
		dbuf_printf(&b, "note: %s %s: %s\n",
		    side_names[res->notes[i].side], res->notes[i].note,
		    res->notes[i].detail);
	if (res->rule_errors > 0)
		dbuf_printf(&b, "rule errors: %zu\n", res->rule_errors);
	for (i = 0; i < res->nforgiven; i++)
		dbuf_printf(&b, "forgiven by %s: %zu\n",
		    res->forgiven[i].rule, res->forgiven[i].count);
	return (dbuf_finish(&b));
}

/* {"rule": count, ...}: what each rule forgave. */
json_t *
diff_result_forgiven_json(const struct diff_result *res)
{
	json_t	*o;
	size_t	 i;

	if ((o = json_object()) == NULL)
		abort();
	for (i = 0; i < res->nforgiven; i++)
		json_object_set_new(o, res->forgiven[i].rule,
		    json_integer((json_int_t)res->forgiven[i].count));
	return (o);
}

/* Frees a result. */
void
diff_result_free(struct diff_result *res)
{
	size_t	 i;

	if (res == NULL)
		return;
	for (i = 0; i < res->ndiffs; i++) {
		free(res->diffs[i].path);
		free(res->diffs[i].value[0]);
		free(res->diffs[i].value[1]);
	}
	free(res->diffs);
	for (i = 0; i < res->nforgiven; i++)
		free(res->forgiven[i].rule);
	free(res->forgiven);
	for (i = 0; i < res->nnotes; i++)
		free(res->notes[i].detail);
	free(res->notes);
	free(res);
}
