/* SPDX-License-Identifier: ISC */
/*
 * test_engine.c: unit tests for the engine, through its public headers.
 *
 * The fast paths are checked against slow, obvious code: gemm_f32() against
 * gemm_ref() on awkward shapes and leading dimensions, conv_forward()
 * against conv_forward_ref() on many layer shapes and scratch sizes (a tiny
 * scratch forces one-row tiles), and each operator of ops.h against a loop
 * written here.  Every output buffer is followed by guard values that must
 * survive, so a kernel writing past its output fails here even without
 * ASan.  The ResNet part checks the parameter lists against torchvision's
 * state_dict naming (an independent list built in this file), and builds a
 * small ResNet-18 (10 classes) from a deterministic fetch callback to check
 * the refusals of resnet_new(), resnet_ws_new() and resnet_forward(), batch
 * consistency, and that the weights end up in read-only memory with no
 * writable+executable mapping anywhere in the process.  With the ISA
 * kernels off (a CPU without AVX-512, or AG_ENGINE_KERNEL=blas, as
 * e2e/arch runs it) the same cases run the portable path: the plan holds.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ag_err.h"
#include "engine/conv.h"
#include "engine/gemm.h"
#include "engine/ops.h"
#include "engine/resnet.h"
#include "engine/winograd.h"
#include "test_helper.h"

#define ERRLEN		512
#define GUARD		64		/* guard floats after each output */
#define GUARD_VAL	-12345.678f

/* ==== Helpers =========================================================== */

static uint64_t rng_state = 1;

static void
rng_seed(uint64_t s)
{
	rng_state = s * 0x9e3779b97f4a7c15ULL + 0x1234567ULL;
	if (rng_state == 0)
		rng_state = 1;
}

/* xorshift64 with a multiplied output. */
static uint32_t
rng_u32(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dULL) >> 32);
}

/* Uniform in [-1, 1). */
static float
rng_f(void)
{
	return (float)(rng_u32() >> 8) / 8388608.0f - 1.0f;
}

static void
fill(float *p, size_t n, float scale, float offset)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = rng_f() * scale + offset;
}

/* n floats followed by GUARD guard values. */
static float *
alloc_guarded(size_t n)
{
	float *p = test_xmalloc((n + GUARD) * sizeof(*p));
	size_t i;

	for (i = 0; i < n + GUARD; i++)
		p[i] = i < n ? NAN : GUARD_VAL;
	return p;
}

static int
guard_ok(const float *p, size_t n)
{
	size_t i;

	for (i = n; i < n + GUARD; i++)
		if (p[i] != GUARD_VAL)
			return 0;
	return 1;
}

static double
max_abs(const float *p, size_t n)
{
	double m = 0.0;
	size_t i;

	for (i = 0; i < n; i++)
		if (fabs((double)p[i]) > m)
			m = fabs((double)p[i]);
	return m;
}

/* Largest |a - b|; infinity when either holds a NaN. */
static double
max_diff(const float *a, const float *b, size_t n)
{
	double m = 0.0, d;
	size_t i;

	for (i = 0; i < n; i++) {
		if (isnan(a[i]) || isnan(b[i]))
			return INFINITY;
		d = fabs((double)a[i] - (double)b[i]);
		if (d > m)
			m = d;
	}
	return m;
}

static int
all_finite(const float *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isfinite(p[i]))
			return 0;
	return 1;
}

/* ==== GEMM ============================================================== */

struct gemm_case {
	int	m, n, k;
};

/*
 * One gemm_f32() call against gemm_ref() for (m, n, k), with pad extra
 * floats in each leading dimension.  With sample set, only a few rows of
 * the reference are computed (for the big shapes).
 */
static void
gemm_check(const struct gemm_case *gc, int pad, int acc, int sample)
{
	const int m = gc->m, n = gc->n, k = gc->k;
	const int lda = k + pad, ldb = n + pad, ldc = n + pad;
	size_t asz = (size_t)m * lda, bsz = (size_t)k * ldb;
	size_t csz = (size_t)m * ldc, i;
	float *a, *b, *c, *ref;
	int rows[8], nrows = 0, r, j, bad = 0;
	double err = 0.0, mx = 0.0;
	char name[128];

	snprintf(name, sizeof(name), "gemm %dx%dx%d lda+%d acc=%d%s", m, n, k,
	    pad, acc, sample ? " (sampled rows)" : "");
	TEST_START(name);
	a = test_xmalloc(asz * sizeof(*a));
	b = test_xmalloc(bsz * sizeof(*b));
	c = alloc_guarded(csz);
	ref = test_xmalloc(csz * sizeof(*ref));
	fill(a, asz, 1.0f, 0.0f);
	fill(b, bsz, 1.0f, 0.0f);
	/* C's padding columns must survive; its m x n window is input. */
	for (i = 0; i < csz; i++)
		c[i] = (int)(i % (size_t)ldc) < n ? rng_f() : GUARD_VAL;
	memcpy(ref, c, csz * sizeof(*c));

	gemm_f32(m, n, k, a, lda, b, ldb, c, ldc, acc);

	if (sample) {
		rows[nrows++] = 0;
		rows[nrows++] = m - 1;
		rows[nrows++] = m / 2;
		while (nrows < 6)
			rows[nrows++] = (int)(rng_u32() % (uint32_t)m);
	} else
		rows[nrows++] = -1;	/* all rows at once */
	for (r = 0; r < nrows; r++) {
		int i0 = rows[r] < 0 ? 0 : rows[r];
		int mm = rows[r] < 0 ? m : 1;

		gemm_ref(mm, n, k, a + (size_t)i0 * lda, lda, b, ldb,
		    ref + (size_t)i0 * ldc, ldc, acc);
		for (i = (size_t)i0; i < (size_t)(i0 + mm); i++)
			for (j = 0; j < n; j++) {
				double d = fabs((double)c[i * ldc + j] -
				    (double)ref[i * ldc + j]);

				if (isnan(c[i * ldc + j]))
					d = INFINITY;
				err = d > err ? d : err;
				if (fabs((double)ref[i * ldc + j]) > mx)
					mx = fabs((double)ref[i * ldc + j]);
			}
	}
	ASSERT_DBL_LE(err, 1e-5 * (mx > 1.0 ? mx : 1.0));
	for (i = 0; i < csz; i++)
		bad += (int)(i % (size_t)ldc) >= n && c[i] != GUARD_VAL;
	ASSERT_INT_EQ(bad, 0);
	ASSERT_TRUE(guard_ok(c, csz));
	free(a);
	free(b);
	free(c);
	free(ref);
	TEST_DONE();
}

static void
test_gemm(void)
{
	static const struct gemm_case cases[] = {
		{ 1, 1, 1 }, { 1, 7, 13 }, { 7, 1, 13 }, { 13, 7, 1 },
		{ 1, 1, 127 }, { 7, 13, 33 }, { 33, 65, 7 }, { 65, 127, 13 },
		{ 127, 33, 65 }, { 127, 127, 127 }, { 65, 1, 65 },
		{ 1, 512, 512 }, { 3, 10, 512 }, { 64, 64, 576 },
		{ 128, 17, 1 }, { 49, 130, 147 },
	};
	static const struct gemm_case big[] = {
		{ 49, 512, 4608 },	/* layer4 3x3 conv at 224x224 */
		{ 196, 256, 2304 },	/* layer3 3x3 conv */
		{ 3136, 64, 147 },	/* a stem tile */
	};
	size_t i;
	int acc, pad;

	rng_seed(11);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (acc = 0; acc <= 1; acc++)
			for (pad = 0; pad <= 5; pad += 5)
				gemm_check(&cases[i], pad, acc, 0);
	for (i = 0; i < sizeof(big) / sizeof(big[0]); i++)
		for (acc = 0; acc <= 1; acc++)
			gemm_check(&big[i], acc ? 3 : 0, acc, 1);

	TEST_START("gemm backend name and threads");
	ASSERT_TRUE(gemm_backend() != NULL && gemm_backend()[0] != '\0');
	ASSERT_TRUE(resnet_backend() != NULL && resnet_backend()[0] != '\0');
	ASSERT_INT_GE(gemm_set_threads(1), 1);
	ASSERT_INT_GE(gemm_set_threads(2), 1);
	TEST_DONE();
}

