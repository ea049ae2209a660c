/* SPDX-License-Identifier: ISC */
/*
 * msig_bundle.c: the Sigstore bundle (model.sig).  Checks its shape, its
 * verification material against the trust (the key hint or embedded key,
 * or the X.509 chain to a CA, at the time model.cert_validity says), the
 * DSSE envelope, and the signature over the pre-authentication encoding
 * (struct mbundle).  The payload it returns is the statement, for
 * msig_stmt.c.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/ag_err.h"
#include "msig.h"
#include "msig_impl.h"

void
msig_bundle_cleanup(struct mbundle *mb)
{
	EVP_PKEY_free(mb->b_key);
	sk_X509_pop_free(mb->b_chain, X509_free);
	free(mb->b_payload);
	free(mb->b_sig);
	json_decref(mb->b_root);
	memset(mb, 0, sizeof(*mb));
}

/* publicKey.keyDetails, when present, must name the key's curve. */
static int
bundle_key_details(const struct jctx *jc, json_t *pk, EVP_PKEY *key)
{
	const char *w = "verificationMaterial.publicKey", *s, *want;
	char b[64];
	int r;

	if ((r = msig_jc_str(jc, pk, w, "keyDetails", 0, &s)) != 0 || s == NULL)
		return r;
	(void)msig_key_md(key, &want);
	if (want == NULL || strcmp(s, want) != 0)
		return msig_jc_err(jc, AG_ERR_SIGNATURE, "%s.keyDetails: "
		    "\"%s\" does not describe the trusted key (%s)", w,
		    msig_safe_str(s, b, sizeof(b)), want ? want : "?");
	return 0;
}

/* rawBytes: the signer's public key, PEM (as the reference writes) or DER. */
static int
bundle_raw_key(const struct jctx *jc, json_t *pk, EVP_PKEY *trusted)
{
	const char *w = "verificationMaterial.publicKey";
	const unsigned char *p;
	EVP_PKEY *k = NULL;
	uint8_t *raw;
	size_t len;
	BIO *b;
	int r;

	if ((r = msig_jc_b64(jc, pk, w, "rawBytes", &raw, &len)) != 0)
		return r;
	if (len > 10 && memcmp(raw, "-----BEGIN", 10) == 0) {
		if ((b = BIO_new_mem_buf(raw, (int)len)) != NULL)
			k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
		BIO_free(b);
	} else {
		p = raw;
		k = d2i_PUBKEY(NULL, &p, (long)len);
		if (k != NULL && p != raw + len) {
			EVP_PKEY_free(k);
			k = NULL;
		}
	}
	free(raw);
	ERR_clear_error();
	if (k == NULL)
		return msig_jc_err(jc, AG_ERR_FORMAT, "%s.rawBytes: not a "
		    "public key", w);
	r = EVP_PKEY_eq(k, trusted) == 1 ? 0 : msig_jc_err(jc, AG_ERR_SIGNATURE,
	    "%s.rawBytes: not the trusted key", w);
	EVP_PKEY_free(k);
	ERR_clear_error();
	return r;
}

static int
bundle_public_key(const struct jctx *jc, json_t *pk,
    const struct msig_trust *t, struct mbundle *mb)
{
	static const char *const keys[] = { "hint", "rawBytes", "keyDetails",
	    NULL };
	const char *w = "verificationMaterial.publicKey", *hint;
	char b[80];
	int r;

	if (t->mt_method != MSIG_METHOD_KEY)
		return msig_jc_err(jc, AG_ERR_SIGNATURE, "%s: the model is "
		    "signed with a public key, but the trust given is a CA "
		    "bundle", w);
	if ((r = msig_jc_keys(jc, pk, w, keys)) != 0 ||
	    (r = msig_jc_str(jc, pk, w, "hint", 0, &hint)) != 0)
		return r;
	if (hint == NULL && json_object_get(pk, "rawBytes") == NULL)
		return msig_jc_err(jc, AG_ERR_MISSING, "%s: neither hint nor "
		    "rawBytes", w);
	if (hint != NULL && strcasecmp(hint, t->mt_hint) != 0)
		return msig_jc_err(jc, AG_ERR_SIGNATURE, "%s.hint: %s is not "
		    "the trusted key's (%s)", w, msig_safe_str(hint, b,
		    sizeof(b)), t->mt_hint);
	if (json_object_get(pk, "rawBytes") != NULL &&
	    (r = bundle_raw_key(jc, pk, t->mt_key)) != 0)
		return r;
	if ((r = bundle_key_details(jc, pk, t->mt_key)) != 0)
		return r;
	if (EVP_PKEY_up_ref(t->mt_key) != 1)
		return msig_jc_err(jc, AG_ERR_INTERNAL, "EVP_PKEY_up_ref "
		    "failed");
	mb->b_key = t->mt_key;
	snprintf(mb->b_signer, sizeof(mb->b_signer), "key sha256:%s",
	    t->mt_hint);
	return 0;
}

