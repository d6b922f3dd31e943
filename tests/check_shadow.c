/*
 * Integration tests of mirroring: the real daemon in front of two real
 * backends, sd-backend as the Go service (primary) and as its Rust
 * rewrite or sd-misbehave (shadow), writing a real divergence log. Every
 * process is started and stopped by the test, by PID; every wait is
 * bounded. Every record a test reads is validated against
 * docs/divergence-log.schema.json.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <netinet/in.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "shadowdiff/mirror.h"
#include "testutil.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#define WAIT_MS		8000	/* for records to appear */
#define POLL_MS		20
/* Peak memory of a daemon whatever its shadow does, in KiB. */
#ifdef HAVE_SANITIZERS
#define RSS_BOUND_KIB	(150 * 1024)
#else
#define RSS_BOUND_KIB	(48 * 1024)
#endif

static struct tu_proc	primary, shadow, daemon_;
static char		logpath[PATH_MAX];

/*
 * Starts the daemon in front of primary and SHADOW_PORT: SHADOW_KEYS go
 * into [shadow], LOG_KEYS into [log], MORE after them (other sections).
 */
static void
start_daemon(int shadow_port, const char *shadow_keys, const char *log_keys,
    const char *more)
{
	static int	 n;
	char		 conf[8192];

	snprintf(logpath, sizeof(logpath), "%s/divergence.%d.log",
	    tu_tmpdir(), n++);
	snprintf(conf, sizeof(conf),
	    "[server]\nworkers = 1\ndrain_timeout = 5s\n"
	    "[listen]\naddress = 127.0.0.1:0\n"
	    "[primary]\nurl = http://127.0.0.1:%d\nread_timeout = 5s\n"
	    "[shadow]\nurl = http://127.0.0.1:%d\n%s\n"
	    "[diff]\nthreads = 1\nprofile = go-rust\n"
	    "[log]\npath = %s\n%s\n%s",
	    primary.port, shadow_port, shadow_keys, logpath, log_keys, more);
	ck_assert_int_eq(tu_daemon_start(&daemon_, conf, 0), 0);
}

/* The Go service as primary, the Rust rewrite as shadow. */
static void
start_pair(const char *shadow_keys, const char *log_keys, const char *more)
{
	ck_assert_int_eq(tu_backend_start(&primary, "go", NULL), 0);
	ck_assert_int_eq(tu_backend_start(&shadow, "rust", NULL), 0);
	start_daemon(shadow.port, shadow_keys, log_keys, more);
}

/*
 * The Go and Rust backends and a daemon with only [server], [listen],
 * [primary] and [shadow] set: SECTIONS gives the rest ([diff], [log]).
 */
static void
start_plain(const char *sections)
{
	char	 conf[PATH_MAX + 1024];

	ck_assert_int_eq(tu_backend_start(&primary, "go", NULL), 0);
	ck_assert_int_eq(tu_backend_start(&shadow, "rust", NULL), 0);
	snprintf(conf, sizeof(conf),
	    "[server]\nworkers = 1\n[listen]\naddress = 127.0.0.1:0\n"
	    "[primary]\nurl = http://127.0.0.1:%d\n"
	    "[shadow]\nurl = http://127.0.0.1:%d\n%s",
	    primary.port, shadow.port, sections);
	ck_assert_int_eq(tu_daemon_start(&daemon_, conf, 0), 0);
}

/* Stops what runs; the daemon must exit 0 on SIGTERM. */
static void
teardown(void)
{
	/* The daemon must exit 0 on SIGTERM. */
	ck_assert_int_eq(tu_stop_all(&daemon_, &shadow, &primary), 0);
}

/* GET PATH through the daemon with extra header lines HDRS; status. */
static int
get(const char *path, const char *hdrs, struct tu_resp *r)
{
	char	 raw[2048];

	snprintf(raw, sizeof(raw), "GET %s HTTP/1.1\r\nHost: t\r\n%s\r\n",
	    path, hdrs ? hdrs : "");
	ck_assert_int_eq(tu_exchange(daemon_.port, raw, r), 0);
	return (r->status);
}

/* GET PATH, expecting 200; the response is dropped. */
static void
get_ok(const char *path, const char *hdrs)
{
	struct tu_resp	 r;

	ck_assert_int_eq(get(path, hdrs, &r), 200);
	tu_resp_free(&r);
}

/* The records of FILE, parsed (an empty array if none). */
static json_t *
records_of(const char *file)
{
	json_t		*all = json_array(), *rec;
	json_error_t	 err;
	FILE		*f;
	char		*line = NULL;
	size_t		 size = 0;
	ssize_t		 len;

	if ((f = fopen(file, "r")) == NULL)
		return (all);
	while ((len = getline(&line, &size, f)) != -1) {
		ck_assert_msg(len > 0 && line[len - 1] == '\n',
		    "record without its newline: %s", line);
		rec = json_loads(line, 0, &err);
		ck_assert_msg(rec != NULL, "not JSON: %s: %s", err.text, line);
		json_array_append_new(all, rec);
	}
	free(line);
	fclose(f);
	return (all);
}

/* The whole log file as text (at most 1 MiB), allocated. */
static char *
log_text(void)
{
	FILE	*f;
	char	*buf;
	size_t	 n;

	buf = calloc(1, 1024 * 1024 + 1);
	ck_assert_ptr_nonnull(buf);
	f = fopen(logpath, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, 1024 * 1024, f);
	ck_assert_int_eq(ferror(f), 0);
	fclose(f);
	buf[n] = '\0';
	return (buf);
}

/* Waits (bounded) for at least N records; returns all of them. */
static json_t *
records_wait(size_t n)
{
	long long	 deadline = tu_now_ms() + WAIT_MS;
	json_t		*all;

	for (;;) {
		all = records_of(logpath);
		if (json_array_size(all) >= n || tu_now_ms() > deadline)
			break;
		json_decref(all);
		usleep(POLL_MS * 1000);
	}
	ck_assert_msg(json_array_size(all) >= n, "%zu records, expected %zu",
	    json_array_size(all), n);
	ck_assert_int_eq(tu_validate_records(logpath), 0);
	return (all);
}

/* The record whose uri is URI, or NULL. */
static json_t *
record_for(json_t *all, const char *uri)
{
	json_t	*rec;
	size_t	 i;

	json_array_foreach(all, i, rec)
		if (strcmp(json_string_value(json_object_get(rec, "uri")),
		    uri) == 0)
			return (rec);
	return (NULL);
}

/* A string member of a record. */
static const char *
str(json_t *obj, const char *key)
{
	const char	*s = json_string_value(json_object_get(obj, key));

	ck_assert_msg(s != NULL, "no string %s", key);
	return (s);
}

#define SENTINEL_ID	"records-exactly-sentinel"

/*
 * Exactly N records, none written late; returns them. Once every mirror
 * so far is settled, a sentinel GET of PATH (the test's config must
 * write its record) goes through: with one worker and one diff thread
 * its record is written after any earlier one, so when it is there,
 * all are. The sentinel's record is not returned.
 */
static json_t *
records_exactly(size_t n, const char *path)
{
	json_t	*all, *rec, *mine;
	size_t	 i;
	int	 tries;

	ck_assert_msg(tu_mirrors_wait(&daemon_) == 0,
	    "mirrors not compared in time");
	get_ok(path, "X-Shadowdiff-Id: " SENTINEL_ID "\r\n");
	for (tries = 0;; tries++) {
		all = records_wait(n + 1);
		json_array_foreach(all, i, rec)
			if (strcmp(str(rec, "id"), SENTINEL_ID) == 0)
				break;
		if (i < json_array_size(all) || tries >= WAIT_MS / POLL_MS)
			break;
		json_decref(all);
		usleep(POLL_MS * 1000);
	}
	ck_assert_msg(i < json_array_size(all), "no sentinel record");
	mine = json_array();
	json_array_foreach(all, i, rec)
		if (strcmp(str(rec, "id"), SENTINEL_ID) != 0)
			json_array_append(mine, rec);
	json_decref(all);
	ck_assert_msg(json_array_size(mine) == n, "%zu records, expected "
	    "exactly %zu", json_array_size(mine), n);
	return (mine);
}

/* The record's diffs as text: "kind path op primary shadow; ..." */
static char *
diffs_text(json_t *rec)
{
	json_t	*d;
	size_t	 i;
	char	*out = strdup(""), *next, *p, *s;

	json_array_foreach(json_object_get(rec, "diffs"), i, d) {
		p = json_dumps(json_object_get(d, "primary"), JSON_ENCODE_ANY |
		    JSON_REAL_PRECISION(10));
		s = json_dumps(json_object_get(d, "shadow"), JSON_ENCODE_ANY |
		    JSON_REAL_PRECISION(10));
		if (asprintf(&next, "%s%s%s %s %s %s %s", out, i ? "; " : "",
		    str(d, "kind"), str(d, "path"), str(d, "op"),
		    p ? p : "-", s ? s : "-") == -1)
			abort();
		free(out);
		free(p);
		free(s);
		out = next;
	}
	return (out);
}

