/*
 * sd-backend: the backend that shadowdiff's tests, demo and benchmark
 * put behind the proxy. libevent's evhttp, one thread, keep-alive.
 *
 * usage: sd-backend [-qv] [-a address] [-C cafile] [-f go|rust] [-i ms]
 *                   [-p port] [-t chain,key]
 *
 * -t serves HTTPS with that certificate chain and key (PEM files), TLS
 * 1.2 and 1.3, ALPN http/1.1; -C then asks every client for a
 * certificate signed by a CA of that file, and refuses those without.
 *
 * It listens on 127.0.0.1 (-a) port 0 (-p; 0 lets the kernel choose),
 * prints "port N\n" on stdout once listening and runs until SIGTERM or
 * SIGINT, then exits 0. -v logs each request to stderr; -q (the
 * default) does not.
 *
 * Endpoints (any method unless said; HEAD gets the headers only):
 *   /hello        200 text/plain "hello\n"; the benchmark's path, kept cheap.
 *   /echo         200, the request body as is, the request's Content-Type
 *                 (or application/octet-stream), and X-Echo-Method,
 *                 X-Echo-Uri (request target with query), X-Echo-Length
 *                 (body length), X-Echo-Version (HTTP/1.0 or HTTP/1.1).
 *   /headers      200 text/plain, the request headers as parsed, one
 *                 "name: value\n" line each, in order.
 *   /bytes/N      200 application/octet-stream, N bytes (N < 2^50), byte
 *                 i being 'a' + i % 26, written 256 KiB at a time (memory
 *                 stays flat for any N); Content-Length, or chunked with
 *                 ?chunked=1 (close-delimited for an HTTP/1.0 client).
 *   /sink         200 text/plain "received N\n" and X-Echo-Length: N for
 *                 a body of N bytes (no size limit; see below).
 *   /status/N     status N (100-599); no body for 1xx, 204 and 304, else
 *                 text/plain "status N\n".
 *   /sleep/MS     200 "slept\n" after MS milliseconds (at most an hour),
 *                 on a timer: other connections are served meanwhile.
 *   /close        200 "close\n" with Connection: close.
 *   /tls          200 text/plain: "plain\n" without -t, else the lines
 *                 "version V", "sni NAME" (or "-"), "resumed 0|1" and
 *                 "client SUBJECT" (or "-") of the connection.
 *   /stats        200 "requests N\n": the requests received completely
 *                 (the handler ran) except /stats, /seen and their /reset.
 *   /stats/reset  sets that count to zero.
 *   /seen         200 text/plain, the last 1000 of the requests that
 *                 /stats counts, oldest first, one "METHOD URI ID\n" line
 *                 each: URI is the request target with query, ID the
 *                 X-Shadowdiff-Id value (trimmed by evhttp) or "-". URI
 *                 and ID are cut at 16 KiB and 1 KiB (memory stays
 *                 bounded).
 *   /seen?headers=1  the same, each line followed by the headers of its
 *                 request as evhttp parsed them, one "\tname: value\n"
 *                 line each, cut at 4 KiB a request.
 *   /seen/reset   forgets them.
 *   /json/N       200 application/json, a JSON object for benchmarking
 *                 the diff (N from 1 to 1048576), no final newline:
 *                 {"id":1,"name":"shadowdiff benchmark","items":[
 *                 {"k":0,"v":"abc..."},...],"version":"go"}. Byte for
 *                 byte the same in both flavors but for "version", "go" or
 *                 "rust". The go body is exactly N bytes for N >= 78 (a
 *                 smaller N gets the 64-byte object with no item), the
 *                 rust body 2 more. Same headers in both flavors too.
 *   /api/...      the JSON service below; 404 elsewhere.
 *
 * The JSON service plays the Go service (-f go, the default) or its Rust
 * rewrite (-f rust). Bodies are literal strings, byte for byte what
 * encoding/json and serde_json would write.
 *   GET /api/health        {"status":"ok"} in both flavors (no divergence).
 *   GET /api/users/1       benign differences only.
 *   GET /api/users/2       Rust BUG: "balance":10.5 where Go has 10.05.
 *   GET /api/orders?user=1 Rust BUG: the last of three orders is missing.
 *   GET /api/orders?user=N (N != 1) Go null, Rust [] (benign).
 *   GET /api/orders/404    Rust BUG: 500 where Go answers 200 with order 404.
 *   GET /api/orders/N      (other N) 404 {"error":"not found"} in both.
 *   GET /api/search?q=Q    echoes Q: escaping differs (benign).
 *   GET or POST /api/session  a login: Set-Cookie and the body's "token"
 *                          differ by flavor (secrets for redaction tests).
 *   other /api paths 404, other methods 405 with Allow: GET, HEAD.
 * Benign differences, Go first:
 *   - key order: Go follows its struct fields; the Rust service builds
 *     values with serde_json::json!, whose map sorts keys.
 *   - floats: a float64 1 is written 1 by Go and 1.0 by serde_json
 *     ("balance" of user 1, "total" of order 101).
 *   - HTML escaping: Go writes <, >, & (and U+2028, U+2029) as \u003c,
 *     \u003e, \u0026 (\u2028, \u2029); serde_json writes them raw.
 *   - nil slices: Go null, Rust [] ("tags" of user 1, orders of a user
 *     without any).
 *   - timestamps: Go's RFC 3339 drops trailing zeros of the fraction
 *     (2024-01-02T03:04:05.1Z), chrono writes milliseconds
 *     (2024-01-02T03:04:05.100Z).
 *   - json.Encoder ends the body with "\n"; serde_json does not.
 *   - Content-Type application/json vs application/json; charset=utf-8,
 *     Server sd-backend-go vs sd-backend-rust, and Date (two processes,
 *     possibly a second apart).
 *
 * evhttp behaviours the tests may meet (libevent 2.1.12, checked by hand):
 *   - It reads a request body whole before the handler runs (2.1 has no
 *     hook to stream a server request body), so /echo and /sink hold the
 *     body in memory; the size limit is lifted so 100 MiB+ uploads work.
 *   - Obsolete line folding is accepted: the continuation is appended to
 *     the previous value after one space ("a\r\n  b" gives "a b").
 *     Header values are trimmed; a space before the colon stays in the
 *     name ("X-Y : z" gives name "X-Y "); bare LF line ends are accepted.
 *   - "Expect: 100-continue" on HTTP/1.1 gets "100 Continue" when no body
 *     byte has arrived yet; any other Expect value gets 417 and a close.
 *     HTTP/1.0 requests' Expect is ignored.
 *   - Chunked request bodies work, but a chunk extension ("3;x=1") is
 *     refused with 413 (any chunk-size error is reported as too large);
 *     trailers are read and dropped. "Transfer-Encoding: gzip, chunked" is
 *     read as chunked; Transfer-Encoding with Content-Length gets 400.
 *   - Two different Content-Length headers: the first wins, silently (the
 *     proxy must refuse such a request before it gets here).
 *   - Methods outside GET, POST, HEAD, PUT, DELETE, OPTIONS, TRACE,
 *     CONNECT and PATCH get 501; HTTP/2.0 or a bad request line 400. These
 *     evhttp answers are text/html with Connection: close and never reach
 *     the handler (not counted by /stats).
 *   - evhttp writes the body of a HEAD reply if the handler leaves one:
 *     reply() drops it and sets the Content-Length a GET would get.
 *   - An HTTP/1.1 request without Host is accepted.
 *   - A client leaving during /bytes or /sleep detaches the request from
 *     its connection; the request is then ours to free (see
 *     bytes_closed_cb and sleep_done_cb).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h>	/* major, minor: 2.1 has no accessor */
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/util.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "servers-common.h"

