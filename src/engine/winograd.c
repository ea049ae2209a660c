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
 * transforms run in float, vectorised over channels.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/util.h"
#include "conv.h"
#include "kernel.h"
#include "pool.h"
#include "winograd.h"

#define WINO_TB_MAX	96	/* tiles per block: a multiple of 12 */
#define WINO_TB_MIN	12
/*
 * The stem's blocks: its products are short (K = 12) and its M large
 * (64 channels a tile): 24 tiles keep a block's M (221 KB) in L2.  Its
 * output pass took 1.9 % of a batch-4 pass instead of 2.5 % with 96.
 */
#define WINO_TB_STEM	24
#define WINO_AMAX	6
/*
 * Input channels ahead that the weight transform prefetches (into L1):
 * with few tiles (the last stage at batch 1) the products are too short
 * to hide the next block's load, and the transform waited on memory (one
 * 512 x 512 layer: 0.90 ms against 0.76 with it, from memory).
 */
#define WINO_PFD	4
#define WINO_KB		64	/* input channels per block of U, during the pass */
/*
 * Floats from one position's U block to the next: kb rows of KERN_NR and
 * one cache line more, so that the a*a stores of one transform do not
 * fall 4 KiB apart (same-set stores and loads stall each other).
 */
#define WINO_USTRIDE(kb)	((size_t)(kb) * KERN_NR + 16)

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

/* The transform's size a, and the output tile's side, for m. */
static inline int
wino_a(int m)
{
	return m == WINO_STEM ? 6 : m + 2;
}

static inline int
wino_mo(int m)
{
	return m == WINO_S2 ? 2 : m == WINO_STEM ? 3 : m;
}

/* The input channels the products see: the stem's phase image has 4x. */
static inline int
wino_cin(int m, int cin)
{
	return m == WINO_STEM ? 4 * cin : cin;
}

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

/* ==== The three passes ==== */

struct wino_job {
	const struct conv	*wj_cv;
	const float		*wj_x, *wj_res, *wj_bias;
	float			*wj_y, *wj_scratch;
	int			 wj_h, wj_w, wj_th, wj_tw, wj_m;
	int			 wj_oh, wj_ow;	/* output size */
	int			 wj_relu, wj_tb, wj_nsplit;
	size_t			 wj_ntiles, wj_per;
	/* weights transformed during the pass: the chunk of tiles */
	float			*wj_v;		/* V (a*a, nt, cin), shared */
	size_t			 wj_t0;		/* its first tile */
	int			 wj_nt;		/* its tiles */
};

/* ==== The transforms, with AVX-512, 16 channels at a time ==== */

#include <immintrin.h>

#define WINO_TARGET __attribute__((target("avx512f")))
#define WINO_INLINE __attribute__((target("avx512f"), always_inline)) inline

/* Bt applied to a column of 6 vectors (the rows of Bt above, factored). */
static WINO_INLINE void
f4_bt(const __m512 d[6], __m512 t[6])
{
	const __m512 four = _mm512_set1_ps(4.0f), five = _mm512_set1_ps(5.0f);
	const __m512 two = _mm512_set1_ps(2.0f);
	__m512 a = _mm512_fnmadd_ps(four, _mm512_add_ps(d[1], d[2]),
	    _mm512_add_ps(d[3], d[4]));
	__m512 b = _mm512_fmadd_ps(four, _mm512_sub_ps(d[1], d[2]),
	    _mm512_sub_ps(d[4], d[3]));
	__m512 c = _mm512_sub_ps(d[4], d[2]);
	__m512 e = _mm512_mul_ps(two, _mm512_sub_ps(d[1], d[3]));

	t[0] = _mm512_add_ps(_mm512_fnmadd_ps(five, d[2],
	    _mm512_mul_ps(four, d[0])), d[4]);
	t[1] = a;
	t[2] = b;
	t[3] = _mm512_sub_ps(c, e);
	t[4] = _mm512_add_ps(c, e);
	t[5] = _mm512_add_ps(_mm512_fnmadd_ps(five, d[3],
	    _mm512_mul_ps(four, d[1])), d[5]);
}

/* F(2x2): Bt on a column of 4 vectors. */
static WINO_INLINE void
f2_bt(const __m512 d[4], __m512 t[4])
{
	t[0] = _mm512_sub_ps(d[0], d[2]);
	t[1] = _mm512_add_ps(d[1], d[2]);
	t[2] = _mm512_sub_ps(d[2], d[1]);
	t[3] = _mm512_sub_ps(d[1], d[3]);
}

