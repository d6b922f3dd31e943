/*
 * TLS contexts, certificates and the words for what went wrong.
 *
 * SNI: the listeners' context is that of the first certificate; each
 * other certificate has a context of its own with the same settings,
 * kept in the first one's ex_data (freed with it). The servername
 * callback finds them there, not through a pointer into a config: an
 * SSL references the context it was made with, so a handshake that
 * outlives a reload still has every certificate it may pick.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "shadowdiff/config.h"
#include "shadowdiff/tls.h"
#include "shadowdiff/util.h"

struct tls_cert {
	X509		*leaf;
	STACK_OF(X509)	*chain;		/* the rest of the chain */
	EVP_PKEY	*key;
	char		 name[256];	/* the leaf's subject */
};

/* The other certificates' contexts, in the default one's ex_data. */
struct tls_sni {
	SSL_CTX		**ctxs;
	size_t		  n;
};

static const unsigned char	 tls_alpn[] = "\x08http/1.1";

static pthread_once_t	 tls_once = PTHREAD_ONCE_INIT;
static int		 tls_sni_index = -1;
static int		 tls_asked_index = -1;	/* SSL: a certificate asked */

/* Frees the SNI list along with the context that holds it. */
static void
tls_sni_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	struct tls_sni	*sni = ptr;
	size_t		 i;

	if (sni == NULL)
		return;
	for (i = 0; i < sni->n; i++)
		SSL_CTX_free(sni->ctxs[i]);
	free(sni->ctxs);
	free(sni);
}

static void
tls_init_once(void)
{
	tls_sni_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL,
	    tls_sni_free);
	tls_asked_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/* OpenSSL's last queued error as text, for a message; the queue emptied. */
static char *
tls_queued_error(const char *what)
{
	unsigned long	 e = ERR_peek_last_error();
	const char	*r = e != 0 ? ERR_reason_error_string(e) : NULL;
	char		*s;

	s = xasprintf("%s%s%s", what, r != NULL ? ": " : "",
	    r != NULL ? r : "");
	ERR_clear_error();
	return (s);
}

/* Loads "CHAIN KEY"; 0, or -1 with *cause. */
int
tls_cert_load(const char *value, struct tls_cert **out, char **cause)
{
	char		**w = config_split_words(value);
	struct tls_cert	 *c = NULL;
	BIO		 *bio = NULL;
	X509		 *x;
	int		  rc = -1;

	*out = NULL;
	if (w[0] == NULL || w[1] == NULL || w[2] != NULL) {
		*cause = xstrdup("two paths, such as "
		    "/etc/shadowdiff/tls/site.pem /etc/shadowdiff/tls/site.key");
		goto out;
	}
	c = xcalloc(1, sizeof(*c));
	if ((bio = BIO_new_file(w[0], "r")) == NULL) {
		*cause = tls_queued_error(w[0]);
		goto out;
	}
	if ((c->leaf = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL)) == NULL) {
		ERR_clear_error();
		*cause = xasprintf("%s: no PEM certificate in it", w[0]);
		goto out;
	}
	if ((c->chain = sk_X509_new_null()) == NULL)
		goto oom;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		if (!sk_X509_push(c->chain, x)) {
			X509_free(x);
			goto oom;
		}
	/* The loop ends at the end of the file: not an error. */
	if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE) {
		*cause = tls_queued_error(w[0]);
		goto out;
	}
	ERR_clear_error();
	BIO_free(bio);
	if ((bio = BIO_new_file(w[1], "r")) == NULL) {
		*cause = tls_queued_error(w[1]);
		goto out;
	}
	if ((c->key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) ==
	    NULL) {
		ERR_clear_error();
		*cause = xasprintf("%s: no PEM private key in it (or one "
		    "protected by a passphrase)", w[1]);
		goto out;
	}
	if (!X509_check_private_key(c->leaf, c->key)) {
		ERR_clear_error();
		*cause = xasprintf("%s is not the key of the certificate in "
		    "%s", w[1], w[0]);
		goto out;
	}
	X509_NAME_oneline(X509_get_subject_name(c->leaf), c->name,
	    sizeof(c->name));
	*out = c;
	c = NULL;
	rc = 0;
	goto out;
