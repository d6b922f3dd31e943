/*
 * Integration tests of TLS: clients over TLS to plaintext backends,
 * plaintext clients to TLS backends (verified, wrong host, expired,
 * mutual TLS, verify = no), SNI, the handshake timeout, handshake
 * failures counted by reason, session resumption on pooled backend
 * connections, and certificates reloaded by SIGHUP while a connection
 * stays open. The certificates are made for the run by gen-certs.sh
 * (the openssl command).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "testutil.h"

#define WAIT_MS		8000
#define PIPELINED	300	/* requests of ~750 bytes: 3 inputs' worth */

static char		 certs[256];	/* made once, by main */
static struct tu_proc	 primary, shadow, daemon_;
static char		 logpath[PATH_MAX];

/* A TLS connection of the test's own. */
struct tls_conn {
	SSL_CTX	*ctx;
	SSL	*ssl;
	int	 fd;
};

/* The path of certificate file NAME. */
static const char *
cert(const char *name)
{
	static char	 paths[8][PATH_MAX];
	static int	 n;
	char		*p = paths[n++ % 8];

	snprintf(p, PATH_MAX, "%s/%s", certs, name);
	return (p);
}

/* Waits (bounded) for the daemon's output to contain TEXT. */
static int
wait_output(const char *text)
{
	return (tu_proc_wait_output(&daemon_, text, WAIT_MS));
}

/* How many times the daemon's output holds TEXT. */
static int
output_count(const char *text)
{
	static char	 buf[1 << 20];
	FILE		*f = fopen(daemon_.out, "r");
	size_t		 n;
	char		*at;
	int		 count = 0;

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (at = buf; (at = strstr(at, text)) != NULL; at++)
		count++;
	return (count);
}

/*
 * A TLS connection to PORT, verified against our CA, sending SNI (or
 * none if NULL), at most MAXV (0: any); 0, or -1 if the handshake failed.
 */
static int
tls_open(struct tls_conn *c, int port, const char *sni, int maxv)
{
	static const unsigned char	 alpn[] = "\x08http/1.1";

	memset(c, 0, sizeof(*c));
	c->ctx = SSL_CTX_new(TLS_client_method());
	ck_assert_ptr_nonnull(c->ctx);
	ck_assert_int_eq(SSL_CTX_load_verify_file(c->ctx, cert("ca.pem")), 1);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_alpn_protos(c->ctx, alpn, sizeof(alpn) - 1);
	if (maxv != 0) {
		SSL_CTX_set_min_proto_version(c->ctx, 0);
		SSL_CTX_set_security_level(c->ctx, 0);
		SSL_CTX_set_max_proto_version(c->ctx, maxv);
	}
	c->fd = tu_connect(port);
	ck_assert_int_ge(c->fd, 0);
	c->ssl = SSL_new(c->ctx);
	SSL_set_fd(c->ssl, c->fd);
	if (sni != NULL)
		SSL_set_tlsext_host_name(c->ssl, sni);
	if (SSL_connect(c->ssl) != 1) {
		ERR_clear_error();
		return (-1);
	}
	return (0);
}

static void
tls_close(struct tls_conn *c)
{
	SSL_free(c->ssl);
	SSL_CTX_free(c->ctx);
	close(c->fd);
}

/* The subject of the certificate the server showed. */
static void
tls_peer(struct tls_conn *c, char *buf, size_t size)
{
	X509	*x = SSL_get1_peer_certificate(c->ssl);

	ck_assert_ptr_nonnull(x);
	X509_NAME_oneline(X509_get_subject_name(x), buf, (int)size);
	X509_free(x);
}

/*
 * Sends REQ and reads one response framed by Content-Length into BODY
 * (its status returned; -1 if the connection ended first).
 */
