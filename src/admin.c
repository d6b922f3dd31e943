/*
 * The admin endpoint: a small HTTP/1.1 server for Prometheus, load
 * balancers and people with curl.
 *
 * Requests are parsed by the project's http_parser (llhttp underneath),
 * so the admin port is exactly as strict as the client one: bare LF,
 * obsolete line folding, a missing Host in HTTP/1.1 and the like are
 * 400 here too. The parser pauses at the end of each message; the next
 * pipelined request is parsed only once the previous response is
 * written, which answers them in order with no queue.
 *
 * Bounds. A head is fed to the parser at most ADMIN_MAX_HEAD bytes of
 * it (the raw bytes, CRLFs included), so a longer one is a 431 however
 * it is split. The input stops being read at ADMIN_READ_MAX. The output
 * holds one response. One timer per connection bounds each phase: the
 * first request's head (ADMIN_HEAD_TIMEOUT_MS from the accept), the
 * wait for the next one (ADMIN_IDLE_TIMEOUT_MS) and its head (from its
 * first byte), writing the response (ADMIN_WRITE_TIMEOUT_MS), lingering
 * after the last one.
 *
 * The endpoint is for health checks above all, so a newcomer is never
 * refused: past ADMIN_MAX_CONNS the connection that loses least makes
 * room (admin_evict), the one idle longest. Idle connections cannot
 * starve /healthz, nor can heads that stop coming: the short timeouts
 * only bound how long each holds its place, the cap how many there are.
 *
 * admin_conn_close() is a connection's single teardown. Nothing nests
 * here (the parser's callbacks only take notes, the ops only fill a
 * buffer), so it frees at once; libevent keeps its own reference to a
 * bufferevent during the bufferevent's callbacks.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "shadowdiff/admin.h"
#include "shadowdiff/http.h"
#include "shadowdiff/log.h"
#include "shadowdiff/util.h"

#define ADMIN_BACKLOG		16
#define ADMIN_MAX_FIELDS	64	/* header fields per request */
#define ADMIN_READ_MAX		(16 * 1024)	/* input, bytes */
#define ADMIN_LINGER_MS		2000	/* at most, after our FIN */
#define ADMIN_ACCEPT_PAUSE_MS	1000	/* after accept(2) failed */

#define ADMIN_METRICS_TYPE	"text/plain; version=0.0.4; charset=utf-8"

enum admin_state {
	A_IDLE,		/* waiting for the first byte of a request */
	A_READ,		/* reading a request */
	A_WRITE,	/* writing a response; another request may follow */
	A_CLOSING,	/* writing the last response */
	A_LINGER	/* write side shut; discarding what still comes */
};

struct admin_conn {
	TAILQ_ENTRY(admin_conn)	 entry;
	struct admin		*a;
	struct bufferevent	*bev;
	struct event		*timer;
	char			 peer[64];
	enum admin_state	 state;
	struct http_parser	 parser;
	size_t			 head_bytes;	/* of the head being read */
	int			 head_req;	/* the request is HEAD */
	int			 req_done;	/* the parser ended a message */
	int			 keepalive;
	int			 eof;		/* the client shut its side */
	int			 answered;	/* a response was written */
};

struct admin {
	struct event_base		*base;
	struct evconnlistener		*listener;
	struct event			*ev_accept;	/* accepting again */
	struct admin_ops		 ops;
	unsigned int			 head_ms;
	unsigned int			 idle_ms;
	unsigned int			 write_ms;
	struct evbuffer			*body;		/* scratch, reused */
	TAILQ_HEAD(, admin_conn)	 conns;		/* longest idle first */
	size_t				 nconns;
	uint64_t			 evicted;	/* closed to make room */
};

static int	admin_head_cb(void *, struct http_msg *);
static int	admin_body_cb(void *, const char *, size_t);
static void	admin_done_cb(void *, struct http_msg *);
static void	admin_conn_process(struct admin_conn *);

