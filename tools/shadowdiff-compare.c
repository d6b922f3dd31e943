/*
 * shadowdiff-compare: compares two saved responses with the diff engine
 * and the rules of a configuration, as the daemon would, and prints the
 * differences as the divergence log's JSON (or as text with --text).
 * Exits 0 when they match, 1 when they differ, 2 on error, like diff(1):
 * it is how a rule is checked before it is deployed (docs/diff.md).
 *
 * A file is a raw HTTP response (status line, headers, blank line, body
 * framed by Content-Length or chunked, or the rest of the file) or, when
 * it does not start with "HTTP/" or with --body, a bare body.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "shadowdiff/config.h"
#include "shadowdiff/diff.h"
#include "shadowdiff/util.h"

#define COMPARE_MAX_HEAD	(1024 * 1024)	/* status line and headers */
#define COMPARE_MAX_HEADERS	1000
#define COMPARE_DEFAULT_CAP	(16 * 1024 * 1024)

/* One saved response, parsed; everything points into file or body. */
struct saved {
	const char		*path;
	char			*file;
	size_t			 len;
	int			 cut;		/* the file is longer */
	char			*body;		/* de-chunked copy, or NULL */
	struct diff_header	 headers[COMPARE_MAX_HEADERS];
	struct diff_response	 resp;
};

static const struct option longopts[] = {
	{ "body",		no_argument,		NULL,	'b' },
	{ "cap",		required_argument,	NULL,	'C' },
	{ "content-type",	required_argument,	NULL,	'T' },
	{ "help",		no_argument,		NULL,	'h' },
	{ "limit",		required_argument,	NULL,	'l' },
	{ "route",		required_argument,	NULL,	'R' },
	{ "rule",		required_argument,	NULL,	'r' },
	{ "text",		no_argument,		NULL,	't' },
	{ NULL,			0,			NULL,	0 }
};

/* Prints the usage to F. */
static void
usage(FILE *f)
{
	fprintf(f, "usage: shadowdiff-compare [-c file] [--route name] "
	    "[-r key=value] [--text]\n"
	    "\t[--content-type type] [--body] [--limit bytes] [--cap size] "
	    "primary shadow\n");
}

/* Reads at most MAX bytes of PATH into S. */
static int
saved_read(struct saved *s, const char *path, size_t max, char **cause)
{
	FILE	*f;
	size_t	 n, cap = 65536;

	s->path = path;
	if ((f = fopen(path, "rb")) == NULL) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		return (-1);
	}
	s->file = NULL;
	s->len = 0;
	/* Grows to just past MAX at most, to tell a longer file. */
	for (;;) {
		if (s->len == cap) {
			if (cap > max)
				break;
			cap *= 2;
		}
		s->file = xreallocarray(s->file, cap + 1, 1);
		if ((n = fread(s->file + s->len, 1, cap - s->len, f)) == 0)
			break;
		s->len += n;
	}
	if (ferror(f)) {
		*cause = xasprintf("%s: read error", path);
		fclose(f);
		return (-1);
	}
	if (s->len > max) {
		s->len = max;
		s->cut = 1;
	}
	/* Terminated, so strtoull(3) on a last line stops in the buffer. */
	s->file[s->len] = '\0';
	fclose(f);
	return (0);
}

/* The end of the line at P (its LF, or END), and where the next starts. */
static const char *
line_end(const char *p, const char *end, const char **next)
{
	const char	*lf;

	if ((lf = memchr(p, '\n', (size_t)(end - p))) == NULL) {
		*next = end;
		return (end);
	}
	*next = lf + 1;
	return (lf > p && lf[-1] == '\r' ? lf - 1 : lf);
}

/* The value of header NAME of S, or NULL. */
static const struct diff_header *
saved_header(const struct saved *s, const char *name)
{
	size_t	 i;

	for (i = 0; i < s->resp.nheaders; i++)
		if (strlen(name) == s->headers[i].name_len &&
		    strncasecmp(s->headers[i].name, name,
		    s->headers[i].name_len) == 0)
			return (&s->headers[i]);
	return (NULL);
}

/* Whether the last transfer coding of a Transfer-Encoding is chunked. */
static int
chunked(const struct diff_header *h)
{
	const char	*v = h->value, *end = h->value + h->value_len, *c;

	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	for (c = end; c > v && c[-1] != ',' && c[-1] != ' '; c--)
		;
	return (end - c == 7 && strncasecmp(c, "chunked", 7) == 0);
}

