/* SPDX-License-Identifier: ISC */
/*
 * test_tls.c: the HTTP server's TLS credentials (src/http/tls.c): the
 * priority string, loading and checking a certificate chain, its key and
 * a client CA; replacing the credentials while handshakes copy them; and
 * real handshakes over a socketpair (a GnuTLS client against a server
 * session that gets its certificate from tls_retrieve(), as
 * libmicrohttpd's does), with and without client certificates.
 *
 * Every key and certificate is made here, in memory, with GnuTLS: no
 * files, no external tools.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "common/ag_err.h"
#include "http/tls.h"
#include "test_helper.h"

#define DAY	(24 * 60 * 60)

/* ==== Making keys and certificates ==== */

struct ident {
	gnutls_x509_privkey_t	 key;
	gnutls_x509_crt_t	 crt;
	char			*crt_pem;	/* NUL-terminated */
	char			*key_pem;	/* PKCS #1 / SEC1 where any */
	char			*key_p8;	/* PKCS #8 */
};

static uint64_t serial;

static char *
pem_dup(const gnutls_datum_t *d)
{
	char *s = test_xmalloc(d->size + 1);

	memcpy(s, d->data, d->size);
	s[d->size] = '\0';
	return s;
}

static char *
cat(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = test_xmalloc(la + lb + 1);

	memcpy(s, a, la);
	memcpy(s + la, b, lb + 1);
	return s;
}

enum use { USE_CA, USE_SERVER, USE_CLIENT };

/*
 * A key of algorithm pk (bits for RSA, else the curve) and a certificate
 * for it named cn, valid from now+from to now+to, issued by issuer (NULL:
 * self-signed).
 */
static void
ident_make(struct ident *id, gnutls_pk_algorithm_t pk, unsigned int bits,
    const char *cn, enum use use, const struct ident *issuer, long from,
    long to)
{
	gnutls_datum_t d;
	unsigned char sn[8], kid[64];
	size_t kidlen = sizeof(kid);
	time_t now = time(NULL);
	unsigned int i;

	memset(id, 0, sizeof(*id));
	ASSERT_INT_EQ(gnutls_x509_privkey_init(&id->key), 0);
	ASSERT_INT_EQ(gnutls_x509_privkey_generate(id->key, pk, bits, 0), 0);
	ASSERT_INT_EQ(gnutls_x509_crt_init(&id->crt), 0);
	ASSERT_INT_EQ(gnutls_x509_crt_set_version(id->crt, 3), 0);
	serial++;
	for (i = 0; i < sizeof(sn); i++)
		sn[i] = (unsigned char)(serial >> (8 * (7 - i)));
	sn[0] = 0x01;
	ASSERT_INT_EQ(gnutls_x509_crt_set_serial(id->crt, sn, sizeof(sn)), 0);
	ASSERT_INT_EQ(gnutls_x509_crt_set_dn_by_oid(id->crt,
	    GNUTLS_OID_X520_COMMON_NAME, 0, cn, strlen(cn)), 0);
	ASSERT_INT_EQ(gnutls_x509_crt_set_key(id->crt, id->key), 0);
	ASSERT_INT_EQ(gnutls_x509_crt_set_activation_time(id->crt,
	    now + from), 0);
	ASSERT_INT_EQ(gnutls_x509_crt_set_expiration_time(id->crt, now + to),
	    0);
	ASSERT_INT_EQ(gnutls_x509_crt_get_key_id(id->crt, 0, kid, &kidlen), 0);
	ASSERT_INT_EQ(gnutls_x509_crt_set_subject_key_id(id->crt, kid,
	    kidlen), 0);
	switch (use) {
	case USE_CA:
		ASSERT_INT_EQ(gnutls_x509_crt_set_basic_constraints(id->crt, 1,
		    -1), 0);
		ASSERT_INT_EQ(gnutls_x509_crt_set_key_usage(id->crt,
		    GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN), 0);
		break;
	case USE_SERVER:
	case USE_CLIENT:
		ASSERT_INT_EQ(gnutls_x509_crt_set_basic_constraints(id->crt, 0,
		    -1), 0);
		ASSERT_INT_EQ(gnutls_x509_crt_set_key_usage(id->crt,
		    GNUTLS_KEY_DIGITAL_SIGNATURE |
		    GNUTLS_KEY_KEY_ENCIPHERMENT), 0);
		ASSERT_INT_EQ(gnutls_x509_crt_set_key_purpose_oid(id->crt,
		    use == USE_SERVER ? GNUTLS_KP_TLS_WWW_SERVER :
		    GNUTLS_KP_TLS_WWW_CLIENT, 0), 0);
		if (use == USE_SERVER)
			ASSERT_INT_EQ(gnutls_x509_crt_set_subject_alt_name(
			    id->crt, GNUTLS_SAN_DNSNAME, "localhost", 9,
			    GNUTLS_FSAN_SET), 0);
		break;
	}
	if (issuer != NULL) {
		kidlen = sizeof(kid);
		ASSERT_INT_EQ(gnutls_x509_crt_get_subject_key_id(issuer->crt,
		    kid, &kidlen, NULL), 0);
		ASSERT_INT_EQ(gnutls_x509_crt_set_authority_key_id(id->crt,
		    kid, kidlen), 0);
		ASSERT_INT_EQ(gnutls_x509_crt_sign2(id->crt, issuer->crt,
		    issuer->key, GNUTLS_DIG_SHA256, 0), 0);
	} else
		ASSERT_INT_EQ(gnutls_x509_crt_sign2(id->crt, id->crt, id->key,
		    GNUTLS_DIG_SHA256, 0), 0);

	ASSERT_INT_EQ(gnutls_x509_crt_export2(id->crt, GNUTLS_X509_FMT_PEM,
	    &d), 0);
	id->crt_pem = pem_dup(&d);
	gnutls_free(d.data);
	ASSERT_INT_EQ(gnutls_x509_privkey_export2_pkcs8(id->key,
	    GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN, &d), 0);
	id->key_p8 = pem_dup(&d);
	gnutls_free(d.data);
	/* Ed25519 has no form but PKCS #8 (GnuTLS says "UNKNOWN" else). */
	if (pk == GNUTLS_PK_EDDSA_ED25519) {
		id->key_pem = cat(id->key_p8, "");
		return;
	}
	ASSERT_INT_EQ(gnutls_x509_privkey_export2(id->key, GNUTLS_X509_FMT_PEM,
	    &d), 0);
	id->key_pem = pem_dup(&d);
	gnutls_free(d.data);
}

