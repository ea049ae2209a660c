/* SPDX-License-Identifier: ISC */
/*
 * oip.c: the Open Inference Protocol infer request parser and response
 * writer declared in oip.h.
 *
 * Why not a general JSON library: jansson builds a tree of 150528 number
 * nodes for one 224x224 image and takes ~80 ms doing it, eight times the
 * inference.  This reader walks the body once, knows which key may hold
 * what, and converts each "data" number straight into the float buffer.
 *
 * The reader (struct jp) is a cursor over the JSON text with a few checked
 * primitives: whitespace, strings (escapes and UTF-8 checked), objects
 * (duplicate keys refused), arrays, literals, integers, floats, and a
 * non-recursive skip for values we ignore.  Every primitive checks the
 * cursor against the end before each read, so a body truncated anywhere
 * fails cleanly.  Nesting is counted in one place (jp_enter) and capped at
 * OIP_MAX_DEPTH.
 *
 * Numbers: the digits go into a 64-bit mantissa and a decimal exponent,
 * then into a double with three correctly rounded steps, so the double lies
 * within three units in its last place of the exact value.  A
 * float is then the double rounded, unless the double lies within a margin
 * of a point halfway between two floats, where those few units could put it
 * on the wrong side; those (about one in ten million) and tokens the fast
 * path does not cover go to strtof() in the C locale.  test_oip.c checks the
 * result against strtof() on millions of tokens.
 */
#include <sys/random.h>

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ag_err.h"
#include "common/topk.h"
#include "common/util.h"
#include "http/oip.h"

/* ==== Numbers: decimal text to float ================================== */

/* A float is halfway between two neighbours where the low 29 bits of the
 * double (52 - 23) are 1 followed by 28 zeros. */
#define F32_HALF	0x10000000u
#define F32_LOWMASK	0x1fffffffu
/*
 * Our double is within 3 ulps of the exact value (three roundings of
 * relative error 2^-53 each, see num_to_f32), so a double further than this
 * from a halfway point rounds to the float that the exact value rounds to.
 */
#define F32_MARGIN	16u
/* Tokens up to this long go to strtof() as they are; longer ones are
 * shortened first (num_canon). */
#define NUM_BUF		160
/*
 * Significant digits kept when shortening a long token.  A float halfway
 * point has at most 113 significant digits (odd * 2^-150 = odd * 5^150 /
 * 10^150 with a 25-bit odd), so 120 digits plus one sticky digit for the
 * rest round like the full token.
 */
#define NUM_CANON_DIGITS 120
/* Exponent digits saturate here, far past any float and any body size. */
#define NUM_EXP_SAT	100000000000000000LL