static const struct http_parser_cbs admin_parser_cbs = {
	admin_head_cb, admin_body_cb, admin_done_cb
};

/* Arms the connection's timer for MS milliseconds. */
static void
admin_timer_set(struct admin_conn *c, unsigned int ms)
{
	struct timeval	 tv = util_tv_ms(ms);

	evtimer_add(c->timer, &tv);
}

/* The single teardown of a connection. */
static void
admin_conn_close(struct admin_conn *c, const char *why)
{
	struct admin	*a = c->a;

	log_debug("admin %s: closed: %s", c->peer, why);
	bufferevent_free(c->bev);
	event_free(c->timer);
	http_parser_free(&c->parser);
	TAILQ_REMOVE(&a->conns, c, entry);
	a->nconns--;
	free(c);
}

/*
 * Writes a response whose body is in the admin's scratch buffer, which
 * it empties. The head says what a GET would get, also for HEAD.
 */
static void
admin_respond(struct admin_conn *c, int status, const char *type)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	struct evbuffer	*body = c->a->body;

	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nCache-Control: no-store\r\n", status,
	    http_status_text(status), type, evbuffer_get_length(body));
	if (status == 405)
		evbuffer_add_printf(out, "Allow: GET, HEAD\r\n");
	if (!c->keepalive)
		evbuffer_add_printf(out, "Connection: close\r\n");
	else if (c->parser.msg.minor == 0)
		evbuffer_add_printf(out, "Connection: keep-alive\r\n");
	evbuffer_add(out, "\r\n", 2);
	if (c->head_req)
		evbuffer_drain(body, evbuffer_get_length(body));
	else
		evbuffer_add_buffer(out, body);
	/* Writing the response whole is bounded by the timeout too. */
	c->state = c->keepalive ? A_WRITE : A_CLOSING;
	c->answered = 1;
	admin_timer_set(c, c->a->write_ms);
}

/* Answers with an error status of ours and closes. */
static void
admin_error(struct admin_conn *c, int status, const char *reason)
{
	log_info("admin %s: %d %s: %s", c->peer, status,
	    http_status_text(status), reason);
	evbuffer_add_printf(c->a->body, "%d %s\n", status,
	    http_status_text(status));
	c->keepalive = 0;
	admin_respond(c, status, "text/plain");
}

/* Whether the LEN bytes of PATH are NAME. */
static int
admin_path_is(const char *path, size_t len, const char *name)
{
	return (len == strlen(name) && memcmp(path, name, len) == 0);
}

/*
 * The path of the request's target, without the query (which plays no
 * part) and, in the absolute form (which servers must accept too, RFC
 * 9112 3.2.2), without the scheme and authority.
 */
static const char *
admin_path(const struct http_msg *m, size_t *len)
{
	const char	*path, *p;

	path = http_msg_target(m, len);
	if (*len > 0 && path[0] != '/' &&
	    (p = memmem(path, *len, "://", 3)) != NULL) {
		*len -= (size_t)(p + 3 - path);
		path = p + 3;
		if ((p = memchr(path, '/', *len)) == NULL)
			p = path + *len;
		*len -= (size_t)(p - path);
		path = p;
	}
	if ((p = memchr(path, '?', *len)) != NULL)
		*len = (size_t)(p - path);
	return (path);
}

