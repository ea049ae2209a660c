/* SPDX-License-Identifier: ISC */
/*
 * access.c: the front door's decision for one request.  See access.h.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/config.h"
#include "ratelimit.h"
#include "routes.h"
#include "tls.h"
#include "tokens.h"
#include "access.h"

_Static_assert(CONFIG_OPEN_HEALTH == TOKEN_SCOPE_HEALTH &&
    CONFIG_OPEN_METADATA == TOKEN_SCOPE_METADATA &&
    CONFIG_OPEN_INFER == TOKEN_SCOPE_INFER &&
    CONFIG_OPEN_METRICS == TOKEN_SCOPE_METRICS &&
    CONFIG_OPEN_ADMIN == TOKEN_SCOPE_ADMIN &&
    CONFIG_OPEN_ALL == TOKEN_SCOPE_ALL,
    "server.open and the token scopes must be the same bits");

/* Client addresses with a bucket at once (the least recently seen go). */
#define ACCESS_ADDRS	16384

struct access {
	pthread_mutex_t		 ac_mtx;		/* ac_ts */
	struct token_set	*ac_ts;
	int			 ac_tokens_on;		/* a file configured */
	uint32_t		 ac_open;		/* categories */
	double			 ac_ip_rate, ac_ip_burst;
	double			 ac_ip_image_rate, ac_ip_image_burst;
	double			 ac_tok_rate, ac_tok_burst;
	double			 ac_tok_image_rate, ac_tok_image_burst;
	int			 ac_tok_max_inflight;
	struct rl_table		*ac_ip_req, *ac_ip_img;
	struct rl_table		*ac_tok_req, *ac_tok_img;
	struct rl_inflight	*ac_tok_inflight;
};

uint32_t
access_category(int route_kind)
{
	switch ((enum route_kind)route_kind) {
	case ROUTE_LIVE:
	case ROUTE_READY:
		return TOKEN_SCOPE_HEALTH;
	case ROUTE_SERVER:
	case ROUTE_MODEL:
	case ROUTE_MODEL_READY:
		return TOKEN_SCOPE_METADATA;
	case ROUTE_INFER:
	case ROUTE_CLASSIFY:
		return TOKEN_SCOPE_INFER;
	case ROUTE_METRICS:
	case ROUTE_STATS:
		return TOKEN_SCOPE_METRICS;
	default:
		/* Whatever is not listed changes state, or may one day. */
		return TOKEN_SCOPE_ADMIN;
	}
}

struct access *
access_new(const struct ag_config *cf)
{
	struct access *ac;

	if ((ac = calloc(1, sizeof(*ac))) == NULL)
		return NULL;
	pthread_mutex_init(&ac->ac_mtx, NULL);
	ac->ac_tokens_on = cf->cf_tokens[0] != '\0';
	ac->ac_open = (uint32_t)config_open_categories(cf);
	ac->ac_ip_rate = cf->cf_ip_rate;
	ac->ac_ip_burst = cf->cf_ip_burst;
	ac->ac_ip_image_rate = cf->cf_ip_image_rate;
	ac->ac_ip_image_burst = cf->cf_ip_image_burst;
	ac->ac_tok_rate = cf->cf_token_rate;
	ac->ac_tok_burst = cf->cf_token_burst;
	ac->ac_tok_image_rate = cf->cf_token_image_rate;
	ac->ac_tok_image_burst = cf->cf_token_image_burst;
	ac->ac_tok_max_inflight = cf->cf_token_max_inflight;
	if ((ac->ac_ip_req = rl_table_new(ACCESS_ADDRS)) == NULL ||
	    (ac->ac_ip_img = rl_table_new(ACCESS_ADDRS)) == NULL ||
	    (ac->ac_tok_req = rl_table_new(TOKENS_MAX)) == NULL ||
	    (ac->ac_tok_img = rl_table_new(TOKENS_MAX)) == NULL ||
	    (ac->ac_tok_inflight = rl_inflight_new(TOKENS_MAX)) == NULL) {
		access_free(ac);
		return NULL;
	}
	return ac;
}

void
access_free(struct access *ac)
{
	if (ac == NULL)
		return;
	tokens_free(ac->ac_ts);
	rl_table_free(ac->ac_ip_req);
	rl_table_free(ac->ac_ip_img);
	rl_table_free(ac->ac_tok_req);
	rl_table_free(ac->ac_tok_img);
	rl_inflight_free(ac->ac_tok_inflight);
	pthread_mutex_destroy(&ac->ac_mtx);
	free(ac);
}

void
access_set_tokens(struct access *ac, struct token_set *ts)
{
	struct token_set *old;

	pthread_mutex_lock(&ac->ac_mtx);
	old = ac->ac_ts;
	ac->ac_ts = ts;
	pthread_mutex_unlock(&ac->ac_mtx);
	tokens_free(old);
}

size_t
access_ntokens(struct access *ac)
{
	size_t n;

	pthread_mutex_lock(&ac->ac_mtx);
	n = ac->ac_ts != NULL ? ac->ac_ts->ts_n : 0;
	pthread_mutex_unlock(&ac->ac_mtx);
	return n;
}

