/* SPDX-License-Identifier: ISC */
/*
 * winograd.c: F(m x m, 3x3) convolution for m = 2 and m = 4.  See
 * winograd.h.
 *
 * With d an a x a input tile (a = m + 2), g the 3x3 kernel, and the
 * transform matrices Bt (a x a), G (a x 3), At (m x a) of the interpolation
 * points (0, 1, -1) for m = 2 and (0, 1, -1, 2, -2) for m = 4 (each with
 * the point at infinity), the m x m output tile of the cross-correlation
 * is At [(G g Gt) .* (Bt d B)] A.  Summed over input channels the
 * elementwise product becomes a^2 matrix products, one per transform
 * position xi:
 *   M_xi (tiles, cout) = V_xi (tiles, cin) @ U_xi (cin, cout).
 * The weight transform is computed in double at load time; the data
 * transforms run in float, vectorised over channels.  This file packs the
 * weights and plans each pass; the passes are ISA code (kernel.h,
 * arch/x86/winograd_avx512.c), run on the engine's threads.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/util.h"
#include "conv.h"
#include "kernel.h"
#include "pool.h"
#include "winograd.h"
#include "winograd_pass.h"

#define WINO_TB_MAX	96	/* tiles per block: a multiple of 12 */
#define WINO_TB_MIN	12
/*
 * The stem's blocks: its products are short (K = 12) and its M large
 * (64 channels a tile): 24 tiles keep a block's M (221 KB) in L2.  Its
 * output pass took 1.9 % of a batch-4 pass instead of 2.5 % with 96.
 */
#define WINO_TB_STEM	24

/*
 * F(2x2, 3x3), interpolation points 0, 1, -1 and infinity:
 *   Bt = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
 *   At = [1 1 1 0; 0 1 -1 -1]
 * applied by f2_bt() and f2_at() below.
 */
static const double g2[4][3] = {
	{ 1, 0, 0 }, { 0.5, 0.5, 0.5 }, { 0.5, -0.5, 0.5 }, { 0, 0, 1 },
};

/* F(4x4, 3x3) */
/*
 * F(4x4, 3x3), interpolation points 0, 1, -1, 2, -2 and infinity:
 *   Bt = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0;
 *         0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
 *   At = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
 * Bt and At are applied in factored form by f4_bt() and f4_at() below.
 * G is used at load time only, in double.
 */
static const double g4[6][3] = {
	{ 1.0 / 4, 0, 0 },
	{ -1.0 / 6, -1.0 / 6, -1.0 / 6 },
	{ -1.0 / 6, 1.0 / 6, -1.0 / 6 },
	{ 1.0 / 24, 1.0 / 12, 1.0 / 6 },
	{ 1.0 / 24, -1.0 / 12, 1.0 / 6 },
	{ 0, 0, 1 },
};
/*
 * Stride 2 (WINO_S2), one axis: with d the input pixels 4t-1 .. 4t+3 and
 * g the taps, outputs 2t and 2t+1 are
 *   y0 = d0 g0 + d1 g1 + d2 g2,  y1 = d2 g0 + d3 g1 + d4 g2.
 * The odd phase (d0, d2, d4 with g0, g2) is F(2, 2): points 0, 1 and
 * infinity; the even one (d1, d3 with g1) needs no transform:
 *   Bt d = (d0 - d2, d2, d4 - d2, d1, d3),  G g = (g0, g0 + g2, g2, g1, g1),
 *   y0 = m0 + m1 + m3,  y1 = m1 + m2 + m4.
 */
static const double gs2[5][3] = {
	{ 1, 0, 0 }, { 1, 0, 1 }, { 0, 0, 1 }, { 0, 1, 0 }, { 0, 1, 0 },
};

/*
 * The stem's F(3x3, 4x4) (WINO_STEM), points 0, 1, -1, 2, -2 and infinity
 * as F(4x4, 3x3): the same Bt (f4_bt()); G[j][k] = p_j^k / prod_{l != j}
 * (p_j - p_l) and, for infinity, (0, 0, 0, 1);
 *   At = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 1]  (f3_at()).
 */
