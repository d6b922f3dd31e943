/*
 * Worker threads: each runs its own event loop over its own listening
 * sockets (SO_REUSEPORT lets the kernel spread connections over them),
 * its client connections and its upstream pool. Nothing here is shared
 * but the atomic connection count and counters read by other threads.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "shadowdiff/config.h"
#include "shadowdiff/conn.h"
#include "shadowdiff/diff_job.h"
#include "shadowdiff/differ.h"
#include "shadowdiff/log.h"
#include "shadowdiff/mirror.h"
#include "shadowdiff/upstream.h"
#include "shadowdiff/util.h"
#include "shadowdiff/worker.h"

#define WORKER_ACCEPT_PAUSE_MS	100	/* after accept fails (EMFILE...) */
#define WORKER_EVICT_TRIES	8	/* idle ones tried per newcomer */

atomic_size_t	worker_total_conns;
atomic_int	worker_running;

static void	worker_accept_cb(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	worker_accept_error_cb(struct evconnlistener *, void *);
static void	worker_drain_cb(evutil_socket_t, short, void *);
static void	worker_stop_cb(evutil_socket_t, short, void *);
static void	worker_resume_accept_cb(evutil_socket_t, short, void *);
static void	worker_handoff_cb(evutil_socket_t, short, void *);
static void	worker_reload_cb(evutil_socket_t, short, void *);
static void	worker_apply(struct worker *, struct worker_setup *);

/* Creates a worker set up by SETUP, which it takes over. */
struct worker *
worker_new(unsigned int id, struct worker_setup *setup)
{
	struct event_config	*ecfg;
	struct worker		*w;

	w = xcalloc(1, sizeof(*w));
	w->id = id;
	w->routes = xcalloc(STATS_ROUTES_MAX, sizeof(*w->routes));
	TAILQ_INIT(&w->conns);
	TAILQ_INIT(&w->idle);
	TAILQ_INIT(&w->exchanges);
	w->finished_tail = &w->finished;
	w->mirror = xcalloc(1, sizeof(*w->mirror));
	mirror_state_init(w->mirror);
	/*
	 * After a few shadow callbacks the loop looks for new events again,
	 * so that clients ready meanwhile go first: a turn never runs the
	 * callbacks of a hundred busy shadow connections in a row.
	 */
	if ((ecfg = event_config_new()) == NULL ||
	    event_config_set_max_dispatch_interval(ecfg, NULL,
	    WORKER_SHADOW_BURST, WORKER_PRIO_SHADOW) == -1 ||
	    (w->base = event_base_new_with_config(ecfg)) == NULL ||
	    event_base_priority_init(w->base, WORKER_PRIORITIES) == -1)
		fatalx("worker %u: event_base_new failed", id);
	event_config_free(ecfg);
	w->ev_drain = event_new(w->base, -1, 0, worker_drain_cb, w);
	w->ev_stop = event_new(w->base, -1, 0, worker_stop_cb, w);
	w->ev_accept = evtimer_new(w->base, worker_resume_accept_cb, w);
	w->ev_handoff = event_new(w->base, -1, 0, worker_handoff_cb, w);
	w->ev_reload = event_new(w->base, -1, 0, worker_reload_cb, w);
	if (w->ev_drain == NULL || w->ev_stop == NULL || w->ev_accept == NULL ||
	    w->ev_handoff == NULL || w->ev_reload == NULL)
		fatalx("out of memory");
	worker_apply(w, setup);
	return (w);
}

/*
 * Listens on the sockets of SETUP: an address the worker listens on
 * already keeps its listener (no moment in which it refuses anyone),
 * a new one gets a listener, and the listeners of addresses gone are
 * freed, which closes them: their connections go on, as conns.
 */
static void
worker_listen(struct worker *w, struct worker_setup *setup)
{
	struct worker_listener	*old = w->listeners, *nl;
	size_t			 nold = w->nlisteners, i, j;
	int			 fd;

	nl = xcalloc(setup->nsocks + 1, sizeof(*nl));
	w->nlisteners = 0;
	for (i = 0; i < setup->nsocks; i++) {
		fd = setup->socks[i].fd;
		setup->socks[i].fd = -1;
		for (j = 0; j < nold; j++)
			if (old[j].l != NULL && old[j].id == setup->socks[i].id)
				break;
		if (j < nold) {
			/* Kept: the descriptor handed over is not needed. */
			old[j].tls = setup->socks[i].tls;
			nl[w->nlisteners++] = old[j];
			old[j].l = NULL;
			close(fd);
			continue;
		}
		if (w->draining) {
			close(fd);
			continue;
		}
		/* Bound and listening already; -1: don't listen() again. */
		nl[w->nlisteners].l = evconnlistener_new(w->base,
		    worker_accept_cb, w, LEV_OPT_CLOSE_ON_FREE |
		    LEV_OPT_CLOSE_ON_EXEC, -1, fd);
		if (nl[w->nlisteners].l == NULL) {
			log_warnx("worker %u: evconnlistener_new failed", w->id);
			close(fd);
			continue;
		}
		nl[w->nlisteners].id = setup->socks[i].id;
		nl[w->nlisteners].tls = setup->socks[i].tls;
		evconnlistener_set_error_cb(nl[w->nlisteners].l,
		    worker_accept_error_cb);
		/* Accepting is paused after an error: this one too. */
		if (evtimer_pending(w->ev_accept, NULL))
			evconnlistener_disable(nl[w->nlisteners].l);
		w->nlisteners++;
	}
	for (j = 0; j < nold; j++)
		if (old[j].l != NULL)
			evconnlistener_free(old[j].l);
	free(old);
	w->listeners = nl;
}

/*
 * The pool for BACKEND of CFG, given the one in use: kept if the backend
 * is the same, else replaced by a new one and retired (it closes as its
 * exchanges end). NULL when CFG has no such backend.
 */
static struct upstream_pool *
worker_pool(struct event_base *base, struct upstream_pool *pool,
    struct config *cfg, const struct config_backend *backend,
    struct stats *stats, const char *name, int quiet)
{
	if (pool != NULL && backend->url != NULL &&
	    config_backend_eq(upstream_pool_backend(pool), backend)) {
		upstream_pool_update(pool, cfg, backend);
		return (pool);
	}
	upstream_pool_retire(pool);
	if (backend->url == NULL)
		return (NULL);
	return (upstream_pool_new(base, cfg, backend, stats, name, quiet));
}

/*
 * Takes over SETUP: its config for the requests that start from now on
 * (exchanges in flight keep the one they started with), its listeners,
 * and pools for the backends that changed.
 */
static void
worker_apply(struct worker *w, struct worker_setup *setup)
{
	struct config		*cfg = setup->cfg;
	struct upstream_pool	*shadow = w->shadow;

	worker_listen(w, setup);
	w->primary = worker_pool(w->base, w->primary, cfg, &cfg->primary,
	    &w->stats, "primary", 0);
	w->shadow = worker_pool(w->base, w->shadow, cfg, &cfg->shadow,
	    &w->shadow_stats, "shadow", 1);
	/* A new shadow is not down because the old one was. */
	if (w->shadow != shadow)
		mirror_shadow_reset(w->mirror);
	if (setup->differ != NULL)
		w->differ = setup->differ;
	config_unref(w->cfg);
	w->cfg = setup->cfg;
	setup->cfg = NULL;
	worker_setup_free(setup);
}

/* Frees a setup, closing the descriptors it still holds. */
void
worker_setup_free(struct worker_setup *setup)
{
	size_t	 i;

	if (setup == NULL)
		return;
	for (i = 0; i < setup->nsocks; i++)
		if (setup->socks[i].fd != -1)
			close(setup->socks[i].fd);
	free(setup->socks);
	config_unref(setup->cfg);
	free(setup);
}

/*
 * A new client connection. At max_connections, as nginx does when it
 * runs low (ngx_drain_connections), the connection of this worker idle
 * longest is closed to make room; one with a request in progress never
 * is, and when the worker has no idle one the newcomer is refused. The
 * limit is the daemon's (an atomic count) but the lists are each
 * worker's own: looking into another worker's list would take a lock
 * or a message and a loop turn of the other thread while the newcomer
 * waits, and SO_REUSEPORT spreads connections evenly enough that each
 * worker holds about its share of the idle ones.
 */
static void
worker_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct worker		*w = arg;
	struct worker_entry	*idle, *next;
	size_t			 i;
	int			 tls = 0;

	for (i = 0; i < w->nlisteners; i++)
		if (w->listeners[i].l == l)
			tls = w->listeners[i].tls;
	if (atomic_fetch_add(&worker_total_conns, 1) >=
	    w->cfg->max_connections) {
		/*
		 * Its place (its count) goes to the newcomer. One whose
		 * request is arriving is skipped; a few tries at most.
		 */
		for (i = 0, idle = TAILQ_FIRST(&w->idle); idle != NULL &&
		    i < WORKER_EVICT_TRIES; i++, idle = next) {
			next = TAILQ_NEXT(idle, idle_link);
			if (conn_evict(idle->owner) == 0)
				break;
		}
		if (idle == NULL || i == WORKER_EVICT_TRIES) {
			atomic_fetch_sub(&worker_total_conns, 1);
			stats_inc(&w->stats, STAT_CONN_REFUSED);
			close(fd);
			return;
		}
		stats_inc(&w->stats, STAT_CONN_EVICTED);
	}
	conn_accept(w, fd, sa, (socklen_t)salen, tls);
}

