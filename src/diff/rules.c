/*
 * The rules of [diff] and [route NAME]: one struct diff_rules each,
 * built by diff_rules_set() as the config module reads the file, then
 * never changed, so every diff thread reads it without locks.
 *
 * A route starts as a copy of the global rules. The list keys (ignore,
 * ignore_like, ignore_headers, unordered) add to that copy, so a global
 * ignore pattern holds in every route; the other keys replace what was
 * inherited. null_equals_empty and timestamps left unset take their
 * value from the profile, whatever the order of the keys.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "diff-int.h"

static const char *const rule_keys[RULE_NKINDS] = {
	"ignore", "unordered", "null_equals_empty", "missing_equals_default",
	"timestamps", "ignore_like", "allow_added", "shape_only"
};

/*
 * volatile_headers by default: values that differ on every exchange
 * (dates, ids, trace context) but whose presence is part of the
 * contract. ETag is left out: a changed ETag can be a real difference.
 */
static const char *const volatile_default[] = {
	"date", "age", "x-request-id", "traceparent", "tracestate",
	"x-b3-*", "server-timing"
};

/* The key of a rule kind, as the config file and the counters name it. */
const char *
rules_kind_name(int kind)
{
	return (rule_keys[kind]);
}

/* Whether rule KIND applies nowhere, everywhere or at its patterns. */
enum rule_mode
rules_mode(const struct diff_rules *r, int kind)
{
	if (r->mode[kind] != MODE_UNSET)
		return (r->mode[kind]);
	if (r->profile == PROFILE_GO_RUST &&
	    (kind == RULE_NULL || kind == RULE_TIME))
		return (MODE_ALL);
	return (kind == RULE_IGNORE || kind == RULE_UNORDERED ||
	    kind == RULE_LIKE ? MODE_PATHS : MODE_OFF);
}

/* Appends a copy of NAME to the volatile headers. */
static void
rules_add_volatile(struct diff_rules *r, const char *name)
{
	r->volatile_hdrs = dx_reallocarray(r->volatile_hdrs, r->nvolatile + 1,
	    sizeof(*r->volatile_hdrs));
	r->volatile_hdrs[r->nvolatile++] = dx_strdup(name);
}

/* Appends a copy of status_equal item E. */
static void
rules_add_status_eq(struct diff_rules *r, const struct status_eq *e)
{
	struct status_eq	*n;

	r->status_eq = dx_reallocarray(r->status_eq, r->nstatus_eq + 1,
	    sizeof(*r->status_eq));
	n = &r->status_eq[r->nstatus_eq++];
	n->name = dx_strdup(e->name);
	n->class = e->class;
	n->ncodes = e->ncodes;
	n->codes = NULL;
	if (e->ncodes > 0) {
		n->codes = dx_reallocarray(NULL, e->ncodes, sizeof(*n->codes));
		memcpy(n->codes, e->codes, e->ncodes * sizeof(*n->codes));
	}
}

/* Empties the volatile headers. */
static void
rules_clear_volatile(struct diff_rules *r)
{
	size_t	 i;

	for (i = 0; i < r->nvolatile; i++)
		free(r->volatile_hdrs[i]);
	free(r->volatile_hdrs);
	r->volatile_hdrs = NULL;
	r->nvolatile = 0;
}

/* Empties status_equal. */
static void
rules_clear_status_eq(struct diff_rules *r)
{
	size_t	 i;

	for (i = 0; i < r->nstatus_eq; i++) {
		free(r->status_eq[i].name);
		free(r->status_eq[i].codes);
	}
	free(r->status_eq);
	r->status_eq = NULL;
	r->nstatus_eq = 0;
}

