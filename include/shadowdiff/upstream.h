/*
 * upstream: per-worker connection pools to one backend, sending a
 * request and parsing its response.
 *
 * The owner (a client connection) writes the re-framed request into
 * upstream_output() and gets the response back through callbacks. A
 * connection goes back to its pool only when both messages ended cleanly
 * and the backend allows keep-alive. Pooled connections are watched for
 * the backend closing them; a request that could not be sent again (not
 * idempotent, or with a body) is never given a pooled connection that a
 * look at the socket shows closed. A pooled connection that closes before
 * any byte of the response is reported as UPSTREAM_STALE, so that the
 * owner can resend an idempotent request once on a new connection.
 */
#ifndef SHADOWDIFF_UPSTREAM_H
#define SHADOWDIFF_UPSTREAM_H

#include <stddef.h>

struct event_base;
struct evbuffer;
struct http_msg;
struct config;
struct config_backend;
struct stats;
struct upstream;
struct upstream_pool;

/* Bounds of what we buffer per direction; see docs/architecture.md. */
#define UPSTREAM_BUF_HIGH	(256 * 1024)	/* pause the producer above */
#define UPSTREAM_BUF_LOW	(64 * 1024)	/* resume it below */
#define UPSTREAM_READ_MAX	(64 * 1024)	/* read watermark per socket */
#define UPSTREAM_SLICE		(16 * 1024)	/* parsed per step */

/* The reason of an UPSTREAM_TIMEOUT while connecting (TLS included). */
#define UPSTREAM_CONNECT_TIMEOUT	"connect timeout"

enum upstream_error {
	UPSTREAM_REFUSED,	/* could not connect */
	UPSTREAM_RESET,		/* closed or reset before the response ended */
	UPSTREAM_TIMEOUT,	/* connect, send or read timeout */
	UPSTREAM_BAD_RESPONSE,	/* not valid HTTP/1.x */
	UPSTREAM_TLS,		/* the TLS handshake failed */
	UPSTREAM_STALE		/* a pooled connection was closed under us
				   before any byte of the response */
};

/* Which connection a request may use. */
enum upstream_use {
	UPSTREAM_POOLED,	/* any pooled one: the request can be resent */
	UPSTREAM_POOLED_CHECKED,/* only one that a look shows still open */
	UPSTREAM_NEW		/* a new connection (a resend) */
};

struct upstream_cbs {
	/* A response head; 1 when it has no body, else 0. */
	int	(*head)(void *, struct http_msg *);
	/* Response body bytes (or, once tunnelled, raw bytes). */
	void	(*body)(void *, const char *, size_t);
	/* The response ended (an interim 1xx one too: see its status). */
	void	(*done)(void *, struct http_msg *);
	/* The exchange failed; the upstream is gone after this returns. */
	void	(*error)(void *, enum upstream_error, const char *);
	/* The request output drained below UPSTREAM_BUF_LOW. */
	void	(*drained)(void *);
};

/*
 * A pool for a backend of a config, which the pool references; named
 * NAME in messages; QUIET logs its failures at debug.
 */
struct upstream_pool *upstream_pool_new(struct event_base *, struct config *,
	    const struct config_backend *, struct stats *, const char *, int);
/* Frees the pool; its busy connections must be gone already. */
void	upstream_pool_free(struct upstream_pool *);
/*
 * Retires the pool (its backend changed): idle connections close now,
 * busy ones at the end of their exchange, and the last frees the pool.
 */
void	upstream_pool_retire(struct upstream_pool *);
/* A reload kept the pool's backend: it takes CFG's settings for it. */
void	upstream_pool_update(struct upstream_pool *, struct config *,
	    const struct config_backend *);
const struct config_backend *upstream_pool_backend(
	    const struct upstream_pool *);


/* A connection for one request of METHOD; NULL if none can be made. */
struct upstream *upstream_get(struct upstream_pool *,
	    const struct upstream_cbs *, void *, int, enum upstream_use);
/* Where the request is written. */
struct evbuffer *upstream_output(struct upstream *);
/* The whole request was written: the read timeout starts now. */
void	upstream_request_sent(struct upstream *);
/* Pauses or resumes reading the response (the client is slow). */
void	upstream_set_reading(struct upstream *, int);
/*
 * Runs the connection's events at a priority of the base from now on
 * (a lower one: the rest of this response is not worth the clients'
 * time); such a connection is closed, not pooled, at the end.
 */
void	upstream_demote(struct upstream *, int);
/* Asks for the drained callback once the output is below the mark. */
void	upstream_want_drain(struct upstream *);
/* After a 101: from now on bytes pass raw both ways. */
void	upstream_tunnel(struct upstream *);
/* The exchange is over: pooled if REUSABLE and the backend agrees. */
void	upstream_release(struct upstream *, int);
/* The exchange was abandoned: the connection is closed. */
void	upstream_abort(struct upstream *);
/* Closes every idle pooled connection (draining). */
void	upstream_pool_close_idle(struct upstream_pool *);

#endif
