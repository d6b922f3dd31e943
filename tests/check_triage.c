/*
 * Tests of the triage aggregation (src/triage.c, src/triage-parse.c)
 * and of shadowdiff-report, the built program run on logs the tests
 * write: plain, gzip-compressed and on standard input.
 */
#include "config.h"

#include <sys/wait.h>

#include <check.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "shadowdiff/diff.h"
#include "shadowdiff/triage.h"
#include "shadowdiff/util.h"
#include "testutil.h"

#define OUT_MAX		(256 * 1024)

static char	 out[OUT_MAX];

/* The aggregation tests' report and line parser, new for each test. */
static struct triage		*t;
static struct triage_parser	*pp;

/* Makes the aggregation tests' report and parser. */
static void
setup(void)
{
	t = triage_new();
	pp = triage_parser_new();
}

/* Frees them. */
static void
teardown(void)
{
	triage_parser_free(pp);
	triage_free(t);
}

/* A record line of TYPE at second SEC, with ID, ROUTE and DIFFS. */
static char *
line(const char *type, int sec, const char *id, const char *route,
    const char *diffs)
{
	static char	 buf[8192];

	snprintf(buf, sizeof(buf), "{\"type\":\"%s\","
	    "\"time\":\"2026-11-24T14:25:%02d.000001Z\",\"id\":\"%s\","
	    "\"config\":1,\"route\":\"%s\",\"method\":\"GET\","
	    "\"uri\":\"/api/%s/%s\",\"primary\":{\"status\":200,\"ms\":1.5,"
	    "\"bytes\":10},\"shadow\":%s,\"diffs\":[%s],\"forgiven\":{},"
	    "\"notes\":[]}", type, sec, id, route, route, id,
	    strcmp(type, "shadow_error") == 0 ?
	    "{\"error\":\"timeout\",\"ms\":5000}" :
	    "{\"status\":200,\"ms\":1.2,\"bytes\":11}", diffs);
	return (buf);
}

/* Parses LINE and adds it to T; fails the test if it does not parse. */
static void
add(const char *l)
{
	struct triage_record	 rec;
	const char		*why = NULL;

	ck_assert_msg(triage_parse(pp, l, strlen(l), &rec, &why) == 0,
	    "%s: %s", l, why);
	triage_add(t, &rec);
}

/* The report of T as JSON. */
static json_t *
report(double sample)
{
	return (triage_json(t, sample));
}

/* The element of O's array LIST whose member KEY is the string NAME. */
static json_t *
element_named(json_t *o, const char *list, const char *key, const char *name)
{
	json_t	*e;
	size_t	 i;

	json_array_foreach(json_object_get(o, list), i, e)
		if (strcmp(json_string_value(json_object_get(e, key)),
		    name) == 0)
			return (e);
	ck_abort_msg("no %s %s", key, name);
	return (NULL);
}

/* Route NAME of report O. */
static json_t *
route_of(json_t *o, const char *name)
{
	return (element_named(o, "routes", "route", name));
}

/* Field FIELD of route R. */
static json_t *
field_of(json_t *r, const char *field)
{
	return (element_named(r, "fields", "field", field));
}

START_TEST(test_pattern)
{
	static const struct {
		const char	*path, *want;
	} cases[] = {
		{ "/items/3/id", "/items/*/id" },
		{ "/items/0", "/items/*" },
		{ "/0/12/x", "/*/*/x" },
		{ "", "" },
		{ "/", "/" },
		{ "/a/01/b", "/a/01/b" },		/* not an index */
		{ "/a/-1", "/a/-1" },
		{ "/a/12345678901", "/a/12345678901" },	/* too long */
		{ "/a~1b/7/c~0d", "/a~1b/*/c~0d" },
		{ "/x//2", "/x//*" },
	};
	char	 buf[TRIAGE_KEY_MAX];
	size_t	 i, n;

	for (i = 0; i < nitems(cases); i++) {
		n = triage_pattern(cases[i].path, strlen(cases[i].path), buf,
		    sizeof(buf));
		ck_assert_msg(n == strlen(cases[i].want) &&
		    memcmp(buf, cases[i].want, n) == 0, "%s: %.*s",
		    cases[i].path, (int)n, buf);
	}
	/* Cut to the buffer, never past it. */
	n = triage_pattern("/abcdef/1/ghij", 14, buf, 8);
	ck_assert_uint_le(n, 7);
	ck_assert_int_eq(memcmp(buf, "/abcdef", n), 0);
}
END_TEST