static const double pow10_exact[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* 10^k, correctly rounded, for k in [-64, 64]; index k + 64. */
static const double pow10_tab[] = {
	1e-64, 1e-63, 1e-62, 1e-61, 1e-60, 1e-59, 1e-58, 1e-57, 1e-56, 1e-55,
	1e-54, 1e-53, 1e-52, 1e-51, 1e-50, 1e-49, 1e-48, 1e-47, 1e-46, 1e-45,
	1e-44, 1e-43, 1e-42, 1e-41, 1e-40, 1e-39, 1e-38, 1e-37, 1e-36, 1e-35,
	1e-34, 1e-33, 1e-32, 1e-31, 1e-30, 1e-29, 1e-28, 1e-27, 1e-26, 1e-25,
	1e-24, 1e-23, 1e-22, 1e-21, 1e-20, 1e-19, 1e-18, 1e-17, 1e-16, 1e-15,
	1e-14, 1e-13, 1e-12, 1e-11, 1e-10, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5,
	1e-4, 1e-3, 1e-2, 1e-1, 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8,
	1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
	1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28, 1e29, 1e30,
	1e31, 1e32, 1e33, 1e34, 1e35, 1e36, 1e37, 1e38, 1e39, 1e40, 1e41,
	1e42, 1e43, 1e44, 1e45, 1e46, 1e47, 1e48, 1e49, 1e50, 1e51, 1e52,
	1e53, 1e54, 1e55, 1e56, 1e57, 1e58, 1e59, 1e60, 1e61, 1e62, 1e63,
	1e64,
};
#define POW10_TAB_MIN	(-64)
#define POW10_TAB_MAX	64

/* A scanned number: value = (neg ? -1 : 1) * m * 10^e10, unless inexact. */
struct numtok {
	uint64_t	m;	/* the first 19 significant digits */
	int64_t		e10;
	int		nd;	/* significant digits in m, or -1: not
				 * counted yet */
	int		neg;
	int		inexact; /* nonzero digits after the 19th dropped */
};

static const uint64_t pow10_u64[] = {
	1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
	10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
	100000000000ULL, 1000000000000ULL, 10000000000000ULL,
	100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
	100000000000000000ULL, 1000000000000000000ULL,
	10000000000000000000ULL,
};
/* m below this takes one more digit without passing 19 digits. */
#define NUM_M_ROOM	1000000000000000000ULL	/* 10^18 */
/* m below this takes eight more. */
#define NUM_M_ROOM8	100000000000ULL		/* 10^11 */

/* Decimal digits of m > 0: from its bit length, then one compare. */
static inline int
u64_digits(uint64_t m)
{
	int t = ((64 - __builtin_clzll(m)) * 1233) >> 12;	/* ~log10(2) */

	return t - (m < pow10_u64[t]) + 1;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NUM_SWAR	1
/*
 * Eight ASCII digits at once, the first in the low byte.  Each byte is a
 * digit when its high nibble is 3 and adding 6 keeps it 3 (0x30..0x39).
 */
static inline int
swar_is_8digits(uint64_t v)
{
	return ((v & 0xf0f0f0f0f0f0f0f0ULL) |
	    (((v + 0x0606060606060606ULL) & 0xf0f0f0f0f0f0f0f0ULL) >> 4)) ==
	    0x3333333333333333ULL;
}

/* Their value: pairs, then quads, then all eight, by multiply and shift. */
static inline uint32_t
swar_8digits(uint64_t v)
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
num_scan(const uint8_t **pp, const uint8_t *end, struct numtok *nt)
{
	const uint8_t *p = *pp;
	uint64_t m = 0;
	int64_t e10 = 0, x = 0;
	int inexact = 0, neg = 0, xneg = 0;
	unsigned int d;
#ifdef NUM_SWAR
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
			if (m < NUM_M_ROOM)
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
#ifdef NUM_SWAR
		while (end - p >= 8 && m < NUM_M_ROOM8) {
			memcpy(&v8, p, sizeof(v8));
			if (!swar_is_8digits(v8))
				break;
			m = m * 100000000 + swar_8digits(v8);
			e10 -= 8;
			p += 8;
		}
#endif
		while (p < end && (d = (unsigned int)*p - '0') <= 9) {
			if (m < NUM_M_ROOM) {
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
			if (x < NUM_EXP_SAT)
				x = x * 10 + d;
			p++;
		} while (p < end && (d = (unsigned int)*p - '0') <= 9);
		e10 += xneg ? -x : x;
	}
	nt->m = m;
	nt->e10 = e10;
	nt->nd = -1;		/* num_to_f32() counts them when needed */
	nt->neg = neg;
	nt->inexact = inexact;
	*pp = p;
	return 0;
}

static locale_t num_c_locale;
static pthread_once_t num_locale_once = PTHREAD_ONCE_INIT;

static void
num_locale_init(void)
{
	/* (locale_t)0 on failure: then strtof() below, right in "C". */
	num_c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

/*
 * Rewrites a long number token as "[-]0.<digits>[1]e<exp>" with at most
 * NUM_CANON_DIGITS significant digits and a sticky 1 when nonzero digits
 * were dropped (see NUM_CANON_DIGITS), so strtof() rounds it the same and
 * reads a bounded string.  The token was scanned by num_scan(), has a
 * nonzero digit, and lies within float range give or take a few decades
 * (checked by the caller), so the exponent is small.
 */
static void
num_canon(const uint8_t *tok, size_t len, char *buf, size_t cap)
{
	size_t i = 0, o = 0;
	int64_t e = 0, x = 0;
	int nsig = 0, sticky = 0, seen = 0, frac = 0, xneg = 0;
	unsigned int d;

	if (tok[i] == '-') {
		buf[o++] = '-';
		i++;
	}
	buf[o++] = '0';
	buf[o++] = '.';
	for (; i < len; i++) {
		if (tok[i] == '.') {
			frac = 1;
			continue;
		}
		if (tok[i] == 'e' || tok[i] == 'E')
			break;
		d = (unsigned int)tok[i] - '0';
		if (!seen) {
			if (d == 0) {
				if (frac)
					e--;
				continue;
			}
			seen = 1;
		}
		if (!frac)
			e++;
		if (nsig < NUM_CANON_DIGITS) {
			buf[o++] = (char)tok[i];
			nsig++;
		} else if (d != 0)
			sticky = 1;
	}
	if (i < len) {
		i++;
		if (tok[i] == '+' || tok[i] == '-') {
			xneg = tok[i] == '-';
			i++;
		}
		for (; i < len; i++)
			if (x < NUM_EXP_SAT)
				x = x * 10 + (tok[i] - '0');
		e += xneg ? -x : x;
	}
	if (sticky)
		buf[o++] = '1';
	/* Past these the value is infinite or zero all the same. */
	if (e > 1000)
		e = 1000;
	if (e < -1000)
		e = -1000;
	AG_ASSERT(o + 8 < cap);
	(void)snprintf(buf + o, cap - o, "e%d", (int)e);
}

/*
 * The slow path: strtof() in the C locale on a NUL-terminated copy of tok,
 * or of the number nt when tok is NULL (then nt is exact).
 */
static int __attribute__((noinline))
num_slow(const struct numtok *nt, const uint8_t *tok, size_t toklen,
    float *out)
{
	char buf[NUM_BUF];
	char *ep;
	float f;

	if (tok == NULL)
		(void)snprintf(buf, sizeof(buf), "%s%llue%lld",
		    nt->neg ? "-" : "", (unsigned long long)nt->m,
		    (long long)nt->e10);
	else if (toklen < sizeof(buf)) {
		memcpy(buf, tok, toklen);
		buf[toklen] = '\0';
	} else
		num_canon(tok, toklen, buf, sizeof(buf));
	(void)pthread_once(&num_locale_once, num_locale_init);
	if (num_c_locale != (locale_t)0)
		f = strtof_l(buf, &ep, num_c_locale);
	else
		f = strtof(buf, &ep);
	/* num_scan() accepted the token, so all of it must be a number. */
	if (*ep != '\0')
		return AG_ERR_INTERNAL;
	if (isinf(f))
		return AG_ERR_NUMERIC;
	*out = f;
	return 0;
}

/*
 * The float nearest to nt, as strtof() gives it.  tok/toklen: the token's
 * text for the slow path, or NULL.  Returns 0 or AG_ERR_NUMERIC (overflow).
 */
static inline int
num_to_f32(const struct numtok *nt, const uint8_t *tok, size_t toklen,
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
		nd = nt->nd >= 0 ? nt->nd : u64_digits(nt->m);
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
		return num_slow(nt, tok, toklen, out);
	/*
	 * e is in [-65, 39].  Three roundings: m to double, 10^e to double
	 * (the table), the product.  (Dividing by an exact 10^-e would save
	 * one rounding, not time; F32_MARGIN has room for three.)
	 */
	if (e < POW10_TAB_MIN)
		return num_slow(nt, tok, toklen, out);
	d = (double)nt->m * pow10_tab[e - POW10_TAB_MIN];
	/* Float subnormals are spaced unlike the check below assumes. */
	if (d < 0x1p-126)
		return num_slow(nt, tok, toklen, out);
	memcpy(&bits, &d, sizeof(bits));
	low = bits & F32_LOWMASK;
	if (low - (F32_HALF - F32_MARGIN) <= 2 * F32_MARGIN)
		return num_slow(nt, tok, toklen, out);
	f = (float)d;
	if (isinf(f))
		return AG_ERR_NUMERIC;
	*out = nt->neg ? -f : f;
	return 0;
}

int
oip_strtof(const char *s, size_t len, float *out)
{
	const uint8_t *p = (const uint8_t *)s, *end;
	struct numtok nt;

	*out = 0.0f;
	if (s == NULL)
		return AG_ERR_JSON;
	end = p + len;
	if (num_scan(&p, end, &nt) != 0 || p != end)
		return AG_ERR_JSON;
	return num_to_f32(&nt, (const uint8_t *)s, len, out);
}

/* ==== Numbers: float to shortest text ================================= */

/* Digits of v (v > 0) into buf, most significant first; returns the count. */
static int
fmt_u64(char *buf, uint64_t v)
{
	char t[24];
	int n = 0, i;

	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		buf[i] = t[n - 1 - i];
	return n;
}

/* Does c * 10^e10 read back as the float f?  Exact. */
static int
fmt_roundtrips(uint64_t c, int64_t e10, float f)
{
	struct numtok nt;
	uint64_t v;
	float g;
	int nd;

	memset(&nt, 0, sizeof(nt));
	nt.m = c;
	nt.e10 = e10;
	for (nd = 0, v = c; v != 0; v /= 10)
		nd++;
	nt.nd = nd;
	if (num_to_f32(&nt, NULL, 0, &g) != 0)
		return 0;
	return g == f;
}

/*
 * Lays out digits (nd of them, value d1.d2d3.. * 10^x) as printf's
 * %.9g would: plain for 1e-4 <= |f| < 1e9, else with an exponent of at
 * least two digits; no trailing zeros after the point.
 */
static int
fmt_layout(char *buf, int neg, const char *dig, int nd, int x)
{
	int o = 0, i, ax;

	if (neg)
		buf[o++] = '-';
	while (nd > 1 && dig[nd - 1] == '0')
		nd--;
	if (x >= -4 && x < 9) {
		if (x < 0) {
			buf[o++] = '0';
			buf[o++] = '.';
			for (i = 0; i < -x - 1; i++)
				buf[o++] = '0';
			for (i = 0; i < nd; i++)
				buf[o++] = dig[i];
		} else {
			for (i = 0; i <= x; i++)
				buf[o++] = i < nd ? dig[i] : '0';
			if (nd > x + 1) {
				buf[o++] = '.';
				for (i = x + 1; i < nd; i++)
					buf[o++] = dig[i];
			}
		}
	} else {
		buf[o++] = dig[0];
		if (nd > 1) {
			buf[o++] = '.';
			for (i = 1; i < nd; i++)
				buf[o++] = dig[i];
		}
		buf[o++] = 'e';
		buf[o++] = x < 0 ? '-' : '+';
		ax = x < 0 ? -x : x;
		if (ax >= 100)
			buf[o++] = (char)('0' + ax / 100);
		buf[o++] = (char)('0' + ax / 10 % 10);
		buf[o++] = (char)('0' + ax % 10);
	}
	buf[o] = '\0';
	return o;
}

/*
 * The shortest decimal that reads back as f, in integers at a 9-digit
 * scale: x9 = |f| * 10^k has 9 digits before the point, and [a, b] are the
 * integers whose value (times 10^-k) rounds to f; nine digits always
 * suffice for a float, so [a, b] is never empty.  The bounds come from
 * doubles off by about 2^-52 relative (2e-7 at this scale), so an integer
 * within FMT_EPS of an end is settled exactly by reading it back.  Then
 * digits come off the end while a multiple of 10^(j+1) stays in [a, b],
 * and of what is left the one nearest x9 wins.
 */
#define FMT_EPS		1e-6

int
oip_format_f32(char *buf, float f)
{
	uint32_t u, ulo, uhi;
	uint64_t bits, a, b, a2, b2, c;
	double d, dlo, dhi, flo, fhi, s, x9, los, his, t;
	float af, fl, fh;
	char dig[24];
	int neg, e, be, k, j, nd;

	memcpy(&u, &f, sizeof(u));
	neg = (int)(u >> 31);
	u &= 0x7fffffffu;
	if (u >= 0x7f800000u)
		return -1;
	if (u == 0) {
		memcpy(buf, neg ? "-0" : "0", neg ? 3 : 2);
		return neg + 1;
	}
	memcpy(&af, &u, sizeof(af));
	d = af;
	/* The reals that round to af: (dlo, dhi), ends settled exactly. */
	ulo = u - 1;
	memcpy(&fl, &ulo, sizeof(fl));
	flo = fl;
	dlo = (d + flo) / 2;
	if (u + 1 < 0x7f800000u) {
		uhi = u + 1;
		memcpy(&fh, &uhi, sizeof(fh));
		fhi = fh;
		dhi = (d + fhi) / 2;
	} else
		dhi = d + (d - flo) / 2;	/* past FLT_MAX */
	/* e = floor(log10(d)), from the binary exponent, then corrected. */
	memcpy(&bits, &d, sizeof(bits));
	be = (int)((bits >> 52) & 0x7ff) - 1023;
	e = be >= 0 ? (be * 1233) >> 12 : -((-be * 1233 + 4095) >> 12);
	if (d >= pow10_tab[e + 1 - POW10_TAB_MIN])
		e++;
	if (d < pow10_tab[e - POW10_TAB_MIN])
		e--;
	k = 8 - e;		/* in [-30, 53] for floats */
	s = pow10_tab[k - POW10_TAB_MIN];
	x9 = d * s;
	los = dlo * s;
	his = dhi * s;
	/* Integers surely inside, and those within FMT_EPS of an end. */
	t = los + FMT_EPS;
	a = (uint64_t)t + ((double)(uint64_t)t != t);
	b = (uint64_t)(his - FMT_EPS);
	t = los - FMT_EPS;
	a2 = (uint64_t)t + ((double)(uint64_t)t != t);
	b2 = (uint64_t)(his + FMT_EPS);
	if (a2 < a && fmt_roundtrips(a2, -k, af))
		a = a2;
	if (b2 > b && fmt_roundtrips(b2, -k, af))
		b = b2;
	if (a > b)		/* not reached */
		return snprintf(buf, OIP_F32_BUFLEN, "%.9g", (double)f);
	for (j = 0; (a + 9) / 10 <= b / 10; j++) {
		a = (a + 9) / 10;
		b /= 10;
	}
	t = x9 / pow10_exact[j] + 0.5;
	c = (uint64_t)t;
	if (c < a)
		c = a;
	if (c > b)
		c = b;
	nd = fmt_u64(dig, c);
	return fmt_layout(buf, neg, dig, nd, nd - 1 + j - k);
}

/* ==== The key hash: SipHash-2-4 with a per-process random key ======== */

/*
 * Object keys are attacker bytes, and the duplicate check looks them up in
 * a hash table.  With an unkeyed hash (it was 32-bit FNV-1a) a client can
 * send thousands of distinct keys with one hash and make every lookup a
 * walk over the whole table with full compares: 19.9 s of CPU for a
 * 32 MiB body.  SipHash (Aumasson and Bernstein, 2012) is a PRF: without
 * the 128-bit key, which oip_init() draws from getrandom(2) once per
 * process, nobody can aim keys at one slot or one hash.  The same choice as
 * Python's, Rust's and Perl's hash tables.
 */
static uint64_t oip_k0, oip_k1;
static int oip_keyed;

struct siph {
	uint64_t	 v0, v1, v2, v3;
	uint64_t	 m;		/* the bytes of the word being filled */
	uint64_t	 n;		/* bytes hashed so far */
};

#define ROTL64(x, b)	(((x) << (b)) | ((x) >> (64 - (b))))

static inline void
siph_round(struct siph *h)
{
	h->v0 += h->v1;
	h->v1 = ROTL64(h->v1, 13);
	h->v1 ^= h->v0;
	h->v0 = ROTL64(h->v0, 32);
	h->v2 += h->v3;
	h->v3 = ROTL64(h->v3, 16);
	h->v3 ^= h->v2;
	h->v0 += h->v3;
	h->v3 = ROTL64(h->v3, 21);
	h->v3 ^= h->v0;
	h->v2 += h->v1;
	h->v1 = ROTL64(h->v1, 17);
	h->v1 ^= h->v2;
	h->v2 = ROTL64(h->v2, 32);
}

static void
siph_init(struct siph *h, uint64_t k0, uint64_t k1)
{
	h->v0 = k0 ^ 0x736f6d6570736575ULL;
	h->v1 = k1 ^ 0x646f72616e646f6dULL;
	h->v2 = k0 ^ 0x6c7967656e657261ULL;
	h->v3 = k1 ^ 0x7465646279746573ULL;
	h->m = 0;
	h->n = 0;
}

static inline void
siph_byte(struct siph *h, uint8_t c)
{
	h->m |= (uint64_t)c << (8 * (h->n & 7));
	if ((++h->n & 7) == 0) {
		h->v3 ^= h->m;
		siph_round(h);
		siph_round(h);
		h->v0 ^= h->m;
		h->m = 0;
	}
}

static uint64_t
siph_final(struct siph *h)
{
	uint64_t b = h->n << 56 | h->m;

	h->v3 ^= b;
	siph_round(h);
	siph_round(h);
	h->v0 ^= b;
	h->v2 ^= 0xff;
	siph_round(h);
	siph_round(h);
	siph_round(h);
	siph_round(h);
	return h->v0 ^ h->v1 ^ h->v2 ^ h->v3;
}

static uint64_t
le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

uint64_t
oip_siphash(const uint8_t key[16], const void *msg, size_t len)
{
	const uint8_t *p = msg;
	struct siph h;

	siph_init(&h, le64(key), le64(key + 8));
	while (len-- > 0)
		siph_byte(&h, *p++);
	return siph_final(&h);
}

int
oip_init(void)
{
	uint8_t key[16];
	size_t got = 0;
	ssize_t n;

	if (oip_keyed)
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
	oip_k0 = le64(key);
	oip_k1 = le64(key + 8);
	explicit_bzero(key, sizeof(key));
	oip_keyed = 1;
	return 0;
}

/* ==== The JSON reader ================================================= */

struct jkey {
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
#define JP_SLOTS	(4 * OIP_MAX_KEYS)
_Static_assert((JP_SLOTS & (JP_SLOTS - 1)) == 0, "JP_SLOTS: a power of 2");
_Static_assert(OIP_MAX_KEYS < 65535, "slots hold 1 + a key's index");
/*
 * Distinct keys of one object with equal length and equal 64-bit keyed
 * hash: with a secret key, about 2^-64 per pair, so never by chance.  Past
 * this many the request is refused, which bounds the full compares by
 * (JP_MAX_COLLISIONS + 1) times the body length even for someone who knows
 * the key.
 */
#define JP_MAX_COLLISIONS	8

struct jp {
	const uint8_t	*p;		/* cursor, start <= p <= end */
	const uint8_t	*start;
	const uint8_t	*end;
	int		 depth;		/* open objects and arrays */
	int		 nkeys;		/* used entries of keys */
	int		 collisions;	/* see JP_MAX_COLLISIONS */
	char		*err;
	size_t		 errlen;
	struct jkey	 keys[OIP_MAX_KEYS];	/* of the open objects */
	uint16_t	 slots[JP_SLOTS];	/* 0 or 1 + index into keys */
	struct oip_work	 work;
};

/* Key buffer: long enough for every key we know, short enough to print. */
#define JP_KEYLEN	32

static inline void
jp_ws(struct jp *jp)
{
	const uint8_t *p = jp->p, *end = jp->end;

	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' ||
	    *p == '\t'))
		p++;
	jp->p = p;
}

static int __attribute__((noinline))
jp_syntax(struct jp *jp, const char *what)
{
	size_t off = (size_t)(jp->p - jp->start);

	if (jp->p >= jp->end)
		return ag_errf(jp->err, jp->errlen, AG_ERR_JSON,
		    "%s: JSON ends early (byte %zu)", what, off);
	return ag_errf(jp->err, jp->errlen, AG_ERR_JSON,
	    "%s: invalid JSON at byte %zu", what, off);
}

/* Could the byte at the cursor start a JSON value? */
static int
jp_at_value(const struct jp *jp)
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

/* Error for a value of the wrong type, or a syntax error if it is none. */
static int __attribute__((noinline))
jp_type(struct jp *jp, const char *what, const char *expected)
{
	if (!jp_at_value(jp))
		return jp_syntax(jp, what);
	return ag_errf(jp->err, jp->errlen, AG_ERR_FORMAT,
	    "%s: expected %s", what, expected);
}

/* Consumes the '[' or '{' at the cursor, one level deeper. */
static int
jp_enter(struct jp *jp, const char *what)
{
	if (jp->depth >= OIP_MAX_DEPTH)
		return ag_errf(jp->err, jp->errlen, AG_ERR_TOO_LARGE,
		    "%s: JSON nested deeper than %d levels", what,
		    OIP_MAX_DEPTH);
	jp->depth++;
	jp->p++;
	return 0;
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
static int
utf8_len(const uint8_t *p, const uint8_t *end)
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
	struct siph	*hash;	/* NULL: not hashed */
};

static inline void
sink_put(struct jsink *s, uint8_t c)
{
	if (s->len + 1 < s->cap)
		s->buf[s->len] = (char)c;
	s->len++;
	if (s->hash != NULL)
		siph_byte(s->hash, c);
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
static int
jp_string(struct jp *jp, const char *what, char *buf, size_t cap,
    size_t *lenp, uint64_t *hashp)
{
	struct siph h;
	struct jsink s = { buf, cap, 0, hashp != NULL ? &h : NULL };
	const uint8_t *p = jp->p, *end = jp->end;
	int32_t cp, lo;
	int n;

	if (p >= end || *p != '"')
		return jp_type(jp, what, "a string");
	if (hashp != NULL)
		siph_init(&h, oip_k0, oip_k1);
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
			if ((n = utf8_len(p, end)) == 0)
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
		*hashp = siph_final(&h);
	return 0;
 bad:
	jp->p = p;
	return ag_errf(jp->err, jp->errlen, AG_ERR_JSON,
	    "%s: bad string at byte %zu (control character, escape or "
	    "UTF-8)", what, (size_t)(p - jp->start));
}

/* Next code point of a string jp_string() accepted, or -1 at its end. */
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
jstr_equal(struct jp *jp, const uint8_t *a, const uint8_t *b)
{
	int32_t ca, cb;

	do {
		ca = jstr_next(&a);
		cb = jstr_next(&b);
		jp->work.ow_cmp++;
		if (ca != cb)
			return 0;
	} while (ca >= 0);
	return 1;
}

/*
 * Adds a key of the object whose keys start at index frame, refusing one
 * the object has already.  Work per key: the slots of its probe run (about
 * one with the keyed hash, never more than OIP_MAX_KEYS) and full
 * compares only where the 64-bit hash and the length agree, which ends the
 * parse (a duplicate) or counts against JP_MAX_COLLISIONS.
 */
static int
jp_key_add(struct jp *jp, const char *what, int frame, const uint8_t *raw,
    size_t len, uint64_t hash)
{
	const struct jkey *k;
	uint32_t i;
	int s;

	jp->work.ow_keys++;
	/* At most OIP_MAX_KEYS of JP_SLOTS are used: an empty one ends it. */
	for (i = (uint32_t)hash & (JP_SLOTS - 1); (s = jp->slots[i]) != 0;
	    i = (i + 1) & (JP_SLOTS - 1)) {
		jp->work.ow_probes++;
		k = &jp->keys[s - 1];
		/* Keys of the enclosing objects may repeat here. */
		if (s - 1 < frame || k->jk_hash != hash ||
		    k->jk_len != (uint32_t)len)
			continue;
		if (jstr_equal(jp, k->jk_raw, raw))
			return ag_errf(jp->err, jp->errlen, AG_ERR_DUPLICATE,
			    "%s: duplicate key", what);
		if (++jp->collisions > JP_MAX_COLLISIONS)
			return ag_errf(jp->err, jp->errlen, AG_ERR_TOO_LARGE,
			    "%s: more than %d pairs of keys with one hash",
			    what, JP_MAX_COLLISIONS);
	}
	if (jp->nkeys >= OIP_MAX_KEYS)
		return ag_errf(jp->err, jp->errlen, AG_ERR_TOO_LARGE,
		    "%s: more than %d keys in open objects", what,
		    OIP_MAX_KEYS);
	jp->slots[i] = (uint16_t)(jp->nkeys + 1);
	jp->keys[jp->nkeys].jk_raw = raw;
	jp->keys[jp->nkeys].jk_hash = hash;
	jp->keys[jp->nkeys].jk_len = (uint32_t)len;
	jp->keys[jp->nkeys].jk_slot = i;
	jp->nkeys++;
	return 0;
}

/* Drops the keys of the object closing, last added first (see JP_SLOTS). */
static void
jp_keys_drop(struct jp *jp, int frame)
{
	while (jp->nkeys > frame) {
		jp->nkeys--;
		jp->slots[jp->keys[jp->nkeys].jk_slot] = 0;
	}
}

/* At '{': consumes it; *framep marks where this object's keys start. */
static int
jp_obj_begin(struct jp *jp, const char *what, int *framep)
{
	jp_ws(jp);
	if (jp->p >= jp->end || *jp->p != '{')
		return jp_type(jp, what, "an object");
	*framep = jp->nkeys;
	return jp_enter(jp, what);
}

/*
 * Moves to the next member of the object begun with jp_obj_begin().
 * Returns 1 with the cursor on the value and the key in key (JP_KEYLEN
 * bytes; an empty string when the key is longer or holds a NUL, so it
 * matches no name we know), 0 at the closing brace (consumed), or a
 * negative AG_ERR_*.  *nmemb counts the members so far.  A key the object
 * already has is refused: the compare decodes both, so "a" and "\u0061"
 * are the same key.
 */
static int
jp_obj_next(struct jp *jp, const char *what, int frame, int *nmemb,
    char *key)
{
	const uint8_t *raw;
	size_t len;
	uint64_t hash;
	int r;

	jp_ws(jp);
	if (jp->p >= jp->end)
		return jp_syntax(jp, what);
	if (*jp->p == '}') {
		jp->p++;
		jp->depth--;
		jp_keys_drop(jp, frame);
		return 0;
	}
	if (*nmemb > 0) {
		if (*jp->p != ',')
			return jp_syntax(jp, what);
		jp->p++;
		jp_ws(jp);
	}
	if (jp->p >= jp->end || *jp->p != '"')
		return jp_syntax(jp, what);
	raw = jp->p + 1;
	if ((r = jp_string(jp, what, key, JP_KEYLEN, &len, &hash)) != 0)
		return r;
	if (len >= JP_KEYLEN || memchr(key, '\0', len) != NULL)
		key[0] = '\0';
	if ((r = jp_key_add(jp, what, frame, raw, len, hash)) != 0)
		return r;
	jp_ws(jp);
	if (jp->p >= jp->end || *jp->p != ':')
		return jp_syntax(jp, what);
	jp->p++;
	jp_ws(jp);
	(*nmemb)++;
	return 1;
}

static int
jp_arr_begin(struct jp *jp, const char *what)
{
	jp_ws(jp);
	if (jp->p >= jp->end || *jp->p != '[')
		return jp_type(jp, what, "an array");
	return jp_enter(jp, what);
}

/*
 * Moves to the next element of the array begun with jp_arr_begin():
 * returns 1 with the cursor on it, 0 at the closing bracket (consumed), or
 * a negative AG_ERR_*.  *nelem counts the elements so far.
 */
static int
jp_arr_next(struct jp *jp, const char *what, int *nelem)
{
	jp_ws(jp);
	if (jp->p >= jp->end)
		return jp_syntax(jp, what);
	if (*jp->p == ']') {
		jp->p++;
		jp->depth--;
		return 0;
	}
	if (*nelem > 0) {
		if (*jp->p != ',')
			return jp_syntax(jp, what);
		jp->p++;
		jp_ws(jp);
	}
	if (!jp_at_value(jp))
		return jp_syntax(jp, what);
	(*nelem)++;
	return 1;
}

/* true, false or null at the cursor; returns 0 when it is word. */
static int
jp_word(struct jp *jp, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, word, n) != 0)
		return -1;
	jp->p += n;
	return 0;
}

static int
jp_bool(struct jp *jp, const char *what, int *v)
{
	jp_ws(jp);
	if (jp_word(jp, "true") == 0)
		*v = 1;
	else if (jp_word(jp, "false") == 0)
		*v = 0;
	else
		return jp_type(jp, what, "true or false");
	return 0;
}

/*
 * An integer in [lo, hi] at the cursor: a JSON number without fraction or
 * exponent.  AG_ERR_FORMAT for another number or type, or out of range.
 */
static int
jp_int(struct jp *jp, const char *what, int64_t lo, int64_t hi, int64_t *v)
{
	const uint8_t *p, *end = jp->end;
	struct numtok nt;
	int64_t x;

	jp_ws(jp);
	p = jp->p;
	if (num_scan(&p, end, &nt) != 0)
		return jp_type(jp, what, "an integer");
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
 * against OIP_MAX_DEPTH.  Objects inside still refuse duplicate keys.
 */
static int
jp_skip(struct jp *jp, const char *what)
{
	uint32_t isobj = 0;	/* bit i: level base + i + 1 is an object */
	int frames[OIP_MAX_DEPTH], nmemb[OIP_MAX_DEPTH];
	const uint8_t *p;
	struct numtok nt;
	char key[JP_KEYLEN];
	int base = jp->depth, lvl, r, frame;

	for (;;) {
		/* A value. */
		jp_ws(jp);
		if (jp->p >= jp->end)
			return jp_syntax(jp, what);
		switch (*jp->p) {
		case '{':
			/* Entered, so depth was below OIP_MAX_DEPTH: lvl
			 * indexes frames[] and fits the bit stack. */
			lvl = jp->depth - base;
			if ((r = jp_obj_begin(jp, what, &frame)) != 0)
				return r;
			frames[lvl] = frame;
			isobj |= 1u << lvl;
			nmemb[lvl] = 0;
			break;
		case '[':
			lvl = jp->depth - base;
			if ((r = jp_enter(jp, what)) != 0)
				return r;
			isobj &= ~(1u << lvl);
			nmemb[lvl] = 0;
			break;
		case '"':
			if ((r = jp_string(jp, what, NULL, 0, NULL,
			    NULL)) != 0)
				return r;
			break;
		default:
			if (jp_word(jp, "true") == 0 ||
			    jp_word(jp, "false") == 0 ||
			    jp_word(jp, "null") == 0)
				break;
			p = jp->p;
			if (num_scan(&p, jp->end, &nt) != 0)
				return jp_syntax(jp, what);
			jp->p = p;
			break;
		}
		/* Close containers until one has another member. */
		for (;;) {
			if (jp->depth == base)
				return 0;
			lvl = jp->depth - base - 1;
			if (isobj & (1u << lvl))
				r = jp_obj_next(jp, what, frames[lvl],
				    &nmemb[lvl], key);
			else
				r = jp_arr_next(jp, what, &nmemb[lvl]);
			if (r < 0)
				return r;
			if (r == 1)
				break;
		}
	}
}

/* An unknown key: named in the message only when that is harmless. */
static int
jp_unknown(struct jp *jp, const char *what, const char *key)
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

/* A string value equal to want (compared in full, NULs included). */
static int
jp_name(struct jp *jp, const char *what, const char *want, int code)
{
	char buf[OIP_MAX_ID + 1];
	size_t len;
	int r;

	jp_ws(jp);
	if ((r = jp_string(jp, what, buf, sizeof(buf), &len, NULL)) != 0)
		return r;
	if (len != strlen(want) || memcmp(buf, want, len) != 0)
		return ag_errf(jp->err, jp->errlen, code,
		    "%s: expected \"%s\"", what, want);
	return 0;
}

/* ==== The infer request ================================================ */

#define WHAT_INPUT	"inputs[0]"
#define WHAT_DATA	"inputs[0].data"
#define WHAT_SHAPE	"inputs[0].shape"
#define WHAT_IPARAMS	"inputs[0].parameters"

/* What we learn about inputs[0] while reading it. */
struct in_state {
	int		 have_name, have_dtype, have_shape, have_data;
	int64_t		 dims[4];	/* N, C, H, W once have_shape */
	int64_t		 bin_size;	/* -1: no binary_data_size */
	const uint8_t	*data_at;	/* "data" seen before "shape" */
	int		 data_depth;
};

/* Binary part and output flags: resolved after the whole document. */
struct top_state {
	int		 have_inputs;
	int		 binary_output;		/* -1: not given */
	int		 out_binary[OIP_MAX_OUTPUTS];	/* -1: not given */
};

static int
data_elem_error(struct jp *jp, const uint8_t *at, size_t elem, int r)
{
	jp->p = at;
	if (r == AG_ERR_NUMERIC)
		return ag_errf(jp->err, jp->errlen, AG_ERR_NUMERIC,
		    "%s: element %zu is out of float range", WHAT_DATA, elem);
	if (r != AG_ERR_JSON)
		return ag_errf(jp->err, jp->errlen, r, "%s: element %zu: %s",
		    WHAT_DATA, elem, ag_strerror(r));
	/* A string, literal, object or array: valid JSON, wrong type. */
	if (jp_at_value(jp) && *at != '-' && (*at < '0' || *at > '9'))
		return ag_errf(jp->err, jp->errlen, AG_ERR_FORMAT,
		    "%s: element %zu is not a number", WHAT_DATA, elem);
	return jp_syntax(jp, WHAT_DATA);
}

/* One number of "data" at *pp into *out (elem: its index, for messages). */
static inline int
data_num(struct jp *jp, const uint8_t **pp, float *out, size_t elem)
{
	const uint8_t *tok = *pp;
	struct numtok nt;
	int r;

	if (num_scan(pp, jp->end, &nt) != 0)
		return data_elem_error(jp, tok, elem, AG_ERR_JSON);
	if ((r = num_to_f32(&nt, tok, (size_t)(*pp - tok), out)) != 0)
		return data_elem_error(jp, tok, elem, r);
	return 0;
}

#define WS(c)	((c) == ' ' || (c) == '\n' || (c) == '\r' || (c) == '\t')

/*
 * Reads a run of numbers ending with ']' (the first is at *pp): at most
 * max of them into dst.  Returns 0 with *pp past the ']' and *np the count.
 */
static inline int
data_run(struct jp *jp, const uint8_t **pp, float *dst, size_t max,
    size_t base, size_t *np)
{
	const uint8_t *p = *pp, *end = jp->end;
	size_t n = 0;
	int r;

	for (;;) {
		if (n == max) {
			jp->p = p;
			if (!jp_at_value(jp))
				return jp_syntax(jp, WHAT_DATA);
			return ag_errf(jp->err, jp->errlen, AG_ERR_SHAPE,
			    "%s: more than %zu numbers where the shape has "
			    "%zu", WHAT_DATA, max, max);
		}
		if ((r = data_num(jp, &p, &dst[n], base + n)) != 0)
			return r;
		n++;
		while (p < end && WS(*p))
			p++;
		if (p < end && *p == ',') {
			p++;
			while (p < end && WS(*p))
				p++;
			continue;
		}
		if (p < end && *p == ']')
			break;
		jp->p = p;
		return jp_syntax(jp, WHAT_DATA);
	}
	*pp = p + 1;
	*np = n;
	return 0;
}

/*
 * Reads "data" at the cursor into dst (count = N*C*H*W floats): a flat
 * array of count numbers, or arrays nested four deep whose lengths are
 * the shape's.  Never writes past dst[count - 1].
 */
static int
parse_data(struct jp *jp, const int64_t dims[4], float *dst, size_t count)
{
	size_t idx[4], pos = 0, n;
	int lvl, first, r;

	jp_ws(jp);
	if (jp->p >= jp->end || *jp->p != '[')
		return jp_type(jp, WHAT_DATA, "an array of numbers");
	if ((r = jp_enter(jp, WHAT_DATA)) != 0)
		return r;
	jp_ws(jp);
	if (jp->p < jp->end && *jp->p != '[') {
		/* Flat. */
		if (*jp->p == ']') {
			n = 0;
			jp->p++;
		} else if ((r = data_run(jp, &jp->p, dst, count, 0, &n)) != 0)
			return r;
		if (n != count)
			return ag_errf(jp->err, jp->errlen, AG_ERR_SHAPE,
			    "%s: %zu numbers where the shape has %zu",
			    WHAT_DATA, n, count);
		jp->depth--;
		return 0;
	}
	/* Nested: lvl is the open array (0 outermost), idx[] the elements
	 * each has so far. */
	lvl = 0;
	idx[0] = 0;
	first = 1;
	for (;;) {
		/* At an element of level lvl, or ']' of an empty array. */
		jp_ws(jp);
		if (jp->p >= jp->end)
			return jp_syntax(jp, WHAT_DATA);
		if (*jp->p == ']' && first)
			goto close;
		if (!jp_at_value(jp))
			return jp_syntax(jp, WHAT_DATA);
		if ((int64_t)idx[lvl] == dims[lvl])
			return ag_errf(jp->err, jp->errlen, AG_ERR_SHAPE,
			    "%s: more than %lld elements at depth %d",
			    WHAT_DATA, (long long)dims[lvl], lvl + 1);
		if (lvl < 3) {
			if (*jp->p != '[')
				return ag_errf(jp->err, jp->errlen,
				    AG_ERR_SHAPE, "%s: expected an array at "
				    "depth %d, nested like the shape",
				    WHAT_DATA, lvl + 2);
			if ((r = jp_enter(jp, WHAT_DATA)) != 0)
				return r;
			idx[++lvl] = 0;
			first = 1;
			continue;
		}
		if (*jp->p == '[')
			return ag_errf(jp->err, jp->errlen, AG_ERR_SHAPE,
			    "%s: arrays nested deeper than the shape",
			    WHAT_DATA);
		/* Innermost: idx[3] is 0 here, the run fills this row. */
		AG_ASSERT(pos + (size_t)dims[3] <= count);
		if ((r = data_run(jp, &jp->p, dst + pos, (size_t)dims[3], pos,
		    &n)) != 0)
			return r;
		pos += n;
		idx[3] = n;
		jp->p--;	/* back on the ']' for close */
 close:
		/* At the ']' of level lvl; close until one goes on. */
		for (;;) {
			if ((int64_t)idx[lvl] != dims[lvl])
				return ag_errf(jp->err, jp->errlen,
				    AG_ERR_SHAPE, "%s: %zu elements at depth "
				    "%d where the shape has %lld", WHAT_DATA,
				    idx[lvl], lvl + 1, (long long)dims[lvl]);
			jp->p++;
			jp->depth--;
			if (lvl == 0) {
				AG_ASSERT(pos == count);
				return 0;
			}
			idx[--lvl]++;
			jp_ws(jp);
			if (jp->p < jp->end && *jp->p == ',') {
				jp->p++;
				first = 0;
				break;
			}
			if (jp->p < jp->end && *jp->p == ']')
				continue;
			return jp_syntax(jp, WHAT_DATA);
		}
	}
}

/* Allocates rq_data for the shape, then reads "data" at the cursor. */
static int
input_data(struct jp *jp, struct in_state *in, struct oip_infer_req *req)
{
	/* Every element is written before success; on failure it is freed. */
	if (req->rq_data == NULL) {
		if ((req->rq_data = malloc(req->rq_nelem *
		    sizeof(float))) == NULL)
			return ag_errf(jp->err, jp->errlen, AG_ERR_ALLOC,
			    "out of memory");
	}
	return parse_data(jp, in->dims, req->rq_data, req->rq_nelem);
}

static int
input_shape(struct jp *jp, const struct oip_model_io *io,
    struct in_state *in, struct oip_infer_req *req)
{
	int64_t v;
	size_t n, bytes;
	int i, r, nelem = 0;

	if ((r = jp_arr_begin(jp, WHAT_SHAPE)) != 0)
		goto bad;
	for (i = 0; (r = jp_arr_next(jp, WHAT_SHAPE, &nelem)) == 1; i++) {
		if (i == 4) {
			r = AG_ERR_FORMAT;
			goto bad;
		}
		if ((r = jp_int(jp, WHAT_SHAPE, 0, INT64_MAX, &v)) != 0)
			goto bad;
		in->dims[i] = v;
	}
	if (r < 0)
		goto bad;
	if (i != 4 || in->dims[0] < 1 || in->dims[0] > io->io_max_batch ||
	    in->dims[1] != io->io_channels || in->dims[2] != io->io_height ||
	    in->dims[3] != io->io_width) {
		r = AG_ERR_FORMAT;
		goto bad;
	}
	/* io_valid() checked the largest batch; this is the same check. */
	if (ag_mul_size((size_t)in->dims[0], (size_t)in->dims[1], &n) != 0 ||
	    ag_mul_size(n, (size_t)in->dims[2], &n) != 0 ||
	    ag_mul_size(n, (size_t)in->dims[3], &n) != 0 ||
	    ag_mul_size(n, sizeof(float), &bytes) != 0)
		return ag_errf(jp->err, jp->errlen, AG_ERR_TOO_LARGE,
		    "%s: too many elements", WHAT_SHAPE);
	req->rq_nelem = n;
	req->rq_n = (int)in->dims[0];
	in->have_shape = 1;
	return 0;
 bad:
	/* Syntax errors keep their message; the rest get the shape's. */
	if (r != AG_ERR_FORMAT)
		return r;
	return ag_errf(jp->err, jp->errlen, AG_ERR_SHAPE,
	    "%s: expected [N,%d,%d,%d] with 1 <= N <= %d", WHAT_SHAPE,
	    io->io_channels, io->io_height, io->io_width, io->io_max_batch);
}

static int
input_params(struct jp *jp, struct in_state *in)
{
	char key[JP_KEYLEN];
	int frame, n = 0, r;

	if ((r = jp_obj_begin(jp, WHAT_IPARAMS, &frame)) != 0)
		return r;
	while ((r = jp_obj_next(jp, WHAT_IPARAMS, frame, &n, key)) == 1) {
		if (strcmp(key, "binary_data_size") == 0)
			r = jp_int(jp, WHAT_IPARAMS ".binary_data_size", 0,
			    INT64_MAX, &in->bin_size);
		else
			r = jp_skip(jp, WHAT_IPARAMS);	/* not ours */
		if (r != 0)
			return r;
	}
	return r;
}

static int
parse_input(struct jp *jp, const struct oip_model_io *io,
    struct in_state *in, struct oip_infer_req *req)
{
	const uint8_t *save;
	char key[JP_KEYLEN];
	int frame, n = 0, r, depth;

	if ((r = jp_obj_begin(jp, WHAT_INPUT, &frame)) != 0)
		return r;
	while ((r = jp_obj_next(jp, WHAT_INPUT, frame, &n, key)) == 1) {
		if (strcmp(key, "name") == 0) {
			r = jp_name(jp, WHAT_INPUT ".name", io->io_input_name,
			    AG_ERR_UNEXPECTED);
			in->have_name = 1;
		} else if (strcmp(key, "datatype") == 0) {
			r = jp_name(jp, WHAT_INPUT ".datatype", "FP32",
			    AG_ERR_DTYPE);
			in->have_dtype = 1;
		} else if (strcmp(key, "shape") == 0)
			r = input_shape(jp, io, in, req);
		else if (strcmp(key, "parameters") == 0)
			r = input_params(jp, in);
		else if (strcmp(key, "data") == 0) {
			in->have_data = 1;
			if (in->have_shape)
				r = input_data(jp, in, req);
			else {
				/* Read it once the shape is known. */
				in->data_at = jp->p;
				in->data_depth = jp->depth;
				r = jp_skip(jp, WHAT_DATA);
			}
		} else
			r = jp_unknown(jp, WHAT_INPUT, key);
		if (r != 0)
			return r;
	}
	if (r != 0)
		return r;
	if (!in->have_name)
		return ag_errf(jp->err, jp->errlen, AG_ERR_MISSING,
		    "%s: \"name\" is missing", WHAT_INPUT);
	if (!in->have_dtype)
		return ag_errf(jp->err, jp->errlen, AG_ERR_MISSING,
		    "%s: \"datatype\" is missing", WHAT_INPUT);
	if (!in->have_shape)
		return ag_errf(jp->err, jp->errlen, AG_ERR_MISSING,
		    "%s: \"shape\" is missing", WHAT_INPUT);
	if (in->bin_size >= 0) {
		if (in->have_data)
			return ag_errf(jp->err, jp->errlen, AG_ERR_UNEXPECTED,
			    "%s: both \"data\" and binary_data_size given",
			    WHAT_INPUT);
		if ((uint64_t)in->bin_size != req->rq_nelem * sizeof(float))
			return ag_errf(jp->err, jp->errlen, AG_ERR_SHAPE,
			    "%s.binary_data_size: %lld bytes where the shape "
			    "needs %zu", WHAT_IPARAMS,
			    (long long)in->bin_size,
			    req->rq_nelem * sizeof(float));
		return 0;
	}
	if (!in->have_data)
		return ag_errf(jp->err, jp->errlen, AG_ERR_MISSING,
		    "%s: \"data\" is missing", WHAT_INPUT);
	if (in->data_at != NULL) {
		save = jp->p;
		depth = jp->depth;
		jp->p = in->data_at;
		jp->depth = in->data_depth;
		if ((r = input_data(jp, in, req)) != 0)
			return r;
		jp->p = save;
		jp->depth = depth;
	}
	return 0;
}

static int
parse_inputs(struct jp *jp, const struct oip_model_io *io,
    struct in_state *in, struct oip_infer_req *req)
{
	int n = 0, r;

	if ((r = jp_arr_begin(jp, "inputs")) != 0)
		return r;
	while ((r = jp_arr_next(jp, "inputs", &n)) == 1) {
		if (n > 1)
			break;
		if ((r = parse_input(jp, io, in, req)) != 0)
			return r;
	}
	if (r < 0)
		return r;
	if (n != 1)
		return ag_errf(jp->err, jp->errlen, AG_ERR_SHAPE,
		    "inputs: expected exactly one input, \"%s\"",
		    io->io_input_name);
	return 0;
}

static int
output_params(struct jp *jp, const char *what,
    const struct oip_model_io *io, struct oip_output_req *o, int *binary)
{
	char key[JP_KEYLEN], w[64];
	int64_t v;
	int frame, n = 0, r;

	if ((r = jp_obj_begin(jp, what, &frame)) != 0)
		return r;
	while ((r = jp_obj_next(jp, what, frame, &n, key)) == 1) {
		if (strcmp(key, "classification") == 0) {
			(void)snprintf(w, sizeof(w), "%s.classification",
			    what);
			if ((r = jp_int(jp, w, 1, io->io_classes, &v)) == 0)
				o->or_top_k = (int)v;
		} else if (strcmp(key, "binary_data") == 0) {
			(void)snprintf(w, sizeof(w), "%s.binary_data", what);
			r = jp_bool(jp, w, binary);
		} else
			r = jp_skip(jp, what);
		if (r != 0)
			return r;
	}
	return r;
}

static int
parse_output(struct jp *jp, int i, const struct oip_model_io *io,
    struct oip_output_req *o, int *binary)
{
	char key[JP_KEYLEN], what[32], w[48];
	int frame, n = 0, r, have_name = 0;

	(void)snprintf(what, sizeof(what), "outputs[%d]", i);
	if ((r = jp_obj_begin(jp, what, &frame)) != 0)
		return r;
	while ((r = jp_obj_next(jp, what, frame, &n, key)) == 1) {
		if (strcmp(key, "name") == 0) {
			(void)snprintf(w, sizeof(w), "%s.name", what);
			r = jp_name(jp, w, io->io_output_name,
			    AG_ERR_UNEXPECTED);
			have_name = 1;
		} else if (strcmp(key, "parameters") == 0) {
			(void)snprintf(w, sizeof(w), "%s.parameters", what);
			r = output_params(jp, w, io, o, binary);
		} else
			r = jp_unknown(jp, what, key);
		if (r != 0)
			return r;
	}
	if (r != 0)
		return r;
	if (!have_name)
		return ag_errf(jp->err, jp->errlen, AG_ERR_MISSING,
		    "%s: \"name\" is missing", what);
	return 0;
}

static int
parse_outputs(struct jp *jp, const struct oip_model_io *io,
    struct top_state *ts, struct oip_infer_req *req)
{
	int n = 0, r;

	if ((r = jp_arr_begin(jp, "outputs")) != 0)
		return r;
	while ((r = jp_arr_next(jp, "outputs", &n)) == 1) {
		if (n > OIP_MAX_OUTPUTS)
			return ag_errf(jp->err, jp->errlen, AG_ERR_TOO_LARGE,
			    "outputs: more than %d", OIP_MAX_OUTPUTS);
		if ((r = parse_output(jp, n - 1, io,
		    &req->rq_outputs[n - 1], &ts->out_binary[n - 1])) != 0)
			return r;
	}
	if (r < 0)
		return r;
	req->rq_n_outputs = n;
	return 0;
}

static int
parse_params(struct jp *jp, struct top_state *ts)
{
	char key[JP_KEYLEN];
	int frame, n = 0, r;

	if ((r = jp_obj_begin(jp, "parameters", &frame)) != 0)
		return r;
	while ((r = jp_obj_next(jp, "parameters", frame, &n, key)) == 1) {
		if (strcmp(key, "binary_data_output") == 0)
			r = jp_bool(jp, "parameters.binary_data_output",
			    &ts->binary_output);
		else
			r = jp_skip(jp, "parameters");	/* not ours */
		if (r != 0)
			return r;
	}
	return r;
}

static int
parse_id(struct jp *jp, struct oip_infer_req *req)
{
	size_t len;
	int r;

	if ((r = jp_string(jp, "id", req->rq_id, sizeof(req->rq_id), &len,
	    NULL)) != 0)
		return r;
	if (len > OIP_MAX_ID)
		return ag_errf(jp->err, jp->errlen, AG_ERR_TOO_LARGE,
		    "id: longer than %d bytes", OIP_MAX_ID);
	/* We hand it on as a C string. */
	if (memchr(req->rq_id, '\0', len) != NULL)
		return ag_errf(jp->err, jp->errlen, AG_ERR_FORMAT,
		    "id: contains U+0000");
	req->rq_has_id = 1;
	return 0;
}

static int
parse_top(struct jp *jp, const struct oip_model_io *io, struct in_state *in,
    struct top_state *ts, struct oip_infer_req *req)
{
	char key[JP_KEYLEN];
	int frame, n = 0, r;

	if ((r = jp_obj_begin(jp, "request", &frame)) != 0)
		return r;
	while ((r = jp_obj_next(jp, "request", frame, &n, key)) == 1) {
		if (strcmp(key, "id") == 0)
			r = parse_id(jp, req);
		else if (strcmp(key, "parameters") == 0)
			r = parse_params(jp, ts);
		else if (strcmp(key, "inputs") == 0) {
			r = parse_inputs(jp, io, in, req);
			ts->have_inputs = 1;
		} else if (strcmp(key, "outputs") == 0)
			r = parse_outputs(jp, io, ts, req);
		else
			r = jp_unknown(jp, "request", key);
		if (r != 0)
			return r;
	}
	if (r != 0)
		return r;
	if (!ts->have_inputs)
		return ag_errf(jp->err, jp->errlen, AG_ERR_MISSING,
		    "request: \"inputs\" is missing");
	return 0;
}

/* Little-endian float32s to floats, refusing NaN and infinity. */
static int
input_binary(const uint8_t *bin, struct oip_infer_req *req, char *err,
    size_t errlen)
{
	uint32_t u;
	float f;
	size_t i;

	if ((req->rq_data = malloc(req->rq_nelem * sizeof(float))) == NULL)
		return ag_errf(err, errlen, AG_ERR_ALLOC, "out of memory");
	for (i = 0; i < req->rq_nelem; i++, bin += 4) {
		u = (uint32_t)bin[0] | (uint32_t)bin[1] << 8 |
		    (uint32_t)bin[2] << 16 | (uint32_t)bin[3] << 24;
		memcpy(&f, &u, sizeof(f));
		/* The engine sees only finite numbers, as JSON gives. */
		if (!isfinite(f))
			return ag_errf(err, errlen, AG_ERR_NUMERIC,
			    "%s: binary element %zu is NaN or infinite",
			    WHAT_INPUT, i);
		req->rq_data[i] = f;
	}
	return 0;
}

static int
io_valid(const struct oip_model_io *io)
{
	size_t n;

	if (io == NULL || io->io_input_name == NULL ||
	    io->io_output_name == NULL || io->io_channels < 1 ||
	    io->io_height < 1 || io->io_width < 1 || io->io_max_batch < 1 ||
	    io->io_classes < 1)
		return 0;
	/* The largest batch must be addressable, in bytes. */
	if (ag_mul_size((size_t)io->io_max_batch, (size_t)io->io_channels,
	    &n) != 0 || ag_mul_size(n, (size_t)io->io_height, &n) != 0 ||
	    ag_mul_size(n, (size_t)io->io_width, &n) != 0 ||
	    ag_mul_size(n, sizeof(float), &n) != 0)
		return 0;
	return 1;
}

int
oip_parse_infer(const uint8_t *body, size_t len, long header_len,
    const struct oip_model_io *io, struct oip_infer_req *req,
    char *err, size_t errlen)
{
	return oip_parse_infer_work(body, len, header_len, io, req, err,
	    errlen, NULL);
}

int
oip_parse_infer_work(const uint8_t *body, size_t len, long header_len,
    const struct oip_model_io *io, struct oip_infer_req *req,
    char *err, size_t errlen, struct oip_work *work)
{
	struct jp *jp = NULL;
	struct in_state in;
	struct top_state ts;
	size_t jlen, binlen;
	int i, r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	AG_ASSERT(oip_keyed);	/* oip_init(), before the sandbox */
	if (req == NULL)
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG, "no request");
	memset(req, 0, sizeof(*req));
	if ((body == NULL && len > 0) || !io_valid(io))
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG,
		    "bad arguments");
	if (header_len < -1)
		return ag_errf(err, errlen, AG_ERR_FORMAT,
		    "Inference-Header-Content-Length: negative");
	if (header_len >= 0 && (unsigned long)header_len > len)
		return ag_errf(err, errlen, AG_ERR_FORMAT,
		    "Inference-Header-Content-Length: %ld is past the body "
		    "(%zu bytes)", header_len, len);
	jlen = header_len >= 0 ? (size_t)header_len : len;
	binlen = len - jlen;

	/* 8 KiB of key table: off the stack of a server thread. */
	if ((jp = malloc(sizeof(*jp))) == NULL)
		return ag_errf(err, errlen, AG_ERR_ALLOC, "out of memory");
	jp->start = jp->p = body;
	jp->end = body + jlen;
	jp->depth = 0;
	jp->nkeys = 0;
	jp->collisions = 0;
	memset(jp->slots, 0, sizeof(jp->slots));
	memset(&jp->work, 0, sizeof(jp->work));
	jp->err = err;
	jp->errlen = errlen;
	memset(&in, 0, sizeof(in));
	in.bin_size = -1;
	memset(&ts, 0, sizeof(ts));
	ts.binary_output = -1;
	for (i = 0; i < OIP_MAX_OUTPUTS; i++)
		ts.out_binary[i] = -1;

	if (jlen == 0) {
		r = ag_errf(err, errlen, AG_ERR_JSON, "request: empty");
		goto fail;
	}
	if ((r = parse_top(jp, io, &in, &ts, req)) != 0)
		goto fail;
	jp_ws(jp);
	if (jp->p != jp->end) {
		r = ag_errf(err, errlen, AG_ERR_JSON,
		    "request: bytes after the JSON object (byte %zu)",
		    (size_t)(jp->p - jp->start));
		goto fail;
	}
	AG_ASSERT(jp->depth == 0);

	/* The binary part: exactly the input's bytes, or nothing. */
	if (in.bin_size >= 0) {
		if (header_len < 0) {
			r = ag_errf(err, errlen, AG_ERR_MISSING,
			    "%s: binary_data_size without "
			    "Inference-Header-Content-Length", WHAT_IPARAMS);
			goto fail;
		}
		if ((uint64_t)in.bin_size != binlen) {
			r = ag_errf(err, errlen, AG_ERR_SHAPE,
			    "binary data: %zu bytes after the JSON where "
			    "binary_data_size says %lld", binlen,
			    (long long)in.bin_size);
			goto fail;
		}
		if ((r = input_binary(body + jlen, req, err, errlen)) != 0)
			goto fail;
	} else if (binlen != 0) {
		r = ag_errf(err, errlen, AG_ERR_UNEXPECTED,
		    "binary data: %zu bytes after the JSON, but no input has "
		    "binary_data_size", binlen);
		goto fail;
	}

	req->rq_binary_output = ts.binary_output == 1;
	for (i = 0; i < req->rq_n_outputs; i++)
		req->rq_outputs[i].or_binary = ts.out_binary[i] >= 0 ?
		    ts.out_binary[i] : req->rq_binary_output;
	r = 0;
	goto out;
 fail:
	oip_infer_req_free(req);
 out:
	if (work != NULL) {
		work->ow_keys += jp->work.ow_keys;
		work->ow_probes += jp->work.ow_probes;
		work->ow_cmp += jp->work.ow_cmp;
	}
	free(jp);
	return r;
}

