/*
 * What the two test servers, sd-backend (tests/backend.c) and
 * sd-misbehave (tests/misbehave.c), share: reading a number and opening
 * their listener, which says its port on stdout ("port N\n") so that the
 * tests and scripts that start them know where to connect. libevent
 * only, none of the daemon's code.
 */
#ifndef TESTS_SERVERS_COMMON_H
#define TESTS_SERVERS_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/listener.h>

int	parse_uint(const char *, size_t, uint64_t, uint64_t *);
struct evconnlistener *server_listen(struct event_base *, const char *,
	    const char *, const char *, evconnlistener_cb, void *);
int	server_print_port(const char *, struct evconnlistener *);

#endif
