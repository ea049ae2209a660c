/* SPDX-License-Identifier: ISC */
/*
 * test_msig.c: unit tests for OpenSSF Model Signing (msig.c, msig_sign.c).
 *
 * 1. The reference's vectors (../shared/vectors/model-signing, found from
 *    $AG_TOP or the working directory; a SKIP line when absent) verify
 *    with their key or CA, and a tamper matrix on copies of each is
 *    refused with the expected code and a message naming the file or
 *    field: a flipped byte, a truncation, an added, removed or renamed
 *    file, a symbolic link, a re-encoded payload, a flipped signature
 *    byte, another key or CA, the other method's trust.
 * 2. Round trips: a key made by msig_keygen() signs a generated directory
 *    (with a subdirectory) by files and by shards; the bundle has the
 *    shape of the reference's v1.1.0 bundle, key by key and type by type
 *    (when the vectors are there); the same tamper matrix applies.  The
 *    certificate method: a CA, an intermediate and a leaf made here with
 *    the OpenSSL API; wrong CA, a leaf that may not sign, and a leaf
 *    older than its issuer are refused.  A directory laid out as a served
 *    model (config.json, labels.txt, model.safetensors) has every one of
 *    its files tampered with in turn (changed, truncated, removed,
 *    renamed, a link) and a file added, signed with the key by files and
 *    by shards and with the leaf + intermediate chain: each refused with
 *    AG_ERR_SIGNATURE (a link: AG_ERR_UNEXPECTED) naming the file, so a
 *    verifier that skips one file's digest fails here.
 * 3. Malformed bundles, each a clear error: the envelope's shape, base64,
 *    and statements signed with the test key so that the checks behind
 *    the signature are reached.  Then a mutation pass (every byte of a
 *    valid bundle flipped, truncations): nothing crashes, nothing
 *    verifies.
 */
#include <sys/stat.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/ag_err.h"
#include "model/mfiles.h"
#include "model/msig.h"
#include "test_helper.h"

#define ERRLEN		1024
#define PAYLOAD_TYPE	"application/vnd.in-toto+json"
/*
 * The cases that need the OpenSSF vectors (test_vectors() and the checks
 * of test_roundtrip() against their shape): skipped, in that number, when
 * ../shared/vectors is absent.
 */
#define NVECTOR_CASES	40

/* ==== files ============================================================ */

static void
xsystem(const char *cmd)
{
	if (system(cmd) != 0) {
		fprintf(stderr, "failed: %s\n", cmd);
		exit(99);
	}
}

static void
put_bytes(const char *path, const void *p, size_t n)
{
	FILE *fp;

	if ((fp = fopen(path, "wb")) == NULL ||
	    (n > 0 && fwrite(p, 1, n, fp) != n) || fclose(fp) != 0) {
		perror(path);
		exit(99);
	}
}

static void
put(const char *dir, const char *name, const char *text)
{
	char p[1024];

	test_path(p, sizeof(p), dir, name);
	put_bytes(p, text, strlen(text));
}

/* The whole file, NUL-terminated (caller frees). */
static char *
slurp(const char *path, size_t *len)
{
	char *buf;
	FILE *fp;
	long n;

	if ((fp = fopen(path, "rb")) == NULL || fseek(fp, 0, SEEK_END) != 0 ||
	    (n = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0) {
		perror(path);
		exit(99);
	}
	buf = test_xmalloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		perror(path);
		exit(99);
	}
	fclose(fp);
	buf[n] = '\0';
	if (len != NULL)
		*len = (size_t)n;
	return buf;
}

/* A fresh writable copy of src as tmpdir/name; returns its path. */
static const char *
copy_dir(const char *src, const char *name)
{
	static char dst[1024];
	char cmd[3000];

	test_path(dst, sizeof(dst), test_tmpdir(), name);
	if ((size_t)snprintf(cmd, sizeof(cmd), "rm -rf '%s' && cp -R '%s' "
	    "'%s' && chmod -R u+w '%s'", dst, src, dst, dst) >= sizeof(cmd))
		exit(99);
	xsystem(cmd);
	return dst;
}