oom:
	*cause = xstrdup("out of memory");
out:
	BIO_free(bio);
	tls_cert_free(c);
	config_free_words(w);
	return (rc);
}

void
tls_cert_free(struct tls_cert *c)
{
	if (c == NULL)
		return;
	X509_free(c->leaf);
	sk_X509_pop_free(c->chain, X509_free);
	EVP_PKEY_free(c->key);
	free(c);
}

/* The leaf's subject, for messages. */
const char *
tls_cert_name(const struct tls_cert *c)
{
	return (c->name);
}

/* Checks a TLS 1.2 cipher list. */
int
tls_check_ciphers(const char *s, char **cause)
{
	SSL_CTX	*ctx = SSL_CTX_new(TLS_method());
	int	 ok = ctx != NULL && SSL_CTX_set_cipher_list(ctx, s) == 1;

	SSL_CTX_free(ctx);
	ERR_clear_error();
	if (ok)
		return (0);
	*cause = xstrdup("an OpenSSL cipher list that names at least one "
	    "cipher, such as ECDHE-ECDSA-AES128-GCM-SHA256:"
	    "ECDHE-RSA-AES128-GCM-SHA256 (see openssl-ciphers(1))");
	return (-1);
}

/* Checks a TLS 1.3 suite list. */
int
tls_check_ciphersuites(const char *s, char **cause)
{
	SSL_CTX	*ctx = SSL_CTX_new(TLS_method());
	int	 ok = ctx != NULL && *s != '\0' &&
		    SSL_CTX_set_ciphersuites(ctx, s) == 1;

	SSL_CTX_free(ctx);
	ERR_clear_error();
	if (ok)
		return (0);
	*cause = xstrdup("TLS 1.3 suites separated by ':', such as "
	    "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256");
	return (-1);
}

/* Checks that a CA file holds at least one PEM certificate. */
int
tls_check_ca_file(const char *path, char **cause)
{
	X509_STORE	*st = X509_STORE_new();
	int		 ok;

	ok = st != NULL && X509_STORE_load_file(st, path) == 1;
	X509_STORE_free(st);
	ERR_clear_error();
	if (ok)
		return (0);
	*cause = xasprintf("a file of PEM CA certificates (%s could not be "
	    "read as one)", path);
	return (-1);
}

/* TLSv1.2, TLSv1.3 as OpenSSL's version numbers; -1: unknown. */
int
tls_version(const char *s)
{
	if (strcmp(s, "TLSv1.2") == 0)
		return (TLS1_2_VERSION);
	if (strcmp(s, "TLSv1.3") == 0)
		return (TLS1_3_VERSION);
	return (-1);
}

/* ALPN on a listener: http/1.1 if offered; an alert if only others are. */
static int
tls_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	if (SSL_select_next_proto((unsigned char **)out, outlen, tls_alpn,
	    sizeof(tls_alpn) - 1, in, inlen) == OPENSSL_NPN_NEGOTIATED)
		return (SSL_TLSEXT_ERR_OK);
	return (SSL_TLSEXT_ERR_ALERT_FATAL);
}

/* SNI: the context whose certificate has the name asked for, if any. */
static int
tls_servername(SSL *ssl, int *alert, void *arg)
{
	const char	*name = SSL_get_servername(ssl,
			    TLSEXT_NAMETYPE_host_name);
	SSL_CTX		*def = SSL_get_SSL_CTX(ssl);
	struct tls_sni	*sni = SSL_CTX_get_ex_data(def, tls_sni_index);
	size_t		 i;

	if (name == NULL || sni == NULL || X509_check_host(
	    SSL_CTX_get0_certificate(def), name, 0, 0, NULL) == 1)
		return (SSL_TLSEXT_ERR_OK);
	for (i = 0; i < sni->n; i++)
		if (X509_check_host(SSL_CTX_get0_certificate(sni->ctxs[i]),
		    name, 0, 0, NULL) == 1) {
			SSL_set_SSL_CTX(ssl, sni->ctxs[i]);
			break;
		}
	return (SSL_TLSEXT_ERR_OK);
}

