/*
 * shadowdiff-report: reads divergence logs (files, rotated .gz files, or
 * standard input), the logs of several instances merged into one view,
 * and prints per route and field pattern how often they differ, since
 * when, with examples and the rules the evidence suggests: a table for a
 * terminal, or one JSON object with --json (docs/triage.md).
 *
 * It streams: memory is bounded by the aggregation (src/triage.c) and
 * by the longest line accepted, never by the size of the logs. A line
 * that is not a valid record is counted and listed with its file and
 * line number, never fatal.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <jansson.h>
#include <zlib.h>

#include "shadowdiff/diff.h"
#include "shadowdiff/triage.h"
#include "shadowdiff/util.h"

#define REPORT_CHUNK	(1024 * 1024)		/* read at a time */
#define REPORT_MAX_LINE	(16 * 1024 * 1024)	/* longer: malformed */
#define REPORT_WIDTH	100			/* of the table */
#define REPORT_FIELDS	10			/* per route, in the table */

/* What to count, from the command line. */
struct filter {
	int64_t		 since;		/* INT64_MIN: none */
	int64_t		 until;		/* INT64_MAX: none */
	char		**routes;
	size_t		 nroutes;
	int		 types;		/* bits of enum triage_type; 0: all */
};

/* A growable read buffer, kept across files. */
struct reader {
	char		*buf;
	size_t		 cap;
};

static const struct option longopts[] = {
	{ "fields",		required_argument,	NULL,	'F' },
	{ "help",		no_argument,		NULL,	'h' },
	{ "json",		no_argument,		NULL,	'j' },
	{ "match-sample",	required_argument,	NULL,	'm' },
	{ "route",		required_argument,	NULL,	'r' },
	{ "since",		required_argument,	NULL,	's' },
	{ "strict",		no_argument,		NULL,	'S' },
	{ "type",		required_argument,	NULL,	't' },
	{ "until",		required_argument,	NULL,	'u' },
	{ NULL,			0,			NULL,	0 }
};

/* Prints the usage to F. */
static void
usage(FILE *f)
{
	fprintf(f, "usage: shadowdiff-report [--json] [--strict] "
	    "[--since time] [--until time]\n"
	    "\t[--route name] [--type type] [--match-sample percent] "
	    "[--fields n] [file ...]\n");
}

/* Whether the record R passes filter F. */
static int
filter_pass(const struct filter *f, const struct triage_record *r)
{
	size_t	 i;

	if (r->time_us < f->since || r->time_us > f->until)
		return (0);
	if (f->types != 0 && (f->types & (1 << r->type)) == 0)
		return (0);
	if (f->nroutes == 0)
		return (1);
	for (i = 0; i < f->nroutes; i++)
		if (strlen(f->routes[i]) == r->route.len &&
		    memcmp(f->routes[i], r->route.p, r->route.len) == 0)
			return (1);
	return (0);
}

/*
 * Parses a time of --since or --until: RFC 3339, or a duration before
 * now ("90s", "15m", "1h", "2d", "1w").
 */
static int
parse_when(const char *s, int64_t *us)
{
	struct timeval	 tv;
	char		*end;
	double		 n;
	int64_t		 unit;

	if (diff_time_parse(s, strlen(s), us) == 0)
		return (0);
	errno = 0;
	n = strtod(s, &end);
	if (end == s || errno != 0 || n < 0 || end[0] == '\0' ||
	    end[1] != '\0')
		return (-1);
	switch (*end) {
	case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	case 'w': unit = 7 * 86400; break;
	default: return (-1);
	}
	if (n * (double)unit > 1e11)
		return (-1);
	gettimeofday(&tv, NULL);
	*us = ((int64_t)tv.tv_sec * 1000000 + tv.tv_usec) -
	    (int64_t)(n * (double)unit * 1e6);
	return (0);
}

/* Adds the types of a --type list ("mismatch,shadow_error") to *TYPES. */
static int
parse_types(const char *arg, int *types)
{
	static const char *const names[TRIAGE_TYPES] = {
		[TRIAGE_MISMATCH] = "mismatch",
		[TRIAGE_SHADOW_ERROR] = "shadow_error",
		[TRIAGE_MATCH] = "match"
	};
	const char	*p = arg, *comma;
	size_t		 len;
	int		 i;

	for (;;) {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		for (i = 0; i < TRIAGE_TYPES; i++)
			if (strlen(names[i]) == len &&
			    strncmp(names[i], p, len) == 0)
				break;
		if (i == TRIAGE_TYPES)
			return (-1);
		*types |= 1 << i;
		if (comma == NULL)
			return (0);
		p = comma + 1;
	}
}