/* F(2x2): At on 4 vectors, 2 results. */
static WINO_INLINE void
f2_at(const __m512 m[4], __m512 o[2])
{
	o[0] = _mm512_add_ps(_mm512_add_ps(m[0], m[1]), m[2]);
	o[1] = _mm512_sub_ps(_mm512_sub_ps(m[1], m[2]), m[3]);
}

/*
 * At on 6 vectors, n results: F(4x4, 3x3)'s 4 (f4_at()), or the stem's
 * 3 (f3_at(), see g34 above), whose At is F(4x4)'s first three rows with
 * the last column's 1 moved to the third.
 */
static WINO_INLINE void
f43_at(const __m512 m[6], __m512 *o, const int n)
{
	__m512 s12 = _mm512_add_ps(m[1], m[2]), d12 = _mm512_sub_ps(m[1], m[2]);
	__m512 s34 = _mm512_add_ps(m[3], m[4]), d34 = _mm512_sub_ps(m[3], m[4]);

	o[0] = _mm512_add_ps(_mm512_add_ps(m[0], s12), s34);
	o[1] = _mm512_fmadd_ps(_mm512_set1_ps(2.0f), d34, d12);
	o[2] = _mm512_fmadd_ps(_mm512_set1_ps(4.0f), s34, s12);
	if (n == 4)
		o[3] = _mm512_fmadd_ps(_mm512_set1_ps(8.0f), d34, d12);
	o[n - 1] = _mm512_add_ps(o[n - 1], m[5]);
}

static WINO_INLINE void
f4_at(const __m512 m[6], __m512 o[4])
{
	f43_at(m, o, 4);
}

static WINO_INLINE void
f3_at(const __m512 m[6], __m512 o[3])
{
	f43_at(m, o, 3);
}

/* Bt of the stride-2 scheme on 5 vectors (see gs2 above). */
static WINO_INLINE void
s2_bt(const __m512 d[5], __m512 t[5])
{
	t[0] = _mm512_sub_ps(d[0], d[2]);
	t[1] = d[2];
	t[2] = _mm512_sub_ps(d[4], d[2]);
	t[3] = d[1];
	t[4] = d[3];
}

/* At of the stride-2 scheme: 5 vectors, 2 results. */
static WINO_INLINE void
s2_at(const __m512 m[5], __m512 o[2])
{
	o[0] = _mm512_add_ps(_mm512_add_ps(m[0], m[1]), m[3]);
	o[1] = _mm512_add_ps(_mm512_add_ps(m[1], m[2]), m[4]);
}

/*
 * V_xi = (Bt d B)_xi for tiles [t0, t0 + tb), with d the a x a input patch
 * at rows m*ty - 1.., columns m*tx - 1.. (zeros outside the image; for
 * WINO_S2 at 4*ty - 1, 4*tx - 1; for WINO_STEM at 3*ty, 3*tx of the phase
 * image): tile ti's cin values for position xi at v + xi*ld + ti*cin.  m
 * is a constant in each instantiation.
 */
