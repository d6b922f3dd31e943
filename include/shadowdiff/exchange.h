/*
 * exchange: one request's life on its worker, as far as the shadow is
 * concerned. exchange_start gives each request its id and decides
 * whether it is mirrored (counting why not); only a mirrored request
 * has an exchange. The client connection (conn) keeps the primary leg
 * and tells the exchange what passes on it; the exchange owns the
 * shadow leg, the timings and the copies kept for diffing (request body
 * up to [shadow] max_body, each response body up to [diff] max_body,
 * SHA-256 beyond), which it makes straight into its diff_job.
 *
 * Ownership: the connection holds the exchange until it calls
 * exchange_primary_done() or exchange_abandon(); from then on the
 * exchange owns itself. When both legs are over it hands its job to its
 * worker (which batches jobs to the diff threads) and frees itself:
 * exchange_end, its one teardown, on its worker's thread. Nothing of an
 * exchange crosses threads but its job. Nothing the shadow does reaches
 * the connection: the exchange never calls it.
 */
#ifndef SHADOWDIFF_EXCHANGE_H
#define SHADOWDIFF_EXCHANGE_H

#include <stddef.h>

struct config_route;
struct exchange;
struct http_msg;
struct worker;

/* Request ids we make: 32 hex digits (128 random bits). */
#define EXCHANGE_ID_LEN		32

/*
 * Gives request M of ROUTE (NULL: none) its id: the client's, or a new
 * one written to ID (EXCHANGE_ID_LEN digits and a NUL), then *ID_ADDED
 * is 1. Returns the request's exchange if it is mirrored (the worker's
 * current config referenced), else NULL, counting why not.
 */
struct exchange	*exchange_start(struct worker *, const struct config_route *,
		    const struct http_msg *, char *, int *);
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

#endif
