/*
 * log: operational messages on stderr, one line each with a UTC
 * timestamp and a level, written with a single write(2) so lines from
 * several threads never interleave. libevent's own messages come here too.
 */
#ifndef SHADOWDIFF_LOG_H
#define SHADOWDIFF_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG
};

void	log_init(enum log_level);
void	log_set_level(enum log_level);
int	log_enabled(enum log_level);

/* log_warn appends strerror(errno); log_warnx does not. */
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* For start-up failures and broken invariants only: logs and exits 1. */
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
