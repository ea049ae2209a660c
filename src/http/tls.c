/* SPDX-License-Identifier: ISC */
/*
 * tls.c: the HTTP server's TLS credentials (see tls.h).
 *
 * A loaded set keeps the chain and the key as DER, parsed and checked
 * once; every handshake imports its own copy from those bytes
 * (tls_retrieve), which GnuTLS frees with the session.  The current set is
 * one pointer under a mutex; a handshake holds a reference while it copies,
 * so tls_creds_install() may drop the old set at any moment: the last
 * reference frees it.
 *
 * Nothing here opens a file: the bytes come from the parent process, and
 * the trust list holds only the CAs given (no system store, no PKCS #11).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "common/ag_err.h"
#include "tls.h"

/*
 * TLS 1.3 and 1.2; AES-GCM and ChaCha20-Poly1305 (AEAD: no CBC, no
 * Lucky13, no padding oracles); ECDHE only (forward secrecy; no static
 * RSA key exchange, no finite-field DHE and its parameter troubles) over
 * X25519, P-256 and P-384; signatures with SHA-2 or EdDSA only (RSA-PSS
 * first for RSA keys, PKCS #1 v1.5 kept for TLS 1.2 clients); X.509
 * certificates.  AES-128-GCM leads: as strong as the rest in practice and
 * the cheapest with AES-NI.  The server's order wins.
 */
const char tls_priorities[] =
    "NONE:+VERS-TLS1.3:+VERS-TLS1.2:"
    "+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:+AEAD:"
    "+ECDHE-ECDSA:+ECDHE-RSA:"
    "+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:"
    "+SIGN-EDDSA-ED25519:"
    "+SIGN-ECDSA-SECP256R1-SHA256:+SIGN-ECDSA-SECP384R1-SHA384:"
    "+SIGN-ECDSA-SECP521R1-SHA512:"
    "+SIGN-ECDSA-SHA256:+SIGN-ECDSA-SHA384:+SIGN-ECDSA-SHA512:"
    "+SIGN-RSA-PSS-RSAE-SHA256:+SIGN-RSA-PSS-RSAE-SHA384:"
    "+SIGN-RSA-PSS-RSAE-SHA512:"
    "+SIGN-RSA-PSS-SHA256:+SIGN-RSA-PSS-SHA384:+SIGN-RSA-PSS-SHA512:"
    "+SIGN-RSA-SHA256:+SIGN-RSA-SHA384:+SIGN-RSA-SHA512:"
    "+CTYPE-X509:%SERVER_PRECEDENCE";

/* A chain longer than this is a mistake, not a deployment. */
#define TLS_MAX_CHAIN		16
/* Client CA bundles: generous, but bounded. */
#define TLS_MAX_CA		256
#define TLS_MIN_RSA_BITS	2048

struct tls_creds {
	atomic_uint		 tc_refs;
	gnutls_datum_t		 tc_chain[TLS_MAX_CHAIN];	/* DER, leaf first */
	unsigned int		 tc_nchain;
	gnutls_datum_t		 tc_key;		/* PKCS #8 DER, plain */
	gnutls_x509_trust_list_t tc_ca;			/* NULL: no client CA */
	unsigned int		 tc_nca;
	char			*tc_ca_pem;		/* NUL-terminated */
	char			 tc_subject[256];	/* printable */
	time_t			 tc_not_after;
	gnutls_pk_algorithm_t	 tc_pk;
	unsigned int		 tc_bits;
};

static pthread_mutex_t tls_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tls_creds *tls_current;

/* ==== Helpers ==== */

