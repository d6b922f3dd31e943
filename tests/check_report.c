/*
 * Unit tests of the figure table (report.c, included to reach its static
 * table) and of the counter families of stats.h: every figure named
 * once, every family member shown once, the owners' enums in line with
 * the counters, and the exit summary's lines as they always read. The
 * figures' values after real traffic are checked by check_metrics.c.
 */
#include "../src/report.c"

#include <check.h>

#include "shadowdiff/mirror.h"
#include "shadowdiff/tls.h"
#include "testutil.h"

/* How many values of the table read the uint64_t at OFF. */
static size_t
figures_reading(size_t off)
{
	size_t	 i, j, n = 0;

	for (i = 0; i < nitems(report_figures); i++)
		for (j = 0; j < report_figures[i].nvalues; j++)
			if (report_figures[i].values[j].off == off)
				n++;
	return (n);
}

/* The enums of the families' owners follow the families. */
START_TEST(families_line_up)
{
	int	 seen[STAT_MAX] = { 0 };
	int	 f, v, last;

	ck_assert_int_eq(STATS_COUNT(STATS_TLS_FAILURES), TLS_FAIL_MAX);
	for (f = 0; f < TLS_FAIL_MAX; f++) {
		ck_assert_int_eq(tls_failure_counter(f),
		    STAT_TLS_FAIL_TIMEOUT + f);
		ck_assert_int_eq(seen[tls_failure_counter(f)]++, 0);
	}
	last = MIRROR_NO_SHADOW + STATS_COUNT(STATS_NOT_MIRRORED);
	ck_assert_int_eq(last, MIRROR_LOOP);
	for (v = MIRROR_NO_SHADOW + 1; v <= last; v++) {
		ck_assert_int_ge(mirror_verdict_counter(v),
		    STAT_NOT_MIRRORED_SAMPLED);
		ck_assert_int_le(mirror_verdict_counter(v),
		    STAT_NOT_MIRRORED_LOOP);
		ck_assert_int_eq(seen[mirror_verdict_counter(v)]++, 0);
	}
	ck_assert_int_eq(mirror_verdict_counter(MIRROR_BODY_TOO_LARGE),
	    STAT_NOT_MIRRORED_BODY);
	ck_assert_int_eq(mirror_verdict_counter(MIRROR_SHADOW_DOWN),
	    STAT_NOT_MIRRORED_DOWN);
}
END_TEST

/* Every member of every family is one value of one figure. */
START_TEST(families_shown)
{
#define SHOWN(name)	ck_assert_msg(figures_reading(R_C(name)) == 1,	\
	"%s shown %zu times", #name, figures_reading(R_C(name)));
#define SHOWN_ERR(code, label, what)	SHOWN(STAT_ERR_##code)
#define SHOWN_NM(name, verdict, label, what) SHOWN(STAT_NOT_MIRRORED_##name)
#define SHOWN_MD(name, label, what)	SHOWN(STAT_MIRROR_##name)
#define SHOWN_TLS(name, label, what)	SHOWN(STAT_TLS_FAIL_##name)
#define SHOWN_SE(name, label, what)	SHOWN(STAT_SHADOW_##name)
	STATS_CLIENT_ERRORS(SHOWN_ERR)
	STATS_NOT_MIRRORED(SHOWN_NM)
	STATS_MIRRORS_DROPPED(SHOWN_MD)
	STATS_TLS_FAILURES(SHOWN_TLS)
	STATS_SHADOW_ERRORS(SHOWN_SE)
}
END_TEST

/* Whether the value V of figure F is known by the same key as W of G. */
static int
same_key(const struct report_figure *f, const struct report_value *v,
    const struct report_figure *g, const struct report_value *w)
{
	const char	*a = v->key != NULL ? v->key : v->label;
	const char	*b = w->key != NULL ? w->key : w->label;

	return (strcmp(f->json, g->json) == 0 && strcmp(a, b) == 0);
}

/*
 * Every figure is whole: a metric has a type, a help and one value with
 * no label or labelled values, each label value once; a /stats key is
 * never used twice in one object; a summary line has words for each
 * value; no metric is written twice.
 */
