/* SPDX-License-Identifier: ISC */
/*
 * test_kernels.c: the engine's own kernels against the reference
 * convolution: the AVX-512 GEMM kernel (packed weights, fused output pass)
 * and Winograd F(2x2, 3x3) and F(4x4, 3x3), on one and two threads, with
 * odd channel counts, tails, residuals and tiny scratch buffers.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/conv.h"
#include "engine/kernel.h"
#include "engine/pool.h"
#include "engine/winograd.h"
#include "test_helper.h"

static uint32_t seed = 2463534242u;

static float
frand(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 17;
	seed ^= seed << 5;
	return (float)(seed & 0xffffff) / (float)0x800000 - 1.0f;
}

static float *
rand_buf(size_t n)
{
	float *p = malloc(n * sizeof(*p));
	size_t i;

	ASSERT_PTR_NE(p, NULL);
	for (i = 0; i < n; i++)
		p[i] = frand();
	return p;
}

static void *
aligned(size_t nfloats)
{
	void *p = NULL;

	if (posix_memalign(&p, 64, (nfloats + 16) * sizeof(float)) != 0)
		return NULL;
	return p;
}

/* max |a - b| / max(|b|, 1e-6) over n values */
static double
rel_err(const float *a, const float *b, size_t n)
{
	double md = 0, mb = 1e-6;
	size_t i;

	for (i = 0; i < n; i++) {
		double d = fabs((double)a[i] - b[i]);

		md = d > md ? d : md;
		mb = fabs(b[i]) > mb ? fabs(b[i]) : mb;
	}
	return md / mb;
}

/*
 * mode 0: packed GEMM kernel; 2 or 4: Winograd F(m x m, 3x3) on
 * wino_pack()ed weights; -2 or -4: the same on the folded weights,
 * transformed during the pass (wino_pack_folded()).  colcap: the scratch
 * for mode 0; for Winograd, 0 means wino_scratch_floats() per thread, and
 * anything else is used as it is.  Returns the relative error against
 * conv_forward_ref.
 */
static double
run_case(int mode, int n, int h, int w, int cin, int cout, int k, int s,
    int use_res, int relu, size_t colcap)
{
	struct conv ref = { 0 }, cv;
	int kk = k * k * cin, oh, ow;
	size_t nx, ny, cap;
	float *wt, *b, *x, *res = NULL, *y, *yr, *packed, *col;
	double e;

	ref.cv_cin = cin;
	ref.cv_cout = cout;
	ref.cv_k = k;
	ref.cv_stride = s;
	ref.cv_pad = k / 2;
	oh = conv_out_size(h, k, s, k / 2);
	ow = conv_out_size(w, k, s, k / 2);
	nx = (size_t)n * h * w * cin;
	ny = (size_t)n * oh * ow * cout;
	wt = rand_buf((size_t)kk * cout);
	b = rand_buf((size_t)cout);
	x = rand_buf(nx);
	if (use_res)
		res = rand_buf(ny);
	y = calloc(ny, sizeof(*y));
	yr = calloc(ny, sizeof(*yr));
	ref.cv_w = wt;
	ref.cv_b = b;
	cv = ref;
	cv.cv_w = NULL;
	cv.cv_b = NULL;
	if (mode == 0) {
		packed = aligned(conv_packed_floats(kk, cout));
		conv_pack(&cv, wt, b, packed);
		cap = colcap;
	} else if (mode > 0) {
		packed = aligned(wino_packed_floats(mode, cin, cout));
		ASSERT_INT_EQ(wino_pack(&cv, mode, wt, b, packed), 0);
		cap = colcap != 0 ? colcap : wino_scratch_floats(mode, cin,
		    cout) * (size_t)pool_threads();
	} else {
		packed = aligned(wino_folded_floats(cin, cout));
		wino_pack_folded(&cv, -mode, wt, b, packed);
		cap = colcap != 0 ? colcap : wino_scratch_floats(-mode, cin,
		    cout) * (size_t)pool_threads();
	}
	/* One float past a malloc()ed start: 4 bytes off any 64-byte line. */
	col = malloc((cap + 1) * sizeof(*col));
	conv_forward_ref(&ref, x, n, h, w, res, relu, yr);
	conv_forward(&cv, x, n, h, w, res, relu, y, col + 1, cap);
	e = rel_err(y, yr, ny);
	free(wt);
	free(b);
	free(x);
	free(res);
	free(y);
	free(yr);
	free(packed);
	free(col);
	return e;
}

