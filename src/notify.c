/*
 * The sd_notify protocol: a datagram of "KEY=VALUE" lines to the
 * socket in $NOTIFY_SOCKET. systemd reads READY=1 (started), RELOADING=1
 * with MONOTONIC_USEC (reload begins; READY=1 again when done) and
 * STOPPING=1 (shutdown begins).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shadowdiff/notify.h"

/* Sends MSG to $NOTIFY_SOCKET; 0 (also when there is none), or -1. */
int
notify_send(const char *msg)
{
	struct sockaddr_un	 sun;
	const char		*path = getenv("NOTIFY_SOCKET");
	socklen_t		 len;
	ssize_t			 n;
	int			 fd, saved;

	if (path == NULL || *path == '\0')
		return (0);
	if ((path[0] != '/' && path[0] != '@') ||
	    strlen(path) >= sizeof(sun.sun_path)) {
		errno = EINVAL;
		return (-1);
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if (path[0] == '@')
		sun.sun_path[0] = '\0';		/* abstract namespace */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	n = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len);
	saved = errno;
	close(fd);
	errno = saved;
	return (n == (ssize_t)strlen(msg) ? 0 : -1);
}

/* "RELOADING=1" and the monotonic time, in one message. */
int
notify_reloading(void)
{
	struct timespec	 ts;
	char		 msg[64];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000 +
	    (unsigned long long)ts.tv_nsec / 1000);
	return (notify_send(msg));
}
