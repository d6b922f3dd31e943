/*
 * JSON for the diff engine: a strict tokenizer (RFC 8259, UTF-8 checked,
 * nesting bounded by DIFF_JSON_MAX_DEPTH), a flat tree built on it, a
 * token-for-token comparison of two documents, and compact output.
 *
 * Why not jansson: numbers must keep their exact text (jansson cannot
 * hold integers past 2^63-1, nor a decimal's digits), duplicate keys must
 * be seen rather than rejected or collapsed, and a body must never be
 * refused for its size. The tokenizer keeps every number as its text and
 * every string as its decoded bytes; nothing here recurses, so depth
 * costs memory only within the bound.
 *
 * Most pairs of responses are equal, and usually written by serializers
 * that put keys in the same order: json_stream_equal() walks both token
 * streams at once without building anything, and the trees are built
 * only when it finds a difference (see docs/performance.md).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diff-int.h"

/* Where the tokenizer is in the grammar. */
enum lex_state {
	LS_VALUE,	/* a value */
	LS_FIRST,	/* after '[': a value or ']' */
	LS_FIRST_KEY,	/* after '{': a key or '}' */
	LS_KEY,		/* after ',' in an object: a key */
	LS_NEXT		/* after a value: ',', a closing bracket or the end */
};

/* Tokens: the values are enum jtype (J_ARRAY, J_OBJECT open one). */
#define T_KEY		16
#define T_CLOSE		17
#define T_END		18
#define T_ERROR		19

struct lexer {
	const unsigned char	*p;
	const unsigned char	*start;
	const unsigned char	*end;
	char			*arena;	/* decoded strings, input-sized */
	size_t			 arenacap;
	size_t			 used;
	enum lex_state		 state;
	uint32_t		 depth;
	const char		*err;
	size_t			 erroff;
	uint8_t			 stack[DIFF_JSON_MAX_DEPTH]; /* 1: object */
};

struct token {
	const char	*s;
	size_t		 len;
	uint8_t		 flags;
};

/* Bytes that end a plain run inside a string: '"', '\\', controls, >= 0x80. */
static const uint8_t string_stop[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
};

/* What the one-character escapes stand for (\\u aside); 0: none. */
static const char unescape[256] = {
	['"'] = '"', ['\\'] = '\\', ['/'] = '/', ['b'] = '\b', ['f'] = '\f',
	['n'] = '\n', ['r'] = '\r', ['t'] = '\t'
};

/*
 * The bytes among the 8 at P that end a plain run, as their lanes' top
 * bits: a byte below 0x20, '"', '\\' or from 0x80. Each of those sets
 * its lane's top bit, and a borrow only leaves a lane that has one, so
 * nothing is missed and the lowest lane set is always a true one.
 */
static inline uint64_t
lex_stop8(const unsigned char *p)
{
	uint64_t	 w, t;

	memcpy(&w, p, 8);
	t = (w - 0x2020202020202020ULL) |
	    ((w ^ 0x2222222222222222ULL) - 0x0101010101010101ULL) |
	    ((w ^ 0x5c5c5c5c5c5c5c5cULL) - 0x0101010101010101ULL) | w;
	return (t & 0x8080808080808080ULL);
}

/* The first byte at or after P, before END, that ends a plain run. */
static inline const unsigned char *
lex_plain_run(const unsigned char *p, const unsigned char *end)
{
	uint64_t	 m;

	while (end - p >= 8) {
		if ((m = lex_stop8(p)) != 0) {
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			/* The first byte in memory is the lowest lane. */
			return (p + (__builtin_ctzll(m) >> 3));
#else
			break;
#endif
		}
		p += 8;
	}
	while (p < end && !string_stop[*p])
		p++;
	return (p);
}

/*
 * Starts tokenizing LEN bytes at BUF, decoding strings into D's arena
 * (grown when first needed; lex_done() hands it back).
 */
static void
lex_init(struct lexer *lx, const unsigned char *buf, size_t len,
    struct jdoc *d)
{
	lx->p = lx->start = buf;
	lx->end = buf + len;
	lx->arena = d->arena;
	lx->arenacap = d->arenacap;
	lx->used = 0;
	lx->state = LS_VALUE;
	lx->depth = 0;
	lx->err = NULL;
	lx->erroff = 0;
}

