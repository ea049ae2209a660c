/* SPDX-License-Identifier: ISC */
/*
 * test_tokens.c: the token file (src/http/tokens.c): what it accepts,
 * each way it refuses a file (with the file and line), scopes and
 * categories, lookup of bearer tokens (also with inputs of the wrong
 * length) and client-certificate names, the writer against the reader,
 * and new tokens.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ag_err.h"
#include "http/tokens.h"
#include "test_helper.h"

#define T1	"agt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define T2	"agt_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"

static char err[512];

/* The lowercase hex SHA-256 of s. */
static void
hex_hash(const char *s, char out[65])
{
	uint8_t h[32];
	int i;

	tokens_hash(s, strlen(s), h);
	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

static int
parse(const char *text, struct token_set **ts)
{
	err[0] = '\0';
	return tokens_parse(text, strlen(text), "tok", ts, err, sizeof(err));
}

/* Parses text, which must fail with r and a message starting with pfx. */
static void
bad(const char *text, int r, const char *pfx, const char *what)
{
	struct token_set *ts = (struct token_set *)1;

	ASSERT_INT_EQ(parse(text, &ts), r);
	ASSERT_PTR_EQ(ts, NULL);
	if (strncmp(err, pfx, strlen(pfx)) != 0 || strstr(err, what) == NULL)
		assert_str_fail(__FILE__, __LINE__, "err", "expected", err,
		    what);
}

static void
test_good(void)
{
	struct token_set *ts;
	const struct token_entry *te;
	char h1[65], h2[65], text[2048];

	hex_hash(T1, h1);
	hex_hash(T2, h2);

	TEST_START("parse: empty, comments and blank lines");
	ASSERT_INT_EQ(parse("", &ts), 0);
	ASSERT_INT_EQ(ts->ts_n, 0);
	tokens_free(ts);
	ASSERT_INT_EQ(parse("# only a comment\n\n   \t\n  # indented\n", &ts),
	    0);
	ASSERT_INT_EQ(ts->ts_n, 0);
	tokens_free(ts);
	ASSERT_INT_EQ(tokens_parse(NULL, 0, "tok", &ts, err, sizeof(err)), 0);
	tokens_free(ts);
	TEST_DONE();

	TEST_START("parse: token and cert entries, every field");
	snprintf(text, sizeof(text),
	    "# aiguard tokens\n"
	    "token ci sha256=%s scopes=infer,metadata rate=10 burst=20 "
	    "image_rate=2.5 image_burst=5 max_inflight=4 created=1700000000\n"
	    "\tcert  edge.gw-1\t scopes=infer:resnet18,infer:b_2,health "
	    "created=0   \n"
	    "token ops sha256=%s scopes=admin,metrics created=1", h1, h2);
	ASSERT_INT_EQ(parse(text, &ts), 0);
	ASSERT_INT_EQ(ts->ts_n, 3);
	te = &ts->ts_e[0];
	ASSERT_STRING_EQ(te->te_name, "ci");
	ASSERT_INT_EQ(te->te_kind, TOKEN_BEARER);
	ASSERT_INT_EQ(te->te_scopes, TOKEN_SCOPE_INFER | TOKEN_SCOPE_METADATA);
	ASSERT_INT_EQ(te->te_nmodels, 0);
	ASSERT_DBL_GE(te->te_rate, 10);
	ASSERT_DBL_LE(te->te_rate, 10);
	ASSERT_DBL_GE(te->te_burst, 20);
	ASSERT_DBL_LE(te->te_burst, 20);
	ASSERT_DBL_GE(te->te_image_rate, 2.5);
	ASSERT_DBL_LE(te->te_image_rate, 2.5);
	ASSERT_DBL_GE(te->te_image_burst, 5);
	ASSERT_INT_EQ(te->te_max_inflight, 4);
	ASSERT_INT_EQ(te->te_created, 1700000000);
	te = &ts->ts_e[1];
	ASSERT_STRING_EQ(te->te_name, "edge.gw-1");
	ASSERT_INT_EQ(te->te_kind, TOKEN_CERT);
	ASSERT_INT_EQ(te->te_scopes, TOKEN_SCOPE_HEALTH);
	ASSERT_INT_EQ(te->te_nmodels, 2);
	ASSERT_STRING_EQ(te->te_models[0], "resnet18");
	ASSERT_STRING_EQ(te->te_models[1], "b_2");
	ASSERT_DBL_LE(te->te_rate, 0);
	ASSERT_INT_EQ(te->te_max_inflight, 0);
	ASSERT_INT_EQ(te->te_created, 0);
	ASSERT_INT_EQ(ts->ts_e[2].te_created, 1);
	tokens_free(ts);
	tokens_free(NULL);
	TEST_DONE();
}

static void
test_bad(void)
{
	char h1[65], text[8192], *big;
	size_t i, n;

	hex_hash(T1, h1);

#define ENTRY(rest)	"token a sha256=%s " rest "\n"
#define BAD1(fmt, r, what) do {						\
	snprintf(text, sizeof(text), fmt, h1);				\
	bad(text, r, "tok:1: ", what);					\
} while (0)

	TEST_START("refused: the kind, the name");
	bad("bearer a scopes=health created=1\n", AG_ERR_FORMAT, "tok:1: ",
	    "\"token\" or \"cert\"");
	bad("token\n", AG_ERR_FORMAT, "tok:1: ", "no name");
	bad("# c\ncert a/b scopes=health created=1\n", AG_ERR_FORMAT,
	    "tok:2: ", "bad name");
	bad("cert " "0123456789012345678901234567890123456789012345678901234"
	    "56789abcd scopes=health created=1\n", AG_ERR_FORMAT, "tok:1: ",
	    "bad name");
	bad("cert \xc3\xa9t\xc3\xa9 scopes=health created=1\n", AG_ERR_FORMAT,
	    "tok:1: ", "bad name");
	TEST_DONE();

	TEST_START("refused: missing and duplicate keys, unknown keys");
	bad("token a scopes=health created=1\n", AG_ERR_FORMAT, "tok:1: ",
	    "no sha256");
	BAD1(ENTRY("created=1"), AG_ERR_FORMAT, "no scopes");
	BAD1(ENTRY("scopes=health"), AG_ERR_FORMAT, "no created");
	BAD1(ENTRY("scopes=health created=1 created=2"), AG_ERR_FORMAT,
	    "key created given twice");
	BAD1(ENTRY("scopes=health rate=1 rate=1 created=1"), AG_ERR_FORMAT,
	    "key rate given twice");
	BAD1(ENTRY("scopes=health created=1 colour=blue"), AG_ERR_FORMAT,
	    "unknown key \"colour\"");
	BAD1(ENTRY("scopes=health created=1 # comment"), AG_ERR_FORMAT,
	    "expected KEY=VALUE");
	BAD1(ENTRY("scopes=health created="), AG_ERR_FORMAT,
	    "created: empty value");
	BAD1(ENTRY("scopes=health created=1 SCOPES=admin"), AG_ERR_FORMAT,
	    "unknown key");
	snprintf(text, sizeof(text), "cert a sha256=%s scopes=health "
	    "created=1\n", h1);
	bad(text, AG_ERR_FORMAT, "tok:1: ", "sha256 in a cert entry");
	TEST_DONE();

	TEST_START("refused: sha256 values");
	bad("token a sha256=abc scopes=health created=1\n", AG_ERR_FORMAT,
	    "tok:1: ", "64 lowercase hex");
	snprintf(text, sizeof(text), "token a sha256=%sff scopes=health "
	    "created=1\n", h1);
	bad(text, AG_ERR_FORMAT, "tok:1: ", "64 lowercase hex");
	snprintf(text, sizeof(text), "token a sha256=%.63sg scopes=health "
	    "created=1\n", h1);
	bad(text, AG_ERR_FORMAT, "tok:1: ", "64 lowercase hex");
	snprintf(text, sizeof(text), "token a sha256=%s scopes=health "
	    "created=1\n", "ABCDEF0123456789ABCDEF0123456789"
	    "ABCDEF0123456789ABCDEF0123456789");
	bad(text, AG_ERR_FORMAT, "tok:1: ", "64 lowercase hex");
	TEST_DONE();

	TEST_START("refused: numbers");
	BAD1(ENTRY("scopes=health rate=-1 created=1"), AG_ERR_FORMAT, "rate:");
	BAD1(ENTRY("scopes=health rate=+1 created=1"), AG_ERR_FORMAT, "rate:");
	BAD1(ENTRY("scopes=health rate=nan created=1"), AG_ERR_FORMAT, "rate:");
	BAD1(ENTRY("scopes=health rate=inf created=1"), AG_ERR_FORMAT, "rate:");
	BAD1(ENTRY("scopes=health burst=0x10 created=1"), AG_ERR_FORMAT,
	    "burst:");
	BAD1(ENTRY("scopes=health burst=1e3 created=1"), AG_ERR_FORMAT,
	    "burst:");
	BAD1(ENTRY("scopes=health image_rate=2,5 created=1"), AG_ERR_FORMAT,
	    "image_rate:");
	BAD1(ENTRY("scopes=health image_rate=.5 created=1"), AG_ERR_FORMAT,
	    "image_rate:");
	BAD1(ENTRY("scopes=health image_rate=5. created=1"), AG_ERR_FORMAT,
	    "image_rate:");
	BAD1(ENTRY("scopes=health image_burst=1000000.5 created=1"),
	    AG_ERR_FORMAT, "image_burst:");
	BAD1(ENTRY("scopes=health image_burst=10000000 created=1"),
	    AG_ERR_FORMAT, "image_burst:");
	BAD1(ENTRY("scopes=health rate=0.0000001 created=1"), AG_ERR_FORMAT,
	    "rate:");
	BAD1(ENTRY("scopes=health max_inflight=1.5 created=1"), AG_ERR_FORMAT,
	    "max_inflight:");
	BAD1(ENTRY("scopes=health max_inflight=2000000 created=1"),
	    AG_ERR_FORMAT, "max_inflight:");
	BAD1(ENTRY("scopes=health created=-1"), AG_ERR_FORMAT, "created:");
	BAD1(ENTRY("scopes=health created=01"), AG_ERR_FORMAT, "created:");
	BAD1(ENTRY("scopes=health created=1.5"), AG_ERR_FORMAT, "created:");
	BAD1(ENTRY("scopes=health created=253402300800"), AG_ERR_FORMAT,
	    "created:");
	BAD1(ENTRY("scopes=health created=99999999999999999999"),
	    AG_ERR_FORMAT, "created:");
	TEST_DONE();

	TEST_START("refused: scopes");
	BAD1(ENTRY("scopes=read created=1"), AG_ERR_FORMAT,
	    "unknown scope \"read\"");
	BAD1(ENTRY("scopes=infer,,health created=1"), AG_ERR_FORMAT,
	    "an empty scope");
	BAD1(ENTRY("scopes=infer, created=1"), AG_ERR_FORMAT,
	    "an empty scope");
	BAD1(ENTRY("scopes=health,health created=1"), AG_ERR_FORMAT,
	    "given twice");
	BAD1(ENTRY("scopes=infer:a,infer:a created=1"), AG_ERR_FORMAT,
	    "\"infer:a\" given twice");
	BAD1(ENTRY("scopes=infer,infer:a created=1"), AG_ERR_FORMAT,
	    "infer (every model) with infer:MODEL");
	BAD1(ENTRY("scopes=infer: created=1"), AG_ERR_FORMAT,
	    "unknown scope");
	BAD1(ENTRY("scopes=infer:a:b created=1"), AG_ERR_FORMAT,
	    "bad model name");
	BAD1(ENTRY("scopes=infer:a/b created=1"), AG_ERR_FORMAT,
	    "scope list: only");
	BAD1(ENTRY("scopes=infer:a,infer:b,infer:c,infer:d,infer:e,infer:f,"
	    "infer:g,infer:h,infer:i created=1"), AG_ERR_FORMAT,
	    "more than 8 infer:MODEL");
	BAD1(ENTRY("scopes=Health created=1"), AG_ERR_FORMAT,
	    "unknown scope");
	TEST_DONE();

	TEST_START("refused: duplicate names and tokens, on the later line");
	snprintf(text, sizeof(text), "token a sha256=%s scopes=health "
	    "created=1\n#\ncert a scopes=health created=1\n", h1);
	bad(text, AG_ERR_FORMAT, "tok:3: ", "name a given twice");
	snprintf(text, sizeof(text), "token a sha256=%s scopes=health "
	    "created=1\ntoken b sha256=%s scopes=admin created=2\n", h1, h1);
	bad(text, AG_ERR_FORMAT, "tok:2: ", "the same token hash as a");
	TEST_DONE();

	TEST_START("refused: NUL, control characters, long lines, size");
	snprintf(text, sizeof(text), "# fine\ntoken a sha256=%s scopes=health "
	    "created=1\n", h1);
	n = strlen(text);
	text[20] = '\0';
	{
		struct token_set *ts;

		ASSERT_INT_EQ(tokens_parse(text, n, "tok", &ts, err,
		    sizeof(err)), AG_ERR_FORMAT);
		ASSERT_STRING_EQ(err, "tok:2: NUL byte");
	}
	bad("# a\r\n", AG_ERR_FORMAT, "tok:1: ", "control character 0x0d");
	bad("\n\n# \x1b[31m\n", AG_ERR_FORMAT, "tok:3: ",
	    "control character 0x1b");
	big = test_xmalloc(TOKENS_LINE_MAX + 16);
	memset(big, ' ', TOKENS_LINE_MAX + 1);
	big[0] = '#';
	big[TOKENS_LINE_MAX + 1] = '\0';
	bad(big, AG_ERR_TOO_LARGE, "tok:1: ", "line longer than 1024");
	big[TOKENS_LINE_MAX] = '\n';	/* exactly the limit: fine */
	{
		struct token_set *ts;

		ASSERT_INT_EQ(parse(big, &ts), 0);
		tokens_free(ts);
	}
	free(big);
	{
		struct token_set *ts = NULL;

		ASSERT_INT_EQ(tokens_parse("", TOKENS_FILE_MAX + 1, "tok", &ts,
		    err, sizeof(err)), AG_ERR_TOO_LARGE);
		ASSERT_PTR_EQ(ts, NULL);
	}
	TEST_DONE();

	TEST_START("refused: more than TOKENS_MAX entries");
	n = (size_t)(TOKENS_MAX + 1) * 64;
	big = test_xmalloc(n);
	for (i = 0, n = 0; i <= TOKENS_MAX; i++)
		n += (size_t)sprintf(big + n, "cert c%zu scopes=health "
		    "created=1\n", i);
	{
		struct token_set *ts = NULL;

		ASSERT_INT_EQ(tokens_parse(big, n, "tok", &ts, err,
		    sizeof(err)), AG_ERR_TOO_LARGE);
		ASSERT_PTR_EQ(ts, NULL);
		ASSERT_STRING_EQ(err, "tok:4097: more than 4096 entries");
		/* One fewer is fine. */
		n -= strlen("cert c4096 scopes=health created=1\n");
		ASSERT_INT_EQ(tokens_parse(big, n, "tok", &ts, err,
		    sizeof(err)), 0);
		ASSERT_INT_EQ(ts->ts_n, TOKENS_MAX);
		tokens_free(ts);
	}
	free(big);
	TEST_DONE();
#undef BAD1
#undef ENTRY
}

