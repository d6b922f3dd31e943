/*
 * Integration tests of SIGHUP: a valid file is swapped in (its rules
 * visible in the records, their "config" counting reloads; listeners
 * added and removed, backends and the log path changed), an invalid one
 * changes nothing, and clients notice none of it, under a steady stream
 * of keep-alive requests.
 */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
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

static struct tu_proc	primary, shadow, daemon_, other;
static char		logpath[PATH_MAX];
/* What write_conf writes: the primary's port, the log's path. */
static int		conf_primary;
static const char	*conf_log;

/* The config text with EXTRA in [diff] (and LISTEN as the address). */
static void
conf_text(char *buf, size_t size, const char *listen, const char *extra)
{
	snprintf(buf, size, "[server]\nworkers = 2\n[listen]\naddress = %s\n"
	    "[primary]\nurl = http://127.0.0.1:%d\n"
	    "[shadow]\nurl = http://127.0.0.1:%d\n"
	    "[diff]\nthreads = 1\nprofile = go-rust\n%s\n"
	    "[log]\npath = %s\n[admin]\nlisten = 127.0.0.1:0\n", listen,
	    conf_primary, shadow.port, extra, conf_log);
}

/* Writes that config text to PATH. */
static void
write_conf(const char *path, const char *listen, const char *extra)
{
	char	 text[2 * PATH_MAX];
	FILE	*f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	conf_text(text, sizeof(text), listen, extra);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* The backends, and the daemon in front (with a shadow if SHADOWED). */
static void
start_daemon(int shadowed)
{
	char	 conf[2 * PATH_MAX];

	ck_assert_int_eq(tu_backend_start(&primary, "go", NULL), 0);
	ck_assert_int_eq(tu_backend_start(&shadow, "rust", NULL), 0);
	snprintf(logpath, sizeof(logpath), "%s/reload.log", tu_tmpdir());
	conf_primary = primary.port;
	conf_log = logpath;
	if (shadowed)
		conf_text(conf, sizeof(conf), "127.0.0.1:0", "");
	else
		snprintf(conf, sizeof(conf), "[server]\nworkers = 2\n"
		    "[listen]\naddress = 127.0.0.1:0\n"
		    "[primary]\nurl = http://127.0.0.1:%d\n", primary.port);
	ck_assert_int_eq(tu_daemon_start(&daemon_, conf, 0), 0);
}

static void
start(void)
{
	start_daemon(1);
}

static void
teardown(void)
{
	/* The daemon must exit 0 on SIGTERM. */
	ck_assert_int_eq(tu_stop_all(&daemon_, &shadow, &primary), 0);
	if (other.pid > 0)
		ck_assert_int_ne(tu_proc_stop(&other, SIGTERM), -1);
}

/* Waits (bounded) for the daemon's output to contain TEXT. */
static int
wait_output(const char *text)
{
	return (tu_proc_wait_output(&daemon_, text, WAIT_MS));
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

/* The records of the log at PATH, waiting (bounded) for at least N. */
static json_t *
records_in(const char *path, size_t n)
{
	return (tu_records(path, n, WAIT_MS));
}

/* The records of the first log, waiting (bounded) for at least N. */
static json_t *
records(size_t n)
{
	return (records_in(logpath, n));
}

/*
 * The records of the first log once the last of them is of URI, or
 * there are more than N (bounded).
 */
static json_t *
records_until(const char *uri, size_t n)
{
	json_t	*all;
	size_t	 len;
	int	 i;

	for (i = 0;; i++) {
		all = records(1);
		len = json_array_size(all);
		if (len > n || i >= WAIT_MS / POLL_MS || strcmp(
		    json_string_value(json_object_get(json_array_get(all,
		    len - 1), "uri")), uri) == 0)
			return (all);
		json_decref(all);
		usleep(POLL_MS * 1000);
	}
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
	/* The sentinel's record comes after any other. */
	ck_assert_int_eq(tu_mirrors_wait(&daemon_), 0);
	get_ok("/api/users/2");
	all = records_until("/api/users/2", 2);
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
	ck_assert(wait_output(".conf:18: [limits] max_header_count = \"many\": "
	    "expected a whole number"));
	/* An address that cannot be listened on: said which and why. */
	write_conf(daemon_.conf, "127.0.0.1:0\naddress = 192.0.2.1:80",
	    "ignore_headers = server");
	ck_assert_int_eq(kill(daemon_.pid, SIGHUP), 0);
	ck_assert(wait_output("listen on 192.0.2.1:80: Cannot assign "
	    "requested address"));
	/* A log that cannot be opened. */
	conf_log = "/nonexistent/reload.log";
	write_conf(daemon_.conf, "127.0.0.1:0", "ignore_headers = server");
	ck_assert_int_eq(kill(daemon_.pid, SIGHUP), 0);
	if (!wait_output("divergence log /nonexistent")) { char b[65536]; FILE *ff = fopen(daemon_.out, "r"); b[fread(b, 1, sizeof(b) - 1, ff)] = 0; fprintf(stderr, "%s", b); }
	ck_assert(wait_output("divergence log /nonexistent/reload.log: No such "
	    "file or directory"));
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
	atomic_long	 ok;
	long		 failed;
	char		 why[128];	/* the last failure */
};

/* Waits (bounded) until L has done more than N requests; whether it has. */
static int
load_past(struct load *l, long n)
{
	int	 i;

	for (i = 0; i < WAIT_MS / POLL_MS && atomic_load(&l->ok) <= n; i++)
		usleep(POLL_MS * 1000);
	return (atomic_load(&l->ok) > n);
}

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
				snprintf(l->why, sizeof(l->why), "connect: %s",
				    strerror(errno));
				l->failed++;
				continue;
			}
		}
		if (tu_send_str(fd, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n") ==
		    -1 || tu_read_response(fd, 0, &r) == -1) {
			snprintf(l->why, sizeof(l->why), "request %d on its "
			    "connection: %s", n % 50, strerror(errno));
			l->failed++;
			close(fd);
			fd = -1;
			continue;
		}
		if (r.status == 200 && strcmp(r.body, "hello\n") == 0)
			l->ok++;
		else {
			snprintf(l->why, sizeof(l->why), "status %d", r.status);
			l->failed++;
		}
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
		ck_assert(load_past(&l, before));
	}
	atomic_store(&l.stop, 1);
	pthread_join(t, NULL);
	ck_assert_msg(l.failed == 0, "%ld failed, the last: %s", l.failed,
	    l.why);
	ck_assert_int_gt(l.ok, 100);
	ck_assert(!tu_proc_output_has(&daemon_, "accept"));
}
END_TEST