/* Copies s into buf with anything but printable ASCII as '?'. */
static void
tls_printable(char *buf, size_t len, const char *s, size_t slen)
{
	size_t i;

	if (len == 0)
		return;
	for (i = 0; i < slen && i + 1 < len; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
}

static int
tls_has(const char *p, size_t len, const char *needle)
{
	return memmem(p, len, needle, strlen(needle)) != NULL;
}

static void
tls_datum_free(gnutls_datum_t *d, int secret)
{
	if (d->data != NULL) {
		if (secret)
			explicit_bzero(d->data, d->size);
		gnutls_free(d->data);
	}
	d->data = NULL;
	d->size = 0;
}

static void
tls_crt_list_free(gnutls_x509_crt_t *crts, unsigned int n)
{
	unsigned int i;

	if (crts == NULL)
		return;
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
}

/* The datum for len bytes at p, or AG_ERR_TOO_LARGE past GnuTLS's size. */
static int
tls_datum(gnutls_datum_t *d, const char *p, size_t len)
{
	if (len > UINT32_MAX)
		return AG_ERR_TOO_LARGE;
	d->data = (unsigned char *)(uintptr_t)p;
	d->size = (unsigned int)len;
	return 0;
}

static struct tls_creds *
tls_creds_ref(void)
{
	struct tls_creds *tc;

	pthread_mutex_lock(&tls_lock);
	tc = tls_current;
	if (tc != NULL)
		atomic_fetch_add(&tc->tc_refs, 1);
	pthread_mutex_unlock(&tls_lock);
	return tc;
}

/* ==== Loading ==== */

static int
tls_load_chain(struct tls_creds *tc, const char *cert, size_t cert_len,
    const char *name, gnutls_x509_crt_t *leaf, char *err, size_t errlen)
{
	gnutls_x509_crt_t *crts = NULL;
	gnutls_datum_t in;
	unsigned int n = 0, i, st;
	time_t now, t;
	int r, g;

	*leaf = NULL;
	if (tls_datum(&in, cert, cert_len) != 0 || cert_len == 0)
		return ag_errf(err, errlen, AG_ERR_FORMAT,
		    "%s: no certificate", name);
	g = gnutls_x509_crt_list_import2(&crts, &n, &in, GNUTLS_X509_FMT_PEM,
	    GNUTLS_X509_CRT_LIST_FAIL_IF_UNSORTED);
	if (g == GNUTLS_E_MEMORY_ERROR)
		return ag_errf(err, errlen, AG_ERR_ALLOC, "%s: out of memory",
		    name);
	if (g == GNUTLS_E_CERTIFICATE_LIST_UNSORTED)
		return ag_errf(err, errlen, AG_ERR_FORMAT, "%s: the chain is "
		    "not in order (the server's certificate first, then each "
		    "certificate's issuer)", name);
	if (g < 0 || n == 0)
		return ag_errf(err, errlen, AG_ERR_FORMAT,
		    "%s: not a PEM certificate chain (%s)", name,
		    g < 0 ? gnutls_strerror(g) : "no certificate");
	if (n > TLS_MAX_CHAIN) {
		r = ag_errf(err, errlen, AG_ERR_FORMAT,
		    "%s: %u certificates, at most %d", name, n, TLS_MAX_CHAIN);
		goto out;
	}

	/* Each certificate signed by the next one (the server sends them). */
	for (i = 0; i + 1 < n; i++) {
		g = gnutls_x509_crt_verify(crts[i], &crts[i + 1], 1,
		    GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
		    GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS, &st);
		if (g < 0 || st != 0) {
			r = ag_errf(err, errlen, AG_ERR_FORMAT,
			    "%s: certificate %u is not signed by certificate "
			    "%u after it%s", name, i + 1, i + 2,
			    (st & GNUTLS_CERT_INSECURE_ALGORITHM) ?
			    " (insecure signature algorithm)" :
			    (st & GNUTLS_CERT_SIGNER_NOT_CA) ?
			    " (which is not a CA)" : "");
			goto out;
		}
	}

	/* The leaf must be valid now: an expired one fails every client. */
	now = time(NULL);
	t = gnutls_x509_crt_get_activation_time(crts[0]);
	if (t == (time_t)-1 || t > now) {
		r = ag_errf(err, errlen, AG_ERR_SIGNATURE,
		    "%s: the certificate is not yet valid", name);
		goto out;
	}
	t = gnutls_x509_crt_get_expiration_time(crts[0]);
	if (t == (time_t)-1 || t < now) {
		r = ag_errf(err, errlen, AG_ERR_SIGNATURE,
		    "%s: the certificate expired", name);
		goto out;
	}
	tc->tc_not_after = t;

	for (i = 0; i < n; i++) {
		g = gnutls_x509_crt_export2(crts[i], GNUTLS_X509_FMT_DER,
		    &tc->tc_chain[i]);
		if (g < 0) {
			r = ag_errf(err, errlen, AG_ERR_ALLOC,
			    "%s: certificate %u: %s", name, i + 1,
			    gnutls_strerror(g));
			goto out;
		}
		tc->tc_nchain++;
	}
	*leaf = crts[0];
	crts[0] = NULL;
	r = 0;
 out:
	for (i = 0; i < n; i++)
		if (crts[i] != NULL)
			gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	return r;
}

static int
tls_load_key(struct tls_creds *tc, const char *key, size_t key_len,
    const char *name, gnutls_x509_crt_t leaf, const char *cert_name,
    char *err, size_t errlen)
{
	gnutls_x509_privkey_t xk = NULL;
	gnutls_datum_t in;
	unsigned char kid[64], cid[64];
	size_t klen = sizeof(kid), clen = sizeof(cid);
	unsigned int bits = 0;
	int r, g, pk;

	if (tls_datum(&in, key, key_len) != 0 || key_len == 0)
		return ag_errf(err, errlen, AG_ERR_FORMAT, "%s: no key", name);
	/*
	 * An encrypted key needs a passphrase that nobody is there to type:
	 * say so, rather than "does not parse".  PKCS #8 says ENCRYPTED in
	 * its PEM label, the old OpenSSL form in a Proc-Type header.
	 */
	if (tls_has(key, key_len, "-----BEGIN ENCRYPTED PRIVATE KEY-----") ||
	    tls_has(key, key_len, "Proc-Type: 4,ENCRYPTED"))
		return ag_errf(err, errlen, AG_ERR_FORMAT, "%s: the private "
		    "key is encrypted; give it unencrypted (readable by root "
		    "and the daemon only)", name);
	if ((g = gnutls_x509_privkey_init(&xk)) < 0)
		return ag_errf(err, errlen, AG_ERR_ALLOC, "%s: %s", name,
		    gnutls_strerror(g));
	/* PKCS #8, PKCS #1 (RSA) and SEC1 (EC), unencrypted only. */
	g = gnutls_x509_privkey_import2(xk, &in, GNUTLS_X509_FMT_PEM, NULL,
	    GNUTLS_PKCS_PLAIN);
	if (g < 0) {
		r = ag_errf(err, errlen, AG_ERR_FORMAT,
		    "%s: not a PEM private key (%s)", name,
		    g == GNUTLS_E_DECRYPTION_FAILED ?
		    "encrypted, or damaged" : gnutls_strerror(g));
		goto out;
	}

	pk = gnutls_x509_privkey_get_pk_algorithm2(xk, &bits);
	switch (pk) {
	case GNUTLS_PK_RSA:
	case GNUTLS_PK_RSA_PSS:
		if (bits < TLS_MIN_RSA_BITS) {
			r = ag_errf(err, errlen, AG_ERR_FORMAT,
			    "%s: an RSA key of %u bits; at least %d", name,
			    bits, TLS_MIN_RSA_BITS);
			goto out;
		}
		break;
	case GNUTLS_PK_ECDSA:
	case GNUTLS_PK_EDDSA_ED25519:
		break;
	default:
		r = ag_errf(err, errlen, AG_ERR_FORMAT,
		    "%s: a %s key; RSA, ECDSA or Ed25519 only", name,
		    pk < 0 ? "damaged" : gnutls_pk_get_name(pk));
		goto out;
	}
	if ((g = gnutls_x509_privkey_verify_params(xk)) < 0) {
		r = ag_errf(err, errlen, AG_ERR_FORMAT,
		    "%s: the private key is inconsistent (%s)", name,
		    gnutls_strerror(g));
		goto out;
	}

	/* The key must be the leaf's: compare the public keys' SHA-256 ids. */
	if (gnutls_x509_privkey_get_key_id(xk, GNUTLS_KEYID_USE_SHA256, kid,
	    &klen) < 0 || gnutls_x509_crt_get_key_id(leaf,
	    GNUTLS_KEYID_USE_SHA256, cid, &clen) < 0 || klen != clen ||
	    memcmp(kid, cid, klen) != 0) {
		r = ag_errf(err, errlen, AG_ERR_FORMAT,
		    "%s: the private key does not match the certificate of %s",
		    name, cert_name);
		goto out;
	}

	g = gnutls_x509_privkey_export2_pkcs8(xk, GNUTLS_X509_FMT_DER, NULL,
	    GNUTLS_PKCS_PLAIN, &tc->tc_key);
	if (g < 0) {
		r = ag_errf(err, errlen, AG_ERR_ALLOC, "%s: %s", name,
		    gnutls_strerror(g));
		goto out;
	}
	tc->tc_pk = pk;
	tc->tc_bits = bits;
	r = 0;
 out:
	gnutls_x509_privkey_deinit(xk);
	return r;
}

static int
tls_load_ca(struct tls_creds *tc, const char *ca, size_t ca_len,
    const char *name, char *err, size_t errlen)
{
	gnutls_x509_crt_t *crts = NULL;
	gnutls_datum_t in;
	unsigned int n = 0, i;
	int r, g;

	if (tls_datum(&in, ca, ca_len) != 0)
		return ag_errf(err, errlen, AG_ERR_TOO_LARGE, "%s: too large",
		    name);
	g = gnutls_x509_crt_list_import2(&crts, &n, &in, GNUTLS_X509_FMT_PEM,
	    0);
	if (g == GNUTLS_E_MEMORY_ERROR)
		return ag_errf(err, errlen, AG_ERR_ALLOC, "%s: out of memory",
		    name);
	if (g < 0 || n == 0)
		return ag_errf(err, errlen, AG_ERR_FORMAT,
		    "%s: not a PEM CA bundle (%s)", name,
		    g < 0 ? gnutls_strerror(g) : "no certificate");
	if (n > TLS_MAX_CA) {
		r = ag_errf(err, errlen, AG_ERR_FORMAT,
		    "%s: %u certificates, at most %d", name, n, TLS_MAX_CA);
		goto out;
	}
	for (i = 0; i < n; i++) {
		unsigned int ca_flag = 0;

		if (gnutls_x509_crt_get_basic_constraints(crts[i], NULL,
		    &ca_flag, NULL) < 0 || !ca_flag) {
			r = ag_errf(err, errlen, AG_ERR_FORMAT,
			    "%s: certificate %u is not a CA", name, i + 1);
			goto out;
		}
	}
	if ((g = gnutls_x509_trust_list_init(&tc->tc_ca, 0)) < 0) {
		r = ag_errf(err, errlen, AG_ERR_ALLOC, "%s: %s", name,
		    gnutls_strerror(g));
		goto out;
	}
	/*
	 * The list takes the certificates (not the array), even when it
	 * fails part way: they are never freed here after this call.
	 */
	g = gnutls_x509_trust_list_add_cas(tc->tc_ca, crts, n, 0);
	tc->tc_nca = g > 0 ? (unsigned int)g : 0;
	n = 0;
	if (g < 0) {
		r = ag_errf(err, errlen, AG_ERR_ALLOC,
		    "%s: the CA certificates could not be added (%s)", name,
		    gnutls_strerror(g));
		goto out;
	}

	if ((tc->tc_ca_pem = malloc(ca_len + 1)) == NULL) {
		r = ag_errf(err, errlen, AG_ERR_ALLOC, "%s: out of memory",
		    name);
		goto out;
	}
	memcpy(tc->tc_ca_pem, ca, ca_len);
	tc->tc_ca_pem[ca_len] = '\0';
	r = 0;
 out:
	tls_crt_list_free(crts, n);
	return r;
}

int
tls_creds_load(const char *cert, size_t cert_len, const char *cert_name,
    const char *key, size_t key_len, const char *key_name,
    const char *ca, size_t ca_len, const char *ca_name,
    struct tls_creds **out, char *err, size_t errlen)
{
	struct tls_creds *tc;
	gnutls_x509_crt_t leaf = NULL;
	gnutls_datum_t dn = { NULL, 0 };
	int r;

	*out = NULL;
	if (cert_name == NULL)
		cert_name = "certificate";
	if (key_name == NULL)
		key_name = "key";
	if (ca_name == NULL)
		ca_name = "client CA";
	if (cert == NULL || key == NULL)
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG,
		    "TLS: a certificate and a key are needed");
	if ((tc = calloc(1, sizeof(*tc))) == NULL)
		return ag_errf(err, errlen, AG_ERR_ALLOC, "TLS: out of memory");
	atomic_init(&tc->tc_refs, 1);

	if ((r = tls_load_chain(tc, cert, cert_len, cert_name, &leaf, err,
	    errlen)) != 0)
		goto fail;
	if ((r = tls_load_key(tc, key, key_len, key_name, leaf, cert_name,
	    err, errlen)) != 0)
		goto fail;
	if (ca != NULL && ca_len > 0 &&
	    (r = tls_load_ca(tc, ca, ca_len, ca_name, err, errlen)) != 0)
		goto fail;

	if (gnutls_x509_crt_get_dn3(leaf, &dn, 0) >= 0) {
		tls_printable(tc->tc_subject, sizeof(tc->tc_subject),
		    (const char *)dn.data, dn.size);
		gnutls_free(dn.data);
	} else
		snprintf(tc->tc_subject, sizeof(tc->tc_subject), "(none)");
	gnutls_x509_crt_deinit(leaf);
	*out = tc;
	return 0;
 fail:
	if (leaf != NULL)
		gnutls_x509_crt_deinit(leaf);
	tls_creds_free(tc);
	return r;
}

