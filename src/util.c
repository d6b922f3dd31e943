/* Small helpers shared by the modules. */
#include "config.h"

#include <sys/time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "shadowdiff/log.h"
#include "shadowdiff/util.h"

/* Allocating printf; out of memory is fatal. */
char *
xasprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		fatalx("out of memory");
	va_end(ap);
	return (s);
}

/* calloc(3) that never returns NULL. */
void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size)) == NULL)
		fatalx("out of memory");
	return (p);
}

/* reallocarray(3) that never returns NULL. */
void *
xreallocarray(void *old, size_t n, size_t size)
{
	void	*p;

	if ((p = reallocarray(old, n == 0 ? 1 : n, size == 0 ? 1 : size)) ==
	    NULL)
		fatalx("out of memory");
	return (p);
}

/* strdup(3) that never returns NULL. */
char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		fatalx("out of memory");
	return (p);
}

/* strndup(3) that never returns NULL. */
char *
xstrndup(const char *s, size_t n)
{
	char	*p;

	if ((p = strndup(s, n)) == NULL)
		fatalx("out of memory");
	return (p);
}

/* Whether the LEN bytes at S equal the C string WORD, ignoring case. */
int
util_eqcase(const char *s, size_t len, const char *word)
{
	return (strlen(word) == len && strncasecmp(s, word, len) == 0);
}

/* MS milliseconds as a timeval. */
struct timeval
util_tv_ms(uint64_t ms)
{
	struct timeval	 tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	return (tv);
}

/* Milliseconds on the monotonic clock. */
uint64_t
util_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/* Microseconds on the monotonic clock, for timing exchanges. */
uint64_t
util_now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
}

/* Microseconds since the Unix epoch, for record times. */
int64_t
util_wall_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

/* Formats a socket address as host:port ([host]:port for IPv6). */
const char *
util_sockaddr_str(const void *sa, char *buf, size_t len)
{
	const struct sockaddr_in	*sin = sa;
	const struct sockaddr_in6	*sin6 = sa;
	char				 host[INET6_ADDRSTRLEN];

	switch (sin->sin_family) {
	case AF_INET:
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(sin->sin_port));
		break;
	case AF_INET6:
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(sin6->sin6_port));
		break;
	default:
		snprintf(buf, len, "(unknown)");
		break;
	}
	return (buf);
}

/* RING, or a copy in order of its LEN elements from *HEAD with MAX slots. */
void *
util_ring_reserve(void *ring, size_t size, size_t *cap, size_t *head,
    size_t len, size_t max)
{
	char	*new, *old = ring;
	size_t	 first;

	if (max <= *cap)
		return (ring);
	new = xcalloc(max, size);
	first = *cap - *head < len ? *cap - *head : len;
	memcpy(new, old + *head * size, first * size);
	memcpy(new + first * size, old, (len - first) * size);
	free(ring);
	*head = 0;
	*cap = max;
	return (new);
}

/* See util.h. */
int
util_host_valid(const char *s, size_t len)
{
	unsigned long	 port = 0;
	size_t		 i = 0, n;

	if (len > 0 && s[0] == '[') {
		for (i = 1; i < len && (isxdigit((unsigned char)s[i]) ||
		    s[i] == ':' || s[i] == '.'); i++)
			;
		if (i == 1 || i == len || s[i] != ']')
			return (0);
		i++;
	} else {
		for (; i < len && s[i] != '\0' && (isalnum((unsigned char)s[i]) ||
		    strchr("-._~%!$&'()*+,;=", s[i]) != NULL); i++)
			;
		if (i == 0)
			return (0);
	}
	if (i == len)
		return (1);
	if (s[i] != ':' || len - i - 1 < 1 || len - i - 1 > 5)
		return (0);
	for (n = i + 1; n < len; n++) {
		if (!isdigit((unsigned char)s[n]))
			return (0);
		port = port * 10 + (unsigned long)(s[n] - '0');
	}
	return (port <= 65535);
}
