/*
 * Integration tests of the primary path: the real daemon on an ephemeral
 * loopback port in front of the real test backend (sd-backend), both
 * started and stopped by each test, by PID.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corpus-cases.h"
#include "testutil.h"

#define MIB		(1024L * 1024)
#define BIG_BODY	(100 * MIB)
#define MAXCONN_LIMIT	20	/* max_connections of the eviction test */
#define MAXCONN_EVICTED	5	/* newcomers past it */

/*
 * Peak RSS allowed to the daemon while 100 MiB stream through it: far
 * below the body size. Sanitizers add their shadow memory and
 * quarantine, so they get more room (still below the body size).
 */
#ifdef HAVE_SANITIZERS
#define RSS_BOUND_KIB	(90 * 1024)
#else
#define RSS_BOUND_KIB	(32 * 1024)
#endif

/*
 * Clients that do not read a large mirrored response: what each may
 * hold (docs/architecture.md says about 400 KiB, the measure is near
 * 300), and the daemon without them. Sanitizers double a block's cost.
 */
#define STALLED_CLIENTS	200
#define FAULT_CLIENTS	20	/* at once, for a primary's fault */
#define SLOWLORIS_CLIENTS	200
#define STALLED_BODY	(8 * MIB)
#ifdef HAVE_SANITIZERS
#define STALLED_CONN_KIB	1024
#define STALLED_BASE_KIB	(192 * 1024)
#else
#define STALLED_CONN_KIB	512
#define STALLED_BASE_KIB	(48 * 1024)
#endif

static const char *const base_conf =
	"[server]\n"
	"workers = 2\n"
	"drain_timeout = 5s\n"
	"[listen]\n"
	"address = 127.0.0.1:0\n"
	"[primary]\n"
	"url = http://127.0.0.1:%BACKEND%\n"
	"read_timeout = 1s\n"
	"[limits]\n"
	"max_header_bytes = 4KiB\n"
	"max_header_count = 40\n"
	"max_request_body = 200MiB\n"
	"client_header_timeout = 400ms\n"
	"client_body_timeout = 400ms\n";

static struct tu_proc	backend, daemon_;

/* Starts the backend and the daemon with CONF. */
static void
start_with(const char *conf)
{
	ck_assert_int_eq(tu_backend_start(&backend, "go", NULL), 0);
	ck_assert_int_eq(tu_daemon_start(&daemon_, conf, backend.port), 0);
}

static void
setup(void)
{
	start_with(base_conf);
}

/* Stops both; the daemon must exit 0 on SIGTERM. */
static void
teardown(void)
{
	int	 status = 0;

	if (daemon_.pid > 0)
		status = tu_proc_stop(&daemon_, SIGTERM);
	if (backend.pid > 0)
		tu_proc_stop(&backend, SIGTERM);
	ck_assert_int_eq(status, 0);
}

/* One request on a new connection; asserts it got a response. */
static void
exchange(const char *raw, struct tu_resp *r)
{
	ck_assert_int_eq(tu_exchange(daemon_.port, raw, r), 0);
}

/* Whether the daemon's /metrics holds TEXT. */
static int
admin_metric(const char *text)
{
	struct tu_resp	 r;
	int		 port, found;

	port = tu_proc_port(&daemon_, "admin endpoint on 127.0.0.1:");
	ck_assert_int_gt(port, 0);
	ck_assert_int_eq(tu_exchange(port, "GET /metrics HTTP/1.1\r\n"
	    "Host: a\r\nConnection: close\r\n\r\n", &r), 0);
	found = strstr(r.body, text) != NULL;
	tu_resp_free(&r);
	return (found);
}

/*
 * What a fault must leave: its counter (METRIC, a line of /metrics),
 * its log line (LOGGED), and the daemon's peak memory under the bound.
 */
static void
assert_fault_seen(const char *metric, const char *logged)
{
	ck_assert_msg(admin_metric(metric), "not in /metrics: %s", metric);
	ck_assert_msg(tu_proc_output_has(&daemon_, logged), "not logged: %s",
	    logged);
	ck_assert_int_lt(tu_proc_peak_kib(&daemon_), RSS_BOUND_KIB);
}

START_TEST(test_keepalive)
{
	struct tu_resp	 r;
	int		 fd, i;

	fd = tu_connect(daemon_.port);
	ck_assert_int_ge(fd, 0);
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(tu_send_str(fd, "GET /hello HTTP/1.1\r\n"
		    "Host: t\r\n\r\n"), 0);
		ck_assert_int_eq(tu_read_response(fd, 0, &r), 0);
		ck_assert_int_eq(r.status, 200);
		ck_assert_str_eq(r.body, "hello\n");
		ck_assert(strstr(r.head, "Connection: close") == NULL);
		tu_resp_free(&r);
	}
	close(fd);
	ck_assert_int_eq(tu_backend_count(backend.port), 5);
}
END_TEST

START_TEST(test_pipelining)
{
	struct tu_resp	 r;
	char		 v[64];
	int		 fd, i;

	fd = tu_connect(daemon_.port);
	/* Three requests in one write, one with a body, one HEAD. */
	ck_assert_int_eq(tu_send_str(fd,
	    "GET /echo?n=1 HTTP/1.1\r\nHost: t\r\n\r\n"
	    "POST /echo?n=2 HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\n"
	    "hello"
	    "HEAD /echo?n=3 HTTP/1.1\r\nHost: t\r\n\r\n"
	    "GET /echo?n=4 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"),
	    0);
	for (i = 1; i <= 4; i++) {
		ck_assert_int_eq(tu_read_response(fd, i == 3, &r), 0);
		ck_assert_int_eq(r.status, 200);
		snprintf(v, sizeof(v), "/echo?n=%d", i);
		ck_assert_ptr_nonnull(tu_resp_header(&r, "X-Echo-Uri", v + 32,
		    32));
		ck_assert_str_eq(v + 32, v);
		if (i == 2)
			ck_assert_str_eq(r.body, "hello");
		tu_resp_free(&r);
	}
	ck_assert(tu_wait_closed(fd, 2000));
	close(fd);
}
END_TEST