/* ==== Convolution ======================================================= */

struct conv_case {
	int	n, h, w, cin, cout, k, s, p, res, relu;
};

/* How the weights are handed to conv_forward(). */
enum conv_layout {
	CL_PLAIN,	/* cv_w only: im2col + gemm_f32 */
	CL_PACKED,	/* cv_w and conv_pack()ed panels */
	CL_PACKED_ONLY,	/* conv_pack()ed panels, cv_w NULL */
	CL_WINO2,	/* wino_pack(), F(2x2, 3x3) */
	CL_WINO4,	/* wino_pack(), F(4x4, 3x3) */
	CL_WINO2F,	/* wino_pack_folded(): F(2x2) during the pass */
	CL_WINO4F,	/* wino_pack_folded(): F(4x4) during the pass */
	CL_WINOS2,	/* wino_pack(), WINO_S2: 3x3 stride 2 */
	CL_WINOSTEM,	/* wino_pack(), WINO_STEM: the 7x7 stem, phase image */
};

static const char *const layout_names[] = { "plain", "packed",
    "packed-only", "winograd-2", "winograd-4", "winograd-2-pass",
    "winograd-4-pass", "winograd-stride-2", "winograd-stem" };

/* Floats rounded up to whole 64-byte lines, 64-byte aligned. */
static float *
xalloc_aligned(size_t nfloats)
{
	size_t bytes = (nfloats * sizeof(float) + 63) / 64 * 64;
	float *p = aligned_alloc(64, bytes == 0 ? 64 : bytes);

	if (p == NULL) {
		fprintf(stderr, "out of memory (%zu bytes)\n", bytes);
		exit(99);
	}
	memset(p, 0, bytes == 0 ? 64 : bytes);
	return p;
}

/*
 * The phase images (wino_stem_phase()) of the n NHWC images x (h, w, 3),
 * one after the other, in a guarded allocation.
 */
static float *
stem_phases(const float *x, int n, int h, int w)
{
	size_t per = wino_stem_phase_floats(h, w), plane = (size_t)h * w;
	float *p = alloc_guarded(per * (size_t)n);
	float *nchw = test_xmalloc(3 * plane * sizeof(*nchw));
	size_t i, c;
	int img;

	for (img = 0; img < n; img++) {
		for (i = 0; i < plane; i++)
			for (c = 0; c < 3; c++)
				nchw[c * plane + i] = x[((size_t)img * plane +
				    i) * 3 + c];
		wino_stem_phase(nchw, h, w, p + (size_t)img * per);
	}
	ASSERT_TRUE(guard_ok(p, per * (size_t)n));
	free(nchw);
	return p;
}

static void
conv_check(const struct conv_case *cc, int nthreads)
{
	struct conv base, cv;
	const int kk = cc->k * cc->k * cc->cin;
	const int wino = cc->k == 3 && cc->s == 1 && cc->p == 1;
	const int wino_s2 = cc->k == 3 && cc->s == 2 && cc->p == 1;
	const int stem = cc->k == 7 && cc->s == 2 && cc->p == 3 && cc->cin == 3;
	int oh, ow, ci, neg, lay, ncaps, portable;
	size_t nx, ny, nw, caps[4], rows, i, min;
	float *x, *w, *b, *res = NULL, *y, *ref, *col, *pk, *xin;
	double err, mx;
	char name[200];

	oh = conv_out_size(cc->h, cc->k, cc->s, cc->p);
	ow = conv_out_size(cc->w, cc->k, cc->s, cc->p);
	nx = (size_t)cc->n * cc->h * cc->w * cc->cin;
	ny = (size_t)cc->n * oh * ow * cc->cout;
	nw = (size_t)kk * cc->cout;
	x = test_xmalloc(nx * sizeof(*x));
	w = test_xmalloc(nw * sizeof(*w));
	b = test_xmalloc((size_t)cc->cout * sizeof(*b));
	fill(x, nx, 1.0f, 0.0f);
	/* Keep outputs near 1 whatever the fan-in. */
	fill(w, nw, (float)(1.7 / sqrt((double)kk)), 0.0f);
	fill(b, (size_t)cc->cout, 0.5f, 0.0f);
	if (cc->res) {
		res = test_xmalloc(ny * sizeof(*res));
		fill(res, ny, 1.0f, 0.0f);
	}
	memset(&base, 0, sizeof(base));
	base.cv_cin = cc->cin;
	base.cv_cout = cc->cout;
	base.cv_k = cc->k;
	base.cv_stride = cc->s;
	base.cv_pad = cc->p;
	base.cv_w = w;
	base.cv_b = b;

	ref = alloc_guarded(ny);
	conv_forward_ref(&base, x, cc->n, cc->h, cc->w, res, cc->relu, ref);
	mx = max_abs(ref, ny);

	for (lay = CL_PLAIN; lay <= CL_WINOSTEM; lay++) {
		cv = base;
		pk = NULL;
		xin = x;
		if (lay >= CL_WINO2 && lay <= CL_WINO4F && !wino)
			continue;
		if (lay == CL_WINOS2 && !wino_s2)
			continue;
		if (lay == CL_WINOSTEM && !stem)
			continue;
		/*
		 * Without the kernel (no AVX-512, or AG_ENGINE_KERNEL=blas)
		 * the engine never builds a layout that drops cv_w or reads
		 * the phase image: such a case runs the portable path on
		 * the plain weights, at the layout's scratch sizes.  The
		 * others keep their packed copy, which conv_forward() must
		 * then leave alone.
		 */
		portable = !conv_kernel_available();
		switch (portable && (lay == CL_PACKED_ONLY || lay == CL_WINO2F ||
		    lay == CL_WINO4F || lay == CL_WINOSTEM) ? CL_PLAIN : lay) {
		case CL_PACKED:
		case CL_PACKED_ONLY:
			pk = xalloc_aligned(conv_packed_floats(kk, cc->cout));
			conv_pack(&cv, w, b, pk);
			if (lay == CL_PACKED_ONLY)
				cv.cv_w = NULL;
			break;
		case CL_WINO2:
		case CL_WINO4:
		case CL_WINOS2:
		case CL_WINOSTEM:
			i = lay == CL_WINO2 ? 2 : lay == CL_WINO4 ? 4 :
			    lay == CL_WINOS2 ? WINO_S2 : WINO_STEM;
			pk = xalloc_aligned(wino_packed_floats((int)i, cc->cin,
			    cc->cout));
			ASSERT_INT_EQ(wino_pack(&cv, (int)i, w, b, pk), 0);
			if (lay == CL_WINOSTEM)
				xin = stem_phases(x, cc->n, cc->h, cc->w);
			break;
		case CL_WINO2F:
		case CL_WINO4F:
			pk = xalloc_aligned(wino_folded_floats(cc->cin,
			    cc->cout));
			wino_pack_folded(&cv, lay == CL_WINO2F ? 2 : 4, w, b,
			    pk);
			cv.cv_w = NULL;	/* the pass must not need them */
			break;
		default:
			break;
		}
		/* Scratch: exactly the minimum, a few rows more, plenty. */
		min = (size_t)kk;
		if (lay >= CL_WINO2)
			min = wino_scratch_floats(lay == CL_WINO2 ||
			    lay == CL_WINO2F ? 2 : lay == CL_WINOS2 ? WINO_S2 :
			    lay == CL_WINOSTEM ? WINO_STEM : 4, cc->cin,
			    cc->cout);
		min *= (size_t)nthreads;
		ncaps = 0;
		caps[ncaps++] = min;
		caps[ncaps++] = min * 3 + 7;
		if (lay < CL_WINO2) {
			caps[ncaps++] = min * 50;
			caps[ncaps++] = min * 5000;
		}
		for (ci = 0; ci < ncaps; ci++) {
			snprintf(name, sizeof(name), "conv n%d %dx%d cin%d "
			    "cout%d k%d s%d p%d%s%s %s%s colcap=%zu threads=%d",
			    cc->n, cc->h, cc->w, cc->cin, cc->cout, cc->k,
			    cc->s, cc->p, cc->res ? " +res" : "",
			    cc->relu ? " relu" : "", layout_names[lay],
			    portable ? " (portable path)" : "", caps[ci],
			    nthreads);
			TEST_START(name);
			rows = conv_tile_rows(&cv, caps[ci]);
			ASSERT_INT_GE(rows, 1);
			ASSERT_INT_LE(rows * (size_t)kk, caps[ci]);
			y = alloc_guarded(ny);
			col = alloc_guarded(caps[ci]);
			conv_forward(&cv, xin, cc->n, cc->h, cc->w, res,
			    cc->relu, y, col, caps[ci]);
			err = max_diff(y, ref, ny);
			ASSERT_DBL_LE(err, 1e-4 * mx + 1e-7);
			ASSERT_TRUE(guard_ok(y, ny));
			ASSERT_TRUE(guard_ok(col, caps[ci]));
			if (cc->relu) {
				for (i = 0, neg = 0; i < ny; i++)
					neg += y[i] < 0.0f;
				ASSERT_INT_EQ(neg, 0);
			}
			free(y);
			free(col);
			TEST_DONE();
		}
		free(pk);
		if (xin != x)
			free(xin);
	}
	free(x);
	free(w);
	free(b);
	free(res);
	free(ref);
}

