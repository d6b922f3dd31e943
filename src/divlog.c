/*
 * The divergence log's writer thread.
 *
 * The queue is a ring of QUEUE_MAX pointers under one mutex: the
 * producers are the diff threads, never a thread that serves clients,
 * and a producer holds the lock only to store pointers. The writer takes
 * what is queued (DIVLOG_BATCH records at most) and writes it with one
 * writev(2), the lock released: under load a batch costs one system
 * call and one wake-up, not one per record.
 *
 * A write to a regular file can be short (disk full). Then the bytes
 * that did go in are cut off again (ftruncate to the size before), so
 * the file keeps whole lines only; the batch's records are counted as
 * lost, the file is closed, and it is opened again before the next
 * batch: a removed or unwritable file heals by itself when it can. A
 * file removed while open (its last link gone, as fstat(2) tells before
 * each batch) is created anew at once: records written into the removed
 * inode would be lost without a trace. Losses are warned of at once,
 * then at most every DIVLOG_WARN_MS with the count lost meanwhile.
 *
 * The main thread never blocks on the log: the file is opened with
 * O_NONBLOCK, so a FIFO with no reader yet fails with ENXIO instead of
 * blocking open(2). The writer then keeps the records queued (those
 * that do not fit are dropped and counted, as for a writer blocked on
 * its file) and tries again every DIVLOG_RETRY_MS until a reader comes.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shadowdiff/divlog.h"
#include "shadowdiff/log.h"
#include "shadowdiff/util.h"

struct divlog {
	char			*path;		/* NULL: standard output */
	char			*conf_path;	/* as configured ("-") */
	char			*next_path;	/* from a reload, or NULL */
	int			 fd;		/* -1 while it must be opened */
	int			 is_file;	/* a regular file: can truncate */
	int			 no_reader;	/* a FIFO nobody reads yet */
	uint64_t		 retry_ms;	/* when to open it again */
	uint64_t		 warned_ms;	/* the last loss warning */
	uint64_t		 unwarned;	/* lost since that warning */

	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	pthread_t		 thread;
	char			**ring;		/* QUEUE_MAX records */
	size_t			 max;		/* queued at most */
	size_t			 cap;		/* ring slots, >= max */
	size_t			 max_bytes;
	size_t			 head;		/* next to write */
	size_t			 len;		/* queued */
	size_t			 bytes;		/* queued records' bytes */
	size_t			 writing;	/* records being written */
	int			 done;		/* the writer has ended */
	int			 abandoned;	/* it frees D when it ends */
	int			 stopping;
	int			 reopen;	/* asked for by divlog_reopen */

	_Atomic uint64_t	 written;
	_Atomic uint64_t	 dropped;
	_Atomic uint64_t	 lost;
	_Atomic uint64_t	 reopens;
};

#define DIVLOG_RETRY_MS	250	/* a FIFO with no reader: try again */
#define DIVLOG_WARN_MS	10000	/* loss warnings: one in this long */

/*
 * Opens PATH for appending without blocking: a FIFO with no reader
 * fails with ENXIO rather than waiting for one. The descriptor, its
 * writes blocking again, or -1 with errno.
 */
static int
divlog_open_path(const char *path)
{
	int	 fd, fl;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NONBLOCK, 0640);
	if (fd == -1)
		return (-1);
	/*
	 * Writes block again: a non-blocking write to a full pipe could
	 * put half a line in it.
	 */
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

/* Opens the file for appending; 0, or -1 with errno. */
static int
divlog_open_fd(struct divlog *d)
{
	struct stat	 st;
	int		 waited = d->no_reader;

	if (d->path == NULL) {
		d->fd = STDOUT_FILENO;
		d->is_file = fstat(d->fd, &st) == 0 && S_ISREG(st.st_mode);
		return (0);
	}
	d->fd = divlog_open_path(d->path);
	/* ENXIO: a FIFO with no reader; say so when it starts and ends. */
	d->no_reader = d->fd == -1 && errno == ENXIO;
	d->retry_ms = util_now_ms() + DIVLOG_RETRY_MS;
	if (d->no_reader && !waited)
		log_warnx("divergence log %s: a FIFO with no reader: records "
		    "wait in the queue (dropped when it is full) until one "
		    "opens it", d->path);
	if (d->fd == -1) {
		if (d->no_reader)
			errno = ENXIO;
		return (-1);
	}
	if (waited)
		log_info("divergence log %s: a reader opened the FIFO",
		    d->path);
	d->is_file = fstat(d->fd, &st) == 0 && S_ISREG(st.st_mode);
	return (0);
}