/* Gives the arena back to D, for its strings or a later parse. */
static void
lex_done(struct lexer *lx, struct jdoc *d)
{
	d->arena = lx->arena;
	d->arenacap = lx->arenacap;
}

/* Records why the input is not JSON, and where. */
static int
lex_fail(struct lexer *lx, const unsigned char *at, const char *why)
{
	lx->err = why;
	lx->erroff = (size_t)(at - lx->start);
	return (T_ERROR);
}

/* Skips insignificant whitespace. */
static inline void
lex_space(struct lexer *lx)
{
	const unsigned char	*p = lx->p;

	/* Most tokens follow the last without a blank, or after one. */
	if (p < lx->end && *p > ' ')
		return;
	while (p < lx->end && (*p == ' ' || *p == '\n' || *p == '\r' ||
	    *p == '\t'))
		p++;
	lx->p = p;
}

/* Length of the valid UTF-8 sequence at P, or 0. */
size_t
diff_utf8_len(const unsigned char *p, const unsigned char *end)
{
	size_t	 n, avail = (size_t)(end - p);

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return (0);
	if (avail < n || (p[1] & 0xc0) != 0x80)
		return (0);
	/* Overlong, surrogate and past-U+10FFFF second bytes. */
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
		return (0);
	if (n > 2 && (p[2] & 0xc0) != 0x80)
		return (0);
	if (n > 3 && (p[3] & 0xc0) != 0x80)
		return (0);
	return (n);
}

/* The value of four hex digits at P, or -1. */
long
diff_hex4(const unsigned char *p, const unsigned char *end)
{
	long	 v = 0;
	int	 i, c;

	if (end - p < 4)
		return (-1);
	for (i = 0; i < 4; i++) {
		c = p[i];
		if (c >= '0' && c <= '9')
			c -= '0';
		else if (c >= 'a' && c <= 'f')
			c -= 'a' - 10;
		else if (c >= 'A' && c <= 'F')
			c -= 'A' - 10;
		else
			return (-1);
		v = v * 16 + c;
	}
	return (v);
}

/* Writes code point CP as UTF-8 at OUT; returns its length. */
size_t
diff_utf8_put(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return (1);
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return (2);
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return (3);
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return (4);
}

/*
 * Reads the string whose opening quote is at lx->p. Its decoded bytes
 * are the input itself when it has no escapes, else a copy in the arena
 * (a decoded string is never longer than its text, so an arena of the
 * input's size holds them all).
 */
static int
lex_string_slow(struct lexer *lx, struct token *t)
{
	const unsigned char	*p, *end = lx->end, *run, *esc;
	char			*out = NULL;
	size_t			 olen = 0, n;
	long			 cp, lo;

	t->flags = 0;
	run = p = lx->p + 1;
	for (;;) {
		p = lex_plain_run(p, end);
		if (p == end)
			return (lex_fail(lx, lx->p, "unterminated string"));
		if (*p == '"')
			break;
		if (*p >= 0x80) {
			if ((n = diff_utf8_len(p, end)) == 0)
				return (lex_fail(lx, p, "invalid UTF-8"));
			p += n;
			continue;
		}
		if (*p != '\\')
			return (lex_fail(lx, p, "control character in string"));
		if (out == NULL) {
			if (lx->arenacap < (size_t)(end - lx->start)) {
				free(lx->arena);
				lx->arenacap = (size_t)(end - lx->start);
				lx->arena = dx_malloc(lx->arenacap);
			}
			out = lx->arena + lx->used;
		}
		memcpy(out + olen, run, (size_t)(p - run));
		olen += (size_t)(p - run);
		esc = p++;
		if (p == end)
			return (lex_fail(lx, lx->p, "unterminated string"));
		if (unescape[*p] != 0) {
			out[olen++] = unescape[*p++];
			run = p;
			continue;
		}
		if (*p++ != 'u')
			return (lex_fail(lx, esc, "invalid escape"));
		if ((cp = diff_hex4(p, end)) == -1)
			return (lex_fail(lx, esc, "invalid \\u escape"));
		p += 4;
		if (cp >= 0xdc00 && cp <= 0xdfff)
			return (lex_fail(lx, esc, "lone UTF-16 surrogate"));
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
			    (lo = diff_hex4(p + 2, end)) < 0xdc00 || lo > 0xdfff)
				return (lex_fail(lx, esc,
				    "lone UTF-16 surrogate"));
			p += 6;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		}
		olen += diff_utf8_put(out + olen, (uint32_t)cp);
		run = p;
	}
	if (out != NULL) {
		memcpy(out + olen, run, (size_t)(p - run));
		olen += (size_t)(p - run);
		lx->used += olen;
		t->s = out;
		t->len = olen;
	} else {
		t->s = (const char *)run;
		t->len = (size_t)(p - run);
	}
	lx->p = p + 1;
	return (J_STRING);
}

