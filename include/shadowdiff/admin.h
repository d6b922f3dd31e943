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
 * head (ADMIN_MAX_HEAD), the connections (ADMIN_MAX_CONNS; a newcomer
 * is never refused, the connection idle longest makes room), the time a
 * connection may be idle or slow (the ADMIN_*_TIMEOUT_MS), the input;
 * the output is one response at a time, written without blocking.
 * admin_free() is the single teardown.
 *
 * The timeouts are short because the clients are machines on a fast
 * path: a health checker or a scraper sends its head as soon as it has
 * connected, in one segment, so 2 s is already thousands of times what
 * it needs, and a place held by a head that stops coming is freed soon.
 * Scrapes and checks come every 5 s or more, and reconnecting costs a
 * round trip, so keeping an idle connection longer than 5 s buys little.
 * Writing a response (/metrics can be large) gets more time.
 */
#ifndef SHADOWDIFF_ADMIN_H
#define SHADOWDIFF_ADMIN_H

#include <sys/socket.h>

#include <stdint.h>

#define ADMIN_MAX_HEAD		8192	/* request line and headers, bytes */
#define ADMIN_MAX_CONNS		32	/* past it, the longest idle closes */
#define ADMIN_HEAD_TIMEOUT_MS	2000	/* a request head (see admin.c) */
#define ADMIN_IDLE_TIMEOUT_MS	5000	/* between two requests */
#define ADMIN_WRITE_TIMEOUT_MS	10000	/* writing a response */

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
/* For tests: one timeout (ms) for every phase, from its next use. */
void		 admin_set_timeout(struct admin *, unsigned int);
/* Connections closed to make room at ADMIN_MAX_CONNS, so far. */
uint64_t	 admin_evicted(const struct admin *);
/* Closes the listener and every admin connection, and frees. */
void		 admin_free(struct admin *);

#endif