static WINO_INLINE void
wino_input(const struct wino_job *j, const int m, size_t t0, int tb,
    float *restrict v, size_t ld)
{
	const int a = wino_a(m), step = m == WINO_S2 ? 4 : wino_mo(m);
	const int pad = m == WINO_STEM ? 0 : 1;
	const int cin = wino_cin(m, j->wj_cv->cv_cin), h = j->wj_h, w = j->wj_w;
	__m512 d[WINO_AMAX][WINO_AMAX], t[WINO_AMAX][WINO_AMAX];
	__m512 col[WINO_AMAX], out[WINO_AMAX];
	int ti, r, c, cb, nc;

	for (ti = 0; ti < tb; ti++) {
		size_t tile = t0 + (size_t)ti;
		int tx = (int)(tile % (size_t)j->wj_tw);
		int ty = (int)((tile / (size_t)j->wj_tw) % (size_t)j->wj_th);
		size_t img = tile / ((size_t)j->wj_tw * j->wj_th);
		const float *xi = j->wj_x + img * (size_t)h * w * cin;
		float *vt = v + (size_t)ti * cin;

		for (cb = 0; cb < cin; cb += 16) {
			__mmask16 mk;

			nc = cin - cb < 16 ? cin - cb : 16;
			mk = (__mmask16)((1u << nc) - 1);
			for (r = 0; r < a; r++) {
				int iy = step * ty - pad + r;

				for (c = 0; c < a; c++) {
					int ix = step * tx - pad + c;

					if (iy < 0 || iy >= h || ix < 0 ||
					    ix >= w)
						d[r][c] = _mm512_setzero_ps();
					else
						d[r][c] = _mm512_maskz_loadu_ps(
						    mk, xi + ((size_t)iy * w +
						    ix) * cin + cb);
				}
			}
			/* t = Bt d: column by column */
			for (c = 0; c < a; c++) {
				for (r = 0; r < a; r++)
					col[r] = d[r][c];
				if (m == 4 || m == WINO_STEM)
					f4_bt(col, out);
				else if (m == WINO_S2)
					s2_bt(col, out);
				else
					f2_bt(col, out);
				for (r = 0; r < a; r++)
					t[r][c] = out[r];
			}
			/* V = t B: row by row; position r * a + c */
			for (r = 0; r < a; r++) {
				if (m == 4 || m == WINO_STEM)
					f4_bt(t[r], out);
				else if (m == WINO_S2)
					s2_bt(t[r], out);
				else
					f2_bt(t[r], out);
				for (c = 0; c < a; c++)
					_mm512_mask_storeu_ps(vt + (size_t)(r *
					    a + c) * ld + cb, mk, out[c]);
			}
		}
	}
}

/*
 * y = act(At M A + bias + res) for tiles [t0, t0 + tb) and channels
 * [c0, c1): M_xi for tile ti, channel c at mm + xi*ld + ti*mtile + c - c0.
 * Only pixels inside the image are stored.
 */
static WINO_INLINE void
wino_output(const struct wino_job *j, const int m, size_t t0, int tb,
    int c0, int c1, const float *restrict mm, size_t mtile, size_t ld)
{
	const int a = wino_a(m), mo = wino_mo(m);	/* output tile */
	const struct conv *cv = j->wj_cv;
	const int cout = cv->cv_cout, h = j->wj_oh, w = j->wj_ow;
	const float *bias = j->wj_bias;
	__m512 s[4][WINO_AMAX], col[WINO_AMAX], o[4], bv;
	const __m512 zero = _mm512_setzero_ps();
	int ti, r, c, k, cb, nc;

	for (ti = 0; ti < tb; ti++) {
		size_t tile = t0 + (size_t)ti;
		int tx = (int)(tile % (size_t)j->wj_tw);
		int ty = (int)((tile / (size_t)j->wj_tw) % (size_t)j->wj_th);
		size_t img = tile / ((size_t)j->wj_tw * j->wj_th);
		const float *mt = mm + (size_t)ti * mtile;

		for (cb = c0; cb < c1; cb += 16) {
			__mmask16 mk;

			nc = c1 - cb < 16 ? c1 - cb : 16;
			mk = (__mmask16)((1u << nc) - 1);
			bv = _mm512_maskz_loadu_ps(mk, bias + cb);
			/* s = At M: column by column */
			for (c = 0; c < a; c++) {
				for (k = 0; k < a; k++)
					col[k] = _mm512_maskz_loadu_ps(mk,
					    mt + (size_t)(k * a + c) * ld + cb -
					    c0);
				if (m == 4)
					f4_at(col, o);
				else if (m == WINO_STEM)
					f3_at(col, o);
				else if (m == WINO_S2)
					s2_at(col, o);
				else
					f2_at(col, o);
				for (r = 0; r < mo; r++)
					s[r][c] = o[r];
			}
			/* Y = s A: row by row, then the output pass */
			for (r = 0; r < mo; r++) {
				int oy = mo * ty + r;

				if (oy >= h)
					break;
				if (m == 4)
					f4_at(s[r], o);
				else if (m == WINO_STEM)
					f3_at(s[r], o);
				else if (m == WINO_S2)
					s2_at(s[r], o);
				else
					f2_at(s[r], o);
				for (c = 0; c < mo; c++) {
					int ox = mo * tx + c;
					size_t off;
					__m512 y;

					if (ox >= w)
						break;
					off = ((img * h + oy) * w + ox) *
					    (size_t)cout + cb;
					y = _mm512_add_ps(o[c], bv);
					if (j->wj_res != NULL)
						y = _mm512_add_ps(y,
						    _mm512_maskz_loadu_ps(mk,
						    j->wj_res + off));
					if (j->wj_relu)
						y = _mm512_max_ps(y, zero);
					_mm512_mask_storeu_ps(j->wj_y + off,
					    mk, y);
				}
			}
		}
	}
}

