/* SPDX-License-Identifier: ISC */
/*
 * msig_trust.c: what a signature is checked against.  Reads the trusted
 * key or CA bundle (PEM, capped), owns struct msig_trust and its
 * msig_trust_* accessors, and the key and certificate rules shared by the
 * verifier and the signer: which digest goes with an ECDSA curve, a key's
 * hint, and whether a certificate may sign.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/ag_err.h"
#include "common/util.h"
#include "msig.h"
#include "msig_impl.h"

#define MSIG_CA_MAX		(4 * 1024 * 1024)	/* a CA bundle */
#define MSIG_MAX_CERTS		256		/* in a CA bundle */

/* Reads a file (capped), for key and certificate files. */
int
msig_read_small(const char *path, size_t max, BIO **out, char *err,
    size_t errlen)
{
	uint8_t *buf;
	size_t len;
	BIO *b;
	int r;

	*out = NULL;
	if ((r = ag_read_file(path, max, &buf, &len, err, errlen)) != 0)
		return r;
	/* BIO_new_mem_buf borrows: copy into a BIO that owns the bytes. */
	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    BIO_write(b, buf, (int)len) != (int)len) {
		BIO_free(b);
		free(buf);
		return ag_errf(err, errlen, AG_ERR_ALLOC, "%s: out of memory",
		    path);
	}
	explicit_bzero(buf, len);
	free(buf);
	*out = b;
	return 0;
}

/* ==== keys ============================================================= */

/*
 * The digest that goes with an ECDSA key's curve, as in the reference:
 * P-256 SHA-256, P-384 SHA-384, P-521 SHA-512.  NULL for anything else.
 * *details is the Sigstore name of the pair.
 */
const EVP_MD *
msig_key_md(EVP_PKEY *pk, const char **details)
{
	char group[64];
	size_t glen;

	msig_init();
	*details = NULL;
	if (pk == NULL || !EVP_PKEY_is_a(pk, "EC") ||
	    EVP_PKEY_get_group_name(pk, group, sizeof(group), &glen) != 1) {
		ERR_clear_error();
		return NULL;
	}
	if (strcmp(group, "prime256v1") == 0) {
		*details = "PKIX_ECDSA_P256_SHA_256";
		return msig_sha256;
	}
	if (strcmp(group, "secp384r1") == 0) {
		*details = "PKIX_ECDSA_P384_SHA_384";
		return msig_sha384;
	}
	if (strcmp(group, "secp521r1") == 0) {
		*details = "PKIX_ECDSA_P521_SHA_512";
		return msig_sha512;
	}
	return NULL;
}

/*
 * The key's hint: SHA-256 (hex) of its public key PEM text, exactly as
 * PEM_write_bio_PUBKEY writes it (what the reference writes in
 * verificationMaterial.publicKey.hint).
 */
int
msig_key_hint(EVP_PKEY *pk, char hint[65])
{
	uint8_t d[32];
	char *pem;
	long n;
	BIO *b;
	int r = AG_ERR_INTERNAL;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return AG_ERR_ALLOC;
	if (PEM_write_bio_PUBKEY(b, pk) == 1 &&
	    (n = BIO_get_mem_data(b, &pem)) > 0 &&
	    (r = msig_sha256_digest(pem, (size_t)n, d)) == 0)
		msig_hex_encode(d, sizeof(d), hint);
	BIO_free(b);
	ERR_clear_error();
	return r;
}

/*
 * The leaf may sign: a key usage extension, when present, must allow
 * digitalSignature, an extended key usage, when present, must include
 * codeSigning, and at least one of the two must be there.
 */
int
msig_cert_may_sign(X509 *x)
{
	uint32_t fl = X509_get_extension_flags(x);

	if (fl & EXFLAG_INVALID)
		return 0;
	if (!(fl & (EXFLAG_KUSAGE | EXFLAG_XKUSAGE)))
		return 0;
	if ((fl & EXFLAG_KUSAGE) &&
	    !(X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE))
		return 0;
	if ((fl & EXFLAG_XKUSAGE) &&
	    !(X509_get_extended_key_usage(x) & XKU_CODE_SIGN))
		return 0;
	return 1;
}

/* ==== trust ============================================================ */

/* Room after the path in mt_desc: " (N certificates, valid ...)". */
#define MSIG_DESC_EXTRA		96

