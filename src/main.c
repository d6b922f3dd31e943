/*
 * shadowdiff: command line, start-up, signals, and the worker threads'
 * start and stop. The main thread does no request work.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "shadowdiff/admin.h"
#include "shadowdiff/config.h"
#include "shadowdiff/differ.h"
#include "shadowdiff/divlog.h"
#include "shadowdiff/log.h"
#include "shadowdiff/notify.h"
#include "shadowdiff/report.h"
#include "shadowdiff/stats.h"
#include "shadowdiff/tls.h"
#include "shadowdiff/util.h"
#include "shadowdiff/worker.h"

#define MAIN_POLL_MS	50	/* how often a drain looks for the end */

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

	struct admin	 *admin;	/* NULL: [admin] listen = none */
	struct sockaddr_storage admin_addr;	/* as configured */
	socklen_t	  admin_addrlen;
};

/*
 * The SIGTERM or SIGINT received, set by the handler itself: /healthz
 * says 503 from that instant. Through libevent's signal events the flag
 * would be set only once the loop ran the event, and a /healthz read in
 * the same turn of the loop would still be told 200. The handler then
 * wakes the loop through stop_pipe, which starts the drain.
 */
static atomic_int	stop_signal;
static int		stop_pipe[2] = { -1, -1 };

static void	slots_abort(struct daemon *, struct slot *, size_t);
static int	daemon_apply(struct daemon *, struct config *, char **);
static void	raise_nofile(const struct config *, size_t);

static void
usage(FILE *f)
{
	fprintf(f, "usage: shadowdiff [-dhtV] [-c file]\n"
	    "  -c file  configuration file (default %s)\n"
	    "  -d       debug messages\n"
	    "  -t       check the configuration file and exit\n"
	    "  -V       print the version and exit\n"
	    "  -h       this help\n", CONFIG_DEFAULT_PATH);
}

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
static int
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
static void
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
static void
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
static void
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

/*
 * What worker K is handed: CFG, and its own descriptor for each of the
 * slots. NULL and *CAUSE when a descriptor could not be had.
 */
static struct worker_setup *
setup_new(struct daemon *d, size_t k, struct config *cfg,
    const struct slot *slots, size_t nslots, char **cause)
{
	struct worker_setup	*setup;
	size_t			 i;

	setup = xcalloc(1, sizeof(*setup));
	setup->cfg = config_ref(cfg);
	setup->differ = d->differ;
	setup->socks = xcalloc(nslots, sizeof(*setup->socks));
	for (i = 0; i < nslots; i++) {
		setup->socks[i].id = slots[i].id;
		setup->socks[i].tls = cfg->listen[i].tls;
		setup->socks[i].fd = fcntl(slots[i].fds[k], F_DUPFD_CLOEXEC, 0);
		if (setup->socks[i].fd == -1) {
			*cause = xasprintf("listen on %s: %s", slots[i].text,
			    strerror(errno));
			worker_setup_free(setup);
			return (NULL);
		}
		setup->nsocks++;
	}
	return (setup);
}

/* Waits for the workers to finish draining, or stops them at the timeout. */
static void
poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon	*d = arg;
	struct timeval	 tv = { 0, MAIN_POLL_MS * 1000 };
	size_t		 i;

	if (atomic_load(&worker_running) == 0) {
		event_base_loopexit(d->base, NULL);
		return;
	}
	if (util_now_ms() - d->drain_start >= d->cfg->drain_timeout_ms) {
		log_warnx("drain timeout: closing %zu connections",
		    atomic_load(&worker_total_conns));
		for (i = 0; i < d->nworkers; i++)
			worker_stop(d->workers[i]);
	}
	evtimer_add(d->ev_poll, &tv);
}

/* The handler of SIGTERM and SIGINT: draining from now on. */
static void
stop_handler(int sig)
{
	int	 saved_errno = errno;

	atomic_store(&stop_signal, sig);
	/* Full, the pipe has a byte to wake the loop already. */
	(void)write(stop_pipe[1], "", 1);
	errno = saved_errno;
}

/* Whether a SIGTERM or SIGINT came: /healthz fails, /stats says so. */
static int
stopping(const struct daemon *d)
{
	return (d->draining || atomic_load(&stop_signal) != 0);
}

