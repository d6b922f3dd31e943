/*
 * One mirrored request: the shadow leg, the copies kept for diffing,
 * the timings, and the hand-off to the diff threads.
 *
 * Bounds, per exchange: the request body up to [shadow] max_body (a
 * longer one cancels the mirror), each response's head as parsed (at
 * most the parser's header limit), each response body up to [diff]
 * max_body; past it only its length and SHA-256 are kept. A worker has
 * at most [shadow] max_inflight exchanges alive (mirror_decide), and
 * the diff queue holds at most [diff] queue of them: so the memory that
 * mirroring takes is bounded whatever the shadow does. The shadow's
 * response is read as fast as it comes and never waits for anything;
 * [shadow] timeout bounds its whole exchange and max_response its body.
 */
#include "config.h"

#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "shadowdiff/config.h"
#include "shadowdiff/diff.h"
#include "shadowdiff/divlog.h"
#include "shadowdiff/differ.h"
#include "shadowdiff/exchange.h"
#include "shadowdiff/http.h"
#include "shadowdiff/log.h"
#include "shadowdiff/mirror.h"
#include "shadowdiff/stats.h"
#include "shadowdiff/upstream.h"
#include "shadowdiff/util.h"
#include "shadowdiff/worker.h"

#define SHA256_LEN	32
#define ID_MAX		128	/* bytes of a client's request id kept */
#define INTERIM_MAX	8	/* 1xx responses taken from the shadow */
#define EXCHANGE_LATE_MS 100	/* a timeout this late is the worker's */

/* A response (or the request's headers) as kept for the diff. */
struct capture {
	int			 status;
	struct diff_header	*hdrs;
	size_t			 nhdrs;
	char			*hbuf;		/* the headers' bytes */
	size_t			 hsize;		/* hdrs and hbuf */
	unsigned char		*body;
	size_t			 len;		/* kept, at most the cap */
	size_t			 alloc;
	uint64_t		 bytes;		/* received */
	EVP_MD_CTX		*sha;		/* once past the cap */
	unsigned char		 digest[SHA256_LEN];
	uint64_t		 end_us;
};

enum shadow_state {
	SH_WAITING,	/* for the whole request body */
	SH_SENT,	/* the request is on its way, or the response */
	SH_OVER		/* answered, failed, or never sent */
};

struct exchange {
	TAILQ_ENTRY(exchange)	 entry;		/* in the worker's list */
	struct worker		*w;		/* NULL once handed off */
	struct config		*cfg;
	const struct config_route *route;
	char			*id;
	int			 id_added;
	int			 method;
	char			*uri;
	int64_t			 time_us;	/* wall clock, for the record */
	uint64_t		 start_us;	/* monotonic */
	uint64_t		 shadow_start_us;

	int			 held;		/* by the connection */
	int			 cancelled;	/* body over max_body */
	struct capture		 request;	/* headers, for log_request */
	struct evbuffer		*reqhead;	/* to the shadow, re-framed */
	struct evbuffer		*reqbody;

	enum shadow_state	 shadow_state;
	struct upstream		*up;
	struct event		 timer;		/* [shadow] timeout */
	int			 timer_set;
	int			 retriable;
	int			 retried;
	int			 interims;	/* 1xx from the shadow */
	int			 demoted;	/* past the cap: spare time */
	const char		*shadow_error;

	struct capture		 primary;
	struct capture		 shadow;
	int			 primary_done;
};

static int	sh_head(void *, struct http_msg *);
static void	sh_body(void *, const char *, size_t);
static void	sh_done(void *, struct http_msg *);
static void	sh_error(void *, enum upstream_error, const char *);
static void	sh_drained(void *);
static void	exchange_timeout_cb(evutil_socket_t, short, void *);

static const struct upstream_cbs shadow_cbs = {
	sh_head, sh_body, sh_done, sh_error, sh_drained
};

