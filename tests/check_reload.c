/*
 * Integration tests of SIGHUP: a valid file is swapped in (its rules
 * visible in the records, their "config" counting reloads), an invalid
 * one or one that needs a restart changes nothing, and clients notice
 * none of it, under a steady stream of keep-alive requests.
 */
#include "config.h"

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "testutil.h"

#define WAIT_MS		8000
#define POLL_MS		20

static struct tu_proc	primary, shadow, daemon_;
static char		logpath[PATH_MAX];

/* The config text with EXTRA in [diff] (and LISTEN as the address). */
static void
write_conf(const char *path, const char *listen, const char *extra)
{
	FILE	*f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "[server]\nworkers = 2\n[listen]\naddress = %s\n"
	    "[primary]\nurl = http://127.0.0.1:%d\n"
	    "[shadow]\nurl = http://127.0.0.1:%d\n"
	    "[diff]\nthreads = 1\nprofile = go-rust\n%s\n"
	    "[log]\npath = %s\n", listen, primary.port, shadow.port, extra,
	    logpath);
	ck_assert_int_eq(fclose(f), 0);
}

static void
start(void)
{
	char	 conf[PATH_MAX + 512];

	ck_assert_int_eq(tu_backend_start(&primary, "go", NULL), 0);
	ck_assert_int_eq(tu_backend_start(&shadow, "rust", NULL), 0);
	snprintf(logpath, sizeof(logpath), "%s/reload.log", tu_tmpdir());
	snprintf(conf, sizeof(conf), "[server]\nworkers = 2\n[listen]\n"
	    "address = 127.0.0.1:0\n[primary]\nurl = http://127.0.0.1:%d\n"
	    "[shadow]\nurl = http://127.0.0.1:%d\n"
	    "[diff]\nthreads = 1\nprofile = go-rust\n\n[log]\npath = %s\n",
	    primary.port, shadow.port, logpath);
	ck_assert_int_eq(tu_daemon_start(&daemon_, conf, 0), 0);
}

static void
teardown(void)
{
	/* The daemon must exit 0 on SIGTERM. */
	ck_assert_int_eq(tu_stop_all(&daemon_, &shadow, &primary), 0);
}

/* Waits (bounded) for the daemon's output to contain TEXT. */
static int
wait_output(const char *text)
{
	int	 i;

	for (i = 0; i < WAIT_MS / POLL_MS; i++) {
		if (tu_proc_output_has(&daemon_, text))
			return (1);
		usleep(POLL_MS * 1000);
	}
	return (0);
}

/* GET PATH through the daemon; expects 200. */
static void
get_ok(const char *path)
{
	struct tu_resp	 r;
	char		 raw[512];

	snprintf(raw, sizeof(raw), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
	ck_assert_int_eq(tu_exchange(daemon_.port, raw, &r), 0);
	ck_assert_int_eq(r.status, 200);
	tu_resp_free(&r);
}

/* The records so far, waiting (bounded) for at least N. */
static json_t *
records(size_t n)
{
	json_t		*all = NULL, *rec;
	FILE		*f;
	char		*line = NULL;
	size_t		 size = 0;
	int		 i;

	for (i = 0; i < WAIT_MS / POLL_MS; i++) {
		json_decref(all);
		all = json_array();
		if ((f = fopen(logpath, "r")) != NULL) {
			while (getline(&line, &size, f) != -1)
				if ((rec = json_loads(line, 0, NULL)) != NULL)
					json_array_append_new(all, rec);
			fclose(f);
		}
		if (json_array_size(all) >= n)
			break;
		usleep(POLL_MS * 1000);
	}
	free(line);
	ck_assert_uint_ge(json_array_size(all), n);
	ck_assert_int_eq(tu_validate_records(logpath), 0);
	return (all);
}

/* The record's diffs has a header difference. */
static int
has_header_diff(json_t *rec)
{
	json_t	*d;
	size_t	 i;

	json_array_foreach(json_object_get(rec, "diffs"), i, d)
		if (strcmp(json_string_value(json_object_get(d, "kind")),
		    "header") == 0)
			return (1);
	return (0);
}

/* A valid file is swapped in: its rules apply, "config" counts it. */
START_TEST(test_reload_rules)
{
	json_t	*all, *rec;

	start();
	get_ok("/api/health");		/* Server differs: a record */
	all = records(1);
	rec = json_array_get(all, 0);
	ck_assert_int_eq(json_integer_value(json_object_get(rec, "config")),
	    1);
	ck_assert(has_header_diff(rec));
	json_decref(all);

	write_conf(daemon_.conf, "127.0.0.1:0", "ignore_headers = server");
	ck_assert_int_eq(kill(daemon_.pid, SIGHUP), 0);
	ck_assert(wait_output("SIGHUP: configuration 2 loaded"));
	get_ok("/api/health");		/* now equal: no record */
	get_ok("/api/users/2");		/* the sentinel */
	all = records(2);
	usleep(300 * 1000);
	json_decref(all);
	all = records(2);
	ck_assert_uint_eq(json_array_size(all), 2);
	rec = json_array_get(all, 1);
	ck_assert_str_eq(json_string_value(json_object_get(rec, "uri")),
	    "/api/users/2");
	ck_assert_int_eq(json_integer_value(json_object_get(rec, "config")),
	    2);
	ck_assert(!has_header_diff(rec));
	json_decref(all);
}
END_TEST

/* An invalid file, or one that takes a restart, changes nothing. */
START_TEST(test_reload_bad)
{
	json_t	*all;
	FILE	*f;

	start();
	f = fopen(daemon_.conf, "a");
	fputs("[limits]\nmax_header_count = many\n", f);
	fclose(f);
	ck_assert_int_eq(kill(daemon_.pid, SIGHUP), 0);
	ck_assert(wait_output("SIGHUP: reload failed, configuration 1 stays"));
	/* The error has file:line and what was expected. */
	ck_assert(wait_output(".conf:16: [limits] max_header_count = \"many\": "
	    "expected a whole number"));
	/* A new listen address takes a restart: refused, said why. */
	write_conf(daemon_.conf, "127.0.0.1:1", "ignore_headers = server");
	ck_assert_int_eq(kill(daemon_.pid, SIGHUP), 0);
	ck_assert(wait_output("SIGHUP: reload refused, configuration 1 stays: "
	    "[listen] address or backlog changed, which takes a restart"));
	/* The old rules still apply. */
	get_ok("/api/health");
	all = records(1);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(all,
	    0), "config")), 1);
	ck_assert(has_header_diff(json_array_get(all, 0)));
	json_decref(all);
}
END_TEST

