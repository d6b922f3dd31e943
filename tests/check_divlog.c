/*
 * The divergence log's writer: whole lines in order, a bounded queue
 * that drops and counts, reopening without loss, failed writes counted
 * without blocking.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shadowdiff/diff.h"
#include "shadowdiff/divlog.h"
#include "shadowdiff/record.h"
#include "shadowdiff/util.h"
#include "testutil.h"

#define WAIT_MS		10000	/* for the writer to catch up */

/* Waits until the writer has written or lost N records; 0 or -1. */
static int
wait_done(struct divlog *d, uint64_t n)
{
	struct divlog_counts	 c;
	struct timespec		 ts = { 0, 1000000 };
	int			 i;

	for (i = 0; i < WAIT_MS; i++) {
		divlog_counts(d, &c);
		if (c.written + c.lost >= n)
			return (0);
		nanosleep(&ts, NULL);
	}
	return (-1);
}

/* The number of lines in PATH, each checked to be "{"n":I}" in order. */
static long
count_lines(const char *path, long first)
{
	FILE	*f;
	char	 line[256], want[64];
	long	 n = 0;

	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof(line), f) != NULL) {
		snprintf(want, sizeof(want), "{\"n\":%ld}\n", first + n);
		if (strcmp(line, want) != 0) {
			fclose(f);
			return (-1);
		}
		n++;
	}
	fclose(f);
	return (n);
}

/*
 * A divergence log on a FIFO whose reader never reads (*RFD): the writer
 * blocks once the pipe is full. Broken pipes are ignored.
 */
static struct divlog *
open_blocked(const char *name, size_t max, size_t bytes, int *rfd)
{
	struct divlog	*d;
	char		 fifo[256], *cause = NULL;

	signal(SIGPIPE, SIG_IGN);
	snprintf(fifo, sizeof(fifo), "%s/%s", tu_tmpdir(), name);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	*rfd = open(fifo, O_RDONLY | O_NONBLOCK);
	ck_assert_int_ge(*rfd, 0);
	d = divlog_open(fifo, max, bytes, &cause);
	ck_assert_ptr_nonnull(d);
	return (d);
}

/* Submits N records of 100 KB to D; returns how many it queued. */
static int
submit_big(struct divlog *d, int n)
{
	char	*big;
	int	 i, queued = 0;

	for (i = 0; i < n; i++) {
		big = xcalloc(1, 100000);
		memset(big, 'x', 99999);
		if (divlog_submit(d, big) == 0)
			queued++;
	}
	return (queued);
}

START_TEST(test_lines_in_order)
{
	struct divlog		*d;
	struct divlog_counts	 c;
	char			 path[256], *cause = NULL;
	long			 i;

	snprintf(path, sizeof(path), "%s/div.log", tu_tmpdir());
	/* A queue as long as the burst: nothing may be dropped. */
	d = divlog_open(path, 1000, 1 << 30, &cause);
	ck_assert_ptr_nonnull(d);
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(divlog_submit(d, xasprintf("{\"n\":%ld}", i)),
		    0);
	ck_assert_int_eq(wait_done(d, 1000), 0);
	divlog_counts(d, &c);
	ck_assert_uint_eq(c.written, 1000);
	ck_assert_uint_eq(c.lost, 0);
	divlog_close(d, 5000);
	ck_assert_int_eq(count_lines(path, 0), 1000);
}
END_TEST

START_TEST(test_queue_full_drops)
{
	struct divlog		*d;
	struct divlog_counts	 c;
	struct pollfd		 pfd;
	char			 buf[65536];
	int			 rfd, i, queued, newlines = 0;
	long			 total = 0;
	ssize_t			 n, k;

	/* A reader that does not read: the writer blocks in write(2). */
	d = open_blocked("div.fifo", 4, 1 << 30, &rfd);
	queued = submit_big(d, 50);
	/* The producer never waited: the queue bound dropped the rest. */
	divlog_counts(d, &c);
	ck_assert_uint_gt(c.dropped, 0);
	ck_assert_uint_eq(c.dropped + (uint64_t)queued, 50);
	ck_assert_uint_le(divlog_depth(d), 4);
	/* Read everything: the queued records, whole, nothing else. */
	pfd.fd = rfd;
	pfd.events = POLLIN;
	for (i = 0; i < 10000; i++) {
		divlog_counts(d, &c);
		if (c.written == (uint64_t)queued && poll(&pfd, 1, 0) == 0)
			break;
		if (poll(&pfd, 1, 100) == 1 &&
		    (n = read(rfd, buf, sizeof(buf))) > 0) {
			for (k = 0; k < n; k++)
				newlines += buf[k] == '\n';
			total += n;
		}
	}
	divlog_close(d, 5000);
	close(rfd);
	ck_assert_int_eq(newlines, queued);
	ck_assert_int_eq(total, (long)queued * 100000);
}
END_TEST

