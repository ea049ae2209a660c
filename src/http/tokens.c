/* SPDX-License-Identifier: ISC */
/*
 * tokens.c: the token file (http/tokens.h): its strict reader and its
 * writer, the constant-time lookup of a bearer token, scopes and endpoint
 * categories, and new tokens from getrandom(2).
 *
 * The file is root's, but the front parses its bytes too (the parent
 * passes them on), so nothing in it is trusted: every line is bounded,
 * every field is checked against a grammar of its own, and the first
 * fault stops the parse with the file and line named.  The messages quote
 * only bytes that passed a check (no control characters reach them), and
 * never a hash.
 */
#include <sys/random.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/ag_err.h"
#include "common/util.h"
#include "http/tokens.h"

/* The largest "created": 9999-12-31T23:59:59Z. */
#define TOKENS_CREATED_MAX	253402300799LL
/* Fraction digits of a limit: the file stays exact and short. */
#define TOKENS_LIMIT_FRAC	6

static const struct {
	const char	*name;
	uint32_t	 bit;
} token_cats[] = {
	/* The order of tokens_scopes_format() and of the header. */
	{ "health", TOKEN_SCOPE_HEALTH },
	{ "metadata", TOKEN_SCOPE_METADATA },
	{ "infer", TOKEN_SCOPE_INFER },
	{ "metrics", TOKEN_SCOPE_METRICS },
	{ "admin", TOKEN_SCOPE_ADMIN },
};
#define NCATS	(sizeof(token_cats) / sizeof(token_cats[0]))

/*
 * SHA-256, fetched once by tokens_init() before any confinement: an
 * implicit fetch at each EVP_sha256() call goes through OpenSSL's lazy
 * initialisation (configuration file, provider loading) the first time.
 */
static EVP_MD *tokens_md;

/* ==== names, numbers, scopes ========================================== */

static int
name_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

int
tokens_name_ok(const char *name)
{
	size_t i;

	if (name == NULL || name[0] == '\0')
		return 0;
	for (i = 0; name[i] != '\0'; i++)
		if (i >= TOKEN_NAME_MAX - 1 ||
		    !name_char((unsigned char)name[i]))
			return 0;
	return 1;
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

int
tokens_limit_parse(const char *s, int integer, double *out)
{
	uint64_t ip = 0, fp = 0, scale = 1;
	size_t i = 0, nint = 0, nfrac = 0;
	double v;

	if (s == NULL)
		return AG_ERR_NUMERIC;
	/* At most 7 integer digits: 1000000 is the largest value. */
	for (; is_digit((unsigned char)s[i]); i++, nint++) {
		if (nint >= 7)
			return AG_ERR_NUMERIC;
		ip = ip * 10 + (uint64_t)(s[i] - '0');
	}
	if (nint == 0)
		return AG_ERR_NUMERIC;
	if (s[i] == '.' && !integer) {
		for (i++; is_digit((unsigned char)s[i]); i++, nfrac++) {
			if (nfrac >= TOKENS_LIMIT_FRAC)
				return AG_ERR_NUMERIC;
			fp = fp * 10 + (uint64_t)(s[i] - '0');
			scale *= 10;
		}
		if (nfrac == 0)
			return AG_ERR_NUMERIC;
	}
	if (s[i] != '\0')
		return AG_ERR_NUMERIC;
	/*
	 * No strtod(): its decimal point follows the locale.  ip * scale +
	 * fp < 2^53 is exact, and one IEEE division rounds it correctly,
	 * as strtod would.
	 */
	v = (double)(ip * scale + fp) / (double)scale;
	if (!(v >= 0 && v <= TOKENS_LIMIT_MAX))
		return AG_ERR_NUMERIC;
	*out = v;
	return 0;
}

/* A limit as the file writes it; v passed tokens_limit_ok(). */
static void
limit_format(double v, char *buf, size_t len)
{
	long long m = llround(v * 1e6);	/* millionths, exact for parsed v */
	long long ip = m / 1000000, fp = m % 1000000;
	int nd = TOKENS_LIMIT_FRAC;

	if (fp == 0) {
		(void)snprintf(buf, len, "%lld", ip);
		return;
	}
	while (fp % 10 == 0) {
		fp /= 10;
		nd--;
	}
	(void)snprintf(buf, len, "%lld.%0*lld", ip, nd, fp);
}

static int
limit_ok(double v)
{
	return v >= 0 && v <= TOKENS_LIMIT_MAX;
}

const char *
tokens_category_name(uint32_t scope)
{
	size_t i;

	for (i = 0; i < NCATS; i++)
		if (token_cats[i].bit == scope)
			return token_cats[i].name;
	return NULL;
}

static uint32_t
category_bit(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < NCATS; i++)
		if (strlen(token_cats[i].name) == n &&
		    memcmp(token_cats[i].name, s, n) == 0)
			return token_cats[i].bit;
	return 0;
}