START_TEST(test_time)
{
	int64_t	 us;
	char	 buf[40];

	ck_assert_int_eq(diff_time_parse("2026-11-24T14:25:00.123456Z", 27,
	    &us), 0);
	triage_time_format(us, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2026-11-24T14:25:00.123456Z");
	ck_assert_int_eq(diff_time_parse("2026-11-24T16:25:00+02:00", 25,
	    &us), 0);
	triage_time_format(us, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2026-11-24T14:25:00.000000Z");
	ck_assert_int_eq(diff_time_parse("1970-01-01T00:00:01.5Z", 22, &us),
	    0);
	ck_assert_int_eq(us, 1500000);
	ck_assert_int_eq(diff_time_parse("2026-11-24 14:25:00", 19, &us), -1);
	ck_assert_int_eq(diff_time_parse("2026-13-24T14:25:00Z", 20, &us),
	    -1);
	ck_assert_int_eq(diff_time_parse("2026-11-24T14:25:00.Z", 21, &us),
	    -1);
	ck_assert_int_eq(diff_time_parse("2026-02-29T00:00:00Z", 20, &us), -1);
	ck_assert_int_eq(diff_time_parse("1970-01-01T00:00:00.1234567Z", 28,
	    &us), 0);
	ck_assert_int_eq(us, 123456);
}
END_TEST

START_TEST(test_parse)
{
	struct triage_record	 rec;
	const char		*why = NULL;
	const char		*l = "{\"type\":\"mismatch\","
	    "\"time\":\"2026-11-24T14:25:00.000001Z\",\"id\":\"a\\u00e9\","
	    "\"config\":1,\"route\":\"r\\/1\",\"method\":\"GET\","
	    "\"uri\":\"/x?q=1\",\"instance\":\"host-a\","
	    "\"noise\":{\"/request_id\":\"secondary\"},\"future\":[1,{\"a\":"
	    "[true,false,null,-1.5e3]}],"
	    "\"primary\":{\"status\":200,\"ms\":1,\"bytes\":2},"
	    "\"shadow\":{\"status\":500,\"ms\":1,\"bytes\":2},"
	    "\"diffs\":[{\"kind\":\"status\",\"path\":\"\",\"op\":\"changed\","
	    "\"primary\":200,\"shadow\":500},{\"kind\":\"body\","
	    "\"path\":\"/a/0\",\"op\":\"removed\",\"primary\":{\"x\":[1]},"
	    "\"extra\":1}],\"diffs_omitted\":3,"
	    "\"forgiven\":{\"ignore /x\":2},\"notes\":[]}";

	ck_assert_msg(triage_parse(pp, l, strlen(l), &rec, &why) == 0, "%s",
	    why);
	ck_assert_int_eq(rec.type, TRIAGE_MISMATCH);
	ck_assert_int_eq(rec.time_us % 1000000, 1);
	ck_assert_uint_eq(rec.id.len, 3);
	ck_assert_int_eq(memcmp(rec.id.p, "a\xc3\xa9", 3), 0);
	ck_assert_uint_eq(rec.route.len, 3);
	ck_assert_int_eq(memcmp(rec.route.p, "r/1", 3), 0);
	ck_assert_uint_eq(rec.instance.len, 6);
	ck_assert_uint_eq(rec.ndiffs, 2);
	ck_assert_uint_eq(rec.diffs_omitted, 3);
	ck_assert_int_eq(rec.diffs[0].kind, TRIAGE_STATUS);
	ck_assert_uint_eq(rec.diffs[0].primary.len, 3);
	ck_assert_int_eq(rec.diffs[1].op, TRIAGE_REMOVED);
	ck_assert_uint_eq(rec.diffs[1].primary.len, 9);
	ck_assert_int_eq(memcmp(rec.diffs[1].primary.p, "{\"x\":[1]}", 9), 0);
	ck_assert_ptr_null(rec.diffs[1].shadow.p);
	/* White space around, and a CR before the LF. */
	l = line("match", 1, "m", "r", "");
	{
		char	 buf[8300];

		snprintf(buf, sizeof(buf), "  %s \r", l);
		ck_assert_int_eq(triage_parse(pp, buf, strlen(buf), &rec,
		    &why), 0);
	}
}
END_TEST

START_TEST(test_parse_malformed)
{
	static const struct {
		const char	*line, *why;
	} cases[] = {
		{ "", "empty line" },
		{ "not json", "not a JSON object" },
		{ "[1]", "not a JSON object" },
		{ "{\"type\":\"mismatch\",\"time\":\"2026-11-24T14:25:00Z\","
		    "\"id\":\"a\",\"con", "truncated" },
		{ "{\"type\":\"mismatch\",", "truncated" },
		{ "{\"type\":\"mismatch\"}", "a required field is missing" },
		{ "{\"type\":\"mismatch\"} x", "data after the JSON object" },
		{ "{\"type\":\"other\"}", "unknown record type" },
		{ "{\"type\":1}", "a field is not a string" },
		{ "{\"time\":\"yesterday\"}", "time is not RFC 3339" },
		{ "{\"a\":\"\xff\"}", "invalid UTF-8" },
		{ "{\"a\":\"\\q\"}", "invalid escape" },
		{ "{\"a\":01}", "not JSON" },
		{ "{\"a\":tru}", "not JSON" },
		{ "{\"diffs\":[{\"kind\":\"body\",\"path\":\"\"}]}",
		    "a difference lacks kind, path or op" },
		{ "{\"diffs\":[{\"kind\":\"bodies\"}]}",
		    "unknown kind of difference" },
		{ "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
		    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
		    "[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
		    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
		    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
		    "nested too deep" },
	};
	struct triage_record	 rec;
	const char		*why;
	char			 buf[8192];
	size_t			 i;

	for (i = 0; i < nitems(cases); i++) {
		why = NULL;
		ck_assert_msg(triage_parse(pp, cases[i].line,
		    strlen(cases[i].line), &rec, &why) == -1, "%s",
		    cases[i].line);
		ck_assert_msg(why != NULL && strcmp(why, cases[i].why) == 0,
		    "%s: %s", cases[i].line, why);
	}
	/* Every required field: a record without it is malformed. */
	for (i = 0; i < 12; i++) {
		static const char *const req[] = { "type", "time", "id",
		    "config", "route", "method", "uri", "primary", "shadow",
		    "diffs", "forgiven", "notes" };
		char	 key[32], *p;

		snprintf(buf, sizeof(buf), "%s", line("mismatch", 1, "a", "r",
		    ""));
		snprintf(key, sizeof(key), "\"%s\":", req[i]);
		ck_assert_ptr_nonnull(p = strstr(buf, key));
		p[1] = 'X';			/* another name */
		ck_assert_msg(triage_parse(pp, buf, strlen(buf), &rec, &why) ==
		    -1, "without %s", req[i]);
	}
	/* A shadow error must say which. */
	snprintf(buf, sizeof(buf), "%s", line("shadow_error", 1, "a", "r",
	    ""));
	memcpy(strstr(buf, "\"error\""), "\"errox\"", 7);
	ck_assert_int_eq(triage_parse(pp, buf, strlen(buf), &rec, &why), -1);
}
END_TEST

#define UUID_DIFF(a, b) "{\"kind\":\"body\",\"path\":\"/request_id\"," \
	"\"op\":\"changed\",\"primary\":\"" a "\",\"shadow\":\"" b "\"}"
#define U1	"0b4eecb0-5586-c4e5-aff7-ca1de1188883"
#define U2	"63b47cda-ff57-d5c6-324e-b2a9624ab101"

START_TEST(test_examples)
{
	json_t	*o, *f, *ex;
	char	 id[16], d[512];
	int	 i;

	for (i = 0; i < 8; i++) {
		snprintf(id, sizeof(id), "r%d", i);
		/* Two differences at one pattern: one record, two diffs. */
		snprintf(d, sizeof(d), "{\"kind\":\"body\",\"path\":"
		    "\"/items/%d/n\",\"op\":\"changed\",\"primary\":%d,"
		    "\"shadow\":%d.5},{\"kind\":\"body\",\"path\":"
		    "\"/items/9/n\",\"op\":\"changed\",\"primary\":1,"
		    "\"shadow\":2}", i, i, i);
		add(line("mismatch", i, id, "users", d));
	}
	o = report(-1);
	f = field_of(route_of(o, "users"), "/items/*/n");
	ck_assert_int_eq(json_integer_value(json_object_get(f, "records")), 8);
	ck_assert_int_eq(json_integer_value(json_object_get(f,
	    "differences")), 16);
	ex = json_object_get(f, "examples");
	ck_assert_uint_eq(json_array_size(ex), TRIAGE_EXAMPLES);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ex,
	    4), "id")), "r4");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ex,
	    4), "uri")), "/api/users/r4");
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(ex,
	    4), "primary")), 4);
	ck_assert(json_real_value(json_object_get(json_array_get(ex, 4),
	    "shadow")) == 4.5);
	ck_assert_str_eq(json_string_value(json_object_get(f, "first_seen")),
	    "2026-11-24T14:25:00.000001Z");
	ck_assert_str_eq(json_string_value(json_object_get(f, "last_seen")),
	    "2026-11-24T14:25:07.000001Z");
	/* Every mismatch has it: share 1. */
	ck_assert(json_real_value(json_object_get(f, "share")) == 1.0);
	ck_assert(json_is_null(json_object_get(f, "rate")));
	json_decref(o);
}
END_TEST