static void
test_conv(void)
{
	static const struct conv_case cases[] = {
		/* n  h   w  cin cout k  s  p  res relu */
		{ 1,  7,  9,  3,  17, 7, 2, 3, 0, 1 },	/* stem, tiny */
		{ 3, 16, 15,  3,  64, 7, 2, 3, 0, 1 },	/* stem */
		{ 1, 224, 224, 3, 64, 7, 2, 3, 0, 1 },	/* the stem at 224 */
		{ 2, 33, 47,  3,  40, 7, 2, 3, 1, 0 },	/* odd sides */
		{ 1,  1,  1,  3,  64, 7, 2, 3, 0, 1 },	/* 1x1 image */
		{ 1,  6,  2,  3, 130, 7, 2, 3, 1, 1 },	/* 3 panels */
		{ 1,  7,  9,  5,   1, 3, 1, 1, 1, 1 },
		{ 3,  8, 10, 64,  64, 3, 1, 1, 1, 1 },	/* basic conv2 */
		{ 1,  9,  7, 64, 130, 3, 2, 1, 0, 1 },	/* strided conv1 */
		{ 3,  7,  7, 64, 130, 1, 2, 0, 0, 0 },	/* downsample */
		{ 1,  8,  8, 64,  17, 1, 1, 0, 1, 0 },	/* 1x1 direct */
		{ 3, 13, 11,  5,  64, 1, 1, 0, 0, 1 },
		{ 1, 10, 12,  3,   1, 3, 2, 0, 0, 0 },	/* 3x3, no pad */
		{ 1, 12, 14,  5, 130, 7, 1, 3, 1, 0 },
		{ 3,  6,  6, 64,  64, 3, 2, 1, 1, 1 },
		{ 1,  1,  1, 64,  17, 3, 1, 1, 0, 1 },	/* 1x1 image */
		{ 3,  2,  3,  5, 130, 7, 2, 3, 1, 1 },	/* window > image */
		{ 1, 15, 15, 64,  64, 3, 1, 1, 0, 0 },
		{ 3,  9,  8,  3, 130, 1, 2, 0, 1, 1 },
		{ 1, 14, 14, 64, 130, 3, 1, 0, 0, 1 },
		{ 3,  7,  9,  3, 130, 3, 1, 1, 1, 1 },	/* odd tiles */
		{ 1, 13,  6,  5,  17, 3, 1, 1, 0, 1 },
		{ 2,  5,  3, 64, 130, 3, 1, 1, 1, 0 },
		{ 1, 28, 28, 64,  64, 3, 1, 1, 1, 1 },	/* layer1 at 112 */
		{ 2,  7,  7, 130, 40, 3, 1, 1, 1, 1 },	/* blocks of cin, 7x7 */
		/* stride 2, pad 1: odd and even sides, partial tiles */
		{ 2, 11, 13,  5,  17, 3, 2, 1, 1, 1 },
		{ 1, 28, 28, 64, 128, 3, 2, 1, 0, 1 },	/* layer2.0.conv1 at 56 */
		{ 3,  3,  2,  3,  40, 3, 2, 1, 0, 0 },
		{ 1,  1,  1, 64,  17, 3, 2, 1, 1, 1 },
		{ 4, 14, 14, 130, 33, 3, 2, 1, 0, 1 },
	};
	size_t i;
	int nt, got;

	TEST_START("conv_out_size");
	ASSERT_INT_EQ(conv_out_size(224, 7, 2, 3), 112);
	ASSERT_INT_EQ(conv_out_size(7, 3, 2, 1), 4);
	ASSERT_INT_EQ(conv_out_size(9, 1, 2, 0), 5);
	ASSERT_INT_EQ(conv_out_size(1, 3, 1, 1), 1);
	ASSERT_INT_EQ(conv_out_size(2, 7, 1, 0), 0);
	TEST_DONE();

	/*
	 * Once on one thread, once on two (the scratch is per thread).  The
	 * engine's thread count is set through resnet_set_threads(), which
	 * returns the number in effect.
	 */
	for (nt = 1; nt <= 2; nt++) {
		got = resnet_set_threads(nt);
		rng_seed(22);
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			conv_check(&cases[i], got);
	}
	resnet_set_threads(1);
}

/* ==== Other operators =================================================== */

/* ops_nchw_to_nhwc() on one shape, with the engine at nthreads threads. */
static void
nchw_case(int n, int ch, int h, int w, int nthreads)
{
	size_t i, nel;
	int im, c, y, x, bad, got;
	float *in, *out;
	char name[80];

	got = resnet_set_threads(nthreads);
	snprintf(name, sizeof(name), "ops_nchw_to_nhwc %dx%dx%dx%d, "
	    "%d thread(s)", n, ch, h, w, got);
	TEST_START(name);
	nel = (size_t)n * ch * h * w;
	in = test_xmalloc(nel * sizeof(*in));
	out = alloc_guarded(nel);
	fill(in, nel, 1.0f, 0.0f);
	ops_nchw_to_nhwc(in, n, ch, h, w, out);
	bad = 0;
	for (im = 0; im < n; im++)
		for (c = 0; c < ch; c++)
			for (y = 0; y < h; y++)
				for (x = 0; x < w; x++) {
					i = (((size_t)im * h + y) * w + x) *
					    ch + c;
					bad += out[i] != in[(((size_t)im * ch +
					    c) * h + y) * w + x];
				}
	ASSERT_INT_EQ(bad, 0);
	ASSERT_TRUE(guard_ok(out, nel));
	free(in);
	free(out);
	TEST_DONE();
}

static void
test_nchw(void)
{
	/*
	 * Three channels take the vector path: whole rows of 16 pixels,
	 * tails, blocks of rows that end mid-image; on one thread and two.
	 */
	static const int shapes[][4] = {
		{ 2, 3, 7, 9 }, { 1, 64, 5, 4 }, { 3, 1, 1, 1 }, { 1, 3, 32, 33 },
		{ 1, 3, 224, 224 }, { 3, 3, 19, 21 }, { 2, 3, 1, 15 },
		{ 2, 5, 17, 3 },
	};
	size_t s;
	int nt;

	rng_seed(33);
	for (nt = 1; nt <= 2; nt++)
		for (s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++)
			nchw_case(shapes[s][0], shapes[s][1], shapes[s][2],
			    shapes[s][3], nt);
	resnet_set_threads(1);
}

