/*
 * The admin endpoint, served by an event loop in a thread of the test
 * on 127.0.0.1:0 and spoken to with blocking sockets (every read has a
 * receive timeout); and the Prometheus text writer, down to promtool's
 * lint of what it writes.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>

#include "shadowdiff/admin.h"
#include "shadowdiff/metrics.h"
#include "testutil.h"

#define SHORT_TIMEOUT_MS	200	/* the timeout in the timeout tests */
#define LONG_TIMEOUT_MS		60000	/* none may strike in the cap's test */
#define CLOSE_WAIT_MS		3000	/* for a close that should be at once */

#define METRICS_TYPE	"text/plain; version=0.0.4; charset=utf-8"
#define STATS_BODY	"{\"requests\": 7, \"draining\": false}\n"

/* The server of one test: its loop runs in srv_thread. */
static struct event_base	*srv_base;
static struct admin		*srv;
static struct event		*srv_stop;
static pthread_t		 srv_thread;
static int			 srv_pipe[2];
static int			 srv_port;
static atomic_int		 stub_healthy;

/* Families of every kind, with labels that need escaping. */
static void
sample_metrics(struct evbuffer *out)
{
	static const double	 bounds[] = { 0.005, 0.025, 0.1, 0.25, 1, 2.5 };
	static const uint64_t	 api[] = { 3, 5, 8, 1, 0, 2, 1 };
	static const uint64_t	 none[] = { 0, 0, 0, 0, 0, 0, 0 };
	struct metrics_label	 l[2];

	metrics_family(out, "shadowdiff_requests_total", "counter",
	    "Requests received.");
	metrics_u64(out, "shadowdiff_requests_total", NULL, 0, 12345);
	metrics_family(out, "shadowdiff_connections_open", "gauge",
	    "Client connections open.");
	metrics_u64(out, "shadowdiff_connections_open", NULL, 0, 3);
	metrics_family(out, "shadowdiff_config_load_time_seconds", "gauge",
	    "When the configuration was loaded, \\ since the epoch.\n"
	    "A second line.");
	metrics_double(out, "shadowdiff_config_load_time_seconds", NULL, 0,
	    1700000000.25);
	metrics_family(out, "shadowdiff_divergence_ratio", "gauge",
	    "Divergent exchanges over compared ones.");
	metrics_double(out, "shadowdiff_divergence_ratio", NULL, 0, NAN);
	metrics_family(out, "shadowdiff_responses_total", "counter",
	    "Responses by route and status class.");
	l[0] = (struct metrics_label){ "route", "api" };
	l[1] = (struct metrics_label){ "class", "2xx" };
	metrics_u64(out, "shadowdiff_responses_total", l, 2, 100);
	l[0].value = "odd \"name\" \\ with\na newline";
	metrics_u64(out, "shadowdiff_responses_total", l, 2, 1);
	metrics_family(out, "shadowdiff_exchange_duration_seconds",
	    "histogram", "Time from the request to both responses.");
	l[0].value = "api";
	metrics_histogram(out, "shadowdiff_exchange_duration_seconds", l, 1,
	    bounds, 6, api, 3.75);
	l[0].value = "static";
	metrics_histogram(out, "shadowdiff_exchange_duration_seconds", l, 1,
	    bounds, 6, none, 0);
}

static void
stub_metrics(void *arg, struct evbuffer *out)
{
	sample_metrics(out);
}

static void
stub_stats(void *arg, struct evbuffer *out)
{
	evbuffer_add(out, STATS_BODY, strlen(STATS_BODY));
}

static int
stub_healthy_cb(void *arg)
{
	return (atomic_load(&stub_healthy));
}

static const struct admin_ops stub_ops = {
	stub_metrics, stub_stats, stub_healthy_cb, NULL
};

/* A byte on the pipe: the test is over. */
static void
srv_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(srv_base);
}

static void *
srv_main(void *arg)
{
	event_base_dispatch(srv_base);
	return (NULL);
}