/* Asserts the diffs of the record for URI, as diffs_text writes them. */
static void
assert_diffs(json_t *all, const char *uri, const char *want)
{
	json_t	*rec = record_for(all, uri);
	char	*got;

	ck_assert_msg(rec != NULL, "no record for %s", uri);
	got = diffs_text(rec);
	ck_assert_msg(strcmp(got, want) == 0, "%s: diffs\n  %s\nexpected\n"
	    "  %s", uri, got, want);
	free(got);
}

/*
 * Each kind of difference at its place; benign differences and equal
 * responses write nothing. The Rust rewrite's three bugs are found.
 */
START_TEST(test_mismatch_kinds)
{
	json_t	*all, *rec;

	/* /api/health is left to [diff]: its Server header differs. */
	start_pair("", "",
	    "[route users]\nmatch = /api/users/*\nignore_headers = server\n"
	    "[route orders]\nmatch = /api/orders\nignore_headers = server\n"
	    "[route order]\nmatch = /api/orders/*\nignore_headers = server\n"
	    "[route search]\nmatch = /api/search\nignore_headers = server\n");
	/* Benign only, or equal: no record. */
	get_ok("/hello", NULL);
	get_ok("/api/users/1", NULL);
	get_ok("/api/orders?user=2", NULL);
	get_ok("/api/search?q=%3Cb%3E", NULL);
	/* Real differences. */
	get_ok("/api/health", NULL);
	get_ok("/api/users/2", NULL);
	get_ok("/api/orders?user=1", NULL);
	get_ok("/api/orders/404", NULL);
	all = records_exactly(4, "/api/users/2");
	/* A header, by its lower-case name, on the route "default". */
	assert_diffs(all, "/api/health",
	    "header server changed \"sd-backend-go\" \"sd-backend-rust\"");
	ck_assert_str_eq(str(record_for(all, "/api/health"), "route"),
	    "default");
	/* A JSON value, at its pointer, with the original digits. */
	assert_diffs(all, "/api/users/2", "body /balance changed 10.05 10.5");
	assert_diffs(all, "/api/orders?user=1",
	    "body /2 removed {\"id\": 103, \"user_id\": 1, \"total\": 12.99, "
	    "\"status\": \"cancelled\"} -");
	/* The status, then what follows from it. */
	rec = record_for(all, "/api/orders/404");
	ck_assert_ptr_nonnull(rec);
	ck_assert_str_eq(str(json_array_get(json_object_get(rec, "diffs"), 0),
	    "kind"), "status");
	ck_assert_int_eq(json_integer_value(json_object_get(
	    json_object_get(rec, "shadow"), "status")), 500);
	/* The fields of the contract. */
	rec = record_for(all, "/api/users/2");
	ck_assert_str_eq(str(rec, "type"), "mismatch");
	ck_assert_str_eq(str(rec, "route"), "users");
	ck_assert_str_eq(str(rec, "method"), "GET");
	ck_assert_uint_eq(strlen(str(rec, "id")), MIRROR_ID_LEN);
	ck_assert_int_eq(json_integer_value(json_object_get(rec, "config")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(
	    json_object_get(rec, "primary"), "status")), 200);
	ck_assert_int_gt(json_integer_value(json_object_get(
	    json_object_get(rec, "primary"), "bytes")), 0);
	ck_assert(json_real_value(json_object_get(json_object_get(rec,
	    "shadow"), "ms")) >= 0);
	json_decref(all);
}
END_TEST

/* A sentinel mismatch bounds the wait; nothing else may be written. */
static void
assert_only_sentinel(void)
{
	json_decref(records_exactly(0, "/api/users/2"));
}

/* Equal exchanges write nothing by default; log_matches writes them. */
START_TEST(test_equal_writes_nothing)
{
	json_t	*all, *rec;
	int	 i;

	start_pair("", "", "[route api]\nmatch = /api/**\n"
	    "ignore_headers = server\n");
	for (i = 0; i < 20; i++)
		get_ok(i % 2 ? "/api/health" : "/api/users/1", NULL);
	assert_only_sentinel();
	teardown();

	start_pair("", "log_matches = 100%\n", "[route api]\n"
	    "match = /api/**\nignore_headers = server\n");
	get_ok("/api/health", NULL);
	all = records_wait(1);
	rec = record_for(all, "/api/health");
	ck_assert_str_eq(str(rec, "type"), "match");
	ck_assert_uint_eq(json_array_size(json_object_get(rec, "diffs")), 0);
	json_decref(all);
}
END_TEST

/* Requests the backend on PORT saw, as "METHOD URI ID" lines. */
static char *
seen(int port)
{
	struct tu_resp	 r;
	char		*body;

	ck_assert_int_eq(tu_exchange(port, "GET /seen HTTP/1.1\r\nHost: t\r\n"
	    "\r\n", &r), 0);
	ck_assert_int_eq(r.status, 200);
	body = strdup(r.body);
	tu_resp_free(&r);
	return (body);
}

/* Sends a POST of BODY to PATH; expects 200. */
static void
post(const char *path, const char *body)
{
	struct tu_resp	 r;
	char		 raw[2048];

	snprintf(raw, sizeof(raw), "POST %s HTTP/1.1\r\nHost: t\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
	    path, strlen(body), body);
	ck_assert_int_eq(tu_exchange(daemon_.port, raw, &r), 0);
	ck_assert_int_eq(r.status, 200);
	tu_resp_free(&r);
}

/* Writes are not mirrored unless methods (or a route) says so. */
START_TEST(test_post_mirroring)
{
	json_t	*all, *rec, *req;
	char	*s;

	start_pair("", "", "");
	post("/echo?default", "{\"a\":1}");
	assert_only_sentinel();
	s = seen(shadow.port);
	ck_assert_msg(strstr(s, "POST") == NULL, "shadow saw a POST:\n%s", s);
	free(s);
	teardown();

	/* [shadow] methods, narrowed again by a route. */
	start_pair("methods = GET POST\n", "log_matches = 100%\n"
	    "log_request = headers body\n",
	    "[route quiet]\nmatch = /status/*\nmirror_methods = none\n");
	post("/echo?chunky", "{\"a\":1,\"b\":[1,2,3]}");
	post("/status/200", "{\"not\":\"mirrored\"}");
	all = records_wait(1);
	rec = record_for(all, "/echo?chunky");
	ck_assert_ptr_nonnull(rec);
	ck_assert_str_eq(str(rec, "method"), "POST");
	/* The shadow got the same body: the echoes are equal. */
	ck_assert_str_eq(str(rec, "type"), "match");
	req = json_object_get(rec, "request");
	ck_assert_str_eq(str(req, "body"), "{\"a\":1,\"b\":[1,2,3]}");
	json_decref(all);
	s = seen(shadow.port);
	ck_assert_msg(strstr(s, "POST /echo?chunky ") != NULL, "%s", s);
	ck_assert_msg(strstr(s, "POST /status") == NULL, "%s", s);
	free(s);
}
END_TEST

/* A chunked request body goes to the shadow whole, with its length. */
START_TEST(test_chunked_body_mirrored)
{
	struct tu_resp	 r;
	json_t		*all, *rec;

	start_pair("methods = POST\n", "log_matches = 100%\n", "");
	ck_assert_int_eq(tu_exchange(daemon_.port, "POST /echo HTTP/1.1\r\n"
	    "Host: t\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n", &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "abcdefg");
	tu_resp_free(&r);
	all = records_wait(1);
	rec = json_array_get(all, 0);
	ck_assert_str_eq(str(rec, "type"), "match");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(
	    rec, "shadow"), "bytes")), 7);
	json_decref(all);
}
END_TEST

/* Sampling by key: a key value is always in or always out. */
START_TEST(test_sampling_by_key)
{
	json_t	*all, *rec;
	char	 path[64], key[16], sentinel[64] = "";
	size_t	 i, want = 0;
	int	 u, round;

	start_pair("sample = 40%\nsample_key = query:user\n",
	    "log_matches = 100%\n", "[route all]\nmatch = /**\n"
	    "ignore_headers = server\n");
	for (u = 0; u < 40; u++) {
		snprintf(key, sizeof(key), "u%d", u);
		if (!mirror_key_sampled(0.4, key, strlen(key)))
			continue;
		want += 2;
		snprintf(sentinel, sizeof(sentinel), "/hello?user=%s", key);
	}
	/* Not all in, not all out: the test means something. */
	ck_assert_uint_gt(want, 10);
	ck_assert_uint_lt(want, 70);
	for (round = 0; round < 2; round++)
		for (u = 0; u < 40; u++) {
			snprintf(path, sizeof(path), "/hello?user=u%d", u);
			get_ok(path, NULL);
		}
	all = records_exactly(want, sentinel);
	json_array_foreach(all, i, rec) {
		snprintf(key, sizeof(key), "%s",
		    strstr(str(rec, "uri"), "=") + 1);
		ck_assert_msg(mirror_key_sampled(0.4, key, strlen(key)),
		    "%s mirrored", key);
	}
	json_decref(all);
}
END_TEST