static void
test_scopes(void)
{
	struct token_entry te;
	char buf[256];

	TEST_START("scopes: parse and format in a fixed order");
	memset(&te, 0, sizeof(te));
	ASSERT_INT_EQ(tokens_scopes_parse("admin,infer:b,health,infer:a", &te,
	    err, sizeof(err)), 0);
	ASSERT_INT_EQ(te.te_scopes, TOKEN_SCOPE_ADMIN | TOKEN_SCOPE_HEALTH);
	ASSERT_INT_EQ(te.te_nmodels, 2);
	tokens_scopes_format(&te, buf, sizeof(buf));
	ASSERT_STRING_EQ(buf, "health,infer:b,infer:a,admin");
	ASSERT_INT_EQ(tokens_scopes_parse("metrics,infer,metadata", &te, err,
	    sizeof(err)), 0);
	ASSERT_INT_EQ(te.te_nmodels, 0);
	tokens_scopes_format(&te, buf, sizeof(buf));
	ASSERT_STRING_EQ(buf, "metadata,infer,metrics");
	ASSERT_INT_EQ(tokens_scopes_parse("health,metadata,infer,metrics,admin",
	    &te, err, sizeof(err)), 0);
	ASSERT_INT_EQ(te.te_scopes, TOKEN_SCOPE_ALL);
	/* A failed parse leaves te alone. */
	ASSERT_INT_EQ(tokens_scopes_parse("admin,bogus", &te, err,
	    sizeof(err)), AG_ERR_INVALID_ARG);
	ASSERT_INT_EQ(te.te_scopes, TOKEN_SCOPE_ALL);
	ASSERT_INT_EQ(tokens_scopes_parse("", &te, err, sizeof(err)),
	    AG_ERR_INVALID_ARG);
	ASSERT_INT_EQ(tokens_scopes_parse("health metadata", &te, err,
	    sizeof(err)), AG_ERR_INVALID_ARG);
	ASSERT_INT_EQ(tokens_scopes_parse("infer:\x01", &te, err,
	    sizeof(err)), AG_ERR_INVALID_ARG);
	ASSERT_STRING_CONTAINS(err, "only letters");
	/* Truncation: what fits. */
	ASSERT_INT_EQ(tokens_scopes_parse("health,admin", &te, err,
	    sizeof(err)), 0);
	tokens_scopes_format(&te, buf, 10);
	ASSERT_STRING_EQ(buf, "health");
	TEST_DONE();

	TEST_START("categories: names of the scope bits");
	ASSERT_STRING_EQ(tokens_category_name(TOKEN_SCOPE_METRICS), "metrics");
	ASSERT_PTR_EQ(tokens_category_name(TOKEN_SCOPE_METRICS |
	    TOKEN_SCOPE_ADMIN), NULL);
	ASSERT_PTR_EQ(tokens_category_name(0), NULL);
	TEST_DONE();

	TEST_START("allows: categories and infer:MODEL");
	memset(&te, 0, sizeof(te));
	ASSERT_INT_EQ(tokens_scopes_parse("metadata,infer:resnet18", &te, err,
	    sizeof(err)), 0);
	ASSERT_TRUE(tokens_allows(&te, TOKEN_SCOPE_METADATA, NULL));
	ASSERT_FALSE(tokens_allows(&te, TOKEN_SCOPE_HEALTH, NULL));
	ASSERT_FALSE(tokens_allows(&te, TOKEN_SCOPE_ADMIN, "resnet18"));
	ASSERT_TRUE(tokens_allows(&te, TOKEN_SCOPE_INFER, "resnet18"));
	ASSERT_FALSE(tokens_allows(&te, TOKEN_SCOPE_INFER, "resnet1"));
	ASSERT_FALSE(tokens_allows(&te, TOKEN_SCOPE_INFER, "resnet18x"));
	ASSERT_FALSE(tokens_allows(&te, TOKEN_SCOPE_INFER, NULL));
	/* Two bits at once, or none: never. */
	ASSERT_FALSE(tokens_allows(&te, TOKEN_SCOPE_METADATA |
	    TOKEN_SCOPE_INFER, "resnet18"));
	ASSERT_FALSE(tokens_allows(&te, 0, NULL));
	ASSERT_FALSE(tokens_allows(NULL, TOKEN_SCOPE_HEALTH, NULL));
	ASSERT_INT_EQ(tokens_scopes_parse("infer", &te, err, sizeof(err)), 0);
	ASSERT_TRUE(tokens_allows(&te, TOKEN_SCOPE_INFER, "anything"));
	ASSERT_TRUE(tokens_allows(&te, TOKEN_SCOPE_INFER, NULL));
	TEST_DONE();

	TEST_START("names and limits");
	ASSERT_TRUE(tokens_name_ok("a"));
	ASSERT_TRUE(tokens_name_ok("ci.deploy_bot-2"));
	ASSERT_TRUE(tokens_name_ok("012345678901234567890123456789012345678901"
	    "234567890123456789012"));
	ASSERT_FALSE(tokens_name_ok("012345678901234567890123456789012345678901"
	    "2345678901234567890123"));
	ASSERT_FALSE(tokens_name_ok(""));
	ASSERT_FALSE(tokens_name_ok(NULL));
	ASSERT_FALSE(tokens_name_ok("a b"));
	ASSERT_FALSE(tokens_name_ok("a=b"));
	{
		double v = -1;

		ASSERT_INT_EQ(tokens_limit_parse("2.5", 0, &v), 0);
		ASSERT_DBL_GE(v, 2.5);
		ASSERT_DBL_LE(v, 2.5);
		ASSERT_INT_EQ(tokens_limit_parse("1000000", 1, &v), 0);
		ASSERT_INT_EQ(tokens_limit_parse("0.000001", 0, &v), 0);
		ASSERT_DBL_GE(v, 0.000001);
		ASSERT_DBL_LE(v, 0.000001);
		ASSERT_INT_EQ(tokens_limit_parse("2.5", 1, &v), AG_ERR_NUMERIC);
		ASSERT_INT_EQ(tokens_limit_parse(" 2", 0, &v), AG_ERR_NUMERIC);
		ASSERT_INT_EQ(tokens_limit_parse("2 ", 0, &v), AG_ERR_NUMERIC);
		ASSERT_INT_EQ(tokens_limit_parse("", 0, &v), AG_ERR_NUMERIC);
		ASSERT_INT_EQ(tokens_limit_parse("INF", 0, &v),
		    AG_ERR_NUMERIC);
		ASSERT_DBL_LE(v, 0.000001);	/* untouched */
	}
	TEST_DONE();
}

