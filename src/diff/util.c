/*
 * Small helpers of the diff engine: allocation, growable buffers, JSON
 * string output and hashing. The engine links none of the daemon's
 * modules, so it carries its own (abort(3) on exhaustion, as the
 * daemon's x* helpers do).
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff-int.h"

/* malloc(3) that never returns NULL. */
void *
dx_malloc(size_t size)
{
	void	*p;

	if ((p = malloc(size == 0 ? 1 : size)) == NULL)
		abort();
	return (p);
}

/* calloc(3) that never returns NULL. */
void *
dx_calloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size)) == NULL)
		abort();
	return (p);
}

/* reallocarray(3) that never returns NULL. */
void *
dx_reallocarray(void *old, size_t n, size_t size)
{
	void	*p;

	if ((p = reallocarray(old, n == 0 ? 1 : n, size == 0 ? 1 : size)) ==
	    NULL)
		abort();
	return (p);
}

/* strdup(3) that never returns NULL. */
char *
dx_strdup(const char *s)
{
	return (dx_strndup(s, strlen(s)));
}

/* strndup(3) that never returns NULL; S need not be terminated. */
char *
dx_strndup(const char *s, size_t len)
{
	char	*p;

	p = dx_malloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return (p);
}

/* Allocating printf. */
char *
dx_asprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		abort();
	va_end(ap);
	return (s);
}

/* Makes room for LEN more bytes and a terminating NUL. */
static void
dbuf_grow(struct dbuf *b, size_t len)
{
	size_t	 want;

	if (len > SIZE_MAX / 2 - b->len)
		abort();
	want = b->len + len + 1;
	if (want <= b->cap)
		return;
	if (b->cap == 0)
		b->cap = 64;
	while (b->cap < want)
		b->cap *= 2;
	b->p = dx_reallocarray(b->p, b->cap, 1);
}

/* Appends LEN bytes. */
void
dbuf_add(struct dbuf *b, const void *p, size_t len)
{
	if (len == 0 && b->p != NULL)
		return;
	dbuf_grow(b, len);
	if (len > 0)
		memcpy(b->p + b->len, p, len);
	b->len += len;
	b->p[b->len] = '\0';
}

/* Appends one byte. */
void
dbuf_addc(struct dbuf *b, int c)
{
	dbuf_grow(b, 1);
	b->p[b->len++] = (char)c;
	b->p[b->len] = '\0';
}

/* Appends a C string. */
void
dbuf_adds(struct dbuf *b, const char *s)
{
	dbuf_add(b, s, strlen(s));
}

/* Appends printf output. */
void
dbuf_printf(struct dbuf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	dbuf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Hands the NUL-terminated contents to the caller and empties B. */
char *
dbuf_finish(struct dbuf *b)
{
	char	*p;

	if (b->p == NULL)
		return (dx_strdup(""));
	p = b->p;
	memset(b, 0, sizeof(*b));
	return (p);
}

/* Frees the contents. */
void
dbuf_free(struct dbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* Length of the UTF-8 sequence at S (at most LEN bytes), 0 if invalid. */
static size_t
utf8_seq(const unsigned char *s, size_t len)
{
	uint32_t	 cp;
	size_t		 n, i;

	if (s[0] < 0x80)
		return (1);
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return (0);
	if (len < n)
		return (0);
	cp = s[0] & (0x3f >> (n - 1));
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates and beyond U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return (0);
	return (n);
}

/* Whether the C string S is valid UTF-8. */
int
utf8_valid(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 len = strlen(s), n;

	while (len > 0) {
		if ((n = utf8_seq(p, len)) == 0)
			return (0);
		p += n;
		len -= n;
	}
	return (1);
}

/*
 * Appends LEN bytes as a JSON string. UTF-8 passes through; a byte that
 * is not part of valid UTF-8 is written as the code point of the same
 * value (\u0080 to \u00ff), so the output is always valid JSON.
 */
void
dbuf_add_jstring(struct dbuf *b, const void *p, size_t len)
{
	const unsigned char	*s = p, *run;
	size_t			 n;

	dbuf_addc(b, '"');
	run = s;
	while (len > 0) {
		if (*s >= 0x20 && *s != '"' && *s != '\\' && *s < 0x80) {
			s++;
			len--;
			continue;
		}
		if (*s >= 0x80 && (n = utf8_seq(s, len)) != 0) {
			s += n;
			len -= n;
			continue;
		}
		dbuf_add(b, run, (size_t)(s - run));
		switch (*s) {
		case '"':
			dbuf_add(b, "\\\"", 2);
			break;
		case '\\':
			dbuf_add(b, "\\\\", 2);
			break;
		case '\n':
			dbuf_add(b, "\\n", 2);
			break;
		case '\r':
			dbuf_add(b, "\\r", 2);
			break;
		case '\t':
			dbuf_add(b, "\\t", 2);
			break;
		default:
			dbuf_printf(b, "\\u%04x", *s);
			break;
		}
		s++;
		len--;
		run = s;
	}
	dbuf_add(b, run, (size_t)(s - run));
	dbuf_addc(b, '"');
}

/* The longest prefix of S, at most MAX bytes, not splitting UTF-8. */
size_t
utf8_cut(const char *s, size_t len, size_t max)
{
	size_t	 n, back;

	if (len <= max)
		return (len);
	n = max;
	for (back = 0; back < 3 && n > 0 &&
	    ((unsigned char)s[n] & 0xc0) == 0x80; back++)
		n--;
	return (n);
}

/* Compares two counted strings ignoring ASCII case, in qsort(3) order. */
int
dx_casecmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t	 i;
	int	 ca, cb;

	for (i = 0; i < alen && i < blen; i++) {
		ca = (unsigned char)a[i];
		cb = (unsigned char)b[i];
		if (ca >= 'A' && ca <= 'Z')
			ca += 'a' - 'A';
		if (cb >= 'A' && cb <= 'Z')
			cb += 'a' - 'A';
		if (ca != cb)
			return (ca - cb);
	}
	return (alen < blen ? -1 : alen > blen);
}

/* Whether two counted strings are equal, ignoring ASCII case. */
int
dx_eqcase(const char *a, size_t alen, const char *b, size_t blen)
{
	return (alen == blen && dx_casecmp(a, alen, b, blen) == 0);
}