/* De-chunks the body at [P, END) into s->body, at most CAP + 1 bytes. */
static int
saved_dechunk(struct saved *s, const char *p, const char *end, size_t cap,
    char **cause)
{
	const char	*next, *eol;
	char		*num_end;
	size_t		 len = 0, size;

	s->body = xreallocarray(NULL, 1, 1);
	for (;;) {
		eol = line_end(p, end, &next);
		if (p == end) {
			s->resp.body_truncated = 1;	/* saved mid-body */
			break;
		}
		errno = 0;
		size = (size_t)strtoull(p, &num_end, 16);
		if (num_end == p || errno != 0 || (num_end < eol &&
		    *num_end != ';' && *num_end != ' ' && *num_end != '\t')) {
			*cause = xasprintf("%s: invalid chunk size line",
			    s->path);
			return (-1);
		}
		p = next;
		if (size == 0)
			break;		/* trailers, if any, are not compared */
		if (size > (size_t)(end - p)) {
			size = (size_t)(end - p);
			s->resp.body_truncated = 1;
		}
		if (size > cap + 1 - len) {
			size = cap + 1 - len;
			s->resp.body_truncated = 1;
		}
		s->body = xreallocarray(s->body, len + size + 1, 1);
		memcpy(s->body + len, p, size);
		len += size;
		p += size;
		if (s->resp.body_truncated)
			break;
		line_end(p, end, &next);
		p = next;
	}
	s->resp.body = (const unsigned char *)s->body;
	s->resp.body_len = len;
	return (0);
}

/* Parses status line and headers of S, then frames its body. */
static int
saved_parse_http(struct saved *s, size_t cap, char **cause)
{
	const char			*p = s->file, *end = s->file + s->len;
	const char			*eol, *next, *colon, *v, *sp;
	const struct diff_header	*h;
	struct diff_header		*hd;
	unsigned long long		 cl;
	char				*num_end;
	size_t				 vlen;

	/* HTTP/1.1 200 OK, or HTTP/2 200 as curl -i saves it. */
	eol = line_end(p, end, &next);
	if ((sp = memchr(p, ' ', (size_t)(eol - p))) == NULL || eol - sp < 4 ||
	    sp[1] < '1' || sp[1] > '5' || sp[2] < '0' || sp[2] > '9' ||
	    sp[3] < '0' || sp[3] > '9' || (eol - sp > 4 && sp[4] != ' ')) {
		*cause = xasprintf("%s: invalid status line", s->path);
		return (-1);
	}
	s->resp.status = (sp[1] - '0') * 100 + (sp[2] - '0') * 10 +
	    (sp[3] - '0');
	for (p = next;; p = next) {
		if (p == end || p - s->file > COMPARE_MAX_HEAD) {
			*cause = xasprintf("%s: no blank line ends the headers "
			    "within %d bytes", s->path, COMPARE_MAX_HEAD);
			return (-1);
		}
		eol = line_end(p, end, &next);
		if (eol == p)
			break;
		if ((colon = memchr(p, ':', (size_t)(eol - p))) == NULL ||
		    colon == p || *p == ' ' || *p == '\t') {
			*cause = xasprintf("%s: invalid header line: %.*s",
			    s->path, (int)(eol - p), p);
			return (-1);
		}
		if (s->resp.nheaders == COMPARE_MAX_HEADERS) {
			*cause = xasprintf("%s: more than %d headers", s->path,
			    COMPARE_MAX_HEADERS);
			return (-1);
		}
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		for (vlen = (size_t)(eol - v); vlen > 0 && (v[vlen - 1] ==
		    ' ' || v[vlen - 1] == '\t'); vlen--)
			;
		hd = &s->headers[s->resp.nheaders++];
		hd->name = p;
		hd->name_len = (size_t)(colon - p);
		hd->value = v;
		hd->value_len = vlen;
	}
	p = next;
	s->resp.body = (const unsigned char *)p;
	s->resp.body_len = (size_t)(end - p);
	s->resp.body_truncated = s->cut;
	if ((h = saved_header(s, "transfer-encoding")) != NULL) {
		if (chunked(h))
			return (saved_dechunk(s, p, end, cap, cause));
		return (0);		/* until the end, as on the wire */
	}
	if ((h = saved_header(s, "content-length")) != NULL) {
		errno = 0;
		cl = strtoull(h->value, &num_end, 10);
		if (h->value_len == 0 || !(h->value[0] >= '0' &&
		    h->value[0] <= '9') || errno != 0 ||
		    num_end != h->value + h->value_len) {
			*cause = xasprintf("%s: invalid Content-Length",
			    s->path);
			return (-1);
		}
		if (cl < s->resp.body_len)
			s->resp.body_len = (size_t)cl;	/* the rest is not it */
		else if (cl > s->resp.body_len)
			s->resp.body_truncated = 1;	/* saved short */
	}
	return (0);
}

/* Parses S: a raw response, or a bare body of media type CTYPE. */
static int
saved_parse(struct saved *s, int bare, const char *ctype, size_t cap,
    char **cause)
{
	s->resp.headers = s->headers;
	if (!bare && s->len >= 5 && memcmp(s->file, "HTTP/", 5) == 0)
		return (saved_parse_http(s, cap, cause));
	s->resp.status = 200;
	if (ctype != NULL) {
		s->headers[0].name = "Content-Type";
		s->headers[0].name_len = 12;
		s->headers[0].value = ctype;
		s->headers[0].value_len = strlen(ctype);
		s->resp.nheaders = 1;
	}
	s->resp.body = (const unsigned char *)s->file;
	s->resp.body_len = s->len;
	s->resp.body_truncated = s->cut;
	return (0);
}

