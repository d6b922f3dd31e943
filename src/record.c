/*
 * The divergence record: from a compared job to one line of JSON. The
 * contract is docs/divergence-log.md; everything of its format is in
 * this file. Runs on the diff threads, on jobs no worker holds.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <llhttp.h>
#include <openssl/evp.h>

#include "shadowdiff/config.h"
#include "shadowdiff/diff.h"
#include "shadowdiff/diff_job.h"
#include "shadowdiff/log.h"
#include "shadowdiff/mirror.h"
#include "shadowdiff/record.h"
#include "shadowdiff/util.h"

/* The label of a verdict: a record's type. */
const char *
record_type(enum record_verdict v)
{
	static const char *const types[RECORD_VERDICTS] = {
		[RECORD_MATCH] = "match",
		[RECORD_MISMATCH] = "mismatch",
		[RECORD_SHADOW_ERROR] = "shadow_error"
	};

	return (types[v]);
}

/* "sha256:HEX" of a cut body, as a JSON string, into BUF. */
void
record_digest(const unsigned char *digest, char *buf)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i;
	char			*p;

	p = buf + sprintf(buf, "\"sha256:");
	for (i = 0; i < DIFF_JOB_SHA256_LEN; i++) {
		*p++ = hex[digest[i] >> 4];
		*p++ = hex[digest[i] & 0xf];
	}
	strcpy(p, "\"");
}

/*
 * What JOB's record must hide: its route's redaction policy where the
 * route has one ([route NAME] redact_body), else [log]'s. Every value a
 * record shows goes through it (differ.c hides the differences' values
 * with it too).
 */
const struct diff_redact *
record_redact(const struct diff_job *job)
{
	const struct config	*cfg = job->cfg;
	size_t			 i;

	for (i = 0; i < cfg->nroutes; i++)
		if (cfg->routes[i].rules == job->rules)
			return (cfg->routes[i].redact != NULL ?
			    cfg->routes[i].redact : cfg->redact);
	return (cfg->redact);
}

