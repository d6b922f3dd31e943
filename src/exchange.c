/*
 * One mirrored request on its worker: the mirror decision, the shadow
 * leg, the copies kept for diffing (made straight into the request's
 * diff_job), the timings. Nothing here runs on another thread: when
 * both legs are over the job goes to the worker's hand-off and the
 * exchange is freed (exchange_end).
 *
 * Bounds, per exchange: the request body up to [shadow] max_body (a
 * longer one cancels the mirror), each response's head as parsed (at
 * most the parser's header limit), each response body up to [diff]
 * max_body; past it only its length and SHA-256 are kept. A worker has
 * at most [shadow] max_inflight exchanges alive or jobs waiting for the
 * hand-off (mirror_decide), and the diff queue holds at most [diff]
 * queue jobs, each holding what its exchange did: so the memory that
 * mirroring takes is bounded whatever the shadow does. The shadow's
 * response is read as fast as it comes (past 64 KiB in the worker's
 * spare time); past the diff cap only while the digests can still be
 * compared (shadow_past_cap), and not while the primary has yet to say;
 * [shadow] timeout bounds its whole exchange and max_response its body.
 */
#include "config.h"

#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <openssl/evp.h>

#include "shadowdiff/config.h"
#include "shadowdiff/diff.h"
#include "shadowdiff/diff_job.h"
#include "shadowdiff/exchange.h"
#include "shadowdiff/http.h"
#include "shadowdiff/log.h"
#include "shadowdiff/mirror.h"
#include "shadowdiff/stats.h"
#include "shadowdiff/upstream.h"
#include "shadowdiff/util.h"
#include "shadowdiff/worker.h"

#define ID_MAX		128	/* bytes of a client's request id kept */
#define INTERIM_MAX	8	/* 1xx responses taken from the shadow */
#define EXCHANGE_LATE_MS 100	/* a timeout this late is the worker's */
#define EXCHANGE_GROW_MIN 16384	/* a copy's first allocation, at least */
#define EXCHANGE_DEMOTE_AT (64 * 1024) /* shadow body bytes, then spare time */

_Static_assert(EXCHANGE_ID_LEN == MIRROR_ID_LEN, "one request id length");

