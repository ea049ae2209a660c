/* SPDX-License-Identifier: ISC */
/*
 * msig_sign.c: OpenSSF Model Signing, sign and keygen.  See msig.h.
 *
 * The signer walks the directory with the verifier's defaults and ignore
 * rules and writes the bundle in the reference's layout, resources in the
 * reference's order, so that what we sign both we and the reference
 * verify.  The helpers it shares with the verifier (msig.c and the
 * msig_*.c files it calls) are declared in msig_impl.h.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/ag_err.h"
#include "mfiles.h"
#include "msig.h"
#include "msig_impl.h"

/* ==== sign ============================================================= */

/* Refuses encrypted keys rather than prompting on a terminal. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static int
sign_load_key(const char *path, EVP_PKEY **out, char *err, size_t errlen)
{
	char why[MSIG_OSSL_WHY_LEN];
	const char *d;
	BIO *b;
	int r;

	*out = NULL;
	if ((r = msig_read_small(path, MSIG_KEY_MAX, &b, err, errlen)) != 0)
		return r;
	*out = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL);
	BIO_free(b);
	if (*out == NULL)
		return ag_errf(err, errlen, AG_ERR_FORMAT, "%s: not an "
		    "unencrypted PEM private key: %s", path,
		    msig_ossl_why(why));
	if (msig_key_md(*out, &d) == NULL) {
		EVP_PKEY_free(*out);
		*out = NULL;
		return ag_errf(err, errlen, AG_ERR_UNSUPPORTED, "%s: not an "
		    "ECDSA P-256, P-384 or P-521 key", path);
	}
	return 0;
}

/* A chain to put in the bundle: its leaf must hold the signing key. */
static int
sign_load_chain(const char *path, EVP_PKEY *pk, STACK_OF(X509) **out,
    char *err, size_t errlen)
{
	int r;

	if ((r = msig_pem_certs(path, MSIG_MAX_CHAIN, out, err, errlen)) != 0)
		return r;
	if (EVP_PKEY_eq(X509_get0_pubkey(sk_X509_value(*out, 0)), pk) != 1) {
		ERR_clear_error();
		sk_X509_pop_free(*out, X509_free);
		*out = NULL;
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG, "%s: the first "
		    "certificate is not the signing key's", path);
	}
	if (!msig_cert_may_sign(sk_X509_value(*out, 0))) {
		sk_X509_pop_free(*out, X509_free);
		*out = NULL;
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG, "%s: the first "
		    "certificate may not sign (key usage digitalSignature or "
		    "extended key usage codeSigning)", path);
	}
	return 0;
}

/*
 * The reference's order of resources (Python PurePosixPath ordering):
 * path component by component, then shard start.  It differs from
 * strcmp order when a name continues with a byte below '/' ("a-b" vs
 * "a/b").
 */
static int
ref_path_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	const char *ea, *eb;
	size_t la, lb;
	int c;

	for (;;) {
		ea = memchr(a, '/', an);
		eb = memchr(b, '/', bn);
		la = ea != NULL ? (size_t)(ea - a) : an;
		lb = eb != NULL ? (size_t)(eb - b) : bn;
		if ((c = msig_pathn_cmp(a, la, b, lb)) != 0)
			return c;
		if (ea == NULL || eb == NULL)
			return (ea != NULL) - (eb != NULL);
		a = ea + 1;
		an -= la + 1;
		b = eb + 1;
		bn -= lb + 1;
	}
}

static int
mres_cmp_ref(const void *a, const void *b)
{
	const struct mres *x = a, *y = b;
	int c;

	if ((c = ref_path_cmp(x->r_name, x->r_plen, y->r_name, y->r_plen)) != 0)
		return c;
	return x->r_start < y->r_start ? -1 : x->r_start > y->r_start;
}