#define PIECE_SIZE	(256 * 1024)	/* one /bytes write; the only buffer */
#define MAX_BYTES	(UINT64_C(1) << 50)
#define MAX_SLEEP_MS	(3600 * 1000)
#define MAX_HEADER_LINES 100000		/* /headers: lines written at most */
#define MAX_QUERY_LEN	1024		/* /api/search: q bytes at most */
#define MAX_SHUTDOWN_PENDING 1000000	/* bound of the clean-up loops */
#define SEEN_MAX	1000		/* /seen: requests remembered */
#define SEEN_URI_MAX	(16 * 1024)	/* /seen: URI bytes kept */
#define SEEN_ID_MAX	1024		/* /seen: X-Shadowdiff-Id bytes kept */
#define SEEN_HEADERS_MAX 4096		/* /seen?headers=1: bytes kept */
#define JSON_MAX	(1024 * 1024)	/* /json/N: N at most */
#define JSON_VALUE_LEN	64		/* /json/N: an item's "v" length */

enum flavor {
	FLAVOR_GO,
	FLAVOR_RUST
};

/* A reply that waits for a timer (/sleep) or for writes (/bytes). */
struct pending {
	LIST_ENTRY(pending)	 entry;
	struct evhttp_request	*req;
	struct evhttp_connection *evcon;	/* /bytes: its close callback */
	struct event		*timer;		/* /sleep */
	uint64_t		 total;		/* /bytes: bytes to send */
	uint64_t		 sent;
};

/* One /seen line; the buffer is kept for the next line in its slot. */
struct seen_line {
	char			*text;		/* the line, then its headers */
	size_t			 len;		/* the line's bytes */
	size_t			 hlen;		/* the headers' after it */
	size_t			 size;
};

struct backend {
	struct event_base	*base;
	struct evhttp		*http;
	enum flavor		 flavor;
	int			 verbose;
	uint64_t		 requests;
	LIST_HEAD(, pending)	 pendings;
	struct seen_line	 seen[SEEN_MAX];	/* a ring */
	size_t			 seen_next;	/* the slot to write next */
	size_t			 seen_count;
	char			*json;		/* the last /json body */
	size_t			 json_len;
	uint64_t		 json_n;	/* its N, 0 if none */
	SSL_CTX			*tls;		/* -t: HTTPS */
};

/* The /bytes pattern, PIECE_SIZE bytes readable from any offset < 26. */
static char pattern[PIECE_SIZE + 26];

/* One literal /api answer per flavor. */
struct api_answer {
	const char	*path;
	int		 go_status;
	const char	*go_body;
	int		 rust_status;
	const char	*rust_body;
};

static const struct api_answer api_answers[] = {
	{ "/api/health",
	  200, "{\"status\":\"ok\"}\n",
	  200, "{\"status\":\"ok\"}" },
	{ "/api/users/1",
	  200, "{\"id\":1,\"name\":\"Ada Lovelace\","
	  "\"email\":\"ada@example.com\",\"balance\":1,\"tags\":null,"
	  "\"created_at\":\"2024-01-02T03:04:05.1Z\",\"active\":true}\n",
	  200, "{\"active\":true,\"balance\":1.0,"
	  "\"created_at\":\"2024-01-02T03:04:05.100Z\","
	  "\"email\":\"ada@example.com\",\"id\":1,\"name\":\"Ada Lovelace\","
	  "\"tags\":[]}" },
	{ "/api/users/2",
	  200, "{\"id\":2,\"name\":\"Grace Hopper\","
	  "\"email\":\"grace@example.com\",\"balance\":10.05,"
	  "\"tags\":[\"admin\",\"navy\"],"
	  "\"created_at\":\"2024-03-04T05:06:07.25Z\",\"active\":false}\n",
	  200, "{\"active\":false,\"balance\":10.5,"
	  "\"created_at\":\"2024-03-04T05:06:07.250Z\","
	  "\"email\":\"grace@example.com\",\"id\":2,\"name\":\"Grace Hopper\","
	  "\"tags\":[\"admin\",\"navy\"]}" },
	{ "/api/orders/404",
	  200, "{\"id\":404,\"user_id\":2,\"total\":4.04,\"status\":\"lost\"}\n",
	  500, "{\"error\":\"internal server error\"}" },
	{ "/api/session",
	  200, "{\"user\":\"ann\",\"token\":\"tok-go-6c1f\"}\n",
	  200, "{\"token\":\"tok-rust-9d2e\",\"user\":\"ann\"}" },
};