/* Settings both sides share: versions, modes, options. */
static void
tls_ctx_common(SSL_CTX *ctx, int minv, int maxv)
{
	SSL_CTX_set_min_proto_version(ctx, minv);
	SSL_CTX_set_max_proto_version(ctx, maxv);
	/* Written from evbuffers: a retry may come from moved memory. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	/*
	 * No renegotiation; a close without close_notify reads as an EOF,
	 * which HTTP's own framing judges (as every server does).
	 */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
}

/* Uses certificate C in CTX. */
static int
tls_ctx_use(SSL_CTX *ctx, const struct tls_cert *c)
{
	return (SSL_CTX_use_cert_and_key(ctx, c->leaf, c->key, c->chain,
	    1) == 1);
}

/* One listener context for certificate C. */
static SSL_CTX *
tls_server_one(const struct tls_server_conf *tc, const struct tls_cert *c,
    char **cause)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		*cause = tls_queued_error("SSL_CTX_new");
		return (NULL);
	}
	tls_ctx_common(ctx, tc->min_version, tc->max_version);
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_set_cipher_list(ctx, tc->ciphers) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, tc->ciphersuites) != 1 ||
	    !tls_ctx_use(ctx, c)) {
		*cause = tls_queued_error(c->name);
		SSL_CTX_free(ctx);
		return (NULL);
	}
	/* Sessions resume across workers: the cache is the context's. */
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"sd", 2);
	SSL_CTX_set_alpn_select_cb(ctx, tls_alpn_select, NULL);
	return (ctx);
}

/* The context of the TLS listeners; NULL with *cause. */
SSL_CTX *
tls_server_ctx(const struct tls_server_conf *tc, char **cause)
{
	SSL_CTX		*ctx;
	struct tls_sni	*sni;
	size_t		 i;

	pthread_once(&tls_once, tls_init_once);
	if ((ctx = tls_server_one(tc, tc->certs[0], cause)) == NULL)
		return (NULL);
	if (tc->ncerts == 1)
		return (ctx);
	sni = xcalloc(1, sizeof(*sni));
	sni->ctxs = xcalloc(tc->ncerts - 1, sizeof(*sni->ctxs));
	if (!SSL_CTX_set_ex_data(ctx, tls_sni_index, sni)) {
		free(sni->ctxs);
		free(sni);
		SSL_CTX_free(ctx);
		*cause = xstrdup("SSL_CTX_set_ex_data failed");
		return (NULL);
	}
	for (i = 1; i < tc->ncerts; i++) {
		if ((sni->ctxs[i - 1] = tls_server_one(tc, tc->certs[i],
		    cause)) == NULL) {
			SSL_CTX_free(ctx);	/* and the list */
			return (NULL);
		}
		sni->n++;
	}
	SSL_CTX_set_tlsext_servername_callback(ctx, tls_servername);
	return (ctx);
}

/* A backend asked for our certificate and we have none: noted. */
static int
tls_client_cert_asked(SSL *ssl, X509 **x509, EVP_PKEY **pkey)
{
	SSL_set_ex_data(ssl, tls_asked_index, (void *)1);
	return (0);
}

/* Whether the backend of SSL asked for a certificate we don't have. */
int
tls_cert_asked(SSL *ssl)
{
	return (SSL_get_ex_data(ssl, tls_asked_index) != NULL);
}

/* The context for a backend; NULL with *cause. */
SSL_CTX *
tls_client_ctx(const char *ca_file, int verify, const struct tls_cert *cert,
    char **cause)
{
	SSL_CTX	*ctx;
	int	 ok;

	pthread_once(&tls_once, tls_init_once);
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		*cause = tls_queued_error("SSL_CTX_new");
		return (NULL);
	}
	tls_ctx_common(ctx, TLS1_2_VERSION, TLS1_3_VERSION);
	ok = SSL_CTX_set_cipher_list(ctx, TLS_MODERN_CIPHERS) == 1 &&
	    SSL_CTX_set_alpn_protos(ctx, tls_alpn, sizeof(tls_alpn) - 1) == 0;
	if (ok && verify) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		ok = ca_file != NULL ? SSL_CTX_load_verify_file(ctx,
		    ca_file) == 1 : SSL_CTX_set_default_verify_paths(ctx) == 1;
	}
	if (ok && cert != NULL)
		ok = tls_ctx_use(ctx, cert);
	else if (ok)
		SSL_CTX_set_client_cert_cb(ctx, tls_client_cert_asked);
	if (!ok) {
		*cause = tls_queued_error("TLS client context");
		SSL_CTX_free(ctx);
		return (NULL);
	}
	return (ctx);
}

