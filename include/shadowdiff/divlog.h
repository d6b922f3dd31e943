/*
 * divlog: the divergence log's writer. Records (one JSON object each)
 * are handed over through a bounded queue to one writer thread, which
 * writes what is queued with a single writev(2) of whole lines, newlines
 * included, so that a reader never sees half a line. A record that does not fit in the
 * queue is dropped and counted; one that cannot be written (disk full,
 * file removed) is counted as lost and the file is opened again before
 * the next record. divlog_reopen() (SIGUSR1, for logrotate) reopens the
 * file between two records: none is lost.
 * Records are made by record.c.
 */
#ifndef SHADOWDIFF_DIVLOG_H
#define SHADOWDIFF_DIVLOG_H

#include <stddef.h>
#include <stdint.h>

struct divlog;

struct divlog_counts {
	uint64_t	written;	/* records written whole */
	uint64_t	dropped;	/* the queue was full */
	uint64_t	lost;		/* the write failed */
	uint64_t	reopens;	/* the file was opened again */
};

/*
 * Opens PATH ("-": standard output) for appending and starts the writer
 * with a queue of at most QUEUE_MAX records and QUEUE_BYTES bytes (one
 * record larger than that passes an empty queue). NULL with *cause on
 * error.
 */
struct divlog	*divlog_open(const char *, size_t, size_t, char **);
/*
 * Queues LINE (allocated, without its newline; divlog frees it). Never
 * blocks on the file: 0 if queued, -1 if dropped because the queue is
 * full.
 */
int		 divlog_submit(struct divlog *, char *);
/* Queues N lines in order while there is room; returns how many. */
size_t		 divlog_submit_many(struct divlog *, char **, size_t);
/* Asks the writer to open the file again before its next record. */
void		 divlog_reopen(struct divlog *);
/* Whether a path can be opened for the log: 0, or -1 and why. */
int		 divlog_check_path(const char *, char **);
/* A warning for `shadowdiff -t` about a log path that is no file, or NULL. */
const char	*divlog_path_warning(const char *);
/* A reload's path and queue bounds; 1 when the path changed. */
int		 divlog_configure(struct divlog *, const char *, size_t,
		    size_t);
/*
 * Writes what is queued, stops the writer and frees everything; waits
 * that many milliseconds at most for a writer blocked on its file. At
 * exit that is what is left of the drain's deadline, and at least
 * DIVLOG_CLOSE_MIN_MS: shutdown takes drain_timeout plus that at most.
 */
#define DIVLOG_CLOSE_MIN_MS	200
void		 divlog_close(struct divlog *, uint64_t);
/* The counters, from any thread. */
void		 divlog_counts(struct divlog *, struct divlog_counts *);
/* Records waiting in the queue now. */
size_t		 divlog_depth(struct divlog *);

#endif
