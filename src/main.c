/*
 * shadowdiff: command line, start-up, signals, and the worker threads'
 * start and stop. The main thread does no request work. Putting a
 * config in service is daemon.c's (daemon_apply), the listening sockets
 * listen.c's.
 */
#include "config.h"

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
#include "shadowdiff/daemon.h"
#include "shadowdiff/differ.h"
#include "shadowdiff/divlog.h"
#include "shadowdiff/listen.h"
#include "shadowdiff/log.h"
#include "shadowdiff/notify.h"
#include "shadowdiff/report.h"
#include "shadowdiff/stats.h"
#include "shadowdiff/util.h"
#include "shadowdiff/worker.h"

#define MAIN_POLL_MS	50	/* how often a drain looks for the end */

/*
 * The SIGTERM or SIGINT received, set by the handler itself: /healthz
 * says 503 from that instant. Through libevent's signal events the flag
 * would be set only once the loop ran the event, and a /healthz read in
 * the same turn of the loop would still be told 200. The handler then
 * wakes the loop through stop_pipe, which starts the drain.
 */
static atomic_int	stop_signal;
static int		stop_pipe[2] = { -1, -1 };

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
	struct report	*summary;
	struct differ_counts dc;
	const char	*path = CONFIG_DEFAULT_PATH, *warning;
	char		*cause = NULL;
	struct sigaction sa;
	struct event	*sigs[4];
	uint64_t	 left;
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
		if (cfg->shadow.url != NULL &&
		    (warning = divlog_path_warning(cfg->log_path)) != NULL)
			fprintf(stderr, "shadowdiff: warning: [log] path "
			    "%s %s\n", cfg->log_path, warning);
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
	d.admin_ops = (struct admin_ops){ admin_metrics, admin_stats,
	    admin_healthy, &d };
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
	summary = report_summary_new(d.workers, d.nworkers);
	for (i = 0; i < d.nworkers; i++)
		worker_free(d.workers[i]);
	/* What was handed over is still compared and written. */
	if (d.differ != NULL)
		differ_free(d.differ, &dc);
	report_summary_log(summary, d.cfg->shadow.url != NULL,
	    d.differ != NULL ? &dc : NULL);
	/*
	 * A writer blocked on its file must not keep us from exiting: it
	 * has what is left of the drain's deadline, DIVLOG_CLOSE_MIN_MS at
	 * least.
	 */
	left = d.drain_start + d.cfg->drain_timeout_ms - util_now_ms();
	divlog_close(d.divlog, left > d.cfg->drain_timeout_ms ||
	    left < DIVLOG_CLOSE_MIN_MS ? DIVLOG_CLOSE_MIN_MS : left);
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
