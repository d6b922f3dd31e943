/*
 * sd-misbehave: a deliberately bad HTTP backend, the shadow that the
 * proxy's isolation tests put behind it. libevent, one thread.
 *
 * usage: sd-misbehave -m mode [-a address] [-c file] [-p port]
 *
 * It listens on 127.0.0.1 (-a) port 0 (-p; 0 lets the kernel choose),
 * prints "port N\n" on stdout once listening and runs until SIGTERM or
 * SIGINT, then exits 0.
 *
 * For each connection it reads a request head (up to "\r\n\r\n", 64 KiB
 * at most, else it closes), then reads and drops a Content-Length body
 * (the proxy sends a shadow nothing else; Transfer-Encoding is ignored),
 * then behaves by mode:
 *   ok        200 text/plain "hello\n", keep-alive, request after request.
 *   slow:MS   the same after MS milliseconds (at most an hour), on a
 *             timer: other connections are served meanwhile.
 *   hang      never answers; reads and drops whatever comes until the
 *             peer closes.
 *   garbage   writes "this is not HTTP at all\r\n\r\n", closes once written.
 *   reset     writes a 200 head announcing Content-Length: 100000, then
 *             1000 bytes of 'x', then closes with SO_LINGER {1, 0}: the
 *             peer gets a TCP RST.
 *   interim   "102 Processing" interim responses, forever, as fast as the
 *             peer reads (a 1xx storm).
 *   drip:MS   a 200 head announcing Content-Length: 100000, then one byte
 *             of 'z' every MS milliseconds (at most an hour), forever:
 *             a slow drip that is never idle long enough to time out.
 *   endless   a chunked 200 of 64 KiB chunks of 'y', forever, as fast as
 *             the peer reads (at most about 256 KiB buffered here).
 *   close     closes each connection as soon as it is accepted, reading
 *             nothing. The peer sees a FIN, or a RST if its request had
 *             already arrived (the kernel resets on unread data).
 * -c file appends one line per complete request head: the request line,
 * a space, the X-Shadowdiff-Id value (or "-"), "\n"; flushed each time.
 * Control characters in a line are written as '?'. A head is logged
 * before it is checked, so a head with a bad Content-Length (which gets
 * the connection closed) is logged too.
 *
 * A peer that half-closes gets the answers to the requests it sent
 * completely, then a close; in hang and endless modes it gets the close
 * at once.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "servers-common.h"

#define MAX_HEAD	(64 * 1024)	/* request head, "\r\n\r\n" included */
#define MAX_BODY	(UINT64_C(1) << 50)
#define MAX_SLOW_MS	(3600 * 1000)
#define MAX_CONNS	10000		/* more are closed at once */
#define MAX_REQUESTS_PER_READ 1000	/* pipelined heads handled per call */
#define OUT_LOW		(128 * 1024)	/* write callback below this */
#define OUT_HIGH	(192 * 1024)	/* stop answering or filling above */
#define CHUNK_SIZE	(64 * 1024)
#define CHUNK_SIZE_HEX	"10000"

enum mode {
	MODE_OK,
	MODE_SLOW,
	MODE_DRIP,
	MODE_HANG,
	MODE_GARBAGE,
	MODE_RESET,
	MODE_ENDLESS,
	MODE_INTERIM,
	MODE_CLOSE
};

enum conn_state {
	CONN_HEAD,	/* reading a request head */
	CONN_BODY,	/* dropping its body */
	CONN_WAIT,	/* slow: the answer waits for the timer */
	CONN_HANG,	/* hang: dropping everything */
	CONN_FLUSH,	/* writing the last bytes before a close */
	CONN_STREAM,	/* endless, interim: writing forever */
	CONN_DRIP	/* drip: a byte per timer */
};

struct server;

struct conn {
	LIST_ENTRY(conn)	 entry;
	struct server		*srv;
	struct bufferevent	*bev;
	struct event		*timer;		/* slow */
	enum conn_state		 state;
	uint64_t		 body_left;
	int			 reset;		/* FLUSH ends with a RST */
	int			 peer_eof;	/* the peer sent its FIN */
};

struct server {
	struct event_base	*base;
	enum mode		 mode;
	struct timeval		 delay;		/* slow */
	FILE			*log;		/* -c */
	size_t			 nconns;
	LIST_HEAD(, conn)	 conns;
};

