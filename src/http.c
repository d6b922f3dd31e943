/*
 * The message model and the llhttp wrapper.
 *
 * llhttp's callbacks hand over spans of the input; we copy the request
 * line, status line and headers into the message's arena as they come,
 * enforcing the header limits as we go, so a header block is never
 * buffered whole before it is checked. Every message ends with a pause
 * (on_message_complete returns HPE_PAUSED): the caller decides when the
 * next pipelined message may be read.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "shadowdiff/http.h"
#include "shadowdiff/log.h"
#include "shadowdiff/util.h"

/* Where the parser is within a header block. */
enum {
	HS_START,	/* no header field yet */
	HS_FIELD,	/* reading a field name */
	HS_VALUE	/* reading a field value */
};

static const char *const hop_by_hop[] = {
	/* RFC 9110 section 7.6.1, plus the framing fields we recompute. */
	"connection", "proxy-connection", "keep-alive", "te",
	"transfer-encoding", "upgrade", "trailer"
};

static void	scan_line_reset(struct http_parser *);

static struct http_parser *
parser_of(llhttp_t *ll)
{
	return (ll->data);
}

/*
 * Stops the parser with STATUS for the client. Whatever is wrong with a
 * response, the client hears 502 about it.
 */
void
http_parser_fail(struct http_parser *p, int status, const char *reason)
{
	if (!p->msg.is_request)
		status = 502;
	if (p->error_status == 0) {
		p->error_status = status;
		p->error_reason = reason;
	}
}

/* Copies a span into the arena, within the header-bytes bound. */
static int
msg_append(struct http_parser *p, const char *at, size_t len, int status)
{
	struct http_msg	*m = &p->msg;
	size_t		 cap;

	if (m->len + len > p->max_header_bytes) {
		http_parser_fail(p, status, status == 414 ?
		    "request target longer than the header limit" :
		    "header block larger than the limit");
		return (-1);
	}
	if (m->len + len > m->cap) {
		cap = m->cap == 0 ? 1024 : m->cap;
		while (cap < m->len + len)
			cap *= 2;
		if (cap > p->max_header_bytes)
			cap = p->max_header_bytes;
		m->buf = xreallocarray(m->buf, cap, 1);
		m->cap = cap;
	}
	memcpy(m->buf + m->len, at, len);
	m->len += len;
	return (0);
}

static int
on_message_begin(llhttp_t *ll)
{
	struct http_parser	*p = parser_of(ll);
	struct http_msg		*m = &p->msg;

	m->len = 0;
	m->nhdrs = 0;
	m->target_off = m->target_len = 0;
	m->reason_off = m->reason_len = 0;
	m->status = 0;
	m->framing = HTTP_FRAMING_NONE;
	m->content_length = 0;
	m->keepalive = m->upgrade = m->expect_continue = 0;
	m->has_connection = 0;
	p->state = HS_START;
	p->started = 1;
	p->in_body = 0;
	p->ended = 0;
	return (0);
}

/*
 * Copies the next piece of a span (llhttp may hand one over in pieces)
 * into the arena: *OFF and *SPAN locate the whole. STATUS past the bound.
 */
static int
msg_append_span(struct http_parser *p, const char *at, size_t len,
    uint32_t *off, uint32_t *span, int status)
{
	if (*span == 0)
		*off = (uint32_t)p->msg.len;
	if (msg_append(p, at, len, status) == -1)
		return (-1);
	*span += (uint32_t)len;
	return (0);
}

static int
on_url(llhttp_t *ll, const char *at, size_t len)
{
	struct http_parser	*p = parser_of(ll);

	return (msg_append_span(p, at, len, &p->msg.target_off,
	    &p->msg.target_len, 414));
}

static int
on_status(llhttp_t *ll, const char *at, size_t len)
{
	struct http_parser	*p = parser_of(ll);

	return (msg_append_span(p, at, len, &p->msg.reason_off,
	    &p->msg.reason_len, 502));
}

/* A new header slot, named from the arena's end; NULL past the limit. */
static struct http_header *
msg_new_header(struct http_parser *p)
{
	struct http_msg		*m = &p->msg;
	struct http_header	*h;

	if (m->nhdrs >= p->max_header_count) {
		http_parser_fail(p, 431, "more header fields than the limit");
		return (NULL);
	}
	if (m->nhdrs == m->hcap) {
		m->hcap = m->hcap == 0 ? 16 : m->hcap * 2;
		m->hdrs = xreallocarray(m->hdrs, m->hcap, sizeof(*m->hdrs));
	}
	h = &m->hdrs[m->nhdrs++];
	memset(h, 0, sizeof(*h));
	h->name_off = (uint32_t)m->len;
	return (h);
}

static int
on_header_field(llhttp_t *ll, const char *at, size_t len)
{
	struct http_parser	*p = parser_of(ll);
	struct http_msg		*m = &p->msg;
	struct http_header	*h;

	if (p->in_body)
		return (0);	/* a trailer: not forwarded, not kept */
	if (p->state != HS_FIELD) {
		if (msg_new_header(p) == NULL)
			return (-1);
		p->state = HS_FIELD;
	}
	h = &m->hdrs[m->nhdrs - 1];
	if (msg_append(p, at, len, 431) == -1)
		return (-1);
	h->name_len += (uint32_t)len;
	return (0);
}