void
oip_infer_req_free_data(struct oip_infer_req *req)
{
	if (req == NULL || req->rq_data == NULL)
		return;
	/* It held the client's tensor. */
	explicit_bzero(req->rq_data, req->rq_nelem * sizeof(float));
	free(req->rq_data);
	req->rq_data = NULL;
}

void
oip_infer_req_free(struct oip_infer_req *req)
{
	if (req == NULL)
		return;
	oip_infer_req_free_data(req);
	memset(req, 0, sizeof(*req));
}

/* ==== Output buffer ==================================================== */

void
oip_buf_free(struct oip_buf *b)
{
	if (b == NULL)
		return;
	free(b->b);
	b->b = NULL;
	b->len = b->cap = 0;
}

int
oip_buf_reserve(struct oip_buf *b, size_t n)
{
	size_t need, cap;
	char *nb;

	if (ag_add_size(b->len, n, &need) != 0 || need > OIP_BUF_MAX)
		return AG_ERR_TOO_LARGE;
	if (need <= b->cap)
		return 0;
	cap = b->cap < 256 ? 256 : b->cap;
	while (cap < need)
		cap = cap > OIP_BUF_MAX / 2 ? OIP_BUF_MAX : cap * 2;
	if ((nb = realloc(b->b, cap)) == NULL)
		return AG_ERR_ALLOC;
	b->b = nb;
	b->cap = cap;
	return 0;
}

