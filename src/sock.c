/*
 * A non-blocking TCP socket with buffers, in place of libevent's socket
 * bufferevent, for fewer system calls per proxied request.
 *
 * A bufferevent adds its write event when output appears and deletes it
 * once the output is written, a loop turn later; the epoll changelist
 * folds the two only within one turn, so every response cost two
 * epoll_ctl per socket. evbuffer_read() asks FIONREAD before each read.
 * Here, as nginx does, we write at once and ask epoll for writability
 * only when a write would block, and we read into reserved space
 * without asking how much is there. A keep-alive request then costs a
 * read and a writev on each side and a share of one epoll_wait.
 *
 * Writes are not done inside the output's callback: producers add a
 * message piece by piece. The callback activates ev_flush (no fd) once;
 * it runs later in the same loop turn and writes everything in one
 * writev. While the write event is pending (the socket was full) the
 * flush leaves the writing to it.
 *
 * Timeouts ride on the events themselves: a persistent event with a
 * timeout is re-timed by libevent each time it fires, which costs timer
 * heap work, not system calls. The read timeout thus runs while reading
 * is enabled; the write timeout only while the output is blocked.
 *
 * Callbacks may free the sock; `busy` counts the frames of our handlers
 * and the memory goes when the outermost returns (sock_unbusy).
 *
 * TLS goes straight over the socket (SSL_set_fd): a read is an SSL_read
 * into the input's reserved space, a write an SSL_write of up to one
 * record from the output, so TLS adds no copy and no system call of its
 * own. OpenSSL may hold decrypted bytes we did not take (the high mark
 * stopped us): epoll knows nothing of them, so the read event is
 * activated by hand while SSL_has_pending() says so. During the
 * handshake the events wait for whatever OpenSSL asks, untimed; a timer
 * of its own bounds the whole handshake. The rare crossings (a read
 * that must write first, a write that must read) wait on the other
 * event.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "shadowdiff/log.h"
#include "shadowdiff/sock.h"

struct sock {
	struct event_base		*base;
	int				 fd;
	/* Bounded by the read high mark (+ one read below it). */
	struct evbuffer			*input;
	/* Bounded by the owner's producers (their flow control). */
	struct evbuffer			*output;
	struct evbuffer_cb_entry	*input_cb;
	struct evbuffer_cb_entry	*output_cb;
	struct event			*ev_read;	/* EV_READ|EV_PERSIST */
	struct event			*ev_write;	/* EV_WRITE|EV_PERSIST */
	struct event			*ev_flush;	/* no fd */
	int				 priority;	/* -1: the base's default */
	int				 read_on;	/* ev_read added */
	int				 write_on;	/* ev_write added */
	int				 flush_on;	/* ev_flush active */

	sock_data_cb			 readcb;
	sock_data_cb			 writecb;
	sock_event_cb			 eventcb;
	void				*arg;

	short				 enabled;	/* EV_READ, EV_WRITE */
	int				 connecting;
	int				 connect_error;	/* failed at once */
	size_t				 read_low;
	size_t				 read_high;	/* 0: no limit */
	size_t				 write_low;
	struct timeval			 read_tv;
	struct timeval			 write_tv;
	int				 read_timed;
	int				 write_timed;

	SSL				*ssl;		/* NULL: plain TCP */
	enum {
		SOCK_TLS_NONE,
		SOCK_TLS_HANDSHAKE,
		SOCK_TLS_OPEN,
		SOCK_TLS_FAILED
	}				 tls;
	int				 tls_server;
	int				 tls_data;	/* SSL_read gave bytes */
	int				 read_wants_write;
	int				 write_wants_read;
	struct event			*ev_handshake;	/* its deadline */
	struct timeval			 handshake_tv;
	unsigned long			 tls_err;
	long				 tls_verify;

	int				 busy;
	int				 freed;
};

/* An SSL record's worth: what one SSL_write() sends at most. */
#define SOCK_TLS_RECORD	(16 * 1024)

static void	sock_read_cb(evutil_socket_t, short, void *);
static void	sock_write_cb(evutil_socket_t, short, void *);
static void	sock_flush_cb(evutil_socket_t, short, void *);
static void	sock_handshake_timeout_cb(evutil_socket_t, short, void *);
static void	sock_flush(struct sock *);
static void	sock_input_cb(struct evbuffer *,
		    const struct evbuffer_cb_info *, void *);