static int
tls_request(struct tls_conn *c, const char *req, char *body, size_t size)
{
	static char	 buf[4 << 20];
	size_t		 len = 0, want = 0;
	char		*end, *cl;
	int		 n, status;

	ck_assert_int_eq(SSL_write(c->ssl, req, (int)strlen(req)),
	    (int)strlen(req));
	for (;;) {
		end = len > 0 ? strstr(buf, "\r\n\r\n") : NULL;
		if (end != NULL) {
			cl = strcasestr(buf, "\r\nContent-Length:");
			want = (size_t)(end + 4 - buf) + (cl != NULL && cl <
			    end ? strtoul(cl + 17, NULL, 10) : 0);
			if (len >= want)
				break;
		}
		if (len + 1 >= sizeof(buf))
			return (-1);
		n = SSL_read(c->ssl, buf + len, (int)(sizeof(buf) - len - 1));
		if (n <= 0)
			return (-1);
		len += (size_t)n;
		buf[len] = '\0';
	}
	if (sscanf(buf, "HTTP/1.1 %d", &status) != 1)
		return (-1);
	if (body != NULL)
		snprintf(body, size, "%.*s", (int)(want - (size_t)(end + 4 -
		    buf)), end + 4);
	return (status);
}

/* GET PATH through the daemon over plain HTTP: the status, body in BODY. */
static int
get(const char *path, char *body, size_t size)
{
	struct tu_resp	 r;
	char		 raw[512];
	int		 status;

	snprintf(raw, sizeof(raw), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
	ck_assert_int_eq(tu_exchange(daemon_.port, raw, &r), 0);
	status = r.status;
	if (body != NULL)
		snprintf(body, size, "%s", r.body ? r.body : "");
	tu_resp_free(&r);
	return (status);
}

/* A figure of /stats: the JSON value at the dotted path KEY. */
static json_int_t
figure(const char *key)
{
	struct tu_resp	 r;
	json_t		*o, *v;
	char		 path[256], *save = NULL, *w;
	json_int_t	 n;
	int		 port;

	port = tu_proc_port(&daemon_, "admin endpoint on 127.0.0.1:");
	ck_assert_int_gt(port, 0);
	ck_assert_int_eq(tu_exchange(port, "GET /stats HTTP/1.1\r\n"
	    "Host: t\r\n\r\n", &r), 0);
	o = json_loads(r.body, 0, NULL);
	ck_assert_ptr_nonnull(o);
	snprintf(path, sizeof(path), "%s", key);
	v = o;
	for (w = strtok_r(path, ".", &save); w != NULL && v != NULL;
	    w = strtok_r(NULL, ".", &save))
		v = json_object_get(v, w);
	ck_assert_msg(json_is_integer(v), "no %s in /stats", key);
	n = json_integer_value(v);
	json_decref(o);
	tu_resp_free(&r);
	return (n);
}

/* The records of the log, waiting (bounded) for at least N. */
static json_t *
records(size_t n)
{
	return (tu_records(logpath, n, WAIT_MS));
}

/* Starts an HTTPS sd-backend into P with the certificate NAME. */
static void
backend_tls(struct tu_proc *p, const char *flavor, const char *name,
    int mutual)
{
	char	 extra[3 * PATH_MAX], chain[64], key[64];

	snprintf(chain, sizeof(chain), "chain-%s.pem", name);
	snprintf(key, sizeof(key), "%s.key", name);
	snprintf(extra, sizeof(extra), "-t %s,%s%s%s", cert(chain), cert(key),
	    mutual ? " -C " : "", mutual ? cert("ca.pem") : "");
	ck_assert_int_eq(tu_backend_start(p, flavor, extra), 0);
}

/* The daemon with [listen], [tls] and the backend sections given. */
static void
daemon_start(const char *listen, const char *rest)
{
	char	 conf[8192];

	snprintf(logpath, sizeof(logpath), "%s/tls.log", tu_tmpdir());
	snprintf(conf, sizeof(conf), "[server]\nworkers = 1\n"
	    "[listen]\n%s\n%s\n[log]\npath = %s\n[admin]\n"
	    "listen = 127.0.0.1:0\n", listen, rest, logpath);
	ck_assert_int_eq(tu_daemon_start(&daemon_, conf, 0), 0);
}

static void
teardown(void)
{
	ck_assert_int_eq(tu_stop_all(&daemon_, &shadow, &primary), 0);
}

/* A TLS listener in front of plaintext backends. */
static void
start_tls_listener(const char *tls_extra)
{
	char	 rest[4096];

	ck_assert_int_eq(tu_backend_start(&primary, "go", NULL), 0);
	snprintf(rest, sizeof(rest), "[tls]\ncertificate = %s %s\n%s\n"
	    "[primary]\nurl = http://127.0.0.1:%d\n", cert("chain-server.pem"),
	    cert("server.key"), tls_extra, primary.port);
	daemon_start("address = 127.0.0.1:0 tls", rest);
}

/* Clients over TLS to plaintext backends; what TLS refuses, counted. */
START_TEST(test_client_tls)
{
	struct tls_conn	 c;
	const unsigned char *proto;
	unsigned int	 plen;
	char		 body[2 << 20], req[512], *big;
	size_t		 i;
	struct tu_resp	 r;

	start_tls_listener("");
	ck_assert_int_eq(tls_open(&c, daemon_.port, "localhost", 0), 0);
	SSL_get0_alpn_selected(c.ssl, &proto, &plen);
	ck_assert_uint_eq(plen, 8);
	ck_assert_int_eq(memcmp(proto, "http/1.1", 8), 0);
	ck_assert_str_eq(SSL_get_version(c.ssl), "TLSv1.3");
	/* Three requests on one connection, one with a 1 MiB body. */
	ck_assert_int_eq(tls_request(&c, "GET /hello HTTP/1.1\r\nHost: t\r\n"
	    "\r\n", body, sizeof(body)), 200);
	ck_assert_str_eq(body, "hello\n");
	big = malloc(1 << 20);
	ck_assert_ptr_nonnull(big);
	for (i = 0; i < (1 << 20); i++)
		big[i] = (char)('a' + i % 26);
	snprintf(req, sizeof(req), "POST /echo HTTP/1.1\r\nHost: t\r\n"
	    "Content-Length: %d\r\n\r\n", 1 << 20);
	ck_assert_int_eq(SSL_write(c.ssl, req, (int)strlen(req)),
	    (int)strlen(req));
	ck_assert_int_eq(SSL_write(c.ssl, big, 1 << 20), 1 << 20);
	ck_assert_int_eq(tls_request(&c, "", body, sizeof(body)), 200);
	ck_assert_uint_eq(strlen(body), 1 << 20);
	ck_assert_int_eq(memcmp(body, big, 1 << 20), 0);
	free(big);
	ck_assert_int_eq(tls_request(&c, "GET /headers HTTP/1.1\r\nHost: t\r\n"
	    "\r\n", body, sizeof(body)), 200);
	ck_assert_ptr_nonnull(strcasestr(body, "X-Forwarded-Proto: https\n"));
	tls_close(&c);

	/* TLS 1.1 is refused; so is plain HTTP on the TLS port. */
	ck_assert_int_eq(tls_open(&c, daemon_.port, "localhost",
	    TLS1_1_VERSION), -1);
	tls_close(&c);
	ck_assert_int_eq(tu_exchange(daemon_.port, "GET /hello HTTP/1.1\r\n"
	    "Host: t\r\n\r\n", &r), -1);
	ck_assert_int_eq(figure("tls.handshakes"), 1);
	ck_assert_int_eq(figure("tls.failures.protocol_version"), 1);
	ck_assert_int_eq(figure("tls.failures.http_request"), 1);
	ck_assert_int_eq(tu_backend_count(primary.port), 3);
}
END_TEST

/*
 * Pipelined requests over TLS, more than the input holds, in small TLS
 * records: the input fills to its high mark while OpenSSL still holds
 * part of a record, which epoll cannot see. Every response must come.
 */
START_TEST(test_pipelined_small_records)
{
	struct tls_conn	 c;
	struct timeval	 tv = { 5, 0 };
	char		*reqs, *at, buf[65536], pad[701];
	size_t		 len = 0, off, n;
	int		 got = 0, r;

	start_tls_listener("");
	ck_assert_int_eq(tls_open(&c, daemon_.port, "localhost", 0), 0);
	ck_assert_int_eq(setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)), 0);
	memset(pad, 'p', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	reqs = malloc(PIPELINED * 800);
	ck_assert_ptr_nonnull(reqs);
	for (r = 0; r < PIPELINED; r++)
		len += (size_t)sprintf(reqs + len, "GET /hello HTTP/1.1\r\n"
		    "Host: t\r\nX-Pad: %s\r\n\r\n", pad);
	/* 1369-byte records, as Go's first ones: never a whole request. */
	for (off = 0; off < len; off += n) {
		n = len - off < 1369 ? len - off : 1369;
		ck_assert_int_eq(SSL_write(c.ssl, reqs + off, (int)n), (int)n);
	}
	free(reqs);
	len = 0;
	while (got < PIPELINED) {
		r = SSL_read(c.ssl, buf + len, (int)(sizeof(buf) - len - 1));
		ck_assert_msg(r > 0, "%d responses of %d, then nothing", got,
		    PIPELINED);
		len += (size_t)r;
		buf[len] = '\0';
		while ((at = strstr(buf, "\r\n\r\nhello\n")) != NULL) {
			got++;
			off = (size_t)(at - buf) + 10;	/* past "\r\n\r\nhello\n" */
			memmove(buf, buf + off, len - off + 1);
			len -= off;
		}
	}
	tls_close(&c);
	ck_assert_int_eq(tu_backend_count(primary.port), PIPELINED);
}
END_TEST

