/* SPDX-License-Identifier: ISC */
/*
 * jsonnum.h: JSON numbers to and from float32, exactly.
 *
 * Owns: the number grammar of RFC 8259 (jsonnum_scan), decimal text to the
 * nearest float as strtof() rounds it (jsonnum_to_f32, jsonnum_strtof), and
 * a float to the shortest text that reads back as it (jsonnum_format_f32).
 * Does not own: where a number sits in a document (the JSON reader,
 * jsonin.h), nor any buffer (the caller's).
 *
 * Reading: the digits go into a 64-bit mantissa and a decimal exponent,
 * then into a double with three correctly rounded steps, so the double
 * lies within three units in its last place of the exact value.  A float is
 * then the double rounded, unless the double lies within a margin of a
 * point halfway between two floats, where those few units could put it on
 * the wrong side; those (about one in ten million) and tokens the fast path
 * does not cover go to strtof() in the C locale (jsonnum_slow).
 * tests/unit/test_oip.c checks the result against strtof() on millions of
 * tokens.
 *
 * The scanner and the conversion are inline: they run once per number of
 * an infer request's "data" (150528 of them for one 224x224 image), the
 * hot path of the request parser.
 */
#ifndef AG_JSONNUM_H
#define AG_JSONNUM_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/ag_err.h"

/* Room for jsonnum_format_f32(), NUL included. */
#define JSONNUM_F32_BUFLEN	32

/* 10^k, correctly rounded, for k in [-64, 64]; index k + 64. */
extern const double jsonnum_pow10[];
/* 10^k for k in [0, 19]. */
extern const uint64_t jsonnum_pow10_u64[];

/* A float is halfway between two neighbours where the low 29 bits of the
 * double (52 - 23) are 1 followed by 28 zeros. */
#define JSONNUM_F32_HALF	0x10000000u
#define JSONNUM_F32_LOWMASK	0x1fffffffu
/*
 * Our double is within 3 ulps of the exact value (three roundings of
 * relative error 2^-53 each, see jsonnum_to_f32), so a double further than
 * this from a halfway point rounds to the float that the exact value rounds
 * to.
 */
#define JSONNUM_F32_MARGIN	16u
/* Exponent digits saturate here, far past any float and any body size. */
#define JSONNUM_EXP_SAT	100000000000000000LL

#define JSONNUM_POW10_MIN	(-64)
#define JSONNUM_POW10_MAX	64

/* A scanned number: value = (neg ? -1 : 1) * m * 10^e10, unless inexact. */
struct jsonnum {
	uint64_t	m;	/* the first 19 significant digits */
	int64_t		e10;
	int		nd;	/* significant digits in m, or -1: not
				 * counted yet */
	int		neg;
	int		inexact; /* nonzero digits after the 19th dropped */
};

/*
 * The slow path of jsonnum_to_f32(): strtof() in the C locale on a
 * NUL-terminated copy of tok, or of the number nt when tok is NULL (then nt
 * is exact).  Returns 0, AG_ERR_NUMERIC (overflow) or AG_ERR_INTERNAL
 * (strtof() refused a token jsonnum_scan() accepted).
 */
int	jsonnum_slow(const struct jsonnum *nt, const uint8_t *tok,
	    size_t toklen, float *out) __attribute__((noinline));

/* m below this takes one more digit without passing 19 digits. */
#define JSONNUM_M_ROOM	1000000000000000000ULL	/* 10^18 */
/* m below this takes eight more. */
#define JSONNUM_M_ROOM8	100000000000ULL		/* 10^11 */

