/* Operational log: stderr, one write per line. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "shadowdiff/log.h"

#define LOG_LINE_MAX	2048	/* longer messages are cut */

static atomic_int	log_level = LOG_LEVEL_INFO;

static const char *const log_level_names[] = { "warn", "info", "debug" };

static void	log_vwrite(enum log_level, const char *, const char *, va_list)
		    __attribute__((format(printf, 3, 0)));
static void	log_event_cb(int, const char *);

/* strerror(3), safe in threads (GNU strerror_r returns the string). */
static const char *
log_strerror(int error, char *buf, size_t len)
{
	return (strerror_r(error, buf, len));
}

/* Sets the level and routes libevent's messages into this log. */
void
log_init(enum log_level level)
{
	log_set_level(level);
	event_set_log_callback(log_event_cb);
}

/* Changes the level at which messages are written. */
void
log_set_level(enum log_level level)
{
	atomic_store(&log_level, level);
}

/* Whether a message at LEVEL would be written. */
int
log_enabled(enum log_level level)
{
	return ((int)level <= atomic_load(&log_level));
}

/* Formats one line (timestamp, level, message, suffix) and writes it once. */
static void
log_vwrite(enum log_level level, const char *suffix, const char *fmt,
    va_list ap)
{
	char		 line[LOG_LINE_MAX];
	struct timespec	 ts;
	struct tm	 tm;
	size_t		 len;
	int		 n;

	if (!log_enabled(level))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	len = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line + len, sizeof(line) - len, ".%03ldZ %s: ",
	    ts.tv_nsec / 1000000, log_level_names[level]);
	if (n > 0)
		len += (size_t)n;
	n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
	if (n > 0)
		len = len + (size_t)n >= sizeof(line) ? sizeof(line) - 1 :
		    len + (size_t)n;
	if (suffix != NULL) {
		n = snprintf(line + len, sizeof(line) - len, ": %s", suffix);
		if (n > 0)
			len = len + (size_t)n >= sizeof(line) ?
			    sizeof(line) - 1 : len + (size_t)n;
	}
	if (len >= sizeof(line) - 1)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	/* One write: lines from different threads never interleave. */
	(void)write(STDERR_FILENO, line, len);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	char	 buf[128];
	int	 saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_WARN, log_strerror(saved, buf, sizeof(buf)),
	    fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_WARN, NULL, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_INFO, NULL, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_DEBUG, NULL, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	char	 buf[128];
	int	 saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_WARN, log_strerror(saved, buf, sizeof(buf)),
	    fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_WARN, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}

/* libevent's messages, at the matching level. */
static void
log_event_cb(int severity, const char *msg)
{
	switch (severity) {
	case EVENT_LOG_DEBUG:
		log_debug("libevent: %s", msg);
		break;
	case EVENT_LOG_MSG:
		log_info("libevent: %s", msg);
		break;
	default:
		log_warnx("libevent: %s", msg);
		break;
	}
}
