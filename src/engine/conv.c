/* SPDX-License-Identifier: ISC */
/*
 * conv.c: im2col + GEMM convolution with a fused bias/residual/ReLU output
 * pass, and the naive reference convolution.  See conv.h.
 */
#include <string.h>

#include "conv.h"
#include "gemm.h"

int
conv_out_size(int in, int k, int stride, int pad)
{
	int span = in + 2 * pad - k;

	if (span < 0 || stride < 1)
		return 0;
	return span / stride + 1;
}

size_t
conv_tile_rows(const struct conv *cv, size_t cap)
{
	size_t kk = (size_t)cv->cv_k * cv->cv_k * cv->cv_cin;

	return kk == 0 ? 0 : cap / kk;
}

/*
 * im2col for output rows [m0, m0 + mt) of the flattened (n, oh, ow) index:
 * col (mt, k*k*cin), each row the receptive field of one output pixel in
 * (ky, kx, ci) order, zeros where the window hangs over the padding.
 */
static void
conv_im2col(const struct conv *cv, const float *x, int h, int w, int oh,
    int ow, size_t m0, size_t mt, float *col)
{
	const int k = cv->cv_k, s = cv->cv_stride, p = cv->cv_pad;
	const size_t cin = (size_t)cv->cv_cin, rowlen = (size_t)k * k * cin;
	size_t m;

	for (m = 0; m < mt; m++) {
		size_t idx = m0 + m;
		int ox = (int)(idx % (size_t)ow);
		int oy = (int)((idx / (size_t)ow) % (size_t)oh);
		size_t img = idx / ((size_t)ow * oh);
		const float *xi = x + img * (size_t)h * w * cin;
		float *dst = col + m * rowlen;
		int ky, kx, iy, ix;

		for (ky = 0; ky < k; ky++) {
			iy = oy * s - p + ky;
			if (iy < 0 || iy >= h) {
				memset(dst, 0, (size_t)k * cin * sizeof(*dst));
				dst += (size_t)k * cin;
				continue;
			}
			for (kx = 0; kx < k; kx++, dst += cin) {
				ix = ox * s - p + kx;
				if (ix < 0 || ix >= w)
					memset(dst, 0, cin * sizeof(*dst));
				else
					memcpy(dst, xi + ((size_t)iy * w + ix) *
					    cin, cin * sizeof(*dst));
			}
		}
	}
}

/* The fused output pass over rows of y (mt, cout): + b, + res, ReLU. */
static void
conv_epilogue(float *y, const float *b, const float *res, int relu,
    size_t mt, int cout)
{
	size_t m;
	int c;

	for (m = 0; m < mt; m++) {
		float *yr = y + m * (size_t)cout;
		const float *rr = res ? res + m * (size_t)cout : NULL;

		if (rr != NULL && relu) {
			for (c = 0; c < cout; c++) {
				float v = yr[c] + b[c] + rr[c];
				yr[c] = v > 0.0f ? v : 0.0f;
			}
		} else if (rr != NULL) {
			for (c = 0; c < cout; c++)
				yr[c] += b[c] + rr[c];
		} else if (relu) {
			for (c = 0; c < cout; c++) {
				float v = yr[c] + b[c];
				yr[c] = v > 0.0f ? v : 0.0f;
			}
		} else {
			for (c = 0; c < cout; c++)
				yr[c] += b[c];
		}
	}
}

void
conv_forward(const struct conv *cv, const float *x, int n, int h, int w,
    const float *res, int relu, float *y, float *col, size_t colcap)
{
	const int oh = conv_out_size(h, cv->cv_k, cv->cv_stride, cv->cv_pad);
	const int ow = conv_out_size(w, cv->cv_k, cv->cv_stride, cv->cv_pad);
	const int cout = cv->cv_cout;
	const int kk = cv->cv_k * cv->cv_k * cv->cv_cin;
	const size_t mtot = (size_t)n * oh * ow;
	size_t m0, mt, tile;
	int direct;

	/* A 1x1, stride-1, unpadded conv reads its input rows as they are. */
	direct = cv->cv_k == 1 && cv->cv_stride == 1 && cv->cv_pad == 0;
	tile = direct ? mtot : conv_tile_rows(cv, colcap);
	if (tile == 0)
		tile = 1;
	for (m0 = 0; m0 < mtot; m0 += mt) {
		const float *a;
		float *yt = y + m0 * (size_t)cout;

		mt = mtot - m0 < tile ? mtot - m0 : tile;
		if (direct)
			a = x + m0 * (size_t)cv->cv_cin;
		else {
			conv_im2col(cv, x, h, w, oh, ow, m0, mt, col);
			a = col;
		}
		/* Y(mt, cout) = A(mt, k*k*cin) @ W(k*k*cin, cout) */
		gemm_f32((int)mt, cout, kk, a, kk, cv->cv_w, cout, yt, cout, 0);
		conv_epilogue(yt, cv->cv_b, res ? res + m0 * (size_t)cout : NULL,
		    relu, mt, cout);
	}
}

void
conv_forward_ref(const struct conv *cv, const float *x, int n, int h, int w,
    const float *res, int relu, float *y)
{
	const int k = cv->cv_k, s = cv->cv_stride, p = cv->cv_pad;
	const int cin = cv->cv_cin, cout = cv->cv_cout;
	const int oh = conv_out_size(h, k, s, p), ow = conv_out_size(w, k, s, p);
	int i, oy, ox, co, ky, kx, ci, iy, ix;

	for (i = 0; i < n; i++)
	for (oy = 0; oy < oh; oy++)
	for (ox = 0; ox < ow; ox++)
	for (co = 0; co < cout; co++) {
		size_t o = (((size_t)i * oh + oy) * ow + ox) * cout + co;
		double acc = cv->cv_b[co];

		for (ky = 0; ky < k; ky++)
		for (kx = 0; kx < k; kx++) {
			iy = oy * s - p + ky;
			ix = ox * s - p + kx;
			if (iy < 0 || iy >= h || ix < 0 || ix >= w)
				continue;
			for (ci = 0; ci < cin; ci++)
				acc += (double)x[(((size_t)i * h + iy) * w +
				    ix) * cin + ci] * cv->cv_w[(((size_t)ky *
				    k + kx) * cin + ci) * cout + co];
		}
		if (res != NULL)
			acc += res[o];
		if (relu && acc < 0)
			acc = 0;
		y[o] = (float)acc;
	}
}
