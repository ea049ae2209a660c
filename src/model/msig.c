/* SPDX-License-Identifier: ISC */
/*
 * msig.c: OpenSSF Model Signing, verify.  See msig.h.  Signing and key
 * generation are in msig_sign.c; what the two share is in msig_impl.h.
 *
 * Verification runs in a fixed order, each step on bytes the previous one
 * vouched for: the bundle's JSON shape, the verification material against
 * what we trust (key hint or key, or the X.509 chain), the DSSE signature
 * over the pre-authentication encoding, and only then the statement the
 * signature covers and the directory it describes.  Every JSON value is
 * type-checked and unknown keys are refused where the format has a closed
 * set (the in-toto statement's predicate is open by design: v1.0 says
 * verifiers ignore fields they do not know).
 *
 * Where the reference (sigstore/model-transparency) is looser than we are,
 * we follow the reference's output and refuse the rest: base64 must be
 * canonical, hex exactly 64 digits, shard names "PATH:START:END" with
 * canonical decimal numbers.  The subject digest is recomputed over the
 * resources in the order they are listed, as the reference verifier does;
 * our signer lists them in the reference's order (path components, then
 * shard offsets).
 */
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/ag_err.h"
#include "common/util.h"
#include "mfiles.h"
#include "msig.h"
#include "msig_impl.h"

#define MSIG_CA_MAX		(4 * 1024 * 1024)	/* a CA bundle */
#define MSIG_MAX_CERTS		256		/* in a CA bundle */
#define MSIG_MAX_IGNORE		1024	/* signed ignore_paths */

/* Always ignored, as the reference does (its defaults, git's files). */
static const char *const msig_default_ignore[] = {
	MSIG_FILE, ".git", ".gitattributes", ".github", ".gitignore",
};
#define MSIG_NDEFAULT_IGNORE \
	(sizeof(msig_default_ignore) / sizeof(msig_default_ignore[0]))

/* ==== setup ============================================================ */

EVP_MD *msig_sha256;		/* msig_sign.c hashes with it too */
static EVP_MD *msig_sha384, *msig_sha512;

/*
 * The digests are fetched once, here, so that no provider lookup (and no
 * configuration file) happens after a sandbox has closed the file system;
 * the EC and ECDSA fetches warm the same caches for the key code.
 */
void
msig_init(void)
{
	static int done;
	EVP_KEYMGMT *km;
	EVP_SIGNATURE *sg;
	unsigned char prime[16];

	if (done)
		return;
	(void)OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
	/* jansson seeds its hash tables from /dev/urandom on first use:
	 * now, while that file can still be opened. */
	json_object_seed(0);
	/* glibc's gmtime_r (OpenSSL's certificate times) reads the time
	 * zone on its first call: now, not in a worker whose filter and
	 * Landlock would refuse /etc/localtime (and its lseek). */
	tzset();
	msig_sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
	msig_sha384 = EVP_MD_fetch(NULL, "SHA2-384", NULL);
	msig_sha512 = EVP_MD_fetch(NULL, "SHA2-512", NULL);
	if ((km = EVP_KEYMGMT_fetch(NULL, "EC", NULL)) != NULL)
		EVP_KEYMGMT_free(km);
	if ((sg = EVP_SIGNATURE_fetch(NULL, "ECDSA", NULL)) != NULL)
		EVP_SIGNATURE_free(sg);
	/*
	 * OpenSSL's random generators, made and seeded now: verifying a
	 * P-384 signature or certificate draws random numbers (blinding
	 * of the field inversion; P-521 too on some builds), and their
	 * first use builds the DRBG chain (a provider fetch, the seed
	 * source).  A process forked later reseeds them on its first
	 * draw, by getrandom(2) (sandbox/seccomp.c allows it to the
	 * worker).
	 */
	(void)RAND_bytes(prime, sizeof(prime));
	(void)RAND_priv_bytes(prime, sizeof(prime));
	OPENSSL_cleanse(prime, sizeof(prime));
	ERR_clear_error();
	done = 1;
}

/* ==== small helpers ==================================================== */