/* A string member from bytes that may not be UTF-8: else base64. */
static void
record_set_bytes(json_t *obj, const char *key, const unsigned char *p,
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

/*
 * The request's body as the record shows it, into *P and *LEN: the
 * values config's redaction hides written "[redacted]" (JSON bodies at
 * its patterns, form bodies at its query names; a body declared JSON,
 * or starting as JSON does, that does not parse is hidden whole when
 * there are patterns). Returns
 * what to free, or NULL when the body is shown as it is.
 */
static char *
record_request_body(const struct diff_job *job, const unsigned char **p,
    size_t *len)
{
	const struct diff_redact	*r = record_redact(job);
	const struct diff_header	*h;
	char				*out = NULL;
	size_t				 i, n;
	int				 form = 0, json = 0;

	for (i = 0; i < job->request.nhdrs; i++) {
		h = &job->request.hdrs[i];
		if (!util_eqcase(h->name, h->name_len, "content-type"))
			continue;
		form = h->value_len >= 33 && util_eqcase(h->value, 33,
		    "application/x-www-form-urlencoded");
		for (n = 0; n + 4 <= h->value_len; n++)
			json |= util_eqcase(h->value + n, 4, "json");
	}
	/* Undeclared, or text/plain, but JSON-shaped: judged as JSON. */
	for (n = 0; n < job->reqbody_len && (job->reqbody[n] == ' ' ||
	    job->reqbody[n] == '\t' || job->reqbody[n] == '\r' ||
	    job->reqbody[n] == '\n'); n++)
		continue;
	json |= n < job->reqbody_len && (job->reqbody[n] == '{' ||
	    job->reqbody[n] == '[');
	if (form)
		out = diff_redact_uri(r, (const char *)job->reqbody,
		    job->reqbody_len, 1, &n);
	else if (diff_redact_json(r, job->reqbody, job->reqbody_len, &out,
	    &n) == -1 && json && diff_redact_has_paths(r)) {
		out = xstrdup("[redacted]");
		n = strlen(out);
	}
	if (out != NULL) {
		*p = (const unsigned char *)out;
		*len = n;
	} else {
		*p = job->reqbody;
		*len = job->reqbody_len;
	}
	return (out);
}

/* The request's headers (and body) for the record, redacted. */
static json_t *
record_request_json(const struct diff_job *job)
{
	const struct config	*cfg = job->cfg;
	const struct diff_redact *r = record_redact(job);
	const struct diff_header *h;
	const unsigned char	*body;
	json_t			*req, *hdrs, *v, *old, *arr;
	char			*name, *c, *shown;
	size_t			 i, len;

	req = json_object();
	hdrs = json_object();
	for (i = 0; i < job->request.nhdrs; i++) {
		h = &job->request.hdrs[i];
		name = xstrndup(h->name, h->name_len);
		for (c = name; *c != '\0'; c++)
			*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
		if ((shown = diff_redact_header_value(r, h->name, h->name_len,
		    h->value, h->value_len, &len)) == NULL)
			v = json_stringn(h->value, h->value_len);
		else
			v = json_stringn(shown, len);
		free(shown);
		if (v == NULL)
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
	if (cfg->log_request_body && job->reqbody_len > 0) {
		shown = record_request_body(job, &body, &len);
		record_set_bytes(req, "body", body, len, cfg->log_value_limit);
		free(shown);
	}
	return (req);
}

/* The time a leg took, in milliseconds. */
static double
record_ms(const struct diff_capture *c)
{
	return (c->end_us > c->start_us ?
	    (double)(c->end_us - c->start_us) / 1000 : 0);
}

/* The record of JOB compared to V (RES: NULL after a shadow error). */
char *
record_job(const struct diff_job *job, enum record_verdict v,
    const struct diff_result *res)
{
	const struct config		*cfg = job->cfg;
	const struct diff_capture	*p = &job->legs[DIFF_LEG_PRIMARY];
	const struct diff_capture	*s = &job->legs[DIFF_LEG_SHADOW];
	struct record_entry		 e;
	char				*line, *uri;
	size_t				 len;

	if (v == RECORD_MATCH && (cfg->log_matches <= 0 ||
	    !mirror_key_sampled(cfg->log_matches, job->id, strlen(job->id))))
		return (NULL);
	memset(&e, 0, sizeof(e));
	e.type = record_type(v);
	e.time_us = job->time_us;
	e.id = job->id;
	e.config = cfg->generation;
	e.route = job->route_name;
	e.method = llhttp_method_name(job->method);
	uri = diff_redact_uri(record_redact(job), job->uri, strlen(job->uri),
	    0, &len);
	e.uri = uri != NULL ? uri : job->uri;
	e.primary.status = p->status;
	e.primary.ms = record_ms(p);
	e.primary.bytes = p->bytes;
	e.shadow.ms = record_ms(s);
	if (job->shadow_error != SHADOW_ERROR_NONE)
		e.shadow.error = shadow_error_label(job->shadow_error);
	else {
		e.shadow.status = s->status;
		e.shadow.bytes = s->bytes;
	}
	if (cfg->log_request_headers)
		e.request = record_request_json(job);
	line = record_format(&e, res, cfg->log_value_limit);
	json_decref(e.request);
	free(uri);
	return (line);
}

/* A side as its record object: status, ms, bytes; or error, ms. */
static json_t *
record_side_json(const struct record_side *side)
{
	/* Milliseconds to the microsecond: enough, and stable to print. */
	double	 ms = (double)(int64_t)(side->ms * 1000 + 0.5) / 1000;

	if (side->error != NULL)
		return (json_pack("{s:s, s:f}", "error", side->error, "ms",
		    ms));
	return (json_pack("{s:i, s:f, s:I}", "status", side->status, "ms", ms,
	    "bytes", (json_int_t)side->bytes));
}

/* RFC 3339 UTC with microseconds, such as 2026-11-24T14:25:00.123456Z. */
static void
record_time(int64_t us, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 secs = (time_t)(us / 1000000);
	size_t		 n;

	gmtime_r(&secs, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%06ldZ", (long)(us % 1000000));
}

/*
 * The record of E and RES. The exchange's fields come first, in a fixed
 * order; the diff engine's members follow as it wrote them, as text:
 * its values keep the exact digits of the bodies, which a json_t could
 * not hold.
 */
char *
record_format(const struct record_entry *e, const struct diff_result *res,
    size_t value_limit)
{
	json_t	*rec;
	char	 when[40], *head, *tail, *line;
	size_t	 hlen;

	record_time(e->time_us, when, sizeof(when));
	rec = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:o, s:o}",
	    "type", e->type, "time", when, "id", e->id,
	    "config", (json_int_t)e->config, "route", e->route,
	    "method", e->method, "uri", e->uri,
	    "primary", record_side_json(&e->primary),
	    "shadow", record_side_json(&e->shadow));
	if (rec == NULL)
		fatalx("record_format: json_pack failed");
	if (e->request != NULL)
		json_object_set(rec, "request", e->request);
	head = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(10));
	json_decref(rec);
	if (head == NULL)
		fatalx("out of memory");
	tail = res != NULL ? diff_result_json(res, value_limit) :
	    xstrdup("{\"diffs\":[],\"forgiven\":{},\"notes\":[]}");
	/* {head...} + {tail...} = {head...,tail...} */
	hlen = strlen(head);
	line = xasprintf("%.*s,%s", (int)(hlen - 1), head, tail + 1);
	free(head);
	free(tail);
	return (line);
}