static const char orders_user1_go[] =
    "[{\"id\":101,\"user_id\":1,\"total\":25,\"status\":\"shipped\"},"
    "{\"id\":102,\"user_id\":1,\"total\":7.5,\"status\":\"pending\"},"
    "{\"id\":103,\"user_id\":1,\"total\":12.99,\"status\":\"cancelled\"}]\n";
static const char orders_user1_rust[] =
    "[{\"id\":101,\"status\":\"shipped\",\"total\":25.0,\"user_id\":1},"
    "{\"id\":102,\"status\":\"pending\",\"total\":7.5,\"user_id\":1}]";

static const char hello_body[] = "hello\n";

static void	usage(void) __attribute__((noreturn));
static int	parse_arg(const char *, uint64_t, uint64_t *);
static const char *method_name(enum evhttp_cmd_type);
static void	reply(struct evhttp_request *, int);
static void	reply_text(struct evhttp_request *, int, const char *);
static void	pending_free(struct pending *);
static void	handle_hello(struct evhttp_request *);
static void	handle_echo(struct evhttp_request *);
static void	handle_headers(struct evhttp_request *);
static void	handle_bytes(struct backend *, struct evhttp_request *,
		    const char *, const char *);
static void	bytes_next(struct pending *);
static void	bytes_written_cb(struct evhttp_connection *, void *);
static void	bytes_closed_cb(struct evhttp_connection *, void *);
static void	handle_sink(struct evhttp_request *);
static void	handle_status(struct evhttp_request *, const char *);
static void	handle_sleep(struct backend *, struct evhttp_request *,
		    const char *);
static void	sleep_done_cb(evutil_socket_t, short, void *);
static void	handle_close(struct evhttp_request *);
static void	handle_stats(struct backend *, struct evhttp_request *, int);
static void	seen_record(struct backend *, struct evhttp_request *);
static void	handle_seen(struct backend *, struct evhttp_request *, int,
		    const char *);
static size_t	json_build(char *, uint64_t, enum flavor);
static void	handle_json(struct backend *, struct evhttp_request *,
		    const char *);
static void	json_escape(struct evbuffer *, const char *, enum flavor);
static void	api_reply(struct backend *, struct evhttp_request *, int);
static void	api_reply_literal(struct backend *, struct evhttp_request *,
		    int, const char *);
static void	api_search(struct backend *, struct evhttp_request *,
		    const char *);
static void	api_orders(struct backend *, struct evhttp_request *,
		    const char *);
static void	handle_api(struct backend *, struct evhttp_request *,
		    const char *, const char *);
static void	request_cb(struct evhttp_request *, void *);
static void	signal_cb(evutil_socket_t, short, void *);
static int	listen_on(struct backend *, const char *, const char *);

/* Prints the usage message and exits. */
static void
usage(void)
{
	fprintf(stderr,
	    "usage: sd-backend [-qv] [-a address] [-C cafile] [-f go|rust] "
	    "[-i ms] [-p port] [-t chain,key]\n");
	exit(2);
}

/* Parses argument S, a decimal number of at most max; 0 or -1 if invalid. */
static int
parse_arg(const char *s, uint64_t max, uint64_t *out)
{
	if (s == NULL)
		return (-1);
	return (parse_uint(s, strlen(s), max, out));
}

/* Returns the name of an evhttp method. */
static const char *
method_name(enum evhttp_cmd_type cmd)
{
	switch (cmd) {
	case EVHTTP_REQ_GET:
		return ("GET");
	case EVHTTP_REQ_POST:
		return ("POST");
	case EVHTTP_REQ_HEAD:
		return ("HEAD");
	case EVHTTP_REQ_PUT:
		return ("PUT");
	case EVHTTP_REQ_DELETE:
		return ("DELETE");
	case EVHTTP_REQ_OPTIONS:
		return ("OPTIONS");
	case EVHTTP_REQ_TRACE:
		return ("TRACE");
	case EVHTTP_REQ_CONNECT:
		return ("CONNECT");
	case EVHTTP_REQ_PATCH:
		return ("PATCH");
	}
	return ("UNKNOWN");
}

/*
 * Sends the reply in the output buffer. evhttp would write the body of a
 * HEAD reply too: a HEAD gets the Content-Length a GET would, no body.
 */
static void
reply(struct evhttp_request *req, int code)
{
	struct evbuffer	*out = evhttp_request_get_output_buffer(req);
	struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
	char		 len[32];

	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		if (code >= 200 && code != 204 && code != 304 &&
		    evhttp_find_header(headers, "Content-Length") == NULL) {
			snprintf(len, sizeof(len), "%zu",
			    evbuffer_get_length(out));
			evhttp_add_header(headers, "Content-Length", len);
		}
		evbuffer_drain(out, evbuffer_get_length(out));
	}
	evhttp_send_reply(req, code, NULL, NULL);
}

/* Answers code with a text/plain body. */
static void
reply_text(struct evhttp_request *req, int code, const char *text)
{
	struct evbuffer	*out = evhttp_request_get_output_buffer(req);

	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain");
	evbuffer_add(out, text, strlen(text));
	reply(req, code);
}

/* Unlinks and frees a pending reply; the request is not touched. */
static void
pending_free(struct pending *p)
{
	LIST_REMOVE(p, entry);
	if (p->timer != NULL)
		event_free(p->timer);
	free(p);
}

/* /hello: the benchmark's answer. */
static void
handle_hello(struct evhttp_request *req)
{
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain");
	evbuffer_add_reference(evhttp_request_get_output_buffer(req),
	    hello_body, sizeof(hello_body) - 1, NULL, NULL);
	reply(req, 200);
}