static int
on_header_field_complete(llhttp_t *ll)
{
	struct http_parser	*p = parser_of(ll);
	struct http_header	*h;

	if (p->in_body)
		return (0);
	/* llhttp 8.1 accepts ": value"; RFC 9110 does not. */
	if (p->state != HS_FIELD ||
	    (h = &p->msg.hdrs[p->msg.nhdrs - 1])->name_len == 0) {
		http_parser_fail(p, 400, "empty header field name");
		return (-1);
	}
	h->value_off = (uint32_t)p->msg.len;
	h->value_len = 0;
	p->state = HS_VALUE;
	return (0);
}

static int
on_header_value(llhttp_t *ll, const char *at, size_t len)
{
	struct http_parser	*p = parser_of(ll);
	struct http_header	*h;

	if (p->in_body)
		return (0);
	if (p->state != HS_VALUE) {
		http_parser_fail(p, 400, "header value without a name");
		return (-1);
	}
	h = &p->msg.hdrs[p->msg.nhdrs - 1];
	if (msg_append(p, at, len, 431) == -1)
		return (-1);
	h->value_len += (uint32_t)len;
	return (0);
}

static int
on_header_value_complete(llhttp_t *ll)
{
	struct http_parser	*p = parser_of(ll);
	struct http_header	*h;
	const char		*v;

	if (p->in_body)
		return (0);
	/* llhttp 8.1 keeps trailing blanks; RFC 9110 5.5 excludes them. */
	h = &p->msg.hdrs[p->msg.nhdrs - 1];
	v = p->msg.buf + h->value_off;
	while (h->value_len > 0 && (v[h->value_len - 1] == ' ' ||
	    v[h->value_len - 1] == '\t'))
		h->value_len--;
	p->state = HS_START;
	return (0);
}

