/*
 * The configuration file: INI, read with inih, into one immutable,
 * reference-counted struct config.
 *
 * Every key of the fixed sections is declared once, in config_options[]
 * (config-table.c), with its type, default and bounds; the defaults are
 * written as text and go through the same parser as the file, so the
 * table, the parser and docs/configuration.md cannot disagree. The keys
 * of [diff] and [route NAME] belong to the diff engine (diff_rules_set).
 * This file reads, applies and validates; it never declares a key (the
 * table does) nor matches a request to a route (route.c does).
 *
 * Reading happens in two passes. inih hands us key/value pairs; our own
 * line reader counts lines (inih's handler does not get them), checks
 * the lines inih would silently skip, and marks indented continuation
 * lines. The pairs are collected with their line numbers, and applied
 * only once the whole file is read, so that [route] sections inherit the
 * global [diff] rules wherever [diff] appears. Nothing is ever half
 * applied: a file either yields a complete config or none.
 */
#include "config.h"

#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>

#include "shadowdiff/config.h"
#include "shadowdiff/diff.h"
#include "shadowdiff/log.h"
#include "shadowdiff/stats.h"
#include "shadowdiff/tls.h"
#include "shadowdiff/util.h"

#include "config-internal.h"

#define CONFIG_MAX_ERRORS	20	/* reported at once; then stop */
#define CONFIG_MAX_ENTRIES	4096	/* key lines in one file */
#define CONFIG_MAX_LINE		(INI_MAX_LINE - 2)

/* Sections other than those of the table. */
#define SECTION_DIFF	"diff"
#define SECTION_ROUTE	"route"

/* One key line of the file, kept until the whole file is read. */
struct entry {
	char		*section;
	char		*key;
	char		*value;
	unsigned int	 line;
};

struct error {
	unsigned int	 line;
	size_t		 seq;		/* keeps the sort stable */
	char		*text;		/* "file:line: ..." */
};

struct parse {
	const char	*file;
	FILE		*fp;
	char		*buf;		/* getline(3) buffer */
	size_t		 bufsize;
	unsigned int	 line;		/* of the line last read */
	int		 continuation;	/* that line continues a value */
	int		 in_key;	/* a key line came since the section */

	struct entry	*entries;
	size_t		 nentries;

	struct entry	*routes;	/* [route NAME] headers: key unused */
	size_t		 nroutes;

	struct error	*errors;	/* the first CONFIG_MAX_ERRORS */
	size_t		 nerrors;	/* all of them */
};

