/*
 * Bodies before they are compared: Content-Encoding gzip (x-gzip) and
 * deflate decoded with zlib, never past the body cap, so a
 * decompression bomb costs at most cap + 1 bytes and is noted as
 * truncated. And the byte-for-byte comparison of bodies that are not
 * both JSON: the first differing offset and an excerpt of each side.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define ZLIB_CONST
#include <zlib.h>

#include "diff-int.h"

#define BODY_MAX_CODINGS	4	/* more: the body is not decoded */

enum coding {
	CODING_IDENTITY,
	CODING_GZIP,
	CODING_DEFLATE,
	CODING_OTHER
};

/* What body_inflate() came to. */
enum inflate_end {
	INFLATE_OK,
	INFLATE_CAP,	/* more than the cap: cut there */
	INFLATE_SHORT,	/* the input ends inside the stream */
	INFLATE_ERROR
};

/*
 * Decompresses INLEN bytes of gzip (GZIP) or zlib/raw deflate into
 * *OUT (allocated, at most CAP bytes kept), *ERR saying why on error.
 */
static enum inflate_end
body_inflate(const unsigned char *in, size_t inlen, int gzip, size_t cap,
    unsigned char **outp, size_t *outlen, const char **err)
{
	z_stream	 z;
	unsigned char	*out;
	size_t		 size, have, fed, chunk, left;
	int		 ret, raw = 0;

again:
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, gzip ? 15 + 16 : raw ? -15 : 15) != Z_OK) {
		*err = "zlib cannot start";
		return (INFLATE_ERROR);
	}
	/* One byte past the cap tells a body of exactly cap bytes apart. */
	size = inlen < 1024 ? 4096 : inlen * 4;
	if (size > cap + 1)
		size = cap + 1;
	out = dx_malloc(size);
	z.next_out = out;
	z.avail_out = (uInt)(size > UINT_MAX ? UINT_MAX : size);
	fed = 0;
	for (;;) {
		if (z.avail_in == 0 && fed < inlen) {
			chunk = inlen - fed > UINT_MAX ? UINT_MAX : inlen - fed;
			z.next_in = in + fed;
			z.avail_in = (uInt)chunk;
			fed += chunk;
		}
		have = (size_t)(z.next_out - out);
		if (z.avail_out == 0) {
			if (have == cap + 1) {
				inflateEnd(&z);
				*outp = out;
				*outlen = cap;
				return (INFLATE_CAP);
			}
			if (have == size) {
				size = size > (cap + 1) / 2 ? cap + 1 :
				    size * 2;
				out = dx_reallocarray(out, size, 1);
			}
			z.next_out = out + have;
			left = size - have;
			z.avail_out = (uInt)(left > UINT_MAX ? UINT_MAX : left);
		}
		ret = inflate(&z, Z_NO_FLUSH);
		if (ret == Z_STREAM_END) {
			left = z.avail_in + (inlen - fed);
			if (left == 0)
				break;
			/* Concatenated gzip members are one body. */
			if (gzip && left >= 2 && z.avail_in >= 2 &&
			    z.next_in[0] == 0x1f && z.next_in[1] == 0x8b) {
				inflateReset(&z);
				continue;
			}
			*err = "data after the end of the compressed stream";
			goto fail;
		}
		if (ret == Z_DATA_ERROR && !gzip && !raw &&
		    z.next_out == out) {
			/* "deflate" sent without its zlib wrapper. */
			inflateEnd(&z);
			free(out);
			raw = 1;
			goto again;
		}
		if (ret == Z_BUF_ERROR && z.avail_out > 0) {
			inflateEnd(&z);
			*outp = out;
			*outlen = (size_t)(z.next_out - out);
			return (INFLATE_SHORT);
		}
		if (ret != Z_OK && ret != Z_BUF_ERROR) {
			*err = z.msg != NULL ? z.msg : "invalid data";
			goto fail;
		}
	}
	*outlen = (size_t)(z.next_out - out);
	inflateEnd(&z);
	*outp = out;
	return (INFLATE_OK);

fail:
	inflateEnd(&z);
	free(out);
	return (INFLATE_ERROR);
}

/* Which coding a Content-Encoding token names. */
static enum coding
body_coding(const char *s, size_t len)
{
	if (len == 0 || dx_eqcase(s, len, "identity", 8))
		return (CODING_IDENTITY);
	if (dx_eqcase(s, len, "gzip", 4) || dx_eqcase(s, len, "x-gzip", 6))
		return (CODING_GZIP);
	if (dx_eqcase(s, len, "deflate", 7))
		return (CODING_DEFLATE);
	return (CODING_OTHER);
}

/* Goes back to the body as captured, which could not be decoded. */
static void
body_raw(struct body *b, const struct diff_response *r, size_t cap)
{
	free(b->owned);
	b->owned = NULL;
	b->data = r->body;
	b->len = r->body_len > cap ? cap : r->body_len;
	b->truncated = r->body_truncated || r->body_len > cap;
	b->decoded = 0;
}