/* Answers the request the parser has just ended. */
static void
admin_serve(struct admin_conn *c)
{
	struct admin		*a = c->a;
	const struct http_msg	*m = &c->parser.msg;
	const char		*path;
	size_t			 len;

	path = admin_path(m, &len);
	/* After an upgrade request llhttp reads no further message. */
	c->keepalive = m->keepalive && !m->upgrade;
	if (m->method != HTTP_GET && m->method != HTTP_HEAD) {
		evbuffer_add_printf(a->body, "405 %s\n",
		    http_status_text(405));
		admin_respond(c, 405, "text/plain");
	} else if (admin_path_is(path, len, "/metrics")) {
		a->ops.metrics(a->ops.arg, a->body);
		admin_respond(c, 200, ADMIN_METRICS_TYPE);
	} else if (admin_path_is(path, len, "/stats")) {
		a->ops.stats(a->ops.arg, a->body);
		admin_respond(c, 200, "application/json");
	} else if (admin_path_is(path, len, "/healthz")) {
		if (a->ops.healthy(a->ops.arg)) {
			evbuffer_add(a->body, "ok\n", 3);
			admin_respond(c, 200, "text/plain");
		} else {
			evbuffer_add(a->body, "draining\n", 9);
			admin_respond(c, 503, "text/plain");
		}
	} else {
		evbuffer_add_printf(a->body, "404 %s\n",
		    http_status_text(404));
		admin_respond(c, 404, "text/plain");
	}
}

/* The head is complete: the admin endpoint takes no body. */
static int
admin_head_cb(void *arg, struct http_msg *m)
{
	struct admin_conn	*c = arg;
	int			 get = m->method == HTTP_GET ||
				    m->method == HTTP_HEAD;

	c->head_req = m->method == HTTP_HEAD;
	if (m->framing == HTTP_FRAMING_CHUNKED ||
	    (m->framing == HTTP_FRAMING_LENGTH && m->content_length > 0)) {
		/* Not read, so the connection closes after the answer. */
		http_parser_fail(&c->parser, get ? 413 : 405,
		    "a request body");
		return (-1);
	}
	return (0);
}

/* Never called: admin_head_cb refuses every body. */
static int
admin_body_cb(void *arg, const char *data, size_t len)
{
	return (-1);
}

/* The request ended; it is answered once the parser has returned. */
static void
admin_done_cb(void *arg, struct http_msg *m)
{
	struct admin_conn	*c = arg;

	c->req_done = 1;
}

/* Parses what waits in the input, if no response is being written. */
static void
admin_conn_process(struct admin_conn *c)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);
	const char	*data;
	size_t		 n, used;

	/*
	 * A request begins. A new connection's first head has the head
	 * timeout from the accept; a later one, from its first byte.
	 */
	if (c->state == A_IDLE && evbuffer_get_length(in) > 0) {
		c->state = A_READ;
		if (c->answered)
			admin_timer_set(c, c->a->head_ms);
	}
	while (c->state == A_READ) {
		if (c->head_bytes == ADMIN_MAX_HEAD) {
			admin_error(c, 431, "request head over the limit");
			return;
		}
		data = http_buffer_slice(in, ADMIN_MAX_HEAD - c->head_bytes,
		    &n);
		if (data == NULL)
			break;
		if (http_parser_feed(&c->parser, data, n, &used) ==
		    HTTP_FEED_ERROR) {
			admin_error(c, c->parser.error_status,
			    c->parser.error_reason);
			return;
		}
		evbuffer_drain(in, used);
		c->head_bytes += used;
		if (c->req_done)
			admin_serve(c);
	}
	/* A request begun and never to be finished, or none to come. */
	if ((c->state == A_IDLE || c->state == A_READ) && c->eof)
		admin_conn_close(c, "client closed");
}

/*
 * Readies the connection for its next request. It goes to the end of
 * the list, which is thus in the order connections became idle.
 */
static void
admin_conn_next(struct admin_conn *c)
{
	struct admin	*a = c->a;

	c->state = A_IDLE;
	c->head_bytes = 0;
	c->head_req = c->req_done = 0;
	http_parser_next(&c->parser);
	TAILQ_REMOVE(&a->conns, c, entry);
	TAILQ_INSERT_TAIL(&a->conns, c, entry);
	admin_timer_set(c, a->idle_ms);
	admin_conn_process(c);
}

/*
 * The last response is written: shut our side and discard what the
 * client still sends for a while, so that a client still sending a body
 * we refused reads our response rather than a reset.
 */
