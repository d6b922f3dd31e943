/*
 * config-table: every key of the configuration's fixed sections, declared
 * once (as tmux's options-table.c, Redis's config table): its section,
 * type, field of struct config, default (as text, parsed like the file)
 * and bounds, and the checks of the values that are words or strings.
 * Adding a key is one row here and its field in struct config.
 *
 * It never reads the file nor applies a value (config.c does, driven by
 * this table); the keys of [diff] and [route NAME] rules are the diff
 * engine's (diff_rules_set).
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "shadowdiff/config.h"
#include "shadowdiff/diff.h"
#include "shadowdiff/tls.h"
#include "shadowdiff/util.h"

#include "config-internal.h"

#define OFF(f)	offsetof(struct config, f)
#define MS(n)	((uint64_t)(n))
#define S(n)	((uint64_t)(n) * 1000)
#define KIB(n)	((uint64_t)(n) << 10)
#define GIB(n)	((uint64_t)(n) << 30)

/*
 * The keys [primary] and [shadow] both have, with the same defaults: the
 * pool of connections to the backend and how they are verified.
 */
#define UPSTREAM_KEYS(sect, up)						\
	{ sect, "idle_timeout", OPT_DURATION,				\
	    OFF(up.idle_timeout_ms), "30s", MS(1), S(86400), 0 },	\
	{ sect, "pool_size", OPT_UINT, OFF(up.pool_size), "64",		\
	    0, 100000, 0 },						\
	{ sect, "ca_file", OPT_STRING, OFF(up.ca_file), "", 0, 0, 0,	\
	    check_ca_file },						\
	{ sect, "verify", OPT_BOOL, OFF(up.verify), "yes", 0, 0, 0 },	\
	{ sect, "certificate", OPT_CERT, OFF(up.cert), "", 0, 0, 0 }

static int	check_token(const char *, char **);
static int	check_sample_key(const char *, char **);
static int	check_log_path(const char *, char **);
static int	check_log_request(const char *, char **);
static int	check_ca_file(const char *, char **);
static int	check_tls_protocol(const char *, char **);
static int	check_query_name(const char *, char **);
static int	check_redact_body(const char *, char **);

/*
 * What a record hides by default besides the headers diff_redact always
 * hides: OAuth 2.0's tokens, codes and client secret (RFC 6749, OpenID
 * Connect's id_token), the usual API key parameters, passwords, and the
 * signatures of pre-signed URLs (S3's X-Amz-Signature and its session
 * token, Azure SAS's sig). Patterns: the same names as JSON keys at any
 * depth. A list replaces the default; "none" empties it.
 */
#define REDACT_QUERY_DEFAULT	"access_token refresh_token id_token " \
	"token code client_secret secret password api_key apikey key " \
	"sig signature X-Amz-Signature X-Amz-Security-Token"
#define REDACT_BODY_DEFAULT	"/**/password /**/secret " \
	"/**/client_secret /**/token /**/access_token /**/refresh_token " \
	"/**/id_token /**/api_key /**/apikey"
static int	check_marker(const char *, char **);
static int	check_shadow_host(const char *, char **);