/* Parses --match-sample: "5%" or "0.05"; the share from 0 to 1. */
static int
parse_share(const char *s, double *share)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno != 0)
		return (-1);
	if (*end == '%') {
		v /= 100;
		end++;
	}
	if (*end != '\0' || !(v > 0) || v > 1)
		return (-1);
	*share = v;
	return (0);
}

/* Counts the line LINE (LEN bytes) of file NAME, number N. */
static void
one_line(struct triage *t, struct triage_parser *pp, const struct filter *f,
    const char *name, uint64_t n, const char *line, size_t len, int last,
    uint64_t *records, uint64_t *bad)
{
	struct triage_record	 rec;
	const char		*why;
	char			*msg;

	if (triage_parse(pp, line, len, &rec, &why) == -1) {
		(*bad)++;
		if (last) {
			msg = xasprintf("truncated last line (no newline): %s",
			    why);
			triage_malformed(t, name, n, msg);
			free(msg);
		} else
			triage_malformed(t, name, n, why);
		return;
	}
	(*records)++;
	if (filter_pass(f, &rec))
		triage_add(t, &rec);
	else
		triage_filtered(t);
}

/*
 * Reads the log NAME ("-": standard input; gzip or plain, told apart by
 * zlib) line by line into T. Returns 0, or -1 with *CAUSE on a read
 * error (what was read before it is counted).
 */
static int
read_log(struct triage *t, struct triage_parser *pp, struct reader *rd,
    const struct filter *f, const char *name, char **cause)
{
	gzFile		 gz;
	const char	*shown = strcmp(name, "-") == 0 ? "(stdin)" : name;
	const char	*msg;
	char		*lf, *p;
	size_t		 len = 0, done;
	uint64_t	 n = 0, records = 0, bad = 0;
	int		 got, errnum, skipping = 0, rc = 0, fd;

	if (strcmp(name, "-") == 0) {
		if ((fd = dup(STDIN_FILENO)) == -1 ||
		    (gz = gzdopen(fd, "rb")) == NULL) {
			*cause = xasprintf("%s: %s", shown, strerror(errno));
			return (-1);
		}
	} else if ((gz = gzopen(name, "rb")) == NULL) {
		*cause = xasprintf("%s: %s", name, errno != 0 ?
		    strerror(errno) : "cannot open");
		return (-1);
	}
	gzbuffer(gz, 256 * 1024);
	for (;;) {
		if (rd->cap - len < REPORT_CHUNK / 4) {
			/* Room for a line of REPORT_MAX_LINE, and a chunk. */
			if (rd->cap == REPORT_MAX_LINE + REPORT_CHUNK) {
				/* A line past the bound: counted, skipped. */
				if (!skipping) {
					triage_malformed(t, shown, n + 1,
					    "line longer than 16 MiB");
					bad++;
				}
				skipping = 1;
				len = 0;
			} else {
				rd->cap = rd->cap ? rd->cap * 2 : REPORT_CHUNK;
				if (rd->cap > REPORT_MAX_LINE + REPORT_CHUNK)
					rd->cap = REPORT_MAX_LINE + REPORT_CHUNK;
				rd->buf = xreallocarray(rd->buf, rd->cap, 1);
			}
		}
		got = gzread(gz, rd->buf + len, (unsigned)(rd->cap - len));
		if (got <= 0)
			break;
		p = rd->buf;
		done = 0;
		len += (size_t)got;
		while ((lf = memchr(p, '\n', len - done)) != NULL) {
			n++;
			if (skipping)
				skipping = 0;
			else
				one_line(t, pp, f, shown, n, p,
				    (size_t)(lf - p), 0, &records, &bad);
			done += (size_t)(lf - p) + 1;
			p = lf + 1;
		}
		memmove(rd->buf, p, len - done);
		len -= done;
	}
	if (got < 0 || (msg = gzerror(gz, &errnum), errnum != Z_OK &&
	    errnum != Z_BUF_ERROR)) {
		msg = gzerror(gz, &errnum);
		*cause = xasprintf("%s: %s", shown, errnum == Z_ERRNO ?
		    strerror(errno) : msg);
		rc = -1;
	} else if (errnum == Z_BUF_ERROR) {
		/* A gzip stream cut short (a rotation copied mid-write):
		 * one malformed line, whether or not a part of it came. */
		triage_malformed(t, shown, ++n, "truncated gzip stream");
		bad++;
		len = 0;
	}
	if (len > 0 && !skipping && rc == 0)
		one_line(t, pp, f, shown, ++n, rd->buf, len, 1, &records, &bad);
	gzclose(gz);
	triage_file(t, shown, n, records, bad);
	return (rc);
}