static void	parse_error(struct parse *, unsigned int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* Adds one error; the first CONFIG_MAX_ERRORS are kept. */
static void
parse_error(struct parse *p, unsigned int line, const char *fmt, ...)
{
	va_list		 ap;
	char		*msg;
	struct error	*e;

	if (p->nerrors++ >= CONFIG_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatalx("out of memory");
	va_end(ap);
	p->errors = xreallocarray(p->errors, p->nerrors, sizeof(*p->errors));
	e = &p->errors[p->nerrors - 1];
	e->line = line;
	e->seq = p->nerrors;
	if (line > 0)
		e->text = xasprintf("%s:%u: %s", p->file, line, msg);
	else
		e->text = xasprintf("%s: %s", p->file, msg);
	free(msg);
}

static int
error_cmp(const void *a, const void *b)
{
	const struct error	*ea = a, *eb = b;

	if (ea->line != eb->line)
		return (ea->line < eb->line ? -1 : 1);
	return (ea->seq < eb->seq ? -1 : 1);
}

/* All errors as one text, in line order, and frees them. */
static char *
parse_errors_text(struct parse *p)
{
	size_t	 i, n = p->nerrors < CONFIG_MAX_ERRORS ? p->nerrors :
		    CONFIG_MAX_ERRORS;
	char	*all = NULL, *next;

	qsort(p->errors, n, sizeof(*p->errors), error_cmp);
	for (i = 0; i < n; i++) {
		next = xasprintf("%s%s%s", all ? all : "", all ? "\n" : "",
		    p->errors[i].text);
		free(all);
		free(p->errors[i].text);
		all = next;
	}
	if (p->nerrors > n) {
		next = xasprintf("%s\n%s: ... and %zu more errors", all,
		    p->file, p->nerrors - n);
		free(all);
		all = next;
	}
	free(p->errors);
	return (all);
}

/* Skips leading blanks. */
static const char *
skip_blanks(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return (s);
}

/* Whether NAME is a section of the table, [diff] or [route NAME]. */
static int
section_known(const char *name)
{
	size_t	 i;

	if (strcmp(name, SECTION_DIFF) == 0)
		return (1);
	for (i = 0; i < config_noptions; i++)
		if (strcmp(name, config_options[i].section) == 0)
			return (1);
	return (0);
}

/*
 * The route name of a "route NAME" section, or NULL if NAME is not one.
 * A route name is what labels exchanges in the log and the metrics, so it
 * is kept to a plain word.
 */
static const char *
section_route_name(const char *section)
{
	const char	*name, *s;

	if (strncmp(section, SECTION_ROUTE " ", sizeof(SECTION_ROUTE)) != 0)
		return (NULL);
	name = skip_blanks(section + sizeof(SECTION_ROUTE));
	if (*name == '\0')
		return (NULL);
	for (s = name; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("_-.", *s) == NULL)
			return (NULL);
	return (name);
}

/* inih keeps at most this much of a section name (its MAX_SECTION). */
#define CONFIG_MAX_SECTION	49

/*
 * Checks a "[section]" line and writes it to OUT as inih should see it,
 * with no blanks inside the brackets (inih would keep them in the name).
 */
static void
reader_section(struct parse *p, const char *start, char *out, size_t size)
{
	const char	*end, *name;
	char		*trimmed;
	size_t		 len;

	if ((end = strchr(start, ']')) == NULL) {
		parse_error(p, p->line, "section header has no closing ']'");
		return;
	}
	name = skip_blanks(start + 1);
	len = (size_t)(end - name);
	while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t'))
		len--;
	trimmed = xstrndup(name, len);
	snprintf(out, size, "[%s]", trimmed);
	if (len > CONFIG_MAX_SECTION - 1)
		parse_error(p, p->line, "section name [%s] longer than %d "
		    "bytes", trimmed, CONFIG_MAX_SECTION - 1);
	else if (section_route_name(trimmed) != NULL) {
		p->routes = xreallocarray(p->routes, p->nroutes + 1,
		    sizeof(*p->routes));
		memset(&p->routes[p->nroutes], 0, sizeof(*p->routes));
		p->routes[p->nroutes].section = xstrdup(trimmed);
		p->routes[p->nroutes++].line = p->line;
	} else if (!section_known(trimmed)) {
		if (strncmp(trimmed, SECTION_ROUTE,
		    sizeof(SECTION_ROUTE) - 1) == 0)
			parse_error(p, p->line, "bad section [%s]: expected "
			    "[route NAME] with NAME made of letters, digits, "
			    "'_', '-' and '.'", trimmed);
		else
			parse_error(p, p->line, "unknown section [%s]: "
			    "expected [server], [listen], [tls], [admin], "
			    "[primary], [shadow], [limits], [diff], [log] or "
			    "[route NAME]", trimmed);
	}
	free(trimmed);
}

/* Cuts an inline comment (a ';' after a blank), as inih does for keys. */
static void
cut_inline_comment(char *s)
{
	char	*c;

	for (c = s; (c = strchr(c, ';')) != NULL; c++)
		if (c > s && (c[-1] == ' ' || c[-1] == '\t')) {
			*c = '\0';
			break;
		}
}

/*
 * inih's line reader. Counts lines, and reports what inih would skip or
 * cut silently: lines too long for its buffer, lines that are neither
 * a section, a key nor a comment. Marks indented continuation lines,
 * which inih hands over as the previous key again.
 */
static char *
reader(char *str, int num, void *arg)
{
	struct parse	*p = arg;
	const char	*start;
	ssize_t		 len;

	p->continuation = 0;
	if ((len = getline(&p->buf, &p->bufsize, p->fp)) == -1)
		return (NULL);
	p->line++;
	if (len > 0 && p->buf[len - 1] == '\n')
		p->buf[--len] = '\0';
	if (len > 0 && p->buf[len - 1] == '\r')
		p->buf[--len] = '\0';
	if (len > CONFIG_MAX_LINE || len >= num - 1) {
		parse_error(p, p->line, "line longer than %d bytes: continue "
		    "a long value on indented lines", CONFIG_MAX_LINE);
		str[0] = '\0';
		return (str);
	}
	if (memchr(p->buf, '\0', (size_t)len) != NULL) {
		parse_error(p, p->line, "NUL byte in line");
		str[0] = '\0';
		return (str);
	}
	start = skip_blanks(p->buf);
	if (*start == '\0' || *start == '#' || *start == ';')
		;
	else if (start != p->buf && p->in_key) {
		/* inih 55 keeps inline comments on continuation lines. */
		p->continuation = 1;
		cut_inline_comment(p->buf);
	} else if (*start == '[') {
		p->in_key = 0;
		reader_section(p, start, str, (size_t)num);
		return (str);
	} else if (strpbrk(start, "=:") == NULL)
		parse_error(p, p->line, "expected 'key = value', a "
		    "[section] or a comment");
	else
		p->in_key = 1;
	memcpy(str, p->buf, strlen(p->buf) + 1);
	return (str);
}

/* inih's handler: keeps each key line, or joins a continuation to it. */
static int
handler(void *arg, const char *section, const char *key, const char *value)
{
	struct parse	*p = arg;
	struct entry	*e;
	char		*joined;

	if (p->continuation) {
		if (p->nentries == 0)
			return (1);
		e = &p->entries[p->nentries - 1];
		if (strchr(value, '=') != NULL)
			parse_error(p, p->line, "indented line continues the "
			    "value of %s; to start a key, remove the "
			    "indentation", e->key);
		joined = xasprintf("%s %s", e->value, value);
		free(e->value);
		e->value = joined;
		return (1);
	}
	if (p->nentries >= CONFIG_MAX_ENTRIES) {
		parse_error(p, p->line, "more than %d keys", CONFIG_MAX_ENTRIES);
		return (1);
	}
	p->entries = xreallocarray(p->entries, p->nentries + 1,
	    sizeof(*p->entries));
	e = &p->entries[p->nentries++];
	e->section = xstrdup(section);
	e->key = xstrdup(key);
	e->value = xstrdup(value);
	e->line = p->line;
	return (1);
}

/* Parses a whole decimal number; 0 or -1. END gets the first other byte. */
static int
parse_number(const char *s, uint64_t *out, const char **end)
{
	uint64_t	 v = 0;

	if (!isdigit((unsigned char)*s))
		return (-1);
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return (-1);
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	*end = s;
	return (0);
}

/* Multiplies with overflow detection. */
static int
scale(uint64_t v, uint64_t unit, uint64_t *out)
{
	if (unit != 0 && v > UINT64_MAX / unit)
		return (-1);
	*out = v * unit;
	return (0);
}

/* A unit of a duration or a size, and what it multiplies by. */
struct unit {
	const char	*name;
	uint64_t	 scale;
};

/* A whole number followed by one of UNITS; 0 or -1. */
static int
parse_units(const char *s, const struct unit *units, size_t n,
    uint64_t *out)
{
	const char	*end;
	uint64_t	 v;
	size_t		 i;

	if (parse_number(s, &v, &end) == -1)
		return (-1);
	for (i = 0; i < n; i++)
		if (strcmp(end, units[i].name) == 0)
			return (scale(v, units[i].scale, out));
	return (-1);
}

/* "250ms", "5s", "2m", "1h" into milliseconds. */
int
config_parse_duration(const char *s, uint64_t *ms, char **cause)
{
	static const struct unit units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }
	};

	if (parse_units(s, units, nitems(units), ms) == 0)
		return (0);
	*cause = xstrdup("a duration such as 250ms, 5s, 2m or 1h");
	return (-1);
}