static void
rm_rf(const char *path)
{
	char cmd[1200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	xsystem(cmd);
}

/* ==== verifying ======================================================== */

static int
vdir(const char *dir, const struct msig_trust *t, const char *ign,
    struct msig_result *res, char *err, size_t errlen)
{
	const char *ig[1] = { ign };
	struct mfiles *mf;
	int r;

	err[0] = '\0';
	if ((r = mfiles_open(dir, &mf, err, errlen)) != 0)
		return r;
	r = msig_verify(mf, t, ign != NULL ? ig : NULL, ign != NULL ? 1 : 0,
	    res, err, errlen);
	mfiles_close(mf);
	return r;
}

static struct msig_trust *
trust_key(const char *path)
{
	struct msig_trust *t = NULL;
	char err[ERRLEN];

	if (msig_trust_key(path, &t, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		exit(99);
	}
	return t;
}

static struct msig_trust *
trust_ca(const char *path)
{
	struct msig_trust *t = NULL;
	char err[ERRLEN];

	if (msig_trust_ca(path, &t, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		exit(99);
	}
	return t;
}

static int
sign_dir(const char *dir, const char *key, const char *chain,
    uint64_t shard, const char *ign, char *err, size_t errlen)
{
	const char *ig[1] = { ign };
	struct msig_sign_opts o;
	struct mfiles *mf;
	char p[1024], *out = NULL;
	size_t len = 0;
	int r;

	memset(&o, 0, sizeof(o));
	o.shard_size = shard;
	o.chain_path = chain;
	o.ignore = ign != NULL ? ig : NULL;
	o.nignore = ign != NULL ? 1 : 0;
	if ((r = mfiles_open(dir, &mf, err, errlen)) != 0)
		return r;
	r = msig_sign(mf, key, &o, &out, &len, err, errlen);
	mfiles_close(mf);
	if (r == 0) {
		test_path(p, sizeof(p), dir, MSIG_FILE);
		put_bytes(p, out, len);
	}
	free(out);
	return r;
}

/* ==== editing a bundle ================================================= */

static json_t *
bundle_load(const char *dir)
{
	char p[1024];
	json_error_t je;
	json_t *b;

	test_path(p, sizeof(p), dir, MSIG_FILE);
	if ((b = json_load_file(p, 0, &je)) == NULL) {
		fprintf(stderr, "%s: %s\n", p, je.text);
		exit(99);
	}
	return b;
}

static void
bundle_save(const char *dir, json_t *b)
{
	char p[1024];

	test_path(p, sizeof(p), dir, MSIG_FILE);
	if (json_dump_file(b, p, JSON_COMPACT) != 0)
		exit(99);
}

static uint8_t *
b64dec(const char *s, size_t *len)
{
	size_t n = strlen(s), pad = 0;
	uint8_t *p = test_xmalloc(n / 4 * 3 + 1);
	int m;

	if (n > 0 && s[n - 1] == '=')
		pad++;
	if (n > 1 && s[n - 2] == '=')
		pad++;
	if ((m = EVP_DecodeBlock(p, (const unsigned char *)s, (int)n)) < 0)
		exit(99);
	*len = (size_t)m - pad;
	return p;
}

static char *
b64enc(const uint8_t *p, size_t n)
{
	char *s = test_xmalloc((n + 2) / 3 * 4 + 1);

	EVP_EncodeBlock((unsigned char *)s, p, (int)n);
	return s;
}

static json_t *
env_of(json_t *b)
{
	return json_object_get(b, "dsseEnvelope");
}

static json_t *
sig0_of(json_t *b)
{
	return json_array_get(json_object_get(env_of(b), "signatures"), 0);
}

/* Sets b's payload (base64 of p[0..n)). */
static void
set_payload(json_t *b, const uint8_t *p, size_t n)
{
	char *s = b64enc(p, n);

	json_object_set_new(env_of(b), "payload", json_string(s));
	free(s);
}

/* The payload, decoded, NUL-terminated (caller frees). */
static char *
get_payload(json_t *b, size_t *n)
{
	uint8_t *p = b64dec(json_string_value(json_object_get(env_of(b),
	    "payload")), n);
	char *s = test_xmalloc(*n + 1);

	memcpy(s, p, *n);
	s[*n] = '\0';
	free(p);
	return s;
}

/* Signs payload with the PEM private key at key (the DSSE PAE). */
static void
resign(json_t *b, const char *payload, const char *key)
{
	char head[128], *pae, *s;
	uint8_t sig[256];
	size_t n = strlen(payload), hn, sl = sizeof(sig);
	EVP_MD_CTX *mc;
	EVP_PKEY *pk;
	FILE *fp;

	if ((fp = fopen(key, "r")) == NULL ||
	    (pk = PEM_read_PrivateKey(fp, NULL, NULL, NULL)) == NULL)
		exit(99);
	fclose(fp);
	hn = (size_t)snprintf(head, sizeof(head), "DSSEv1 %zu %s %zu ",
	    strlen(PAYLOAD_TYPE), PAYLOAD_TYPE, n);
	pae = test_xmalloc(hn + n);
	memcpy(pae, head, hn);
	memcpy(pae + hn, payload, n);
	if ((mc = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(mc, NULL, EVP_sha256(), NULL, pk) != 1 ||
	    EVP_DigestSign(mc, sig, &sl, (uint8_t *)pae, hn + n) != 1)
		exit(99);
	EVP_MD_CTX_free(mc);
	EVP_PKEY_free(pk);
	free(pae);
	set_payload(b, (const uint8_t *)payload, n);
	s = b64enc(sig, sl);
	json_object_set_new(sig0_of(b), "sig", json_string(s));
	free(s);
}

/* ==== keys and certificates ============================================ */

static long cert_serial = 1;

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509_EXTENSION *e;
	X509V3_CTX ctx;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	if ((e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL ||
	    X509_add_ext(x, e, -1) != 1)
		exit(99);
	X509_EXTENSION_free(e);
}

/*
 * A certificate for key, named cn, issued by issuer/ikey (NULL: self),
 * valid from now + nb to now + na seconds.
 */
static X509 *
mkcert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey, int ca,
    const char *ku, const char *eku, long nb, long na)
{
	X509 *x = X509_new();

	if (x == NULL || X509_set_version(x, 2) != 1)
		exit(99);
	ASN1_INTEGER_set(X509_get_serialNumber(x), cert_serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), nb);
	X509_gmtime_adj(X509_getm_notAfter(x), na);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(issuer ? issuer : x));
	add_ext(x, issuer ? issuer : x, NID_basic_constraints,
	    ca ? "critical,CA:TRUE" : "CA:FALSE");
	add_ext(x, issuer ? issuer : x, NID_subject_key_identifier, "hash");
	if (issuer != NULL)
		add_ext(x, issuer, NID_authority_key_identifier,
		    "keyid:always");
	if (ku != NULL)
		add_ext(x, issuer ? issuer : x, NID_key_usage, ku);
	if (eku != NULL)
		add_ext(x, issuer ? issuer : x, NID_ext_key_usage, eku);
	if (X509_sign(x, ikey ? ikey : key, EVP_sha256()) <= 0)
		exit(99);
	return x;
}

static void
write_certs(const char *path, X509 *a, X509 *b)
{
	FILE *fp;

	if ((fp = fopen(path, "w")) == NULL || PEM_write_X509(fp, a) != 1 ||
	    (b != NULL && PEM_write_X509(fp, b) != 1) || fclose(fp) != 0)
		exit(99);
}

static void
write_key(const char *path, EVP_PKEY *k)
{
	FILE *fp;

	if ((fp = fopen(path, "w")) == NULL ||
	    PEM_write_PrivateKey(fp, k, NULL, NULL, 0, NULL, NULL) != 1 ||
	    fclose(fp) != 0)
		exit(99);
}

/* A fresh key pair in tmpdir: NAME.key, NAME.pub. */
static void
new_key(const char *name, char *priv, char *pub, size_t len)
{
	char err[ERRLEN];

	snprintf(priv, len, "%s/%s.key", test_tmpdir(), name);
	snprintf(pub, len, "%s/%s.pub", test_tmpdir(), name);
	if (msig_keygen(priv, pub, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		exit(99);
	}
}

/* A fresh self-signed CA (EC P-256) in tmpdir/NAME.pem. */
static void
new_ca(const char *name, char *path, size_t len)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x;

	if (k == NULL)
		exit(99);
	x = mkcert(k, name, NULL, NULL, 1, "critical,keyCertSign,cRLSign",
	    NULL, -86400, 86400 * 30);
	snprintf(path, len, "%s/%s.pem", test_tmpdir(), name);
	write_certs(path, x, NULL);
	X509_free(x);
	EVP_PKEY_free(k);
}

/* ==== the tamper matrix ================================================ */

/* What is tampered with, and what the refusal must say. */
struct target {
	const char		*t_label;
	const char		*t_dir;		/* signed original */
	const struct msig_trust	*t_trust;
	const struct msig_trust	*t_other;	/* another key or CA */
	const struct msig_trust	*t_wrong_method;
	const char		*t_ign;		/* to ignore, or NULL */
	const char		*t_file;	/* a signed, non-empty file */
	const char		*t_other_field;	/* t_other's error */
	int			 t_shards;
};

static void
expect(const char *what, int r, int code, const char *err, const char *want)
{
	char name[256];

	snprintf(name, sizeof(name), "%s", what);
	TEST_START(name);
	ASSERT_INT_EQ(r, code);
	ASSERT_STRING_CONTAINS(err, want);
	TEST_DONE();
}

static void
flip_file(const char *dir, const char *f)
{
	char p[1024], *b;
	size_t n;

	test_path(p, sizeof(p), dir, f);
	b = slurp(p, &n);
	b[n / 2] ^= 0x20;
	put_bytes(p, b, n);
	free(b);
}

static void
truncate_file(const char *dir, const char *f)
{
	char p[1024];
	struct stat st;

	test_path(p, sizeof(p), dir, f);
	if (stat(p, &st) != 0 || truncate(p, st.st_size / 2) != 0)
		exit(99);
}

static void
tamper_files(const struct target *t)
{
	char err[ERRLEN], what[256], want[256], p[1024], q[1024];
	const char *d;
	int r;

#define TRY(label)							\
	(snprintf(what, sizeof(what), "%s: %s", t->t_label, label),	\
	vdir(d, t->t_trust, t->t_ign, NULL, err, sizeof(err)))

	d = copy_dir(t->t_dir, "tamper");
	flip_file(d, t->t_file);
	r = TRY("a flipped byte");
	snprintf(want, sizeof(want), "/%s: %s", t->t_file, t->t_shards ?
	    "bytes " : "digest differs from the signed one");
	expect(what, r, AG_ERR_SIGNATURE, err, want);

	d = copy_dir(t->t_dir, "tamper");
	truncate_file(d, t->t_file);
	r = TRY("a truncated file");
	snprintf(want, sizeof(want), "/%s: %s", t->t_file, t->t_shards ?
	    "size differs from the signed one" :
	    "digest differs from the signed one");
	expect(what, r, AG_ERR_SIGNATURE, err, want);

	d = copy_dir(t->t_dir, "tamper");
	put(d, "extra", "not signed");
	r = TRY("an added file");
	expect(what, r, AG_ERR_SIGNATURE, err, "/extra: not in the signature");

	d = copy_dir(t->t_dir, "tamper");
	test_path(p, sizeof(p), d, t->t_file);
	if (unlink(p) != 0)
		exit(99);
	r = TRY("a removed file");
	snprintf(want, sizeof(want), "/%s: signed but missing", t->t_file);
	expect(what, r, AG_ERR_SIGNATURE, err, want);

	d = copy_dir(t->t_dir, "tamper");
	test_path(p, sizeof(p), d, t->t_file);
	snprintf(q, sizeof(q), "%s/%s.renamed", d, t->t_file);
	if (rename(p, q) != 0)
		exit(99);
	r = TRY("a renamed file");
	expect(what, r, AG_ERR_SIGNATURE, err, want);
	if (!t->t_shards) {
		/* By files, the new name is reported too. */
		snprintf(what, sizeof(what), "%s: a renamed file's new name",
		    t->t_label);
		snprintf(want, sizeof(want), "; %s.renamed: not in the "
		    "signature", t->t_file);
		expect(what, r, AG_ERR_SIGNATURE, err, want);
	}

	/* The link leads to the very same bytes: a link is still refused. */
	d = copy_dir(t->t_dir, "tamper");
	test_path(p, sizeof(p), d, t->t_file);
	snprintf(q, sizeof(q), "%s/linked-copy", test_tmpdir());
	if (rename(p, q) != 0 || symlink(q, p) != 0)
		exit(99);
	r = TRY("a file replaced by a symbolic link");
	snprintf(want, sizeof(want), "/%s: a symbolic link", t->t_file);
	expect(what, r, AG_ERR_UNEXPECTED, err, want);
	unlink(q);
#undef TRY
}

static void
tamper_bundle(const struct target *t)
{
	char err[ERRLEN], what[256], *pl, *s;
	const char *d;
	uint8_t *sig;
	size_t n;
	json_t *b;
	int r;

	d = copy_dir(t->t_dir, "tamper");
	b = bundle_load(d);
	pl = get_payload(b, &n);
	/* One hex digit of the subject digest, still valid hex. */
	if ((s = strstr(pl, "\"sha256\": \"")) == NULL)
		exit(99);
	s += 11;
	*s = *s == '0' ? '1' : '0';
	set_payload(b, (uint8_t *)pl, n);
	bundle_save(d, b);
	json_decref(b);
	free(pl);
	r = vdir(d, t->t_trust, t->t_ign, NULL, err, sizeof(err));
	snprintf(what, sizeof(what), "%s: a re-encoded payload", t->t_label);
	expect(what, r, AG_ERR_SIGNATURE, err,
	    "dsseEnvelope.signatures[0].sig: does not verify");

	d = copy_dir(t->t_dir, "tamper");
	b = bundle_load(d);
	sig = b64dec(json_string_value(json_object_get(sig0_of(b), "sig")),
	    &n);
	sig[n / 2] ^= 0x01;
	s = b64enc(sig, n);
	json_object_set_new(sig0_of(b), "sig", json_string(s));
	bundle_save(d, b);
	json_decref(b);
	free(sig);
	free(s);
	r = vdir(d, t->t_trust, t->t_ign, NULL, err, sizeof(err));
	snprintf(what, sizeof(what), "%s: a flipped signature byte",
	    t->t_label);
	expect(what, r, AG_ERR_SIGNATURE, err,
	    "dsseEnvelope.signatures[0].sig: does not verify");

	r = vdir(t->t_dir, t->t_other, t->t_ign, NULL, err, sizeof(err));
	snprintf(what, sizeof(what), "%s: another %s", t->t_label,
	    msig_trust_method(t->t_other) == MSIG_METHOD_KEY ? "key" : "CA");
	expect(what, r, AG_ERR_SIGNATURE, err, t->t_other_field);

	r = vdir(t->t_dir, t->t_wrong_method, t->t_ign, NULL, err,
	    sizeof(err));
	snprintf(what, sizeof(what), "%s: the other method's trust",
	    t->t_label);
	expect(what, r, AG_ERR_SIGNATURE, err,
	    msig_trust_method(t->t_trust) == MSIG_METHOD_KEY ?
	    "publicKey: the model is signed with a public key, but the trust "
	    "given is a CA bundle" : "x509CertificateChain: the model is "
	    "signed with a certificate, but the trust given is a public key");
}

static void
tamper_all(const struct target *t)
{
	char err[ERRLEN], what[256];
	struct msig_result res;
	int r;

	r = vdir(t->t_dir, t->t_trust, t->t_ign, &res, err, sizeof(err));
	snprintf(what, sizeof(what), "%s: verifies", t->t_label);
	TEST_START(what);
	ASSERT_INT_EQ(r, 0);
	if (r != 0)
		fprintf(stderr, "    %s\n", err);
	ASSERT_INT_GE(res.mr_files, 2);
	ASSERT_INT_EQ(strlen(res.mr_digest), 71);
	TEST_DONE();
	tamper_files(t);
	tamper_bundle(t);
}

/* ==== 1. the vectors =================================================== */

static void
test_vectors(const char *v, const char *okey_pub, const char *oca)
{
	struct msig_trust *key, *ca, *okey, *other_ca;
	char p[1200], err[ERRLEN], *keyd;
	struct target t;
	int r;

	snprintf(p, sizeof(p), "%s/keys/signing-key-pub.pem", v);
	key = trust_key(p);
	snprintf(p, sizeof(p), "%s/keys/ca-cert.pem", v);
	ca = trust_ca(p);
	okey = trust_key(okey_pub);
	other_ca = trust_ca(oca);

	memset(&t, 0, sizeof(t));
	t.t_trust = key;
	t.t_other = okey;
	t.t_wrong_method = ca;
	t.t_ign = "ignore-me";
	t.t_file = "signme-1";

	snprintf(p, sizeof(p), "%s/v1.0.1-elliptic-key", v);
	keyd = strdup(p);
	t.t_label = "v1.0.1-elliptic-key";
	t.t_dir = keyd;
	t.t_other_field = "verificationMaterial.publicKey.rawBytes: not the "
	    "trusted key";
	tamper_all(&t);

	TEST_START("v1.0.1-elliptic-key: ignore-me is not signed");
	r = vdir(keyd, key, NULL, NULL, err, sizeof(err));
	ASSERT_INT_EQ(r, AG_ERR_SIGNATURE);
	ASSERT_STRING_CONTAINS(err, "ignore-me: not in the signature");
	TEST_DONE();
	free(keyd);

	snprintf(p, sizeof(p), "%s/v1.1.0-elliptic-key", v);
	t.t_label = "v1.1.0-elliptic-key";
	t.t_dir = p;
	t.t_other_field = "verificationMaterial.publicKey.hint";
	tamper_all(&t);
	TEST_START("v1.1.0-elliptic-key: its signed ignore_paths are honored");
	ASSERT_INT_EQ(vdir(p, key, NULL, NULL, err, sizeof(err)), 0);
	TEST_DONE();

	snprintf(p, sizeof(p), "%s/v1.1.0-certificate", v);
	t.t_label = "v1.1.0-certificate";
	t.t_dir = p;
	t.t_trust = ca;
	t.t_other = other_ca;
	t.t_wrong_method = key;
	t.t_other_field = "x509CertificateChain: does not lead to a trusted "
	    "CA";
	tamper_all(&t);
	TEST_START("v1.1.0-certificate: the signer is the leaf");
	{
		struct msig_result res;

		ASSERT_INT_EQ(vdir(p, ca, "ignore-me", &res, err,
		    sizeof(err)), 0);
		ASSERT_INT_EQ(res.mr_method, MSIG_METHOD_CERT);
		ASSERT_STRING_CONTAINS(res.mr_signer, "CN=intermediate-ca "
		    "sha256:");
		ASSERT_STRING_EQ(res.mr_method_name, "files");
	}
	TEST_DONE();

	msig_trust_free(key);
	msig_trust_free(ca);
	msig_trust_free(okey);
	msig_trust_free(other_ca);
}

/* ==== 2. round trips =================================================== */

/* A model directory with a subdirectory, an empty file, a 100-byte one. */
static const char *
make_model(const char *name)
{
	static char d[1024];
	char p[1100], big[101];

	test_path(d, sizeof(d), test_tmpdir(), name);
	rm_rf(d);
	snprintf(p, sizeof(p), "%s/sub", d);
	if (mkdir(d, 0755) != 0 || mkdir(p, 0755) != 0)
		exit(99);
	put(d, "config.json", "{\"format\": \"test\"}\n");
	put(d, "weights", "0123456789abcdefghij");
	put(d, "empty", "");
	memset(big, 'w', 100);
	big[100] = '\0';
	put(d, "sub/big", big);
	put(d, "a-b", "dash sorts before slash");
	snprintf(p, sizeof(p), "%s/.git", d);
	if (mkdir(p, 0755) != 0)
		exit(99);
	put(p, "HEAD", "ref: refs/heads/main\n");
	return d;
}

/*
 * A directory laid out as a served model is: config.json, labels.txt and
 * model.safetensors (its bytes need not parse: only the digests matter).
 */
static const char *const model_files[] = {
	"config.json", "labels.txt", "model.safetensors"
};

static const char *
make_served_model(const char *name)
{
	static char d[1024];
	uint8_t w[300];
	char p[1100];
	size_t i;

	test_path(d, sizeof(d), test_tmpdir(), name);
	rm_rf(d);
	if (mkdir(d, 0755) != 0)
		exit(99);
	put(d, "config.json", "{\"format\": \"aiguard-model-v1\", "
	    "\"name\": \"m\", \"num_classes\": 3}\n");
	put(d, "labels.txt", "cat\ndog\nbird\n");
	for (i = 0; i < sizeof(w); i++)
		w[i] = (uint8_t)(i * 7 + 1);
	test_path(p, sizeof(p), d, "model.safetensors");
	put_bytes(p, w, sizeof(w));
	return d;
}

/*
 * Every file of a served model, tampered in turn (a changed byte, a
 * truncation, removed, renamed, replaced by a link), and a file added:
 * each refused, naming the file, whatever the method.  key and chain sign
 * (chain NULL: the key method); trust verifies; shard 0 signs by files.
 */
static void
test_every_file(const char *label, const char *key, const char *chain,
    uint64_t shard, const struct msig_trust *trust,
    const struct msig_trust *other, const struct msig_trust *wrong,
    const char *other_field)
{
	char err[ERRLEN], name[128], lab[256];
	struct target t;
	char *dir;
	size_t i;

	snprintf(name, sizeof(name), "served-%s", label);
	dir = strdup(make_served_model(name));
	snprintf(lab, sizeof(lab), "every file (%s): signed", label);
	TEST_START(lab);
	ASSERT_INT_EQ(sign_dir(dir, key, chain, shard, NULL, err,
	    sizeof(err)), 0);
	TEST_DONE();
	memset(&t, 0, sizeof(t));
	t.t_dir = dir;
	t.t_trust = trust;
	t.t_other = other;
	t.t_wrong_method = wrong;
	t.t_other_field = other_field;
	t.t_shards = shard != 0;
	t.t_label = lab;
	for (i = 0; i < sizeof(model_files) / sizeof(model_files[0]); i++) {
		snprintf(lab, sizeof(lab), "every file (%s): %s", label,
		    model_files[i]);
		t.t_file = model_files[i];
		if (i == 0)
			tamper_all(&t);
		else
			tamper_files(&t);
	}
	free(dir);
}

/* Same keys at every level, same JSON types; arrays by their first item. */
static int
same_shape(json_t *a, json_t *b, const char *where)
{
	const char *k;
	json_t *v;

	if (json_is_boolean(a) && json_is_boolean(b))
		return 1;
	if (json_typeof(a) != json_typeof(b)) {
		fprintf(stderr, "    %s: types differ\n", where);
		return 0;
	}
	if (json_is_array(a)) {
		if (json_array_size(a) == 0 || json_array_size(b) == 0)
			return json_array_size(a) == json_array_size(b);
		return same_shape(json_array_get(a, 0), json_array_get(b, 0),
		    where);
	}
	if (!json_is_object(a))
		return 1;
	if (json_object_size(a) != json_object_size(b)) {
		fprintf(stderr, "    %s: %zu keys vs %zu\n", where,
		    json_object_size(a), json_object_size(b));
		return 0;
	}
	json_object_foreach(a, k, v) {
		if (json_object_get(b, k) == NULL) {
			fprintf(stderr, "    %s.%s: only in ours\n", where, k);
			return 0;
		}
		if (!same_shape(v, json_object_get(b, k), k))
			return 0;
	}
	return 1;
}

static void
test_shape(const char *ours, const char *v)
{
	char p[1200], *pa, *pb;
	json_t *a, *b, *sa, *sb;
	size_t n;

	snprintf(p, sizeof(p), "%s/v1.1.0-elliptic-key", v);
	a = bundle_load(ours);
	b = bundle_load(p);
	pa = get_payload(a, &n);
	pb = get_payload(b, &n);
	sa = json_loads(pa, 0, NULL);
	sb = json_loads(pb, 0, NULL);
	TEST_START("sign: the bundle has v1.1.0-elliptic-key's shape");
	ASSERT_TRUE(same_shape(a, b, "bundle"));
	ASSERT_TRUE(sa != NULL && sb != NULL && same_shape(sa, sb,
	    "statement"));
	ASSERT_STRING_EQ(json_string_value(json_object_get(sig0_of(a),
	    "keyid")), "");
	TEST_DONE();
	json_decref(a);
	json_decref(b);
	json_decref(sa);
	json_decref(sb);
	free(pa);
	free(pb);
}

/* msig_sign_opts.link_outside: records the names it is given. */
static void
link_seen(void *arg, const char *name, const char *target)
{
	char *buf = arg;
	size_t n = strlen(buf);

	snprintf(buf + n, 512 - n, "%s -> %s;", name, target);
}

/*
 * Issue 18, item 12: what the OpenSSF conformance suite found.  Nothing
 * to sign is refused; a link out of the model is reported to the caller
 * (who warns), a link inside it is not.
 */
static void
test_edges(const char *priv, const struct msig_trust *key)
{
	struct msig_sign_opts o;
	struct mfiles *mf;
	char d[1024], p[1100], q[1100], err[ERRLEN], seen[512];
	char *out = NULL;
	size_t len = 0;

	test_path(d, sizeof(d), test_tmpdir(), "edge-empty");
	rm_rf(d);
	if (mkdir(d, 0755) != 0)
		exit(99);
	TEST_START("sign: an empty directory is refused");
	ASSERT_INT_EQ(sign_dir(d, priv, NULL, 0, NULL, err, sizeof(err)),
	    AG_ERR_NOT_FOUND);
	ASSERT_STRING_CONTAINS(err, "nothing to sign");
	test_path(p, sizeof(p), d, MSIG_FILE);
	ASSERT_INT_EQ(access(p, F_OK), -1);
	TEST_DONE();

	TEST_START("sign: a directory of ignored files only is refused");
	put(d, "notes.txt", "ignored");
	test_path(p, sizeof(p), d, ".git");
	if (mkdir(p, 0755) != 0)
		exit(99);
	put(p, "HEAD", "ref: refs/heads/main\n");
	ASSERT_INT_EQ(sign_dir(d, priv, NULL, 0, "notes.txt", err,
	    sizeof(err)), AG_ERR_NOT_FOUND);
	ASSERT_STRING_CONTAINS(err, "nothing to sign");
	/* By shards, only empty files: no resource either. */
	put(d, "zero", "");
	ASSERT_INT_EQ(sign_dir(d, priv, NULL, 8, "notes.txt", err,
	    sizeof(err)), AG_ERR_NOT_FOUND);
	ASSERT_STRING_CONTAINS(err, "nothing to sign");
	/* By files, an empty file is a resource: that signs and verifies. */
	ASSERT_INT_EQ(sign_dir(d, priv, NULL, 0, "notes.txt", err,
	    sizeof(err)), 0);
	ASSERT_INT_EQ(vdir(d, key, NULL, NULL, err, sizeof(err)), 0);
	TEST_DONE();

	TEST_START("sign: a link out of the model is reported, one in it not");
	test_path(d, sizeof(d), test_tmpdir(), "edge-links");
	rm_rf(d);
	if (mkdir(d, 0755) != 0)
		exit(99);
	put(d, "weights", "inside");
	put(test_tmpdir(), "outside-file", "outside");
	test_path(p, sizeof(p), d, "in-link");
	if (symlink("weights", p) != 0)
		exit(99);
	test_path(p, sizeof(p), d, "out-link");
	test_path(q, sizeof(q), test_tmpdir(), "outside-file");
	if (symlink(q, p) != 0)
		exit(99);
	memset(&o, 0, sizeof(o));
	o.allow_symlinks = 1;
	o.link_outside = link_seen;
	seen[0] = '\0';
	o.link_arg = seen;
	ASSERT_INT_EQ(mfiles_open(d, &mf, err, sizeof(err)), 0);
	ASSERT_INT_EQ(msig_sign(mf, priv, &o, &out, &len, err, sizeof(err)),
	    0);
	mfiles_close(mf);
	free(out);
	ASSERT_STRING_CONTAINS(seen, "out-link -> ");
	ASSERT_STRING_CONTAINS(seen, "outside-file;");
	ASSERT_PTR_EQ(strstr(seen, "in-link"), NULL);
	TEST_DONE();
}

static void
test_roundtrip(const char *v, const char *okey_pub, const char *oca)
{
	char priv[1024], pub[1024], err[ERRLEN];
	struct msig_trust *key, *okey, *other_ca;
	struct msig_result res;
	struct target t;
	const char *d;
	char *dir;

	new_key("rt", priv, pub, sizeof(priv));
	key = trust_key(pub);
	okey = trust_key(okey_pub);
	other_ca = trust_ca(oca);

	TEST_START("keygen: refuses to overwrite");
	ASSERT_INT_EQ(msig_keygen(priv, pub, err, sizeof(err)),
	    AG_ERR_UNEXPECTED);
	ASSERT_STRING_CONTAINS(err, "exists");
	TEST_DONE();

	d = make_model("rt-files");
	dir = strdup(d);
	TEST_START("sign by files, verify");
	ASSERT_INT_EQ(sign_dir(dir, priv, NULL, 0, NULL, err, sizeof(err)), 0);
	ASSERT_INT_EQ(vdir(dir, key, NULL, &res, err, sizeof(err)), 0);
	ASSERT_INT_EQ(res.mr_files, 5);
	ASSERT_STRING_EQ(res.mr_method_name, "files");
	ASSERT_STRING_EQ(res.mr_model, "rt-files");
	ASSERT_STRING_CONTAINS(res.mr_signer, "key sha256:");
	TEST_DONE();
	if (v != NULL)
		test_shape(dir, v);

	memset(&t, 0, sizeof(t));
	t.t_label = "round trip (files)";
	t.t_dir = dir;
	t.t_trust = key;
	t.t_other = okey;
	t.t_wrong_method = other_ca;
	t.t_file = "sub/big";
	t.t_other_field = "verificationMaterial.publicKey.hint";
	tamper_all(&t);
	t.t_file = "weights";
	tamper_files(&t);
	test_every_file("key, files", priv, NULL, 0, key, okey, other_ca,
	    "verificationMaterial.publicKey.hint");
	test_every_file("key, shards", priv, NULL, 8, key, okey, other_ca,
	    "verificationMaterial.publicKey.hint");

	TEST_START("sign: caller's ignore paths are recorded and honored");
	put(dir, "notes.txt", "unsigned");
	ASSERT_INT_EQ(sign_dir(dir, priv, NULL, 0, "notes.txt", err,
	    sizeof(err)), 0);
	put(dir, "notes.txt", "changed, still fine");
	ASSERT_INT_EQ(vdir(dir, key, NULL, &res, err, sizeof(err)), 0);
	ASSERT_INT_EQ(res.mr_files, 5);
	/* Ignoring a signed file on the verify side is an error. */
	ASSERT_INT_EQ(vdir(dir, key, "weights", &res, err, sizeof(err)),
	    AG_ERR_SIGNATURE);
	ASSERT_STRING_CONTAINS(err, "weights: signed, but an ignore path");
	ASSERT_INT_EQ(vdir(dir, key, "../x", &res, err, sizeof(err)),
	    AG_ERR_INVALID_ARG);
	TEST_DONE();
	free(dir);

	d = make_model("rt-shards");
	dir = strdup(d);
	TEST_START("sign by shards (8 bytes), verify");
	ASSERT_INT_EQ(sign_dir(dir, priv, NULL, 8, NULL, err, sizeof(err)), 0);
	ASSERT_INT_EQ(vdir(dir, key, NULL, &res, err, sizeof(err)), 0);
	ASSERT_STRING_EQ(res.mr_method_name, "shards");
	ASSERT_INT_EQ(res.mr_files, 5);
	TEST_DONE();
	TEST_START("shards: names, ranges and order as the reference's");
	{
		json_t *b = bundle_load(dir), *st, *r;
		char *pl;
		size_t n;

		pl = get_payload(b, &n);
		st = json_loads(pl, 0, NULL);
		r = json_object_get(json_object_get(st, "predicate"),
		    "resources");
		/* a-b (3 shards), config.json (3), sub/big (13), weights (3);
		 * the empty file has none. */
		ASSERT_INT_EQ(json_array_size(r), 22);
		ASSERT_STRING_EQ(json_string_value(json_object_get(
		    json_array_get(r, 0), "name")), "a-b:0:8");
		ASSERT_STRING_EQ(json_string_value(json_object_get(
		    json_array_get(r, 7), "name")), "sub/big:8:16");
		ASSERT_STRING_EQ(json_string_value(json_object_get(
		    json_array_get(r, 18), "name")), "sub/big:96:100");
		ASSERT_STRING_EQ(json_string_value(json_object_get(
		    json_array_get(r, 0), "algorithm")), "sha256-sharded-8");
		ASSERT_INT_EQ(json_integer_value(json_object_get(
		    json_object_get(json_object_get(st, "predicate"),
		    "serialization"), "shard_size")), 8);
		json_decref(st);
		json_decref(b);
		free(pl);
	}
	TEST_DONE();
	t.t_label = "round trip (shards)";
	t.t_dir = dir;
	t.t_file = "sub/big";
	t.t_shards = 1;
	tamper_all(&t);
	free(dir);

	test_edges(priv, key);
	msig_trust_free(key);
	msig_trust_free(okey);
	msig_trust_free(other_ca);
}

/*
 * Issue 18, item 9: a leaf that expired long ago signs a model today.
 * Checked now (the default), refused; at the leaf's notBefore (the
 * reference's check, model.cert_validity = signing-time), accepted, with
 * a note saying the chain is not valid now.
 */
static void
test_expired(const char *okey_pub)
{
	char root_pem[1024], chain[1024], leaf_key[1024], err[ERRLEN];
	const long day = 86400;
	struct msig_trust *ca;
	struct msig_result res;
	EVP_PKEY *rk, *lk;
	X509 *root, *leaf;
	char *dir;

	if ((rk = EVP_EC_gen("P-256")) == NULL ||
	    (lk = EVP_EC_gen("P-256")) == NULL)
		exit(99);
	root = mkcert(rk, "test-old-root", NULL, NULL, 1,
	    "critical,keyCertSign,cRLSign", NULL, -day * 3650, day * 365);
	leaf = mkcert(lk, "test-expired-leaf", root, rk, 0,
	    "critical,digitalSignature", "codeSigning", -day * 3000,
	    -day * 2900);
	snprintf(root_pem, sizeof(root_pem), "%s/old-root.pem",
	    test_tmpdir());
	snprintf(chain, sizeof(chain), "%s/expired.pem", test_tmpdir());
	snprintf(leaf_key, sizeof(leaf_key), "%s/expired.key", test_tmpdir());
	write_certs(root_pem, root, NULL);
	write_certs(chain, leaf, NULL);
	write_key(leaf_key, lk);
	ca = trust_ca(root_pem);
	dir = strdup(make_model("rt-expired"));

	TEST_START("certificate: an expired leaf signs today: refused now");
	ASSERT_STRING_CONTAINS(msig_trust_describe(ca), "valid now)");
	ASSERT_INT_EQ(sign_dir(dir, leaf_key, chain, 0, NULL, err,
	    sizeof(err)), 0);
	ASSERT_INT_EQ(vdir(dir, ca, NULL, &res, err, sizeof(err)),
	    AG_ERR_SIGNATURE);
	ASSERT_STRING_CONTAINS(err, "certificate has expired");
	ASSERT_STRING_CONTAINS(err, "model.cert_validity = now");
	TEST_DONE();

	TEST_START("certificate: an expired leaf, at signing time: a note");
	msig_trust_set_validity(ca, MSIG_VALID_SIGNING_TIME);
	ASSERT_STRING_CONTAINS(msig_trust_describe(ca),
	    "valid at signing time)");
	ASSERT_INT_EQ(vdir(dir, ca, NULL, &res, err, sizeof(err)), 0);
	ASSERT_STRING_CONTAINS(res.mr_cert_note, "not valid now");
	ASSERT_STRING_CONTAINS(res.mr_cert_note, "expired");
	TEST_DONE();

	TEST_START("validity: keys ignore it; names");
	{
		struct msig_trust *k = trust_key(okey_pub);

		msig_trust_set_validity(k, MSIG_VALID_SIGNING_TIME);
		ASSERT_STRING_CONTAINS(msig_trust_describe(k), "key sha256:");
		msig_trust_free(k);
	}
	ASSERT_STRING_EQ(msig_validity_name(MSIG_VALID_NOW), "now");
	ASSERT_STRING_EQ(msig_validity_name(MSIG_VALID_SIGNING_TIME),
	    "signing-time");
	TEST_DONE();

	free(dir);
	msig_trust_free(ca);
	X509_free(root);
	X509_free(leaf);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(lk);
}

/* The certificate method, with a chain made here. */
static void
test_cert_roundtrip(const char *okey_pub, const char *oca)
{
	char p[1024], root_pem[1024], chain[1024], leaf_key[1024];
	char err[ERRLEN];
	EVP_PKEY *rk, *ik, *lk;
	X509 *root, *inter, *leaf, *bad, *old;
	struct msig_trust *ca, *okey, *other_ca;
	struct msig_result res;
	struct target t;
	const char *d;
	char *dir, *s;
	unsigned char *der;
	json_t *b, *certs;
	int n;

	if ((rk = EVP_EC_gen("P-384")) == NULL ||
	    (ik = EVP_EC_gen("P-256")) == NULL ||
	    (lk = EVP_EC_gen("P-256")) == NULL)
		exit(99);
	root = mkcert(rk, "test-root", NULL, NULL, 1,
	    "critical,keyCertSign,cRLSign", NULL, -86400, 86400 * 365);
	inter = mkcert(ik, "test-intermediate", root, rk, 1,
	    "critical,keyCertSign,cRLSign", NULL, -3600, 86400 * 300);
	leaf = mkcert(lk, "test-leaf", inter, ik, 0,
	    "critical,digitalSignature", "codeSigning", -60, 86400);
	bad = mkcert(lk, "test-leaf-no-signing", inter, ik, 0,
	    "critical,keyEncipherment", NULL, -60, 86400);
	/* Issued (notBefore) before its issuer existed. */
	old = mkcert(lk, "test-leaf-too-old", inter, ik, 0,
	    "critical,digitalSignature", NULL, -86400 * 2, 86400);

	snprintf(root_pem, sizeof(root_pem), "%s/root.pem", test_tmpdir());
	snprintf(chain, sizeof(chain), "%s/chain.pem", test_tmpdir());
	snprintf(leaf_key, sizeof(leaf_key), "%s/leaf.key", test_tmpdir());
	write_certs(root_pem, root, NULL);
	write_certs(chain, leaf, inter);
	write_key(leaf_key, lk);
	ca = trust_ca(root_pem);
	okey = trust_key(okey_pub);
	other_ca = trust_ca(oca);

	d = make_model("rt-cert");
	dir = strdup(d);
	TEST_START("sign with a chain, verify with the root CA");
	ASSERT_INT_EQ(sign_dir(dir, leaf_key, chain, 0, NULL, err,
	    sizeof(err)), 0);
	ASSERT_INT_EQ(vdir(dir, ca, NULL, &res, err, sizeof(err)), 0);
	ASSERT_INT_EQ(res.mr_method, MSIG_METHOD_CERT);
	ASSERT_STRING_CONTAINS(res.mr_signer, "CN=test-leaf sha256:");
	TEST_DONE();

	memset(&t, 0, sizeof(t));
	t.t_label = "round trip (certificate)";
	t.t_dir = dir;
	t.t_trust = ca;
	t.t_other = other_ca;
	t.t_wrong_method = okey;
	t.t_file = "weights";
	t.t_other_field = "x509CertificateChain: does not lead to a trusted "
	    "CA";
	tamper_all(&t);
	/* Signed with leaf + intermediate, verified with the root. */
	test_every_file("certificate chain", leaf_key, chain, 0, ca,
	    other_ca, okey, t.t_other_field);

	TEST_START("certificate: a leaf that may not sign");
	write_certs(chain, bad, inter);
	ASSERT_INT_EQ(sign_dir(dir, leaf_key, chain, 0, NULL, err,
	    sizeof(err)), AG_ERR_INVALID_ARG);
	ASSERT_STRING_CONTAINS(err, "may not sign");
	/* The same key in a bundle: swap the leaf after signing. */
	d = copy_dir(dir, "rt-cert-bad");
	b = bundle_load(d);
	certs = json_object_get(json_object_get(json_object_get(b,
	    "verificationMaterial"), "x509CertificateChain"), "certificates");
	der = NULL;
	if ((n = i2d_X509(bad, &der)) <= 0)
		exit(99);
	s = b64enc(der, (size_t)n);
	OPENSSL_free(der);
	json_object_set_new(json_array_get(certs, 0), "rawBytes",
	    json_string(s));
	free(s);
	bundle_save(d, b);
	json_decref(b);
	ASSERT_INT_EQ(vdir(d, ca, NULL, &res, err, sizeof(err)),
	    AG_ERR_SIGNATURE);
	ASSERT_STRING_CONTAINS(err, "certificates[0]: the leaf may not sign");
	TEST_DONE();

	TEST_START("certificate: a leaf older than its issuer");
	write_certs(chain, old, inter);
	ASSERT_INT_EQ(sign_dir(dir, leaf_key, chain, 0, NULL, err,
	    sizeof(err)), 0);
	/* At signing time (the leaf's notBefore) the issuer did not exist. */
	msig_trust_set_validity(ca, MSIG_VALID_SIGNING_TIME);
	ASSERT_INT_EQ(vdir(dir, ca, NULL, &res, err, sizeof(err)),
	    AG_ERR_SIGNATURE);
	ASSERT_STRING_CONTAINS(err, "not yet valid");
	/* Now, every certificate of the chain is within its dates. */
	msig_trust_set_validity(ca, MSIG_VALID_NOW);
	ASSERT_INT_EQ(vdir(dir, ca, NULL, &res, err, sizeof(err)), 0);
	TEST_DONE();

	test_expired(okey_pub);

	TEST_START("certificate: the leaf must hold the signing key");
	write_certs(chain, inter, NULL);
	ASSERT_INT_EQ(sign_dir(dir, leaf_key, chain, 0, NULL, err,
	    sizeof(err)), AG_ERR_INVALID_ARG);
	ASSERT_STRING_CONTAINS(err, "not the signing key's");
	TEST_DONE();

	TEST_START("certificate: a leaf trusted directly (partial chain)");
	write_certs(chain, leaf, inter);
	ASSERT_INT_EQ(sign_dir(dir, leaf_key, chain, 0, NULL, err,
	    sizeof(err)), 0);
	snprintf(p, sizeof(p), "%s/inter.pem", test_tmpdir());
	write_certs(p, inter, NULL);
	msig_trust_free(ca);
	ca = trust_ca(p);
	ASSERT_INT_EQ(vdir(dir, ca, NULL, &res, err, sizeof(err)), 0);
	TEST_DONE();

	free(dir);
	msig_trust_free(ca);
	msig_trust_free(okey);
	msig_trust_free(other_ca);
	X509_free(root);
	X509_free(inter);
	X509_free(leaf);
	X509_free(bad);
	X509_free(old);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(ik);
	EVP_PKEY_free(lk);
}

/* ==== 3. malformed bundles ============================================= */

struct mal {
	const char	*m_name;
	const char	*m_bundle;	/* raw model.sig text, or NULL */
	const char	*m_payload;	/* else: a statement, signed */
	int		 m_code;
	const char	*m_want;
};

/* A statement around resources (JSON text) and serialization. */
#define STMT(subject, ser, res)						\
	"{\"_type\": \"https://in-toto.io/Statement/v1\", \"subject\": ["\
	subject "], \"predicateType\": \"https://model_signing/signature/"\
	"v1.0\", \"predicate\": {\"serialization\": " ser		\
	", \"resources\": " res "}}"
#define SUBJ(d)	"{\"name\": \"m\", \"digest\": {\"sha256\": \"" d "\"}}"
#define Z32	"00000000000000000000000000000000"
#define Z64	Z32 Z32
#define SER	"{\"method\": \"files\", \"hash_type\": \"sha256\", " \
	"\"allow_symlinks\": false}"
#define RES(n, d) "{\"name\": \"" n "\", \"algorithm\": \"sha256\", " \
	"\"digest\": \"" d "\"}"

static const struct mal mals[] = {
	{ "not JSON", "this is not JSON", NULL, AG_ERR_JSON,
	    "model.sig: not JSON" },
	/* jansson said "wrong arguments (line -1)" (issue 18, item 12). */
	{ "empty file", "", NULL, AG_ERR_FORMAT,
	    "model.sig: empty file (0 bytes): not a signature" },
	{ "a JSON array", "[]", NULL, AG_ERR_FORMAT, "expected a JSON object" },
	{ "duplicate keys", "{\"mediaType\": \"a\", \"mediaType\": \"b\"}",
	    NULL, AG_ERR_JSON, "not JSON" },
	{ "wrong mediaType",
	    "{\"mediaType\": \"application/vnd.dev.sigstore.bundle+json;"
	    "version=0.1\"}", NULL, AG_ERR_UNSUPPORTED, "mediaType: " },
	{ "unknown top-level key", "{\"mediaType\": \"x\", \"extra\": 1}",
	    NULL, AG_ERR_UNEXPECTED, "unknown key \"extra\"" },
	{ "messageSignature bundle", "{\"messageSignature\": {}}", NULL,
	    AG_ERR_UNSUPPORTED, "only DSSE envelopes" },
	{ "missing dsseEnvelope", "@nodsse", NULL, AG_ERR_MISSING,
	    "dsseEnvelope: missing" },
	{ "two signatures", "@twosigs", NULL, AG_ERR_UNSUPPORTED,
	    "dsseEnvelope.signatures: 2 signatures, expected one" },
	{ "no signature", "@nosigs", NULL, AG_ERR_MISSING,
	    "0 signatures" },
	{ "bad base64 payload", "@b64chars", NULL, AG_ERR_FORMAT,
	    "dsseEnvelope.payload: not canonical base64" },
	{ "bad base64 padding", "@b64pad", NULL, AG_ERR_FORMAT,
	    "dsseEnvelope.payload: not canonical base64" },
	{ "non-canonical base64 sig", "@b64bits", NULL, AG_ERR_FORMAT,
	    "dsseEnvelope.signatures[0].sig: not canonical base64" },
	{ "wrong payloadType", "@ptype", NULL, AG_ERR_UNSUPPORTED,
	    "dsseEnvelope.payloadType: \"text/plain\"" },
	{ "keyid a number", "@keyid", NULL, AG_ERR_FORMAT,
	    "signatures[0].keyid: expected a string or null" },
	{ "no verification material", "@novm", NULL, AG_ERR_MISSING,
	    "verificationMaterial: neither publicKey nor" },
	{ "a hint that is not the key", "@hint", NULL, AG_ERR_SIGNATURE,
	    "verificationMaterial.publicKey.hint: " },
	{ "tlogEntries not an array", "@tlog", NULL, AG_ERR_FORMAT,
	    "verificationMaterial.tlogEntries: expected an array" },
	{ "keyless certificate", "@keyless", NULL, AG_ERR_UNSUPPORTED,
	    "Sigstore (keyless)" },
	{ "payload not JSON", NULL, "not a statement", AG_ERR_JSON,
	    "dsseEnvelope.payload: not JSON" },
	{ "payload empty", NULL, "", AG_ERR_FORMAT,
	    "dsseEnvelope.payload: empty: no statement" },
	/*
	 * An empty model directory, signed (the subject digest is SHA-256
	 * of nothing): a signature over no file proves nothing.
	 */
	{ "no resources (an empty model)", NULL, STMT(SUBJ(
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
	    SER, "[]"), AG_ERR_SIGNATURE,
	    "predicate.resources: empty: the signature covers no file" },
	{ "wrong _type", NULL, "{\"_type\": \"x\"}", AG_ERR_UNSUPPORTED,
	    "dsseEnvelope.payload: _type: \"x\"" },
	{ "wrong predicateType", NULL,
	    "{\"_type\": \"https://in-toto.io/Statement/v1\", "
	    "\"predicateType\": \"https://slsa.dev/provenance/v1\"}",
	    AG_ERR_UNSUPPORTED, "predicateType: \"https://slsa.dev" },
	{ "two subjects", NULL, STMT(SUBJ(Z64) ", " SUBJ(Z64), SER, "[]"),
	    AG_ERR_UNEXPECTED, "subject: 2 subjects, expected one" },
	{ "subject digest not hex", NULL, STMT(SUBJ("xyz"), SER, "[]"),
	    AG_ERR_FORMAT, "subject[0].digest.sha256: not 64 hex digits" },
	{ "resource digest not hex", NULL, STMT(SUBJ(Z64), SER,
	    "[" RES("a", Z64) ", " RES("b", "0g" Z64) "]"), AG_ERR_FORMAT,
	    "dsseEnvelope.payload: predicate.resources[1].digest: not 64 hex "
	    "digits" },
	{ "resources not an array", NULL, STMT(SUBJ(Z64), SER, "{}"),
	    AG_ERR_FORMAT, "predicate.resources: expected an array" },
	{ "a resource name escaping", NULL, STMT(SUBJ(Z64), SER,
	    "[" RES("../etc/passwd", Z64) "]"), AG_ERR_FORMAT,
	    "predicate.resources[0].name: \"../etc/passwd\" is not a "
	    "relative path" },
	{ "unknown method", NULL, STMT(SUBJ(Z64), "{\"method\": \"model\", "
	    "\"hash_type\": \"sha256\", \"allow_symlinks\": false}", "[]"),
	    AG_ERR_UNSUPPORTED, "serialization.method: \"model\"" },
	{ "unknown hash_type", NULL, STMT(SUBJ(Z64), "{\"method\": \"files\", "
	    "\"hash_type\": \"blake2\", \"allow_symlinks\": false}", "[]"),
	    AG_ERR_UNSUPPORTED, "serialization.hash_type: \"blake2\"" },
	{ "allow_symlinks a string", NULL, STMT(SUBJ(Z64), "{\"method\": "
	    "\"files\", \"hash_type\": \"sha256\", \"allow_symlinks\": "
	    "\"no\"}", "[]"), AG_ERR_FORMAT,
	    "serialization.allow_symlinks: expected a boolean" },
	{ "shards without shard_size", NULL, STMT(SUBJ(Z64), "{\"method\": "
	    "\"shards\", \"hash_type\": \"sha256\", \"allow_symlinks\": "
	    "false}", "[]"), AG_ERR_MISSING, "shard_size: missing" },
	{ "a bad shard name", NULL, STMT(SUBJ(Z64), "{\"method\": "
	    "\"shards\", \"hash_type\": \"sha256\", \"allow_symlinks\": "
	    "false, \"shard_size\": 8.0}", "[{\"name\": \"a:0:9\", "
	    "\"algorithm\": \"sha256-sharded-8\", \"digest\": \"" Z64 "\"}]"),
	    AG_ERR_FORMAT, "\"a:0:9\" is not PATH:START:END" },
	{ "a wrong algorithm", NULL, STMT(SUBJ(Z64), SER, "[{\"name\": \"a\", "
	    "\"algorithm\": \"md5\", \"digest\": \"" Z64 "\"}]"),
	    AG_ERR_UNSUPPORTED, "predicate.resources[0].algorithm: \"md5\"" },
	{ "ignore_paths escaping", NULL, STMT(SUBJ(Z64), "{\"method\": "
	    "\"files\", \"hash_type\": \"sha256\", \"allow_symlinks\": false, "
	    "\"ignore_paths\": [\"/etc\"]}", "[]"), AG_ERR_FORMAT,
	    "ignore_paths[0]: not a relative path" },
	/* SHA-256 of two zero digests: only the duplicate is wrong. */
	{ "a resource listed twice", NULL, STMT(SUBJ(
	    "f5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a92759fb4b"),
	    SER, "[" RES("a", Z64) ", " RES("a", Z64) "]"), AG_ERR_DUPLICATE,
	    "listed twice" },
	{ "subject digest not the resources'", NULL, STMT(SUBJ(Z64), SER,
	    "[" RES("a", Z64) "]"), AG_ERR_SIGNATURE,
	    "subject[0].digest.sha256: does not match the resources' digests" },
	/*
	 * The right digest of one zero resource but for its last byte: a
	 * comparison of fewer than 32 bytes passes it.
	 */
	{ "subject digest wrong in its last byte", NULL, STMT(SUBJ(
	    "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2924"),
	    SER, "[" RES("a", Z64) "]"), AG_ERR_SIGNATURE,
	    "subject[0].digest.sha256: does not match the resources' digests" },
};

/* model.sig variants of a valid bundle b, by tag. */
static void
mal_edit(json_t *b, const char *tag)
{
	json_t *env = env_of(b), *vm = json_object_get(b,
	    "verificationMaterial");

	if (strcmp(tag, "@nodsse") == 0)
		json_object_del(b, "dsseEnvelope");
	else if (strcmp(tag, "@twosigs") == 0)
		json_array_append(json_object_get(env, "signatures"),
		    sig0_of(b));
	else if (strcmp(tag, "@nosigs") == 0)
		json_array_clear(json_object_get(env, "signatures"));
	else if (strcmp(tag, "@b64chars") == 0)
		json_object_set_new(env, "payload", json_string("ab!d"));
	else if (strcmp(tag, "@b64pad") == 0)
		json_object_set_new(env, "payload", json_string("QQ="));
	else if (strcmp(tag, "@b64bits") == 0)
		json_object_set_new(sig0_of(b), "sig", json_string("QR=="));
	else if (strcmp(tag, "@ptype") == 0)
		json_object_set_new(env, "payloadType",
		    json_string("text/plain"));
	else if (strcmp(tag, "@keyid") == 0)
		json_object_set_new(sig0_of(b), "keyid", json_integer(7));
	else if (strcmp(tag, "@novm") == 0)
		json_object_del(vm, "publicKey");
	else if (strcmp(tag, "@hint") == 0)
		json_object_set_new(json_object_get(vm, "publicKey"), "hint",
		    json_string(Z64));
	else if (strcmp(tag, "@tlog") == 0)
		json_object_set_new(vm, "tlogEntries", json_string("none"));
	else if (strcmp(tag, "@keyless") == 0)
		json_object_set_new(vm, "certificate", json_pack("{s:s}",
		    "rawBytes", "AAAA"));
}

static void
test_malformed(void)
{
	char priv[1024], pub[1024], err[ERRLEN], p[1200];
	struct msig_trust *key;
	const struct mal *m;
	const char *d;
	char *dir;
	json_t *b;
	size_t i;
	int r;

	new_key("mal", priv, pub, sizeof(priv));
	key = trust_key(pub);
	d = make_model("mal");
	dir = strdup(d);
	if (sign_dir(dir, priv, NULL, 0, NULL, err, sizeof(err)) != 0)
		exit(99);
	test_path(p, sizeof(p), dir, MSIG_FILE);

	for (i = 0; i < sizeof(mals) / sizeof(mals[0]); i++) {
		m = &mals[i];
		d = copy_dir(dir, "mal-copy");
		if (m->m_payload != NULL) {
			b = bundle_load(d);
			resign(b, m->m_payload, priv);
			bundle_save(d, b);
			json_decref(b);
		} else if (m->m_bundle[0] == '@') {
			b = bundle_load(d);
			mal_edit(b, m->m_bundle);
			bundle_save(d, b);
			json_decref(b);
		} else {
			test_path(p, sizeof(p), d, MSIG_FILE);
			put_bytes(p, m->m_bundle, strlen(m->m_bundle));
		}
		r = vdir(d, key, NULL, NULL, err, sizeof(err));
		expect(m->m_name, r, m->m_code, err, m->m_want);
	}

	TEST_START("no model.sig");
	d = copy_dir(dir, "mal-copy");
	test_path(p, sizeof(p), d, MSIG_FILE);
	unlink(p);
	ASSERT_INT_EQ(vdir(d, key, NULL, NULL, err, sizeof(err)),
	    AG_ERR_NOT_FOUND);
	ASSERT_STRING_CONTAINS(err, "model.sig: missing");
	TEST_DONE();

	TEST_START("model.sig a symbolic link");
	test_path(p, sizeof(p), d, MSIG_FILE);
	{
		char q[1200];

		test_path(q, sizeof(q), dir, MSIG_FILE);
		if (symlink(q, p) != 0)
			exit(99);
	}
	ASSERT_INT_EQ(vdir(d, key, NULL, NULL, err, sizeof(err)),
	    AG_ERR_UNEXPECTED);
	ASSERT_STRING_CONTAINS(err, "model.sig: a symbolic link");
	TEST_DONE();

	free(dir);
	msig_trust_free(key);
}

/*
 * Every byte of a valid bundle XORed with 0x01 and 0x80, and every
 * truncation: never a crash (the ASan build watches), never a success.
 */
static void
test_mutations(void)
{
	char priv[1024], pub[1024], err[ERRLEN], p[1200], *orig, *buf;
	struct msig_trust *key;
	size_t n, i, bad = 0, tried = 0;
	const char *d;
	int r, k;

	new_key("mut", priv, pub, sizeof(priv));
	key = trust_key(pub);
	d = make_model("mut");
	if (sign_dir(d, priv, NULL, 0, NULL, err, sizeof(err)) != 0)
		exit(99);
	test_path(p, sizeof(p), d, MSIG_FILE);
	orig = slurp(p, &n);
	buf = test_xmalloc(n + 1);
	for (i = 0; i < n; i++) {
		for (k = 0; k < 3; k++) {
			memcpy(buf, orig, n);
			if (k == 2) {
				put_bytes(p, buf, i);	/* truncated */
			} else {
				buf[i] ^= k ? 0x80 : 0x01;
				put_bytes(p, buf, n);
			}
			r = vdir(d, key, NULL, NULL, err, sizeof(err));
			tried++;
			/* Flipping a JSON-insignificant byte could still
			 * verify only if it changed nothing that is signed:
			 * there is no such byte in a compact bundle, except
			 * the case of a letter in a key name we ignore. */
			if (r == 0)
				bad++;
			if (r != 0 && err[0] == '\0')
				bad++;
		}
	}
	put_bytes(p, orig, n);
	TEST_START("mutations of a valid bundle: each a clean refusal");
	ASSERT_INT_GT(tried, 1000);
	ASSERT_INT_EQ(bad, 0);
	ASSERT_INT_EQ(vdir(d, key, NULL, NULL, err, sizeof(err)), 0);
	TEST_DONE();
	free(orig);
	free(buf);
	msig_trust_free(key);
}

/* ==== misc ============================================================= */

static void
test_trust(void)
{
	char p[1200], err[ERRLEN];
	struct msig_trust *t = NULL;
	EVP_PKEY *rsa;
	FILE *fp;

	TEST_START("trust: a missing file, not a key, an RSA key");
	ASSERT_INT_EQ(msig_trust_key("/nonexistent/k.pub", &t, err,
	    sizeof(err)), AG_ERR_NOT_FOUND);
	snprintf(p, sizeof(p), "%s/junk.pub", test_tmpdir());
	put_bytes(p, "junk\n", 5);
	ASSERT_INT_EQ(msig_trust_key(p, &t, err, sizeof(err)), AG_ERR_FORMAT);
	ASSERT_STRING_CONTAINS(err, "junk.pub");
	ASSERT_INT_EQ(msig_trust_ca(p, &t, err, sizeof(err)), AG_ERR_FORMAT);
	if ((rsa = EVP_RSA_gen(2048)) == NULL)
		exit(99);
	snprintf(p, sizeof(p), "%s/rsa.pub", test_tmpdir());
	if ((fp = fopen(p, "w")) == NULL || PEM_write_PUBKEY(fp, rsa) != 1 ||
	    fclose(fp) != 0)
		exit(99);
	EVP_PKEY_free(rsa);
	ASSERT_INT_EQ(msig_trust_key(p, &t, err, sizeof(err)),
	    AG_ERR_UNSUPPORTED);
	ASSERT_PTR_EQ(t, NULL);
	TEST_DONE();
}

void
tests(void)
{
	char okey_priv[1024], okey_pub[1024], oca[1024];
	const char *v;

	test_plan(219);

	msig_init();
	msig_init();	/* twice is fine */
	new_key("other", okey_priv, okey_pub, sizeof(okey_priv));
	new_ca("other-ca", oca, sizeof(oca));
	test_trust();
	if ((v = test_vectors_dir()) == NULL)
		test_skip_part("no-shared-vectors", NVECTOR_CASES,
		    "vectors: ../shared/vectors/model-signing not found");
	else
		test_vectors(v, okey_pub, oca);
	test_roundtrip(v, okey_pub, oca);
	test_cert_roundtrip(okey_pub, oca);
	test_malformed();
	test_mutations();
}
