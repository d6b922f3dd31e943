/*
 * Connections to a backend: a per-worker pool, one request at a time per
 * connection, the response parsed with llhttp and handed to the owner.
 *
 * The owner's callbacks may release or abort the upstream while we are
 * still inside our own read loop; `busy` counts those frames and the
 * teardown waits for the outermost one (upstream_unbusy).
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include <openssl/ssl.h>

#include "shadowdiff/config.h"
#include "shadowdiff/http.h"
#include "shadowdiff/log.h"
#include "shadowdiff/sock.h"
#include "shadowdiff/stats.h"
#include "shadowdiff/tls.h"
#include "shadowdiff/upstream.h"
#include "shadowdiff/util.h"

enum upstream_state {
	UP_CONNECTING,
	UP_ACTIVE,	/* carrying a request */
	UP_TUNNEL,	/* raw bytes after a 101 */
	UP_IDLE,	/* in the pool */
	UP_DEAD		/* to be freed when no frame uses it */
};

struct upstream {
	TAILQ_ENTRY(upstream)		 entry;		/* in the idle list */
	struct upstream_pool		*pool;
	struct sock			*sock;
	enum upstream_state		 state;
	struct http_parser		 parser;

	const struct upstream_cbs	*cbs;
	void				*arg;
	int				 reused;	/* came from the pool */
	int				 got_bytes;	/* response started */
	int				 resp_done;
	int				 sent;		/* request written */
	int				 reading;	/* owner wants bytes */
	int				 want_drain;
	short				 eof;		/* seen while paused */

	int				 busy;
	int				 release;	/* -1 none, 0 close, 1 pool */
	int				 demoted;	/* runs at a lower priority */
	int				 session_kept;	/* TLS: in the pool */
};

TAILQ_HEAD(upstream_list, upstream);

struct upstream_pool {
	const char			*name;		/* primary, shadow */
	int				 quiet;		/* failures at debug */
	struct event_base		*base;
	const struct config_backend	*backend;
	struct config			*cfg;		/* BACKEND's, referenced */
	struct stats			*stats;
	struct upstream_list		 idle;
	size_t				 nidle;
	size_t				 nconns;	/* idle and busy */
	int				 retired;	/* freed with its last */
	/* TLS: a session to resume; the failure logged last. */
	SSL_SESSION			*session;
	const char			*tls_logged;
};

static void	upstream_read_cb(struct sock *, void *);
static void	upstream_write_cb(struct sock *, void *);
static void	upstream_event_cb(struct sock *, short, void *);
static void	upstream_idle_cb(struct sock *, void *);
static void	upstream_idle_event_cb(struct sock *, short, void *);
static void	upstream_free(struct upstream *);
static void	upstream_end(struct upstream *, short);
static void	upstream_unbusy(struct upstream *);
static void	upstream_tls_failed(struct upstream *, short);

static int	upstream_response_head_cb(void *, struct http_msg *);
static int	upstream_response_body_cb(void *, const char *, size_t);
static void	upstream_response_done_cb(void *, struct http_msg *);

static const struct http_parser_cbs upstream_parser_cbs = {
	upstream_response_head_cb, upstream_response_body_cb,
	upstream_response_done_cb
};

