/* SPDX-License-Identifier: ISC */
/*
 * ops_avx512.c: ops.c's loops with AVX-512F: the layout change of a
 * three-channel image and the max pooling over 16 channels at a time.
 * See kernel.h.  Compiled for x86-64 only; each function carries a target
 * attribute, and runs only where kern_available() says so.
 */
#include <stddef.h>

#include "engine/kernel.h"

#if defined(__x86_64__)

#include <immintrin.h>

/*
 * Three channels with AVX-512: 16 pixels of each plane make 48
 * interleaved floats, three vectors, each built by two two-source
 * permutes (the first picks the pixels' channels 0 and 1, the second
 * adds channel 2).
 */
__attribute__((target("avx512f"))) void
kern_nhwc_rows3(const float *xi, float *yi, size_t hw, size_t p0, size_t p1)
{
	__m512i i1[3], i2[3];
	size_t p;
	int k, e;

	for (k = 0; k < 3; k++) {
		int a1[16], a2[16];

		for (e = 0; e < 16; e++) {
			int g = 16 * k + e, q = g / 3, ch = g % 3;

			a1[e] = ch == 0 ? q : ch == 1 ? 16 + q : 0;
			a2[e] = ch == 2 ? 16 + q : e;
		}
		i1[k] = _mm512_loadu_si512(a1);
		i2[k] = _mm512_loadu_si512(a2);
	}
	for (p = p0; p + 16 <= p1; p += 16) {
		__m512 a = _mm512_loadu_ps(xi + p);
		__m512 b = _mm512_loadu_ps(xi + hw + p);
		__m512 c = _mm512_loadu_ps(xi + 2 * hw + p);

		for (k = 0; k < 3; k++)
			_mm512_storeu_ps(yi + 3 * p + 16 * k,
			    _mm512_permutex2var_ps(_mm512_permutex2var_ps(a,
			    i1[k], b), i2[k], c));
	}
	for (; p < p1; p++)
		for (k = 0; k < 3; k++)
			yi[3 * p + (size_t)k] = xi[(size_t)k * hw + p];
}

/*
 * The same with AVX-512, for c a multiple of 16: each output pixel's
 * running maximum stays in registers, 16 channels at a time, instead of
 * going through y for every window pixel (the stem's pool, 112x112x64:
 * 0.38 ms an image before, 0.05 now).  _mm512_max_ps(a, b) is a > b ? a
 * : b, as in ops.c's maxpool_row(), NaNs included.
 */
__attribute__((target("avx512f"))) void
kern_maxpool_row16(void *arg, int task, int thread)
{
	const struct maxpool_job *j = arg;
	const int c = j->c, i = task / j->oh, oy = task % j->oh;
	int ox, ky, kx, ch, y0, y1, x0, x1;

	y0 = oy * j->s - j->p;
	y1 = y0 + j->k > j->h ? j->h : y0 + j->k;
	y0 = y0 < 0 ? 0 : y0;
	for (ox = 0; ox < j->ow; ox++) {
		float *yo = j->y + (((size_t)i * j->oh + oy) * j->ow + ox) * c;

		x0 = ox * j->s - j->p;
		x1 = x0 + j->k > j->w ? j->w : x0 + j->k;
		x0 = x0 < 0 ? 0 : x0;
		for (ch = 0; ch < c; ch += 16) {
			const float *xi = j->x + (((size_t)i * j->h + y0) *
			    j->w + x0) * c + ch;
			__m512 m = _mm512_loadu_ps(xi);

			for (ky = y0; ky < y1; ky++)
				for (kx = x0; kx < x1; kx++)
					m = _mm512_max_ps(_mm512_loadu_ps(j->x +
					    (((size_t)i * j->h + ky) * j->w +
					    kx) * c + ch), m);
			_mm512_storeu_ps(yo + ch, m);
		}
	}
}

#endif /* __x86_64__ */
