/*
 * Integration tests of the admin endpoint: the real daemon between the
 * Go and Rust test backends, known traffic, and the exact figures that
 * must follow in /stats and /metrics (whose text promtool checks), the
 * health check while serving and while draining, and the endpoint's
 * answers to other paths and methods. Every match is logged too
 * (log_matches = 100%), so that the differences and forgiven counts can
 * be checked against the records themselves.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "shadowdiff/admin.h"
#include "shadowdiff/util.h"
#include "testutil.h"

#define WAIT_MS		8000
#define POLL_MS		20
#define CROWD_IDLE	200	/* admin connections that say nothing */
#define CROWD_HEADS	40	/* and that stop within their head */
#define HEALTH_CONNS	16	/* kept alive across SIGTERM */
#define TIMER_SLACK_MS	2000	/* a timer's lateness on a loaded host */
#define PARTIAL_HEAD	"GET /metrics HTTP/1.1\r\nHost:"

static struct tu_proc	primary, shadow, daemon_;
static char		logpath[PATH_MAX];
static int		admin_port;

/* The daemon with the [route users] section's lines ROUTE added. */
static void
start_route(const char *route)
{
	char	 conf[PATH_MAX + 1024];

	ck_assert_int_eq(tu_backend_start(&primary, "go", NULL), 0);
	ck_assert_int_eq(tu_backend_start(&shadow, "rust", NULL), 0);
	snprintf(logpath, sizeof(logpath), "%s/metrics.log", tu_tmpdir());
	snprintf(conf, sizeof(conf), "[server]\nworkers = 2\n"
	    "drain_timeout = 5s\n[listen]\naddress = 127.0.0.1:0\n"
	    "[admin]\nlisten = 127.0.0.1:0\n"
	    "[primary]\nurl = http://127.0.0.1:%d\n"
	    "[shadow]\nurl = http://127.0.0.1:%d\n"
	    "[diff]\nthreads = 1\nprofile = go-rust\n"
	    "[log]\npath = %s\nlog_matches = 100%%\n"
	    "[route users]\nmatch = /api/users/*\n%s",
	    primary.port, shadow.port, logpath, route);
	ck_assert_int_eq(tu_daemon_start(&daemon_, conf, 0), 0);
	admin_port = tu_proc_port(&daemon_, "admin endpoint on 127.0.0.1:");
	ck_assert_int_gt(admin_port, 0);
}

static void
start(void)
{
	start_route("");
}

static void
teardown(void)
{
	ck_assert_int_eq(tu_stop_all(&daemon_, &shadow, &primary), 0);
}

/* METHOD PATH on the admin port; the response in *R. */
static void
admin_get(const char *method, const char *path, struct tu_resp *r)
{
	char	 raw[256];

	snprintf(raw, sizeof(raw), "%s %s HTTP/1.1\r\nHost: a\r\n"
	    "Connection: close\r\n\r\n", method, path);
	ck_assert_int_eq(tu_exchange(admin_port, raw, r), 0);
}

/* GET /stats, parsed. */
static json_t *
stats(void)
{
	struct tu_resp	 r;
	json_t		*o;

	admin_get("GET", "/stats", &r);
	ck_assert_int_eq(r.status, 200);
	o = json_loads(r.body, 0, NULL);
	ck_assert_ptr_nonnull(o);
	tu_resp_free(&r);
	return (o);
}

/* The integer at the slash-separated PATH of O, or -1. */
static long long
at(json_t *o, const char *path)
{
	return (tu_json_int(o, path));
}

/* Sends RAW through the daemon; expects STATUS. */
static void
request(const char *raw, int status)
{
	struct tu_resp	 r;

	ck_assert_int_eq(tu_exchange(daemon_.port, raw, &r), 0);
	ck_assert_int_eq(r.status, status);
	tu_resp_free(&r);
}

/* Waits (bounded) until /stats has N exchanges compared in all. */
static json_t *
stats_compared(long long n)
{
	json_t	*o = NULL;
	int	 i;

	for (i = 0; i < WAIT_MS / POLL_MS; i++) {
		json_decref(o);
		o = stats();
		if (at(o, "routes/users/compared/mismatch") +
		    at(o, "routes/users/compared/match") +
		    at(o, "routes/default/compared/match") +
		    at(o, "routes/default/compared/mismatch") >= n &&
		    at(o, "log/written") >= n)
			break;
		usleep(POLL_MS * 1000);
	}
	return (o);
}