static void
test_maxpool(void)
{
	/* n, h, w, c, k, s, p */
	static const int cases[][7] = {
		{ 2, 7, 9, 5, 3, 2, 1 }, { 1, 8, 8, 64, 3, 2, 1 },
		{ 1, 6, 5, 3, 2, 2, 0 }, { 1, 1, 1, 4, 3, 2, 1 },
		{ 3, 2, 3, 7, 3, 2, 1 }, { 1, 56, 56, 64, 3, 2, 1 },
		{ 2, 5, 5, 3, 3, 1, 1 }, { 2, 9, 7, 48, 3, 2, 1 },
		{ 1, 6, 7, 32, 2, 2, 0 }, { 1, 2, 1, 16, 3, 2, 1 },
	};
	int ci, neg, i, oy, ox, ky, kx, c, bad;

	rng_seed(44);
	for (ci = 0; ci < (int)(sizeof(cases) / sizeof(cases[0])); ci++)
	for (neg = 0; neg <= 1; neg++) {
		const int n = cases[ci][0], h = cases[ci][1], w = cases[ci][2];
		const int ch = cases[ci][3], k = cases[ci][4];
		const int s = cases[ci][5], p = cases[ci][6];
		const int oh = (h + 2 * p - k) / s + 1;
		const int ow = (w + 2 * p - k) / s + 1;
		size_t nx = (size_t)n * h * w * ch, ny = (size_t)n * oh * ow * ch;
		float *x, *y;
		char name[96];

		snprintf(name, sizeof(name), "ops_maxpool %dx%dx%dx%d k%d s%d "
		    "p%d %s", n, h, w, ch, k, s, p, neg ? "all negative" :
		    "mixed");
		TEST_START(name);
		x = test_xmalloc(nx * sizeof(*x));
		y = alloc_guarded(ny);
		/* All negative: a zero from the padding would win if used. */
		fill(x, nx, 1.0f, neg ? -3.0f : 0.0f);
		ops_maxpool(x, n, h, w, ch, k, s, p, y);
		bad = 0;
		for (i = 0; i < n; i++)
		for (oy = 0; oy < oh; oy++)
		for (ox = 0; ox < ow; ox++)
		for (c = 0; c < ch; c++) {
			float m = -INFINITY;

			for (ky = 0; ky < k; ky++)
				for (kx = 0; kx < k; kx++) {
					int iy = oy * s - p + ky;
					int ix = ox * s - p + kx;
					float v;

					if (iy < 0 || iy >= h || ix < 0 ||
					    ix >= w)
						continue;
					v = x[(((size_t)i * h + iy) * w + ix) *
					    ch + c];
					m = v > m ? v : m;
				}
			bad += y[(((size_t)i * oh + oy) * ow + ox) * ch + c] !=
			    m;
		}
		ASSERT_INT_EQ(bad, 0);
		ASSERT_TRUE(guard_ok(y, ny));
		free(x);
		free(y);
		TEST_DONE();
	}
}

static void
test_avgpool(void)
{
	static const int cases[][4] = {
		{ 2, 7, 7, 512 }, { 1, 1, 1, 3 }, { 3, 2, 3, 5 },
		{ 1, 2, 2, 2048 }, { 2, 13, 11, 64 },
	};
	int ci, i, p, c;

	rng_seed(55);
	for (ci = 0; ci < (int)(sizeof(cases) / sizeof(cases[0])); ci++) {
		const int n = cases[ci][0], h = cases[ci][1], w = cases[ci][2];
		const int ch = cases[ci][3];
		size_t nx = (size_t)n * h * w * ch, ny = (size_t)n * ch;
		float *x, *y, *ref;
		char name[64];

		snprintf(name, sizeof(name), "ops_global_avgpool %dx%dx%dx%d",
		    n, h, w, ch);
		TEST_START(name);
		x = test_xmalloc(nx * sizeof(*x));
		y = alloc_guarded(ny);
		ref = test_xmalloc(ny * sizeof(*ref));
		fill(x, nx, 2.0f, 1.0f);
		for (i = 0; i < n; i++)
			for (c = 0; c < ch; c++) {
				double sum = 0.0;

				for (p = 0; p < h * w; p++)
					sum += x[((size_t)i * h * w + p) * ch +
					    c];
				ref[(size_t)i * ch + c] = (float)(sum /
				    (h * w));
			}
		ops_global_avgpool(x, n, h, w, ch, y);
		ASSERT_DBL_LE(max_diff(y, ref, ny), 1e-5 * max_abs(ref, ny));
		ASSERT_TRUE(guard_ok(y, ny));
		free(x);
		free(y);
		free(ref);
		TEST_DONE();
	}
}

static void
test_linear(void)
{
	/* n, in, out */
	static const int cases[][3] = {
		{ 3, 512, 10 }, { 1, 7, 13 }, { 1, 2048, 1000 }, { 5, 1, 1 },
		{ 8, 512, 1 },
	};
	int ci, i, o, k;

	rng_seed(77);
	for (ci = 0; ci < (int)(sizeof(cases) / sizeof(cases[0])); ci++) {
		const int n = cases[ci][0], in = cases[ci][1];
		const int out = cases[ci][2];
		size_t ny = (size_t)n * out;
		float *x, *wt, *b, *y, *ref;
		char name[64];

		snprintf(name, sizeof(name), "ops_linear %dx%d -> %d", n, in,
		    out);
		TEST_START(name);
		x = test_xmalloc((size_t)n * in * sizeof(*x));
		wt = test_xmalloc((size_t)in * out * sizeof(*wt));
		b = test_xmalloc((size_t)out * sizeof(*b));
		y = alloc_guarded(ny);
		ref = test_xmalloc(ny * sizeof(*ref));
		fill(x, (size_t)n * in, 1.0f, 0.0f);
		fill(wt, (size_t)in * out, 1.0f, 0.0f);
		fill(b, (size_t)out, 3.0f, 0.0f);
		for (i = 0; i < n; i++)
			for (o = 0; o < out; o++) {
				double acc = b[o];

				for (k = 0; k < in; k++)
					acc += (double)x[(size_t)i * in + k] *
					    wt[(size_t)k * out + o];
				ref[(size_t)i * out + o] = (float)acc;
			}
		ops_linear(x, n, in, wt, b, out, y);
		ASSERT_DBL_LE(max_diff(y, ref, ny), 1e-5 * max_abs(ref, ny) +
		    1e-6);
		ASSERT_TRUE(guard_ok(y, ny));
		free(x);
		free(wt);
		free(b);
		free(y);
		free(ref);
		TEST_DONE();
	}
}

/* ==== ResNet parameters ================================================= */

struct plist {
	struct resnet_param	p[400];
	size_t			n;
};

static void
pl_add(struct plist *pl, const char *name, enum resnet_param_kind kind,
    int ndim, int64_t d0, int64_t d1, int64_t d2, int64_t d3)
{
	struct resnet_param *rp = &pl->p[pl->n++];
	size_t len = strlen(name);

	if (len >= sizeof(rp->rp_name)) {
		fprintf(stderr, "name too long: %s\n", name);
		exit(99);
	}
	memset(rp, 0, sizeof(*rp));
	memcpy(rp->rp_name, name, len + 1);
	rp->rp_kind = kind;
	rp->rp_ndim = ndim;
	rp->rp_shape[0] = d0;
	rp->rp_shape[1] = d1;
	rp->rp_shape[2] = d2;
	rp->rp_shape[3] = d3;
}

/* A conv and the BatchNorm after it, as torchvision's state_dict has them. */
static void
pl_convbn(struct plist *pl, const char *prefix, const char *conv,
    const char *bn, int cout, int cin, int k)
{
	static const char *const sfx[] = { "weight", "bias", "running_mean",
	    "running_var" };
	char name[96];
	int i;

	snprintf(name, sizeof(name), "%s%s.weight", prefix, conv);
	pl_add(pl, name, RESNET_PARAM_FLOAT, 4, cout, cin, k, k);
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "%s%s.%s", prefix, bn, sfx[i]);
		pl_add(pl, name, RESNET_PARAM_FLOAT, 1, cout, 0, 0, 0);
	}
	snprintf(name, sizeof(name), "%s%s.num_batches_tracked", prefix, bn);
	pl_add(pl, name, RESNET_PARAM_COUNTER, 0, 0, 0, 0, 0);
}