/* SNI picks among the certificates; another name, or none, the first. */
START_TEST(test_sni)
{
	static const struct {
		const char	*sni;
		const char	*subject;
	} cases[] = {
		{ "other.test", "/CN=other.test" },
		{ "localhost", "/CN=localhost" },
		{ "unknown.test", "/CN=localhost" },
		{ NULL, "/CN=localhost" }
	};
	struct tls_conn	 c;
	char		 extra[2 * PATH_MAX], subject[256];
	size_t		 i;

	snprintf(extra, sizeof(extra), "certificate = %s %s",
	    cert("chain-other.pem"), cert("other.key"));
	start_tls_listener(extra);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(tls_open(&c, daemon_.port, cases[i].sni, 0),
		    0);
		tls_peer(&c, subject, sizeof(subject));
		ck_assert_str_eq(subject, cases[i].subject);
		ck_assert_int_eq(tls_request(&c, "GET /hello HTTP/1.1\r\n"
		    "Host: t\r\n\r\n", NULL, 0), 200);
		tls_close(&c);
	}
}
END_TEST

/* Opens a TLS connection, sends one request, closes; the time it took. */
static long long
tls_hello_ms(void)
{
	struct tls_conn	 c;
	long long	 t0 = tu_now_ms();

	ck_assert_int_eq(tls_open(&c, daemon_.port, "localhost", 0), 0);
	ck_assert_int_eq(tls_request(&c, "GET /hello HTTP/1.1\r\nHost: t\r\n"
	    "\r\n", NULL, 0), 200);
	tls_close(&c);
	return (tu_now_ms() - t0);
}