static void
ident_free(struct ident *id)
{
	gnutls_x509_crt_deinit(id->crt);
	gnutls_x509_privkey_deinit(id->key);
	free(id->crt_pem);
	free(id->key_pem);
	free(id->key_p8);
}

static struct ident root, inter, root2;		/* CAs */
static struct ident srv_ec, srv_ec384, srv_rsa, srv_ed, srv_inter;
static struct ident srv_old, srv_future, srv_rsa1024;
static struct ident cli_ok, cli_untrusted, cli_expired, cli_server_only;

static int
load(const char *cert, const char *key, const char *ca,
    struct tls_creds **out, char *err, size_t errlen)
{
	err[0] = '\0';
	return tls_creds_load(cert, strlen(cert), "server.crt", key,
	    strlen(key), "server.key", ca, ca != NULL ? strlen(ca) : 0,
	    "client-ca.pem", out, err, errlen);
}

/* ==== The priority string ==== */

static void
test_priorities(void)
{
	gnutls_priority_t p;
	const char *where = NULL;
	const unsigned int *list;
	unsigned int i, idx, nsuites = 0;
	gnutls_kx_algorithm_t kx;
	gnutls_cipher_algorithm_t ciph;
	gnutls_mac_algorithm_t mac;
	gnutls_protocol_t minver;
	unsigned char csid[2];
	int n, r;

	TEST_START("priorities: parse; TLS 1.3 and 1.2 only");
	ASSERT_INT_EQ(gnutls_priority_init(&p, tls_priorities, &where), 0);
	n = gnutls_priority_protocol_list(p, &list);
	ASSERT_INT_EQ(n, 2);
	ASSERT_INT_EQ(list[0], GNUTLS_TLS1_3);
	ASSERT_INT_EQ(list[1], GNUTLS_TLS1_2);
	TEST_DONE();

	TEST_START("priorities: AEAD ciphers and ECDHE only");
	for (i = 0;; i++) {
		r = gnutls_priority_get_cipher_suite_index(p, i, &idx);
		if (r == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (r < 0)
			continue;
		ASSERT_PTR_NE(gnutls_cipher_suite_info(idx, csid, &kx, &ciph,
		    &mac, &minver), NULL);
		ASSERT_TRUE(ciph == GNUTLS_CIPHER_AES_128_GCM ||
		    ciph == GNUTLS_CIPHER_AES_256_GCM ||
		    ciph == GNUTLS_CIPHER_CHACHA20_POLY1305);
		/* TLS 1.3 suites name no key exchange (the groups do). */
		ASSERT_TRUE(kx == GNUTLS_KX_ECDHE_RSA ||
		    kx == GNUTLS_KX_ECDHE_ECDSA || kx == GNUTLS_KX_UNKNOWN);
		nsuites++;
	}
	ASSERT_INT_EQ(nsuites, 9);	/* 3 of TLS 1.3, 6 of TLS 1.2 */
	n = gnutls_priority_kx_list(p, &list);
	ASSERT_INT_EQ(n, 2);
	TEST_DONE();

	TEST_START("priorities: X25519, P-256, P-384; no SHA-1 signatures");
	n = gnutls_priority_group_list(p, &list);
	ASSERT_INT_EQ(n, 3);
	ASSERT_INT_EQ(list[0], GNUTLS_GROUP_X25519);
	ASSERT_INT_EQ(list[1], GNUTLS_GROUP_SECP256R1);
	ASSERT_INT_EQ(list[2], GNUTLS_GROUP_SECP384R1);
	n = gnutls_priority_sign_list(p, &list);
	ASSERT_INT_GT(n, 0);
	for (i = 0; i < (unsigned int)n; i++) {
		gnutls_digest_algorithm_t h;

		h = gnutls_sign_get_hash_algorithm(list[i]);
		ASSERT_TRUE(h != GNUTLS_DIG_SHA1 && h != GNUTLS_DIG_MD5);
	}
	gnutls_priority_deinit(p);
	TEST_DONE();
}

/* ==== Loading ==== */

static void
test_load_good(void)
{
	struct tls_creds *tc;
	char err[256], buf[512];
	char *chain;

	TEST_START("load: RSA 2048, PKCS #1 key");
	ASSERT_INT_EQ(load(srv_rsa.crt_pem, srv_rsa.key_pem, NULL, &tc, err,
	    sizeof(err)), 0);
	ASSERT_PTR_NE(tc, NULL);
	ASSERT_STRING_CONTAINS(srv_rsa.key_pem, "BEGIN RSA PRIVATE KEY");
	tls_creds_describe(tc, buf, sizeof(buf));
	ASSERT_STRING_CONTAINS(buf, "CN=rsa.test");
	ASSERT_STRING_CONTAINS(buf, "RSA 2048 bits");
	ASSERT_STRING_CONTAINS(buf, "chain of 1");
	ASSERT_STRING_CONTAINS(buf, "no client certificates");
	ASSERT_PTR_EQ(tls_creds_client_ca(tc), NULL);
	tls_creds_free(tc);
	ASSERT_INT_EQ(load(srv_rsa.crt_pem, srv_rsa.key_p8, NULL, &tc, err,
	    sizeof(err)), 0);
	tls_creds_free(tc);
	TEST_DONE();

	TEST_START("load: ECDSA P-256 (SEC1) and P-384 (PKCS #8)");
	ASSERT_STRING_CONTAINS(srv_ec.key_pem, "BEGIN EC PRIVATE KEY");
	ASSERT_INT_EQ(load(srv_ec.crt_pem, srv_ec.key_pem, NULL, &tc, err,
	    sizeof(err)), 0);
	tls_creds_describe(tc, buf, sizeof(buf));
	ASSERT_STRING_CONTAINS(buf, "EC/ECDSA 256 bits");
	tls_creds_free(tc);
	ASSERT_INT_EQ(load(srv_ec384.crt_pem, srv_ec384.key_p8, NULL, &tc,
	    err, sizeof(err)), 0);
	tls_creds_describe(tc, buf, sizeof(buf));
	ASSERT_STRING_CONTAINS(buf, "384 bits");
	tls_creds_free(tc);
	TEST_DONE();

	TEST_START("load: Ed25519");
	ASSERT_INT_EQ(load(srv_ed.crt_pem, srv_ed.key_p8, NULL, &tc, err,
	    sizeof(err)), 0);
	tls_creds_describe(tc, buf, sizeof(buf));
	ASSERT_STRING_CONTAINS(buf, "EdDSA (Ed25519)");
	tls_creds_free(tc);
	TEST_DONE();

	TEST_START("load: a chain with an intermediate, a client CA");
	chain = cat(srv_inter.crt_pem, inter.crt_pem);
	ASSERT_INT_EQ(load(chain, srv_inter.key_pem, root.crt_pem, &tc, err,
	    sizeof(err)), 0);
	tls_creds_describe(tc, buf, sizeof(buf));
	ASSERT_STRING_CONTAINS(buf, "chain of 2");
	ASSERT_STRING_CONTAINS(buf, "1 client CAs");
	ASSERT_STRING_EQ(tls_creds_client_ca(tc), root.crt_pem);
	tls_creds_free(tc);
	free(chain);
	TEST_DONE();
}

static void
test_load_bad(void)
{
	struct tls_creds *tc;
	char err[256], *s;
	int r;

	TEST_START("load: a chain out of order, or not linked, refused");
	s = cat(inter.crt_pem, srv_inter.crt_pem);
	tc = (void *)1;
	r = load(s, srv_inter.key_pem, NULL, &tc, err, sizeof(err));
	ASSERT_INT_EQ(r, AG_ERR_FORMAT);
	ASSERT_PTR_EQ(tc, NULL);
	ASSERT_STRING_CONTAINS(err, "server.crt");
	ASSERT_STRING_CONTAINS(err, "not in order");
	free(s);
	/* The leaf followed by a CA that did not issue it. */
	s = cat(srv_ec.crt_pem, root2.crt_pem);
	r = load(s, srv_ec.key_pem, NULL, &tc, err, sizeof(err));
	ASSERT_INT_EQ(r, AG_ERR_FORMAT);
	ASSERT_STRING_CONTAINS(err, "server.crt");
	free(s);
	TEST_DONE();

	TEST_START("load: a key that is not the certificate's refused");
	r = load(srv_ec.crt_pem, srv_ec384.key_pem, NULL, &tc, err,
	    sizeof(err));
	ASSERT_INT_EQ(r, AG_ERR_FORMAT);
	ASSERT_STRING_CONTAINS(err, "server.key");
	ASSERT_STRING_CONTAINS(err, "does not match");
	r = load(srv_rsa.crt_pem, srv_ec.key_pem, NULL, &tc, err,
	    sizeof(err));
	ASSERT_INT_EQ(r, AG_ERR_FORMAT);
	ASSERT_STRING_CONTAINS(err, "does not match");
	TEST_DONE();

	TEST_START("load: expired and not yet valid certificates refused");
	r = load(srv_old.crt_pem, srv_old.key_pem, NULL, &tc, err,
	    sizeof(err));
	ASSERT_INT_EQ(r, AG_ERR_SIGNATURE);
	ASSERT_STRING_CONTAINS(err, "server.crt");
	ASSERT_STRING_CONTAINS(err, "expired");
	r = load(srv_future.crt_pem, srv_future.key_pem, NULL, &tc, err,
	    sizeof(err));
	ASSERT_INT_EQ(r, AG_ERR_SIGNATURE);
	ASSERT_STRING_CONTAINS(err, "not yet valid");
	TEST_DONE();

	TEST_START("load: garbage refused, the file named");
	r = load("-----BEGIN CERTIFICATE-----\nnot base64 !!\n"
	    "-----END CERTIFICATE-----\n", srv_ec.key_pem, NULL, &tc, err,
	    sizeof(err));
	ASSERT_INT_EQ(r, AG_ERR_FORMAT);
	ASSERT_STRING_CONTAINS(err, "server.crt");
	r = load("hello", srv_ec.key_pem, NULL, &tc, err, sizeof(err));
	ASSERT_INT_EQ(r, AG_ERR_FORMAT);
	ASSERT_STRING_CONTAINS(err, "server.crt");
	r = load("", srv_ec.key_pem, NULL, &tc, err, sizeof(err));
	ASSERT_INT_EQ(r, AG_ERR_FORMAT);
	ASSERT_STRING_CONTAINS(err, "server.crt");
	r = load(srv_ec.crt_pem, "-----BEGIN PRIVATE KEY-----\nAAAA\n"
	    "-----END PRIVATE KEY-----\n", NULL, &tc, err, sizeof(err));
	ASSERT_INT_EQ(r, AG_ERR_FORMAT);
	ASSERT_STRING_CONTAINS(err, "server.key");
	r = load(srv_ec.crt_pem, srv_ec.crt_pem, NULL, &tc, err, sizeof(err));
	ASSERT_INT_EQ(r, AG_ERR_FORMAT);
	ASSERT_STRING_CONTAINS(err, "server.key");
	r = load(srv_ec.crt_pem, srv_ec.key_pem, "garbage", &tc, err,
	    sizeof(err));
	ASSERT_INT_EQ(r, AG_ERR_FORMAT);
	ASSERT_STRING_CONTAINS(err, "client-ca.pem");
	/* A client CA that is not a CA. */
	r = load(srv_ec.crt_pem, srv_ec.key_pem, cli_ok.crt_pem, &tc, err,
	    sizeof(err));
	ASSERT_INT_EQ(r, AG_ERR_FORMAT);
	ASSERT_STRING_CONTAINS(err, "client-ca.pem");
	ASSERT_STRING_CONTAINS(err, "not a CA");
	TEST_DONE();

	TEST_START("load: encrypted and weak keys refused");
	{
		gnutls_datum_t d;
		char *enc;

		ASSERT_INT_EQ(gnutls_x509_privkey_export2_pkcs8(srv_ec.key,
		    GNUTLS_X509_FMT_PEM, "passphrase",
		    GNUTLS_PKCS_PBES2_AES_256, &d), 0);
		enc = pem_dup(&d);
		gnutls_free(d.data);
		ASSERT_STRING_CONTAINS(enc, "ENCRYPTED PRIVATE KEY");
		r = load(srv_ec.crt_pem, enc, NULL, &tc, err, sizeof(err));
		ASSERT_INT_EQ(r, AG_ERR_FORMAT);
		ASSERT_STRING_CONTAINS(err, "server.key");
		ASSERT_STRING_CONTAINS(err, "encrypted");
		free(enc);
	}
	r = load(srv_rsa1024.crt_pem, srv_rsa1024.key_pem, NULL, &tc, err,
	    sizeof(err));
	ASSERT_INT_EQ(r, AG_ERR_FORMAT);
	ASSERT_STRING_CONTAINS(err, "1024 bits");
	TEST_DONE();
}

/* ==== Replacing the credentials under running handshakes ==== */

static volatile int race_stop;

static void *
race_retrieve(void *arg)
{
	long *count = arg;
	gnutls_pcert_st *pc;
	gnutls_ocsp_data_st *ocsp;
	gnutls_privkey_t pk;
	unsigned int n, nocsp, flags, i;

	while (!__atomic_load_n(&race_stop, __ATOMIC_RELAXED)) {
		if (tls_retrieve(NULL, NULL, &pc, &n, &ocsp, &nocsp, &pk,
		    &flags) != 0)
			continue;
		ASSERT_INT_EQ(flags, GNUTLS_CERT_RETR_DEINIT_ALL);
		ASSERT_INT_GE(n, 1);
		ASSERT_PTR_EQ(ocsp, NULL);
		/* What GnuTLS does with the session's copy. */
		for (i = 0; i < n; i++)
			gnutls_pcert_deinit(&pc[i]);
		gnutls_free(pc);
		gnutls_privkey_deinit(pk);
		(*count)++;
	}
	return NULL;
}

static void
test_install_race(void)
{
	struct tls_creds *a, *b;
	pthread_t th[2];
	long count[2] = { 0, 0 };
	char err[256], *chain;
	gnutls_pcert_st *pc;
	gnutls_ocsp_data_st *ocsp;
	gnutls_privkey_t pk;
	unsigned int n, nocsp, flags;
	int i;

	TEST_START("install: no credentials, no certificate");
	tls_creds_install(NULL);
	ASSERT_INT_EQ(tls_retrieve(NULL, NULL, &pc, &n, &ocsp, &nocsp, &pk,
	    &flags), -1);
	TEST_DONE();

	TEST_START("install: replaced 200 times while 2 threads retrieve");
	chain = cat(srv_inter.crt_pem, inter.crt_pem);
	race_stop = 0;
	for (i = 0; i < 2; i++)
		ASSERT_INT_EQ(pthread_create(&th[i], NULL, race_retrieve,
		    &count[i]), 0);
	for (i = 0; i < 200; i++) {
		if (i % 2 == 0)
			ASSERT_INT_EQ(load(chain, srv_inter.key_pem,
			    root.crt_pem, &a, err, sizeof(err)), 0);
		else
			ASSERT_INT_EQ(load(srv_ec.crt_pem, srv_ec.key_pem,
			    NULL, &a, err, sizeof(err)), 0);
		tls_creds_install(a);
		if (i % 50 == 49) {
			tls_creds_install(NULL);
			usleep(1000);
		}
	}
	/* Let both threads run against the last set for a moment. */
	ASSERT_INT_EQ(load(srv_ed.crt_pem, srv_ed.key_p8, NULL, &b, err,
	    sizeof(err)), 0);
	tls_creds_install(b);
	usleep(20000);
	__atomic_store_n(&race_stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	ASSERT_INT_GT(count[0], 0);
	ASSERT_INT_GT(count[1], 0);
	tls_creds_install(NULL);
	free(chain);
	TEST_DONE();
}

/* ==== Handshakes over a socketpair ==== */

struct hs {
	/* In. */
	const char		*client_prio;
	const struct ident	*client_id;	/* NULL: no certificate */
	int			 request;	/* server asks for one */
	/* Out. */
	int			 srv_rc, cli_rc;
	gnutls_protocol_t	 version;
	gnutls_cipher_algorithm_t cipher;
	gnutls_kx_algorithm_t	 kx;
	unsigned int		 cli_verify;	/* the client's view */
	char			 server_cn[128];
	enum tls_peer		 peer;
	char			 cn[128];
	char			 why[128];
};

struct hs_srv {
	struct hs		*hs;
	int			 fd;
};

static gnutls_priority_t srv_prio;
static gnutls_certificate_credentials_t srv_cred;

/* The client sends its certificate whatever CAs the server names. */
static const struct ident *cli_send;
static gnutls_pcert_st cli_pcert;
static gnutls_privkey_t cli_pkey;

static int
cli_retrieve(gnutls_session_t s, const gnutls_datum_t *req_ca_dn, int nreqs,
    const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
    gnutls_pcert_st **pcert, unsigned int *pcert_length,
    gnutls_privkey_t *pkey)
{
	if (cli_send == NULL) {
		*pcert = NULL;
		*pcert_length = 0;
		*pkey = NULL;
		return 0;
	}
	*pcert = &cli_pcert;
	*pcert_length = 1;
	*pkey = cli_pkey;
	return 0;
}

static int
hs_run(gnutls_session_t s)
{
	int r;

	do
		r = gnutls_handshake(s);
	while (r == GNUTLS_E_INTERRUPTED ||
	    (r < 0 && gnutls_error_is_fatal(r) == 0 && r != GNUTLS_E_AGAIN));
	return r;
}

static void *
hs_server(void *arg)
{
	struct hs_srv *sv = arg;
	struct hs *hs = sv->hs;
	gnutls_session_t s;

	ASSERT_INT_EQ(gnutls_init(&s, GNUTLS_SERVER), 0);
	ASSERT_INT_EQ(gnutls_priority_set(s, srv_prio), 0);
	ASSERT_INT_EQ(gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE,
	    srv_cred), 0);
	/* As libmicrohttpd does when it has a client CA. */
	if (hs->request)
		gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUEST);
	gnutls_transport_set_int(s, sv->fd);
	hs->srv_rc = hs_run(s);
	if (hs->srv_rc == 0)
		hs->peer = tls_peer_verify(s, hs->cn, sizeof(hs->cn), hs->why,
		    sizeof(hs->why));
	else
		gnutls_alert_send_appropriate(s, hs->srv_rc);
	gnutls_deinit(s);
	shutdown(sv->fd, SHUT_RDWR);
	return NULL;
}

