/*
 * bench-diff: the diff engine alone, on one core, on generated JSON
 * documents of about 1 KiB, 64 KiB and 1 MiB (an API-like list of
 * objects: ids, names, prices, tags, timestamps, nested objects).
 *
 * For each size it times diff_compare() on pairs that are
 *   identical      the same bytes;
 *   equal, same order   re-serialized as another encoder would (Go's
 *                  \u003c escapes, 1.0 for 1, other whitespace): equal
 *                  token for token;
 *   equal, reordered    every object's keys in reverse order;
 *   the same under rules     profile go-rust, two ignore patterns (one
 *                  with "**") and an unordered array in every item;
 *   one deep diff  one value near the end changed;
 * and, for the equal pairs, the parts: one token-stream pass over both
 * documents, building both trees, comparing the trees, and jansson's
 * json_loadb() for reference. Throughput is the size of ONE document
 * divided by the time to compare the pair (parsing both).
 *
 * usage: bench-diff [-t seconds per figure] [-n calls] [-s size]
 *                   [-p pair]
 *
 * -n runs diff_compare() exactly that many times per pair and prints no
 * timing, for instruction counts (valgrind --tool=callgrind
 * --toggle-collect=diff_compare); -s keeps only the documents of about
 * that many bytes (1024, 65536 or 1048576), -p only the pair of that
 * number (0 identical to 4 one deep diff).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "diff-int.h"

enum variant {
	V_IDENTICAL,
	V_SAME_ORDER,
	V_REORDERED,
	V_RULES,	/* reordered, compared under rules */
	V_DEEP_DIFF
};

static double	 min_seconds = 0.5;
static long	 fixed_calls;	/* -n: that many calls, no timing */
static size_t	 only_size;	/* -s: only this size */
static int	 only_pair = -1; /* -p: only this pair */

/* Seconds on the monotonic clock. */
static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* A deterministic pseudo-random number (xorshift64). */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (*s);
}

/* Appends an object's members, in order or reversed. */
static void
put_members(struct dbuf *b, const char **kv, size_t n, int reverse,
    const char *sep)
{
	size_t	 i, k;

	dbuf_addc(b, '{');
	for (i = 0; i < n; i++) {
		k = reverse ? n - 1 - i : i;
		if (i > 0)
			dbuf_adds(b, sep);
		dbuf_adds(b, kv[2 * k]);
		dbuf_adds(b, sep[0] == ',' && sep[1] == ' ' ? ": " : ":");
		dbuf_adds(b, kv[2 * k + 1]);
	}
	dbuf_addc(b, '}');
}

/* Generates a document of about SIZE bytes in variant V. */
static char *
generate(size_t size, enum variant v, int side, size_t *len)
{
	struct dbuf	 b;
	char		 id[32], name[96], price[32], tags[96], ts[64], nest[128];
	char		 desc[256], last[32];
	const char	*kv[16];
	const char	*sep = (v != V_IDENTICAL && side) ? ", " : ",";
	uint64_t	 s = 0x9e3779b97f4a7c15ULL;
	size_t		 i, n = 0, items;
	int		 rev = ((v == V_REORDERED || v == V_RULES) && side);

	memset(&b, 0, sizeof(b));
	/* About 330 bytes per item. */
	items = size / 330 > 0 ? size / 330 : 1;
	dbuf_adds(&b, "{\"items\":[");
	for (i = 0; i < items; i++) {
		if (i > 0)
			dbuf_adds(&b, sep);
		snprintf(id, sizeof(id), "%llu",
		    (unsigned long long)(rnd(&s) % 10000000000ULL));
		snprintf(name, sizeof(name), "\"Item %llu %s A&B\"",
		    (unsigned long long)(rnd(&s) % 100000), (v != V_IDENTICAL &&
		    side) ? "\\u003cb\\u003e" : "<b>");
		if (v != V_IDENTICAL && side)
			snprintf(price, sizeof(price), "%llu.%02llu0",
			    (unsigned long long)(rnd(&s) % 1000),
			    (unsigned long long)(rnd(&s) % 100));
		else
			snprintf(price, sizeof(price), "%llu.%02llu",
			    (unsigned long long)(rnd(&s) % 1000),
			    (unsigned long long)(rnd(&s) % 100));
		snprintf(tags, sizeof(tags), "[\"t%llu\",\"t%llu\",\"t%llu\"]",
		    (unsigned long long)(rnd(&s) % 50),
		    (unsigned long long)(rnd(&s) % 50),
		    (unsigned long long)(rnd(&s) % 50));
		snprintf(ts, sizeof(ts), "\"2024-%02llu-%02lluT%02llu:%02llu:"
		    "%02llu.123Z\"", (unsigned long long)(rnd(&s) % 12 + 1),
		    (unsigned long long)(rnd(&s) % 28 + 1),
		    (unsigned long long)(rnd(&s) % 24),
		    (unsigned long long)(rnd(&s) % 60),
		    (unsigned long long)(rnd(&s) % 60));
		snprintf(last, sizeof(last), "%llu",
		    (unsigned long long)(rnd(&s) % 1000));
		if (v == V_DEEP_DIFF && side && i == items - 1)
			snprintf(last, sizeof(last), "-1");
		snprintf(nest, sizeof(nest), "{\"x\":%llu,\"y\":[1,2,{\"z\":%s}],"
		    "\"ok\":true,\"none\":null}",
		    (unsigned long long)(rnd(&s) % 1000), last);
		snprintf(desc, sizeof(desc), "\"Lorem ipsum dolor sit amet, "
		    "consectetur adipiscing elit %llu, sed do eiusmod tempor "
		    "incididunt ut labore\"",
		    (unsigned long long)(rnd(&s) % 1000000));
		n = 0;
		kv[n++] = "\"id\"";
		kv[n++] = id;
		kv[n++] = "\"name\"";
		kv[n++] = name;
		kv[n++] = "\"price\"";
		kv[n++] = price;
		kv[n++] = "\"tags\"";
		kv[n++] = tags;
		kv[n++] = "\"created_at\"";
		kv[n++] = ts;
		kv[n++] = "\"attrs\"";
		kv[n++] = nest;
		kv[n++] = "\"description\"";
		kv[n++] = desc;
		put_members(&b, kv, n / 2, rev, sep);
	}
	dbuf_adds(&b, "],\"meta\":{\"count\":");
	dbuf_printf(&b, "%zu", items);
	dbuf_adds(&b, ",\"next\":null}}\n");
	*len = b.len;
	return (dbuf_finish(&b));
}

