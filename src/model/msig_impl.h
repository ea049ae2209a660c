/* SPDX-License-Identifier: ISC */
/*
 * msig_impl.h: what the msig_*.c files share, the verifier's parts and
 * the signer (msig_sign.c).  Private: only src/model/msig*.c include it;
 * everyone else uses msig.h.  Each group below is defined in the file it
 * names:
 *   msig.c         setup: libcrypto, the digests, its error text
 *   msig_enc.c     hex, strict base64, untrusted strings in messages
 *   msig_trust.c   key and certificate files, struct msig_trust
 *   msig_json.c    strict JSON checks (struct jctx)
 *   msig_stmt.c    the in-toto statement (struct mres, struct mstmt)
 *   msig_bundle.c  the Sigstore bundle, DSSE (struct mbundle)
 *   msig_dir.c     the directory against the statement (struct mignore)
 */
#ifndef AG_MSIG_IMPL_H
#define AG_MSIG_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "msig.h"

#define MSIG_PAYLOAD_TYPE	"application/vnd.in-toto+json"
#define MSIG_STATEMENT_TYPE	"https://in-toto.io/Statement/v1"
#define MSIG_KEY_MAX		(64 * 1024)	/* a PEM key file */
#define MSIG_MAX_CHAIN		8	/* leaf + intermediates */
#define MSIG_MAX_RESOURCES	65536
#define MSIG_MODEL_NAME_MAX	255
/* Shard sizes travel as JSON numbers; the reference may read them as
 * doubles, which are exact up to 2^53. */
#define MSIG_SHARD_MAX		(1ULL << 53)
#define MSIG_OSSL_WHY_LEN	160	/* msig_ossl_why()'s buffer */

/* ==== msig.c: setup ==================================================== */

/* SHA-256, -384, -512, fetched once by msig_init() (NULL before, or if it
 * failed). */
extern EVP_MD *msig_sha256, *msig_sha384, *msig_sha512;
/* SHA-256 of p[0..n) into out; 0 or AG_ERR_INTERNAL. */
int	msig_sha256_digest(const void *p, size_t n, uint8_t out[32]);
/* libcrypto's last error into buf (MSIG_OSSL_WHY_LEN); clears the queue. */
const char *msig_ossl_why(char *buf);

/* ==== msig_enc.c: encodings ============================================ */

/* Lower-case hex of p[0..n) into out (2 * n + 1 bytes). */
void	msig_hex_encode(const uint8_t *p, size_t n, char *out);
/* Exactly 64 hex digits into out[32]; 0 or -1. */
int	msig_hex_decode32(const char *s, size_t len, uint8_t out[32]);
/* New NUL-terminated base64 of p[0..n) (caller frees), or NULL. */
char	*msig_b64_encode(const uint8_t *p, size_t n);
/* Strict (canonical) base64 of s[0..len) into a new *out; 0 or -1. */
int	msig_b64_decode(const char *s, size_t len, uint8_t **out,
	    size_t *outlen);
/* At most 60 bytes of s, printable ASCII only, into buf, for messages. */
const char *msig_safe_str(const char *s, char *buf, size_t len);

/* ==== msig_trust.c: keys, certificates, the trust store ================ */

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

/* Reads a key or certificate file (at most max bytes) into a new BIO. */
int	msig_read_small(const char *path, size_t max, BIO **out, char *err,
	    size_t errlen);
/* The digest for an ECDSA key's curve, or NULL; *details its Sigstore
 * name. */
const EVP_MD *msig_key_md(EVP_PKEY *pk, const char **details);
/* SHA-256 hex of the key's public PEM text: verificationMaterial's hint. */
int	msig_key_hint(EVP_PKEY *pk, char hint[65]);
/* Every PEM certificate in path (1 to max) into a new stack. */
int	msig_pem_certs(const char *path, size_t max, STACK_OF(X509) **out,
	    char *err, size_t errlen);
/* 1 when x's key usage or extended key usage allows it to sign, else 0. */
int	msig_cert_may_sign(X509 *x);