/* New rules: a copy of INHERIT, or the defaults. */
struct diff_rules *
diff_rules_new(const struct diff_rules *inherit)
{
	struct diff_rules	*r;
	size_t			 i;

	r = dx_calloc(1, sizeof(*r));
	if (inherit == NULL) {
		for (i = 0; i < sizeof(volatile_default) /
		    sizeof(volatile_default[0]); i++)
			rules_add_volatile(r, volatile_default[i]);
		return (r);
	}
	for (i = 0; i < inherit->nvolatile; i++)
		rules_add_volatile(r, inherit->volatile_hdrs[i]);
	for (i = 0; i < inherit->nstatus_eq; i++)
		rules_add_status_eq(r, &inherit->status_eq[i]);
	r->npats = inherit->npats;
	r->pats = dx_reallocarray(NULL, r->npats, sizeof(*r->pats));
	for (i = 0; i < r->npats; i++)
		pattern_copy(&r->pats[i], &inherit->pats[i]);
	r->nheaders = inherit->nheaders;
	r->headers = dx_reallocarray(NULL, r->nheaders, sizeof(char *));
	r->header_names = dx_reallocarray(NULL, r->nheaders, sizeof(char *));
	for (i = 0; i < r->nheaders; i++) {
		r->headers[i] = dx_strdup(inherit->headers[i]);
		r->header_names[i] = dx_strdup(inherit->header_names[i]);
	}
	r->tolerance = inherit->tolerance;
	memcpy(r->mode, inherit->mode, sizeof(r->mode));
	r->profile = inherit->profile;
	return (r);
}

/* Frees rules. */
void
diff_rules_free(struct diff_rules *r)
{
	size_t	 i;

	if (r == NULL)
		return;
	for (i = 0; i < r->npats; i++)
		pattern_clear(&r->pats[i]);
	free(r->pats);
	for (i = 0; i < r->nheaders; i++) {
		free(r->headers[i]);
		free(r->header_names[i]);
	}
	free(r->headers);
	free(r->header_names);
	rules_clear_volatile(r);
	rules_clear_status_eq(r);
	free(r);
}

/* 1 for yes/true/on, 0 for no/false/off, -1 for anything else. */
static int
rules_bool(const char *v)
{
	if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 ||
	    strcasecmp(v, "on") == 0)
		return (1);
	if (strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0 ||
	    strcasecmp(v, "off") == 0)
		return (0);
	return (-1);
}

/*
 * Reads the shape that follows pattern PAT in an ignore_like list at
 * *VALUE into *SHAPE. Returns the shape as written (allocated, for the
 * counter's name), or NULL with *CAUSE.
 */
static char *
rules_shape(const char **value, const char *pat, struct shape **shape,
    char **cause)
{
	char	*word, *text, *why = NULL;
	size_t	 len;
	int	 rc;

	if ((rc = pointer_token(value, &word, &len, cause)) == -1)
		return (NULL);
	if (rc == 0) {
		*cause = dx_asprintf("a value shape after %s, such as uuid, "
		    "base64url:43 or regex:^[0-9a-f]{40}$", pat);
		return (NULL);
	}
	if ((text = pointer_unquote(word, &len, cause)) == NULL) {
		free(word);
		return (NULL);
	}
	*shape = shape_parse(text, &why);
	free(text);
	if (*shape == NULL) {
		*cause = dx_asprintf("%s (for %s)", why, pat);
		free(why);
		free(word);
		return (NULL);
	}
	return (word);
}

/*
 * Parses VALUE, a list of patterns, and adds them to R as KIND. Either
 * every pattern is added or, with -1 and *CAUSE, none.
 */
