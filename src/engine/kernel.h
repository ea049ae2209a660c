/* SPDX-License-Identifier: ISC */
/*
 * kernel.h: the engine's ISA interface: everything the portable engine
 * calls of the code written for one instruction set.  That code lives in
 * src/engine/arch/<isa>/; today x86-64 with AVX-512F (arch/x86/): the
 * GEMM micro-kernel with the convolution's output pass fused into its
 * store, the Winograd passes and ops.c's vector loops.
 *
 * Compiled ahead of time (no JIT), each function with a target attribute,
 * so that the program stays baseline x86-64.  kern_available() tells at
 * run time whether this CPU can run them; the engine asks once
 * (conv_kernel_available(), which also honours AG_ENGINE_KERNEL=blas) and
 * otherwise takes its portable path (im2col + BLAS, scalar loops).  On
 * another target the arch files compile to nothing and arch/portable.c
 * says no: kern_available() is 0 there, and the others are never called.
 * The dispatch is per layer or per task, never per element; the helpers
 * the kernels inline stay in their arch file.
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

/*
 * 1 when this build holds ISA code and this CPU can run it (x86-64: the
 * CPU has AVX-512F); 0 otherwise.  Not the switch: see conv.h.
 */
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

/* ==== ops.c's loops ==== */

/*
 * ops_nchw_to_nhwc() of a three-channel image, pixels [p0, p1): yi (hw, 3)
 * from the planes xi (3, hw).
 */
void	kern_nhwc_rows3(const float *xi, float *yi, size_t hw, size_t p0,
	    size_t p1);

/* ops_maxpool()'s job: x (n, h, w, c) pooled into y (n, oh, ow, c). */
struct maxpool_job {
	const float	*x;
	float		*y;
	int		 h, w, c, k, s, p, oh, ow;
};

/*
 * A pool task (pool.h) over a struct maxpool_job: output row task % oh of
 * image task / oh, for c a multiple of 16 and p < k.
 */
void	kern_maxpool_row16(void *arg, int task, int thread);

/* ==== The Winograd passes: pool tasks over a struct wino_job ==== */

/*
 * Over a struct wino_job (winograd_pass.h), planned by wino_forward():
 * kern_wino_task() runs one block of tiles through the input transform,
 * the products with cv_u and the output pass; for cv_wf,
 * kern_wino_fly_input() transforms one block of the chunk's tiles into
 * wj_v, then kern_wino_fly_panel() runs output panel "task" (the weights
 * transformed block by block, the products, the output pass).
 */
void	kern_wino_task(void *arg, int task, int thread);
void	kern_wino_fly_input(void *arg, int task, int thread);
void	kern_wino_fly_panel(void *arg, int task, int thread);

/* ==== The pool's spin-wait hint ==== */

/* Tells the CPU that this thread spins on a flag (pool.c). */
static inline void
kern_spin_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

#endif /* AG_KERNEL_H */
