/* SPDX-License-Identifier: ISC */
/*
 * access.h: who may call what, and how often: the front door's decision
 * for one request, apart from HTTP so that the unit tests reach it.
 *
 * Per request, in this order:
 *   1. a client certificate that was sent and refused: 401, on every
 *      endpoint (a credential that does not hold is never ignored);
 *   2. the client address's request bucket ([limits] ip_rate), for every
 *      category but health: 429;
 *   3. an open category (server.open; every category without a token
 *      file): allowed, anonymous;
 *   4. otherwise an identity: the bearer token of the Authorization
 *      header, else a verified client certificate named by a "cert"
 *      entry; none: 401 (missing or invalid); without the category's
 *      scope (infer: or infer on this model): 403;
 *   5. the identity's request bucket and its requests in flight: 429.
 * Images are charged when their count is known (access_images()): the
 * address's and the identity's image buckets, 429.
 *
 * The token set is replaced whole (SIGHUP) under a lock; each request
 * keeps a copy of its entry, so a reload never changes a request half-way.
 * Buckets and in-flight counts are keyed by the token's name and survive
 * a reload.  Messages name the token, never the token itself.
 */
#ifndef AG_HTTP_ACCESS_H
#define AG_HTTP_ACCESS_H

#include <stddef.h>
#include <stdint.h>

#include "tokens.h"

struct ag_config;
struct access;

/* The request as access sees it. */
struct access_req {
	uint32_t	 ar_category;	/* one TOKEN_SCOPE_* bit */
	const char	*ar_model;	/* infer: the model named, else NULL */
	const char	*ar_authorization; /* the header, or NULL */
	int		 ar_cert;	/* enum tls_peer (tls.h) */
	const char	*ar_cert_cn;	/* TLS_PEER_OK: the subject's CN */
	const char	*ar_cert_why;	/* TLS_PEER_BAD: why */
	const void	*ar_addr;	/* the client's address bytes */
	size_t		 ar_addrlen;	/* 0: unknown (no address limit) */
	double		 ar_now;	/* monotonic seconds */
	/*
	 * A token is required whatever server.open says, and without a
	 * token file the request is refused (403): what changes the models
	 * served (the model repository extension) always takes a credential.
	 */
	int		 ar_need_token;
};

/* What a request is allowed, and as whom. */
struct access_id {
	int		 ai_anonymous;	/* 1: no identity (open category) */
	int		 ai_inflight;	/* 1: counted in flight (leave it) */
	struct token_entry ai_entry;	/* the identity's, a copy */
	/* limits in force for it: the entry's, else the defaults */
	double		 ai_rate, ai_burst, ai_image_rate, ai_image_burst;
	int		 ai_max_inflight;
};

enum access_deny {
	ACCESS_OK = 0,
	ACCESS_MISSING,		/* 401: no credential */
	ACCESS_INVALID,		/* 401: a token that matches none */
	ACCESS_CERTIFICATE,	/* 401: a client certificate refused */
	ACCESS_FORBIDDEN,	/* 403: without the scope */
	ACCESS_RATE,		/* 429: requests per second */
	ACCESS_IMAGES,		/* 429: images per second */
	ACCESS_INFLIGHT,	/* 429: requests at once */
};

struct access_result {
	enum access_deny ar_deny;
	int		 ar_status;	/* 0 (allowed), 401, 403 or 429 */
	int		 ar_by_token;	/* 429: the identity's limit (else
					   the address's) */
	unsigned	 ar_retry_after; /* 429: seconds */
	char		 ar_msg[256];	/* for the JSON error */
};

/*
 * cf gives the categories open, whether tokens are configured at all, and
 * the [limits] defaults.  NULL when out of memory.
 */
struct access *access_new(const struct ag_config *cf);
void	access_free(struct access *ac);
/*
 * Replaces the token set (taken; the previous one is freed).  NULL: no
 * set loaded, which with a token file configured refuses every protected
 * category (401): the front door fails closed.
 */
void	access_set_tokens(struct access *ac, struct token_set *ts);
/* Entries in the set now. */
size_t	access_ntokens(struct access *ac);

/*
 * Decides for one request; on ACCESS_OK *id says as whom (and, when
 * id->ai_inflight, access_leave() must follow).
 */
void	access_check(struct access *ac, const struct access_req *rq,
	    struct access_id *id, struct access_result *res);
/* n images of a request allowed as id, from address addr: the buckets. */
void	access_images(struct access *ac, const struct access_id *id,
	    const void *addr, size_t addrlen, int n, double now,
	    struct access_result *res);
/* The request of id is over. */
void	access_leave(struct access *ac, struct access_id *id);

/* The category of a route kind (routes.h); TOKEN_SCOPE_ADMIN if unknown. */
uint32_t access_category(int route_kind);

#endif /* AG_HTTP_ACCESS_H */