/* "512", "16KiB", "1MiB", "2GiB" into bytes. */
int
config_parse_size(const char *s, uint64_t *bytes, char **cause)
{
	static const struct unit units[] = {
		{ "", 1 }, { "B", 1 }, { "KiB", 1 << 10 }, { "MiB", 1 << 20 },
		{ "GiB", 1 << 30 }, { "TiB", (uint64_t)1 << 40 }
	};

	if (parse_units(s, units, nitems(units), bytes) == 0)
		return (0);
	*cause = xstrdup("a size such as 512, 16KiB, 1MiB or 2GiB");
	return (-1);
}

/* "10%", "0.5%" into a fraction of one. */
int
config_parse_percent(const char *s, double *fraction, char **cause)
{
	char	*end;
	double	 v;

	errno = 0;
	/* Digits and one point only: strtod would take 0x10 and 1e1. */
	if (isdigit((unsigned char)*s) && strspn(s, "0123456789.") ==
	    strlen(s) - 1) {
		v = strtod(s, &end);
		if (errno == 0 && strcmp(end, "%") == 0 && v >= 0 &&
		    v <= 100) {
			*fraction = v / 100;
			return (0);
		}
	}
	*cause = xstrdup("a percentage from 0% to 100%, such as 10% or 0.5%");
	return (-1);
}

/* "yes"/"no" (and true/false, on/off). */
int
config_parse_bool(const char *s, int *flag, char **cause)
{
	if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0 ||
	    strcasecmp(s, "on") == 0) {
		*flag = 1;
		return (0);
	}
	if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0 ||
	    strcasecmp(s, "off") == 0) {
		*flag = 0;
		return (0);
	}
	*cause = xstrdup("yes or no");
	return (-1);
}

/* Splits on blanks into a NULL-terminated array (never NULL itself). */
char **
config_split_words(const char *s)
{
	char	**words = NULL;
	size_t	  n = 0, len;

	for (;;) {
		s += strspn(s, " \t");
		if (*s == '\0')
			break;
		len = strcspn(s, " \t");
		words = xreallocarray(words, n + 2, sizeof(*words));
		words[n++] = xstrndup(s, len);
		s += len;
	}
	words = xreallocarray(words, n + 1, sizeof(*words));
	words[n] = NULL;
	return (words);
}

/* Frees what config_split_words returned. */
void
config_free_words(char **words)
{
	size_t	 i;

	if (words == NULL)
		return;
	for (i = 0; words[i] != NULL; i++)
		free(words[i]);
	free(words);
}

/* Resolves HOST and PORT into the first stream address. */
static int
resolve(const char *host, const char *port, int passive,
    struct sockaddr_storage *ss, socklen_t *len, char **cause)
{
	struct addrinfo	 hints, *res;
	int		 error;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = passive ? AI_PASSIVE : 0;
	if ((error = getaddrinfo(host, port, &hints, &res)) != 0) {
		*cause = xasprintf("cannot resolve %s: %s", host,
		    gai_strerror(error));
		return (-1);
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return (0);
}

/* Splits "host:port" or "[v6]:port" into its parts; 0, or -1 if malformed. */
static int
split_hostport(const char *s, char **host, char **port)
{
	const char	*colon, *close;
	uint64_t	 v;
	const char	*end;

	if (*s == '[') {
		if ((close = strchr(s, ']')) == NULL || close[1] != ':')
			return (-1);
		*host = xstrndup(s + 1, (size_t)(close - s - 1));
		colon = close + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL || colon == s)
			return (-1);
		*host = xstrndup(s, (size_t)(colon - s));
		if (strchr(*host, ':') != NULL) {
			free(*host);
			*host = NULL;
			return (-1);
		}
	}
	if (parse_number(colon + 1, &v, &end) == -1 || *end != '\0' ||
	    v > 65535) {
		free(*host);
		*host = NULL;
		return (-1);
	}
	*port = xstrdup(colon + 1);
	return (0);
}

/* An address to listen on: "host:port", port 0 meaning any free port. */
static int
parse_address(struct config_listen *l, const char *s, char **cause)
{
	char	*host, *port;
	int	 rc;

	if (split_hostport(s, &host, &port) == -1) {
		*cause = xstrdup("host:port, such as 127.0.0.1:8080, "
		    "[::1]:8080 or 0.0.0.0:80");
		return (-1);
	}
	memset(l, 0, sizeof(*l));
	rc = resolve(host, port, 1, &l->addr, &l->addrlen, cause);
	free(host);
	free(port);
	if (rc == 0)
		l->text = xstrdup(s);
	return (rc);
}

/* An [listen] address ("host:port" or "host:port tls"), added to CFG's. */
static int
parse_listen(struct config *cfg, const char *s, char **cause)
{
	char	**w = config_split_words(s);
	int	  rc = -1;

	cfg->listen = xreallocarray(cfg->listen, cfg->nlisten + 1,
	    sizeof(*cfg->listen));
	if (w[0] == NULL || (w[1] != NULL && (strcmp(w[1], "tls") != 0 ||
	    w[2] != NULL)))
		*cause = xstrdup("host:port, and tls if clients speak TLS "
		    "there, such as 127.0.0.1:8080 or 0.0.0.0:443 tls");
	else if (parse_address(&cfg->listen[cfg->nlisten], w[0], cause) == 0) {
		cfg->listen[cfg->nlisten++].tls = w[1] != NULL;
		rc = 0;
	}
	config_free_words(w);
	return (rc);
}