/*
 * The instantiations of the input and output passes, one pair per scheme:
 * PFX_input() and PFX_output() with m a constant.
 */
#define WINO_PASSES(pfx, m)						\
static WINO_TARGET void							\
pfx##_input(const struct wino_job *j, size_t t0, int tb,		\
    float *restrict v, size_t ld)					\
{									\
	wino_input(j, m, t0, tb, v, ld);				\
}									\
									\
static WINO_TARGET void							\
pfx##_output(const struct wino_job *j, size_t t0, int tb, int c0,	\
    int c1, const float *restrict mm, size_t mtile, size_t ld)		\
{									\
	wino_output(j, m, t0, tb, c0, c1, mm, mtile, ld);		\
}

WINO_PASSES(f4, 4)
WINO_PASSES(f2, 2)
WINO_PASSES(s2, WINO_S2)
WINO_PASSES(stem, WINO_STEM)

/* ==== Weights transformed during the pass ==== */

/* G applied to 3 vectors, F(2x2): a = 4 results. */
static WINO_INLINE void
f2_g(__m512 w0, __m512 w1, __m512 w2, __m512 r[4])
{
	const __m512 half = _mm512_set1_ps(0.5f);
	__m512 t = _mm512_add_ps(w0, w2);

	r[0] = w0;
	r[1] = _mm512_mul_ps(half, _mm512_add_ps(t, w1));
	r[2] = _mm512_mul_ps(half, _mm512_sub_ps(t, w1));
	r[3] = w2;
}

/* G applied to 3 vectors, F(4x4): a = 6 results (the rows of g4 above). */
static WINO_INLINE void
f4_g(__m512 w0, __m512 w1, __m512 w2, __m512 r[6])
{
	const __m512 sixth = _mm512_set1_ps(-1.0f / 6);
	__m512 t = _mm512_add_ps(w0, w2);
	__m512 s = _mm512_fmadd_ps(_mm512_set1_ps(1.0f / 24), w0,
	    _mm512_mul_ps(_mm512_set1_ps(1.0f / 6), w2));
	__m512 u = _mm512_mul_ps(_mm512_set1_ps(1.0f / 12), w1);

	r[0] = _mm512_mul_ps(_mm512_set1_ps(0.25f), w0);
	r[1] = _mm512_mul_ps(sixth, _mm512_add_ps(t, w1));
	r[2] = _mm512_mul_ps(sixth, _mm512_sub_ps(t, w1));
	r[3] = _mm512_add_ps(s, u);
	r[4] = _mm512_sub_ps(s, u);
	r[5] = w2;
}

/*
 * U (a*a, kb, KERN_NR) for output panel p and input channels [ci0, ci0 +
 * kb) from the folded weights (cin, 9, KERN_NR) of the panel in cv_wf:
 * U_xi = G g Gt, by columns then rows, 16 channels at a time.
 */
static WINO_INLINE void
wino_weights(const struct conv *cv, const int m, int p, int ci0, int kb,
    float *restrict u)
{
	const int a = m + 2, cin = cv->cv_cin;
	const float *wp = cv->cv_wf + ((size_t)p * cin + ci0) * 9 * KERN_NR;
	const size_t us = WINO_USTRIDE(kb);
	__m512 g[9], t[WINO_AMAX][3], r[WINO_AMAX];
	float *o;
	int ci, h, k, ky, kx, rr, c;

	for (ci = 0; ci < kb; ci++)
		for (h = 0; h < KERN_NR; h += 16) {
			const float *src = wp + (size_t)ci * 9 * KERN_NR + h;

			for (k = 0; k < 9; k++)
				_mm_prefetch((const char *)(src + (size_t)
				    WINO_PFD * 9 * KERN_NR + k * KERN_NR),
				    _MM_HINT_T0);
			for (k = 0; k < 9; k++)
				g[k] = _mm512_load_ps(src + k * KERN_NR);
			/* columns: T[:, kx] = G g[:, kx] */
			for (kx = 0; kx < 3; kx++) {
				if (m == 4)
					f4_g(g[kx], g[3 + kx], g[6 + kx], r);
				else
					f2_g(g[kx], g[3 + kx], g[6 + kx], r);
				for (ky = 0; ky < a; ky++)
					t[ky][kx] = r[ky];
			}
			/* rows: U[rr, :] = G T[rr, :] */
			o = u + (size_t)ci * KERN_NR + h;
			for (rr = 0; rr < a; rr++) {
				if (m == 4)
					f4_g(t[rr][0], t[rr][1], t[rr][2], r);
				else
					f2_g(t[rr][0], t[rr][1], t[rr][2], r);
				for (c = 0; c < a; c++, o += us)
					_mm512_store_ps(o, r[c]);
			}
		}
}