/*
 * The state_dict of torchvision.models.resnetXX(num_classes=classes),
 * written out from the torchvision model definition: BasicBlock (conv1,
 * conv2) or Bottleneck (conv1 1x1, conv2 3x3, conv3 1x1, expansion 4),
 * with downsample.0/.1 when the block changes shape.
 */
static void
expected_params(int bottleneck, const int blocks[4], int classes,
    struct plist *pl)
{
	int st, i, inpl = 64, planes, out, exp = bottleneck ? 4 : 1;
	char pre[32];

	pl->n = 0;
	pl_convbn(pl, "", "conv1", "bn1", 64, 3, 7);
	for (st = 0; st < 4; st++) {
		planes = 64 << st;
		out = planes * exp;
		for (i = 0; i < blocks[st]; i++) {
			snprintf(pre, sizeof(pre), "layer%d.%d.", st + 1, i);
			if (bottleneck) {
				pl_convbn(pl, pre, "conv1", "bn1", planes,
				    inpl, 1);
				pl_convbn(pl, pre, "conv2", "bn2", planes,
				    planes, 3);
				pl_convbn(pl, pre, "conv3", "bn3", out, planes,
				    1);
			} else {
				pl_convbn(pl, pre, "conv1", "bn1", planes,
				    inpl, 3);
				pl_convbn(pl, pre, "conv2", "bn2", planes,
				    planes, 3);
			}
			if (i == 0 && (st > 0 || inpl != out))
				pl_convbn(pl, pre, "downsample.0",
				    "downsample.1", out, inpl, 1);
			inpl = out;
		}
	}
	pl_add(pl, "fc.weight", RESNET_PARAM_FLOAT, 2, classes, inpl, 0, 0);
	pl_add(pl, "fc.bias", RESNET_PARAM_FLOAT, 1, classes, 0, 0, 0);
}

static const struct resnet_param *
find_param(const struct resnet_param *rp, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(rp[i].rp_name, name) == 0)
			return &rp[i];
	return NULL;
}

/* 1 when name exists with exactly this shape (ndim entries). */
static int
has_shape(const struct resnet_param *rp, size_t n, const char *name,
    int ndim, int64_t d0, int64_t d1, int64_t d2, int64_t d3)
{
	const struct resnet_param *p = find_param(rp, n, name);
	const int64_t d[4] = { d0, d1, d2, d3 };
	int i;

	if (p == NULL || p->rp_ndim != ndim)
		return 0;
	for (i = 0; i < ndim; i++)
		if (p->rp_shape[i] != d[i])
			return 0;
	return 1;
}

static void
params_check(const char *archname, int bottleneck, const int blocks[4],
    int classes, size_t nfloat, size_t ncounter)
{
	const struct resnet_arch *arch = resnet_arch_find(archname);
	struct resnet_param *rp = NULL;
	struct plist *want = test_xmalloc(sizeof(*want));
	size_t n = 0, i, nf = 0, nc = 0, bad = 0;
	char name[64];
	int d;

	snprintf(name, sizeof(name), "resnet_params %s (%d classes)",
	    archname, classes);
	TEST_START(name);
	ASSERT_PTR_NE(arch, NULL);
	if (arch == NULL)
		goto out;
	ASSERT_STRING_EQ(arch->ra_name, archname);
	ASSERT_INT_EQ(arch->ra_block, bottleneck ? RESNET_BOTTLENECK :
	    RESNET_BASIC);
	ASSERT_INT_EQ(resnet_params(arch, classes, &rp, &n), 0);
	ASSERT_PTR_NE(rp, NULL);
	for (i = 0; i < n; i++) {
		if (rp[i].rp_kind == RESNET_PARAM_FLOAT)
			nf++;
		else if (rp[i].rp_kind == RESNET_PARAM_COUNTER)
			nc++;
	}
	ASSERT_INT_EQ(nf, nfloat);
	ASSERT_INT_EQ(nc, ncounter);
	ASSERT_INT_EQ(n, nfloat + ncounter);

	/* The whole list, in order, against the torchvision definition. */
	expected_params(bottleneck, blocks, classes, want);
	ASSERT_INT_EQ(n, want->n);
	for (i = 0; i < n && i < want->n; i++) {
		const struct resnet_param *a = &rp[i], *b = &want->p[i];

		if (strcmp(a->rp_name, b->rp_name) != 0 ||
		    a->rp_kind != b->rp_kind || a->rp_ndim != b->rp_ndim) {
			fprintf(stderr, "param %zu: got %s kind %d ndim %d, "
			    "want %s kind %d ndim %d\n", i, a->rp_name,
			    a->rp_kind, a->rp_ndim, b->rp_name, b->rp_kind,
			    b->rp_ndim);
			bad++;
			continue;
		}
		for (d = 0; d < a->rp_ndim; d++)
			if (a->rp_shape[d] != b->rp_shape[d]) {
				fprintf(stderr, "param %s: dim %d is %" PRId64
				    ", want %" PRId64 "\n", a->rp_name, d,
				    a->rp_shape[d], b->rp_shape[d]);
				bad++;
			}
	}
	ASSERT_INT_EQ(bad, 0);
	/* Names are unique. */
	for (i = 0, bad = 0; i < n; i++)
		if (find_param(rp, n, rp[i].rp_name) != &rp[i])
			bad++;
	ASSERT_INT_EQ(bad, 0);
	if (n >= 2) {
		ASSERT_STRING_EQ(rp[0].rp_name, "conv1.weight");
		ASSERT_STRING_EQ(rp[n - 2].rp_name, "fc.weight");
		ASSERT_STRING_EQ(rp[n - 1].rp_name, "fc.bias");
	}
 out:
	free(rp);
	free(want);
	TEST_DONE();
}

