/*
 * The diff threads. The queue is a ring of pointers under one mutex; a
 * worker holds the lock only to store a pointer (or to find the queue
 * full), never while anything is compared or written.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "shadowdiff/differ.h"
#include "shadowdiff/exchange.h"
#include "shadowdiff/log.h"
#include "shadowdiff/util.h"

struct differ {
	struct divlog		*log;
	pthread_t		*threads;
	size_t			 nthreads;

	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	struct exchange		**ring;
	size_t			 max;
	size_t			 max_bytes;
	size_t			 head;
	size_t			 len;
	size_t			 bytes;
	int			 stopping;

	_Atomic uint64_t	 compared;
	_Atomic uint64_t	 verdicts[3];
	_Atomic uint64_t	 dropped;
};

/* A diff thread: one exchange at a time, the lock released meanwhile. */
static void *
differ_main(void *arg)
{
	struct differ		*d = arg;
	struct exchange		*ex;
	enum exchange_verdict	 v;
	size_t			 size;

	pthread_mutex_lock(&d->lock);
	for (;;) {
		while (d->len == 0 && !d->stopping)
			pthread_cond_wait(&d->cond, &d->lock);
		if (d->len == 0)
			break;
		ex = d->ring[d->head];
		d->head = (d->head + 1) % d->max;
		d->len--;
		pthread_mutex_unlock(&d->lock);

		size = exchange_size(ex);
		v = exchange_compare(ex, d->log);
		exchange_free(ex);
		atomic_fetch_add_explicit(&d->verdicts[v], 1,
		    memory_order_relaxed);
		atomic_fetch_add_explicit(&d->compared, 1,
		    memory_order_relaxed);

		pthread_mutex_lock(&d->lock);
		/* The bytes are counted until the exchange is freed. */
		d->bytes -= size;
	}
	pthread_mutex_unlock(&d->lock);
	return (NULL);
}

/* Starts THREADS threads over a queue of MAX exchanges, MAX_BYTES bytes. */
struct differ *
differ_new(size_t threads, size_t max, size_t max_bytes, struct divlog *log)
{
	struct differ	*d;
	size_t		 i;
	int		 error;

	d = xcalloc(1, sizeof(*d));
	d->log = log;
	d->max = max == 0 ? 1 : max;
	d->max_bytes = max_bytes;
	d->ring = xcalloc(d->max, sizeof(*d->ring));
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	d->threads = xcalloc(threads, sizeof(*d->threads));
	for (i = 0; i < threads; i++) {
		if ((error = pthread_create(&d->threads[i], NULL, differ_main,
		    d)) != 0)
			fatalx("diff thread: pthread_create: %s",
			    strerror(error));
		d->nthreads++;
	}
	return (d);
}

/* Queues EX unless the queue is full by count or by bytes. */
int
differ_submit(struct differ *d, struct exchange *ex)
{
	size_t	 size = exchange_size(ex);

	pthread_mutex_lock(&d->lock);
	if (d->len == d->max || d->stopping ||
	    (d->bytes > 0 && d->bytes + size > d->max_bytes)) {
		pthread_mutex_unlock(&d->lock);
		atomic_fetch_add_explicit(&d->dropped, 1, memory_order_relaxed);
		return (-1);
	}
	d->ring[(d->head + d->len) % d->max] = ex;
	d->len++;
	d->bytes += size;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
	return (0);
}

/*
 * Compares what is queued, stops the threads and frees everything,
 * giving the final counts in *C (unless NULL).
 */
void
differ_free(struct differ *d, struct differ_counts *c)
{
	size_t	 i;

	if (d == NULL)
		return;
	pthread_mutex_lock(&d->lock);
	d->stopping = 1;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	for (i = 0; i < d->nthreads; i++)
		pthread_join(d->threads[i], NULL);
	if (c != NULL)
		differ_counts(d, c);
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->cond);
	free(d->threads);
	free(d->ring);
	free(d);
}

/* The counters, from any thread. */
void
differ_counts(struct differ *d, struct differ_counts *c)
{
	c->compared = atomic_load(&d->compared);
	c->matches = atomic_load(&d->verdicts[EXCHANGE_MATCH]);
	c->mismatches = atomic_load(&d->verdicts[EXCHANGE_MISMATCH]);
	c->shadow_errors = atomic_load(&d->verdicts[EXCHANGE_SHADOW_ERROR]);
	c->dropped = atomic_load(&d->dropped);
	pthread_mutex_lock(&d->lock);
	c->depth = d->len;
	c->bytes = d->bytes;
	pthread_mutex_unlock(&d->lock);
}
