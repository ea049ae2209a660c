/* SPDX-License-Identifier: ISC */
/*
 * test_access.c: the front door's decision (src/http/access.c), apart
 * from HTTP: categories of the routes; open categories with and without a
 * token file; a token file configured but not loaded (closed); bearer
 * tokens (missing, invalid, another scheme, padded, valid), scopes and
 * infer:MODEL; client certificates (refused on every category, a cert
 * entry as identity, a bearer token winning over it); the buckets of an
 * address and of a token, requests in flight, images and batches larger
 * than a burst; a reload keeping the buckets.  Time is passed in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "http/access.h"
#include "http/ratelimit.h"
#include "http/routes.h"
#include "http/tls.h"
#include "http/tokens.h"
#include "test_helper.h"

#define TOK_A	"agt_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define TOK_B	"agt_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define TOK_C	"agt_ccccccccccccccccccccccccccccccccccccccccccc"

/* "token NAME sha256=HEX scopes=... EXTRA created=1\n" */
static void
line(char *buf, size_t len, const char *name, const char *tok,
    const char *scopes, const char *extra)
{
	uint8_t h[32];
	char hex[65];
	int i;

	tokens_hash(tok, strlen(tok), h);
	for (i = 0; i < 32; i++)
		(void)snprintf(hex + 2 * i, 3, "%02x", h[i]);
	(void)snprintf(buf + strlen(buf), len - strlen(buf),
	    "token %s sha256=%s scopes=%s %s created=1\n", name, hex, scopes,
	    extra);
}

static struct token_set *
set_of(const char *text)
{
	struct token_set *ts = NULL;
	char err[256];

	if (tokens_parse(text, strlen(text), "test", &ts, err,
	    sizeof(err)) != 0)
		assert_str_fail(__FILE__, __LINE__, "tokens_parse", "ok",
		    err, "");
	return ts;
}

static struct token_set *
default_set(void)
{
	static char text[4096];

	text[0] = '\0';
	line(text, sizeof(text), "meta", TOK_A, "metadata", "");
	line(text, sizeof(text), "inf", TOK_B, "infer:m1,infer:m2",
	    "rate=1 burst=2 max_inflight=1 image_rate=1 image_burst=3");
	line(text, sizeof(text), "all", TOK_C,
	    "health,metadata,infer,metrics,admin", "");
	(void)snprintf(text + strlen(text), sizeof(text) - strlen(text),
	    "cert alice scopes=infer created=1\n");
	return set_of(text);
}

static void
req(struct access_req *r, uint32_t cat, const char *auth, double now)
{
	static const unsigned char addr[4] = { 192, 0, 2, 1 };

	memset(r, 0, sizeof(*r));
	r->ar_category = cat;
	r->ar_authorization = auth;
	r->ar_cert = TLS_PEER_NONE;
	r->ar_addr = addr;
	r->ar_addrlen = sizeof(addr);
	r->ar_now = now;
}

static struct access *
mk(const char *tokens, const char *open, const char *extra_key,
    const char *extra_val)
{
	struct ag_config cf;
	struct access *ac;
	char err[256];

	config_defaults(&cf);
	if (tokens != NULL)
		ASSERT_INT_EQ(config_set(&cf, "server.tokens", tokens, err,
		    sizeof(err)), 0);
	if (open != NULL)
		ASSERT_INT_EQ(config_set(&cf, "server.open", open, err,
		    sizeof(err)), 0);
	if (extra_key != NULL)
		ASSERT_INT_EQ(config_set(&cf, extra_key, extra_val, err,
		    sizeof(err)), 0);
	ac = access_new(&cf);
	ASSERT_PTR_NE(ac, NULL);
	return ac;
}