/* A backend URL: http://host[:port][/]. */
static int
parse_url(struct config_backend *b, const char *s, char **cause)
{
	const char	*rest, *slash;
	char		*hostport;
	int		 rc;

	b->tls = strncasecmp(s, "https://", 8) == 0;
	if (strncasecmp(s, "http://", 7) == 0)
		rest = s + 7;
	else if (b->tls)
		rest = s + 8;
	else {
		*cause = xstrdup("a URL such as http://127.0.0.1:8080 or "
		    "https://api.internal");
		return (-1);
	}
	slash = strchr(rest, '/');
	if (slash != NULL && strcmp(slash, "/") != 0) {
		*cause = xstrdup("a URL with no path, such as "
		    "http://127.0.0.1:8080 (requests keep their own path)");
		return (-1);
	}
	hostport = slash ? xstrndup(rest, (size_t)(slash - rest)) :
	    xstrdup(rest);
	if (strchr(hostport, ':') == NULL || (*hostport == '[' &&
	    strstr(hostport, "]:") == NULL)) {
		b->hostport = xasprintf("%s:%s", hostport, b->tls ? "443" :
		    "80");
		free(hostport);
	} else
		b->hostport = hostport;
	if (split_hostport(b->hostport, &b->host, &b->port) == -1 ||
	    *b->host == '\0') {
		*cause = xstrdup("a URL such as http://127.0.0.1:8080");
		return (-1);
	}
	rc = resolve(b->host, b->port, 0, &b->addr, &b->addrlen, cause);
	if (rc == 0)
		b->url = xstrdup(s);
	return (rc);
}

/* Loads one more certificate into CERTS ("": none, the default). */
static int
option_cert(struct config_certs *certs, const char *value, char **cause)
{
	struct tls_cert	*c;
	char		*why;

	if (*value == '\0')
		return (0);

	if (tls_cert_load(value, &c, &why) == -1) {
		*cause = xasprintf("a certificate chain and its key, in PEM "
		    "files: %s", why);
		free(why);
		return (-1);
	}
	certs->v = xreallocarray(certs->v, certs->n + 1, sizeof(*certs->v));
	certs->v[certs->n++] = c;
	return (0);
}

/* Applies one table option to CFG; 0 or -1 with *cause. */
static int
option_apply(struct config *cfg, const struct option *o, const char *value,
    char **cause)
{
	uint64_t	 v = 0, *field = (uint64_t *)((char *)cfg + o->offset);
	const char	*end;
	char		**words;
	size_t		 i;
	long		 ncpu;

	switch (o->type) {
	case OPT_LISTEN:
		return (parse_listen(cfg, value, cause));
	case OPT_ADDRESS:
		free(((struct config_listen *)field)->text);
		((struct config_listen *)field)->text = NULL;
		if (strcmp(value, "none") == 0)
			return (0);
		return (parse_address((struct config_listen *)field, value,
		    cause));
	case OPT_URL:
		if (*value == '\0' && o->def != NULL && *o->def == '\0')
			return (0);	/* optional, and not set */
		return (parse_url((struct config_backend *)field, value,
		    cause));
	case OPT_PERCENT:
		return (config_parse_percent(value, (double *)field, cause));
	case OPT_STRING:
		if (o->check != NULL && o->check(value, cause) == -1)
			return (-1);
		free(*(char **)field);
		*(char **)field = xstrdup(value);
		return (0);
	case OPT_WORDS:
		words = config_split_words(value);
		for (i = 0; words[i] != NULL; i++)
			if (o->check(words[i], cause) == -1) {
				config_free_words(words);
				return (-1);
			}
		config_free_words(*(char ***)field);
		*(char ***)field = words;
		return (0);
	case OPT_BOOL:
		return (config_parse_bool(value, (int *)field, cause));
	case OPT_CERT:
		return (option_cert((struct config_certs *)field, value,
		    cause));
	case OPT_DURATION:
		if (config_parse_duration(value, &v, cause) == -1)
			return (-1);
		break;
	case OPT_SIZE:
		if (config_parse_size(value, &v, cause) == -1)
			return (-1);
		break;
	case OPT_UINT:
		if (strcmp(value, "auto") == 0 &&
		    strcmp(o->key, "workers") == 0) {
			ncpu = sysconf(_SC_NPROCESSORS_ONLN);
			v = ncpu < 1 ? 1 : (uint64_t)ncpu;
			if (v > o->max)
				v = o->max;	/* more CPUs than workers */
			break;
		}
		if (parse_number(value, &v, &end) == -1 || *end != '\0') {
			*cause = xasprintf("a whole number from %llu to %llu%s",
			    (unsigned long long)o->min,
			    (unsigned long long)o->max,
			    strcmp(o->key, "workers") == 0 ? ", or auto" : "");
			return (-1);
		}
		break;
	}
	if (v < o->min || v > o->max) {
		switch (o->type) {
		case OPT_DURATION:
			*cause = xasprintf("a duration from %llums to %llus",
			    (unsigned long long)o->min,
			    (unsigned long long)o->max / 1000);
			break;
		case OPT_SIZE:
			*cause = xasprintf("a size from %llu to %llu bytes",
			    (unsigned long long)o->min,
			    (unsigned long long)o->max);
			break;
		default:
			*cause = xasprintf("a whole number from %llu to %llu",
			    (unsigned long long)o->min,
			    (unsigned long long)o->max);
			break;
		}
		return (-1);
	}
	*field = v;
	return (0);
}

/* The table entry for SECTION and KEY, or NULL. */
static const struct option *
option_find(const char *section, const char *key)
{
	size_t	 i;

	for (i = 0; i < config_noptions; i++)
		if (strcmp(config_options[i].section, section) == 0 &&
		    strcmp(config_options[i].key, key) == 0)
			return (&config_options[i]);
	return (NULL);
}