/* Decimal digits of m > 0: from its bit length, then one compare. */
static inline int
jsonnum_u64_digits(uint64_t m)
{
	int t = ((64 - __builtin_clzll(m)) * 1233) >> 12;	/* ~log10(2) */

	return t - (m < jsonnum_pow10_u64[t]) + 1;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define JSONNUM_SWAR	1
/*
 * Eight ASCII digits at once, the first in the low byte.  Each byte is a
 * digit when its high nibble is 3 and adding 6 keeps it 3 (0x30..0x39).
 */
static inline int
jsonnum_swar_is_8digits(uint64_t v)
{
	return ((v & 0xf0f0f0f0f0f0f0f0ULL) |
	    (((v + 0x0606060606060606ULL) & 0xf0f0f0f0f0f0f0f0ULL) >> 4)) ==
	    0x3333333333333333ULL;
}

/* Their value: pairs, then quads, then all eight, by multiply and shift. */
static inline uint32_t
jsonnum_swar_8digits(uint64_t v)
{
	const uint64_t mask = 0x000000ff000000ffULL;
	const uint64_t mul1 = 100 + (1000000ULL << 32);
	const uint64_t mul2 = 1 + (10000ULL << 32);

	v -= 0x3030303030303030ULL;
	v = v * 10 + (v >> 8);		/* byte 2i: d[2i] * 10 + d[2i+1] */
	v = ((v & mask) * mul1 + ((v >> 16) & mask) * mul2) >> 32;
	return (uint32_t)v;
}
#endif

/*
 * Scans one JSON number (RFC 8259 grammar) at *pp, not past end.  Returns 0
 * with *pp just past it, or -1 (*pp unchanged) when the bytes there do not
 * start a number.  The caller checks what follows.  The mantissa takes
 * digits while it stays below 10^19; leading zeros cost nothing.
 */
static inline __attribute__((always_inline)) int
jsonnum_scan(const uint8_t **pp, const uint8_t *end, struct jsonnum *nt)
{
	const uint8_t *p = *pp;
	uint64_t m = 0;
	int64_t e10 = 0, x = 0;
	int inexact = 0, neg = 0, xneg = 0;
	unsigned int d;
#ifdef JSONNUM_SWAR
	uint64_t v8;
#endif

	if (p < end && *p == '-') {
		neg = 1;
		p++;
	}
	if (p >= end)
		return -1;
	d = (unsigned int)*p - '0';
	if (d == 0)
		p++;		/* a leading 0 stands alone */
	else if (d <= 9) {
		do {
			if (m < JSONNUM_M_ROOM)
				m = m * 10 + d;
			else {
				e10++;
				inexact |= d != 0;
			}
			p++;
		} while (p < end && (d = (unsigned int)*p - '0') <= 9);
	} else
		return -1;
	if (p < end && *p == '.') {
		p++;
		if (p >= end || (unsigned int)*p - '0' > 9)
			return -1;
#ifdef JSONNUM_SWAR
		while (end - p >= 8 && m < JSONNUM_M_ROOM8) {
			memcpy(&v8, p, sizeof(v8));
			if (!jsonnum_swar_is_8digits(v8))
				break;
			m = m * 100000000 + jsonnum_swar_8digits(v8);
			e10 -= 8;
			p += 8;
		}
#endif
		while (p < end && (d = (unsigned int)*p - '0') <= 9) {
			if (m < JSONNUM_M_ROOM) {
				m = m * 10 + d;
				e10--;
			} else
				inexact |= d != 0;
			p++;
		}
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-')) {
			xneg = *p == '-';
			p++;
		}
		if (p >= end || (d = (unsigned int)*p - '0') > 9)
			return -1;
		do {
			if (x < JSONNUM_EXP_SAT)
				x = x * 10 + d;
			p++;
		} while (p < end && (d = (unsigned int)*p - '0') <= 9);
		e10 += xneg ? -x : x;
	}
	nt->m = m;
	nt->e10 = e10;
	nt->nd = -1;		/* jsonnum_to_f32() counts them if needed */
	nt->neg = neg;
	nt->inexact = inexact;
	*pp = p;
	return 0;
}

/*
 * The float nearest to nt, as strtof() gives it.  tok/toklen: the token's
 * text for the slow path, or NULL.  Returns 0 or AG_ERR_NUMERIC (overflow).
 */
static inline int
jsonnum_to_f32(const struct jsonnum *nt, const uint8_t *tok, size_t toklen,
    float *out)
{
	int64_t e = nt->e10;
	uint64_t bits, low;
	double d;
	float f;
	int nd;

	if (nt->m == 0) {
		*out = nt->neg ? -0.0f : 0.0f;
		return 0;
	}
	/* With 1 to 19 digits and e in [-26, 20], nd + e is in [-25, 39]:
	 * no need to count them. */
	if (e < -26 || e > 20) {
		nd = nt->nd >= 0 ? nt->nd : jsonnum_u64_digits(nt->m);
		/* value >= 10^(nd - 1 + e) >= 1e39 > FLT_MAX. */
		if (nd + e >= 40)
			return AG_ERR_NUMERIC;
		/* value < 10^(nd + e) <= 1e-46, under half the least
		 * subnormal (2^-150 = 7.0e-46): zero. */
		if (nd + e <= -46) {
			*out = nt->neg ? -0.0f : 0.0f;
			return 0;
		}
	}
	if (nt->inexact)
		return jsonnum_slow(nt, tok, toklen, out);
	/*
	 * e is in [-65, 39].  Three roundings: m to double, 10^e to double
	 * (the table), the product.  (Dividing by an exact 10^-e would save
	 * one rounding, not time; JSONNUM_F32_MARGIN has room for three.)
	 */
	if (e < JSONNUM_POW10_MIN)
		return jsonnum_slow(nt, tok, toklen, out);
	d = (double)nt->m * jsonnum_pow10[e - JSONNUM_POW10_MIN];
	/* Float subnormals are spaced unlike the check below assumes. */
	if (d < 0x1p-126)
		return jsonnum_slow(nt, tok, toklen, out);
	memcpy(&bits, &d, sizeof(bits));
	low = bits & JSONNUM_F32_LOWMASK;
	if (low - (JSONNUM_F32_HALF - JSONNUM_F32_MARGIN) <=
	    2 * JSONNUM_F32_MARGIN)
		return jsonnum_slow(nt, tok, toklen, out);
	f = (float)d;
	if (isinf(f))
		return AG_ERR_NUMERIC;
	*out = nt->neg ? -f : f;
	return 0;
}

/*
 * Converts the JSON number s[0, len) (the whole of it, strict JSON grammar)
 * to the nearest float, exactly as strtof() rounds it.  Returns 0,
 * AG_ERR_JSON when s is not one JSON number, or AG_ERR_NUMERIC when it is
 * out of float range (strtof() would give infinity); a number too small for
 * a float becomes 0 with its sign, as with strtof().
 */
int	jsonnum_strtof(const char *s, size_t len, float *out);

/*
 * Writes f into buf (JSONNUM_F32_BUFLEN bytes, NUL-terminated) with the
 * fewest significant digits that read back as the same float (of those,
 * the one nearest f), laid out as printf's %.9g would: plain for
 * 1e-4 <= |f| < 1e9, else with an exponent ("0.5", "100", "-1.25e-07",
 * "3.4028235e+38").  Returns the length, or -1 for NaN or infinity
 * (nothing written).
 */
int	jsonnum_format_f32(char *buf, float f);

#endif /* AG_JSONNUM_H */