/* Sums, over the records of ROUTE, the diffs of KIND (NULL: forgiven RULE). */
static long long
from_records(const char *route, const char *kind, const char *rule)
{
	json_t		*rec, *d;
	FILE		*f;
	char		*line = NULL;
	size_t		 size = 0, i;
	long long	 n = 0;

	ck_assert_ptr_nonnull(f = fopen(logpath, "r"));
	while (getline(&line, &size, f) != -1) {
		ck_assert_ptr_nonnull(rec = json_loads(line, 0, NULL));
		if (route == NULL || strcmp(json_string_value(json_object_get(
		    rec, "route")), route) == 0) {
			if (kind != NULL)
				json_array_foreach(json_object_get(rec,
				    "diffs"), i, d)
					n += strcmp(json_string_value(
					    json_object_get(d, "kind")),
					    kind) == 0;
			else
				n += json_integer_value(json_object_get(
				    json_object_get(rec, "forgiven"), rule));
		}
		json_decref(rec);
	}
	free(line);
	fclose(f);
	return (n);
}

/* Whether the /metrics text has LINE as a whole line. */
static int
has_line(const char *text, const char *line)
{
	const char	*p = text;
	size_t		 len = strlen(line);

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[len] == '\n')
			return (1);
		p += len;
	}
	return (0);
}

#define GET(path)	"GET " path " HTTP/1.1\r\nHost: t\r\n\r\n"

/* Lines of /metrics for the traffic of test_exact_figures. */
static const char *const exact_lines[] = {
	"shadowdiff_requests_total{route=\"users\",class=\"2xx\"} 3",
	"shadowdiff_requests_total{route=\"default\",class=\"4xx\"} 1",
	"shadowdiff_mirrored_total{route=\"default\"} 3",
	"shadowdiff_compared_total{route=\"users\",verdict=\"mismatch\"} 3",
	"shadowdiff_primary_errors_total{status=\"400\"} 1",
	"shadowdiff_not_mirrored_total{reason=\"method\"} 1",
	"shadowdiff_response_seconds_count{route=\"users\","
	    "backend=\"shadow\"} 3",
	"shadowdiff_log_records_total{outcome=\"written\"} 6",
	"shadowdiff_config_generation 1",
};

/*
 * Known traffic, then exact figures: 3 requests on route users (each a
 * mismatch), 2 equal ones and a 503 on no route, a POST not mirrored
 * (method), and a malformed request answered 400 by us.
 */