static void
handshake(struct hs *hs)
{
	gnutls_certificate_credentials_t cred;
	gnutls_session_t c;
	gnutls_datum_t d;
	gnutls_x509_crt_t crt;
	const gnutls_datum_t *peers;
	struct hs_srv sv;
	struct timeval tv = { 10, 0 };
	pthread_t th;
	unsigned int n;
	size_t len;
	int fds[2];

	hs->srv_rc = hs->cli_rc = -1;
	hs->peer = TLS_PEER_BAD;
	hs->cn[0] = hs->why[0] = hs->server_cn[0] = '\0';
	ASSERT_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	/* A bug must fail the test, not hang it. */
	setsockopt(fds[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fds[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	cli_send = hs->client_id;
	if (cli_send != NULL) {
		ASSERT_INT_EQ(gnutls_pcert_import_x509(&cli_pcert,
		    cli_send->crt, 0), 0);
		ASSERT_INT_EQ(gnutls_privkey_init(&cli_pkey), 0);
		ASSERT_INT_EQ(gnutls_privkey_import_x509(cli_pkey,
		    cli_send->key, 0), 0);
	}
	ASSERT_INT_EQ(gnutls_certificate_allocate_credentials(&cred), 0);
	d.data = (unsigned char *)root.crt_pem;
	d.size = strlen(root.crt_pem);
	ASSERT_INT_EQ(gnutls_certificate_set_x509_trust_mem(cred, &d,
	    GNUTLS_X509_FMT_PEM), 1);
	gnutls_certificate_set_retrieve_function2(cred, cli_retrieve);

	sv.hs = hs;
	sv.fd = fds[0];
	ASSERT_INT_EQ(pthread_create(&th, NULL, hs_server, &sv), 0);

	ASSERT_INT_EQ(gnutls_init(&c, GNUTLS_CLIENT), 0);
	ASSERT_INT_EQ(gnutls_priority_set_direct(c, hs->client_prio, NULL), 0);
	ASSERT_INT_EQ(gnutls_credentials_set(c, GNUTLS_CRD_CERTIFICATE, cred),
	    0);
	gnutls_session_set_verify_cert(c, "localhost", 0);
	gnutls_transport_set_int(c, fds[1]);
	hs->cli_rc = hs_run(c);
	hs->cli_verify = gnutls_session_get_verify_cert_status(c);
	if (hs->cli_rc == 0) {
		hs->version = gnutls_protocol_get_version(c);
		hs->cipher = gnutls_cipher_get(c);
		hs->kx = gnutls_kx_get(c);
		peers = gnutls_certificate_get_peers(c, &n);
		if (peers != NULL && n > 0 && gnutls_x509_crt_init(&crt) == 0) {
			len = sizeof(hs->server_cn);
			if (gnutls_x509_crt_import(crt, &peers[0],
			    GNUTLS_X509_FMT_DER) != 0 ||
			    gnutls_x509_crt_get_dn_by_oid(crt,
			    GNUTLS_OID_X520_COMMON_NAME, 0, 0, hs->server_cn,
			    &len) != 0)
				hs->server_cn[0] = '\0';
			gnutls_x509_crt_deinit(crt);
		}
	} else
		gnutls_alert_send_appropriate(c, hs->cli_rc);
	shutdown(fds[1], SHUT_RDWR);
	pthread_join(th, NULL);
	gnutls_deinit(c);
	gnutls_certificate_free_credentials(cred);
	if (cli_send != NULL) {
		gnutls_pcert_deinit(&cli_pcert);
		gnutls_privkey_deinit(cli_pkey);
	}
	cli_send = NULL;
	close(fds[0]);
	close(fds[1]);
}

#define PRIO_TLS12	"NORMAL:-VERS-ALL:+VERS-TLS1.2"
#define PRIO_TLS11	"NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0"
#define PRIO_CBC	"NORMAL:-VERS-TLS1.3:-CIPHER-ALL:+AES-128-CBC:" \
			"+AES-256-CBC:-MAC-ALL:+SHA1:+SHA256:+SHA384"
#define PRIO_RSA_KX	"NORMAL:-VERS-TLS1.3:-KX-ALL:+RSA"
#define PRIO_FFDHE	"NORMAL:-GROUP-ALL:+GROUP-FFDHE2048:+GROUP-FFDHE3072"

static void
install(const char *cert, const struct ident *key_of, const char *ca)
{
	struct tls_creds *tc;
	char err[256];

	ASSERT_INT_EQ(load(cert, key_of->key_pem, ca, &tc, err, sizeof(err)),
	    0);
	tls_creds_install(tc);
}

static void
test_handshakes(void)
{
	struct hs hs;
	char *chain;
	const char *where;

	ASSERT_INT_EQ(gnutls_priority_init(&srv_prio, tls_priorities, &where),
	    0);
	ASSERT_INT_EQ(gnutls_certificate_allocate_credentials(&srv_cred), 0);
	/* What MHD_OPTION_HTTPS_CERT_CALLBACK2 does. */
	gnutls_certificate_set_retrieve_function3(srv_cred, tls_retrieve);
	chain = cat(srv_inter.crt_pem, inter.crt_pem);

	TEST_START("handshake: no credentials installed, no handshake");
	tls_creds_install(NULL);
	memset(&hs, 0, sizeof(hs));
	hs.client_prio = "NORMAL";
	handshake(&hs);
	ASSERT_INT_LT(hs.srv_rc, 0);
	ASSERT_INT_LT(hs.cli_rc, 0);
	TEST_DONE();

	TEST_START("handshake: TLS 1.3, the chain verified by the client");
	install(chain, &srv_inter, NULL);
	memset(&hs, 0, sizeof(hs));
	hs.client_prio = "NORMAL";
	handshake(&hs);
	ASSERT_INT_EQ(hs.srv_rc, 0);
	ASSERT_INT_EQ(hs.cli_rc, 0);
	ASSERT_INT_EQ(hs.cli_verify, 0);
	ASSERT_INT_EQ(hs.version, GNUTLS_TLS1_3);
	ASSERT_INT_EQ(hs.cipher, GNUTLS_CIPHER_AES_128_GCM);
	ASSERT_STRING_EQ(hs.server_cn, "inter-leaf.test");
	/* No client CA: nothing asked, nothing to verify. */
	ASSERT_INT_EQ(hs.peer, TLS_PEER_NONE);
	TEST_DONE();

	TEST_START("handshake: TLS 1.2 with ECDHE and GCM; RSA and Ed25519");
	install(srv_rsa.crt_pem, &srv_rsa, NULL);
	memset(&hs, 0, sizeof(hs));
	hs.client_prio = PRIO_TLS12;
	handshake(&hs);
	ASSERT_INT_EQ(hs.cli_rc, 0);
	ASSERT_INT_EQ(hs.version, GNUTLS_TLS1_2);
	ASSERT_INT_EQ(hs.kx, GNUTLS_KX_ECDHE_RSA);
	ASSERT_INT_EQ(hs.cipher, GNUTLS_CIPHER_AES_128_GCM);
	ASSERT_STRING_EQ(hs.server_cn, "rsa.test");
	memset(&hs, 0, sizeof(hs));
	hs.client_prio = "NORMAL";
	handshake(&hs);
	ASSERT_INT_EQ(hs.cli_rc, 0);
	ASSERT_INT_EQ(hs.version, GNUTLS_TLS1_3);
	install(srv_ed.crt_pem, &srv_ed, NULL);
	memset(&hs, 0, sizeof(hs));
	hs.client_prio = "NORMAL";
	handshake(&hs);
	ASSERT_INT_EQ(hs.cli_rc, 0);
	ASSERT_INT_EQ(hs.cli_verify, 0);
	ASSERT_STRING_EQ(hs.server_cn, "ed25519.test");
	TEST_DONE();

	TEST_START("handshake: TLS 1.1, CBC, RSA key exchange, FFDHE refused");
	install(srv_ec.crt_pem, &srv_ec, NULL);
	memset(&hs, 0, sizeof(hs));
	hs.client_prio = PRIO_TLS11;
	handshake(&hs);
	/* Refused by the server, for the reason meant. */
	ASSERT_INT_EQ(hs.srv_rc, GNUTLS_E_UNSUPPORTED_VERSION_PACKET);
	ASSERT_INT_LT(hs.cli_rc, 0);
	memset(&hs, 0, sizeof(hs));
	hs.client_prio = PRIO_CBC;
	handshake(&hs);
	ASSERT_INT_EQ(hs.srv_rc, GNUTLS_E_NO_CIPHER_SUITES);
	ASSERT_INT_LT(hs.cli_rc, 0);
	install(srv_rsa.crt_pem, &srv_rsa, NULL);
	memset(&hs, 0, sizeof(hs));
	hs.client_prio = PRIO_RSA_KX;
	handshake(&hs);
	ASSERT_INT_EQ(hs.srv_rc, GNUTLS_E_NO_CIPHER_SUITES);
	ASSERT_INT_LT(hs.cli_rc, 0);
	memset(&hs, 0, sizeof(hs));
	hs.client_prio = PRIO_FFDHE;
	handshake(&hs);
	ASSERT_INT_EQ(hs.srv_rc, GNUTLS_E_NO_COMMON_KEY_SHARE);
	ASSERT_INT_LT(hs.cli_rc, 0);
	TEST_DONE();

	TEST_START("handshake: a new certificate from the next handshake on");
	install(srv_ec.crt_pem, &srv_ec, NULL);
	memset(&hs, 0, sizeof(hs));
	hs.client_prio = "NORMAL";
	handshake(&hs);
	ASSERT_INT_EQ(hs.cli_rc, 0);
	ASSERT_STRING_EQ(hs.server_cn, "ec.test");
	install(chain, &srv_inter, NULL);
	memset(&hs, 0, sizeof(hs));
	hs.client_prio = "NORMAL";
	handshake(&hs);
	ASSERT_INT_EQ(hs.cli_rc, 0);
	ASSERT_STRING_EQ(hs.server_cn, "inter-leaf.test");
	TEST_DONE();

	TEST_START("mutual TLS: a client certificate of the CA verifies");
	install(chain, &srv_inter, root.crt_pem);
	memset(&hs, 0, sizeof(hs));
	hs.client_prio = "NORMAL";
	hs.request = 1;
	hs.client_id = &cli_ok;
	handshake(&hs);
	ASSERT_INT_EQ(hs.srv_rc, 0);
	ASSERT_INT_EQ(hs.cli_rc, 0);
	ASSERT_INT_EQ(hs.peer, TLS_PEER_OK);
	ASSERT_STRING_EQ(hs.cn, "client-1");
	ASSERT_STRING_EQ(hs.why, "");
	/* The same over TLS 1.2. */
	memset(&hs, 0, sizeof(hs));
	hs.client_prio = PRIO_TLS12;
	hs.request = 1;
	hs.client_id = &cli_ok;
	handshake(&hs);
	ASSERT_INT_EQ(hs.version, GNUTLS_TLS1_2);
	ASSERT_INT_EQ(hs.peer, TLS_PEER_OK);
	ASSERT_STRING_EQ(hs.cn, "client-1");
	TEST_DONE();

	TEST_START("mutual TLS: no certificate, none");
	memset(&hs, 0, sizeof(hs));
	hs.client_prio = "NORMAL";
	hs.request = 1;
	handshake(&hs);
	ASSERT_INT_EQ(hs.srv_rc, 0);
	ASSERT_INT_EQ(hs.peer, TLS_PEER_NONE);
	ASSERT_STRING_EQ(hs.cn, "");
	TEST_DONE();

	TEST_START("mutual TLS: untrusted, expired, wrong purpose refused");
	memset(&hs, 0, sizeof(hs));
	hs.client_prio = "NORMAL";
	hs.request = 1;
	hs.client_id = &cli_untrusted;
	handshake(&hs);
	ASSERT_INT_EQ(hs.srv_rc, 0);
	ASSERT_INT_EQ(hs.peer, TLS_PEER_BAD);
	ASSERT_STRING_EQ(hs.why, "not issued by a trusted CA");
	ASSERT_STRING_EQ(hs.cn, "");
	memset(&hs, 0, sizeof(hs));
	hs.client_prio = "NORMAL";
	hs.request = 1;
	hs.client_id = &cli_expired;
	handshake(&hs);
	ASSERT_INT_EQ(hs.srv_rc, 0);
	ASSERT_INT_EQ(hs.peer, TLS_PEER_BAD);
	ASSERT_STRING_EQ(hs.why, "expired");
	memset(&hs, 0, sizeof(hs));
	hs.client_prio = "NORMAL";
	hs.request = 1;
	hs.client_id = &cli_server_only;
	handshake(&hs);
	ASSERT_INT_EQ(hs.srv_rc, 0);
	ASSERT_INT_EQ(hs.peer, TLS_PEER_BAD);
	ASSERT_STRING_EQ(hs.why, "not for client authentication");
	TEST_DONE();

	TEST_START("mutual TLS: the client CA replaced, the new one applies");
	/* The CA that signed cli_untrusted becomes the trusted one. */
	install(chain, &srv_inter, root2.crt_pem);
	memset(&hs, 0, sizeof(hs));
	hs.client_prio = "NORMAL";
	hs.request = 1;
	hs.client_id = &cli_untrusted;
	handshake(&hs);
	ASSERT_INT_EQ(hs.peer, TLS_PEER_OK);
	ASSERT_STRING_EQ(hs.cn, "client-2");
	memset(&hs, 0, sizeof(hs));
	hs.client_prio = "NORMAL";
	hs.request = 1;
	hs.client_id = &cli_ok;
	handshake(&hs);
	ASSERT_INT_EQ(hs.peer, TLS_PEER_BAD);
	ASSERT_STRING_EQ(hs.why, "not issued by a trusted CA");
	/* No client CA: whatever was sent, none. */
	install(chain, &srv_inter, NULL);
	memset(&hs, 0, sizeof(hs));
	hs.client_prio = "NORMAL";
	hs.request = 1;
	hs.client_id = &cli_ok;
	handshake(&hs);
	ASSERT_INT_EQ(hs.peer, TLS_PEER_NONE);
	TEST_DONE();

	tls_creds_install(NULL);
	free(chain);
	gnutls_certificate_free_credentials(srv_cred);
	gnutls_priority_deinit(srv_prio);
}

void
tests(void)
{
	test_plan(23);

	ident_make(&root, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(
	    GNUTLS_ECC_CURVE_SECP256R1), "Test Root CA", USE_CA, NULL, -DAY,
	    365 * DAY);
	ident_make(&root2, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(
	    GNUTLS_ECC_CURVE_SECP256R1), "Other Root CA", USE_CA, NULL, -DAY,
	    365 * DAY);
	ident_make(&inter, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(
	    GNUTLS_ECC_CURVE_SECP384R1), "Test Intermediate CA", USE_CA, &root,
	    -DAY, 300 * DAY);
	ident_make(&srv_ec, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(
	    GNUTLS_ECC_CURVE_SECP256R1), "ec.test", USE_SERVER, &root, -DAY,
	    30 * DAY);
	ident_make(&srv_ec384, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(
	    GNUTLS_ECC_CURVE_SECP384R1), "ec384.test", USE_SERVER, &root, -DAY,
	    30 * DAY);
	ident_make(&srv_rsa, GNUTLS_PK_RSA, 2048, "rsa.test", USE_SERVER, &root,
	    -DAY, 30 * DAY);
	ident_make(&srv_rsa1024, GNUTLS_PK_RSA, 1024, "rsa1024.test",
	    USE_SERVER, &root, -DAY, 30 * DAY);
	ident_make(&srv_ed, GNUTLS_PK_EDDSA_ED25519, 0, "ed25519.test",
	    USE_SERVER, &root, -DAY, 30 * DAY);
	ident_make(&srv_inter, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(
	    GNUTLS_ECC_CURVE_SECP256R1), "inter-leaf.test", USE_SERVER, &inter,
	    -DAY, 30 * DAY);
	ident_make(&srv_old, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(
	    GNUTLS_ECC_CURVE_SECP256R1), "old.test", USE_SERVER, &root,
	    -30 * DAY, -DAY);
	ident_make(&srv_future, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(
	    GNUTLS_ECC_CURVE_SECP256R1), "future.test", USE_SERVER, &root,
	    DAY, 30 * DAY);
	ident_make(&cli_ok, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(
	    GNUTLS_ECC_CURVE_SECP256R1), "client-1", USE_CLIENT, &root, -DAY,
	    30 * DAY);
	ident_make(&cli_untrusted, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(
	    GNUTLS_ECC_CURVE_SECP256R1), "client-2", USE_CLIENT, &root2, -DAY,
	    30 * DAY);
	ident_make(&cli_expired, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(
	    GNUTLS_ECC_CURVE_SECP256R1), "client-3", USE_CLIENT, &root,
	    -30 * DAY, -DAY);
	ident_make(&cli_server_only, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(
	    GNUTLS_ECC_CURVE_SECP256R1), "client-4", USE_SERVER, &root, -DAY,
	    30 * DAY);

	test_priorities();
	test_load_good();
	test_load_bad();
	test_install_race();
	test_handshakes();

	ident_free(&root);
	ident_free(&root2);
	ident_free(&inter);
	ident_free(&srv_ec);
	ident_free(&srv_ec384);
	ident_free(&srv_rsa);
	ident_free(&srv_rsa1024);
	ident_free(&srv_ed);
	ident_free(&srv_inter);
	ident_free(&srv_old);
	ident_free(&srv_future);
	ident_free(&cli_ok);
	ident_free(&cli_untrusted);
	ident_free(&cli_expired);
	ident_free(&cli_server_only);
}