static int
rules_add_patterns(struct diff_rules *r, int kind, const char *value,
    char **cause)
{
	struct pattern	*p, *add = NULL;
	size_t		 nadd = 0, len, i;
	char		*word, *shape;
	int		 rc;

	while ((rc = pointer_token(&value, &word, &len, cause)) == 1) {
		if (r->npats + nadd == DIFF_MAX_PATTERNS) {
			*cause = dx_asprintf("at most %d patterns in all",
			    DIFF_MAX_PATTERNS);
			free(word);
			rc = -1;
			break;
		}
		add = dx_reallocarray(add, nadd + 1, sizeof(*add));
		p = &add[nadd++];
		memset(p, 0, sizeof(*p));
		p->kind = kind;
		rc = pattern_compile(p, word, len, cause);
		if (rc == 0 && kind == RULE_LIKE) {
			/* ignore_like: each pattern is followed by a shape. */
			if ((shape = rules_shape(&value, word, &p->shape,
			    cause)) == NULL)
				rc = -1;
			else {
				p->name = dx_asprintf("%s %s %s",
				    rule_keys[kind], word, shape);
				free(shape);
			}
		} else
			p->name = dx_asprintf("%s %s", rule_keys[kind], word);
		free(word);
		if (rc == -1)
			break;
	}
	if (rc == 0 && nadd == 0) {
		*cause = dx_asprintf(kind == RULE_LIKE ? "one or more JSON "
		    "Pointer patterns each followed by a value shape, such as "
		    "/token base64url:43" : "one or more JSON Pointer "
		    "patterns, such as /items/*/etag");
		rc = -1;
	}
	if (rc == -1) {
		for (i = 0; i < nadd; i++)
			pattern_clear(&add[i]);
		free(add);
		return (-1);
	}
	r->pats = dx_reallocarray(r->pats, r->npats + nadd, sizeof(*r->pats));
	memcpy(r->pats + r->npats, add, nadd * sizeof(*add));
	r->npats += nadd;
	free(add);
	return (0);
}

/* Keeps only the last N patterns of KIND, those a key just set. */
static void
rules_keep_last(struct diff_rules *r, int kind, size_t n)
{
	size_t	 i, j, seen = 0, total = 0;

	for (i = 0; i < r->npats; i++)
		if (r->pats[i].kind == kind)
			total++;
	for (i = j = 0; i < r->npats; i++) {
		if (r->pats[i].kind == kind && seen++ < total - n)
			pattern_clear(&r->pats[i]);
		else
			r->pats[j++] = r->pats[i];
	}
	r->npats = j;
}

/* Counts the patterns of KIND. */
static size_t
rules_count(const struct diff_rules *r, int kind)
{
	size_t	 i, n = 0;

	for (i = 0; i < r->npats; i++)
		if (r->pats[i].kind == kind)
			n++;
	return (n);
}

/*
 * Sets a rule that is yes (or WORD instead), no, or a list of patterns,
 * replacing what was inherited.
 */
static int
rules_set_mode(struct diff_rules *r, int kind, const char *word,
    const char *value, char **cause)
{
	size_t	 before;
	int	 b;

	if (value[0] == '/' || value[0] == '"') {
		/* Add first: on error the inherited patterns stay. */
		before = rules_count(r, kind);
		if (rules_add_patterns(r, kind, value, cause) == -1)
			return (-1);
		rules_keep_last(r, kind, rules_count(r, kind) - before);
		r->mode[kind] = MODE_PATHS;
		return (0);
	}
	b = rules_bool(value);
	if (word != NULL && strcasecmp(value, word) == 0)
		b = 1;
	else if (word != NULL && b == 1)
		b = -1;
	if (b == -1) {
		*cause = dx_asprintf("%s, no, or JSON Pointer "
		    "patterns (such as /items/*/created_at)",
		    word != NULL ? word : "yes");
		return (-1);
	}
	rules_keep_last(r, kind, 0);
	r->mode[kind] = b ? MODE_ALL : MODE_OFF;
	return (0);
}

/* Whether C may appear in a header name (RFC 9110 tchar). */
static int
rules_tchar(int c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' &&
	    strchr("!#$%&'*+-.^_`|~", c) != NULL));
}