static void
test_params(void)
{
	static const int b18[4] = { 2, 2, 2, 2 }, b34[4] = { 3, 4, 6, 3 };
	struct resnet_param *rp = NULL;
	size_t n = 0;

	TEST_START("resnet_arch_find");
	ASSERT_PTR_NE(resnet_arch_find("resnet18"), NULL);
	ASSERT_PTR_NE(resnet_arch_find("resnet34"), NULL);
	ASSERT_PTR_NE(resnet_arch_find("resnet50"), NULL);
	ASSERT_PTR_EQ(resnet_arch_find("resnet19"), NULL);
	ASSERT_PTR_EQ(resnet_arch_find("ResNet18"), NULL);
	ASSERT_PTR_EQ(resnet_arch_find(""), NULL);
	ASSERT_PTR_EQ(resnet_arch_find(NULL), NULL);
	ASSERT_STRING_CONTAINS(resnet_arch_names(), "resnet18");
	ASSERT_STRING_CONTAINS(resnet_arch_names(), "resnet50");
	TEST_DONE();

	/* torchvision: 20 convs (+BN) in resnet18, 36 in 34, 53 in 50. */
	params_check("resnet18", 0, b18, 10, 20 * 5 + 2, 20);
	params_check("resnet18", 0, b18, 1000, 20 * 5 + 2, 20);
	params_check("resnet34", 0, b34, 10, 36 * 5 + 2, 36);
	params_check("resnet50", 1, b34, 10, 53 * 5 + 2, 53);

	TEST_START("resnet_params resnet18: named tensors");
	ASSERT_INT_EQ(resnet_params(resnet_arch_find("resnet18"), 10, &rp,
	    &n), 0);
	ASSERT_TRUE(has_shape(rp, n, "conv1.weight", 4, 64, 3, 7, 7));
	ASSERT_TRUE(has_shape(rp, n, "bn1.running_var", 1, 64, 0, 0, 0));
	ASSERT_TRUE(has_shape(rp, n, "layer1.0.conv1.weight", 4, 64, 64, 3,
	    3));
	ASSERT_TRUE(has_shape(rp, n, "layer2.0.conv1.weight", 4, 128, 64, 3,
	    3));
	ASSERT_TRUE(has_shape(rp, n, "layer2.0.downsample.0.weight", 4, 128,
	    64, 1, 1));
	ASSERT_TRUE(has_shape(rp, n, "layer2.0.downsample.1.running_var", 1,
	    128, 0, 0, 0));
	ASSERT_TRUE(has_shape(rp, n, "layer4.1.bn2.running_var", 1, 512, 0,
	    0, 0));
	ASSERT_TRUE(has_shape(rp, n, "fc.weight", 2, 10, 512, 0, 0));
	ASSERT_TRUE(has_shape(rp, n, "fc.bias", 1, 10, 0, 0, 0));
	ASSERT_TRUE(has_shape(rp, n, "layer3.1.bn1.num_batches_tracked", 0,
	    0, 0, 0, 0));
	ASSERT_PTR_EQ(find_param(rp, n, "layer1.0.downsample.0.weight"),
	    NULL);
	ASSERT_PTR_EQ(find_param(rp, n, "layer2.1.downsample.0.weight"),
	    NULL);
	ASSERT_PTR_EQ(find_param(rp, n, "layer1.2.conv1.weight"), NULL);
	free(rp);
	rp = NULL;
	TEST_DONE();

	TEST_START("resnet_params resnet34: 3, 4, 6, 3 blocks");
	ASSERT_INT_EQ(resnet_params(resnet_arch_find("resnet34"), 10, &rp,
	    &n), 0);
	ASSERT_TRUE(has_shape(rp, n, "layer3.5.conv2.weight", 4, 256, 256, 3,
	    3));
	ASSERT_PTR_EQ(find_param(rp, n, "layer3.6.conv1.weight"), NULL);
	ASSERT_PTR_NE(find_param(rp, n, "layer4.2.bn2.bias"), NULL);
	ASSERT_PTR_EQ(find_param(rp, n, "layer4.3.conv1.weight"), NULL);
	ASSERT_TRUE(has_shape(rp, n, "fc.weight", 2, 10, 512, 0, 0));
	free(rp);
	rp = NULL;
	TEST_DONE();

	TEST_START("resnet_params resnet50: bottlenecks");
	ASSERT_INT_EQ(resnet_params(resnet_arch_find("resnet50"), 10, &rp,
	    &n), 0);
	ASSERT_TRUE(has_shape(rp, n, "fc.weight", 2, 10, 2048, 0, 0));
	ASSERT_TRUE(has_shape(rp, n, "layer1.0.conv3.weight", 4, 256, 64, 1,
	    1));
	ASSERT_TRUE(has_shape(rp, n, "layer1.0.downsample.0.weight", 4, 256,
	    64, 1, 1));
	ASSERT_TRUE(has_shape(rp, n, "layer2.0.conv2.weight", 4, 128, 128, 3,
	    3));
	ASSERT_TRUE(has_shape(rp, n, "layer4.2.bn3.running_mean", 1, 2048, 0,
	    0, 0));
	ASSERT_PTR_EQ(find_param(rp, n, "layer1.1.downsample.0.weight"),
	    NULL);
	free(rp);
	rp = NULL;
	TEST_DONE();

	TEST_START("resnet_params refuses bad arguments");
	ASSERT_INT_EQ(resnet_params(NULL, 10, &rp, &n), AG_ERR_INVALID_ARG);
	ASSERT_PTR_EQ(rp, NULL);
	ASSERT_INT_EQ(resnet_params(resnet_arch_find("resnet18"), 0, &rp,
	    &n), AG_ERR_INVALID_ARG);
	ASSERT_INT_EQ(resnet_params(resnet_arch_find("resnet18"), -5, &rp,
	    &n), AG_ERR_INVALID_ARG);
	ASSERT_INT_EQ(resnet_params(resnet_arch_find("resnet18"),
	    RESNET_MAX_CLASSES + 1, &rp, &n), AG_ERR_INVALID_ARG);
	ASSERT_PTR_EQ(rp, NULL);
	TEST_DONE();
}

/* ==== ResNet build and forward ========================================== */

/*
 * A deterministic fetch callback: each tensor's values come from a
 * generator seeded by its name, so they do not depend on the order of the
 * calls.  Convolutions are He-scaled, BatchNorms near identity with the
 * last BN of each residual branch damped, so activations stay in range.
 * One tensor can be poisoned (element count / 2 set to bad_value) or made
 * to fail.
 */
struct fake {
	struct resnet_param	*fk_params;
	size_t			 fk_n;
	const char		*fk_bad;	/* tensor to poison, or NULL */
	float			 fk_badval;
	const char		*fk_fail;	/* tensor to fail, or NULL */
	size_t			 fk_calls;
	int			 fk_wrong;	/* calls with a bad name/count */
};

static uint64_t
name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int
fake_fetch(void *ctx, const char *name, float *dst, size_t count, char *err,
    size_t errlen)
{
	struct fake *fk = ctx;
	const struct resnet_param *p = NULL;
	const char *sfx;
	size_t i, want = 1;
	double scale = 0.0, off = 0.0;
	int d;

	/* resnet_new() fetches from all the engine threads at once */
	__atomic_fetch_add(&fk->fk_calls, 1, __ATOMIC_RELAXED);
	for (i = 0; i < fk->fk_n; i++)
		if (strcmp(fk->fk_params[i].rp_name, name) == 0)
			p = &fk->fk_params[i];
	if (p == NULL || p->rp_kind != RESNET_PARAM_FLOAT) {
		__atomic_fetch_add(&fk->fk_wrong, 1, __ATOMIC_RELAXED);
		return ag_errf(err, errlen, AG_ERR_MISSING, "fake: no float "
		    "tensor %s", name);
	}
	for (d = 0; d < p->rp_ndim; d++)
		want *= (size_t)p->rp_shape[d];
	if (count != want) {
		__atomic_fetch_add(&fk->fk_wrong, 1, __ATOMIC_RELAXED);
		return ag_errf(err, errlen, AG_ERR_SHAPE, "fake: %s has %zu "
		    "elements, asked for %zu", name, want, count);
	}
	if (fk->fk_fail != NULL && strcmp(name, fk->fk_fail) == 0)
		return ag_errf(err, errlen, AG_ERR_MISSING, "fake: %s is "
		    "missing", name);
	sfx = strrchr(name, '.') + 1;
	if (p->rp_ndim == 4)
		scale = sqrt(6.0 / (double)(p->rp_shape[1] * p->rp_shape[2] *
		    p->rp_shape[3]));
	else if (strcmp(name, "fc.weight") == 0)
		scale = sqrt(3.0 / (double)p->rp_shape[1]);
	else if (strcmp(sfx, "weight") == 0) {
		/* gamma: damp the BN that closes a residual branch */
		off = 1.0;
		scale = 0.2;
		if (strncmp(name, "layer", 5) == 0 &&
		    (strstr(name, ".bn2.") != NULL ||
		    strstr(name, ".bn3.") != NULL)) {
			off = 0.35;
			scale = 0.1;
		}
	} else if (strcmp(sfx, "running_var") == 0) {
		off = 1.0;
		scale = 0.5;
	} else
		scale = 0.1;	/* bias, running_mean, fc.bias */
	rng_seed(name_hash(name));
	for (i = 0; i < count; i++)
		dst[i] = (float)(off + scale * rng_f());
	if (fk->fk_bad != NULL && strcmp(name, fk->fk_bad) == 0)
		dst[count / 2] = fk->fk_badval;
	return 0;
}

static void
fake_init(struct fake *fk, const struct resnet_arch *arch, int classes)
{
	memset(fk, 0, sizeof(*fk));
	if (resnet_params(arch, classes, &fk->fk_params, &fk->fk_n) != 0) {
		fprintf(stderr, "resnet_params failed\n");
		exit(99);
	}
}

/* ---- /proc/self/maps -------------------------------------------------- */

struct mapping {
	uintptr_t	 lo, hi;
	char		 perms[5];
};

#define MAX_MAPS	65536