static void
test_direct(void)
{
	static const int shapes[][6] = {
		/* n, h, w, cin, cout, k */
		{ 1, 9, 7, 3, 17, 7 },
		{ 2, 12, 10, 5, 33, 3 },
		{ 1, 7, 7, 64, 64, 3 },
		{ 3, 5, 6, 16, 130, 1 },
		{ 1, 14, 14, 32, 64, 3 },
		{ 1, 1, 1, 8, 1, 1 },
	};
	size_t i;
	int s, t;
	char name[96];

	for (t = 1; t <= 2; t++) {
		pool_set_threads(t);
		for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
			for (s = 1; s <= 2; s++) {
				const int *p = shapes[i];

				snprintf(name, sizeof(name), "kernel %dx%dx%dx%d"
				    "->%d k%d s%d threads %d", p[0], p[1], p[2],
				    p[3], p[4], p[5], s, t);
				TEST_START(name);
				ASSERT_DBL_LE(run_case(0, p[0], p[1], p[2],
				    p[3], p[4], p[5], s, s == 1, 1, 1 << 16),
				    1e-5);
				/* scratch for a single im2col row per thread */
				ASSERT_DBL_LE(run_case(0, p[0], p[1], p[2],
				    p[3], p[4], p[5], s, 0, 0,
				    (size_t)p[5] * p[5] * p[3] * t), 1e-5);
				TEST_DONE();
			}
	}
}

/*
 * Scratch floats for Winograd during the pass with chunks of nt tiles, on
 * t threads, as wino_forward() sizes them: 16 floats to align the start,
 * 16 to round V, V (a^2, nt, cin), and per thread U for a block of up to
 * 64 input channels (a^2 blocks of (64, 32) and a cache line) and M
 * (a^2, nt, 32).
 */
static size_t
fly_cap(int m, int cin, int t, int nt)
{
	size_t a2 = (size_t)(m + 2) * (m + 2);
	size_t kb = cin < 64 ? (size_t)cin : 64;

	return 32 + a2 * (size_t)nt * cin + (size_t)t * a2 * (kb * 32 + 16 +
	    (size_t)nt * 32);
}

static void
test_winograd(void)
{
	static const int shapes[][5] = {
		/* n, h, w, cin, cout */
		{ 1, 8, 8, 16, 32 },
		{ 1, 7, 9, 3, 17 },
		{ 2, 13, 11, 33, 40 },
		{ 1, 1, 1, 8, 8 },
		{ 1, 56, 56, 64, 64 },
		{ 3, 14, 14, 64, 130 },
	};
	size_t i;
	int m, t, c;
	char name[96];

	for (t = 1; t <= 2; t++) {
		pool_set_threads(t);
		for (m = 2; m <= 4; m += 2)
			for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]);
			    i++) {
				const int *p = shapes[i];

				snprintf(name, sizeof(name), "winograd F(%d) "
				    "%dx%dx%dx%d->%d threads %d", m, p[0],
				    p[1], p[2], p[3], p[4], t);
				TEST_START(name);
				/* F(4x4) rounds a little more than F(2x2). */
				ASSERT_DBL_LE(run_case(m, p[0], p[1], p[2],
				    p[3], p[4], 3, 1, 1, 1, 0), 1e-5);
				ASSERT_DBL_LE(run_case(m, p[0], p[1], p[2],
				    p[3], p[4], 3, 1, 0, 0, 0), 1e-5);
				TEST_DONE();
				snprintf(name, sizeof(name), "winograd F(%d) "
				    "during the pass %dx%dx%dx%d->%d threads "
				    "%d", m, p[0], p[1], p[2], p[3], p[4], t);
				TEST_START(name);
				ASSERT_DBL_LE(run_case(-m, p[0], p[1], p[2],
				    p[3], p[4], 3, 1, 1, 1, 0), 1e-5);
				ASSERT_DBL_LE(run_case(-m, p[0], p[1], p[2],
				    p[3], p[4], 3, 1, 0, 0, 0), 1e-5);
				/*
				 * Scratch for 1 and for 3 tiles at a time (the
				 * tiles go in chunks), from an unaligned start.
				 */
				for (c = 1; c <= 3; c += 2)
					ASSERT_DBL_LE(run_case(-m, p[0], p[1],
					    p[2], p[3], p[4], 3, 1, 1, 1,
					    fly_cap(m, p[3], t, c)), 1e-5);
				TEST_DONE();
			}
	}
}

void
tests(void)
{
	test_plan(72);
	if (!kern_available())
		test_skip_all("no-avx512",
		    "no AVX-512 on this CPU: the BLAS path runs");
	test_direct();
	test_winograd();
	pool_set_threads(1);
}