/*
 * Reads the string at lx->p: here if it is plain ASCII without escapes,
 * most strings, else with lex_string_slow().
 */
static inline int
lex_string(struct lexer *lx, struct token *t)
{
	const unsigned char	*s = lx->p + 1, *p;

	p = lex_plain_run(s, lx->end);
	if (p == lx->end || *p != '"')
		return (lex_string_slow(lx, t));
	t->flags = 0;
	t->s = (const char *)s;
	t->len = (size_t)(p - s);
	lx->p = p + 1;
	return (J_STRING);
}

/* Reads the number at lx->p; its token is its text. */
static inline __attribute__((always_inline)) int
lex_number(struct lexer *lx, struct token *t)
{
	const unsigned char	*p = lx->p, *end = lx->end;

	t->flags = JF_INTEGER;
	if (*p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if (p < end && *p >= '1' && *p <= '9') {
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	} else
		return (lex_fail(lx, lx->p, "invalid number"));
	if (p < end && *p == '.') {
		p++;
		if (p == end || *p < '0' || *p > '9')
			return (lex_fail(lx, lx->p, "invalid number"));
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		t->flags = 0;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p == end || *p < '0' || *p > '9')
			return (lex_fail(lx, lx->p, "invalid number"));
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		t->flags = 0;
	}
	t->s = (const char *)lx->p;
	t->len = (size_t)(p - lx->p);
	lx->p = p;
	return (J_NUMBER);
}

/* Reads the literal WORD (null, true, false) at lx->p. */
static int
lex_word(struct lexer *lx, const char *word, size_t len, int type)
{
	if ((size_t)(lx->end - lx->p) < len || memcmp(lx->p, word, len) != 0)
		return (lex_fail(lx, lx->p, "invalid literal"));
	lx->p += len;
	return (type);
}

/* Reads a value; containers only open here. */
static inline __attribute__((always_inline)) int
lex_value(struct lexer *lx, struct token *t)
{
	t->flags = 0;
	lx->state = LS_NEXT;
	switch (*lx->p) {
	case '{':
	case '[':
		if (lx->depth == DIFF_JSON_MAX_DEPTH)
			return (lex_fail(lx, lx->p, "nesting too deep"));
		lx->stack[lx->depth++] = (*lx->p == '{');
		lx->state = (*lx->p == '{') ? LS_FIRST_KEY : LS_FIRST;
		lx->p++;
		return (lx->stack[lx->depth - 1] ? J_OBJECT : J_ARRAY);
	case '"':
		return (lex_string(lx, t));
	case 't':
		return (lex_word(lx, "true", 4, J_TRUE));
	case 'f':
		return (lex_word(lx, "false", 5, J_FALSE));
	case 'n':
		return (lex_word(lx, "null", 4, J_NULL));
	default:
		if (*lx->p == '-' || (*lx->p >= '0' && *lx->p <= '9'))
			return (lex_number(lx, t));
		return (lex_fail(lx, lx->p, "unexpected character"));
	}
}

/* Closes the innermost container. */
static int
lex_close(struct lexer *lx)
{
	lx->p++;
	lx->depth--;
	lx->state = LS_NEXT;
	return (T_CLOSE);
}

/*
 * The next token: a value type (J_ARRAY and J_OBJECT open a container),
 * T_KEY (its ':' consumed), T_CLOSE, T_END or T_ERROR.
 */
