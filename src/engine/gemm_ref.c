/* SPDX-License-Identifier: ISC */
/*
 * gemm_ref.c: the reference GEMM, and the dispatch to OpenBLAS.
 */
#include <stdio.h>

#include "gemm.h"

#ifndef AG_BLAS_REF
#include <cblas.h>
#endif

void
gemm_ref(int m, int n, int k, const float *a, int lda, const float *b,
    int ldb, float *c, int ldc, int accumulate)
{
	int i, j, p;

	for (i = 0; i < m; i++) {
		float *ci = c + (size_t)i * ldc;

		if (!accumulate)
			for (j = 0; j < n; j++)
				ci[j] = 0.0f;
		/* i-p-j order: the inner loop streams rows of B and C. */
		for (p = 0; p < k; p++) {
			float aip = a[(size_t)i * lda + p];
			const float *bp = b + (size_t)p * ldb;

			for (j = 0; j < n; j++)
				ci[j] += aip * bp[j];
		}
	}
}

#ifdef AG_BLAS_REF
void
gemm_f32(int m, int n, int k, const float *a, int lda, const float *b,
    int ldb, float *c, int ldc, int accumulate)
{
	gemm_ref(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}

int
gemm_set_threads(int nthreads)
{
	(void)nthreads;
	return 1;
}

const char *
gemm_backend(void)
{
	return "ref";
}
#else
/* OpenBLAS extensions, declared in its cblas.h. */
void
gemm_f32(int m, int n, int k, const float *a, int lda, const float *b,
    int ldb, float *c, int ldc, int accumulate)
{
	/* C = A(m,k) @ B(k,n) + beta * C */
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f,
	    a, lda, b, ldb, accumulate ? 1.0f : 0.0f, c, ldc);
}

int
gemm_set_threads(int nthreads)
{
	if (nthreads < 1)
		nthreads = 1;
	if (nthreads > 64)
		nthreads = 64;
	openblas_set_num_threads(nthreads);
	return openblas_get_num_threads();
}

const char *
gemm_backend(void)
{
	static char name[96];

	snprintf(name, sizeof(name), "OpenBLAS %s", openblas_get_corename());
	return name;
}
#endif