START_TEST(test_reopen_loses_nothing)
{
	struct divlog		*d;
	char			 path[256], rotated[256], *cause = NULL;
	long			 i;

	snprintf(path, sizeof(path), "%s/rot.log", tu_tmpdir());
	snprintf(rotated, sizeof(rotated), "%s/rot.log.1", tu_tmpdir());
	d = divlog_open(path, 4096, 1 << 30, &cause);
	ck_assert_ptr_nonnull(d);
	for (i = 0; i < 2000; i++) {
		ck_assert_int_eq(divlog_submit(d,
		    xasprintf("{\"n\":%ld}", i)), 0);
		if (i == 999) {
			/* logrotate: rename, then SIGUSR1. */
			ck_assert_int_eq(wait_done(d, 1000), 0);
			ck_assert_int_eq(rename(path, rotated), 0);
			divlog_reopen(d);
		}
	}
	ck_assert_int_eq(wait_done(d, 2000), 0);
	divlog_close(d, 5000);
	ck_assert_int_eq(count_lines(rotated, 0), 1000);
	ck_assert_int_eq(count_lines(path, 1000), 1000);
}
END_TEST

START_TEST(test_failed_writes_counted)
{
	struct divlog		*d;
	struct divlog_counts	 c;
	char			*cause = NULL;
	int			 i;

	/* /dev/full: every write fails with ENOSPC. */
	d = divlog_open("/dev/full", 16, 1 << 30, &cause);
	ck_assert_ptr_nonnull(d);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(divlog_submit(d, xstrdup("{}")), 0);
	ck_assert_int_eq(wait_done(d, 5), 0);
	divlog_counts(d, &c);
	ck_assert_uint_eq(c.lost, 5);
	ck_assert_uint_eq(c.written, 0);
	divlog_close(d, 5000);
}
END_TEST

START_TEST(test_open_error)
{
	char	*cause = NULL;

	ck_assert_ptr_null(divlog_open("/nonexistent/dir/div.log", 4, 1 << 30, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "/nonexistent/dir/div.log: "));
	free(cause);
}
END_TEST

/* A response for diff_compare: STATUS, one Content-Type, BODY. */
static struct diff_response
response(int status, const struct diff_header *ct, const char *body)
{
	struct diff_response	 r;

	memset(&r, 0, sizeof(r));
	r.status = status;
	r.headers = ct;
	r.nheaders = ct != NULL;
	r.body = (const unsigned char *)body;
	r.body_len = strlen(body);
	return (r);
}

/* The record of comparing P and S, with the exchange's fields set. */
static char *
record_of(const char *type, struct diff_response *p, struct diff_response *s,
    const char *shadow_error, size_t limit)
{
	struct record_entry	 e;
	struct diff_rules	*rules = diff_rules_new(NULL);
	struct diff_result	*res = NULL;
	char			*line;

	memset(&e, 0, sizeof(e));
	e.type = type;
	e.time_us = 1764000000123456LL;	/* 2025-11-24T16:00:00.123456Z */
	e.id = "f3a9c2";
	e.config = 3;
	e.route = "users";
	e.method = "GET";
	e.uri = "/users/1?full=1";
	e.primary.status = p->status;
	e.primary.ms = 12.3456;
	e.primary.bytes = p->body_len;
	if (shadow_error != NULL) {
		e.shadow.error = shadow_error;
		e.shadow.ms = 5000;
	} else {
		e.shadow.status = s->status;
		e.shadow.ms = 15.25;
		e.shadow.bytes = s->body_len;
		res = diff_compare(rules, p, s, 0);
	}
	line = record_format(&e, res, limit);
	diff_result_free(res);
	diff_rules_free(rules);
	return (line);
}