/* x509CertificateChain.certificates: DER certificates, leaf first. */
static int
bundle_chain_parse(const struct jctx *jc, json_t *xc, struct mbundle *mb)
{
	char why[MSIG_OSSL_WHY_LEN];
	static const char *const ckeys[] = { "certificates", NULL };
	static const char *const rkeys[] = { "rawBytes", NULL };
	const char *w = "verificationMaterial.x509CertificateChain";
	const unsigned char *p;
	char cw[96];
	json_t *a, *v;
	uint8_t *der;
	size_t i, len;
	X509 *x;
	int r;

	if ((r = msig_jc_keys(jc, xc, w, ckeys)) != 0 ||
	    (r = msig_jc_get(jc, xc, w, "certificates", JSON_ARRAY, 1,
	    &a)) != 0)
		return r;
	if (json_array_size(a) == 0 || json_array_size(a) > MSIG_MAX_CHAIN)
		return msig_jc_err(jc, AG_ERR_FORMAT, "%s.certificates: %zu "
		    "certificates, expected 1 to %d", w, json_array_size(a),
		    MSIG_MAX_CHAIN);
	if ((mb->b_chain = sk_X509_new_null()) == NULL)
		return msig_jc_err(jc, AG_ERR_ALLOC, "out of memory");
	json_array_foreach(a, i, v) {
		snprintf(cw, sizeof(cw), "%s.certificates[%zu]", w, i);
		if (!json_is_object(v))
			return msig_jc_err(jc, AG_ERR_FORMAT, "%s: expected an "
			    "object", cw);
		if ((r = msig_jc_keys(jc, v, cw, rkeys)) != 0 ||
		    (r = msig_jc_b64(jc, v, cw, "rawBytes", &der, &len)) != 0)
			return r;
		p = der;
		x = d2i_X509(NULL, &p, (long)len);
		if (x != NULL && p != der + len) {
			X509_free(x);
			x = NULL;
		}
		free(der);
		if (x == NULL)
			return msig_jc_err(jc, AG_ERR_FORMAT, "%s.rawBytes: "
			    "not a DER certificate: %s", cw,
			    msig_ossl_why(why));
		if (sk_X509_push(mb->b_chain, x) <= 0) {
			X509_free(x);
			return msig_jc_err(jc, AG_ERR_ALLOC, "out of memory");
		}
	}
	return 0;
}

/* "SUBJECT sha256:FINGERPRINT" of the leaf. */
static void
cert_identity(X509 *x, char *buf, size_t len)
{
	unsigned char fp[EVP_MAX_MD_SIZE];
	char hex[2 * EVP_MAX_MD_SIZE + 1], *s;
	unsigned int n = 0;
	long sl;
	BIO *b;

	hex[0] = '\0';
	if (X509_digest(x, msig_sha256, fp, &n) == 1 && n == 32)
		msig_hex_encode(fp, n, hex);
	if ((b = BIO_new(BIO_s_mem())) != NULL &&
	    X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
	    XN_FLAG_RFC2253) >= 0 && (sl = BIO_get_mem_data(b, &s)) >= 0)
		snprintf(buf, len, "%.*s sha256:%s", (int)(sl > 300 ? 300 : sl),
		    s, hex);
	else
		snprintf(buf, len, "? sha256:%s", hex);
	BIO_free(b);
	ERR_clear_error();
}

/* When the leaf was issued: the time the chain is checked at. */
static int
cert_not_before(X509 *x, time_t *out)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm) != 1)
		return -1;
	*out = timegm(&tm);
	return *out == (time_t)-1 ? -1 : 0;
}

/*
 * One X509_verify_cert() of the chain against the anchors, at time when
 * (0: now).  Returns 1 when it verifies, 0 when not (*why: OpenSSL's
 * reason), -1 on an internal error (*r: its code, the message in jc).
 */
static int
chain_check(const struct jctx *jc, const struct msig_trust *t,
    struct mbundle *mb, time_t when, const char **why, int *r)
{
	char ow[MSIG_OSSL_WHY_LEN];
	X509_STORE_CTX *ctx = NULL;
	X509_VERIFY_PARAM *vp;
	X509_STORE *store;
	STACK_OF(X509) *untrusted = NULL;
	int i, ok = -1;

