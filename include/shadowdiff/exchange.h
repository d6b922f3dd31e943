/*
 * exchange: one mirrored request's life. The client connection (conn)
 * keeps the primary leg and tells the exchange what passes on it; the
 * exchange owns the shadow leg, the copies kept for diffing (request
 * body up to [shadow] max_body, each response body up to [diff]
 * max_body, SHA-256 beyond), the timings, and the hand-off to the diff
 * threads. Only requests that are mirrored have one.
 *
 * Ownership: the connection holds the exchange until it calls
 * exchange_primary_done() or exchange_abandon(); from then on the
 * exchange owns itself. When both legs are over it goes to the diff
 * threads through a bounded queue (full: dropped and counted), and
 * whichever thread holds it last calls exchange_free(). Nothing the
 * shadow does reaches the connection: the exchange never calls it.
 */
#ifndef SHADOWDIFF_EXCHANGE_H
#define SHADOWDIFF_EXCHANGE_H

#include <stddef.h>

struct config_route;
struct diff_result;
struct exchange;
struct http_msg;
struct worker;

/* What a compared exchange turned out to be. */
enum exchange_verdict {
	EXCHANGE_MATCH,
	EXCHANGE_MISMATCH,
	EXCHANGE_SHADOW_ERROR
};

/*
 * Starts the exchange of request M, whose id is ID (LEN bytes; with
 * ID_ADDED, ours, to be added to the request). The worker's current
 * config is referenced.
 */
struct exchange	*exchange_new(struct worker *, const struct config_route *,
		    const struct http_msg *, const char *, size_t, int);
/* Request body bytes, as the client sent them (de-chunked). */
void		 exchange_request_body(struct exchange *, const char *,
		    size_t);
/*
 * The request is read whole: it goes to the shadow now, from the client
 * address given, which spoke PROTO ("http" or "https": X-Forwarded-Proto).
 */
void		 exchange_request_done(struct exchange *,
		    const struct http_msg *, const char *, const char *);
/* The primary's final response head; NOBODY when it has no body. */
void		 exchange_primary_head(struct exchange *,
		    const struct http_msg *, int);
void		 exchange_primary_body(struct exchange *, const char *,
		    size_t);
/* The primary's response ended: the connection lets go. */
void		 exchange_primary_done(struct exchange *);
/* The primary exchange failed or the client left: no comparison. */
void		 exchange_abandon(struct exchange *);
/* Hands the worker's finished exchanges to the diff threads. */
void		 exchange_handoff(struct worker *);
/* Frees every exchange still held by the worker (it is stopping). */
void		 exchange_free_all(struct worker *);

/*
 * On a diff thread: compares the two responses. Returns what the
 * exchange turned out to be; the record to write (allocated, no
 * newline) goes to *LINE, or NULL when there is none; the comparison's
 * result to *RES (NULL after a shadow error), for the caller to count
 * and free.
 */
enum exchange_verdict exchange_compare(struct exchange *, char **,
		    struct diff_result **);
/* The route of the exchange's figures (stats.h). */
size_t		 exchange_route_id(const struct exchange *);
/* Bytes held, for the diff queue's bound. */
size_t		 exchange_size(const struct exchange *);
/* The single teardown, on whichever thread holds the exchange. */
void		 exchange_free(struct exchange *);

#endif