void
msig_hex_encode(const uint8_t *p, size_t n, char *out)
{
	static const char x[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = x[p[i] >> 4];
		out[2 * i + 1] = x[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Exactly 64 hex digits into out[32]; 0 or -1. */
static int
hex_decode32(const char *s, size_t len, uint8_t out[32])
{
	int hi, lo;
	size_t i;

	if (len != 64)
		return -1;
	for (i = 0; i < 32; i++) {
		if ((hi = ag_hex_digit((unsigned char)s[2 * i])) < 0 ||
		    (lo = ag_hex_digit((unsigned char)s[2 * i + 1])) < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int
b64_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Strict base64 (RFC 4648 section 4, padded): the standard alphabet only,
 * no whitespace, '=' only as the last one or two characters, and the
 * bits the padding drops must be zero, so that each byte string has one
 * encoding.  *out is new (caller frees).  0 or -1.
 */
static int
b64_decode(const char *s, size_t len, uint8_t **out, size_t *outlen)
{
	size_t i, pad = 0;
	uint8_t *buf;
	int n;

	*out = NULL;
	*outlen = 0;
	if (len % 4 != 0 || len > INT_MAX)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] == '=') {
			if (i + 2 < len)
				return -1;
			pad++;
		} else if (pad != 0 || b64_val((unsigned char)s[i]) < 0)
			return -1;
	}
	if ((pad == 1 && (b64_val((unsigned char)s[len - 2]) & 3) != 0) ||
	    (pad == 2 && (b64_val((unsigned char)s[len - 3]) & 15) != 0))
		return -1;
	if ((buf = malloc(len / 4 * 3 + 1)) == NULL)
		return -1;
	n = len == 0 ? 0 : EVP_DecodeBlock(buf, (const unsigned char *)s,
	    (int)len);
	if (n < 0 || (size_t)n < pad) {
		free(buf);
		return -1;
	}
	*out = buf;
	*outlen = (size_t)n - pad;
	return 0;
}

/* New NUL-terminated base64 of p[0..n) (caller frees), or NULL. */
char *
msig_b64_encode(const uint8_t *p, size_t n)
{
	char *s;

	if (n > INT_MAX / 2 || (s = malloc((n + 2) / 3 * 4 + 1)) == NULL)
		return NULL;
	(void)EVP_EncodeBlock((unsigned char *)s, p, (int)n);
	return s;
}

int
msig_sha256_digest(const void *p, size_t n, uint8_t out[32])
{
	msig_init();
	if (msig_sha256 == NULL ||
	    EVP_Digest(p, n, out, NULL, msig_sha256, NULL) != 1) {
		ERR_clear_error();
		return AG_ERR_INTERNAL;
	}
	return 0;
}

/*
 * Copies at most 60 bytes of an untrusted string for a message, with
 * anything not printable ASCII shown as '?'.
 */
static const char *
safe_str(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < len && i < 60; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	buf[i] = '\0';
	if (s[i] != '\0' && i >= 3)
		memcpy(buf + i - 3, "...", 3);
	return buf;
}

/*
 * libcrypto's last error into buf (MSIG_OSSL_WHY_LEN bytes), for messages;
 * clears the queue.
 */
const char *
msig_ossl_why(char *buf)
{
	unsigned long e = ERR_peek_last_error();

	if (e == 0)
		snprintf(buf, MSIG_OSSL_WHY_LEN, "unknown reason");
	else
		ERR_error_string_n(e, buf, MSIG_OSSL_WHY_LEN);
	ERR_clear_error();
	return buf;
}

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

/* ==== trust ============================================================ */

struct msig_trust {
	enum msig_method	 mt_method;
	EVP_PKEY		*mt_key;	/* KEY */
	char			 mt_hint[65];	/* KEY */
	STACK_OF(X509)		*mt_cas;	/* CERT: each an anchor */
	enum msig_validity	 mt_validity;	/* CERT */
	char			*mt_desc;
	size_t			 mt_desclen;	/* bytes at mt_desc */
	char			*mt_path;	/* CERT: for mt_desc */
};

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

/* ==== JSON, strictly =================================================== */

/* Where messages point: "DIR/model.sig: " and, inside the payload, a
 * second prefix "dsseEnvelope.payload: ". */
struct jctx {
	char		*j_err;
	size_t		 j_errlen;
	const char	*j_file;
	const char	*j_pre;
};

static int jc_err(const struct jctx *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static int
jc_err(const struct jctx *jc, int r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ag_errf(jc->j_err, jc->j_errlen, r, "%s: %s%s", jc->j_file,
	    jc->j_pre, msg);
}

/* "where.key", or "key" at the top. */
static const char *
jc_path(char *buf, size_t len, const char *where, const char *key)
{
	snprintf(buf, len, "%s%s%s", where, *where ? "." : "", key);
	return buf;
}

static const char *
j_type_name(int t)
{
	switch (t) {
	case JSON_OBJECT:	return "an object";
	case JSON_ARRAY:	return "an array";
	case JSON_STRING:	return "a string";
	case JSON_INTEGER:	return "an integer";
	case JSON_TRUE:		return "a boolean";
	default:		return "a number";
	}
}

/*
 * o[key] of JSON type t (JSON_TRUE stands for either boolean), named
 * where.key in messages; *out NULL when absent and not required.
 */
static int
jc_get(const struct jctx *jc, json_t *o, const char *where, const char *key,
    int t, int required, json_t **out)
{
	char p[160];
	json_t *v;
	int ok;

	*out = NULL;
	if ((v = json_object_get(o, key)) == NULL) {
		if (!required)
			return 0;
		return jc_err(jc, AG_ERR_MISSING, "%s: missing",
		    jc_path(p, sizeof(p), where, key));
	}
	ok = t == JSON_TRUE ? json_is_boolean(v) : (int)json_typeof(v) == t;
	if (!ok)
		return jc_err(jc, AG_ERR_FORMAT, "%s: expected %s",
		    jc_path(p, sizeof(p), where, key), j_type_name(t));
	/* jansson refuses \u0000 by default; a string is one C string. */
	if (t == JSON_STRING && strlen(json_string_value(v)) !=
	    json_string_length(v))
		return jc_err(jc, AG_ERR_FORMAT, "%s: a NUL in the string",
		    jc_path(p, sizeof(p), where, key));
	*out = v;
	return 0;
}

/* o[key] as a string; *s NULL when absent and not required. */
static int
jc_str(const struct jctx *jc, json_t *o, const char *where, const char *key,
    int required, const char **s)
{
	json_t *v;
	int r;

	*s = NULL;
	if ((r = jc_get(jc, o, where, key, JSON_STRING, required, &v)) != 0)
		return r;
	if (v != NULL)
		*s = json_string_value(v);
	return 0;
}

/* o[key] must be the string want. */
static int
jc_str_is(const struct jctx *jc, json_t *o, const char *where,
    const char *key, const char *want, int code)
{
	char p[160], b[64];
	const char *s;
	int r;

	if ((r = jc_str(jc, o, where, key, 1, &s)) != 0)
		return r;
	if (strcmp(s, want) != 0)
		return jc_err(jc, code, "%s: \"%s\", expected \"%s\"",
		    jc_path(p, sizeof(p), where, key), safe_str(s, b,
		    sizeof(b)), want);
	return 0;
}

/* Refuses any key of o not in allowed[] (NULL-terminated). */
static int
jc_keys(const struct jctx *jc, json_t *o, const char *where,
    const char *const *allowed)
{
	const char *k;
	char b[64];
	json_t *v;
	size_t i;

	json_object_foreach(o, k, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(k, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL)
			return jc_err(jc, AG_ERR_UNEXPECTED, "%s%sunknown key "
			    "\"%s\"", where, *where ? ": " : "",
			    safe_str(k, b, sizeof(b)));
	}
	return 0;
}

/* o[key]: a base64 string, decoded into a new buffer. */
static int
jc_b64(const struct jctx *jc, json_t *o, const char *where, const char *key,
    uint8_t **out, size_t *outlen)
{
	const char *s;
	char p[160];
	int r;

	if ((r = jc_str(jc, o, where, key, 1, &s)) != 0)
		return r;
	if (b64_decode(s, strlen(s), out, outlen) != 0)
		return jc_err(jc, AG_ERR_FORMAT, "%s: not canonical base64",
		    jc_path(p, sizeof(p), where, key));
	return 0;
}

/* ==== the statement ==================================================== */

/* Byte-wise order of a[0..an) and b[0..bn), a prefix first: strcmp's. */
int
msig_pathn_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int c;

	if ((c = memcmp(a, b, an < bn ? an : bn)) != 0)
		return c;
	return an < bn ? -1 : an > bn;
}

struct mstmt {
	json_t		 *s_root;	/* owns the strings below */
	const char	 *s_name;
	uint8_t		  s_digest[32];
	int		  s_shards;
	uint64_t	  s_shard_size;
	int		  s_links;
	const char	**s_ignore;
	size_t		  s_nignore;
	struct mres	 *s_res;	/* as listed */
	struct mres	**s_sorted;	/* by path (strcmp), then start */
	size_t		  s_nres;
};

static void
mstmt_cleanup(struct mstmt *st)
{
	free(st->s_ignore);
	free(st->s_sorted);
	free(st->s_res);
	json_decref(st->s_root);
	memset(st, 0, sizeof(*st));
}

/* A canonical decimal number (no sign, no leading zero) in s[0..n). */
static int
parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 20 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' ||
		    __builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(s[i] - '0'), &v))
			return -1;
	}
	*out = v;
	return 0;
}

