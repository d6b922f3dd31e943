/*
 * notify: the sd_notify(3) protocol, spoken directly: one datagram per
 * message to the AF_UNIX socket named by $NOTIFY_SOCKET (a path, or an
 * abstract name when it starts with '@'). Without the variable, nothing
 * is sent. No libsystemd.
 */
#ifndef SHADOWDIFF_NOTIFY_H
#define SHADOWDIFF_NOTIFY_H

/* Sends MSG ("READY=1", "STOPPING=1", ...); 0, or -1 with errno. */
int	notify_send(const char *);
/* "RELOADING=1" with MONOTONIC_USEC, as Type=notify-reload wants it. */
int	notify_reloading(void);

#endif