/* The counter of shadow error E. */
static enum stats_counter
shadow_error_counter(enum shadow_error e)
{
	switch (e) {
#define SHADOW_ERROR_CASE(name, label, what)				\
	case SHADOW_ERROR_##name:					\
		return (STAT_SHADOW_##name);
	STATS_SHADOW_ERRORS(SHADOW_ERROR_CASE)
#undef SHADOW_ERROR_CASE
	default:
		fatalx("shadow error %d has no counter", (int)e);
	}
}

enum shadow_state {
	SH_WAITING,	/* for the whole request body */
	SH_SENT,	/* the request is on its way, or the response */
	SH_OVER		/* answered, failed, or never sent */
};

/*
 * The exchange's own state lives here; what a diff thread reads is made
 * straight into JOB, which the exchange holds until both legs are over.
 */
struct exchange {
	struct worker_entry	 entry;		/* in the worker's list */
	struct worker		*w;
	struct diff_job		*job;
	const struct config	*cfg;		/* the job's reference */
	const struct config_route *route;
	int			 id_added;

	int			 held;		/* by the connection */
	int			 cancelled;	/* body over max_body */
	struct evbuffer		*reqhead;	/* to the shadow, re-framed */

	enum shadow_state	 shadow_state;
	struct upstream		*up;
	struct event		 timer;		/* [shadow] timeout */
	int			 timer_set;
	int			 retriable;
	int			 retried;
	int			 interims;	/* 1xx from the shadow */
	int			 demoted;	/* past the cap: spare time */
	int			 paused;	/* past the cap: waits */
	int			 primary_short;	/* body within the cap */
	int			 sent;		/* counted as mirrored */
	int			 connect_failed; /* timed out connecting */

	EVP_MD_CTX		*sha[DIFF_LEGS]; /* a body past the cap */
};

static int	exchange_shadow_head_cb(void *, struct http_msg *);
static void	exchange_shadow_body_cb(void *, const char *, size_t);
static void	exchange_shadow_done_cb(void *, struct http_msg *);
static void	exchange_shadow_error_cb(void *, enum upstream_error,
		    const char *);
static void	exchange_shadow_drained_cb(void *);
static void	exchange_timeout_cb(evutil_socket_t, short, void *);
static void	exchange_free_cb(void *);

static const struct upstream_cbs shadow_cbs = {
	exchange_shadow_head_cb, exchange_shadow_body_cb, exchange_shadow_done_cb,
	exchange_shadow_error_cb, exchange_shadow_drained_cb
};

/* The route of the exchange's figures (stats.h). */
static size_t
exchange_route_id(const struct exchange *ex)
{
	return (ex->route != NULL ? ex->route->stat_id : STATS_ROUTE_DEFAULT);
}

/* The shadow's capture. */
static struct diff_capture *
exchange_shadow(struct exchange *ex)
{
	return (&ex->job->legs[DIFF_LEG_SHADOW]);
}

/*
 * Makes room for WANT bytes in *BUF (*ALLOC of them), never more than
 * CAP: doubling, from EXCHANGE_GROW_MIN.
 */
static void
exchange_grow(unsigned char **buf, size_t *alloc, size_t want, size_t cap)
{
	if (want <= *alloc)
		return;
	*alloc = *alloc * 2 > want ? *alloc * 2 : want;
	if (*alloc < EXCHANGE_GROW_MIN)
		*alloc = EXCHANGE_GROW_MIN;
	if (*alloc > cap)
		*alloc = cap;
	if ((*buf = realloc(*buf, *alloc)) == NULL)
		fatalx("out of memory");
}

/* Copies the headers of M into C. */
static void
capture_headers(struct diff_capture *c, const struct http_msg *m)
{
	const struct http_header	*h;
	size_t				 i, size = 0;
	char				*p;

	for (i = 0; i < m->nhdrs; i++)
		size += m->hdrs[i].name_len + m->hdrs[i].value_len;
	c->hsize = size + 1 + (m->nhdrs + 1) * sizeof(*c->hdrs);
	c->hbuf = p = malloc(size + 1);
	c->hdrs = calloc(m->nhdrs + 1, sizeof(*c->hdrs));
	if (c->hbuf == NULL || c->hdrs == NULL)
		fatalx("out of memory");
	for (i = 0; i < m->nhdrs; i++) {
		h = &m->hdrs[i];
		memcpy(p, m->buf + h->name_off, h->name_len);
		c->hdrs[i].name = p;
		c->hdrs[i].name_len = h->name_len;
		p += h->name_len;
		memcpy(p, m->buf + h->value_off, h->value_len);
		c->hdrs[i].value = p;
		c->hdrs[i].value_len = h->value_len;
		p += h->value_len;
	}
	c->nhdrs = m->nhdrs;
}

/* A response head: status and headers; room for a body of known size. */
static void
capture_head(struct diff_capture *c, const struct http_msg *m, size_t cap)
{
	c->status = m->status;
	capture_headers(c, m);
	if (m->framing == HTTP_FRAMING_LENGTH && m->content_length > 0 &&
	    m->content_length <= cap) {
		c->alloc = (size_t)m->content_length;
		if ((c->body = malloc(c->alloc)) == NULL)
			fatalx("out of memory");
	}
}

/*
 * Body bytes: kept up to CAP, hashed into *SHA from the first byte past
 * it.
 */
static void
capture_body(struct diff_capture *c, EVP_MD_CTX **sha, const char *data,
    size_t len, size_t cap)
{
	size_t	 n;

	c->bytes += len;
	if (c->len < cap) {
		n = len < cap - c->len ? len : cap - c->len;
		exchange_grow(&c->body, &c->alloc, c->len + n, cap);
		memcpy(c->body + c->len, data, n);
		c->len += n;
		data += n;
		len -= n;
	}
	if (len == 0)
		return;
	if (*sha == NULL) {
		/* The digest covers the whole body: the kept part first. */
		if ((*sha = EVP_MD_CTX_new()) == NULL ||
		    EVP_DigestInit_ex(*sha, EVP_sha256(), NULL) != 1)
			fatalx("SHA-256 unavailable");
		EVP_DigestUpdate(*sha, c->body, c->len);
	}
	EVP_DigestUpdate(*sha, data, len);
}

/* The response ended: its time, and its digest if it was cut. */
static void
capture_end(struct diff_capture *c, EVP_MD_CTX **sha)
{
	c->end_us = util_now_us();
	if (*sha != NULL) {
		EVP_DigestFinal_ex(*sha, c->digest, NULL);
		EVP_MD_CTX_free(*sha);
		*sha = NULL;
	}
}

/*
 * A copy of at most MAX bytes of S for the job (and its record): bytes other than
 * printable ASCII become '?'. A client's id header or target may hold
 * any byte; a record must be valid JSON, which wants UTF-8.
 */
static char *
job_strndup(const char *s, size_t len, size_t max)
{
	char	*c;
	size_t	 i;

	c = xstrndup(s, len < max ? len : max);
	for (i = 0; c[i] != '\0'; i++)
		if ((unsigned char)c[i] < 0x20 || (unsigned char)c[i] > 0x7e)
			c[i] = '?';
	return (c);
}

/* Starts the exchange of request M, mirrored, whose id is ID (LEN bytes). */
static struct exchange *
exchange_new(struct worker *w, const struct config_route *route,
    const struct http_msg *m, const char *id, size_t idlen, int id_added)
{
	struct exchange	*ex;
	struct diff_job	*job;
	const char	*target;
	size_t		 len;

	ex = xcalloc(1, sizeof(*ex));
	ex->job = job = xcalloc(1, sizeof(*job));
	ex->w = w;
	ex->cfg = job->cfg = config_ref(w->cfg);
	ex->route = route;
	job->rules = route != NULL ? route->rules : ex->cfg->diff_rules;
	job->route_id = exchange_route_id(ex);
	job->route_name = route != NULL ? route->name : "default";
	job->id = job_strndup(id, idlen, ID_MAX);
	ex->id_added = id_added;
	job->method = m->method;
	target = http_msg_target(m, &len);
	job->uri = job_strndup(target, len, len);
	job->time_us = util_wall_us();
	job->legs[DIFF_LEG_PRIMARY].start_us = util_now_us();
	ex->held = 1;
	ex->retriable = http_method_idempotent(m->method);
	if ((ex->reqhead = evbuffer_new()) == NULL)
		fatalx("out of memory");
	/* A body of known length is copied once, into its own size. */
	if (m->framing == HTTP_FRAMING_LENGTH && m->content_length > 0 &&
	    m->content_length <= ex->cfg->mirror_max_body)
		exchange_grow(&job->reqbody, &job->reqbody_alloc,
		    (size_t)m->content_length, (size_t)m->content_length);
	if (ex->cfg->log_request_headers)
		capture_headers(&job->request, m);
	worker_exchange_add(w, &ex->entry, ex, exchange_free_cb);
	return (ex);
}

/*
 * Gives request M its id and, if it is mirrored, an exchange; counts
 * why not otherwise.
 */
struct exchange *
exchange_start(struct worker *w, const struct config_route *route,
    const struct http_msg *m, char *newid, int *id_added)
{
	const struct config	*cfg = w->cfg;
	enum mirror_verdict	 v;
	const char		*id;
	size_t			 len;

	if ((id = http_msg_header(m, cfg->request_id_header, &len)) == NULL) {
		mirror_new_id(w->mirror, newid);
		*id_added = 1;
	} else
		*id_added = 0;
	if (cfg->shadow.url == NULL)
		return (NULL);
	v = mirror_decide(cfg, route, m, w->mirror, util_now_ms());
	if (v != MIRROR_YES) {
		stats_inc(&w->stats, mirror_verdict_counter(v));
		return (NULL);
	}
	if (*id_added)
		return (exchange_new(w, route, m, newid, EXCHANGE_ID_LEN, 1));
	return (exchange_new(w, route, m, id, len, 0));
}

/* Request body bytes: kept for the shadow, up to [shadow] max_body. */
void
exchange_request_body(struct exchange *ex, const char *data, size_t len)
{
	struct diff_job	*job = ex->job;

	if (ex->cancelled)
		return;
	if (job->reqbody_len + len > ex->cfg->mirror_max_body) {
		/* Chunked, or longer than it said: too large to mirror. */
		ex->cancelled = 1;
		ex->shadow_state = SH_OVER;
		free(job->reqbody);
		job->reqbody = NULL;
		job->reqbody_len = job->reqbody_alloc = 0;
		stats_inc(&ex->w->stats, STAT_NOT_MIRRORED_BODY);
		return;
	}
	if (len == 0)
		return;
	exchange_grow(&job->reqbody, &job->reqbody_alloc,
	    job->reqbody_len + len, ex->cfg->mirror_max_body);
	memcpy(job->reqbody + job->reqbody_len, data, len);
	job->reqbody_len += len;
}

/*
 * Whether the worker's shadow pool is still for the backend the
 * exchange's config names: a reload may have removed or changed it.
 */
static int
exchange_pool_current(const struct exchange *ex)
{
	return (ex->w->shadow != NULL && config_backend_eq(
	    upstream_pool_backend(ex->w->shadow), &ex->cfg->shadow));
}

/*
 * Counts the exchange as mirrored: when its request goes to the shadow,
 * or when it is dropped before that (its client left mid-body, a reload
 * changed the shadow). Every mirror then ends in exactly one outcome:
 * compared, or dropped for one reason (docs/metrics.md). A body found
 * over [shadow] max_body while it arrives is "not mirrored" instead.
 */
static void
exchange_count_mirrored(struct exchange *ex)
{
	stats_inc(&ex->w->stats, STAT_MIRRORED);
	stats_route_add(&ex->w->routes[exchange_route_id(ex)].mirrored, 1);
}

/* Sends the request to the shadow on a connection of USE. */
static int
exchange_send(struct exchange *ex, enum upstream_use use)
{
	struct evbuffer	*out;

	ex->up = upstream_get(ex->w->shadow, &shadow_cbs, ex,
	    ex->job->method, use);
	if (ex->up == NULL)
		return (-1);
	out = upstream_output(ex->up);
	evbuffer_add(out, evbuffer_pullup(ex->reqhead, -1),
	    evbuffer_get_length(ex->reqhead));
	evbuffer_add(out, ex->job->reqbody, ex->job->reqbody_len);
	upstream_request_sent(ex->up);
	return (0);
}

static void	shadow_fail(struct exchange *, enum shadow_error);
static void	shadow_past_cap(struct exchange *);

/*
 * Marks FW as a copy of the client's request, for a backend other than
 * the primary (the shadow; a second primary for noise, later): it
 * carries [shadow] marker, for the service to switch off its side
 * effects, and a copy that comes back through us is never mirrored
 * again (mirror_decide). The client's own marker is not passed on.
 */
static void
exchange_mark_copy(const struct config *cfg, struct http_forward *fw)
{
	fw->marker_name = cfg->marker_name;
	fw->marker_value = cfg->marker_value;
}

/* The request is read whole: it goes to the shadow now. */
void
exchange_request_done(struct exchange *ex, const struct http_msg *m,
    const char *client_addr, const char *proto)
{
	const struct config	*cfg = ex->cfg;
	struct http_forward	 fw;
	struct timeval		 tv;

	if (ex->cancelled || ex->shadow_state != SH_WAITING)
		return;
	/*
	 * A reload removed or changed the shadow while the body came: the
	 * request was made for a backend the worker no longer has a pool
	 * for. Dropped (counted), not sent where it wasn't meant to go.
	 */
	if (!exchange_pool_current(ex)) {
		ex->cancelled = 1;
		ex->shadow_state = SH_OVER;
		exchange_count_mirrored(ex);
		stats_inc(&ex->w->stats, STAT_MIRROR_RELOADED);
		return;
	}
	memset(&fw, 0, sizeof(fw));
	fw.client_addr = client_addr;
	fw.proto = proto;
	fw.host = cfg->shadow.hostport;
	fw.host_fixed = cfg->shadow_host_fixed;
	fw.host_suffix = cfg->shadow_host_suffix;
	/* The whole body is here: its length is known. */
	fw.framing = m->framing == HTTP_FRAMING_NONE ? HTTP_FRAMING_NONE :
	    HTTP_FRAMING_LENGTH;
	fw.length = ex->job->reqbody_len;
	fw.id_name = cfg->request_id_header;
	fw.id_value = ex->id_added ? ex->job->id : NULL;
	exchange_mark_copy(cfg, &fw);
	http_write_request_head(ex->reqhead, m, &fw);

	ex->shadow_state = SH_SENT;
	exchange_shadow(ex)->start_us = util_now_us();
	ex->sent = 1;
	exchange_count_mirrored(ex);
	/* Embedded, not allocated: one malloc less per mirror. */
	evtimer_assign(&ex->timer, ex->w->base, exchange_timeout_cb, ex);
	ex->timer_set = 1;
	tv = util_tv_ms(cfg->shadow_timeout_ms);
	evtimer_add(&ex->timer, &tv);
	if (exchange_send(ex, ex->retriable ? UPSTREAM_POOLED :
	    UPSTREAM_POOLED_CHECKED) == -1)
		shadow_fail(ex, SHADOW_ERROR_REFUSED);
}

/* The primary's final response head. */
void
exchange_primary_head(struct exchange *ex, const struct http_msg *r,
    int nobody)
{
	capture_head(&ex->job->legs[DIFF_LEG_PRIMARY], r,
	    nobody ? 0 : ex->cfg->diff_max_body);
	ex->primary_short = nobody || (r->framing == HTTP_FRAMING_LENGTH &&
	    r->content_length <= ex->cfg->diff_max_body);
	if (ex->paused)
		shadow_past_cap(ex);
}

void
exchange_primary_body(struct exchange *ex, const char *data, size_t len)
{
	struct diff_capture	*c = &ex->job->legs[DIFF_LEG_PRIMARY];

	/* Nothing will be compared: count, don't copy or hash. */
	if (ex->cancelled || ex->job->shadow_error != SHADOW_ERROR_NONE) {
		c->bytes += len;
		return;
	}
	capture_body(c, &ex->sha[DIFF_LEG_PRIMARY], data, len,
	    ex->cfg->diff_max_body);
	if (ex->paused && c->bytes > ex->cfg->diff_max_body)
		shadow_past_cap(ex);
}

/* Closes the shadow leg's connection and timer, if any. */
static void
exchange_unhook(struct exchange *ex)
{
	if (ex->up != NULL) {
		upstream_abort(ex->up);
		ex->up = NULL;
	}
	if (ex->timer_set) {
		evtimer_del(&ex->timer);
		ex->timer_set = 0;
	}
}

/*
 * The single teardown, on the worker: unhooks the exchange from its
 * shadow leg and from its worker, to which it hands its job when
 * HANDOVER (both legs over, to be compared), and frees the rest.
 */
static void
exchange_end(struct exchange *ex, int handover)
{
	size_t	 i;

	exchange_unhook(ex);
	if (handover)
		worker_exchange_remove(ex->w, &ex->entry, ex->job);
	else {
		worker_exchange_remove(ex->w, &ex->entry, NULL);
		diff_job_free(ex->job);
	}
	for (i = 0; i < DIFF_LEGS; i++)
		EVP_MD_CTX_free(ex->sha[i]);
	evbuffer_free(ex->reqhead);
	free(ex);
}

/* Both legs are over: compared, unless the mirror was cancelled. */
static void
exchange_finish(struct exchange *ex)
{
	exchange_end(ex, !ex->cancelled);
}

/* The primary's response ended: the connection lets go. */
void
exchange_primary_done(struct exchange *ex)
{
	if (ex->shadow_state == SH_WAITING) {
		/* Answered before the request was read whole: never sent. */
		exchange_abandon(ex);
		return;
	}
	capture_end(&ex->job->legs[DIFF_LEG_PRIMARY],
	    &ex->sha[DIFF_LEG_PRIMARY]);
	ex->held = 0;
	if (ex->shadow_state == SH_OVER)
		exchange_finish(ex);
	else if (ex->paused)
		shadow_past_cap(ex);	/* may free EX */
}

/*
 * The primary exchange failed or the client left: no comparison. A
 * worker stopping at the end of drain_timeout closes its clients: their
 * mirrors count as dropped at shutdown.
 */
void
exchange_abandon(struct exchange *ex)
{
	if (!ex->cancelled) {
		if (!ex->sent)
			exchange_count_mirrored(ex);
		stats_inc(&ex->w->stats, ex->w->stopping && ex->sent ?
		    STAT_MIRROR_SHUTDOWN : STAT_MIRROR_ABANDONED);
	}
	exchange_end(ex, 0);
}

/*
 * Frees an exchange of a stopping worker (drain_timeout ran out): a
 * mirror sent and not yet over is counted, dropped at shutdown.
 */
static void
exchange_free_cb(void *arg)
{
	struct exchange	*ex = arg;

	if (!ex->cancelled) {
		if (!ex->sent)
			exchange_count_mirrored(ex);
		stats_inc(&ex->w->stats, STAT_MIRROR_SHUTDOWN);
	}
	exchange_end(ex, 0);
}

/* The shadow leg is over; the exchange goes on if the primary's is. */
static void
shadow_over(struct exchange *ex)
{
	capture_end(exchange_shadow(ex), &ex->sha[DIFF_LEG_SHADOW]);
	ex->shadow_state = SH_OVER;
	if (ex->timer_set)
		evtimer_del(&ex->timer);
	if (!ex->held)
		exchange_finish(ex);
}

/*
 * The shadow failed with ERROR: counted, and told in the record. Its
 * connection closes now, and the bodies kept go at once: nothing is
 * compared after an error.
 */
static void
shadow_fail(struct exchange *ex, enum shadow_error error)
{
	struct diff_capture	*c;
	size_t			 i;

	if (ex->up != NULL) {
		upstream_abort(ex->up);
		ex->up = NULL;
	}
	ex->paused = 0;
	ex->job->shadow_error = error;
	for (i = 0; i < DIFF_LEGS; i++) {
		c = &ex->job->legs[i];
		free(c->body);
		c->body = NULL;
		c->len = c->alloc = 0;
	}
	stats_inc(&ex->w->stats, shadow_error_counter(error));
	/*
	 * Outlier detection counts connection-level failures; an answer,
	 * even a bad one, says the shadow is there; a slow one, neither.
	 */
	if (error == SHADOW_ERROR_REFUSED || error == SHADOW_ERROR_RESET ||
	    error == SHADOW_ERROR_TLS || ex->connect_failed)
		mirror_shadow_failed(ex->w->mirror, util_now_ms(),
		    ex->cfg->shadow.hostport);
	else if (error != SHADOW_ERROR_TIMEOUT)
		mirror_shadow_answered(ex->w->mirror,
		    ex->cfg->shadow.hostport);
	shadow_over(ex);
}

/*
 * The shadow's body is past [diff] max_body. Only its digest is still
 * wanted, and only if the primary's body is past the cap too (the two
 * digests are compared): then it is read in the worker's spare time,
 * up to max_response. If the primary's body ended, or will end, within
 * the cap, nothing more can be compared: the leg ends now, too large,
 * and an endless body costs nothing more. Until the primary says which,
 * the shadow is not read. May free EX (when the primary is over).
 */
static void
shadow_past_cap(struct exchange *ex)
{
	const struct diff_capture	*p = &ex->job->legs[DIFF_LEG_PRIMARY];

	if (ex->shadow_state != SH_SENT || ex->up == NULL)
		return;
	if (p->bytes > ex->cfg->diff_max_body) {
		if (!ex->demoted) {
			ex->demoted = 1;
			upstream_demote(ex->up, WORKER_PRIO_SHADOW);
		}
		if (ex->paused) {
			ex->paused = 0;
			upstream_set_reading(ex->up, 1);	/* may free EX */
		}
	} else if (ex->primary_short || !ex->held)
		shadow_fail(ex, SHADOW_ERROR_TOO_LARGE);	/* may free EX */
	else if (!ex->paused) {
		ex->paused = 1;
		upstream_set_reading(ex->up, 0);
	}
}

/* [shadow] timeout ran out. */
static void
exchange_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct exchange	*ex = arg;
	int64_t		 late_ms;

	if (ex->shadow_state != SH_SENT)
		return;
	/*
	 * The shadow's events run in the worker's spare time. If this
	 * timer itself ran late, the worker was too busy to read the
	 * shadow: the timeout may be ours, not the shadow's. No record
	 * blames it; the mirror is dropped and counted.
	 */
	late_ms = (int64_t)((util_now_us() - exchange_shadow(ex)->start_us) /
	    1000) - (int64_t)ex->cfg->shadow_timeout_ms;
	if (late_ms > EXCHANGE_LATE_MS +
	    (int64_t)ex->cfg->shadow_timeout_ms / 10) {
		stats_inc(&ex->w->stats, STAT_MIRROR_OVERLOADED);
		ex->cancelled = 1;
		if (ex->up != NULL) {
			upstream_abort(ex->up);
			ex->up = NULL;
		}
		shadow_over(ex);
		return;
	}
	/*
	 * Paused past the diff cap, the shadow was waiting for the primary,
	 * not slow: its body is too large for what can still be compared.
	 */
	shadow_fail(ex, ex->paused ? SHADOW_ERROR_TOO_LARGE :
	    SHADOW_ERROR_TIMEOUT);
}

