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

#include "shadowdiff/config.h"
#include "shadowdiff/diff.h"
#include "shadowdiff/diff_job.h"
#include "shadowdiff/differ.h"
#include "shadowdiff/divlog.h"
#include "shadowdiff/log.h"
#include "shadowdiff/record.h"
#include "shadowdiff/stats.h"
#include "shadowdiff/util.h"

struct differ {
	struct divlog		*log;
	pthread_t		*threads;	/* started, not joined */
	int			*ended;		/* [nthreads]: to be joined */
	size_t			 nthreads;
	size_t			 running;	/* of those, not ended */
	size_t			 want;		/* [diff] threads */

	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	struct diff_job		**ring;
	size_t			 max;		/* queued at most */
	size_t			 cap;		/* ring slots, >= max */
	size_t			 max_bytes;
	size_t			 head;
	size_t			 len;
	size_t			 bytes;
	int			 stopping;

	_Atomic uint64_t	 compared;
	_Atomic uint64_t	 verdicts[RECORD_VERDICTS];
	_Atomic uint64_t	 dropped;
	_Atomic uint64_t	 rule_errors;

	/* By route (stats.h ids), and forgiven differences by rule. */
	struct differ_route {
		_Atomic uint64_t verdicts[RECORD_VERDICTS];
		_Atomic uint64_t kinds[DIFF_KINDS];
	}			 routes[STATS_ROUTES_MAX];
	pthread_mutex_t		 flock;
	struct differ_rule {
		char		*rule;
		uint64_t	 count;
	}			*forgiven;
	size_t			 nforgiven;
};

#define DIFFER_RULES_MAX	256	/* rule names counted apart */

/* Counts what one comparison found, by route and by rule. */
static void
differ_tally(struct differ *d, size_t route, enum record_verdict v,
    const struct diff_result *res)
{
	struct differ_route	*r = &d->routes[route];
	const char		*rule;
	size_t			 i, j, k, count;

	atomic_fetch_add_explicit(&d->verdicts[v], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->verdicts[v], 1, memory_order_relaxed);
	if (res == NULL)
		return;
	if ((count = diff_result_rule_errors(res)) > 0)
		atomic_fetch_add_explicit(&d->rule_errors, count,
		    memory_order_relaxed);
	for (k = 0; k < DIFF_KINDS; k++)
		if ((count = diff_result_kind_count(res, k)) > 0)
			atomic_fetch_add_explicit(&r->kinds[k], count,
			    memory_order_relaxed);
	if (diff_result_nforgiven(res) == 0)
		return;
	pthread_mutex_lock(&d->flock);
	for (i = 0; i < diff_result_nforgiven(res); i++) {
		rule = diff_result_forgiven(res, i, &count);
		for (j = 0; j < d->nforgiven; j++)
			if (strcmp(d->forgiven[j].rule, rule) == 0)
				break;
		if (j == d->nforgiven) {
			/* The last slot takes the names past the bound. */
			if (j == DIFFER_RULES_MAX)
				j--;
			else {
				d->forgiven = xreallocarray(d->forgiven, j + 1,
				    sizeof(*d->forgiven));
				d->forgiven[j].rule = xstrdup(
				    j == DIFFER_RULES_MAX - 1 ? "(other)" :
				    rule);
				d->forgiven[j].count = 0;
				d->nforgiven++;
			}
		}
		d->forgiven[j].count += count;
	}
	pthread_mutex_unlock(&d->flock);
}

/* A capture as the diff engine takes it. */
static void
differ_response(const struct diff_capture *c, struct diff_response *r)
{
	memset(r, 0, sizeof(*r));
	r->status = c->status;
	r->headers = c->hdrs;
	r->nheaders = c->nhdrs;
	r->body = c->body;
	r->body_len = c->len;
	r->body_truncated = c->bytes > c->len;
}

/*
 * Compares the job's primary and shadow with the thread's scratch; the
 * result goes to *RESP (NULL after a shadow error), for the caller to
 * count and free.
 */
static enum record_verdict
differ_compare(const struct diff_job *job, struct diff_scratch *scratch,
    struct diff_result **resp)
{
	const struct config		*cfg = job->cfg;
	const struct diff_capture	*p = &job->legs[DIFF_LEG_PRIMARY];
	const struct diff_capture	*s = &job->legs[DIFF_LEG_SHADOW];
	struct diff_response		 pr, sr;
	struct diff_result		*res;
	char				 pd[RECORD_DIGEST_LEN];
	char				 sd[RECORD_DIGEST_LEN];