/* SIGTERM, SIGINT, woken by stop_handler: stop accepting, drain. */
static void
signal_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon	*d = arg;
	struct timeval	 tv = { 0, 0 };
	char		 buf[16];
	size_t		 i;

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	if (d->draining)
		return;
	d->draining = 1;
	log_info("%s: draining (at most %llums)",
	    strsignal(atomic_load(&stop_signal)),
	    (unsigned long long)d->cfg->drain_timeout_ms);
	if (notify_send("STOPPING=1") == -1)
		log_warn("sd_notify STOPPING=1");
	d->drain_start = util_now_ms();
	for (i = 0; i < d->nworkers; i++)
		worker_drain(d->workers[i]);
	/* Each address closes as the last worker frees its listener. */
	slots_close_all(d);
	evtimer_add(d->ev_poll, &tv);
}

/*
 * SIGHUP: reads the file again. An invalid file changes nothing: the
 * running config stays and the errors are logged with file:line. A
 * valid one goes into service (see daemon_apply): requests that start
 * afterwards use it, exchanges in flight finish with the one they
 * started with, and no connection is dropped.
 */
static void
signal_hup_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon	*d = arg;
	struct config	*cfg;
	char		*cause = NULL;

	if (d->draining)
		return;
	(void)notify_reloading();
	if ((cfg = config_load(d->cfg->path, &cause)) != NULL) {
		cfg->generation = d->cfg->generation + 1;
		if (daemon_apply(d, cfg, &cause) == -1) {
			config_unref(cfg);
			cfg = NULL;
		}
	}
	if (cfg == NULL) {
		d->reloads_failed++;
		log_warnx("SIGHUP: reload failed, configuration %llu stays:\n%s",
		    (unsigned long long)d->cfg->generation, cause);
		free(cause);
	} else {
		d->reloads_ok++;
		log_info("SIGHUP: configuration %llu loaded from %s",
		    (unsigned long long)cfg->generation, cfg->path);
	}
	(void)notify_send("READY=1\nSTATUS=serving");
}

/*
 * Raises the descriptor limit to what the config can use at once: a
 * client and a primary connection per max_connections, and per worker
 * its pools, its shadow mirrors and its listeners. A hanging shadow
 * holds max_inflight connections per worker for its whole timeout; if
 * they could take the descriptors that clients need, say so at start.
 */
static void
raise_nofile(const struct config *cfg, size_t nworkers)
{
	static rlim_t	 warned;	/* a reload says it again if worse */
	struct rlimit	 rl;
	rlim_t		 need;

	need = (rlim_t)(2 * cfg->max_connections + nworkers *
	    (cfg->primary.pool_size + cfg->nlisten + (cfg->shadow.url != NULL ?
	    cfg->shadow.pool_size + cfg->max_inflight : 0)) + 64);
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("setrlimit RLIMIT_NOFILE");
	}
	if (rl.rlim_cur < need && need > warned) {
		warned = need;
		log_warnx("open files limited to %llu, the configuration can "
		    "use %llu (max_connections, pools, max_inflight): raise "
		    "the limit (LimitNOFILE=) or lower max_connections",
		    (unsigned long long)rl.rlim_cur,
		    (unsigned long long)need);
	}
}

/* SIGUSR1: reopen the divergence log (logrotate moved it). */
static void
signal_usr1_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon	*d = arg;

	if (d->divlog != NULL) {
		log_info("SIGUSR1: reopening the divergence log");
		divlog_reopen(d->divlog);
	}
}

/* A counter summed over the workers. */
static unsigned long long
sum(const struct daemon *d, enum stats_counter which)
{
	unsigned long long	 n = 0;
	size_t			 i;

	for (i = 0; i < d->nworkers; i++)
		n += stats_get(&d->workers[i]->stats, which);
	return (n);
}

/*
 * At exit: what was mirrored and what was not, and why, so that nothing
 * is dropped silently (the admin endpoint shows the same, live).
 */
static void
log_mirror_counts(const struct daemon *d)
{
	log_info("mirrored %llu requests; not mirrored: %llu sampled out, "
	    "%llu method, %llu body over max_body, %llu at max_inflight, "
	    "%llu shadow down, %llu upgrade; %llu abandoned (client gone or "
	    "primary failed), %llu dropped (too busy to read the shadow in "
	    "time)", sum(d, STAT_MIRRORED),
	    sum(d, STAT_NOT_MIRRORED_SAMPLED), sum(d, STAT_NOT_MIRRORED_METHOD),
	    sum(d, STAT_NOT_MIRRORED_BODY), sum(d, STAT_NOT_MIRRORED_INFLIGHT),
	    sum(d, STAT_NOT_MIRRORED_DOWN), sum(d, STAT_NOT_MIRRORED_UPGRADE),
	    sum(d, STAT_MIRROR_ABANDONED), sum(d, STAT_MIRROR_OVERLOADED));
	log_info("shadow: %llu answered; errors: %llu timeout, %llu refused, "
	    "%llu reset, %llu bad response, %llu too large, %llu tls",
	    sum(d, STAT_SHADOW_OK), sum(d, STAT_SHADOW_TIMEOUT),
	    sum(d, STAT_SHADOW_REFUSED), sum(d, STAT_SHADOW_RESET),
	    sum(d, STAT_SHADOW_BAD_RESPONSE), sum(d, STAT_SHADOW_TOO_LARGE),
	    sum(d, STAT_SHADOW_TLS));
}