/*
 * A shard's name: "PATH:START:END", as the reference writes it (exactly
 * two colons, so PATH has none), 0 <= START < END, at most one shard long.
 */
static int
shard_name_parse(struct mres *r, uint64_t shard_size)
{
	char path[MFILES_NAME_MAX];
	const char *c1, *c2;

	if ((c1 = strchr(r->r_name, ':')) == NULL ||
	    (c2 = strchr(c1 + 1, ':')) == NULL || strchr(c2 + 1, ':') != NULL)
		return -1;
	r->r_plen = (size_t)(c1 - r->r_name);
	if (r->r_plen >= sizeof(path) ||
	    parse_u64(c1 + 1, (size_t)(c2 - c1 - 1), &r->r_start) != 0 ||
	    parse_u64(c2 + 1, strlen(c2 + 1), &r->r_end) != 0 ||
	    r->r_end <= r->r_start || r->r_end - r->r_start > shard_size)
		return -1;
	memcpy(path, r->r_name, r->r_plen);
	path[r->r_plen] = '\0';
	return mfiles_name_valid(path) ? 0 : -1;
}

static int
stmt_shard_size(const struct jctx *jc, json_t *ser, struct mstmt *st)
{
	const char *w = "predicate.serialization.shard_size";
	json_t *v = json_object_get(ser, "shard_size");
	double d;

	if (!st->s_shards) {
		if (v != NULL)
			return jc_err(jc, AG_ERR_UNEXPECTED, "%s: only for "
			    "the \"shards\" method", w);
		return 0;
	}
	if (v == NULL)
		return jc_err(jc, AG_ERR_MISSING, "%s: missing", w);
	/* The reference's statement may carry it as a double (8.0). */
	if (json_is_integer(v) && json_integer_value(v) > 0 &&
	    (uint64_t)json_integer_value(v) <= MSIG_SHARD_MAX)
		st->s_shard_size = (uint64_t)json_integer_value(v);
	else if (json_is_real(v) && (d = json_real_value(v)) >= 1 &&
	    d <= (double)MSIG_SHARD_MAX && d == (double)(uint64_t)d)
		st->s_shard_size = (uint64_t)d;
	else
		return jc_err(jc, AG_ERR_FORMAT, "%s: expected a whole number "
		    "from 1 to 2^53", w);
	return 0;
}

static int
stmt_ignore(const struct jctx *jc, json_t *ser, struct mstmt *st)
{
	json_t *a, *v;
	char b[64];
	size_t i;
	int r;

	if ((r = jc_get(jc, ser, "predicate.serialization", "ignore_paths",
	    JSON_ARRAY, 0, &a)) != 0 || a == NULL)
		return r;
	if (json_array_size(a) > MSIG_MAX_IGNORE)
		return jc_err(jc, AG_ERR_TOO_LARGE, "predicate.serialization."
		    "ignore_paths: more than %d entries", MSIG_MAX_IGNORE);
	if ((st->s_ignore = calloc(json_array_size(a) + 1,
	    sizeof(*st->s_ignore))) == NULL)
		return jc_err(jc, AG_ERR_ALLOC, "out of memory");
	json_array_foreach(a, i, v) {
		if (!json_is_string(v) || !mfiles_name_valid(
		    json_string_value(v)))
			return jc_err(jc, AG_ERR_FORMAT, "predicate."
			    "serialization.ignore_paths[%zu]: not a relative "
			    "path%s%s", i, json_is_string(v) ? ": " : "",
			    json_is_string(v) ? safe_str(json_string_value(v),
			    b, sizeof(b)) : "");
		st->s_ignore[st->s_nignore++] = json_string_value(v);
	}
	return 0;
}

static int
stmt_serialization(const struct jctx *jc, json_t *pred, struct mstmt *st)
{
	static const char *const keys[] = { "method", "hash_type",
	    "allow_symlinks", "ignore_paths", "shard_size", NULL };
	const char *w = "predicate.serialization", *s;
	json_t *ser, *v;
	char b[64];
	int r;

	if ((r = jc_get(jc, pred, "predicate", "serialization", JSON_OBJECT, 1,
	    &ser)) != 0 || (r = jc_keys(jc, ser, w, keys)) != 0 ||
	    (r = jc_str(jc, ser, w, "method", 1, &s)) != 0)
		return r;
	if (strcmp(s, "shards") == 0)
		st->s_shards = 1;
	else if (strcmp(s, "files") != 0)
		return jc_err(jc, AG_ERR_UNSUPPORTED, "%s.method: \"%s\" is "
		    "not supported (files, shards)", w, safe_str(s, b,
		    sizeof(b)));
	if ((r = jc_str(jc, ser, w, "hash_type", 1, &s)) != 0)
		return r;
	if (strcmp(s, "sha256") != 0)
		return jc_err(jc, AG_ERR_UNSUPPORTED, "%s.hash_type: \"%s\" is "
		    "not supported (sha256)", w, safe_str(s, b, sizeof(b)));
	if ((r = jc_get(jc, ser, w, "allow_symlinks", JSON_TRUE, 1, &v)) != 0)
		return r;
	st->s_links = json_is_true(v);
	if ((r = stmt_shard_size(jc, ser, st)) != 0)
		return r;
	return stmt_ignore(jc, ser, st);
}

/* The digest name a resource must carry (the reference's names). */
static void
stmt_algorithm(const struct mstmt *st, char *buf, size_t len)
{
	if (st->s_shards)
		snprintf(buf, len, "sha256-sharded-%llu",
		    (unsigned long long)st->s_shard_size);
	else
		snprintf(buf, len, "sha256");
}

static int
stmt_resource(const struct jctx *jc, json_t *o, size_t i, const char *alg,
    struct mstmt *st)
{
	static const char *const keys[] = { "name", "algorithm", "digest",
	    NULL };
	struct mres *res = &st->s_res[i];
	const char *name, *a, *d;
	char w[64], b[64];
	int r;

	snprintf(w, sizeof(w), "predicate.resources[%zu]", i);
	if (!json_is_object(o))
		return jc_err(jc, AG_ERR_FORMAT, "%s: expected an object", w);
	if ((r = jc_keys(jc, o, w, keys)) != 0 ||
	    (r = jc_str(jc, o, w, "name", 1, &name)) != 0 ||
	    (r = jc_str(jc, o, w, "algorithm", 1, &a)) != 0 ||
	    (r = jc_str(jc, o, w, "digest", 1, &d)) != 0)
		return r;
	if (strcmp(a, alg) != 0)
		return jc_err(jc, AG_ERR_UNSUPPORTED, "%s.algorithm: \"%s\", "
		    "expected \"%s\"", w, safe_str(a, b, sizeof(b)), alg);
	if (hex_decode32(d, strlen(d), res->r_digest) != 0)
		return jc_err(jc, AG_ERR_FORMAT, "%s.digest: not 64 hex "
		    "digits", w);
	res->r_name = (char *)name;
	if (st->s_shards) {
		if (shard_name_parse(res, st->s_shard_size) != 0)
			return jc_err(jc, AG_ERR_FORMAT, "%s.name: \"%s\" is "
			    "not PATH:START:END within one shard", w,
			    safe_str(name, b, sizeof(b)));
	} else {
		if (!mfiles_name_valid(name))
			return jc_err(jc, AG_ERR_FORMAT, "%s.name: \"%s\" is "
			    "not a relative path", w, safe_str(name, b,
			    sizeof(b)));
		res->r_plen = strlen(name);
	}
	return 0;
}