static inline __attribute__((always_inline)) int
lex_next(struct lexer *lx, struct token *t)
{
	int	 obj, type;

again:
	lex_space(lx);
	if (lx->p == lx->end) {
		if (lx->state == LS_NEXT && lx->depth == 0)
			return (T_END);
		return (lex_fail(lx, lx->p, lx->p == lx->start ?
		    "empty document" : "unexpected end"));
	}
	switch (lx->state) {
	case LS_NEXT:
		if (lx->depth == 0)
			return (lex_fail(lx, lx->p, "data after the document"));
		obj = lx->stack[lx->depth - 1];
		if (*lx->p == ',') {
			lx->p++;
			lx->state = obj ? LS_KEY : LS_VALUE;
			/* The usual case, no blank after ',': no second turn. */
			if (lx->p == lx->end || *lx->p <= ' ')
				goto again;
			if (obj)
				goto key;
			break;
		}
		if (*lx->p == (obj ? '}' : ']'))
			return (lex_close(lx));
		return (lex_fail(lx, lx->p, obj ? "expected ',' or '}'" :
		    "expected ',' or ']'"));
	case LS_FIRST_KEY:
		if (*lx->p == '}')
			return (lex_close(lx));
		/* FALLTHROUGH */
	case LS_KEY:
	key:
		if (*lx->p != '"')
			return (lex_fail(lx, lx->p, "expected a key"));
		if ((type = lex_string(lx, t)) == T_ERROR)
			return (T_ERROR);
		lex_space(lx);
		if (lx->p == lx->end || *lx->p != ':')
			return (lex_fail(lx, lx->p, "expected ':'"));
		lx->p++;
		lx->state = LS_VALUE;
		return (T_KEY);
	case LS_FIRST:
		if (*lx->p == ']')
			return (lex_close(lx));
		/* FALLTHROUGH */
	case LS_VALUE:
		break;
	}
	return (lex_value(lx, t));
}

/* Appends a node. */
static struct jnode *
tree_add(struct jdoc *d, int type, const struct token *t)
{
	struct jnode	*n;

	if (d->n == d->cap) {
		d->cap = d->cap == 0 ? 64 : d->cap * 2;
		d->nodes = dx_reallocarray(d->nodes, d->cap, sizeof(*n));
	}
	n = &d->nodes[d->n];
	n->s = t->s;
	n->len = (uint32_t)t->len;
	n->end = d->n + 1;
	n->n = 0;
	n->type = (uint8_t)type;
	n->flags = t->flags;
	d->n++;
	return (n);
}

/* Whether key nodes A and B hold the same key. */
static inline int
tree_key_eq(const struct jnode *a, const struct jnode *b)
{
	return (a->n == b->n && dx_memeq(a->s, a->len, b->s, b->len));
}

/*
 * Marks the keys of object OBJ that repeat an earlier key. Small
 * objects compare their keys' hashes pairwise; larger ones use an open
 * addressing table sized to the object (reused between objects).
 * json_parse() calls it only for objects whose keys' hashes collide in
 * a 64-bit filter (JF_MAYBEDUP): equal keys always do, most others not.
 */
static void
tree_dupcheck(struct jdoc *d, uint32_t obj)
{
	struct jnode	*nodes = d->nodes, *k;
	uint32_t	 keys[8], nk = 0, i, j, end = nodes[obj].end, mask;
	size_t		 size;

	if (nodes[obj].n < 2)
		return;
	if (nodes[obj].n <= 8) {
		for (i = obj + 1; i < end; i = nodes[i + 1].end)
			keys[nk++] = i;
		for (i = 1; i < nk; i++) {
			for (j = 0; j < i; j++) {
				if (tree_key_eq(&nodes[keys[i]],
				    &nodes[keys[j]])) {
					nodes[keys[i]].flags |= JF_DUP;
					nodes[obj].flags |= JF_DUPKEYS;
					break;
				}
			}
		}
		return;
	}
	for (size = 16; size < (size_t)nodes[obj].n * 2; size *= 2)
		;
	if (size > d->tablecap) {
		free(d->table);
		d->table = dx_reallocarray(NULL, size, sizeof(*d->table));
		d->tablecap = size;
	}
	memset(d->table, 0, size * sizeof(*d->table));
	mask = (uint32_t)size - 1;
	for (i = obj + 1; i < end; i = nodes[i + 1].end) {
		k = &nodes[i];
		for (j = k->n & mask; d->table[j] != 0; j = (j + 1) & mask) {
			if (tree_key_eq(k, &nodes[d->table[j] - 1])) {
				k->flags |= JF_DUP;
				nodes[obj].flags |= JF_DUPKEYS;
				break;
			}
		}
		if (d->table[j] == 0)
			d->table[j] = i + 1;
	}
}

