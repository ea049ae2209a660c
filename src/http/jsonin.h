/* SPDX-License-Identifier: ISC */
/*
 * jsonin.h: a strict JSON reader for untrusted bodies, driven by the caller.
 *
 * Owns: a cursor over the JSON text (struct jsonin) with checked
 * primitives: whitespace, strings (escapes and UTF-8 checked, decoded into
 * a bounded buffer), objects (duplicate keys refused, with a keyed hash),
 * arrays, true/false, integers in a range, and a non-recursive skip for
 * values the caller ignores; the error text of each failure.  Does not own:
 * the schema (which key holds what: the caller walks the document, as
 * oip.c does for an infer request), numbers as floats (jsonnum.h), nor
 * writing JSON (jsonout.h).
 *
 * Why not a general JSON library: jansson builds a tree of 150528 number
 * nodes for one 224x224 image and takes ~80 ms doing it, eight times the
 * inference.  This reader walks the body once and lets its caller convert
 * each number where it stands.
 *
 * Every primitive checks the cursor against the end before each read, so a
 * text truncated anywhere fails cleanly.  Nesting is counted in one place
 * (jsonin_enter) and capped at JSONIN_MAX_DEPTH; the keys of all open objects
 * together are capped at JSONIN_MAX_KEYS.  The work of the duplicate check
 * is linear in the text's length whatever the keys: they are hashed with
 * SipHash under a per-process key (jsonin_init()).
 *
 * Errors: each failing primitive returns a negative AG_ERR_* and writes a
 * message to jp->err that names the field ("what", given by the caller)
 * and a byte offset, never the text's bytes (except an unknown key made
 * only of [A-Za-z0-9_.-]), so it is safe to log and to send back:
 * AG_ERR_JSON (syntax, strings, escapes, UTF-8), AG_ERR_TOO_LARGE (depth,
 * key count, keys with one hash), AG_ERR_DUPLICATE, AG_ERR_UNEXPECTED
 * (unknown key), AG_ERR_FORMAT (wrong JSON type, integer out of range).
 *
 * Callers may read p, start, end, depth, err and errlen of the reader and
 * move p over text they checked themselves (as the infer parser does for
 * runs of numbers); the key table is the reader's.
 */
#ifndef AG_JSONIN_H
#define AG_JSONIN_H

#include <stddef.h>
#include <stdint.h>

#include "common/ag_err.h"

#define JSONIN_MAX_DEPTH		32	/* nesting */
/* Keys of all the objects open at one time, together (duplicate check). */
#define JSONIN_MAX_KEYS		256
/* Key buffer: long enough for every key we know, short enough to print. */
#define JSONIN_KEYLEN		32

/*
 * The work of the duplicate-key check, counted for the tests that bound it
 * (tests/unit/test_oip.c): whatever the keys, it must stay linear in the
 * text's length.
 */
struct jsonin_work {
	uint64_t	jw_keys;	/* object keys read */
	uint64_t	jw_probes;	/* stored keys looked at */
	uint64_t	jw_cmp;		/* code points read by full compares */
};

struct jsonin_key {
	const uint8_t	*jk_raw;	/* the key's text, after the quote */
	uint64_t	 jk_hash;	/* SipHash of the decoded bytes */
	uint32_t	 jk_len;	/* decoded length (mod 2^32) */
	uint32_t	 jk_slot;	/* its entry in jp->slots */
};

/*
 * The keys of the open objects sit in an open-addressing table (linear
 * probing) of four times as many slots, so that a lookup visits about one
 * slot whatever the keys, when the hash is keyed.  Keys come and go in
 * stack order (an object's keys leave when it closes, innermost first),
 * and undoing the last insertion of a linear-probing table by clearing its
 * slot leaves the table as it was before, so nothing else moves.
 */
#define JSONIN_SLOTS	(4 * JSONIN_MAX_KEYS)
_Static_assert((JSONIN_SLOTS & (JSONIN_SLOTS - 1)) == 0,
    "JSONIN_SLOTS: a power of 2");
_Static_assert(JSONIN_MAX_KEYS < 65535, "slots hold 1 + a key's index");
/*
 * Distinct keys of one object with equal length and equal 64-bit keyed
 * hash: with a secret key, about 2^-64 per pair, so never by chance.  Past
 * this many the request is refused, which bounds the full compares by
 * (JSONIN_MAX_COLLISIONS + 1) times the body length even for someone who
 * knows the key.
 */
#define JSONIN_MAX_COLLISIONS	8

struct jsonin {
	const uint8_t		*p;		/* cursor, start <= p <= end */
	const uint8_t		*start;
	const uint8_t		*end;
	int			 depth;		/* open objects and arrays */
	int			 nkeys;		/* used entries of keys */
	int			 collisions;	/* JSONIN_MAX_COLLISIONS */
	char			*err;
	size_t			 errlen;
	struct jsonin_key	 keys[JSONIN_MAX_KEYS]; /* of open objects */
	uint16_t		 slots[JSONIN_SLOTS];	/* 0 or 1 + index */
	struct jsonin_work	 work;
};