static int
stmt_resources(const struct jctx *jc, json_t *pred, struct mstmt *st)
{
	char alg[64];
	json_t *a, *v;
	size_t i, max;
	uint8_t d[32];
	EVP_MD_CTX *mc;
	int r;

	if ((r = jc_get(jc, pred, "predicate", "resources", JSON_ARRAY, 1,
	    &a)) != 0)
		return r;
	/*
	 * The specification: a model has at least one file.  A signature
	 * over none would let any empty directory (or one whose every file
	 * is ignored) pass as a signed model.
	 */
	if (json_array_size(a) == 0)
		return jc_err(jc, AG_ERR_SIGNATURE, "predicate.resources: "
		    "empty: the signature covers no file");
	max = st->s_shards ? MSIG_MAX_RESOURCES : MFILES_MAX_FILES;
	if (json_array_size(a) > max)
		return jc_err(jc, AG_ERR_TOO_LARGE, "predicate.resources: more "
		    "than %zu entries", max);
	if ((st->s_res = calloc(json_array_size(a) + 1,
	    sizeof(*st->s_res))) == NULL)
		return jc_err(jc, AG_ERR_ALLOC, "out of memory");
	stmt_algorithm(st, alg, sizeof(alg));
	json_array_foreach(a, i, v) {
		if ((r = stmt_resource(jc, v, i, alg, st)) != 0)
			return r;
		st->s_nres++;
	}
	/* The subject digest: over the raw digests, in the listed order. */
	if ((mc = EVP_MD_CTX_new()) == NULL)
		return jc_err(jc, AG_ERR_ALLOC, "out of memory");
	r = EVP_DigestInit_ex(mc, msig_sha256, NULL) != 1;
	for (i = 0; r == 0 && i < st->s_nres; i++)
		r = EVP_DigestUpdate(mc, st->s_res[i].r_digest, 32) != 1;
	if (r == 0)
		r = EVP_DigestFinal_ex(mc, d, NULL) != 1;
	EVP_MD_CTX_free(mc);
	if (r != 0) {
		ERR_clear_error();
		return jc_err(jc, AG_ERR_INTERNAL, "SHA-256 failed");
	}
	if (memcmp(d, st->s_digest, sizeof(d)) != 0)
		return jc_err(jc, AG_ERR_SIGNATURE, "subject[0].digest.sha256: "
		    "does not match the resources' digests");
	return 0;
}

static int
stmt_subject(const struct jctx *jc, json_t *root, struct mstmt *st)
{
	static const char *const skeys[] = { "name", "digest", NULL };
	static const char *const dkeys[] = { "sha256", NULL };
	const char *w = "subject[0]", *s;
	json_t *a, *o, *d;
	size_t i;
	int r;

	if ((r = jc_get(jc, root, "", "subject", JSON_ARRAY, 1, &a)) != 0)
		return r;
	if (json_array_size(a) != 1)
		return jc_err(jc, json_array_size(a) == 0 ? AG_ERR_MISSING :
		    AG_ERR_UNEXPECTED, "subject: %zu subjects, expected one",
		    json_array_size(a));
	if (!json_is_object(o = json_array_get(a, 0)))
		return jc_err(jc, AG_ERR_FORMAT, "%s: expected an object", w);
	if ((r = jc_keys(jc, o, w, skeys)) != 0 ||
	    (r = jc_str(jc, o, w, "name", 1, &st->s_name)) != 0 ||
	    (r = jc_get(jc, o, w, "digest", JSON_OBJECT, 1, &d)) != 0 ||
	    (r = jc_keys(jc, d, "subject[0].digest", dkeys)) != 0 ||
	    (r = jc_str(jc, d, "subject[0].digest", "sha256", 1, &s)) != 0)
		return r;
	if (strlen(st->s_name) > MSIG_MODEL_NAME_MAX)
		return jc_err(jc, AG_ERR_TOO_LARGE, "%s.name: longer than %d "
		    "bytes", w, MSIG_MODEL_NAME_MAX);
	for (i = 0; st->s_name[i] != '\0'; i++)
		if ((unsigned char)st->s_name[i] < 0x20 ||
		    st->s_name[i] == 0x7f)
			return jc_err(jc, AG_ERR_FORMAT, "%s.name: a control "
			    "character", w);
	if (hex_decode32(s, strlen(s), st->s_digest) != 0)
		return jc_err(jc, AG_ERR_FORMAT, "%s.digest.sha256: not 64 hex "
		    "digits", w);
	return 0;
}

/* The walk's order (mfiles_walk() sorts by strcmp), then shard offset. */
static int
mres_cmp_walk(const void *a, const void *b)
{
	const struct mres *x = *(const struct mres *const *)a;
	const struct mres *y = *(const struct mres *const *)b;
	int c;

	if ((c = msig_pathn_cmp(x->r_name, x->r_plen, y->r_name,
	    y->r_plen)) != 0)
		return c;
	return x->r_start < y->r_start ? -1 : x->r_start > y->r_start;
}

/* Sorts the resources for lookups; a name listed twice is refused. */
static int
stmt_sort(const struct jctx *jc, struct mstmt *st)
{
	struct mres *x, *y;
	char b[64];
	size_t i;

	if ((st->s_sorted = calloc(st->s_nres + 1,
	    sizeof(*st->s_sorted))) == NULL)
		return jc_err(jc, AG_ERR_ALLOC, "out of memory");
	for (i = 0; i < st->s_nres; i++)
		st->s_sorted[i] = &st->s_res[i];
	qsort(st->s_sorted, st->s_nres, sizeof(*st->s_sorted),
	    mres_cmp_walk);
	for (i = 1; i < st->s_nres; i++) {
		x = st->s_sorted[i - 1];
		y = st->s_sorted[i];
		if (mres_cmp_walk(&x, &y) == 0)
			return jc_err(jc, AG_ERR_DUPLICATE,
			    "predicate.resources[%zu].name: \"%s\" listed "
			    "twice",
			    (size_t)(x > y ? x - st->s_res : y - st->s_res),
			    safe_str(y->r_name, b, sizeof(b)));
	}
	return 0;
}

/* Parses the (authenticated) statement payload[0..len) into *st. */
static int
stmt_parse(const struct jctx *jc, const uint8_t *payload, size_t len,
    struct mstmt *st)
{
	static const char *const keys[] = { "_type", "subject",
	    "predicateType", "predicate", NULL };
	json_error_t je;
	json_t *pred;
	char b[64];
	int r;