/* A port nothing listens on now (the kernel's choice). */
static int
free_port(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd, port;

	ck_assert_int_ne(fd = socket(AF_INET, SOCK_STREAM, 0), -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return (port);
}

/* One keep-alive GET /hello on FD: 1 if 200 "hello", else 0. */
static int
hello_on(int fd)
{
	struct tu_resp	 r;
	int		 ok;

	if (tu_send_str(fd, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n") == -1 ||
	    tu_read_response(fd, 0, &r) == -1)
		return (0);
	ok = r.status == 200 && strcmp(r.body, "hello\n") == 0;
	tu_resp_free(&r);
	return (ok);
}

/*
 * Under load on the first address: a second one is added (it serves at
 * once) and removed (it refuses new connections, its established one
 * goes on); the first never misses a request.
 */
START_TEST(test_reload_listeners)
{
	struct load	 l;
	pthread_t	 t;
	char		 listen[128], want[128];
	int		 port, fd, i;

	start();
	memset(&l, 0, sizeof(l));
	l.port = daemon_.port;
	ck_assert_int_eq(pthread_create(&t, NULL, load_main, &l), 0);

	port = free_port();
	snprintf(listen, sizeof(listen), "127.0.0.1:0\naddress = "
	    "127.0.0.1:%d", port);
	write_conf(daemon_.conf, listen, "");
	ck_assert_int_eq(kill(daemon_.pid, SIGHUP), 0);
	ck_assert(wait_output("SIGHUP: configuration 2 loaded"));
	snprintf(want, sizeof(want), "listening on 127.0.0.1:%d", port);
	ck_assert(tu_proc_output_has(&daemon_, want));
	ck_assert_int_ne(fd = tu_connect(port), -1);
	ck_assert(hello_on(fd));

	write_conf(daemon_.conf, "127.0.0.1:0", "");
	ck_assert_int_eq(kill(daemon_.pid, SIGHUP), 0);
	ck_assert(wait_output("SIGHUP: configuration 3 loaded"));
	snprintf(want, sizeof(want), "no longer listening on 127.0.0.1:%d",
	    port);
	ck_assert(tu_proc_output_has(&daemon_, want));
	/* Refused once every worker has closed its socket (bounded). */
	for (i = 0; i < WAIT_MS / POLL_MS; i++) {
		int	 probe;

		if ((probe = tu_connect(port)) == -1)
			break;
		close(probe);
		usleep(POLL_MS * 1000);
	}
	ck_assert_int_lt(i, WAIT_MS / POLL_MS);
	/* The connection made before goes on. */
	ck_assert(hello_on(fd));
	ck_assert(hello_on(fd));
	close(fd);

	/* And so do the others, on the listener kept. */
	ck_assert(load_past(&l, atomic_load(&l.ok) > 10 ? atomic_load(&l.ok) :
	    10));
	atomic_store(&l.stop, 1);
	pthread_join(t, NULL);
	ck_assert_msg(l.failed == 0, "%ld failed, the last: %s", l.failed,
	    l.why);
}
END_TEST

/* Reads the response to a request sent earlier on FD; its Server. */
static void
response_from(int fd, const char *server)
{
	struct tu_resp	 r;
	char		 value[64];

	ck_assert_int_eq(tu_read_response(fd, 0, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(tu_resp_header(&r, "Server", value,
	    sizeof(value)));
	ck_assert_str_eq(value, server);
	tu_resp_free(&r);
}

/* Reads the answer of /sleep, sent earlier on FD. */
static void
slept_on(int fd)
{
	struct tu_resp	 r;

	ck_assert_int_eq(tu_read_response(fd, 0, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "slept\n");
	tu_resp_free(&r);
}

/*
 * A new primary URL: requests from then on go there, one in flight to
 * the old primary finishes there (its pool is drained, not cut).
 */
START_TEST(test_reload_backend)
{
	char	 want[128];
	int	 fd, fresh;

	start();
	ck_assert_int_eq(tu_backend_start(&other, "rust", NULL), 0);
	ck_assert_int_ne(fd = tu_connect(daemon_.port), -1);
	ck_assert_int_eq(tu_send_str(fd,
	    "GET /sleep/700 HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
	/* At the old primary now. */
	ck_assert_int_eq(tu_backend_wait(primary.port, 1), 0);

	conf_primary = other.port;
	write_conf(daemon_.conf, "127.0.0.1:0", "");
	ck_assert_int_eq(kill(daemon_.pid, SIGHUP), 0);
	ck_assert(wait_output("SIGHUP: configuration 2 loaded"));
	snprintf(want, sizeof(want), "primary: now http://127.0.0.1:%d;",
	    other.port);
	ck_assert(tu_proc_output_has(&daemon_, want));

	/* A new request goes to the new primary, on a new connection... */
	ck_assert_int_ne(fresh = tu_connect(daemon_.port), -1);
	ck_assert_int_eq(tu_send_str(fresh,
	    "GET /api/health HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
	response_from(fresh, "sd-backend-rust");
	close(fresh);
	/* ...and on the connection whose request was in flight, after it. */
	slept_on(fd);
	ck_assert_int_eq(tu_send_str(fd,
	    "GET /api/health HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
	response_from(fd, "sd-backend-rust");
	close(fd);
	ck_assert_int_eq(tu_backend_count(primary.port), 1);
}
END_TEST

/*
 * A new [log] path: records from then on go to the new file, those
 * before stay in the old one.
 */
START_TEST(test_reload_log_path)
{
	char	 newlog[PATH_MAX];
	json_t	*all;

	start();
	get_ok("/api/health");		/* Server differs: a record */
	json_decref(records(1));

	snprintf(newlog, sizeof(newlog), "%s/reload-new.log", tu_tmpdir());
	conf_log = newlog;
	write_conf(daemon_.conf, "127.0.0.1:0", "");
	ck_assert_int_eq(kill(daemon_.pid, SIGHUP), 0);
	ck_assert(wait_output("SIGHUP: configuration 2 loaded"));
	ck_assert(tu_proc_output_has(&daemon_, "divergence log: now "));
	get_ok("/api/health");
	all = records_in(newlog, 1);
	ck_assert_uint_eq(json_array_size(all), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(all,
	    0), "config")), 2);
	json_decref(all);
	all = records(1);
	ck_assert_uint_eq(json_array_size(all), 1);
	json_decref(all);
}
END_TEST

/* A config without a [shadow] gets one by a reload: mirroring starts. */
START_TEST(test_reload_adds_shadow)
{
	json_t	*all;

	start_daemon(0);
	get_ok("/api/health");
	ck_assert_int_eq(access(logpath, F_OK), -1);

	write_conf(daemon_.conf, "127.0.0.1:0", "");
	ck_assert_int_eq(kill(daemon_.pid, SIGHUP), 0);
	ck_assert(wait_output("SIGHUP: configuration 2 loaded"));
	get_ok("/api/health");
	all = records(1);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(all,
	    0), "config")), 2);
	json_decref(all);
}
END_TEST

static Suite *
reload_suite(void)
{
	const TTest	*tests[] = { test_reload_rules, test_reload_bad,
	    test_reload_under_load, test_reload_listeners, test_reload_backend,
	    test_reload_log_path, test_reload_adds_shadow, NULL };

	return (tu_suite("reload", tu_tcase("sighup", 90, NULL, teardown),
	    tests));
}

int
main(void)
{
	return (tu_run(reload_suite()));
}