void
tls_creds_free(struct tls_creds *tc)
{
	unsigned int i;

	if (tc == NULL)
		return;
	/* The last reference frees (a handshake may hold one). */
	if (atomic_fetch_sub(&tc->tc_refs, 1) != 1)
		return;
	for (i = 0; i < tc->tc_nchain; i++)
		tls_datum_free(&tc->tc_chain[i], 0);
	tls_datum_free(&tc->tc_key, 1);
	if (tc->tc_ca != NULL)
		gnutls_x509_trust_list_deinit(tc->tc_ca, 1);
	free(tc->tc_ca_pem);
	free(tc);
}

void
tls_creds_describe(const struct tls_creds *tc, char *buf, size_t len)
{
	struct tm tm;
	char when[32] = "?";

	if (len == 0)
		return;
	if (tc == NULL) {
		snprintf(buf, len, "no TLS");
		return;
	}
	if (gmtime_r(&tc->tc_not_after, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(buf, len, "certificate \"%s\", not after %s, %s %u bits, "
	    "chain of %u, %s%u client CAs", tc->tc_subject, when,
	    gnutls_pk_get_name(tc->tc_pk), tc->tc_bits, tc->tc_nchain,
	    tc->tc_ca != NULL ? "" : "no client certificates, ", tc->tc_nca);
}

void
tls_creds_install(struct tls_creds *tc)
{
	struct tls_creds *old;

	pthread_mutex_lock(&tls_lock);
	old = tls_current;
	tls_current = tc;
	pthread_mutex_unlock(&tls_lock);
	/* Freed now, or by the last handshake still copying from it. */
	tls_creds_free(old);
}

const char *
tls_creds_client_ca(const struct tls_creds *tc)
{
	return tc != NULL ? tc->tc_ca_pem : NULL;
}

/* ==== Handshakes ==== */

int
tls_retrieve(gnutls_session_t session, const struct gnutls_cert_retr_st *info,
    gnutls_pcert_st **certs, unsigned int *pcert_length,
    gnutls_ocsp_data_st **ocsp, unsigned int *ocsp_length,
    gnutls_privkey_t *privkey, unsigned int *flags)
{
	struct tls_creds *tc;
	gnutls_pcert_st *pc = NULL;
	gnutls_privkey_t pk = NULL;
	unsigned int i, n = 0;

	*certs = NULL;
	*pcert_length = 0;
	*ocsp = NULL;
	*ocsp_length = 0;
	*privkey = NULL;
	*flags = 0;
	if ((tc = tls_creds_ref()) == NULL)
		return -1;

	/* Freed by GnuTLS with gnutls_free() (GNUTLS_CERT_RETR_DEINIT_ALL). */
	pc = gnutls_calloc(tc->tc_nchain, sizeof(*pc));
	if (pc == NULL)
		goto fail;
	for (n = 0; n < tc->tc_nchain; n++)
		if (gnutls_pcert_import_x509_raw(&pc[n], &tc->tc_chain[n],
		    GNUTLS_X509_FMT_DER, 0) < 0)
			goto fail;
	if (gnutls_privkey_init(&pk) < 0)
		goto fail;
	if (gnutls_privkey_import_x509_raw(pk, &tc->tc_key,
	    GNUTLS_X509_FMT_DER, NULL, 0) < 0)
		goto fail;
	tls_creds_free(tc);

	*certs = pc;
	*pcert_length = n;
	*privkey = pk;
	*flags = GNUTLS_CERT_RETR_DEINIT_ALL;
	return 0;
 fail:
	if (pk != NULL)
		gnutls_privkey_deinit(pk);
	for (i = 0; i < n; i++)
		gnutls_pcert_deinit(&pc[i]);
	gnutls_free(pc);
	tls_creds_free(tc);
	return -1;
}

/* The first reason in status, most telling first. */
static const char *
tls_peer_reason(unsigned int st)
{
	if (st & GNUTLS_CERT_SIGNATURE_FAILURE)
		return "bad signature";
	if (st & GNUTLS_CERT_SIGNER_NOT_FOUND)
		return "not issued by a trusted CA";
	if (st & GNUTLS_CERT_SIGNER_NOT_CA)
		return "issuer is not a CA";
	if (st & GNUTLS_CERT_INSECURE_ALGORITHM)
		return "insecure signature algorithm";
	if (st & GNUTLS_CERT_REVOKED)
		return "revoked";
	if (st & GNUTLS_CERT_EXPIRED)
		return "expired";
	if (st & GNUTLS_CERT_NOT_ACTIVATED)
		return "not yet valid";
	if (st & GNUTLS_CERT_PURPOSE_MISMATCH)
		return "not for client authentication";
	if (st & GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE)
		return "outside the CA's constraints";
	return "invalid";
}

static enum tls_peer
tls_peer_bad(char *why, size_t whylen, const char *reason)
{
	if (whylen > 0)
		snprintf(why, whylen, "%s", reason);
	return TLS_PEER_BAD;
}

enum tls_peer
tls_peer_verify(gnutls_session_t session, char *cn, size_t cnlen, char *why,
    size_t whylen)
{
	struct tls_creds *tc;
	const gnutls_datum_t *peers;
	gnutls_x509_crt_t crts[TLS_MAX_CHAIN];
	gnutls_typed_vdata_st vd;
	unsigned int n = 0, i, st = 0;
	char name[256];
	size_t nlen = sizeof(name);
	enum tls_peer ret;
	int g;

	if (cnlen > 0)
		cn[0] = '\0';
	if (whylen > 0)
		why[0] = '\0';
	if ((tc = tls_creds_ref()) == NULL)
		return TLS_PEER_NONE;
	if (tc->tc_ca == NULL) {
		ret = TLS_PEER_NONE;
		goto out;
	}
	peers = gnutls_certificate_get_peers(session, &n);
	if (peers == NULL || n == 0) {
		ret = TLS_PEER_NONE;
		n = 0;
		goto out;
	}
	if (gnutls_certificate_type_get(session) != GNUTLS_CRT_X509) {
		n = 0;
		ret = tls_peer_bad(why, whylen, "not an X.509 certificate");
		goto out;
	}
	if (n > TLS_MAX_CHAIN) {
		n = 0;
		ret = tls_peer_bad(why, whylen, "chain too long");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (gnutls_x509_crt_init(&crts[i]) < 0) {
			n = i;
			ret = tls_peer_bad(why, whylen, "out of memory");
			goto out;
		}
		if (gnutls_x509_crt_import(crts[i], &peers[i],
		    GNUTLS_X509_FMT_DER) < 0) {
			n = i + 1;
			ret = tls_peer_bad(why, whylen, "does not parse");
			goto out;
		}
	}

	/* Chain, signatures, validity now, and the client-auth purpose. */
	memset(&vd, 0, sizeof(vd));
	vd.type = GNUTLS_DT_KEY_PURPOSE_OID;
	vd.data = (unsigned char *)(uintptr_t)GNUTLS_KP_TLS_WWW_CLIENT;
	if (gnutls_x509_trust_list_verify_crt2(tc->tc_ca, crts, n, &vd, 1, 0,
	    &st, NULL) < 0) {
		ret = tls_peer_bad(why, whylen, "could not be verified");
		goto out;
	}
	if (st != 0) {
		ret = tls_peer_bad(why, whylen, tls_peer_reason(st));
		goto out;
	}

	/* The identity: the subject's CN, printable ASCII only. */
	g = gnutls_x509_crt_get_dn_by_oid(crts[0], GNUTLS_OID_X520_COMMON_NAME,
	    0, 0, name, &nlen);
	if (g == GNUTLS_E_SHORT_MEMORY_BUFFER) {
		ret = tls_peer_bad(why, whylen, "common name too long");
		goto out;
	}
	if (g < 0 || nlen == 0) {
		ret = tls_peer_bad(why, whylen, "no common name");
		goto out;
	}
	for (i = 0; i < nlen; i++)
		if (name[i] < 0x20 || name[i] >= 0x7f) {
			ret = tls_peer_bad(why, whylen,
			    "common name not printable");
			goto out;
		}
	if (nlen >= cnlen) {
		ret = tls_peer_bad(why, whylen, "common name too long");
		goto out;
	}
	memcpy(cn, name, nlen);
	cn[nlen] = '\0';
	ret = TLS_PEER_OK;
 out:
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	tls_creds_free(tc);
	return ret;
}