	*why = NULL;
	if ((store = X509_STORE_new()) == NULL ||
	    (ctx = X509_STORE_CTX_new()) == NULL ||
	    (untrusted = sk_X509_new_null()) == NULL) {
		*r = msig_jc_err(jc, AG_ERR_ALLOC, "out of memory");
		goto out;
	}
	for (i = 0; i < sk_X509_num(t->mt_cas); i++)
		if (X509_STORE_add_cert(store, sk_X509_value(t->mt_cas,
		    i)) != 1) {
			*r = msig_jc_err(jc, AG_ERR_INTERNAL,
			    "X509_STORE_add_cert: %s", msig_ossl_why(ow));
			goto out;
		}
	for (i = 1; i < sk_X509_num(mb->b_chain); i++)
		if (sk_X509_push(untrusted, sk_X509_value(mb->b_chain,
		    i)) <= 0) {
			*r = msig_jc_err(jc, AG_ERR_ALLOC, "out of memory");
			goto out;
		}
	if (X509_STORE_CTX_init(ctx, store, sk_X509_value(mb->b_chain, 0),
	    untrusted) != 1) {
		*r = msig_jc_err(jc, AG_ERR_INTERNAL, "X509_STORE_CTX_init: %s",
		    msig_ossl_why(ow));
		goto out;
	}
	vp = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_PARTIAL_CHAIN);
	if (when != 0)
		X509_VERIFY_PARAM_set_time(vp, when);
	X509_VERIFY_PARAM_set_depth(vp, MSIG_MAX_CHAIN);
	ok = X509_verify_cert(ctx) == 1;
	if (!ok)
		*why = X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx));
	ERR_clear_error();
 out:
	sk_X509_free(untrusted);	/* the certificates are the chain's */
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok;
}

/*
 * The chain must lead to one of the CA bundle's certificates (each one an
 * anchor: X509_V_FLAG_PARTIAL_CHAIN), valid now (MSIG_VALID_NOW), or at
 * the leaf's notBefore as the reference does (MSIG_VALID_SIGNING_TIME,
 * for short-lived signing certificates).  Nothing in the bundle is a
 * trusted signing time: at notBefore, the key of a certificate that
 * expired years ago still signs today.  In that mode a chain that is not
 * valid now is accepted, and b_cert_note says why it is not.
 */
static int
bundle_chain_verify(const struct jctx *jc, const struct msig_trust *t,
    struct mbundle *mb)
{
	const char *w = "verificationMaterial.x509CertificateChain";
	const char *why;
	time_t when = 0;
	int ok, r = 0;

	if (t->mt_validity == MSIG_VALID_SIGNING_TIME &&
	    cert_not_before(sk_X509_value(mb->b_chain, 0), &when) != 0)
		return msig_jc_err(jc, AG_ERR_FORMAT, "%s.certificates[0]: bad "
		    "notBefore", w);
	if ((ok = chain_check(jc, t, mb, when, &why, &r)) < 0)
		return r;
	if (!ok)
		return msig_jc_err(jc, AG_ERR_SIGNATURE, "%s: does not lead to "
		    "a trusted CA: %s%s", w, why, t->mt_validity ==
		    MSIG_VALID_NOW && strstr(why, "expired") != NULL ?
		    " (the chain must be valid now: model.cert_validity = "
		    "now)" : "");
	if (when == 0)
		return 0;
	/* Valid at signing time: is it now too?  Only for the note. */
	if ((ok = chain_check(jc, t, mb, 0, &why, &r)) < 0)
		return r;
	if (!ok)
		snprintf(mb->b_cert_note, sizeof(mb->b_cert_note),
		    "the chain is not valid now (%s); accepted because "
		    "model.cert_validity = signing-time", why);
	return 0;
}

static int
bundle_chain(const struct jctx *jc, json_t *xc, const struct msig_trust *t,
    struct mbundle *mb)
{
	const char *w = "verificationMaterial.x509CertificateChain", *d;
	X509 *leaf;
	int r;