static const double g34[6][4] = {
	{ 1.0 / 4, 0, 0, 0 },
	{ -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6 },
	{ -1.0 / 6, 1.0 / 6, -1.0 / 6, 1.0 / 6 },
	{ 1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 3 },
	{ 1.0 / 24, -1.0 / 12, 1.0 / 6, -1.0 / 3 },
	{ 0, 0, 0, 1 },
};


/* G[i][k] of m's scheme (k < 3, or < 4 for the stem). */
static double
wino_g(int m, int i, int k)
{
	switch (m) {
	case 2:
		return g2[i][k];
	case 4:
		return g4[i][k];
	case WINO_S2:
		return gs2[i][k];
	default:
		return g34[i][k];
	}
}

/* The phase image's side for an image side n: the stem's output + 3. */
static int
stem_phase_side(int n)
{
	return conv_out_size(n, 7, 2, 3) + 3;
}

size_t
wino_stem_phase_floats(int h, int w)
{
	return (size_t)stem_phase_side(h) * (size_t)stem_phase_side(w) * 12;
}

struct stem_phase_job {
	const float	*sp_x;
	float		*sp_y;
	int		 sp_h, sp_w, sp_ph, sp_pw;
};

/* Rows [8 task, 8 task + 8) of the phase image. */
static void
stem_phase_task(void *arg, int task, int thread)
{
	const struct stem_phase_job *j = arg;
	const int h = j->sp_h, w = j->sp_w, pw = j->sp_pw;
	const size_t plane = (size_t)h * w;
	int q, s, py, px, c, iy, ix, q1;

	(void)thread;
	q1 = 8 * task + 8 < j->sp_ph ? 8 * task + 8 : j->sp_ph;
	for (q = 8 * task; q < q1; q++) {
		float *yr = j->sp_y + (size_t)q * pw * 12;

		for (s = 0; s < pw; s++)
			for (py = 0; py < 2; py++) {
				iy = 2 * q + py - 3;
				for (px = 0; px < 2; px++) {
					float *o = yr + (size_t)s * 12 +
					    (2 * py + px) * 3;

					ix = 2 * s + px - 3;
					for (c = 0; c < 3; c++)
						o[c] = iy < 0 || iy >= h ||
						    ix < 0 || ix >= w ? 0.0f :
						    j->sp_x[c * plane +
						    (size_t)iy * w + ix];
				}
			}
	}
}

void
wino_stem_phase(const float *x, int h, int w, float *y)
{
	struct stem_phase_job j;

	j.sp_x = x;
	j.sp_y = y;
	j.sp_h = h;
	j.sp_w = w;
	j.sp_ph = stem_phase_side(h);
	j.sp_pw = stem_phase_side(w);
	pool_run(stem_phase_task, &j, (j.sp_ph + 7) / 8);
}

size_t
wino_packed_floats(int m, int cin, int cout)
{
	/* a^2 packed (cin, cout) matrices, each ending with the bias. */
	return (size_t)wino_a(m) * wino_a(m) *
	    conv_packed_floats(wino_cin(m, cin), cout);
}