/*
 * The divergence log and the diff threads once CFG has a [shadow] (a
 * reload may add one); their settings changed by a reload go to them in
 * diffing_commit. 0, or -1 with *CAUSE: the log cannot be opened.
 */
static int
diffing_prepare(struct daemon *d, const struct config *cfg, char **cause)
{
	if (cfg->shadow.url == NULL)
		return (0);
	if (d->divlog == NULL) {
		if ((d->divlog = divlog_open(cfg->log_path, cfg->log_queue,
		    cfg->log_queue_memory, cause)) == NULL)
			return (-1);
		d->differ = differ_new(cfg->diff_threads, cfg->diff_queue,
		    cfg->diff_queue_memory, d->divlog);
		return (0);
	}
	return (divlog_check_path(cfg->log_path, cause));
}

/* Stops what diffing_prepare started for a reload that then failed. */
static void
diffing_undo(struct daemon *d)
{
	differ_free(d->differ, NULL);
	divlog_close(d->divlog, 0);
	d->differ = NULL;
	d->divlog = NULL;
}

/* Hands the settings of CFG to the log writer and the diff threads. */
static void
diffing_commit(struct daemon *d, const struct config *cfg)
{
	if (d->divlog == NULL)
		return;
	if (divlog_configure(d->divlog, cfg->log_path, cfg->log_queue,
	    cfg->log_queue_memory))
		log_info("divergence log: now %s", cfg->log_path);
	differ_configure(d->differ, cfg->diff_threads, cfg->diff_queue,
	    cfg->diff_queue_memory);
}

/* Says where requests go from now on when a reload changed a backend. */
static void
log_backend_change(const char *name, const struct config_backend *old,
    const struct config_backend *new)
{
	if (config_backend_eq(old, new))
		return;
	if (new->url == NULL)
		log_info("%s %s removed: mirrors in flight finish there", name,
		    old->url);
	else
		log_info("%s: now %s; requests in flight to %s finish there, "
		    "then its connections close", name, new->url,
		    old->url != NULL ? old->url : "none");
}

/* What the admin endpoint reports from. */
static void
admin_src(const struct daemon *d, struct report_src *src)
{
	memset(src, 0, sizeof(*src));
	src->workers = d->workers;
	src->nworkers = d->nworkers;
	src->differ = d->differ;
	src->divlog = d->divlog;
	src->cfg = d->cfg;
	src->reloads_ok = d->reloads_ok;
	src->reloads_failed = d->reloads_failed;
	src->start_us = d->start_us;
	src->draining = stopping(d);
	src->admin_evicted = d->admin != NULL ? admin_evicted(d->admin) : 0;
}

static void
admin_metrics(void *arg, struct evbuffer *out)
{
	struct report_src	 src;

	admin_src(arg, &src);
	report_metrics(&src, out);
}

static void
admin_stats(void *arg, struct evbuffer *out)
{
	struct report_src	 src;

	admin_src(arg, &src);
	report_stats(&src, out);
}

static int
admin_healthy(void *arg)
{
	return (!stopping(arg));
}

/*
 * The admin endpoint for CFG into *ADMIN: the one running if its address
 * is the same, else a new one (NULL for none). 0, or -1 with *CAUSE.
 */
static int
admin_prepare(struct daemon *d, const struct config *cfg,
    struct admin **admin, char **cause)
{
	struct admin_ops	 ops = {
		admin_metrics, admin_stats, admin_healthy, d
	};
	const struct config_listen *l = &cfg->admin;
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	char			 buf[128];

