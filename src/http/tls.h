/* SPDX-License-Identifier: ISC */
/*
 * tls.h: the HTTP server's TLS credentials (GnuTLS, which libmicrohttpd
 * drives): the certificate chain and private key served, the CA that
 * client certificates must lead to (mutual TLS), and the protocol
 * versions and cipher suites offered.
 *
 * Everything comes in as PEM bytes: the parent process reads the files
 * (before its sandbox, and again on SIGHUP) and hands the bytes to the
 * front, which opens no file.  tls_creds_load() checks them whole (the
 * chain parses, the key parses and matches the leaf, the leaf is valid
 * now, the CA bundle parses) before anything changes: a bad set of files
 * keeps the credentials served, and err says which file and why.
 *
 * Rotation with no failed request: the server's libmicrohttpd asks for
 * the certificate at every handshake through tls_retrieve()
 * (MHD_OPTION_HTTPS_CERT_CALLBACK2); each handshake gets its own copy of
 * the credentials current at that moment, which GnuTLS frees with the
 * session, so a replacement never pulls anything from under a connection.
 *
 * One set of credentials per process (the retrieve callback has no
 * argument of ours): tls_creds_install() makes one current.
 */
#ifndef AG_HTTP_TLS_H
#define AG_HTTP_TLS_H

#include <stddef.h>

#include <gnutls/abstract.h>	/* gnutls_pcert_st, gnutls_cert_retr_st */
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>

/*
 * TLS 1.3 and 1.2 only; AEAD ciphers only (AES-GCM, ChaCha20-Poly1305);
 * ECDHE key exchange only (forward secrecy); no SHA-1 signatures; the
 * server's order of preference.  A GnuTLS priority string.
 */
extern const char tls_priorities[];

struct tls_creds;

/*
 * Parses and checks a certificate chain (leaf first), its private key and
 * optionally (ca != NULL, ca_len > 0) a client CA bundle.  The names
 * (cert_name, key_name, ca_name: the files') appear in err.  0 and *out,
 * or AG_ERR_FORMAT (does not parse, key does not match), AG_ERR_SIGNATURE
 * (leaf expired or not yet valid), AG_ERR_ALLOC.
 */
int	tls_creds_load(const char *cert, size_t cert_len, const char *cert_name,
	    const char *key, size_t key_len, const char *key_name,
	    const char *ca, size_t ca_len, const char *ca_name,
	    struct tls_creds **out, char *err, size_t errlen);
void	tls_creds_free(struct tls_creds *tc);
/*
 * One line about tc for the log: the leaf's subject, its notAfter, key
 * type and bits, chain length, and the client CA's subjects count.
 */
void	tls_creds_describe(const struct tls_creds *tc, char *buf, size_t len);
/*
 * Makes tc the current credentials of this process (tls_retrieve() and
 * tls_peer_verify() use them); the previous ones are freed.  Safe while
 * handshakes run on other threads.  tc may be NULL (no TLS).
 */
void	tls_creds_install(struct tls_creds *tc);

/* MHD_OPTION_HTTPS_CERT_CALLBACK2's function (gnutls_certificate_retrieve_function3). */
int	tls_retrieve(gnutls_session_t session,
	    const struct gnutls_cert_retr_st *info, gnutls_pcert_st **certs,
	    unsigned int *pcert_length, gnutls_ocsp_data_st **ocsp,
	    unsigned int *ocsp_length, gnutls_privkey_t *privkey,
	    unsigned int *flags);

enum tls_peer {
	TLS_PEER_NONE,		/* the client sent no certificate */
	TLS_PEER_OK,		/* verified: cn is its subject's CN */
	TLS_PEER_BAD,		/* sent, and refused: why says why */
};

/*
 * The client certificate of session, checked against the current client
 * CA (chain, signatures, validity now, key usage for client auth).  With
 * no client CA installed, TLS_PEER_NONE.  cn gets the subject's common
 * name (the identity the token file's "cert" entries name); why a short
 * reason ("expired", "not issued by a trusted CA", ...).
 */
enum tls_peer tls_peer_verify(gnutls_session_t session, char *cn,
	    size_t cnlen, char *why, size_t whylen);

/* The client CA bundle of tc, as PEM (NUL-terminated), or NULL. */
const char *tls_creds_client_ca(const struct tls_creds *tc);

#endif /* AG_HTTP_TLS_H */
