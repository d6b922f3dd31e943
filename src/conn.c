/*
 * A client connection: parse requests, forward each to the primary
 * re-framed, stream the response back.
 *
 * Requests are handled one at a time. When a request has been read, the
 * parser stops (llhttp pauses at every message end) and what the client
 * pipelined behind it stays in the input buffer, which the read
 * watermark bounds; the next request is parsed once the response is
 * written. That answers pipelined requests in order with no queue.
 *
 * Flow control, both ways, is the le-proxy pattern: we feed the parser in
 * slices and stop while the partner's output is above UPSTREAM_BUF_HIGH;
 * the partner's drain callback (below UPSTREAM_BUF_LOW) resumes us. So
 * a connection holds at most about UPSTREAM_BUF_HIGH + UPSTREAM_SLICE
 * per direction plus the read watermarks, whatever the body size.
 *
 * Callbacks nest (an upstream callback may end the exchange, a parser
 * callback may reject the request), so every entry point counts itself
 * in `busy`, and conn_close() frees the memory only when the outermost
 * one returns.
 */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "shadowdiff/config.h"
#include "shadowdiff/conn.h"
#include "shadowdiff/exchange.h"
#include "shadowdiff/http.h"
#include "shadowdiff/log.h"
#include "shadowdiff/sock.h"
#include "shadowdiff/stats.h"
#include "shadowdiff/tls.h"
#include "shadowdiff/upstream.h"
#include "shadowdiff/util.h"
#include "shadowdiff/worker.h"

#define CONN_LINGER_MS	2000	/* reading and discarding after our FIN */

enum conn_state {
	C_IDLE,		/* between requests */
	C_HEAD,		/* reading a request head */
	C_BODY,		/* reading a request body, forwarding it */
	C_WAIT,		/* the request is read; the response is coming */
	C_TUNNEL,	/* raw bytes both ways after a 101 */
	C_CLOSING,	/* writing our last bytes */
	C_LINGER	/* write side shut; discarding what still comes */
};

struct conn {
	struct worker_entry	 entry;		/* in the worker's list */
	struct worker		*w;
	struct sock		*sock;
	struct event		*timer;
	struct event		*ev_resume;	/* parse what is pipelined */
	char			 peer[INET6_ADDRSTRLEN + 8];
	char			 addr[INET6_ADDRSTRLEN];
	enum conn_state		 state;
	struct http_parser	 parser;

	/* The exchange in progress. */
	struct upstream		*up;
	struct exchange		*ex;		/* when mirrored */
	char			 id[EXCHANGE_ID_LEN + 1]; /* ours, if added */
	int			 id_added;
	const char		*proto;		/* http, https: the client's */
	size_t			 route_id;	/* stats.h; default till known */
	uint64_t		 req_start_us;	/* its head was read */
	enum http_framing	 req_framing;	/* toward the primary */
	enum http_framing	 resp_framing;	/* toward the client */
	uint64_t		 body_bytes;
	int			 retriable;	/* may be sent again */
	int			 retried;
	int			 req_done;
	int			 resp_started;
	int			 keepalive;
	int			 resp_paused;	/* client output is full */
	int			 feed_paused;	/* primary output is full */
	int			 handshaking;	/* TLS, not done yet */

	int			 busy;
	int			 closed;
};

static void	conn_read_cb(struct sock *, void *);
static void	conn_write_cb(struct sock *, void *);
static void	conn_event_cb(struct sock *, short, void *);
static void	conn_timer_cb(evutil_socket_t, short, void *);
static void	conn_tls_failed(struct conn *, short);
static void	conn_resume_cb(evutil_socket_t, short, void *);
static void	conn_process(struct conn *);
static void	conn_finish(struct conn *);

static int	conn_request_head_cb(void *, struct http_msg *);
static int	conn_request_body_cb(void *, const char *, size_t);
static void	conn_request_done_cb(void *, struct http_msg *);
static int	conn_response_head_cb(void *, struct http_msg *);
static void	conn_response_body_cb(void *, const char *, size_t);
static void	conn_response_done_cb(void *, struct http_msg *);
static void	conn_upstream_error_cb(void *, enum upstream_error,
		    const char *);