/* Bytes a scope list may hold; anything else is refused unquoted. */
static int
scope_char(int c)
{
	return name_char(c) || c == ':' || c == ',';
}

int
tokens_scopes_parse(const char *list, struct token_entry *te, char *err,
    size_t errlen)
{
	char models[TOKEN_MODELS_MAX][TOKEN_MODEL_MAX];
	const char *p, *e, *m;
	uint32_t scopes = 0, bit;
	size_t n, i;
	int nmodels = 0, k;

	memset(models, 0, sizeof(models));
	if (list == NULL || *list == '\0')
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG,
		    "empty scope list");
	for (i = 0; list[i] != '\0'; i++)
		if (i >= TOKENS_LINE_MAX || !scope_char((unsigned char)list[i]))
			return ag_errf(err, errlen, AG_ERR_INVALID_ARG,
			    "scope list: only letters, digits, '.', '_', "
			    "'-', ':' and ',' (at most %d bytes)",
			    TOKENS_LINE_MAX);
	for (p = list;; p = e + 1) {
		e = strchrnul(p, ',');
		n = (size_t)(e - p);
		if (n == 0)
			return ag_errf(err, errlen, AG_ERR_INVALID_ARG,
			    "scope list \"%s\": an empty scope", list);
		if (n > 6 && memcmp(p, "infer:", 6) == 0) {
			m = p + 6;
			n -= 6;
			if (n >= TOKEN_MODEL_MAX || memchr(m, ':', n) != NULL)
				return ag_errf(err, errlen, AG_ERR_INVALID_ARG,
				    "scope \"%.*s\": bad model name (1..%d "
				    "of [A-Za-z0-9._-])", (int)(e - p), p,
				    TOKEN_MODEL_MAX - 1);
			for (k = 0; k < nmodels; k++)
				if (strlen(models[k]) == n &&
				    memcmp(models[k], m, n) == 0)
					return ag_errf(err, errlen,
					    AG_ERR_INVALID_ARG, "scope "
					    "\"infer:%s\" given twice",
					    models[k]);
			if (nmodels >= TOKEN_MODELS_MAX)
				return ag_errf(err, errlen, AG_ERR_INVALID_ARG,
				    "more than %d infer:MODEL scopes",
				    TOKEN_MODELS_MAX);
			memcpy(models[nmodels], m, n);
			models[nmodels++][n] = '\0';
		} else {
			if ((bit = category_bit(p, n)) == 0)
				return ag_errf(err, errlen, AG_ERR_INVALID_ARG,
				    "unknown scope \"%.*s\" (health, metadata, "
				    "infer, infer:MODEL, metrics, admin)",
				    (int)n, p);
			if (scopes & bit)
				return ag_errf(err, errlen, AG_ERR_INVALID_ARG,
				    "scope \"%.*s\" given twice", (int)n, p);
			scopes |= bit;
		}
		if (*e == '\0')
			break;
	}
	/* "infer,infer:a" says two different things: one must be a slip. */
	if ((scopes & TOKEN_SCOPE_INFER) && nmodels > 0)
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG,
		    "scope list \"%s\": infer (every model) with infer:MODEL",
		    list);
	te->te_scopes = scopes;
	te->te_nmodels = nmodels;
	memset(te->te_models, 0, sizeof(te->te_models));
	for (k = 0; k < nmodels; k++)
		memcpy(te->te_models[k], models[k], sizeof(models[k]));
	return 0;
}