static void	sock_output_cb(struct evbuffer *,
		    const struct evbuffer_cb_info *, void *);

/* Frees the memory of a freed sock. */
static void
sock_destroy(struct sock *s)
{
	if (s->ev_read != NULL)
		event_free(s->ev_read);
	if (s->ev_write != NULL)
		event_free(s->ev_write);
	if (s->ev_flush != NULL)
		event_free(s->ev_flush);
	if (s->ev_handshake != NULL)
		event_free(s->ev_handshake);
	if (s->input != NULL)
		evbuffer_free(s->input);
	if (s->output != NULL)
		evbuffer_free(s->output);
	free(s);
}

/* Leaves a handler frame; frees a freed sock at the outermost. */
static void
sock_unbusy(struct sock *s)
{
	if (--s->busy == 0 && s->freed)
		sock_destroy(s);
}

/* Adds EV (pending already: re-times it) with TV if TIMED. */
static void
sock_event_add(struct event *ev, const struct timeval *tv, int timed)
{
	if (event_add(ev, timed ? tv : NULL) == -1)
		log_warnx("sock: event_add failed");
}

/* Adds or deletes the read event as enabled and below the high mark. */
static void
sock_update_read(struct sock *s)
{
	int	 want;

	if (s->tls == SOCK_TLS_HANDSHAKE)
		return;		/* the handshake waits for what it needs */
	want = s->fd != -1 && !s->connecting && !s->freed &&
	    (((s->enabled & EV_READ) && (s->read_high == 0 ||
	    evbuffer_get_length(s->input) < s->read_high)) ||
	    s->write_wants_read);
	if (want && !s->read_on) {
		sock_event_add(s->ev_read, &s->read_tv, s->read_timed);
		s->read_on = 1;
	} else if (!want && s->read_on) {
		event_del(s->ev_read);
		s->read_on = 0;
	}
	/*
	 * Decrypted bytes epoll can't see: read them now. Only once the
	 * event is added: libevent does not register an active event's fd
	 * with epoll, and reading would stop for good after this turn.
	 */
	if (want && s->ssl != NULL && SSL_has_pending(s->ssl))
		event_active(s->ev_read, EV_READ, 0);
}

/* Adds the write event: the socket is full, or connecting. */
static void
sock_write_on(struct sock *s)
{
	if (!s->write_on) {
		sock_event_add(s->ev_write, &s->write_tv, s->write_timed);
		s->write_on = 1;
	}
}

/* Deletes the write event. */
static void
sock_write_off(struct sock *s)
{
	if (s->write_on) {
		event_del(s->ev_write);
		s->write_on = 0;
	}
}

/* Has the output written later in this loop turn, unless blocked. */
static void
sock_schedule_flush(struct sock *s)
{
	if (s->flush_on || s->freed || s->fd == -1 || s->connecting ||
	    s->tls == SOCK_TLS_HANDSHAKE || s->write_on ||
	    !(s->enabled & EV_WRITE))
		return;
	/* Once per turn: the flag spares event_active()'s lock per piece. */
	s->flush_on = 1;
	event_active(s->ev_flush, EV_TIMEOUT, 0);
}

/* Creates the events of FD; 0 or -1. */
static int
sock_setfd(struct sock *s, int fd)
{
	s->ev_read = event_new(s->base, fd, EV_READ | EV_PERSIST,
	    sock_read_cb, s);
	s->ev_write = event_new(s->base, fd, EV_WRITE | EV_PERSIST,
	    sock_write_cb, s);
	if (s->ev_read == NULL || s->ev_write == NULL)
		return (-1);
	if (s->priority != -1) {
		event_priority_set(s->ev_read, s->priority);
		event_priority_set(s->ev_write, s->priority);
	}
	s->fd = fd;
	return (0);
}

/* Runs the sock's events at PRIORITY (see event_base_priority_init). */
void
sock_set_priority(struct sock *s, int priority)
{
	s->priority = priority;
	event_priority_set(s->ev_flush, priority);
	if (s->ev_read != NULL) {
		event_priority_set(s->ev_read, priority);
		event_priority_set(s->ev_write, priority);
	}
}

