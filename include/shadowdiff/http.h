/*
 * http: the message model and the llhttp wrapper, with no I/O.
 *
 * A parsed head (request line or status line, and headers) lives in one
 * struct http_msg whose bytes are kept in a single arena bounded by the
 * header limit. The parser checks what llhttp 8.1 lets through even in
 * strict mode (obs-fold, an empty header name, HTTP/0.9, a transfer
 * coding other than chunked, Transfer-Encoding in HTTP/1.0, a missing or
 * repeated Host, a protocol other than HTTP/1.x, a field name that a
 * CGI-style backend would read as a framing field). A request target in
 * absolute form is turned into origin form, its authority becoming the
 * Host. Messages are re-framed, never forwarded raw: the
 * writers below rebuild the head without hop-by-hop fields and with
 * framing computed for the body as it will actually be sent.
 */
#ifndef SHADOWDIFF_HTTP_H
#define SHADOWDIFF_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <llhttp.h>

struct evbuffer;

struct http_header {
	uint32_t	 name_off;
	uint32_t	 name_len;
	uint32_t	 value_off;
	uint32_t	 value_len;
};

/* How a body is delimited on the wire. */
enum http_framing {
	HTTP_FRAMING_NONE,	/* no body */
	HTTP_FRAMING_LENGTH,	/* Content-Length */
	HTTP_FRAMING_CHUNKED,	/* Transfer-Encoding: chunked */
	HTTP_FRAMING_CLOSE	/* until the connection closes */
};

struct http_msg {
	int			 is_request;
	uint8_t			 method;	/* llhttp_method_t */
	uint8_t			 major;
	uint8_t			 minor;
	int			 status;
	uint32_t		 target_off;	/* request target */
	uint32_t		 target_len;
	uint32_t		 reason_off;	/* reason phrase */
	uint32_t		 reason_len;

	char			*buf;		/* arena for every byte above */
	size_t			 len;
	size_t			 cap;

	struct http_header	*hdrs;
	size_t			 nhdrs;
	size_t			 hcap;

	/* Set when the head is complete. */
	enum http_framing	 framing;
	uint64_t		 content_length;
	int			 keepalive;	/* per version and Connection */
	int			 upgrade;	/* Connection: upgrade + Upgrade */
	int			 expect_continue;
	int			 has_connection; /* a Connection field */
};

/* What a parser reports back from a feed. */
enum http_feed {
	HTTP_FEED_OK,		/* all bytes consumed, want more */
	HTTP_FEED_DONE,		/* a message ended; the rest is not read */
	HTTP_FEED_ERROR		/* status and reason say why */
};

struct http_parser_cbs {
	/*
	 * The head is complete. Returns 0 to read the body, 1 when the
	 * message has no body whatever its headers say (a response to HEAD,
	 * 204, 304), -1 to stop with the parser's error set by the callee
	 * through http_parser_fail().
	 */
	int	(*head)(void *, struct http_msg *);
	/* Body bytes, de-chunked. Returns 0 or -1 (as above). */
	int	(*body)(void *, const char *, size_t);
	/* The message ended (after an interim 1xx too: see msg.status). */
	void	(*done)(void *, struct http_msg *);
};

struct http_parser {
	llhttp_t			 ll;
	struct http_msg			 msg;
	const struct http_parser_cbs	*cbs;
	void				*arg;

	size_t			 max_header_bytes;
	size_t			 max_header_count;
	int			 state;		/* within the header block */
	/* Our own scan of the raw head: see head_scan() in http.c. */
	int			 scanning;	/* the head has not ended yet */
	size_t			 scan_line_len;	/* bytes of the current line */
	size_t			 scan_lines;	/* lines ended so far */
	char			 scan_prev;	/* the byte before */
	/* The request line's method and protocol, as received. */
	size_t			 scan_method_len;
	int			 scan_method_bad; /* a byte not a tchar */
	int			 scan_method_end; /* its SP was seen */
	char			 scan_proto[12];	/* the last word */
	size_t			 scan_proto_len;
	int			 method_pending; /* unknown to llhttp */

	int			 error_status;	/* HTTP status for the client */
	const char		*error_reason;
	int			 started;	/* a message began, not ended */
	int			 in_body;	/* head done, message not ended */
	int			 ended;		/* the message ended */
};

/* Prepares a request (HTTP_REQUEST) or response (HTTP_RESPONSE) parser. */
void	http_parser_init(struct http_parser *, llhttp_type_t,
	    const struct http_parser_cbs *, void *, size_t, size_t);
/* The same on a parser prepared before, keeping its buffers. */
void	http_parser_reset(struct http_parser *, llhttp_type_t,
	    const struct http_parser_cbs *, void *, size_t, size_t);
void	http_parser_free(struct http_parser *);
/* Readies the parser for the next message on the same connection. */
void	http_parser_next(struct http_parser *);
/* Feeds LEN bytes; *USED says how many were consumed. */
enum http_feed http_parser_feed(struct http_parser *, const char *, size_t,
	    size_t *);
/* The connection ended: completes a close-delimited body, or fails. */
enum http_feed http_parser_eof(struct http_parser *);
/* Sets the error to report from a callback that returns -1. */
void	http_parser_fail(struct http_parser *, int, const char *);
/* For a response parser: the method of the request it answers. */
void	http_parser_set_request_method(struct http_parser *, int);

/* The next at most MAX contiguous bytes of BUF (NULL if empty). */
const char *http_buffer_slice(struct evbuffer *, size_t, size_t *);

/* Header access on a parsed message. */
const char *http_msg_target(const struct http_msg *, size_t *);
const char *http_msg_header(const struct http_msg *, const char *, size_t *);
int	http_msg_name_is(const struct http_msg *, const struct http_header *,
	    const char *);
/* Whether a Connection header of MSG lists the token NAME. */
int	http_msg_connection_has(const struct http_msg *, const char *,
	    size_t);
/* Whether NAME is dropped when a message is forwarded (hop-by-hop). */
int	http_is_hop_by_hop(const struct http_msg *, const char *, size_t);

/* What the writer needs beyond the parsed request. */
struct http_forward {
	const char		*client_addr;	/* for X-Forwarded-For */
	const char		*proto;		/* for X-Forwarded-Proto */
	const char		*host;		/* Host when the request had none */
	const char		*host_fixed;	/* Host, not the client's */
	const char		*host_suffix;	/* after the client's host */
	/*
	 * A field the request's own copies of are never passed on: with a
	 * value, ours is sent instead (the shadow marker); without, none.
	 */
	const char		*marker_name;
	const char		*marker_value;
	enum http_framing	 framing;
	uint64_t		 length;
	int			 upgrade;	/* pass Upgrade on */
	const char		*id_name;	/* request id header, added */
	const char		*id_value;	/* when not NULL */
};

/* Writes the request head toward a backend, re-framed. */
void	http_write_request_head(struct evbuffer *, const struct http_msg *,
	    const struct http_forward *);
/* Writes the response head toward the client, re-framed. */
void	http_write_response_head(struct evbuffer *, const struct http_msg *,
	    enum http_framing, int);
/* Writes one chunk (LEN > 0) in chunked framing. */
void	http_write_chunk(struct evbuffer *, const void *, size_t);
/* Writes the last chunk. */
void	http_write_last_chunk(struct evbuffer *);
/* Writes a short response of our own (an error), closing or not. */
void	http_write_status(struct evbuffer *, int, int);
/* The reason phrase of a status we send ourselves (or the admin does). */
const char *http_status_text(int);
/* Whether an llhttp method is idempotent (RFC 9110 9.2.2): retriable. */
int	http_method_idempotent(int);

#endif