void
tokens_scopes_format(const struct token_entry *te, char *buf, size_t len)
{
	size_t i, o = 0;
	int k, n;

	if (len == 0)
		return;
	buf[0] = '\0';
#define PUT(...) do {							\
	n = snprintf(buf + o, len - o, __VA_ARGS__);			\
	if (n < 0 || (size_t)n >= len - o) {				\
		buf[o] = '\0';	/* whole scopes only */			\
		return;							\
	}								\
	o += (size_t)n;							\
} while (0)
	for (i = 0; i < NCATS; i++) {
		if (te->te_scopes & token_cats[i].bit)
			PUT("%s%s", o ? "," : "", token_cats[i].name);
		if (token_cats[i].bit != TOKEN_SCOPE_INFER)
			continue;
		for (k = 0; k < te->te_nmodels && k < TOKEN_MODELS_MAX; k++)
			PUT("%sinfer:%s", o ? "," : "", te->te_models[k]);
	}
#undef PUT
}

int
tokens_allows(const struct token_entry *te, uint32_t scope,
    const char *model)
{
	int k;

	/* One category bit, nothing else. */
	if (te == NULL || tokens_category_name(scope) == NULL)
		return 0;
	if (te->te_scopes & scope)
		return 1;
	if (scope != TOKEN_SCOPE_INFER || model == NULL)
		return 0;
	for (k = 0; k < te->te_nmodels && k < TOKEN_MODELS_MAX; k++)
		if (strncmp(te->te_models[k], model, TOKEN_MODEL_MAX) == 0 &&
		    strlen(model) < TOKEN_MODEL_MAX)
			return 1;
	return 0;
}

/* ==== hashing and lookup =============================================== */