/* Closes the file (never standard output). */
static void
divlog_close_fd(struct divlog *d)
{
	if (d->fd != -1 && d->path != NULL)
		close(d->fd);
	d->fd = -1;
}

#define DIVLOG_BATCH	256	/* records per writev(2), at most */

/*
 * Writes the N lines of IOV (newlines included) with one writev(2): a
 * reader sees whole lines only. 0, or -1 when they could not all be
 * written, after cutting off what did go in (a regular file), so that
 * the file keeps whole lines only. To a pipe or a terminal a short
 * write is finished rather than cut. *WP: the bytes the failed writev(2)
 * took, or -1 with errno.
 */
static int
divlog_write(struct divlog *d, struct iovec *iov, int n, ssize_t *wp)
{
	struct stat	 st;
	off_t		 before = -1;
	size_t		 total = 0, done;
	ssize_t		 w;
	int		 i;

	for (i = 0; i < n; i++)
		total += iov[i].iov_len;
	if (d->is_file && fstat(d->fd, &st) == 0)
		before = st.st_size;
	*wp = w = writev(d->fd, iov, n);
	if (w == (ssize_t)total)
		return (0);
	if (w > 0 && !d->is_file) {
		/* Skip what went out, write the rest, until all is out. */
		for (done = (size_t)w, i = 0;; done = (size_t)w) {
			while (i < n && done >= iov[i].iov_len)
				done -= iov[i++].iov_len;
			if (i == n)
				return (0);
			iov[i].iov_base = (char *)iov[i].iov_base + done;
			iov[i].iov_len -= done;
			if ((*wp = w = writev(d->fd, iov + i, n - i)) <= 0)
				return (-1);
		}
	}
	if (w > 0 && before != -1 && ftruncate(d->fd, before) == -1)
		log_warn("divergence log %s: cannot cut a partial line",
		    d->path);
	return (-1);
}

/*
 * Counts N records as lost because of WHAT (the system call's reason, or
 * what happened); warns at once, then at most every DIVLOG_WARN_MS with
 * the count lost since the last warning.
 */
static void
divlog_lose(struct divlog *d, uint64_t n, const char *what)
{
	uint64_t	 now = util_now_ms();

	atomic_fetch_add(&d->lost, n);
	d->unwarned += n;
	if (d->warned_ms != 0 && now - d->warned_ms < DIVLOG_WARN_MS)
		return;
	log_warnx("divergence log %s: %s: %llu records lost since the last "
	    "warning, %llu in all (warned every %ds at most)",
	    d->path != NULL ? d->path : "stdout", what,
	    (unsigned long long)d->unwarned,
	    (unsigned long long)atomic_load(&d->lost), DIVLOG_WARN_MS / 1000);
	d->warned_ms = now;
	d->unwarned = 0;
}

/*
 * Creates the file anew if it was removed while open (its last link
 * gone): what went into the removed inode would be lost unseen. One
 * fstat(2) per batch.
 */
static void
divlog_heal_removed(struct divlog *d)
{
	struct stat	 st;

	if (d->fd == -1 || d->path == NULL || !d->is_file ||
	    fstat(d->fd, &st) == -1 || st.st_nlink > 0)
		return;
	log_warnx("divergence log %s: the file was removed: created anew",
	    d->path);
	divlog_close_fd(d);
	atomic_fetch_add(&d->reopens, 1);
	/* If that fails, divlog_records counts the batch as lost. */
	(void)divlog_open_fd(d);
}