START_TEST(test_overflow)
{
	json_t	*o, *fields, *last, *r;
	char	 d[256], route[32];
	int	 i;

	for (i = 0; i < TRIAGE_MAX_FIELDS + 10; i++) {
		snprintf(d, sizeof(d), "{\"kind\":\"body\",\"path\":\"/f%d\","
		    "\"op\":\"added\",\"shadow\":1}", i);
		add(line("mismatch", 1, "x", "users", d));
	}
	for (i = 0; i < TRIAGE_MAX_ROUTES + 3; i++) {
		snprintf(route, sizeof(route), "route%d", i);
		add(line("match", 1, "x", route, ""));
	}
	o = report(-1);
	fields = json_object_get(route_of(o, "users"), "fields");
	ck_assert_uint_eq(json_array_size(fields), TRIAGE_MAX_FIELDS + 1);
	last = json_array_get(fields, TRIAGE_MAX_FIELDS);
	ck_assert(json_is_true(json_object_get(last, "overflow")));
	ck_assert_str_eq(json_string_value(json_object_get(last, "field")),
	    "(other fields)");
	ck_assert_int_eq(json_integer_value(json_object_get(last, "records")),
	    10);
	/* users took one of the places. */
	ck_assert_uint_eq(json_array_size(json_object_get(o, "routes")),
	    TRIAGE_MAX_ROUTES + 1);
	r = route_of(o, "(other routes)");
	ck_assert(json_is_true(json_object_get(r, "overflow")));
	ck_assert_int_eq(json_integer_value(json_object_get(r, "match")), 4);
	json_decref(o);
}
END_TEST