START_TEST(test_format_exact)
{
	static const struct diff_header	 ct = { "Content-Type", 12,
					    "application/json", 16 };
	struct diff_response		 p, s;
	char				*line;

	p = response(200, &ct, "{\"id\":1,\"balance\":10.05}");
	s = response(200, &ct, "{\"balance\":10.5,\"id\":1}");
	line = record_of("mismatch", &p, &s, NULL, 256);
	ck_assert_str_eq(line, "{\"type\":\"mismatch\","
	    "\"time\":\"2025-11-24T16:00:00.123456Z\",\"id\":\"f3a9c2\","
	    "\"config\":3,\"route\":\"users\",\"method\":\"GET\","
	    "\"uri\":\"/users/1?full=1\","
	    "\"primary\":{\"status\":200,\"ms\":12.346,\"bytes\":24},"
	    "\"shadow\":{\"status\":200,\"ms\":15.25,\"bytes\":23},"
	    "\"diffs\":[{\"kind\":\"body\",\"path\":\"/balance\","
	    "\"op\":\"changed\",\"primary\":10.05,\"shadow\":10.5}],"
	    "\"forgiven\":{},\"notes\":[]}");
	free(line);
	line = record_of("shadow_error", &p, NULL, "timeout", 256);
	ck_assert_ptr_nonnull(strstr(line, "\"shadow\":{\"error\":"
	    "\"timeout\",\"ms\":5000"));
	free(line);
}
END_TEST

START_TEST(test_format_schema)
{
	static const struct diff_header	 ct = { "Content-Type", 12,
					    "application/json", 16 };
	static const struct diff_header	 txt = { "Content-Type", 12,
					    "text/plain", 10 };
	struct diff_response		 p, s;
	char				 path[256], big[2048];
	FILE				*f;
	char				*line;
	int				 i;

	snprintf(path, sizeof(path), "%s/records.log", tu_tmpdir());
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	/* A mismatch of each kind, a match, a shadow error, long values. */
	p = response(200, &ct, "{\"a\":[1,2,3],\"b\":\"x\",\"c\":null}");
	s = response(500, &txt, "{\"a\":[1,2],\"b\":1,\"d\":true}");
	line = record_of("mismatch", &p, &s, NULL, 256);
	fprintf(f, "%s\n", line);
	free(line);
	line = record_of("match", &p, &p, NULL, 256);
	fprintf(f, "%s\n", line);
	free(line);
	line = record_of("shadow_error", &p, NULL, "reset", 256);
	fprintf(f, "%s\n", line);
	free(line);
	s = response(200, &ct, "{\"a\":[1,2,3],\"b\":\"x\"");	/* cut */
	line = record_of("mismatch", &p, &s, NULL, 256);
	fprintf(f, "%s\n", line);
	free(line);
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (i = 0; i < 2; i++) {
		p = response(200, &txt, i ? big : "short");
		s = response(200, &txt, i ? "short" : big);
		line = record_of("mismatch", &p, &s, NULL, 16);
		fprintf(f, "%s\n", line);
		free(line);
	}
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(tu_validate_records(path), 0);
}
END_TEST

/* The queue is bounded by bytes too: big records are dropped sooner. */
START_TEST(test_queue_bytes_bound)
{
	struct divlog		*d;
	struct divlog_counts	 c;
	int			 rfd, queued;

	/* 1000 records would fit by count; 300 KB do not by bytes. */
	d = open_blocked("bytes.fifo", 1000, 300000, &rfd);
	queued = submit_big(d, 50);
	divlog_counts(d, &c);
	/* Three fit in 300 KB, counted until written. */
	ck_assert_int_le(queued, 3);
	ck_assert_uint_eq(c.dropped, (uint64_t)(50 - queued));
	ck_assert_uint_le(divlog_depth(d), 3);
	close(rfd);	/* the writer gets EPIPE and goes on */
	divlog_close(d, 5000);
}
END_TEST

/*
 * A FIFO with no reader yet opens at once (a reload checks it without
 * blocking too); its records wait for a reader, who gets them in order.
 */
