/*
 * Whether a request is mirrored: methods, sampling, body size, the
 * worker's mirrors in flight, and whether the shadow is down.
 *
 * Sampling by key hashes the key's value, so one value is always in or
 * always out, in every worker and every instance alike (the hash is
 * fixed, not seeded): a user's whole session is compared or none of it.
 * A request without the key is sampled at random at the same rate.
 */
#include "config.h"

#include <sys/random.h>

#include <string.h>

#include "shadowdiff/config.h"
#include "shadowdiff/http.h"
#include "shadowdiff/log.h"
#include "shadowdiff/mirror.h"

/* splitmix64: seeds the generator and mixes the key hash. */
static uint64_t
mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31));
}

/* Seeds the state from the system's random source. */
void
mirror_state_init(struct mirror_state *ms)
{
	uint64_t	 seed[2];

	memset(ms, 0, sizeof(*ms));
	if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		fatal("getrandom");
	ms->rng[0] = mix64(seed[0]);
	ms->rng[1] = mix64(seed[1] + 0x9e3779b97f4a7c15ULL);
	if (ms->rng[0] == 0 && ms->rng[1] == 0)
		ms->rng[1] = 1;
}

/* xorshift128+: fast, and ids need to be unique, not secret. */
static uint64_t
mirror_next(struct mirror_state *ms)
{
	uint64_t	 s1 = ms->rng[0], s0 = ms->rng[1];

	ms->rng[0] = s0;
	s1 ^= s1 << 23;
	ms->rng[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
	return (ms->rng[1] + s0);
}

/* A uniform double in [0, 1). */
double
mirror_random(struct mirror_state *ms)
{
	return ((double)(mirror_next(ms) >> 11) / 9007199254740992.0);
}

/* Whether KEY is in the sampled share: FNV-1a, then mixed. */
int
mirror_key_sampled(double sample, const char *key, size_t len)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;
	size_t		 i;

	if (sample >= 1)
		return (1);
	for (i = 0; i < len; i++) {
		h ^= (unsigned char)key[i];
		h *= 0x100000001b3ULL;
	}
	return ((double)(mix64(h) >> 11) / 9007199254740992.0 < sample);
}

/* The value of query parameter NAME in TARGET, or NULL. */
static const char *
query_param(const char *target, size_t tlen, const char *name, size_t *len)
{
	const char	*q, *end = target + tlen, *p, *amp;
	size_t		 nlen = strlen(name);

	if ((q = memchr(target, '?', tlen)) == NULL)
		return (NULL);
	for (p = q + 1; p < end; p = amp + 1) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		if ((size_t)(amp - p) > nlen && memcmp(p, name, nlen) == 0 &&
		    p[nlen] == '=') {
			*len = (size_t)(amp - p) - nlen - 1;
			return (p + nlen + 1);
		}
	}
	return (NULL);
}

/* The value of the sample key in M, or NULL if M has none. */
const char *
mirror_sample_key(const struct config *cfg, const struct http_msg *m,
    size_t *len)
{
	const char	*target;
	size_t		 tlen;

	if (cfg->sample_key_name == NULL)
		return (NULL);
	if (!cfg->sample_key_query)
		return (http_msg_header(m, cfg->sample_key_name, len));
	target = http_msg_target(m, &tlen);
	return (query_param(target, tlen, cfg->sample_key_name, len));
}