static void	conn_upstream_drained_cb(void *);

static const struct http_parser_cbs conn_parser_cbs = {
	conn_request_head_cb, conn_request_body_cb, conn_request_done_cb
};

static const struct upstream_cbs conn_upstream_cbs = {
	conn_response_head_cb, conn_response_body_cb, conn_response_done_cb,
	conn_upstream_error_cb, conn_upstream_drained_cb
};

/* The current config of the connection's worker. */
static const struct config *
conn_cfg(const struct conn *c)
{
	return (c->w->cfg);
}

/* Enters a callback frame. */
static void
conn_busy(struct conn *c)
{
	c->busy++;
}

/* Leaves a callback frame; frees a closed connection at the outermost. */
static void
conn_unbusy(struct conn *c)
{
	if (--c->busy == 0 && c->closed) {
		http_parser_free(&c->parser);
		free(c);
	}
}

/* Arms the connection's timer for MS milliseconds (0: disarms it). */
static void
conn_timer_set(struct conn *c, uint64_t ms)
{
	struct timeval	 tv = util_tv_ms(ms);

	if (ms == 0)
		evtimer_del(c->timer);
	else
		evtimer_add(c->timer, &tv);
}

/*
 * Tells the worker whether the connection is idle: between requests,
 * nothing read and nothing left to write. An idle connection may be
 * closed to make room for a new one at max_connections; its client
 * loses nothing but the connection, as at the keep-alive timeout. A TLS
 * handshake in progress is not idle (its own timeout bounds it).
 */
static void
conn_update_idle(struct conn *c)
{
	int	 idle;

	idle = c->state == C_IDLE && !c->handshaking &&
	    evbuffer_get_length(sock_get_input(c->sock)) == 0 &&
	    evbuffer_get_length(sock_get_output(c->sock)) == 0;
	if (idle != c->entry.idle)
		worker_conn_idle(c->w, &c->entry, idle);
}

/* Takes over an accepted socket. */
void
conn_accept(struct worker *w, int fd, const struct sockaddr *sa,
    socklen_t salen, int tls)
{
	const struct config	*cfg = w->cfg;
	struct conn		*c;
	struct timeval		 tv;
	struct ssl_st		*ssl;
	const char		*colon;
	int			 one = 1;

	c = xcalloc(1, sizeof(*c));
	c->w = w;
	c->proto = "http";
	util_sockaddr_str(sa, c->peer, sizeof(c->peer));
	/* The address without the port, for X-Forwarded-For. */
	colon = strrchr(c->peer, ':');
	memcpy(c->addr, c->peer[0] == '[' ? c->peer + 1 : c->peer,
	    (size_t)(colon - c->peer) - (c->peer[0] == '[' ? 2 : 0));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->sock = sock_new(w->base, fd, conn_read_cb, conn_write_cb,
	    conn_event_cb, c);
	c->timer = evtimer_new(w->base, conn_timer_cb, c);
	c->ev_resume = event_new(w->base, -1, 0, conn_resume_cb, c);
	if (c->sock == NULL || c->timer == NULL || c->ev_resume == NULL)
		fatalx("out of memory");
	if (tls && cfg->tls_ctx != NULL) {
		if ((ssl = tls_server_ssl(cfg->tls_ctx)) == NULL)
			fatalx("out of memory");
		tv = util_tv_ms(cfg->tls_handshake_timeout_ms);
		sock_set_tls(c->sock, ssl, 1, &tv);
		c->proto = "https";
		c->handshaking = 1;
	}
	http_parser_init(&c->parser, HTTP_REQUEST, &conn_parser_cbs, c,
	    cfg->max_header_bytes, cfg->max_header_count);
	sock_setwatermark(c->sock, EV_READ, 0, UPSTREAM_READ_MAX);
	sock_setwatermark(c->sock, EV_WRITE, UPSTREAM_BUF_LOW, 0);
	tv = util_tv_ms(cfg->send_timeout_ms);
	sock_set_timeouts(c->sock, NULL, &tv);
	sock_enable(c->sock, EV_READ | EV_WRITE);
	c->state = C_IDLE;
	/* Over TLS the handshake has a timer of its own; then this one. */
	conn_timer_set(c, sock_ssl(c->sock) != NULL ? 0 :
	    cfg->keepalive_timeout_ms);
	worker_conn_add(w, &c->entry, c);
	conn_update_idle(c);
	stats_inc(&w->stats, STAT_CONN_ACCEPTED);
	stats_inc(&w->stats, STAT_CONN_OPEN);
	log_debug("client %s: connected", c->peer);
}