/*
 * Prepares one side's body for comparison: cut at CAP and decoded.
 * What cannot be done is noted; b->decoded says whether the body is
 * free of content codings.
 */
void
body_decode(struct diff_result *res, enum side side,
    const struct diff_response *r, size_t cap, struct body *b)
{
	enum coding		 codings[BODY_MAX_CODINGS];
	enum inflate_end	 end;
	unsigned char		*out;
	const char		*v, *tok, *vend, *err;
	size_t			 vlen, tlen, n = 0, outlen;
	int			 i;

	memset(b, 0, sizeof(*b));
	body_raw(b, r, cap);
	b->decoded = 1;
	if (b->truncated)
		result_note(res, side, "truncated", "the body was captured up "
		    "to %zu bytes only: compared that far", b->len);
	if (!header_find(r, "content-encoding", &v, &vlen))
		return;
	for (vend = v + vlen; v < vend; v++) {
		for (tok = v; v < vend && *v != ','; v++)
			;
		tlen = (size_t)(v - tok);
		while (tlen > 0 && (*tok == ' ' || *tok == '\t')) {
			tok++;
			tlen--;
		}
		while (tlen > 0 && (tok[tlen - 1] == ' ' ||
		    tok[tlen - 1] == '\t'))
			tlen--;
		if (body_coding(tok, tlen) == CODING_IDENTITY)
			continue;
		if (n == BODY_MAX_CODINGS || body_coding(tok, tlen) ==
		    CODING_OTHER) {
			result_note(res, side, "undecodable",
			    "content-encoding %.*s is not decoded: compared "
			    "as captured", (int)tlen, tok);
			b->decoded = 0;
			return;
		}
		codings[n++] = body_coding(tok, tlen);
	}
	/* Codings apply in the order listed: undo them from the last. */
	for (i = (int)n - 1; i >= 0; i--) {
		end = body_inflate(b->data, b->len, codings[i] == CODING_GZIP,
		    cap, &out, &outlen, &err);
		if (end == INFLATE_ERROR) {
			result_note(res, side, "undecodable",
			    "content-encoding %s: %s: compared as captured",
			    codings[i] == CODING_GZIP ? "gzip" : "deflate",
			    err);
			body_raw(b, r, cap);
			return;
		}
		free(b->owned);
		b->owned = out;
		b->data = out;
		b->len = outlen;
		if (end == INFLATE_CAP) {
			result_note(res, side, "truncated", "the decoded body "
			    "exceeds the cap of %zu bytes: compared that far",
			    cap);
			b->truncated = 1;
		} else if (end == INFLATE_SHORT && !b->truncated) {
			result_note(res, side, "truncated", "the %s stream "
			    "ends early, after %zu decoded bytes",
			    codings[i] == CODING_GZIP ? "gzip" : "deflate",
			    outlen);
			b->truncated = 1;
		}
	}
}

/* Frees a decoded body. */
void
body_clear(struct body *b)
{
	free(b->owned);
	memset(b, 0, sizeof(*b));
}

/* Writes up to DIFF_EXCERPT bytes of B from OFF as a JSON string. */
static void
body_excerpt(struct dbuf *buf, const struct body *b, size_t off)
{
	size_t	 len;

	len = b->len - off > DIFF_EXCERPT ? DIFF_EXCERPT : b->len - off;
	if (len == 0)
		dbuf_add_jstring(buf, "", 0);
	else
		dbuf_add_jstring(buf, b->data + off, len);
}

/*
 * Compares two bodies byte for byte. Returns 1 if they differ and, if
 * REPORT, records where with an excerpt of each side.
 */
int
body_compare_bytes(struct diff_result *res, const struct body *a,
    const struct body *b, int report)
{
	struct diff_entry	*e;
	struct dbuf		 buf;
	size_t			 n, off;

	n = a->len < b->len ? a->len : b->len;
	if (a->len == b->len && (n == 0 || memcmp(a->data, b->data, n) == 0))
		return (0);
	if (!report)
		return (1);
	for (off = 0; off + 64 <= n && memcmp(a->data + off, b->data + off,
	    64) == 0; off += 64)
		;
	while (off < n && a->data[off] == b->data[off])
		off++;
	if ((e = result_add(res, KIND_BODY, OP_CHANGED, "", 0)) == NULL)
		return (1);
	e->has_offset = 1;
	e->offset = off;
	memset(&buf, 0, sizeof(buf));
	body_excerpt(&buf, a, off);
	result_set_value(e, SIDE_PRIMARY, buf.p, buf.len, 0);
	buf.len = 0;
	body_excerpt(&buf, b, off);
	result_set_value(e, SIDE_SHADOW, buf.p, buf.len, 0);
	dbuf_free(&buf);
	return (1);
}