/* The route of the exchange's figures (stats.h). */
size_t
exchange_route_id(const struct exchange *ex)
{
	return (ex->route != NULL ? ex->route->stat_id : STATS_ROUTE_DEFAULT);
}

/* Copies the headers of M into C. */
static void
capture_headers(struct capture *c, const struct http_msg *m)
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
capture_head(struct capture *c, const struct http_msg *m, size_t cap)
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

/* Body bytes: kept up to CAP, hashed from the first byte past it. */
static void
capture_body(struct capture *c, const char *data, size_t len, size_t cap)
{
	size_t	 n;

	c->bytes += len;
	if (c->len < cap) {
		n = len < cap - c->len ? len : cap - c->len;
		if (c->len + n > c->alloc) {
			c->alloc = c->alloc * 2 > c->len + n ? c->alloc * 2 :
			    c->len + n;
			if (c->alloc < 16384)
				c->alloc = 16384;
			if (c->alloc > cap)
				c->alloc = cap;
			if ((c->body = realloc(c->body, c->alloc)) == NULL)
				fatalx("out of memory");
		}
		memcpy(c->body + c->len, data, n);
		c->len += n;
		data += n;
		len -= n;
	}
	if (len == 0)
		return;
	if (c->sha == NULL) {
		/* The digest covers the whole body: the kept part first. */
		if ((c->sha = EVP_MD_CTX_new()) == NULL ||
		    EVP_DigestInit_ex(c->sha, EVP_sha256(), NULL) != 1)
			fatalx("SHA-256 unavailable");
		EVP_DigestUpdate(c->sha, c->body, c->len);
	}
	EVP_DigestUpdate(c->sha, data, len);
}

/* The response ended: its time, and its digest if it was cut. */
static void
capture_end(struct capture *c)
{
	c->end_us = util_now_us();
	if (c->sha != NULL) {
		EVP_DigestFinal_ex(c->sha, c->digest, NULL);
		EVP_MD_CTX_free(c->sha);
		c->sha = NULL;
	}
}

static void
capture_clear(struct capture *c)
{
	free(c->hdrs);
	free(c->hbuf);
	free(c->body);
	EVP_MD_CTX_free(c->sha);
	memset(c, 0, sizeof(*c));
}

/*
 * A copy of at most MAX bytes of S for a record: bytes other than
 * printable ASCII become '?'. A client's id header or target may hold
 * any byte; a record must be valid JSON, which wants UTF-8.
 */
static char *
record_strndup(const char *s, size_t len, size_t max)
{
	char	*c;
	size_t	 i;

	c = xstrndup(s, len < max ? len : max);
	for (i = 0; c[i] != '\0'; i++)
		if ((unsigned char)c[i] < 0x20 || (unsigned char)c[i] > 0x7e)
			c[i] = '?';
	return (c);
}

/* Starts the exchange of request M. */
struct exchange *
exchange_new(struct worker *w, const struct config_route *route,
    const struct http_msg *m, const char *id, size_t idlen, int id_added)
{
	struct exchange	*ex;
	const char	*target;
	size_t		 len;

	ex = xcalloc(1, sizeof(*ex));
	ex->w = w;
	ex->cfg = config_ref(w->cfg);
	ex->route = route;
	ex->id = record_strndup(id, idlen, ID_MAX);
	ex->id_added = id_added;
	ex->method = m->method;
	target = http_msg_target(m, &len);
	ex->uri = record_strndup(target, len, len);
	ex->time_us = util_wall_us();
	ex->start_us = util_now_us();
	ex->held = 1;
	ex->retriable = http_method_idempotent(m->method);
	if ((ex->reqhead = evbuffer_new()) == NULL ||
	    (ex->reqbody = evbuffer_new()) == NULL)
		fatalx("out of memory");
	if (ex->cfg->log_request_headers)
		capture_headers(&ex->request, m);
	TAILQ_INSERT_TAIL(&w->exchanges, ex, entry);
	w->mirror.inflight++;
	return (ex);
}