/* /echo: the body back, with what was received about it. */
static void
handle_echo(struct evhttp_request *req)
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	struct evbuffer		*body = evhttp_request_get_input_buffer(req);
	const char		*ctype;
	char			 len[32];

	ctype = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Content-Type");
	evhttp_add_header(out, "Content-Type",
	    ctype != NULL ? ctype : "application/octet-stream");
	evhttp_add_header(out, "X-Echo-Method",
	    method_name(evhttp_request_get_command(req)));
	evhttp_add_header(out, "X-Echo-Uri", evhttp_request_get_uri(req));
	snprintf(len, sizeof(len), "%zu", evbuffer_get_length(body));
	evhttp_add_header(out, "X-Echo-Length", len);
	evhttp_add_header(out, "X-Echo-Version",
	    req->major == 1 && req->minor == 0 ? "HTTP/1.0" : "HTTP/1.1");
	evbuffer_add_buffer(evhttp_request_get_output_buffer(req), body);
	reply(req, 200);
}

/* /headers: the request headers, one line each, in order. */
static void
handle_headers(struct evhttp_request *req)
{
	struct evkeyvalq	*in = evhttp_request_get_input_headers(req);
	struct evbuffer		*out = evhttp_request_get_output_buffer(req);
	struct evkeyval		*kv;
	size_t			 n = 0;

	for (kv = TAILQ_FIRST(in); kv != NULL && n < MAX_HEADER_LINES;
	    kv = TAILQ_NEXT(kv, next), n++)
		evbuffer_add_printf(out, "%s: %s\n", kv->key, kv->value);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain");
	reply(req, 200);
}

/* /bytes/N: starts a reply of N pattern bytes written piece by piece. */
static void
handle_bytes(struct backend *be, struct evhttp_request *req,
    const char *arg, const char *query)
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	struct evkeyvalq	 params;
	struct pending		*p;
	const char		*v = NULL;
	uint64_t		 n;
	char			 len[32];
	int			 chunked;

	if (parse_arg(arg, MAX_BYTES, &n) == -1) {
		reply_text(req, 400, "bad byte count\n");
		return;
	}
	TAILQ_INIT(&params);
	if (query != NULL && evhttp_parse_query_str(query, &params) == 0)
		v = evhttp_find_header(&params, "chunked");
	chunked = v != NULL && strcmp(v, "1") == 0;
	evhttp_clear_headers(&params);
	evhttp_add_header(out, "Content-Type", "application/octet-stream");
	if (!chunked) {
		snprintf(len, sizeof(len), "%" PRIu64, n);
		evhttp_add_header(out, "Content-Length", len);
	}
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		/* evhttp would never call back a HEAD's chunk write. */
		evhttp_send_reply(req, 200, "OK", NULL);
		return;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		reply_text(req, 500, "out of memory\n");
		return;
	}
	p->req = req;
	p->evcon = evhttp_request_get_connection(req);
	p->total = n;
	LIST_INSERT_HEAD(&be->pendings, p, entry);
	/* A client leaving mid-reply frees the connection, not the request. */
	evhttp_connection_set_closecb(p->evcon, bytes_closed_cb, p);
	evhttp_send_reply_start(req, 200, "OK");
	bytes_next(p);
}

/* Writes the next piece of a /bytes reply, or ends it. */
static void
bytes_next(struct pending *p)
{
	struct evbuffer	*buf;
	uint64_t	 left = p->total - p->sent;
	size_t		 n;

	if (left == 0) {
		evhttp_connection_set_closecb(p->evcon, NULL, NULL);
		evhttp_send_reply_end(p->req);
		pending_free(p);
		return;
	}
	n = left < PIECE_SIZE ? (size_t)left : PIECE_SIZE;
	if ((buf = evbuffer_new()) == NULL ||
	    evbuffer_add_reference(buf, pattern + p->sent % 26, n,
	    NULL, NULL) == -1) {
		/* Cannot go on: a short body tells the client. */
		if (buf != NULL)
			evbuffer_free(buf);
		p->total = p->sent;
		evhttp_connection_set_closecb(p->evcon, NULL, NULL);
		evhttp_send_reply_end(p->req);
		pending_free(p);
		return;
	}
	p->sent += n;
	evhttp_send_reply_chunk_with_cb(p->req, buf, bytes_written_cb, p);
	evbuffer_free(buf);
}

/* The previous /bytes piece is written: sends the next one. */
static void
bytes_written_cb(struct evhttp_connection *evcon, void *arg)
{
	bytes_next(arg);
}

/* The client left during a /bytes reply: frees the orphaned request. */
static void
bytes_closed_cb(struct evhttp_connection *evcon, void *arg)
{
	struct pending	*p = arg;

	if (evhttp_request_get_connection(p->req) == NULL)
		evhttp_send_reply_end(p->req);	/* frees a detached request */
	pending_free(p);
}

/* /sink: counts and drops the body. */
static void
handle_sink(struct evhttp_request *req)
{
	struct evbuffer	*body = evhttp_request_get_input_buffer(req);
	size_t		 n = evbuffer_get_length(body);
	char		 text[64], len[32];

	evbuffer_drain(body, n);
	snprintf(len, sizeof(len), "%zu", n);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "X-Echo-Length", len);
	snprintf(text, sizeof(text), "received %zu\n", n);
	reply_text(req, 200, text);
}

/* /status/N: answers status N. */
static void
handle_status(struct evhttp_request *req, const char *arg)
{
	uint64_t	code;
	char		text[32];

	if (parse_arg(arg, 599, &code) == -1 || code < 100) {
		reply_text(req, 400, "bad status\n");
		return;
	}
	if (code < 200 || code == 204 || code == 304) {
		reply(req, (int)code);
		return;
	}
	snprintf(text, sizeof(text), "status %" PRIu64 "\n", code);
	reply_text(req, (int)code, text);
}