	*resp = NULL;
	if (job->shadow_error != SHADOW_ERROR_NONE)
		return (RECORD_SHADOW_ERROR);
	differ_response(p, &pr);
	differ_response(s, &sr);
	if (pr.body_truncated && sr.body_truncated && p->bytes == s->bytes &&
	    memcmp(p->digest, s->digest, DIFF_JOB_SHA256_LEN) == 0) {
		/* The same bytes, the digests say: compare no more. */
		pr.body_len = sr.body_len = 0;
		pr.body_truncated = sr.body_truncated = 0;
	}
	res = diff_compare_scratch(scratch, job->rules, &pr, &sr,
	    cfg->diff_max_body);
	if (pr.body_truncated && sr.body_truncated) {
		record_digest(p->digest, pd);
		record_digest(s->digest, sd);
		diff_result_add_body(res, pd, sd);
	}
	diff_result_redact(res, record_redact(job));
	*resp = res;
	return (diff_result_differs(res) ? RECORD_MISMATCH : RECORD_MATCH);
}

#define DIFFER_BATCH	64	/* jobs taken at once */

/*
 * A diff thread: takes what is queued (up to a batch) at once, compares
 * with the lock released, and hands the records to the writer in one
 * go: a lock and a wake-up per batch, not per job.
 */
static void *
differ_main(void *arg)
{
	struct differ		*d = arg;
	struct diff_job		*batch[DIFFER_BATCH];
	char			*lines[DIFFER_BATCH];
	struct diff_result	*res;
	struct diff_scratch	*scratch;
	enum record_verdict	 v;
	size_t			 n, i, nlines, size;

	/* The parse buffers, kept between comparisons (diff.h says why). */
	scratch = diff_scratch_new();
	pthread_mutex_lock(&d->lock);
	for (;;) {
		while (d->len == 0 && !d->stopping && d->running <= d->want)
			pthread_cond_wait(&d->cond, &d->lock);
		/* Fewer threads wanted (a reload): one idle thread ends. */
		if (d->len == 0 || d->running > d->want)
			break;
		for (n = 0; n < DIFFER_BATCH && d->len > 0; n++) {
			batch[n] = d->ring[d->head];
			d->head = (d->head + 1) % d->cap;
			d->len--;
		}
		pthread_mutex_unlock(&d->lock);

		size = 0;
		for (i = nlines = 0; i < n; i++) {
			size += diff_job_size(batch[i]);
			v = differ_compare(batch[i], scratch, &res);
			lines[nlines] = record_job(batch[i], v, res);
			if (lines[nlines] != NULL)
				nlines++;
			differ_tally(d, batch[i]->route_id, v, res);
			diff_result_free(res);
			diff_job_free(batch[i]);
		}
		atomic_fetch_add_explicit(&d->compared, n,
		    memory_order_relaxed);
		if (d->log != NULL)
			divlog_submit_many(d->log, lines, nlines);
		else
			for (i = 0; i < nlines; i++)
				free(lines[i]);

		pthread_mutex_lock(&d->lock);
		/* The bytes are counted until the jobs are freed. */
		d->bytes -= size;
	}
	d->running--;
	/* A surplus thread is joined at the next reload (differ_spawn). */
	for (i = 0; i < d->nthreads; i++)
		if (pthread_equal(d->threads[i], pthread_self()))
			d->ended[i] = 1;
	/* What a wake-up meant for this thread goes to another. */
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
	diff_scratch_free(scratch);
	return (NULL);
}

/*
 * Joins the threads that ended (fewer were wanted), then starts threads
 * until WANT run; the caller holds the lock, which an ended thread no
 * longer takes.
 */
static void
differ_spawn(struct differ *d)
{
	size_t	 i;
	int	 error;

	for (i = 0; i < d->nthreads; ) {
		if (!d->ended[i]) {
			i++;
			continue;
		}
		pthread_join(d->threads[i], NULL);
		d->threads[i] = d->threads[--d->nthreads];
		d->ended[i] = d->ended[d->nthreads];
	}
	while (d->running < d->want) {
		d->threads = xreallocarray(d->threads, d->nthreads + 1,
		    sizeof(*d->threads));
		d->ended = xreallocarray(d->ended, d->nthreads + 1,
		    sizeof(*d->ended));
		d->ended[d->nthreads] = 0;
		if ((error = pthread_create(&d->threads[d->nthreads], NULL,
		    differ_main, d)) != 0)
			fatalx("diff thread: pthread_create: %s",
			    strerror(error));
		d->nthreads++;
		d->running++;
	}
}