int
tokens_init(void)
{
	uint8_t h[32];

	if (tokens_md == NULL &&
	    (tokens_md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		return AG_ERR_INTERNAL;
	/* One hash through the whole path, now. */
	if (EVP_Digest("", 0, h, NULL, tokens_md, NULL) != 1)
		return AG_ERR_INTERNAL;
	return 0;
}

void
tokens_hash(const char *token, size_t len, uint8_t out[32])
{
	unsigned int n = 0;
	int ok;

	ok = EVP_Digest(token, len, out, &n,
	    tokens_md != NULL ? tokens_md : EVP_sha256(), NULL);
	/* A digest that fails has no safe answer: stop (fail closed). */
	AG_ASSERT(ok == 1 && n == 32);
}

const struct token_entry *
tokens_find(const struct token_set *ts, const char *token, size_t len)
{
	uint8_t h[32];
	size_t i, found = 0, mask, eq;

	if (ts == NULL || token == NULL)
		return NULL;
	/* Any length is hashed: a short or long input takes the same path. */
	tokens_hash(token, len, h);
	for (i = 0; i < ts->ts_n; i++) {
		/* CRYPTO_memcmp: no early exit; 0 when equal. */
		eq = (size_t)(CRYPTO_memcmp(h, ts->ts_e[i].te_hash,
		    sizeof(h)) == 0);
		eq &= (size_t)(ts->ts_e[i].te_kind == TOKEN_BEARER);
		/* All ones when this entry matches, else 0: no branch. */
		mask = (size_t)0 - eq;
		/* Keep the compiler from turning the select into a jump. */
		__asm__ volatile("" : "+r"(mask));
		found = (found & ~mask) | ((i + 1) & mask);
	}
	explicit_bzero(h, sizeof(h));
	return found == 0 ? NULL : &ts->ts_e[found - 1];
}

const struct token_entry *
tokens_find_cert(const struct token_set *ts, const char *cn)
{
	size_t i;

	if (ts == NULL || cn == NULL)
		return NULL;
	for (i = 0; i < ts->ts_n; i++)
		if (ts->ts_e[i].te_kind == TOKEN_CERT &&
		    strcmp(ts->ts_e[i].te_name, cn) == 0)
			return &ts->ts_e[i];
	return NULL;
}

/* ==== new tokens ======================================================= */

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int
tokens_generate(char *buf, size_t len)
{
	uint8_t raw[32];
	size_t got = 0, i, o;
	uint32_t acc = 0;
	int bits = 0;
	ssize_t n;

	if (buf == NULL || len < TOKEN_TEXT_LEN + 1)
		return AG_ERR_INVALID_ARG;
	/* Flags 0: blocks until the kernel's pool is ready. */
	while (got < sizeof(raw)) {
		n = getrandom(raw + got, sizeof(raw) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			explicit_bzero(raw, sizeof(raw));
			return AG_ERR_SYSTEM;
		}
		got += (size_t)n;
	}
	memcpy(buf, TOKEN_PREFIX, sizeof(TOKEN_PREFIX) - 1);
	o = sizeof(TOKEN_PREFIX) - 1;
	/* base64url without padding: 256 bits, 43 characters. */
	for (i = 0; i < sizeof(raw); i++) {
		acc = (acc << 8) | raw[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			buf[o++] = b64url[(acc >> bits) & 0x3f];
		}
	}
	if (bits > 0)
		buf[o++] = b64url[(acc << (6 - bits)) & 0x3f];
	buf[o] = '\0';
	AG_ASSERT(o == TOKEN_TEXT_LEN);
	explicit_bzero(raw, sizeof(raw));
	acc = 0;
	return 0;
}

/* ==== the file ========================================================= */

enum {
	KEY_SHA256 = 1 << 0,
	KEY_SCOPES = 1 << 1,
	KEY_RATE = 1 << 2,
	KEY_BURST = 1 << 3,
	KEY_IMAGE_RATE = 1 << 4,
	KEY_IMAGE_BURST = 1 << 5,
	KEY_MAX_INFLIGHT = 1 << 6,
	KEY_CREATED = 1 << 7,
};

static const struct {
	const char	*name;
	int		 bit;
} token_keys[] = {
	{ "sha256", KEY_SHA256 },
	{ "scopes", KEY_SCOPES },
	{ "rate", KEY_RATE },
	{ "burst", KEY_BURST },
	{ "image_rate", KEY_IMAGE_RATE },
	{ "image_burst", KEY_IMAGE_BURST },
	{ "max_inflight", KEY_MAX_INFLIGHT },
	{ "created", KEY_CREATED },
};
#define NKEYS	(sizeof(token_keys) / sizeof(token_keys[0]))

/* Where a line's message goes: "FILE:LINE: ". */
struct tpos {
	const char	*what;
	size_t		 line;
	char		*err;
	size_t		 errlen;
};

static int
tpos_err(const struct tpos *tp, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
tpos_err(const struct tpos *tp, int r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ag_errf(tp->err, tp->errlen, r, "%s:%zu: %s", tp->what,
	    tp->line, msg);
}

/* 64 lowercase hex digits (as the file is written) into out. */
static int
hex64_parse(const char *s, uint8_t out[32])
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return -1;
	if (s[64] != '\0')
		return -1;
	for (i = 0; i < 32; i++)
		out[i] = (uint8_t)(ag_hex_digit(s[2 * i]) << 4 |
		    ag_hex_digit(s[2 * i + 1]));
	return 0;
}

/* Seconds since the epoch: digits, no leading zero, up to year 9999. */
static int
created_parse(const char *s, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (!is_digit((unsigned char)s[i]) || i >= 12)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v > TOKENS_CREATED_MAX)
		return -1;
	*out = v;
	return 0;
}

/* One key=value field of an entry into te; *seen has its key's bit. */
static int
field_parse(const struct tpos *tp, char *f, struct token_entry *te,
    int *seen)
{
	char serr[256];
	double v;
	char *val;
	size_t i, n;

	if ((val = strchr(f, '=')) == NULL)
		return tpos_err(tp, AG_ERR_FORMAT, "\"%.40s\": expected "
		    "KEY=VALUE", f);
	n = (size_t)(val - f);
	*val++ = '\0';
	for (i = 0; i < NKEYS; i++)
		if (strcmp(token_keys[i].name, f) == 0)
			break;
	if (i == NKEYS)
		return tpos_err(tp, AG_ERR_FORMAT, "unknown key \"%.*s\"",
		    (int)(n > 40 ? 40 : n), f);
	if (*seen & token_keys[i].bit)
		return tpos_err(tp, AG_ERR_FORMAT, "key %s given twice", f);
	*seen |= token_keys[i].bit;
	if (*val == '\0')
		return tpos_err(tp, AG_ERR_FORMAT, "%s: empty value", f);
	switch (token_keys[i].bit) {
	case KEY_SHA256:
		if (te->te_kind != TOKEN_BEARER)
			return tpos_err(tp, AG_ERR_FORMAT, "sha256 in a cert "
			    "entry (a client certificate has no secret)");
		if (hex64_parse(val, te->te_hash) != 0)
			return tpos_err(tp, AG_ERR_FORMAT, "sha256: expected "
			    "64 lowercase hex digits");
		return 0;
	case KEY_SCOPES:
		if (tokens_scopes_parse(val, te, serr, sizeof(serr)) != 0)
			return tpos_err(tp, AG_ERR_FORMAT, "%s", serr);
		return 0;
	case KEY_CREATED:
		if (created_parse(val, &te->te_created) != 0)
			return tpos_err(tp, AG_ERR_FORMAT, "created: expected "
			    "seconds since the epoch (0..%lld)",
			    TOKENS_CREATED_MAX);
		return 0;
	case KEY_MAX_INFLIGHT:
		if (tokens_limit_parse(val, 1, &v) != 0)
			return tpos_err(tp, AG_ERR_FORMAT, "max_inflight: "
			    "expected a whole number 0..%d", TOKENS_LIMIT_MAX);
		te->te_max_inflight = (int)v;
		return 0;
	}
	if (tokens_limit_parse(val, 0, &v) != 0)
		return tpos_err(tp, AG_ERR_FORMAT, "%s: expected a decimal "
		    "number 0..%d (at most %d digits after the point)", f,
		    TOKENS_LIMIT_MAX, TOKENS_LIMIT_FRAC);
	switch (token_keys[i].bit) {
	case KEY_RATE:
		te->te_rate = v;
		break;
	case KEY_BURST:
		te->te_burst = v;
		break;
	case KEY_IMAGE_RATE:
		te->te_image_rate = v;
		break;
	default:
		te->te_image_burst = v;
		break;
	}
	return 0;
}

static int
is_blank(int c)
{
	return c == ' ' || c == '\t';
}

/* The next blank-separated field of *p (NUL-terminated in place), or NULL. */
static char *
next_field(char **p)
{
	char *s = *p, *e;

	while (is_blank(*s))
		s++;
	if (*s == '\0')
		return NULL;
	for (e = s; *e != '\0' && !is_blank(*e); e++)
		;
	if (*e != '\0')
		*e++ = '\0';
	*p = e;
	return s;
}

/* An entry line (not blank, not a comment) into te. */
static int
entry_parse(const struct tpos *tp, char *line, struct token_entry *te)
{
	char *p = line, *f, *name;
	int seen = 0, need, r;

	memset(te, 0, sizeof(*te));
	f = next_field(&p);
	if (strcmp(f, "token") == 0)
		te->te_kind = TOKEN_BEARER;
	else if (strcmp(f, "cert") == 0)
		te->te_kind = TOKEN_CERT;
	else
		return tpos_err(tp, AG_ERR_FORMAT, "expected \"token\" or "
		    "\"cert\" at the start of an entry");
	if ((name = next_field(&p)) == NULL)
		return tpos_err(tp, AG_ERR_FORMAT, "%s: no name", f);
	if (!tokens_name_ok(name))
		return tpos_err(tp, AG_ERR_FORMAT, "bad name (1..%d of "
		    "[A-Za-z0-9._-])", TOKEN_NAME_MAX - 1);
	memcpy(te->te_name, name, strlen(name) + 1);
	while ((f = next_field(&p)) != NULL)
		if ((r = field_parse(tp, f, te, &seen)) != 0)
			return r;
	need = KEY_SCOPES | KEY_CREATED |
	    (te->te_kind == TOKEN_BEARER ? KEY_SHA256 : 0);
	if ((seen & need) != need)
		return tpos_err(tp, AG_ERR_FORMAT, "%s: no %s", te->te_name,
		    !(seen & KEY_SHA256) && te->te_kind == TOKEN_BEARER ?
		    "sha256" : !(seen & KEY_SCOPES) ? "scopes" : "created");
	return 0;
}

/* Refuses a name, or a bearer hash, that an earlier entry has. */
static int
entry_unique(const struct tpos *tp, const struct token_set *ts,
    const struct token_entry *te)
{
	size_t i;

	for (i = 0; i < ts->ts_n; i++) {
		if (strcmp(ts->ts_e[i].te_name, te->te_name) == 0)
			return tpos_err(tp, AG_ERR_FORMAT, "name %s given "
			    "twice", te->te_name);
		if (te->te_kind == TOKEN_BEARER &&
		    ts->ts_e[i].te_kind == TOKEN_BEARER &&
		    memcmp(ts->ts_e[i].te_hash, te->te_hash, 32) == 0)
			return tpos_err(tp, AG_ERR_FORMAT, "%s: the same token "
			    "hash as %s", te->te_name, ts->ts_e[i].te_name);
	}
	return 0;
}

int
tokens_parse(const char *buf, size_t len, const char *what,
    struct token_set **out, char *err, size_t errlen)
{
	char line[TOKENS_LINE_MAX + 1];
	struct token_set *ts;
	struct token_entry *ne;
	struct tpos tp = { what, 0, err, errlen };
	size_t off = 0, n, i, cap = 0;
	const char *nl;
	char *s;
	int r;

	*out = NULL;
	if (what == NULL)
		tp.what = "(tokens)";
	if (len > TOKENS_FILE_MAX)
		return ag_errf(err, errlen, AG_ERR_TOO_LARGE, "%s: %zu bytes, "
		    "more than %d", tp.what, len, TOKENS_FILE_MAX);
	if (buf == NULL && len > 0)
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG, "%s: no data",
		    tp.what);
	if ((ts = calloc(1, sizeof(*ts))) == NULL)
		return ag_errf(err, errlen, AG_ERR_ALLOC, "%s: out of memory",
		    tp.what);
	while (off < len) {
		tp.line++;
		nl = memchr(buf + off, '\n', len - off);
		n = nl != NULL ? (size_t)(nl - (buf + off)) : len - off;
		if (n > TOKENS_LINE_MAX) {
			r = tpos_err(&tp, AG_ERR_TOO_LARGE, "line longer than "
			    "%d bytes", TOKENS_LINE_MAX);
			goto fail;
		}
		memcpy(line, buf + off, n);
		line[n] = '\0';
		off += n + (nl != NULL);
		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)line[i];

			if (c == '\0') {
				r = tpos_err(&tp, AG_ERR_FORMAT, "NUL byte");
				goto fail;
			}
			/* Tab is a blank; no other control character. */
			if ((c < 0x20 && c != '\t') || c == 0x7f) {
				r = tpos_err(&tp, AG_ERR_FORMAT, "control "
				    "character 0x%02x", c);
				goto fail;
			}
		}
		for (s = line; is_blank(*s); s++)
			;
		if (*s == '\0' || *s == '#')
			continue;
		if (ts->ts_n >= TOKENS_MAX) {
			r = tpos_err(&tp, AG_ERR_TOO_LARGE, "more than %d "
			    "entries", TOKENS_MAX);
			goto fail;
		}
		if (ts->ts_n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if (cap > TOKENS_MAX)
				cap = TOKENS_MAX;
			if ((ne = reallocarray(ts->ts_e, cap,
			    sizeof(*ne))) == NULL) {
				r = tpos_err(&tp, AG_ERR_ALLOC, "out of "
				    "memory");
				goto fail;
			}
			ts->ts_e = ne;
		}
		ne = &ts->ts_e[ts->ts_n];
		if ((r = entry_parse(&tp, s, ne)) != 0 ||
		    (r = entry_unique(&tp, ts, ne)) != 0)
			goto fail;
		ts->ts_n++;
	}
	*out = ts;
	return 0;
 fail:
	tokens_free(ts);
	return r;
}