static void	upstream_log(const struct upstream_pool *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/*
 * Logs a failure with the pool's name: a warning for the primary, whose
 * failures clients see; debug for the shadow, whose failures are
 * counted and written to the divergence log instead (a hanging shadow
 * must not flood the journal).
 */
static void
upstream_log(const struct upstream_pool *pool, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[256];

	if (pool->quiet && !log_enabled(LOG_LEVEL_DEBUG))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (pool->quiet)
		log_debug("%s %s: %s", pool->name, pool->backend->hostport,
		    msg);
	else
		log_warnx("%s %s: %s", pool->name, pool->backend->hostport,
		    msg);
}

/* Creates the pool of one worker for BACKEND, which lives in CFG. */
struct upstream_pool *
upstream_pool_new(struct event_base *base, struct config *cfg,
    const struct config_backend *b, struct stats *stats, const char *name,
    int quiet)
{
	struct upstream_pool	*pool;

	pool = xcalloc(1, sizeof(*pool));
	pool->name = name;
	pool->quiet = quiet;
	pool->base = base;
	pool->cfg = config_ref(cfg);
	pool->backend = b;
	pool->stats = stats;
	TAILQ_INIT(&pool->idle);
	return (pool);
}

/*
 * A reload kept the backend (same URL, timeouts, pool size) in CFG: new
 * connections use its TLS settings (a renewed client certificate, a
 * new CA file), without the session kept from the old ones.
 */
void
upstream_pool_update(struct upstream_pool *pool, struct config *cfg,
    const struct config_backend *b)
{
	if (pool->cfg == cfg)
		return;
	config_unref(pool->cfg);
	pool->cfg = config_ref(cfg);
	pool->backend = b;
	SSL_SESSION_free(pool->session);
	pool->session = NULL;
	pool->tls_logged = NULL;
}

/* The backend the pool connects to. */
const struct config_backend *
upstream_pool_backend(const struct upstream_pool *pool)
{
	return (pool->backend);
}

/* Closes every idle connection of the pool. */
void
upstream_pool_close_idle(struct upstream_pool *pool)
{
	struct upstream	*up;

	while ((up = TAILQ_FIRST(&pool->idle)) != NULL)
		upstream_free(up);
}

/* Frees the pool; its busy connections must be gone already. */
void
upstream_pool_free(struct upstream_pool *pool)
{
	if (pool == NULL)
		return;
	upstream_pool_close_idle(pool);
	SSL_SESSION_free(pool->session);
	config_unref(pool->cfg);
	free(pool);
}

/*
 * A reload changed the backend: the pool takes no new request, its idle
 * connections close now, and each busy one closes when its exchange
 * ends instead of going back to the pool. The last one frees the pool:
 * requests in flight to the old backend finish there, none is cut.
 */
void
upstream_pool_retire(struct upstream_pool *pool)
{
	if (pool == NULL)
		return;
	upstream_pool_close_idle(pool);
	pool->retired = 1;
	if (pool->nconns == 0)
		upstream_pool_free(pool);
}

/* Closes the connection and frees it, now. */
static void
upstream_free(struct upstream *up)
{
	struct upstream_pool	*pool = up->pool;

	if (up->state == UP_IDLE) {
		TAILQ_REMOVE(&pool->idle, up, entry);
		pool->nidle--;
	}
	if (up->sock != NULL) {
		sock_free(up->sock);
		stats_dec(pool->stats, STAT_UP_OPEN);
	}
	http_parser_free(&up->parser);
	free(up);
	if (--pool->nconns == 0 && pool->retired)
		upstream_pool_free(pool);
}

/* Opens a new connection to the backend on UP; 0 or -1. */
static int
upstream_connect(struct upstream *up)
{
	const struct config_backend	*b = up->pool->backend;
	struct timeval			 tv = util_tv_ms(b->connect_timeout_ms);
	SSL				*ssl;

	up->sock = sock_new(up->pool->base, -1, upstream_read_cb,
	    upstream_write_cb, upstream_event_cb, up);
	if (up->sock == NULL)
		return (-1);
	stats_inc(up->pool->stats, STAT_UP_OPEN);
	if (b->tls) {
		if ((ssl = tls_client_ssl(b->tls_ctx, b->host,
		    b->verify)) == NULL) {
			errno = ENOMEM;
			return (-1);
		}
		if (up->pool->session != NULL)
			SSL_set_session(ssl, up->pool->session);
		/* connect_timeout again, for the handshake. */
		sock_set_tls(up->sock, ssl, 0, &tv);
	}
	sock_setwatermark(up->sock, EV_READ, 0, UPSTREAM_READ_MAX);
	sock_setwatermark(up->sock, EV_WRITE, UPSTREAM_BUF_LOW, 0);
	/* The connect is timed with the write timeout. */
	sock_set_timeouts(up->sock, NULL, &tv);
	up->state = UP_CONNECTING;
	if (sock_connect(up->sock, (const struct sockaddr *)&b->addr,
	    (socklen_t)b->addrlen) == -1)
		return (-1);
	stats_inc(up->pool->stats, STAT_UP_CONNECTS);
	return (0);
}

/* Whether a pooled connection still looks open: no EOF, no stray bytes. */
static int
upstream_alive(struct upstream *up)
{
	char	 c;
	ssize_t	 n;

	n = recv(sock_getfd(up->sock), &c, 1, MSG_PEEK | MSG_DONTWAIT);
	return (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK));
}