/* The keys of SECTION, for "expected one of" messages. */
static char *
option_keys(const char *section)
{
	char	*list = NULL, *next;
	size_t	 i;

	for (i = 0; i < config_noptions; i++) {
		if (strcmp(config_options[i].section, section) != 0)
			continue;
		next = xasprintf("%s%s%s", list ? list : "", list ? ", " : "",
		    config_options[i].key);
		free(list);
		list = next;
	}
	return (list ? list : xstrdup(""));
}

/* The line of an earlier entry with the same section and key, or 0. */
static unsigned int
entry_duplicate(const struct parse *p, size_t i)
{
	const struct entry	*e = &p->entries[i];
	size_t			 j;

	for (j = 0; j < i; j++)
		if (strcmp(p->entries[j].section, e->section) == 0 &&
		    strcmp(p->entries[j].key, e->key) == 0)
			return (p->entries[j].line);
	return (0);
}

/* Reports a bad value of entry E: what was written and what was expected. */
static void
entry_bad_value(struct parse *p, const struct entry *e, char *cause)
{
	parse_error(p, e->line, "[%s] %s = \"%s\": expected %s", e->section,
	    e->key, e->value, cause);
	free(cause);
}

/*
 * Parses a list of methods in capitals; NONE allows the word "none" for
 * an empty list. NULL with *cause if bad.
 */
static char **
parse_methods(const char *value, int none, char **cause)
{
	char	**words = config_split_words(value);
	size_t	  i;

	if (none && words[0] != NULL && words[1] == NULL &&
	    strcmp(words[0], "none") == 0) {
		free(words[0]);
		words[0] = NULL;
		return (words);
	}
	for (i = 0; words[i] != NULL; i++)
		if (config_check_method(words[i], cause) == -1)
			goto fail;
	if (words[0] == NULL) {
		*cause = xasprintf("at least one method, such as GET HEAD%s",
		    none ? ", or none" : "");
		goto fail;
	}
	return (words);
fail:
	config_free_words(words);
	return (NULL);
}

/* Sets a route's methods (or its mirrored ones, MIRROR). */
static int
route_set_methods(struct config_route *r, const char *value, int mirror,
    char **cause)
{
	char	**words, ***field = mirror ? &r->mirror_methods : &r->methods;

	if ((words = parse_methods(value, mirror, cause)) == NULL)
		return (-1);
	config_free_words(*field);
	*field = words;
	return (0);
}

/* Whether the file gives route NAME a match key (valid or not). */
static int
route_has_match(const struct parse *p, const char *name)
{
	const char	*section;
	size_t		 i;

	for (i = 0; i < p->nentries; i++) {
		section = section_route_name(p->entries[i].section);
		if (section != NULL && strcmp(section, name) == 0 &&
		    strcmp(p->entries[i].key, "match") == 0)
			return (1);
	}
	return (0);
}

/*
 * Adds a route's redact_body patterns to those of [log] (as its diff
 * rules' lists add to [diff]'s); 0, or -1 with *CAUSE.
 */
static int
route_set_redact_body(struct config *cfg, struct config_route *r,
    const char *value, char **cause)
{
	char	*why = NULL, **w;

	w = config_split_words(value);
	if (w[0] == NULL) {
		config_free_words(w);
		*cause = xstrdup("JSON Pointer patterns, such as /card/number");
		return (-1);
	}
	config_free_words(w);
	if (cfg->redact == NULL)
		return (0);	/* [log] was bad: reported already */
	if (r->redact == NULL)
		r->redact = diff_redact_copy(cfg->redact);
	if (diff_redact_add_paths(r->redact, value, &why) == 0)
		return (0);
	*cause = xasprintf("JSON Pointer patterns: %s", why);
	free(why);
	return (-1);
}

/* Creates the route of each [route NAME] section, in file order. */
static void
apply_routes(struct config *cfg, struct parse *p)
{
	struct config_route	*r;
	struct entry		*e;
	const char		*name;
	char			*cause;
	size_t			 i, j;
	int			 rc;

	for (i = 0; i < p->nroutes; i++) {
		name = section_route_name(p->routes[i].section);
		if (strcmp(name, "default") == 0) {
			parse_error(p, p->routes[i].line, "[%s]: the name "
			    "default stands for requests no route matches, in "
			    "the log and the metrics; name the route otherwise",
			    p->routes[i].section);
			continue;
		}
		if (config_route_find(cfg, name) != NULL) {
			parse_error(p, p->routes[i].line, "[%s] appears twice: "
			    "route names label the log and must be unique",
			    p->routes[i].section);
			continue;
		}
		cfg->routes = xreallocarray(cfg->routes, cfg->nroutes + 1,
		    sizeof(*cfg->routes));
		r = &cfg->routes[cfg->nroutes++];
		memset(r, 0, sizeof(*r));
		r->name = xstrdup(name);
		r->line = p->routes[i].line;
		r->rules = diff_rules_new(cfg->diff_rules);
	}
	for (i = 0; i < p->nentries; i++) {
		e = &p->entries[i];
		if ((name = section_route_name(e->section)) == NULL ||
		    (r = (struct config_route *)config_route_find(cfg,
		    name)) == NULL)
			continue;
		cause = NULL;
		if (strcmp(e->key, "match") == 0)
			rc = route_set_match(r, e->value, &cause);
		else if (strcmp(e->key, "methods") == 0)
			rc = route_set_methods(r, e->value, 0, &cause);
		else if (strcmp(e->key, "mirror_methods") == 0)
			rc = route_set_methods(r, e->value, 1, &cause);
		else if (strcmp(e->key, "redact_body") == 0)
			rc = route_set_redact_body(cfg, r, e->value, &cause);
		else
			rc = diff_rules_set(r->rules, e->key, e->value, &cause);
		if (rc == 1)
			parse_error(p, e->line, "[%s] unknown key \"%s\": "
			    "expected match, methods, mirror_methods, "
			    "redact_body or a diff rule (see "
			    "docs/configuration.md)", e->section,
			    e->key);
		else if (rc == -1)
			entry_bad_value(p, e, cause);
	}
	for (j = 0; j < cfg->nroutes; j++)
		if (!route_has_match(p, cfg->routes[j].name))
			parse_error(p, cfg->routes[j].line, "[route %s] has no "
			    "match key: expected match = /path/pattern",
			    cfg->routes[j].name);
}

