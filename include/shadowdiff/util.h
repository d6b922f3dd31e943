/* util: small helpers shared by the modules. */
#ifndef SHADOWDIFF_UTIL_H
#define SHADOWDIFF_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* Allocating printf; aborts on memory exhaustion like the x* family. */
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
/*
 * A ring of *CAP elements of SIZE bytes, LEN of them from *HEAD, made to
 * hold at least MAX: the same ring if it does, else a new one with the
 * elements in order from the start (*HEAD and *CAP updated; RING freed).
 */
void	*util_ring_reserve(void *, size_t, size_t *, size_t *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);

/* Case-insensitive comparison of a counted string with a C string. */
int	 util_eqcase(const char *, size_t, const char *);
/*
 * Whether S (LEN bytes) is host[:port] as a Host field holds it: a name
 * of RFC 3986 reg-name bytes or a bracketed IPv6 literal, then maybe a
 * ':' and a port of 1 to 5 digits up to 65535.
 */
int	 util_host_valid(const char *, size_t);
struct timeval;
/* MS milliseconds as a timeval. */
struct timeval util_tv_ms(uint64_t);
/* Milliseconds on the monotonic clock. */
uint64_t util_now_ms(void);
/* Microseconds on the monotonic clock, and since the Unix epoch. */
uint64_t util_now_us(void);
int64_t	 util_wall_us(void);
/* "host:port" of a socket address into BUF. */
const char *util_sockaddr_str(const void *, char *, size_t);

#endif
