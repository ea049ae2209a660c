/* SPDX-License-Identifier: ISC */
/*
 * winograd_avx512.c: the passes of the Winograd convolution (winograd.h)
 * with AVX-512F, 16 channels at a time: the input transform (V = Bt d B),
 * the products through the GEMM kernel, the output transform (At M A)
 * with the fused output pass, and the weight transform of the pass on
 * cv_wf.  winograd.c plans the pass (blocks of tiles, chunks) and runs
 * these as the pool's tasks (kernel.h).  Compiled for x86-64 only; each
 * function carries a target attribute, so the rest of the program stays
 * baseline x86-64, and runs only where kern_available() says so.
 */
#include <stddef.h>

#include "engine/conv.h"
#include "engine/kernel.h"
#include "engine/winograd.h"
#include "engine/winograd_pass.h"

#if defined(__x86_64__)

#include <immintrin.h>

/*
 * Input channels ahead that the weight transform prefetches (into L1):
 * with few tiles (the last stage at batch 1) the products are too short
 * to hide the next block's load, and the transform waited on memory (one
 * 512 x 512 layer: 0.90 ms against 0.76 with it, from memory).
 */
#define WINO_PFD	4

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
WINO_TARGET void
kern_wino_fly_input(void *arg, int task, int thread)
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
WINO_TARGET void
kern_wino_fly_panel(void *arg, int p, int thread)
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
 * One task: a block of tiles, and a share of the output channels (when
 * there are too few tiles to go round the threads).
 */
__attribute__((target("avx512f"))) void
kern_wino_task(void *arg, int task, int thread)
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

#endif /* __x86_64__ */