static void
test_find(void)
{
	struct token_set *ts;
	const struct token_entry *te;
	char h1[65], h2[65], text[2048], t[TOKEN_TEXT_LEN + 8];

	hex_hash(T1, h1);
	hex_hash(T2, h2);
	snprintf(text, sizeof(text),
	    "cert gw scopes=infer created=5\n"
	    "token one sha256=%s scopes=infer created=1\n"
	    "cert one.cert scopes=health created=5\n"
	    "token two sha256=%s scopes=admin created=2\n", h1, h2);
	ASSERT_INT_EQ(parse(text, &ts), 0);

	TEST_START("find: each bearer token, by its hash");
	ASSERT_INT_EQ(tokens_init(), 0);
	te = tokens_find(ts, T1, strlen(T1));
	ASSERT_PTR_NE(te, NULL);
	ASSERT_STRING_EQ(te->te_name, "one");
	te = tokens_find(ts, T2, strlen(T2));
	ASSERT_PTR_NE(te, NULL);
	ASSERT_STRING_EQ(te->te_name, "two");
	/* The last entry matches as well as the first (no early exit). */
	ASSERT_PTR_EQ(te, &ts->ts_e[3]);
	TEST_DONE();

	TEST_START("find: wrong tokens, wrong lengths, NULL");
	memcpy(t, T1, sizeof(T1));
	t[TOKEN_TEXT_LEN - 1] ^= 1;
	ASSERT_PTR_EQ(tokens_find(ts, t, strlen(t)), NULL);
	ASSERT_PTR_EQ(tokens_find(ts, T1, strlen(T1) - 1), NULL);
	ASSERT_PTR_EQ(tokens_find(ts, T1, 0), NULL);
	ASSERT_PTR_EQ(tokens_find(ts, "", 0), NULL);
	memcpy(t, T1, sizeof(T1));
	strcat(t, "AAA");
	ASSERT_PTR_EQ(tokens_find(ts, t, strlen(t)), NULL);
	/* A prefix of a token followed by garbage past len: len counts. */
	ASSERT_PTR_NE(tokens_find(ts, t, TOKEN_TEXT_LEN), NULL);
	/* A cert entry has no secret: its zero hash matches nothing. */
	{
		static const uint8_t zero[32];
		struct token_entry *c = &ts->ts_e[0];

		ASSERT_MEM_EQ(c->te_hash, zero, 32);
		ASSERT_PTR_EQ(tokens_find(ts, "gw", 2), NULL);
	}
	ASSERT_PTR_EQ(tokens_find(ts, NULL, 0), NULL);
	ASSERT_PTR_EQ(tokens_find(NULL, T1, strlen(T1)), NULL);
	TEST_DONE();

	TEST_START("find_cert: cert entries only, by name");
	te = tokens_find_cert(ts, "gw");
	ASSERT_PTR_NE(te, NULL);
	ASSERT_INT_EQ(te->te_kind, TOKEN_CERT);
	ASSERT_PTR_NE(tokens_find_cert(ts, "one.cert"), NULL);
	/* A bearer entry's name is no certificate identity. */
	ASSERT_PTR_EQ(tokens_find_cert(ts, "one"), NULL);
	ASSERT_PTR_EQ(tokens_find_cert(ts, "GW"), NULL);
	ASSERT_PTR_EQ(tokens_find_cert(ts, ""), NULL);
	ASSERT_PTR_EQ(tokens_find_cert(ts, NULL), NULL);
	TEST_DONE();
	tokens_free(ts);
}

