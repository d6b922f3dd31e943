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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "shadowdiff/config.h"
#include "shadowdiff/differ.h"
#include "shadowdiff/divlog.h"
#include "shadowdiff/log.h"
#include "shadowdiff/notify.h"
#include "shadowdiff/stats.h"
#include "shadowdiff/util.h"
#include "shadowdiff/worker.h"

#define MAIN_POLL_MS	50	/* how often a drain looks for the end */

struct daemon {
	struct config	 *cfg;
	struct event_base *base;
	struct worker	**workers;
	size_t		  nworkers;
	int		 *fds;		/* [worker][listen address] */
	int		  draining;
	uint64_t	  drain_start;
	struct event	 *ev_poll;
	struct divlog	 *divlog;	/* with a [shadow] only */
	uint64_t	  reloads_ok;
	uint64_t	  reloads_failed;
	struct differ	 *differ;
};

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

/*
 * Opens one socket per worker and address. Port 0 is resolved by the
 * first socket and reused for the others, so that all workers share it.
 */
static void
open_listeners(struct daemon *d)
{
	const struct config	*cfg = d->cfg;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	char			 buf[128];
	size_t			 i, k;
	int			 fd;

	d->fds = xcalloc(cfg->nlisten * d->nworkers, sizeof(*d->fds));
	for (i = 0; i < cfg->nlisten; i++) {
		ss = cfg->listen[i].addr;
		len = cfg->listen[i].addrlen;
		for (k = 0; k < d->nworkers; k++) {
			fd = listen_socket((struct sockaddr *)&ss, len,
			    (int)cfg->backlog);
			if (fd == -1)
				fatal("listen on %s", cfg->listen[i].text);
			if (k == 0 && getsockname(fd, (struct sockaddr *)&ss,
			    &len) == -1)
				fatal("getsockname");
			d->fds[k * cfg->nlisten + i] = fd;
		}
		log_info("listening on %s",
		    util_sockaddr_str(&ss, buf, sizeof(buf)));
	}
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

/* SIGTERM, SIGINT: stop accepting, let in-flight requests finish. */
static void
signal_stop_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon	*d = arg;
	struct timeval	 tv = { 0, 0 };
	size_t		 i;

	if (d->draining)
		return;
	d->draining = 1;
	log_info("%s: draining (at most %llums)", strsignal((int)sig),
	    (unsigned long long)d->cfg->drain_timeout_ms);
	if (notify_send("STOPPING=1") == -1)
		log_warn("sd_notify STOPPING=1");
	d->drain_start = util_now_ms();
	for (i = 0; i < d->nworkers; i++)
		worker_drain(d->workers[i]);
	evtimer_add(d->ev_poll, &tv);
}

/*
 * SIGHUP: reads the file again. An invalid file changes nothing: the
 * running config stays and the errors are logged with file:line. A
 * valid one is handed to every worker; requests that start afterwards
 * use it, exchanges in flight finish with the one they started with.
 * Settings behind sockets, threads and files (listeners, backends, the
 * diff and log queues) take a restart: such a file is refused, and the
 * reload says which.
 */
static void
signal_hup_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon	*d = arg;
	struct config	*cfg;
	const char	*restart;
	char		*cause = NULL;
	size_t		 i;

	if (d->draining)
		return;
	(void)notify_reloading();
	if ((cfg = config_load(d->cfg->path, &cause)) == NULL) {
		d->reloads_failed++;
		log_warnx("SIGHUP: reload failed, configuration %llu stays:\n%s",
		    (unsigned long long)d->cfg->generation, cause);
		free(cause);
	} else if ((restart = config_restart_needed(d->cfg, cfg)) != NULL) {
		d->reloads_failed++;
		log_warnx("SIGHUP: reload refused, configuration %llu stays: "
		    "%s changed, which takes a restart",
		    (unsigned long long)d->cfg->generation, restart);
		config_unref(cfg);
	} else {
		cfg->generation = d->cfg->generation + 1;
		if (cfg->workers != d->nworkers)
			log_warnx("SIGHUP: [server] workers changed to %llu: "
			    "that takes a restart; %zu workers go on",
			    (unsigned long long)cfg->workers, d->nworkers);
		for (i = 0; i < d->nworkers; i++)
			worker_set_config(d->workers[i], cfg);
		config_unref(d->cfg);
		d->cfg = cfg;
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
	if (rl.rlim_cur < need)
		log_warnx("open files limited to %llu, the configuration can "
		    "use %llu (max_connections, pools, max_inflight): raise "
		    "the limit (LimitNOFILE=) or lower max_connections",
		    (unsigned long long)rl.rlim_cur,
		    (unsigned long long)need);
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
	    "%llu reset, %llu bad response, %llu too large",
	    sum(d, STAT_SHADOW_OK), sum(d, STAT_SHADOW_TIMEOUT),
	    sum(d, STAT_SHADOW_REFUSED), sum(d, STAT_SHADOW_RESET),
	    sum(d, STAT_SHADOW_BAD_RESPONSE), sum(d, STAT_SHADOW_TOO_LARGE));
}

/* The divergence log and the diff threads, when there is a shadow. */
static void
start_diffing(struct daemon *d)
{
	const struct config	*cfg = d->cfg;
	char			*cause = NULL;

	if (cfg->shadow.url == NULL)
		return;
	if ((d->divlog = divlog_open(cfg->log_path, cfg->log_queue,
	    cfg->log_queue_memory, &cause)) == NULL)
		fatalx("divergence log: %s", cause);
	d->differ = differ_new(cfg->diff_threads, cfg->diff_queue,
	    cfg->diff_queue_memory, d->divlog);
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
	const char	*path = CONFIG_DEFAULT_PATH;
	struct event	*sigs[5];
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
	d.cfg = load(path);
	if (test) {
		fprintf(stderr, "shadowdiff: %s: configuration is valid\n",
		    path);
		config_unref(d.cfg);
		return (0);
	}

	if (evthread_use_pthreads() == -1)
		fatalx("evthread_use_pthreads failed");
	signal(SIGPIPE, SIG_IGN);
	if ((d.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	d.ev_poll = evtimer_new(d.base, poll_cb, &d);
	sigs[0] = evsignal_new(d.base, SIGTERM, signal_stop_cb, &d);
	sigs[1] = evsignal_new(d.base, SIGINT, signal_stop_cb, &d);
	sigs[2] = evsignal_new(d.base, SIGHUP, signal_hup_cb, &d);
	sigs[3] = evsignal_new(d.base, SIGUSR1, signal_usr1_cb, &d);
	sigs[4] = NULL;
	for (i = 0; sigs[i] != NULL; i++)
		evsignal_add(sigs[i], NULL);

	d.nworkers = d.cfg->workers;
	raise_nofile(d.cfg, d.nworkers);
	d.workers = xcalloc(d.nworkers, sizeof(*d.workers));
	open_listeners(&d);
	start_diffing(&d);
	for (i = 0; i < d.nworkers; i++) {
		d.workers[i] = worker_new((unsigned int)i, d.cfg,
		    d.fds + i * d.cfg->nlisten, d.cfg->nlisten, d.differ);
		if (worker_start(d.workers[i]) == -1)
			fatal("worker %zu: pthread_create", i);
	}
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
	for (i = 0; sigs[i] != NULL; i++)
		event_free(sigs[i]);
	event_free(d.ev_poll);
	event_base_free(d.base);
	free(d.workers);
	free(d.fds);
	config_unref(d.cfg);
	libevent_global_shutdown();
	return (0);
}