/* Seconds per call of the work below, over at least min_seconds. */
struct work {
	const struct diff_rules	*rules;
	struct diff_response	 a;
	struct diff_response	 b;
	int			 what;
	size_t			 ndiffs;
	struct diff_scratch	*scratch;	/* kept, as a diff thread does */
	struct jdoc		 doc[2];	/* likewise, for the parts */
};

enum {
	W_COMPARE,	/* diff_compare() */
	W_STREAM,	/* json_stream_equal() */
	W_TREES,	/* json_parse() twice */
	W_TREES_CMP,	/* json_parse() twice and compare_json() */
	W_JANSSON	/* json_loadb() twice */
};

/* Runs one unit of work. */
static void
run_once(struct work *w)
{
	struct diff_result	*res;
	json_t			*ja, *jb;
	uint32_t		 prefix;

	switch (w->what) {
	case W_COMPARE:
		res = diff_compare_scratch(w->scratch, w->rules, &w->a, &w->b,
		    16 * 1024 * 1024);
		w->ndiffs = diff_result_count(res);
		diff_result_free(res);
		break;
	case W_STREAM:
		w->ndiffs = !json_stream_equal(w->a.body, w->a.body_len,
		    w->b.body, w->b.body_len, &w->doc[0], &w->doc[1], &prefix);
		break;
	case W_TREES:
	case W_TREES_CMP:
		if (json_parse(&w->doc[0], w->a.body, w->a.body_len) == -1 ||
		    json_parse(&w->doc[1], w->b.body, w->b.body_len) == -1)
			abort();
		if (w->what == W_TREES_CMP) {
			res = dx_calloc(1, sizeof(*res));
			w->ndiffs = (size_t)compare_json(res, w->rules,
			    &w->doc[0], &w->doc[1], 0);
			diff_result_free(res);
		}
		break;
	case W_JANSSON:
		ja = json_loadb((const char *)w->a.body, w->a.body_len,
		    JSON_DECODE_INT_AS_REAL, NULL);
		jb = json_loadb((const char *)w->b.body, w->b.body_len,
		    JSON_DECODE_INT_AS_REAL, NULL);
		if (ja == NULL || jb == NULL)
			abort();
		json_decref(ja);
		json_decref(jb);
		break;
	}
}

/* The best of three timings of W, in seconds per call. */
static double
measure(struct work *w)
{
	double	 best = 1e9, start, t;
	size_t	 n, iters;
	int	 round;

	for (round = 0; round < 3; round++) {
		iters = 0;
		start = now();
		do {
			for (n = 0; n < 8; n++)
				run_once(w);
			iters += 8;
		} while ((t = now() - start) < min_seconds / 3);
		if (t / (double)iters < best)
			best = t / (double)iters;
	}
	return (best);
}