/* The request will not be compared: its exchange, if any, is abandoned. */
static void
conn_drop_exchange(struct conn *c)
{
	if (c->ex != NULL) {
		exchange_abandon(c->ex);
		c->ex = NULL;
	}
}

/* The single teardown: unhooks and frees everything of the connection. */
void
conn_close(struct conn *c, const char *why)
{
	if (c->closed)
		return;
	c->closed = 1;
	log_debug("client %s: closed: %s", c->peer, why);
	conn_drop_exchange(c);
	if (c->up != NULL) {
		upstream_abort(c->up);
		c->up = NULL;
	}
	sock_free(c->sock);
	event_free(c->timer);
	event_free(c->ev_resume);
	c->sock = NULL;
	stats_dec(&c->w->stats, STAT_CONN_OPEN);
	worker_conn_remove(c->w, &c->entry);
	conn_busy(c);
	conn_unbusy(c);
}

/*
 * Closes idle connection C to make room at max_connections, unless the
 * kernel holds bytes from its client that the loop has not read yet (it
 * sent them as the newcomer connected): that is a request starting, and
 * closing would lose it unanswered. 0 if closed, -1 if not.
 */
int
conn_evict(struct conn *c)
{
	int	 n = 0;

	if (ioctl(sock_getfd(c->sock), FIONREAD, &n) == 0 && n > 0)
		return (-1);
	conn_close(c, "idle, closed to make room");
	return (0);
}

/* Closes the connection now if idle, else after its current response. */
void
conn_drain(struct conn *c)
{
	c->keepalive = 0;
	if (c->state != C_IDLE ||
	    evbuffer_get_length(sock_get_input(c->sock)) > 0)
		return;		/* closes after its current response */
	/* Idle: close, once the last response is written whole. */
	if (evbuffer_get_length(sock_get_output(c->sock)) == 0)
		conn_close(c, "draining");
	else
		conn_finish(c);
}

/* Counts a response by status class, on its route. */
static void
conn_count_status(struct conn *c, int status)
{
	stats_route_status(c->w->routes, c->route_id, status);
}