/*
 * A silent client is cut at handshake_timeout; others are served
 * meanwhile, as fast as without it. No absolute time is asserted: the
 * sanitizers' handshakes are slow. The bound is relative to the same
 * exchange without the silent client, with the 1s timeout as the margin
 * a worker held up by the silent client would exceed.
 */
START_TEST(test_handshake_timeout)
{
	long long	 alone, t0;
	int		 fd;

	start_tls_listener("handshake_timeout = 1s");
	alone = tls_hello_ms();
	fd = tu_connect(daemon_.port);
	ck_assert_int_ge(fd, 0);
	t0 = tu_now_ms();
	ck_assert_int_lt(tls_hello_ms(), alone + 500);
	ck_assert(tu_wait_closed(fd, 5000));
	/* Not much before its time (its timer started at the accept). */
	ck_assert_int_ge(tu_now_ms() - t0, 900);
	close(fd);
	ck_assert_int_eq(figure("tls.failures.timeout"), 1);
}
END_TEST

/* Both backends over TLS, verified: answers, SNI, a diff, resumption. */
START_TEST(test_backends_tls)
{
	json_t	*recs;
	char	 rest[4096], body[4096];
	int	 i;

	backend_tls(&primary, "go", "server", 0);
	backend_tls(&shadow, "rust", "server", 0);
	snprintf(rest, sizeof(rest), "[primary]\nurl = https://localhost:%d\n"
	    "ca_file = %s\n[shadow]\nurl = https://127.0.0.1:%d\n"
	    "ca_file = %s\n[diff]\nthreads = 1\nprofile = go-rust\n",
	    primary.port, cert("ca.pem"), shadow.port, cert("ca.pem"));
	daemon_start("address = 127.0.0.1:0", rest);
	ck_assert_int_eq(get("/tls", body, sizeof(body)), 200);
	ck_assert_ptr_nonnull(strstr(body, "version TLSv1.3\nsni localhost\n"));
	/* A real divergence, found through TLS on both sides. */
	ck_assert_int_eq(get("/api/users/2", NULL, 0), 200);
	recs = records(1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    recs, json_array_size(recs) - 1), "type")), "mismatch");
	json_decref(recs);
	/* Connection: close from the backend: new connections resume. */
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(get("/close", NULL, 0), 200);
	ck_assert_int_eq(get("/tls", body, sizeof(body)), 200);
	ck_assert_ptr_nonnull(strstr(body, "resumed 1\n"));
	ck_assert_int_ge(figure("tls.primary.resumed"), 3);
	ck_assert_int_eq(figure("tls.primary.failed"), 0);
	ck_assert_int_eq(figure("shadow_errors.tls"), 0);
}
END_TEST