static const char ok_answer[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
    "Content-Length: 6\r\n\r\nhello\n";
static const char garbage_answer[] = "this is not HTTP at all\r\n\r\n";
static const char reset_head[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
    "Content-Length: 100000\r\n\r\n";
static const char endless_head[] =
    "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
    "Transfer-Encoding: chunked\r\n\r\n";

static const char interim_head[] = "HTTP/1.1 102 Processing\r\n\r\n";

static char	xs[1000];		/* reset: the body's first bytes */
static char	ys[CHUNK_SIZE];		/* endless: one chunk's data */

static void	usage(void) __attribute__((noreturn));
static int	parse_mode(struct server *, const char *);
static void	trim(const char **, size_t *);
static void	log_request(struct server *, const char *, size_t,
		    const char *, size_t);
static int	parse_head(struct server *, const char *, size_t,
		    uint64_t *);
static void	conn_free(struct conn *);
static void	conn_end(struct conn *);
static void	conn_flush_close(struct conn *, int);
static void	stream_fill(struct conn *);
static int	respond(struct conn *);
static void	conn_process(struct conn *);
static void	read_cb(struct bufferevent *, void *);
static void	write_cb(struct bufferevent *, void *);
static void	event_cb(struct bufferevent *, short, void *);
static void	timer_cb(evutil_socket_t, short, void *);
static void	accept_cb(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	signal_cb(evutil_socket_t, short, void *);
static struct evconnlistener *listen_on(struct server *, const char *,
		    const char *);

/* Prints the usage message and exits. */
static void
usage(void)
{
	fprintf(stderr, "usage: sd-misbehave -m mode [-a address] [-c file] "
	    "[-p port]\n"
	    "modes: ok slow:MS drip:MS hang garbage reset endless interim "
	    "close\n");
	exit(2);
}

/* Sets the mode from its name; 0 or -1. */
static int
parse_mode(struct server *srv, const char *s)
{
	static const struct {
		const char	*name;
		enum mode	 mode;
	} modes[] = {
		{ "ok", MODE_OK },
		{ "hang", MODE_HANG },
		{ "garbage", MODE_GARBAGE },
		{ "reset", MODE_RESET },
		{ "endless", MODE_ENDLESS },
		{ "interim", MODE_INTERIM },
		{ "close", MODE_CLOSE },
	};
	uint64_t	ms;
	size_t		i;

	if (strncmp(s, "slow:", 5) == 0 || strncmp(s, "drip:", 5) == 0) {
		if (parse_uint(s + 5, strlen(s + 5), MAX_SLOW_MS, &ms) == -1)
			return (-1);
		srv->mode = s[0] == 's' ? MODE_SLOW : MODE_DRIP;
		srv->delay.tv_sec = (time_t)(ms / 1000);
		srv->delay.tv_usec = (suseconds_t)(ms % 1000) * 1000;
		return (0);
	}
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(s, modes[i].name) == 0) {
			srv->mode = modes[i].mode;
			return (0);
		}
	}
	return (-1);
}

/* Trims spaces and tabs on both sides of *s, *len. */
static void
trim(const char **s, size_t *len)
{
	while (*len > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
}

/*
 * Appends "request-line id\n" to the -c file. Control characters become
 * '?' so that one request is always one line for the tests.
 */
static void
log_request(struct server *srv, const char *line, size_t linelen,
    const char *id, size_t idlen)
{
	size_t	i;

	if (srv->log == NULL)
		return;
	for (i = 0; i < linelen; i++)
		putc((unsigned char)line[i] < 0x20 || line[i] == 0x7f ?
		    '?' : line[i], srv->log);
	putc(' ', srv->log);
	if (id == NULL)
		putc('-', srv->log);
	for (i = 0; id != NULL && i < idlen; i++)
		putc((unsigned char)id[i] < 0x20 || id[i] == 0x7f ?
		    '?' : id[i], srv->log);
	putc('\n', srv->log);
	fflush(srv->log);
}

/*
 * Reads a request head of len bytes, "\r\n\r\n" included: logs it and
 * finds its body length. 0, or -1 for a bad or conflicting Content-Length.
 */
static int
parse_head(struct server *srv, const char *head, size_t len, uint64_t *body)
{
	const char	*line, *eol, *end = head + len - 2;
	const char	*reqline, *id = NULL, *value;
	size_t		 reqlen, idlen = 0, n, vlen;
	uint64_t	 cl;
	int		 have_cl = 0, bad = 0;

	*body = 0;
	/* end is the final "\r\n"; every line before it ends with "\r\n". */
	eol = memmem(head, len, "\r\n", 2);
	reqline = head;
	reqlen = (size_t)(eol - head);
	for (line = eol + 2; line < end; line = eol + 2) {
		eol = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
		n = (size_t)(eol - line);
		if ((value = memchr(line, ':', n)) == NULL)
			continue;
		vlen = n - (size_t)(value + 1 - line);
		n = (size_t)(value - line);
		value++;
		trim(&value, &vlen);
		if (n == 15 && strncasecmp(line, "X-Shadowdiff-Id", n) == 0 &&
		    id == NULL) {
			id = value;
			idlen = vlen;
		} else if (n == 14 &&
		    strncasecmp(line, "Content-Length", n) == 0) {
			if (parse_uint(value, vlen, MAX_BODY, &cl) == -1 ||
			    (have_cl && cl != *body))
				bad = 1;
			else {
				*body = cl;
				have_cl = 1;
			}
		}
	}
	log_request(srv, reqline, reqlen, id, idlen);
	return (bad ? -1 : 0);
}

/* Frees a connection and closes its socket. */
static void
conn_free(struct conn *c)
{
	LIST_REMOVE(c, entry);
	c->srv->nconns--;
	if (c->timer != NULL)
		event_free(c->timer);
	bufferevent_free(c->bev);
	free(c);
}

/* Ends a connection whose output is written: a close, or a RST. */
static void
conn_end(struct conn *c)
{
	struct linger	 l = { 1, 0 };
	evutil_socket_t	 fd;

	if (c->reset) {
		/* A zero linger makes close(2) send a RST, not a FIN. */
		fd = bufferevent_getfd(c->bev);
		if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)) == -1)
			fprintf(stderr, "sd-misbehave: SO_LINGER: %s\n",
			    strerror(errno));
	}
	conn_free(c);
}

