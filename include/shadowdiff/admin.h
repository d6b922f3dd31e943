/*
 * admin: the admin HTTP endpoint, on an event_base of the caller's (the
 * main thread's, which serves no client traffic).
 *
 *   GET /metrics	Prometheus text (ops.metrics)
 *   GET /stats		JSON (ops.stats)
 *   GET /healthz	200 "ok" while ops.healthy says so, else 503
 *
 * HEAD is answered like GET without the body; other methods get 405,
 * other paths 404. Requests have no body. Everything is bounded: the
 * head (ADMIN_MAX_HEAD), the connections (ADMIN_MAX_CONNS), the time
 * a connection may be idle or slow (ADMIN_TIMEOUT_MS), the input; the
 * output is one response at a time, written without blocking.
 * admin_free() is the single teardown.
 */
#ifndef SHADOWDIFF_ADMIN_H
#define SHADOWDIFF_ADMIN_H

#include <sys/socket.h>

#define ADMIN_MAX_HEAD		8192	/* request line and headers, bytes */
#define ADMIN_MAX_CONNS		32	/* more are closed once accepted */
#define ADMIN_TIMEOUT_MS	10000	/* idle, or reading, or writing */

struct event_base;
struct evbuffer;
struct sockaddr_storage;
struct admin;

/* What the endpoint serves; called on the event_base's thread. */
struct admin_ops {
	void	(*metrics)(void *, struct evbuffer *); /* Prometheus text */
	void	(*stats)(void *, struct evbuffer *);	/* JSON body */
	int	(*healthy)(void *);		/* 1 serving, 0 draining */
	void	*arg;
};

/*
 * Binds and listens on SA; OPS (every callback set) is copied. NULL and
 * *CAUSE (malloc'd, says what and why) on error.
 */
struct admin	*admin_new(struct event_base *, const struct sockaddr *,
		    socklen_t, const struct admin_ops *, char **);
/* The bound address (port 0 resolved); 0, or -1 with errno. */
int		 admin_sockaddr(const struct admin *, struct sockaddr_storage *,
		    socklen_t *);
/* For tests: a timeout (ms) instead of ADMIN_TIMEOUT_MS, from its next use. */
void		 admin_set_timeout(struct admin *, unsigned int);
/* Closes the listener and every admin connection, and frees. */
void		 admin_free(struct admin *);

#endif
