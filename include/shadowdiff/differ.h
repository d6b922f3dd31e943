/*
 * differ: the diff threads and their bounded queue. Workers hand over
 * jobs (diff_job.h), plain data; a diff thread compares each with the
 * diff engine, has record.c make its record for the writer (divlog),
 * counts it and frees it (diff_job_free). The queue is bounded by
 * count and by the bytes the jobs hold: when full, differ_submit
 * refuses at once and the caller drops the job and counts it. Never
 * run on a thread that serves clients; never touches a worker, a
 * connection or libevent.
 */
#ifndef SHADOWDIFF_DIFFER_H
#define SHADOWDIFF_DIFFER_H

#include <stddef.h>
#include <stdint.h>

#include "shadowdiff/diff.h"
#include "shadowdiff/record.h"

struct diff_job;
struct divlog;
struct differ;

struct differ_counts {
	uint64_t	compared;	/* jobs done by the threads */
	uint64_t	matches;
	uint64_t	mismatches;
	uint64_t	shadow_errors;
	uint64_t	dropped;	/* refused: queue full */
	uint64_t	rule_errors;	/* rules that hit a bound (diff.h) */
	size_t		depth;		/* waiting now */
	size_t		bytes;		/* held by those waiting */
};

/* THREADS threads; at most MAX jobs and MAX_BYTES bytes waiting. */
struct differ	*differ_new(size_t, size_t, size_t, struct divlog *);
/*
 * New settings from a reload, as for differ_new: surplus threads end
 * once idle, and what is queued stays queued.
 */
void		 differ_configure(struct differ *, size_t, size_t, size_t);
/*
 * Queues a batch of jobs in order while there is room; returns how
 * many it took. Those past it are still the caller's.
 */
size_t		 differ_submit(struct differ *, struct diff_job **, size_t);
/*
 * Compares what is queued, stops the threads, frees everything; the
 * final counts go to the second argument unless it is NULL.
 */
void		 differ_free(struct differ *, struct differ_counts *);
void		 differ_counts(struct differ *, struct differ_counts *);

/* A route's comparisons by verdict, and differences by kind. */
struct differ_route_counts {
	uint64_t	verdicts[RECORD_VERDICTS];	/* enum record_verdict */
	uint64_t	kinds[DIFF_KINDS];	/* status, header, body */
};

/* The counts of a route (a stats.h id), from any thread. */
void		 differ_route_counts(struct differ *, size_t,
		    struct differ_route_counts *);
/* Calls the function with each rule that forgave, and its count. */
void		 differ_forgiven(struct differ *,
		    void (*)(void *, const char *, uint64_t), void *);

#endif
