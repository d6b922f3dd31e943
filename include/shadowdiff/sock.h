/*
 * sock: a non-blocking TCP socket with an input and an output buffer,
 * the subset of libevent's socket bufferevent that conn and upstream
 * use, made to cost fewer system calls per request.
 *
 * Reads go straight into the input (no FIONREAD first) from a persistent
 * read event, at most SOCK_READ_SIZE per readiness and never past the
 * read high watermark; reading stops at the mark and resumes by itself
 * when the owner drains the input below it. Bytes added to the output
 * are written later in the same loop turn, all at once; the write event
 * is added only when the socket would block (or while connecting) and
 * deleted once the output is empty. So a request and its response need
 * no epoll_ctl at all in the steady state.
 *
 * With sock_set_tls() the same goes over TLS: the input holds what was
 * decrypted, the output what is to be encrypted, and the owner sees no
 * other difference but the handshake's outcome.
 *
 * sock_free() may be called from the sock's own callbacks: the memory
 * goes when the outermost callback returns.
 */
#ifndef SHADOWDIFF_SOCK_H
#define SHADOWDIFF_SOCK_H

#include <sys/socket.h>
#include <sys/time.h>

#include <stddef.h>

struct event_base;
struct evbuffer;
struct sock;
struct ssl_st;

/* Read at most this much per readiness: the input's chunk size. */
#define SOCK_READ_SIZE	(16 * 1024)

/* What the event callback reports (the values of libevent's BEV_EVENT_*). */
#define SOCK_READING	0x01	/* while reading */
#define SOCK_WRITING	0x02	/* while writing or connecting */
#define SOCK_EOF	0x10	/* the peer closed its side */
#define SOCK_ERROR	0x20	/* errno says which */
#define SOCK_TIMEOUT	0x40	/* see sock_set_timeouts() */
#define SOCK_CONNECTED	0x80	/* connected (TLS: handshake done) */
#define SOCK_TLS	0x100	/* with EOF, ERROR, TIMEOUT: in the handshake */

/* Bytes were read (read), or the output fell to its low mark (write). */
typedef void	(*sock_data_cb)(struct sock *, void *);
/* EOF, an error, a timeout (reading or writing stops) or the connect. */
typedef void	(*sock_event_cb)(struct sock *, short, void *);

/*
 * A sock over FD (non-blocking, or -1 until sock_connect()); writing is
 * enabled, reading is not. NULL if out of memory.
 */
struct sock	*sock_new(struct event_base *, int, sock_data_cb,
		    sock_data_cb, sock_event_cb, void *);
/* Replaces the callbacks and their argument. */
void		 sock_setcb(struct sock *, sock_data_cb, sock_data_cb,
		    sock_event_cb, void *);
/*
 * Starts connecting a new socket to SA; the event callback reports
 * SOCK_CONNECTED or SOCK_ERROR (errno set). -1 (errno set) if the
 * connect can't even start.
 */
int		 sock_connect(struct sock *, const struct sockaddr *, socklen_t);
/* Closes the socket; frees the sock once its callbacks have returned. */
void		 sock_free(struct sock *);

struct evbuffer	*sock_get_input(struct sock *);
struct evbuffer	*sock_get_output(struct sock *);
int		 sock_getfd(struct sock *);

/* Enables or disables reading and writing (EV_READ, EV_WRITE). */
void		 sock_enable(struct sock *, short);
void		 sock_disable(struct sock *, short);
/*
 * EV_READ: the read callback runs when the input holds LOW bytes or
 * more; reading stops while it holds HIGH or more (0: no limit).
 * EV_WRITE: the write callback runs when a write left LOW bytes or
 * fewer in the output; HIGH is unused.
 */
void		 sock_setwatermark(struct sock *, short, size_t, size_t);
/*
 * Speaks TLS with SSL, which the sock takes over: as the server at once
 * (the sock is an accepted one), as the client once sock_connect()
 * succeeds. The handshake must end within TV; its end is reported as
 * SOCK_CONNECTED, or as SOCK_TLS with SOCK_EOF, SOCK_ERROR (see
 * sock_tls_error()) or SOCK_TIMEOUT.
 */
void		 sock_set_tls(struct sock *, struct ssl_st *, int,
		    const struct timeval *);
/* The SSL of a TLS sock, or NULL. */
struct ssl_st	*sock_ssl(struct sock *);
/* OpenSSL's error and the peer verification result of a TLS failure. */
void		 sock_tls_error(struct sock *, unsigned long *, long *);
/* Ends our side: close_notify over TLS, then shutdown(2) for writing. */
int		 sock_shutdown(struct sock *);
/* Runs the sock's events at a priority of its base (set before use). */
void		 sock_set_priority(struct sock *, int);
/*
 * READ: nothing read for that long while reading is enabled. WRITE:
 * output blocked for that long without progress, or the connect not
 * done. Either ends in the event callback with SOCK_TIMEOUT and stops
 * that direction. NULL: no timeout.
 */
void		 sock_set_timeouts(struct sock *, const struct timeval *,
		    const struct timeval *);

#endif