static void
test_categories(void)
{
	TEST_START("routes map to categories; unknown ones are admin");
	ASSERT_INT_EQ(access_category(ROUTE_LIVE), TOKEN_SCOPE_HEALTH);
	ASSERT_INT_EQ(access_category(ROUTE_READY), TOKEN_SCOPE_HEALTH);
	ASSERT_INT_EQ(access_category(ROUTE_SERVER), TOKEN_SCOPE_METADATA);
	ASSERT_INT_EQ(access_category(ROUTE_MODEL), TOKEN_SCOPE_METADATA);
	ASSERT_INT_EQ(access_category(ROUTE_MODEL_READY),
	    TOKEN_SCOPE_METADATA);
	ASSERT_INT_EQ(access_category(ROUTE_INFER), TOKEN_SCOPE_INFER);
	ASSERT_INT_EQ(access_category(ROUTE_CLASSIFY), TOKEN_SCOPE_INFER);
	ASSERT_INT_EQ(access_category(ROUTE_METRICS), TOKEN_SCOPE_METRICS);
	ASSERT_INT_EQ(access_category(ROUTE_NONE), TOKEN_SCOPE_ADMIN);
	ASSERT_INT_EQ(access_category(9999), TOKEN_SCOPE_ADMIN);
	TEST_DONE();
}

static void
test_open(void)
{
	struct access *ac;
	struct access_req r;
	struct access_id id;
	struct access_result res;
	uint32_t cat;

	TEST_START("no token file: every category open, anonymous");
	ac = mk(NULL, NULL, NULL, NULL);
	for (cat = 1; cat <= TOKEN_SCOPE_ADMIN; cat <<= 1) {
		req(&r, cat, NULL, 1);
		access_check(ac, &r, &id, &res);
		ASSERT_INT_EQ(res.ar_status, 0);
		ASSERT_INT_EQ(id.ai_anonymous, 1);
		ASSERT_INT_EQ(id.ai_inflight, 0);
	}
	/* A token sent to an open category is not even looked at. */
	req(&r, TOKEN_SCOPE_INFER, "Bearer nonsense", 1);
	access_check(ac, &r, &id, &res);
	ASSERT_INT_EQ(res.ar_status, 0);
	access_free(ac);
	TEST_DONE();

	TEST_START("a token file configured but not loaded: closed (401)");
	ac = mk("/t", NULL, NULL, NULL);
	req(&r, TOKEN_SCOPE_HEALTH, NULL, 1);
	access_check(ac, &r, &id, &res);
	ASSERT_INT_EQ(res.ar_status, 0);
	for (cat = TOKEN_SCOPE_METADATA; cat <= TOKEN_SCOPE_ADMIN; cat <<= 1) {
		req(&r, cat, "Bearer " TOK_C, 1);
		access_check(ac, &r, &id, &res);
		ASSERT_INT_EQ(res.ar_status, 401);
		ASSERT_INT_EQ(res.ar_deny, ACCESS_INVALID);
	}
	access_free(ac);
	TEST_DONE();

	TEST_START("server.open: metadata open, infer still protected");
	ac = mk("/t", "health,metadata", NULL, NULL);
	access_set_tokens(ac, default_set());
	req(&r, TOKEN_SCOPE_METADATA, NULL, 1);
	access_check(ac, &r, &id, &res);
	ASSERT_INT_EQ(res.ar_status, 0);
	req(&r, TOKEN_SCOPE_INFER, NULL, 1);
	access_check(ac, &r, &id, &res);
	ASSERT_INT_EQ(res.ar_status, 401);
	ASSERT_INT_EQ(res.ar_deny, ACCESS_MISSING);
	ASSERT_STRING_CONTAINS(res.ar_msg, "token required for infer");
	access_free(ac);
	TEST_DONE();

	TEST_START("a token always (the model repository): open or not");
	/* No token file: every category open, yet this one refused. */
	ac = mk(NULL, NULL, NULL, NULL);
	req(&r, TOKEN_SCOPE_ADMIN, NULL, 1);
	r.ar_need_token = 1;
	access_check(ac, &r, &id, &res);
	ASSERT_INT_EQ(res.ar_status, 403);
	ASSERT_STRING_CONTAINS(res.ar_msg, "no token file");
	access_free(ac);
	/* admin opened by server.open: still a token, and its scope. */
	ac = mk("/t", "health,admin", NULL, NULL);
	access_set_tokens(ac, default_set());
	req(&r, TOKEN_SCOPE_ADMIN, NULL, 1);
	access_check(ac, &r, &id, &res);
	ASSERT_INT_EQ(res.ar_status, 0);	/* open, without the flag */
	ASSERT_INT_EQ(id.ai_anonymous, 1);
	r.ar_need_token = 1;
	access_check(ac, &r, &id, &res);
	ASSERT_INT_EQ(res.ar_status, 401);
	ASSERT_INT_EQ(res.ar_deny, ACCESS_MISSING);
	req(&r, TOKEN_SCOPE_ADMIN, "Bearer " TOK_A, 1);
	r.ar_need_token = 1;
	access_check(ac, &r, &id, &res);
	ASSERT_INT_EQ(res.ar_status, 403);	/* metadata only */
	req(&r, TOKEN_SCOPE_ADMIN, "Bearer " TOK_C, 1);
	r.ar_need_token = 1;
	access_check(ac, &r, &id, &res);
	ASSERT_INT_EQ(res.ar_status, 0);
	ASSERT_INT_EQ(id.ai_anonymous, 0);
	ASSERT_STRING_EQ(id.ai_entry.te_name, "all");
	access_leave(ac, &id);
	access_free(ac);
	TEST_DONE();
}