/* accept(2) failed, likely out of descriptors: pause, don't spin. */
static void
worker_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct worker	*w = arg;
	struct timeval	 tv = { 0, WORKER_ACCEPT_PAUSE_MS * 1000 };
	size_t		 i;

	log_warn("worker %u: accept", w->id);
	for (i = 0; i < w->nlisteners; i++)
		evconnlistener_disable(w->listeners[i].l);
	evtimer_add(w->ev_accept, &tv);
}

/* Accepts again after a pause. */
static void
worker_resume_accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;
	size_t		 i;

	for (i = 0; i < w->nlisteners && !w->draining; i++)
		evconnlistener_enable(w->listeners[i].l);
}

/*
 * A draining worker ends its loop once its connections are closed and
 * its mirrors are over ([shadow] timeout bounds them) and handed off,
 * so that what was mirrored before a stop is still compared.
 */
static void
worker_check_drained(struct worker *w)
{
	if (w->draining && w->nconns == 0 && TAILQ_EMPTY(&w->exchanges) &&
	    w->finished == NULL)
		event_base_loopexit(w->base, NULL);
}

/* A connection begins: the worker lists it. */
void
worker_conn_add(struct worker *w, struct worker_entry *e, struct conn *c)
{
	e->owner = c;
	TAILQ_INSERT_TAIL(&w->conns, e, link);
	w->nconns++;
}