int
oip_buf_put(struct oip_buf *b, const void *p, size_t n)
{
	int r;

	if (n == 0)
		return 0;
	if ((r = oip_buf_reserve(b, n)) != 0)
		return r;
	memcpy(b->b + b->len, p, n);
	b->len += n;
	return 0;
}

int
oip_buf_puts(struct oip_buf *b, const char *s)
{
	return oip_buf_put(b, s, strlen(s));
}

/* The escaped text of s, without quotes (see oip_json_escape()). */
static int
json_escape_body(struct oip_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = (const uint8_t *)s, *end = p + len;
	size_t need;
	char *o;
	int n, r;

	/* At most 6 bytes out per byte in ("\u00XX"; U+FFFD takes 3). */
	if (ag_mul_size(len, 6, &need) != 0)
		return AG_ERR_TOO_LARGE;
	if ((r = oip_buf_reserve(b, need)) != 0)
		return r;
	o = b->b + b->len;
	while (p < end) {
		if (*p == '"' || *p == '\\') {
			*o++ = '\\';
			*o++ = (char)*p++;
		} else if (*p < 0x20 || *p == 0x7f) {
			memcpy(o, "\\u00", 4);
			o[4] = hex[*p >> 4];
			o[5] = hex[*p & 0xf];
			o += 6;
			p++;
		} else if (*p < 0x80) {
			*o++ = (char)*p++;
		} else if ((n = utf8_len(p, end)) > 0) {
			memcpy(o, p, (size_t)n);
			o += n;
			p += n;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);	/* U+FFFD */
			o += 3;
			p++;
		}
	}
	b->len = (size_t)(o - b->b);
	return 0;
}