/* Whether VALUE (LEN bytes) is exactly the token "chunked". */
static int
is_chunked(const char *v, size_t len)
{
	while (len > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	return (util_eqcase(v, len, "chunked"));
}

/*
 * Whether field name NAME (LEN bytes) is not Content-Length or
 * Transfer-Encoding but reads as one to a backend that maps '_' to '-'
 * (CGI's HTTP_TRANSFER_ENCODING) or folds runs of '-'.
 */
static int
is_framing_alias(const char *name, size_t len)
{
	char	 norm[sizeof("transfer-encoding")];
	size_t	 i, n = 0;
	char	 c;

	if (len < sizeof("content-length") - 1)
		return (0);
	for (i = 0; i < len; i++) {
		c = (char)tolower((unsigned char)name[i]);
		if (c == '_')
			c = '-';
		if (c == '-' && n > 0 && norm[n - 1] == '-')
			continue;
		if (n == sizeof(norm) - 1)
			return (0);
		norm[n++] = c;
	}
	norm[n] = '\0';
	if (strcmp(norm, "content-length") == 0)
		return (!util_eqcase(name, len, "content-length"));
	if (strcmp(norm, "transfer-encoding") == 0)
		return (!util_eqcase(name, len, "transfer-encoding"));
	return (0);
}

/*
 * Checks a request's protocol as received (llhttp 8.1 also takes RTSP/
 * and ICE/): HTTP/1.0 and HTTP/1.1 only. 505 for another HTTP version,
 * 400 for anything else. 0, or -1 with the error set.
 */
static int
proto_check(struct http_parser *p)
{
	const char	*v = p->scan_proto;

	if (p->scan_proto_len == 8 && memcmp(v, "HTTP/", 5) == 0 &&
	    isdigit((unsigned char)v[5]) && v[6] == '.' &&
	    isdigit((unsigned char)v[7])) {
		if (v[5] == '1' && (v[7] == '0' || v[7] == '1'))
			return (0);
		http_parser_fail(p, 505, "HTTP version other than 1.0 and "
		    "1.1");
		return (-1);
	}
	http_parser_fail(p, 400, "protocol other than HTTP");
	return (-1);
}

/* Checks what llhttp lets through; 0, or -1 with the error set. */
static int
head_check(struct http_parser *p)
{
	struct http_msg		*m = &p->msg;
	const struct http_header *h;
	size_t			 i, nhost = 0, nte = 0;

	if (m->is_request && proto_check(p) == -1)
		return (-1);
	if (m->major != 1) {
		http_parser_fail(p, 400, "unsupported HTTP version");
		return (-1);
	}
	for (i = 0; i < m->nhdrs; i++) {
		h = &m->hdrs[i];
		if (m->is_request && is_framing_alias(m->buf + h->name_off,
		    h->name_len)) {
			http_parser_fail(p, 400, "a field name that reads as "
			    "Content-Length or Transfer-Encoding");
			return (-1);
		}
		if (http_msg_name_is(m, h, "host"))
			nhost++;
		else if (http_msg_name_is(m, h, "connection"))
			m->has_connection = 1;
		else if (http_msg_name_is(m, h, "transfer-encoding")) {
			nte++;
			/* We implement chunked only; RFC 9112 6.1. */
			if (!is_chunked(m->buf + h->value_off, h->value_len)) {
				http_parser_fail(p, m->is_request ? 400 : 502,
				    "transfer coding other than chunked");
				return (-1);
			}
		} else if (m->is_request &&
		    http_msg_name_is(m, h, "expect")) {
			if (!util_eqcase(m->buf + h->value_off, h->value_len,
			    "100-continue")) {
				http_parser_fail(p, 417, "unknown expectation");
				return (-1);
			}
			m->expect_continue = 1;
		}
	}
	if (nte > 1) {
		http_parser_fail(p, m->is_request ? 400 : 502,
		    "more than one Transfer-Encoding field");
		return (-1);
	}
	if (nte > 0 && m->minor == 0) {
		/* RFC 9112 6.1: faulty framing in HTTP/1.0. */
		http_parser_fail(p, m->is_request ? 400 : 502,
		    "Transfer-Encoding in an HTTP/1.0 message");
		return (-1);
	}
	if (m->is_request && (nhost > 1 || (nhost == 0 && m->minor == 1))) {
		http_parser_fail(p, 400, nhost > 1 ? "more than one Host "
		    "field" : "no Host field in an HTTP/1.1 request");
		return (-1);
	}
	return (0);
}

/*
 * Turns an absolute-form target (RFC 9112 3.2.2) with the http or https
 * scheme into origin form, its authority replacing the Host received:
 * the backends, routes and records see what an origin-form request would
 * give. Other forms are left to the caller. 0, or -1 with the error set.
 */
static int
target_absolute(struct http_parser *p)
{
	struct http_msg		*m = &p->msg;
	struct http_header	*h = NULL;
	const char		*t = m->buf + m->target_off;
	size_t			 i, skip, auth, auth_len, rest, rest_off;
	char			 c;

	if (m->target_len > 7 && strncasecmp(t, "http://", 7) == 0)
		skip = 7;
	else if (m->target_len > 8 && strncasecmp(t, "https://", 8) == 0)
		skip = 8;
	else
		return (0);
	auth = m->target_off + skip;
	/* The arena is not NUL-terminated: bounded scans only. */
	for (auth_len = 0; skip + auth_len < m->target_len; auth_len++) {
		c = t[skip + auth_len];
		if (c == '/' || c == '?' || c == '#')
			break;
	}
	/* It becomes the Host: host[:port]; userinfo ('@') is refused. */
	if (!util_host_valid(t + skip, auth_len)) {
		http_parser_fail(p, 400, "absolute-form target without a "
		    "valid authority");
		return (-1);
	}
	rest_off = auth + auth_len;
	rest = m->target_len - skip - auth_len;
	if (rest > 0 && m->buf[rest_off] == '/') {
		m->target_off = (uint32_t)rest_off;
		m->target_len = (uint32_t)rest;
	} else {
		/* "http://h?q" is "/?q": a new copy, byte by byte (rare). */
		m->target_off = (uint32_t)m->len;
		if (msg_append(p, "/", 1, 414) == -1)
			return (-1);
		for (i = 0; i < rest; i++) {
			c = m->buf[rest_off + i];
			if (msg_append(p, &c, 1, 414) == -1)
				return (-1);
		}
		m->target_len = (uint32_t)(1 + rest);
	}
	for (i = 0; i < m->nhdrs && h == NULL; i++)
		if (http_msg_name_is(m, &m->hdrs[i], "host"))
			h = &m->hdrs[i];
	if (h == NULL) {
		/* HTTP/1.0 may come without Host: the target gives one. */
		if ((h = msg_new_header(p)) == NULL ||
		    msg_append(p, "Host", 4, 431) == -1)
			return (-1);
		h->name_len = 4;
	}
	h->value_off = (uint32_t)auth;
	h->value_len = (uint32_t)auth_len;
	return (0);
}

static int
on_headers_complete(llhttp_t *ll)
{
	struct http_parser	*p = parser_of(ll);
	struct http_msg		*m = &p->msg;
	int			 rc;

	m->major = ll->http_major;
	m->minor = ll->http_minor;
	m->method = ll->method;
	m->status = ll->status_code;
	if (head_check(p) == -1)
		return (-1);
	if (m->is_request && target_absolute(p) == -1)
		return (-1);
	if (ll->flags & F_CHUNKED)
		m->framing = HTTP_FRAMING_CHUNKED;
	else if (ll->flags & F_CONTENT_LENGTH) {
		m->framing = HTTP_FRAMING_LENGTH;
		m->content_length = ll->content_length;
	} else if (!m->is_request && llhttp_message_needs_eof(ll))
		m->framing = HTTP_FRAMING_CLOSE;
	/*
	 * llhttp 8.1 misses "close" followed by a tab, or in some lists: the
	 * tokens are read again here (RFC 9112 9.6), for both directions.
	 */
	m->keepalive = llhttp_should_keep_alive(ll) &&
	    !http_msg_connection_has(m, "close", 5);
	m->upgrade = ll->upgrade;
	p->in_body = 1;
	rc = p->cbs->head(p->arg, m);
	if (rc == -1) {
		http_parser_fail(p, 500, "rejected");
		return (-1);
	}
	if (rc == 1)
		m->framing = HTTP_FRAMING_NONE;
	return (rc);
}

static int
on_body(llhttp_t *ll, const char *at, size_t len)
{
	struct http_parser	*p = parser_of(ll);

	if (p->cbs->body(p->arg, at, len) == -1) {
		http_parser_fail(p, 500, "rejected");
		return (-1);
	}
	return (0);
}

static int
on_message_complete(llhttp_t *ll)
{
	struct http_parser	*p = parser_of(ll);

	p->started = 0;
	p->in_body = 0;
	p->ended = 1;
	p->cbs->done(p->arg, &p->msg);
	/* Stop here: the caller decides when the next message is read. */
	return (HPE_PAUSED);
}

/* Prepares a parser; TYPE is HTTP_REQUEST or HTTP_RESPONSE. */
void
http_parser_init(struct http_parser *p, llhttp_type_t type,
    const struct http_parser_cbs *cbs, void *arg, size_t max_bytes,
    size_t max_count)
{
	/* The same callbacks for every parser; llhttp keeps a pointer. */
	static const llhttp_settings_t settings = {
		.on_message_begin = on_message_begin,
		.on_url = on_url,
		.on_status = on_status,
		.on_header_field = on_header_field,
		.on_header_value = on_header_value,
		.on_header_field_complete = on_header_field_complete,
		.on_header_value_complete = on_header_value_complete,
		.on_headers_complete = on_headers_complete,
		.on_body = on_body,
		.on_message_complete = on_message_complete,
	};

	memset(p, 0, sizeof(*p));
	llhttp_init(&p->ll, type, &settings);
	p->ll.data = p;
	p->msg.is_request = (type == HTTP_REQUEST);
	p->scanning = 1;
	p->cbs = cbs;
	p->arg = arg;
	p->max_header_bytes = max_bytes;
	p->max_header_count = max_count;
}

/*
 * Prepares P again for a new connection's messages, keeping its buffers:
 * a pooled upstream connection parses response after response with no
 * malloc (the buffers stay within the parser's limits).
 */
void
http_parser_reset(struct http_parser *p, llhttp_type_t type,
    const struct http_parser_cbs *cbs, void *arg, size_t max_bytes,
    size_t max_count)
{
	struct http_msg	 kept = p->msg;

	http_parser_init(p, type, cbs, arg, max_bytes, max_count);
	p->msg.buf = kept.buf;
	p->msg.cap = kept.cap;
	p->msg.hdrs = kept.hdrs;
	p->msg.hcap = kept.hcap;
}

/* Frees what the parser allocated. */
void
http_parser_free(struct http_parser *p)
{
	free(p->msg.buf);
	free(p->msg.hdrs);
	p->msg.buf = NULL;
	p->msg.hdrs = NULL;
}

/* Readies the parser for the next message on the same connection. */
void
http_parser_next(struct http_parser *p)
{
	if (llhttp_get_errno(&p->ll) == HPE_PAUSED)
		llhttp_resume(&p->ll);
	p->ended = 0;
	p->scanning = 1;
	p->scan_line_len = p->scan_lines = 0;
	p->scan_prev = '\0';
	scan_line_reset(p);
}

/* For a response parser: the method of the request being answered. */
void
http_parser_set_request_method(struct http_parser *p, int method)
{
	p->ll.method = (uint8_t)method;
}

/* Forgets what was seen of a request line. */
static void
scan_line_reset(struct http_parser *p)
{
	p->scan_method_len = p->scan_proto_len = 0;
	p->scan_method_bad = p->scan_method_end = 0;
}

/*
 * Notes byte C of a request line: the method (to tell a method llhttp
 * does not know, 501, from one that is no token, 400) and the last word,
 * the protocol (llhttp 8.1 does not say which one it read).
 */
static void
scan_request_line(struct http_parser *p, char c)
{
	if (c == ' ') {
		p->scan_method_end |= p->scan_method_len > 0;
		p->scan_proto_len = 0;
		return;
	}
	if (!p->scan_method_end) {
		p->scan_method_len++;
		/* tchar, RFC 9110 5.6.2. */
		if (c == '\0' || (!isalnum((unsigned char)c) &&
		    strchr("!#$%&'*+-.^_`|~", c) == NULL))
			p->scan_method_bad = 1;
	}
	if (c != '\r' && p->scan_proto_len < sizeof(p->scan_proto))
		p->scan_proto[p->scan_proto_len++] = c;
}

/*
 * Looks at the raw bytes of a head before llhttp does, for what llhttp
 * 8.1 lets through even in strict mode: a bare LF (the one ending the
 * head included) and obsolete line folding (a line that starts with a
 * blank); and notes a request line's method and protocol. It stops where
 * the head ends: bodies are not looked at. 0, or -1 with the error set.
 */
static int
head_scan(struct http_parser *p, const char *data, size_t len)
{
	size_t	 i;
	char	 c;

	for (i = 0; i < len && p->scanning; i++) {
		c = data[i];
		if (c == '\n') {
			if (p->scan_prev != '\r') {
				http_parser_fail(p, 400, "bare LF in the head");
				return (-1);
			}
			/* An empty line ends the head, unless it comes first. */
			if (p->scan_line_len == 1 && p->scan_lines > 0)
				p->scanning = 0;
			else if (p->scan_line_len > 1)
				p->scan_lines++;
			else	/* an empty line before the request line */
				scan_line_reset(p);
			p->scan_line_len = 0;
		} else {
			if (p->scan_line_len == 0 && p->scan_lines > 0 &&
			    (c == ' ' || c == '\t')) {
				http_parser_fail(p, 400, "obsolete line folding "
				    "in a header");
				return (-1);
			}
			if (p->scan_lines == 0 && p->msg.is_request)
				scan_request_line(p, c);
			p->scan_line_len++;
		}
		p->scan_prev = c;
	}
	return (0);
}

/*
 * After llhttp's error ERR on a request: the status it deserves. A
 * method token llhttp does not know gets 501 (RFC 9110 15.6.2), 0 while
 * the token has not ended; an HTTP version other than 1.x gets 505.
 */
static int
request_error_status(struct http_parser *p, llhttp_errno_t err)
{
	if (err == HPE_INVALID_METHOD && !p->scan_method_bad) {
		if (p->scan_method_end)
			return (501);
		return (p->scan_method_len > p->max_header_bytes ? 400 : 0);
	}
	/* llhttp 8.1 knows RTSP's methods, which HTTP does not have. */
	if (err == HPE_INVALID_CONSTANT && p->scan_method_end &&
	    !p->scan_method_bad && strcmp(llhttp_get_error_reason(&p->ll),
	    "Invalid method for HTTP/x.x request") == 0)
		return (501);
	if (err == HPE_INVALID_VERSION && p->scan_proto_len == 8 &&
	    memcmp(p->scan_proto, "HTTP/", 5) == 0 &&
	    isdigit((unsigned char)p->scan_proto[5]) &&
	    p->scan_proto[6] == '.' && isdigit((unsigned char)p->scan_proto[7]))
		return (505);
	return (400);
}

/* Fails P with the status llhttp's error ERR deserves; 0 if undecided. */
static int
parser_fail_llhttp(struct http_parser *p, llhttp_errno_t err)
{
	int	 status = 502;

	if (p->msg.is_request &&
	    (status = request_error_status(p, err)) == 0)
		return (0);
	http_parser_fail(p, status, status == 501 ? "method not known" :
	    llhttp_get_error_reason(&p->ll));
	return (-1);
}

/* Feeds LEN bytes at DATA; *USED gets how many were consumed. */
enum http_feed
http_parser_feed(struct http_parser *p, const char *data, size_t len,
    size_t *used)
{
	llhttp_errno_t	 err;

	*used = 0;
	if (p->error_status != 0)
		return (HTTP_FEED_ERROR);
	if (p->scanning && head_scan(p, data, len) == -1)
		return (HTTP_FEED_ERROR);
	if (p->method_pending) {
		/* llhttp stopped: only the method's end is awaited. */
		if (parser_fail_llhttp(p, HPE_INVALID_METHOD) == -1)
			return (HTTP_FEED_ERROR);
		*used = len;
		return (HTTP_FEED_OK);
	}
	err = llhttp_execute(&p->ll, data, len);
	switch (err) {
	case HPE_OK:
		*used = len;
		break;
	case HPE_PAUSED:
	case HPE_PAUSED_UPGRADE:
		*used = (size_t)(llhttp_get_error_pos(&p->ll) - data);
		break;
	default:
		if (p->error_status == 0 && parser_fail_llhttp(p, err) == 0) {
			p->method_pending = 1;
			*used = len;
			return (HTTP_FEED_OK);
		}
		return (HTTP_FEED_ERROR);
	}
	return (err == HPE_OK ? HTTP_FEED_OK : HTTP_FEED_DONE);
}

/* The peer closed: ends a close-delimited body, or it is an error. */
enum http_feed
http_parser_eof(struct http_parser *p)
{
	llhttp_errno_t	 err;

	if (p->error_status != 0)
		return (HTTP_FEED_ERROR);
	if (p->ended)
		return (HTTP_FEED_DONE);
	/* llhttp only learns a message is over with the next byte. */
	if (!p->started)
		return (HTTP_FEED_OK);		/* closed between messages */
	err = llhttp_finish(&p->ll);
	if (err == HPE_PAUSED || p->ended)
		return (HTTP_FEED_DONE);
	http_parser_fail(p, p->msg.is_request ? 400 : 502,
	    "connection closed in the middle of a message");
	return (HTTP_FEED_ERROR);
}

/*
 * The next at most MAX contiguous bytes of BUF, without copying when the
 * first chain holds them. An evbuffer may start with an empty chain (as
 * after a read that met EOF): that must not look like "no data".
 */
const char *
http_buffer_slice(struct evbuffer *buf, size_t max, size_t *len)
{
	struct evbuffer_iovec	 v;
	size_t			 total = evbuffer_get_length(buf);

	if (total == 0)
		return (NULL);
	if (evbuffer_peek(buf, -1, NULL, &v, 1) > 0 && v.iov_len > 0) {
		*len = v.iov_len < max ? v.iov_len : max;
		return (v.iov_base);
	}
	*len = total < max ? total : max;
	return ((const char *)evbuffer_pullup(buf, (ssize_t)*len));
}

/* The request target and its length. */
const char *
http_msg_target(const struct http_msg *m, size_t *len)
{
	*len = m->target_len;
	return (m->buf + m->target_off);
}

/* Whether header H is named NAME (lowercase), ignoring case. */
int
http_msg_name_is(const struct http_msg *m, const struct http_header *h,
    const char *name)
{
	return (util_eqcase(m->buf + h->name_off, h->name_len, name));
}

/* The value of the first header named NAME, or NULL. */
const char *
http_msg_header(const struct http_msg *m, const char *name, size_t *len)
{
	size_t	 i;

	for (i = 0; i < m->nhdrs; i++)
		if (http_msg_name_is(m, &m->hdrs[i], name)) {
			*len = m->hdrs[i].value_len;
			return (m->buf + m->hdrs[i].value_off);
		}
	return (NULL);
}

/* Whether a Connection header of M lists the token NAME. */
int
http_msg_connection_has(const struct http_msg *m, const char *name,
    size_t len)
{
	const struct http_header	*h;
	const char			*v, *end, *tok;
	size_t				 i, toklen;

	/* Noted by head_check: most messages have none to scan for. */
	if (!m->has_connection)
		return (0);
	for (i = 0; i < m->nhdrs; i++) {
		h = &m->hdrs[i];
		if (!http_msg_name_is(m, h, "connection"))
			continue;
		v = m->buf + h->value_off;
		end = v + h->value_len;
		while (v < end) {
			while (v < end && (*v == ' ' || *v == '\t' ||
			    *v == ','))
				v++;
			tok = v;
			while (v < end && *v != ',' && *v != ' ' && *v != '\t')
				v++;
			toklen = (size_t)(v - tok);
			if (toklen == len && strncasecmp(tok, name, len) == 0)
				return (1);
		}
	}
	return (0);
}

/* Whether NAME is hop-by-hop in M: a fixed one or listed in Connection. */
int
http_is_hop_by_hop(const struct http_msg *m, const char *name, size_t len)
{
	size_t	 i;

	for (i = 0; i < nitems(hop_by_hop); i++)
		if (util_eqcase(name, len, hop_by_hop[i]))
			return (1);
	/* "Connection: host" must not take Host away from the backend. */
	if (util_eqcase(name, len, "host"))
		return (0);
	return (http_msg_connection_has(m, name, len));
}

/*
 * A head being written. Its pieces gather here and reach the evbuffer in
 * one evbuffer_add: each add takes the buffer's lock and runs its
 * callbacks (the sock's, which re-arms the write event), which cost
 * more than the copy for a head's dozens of small pieces.
 */
struct head {
	struct evbuffer	*out;
	size_t		 len;
	char		 buf[2048];
};

/* Hands what H gathered to its evbuffer. */
static void
head_flush(struct head *h)
{
	if (h->len > 0)
		evbuffer_add(h->out, h->buf, h->len);
	h->len = 0;
}

/* Appends LEN bytes at P to H (a piece too big is added as it is). */
static void
head_add(struct head *h, const void *p, size_t len)
{
	if (len > sizeof(h->buf) - h->len) {
		head_flush(h);
		if (len >= sizeof(h->buf)) {
			evbuffer_add(h->out, p, len);
			return;
		}
	}
	memcpy(h->buf + h->len, p, len);
	h->len += len;
}

/* Appends the string S to H. */
static void
head_adds(struct head *h, const char *s)
{
	head_add(h, s, strlen(s));
}

/* Appends V in decimal to H. */
static void
head_add_u64(struct head *h, uint64_t v)
{
	char	 d[20];
	size_t	 i = sizeof(d);

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	head_add(h, d + i, sizeof(d) - i);
}

/* Appends "Name: value\r\n" for header H of M. */
static void
write_header(struct head *out, const struct http_msg *m,
    const struct http_header *h)
{
	head_add(out, m->buf + h->name_off, h->name_len);
	head_add(out, ": ", 2);
	head_add(out, m->buf + h->value_off, h->value_len);
	head_add(out, "\r\n", 2);
}

/* Appends "NAME: VALUE\r\n". */
static void
write_field(struct head *out, const char *name, const char *value)
{
	/* Pieces, not printf: this is on every request's path. */
	head_adds(out, name);
	head_add(out, ": ", 2);
	head_adds(out, value);
	head_add(out, "\r\n", 2);
}

/* Appends the framing header for FRAMING. */
static void
write_framing(struct head *out, enum http_framing framing,
    uint64_t length)
{
	if (framing == HTTP_FRAMING_LENGTH) {
		head_add(out, "Content-Length: ", 16);
		head_add_u64(out, length);
		head_add(out, "\r\n", 2);
	} else if (framing == HTTP_FRAMING_CHUNKED)
		head_add(out, "Transfer-Encoding: chunked\r\n", 28);
}

/*
 * Where the port of a Host value V (LEN bytes) starts, its ':'; LEN if
 * it has none. An IPv6 literal's colons are inside its brackets.
 */
static size_t
host_port_start(const char *v, size_t len)
{
	size_t	 i = len;

	while (i > 0 && v[i - 1] >= '0' && v[i - 1] <= '9')
		i--;
	if (i == 0 || v[i - 1] != ':')
		return (len);
	if (memchr(v, ':', i - 1) == NULL || (i >= 2 && v[i - 2] == ']'))
		return (i - 1);
	return (len);
}

/*
 * Appends the Host field when it is not the request's own (which is
 * written with the others): FW's fixed one, the request's with FW's
 * suffix after its name (Envoy's "-shadow": api:8080 is
 * api-shadow:8080), or FW's host when the request had none.
 */
static void
write_host(struct head *out, const struct http_msg *m,
    const struct http_forward *fw)
{
	const char	*v;
	size_t		 len, port;

	v = http_msg_header(m, "host", &len);
	if (fw->host_fixed != NULL)
		write_field(out, "Host", fw->host_fixed);
	else if (v == NULL) {
		/* HTTP/1.0 may come without; HTTP/1.1 backends require one. */
		if (fw->host != NULL)
			write_field(out, "Host", fw->host);
	} else if (fw->host_suffix != NULL) {
		port = host_port_start(v, len);
		head_add(out, "Host: ", 6);
		head_add(out, v, port);
		head_adds(out, fw->host_suffix);
		head_add(out, v + port, len - port);
		head_add(out, "\r\n", 2);
	}
}

/*
 * Whether field name NAME (LEN bytes) is MARKER in any case, '_' read as
 * '-': a backend behind CGI's HTTP_ names cannot tell them apart.
 */
static int
is_marker_name(const char *name, size_t len, const char *marker)
{
	size_t	 i;
	char	 a, b;

	if (marker == NULL || strlen(marker) != len)
		return (0);
	for (i = 0; i < len; i++) {
		a = (char)tolower((unsigned char)name[i]);
		b = (char)tolower((unsigned char)marker[i]);
		if (a != b && !(a == '_' && b == '-'))
			return (0);
	}
	return (1);
}

/*
 * Writes the request head toward a backend: the client's headers less
 * the hop-by-hop ones, Expect (we answer 100-continue ourselves), the
 * framing and any named as FW's marker (or spelt with '_'); FW's Host if
 * it has its own; then X-Forwarded-For, X-Forwarded-Proto, Via, the
 * marker if FW has a value for it, and the framing of the body as it
 * will be sent.
 */
void
http_write_request_head(struct evbuffer *evb, const struct http_msg *m,
    const struct http_forward *fw)
{
	const struct http_header	*h;
	const char			*name, *upgrade;
	struct head			 head, *out = &head;
	size_t				 i, upgrade_len;
	int				 xff = 0, own_host;

	head.out = evb;
	head.len = 0;
	head_adds(out, llhttp_method_name(m->method));
	head_add(out, " ", 1);
	head_add(out, m->buf + m->target_off, m->target_len);
	head_add(out, " HTTP/1.1\r\n", 11);
	own_host = fw->host_fixed != NULL || fw->host_suffix != NULL;
	for (i = 0; i < m->nhdrs; i++) {
		h = &m->hdrs[i];
		name = m->buf + h->name_off;
		if (util_eqcase(name, h->name_len, "x-forwarded-for"))
			xff = 1;
		else if (!http_is_hop_by_hop(m, name, h->name_len) &&
		    !util_eqcase(name, h->name_len, "content-length") &&
		    !util_eqcase(name, h->name_len, "expect") &&
		    !util_eqcase(name, h->name_len, "x-forwarded-proto") &&
		    !is_marker_name(name, h->name_len, fw->marker_name) &&
		    (!own_host || !util_eqcase(name, h->name_len, "host")))
			write_header(out, m, h);
	}
	write_host(out, m, fw);
	/* The client's address joins the list it sent, in order. */
	head_add(out, "X-Forwarded-For: ", 17);
	for (i = 0; xff && i < m->nhdrs; i++) {
		h = &m->hdrs[i];
		if (!http_msg_name_is(m, h, "x-forwarded-for"))
			continue;
		head_add(out, m->buf + h->value_off, h->value_len);
		head_add(out, ", ", 2);
	}
	head_adds(out, fw->client_addr);
	head_add(out, "\r\n", 2);
	write_field(out, "X-Forwarded-Proto", fw->proto);
	head_add(out, "Via: ", 5);
	head_add_u64(out, m->major);
	head_add(out, ".", 1);
	head_add_u64(out, m->minor);
	head_add(out, " shadowdiff\r\n", 13);
	if (fw->id_value != NULL)
		write_field(out, fw->id_name, fw->id_value);
	if (fw->marker_name != NULL && fw->marker_value != NULL)
		write_field(out, fw->marker_name, fw->marker_value);
	if (fw->upgrade &&
	    (upgrade = http_msg_header(m, "upgrade", &upgrade_len)) != NULL) {
		head_add(out, "Connection: upgrade\r\nUpgrade: ", 30);
		head_add(out, upgrade, upgrade_len);
		head_add(out, "\r\n", 2);
	}
	write_framing(out, fw->framing, fw->length);
	head_add(out, "\r\n", 2);
	head_flush(out);
}

/*
 * Writes the response head toward the client: the primary's status line
 * and headers less the hop-by-hop ones, with FRAMING for the body as we
 * send it. With HTTP_FRAMING_NONE (HEAD, 304) the primary's
 * Content-Length is passed as it was: it describes the body not sent.
 * CONN is 0, or "close" / "keep-alive" for the Connection field.
 */
void
http_write_response_head(struct evbuffer *evb, const struct http_msg *m,
    enum http_framing framing, int conn)
{
	const struct http_header	*h;
	const char			*name, *upgrade;
	struct head			 head, *out = &head;
	char				 status[32];
	size_t				 i, upgrade_len;

	head.out = evb;
	head.len = 0;
	if (m->status >= 100 && m->status <= 999) {
		head_add(out, "HTTP/1.1 ", 9);
		head_add_u64(out, (uint64_t)m->status);
		head_add(out, " ", 1);
	} else
		head_add(out, status, (size_t)snprintf(status, sizeof(status),
		    "HTTP/1.1 %03d ", m->status));
	head_add(out, m->buf + m->reason_off, m->reason_len);
	head_add(out, "\r\n", 2);
	for (i = 0; i < m->nhdrs; i++) {
		h = &m->hdrs[i];
		name = m->buf + h->name_off;
		if (http_is_hop_by_hop(m, name, h->name_len))
			continue;
		if (util_eqcase(name, h->name_len, "content-length") &&
		    (framing != HTTP_FRAMING_NONE || m->status == 204 ||
		    m->status < 200))
			continue;
		write_header(out, m, h);
	}
	if (m->status == 101) {
		head_add(out, "Connection: upgrade\r\n", 21);
		if ((upgrade = http_msg_header(m, "upgrade", &upgrade_len)) !=
		    NULL) {
			head_add(out, "Upgrade: ", 9);
			head_add(out, upgrade, upgrade_len);
			head_add(out, "\r\n", 2);
		}
	} else if (conn == 1)
		head_add(out, "Connection: close\r\n", 19);
	else if (conn == 2)
		head_add(out, "Connection: keep-alive\r\n", 24);
	write_framing(out, framing, m->content_length);
	head_add(out, "\r\n", 2);
	head_flush(out);
}

/* Writes one chunk of LEN (> 0) bytes. */
void
http_write_chunk(struct evbuffer *out, const void *data, size_t len)
{
	evbuffer_add_printf(out, "%zx\r\n", len);
	evbuffer_add(out, data, len);
	evbuffer_add(out, "\r\n", 2);
}

/* Writes the last chunk (trailers are not forwarded). */
void
http_write_last_chunk(struct evbuffer *out)
{
	evbuffer_add(out, "0\r\n\r\n", 5);
}

/* The reason phrase of a status we send ourselves. */
const char *
http_status_text(int status)
{
	switch (status) {
	case 100:
		return ("Continue");
	case 200:
		return ("OK");
	case 400:
		return ("Bad Request");
	case 404:
		return ("Not Found");
	case 405:
		return ("Method Not Allowed");
	case 408:
		return ("Request Timeout");
	case 413:
		return ("Content Too Large");
	case 414:
		return ("URI Too Long");
	case 417:
		return ("Expectation Failed");
	case 431:
		return ("Request Header Fields Too Large");
	case 500:
		return ("Internal Server Error");
	case 501:
		return ("Not Implemented");
	case 502:
		return ("Bad Gateway");
	case 503:
		return ("Service Unavailable");
	case 504:
		return ("Gateway Timeout");
	case 505:
		return ("HTTP Version Not Supported");
	default:
		return ("Error");
	}
}

/* Whether METHOD is idempotent (RFC 9110 9.2.2), so retriable. */
int
http_method_idempotent(int method)
{
	switch (method) {
	case HTTP_GET:
	case HTTP_HEAD:
	case HTTP_OPTIONS:
	case HTTP_TRACE:
	case HTTP_PUT:
	case HTTP_DELETE:
		return (1);
	default:
		return (0);
	}
}

/* Writes a short response of our own, with a plain-text body. */
void
http_write_status(struct evbuffer *out, int status, int close)
{
	const char	*text = http_status_text(status);

	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: text/plain"
	    "\r\nContent-Length: %zu\r\n%s\r\n%d %s\n", status, text,
	    strlen(text) + 5, close ? "Connection: close\r\n" : "", status,
	    text);
}