/* What a signature is made of, while it is made. */
struct msign {
	struct mfiles			*g_mf;
	const struct msig_sign_opts	*g_opts;
	struct mres			*g_res;
	size_t				 g_nres, g_cap;
	char				*g_err;
	size_t				 g_errlen;
};

static int
msign_add(struct msign *g, const char *name, uint64_t start, uint64_t end,
    const uint8_t *p)
{
	struct mres *nr, *r;
	char buf[MFILES_NAME_MAX + 48];

	if (g->g_nres >= MSIG_MAX_RESOURCES)
		return ag_errf(g->g_err, g->g_errlen, AG_ERR_TOO_LARGE, "%s: "
		    "more than %d resources (use a larger shard size)",
		    mfiles_path(g->g_mf), MSIG_MAX_RESOURCES);
	if (g->g_nres == g->g_cap) {
		g->g_cap = g->g_cap ? 2 * g->g_cap : 64;
		if ((nr = reallocarray(g->g_res, g->g_cap,
		    sizeof(*nr))) == NULL)
			return ag_errf(g->g_err, g->g_errlen, AG_ERR_ALLOC,
			    "out of memory");
		g->g_res = nr;
	}
	r = &g->g_res[g->g_nres];
	memset(r, 0, sizeof(*r));
	r->r_plen = strlen(name);
	r->r_start = start;
	r->r_end = end;
	if (g->g_opts->shard_size != 0)
		snprintf(buf, sizeof(buf), "%s:%llu:%llu", name,
		    (unsigned long long)start, (unsigned long long)end);
	else
		snprintf(buf, sizeof(buf), "%s", name);
	if ((r->r_name = strdup(buf)) == NULL)
		return ag_errf(g->g_err, g->g_errlen, AG_ERR_ALLOC,
		    "out of memory");
	g->g_nres++;
	if (msig_sha256_digest(p, (size_t)(end - start), r->r_digest) != 0)
		return ag_errf(g->g_err, g->g_errlen, AG_ERR_INTERNAL,
		    "SHA-256 failed");
	return 0;
}

/*
 * A file reached through a symbolic link: does it lie outside the model
 * directory?  Then the caller hears of it.  The specification allows such
 * links when asked for, and asks signers to warn: whoever can write the
 * target changes the model, and the verifier follows the link again.  By
 * path (realpath), not by descriptor: this is advice, not a check.
 */
static void
msign_link(const struct msign *g, const char *name)
{
	char root[PATH_MAX], path[PATH_MAX], real[PATH_MAX];
	const char *target = real;
	size_t n;

	if (g->g_opts->link_outside == NULL)
		return;
	if (realpath(mfiles_path(g->g_mf), root) == NULL ||
	    (size_t)snprintf(path, sizeof(path), "%s/%s", root, name) >=
	    sizeof(path) || realpath(path, real) == NULL)
		target = "(cannot be resolved)";
	else {
		n = strlen(root);
		if (strncmp(real, root, n) == 0 && (real[n] == '/' ||
		    (n == 1 && root[0] == '/')))
			return;
	}
	g->g_opts->link_outside(g->g_opts->link_arg, name, target);
}

/* One file's resources: itself, or its shards (none when empty). */
static int
msign_file(struct msign *g, const char *name)
{
	uint64_t ss = g->g_opts->shard_size, start;
	const struct mfile *f;
	int r;

	if ((r = mfiles_read(g->g_mf, name, g->g_opts->allow_symlinks, &f,
	    g->g_err, g->g_errlen)) != 0)
		return r;
	if (f->mf_via_link)
		msign_link(g, name);
	if (ss == 0)
		return msign_add(g, name, 0, f->mf_len, f->mf_data);
	if (strchr(name, ':') != NULL)
		return ag_errf(g->g_err, g->g_errlen, AG_ERR_UNSUPPORTED,
		    "%s/%s: a ':' in the name cannot be signed by shards",
		    mfiles_path(g->g_mf), name);
	for (start = 0; start < f->mf_len; start += ss)
		if ((r = msign_add(g, name, start, f->mf_len - start < ss ?
		    f->mf_len : start + ss, f->mf_data + start)) != 0)
			return r;
	return 0;
}