/* Starts THREADS threads over a queue of MAX jobs, MAX_BYTES bytes. */
struct differ *
differ_new(size_t threads, size_t max, size_t max_bytes, struct divlog *log)
{
	struct differ	*d;

	d = xcalloc(1, sizeof(*d));
	d->log = log;
	d->max = d->cap = max == 0 ? 1 : max;
	d->max_bytes = max_bytes;
	d->ring = xcalloc(d->cap, sizeof(*d->ring));
	pthread_mutex_init(&d->lock, NULL);
	pthread_mutex_init(&d->flock, NULL);
	pthread_cond_init(&d->cond, NULL);
	pthread_mutex_lock(&d->lock);
	d->want = threads;
	differ_spawn(d);
	pthread_mutex_unlock(&d->lock);
	return (d);
}

/*
 * New settings from a reload: THREADS threads (the surplus ones end once
 * idle), a queue of MAX jobs and MAX_BYTES bytes. What is queued
 * stays queued, even above a smaller bound.
 */
void
differ_configure(struct differ *d, size_t threads, size_t max,
    size_t max_bytes)
{
	pthread_mutex_lock(&d->lock);
	d->max = max == 0 ? 1 : max;
	d->ring = util_ring_reserve(d->ring, sizeof(*d->ring), &d->cap,
	    &d->head, d->len, d->max);
	d->max_bytes = max_bytes;
	d->want = threads;
	differ_spawn(d);
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

/*
 * Queues the N jobs of BATCH, in order, while the queue has room by
 * count and by bytes; returns how many it took. One lock and at most one
 * wake-up for the whole batch.
 */
size_t
differ_submit(struct differ *d, struct diff_job **batch, size_t n)
{
	size_t	 i, size;

	pthread_mutex_lock(&d->lock);
	for (i = 0; i < n && !d->stopping && d->len < d->max; i++) {
		size = diff_job_size(batch[i]);
		/* One job larger than the bound still passes alone. */
		if (d->bytes > 0 && d->bytes + size > d->max_bytes)
			break;
		d->ring[(d->head + d->len) % d->cap] = batch[i];
		d->len++;
		d->bytes += size;
	}
	if (i > 0)
		pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
	if (i < n)
		atomic_fetch_add_explicit(&d->dropped, n - i,
		    memory_order_relaxed);
	return (i);
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
	pthread_mutex_destroy(&d->flock);
	pthread_cond_destroy(&d->cond);
	for (i = 0; i < d->nforgiven; i++)
		free(d->forgiven[i].rule);
	free(d->forgiven);
	free(d->threads);
	free(d->ended);
	free(d->ring);
	free(d);
}

/* The counters, from any thread. */
void
differ_counts(struct differ *d, struct differ_counts *c)
{
	c->compared = atomic_load(&d->compared);
	c->matches = atomic_load(&d->verdicts[RECORD_MATCH]);
	c->mismatches = atomic_load(&d->verdicts[RECORD_MISMATCH]);
	c->shadow_errors = atomic_load(&d->verdicts[RECORD_SHADOW_ERROR]);
	c->dropped = atomic_load(&d->dropped);
	c->rule_errors = atomic_load(&d->rule_errors);
	pthread_mutex_lock(&d->lock);
	c->depth = d->len;
	c->bytes = d->bytes;
	pthread_mutex_unlock(&d->lock);
}

/* The counts of route ROUTE (stats.h), from any thread. */
void
differ_route_counts(struct differ *d, size_t route,
    struct differ_route_counts *c)
{
	size_t	 i;

	for (i = 0; i < RECORD_VERDICTS; i++)
		c->verdicts[i] = atomic_load_explicit(
		    &d->routes[route].verdicts[i], memory_order_relaxed);
	for (i = 0; i < DIFF_KINDS; i++)
		c->kinds[i] = atomic_load_explicit(&d->routes[route].kinds[i],
		    memory_order_relaxed);
}

/* Calls FN with each rule that forgave differences and how many. */
void
differ_forgiven(struct differ *d, void (*fn)(void *, const char *, uint64_t),
    void *arg)
{
	size_t	 i;

	pthread_mutex_lock(&d->flock);
	for (i = 0; i < d->nforgiven; i++)
		fn(arg, d->forgiven[i].rule, d->forgiven[i].count);
	pthread_mutex_unlock(&d->flock);
}
