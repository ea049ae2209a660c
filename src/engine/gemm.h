/* SPDX-License-Identifier: ISC */
/*
 * gemm.h: the engine's one matrix-multiply entry point.
 *
 * gemm_f32() goes to OpenBLAS's cblas_sgemm, or to gemm_ref() when built
 * with BLAS=ref (-DAG_BLAS_REF).  gemm_ref() is always compiled, so tests
 * can cross-check the BLAS against it.
 */
#ifndef AG_GEMM_H
#define AG_GEMM_H

/*
 * C(m, n) = A(m, k) @ B(k, n) (+ C when accumulate), all row-major with
 * leading dimensions lda, ldb, ldc.
 */
void	gemm_f32(int m, int n, int k, const float *a, int lda,
	    const float *b, int ldb, float *c, int ldc, int accumulate);

/* The same, in plain C: slow, simple, used as the reference in tests. */
void	gemm_ref(int m, int n, int k, const float *a, int lda,
	    const float *b, int ldb, float *c, int ldc, int accumulate);

/* Threads used by the BLAS (1..64); returns the number in effect. */
int	gemm_set_threads(int n);

/* Name of the BLAS kernel in use ("ref" without a BLAS). */
const char *gemm_backend(void);

#endif /* AG_GEMM_H */