int
tokens_read(const char *path, struct token_set **out, char *err,
    size_t errlen)
{
	uint8_t *buf;
	size_t len;
	int r;

	*out = NULL;
	/* ag_read_file: ag_open_regular(), then the size cap. */
	if ((r = ag_read_file(path, TOKENS_FILE_MAX, &buf, &len, err,
	    errlen)) != 0)
		return r;
	r = tokens_parse((const char *)buf, len, path, out, err, errlen);
	free(buf);
	return r;
}

void
tokens_free(struct token_set *ts)
{
	if (ts == NULL)
		return;
	if (ts->ts_e != NULL) {
		explicit_bzero(ts->ts_e, ts->ts_n * sizeof(*ts->ts_e));
		free(ts->ts_e);
	}
	free(ts);
}

/* One entry's line, with its newline; -1 when te could not be parsed back. */
static int
entry_format(const struct token_entry *te, char *buf, size_t len)
{
	char scopes[TOKENS_LINE_MAX], num[32];
	size_t o = 0, i;
	int n, k;
	const struct {
		const char	*key;
		double		 v;
	} lim[] = {
		{ "rate", te->te_rate },
		{ "burst", te->te_burst },
		{ "image_rate", te->te_image_rate },
		{ "image_burst", te->te_image_burst },
		{ "max_inflight", te->te_max_inflight },
	};

	if (!tokens_name_ok(te->te_name) ||
	    (te->te_kind != TOKEN_BEARER && te->te_kind != TOKEN_CERT) ||
	    (te->te_scopes & ~TOKEN_SCOPE_ALL) != 0 ||
	    te->te_nmodels < 0 || te->te_nmodels > TOKEN_MODELS_MAX ||
	    (te->te_scopes == 0 && te->te_nmodels == 0) ||
	    ((te->te_scopes & TOKEN_SCOPE_INFER) && te->te_nmodels > 0) ||
	    te->te_created < 0 || te->te_created > TOKENS_CREATED_MAX ||
	    te->te_max_inflight < 0 || te->te_max_inflight > TOKENS_LIMIT_MAX)
		return -1;
	for (k = 0; k < te->te_nmodels; k++)
		if (memchr(te->te_models[k], '\0', TOKEN_MODEL_MAX) == NULL ||
		    !tokens_name_ok(te->te_models[k]))
			return -1;
	tokens_scopes_format(te, scopes, sizeof(scopes));
#define PUT(...) do {							\
	n = snprintf(buf + o, len - o, __VA_ARGS__);			\
	if (n < 0 || (size_t)n >= len - o)				\
		return -1;						\
	o += (size_t)n;							\
} while (0)
	PUT("%s %s", te->te_kind == TOKEN_BEARER ? "token" : "cert",
	    te->te_name);
	if (te->te_kind == TOKEN_BEARER) {
		PUT(" sha256=");
		for (i = 0; i < 32; i++)
			PUT("%02x", te->te_hash[i]);
	}
	PUT(" scopes=%s", scopes);
	for (i = 0; i < sizeof(lim) / sizeof(lim[0]); i++) {
		if (!limit_ok(lim[i].v))
			return -1;
		if (lim[i].v == 0)
			continue;
		limit_format(lim[i].v, num, sizeof(num));
		PUT(" %s=%s", lim[i].key, num);
	}
	PUT(" created=%lld\n", (long long)te->te_created);