/* A sock over FD (-1 until sock_connect()); NULL if out of memory. */
struct sock *
sock_new(struct event_base *base, int fd, sock_data_cb readcb,
    sock_data_cb writecb, sock_event_cb eventcb, void *arg)
{
	struct sock	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (NULL);
	s->base = base;
	s->fd = -1;
	s->priority = -1;
	s->enabled = EV_WRITE;
	s->input = evbuffer_new();
	s->output = evbuffer_new();
	s->ev_flush = event_new(base, -1, 0, sock_flush_cb, s);
	if (s->input == NULL || s->output == NULL || s->ev_flush == NULL ||
	    (fd != -1 && sock_setfd(s, fd) == -1))
		goto fail;
	s->input_cb = evbuffer_add_cb(s->input, sock_input_cb, s);
	s->output_cb = evbuffer_add_cb(s->output, sock_output_cb, s);
	if (s->input_cb == NULL || s->output_cb == NULL)
		goto fail;
	sock_setcb(s, readcb, writecb, eventcb, arg);
	return (s);
fail:
	/* The fd stays the caller's. */
	sock_destroy(s);
	return (NULL);
}

/* Replaces the callbacks and their argument. */
void
sock_setcb(struct sock *s, sock_data_cb readcb, sock_data_cb writecb,
    sock_event_cb eventcb, void *arg)
{
	s->readcb = readcb;
	s->writecb = writecb;
	s->eventcb = eventcb;
	s->arg = arg;
}

/* Starts a non-blocking connect of a new socket to SA; 0 or -1. */
int
sock_connect(struct sock *s, const struct sockaddr *sa, socklen_t salen)
{
	int	 fd, one = 1;

	if (s->fd != -1) {
		errno = EISCONN;
		return (-1);
	}
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return (-1);
	/* We write whole messages at once: never wait for an ACK first. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (sock_setfd(s, fd) == -1) {
		close(fd);
		errno = ENOMEM;
		return (-1);
	}
	s->connecting = 1;
	if (connect(fd, sa, salen) == 0 || errno == EINPROGRESS ||
	    errno == EINTR) {
		/* Writable once connected (or failed); timed as a write. */
		sock_write_on(s);
		return (0);
	}
	if (errno == ECONNREFUSED) {
		/* Reported from the loop, like a refusal that takes time. */
		s->connect_error = errno;
		event_active(s->ev_write, EV_WRITE, 0);
		return (0);
	}
	return (-1);	/* the fd is closed by sock_free() */
}

/* Closes the socket; the memory goes once our handlers have returned. */
void
sock_free(struct sock *s)
{
	if (s == NULL || s->freed)
		return;
	s->freed = 1;
	if (s->input_cb != NULL)
		evbuffer_remove_cb_entry(s->input, s->input_cb);
	if (s->output_cb != NULL)
		evbuffer_remove_cb_entry(s->output, s->output_cb);
	s->input_cb = s->output_cb = NULL;
	/* Deleted before the close, so no event outlives its fd. */
	if (s->ev_read != NULL)
		event_del(s->ev_read);
	if (s->ev_write != NULL)
		event_del(s->ev_write);
	event_del(s->ev_flush);
	if (s->ev_handshake != NULL)
		event_del(s->ev_handshake);
	s->read_on = s->write_on = 0;
	if (s->ssl != NULL) {
		/* One try at close_notify; a peer gone meanwhile is no error. */
		ERR_clear_error();
		if (s->tls == SOCK_TLS_OPEN)
			(void)SSL_shutdown(s->ssl);
		SSL_free(s->ssl);
		ERR_clear_error();
		s->ssl = NULL;
	}
	if (s->fd != -1)
		close(s->fd);
	s->fd = -1;
	if (s->busy == 0)
		sock_destroy(s);
}

/* The input buffer. */
struct evbuffer *
sock_get_input(struct sock *s)
{
	return (s->input);
}

/* The output buffer. */
struct evbuffer *
sock_get_output(struct sock *s)
{
	return (s->output);
}

/* The socket, or -1. */
int
sock_getfd(struct sock *s)
{
	return (s->fd);
}

/* Enables reading and/or writing. */
void
sock_enable(struct sock *s, short what)
{
	s->enabled |= what & (EV_READ | EV_WRITE);
	if (what & EV_READ)
		sock_update_read(s);
	if ((what & EV_WRITE) && evbuffer_get_length(s->output) > 0)
		sock_schedule_flush(s);
}

/* Disables reading and/or writing. */
void
sock_disable(struct sock *s, short what)
{
	s->enabled &= ~(what & (EV_READ | EV_WRITE));
	if (what & EV_READ)
		sock_update_read(s);
	if ((what & EV_WRITE) && !s->connecting &&
	    s->tls != SOCK_TLS_HANDSHAKE)
		sock_write_off(s);
}

