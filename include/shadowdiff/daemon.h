/*
 * daemon: the running daemon's state, and daemon_apply(), which puts a
 * config in service, at start and at every reload alike, the way nginx
 * builds a new cycle beside the old one. First everything that can fail
 * is prepared beside the running config (the admin endpoint, the
 * listening sockets of new addresses, the divergence log and the diff
 * threads, each worker's setup); a failure undoes what was prepared and
 * the running config stays. Then everything that cannot fail is
 * committed, and each worker is handed its setup.
 *
 * It never reads the config file (config_load does), never handles a
 * signal or starts a thread of its own (main.c does), and reaches a
 * worker only through worker_new() and worker_reload().
 */
#ifndef SHADOWDIFF_DAEMON_H
#define SHADOWDIFF_DAEMON_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "shadowdiff/admin.h"

struct config;
struct differ;
struct divlog;
struct event;
struct event_base;
struct slot;
struct worker;

/* The daemon: what main starts and stops, what daemon_apply changes. */
struct daemon {
	struct config	 *cfg;
	struct event_base *base;
	struct worker	**workers;
	size_t		  nworkers;
	struct slot	 *slots;
	size_t		  nslots;
	uint64_t	  slot_ids;
	int		  draining;
	uint64_t	  drain_start;
	struct event	 *ev_poll;
	struct divlog	 *divlog;	/* with a [shadow] only */
	uint64_t	  reloads_ok;
	uint64_t	  reloads_failed;
	struct differ	 *differ;
	int64_t		  start_us;	/* Unix time */

	struct admin_ops  admin_ops;	/* what it serves, set by main */
	struct admin	 *admin;	/* NULL: [admin] listen = none */
	struct sockaddr_storage admin_addr;	/* as configured */
	socklen_t	  admin_addrlen;
};

/*
 * Puts CFG in service; the daemon then holds the caller's reference to
 * it. 0, or -1 with *CAUSE and nothing changed.
 */
int	daemon_apply(struct daemon *, struct config *, char **);

#endif