	memset(st, 0, sizeof(*st));
	if (len == 0)
		return jc_err(jc, AG_ERR_FORMAT, "empty: no statement");
	if ((st->s_root = json_loadb((const char *)payload, len,
	    JSON_REJECT_DUPLICATES, &je)) == NULL)
		return jc_err(jc, AG_ERR_JSON, "not JSON: %s (line %d)",
		    safe_str(je.text, b, sizeof(b)), je.line);
	if (!json_is_object(st->s_root))
		return jc_err(jc, AG_ERR_FORMAT, "expected a JSON object");
	if ((r = jc_keys(jc, st->s_root, "", keys)) != 0 ||
	    (r = jc_str_is(jc, st->s_root, "", "_type", MSIG_STATEMENT_TYPE,
	    AG_ERR_UNSUPPORTED)) != 0 ||
	    (r = jc_str_is(jc, st->s_root, "", "predicateType",
	    MSIG_PREDICATE_TYPE, AG_ERR_UNSUPPORTED)) != 0 ||
	    (r = stmt_subject(jc, st->s_root, st)) != 0 ||
	    (r = jc_get(jc, st->s_root, "", "predicate", JSON_OBJECT, 1,
	    &pred)) != 0 ||
	    (r = stmt_serialization(jc, pred, st)) != 0 ||
	    (r = stmt_resources(jc, pred, st)) != 0)
		return r;
	return stmt_sort(jc, st);
}

/* ==== the bundle ======================================================= */

/* What the bundle says, once its material is checked against the trust. */
struct mbundle {
	json_t		*b_root;
	EVP_PKEY	*b_key;		/* verifies the signature */
	STACK_OF(X509)	*b_chain;	/* CERT: leaf first */
	const EVP_MD	*b_md;
	char		 b_signer[512];
	char		 b_cert_note[192];	/* msig_result's */
	uint8_t		*b_payload;
	size_t		 b_payload_len;
	const char	*b_payload_type;
	uint8_t		*b_sig;
	size_t		 b_sig_len;
};

