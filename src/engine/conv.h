/* SPDX-License-Identifier: ISC */
/*
 * conv.h: 2-D convolution on NHWC activations with a fused output pass.
 *
 * y = act(conv(x, w) + bias + res): the bias, the residual add and the ReLU
 * are applied in the kernel's store, while the output tile is still in
 * registers.  The layer is computed tile by tile over output pixels, the
 * tiles shared out over the engine's threads: im2col of a tile into the
 * thread's scratch, then the GEMM kernel over it.  A 1x1 stride-1
 * convolution needs no im2col: the input rows are the GEMM's A matrix as
 * they are.  conv_forward() is the single place that picks the method, per
 * layer, from the weights the layer was given: Winograd (cv_u or cv_wf),
 * the AVX-512 kernel (cv_wp), or im2col + BLAS (cv_w) on CPUs without
 * AVX-512.
 */
#ifndef AG_CONV_H
#define AG_CONV_H

#include <stddef.h>

struct conv {
	int		 cv_cin, cv_cout, cv_k, cv_stride, cv_pad;
	const float	*cv_w;		/* (k, k, cin, cout), BatchNorm folded;
					   NULL when only packed */
	const float	*cv_b;		/* (cout) */
	const float	*cv_wp;		/* NULL, or the same weights packed by
					   conv_pack(): (ceil(cout / 32),
					   k*k*cin, 32), zero-padded, 64-byte
					   aligned; then the bias follows,
					   padded to a multiple of 32 */
	const float	*cv_u;		/* NULL, or Winograd weights from
					   wino_pack() (3x3, stride 1, or 2
					   with pad 1) */
	const float	*cv_wf;		/* NULL, or Winograd weights from
					   wino_pack_folded(), transformed
					   during the pass */
	int		 cv_wm;		/* Winograd: 2, 4 or WINO_S2 */
};

/* Floats conv_pack() writes for a K x cout weight (K = k*k*cin). */
size_t	conv_packed_floats(int kk, int cout);

/*
 * Packs w (kk, cout) and b (cout) into dst (conv_packed_floats() floats,
 * 64-byte aligned) for the kernel: 32-column panels, each (kk, 32), then
 * the bias padded with zeros.  Sets cv->cv_wp to dst.
 */
void	conv_pack(struct conv *cv, const float *w, const float *b,
	    float *dst);

/* 1 when conv_forward() uses the engine's own AVX-512 kernel. */
int	conv_kernel_available(void);

/* Output size along one axis: (in + 2 pad - k) / stride + 1, or 0. */
int	conv_out_size(int in, int k, int stride, int pad);

/* Rows of K = k*k*cin floats per im2col tile, for a scratch of cap floats. */
size_t	conv_tile_rows(const struct conv *cv, size_t cap);

/*
 * y (n, oh, ow, cout) = [relu](conv(x (n, h, w, cin)) + b + res), where
 * res (n, oh, ow, cout) may be NULL.  col is scratch of colcap floats, at
 * least k*k*cin of them per engine thread (pool_threads()).  y must not
 * alias x or res.  Winograd (cv_u or cv_wf) needs wino_scratch_floats()
 * per thread instead.
 */
void	conv_forward(const struct conv *cv, const float *x, int n, int h,
	    int w, const float *res, int relu, float *y, float *col,
	    size_t colcap);

/* The same computed directly with nested loops: the reference in tests. */
void	conv_forward_ref(const struct conv *cv, const float *x, int n, int h,
	    int w, const float *res, int relu, float *y);

#endif /* AG_CONV_H */