static void
msign_cleanup(struct msign *g)
{
	size_t i;

	for (i = 0; i < g->g_nres; i++)
		free(g->g_res[i].r_name);
	free(g->g_res);
}

/* The subject's name: given, or the directory's last component. */
static int
sign_model_name(const struct mfiles *mf, const char *given, char *buf,
    size_t len)
{
	const char *p = mfiles_path(mf), *s;
	size_t n, i;

	if (given != NULL) {
		n = strlen(given);
		s = given;
	} else {
		for (n = strlen(p); n > 1 && p[n - 1] == '/'; n--)
			;
		for (i = n; i > 0 && p[i - 1] != '/'; i--)
			;
		s = p + i;
		n -= i;
		if (n == 0 || (n == 1 && s[0] == '.') ||
		    (n == 2 && s[0] == '.' && s[1] == '.')) {
			s = "model";
			n = 5;
		}
	}
	if (n == 0 || n > MSIG_MODEL_NAME_MAX || n >= len)
		return AG_ERR_INVALID_ARG;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return AG_ERR_INVALID_ARG;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}

static int
str_cmp_p(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ignore_paths as recorded: the defaults and the caller's, sorted, once. */
static json_t *
sign_ignore_json(const struct mignore *ig)
{
	const char **v;
	json_t *a;
	size_t i;

	if ((v = calloc(ig->i_n + 1, sizeof(*v))) == NULL)
		return NULL;
	memcpy(v, ig->i_names, ig->i_n * sizeof(*v));
	qsort(v, ig->i_n, sizeof(*v), str_cmp_p);
	if ((a = json_array()) != NULL)
		for (i = 0; i < ig->i_n; i++)
			if ((i == 0 || strcmp(v[i], v[i - 1]) != 0) &&
			    json_array_append_new(a, json_string(v[i])) != 0) {
				json_decref(a);
				a = NULL;
				break;
			}
	free(v);
	return a;
}

static json_t *
sign_serialization(const struct msig_sign_opts *o, const struct mignore *ig)
{
	json_t *s, *ip;

	if ((ip = sign_ignore_json(ig)) == NULL)
		return NULL;
	s = json_pack("{s:s, s:s, s:b}", "method", o->shard_size ? "shards" :
	    "files", "hash_type", "sha256", "allow_symlinks",
	    o->allow_symlinks ? 1 : 0);
	if (s == NULL || (o->shard_size != 0 && json_object_set_new(s,
	    "shard_size", json_integer((json_int_t)o->shard_size)) != 0) ||
	    json_object_set_new(s, "ignore_paths", ip) != 0) {
		json_decref(s);
		return NULL;
	}
	return s;
}

/* The in-toto statement over g's resources (sorted, reference order). */
static json_t *
sign_statement(const struct msign *g, const char *name,
    const struct mignore *ig)
{
	char hex[65], alg[64];
	json_t *res, *ser, *st, *e;
	uint8_t d[32];
	EVP_MD_CTX *mc;
	size_t i;
	int bad;

	if ((mc = EVP_MD_CTX_new()) == NULL)
		return NULL;
	bad = EVP_DigestInit_ex(mc, msig_sha256, NULL) != 1;
	for (i = 0; !bad && i < g->g_nres; i++)
		bad = EVP_DigestUpdate(mc, g->g_res[i].r_digest, 32) != 1;
	bad = bad || EVP_DigestFinal_ex(mc, d, NULL) != 1;
	EVP_MD_CTX_free(mc);
	if (bad || (res = json_array()) == NULL)
		return NULL;
	if (g->g_opts->shard_size)
		snprintf(alg, sizeof(alg), "sha256-sharded-%llu",
		    (unsigned long long)g->g_opts->shard_size);
	else
		snprintf(alg, sizeof(alg), "sha256");
	for (i = 0; i < g->g_nres; i++) {
		msig_hex_encode(g->g_res[i].r_digest, 32, hex);
		/* json_pack fails on a name that is not UTF-8. */
		if ((e = json_pack("{s:s, s:s, s:s}", "name",
		    g->g_res[i].r_name, "algorithm", alg, "digest", hex)) ==
		    NULL || json_array_append_new(res, e) != 0) {
			json_decref(res);
			return NULL;
		}
	}
	msig_hex_encode(d, sizeof(d), hex);
	if ((ser = sign_serialization(g->g_opts, ig)) == NULL) {
		json_decref(res);
		return NULL;
	}
	st = json_pack("{s:s, s:[{s:s, s:{s:s}}], s:s, s:{s:o, s:o}}",
	    "_type", MSIG_STATEMENT_TYPE, "subject", "name", name, "digest",
	    "sha256", hex, "predicateType", MSIG_PREDICATE_TYPE, "predicate",
	    "serialization", ser, "resources", res);
	return st;
}

/* ECDSA (DER) over the DSSE PAE of payload; *sig is new. */
static int
sign_pae(EVP_PKEY *pk, const char *payload, size_t plen, uint8_t **sig,
    size_t *siglen)
{
	const char *d;
	const EVP_MD *md = msig_key_md(pk, &d);
	EVP_MD_CTX *mc = NULL;
	uint8_t *pae, *s = NULL;
	size_t n = 0, len;
	int r = AG_ERR_INTERNAL;

	*sig = NULL;
	if ((pae = msig_dsse_pae(MSIG_PAYLOAD_TYPE, (const uint8_t *)payload,
	    plen, &len)) == NULL)
		return AG_ERR_ALLOC;
	if ((mc = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(mc, NULL, md, NULL, pk) != 1 ||
	    EVP_DigestSign(mc, NULL, &n, pae, len) != 1 ||
	    (s = malloc(n)) == NULL ||
	    EVP_DigestSign(mc, s, &n, pae, len) != 1)
		goto out;
	*sig = s;
	*siglen = n;
	s = NULL;
	r = 0;
 out:
	ERR_clear_error();
	free(s);
	free(pae);
	EVP_MD_CTX_free(mc);
	return r;
}

/* verificationMaterial: the key's hint, or the chain (DER, leaf first). */
static json_t *
sign_material(EVP_PKEY *pk, STACK_OF(X509) *chain)
{
	unsigned char *der = NULL;
	json_t *certs, *vm = NULL;
	char hint[65], *b64;
	int i, n;

	if (chain == NULL) {
		if (msig_key_hint(pk, hint) != 0)
			return NULL;
		return json_pack("{s:{s:s}, s:[]}", "publicKey", "hint", hint,
		    "tlogEntries");
	}
	if ((certs = json_array()) == NULL)
		return NULL;
	for (i = 0; i < sk_X509_num(chain); i++) {
		der = NULL;
		if ((n = i2d_X509(sk_X509_value(chain, i), &der)) <= 0 ||
		    (b64 = msig_b64_encode(der, (size_t)n)) == NULL) {
			OPENSSL_free(der);
			json_decref(certs);
			return NULL;
		}
		OPENSSL_free(der);
		if (json_array_append_new(certs, json_pack("{s:s}", "rawBytes",
		    b64)) != 0) {
			free(b64);
			json_decref(certs);
			return NULL;
		}
		free(b64);
	}
	vm = json_pack("{s:{s:o}, s:[]}", "x509CertificateChain",
	    "certificates", certs, "tlogEntries");
	return vm;
}

/* The bundle text around the statement text payload. */
static int
sign_bundle(EVP_PKEY *pk, STACK_OF(X509) *chain, const char *payload,
    char **out, size_t *outlen)
{
	char *p64 = NULL, *s64 = NULL;
	uint8_t *sig = NULL;
	size_t siglen = 0;
	json_t *vm, *b = NULL;
	int r;

	*out = NULL;
	if ((r = sign_pae(pk, payload, strlen(payload), &sig, &siglen)) != 0)
		return r;
	r = AG_ERR_ALLOC;
	if ((p64 = msig_b64_encode((const uint8_t *)payload,
	    strlen(payload))) == NULL ||
	    (s64 = msig_b64_encode(sig, siglen)) == NULL ||
	    (vm = sign_material(pk, chain)) == NULL)
		goto out;
	b = json_pack("{s:s, s:o, s:{s:s, s:s, s:[{s:s, s:s}]}}",
	    "mediaType", MSIG_MEDIA_TYPE, "verificationMaterial", vm,
	    "dsseEnvelope", "payload", p64, "payloadType", MSIG_PAYLOAD_TYPE,
	    "signatures", "sig", s64, "keyid", "");
	/* Compact, no newline: byte for byte the reference's layout. */
	if (b != NULL && (*out = json_dumps(b, JSON_COMPACT)) != NULL) {
		*outlen = strlen(*out);
		r = 0;
	}
 out:
	json_decref(b);
	free(p64);
	free(s64);
	free(sig);
	return r;
}

int
msig_sign(struct mfiles *mf, const char *key_path,
    const struct msig_sign_opts *opts, char **out, size_t *outlen,
    char *err, size_t errlen)
{
	STACK_OF(X509) *chain = NULL;
	struct mignore ig = { NULL, 0 };
	struct msign g;
	EVP_PKEY *pk = NULL;
	char name[MSIG_MODEL_NAME_MAX + 1], **names = NULL, *payload = NULL;
	json_t *st = NULL;
	size_t i, n = 0;
	int r;

	*out = NULL;
	*outlen = 0;
	memset(&g, 0, sizeof(g));
	msig_init();
	if (opts->shard_size > MSIG_SHARD_MAX)
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG, "shard size "
		    "%llu: more than 2^53",
		    (unsigned long long)opts->shard_size);
	if (sign_model_name(mf, opts->model_name, name, sizeof(name)) != 0)
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG, "model name: "
		    "1 to %d bytes, no control characters",
		    MSIG_MODEL_NAME_MAX);
	if ((r = msig_check_names(opts->ignore, opts->nignore, err,
	    errlen)) != 0 ||
	    (r = sign_load_key(key_path, &pk, err, errlen)) != 0)
		return r;
	if (opts->chain_path != NULL && (r = sign_load_chain(opts->chain_path,
	    pk, &chain, err, errlen)) != 0)
		goto out;
	if ((r = msig_mignore_build(&ig, opts->ignore, opts->nignore, NULL,
	    0)) != 0) {
		r = ag_errf(err, errlen, r, "out of memory");
		goto out;
	}
	if ((r = mfiles_walk(mf, ig.i_names, ig.i_n, opts->allow_symlinks,
	    &names, &n, err, errlen)) != 0)
		goto out;
	g.g_mf = mf;
	g.g_opts = opts;
	g.g_err = err;
	g.g_errlen = errlen;
	for (i = 0; i < n; i++)
		if ((r = msign_file(&g, names[i])) != 0)
			goto out;
	/* The specification: a model has at least one file (msig.h). */
	if (g.g_nres == 0) {
		r = ag_errf(err, errlen, AG_ERR_NOT_FOUND, "%s: nothing to "
		    "sign: no file%s (an empty directory, or every file "
		    "ignored)", mfiles_path(mf), n == 0 ? "" : " with content");
		goto out;
	}
	if (g.g_nres > 1)
		qsort(g.g_res, g.g_nres, sizeof(*g.g_res), mres_cmp_ref);
	if ((st = sign_statement(&g, name, &ig)) == NULL ||
	    (payload = json_dumps(st, JSON_INDENT(2))) == NULL) {
		r = ag_errf(err, errlen, AG_ERR_FORMAT, "%s: cannot encode the "
		    "statement (a file name that is not UTF-8?)",
		    mfiles_path(mf));
		goto out;
	}
	if ((r = sign_bundle(pk, chain, payload, out, outlen)) != 0) {
		r = ag_errf(err, errlen, r, "%s: signing failed", key_path);
		goto out;
	}
	if (*outlen > MSIG_BUNDLE_MAX) {
		free(*out);
		*out = NULL;
		*outlen = 0;
		r = ag_errf(err, errlen, AG_ERR_TOO_LARGE, "%s: the signature "
		    "would exceed %d bytes (use a larger shard size)",
		    mfiles_path(mf), MSIG_BUNDLE_MAX);
	}
 out:
	free(payload);
	json_decref(st);
	msign_cleanup(&g);
	mfiles_names_free(names, n);
	free(ig.i_names);
	sk_X509_pop_free(chain, X509_free);
	EVP_PKEY_free(pk);
	return r;
}