/* Sets the read marks (LOW, HIGH) or the write low mark. */
void
sock_setwatermark(struct sock *s, short what, size_t low, size_t high)
{
	if (what & EV_READ) {
		s->read_low = low;
		s->read_high = high;
		sock_update_read(s);
	}
	if (what & EV_WRITE)
		s->write_low = low;
}

/* Sets the read and write timeouts (NULL: none); re-times them now. */
void
sock_set_timeouts(struct sock *s, const struct timeval *rtv,
    const struct timeval *wtv)
{
	s->read_timed = rtv != NULL;
	if (rtv != NULL)
		s->read_tv = *rtv;
	s->write_timed = wtv != NULL;
	if (wtv != NULL)
		s->write_tv = *wtv;
	if (s->tls == SOCK_TLS_HANDSHAKE)
		return;		/* its events are untimed: see above */
	/* event_add() on a pending event only moves its timer. */
	if (s->read_on) {
		if (rtv != NULL)
			sock_event_add(s->ev_read, rtv, 1);
		else
			event_remove_timer(s->ev_read);
	}
	if (s->write_on) {
		if (wtv != NULL)
			sock_event_add(s->ev_write, wtv, 1);
		else
			event_remove_timer(s->ev_write);
	}
}

/* Makes the events wait for WHAT (EV_READ, EV_WRITE) only, untimed. */
static void
sock_handshake_wait(struct sock *s, short what)
{
	if ((what & EV_READ) && !s->read_on) {
		sock_event_add(s->ev_read, NULL, 0);
		s->read_on = 1;
	} else if (!(what & EV_READ) && s->read_on) {
		event_del(s->ev_read);
		s->read_on = 0;
	}
	if ((what & EV_WRITE) && !s->write_on) {
		sock_event_add(s->ev_write, NULL, 0);
		s->write_on = 1;
	} else if (!(what & EV_WRITE) && s->write_on) {
		event_del(s->ev_write);
		s->write_on = 0;
	}
}

/* Keeps what OpenSSL says of a failure, for sock_tls_error(). */
static void
sock_tls_keep_error(struct sock *s)
{
	s->tls_err = ERR_peek_last_error();
	if (!s->tls_server && ERR_GET_LIB(s->tls_err) == ERR_LIB_SSL &&
	    ERR_GET_REASON(s->tls_err) == SSL_R_CERTIFICATE_VERIFY_FAILED)
		s->tls_verify = SSL_get_verify_result(s->ssl);
	ERR_clear_error();
}

/* The handshake failed (WHAT: EOF, ERROR or TIMEOUT): tell the owner. */
static void
sock_handshake_fail(struct sock *s, short what)
{
	int	 saved = errno;

	s->tls = SOCK_TLS_FAILED;
	event_del(s->ev_handshake);
	sock_handshake_wait(s, 0);
	s->enabled = 0;
	errno = saved != 0 ? saved : EPROTO;
	s->eventcb(s, what | SOCK_TLS, s->arg);
}

/* One step of the handshake, when the socket is ready for it. */
static void
sock_handshake(struct sock *s)
{
	int	 rc, e;

	ERR_clear_error();
	errno = 0;
	rc = SSL_do_handshake(s->ssl);
	if (rc == 1) {
		ERR_clear_error();
		s->tls = SOCK_TLS_OPEN;
		event_del(s->ev_handshake);
		sock_handshake_wait(s, 0);
		s->eventcb(s, SOCK_CONNECTED, s->arg);
		if (s->freed)
			return;
		sock_update_read(s);
		sock_flush(s);
		return;
	}
	switch ((e = SSL_get_error(s->ssl, rc))) {
	case SSL_ERROR_WANT_READ:
		sock_handshake_wait(s, EV_READ);
		return;
	case SSL_ERROR_WANT_WRITE:
		sock_handshake_wait(s, EV_WRITE);
		return;
	default:
		sock_tls_keep_error(s);
		sock_handshake_fail(s, e == SSL_ERROR_ZERO_RETURN ||
		    (e == SSL_ERROR_SYSCALL && s->tls_err == 0 && errno == 0) ?
		    SOCK_EOF : SOCK_ERROR);
		return;
	}
}