static void
test_tokens(void)
{
	static const char *const invalid[] = {
		"Bearer", "Bearer ", "Basic " TOK_A, "Bearer " TOK_A " x",
		"Bearer " TOK_A "x", "Bearer agt_", "bearer",
		"Token " TOK_A, "Bearer\t" TOK_A "\t\tjunk", "",
	};
	struct access *ac;
	struct access_req r;
	struct access_id id;
	struct access_result res;
	size_t i;

	TEST_START("bearer: missing 401, invalid 401, any case of Bearer");
	ac = mk("/t", NULL, NULL, NULL);
	access_set_tokens(ac, default_set());
	ASSERT_INT_EQ((int)access_ntokens(ac), 4);
	req(&r, TOKEN_SCOPE_METADATA, NULL, 1);
	access_check(ac, &r, &id, &res);
	ASSERT_INT_EQ(res.ar_deny, ACCESS_MISSING);
	ASSERT_INT_EQ(res.ar_status, 401);
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		req(&r, TOKEN_SCOPE_METADATA, invalid[i], 1);
		access_check(ac, &r, &id, &res);
		if (res.ar_status != 401 || res.ar_deny != ACCESS_INVALID)
			assert_str_fail(__FILE__, __LINE__, "Authorization",
			    "401 invalid", invalid[i], "401 invalid");
		ASSERT_INT_EQ(id.ai_anonymous, 1);
	}
	req(&r, TOKEN_SCOPE_METADATA, "bEaReR \t" TOK_A "  ", 1);
	access_check(ac, &r, &id, &res);
	ASSERT_INT_EQ(res.ar_status, 0);
	ASSERT_STRING_EQ(id.ai_entry.te_name, "meta");
	ASSERT_INT_EQ(id.ai_anonymous, 0);
	ASSERT_INT_EQ(id.ai_inflight, 1);
	access_leave(ac, &id);
	ASSERT_INT_EQ(id.ai_inflight, 0);
	/* Never the token in a message. */
	req(&r, TOKEN_SCOPE_INFER, "Bearer " TOK_A, 1);
	access_check(ac, &r, &id, &res);
	ASSERT_INT_EQ(res.ar_status, 403);
	ASSERT_STRING_CONTAINS(res.ar_msg, "token 'meta' lacks the infer");
	ASSERT_TRUE(strstr(res.ar_msg, TOK_A) == NULL);
	TEST_DONE();

	TEST_START("scopes: infer:MODEL on its models only; 403 elsewhere");
	r.ar_category = TOKEN_SCOPE_INFER;
	r.ar_authorization = "Bearer " TOK_B;
	r.ar_model = "m2";
	r.ar_now = 10;
	access_check(ac, &r, &id, &res);
	ASSERT_INT_EQ(res.ar_status, 0);
	access_leave(ac, &id);
	r.ar_model = "m3";
	r.ar_now = 20;
	access_check(ac, &r, &id, &res);
	ASSERT_INT_EQ(res.ar_status, 403);
	ASSERT_STRING_CONTAINS(res.ar_msg, "may not infer on model 'm3'");
	r.ar_category = TOKEN_SCOPE_METADATA;
	r.ar_model = "m2";
	access_check(ac, &r, &id, &res);
	ASSERT_INT_EQ(res.ar_status, 403);
	access_free(ac);
	TEST_DONE();
}

