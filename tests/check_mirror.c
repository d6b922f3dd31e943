/*
 * Unit tests of the mirror module: the decision and its reasons, sampling
 * by key, request ids, the shadow-down state. The integration tests of
 * mirroring through the daemon are in check_shadow.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shadowdiff/config.h"
#include "shadowdiff/http.h"
#include "shadowdiff/mirror.h"
#include "shadowdiff/util.h"
#include "testutil.h"

#define BASE \
	"[listen]\naddress = 127.0.0.1:0\n" \
	"[primary]\nurl = http://127.0.0.1:9\n"
#define SHADOW	"[shadow]\nurl = http://127.0.0.1:10\n"

/* Loads TEXT as a config file; it must be valid. */
static struct config *
cfg_of(const char *text)
{
	static int	 n;
	struct config	*cfg;
	char		 path[512], *cause = NULL;
	FILE		*f;

	snprintf(path, sizeof(path), "%s/mirror.%d.conf", tu_tmpdir(), n++);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	cfg = config_load(path, &cause);
	ck_assert_msg(cfg != NULL, "%s", cause ? cause : "");
	return (cfg);
}

static int
head_cb(void *arg, struct http_msg *m)
{
	return (0);
}

static int
body_cb(void *arg, const char *p, size_t n)
{
	return (0);
}

static void
done_cb(void *arg, struct http_msg *m)
{
}

static const struct http_parser_cbs cbs = { head_cb, body_cb, done_cb };

/* Parses the head of RAW into P; P->msg is the request. */
static void
parse(struct http_parser *p, const char *raw)
{
	size_t	 used;

	http_parser_init(p, HTTP_REQUEST, &cbs, NULL, 16384, 100);
	ck_assert_int_ne(http_parser_feed(p, raw, strlen(raw), &used),
	    HTTP_FEED_ERROR);
}

/* The verdict for RAW under CFG, with a fresh worker state. */
static enum mirror_verdict
decide(const struct config *cfg, const char *raw)
{
	struct http_parser		 p;
	struct mirror_state		 ms;
	const struct config_route	*r;
	const char			*t;
	size_t				 len;
	enum mirror_verdict		 v;

	mirror_state_init(&ms);
	parse(&p, raw);
	t = http_msg_target(&p.msg, &len);
	r = config_route_match(cfg, t, len, llhttp_method_name(p.msg.method));
	v = mirror_decide(cfg, r, &p.msg, &ms, 1000);
	http_parser_free(&p);
	return (v);
}

/* Requests under a config with routes, and what the decision says. */
static const struct {
	enum mirror_verdict	 want;
	const char		*raw;
} routed[] = {
	{ MIRROR_YES, "GET / HTTP/1.1\r\nHost: x\r\n\r\n" },
	{ MIRROR_YES, "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n" },
	{ MIRROR_YES, "OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n" },
	/* Writes are safe by default. */
	{ MIRROR_METHOD, "POST / HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 1\r\n\r\n" },
	{ MIRROR_METHOD, "DELETE / HTTP/1.1\r\nHost: x\r\n\r\n" },
	/* A route widens or narrows the list. */
	{ MIRROR_YES, "PUT /w HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 1\r\n\r\n" },
	{ MIRROR_METHOD, "GET /w HTTP/1.1\r\nHost: x\r\n\r\n" },
	{ MIRROR_METHOD, "GET /q HTTP/1.1\r\nHost: x\r\n\r\n" },
	/* A body over max_body, known from its length. */
	{ MIRROR_BODY_TOO_LARGE, "PUT /w HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 11\r\n\r\n" },
	{ MIRROR_YES, "PUT /w HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 10\r\n\r\n" },
	/* Upgrades never. */
	{ MIRROR_UPGRADE, "GET / HTTP/1.1\r\nHost: x\r\n"
	    "Connection: upgrade\r\nUpgrade: websocket\r\n\r\n" },
};

