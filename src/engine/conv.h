/* SPDX-License-Identifier: ISC */
/*
 * conv.h: 2-D convolution on NHWC activations with a fused output pass.
 *
 * y = act(conv(x, w) + bias + res): the bias, the residual add and the ReLU
 * are applied in one pass over each output tile while it is still in cache.
 * The layer is computed tile by tile over output pixels: im2col of a tile
 * into a caller-provided scratch buffer, one GEMM, then the output pass.
 * A 1x1 stride-1 convolution needs no im2col: the input rows are the GEMM's
 * A matrix as they are.  conv_forward() is the single place that picks the
 * method, so a faster kernel (direct AVX-512, Winograd) can replace it for
 * the layers where it wins.
 */
#ifndef AG_CONV_H
#define AG_CONV_H

#include <stddef.h>

struct conv {
	int		 cv_cin, cv_cout, cv_k, cv_stride, cv_pad;
	const float	*cv_w;		/* (k, k, cin, cout), BatchNorm folded */
	const float	*cv_b;		/* (cout) */
};

/* Output size along one axis: (in + 2 pad - k) / stride + 1, or 0. */
int	conv_out_size(int in, int k, int stride, int pad);

/* Rows of K = k*k*cin floats per im2col tile, for a scratch of cap floats. */
size_t	conv_tile_rows(const struct conv *cv, size_t cap);

/*
 * y (n, oh, ow, cout) = [relu](conv(x (n, h, w, cin)) + b + res), where
 * res (n, oh, ow, cout) may be NULL.  col is scratch of colcap floats, at
 * least k*k*cin of them.  y must not alias x or res.
 */
void	conv_forward(const struct conv *cv, const float *x, int n, int h,
	    int w, const float *res, int relu, float *y, float *col,
	    size_t colcap);

/* The same computed directly with nested loops: the reference in tests. */
void	conv_forward_ref(const struct conv *cv, const float *x, int n, int h,
	    int w, const float *res, int relu, float *y);

#endif /* AG_CONV_H */