/* The request id reaches both backends; a client's own is kept. */
START_TEST(test_request_id)
{
	json_t		*all;
	const char	*id;
	char		*ps, *ss, line[128];

	start_pair("", "log_matches = 100%\n", "");
	get_ok("/hello?ours", NULL);
	get_ok("/hello?theirs", "X-Shadowdiff-Id: client-abc-1\r\n");
	all = records_wait(2);
	id = str(record_for(all, "/hello?ours"), "id");
	ck_assert_uint_eq(strspn(id, "0123456789abcdef"), MIRROR_ID_LEN);
	ck_assert_str_eq(str(record_for(all, "/hello?theirs"), "id"),
	    "client-abc-1");
	ps = seen(primary.port);
	ss = seen(shadow.port);
	snprintf(line, sizeof(line), "GET /hello?ours %s\n", id);
	ck_assert_msg(strstr(ps, line) != NULL, "primary saw:\n%s", ps);
	ck_assert_msg(strstr(ss, line) != NULL, "shadow saw:\n%s", ss);
	ck_assert(strstr(ps, "GET /hello?theirs client-abc-1\n") != NULL);
	ck_assert(strstr(ss, "GET /hello?theirs client-abc-1\n") != NULL);
	free(ps);
	free(ss);
	json_decref(all);
	/* Any bytes in a client's id: the record stays valid JSON. */
	get_ok("/hello?bytes", "X-Shadowdiff-Id: a\xff\xfe" "b\r\n");
	all = records_wait(3);
	ck_assert_str_eq(str(record_for(all, "/hello?bytes"), "id"), "a??b");
	json_decref(all);
}
END_TEST

/*
 * The headers the backend on PORT received with the first request that
 * starts REQ ("METHOD URI": its /seen?headers=1 entry, "\tname: value\n"
 * lines), waiting (bounded) for it; NULL if it never came.
 */
static char *
seen_headers(int port, const char *req)
{
	long long	 deadline = tu_now_ms() + WAIT_MS;
	struct tu_resp	 r;
	char		 want[256], *at, *end, *h = NULL;

	snprintf(want, sizeof(want), "%s ", req);
	for (;;) {
		ck_assert_int_eq(tu_exchange(port, "GET /seen?headers=1 "
		    "HTTP/1.1\r\nHost: t\r\n\r\n", &r), 0);
		ck_assert_int_eq(r.status, 200);
		at = strstr(r.body, want);
		if (at != NULL && (at == r.body || at[-1] == '\n')) {
			at = strchr(at, '\n') + 1;
			for (end = at; *end == '\t';)
				end = strchr(end, '\n') + 1;
			h = strndup(at, (size_t)(end - at));
		}
		tu_resp_free(&r);
		if (h != NULL || tu_now_ms() > deadline)
			return (h);
		usleep(POLL_MS * 1000);
	}
}

/* The value of /stats member "SECTION.NAME" on the daemon's admin port. */
static long long
admin_stat(const char *section, const char *name)
{
	struct tu_resp	 r;
	json_error_t	 err;
	json_t		*o;
	long long	 v;
	int		 admin;

	admin = tu_proc_port(&daemon_, "admin endpoint on 127.0.0.1:");
	ck_assert_int_gt(admin, 0);
	ck_assert_int_eq(tu_exchange(admin, "GET /stats HTTP/1.1\r\n"
	    "Host: t\r\n\r\n", &r), 0);
	ck_assert_int_eq(r.status, 200);
	o = json_loads(r.body, 0, &err);
	ck_assert_msg(o != NULL, "/stats: %s", err.text);
	v = json_integer_value(json_object_get(json_object_get(o, section),
	    name));
	json_decref(o);
	tu_resp_free(&r);
	return (v);
}

/*
 * Asserts that the backend on PORT got request REQ ("METHOD URI") with
 * the header line TEXT ("Name: value") if HAS, else with no header that
 * holds TEXT (in any case).
 */
static void
assert_seen(int port, const char *req, const char *text, int has)
{
	char	*h, line[256];

	h = seen_headers(port, req);
	ck_assert_msg(h != NULL, "port %d never got %s", port, req);
	snprintf(line, sizeof(line), "\t%s\n", text);
	if (has)
		ck_assert_msg(strstr(h, line) != NULL, "%s: no %s in:\n%s",
		    req, text, h);
	else
		ck_assert_msg(strcasestr(h, text) == NULL, "%s: %s in:\n%s",
		    req, text, h);
	free(h);
}

/*
 * Every copy the shadow gets carries the marker, writes too; the primary
 * never does, not even when a client sends it (a client must not make
 * the primary skip its side effects).
 */
START_TEST(test_marker)
{
	struct tu_resp	 r;

	start_pair("methods = GET POST\n", "", "");
	get_ok("/hello?copy", NULL);
	post("/echo?write", "{\"a\":1}");
	assert_seen(shadow.port, "GET /hello?copy", "X-Shadowdiff-Shadow: 1",
	    1);
	/* The Host is the client's, as it always was. */
	assert_seen(shadow.port, "GET /hello?copy", "Host: t", 1);
	assert_seen(primary.port, "GET /hello?copy", "shadowdiff-shadow", 0);
	assert_seen(shadow.port, "POST /echo?write", "X-Shadowdiff-Shadow: 1",
	    1);
	assert_seen(primary.port, "POST /echo?write", "shadowdiff-shadow", 0);
	/* A client's marker: the primary answers, and does not see it. */
	ck_assert_int_eq(get("/headers?forged", "x-shadowdiff-shadow: 1\r\n",
	    &r), 200);
	ck_assert_msg(strcasestr(r.body, "shadowdiff-shadow") == NULL, "%s",
	    r.body);
	ck_assert_ptr_nonnull(strstr(r.body, "Host: t\n"));
	tu_resp_free(&r);
	teardown();

	/* A marker of one's own; none at all. */
	start_pair("marker = X-Env: shadow copy\n", "", "");
	get_ok("/hello?own", NULL);
	assert_seen(shadow.port, "GET /hello?own", "X-Env: shadow copy", 1);
	assert_seen(shadow.port, "GET /hello?own", "shadowdiff-shadow", 0);
	assert_seen(primary.port, "GET /hello?own", "x-env", 0);
	teardown();
	start_pair("marker = none\n", "", "");
	get_ok("/hello?none", NULL);
	assert_seen(shadow.port, "GET /hello?none", "shadowdiff-shadow", 0);
}
END_TEST

/*
 * A request that arrives marked (a shadow calling back through us) goes
 * to the primary but is not mirrored again, and is counted. A sentinel
 * sent after it on the same worker is mirrored: once the shadow has it,
 * the marked one would have been there first.
 */
START_TEST(test_no_loop)
{
	struct tu_resp	 r;
	char		*s;

	start_pair("methods = GET POST\n", "", "");
	ck_assert_int_eq(get("/hello?looped", "X-Shadowdiff-Shadow: 1\r\n",
	    &r), 200);
	tu_resp_free(&r);
	ck_assert_int_eq(get("/hello?looped2", "x-shadowdiff-shadow: yes\r\n",
	    &r), 200);
	tu_resp_free(&r);
	get_ok("/hello?sentinel", NULL);
	assert_seen(shadow.port, "GET /hello?sentinel", "Host: t", 1);
	s = seen(shadow.port);
	ck_assert_msg(strstr(s, "looped") == NULL, "shadow saw:\n%s", s);
	free(s);
	ck_assert_int_eq(tu_backend_count(shadow.port), 1);
	/* The primary got them, without the marker. */
	assert_seen(primary.port, "GET /hello?looped", "shadowdiff-shadow", 0);
	assert_seen(primary.port, "GET /hello?looped2", "shadowdiff-shadow",
	    0);
	ck_assert_int_eq(admin_stat("not_mirrored", "loop"), 2);
	ck_assert_int_eq(admin_stat("not_mirrored", "method"), 0);
}
END_TEST

/*
 * [shadow] host: Envoy's suffix before the port, or a fixed Host; the
 * primary gets the client's either way.
 */
START_TEST(test_shadow_host)
{
	struct tu_resp	 r;

	start_pair("host = suffix\n", "", "");
	ck_assert_int_eq(tu_exchange(daemon_.port, "GET /hello?sfx HTTP/1.1"
	    "\r\nHost: api.example:8080\r\n\r\n", &r), 0);
	ck_assert_int_eq(r.status, 200);
	tu_resp_free(&r);
	assert_seen(shadow.port, "GET /hello?sfx",
	    "Host: api.example-shadow:8080", 1);
	assert_seen(primary.port, "GET /hello?sfx", "Host: api.example:8080",
	    1);
	teardown();

	start_pair("host = shadow.internal:9443\n", "", "");
	get_ok("/hello?fixed", NULL);
	assert_seen(shadow.port, "GET /hello?fixed",
	    "Host: shadow.internal:9443", 1);
	assert_seen(shadow.port, "GET /hello?fixed", "Host: t", 0);
	assert_seen(primary.port, "GET /hello?fixed", "Host: t", 1);
}
END_TEST

