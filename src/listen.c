/*
 * listen: the daemon's listening sockets, a slot per [listen] address,
 * carried across reloads (see include/shadowdiff/listen.h). Main thread
 * only.
 */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shadowdiff/config.h"
#include "shadowdiff/daemon.h"
#include "shadowdiff/listen.h"
#include "shadowdiff/log.h"
#include "shadowdiff/util.h"

/* One listening socket on ADDR (its port fixed by the caller); -1 on error. */
static int
listen_socket(const struct sockaddr *sa, socklen_t len, int backlog)
{
	int	 fd, one = 1;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return (-1);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == -1 ||
	    (sa->sa_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &one, sizeof(one)) == -1) ||
	    bind(fd, sa, len) == -1 || listen(fd, backlog) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

/* Closes the sockets of SLOT and frees what it holds. */
static void
slot_close(struct slot *slot, size_t nworkers)
{
	size_t	 k;

	for (k = 0; k < nworkers; k++)
		if (slot->fds[k] != -1)
			close(slot->fds[k]);
	free(slot->fds);
	free(slot->text);
	slot->fds = NULL;
	slot->text = NULL;
}

/*
 * Opens the sockets of address L, one per worker; port 0 is resolved by
 * the first and reused for the others, so that all workers share it.
 * 0, or -1 with *CAUSE set and nothing left open.
 */
static int
slot_open(struct daemon *d, struct slot *slot, const struct config_listen *l,
    uint64_t backlog, char **cause)
{
	struct sockaddr_storage	 ss = l->addr;
	socklen_t		 len = l->addrlen;
	char			 buf[128];
	size_t			 k;

	slot->id = ++d->slot_ids;
	slot->addr = l->addr;
	slot->addrlen = l->addrlen;
	slot->text = xstrdup(l->text);
	slot->fds = xcalloc(d->nworkers, sizeof(*slot->fds));
	for (k = 0; k < d->nworkers; k++)
		slot->fds[k] = -1;
	for (k = 0; k < d->nworkers; k++) {
		slot->fds[k] = listen_socket((struct sockaddr *)&ss, len,
		    (int)backlog);
		if (slot->fds[k] == -1 || (k == 0 && getsockname(slot->fds[k],
		    (struct sockaddr *)&ss, &len) == -1)) {
			*cause = xasprintf("listen on %s: %s", l->text,
			    strerror(errno));
			slot_close(slot, d->nworkers);
			return (-1);
		}
	}
	log_info("listening on %s%s", util_sockaddr_str(&ss, buf, sizeof(buf)),
	    l->tls ? " (TLS)" : "");
	return (0);
}

/* The slot of D listening on address L, or NULL. */
static struct slot *
slot_find(struct daemon *d, const struct config_listen *l)
{
	size_t	 i;

	for (i = 0; i < d->nslots; i++)
		if (d->slots[i].addrlen == l->addrlen &&
		    memcmp(&d->slots[i].addr, &l->addr, l->addrlen) == 0)
			return (&d->slots[i]);
	return (NULL);
}

/* Whether SLOT (one of D's) is in SLOTS too. */
static int
slot_in(const struct slot *slot, const struct slot *slots, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (slots[i].id == slot->id)
			return (1);
	return (0);
}

/*
 * The slots for the [listen] addresses of CFG into *SLOTS: those of
 * addresses D listens on already are shared (with the backlog set
 * again), the others opened. Nothing of D changes until slots_commit;
 * slots_abort closes what this opened. 0, or -1 with *CAUSE.
 */
int
slots_prepare(struct daemon *d, const struct config *cfg,
    struct slot **slots, char **cause)
{
	struct slot	*old;
	size_t		 i, k;

	*slots = xcalloc(cfg->nlisten, sizeof(**slots));
	for (i = 0; i < cfg->nlisten; i++) {
		if ((old = slot_find(d, &cfg->listen[i])) == NULL)
			continue;
		(*slots)[i] = *old;
		/* Another listen(2) sets the backlog of a listening socket. */
		for (k = 0; k < d->nworkers && old->fds != NULL; k++)
			if (listen(old->fds[k], (int)cfg->backlog) == -1)
				log_warn("listen on %s: backlog", old->text);
	}
	for (i = 0; i < cfg->nlisten; i++)
		if ((*slots)[i].fds == NULL && slot_open(d, &(*slots)[i],
		    &cfg->listen[i], cfg->backlog, cause) == -1) {
			slots_abort(d, *slots, cfg->nlisten);
			return (-1);
		}
	return (0);
}

/* Closes every listening socket of D (the workers close their own). */
void
slots_close_all(struct daemon *d)
{
	size_t	 i;

	for (i = 0; i < d->nslots; i++)
		slot_close(&d->slots[i], d->nworkers);
	free(d->slots);
	d->slots = NULL;
	d->nslots = 0;
}

/* Closes what slots_prepare opened and frees SLOTS. */
void
slots_abort(struct daemon *d, struct slot *slots, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (slots[i].fds != NULL && !slot_in(&slots[i], d->slots,
		    d->nslots))
			slot_close(&slots[i], d->nworkers);
	free(slots);
}

/*
 * SLOTS become D's. The sockets of addresses no longer there are closed
 * here; each worker closes its own when it takes the reload, and then
 * the address refuses connections (those established go on).
 */
void
slots_commit(struct daemon *d, struct slot *slots, size_t n)
{
	size_t	 i;

	for (i = 0; i < d->nslots; i++)
		if (!slot_in(&d->slots[i], slots, n)) {
			log_info("no longer listening on %s",
			    d->slots[i].text);
			slot_close(&d->slots[i], d->nworkers);
		}
	free(d->slots);
	d->slots = slots;
	d->nslots = n;
}