/* Makes UP ready to carry a request for the owner. */
static void
upstream_attach(struct upstream *up, const struct upstream_cbs *cbs,
    void *arg, int method)
{
	struct timeval	 tv = util_tv_ms(up->pool->backend->read_timeout_ms);

	up->cbs = cbs;
	up->arg = arg;
	up->got_bytes = up->resp_done = up->sent = 0;
	up->eof = 0;
	up->reading = 1;
	up->want_drain = 0;
	up->release = -1;
	/* A new upstream is zeroed memory: reset is right for both. */
	http_parser_reset(&up->parser, HTTP_RESPONSE, &upstream_parser_cbs, up,
	    UPSTREAM_READ_MAX, 256);
	http_parser_set_request_method(&up->parser, method);
	if (up->state != UP_CONNECTING) {
		up->state = UP_ACTIVE;
		sock_setcb(up->sock, upstream_read_cb, upstream_write_cb,
		    upstream_event_cb, up);
		/* Until the request is sent only the send is timed. */
		sock_set_timeouts(up->sock, NULL, &tv);
		sock_enable(up->sock, EV_READ | EV_WRITE);
	}
}

/* A connection for one request of METHOD; NULL if none can be made. */
struct upstream *
upstream_get(struct upstream_pool *pool, const struct upstream_cbs *cbs,
    void *arg, int method, enum upstream_use use)
{
	struct upstream	*up;

	while (use != UPSTREAM_NEW && (up = TAILQ_FIRST(&pool->idle)) != NULL) {
		TAILQ_REMOVE(&pool->idle, up, entry);
		pool->nidle--;
		up->state = UP_ACTIVE;
		/*
		 * A retriable request survives a connection closed under it;
		 * any other must not be sent on one we can see is closed.
		 */
		if (use == UPSTREAM_POOLED_CHECKED && !upstream_alive(up)) {
			stats_inc(pool->stats, STAT_UP_STALE);
			upstream_free(up);
			continue;
		}
		stats_inc(pool->stats, STAT_UP_REUSED);
		up->reused = 1;
		upstream_attach(up, cbs, arg, method);
		return (up);
	}
	up = xcalloc(1, sizeof(*up));
	up->pool = pool;
	pool->nconns++;
	if (upstream_connect(up) == -1) {
		upstream_log(pool, "connect: %s", strerror(errno));
		upstream_free(up);
		return (NULL);
	}
	upstream_attach(up, cbs, arg, method);
	return (up);
}

/* Where the request is written. */
struct evbuffer *
upstream_output(struct upstream *up)
{
	return (sock_get_output(up->sock));
}

/* The whole request is written: from now on the response is timed. */
void
upstream_request_sent(struct upstream *up)
{
	struct timeval	 tv = util_tv_ms(up->pool->backend->read_timeout_ms);

	up->sent = 1;
	if (up->state == UP_ACTIVE)
		sock_set_timeouts(up->sock, &tv, &tv);
}