/* Adds the header names of VALUE to ignore_headers. */
static int
rules_add_headers(struct diff_rules *r, const char *value, char **cause)
{
	char	**names = NULL, *word;
	size_t	 n = 0, len, i, j;
	int	 rc;

	while ((rc = pointer_token(&value, &word, &len, cause)) == 1) {
		for (i = 0; i < len; i++) {
			if (!rules_tchar((unsigned char)word[i]))
				break;
			if (word[i] >= 'A' && word[i] <= 'Z')
				word[i] += 'a' - 'A';
		}
		if (i < len) {
			*cause = dx_asprintf("header names, and %s is not one",
			    word);
			free(word);
			rc = -1;
			break;
		}
		names = dx_reallocarray(names, n + 1, sizeof(*names));
		names[n++] = word;
	}
	if (rc == 0 && n == 0) {
		*cause = dx_asprintf("one or more header names");
		rc = -1;
	}
	if (rc == -1) {
		for (i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return (-1);
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < r->nheaders; j++)
			if (strcmp(r->headers[j], names[i]) == 0)
				break;
		if (j < r->nheaders) {
			free(names[i]);
			continue;
		}
		r->headers = dx_reallocarray(r->headers, r->nheaders + 1,
		    sizeof(char *));
		r->header_names = dx_reallocarray(r->header_names,
		    r->nheaders + 1, sizeof(char *));
		r->headers[r->nheaders] = names[i];
		r->header_names[r->nheaders] = dx_asprintf("ignore_headers %s",
		    names[i]);
		r->nheaders++;
	}
	free(names);
	return (0);
}