START_TEST(test_chunked_request)
{
	struct tu_resp	 r;
	char		 v[32];

	exchange("POST /echo HTTP/1.1\r\nHost: t\r\n"
	    "Transfer-Encoding: chunked\r\nContent-Type: text/x-test\r\n\r\n"
	    "5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\n\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "hello world");
	ck_assert_str_eq(tu_resp_header(&r, "X-Echo-Length", v, sizeof(v)),
	    "11");
	ck_assert_str_eq(tu_resp_header(&r, "Content-Type", v, sizeof(v)),
	    "text/x-test");
	tu_resp_free(&r);
}
END_TEST

/* Whether BODY is the backend's /bytes pattern. */
static int
is_pattern(const char *body, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (body[i] != 'a' + (char)(i % 26))
			return (0);
	return (1);
}

START_TEST(test_chunked_response)
{
	struct tu_resp	 r;
	char		 v[32];

	exchange("GET /bytes/100000?chunked=1 HTTP/1.1\r\nHost: t\r\n\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(tu_resp_header(&r, "Transfer-Encoding", v, sizeof(v)),
	    "chunked");
	ck_assert_uint_eq(r.body_len, 100000);
	ck_assert(is_pattern(r.body, r.body_len));
	tu_resp_free(&r);
}
END_TEST

START_TEST(test_http10_client)
{
	struct tu_resp	 r;
	char		 v[32];

	/* A chunked response can't go to HTTP/1.0: close-delimited. */
	exchange("GET /bytes/1000?chunked=1 HTTP/1.0\r\n\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_null(tu_resp_header(&r, "Transfer-Encoding", v,
	    sizeof(v)));
	ck_assert_uint_eq(r.body_len, 1000);
	ck_assert(r.closed);
	tu_resp_free(&r);
}
END_TEST