int
oip_json_escape(struct oip_buf *b, const char *s, size_t len)
{
	int r;

	if ((r = oip_buf_put(b, "\"", 1)) != 0 ||
	    (r = json_escape_body(b, s, len)) != 0 ||
	    (r = oip_buf_put(b, "\"", 1)) != 0)
		return r;
	return 0;
}

int
oip_write_error(struct oip_buf *b, const char *msg)
{
	int r;

	if ((r = oip_buf_puts(b, "{\"error\":")) != 0 ||
	    (r = oip_json_escape(b, msg, strlen(msg))) != 0 ||
	    (r = oip_buf_puts(b, "}")) != 0)
		return r;
	return 0;
}

/* ==== The infer response ============================================== */

/*
 * "<value>:<index>[:<label>]" of class i of one image's logits lg into
 * buf; returns its length.
 */
static size_t
class_str(char *buf, size_t cap, const float *lg, size_t i,
    const char *const *labels, const char **labelp)
{
	int n;

	n = oip_format_f32(buf, lg[i]);
	AG_ASSERT(n > 0);
	n += snprintf(buf + n, cap - (size_t)n, ":%zu", i);
	*labelp = labels != NULL ? labels[i] : NULL;
	return (size_t)n;
}

static int
put_le32(struct oip_buf *b, uint32_t v)
{
	uint8_t x[4];

	x[0] = (uint8_t)v;
	x[1] = (uint8_t)(v >> 8);
	x[2] = (uint8_t)(v >> 16);
	x[3] = (uint8_t)(v >> 24);
	return oip_buf_put(b, x, sizeof(x));
}