/* Into *TS: MS milliseconds from now, for pthread_cond_timedwait. */
static void
divlog_deadline(uint64_t ms, struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

/*
 * With the lock held: whether the writer must wait for a FIFO's reader
 * before it writes; then it has waited up to DIVLOG_RETRY_MS, or tried
 * to open the FIFO again in vain, and the caller looks again. The
 * records stay queued meanwhile. Stopping, nothing waits: what cannot
 * be written is counted as lost.
 */
static int
divlog_await_reader(struct divlog *d)
{
	struct timespec	 ts;
	uint64_t	 now;
	int		 rc;

	/* A reload's new path: the FIFO is left behind. */
	if (d->next_path != NULL)
		d->no_reader = 0;
	if (!d->no_reader || d->stopping)
		return (0);
	/* Reopening a file that is not open: the next try does it. */
	d->reopen = 0;
	if ((now = util_now_ms()) < d->retry_ms) {
		divlog_deadline(d->retry_ms - now, &ts);
		pthread_cond_timedwait(&d->cond, &d->lock, &ts);
		return (1);
	}
	pthread_mutex_unlock(&d->lock);
	rc = divlog_open_fd(d);
	pthread_mutex_lock(&d->lock);
	/* Another error than no reader: divlog_records counts the loss. */
	return (rc == -1 && d->no_reader);
}

/* Writes N records: opening the file first if needed. */
static void
divlog_records(struct divlog *d, char **lines, int n, int reopen)
{
	struct iovec	 iov[DIVLOG_BATCH];
	char		 what[128];
	size_t		 len, total = 0;
	ssize_t		 w;
	int		 i;

	if (reopen && d->path != NULL) {
		divlog_close_fd(d);
		atomic_fetch_add(&d->reopens, 1);
	}
	if (d->fd == -1 && divlog_open_fd(d) == -1) {
		snprintf(what, sizeof(what), "open: %s", errno == ENXIO ?
		    "no reader on the FIFO" : strerror(errno));
		divlog_lose(d, (uint64_t)n, what);
		return;
	}
	divlog_heal_removed(d);
	if (d->fd == -1) {
		snprintf(what, sizeof(what), "open: %s", strerror(errno));
		divlog_lose(d, (uint64_t)n, what);
		return;
	}
	for (i = 0; i < n; i++) {
		len = strlen(lines[i]);
		lines[i][len] = '\n';	/* the NUL's place: see divlog_submit */
		iov[i].iov_base = lines[i];
		iov[i].iov_len = len + 1;
		total += len + 1;
	}
	if (divlog_write(d, iov, n, &w) == 0) {
		atomic_fetch_add(&d->written, (uint64_t)n);
		return;
	}
	/* Counted; the file is opened again before the next record. */
	if (w >= 0)
		snprintf(what, sizeof(what), "short write (%zd of %zu bytes%s)",
		    w, total, d->is_file ? ", cut off again" : "");
	else
		snprintf(what, sizeof(what), "write: %s", strerror(errno));
	divlog_lose(d, (uint64_t)n, what);
	divlog_close_fd(d);
}

/* Frees D and what it holds; the writer has ended. */
static void
divlog_destroy(struct divlog *d)
{
	divlog_close_fd(d);
	while (d->len > 0) {
		free(d->ring[d->head]);
		d->head = (d->head + 1) % d->cap;
		d->len--;
	}
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->cond);
	free(d->ring);
	free(d->path);
	free(d->conf_path);
	free(d->next_path);
	free(d);
}

/*
 * The writer: takes what is queued (a batch at most) at once and writes
 * it with one writev(2), the lock released meanwhile.
 */