/* Every key of the fixed sections: one row each, grouped by section. */
const struct option config_options[] = {
	{ "server", "workers", OPT_UINT, OFF(workers), "auto", 1, 256, 0 },
	{ "server", "drain_timeout", OPT_DURATION, OFF(drain_timeout_ms),
	    "10s", MS(0), S(3600), 0 },
	{ "server", "request_id_header", OPT_STRING, OFF(request_id_header),
	    "X-Shadowdiff-Id", 0, 0, 0, check_token },

	{ "listen", "address", OPT_LISTEN, 0, NULL, 0, 0, 1 },
	{ "listen", "backlog", OPT_UINT, OFF(backlog), "511", 1, 65535, 0 },
	{ "listen", "max_connections", OPT_UINT, OFF(max_connections),
	    "10000", 1, 1000000, 0 },

	{ "admin", "listen", OPT_ADDRESS, OFF(admin), "127.0.0.1:9901",
	    0, 0, 0 },

	{ "tls", "certificate", OPT_CERT, OFF(tls_certs), "", 0, 0, 1 },
	{ "tls", "protocols", OPT_WORDS, OFF(tls_protocols),
	    "TLSv1.2 TLSv1.3", 0, 0, 0, check_tls_protocol },
	{ "tls", "ciphers", OPT_STRING, OFF(tls_ciphers), TLS_MODERN_CIPHERS,
	    0, 0, 0, tls_check_ciphers },
	{ "tls", "ciphersuites", OPT_STRING, OFF(tls_ciphersuites),
	    TLS_MODERN_CIPHERSUITES, 0, 0, 0, tls_check_ciphersuites },
	{ "tls", "handshake_timeout", OPT_DURATION,
	    OFF(tls_handshake_timeout_ms), "10s", MS(1), S(3600), 0 },

	{ "primary", "url", OPT_URL, OFF(primary), NULL, 0, 0, 0 },
	{ "primary", "connect_timeout", OPT_DURATION,
	    OFF(primary.connect_timeout_ms), "2s", MS(1), S(3600), 0 },
	{ "primary", "read_timeout", OPT_DURATION,
	    OFF(primary.read_timeout_ms), "60s", MS(1), S(86400), 0 },
	UPSTREAM_KEYS("primary", primary),

	{ "shadow", "url", OPT_URL, OFF(shadow), "", 0, 0, 0 },
	{ "shadow", "connect_timeout", OPT_DURATION,
	    OFF(shadow.connect_timeout_ms), "1s", MS(1), S(3600), 0 },
	{ "shadow", "timeout", OPT_DURATION, OFF(shadow_timeout_ms), "5s",
	    MS(1), S(3600), 0 },
	UPSTREAM_KEYS("shadow", shadow),
	{ "shadow", "sample", OPT_PERCENT, OFF(sample), "100%", 0, 0, 0 },
	{ "shadow", "sample_key", OPT_STRING, OFF(sample_key), "", 0, 0, 0,
	    check_sample_key },
	{ "shadow", "methods", OPT_WORDS, OFF(mirror_methods),
	    "GET HEAD OPTIONS", 0, 0, 0, config_check_method },
	{ "shadow", "max_inflight", OPT_UINT, OFF(max_inflight), "100",
	    1, 1000000, 0 },
	{ "shadow", "max_body", OPT_SIZE, OFF(mirror_max_body), "1MiB",
	    0, GIB(1), 0 },
	{ "shadow", "max_response", OPT_SIZE, OFF(shadow_max_response),
	    "64MiB", KIB(1), GIB(1024), 0 },
	{ "shadow", "marker", OPT_STRING, OFF(shadow_marker),
	    CONFIG_MARKER_DEFAULT, 0, 0, 0, check_marker },
	{ "shadow", "host", OPT_STRING, OFF(shadow_host), "client", 0, 0, 0,
	    check_shadow_host },

	{ "diff", "max_body", OPT_SIZE, OFF(diff_max_body), "1MiB",
	    KIB(1), GIB(1), 0 },
	{ "diff", "threads", OPT_UINT, OFF(diff_threads), "2", 1, 64, 0 },
	{ "diff", "queue", OPT_UINT, OFF(diff_queue), "256", 1, 1000000, 0 },
	{ "diff", "queue_memory", OPT_SIZE, OFF(diff_queue_memory),
	    "256MiB", KIB(64), GIB(1024), 0 },

	{ "log", "path", OPT_STRING, OFF(log_path),
	    "/var/log/shadowdiff/divergence.log", 0, 0, 0,
	    check_log_path },
	{ "log", "log_matches", OPT_PERCENT, OFF(log_matches), "0%",
	    0, 0, 0 },
	{ "log", "log_request", OPT_STRING, OFF(log_request), "none", 0, 0, 0,
	    check_log_request },
	{ "log", "redact_headers", OPT_WORDS, OFF(redact_headers), "", 0, 0,
	    0, check_token },
	{ "log", "redact_query", OPT_WORDS, OFF(redact_query),
	    REDACT_QUERY_DEFAULT, 0, 0, 0, check_query_name },
	{ "log", "redact_body", OPT_STRING, OFF(redact_body),
	    REDACT_BODY_DEFAULT, 0, 0, 0, check_redact_body },
	{ "log", "redact_body_words", OPT_BOOL, OFF(redact_body_words), "yes",
	    0, 0, 0 },
	{ "log", "value_limit", OPT_SIZE, OFF(log_value_limit), "256", 16,
	    DIFF_VALUE_MAX, 0 },
	{ "log", "queue", OPT_UINT, OFF(log_queue), "4096", 1, 1000000, 0 },
	{ "log", "queue_memory", OPT_SIZE, OFF(log_queue_memory), "64MiB",
	    KIB(64), GIB(1024), 0 },

	{ "limits", "max_header_bytes", OPT_SIZE, OFF(max_header_bytes),
	    "16KiB", 1024, KIB(1024), 0 },
	{ "limits", "max_header_count", OPT_UINT, OFF(max_header_count),
	    "100", 1, 10000, 0 },
	{ "limits", "max_request_body", OPT_SIZE, OFF(max_request_body),
	    "1GiB", 0, GIB(1024), 0 },
	{ "limits", "client_header_timeout", OPT_DURATION,
	    OFF(client_header_timeout_ms), "10s", MS(1), S(3600), 0 },
	{ "limits", "client_body_timeout", OPT_DURATION,
	    OFF(client_body_timeout_ms), "30s", MS(1), S(3600), 0 },
	{ "limits", "keepalive_timeout", OPT_DURATION,
	    OFF(keepalive_timeout_ms), "75s", MS(1), S(86400), 0 },
	{ "limits", "send_timeout", OPT_DURATION, OFF(send_timeout_ms),
	    "60s", MS(1), S(86400), 0 },
};

