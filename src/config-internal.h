/*
 * config-internal: what the files of the config module share and no
 * other module sees: the option table's types and rows (config-table.c)
 * and the route pattern's parser (route.c). The config's public
 * interface is include/shadowdiff/config.h.
 */
#ifndef SHADOWDIFF_CONFIG_INTERNAL_H
#define SHADOWDIFF_CONFIG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

struct config_route;

enum option_type {
	OPT_DURATION,
	OPT_SIZE,
	OPT_UINT,
	OPT_URL,
	OPT_LISTEN,
	OPT_ADDRESS,	/* one struct config_listen; "none": text NULL */
	OPT_PERCENT,	/* a double, 0 to 1 */
	OPT_STRING,	/* a char *, checked by the option's check */
	OPT_WORDS,	/* a char **, each word checked */
	OPT_BOOL,	/* an int, 0 or 1 */
	OPT_CERT	/* a struct config_certs: one more each time */
};

struct option {
	const char		*section;
	const char		*key;
	enum option_type	 type;
	size_t			 offset;	/* into struct config */
	const char		*def;		/* NULL: required */
	uint64_t		 min;
	uint64_t		 max;
	int			 repeat;	/* may be given several times */
	/* For OPT_STRING and OPT_WORDS: 0, or -1 with *cause. */
	int			(*check)(const char *, char **);
};

/* Every key of the fixed sections, and how many there are. */
extern const struct option	config_options[];
extern const size_t		config_noptions;

/* One method of a methods list: a token in capitals. */
int	config_check_method(const char *, char **);
/* Splits a route's path pattern into segments after checking it. */
int	route_set_match(struct config_route *, const char *, char **);

#endif