/* A client that sends keep-alive requests until told to stop. */
struct load {
	int		 port;
	atomic_int	 stop;
	long		 ok;
	long		 failed;
};

static void *
load_main(void *arg)
{
	struct load	*l = arg;
	struct tu_resp	 r;
	int		 fd = -1, n = 0;

	while (!atomic_load(&l->stop)) {
		/* A new connection now and then, most on the same one. */
		if (fd == -1 || ++n % 50 == 0) {
			if (fd != -1)
				close(fd);
			if ((fd = tu_connect(l->port)) == -1) {
				l->failed++;
				continue;
			}
		}
		if (tu_send_str(fd, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n") ==
		    -1 || tu_read_response(fd, 0, &r) == -1) {
			l->failed++;
			close(fd);
			fd = -1;
			continue;
		}
		if (r.status == 200 && strcmp(r.body, "hello\n") == 0)
			l->ok++;
		else
			l->failed++;
		tu_resp_free(&r);
	}
	if (fd != -1)
		close(fd);
	return (NULL);
}

/* 20 reloads, valid and invalid, under load: no request fails. */
START_TEST(test_reload_under_load)
{
	struct load	 l;
	pthread_t	 t;
	char		 want[128];
	int		 i, gen = 1;
	long		 before;

	start();
	memset(&l, 0, sizeof(l));
	l.port = daemon_.port;
	ck_assert_int_eq(pthread_create(&t, NULL, load_main, &l), 0);
	for (i = 0; i < 20; i++) {
		before = l.ok;
		if (i % 2 == 0) {
			/* Valid: other rules each time. */
			write_conf(daemon_.conf, "127.0.0.1:0",
			    i % 4 == 0 ? "ignore_headers = server" :
			    "ignore_headers = date");
			ck_assert_int_eq(kill(daemon_.pid, SIGHUP), 0);
			snprintf(want, sizeof(want), "SIGHUP: configuration %d "
			    "loaded", ++gen);
			ck_assert_msg(wait_output(want), "no \"%s\"", want);
		} else {
			write_conf(daemon_.conf, "127.0.0.1:0",
			    "float_tolerance = 2");
			ck_assert_int_eq(kill(daemon_.pid, SIGHUP), 0);
			snprintf(want, sizeof(want), "reload failed, "
			    "configuration %d stays", gen);
			ck_assert_msg(wait_output(want), "no \"%s\"", want);
		}
		/* Requests go on between reloads. */
		usleep(100 * 1000);
		ck_assert_int_gt(l.ok, before);
	}
	atomic_store(&l.stop, 1);
	pthread_join(t, NULL);
	ck_assert_int_eq(l.failed, 0);
	ck_assert_int_gt(l.ok, 100);
	ck_assert(!tu_proc_output_has(&daemon_, "accept"));
}
END_TEST

static Suite *
reload_suite(void)
{
	Suite	*s = suite_create("reload");
	TCase	*tc = tcase_create("sighup");

	tcase_set_timeout(tc, 90);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_reload_rules);
	tcase_add_test(tc, test_reload_bad);
	tcase_add_test(tc, test_reload_under_load);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (tu_run(reload_suite()));
}