/* Each reason, in the order the decision looks. */
START_TEST(test_reasons)
{
	struct config	*cfg;
	size_t		 i;

	cfg = cfg_of(BASE);
	ck_assert_int_eq(decide(cfg, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
	    MIRROR_NO_SHADOW);
	config_unref(cfg);

	cfg = cfg_of(BASE SHADOW "max_body = 10\n"
	    "[route w]\nmatch = /w\nmirror_methods = PUT\n"
	    "[route q]\nmatch = /q\nmirror_methods = none\n");
	for (i = 0; i < nitems(routed); i++)
		ck_assert_msg(decide(cfg, routed[i].raw) == routed[i].want,
		    "not verdict %d for:\n%s", routed[i].want, routed[i].raw);
	config_unref(cfg);

	cfg = cfg_of(BASE SHADOW "sample = 0%\n");
	ck_assert_int_eq(decide(cfg, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
	    MIRROR_SAMPLED_OUT);
	config_unref(cfg);
}
END_TEST

/*
 * A request carrying the marker came from a copy we sent: never mirrored
 * again, whatever its value and before any other reason; with marker =
 * none there is nothing to recognise.
 */
START_TEST(test_loop)
{
	struct config	*cfg;

	cfg = cfg_of(BASE SHADOW);
	ck_assert_int_eq(decide(cfg, "GET / HTTP/1.1\r\nHost: x\r\n"
	    "X-Shadowdiff-Shadow: 1\r\n\r\n"), MIRROR_LOOP);
	ck_assert_int_eq(decide(cfg, "GET / HTTP/1.1\r\nHost: x\r\n"
	    "x-shadowdiff-shadow: anything\r\n\r\n"), MIRROR_LOOP);
	/* Before the method: the loop is what the figures must show. */
	ck_assert_int_eq(decide(cfg, "POST / HTTP/1.1\r\nHost: x\r\n"
	    "X-Shadowdiff-Shadow: 1\r\nContent-Length: 0\r\n\r\n"),
	    MIRROR_LOOP);
	/* A name that only starts like it is another header. */
	ck_assert_int_eq(decide(cfg, "GET / HTTP/1.1\r\nHost: x\r\n"
	    "X-Shadowdiff-Shadowy: 1\r\n\r\n"), MIRROR_YES);
	ck_assert_int_eq(mirror_verdict_counter(MIRROR_LOOP),
	    STAT_NOT_MIRRORED_LOOP);
	config_unref(cfg);

	cfg = cfg_of(BASE SHADOW "marker = X-Env: shadow\n");
	ck_assert_int_eq(decide(cfg, "GET / HTTP/1.1\r\nHost: x\r\n"
	    "X-Shadowdiff-Shadow: 1\r\n\r\n"), MIRROR_YES);
	ck_assert_int_eq(decide(cfg, "GET / HTTP/1.1\r\nHost: x\r\n"
	    "X-Env: shadow\r\n\r\n"), MIRROR_LOOP);
	config_unref(cfg);

	cfg = cfg_of(BASE SHADOW "marker = none\n");
	ck_assert_int_eq(decide(cfg, "GET / HTTP/1.1\r\nHost: x\r\n"
	    "X-Shadowdiff-Shadow: 1\r\n\r\n"), MIRROR_YES);
	config_unref(cfg);
}
END_TEST

/* max_inflight and the shadow-down pause, from the worker's state. */
START_TEST(test_capacity)
{
	struct config		*cfg = cfg_of(BASE SHADOW "max_inflight = 2\n");
	struct http_parser	 p;
	struct mirror_state	 ms;
	uint64_t		 now, want;
	int			 i;

	mirror_state_init(&ms);
	parse(&p, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	ms.inflight = 1;
	ck_assert_int_eq(mirror_decide(cfg, NULL, &p.msg, &ms, 5000),
	    MIRROR_YES);
	ms.inflight = 2;
	ck_assert_int_eq(mirror_decide(cfg, NULL, &p.msg, &ms, 5000),
	    MIRROR_MAX_INFLIGHT);
	ms.inflight = 0;
	/* One failure short of the count: still up. */
	for (i = 0; i < MIRROR_DOWN_FAILURES - 1; i++)
		mirror_shadow_failed(&ms, 5000, "test");
	ck_assert_int_eq(mirror_decide(cfg, NULL, &p.msg, &ms, 5000),
	    MIRROR_YES);
	mirror_shadow_failed(&ms, 5000, "test");
	ck_assert_int_eq(mirror_decide(cfg, NULL, &p.msg, &ms, 5000),
	    MIRROR_SHADOW_DOWN);
	/* Stragglers sent before it went down change nothing. */
	mirror_shadow_failed(&ms, 5500, "test");
	ck_assert_int_eq(mirror_decide(cfg, NULL, &p.msg, &ms,
	    5000 + MIRROR_DOWN_MS - 1), MIRROR_SHADOW_DOWN);
	/* Then one goes through as a probe, and only one. */
	now = 5000 + MIRROR_DOWN_MS;
	ck_assert_int_eq(mirror_decide(cfg, NULL, &p.msg, &ms, now),
	    MIRROR_YES);
	ck_assert_int_eq(mirror_decide(cfg, NULL, &p.msg, &ms, now),
	    MIRROR_SHADOW_DOWN);
	/* Each failed probe doubles the backoff, up to the cap. */
	want = MIRROR_DOWN_MS;
	for (i = 0; i < 8; i++) {
		mirror_shadow_failed(&ms, now, "test");
		want = want * 2 > MIRROR_DOWN_MAX_MS ? MIRROR_DOWN_MAX_MS :
		    want * 2;
		ck_assert_int_eq(mirror_decide(cfg, NULL, &p.msg, &ms,
		    now + want - 1), MIRROR_SHADOW_DOWN);
		now += want;
		ck_assert_int_eq(mirror_decide(cfg, NULL, &p.msg, &ms, now),
		    MIRROR_YES);
	}
	ck_assert_uint_eq(want, MIRROR_DOWN_MAX_MS);
	/* An answer brings it back up, with its count at zero. */
	mirror_shadow_answered(&ms, "test");
	ck_assert_int_eq(mirror_decide(cfg, NULL, &p.msg, &ms, now),
	    MIRROR_YES);
	mirror_shadow_failed(&ms, now, "test");
	ck_assert_int_eq(mirror_decide(cfg, NULL, &p.msg, &ms, now),
	    MIRROR_YES);
	http_parser_free(&p);
	config_unref(cfg);
}
END_TEST

/* A key value is always in or always out; the share is about right. */
START_TEST(test_key_sampling)
{
	static const struct {
		const char	*conf;
		const char	*before;	/* the request: before the key */
		const char	*after;		/* and after it */
	} by[] = {
		{ BASE SHADOW "sample = 50%\nsample_key = header:X-User\n",
		    "GET / HTTP/1.1\r\nHost: x\r\nx-user: ", "\r\n\r\n" },
		{ BASE SHADOW "sample = 50%\nsample_key = query:user\n",
		    "GET /a?x=1&user=", "&y=2 HTTP/1.1\r\nHost: x\r\n\r\n" },
	};
	struct config	*cfg;
	char		 raw[256], key[32];
	size_t		 k;
	int		 i, in = 0, want;

	for (i = 0; i < 10000; i++) {
		snprintf(key, sizeof(key), "user-%d", i);
		want = mirror_key_sampled(0.25, key, strlen(key));
		ck_assert_int_eq(mirror_key_sampled(0.25, key, strlen(key)),
		    want);
		/* A smaller share takes a subset of a larger one. */
		if (mirror_key_sampled(0.1, key, strlen(key)))
			ck_assert_int_eq(want, 1);
		in += want;
	}
	ck_assert_int_gt(in, 2300);
	ck_assert_int_lt(in, 2700);
	ck_assert_int_eq(mirror_key_sampled(1, "x", 1), 1);
	ck_assert_int_eq(mirror_key_sampled(0, "x", 1), 0);

	/* By header and by query parameter, through the decision. */
	for (k = 0; k < nitems(by); k++) {
		cfg = cfg_of(by[k].conf);
		for (i = 0; i < 50; i++) {
			snprintf(key, sizeof(key), "u%d", i);
			snprintf(raw, sizeof(raw), "%s%s%s", by[k].before, key,
			    by[k].after);
			ck_assert_int_eq(decide(cfg, raw) == MIRROR_YES,
			    mirror_key_sampled(0.5, key, strlen(key)));
		}
		config_unref(cfg);
	}
}
END_TEST

/* The key's value as the request carries it, or none. */
START_TEST(test_key_extraction)
{
	struct config		*cfg;
	struct http_parser	 p;
	const char		*v;
	size_t			 len;

	cfg = cfg_of(BASE SHADOW "sample_key = query:user\n");
	parse(&p, "GET /a?username=no&user=ab%20c&user=second HTTP/1.1\r\n"
	    "Host: x\r\n\r\n");
	v = mirror_sample_key(cfg, &p.msg, &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(len, 6);
	ck_assert(memcmp(v, "ab%20c", 6) == 0);
	http_parser_free(&p);
	parse(&p, "GET /a?usr=1 HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert_ptr_null(mirror_sample_key(cfg, &p.msg, &len));
	http_parser_free(&p);
	parse(&p, "GET /a?user= HTTP/1.1\r\nHost: x\r\n\r\n");
	v = mirror_sample_key(cfg, &p.msg, &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(len, 0);
	http_parser_free(&p);
	config_unref(cfg);
}
END_TEST

/* Ids: 32 hex digits, different each time. */
START_TEST(test_ids)
{
	struct mirror_state	 ms;
	char			 a[MIRROR_ID_LEN + 1], b[MIRROR_ID_LEN + 1];
	int			 i;

	mirror_state_init(&ms);
	mirror_new_id(&ms, a);
	ck_assert_uint_eq(strlen(a), MIRROR_ID_LEN);
	ck_assert_uint_eq(strspn(a, "0123456789abcdef"), MIRROR_ID_LEN);
	for (i = 0; i < 1000; i++) {
		mirror_new_id(&ms, b);
		ck_assert_str_ne(a, b);
	}
	for (i = 0; i < 1000; i++) {
		double d = mirror_random(&ms);

		ck_assert(d >= 0 && d < 1);
	}
}
END_TEST

static Suite *
mirror_suite(void)
{
	const TTest	*tests[] = { test_reasons, test_loop, test_capacity,
	    test_key_sampling, test_key_extraction, test_ids, NULL };

	return (tu_suite("mirror", tcase_create("decide"), tests));
}

int
main(void)
{
	return (tu_run(mirror_suite()));
}