#undef PUT
	/* The line, without its newline, within the reader's limit. */
	return o - 1 <= TOKENS_LINE_MAX ? (int)o : -1;
}

#define TOKENS_FILE_HEAD \
	"# aiguard token file: written by aiguard token add and revoke.\n" \
	"# Each token is stored as its SHA-256, never in clear.\n"

int
tokens_format(const struct token_set *ts, char **out, size_t *outlen)
{
	char *buf;
	size_t cap, o, i, j;
	int n;

	*out = NULL;
	*outlen = 0;
	if (ts == NULL || ts->ts_n > TOKENS_MAX)
		return AG_ERR_INVALID_ARG;
	/* Nothing the reader would refuse: names unique (hashes too). */
	for (i = 0; i < ts->ts_n; i++)
		for (j = 0; j < i; j++)
			if (strncmp(ts->ts_e[i].te_name, ts->ts_e[j].te_name,
			    TOKEN_NAME_MAX) == 0 ||
			    (ts->ts_e[i].te_kind == TOKEN_BEARER &&
			    ts->ts_e[j].te_kind == TOKEN_BEARER &&
			    memcmp(ts->ts_e[i].te_hash, ts->ts_e[j].te_hash,
			    32) == 0))
				return AG_ERR_INVALID_ARG;
	/* Every line fits TOKENS_LINE_MAX and its newline. */
	cap = sizeof(TOKENS_FILE_HEAD) + ts->ts_n * (TOKENS_LINE_MAX + 2);
	if ((buf = malloc(cap)) == NULL)
		return AG_ERR_ALLOC;
	memcpy(buf, TOKENS_FILE_HEAD, sizeof(TOKENS_FILE_HEAD) - 1);
	o = sizeof(TOKENS_FILE_HEAD) - 1;
	for (i = 0; i < ts->ts_n; i++) {
		if ((n = entry_format(&ts->ts_e[i], buf + o, cap - o)) < 0) {
			free(buf);
			return AG_ERR_INVALID_ARG;
		}
		o += (size_t)n;
	}
	buf[o] = '\0';
	*out = buf;
	*outlen = o;
	return 0;
}
