/* SPDX-License-Identifier: ISC */
/*
 * conv.c: im2col + GEMM convolution with a fused bias/residual/ReLU output
 * pass, and the naive reference convolution.  See conv.h.
 */
#include <stdlib.h>
#include <string.h>

#include "conv.h"
#include "gemm.h"
#include "kernel.h"
#include "pool.h"
#include "winograd.h"

/* Rows of output pixels per task: a multiple of the kernel's 12. */
#define CONV_TILE_MAX		192
/* im2col floats per thread per tile: about half of a 1 MiB L2. */
#define CONV_COL_TARGET		(128u * 1024)

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
 * Short runs (the stem's 7 pixels x 3 channels) are cheaper as an inline
 * loop than as a call to memcpy or memset.
 */
static inline void
conv_copy(float *restrict dst, const float *restrict src, size_t n)
{
	size_t i;

	if (n > 64) {
		memcpy(dst, src, n * sizeof(*dst));
		return;
	}
	for (i = 0; i < n; i++)
		dst[i] = src[i];
}

static inline void
conv_fill0(float *dst, size_t n)
{
	size_t i;

	if (n > 64) {
		memset(dst, 0, n * sizeof(*dst));
		return;
	}
	for (i = 0; i < n; i++)
		dst[i] = 0.0f;
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
		int ky, iy;

		/*
		 * For one kernel row the k input pixels are adjacent in NHWC,
		 * so the window row is one run of k*cin floats, clipped at
		 * the left and right edges and zero-filled there.
		 */
		int x0 = ox * s - p, lo = x0 < 0 ? -x0 : 0;
		int hi = x0 + k > w ? w - x0 : k;

		for (ky = 0; ky < k; ky++, dst += (size_t)k * cin) {
			iy = oy * s - p + ky;
			if (iy < 0 || iy >= h || hi <= lo) {
				conv_fill0(dst, (size_t)k * cin);
				continue;
			}
			conv_fill0(dst, (size_t)lo * cin);
			conv_copy(dst + (size_t)lo * cin, xi + ((size_t)iy * w +
			    x0 + lo) * cin, (size_t)(hi - lo) * cin);
			conv_fill0(dst + (size_t)hi * cin, (size_t)(k - hi) *
			    cin);
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

static void
conv_forward_blas(const struct conv *cv, const float *x, int n, int h, int w,
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

/* ==== The kernel path ==== */

size_t
conv_packed_floats(int kk, int cout)
{
	size_t np = ((size_t)cout + KERN_NR - 1) / KERN_NR;

	return np * (size_t)kk * KERN_NR + np * KERN_NR;
}

void
conv_pack(struct conv *cv, const float *w, const float *b, float *dst)
{
	const int kk = cv->cv_k * cv->cv_k * cv->cv_cin, cout = cv->cv_cout;
	const size_t np = ((size_t)cout + KERN_NR - 1) / KERN_NR;
	float *bias = dst + np * (size_t)kk * KERN_NR;
	size_t p;
	int k, j, c;

	for (p = 0; p < np; p++)
		for (k = 0; k < kk; k++) {
			float *o = dst + (p * kk + k) * KERN_NR;
			const float *in = w + (size_t)k * cout + p * KERN_NR;

			if ((p + 1) * KERN_NR <= (size_t)cout) {
				memcpy(o, in, KERN_NR * sizeof(float));
				continue;
			}
			for (j = 0; j < KERN_NR; j++) {
				c = (int)p * KERN_NR + j;
				o[j] = c < cout ? in[j] : 0.0f;
			}
		}
	for (p = 0; p < np * KERN_NR; p++)
		bias[p] = (int)p < cout ? b[p] : 0.0f;
	cv->cv_wp = dst;
}

int
conv_kernel_available(void)
{
	static int avail = -1;
	const char *e;

	/*
	 * AG_ENGINE_KERNEL=blas forces the im2col + BLAS path that CPUs
	 * without AVX-512 take, so that it can be tested on any machine.
	 */
	if (avail < 0) {
		e = getenv("AG_ENGINE_KERNEL");
		avail = e != NULL && strcmp(e, "blas") == 0 ? 0 :
		    kern_available();
	}
	return avail;
}

struct conv_job {
	const struct conv	*cj_cv;
	const float		*cj_x, *cj_res;
	float			*cj_y, *cj_col;
	int			 cj_h, cj_w, cj_oh, cj_ow, cj_kk, cj_relu;
	int			 cj_direct, cj_nsplit, cj_npanels;
	size_t			 cj_mtot, cj_tm, cj_colper;
};

/*
 * One task: output rows [m0, m1) of the flattened (n, oh, ow) index, for
 * a share of the 32-column weight panels.  The rows' im2col goes into the
 * thread's own scratch and is used by every panel while it is in cache.
 */
static void
conv_task(void *arg, int t, int thread)
{
	const struct conv_job *j = arg;
	const struct conv *cv = j->cj_cv;
	const int cout = cv->cv_cout, kk = j->cj_kk;
	const float *bias = cv->cv_wp + (size_t)j->cj_npanels * kk * KERN_NR;
	size_t m0 = (size_t)(t / j->cj_nsplit) * j->cj_tm, m1, r0, lda;
	int ns = t % j->cj_nsplit, p, p0, p1, mr;
	const float *a;

	m1 = m0 + j->cj_tm < j->cj_mtot ? m0 + j->cj_tm : j->cj_mtot;
	p0 = ns * j->cj_npanels / j->cj_nsplit;
	p1 = (ns + 1) * j->cj_npanels / j->cj_nsplit;
	if (j->cj_direct) {
		a = j->cj_x + m0 * (size_t)cv->cv_cin;
		lda = (size_t)cv->cv_cin;
	} else {
		float *col = j->cj_col + (size_t)thread * j->cj_colper;

		conv_im2col(cv, j->cj_x, j->cj_h, j->cj_w, j->cj_oh, j->cj_ow,
		    m0, m1 - m0, col);
		a = col;
		lda = (size_t)kk;
	}
	for (p = p0; p < p1; p++) {
		int nc = cout - p * KERN_NR;

		nc = nc > KERN_NR ? KERN_NR : nc;
		for (r0 = m0; r0 < m1; r0 += (size_t)mr) {
			mr = kern_rows(m1 - r0);
			/* Y(mr, 32) = A(mr, kk) @ Wp(kk, 32), fused pass */
			kern_tile(mr, kk, a + (r0 - m0) * lda, lda,
			    cv->cv_wp + (size_t)p * kk * KERN_NR,
			    bias + (size_t)p * KERN_NR,
			    j->cj_res ? j->cj_res + r0 * cout + (size_t)p *
			    KERN_NR : NULL, (size_t)cout, j->cj_relu,
			    j->cj_y + r0 * cout + (size_t)p * KERN_NR,
			    (size_t)cout, nc);
		}
	}
}

void
conv_forward(const struct conv *cv, const float *x, int n, int h, int w,
    const float *res, int relu, float *y, float *col, size_t colcap)
{
	struct conv_job j;
	int nthreads = pool_threads(), mtiles;
	size_t tm;

	if ((cv->cv_u != NULL || cv->cv_wf != NULL) &&
	    conv_kernel_available()) {
		wino_forward(cv, x, n, h, w, res, relu, y, col, colcap);
		return;
	}
	if (cv->cv_wp == NULL || !conv_kernel_available()) {
		conv_forward_blas(cv, x, n, h, w, res, relu, y, col, colcap);
		return;
	}
	j.cj_cv = cv;
	j.cj_x = x;
	j.cj_res = res;
	j.cj_y = y;
	j.cj_col = col;
	j.cj_h = h;
	j.cj_w = w;
	j.cj_oh = conv_out_size(h, cv->cv_k, cv->cv_stride, cv->cv_pad);
	j.cj_ow = conv_out_size(w, cv->cv_k, cv->cv_stride, cv->cv_pad);
	j.cj_kk = cv->cv_k * cv->cv_k * cv->cv_cin;
	j.cj_relu = relu;
	j.cj_direct = cv->cv_k == 1 && cv->cv_stride == 1 && cv->cv_pad == 0;
	j.cj_npanels = (cv->cv_cout + KERN_NR - 1) / KERN_NR;
	j.cj_mtot = (size_t)n * j.cj_oh * j.cj_ow;
	j.cj_colper = colcap / (size_t)nthreads;
	tm = CONV_COL_TARGET < j.cj_colper ? CONV_COL_TARGET : j.cj_colper;
	tm /= (size_t)j.cj_kk;
	if (tm > CONV_TILE_MAX || j.cj_direct)
		tm = CONV_TILE_MAX;
	if (tm == 0)
		tm = 1;
	/*
	 * As many tiles as that takes, rounded up to a multiple of the
	 * threads (five tiles on two threads left one thread idle for a
	 * fifth of the conv: the first stride-2 conv at batch 1 took 0.61
	 * ms, 0.53 in six), and of even size: no ragged tail.
	 */
	mtiles = (int)((j.cj_mtot + tm - 1) / tm);
	if (mtiles >= nthreads)
		mtiles = (mtiles + nthreads - 1) / nthreads * nthreads;
	tm = (j.cj_mtot + (size_t)mtiles - 1) / (size_t)mtiles;
	j.cj_tm = tm;
	mtiles = (int)((j.cj_mtot + tm - 1) / tm);
	/* Fewer row tiles than threads: split the columns too. */
	j.cj_nsplit = 1;
	if (mtiles < nthreads) {
		j.cj_nsplit = (2 * nthreads + mtiles - 1) / mtiles;
		if (j.cj_nsplit > j.cj_npanels)
			j.cj_nsplit = j.cj_npanels;
	}
	pool_run(conv_task, &j, mtiles * j.cj_nsplit);
}

/* ==== The reference ==== */

/* Weight (k index, output channel) from whichever layout cv holds. */
static float
conv_weight(const struct conv *cv, size_t k, int co)
{
	size_t kk = (size_t)cv->cv_k * cv->cv_k * cv->cv_cin;

	if (cv->cv_w != NULL)
		return cv->cv_w[k * cv->cv_cout + co];
	return cv->cv_wp[((size_t)(co / KERN_NR) * kk + k) * KERN_NR +
	    co % KERN_NR];
}

static float
conv_bias(const struct conv *cv, int co)
{
	size_t kk = (size_t)cv->cv_k * cv->cv_k * cv->cv_cin;
	size_t np = ((size_t)cv->cv_cout + KERN_NR - 1) / KERN_NR;

	if (cv->cv_b != NULL)
		return cv->cv_b[co];
	return cv->cv_wp[np * kk * KERN_NR + (size_t)co];
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
		double acc = conv_bias(cv, co);

		for (ky = 0; ky < k; ky++)
		for (kx = 0; kx < k; kx++) {
			iy = oy * s - p + ky;
			ix = ox * s - p + kx;
			if (iy < 0 || iy >= h || ix < 0 || ix >= w)
				continue;
			for (ci = 0; ci < cin; ci++)
				acc += (double)x[(((size_t)i * h + iy) * w +
				    ix) * cin + ci] * conv_weight(cv,
				    ((size_t)ky * k + kx) * cin + ci, co);
		}
		if (res != NULL)
			acc += res[o];
		if (relu && acc < 0)
			acc = 0;
		y[o] = (float)acc;
	}
}