/* Request body bytes: kept for the shadow, up to [shadow] max_body. */
void
exchange_request_body(struct exchange *ex, const char *data, size_t len)
{
	if (ex->cancelled)
		return;
	if (evbuffer_get_length(ex->reqbody) + len >
	    ex->cfg->mirror_max_body) {
		/* Chunked, or longer than it said: too large to mirror. */
		ex->cancelled = 1;
		ex->shadow_state = SH_OVER;
		evbuffer_free(ex->reqbody);
		ex->reqbody = NULL;
		stats_inc(&ex->w->stats, STAT_NOT_MIRRORED_BODY);
		return;
	}
	evbuffer_add(ex->reqbody, data, len);
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

/* Sends the request to the shadow on a connection of USE. */
static int
exchange_send(struct exchange *ex, enum upstream_use use)
{
	struct evbuffer	*out;

	ex->up = upstream_get(ex->w->shadow, &shadow_cbs, ex, ex->method, use);
	if (ex->up == NULL)
		return (-1);
	out = upstream_output(ex->up);
	evbuffer_add(out, evbuffer_pullup(ex->reqhead, -1),
	    evbuffer_get_length(ex->reqhead));
	evbuffer_add(out, evbuffer_pullup(ex->reqbody, -1),
	    evbuffer_get_length(ex->reqbody));
	upstream_request_sent(ex->up);
	return (0);
}

static void	shadow_fail(struct exchange *, const char *);

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
		stats_inc(&ex->w->stats, STAT_MIRROR_RELOADED);
		return;
	}
	memset(&fw, 0, sizeof(fw));
	fw.client_addr = client_addr;
	fw.proto = proto;
	fw.host = cfg->shadow.hostport;
	/* The whole body is here: its length is known. */
	fw.framing = m->framing == HTTP_FRAMING_NONE ? HTTP_FRAMING_NONE :
	    HTTP_FRAMING_LENGTH;
	fw.length = evbuffer_get_length(ex->reqbody);
	fw.id_name = cfg->request_id_header;
	fw.id_value = ex->id_added ? ex->id : NULL;
	http_write_request_head(ex->reqhead, m, &fw);

	ex->shadow_state = SH_SENT;
	ex->shadow_start_us = util_now_us();
	stats_inc(&ex->w->stats, STAT_MIRRORED);
	stats_route_add(&ex->w->routes[exchange_route_id(ex)].mirrored, 1);
	/* Embedded, not allocated: one malloc less per mirror. */
	evtimer_assign(&ex->timer, ex->w->base, exchange_timeout_cb, ex);
	ex->timer_set = 1;
	tv = util_tv_ms(cfg->shadow_timeout_ms);
	evtimer_add(&ex->timer, &tv);
	if (exchange_send(ex, ex->retriable ? UPSTREAM_POOLED :
	    UPSTREAM_POOLED_CHECKED) == -1)
		shadow_fail(ex, "refused");
}

/* The primary's final response head. */
void
exchange_primary_head(struct exchange *ex, const struct http_msg *r,
    int nobody)
{
	capture_head(&ex->primary, r, nobody ? 0 : ex->cfg->diff_max_body);
}