/* A body difference at PATH, numbers. */
static const char *
bdiff(const char *path)
{
	static char	 buf[256];

	snprintf(buf, sizeof(buf), "{\"kind\":\"body\",\"path\":\"%s\","
	    "\"op\":\"changed\",\"primary\":1,\"shadow\":2}", path);
	return (buf);
}

START_TEST(test_together)
{
	json_t	*o, *w;
	char	 d[4096];
	int	 i;

	for (i = 0; i < 3; i++) {
		snprintf(d, sizeof(d), "%s,", bdiff("/a"));
		strcat(d, bdiff(i < 2 ? "/b" : "/c"));
		add(line("mismatch", i, "x", "r", d));
	}
	/* More partners than are counted: the counts stay bounded. */
	d[0] = '\0';
	for (i = 0; i < 2 * TRIAGE_PARTNERS; i++) {
		char	 p[16];

		snprintf(p, sizeof(p), "/z%d", i);
		strcat(d, bdiff(p));
		strcat(d, ",");
	}
	strcat(d, bdiff("/q"));
	add(line("mismatch", 5, "x", "r", d));
	o = report(-1);
	w = json_object_get(field_of(route_of(o, "r"), "/a"), "together");
	ck_assert_uint_eq(json_array_size(w), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(w,
	    0), "field")), "/b");
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(w,
	    0), "records")), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(w,
	    1), "field")), "/c");
	w = json_object_get(field_of(route_of(o, "r"), "/q"), "together");
	ck_assert_uint_eq(json_array_size(w), TRIAGE_TOGETHER);
	json_decref(o);
}
END_TEST

/* Adds N records to route R with noise: a uuid, an etag, a reorder. */
static void
add_noise(const char *r, int n, int first_other)
{
	char	 d[2048];
	int	 i;

	for (i = 0; i < n; i++) {
		snprintf(d, sizeof(d), "%s,{\"kind\":\"header\",\"path\":"
		    "\"etag\",\"op\":\"changed\",\"primary\":\"\\\"a%d\\\"\","
		    "\"shadow\":\"\\\"b\\\"\"},"
		    "{\"kind\":\"body\",\"path\":\"/list/0/id\",\"op\":"
		    "\"changed\",\"primary\":1,\"shadow\":%d},"
		    "{\"kind\":\"body\",\"path\":\"/list/1/id\",\"op\":"
		    "\"changed\",\"primary\":%d,\"shadow\":1}",
		    i == 0 && first_other ? "{\"kind\":\"body\",\"path\":"
		    "\"/request_id\",\"op\":\"changed\",\"primary\":\"x\","
		    "\"shadow\":\"y\"}" : UUID_DIFF(U1, U2), i, i + 2, i + 2);
		add(line("mismatch", i % 60, "x", r, d));
	}
}

START_TEST(test_suggest)
{
	json_t	*o, *s, *f;

	add_noise("noisy", TRIAGE_SUGGEST_MIN, 0);
	add_noise("few", TRIAGE_SUGGEST_MIN - 1, 0);
	add_noise("mixed", TRIAGE_SUGGEST_MIN + 5, 1);
	o = report(-1);
	s = json_object_get(route_of(o, "noisy"), "suggestions");
	ck_assert_uint_eq(json_array_size(s), 3);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(s,
	    0), "line")), "ignore_like = /request_id uuid");
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(s,
	    0), "records")), TRIAGE_SUGGEST_MIN);
	ck_assert(json_real_value(json_object_get(json_array_get(s, 0),
	    "share")) == 1.0);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(s,
	    1), "line")), "ignore_headers = etag");
	/* Two fields of one reordered array: one line. */
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(s,
	    2), "line")), "unordered = /list");
	f = field_of(route_of(o, "noisy"), "/list/*/id");
	ck_assert_int_eq(json_integer_value(json_object_get(f, "reordered")),
	    TRIAGE_SUGGEST_MIN);
	ck_assert_str_eq(json_string_value(json_object_get(field_of(
	    route_of(o, "noisy"), "/request_id"), "shape")), "uuid");
	/* Below the minimum: nothing. */
	ck_assert_uint_eq(json_array_size(json_object_get(route_of(o, "few"),
	    "suggestions")), 0);
	/* One value not a uuid: no ignore_like, the rest stands. */
	s = json_object_get(route_of(o, "mixed"), "suggestions");
	ck_assert_uint_eq(json_array_size(s), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(s,
	    0), "line")), "ignore_headers = etag");
	json_decref(o);
}
END_TEST

