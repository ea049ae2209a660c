/* SPDX-License-Identifier: ISC */
/*
 * jsonnum.c: the out-of-line half of jsonnum.h: the tables, the strtof()
 * slow path, jsonnum_strtof() and the shortest float formatter.
 */
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ag_err.h"
#include "common/util.h"
#include "http/jsonnum.h"

/* ==== Numbers: decimal text to float ================================== */

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

static const double pow10_exact[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* 10^k, correctly rounded, for k in [-64, 64]; index k + 64. */
const double jsonnum_pow10[] = {
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

const uint64_t jsonnum_pow10_u64[] = {
	1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
	10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
	100000000000ULL, 1000000000000ULL, 10000000000000ULL,
	100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
	100000000000000000ULL, 1000000000000000000ULL,
	10000000000000000000ULL,
};

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
 * reads a bounded string.  The token was scanned by jsonnum_scan(), has a
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
			if (x < JSONNUM_EXP_SAT)
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
int
jsonnum_slow(const struct jsonnum *nt, const uint8_t *tok, size_t toklen,
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
	/* jsonnum_scan() accepted the token, so all of it must be a number. */
	if (*ep != '\0')
		return AG_ERR_INTERNAL;
	if (isinf(f))
		return AG_ERR_NUMERIC;
	*out = f;
	return 0;
}

int
jsonnum_strtof(const char *s, size_t len, float *out)
{
	const uint8_t *p = (const uint8_t *)s, *end;
	struct jsonnum nt;

	*out = 0.0f;
	if (s == NULL)
		return AG_ERR_JSON;
	end = p + len;
	if (jsonnum_scan(&p, end, &nt) != 0 || p != end)
		return AG_ERR_JSON;
	return jsonnum_to_f32(&nt, (const uint8_t *)s, len, out);
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
	struct jsonnum nt;
	uint64_t v;
	float g;
	int nd;

	memset(&nt, 0, sizeof(nt));
	nt.m = c;
	nt.e10 = e10;
	for (nd = 0, v = c; v != 0; v /= 10)
		nd++;
	nt.nd = nd;
	if (jsonnum_to_f32(&nt, NULL, 0, &g) != 0)
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
jsonnum_format_f32(char *buf, float f)
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
	if (d >= jsonnum_pow10[e + 1 - JSONNUM_POW10_MIN])
		e++;
	if (d < jsonnum_pow10[e - JSONNUM_POW10_MIN])
		e--;
	k = 8 - e;		/* in [-30, 53] for floats */
	s = jsonnum_pow10[k - JSONNUM_POW10_MIN];
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
		return snprintf(buf, JSONNUM_F32_BUFLEN, "%.9g", (double)f);
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
