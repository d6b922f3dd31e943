/*
 * upstream_finish's reuse rules: when a backend connection goes back to
 * its pool and when it is closed. upstream.c is included, as h2o's unit
 * tests do, to reach its static functions and its structures; the
 * connections are socket pairs, so no backend is needed.
 */
#include "../src/upstream.c"

#include <sys/socket.h>

#include <check.h>

#include "testutil.h"

enum breach {
	REUSE_OK,		/* every condition met: pooled */
	REUSE_NOT_REUSABLE,	/* the owner says no (upstream_abort) */
	REUSE_DEMOTED,		/* ran at a lower priority */
	REUSE_RETIRED,		/* the pool's backend changed (a reload) */
	REUSE_TUNNEL,		/* raw bytes after a 101 */
	REUSE_RESPONSE_OPEN,	/* the response did not end */
	REUSE_NOT_SENT,		/* the request was not written whole */
	REUSE_NO_KEEPALIVE,	/* the backend said Connection: close */
	REUSE_INPUT_LEFT,	/* bytes after the response */
	REUSE_OUTPUT_LEFT,	/* request bytes still unsent */
	REUSE_POOL_FULL,	/* pool_size idle connections already */
	REUSE_MAX
};

static const char *const breaches[REUSE_MAX] = {
	"ok", "not reusable", "demoted", "retired", "tunnel",
	"response open", "not sent", "no keep-alive", "input left",
	"output left", "pool full"
};

static struct event_base	*base;
static struct config_backend	 backend;
static struct stats		 stats;
static struct upstream_pool	*pool;
static int			 peers[8];	/* the other ends */
static int			 npeers;
static struct upstream		*other;		/* keeps a retired pool */

static void
setup(void)
{
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	memset(&backend, 0, sizeof(backend));
	backend.hostport = (char *)"127.0.0.1:1";
	backend.pool_size = 2;
	backend.idle_timeout_ms = 60000;
	backend.read_timeout_ms = 60000;
	memset(&stats, 0, sizeof(stats));
	/* upstream_pool_new without a config (it would reference one). */
	pool = xcalloc(1, sizeof(*pool));
	pool->name = "primary";
	pool->base = base;
	pool->backend = &backend;
	pool->stats = &stats;
	TAILQ_INIT(&pool->idle);
	npeers = 0;
}

static void
teardown(void)
{
	int	 i;

	upstream_pool_free(pool);
	for (i = 0; i < npeers; i++)
		close(peers[i]);
	event_base_free(base);
}

/*
 * A connection of the pool that has carried a request of METHOD: sent
 * whole, its keep-alive response ended, nothing left either way. Just
 * what upstream_get and a clean exchange leave behind.
 */
static struct upstream *
conn_done(void)
{
	struct upstream	*up;
	int		 sv[2];

	ck_assert_int_lt(npeers, (int)nitems(peers));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	peers[npeers++] = sv[1];
	up = xcalloc(1, sizeof(*up));
	up->pool = pool;
	pool->nconns++;
	up->sock = sock_new(base, sv[0], upstream_read_cb, upstream_write_cb,
	    upstream_event_cb, up);
	ck_assert_ptr_nonnull(up->sock);
	stats_inc(&stats, STAT_UP_OPEN);
	upstream_attach(up, NULL, NULL, HTTP_GET);
	up->state = UP_ACTIVE;
	up->sent = 1;
	up->resp_done = 1;
	up->parser.msg.keepalive = 1;
	return (up);
}

/* Breaks the one condition B of UP's reuse; the value to release with. */
static int
breach(struct upstream *up, enum breach b)
{
	switch (b) {
	case REUSE_NOT_REUSABLE:
		return (0);
	case REUSE_DEMOTED:
		up->demoted = 1;
		break;
	case REUSE_RETIRED:
		/* A second connection keeps the retired pool alive. */
		other = conn_done();
		pool->retired = 1;
		break;
	case REUSE_TUNNEL:
		up->state = UP_TUNNEL;
		break;
	case REUSE_RESPONSE_OPEN:
		up->resp_done = 0;
		break;
	case REUSE_NOT_SENT:
		up->sent = 0;
		break;
	case REUSE_NO_KEEPALIVE:
		up->parser.msg.keepalive = 0;
		break;
	case REUSE_INPUT_LEFT:
		evbuffer_add(sock_get_input(up->sock), "H", 1);
		break;
	case REUSE_OUTPUT_LEFT:
		evbuffer_add(sock_get_output(up->sock), "G", 1);
		break;
	case REUSE_POOL_FULL:
		upstream_release(conn_done(), 1);
		upstream_release(conn_done(), 1);
		ck_assert_uint_eq(pool->nidle, backend.pool_size);
		break;
	default:
		break;
	}
	return (1);
}