/* Pauses or resumes reading the response. */
void
upstream_set_reading(struct upstream *up, int on)
{
	up->reading = on;
	if (up->state != UP_ACTIVE && up->state != UP_TUNNEL)
		return;
	if (on) {
		up->busy++;
		/* Bytes may be waiting already: the read callback won't fire. */
		if (evbuffer_get_length(sock_get_input(up->sock)) > 0)
			upstream_read_cb(up->sock, up);
		if (up->eof != 0 && up->cbs != NULL)
			upstream_end(up, up->eof);
		else if (up->cbs != NULL)
			sock_enable(up->sock, EV_READ);
		upstream_unbusy(up);
	} else
		sock_disable(up->sock, EV_READ);
}

/* Runs the connection at PRIORITY from now on; it is not pooled again. */
void
upstream_demote(struct upstream *up, int priority)
{
	up->demoted = 1;
	sock_set_priority(up->sock, priority);
}

/* Asks for the drained callback when the output is below the mark. */
void
upstream_want_drain(struct upstream *up)
{
	up->want_drain = 1;
}

/* After a 101: bytes pass raw from now on. */
void
upstream_tunnel(struct upstream *up)
{
	/* A tunnel may be quiet for long: it ends when either side closes. */
	up->state = UP_TUNNEL;
	sock_set_timeouts(up->sock, NULL, NULL);
}

/*
 * Keeps the TLS session of a connection whose response came whole, for
 * the pool's next connections to resume (TLS 1.3 tickets come after the
 * handshake: by now they have).
 */
static void
upstream_keep_session(struct upstream *up)
{
	struct upstream_pool	*pool = up->pool;
	SSL			*ssl = sock_ssl(up->sock);
	SSL_SESSION		*sess;

	if (ssl == NULL || up->session_kept || !up->resp_done)
		return;
	up->session_kept = 1;
	if ((sess = SSL_get1_session(ssl)) == NULL)
		return;
	if (!SSL_SESSION_is_resumable(sess) || sess == pool->session) {
		SSL_SESSION_free(sess);
		return;
	}
	SSL_SESSION_free(pool->session);
	pool->session = sess;
}

/* Ends the exchange: to the pool if reusable, else closed. */
static void
upstream_finish(struct upstream *up, int reusable)
{
	struct upstream_pool	*pool = up->pool;
	struct timeval		 tv = util_tv_ms(pool->backend->idle_timeout_ms);

	if (up->busy > 0) {
		up->release = reusable;
		up->cbs = NULL;
		return;
	}
	upstream_keep_session(up);
	if (!reusable || up->demoted || pool->retired ||
	    up->state != UP_ACTIVE ||
	    !up->resp_done ||
	    !up->sent || !up->parser.msg.keepalive ||
	    evbuffer_get_length(sock_get_input(up->sock)) > 0 ||
	    evbuffer_get_length(sock_get_output(up->sock)) > 0 ||
	    pool->nidle >= pool->backend->pool_size) {
		upstream_free(up);
		return;
	}
	/* The parser keeps its buffers for the next response. */
	up->cbs = NULL;
	up->arg = NULL;
	up->state = UP_IDLE;
	sock_setcb(up->sock, upstream_idle_cb, NULL, upstream_idle_event_cb,
	    up);
	sock_set_timeouts(up->sock, &tv, NULL);
	sock_enable(up->sock, EV_READ);
	/* Most recently used first: it is the least likely to be closed. */
	TAILQ_INSERT_HEAD(&pool->idle, up, entry);
	pool->nidle++;
}

/* The exchange is over; pooled if REUSABLE and the backend agrees. */
void
upstream_release(struct upstream *up, int reusable)
{
	upstream_finish(up, reusable);
}

/* The exchange was abandoned: close. */
void
upstream_abort(struct upstream *up)
{
	upstream_finish(up, 0);
}

/* Leaves a callback frame; does the teardown a nested call asked for. */
static void
upstream_unbusy(struct upstream *up)
{
	if (--up->busy == 0 && up->release != -1)
		upstream_finish(up, up->release);
}