static void
admin_conn_linger(struct admin_conn *c)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);

	if (c->eof ||
	    shutdown(bufferevent_getfd(c->bev), SHUT_WR) == -1) {
		admin_conn_close(c, "done");
		return;
	}
	c->state = A_LINGER;
	evbuffer_drain(in, evbuffer_get_length(in));
	bufferevent_enable(c->bev, EV_READ);
	admin_timer_set(c, c->a->write_ms < ADMIN_LINGER_MS ?
	    c->a->write_ms : ADMIN_LINGER_MS);
}

/* Bytes from the client. */
static void
admin_read_cb(struct bufferevent *bev, void *arg)
{
	struct admin_conn	*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);

	if (c->state == A_LINGER)
		evbuffer_drain(in, evbuffer_get_length(in));
	else
		admin_conn_process(c);
}

/* The output is empty: the response is written. */
static void
admin_write_cb(struct bufferevent *bev, void *arg)
{
	struct admin_conn	*c = arg;

	if (c->state == A_WRITE)
		admin_conn_next(c);
	else if (c->state == A_CLOSING)
		admin_conn_linger(c);
}

/* The client shut its side, or the socket failed. */
static void
admin_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct admin_conn	*c = arg;

	if (what & BEV_EVENT_ERROR) {
		admin_conn_close(c, evutil_socket_error_to_string(
		    EVUTIL_SOCKET_ERROR()));
		return;
	}
	c->eof = 1;
	/* A response being written is finished, then what is pipelined. */
	if (c->state == A_IDLE || c->state == A_READ || c->state == A_LINGER)
		admin_conn_close(c, "client closed");
}

/* The current phase took too long. */
static void
admin_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct admin_conn	*c = arg;

	if (c->state == A_READ) {
		admin_error(c, 408, "request head not received in time");
		return;
	}
	admin_conn_close(c, c->state == A_IDLE ? "idle" :
	    c->state == A_LINGER ? "linger over" : "response not read in time");
}

/*
 * What closing C would lose: 0 nothing, no request in progress; 1 a
 * request begun, or a response written whose client still sends; 2 a
 * response being written.
 */
static int
admin_conn_loss(const struct admin_conn *c)
{
	switch (c->state) {
	case A_IDLE:
		return (0);
	case A_READ:
	case A_LINGER:
		return (1);
	default:
		return (2);
	}
}

/*
 * Makes room for a new connection: closes the oldest of those that
 * lose least (admin_conn_loss), the one idle longest if there is one.
 * A health check must get its answer; a connection holding a place
 * without asking anything has the least claim to it, and one whose head
 * or whose reading has stalled at the cap is next.
 */
static void
admin_evict(struct admin *a)
{
	struct admin_conn	*c, *victim = NULL;
	int			 loss, least = 3;

	TAILQ_FOREACH(c, &a->conns, entry) {
		if ((loss = admin_conn_loss(c)) < least) {
			victim = c;
			least = loss;
			if (loss == 0)
				break;
		}
	}
	a->evicted++;
	admin_conn_close(victim, least == 0 ? "idle, closed to make room" :
	    "closed to make room");
}

/* A new connection; at ADMIN_MAX_CONNS, another one makes room. */
static void
admin_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct admin		*a = arg;
	struct admin_conn	*c;
	int			 one = 1;

	if (a->nconns >= ADMIN_MAX_CONNS)
		admin_evict(a);
	c = xcalloc(1, sizeof(*c));
	c->a = a;
	util_sockaddr_str(sa, c->peer, sizeof(c->peer));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->bev = bufferevent_socket_new(a->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->timer = evtimer_new(a->base, admin_timer_cb, c);
	if (c->bev == NULL || c->timer == NULL)
		fatalx("out of memory");
	bufferevent_setcb(c->bev, admin_read_cb, admin_write_cb,
	    admin_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, ADMIN_READ_MAX);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	http_parser_init(&c->parser, HTTP_REQUEST, &admin_parser_cbs, c,
	    ADMIN_MAX_HEAD, ADMIN_MAX_FIELDS);
	c->state = A_IDLE;
	admin_timer_set(c, a->head_ms);
	TAILQ_INSERT_TAIL(&a->conns, c, entry);
	a->nconns++;
	log_debug("admin %s: connected", c->peer);
}