START_TEST(test_exact_figures)
{
	struct tu_resp	 r;
	json_t		*o;
	char		 want[256], path[PATH_MAX + 64], cmd[2 * PATH_MAX];
	const char	*kinds[] = { "status", "header", "body" };
	size_t		 i;
	FILE		*p;

	start();
	for (i = 0; i < 3; i++)
		request(GET("/api/users/2"), 200);
	request(GET("/hello"), 200);
	request(GET("/hello"), 200);
	request(GET("/status/503"), 503);
	request("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n"
	    "hi", 200);
	request("GET / HTTP/1.1\r\n\r\n", 400);	/* no Host */

	o = stats_compared(6);
	ck_assert_int_eq(at(o, "routes/users/requests/2xx"), 3);
	ck_assert_int_eq(at(o, "routes/users/requests/4xx"), 0);
	ck_assert_int_eq(at(o, "routes/users/mirrored"), 3);
	ck_assert_int_eq(at(o, "routes/users/compared/mismatch"), 3);
	ck_assert_int_eq(at(o, "routes/users/compared/match"), 0);
	ck_assert_int_eq(at(o, "routes/default/requests/2xx"), 3);
	ck_assert_int_eq(at(o, "routes/default/requests/4xx"), 1);
	ck_assert_int_eq(at(o, "routes/default/requests/5xx"), 1);
	ck_assert_int_eq(at(o, "routes/default/mirrored"), 3);
	ck_assert_int_eq(at(o, "routes/default/compared/match"), 3);
	ck_assert_int_eq(at(o, "routes/default/compared/shadow_error"), 0);
	ck_assert_int_eq(at(o, "primary_errors/400"), 1);
	ck_assert_int_eq(at(o, "primary_errors/502"), 0);
	ck_assert_int_eq(at(o, "not_mirrored/method"), 1);
	ck_assert_int_eq(at(o, "not_mirrored/sampled_out"), 0);
	/* Time to the full response: one per answer of each backend. */
	ck_assert_int_eq(at(o, "routes/users/response_seconds/primary/count"),
	    3);
	ck_assert_int_eq(at(o, "routes/users/response_seconds/shadow/count"),
	    3);
	ck_assert_int_eq(at(o,
	    "routes/default/response_seconds/primary/count"), 4);
	ck_assert_int_eq(at(o,
	    "routes/default/response_seconds/shadow/buckets/+Inf"), 3);
	/* Every exchange was logged: the counts agree with the records. */
	ck_assert_int_eq(at(o, "log/written"), 6);
	ck_assert_int_eq(at(o, "log/lost"), 0);
	ck_assert_int_eq(tu_validate_records(logpath), 0);
	for (i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "routes/users/differences/%s",
		    kinds[i]);
		ck_assert_int_eq(at(o, want), from_records("users", kinds[i],
		    NULL));
	}
	ck_assert_int_gt(at(o, "routes/users/differences/body"), 0);
	ck_assert_int_eq(at(o, "routes/default/differences/body"), 0);
	ck_assert_int_eq(at(o, "forgiven/timestamps"), 3);
	ck_assert_int_eq(at(o, "forgiven/timestamps"), from_records(NULL, NULL,
	    "timestamps"));
	ck_assert_int_eq(at(o, "config/generation"), 1);
	/* A connection each; the request refused at its head is no request. */
	ck_assert_int_eq(at(o, "client/accepted"), 8);
	ck_assert_int_eq(at(o, "client/requests"), 7);
	ck_assert_int_ge(at(o, "upstream_connects/primary"), 1);
	ck_assert_int_ge(at(o, "upstream_connects/shadow"), 1);
	ck_assert_int_eq(at(o, "upstream_connects/primary") +
	    at(o, "upstream_reused/primary"), 7);
	json_decref(o);

	/* The same figures in the Prometheus text. */
	admin_get("GET", "/metrics", &r);
	ck_assert_int_eq(r.status, 200);
	for (i = 0; i < nitems(exact_lines); i++)
		ck_assert_msg(has_line(r.body, exact_lines[i]), "no line %s",
		    exact_lines[i]);
	snprintf(want, sizeof(want), "shadowdiff_build_info{version=\"%s\"} 1",
	    PACKAGE_VERSION);
	ck_assert(has_line(r.body, want));
	/* promtool finds nothing to say about it. */
	snprintf(path, sizeof(path), "%s/metrics.txt", tu_tmpdir());
	ck_assert_ptr_nonnull(p = fopen(path, "w"));
	fputs(r.body, p);
	fclose(p);
	tu_resp_free(&r);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
	ck_assert_ptr_nonnull(p = popen(cmd, "r"));
	ck_assert_msg(fgets(want, sizeof(want), p) == NULL, "promtool: %s",
	    want);
	ck_assert_msg(pclose(p) == 0, "promtool failed: is the Debian "
	    "package prometheus installed?");
}
END_TEST

/* Reloads are counted, and the generation follows. */
START_TEST(test_reload_figures)
{
	json_t	*o;
	FILE	*f;
	int	 i;

	start();
	ck_assert_int_eq(kill(daemon_.pid, SIGHUP), 0);
	for (i = 0; i < WAIT_MS / POLL_MS &&
	    !tu_proc_output_has(&daemon_, "configuration 2 loaded"); i++)
		usleep(POLL_MS * 1000);
	ck_assert_ptr_nonnull(f = fopen(daemon_.conf, "a"));
	fputs("[bogus]\n", f);
	fclose(f);
	ck_assert_int_eq(kill(daemon_.pid, SIGHUP), 0);
	for (i = 0; i < WAIT_MS / POLL_MS &&
	    !tu_proc_output_has(&daemon_, "reload failed"); i++)
		usleep(POLL_MS * 1000);
	o = stats();
	ck_assert_int_eq(at(o, "config/generation"), 2);
	ck_assert_int_eq(at(o, "config/reloads_ok"), 1);
	ck_assert_int_eq(at(o, "config/reloads_failed"), 1);
	json_decref(o);
}
END_TEST

