/*
 * config: the INI file parsed into one immutable, reference-counted
 * struct config. Every key is declared once, in the option table in
 * src/config-table.c, with its type, default and bounds; parsing,
 * validation and the documentation (docs/configuration.md) follow that
 * table. Reading is src/config.c; route matching src/route.c.
 */
#ifndef SHADOWDIFF_CONFIG_H
#define SHADOWDIFF_CONFIG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

struct diff_rules;
struct ssl_ctx_st;
struct tls_cert;

#define CONFIG_DEFAULT_PATH	SYSCONFDIR "/shadowdiff/shadowdiff.conf"
/* [shadow] marker: what every copy of a request carries, by default. */
#define CONFIG_MARKER_DEFAULT	"X-Shadowdiff-Shadow: 1"
/* [shadow] host = suffix: after the client's host name (Envoy's). */
#define CONFIG_HOST_SUFFIX	"-shadow"

/* One `address = host:port [tls]` of [listen]. */
struct config_listen {
	char			*text;		/* the address, for messages */
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	int			 tls;		/* clients speak TLS */
};

/* Certificates given as "CHAIN KEY", loaded when the file is read. */
struct config_certs {
	struct tls_cert		**v;
	size_t			  n;
};

/* A backend: [primary] or [shadow]. */
struct config_backend {
	char		*url;		/* as written; NULL: not set */
	char		*host;		/* host part of the URL */
	char		*port;		/* port part, or the scheme's default */
	char		*hostport;	/* "host:port" for messages */
	int		 tls;		/* https */
	struct sockaddr_storage addr;	/* resolved when the file is read */
	socklen_t	 addrlen;
	uint64_t	 connect_timeout_ms;
	uint64_t	 read_timeout_ms;
	uint64_t	 idle_timeout_ms;
	uint64_t	 pool_size;	/* idle connections kept per worker */
	/* https only */
	char		*ca_file;	/* "": the system's CAs */
	int		 verify;	/* the backend's certificate */
	struct config_certs cert;	/* ours, for mutual TLS (n <= 1) */
	struct ssl_ctx_st *tls_ctx;	/* made of the three above */
};

/* A [route NAME] section: which requests it matches and its diff rules. */
struct config_route {
	char			*name;
	char			*match;		/* path pattern */
	char			**segments;	/* the pattern split on '/' */
	char			**methods;	/* NULL-terminated, or NULL: all */
	/* Methods mirrored: NULL: [shadow] methods; { NULL }: none. */
	char			**mirror_methods;
	struct diff_rules	*rules;
	struct diff_redact	*redact;	/* NULL: [log]'s */
	unsigned int		 line;		/* where the section starts */
	size_t			 stat_id;	/* its figures (stats.h) */
};

struct config {
	atomic_int		 refs;
	char			*path;
	uint64_t		 generation;	/* 1 at start, +1 per reload */

	/* [server] */
	uint64_t		 workers;
	uint64_t		 drain_timeout_ms;
	char			*request_id_header;

	/* [listen] */
	struct config_listen	*listen;
	size_t			 nlisten;
	uint64_t		 backlog;
	uint64_t		 max_connections;	/* per daemon */

	/* [tls]: the listeners' context, NULL when none speaks TLS */
	struct config_certs	 tls_certs;	/* the first: the default */
	char			**tls_protocols;
	char			*tls_ciphers;
	char			*tls_ciphersuites;
	uint64_t		 tls_handshake_timeout_ms;
	struct ssl_ctx_st	*tls_ctx;

	/* [admin]: no admin endpoint when admin.text is NULL */
	struct config_listen	 admin;

	/* [primary] */
	struct config_backend	 primary;

	/* [shadow]: mirroring is off when shadow.url is NULL */
	struct config_backend	 shadow;
	uint64_t		 shadow_timeout_ms;	/* whole exchange */
	double			 sample;		/* fraction mirrored */
	char			*sample_key;		/* as written, "" none */
	int			 sample_key_query;	/* query:, else header: */
	const char		*sample_key_name;	/* in sample_key */
	char			**mirror_methods;
	uint64_t		 max_inflight;		/* per worker */
	uint64_t		 mirror_max_body;	/* request bodies */
	uint64_t		 shadow_max_response;	/* too_large past it */
	char			*shadow_marker;		/* as written */
	char			*marker_name;		/* NULL: none */
	const char		*marker_value;		/* in shadow_marker */
	char			*shadow_host;		/* as written */
	const char		*shadow_host_fixed;	/* host = NAME */
	const char		*shadow_host_suffix;	/* host = suffix */

	/* [limits] */
	uint64_t		 max_header_bytes;
	uint64_t		 max_header_count;
	uint64_t		 max_request_body;
	uint64_t		 client_header_timeout_ms;
	uint64_t		 client_body_timeout_ms;
	uint64_t		 keepalive_timeout_ms;
	uint64_t		 send_timeout_ms;

	/* [diff] and [route NAME] */
	struct diff_rules	*diff_rules;	/* global rules */
	uint64_t		 diff_max_body;	/* captured per response */
	uint64_t		 diff_threads;
	uint64_t		 diff_queue;	/* exchanges waiting */
	uint64_t		 diff_queue_memory; /* their bytes */
	struct config_route	*routes;
	size_t			 nroutes;

	/* [log] */
	char			*log_path;	/* "-": standard output */
	double			 log_matches;	/* share of matches written */
	char			*log_request;	/* as written */
	int			 log_request_headers;
	int			 log_request_body;
	char			**redact_headers; /* as written */
	char			**redact_query;	/* as written; "none" */
	char			*redact_body;	/* patterns as written */
	int			 redact_body_words; /* secret member names */
	struct diff_redact	*redact;	/* the policy built of them */
	uint64_t		 log_value_limit;
	uint64_t		 log_queue;
	uint64_t		 log_queue_memory;
};

/* Parses and validates FILE; NULL with *cause ("file:line: ...") on error. */
struct config	*config_load(const char *, char **);
struct config	*config_ref(struct config *);
void		 config_unref(struct config *);

/* Whether a listening address is a loopback one (127/8, ::1). */
int		config_addr_loopback(const struct config_listen *);
/* The first route whose pattern and methods match, or NULL. */
const struct config_route *config_route_match(const struct config *,
		    const char *, size_t, const char *);
/* Whether METHOD is mirrored for ROUTE (NULL: no route). */
int		config_mirrors_method(const struct config *,
		    const struct config_route *, const char *);
/*
 * Whether two backends are the same for the connections pooled to them
 * (URL, timeouts, pool size): a reload keeps the pools of equal ones,
 * whose new connections take the new TLS settings.
 */
int		config_backend_eq(const struct config_backend *,
		    const struct config_backend *);
/* The route named NAME, or NULL. */
const struct config_route *config_route_find(const struct config *,
		    const char *);

/* Value parsers: 0, or -1 with the reason in *cause (allocated). */
int	config_parse_duration(const char *, uint64_t *, char **);
int	config_parse_size(const char *, uint64_t *, char **);
int	config_parse_percent(const char *, double *, char **);
int	config_parse_bool(const char *, int *, char **);
/* Splits a whitespace-separated list into a NULL-terminated array. */
char	**config_split_words(const char *);
void	 config_free_words(char **);

#endif
