/* SPDX-License-Identifier: ISC */
/*
 * msig.h: OpenSSF Model Signing, verify and sign.
 *
 * The format is the one sigstore/model-transparency writes: model.sig in
 * the model directory is a Sigstore bundle v0.3 (JSON) holding a DSSE
 * envelope whose payload is an in-toto statement v1:
 *   subject[0]     name = the model's name, digest.sha256 = SHA-256 over
 *                  the resources' raw digests concatenated in name order
 *   predicateType  https://model_signing/signature/v1.0
 *   predicate      serialization {method "files" | "shards", hash_type,
 *                  allow_symlinks, ignore_paths?, shard_size?} and
 *                  resources [{name, algorithm, digest (hex)}]
 * The signature is ECDSA (P-256/SHA-256, P-384/SHA-384, P-521/SHA-512),
 * DER-encoded, over the DSSE pre-authentication encoding
 *   "DSSEv1" SP len(type) SP type SP len(payload) SP payload.
 * Two methods: a public key (verificationMaterial.publicKey: a hint, the
 * SHA-256 hex of the key's PEM text, or the PEM itself as rawBytes), and
 * an X.509 chain (x509CertificateChain, leaf first) that must lead to a
 * configured CA, the leaf allowed to sign (key usage digitalSignature or
 * extended key usage codeSigning).  The chain is checked now by default,
 * or at the leaf's notBefore as the reference does (msig_validity).
 *
 * Verification is all or nothing: the directory's files (minus
 * model.sig, the reference's default ignores .git .gitattributes .github
 * .gitignore, the statement's ignore_paths and the caller's) must be
 * exactly the resources, by name and digest.  Every check that fails
 * names the file or field at fault.  Built on OpenSSL's libcrypto and
 * jansson.
 */
#ifndef AG_MSIG_H
#define AG_MSIG_H

#include <stddef.h>
#include <stdint.h>

#define MSIG_FILE		"model.sig"
#define MSIG_BUNDLE_MAX		(4 * 1024 * 1024)
#define MSIG_MEDIA_TYPE		"application/vnd.dev.sigstore.bundle.v0.3+json"
#define MSIG_PREDICATE_TYPE	"https://model_signing/signature/v1.0"

struct mfiles;

enum msig_method {
	MSIG_METHOD_KEY = 1,	/* ECDSA public key */
	MSIG_METHOD_CERT = 2,	/* X.509 chain to a CA */
};

/* What we trust: one public key, or a CA bundle.  Opaque. */
struct msig_trust;

/*
 * When a certificate chain must be valid (model.cert_validity).  The
 * bundle carries no trusted time, so "now" is the only time we know; the
 * reference tool checks at the leaf's notBefore (the time it was issued),
 * which keeps a signature made with a short-lived certificate valid after
 * it expires, but also accepts a new signature by the key of a
 * certificate that expired long ago.
 */
enum msig_validity {
	MSIG_VALID_NOW = 0,		/* the default */
	MSIG_VALID_SIGNING_TIME = 1,	/* at the leaf's notBefore */
};

/*
 * Reads a PEM public key (ECDSA P-256, P-384 or P-521) from path.  Text
 * around the PEM block is tolerated.  Returns 0 or an AG_ERR_* code with a
 * message naming path.
 */
int	msig_trust_key(const char *path, struct msig_trust **out, char *err,
	    size_t errlen);
/* Reads one or more PEM certificates from path: each is a trust anchor. */
int	msig_trust_ca(const char *path, struct msig_trust **out, char *err,
	    size_t errlen);
void	msig_trust_free(struct msig_trust *t);
/*
 * Sets when a chain must be valid (MSIG_VALID_NOW unless set); only the
 * certificate method has a chain, a key ignores it.
 */