static void
access_deny(struct access_result *res, enum access_deny d, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

static void
access_deny(struct access_result *res, enum access_deny d, const char *fmt,
    ...)
{
	va_list ap;

	res->ar_deny = d;
	res->ar_status = d == ACCESS_FORBIDDEN ? 403 : d >= ACCESS_RATE ?
	    429 : 401;
	va_start(ap, fmt);
	(void)vsnprintf(res->ar_msg, sizeof(res->ar_msg), fmt, ap);
	va_end(ap);
}

/*
 * The token of an Authorization header: "Bearer" (any case), blanks, the
 * token, optional blanks.  1 and *tok, *len; 0 for another scheme or an
 * empty token.
 */
static int
access_bearer(const char *h, const char **tok, size_t *len)
{
	const char *p, *e;

	while (*h == ' ' || *h == '\t')
		h++;
	if (strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t'))
		return 0;
	for (p = h + 6; *p == ' ' || *p == '\t'; p++)
		;
	for (e = p; *e != '\0' && *e != ' ' && *e != '\t'; e++)
		;
	*tok = p;
	*len = (size_t)(e - p);
	for (; *e == ' ' || *e == '\t'; e++)
		;
	return *len > 0 && *e == '\0';
}

static const char *
access_cat_name(uint32_t cat)
{
	const char *n = tokens_category_name(cat);

	return n != NULL ? n : "admin";
}

/* The identity's limits: its own, else the server's defaults. */
static void
access_limits(const struct access *ac, struct access_id *id)
{
	const struct token_entry *te = &id->ai_entry;

	id->ai_rate = te->te_rate > 0 ? te->te_rate : ac->ac_tok_rate;
	id->ai_burst = te->te_burst > 0 ? te->te_burst : ac->ac_tok_burst;
	id->ai_image_rate = te->te_image_rate > 0 ? te->te_image_rate :
	    ac->ac_tok_image_rate;
	id->ai_image_burst = te->te_image_burst > 0 ? te->te_image_burst :
	    ac->ac_tok_image_burst;
	id->ai_max_inflight = te->te_max_inflight > 0 ?
	    te->te_max_inflight : ac->ac_tok_max_inflight;
}

void
access_check(struct access *ac, const struct access_req *rq,
    struct access_id *id, struct access_result *res)
{
	const struct token_entry *te = NULL;
	const char *tok = NULL;
	size_t toklen = 0, namelen;
	double wait;
	int have_auth, bearer = 0, loaded;

	memset(id, 0, sizeof(*id));
	memset(res, 0, sizeof(*res));
	id->ai_anonymous = 1;
	if (rq->ar_cert == TLS_PEER_BAD) {
		access_deny(res, ACCESS_CERTIFICATE, "client certificate "
		    "refused: %s", rq->ar_cert_why != NULL ? rq->ar_cert_why :
		    "does not verify");
		return;
	}
	if (rq->ar_category != TOKEN_SCOPE_HEALTH && rq->ar_addrlen > 0 &&
	    ac->ac_ip_rate > 0 && (wait = rl_table_take(ac->ac_ip_req, rq->ar_addr, rq->ar_addrlen,
	    ac->ac_ip_rate, ac->ac_ip_burst, 1, rq->ar_now)) > 0) {
		res->ar_retry_after = rl_retry_after(wait);
		access_deny(res, ACCESS_RATE, "too many requests from your "
		    "address (limits.ip_rate is %g per second); retry after "
		    "%u s", ac->ac_ip_rate, res->ar_retry_after);
		return;
	}
	if (rq->ar_need_token && !ac->ac_tokens_on) {
		access_deny(res, ACCESS_FORBIDDEN, "%s endpoints of this kind "
		    "take a token, and there is no token file "
		    "(server.tokens)", access_cat_name(rq->ar_category));
		return;
	}
	if ((rq->ar_category & ac->ac_open) && !rq->ar_need_token)
		return;

	have_auth = rq->ar_authorization != NULL;
	if (have_auth)
		bearer = access_bearer(rq->ar_authorization, &tok, &toklen);
	pthread_mutex_lock(&ac->ac_mtx);
	loaded = ac->ac_ts != NULL;
	if (loaded && bearer)
		te = tokens_find(ac->ac_ts, tok, toklen);
	else if (loaded && !have_auth && rq->ar_cert == TLS_PEER_OK &&
	    rq->ar_cert_cn != NULL)
		te = tokens_find_cert(ac->ac_ts, rq->ar_cert_cn);
	if (te != NULL)
		id->ai_entry = *te;
	pthread_mutex_unlock(&ac->ac_mtx);

	if (te == NULL) {
		if (have_auth && !bearer)
			access_deny(res, ACCESS_INVALID, "Authorization: "
			    "expected \"Bearer TOKEN\"");
		else if (have_auth)
			access_deny(res, ACCESS_INVALID, "invalid token");
		else if (rq->ar_cert == TLS_PEER_OK)
			access_deny(res, ACCESS_MISSING, "token required for "
			    "%s endpoints (the client certificate's name is "
			    "not in the token file)",
			    access_cat_name(rq->ar_category));
		else
			access_deny(res, ACCESS_MISSING, "token required for "
			    "%s endpoints: send Authorization: Bearer TOKEN",
			    access_cat_name(rq->ar_category));
		return;
	}
	id->ai_anonymous = 0;
	if (!tokens_allows(&id->ai_entry, rq->ar_category,
	    rq->ar_category == TOKEN_SCOPE_INFER ? rq->ar_model : NULL)) {
		if (rq->ar_category == TOKEN_SCOPE_INFER &&
		    rq->ar_model != NULL && id->ai_entry.te_nmodels > 0)
			access_deny(res, ACCESS_FORBIDDEN, "token '%s' may not "
			    "infer on model '%s'", id->ai_entry.te_name,
			    rq->ar_model);
		else
			access_deny(res, ACCESS_FORBIDDEN, "token '%s' lacks "
			    "the %s scope", id->ai_entry.te_name,
			    access_cat_name(rq->ar_category));
		return;
	}
	access_limits(ac, id);
	namelen = strlen(id->ai_entry.te_name);
	if (id->ai_rate > 0 && (wait = rl_table_take(ac->ac_tok_req,
	    id->ai_entry.te_name,
	    namelen, id->ai_rate, id->ai_burst, 1, rq->ar_now)) > 0) {
		res->ar_by_token = 1;
		res->ar_retry_after = rl_retry_after(wait);
		access_deny(res, ACCESS_RATE, "token '%s': too many requests "
		    "(%g per second); retry after %u s", id->ai_entry.te_name,
		    id->ai_rate, res->ar_retry_after);
		return;
	}
	if (rl_inflight_enter(ac->ac_tok_inflight, id->ai_entry.te_name,
	    namelen, id->ai_max_inflight) != 0) {
		res->ar_by_token = 1;
		res->ar_retry_after = 1;
		access_deny(res, ACCESS_INFLIGHT, "token '%s': %d requests in "
		    "flight already (the limit); retry when one is answered",
		    id->ai_entry.te_name, id->ai_max_inflight);
		return;
	}
	id->ai_inflight = 1;
}

void
access_images(struct access *ac, const struct access_id *id,
    const void *addr, size_t addrlen, int n, double now,
    struct access_result *res)
{
	double wait;

	memset(res, 0, sizeof(*res));
	/* More images than a bucket holds could never pass: say so. */
	if (addrlen > 0 && ac->ac_ip_image_rate > 0 && n > rl_burst(
	    ac->ac_ip_image_rate, ac->ac_ip_image_burst)) {
		res->ar_retry_after = rl_retry_after(n /
		    ac->ac_ip_image_rate);
		access_deny(res, ACCESS_IMAGES, "%d images in one request: "
		    "more than limits.ip_image_burst (%g) allows", n,
		    rl_burst(ac->ac_ip_image_rate,
		    ac->ac_ip_image_burst));
		return;
	}
	if (!id->ai_anonymous && id->ai_image_rate > 0 && n > rl_burst(
	    id->ai_image_rate, id->ai_image_burst)) {
		res->ar_by_token = 1;
		res->ar_retry_after = rl_retry_after(n / id->ai_image_rate);
		access_deny(res, ACCESS_IMAGES, "%d images in one request: "
		    "more than token '%s' may send at once (%g)", n,
		    id->ai_entry.te_name, rl_burst(id->ai_image_rate,
		    id->ai_image_burst));
		return;
	}
	if (addrlen > 0 && ac->ac_ip_image_rate > 0 &&
	    (wait = rl_table_take(ac->ac_ip_img, addr, addrlen,
	    ac->ac_ip_image_rate, ac->ac_ip_image_burst, n, now)) > 0) {
		res->ar_retry_after = rl_retry_after(wait);
		access_deny(res, ACCESS_IMAGES, "too many images from your "
		    "address (limits.ip_image_rate is %g per second, burst "
		    "%g); retry after %u s", ac->ac_ip_image_rate,
		    ac->ac_ip_image_burst > 0 ? ac->ac_ip_image_burst :
		    ac->ac_ip_image_rate, res->ar_retry_after);
		return;
	}
	if (id->ai_anonymous)
		return;
	if (id->ai_image_rate > 0 && (wait = rl_table_take(ac->ac_tok_img,
	    id->ai_entry.te_name,
	    strlen(id->ai_entry.te_name), id->ai_image_rate,
	    id->ai_image_burst, n, now)) > 0) {
		res->ar_by_token = 1;
		res->ar_retry_after = rl_retry_after(wait);
		access_deny(res, ACCESS_IMAGES, "token '%s': too many images "
		    "(%g per second, burst %g); retry after %u s",
		    id->ai_entry.te_name, id->ai_image_rate,
		    id->ai_image_burst > 0 ? id->ai_image_burst :
		    id->ai_image_rate, res->ar_retry_after);
	}
}

void
access_leave(struct access *ac, struct access_id *id)
{
	if (!id->ai_inflight)
		return;
	rl_inflight_leave(ac->ac_tok_inflight, id->ai_entry.te_name,
	    strlen(id->ai_entry.te_name));
	id->ai_inflight = 0;
}
