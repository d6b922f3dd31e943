/*
 * JSON Pointers (RFC 6901) and the patterns that rules are written in.
 *
 * A pattern is a pointer as the log prints it, so a path can be copied
 * from a record into a rule: "/items/0/etag", with "~0" for '~' and "~1"
 * for '/'. A segment that is exactly "*" matches one segment; "**"
 * matches any number of them, none included, so the pattern /meta
 * followed by the segment "**" matches "/meta" and everything under
 * it. The whole document, the pointer "", is written "" (with the
 * quotes); a pattern may always be quoted, as a JSON string, which is
 * how a key with a space is written.
 *
 * Matching runs a small NFA: bit i of a uint64_t mask says "the first i
 * segments matched", so stepping one path segment costs a few shifts and
 * a pattern has at most DIFF_MAX_SEGMENTS segments.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diff-int.h"

/* Appends a reference token, escaped for a JSON Pointer. */
void
pointer_escape(struct dbuf *b, const char *s, size_t len)
{
	const char	*run = s, *end = s + len;

	for (; s < end; s++) {
		if (*s != '~' && *s != '/')
			continue;
		dbuf_add(b, run, (size_t)(s - run));
		dbuf_add(b, *s == '~' ? "~0" : "~1", 2);
		run = s + 1;
	}
	dbuf_add(b, run, (size_t)(end - run));
}

/*
 * Reads the next whitespace-separated word of a list at *SP, a quoted
 * JSON string being one word. Returns 1 with the word as written in
 * *WORD (allocated) and its length, 0 at the end, -1 with *CAUSE.
 */
int
pointer_token(const char **sp, char **word, size_t *len, char **cause)
{
	const char	*s = *sp, *start;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	if (*s == '\0') {
		*sp = s;
		return (0);
	}
	start = s;
	if (*s == '"') {
		for (s++; *s != '"'; s++) {
			if (*s == '\\' && s[1] != '\0')
				s++;
			else if (*s == '\0') {
				*cause = dx_asprintf("a closing quote after "
				    "%s", start);
				return (-1);
			}
		}
		s++;
		if (*s != '\0' && *s != ' ' && *s != '\t' && *s != '\n' &&
		    *s != '\r') {
			*cause = dx_asprintf("a space after the quoted "
			    "pattern %.*s", (int)(s - start), start);
			return (-1);
		}
	} else {
		while (*s != '\0' && *s != ' ' && *s != '\t' && *s != '\n' &&
		    *s != '\r')
			s++;
	}
	*len = (size_t)(s - start);
	*word = dx_strndup(start, *len);
	*sp = s;
	return (1);
}

/*
 * A word of a list as it means: WORD (*LEN bytes), or the string it
 * holds if it is quoted as a JSON string; allocated, NUL-terminated,
 * *LEN updated. NULL with *CAUSE if the quoting is bad or hides a NUL.
 */
char *
pointer_unquote(const char *word, size_t *len, char **cause)
{
	struct jdoc	 d;
	char		*s;
	size_t		 n;

	if (*len == 0 || word[0] != '"')
		return (dx_strndup(word, *len));
	/* Quoted: a JSON string, decoded by the JSON parser. */
	memset(&d, 0, sizeof(d));
	if (json_parse(&d, (const unsigned char *)word, *len) == -1 ||
	    d.nodes[0].type != J_STRING) {
		json_free(&d);
		*cause = dx_asprintf("a valid JSON string, not %.*s",
		    (int)*len, word);
		return (NULL);
	}
	n = d.nodes[0].len;
	s = dx_strndup(d.nodes[0].s, n);
	json_free(&d);
	if (strlen(s) != n) {
		*cause = dx_asprintf("a word without NUL, not %.*s",
		    (int)*len, word);
		free(s);
		return (NULL);
	}
	*len = n;
	return (s);
}