START_TEST(test_rates)
{
	json_t	*o, *r, *f;
	int	 i;

	for (i = 0; i < 10; i++)
		add(line("mismatch", i, "x", "r", bdiff("/a")));
	for (i = 0; i < 5; i++)
		add(line("match", i, "x", "r", ""));
	for (i = 0; i < 2; i++)
		add(line("shadow_error", i, "x", "r", ""));
	/* Matches logged at 10%: 50 equal exchanges, 60 compared. */
	o = report(0.1);
	r = route_of(o, "r");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "compared")),
	    60);
	ck_assert(json_real_value(json_object_get(r, "mismatch_rate")) ==
	    0.166667);
	ck_assert(json_real_value(json_object_get(r, "shadow_error_rate")) ==
	    0.032258);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(r,
	    "shadow_errors"), "timeout")), 2);
	f = field_of(r, "/a");
	ck_assert(json_real_value(json_object_get(f, "rate")) == 0.166667);
	json_decref(o);
	/* Unknown sample: no rate, only shares of mismatches. */
	o = report(-1);
	r = route_of(o, "r");
	ck_assert(json_is_null(json_object_get(r, "mismatch_rate")));
	ck_assert(json_is_null(json_object_get(r, "compared")));
	json_decref(o);
}
END_TEST

START_TEST(test_malformed_list)
{
	json_t	*o, *m;
	int	 i;

	for (i = 1; i <= TRIAGE_MAX_MALFORMED + 2; i++)
		triage_malformed(t, "a.log", (uint64_t)i * 10, "not JSON");
	ck_assert_uint_eq(triage_malformed_count(t), TRIAGE_MAX_MALFORMED + 2);
	o = report(-1);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "malformed")),
	    TRIAGE_MAX_MALFORMED + 2);
	m = json_object_get(o, "malformed_lines");
	ck_assert_uint_eq(json_array_size(m), TRIAGE_MAX_MALFORMED);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(m,
	    9), "file")), "a.log");
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(m,
	    9), "line")), 100);
	json_decref(o);
}
END_TEST

/* Runs shadowdiff-report with the arguments, stdin from IN (or none). */
static int
run(const char *in, const char *arg, ...)
{
	va_list	 ap;
	int	 status;

	va_start(ap, arg);
	status = tu_run_va(tu_build_path("shadowdiff-report"), in, out, NULL,
	    OUT_MAX, arg, ap);
	va_end(ap);
	return (status);
}

/* Writes the test log NAME (and NAME.gz): records and bad lines. */
static void
write_log(const char *name)
{
	FILE	*f;
	gzFile	 gz;
	char	 path[256], all[16384];

	snprintf(all, sizeof(all), "%s\n", line("mismatch", 1, "m1", "users",
	    UUID_DIFF(U1, U2) ",{\"kind\":\"header\",\"path\":\"etag\","
	    "\"op\":\"changed\",\"primary\":\"a\",\"shadow\":\"b\"}"));
	snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s\n",
	    line("mismatch", 2, "m2", "users", "{\"kind\":\"body\",\"path\":"
	    "\"/items/3/price\",\"op\":\"changed\",\"primary\":10.05,"
	    "\"shadow\":10.5}"));
	snprintf(all + strlen(all), sizeof(all) - strlen(all), "not json\n");
	snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s\n",
	    line("shadow_error", 3, "e1", "orders", ""));
	snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s\n",
	    line("match", 4, "k1", "orders", ""));
	/* A last line cut mid-record. */
	snprintf(all + strlen(all), sizeof(all) - strlen(all), "%.40s",
	    line("match", 5, "k2", "orders", ""));
	ck_assert_ptr_nonnull(f = fopen(name, "w"));
	ck_assert_uint_eq(fwrite(all, 1, strlen(all), f), strlen(all));
	ck_assert_int_eq(fclose(f), 0);
	snprintf(path, sizeof(path), "%s.gz", name);
	ck_assert_ptr_nonnull(gz = gzopen(path, "wb"));
	ck_assert_int_eq(gzwrite(gz, all, (unsigned)strlen(all)),
	    (int)strlen(all));
	ck_assert_int_eq(gzclose(gz), Z_OK);
}

/*
 * What --json prints for the test log read as FILE (twice: files and
 * malformed_lines name it).
 */