static int	 color;

/* Starts the SGR attribute CODE when colour is on. */
static const char *
sgr(const char *code)
{
	return (color ? code : "");
}

/* N with thousands separators, into BUF. */
static const char *
num(json_int_t n, char *buf, size_t len)
{
	char	 tmp[32];
	size_t	 i, j = 0, digits;

	snprintf(tmp, sizeof(tmp), "%lld", (long long)n);
	digits = strlen(tmp);
	for (i = 0; i < digits && j + 2 < len; i++) {
		buf[j++] = tmp[i];
		if (tmp[i] != '-' && (digits - i - 1) % 3 == 0 &&
		    i + 1 < digits)
			buf[j++] = ',';
	}
	buf[j] = '\0';
	return (buf);
}

/* Member NAME of O as an integer. */
static json_int_t
geti(const json_t *o, const char *name)
{
	return (json_integer_value(json_object_get(o, name)));
}

/* A share as a percentage into BUF, or "-" for null. */
static const char *
pct(const json_t *v, char *buf, size_t len)
{
	if (!json_is_number(v))
		return ("-");
	snprintf(buf, len, "%.1f%%", json_number_value(v) * 100);
	return (buf);
}

/* Prints at most MAX bytes of S, "..." when cut. */
static void
put_cut(const char *s, size_t max)
{
	size_t	 len = strlen(s);

	if (len <= max) {
		fputs(s, stdout);
		return;
	}
	while (max > 3 && ((unsigned char)s[max - 3] & 0xc0) == 0x80)
		max--;
	printf("%.*s...", (int)(max - 3), s);
}

/* The name of a field as shown: "body /x", "header etag", "status". */
static char *
field_label(const json_t *f)
{
	const char	*kind = json_string_value(json_object_get(f, "kind"));
	const char	*name = json_string_value(json_object_get(f, "field"));

	if (json_is_true(json_object_get(f, "overflow")))
		return (xstrdup("(other fields)"));
	if (strcmp(kind, "status") == 0)
		return (xstrdup("status"));
	if (strcmp(kind, "body") == 0 && *name == '\0')
		return (xstrdup("body \"\" (whole body)"));
	return (xasprintf("%s %s", kind, name));
}

/* A value of an example as compact JSON text (to free). */
static char *
value_text(const json_t *ex, const char *side)
{
	const json_t	*v = json_object_get(ex, side);

	if (v == NULL)
		return (xstrdup("(absent)"));
	return (json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT |
	    JSON_REAL_PRECISION(15)));
}

/* Prints the fields of route R, at most NFIELDS. */
static void
print_fields(const json_t *r, size_t nfields)
{
	const json_t	*fields = json_object_get(r, "fields"), *f, *w, *ex;
	char		 b1[32], b2[32], b3[32], *label, *pv, *sv;
	size_t		 i, j, n = json_array_size(fields);

	if (n == 0)
		return;
	printf("  %s%-46s %10s %7s %10s  %s%s\n", sgr("\033[1m"), "FIELD",
	    "RECORDS", "SHARE", "DIFFS", "LAST SEEN", sgr("\033[0m"));
	json_array_foreach(fields, i, f) {
		if (i == nfields) {
			printf("  ... and %zu more fields (--json lists all)\n",
			    n - nfields);
			break;
		}
		label = field_label(f);
		printf("  ");
		put_cut(label, 46);
		printf("%*s %10s %7s %10s  %.19s\n", (int)(strlen(label) < 46 ?
		    46 - strlen(label) : 0), "", num(geti(f, "records"), b1,
		    sizeof(b1)), pct(json_object_get(f, "share"), b2,
		    sizeof(b2)), num(geti(f, "differences"), b3, sizeof(b3)),
		    json_string_value(json_object_get(f, "last_seen")));
		free(label);
		w = json_object_get(f, "together");
		if (json_array_size(w) > 0) {
			printf("    %swith:", sgr("\033[2m"));
			json_array_foreach(w, j, ex) {
				label = field_label(ex);
				printf("%s ", j > 0 ? "," : "");
				put_cut(label, 24);
				printf(" (%s)", num(geti(ex, "records"), b1,
				    sizeof(b1)));
				free(label);
			}
			printf("%s\n", sgr("\033[0m"));
		}
		if ((ex = json_array_get(json_object_get(f, "examples"), 0)) ==
		    NULL)
			continue;
		printf("    %se.g. ", sgr("\033[2m"));
		put_cut(json_string_value(json_object_get(ex, "id")), 32);
		printf(" ");
		put_cut(json_string_value(json_object_get(ex, "uri")), 58);
		pv = value_text(ex, "primary");
		sv = value_text(ex, "shadow");
		printf("\n         primary ");
		put_cut(pv, 36);
		printf("  shadow ");
		put_cut(sv, 36);
		printf("%s\n", sgr("\033[0m"));
		free(pv);
		free(sv);
	}
}