static int
put_fmt(struct oip_buf *b, const char *fmt, long long v)
{
	char t[64];
	int n;

	n = snprintf(t, sizeof(t), fmt, v);
	AG_ASSERT(n > 0 && (size_t)n < sizeof(t));
	return oip_buf_put(b, t, (size_t)n);
}

/*
 * The JSON of one output.  top: per image (a stride of the class count),
 * the indices of its best classes in the order of topk.h (only when an
 * output asks for classification).
 */
static int
write_output(struct oip_buf *b, const struct oip_model_io *io,
    const struct oip_infer_req *req, const struct oip_output_req *o,
    const float *logits, const size_t *top,
    const char *const *labels)
{
	const char *label;
	char t[OIP_F32_BUFLEN + 16];
	size_t ncls = (size_t)io->io_classes, i, j, n, binsz, tl;
	int r, k = o->or_top_k;

	if ((r = oip_buf_puts(b, "{\"name\":")) != 0 ||
	    (r = oip_json_escape(b, io->io_output_name,
	    strlen(io->io_output_name))) != 0 ||
	    (r = oip_buf_puts(b, k > 0 ? ",\"datatype\":\"BYTES\"" :
	    ",\"datatype\":\"FP32\"")) != 0 ||
	    (r = put_fmt(b, ",\"shape\":[%lld,", req->rq_n)) != 0 ||
	    (r = put_fmt(b, "%lld]", k > 0 ? k : io->io_classes)) != 0)
		return r;
	n = (size_t)req->rq_n * ncls;
	if (o->or_binary) {
		if (k == 0)
			binsz = n * 4;
		else {
			for (binsz = 0, i = 0; i < (size_t)req->rq_n; i++)
				for (j = 0; j < (size_t)k; j++) {
					tl = class_str(t, sizeof(t),
					    logits + i * ncls,
					    top[i * ncls + j], labels,
					    &label);
					binsz += 4 + tl + (label != NULL ?
					    1 + strlen(label) : 0);
				}
		}
		if ((r = put_fmt(b, ",\"parameters\":{\"binary_data_size\":"
		    "%lld}}", (long long)binsz)) != 0)
			return r;
		return 0;
	}
	if ((r = oip_buf_puts(b, ",\"data\":[")) != 0)
		return r;
	if (k == 0) {
		/* Each number, its comma and a NUL fit in OIP_F32_BUFLEN. */
		if (ag_mul_size(n, OIP_F32_BUFLEN, &tl) != 0)
			return AG_ERR_TOO_LARGE;
		if ((r = oip_buf_reserve(b, tl)) != 0)
			return r;
		for (i = 0; i < n; i++) {
			if (i > 0)
				b->b[b->len++] = ',';
			b->len += (size_t)oip_format_f32(b->b + b->len,
			    logits[i]);
		}
	} else {
		for (i = 0; i < (size_t)req->rq_n; i++)
			for (j = 0; j < (size_t)k; j++) {
				tl = class_str(t, sizeof(t),
				    logits + i * ncls, top[i * ncls + j],
				    labels, &label);
				if ((r = oip_buf_reserve(b, tl + 4)) != 0)
					return r;
				if (i + j > 0)
					b->b[b->len++] = ',';
				b->b[b->len++] = '"';
				memcpy(b->b + b->len, t, tl);
				b->len += tl;
				if (label != NULL) {
					b->b[b->len++] = ':';
					if ((r = json_escape_body(b, label,
					    strlen(label))) != 0)
						return r;
				}
				if ((r = oip_buf_puts(b, "\"")) != 0)
					return r;
			}
	}
	return oip_buf_puts(b, "]}");
}