int
wino_pack(struct conv *cv, int m, const float *w, const float *b,
    float *dst)
{
	const int cin = wino_cin(m, cv->cv_cin), cout = cv->cv_cout;
	const int a = wino_a(m), r = m == WINO_STEM ? 4 : 3;
	const size_t one = conv_packed_floats(cin, cout);
	const size_t n = (size_t)cv->cv_cin * cout;
	const int np = (cout + KERN_NR - 1) / KERN_NR;
	float coef[WINO_AMAX * WINO_AMAX][16];
	int tap[16], k, xi, ci, p, j;

	if (m != 2 && m != 4 && m != WINO_S2 && m != WINO_STEM)
		return -1;
	/* The stem's phase image (wino_stem_phase()) is of RGB images. */
	if (m == WINO_STEM && (cv->cv_k != 7 || cv->cv_stride != 2 ||
	    cv->cv_pad != 3 || cv->cv_cin != 3))
		return -1;
	for (xi = 0; xi < a * a; xi++)
		for (k = 0; k < r * r; k++)
			coef[xi][k] = (float)(wino_g(m, xi / a, k / r) *
			    wino_g(m, xi % a, k % r));
	/*
	 * U_xi = G g Gt for every channel pair: each of the a*a matrices
	 * (cin, cout) is a fixed combination of the r*r weight planes, with
	 * coefficients G[r][k] G[c][l] computed in double.  Each is written
	 * straight into conv_pack()'s layout (panels of KERN_NR output
	 * channels, (cin, KERN_NR) each, zero-padded; then the bias), input
	 * channel by input channel, so that the r*r weight rows it combines
	 * stay in cache for all a*a matrices.
	 */
	for (ci = 0; ci < cin; ci++) {
		const float *wr;

		/*
		 * The weight plane of each of the r*r taps, for this input
		 * channel; for the stem, phase channel ci = (py, px, c) and
		 * tap (u, v) are the 7x7 tap (2u + py, 2v + px) of channel c,
		 * or nothing (-1) past the kernel's edge.
		 */
		if (m == WINO_STEM) {
			int c = ci % cv->cv_cin, ph = ci / cv->cv_cin;
			int py = ph / 2, px = ph % 2, ky, kx;

			wr = w + (size_t)c * cout;
			for (k = 0; k < 16; k++) {
				ky = 2 * (k / 4) + py;
				kx = 2 * (k % 4) + px;
				tap[k] = ky < 7 && kx < 7 ? ky * 7 + kx : -1;
			}
		} else {
			wr = w + (size_t)ci * cout;
			for (k = 0; k < 9; k++)
				tap[k] = k;
		}
		for (xi = 0; xi < a * a; xi++) {
			const float *cx = coef[xi];

			for (p = 0; p < np; p++) {
				float *o = dst + (size_t)xi * one +
				    ((size_t)p * cin + ci) * KERN_NR;
				int nc = cout - p * KERN_NR < KERN_NR ?
				    cout - p * KERN_NR : KERN_NR;

				for (j = 0; j < nc; j++) {
					size_t co = (size_t)p * KERN_NR + j;
					float v = 0.0f;

					for (k = 0; k < r * r; k++)
						if (tap[k] >= 0)
							v += cx[k] *
							    wr[(size_t)tap[k] *
							    n + co];
					o[j] = v;
				}
				for (; j < KERN_NR; j++)
					o[j] = 0.0f;
			}
		}
	}
	for (xi = 0; xi < a * a; xi++) {
		float *bias = dst + (size_t)xi * one + (size_t)np * cin *
		    KERN_NR;

		for (j = 0; j < np * KERN_NR; j++)
			bias[j] = j < cout ? b[j] : 0.0f;
	}
	cv->cv_u = dst;
	cv->cv_wm = m;
	return 0;
}

size_t
wino_folded_floats(int cin, int cout)
{
	size_t np = ((size_t)cout + KERN_NR - 1) / KERN_NR;

	return np * (size_t)cin * 9 * KERN_NR + np * KERN_NR;
}

void
wino_pack_folded(struct conv *cv, int m, const float *w, const float *b,
    float *dst)
{
	const int cin = cv->cv_cin, cout = cv->cv_cout;
	const int np = (cout + KERN_NR - 1) / KERN_NR;
	const size_t n = (size_t)cin * cout;
	float *bias = dst + (size_t)np * cin * 9 * KERN_NR;
	int p, ci, k, j;

	for (p = 0; p < np; p++)
		for (ci = 0; ci < cin; ci++)
			for (k = 0; k < 9; k++) {
				float *o = dst + (((size_t)p * cin + ci) * 9 +
				    k) * KERN_NR;
				const float *in = w + (size_t)k * n +
				    (size_t)ci * cout + (size_t)p * KERN_NR;

				for (j = 0; j < KERN_NR; j++)
					o[j] = p * KERN_NR + j < cout ? in[j] :
					    0.0f;
			}
	for (j = 0; j < np * KERN_NR; j++)
		bias[j] = j < cout ? b[j] : 0.0f;
	cv->cv_wf = dst;
	cv->cv_u = NULL;
	cv->cv_wm = m;
}