/* ==== msig_json.c: JSON, strictly ====================================== */

/* Where messages point: "DIR/model.sig: " and, inside the payload, a
 * second prefix "dsseEnvelope.payload: ". */
struct jctx {
	char		*j_err;
	size_t		 j_errlen;
	const char	*j_file;
	const char	*j_pre;
};

/* The message "FILE: PRE" + fmt into jc's buffer; returns r. */
int	msig_jc_err(const struct jctx *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));
/* o[key] of JSON type t (JSON_TRUE: either boolean), named where.key in
 * messages; *out NULL when absent and not required. */
int	msig_jc_get(const struct jctx *jc, json_t *o, const char *where,
	    const char *key, int t, int required, json_t **out);
/* o[key] as a string; *s NULL when absent and not required. */
int	msig_jc_str(const struct jctx *jc, json_t *o, const char *where,
	    const char *key, int required, const char **s);
/* o[key] must be the string want (else code). */
int	msig_jc_str_is(const struct jctx *jc, json_t *o, const char *where,
	    const char *key, const char *want, int code);
/* Refuses any key of o not in allowed[] (NULL-terminated). */
int	msig_jc_keys(const struct jctx *jc, json_t *o, const char *where,
	    const char *const *allowed);
/* o[key]: a base64 string, decoded into a new buffer. */
int	msig_jc_b64(const struct jctx *jc, json_t *o, const char *where,
	    const char *key, uint8_t **out, size_t *outlen);

/* ==== msig_stmt.c: the statement ======================================= */

/* One resource of the statement, or one that we computed. */
struct mres {
	char		*r_name;	/* "PATH" or "PATH:START:END" */
	size_t		 r_plen;	/* bytes of PATH in r_name */
	uint64_t	 r_start, r_end;	/* shards: bytes [start, end) */
	uint8_t		 r_digest[32];
};

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

/* Byte-wise order of a[0..an) and b[0..bn), a prefix first: strcmp's. */
int	msig_pathn_cmp(const char *a, size_t an, const char *b, size_t bn);
/* Parses the (authenticated) statement payload[0..len) into *st. */
int	msig_stmt_parse(const struct jctx *jc, const uint8_t *payload,
	    size_t len, struct mstmt *st);
void	msig_stmt_cleanup(struct mstmt *st);

/* ==== msig_bundle.c: the bundle ======================================== */

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

/* Parses data[0..len) and checks its material against t, into *mb. */
int	msig_bundle_parse(const struct jctx *jc, const uint8_t *data,
	    size_t len, const struct msig_trust *t, struct mbundle *mb);
/* The envelope's signature over the PAE of its payload. */
int	msig_bundle_check_sig(const struct jctx *jc, struct mbundle *mb);
void	msig_bundle_cleanup(struct mbundle *mb);
/* The DSSE pre-authentication encoding of p as type: a new buffer. */
uint8_t	*msig_dsse_pae(const char *type, const uint8_t *p, size_t plen,
	    size_t *outlen);

/* ==== msig_dir.c: the directory ======================================== */

/* The names a check or a signature leaves out. */
struct mignore {
	const char	**i_names;
	size_t		  i_n;
};

/* ig: the default ignores, a[0..na) and b[0..nb); free ig->i_names. */
int	msig_mignore_build(struct mignore *ig, const char *const *a,
	    size_t na, const char *const *b, size_t nb);
/* Checks the caller's ignore names: relative, as mfiles.h defines them. */
int	msig_check_names(const char *const *names, size_t n, char *err,
	    size_t errlen);
/*
 * Checks mf against st: exactly the resources, by name and digest, minus
 * the ignored names; marks each file verified, *nfiles how many.
 */
int	msig_check_dir(struct mfiles *mf, const struct mstmt *st,
	    const char *const *ignore, size_t nignore, size_t *nfiles,
	    char *err, size_t errlen);

#endif /* AG_MSIG_IMPL_H */