/* Starts the endpoint with a timeout of MS (0: the default). */
static void
srv_start(unsigned int ms)
{
	struct sockaddr_in	 sin;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	char			*cause = NULL;

	atomic_store(&stub_healthy, 1);
	ck_assert_ptr_nonnull(srv_base = event_base_new());
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv = admin_new(srv_base, (struct sockaddr *)&sin, sizeof(sin),
	    &stub_ops, &cause);
	ck_assert_msg(srv != NULL, "admin_new: %s", cause);
	if (ms != 0)
		admin_set_timeout(srv, ms);
	ck_assert_int_eq(admin_sockaddr(srv, &ss, &len), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET);
	srv_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	ck_assert_int_ne(srv_port, 0);
	ck_assert_int_eq(pipe(srv_pipe), 0);
	srv_stop = event_new(srv_base, srv_pipe[0], EV_READ | EV_PERSIST,
	    srv_stop_cb, NULL);
	ck_assert_int_eq(event_add(srv_stop, NULL), 0);
	ck_assert_int_eq(pthread_create(&srv_thread, NULL, srv_main, NULL), 0);
}

static void
setup(void)
{
	srv_start(0);
}

static void
setup_short(void)
{
	srv_start(SHORT_TIMEOUT_MS);
}

static void
setup_long(void)
{
	srv_start(LONG_TIMEOUT_MS);
}

/* Stops the loop, then frees everything from this thread. */
static void
teardown(void)
{
	ck_assert_int_eq(write(srv_pipe[1], "x", 1), 1);
	pthread_join(srv_thread, NULL);
	admin_free(srv);
	event_free(srv_stop);
	event_base_free(srv_base);
	close(srv_pipe[0]);
	close(srv_pipe[1]);
}

/* The value of header NAME of R, or "" (in a static buffer). */
static const char *
hdr(const struct tu_resp *r, const char *name)
{
	static char	 buf[256];

	if (tu_resp_header(r, name, buf, sizeof(buf)) == NULL)
		return ("");
	return (buf);
}

/* Sends RAW on FD and reads one response into R; 0 or -1. */
static int
ask(int fd, const char *raw, struct tu_resp *r)
{
	if (tu_send_str(fd, raw) == -1)
		return (-1);
	return (tu_read_response(fd, strncmp(raw, "HEAD ", 5) == 0, r));
}

/*
 * Asks for /healthz on FD: the answer must have STATUS and BODY, as plain
 * text that is not cached.
 */
static void
ask_healthz(int fd, int status, const char *body)
{
	struct tu_resp	 r;
	char		 len[32];

	ck_assert_int_eq(ask(fd, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n",
	    &r), 0);
	ck_assert_int_eq(r.status, status);
	ck_assert_str_eq(r.body, body);
	ck_assert_str_eq(hdr(&r, "Content-Type"), "text/plain");
	snprintf(len, sizeof(len), "%zu", strlen(body));
	ck_assert_str_eq(hdr(&r, "Content-Length"), len);
	ck_assert_str_eq(hdr(&r, "Cache-Control"), "no-store");
	tu_resp_free(&r);
}

/*
 * Sends RAW on a new connection: the answer must have STATUS, say
 * Connection: close and be followed by the server closing. The response
 * is left in *R, for more checks.
 */
static void
ask_closing(const char *raw, int status, struct tu_resp *r)
{
	int	 fd;

	ck_assert_int_ge(fd = tu_connect(srv_port), 0);
	ck_assert_int_eq(ask(fd, raw, r), 0);
	ck_assert_msg(r->status == status, "%s: %d", raw, r->status);
	ck_assert_str_eq(hdr(r, "Connection"), "close");
	ck_assert(tu_wait_closed(fd, CLOSE_WAIT_MS));
	close(fd);
}

/*
 * Sends RAW on a new connection and reads until the server closes, at
 * most LEN - 1 bytes, into BUF (NUL-terminated); the length, or -1.
 */
static ssize_t
ask_raw(const char *raw, char *buf, size_t len)
{
	size_t	 off = 0;
	ssize_t	 n;
	int	 fd;

	if ((fd = tu_connect(srv_port)) == -1)
		return (-1);
	if (tu_send_str(fd, raw) == -1) {
		close(fd);
		return (-1);
	}
	while (off < len - 1 && (n = recv(fd, buf + off, len - 1 - off, 0)) > 0)
		off += (size_t)n;
	buf[off] = '\0';
	/* Not closed within the receive timeout, or more than fits. */
	n = recv(fd, buf + off, 1, MSG_DONTWAIT);
	close(fd);
	return (n == 0 ? (ssize_t)off : -1);
}

/*
 * Sends HEAD PATH on a new connection that closes and reads the answer
 * into BUF (LEN bytes): it must be the head and not one byte more.
 */