/* /sleep/MS: answers after MS milliseconds. */
static void
handle_sleep(struct backend *be, struct evhttp_request *req, const char *arg)
{
	struct pending	*p;
	struct timeval	 tv;
	uint64_t	 ms;

	if (parse_arg(arg, MAX_SLEEP_MS, &ms) == -1) {
		reply_text(req, 400, "bad duration\n");
		return;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		reply_text(req, 500, "out of memory\n");
		return;
	}
	p->req = req;
	if ((p->timer = evtimer_new(be->base, sleep_done_cb, p)) == NULL) {
		free(p);
		reply_text(req, 500, "out of memory\n");
		return;
	}
	LIST_INSERT_HEAD(&be->pendings, p, entry);
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(p->timer, &tv);
}

/*
 * A /sleep is over: answers it. If the client left meanwhile, evhttp has
 * detached the request and evhttp_send_reply just frees it.
 */
static void
sleep_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pending	*p = arg;

	reply_text(p->req, 200, "slept\n");
	pending_free(p);
}

/* /close: answers and closes the connection. */
static void
handle_close(struct evhttp_request *req)
{
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Connection", "close");
	reply_text(req, 200, "close\n");
}

/* /tls: what the connection's TLS looks like from here. */
static void
handle_tls(struct evhttp_request *req)
{
	struct evhttp_connection	*evcon;
	struct bufferevent		*bev;
	struct evbuffer			*out = evbuffer_new();
	SSL				*ssl = NULL;
	X509				*peer;
	const char			*sni;
	char				 subject[256] = "-";

	evcon = evhttp_request_get_connection(req);
	bev = evcon != NULL ? evhttp_connection_get_bufferevent(evcon) : NULL;
	if (bev != NULL)
		ssl = bufferevent_openssl_get_ssl(bev);
	if (out == NULL) {
		reply(req, 500);
		return;
	}
	if (ssl == NULL)
		evbuffer_add_printf(out, "plain\n");
	else {
		sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
		if ((peer = SSL_get1_peer_certificate(ssl)) != NULL) {
			X509_NAME_oneline(X509_get_subject_name(peer), subject,
			    sizeof(subject));
			X509_free(peer);
		}
		evbuffer_add_printf(out, "version %s\nsni %s\nresumed %d\n"
		    "client %s\n", SSL_get_version(ssl), sni ? sni : "-",
		    SSL_session_reused(ssl), subject);
	}
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain");
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
}

/* /stats and /stats/reset. */
static void
handle_stats(struct backend *be, struct evhttp_request *req, int reset)
{
	char	text[64];

	if (reset)
		be->requests = 0;
	snprintf(text, sizeof(text), "requests %" PRIu64 "\n", be->requests);
	reply_text(req, 200, text);
}

/* Remembers the request for /seen, in place of the oldest if full. */
static void
seen_record(struct backend *be, struct evhttp_request *req)
{
	struct seen_line	*l = &be->seen[be->seen_next];
	struct evkeyval		*kv;
	const char		*method, *uri, *id;
	size_t			 mlen, ulen, ilen, need, hlen = 0, n;
	char			*text;

	method = method_name(evhttp_request_get_command(req));
	uri = evhttp_request_get_uri(req);
	id = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "X-Shadowdiff-Id");
	if (id == NULL)
		id = "-";
	mlen = strlen(method);
	ulen = strnlen(uri, SEEN_URI_MAX);
	ilen = strnlen(id, SEEN_ID_MAX);
	need = mlen + 1 + ulen + 1 + ilen + 1;
	TAILQ_FOREACH(kv, evhttp_request_get_input_headers(req), next) {
		n = 1 + strlen(kv->key) + 2 + strlen(kv->value) + 1;
		if (hlen + n > SEEN_HEADERS_MAX)
			break;
		hlen += n;
	}
	if (need + hlen + 1 > l->size) {
		if ((text = realloc(l->text, need + hlen + 1)) == NULL)
			return;		/* the line is missing; rare enough */
		l->text = text;
		l->size = need + hlen + 1;
	}
	memcpy(l->text, method, mlen);
	l->text[mlen] = ' ';
	memcpy(l->text + mlen + 1, uri, ulen);
	l->text[mlen + 1 + ulen] = ' ';
	memcpy(l->text + mlen + 1 + ulen + 1, id, ilen);
	l->text[need - 1] = '\n';
	l->len = need;
	l->hlen = 0;
	TAILQ_FOREACH(kv, evhttp_request_get_input_headers(req), next) {
		n = (size_t)snprintf(l->text + need + l->hlen, hlen + 1 -
		    l->hlen, "\t%s: %s\n", kv->key, kv->value);
		if (l->hlen + n > hlen)
			break;
		l->hlen += n;
	}
	be->seen_next = (be->seen_next + 1) % SEEN_MAX;
	if (be->seen_count < SEEN_MAX)
		be->seen_count++;
}

/* /seen and /seen/reset; QUERY headers=1 adds the headers. */
static void
handle_seen(struct backend *be, struct evhttp_request *req, int reset,
    const char *query)
{
	struct evbuffer		*out = evhttp_request_get_output_buffer(req);
	const struct seen_line	*l;
	size_t			 i, first;
	int			 headers;

	if (reset) {
		/* The buffers stay for the lines to come. */
		be->seen_count = 0;
		be->seen_next = 0;
	}
	headers = query != NULL && strcmp(query, "headers=1") == 0;
	first = (be->seen_next + SEEN_MAX - be->seen_count) % SEEN_MAX;
	for (i = 0; i < be->seen_count; i++) {
		l = &be->seen[(first + i) % SEEN_MAX];
		evbuffer_add(out, l->text, l->len + (headers ? l->hlen : 0));
	}
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain");
	reply(req, 200);
}

/*
 * Writes the /json/N body into buf (N + 128 bytes at least) and returns
 * its length. The items are sized as for "go" in both flavors, so the
 * rust body is the go body with "rust" in place of "go".
 */