static void
mbundle_cleanup(struct mbundle *mb)
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

	if ((r = jc_str(jc, pk, w, "keyDetails", 0, &s)) != 0 || s == NULL)
		return r;
	(void)msig_key_md(key, &want);
	if (want == NULL || strcmp(s, want) != 0)
		return jc_err(jc, AG_ERR_SIGNATURE, "%s.keyDetails: \"%s\" "
		    "does not describe the trusted key (%s)", w,
		    safe_str(s, b, sizeof(b)), want ? want : "?");
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

	if ((r = jc_b64(jc, pk, w, "rawBytes", &raw, &len)) != 0)
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
		return jc_err(jc, AG_ERR_FORMAT, "%s.rawBytes: not a public "
		    "key", w);
	r = EVP_PKEY_eq(k, trusted) == 1 ? 0 : jc_err(jc, AG_ERR_SIGNATURE,
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
		return jc_err(jc, AG_ERR_SIGNATURE, "%s: the model is signed "
		    "with a public key, but the trust given is a CA bundle", w);
	if ((r = jc_keys(jc, pk, w, keys)) != 0 ||
	    (r = jc_str(jc, pk, w, "hint", 0, &hint)) != 0)
		return r;
	if (hint == NULL && json_object_get(pk, "rawBytes") == NULL)
		return jc_err(jc, AG_ERR_MISSING, "%s: neither hint nor "
		    "rawBytes", w);
	if (hint != NULL && strcasecmp(hint, t->mt_hint) != 0)
		return jc_err(jc, AG_ERR_SIGNATURE, "%s.hint: %s is not the "
		    "trusted key's (%s)", w, safe_str(hint, b, sizeof(b)),
		    t->mt_hint);
	if (json_object_get(pk, "rawBytes") != NULL &&
	    (r = bundle_raw_key(jc, pk, t->mt_key)) != 0)
		return r;
	if ((r = bundle_key_details(jc, pk, t->mt_key)) != 0)
		return r;
	if (EVP_PKEY_up_ref(t->mt_key) != 1)
		return jc_err(jc, AG_ERR_INTERNAL, "EVP_PKEY_up_ref failed");
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

	if ((r = jc_keys(jc, xc, w, ckeys)) != 0 ||
	    (r = jc_get(jc, xc, w, "certificates", JSON_ARRAY, 1, &a)) != 0)
		return r;
	if (json_array_size(a) == 0 || json_array_size(a) > MSIG_MAX_CHAIN)
		return jc_err(jc, AG_ERR_FORMAT, "%s.certificates: %zu "
		    "certificates, expected 1 to %d", w, json_array_size(a),
		    MSIG_MAX_CHAIN);
	if ((mb->b_chain = sk_X509_new_null()) == NULL)
		return jc_err(jc, AG_ERR_ALLOC, "out of memory");
	json_array_foreach(a, i, v) {
		snprintf(cw, sizeof(cw), "%s.certificates[%zu]", w, i);
		if (!json_is_object(v))
			return jc_err(jc, AG_ERR_FORMAT, "%s: expected an "
			    "object", cw);
		if ((r = jc_keys(jc, v, cw, rkeys)) != 0 ||
		    (r = jc_b64(jc, v, cw, "rawBytes", &der, &len)) != 0)
			return r;
		p = der;
		x = d2i_X509(NULL, &p, (long)len);
		if (x != NULL && p != der + len) {
			X509_free(x);
			x = NULL;
		}
		free(der);
		if (x == NULL)
			return jc_err(jc, AG_ERR_FORMAT, "%s.rawBytes: not a "
			    "DER certificate: %s", cw, msig_ossl_why(why));
		if (sk_X509_push(mb->b_chain, x) <= 0) {
			X509_free(x);
			return jc_err(jc, AG_ERR_ALLOC, "out of memory");
		}
	}
	return 0;
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
		*r = jc_err(jc, AG_ERR_ALLOC, "out of memory");
		goto out;
	}
	for (i = 0; i < sk_X509_num(t->mt_cas); i++)
		if (X509_STORE_add_cert(store, sk_X509_value(t->mt_cas,
		    i)) != 1) {
			*r = jc_err(jc, AG_ERR_INTERNAL, "X509_STORE_add_cert: "
			    "%s", msig_ossl_why(ow));
			goto out;
		}
	for (i = 1; i < sk_X509_num(mb->b_chain); i++)
		if (sk_X509_push(untrusted, sk_X509_value(mb->b_chain,
		    i)) <= 0) {
			*r = jc_err(jc, AG_ERR_ALLOC, "out of memory");
			goto out;
		}
	if (X509_STORE_CTX_init(ctx, store, sk_X509_value(mb->b_chain, 0),
	    untrusted) != 1) {
		*r = jc_err(jc, AG_ERR_INTERNAL, "X509_STORE_CTX_init: %s",
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
		return jc_err(jc, AG_ERR_FORMAT, "%s.certificates[0]: bad "
		    "notBefore", w);
	if ((ok = chain_check(jc, t, mb, when, &why, &r)) < 0)
		return r;
	if (!ok)
		return jc_err(jc, AG_ERR_SIGNATURE, "%s: does not lead to a "
		    "trusted CA: %s%s", w, why, t->mt_validity ==
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
		return jc_err(jc, AG_ERR_SIGNATURE, "%s: the model is signed "
		    "with a certificate, but the trust given is a public key",
		    w);
	if ((r = bundle_chain_parse(jc, xc, mb)) != 0 ||
	    (r = bundle_chain_verify(jc, t, mb)) != 0)
		return r;
	leaf = sk_X509_value(mb->b_chain, 0);
	if (!msig_cert_may_sign(leaf))
		return jc_err(jc, AG_ERR_SIGNATURE, "%s.certificates[0]: the "
		    "leaf may not sign (needs key usage digitalSignature or "
		    "extended key usage codeSigning)", w);
	if ((mb->b_key = X509_get_pubkey(leaf)) == NULL ||
	    msig_key_md(mb->b_key, &d) == NULL) {
		ERR_clear_error();
		return jc_err(jc, AG_ERR_UNSUPPORTED, "%s.certificates[0]: not "
		    "an ECDSA P-256, P-384 or P-521 key", w);
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

	if ((r = jc_get(jc, root, "", w, JSON_OBJECT, 1, &vm)) != 0 ||
	    (r = jc_keys(jc, vm, w, keys)) != 0 ||
	    (r = jc_get(jc, vm, w, "publicKey", JSON_OBJECT, 0, &pk)) != 0 ||
	    (r = jc_get(jc, vm, w, "x509CertificateChain", JSON_OBJECT, 0,
	    &xc)) != 0 ||
	    /* Transparency-log entries and timestamps are not checked (we
	     * trust a key or a CA, not a log); only their shape is. */
	    (r = jc_get(jc, vm, w, "tlogEntries", JSON_ARRAY, 0, &tl)) != 0 ||
	    (r = jc_get(jc, vm, w, "timestampVerificationData", JSON_OBJECT, 0,
	    &ts)) != 0)
		return r;
	if (json_object_get(vm, "certificate") != NULL)
		return jc_err(jc, AG_ERR_UNSUPPORTED, "%s.certificate: "
		    "Sigstore (keyless) signatures are not supported", w);
	if (pk != NULL && xc != NULL)
		return jc_err(jc, AG_ERR_UNEXPECTED, "%s: both publicKey and "
		    "x509CertificateChain", w);
	if (pk == NULL && xc == NULL)
		return jc_err(jc, AG_ERR_MISSING, "%s: neither publicKey nor "
		    "x509CertificateChain", w);
	r = pk != NULL ? bundle_public_key(jc, pk, t, mb) :
	    bundle_chain(jc, xc, t, mb);
	if (r == 0 && (mb->b_md = msig_key_md(mb->b_key, &d)) == NULL)
		r = jc_err(jc, AG_ERR_UNSUPPORTED, "%s: not an ECDSA key", w);
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

	if ((r = jc_get(jc, root, "", w, JSON_OBJECT, 1, &env)) != 0 ||
	    (r = jc_keys(jc, env, w, ekeys)) != 0 ||
	    (r = jc_str_is(jc, env, w, "payloadType", MSIG_PAYLOAD_TYPE,
	    AG_ERR_UNSUPPORTED)) != 0 ||
	    (r = jc_b64(jc, env, w, "payload", &mb->b_payload,
	    &mb->b_payload_len)) != 0 ||
	    (r = jc_get(jc, env, w, "signatures", JSON_ARRAY, 1, &sigs)) != 0)
		return r;
	mb->b_payload_type = MSIG_PAYLOAD_TYPE;
	if (json_array_size(sigs) != 1)
		return jc_err(jc, json_array_size(sigs) == 0 ? AG_ERR_MISSING :
		    AG_ERR_UNSUPPORTED, "%s.signatures: %zu signatures, "
		    "expected one", w, json_array_size(sigs));
	if (!json_is_object(s = json_array_get(sigs, 0)))
		return jc_err(jc, AG_ERR_FORMAT, "%s: expected an object", sw);
	if ((r = jc_keys(jc, s, sw, skeys)) != 0)
		return r;
	/* keyid: informational, "" or null in the reference's bundles. */
	if ((kid = json_object_get(s, "keyid")) != NULL &&
	    !json_is_string(kid) && !json_is_null(kid))
		return jc_err(jc, AG_ERR_FORMAT, "%s.keyid: expected a string "
		    "or null", sw);
	return jc_b64(jc, s, sw, "sig", &mb->b_sig, &mb->b_sig_len);
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

static int
bundle_check_sig(const struct jctx *jc, struct mbundle *mb)
{
	EVP_MD_CTX *mc;
	uint8_t *pae;
	size_t plen;
	int ok;

	if ((pae = msig_dsse_pae(mb->b_payload_type, mb->b_payload,
	    mb->b_payload_len, &plen)) == NULL)
		return jc_err(jc, AG_ERR_ALLOC, "out of memory");
	if ((mc = EVP_MD_CTX_new()) == NULL) {
		free(pae);
		return jc_err(jc, AG_ERR_ALLOC, "out of memory");
	}
	ok = EVP_DigestVerifyInit(mc, NULL, mb->b_md, NULL, mb->b_key) == 1 &&
	    EVP_DigestVerify(mc, mb->b_sig, mb->b_sig_len, pae, plen) == 1;
	EVP_MD_CTX_free(mc);
	free(pae);
	ERR_clear_error();
	if (!ok)
		return jc_err(jc, AG_ERR_SIGNATURE, "dsseEnvelope."
		    "signatures[0].sig: does not verify with the %s",
		    mb->b_chain != NULL ?
		    "leaf certificate's key" : "trusted key");
	return 0;
}

static int
bundle_parse(const struct jctx *jc, const uint8_t *data, size_t len,
    const struct msig_trust *t, struct mbundle *mb)
{
	static const char *const keys[] = { "mediaType",
	    "verificationMaterial", "dsseEnvelope", "messageSignature", NULL };
	json_error_t je;
	char b[64];
	int r;

	/* jansson's word for no bytes at all is "wrong arguments". */
	if (len == 0)
		return jc_err(jc, AG_ERR_FORMAT, "empty file (0 bytes): not a "
		    "signature; sign the model again");
	if ((mb->b_root = json_loadb((const char *)data, len,
	    JSON_REJECT_DUPLICATES, &je)) == NULL)
		return jc_err(jc, AG_ERR_JSON, "not JSON: %s (line %d)",
		    safe_str(je.text, b, sizeof(b)), je.line);
	if (!json_is_object(mb->b_root))
		return jc_err(jc, AG_ERR_FORMAT, "expected a JSON object");
	if ((r = jc_keys(jc, mb->b_root, "", keys)) != 0)
		return r;
	if (json_object_get(mb->b_root, "messageSignature") != NULL)
		return jc_err(jc, AG_ERR_UNSUPPORTED, "messageSignature: only "
		    "DSSE envelopes are supported");
	if ((r = jc_str_is(jc, mb->b_root, "", "mediaType", MSIG_MEDIA_TYPE,
	    AG_ERR_UNSUPPORTED)) != 0 ||
	    (r = bundle_material(jc, mb->b_root, t, mb)) != 0)
		return r;
	return bundle_envelope(jc, mb->b_root, mb);
}

/* ==== the directory ==================================================== */

int
msig_mignore_build(struct mignore *ig, const char *const *a, size_t na,
    const char *const *b, size_t nb)
{
	size_t i;

	ig->i_n = 0;
	if ((ig->i_names = calloc(MSIG_NDEFAULT_IGNORE + na + nb + 1,
	    sizeof(*ig->i_names))) == NULL)
		return AG_ERR_ALLOC;
	for (i = 0; i < MSIG_NDEFAULT_IGNORE; i++)
		ig->i_names[ig->i_n++] = msig_default_ignore[i];
	for (i = 0; i < na; i++)
		ig->i_names[ig->i_n++] = a[i];
	for (i = 0; i < nb; i++)
		ig->i_names[ig->i_n++] = b[i];
	return 0;
}

/* Is path (path[0..plen)) one of the ignored names or below one? */
static int
mignore_covers(const struct mignore *ig, const char *path, size_t plen)
{
	size_t i, n;

	for (i = 0; i < ig->i_n; i++) {
		n = strlen(ig->i_names[i]);
		if (n <= plen && memcmp(path, ig->i_names[i], n) == 0 &&
		    (n == plen || path[n] == '/'))
			return 1;
	}
	return 0;
}

/* Checks the caller's names: relative, as mfiles.h defines them. */
int
msig_check_names(const char *const *names, size_t n, char *err,
    size_t errlen)
{
	char b[64];
	size_t i;

	for (i = 0; i < n; i++)
		if (!mfiles_name_valid(names[i]))
			return ag_errf(err, errlen, AG_ERR_INVALID_ARG,
			    "ignore path \"%s\": not a relative path inside "
			    "the model", names[i] ? safe_str(names[i], b,
			    sizeof(b)) : "");
	return 0;
}

/* One verification's view of the directory. */
struct mcheck {
	struct mfiles		 *c_mf;
	const struct mstmt	 *c_st;
	struct mignore		  c_ig;
	char			**c_names;	/* the walk (strcmp order) */
	size_t			  c_n;
	size_t			 *c_first;	/* per name, its resources */
	size_t			 *c_count;	/* in s_sorted */
	char			 *c_err;
	size_t			  c_errlen;
};

/*
 * The first signed path that the walk did not find (miss) and the first
 * file that is not signed (extra), either may be NULL: one message for
 * both, so that a renamed file shows as what it is.
 */
static int
check_names_err(const struct mcheck *c, const struct mres *miss,
    const char *extra)
{
	const char *dir = mfiles_path(c->c_mf), *why;
	char more[MFILES_NAME_MAX + 64];

	more[0] = '\0';
	if (miss == NULL)
		return ag_errf(c->c_err, c->c_errlen, AG_ERR_SIGNATURE,
		    "%s/%s: not in the signature", dir, extra);
	if (extra != NULL)
		snprintf(more, sizeof(more), "; %s: not in the signature",
		    extra);
	why = mignore_covers(&c->c_ig, miss->r_name, miss->r_plen) ?
	    "signed, but an ignore path leaves it out" : "signed but missing";
	return ag_errf(c->c_err, c->c_errlen, AG_ERR_SIGNATURE, "%s/%.*s: "
	    "%s%s", dir, (int)miss->r_plen, miss->r_name, why, more);
}

/*
 * Pairs each file of the walk with its resources (both in strcmp order),
 * by name only: nothing is read yet, so an extra or missing file is
 * reported before any hashing.
 */
static int
check_names_match(struct mcheck *c)
{
	const struct mstmt *st = c->c_st;
	const struct mres *miss = NULL;
	const char *extra = NULL;
	size_t i = 0, j = 0, k;
	int cmp;

	while (i < c->c_n || j < st->s_nres) {
		if (j >= st->s_nres)
			cmp = -1;
		else if (i >= c->c_n)
			cmp = 1;
		else
			cmp = msig_pathn_cmp(c->c_names[i],
			    strlen(c->c_names[i]), st->s_sorted[j]->r_name,
			    st->s_sorted[j]->r_plen);
		if (cmp > 0) {
			if (miss == NULL)
				miss = st->s_sorted[j];
			j++;
			continue;
		}
		if (cmp < 0) {
			/* Shards: an empty file has none (reference). */
			if (!st->s_shards && extra == NULL)
				extra = c->c_names[i];
			c->c_first[i] = j;
			c->c_count[i++] = 0;
			continue;
		}
		for (k = j + 1; k < st->s_nres && msig_pathn_cmp(
		    st->s_sorted[k]->r_name, st->s_sorted[k]->r_plen,
		    st->s_sorted[j]->r_name, st->s_sorted[j]->r_plen) == 0; k++)
			;
		c->c_first[i] = j;
		c->c_count[i++] = k - j;
		j = k;
	}
	if (miss != NULL || extra != NULL)
		return check_names_err(c, miss, extra);
	return 0;
}

/* A file's shards must tile it exactly, and each must hash as signed. */
static int
check_shards(const struct mcheck *c, const struct mfile *f, size_t first,
    size_t count)
{
	const struct mstmt *st = c->c_st;
	const char *dir = mfiles_path(c->c_mf);
	uint64_t ss = st->s_shard_size, start, end;
	size_t k, want;
	uint8_t d[32];
	struct mres *r;

	want = f->mf_len == 0 ? 0 : (f->mf_len - 1) / ss + 1;
	if (count == 0 && want > 0)
		return ag_errf(c->c_err, c->c_errlen, AG_ERR_SIGNATURE,
		    "%s/%s: not in the signature", dir, f->mf_name);
	for (k = 0; k < count || k < want; k++) {
		start = (uint64_t)k * ss;
		end = f->mf_len - start < ss ? f->mf_len : start + ss;
		r = k < count ? st->s_sorted[first + k] : NULL;
		if (count != want || r->r_start != start || r->r_end != end)
			return ag_errf(c->c_err, c->c_errlen, AG_ERR_SIGNATURE,
			    "%s/%s: size differs from the signed one (%zu "
			    "bytes now)", dir, f->mf_name, f->mf_len);
		if (msig_sha256_digest(f->mf_data + start, end - start, d) != 0)
			return ag_errf(c->c_err, c->c_errlen, AG_ERR_INTERNAL,
			    "SHA-256 failed");
		if (memcmp(d, r->r_digest, sizeof(d)) != 0)
			return ag_errf(c->c_err, c->c_errlen, AG_ERR_SIGNATURE,
			    "%s/%s: bytes %llu to %llu: digest differs from "
			    "the signed one", dir, f->mf_name,
			    (unsigned long long)start, (unsigned long long)end);
	}
	return 0;
}

/* Reads (once: these are the bytes the loader gets) and hashes a file. */
static int
check_file(const struct mcheck *c, size_t i)
{
	const struct mstmt *st = c->c_st;
	const struct mfile *f;
	uint8_t d[32];
	int r;

	if ((r = mfiles_read(c->c_mf, c->c_names[i], st->s_links, &f,
	    c->c_err, c->c_errlen)) != 0)
		return r;
	if (st->s_shards)
		return check_shards(c, f, c->c_first[i], c->c_count[i]);
	if (msig_sha256_digest(f->mf_data, f->mf_len, d) != 0)
		return ag_errf(c->c_err, c->c_errlen, AG_ERR_INTERNAL,
		    "SHA-256 failed");
	if (memcmp(d, st->s_sorted[c->c_first[i]]->r_digest, sizeof(d)) != 0)
		return ag_errf(c->c_err, c->c_errlen, AG_ERR_SIGNATURE,
		    "%s/%s: digest differs from the signed one",
		    mfiles_path(c->c_mf), f->mf_name);
	return 0;
}

static int
check_dir(struct mfiles *mf, const struct mstmt *st,
    const char *const *ignore, size_t nignore, size_t *nfiles, char *err,
    size_t errlen)
{
	struct mcheck c;
	size_t i;
	int r;

	memset(&c, 0, sizeof(c));
	c.c_mf = mf;
	c.c_st = st;
	c.c_err = err;
	c.c_errlen = errlen;
	if ((r = msig_mignore_build(&c.c_ig, st->s_ignore, st->s_nignore,
	    ignore, nignore)) != 0) {
		r = ag_errf(err, errlen, r, "out of memory");
		goto out;
	}
	if ((r = mfiles_walk(mf, c.c_ig.i_names, c.c_ig.i_n, st->s_links,
	    &c.c_names, &c.c_n, err, errlen)) != 0)
		goto out;
	if ((c.c_first = calloc(c.c_n + 1, sizeof(*c.c_first))) == NULL ||
	    (c.c_count = calloc(c.c_n + 1, sizeof(*c.c_count))) == NULL) {
		r = ag_errf(err, errlen, AG_ERR_ALLOC, "out of memory");
		goto out;
	}
	if ((r = check_names_match(&c)) != 0)
		goto out;
	for (i = 0; i < c.c_n; i++)
		if ((r = check_file(&c, i)) != 0)
			goto out;
	for (i = 0; i < c.c_n; i++)
		if (mfiles_set_verified(mf, c.c_names[i]) != 0) {
			r = ag_errf(err, errlen, AG_ERR_INTERNAL, "%s/%s: read "
			    "but not found", mfiles_path(mf), c.c_names[i]);
			goto out;
		}
	*nfiles = c.c_n;
 out:
	if (r != 0)
		mfiles_clear_verified(mf);
	free(c.c_first);
	free(c.c_count);
	mfiles_names_free(c.c_names, c.c_n);
	free(c.c_ig.i_names);
	return r;
}

/* ==== verify =========================================================== */

static void
result_fill(struct msig_result *res, const struct mbundle *mb,
    const struct mstmt *st, size_t nfiles)
{
	char hex[65];

	msig_hex_encode(st->s_digest, sizeof(st->s_digest), hex);
	res->mr_method = mb->b_chain != NULL ? MSIG_METHOD_CERT :
	    MSIG_METHOD_KEY;
	snprintf(res->mr_model, sizeof(res->mr_model), "%s", st->s_name);
	snprintf(res->mr_digest, sizeof(res->mr_digest), "sha256:%s", hex);
	snprintf(res->mr_signer, sizeof(res->mr_signer), "%s", mb->b_signer);
	snprintf(res->mr_cert_note, sizeof(res->mr_cert_note), "%s",
	    mb->b_cert_note);
	snprintf(res->mr_method_name, sizeof(res->mr_method_name), "%s",
	    st->s_shards ? "shards" : "files");
	res->mr_files = nfiles;
}

int
msig_verify(struct mfiles *mf, const struct msig_trust *trust,
    const char *const *ignore, size_t nignore, struct msig_result *res,
    char *err, size_t errlen)
{
	const struct mfile *f;
	struct mbundle mb;
	struct mstmt st;
	struct jctx jc;
	char file[PATH_MAX + 32];
	size_t nfiles = 0;
	int r;

	if (res != NULL)
		memset(res, 0, sizeof(*res));
	memset(&mb, 0, sizeof(mb));
	memset(&st, 0, sizeof(st));
	msig_init();
	mfiles_clear_verified(mf);
	if (trust == NULL || (ignore == NULL && nignore != 0))
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG,
		    "msig_verify: no trust, or no ignore list");
	if ((r = msig_check_names(ignore, nignore, err, errlen)) != 0)
		return r;
	snprintf(file, sizeof(file), "%s/%s", mfiles_path(mf), MSIG_FILE);
	jc.j_err = err;
	jc.j_errlen = errlen;
	jc.j_file = file;
	jc.j_pre = "";
	if ((r = mfiles_read(mf, MSIG_FILE, 0, &f, err, errlen)) != 0) {
		if (r == AG_ERR_NOT_FOUND)
			return ag_errf(err, errlen, r, "%s: missing: the model "
			    "is not signed", file);
		return r;
	}
	if (f->mf_len > MSIG_BUNDLE_MAX)
		return ag_errf(err, errlen, AG_ERR_TOO_LARGE, "%s: %zu bytes, "
		    "more than the %d allowed", file, f->mf_len,
		    MSIG_BUNDLE_MAX);
	if ((r = bundle_parse(&jc, f->mf_data, f->mf_len, trust, &mb)) != 0 ||
	    (r = bundle_check_sig(&jc, &mb)) != 0)
		goto out;
	jc.j_pre = "dsseEnvelope.payload: ";
	if ((r = stmt_parse(&jc, mb.b_payload, mb.b_payload_len, &st)) != 0 ||
	    (r = check_dir(mf, &st, ignore, nignore, &nfiles, err,
	    errlen)) != 0)
		goto out;
	if (res != NULL)
		result_fill(res, &mb, &st, nfiles);
 out:
	mstmt_cleanup(&st);
	mbundle_cleanup(&mb);
	return r;
}