static inline void
jsonin_ws(struct jsonin *jp)
{
	const uint8_t *p = jp->p, *end = jp->end;

	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' ||
	    *p == '\t'))
		p++;
	jp->p = p;
}

/* Could the byte at the cursor start a JSON value? */
static inline int
jsonin_at_value(const struct jsonin *jp)
{
	if (jp->p >= jp->end)
		return 0;
	switch (*jp->p) {
	case '"': case '{': case '[': case 't': case 'f': case 'n': case '-':
	case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		return 1;
	}
	return 0;
}

/* Consumes the '[' or '{' at the cursor, one level deeper. */
static inline int
jsonin_enter(struct jsonin *jp, const char *what)
{
	if (jp->depth >= JSONIN_MAX_DEPTH)
		return ag_errf(jp->err, jp->errlen, AG_ERR_TOO_LARGE,
		    "%s: JSON nested deeper than %d levels", what,
		    JSONIN_MAX_DEPTH);
	jp->depth++;
	jp->p++;
	return 0;
}

/*
 * Draws the per-process key of the hash that the duplicate-key check uses
 * (SipHash-2-4, 128-bit key from getrandom(2)), so that no client can
 * choose keys that collide.  Call it once before the first parse and
 * before the sandbox forbids getrandom; jsonin_begin() aborts when it was
 * not called.  Returns 0, or AG_ERR_SYSTEM (errno set).
 */
int	jsonin_init(void);
/* Has jsonin_init() drawn the key? */
int	jsonin_ready(void);
/*
 * Starts jp on text[0, len) (borrowed: it must outlive the reader's use);
 * messages go to err (errlen bytes).  jp holds an 8 KiB key table: keep it
 * off a thread's stack.
 */
void	jsonin_begin(struct jsonin *jp, const uint8_t *text, size_t len,
	    char *err, size_t errlen);

/* Syntax error at the cursor ("ends early" when it is at the end). */
int	jsonin_syntax(struct jsonin *jp, const char *what);
/* A value of the wrong type (AG_ERR_FORMAT), or a syntax error. */
int	jsonin_type(struct jsonin *jp, const char *what,
	    const char *expected);
/*
 * Parses the JSON string at the cursor.  Decoded bytes go to buf (up to
 * cap - 1 of them, then a NUL; buf may be NULL with cap 0); *lenp gets the
 * full decoded length and *hashp its keyed SipHash (either may be NULL).
 */
int	jsonin_string(struct jsonin *jp, const char *what, char *buf,
	    size_t cap, size_t *lenp, uint64_t *hashp);
/* At '{': consumes it; *framep marks where this object's keys start. */
int	jsonin_obj_begin(struct jsonin *jp, const char *what, int *framep);
/*
 * Moves to the next member of the object begun with jsonin_obj_begin().
 * Returns 1 with the cursor on the value and the key in key (JSONIN_KEYLEN
 * bytes; an empty string when the key is longer or holds a NUL, so it
 * matches no name we know), 0 at the closing brace (consumed), or a
 * negative AG_ERR_*.  *nmemb counts the members so far.  A key the object
 * already has is refused: the compare decodes both, so "a" and "\u0061"
 * are the same key.
 */
int	jsonin_obj_next(struct jsonin *jp, const char *what, int frame,
	    int *nmemb, char *key);
/* At '[': consumes it. */
int	jsonin_arr_begin(struct jsonin *jp, const char *what);
/*
 * Moves to the next element of the array begun with jsonin_arr_begin():
 * returns 1 with the cursor on it, 0 at the closing bracket (consumed), or
 * a negative AG_ERR_*.  *nelem counts the elements so far.
 */
int	jsonin_arr_next(struct jsonin *jp, const char *what, int *nelem);
/* true or false at the cursor into *v. */
int	jsonin_bool(struct jsonin *jp, const char *what, int *v);
/*
 * An integer in [lo, hi] at the cursor: a JSON number without fraction or
 * exponent.  AG_ERR_FORMAT for another number or type, or out of range.
 */
int	jsonin_int(struct jsonin *jp, const char *what, int64_t lo,
	    int64_t hi, int64_t *v);
/*
 * Checks and skips any JSON value at the cursor, without recursion;
 * nesting still counts against JSONIN_MAX_DEPTH and objects inside still
 * refuse duplicate keys.
 */
int	jsonin_skip(struct jsonin *jp, const char *what);
/* AG_ERR_UNEXPECTED for key; named in the message only when harmless. */
int	jsonin_unknown(struct jsonin *jp, const char *what,
	    const char *key);
/*
 * Length of the well-formed UTF-8 sequence of two or more bytes at p (not
 * past end), or 0: no overlong forms, no surrogates, nothing past
 * U+10FFFF (RFC 3629 table 3-7).
 */
int	jsonin_utf8_len(const uint8_t *p, const uint8_t *end);

#endif /* AG_JSONIN_H */