	if (t->mt_method != MSIG_METHOD_CERT)
		return msig_jc_err(jc, AG_ERR_SIGNATURE, "%s: the model is "
		    "signed with a certificate, but the trust given is a "
		    "public key", w);
	if ((r = bundle_chain_parse(jc, xc, mb)) != 0 ||
	    (r = bundle_chain_verify(jc, t, mb)) != 0)
		return r;
	leaf = sk_X509_value(mb->b_chain, 0);
	if (!msig_cert_may_sign(leaf))
		return msig_jc_err(jc, AG_ERR_SIGNATURE, "%s.certificates[0]: "
		    "the leaf may not sign (needs key usage digitalSignature "
		    "or extended key usage codeSigning)", w);
	if ((mb->b_key = X509_get_pubkey(leaf)) == NULL ||
	    msig_key_md(mb->b_key, &d) == NULL) {
		ERR_clear_error();
		return msig_jc_err(jc, AG_ERR_UNSUPPORTED,
		    "%s.certificates[0]: not an ECDSA P-256, P-384 or P-521 "
		    "key", w);
	}
	cert_identity(leaf, mb->b_signer, sizeof(mb->b_signer));
	return 0;
}

static int
bundle_material(const struct jctx *jc, json_t *root,
    const struct msig_trust *t, struct mbundle *mb)
{
	static const char *const keys[] = { "publicKey",
	    "x509CertificateChain", "certificate", "tlogEntries",
	    "timestampVerificationData", NULL };
	const char *w = "verificationMaterial", *d;
	json_t *vm, *pk, *xc, *tl, *ts;
	int r;

	if ((r = msig_jc_get(jc, root, "", w, JSON_OBJECT, 1, &vm)) != 0 ||
	    (r = msig_jc_keys(jc, vm, w, keys)) != 0 ||
	    (r = msig_jc_get(jc, vm, w, "publicKey", JSON_OBJECT, 0,
	    &pk)) != 0 || (r = msig_jc_get(jc, vm, w, "x509CertificateChain",
	    JSON_OBJECT, 0, &xc)) != 0 ||
	    /* Transparency-log entries and timestamps are not checked (we
	     * trust a key or a CA, not a log); only their shape is. */
	    (r = msig_jc_get(jc, vm, w, "tlogEntries", JSON_ARRAY, 0,
	    &tl)) != 0 || (r = msig_jc_get(jc, vm, w,
	    "timestampVerificationData", JSON_OBJECT, 0, &ts)) != 0)
		return r;
	if (json_object_get(vm, "certificate") != NULL)
		return msig_jc_err(jc, AG_ERR_UNSUPPORTED, "%s.certificate: "
		    "Sigstore (keyless) signatures are not supported", w);
	if (pk != NULL && xc != NULL)
		return msig_jc_err(jc, AG_ERR_UNEXPECTED, "%s: both publicKey "
		    "and x509CertificateChain", w);
	if (pk == NULL && xc == NULL)
		return msig_jc_err(jc, AG_ERR_MISSING, "%s: neither publicKey "
		    "nor x509CertificateChain", w);
	r = pk != NULL ? bundle_public_key(jc, pk, t, mb) :
	    bundle_chain(jc, xc, t, mb);
	if (r == 0 && (mb->b_md = msig_key_md(mb->b_key, &d)) == NULL)
		r = msig_jc_err(jc, AG_ERR_UNSUPPORTED, "%s: not an ECDSA key",
		    w);
	return r;
}

static int
bundle_envelope(const struct jctx *jc, json_t *root, struct mbundle *mb)
{
	static const char *const ekeys[] = { "payload", "payloadType",
	    "signatures", NULL };
	static const char *const skeys[] = { "sig", "keyid", NULL };
	const char *w = "dsseEnvelope", *sw = "dsseEnvelope.signatures[0]";
	json_t *env, *sigs, *s, *kid;
	int r;

	if ((r = msig_jc_get(jc, root, "", w, JSON_OBJECT, 1, &env)) != 0 ||
	    (r = msig_jc_keys(jc, env, w, ekeys)) != 0 ||
	    (r = msig_jc_str_is(jc, env, w, "payloadType", MSIG_PAYLOAD_TYPE,
	    AG_ERR_UNSUPPORTED)) != 0 ||
	    (r = msig_jc_b64(jc, env, w, "payload", &mb->b_payload,
	    &mb->b_payload_len)) != 0 ||
	    (r = msig_jc_get(jc, env, w, "signatures", JSON_ARRAY, 1,
	    &sigs)) != 0)
		return r;
	mb->b_payload_type = MSIG_PAYLOAD_TYPE;
	if (json_array_size(sigs) != 1)
		return msig_jc_err(jc, json_array_size(sigs) == 0 ?
		    AG_ERR_MISSING : AG_ERR_UNSUPPORTED, "%s.signatures: %zu "
		    "signatures, expected one", w, json_array_size(sigs));
	if (!json_is_object(s = json_array_get(sigs, 0)))
		return msig_jc_err(jc, AG_ERR_FORMAT, "%s: expected an object",
		    sw);
	if ((r = msig_jc_keys(jc, s, sw, skeys)) != 0)
		return r;
	/* keyid: informational, "" or null in the reference's bundles. */
	if ((kid = json_object_get(s, "keyid")) != NULL &&
	    !json_is_string(kid) && !json_is_null(kid))
		return msig_jc_err(jc, AG_ERR_FORMAT, "%s.keyid: expected a "
		    "string or null", sw);
	return msig_jc_b64(jc, s, sw, "sig", &mb->b_sig, &mb->b_sig_len);
}