/* Stops reading and closes (or resets) once the output is written. */
static void
conn_flush_close(struct conn *c, int reset)
{
	c->state = CONN_FLUSH;
	c->reset = reset;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		conn_end(c);
		return;
	}
	/* The write callback runs when the output is empty. */
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
}

/* Endless: queues chunks up to OUT_HIGH; the write callback asks again. */
static void
stream_fill(struct conn *c)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);

	/* References: the chunks cost no copy and no memory of ours. */
	while (c->srv->mode == MODE_INTERIM &&
	    evbuffer_get_length(out) < OUT_HIGH)
		if (evbuffer_add_reference(out, interim_head,
		    sizeof(interim_head) - 1, NULL, NULL) == -1) {
			conn_free(c);
			return;
		}
	while (c->srv->mode == MODE_ENDLESS &&
	    evbuffer_get_length(out) < OUT_HIGH) {
		if (evbuffer_add(out, CHUNK_SIZE_HEX "\r\n",
		    sizeof(CHUNK_SIZE_HEX "\r\n") - 1) == -1 ||
		    evbuffer_add_reference(out, ys, sizeof(ys), NULL,
		    NULL) == -1 ||
		    evbuffer_add(out, "\r\n", 2) == -1) {
			conn_free(c);
			return;
		}
	}
}

/*
 * A request is read whole: acts by mode. 0 to go on with the next
 * request, 1 to stop reading requests, -1 if c is freed.
 */