/* Prints the suggested rules of route R. */
static void
print_suggestions(const json_t *r)
{
	const json_t	*a = json_object_get(r, "suggestions"), *s;
	char		 b1[32], b2[32], b3[32], prefix[128];
	size_t		 i;
	int		 n;

	if (json_array_size(a) == 0)
		return;
	printf("  suggested rules for [route %s] (check before pasting):\n",
	    json_string_value(json_object_get(r, "route")));
	json_array_foreach(a, i, s) {
		printf("    %s", sgr("\033[33m"));
		put_cut(json_string_value(json_object_get(s, "line")), 94);
		n = snprintf(prefix, sizeof(prefix), "      # %s of %s (%s): ",
		    num(geti(s, "records"), b1, sizeof(b1)),
		    num(geti(s, "of"), b2, sizeof(b2)),
		    pct(json_object_get(s, "share"), b3, sizeof(b3)));
		printf("%s\n%s", sgr("\033[0m"), prefix);
		put_cut(json_string_value(json_object_get(s, "why")),
		    n > 0 && n < REPORT_WIDTH - 10 ? REPORT_WIDTH - 1 -
		    (size_t)n : 10);
		printf("\n");
	}
}

/* Prints report O as a table for a terminal, 100 columns wide. */
static void
print_table(const json_t *o, size_t nfields)
{
	const json_t	*a, *r, *v, *e;
	const char	*k;
	char		 b[6][32];
	size_t		 i, nfiles = json_array_size(json_object_get(o,
			    "files"));
	int		 first;

	printf("%sshadowdiff-report%s: %s records from %zu file%s",
	    sgr("\033[1m"), sgr("\033[0m"), num(geti(o, "records"), b[0],
	    sizeof(b[0])), nfiles, nfiles == 1 ? "" : "s");
	if (geti(o, "filtered") > 0)
		printf(", %s left out by filters", num(geti(o, "filtered"),
		    b[0], sizeof(b[0])));
	printf("\n");
	if (json_is_string(json_object_get(o, "first_seen")))
		printf("from %s to %s\n", json_string_value(json_object_get(o,
		    "first_seen")), json_string_value(json_object_get(o,
		    "last_seen")));
	a = json_object_get(o, "instances");
	if (json_array_size(a) > 0) {
		printf("instances:");
		json_array_foreach(a, i, v)
			printf("%s %s", i > 0 ? "," : "", json_string_value(v));
		if (geti(o, "instances_omitted") > 0)
			printf(" (and records of more: %s)", num(geti(o,
			    "instances_omitted"), b[0], sizeof(b[0])));
		printf("\n");
	}
	if (geti(o, "malformed") > 0) {
		printf("%smalformed lines: %s%s\n", sgr("\033[31m"),
		    num(geti(o, "malformed"), b[0], sizeof(b[0])),
		    sgr("\033[0m"));
		json_array_foreach(json_object_get(o, "malformed_lines"), i,
		    v)
			printf("  %s:%lld: %s\n", json_string_value(
			    json_object_get(v, "file")),
			    (long long)geti(v, "line"), json_string_value(
			    json_object_get(v, "reason")));
		if ((size_t)geti(o, "malformed") > i)
			printf("  ... and %lld more\n", (long long)(geti(o,
			    "malformed") - (json_int_t)i));
	}
	if (json_is_null(json_object_get(o, "match_sample")))
		printf("mismatch rates: unknown (match records are a sample: "
		    "give --match-sample)\n");
	printf("\n%s%-30s %11s %11s %11s %11s %9s %11s%s\n", sgr("\033[1m"),
	    "ROUTE", "RECORDS", "MISMATCH", "SHADOW ERR", "MATCH", "MISMATCH%",
	    "FIELDS", sgr("\033[0m"));
	a = json_object_get(o, "routes");
	json_array_foreach(a, i, r) {
		put_cut(json_string_value(json_object_get(r, "route")), 30);
		printf("%*s %11s %11s %11s %11s %9s %11zu\n", (int)(strlen(
		    json_string_value(json_object_get(r, "route"))) < 30 ?
		    30 - strlen(json_string_value(json_object_get(r,
		    "route"))) : 0), "", num(geti(r, "records"), b[0], 32),
		    num(geti(r, "mismatch"), b[1], 32), num(geti(r,
		    "shadow_error"), b[2], 32), num(geti(r, "match"), b[3], 32),
		    pct(json_object_get(r, "mismatch_rate"), b[4], 32),
		    json_array_size(json_object_get(r, "fields")));
	}
	json_array_foreach(a, i, r) {
		printf("\n%s== %s%s: %s mismatch, %s shadow_error, %s match",
		    sgr("\033[1m"), json_string_value(json_object_get(r,
		    "route")), sgr("\033[0m"), num(geti(r, "mismatch"), b[0],
		    32), num(geti(r, "shadow_error"), b[1], 32),
		    num(geti(r, "match"), b[2], 32));
		printf("\n   seen %.19s to %.19s\n", json_string_value(
		    json_object_get(r, "first_seen")), json_string_value(
		    json_object_get(r, "last_seen")));
		first = 1;
		json_object_foreach((json_t *)json_object_get(r,
		    "shadow_errors"), k, e) {
			printf("%s%s %s", first ? "  shadow errors: " : ", ", k,
			    num(json_integer_value(e), b[0], 32));
			first = 0;
		}
		if (!first)
			printf("\n");
		print_fields(r, nfields);
		print_suggestions(r);
	}
}

