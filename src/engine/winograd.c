/* SPDX-License-Identifier: ISC */
/*
 * winograd.c: F(2x2, 3x3) convolution.  See winograd.h.
 *
 * With d a 4x4 input tile, g the 3x3 kernel and
 *   Bt = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
 *   G  = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
 *   At = [1 1 1 0; 0 1 -1 -1]
 * the 2x2 output tile of the cross-correlation is At [(G g Gt) .* (Bt d B)] A.
 * Summed over input channels, the elementwise product becomes 16 matrix
 * products, one per transform position xi:
 *   M_xi (tiles, cout) = V_xi (tiles, cin) @ U_xi (cin, cout).
 */
#include <stdlib.h>
#include <string.h>

#include "conv.h"
#include "kernel.h"
#include "pool.h"
#include "winograd.h"

#define WINO_TB_MAX	96	/* tiles per block: a multiple of 12 */
#define WINO_TB_MIN	12
#define WINO_CBLK	64	/* channels per pass of the transforms */

/* The transforms are plain loops over channels, vectorised for AVX-512. */
#define AG_VEC_TARGET __attribute__((target("avx512f"), \
	optimize("tree-vectorize")))

int
wino_applies(const struct conv *cv)
{
	return cv->cv_k == 3 && cv->cv_stride == 1 && cv->cv_pad == 1;
}

size_t
wino_packed_floats(int cin, int cout)
{
	/* 16 packed (cin, cout) matrices, then the padded bias. */
	return 16 * conv_packed_floats(cin, cout);
}