static size_t
json_build(char *buf, uint64_t n, enum flavor flavor)
{
	static const char	 head[] =
	    "{\"id\":1,\"name\":\"shadowdiff benchmark\",\"items\":[";
	static const char	 tail_go[] = "],\"version\":\"go\"}";
	static const char	 tail_rust[] = "],\"version\":\"rust\"}";
	/* Room always left for one more item, so the last one fits. */
	const uint64_t		 spare = 32;
	uint64_t		 left, k, vlen, j;
	size_t			 len, hlen;
	char			 item[64];

	len = sizeof(head) - 1;
	memcpy(buf, head, len);
	left = n > len + sizeof(tail_go) - 1 ? n - len - (sizeof(tail_go) - 1) :
	    0;
	for (k = 0; left > 0; k++) {
		hlen = (size_t)snprintf(item, sizeof(item),
		    "%s{\"k\":%" PRIu64 ",\"v\":\"", k > 0 ? "," : "", k);
		if (left < hlen + 2)
			break;		/* k == 0 only: N is too small */
		if (left >= hlen + 2 + JSON_VALUE_LEN + spare)
			vlen = JSON_VALUE_LEN;
		else
			vlen = left - hlen - 2;		/* the last item */
		memcpy(buf + len, item, hlen);
		len += hlen;
		for (j = 0; j < vlen; j++)
			buf[len++] = (char)('a' + (k + j) % 26);
		buf[len++] = '"';
		buf[len++] = '}';
		left -= hlen + 2 + vlen;
	}
	if (flavor == FLAVOR_GO) {
		memcpy(buf + len, tail_go, sizeof(tail_go) - 1);
		len += sizeof(tail_go) - 1;
	} else {
		memcpy(buf + len, tail_rust, sizeof(tail_rust) - 1);
		len += sizeof(tail_rust) - 1;
	}
	return (len);
}

/* /json/N: a JSON object of about N bytes; the last body is kept. */
static void
handle_json(struct backend *be, struct evhttp_request *req, const char *arg)
{
	uint64_t	 n;
	char		*body;

	if (parse_arg(arg, JSON_MAX, &n) == -1 || n == 0) {
		reply_text(req, 400, "bad size\n");
		return;
	}
	if (n != be->json_n) {
		/* One body kept (1 MiB at most): a benchmark repeats its N. */
		if ((body = realloc(be->json, (size_t)n + 128)) == NULL) {
			reply_text(req, 500, "out of memory\n");
			return;
		}
		be->json = body;
		be->json_len = json_build(body, n, be->flavor);
		be->json_n = n;
	}
	evbuffer_add(evhttp_request_get_output_buffer(req), be->json,
	    be->json_len);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	reply(req, 200);
}

/* Appends s as the inside of a JSON string the way the flavor writes it. */
static void
json_escape(struct evbuffer *out, const char *s, enum flavor flavor)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i;

	for (i = 0; p[i] != '\0' && i < MAX_QUERY_LEN; i++) {
		if (p[i] == '"' || p[i] == '\\')
			evbuffer_add_printf(out, "\\%c", p[i]);
		else if (p[i] == '\n')
			evbuffer_add(out, "\\n", 2);
		else if (p[i] == '\r')
			evbuffer_add(out, "\\r", 2);
		else if (p[i] == '\t')
			evbuffer_add(out, "\\t", 2);
		else if (flavor == FLAVOR_RUST && p[i] == '\b')
			evbuffer_add(out, "\\b", 2);
		else if (flavor == FLAVOR_RUST && p[i] == '\f')
			evbuffer_add(out, "\\f", 2);
		else if (p[i] < 0x20)
			evbuffer_add_printf(out, "\\u%04x", p[i]);
		else if (flavor == FLAVOR_GO &&
		    (p[i] == '<' || p[i] == '>' || p[i] == '&'))
			evbuffer_add_printf(out, "\\u%04x", p[i]);
		else if (flavor == FLAVOR_GO && p[i] == 0xe2 &&
		    p[i + 1] == 0x80 && (p[i + 2] == 0xa8 || p[i + 2] == 0xa9)) {
			evbuffer_add_printf(out, "\\u%04x",
			    p[i + 2] == 0xa8 ? 0x2028 : 0x2029);
			i += 2;
		} else
			evbuffer_add(out, &p[i], 1);
	}
}

/* Sends the JSON answer in the output buffer with the flavor's headers. */
static void
api_reply(struct backend *be, struct evhttp_request *req, int code)
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);

	if (be->flavor == FLAVOR_GO) {
		evhttp_add_header(out, "Content-Type", "application/json");
		evhttp_add_header(out, "Server", "sd-backend-go");
	} else {
		evhttp_add_header(out, "Content-Type",
		    "application/json; charset=utf-8");
		evhttp_add_header(out, "Server", "sd-backend-rust");
	}
	reply(req, code);
}

/* Sends a literal JSON answer. */
static void
api_reply_literal(struct backend *be, struct evhttp_request *req, int code,
    const char *body)
{
	evbuffer_add_reference(evhttp_request_get_output_buffer(req), body,
	    strlen(body), NULL, NULL);
	api_reply(be, req, code);
}