size_t
wino_scratch_floats(int m, int cin, int cout)
{
	return (size_t)wino_a(m) * wino_a(m) * WINO_TB_MAX *
	    ((size_t)wino_cin(m, cin) + (size_t)cout);
}

/* ==== The plan of a pass; the passes are ISA code (kernel.h) ==== */

/*
 * The pass on cv_wf: the weights are transformed panel by panel as they
 * are used, so that only the folded 3x3 weights are kept (16/9 or 4
 * times less memory than wino_pack()'s).  The tiles go in chunks as large
 * as the scratch holds: per chunk, V in the scratch's shared part, then
 * per thread U for one block of input channels of one panel (a*a blocks
 * of (kb, KERN_NR), WINO_USTRIDE apart) and the panel's M (a*a, nt,
 * KERN_NR).  Each chunk transforms every panel once, so with the
 * workspace's scratch a batch is one chunk.
 */
static void
wino_forward_fly(struct wino_job *j, float *scratch, size_t colcap)
{
	const struct conv *cv = j->wj_cv;
	const size_t a2 = (size_t)(j->wj_m + 2) * (j->wj_m + 2);
	const size_t cin = (size_t)cv->cv_cin;
	const size_t nthreads = (size_t)pool_threads();
	const size_t kb = cin < WINO_KB ? cin : WINO_KB;
	size_t skip, fixed, nt, t0;
	int npanels = (cv->cv_cout + KERN_NR - 1) / KERN_NR;

	/*
	 * The kernel loads U 64-byte aligned: the scratch starts on a line
	 * (skip) and V takes whole lines.  Then
	 *   a2 * nt * cin + 16 + nthreads * a2 * (USTRIDE(kb) + nt * KERN_NR)
	 * floats must fit in what is left.
	 */
	skip = (64 - (uintptr_t)scratch % 64) % 64 / sizeof(float);
	fixed = skip + 16 + nthreads * a2 * WINO_USTRIDE(kb);
	AG_ASSERT((uintptr_t)scratch % sizeof(float) == 0 && colcap > fixed);
	nt = (colcap - fixed) / (a2 * (cin + nthreads * KERN_NR));
	AG_ASSERT(nt >= 1);
	if (nt > j->wj_ntiles)
		nt = j->wj_ntiles;
	if (nt > INT_MAX / 64)
		nt = INT_MAX / 64;
	j->wj_v = scratch + skip;
	j->wj_scratch = j->wj_v + (a2 * nt * cin + 15) / 16 * 16;
	j->wj_per = a2 * (WINO_USTRIDE(kb) + nt * KERN_NR);
	for (t0 = 0; t0 < j->wj_ntiles; t0 += nt) {
		j->wj_t0 = t0;
		j->wj_nt = (int)(j->wj_ntiles - t0 < nt ? j->wj_ntiles - t0 :
		    nt);
		/* Blocks of tiles, about four per thread. */
		j->wj_tb = (int)(((size_t)j->wj_nt + 4 * nthreads - 1) /
		    (4 * nthreads));
		pool_run(kern_wino_fly_input, j, (j->wj_nt + j->wj_tb - 1) /
		    j->wj_tb);
		pool_run(kern_wino_fly_panel, j, npanels);
	}
}