static void
test_format(void)
{
	struct token_set *ts, *ts2;
	struct token_entry *e;
	char h1[65], text[4096], *out, *out2;
	size_t len, len2;
	const char *lim[] = { "0.1", "2.5", "1000000", "0.000001", "123.456",
	    "999999.999999", "7" };
	size_t i;

	hex_hash(T1, h1);

	TEST_START("format: parse(format(x)) == x, byte for byte");
	snprintf(text, sizeof(text),
	    "token ci sha256=%s scopes=infer,metadata rate=0.1 burst=20 "
	    "image_rate=2.5 image_burst=999999.999999 max_inflight=4 "
	    "created=1700000000\n"
	    "cert edge scopes=infer:resnet18,health created=0\n", h1);
	ASSERT_INT_EQ(parse(text, &ts), 0);
	ASSERT_INT_EQ(tokens_format(ts, &out, &len), 0);
	ASSERT_INT_EQ(len, strlen(out));
	ASSERT_STRING_CONTAINS(out, "token ci sha256=");
	ASSERT_STRING_CONTAINS(out, " scopes=metadata,infer rate=0.1 burst=20 "
	    "image_rate=2.5 image_burst=999999.999999 max_inflight=4 "
	    "created=1700000000\n");
	ASSERT_STRING_CONTAINS(out, "cert edge scopes=health,infer:resnet18 "
	    "created=0\n");
	ASSERT_INT_EQ(tokens_parse(out, len, "out", &ts2, err, sizeof(err)), 0);
	ASSERT_INT_EQ(ts2->ts_n, 2);
	ASSERT_MEM_EQ(ts2->ts_e, ts->ts_e, 2 * sizeof(*ts->ts_e));
	ASSERT_INT_EQ(tokens_format(ts2, &out2, &len2), 0);
	ASSERT_INT_EQ(len2, len);
	ASSERT_MEM_EQ(out2, out, len);
	free(out);
	free(out2);
	tokens_free(ts2);
	TEST_DONE();

	TEST_START("format: every limit comes back exact");
	for (i = 0; i < sizeof(lim) / sizeof(lim[0]); i++) {
		double v;

		ASSERT_INT_EQ(tokens_limit_parse(lim[i], 0, &v), 0);
		ts->ts_e[1].te_rate = v;
		ASSERT_INT_EQ(tokens_format(ts, &out, &len), 0);
		snprintf(text, sizeof(text), " rate=%s ", lim[i]);
		ASSERT_STRING_CONTAINS(out, text);
		ASSERT_INT_EQ(tokens_parse(out, len, "out", &ts2, err,
		    sizeof(err)), 0);
		ASSERT_TRUE(ts2->ts_e[1].te_rate == v);
		free(out);
		tokens_free(ts2);
	}
	TEST_DONE();

	TEST_START("format: refuses what the reader would refuse");
	e = &ts->ts_e[1];
	e->te_rate = -1;
	ASSERT_INT_EQ(tokens_format(ts, &out, &len), AG_ERR_INVALID_ARG);
	ASSERT_PTR_EQ(out, NULL);
	e->te_rate = 0;
	memcpy(e->te_name, "ci", 3);	/* a duplicate name */
	ASSERT_INT_EQ(tokens_format(ts, &out, &len), AG_ERR_INVALID_ARG);
	memcpy(e->te_name, "a b", 4);
	ASSERT_INT_EQ(tokens_format(ts, &out, &len), AG_ERR_INVALID_ARG);
	memcpy(e->te_name, "edge", 5);
	e->te_scopes = 0;
	e->te_nmodels = 0;
	ASSERT_INT_EQ(tokens_format(ts, &out, &len), AG_ERR_INVALID_ARG);
	e->te_scopes = TOKEN_SCOPE_HEALTH;
	ASSERT_INT_EQ(tokens_format(ts, &out, &len), 0);
	free(out);
	/* The empty set: a header and nothing else, which parses empty. */
	ts->ts_n = 0;
	ASSERT_INT_EQ(tokens_format(ts, &out, &len), 0);
	ASSERT_INT_EQ(tokens_parse(out, len, "out", &ts2, err, sizeof(err)), 0);
	ASSERT_INT_EQ(ts2->ts_n, 0);
	free(out);
	tokens_free(ts2);
	tokens_free(ts);
	TEST_DONE();
}