/*
 * /healthz: 200 while serving (test_healthz_at_sigterm: 503 once
 * draining); other paths 404, other methods 405.
 */
START_TEST(test_health_and_errors)
{
	struct tu_resp	 r;
	char		 allow[64];

	start();
	admin_get("GET", "/healthz", &r);
	ck_assert_int_eq(r.status, 200);
	tu_resp_free(&r);
	admin_get("GET", "/nope", &r);
	ck_assert_int_eq(r.status, 404);
	tu_resp_free(&r);
	admin_get("DELETE", "/metrics", &r);
	ck_assert_int_eq(r.status, 405);
	ck_assert_ptr_nonnull(tu_resp_header(&r, "Allow", allow,
	    sizeof(allow)));
	ck_assert_str_eq(allow, "GET, HEAD");
	tu_resp_free(&r);
}
END_TEST

/* Whether the peer closed FD already: all it sent is read, then EOF. */
static int
gone(int fd)
{
	char	 buf[4096];
	ssize_t	 n;

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		;
	return (n == 0 || (n == -1 && errno != EAGAIN));
}

/* Whether FD has something to read (or was closed) within MS. */
static int
readable_within(int fd, int ms)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };

	return (poll(&pfd, 1, ms) == 1);
}

/*
 * Many more idle admin connections than the cap, and heads that stop
 * coming, cannot keep a health check from its answer: the connections
 * idle longest make room, and are counted. (The endpoint used to close
 * newcomers past 32 connections: 32 idle ones made /healthz unavailable
 * for as long as they stayed.)
 */
START_TEST(test_admin_crowded)
{
	static int	 fds[CROWD_IDLE + CROWD_HEADS];
	static const char evicted[] =
	    "\nshadowdiff_admin_connections_evicted_total ";
	struct tu_resp	 r;
	json_t		*o;
	const char	*p;
	int		 i, n;

	start();
	for (i = 0; i < CROWD_IDLE + CROWD_HEADS; i++) {
		ck_assert_int_ge(fds[i] = tu_connect(admin_port), 0);
		if (i >= CROWD_IDLE)
			ck_assert_int_eq(tu_send_str(fds[i], PARTIAL_HEAD), 0);
	}
	admin_get("GET", "/healthz", &r);
	ck_assert_int_eq(r.status, 200);
	tu_resp_free(&r);
	/* Closed before the newcomer was read: at most the cap stay. */
	for (i = n = 0; i < CROWD_IDLE + CROWD_HEADS; i++)
		n += !gone(fds[i]);
	ck_assert_int_le(n, ADMIN_MAX_CONNS - 1);
	o = stats();
	ck_assert_int_gt(at(o, "connections/admin_evicted"), 0);
	n = (int)at(o, "connections/admin_evicted");
	json_decref(o);
	/* The same count in /metrics, or more: its connection made room. */
	admin_get("GET", "/metrics", &r);
	ck_assert_ptr_nonnull(p = strstr(r.body, evicted));
	ck_assert_int_ge(atoi(p + sizeof(evicted) - 1), n);
	tu_resp_free(&r);
	for (i = 0; i < CROWD_IDLE + CROWD_HEADS; i++)
		close(fds[i]);
}
END_TEST

/*
 * The admin endpoint's own timeouts: a new connection that says nothing
 * and a head that stops coming are done with after ADMIN_HEAD_TIMEOUT_MS
 * (the head with a 408), a kept-alive one after ADMIN_IDLE_TIMEOUT_MS;
 * each bound allows for a late timer. (They were all 10 s.)
 */
START_TEST(test_admin_timeouts)
{
	struct tu_resp	 r;
	int		 silent, slow, kept;

	start();
	ck_assert_int_ge(silent = tu_connect(admin_port), 0);
	ck_assert_int_ge(slow = tu_connect(admin_port), 0);
	ck_assert_int_eq(tu_send_str(slow, PARTIAL_HEAD), 0);
	ck_assert_int_ge(kept = tu_connect(admin_port), 0);
	ck_assert_int_eq(tu_send_str(kept, GET("/healthz")), 0);
	ck_assert_int_eq(tu_read_response(kept, 0, &r), 0);
	ck_assert_int_eq(r.status, 200);
	tu_resp_free(&r);

	ck_assert(tu_wait_closed(silent, ADMIN_HEAD_TIMEOUT_MS +
	    TIMER_SLACK_MS));
	ck_assert(readable_within(slow, TIMER_SLACK_MS));
	ck_assert_int_eq(tu_read_response(slow, 0, &r), 0);
	ck_assert_int_eq(r.status, 408);
	tu_resp_free(&r);
	ck_assert(tu_wait_closed(kept, ADMIN_IDLE_TIMEOUT_MS -
	    ADMIN_HEAD_TIMEOUT_MS + TIMER_SLACK_MS));
	close(silent);
	close(slow);
	close(kept);
}
END_TEST