void
exchange_primary_body(struct exchange *ex, const char *data, size_t len)
{
	/* Nothing will be compared: count, don't copy or hash. */
	if (ex->cancelled || ex->shadow_error != NULL) {
		ex->primary.bytes += len;
		return;
	}
	capture_body(&ex->primary, data, len, ex->cfg->diff_max_body);
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

/* Unhooks EX from its worker (from LIST): nothing of the worker's left. */
static void
exchange_detach(struct exchange *ex, struct exchange_list *list)
{
	struct worker	*w = ex->w;

	exchange_unhook(ex);
	TAILQ_REMOVE(list, ex, entry);
	w->mirror.inflight--;
	ex->w = NULL;
	worker_exchange_gone(w);
}

/*
 * Both legs are over: the exchange waits, with the others finished in
 * this loop turn, for exchange_handoff. Handing over in batches costs
 * one lock and at most one wake-up of a diff thread per turn, not per
 * exchange: that wake-up, not the diff, was most of the cost.
 */
static void
exchange_finish(struct exchange *ex)
{
	struct worker	*w = ex->w;

	if (ex->cancelled) {
		exchange_detach(ex, &w->exchanges);
		exchange_free(ex);
		return;
	}
	exchange_unhook(ex);
	TAILQ_REMOVE(&w->exchanges, ex, entry);
	TAILQ_INSERT_TAIL(&w->finished, ex, entry);
	if (!w->handoff_pending) {
		w->handoff_pending = 1;
		event_active(w->ev_handoff, EV_TIMEOUT, 0);
	}
}

/* Hands the finished exchanges to the diff threads; drops what won't fit. */
void
exchange_handoff(struct worker *w)
{
	struct exchange	*batch[64], *ex;
	size_t		 n, i, taken;

	w->handoff_pending = 0;
	while (!TAILQ_EMPTY(&w->finished)) {
		for (n = 0; n < nitems(batch) &&
		    (ex = TAILQ_FIRST(&w->finished)) != NULL; n++) {
			TAILQ_REMOVE(&w->finished, ex, entry);
			w->mirror.inflight--;
			ex->w = NULL;
			batch[n] = ex;
		}
		taken = w->differ != NULL ? differ_submit(w->differ, batch, n) :
		    0;
		stats_add(&w->stats, STAT_DIFF_QUEUED, (int64_t)taken);
		stats_add(&w->stats, STAT_DIFF_DROPPED, (int64_t)(n - taken));
		for (i = taken; i < n; i++)
			exchange_free(batch[i]);
	}
	worker_exchange_gone(w);
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
	capture_end(&ex->primary);
	ex->primary_done = 1;
	ex->held = 0;
	if (ex->shadow_state == SH_OVER)
		exchange_finish(ex);
}

/* The primary exchange failed or the client left: no comparison. */
void
exchange_abandon(struct exchange *ex)
{
	if (!ex->cancelled)
		stats_inc(&ex->w->stats, STAT_MIRROR_ABANDONED);
	exchange_detach(ex, &ex->w->exchanges);
	exchange_free(ex);
}

/* Frees every exchange of a stopping worker. */
void
exchange_free_all(struct worker *w)
{
	struct exchange	*ex;

	while ((ex = TAILQ_FIRST(&w->exchanges)) != NULL) {
		exchange_detach(ex, &w->exchanges);
		exchange_free(ex);
	}
	while ((ex = TAILQ_FIRST(&w->finished)) != NULL) {
		exchange_detach(ex, &w->finished);
		exchange_free(ex);
	}
}

/* The shadow leg is over; the exchange goes on if the primary's is. */
static void
shadow_over(struct exchange *ex)
{
	capture_end(&ex->shadow);
	ex->shadow_state = SH_OVER;
	if (ex->timer_set)
		evtimer_del(&ex->timer);
	if (!ex->held)
		exchange_finish(ex);
}

/* The shadow failed with ERROR (a record's shadow.error). */
static void
shadow_fail(struct exchange *ex, const char *error)
{
	static const struct {
		const char		*error;
		enum stats_counter	 which;
	} counters[] = {
		{ "timeout", STAT_SHADOW_TIMEOUT },
		{ "refused", STAT_SHADOW_REFUSED },
		{ "reset", STAT_SHADOW_RESET },
		{ "bad_response", STAT_SHADOW_BAD_RESPONSE },
		{ "too_large", STAT_SHADOW_TOO_LARGE },
		{ "tls", STAT_SHADOW_TLS }
	};
	size_t	 i;

	if (ex->up != NULL) {
		upstream_abort(ex->up);
		ex->up = NULL;
	}
	ex->shadow_error = error;
	for (i = 0; i < nitems(counters); i++)
		if (strcmp(counters[i].error, error) == 0)
			stats_inc(&ex->w->stats, counters[i].which);
	if (strcmp(error, "refused") == 0)
		mirror_shadow_refused(&ex->w->mirror, util_now_ms(),
		    ex->cfg->shadow.hostport);
	shadow_over(ex);
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
	late_ms = (int64_t)((util_now_us() - ex->shadow_start_us) / 1000) -
	    (int64_t)ex->cfg->shadow_timeout_ms;
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
	shadow_fail(ex, "timeout");
}

/* The shadow's response head (or an interim one). */
static int
sh_head(void *arg, struct http_msg *r)
{
	struct exchange	*ex = arg;
	int		 nobody;

	if (r->status < 200) {
		/* A 1xx storm would keep the worker parsing: a few, then no. */
		if (r->status != 101 && ++ex->interims > INTERIM_MAX)
			shadow_fail(ex, "bad_response");
		return (0);	/* the final one follows; 101: sh_done */
	}
	nobody = ex->method == HTTP_HEAD || r->status == 204 ||
	    r->status == 304;
	capture_head(&ex->shadow, r, nobody ? 0 : ex->cfg->diff_max_body);
	return (nobody);
}

/* Shadow body bytes: kept up to the cap; too large past max_response. */
static void
sh_body(void *arg, const char *data, size_t len)
{
	struct exchange	*ex = arg;

	if (ex->shadow_state != SH_SENT)
		return;
	capture_body(&ex->shadow, data, len, ex->cfg->diff_max_body);
	if (ex->shadow.bytes > ex->cfg->shadow_max_response) {
		shadow_fail(ex, "too_large");
		return;
	}
	/* Past the cap only the digest is wanted: in the spare time. */
	if (!ex->demoted && ex->shadow.bytes > ex->cfg->diff_max_body) {
		ex->demoted = 1;
		upstream_demote(ex->up, WORKER_PRIO_SHADOW);
	}
}

/* The shadow's response ended. */
static void
sh_done(void *arg, struct http_msg *r)
{
	struct exchange	*ex = arg;

	if (ex->shadow_state != SH_SENT || (r->status < 200 &&
	    r->status != 101))
		return;
	if (r->status == 101) {
		/* We never ask the shadow to upgrade. */
		shadow_fail(ex, "bad_response");
		return;
	}
	upstream_release(ex->up, 1);
	ex->up = NULL;
	stats_inc(&ex->w->stats, STAT_SHADOW_OK);
	stats_route_latency(ex->w->routes, exchange_route_id(ex),
	    STATS_SHADOW, util_now_us() - ex->shadow_start_us);
	mirror_shadow_answered(&ex->w->mirror, ex->cfg->shadow.hostport);
	shadow_over(ex);
}

/* The shadow failed; a pooled connection closed under us is retried. */
static void
sh_error(void *arg, enum upstream_error err, const char *reason)
{
	struct exchange	*ex = arg;

	ex->up = NULL;	/* gone when we return */
	if (ex->shadow_state != SH_SENT)
		return;
	if (err == UPSTREAM_STALE && ex->retriable && !ex->retried &&
	    exchange_pool_current(ex)) {
		ex->retried = 1;
		if (exchange_send(ex, UPSTREAM_NEW) == 0)
			return;
		err = UPSTREAM_REFUSED;
	}
	shadow_fail(ex, err == UPSTREAM_TIMEOUT ? "timeout" :
	    err == UPSTREAM_REFUSED ? "refused" :
	    err == UPSTREAM_BAD_RESPONSE ? "bad_response" :
	    err == UPSTREAM_TLS ? "tls" : "reset");
}

/* Our request is at most max_body, written at once: nothing to pace. */
static void
sh_drained(void *arg)
{
}

/* Bytes held, for the diff queue's bound. */
size_t
exchange_size(const struct exchange *ex)
{
	return (sizeof(*ex) + ex->primary.alloc + ex->shadow.alloc +
	    ex->request.hsize + ex->primary.hsize + ex->shadow.hsize +
	    (ex->reqbody != NULL ? evbuffer_get_length(ex->reqbody) : 0) +
	    (ex->reqhead != NULL ? evbuffer_get_length(ex->reqhead) : 0));
}

/* The single teardown. */
void
exchange_free(struct exchange *ex)
{
	if (ex == NULL)
		return;
	capture_clear(&ex->request);
	capture_clear(&ex->primary);
	capture_clear(&ex->shadow);
	if (ex->reqhead != NULL)
		evbuffer_free(ex->reqhead);
	if (ex->reqbody != NULL)
		evbuffer_free(ex->reqbody);
	config_unref(ex->cfg);
	free(ex->id);
	free(ex->uri);
	free(ex);
}

/*
 * Everything below runs on a diff thread, on an exchange that no worker
 * holds any more.
 */

/* A capture as the diff engine takes it. */
static void
exchange_response(const struct capture *c, struct diff_response *r)
{
	memset(r, 0, sizeof(*r));
	r->status = c->status;
	r->headers = c->hdrs;
	r->nheaders = c->nhdrs;
	r->body = c->body;
	r->body_len = c->len;
	r->body_truncated = c->bytes > c->len;
}

/* "sha256:HEX" of a cut body, as a JSON string. */
static void
exchange_digest_json(const struct capture *c, char *buf)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i;
	char			*p;

	p = buf + sprintf(buf, "\"sha256:");
	for (i = 0; i < SHA256_LEN; i++) {
		*p++ = hex[c->digest[i] >> 4];
		*p++ = hex[c->digest[i] & 0xf];
	}
	strcpy(p, "\"");
}