/* Counts an error status of our own. */
static void
conn_count_error(struct conn *c, int status)
{
	switch (status) {
#define CONN_ERROR_CASE(code, label, what)				\
	case code:							\
		stats_inc(&c->w->stats, STAT_ERR_##code);		\
		break;
	STATS_CLIENT_ERRORS(CONN_ERROR_CASE)
#undef CONN_ERROR_CASE
	}
	conn_count_status(c, status);
}

/* Stops reading requests; closes once the output is written. */
static void
conn_finish(struct conn *c)
{
	c->state = C_CLOSING;
	conn_update_idle(c);
	conn_timer_set(c, 0);
	if (evbuffer_get_length(sock_get_output(c->sock)) == 0)
		conn_write_cb(c->sock, c);
}

/*
 * Our output is written: shut our side and read what the client still
 * sends for a while, so that a client still sending a body we refused
 * gets our response rather than a reset.
 */
static void
conn_linger(struct conn *c)
{
	c->state = C_LINGER;
	if (sock_shutdown(c->sock) == -1) {
		conn_close(c, "shutdown");
		return;
	}
	sock_enable(c->sock, EV_READ);
	conn_timer_set(c, CONN_LINGER_MS);
	evbuffer_drain(sock_get_input(c->sock),
	    evbuffer_get_length(sock_get_input(c->sock)));
}

/*
 * Readies the connection for the next request. What the client
 * pipelined is parsed on the next loop turn, not from here: we may be
 * inside the primary's read callback.
 */
static void
conn_next_request(struct conn *c)
{
	/* An error in the next head must not think a response started. */
	c->req_done = c->resp_started = 0;
	c->route_id = STATS_ROUTE_DEFAULT;
	c->state = C_IDLE;
	http_parser_next(&c->parser);
	conn_timer_set(c, conn_cfg(c)->keepalive_timeout_ms);
	if (evbuffer_get_length(sock_get_input(c->sock)) > 0)
		event_active(c->ev_resume, EV_TIMEOUT, 0);
	conn_update_idle(c);
}

/*
 * Answers with an error status of ours. The request never reached the
 * primary whole: any upstream is aborted mid-request. With KEEP the
 * connection goes on (the request was read whole); otherwise it closes.
 */
static void
conn_error(struct conn *c, int status, const char *reason, int keep)
{
	log_info("client %s: %d %s: %s", c->peer, status,
	    http_status_text(status), reason);
	conn_drop_exchange(c);
	if (c->up != NULL) {
		upstream_abort(c->up);
		c->up = NULL;
	}
	if (c->resp_started) {
		/* No status can be sent any more: an abort, not a 4xx/5xx. */
		stats_inc(&c->w->stats, STAT_CLIENT_ABORTS);
		conn_close(c, reason);
		return;
	}
	conn_count_error(c, status);
	keep = keep && c->keepalive && c->req_done;
	http_write_status(sock_get_output(c->sock), status, !keep);
	if (!keep) {
		conn_finish(c);
		return;
	}
	conn_next_request(c);
}

/* Sends the parsed request's head to the primary on a connection. */
static int
conn_send_request(struct conn *c, enum upstream_use use)
{
	const struct http_msg	*m = &c->parser.msg;
	struct http_forward	 fw;

	c->up = upstream_get(c->w->primary, &conn_upstream_cbs, c, m->method,
	    use);
	if (c->up == NULL)
		return (-1);
	memset(&fw, 0, sizeof(fw));
	fw.client_addr = c->addr;
	fw.proto = c->proto;
	fw.host = conn_cfg(c)->primary.hostport;
	fw.framing = c->req_framing;
	fw.length = m->content_length;
	fw.upgrade = m->upgrade;
	fw.id_name = conn_cfg(c)->request_id_header;
	fw.id_value = c->id_added ? c->id : NULL;
	/*
	 * The shadow marker never reaches the primary: a client that sent
	 * it must not make the primary skip its side effects.
	 */
	fw.marker_name = conn_cfg(c)->marker_name;
	http_write_request_head(upstream_output(c->up), m, &fw);
	return (0);
}

/*
 * Finds the request's route; the exchange gives it its id and, if it
 * is mirrored, an exchange.
 */
static void
conn_start_exchange(struct conn *c, const struct http_msg *m)
{
	const struct config		*cfg = conn_cfg(c);
	const struct config_route	*route = NULL;
	const char			*target;
	size_t				 tlen;

	target = http_msg_target(m, &tlen);
	if (cfg->nroutes > 0 && (route = config_route_match(cfg, target, tlen,
	    llhttp_method_name(m->method))) != NULL)
		c->route_id = route->stat_id;
	c->ex = exchange_start(c->w, route, m, c->id, &c->id_added);
}

/* A request head is parsed: check it and start the exchange. */
static int
conn_request_head_cb(void *arg, struct http_msg *m)
{
	struct conn		*c = arg;
	const struct config	*cfg = conn_cfg(c);
	const char		*target;
	size_t			 len;
	int			 body;

	target = http_msg_target(m, &len);
	if (m->method == HTTP_CONNECT) {
		http_parser_fail(&c->parser, 405, "CONNECT is not proxied");
		return (-1);
	}
	if (len == 0 || (target[0] != '/' && !(len == 1 && target[0] == '*' &&
	    m->method == HTTP_OPTIONS))) {
		http_parser_fail(&c->parser, 400, "request target is not in "
		    "origin form");
		return (-1);
	}
	if (m->framing == HTTP_FRAMING_LENGTH &&
	    m->content_length > cfg->max_request_body) {
		http_parser_fail(&c->parser, 413, "Content-Length over "
		    "max_request_body");
		return (-1);
	}
	stats_inc(&c->w->stats, STAT_REQUESTS);
	c->req_start_us = util_now_us();
	body = m->framing == HTTP_FRAMING_CHUNKED ||
	    (m->framing == HTTP_FRAMING_LENGTH && m->content_length > 0);
	c->req_framing = m->framing;
	c->body_bytes = 0;
	c->req_done = c->resp_started = 0;
	c->retried = 0;
	c->retriable = http_method_idempotent(m->method) && !body;
	/* An upgrade that the primary refuses leaves the stream unclear. */
	c->keepalive = m->keepalive && !m->upgrade && !c->w->draining;
	conn_start_exchange(c, m);
	if (conn_send_request(c, c->retriable ? UPSTREAM_POOLED :
	    UPSTREAM_POOLED_CHECKED) == -1) {
		http_parser_fail(&c->parser, 502, "cannot connect to the "
		    "primary");
		return (-1);
	}
	if (body && m->expect_continue && m->minor == 1)
		evbuffer_add(sock_get_output(c->sock),
		    "HTTP/1.1 100 Continue\r\n\r\n", 25);
	if (body) {
		c->state = C_BODY;
		conn_timer_set(c, cfg->client_body_timeout_ms);
	} else {
		c->state = C_WAIT;
		conn_timer_set(c, 0);
	}
	return (0);
}

/* Request body bytes: on to the primary, re-framed. */
static int
conn_request_body_cb(void *arg, const char *data, size_t len)
{
	struct conn	*c = arg;
	struct evbuffer	*out;

	c->body_bytes += len;
	if (c->body_bytes > conn_cfg(c)->max_request_body) {
		http_parser_fail(&c->parser, 413, "body over "
		    "max_request_body");
		return (-1);
	}
	if (c->ex != NULL)
		exchange_request_body(c->ex, data, len);
	if (c->up == NULL)
		return (0);
	out = upstream_output(c->up);
	if (c->req_framing == HTTP_FRAMING_CHUNKED)
		http_write_chunk(out, data, len);
	else
		evbuffer_add(out, data, len);
	conn_timer_set(c, conn_cfg(c)->client_body_timeout_ms);
	return (0);
}

/* The request ended: the response may already be on its way. */
static void
conn_request_done_cb(void *arg, struct http_msg *m)
{
	struct conn	*c = arg;

	c->req_done = 1;
	if (c->state == C_BODY || c->state == C_WAIT) {
		c->state = C_WAIT;
		conn_timer_set(c, 0);
	}
	if (c->ex != NULL)
		exchange_request_done(c->ex, m, c->addr, c->proto);
	if (c->up == NULL)
		return;
	if (c->req_framing == HTTP_FRAMING_CHUNKED)
		http_write_last_chunk(upstream_output(c->up));
	upstream_request_sent(c->up);
}

/* Feeds the parser from the input while the primary can take more. */
static void
conn_process(struct conn *c)
{
	struct evbuffer		*in = sock_get_input(c->sock);
	const char		*data;
	size_t			 n, used;

	conn_busy(c);
	while (!c->closed &&
	    (data = http_buffer_slice(in, UPSTREAM_SLICE, &n)) != NULL) {
		if (c->state == C_LINGER) {
			evbuffer_drain(in, evbuffer_get_length(in));
			break;
		}
		if (c->state == C_TUNNEL) {
			if (c->up == NULL)
				break;
			if (evbuffer_get_length(upstream_output(c->up)) >=
			    UPSTREAM_BUF_HIGH) {
				c->feed_paused = 1;
				upstream_want_drain(c->up);
				break;
			}
			evbuffer_remove_buffer(in, upstream_output(c->up),
			    UPSTREAM_SLICE);
			continue;
		}
		if (c->state != C_IDLE && c->state != C_HEAD &&
		    c->state != C_BODY)
			break;
		if (c->up != NULL && evbuffer_get_length(upstream_output(
		    c->up)) >= UPSTREAM_BUF_HIGH) {
			/*
			 * The primary is not taking the body: not the
			 * client's fault, so no 408 meanwhile (the
			 * primary's own send timeout covers it).
			 */
			c->feed_paused = 1;
			conn_timer_set(c, 0);
			upstream_want_drain(c->up);
			break;
		}
		if (c->state == C_IDLE) {
			c->state = C_HEAD;
			conn_update_idle(c);
			conn_timer_set(c, conn_cfg(c)->client_header_timeout_ms);
		}
		if (http_parser_feed(&c->parser, data, n, &used) ==
		    HTTP_FEED_ERROR) {
			if (!c->closed)
				conn_error(c, c->parser.error_status,
				    c->parser.error_reason, 0);
			break;
		}
		evbuffer_drain(in, used);
	}
	conn_unbusy(c);
}

/*
 * Pauses reading the primary while the client's output is over the high
 * mark; conn_write_cb resumes it below the low one. Every byte we write
 * for the primary passes here: body, tunnel, and interim heads (a
 * primary sending 1xx after 1xx must not fill our memory either).
 *
 * A mirrored request's exchange holds both responses' copies (up to
 * [diff] max_body each) until the primary's ends, which a client that
 * stops reading puts off until send_timeout. So the exchange waits for
 * the client as long as it waits for the shadow ([shadow] timeout): a
 * client that takes less than UPSTREAM_BUF_HIGH - UPSTREAM_BUF_LOW of
 * the response in that time stalls, and the request is not compared
 * (conn_timer_cb). Its copies and its max_inflight place are freed;
 * the client's response goes on as before.
 */
static void
conn_pace_primary(struct conn *c)
{
	if (evbuffer_get_length(sock_get_output(c->sock)) >=
	    UPSTREAM_BUF_HIGH && c->up != NULL && !c->resp_paused) {
		c->resp_paused = 1;
		upstream_set_reading(c->up, 0);
		if (c->ex != NULL && c->state == C_WAIT)
			conn_timer_set(c, conn_cfg(c)->shadow_timeout_ms);
	}
}

/* The response head (or an interim one) arrived from the primary. */
static int
conn_response_head_cb(void *arg, struct http_msg *r)
{
	struct conn	*c = arg;
	struct evbuffer	*out = sock_get_output(c->sock);
	int		 nobody, conn_hdr;

	if (r->status < 200) {
		/* 100: ours was sent already. Others go to HTTP/1.1 clients. */
		if (r->status != 100 && r->status != 101 &&
		    c->parser.msg.minor == 1)
			http_write_response_head(out, r, HTTP_FRAMING_NONE, 0);
		conn_pace_primary(c);
		return (0);
	}
	nobody = c->parser.msg.method == HTTP_HEAD || r->status == 204 ||
	    r->status == 304;
	if (nobody)
		c->resp_framing = HTTP_FRAMING_NONE;
	else if (r->framing == HTTP_FRAMING_LENGTH)
		c->resp_framing = HTTP_FRAMING_LENGTH;
	else
		c->resp_framing = c->parser.msg.minor == 1 ?
		    HTTP_FRAMING_CHUNKED : HTTP_FRAMING_CLOSE;
	/* A request not yet read whole can't be followed by another. */
	c->keepalive = c->keepalive && c->req_done && !c->w->draining &&
	    c->resp_framing != HTTP_FRAMING_CLOSE;
	if (!c->keepalive)
		conn_hdr = 1;
	else
		conn_hdr = c->parser.msg.minor == 0 ? 2 : 0;
	http_write_response_head(out, r, c->resp_framing, conn_hdr);
	c->resp_started = 1;
	conn_count_status(c, r->status);
	if (c->ex != NULL)
		exchange_primary_head(c->ex, r, nobody);
	return (nobody);
}

/* Response body bytes: on to the client, pausing the primary if full. */
static void
conn_response_body_cb(void *arg, const char *data, size_t len)
{
	struct conn	*c = arg;
	struct evbuffer	*out = sock_get_output(c->sock);

	if (c->resp_framing == HTTP_FRAMING_CHUNKED && c->state != C_TUNNEL)
		http_write_chunk(out, data, len);
	else
		evbuffer_add(out, data, len);
	if (c->ex != NULL)
		exchange_primary_body(c->ex, data, len);
	conn_pace_primary(c);
}

/* The exchange is over: the next request, or the end. */
static void
conn_exchange_end(struct conn *c)
{
	upstream_release(c->up, c->req_done);
	c->up = NULL;
	c->resp_paused = c->feed_paused = 0;
	if (!c->keepalive || !c->req_done) {
		conn_finish(c);
		return;
	}
	conn_next_request(c);
}

/* A response ended (or an interim one, or a 101). */
static void
conn_response_done_cb(void *arg, struct http_msg *r)
{
	struct conn	*c = arg;
	struct evbuffer	*out = sock_get_output(c->sock);

	conn_busy(c);
	if (r->status == 101) {
		if (!c->parser.msg.upgrade || !c->req_done) {
			conn_error(c, 502, "101 for a request that did not "
			    "ask to upgrade", 0);
			goto out;
		}
		http_write_response_head(out, r, HTTP_FRAMING_NONE, 0);
		conn_count_status(c, r->status);
		c->resp_started = 1;
		c->state = C_TUNNEL;
		conn_timer_set(c, 0);
		upstream_tunnel(c->up);
		event_active(c->ev_resume, EV_TIMEOUT, 0);
		goto out;
	}
	if (r->status < 200)
		goto out;
	stats_route_latency(c->w->routes, c->route_id, STATS_PRIMARY,
	    util_now_us() - c->req_start_us);
	if (c->resp_framing == HTTP_FRAMING_CHUNKED)
		http_write_last_chunk(out);
	if (c->ex != NULL) {
		exchange_primary_done(c->ex);
		c->ex = NULL;
	}
	conn_exchange_end(c);
out:
	conn_unbusy(c);
}

/* The primary failed: retry, answer 502/504, or cut a started response. */
static void
conn_upstream_error_cb(void *arg, enum upstream_error err, const char *reason)
{
	struct conn	*c = arg;

	conn_busy(c);
	c->up = NULL;	/* gone when we return */
	if (err == UPSTREAM_STALE && c->retriable && !c->retried &&
	    c->req_done) {
		c->retried = 1;
		stats_inc(&c->w->stats, STAT_UP_RETRIES);
		if (conn_send_request(c, UPSTREAM_NEW) == 0) {
			upstream_request_sent(c->up);
			goto out;
		}
	}
	conn_drop_exchange(c);
	if (c->state == C_TUNNEL) {
		conn_finish(c);		/* write what the primary sent, then close */
		goto out;
	}
	if (c->resp_started) {
		log_info("client %s: primary failed mid-response: %s",
		    c->peer, reason);
		stats_inc(&c->w->stats, STAT_PRIMARY_CUT);
		conn_close(c, reason);
		goto out;
	}
	conn_error(c, err == UPSTREAM_TIMEOUT ? 504 : 502,
	    err == UPSTREAM_TIMEOUT ? "primary timed out" :
	    err == UPSTREAM_REFUSED ? "primary refused the connection" :
	    err == UPSTREAM_BAD_RESPONSE ? "primary sent a bad response" :
	    err == UPSTREAM_TLS ? "TLS handshake with the primary failed" :
	    "primary closed the connection", 1);
out:
	conn_unbusy(c);
}

/* The primary took our output: feed it more. */
static void
conn_upstream_drained_cb(void *arg)
{
	struct conn	*c = arg;

	if (c->feed_paused) {
		c->feed_paused = 0;
		if (c->state == C_BODY)
			conn_timer_set(c, conn_cfg(c)->client_body_timeout_ms);
		event_active(c->ev_resume, EV_TIMEOUT, 0);
	}
}

/* Bytes from the client: parse them. */
static void
conn_read_cb(struct sock *s, void *arg)
{
	conn_process(arg);
}

/* Parses what waits in the input (pipelined, or fed after a pause). */
static void
conn_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	conn_process(arg);
}