void	msig_trust_set_validity(struct msig_trust *t, enum msig_validity v);
/* "now" or "signing-time", the names model.cert_validity takes. */
const char *msig_validity_name(enum msig_validity v);
enum msig_method msig_trust_method(const struct msig_trust *t);
/*
 * "key sha256:HEX" (the hint) or "ca PATH (N certificates, valid now)"
 * ("valid at signing time" for MSIG_VALID_SIGNING_TIME).
 */
const char *msig_trust_describe(const struct msig_trust *t);

struct msig_result {
	enum msig_method mr_method;
	char	mr_model[256];		/* the statement's subject name */
	char	mr_digest[80];		/* "sha256:" + subject digest hex */
	/* key: "key sha256:HINT"; certificate: the leaf's subject, then
	 * " sha256:" and the leaf's fingerprint */
	char	mr_signer[512];
	char	mr_method_name[8];	/* "files" or "shards" */
	size_t	mr_files;		/* files covered */
	/* certificate, MSIG_VALID_SIGNING_TIME: "" when the chain is valid
	 * now too, else why not (e.g. "certificate has expired"), so that
	 * the caller can say so */
	char	mr_cert_note[192];
};

/*
 * Verifies the model directory mf against trust: reads model.sig, checks
 * the bundle, the signature, the statement, then reads and hashes every
 * file (mfiles_read(), so that the loader gets the bytes hashed here) and
 * compares.  ignore[0..nignore) are more names to skip (relative).  On
 * success marks each covered file verified (mfiles_set_verified()) and
 * fills *res (may be NULL).  Returns 0, or AG_ERR_NOT_FOUND when there is
 * no model.sig, AG_ERR_SIGNATURE when a signature, digest or chain does
 * not verify or a file is missing, extra or different, another AG_ERR_*
 * for a malformed bundle; the message names the file or field.  An empty
 * model.sig, or a statement that lists no resources (an empty model
 * directory), is refused: a signature over nothing proves nothing.
 */
int	msig_verify(struct mfiles *mf, const struct msig_trust *trust,
	    const char *const *ignore, size_t nignore, struct msig_result *res,
	    char *err, size_t errlen);

struct msig_sign_opts {
	const char	*model_name;	/* subject name; NULL: directory's
					 * last path component */
	const char *const *ignore;	/* more names to skip and record */
	size_t		 nignore;
	int		 allow_symlinks;
	uint64_t	 shard_size;	/* 0: "files"; else "shards" */
	const char	*chain_path;	/* NULL: the key method (a hint);
					 * else a PEM chain, leaf first,
					 * whose leaf holds the key: the
					 * certificate method */
	/*
	 * With allow_symlinks: called for each signed file reached through
	 * a symbolic link that leads outside the model directory (name
	 * relative, target its real path), so that the caller can warn, as
	 * the specification asks.  May be NULL.
	 */
	void		(*link_outside)(void *arg, const char *name,
			    const char *target);
	void		*link_arg;
};

/*
 * Signs the model directory mf with the PEM private key (ECDSA) at
 * key_path: hashes the files (the same walk and defaults as
 * msig_verify()) and returns a new bundle in the same format in
 * *out and *outlen (caller frees), ready to be written as model.sig.
 * The bundle names the key by its hint.  A directory with nothing to
 * sign (empty, or every file ignored) is refused (AG_ERR_NOT_FOUND).
 */
int	msig_sign(struct mfiles *mf, const char *key_path,
	    const struct msig_sign_opts *opts, char **out, size_t *outlen,
	    char *err, size_t errlen);

/*
 * Creates a new ECDSA P-256 key pair: the private key (PKCS#8 PEM) at
 * priv_path, mode 0600, never over an existing file; the public key
 * (SubjectPublicKeyInfo PEM) at pub_path, mode 0644.  Either both exist
 * afterwards or neither.
 */
int	msig_keygen(const char *priv_path, const char *pub_path, char *err,
	    size_t errlen);

/*
 * Sets up libcrypto before a sandbox closes the file system: no
 * configuration file is read later, and the algorithms used are fetched.
 * Call once per process, early; safe to call again.
 */
void	msig_init(void);

#endif /* AG_MSIG_H */