/* Whether header NAME (LEN bytes) is one to redact. */
static int
exchange_redacted(const struct config *cfg, const char *name, size_t len)
{
	size_t	 i;

	for (i = 0; cfg->redact[i] != NULL; i++)
		if (util_eqcase(name, len, cfg->redact[i]))
			return (1);
	return (0);
}

/* A string member from bytes that may not be UTF-8: else base64. */
static void
exchange_set_bytes(json_t *obj, const char *key, const unsigned char *p,
    size_t len, size_t limit)
{
	json_t	*v;
	char	*b64, name[64];
	size_t	 n = len > limit ? limit : len;

	/* Cut on a character boundary: back off continuation bytes. */
	while (n > 0 && n < len && (p[n] & 0xc0) == 0x80)
		n--;
	if ((v = json_stringn((const char *)p, n)) != NULL)
		json_object_set_new(obj, key, v);
	else {
		n = len > limit ? limit : len;
		b64 = xcalloc(1, 4 * ((n + 2) / 3) + 1);
		EVP_EncodeBlock((unsigned char *)b64, p, (int)n);
		snprintf(name, sizeof(name), "%s_base64", key);
		json_object_set_new(obj, name, json_string(b64));
		free(b64);
	}
	if (n < len)
		json_object_set_new(obj, "body_truncated", json_true());
}