	*admin = NULL;
	if (l->text == NULL)
		return (0);
	if (d->admin != NULL && d->admin_addrlen == l->addrlen &&
	    memcmp(&d->admin_addr, &l->addr, l->addrlen) == 0) {
		*admin = d->admin;
		return (0);
	}
	if ((*admin = admin_new(d->base, (const struct sockaddr *)&l->addr,
	    l->addrlen, &ops, cause)) == NULL)
		return (-1);
	if (admin_sockaddr(*admin, &ss, &len) == 0)
		log_info("admin endpoint on %s",
		    util_sockaddr_str(&ss, buf, sizeof(buf)));
	/* Anyone who reaches it sees the traffic's figures: say so. */
	if (!config_addr_loopback(l))
		log_warnx("[admin] listen = %s is not a loopback address: "
		    "the metrics of the traffic are open to its network",
		    l->text);
	return (0);
}

/* ADMIN, from admin_prepare, replaces the running one. */
static void
admin_commit(struct daemon *d, const struct config *cfg, struct admin *admin)
{
	if (admin == d->admin)
		return;
	if (d->admin != NULL && admin == NULL)
		log_info("admin endpoint closed");
	admin_free(d->admin);
	d->admin = admin;
	if (admin != NULL) {
		d->admin_addr = cfg->admin.addr;
		d->admin_addrlen = cfg->admin.addrlen;
	}
}

/*
 * Says at every start and reload what TLS is in use, and warns of each
 * backend whose certificate is not verified (someone wrote verify = no).
 */
static void
log_tls(const struct config *cfg)
{
	const struct config_backend	*b[] = { &cfg->primary, &cfg->shadow };
	const char			*name[] = { "primary", "shadow" };
	size_t				 i;

	for (i = 0; i < cfg->tls_certs.n && cfg->tls_ctx != NULL; i++)
		log_info("TLS certificate%s: %s", i == 0 ? " (default)" : "",
		    tls_cert_name(cfg->tls_certs.v[i]));
	for (i = 0; i < nitems(b); i++)
		if (b[i]->url != NULL && b[i]->tls && !b[i]->verify)
			log_warnx("[%s] verify = no: the certificate of %s is "
			    "not checked; anyone on the path can answer for "
			    "it", name[i], b[i]->hostport);
}

/*
 * Puts CFG in service, at start (the workers are created) or at a
 * reload (they are handed it): the sockets of new [listen] addresses
 * are opened and those of removed ones closed, the log and diff
 * settings applied, and each worker changes the pools of changed
 * backends. Anything that can fail is done first: 0, or -1 with
 * *CAUSE and nothing changed. [server] workers takes a restart: a
 * reload warns and goes on with the workers it has.
 */
static int
daemon_apply(struct daemon *d, struct config *cfg, char **cause)
{
	struct worker_setup	**setups;
	struct slot		 *slots;
	struct admin		 *admin;
	size_t			  k;
	int			  fresh = d->divlog == NULL;

	if (admin_prepare(d, cfg, &admin, cause) == -1)
		return (-1);
	if (slots_prepare(d, cfg, &slots, cause) == -1)
		goto fail_admin;
	/* Last: it may start the log writer and the diff threads. */
	if (diffing_prepare(d, cfg, cause) == -1)
		goto fail_slots;
	setups = xcalloc(d->nworkers, sizeof(*setups));
	for (k = 0; k < d->nworkers; k++)
		if ((setups[k] = setup_new(d, k, cfg, slots, cfg->nlisten,
		    cause)) == NULL) {
			while (k-- > 0)
				worker_setup_free(setups[k]);
			free(setups);
			if (fresh)
				diffing_undo(d);
			goto fail_slots;
		}

	slots_commit(d, slots, cfg->nlisten);
	admin_commit(d, cfg, admin);
	diffing_commit(d, cfg);
	raise_nofile(cfg, d->nworkers);
	log_tls(cfg);
	if (d->cfg != NULL) {
		if (cfg->workers != d->nworkers)
			log_warnx("[server] workers changed to %llu: that takes "
			    "a restart; %zu workers go on",
			    (unsigned long long)cfg->workers, d->nworkers);
		log_backend_change("primary", &d->cfg->primary, &cfg->primary);
		log_backend_change("shadow", &d->cfg->shadow, &cfg->shadow);
	}
	for (k = 0; k < d->nworkers; k++)
		if (d->workers[k] == NULL)
			d->workers[k] = worker_new((unsigned int)k, setups[k]);
		else
			worker_reload(d->workers[k], setups[k]);
	free(setups);
	config_unref(d->cfg);
	d->cfg = cfg;
	return (0);

fail_slots:
	slots_abort(d, slots, cfg->nlisten);
fail_admin:
	if (admin != d->admin)
		admin_free(admin);
	return (-1);
}