static void
ask_head(const char *path, char *buf, size_t len)
{
	char	 req[256];
	ssize_t	 n;

	snprintf(req, sizeof(req), "HEAD %s HTTP/1.1\r\nHost: t\r\n"
	    "Connection: close\r\n\r\n", path);
	n = ask_raw(req, buf, len);
	ck_assert_int_gt(n, 4);
	ck_assert_ptr_eq(strstr(buf, "\r\n\r\n"), buf + n - 4);
}

/* A request head of exactly LEN bytes for /healthz, in BUF. */
static const char *
head_of_size(char *buf, size_t len)
{
	static const char	 start[] =
	    "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Pad: ";
	size_t			 pad = len - (sizeof(start) - 1) - 4;

	memcpy(buf, start, sizeof(start) - 1);
	memset(buf + sizeof(start) - 1, 'a', pad);
	memcpy(buf + len - 4, "\r\n\r\n", 5);
	return (buf);
}

START_TEST(test_metrics)
{
	struct tu_resp	 r;
	struct evbuffer	*want = evbuffer_new();
	size_t		 len;
	char		 cl[32];

	sample_metrics(want);
	len = evbuffer_get_length(want);
	ck_assert_int_eq(tu_exchange(srv_port, "GET /metrics HTTP/1.1\r\n"
	    "Host: t\r\n\r\n", &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(hdr(&r, "Content-Type"), METRICS_TYPE);
	ck_assert_str_eq(hdr(&r, "Cache-Control"), "no-store");
	snprintf(cl, sizeof(cl), "%zu", len);
	ck_assert_str_eq(hdr(&r, "Content-Length"), cl);
	ck_assert_uint_eq(r.body_len, len);
	ck_assert_mem_eq(r.body, evbuffer_pullup(want, -1), len);
	tu_resp_free(&r);

	/* The query string plays no part in matching. */
	ck_assert_int_eq(tu_exchange(srv_port, "GET /metrics?x=1&y HTTP/1.1\r\n"
	    "Host: t\r\n\r\n", &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.body_len, len);
	tu_resp_free(&r);

	/* Nor the absolute form's scheme and authority (RFC 9112 3.2.2). */
	ck_assert_int_eq(tu_exchange(srv_port, "GET http://t:9/metrics "
	    "HTTP/1.1\r\nHost: t\r\n\r\n", &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.body_len, len);
	tu_resp_free(&r);
	evbuffer_free(want);
}
END_TEST

START_TEST(test_stats)
{
	struct tu_resp	 r;
	json_t		*j;
	json_error_t	 err;
	char		 cl[32];

	ck_assert_int_eq(tu_exchange(srv_port, "GET /stats HTTP/1.1\r\n"
	    "Host: t\r\n\r\n", &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(hdr(&r, "Content-Type"), "application/json");
	ck_assert_str_eq(hdr(&r, "Cache-Control"), "no-store");
	snprintf(cl, sizeof(cl), "%zu", strlen(STATS_BODY));
	ck_assert_str_eq(hdr(&r, "Content-Length"), cl);
	j = json_loadb(r.body, r.body_len, 0, &err);
	ck_assert_msg(j != NULL, "not JSON: %s", err.text);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "requests")), 7);
	json_decref(j);
	tu_resp_free(&r);
}
END_TEST

START_TEST(test_healthz)
{
	int	 fd;

	ck_assert_int_ge(fd = tu_connect(srv_port), 0);
	ask_healthz(fd, 200, "ok\n");
	atomic_store(&stub_healthy, 0);
	ask_healthz(fd, 503, "draining\n");
	atomic_store(&stub_healthy, 1);
	ask_healthz(fd, 200, "ok\n");
	close(fd);
}
END_TEST

START_TEST(test_not_found)
{
	static const char *const paths[] = {
		"/", "/nope", "/metricsx", "/metrics/", "/METRICS",
		"/healthz/x", "http://t/nope"
	};
	struct tu_resp	 r;
	char		 req[256];
	size_t		 i;
	int		 fd;

	/* One keep-alive connection: a 404 does not close it. */
	ck_assert_int_ge(fd = tu_connect(srv_port), 0);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n",
		    paths[i]);
		ck_assert_int_eq(ask(fd, req, &r), 0);
		ck_assert_msg(r.status == 404, "%s: %d", paths[i], r.status);
		ck_assert_str_eq(hdr(&r, "Cache-Control"), "no-store");
		ck_assert_str_eq(r.body, "404 Not Found\n");
		tu_resp_free(&r);
	}
	close(fd);
}
END_TEST

START_TEST(test_method_not_allowed)
{
	static const char *const reqs[] = {
		"POST /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n"
		    "\r\n",
		"DELETE /nope HTTP/1.1\r\nHost: t\r\n\r\n",
		"PUT /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n",
		"OPTIONS /stats HTTP/1.1\r\nHost: t\r\n\r\n"
	};
	struct tu_resp	 r;
	size_t		 i;
	int		 fd;

	ck_assert_int_ge(fd = tu_connect(srv_port), 0);
	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		ck_assert_int_eq(ask(fd, reqs[i], &r), 0);
		ck_assert_msg(r.status == 405, "%s: %d", reqs[i], r.status);
		ck_assert_str_eq(hdr(&r, "Allow"), "GET, HEAD");
		ck_assert_str_eq(hdr(&r, "Cache-Control"), "no-store");
		ck_assert_str_ne(hdr(&r, "Content-Length"), "");
		ck_assert_str_eq(hdr(&r, "Connection"), "");
		tu_resp_free(&r);
	}
	close(fd);

	/* With a body, which is not read: 405 all the same, and closed. */
	ask_closing("POST /metrics HTTP/1.1\r\nHost: t\r\n"
	    "Content-Length: 5\r\n\r\nhello", 405, &r);
	ck_assert_str_eq(hdr(&r, "Allow"), "GET, HEAD");
	tu_resp_free(&r);
}
END_TEST