/* A connection ends. */
void
worker_conn_remove(struct worker *w, struct worker_entry *e)
{
	worker_conn_idle(w, e, 0);
	TAILQ_REMOVE(&w->conns, e, link);
	w->nconns--;
	atomic_fetch_sub(&worker_total_conns, 1);
	worker_check_drained(w);
}

/*
 * A connection becomes idle, the newest of the idle list, or stops
 * being idle: O(1) either way, so that a request costs the list two
 * pointer moves whatever the number of connections.
 */
void
worker_conn_idle(struct worker *w, struct worker_entry *e, int idle)
{
	if (e->idle)
		TAILQ_REMOVE(&w->idle, e, idle_link);
	if (idle)
		TAILQ_INSERT_TAIL(&w->idle, e, idle_link);
	e->idle = idle;
}

/* An exchange begins: a mirror in flight. */
void
worker_exchange_add(struct worker *w, struct worker_entry *e,
    struct exchange *ex, void (*end)(void *))
{
	e->owner = ex;
	e->end = end;
	TAILQ_INSERT_TAIL(&w->exchanges, e, link);
	w->mirror->inflight++;
}

/*
 * An exchange ends; its JOB (unless NULL) waits, with the others
 * finished in this loop turn, for worker_handoff_cb. Handing over in
 * batches costs one lock and at most one wake-up of a diff thread per
 * turn, not per exchange: that wake-up, not the diff, was most of the
 * cost.
 */
void
worker_exchange_remove(struct worker *w, struct worker_entry *e,
    struct diff_job *job)
{
	TAILQ_REMOVE(&w->exchanges, e, link);
	if (job == NULL) {
		w->mirror->inflight--;
		worker_check_drained(w);
		return;
	}
	job->next = NULL;
	if (w->finished == NULL)
		event_active(w->ev_handoff, EV_TIMEOUT, 0);
	*w->finished_tail = job;
	w->finished_tail = &job->next;
}

/* Takes up to MAX finished jobs into BATCH; returns how many. */
static size_t
worker_finished_take(struct worker *w, struct diff_job **batch, size_t max)
{
	size_t	 n;

	for (n = 0; n < max && w->finished != NULL; n++) {
		batch[n] = w->finished;
		w->finished = batch[n]->next;
		batch[n]->next = NULL;
		w->mirror->inflight--;
	}
	if (w->finished == NULL)
		w->finished_tail = &w->finished;
	return (n);
}

/*
 * The jobs finished in this loop turn go to the diff threads; those
 * that don't fit are dropped and counted.
 */