/* Reads the process's mappings; returns their number. */
static size_t
maps_read(struct mapping *m, size_t max, int *wx)
{
	FILE *fp = fopen("/proc/self/maps", "r");
	char line[1024];
	unsigned long lo, hi;
	char perms[5];
	size_t n = 0;

	*wx = 0;
	if (fp == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) != 3)
			continue;
		if (perms[1] == 'w' && perms[2] == 'x') {
			fprintf(stderr, "W+X mapping: %s", line);
			(*wx)++;
		}
		if (n < max) {
			m[n].lo = lo;
			m[n].hi = hi;
			memcpy(m[n].perms, perms, sizeof(perms));
			n++;
		}
	}
	fclose(fp);
	return n;
}

/* Bytes of the 4-D (conv) weights: a lower bound of the weight memory. */
static size_t
conv_weight_bytes(const struct fake *fk)
{
	size_t i, t = 0;

	for (i = 0; i < fk->fk_n; i++)
		if (fk->fk_params[i].rp_ndim == 4)
			t += (size_t)(fk->fk_params[i].rp_shape[0] *
			    fk->fk_params[i].rp_shape[1] *
			    fk->fk_params[i].rp_shape[2] *
			    fk->fk_params[i].rp_shape[3]) * sizeof(float);
	return t;
}

/*
 * A read-only mapping of at least min bytes present in after[] but not in
 * before[]: where the sealed weights live.  Returns its start, or 0.
 */
static uintptr_t
maps_new_readonly(const struct mapping *before, size_t nb,
    const struct mapping *after, size_t na, size_t min)
{
	size_t i, j;

	for (i = 0; i < na; i++) {
		if (after[i].perms[0] != 'r' || after[i].perms[1] != '-' ||
		    after[i].perms[2] != '-' ||
		    after[i].hi - after[i].lo < min)
			continue;
		for (j = 0; j < nb; j++)
			if (before[j].lo == after[i].lo &&
			    before[j].hi == after[i].hi &&
			    strcmp(before[j].perms, after[i].perms) == 0)
				break;
		if (j == nb)
			return after[i].lo;
	}
	return 0;
}

/* 1 when the kernel refuses to store into addr (read(2) gets EFAULT). */
static int
store_refused(uintptr_t addr)
{
	int fd[2], refused;
	char c = 'x';
	ssize_t n;

	if (pipe(fd) != 0)
		return 0;
	if (write(fd[1], &c, 1) != 1) {
		close(fd[0]);
		close(fd[1]);
		return 0;
	}
	n = read(fd[0], (void *)addr, 1);
	refused = n == -1 && errno == EFAULT;
	close(fd[0]);
	close(fd[1]);
	return refused;
}

/* ---- the tests ------------------------------------------------------- */

static void
refuse_case(const char *what, const char *bad, float val, const char *fail,
    int want_r)
{
	const struct resnet_arch *arch = resnet_arch_find("resnet18");
	struct resnet *net = (struct resnet *)&net;
	struct fake fk;
	char err[ERRLEN];

	TEST_START(what);
	fake_init(&fk, arch, 10);
	fk.fk_bad = bad;
	fk.fk_badval = val;
	fk.fk_fail = fail;
	err[0] = '\0';
	ASSERT_INT_EQ(resnet_new(arch, 10, fake_fetch, &fk, &net, err,
	    sizeof(err)), want_r);
	ASSERT_PTR_EQ(net, NULL);
	ASSERT_STRING_CONTAINS(err, bad != NULL ? bad : fail);
	ASSERT_INT_EQ(fk.fk_wrong, 0);
	resnet_free(net);
	free(fk.fk_params);
	TEST_DONE();
}

static void
test_resnet_refusals(void)
{
	const struct resnet_arch *arch = resnet_arch_find("resnet18");
	struct resnet *net = (struct resnet *)&net;
	struct fake fk;
	char err[ERRLEN];

	refuse_case("resnet_new refuses running_var -1",
	    "layer2.1.bn1.running_var", -1.0f, NULL, AG_ERR_NUMERIC);
	refuse_case("resnet_new refuses running_var -2e-5 (var + eps < 0)",
	    "bn1.running_var", (float)-RESNET_BN_EPS * 2, NULL,
	    AG_ERR_NUMERIC);
	refuse_case("resnet_new refuses NaN in a conv weight",
	    "layer3.0.conv2.weight", NAN, NULL, AG_ERR_NUMERIC);
	refuse_case("resnet_new refuses +inf in a BN bias",
	    "layer4.0.downsample.1.bias", INFINITY, NULL, AG_ERR_NUMERIC);
	refuse_case("resnet_new refuses -inf in fc.bias", "fc.bias",
	    -INFINITY, NULL, AG_ERR_NUMERIC);
	refuse_case("resnet_new refuses NaN in fc.weight", "fc.weight", NAN,
	    NULL, AG_ERR_NUMERIC);
	refuse_case("resnet_new refuses NaN running_mean",
	    "layer1.1.bn2.running_mean", NAN, NULL, AG_ERR_NUMERIC);
	refuse_case("resnet_new passes a fetch error through", NULL, 0.0f,
	    "layer3.1.bn1.bias", AG_ERR_MISSING);

	TEST_START("resnet_new accepts running_var 0 (eps keeps it > 0)");
	fake_init(&fk, arch, 10);
	fk.fk_bad = "layer1.0.bn1.running_var";
	fk.fk_badval = 0.0f;
	ASSERT_INT_EQ(resnet_new(arch, 10, fake_fetch, &fk, &net, err,
	    sizeof(err)), 0);
	ASSERT_PTR_NE(net, NULL);
	resnet_free(net);
	free(fk.fk_params);
	TEST_DONE();

	TEST_START("resnet_new refuses bad arguments");
	fake_init(&fk, arch, 10);
	net = (struct resnet *)&net;
	ASSERT_INT_EQ(resnet_new(NULL, 10, fake_fetch, &fk, &net, err,
	    sizeof(err)), AG_ERR_INVALID_ARG);
	ASSERT_PTR_EQ(net, NULL);
	ASSERT_INT_EQ(resnet_new(arch, 0, fake_fetch, &fk, &net, err,
	    sizeof(err)), AG_ERR_INVALID_ARG);
	ASSERT_INT_EQ(resnet_new(arch, RESNET_MAX_CLASSES + 1, fake_fetch,
	    &fk, &net, err, sizeof(err)), AG_ERR_INVALID_ARG);
	ASSERT_INT_EQ(resnet_new(arch, 10, NULL, &fk, &net, err,
	    sizeof(err)), AG_ERR_INVALID_ARG);
	ASSERT_PTR_EQ(net, NULL);
	ASSERT_INT_EQ(fk.fk_calls, 0);
	resnet_free(NULL);
	free(fk.fk_params);
	TEST_DONE();
}

/* Deterministic image-like input (n, 3, h, w). */
static void
make_input(float *x, int n, int h, int w, uint64_t seed)
{
	int i, c, y, xx;
	double fx, fy, ph;

	rng_seed(seed);
	for (i = 0; i < n; i++)
		for (c = 0; c < 3; c++) {
			fx = 1.0 + 3.0 * (rng_f() + 1.0);
			fy = 1.0 + 3.0 * (rng_f() + 1.0);
			ph = 3.0 * rng_f();
			for (y = 0; y < h; y++)
				for (xx = 0; xx < w; xx++)
					x[(((size_t)i * 3 + c) * h + y) * w +
					    xx] = (float)(sin(ph + fx * xx / w *
					    6.28 + fy * y / h * 6.28) + 0.3 *
					    rng_f());
		}
}

