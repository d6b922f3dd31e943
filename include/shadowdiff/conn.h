/*
 * conn: one client connection. It parses requests with llhttp, enforces
 * the limits, answers pipelined requests in order (one at a time: the
 * next request is parsed only once the previous response is written),
 * and streams the primary's response back. It knows nothing of the
 * shadow. conn_close() is its single teardown.
 */
#ifndef SHADOWDIFF_CONN_H
#define SHADOWDIFF_CONN_H

#include <sys/socket.h>

struct worker;
struct conn;

/* Takes over an accepted socket; TLS: its client speaks TLS. */
void	conn_accept(struct worker *, int, const struct sockaddr *, socklen_t,
	    int);
/* Closes the connection now if idle, else after its current response. */
void	conn_drain(struct conn *);
/* The single teardown: unhooks and frees everything of the connection. */
void	conn_close(struct conn *, const char *);
/*
 * Closes an idle connection to make room for a new one: 0; -1, left
 * open, when its client has sent bytes the loop has not read yet.
 */
int	conn_evict(struct conn *);

#endif