void
tls_ctx_free(SSL_CTX *ctx)
{
	SSL_CTX_free(ctx);
}

/* An SSL for a client connection. */
SSL *
tls_server_ssl(SSL_CTX *ctx)
{
	return (SSL_new(ctx));
}

/* Whether the handshake of SSL resumed a session. */
int
tls_resumed(SSL *ssl)
{
	return (SSL_session_reused(ssl));
}

/* An SSL to HOST: SNI for a name, and the certificate checked if VERIFY. */
SSL *
tls_client_ssl(SSL_CTX *ctx, const char *host, int verify)
{
	SSL		*ssl;
	ASN1_OCTET_STRING *ip;

	if ((ssl = SSL_new(ctx)) == NULL)
		return (NULL);
	/* An address gets no SNI (RFC 6066 3) and is checked as one. */
	if ((ip = a2i_IPADDRESS(host)) != NULL) {
		ASN1_OCTET_STRING_free(ip);
		if (verify && X509_VERIFY_PARAM_set1_ip_asc(
		    SSL_get0_param(ssl), host) != 1)
			goto fail;
	} else {
		if (SSL_set_tlsext_host_name(ssl, host) != 1)
			goto fail;
		if (verify && SSL_set1_host(ssl, host) != 1)
			goto fail;
	}
	ERR_clear_error();
	return (ssl);
fail:
	ERR_clear_error();
	SSL_free(ssl);
	return (NULL);
}

/* Why a handshake failed: the verify result, else the queued reason. */
const char *
tls_reason(unsigned long err, long verify)
{
	const char	*r;

	if (verify != X509_V_OK)
		return (X509_verify_cert_error_string(verify));
	if (err != 0 && (r = ERR_reason_error_string(err)) != NULL)
		return (r);
	return ("handshake failed");
}

/* A failure as counted. */
enum tls_failure
tls_failure_of(unsigned long err, int closed)
{
	/* A reset (ECONNRESET) leaves a system error: the client went. */
	if (ERR_GET_LIB(err) == ERR_LIB_SYS)
		return (TLS_FAIL_CLOSED);
	if (err == 0 || ERR_GET_LIB(err) != ERR_LIB_SSL)
		return (closed ? TLS_FAIL_CLOSED : TLS_FAIL_OTHER);
	switch (ERR_GET_REASON(err)) {
	case SSL_R_UNEXPECTED_EOF_WHILE_READING:
		return (TLS_FAIL_CLOSED);
	case SSL_R_HTTP_REQUEST:
	case SSL_R_HTTPS_PROXY_REQUEST:
		return (TLS_FAIL_HTTP);
	case SSL_R_UNSUPPORTED_PROTOCOL:
	case SSL_R_WRONG_VERSION_NUMBER:
	case SSL_R_VERSION_TOO_LOW:
	case SSL_R_VERSION_TOO_HIGH:
	case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
		return (TLS_FAIL_VERSION);
	case SSL_R_NO_SHARED_CIPHER:
	case SSL_R_NO_SHARED_GROUPS:
	case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM:
	case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
		return (TLS_FAIL_CIPHER);
	case SSL_R_NO_APPLICATION_PROTOCOL:
	case SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL:
		return (TLS_FAIL_ALPN);
	case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
	case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
	case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
	case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
	case SSL_R_CERTIFICATE_VERIFY_FAILED:
	case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
		return (TLS_FAIL_CERTIFICATE);
	default:
		return (TLS_FAIL_OTHER);
	}
}

/* The counter of failure F: generated from the family, not its order. */
enum stats_counter
tls_failure_counter(enum tls_failure f)
{
	switch (f) {
#define TLS_FAILURE_CASE(name, label, what)				\
	case TLS_FAIL_##name:						\
		return (STAT_TLS_FAIL_##name);
	STATS_TLS_FAILURES(TLS_FAILURE_CASE)
#undef TLS_FAILURE_CASE
	default:
		return (STAT_TLS_FAIL_OTHER);
	}
}