static void
test_certs(void)
{
	struct access *ac;
	struct access_req r;
	struct access_id id;
	struct access_result res;
	uint32_t cat;

	TEST_START("a refused client certificate: 401 on every category");
	ac = mk("/t", NULL, NULL, NULL);
	access_set_tokens(ac, default_set());
	for (cat = 1; cat <= TOKEN_SCOPE_ADMIN; cat <<= 1) {
		req(&r, cat, "Bearer " TOK_C, 1);
		r.ar_cert = TLS_PEER_BAD;
		r.ar_cert_why = "expired";
		access_check(ac, &r, &id, &res);
		ASSERT_INT_EQ(res.ar_status, 401);
		ASSERT_INT_EQ(res.ar_deny, ACCESS_CERTIFICATE);
		ASSERT_STRING_CONTAINS(res.ar_msg, "expired");
	}
	TEST_DONE();

	TEST_START("a verified certificate: its cert entry, or 401");
	req(&r, TOKEN_SCOPE_INFER, NULL, 1);
	r.ar_cert = TLS_PEER_OK;
	r.ar_cert_cn = "alice";
	access_check(ac, &r, &id, &res);
	ASSERT_INT_EQ(res.ar_status, 0);
	ASSERT_STRING_EQ(id.ai_entry.te_name, "alice");
	access_leave(ac, &id);
	r.ar_cert_cn = "mallory";
	access_check(ac, &r, &id, &res);
	ASSERT_INT_EQ(res.ar_status, 401);
	ASSERT_STRING_CONTAINS(res.ar_msg, "not in the token file");
	/* A bearer entry's name is no certificate identity. */
	r.ar_cert_cn = "all";
	access_check(ac, &r, &id, &res);
	ASSERT_INT_EQ(res.ar_status, 401);
	/* A bearer token with a certificate: the token decides. */
	r.ar_cert_cn = "alice";
	r.ar_authorization = "Bearer " TOK_A;
	access_check(ac, &r, &id, &res);
	ASSERT_INT_EQ(res.ar_status, 403);
	ASSERT_STRING_EQ(id.ai_entry.te_name, "meta");
	access_free(ac);
	TEST_DONE();
}

