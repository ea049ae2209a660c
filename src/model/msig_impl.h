/* SPDX-License-Identifier: ISC */
/*
 * msig_impl.h: what msig.c (setup, trust, verify) and msig_sign.c (sign,
 * keygen) share.  Private: only src/model/msig*.c include it; everyone
 * else uses msig.h.  Everything declared here is defined in msig.c.
 */
#ifndef AG_MSIG_IMPL_H
#define AG_MSIG_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

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

/* SHA-256, fetched once by msig_init() (NULL before, or if it failed). */
extern EVP_MD *msig_sha256;

/* One resource of the statement, or one that we computed. */
struct mres {
	char		*r_name;	/* "PATH" or "PATH:START:END" */
	size_t		 r_plen;	/* bytes of PATH in r_name */
	uint64_t	 r_start, r_end;	/* shards: bytes [start, end) */
	uint8_t		 r_digest[32];
};

/* The names a check or a signature leaves out. */
struct mignore {
	const char	**i_names;
	size_t		  i_n;
};

/* Small helpers. */
/* Lower-case hex of p[0..n) into out (2 * n + 1 bytes). */
void	msig_hex_encode(const uint8_t *p, size_t n, char *out);
/* New NUL-terminated base64 of p[0..n) (caller frees), or NULL. */
char	*msig_b64_encode(const uint8_t *p, size_t n);
/* SHA-256 of p[0..n) into out; 0 or AG_ERR_INTERNAL. */
int	msig_sha256_digest(const void *p, size_t n, uint8_t out[32]);
/* libcrypto's last error into buf (MSIG_OSSL_WHY_LEN); clears the queue. */
const char *msig_ossl_why(char *buf);
/* Reads a key or certificate file (at most max bytes) into a new BIO. */
int	msig_read_small(const char *path, size_t max, BIO **out, char *err,
	    size_t errlen);

/* Keys and certificates. */
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

/* Statements, envelopes, directories. */
/* Byte-wise order of a[0..an) and b[0..bn), a prefix first: strcmp's. */
int	msig_pathn_cmp(const char *a, size_t an, const char *b, size_t bn);
/* The DSSE pre-authentication encoding of p as type: a new buffer. */
uint8_t	*msig_dsse_pae(const char *type, const uint8_t *p, size_t plen,
	    size_t *outlen);
/* ig: the default ignores, a[0..na) and b[0..nb); free ig->i_names. */
int	msig_mignore_build(struct mignore *ig, const char *const *a,
	    size_t na, const char *const *b, size_t nb);
/* Checks the caller's ignore names: relative, as mfiles.h defines them. */
int	msig_check_names(const char *const *names, size_t n, char *err,
	    size_t errlen);

#endif /* AG_MSIG_IMPL_H */