/* The handshake took too long. */
static void
sock_handshake_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sock	*s = arg;

	s->busy++;
	errno = ETIMEDOUT;
	if (s->tls == SOCK_TLS_HANDSHAKE)
		sock_handshake_fail(s, SOCK_TIMEOUT);
	sock_unbusy(s);
}

/* Starts the handshake over the socket, now that there is one. */
static void
sock_handshake_start(struct sock *s)
{
	if (SSL_set_fd(s->ssl, s->fd) != 1) {
		sock_tls_keep_error(s);
		sock_handshake_fail(s, SOCK_ERROR);
		return;
	}
	s->tls = SOCK_TLS_HANDSHAKE;
	sock_event_add(s->ev_handshake, &s->handshake_tv, 1);
	if (s->tls_server) {
		/* The client speaks first: wait for its hello. */
		SSL_set_accept_state(s->ssl);
		sock_handshake_wait(s, EV_READ);
	} else {
		SSL_set_connect_state(s->ssl);
		sock_handshake(s);
	}
}

/* Speaks TLS with SSL: as the server at once, as the client once connected. */
void
sock_set_tls(struct sock *s, SSL *ssl, int server, const struct timeval *tv)
{
	s->ssl = ssl;
	s->tls_server = server;
	s->handshake_tv = *tv;
	s->ev_handshake = evtimer_new(s->base, sock_handshake_timeout_cb, s);
	if (s->ev_handshake == NULL)
		fatalx("out of memory");
	if (s->priority != -1)
		event_priority_set(s->ev_handshake, s->priority);
	if (server) {
		/* Our reading and writing wait for the handshake. */
		sock_handshake_wait(s, 0);
		sock_handshake_start(s);
	}
}

/* The SSL of a TLS sock, or NULL. */
SSL *
sock_ssl(struct sock *s)
{
	return (s->ssl);
}

/* What OpenSSL said of a TLS failure. */
void
sock_tls_error(struct sock *s, unsigned long *err, long *verify)
{
	*err = s->tls_err;
	*verify = s->tls_verify;	/* X509_V_OK (0) unless a client's */
}

/* close_notify over TLS, then shutdown(2) for writing. */
int
sock_shutdown(struct sock *s)
{
	if (s->ssl != NULL && s->tls == SOCK_TLS_OPEN) {
		ERR_clear_error();
		(void)SSL_shutdown(s->ssl);
		ERR_clear_error();
	}
	return (shutdown(s->fd, SHUT_WR));
}

/* Reading failed, met EOF or timed out: stop reading and report WHAT. */
static void
sock_read_end(struct sock *s, short what)
{
	int	 saved = errno;

	s->enabled &= ~EV_READ;
	sock_update_read(s);
	errno = saved;
	s->eventcb(s, what | SOCK_READING, s->arg);
}

/*
 * One SSL_read of at most SOCK_READ_SIZE, never past the high mark,
 * into the input. Bytes OpenSSL still holds get another turn at once.
 */
static void
sock_tls_read(struct sock *s)
{
	struct evbuffer_iovec	 v;
	size_t			 len, want;
	int			 n;

	if (!(s->enabled & EV_READ))
		return;		/* an activation by hand, since disabled */
	len = evbuffer_get_length(s->input);
	want = SOCK_READ_SIZE;
	if (s->read_high > 0) {
		if (len >= s->read_high) {
			sock_update_read(s);
			return;
		}
		if (s->read_high - len < want)
			want = s->read_high - len;
	}
	if (evbuffer_reserve_space(s->input, (ev_ssize_t)want, &v, 1) != 1) {
		errno = ENOMEM;
		sock_read_end(s, SOCK_ERROR);
		return;
	}
	ERR_clear_error();
	errno = 0;
	n = SSL_read(s->ssl, v.iov_base, (int)(v.iov_len < want ?
	    v.iov_len : want));
	if (n > 0) {
		s->tls_data = 1;
		v.iov_len = (size_t)n;
		if (evbuffer_commit_space(s->input, &v, 1) == -1)
			fatalx("sock: evbuffer_commit_space failed");
		/* Not on a deleted event (the high mark): see above. */
		if (s->read_on && SSL_has_pending(s->ssl))
			event_active(s->ev_read, EV_READ, 0);
		if (s->readcb != NULL &&
		    evbuffer_get_length(s->input) >= s->read_low)
			s->readcb(s, s->arg);
		return;
	}
	switch (SSL_get_error(s->ssl, n)) {
	case SSL_ERROR_WANT_READ:
		return;
	case SSL_ERROR_WANT_WRITE:
		s->read_wants_write = 1;
		sock_write_on(s);
		return;
	case SSL_ERROR_ZERO_RETURN:
		sock_read_end(s, SOCK_EOF);
		return;
	case SSL_ERROR_SYSCALL:
		ERR_clear_error();
		sock_read_end(s, errno == 0 ? SOCK_EOF : SOCK_ERROR);
		return;
	default:
		sock_tls_keep_error(s);
		errno = EPROTO;
		/*
		 * TLS 1.3: a server judges our certificate after our side of
		 * the handshake ended; its refusal comes with the first read.
		 */
		sock_read_end(s, SOCK_ERROR | (!s->tls_server && !s->tls_data ?
		    SOCK_TLS : 0));
		return;
	}
}