int
main(int argc, char **argv)
{
	static const size_t	 sizes[] = { 1024, 64 * 1024, 1024 * 1024 };
	static const char *const names[] = {
		"identical", "equal, same order", "equal, reordered",
		"equal, reordered, rules", "one deep diff"
	};
	struct diff_rules	*rules, *with_rules;
	char			*cause = NULL;
	struct diff_header	 hdr = { "Content-Type", 12, "application/json",
				    16 };
	struct work		 w;
	char			*a, *b;
	size_t			 si, alen, blen;
	long			 n;
	double			 t, tp, tt, ts, tj;
	int			 v, ch;

	while ((ch = getopt(argc, argv, "n:p:s:t:")) != -1) {
		if (ch == 't')
			min_seconds = atof(optarg);
		else if (ch == 'n')
			fixed_calls = atol(optarg);
		else if (ch == 'p')
			only_pair = atoi(optarg);
		else if (ch == 's')
			only_size = (size_t)atol(optarg);
		else {
			fprintf(stderr, "usage: bench-diff [-t seconds] "
			    "[-n calls] [-s size] [-p pair]\n");
			return (2);
		}
	}
	rules = diff_rules_new(NULL);
	with_rules = diff_rules_new(NULL);
	if (diff_rules_set(with_rules, "profile", "go-rust", &cause) != 0 ||
	    diff_rules_set(with_rules, "ignore", "/items/*/description "
	    "/meta/**", &cause) != 0 ||
	    diff_rules_set(with_rules, "unordered", "/items/*/tags",
	    &cause) != 0) {
		fprintf(stderr, "bench-diff: rules: %s\n", cause);
		return (1);
	}
	printf("| size | pair | compare, us | MB/s | diffs | parse share |\n");
	printf("| ---: | --- | ---: | ---: | ---: | ---: |\n");
	for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		if (only_size != 0 && sizes[si] != only_size)
			continue;
		for (v = V_IDENTICAL; v <= V_DEEP_DIFF; v++) {
			if (only_pair != -1 && v != only_pair)
				continue;
			a = generate(sizes[si], v, 0, &alen);
			b = generate(sizes[si], v, 1, &blen);
			memset(&w, 0, sizeof(w));
			w.rules = v == V_RULES ? with_rules : rules;
			w.a.status = w.b.status = 200;
			w.a.headers = w.b.headers = &hdr;
			w.a.nheaders = w.b.nheaders = 1;
			w.a.body = (unsigned char *)a;
			w.a.body_len = alen;
			w.b.body = (unsigned char *)b;
			w.b.body_len = blen;
			w.scratch = diff_scratch_new();
			w.what = W_COMPARE;
			if (fixed_calls > 0) {
				for (n = 0; n < fixed_calls; n++)
					run_once(&w);
				printf("| %zu | %s | %ld calls | - | %zu | - |\n",
				    alen, names[v], fixed_calls, w.ndiffs);
				diff_scratch_free(w.scratch);
				free(a);
				free(b);
				continue;
			}
			t = measure(&w);
			if (v == V_IDENTICAL)
				printf("| %zu | %s | %.1f | %.0f | %zu | - |\n",
				    alen, names[v], t * 1e6, alen / t / 1e6,
				    w.ndiffs);
			else {
				/* The share of parsing on the tree path. */
				w.what = W_TREES;
				tp = measure(&w);
				w.what = W_TREES_CMP;
				tt = measure(&w);
				printf("| %zu | %s | %.1f | %.0f | %zu | %.0f%% "
				    "|\n", alen, names[v], t * 1e6,
				    alen / t / 1e6, w.ndiffs, 100 * tp / tt);
			}
			if (v == V_SAME_ORDER) {
				w.what = W_STREAM;
				ts = measure(&w);
				w.what = W_TREES_CMP;
				tt = measure(&w);
				w.what = W_TREES;
				tp = measure(&w);
				w.what = W_JANSSON;
				tj = measure(&w);
				fprintf(stderr, "%zu bytes, equal same order: "
				    "token streams %.0f MB/s; two trees %.0f MB/s "
				    "(parse %.0f MB/s per tree pair, compare "
				    "%.1f us); jansson parse of both %.0f MB/s\n",
				    alen, alen / ts / 1e6, alen / tt / 1e6,
				    alen / tp / 1e6, (tt - tp) * 1e6,
				    alen / tj / 1e6);
			}
			diff_scratch_free(w.scratch);
			json_free(&w.doc[0]);
			json_free(&w.doc[1]);
			free(a);
			free(b);
		}
	}
	diff_rules_free(rules);
	diff_rules_free(with_rules);
	return (0);
}