START_TEST(test_head)
{
	struct tu_resp	 r;
	char		 buf[4096], want[64];
	size_t		 len;

	ck_assert_int_eq(tu_exchange(srv_port, "GET /metrics HTTP/1.1\r\n"
	    "Host: t\r\n\r\n", &r), 0);
	len = r.body_len;
	ck_assert_uint_gt(len, 0);
	tu_resp_free(&r);

	ask_head("/metrics", buf, sizeof(buf));
	ck_assert_msg(strncmp(buf, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", buf);
	snprintf(want, sizeof(want), "\r\nContent-Length: %zu\r\n", len);
	ck_assert_ptr_nonnull(strstr(buf, want));
	ck_assert_ptr_nonnull(strstr(buf, "\r\nContent-Type: " METRICS_TYPE
	    "\r\n"));
	ck_assert_ptr_nonnull(strstr(buf, "\r\nCache-Control: no-store\r\n"));

	ask_head("/healthz", buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "\r\nContent-Length: 3\r\n"));

	ask_head("/nope", buf, sizeof(buf));
	ck_assert_msg(strncmp(buf, "HTTP/1.1 404 ", 13) == 0, "%s", buf);
	ck_assert_ptr_nonnull(strstr(buf, "\r\nContent-Length: 14\r\n"));
}
END_TEST

START_TEST(test_keepalive)
{
	struct tu_resp	 r;
	int		 fd;

	ck_assert_int_ge(fd = tu_connect(srv_port), 0);
	ck_assert_int_eq(ask(fd, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n",
	    &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(hdr(&r, "Connection"), "");
	tu_resp_free(&r);
	ck_assert_int_eq(ask(fd, "GET /stats HTTP/1.1\r\nHost: t\r\n\r\n",
	    &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, STATS_BODY);
	tu_resp_free(&r);

	/* Pipelined, in one write: answered in order; the last closes. */
	ck_assert_int_eq(tu_send_str(fd, "GET /healthz HTTP/1.1\r\nHost: t\r\n"
	    "\r\nGET /nope HTTP/1.1\r\nHost: t\r\n\r\nGET /stats HTTP/1.1\r\n"
	    "Host: t\r\nConnection: close\r\n\r\n"), 0);
	ck_assert_int_eq(tu_read_response(fd, 0, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "ok\n");
	tu_resp_free(&r);
	ck_assert_int_eq(tu_read_response(fd, 0, &r), 0);
	ck_assert_int_eq(r.status, 404);
	tu_resp_free(&r);
	ck_assert_int_eq(tu_read_response(fd, 0, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, STATS_BODY);
	ck_assert_str_eq(hdr(&r, "Connection"), "close");
	tu_resp_free(&r);
	ck_assert(tu_wait_closed(fd, CLOSE_WAIT_MS));
	close(fd);
}
END_TEST

START_TEST(test_http10)
{
	struct tu_resp	 r;
	int		 fd;

	/* HTTP/1.0 closes unless keep-alive is asked for. */
	ask_closing("GET /healthz HTTP/1.0\r\n\r\n", 200, &r);
	ck_assert_str_eq(r.body, "ok\n");
	tu_resp_free(&r);

	ck_assert_int_ge(fd = tu_connect(srv_port), 0);
	ck_assert_int_eq(ask(fd, "GET /healthz HTTP/1.0\r\n"
	    "Connection: keep-alive\r\n\r\n", &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(hdr(&r, "Connection"), "keep-alive");
	tu_resp_free(&r);
	ck_assert_int_eq(ask(fd, "GET /stats HTTP/1.0\r\n\r\n", &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(hdr(&r, "Connection"), "close");
	ck_assert(tu_wait_closed(fd, CLOSE_WAIT_MS));
	tu_resp_free(&r);
	close(fd);

	/* And HTTP/1.1 closes when asked to. */
	ask_closing("GET /healthz HTTP/1.1\r\nHost: t\r\n"
	    "Connection: close\r\n\r\n", 200, &r);
	tu_resp_free(&r);
}
END_TEST

START_TEST(test_head_too_large)
{
	struct tu_resp	 r;
	char		*big;
	size_t		 i;

	big = calloc(1, 20000);
	ck_assert_ptr_nonnull(big);

	/* 8 KiB exactly is fine. */
	ck_assert_int_eq(tu_exchange(srv_port,
	    head_of_size(big, ADMIN_MAX_HEAD), &r), 0);
	ck_assert_int_eq(r.status, 200);
	tu_resp_free(&r);

	/* One byte more is not, nor a head larger than the input bound. */
	ask_closing(head_of_size(big, ADMIN_MAX_HEAD + 1), 431, &r);
	ck_assert_str_eq(hdr(&r, "Cache-Control"), "no-store");
	tu_resp_free(&r);
	ck_assert_int_eq(tu_exchange(srv_port, head_of_size(big, 19999), &r),
	    0);
	ck_assert_int_eq(r.status, 431);
	tu_resp_free(&r);

	/* Too many fields, in few bytes. */
	strcpy(big, "GET /healthz HTTP/1.1\r\nHost: t\r\n");
	for (i = 0; i < 100; i++)
		strcat(big, "X: y\r\n");
	strcat(big, "\r\n");
	ck_assert_int_eq(tu_exchange(srv_port, big, &r), 0);
	ck_assert_int_eq(r.status, 431);
	tu_resp_free(&r);
	free(big);
}
END_TEST

START_TEST(test_body)
{
	static const char *const reqs[] = {
		"GET /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\n"
		    "hello",
		"GET /metrics HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked"
		    "\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n"
		    "\r\nstill to come"
	};
	struct tu_resp	 r;
	size_t		 i;

	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		ask_closing(reqs[i], 413, &r);
		tu_resp_free(&r);
	}

	/* An empty body is no body. */
	ck_assert_int_eq(tu_exchange(srv_port, "GET /healthz HTTP/1.1\r\n"
	    "Host: t\r\nContent-Length: 0\r\n\r\n", &r), 0);
	ck_assert_int_eq(r.status, 200);
	tu_resp_free(&r);
}
END_TEST

START_TEST(test_malformed)
{
	static const char *const reqs[] = {
		"GARBAGE\r\n\r\n",
		"GET /metrics HTTP/1.1\r\n\r\n",		/* no Host */
		"GET /metrics HTTP/1.1\nHost: t\n\n",		/* bare LF */
		"GET /metrics HTTP/1.1\r\nHost: t\r\n x\r\n\r\n", /* folding */
		"GET /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: x\r\n\r\n"
	};
	struct tu_resp	 r;
	size_t		 i;

	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		ask_closing(reqs[i], 400, &r);
		ck_assert_str_eq(hdr(&r, "Cache-Control"), "no-store");
		tu_resp_free(&r);
	}
	/* As on the client port (docs/http.md). */
	ask_closing("GET /metrics HTTP/2.0\r\nHost: t\r\n\r\n", 505, &r);
	tu_resp_free(&r);
	ask_closing("QUERY /metrics HTTP/1.1\r\nHost: t\r\n\r\n", 501, &r);
	tu_resp_free(&r);
}
END_TEST

/*
 * Whether the server has closed FD already: its FIN is here, or its RST
 * if it closed with bytes of ours unread.
 */
static int
closed_now(int fd)
{
	char	 c;
	ssize_t	 n;

	n = recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK);
	return (n == 0 || (n == -1 && errno == ECONNRESET));
}

/*
 * Past ADMIN_MAX_CONNS a newcomer is served and the connection idle
 * longest closes; once none is idle, one whose head stopped coming. A
 * connection is closed in the accept's callback, before the newcomer's
 * request is read: once the newcomer has its answer, the FIN of the one
 * closed is here (loopback), and those still open are known.
 */
START_TEST(test_max_conns)
{
	struct tu_resp	 r;
	int		 fds[ADMIN_MAX_CONNS], heads[ADMIN_MAX_CONNS];
	int		 fd, i, n;

	for (i = 0; i < ADMIN_MAX_CONNS; i++) {
		ck_assert_int_ge(fds[i] = tu_connect(srv_port), 0);
		ask_healthz(fds[i], 200, "ok\n");
	}
	/* fds[1] asks again: fds[0] is now the one idle longest. */
	ask_healthz(fds[1], 200, "ok\n");
	ck_assert_int_ge(fd = tu_connect(srv_port), 0);
	ask_healthz(fd, 200, "ok\n");
	ck_assert(closed_now(fds[0]));
	for (i = 1; i < ADMIN_MAX_CONNS; i++)
		ck_assert_msg(!closed_now(fds[i]), "fds[%d] closed", i);
	/* The server's loop waits for us: nothing writes the count now. */
	ck_assert_uint_eq(admin_evicted(srv), 1);

	/* Heads that stop coming take the idle ones' places, then... */
	for (i = 0; i < ADMIN_MAX_CONNS; i++) {
		ck_assert_int_ge(heads[i] = tu_connect(srv_port), 0);
		ck_assert_int_eq(tu_send_str(heads[i],
		    "GET /metrics HTTP/1.1\r\nHost:"), 0);
	}
	/* ...a health check still gets its answer, in the place of one. */
	ck_assert_int_eq(tu_exchange(srv_port, "GET /healthz HTTP/1.1\r\n"
	    "Host: t\r\n\r\n", &r), 0);
	ck_assert_int_eq(r.status, 200);
	tu_resp_free(&r);
	for (i = 1; i < ADMIN_MAX_CONNS; i++)
		ck_assert(tu_wait_closed(fds[i], CLOSE_WAIT_MS));
	ck_assert(tu_wait_closed(fd, CLOSE_WAIT_MS));
	for (i = n = 0; i < ADMIN_MAX_CONNS; i++)
		n += closed_now(heads[i]);
	ck_assert_int_eq(n, 1);
	ck_assert_uint_eq(admin_evicted(srv), 1 + ADMIN_MAX_CONNS + 1);
	for (i = 0; i < ADMIN_MAX_CONNS; i++) {
		close(fds[i]);
		close(heads[i]);
	}
	close(fd);
}
END_TEST

/* A second endpoint on the same address: NULL, and a cause that says so. */
START_TEST(test_bind_error)
{
	struct event_base	*base;
	struct sockaddr_in	 sin;
	struct admin		*a;
	char			*cause = NULL, want[64];

	ck_assert_ptr_nonnull(base = event_base_new());
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)srv_port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a = admin_new(base, (struct sockaddr *)&sin, sizeof(sin), &stub_ops,
	    &cause);
	ck_assert_ptr_null(a);
	ck_assert_ptr_nonnull(cause);
	snprintf(want, sizeof(want), "admin 127.0.0.1:%d: bind: ", srv_port);
	ck_assert_msg(strncmp(cause, want, strlen(want)) == 0, "%s", cause);
	ck_assert_ptr_nonnull(strstr(cause, "in use"));
	free(cause);
	event_base_free(base);
}
END_TEST

/* A silent connection is closed after the (short) timeout. */
START_TEST(test_idle_timeout)
{
	long long	 t0, dt;
	int		 fd;

	ck_assert_int_ge(fd = tu_connect(srv_port), 0);
	t0 = tu_now_ms();
	ck_assert(tu_wait_closed(fd, CLOSE_WAIT_MS));
	dt = tu_now_ms() - t0;
	ck_assert_msg(dt >= SHORT_TIMEOUT_MS - 50, "closed after %lld ms", dt);
	close(fd);

	/* After a response too: the keep-alive wait is bounded. */
	ck_assert_int_ge(fd = tu_connect(srv_port), 0);
	ask_healthz(fd, 200, "ok\n");
	ck_assert(tu_wait_closed(fd, CLOSE_WAIT_MS));
	close(fd);
}
END_TEST

/* A head that stops coming: 408, then closed. */
START_TEST(test_slow_head)
{
	struct tu_resp	 r;

	ask_closing("GET /metrics HTTP/1.1\r\nHost:", 408, &r);
	tu_resp_free(&r);
}
END_TEST

/* The text of OUT (freed), as a C string in BUF. */
static const char *
text_of(struct evbuffer *out, char *buf, size_t len)
{
	size_t	 n = evbuffer_get_length(out);

	ck_assert_uint_lt(n, len);
	evbuffer_remove(out, buf, n);
	buf[n] = '\0';
	evbuffer_free(out);
	return (buf);
}

START_TEST(test_writer_escaping)
{
	struct evbuffer			*out = evbuffer_new();
	const struct metrics_label	 l[] = {
		{ "path", "a\\b" }, { "q", "say \"hi\"\nbye" }, { "e", "" }
	};
	char				 buf[1024];

	metrics_family(out, "x_total", "counter", "a \\ b\nc \"q\"");
	metrics_u64(out, "x_total", l, 3, 42);
	metrics_u64(out, "y", NULL, 0, UINT64_MAX);
	metrics_u64(out, "z", l, 1, 0);
	ck_assert_str_eq(text_of(out, buf, sizeof(buf)),
	    "# HELP x_total a \\\\ b\\nc \"q\"\n"
	    "# TYPE x_total counter\n"
	    "x_total{path=\"a\\\\b\",q=\"say \\\"hi\\\"\\nbye\",e=\"\"} 42\n"
	    "y 18446744073709551615\n"
	    "z{path=\"a\\\\b\"} 0\n");
}
END_TEST

START_TEST(test_writer_double)
{
	struct evbuffer			*out = evbuffer_new();
	const struct metrics_label	 l[] = { { "k", "v" } };
	char				 buf[1024];

	metrics_double(out, "a", NULL, 0, 2.5);
	metrics_double(out, "b", NULL, 0, 0.1);
	metrics_double(out, "c", l, 1, INFINITY);
	metrics_double(out, "d", NULL, 0, -INFINITY);
	metrics_double(out, "e", NULL, 0, NAN);
	metrics_double(out, "f", NULL, 0, 1e21);
	metrics_double(out, "g", NULL, 0, -0.0);
	ck_assert_str_eq(text_of(out, buf, sizeof(buf)),
	    "a 2.5\n"
	    "b 0.1\n"
	    "c{k=\"v\"} +Inf\n"
	    "d -Inf\n"
	    "e NaN\n"
	    "f 1e+21\n"
	    "g -0\n");
}
END_TEST

START_TEST(test_writer_histogram)
{
	static const double	 bounds[] = { 0.005, 0.1, 0.25, 1, 2.5, 10 };
	static const uint64_t	 counts[] = { 1, 2, 0, 3, 4, 0, 5 };
	struct evbuffer		*out = evbuffer_new();
	const struct metrics_label l[] = { { "route", "a\"b" } };
	char			 buf[2048];

	metrics_histogram(out, "h", l, 1, bounds, 6, counts, 12.5);
	/* No bounds, no labels: +Inf alone. */
	metrics_histogram(out, "n", NULL, 0, NULL, 0, counts + 6, 0.25);
	ck_assert_str_eq(text_of(out, buf, sizeof(buf)),
	    "h_bucket{route=\"a\\\"b\",le=\"0.005\"} 1\n"
	    "h_bucket{route=\"a\\\"b\",le=\"0.1\"} 3\n"
	    "h_bucket{route=\"a\\\"b\",le=\"0.25\"} 3\n"
	    "h_bucket{route=\"a\\\"b\",le=\"1\"} 6\n"
	    "h_bucket{route=\"a\\\"b\",le=\"2.5\"} 10\n"
	    "h_bucket{route=\"a\\\"b\",le=\"10\"} 10\n"
	    "h_bucket{route=\"a\\\"b\",le=\"+Inf\"} 15\n"
	    "h_sum{route=\"a\\\"b\"} 12.5\n"
	    "h_count{route=\"a\\\"b\"} 15\n"
	    "n_bucket{le=\"+Inf\"} 5\n"
	    "n_sum 0.25\n"
	    "n_count 5\n");
}
END_TEST

/* Bounds in the fewest digits that read back, spelled as Go spells them. */
START_TEST(test_writer_bounds)
{
	static const double	 bounds[] = {
		1e-05, 0.0001, 0.3, 1, 10, 100000, 123456.7, 1e6, 2.5e7
	};
	static const uint64_t	 counts[10];
	struct evbuffer		*out = evbuffer_new();
	char			 buf[2048];

	metrics_histogram(out, "b", NULL, 0, bounds, 9, counts, 0);
	ck_assert_str_eq(text_of(out, buf, sizeof(buf)),
	    "b_bucket{le=\"1e-05\"} 0\n"
	    "b_bucket{le=\"0.0001\"} 0\n"
	    "b_bucket{le=\"0.3\"} 0\n"
	    "b_bucket{le=\"1\"} 0\n"
	    "b_bucket{le=\"10\"} 0\n"
	    "b_bucket{le=\"100000\"} 0\n"
	    "b_bucket{le=\"123456.7\"} 0\n"
	    "b_bucket{le=\"1e+06\"} 0\n"
	    "b_bucket{le=\"2.5e+07\"} 0\n"
	    "b_bucket{le=\"+Inf\"} 0\n"
	    "b_sum 0\n"
	    "b_count 0\n");
}
END_TEST

/* Runs `promtool check metrics` on TEXT; its exit status, output in BUF. */
static int
promtool(const char *text, char *buf, size_t len)
{
	char	 path[256], cmd[512];
	FILE	*f;
	size_t	 n;
	int	 status;

	ck_assert_msg(system("command -v promtool >/dev/null 2>&1") == 0,
	    "promtool not found: install the Debian package prometheus "
	    "(apt-get install --no-install-recommends prometheus)");
	snprintf(path, sizeof(path), "%s/metrics.txt", tu_tmpdir());
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < '%s' 2>&1", path);
	ck_assert_ptr_nonnull(f = popen(cmd, "r"));
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	status = pclose(f);
	ck_assert(WIFEXITED(status));
	return (WEXITSTATUS(status));
}

START_TEST(test_promtool)
{
	struct evbuffer	*out = evbuffer_new();
	char		 text[8192], res[4096];
	int		 rc;

	sample_metrics(out);
	text_of(out, text, sizeof(text));
	rc = promtool(text, res, sizeof(res));
	ck_assert_msg(rc == 0 && res[0] == '\0',
	    "promtool exited %d: %s", rc, res);

	/* The check can fail: a counter without _total is a problem. */
	out = evbuffer_new();
	metrics_family(out, "shadowdiff_requests", "counter", "Requests.");
	metrics_u64(out, "shadowdiff_requests", NULL, 0, 1);
	text_of(out, text, sizeof(text));
	rc = promtool(text, res, sizeof(res));
	ck_assert_int_ne(rc, 0);
	ck_assert_ptr_nonnull(strstr(res, "_total"));
}
END_TEST

static Suite *
admin_suite(void)
{
	const TTest	*endpoint[] = { test_metrics, test_stats, test_healthz,
	    test_not_found, test_method_not_allowed, test_head, test_keepalive,
	    test_http10, test_head_too_large, test_body, test_malformed,
	    test_bind_error, NULL };
	const TTest	*cap[] = { test_max_conns, NULL };
	const TTest	*timeout[] = { test_idle_timeout, test_slow_head,
	    NULL };
	const TTest	*writer[] = { test_writer_escaping, test_writer_double,
	    test_writer_histogram, test_writer_bounds, test_promtool, NULL };
	Suite		*s;

	s = tu_suite("admin", tu_tcase("endpoint", 30, setup, teardown),
	    endpoint);
	suite_add_tcase(s, tu_tcase_tests(tu_tcase("cap", 30, setup_long,
	    teardown), cap));
	suite_add_tcase(s, tu_tcase_tests(tu_tcase("timeout", 30, setup_short,
	    teardown), timeout));
	suite_add_tcase(s, tu_tcase_tests(tu_tcase("writer", 30, NULL, NULL),
	    writer));
	return (s);
}

int
main(void)
{
	return (tu_run(admin_suite()));
}