static void
test_resnet_forward(void)
{
	const struct resnet_arch *arch = resnet_arch_find("resnet18");
	static struct mapping before[MAX_MAPS], after[MAX_MAPS];
	struct resnet *net = NULL;
	struct resnet_ws *ws = NULL, *ws2 = (struct resnet_ws *)&ws2;
	struct fake fk;
	char err[ERRLEN];
	float *x, *y3, *y1, *yy;
	size_t nb, na, i;
	uintptr_t wmem = 0;
	double mx, var, mean;
	int wx, r, j, k;

	fake_init(&fk, arch, 10);
	nb = maps_read(before, MAX_MAPS, &wx);

	TEST_START("resnet_new resnet18 with a synthetic fetch");
	r = resnet_new(arch, 10, fake_fetch, &fk, &net, err, sizeof(err));
	ASSERT_INT_EQ(r, 0);
	if (r != 0) {
		fprintf(stderr, "resnet_new: %s\n", err);
		TEST_DONE();
		free(fk.fk_params);
		return;
	}
	/* Every float parameter fetched once, no counter asked for. */
	ASSERT_INT_EQ(fk.fk_calls, 102);
	ASSERT_INT_EQ(fk.fk_wrong, 0);
	ASSERT_INT_EQ(resnet_num_classes(net), 10);
	ASSERT_PTR_EQ(resnet_get_arch(net), arch);
	TEST_DONE();

	TEST_START("weights are sealed read-only, no W+X mapping");
	na = maps_read(after, MAX_MAPS, &wx);
	ASSERT_INT_GT(na, 0);
	ASSERT_INT_EQ(wx, 0);
	wmem = maps_new_readonly(before, nb, after, na,
	    conv_weight_bytes(&fk));
	ASSERT_TRUE(wmem != 0);
	if (wmem != 0)
		ASSERT_TRUE(store_refused(wmem));
	TEST_DONE();

	TEST_START("resnet_ws_new refuses bad sizes and batches");
	ASSERT_INT_LT(resnet_ws_new(net, 1, 31, 64, &ws2, err, sizeof(err)),
	    0);
	ASSERT_PTR_EQ(ws2, NULL);
	ASSERT_INT_LT(resnet_ws_new(net, 1, 64, 31, &ws2, err, sizeof(err)),
	    0);
	ASSERT_INT_LT(resnet_ws_new(net, 1, 0, 0, &ws2, err, sizeof(err)), 0);
	ASSERT_INT_LT(resnet_ws_new(net, 1, -32, 64, &ws2, err, sizeof(err)),
	    0);
	ASSERT_INT_LT(resnet_ws_new(net, 1, RESNET_MAX_SIDE + 1, 64, &ws2,
	    err, sizeof(err)), 0);
	ASSERT_INT_LT(resnet_ws_new(net, 0, 64, 64, &ws2, err, sizeof(err)),
	    0);
	ASSERT_INT_LT(resnet_ws_new(net, -1, 64, 64, &ws2, err, sizeof(err)),
	    0);
	ASSERT_INT_LT(resnet_ws_new(net, RESNET_MAX_BATCH + 1, 64, 64, &ws2,
	    err, sizeof(err)), 0);
	ASSERT_PTR_EQ(ws2, NULL);
	ASSERT_TRUE(err[0] != '\0');
	ASSERT_INT_EQ(resnet_ws_new(net, 1, RESNET_MIN_SIDE, RESNET_MIN_SIDE,
	    &ws2, err, sizeof(err)), 0);
	ASSERT_PTR_NE(ws2, NULL);
	TEST_DONE();

	x = test_xmalloc((size_t)3 * 3 * 45 * 45 * sizeof(*x));
	y3 = alloc_guarded(3 * 10);
	y1 = alloc_guarded(10);
	yy = alloc_guarded(3 * 10);

	TEST_START("forward at 32x32: finite, non-constant logits");
	make_input(x, 1, 32, 32, 5);
	ASSERT_INT_EQ(resnet_forward(net, ws2, x, 1, y1), 0);
	ASSERT_TRUE(all_finite(y1, 10));
	ASSERT_TRUE(guard_ok(y1, 10));
	for (j = 0, mean = 0.0; j < 10; j++)
		mean += y1[j] / 10.0;
	for (j = 0, var = 0.0; j < 10; j++)
		var += (y1[j] - mean) * (y1[j] - mean);
	ASSERT_DBL_GE(var, 1e-8);
	TEST_DONE();

	TEST_START("resnet_forward refuses n out of range");
	ASSERT_INT_EQ(resnet_forward(net, ws2, x, 2, y3), AG_ERR_INVALID_ARG);
	ASSERT_INT_EQ(resnet_forward(net, ws2, x, 0, y3), AG_ERR_INVALID_ARG);
	ASSERT_INT_EQ(resnet_forward(net, ws2, x, -1, y3),
	    AG_ERR_INVALID_ARG);
	TEST_DONE();
	resnet_ws_free(ws2);

	TEST_START("forward at 37x45 (odd sizes): finite logits");
	ASSERT_INT_EQ(resnet_ws_new(net, 3, 37, 45, &ws, err, sizeof(err)),
	    0);
	ASSERT_PTR_NE(ws, NULL);
	if (ws == NULL) {
		TEST_DONE();
		goto out;
	}
	ASSERT_INT_GT(resnet_ws_bytes(ws), 0);
	make_input(x, 3, 37, 45, 6);
	ASSERT_INT_EQ(resnet_forward(net, ws, x, 3, y3), 0);
	ASSERT_TRUE(all_finite(y3, 30));
	ASSERT_TRUE(guard_ok(y3, 30));
	/* Different images, different logits. */
	ASSERT_DBL_GE(max_diff(y3, y3 + 10, 10), 1e-6);
	ASSERT_INT_EQ(resnet_forward(net, ws, x, 4, y3), AG_ERR_INVALID_ARG);
	TEST_DONE();

	TEST_START("batch of 3 equals three batches of 1");
	mx = max_abs(y3, 30);
	for (k = 0; k < 3; k++) {
		ASSERT_INT_EQ(resnet_forward(net, ws, x + (size_t)k * 3 * 37 *
		    45, 1, y1), 0);
		ASSERT_DBL_LE(max_diff(y1, y3 + k * 10, 10), 1e-5 * mx);
	}
	ASSERT_TRUE(guard_ok(y1, 10));
	TEST_DONE();

	TEST_START("forward is repeatable and keeps its input");
	memcpy(yy, y3, 30 * sizeof(*yy));
	{
		float *x0 = test_xmalloc((size_t)3 * 3 * 37 * 45 * sizeof(*x0));

		memcpy(x0, x, (size_t)3 * 3 * 37 * 45 * sizeof(*x0));
		ASSERT_INT_EQ(resnet_forward(net, ws, x, 3, y3), 0);
		ASSERT_MEM_EQ(x0, x, (size_t)3 * 3 * 37 * 45 * sizeof(*x0));
		free(x0);
	}
	ASSERT_MEM_EQ(yy, y3, 30 * sizeof(*yy));
	TEST_DONE();

	TEST_START("two threads give the logits of one");
	ASSERT_INT_GE(resnet_set_threads(2), 1);
	ASSERT_INT_EQ(resnet_ws_new(net, 3, 37, 45, &ws2, err, sizeof(err)),
	    0);
	if (ws2 != NULL) {
		ASSERT_INT_EQ(resnet_forward(net, ws2, x, 3, yy), 0);
		ASSERT_DBL_LE(max_diff(yy, y3, 30), 1e-5 * mx);
		resnet_ws_free(ws2);
	}
	resnet_set_threads(1);
	TEST_DONE();

	TEST_START("still no W+X mapping after forward passes");
	na = maps_read(after, MAX_MAPS, &wx);
	ASSERT_INT_EQ(wx, 0);
	TEST_DONE();

	resnet_ws_free(ws);
 out:
	resnet_free(net);
	TEST_START("resnet_free unmaps the weights");
	na = maps_read(after, MAX_MAPS, &wx);
	for (i = 0, j = 0; i < na; i++)
		j += wmem != 0 && after[i].lo == wmem &&
		    strcmp(after[i].perms, "r--p") == 0;
	ASSERT_INT_EQ(j, 0);
	TEST_DONE();
	free(x);
	free(y3);
	free(y1);
	free(yy);
	free(fk.fk_params);
}

void
tests(void)
{
	test_plan(1064);
	test_gemm();
	test_conv();
	test_nchw();
	test_maxpool();
	test_avgpool();
	test_linear();
	test_params();
	test_resnet_refusals();
	test_resnet_forward();
}