/* Reports an error to the owner (once), then closes. */
static void
upstream_fail(struct upstream *up, enum upstream_error err,
    const char *reason)
{
	const struct upstream_cbs	*cbs = up->cbs;

	if (cbs == NULL)
		return;
	up->cbs = NULL;
	up->busy++;
	cbs->error(up->arg, err, reason);
	up->release = 0;
	upstream_unbusy(up);
}

/*
 * The TLS handshake failed: OpenSSL's reason is logged when it differs
 * from the one logged last (a backend with an expired certificate logs
 * once, not once per request), and the owner told.
 */
static void
upstream_tls_failed(struct upstream *up, short what)
{
	struct upstream_pool	*pool = up->pool;
	unsigned long		 err;
	long			 verify;
	const char		*reason;

	sock_tls_error(up->sock, &err, &verify);
	if (err == 0 && tls_cert_asked(sock_ssl(up->sock)))
		reason = "it asked for a client certificate and none is "
		    "configured (certificate =)";
	else if (what & SOCK_EOF)
		reason = "closed during the handshake";
	else
		reason = tls_reason(err, verify);
	stats_inc(pool->stats, STAT_UP_TLS_FAILED);
	if (reason != pool->tls_logged) {
		pool->tls_logged = reason;
		upstream_log(pool, "TLS handshake failed: %s", reason);
	}
	upstream_fail(up, UPSTREAM_TLS, reason);
}

/* Judges how a connection ended: a complete response, or an error. */
static void
upstream_end(struct upstream *up, short what)
{
	struct sock	*s = up->sock;

	if (what & SOCK_TIMEOUT) {
		if (what & SOCK_TLS)
			stats_inc(up->pool->stats, STAT_UP_TLS_FAILED);
		upstream_log(up->pool, "%s timed out",
		    (what & SOCK_TLS) ? "TLS handshake" :
		    up->state == UP_CONNECTING ? "connect" :
		    up->sent ? "response" : "request send");
		upstream_fail(up, UPSTREAM_TIMEOUT,
		    (what & SOCK_TLS) || up->state == UP_CONNECTING ?
		    UPSTREAM_CONNECT_TIMEOUT : "timeout");
		return;
	}
	/*
	 * TLS 1.3: a backend that asked for the client certificate we lack
	 * refuses it after our handshake ended, by an alert or, when our
	 * request overtook it, a reset; either way it is a TLS failure.
	 */
	if ((what & SOCK_TLS) || (sock_ssl(s) != NULL && !up->reused &&
	    !up->got_bytes && tls_cert_asked(sock_ssl(s)))) {
		upstream_tls_failed(up, what);
		return;
	}
	if (up->state == UP_CONNECTING) {
		upstream_log(up->pool, "connect: %s", strerror(errno));
		upstream_fail(up, UPSTREAM_REFUSED, "connection refused");
		return;
	}
	/* Parse what is left before judging the end. */
	upstream_read_cb(s, up);
	if (up->cbs == NULL || up->resp_done)
		return;
	if (!up->reading &&
	    evbuffer_get_length(sock_get_input(s)) > 0) {
		/* The owner paused; it sees the end when it resumes. */
		sock_disable(s, EV_READ);
		up->eof = what;
		return;
	}
	if (up->state == UP_TUNNEL) {
		upstream_fail(up, UPSTREAM_RESET, "closed");
		return;
	}
	if (up->reused && !up->got_bytes) {
		upstream_fail(up, UPSTREAM_STALE, "pooled connection closed");
		return;
	}
	if ((what & SOCK_EOF) &&
	    http_parser_eof(&up->parser) == HTTP_FEED_DONE)
		return;
	upstream_log(up->pool, "connection %s before the response ended",
	    (what & SOCK_EOF) ? "closed" : "reset");
	upstream_fail(up, UPSTREAM_RESET, (what & SOCK_EOF) ?
	    "closed" : "reset");
}