/*
 * The socket is readable (or the read timed out): one read of at most
 * SOCK_READ_SIZE, never past the high mark, straight into the input.
 * Not asking FIONREAD first saves a system call; a read that fills the
 * space leaves the rest for the next readiness (epoll is
 * level-triggered).
 */
static void
sock_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sock		*s = arg;
	struct evbuffer_iovec	 v[2];
	struct iovec		 iov[2];
	size_t			 len, want, got, rest;
	ssize_t			 n;
	int			 nv, i;

	s->busy++;
	if (what & EV_TIMEOUT) {
		sock_read_end(s, SOCK_TIMEOUT);
		goto out;
	}
	if (s->ssl != NULL) {
		if (s->tls == SOCK_TLS_HANDSHAKE) {
			sock_handshake(s);
			goto out;
		}
		if (s->write_wants_read) {
			s->write_wants_read = 0;
			sock_flush(s);
			sock_update_read(s);
			if (s->freed)
				goto out;
		}
		sock_tls_read(s);
		goto out;
	}
	len = evbuffer_get_length(s->input);
	want = SOCK_READ_SIZE;
	if (s->read_high > 0) {
		if (len >= s->read_high) {
			sock_update_read(s);
			goto out;
		}
		if (s->read_high - len < want)
			want = s->read_high - len;
	}
	/* Two extents: the free end of the last chain, then a new one. */
	nv = evbuffer_reserve_space(s->input, (ev_ssize_t)want, v, 2);
	if (nv <= 0) {
		errno = ENOMEM;
		sock_read_end(s, SOCK_ERROR);
		goto out;
	}
	for (i = 0, got = 0; i < nv && got < want; i++) {
		iov[i].iov_base = v[i].iov_base;
		iov[i].iov_len = v[i].iov_len < want - got ?
		    v[i].iov_len : want - got;
		got += iov[i].iov_len;
	}
	nv = i;
	if (nv == 1)
		n = read(fd, iov[0].iov_base, iov[0].iov_len);
	else
		n = readv(fd, iov, nv);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			goto out;
		sock_read_end(s, SOCK_ERROR);
		goto out;
	}
	if (n == 0) {
		sock_read_end(s, SOCK_EOF);
		goto out;
	}
	/* Commit only the extents that received bytes. */
	for (i = 0, rest = (size_t)n; i < nv && rest > 0; i++) {
		v[i].iov_len = rest < iov[i].iov_len ? rest : iov[i].iov_len;
		rest -= v[i].iov_len;
	}
	if (evbuffer_commit_space(s->input, v, i) == -1)
		fatalx("sock: evbuffer_commit_space failed");
	if (s->readcb != NULL && evbuffer_get_length(s->input) >= s->read_low)
		s->readcb(s, s->arg);
out:
	sock_unbusy(s);
}

/* Writing failed or timed out: stop writing and report WHAT. */
static void
sock_write_end(struct sock *s, short what)
{
	int	 saved = errno;

	s->enabled &= ~EV_WRITE;
	sock_write_off(s);
	errno = saved;
	s->eventcb(s, what | SOCK_WRITING, s->arg);
}

/*
 * SSL_write()s the output a record at a time until it is empty or the
 * socket is full; *WROTE set if anything went. -1: failed (reported).
 * A retry after WANT_WRITE offers the same bytes again, maybe more of
 * them and moved (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER), as it must.
 */