/* Loads the config file, or says why not; exits 1 on error. */
static struct config *
load(const char *path)
{
	struct config	*cfg;
	char		*cause = NULL;

	if ((cfg = config_load(path, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		exit(1);
	}
	return (cfg);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct daemon	 d;
	struct config	*cfg;
	const char	*path = CONFIG_DEFAULT_PATH;
	char		*cause = NULL;
	struct sigaction sa;
	struct event	*sigs[4];
	size_t		 i;
	int		 ch, test = 0, debug = 0;

	while ((ch = getopt_long(argc, argv, "c:dhtV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'd':
			debug = 1;
			break;
		case 't':
			test = 1;
			break;
		case 'V':
			printf("shadowdiff %s\n", PACKAGE_VERSION);
			return (0);
		case 'h':
			usage(stdout);
			return (0);
		default:
			usage(stderr);
			return (2);
		}
	}
	if (optind != argc) {
		usage(stderr);
		return (2);
	}
	log_init(debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	memset(&d, 0, sizeof(d));
	cfg = load(path);
	if (test) {
		fprintf(stderr, "shadowdiff: %s: configuration is valid\n",
		    path);
		config_unref(cfg);
		return (0);
	}

	if (evthread_use_pthreads() == -1)
		fatalx("evthread_use_pthreads failed");
	signal(SIGPIPE, SIG_IGN);
	if ((d.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	d.ev_poll = evtimer_new(d.base, poll_cb, &d);
	if (pipe2(stop_pipe, O_NONBLOCK | O_CLOEXEC) == -1)
		fatal("pipe2");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = stop_handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1)
		fatal("sigaction");
	sigs[0] = event_new(d.base, stop_pipe[0], EV_READ | EV_PERSIST,
	    signal_stop_cb, &d);
	sigs[1] = evsignal_new(d.base, SIGHUP, signal_hup_cb, &d);
	sigs[2] = evsignal_new(d.base, SIGUSR1, signal_usr1_cb, &d);
	sigs[3] = NULL;
	for (i = 0; sigs[i] != NULL; i++)
		evsignal_add(sigs[i], NULL);

	d.start_us = util_wall_us();
	d.nworkers = cfg->workers;
	d.workers = xcalloc(d.nworkers, sizeof(*d.workers));
	if (daemon_apply(&d, cfg, &cause) == -1)
		fatalx("%s", cause);
	for (i = 0; i < d.nworkers; i++)
		if (worker_start(d.workers[i]) == -1)
			fatal("worker %zu: pthread_create", i);
	log_info("shadowdiff %s started: %zu workers, primary %s, shadow %s",
	    PACKAGE_VERSION, d.nworkers, d.cfg->primary.url,
	    d.cfg->shadow.url != NULL ? d.cfg->shadow.url : "none");
	/* Listening and serving: systemd may start what depends on us. */
	if (notify_send("READY=1\nSTATUS=serving") == -1)
		log_warn("sd_notify READY=1");

	event_base_dispatch(d.base);

	for (i = 0; i < d.nworkers; i++)
		worker_join(d.workers[i]);
	if (d.cfg->shadow.url != NULL)
		log_mirror_counts(&d);
	for (i = 0; i < d.nworkers; i++)
		worker_free(d.workers[i]);
	/* What was handed over is still compared and written. */
	if (d.differ != NULL) {
		struct differ_counts	 dc;

		differ_free(d.differ, &dc);
		log_info("compared %llu exchanges: %llu mismatches, %llu shadow "
		    "errors, %llu matches; %llu dropped (diff queue full)",
		    (unsigned long long)dc.compared,
		    (unsigned long long)dc.mismatches,
		    (unsigned long long)dc.shadow_errors,
		    (unsigned long long)dc.matches,
		    (unsigned long long)dc.dropped);
	}
	/* A writer blocked on its file must not keep us from exiting. */
	divlog_close(d.divlog, d.cfg->drain_timeout_ms > 1000 ?
	    d.cfg->drain_timeout_ms : 1000);
	log_info("stopped");
	admin_free(d.admin);
	for (i = 0; sigs[i] != NULL; i++)
		event_free(sigs[i]);
	/* Before the pipe closes: its number may be reused. */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	close(stop_pipe[0]);
	close(stop_pipe[1]);
	event_free(d.ev_poll);
	event_base_free(d.base);
	free(d.workers);
	slots_close_all(&d);
	config_unref(d.cfg);
	libevent_global_shutdown();
	return (0);
}
