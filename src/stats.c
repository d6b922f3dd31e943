/* Per-worker counters: reads, and the per-route figures. */
#include "config.h"

#include <pthread.h>
#include <string.h>

#include "shadowdiff/stats.h"
#include "shadowdiff/util.h"

/* Seconds: from a millisecond to ten seconds, as Prometheus suggests. */
const double stats_latency_bounds[STATS_LATENCY_BOUNDS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
	10, 30
};

static pthread_mutex_t	 stats_routes_lock = PTHREAD_MUTEX_INITIALIZER;
static const char	*stats_routes[STATS_ROUTES_MAX] = {
	"default", "(other)"
};
static _Atomic size_t	 stats_nroutes = 2;

/* A counter's value, from any thread. */
uint64_t
stats_get(const struct stats *s, enum stats_counter which)
{
	return (atomic_load_explicit(&s->c[which], memory_order_relaxed));
}

/*
 * The id of route NAME, registered if new. Configs are read on the main
 * thread, but the lock keeps this right from any; readers see a name
 * before the count that covers it.
 */
size_t
stats_route_id(const char *name)
{
	size_t	 i, n;

	pthread_mutex_lock(&stats_routes_lock);
	n = atomic_load(&stats_nroutes);
	for (i = 0; i < n; i++)
		if (strcmp(stats_routes[i], name) == 0)
			break;
	if (i == n) {
		if (n == STATS_ROUTES_MAX)
			i = STATS_ROUTE_OTHER;
		else {
			stats_routes[n] = xstrdup(name);
			atomic_store(&stats_nroutes, n + 1);
		}
	}
	pthread_mutex_unlock(&stats_routes_lock);
	return (i);
}

/* How many route ids are given out. */
size_t
stats_route_count(void)
{
	return (atomic_load(&stats_nroutes));
}

/* The name of route ID. */
const char *
stats_route_name(size_t id)
{
	return (stats_routes[id]);
}

/* Counts a response of STATUS on route ID. */
void
stats_route_status(struct stats_route *routes, size_t id, int status)
{
	if (status >= 100 && status < 600)
		stats_route_add(&routes[id].responses[status / 100 - 1], 1);
}

/* Counts one leg's time to a full response, US microseconds. */
void
stats_route_latency(struct stats_route *routes, size_t id,
    enum stats_leg leg, uint64_t us)
{
	size_t	 b;

	for (b = 0; b < STATS_LATENCY_BOUNDS; b++)
		if ((double)us <= stats_latency_bounds[b] * 1e6)
			break;
	stats_route_add(&routes[id].latency[leg][b], 1);
	stats_route_add(&routes[id].latency_us[leg], us);
}