static void
worker_handoff_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;
	struct diff_job	*batch[64];
	size_t		 n, i, taken;

	while ((n = worker_finished_take(w, batch, nitems(batch))) > 0) {
		taken = w->differ != NULL ? differ_submit(w->differ, batch, n) :
		    0;
		for (i = taken; i < n; i++)
			diff_job_free(batch[i]);
	}
	worker_check_drained(w);
}

/* A reload: the newest setup the main thread handed over. */
static void
worker_reload_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker		*w = arg;
	struct worker_setup	*setup;

	if ((setup = atomic_exchange(&w->next, NULL)) != NULL)
		worker_apply(w, setup);
}

/* Hands the worker a new setup, from the main thread. */
void
worker_reload(struct worker *w, struct worker_setup *setup)
{
	/* One the worker has not taken yet is replaced: never seen, freed. */
	worker_setup_free(atomic_exchange(&w->next, setup));
	event_active(w->ev_reload, EV_TIMEOUT, 0);
}

/* Stops accepting; idle connections close, busy ones after their response. */
static void
worker_drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker		*w = arg;
	struct worker_entry	*e, *next;
	size_t			 i;

	w->draining = 1;
	for (i = 0; i < w->nlisteners; i++)
		evconnlistener_free(w->listeners[i].l);
	w->nlisteners = 0;
	evtimer_del(w->ev_accept);
	upstream_pool_close_idle(w->primary);
	if (w->shadow != NULL)
		upstream_pool_close_idle(w->shadow);
	for (e = TAILQ_FIRST(&w->conns); e != NULL; e = next) {
		next = TAILQ_NEXT(e, link);
		conn_drain(e->owner);
	}
	worker_check_drained(w);
}

/*
 * The drain timeout ran out: stop now. Every mirror still here ends in
 * a counter before the loop does (the exit summary is taken then): the
 * clients' close, the exchanges still waiting for the shadow end as
 * dropped at shutdown, and the jobs finished meanwhile still go to the
 * diff threads, which compare what they were given before they stop.
 */
static void
worker_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker		*w = arg;
	struct worker_entry	*e;

	w->stopping = 1;
	while ((e = TAILQ_FIRST(&w->conns)) != NULL)
		conn_close(e->owner, "shutting down");
	while ((e = TAILQ_FIRST(&w->exchanges)) != NULL)
		e->end(e->owner);
	worker_handoff_cb(-1, 0, w);
	event_base_loopbreak(w->base);
}

static void *
worker_main(void *arg)
{
	struct worker	*w = arg;

	event_base_dispatch(w->base);
	atomic_fetch_sub(&worker_running, 1);
	return (NULL);
}

/* Starts the worker's thread. */
int
worker_start(struct worker *w)
{
	int	 error;

	atomic_fetch_add(&worker_running, 1);
	if ((error = pthread_create(&w->thread, NULL, worker_main, w)) != 0) {
		atomic_fetch_sub(&worker_running, 1);
		errno = error;
		return (-1);
	}
	return (0);
}

/* Asks the worker, from another thread, to drain. */
void
worker_drain(struct worker *w)
{
	event_active(w->ev_drain, EV_TIMEOUT, 0);
}

/* Asks the worker, from another thread, to stop now. */
void
worker_stop(struct worker *w)
{
	event_active(w->ev_stop, EV_TIMEOUT, 0);
}

/* Waits for the worker's thread to end. */
void
worker_join(struct worker *w)
{
	pthread_join(w->thread, NULL);
}

/* Frees a worker whose thread has ended, closing what is left. */
void
worker_free(struct worker *w)
{
	struct worker_entry	*e;
	struct diff_job		*job;
	size_t			 i;

	while ((e = TAILQ_FIRST(&w->conns)) != NULL)
		conn_close(e->owner, "shutting down");
	while ((e = TAILQ_FIRST(&w->exchanges)) != NULL)
		e->end(e->owner);
	while (worker_finished_take(w, &job, 1) == 1)
		diff_job_free(job);
	for (i = 0; i < w->nlisteners; i++)
		evconnlistener_free(w->listeners[i].l);
	free(w->listeners);
	upstream_pool_free(w->primary);
	upstream_pool_free(w->shadow);
	event_free(w->ev_drain);
	event_free(w->ev_stop);
	event_free(w->ev_accept);
	event_free(w->ev_handoff);
	event_free(w->ev_reload);
	worker_setup_free(atomic_exchange(&w->next, NULL));
	event_base_free(w->base);
	config_unref(w->cfg);
	free(w->routes);
	free(w->mirror);
	free(w);
}