/*
 * Parses LEN bytes into D, zeroed or holding the buffers of an earlier
 * parse (reused). Returns 0, or -1 with d->err and d->erroff saying
 * why; json_free() it either way. Nodes take at most 24 bytes per byte
 * of input, the arena at most the input's size.
 */
int
json_parse(struct jdoc *d, const unsigned char *buf, size_t len)
{
	struct lexer	 lx;
	struct token	 t;
	struct jnode	*parent, *n;
	uint32_t	 stack[DIFF_JSON_MAX_DEPTH], depth = 0, top;
	uint64_t	 seen[DIFF_JSON_MAX_DEPTH], bit;	/* key hash bits */
	int		 type;

	d->n = 0;
	d->err = NULL;
	d->erroff = 0;
	if (len >= UINT32_MAX) {
		d->err = "document too large";
		return (-1);
	}
	if (d->cap < len / 8 + 16) {
		free(d->nodes);
		d->cap = (uint32_t)(len / 8 + 16);
		d->nodes = dx_reallocarray(NULL, d->cap, sizeof(*d->nodes));
	}
	lex_init(&lx, buf, len, d);
	for (;;) {
		type = lex_next(&lx, &t);
		if (type == T_END)
			break;
		if (type == T_ERROR) {
			d->err = lx.err;
			d->erroff = lx.erroff;
			lex_done(&lx, d);
			return (-1);
		}
		if (type == T_CLOSE) {
			top = stack[--depth];
			d->nodes[top].end = d->n;
			if (d->nodes[top].flags & JF_MAYBEDUP) {
				d->nodes[top].flags &= ~JF_MAYBEDUP;
				tree_dupcheck(d, top);
			}
			continue;
		}
		if (depth > 0) {
			parent = &d->nodes[stack[depth - 1]];
			if (type == T_KEY || parent->type == J_ARRAY)
				parent->n++;
		}
		n = tree_add(d, type == T_KEY ? J_STRING : type, &t);
		if (type == T_KEY) {
			n->n = (uint32_t)dx_hash(t.s, t.len, 0);
			bit = 1ULL << (n->n & 63);
			if (seen[depth - 1] & bit)
				d->nodes[stack[depth - 1]].flags |= JF_MAYBEDUP;
			seen[depth - 1] |= bit;
		} else if (type == J_ARRAY || type == J_OBJECT) {
			seen[depth] = 0;
			stack[depth++] = d->n - 1;
		}
	}
	lex_done(&lx, d);
	return (0);
}

/* Frees what json_parse allocated. */
void
json_free(struct jdoc *d)
{
	free(d->nodes);
	free(d->arena);
	free(d->table);
	memset(d, 0, sizeof(*d));
}

/* The bytes D's buffers hold. */
size_t
json_size(const struct jdoc *d)
{
	return ((size_t)d->cap * sizeof(*d->nodes) + d->arenacap +
	    d->tablecap * sizeof(*d->table));
}

/*
 * Whether two documents are valid and equal token for token: the same
 * structure and key order, strings equal once decoded, numbers equal in
 * value. Whitespace, escapes and number spelling do not matter. 0 means
 * only "not shown equal this way"; the trees decide. Strings are
 * decoded into the arenas of DA and DB (zeroed, or reused). *PREFIX is
 * set to the number of leading nodes (json_parse() numbering) that the
 * two documents have equal token for token.
 */