/* "DSSEv1 LEN(type) type LEN(payload) payload": a new buffer. */
uint8_t *
msig_dsse_pae(const char *type, const uint8_t *p, size_t plen,
    size_t *outlen)
{
	char head[128];
	uint8_t *buf;
	int hn;

	hn = snprintf(head, sizeof(head), "DSSEv1 %zu %s %zu ", strlen(type),
	    type, plen);
	if (hn < 0 || (size_t)hn >= sizeof(head) || plen > SIZE_MAX - 128 ||
	    (buf = malloc((size_t)hn + plen + 1)) == NULL)
		return NULL;
	memcpy(buf, head, (size_t)hn);
	if (plen > 0)
		memcpy(buf + hn, p, plen);
	*outlen = (size_t)hn + plen;
	return buf;
}

int
msig_bundle_check_sig(const struct jctx *jc, struct mbundle *mb)
{
	EVP_MD_CTX *mc;
	uint8_t *pae;
	size_t plen;
	int ok;

	if ((pae = msig_dsse_pae(mb->b_payload_type, mb->b_payload,
	    mb->b_payload_len, &plen)) == NULL)
		return msig_jc_err(jc, AG_ERR_ALLOC, "out of memory");
	if ((mc = EVP_MD_CTX_new()) == NULL) {
		free(pae);
		return msig_jc_err(jc, AG_ERR_ALLOC, "out of memory");
	}
	ok = EVP_DigestVerifyInit(mc, NULL, mb->b_md, NULL, mb->b_key) == 1 &&
	    EVP_DigestVerify(mc, mb->b_sig, mb->b_sig_len, pae, plen) == 1;
	EVP_MD_CTX_free(mc);
	free(pae);
	ERR_clear_error();
	if (!ok)
		return msig_jc_err(jc, AG_ERR_SIGNATURE, "dsseEnvelope."
		    "signatures[0].sig: does not verify with the %s",
		    mb->b_chain != NULL ?
		    "leaf certificate's key" : "trusted key");
	return 0;
}

int
msig_bundle_parse(const struct jctx *jc, const uint8_t *data, size_t len,
    const struct msig_trust *t, struct mbundle *mb)
{
	static const char *const keys[] = { "mediaType",
	    "verificationMaterial", "dsseEnvelope", "messageSignature", NULL };
	json_error_t je;
	char b[64];
	int r;

	/* jansson's word for no bytes at all is "wrong arguments". */
	if (len == 0)
		return msig_jc_err(jc, AG_ERR_FORMAT, "empty file (0 bytes): "
		    "not a signature; sign the model again");
	if ((mb->b_root = json_loadb((const char *)data, len,
	    JSON_REJECT_DUPLICATES, &je)) == NULL)
		return msig_jc_err(jc, AG_ERR_JSON, "not JSON: %s (line %d)",
		    msig_safe_str(je.text, b, sizeof(b)), je.line);
	if (!json_is_object(mb->b_root))
		return msig_jc_err(jc, AG_ERR_FORMAT, "expected a JSON object");
	if ((r = msig_jc_keys(jc, mb->b_root, "", keys)) != 0)
		return r;
	if (json_object_get(mb->b_root, "messageSignature") != NULL)
		return msig_jc_err(jc, AG_ERR_UNSUPPORTED, "messageSignature: "
		    "only DSSE envelopes are supported");
	if ((r = msig_jc_str_is(jc, mb->b_root, "", "mediaType",
	    MSIG_MEDIA_TYPE, AG_ERR_UNSUPPORTED)) != 0 ||
	    (r = bundle_material(jc, mb->b_root, t, mb)) != 0)
		return r;
	return bundle_envelope(jc, mb->b_root, mb);
}
