/*
 * What the test servers share: see servers-common.h.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "servers-common.h"

/*
 * Parses LEN decimal digits at S, at most MAX, into *OUT; 0 on success,
 * -1 if invalid.
 */
int
parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t	v = 0;
	size_t		i;

	if (len == 0 || len > 20)
		return (-1);
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		if (v > (max - (uint64_t)(s[i] - '0')) / 10)
			return (-1);
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return (0);
}

/*
 * Listens on ADDRESS:PORT (port 0: one the kernel chooses) with CB and
 * ARG for accepted connections; the listener, or NULL after a message
 * on stderr that starts with NAME.
 */
struct evconnlistener *
server_listen(struct event_base *base, const char *name, const char *address,
    const char *port, evconnlistener_cb cb, void *arg)
{
	struct sockaddr_storage	 ss;
	struct evconnlistener	*lev;
	uint64_t		 want;
	int			 len;

	/* evutil_parse_sockaddr_port refuses port 0: set the port apart. */
	len = (int)sizeof(ss);
	memset(&ss, 0, sizeof(ss));
	if (parse_uint(port, strlen(port), 65535, &want) == -1 ||
	    evutil_parse_sockaddr_port(address, (struct sockaddr *)&ss,
	    &len) == -1) {
		fprintf(stderr, "%s: bad address %s port %s\n", name, address,
		    port);
		return (NULL);
	}
	if (ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)want);
	else
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)want);
	lev = evconnlistener_new_bind(base, cb, arg,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE,
	    -1, (struct sockaddr *)&ss, len);
	if (lev == NULL)
		fprintf(stderr, "%s: listen on %s port %s: %s\n", name,
		    address, port, strerror(errno));
	return (lev);
}

/*
 * Prints "port N\n" on stdout, N the port LEV listens on; 0, or -1
 * after a message on stderr that starts with NAME.
 */
int
server_print_port(const char *name, struct evconnlistener *lev)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);
	unsigned int		 bound;

	if (getsockname(evconnlistener_get_fd(lev), (struct sockaddr *)&ss,
	    &sslen) == -1) {
		fprintf(stderr, "%s: getsockname: %s\n", name, strerror(errno));
		return (-1);
	}
	if (ss.ss_family == AF_INET6)
		bound = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	else
		bound = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	printf("port %u\n", bound);
	fflush(stdout);
	return (0);
}