static const char expected_fmt[] =
	"{\n"
	"  \"version\": 1,\n"
	"  \"files\": [\n"
	"    {\n"
	"      \"file\": \"%s\",\n"
	"      \"lines\": 6,\n"
	"      \"records\": 4,\n"
	"      \"malformed\": 2\n"
	"    }\n"
	"  ],\n"
	"  \"records\": 4,\n"
	"  \"filtered\": 0,\n"
	"  \"malformed\": 2,\n"
	"  \"malformed_lines\": [\n"
	"    {\n"
	"      \"file\": \"%s\",\n"
	"      \"line\": 3,\n"
	"      \"reason\": \"not a JSON object\"\n"
	"    },\n"
	"    {\n"
	"      \"file\": \"%s\",\n"
	"      \"line\": 6,\n"
	"      \"reason\": \"truncated last line (no newline): truncated\"\n"
	"    }\n"
	"  ],\n"
	"  \"first_seen\": \"2026-11-24T14:25:01.000001Z\",\n"
	"  \"last_seen\": \"2026-11-24T14:25:04.000001Z\",\n"
	"  \"match_sample\": null,\n"
	"  \"instances\": [],\n"
	"  \"instances_omitted\": 0,\n"
	"  \"routes\": [\n"
	"    {\n"
	"      \"route\": \"users\",\n"
	"      \"records\": 2,\n"
	"      \"mismatch\": 2,\n"
	"      \"shadow_error\": 0,\n"
	"      \"match\": 0,\n"
	"      \"compared\": null,\n"
	"      \"mismatch_rate\": null,\n"
	"      \"shadow_error_rate\": null,\n"
	"      \"first_seen\": \"2026-11-24T14:25:01.000001Z\",\n"
	"      \"last_seen\": \"2026-11-24T14:25:02.000001Z\",\n"
	"      \"shadow_errors\": {},\n"
	"      \"diffs_omitted\": 0,\n"
	"      \"fields\": [\n"
	"        {\n"
	"          \"kind\": \"header\",\n"
	"          \"field\": \"etag\",\n"
	"          \"differences\": 1,\n"
	"          \"records\": 1,\n"
	"          \"share\": 0.5,\n"
	"          \"rate\": null,\n"
	"          \"ops\": {\n"
	"            \"changed\": 1\n"
	"          },\n"
	"          \"same_shape\": 1,\n"
	"          \"shape\": \"string\",\n"
	"          \"reordered\": 0,\n"
	"          \"first_seen\": \"2026-11-24T14:25:01.000001Z\",\n"
	"          \"last_seen\": \"2026-11-24T14:25:01.000001Z\",\n"
	"          \"together\": [\n"
	"            {\n"
	"              \"kind\": \"body\",\n"
	"              \"field\": \"/request_id\",\n"
	"              \"records\": 1\n"
	"            }\n"
	"          ],\n"
	"          \"examples\": [\n"
	"            {\n"
	"              \"id\": \"m1\",\n"
	"              \"uri\": \"/api/users/m1\",\n"
	"              \"time\": \"2026-11-24T14:25:01.000001Z\",\n"
	"              \"primary\": \"a\",\n"
	"              \"shadow\": \"b\"\n"
	"            }\n"
	"          ]\n"
	"        },\n"
	"        {\n"
	"          \"kind\": \"body\",\n"
	"          \"field\": \"/items/*/price\",\n"
	"          \"differences\": 1,\n"
	"          \"records\": 1,\n"
	"          \"share\": 0.5,\n"
	"          \"rate\": null,\n"
	"          \"ops\": {\n"
	"            \"changed\": 1\n"
	"          },\n"
	"          \"same_shape\": 0,\n"
	"          \"shape\": null,\n"
	"          \"reordered\": 0,\n"
	"          \"first_seen\": \"2026-11-24T14:25:02.000001Z\",\n"
	"          \"last_seen\": \"2026-11-24T14:25:02.000001Z\",\n"
	"          \"together\": [],\n"
	"          \"examples\": [\n"
	"            {\n"
	"              \"id\": \"m2\",\n"
	"              \"uri\": \"/api/users/m2\",\n"
	"              \"time\": \"2026-11-24T14:25:02.000001Z\",\n"
	"              \"primary\": 10.05,\n"
	"              \"shadow\": 10.5\n"
	"            }\n"
	"          ]\n"
	"        },\n"
	"        {\n"
	"          \"kind\": \"body\",\n"
	"          \"field\": \"/request_id\",\n"
	"          \"differences\": 1,\n"
	"          \"records\": 1,\n"
	"          \"share\": 0.5,\n"
	"          \"rate\": null,\n"
	"          \"ops\": {\n"
	"            \"changed\": 1\n"
	"          },\n"
	"          \"same_shape\": 1,\n"
	"          \"shape\": \"uuid\",\n"
	"          \"reordered\": 0,\n"
	"          \"first_seen\": \"2026-11-24T14:25:01.000001Z\",\n"
	"          \"last_seen\": \"2026-11-24T14:25:01.000001Z\",\n"
	"          \"together\": [\n"
	"            {\n"
	"              \"kind\": \"header\",\n"
	"              \"field\": \"etag\",\n"
	"              \"records\": 1\n"
	"            }\n"
	"          ],\n"
	"          \"examples\": [\n"
	"            {\n"
	"              \"id\": \"m1\",\n"
	"              \"uri\": \"/api/users/m1\",\n"
	"              \"time\": \"2026-11-24T14:25:01.000001Z\",\n"
	"              \"primary\": \"0b4eecb0-5586-c4e5-aff7-ca1de1188883\",\n"
	"              \"shadow\": \"63b47cda-ff57-d5c6-324e-b2a9624ab101\"\n"
	"            }\n"
	"          ]\n"
	"        }\n"
	"      ],\n"
	"      \"suggestions\": []\n"
	"    },\n"
	"    {\n"
	"      \"route\": \"orders\",\n"
	"      \"records\": 2,\n"
	"      \"mismatch\": 0,\n"
	"      \"shadow_error\": 1,\n"
	"      \"match\": 1,\n"
	"      \"compared\": null,\n"
	"      \"mismatch_rate\": null,\n"
	"      \"shadow_error_rate\": null,\n"
	"      \"first_seen\": \"2026-11-24T14:25:03.000001Z\",\n"
	"      \"last_seen\": \"2026-11-24T14:25:04.000001Z\",\n"
	"      \"shadow_errors\": {\n"
	"        \"timeout\": 1\n"
	"      },\n"
	"      \"diffs_omitted\": 0,\n"
	"      \"fields\": [],\n"
	"      \"suggestions\": []\n"
	"    }\n"
	"  ]\n"
	"}\n"
	"";

