/*
 * worker: one thread with its own event_base, its own SO_REUSEPORT
 * listening sockets and its own upstream pool. Workers share nothing
 * mutable but atomic counters and the current-config pointer; the main
 * thread talks to a worker only by activating its events.
 */
#ifndef SHADOWDIFF_WORKER_H
#define SHADOWDIFF_WORKER_H

#include <sys/queue.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "shadowdiff/stats.h"

struct config;
struct conn;
struct diff_job;
struct differ;
struct event;
struct exchange;
struct event_base;
struct mirror_state;
struct evconnlistener;
struct upstream_pool;

/*
 * Event priorities of a worker's base. Everything runs at the default,
 * the middle one, but a shadow connection whose response has passed
 * [diff] max_body (only its length and digest are still wanted): it
 * runs only in loop turns where nothing else is ready, so that a shadow
 * streaming a huge or endless body cannot slow the worker's clients.
 */
#define WORKER_PRIORITIES	3
#define WORKER_PRIO_SHADOW	2
#define WORKER_SHADOW_BURST	4	/* shadow callbacks, then a new look */

/*
 * An object's place in its worker's list of connections or exchanges.
 * The object embeds it; the worker keeps the list (worker_conn_add,
 * worker_exchange_add), so that it can end what is left when it stops.
 * A connection is also on the worker's idle list while it is idle
 * (worker_conn_idle), oldest first, so that one can make room at
 * max_connections.
 */
struct worker_entry {
	TAILQ_ENTRY(worker_entry) link;
	TAILQ_ENTRY(worker_entry) idle_link;
	void			*owner;		/* the conn or exchange */
	void			(*end)(void *);	/* an exchange's, at stop */
	int			 idle;		/* on the idle list */
};
TAILQ_HEAD(worker_list, worker_entry);

/*
 * A listening socket of a worker. Its ID names the [listen] address
 * across reloads (the main thread numbers them), so that a reload keeps
 * the listener of an address it keeps.
 */
struct worker_listener {
	uint64_t		 id;
	struct evconnlistener	*l;
	int			 tls;	/* its clients speak TLS */
};

/*
 * What the main thread hands a worker, at start and at each reload: a
 * config, referenced for the worker, and a listening socket per [listen]
 * address, each the worker's own descriptor (it closes those it already
 * has a listener for, and those of addresses removed). DIFFER is set
 * once the config has a [shadow].
 */
struct worker_setup {
	struct config		*cfg;
	struct worker_sock {
		uint64_t	 id;
		int		 fd;
		int		 tls;
	}			*socks;
	size_t			 nsocks;
	struct differ		*differ;
};
struct worker {
	unsigned int		 id;
	pthread_t		 thread;
	struct event_base	*base;
	struct config		*cfg;		/* this worker's reference */
	_Atomic(struct worker_setup *) next;	/* from a reload */
	struct event		*ev_reload;

	struct worker_listener	*listeners;
	size_t			 nlisteners;
	struct upstream_pool	*primary;
	struct upstream_pool	*shadow;	/* NULL: no [shadow] */
	struct stats		 shadow_stats;	/* of the shadow's pool */
	struct mirror_state	*mirror;	/* mirror.h: exchange's */
	struct worker_list	 exchanges;	/* alive */
	struct diff_job		*finished;	/* to hand off this turn */
	struct diff_job		**finished_tail;
	struct event		*ev_handoff;
	struct differ		*differ;	/* shared; NULL: none */

	struct worker_list	 conns;
	struct worker_list	 idle;		/* of conns, oldest first */
	size_t			 nconns;
	int			 draining;
	int			 stopping;	/* drain_timeout ran out */

	struct event		*ev_drain;	/* activated by the main thread */
	struct event		*ev_stop;
	struct event		*ev_accept;	/* accept again after EMFILE */

	struct stats		 stats;
	struct stats_route	*routes;	/* [STATS_ROUTES_MAX] */
};

/* Open client connections across all workers (for max_connections). */
extern atomic_size_t	worker_total_conns;
/* Worker threads still running their loop. */
extern atomic_int	worker_running;

/* Creates a worker set up by SETUP, which it takes over. */
struct worker	*worker_new(unsigned int, struct worker_setup *);
int		 worker_start(struct worker *);
/*
 * Hands the worker (from another thread) a new setup, which it takes
 * over: requests that start afterwards use its config. A setup the
 * worker has not taken yet is replaced, and freed.
 */
void		 worker_reload(struct worker *, struct worker_setup *);
/* Frees a setup no worker took, closing its descriptors. */
void		 worker_setup_free(struct worker_setup *);
/* Asks the worker (from another thread) to drain or to stop now. */
void		 worker_drain(struct worker *);
void		 worker_stop(struct worker *);
void		 worker_join(struct worker *);
void		 worker_free(struct worker *);
/* A connection, E embedded in C, begins and ends (conn.c). */
void		 worker_conn_add(struct worker *, struct worker_entry *,
		    struct conn *);
void		 worker_conn_remove(struct worker *, struct worker_entry *);
/*
 * A connection becomes idle (IDLE: no request in progress, nothing to
 * read or write), going to the end of the idle list, or stops being so.
 */
void		 worker_conn_idle(struct worker *, struct worker_entry *, int);
/*
 * An exchange, E embedded in EX, begins (it counts as a mirror in
 * flight) and ends (exchange.c); END frees it, uncounted, if the worker
 * stops first. JOB, unless NULL, is its work for the diff threads: the
 * worker hands it over at the end of the loop turn, with the others of
 * the turn, and until then it still counts.
 */
void		 worker_exchange_add(struct worker *, struct worker_entry *,
		    struct exchange *, void (*)(void *));
void		 worker_exchange_remove(struct worker *, struct worker_entry *,
		    struct diff_job *);

#endif