void
wino_forward(const struct conv *cv, const float *x, int n, int h, int w,
    const float *res, int relu, float *y, float *scratch, size_t colcap)
{
	struct wino_job j;
	int nthreads = pool_threads(), tb, tbmax, nblocks, npanels, mo, a;
	size_t per;

	j.wj_cv = cv;
	j.wj_x = x;
	j.wj_res = res;
	j.wj_y = y;
	j.wj_scratch = scratch;
	/* The bias: after the packed panels, or as it was folded. */
	npanels = (cv->cv_cout + KERN_NR - 1) / KERN_NR;
	j.wj_bias = cv->cv_u != NULL ? cv->cv_u + (size_t)npanels *
	    wino_cin(cv->cv_wm, cv->cv_cin) * KERN_NR : cv->cv_wf +
	    (size_t)npanels * cv->cv_cin * 9 * KERN_NR;
	j.wj_m = cv->cv_wm;
	j.wj_oh = conv_out_size(h, cv->cv_k, cv->cv_stride, cv->cv_pad);
	j.wj_ow = conv_out_size(w, cv->cv_k, cv->cv_stride, cv->cv_pad);
	/* The stem reads its phase image (wino_stem_phase()). */
	j.wj_h = j.wj_m == WINO_STEM ? stem_phase_side(h) : h;
	j.wj_w = j.wj_m == WINO_STEM ? stem_phase_side(w) : w;
	mo = wino_mo(j.wj_m);
	a = wino_a(j.wj_m);
	j.wj_th = (j.wj_oh + mo - 1) / mo;
	j.wj_tw = (j.wj_ow + mo - 1) / mo;
	j.wj_relu = relu;
	j.wj_ntiles = (size_t)n * j.wj_th * j.wj_tw;
	if (cv->cv_u == NULL) {
		/* packed only */
		AG_ASSERT(j.wj_m != WINO_S2 && j.wj_m != WINO_STEM);
		wino_forward_fly(&j, scratch, colcap);
		return;
	}
	j.wj_per = colcap / (size_t)nthreads;
	/*
	 * Many tiles: blocks of a multiple of 12 tiles, about four per
	 * thread, so that the threads finish together.  Few tiles (small
	 * images at batch 1): one block, its output channels shared out.
	 */
	per = (j.wj_ntiles + 4 * (size_t)nthreads - 1) / (4 * (size_t)nthreads);
	tbmax = j.wj_m == WINO_STEM ? WINO_TB_STEM : WINO_TB_MAX;
	if (j.wj_ntiles >= 4 * (size_t)nthreads * WINO_TB_MIN) {
		tb = per > (size_t)tbmax ? tbmax : (int)per;
		tb = tb / WINO_TB_MIN * WINO_TB_MIN;
	} else
		tb = j.wj_ntiles > (size_t)tbmax ? tbmax : (int)j.wj_ntiles;
	/* Never more tiles than the thread's scratch holds. */
	per = j.wj_per / ((size_t)a * a * ((size_t)wino_cin(j.wj_m,
	    cv->cv_cin) + (size_t)cv->cv_cout));
	AG_ASSERT(per >= 1);
	if ((size_t)tb > per)
		tb = (int)per;
	/*
	 * A multiple of the threads, so that none waits for the last
	 * block: 196 tiles in 9 blocks of 24 became 10 of 20.
	 */
	nblocks = (int)((j.wj_ntiles + (size_t)tb - 1) / (size_t)tb);
	if (nblocks >= nthreads && nblocks % nthreads != 0) {
		nblocks = (nblocks + nthreads - 1) / nthreads * nthreads;
		tb = (int)((j.wj_ntiles + (size_t)nblocks - 1) /
		    (size_t)nblocks);
		nblocks = (int)((j.wj_ntiles + (size_t)tb - 1) / (size_t)tb);
	}
	j.wj_tb = tb;
	/* Too few blocks for the threads: split the output channels too. */
	j.wj_nsplit = 1;
	if (nblocks < 2 * nthreads) {
		j.wj_nsplit = (2 * nthreads + nblocks - 1) / nblocks;
		if (j.wj_nsplit > npanels)
			j.wj_nsplit = npanels;
	}
	pool_run(kern_wino_task, &j, nblocks * j.wj_nsplit);
}