START_TEST(test_fifo_no_reader)
{
	struct divlog		*d;
	struct divlog_counts	 c;
	char			 fifo[256], buf[64], *cause = NULL;
	ssize_t			 n;
	size_t			 len = 0;
	int			 rfd, i;

	signal(SIGPIPE, SIG_IGN);
	snprintf(fifo, sizeof(fifo), "%s/noreader.fifo", tu_tmpdir());
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	d = divlog_open(fifo, 16, 1 << 30, &cause);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(divlog_check_path(fifo, &cause), 0);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(divlog_submit(d, xasprintf("{\"n\":%d}", i)),
		    0);
	divlog_counts(d, &c);
	ck_assert_uint_eq(c.written + c.lost, 0);
	ck_assert_int_ge(rfd = open(fifo, O_RDONLY | O_NONBLOCK), 0);
	for (i = 0; i < WAIT_MS && len < 24; i++) {
		if ((n = read(rfd, buf + len, sizeof(buf) - 1 - len)) > 0)
			len += (size_t)n;
		else
			usleep(1000);
	}
	buf[len] = '\0';
	ck_assert_str_eq(buf, "{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n");
	divlog_close(d, 5000);
	close(rfd);
}
END_TEST

/* The threads of this process (Threads: in /proc/self/status), or -1. */
static int
threads(void)
{
	FILE	*f;
	char	 line[128];
	int	 n = -1;

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "Threads:", 8) == 0)
			n = atoi(line + 8);
	fclose(f);
	return (n);
}

/* A writer blocked on its file does not keep divlog_close waiting. */
START_TEST(test_close_blocked_writer)
{
	struct divlog	*d;
	struct pollfd	 pfd;
	char		*big, *two[2], path[512], text[1024];
	long long	 t0;
	int		 rfd, i, efd, saved, before = threads();

	d = open_blocked("blocked.fifo", 16, 1 << 20, &rfd);
	/* More than a pipe holds: the writer blocks in writev. */
	big = xcalloc(1, 200000);
	memset(big, 'x', 199999);
	/*
	 * One batch: once unblocked the writer has nothing left, so it ends
	 * (a record left would make it open the FIFO again, which blocks
	 * with no reader).
	 */
	two[0] = big;
	two[1] = xstrdup("{}");
	ck_assert_uint_eq(divlog_submit_many(d, two, 2), 2);
	/* Bytes in the pipe: the writer is in writev, and stays there. */
	pfd.fd = rfd;
	pfd.events = POLLIN;
	ck_assert_int_eq(poll(&pfd, 1, WAIT_MS), 1);
	/* Its log lines, to check that the summary still adds up. */
	snprintf(path, sizeof(path), "%s/blocked.err", tu_tmpdir());
	ck_assert_int_ge(efd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600),
	    0);
	ck_assert_int_ge(saved = dup(STDERR_FILENO), 0);
	ck_assert_int_eq(dup2(efd, STDERR_FILENO), STDERR_FILENO);
	t0 = tu_now_ms();
	divlog_close(d, 300);
	dup2(saved, STDERR_FILENO);
	close(saved);
	ck_assert_int_lt(tu_now_ms() - t0, 2000);
	/*
	 * Regression: the exit summary then had no written/dropped/lost
	 * line, so the records did not add up to the comparisons.
	 */
	memset(text, 0, sizeof(text));
	ck_assert_int_gt(pread(efd, text, sizeof(text) - 1, 0), 0);
	close(efd);
	ck_assert_msg(strstr(text, "divergence log: 0 records written, 0 "
	    "dropped (queue full), 2 lost (write failed)") != NULL,
	    "the summary:\n%s", text);
	/* Unblock it: it ends and frees itself (the sanitizers check). */
	close(rfd);
	for (i = 0; i < WAIT_MS && threads() > before; i++)
		usleep(1000);
	ck_assert_int_eq(threads(), before);
}
END_TEST

static Suite *
divlog_suite(void)
{
	const TTest	*writer[] = { test_lines_in_order,
	    test_queue_full_drops, test_reopen_loses_nothing,
	    test_failed_writes_counted, test_open_error, test_queue_bytes_bound,
	    test_close_blocked_writer, test_fifo_no_reader, NULL };
	const TTest	*format[] = { test_format_exact, test_format_schema,
	    NULL };
	Suite		*s;

	s = tu_suite("divlog", tu_tcase("writer", 30, NULL, NULL), writer);
	suite_add_tcase(s, tu_tcase_tests(tcase_create("format"), format));
	return (s);
}

int
main(void)
{
	return (tu_run(divlog_suite()));
}