static void *
divlog_main(void *arg)
{
	struct divlog	*d = arg;
	char		*lines[DIVLOG_BATCH];
	size_t		 size;
	int		 reopen, n, i;

	pthread_mutex_lock(&d->lock);
	for (;;) {
		while (d->len == 0 && !d->stopping && !d->reopen)
			pthread_cond_wait(&d->cond, &d->lock);
		if (d->len == 0 && d->stopping)
			break;
		if (divlog_await_reader(d))
			continue;
		reopen = d->reopen;
		d->reopen = 0;
		/* A reload changed the path: the reopen goes there. */
		if (d->next_path != NULL) {
			divlog_close_fd(d);
			free(d->path);
			d->path = strcmp(d->next_path, "-") == 0 ? NULL :
			    xstrdup(d->next_path);
			free(d->next_path);
			d->next_path = NULL;
		}
		if (d->len == 0) {
			/* A reopen with nothing to write: do it now. */
			pthread_mutex_unlock(&d->lock);
			if (d->path != NULL || d->fd == -1) {
				divlog_close_fd(d);
				atomic_fetch_add(&d->reopens, 1);
				if (divlog_open_fd(d) == -1 && !d->no_reader)
					log_warn("divergence log %s: open",
					    d->path);
			}
			pthread_mutex_lock(&d->lock);
			continue;
		}
		for (n = 0, size = 0; n < DIVLOG_BATCH && d->len > 0; n++) {
			lines[n] = d->ring[d->head];
			d->head = (d->head + 1) % d->cap;
			d->len--;
			size += strlen(lines[n]) + 1;
		}
		d->writing = (size_t)n;
		pthread_mutex_unlock(&d->lock);
		divlog_records(d, lines, n, reopen);
		for (i = 0; i < n; i++)
			free(lines[i]);
		pthread_mutex_lock(&d->lock);
		/* Counted until written: the bound covers the batch too. */
		d->bytes -= size;
		d->writing = 0;
	}
	d->done = 1;
	if (d->abandoned) {
		/* divlog_close gave up on us: the last one frees. */
		pthread_mutex_unlock(&d->lock);
		divlog_destroy(d);
		return (NULL);
	}
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	return (NULL);
}

/* Opens PATH ("-": standard output) and starts the writer. */
struct divlog *
divlog_open(const char *path, size_t queue_max, size_t queue_bytes,
    char **cause)
{
	struct divlog	*d;
	int		 error;

	d = xcalloc(1, sizeof(*d));
	d->path = strcmp(path, "-") == 0 ? NULL : xstrdup(path);
	d->conf_path = xstrdup(path);
	d->max = d->cap = queue_max == 0 ? 1 : queue_max;
	d->max_bytes = queue_bytes;
	d->ring = xcalloc(d->cap, sizeof(*d->ring));
	/* A FIFO with no reader yet: the writer waits for one. */
	if (divlog_open_fd(d) == -1 && !d->no_reader) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		free(d->ring);
		free(d->path);
		free(d->conf_path);
		free(d);
		return (NULL);
	}
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	if ((error = pthread_create(&d->thread, NULL, divlog_main, d)) != 0)
		fatalx("divergence log: pthread_create: %s", strerror(error));
	return (d);
}

/*
 * Queues the N lines of LINES in order while there is room; never blocks
 * on the file. Returns how many were queued; the others are freed and
 * counted as dropped. The writer puts the newline in the place of each
 * line's NUL, so any allocated C string will do.
 */
size_t
divlog_submit_many(struct divlog *d, char **lines, size_t n)
{
	size_t	 i, j, size;

	pthread_mutex_lock(&d->lock);
	for (i = 0; i < n && d->len < d->max && !d->stopping; i++) {
		/* Bounded by bytes too: a record can be megabytes. */
		size = strlen(lines[i]) + 1;
		if (d->bytes > 0 && d->bytes + size > d->max_bytes)
			break;
		d->ring[(d->head + d->len) % d->cap] = lines[i];
		d->len++;
		d->bytes += size;
	}
	if (i > 0)
		pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
	for (j = i; j < n; j++)
		free(lines[j]);
	if (i < n)
		atomic_fetch_add(&d->dropped, n - i);
	return (i);
}

/* Queues LINE: 0, or -1 if it was dropped (the queue is full). */
int
divlog_submit(struct divlog *d, char *line)
{
	return (divlog_submit_many(d, &line, 1) == 1 ? 0 : -1);
}

/*
 * Whether PATH ("-": standard output) can be opened for the log: 0, or
 * -1 with *CAUSE. A reload checks a new path before it commits to it.
 */