/* Parses a status code of three digits, 100 to 599; -1 if not one. */
static int
rules_status_code(const char *s, size_t len)
{
	if (len != 3 || s[0] < '1' || s[0] > '5' || s[1] < '0' || s[1] > '9' ||
	    s[2] < '0' || s[2] > '9')
		return (-1);
	return ((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
}

/* Parses one status_equal item: 5xx, or 404=410[=...]. */
static int
rules_status_item(const char *w, size_t len, struct status_eq *e)
{
	const char	*p, *eq;
	int		 code;

	memset(e, 0, sizeof(*e));
	if (len == 3 && w[0] >= '1' && w[0] <= '5' &&
	    (w[1] == 'x' || w[1] == 'X') && (w[2] == 'x' || w[2] == 'X')) {
		e->class = w[0] - '0';
		return (0);
	}
	for (p = w; p <= w + len; p = eq + 1) {
		if ((eq = memchr(p, '=', (size_t)(w + len - p))) == NULL)
			eq = w + len;
		if ((code = rules_status_code(p, (size_t)(eq - p))) == -1)
			break;
		e->codes = dx_reallocarray(e->codes, e->ncodes + 1,
		    sizeof(*e->codes));
		e->codes[e->ncodes++] = code;
	}
	if (p <= w + len || e->ncodes < 2) {
		free(e->codes);
		return (-1);
	}
	return (0);
}

/*
 * Sets status_equal: classes (5xx, or "class" for all of them) and sets
 * of equal codes (404=410), or no. Replaces what was inherited.
 */
static int
rules_set_status_equal(struct diff_rules *r, const char *value,
    char **cause)
{
	struct diff_rules	 tmp;
	struct status_eq	 e;
	char			*word;
	size_t			 len;
	int			 rc, c;

	memset(&tmp, 0, sizeof(tmp));
	if (strcmp(value, "no") == 0 || strcmp(value, "none") == 0) {
		rules_clear_status_eq(r);
		return (0);
	}
	while ((rc = pointer_token(&value, &word, &len, cause)) == 1) {
		if (strcmp(word, "class") == 0) {
			for (c = 1; c <= 5; c++) {
				memset(&e, 0, sizeof(e));
				e.class = c;
				e.name = dx_asprintf("status_equal %dxx", c);
				rules_add_status_eq(&tmp, &e);
				free(e.name);
			}
		} else if (rules_status_item(word, len, &e) == 0) {
			e.name = dx_asprintf("status_equal %s", word);
			rules_add_status_eq(&tmp, &e);
			free(e.name);
			free(e.codes);
		} else {
			*cause = dx_asprintf("status classes (5xx, or class for "
			    "all) and equal codes (404=410), or no; %s is "
			    "neither", word);
			rc = -1;
		}
		free(word);
		if (rc == -1)
			break;
	}
	if (rc == 0 && tmp.nstatus_eq == 0) {
		*cause = dx_asprintf("status classes (5xx, or class for all) "
		    "and equal codes (404=410), or no");
		rc = -1;
	}
	if (rc == 0) {
		rules_clear_status_eq(r);
		r->status_eq = tmp.status_eq;
		r->nstatus_eq = tmp.nstatus_eq;
		tmp.status_eq = NULL;
		tmp.nstatus_eq = 0;
	}
	rules_clear_status_eq(&tmp);
	return (rc);
}

/* The status_equal item that makes statuses A and B equal, or NULL. */
const char *
rules_status_equal(const struct diff_rules *r, int a, int b)
{
	const struct status_eq	*e;
	size_t			 i, j;
	int			 ina, inb;

	for (i = 0; i < r->nstatus_eq; i++) {
		e = &r->status_eq[i];
		if (e->class != 0) {
			if (a / 100 == e->class && b / 100 == e->class)
				return (e->name);
			continue;
		}
		for (j = 0, ina = inb = 0; j < e->ncodes; j++) {
			ina |= e->codes[j] == a;
			inb |= e->codes[j] == b;
		}
		if (ina && inb)
			return (e->name);
	}
	return (NULL);
}

/*
 * Sets volatile_headers: header names (a final '*' makes a prefix),
 * "default" for the default list, or no. Replaces what was inherited.
 */
static int
rules_set_volatile(struct diff_rules *r, const char *value, char **cause)
{
	struct diff_rules	 tmp;
	char			*word;
	size_t			 len, i;
	int			 rc;

	memset(&tmp, 0, sizeof(tmp));
	if (strcmp(value, "no") == 0 || strcmp(value, "none") == 0) {
		rules_clear_volatile(r);
		return (0);
	}
	while ((rc = pointer_token(&value, &word, &len, cause)) == 1) {
		if (strcmp(word, "default") == 0) {
			for (i = 0; i < sizeof(volatile_default) /
			    sizeof(volatile_default[0]); i++)
				rules_add_volatile(&tmp, volatile_default[i]);
			free(word);
			continue;
		}
		for (i = 0; i < len; i++) {
			if (!rules_tchar((unsigned char)word[i]) ||
			    (word[i] == '*' && i + 1 < len))
				break;
			if (word[i] >= 'A' && word[i] <= 'Z')
				word[i] += 'a' - 'A';
		}
		if (i < len || strcmp(word, "*") == 0) {
			*cause = dx_asprintf("header names (a name prefix ends "
			    "in *, as x-b3-*), default, or no; %s is none of "
			    "them", word);
			free(word);
			rc = -1;
			break;
		}
		rules_add_volatile(&tmp, word);
		free(word);
	}
	if (rc == 0 && tmp.nvolatile == 0) {
		*cause = dx_asprintf("header names, default, or no");
		rc = -1;
	}
	if (rc == 0) {
		rules_clear_volatile(r);
		r->volatile_hdrs = tmp.volatile_hdrs;
		r->nvolatile = tmp.nvolatile;
		tmp.volatile_hdrs = NULL;
		tmp.nvolatile = 0;
	}
	rules_clear_volatile(&tmp);
	return (rc);
}

/* Whether header NAME (any case) is volatile: its value never counts. */
int
rules_header_volatile(const struct diff_rules *r, const char *name,
    size_t len)
{
	const char	*v;
	size_t		 i, n;

	for (i = 0; i < r->nvolatile; i++) {
		v = r->volatile_hdrs[i];
		n = strlen(v);
		if (n > 0 && v[n - 1] == '*') {
			if (len >= n - 1 && dx_eqcase(name, n - 1, v, n - 1))
				return (1);
		} else if (dx_eqcase(name, len, v, n))
			return (1);
	}
	return (0);
}

/* Sets float_tolerance: a finite relative tolerance >= 0. */
static int
rules_set_tolerance(struct diff_rules *r, const char *value, char **cause)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(value, &end);
	if (end == value || *end != '\0' || errno != 0 || !isfinite(v) ||
	    v < 0 || v >= 1) {
		*cause = dx_asprintf("a relative tolerance from 0, below "
		    "1, such as 1e-9");
		return (-1);
	}
	r->tolerance = v;
	return (0);
}

/* The keys diff_rules_set() knows. */
static const char *const diff_keys[] = {
	"ignore", "ignore_headers", "unordered", "float_tolerance",
	"null_equals_empty", "missing_equals_default", "timestamps", "profile",
	"ignore_like", "allow_added", "shape_only", "status_equal",
	"volatile_headers"
};

/* Applies KEY = V, V without surrounding blanks; see diff_rules_set. */
static int
rules_apply(struct diff_rules *r, const char *key, const char *value,
    char **cause)
{
	/* Patterns and names become JSON keys of the record: text only. */
	if (!utf8_valid(value)) {
		*cause = dx_asprintf("UTF-8 text");
		return (-1);
	}
	if (strcmp(key, "ignore") == 0)
		return (rules_add_patterns(r, RULE_IGNORE, value, cause));
	if (strcmp(key, "unordered") == 0)
		return (rules_add_patterns(r, RULE_UNORDERED, value, cause));
	if (strcmp(key, "ignore_like") == 0)
		return (rules_add_patterns(r, RULE_LIKE, value, cause));
	if (strcmp(key, "allow_added") == 0)
		return (rules_set_mode(r, RULE_ADDED, NULL, value, cause));
	if (strcmp(key, "shape_only") == 0)
		return (rules_set_mode(r, RULE_SHAPE, NULL, value, cause));
	if (strcmp(key, "status_equal") == 0)
		return (rules_set_status_equal(r, value, cause));
	if (strcmp(key, "volatile_headers") == 0)
		return (rules_set_volatile(r, value, cause));
	if (strcmp(key, "ignore_headers") == 0)
		return (rules_add_headers(r, value, cause));
	if (strcmp(key, "float_tolerance") == 0)
		return (rules_set_tolerance(r, value, cause));
	if (strcmp(key, "null_equals_empty") == 0)
		return (rules_set_mode(r, RULE_NULL, NULL, value, cause));
	if (strcmp(key, "missing_equals_default") == 0)
		return (rules_set_mode(r, RULE_MISSING, NULL, value, cause));
	if (strcmp(key, "timestamps") == 0)
		return (rules_set_mode(r, RULE_TIME, "instant", value, cause));
	if (strcmp(value, "go-rust") == 0)
		r->profile = PROFILE_GO_RUST;
	else if (strcmp(value, "none") == 0)
		r->profile = PROFILE_NONE;
	else {
		*cause = dx_asprintf("a profile: go-rust or none");
		return (-1);
	}
	return (0);
}

/*
 * Applies KEY = VALUE. Returns 0, -1 with *CAUSE if the value is bad
 * (R is then unchanged), or 1 if KEY is not a diff rule.
 */
int
diff_rules_set(struct diff_rules *r, const char *key, const char *value,
    char **cause)
{
	char	*v;
	size_t	 i, len;
	int	 rc;

	for (i = 0; i < sizeof(diff_keys) / sizeof(diff_keys[0]); i++)
		if (strcmp(key, diff_keys[i]) == 0)
			break;
	if (i == sizeof(diff_keys) / sizeof(diff_keys[0]))
		return (1);
	while (*value == ' ' || *value == '\t' || *value == '\n' ||
	    *value == '\r')
		value++;
	for (len = strlen(value); len > 0 && (value[len - 1] == ' ' ||
	    value[len - 1] == '\t' || value[len - 1] == '\n' ||
	    value[len - 1] == '\r'); len--)
		;
	v = dx_strndup(value, len);
	rc = rules_apply(r, key, v, cause);
	free(v);
	return (rc);
}