/* The number of rows, for the files that cannot see the table's size. */
const size_t config_noptions = nitems(config_options);

/* Whether S is an HTTP token (RFC 9110 5.6.2), such as a header name. */
static int
is_token(const char *s)
{
	static const char	*tchar = "!#$%&'*+-.^_`|~0123456789"
				    "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

	return (*s != '\0' && strspn(s, tchar) == strlen(s));
}

/* A header name. */
static int
check_token(const char *s, char **cause)
{
	if (is_token(s))
		return (0);
	*cause = xstrdup("a header name, such as X-Request-Id");
	return (-1);
}

/* One method of a methods list: a token in capitals. */
int
config_check_method(const char *s, char **cause)
{
	if (*s != '\0' && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") ==
	    strlen(s))
		return (0);
	*cause = xstrdup("HTTP methods in capitals, such as GET HEAD");
	return (-1);
}

/* "", "header:NAME" or "query:NAME". */
static int
check_sample_key(const char *s, char **cause)
{
	if (*s == '\0' ||
	    (strncmp(s, "header:", 7) == 0 && is_token(s + 7)) ||
	    (strncmp(s, "query:", 6) == 0 && s[6] != '\0' &&
	    strpbrk(s + 6, "&=# \t") == NULL))
		return (0);
	*cause = xstrdup("header:NAME or query:NAME, such as header:X-User-Id "
	    "or query:user");
	return (-1);
}

/* "-" or a file path. */
static int
check_log_path(const char *s, char **cause)
{
	if (strcmp(s, "-") == 0 || s[0] == '/')
		return (0);
	*cause = xstrdup("an absolute file path, such as "
	    "/var/log/shadowdiff/divergence.log, or - for standard output");
	return (-1);
}

/* "" (the system's CAs) or a file of CA certificates. */
static int
check_ca_file(const char *s, char **cause)
{
	if (*s == '\0')
		return (0);
	return (tls_check_ca_file(s, cause));
}

/* TLSv1.2 or TLSv1.3. */
static int
check_tls_protocol(const char *s, char **cause)
{
	if (tls_version(s) != -1)
		return (0);
	*cause = xstrdup("TLSv1.2, TLSv1.3 or both");
	return (-1);
}