static void
test_generate(void)
{
	char a[TOKEN_TEXT_LEN + 1], b[TOKEN_TEXT_LEN + 1];
	size_t i;
	int k;

	TEST_START("generate: agt_ and 43 base64url characters, all new");
	ASSERT_INT_EQ(tokens_generate(a, sizeof(a)), 0);
	ASSERT_INT_EQ(strlen(a), TOKEN_TEXT_LEN);
	ASSERT_INT_EQ(strncmp(a, TOKEN_PREFIX, 4), 0);
	for (k = 0; k < 200; k++) {
		ASSERT_INT_EQ(tokens_generate(b, sizeof(b)), 0);
		ASSERT_INT_EQ(strlen(b), TOKEN_TEXT_LEN);
		for (i = 4; i < TOKEN_TEXT_LEN; i++)
			if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
			    "qrstuvwxyz0123456789-_", b[i]) == NULL)
				assert_fail(__FILE__, __LINE__,
				    "not base64url");
		ASSERT_TRUE(strcmp(a, b) != 0);
	}
	/* 256 bits in 43 characters: the last holds 4 bits, then zeros. */
	ASSERT_TRUE(strchr("AEIMQUYcgkosw048", b[TOKEN_TEXT_LEN - 1]) != NULL);
	ASSERT_INT_EQ(tokens_generate(a, TOKEN_TEXT_LEN), AG_ERR_INVALID_ARG);
	ASSERT_INT_EQ(tokens_generate(NULL, 100), AG_ERR_INVALID_ARG);
	TEST_DONE();

	TEST_START("hash: SHA-256");
	{
		uint8_t h[32];
		static const uint8_t abc[32] = {
			0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
			0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
			0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
			0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
		};

		tokens_hash("abc", 3, h);
		ASSERT_MEM_EQ(h, abc, 32);
	}
	TEST_DONE();
}