int
divlog_check_path(const char *path, char **cause)
{
	int	 fd;

	if (strcmp(path, "-") == 0)
		return (0);
	/* ENXIO: a FIFO with no reader yet, which the writer waits for. */
	if ((fd = divlog_open_path(path)) == -1 && errno != ENXIO) {
		*cause = xasprintf("divergence log %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	if (fd != -1)
		close(fd);
	return (0);
}

/*
 * What `shadowdiff -t` says of PATH as the log, or NULL: a FIFO or a
 * device is allowed but behaves unlike a file. Standard output ("-",
 * /dev/stdout, /dev/fd/N) is what it is meant to be.
 */
const char *
divlog_path_warning(const char *path)
{
	struct stat	 st;

	if (strcmp(path, "-") == 0 || strncmp(path, "/dev/std", 8) == 0 ||
	    strncmp(path, "/dev/fd/", 8) == 0 ||
	    strncmp(path, "/proc/self/fd/", 14) == 0 || stat(path, &st) == -1)
		return (NULL);
	if (S_ISFIFO(st.st_mode))
		return ("is a FIFO: until a reader opens it, records wait in "
		    "the queue and are dropped when it is full");
	if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
		return ("is a device, not a file: a full or failing device "
		    "loses records, and SIGUSR1 and removal do not apply");
	return (NULL);
}

/*
 * New settings from a reload: PATH (the writer reopens there before its
 * next record; those queued meanwhile go to the new file), a queue of
 * QUEUE_MAX records and QUEUE_BYTES bytes. 1 when the path changed.
 */
int
divlog_configure(struct divlog *d, const char *path, size_t queue_max,
    size_t queue_bytes)
{
	int	 changed;

	pthread_mutex_lock(&d->lock);
	if ((changed = strcmp(path, d->conf_path) != 0)) {
		free(d->conf_path);
		d->conf_path = xstrdup(path);
		free(d->next_path);
		d->next_path = xstrdup(path);
		d->reopen = 1;
		pthread_cond_signal(&d->cond);
	}
	d->max = queue_max == 0 ? 1 : queue_max;
	d->ring = util_ring_reserve(d->ring, sizeof(*d->ring), &d->cap,
	    &d->head, d->len, d->max);
	d->max_bytes = queue_bytes;
	pthread_mutex_unlock(&d->lock);
	return (changed);
}

/* Asks the writer to open the file again before its next record. */
void
divlog_reopen(struct divlog *d)
{
	pthread_mutex_lock(&d->lock);
	d->reopen = 1;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

/*
 * Writes what is queued, stops the writer and frees everything. A
 * writer blocked on the file (a pipe nobody reads, a hung file system)
 * is waited for WAIT_MS at most: then what it has not written is
 * counted as lost, it is left behind, and the process may exit.
 */
void
divlog_close(struct divlog *d, uint64_t wait_ms)
{
	struct timespec		 deadline;
	struct divlog_counts	 c;
	size_t			 left = 0;
	int			 done;

	if (d == NULL)
		return;
	divlog_deadline(wait_ms, &deadline);
	pthread_mutex_lock(&d->lock);
	d->stopping = 1;
	pthread_cond_signal(&d->cond);
	while (!d->done && pthread_cond_timedwait(&d->cond, &d->lock,
	    &deadline) == 0)
		;
	if (!(done = d->done)) {
		/* Left behind: it frees D if it ever ends. */
		d->abandoned = 1;
		left = d->len + d->writing;
		/* Read while D is surely ours: the summary must add up. */
		divlog_counts(d, &c);
		pthread_detach(d->thread);
	}
	pthread_mutex_unlock(&d->lock);
	if (!done)
		log_warnx("divergence log: the writer is blocked on its file: "
		    "%zu records not written", left);
	else {
		pthread_join(d->thread, NULL);
		divlog_counts(d, &c);
	}
	log_info("divergence log: %llu records written, %llu dropped (queue "
	    "full), %llu lost (write failed)", (unsigned long long)c.written,
	    (unsigned long long)c.dropped,
	    (unsigned long long)(c.lost + left));
	if (done)
		divlog_destroy(d);
}

/* The counters, from any thread. */
void
divlog_counts(struct divlog *d, struct divlog_counts *c)
{
	c->written = atomic_load(&d->written);
	c->dropped = atomic_load(&d->dropped);
	c->lost = atomic_load(&d->lost);
	c->reopens = atomic_load(&d->reopens);
}

/* Records waiting in the queue now. */
size_t
divlog_depth(struct divlog *d)
{
	size_t	 n;

	pthread_mutex_lock(&d->lock);
	n = d->len;
	pthread_mutex_unlock(&d->lock);
	return (n);
}