/* The line of the first entry of SECTION (and KEY, unless NULL), or 0. */
static unsigned int
entry_line(const struct parse *p, const char *section, const char *key)
{
	size_t	 i;

	for (i = 0; i < p->nentries; i++)
		if (strcmp(p->entries[i].section, section) == 0 &&
		    (key == NULL || strcmp(p->entries[i].key, key) == 0))
			return (p->entries[i].line);
	return (0);
}

/* The line of the Nth [listen] address (as parsed), or 0. */
static unsigned int
listen_line(const struct parse *p, size_t nth)
{
	size_t	 i;

	for (i = 0; i < p->nentries; i++)
		if (strcmp(p->entries[i].section, "listen") == 0 &&
		    strcmp(p->entries[i].key, "address") == 0 && nth-- == 0)
			return (p->entries[i].line);
	return (0);
}

/* The TLS context of backend B ([NAME]), if it is https. */
static void
apply_tls_backend(struct config_backend *b, const char *name,
    struct parse *p)
{
	char	*cause = NULL;

	if (!b->tls || b->url == NULL || b->ca_file == NULL)
		return;
	b->tls_ctx = tls_client_ctx(*b->ca_file != '\0' ? b->ca_file : NULL,
	    b->verify, b->cert.n > 0 ? b->cert.v[0] : NULL, &cause);
	if (b->tls_ctx == NULL) {
		parse_error(p, entry_line(p, name, "url"), "[%s] %s: %s",
		    name, b->url, cause);
		free(cause);
	}
}

/*
 * The TLS contexts: of the listeners, if one of them speaks TLS (then a
 * certificate is needed), and of https backends.
 */
static void
apply_tls(struct config *cfg, struct parse *p)
{
	struct tls_server_conf	 tc;
	char			*cause = NULL;
	size_t			 i, ntls = 0;
	int			 v;

	apply_tls_backend(&cfg->primary, "primary", p);
	apply_tls_backend(&cfg->shadow, "shadow", p);
	for (i = 0; i < cfg->nlisten; i++) {
		if (!cfg->listen[i].tls)
			continue;
		if (cfg->tls_certs.n == 0)
			parse_error(p, listen_line(p, i),
			    "[listen] address = %s tls: expected a [tls] "
			    "certificate = CHAIN KEY for it", cfg->listen[i].text);
		ntls++;
	}
	if (ntls == 0 || cfg->tls_certs.n == 0 || cfg->tls_protocols == NULL ||
	    cfg->tls_ciphers == NULL || cfg->tls_ciphersuites == NULL)
		return;
	memset(&tc, 0, sizeof(tc));
	tc.certs = cfg->tls_certs.v;
	tc.ncerts = cfg->tls_certs.n;
	tc.min_version = tls_version("TLSv1.3");
	tc.max_version = tls_version("TLSv1.2");
	for (i = 0; cfg->tls_protocols[i] != NULL; i++) {
		v = tls_version(cfg->tls_protocols[i]);
		tc.min_version = v < tc.min_version ? v : tc.min_version;
		tc.max_version = v > tc.max_version ? v : tc.max_version;
	}
	if (i == 0) {
		parse_error(p, entry_line(p, "tls", "protocols"), "[tls] "
		    "protocols is empty: expected TLSv1.2, TLSv1.3 or both");
		return;
	}
	tc.ciphers = cfg->tls_ciphers;
	tc.ciphersuites = cfg->tls_ciphersuites;
	if ((cfg->tls_ctx = tls_server_ctx(&tc, &cause)) == NULL) {
		parse_error(p, entry_line(p, "tls", "certificate"), "[tls] "
		    "certificate: %s", cause);
		free(cause);
	}
}

/*
 * Builds the redaction policy of [log] redact_headers, redact_query,
 * redact_body and redact_body_words (each checked already): "none"
 * alone empties a list.
 */
static void
apply_redact(struct config *cfg, struct parse *p)
{
	char	*cause = NULL;
	size_t	 i;

	cfg->redact = diff_redact_new();
	if (cfg->redact_query[0] == NULL)
		parse_error(p, entry_line(p, "log", "redact_query"), "[log] "
		    "redact_query is empty: expected query parameter names, "
		    "or none");
	for (i = 0; cfg->redact_headers[i] != NULL; i++)
		diff_redact_add_header(cfg->redact, cfg->redact_headers[i]);
	for (i = 0; cfg->redact_query[i] != NULL; i++) {
		if (strcmp(cfg->redact_query[i], "none") != 0)
			diff_redact_add_query(cfg->redact,
			    cfg->redact_query[i]);
		else if (i > 0 || cfg->redact_query[1] != NULL) {
			parse_error(p, entry_line(p, "log", "redact_query"),
			    "[log] redact_query: none stands alone: expected "
			    "query parameter names, or none");
			break;
		}
	}
	if (strcmp(cfg->redact_body, "none") != 0 &&
	    diff_redact_add_paths(cfg->redact, cfg->redact_body, &cause) == -1)
		fatalx("[log] redact_body, checked, is bad: %s", cause);
	diff_redact_set_words(cfg->redact, cfg->redact_body_words);
}

