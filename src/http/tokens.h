/* SPDX-License-Identifier: ISC */
/*
 * tokens.h: aiguardd's bearer tokens and client-certificate identities
 * (the token file), and the scopes they grant.
 *
 * A token is 32 random bytes, written "agt_" and 43 base64url characters
 * (TOKEN_TEXT_LEN).  The file stores only its SHA-256, never the token.
 * Lookup hashes the presented token and compares it with every bearer
 * entry in constant time (no early exit, no branch on the bytes), so the
 * time taken says nothing about which entry or which byte differed.
 *
 * File format (text, UTF-8, one entry per line; '#' starts a comment line;
 * blank lines are ignored; fields separated by one or more blanks):
 *
 *	# aiguard tokens
 *	token NAME sha256=HEX64 scopes=LIST [rate=R] [burst=B]
 *	      [image_rate=R] [image_burst=B] [max_inflight=N] created=UNIX
 *	cert NAME scopes=LIST [...same limits...] created=UNIX
 *
 * (one line each).  "token" is a bearer token; "cert" is the identity of a
 * TLS client certificate whose subject CN is NAME, verified against
 * server.tls_client_ca (no secret in the file).  NAME: 1..63 bytes of
 * [A-Za-z0-9._-], unique in the file.  LIST: comma-separated scopes,
 * health, metadata, infer, metrics, admin, or infer:MODEL (infer on that
 * model only; may repeat, up to TOKEN_MODELS_MAX).  Limits are decimal
 * numbers (rate, burst: requests per second and the bucket; image_rate,
 * image_burst: images per second; max_inflight: requests at once); an
 * absent limit is 0, meaning the server's default ([limits] in
 * aiguardd.conf).  Unknown keys, duplicate keys or names, a bad number,
 * a line over TOKENS_LINE_MAX bytes, a NUL byte or more than TOKENS_MAX
 * entries are errors naming the file and the line.
 */
#ifndef AG_HTTP_TOKENS_H
#define AG_HTTP_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#define TOKEN_NAME_MAX		64	/* bytes, with the NUL */
#define TOKEN_MODEL_MAX		64	/* bytes of a model name, NUL too */
#define TOKEN_MODELS_MAX	8	/* infer:MODEL scopes per entry */
#define TOKEN_TEXT_LEN		47	/* "agt_" + 43 base64url characters */
#define TOKEN_PREFIX		"agt_"
#define TOKENS_MAX		4096	/* entries in a file */
#define TOKENS_LINE_MAX		1024	/* bytes per line, without its end */
#define TOKENS_FILE_MAX		(4 * 1024 * 1024)
#define TOKENS_LIMIT_MAX	1000000	/* the largest limit value */

/* Endpoint categories, as scope bits. */
#define TOKEN_SCOPE_HEALTH	0x01u	/* /v2/health/live, /v2/health/ready */
#define TOKEN_SCOPE_METADATA	0x02u	/* /v2, model metadata and ready */
#define TOKEN_SCOPE_INFER	0x04u	/* infer, classify */
#define TOKEN_SCOPE_METRICS	0x08u	/* /metrics */
#define TOKEN_SCOPE_ADMIN	0x10u	/* whatever changes state */
#define TOKEN_SCOPE_ALL		0x1fu

enum token_kind {
	TOKEN_BEARER = 1,
	TOKEN_CERT = 2,
};

struct token_entry {
	char		te_name[TOKEN_NAME_MAX];
	enum token_kind	te_kind;
	uint8_t		te_hash[32];	/* SHA-256 of the token (bearer) */
	uint32_t	te_scopes;	/* TOKEN_SCOPE_* */
	/* infer only on these models (infer:MODEL); 0: any (with
	 * TOKEN_SCOPE_INFER).  infer:MODEL alone does not set
	 * TOKEN_SCOPE_INFER. */
	int		te_nmodels;
	char		te_models[TOKEN_MODELS_MAX][TOKEN_MODEL_MAX];
	double		te_rate, te_burst;		/* 0: default */
	double		te_image_rate, te_image_burst;	/* 0: default */
	int		te_max_inflight;		/* 0: default */
	int64_t		te_created;	/* seconds since the epoch */
};

struct token_set {
	struct token_entry	*ts_e;
	size_t			 ts_n;
};

/*
 * Parses a token file's bytes (what names it in messages: "FILE").
 * 0 and *out (free with tokens_free()), or AG_ERR_FORMAT / AG_ERR_TOO_LARGE
 * / AG_ERR_ALLOC with err "FILE:LINE: what is wrong".  An empty file is a
 * valid empty set.
 */
int	tokens_parse(const char *buf, size_t len, const char *what,
	    struct token_set **out, char *err, size_t errlen);
/*
 * Reads and parses the file at path (a regular file, at most
 * TOKENS_FILE_MAX bytes, opened with ag_open_regular()).
 */
int	tokens_read(const char *path, struct token_set **out, char *err,
	    size_t errlen);
void	tokens_free(struct token_set *ts);

/*
 * The bearer entry whose hash is SHA-256(token[0..len)), or NULL.  Every
 * bearer entry is compared, in constant time, whatever the input.
 */
const struct token_entry *tokens_find(const struct token_set *ts,
	    const char *token, size_t len);
/* The cert entry named cn, or NULL. */
const struct token_entry *tokens_find_cert(const struct token_set *ts,
	    const char *cn);
/*
 * 1 when te grants scope (one TOKEN_SCOPE_* bit); for TOKEN_SCOPE_INFER
 * with model != NULL, also when te has infer:model.
 */
int	tokens_allows(const struct token_entry *te, uint32_t scope,
	    const char *model);

/*
 * Parses a scope list ("infer,metadata", "infer:resnet18,health") into
 * te's te_scopes, te_models and te_nmodels.  0 or AG_ERR_INVALID_ARG with
 * err naming the bad scope.
 */
int	tokens_scopes_parse(const char *list, struct token_entry *te,
	    char *err, size_t errlen);
/* te's scopes as a list in the order above ("metadata,infer:a"). */
void	tokens_scopes_format(const struct token_entry *te, char *buf,
	    size_t len);
/* Category bit -> "health", "metadata", ...; NULL for anything else. */
const char *tokens_category_name(uint32_t scope);

/*
 * Parses a limit as the file writes it: decimal digits, optionally a '.'
 * and 1..6 more digits (no sign, exponent, hex or blanks), at most
 * TOKENS_LIMIT_MAX; with integer set, digits only.  The same grammar for
 * aiguard token's options.  0 or AG_ERR_NUMERIC (*out untouched).
 */
int	tokens_limit_parse(const char *s, int integer, double *out);

/* 1 when name is a valid entry name. */
int	tokens_name_ok(const char *name);

/*
 * A new token: TOKEN_TEXT_LEN characters and a NUL into buf (at least
 * TOKEN_TEXT_LEN + 1 bytes), from getrandom(2).  0 or AG_ERR_SYSTEM.
 */
int	tokens_generate(char *buf, size_t len);
/* SHA-256 of token[0..len). */
void	tokens_hash(const char *token, size_t len, uint8_t out[32]);
/*
 * Hashes once, so that the hash's library initialises (and opens whatever
 * it opens) before a process confines itself.  0 or AG_ERR_INTERNAL.
 */
int	tokens_init(void);

/* The file's text for ts, entry by entry; *buf is malloc'd. */
int	tokens_format(const struct token_set *ts, char **buf, size_t *len);

#endif /* AG_HTTP_TOKENS_H */