/* A primary with a certificate for another host, or expired: 502. */
static void
primary_refused(const char *name, const char *reason)
{
	char	 rest[4096];
	int	 i;

	backend_tls(&primary, "go", name, 0);
	snprintf(rest, sizeof(rest), "[primary]\nurl = https://localhost:%d\n"
	    "ca_file = %s\n", primary.port, cert("ca.pem"));
	daemon_start("address = 127.0.0.1:0", rest);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(get("/hello", NULL, 0), 502);
	ck_assert_int_eq(figure("tls.primary.failed"), 3);
	ck_assert_int_eq(figure("primary_errors.502"), 3);
	ck_assert(wait_output(reason));
	/* The reason once, not once per request. */
	ck_assert_int_eq(output_count("TLS handshake failed:"), 1);
}

START_TEST(test_primary_wrong_host)
{
	primary_refused("other", "TLS handshake failed: hostname mismatch");
}
END_TEST

START_TEST(test_primary_expired)
{
	primary_refused("expired", "TLS handshake failed: certificate has "
	    "expired");
}
END_TEST

/* verify = no: the expired certificate passes, with a warning. */
START_TEST(test_verify_no)
{
	char	 rest[4096];

	backend_tls(&primary, "go", "expired", 0);
	snprintf(rest, sizeof(rest), "[primary]\nurl = https://localhost:%d\n"
	    "verify = no\n", primary.port);
	daemon_start("address = 127.0.0.1:0", rest);
	ck_assert_int_eq(get("/hello", NULL, 0), 200);
	ck_assert(wait_output("[primary] verify = no: the certificate of "
	    "localhost:"));
}
END_TEST

/* A shadow with a wrong-host or expired certificate: shadow_error tls. */
START_TEST(test_shadow_tls_error)
{
	json_t		*recs, *rec;
	char		 rest[4096];
	const char	*names[] = { "other", "expired" };
	size_t		 i;

	ck_assert_int_eq(tu_backend_start(&primary, "go", NULL), 0);
	for (i = 0; i < 2; i++) {
		backend_tls(&shadow, "rust", names[i], 0);
		snprintf(rest, sizeof(rest), "[primary]\n"
		    "url = http://127.0.0.1:%d\n[shadow]\n"
		    "url = https://localhost:%d\nca_file = %s\n",
		    primary.port, shadow.port, cert("ca.pem"));
		daemon_start("address = 127.0.0.1:0", rest);
		ck_assert_int_eq(get("/hello", NULL, 0), 200);
		recs = records(1);
		rec = json_array_get(recs, 0);
		ck_assert_str_eq(json_string_value(json_object_get(rec,
		    "type")), "shadow_error");
		ck_assert_str_eq(json_string_value(json_object_get(
		    json_object_get(rec, "shadow"), "error")), "tls");
		json_decref(recs);
		ck_assert_int_eq(figure("shadow_errors.tls"), 1);
		ck_assert_int_eq(tu_proc_stop(&daemon_, SIGTERM), 0);
		ck_assert_int_ne(tu_proc_stop(&shadow, SIGTERM), -1);
		unlink(logpath);
	}
}
END_TEST

