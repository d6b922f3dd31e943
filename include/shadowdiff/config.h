/*
 * config: the INI file parsed into one immutable, reference-counted
 * struct config. Every key is declared once, in the option table in
 * src/config.c, with its type, default and bounds; parsing, validation
 * and the documentation (docs/configuration.md) follow that table.
 */
#ifndef SHADOWDIFF_CONFIG_H
#define SHADOWDIFF_CONFIG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

struct diff_rules;

#define CONFIG_DEFAULT_PATH	SYSCONFDIR "/shadowdiff/shadowdiff.conf"

/* One `address = host:port` of [listen]. */
struct config_listen {
	char			*text;		/* as written, for messages */
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
};

/* A backend: [primary] (and later [shadow]). */
struct config_backend {
	char		*url;		/* as written */
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
};

/* A [route NAME] section: which requests it matches and its diff rules. */
struct config_route {
	char			*name;
	char			*match;		/* path pattern */
	char			**segments;	/* the pattern split on '/' */
	char			**methods;	/* NULL-terminated, or NULL: all */
	struct diff_rules	*rules;
	unsigned int		 line;		/* where the section starts */
};

struct config {
	atomic_int		 refs;
	char			*path;
	uint64_t		 generation;

	/* [server] */
	uint64_t		 workers;
	uint64_t		 drain_timeout_ms;

	/* [listen] */
	struct config_listen	*listen;
	size_t			 nlisten;
	uint64_t		 backlog;
	uint64_t		 max_connections;	/* per daemon */

	/* [primary] */
	struct config_backend	 primary;

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
	struct config_route	*routes;
	size_t			 nroutes;
};

/* Parses and validates FILE; NULL with *cause ("file:line: ...") on error. */
struct config	*config_load(const char *, char **);
struct config	*config_ref(struct config *);
void		 config_unref(struct config *);

/* The first route whose pattern and methods match, or NULL. */
const struct config_route *config_route_match(const struct config *,
		    const char *, size_t, const char *);
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