/* accept(2) failed, likely out of descriptors: pause, don't spin. */
static void
admin_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct admin	*a = arg;
	struct timeval	 tv = { 0, ADMIN_ACCEPT_PAUSE_MS * 1000 };

	log_warn("admin: accept");
	evconnlistener_disable(a->listener);
	evtimer_add(a->ev_accept, &tv);
}

/* Accepts again after a pause. */
static void
admin_resume_accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct admin	*a = arg;

	evconnlistener_enable(a->listener);
}

/* Binds and listens on SA; NULL with *CAUSE on error. */
struct admin *
admin_new(struct event_base *base, const struct sockaddr *sa,
    socklen_t salen, const struct admin_ops *ops, char **cause)
{
	struct admin	*a;
	char		 addr[64];
	const char	*what;
	int		 fd, one = 1;

	util_sockaddr_str(sa, addr, sizeof(addr));
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		*cause = xasprintf("admin %s: socket: %s", addr,
		    strerror(errno));
		return (NULL);
	}
	/* No SO_REUSEPORT: a second daemon on the port must fail here. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    (sa->sa_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &one, sizeof(one)) == -1))
		what = "setsockopt";
	else if (bind(fd, sa, salen) == -1)
		what = "bind";
	else if (listen(fd, ADMIN_BACKLOG) == -1)
		what = "listen";
	else
		what = NULL;
	if (what != NULL) {
		*cause = xasprintf("admin %s: %s: %s", addr, what,
		    strerror(errno));
		close(fd);
		return (NULL);
	}
	a = xcalloc(1, sizeof(*a));
	a->base = base;
	a->ops = *ops;
	a->head_ms = ADMIN_HEAD_TIMEOUT_MS;
	a->idle_ms = ADMIN_IDLE_TIMEOUT_MS;
	a->write_ms = ADMIN_WRITE_TIMEOUT_MS;
	TAILQ_INIT(&a->conns);
	/* Backlog 0: listening already. */
	a->listener = evconnlistener_new(base, admin_accept_cb, a,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	a->ev_accept = evtimer_new(base, admin_resume_accept_cb, a);
	a->body = evbuffer_new();
	if (a->listener == NULL || a->ev_accept == NULL || a->body == NULL)
		fatalx("out of memory");
	evconnlistener_set_error_cb(a->listener, admin_accept_error_cb);
	return (a);
}

/* The address the listener is bound to. */
int
admin_sockaddr(const struct admin *a, struct sockaddr_storage *ss,
    socklen_t *len)
{
	*len = sizeof(*ss);
	return (getsockname(evconnlistener_get_fd(a->listener),
	    (struct sockaddr *)ss, len));
}

/* For tests: the timeout of every phase, from its next start. */
void
admin_set_timeout(struct admin *a, unsigned int ms)
{
	a->head_ms = a->idle_ms = a->write_ms = ms;
}

/* Connections closed to make room for a new one, so far. */
uint64_t
admin_evicted(const struct admin *a)
{
	return (a->evicted);
}

/* Closes the listener and every connection, and frees. */
void
admin_free(struct admin *a)
{
	struct admin_conn	*c;

	if (a == NULL)
		return;
	while ((c = TAILQ_FIRST(&a->conns)) != NULL)
		admin_conn_close(c, "admin endpoint closed");
	evconnlistener_free(a->listener);
	event_free(a->ev_accept);
	evbuffer_free(a->body);
	free(a);
}