/* Adds segment [S, S+LEN) of a pointer to P, unescaped. */
static int
pattern_add_segment(struct pattern *p, const char *s, size_t len,
    char **cause)
{
	struct pseg	*g;
	size_t		 i, n;

	if (p->nsegs == DIFF_MAX_SEGMENTS) {
		*cause = dx_asprintf("at most %d segments in a pattern, not "
		    "more as in %s", DIFF_MAX_SEGMENTS, p->text);
		return (-1);
	}
	p->segs = dx_reallocarray(p->segs, p->nsegs + 1, sizeof(*p->segs));
	g = &p->segs[p->nsegs++];
	g->lit = NULL;
	g->len = 0;
	if (len == 1 && s[0] == '*') {
		g->type = PSEG_STAR;
		return (0);
	}
	if (len == 2 && s[0] == '*' && s[1] == '*') {
		g->type = PSEG_GLOBSTAR;
		return (0);
	}
	g->type = PSEG_LITERAL;
	g->lit = dx_malloc(len + 1);
	for (i = n = 0; i < len; i++) {
		if (s[i] == '*') {
			*cause = dx_asprintf("'*' only as a whole segment "
			    "(\"*\" or \"**\") in %s", p->text);
			return (-1);
		}
		if (s[i] != '~') {
			g->lit[n++] = s[i];
			continue;
		}
		if (i + 1 == len || (s[i + 1] != '0' && s[i + 1] != '1')) {
			*cause = dx_asprintf("'~' followed by 0 or 1 in %s "
			    "(\"~0\" is '~', \"~1\" is '/')", p->text);
			return (-1);
		}
		g->lit[n++] = s[++i] == '0' ? '~' : '/';
	}
	g->lit[n] = '\0';
	g->len = n;
	return (0);
}

/*
 * Compiles WORD, a pattern as written (maybe quoted), into P; p->kind
 * and p->name are the caller's. Returns 0, or -1 with *CAUSE; P must be
 * cleared either way.
 */
int
pattern_compile(struct pattern *p, const char *word, size_t len,
    char **cause)
{
	const char	*s, *end, *seg, *slash;
	int		 rc;

	p->text = dx_strndup(word, len);
	p->segs = NULL;
	p->nsegs = 0;
	if ((s = pointer_unquote(word, &len, cause)) == NULL)
		return (-1);
	rc = 0;
	if (len > 0 && s[0] != '/') {
		*cause = dx_asprintf("a JSON Pointer pattern starting with "
		    "'/', or \"\" for the whole document, not %s", p->text);
		rc = -1;
	}
	end = s + len;
	for (seg = s + 1; rc == 0 && len > 0 && seg <= end; seg++) {
		if ((slash = memchr(seg, '/', (size_t)(end - seg))) == NULL)
			slash = end;
		rc = pattern_add_segment(p, seg, (size_t)(slash - seg), cause);
		seg = slash;
	}
	free((char *)s);
	return (rc);
}

/* Deep-copies pattern SRC into P. */
void
pattern_copy(struct pattern *p, const struct pattern *src)
{
	size_t	 i;

	p->kind = src->kind;
	p->text = dx_strdup(src->text);
	p->name = dx_strdup(src->name);
	p->shape = src->shape != NULL ? shape_copy(src->shape) : NULL;
	p->nsegs = src->nsegs;
	p->segs = dx_reallocarray(NULL, src->nsegs, sizeof(*p->segs));
	for (i = 0; i < src->nsegs; i++) {
		p->segs[i] = src->segs[i];
		if (src->segs[i].lit != NULL)
			p->segs[i].lit = dx_strndup(src->segs[i].lit,
			    src->segs[i].len);
	}
}

/* Frees what a pattern holds. */
void
pattern_clear(struct pattern *p)
{
	size_t	 i;

	for (i = 0; i < p->nsegs; i++)
		free(p->segs[i].lit);
	free(p->segs);
	free(p->text);
	free(p->name);
	shape_free(p->shape);
	memset(p, 0, sizeof(*p));
}

/* Adds the states reachable by letting "**" match nothing. */
static uint64_t
pattern_closure(const struct pattern *p, uint64_t mask)
{
	size_t	 i;

	for (i = 0; i < p->nsegs; i++)
		if ((mask & (1ULL << i)) && p->segs[i].type == PSEG_GLOBSTAR)
			mask |= 1ULL << (i + 1);
	return (mask);
}

/* The state at the root of a document (the pointer ""). */
uint64_t
pattern_start(const struct pattern *p)
{
	return (pattern_closure(p, 1));
}

/* The state after one more path segment SEG (unescaped); 0: dead. */
uint64_t
pattern_step(const struct pattern *p, uint64_t mask, const char *seg,
    size_t len)
{
	const struct pseg	*g;
	uint64_t		 next = 0;
	size_t			 i;

	for (i = 0; i < p->nsegs; i++) {
		if ((mask & (1ULL << i)) == 0)
			continue;
		g = &p->segs[i];
		if (g->type == PSEG_GLOBSTAR)
			next |= 1ULL << i;
		else if (g->type == PSEG_STAR || (g->len == len &&
		    memcmp(g->lit, seg, len) == 0))
			next |= 1ULL << (i + 1);
	}
	return (next == 0 ? 0 : pattern_closure(p, next));
}

/* Whether state MASK means the whole path matched. */
int
pattern_matches(const struct pattern *p, uint64_t mask)
{
	return ((mask & (1ULL << p->nsegs)) != 0);
}