/* Applies a -r KEY=VALUE to R. */
static int
apply_rule(struct diff_rules *r, char *arg, char **cause)
{
	char	*eq, *key, *value, *why = NULL;
	size_t	 n;
	int	 rc;

	if ((eq = strchr(arg, '=')) == NULL) {
		*cause = xasprintf("-r %s: expected key=value", arg);
		return (-1);
	}
	*eq = '\0';
	for (key = arg; *key == ' '; key++)
		;
	for (n = strlen(key); n > 0 && key[n - 1] == ' '; n--)
		key[n - 1] = '\0';
	for (value = eq + 1; *value == ' '; value++)
		;
	rc = diff_rules_set(r, key, value, &why);
	if (rc == 1)
		*cause = xasprintf("-r %s: not a diff rule", key);
	else if (rc == -1)
		*cause = xasprintf("-r %s = %s: expected %s", key, value, why);
	free(why);
	return (rc == 0 ? 0 : -1);
}

int
main(int argc, char **argv)
{
	struct config			*cfg = NULL;
	const struct config_route	*route;
	const struct diff_rules		*base = NULL;
	struct diff_rules		*rules = NULL;
	struct diff_result		*res = NULL;
	struct saved			*s[2] = { NULL, NULL };
	const char			*conf = NULL, *route_name = NULL;
	const char			*ctype = NULL;
	char				**rule_args = NULL, *cause = NULL, *out;
	char				*num_end;
	size_t				 nrules = 0, limit = 0, i;
	uint64_t			 cap = COMPARE_DEFAULT_CAP;
	int				 ch, bare = 0, text = 0, status = 2;

	while ((ch = getopt_long(argc, argv, "c:hr:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			bare = 1;
			break;
		case 'c':
			conf = optarg;
			break;
		case 'C':
			if (config_parse_size(optarg, &cap, &cause) == -1 ||
			    cap == 0 || cap > SIZE_MAX / 2) {
				fprintf(stderr, "shadowdiff-compare: --cap %s: "
				    "%s\n", optarg, cause != NULL ? cause :
				    "out of range");
				free(cause);
				return (2);
			}
			break;
		case 'h':
			usage(stdout);
			return (0);
		case 'l':
			errno = 0;
			limit = (size_t)strtoull(optarg, &num_end, 10);
			if (*optarg == '\0' || *num_end != '\0' || errno != 0) {
				fprintf(stderr, "shadowdiff-compare: --limit "
				    "%s: expected a number of bytes\n", optarg);
				return (2);
			}
			break;
		case 'r':
			rule_args = xreallocarray(rule_args, nrules + 1,
			    sizeof(*rule_args));
			rule_args[nrules++] = optarg;
			break;
		case 'R':
			route_name = optarg;
			break;
		case 't':
			text = 1;
			break;
		case 'T':
			ctype = optarg;
			break;
		default:
			usage(stderr);
			return (2);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2 || (route_name != NULL && conf == NULL)) {
		if (argc == 2)
			fprintf(stderr, "shadowdiff-compare: --route needs "
			    "-c\n");
		usage(stderr);
		free(rule_args);
		return (2);
	}

	if (conf != NULL) {
		if ((cfg = config_load(conf, &cause)) == NULL)
			goto out;
		base = cfg->diff_rules;
		if (route_name != NULL) {
			if ((route = config_route_find(cfg, route_name)) ==
			    NULL) {
				cause = xasprintf("%s: no [route %s]", conf,
				    route_name);
				goto out;
			}
			base = route->rules;
		}
	}
	rules = diff_rules_new(base);
	for (i = 0; i < nrules; i++)
		if (apply_rule(rules, rule_args[i], &cause) == -1)
			goto out;
	for (i = 0; i < 2; i++) {
		s[i] = xcalloc(1, sizeof(*s[i]));
		if (saved_read(s[i], argv[i], (size_t)cap + COMPARE_MAX_HEAD,
		    &cause) == -1 || saved_parse(s[i], bare, ctype, (size_t)cap,
		    &cause) == -1)
			goto out;
	}

	res = diff_compare(rules, &s[0]->resp, &s[1]->resp, (size_t)cap);
	if (text)
		out = diff_result_text(res, limit);
	else
		out = diff_result_json(res, limit);
	fputs(out, stdout);
	if (!text)
		putchar('\n');
	free(out);
	status = diff_result_differs(res) ? 1 : 0;
	if (fflush(stdout) == EOF || ferror(stdout)) {
		cause = xasprintf("stdout: %s", strerror(errno));
		status = 2;
	}

out:
	if (cause != NULL)
		fprintf(stderr, "shadowdiff-compare: %s\n", cause);
	free(cause);
	diff_result_free(res);
	for (i = 0; i < 2; i++) {
		if (s[i] == NULL)
			continue;
		free(s[i]->file);
		free(s[i]->body);
		free(s[i]);
	}
	diff_rules_free(rules);
	if (cfg != NULL)
		config_unref(cfg);
	free(rule_args);
	return (status);
}
