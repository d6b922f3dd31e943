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

#include <limits.h>
#include <signal.h>
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
static int		admin_port;

static void
start(void)
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
	    "[route users]\nmatch = /api/users/*\n",
	    primary.port, shadow.port, logpath);
	ck_assert_int_eq(tu_daemon_start(&daemon_, conf, 0), 0);
	admin_port = tu_proc_port(&daemon_, "admin endpoint on 127.0.0.1:");
	ck_assert_int_gt(admin_port, 0);
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
	json_decref(o);

	/* The same figures in the Prometheus text. */
	admin_get("GET", "/metrics", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(has_line(r.body,
	    "shadowdiff_requests_total{route=\"users\",class=\"2xx\"} 3"));
	ck_assert(has_line(r.body,
	    "shadowdiff_requests_total{route=\"default\",class=\"4xx\"} 1"));
	ck_assert(has_line(r.body,
	    "shadowdiff_mirrored_total{route=\"default\"} 3"));
	ck_assert(has_line(r.body, "shadowdiff_compared_total{route=\"users\","
	    "verdict=\"mismatch\"} 3"));
	ck_assert(has_line(r.body,
	    "shadowdiff_primary_errors_total{status=\"400\"} 1"));
	ck_assert(has_line(r.body,
	    "shadowdiff_not_mirrored_total{reason=\"method\"} 1"));
	ck_assert(has_line(r.body, "shadowdiff_response_seconds_count{"
	    "route=\"users\",backend=\"shadow\"} 3"));
	ck_assert(has_line(r.body, "shadowdiff_log_records_total{"
	    "outcome=\"written\"} 6"));
	ck_assert(has_line(r.body, "shadowdiff_config_generation 1"));
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
 * /healthz: 200 while serving, 503 once draining (a slow request keeps
 * the daemon draining); other paths 404, other methods 405.
 */
START_TEST(test_health_and_errors)
{
	struct tu_resp	 r;
	char		 allow[64];
	int		 fd, i;

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

	ck_assert_int_ne(fd = tu_connect(daemon_.port), -1);
	ck_assert_int_eq(tu_send_str(fd, GET("/sleep/1500")), 0);
	ck_assert_int_eq(tu_backend_wait(primary.port, 1), 0);
	ck_assert_int_eq(kill(daemon_.pid, SIGTERM), 0);
	/* Draining from when the signal is handled: bounded. */
	for (i = 0; i < WAIT_MS / POLL_MS; i++) {
		admin_get("GET", "/healthz", &r);
		tu_resp_free(&r);
		if (r.status == 503)
			break;
		usleep(POLL_MS * 1000);
	}
	ck_assert_int_eq(r.status, 503);
	/* The request in flight still gets its answer. */
	ck_assert_int_eq(tu_read_response(fd, 0, &r), 0);
	ck_assert_int_eq(r.status, 200);
	tu_resp_free(&r);
	close(fd);
}
END_TEST

static Suite *
metrics_suite(void)
{
	Suite	*s = suite_create("metrics");
	TCase	*tc = tcase_create("admin");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_exact_figures);
	tcase_add_test(tc, test_reload_figures);
	tcase_add_test(tc, test_health_and_errors);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (tu_run(metrics_suite()));
}