/* Parses what arrived, slice by slice, while the owner wants bytes. */
static void
upstream_read_cb(struct sock *s, void *arg)
{
	struct upstream		*up = arg;
	struct evbuffer		*in = sock_get_input(s);
	const char		*data;
	size_t			 n, used;
	enum http_feed		 rc;

	up->busy++;
	while (up->cbs != NULL && up->reading && !up->resp_done &&
	    (data = http_buffer_slice(in, UPSTREAM_SLICE, &n)) != NULL) {
		up->got_bytes = 1;
		if (up->state == UP_TUNNEL) {
			up->cbs->body(up->arg, data, n);
			evbuffer_drain(in, n);
			continue;
		}
		rc = http_parser_feed(&up->parser, data, n, &used);
		evbuffer_drain(in, used);
		if (rc == HTTP_FEED_ERROR) {
			upstream_log(up->pool, "bad response: %s",
			    up->parser.error_reason);
			upstream_fail(up, UPSTREAM_BAD_RESPONSE,
			    up->parser.error_reason);
			break;
		}
		if (rc == HTTP_FEED_DONE && up->cbs != NULL &&
		    up->parser.msg.status >= 100 &&
		    up->parser.msg.status < 200 &&
		    up->parser.msg.status != 101)
			http_parser_next(&up->parser);	/* interim */
	}
	upstream_unbusy(up);
}

/* The request output drained below the low mark. */
static void
upstream_write_cb(struct sock *s, void *arg)
{
	struct upstream	*up = arg;

	if (up->want_drain && up->cbs != NULL) {
		up->want_drain = 0;
		up->busy++;
		up->cbs->drained(up->arg);
		upstream_unbusy(up);
	}
}

/* Connected, closed, failed or timed out. */
static void
upstream_event_cb(struct sock *s, short what, void *arg)
{
	struct upstream	*up = arg;
	struct timeval	 tv = util_tv_ms(up->pool->backend->read_timeout_ms);

	if (what & SOCK_CONNECTED) {
		if (sock_ssl(s) != NULL) {
			up->pool->tls_logged = NULL;
			stats_inc(up->pool->stats, STAT_UP_TLS_HANDSHAKES);
			if (tls_resumed(sock_ssl(s)))
				stats_inc(up->pool->stats,
				    STAT_UP_TLS_RESUMED);
		}
		up->state = UP_ACTIVE;
		if (up->sent)
			sock_set_timeouts(up->sock, &tv, &tv);
		else
			sock_set_timeouts(up->sock, NULL, &tv);
		sock_enable(up->sock, up->reading ? EV_READ | EV_WRITE :
		    EV_WRITE);
		return;
	}
	up->busy++;
	upstream_end(up, what);
	upstream_unbusy(up);
}

/* A pooled connection received bytes or EOF: it can't be used again. */
static void
upstream_idle_cb(struct sock *s, void *arg)
{
	upstream_free(arg);
}

/* A pooled connection closed or timed out. */
static void
upstream_idle_event_cb(struct sock *s, short what, void *arg)
{
	upstream_free(arg);
}

static int
upstream_response_head_cb(void *arg, struct http_msg *msg)
{
	struct upstream	*up = arg;

	if (up->cbs == NULL)
		return (1);
	return (up->cbs->head(up->arg, msg));
}

static int
upstream_response_body_cb(void *arg, const char *data, size_t len)
{
	struct upstream	*up = arg;

	if (up->cbs != NULL)
		up->cbs->body(up->arg, data, len);
	return (0);
}

static void
upstream_response_done_cb(void *arg, struct http_msg *msg)
{
	struct upstream	*up = arg;

	if (msg->status >= 200 || msg->status == 101)
		up->resp_done = msg->status != 101;
	if (up->cbs != NULL)
		up->cbs->done(up->arg, msg);
}