static int
sock_tls_write(struct sock *s, int *wrote)
{
	size_t		 len;
	unsigned char	*p;
	int		 n;

	while ((len = evbuffer_get_length(s->output)) > 0) {
		if (len > SOCK_TLS_RECORD)
			len = SOCK_TLS_RECORD;
		if ((p = evbuffer_pullup(s->output, (ev_ssize_t)len)) == NULL) {
			errno = ENOMEM;
			sock_write_end(s, SOCK_ERROR);
			return (-1);
		}
		ERR_clear_error();
		errno = 0;
		if ((n = SSL_write(s->ssl, p, (int)len)) > 0) {
			evbuffer_drain(s->output, (size_t)n);
			*wrote = 1;
			continue;
		}
		switch (SSL_get_error(s->ssl, n)) {
		case SSL_ERROR_WANT_WRITE:
			return (0);
		case SSL_ERROR_WANT_READ:
			s->write_wants_read = 1;
			sock_update_read(s);
			return (0);
		case SSL_ERROR_SYSCALL:
			ERR_clear_error();
			if (errno == 0)
				errno = EPIPE;
			sock_write_end(s, SOCK_ERROR);
			return (-1);
		default:
			sock_tls_keep_error(s);
			errno = EPROTO;
			sock_write_end(s, SOCK_ERROR);
			return (-1);
		}
	}
	return (0);
}

/*
 * Writes the output until it is empty or the socket is full, then adds
 * the write event if bytes are left, or deletes it if none are, and
 * tells the owner when the output fell to its low mark.
 */
static void
sock_flush(struct sock *s)
{
	size_t	 len;
	int	 n, wrote = 0;

	if (s->fd == -1 || s->connecting || s->tls == SOCK_TLS_HANDSHAKE ||
	    !(s->enabled & EV_WRITE))
		return;
	if (s->ssl != NULL) {
		if (sock_tls_write(s, &wrote) == -1)
			return;
		goto written;
	}
	while ((len = evbuffer_get_length(s->output)) > 0) {
		n = evbuffer_write(s->output, s->fd);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			sock_write_end(s, SOCK_ERROR);
			return;
		}
		if (n > 0)
			wrote = 1;
		/* A short write means a full socket: skip the EAGAIN. */
		if ((size_t)n < len)
			break;
	}
written:
	if ((len = evbuffer_get_length(s->output)) > 0 &&
	    !s->write_wants_read)
		sock_write_on(s);
	else
		sock_write_off(s);
	if (wrote && s->writecb != NULL && len <= s->write_low)
		s->writecb(s, s->arg);
}

/* Output was added: write it later in this loop turn, once. */
static void
sock_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sock	*s = arg;

	s->flush_on = 0;
	/* A pending write event means a full socket: it does the writing. */
	if (s->write_on || s->connecting)
		return;
	s->busy++;
	sock_flush(s);
	sock_unbusy(s);
}

/* The socket is writable again, connected, or a write timed out. */
static void
sock_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sock	*s = arg;
	socklen_t	 len = sizeof(int);
	int		 error;

	s->busy++;
	if (what & EV_TIMEOUT) {
		sock_write_end(s, SOCK_TIMEOUT);
		goto out;
	}
	if (s->connecting) {
		error = s->connect_error;
		if (error == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &error,
		    &len) == -1)
			error = errno;
		s->connecting = 0;
		if (error != 0) {
			s->enabled = 0;
			sock_write_off(s);
			errno = error;
			s->eventcb(s, SOCK_ERROR | SOCK_WRITING, s->arg);
			goto out;
		}
		if (s->ssl != NULL) {
			sock_write_off(s);
			sock_handshake_start(s);
			goto out;
		}
		s->eventcb(s, SOCK_CONNECTED, s->arg);
		if (s->freed)
			goto out;
		sock_update_read(s);
	}
	if (s->tls == SOCK_TLS_HANDSHAKE) {
		sock_handshake(s);
		goto out;
	}
	if (s->read_wants_write) {
		s->read_wants_write = 0;
		sock_tls_read(s);
		if (s->freed)
			goto out;
	}
	sock_flush(s);
out:
	sock_unbusy(s);
}

/* The owner drained the input (or we filled it): follow the high mark. */
static void
sock_input_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct sock	*s = arg;

	if (s->read_high > 0)
		sock_update_read(s);
}

/* Bytes were added to the output: schedule one write for them. */
static void
sock_output_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct sock	*s = arg;

	if (info->n_added > 0)
		sock_schedule_flush(s);
}