START_TEST(figures_whole)
{
	const struct report_figure	*f, *g;
	const struct report_value	*v;
	size_t				 i, j, k, l;

	for (i = 0; i < nitems(report_figures); i++) {
		f = &report_figures[i];
		if (f->prom != NULL || f->json_fn != NULL) {
			ck_assert_uint_eq(f->nvalues, 0);
			continue;
		}
		ck_assert_uint_gt(f->nvalues, 0);
		ck_assert(f->metric != NULL || f->json != NULL ||
		    f->line != REPORT_LINE_NONE);
		for (j = 0; j < f->nvalues; j++) {
			v = &f->values[j];
			ck_assert_uint_le(v->off + sizeof(uint64_t),
			    sizeof(struct report));
			ck_assert_uint_eq(v->off % sizeof(uint64_t), 0);
			if (f->line != REPORT_LINE_NONE)
				ck_assert_ptr_nonnull(v->what);
			if (f->metric != NULL)
				ck_assert_msg((f->label != NULL) ==
				    (v->label != NULL), "%s", f->metric);
			if (f->json != NULL)
				ck_assert(v->key != NULL || v->label != NULL);
			for (k = 0; k < j && v->label != NULL; k++)
				ck_assert_str_ne(v->label, f->values[k].label);
		}
		if (f->metric != NULL) {
			ck_assert_ptr_nonnull(f->type);
			ck_assert_ptr_nonnull(f->help);
			ck_assert(f->label != NULL || f->nvalues == 1);
			ck_assert_uint_eq(strncmp(f->metric, "shadowdiff_", 11),
			    0);
		}
		for (k = 0; k < i; k++) {
			g = &report_figures[k];
			if (f->metric != NULL && g->metric != NULL)
				ck_assert_str_ne(f->metric, g->metric);
			if (f->json == NULL || g->json == NULL)
				continue;
			for (j = 0; j < f->nvalues; j++)
				for (l = 0; l < g->nvalues; l++)
					ck_assert(!same_key(f, &f->values[j],
					    g, &g->values[l]));
		}
	}
}
END_TEST

/* The exit summary reads as it did when main.c wrote it by hand. */
START_TEST(summary_lines)
{
	struct report	*r = xcalloc(1, sizeof(*r));
	char		 line[1024];

	r->c[STAT_MIRRORED] = 10;
	r->c[STAT_NOT_MIRRORED_METHOD] = 2;
	r->c[STAT_NOT_MIRRORED_UPGRADE] = 1;
	r->c[STAT_MIRROR_ABANDONED] = 3;
	r->c[STAT_MIRROR_OVERLOADED] = 4;
	r->c[STAT_MIRROR_RELOADED] = 5;
	r->c[STAT_MIRROR_SHUTDOWN] = 7;
	r->c[STAT_SHADOW_OK] = 8;
	r->c[STAT_SHADOW_BAD_RESPONSE] = 1;
	r->c[STAT_SHADOW_TLS] = 1;
	r->dc.compared = 8;
	r->dc.mismatches = 2;
	r->dc.shadow_errors = 1;
	r->dc.matches = 5;
	r->dc.dropped = 6;
	report_summary_line(r, REPORT_LINE_MIRRORS, line, sizeof(line));
	ck_assert_str_eq(line, "mirrored 10 requests; not mirrored: 0 sampled "
	    "out, 2 method, 0 body over max_body, 0 at max_inflight, 0 "
	    "shadow down, 1 upgrade, 0 marked (loop); 3 abandoned (client "
	    "gone or primary failed), 4 dropped (too busy to read the shadow "
	    "in time), 5 "
	    "dropped (a reload changed the shadow before the request was "
	    "read whole), 7 dropped (still in flight when drain_timeout ran "
	    "out)");
	report_summary_line(r, REPORT_LINE_SHADOW, line, sizeof(line));
	ck_assert_str_eq(line, "shadow: 8 answered; errors: 0 timeout, 0 "
	    "refused, 0 reset, 1 bad response, 0 too large, 1 tls");
	report_summary_line(r, REPORT_LINE_COMPARED, line, sizeof(line));
	ck_assert_str_eq(line, "compared 8 exchanges: 2 mismatches, 1 shadow "
	    "errors, 5 matches; 6 dropped (diff queue full)");
	report_free(r);
}
END_TEST

/* JSON paths: nested objects made once, in order. */
START_TEST(json_paths)
{
	json_t	*o = json_object(), *a, *b;

	a = json_at(o, "tls.failures");
	b = json_at(o, "tls");
	ck_assert_ptr_eq(json_object_get(b, "failures"), a);
	ck_assert_ptr_eq(json_at(o, "tls.failures"), a);
	ck_assert_uint_eq(json_object_size(o), 1);
	json_decref(o);
}
END_TEST

static Suite *
report_suite(void)
{
	const TTest	*tests[] = { families_line_up, families_shown,
	    figures_whole, summary_lines, json_paths, NULL };

	return (tu_suite("report", tcase_create("figures"), tests));
}

int
main(void)
{
	return (tu_run(report_suite()));
}