/*
 * Mutual TLS: refused without our certificate (TLS 1.3 says so after
 * our side of the handshake: still a TLS failure, with its reason), and
 * accepted once a reload adds it: new connections take it.
 */
START_TEST(test_mutual_tls)
{
	char	 rest[2048], conf[16384], body[4096];
	FILE	*f;

	backend_tls(&primary, "go", "server", 1);
	snprintf(rest, sizeof(rest), "[primary]\nurl = https://localhost:%d\n"
	    "ca_file = %s\n", primary.port, cert("ca.pem"));
	daemon_start("address = 127.0.0.1:0", rest);
	ck_assert_int_eq(get("/tls", NULL, 0), 502);
	/* The alert, or a reset that overtook it: both say why. */
	ck_assert(wait_output("TLS handshake failed: tlsv13 alert certificate "
	    "required") || wait_output("TLS handshake failed: it asked for a "
	    "client certificate and none is configured"));
	ck_assert_int_eq(figure("tls.primary.failed"), 1);

	snprintf(conf, sizeof(conf), "[server]\nworkers = 1\n[listen]\n"
	    "address = 127.0.0.1:%d\n%scertificate = %s %s\n[log]\n"
	    "path = %s\n[admin]\nlisten = 127.0.0.1:0\n", daemon_.port, rest,
	    cert("chain-client.pem"), cert("client.key"), logpath);
	ck_assert_ptr_nonnull(f = fopen(daemon_.conf, "w"));
	fputs(conf, f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(kill(daemon_.pid, SIGHUP), 0);
	ck_assert(wait_output("SIGHUP: configuration 2 loaded"));
	ck_assert_int_eq(get("/tls", body, sizeof(body)), 200);
	ck_assert_ptr_nonnull(strstr(body, "client /CN=shadowdiff-client\n"));
}
END_TEST

/* Writes the TLS listener's config with certificate NAME (key KEY). */
static void
write_listener_conf(const char *name, const char *key)
{
	FILE	*f = fopen(daemon_.conf, "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "[server]\nworkers = 1\n[listen]\naddress = 127.0.0.1:%d "
	    "tls\n[tls]\ncertificate = %s %s\n[primary]\n"
	    "url = http://127.0.0.1:%d\n[admin]\nlisten = 127.0.0.1:0\n",
	    daemon_.port, cert(name), cert(key), primary.port);
	ck_assert_int_eq(fclose(f), 0);
}

/* SIGHUP renews the certificate; an open connection goes on. */
START_TEST(test_cert_reload)
{
	struct tls_conn	 old, c;
	char		 subject[256];
	const char	*get_hello = "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n";

	start_tls_listener("");
	ck_assert_int_eq(tls_open(&old, daemon_.port, "localhost", 0), 0);
	ck_assert_int_eq(tls_request(&old, get_hello, NULL, 0), 200);

	write_listener_conf("chain-renewed.pem", "renewed.key");
	ck_assert_int_eq(kill(daemon_.pid, SIGHUP), 0);
	ck_assert(wait_output("SIGHUP: configuration 2 loaded"));
	ck_assert_int_eq(tls_request(&old, get_hello, NULL, 0), 200);
	ck_assert_int_eq(tls_open(&c, daemon_.port, "localhost", 0), 0);
	tls_peer(&c, subject, sizeof(subject));
	ck_assert_str_eq(subject, "/CN=localhost/O=renewed");
	tls_close(&c);

	/* A key that is not the certificate's: the renewed one stays. */
	write_listener_conf("chain-server.pem", "renewed.key");
	ck_assert_int_eq(kill(daemon_.pid, SIGHUP), 0);
	ck_assert(wait_output("SIGHUP: reload failed, configuration 2 stays"));
	ck_assert(wait_output("renewed.key is not the key of the certificate"));
	ck_assert_int_eq(tls_open(&c, daemon_.port, "localhost", 0), 0);
	tls_peer(&c, subject, sizeof(subject));
	ck_assert_str_eq(subject, "/CN=localhost/O=renewed");
	ck_assert_int_eq(tls_request(&c, get_hello, NULL, 0), 200);
	tls_close(&c);
	ck_assert_int_eq(tls_request(&old, get_hello, NULL, 0), 200);
	tls_close(&old);
}
END_TEST

/* What a config says wrong about TLS, at its line. */
START_TEST(test_config_errors)
{
	struct tu_proc	 p;
	char		 conf[4096], cmd[3 * PATH_MAX];
	FILE		*f;
	int		 rc;

	memset(&p, 0, sizeof(p));
	snprintf(p.conf, sizeof(p.conf), "%s/bad.conf", tu_tmpdir());
	snprintf(p.out, sizeof(p.out), "%s/bad.out", tu_tmpdir());
	snprintf(conf, sizeof(conf), "[listen]\naddress = 127.0.0.1:0 tls\n"
	    "[primary]\nurl = https://127.0.0.1:1\ncertificate = %s %s\n"
	    "ca_file = %s\n[tls]\nprotocols = TLSv1.1\n",
	    cert("server.pem"), cert("other.key"), cert("server.key"));
	f = fopen(p.conf, "w");
	ck_assert_ptr_nonnull(f);
	fputs(conf, f);
	ck_assert_int_eq(fclose(f), 0);
	snprintf(cmd, sizeof(cmd), "%s -t -c %s >%s 2>&1",
	    tu_build_path("shadowdiff"), p.conf, p.out);
	rc = system(cmd);
	ck_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 1);
	ck_assert(tu_proc_output_has(&p, "bad.conf:2: [listen] address = "
	    "127.0.0.1:0 tls: expected a [tls] certificate"));
	ck_assert(tu_proc_output_has(&p, "bad.conf:5: [primary] certificate"));
	ck_assert(tu_proc_output_has(&p, "other.key is not the key of the "
	    "certificate"));
	ck_assert(tu_proc_output_has(&p, "bad.conf:6: [primary] ca_file"));
	ck_assert(tu_proc_output_has(&p, "bad.conf:8: [tls] protocols = "
	    "\"TLSv1.1\": expected TLSv1.2, TLSv1.3 or both"));
}
END_TEST