/* ==== keygen =========================================================== */

/* Writes a new file (never over an existing one) and syncs it. */
static int
write_new(const char *path, mode_t mode, const void *buf, size_t len,
    char *err, size_t errlen)
{
	const uint8_t *p = buf;
	ssize_t n;
	int fd, e;

	errno = 0;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, mode)) == -1)
		return ag_errf(err, errlen, errno == EEXIST ?
		    AG_ERR_UNEXPECTED : AG_ERR_SYSTEM, "%s: %s", path,
		    errno == EEXIST ? "exists; not overwritten" :
		    strerror(errno));
	while (len > 0) {
		if ((n = write(fd, p, len)) == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		p += n;
		len -= (size_t)n;
	}
	if (len != 0 || fsync(fd) == -1) {
		e = len != 0 && errno == 0 ? EIO : errno;
		(void)close(fd);
		(void)unlink(path);
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "%s: write: %s",
		    path, strerror(e));
	}
	if (close(fd) == -1) {
		e = errno;
		(void)unlink(path);
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "%s: close: %s",
		    path, strerror(e));
	}
	return 0;
}

/* PEM text of pk's private (PKCS#8) or public part, into a new BIO. */
static BIO *
pem_of(EVP_PKEY *pk, int private)
{
	BIO *b;
	int ok;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	ok = private ? PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL,
	    NULL) : PEM_write_bio_PUBKEY(b, pk);
	if (ok != 1) {
		BIO_free(b);
		return NULL;
	}
	return b;
}