int
wino_pack(struct conv *cv, const float *w, const float *b, float *dst)
{
	const int cin = cv->cv_cin, cout = cv->cv_cout;
	const size_t one = conv_packed_floats(cin, cout);
	const size_t n = (size_t)cin * cout;
	struct conv tmp;
	float *u;
	size_t i;
	int xi, r, c;

	/* u (16, cin, cout): G g Gt for every channel pair, in double. */
	if ((u = malloc(16 * n * sizeof(*u))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		double g[3][3], t[4][3];

		for (r = 0; r < 3; r++)
			for (c = 0; c < 3; c++)
				g[r][c] = w[((size_t)r * 3 + c) * n + i];
		for (c = 0; c < 3; c++) {
			t[0][c] = g[0][c];
			t[1][c] = (g[0][c] + g[1][c] + g[2][c]) / 2;
			t[2][c] = (g[0][c] - g[1][c] + g[2][c]) / 2;
			t[3][c] = g[2][c];
		}
		for (r = 0; r < 4; r++) {
			u[(size_t)(r * 4 + 0) * n + i] = (float)t[r][0];
			u[(size_t)(r * 4 + 1) * n + i] =
			    (float)((t[r][0] + t[r][1] + t[r][2]) / 2);
			u[(size_t)(r * 4 + 2) * n + i] =
			    (float)((t[r][0] - t[r][1] + t[r][2]) / 2);
			u[(size_t)(r * 4 + 3) * n + i] = (float)t[r][2];
		}
	}
	for (xi = 0; xi < 16; xi++) {
		tmp = *cv;
		tmp.cv_k = 1;	/* pack as a (cin, cout) matrix */
		conv_pack(&tmp, u + (size_t)xi * n, b, dst + (size_t)xi * one);
	}
	free(u);
	cv->cv_u = dst;
	return 0;
}

size_t
wino_scratch_floats(int cin, int cout)
{
	return (size_t)16 * WINO_TB_MAX * ((size_t)cin + (size_t)cout);
}

/* ==== The three passes ==== */

struct wino_job {
	const struct conv	*wj_cv;
	const float		*wj_x, *wj_res;
	float			*wj_y, *wj_scratch;
	int			 wj_n, wj_h, wj_w, wj_th, wj_tw;
	int			 wj_relu, wj_tb;
	size_t			 wj_ntiles, wj_per;
};

/*
 * V (16, tb, cin) for tiles [t0, t0 + tb): V_xi = (Bt d B)_xi, where d is
 * the 4x4 input patch at rows 2ty-1.., cols 2tx-1.. (zeros outside).
 */
static AG_VEC_TARGET void
wino_input(const struct wino_job *j, size_t t0, int tb, float *restrict v)
{
	const int cin = j->wj_cv->cv_cin, h = j->wj_h, w = j->wj_w;
	const size_t ld = (size_t)tb * cin;
	float d[4][4][WINO_CBLK], t[4][4][WINO_CBLK];
	int ti, r, c, cb, ch, nc;

	for (ti = 0; ti < tb; ti++) {
		size_t tile = t0 + (size_t)ti;
		int tx = (int)(tile % (size_t)j->wj_tw);
		int ty = (int)((tile / (size_t)j->wj_tw) % (size_t)j->wj_th);
		size_t img = tile / ((size_t)j->wj_tw * j->wj_th);
		const float *xi = j->wj_x + img * (size_t)h * w * cin;
		float *vt = v + (size_t)ti * cin;

		for (cb = 0; cb < cin; cb += WINO_CBLK) {
			nc = cin - cb < WINO_CBLK ? cin - cb : WINO_CBLK;
			for (r = 0; r < 4; r++) {
				int iy = 2 * ty - 1 + r;

				for (c = 0; c < 4; c++) {
					int ix = 2 * tx - 1 + c;
					const float *src;

					if (iy < 0 || iy >= h || ix < 0 ||
					    ix >= w) {
						for (ch = 0; ch < nc; ch++)
							d[r][c][ch] = 0.0f;
						continue;
					}
					src = xi + ((size_t)iy * w + ix) * cin +
					    cb;
					for (ch = 0; ch < nc; ch++)
						d[r][c][ch] = src[ch];
				}
			}
			/* rows: Bt d */
			for (c = 0; c < 4; c++)
				for (ch = 0; ch < nc; ch++) {
					t[0][c][ch] = d[0][c][ch] - d[2][c][ch];
					t[1][c][ch] = d[1][c][ch] + d[2][c][ch];
					t[2][c][ch] = d[2][c][ch] - d[1][c][ch];
					t[3][c][ch] = d[1][c][ch] - d[3][c][ch];
				}
			/* columns: (Bt d) B, stored at position r*4 + c */
			for (r = 0; r < 4; r++) {
				float *o = vt + (size_t)(r * 4) * ld + cb;

				for (ch = 0; ch < nc; ch++) {
					o[ch] = t[r][0][ch] - t[r][2][ch];
					o[ld + ch] = t[r][1][ch] + t[r][2][ch];
					o[2 * ld + ch] = t[r][2][ch] -
					    t[r][1][ch];
					o[3 * ld + ch] = t[r][1][ch] -
					    t[r][3][ch];
				}
			}
		}
	}
}

/*
 * y = act(At M A + bias + res) for tiles [t0, t0 + tb), M (16, tb, cout);
 * only the output pixels inside the image are stored.
 */
static AG_VEC_TARGET void
wino_output(const struct wino_job *j, size_t t0, int tb,
    const float *restrict m)
{
	const struct conv *cv = j->wj_cv;
	const int cout = cv->cv_cout, h = j->wj_h, w = j->wj_w;
	const size_t ld = (size_t)tb * cout;
	/* Every packed slot ends with the padded bias: use slot 0's. */
	const float *bias = cv->cv_u + (size_t)((cout + KERN_NR - 1) /
	    KERN_NR) * cv->cv_cin * KERN_NR;
	float s[2][4][WINO_CBLK], o[2][2][WINO_CBLK];
	int ti, a, b, cb, ch, nc, c;

	for (ti = 0; ti < tb; ti++) {
		size_t tile = t0 + (size_t)ti;
		int tx = (int)(tile % (size_t)j->wj_tw);
		int ty = (int)((tile / (size_t)j->wj_tw) % (size_t)j->wj_th);
		size_t img = tile / ((size_t)j->wj_tw * j->wj_th);
		const float *mt = m + (size_t)ti * cout;

		for (cb = 0; cb < cout; cb += WINO_CBLK) {
			nc = cout - cb < WINO_CBLK ? cout - cb : WINO_CBLK;
			/* rows: At M */
			for (c = 0; c < 4; c++) {
				const float *m0 = mt + (size_t)c * ld + cb;
				const float *m1 = m0 + 4 * ld, *m2 = m0 + 8 * ld;
				const float *m3 = m0 + 12 * ld;

				for (ch = 0; ch < nc; ch++) {
					s[0][c][ch] = m0[ch] + m1[ch] + m2[ch];
					s[1][c][ch] = m1[ch] - m2[ch] - m3[ch];
				}
			}
			/* columns: (At M) A */
			for (a = 0; a < 2; a++)
				for (ch = 0; ch < nc; ch++) {
					o[a][0][ch] = s[a][0][ch] +
					    s[a][1][ch] + s[a][2][ch];
					o[a][1][ch] = s[a][1][ch] -
					    s[a][2][ch] - s[a][3][ch];
				}
			for (a = 0; a < 2; a++) {
				int oy = 2 * ty + a;

				if (oy >= h)
					continue;
				for (b = 0; b < 2; b++) {
					int ox = 2 * tx + b;
					size_t off;
					float *yo;
					const float *ro;

					if (ox >= w)
						continue;
					off = ((img * h + oy) * w + ox) *
					    (size_t)cout + cb;
					yo = j->wj_y + off;
					ro = j->wj_res ? j->wj_res + off : NULL;
					for (ch = 0; ch < nc; ch++) {
						float v = o[a][b][ch] +
						    bias[cb + ch];

						if (ro != NULL)
							v += ro[ch];
						if (j->wj_relu && v < 0.0f)
							v = 0.0f;
						yo[ch] = v;
					}
				}
			}
		}
	}
}

static void
wino_task(void *arg, int task, int thread)
{
	static const float zero[KERN_NR];
	const struct wino_job *j = arg;
	const struct conv *cv = j->wj_cv;
	const int cin = cv->cv_cin, cout = cv->cv_cout;
	const size_t one = conv_packed_floats(cin, cout);
	size_t t0 = (size_t)task * j->wj_tb;
	float *v = j->wj_scratch + (size_t)thread * j->wj_per;
	float *m = v + (size_t)16 * j->wj_tb * cin;
	int tb, xi, p, r0, mr, nc;

	tb = j->wj_ntiles - t0 < (size_t)j->wj_tb ? (int)(j->wj_ntiles - t0) :
	    j->wj_tb;
	wino_input(j, t0, tb, v);
	for (xi = 0; xi < 16; xi++) {
		const float *vx = v + (size_t)xi * tb * cin;
		float *mx = m + (size_t)xi * tb * cout;
		const float *u = cv->cv_u + (size_t)xi * one;

		for (p = 0; p * KERN_NR < cout; p++) {
			nc = cout - p * KERN_NR;
			nc = nc > KERN_NR ? KERN_NR : nc;
			for (r0 = 0; r0 < tb; r0 += KERN_MR) {
				mr = tb - r0 < KERN_MR ? tb - r0 : KERN_MR;
				/* M(mr, 32) = V(mr, cin) @ U_xi(cin, 32) */
				kern_tile(mr, cin, vx + (size_t)r0 * cin,
				    (size_t)cin, u + (size_t)p * cin * KERN_NR,
				    zero, NULL, 0, 0, mx + (size_t)r0 * cout +
				    (size_t)p * KERN_NR, (size_t)cout, nc);
			}
		}
	}
	wino_output(j, t0, tb, m);
}

void
wino_forward(const struct conv *cv, const float *x, int n, int h, int w,
    const float *res, int relu, float *y, float *scratch, size_t colcap)
{
	struct wino_job j;
	int nthreads = pool_threads(), tb;
	size_t per_thread_tiles;

	j.wj_cv = cv;
	j.wj_x = x;
	j.wj_res = res;
	j.wj_y = y;
	j.wj_scratch = scratch;
	j.wj_n = n;
	j.wj_h = h;
	j.wj_w = w;
	j.wj_th = (h + 1) / 2;
	j.wj_tw = (w + 1) / 2;
	j.wj_relu = relu;
	j.wj_ntiles = (size_t)n * j.wj_th * j.wj_tw;
	j.wj_per = colcap / (size_t)nthreads;
	/* Enough blocks for every thread, each a multiple of 12 tiles. */
	per_thread_tiles = (j.wj_ntiles + 2 * (size_t)nthreads - 1) /
	    (2 * (size_t)nthreads);
	tb = per_thread_tiles > WINO_TB_MAX ? WINO_TB_MAX :
	    (int)per_thread_tiles;
	tb = (tb + WINO_TB_MIN - 1) / WINO_TB_MIN * WINO_TB_MIN;
	if (tb > WINO_TB_MAX)
		tb = WINO_TB_MAX;
	j.wj_tb = tb;
	pool_run(wino_task, &j,
	    (int)((j.wj_ntiles + (size_t)tb - 1) / (size_t)tb));
}