/* Sensitive headers are written [redacted], in requests and in diffs. */
START_TEST(test_redaction)
{
	json_t	*all, *rec, *hdrs;

	start_pair("", "log_request = headers\nredact_headers = X-Api-Key "
	    "Server\n", "");
	get_ok("/api/users/2", "Authorization: Bearer s3cret\r\n"
	    "Cookie: session=s3cret\r\nX-Api-Key: s3cret\r\n"
	    "X-Other: visible\r\n");
	all = records_wait(1);
	rec = record_for(all, "/api/users/2");
	hdrs = json_object_get(json_object_get(rec, "request"), "headers");
	ck_assert_str_eq(str(hdrs, "authorization"), "[redacted]");
	ck_assert_str_eq(str(hdrs, "cookie"), "[redacted]");
	ck_assert_str_eq(str(hdrs, "x-api-key"), "[redacted]");
	ck_assert_str_eq(str(hdrs, "x-other"), "visible");
	assert_diffs(all, "/api/users/2", "header server changed "
	    "\"[redacted]\" \"[redacted]\"; body /balance changed 10.05 10.5");
	json_decref(all);
	/* By default, no request at all in the record. */
	teardown();
	start_pair("", "", "");
	get_ok("/api/users/2", "Authorization: Bearer s3cret\r\n");
	all = records_wait(1);
	ck_assert_ptr_null(json_object_get(json_array_get(all, 0), "request"));
	json_decref(all);
}
END_TEST

/*
 * The secrets of a login are nowhere in the log: request headers, query
 * values, JSON body values (by pattern, and by word: accessToken), and the differing Set-Cookie and token of
 * the responses; the differences are still listed at their paths.
 */
START_TEST(test_redaction_defaults)
{
	static const char *const secrets[] = {
		"s3cret", "sid-go-51ab", "sid-rust-07ce", "tok-go-6c1f",
		"tok-rust-9d2e"
	};
	static const char	 body[] = "{\"user\":\"ann\","
				    "\"password\":\"s3cret-pw\","
				    "\"accessToken\":\"s3cret-camel\"}";
	json_t			*all, *rec, *req, *hdrs;
	struct tu_resp		 r;
	char			 raw[2048], *log;
	size_t			 i;

	start_pair("methods = GET POST\n", "log_request = headers body\n",
	    "");
	snprintf(raw, sizeof(raw), "POST /api/session?access_token=s3cret-qs"
	    "&x=1 HTTP/1.1\r\nHost: t\r\n"
	    "Authorization: Bearer s3cret-auth\r\n"
	    "Cookie: session=s3cret-cookie\r\n"
	    "X-Forwarded-Authorization: Basic s3cret-fwd\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
	    strlen(body), body);
	ck_assert_int_eq(tu_exchange(daemon_.port, raw, &r), 0);
	ck_assert_int_eq(r.status, 200);
	tu_resp_free(&r);
	all = records_wait(1);
	rec = record_for(all, "/api/session?access_token=[redacted]&x=1");
	ck_assert_ptr_nonnull(rec);
	req = json_object_get(rec, "request");
	hdrs = json_object_get(req, "headers");
	ck_assert_str_eq(str(hdrs, "authorization"), "[redacted]");
	ck_assert_str_eq(str(hdrs, "cookie"), "[redacted]");
	ck_assert_str_eq(str(hdrs, "x-forwarded-authorization"), "[redacted]");
	ck_assert_str_eq(str(hdrs, "content-type"), "application/json");
	ck_assert_str_eq(str(req, "body"),
	    "{\"user\":\"ann\",\"password\":\"[redacted]\","
	    "\"accessToken\":\"[redacted]\"}");
	assert_diffs(all, "/api/session?access_token=[redacted]&x=1",
	    "header server changed \"sd-backend-go\" \"sd-backend-rust\"; "
	    "header set-cookie changed \"[redacted]\" \"[redacted]\"; "
	    "body /token changed \"[redacted]\" \"[redacted]\"");
	json_decref(all);
	/* Anywhere in the file, not only where the test looked. */
	log = log_text();
	ck_assert_ptr_nonnull(log);
	for (i = 0; i < nitems(secrets); i++)
		ck_assert_msg(strstr(log, secrets[i]) == NULL, "%s in the "
		    "log:\n%s", secrets[i], log);
	free(log);
}
END_TEST

/* Past [diff] max_body: length and SHA-256 tell the bodies apart. */
START_TEST(test_partial_body)
{
	json_t	*all, *rec, *d;
	char	 sections[PATH_MAX + 256];

	/* [diff] max_body, in a config of its own (start_daemon has [diff]). */
	snprintf(logpath, sizeof(logpath), "%s/partial.log", tu_tmpdir());
	snprintf(sections, sizeof(sections), "[diff]\nthreads = 1\n"
	    "max_body = 64KiB\nignore_headers = server\n[log]\npath = %s\n",
	    logpath);
	start_plain(sections);
	/* Equal bodies past the cap: equal digests, no record. */
	get_ok("/bytes/300000", NULL);
	/* Bodies equal up to the cap, different after it. */
	get_ok("/json/200000", NULL);
	all = records_exactly(1, "/api/users/2");
	rec = record_for(all, "/json/200000");
	ck_assert_ptr_nonnull(rec);
	ck_assert_uint_eq(json_array_size(json_object_get(rec, "diffs")), 1);
	d = json_array_get(json_object_get(rec, "diffs"), 0);
	ck_assert_str_eq(str(d, "kind"), "body");
	ck_assert_str_eq(str(d, "path"), "");
	ck_assert(strncmp(str(d, "primary"), "sha256:", 7) == 0);
	ck_assert(strncmp(str(d, "shadow"), "sha256:", 7) == 0);
	ck_assert_str_ne(str(d, "primary"), str(d, "shadow"));
	/* The record says the comparison was partial. */
	ck_assert_uint_eq(json_array_size(json_object_get(rec, "notes")), 2);
	ck_assert_str_eq(str(json_array_get(json_object_get(rec, "notes"), 0),
	    "note"), "truncated");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(
	    rec, "primary"), "bytes")), 200000);
	json_decref(all);
}
END_TEST

/*
 * The isolation guarantee. The shadow misbehaves in MODE; every client
 * response must be the primary's (compared with the primary's own
 * answer, Date aside), quick (the shadow's timeout is far above the
 * bound), and a shadow_error record must say ERROR.
 */
#define ISO_REQUESTS	20
#define ISO_BOUND_MS	250	/* generous; the shadow takes >= 1000 */