static void
test_read(void)
{
	struct token_set *ts;
	char path[512], h1[65];
	FILE *fp;

	hex_hash(T1, h1);
	TEST_START("read: a file, a missing file, a directory");
	snprintf(path, sizeof(path), "%s/tokens", test_tmpdir());
	ASSERT_PTR_NE(fp = fopen(path, "w"), NULL);
	fprintf(fp, "token a sha256=%s scopes=health created=1\n"
	    "cert b scopes=bogus created=1\n", h1);
	fclose(fp);
	ASSERT_INT_EQ(tokens_read(path, &ts, err, sizeof(err)), AG_ERR_FORMAT);
	ASSERT_PTR_EQ(ts, NULL);
	ASSERT_STRING_CONTAINS(err, ":2: unknown scope \"bogus\"");
	ASSERT_INT_EQ(strncmp(err, path, strlen(path)), 0);
	ASSERT_PTR_NE(fp = fopen(path, "w"), NULL);
	fprintf(fp, "token a sha256=%s scopes=health created=1\n", h1);
	fclose(fp);
	ASSERT_INT_EQ(tokens_read(path, &ts, err, sizeof(err)), 0);
	ASSERT_INT_EQ(ts->ts_n, 1);
	tokens_free(ts);
	snprintf(path, sizeof(path), "%s/absent", test_tmpdir());
	ASSERT_INT_EQ(tokens_read(path, &ts, err, sizeof(err)),
	    AG_ERR_NOT_FOUND);
	ASSERT_INT_EQ(tokens_read(test_tmpdir(), &ts, err, sizeof(err)),
	    AG_ERR_FORMAT);
	ASSERT_STRING_CONTAINS(err, "not a regular file");
	TEST_DONE();
}

void
tests(void)
{
	test_plan(23);
	test_good();
	test_bad();
	test_scopes();
	test_find();
	test_format();
	test_generate();
	test_read();
}
