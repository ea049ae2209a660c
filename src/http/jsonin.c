/* SPDX-License-Identifier: ISC */
/*
 * jsonin.c: the JSON reader declared in jsonin.h: the key hash's key, the
 * primitives, the duplicate-key table and the non-recursive skip.
 */
#include <sys/random.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ag_err.h"
#include "common/siphash.h"
#include "common/util.h"
#include "http/jsonin.h"
#include "http/jsonnum.h"

/* ==== The key hash: SipHash-2-4 with a per-process random key ======== */

/*
 * Object keys are attacker bytes, and the duplicate check looks them up in
 * a hash table.  With an unkeyed hash (it was 32-bit FNV-1a) a client can
 * send thousands of distinct keys with one hash and make every lookup a
 * walk over the whole table with full compares: 19.9 s of CPU for a
 * 32 MiB body.  SipHash (Aumasson and Bernstein, 2012) is a PRF: without
 * the 128-bit key, which jsonin_init() draws from getrandom(2) once per
 * process, nobody can aim keys at one slot or one hash.  The same choice as
 * Python's, Rust's and Perl's hash tables.
 */
static uint64_t jsonin_k0, jsonin_k1;
static int jsonin_keyed;

int
jsonin_init(void)
{
	uint8_t key[16];
	size_t got = 0;
	ssize_t n;

	if (jsonin_keyed)
		return 0;
	/* Flags 0: blocks until the kernel's pool is ready, once. */
	while (got < sizeof(key)) {
		n = getrandom(key + got, sizeof(key) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return AG_ERR_SYSTEM;
		got += (size_t)n;
	}
	siphash24_key(key, &jsonin_k0, &jsonin_k1);
	explicit_bzero(key, sizeof(key));
	jsonin_keyed = 1;
	return 0;
}

int
jsonin_ready(void)
{
	return jsonin_keyed;
}

void
jsonin_begin(struct jsonin *jp, const uint8_t *text, size_t len,
    char *err, size_t errlen)
{
	AG_ASSERT(jsonin_keyed);	/* jsonin_init(), before the sandbox */
	jp->start = jp->p = text;
	jp->end = text + len;
	jp->depth = 0;
	jp->nkeys = 0;
	jp->collisions = 0;
	memset(jp->slots, 0, sizeof(jp->slots));
	memset(&jp->work, 0, sizeof(jp->work));
	jp->err = err;
	jp->errlen = errlen;
}

/* ==== The JSON reader ================================================= */

int __attribute__((noinline))
jsonin_syntax(struct jsonin *jp, const char *what)
{
	size_t off = (size_t)(jp->p - jp->start);

	if (jp->p >= jp->end)
		return ag_errf(jp->err, jp->errlen, AG_ERR_JSON,
		    "%s: JSON ends early (byte %zu)", what, off);
	return ag_errf(jp->err, jp->errlen, AG_ERR_JSON,
	    "%s: invalid JSON at byte %zu", what, off);
}

/* Error for a value of the wrong type, or a syntax error if it is none. */
int __attribute__((noinline))
jsonin_type(struct jsonin *jp, const char *what, const char *expected)
{
	if (!jsonin_at_value(jp))
		return jsonin_syntax(jp, what);
	return ag_errf(jp->err, jp->errlen, AG_ERR_FORMAT,
	    "%s: expected %s", what, expected);
}

/* Four hex digits at p (bounds checked by the caller), or -1. */
static int32_t
hex4(const uint8_t *p)
{
	int32_t v = 0;
	int i, h;

	for (i = 0; i < 4; i++) {
		if ((h = ag_hex_digit(p[i])) < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/*
 * Length of the well-formed UTF-8 sequence of two or more bytes at p (not
 * past end), or 0: no overlong forms, no surrogates, nothing past
 * U+10FFFF (RFC 3629 table 3-7).
 */
int
jsonin_utf8_len(const uint8_t *p, const uint8_t *end)
{
	uint8_t c = p[0], lo = 0x80, hi = 0xbf;
	int n, i;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (end - p < n)
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* A decoded string, byte by byte: copied up to a cap, counted, hashed. */
struct jsink {
	char		*buf;
	size_t		 cap;	/* bytes of buf; cap - 1 are kept */
	size_t		 len;
	struct siphash24 *hash;	/* NULL: not hashed */
};

static inline void
sink_put(struct jsink *s, uint8_t c)
{
	if (s->len + 1 < s->cap)
		s->buf[s->len] = (char)c;
	s->len++;
	if (s->hash != NULL)
		siphash24_byte(s->hash, c);
}

static void
sink_cp(struct jsink *s, uint32_t cp)
{
	if (cp < 0x80)
		sink_put(s, (uint8_t)cp);
	else if (cp < 0x800) {
		sink_put(s, (uint8_t)(0xc0 | cp >> 6));
		sink_put(s, (uint8_t)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		sink_put(s, (uint8_t)(0xe0 | cp >> 12));
		sink_put(s, (uint8_t)(0x80 | (cp >> 6 & 0x3f)));
		sink_put(s, (uint8_t)(0x80 | (cp & 0x3f)));
	} else {
		sink_put(s, (uint8_t)(0xf0 | cp >> 18));
		sink_put(s, (uint8_t)(0x80 | (cp >> 12 & 0x3f)));
		sink_put(s, (uint8_t)(0x80 | (cp >> 6 & 0x3f)));
		sink_put(s, (uint8_t)(0x80 | (cp & 0x3f)));
	}
}

/*
 * Parses the JSON string at the cursor.  Decoded bytes go to buf (up to
 * cap - 1 of them, then a NUL; buf may be NULL with cap 0); *lenp gets the
 * full decoded length and *hashp its keyed SipHash (either may be NULL).
 */
int
jsonin_string(struct jsonin *jp, const char *what, char *buf, size_t cap,
    size_t *lenp, uint64_t *hashp)
{
	struct siphash24 h;
	struct jsink s = { buf, cap, 0, hashp != NULL ? &h : NULL };
	const uint8_t *p = jp->p, *end = jp->end;
	int32_t cp, lo;
	int n;

	if (p >= end || *p != '"')
		return jsonin_type(jp, what, "a string");
	if (hashp != NULL)
		siphash24_init(&h, jsonin_k0, jsonin_k1);
	p++;
	for (;;) {
		if (p >= end)
			goto bad;
		if (*p == '"')
			break;
		if (*p < 0x20) {
			/* Control characters must be escaped (RFC 8259). */
			goto bad;
		} else if (*p == '\\') {
			if (end - p < 2)
				goto bad;
			switch (p[1]) {
			case '"': case '\\': case '/':
				sink_put(&s, p[1]);
				break;
			case 'b': sink_put(&s, '\b'); break;
			case 'f': sink_put(&s, '\f'); break;
			case 'n': sink_put(&s, '\n'); break;
			case 'r': sink_put(&s, '\r'); break;
			case 't': sink_put(&s, '\t'); break;
			case 'u':
				if (end - p < 6 || (cp = hex4(p + 2)) < 0)
					goto bad;
				if (cp >= 0xdc00 && cp <= 0xdfff)
					goto bad;	/* lone low surrogate */
				if (cp >= 0xd800 && cp <= 0xdbff) {
					/* Must pair with a low surrogate. */
					if (end - p < 12 || p[6] != '\\' ||
					    p[7] != 'u' ||
					    (lo = hex4(p + 8)) < 0xdc00 ||
					    lo > 0xdfff)
						goto bad;
					cp = 0x10000 + ((cp - 0xd800) << 10) +
					    (lo - 0xdc00);
					p += 6;
				}
				sink_cp(&s, (uint32_t)cp);
				p += 4;
				break;
			default:
				goto bad;
			}
			p += 2;
		} else if (*p < 0x80) {
			sink_put(&s, *p);
			p++;
		} else {
			if ((n = jsonin_utf8_len(p, end)) == 0)
				goto bad;
			while (n-- > 0)
				sink_put(&s, *p++);
		}
	}
	jp->p = p + 1;
	if (cap > 0)
		buf[s.len < cap ? s.len : cap - 1] = '\0';
	if (lenp != NULL)
		*lenp = s.len;
	if (hashp != NULL)
		*hashp = siphash24_final(&h);
	return 0;
 bad:
	jp->p = p;
	return ag_errf(jp->err, jp->errlen, AG_ERR_JSON,
	    "%s: bad string at byte %zu (control character, escape or "
	    "UTF-8)", what, (size_t)(p - jp->start));
}

/* Next code point of a string jsonin_string() accepted, or -1 at its end. */
static int32_t
jstr_next(const uint8_t **pp)
{
	const uint8_t *p = *pp;
	int32_t cp;

	if (*p == '"')
		return -1;
	if (*p == '\\') {
		switch (p[1]) {
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u':
			cp = hex4(p + 2);
			if (cp >= 0xd800 && cp <= 0xdbff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (hex4(p + 8) - 0xdc00);
				p += 6;
			}
			p += 4;
			break;
		default: cp = p[1]; break;
		}
		p += 2;
	} else if (*p < 0x80)
		cp = *p++;
	else if (*p < 0xe0) {
		cp = (p[0] & 0x1f) << 6 | (p[1] & 0x3f);
		p += 2;
	} else if (*p < 0xf0) {
		cp = (p[0] & 0x0f) << 12 | (p[1] & 0x3f) << 6 | (p[2] & 0x3f);
		p += 3;
	} else {
		cp = (p[0] & 0x07) << 18 | (p[1] & 0x3f) << 12 |
		    (p[2] & 0x3f) << 6 | (p[3] & 0x3f);
		p += 4;
	}
	*pp = p;
	return cp;
}

/* Do two accepted strings decode to the same text? */
static int
jstr_equal(struct jsonin *jp, const uint8_t *a, const uint8_t *b)
{
	int32_t ca, cb;

	do {
		ca = jstr_next(&a);
		cb = jstr_next(&b);
		jp->work.jw_cmp++;
		if (ca != cb)
			return 0;
	} while (ca >= 0);
	return 1;
}

/*
 * Adds a key of the object whose keys start at index frame, refusing one
 * the object has already.  Work per key: the slots of its probe run (about
 * one with the keyed hash, never more than JSONIN_MAX_KEYS) and full
 * compares only where the 64-bit hash and the length agree, which ends the
 * parse (a duplicate) or counts against JSONIN_MAX_COLLISIONS.
 */
static int
jsonin_key_add(struct jsonin *jp, const char *what, int frame,
    const uint8_t *raw, size_t len, uint64_t hash)
{
	const struct jsonin_key *k;
	uint32_t i;
	int s;

	jp->work.jw_keys++;
	/* At most JSONIN_MAX_KEYS of JSONIN_SLOTS are used: an empty one ends
	 * it. */
	for (i = (uint32_t)hash & (JSONIN_SLOTS - 1); (s = jp->slots[i]) != 0;
	    i = (i + 1) & (JSONIN_SLOTS - 1)) {
		jp->work.jw_probes++;
		k = &jp->keys[s - 1];
		/* Keys of the enclosing objects may repeat here. */
		if (s - 1 < frame || k->jk_hash != hash ||
		    k->jk_len != (uint32_t)len)
			continue;
		if (jstr_equal(jp, k->jk_raw, raw))
			return ag_errf(jp->err, jp->errlen, AG_ERR_DUPLICATE,
			    "%s: duplicate key", what);
		if (++jp->collisions > JSONIN_MAX_COLLISIONS)
			return ag_errf(jp->err, jp->errlen, AG_ERR_TOO_LARGE,
			    "%s: more than %d pairs of keys with one hash",
			    what, JSONIN_MAX_COLLISIONS);
	}
	if (jp->nkeys >= JSONIN_MAX_KEYS)
		return ag_errf(jp->err, jp->errlen, AG_ERR_TOO_LARGE,
		    "%s: more than %d keys in open objects", what,
		    JSONIN_MAX_KEYS);
	jp->slots[i] = (uint16_t)(jp->nkeys + 1);
	jp->keys[jp->nkeys].jk_raw = raw;
	jp->keys[jp->nkeys].jk_hash = hash;
	jp->keys[jp->nkeys].jk_len = (uint32_t)len;
	jp->keys[jp->nkeys].jk_slot = i;
	jp->nkeys++;
	return 0;
}

/* Drops the keys of the object closing, last added first (see JSONIN_SLOTS). */
static void
jsonin_keys_drop(struct jsonin *jp, int frame)
{
	while (jp->nkeys > frame) {
		jp->nkeys--;
		jp->slots[jp->keys[jp->nkeys].jk_slot] = 0;
	}
}

/* At '{': consumes it; *framep marks where this object's keys start. */
int
jsonin_obj_begin(struct jsonin *jp, const char *what, int *framep)
{
	jsonin_ws(jp);
	if (jp->p >= jp->end || *jp->p != '{')
		return jsonin_type(jp, what, "an object");
	*framep = jp->nkeys;
	return jsonin_enter(jp, what);
}

/*
 * Moves to the next member of the object begun with jsonin_obj_begin().
 * Returns 1 with the cursor on the value and the key in key (JSONIN_KEYLEN
 * bytes; an empty string when the key is longer or holds a NUL, so it
 * matches no name we know), 0 at the closing brace (consumed), or a
 * negative AG_ERR_*.  *nmemb counts the members so far.  A key the object
 * already has is refused: the compare decodes both, so "a" and "\u0061"
 * are the same key.
 */
int
jsonin_obj_next(struct jsonin *jp, const char *what, int frame, int *nmemb,
    char *key)
{
	const uint8_t *raw;
	size_t len;
	uint64_t hash;
	int r;

	jsonin_ws(jp);
	if (jp->p >= jp->end)
		return jsonin_syntax(jp, what);
	if (*jp->p == '}') {
		jp->p++;
		jp->depth--;
		jsonin_keys_drop(jp, frame);
		return 0;
	}
	if (*nmemb > 0) {
		if (*jp->p != ',')
			return jsonin_syntax(jp, what);
		jp->p++;
		jsonin_ws(jp);
	}
	if (jp->p >= jp->end || *jp->p != '"')
		return jsonin_syntax(jp, what);
	raw = jp->p + 1;
	if ((r = jsonin_string(jp, what, key, JSONIN_KEYLEN, &len, &hash)) != 0)
		return r;
	if (len >= JSONIN_KEYLEN || memchr(key, '\0', len) != NULL)
		key[0] = '\0';
	if ((r = jsonin_key_add(jp, what, frame, raw, len, hash)) != 0)
		return r;
	jsonin_ws(jp);
	if (jp->p >= jp->end || *jp->p != ':')
		return jsonin_syntax(jp, what);
	jp->p++;
	jsonin_ws(jp);
	(*nmemb)++;
	return 1;
}

int
jsonin_arr_begin(struct jsonin *jp, const char *what)
{
	jsonin_ws(jp);
	if (jp->p >= jp->end || *jp->p != '[')
		return jsonin_type(jp, what, "an array");
	return jsonin_enter(jp, what);
}

/*
 * Moves to the next element of the array begun with jsonin_arr_begin():
 * returns 1 with the cursor on it, 0 at the closing bracket (consumed), or
 * a negative AG_ERR_*.  *nelem counts the elements so far.
 */
int
jsonin_arr_next(struct jsonin *jp, const char *what, int *nelem)
{
	jsonin_ws(jp);
	if (jp->p >= jp->end)
		return jsonin_syntax(jp, what);
	if (*jp->p == ']') {
		jp->p++;
		jp->depth--;
		return 0;
	}
	if (*nelem > 0) {
		if (*jp->p != ',')
			return jsonin_syntax(jp, what);
		jp->p++;
		jsonin_ws(jp);
	}
	if (!jsonin_at_value(jp))
		return jsonin_syntax(jp, what);
	(*nelem)++;
	return 1;
}

/* true, false or null at the cursor; returns 0 when it is word. */
static int
jsonin_word(struct jsonin *jp, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, word, n) != 0)
		return -1;
	jp->p += n;
	return 0;
}

int
jsonin_bool(struct jsonin *jp, const char *what, int *v)
{
	jsonin_ws(jp);
	if (jsonin_word(jp, "true") == 0)
		*v = 1;
	else if (jsonin_word(jp, "false") == 0)
		*v = 0;
	else
		return jsonin_type(jp, what, "true or false");
	return 0;
}

/*
 * An integer in [lo, hi] at the cursor: a JSON number without fraction or
 * exponent.  AG_ERR_FORMAT for another number or type, or out of range.
 */
int
jsonin_int(struct jsonin *jp, const char *what, int64_t lo, int64_t hi,
    int64_t *v)
{
	const uint8_t *p, *end = jp->end;
	struct jsonnum nt;
	int64_t x;

	jsonin_ws(jp);
	p = jp->p;
	if (jsonnum_scan(&p, end, &nt) != 0)
		return jsonin_type(jp, what, "an integer");
	/* "1.0" and "1e3" are numbers, not the integers we ask for. */
	if (memchr(jp->p, '.', (size_t)(p - jp->p)) != NULL ||
	    memchr(jp->p, 'e', (size_t)(p - jp->p)) != NULL ||
	    memchr(jp->p, 'E', (size_t)(p - jp->p)) != NULL || nt.inexact ||
	    nt.e10 != 0)
		goto range;
	if (nt.m > (uint64_t)INT64_MAX)
		goto range;
	x = nt.neg ? -(int64_t)nt.m : (int64_t)nt.m;
	if (x < lo || x > hi)
		goto range;
	jp->p = p;
	*v = x;
	return 0;
 range:
	return ag_errf(jp->err, jp->errlen, AG_ERR_FORMAT,
	    "%s: expected an integer in %lld..%lld", what, (long long)lo,
	    (long long)hi);
}

/*
 * Checks and skips any JSON value at the cursor, without recursion: the
 * open containers are a bit stack (1 = object), and nesting still counts
 * against JSONIN_MAX_DEPTH.  Objects inside still refuse duplicate keys.
 */
int
jsonin_skip(struct jsonin *jp, const char *what)
{
	uint32_t isobj = 0;	/* bit i: level base + i + 1 is an object */
	int frames[JSONIN_MAX_DEPTH], nmemb[JSONIN_MAX_DEPTH];
	const uint8_t *p;
	struct jsonnum nt;
	char key[JSONIN_KEYLEN];
	int base = jp->depth, lvl, r, frame;

	for (;;) {
		/* A value. */
		jsonin_ws(jp);
		if (jp->p >= jp->end)
			return jsonin_syntax(jp, what);
		switch (*jp->p) {
		case '{':
			/* Entered, so depth was below JSONIN_MAX_DEPTH: lvl
			 * indexes frames[] and fits the bit stack. */
			lvl = jp->depth - base;
			if ((r = jsonin_obj_begin(jp, what, &frame)) != 0)
				return r;
			frames[lvl] = frame;
			isobj |= 1u << lvl;
			nmemb[lvl] = 0;
			break;
		case '[':
			lvl = jp->depth - base;
			if ((r = jsonin_enter(jp, what)) != 0)
				return r;
			isobj &= ~(1u << lvl);
			nmemb[lvl] = 0;
			break;
		case '"':
			if ((r = jsonin_string(jp, what, NULL, 0, NULL,
			    NULL)) != 0)
				return r;
			break;
		default:
			if (jsonin_word(jp, "true") == 0 ||
			    jsonin_word(jp, "false") == 0 ||
			    jsonin_word(jp, "null") == 0)
				break;
			p = jp->p;
			if (jsonnum_scan(&p, jp->end, &nt) != 0)
				return jsonin_syntax(jp, what);
			jp->p = p;
			break;
		}
		/* Close containers until one has another member. */
		for (;;) {
			if (jp->depth == base)
				return 0;
			lvl = jp->depth - base - 1;
			if (isobj & (1u << lvl))
				r = jsonin_obj_next(jp, what, frames[lvl],
				    &nmemb[lvl], key);
			else
				r = jsonin_arr_next(jp, what, &nmemb[lvl]);
			if (r < 0)
				return r;
			if (r == 1)
				break;
		}
	}
}

/* An unknown key: named in the message only when that is harmless. */
int
jsonin_unknown(struct jsonin *jp, const char *what, const char *key)
{
	const char *s;

	for (s = key; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' ||
		    *s == '.'))
			break;
	if (*key != '\0' && *s == '\0')
		return ag_errf(jp->err, jp->errlen, AG_ERR_UNEXPECTED,
		    "%s: unknown key \"%s\"", what, key);
	return ag_errf(jp->err, jp->errlen, AG_ERR_UNEXPECTED,
	    "%s: unknown key", what);
}