static int
respond(struct conn *c)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);

	switch (c->srv->mode) {
	case MODE_OK:
		evbuffer_add_reference(out, ok_answer, sizeof(ok_answer) - 1,
		    NULL, NULL);
		c->state = CONN_HEAD;
		return (0);
	case MODE_SLOW:
		c->state = CONN_WAIT;
		evtimer_add(c->timer, &c->srv->delay);
		return (1);
	case MODE_DRIP:
		evbuffer_add_reference(out, reset_head, sizeof(reset_head) - 1,
		    NULL, NULL);
		c->state = CONN_DRIP;
		evtimer_add(c->timer, &c->srv->delay);
		return (1);
	case MODE_HANG:
		c->state = CONN_HANG;	/* the loop drops the rest */
		return (0);
	case MODE_GARBAGE:
		evbuffer_add_reference(out, garbage_answer,
		    sizeof(garbage_answer) - 1, NULL, NULL);
		conn_flush_close(c, 0);
		return (-1);
	case MODE_RESET:
		evbuffer_add_reference(out, reset_head, sizeof(reset_head) - 1,
		    NULL, NULL);
		evbuffer_add_reference(out, xs, sizeof(xs), NULL, NULL);
		conn_flush_close(c, 1);
		return (-1);
	case MODE_ENDLESS:
		evbuffer_add_reference(out, endless_head,
		    sizeof(endless_head) - 1, NULL, NULL);
		/* FALLTHROUGH */
	case MODE_INTERIM:
		c->state = CONN_STREAM;
		stream_fill(c);
		return (-1);	/* maybe freed; nothing more to read anyway */
	case MODE_CLOSE:
		break;
	}
	conn_free(c);
	return (-1);
}

/*
 * Reads what the input holds, as the state says. Called on input, when
 * the output drains, when a slow answer is sent and on the peer's FIN.
 */
static void
conn_process(struct conn *c)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	struct evbuffer_ptr pos;
	size_t		 len, i, n;
	const char	*head;

	for (i = 0; i < MAX_REQUESTS_PER_READ; i++) {
		len = evbuffer_get_length(in);
		switch (c->state) {
		case CONN_HEAD:
			/* A peer that does not read our answers waits. */
			if (evbuffer_get_length(out) > OUT_HIGH)
				return;
			pos = evbuffer_search(in, "\r\n\r\n", 4, NULL);
			if (pos.pos == -1 || (size_t)pos.pos + 4 > MAX_HEAD) {
				if (len >= MAX_HEAD || c->peer_eof)
					conn_flush_close(c, 0);
				return;
			}
			n = (size_t)pos.pos + 4;
			if ((head = (const char *)evbuffer_pullup(in,
			    (ssize_t)n)) == NULL) {
				conn_free(c);
				return;
			}
			if (parse_head(c->srv, head, n, &c->body_left) == -1) {
				conn_flush_close(c, 0);
				return;
			}
			evbuffer_drain(in, n);
			c->state = CONN_BODY;
			break;
		case CONN_BODY:
			n = len < c->body_left ? len : (size_t)c->body_left;
			evbuffer_drain(in, n);
			c->body_left -= n;
			if (c->body_left > 0) {
				if (c->peer_eof)
					conn_flush_close(c, 0);
				return;
			}
			if (respond(c) != 0)
				return;
			break;
		case CONN_HANG:
		case CONN_STREAM:
		case CONN_DRIP:
			if (c->peer_eof) {
				conn_free(c);
				return;
			}
			evbuffer_drain(in, len);
			return;
		case CONN_WAIT:
		case CONN_FLUSH:
			return;
		}
	}
	/*
	 * Many small pipelined requests: leave the rest for the next read
	 * or write callback rather than hold the loop.
	 */
}

/* Input arrived. */
static void
read_cb(struct bufferevent *bev, void *arg)
{
	conn_process(arg);
}

/* The output went below its low watermark. */
static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	switch (c->state) {
	case CONN_FLUSH:
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			conn_end(c);
		break;
	case CONN_STREAM:
		stream_fill(c);
		break;
	case CONN_HEAD:
		conn_process(c);	/* requests held back by the output */
		break;
	default:
		break;
	}
}

/* The peer's FIN, an error or a timeout. */
static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;

	if ((what & BEV_EVENT_EOF) && (what & BEV_EVENT_READING) &&
	    !(what & BEV_EVENT_ERROR)) {
		/* A half-close: answer what was asked, then close. */
		c->peer_eof = 1;
		bufferevent_disable(bev, EV_READ);
		conn_process(c);
		return;
	}
	conn_free(c);
}