/* Our output fell below the low mark, or is empty. */
static void
conn_write_cb(struct sock *s, void *arg)
{
	struct conn	*c = arg;

	conn_busy(c);
	if (c->resp_paused && c->up != NULL) {
		c->resp_paused = 0;
		upstream_set_reading(c->up, 1);
		if (c->state == C_WAIT)
			conn_timer_set(c, 0);	/* the client reads */
	}
	if (!c->closed && c->state == C_CLOSING &&
	    evbuffer_get_length(sock_get_output(c->sock)) == 0)
		conn_linger(c);
	else if (!c->closed && c->state == C_IDLE)
		conn_update_idle(c);	/* the last response is written */
	conn_unbusy(c);
}

/* The client closed, failed, or did not take our bytes in time. */
static void
conn_event_cb(struct sock *s, short what, void *arg)
{
	struct conn	*c = arg;

	if (what & SOCK_CONNECTED) {
		/* The TLS handshake is done. */
		stats_inc(&c->w->stats, STAT_TLS_HANDSHAKES);
		if (tls_resumed(sock_ssl(s)))
			stats_inc(&c->w->stats, STAT_TLS_RESUMED);
		conn_timer_set(c, conn_cfg(c)->keepalive_timeout_ms);
		c->handshaking = 0;
		conn_update_idle(c);
		return;
	}
	conn_busy(c);
	if (what & SOCK_TLS)
		conn_tls_failed(c, what);
	else if (what & SOCK_TIMEOUT) {
		/* Only a blocked output times out: a response not taken. */
		stats_inc(&c->w->stats, STAT_CLIENT_ABORTS);
		conn_close(c, "send timeout");
	}
	else if (c->state == C_IDLE || c->state == C_LINGER ||
	    c->state == C_CLOSING)
		conn_close(c, "client closed");
	else if (c->state == C_TUNNEL)
		conn_close(c, "tunnel closed by the client");
	else {
		stats_inc(&c->w->stats, STAT_CLIENT_ABORTS);
		conn_close(c, "client closed mid-exchange");
	}
	conn_unbusy(c);
}