/* GET /api/search?q=Q: one fixed result, Q echoed. */
static void
api_search(struct backend *be, struct evhttp_request *req, const char *query)
{
	struct evkeyvalq	 params;
	struct evbuffer		*out = evhttp_request_get_output_buffer(req);
	const char		*q = NULL;

	TAILQ_INIT(&params);
	if (query != NULL && evhttp_parse_query_str(query, &params) == 0)
		q = evhttp_find_header(&params, "q");
	if (q == NULL)
		q = "";
	if (strlen(q) > MAX_QUERY_LEN) {
		evhttp_clear_headers(&params);
		api_reply_literal(be, req, 400, be->flavor == FLAVOR_GO ?
		    "{\"error\":\"query too long\"}\n" :
		    "{\"error\":\"query too long\"}");
		return;
	}
	evbuffer_add_printf(out, "{\"query\":\"");
	json_escape(out, q, be->flavor);
	if (be->flavor == FLAVOR_GO)
		evbuffer_add_printf(out, "\",\"total\":1,\"results\":["
		    "{\"title\":\"Tom \\u0026 Jerry\",\"snippet\":"
		    "\"\\u003cb\\u003eTom\\u003c/b\\u003e \\u0026 Jerry\"}]}\n");
	else
		evbuffer_add_printf(out, "\",\"results\":["
		    "{\"snippet\":\"<b>Tom</b> & Jerry\","
		    "\"title\":\"Tom & Jerry\"}],\"total\":1}");
	evhttp_clear_headers(&params);
	api_reply(be, req, 200);
}

/* GET /api/orders?user=N: the user's orders. */
static void
api_orders(struct backend *be, struct evhttp_request *req, const char *query)
{
	struct evkeyvalq	 params;
	const char		*user = NULL;
	int			 one;

	TAILQ_INIT(&params);
	if (query != NULL && evhttp_parse_query_str(query, &params) == 0)
		user = evhttp_find_header(&params, "user");
	one = user != NULL && strcmp(user, "1") == 0;
	evhttp_clear_headers(&params);
	if (be->flavor == FLAVOR_GO)
		api_reply_literal(be, req, 200, one ? orders_user1_go : "null\n");
	else
		api_reply_literal(be, req, 200, one ? orders_user1_rust : "[]");
}

/* /api/...: the JSON service of the chosen flavor. */
static void
handle_api(struct backend *be, struct evhttp_request *req, const char *path,
    const char *query)
{
	const struct api_answer	*a;
	enum evhttp_cmd_type	 cmd = evhttp_request_get_command(req);
	size_t			 i;
	int			 go = be->flavor == FLAVOR_GO;

	if (strcmp(path, "/api/session") == 0) {
		/* A login: each flavor opens a session of its own. */
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Set-Cookie", go ? "sid=sid-go-51ab; HttpOnly" :
		    "sid=sid-rust-07ce; HttpOnly");
		if (cmd == EVHTTP_REQ_POST)
			cmd = EVHTTP_REQ_GET;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		api_reply_literal(be, req, 405, go ?
		    "{\"error\":\"method not allowed\"}\n" :
		    "{\"error\":\"method not allowed\"}");
		return;
	}
	if (strcmp(path, "/api/search") == 0) {
		api_search(be, req, query);
		return;
	}
	if (strcmp(path, "/api/orders") == 0) {
		api_orders(be, req, query);
		return;
	}
	for (i = 0; i < sizeof(api_answers) / sizeof(api_answers[0]); i++) {
		a = &api_answers[i];
		if (strcmp(path, a->path) != 0)
			continue;
		if (go)
			api_reply_literal(be, req, a->go_status, a->go_body);
		else
			api_reply_literal(be, req, a->rust_status, a->rust_body);
		return;
	}
	api_reply_literal(be, req, 404, go ? "{\"error\":\"not found\"}\n" :
	    "{\"error\":\"not found\"}");
}

/* Every request, once read completely: counts it and dispatches on path. */
static void
request_cb(struct evhttp_request *req, void *arg)
{
	struct backend		*be = arg;
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*path = NULL, *query = NULL;

	if (uri != NULL) {
		path = evhttp_uri_get_path(uri);
		query = evhttp_uri_get_query(uri);
	}
	if (path == NULL)
		path = "";
	if (be->verbose)
		fprintf(stderr, "sd-backend: %s %s\n",
		    method_name(evhttp_request_get_command(req)),
		    evhttp_request_get_uri(req));
	if (strcmp(path, "/hello") == 0) {	/* first: the benchmark */
		be->requests++;
		seen_record(be, req);
		handle_hello(req);
		return;
	}
	if (strcmp(path, "/stats") == 0) {
		handle_stats(be, req, 0);
		return;
	}
	if (strcmp(path, "/stats/reset") == 0) {
		handle_stats(be, req, 1);
		return;
	}
	if (strcmp(path, "/seen") == 0) {
		handle_seen(be, req, 0, query);
		return;
	}
	if (strcmp(path, "/seen/reset") == 0) {
		handle_seen(be, req, 1, NULL);
		return;
	}
	be->requests++;
	seen_record(be, req);
	if (strcmp(path, "/echo") == 0)
		handle_echo(req);
	else if (strcmp(path, "/headers") == 0)
		handle_headers(req);
	else if (strncmp(path, "/bytes/", 7) == 0)
		handle_bytes(be, req, path + 7, query);
	else if (strcmp(path, "/sink") == 0)
		handle_sink(req);
	else if (strncmp(path, "/status/", 8) == 0)
		handle_status(req, path + 8);
	else if (strncmp(path, "/sleep/", 7) == 0)
		handle_sleep(be, req, path + 7);
	else if (strcmp(path, "/close") == 0)
		handle_close(req);
	else if (strcmp(path, "/tls") == 0)
		handle_tls(req);
	else if (strncmp(path, "/json/", 6) == 0)
		handle_json(be, req, path + 6);
	else if (strncmp(path, "/api/", 5) == 0)
		handle_api(be, req, path, query);
	else
		reply_text(req, 404, "not found\n");
}

/* SIGTERM, SIGINT: leaves the event loop. */
static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct backend	*be = arg;

	event_base_loopexit(be->base, NULL);
}

/* -t: each connection speaks TLS, with an SSL of our context. */
static struct bufferevent *
tls_bev_cb(struct event_base *base, void *arg)
{
	struct backend	*be = arg;
	SSL		*ssl = SSL_new(be->tls);

	if (ssl == NULL)
		return (NULL);
	return (bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE));
}