START_TEST(test_http10_without_host)
{
	struct tu_resp	 r;
	char		 want[64];

	/* HTTP/1.1 backends need a Host: the primary's is used. */
	exchange("GET /headers HTTP/1.0\r\n\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	snprintf(want, sizeof(want), "Host: 127.0.0.1:%d\n", backend.port);
	ck_assert_ptr_nonnull(strstr(r.body, want));
	tu_resp_free(&r);
}
END_TEST

START_TEST(test_no_body_statuses)
{
	struct tu_resp	 r;
	char		 v[32];
	int		 fd;

	fd = tu_connect(daemon_.port);
	tu_send_str(fd, "HEAD /bytes/10 HTTP/1.1\r\nHost: t\r\n\r\n");
	ck_assert_int_eq(tu_read_response(fd, 1, &r), 0);
	ck_assert_int_eq(r.status, 200);
	/* HEAD keeps the primary's Content-Length; no body follows. */
	ck_assert_str_eq(tu_resp_header(&r, "Content-Length", v, sizeof(v)),
	    "10");
	tu_resp_free(&r);
	tu_send_str(fd, "GET /status/204 HTTP/1.1\r\nHost: t\r\n\r\n");
	ck_assert_int_eq(tu_read_response(fd, 0, &r), 0);
	ck_assert_int_eq(r.status, 204);
	ck_assert_ptr_null(tu_resp_header(&r, "Content-Length", v, sizeof(v)));
	tu_resp_free(&r);
	tu_send_str(fd, "GET /status/304 HTTP/1.1\r\nHost: t\r\n\r\n");
	ck_assert_int_eq(tu_read_response(fd, 0, &r), 0);
	ck_assert_int_eq(r.status, 304);
	tu_resp_free(&r);
	/* Still in step: the connection carried no stray body bytes. */
	tu_send_str(fd, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
	ck_assert_int_eq(tu_read_response(fd, 0, &r), 0);
	ck_assert_str_eq(r.body, "hello\n");
	tu_resp_free(&r);
	close(fd);
}
END_TEST

START_TEST(test_expect_continue)
{
	struct tu_resp	 r;
	char		 buf[64];
	ssize_t		 n;
	int		 fd;

	fd = tu_connect(daemon_.port);
	tu_send_str(fd, "PUT /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
	    "Expect: 100-continue\r\n\r\n");
	/* The body is not sent before the 100. */
	n = recv(fd, buf, 25, MSG_WAITALL);
	ck_assert_int_eq(n, 25);
	ck_assert(memcmp(buf, "HTTP/1.1 100 Continue\r\n\r\n", 25) == 0);
	tu_send_str(fd, "hello");
	ck_assert_int_eq(tu_read_response(fd, 0, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "hello");
	tu_resp_free(&r);
	close(fd);
}
END_TEST

START_TEST(test_headers_reframed)
{
	struct tu_resp	 r;

	exchange("GET /headers HTTP/1.1\r\nHost: t\r\n"
	    "Connection: keep-alive, X-Hop, Host\r\nX-Hop: secret\r\n"
	    "Keep-Alive: timeout=5\r\nTE: trailers\r\n"
	    "Proxy-Connection: keep-alive\r\nTrailer: X-T\r\n"
	    "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: https\r\n"
	    "Via: 1.0 edge\r\nX-Keep: yes\r\n\r\n", &r);
	ck_assert_ptr_nonnull(strstr(r.body, "Host: t\n"));
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "X-Keep: yes\n"));
	ck_assert_ptr_nonnull(strstr(r.body, "Via: 1.0 edge\n"));
	ck_assert_ptr_nonnull(strstr(r.body, "Via: 1.1 shadowdiff\n"));
	ck_assert_ptr_nonnull(strstr(r.body,
	    "X-Forwarded-For: 10.0.0.1, 127.0.0.1\n"));
	ck_assert_ptr_nonnull(strstr(r.body, "X-Forwarded-Proto: http\n"));
	ck_assert_ptr_null(strstr(r.body, "X-Hop"));
	ck_assert_ptr_null(strstr(r.body, "Keep-Alive"));
	ck_assert_ptr_null(strstr(r.body, "TE:"));
	ck_assert_ptr_null(strstr(r.body, "Proxy-Connection"));
	ck_assert_ptr_null(strstr(r.body, "Trailer"));
	ck_assert_ptr_null(strstr(r.body, "https"));
	tu_resp_free(&r);
}
END_TEST

/* Malformed requests: each gets its status, and none reaches the backend. */
static const struct {
	const char	*name;
	const char	*raw;
	int		 status;
} rejects[] = {
	{ "obs-fold", "GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n b\r\n\r\n", 400 },
	{ "empty name", "GET / HTTP/1.1\r\nHost: t\r\n: b\r\n\r\n", 400 },
	{ "bare LF", "GET / HTTP/1.1\nHost: t\n\n", 400 },
	{ "CL and TE", "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400 },
	{ "two CL", "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n"
	    "Content-Length: 1\r\n\r\nx", 400 },
	{ "TE gzip", "POST /echo HTTP/1.1\r\nHost: t\r\n"
	    "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 400 },
	{ "TE unknown", "POST /echo HTTP/1.1\r\nHost: t\r\n"
	    "Transfer-Encoding: foo\r\n\r\n", 400 },
	{ "TE in 1.0", "POST /echo HTTP/1.0\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400 },
	{ "no Host", "GET / HTTP/1.1\r\n\r\n", 400 },
	{ "two Host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400 },
	{ "absolute form, ftp", "GET ftp://t/ HTTP/1.1\r\nHost: t\r\n\r\n",
	    400 },
	{ "absolute form, no authority", "GET http:///hello HTTP/1.1\r\n"
	    "Host: t\r\n\r\n", 400 },
	{ "HTTP/1.2", "GET /hello HTTP/1.2\r\nHost: t\r\n\r\n", 505 },
	{ "method not known", "FETCH /hello HTTP/1.1\r\nHost: t\r\n\r\n",
	    501 },
	/*
	 * Issue 14's corpus cases (corpus-cases.h): framing names in
	 * another spelling, protocols other than HTTP, and a method
	 * llhttp 8.1 does not know.
	 */
	{ "guardian/ambiguous/08", GUARDIAN_AMBIGUOUS_08, 400 },
	{ "guardian/ambiguous/09", GUARDIAN_AMBIGUOUS_09, 400 },
	{ "guardian/ambiguous/31", GUARDIAN_AMBIGUOUS_31, 400 },
	{ "guardian/ambiguous/32", GUARDIAN_AMBIGUOUS_32, 400 },
	{ "smuggler/0131", SMUGGLER_0131, 400 },
	{ "llhttp/method/12", LLHTTP_METHOD_12, 400 },
	{ "llhttp/method/13", LLHTTP_METHOD_13, 400 },
	{ "llhttp/method/14", LLHTTP_METHOD_14, 400 },
	{ "llhttp/method/16", LLHTTP_METHOD_16, 501 },
	{ "bad chunk", "POST /echo HTTP/1.1\r\nHost: t\r\n"
	    "Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400 },
	{ "CONNECT", "CONNECT t:443 HTTP/1.1\r\nHost: t:443\r\n\r\n", 405 },
	{ "Expect other", "POST /echo HTTP/1.1\r\nHost: t\r\n"
	    "Content-Length: 1\r\nExpect: 200-ok\r\n\r\nx", 417 },
	{ "CL too big", "POST /echo HTTP/1.1\r\nHost: t\r\n"
	    "Content-Length: 209715201\r\n\r\n", 413 },
};

START_TEST(test_rejects)
{
	struct tu_resp	 r;
	size_t		 i;
	int		 fd;

	for (i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++) {
		fd = tu_connect(daemon_.port);
		ck_assert_int_eq(tu_send_str(fd, rejects[i].raw), 0);
		ck_assert_msg(tu_read_response(fd, 0, &r) == 0, "%s",
		    rejects[i].name);
		ck_assert_msg(r.status == rejects[i].status, "%s: %d",
		    rejects[i].name, r.status);
		ck_assert_msg(strstr(r.head, "Connection: close") != NULL,
		    "%s", rejects[i].name);
		ck_assert_msg(tu_wait_closed(fd, 3000), "%s",
		    rejects[i].name);
		tu_resp_free(&r);
		close(fd);
	}
	ck_assert(tu_proc_output_has(&daemon_, "400 Bad Request: obsolete "
	    "line folding"));
	ck_assert_int_eq(tu_backend_count(backend.port), 0);
	exchange("GET /seen HTTP/1.1\r\nHost: t\r\n\r\n", &r);
	ck_assert_str_eq(r.body, "");
	tu_resp_free(&r);
	/* 501 and 505 are counted as errors of ours. */
	ck_assert(admin_metric("shadowdiff_primary_errors_total"
	    "{status=\"501\"} 2\n"));
	ck_assert(admin_metric("shadowdiff_primary_errors_total"
	    "{status=\"505\"} 1\n"));
}
END_TEST

/*
 * Regression (issue 14, bug 6): "Connection: close" with a tab after it,
 * or last in a list, left the connection open after the response
 * (RFC 9112 9.6 says it closes).
 */
START_TEST(test_connection_close_ows)
{
	static const char *const reqs[] = {
		"GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\t\r\n\r\n",
		"GET /hello HTTP/1.1\r\nHost: t\r\n"
		    "Connection: keep-alive, close\r\n\r\n",
		"GET /hello HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
	};
	struct tu_resp	 r;
	size_t		 i;
	int		 fd;

	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		fd = tu_connect(daemon_.port);
		ck_assert_int_eq(tu_send_str(fd, reqs[i]), 0);
		ck_assert_int_eq(tu_read_response(fd, 0, &r), 0);
		ck_assert_int_eq(r.status, 200);
		ck_assert_msg(strstr(r.head, "Connection: close") != NULL,
		    "%s", reqs[i]);
		ck_assert_msg(tu_wait_closed(fd, 3000), "%s", reqs[i]);
		tu_resp_free(&r);
		close(fd);
	}
}
END_TEST

/*
 * Regression (issue 14): an absolute-form target was refused with 400
 * though RFC 9112 3.2.2 says a server must accept it. It reaches the
 * backend in origin form, with the target's host as Host in place of
 * the one received. llhttp/uri/03: see corpus-cases.h.
 */
START_TEST(test_absolute_form)
{
	struct tu_resp	 r;
	char		 v[64];

	exchange("GET http://target.example:8080/headers?x=1 HTTP/1.1\r\n"
	    "Host: other.example\r\n\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "Host: target.example:8080\n"));
	ck_assert_ptr_null(strstr(r.body, "other.example"));
	tu_resp_free(&r);
	exchange("POST HTTPS://t.example/echo?a=b HTTP/1.1\r\nHost: t\r\n"
	    "Content-Length: 2\r\n\r\nhi", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(tu_resp_header(&r, "X-Echo-Uri", v, sizeof(v)));
	ck_assert_str_eq(v, "/echo?a=b");
	ck_assert_str_eq(r.body, "hi");
	tu_resp_free(&r);
	exchange(LLHTTP_URI_03, &r);
	ck_assert_int_eq(r.status, 404);	/* sd-backend has no "/" */
	tu_resp_free(&r);
	exchange("GET /seen HTTP/1.1\r\nHost: t\r\n\r\n", &r);
	ck_assert_ptr_nonnull(strstr(r.body, "GET /headers?x=1 "));
	ck_assert_ptr_nonnull(strstr(r.body, "\nPOST /echo?a=b "));
	ck_assert_ptr_nonnull(strstr(r.body, "\nGET /?hail=all "));
	ck_assert_ptr_null(strstr(r.body, "http"));
	tu_resp_free(&r);
}
END_TEST

START_TEST(test_reject_second_request)
{
	struct tu_resp	 r;
	size_t		 i;
	int		 fd;

	/* The same rejections as the second request of a connection. */
	for (i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++) {
		fd = tu_connect(daemon_.port);
		tu_send_str(fd, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
		ck_assert_int_eq(tu_read_response(fd, 0, &r), 0);
		ck_assert_int_eq(r.status, 200);
		tu_resp_free(&r);
		ck_assert_int_eq(tu_send_str(fd, rejects[i].raw), 0);
		ck_assert_msg(tu_read_response(fd, 0, &r) == 0, "%s",
		    rejects[i].name);
		ck_assert_msg(r.status == rejects[i].status, "%s: %d",
		    rejects[i].name, r.status);
		tu_resp_free(&r);
		close(fd);
	}
	ck_assert_int_eq(tu_backend_count(backend.port),
	    (long)(sizeof(rejects) / sizeof(rejects[0])));
}
END_TEST

START_TEST(test_header_limits)
{
	struct tu_resp	 r;
	char		 req[16384];
	size_t		 len;
	int		 i;

	/* A header block over max_header_bytes (4 KiB). */
	len = (size_t)snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: t\r\n"
	    "X-Big: ");
	memset(req + len, 'x', 5000);
	len += 5000;
	snprintf(req + len, sizeof(req) - len, "\r\n\r\n");
	exchange(req, &r);
	ck_assert_int_eq(r.status, 431);
	tu_resp_free(&r);
	/* More header fields than max_header_count (40). */
	len = (size_t)snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: t\r\n");
	for (i = 0; i < 50; i++)
		len += (size_t)snprintf(req + len, sizeof(req) - len,
		    "X-%d: v\r\n", i);
	snprintf(req + len, sizeof(req) - len, "\r\n");
	exchange(req, &r);
	ck_assert_int_eq(r.status, 431);
	tu_resp_free(&r);
	ck_assert_int_eq(tu_backend_count(backend.port), 0);
}
END_TEST

START_TEST(test_timeouts_408)
{
	struct tu_resp	 r;
	int		 fd;

	/* A head that never ends. */
	fd = tu_connect(daemon_.port);
	tu_send_str(fd, "GET /hello HTTP/1.1\r\nHost: t\r\n");
	ck_assert_int_eq(tu_read_response(fd, 0, &r), 0);
	ck_assert_int_eq(r.status, 408);
	tu_resp_free(&r);
	close(fd);
	/* A body that stalls. */
	fd = tu_connect(daemon_.port);
	tu_send_str(fd, "POST /echo HTTP/1.1\r\nHost: t\r\n"
	    "Content-Length: 10\r\n\r\nhello");
	ck_assert_int_eq(tu_read_response(fd, 0, &r), 0);
	ck_assert_int_eq(r.status, 408);
	tu_resp_free(&r);
	close(fd);
	ck_assert_int_eq(tu_backend_count(backend.port), 0);
}
END_TEST

START_TEST(test_primary_timeout_504)
{
	struct tu_resp	 r;
	int		 fds[FAULT_CLIENTS], i;

	/* Many at once: each gets its 504 after the primary's timeout. */
	for (i = 0; i < FAULT_CLIENTS; i++) {
		ck_assert_int_ge(fds[i] = tu_connect(daemon_.port), 0);
		ck_assert_int_eq(tu_send_str(fds[i], "GET /sleep/3000 "
		    "HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
	}
	for (i = 0; i < FAULT_CLIENTS; i++) {
		ck_assert_int_eq(tu_read_response(fds[i], 0, &r), 0);
		ck_assert_int_eq(r.status, 504);
		tu_resp_free(&r);
		close(fds[i]);
	}
	/* The daemon goes on serving. */
	exchange("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	tu_resp_free(&r);
	assert_fault_seen("shadowdiff_primary_errors_total{status=\"504\"} "
	    "20\n", "504 Gateway Timeout: primary timed out");
}
END_TEST

START_TEST(test_primary_down_502)
{
	struct tu_resp	 r;
	int		 fd, i;

	/* Stop the backend: its port now refuses connections. */
	ck_assert_int_eq(tu_proc_stop(&backend, SIGTERM), 0);
	exchange("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n", &r);
	ck_assert_int_eq(r.status, 502);
	tu_resp_free(&r);
	/* The connection stays: the request was read whole. */
	fd = tu_connect(daemon_.port);
	for (i = 0; i < FAULT_CLIENTS * 10; i++) {
		ck_assert_int_eq(tu_send_str(fd, "GET /hello HTTP/1.1\r\n"
		    "Host: t\r\n\r\n"), 0);
		ck_assert_int_eq(tu_read_response(fd, 0, &r), 0);
		ck_assert_int_eq(r.status, 502);
		ck_assert(!r.closed);
		tu_resp_free(&r);
	}
	close(fd);
	assert_fault_seen("shadowdiff_primary_errors_total{status=\"502\"} "
	    "201\n", "502 Bad Gateway: primary refused the connection");
}
END_TEST

START_TEST(test_primary_reset_502)
{
	struct tu_resp	 r;
	int		 fd;

	fd = tu_connect(daemon_.port);
	tu_send_str(fd, "GET /sleep/2000 HTTP/1.1\r\nHost: t\r\n\r\n");
	ck_assert_int_eq(tu_backend_wait(backend.port, 1), 0);
	/* The primary dies with our request in flight. */
	ck_assert_int_eq(tu_proc_stop(&backend, SIGKILL), 128 + SIGKILL);
	ck_assert_int_eq(tu_read_response(fd, 0, &r), 0);
	ck_assert_int_eq(r.status, 502);
	tu_resp_free(&r);
	close(fd);
	ck_assert(admin_metric("shadowdiff_primary_errors_total{status="
	    "\"502\"} 1\n"));
}
END_TEST

/*
 * The primary resets after the head and part of the body: the client
 * has its 200 head and what came, then its connection is closed (no
 * status can be sent any more), counted as cut by the primary.
 */
START_TEST(test_primary_reset_mid_response)
{
	char		 buf[4096];
	long		 got[FAULT_CLIENTS];
	ssize_t		 n;
	int		 fds[FAULT_CLIENTS], i;

	teardown();
	ck_assert_int_eq(tu_misbehave_start(&backend, "reset", NULL), 0);
	ck_assert_int_eq(tu_daemon_start(&daemon_, base_conf, backend.port),
	    0);
	for (i = 0; i < FAULT_CLIENTS; i++) {
		ck_assert_int_ge(fds[i] = tu_connect(daemon_.port), 0);
		ck_assert_int_eq(tu_send_str(fds[i], "GET /big HTTP/1.1\r\n"
		    "Host: t\r\n\r\n"), 0);
	}
	for (i = 0; i < FAULT_CLIENTS; i++) {
		got[i] = 0;
		/* Bounded by the daemon's close (the test's timeout). */
		while ((n = recv(fds[i], buf, sizeof(buf) - 1, 0)) > 0) {
			if (got[i] == 0) {
				buf[n] = '\0';
				ck_assert_msg(strncmp(buf, "HTTP/1.1 200 ", 13) ==
				    0, "%s", buf);
			}
			got[i] += n;
		}
		/* The head and part of the 100000 bytes, then the end. */
		ck_assert_int_gt(got[i], 0);
		ck_assert_int_lt(got[i], 100000);
		close(fds[i]);
	}
	ck_assert(admin_metric("shadowdiff_requests_total{route=\"default\","
	    "class=\"2xx\"} 20\n"));
	assert_fault_seen("shadowdiff_responses_cut_total{side=\"primary\"} "
	    "20\n", "primary failed mid-response");
}
END_TEST

/*
 * Slowloris: many clients send a head a byte at a time, slower than
 * client_header_timeout (400 ms) allows. Each gets its 408 once that
 * time has passed since its first byte, however the bytes trickle, the
 * backend sees nothing, and the memory stays flat.
 */
START_TEST(test_slowloris_408)
{
	static const char	 head[] = "GET /hello HTTP/1.1\r\nHost: t\r\n"
	    "\r\n";
	struct tu_resp		 r;
	int			 fds[SLOWLORIS_CLIENTS], i;
	size_t			 b;

	for (i = 0; i < SLOWLORIS_CLIENTS; i++)
		ck_assert_int_ge(fds[i] = tu_connect(daemon_.port), 0);
	/* A byte to each, every 40 ms: the head would take 1.3 s. */
	for (b = 0; b < sizeof(head) - 1; b++) {
		for (i = 0; i < SLOWLORIS_CLIENTS; i++)
			(void)tu_send(fds[i], head + b, 1);	/* 408 may cut it */
		usleep(40 * 1000);
	}
	for (i = 0; i < SLOWLORIS_CLIENTS; i++) {
		ck_assert_int_eq(tu_read_response(fds[i], 0, &r), 0);
		ck_assert_int_eq(r.status, 408);
		tu_resp_free(&r);
		close(fds[i]);
	}
	ck_assert_int_eq(tu_backend_count(backend.port), 0);
	assert_fault_seen("shadowdiff_primary_errors_total{status=\"408\"} "
	    "200\n", "408 Request Timeout: request head not received in time");
}
END_TEST

START_TEST(test_stream_upload)
{
	struct tu_resp	 r;
	static char	 chunk[64 * 1024];
	char		 head[256];
	long		 sent, peak;
	int		 fd;

	fd = tu_connect(daemon_.port);
	snprintf(head, sizeof(head), "PUT /sink HTTP/1.1\r\nHost: t\r\n"
	    "Content-Length: %ld\r\n\r\n", BIG_BODY);
	tu_send_str(fd, head);
	memset(chunk, 'u', sizeof(chunk));
	for (sent = 0; sent < BIG_BODY; sent += (long)sizeof(chunk))
		ck_assert_int_eq(tu_send(fd, chunk, sizeof(chunk)), 0);
	ck_assert_int_eq(tu_read_response(fd, 0, &r), 0);
	ck_assert_int_eq(r.status, 200);
	snprintf(head, sizeof(head), "received %ld\n", BIG_BODY);
	ck_assert_str_eq(r.body, head);
	tu_resp_free(&r);
	close(fd);
	peak = tu_proc_peak_kib(&daemon_);
	ck_assert_msg(peak > 0 && peak < RSS_BOUND_KIB, "peak RSS %ld KiB",
	    peak);
}
END_TEST

START_TEST(test_stream_download)
{
	char		 buf[64 * 1024], req[128];
	long		 got = 0, peak;
	ssize_t		 n;
	size_t		 i;
	int		 fd, ok = 1;

	fd = tu_connect(daemon_.port);
	snprintf(req, sizeof(req), "GET /bytes/%ld HTTP/1.1\r\nHost: t\r\n"
	    "Connection: close\r\n\r\n", BIG_BODY);
	tu_send_str(fd, req);
	/* Skip the head, then count (and check) the body bytes. */
	n = recv(fd, buf, 1, 0);
	while (n == 1 && got < 4) {
		got = buf[0] == (got % 2 == 0 ? '\r' : '\n') ? got + 1 :
		    (buf[0] == '\r' ? 1 : 0);
		n = recv(fd, buf, 1, 0);
	}
	ck_assert_int_eq(got, 4);
	got = 1;	/* the byte read last is body byte 0 */
	ck_assert_int_eq(buf[0], 'a');
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
		for (i = 0; i < (size_t)n && ok; i += 4096)
			ok = buf[i] == 'a' + (char)((got + (long)i) % 26);
		got += n;
	}
	ck_assert(ok);
	ck_assert_int_eq(got, BIG_BODY);
	close(fd);
	peak = tu_proc_peak_kib(&daemon_);
	ck_assert_msg(peak > 0 && peak < RSS_BOUND_KIB, "peak RSS %ld KiB",
	    peak);
}
END_TEST

START_TEST(test_slow_reader_keeps_whole_response)
{
	char		 buf[65536], req[128];
	long		 total = 0, want = 8 * MIB;
	ssize_t		 n;
	int		 fd;

	/* The keep-alive time runs out while the response is still queued. */
	teardown();
	start_with("[listen]\naddress = 127.0.0.1:0\n[primary]\n"
	    "url = http://127.0.0.1:%BACKEND%\n[limits]\n"
	    "keepalive_timeout = 100ms\n");
	fd = tu_connect_rcvbuf(daemon_.port, 16384);
	snprintf(req, sizeof(req), "GET /bytes/%ld HTTP/1.1\r\nHost: t\r\n"
	    "\r\n", want);
	tu_send_str(fd, req);
	usleep(500 * 1000);
	/* Fast, then the last MiB slowly: far longer than 100 ms. */
	while (total < want + 60 && (n = recv(fd, buf, total < want - MIB ?
	    sizeof(buf) : 16384, 0)) > 0) {
		total += n;
		if (total >= want - MIB)
			usleep(20000);
	}
	close(fd);
	/* The head (about 100 bytes) and every body byte. */
	ck_assert_int_gt(total, want);
}
END_TEST

/*
 * A client that takes nothing of its response for send_timeout is
 * closed, and its response counted as cut by the client (it was not
 * counted at all).
 */
START_TEST(test_send_timeout_counted)
{
	char	 req[128];
	int	 fd, i;

	teardown();
	start_with("[listen]\naddress = 127.0.0.1:0\n[primary]\n"
	    "url = http://127.0.0.1:%BACKEND%\n[limits]\n"
	    "send_timeout = 300ms\n");
	ck_assert_int_ge(fd = tu_connect_rcvbuf(daemon_.port, 16384), 0);
	snprintf(req, sizeof(req), "GET /bytes/%ld HTTP/1.1\r\nHost: t\r\n"
	    "\r\n", STALLED_BODY);
	ck_assert_int_eq(tu_send_str(fd, req), 0);
	/* Bounded; reading nothing meanwhile (that would be progress). */
	for (i = 0; i < 200 && !admin_metric("shadowdiff_responses_cut_total"
	    "{side=\"client\"} 1\n"); i++)
		usleep(50 * 1000);
	ck_assert(admin_metric("shadowdiff_responses_cut_total{side="
	    "\"client\"} 1\n"));
	ck_assert(admin_metric("shadowdiff_client_connections 0\n"));
	/* What the kernel held comes, then the end. */
	ck_assert(tu_wait_closed(fd, 5000));
	close(fd);
}
END_TEST

START_TEST(test_chunked_over_limit_413)
{
	struct tu_resp	 r;
	static char	 chunk[8192];
	char		 size[16];
	int		 fd, i;

	teardown();
	start_with("[listen]\naddress = 127.0.0.1:0\n[primary]\n"
	    "url = http://127.0.0.1:%BACKEND%\n[limits]\n"
	    "max_request_body = 64KiB\n");
	fd = tu_connect(daemon_.port);
	tu_send_str(fd, "POST /sink HTTP/1.1\r\nHost: t\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n");
	memset(chunk, 'c', sizeof(chunk));
	snprintf(size, sizeof(size), "%zx\r\n", sizeof(chunk));
	/* 80 KiB in chunks; the daemon may stop reading after 64 KiB. */
	for (i = 0; i < 10; i++)
		if (tu_send_str(fd, size) == -1 ||
		    tu_send(fd, chunk, sizeof(chunk)) == -1 ||
		    tu_send_str(fd, "\r\n") == -1)
			break;
	ck_assert_int_eq(tu_read_response(fd, 0, &r), 0);
	ck_assert_int_eq(r.status, 413);
	tu_resp_free(&r);
	close(fd);
	ck_assert_int_eq(tu_backend_count(backend.port), 0);
}
END_TEST

/* A backend that answers one upgrade with 101 and then echoes bytes. */
static pid_t
upgrade_backend(int *port)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	char			 buf[4096];
	ssize_t			 n;
	pid_t			 pid;
	int			 lfd, fd;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 4) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) == -1)
		return (-1);
	*port = ntohs(sin.sin_port);
	if ((pid = fork()) != 0) {
		close(lfd);
		return (pid);
	}
	/* Check's handler would signal the whole test process group. */
	signal(SIGTERM, SIG_DFL);
	alarm(20);	/* bounded, whatever happens */
	if ((fd = accept(lfd, NULL, NULL)) == -1)
		_exit(1);
	/* Read the request head, then switch protocols. */
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0 || (buf[n] = '\0', strstr(buf, "Upgrade: echo") == NULL))
		_exit(1);
	tu_send_str(fd, "HTTP/1.1 101 Switching Protocols\r\n"
	    "Connection: upgrade\r\nUpgrade: echo\r\n\r\n");
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		tu_send(fd, buf, (size_t)n);
	_exit(0);
}

/*
 * Waits (bounded) until the primary has closed the pooled connection:
 * the daemon, which watches its idle ones, holds none.
 */
static void
wait_primary_closed(void)
{
	json_t		*o;
	long long	 deadline = tu_now_ms() + 5000, n;

	do {
		o = tu_admin_stats(&daemon_);
		n = tu_json_int(o, "connections/primary");
		json_decref(o);
		if (n == 0)
			return;
		usleep(20 * 1000);
	} while (tu_now_ms() < deadline);
	ck_abort_msg("%lld connections to the primary still open", n);
}

START_TEST(test_pool_closed_by_primary)
{
	struct tu_resp	 r;
	int		 i;

	/* The primary closes keep-alive connections idle for 200 ms. */
	teardown();
	ck_assert_int_eq(tu_backend_start(&backend, "go", "-i200"), 0);
	ck_assert_int_eq(tu_daemon_start(&daemon_, base_conf, backend.port),
	    0);
	for (i = 0; i < 3; i++) {
		/* A pooled connection exists; then the primary closes it. */
		exchange("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n", &r);
		ck_assert_int_eq(r.status, 200);
		tu_resp_free(&r);
		wait_primary_closed();
		/* Neither a POST nor a GET may fail for it. */
		exchange("POST /echo HTTP/1.1\r\nHost: t\r\n"
		    "Content-Length: 2\r\n\r\nhi", &r);
		ck_assert_int_eq(r.status, 200);
		ck_assert_str_eq(r.body, "hi");
		tu_resp_free(&r);
		wait_primary_closed();
		exchange("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n", &r);
		ck_assert_int_eq(r.status, 200);
		tu_resp_free(&r);
		wait_primary_closed();
	}
	ck_assert(!tu_proc_output_has(&daemon_, "502 Bad Gateway"));
}
END_TEST

START_TEST(test_upgrade_tunnel)
{
	struct tu_resp	 r;
	char		 buf[16];
	int		 port, fd, status;
	pid_t		 pid;

	teardown();
	pid = upgrade_backend(&port);
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(tu_daemon_start(&daemon_, "[listen]\n"
	    "address = 127.0.0.1:0\n[primary]\n"
	    "url = http://127.0.0.1:%BACKEND%\n", port), 0);
	fd = tu_connect(daemon_.port);
	tu_send_str(fd, "GET /ws HTTP/1.1\r\nHost: t\r\n"
	    "Connection: Upgrade\r\nUpgrade: echo\r\n\r\n");
	ck_assert_int_eq(tu_read_response(fd, 0, &r), 0);
	ck_assert_int_eq(r.status, 101);
	ck_assert_ptr_nonnull(strstr(r.head, "Upgrade: echo\r\n"));
	tu_resp_free(&r);
	tu_send_str(fd, "ping");
	ck_assert_int_eq(recv(fd, buf, 4, MSG_WAITALL), 4);
	ck_assert(memcmp(buf, "ping", 4) == 0);
	close(fd);
	kill(pid, SIGTERM);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
}
END_TEST

/* A keep-alive request on FD, answered 200. */
static void
keepalive_hello(int fd)
{
	struct tu_resp	 r;

	ck_assert_int_eq(tu_send_str(fd, "GET /hello HTTP/1.1\r\n"
	    "Host: t\r\n\r\n"), 0);
	ck_assert_int_eq(tu_read_response(fd, 0, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert(!r.closed);
	tu_resp_free(&r);
}

/*
 * Regression (issue 14): at max_connections a new client was closed at
 * once while idle keep-alive connections held their places for 75 s.
 * The oldest idle ones now make room, counted; connections with a
 * request in progress never do, and then the newcomer is refused.
 */
START_TEST(test_max_connections_evicts_idle)
{
	struct tu_resp	 r;
	int		 fds[MAXCONN_LIMIT], busy[MAXCONN_LIMIT], fd, i;

	teardown();
	start_with("[server]\nworkers = 1\n[listen]\n"
	    "address = 127.0.0.1:0\nmax_connections = 20\n[primary]\n"
	    "url = http://127.0.0.1:%BACKEND%\n");
	/* 20 connections idle after a request each, oldest first. */
	for (i = 0; i < MAXCONN_LIMIT; i++) {
		ck_assert_int_ge(fds[i] = tu_connect(daemon_.port), 0);
		keepalive_hello(fds[i]);
	}
	/* Each newcomer is answered; the oldest idle one made room. */
	for (i = 0; i < MAXCONN_EVICTED; i++) {
		ck_assert_int_ge(fd = tu_connect(daemon_.port), 0);
		keepalive_hello(fd);
		ck_assert_msg(tu_wait_closed(fds[i], 2000),
		    "idle connection %d not closed", i);
		close(fds[i]);
		fds[i] = fd;	/* now the newest idle one */
	}
	/* The others are open and answer. */
	for (i = MAXCONN_EVICTED; i < MAXCONN_LIMIT; i++)
		keepalive_hello(fds[i]);
	ck_assert(admin_metric("shadowdiff_client_connections_evicted_total "
	    "5\n"));
	ck_assert(admin_metric("shadowdiff_client_connections_refused_total "
	    "0\n"));
	/* A request in progress on each: nothing may make room. */
	for (i = 0; i < MAXCONN_LIMIT; i++)
		close(fds[i]);
	for (i = 0; i < 200 && !admin_metric("shadowdiff_client_connections "
	    "0\n"); i++)
		usleep(10 * 1000);
	for (i = 0; i < MAXCONN_LIMIT; i++) {
		ck_assert_int_ge(busy[i] = tu_connect(daemon_.port), 0);
		ck_assert_int_eq(tu_send_str(busy[i], "GET /sleep/1000 "
		    "HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
	}
	/* Bounded: until the backend has all 20 (and 40 hellos before). */
	for (i = 0; i < 200 && tu_backend_count(backend.port) < 60; i++)
		usleep(10 * 1000);
	ck_assert_int_ge(fd = tu_connect(daemon_.port), 0);
	ck_assert(tu_wait_closed(fd, 2000));
	close(fd);
	ck_assert(admin_metric("shadowdiff_client_connections_refused_total "
	    "1\n"));
	ck_assert(admin_metric("shadowdiff_client_connections_evicted_total "
	    "5\n"));
	/* The requests in progress complete. */
	for (i = 0; i < MAXCONN_LIMIT; i++) {
		ck_assert_int_eq(tu_read_response(busy[i], 0, &r), 0);
		ck_assert_int_eq(r.status, 200);
		tu_resp_free(&r);
		close(busy[i]);
	}
}
END_TEST

/* Whether every thread of PID is stopped (SIGSTOP has taken effect). */
static int
all_threads_stopped(pid_t pid)
{
	char		 path[320], buf[512], *p;
	struct dirent	*de;
	DIR		*dir;
	FILE		*f;
	int		 stopped = 1;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((dir = opendir(path)) == NULL)
		return (0);
	while (stopped && (de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stat",
		    (int)pid, de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;	/* a thread that ended */
		if (fgets(buf, sizeof(buf), f) == NULL ||
		    (p = strrchr(buf, ')')) == NULL ||
		    (p[2] != 'T' && p[2] != 't'))
			stopped = 0;
		fclose(f);
	}
	closedir(dir);
	return (stopped);
}

/*
 * Regression: at max_connections an idle connection was closed to make
 * room even when its client had just sent a request the loop had not
 * read yet (it arrived as the newcomer connected): the request, a POST
 * here, was lost unanswered. The daemon is stopped so that both wait in
 * the kernel, the newcomer first; then it must answer the request and
 * refuse the newcomer, having no other idle connection.
 */
START_TEST(test_max_connections_request_arriving)
{
	struct tu_resp	 r;
	int		 x, busy, y, i;

	teardown();
	start_with("[server]\nworkers = 1\n[listen]\n"
	    "address = 127.0.0.1:0\nmax_connections = 2\n[primary]\n"
	    "url = http://127.0.0.1:%BACKEND%\n");
	ck_assert_int_ge(x = tu_connect(daemon_.port), 0);
	keepalive_hello(x);
	ck_assert_int_ge(busy = tu_connect(daemon_.port), 0);
	ck_assert_int_eq(tu_send_str(busy, "GET /sleep/500 HTTP/1.1\r\n"
	    "Host: t\r\n\r\n"), 0);
	for (i = 0; i < 200 && tu_backend_count(backend.port) < 2; i++)
		usleep(10 * 1000);
	ck_assert_int_eq(kill(daemon_.pid, SIGSTOP), 0);
	for (i = 0; i < 1000 && !all_threads_stopped(daemon_.pid); i++)
		usleep(1000);
	y = tu_connect(daemon_.port);	/* the kernel completes it */
	i = tu_send_str(x, "POST /echo HTTP/1.1\r\nHost: t\r\n"
	    "Content-Length: 5\r\n\r\nhello");
	ck_assert_int_eq(kill(daemon_.pid, SIGCONT), 0);
	ck_assert_int_ge(y, 0);
	ck_assert_int_eq(i, 0);
	ck_assert_msg(tu_read_response(x, 0, &r) == 0 && r.status == 200,
	    "the arriving request was not answered");
	ck_assert_uint_eq(r.body_len, 5);
	ck_assert(memcmp(r.body, "hello", 5) == 0);
	tu_resp_free(&r);
	ck_assert(tu_wait_closed(y, 2000));
	ck_assert(admin_metric("shadowdiff_client_connections_evicted_total "
	    "0\n"));
	ck_assert(admin_metric("shadowdiff_client_connections_refused_total "
	    "1\n"));
	ck_assert_int_eq(tu_read_response(busy, 0, &r), 0);
	ck_assert_int_eq(r.status, 200);
	tu_resp_free(&r);
	close(x);
	close(y);
	close(busy);
}
END_TEST

/*
 * Regression (issue 14): a client that never reads a large mirrored
 * response held about 2.3 MB (200 such clients: 475 MB) until
 * send_timeout, most of it the exchange's copy of the primary's body
 * (up to [diff] max_body). The primary is paced by the client's socket
 * (a few hundred KiB per connection); once the client has stalled for
 * [shadow] timeout the request is no longer compared and its copies go.
 */
START_TEST(test_stalled_clients_bounded)
{
	struct tu_proc	 shadow;
	struct tu_resp	 r;
	char		 conf[1024], req[128];
	int		 fds[STALLED_CLIENTS], i;
	long		 peak, rss;

	ck_assert_int_eq(tu_misbehave_start(&shadow, "ok", NULL), 0);
	teardown();
	snprintf(conf, sizeof(conf), "[server]\nworkers = 2\n[listen]\n"
	    "address = 127.0.0.1:0\n[primary]\n"
	    "url = http://127.0.0.1:%%BACKEND%%\n[shadow]\n"
	    "url = http://127.0.0.1:%d\ntimeout = 1s\nmax_inflight = %d\n"
	    "[diff]\nthreads = 1\n[log]\npath = %s/stalled.log\n",
	    shadow.port, STALLED_CLIENTS, tu_tmpdir());
	start_with(conf);
	snprintf(req, sizeof(req), "GET /bytes/%ld HTTP/1.1\r\nHost: t\r\n"
	    "\r\n", STALLED_BODY);
	for (i = 0; i < STALLED_CLIENTS; i++) {
		ck_assert_int_ge(fds[i] = tu_connect_rcvbuf(daemon_.port,
		    16384), 0);
		ck_assert_int_eq(tu_send_str(fds[i], req), 0);
	}
	/* Bounded: each stalls, and its mirror is let go. */
	for (i = 0; i < 600 && !admin_metric("shadowdiff_mirrors_dropped_"
	    "total{reason=\"abandoned\"} 200\n"); i++)
		usleep(50 * 1000);
	ck_assert(admin_metric("shadowdiff_mirrored_total{route=\"default\"} "
	    "200\n"));
	ck_assert(admin_metric("shadowdiff_mirrors_dropped_total{reason="
	    "\"abandoned\"} 200\n"));
	peak = tu_proc_peak_kib(&daemon_);
	rss = tu_proc_rss_kib(&daemon_);
	ck_assert_msg(peak < STALLED_CLIENTS * (STALLED_CONN_KIB + 1024) +
	    STALLED_BASE_KIB, "peak RSS %ld KiB", peak);
	ck_assert_msg(rss < STALLED_CLIENTS * STALLED_CONN_KIB +
	    STALLED_BASE_KIB, "RSS %ld KiB with the clients stalled", rss);
	/* A stalled client that reads again gets its response whole. */
	ck_assert_int_eq(tu_read_response(fds[0], 0, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(r.body_len, STALLED_BODY);
	tu_resp_free(&r);
	for (i = 0; i < STALLED_CLIENTS; i++)
		close(fds[i]);
	for (i = 0; i < 200 && !admin_metric("shadowdiff_client_connections "
	    "0\n"); i++)
		usleep(50 * 1000);
	ck_assert(admin_metric("shadowdiff_client_connections 0\n"));
	rss = tu_proc_rss_kib(&daemon_);
	ck_assert_msg(rss < STALLED_BASE_KIB, "RSS %ld KiB once closed", rss);
	ck_assert_int_eq(tu_proc_stop(&shadow, SIGTERM), 0);
}
END_TEST

START_TEST(test_drain_on_sigterm)
{
	struct tu_resp	 r;
	int		 fd, idle;

	idle = tu_connect(daemon_.port);
	fd = tu_connect(daemon_.port);
	tu_send_str(fd, "GET /sleep/700 HTTP/1.1\r\nHost: t\r\n\r\n");
	ck_assert_int_eq(tu_backend_wait(backend.port, 1), 0);
	kill(daemon_.pid, SIGTERM);
	/* The request in flight completes; the idle connection is closed. */
	ck_assert_int_eq(tu_read_response(fd, 0, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "slept\n");
	ck_assert_ptr_nonnull(strstr(r.head, "Connection: close"));
	tu_resp_free(&r);
	ck_assert(tu_wait_closed(idle, 2000));
	close(idle);
	close(fd);
	ck_assert_int_eq(tu_proc_stop(&daemon_, SIGTERM), 0);
	ck_assert_int_eq(tu_connect(daemon_.port), -1);
}
END_TEST

/* Runs `shadowdiff -t -c FILE`; its exit status, and its output in OUT. */
static int
check_config(const char *text, char *out, size_t len)
{
	char	 path[256], cmd[1024];
	FILE	*f, *p;
	size_t	 n;
	int	 status;

	snprintf(path, sizeof(path), "%s/check.conf", tu_tmpdir());
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s -t -c %s 2>&1",
	    tu_build_path("shadowdiff"), path);
	p = popen(cmd, "r");
	n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	status = pclose(p);
	return (WEXITSTATUS(status));
}

START_TEST(test_config_check)
{
	char	 out[4096], fifo[256], conf[1024];

	ck_assert_int_eq(check_config("[listen]\naddress = 127.0.0.1:0\n"
	    "[primary]\nurl = http://127.0.0.1:1\n", out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "configuration is valid"));
	ck_assert_int_eq(check_config("[listen]\naddress = 127.0.0.1:0\n"
	    "[primary]\nurl = http://127.0.0.1:1\nread_timeout = 5 s\n", out,
	    sizeof(out)), 1);
	ck_assert_ptr_nonnull(strstr(out, "check.conf:5: [primary] "
	    "read_timeout = \"5 s\": expected a duration"));
	/* A FIFO as the log: valid, with a warning, and never opened. */
	snprintf(fifo, sizeof(fifo), "%s/check.fifo", tu_tmpdir());
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	snprintf(conf, sizeof(conf), "[listen]\naddress = 127.0.0.1:0\n"
	    "[primary]\nurl = http://127.0.0.1:1\n[shadow]\n"
	    "url = http://127.0.0.1:2\n[log]\npath = %s\n", fifo);
	ck_assert_int_eq(check_config(conf, out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "warning: [log] path "));
	ck_assert_ptr_nonnull(strstr(out, " is a FIFO: "));
	ck_assert_ptr_nonnull(strstr(out, "configuration is valid"));
}
END_TEST

static Suite *
proxy_suite(void)
{
	Suite	*s = suite_create("proxy");
	TCase	*tc;

	tc = tcase_create("primary");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_keepalive);
	tcase_add_test(tc, test_pipelining);
	tcase_add_test(tc, test_chunked_request);
	tcase_add_test(tc, test_chunked_response);
	tcase_add_test(tc, test_http10_client);
	tcase_add_test(tc, test_http10_without_host);
	tcase_add_test(tc, test_no_body_statuses);
	tcase_add_test(tc, test_expect_continue);
	tcase_add_test(tc, test_headers_reframed);
	tcase_add_test(tc, test_rejects);
	tcase_add_test(tc, test_reject_second_request);
	tcase_add_test(tc, test_connection_close_ows);
	tcase_add_test(tc, test_absolute_form);
	tcase_add_test(tc, test_header_limits);
	tcase_add_test(tc, test_timeouts_408);
	tcase_add_test(tc, test_primary_timeout_504);
	tcase_add_test(tc, test_primary_down_502);
	tcase_add_test(tc, test_primary_reset_502);
	tcase_add_test(tc, test_primary_reset_mid_response);
	tcase_add_test(tc, test_slowloris_408);
	tcase_add_test(tc, test_stream_upload);
	tcase_add_test(tc, test_stream_download);
	tcase_add_test(tc, test_slow_reader_keeps_whole_response);
	tcase_add_test(tc, test_send_timeout_counted);
	tcase_add_test(tc, test_chunked_over_limit_413);
	tcase_add_test(tc, test_pool_closed_by_primary);
	tcase_add_test(tc, test_upgrade_tunnel);
	tcase_add_test(tc, test_drain_on_sigterm);
	tcase_add_test(tc, test_max_connections_evicts_idle);
	tcase_add_test(tc, test_max_connections_request_arriving);
	tcase_add_test(tc, test_stalled_clients_bounded);
	suite_add_tcase(s, tc);

	tc = tcase_create("cli");
	tcase_add_test(tc, test_config_check);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (tu_run(proxy_suite()));
}