static void
test_limits(void)
{
	struct access *ac;
	struct access_req r;
	struct access_id id, held;
	struct access_result res;
	static const unsigned char addr[4] = { 192, 0, 2, 1 };
	int i;

	TEST_START("a token's rate: burst 2 then 429 with Retry-After");
	ac = mk("/t", NULL, NULL, NULL);
	access_set_tokens(ac, default_set());
	req(&r, TOKEN_SCOPE_INFER, "Bearer " TOK_B, 100);
	r.ar_model = "m1";
	for (i = 0; i < 2; i++) {
		access_check(ac, &r, &id, &res);
		ASSERT_INT_EQ(res.ar_status, 0);
		access_leave(ac, &id);
	}
	access_check(ac, &r, &id, &res);
	ASSERT_INT_EQ(res.ar_status, 429);
	ASSERT_INT_EQ(res.ar_deny, ACCESS_RATE);
	ASSERT_INT_EQ(res.ar_by_token, 1);
	ASSERT_INT_EQ((int)res.ar_retry_after, 1);
	ASSERT_INT_EQ(id.ai_inflight, 0);
	/* A second later: one more. */
	r.ar_now = 101.01;
	access_check(ac, &r, &id, &res);
	ASSERT_INT_EQ(res.ar_status, 0);
	TEST_DONE();

	TEST_START("a token's requests in flight: one at a time");
	held = id;
	r.ar_now = 200;
	access_check(ac, &r, &id, &res);
	ASSERT_INT_EQ(res.ar_status, 429);
	ASSERT_INT_EQ(res.ar_deny, ACCESS_INFLIGHT);
	access_leave(ac, &held);
	r.ar_now = 300;
	access_check(ac, &r, &id, &res);
	ASSERT_INT_EQ(res.ar_status, 0);
	TEST_DONE();

	TEST_START("images: the token's bucket, and a batch over its burst");
	access_images(ac, &id, addr, sizeof(addr), 3, 300, &res);
	ASSERT_INT_EQ(res.ar_status, 0);
	access_images(ac, &id, addr, sizeof(addr), 1, 300, &res);
	ASSERT_INT_EQ(res.ar_status, 429);
	ASSERT_INT_EQ(res.ar_deny, ACCESS_IMAGES);
	access_images(ac, &id, addr, sizeof(addr), 4, 400, &res);
	ASSERT_INT_EQ(res.ar_status, 429);
	ASSERT_STRING_CONTAINS(res.ar_msg, "4 images in one request");
	access_leave(ac, &id);
	TEST_DONE();

	TEST_START("a reload keeps a token's buckets (by name)");
	access_set_tokens(ac, default_set());
	r.ar_now = 1000;
	access_check(ac, &r, &id, &res);
	ASSERT_INT_EQ(res.ar_status, 0);
	access_leave(ac, &id);
	access_check(ac, &r, &id, &res);
	ASSERT_INT_EQ(res.ar_status, 0);
	access_leave(ac, &id);
	access_check(ac, &r, &id, &res);
	ASSERT_INT_EQ(res.ar_status, 429);
	access_set_tokens(ac, default_set());
	access_check(ac, &r, &id, &res);
	ASSERT_INT_EQ(res.ar_status, 429);
	/* Another token is not touched by it. */
	r.ar_authorization = "Bearer " TOK_C;
	access_check(ac, &r, &id, &res);
	ASSERT_INT_EQ(res.ar_status, 0);
	access_leave(ac, &id);
	access_free(ac);
	TEST_DONE();

	TEST_START("an address's rate: health exempt, before the token");
	ac = mk("/t", NULL, "limits.ip_rate", "1");
	access_set_tokens(ac, default_set());
	req(&r, TOKEN_SCOPE_METADATA, "Bearer " TOK_C, 5);
	access_check(ac, &r, &id, &res);
	ASSERT_INT_EQ(res.ar_status, 0);
	access_leave(ac, &id);
	access_check(ac, &r, &id, &res);
	ASSERT_INT_EQ(res.ar_status, 429);
	ASSERT_INT_EQ(res.ar_by_token, 0);
	ASSERT_STRING_CONTAINS(res.ar_msg, "from your address");
	r.ar_authorization = "Bearer " TOK_A "x";
	access_check(ac, &r, &id, &res);
	ASSERT_INT_EQ(res.ar_status, 429);
	req(&r, TOKEN_SCOPE_HEALTH, NULL, 5);
	access_check(ac, &r, &id, &res);
	ASSERT_INT_EQ(res.ar_status, 0);
	/* Another address has its own bucket. */
	req(&r, TOKEN_SCOPE_METADATA, "Bearer " TOK_C, 5);
	r.ar_addr = "\x0a\x00\x00\x01";
	access_check(ac, &r, &id, &res);
	ASSERT_INT_EQ(res.ar_status, 0);
	access_leave(ac, &id);
	access_free(ac);
	TEST_DONE();

	TEST_START("an address's images: anonymous too, and over the burst");
	ac = mk(NULL, NULL, "limits.ip_image_rate", "2");
	memset(&id, 0, sizeof(id));
	id.ai_anonymous = 1;
	access_images(ac, &id, addr, sizeof(addr), 2, 1, &res);
	ASSERT_INT_EQ(res.ar_status, 0);
	access_images(ac, &id, addr, sizeof(addr), 1, 1, &res);
	ASSERT_INT_EQ(res.ar_status, 429);
	access_images(ac, &id, addr, sizeof(addr), 3, 100, &res);
	ASSERT_INT_EQ(res.ar_status, 429);
	ASSERT_STRING_CONTAINS(res.ar_msg, "more than limits.ip_image_burst");
	access_free(ac);
	TEST_DONE();
}

void
tests(void)
{
	test_plan(15);
	if (rl_init() != 0 || tokens_init() != 0)
		assert_fail(__FILE__, __LINE__, "rl_init or tokens_init");
	test_categories();
	test_open();
	test_tokens();
	test_certs();
	test_limits();
}