/* Replaces the file name in the expected report. */
static char *
expected(const char *file)
{
	static char	 buf[OUT_MAX];

	snprintf(buf, sizeof(buf), expected_fmt, file, file, file);
	return (buf);
}

START_TEST(test_tool_json)
{
	ck_assert_ptr_nonnull(tu_tmpdir());
	ck_assert_int_eq(chdir(tu_tmpdir()), 0);
	write_log("a.log");
	ck_assert_int_eq(run(NULL, "--json", "a.log", NULL), 0);
	ck_assert_str_eq(out, expected("a.log"));
	ck_assert_int_eq(run(NULL, "--json", "a.log.gz", NULL), 0);
	ck_assert_str_eq(out, expected("a.log.gz"));
	ck_assert_int_eq(run("a.log", "--json", "-", NULL), 0);
	ck_assert_str_eq(out, expected("(stdin)"));
	ck_assert_int_eq(run("a.log", "--json", NULL), 0);
	ck_assert_str_eq(out, expected("(stdin)"));
	/* --strict: a malformed line fails the run, as CI wants. */
	ck_assert_int_eq(run(NULL, "--strict", "--json", "a.log", NULL), 1);
	ck_assert_str_eq(out, expected("a.log"));
}
END_TEST

START_TEST(test_tool_table)
{
	ck_assert_int_eq(chdir(tu_tmpdir()), 0);
	write_log("a.log");
	ck_assert_int_eq(run(NULL, "a.log", NULL), 0);
	ck_assert_msg(strstr(out, "shadowdiff-report: 4 records from 1 file\n"
	    "from 2026-11-24T14:25:01.000001Z to 2026-11-24T14:25:04.000001Z\n"
	    "malformed lines: 2\n"
	    "  a.log:3: not a JSON object\n"
	    "  a.log:6: truncated last line (no newline): truncated\n") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "\nusers                                    2"
	    "           2           0           0         -           3\n")
	    != NULL, "%s", out);
	ck_assert_msg(strstr(out, "  body /items/*/price                         "
	    "            1   50.0%          1  2026-11-24T14:25:02\n")
	    != NULL, "%s", out);
	ck_assert_msg(strstr(out, "         primary 10.05  shadow 10.5\n") !=
	    NULL, "%s", out);
	ck_assert_msg(strstr(out, "  shadow errors: timeout 1\n") != NULL,
	    "%s", out);
	/* No colour when stdout is not a terminal. */
	ck_assert_ptr_null(strchr(out, '\033'));
	{
		char	*p = out;
		int	 w = 0;

		for (; *p != '\0'; p++, w++) {
			if (*p == '\n')
				w = -1;
			ck_assert_msg(w < 100, "wider than 100: %s", out);
		}
	}
}
END_TEST

START_TEST(test_tool_filters)
{
	json_t	*o;

	ck_assert_int_eq(chdir(tu_tmpdir()), 0);
	write_log("a.log");
	ck_assert_int_eq(run(NULL, "--json", "--route", "orders", "--type",
	    "match,shadow_error", "--since", "2026-11-24T14:25:03Z", "a.log",
	    NULL), 0);
	ck_assert_ptr_nonnull(o = json_loads(out, 0, NULL));
	ck_assert_int_eq(json_integer_value(json_object_get(o, "records")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "filtered")), 2);
	json_decref(o);
	ck_assert_int_eq(run(NULL, "--json", "--until",
	    "2026-11-24T14:25:01.5Z", "a.log", NULL), 0);
	ck_assert_ptr_nonnull(o = json_loads(out, 0, NULL));
	ck_assert_int_eq(json_integer_value(json_object_get(o, "records")), 1);
	json_decref(o);
	/* Relative: nothing in the test log is from the last hour. */
	ck_assert_int_eq(run(NULL, "--json", "--since", "1h", "a.log", NULL),
	    0);
	ck_assert_ptr_nonnull(o = json_loads(out, 0, NULL));
	ck_assert_int_eq(json_integer_value(json_object_get(o, "records")), 0);
	json_decref(o);
	ck_assert_int_eq(run(NULL, "--since", "soon", "a.log", NULL), 2);
	ck_assert_int_eq(run(NULL, "--type", "mismatches", "a.log", NULL), 2);
	ck_assert_int_eq(run(NULL, "--match-sample", "0", "a.log", NULL), 2);
	ck_assert_int_eq(run(NULL, "--bogus", NULL), 2);
	/* A file that cannot be read: status 2, the others still counted. */
	ck_assert_int_eq(run(NULL, "--json", "a.log", "missing.log", NULL), 2);
	ck_assert_ptr_nonnull(o = json_loads(out, 0, NULL));
	ck_assert_int_eq(json_integer_value(json_object_get(o, "records")), 4);
	json_decref(o);
}
END_TEST