int
main(int argc, char **argv)
{
	struct filter		 f = { INT64_MIN, INT64_MAX, NULL, 0, 0 };
	struct reader		 rd = { NULL, 0 };
	struct triage		*t;
	struct triage_parser	*pp;
	json_t			*o;
	const char		*env;
	char			*cause = NULL, *end;
	double			 sample = -1;
	size_t			 nfields = REPORT_FIELDS;
	int			 ch, json = 0, strict = 0, status = 0, i;
	unsigned long		 u;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'F':
			errno = 0;
			u = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || errno != 0 ||
			    u == 0 || u > 100000) {
				fprintf(stderr, "shadowdiff-report: --fields "
				    "%s: expected a number from 1\n", optarg);
				return (2);
			}
			nfields = u;
			break;
		case 'h':
			usage(stdout);
			return (0);
		case 'j':
			json = 1;
			break;
		case 'm':
			if (parse_share(optarg, &sample) == -1) {
				fprintf(stderr, "shadowdiff-report: "
				    "--match-sample %s: expected a percentage "
				    "above 0, such as 5%%\n", optarg);
				return (2);
			}
			break;
		case 'r':
			f.routes = xreallocarray(f.routes, f.nroutes + 1,
			    sizeof(*f.routes));
			f.routes[f.nroutes++] = optarg;
			break;
		case 's':
		case 'u':
			if (parse_when(optarg, ch == 's' ? &f.since :
			    &f.until) == -1) {
				fprintf(stderr, "shadowdiff-report: --%s %s: "
				    "expected an RFC 3339 time or a duration "
				    "such as 1h\n", ch == 's' ? "since" :
				    "until", optarg);
				free(f.routes);
				return (2);
			}
			break;
		case 'S':
			strict = 1;
			break;
		case 't':
			if (parse_types(optarg, &f.types) == -1) {
				fprintf(stderr, "shadowdiff-report: --type %s: "
				    "expected mismatch, shadow_error or "
				    "match\n", optarg);
				free(f.routes);
				return (2);
			}
			break;
		default:
			usage(stderr);
			free(f.routes);
			return (2);
		}
	}
	argc -= optind;
	argv += optind;
	env = getenv("NO_COLOR");
	color = !json && isatty(STDOUT_FILENO) && (env == NULL || *env == '\0');

	t = triage_new();
	pp = triage_parser_new();
	for (i = 0; i < (argc > 0 ? argc : 1); i++) {
		if (read_log(t, pp, &rd, &f, argc > 0 ? argv[i] : "-",
		    &cause) == -1) {
			fprintf(stderr, "shadowdiff-report: %s\n", cause);
			free(cause);
			cause = NULL;
			status = 2;
		}
	}
	o = triage_json(t, sample);
	if (json) {
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
		putchar('\n');
	} else
		print_table(o, nfields);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "shadowdiff-report: stdout: %s\n",
		    strerror(errno));
		status = 2;
	}
	if (status == 0 && strict && triage_malformed_count(t) > 0)
		status = 1;
	json_decref(o);
	triage_parser_free(pp);
	triage_free(t);
	free(rd.buf);
	free(f.routes);
	return (status);
}