/* "none", "headers" or "headers body". */
static int
check_log_request(const char *s, char **cause)
{
	char	**w = config_split_words(s);
	int	  ok;

	ok = (w[0] != NULL && w[1] == NULL && (strcmp(w[0], "none") == 0 ||
	    strcmp(w[0], "headers") == 0)) || (w[0] != NULL && w[1] != NULL &&
	    w[2] == NULL && strcmp(w[0], "headers") == 0 &&
	    strcmp(w[1], "body") == 0);
	config_free_words(w);
	if (ok)
		return (0);
	*cause = xstrdup("none, headers, or headers body");
	return (-1);
}

/* A query parameter name, or none. */
static int
check_query_name(const char *s, char **cause)
{
	if (*s != '\0' && strpbrk(s, "&=#?") == NULL)
		return (0);
	*cause = xstrdup("query parameter names, such as access_token sig, "
	    "or none");
	return (-1);
}

/* JSON Pointer patterns whose values to hide, or none. */
static int
check_redact_body(const char *s, char **cause)
{
	struct diff_redact	*r;
	char			*why = NULL, **w;
	int			 rc;

	w = config_split_words(s);
	rc = w[0] == NULL ? -1 : 0;
	config_free_words(w);
	if (rc == -1) {
		*cause = xstrdup("JSON Pointer patterns, such as "
		    "/**/password /card/number, or none");
		return (-1);
	}
	if (strcmp(s, "none") == 0)
		return (0);
	r = diff_redact_new();
	rc = diff_redact_add_paths(r, s, &why);
	diff_redact_free(r);
	if (rc == 0)
		return (0);
	*cause = xasprintf("JSON Pointer patterns, or none: %s", why);
	free(why);
	return (-1);
}

/*
 * Fields that the proxy writes itself or that frame the message: a
 * marker of one of these names would be dropped, or would break the
 * request it marks.
 */
static const char *const marker_reserved[] = {
	"host", "content-length", "transfer-encoding", "connection",
	"keep-alive", "proxy-connection", "te", "trailer", "upgrade",
	"expect", "x-forwarded-for", "x-forwarded-proto", "via"
};

/* "none", or "NAME: VALUE": a header name and a field value. */
static int
check_marker(const char *s, char **cause)
{
	const char	*colon, *v;
	char		*name;
	size_t		 i;
	int		 ok;

	if (strcmp(s, "none") == 0)
		return (0);
	if ((colon = strchr(s, ':')) == NULL || colon == s)
		goto bad;
	name = xstrndup(s, (size_t)(colon - s));
	ok = is_token(name);
	for (i = 0; ok && i < nitems(marker_reserved); i++)
		if (strcasecmp(name, marker_reserved[i]) == 0)
			ok = 0;
	free(name);
	if (!ok)
		goto bad;
	/* RFC 9110 5.5: visible characters, blanks only between them. */
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		continue;
	if (*v == '\0')
		goto bad;
	for (; *v != '\0'; v++)
		if (((unsigned char)*v < 0x21 && *v != ' ' && *v != '\t') ||
		    *v == 0x7f)
			goto bad;
	if (v[-1] == ' ' || v[-1] == '\t')
		goto bad;
	return (0);
bad:
	*cause = xstrdup("NAME: VALUE, a header of your own (not one that "
	    "shadowdiff writes or that frames a message) and its value, such "
	    "as " CONFIG_MARKER_DEFAULT ", or none");
	return (-1);
}

/* "client", "suffix", or host[:port]: a name, or an address. */
static int
check_shadow_host(const char *s, char **cause)
{
	if (strcmp(s, "client") == 0 || strcmp(s, "suffix") == 0 ||
	    util_host_valid(s, strlen(s)))
		return (0);
	*cause = xstrdup("client, suffix, or a host[:port] for the shadow's "
	    "Host header, such as api-shadow.internal or 10.0.0.7:8080");
	return (-1);
}
