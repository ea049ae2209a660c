/* SPDX-License-Identifier: ISC */
/*
 * msig.c: OpenSSF Model Signing, setup and verify.  See msig.h.  This
 * file owns libcrypto's setup (msig_init(), the digests fetched once,
 * libcrypto's error text) and msig_verify(), which runs the steps below
 * in order; each step lives in the file that owns its job:
 *   msig_enc.c     hex and strict base64, untrusted strings in messages
 *   msig_trust.c   keys and certificates, the trust store (msig_trust_*)
 *   msig_json.c    strict JSON checks that name the field at fault
 *   msig_bundle.c  the Sigstore bundle: material, DSSE envelope, signature
 *   msig_stmt.c    the in-toto statement, its subject and resources
 *   msig_dir.c     the directory against the resources, ignore paths
 *   msig_sign.c    signing and key generation
 * What they share is declared in msig_impl.h.
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
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/ag_err.h"
#include "mfiles.h"
#include "msig.h"
#include "msig_impl.h"

/* ==== setup ============================================================ */

EVP_MD *msig_sha256;		/* the other msig_*.c hash with it too */
EVP_MD *msig_sha384, *msig_sha512;

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
	if ((r = msig_bundle_parse(&jc, f->mf_data, f->mf_len, trust,
	    &mb)) != 0 || (r = msig_bundle_check_sig(&jc, &mb)) != 0)
		goto out;
	jc.j_pre = "dsseEnvelope.payload: ";
	if ((r = msig_stmt_parse(&jc, mb.b_payload, mb.b_payload_len,
	    &st)) != 0 || (r = msig_check_dir(mf, &st, ignore, nignore, &nfiles,
	    err, errlen)) != 0)
		goto out;
	if (res != NULL)
		result_fill(res, &mb, &st, nfiles);
 out:
	msig_stmt_cleanup(&st);
	msig_bundle_cleanup(&mb);
	return r;
}