static WINO_TARGET void
f4_weights(const struct conv *cv, int p, int ci0, int kb, float *restrict u)
{
	wino_weights(cv, 4, p, ci0, kb, u);
}

static WINO_TARGET void
f2_weights(const struct conv *cv, int p, int ci0, int kb, float *restrict u)
{
	wino_weights(cv, 2, p, ci0, kb, u);
}

/* Phase 1: V of the chunk, a block of tiles per task. */
static WINO_TARGET void
fly_input_task(void *arg, int task, int thread)
{
	const struct wino_job *j = arg;
	const int cin = j->wj_cv->cv_cin;
	int t0 = task * j->wj_tb;
	int tb = j->wj_nt - t0 < j->wj_tb ? j->wj_nt - t0 : j->wj_tb;

	if (j->wj_m == 4)
		f4_input(j, j->wj_t0 + (size_t)t0, tb, j->wj_v + (size_t)t0 *
		    cin, (size_t)j->wj_nt * cin);
	else
		f2_input(j, j->wj_t0 + (size_t)t0, tb, j->wj_v + (size_t)t0 *
		    cin, (size_t)j->wj_nt * cin);
}

/*
 * Phase 2: one panel of KERN_NR output channels for all the chunk's tiles:
 * the a*a products M_xi (nt, KERN_NR) = V_xi (nt, cin) @ U_xi (cin,
 * KERN_NR), summed over blocks of WINO_KB input channels, each block's
 * weights transformed into the thread's scratch just before (small enough
 * to stay in cache with its share of V); then the output pass for those
 * channels.
 */
static WINO_TARGET void
fly_panel_task(void *arg, int p, int thread)
{
	static const float zero[KERN_NR];
	const struct wino_job *j = arg;
	const struct conv *cv = j->wj_cv;
	const int cin = cv->cv_cin, cout = cv->cv_cout, m = j->wj_m;
	const int a = m + 2, nt = j->wj_nt, c0 = p * KERN_NR;
	const int nc = cout - c0 < KERN_NR ? cout - c0 : KERN_NR;
	const int kbmax = cin < WINO_KB ? cin : WINO_KB;
	float *u = j->wj_scratch + (size_t)thread * j->wj_per;
	float *mm = u + (size_t)a * a * WINO_USTRIDE(kbmax);
	const float *wp = cv->cv_wf + (size_t)p * cin * 9 * KERN_NR;
	size_t nxt;
	int xi, r0, mr, ci0, kb;

	for (ci0 = 0; ci0 < cin; ci0 += kb) {
		kb = cin - ci0 < kbmax ? cin - ci0 : kbmax;
		/* The panel's next block, if any (bytes). */
		nxt = (size_t)(cin - ci0 - kb < kbmax ? cin - ci0 - kb :
		    kbmax) * 9 * KERN_NR * sizeof(float);
		if (m == 4)
			f4_weights(cv, p, ci0, kb, u);
		else
			f2_weights(cv, p, ci0, kb, u);
		for (xi = 0; xi < a * a; xi++) {
			const float *vx = j->wj_v + (size_t)xi * nt * cin +
			    ci0;
			const float *ux = u + (size_t)xi * WINO_USTRIDE(kb);
			float *mx = mm + (size_t)xi * nt * KERN_NR;

			/*
			 * The next block's weights, a slice per position,
			 * are read from memory while these products compute:
			 * in cache when transformed.
			 */
			if (nxt > 0) {
				size_t b0 = nxt * (size_t)xi / (size_t)(a * a);
				size_t b1 = nxt * (size_t)(xi + 1) /
				    (size_t)(a * a);

				for (b0 = b0 / 64 * 64; b0 < b1; b0 += 64)
					_mm_prefetch((const char *)(wp + ((size_t)
					    ci0 + kb) * 9 * KERN_NR) + b0,
					    _MM_HINT_T1);
			}
			/* M += V U: the running sum comes in as "res". */
			for (r0 = 0; r0 < nt; r0 += mr) {
				mr = kern_rows((size_t)(nt - r0));
				kern_tile(mr, kb, vx + (size_t)r0 * cin,
				    (size_t)cin, ux, zero, ci0 == 0 ? NULL :
				    mx + (size_t)r0 * KERN_NR, KERN_NR, 0,
				    mx + (size_t)r0 * KERN_NR, KERN_NR, nc);
			}
		}
	}
	if (m == 4)
		f4_output(j, j->wj_t0, nt, c0, c0 + nc, mm, KERN_NR,
		    (size_t)nt * KERN_NR);
	else
		f2_output(j, j->wj_t0, nt, c0, c0 + nc, mm, KERN_NR,
		    (size_t)nt * KERN_NR);
}

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
		pool_run(fly_input_task, j, (j->wj_nt + j->wj_tb - 1) /
		    j->wj_tb);
		pool_run(fly_panel_task, j, npanels);
	}
}