/*
 * From the instant SIGTERM is sent, /healthz says 503: no 200 may come
 * after kill(2) returned, neither on connections kept alive from before
 * (all asked at once, so that their requests are read in the same turn
 * of the daemon's loop as the signal) nor on new ones. A slow request
 * keeps the daemon draining meanwhile, and still gets its answer.
 */
START_TEST(test_healthz_at_sigterm)
{
	struct tu_resp	 r;
	int		 kept[HEALTH_CONNS], fd, i;

	start();
	ck_assert_int_ne(fd = tu_connect(daemon_.port), -1);
	ck_assert_int_eq(tu_send_str(fd, GET("/sleep/3000")), 0);
	for (i = 0; i < WAIT_MS / POLL_MS && tu_backend_count(primary.port) < 1;
	    i++)
		usleep(POLL_MS * 1000);
	ck_assert_int_ge(tu_backend_count(primary.port), 1);
	for (i = 0; i < HEALTH_CONNS; i++) {
		ck_assert_int_ge(kept[i] = tu_connect(admin_port), 0);
		ck_assert_int_eq(tu_send_str(kept[i], GET("/healthz")), 0);
		ck_assert_int_eq(tu_read_response(kept[i], 0, &r), 0);
		ck_assert_int_eq(r.status, 200);
		tu_resp_free(&r);
	}

	ck_assert_int_eq(kill(daemon_.pid, SIGTERM), 0);
	for (i = 0; i < HEALTH_CONNS; i++)
		ck_assert_int_eq(tu_send_str(kept[i], GET("/healthz")), 0);
	for (i = 0; i < HEALTH_CONNS; i++) {
		ck_assert_int_eq(tu_read_response(kept[i], 0, &r), 0);
		ck_assert_msg(r.status == 503, "connection %d: %d after "
		    "SIGTERM", i, r.status);
		tu_resp_free(&r);
		close(kept[i]);
	}
	for (i = 0; i < 4; i++) {
		admin_get("GET", "/healthz", &r);
		ck_assert_int_eq(r.status, 503);
		tu_resp_free(&r);
	}
	/* The request in flight still gets its answer. */
	ck_assert_int_eq(tu_read_response(fd, 0, &r), 0);
	ck_assert_int_eq(r.status, 200);
	tu_resp_free(&r);
	close(fd);
}
END_TEST

/*
 * A rule that cannot decide within its bound is counted: a regular
 * expression that backtracks exponentially on the created_at strings
 * of /api/users/1 (they differ between the flavors, compared as text
 * here) hits PCRE2's match limit, and the value is compared as if the
 * rule did not hold.
 */
START_TEST(test_rule_errors)
{
	struct tu_resp	 r;
	json_t		*o;

	start_route("timestamps = no\nignore_like = /created_at "
	    "regex:^([0-9]|[0-9]|[-T:.Z])*[a-z]$\n");
	request(GET("/api/users/1"), 200);
	o = stats_compared(1);
	ck_assert_int_ge(at(o, "diff/rule_errors"), 1);
	json_decref(o);
	admin_get("GET", "/metrics", &r);
	ck_assert(strstr(r.body, "\nshadowdiff_diff_rule_errors_total ") !=
	    NULL);
	ck_assert(!has_line(r.body, "shadowdiff_diff_rule_errors_total 0"));
	tu_resp_free(&r);
}
END_TEST

static Suite *
metrics_suite(void)
{
	const TTest	*tests[] = { test_exact_figures, test_reload_figures,
	    test_health_and_errors, test_admin_crowded, test_admin_timeouts,
	    test_healthz_at_sigterm, test_rule_errors, NULL };

	return (tu_suite("metrics", tu_tcase("admin", 60, NULL, teardown),
	    tests));
}

int
main(void)
{
	return (tu_run(metrics_suite()));
}
