/*
 * daemon: puts a config in service, at start and at every reload: first
 * what can fail, then what cannot (see include/shadowdiff/daemon.h).
 * Main thread only.
 */
#include "config.h"

#include <sys/resource.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "shadowdiff/admin.h"
#include "shadowdiff/config.h"
#include "shadowdiff/daemon.h"
#include "shadowdiff/differ.h"
#include "shadowdiff/divlog.h"
#include "shadowdiff/listen.h"
#include "shadowdiff/log.h"
#include "shadowdiff/tls.h"
#include "shadowdiff/util.h"
#include "shadowdiff/worker.h"

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

/*
 * The admin endpoint for CFG into *ADMIN: the one running if its address
 * is the same, else a new one (NULL for none). 0, or -1 with *CAUSE.
 */
static int
admin_prepare(struct daemon *d, const struct config *cfg,
    struct admin **admin, char **cause)
{
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
	    l->addrlen, &d->admin_ops, cause)) == NULL)
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
int
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
