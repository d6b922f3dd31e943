/*
 * route: the path patterns of [route NAME] sections ('*' one segment,
 * '**' the rest) and the matching of a request to its route: the first
 * whose pattern and methods match. Routes are part of the immutable
 * struct config, so matching takes no lock and allocates nothing.
 *
 * It never reads the file nor creates a route (config.c does), and
 * never touches a route's diff rules (the diff engine's).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "shadowdiff/config.h"
#include "shadowdiff/util.h"

#include "config-internal.h"

/* Splits a route's path pattern into segments after checking it. */
int
route_set_match(struct config_route *r, const char *value, char **cause)
{
	char	**segs;
	size_t	  i;

	if (value[0] != '/' || strpbrk(value, " \t?#") != NULL) {
		*cause = xstrdup("a path pattern starting with '/', such as "
		    "/users/* or /api/**");
		return (-1);
	}
	segs = xcalloc(strlen(value) + 1, sizeof(*segs));
	{
		const char	*s = value + 1;
		size_t		 n = 0, len;

		for (;;) {
			len = strcspn(s, "/");
			segs[n++] = xstrndup(s, len);
			if (s[len] == '\0')
				break;
			s += len + 1;
		}
	}
	for (i = 0; segs[i] != NULL; i++) {
		if (strcmp(segs[i], "**") == 0 && segs[i + 1] != NULL) {
			*cause = xstrdup("a path pattern with '**' only as "
			    "its last segment, such as /api/**");
			goto fail;
		}
		if (strchr(segs[i], '*') != NULL && strcmp(segs[i], "*") != 0 &&
		    strcmp(segs[i], "**") != 0) {
			*cause = xstrdup("a path pattern whose '*' stands for "
			    "a whole segment, such as /users/*/orders");
			goto fail;
		}
	}
	free(r->match);
	config_free_words(r->segments);
	r->match = xstrdup(value);
	r->segments = segs;
	return (0);
fail:
	config_free_words(segs);
	return (-1);
}

/* Whether PATH (LEN bytes, no query) matches the route's segments. */
static int
route_matches_path(const struct config_route *r, const char *path,
    size_t len)
{
	const char	*s = path, *end = path + len, *slash;
	size_t		 i, seglen;

	if (len == 0 || *s != '/')
		return (0);
	s++;
	for (i = 0; r->segments[i] != NULL; i++) {
		if (strcmp(r->segments[i], "**") == 0)
			return (1);
		if (s > end)
			return (0);
		slash = memchr(s, '/', (size_t)(end - s));
		seglen = slash ? (size_t)(slash - s) : (size_t)(end - s);
		if (strcmp(r->segments[i], "*") == 0) {
			if (seglen == 0)
				return (0);
		} else if (strlen(r->segments[i]) != seglen ||
		    memcmp(r->segments[i], s, seglen) != 0)
			return (0);
		s += seglen + 1;
	}
	return (s > end);
}

/* The first route whose pattern and methods match, or NULL. */
const struct config_route *
config_route_match(const struct config *cfg, const char *path, size_t len,
    const char *method)
{
	const struct config_route	*r;
	const char			*q;
	size_t				 i, j;

	if ((q = memchr(path, '?', len)) != NULL)
		len = (size_t)(q - path);
	for (i = 0; i < cfg->nroutes; i++) {
		r = &cfg->routes[i];
		if (!route_matches_path(r, path, len))
			continue;
		if (r->methods == NULL)
			return (r);
		for (j = 0; r->methods[j] != NULL; j++)
			if (strcmp(r->methods[j], method) == 0)
				return (r);
	}
	return (NULL);
}

/* The route named NAME, or NULL. */
const struct config_route *
config_route_find(const struct config *cfg, const char *name)
{
	size_t	 i;

	for (i = 0; i < cfg->nroutes; i++)
		if (strcmp(cfg->routes[i].name, name) == 0)
			return (&cfg->routes[i]);
	return (NULL);
}

/* Whether METHOD is mirrored for ROUTE (NULL: no route). */
int
config_mirrors_method(const struct config *cfg,
    const struct config_route *route, const char *method)
{
	char	**m = cfg->mirror_methods;
	size_t	  i;

	if (route != NULL && route->mirror_methods != NULL)
		m = route->mirror_methods;
	for (i = 0; m[i] != NULL; i++)
		if (strcmp(m[i], method) == 0)
			return (1);
	return (0);
}