/* The binary part of one output (binary tensor extension). */
static int
write_binary(struct oip_buf *b, const struct oip_model_io *io,
    const struct oip_infer_req *req, const struct oip_output_req *o,
    const float *logits, const size_t *top,
    const char *const *labels)
{
	const char *label;
	char t[OIP_F32_BUFLEN + 16];
	size_t ncls = (size_t)io->io_classes, i, j, n, tl, ll;
	uint32_t u;
	int r;

	n = (size_t)req->rq_n * ncls;
	if (o->or_top_k == 0) {
		/* FP32, little-endian. */
		for (i = 0; i < n; i++) {
			memcpy(&u, &logits[i], sizeof(u));
			if ((r = put_le32(b, u)) != 0)
				return r;
		}
		return 0;
	}
	/* BYTES: each element a 4-byte little-endian length, then bytes. */
	for (i = 0; i < (size_t)req->rq_n; i++)
		for (j = 0; j < (size_t)o->or_top_k; j++) {
			tl = class_str(t, sizeof(t), logits + i * ncls,
			    top[i * ncls + j], labels, &label);
			ll = label != NULL ? strlen(label) : 0;
			if (ll > UINT32_MAX - 1 - tl)
				return AG_ERR_TOO_LARGE;
			if ((r = put_le32(b, (uint32_t)(tl +
			    (label != NULL ? 1 + ll : 0)))) != 0 ||
			    (r = oip_buf_put(b, t, tl)) != 0)
				return r;
			if (label != NULL &&
			    ((r = oip_buf_put(b, ":", 1)) != 0 ||
			    (r = oip_buf_put(b, label, ll)) != 0))
				return r;
		}
	return 0;
}