START_TEST(test_tool_instances)
{
	FILE	*f;
	json_t	*o, *r;
	char	 l[8192];
	int	 i;

	ck_assert_int_eq(chdir(tu_tmpdir()), 0);
	for (i = 0; i < 2; i++) {
		ck_assert_ptr_nonnull(f = fopen(i ? "b.log" : "a.log", "w"));
		snprintf(l, sizeof(l), "%s", line("mismatch", i, "x", "users",
		    bdiff("/a")));
		/* A later schema: an instance member, ignored but shown. */
		fprintf(f, "{\"instance\":\"%s\",%s\n", i ? "host-b" :
		    "host-a", l + 1);
		ck_assert_int_eq(fclose(f), 0);
	}
	ck_assert_int_eq(run(NULL, "--json", "b.log", "a.log", NULL), 0);
	ck_assert_ptr_nonnull(o = json_loads(out, 0, NULL));
	/* One view: both instances' records in one route and field. */
	r = json_array_get(json_object_get(o, "routes"), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "mismatch")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(
	    json_object_get(r, "fields"), 0), "records")), 2);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(o,
	    "instances"), 0)), "host-a");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(o,
	    "instances"), 1)), "host-b");
	json_decref(o);
	ck_assert_int_eq(run(NULL, "a.log", "b.log", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "\ninstances: host-a, host-b\n"));
}
END_TEST

START_TEST(test_tool_bad_input)
{
	FILE	*f;
	gzFile	 gz;
	json_t	*o, *m;
	char	*big, *gzdata;
	size_t	 i, len;
	long	 gzlen;

	ck_assert_int_eq(chdir(tu_tmpdir()), 0);
	/* A line past the 16 MiB bound between two good ones. */
	ck_assert_ptr_nonnull(f = fopen("big.log", "w"));
	fprintf(f, "%s\n", line("match", 1, "a", "r", ""));
	len = 17 * 1024 * 1024;
	big = malloc(len);
	ck_assert_ptr_nonnull(big);
	memset(big, ' ', len);
	ck_assert_uint_eq(fwrite(big, 1, len, f), len);
	fprintf(f, "\n%s\n", line("match", 2, "b", "r", ""));
	ck_assert_int_eq(fclose(f), 0);
	free(big);
	ck_assert_int_eq(run(NULL, "--json", "big.log", NULL), 0);
	ck_assert_ptr_nonnull(o = json_loads(out, 0, NULL));
	ck_assert_int_eq(json_integer_value(json_object_get(o, "records")), 2);
	m = json_array_get(json_object_get(o, "malformed_lines"), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(m, "line")), 2);
	ck_assert_str_eq(json_string_value(json_object_get(m, "reason")),
	    "line longer than 16 MiB");
	json_decref(o);

	/* A gzip file cut short, as a copy taken mid-rotation. */
	write_log("a.log");
	ck_assert_ptr_nonnull(gz = gzopen("w.gz", "wb"));
	for (i = 0; i < 200; i++)
		gzprintf(gz, "%s\n", line("match", 1, "a", "r", ""));
	ck_assert_int_eq(gzclose(gz), Z_OK);
	ck_assert_ptr_nonnull(f = fopen("w.gz", "rb"));
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	gzlen = ftell(f);
	rewind(f);
	gzdata = malloc((size_t)gzlen);
	ck_assert_ptr_nonnull(gzdata);
	ck_assert_uint_eq(fread(gzdata, 1, (size_t)gzlen, f), (size_t)gzlen);
	fclose(f);
	ck_assert_ptr_nonnull(f = fopen("cut.gz", "wb"));
	ck_assert_uint_eq(fwrite(gzdata, 1, (size_t)gzlen - 20, f),
	    (size_t)gzlen - 20);
	ck_assert_int_eq(fclose(f), 0);
	free(gzdata);
	ck_assert_int_eq(run(NULL, "--json", "cut.gz", NULL), 0);
	ck_assert_ptr_nonnull(o = json_loads(out, 0, NULL));
	ck_assert_int_ge(json_integer_value(json_object_get(o, "records")),
	    150);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "malformed")),
	    1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    json_object_get(o, "malformed_lines"), 0), "reason")),
	    "truncated gzip stream");
	json_decref(o);
	/* A directory cannot be read: status 2, never a crash. */
	ck_assert_int_eq(run(NULL, "--json", ".", NULL), 2);
}
END_TEST

int
main(void)
{
	const TTest	*aggregation[] = { test_pattern, test_time, test_parse,
	    test_parse_malformed, test_examples, test_overflow, test_together,
	    test_suggest, test_rates, test_malformed_list, NULL };
	const TTest	*tool[] = { test_tool_json, test_tool_table,
	    test_tool_filters, test_tool_instances, test_tool_bad_input, NULL };
	Suite		*s;

	s = tu_suite("triage", tu_tcase("aggregation", 0, setup, teardown),
	    aggregation);
	suite_add_tcase(s, tu_tcase_tests(tcase_create("shadowdiff-report"),
	    tool));
	return (tu_run(s));
}
