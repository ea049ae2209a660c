/* SPDX-License-Identifier: ISC */
/*
 * kernel_avx512.c: a 12x32 AVX-512 SGEMM micro-kernel with a fused
 * bias + residual + ReLU store.  See kernel.h.
 *
 * The tile keeps 12 rows x 2 vectors of 16 floats in 24 of the 32 zmm
 * registers.  Each step over k loads one row of the weight panel (two
 * vectors) and broadcasts one value from each of the 12 A rows: 24 FMAs
 * for 14 loads.  A is read in place (im2col rows, or the activations
 * themselves for a 1x1 conv): no packing pass.  Built with a target
 * attribute, so the rest of the program stays baseline x86-64.  Compiled
 * for x86-64 only (arch/portable.c stands in elsewhere).
 */
#include <stddef.h>

#include "engine/kernel.h"

#if defined(__x86_64__)

#include <immintrin.h>

int
kern_available(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512f");
}

#define KERN_TARGET __attribute__((target("avx512f"), always_inline)) inline

static KERN_TARGET void
kern_tile_mr(const int mr, int k, const float *a, size_t lda,
    const float *bp, const float *bias, const float *res, size_t ldr,
    int relu, float *y, size_t ldy, int ncols)
{
	__m512 acc0[KERN_MR], acc1[KERN_MR], b0, b1, v0, v1, zero;
	__mmask16 m0, m1;
	int r, p;

#pragma GCC unroll 12
	for (r = 0; r < mr; r++) {
		acc0[r] = _mm512_setzero_ps();
		acc1[r] = _mm512_setzero_ps();
	}
	for (p = 0; p < k; p++) {
		b0 = _mm512_load_ps(bp + (size_t)p * KERN_NR);
		b1 = _mm512_load_ps(bp + (size_t)p * KERN_NR + 16);
		/*
		 * Keep the panel row in registers: folded into each FMA as a
		 * memory operand it would cost 24 loads per step instead of 2,
		 * and the loads, not the FMAs, would set the pace.
		 */
		__asm__("" : "+v"(b0), "+v"(b1));
#pragma GCC unroll 12
		for (r = 0; r < mr; r++) {
			__m512 av = _mm512_set1_ps(a[(size_t)r * lda + p]);

			acc0[r] = _mm512_fmadd_ps(av, b0, acc0[r]);
			acc1[r] = _mm512_fmadd_ps(av, b1, acc1[r]);
		}
	}
	/* The output pass: + bias, + residual, ReLU, store ncols columns. */
	m0 = ncols >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << ncols) - 1);
	m1 = ncols >= 32 ? (__mmask16)0xffff : ncols <= 16 ? 0 :
	    (__mmask16)((1u << (ncols - 16)) - 1);
	b0 = _mm512_loadu_ps(bias);
	b1 = _mm512_loadu_ps(bias + 16);
	zero = _mm512_setzero_ps();
#pragma GCC unroll 12
	for (r = 0; r < mr; r++) {
		v0 = _mm512_add_ps(acc0[r], b0);
		v1 = _mm512_add_ps(acc1[r], b1);
		if (res != NULL) {
			v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0,
			    res + (size_t)r * ldr));
			v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1,
			    res + (size_t)r * ldr + 16));
		}
		if (relu) {
			v0 = _mm512_max_ps(v0, zero);
			v1 = _mm512_max_ps(v1, zero);
		}
		_mm512_mask_storeu_ps(y + (size_t)r * ldy, m0, v0);
		_mm512_mask_storeu_ps(y + (size_t)r * ldy + 16, m1, v1);
	}
}

#define KERN_CASE(n) case n: kern_tile_mr(n, k, a, lda, bp, bias, res, ldr, \
	relu, y, ldy, ncols); break

__attribute__((target("avx512f"))) void
kern_tile(int mr, int k, const float *a, size_t lda, const float *bp,
    const float *bias, const float *res, size_t ldr, int relu, float *y,
    size_t ldy, int ncols)
{
	/* One instantiation per row count keeps every tile in registers. */
	switch (mr) {
	KERN_CASE(12); KERN_CASE(11); KERN_CASE(10); KERN_CASE(9);
	KERN_CASE(8); KERN_CASE(7); KERN_CASE(6); KERN_CASE(5);
	KERN_CASE(4); KERN_CASE(3); KERN_CASE(2); KERN_CASE(1);
	default: break;
	}
}

#endif /* __x86_64__ */