/* ALPN: http/1.1 when offered. */
static int
tls_alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char	 h1[] = "\x08http/1.1";

	if (SSL_select_next_proto((unsigned char **)out, outlen, h1,
	    sizeof(h1) - 1, in, inlen) == OPENSSL_NPN_NEGOTIATED)
		return (SSL_TLSEXT_ERR_OK);
	return (SSL_TLSEXT_ERR_NOACK);
}

/* -t CHAIN,KEY and -C CAFILE: the TLS context; NULL on error (said). */
static SSL_CTX *
tls_setup(const char *pair, const char *cafile)
{
	SSL_CTX		*ctx;
	char		*chain, *key;

	if ((chain = strdup(pair)) == NULL || (key = strchr(chain, ',')) ==
	    NULL) {
		free(chain);
		usage();
	}
	*key++ = '\0';
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL ||
	    !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    SSL_CTX_use_certificate_chain_file(ctx, chain) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    (cafile != NULL && SSL_CTX_load_verify_file(ctx, cafile) != 1)) {
		fprintf(stderr, "sd-backend: TLS setup with %s, %s: %s\n",
		    chain, key, ERR_reason_error_string(ERR_get_error()));
		SSL_CTX_free(ctx);
		free(chain);
		return (NULL);
	}
	free(chain);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"sdb", 3);
	SSL_CTX_set_alpn_select_cb(ctx, tls_alpn_cb, NULL);
	if (cafile != NULL)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	return (ctx);
}

/* Listens on address:port and prints the port; 0 or -1. */
static int
listen_on(struct backend *be, const char *address, const char *port)
{
	struct evconnlistener	*lev;

	/* Our own listener: evhttp_bind_socket's backlog is only 128. */
	if ((lev = server_listen(be->base, "sd-backend", address, port, NULL,
	    NULL)) == NULL)
		return (-1);
	/* Accepted sockets inherit it: TLS writes records one by one. */
	(void)setsockopt(evconnlistener_get_fd(lev), IPPROTO_TCP, TCP_NODELAY,
	    &(int){ 1 }, sizeof(int));
	if (evhttp_bind_listener(be->http, lev) == NULL) {
		evconnlistener_free(lev);
		fprintf(stderr, "sd-backend: evhttp_bind_listener failed\n");
		return (-1);
	}
	return (server_print_port("sd-backend", lev));
}

int
main(int argc, char *argv[])
{
	struct backend	 be;
	struct event	*sigterm, *sigint;
	struct pending	*p;
	const char	*address = "127.0.0.1", *port = "0";
	const char	*tls = NULL, *cafile = NULL;
	struct timeval	 idle = { 0, 0 };
	size_t		 i;
	long		 ms;
	int		 ch;

	memset(&be, 0, sizeof(be));
	LIST_INIT(&be.pendings);
	while ((ch = getopt(argc, argv, "a:C:f:i:p:qt:v")) != -1) {
		switch (ch) {
		case 'C':
			cafile = optarg;
			break;
		case 't':
			tls = optarg;
			break;
		case 'i':
			/* Closes keep-alive connections idle this long. */
			ms = strtol(optarg, NULL, 10);
			if (ms <= 0)
				usage();
			idle.tv_sec = ms / 1000;
			idle.tv_usec = (ms % 1000) * 1000;
			break;
		case 'a':
			address = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "go") == 0)
				be.flavor = FLAVOR_GO;
			else if (strcmp(optarg, "rust") == 0)
				be.flavor = FLAVOR_RUST;
			else
				usage();
			break;
		case 'p':
			port = optarg;
			break;
		case 'q':
			be.verbose = 0;
			break;
		case 'v':
			be.verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || (cafile != NULL && tls == NULL))
		usage();
	if (tls != NULL && (be.tls = tls_setup(tls, cafile)) == NULL)
		return (1);

	for (i = 0; i < sizeof(pattern); i++)
		pattern[i] = (char)('a' + i % 26);
	/* A client that leaves must not kill us. */
	signal(SIGPIPE, SIG_IGN);

	if ((be.base = event_base_new()) == NULL ||
	    (be.http = evhttp_new(be.base)) == NULL) {
		fprintf(stderr, "sd-backend: libevent initialisation failed\n");
		return (1);
	}
	evhttp_set_allowed_methods(be.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_max_body_size(be.http, -1);	/* unlimited */
	evhttp_set_max_headers_size(be.http, -1);
	evhttp_set_default_content_type(be.http, NULL);
	evhttp_set_gencb(be.http, request_cb, &be);
	if (be.tls != NULL)
		evhttp_set_bevcb(be.http, tls_bev_cb, &be);
	if (idle.tv_sec != 0 || idle.tv_usec != 0)
		evhttp_set_timeout_tv(be.http, &idle);

	sigterm = evsignal_new(be.base, SIGTERM, signal_cb, &be);
	sigint = evsignal_new(be.base, SIGINT, signal_cb, &be);
	if (sigterm == NULL || sigint == NULL || evsignal_add(sigterm, NULL) ||
	    evsignal_add(sigint, NULL)) {
		fprintf(stderr, "sd-backend: cannot catch signals\n");
		return (1);
	}
	if (listen_on(&be, address, port) == -1)
		return (1);

	event_base_dispatch(be.base);

	/* Forget pending replies; evhttp_free frees their requests. */
	for (i = 0; i < MAX_SHUTDOWN_PENDING &&
	    (p = LIST_FIRST(&be.pendings)) != NULL; i++) {
		if (evhttp_request_get_connection(p->req) == NULL)
			evhttp_request_free(p->req);	/* detached: ours */
		else if (p->evcon != NULL)
			evhttp_connection_set_closecb(p->evcon, NULL, NULL);
		pending_free(p);
	}
	evhttp_free(be.http);
	for (i = 0; i < SEEN_MAX; i++)
		free(be.seen[i].text);
	free(be.json);
	event_free(sigterm);
	event_free(sigint);
	event_base_free(be.base);
	SSL_CTX_free(be.tls);
	return (0);
}