static struct msig_trust *
trust_new(enum msig_method m, const char *path, size_t extra)
{
	struct msig_trust *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->mt_method = m;
	t->mt_validity = MSIG_VALID_NOW;
	t->mt_desclen = strlen(path) + extra;
	if ((t->mt_desc = malloc(t->mt_desclen)) == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

int
msig_trust_key(const char *path, struct msig_trust **out, char *err,
    size_t errlen)
{
	char why[MSIG_OSSL_WHY_LEN];
	struct msig_trust *t = NULL;
	const char *details;
	EVP_PKEY *pk = NULL;
	BIO *b = NULL;
	int r;

	*out = NULL;
	msig_init();
	if ((r = msig_read_small(path, MSIG_KEY_MAX, &b, err, errlen)) != 0)
		return r;
	if ((pk = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL)) == NULL) {
		r = ag_errf(err, errlen, AG_ERR_FORMAT, "%s: no PEM public "
		    "key: %s", path, msig_ossl_why(why));
		goto out;
	}
	if (msig_key_md(pk, &details) == NULL) {
		r = ag_errf(err, errlen, AG_ERR_UNSUPPORTED, "%s: not an ECDSA "
		    "P-256, P-384 or P-521 key", path);
		goto out;
	}
	if ((t = trust_new(MSIG_METHOD_KEY, "", 80)) == NULL) {
		r = ag_errf(err, errlen, AG_ERR_ALLOC, "%s: out of memory",
		    path);
		goto out;
	}
	if ((r = msig_key_hint(pk, t->mt_hint)) != 0) {
		r = ag_errf(err, errlen, r, "%s: cannot encode the key", path);
		goto out;
	}
	snprintf(t->mt_desc, 80, "key sha256:%s", t->mt_hint);
	t->mt_key = pk;
	pk = NULL;
	*out = t;
	t = NULL;
 out:
	msig_trust_free(t);
	EVP_PKEY_free(pk);
	BIO_free(b);
	return r;
}

/* Every PEM certificate in path (at least one, at most max). */
int
msig_pem_certs(const char *path, size_t max, STACK_OF(X509) **out,
    char *err, size_t errlen)
{
	char why[MSIG_OSSL_WHY_LEN];
	STACK_OF(X509) *sk = NULL;
	unsigned long e;
	X509 *x;
	BIO *b = NULL;
	int r;

	*out = NULL;
	if ((r = msig_read_small(path, MSIG_CA_MAX, &b, err, errlen)) != 0)
		return r;
	if ((sk = sk_X509_new_null()) == NULL) {
		r = ag_errf(err, errlen, AG_ERR_ALLOC, "out of memory");
		goto out;
	}
	for (;;) {
		if ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL) {
			e = ERR_peek_last_error();
			if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
			    ERR_GET_REASON(e) == PEM_R_NO_START_LINE &&
			    sk_X509_num(sk) > 0) {
				ERR_clear_error();
				break;
			}
			r = ag_errf(err, errlen, AG_ERR_FORMAT, "%s: "
			    "certificate %d: %s", path, sk_X509_num(sk) + 1,
			    sk_X509_num(sk) == 0 ? "no PEM certificate" :
			    msig_ossl_why(why));
			ERR_clear_error();
			goto out;
		}
		if ((size_t)sk_X509_num(sk) >= max ||
		    sk_X509_push(sk, x) <= 0) {
			X509_free(x);
			r = ag_errf(err, errlen, AG_ERR_TOO_LARGE, "%s: more "
			    "than %zu certificates", path, max);
			goto out;
		}
	}
	*out = sk;
	sk = NULL;
	r = 0;
 out:
	sk_X509_pop_free(sk, X509_free);
	BIO_free(b);
	return r;
}

int
msig_trust_ca(const char *path, struct msig_trust **out, char *err,
    size_t errlen)
{
	struct msig_trust *t;
	STACK_OF(X509) *sk;
	int r;

	*out = NULL;
	msig_init();
	if ((r = msig_pem_certs(path, MSIG_MAX_CERTS, &sk, err, errlen)) != 0)
		return r;
	if ((t = trust_new(MSIG_METHOD_CERT, path,
	    MSIG_DESC_EXTRA)) == NULL || (t->mt_path = strdup(path)) == NULL) {
		msig_trust_free(t);
		sk_X509_pop_free(sk, X509_free);
		return ag_errf(err, errlen, AG_ERR_ALLOC, "%s: out of memory",
		    path);
	}
	t->mt_cas = sk;
	msig_trust_set_validity(t, MSIG_VALID_NOW);
	*out = t;
	return 0;
}

const char *
msig_validity_name(enum msig_validity v)
{
	return v == MSIG_VALID_SIGNING_TIME ? "signing-time" : "now";
}

void
msig_trust_set_validity(struct msig_trust *t, enum msig_validity v)
{
	if (t == NULL || t->mt_method != MSIG_METHOD_CERT)
		return;
	t->mt_validity = v == MSIG_VALID_SIGNING_TIME ?
	    MSIG_VALID_SIGNING_TIME : MSIG_VALID_NOW;
	snprintf(t->mt_desc, t->mt_desclen, "ca %s (%d certificate%s, valid "
	    "%s)", t->mt_path, sk_X509_num(t->mt_cas),
	    sk_X509_num(t->mt_cas) == 1 ? "" : "s",
	    t->mt_validity == MSIG_VALID_NOW ? "now" : "at signing time");
}

void
msig_trust_free(struct msig_trust *t)
{
	if (t == NULL)
		return;
	EVP_PKEY_free(t->mt_key);
	sk_X509_pop_free(t->mt_cas, X509_free);
	free(t->mt_desc);
	free(t->mt_path);
	free(t);
}

enum msig_method
msig_trust_method(const struct msig_trust *t)
{
	return t->mt_method;
}

const char *
msig_trust_describe(const struct msig_trust *t)
{
	return t->mt_desc;
}