/* Each rule alone decides: all met, pooled; one broken, closed. */
START_TEST(test_reuse_rules)
{
	struct upstream	*up;
	size_t		 idle, conns;
	int		 reusable;

	up = conn_done();
	reusable = breach(up, (enum breach)_i);
	idle = pool->nidle;
	conns = pool->nconns;
	upstream_release(up, reusable);
	if (_i == REUSE_OK) {
		ck_assert_msg(pool->nidle == idle + 1, "%s: not pooled",
		    breaches[_i]);
		ck_assert_ptr_eq(TAILQ_FIRST(&pool->idle), up);
		ck_assert_int_eq(up->state, UP_IDLE);
		ck_assert_ptr_null(up->cbs);
		ck_assert_uint_eq(pool->nconns, conns);
	} else {
		ck_assert_msg(pool->nidle == idle, "%s: pooled", breaches[_i]);
		ck_assert_msg(pool->nconns == conns - 1, "%s: not closed",
		    breaches[_i]);
	}
	ck_assert_uint_eq(stats.c[STAT_UP_OPEN], pool->nconns);
	if (_i == REUSE_RETIRED) {
		/* The last one would free the pool: teardown does. */
		pool->retired = 0;
		upstream_abort(other);
	}
}
END_TEST

/*
 * A release from inside one of our own callbacks waits for the
 * outermost frame: then it is done as asked, pooled or closed.
 */
START_TEST(test_release_while_busy)
{
	struct upstream	*up;

	up = conn_done();
	up->busy = 1;
	upstream_release(up, 1);
	ck_assert_int_eq(up->release, 1);
	ck_assert_ptr_null(up->cbs);
	ck_assert_uint_eq(pool->nidle, 0);
	ck_assert_uint_eq(pool->nconns, 1);
	upstream_unbusy(up);
	ck_assert_uint_eq(pool->nidle, 1);
	ck_assert_int_eq(up->state, UP_IDLE);

	up = conn_done();
	up->busy = 1;
	upstream_abort(up);
	ck_assert_uint_eq(pool->nconns, 2);
	upstream_unbusy(up);
	ck_assert_uint_eq(pool->nconns, 1);
	ck_assert_uint_eq(pool->nidle, 1);
}
END_TEST

/* The most recently used idle connection is handed out first. */
START_TEST(test_pool_lifo)
{
	struct upstream	*a, *b;

	a = conn_done();
	b = conn_done();
	upstream_release(a, 1);
	upstream_release(b, 1);
	ck_assert_ptr_eq(upstream_get(pool, NULL, NULL, HTTP_GET,
	    UPSTREAM_POOLED), b);
	ck_assert_int_eq(b->reused, 1);
	ck_assert_uint_eq(pool->nidle, 1);
	ck_assert_uint_eq(stats.c[STAT_UP_REUSED], 1);
	upstream_abort(b);
}
END_TEST

/*
 * A pooled connection that the backend closed (or wrote to) is freed
 * from the loop; one found closed by the look of UPSTREAM_POOLED_CHECKED
 * is counted stale and not handed out.
 */
START_TEST(test_idle_closed_by_backend)
{
	struct upstream	*a, *b;
	int		 i;

	a = conn_done();
	upstream_release(a, 1);
	ck_assert_uint_eq(pool->nidle, 1);
	close(peers[0]);
	peers[0] = -1;
	/* Bounded: the EOF is there before the first turn. */
	for (i = 0; i < 100 && pool->nidle > 0; i++)
		event_base_loop(base, EVLOOP_NONBLOCK | EVLOOP_ONCE);
	ck_assert_uint_eq(pool->nidle, 0);
	ck_assert_uint_eq(pool->nconns, 0);

	/* Closed again, but no loop turn yet: only the look sees it. */
	b = conn_done();
	upstream_release(b, 1);
	close(peers[1]);
	peers[1] = -1;
	/* No backend listens on port 0: a new connection fails. */
	backend.addrlen = 0;
	ck_assert_ptr_null(upstream_get(pool, NULL, NULL, HTTP_POST,
	    UPSTREAM_POOLED_CHECKED));
	ck_assert_uint_eq(stats.c[STAT_UP_STALE], 1);
	ck_assert_uint_eq(pool->nidle, 0);
	ck_assert_uint_eq(pool->nconns, 0);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("upstream");
	TCase	*tc = tcase_create("reuse");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_reuse_rules, 0, REUSE_MAX);
	tcase_add_test(tc, test_release_while_busy);
	tcase_add_test(tc, test_pool_lifo);
	tcase_add_test(tc, test_idle_closed_by_backend);
	suite_add_tcase(s, tc);
	return (tu_run(s));
}