/* The response without its Date line, for comparison (allocated). */
/* A port on 127.0.0.1 that nothing listens on now. */
static int
closed_port(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd;

	ck_assert_int_ge(fd = socket(AF_INET, SOCK_STREAM, 0), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return (ntohs(sin.sin_port));
}

/* The daemon's output so far (the exit summary, once it stopped). */
static const char *
daemon_output(void)
{
	static char	 buf[1 << 20];
	FILE		*f;
	size_t		 n;

	ck_assert_ptr_nonnull(f = fopen(daemon_.out, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return (buf);
}

static char *
undated(const struct tu_resp *r)
{
	const char	*d = strstr(r->head, "Date: ");
	const char	*end = d != NULL ? strstr(d, "\r\n") : NULL;
	char		*s;

	if (d == NULL || end == NULL) {
		if (asprintf(&s, "%s|%s", r->head, r->body) == -1)
			abort();
	} else if (asprintf(&s, "%.*s%s|%s", (int)(d - r->head), r->head,
	    end + 2, r->body) == -1)
		abort();
	return (s);
}

static void
isolation(const char *mode, const char *shadow_keys, const char *error)
{
	struct tu_resp	 want, got;
	char		*a, *b;
	long long	 t0, ms, worst = 0;
	json_t		*all, *rec;
	size_t		 i;
	int		 n, port = 0;

	ck_assert_int_eq(tu_backend_start(&primary, "go", NULL), 0);
	if (strcmp(mode, "refused") == 0)
		port = closed_port();
	else {
		ck_assert_int_eq(tu_misbehave_start(&shadow, mode, NULL), 0);
		port = shadow.port;
	}
	start_daemon(port, shadow_keys, "", "");
	ck_assert_int_eq(tu_exchange(primary.port, "GET /api/users/2 "
	    "HTTP/1.1\r\nHost: t\r\n\r\n", &want), 0);
	a = undated(&want);
	for (n = 0; n < ISO_REQUESTS; n++) {
		t0 = tu_now_ms();
		ck_assert_int_eq(get("/api/users/2", NULL, &got), 200);
		ms = tu_now_ms() - t0;
		worst = ms > worst ? ms : worst;
		b = undated(&got);
		ck_assert_msg(strcmp(a, b) == 0, "%s: response %d differs:\n"
		    "%s\nexpected\n%s", mode, n, b, a);
		free(b);
		ck_assert_uint_eq(got.body_len, want.body_len);
		tu_resp_free(&got);
	}
	tu_resp_free(&want);
	free(a);
	ck_assert_msg(worst < ISO_BOUND_MS, "%s: a client waited %lldms",
	    mode, worst);
	all = records_wait(1);
	json_array_foreach(all, i, rec) {
		ck_assert_str_eq(str(rec, "type"), "shadow_error");
		ck_assert_str_eq(str(json_object_get(rec, "shadow"), "error"),
		    error);
	}
	json_decref(all);
	/* The daemon is fine after it: a plain request still works. */
	get_ok("/hello", NULL);
}

/* Each misbehaviour, the shadow's keys it needs, the error it gives. */
static const struct {
	const char	*mode;
	const char	*keys;
	const char	*error;
} misbehaviours[] = {
	{ "refused", "", "refused" },
	{ "slow:1500", "timeout = 1s\n", "timeout" },
	/* A byte every 50ms, never idle: the whole exchange is timed. */
	{ "drip:50", "timeout = 1s\n", "timeout" },
	{ "hang", "timeout = 1s\n", "timeout" },
	{ "reset", "", "reset" },
	{ "garbage", "", "bad_response" },
	/* An endless body: cut at max_response (memory: see below). */
	{ "endless", "max_response = 8MiB\ntimeout = 10s\n", "too_large" },
	/* 1xx after 1xx: a few are taken, then it is a bad response. */
	{ "interim", "timeout = 10s\n", "bad_response" },
};

START_TEST(test_shadow_misbehaving)
{
	const long	 bound = RSS_BOUND_KIB;

	isolation(misbehaviours[_i].mode, misbehaviours[_i].keys,
	    misbehaviours[_i].error);
	/* Whatever the shadow sends, the memory it takes is bounded. */
	ck_assert_int_lt(tu_proc_peak_kib(&daemon_), bound);
}
END_TEST

/* max_inflight bounds the mirrors alive; the rest go unmirrored. */
START_TEST(test_max_inflight)
{
	json_t		*all, *st;
	long long	 dropped;
	int		 i;

	ck_assert_int_eq(tu_backend_start(&primary, "go", NULL), 0);
	ck_assert_int_eq(tu_misbehave_start(&shadow, "hang", NULL), 0);
	start_daemon(shadow.port, "max_inflight = 2\ntimeout = 700ms\n", "",
	    "");
	for (i = 0; i < 6; i++)
		get_ok("/hello", NULL);
	ck_assert_int_eq(tu_mirrors_wait(&daemon_), 0);
	/*
	 * Two mirrors, each a timeout record; on a host too loaded to run
	 * the timer in time one may be dropped as overloaded instead (not
	 * blamed on the shadow), and then has no record.
	 */
	st = tu_admin_stats(&daemon_);
	dropped = tu_json_int(st, "mirrors_dropped/overloaded");
	ck_assert_int_eq(tu_json_int(st, "shadow_errors/timeout") + dropped,
	    2);
	json_decref(st);
	/* The sentinel shows that, once they timed out, mirroring goes on. */
	all = records_exactly(2 - (size_t)dropped, "/hello");
	json_decref(all);
}
END_TEST

/* A drain waits for the mirrors in flight: their records are written. */
START_TEST(test_drain_compares)
{
	json_t	*all;

	ck_assert_int_eq(tu_backend_start(&primary, "go", NULL), 0);
	ck_assert_int_eq(tu_misbehave_start(&shadow, "slow:600", NULL), 0);
	start_daemon(shadow.port, "timeout = 3s\n", "log_matches = 100%\n",
	    "");
	get_ok("/hello", NULL);
	/* The client has its answer; the shadow's comes in 600ms. */
	ck_assert_int_eq(tu_proc_stop(&daemon_, SIGTERM), 0);
	daemon_.pid = 0;
	all = records_wait(1);
	ck_assert_uint_eq(json_array_size(all), 1);
	ck_assert_str_ne(str(json_array_get(all, 0), "type"), "shadow_error");
	json_decref(all);
	/* The exit summary counts it. */
	ck_assert(tu_proc_output_has(&daemon_, "mirrored 1 requests;"));
	ck_assert(tu_proc_output_has(&daemon_, "shadow: 1 answered;"));
	ck_assert(tu_proc_output_has(&daemon_, "divergence log: 1 records "
	    "written, 0 dropped (queue full), 0 lost"));
}
END_TEST

/*
 * The shadow's faults, with the figures of /stats: a daemon (one
 * worker, a diff cap of 64 KiB: the memory a leg may hold) in front of
 * the Go primary and the shadow on SHADOW_PORT,
 * SERVER_KEYS in [server], SHADOW_KEYS in [shadow]. Returns the admin
 * port.
 */
static int
start_faults(int shadow_port, const char *server_keys,
    const char *shadow_keys)
{
	char	 conf[PATH_MAX + 2048];
	int	 admin;

	snprintf(logpath, sizeof(logpath), "%s/faults.%d.log", tu_tmpdir(),
	    shadow_port);
	snprintf(conf, sizeof(conf),
	    "[server]\nworkers = 1\n%s\n[listen]\naddress = 127.0.0.1:0\n"
	    "[primary]\nurl = http://127.0.0.1:%d\n"
	    "[shadow]\nurl = http://127.0.0.1:%d\n%s\n"
	    "[diff]\nthreads = 1\nmax_body = 64KiB\n[log]\npath = %s\n",
	    server_keys, primary.port, shadow_port, shadow_keys, logpath);
	ck_assert_int_eq(tu_daemon_start(&daemon_, conf, 0), 0);
	admin = tu_proc_port(&daemon_, "admin endpoint on 127.0.0.1:");
	ck_assert_int_gt(admin, 0);
	return (admin);
}

/* GROUP's KEY in the daemon's /stats (admin port ADMIN). */
static long long
stat_of(int admin, const char *group, const char *key)
{
	struct tu_resp	 r;
	json_t		*all, *v;
	long long	 n;

	ck_assert_int_eq(tu_exchange(admin, "GET /stats HTTP/1.1\r\n"
	    "Host: t\r\n\r\n", &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(all = json_loads(r.body, 0, NULL));
	v = json_object_get(json_object_get(all, group), key);
	ck_assert_msg(json_is_integer(v), "no %s.%s in /stats", group, key);
	n = json_integer_value(v);
	json_decref(all);
	tu_resp_free(&r);
	return (n);
}

/* Waits (bounded) until GROUP's KEY reaches WANT; its value. */
static long long
stat_wait(int admin, const char *group, const char *key, long long want)
{
	long long	 deadline = tu_now_ms() + WAIT_MS, n;

	while ((n = stat_of(admin, group, key)) < want &&
	    tu_now_ms() < deadline)
		usleep(POLL_MS * 1000);
	return (n);
}

/* The number just before TEXT in the daemon's exit summary. */
static long long
summary_of(const char *text)
{
	const char	*buf = daemon_output(), *at, *p;

	ck_assert_msg((at = strstr(buf, text)) != NULL, "no \"%s\" in the "
	    "exit summary", text);
	for (p = at; p > buf && p[-1] == ' '; p--)
		;
	while (p > buf && p[-1] >= '0' && p[-1] <= '9')
		p--;
	ck_assert_msg(p < at && *p >= '0' && *p <= '9', "no number before "
	    "\"%s\"", text);
	return (strtoll(p, NULL, 10));
}

#define ENDLESS_CLIENTS	20	/* connections at once */
#define ENDLESS_ROUNDS	5

/*
 * A shadow streaming an endless body to many mirrors at once: each leg
 * ends at the diff cap (the primary's body is shorter: nothing more can
 * be compared), too large, long before max_response or the timeout;
 * every client gets the primary's bytes, requests not mirrored on the
 * same worker are answered, and the memory stays bounded.
 */
START_TEST(test_endless_many)
{
	const long	 bound = RSS_BOUND_KIB;
	const char	 req[] = "GET /api/users/2 HTTP/1.1\r\nHost: t\r\n\r\n";
	struct tu_resp	 want, got;
	char		*a, *b;
	int		 fds[ENDLESS_CLIENTS], admin, i, round, heads = 0;
	long long	 n;

	ck_assert_int_eq(tu_backend_start(&primary, "go", NULL), 0);
	ck_assert_int_eq(tu_misbehave_start(&shadow, "endless", NULL), 0);
	/* Before: read to max_response in spare time, it timed out. */
	admin = start_faults(shadow.port, "", "timeout = 5s\n"
	    "max_response = 1GiB\nmethods = GET\n");
	ck_assert_int_eq(tu_exchange(primary.port, req, &want), 0);
	a = undated(&want);
	for (round = 0; round < ENDLESS_ROUNDS; round++) {
		for (i = 0; i < ENDLESS_CLIENTS; i++) {
			ck_assert_int_ge(fds[i] = tu_connect(daemon_.port), 0);
			ck_assert_int_eq(tu_send_str(fds[i], req), 0);
		}
		for (i = 0; i < ENDLESS_CLIENTS; i++) {
			ck_assert_int_eq(tu_read_response(fds[i], 0, &got), 0);
			b = undated(&got);
			ck_assert_str_eq(b, a);
			free(b);
			tu_resp_free(&got);
			close(fds[i]);
		}
		/* Not mirrored (methods = GET), on the same worker. */
		ck_assert_int_eq(tu_exchange(daemon_.port, "HEAD /api/users/2 "
		    "HTTP/1.1\r\nHost: t\r\n\r\n", &got), 0);
		ck_assert_int_eq(got.status, 200);
		tu_resp_free(&got);
		heads++;
	}
	tu_resp_free(&want);
	free(a);
	n = ENDLESS_CLIENTS * ENDLESS_ROUNDS;
	ck_assert_int_eq(stat_wait(admin, "shadow_errors", "too_large", n), n);
	ck_assert_int_eq(stat_of(admin, "shadow_errors", "timeout"), 0);
	ck_assert_int_eq(stat_of(admin, "mirrors_dropped", "overloaded"), 0);
	ck_assert_int_eq(stat_of(admin, "not_mirrored", "method"), heads);
	ck_assert_int_eq(stat_of(admin, "not_mirrored", "max_inflight"), 0);
	/* Each leg closed: no shadow connection is left open. */
	ck_assert_int_eq(stat_of(admin, "connections", "shadow"), 0);
	ck_assert_int_lt(tu_proc_peak_kib(&daemon_), bound);
}
END_TEST

#define SHUTDOWN_MIRRORS 20

/*
 * Mirrors still waiting for a hanging shadow when drain_timeout runs
 * out are counted, dropped at shutdown: every mirror ends in exactly one
 * counter of the exit summary.
 */
START_TEST(test_shutdown_counts)
{
	long long	 mirrored, ended;
	int		 i;

	ck_assert_int_eq(tu_backend_start(&primary, "go", NULL), 0);
	ck_assert_int_eq(tu_misbehave_start(&shadow, "hang", NULL), 0);
	start_faults(shadow.port, "drain_timeout = 500ms\n", "timeout = 60s\n");
	for (i = 0; i < SHUTDOWN_MIRRORS; i++)
		get_ok("/hello", NULL);
	ck_assert_int_eq(tu_proc_stop(&daemon_, SIGTERM), 0);
	daemon_.pid = 0;
	mirrored = summary_of("requests; not mirrored");
	ck_assert_int_eq(mirrored, SHUTDOWN_MIRRORS);
	ended = summary_of("exchanges:") + summary_of("dropped (diff queue "
	    "full)") + summary_of("abandoned (client") +
	    summary_of("dropped (too busy") + summary_of("dropped (a reload") +
	    summary_of("dropped (still in flight");
	ck_assert_int_eq(ended, mirrored);
	ck_assert_int_eq(summary_of("dropped (still in flight"),
	    SHUTDOWN_MIRRORS);
}
END_TEST

/*
 * A mirror dropped before its request was read whole (the client left
 * mid-body) is a mirror too: the exit summary's mirrored requests are
 * each compared or dropped for one reason, and this one as abandoned.
 */
START_TEST(test_abandoned_unsent_counts)
{
	struct pollfd	 pfd;
	char		 buf[64];
	int		 admin, fd;

	ck_assert_int_eq(tu_backend_start(&primary, "go", NULL), 0);
	ck_assert_int_eq(tu_backend_start(&shadow, "rust", NULL), 0);
	admin = start_faults(shadow.port, "", "methods = GET POST\n");
	ck_assert_int_ne(fd = tu_connect(daemon_.port), -1);
	/* Our 100 Continue says the head was read: the mirror exists. */
	ck_assert_int_eq(tu_send_str(fd, "POST /echo HTTP/1.1\r\nHost: t\r\n"
	    "Content-Type: application/json\r\nContent-Length: 100\r\n"
	    "Expect: 100-continue\r\n\r\n"), 0);
	pfd.fd = fd;
	pfd.events = POLLIN;
	ck_assert_int_eq(poll(&pfd, 1, WAIT_MS), 1);
	ck_assert_int_gt(recv(fd, buf, sizeof(buf) - 1, 0), 12);
	ck_assert(strncmp(buf, "HTTP/1.1 100 ", 13) == 0);
	ck_assert_int_eq(tu_send_str(fd, "{\"a\":"), 0);
	close(fd);
	ck_assert_int_eq(stat_wait(admin, "mirrors_dropped", "abandoned", 1),
	    1);
	get_ok("/hello", NULL);
	ck_assert_int_eq(tu_proc_stop(&daemon_, SIGTERM), 0);
	daemon_.pid = 0;
	ck_assert_int_eq(summary_of("requests; not mirrored"), 2);
	ck_assert_int_eq(summary_of("exchanges:") + summary_of("dropped (diff "
	    "queue full)") + summary_of("abandoned (client") +
	    summary_of("dropped (too busy") + summary_of("dropped (a reload") +
	    summary_of("dropped (still in flight"), 2);
}
END_TEST

/* Lines in FILE (0 if it is not there). */
static long
lines_of(const char *file)
{
	FILE	*f;
	long	 n = 0;
	int	 c;

	if ((f = fopen(file, "r")) == NULL)
		return (0);
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return (n);
}

#define DOWN_REQUESTS	30	/* while the shadow is down */

/* Outlier detection: each mode, the shadow error its connections give. */
static const struct {
	const char	*mode;
	const char	*error;
} outliers[] = {
	{ "refused", "refused" },
	{ "reset", "reset" },
};

/*
 * A shadow whose connections fail (refused, reset) is left alone after
 * MIRROR_DOWN_FAILURES of them: it stops receiving requests while the
 * clients keep their answers, the mirrors are counted shadow_down, and
 * a healthy shadow on its port gets requests again after a probe.
 */
START_TEST(test_shadow_outlier)
{
	const char	*mode = outliers[_i].mode, *error = outliers[_i].error;
	char		 hits[PATH_MAX], hits2[PATH_MAX];
	long long	 errors, down, deadline;
	long		 seen0;
	int		 admin, port, i;

	snprintf(hits, sizeof(hits), "%s/outlier.%s.hits", tu_tmpdir(), mode);
	snprintf(hits2, sizeof(hits2), "%s/outlier.%s.ok", tu_tmpdir(), mode);
	ck_assert_int_eq(tu_backend_start(&primary, "go", NULL), 0);
	if (strcmp(mode, "refused") == 0)
		port = closed_port();
	else {
		ck_assert_int_eq(tu_misbehave_start(&shadow, mode, hits), 0);
		port = shadow.port;
	}
	admin = start_faults(port, "", "");
	/* Failures until it is down (bounded: far more than needed). */
	for (i = 0; i < 20 * MIRROR_DOWN_FAILURES &&
	    stat_of(admin, "not_mirrored", "shadow_down") == 0; i++)
		get_ok("/hello", NULL);
	ck_assert_int_gt(stat_of(admin, "not_mirrored", "shadow_down"), 0);
	ck_assert(tu_proc_wait_output(&daemon_, "down after connection "
	    "failures in a row", WAIT_MS));
	errors = stat_of(admin, "shadow_errors", error);
	ck_assert_int_ge(errors, MIRROR_DOWN_FAILURES);
	seen0 = lines_of(hits);
	down = stat_of(admin, "not_mirrored", "shadow_down");
	for (i = 0; i < DOWN_REQUESTS; i++)
		get_ok("/api/users/2", NULL);
	/* At most one probe went through meanwhile. */
	ck_assert_int_le(stat_of(admin, "shadow_errors", error), errors + 1);
	ck_assert_int_le(lines_of(hits), seen0 + 1);
	ck_assert_int_ge(stat_of(admin, "not_mirrored", "shadow_down"),
	    down + DOWN_REQUESTS - 1);
	/* A healthy shadow on its port: a probe finds it, mirroring resumes. */
	if (shadow.pid > 0)
		ck_assert_int_eq(tu_proc_stop(&shadow, SIGTERM), 0);
	ck_assert_int_eq(tu_misbehave_start_on(&shadow, "ok", hits2, port), 0);
	deadline = tu_now_ms() + 4 * MIRROR_DOWN_MAX_MS;
	while (lines_of(hits2) < 3 && tu_now_ms() < deadline) {
		get_ok("/hello", NULL);
		usleep(POLL_MS * 1000);
	}
	ck_assert_int_ge(lines_of(hits2), 3);
	ck_assert(tu_proc_wait_output(&daemon_, "answers again: mirroring",
	    WAIT_MS));
	ck_assert(tu_proc_output_has(&daemon_, ": probing"));
}
END_TEST

/*
 * SIGUSR1 while records are written: none is lost across the files, and
 * none is written twice. Under load the daemon may leave requests
 * unmirrored (max_inflight) or drop mirrors (overloaded): its /stats
 * accounts for each of the 200 requests, and every exchange compared
 * has exactly one record.
 */
START_TEST(test_reopen)
{
	char		 moved[PATH_MAX + 8];
	json_t		*a = NULL, *b = NULL, *o;
	long long	 compared;
	int		 i;

	start_pair("", "log_matches = 100%\n", "");
	snprintf(moved, sizeof(moved), "%s.1", logpath);
	for (i = 0; i < 200; i++) {
		if (i == 100) {
			ck_assert_int_eq(rename(logpath, moved), 0);
			ck_assert_int_eq(kill(daemon_.pid, SIGUSR1), 0);
			/* Handled: records from now on go to the new file. */
			ck_assert(tu_proc_wait_output(&daemon_, "SIGUSR1: "
			    "reopening the divergence log", WAIT_MS));
		}
		get_ok(i % 2 ? "/hello" : "/api/users/2", NULL);
	}
	ck_assert_int_eq(tu_mirrors_wait(&daemon_), 0);
	o = tu_admin_stats(&daemon_);
	ck_assert_ptr_nonnull(o);
	compared = tu_compared(o);
	ck_assert_int_eq(compared + tu_json_sum(o, "not_mirrored") +
	    tu_json_sum(o, "mirrors_dropped"), 200);
	json_decref(o);
	/* Wait for their records in the two files together. */
	for (i = 0; i < WAIT_MS / POLL_MS; i++) {
		json_decref(a);
		json_decref(b);
		a = records_of(moved);
		b = records_of(logpath);
		if ((long long)(json_array_size(a) + json_array_size(b)) >=
		    compared)
			break;
		usleep(POLL_MS * 1000);
	}
	ck_assert_int_eq(json_array_size(a) + json_array_size(b), compared);
	ck_assert_uint_gt(json_array_size(b), 0);
	ck_assert_int_eq(tu_validate_records(moved), 0);
	ck_assert_int_eq(tu_validate_records(logpath), 0);
	json_decref(a);
	json_decref(b);
	o = tu_admin_stats(&daemon_);
	ck_assert_int_eq(tu_json_int(o, "log/written"), compared);
	ck_assert_int_eq(tu_json_int(o, "log/lost"), 0);
	ck_assert_int_eq(tu_json_int(o, "log/dropped"), 0);
	json_decref(o);
}
END_TEST

/* path = -: records on standard output, whole lines among messages. */
START_TEST(test_log_stdout)
{
	int	 i;

	start_plain("[log]\npath = -\n");
	get_ok("/api/users/2", NULL);
	for (i = 0; i < WAIT_MS / POLL_MS && !tu_proc_output_has(&daemon_,
	    "\"uri\":\"/api/users/2\""); i++)
		usleep(POLL_MS * 1000);
	ck_assert(tu_proc_output_has(&daemon_, "{\"type\":\"mismatch\","));
	ck_assert(tu_proc_output_has(&daemon_, "\"path\":\"/balance\""));
}
END_TEST

/* A log that cannot be written does not stop the proxy. */
START_TEST(test_log_unwritable)
{
	int	 i;

	/* /dev/full opens, and every write fails with ENOSPC. */
	start_plain("[log]\npath = /dev/full\nlog_matches = 100%\n");
	for (i = 0; i < 50; i++)
		get_ok("/api/users/2", NULL);
	for (i = 0; i < WAIT_MS / POLL_MS &&
	    !tu_proc_output_has(&daemon_, "divergence log /dev/full: write");
	    i++)
		usleep(POLL_MS * 1000);
	/* What happened, and how many records it cost. */
	ck_assert(tu_proc_output_has(&daemon_, "divergence log /dev/full: "
	    "write: No space left on device: "));
	ck_assert(tu_proc_output_has(&daemon_, " records lost since the last "
	    "warning, "));
	ck_assert(!tu_proc_output_has(&daemon_, "Success"));
	get_ok("/hello", NULL);
	/* Every record is accounted for: none written, all lost. */
	/* Whatever the log does, the memory it takes is bounded. */
	ck_assert_int_lt(tu_proc_peak_kib(&daemon_), RSS_BOUND_KIB);
	ck_assert_int_eq(tu_proc_stop(&daemon_, SIGTERM), 0);
	daemon_.pid = 0;
	ck_assert(tu_proc_output_has(&daemon_, "divergence log: 0 records "
	    "written, 0 dropped (queue full), 51 lost (write failed)"));
}
END_TEST

/* The exit summary's record counts; asserts it is there. */
static void
log_counts(unsigned long long *written, unsigned long long *dropped,
    unsigned long long *lost)
{
	const char	*at;

	ck_assert_ptr_nonnull(at = strstr(daemon_output(),
	    "divergence log: "));
	ck_assert_int_eq(sscanf(at, "divergence log: %llu records written, "
	    "%llu dropped (queue full), %llu lost", written, dropped, lost), 3);
}

/* A reader of FIFO that does not block (and that no child inherits). */
static int
fifo_reader(const char *fifo)
{
	return (open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC));
}

/*
 * A daemon whose log is a new FIFO NAME, in *FIFO (PATH_MAX), with
 * SERVER_KEYS in [server], the Go service as primary and the Rust one as
 * shadow, once it is ready. A reader opens the FIFO first if RFD is not
 * NULL. Returns its admin port.
 */
static int
start_fifo(const char *name, char *fifo, const char *server_keys, int *rfd)
{
	char	 conf[PATH_MAX + 1024];
	int	 admin;

	snprintf(fifo, PATH_MAX, "%s/%s", tu_tmpdir(), name);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	if (rfd != NULL)
		ck_assert_int_ge(*rfd = fifo_reader(fifo), 0);
	ck_assert_int_eq(tu_backend_start(&primary, "go", NULL), 0);
	ck_assert_int_eq(tu_backend_start(&shadow, "rust", NULL), 0);
	snprintf(conf, sizeof(conf),
	    "[server]\nworkers = 1\n%s\n[listen]\naddress = 127.0.0.1:0\n"
	    "[primary]\nurl = http://127.0.0.1:%d\n"
	    "[shadow]\nurl = http://127.0.0.1:%d\n"
	    "[log]\npath = %s\nlog_matches = 100%%\n", server_keys,
	    primary.port, shadow.port, fifo);
	ck_assert_int_eq(tu_daemon_start(&daemon_, conf, 0), 0);
	admin = tu_proc_port(&daemon_, "admin endpoint on 127.0.0.1:");
	ck_assert_int_gt(admin, 0);
	/* Ready for systemd: READY=1 follows this line. */
	ck_assert(tu_proc_wait_output(&daemon_, " started: ", WAIT_MS));
	return (admin);
}

/* The status of /healthz on the admin port ADMIN (-1: no answer). */
static int
healthz(int admin)
{
	struct tu_resp	 r;
	int		 status = -1;

	if (tu_exchange(admin, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n",
	    &r) == 0) {
		status = r.status;
		tu_resp_free(&r);
	}
	return (status);
}

/*
 * Reads the FIFO's non-blocking RFD until it gave N lines (bounded);
 * each must be whole, JSON, and the data must end with a newline.
 */
static void
fifo_lines(int rfd, size_t n)
{
	static char	 buf[1 << 20];
	long long	 deadline = tu_now_ms() + WAIT_MS;
	json_error_t	 err;
	json_t		*rec;
	size_t		 len = 0, lines = 0;
	ssize_t		 r;
	char		*p, *nl;

	while (lines < n && tu_now_ms() < deadline) {
		r = read(rfd, buf + len, sizeof(buf) - 1 - len);
		if (r <= 0) {
			usleep(POLL_MS * 1000);
			continue;
		}
		for (p = buf + len, len += (size_t)r; p < buf + len; p++)
			lines += *p == '\n';
	}
	ck_assert_msg(lines >= n, "%zu lines from the FIFO, expected %zu",
	    lines, n);
	ck_assert_int_eq(buf[len - 1], '\n');
	buf[len] = '\0';
	for (p = buf; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		rec = json_loads(p, 0, &err);
		ck_assert_msg(rec != NULL, "not JSON: %s: %s", err.text, p);
		json_decref(rec);
	}
}

/*
 * A FIFO nobody reads as the log: the daemon still becomes ready and
 * serves, the records wait for a reader, and SIGTERM ends it.
 */
START_TEST(test_log_fifo_no_reader)
{
	unsigned long long	 written, dropped, lost;
	char			 fifo[PATH_MAX];
	int			 admin, rfd, i;

	admin = start_fifo("noreader.fifo", fifo, "", NULL);
	ck_assert(tu_proc_output_has(&daemon_, "a FIFO with no reader"));
	ck_assert_int_eq(healthz(admin), 200);
	for (i = 0; i < 3; i++)
		get_ok("/api/users/2", NULL);
	/* A reader that comes later gets the records kept for it. */
	ck_assert_int_ge(rfd = fifo_reader(fifo), 0);
	fifo_lines(rfd, 3);
	ck_assert(tu_proc_wait_output(&daemon_, "a reader opened the FIFO",
	    WAIT_MS));
	/* Whatever the log does, the memory it takes is bounded. */
	ck_assert_int_lt(tu_proc_peak_kib(&daemon_), RSS_BOUND_KIB);
	ck_assert_int_eq(tu_proc_stop(&daemon_, SIGTERM), 0);
	daemon_.pid = 0;
	close(rfd);
	log_counts(&written, &dropped, &lost);
	ck_assert_uint_eq(written, 3);
	ck_assert_uint_eq(dropped + lost, 0);
}
END_TEST

/*
 * SIGHUP with a FIFO nobody reads any more as the log: the reload does
 * not hang the main thread, and a new reader gets whole lines.
 */
START_TEST(test_log_fifo_reload)
{
	unsigned long long	 written, dropped, lost;
	char			 fifo[PATH_MAX];
	int			 admin, rfd, i;

	/* A reader at the start, then none. */
	admin = start_fifo("reload.fifo", fifo, "", &rfd);
	close(rfd);
	ck_assert_int_eq(kill(daemon_.pid, SIGHUP), 0);
	ck_assert(tu_proc_wait_output(&daemon_, "SIGHUP: configuration 2 "
	    "loaded", WAIT_MS));
	ck_assert_int_eq(healthz(admin), 200);
	/* Written to no reader: lost, and counted. */
	for (i = 0; i < 2; i++)
		get_ok("/api/users/2", NULL);
	ck_assert(tu_proc_wait_output(&daemon_, "records lost since the last "
	    "warning", WAIT_MS));
	/* A new reader gets what comes next, whole lines. */
	ck_assert_int_ge(rfd = fifo_reader(fifo), 0);
	for (i = 0; i < 2; i++)
		get_ok("/api/users/2", NULL);
	fifo_lines(rfd, 2);
	/* Whatever the log does, the memory it takes is bounded. */
	ck_assert_int_lt(tu_proc_peak_kib(&daemon_), RSS_BOUND_KIB);
	ck_assert_int_eq(tu_proc_stop(&daemon_, SIGTERM), 0);
	daemon_.pid = 0;
	close(rfd);
	log_counts(&written, &dropped, &lost);
	ck_assert_uint_eq(written + dropped + lost, 4);
	ck_assert_uint_ge(written, 2);
}
END_TEST

/*
 * The log file removed while records flow: a new file appears and takes
 * every later record; none goes unseen into the removed one.
 */
START_TEST(test_log_removed)
{
	unsigned long long	 written, dropped, lost;
	json_t			*after, *st;
	FILE			*old = NULL;
	size_t			 before = 0;
	char			*line = NULL;
	size_t			 size = 0;
	int			 i;

	start_pair("", "log_matches = 100%\n", "");
	for (i = 0; i < 200; i++) {
		if (i == 100) {
			/* Kept open: what went into it is counted below. */
			ck_assert_ptr_nonnull(old = fopen(logpath, "r"));
			ck_assert_int_eq(unlink(logpath), 0);
		}
		get_ok(i % 2 ? "/hello" : "/api/users/2", NULL);
	}
	/* A new file, without SIGUSR1. */
	after = records_wait(1);
	json_decref(after);
	ck_assert(tu_proc_output_has(&daemon_, "the file was removed: "
	    "created anew"));
	st = tu_admin_stats(&daemon_);
	ck_assert_int_ge(tu_json_int(st, "log/reopens"), 1);
	json_decref(st);
	/* Whatever the log does, the memory it takes is bounded. */
	ck_assert_int_lt(tu_proc_peak_kib(&daemon_), RSS_BOUND_KIB);
	ck_assert_int_eq(tu_proc_stop(&daemon_, SIGTERM), 0);
	daemon_.pid = 0;
	while (getline(&line, &size, old) != -1)
		before++;
	free(line);
	fclose(old);
	after = records_of(logpath);
	log_counts(&written, &dropped, &lost);
	ck_assert_uint_eq(written + dropped + lost, 200);
	ck_assert_uint_eq(lost, 0);
	/* Every record counted as written is in one of the two files. */
	ck_assert_uint_eq(before + json_array_size(after), written);
	ck_assert_uint_gt(json_array_size(after), 0);
	json_decref(after);
}
END_TEST

/*
 * A short write (the file size limit, as a full disk would): the warning
 * says so and counts, the file keeps whole lines only.
 */
START_TEST(test_log_short_write)
{
	unsigned long long	 written, dropped, lost;
	struct rlimit		 rl, small;
	json_t			*all;
	int			 i;

	ck_assert_int_eq(tu_backend_start(&primary, "go", NULL), 0);
	ck_assert_int_eq(tu_backend_start(&shadow, "rust", NULL), 0);
	/* Only the daemon, forked now, gets the limit. */
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &rl), 0);
	small = rl;
	small.rlim_cur = 4096;
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
	start_daemon(shadow.port, "", "log_matches = 100%\n", "");
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	for (i = 0; i < 30; i++)
		get_ok("/api/users/2", NULL);
	ck_assert(tu_proc_wait_output(&daemon_, ": short write (",
	    WAIT_MS));
	ck_assert(tu_proc_output_has(&daemon_, " bytes, cut off again): "));
	ck_assert(!tu_proc_output_has(&daemon_, "Success"));
	/* Whatever the log does, the memory it takes is bounded. */
	ck_assert_int_lt(tu_proc_peak_kib(&daemon_), RSS_BOUND_KIB);
	ck_assert_int_eq(tu_proc_stop(&daemon_, SIGTERM), 0);
	daemon_.pid = 0;
	log_counts(&written, &dropped, &lost);
	ck_assert_uint_eq(written + dropped + lost, 30);
	ck_assert_uint_gt(lost, 0);
	all = records_of(logpath);
	ck_assert_uint_eq(json_array_size(all), written);
	json_decref(all);
}
END_TEST

#define EXIT_MARGIN_MS	800	/* past drain_timeout: the docs say 500 */

/*
 * A writer blocked on a FIFO nobody reads has what is left of the drain
 * deadline: the exit takes drain_timeout and a margin, not twice that.
 */
START_TEST(test_log_blocked_exit)
{
	char		 fifo[PATH_MAX];
	long long	 t0, took;
	int		 rfd, fd, i;

	start_fifo("blocked.fifo", fifo, "drain_timeout = 1s", &rfd);
	/* A small pipe: a few records fill it, then the writer blocks. */
	ck_assert_int_ge(fcntl(rfd, F_SETPIPE_SZ, 4096), 4096);
	for (i = 0; i < 40; i++)
		get_ok("/api/users/2", NULL);
	/* A request the drain waits for until drain_timeout ends. */
	ck_assert_int_ge(fd = tu_connect(daemon_.port), 0);
	ck_assert_int_eq(tu_send_str(fd, "GET /sleep/10000 HTTP/1.1\r\n"
	    "Host: t\r\n\r\n"), 0);
	for (i = 0; i < WAIT_MS / POLL_MS && tu_backend_count(primary.port) <
	    41; i++)
		usleep(POLL_MS * 1000);
	ck_assert_int_ge(tu_backend_count(primary.port), 41);
	t0 = tu_now_ms();
	ck_assert_int_eq(tu_proc_stop(&daemon_, SIGTERM), 0);
	took = tu_now_ms() - t0;
	daemon_.pid = 0;
	close(fd);
	close(rfd);
	ck_assert(tu_proc_output_has(&daemon_, "drain timeout"));
	ck_assert(tu_proc_output_has(&daemon_, "the writer is blocked on its "
	    "file"));
	ck_assert_msg(took < 1000 + EXIT_MARGIN_MS, "exit took %lldms with "
	    "drain_timeout 1s", took);
}
END_TEST

static Suite *
shadow_suite(void)
{
	Suite	*s = suite_create("shadow");
	TCase	*tc;

	tc = tcase_create("diffing");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_mismatch_kinds);
	tcase_add_test(tc, test_equal_writes_nothing);
	tcase_add_test(tc, test_post_mirroring);
	tcase_add_test(tc, test_chunked_body_mirrored);
	tcase_add_test(tc, test_sampling_by_key);
	tcase_add_test(tc, test_request_id);
	tcase_add_test(tc, test_marker);
	tcase_add_test(tc, test_no_loop);
	tcase_add_test(tc, test_shadow_host);
	tcase_add_test(tc, test_redaction);
	tcase_add_test(tc, test_redaction_defaults);
	tcase_add_test(tc, test_partial_body);
	suite_add_tcase(s, tc);

	tc = tcase_create("isolation");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_loop_test(tc, test_shadow_misbehaving, 0,
	    nitems(misbehaviours));
	tcase_add_test(tc, test_max_inflight);
	suite_add_tcase(s, tc);

	tc = tcase_create("shadow faults");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_endless_many);
	tcase_add_test(tc, test_shutdown_counts);
	tcase_add_test(tc, test_abandoned_unsent_counts);
	tcase_add_loop_test(tc, test_shadow_outlier, 0, nitems(outliers));
	suite_add_tcase(s, tc);

	tc = tcase_create("log");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_reopen);
	tcase_add_test(tc, test_drain_compares);
	tcase_add_test(tc, test_log_stdout);
	tcase_add_test(tc, test_log_unwritable);
	suite_add_tcase(s, tc);

	tc = tcase_create("log faults");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_log_fifo_no_reader);
	tcase_add_test(tc, test_log_fifo_reload);
	tcase_add_test(tc, test_log_removed);
	tcase_add_test(tc, test_log_short_write);
	tcase_add_test(tc, test_log_blocked_exit);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (tu_run(shadow_suite()));
}
