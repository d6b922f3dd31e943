/* Per-worker counters: names and reads. */
#include "config.h"

#include "shadowdiff/stats.h"

static const char *const stats_names[] = {
#define STATS_NAME(name, help)	#name,
	STATS_COUNTERS(STATS_NAME)
#undef STATS_NAME
};

static const char *const stats_helps[] = {
#define STATS_HELP(name, help)	help,
	STATS_COUNTERS(STATS_HELP)
#undef STATS_HELP
};

/* A counter's value, from any thread. */
uint64_t
stats_get(const struct stats *s, enum stats_counter which)
{
	return (atomic_load_explicit(&s->c[which], memory_order_relaxed));
}

/* The counter's name, as in the enum. */
const char *
stats_name(enum stats_counter which)
{
	return (stats_names[which]);
}

/* What the counter counts. */
const char *
stats_help(enum stats_counter which)
{
	return (stats_helps[which]);
}