/* The shadow's response head (or an interim one). */
static int
exchange_shadow_head_cb(void *arg, struct http_msg *r)
{
	struct exchange	*ex = arg;
	int		 nobody;

	if (r->status < 200) {
		/* A 1xx storm would keep the worker parsing: a few, then no. */
		if (r->status != 101 && ++ex->interims > INTERIM_MAX)
			shadow_fail(ex, SHADOW_ERROR_BAD_RESPONSE);
		/* The final one follows; after a 101, the done callback. */
		return (0);
	}
	nobody = ex->job->method == HTTP_HEAD || r->status == 204 ||
	    r->status == 304;
	if (!nobody && r->framing == HTTP_FRAMING_LENGTH &&
	    r->content_length > ex->cfg->shadow_max_response) {
		/* Said too large: not a byte of it is read. */
		shadow_fail(ex, SHADOW_ERROR_TOO_LARGE);
		return (1);
	}
	capture_head(exchange_shadow(ex), r,
	    nobody ? 0 : ex->cfg->diff_max_body);
	return (nobody);
}

/* Shadow body bytes: kept up to the cap; too large past max_response. */
static void
exchange_shadow_body_cb(void *arg, const char *data, size_t len)
{
	struct exchange		*ex = arg;
	struct diff_capture	*c;

	if (ex->shadow_state != SH_SENT)
		return;
	c = exchange_shadow(ex);
	capture_body(c, &ex->sha[DIFF_LEG_SHADOW], data, len,
	    ex->cfg->diff_max_body);
	if (c->bytes > ex->cfg->shadow_max_response) {
		shadow_fail(ex, SHADOW_ERROR_TOO_LARGE);
		return;
	}
	/* A long body is read in the worker's spare time: clients first. */
	if (!ex->demoted && c->bytes > EXCHANGE_DEMOTE_AT) {
		ex->demoted = 1;
		upstream_demote(ex->up, WORKER_PRIO_SHADOW);
	}
	if (c->bytes > ex->cfg->diff_max_body && !ex->paused)
		shadow_past_cap(ex);
}