/* Slow: the delay is over, sends the answer. */
static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	if (c->state == CONN_DRIP) {
		/* One more byte of the body, and the next one later. */
		bufferevent_write(c->bev, "z", 1);
		evtimer_add(c->timer, &c->srv->delay);
		return;
	}
	evbuffer_add_reference(bufferevent_get_output(c->bev), ok_answer,
	    sizeof(ok_answer) - 1, NULL, NULL);
	c->state = CONN_HEAD;
	conn_process(c);
}

/* A new connection. */
static void
accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct server	*srv = arg;
	struct conn	*c;

	if (srv->mode == MODE_CLOSE || srv->nconns >= MAX_CONNS) {
		evutil_closesocket(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		evutil_closesocket(fd);
		return;
	}
	c->srv = srv;
	c->state = CONN_HEAD;
	if ((c->bev = bufferevent_socket_new(srv->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		evutil_closesocket(fd);
		free(c);
		return;
	}
	if ((srv->mode == MODE_SLOW || srv->mode == MODE_DRIP) &&
	    (c->timer = evtimer_new(srv->base, timer_cb, c)) == NULL) {
		bufferevent_free(c->bev);
		free(c);
		return;
	}
	LIST_INSERT_HEAD(&srv->conns, c, entry);
	srv->nconns++;
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	/* Reading pauses at MAX_HEAD buffered: the input stays bounded. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, MAX_HEAD);
	bufferevent_setwatermark(c->bev, EV_WRITE, OUT_LOW, 0);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* SIGTERM, SIGINT: leaves the event loop. */
static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct server	*srv = arg;

	event_base_loopexit(srv->base, NULL);
}

/* Listens on address:port and prints the port; the listener or NULL. */
static struct evconnlistener *
listen_on(struct server *srv, const char *address, const char *port)
{
	struct evconnlistener	*lev;

	if ((lev = server_listen(srv->base, "sd-misbehave", address, port,
	    accept_cb, srv)) == NULL)
		return (NULL);
	if (server_print_port("sd-misbehave", lev) == -1) {
		evconnlistener_free(lev);
		return (NULL);
	}
	return (lev);
}

int
main(int argc, char *argv[])
{
	struct server		 srv;
	struct evconnlistener	*lev;
	struct event		*sigterm, *sigint;
	struct conn		*c;
	const char		*address = "127.0.0.1", *port = "0";
	const char		*logfile = NULL;
	int			 ch, have_mode = 0;

	memset(&srv, 0, sizeof(srv));
	LIST_INIT(&srv.conns);
	while ((ch = getopt(argc, argv, "a:c:m:p:")) != -1) {
		switch (ch) {
		case 'a':
			address = optarg;
			break;
		case 'c':
			logfile = optarg;
			break;
		case 'm':
			if (parse_mode(&srv, optarg) == -1)
				usage();
			have_mode = 1;
			break;
		case 'p':
			port = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || !have_mode)
		usage();

	memset(xs, 'x', sizeof(xs));
	memset(ys, 'y', sizeof(ys));
	/* A peer that leaves must not kill us. */
	signal(SIGPIPE, SIG_IGN);

	if (logfile != NULL && (srv.log = fopen(logfile, "a")) == NULL) {
		fprintf(stderr, "sd-misbehave: %s: %s\n", logfile,
		    strerror(errno));
		return (1);
	}
	if ((srv.base = event_base_new()) == NULL) {
		fprintf(stderr, "sd-misbehave: libevent initialisation "
		    "failed\n");
		return (1);
	}
	sigterm = evsignal_new(srv.base, SIGTERM, signal_cb, &srv);
	sigint = evsignal_new(srv.base, SIGINT, signal_cb, &srv);
	if (sigterm == NULL || sigint == NULL || evsignal_add(sigterm, NULL) ||
	    evsignal_add(sigint, NULL)) {
		fprintf(stderr, "sd-misbehave: cannot catch signals\n");
		return (1);
	}
	if ((lev = listen_on(&srv, address, port)) == NULL)
		return (1);

	event_base_dispatch(srv.base);

	/* nconns bounds the list, so this loop ends. */
	while ((c = LIST_FIRST(&srv.conns)) != NULL)
		conn_free(c);
	evconnlistener_free(lev);
	event_free(sigterm);
	event_free(sigint);
	event_base_free(srv.base);
	if (srv.log != NULL)
		fclose(srv.log);
	return (0);
}
