/*
 * differ: the diff threads and their bounded queue. Workers hand over
 * finished exchanges; a diff thread compares each (exchange_compare)
 * and frees it. The queue is bounded by count and by the bytes the
 * exchanges hold: when full, differ_submit refuses at once and the
 * caller drops the exchange and counts it. Never run on a thread that
 * serves clients.
 */
#ifndef SHADOWDIFF_DIFFER_H
#define SHADOWDIFF_DIFFER_H

#include <stddef.h>
#include <stdint.h>

#include "shadowdiff/diff.h"

/* How many verdicts an exchange can get (enum exchange_verdict). */
#define DIFFER_VERDICTS	3

struct divlog;
struct exchange;
struct differ;

struct differ_counts {
	uint64_t	compared;	/* exchanges done by the threads */
	uint64_t	matches;
	uint64_t	mismatches;
	uint64_t	shadow_errors;
	uint64_t	dropped;	/* refused: queue full */
	size_t		depth;		/* waiting now */
	size_t		bytes;		/* held by those waiting */
};

/* THREADS threads; at most MAX exchanges and MAX_BYTES bytes waiting. */
struct differ	*differ_new(size_t, size_t, size_t, struct divlog *);
/*
 * New settings from a reload, as for differ_new: surplus threads end
 * once idle, and what is queued stays queued.
 */
void		 differ_configure(struct differ *, size_t, size_t, size_t);
/*
 * Queues a batch of exchanges in order while there is room; returns how
 * many it took. Those past it are still the caller's.
 */
size_t		 differ_submit(struct differ *, struct exchange **, size_t);
/*
 * Compares what is queued, stops the threads, frees everything; the
 * final counts go to the second argument unless it is NULL.
 */
void		 differ_free(struct differ *, struct differ_counts *);
void		 differ_counts(struct differ *, struct differ_counts *);

/* A route's comparisons by verdict, and differences by kind. */
struct differ_route_counts {
	uint64_t	verdicts[DIFFER_VERDICTS];	/* enum exchange_verdict */
	uint64_t	kinds[DIFF_KINDS];	/* status, header, body */
};

/* The counts of a route (a stats.h id), from any thread. */
void		 differ_route_counts(struct differ *, size_t,
		    struct differ_route_counts *);
/* Calls the function with each rule that forgave, and its count. */
void		 differ_forgiven(struct differ *,
		    void (*)(void *, const char *, uint64_t), void *);

#endif