static Suite *
tls_suite(void)
{
	Suite	*s = suite_create("tls");
	TCase	*tc = tcase_create("tls");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_client_tls);
	tcase_add_test(tc, test_pipelined_small_records);
	tcase_add_test(tc, test_sni);
	tcase_add_test(tc, test_handshake_timeout);
	tcase_add_test(tc, test_backends_tls);
	tcase_add_test(tc, test_primary_wrong_host);
	tcase_add_test(tc, test_primary_expired);
	tcase_add_test(tc, test_verify_no);
	tcase_add_test(tc, test_shadow_tls_error);
	tcase_add_test(tc, test_mutual_tls);
	tcase_add_test(tc, test_cert_reload);
	tcase_add_test(tc, test_config_errors);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	const char	*top = getenv("top_srcdir");
	char		 cmd[3 * PATH_MAX];

	/* Once for every test: P-256 keys, a second or so. */
	snprintf(certs, sizeof(certs), "%s/certs", tu_tmpdir());
	snprintf(cmd, sizeof(cmd), "sh %s/tests/gen-certs.sh %s",
	    top ? top : "..", certs);
	if (system(cmd) != 0) {
		fprintf(stderr, "gen-certs.sh failed\n");
		return (1);
	}
	return (tu_run(tls_suite()));
}