/* The client's TLS handshake failed: counted by reason, and closed. */
static void
conn_tls_failed(struct conn *c, short what)
{
	enum tls_failure	 f;
	unsigned long		 err;
	long			 verify;

	sock_tls_error(c->sock, &err, &verify);
	f = (what & SOCK_TIMEOUT) ? TLS_FAIL_TIMEOUT :
	    tls_failure_of(err, (what & SOCK_EOF) != 0);
	stats_inc(&c->w->stats, tls_failure_counter(f));
	log_debug("client %s: TLS handshake failed: %s", c->peer,
	    f == TLS_FAIL_TIMEOUT ? "timeout" : f == TLS_FAIL_CLOSED ?
	    "closed by the client" : tls_reason(err, verify));
	conn_close(c, "TLS handshake failed");
}

/* The timer of the current state ran out. */
static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	conn_busy(c);
	switch (c->state) {
	case C_HEAD:
		conn_error(c, 408, "request head not received in time", 0);
		break;
	case C_BODY:
		conn_error(c, 408, "request body stalled", 0);
		break;
	case C_WAIT:
		/* Only conn_pace_primary arms it here. */
		log_debug("client %s: stalls: the request is not compared",
		    c->peer);
		conn_drop_exchange(c);
		break;
	case C_IDLE:
		/* The idle time starts once the last response is written. */
		if (evbuffer_get_length(sock_get_output(c->sock)) > 0)
			conn_timer_set(c, conn_cfg(c)->keepalive_timeout_ms);
		else
			conn_close(c, "keep-alive timeout");
		break;
	default:
		conn_close(c, "linger timeout");
		break;
	}
	conn_unbusy(c);
}