int
msig_keygen(const char *priv_path, const char *pub_path, char *err,
    size_t errlen)
{
	char why[MSIG_OSSL_WHY_LEN];
	EVP_PKEY *pk;
	BIO *priv = NULL, *pub = NULL;
	char *pp, *qp;
	long pn, qn;
	int r;

	msig_init();
	if ((pk = EVP_EC_gen("P-256")) == NULL ||
	    (priv = pem_of(pk, 1)) == NULL || (pub = pem_of(pk, 0)) == NULL) {
		r = ag_errf(err, errlen, AG_ERR_INTERNAL, "key generation "
		    "failed: %s", msig_ossl_why(why));
		goto out;
	}
	pn = BIO_get_mem_data(priv, &pp);
	qn = BIO_get_mem_data(pub, &qp);
	if ((r = write_new(priv_path, 0600, pp, (size_t)pn, err,
	    errlen)) != 0)
		goto out;
	if ((r = write_new(pub_path, 0644, qp, (size_t)qn, err, errlen)) != 0)
		(void)unlink(priv_path);
 out:
	if (priv != NULL && BIO_get_mem_data(priv, &pp) > 0)
		OPENSSL_cleanse(pp, (size_t)BIO_get_mem_data(priv, &pp));
	BIO_free(priv);
	BIO_free(pub);
	EVP_PKEY_free(pk);
	return r;
}