/* The request's headers (and body) for the record, redacted. */
static json_t *
exchange_request_json(const struct exchange *ex)
{
	const struct config	*cfg = ex->cfg;
	const struct diff_header *h;
	json_t			*req, *hdrs, *v, *old, *arr;
	char			*name, *c;
	size_t			 i, len;

	req = json_object();
	hdrs = json_object();
	for (i = 0; i < ex->request.nhdrs; i++) {
		h = &ex->request.hdrs[i];
		name = xstrndup(h->name, h->name_len);
		for (c = name; *c != '\0'; c++)
			*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
		if (exchange_redacted(cfg, h->name, h->name_len))
			v = json_string("[redacted]");
		else if ((v = json_stringn(h->value, h->value_len)) == NULL)
			v = json_string("[not UTF-8]");
		if ((old = json_object_get(hdrs, name)) == NULL)
			json_object_set_new(hdrs, name, v);
		else {
			/* A repeated header: its values, in order. */
			if (json_is_array(old))
				json_array_append_new(old, v);
			else {
				arr = json_pack("[O,o]", old, v);
				json_object_set_new(hdrs, name, arr);
			}
		}
		free(name);
	}
	json_object_set_new(req, "headers", hdrs);
	if (cfg->log_request_body && ex->reqbody != NULL &&
	    (len = evbuffer_get_length(ex->reqbody)) > 0)
		exchange_set_bytes(req, "body",
		    evbuffer_pullup(ex->reqbody, -1), len,
		    cfg->log_value_limit);
	return (req);
}