/*
 * One task: a block of tiles, and a share of the output channels (when
 * there are too few tiles to go round the threads).
 */
static __attribute__((target("avx512f"))) void
wino_task(void *arg, int task, int thread)
{
	static const float zero[KERN_NR];
	const struct wino_job *j = arg;
	const struct conv *cv = j->wj_cv;
	const int m = j->wj_m, cin = wino_cin(m, cv->cv_cin);
	const int cout = cv->cv_cout, a = wino_a(m);
	const int npanels = (cout + KERN_NR - 1) / KERN_NR;
	const size_t one = conv_packed_floats(cin, cout);
	size_t t0 = (size_t)(task / j->wj_nsplit) * j->wj_tb;
	int ns = task % j->wj_nsplit;
	int p0 = ns * npanels / j->wj_nsplit;
	int p1 = (ns + 1) * npanels / j->wj_nsplit;
	float *v = j->wj_scratch + (size_t)thread * j->wj_per;
	float *mm;
	int tb, xi, p, r0, mr, nc;

	tb = j->wj_ntiles - t0 < (size_t)j->wj_tb ? (int)(j->wj_ntiles - t0) :
	    j->wj_tb;
	mm = v + (size_t)a * a * tb * cin;
	if (m == 4)
		f4_input(j, t0, tb, v, (size_t)tb * cin);
	else if (m == WINO_STEM)
		stem_input(j, t0, tb, v, (size_t)tb * cin);
	else if (m == WINO_S2)
		s2_input(j, t0, tb, v, (size_t)tb * cin);
	else
		f2_input(j, t0, tb, v, (size_t)tb * cin);
	for (xi = 0; xi < a * a; xi++) {
		const float *vx = v + (size_t)xi * tb * cin;
		float *mx = mm + (size_t)xi * tb * cout;
		const float *u = cv->cv_u + (size_t)xi * one;

		for (p = p0; p < p1; p++) {
			nc = cout - p * KERN_NR;
			nc = nc > KERN_NR ? KERN_NR : nc;
			for (r0 = 0; r0 < tb; r0 += mr) {
				mr = kern_rows((size_t)(tb - r0));
				/* M(mr, 32) = V(mr, cin) @ U_xi(cin, 32) */
				kern_tile(mr, cin, vx + (size_t)r0 * cin,
				    (size_t)cin, u + (size_t)p * cin * KERN_NR,
				    zero, NULL, 0, 0, mx + (size_t)r0 * cout +
				    (size_t)p * KERN_NR, (size_t)cout, nc);
			}
		}
	}
	p1 = p1 * KERN_NR > cout ? cout : p1 * KERN_NR;
	if (m == 4)
		f4_output(j, t0, tb, p0 * KERN_NR, p1, mm + (size_t)p0 *
		    KERN_NR, (size_t)cout, (size_t)tb * cout);
	else if (m == WINO_STEM)
		stem_output(j, t0, tb, p0 * KERN_NR, p1, mm + (size_t)p0 *
		    KERN_NR, (size_t)cout, (size_t)tb * cout);
	else if (m == WINO_S2)
		s2_output(j, t0, tb, p0 * KERN_NR, p1, mm + (size_t)p0 *
		    KERN_NR, (size_t)cout, (size_t)tb * cout);
	else
		f2_output(j, t0, tb, p0 * KERN_NR, p1, mm + (size_t)p0 *
		    KERN_NR, (size_t)cout, (size_t)tb * cout);
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
	pool_run(wino_task, &j, nblocks * j.wj_nsplit);
}
