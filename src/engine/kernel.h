/* SPDX-License-Identifier: ISC */
/*
 * kernel.h: the engine's own GEMM micro-kernel with the convolution's
 * output pass fused into its store.
 *
 * Compiled ahead of time for AVX-512F (no JIT); kern_available() tells at
 * run time whether this CPU has it, and conv.c falls back to the BLAS path
 * when it does not.
 */
#ifndef AG_KERNEL_H
#define AG_KERNEL_H

#include <stddef.h>

#define KERN_NR		32	/* output columns per weight panel */
#define KERN_MR		12	/* output rows per register tile */

/*
 * Rows for the next register tile when left rows remain: the rows are
 * shared evenly among the fewest tiles of at most KERN_MR, so that no tile
 * is left with one or two rows (a lone row is one latency-bound chain of
 * FMAs; ten rows cost no more per FMA than twelve).
 */
static inline int
kern_rows(size_t left)
{
	size_t n;

	if (left <= KERN_MR)
		return (int)left;
	n = (left + KERN_MR - 1) / KERN_MR;
	return (int)((left + n - 1) / n);
}

/* 1 when the AVX-512 kernel can run on this CPU. */
int	kern_available(void);

/*
 * For r < mr (1..KERN_MR) and j < ncols (1..KERN_NR):
 *   y[r*ldy + j] = act(sum_k a[r*lda + k] * bp[k*KERN_NR + j] + bias[j]
 *                      + res[r*ldr + j])
 * a: mr rows of k floats (row stride lda); bp: a packed weight panel
 * (k, KERN_NR); bias: KERN_NR floats (padded); res may be NULL, or y
 * itself (ldr == ldy: y += a bp, a sum over blocks of k); act is ReLU
 * when relu is set, else the identity.
 */
void	kern_tile(int mr, int k, const float *a, size_t lda, const float *bp,
	    const float *bias, const float *res, size_t ldr, int relu,
	    float *y, size_t ldy, int ncols);

#endif /* AG_KERNEL_H */