/* The time from START to END in milliseconds. */
static double
exchange_ms(uint64_t start, uint64_t end)
{
	return (end > start ? (double)(end - start) / 1000 : 0);
}

/* Compares the two responses; *LINE is the record, or NULL if none. */
enum exchange_verdict
exchange_compare(struct exchange *ex, char **line, struct diff_result **resp)
{
	const struct config	*cfg = ex->cfg;
	const struct diff_rules	*rules;
	struct diff_response	 pr, sr;
	struct diff_result	*res = NULL;
	struct divlog_entry	 e;
	enum exchange_verdict	 v;
	char			 pd[80], sd[80];
	int			 cut_p, cut_s;

	*line = NULL;
	exchange_response(&ex->primary, &pr);
	exchange_response(&ex->shadow, &sr);
	if (ex->shadow_error != NULL)
		v = EXCHANGE_SHADOW_ERROR;
	else {
		rules = ex->route != NULL ? ex->route->rules : cfg->diff_rules;
		cut_p = pr.body_truncated;
		cut_s = sr.body_truncated;
		if (cut_p && cut_s && ex->primary.bytes == ex->shadow.bytes &&
		    memcmp(ex->primary.digest, ex->shadow.digest,
		    SHA256_LEN) == 0) {
			/* The same bytes, the digests say: compare no more. */
			pr.body_len = sr.body_len = 0;
			pr.body_truncated = sr.body_truncated = 0;
		}
		res = diff_compare(rules, &pr, &sr, cfg->diff_max_body);
		if (pr.body_truncated && sr.body_truncated) {
			exchange_digest_json(&ex->primary, pd);
			exchange_digest_json(&ex->shadow, sd);
			diff_result_add_body(res, pd, sd);
		}
		diff_result_redact(res, (const char *const *)cfg->redact);
		v = diff_result_differs(res) ? EXCHANGE_MISMATCH :
		    EXCHANGE_MATCH;
	}
	*resp = res;
	if (v == EXCHANGE_MATCH && (cfg->log_matches <= 0 ||
	    !mirror_key_sampled(cfg->log_matches, ex->id, strlen(ex->id))))
		return (v);

	memset(&e, 0, sizeof(e));
	e.type = v == EXCHANGE_MATCH ? "match" : v == EXCHANGE_MISMATCH ?
	    "mismatch" : "shadow_error";
	e.time_us = ex->time_us;
	e.id = ex->id;
	e.config = cfg->generation;
	e.route = ex->route != NULL ? ex->route->name : "default";
	e.method = llhttp_method_name(ex->method);
	e.uri = ex->uri;
	e.primary.status = ex->primary.status;
	e.primary.ms = exchange_ms(ex->start_us, ex->primary.end_us);
	e.primary.bytes = ex->primary.bytes;
	e.shadow.ms = exchange_ms(ex->shadow_start_us, ex->shadow.end_us);
	if (ex->shadow_error != NULL)
		e.shadow.error = ex->shadow_error;
	else {
		e.shadow.status = ex->shadow.status;
		e.shadow.bytes = ex->shadow.bytes;
	}
	if (cfg->log_request_headers)
		e.request = exchange_request_json(ex);
	*line = divlog_format(&e, res, cfg->log_value_limit);
	json_decref(e.request);
	return (v);
}