int
oip_write_infer(struct oip_buf *out, size_t *json_len,
    const char *model_name, const char *model_version,
    const struct oip_model_io *io, const struct oip_infer_req *req,
    const float *logits, const char *const *labels)
{
	const struct oip_output_req *outs;
	struct oip_output_req def;
	size_t *top = NULL;
	size_t ncls, n, i;
	int nout, o, r, kmax = 0, any_bin = 0;

	if (out == NULL || json_len == NULL)
		return AG_ERR_INVALID_ARG;
	out->len = 0;
	*json_len = 0;
	if (model_name == NULL || !io_valid(io) || req == NULL ||
	    logits == NULL || req->rq_n < 1 ||
	    req->rq_n_outputs < 0 || req->rq_n_outputs > OIP_MAX_OUTPUTS)
		return AG_ERR_INVALID_ARG;
	ncls = (size_t)io->io_classes;
	if (ag_mul_size((size_t)req->rq_n, ncls, &n) != 0)
		return AG_ERR_TOO_LARGE;
	/* JSON has no NaN or infinity. */
	for (i = 0; i < n; i++)
		if (!isfinite(logits[i]))
			return AG_ERR_NUMERIC;
	if (req->rq_n_outputs == 0) {
		def.or_top_k = 0;
		def.or_binary = req->rq_binary_output;
		outs = &def;
		nout = 1;
	} else {
		outs = req->rq_outputs;
		nout = req->rq_n_outputs;
	}
	for (o = 0; o < nout; o++) {
		if (outs[o].or_top_k < 0 || (size_t)outs[o].or_top_k > ncls)
			return AG_ERR_INVALID_ARG;
		if (outs[o].or_top_k > kmax)
			kmax = outs[o].or_top_k;
		any_bin |= outs[o].or_binary != 0;
	}
	if (kmax > 0) {
		/* Each image's best kmax classes, in order, for all outputs. */
		if ((top = calloc(n, sizeof(*top))) == NULL)
			return AG_ERR_ALLOC;
		for (i = 0; i < (size_t)req->rq_n; i++)
			(void)topk_select(logits + i * ncls, ncls,
			    (size_t)kmax, top + i * ncls);
	}

	if ((r = oip_buf_puts(out, "{\"model_name\":")) != 0 ||
	    (r = oip_json_escape(out, model_name, strlen(model_name))) != 0)
		goto fail;
	if (model_version != NULL &&
	    ((r = oip_buf_puts(out, ",\"model_version\":")) != 0 ||
	    (r = oip_json_escape(out, model_version,
	    strlen(model_version))) != 0))
		goto fail;
	if (req->rq_has_id &&
	    ((r = oip_buf_puts(out, ",\"id\":")) != 0 ||
	    (r = oip_json_escape(out, req->rq_id,
	    strnlen(req->rq_id, OIP_MAX_ID))) != 0))
		goto fail;
	if ((r = oip_buf_puts(out, ",\"outputs\":[")) != 0)
		goto fail;
	for (o = 0; o < nout; o++) {
		if ((o > 0 && (r = oip_buf_puts(out, ",")) != 0) ||
		    (r = write_output(out, io, req, &outs[o], logits, top,
		    labels)) != 0)
			goto fail;
	}
	if ((r = oip_buf_puts(out, "]}")) != 0)
		goto fail;
	*json_len = out->len;
	if (any_bin) {
		/* In the order of the outputs, as the extension says. */
		for (o = 0; o < nout; o++)
			if (outs[o].or_binary &&
			    (r = write_binary(out, io, req, &outs[o], logits,
			    top, labels)) != 0)
				goto fail;
	}
	free(top);
	return 0;
 fail:
	free(top);
	out->len = 0;
	*json_len = 0;
	return r;
}