/* The shadow's response ended. */
static void
exchange_shadow_done_cb(void *arg, struct http_msg *r)
{
	struct exchange	*ex = arg;

	if (ex->shadow_state != SH_SENT || (r->status < 200 &&
	    r->status != 101))
		return;
	if (r->status == 101) {
		/* We never ask the shadow to upgrade. */
		shadow_fail(ex, SHADOW_ERROR_BAD_RESPONSE);
		return;
	}
	upstream_release(ex->up, 1);
	ex->up = NULL;
	stats_inc(&ex->w->stats, STAT_SHADOW_OK);
	stats_route_latency(ex->w->routes, exchange_route_id(ex),
	    STATS_SHADOW, util_now_us() - exchange_shadow(ex)->start_us);
	mirror_shadow_answered(ex->w->mirror, ex->cfg->shadow.hostport);
	shadow_over(ex);
}

/* The shadow failed; a pooled connection closed under us is retried. */
static void
exchange_shadow_error_cb(void *arg, enum upstream_error err, const char *reason)
{
	struct exchange	*ex = arg;

	ex->up = NULL;	/* gone when we return */
	if (ex->shadow_state != SH_SENT)
		return;
	if (err == UPSTREAM_STALE && ex->retriable && !ex->retried &&
	    exchange_pool_current(ex)) {
		ex->retried = 1;
		stats_inc(&ex->w->shadow_stats, STAT_UP_RETRIES);
		if (exchange_send(ex, UPSTREAM_NEW) == 0)
			return;
		err = UPSTREAM_REFUSED;
	}
	ex->connect_failed = err == UPSTREAM_TIMEOUT &&
	    strcmp(reason, UPSTREAM_CONNECT_TIMEOUT) == 0;
	shadow_fail(ex, err == UPSTREAM_TIMEOUT ? SHADOW_ERROR_TIMEOUT :
	    err == UPSTREAM_REFUSED ? SHADOW_ERROR_REFUSED :
	    err == UPSTREAM_BAD_RESPONSE ? SHADOW_ERROR_BAD_RESPONSE :
	    err == UPSTREAM_TLS ? SHADOW_ERROR_TLS : SHADOW_ERROR_RESET);
}

/* Our request is at most max_body, written at once: nothing to pace. */
static void
exchange_shadow_drained_cb(void *arg)
{
}