/*
 * What the copies of a request carry ([shadow] marker and host): split
 * from the text as written, which check_marker and check_shadow_host
 * accepted.
 */
static void
apply_copy_marks(struct config *cfg, struct parse *p)
{
	const char	*colon;
	unsigned int	 line;

	if (cfg->shadow_marker != NULL &&
	    strcmp(cfg->shadow_marker, "none") != 0) {
		colon = strchr(cfg->shadow_marker, ':');
		cfg->marker_name = xstrndup(cfg->shadow_marker,
		    (size_t)(colon - cfg->shadow_marker));
		cfg->marker_value = colon + 1 + strspn(colon + 1, " \t");
		/*
		 * One name for both: the id would be taken off every request
		 * and each one that has an id would look like a loop.
		 */
		if (cfg->request_id_header != NULL &&
		    strcasecmp(cfg->marker_name, cfg->request_id_header) == 0) {
			if ((line = entry_line(p, "shadow", "marker")) == 0)
				line = entry_line(p, "server",
				    "request_id_header");
			parse_error(p, line, "[shadow] marker = \"%s\": "
			    "expected a header other than [server] "
			    "request_id_header", cfg->shadow_marker);
		}
	}
	if (cfg->shadow_host == NULL || strcmp(cfg->shadow_host, "client") == 0)
		return;
	if (strcmp(cfg->shadow_host, "suffix") == 0)
		cfg->shadow_host_suffix = CONFIG_HOST_SUFFIX;
	else
		cfg->shadow_host_fixed = cfg->shadow_host;
}

/*
 * What depends on several keys, once all are applied: the [shadow]
 * section wants a url, the forms that the values take in use.
 */
static void
apply_finish(struct config *cfg, struct parse *p)
{
	unsigned int	 line;
	size_t		 i, n;

	if (cfg->shadow.url == NULL && entry_line(p, "shadow", "url") == 0 &&
	    (line = entry_line(p, "shadow", NULL)) != 0)
		parse_error(p, line, "[shadow] has no url: expected url = "
		    "http://host:port of the service to mirror to");
	apply_tls(cfg, p);
	apply_copy_marks(cfg, p);
	for (i = 0; i < cfg->nlisten; i++)
		for (n = 0; n < i; n++)
			if (cfg->listen[i].addrlen == cfg->listen[n].addrlen &&
			    memcmp(&cfg->listen[i].addr, &cfg->listen[n].addr,
			    cfg->listen[i].addrlen) == 0) {
				parse_error(p, listen_line(p, i),
				    "[listen] address = %s: the same address "
				    "as line %u", cfg->listen[i].text,
				    listen_line(p, n));
				break;
			}
	/* A bad value left its field unset; it was reported. */
	if (cfg->mirror_methods == NULL || cfg->sample_key == NULL ||
	    cfg->log_request == NULL || cfg->redact_headers == NULL ||
	    cfg->redact_query == NULL || cfg->redact_body == NULL ||
	    cfg->request_id_header == NULL || cfg->log_path == NULL)
		return;
	if (cfg->mirror_methods[0] == NULL)
		parse_error(p, entry_line(p, "shadow", "methods"), "[shadow] "
		    "methods is empty: expected at least one method, such as "
		    "GET HEAD (sample = 0%% mirrors nothing)");
	/* The shadow's read timeout is its whole timeout at most. */
	cfg->shadow.read_timeout_ms = cfg->shadow_timeout_ms;
	if (cfg->sample_key[0] != '\0') {
		cfg->sample_key_query = strncmp(cfg->sample_key, "query:",
		    6) == 0;
		cfg->sample_key_name = strchr(cfg->sample_key, ':') + 1;
	}
	cfg->log_request_headers = strstr(cfg->log_request, "headers") !=
	    NULL;
	cfg->log_request_body = strstr(cfg->log_request, "body") != NULL;
	apply_redact(cfg, p);
}

/* Applies the collected entries, then the defaults of unset keys. */
static void
apply(struct config *cfg, struct parse *p)
{
	const struct option	*o;
	struct entry		*e;
	unsigned int		 first;
	char			*cause, *keys;
	size_t			 i;
	int			 rc;
	unsigned char		*set;

	set = xcalloc(config_noptions, sizeof(*set));
	for (i = 0; i < p->nentries; i++) {
		e = &p->entries[i];
		if (section_route_name(e->section) != NULL) {
			/* Duplicates here; applied in apply_routes. */
			if ((first = entry_duplicate(p, i)) != 0)
				parse_error(p, e->line, "[%s] duplicate key "
				    "\"%s\" (first set at line %u)",
				    e->section, e->key, first);
			continue;
		}
		if (e->section[0] == '\0') {
			parse_error(p, e->line, "%s = ...: key outside any "
			    "section", e->key);
			continue;
		}
		if (!section_known(e->section))
			continue;	/* reported with the section line */
		o = option_find(e->section, e->key);
		if ((o == NULL || !o->repeat) &&
		    (first = entry_duplicate(p, i)) != 0) {
			parse_error(p, e->line, "[%s] duplicate key \"%s\" "
			    "(first set at line %u)", e->section, e->key,
			    first);
			continue;
		}
		cause = NULL;
		if (o != NULL) {
			set[o - config_options] = 1;
			rc = option_apply(cfg, o, e->value, &cause);
		} else if (strcmp(e->section, SECTION_DIFF) == 0)
			rc = diff_rules_set(cfg->diff_rules, e->key, e->value,
			    &cause);
		else
			rc = 1;
		if (rc == 1) {
			keys = option_keys(e->section);
			parse_error(p, e->line, "[%s] unknown key \"%s\": "
			    "expected %s%s", e->section, e->key, keys,
			    strcmp(e->section, SECTION_DIFF) == 0 ? " or a "
			    "diff rule (see docs/configuration.md)" : "");
			free(keys);
		} else if (rc == -1)
			entry_bad_value(p, e, cause);
	}
	for (i = 0; i < config_noptions; i++) {
		o = &config_options[i];
		if (set[i])
			continue;
		if (o->def == NULL) {
			parse_error(p, 0, "[%s] %s is required", o->section,
			    o->key);
			continue;
		}
		cause = NULL;
		if (option_apply(cfg, o, o->def, &cause) == -1)
			fatalx("default of [%s] %s: %s", o->section, o->key,
			    cause);
	}
	free(set);
	apply_finish(cfg, p);
	apply_routes(cfg, p);
}