int
json_stream_equal(const unsigned char *a, size_t alen,
    const unsigned char *b, size_t blen, struct jdoc *da, struct jdoc *db,
    uint32_t *prefix)
{
	struct lexer	*la, *lb;
	struct token	 x, y;
	uint32_t	 nodes = 0;
	int		 ta, tb, eq = 0;

	/* Two lexers hold two DIFF_JSON_MAX_DEPTH stacks: not on ours. */
	la = dx_malloc(sizeof(*la));
	lb = dx_malloc(sizeof(*lb));
	lex_init(la, a, alen, da);
	lex_init(lb, b, blen, db);
	for (;;) {
		ta = lex_next(la, &x);
		tb = lex_next(lb, &y);
		if (ta != tb || ta == T_ERROR)
			break;
		if (ta == T_END) {
			eq = 1;
			break;
		}
		if (ta == J_STRING || ta == T_KEY) {
			if (x.len != y.len || !dx_eq(x.s, y.s, x.len))
				break;
		} else if (ta == J_NUMBER) {
			if ((x.len != y.len || !dx_eq(x.s, y.s, x.len)) &&
			    !num_equal(x.s, x.len, y.s, y.len))
				break;
		}
		if (ta != T_CLOSE)
			nodes++;
	}
	*prefix = nodes;
	lex_done(la, da);
	lex_done(lb, db);
	free(la);
	free(lb);
	return (eq);
}

/*
 * Writes node I of D and its subtree as compact JSON, numbers in their
 * original text. Stops once more than LIMIT bytes are written and
 * returns 1 (the output is then cut); else 0.
 */
int
json_write(struct dbuf *b, const struct jdoc *d, uint32_t i, size_t limit)
{
	struct open {
		uint32_t	 end;
		uint32_t	 count;
		uint8_t		 type;
	}		*st, *top;
	const struct jnode *n;
	size_t		 start = b->len;
	uint32_t	 k, end = d->nodes[i].end, depth = 0;
	int		 cut = 0;

	st = dx_reallocarray(NULL, DIFF_JSON_MAX_DEPTH, sizeof(*st));
	for (k = i; k < end; k++) {
		while (depth > 0 && st[depth - 1].end <= k) {
			depth--;
			dbuf_addc(b, st[depth].type == J_OBJECT ? '}' : ']');
		}
		n = &d->nodes[k];
		if (depth > 0) {
			top = &st[depth - 1];
			if (top->count++ > 0 &&
			    (top->type == J_ARRAY || top->count % 2 == 1))
				dbuf_addc(b, ',');
			if (top->type == J_OBJECT && top->count % 2 == 1) {
				dbuf_add_jstring(b, n->s, n->len);
				dbuf_addc(b, ':');
				if (b->len - start > limit) {
					cut = 1;
					break;
				}
				continue;
			}
		}
		switch (n->type) {
		case J_NULL:
			dbuf_add(b, "null", 4);
			break;
		case J_FALSE:
			dbuf_add(b, "false", 5);
			break;
		case J_TRUE:
			dbuf_add(b, "true", 4);
			break;
		case J_NUMBER:
			dbuf_add(b, n->s, n->len);
			break;
		case J_STRING:
			dbuf_add_jstring(b, n->s, n->len);
			break;
		default:
			dbuf_addc(b, n->type == J_OBJECT ? '{' : '[');
			st[depth].end = n->end;
			st[depth].count = 0;
			st[depth].type = n->type;
			depth++;
			break;
		}
		if (b->len - start > limit) {
			cut = 1;
			break;
		}
	}
	while (!cut && depth > 0) {
		depth--;
		dbuf_addc(b, st[depth].type == J_OBJECT ? '}' : ']');
	}
	free(st);
	return (cut);
}

/* Whether node I is a default value: null, false, 0, "", [] or {}. */
int
json_is_default(const struct jdoc *d, uint32_t i)
{
	const struct jnode	*n = &d->nodes[i];

	switch (n->type) {
	case J_NULL:
	case J_FALSE:
		return (1);
	case J_NUMBER:
		return (num_is_zero(n->s, n->len));
	case J_STRING:
		return (n->len == 0);
	case J_ARRAY:
	case J_OBJECT:
		return (n->n == 0);
	default:
		return (0);
	}
}
