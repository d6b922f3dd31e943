/*
 * tls: the OpenSSL side of shadowdiff. Certificates, keys and the
 * contexts made of them are loaded when a config file is read, so that
 * `shadowdiff -t` and a reload find a bad file (and give its line)
 * before anything uses it; a context lives as long as its config, and
 * each SSL holds a reference to its own.
 *
 * Listeners: TLS 1.2 and 1.3 (narrower if configured), ALPN http/1.1,
 * the certificate chosen by SNI among those configured (the first one
 * for a name none of them has). Backends: the certificate verified
 * against the system's CAs or a ca_file, the host name checked, SNI
 * sent, ALPN http/1.1, an optional client certificate.
 */
#ifndef SHADOWDIFF_TLS_H
#define SHADOWDIFF_TLS_H

#include <stddef.h>

#include "shadowdiff/stats.h"

struct ssl_ctx_st;
struct ssl_st;
struct tls_cert;

/*
 * Modern TLS 1.2 ciphers (Mozilla's "intermediate"), and for TLS 1.3
 * OpenSSL 3's default suites.
 */
#define TLS_MODERN_CIPHERS						\
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"	\
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"	\
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS_MODERN_CIPHERSUITES						\
	"TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:"		\
	"TLS_AES_128_GCM_SHA256"

/* Why a handshake failed: a counter family (stats.h), labels kept few. */
enum tls_failure {
#define TLS_FAILURE_ENUM(name, label, what)	TLS_FAIL_##name,
	STATS_TLS_FAILURES(TLS_FAILURE_ENUM)
#undef TLS_FAILURE_ENUM
	TLS_FAIL_MAX
};

/* What a [tls] section (or a backend, for a client) asks for. */
struct tls_server_conf {
	struct tls_cert	**certs;	/* the first one is the default */
	size_t		  ncerts;
	int		  min_version;	/* TLS1_2_VERSION or TLS1_3_VERSION */
	int		  max_version;
	const char	 *ciphers;	/* TLS 1.2 */
	const char	 *ciphersuites;	/* TLS 1.3 */
};

/*
 * Loads "CHAIN KEY": a PEM certificate chain (the leaf first) and the
 * PEM private key that goes with it; 0, or -1 with *cause.
 */
int		 tls_cert_load(const char *, struct tls_cert **, char **);
void		 tls_cert_free(struct tls_cert *);
/* The leaf's subject, for messages. */
const char	*tls_cert_name(const struct tls_cert *);
/* Checks a TLS 1.2 cipher list, a TLS 1.3 suite list, a CA file. */
int		 tls_check_ciphers(const char *, char **);
int		 tls_check_ciphersuites(const char *, char **);
int		 tls_check_ca_file(const char *, char **);
/* A protocol name (TLSv1.2, TLSv1.3) as OpenSSL's version; -1: unknown. */
int		 tls_version(const char *);

/* The context of the TLS listeners; NULL with *cause. */
struct ssl_ctx_st *tls_server_ctx(const struct tls_server_conf *, char **);
/*
 * The context for a backend: VERIFY its certificate against CA_FILE (or
 * the system's CAs when NULL); CERT (or NULL) as the client certificate.
 */
struct ssl_ctx_st *tls_client_ctx(const char *, int, const struct tls_cert *,
		    char **);
void		 tls_ctx_free(struct ssl_ctx_st *);
/* An SSL for a client connection. */
struct ssl_st	*tls_server_ssl(struct ssl_ctx_st *);
/*
 * Whether the backend of SSL asked for a client certificate, none being
 * configured: TLS 1.3 refuses it after our handshake ended, and the
 * refusal may come as a mere reset.
 */
int		 tls_cert_asked(struct ssl_st *);
/* Whether the handshake of SSL resumed a session. */
int		 tls_resumed(struct ssl_st *);
/* An SSL for a connection to HOST, checked against it if VERIFY. */
struct ssl_st	*tls_client_ssl(struct ssl_ctx_st *, const char *, int);

/*
 * Why a handshake or a read failed, from the error OpenSSL queued (ERR)
 * and the peer verification result (VERIFY): a short English text.
 */
const char	*tls_reason(unsigned long, long);
/*
 * The same as a counted failure; CLOSED: the peer closed the connection
 * (timeouts the caller knows itself).
 */
enum tls_failure tls_failure_of(unsigned long, int);
/* The counter of a failure. */
enum stats_counter tls_failure_counter(enum tls_failure);

#endif