/* Frees loaded certificates. */
static void
certs_free(struct config_certs *certs)
{
	size_t	 i;

	for (i = 0; i < certs->n; i++)
		tls_cert_free(certs->v[i]);
	free(certs->v);
}

/* Frees what a backend's URL allocated. */
static void
backend_free(struct config_backend *b)
{
	free(b->url);
	free(b->host);
	free(b->port);
	free(b->hostport);
	free(b->ca_file);
	certs_free(&b->cert);
	tls_ctx_free(b->tls_ctx);
}

/* Frees a config; only config_unref calls this. */
static void
config_free(struct config *cfg)
{
	size_t	 i;

	for (i = 0; i < cfg->nlisten; i++)
		free(cfg->listen[i].text);
	free(cfg->listen);
	free(cfg->admin.text);
	certs_free(&cfg->tls_certs);
	config_free_words(cfg->tls_protocols);
	free(cfg->tls_ciphers);
	free(cfg->tls_ciphersuites);
	tls_ctx_free(cfg->tls_ctx);
	backend_free(&cfg->primary);
	backend_free(&cfg->shadow);
	free(cfg->request_id_header);
	free(cfg->sample_key);
	free(cfg->shadow_marker);
	free(cfg->marker_name);
	free(cfg->shadow_host);
	config_free_words(cfg->mirror_methods);
	free(cfg->log_path);
	free(cfg->log_request);
	config_free_words(cfg->redact_headers);
	config_free_words(cfg->redact_query);
	free(cfg->redact_body);
	diff_redact_free(cfg->redact);
	for (i = 0; i < cfg->nroutes; i++) {
		free(cfg->routes[i].name);
		free(cfg->routes[i].match);
		config_free_words(cfg->routes[i].segments);
		config_free_words(cfg->routes[i].methods);
		config_free_words(cfg->routes[i].mirror_methods);
		diff_rules_free(cfg->routes[i].rules);
		diff_redact_free(cfg->routes[i].redact);
	}
	free(cfg->routes);
	diff_rules_free(cfg->diff_rules);
	free(cfg->path);
	free(cfg);
}

/* Parses and validates FILE; NULL with *cause ("file:line: ...") on error. */
struct config *
config_load(const char *file, char **cause)
{
	struct parse	 p;
	struct config	*cfg;
	size_t		 i;

	memset(&p, 0, sizeof(p));
	p.file = file;
	if ((p.fp = fopen(file, "r")) == NULL) {
		*cause = xasprintf("%s: %s", file, strerror(errno));
		return (NULL);
	}
	cfg = xcalloc(1, sizeof(*cfg));
	atomic_init(&cfg->refs, 1);
	cfg->path = xstrdup(file);
	cfg->generation = 1;
	cfg->diff_rules = diff_rules_new(NULL);

	if (ini_parse_stream(reader, &p, handler, &p) == -2)
		fatalx("out of memory");
	if (ferror(p.fp))
		parse_error(&p, p.line, "read error");
	fclose(p.fp);
	free(p.buf);
	/* Apply even after syntax errors, to report every error at once. */
	apply(cfg, &p);
	for (i = 0; i < p.nentries; i++) {
		free(p.entries[i].section);
		free(p.entries[i].key);
		free(p.entries[i].value);
	}
	free(p.entries);
	for (i = 0; i < p.nroutes; i++)
		free(p.routes[i].section);
	free(p.routes);
	if (p.nerrors > 0) {
		*cause = parse_errors_text(&p);
		config_free(cfg);
		return (NULL);
	}
	/* Only a file that loads takes ids: there are STATS_ROUTES_MAX. */
	for (i = 0; i < cfg->nroutes; i++)
		cfg->routes[i].stat_id = stats_route_id(cfg->routes[i].name);
	return (cfg);
}

/* Takes a reference. */
struct config *
config_ref(struct config *cfg)
{
	atomic_fetch_add_explicit(&cfg->refs, 1, memory_order_relaxed);
	return (cfg);
}

/* Drops a reference; the last one frees. */
void
config_unref(struct config *cfg)
{
	if (cfg == NULL)
		return;
	if (atomic_fetch_sub_explicit(&cfg->refs, 1,
	    memory_order_acq_rel) == 1)
		config_free(cfg);
}

/* Whether two optional strings are equal. */
static int
str_eq(const char *a, const char *b)
{
	return (a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0);
}

/* Whether two backends are the same for the pools built on them. */
int
config_backend_eq(const struct config_backend *a,
    const struct config_backend *b)
{
	return (str_eq(a->url, b->url) &&
	    a->connect_timeout_ms == b->connect_timeout_ms &&
	    a->read_timeout_ms == b->read_timeout_ms &&
	    a->idle_timeout_ms == b->idle_timeout_ms &&
	    a->pool_size == b->pool_size);
}

/* Whether L is a loopback address: 127.0.0.0/8 or ::1. */
int
config_addr_loopback(const struct config_listen *l)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	if (l->addr.ss_family == AF_INET) {
		sin = (const struct sockaddr_in *)&l->addr;
		return ((ntohl(sin->sin_addr.s_addr) >> 24) == 127);
	}
	if (l->addr.ss_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)&l->addr;
		return (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
	}
	return (0);
}