/* The counter of verdict V: generated from the family, not its order. */
enum stats_counter
mirror_verdict_counter(enum mirror_verdict v)
{
	switch (v) {
#define MIRROR_VERDICT_CASE(name, verdict, label, what)			\
	case MIRROR_##verdict:						\
		return (STAT_NOT_MIRRORED_##name);
	STATS_NOT_MIRRORED(MIRROR_VERDICT_CASE)
#undef MIRROR_VERDICT_CASE
	default:
		fatalx("%s: verdict %d is not a reason", __func__, (int)v);
	}
}

/* Whether M is mirrored, or why not. */
enum mirror_verdict
mirror_decide(const struct config *cfg, const struct config_route *route,
    const struct http_msg *m, struct mirror_state *ms, uint64_t now_ms)
{
	const char	*key;
	size_t		 len;

	if (cfg->shadow.url == NULL)
		return (MIRROR_NO_SHADOW);
	/*
	 * Marked: a copy we sent came back through us (a shadow calling
	 * its peers via the proxy). Mirroring it again would multiply the
	 * traffic at each turn. The primary still gets it, as any client
	 * request (without the marker: conn_send_request).
	 */
	if (cfg->marker_name != NULL &&
	    http_msg_header(m, cfg->marker_name, &len) != NULL)
		return (MIRROR_LOOP);
	if (m->upgrade)
		return (MIRROR_UPGRADE);
	if (!config_mirrors_method(cfg, route, llhttp_method_name(m->method)))
		return (MIRROR_METHOD);
	if (cfg->sample < 1) {
		if ((key = mirror_sample_key(cfg, m, &len)) != NULL) {
			if (!mirror_key_sampled(cfg->sample, key, len))
				return (MIRROR_SAMPLED_OUT);
		} else if (mirror_random(ms) >= cfg->sample)
			return (MIRROR_SAMPLED_OUT);
	}
	if (m->framing == HTTP_FRAMING_LENGTH &&
	    m->content_length > cfg->mirror_max_body)
		return (MIRROR_BODY_TOO_LARGE);
	if (ms->shadow != MIRROR_SHADOW_UP && now_ms < ms->down_until_ms)
		return (MIRROR_SHADOW_DOWN);
	if (ms->inflight >= cfg->max_inflight)
		return (MIRROR_MAX_INFLIGHT);
	if (ms->shadow != MIRROR_SHADOW_UP) {
		/*
		 * This one is the probe. Another goes after one more backoff
		 * if it ends neither way (a slow answer, a client gone).
		 */
		if (ms->shadow == MIRROR_SHADOW_DOWN_WAIT)
			log_info("shadow %s: probing", cfg->shadow.hostport);
		ms->shadow = MIRROR_SHADOW_PROBING;
		ms->down_until_ms = now_ms + ms->backoff_ms;
	}
	return (MIRROR_YES);
}

/* A new request id: 32 hex digits. */
void
mirror_new_id(struct mirror_state *ms, char *buf)
{
	static const char	 hex[] = "0123456789abcdef";
	uint64_t		 v;
	int			 i, j;

	for (i = 0; i < 2; i++) {
		v = mirror_next(ms);
		for (j = 0; j < 16; j++, v >>= 4)
			buf[i * 16 + j] = hex[v & 0xf];
	}
	buf[MIRROR_ID_LEN] = '\0';
}

/*
 * A connection to the shadow failed. MIRROR_DOWN_FAILURES in a row put
 * it down; a failed probe keeps it down for twice as long (at most
 * MIRROR_DOWN_MAX_MS). Failures of mirrors sent before it went down
 * change nothing. Each change is logged once.
 */
void
mirror_shadow_failed(struct mirror_state *ms, uint64_t now_ms,
    const char *host)
{
	switch (ms->shadow) {
	case MIRROR_SHADOW_UP:
		if (++ms->failures < MIRROR_DOWN_FAILURES)
			return;
		ms->backoff_ms = MIRROR_DOWN_MS;
		break;
	case MIRROR_SHADOW_PROBING:
		ms->backoff_ms = ms->backoff_ms * 2 > MIRROR_DOWN_MAX_MS ?
		    MIRROR_DOWN_MAX_MS : ms->backoff_ms * 2;
		break;
	default:
		return;
	}
	log_warnx("shadow %s %s: not mirroring for %llums", host,
	    ms->shadow == MIRROR_SHADOW_UP ? "down after connection failures "
	    "in a row" : "still down: the probe failed",
	    (unsigned long long)ms->backoff_ms);
	ms->shadow = MIRROR_SHADOW_DOWN_WAIT;
	ms->down_until_ms = now_ms + ms->backoff_ms;
}

/* The shadow answered: it is up. */
void
mirror_shadow_answered(struct mirror_state *ms, const char *host)
{
	if (ms->shadow != MIRROR_SHADOW_UP)
		log_info("shadow %s answers again: mirroring", host);
	mirror_shadow_reset(ms);
}

/* The shadow is up, with no failure counted. */
void
mirror_shadow_reset(struct mirror_state *ms)
{
	ms->shadow = MIRROR_SHADOW_UP;
	ms->failures = 0;
	ms->down_until_ms = 0;
}
