/*
 * listen: the daemon's listening sockets, a slot per [listen] address,
 * owned by the main thread and carried across reloads, so that a reload
 * never refuses a connection on an address it keeps (as nginx carries
 * its listening sockets over to the new cycle). A reload prepares the
 * slots of the new config beside the running ones, opening only new
 * addresses, then commits them (removed addresses are closed) or aborts
 * (what it opened is closed, nothing else changes).
 *
 * It never accepts a connection and never closes a worker's descriptor
 * (workers accept, each on its own dup of a slot's socket).
 */
#ifndef SHADOWDIFF_LISTEN_H
#define SHADOWDIFF_LISTEN_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

struct config;
struct daemon;

/*
 * A [listen] address: a socket per worker (SO_REUSEPORT), kept open
 * here across reloads for as long as the address stays in the config.
 * Each worker listens on a descriptor of its own (a dup) that it closes
 * itself, so that no descriptor number is ever closed by two threads.
 */
struct slot {
	uint64_t		 id;
	struct sockaddr_storage	 addr;		/* as configured */
	socklen_t		 addrlen;
	char			*text;
	int			*fds;		/* [worker] */
};

/*
 * The slots for CFG's [listen] addresses into *SLOTS: kept ones shared,
 * new ones opened. 0, or -1 with *CAUSE and nothing left open.
 */
int	slots_prepare(struct daemon *, const struct config *, struct slot **,
	    char **);
/* SLOTS (from slots_prepare) become the daemon's; removed ones close. */
void	slots_commit(struct daemon *, struct slot *, size_t);
/* Closes what slots_prepare opened and frees SLOTS. */
void	slots_abort(struct daemon *, struct slot *, size_t);
/* Closes every slot of the daemon (the workers close their own dups). */
void	slots_close_all(struct daemon *);

#endif
