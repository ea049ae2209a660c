/* SPDX-License-Identifier: ISC */
/*
 * resnet.c: the ResNet graph, BatchNorm folding and the forward pass.
 * See resnet.h.
 */
#include <sys/mman.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ag_err.h"
#include "common/util.h"
#include "conv.h"
#include "gemm.h"
#include "ops.h"
#include "pool.h"
#include "resnet.h"
#include "winograd.h"

/* ==== The architectures: data, not code ==== */

static const struct resnet_arch resnet_archs[] = {
	{ "resnet18",  RESNET_BASIC,      { 2, 2, 2, 2 } },
	{ "resnet34",  RESNET_BASIC,      { 3, 4, 6, 3 } },
	{ "resnet50",  RESNET_BOTTLENECK, { 3, 4, 6, 3 } },
	{ "resnet101", RESNET_BOTTLENECK, { 3, 4, 23, 3 } },
	{ "resnet152", RESNET_BOTTLENECK, { 3, 8, 36, 3 } },
};

#define RN_NARCHS	(sizeof(resnet_archs) / sizeof(resnet_archs[0]))
#define RN_MAX_BLOCKS	64
#define RN_MAX_CONVS	(1 + RN_MAX_BLOCKS * 4)
#define RN_NAME		48

const struct resnet_arch *
resnet_arch_find(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < RN_NARCHS; i++)
		if (strcmp(resnet_archs[i].ra_name, name) == 0)
			return &resnet_archs[i];
	return NULL;
}

const char *
resnet_arch_names(void)
{
	return "resnet18, resnet34, resnet50, resnet101, resnet152";
}

/* ==== The plan: every conv with its names and shape ==== */

struct rn_convspec {
	char	cs_conv[RN_NAME];	/* "layer1.0.conv1" */
	char	cs_bn[RN_NAME];		/* "layer1.0.bn1" */
	int	cs_cin, cs_cout, cs_k, cs_stride, cs_pad;
};

struct rn_blockspec {
	int	bs_first;	/* index of the block's first conv */
	int	bs_nconv;	/* 2 (basic) or 3 (bottleneck) */
	int	bs_ds;		/* index of the downsample conv, or -1 */
};

struct rn_plan {
	int			pl_nconv, pl_nblocks, pl_feat;
	struct rn_convspec	pl_conv[RN_MAX_CONVS];
	struct rn_blockspec	pl_block[RN_MAX_BLOCKS];
};

static int
rn_plan_add(struct rn_plan *pl, const char *conv, const char *bn, int cin,
    int cout, int k, int stride)
{
	struct rn_convspec *cs;

	if (pl->pl_nconv >= RN_MAX_CONVS)
		return -1;
	cs = &pl->pl_conv[pl->pl_nconv];
	snprintf(cs->cs_conv, sizeof(cs->cs_conv), "%s", conv);
	snprintf(cs->cs_bn, sizeof(cs->cs_bn), "%s", bn);
	cs->cs_cin = cin;
	cs->cs_cout = cout;
	cs->cs_k = k;
	cs->cs_stride = stride;
	cs->cs_pad = k / 2;
	return pl->pl_nconv++;
}

/*
 * Derives torchvision's ResNet from the table entry: a 7x7/2 stem, then four
 * stages of 64, 128, 256, 512 planes; the first block of stages 2-4 has
 * stride 2, and a block whose input and output shapes differ gets a 1x1
 * "downsample" conv.  Bottleneck blocks (torchvision's v1.5) put the stride
 * on their 3x3 conv.
 */
static int
rn_plan_make(const struct resnet_arch *a, struct rn_plan *pl)
{
	static const int planes[4] = { 64, 128, 256, 512 };
	char p[24], c[RN_NAME], b[RN_NAME];
	int exp = a->ra_block == RESNET_BOTTLENECK ? 4 : 1;
	int inplanes = 64, st, i, stride, width, out;
	struct rn_blockspec *bs;

	memset(pl, 0, sizeof(*pl));
	rn_plan_add(pl, "conv1", "bn1", 3, 64, 7, 2);
	for (st = 0; st < 4; st++) {
		for (i = 0; i < a->ra_blocks[st]; i++) {
			if (pl->pl_nblocks >= RN_MAX_BLOCKS)
				return -1;
			bs = &pl->pl_block[pl->pl_nblocks++];
			stride = (st > 0 && i == 0) ? 2 : 1;
			width = planes[st];
			out = planes[st] * exp;
			snprintf(p, sizeof(p), "layer%d.%d", st + 1, i);
#define RN_NAMES(cn, bn) (snprintf(c, sizeof(c), "%s." cn, p), \
			    snprintf(b, sizeof(b), "%s." bn, p))
			RN_NAMES("conv1", "bn1");
			if (a->ra_block == RESNET_BASIC) {
				bs->bs_first = rn_plan_add(pl, c, b, inplanes,
				    width, 3, stride);
				RN_NAMES("conv2", "bn2");
				rn_plan_add(pl, c, b, width, width, 3, 1);
				bs->bs_nconv = 2;
			} else {
				bs->bs_first = rn_plan_add(pl, c, b, inplanes,
				    width, 1, 1);
				RN_NAMES("conv2", "bn2");
				rn_plan_add(pl, c, b, width, width, 3, stride);
				RN_NAMES("conv3", "bn3");
				rn_plan_add(pl, c, b, width, out, 1, 1);
				bs->bs_nconv = 3;
			}
			bs->bs_ds = -1;
			if (stride != 1 || inplanes != out) {
				RN_NAMES("downsample.0", "downsample.1");
				bs->bs_ds = rn_plan_add(pl, c, b, inplanes, out,
				    1, stride);
			}
#undef RN_NAMES
			if (bs->bs_first < 0 || pl->pl_nconv >= RN_MAX_CONVS)
				return -1;
			inplanes = out;
		}
	}
	pl->pl_feat = inplanes;
	return 0;
}

/* ==== Parameters ==== */

static void
rn_param_set(struct resnet_param *rp, const char *base, const char *suffix,
    enum resnet_param_kind kind, int ndim, int64_t d0, int64_t d1,
    int64_t d2, int64_t d3)
{
	memset(rp, 0, sizeof(*rp));
	snprintf(rp->rp_name, sizeof(rp->rp_name), "%s.%s", base, suffix);
	rp->rp_kind = kind;
	rp->rp_ndim = ndim;
	rp->rp_shape[0] = d0;
	rp->rp_shape[1] = d1;
	rp->rp_shape[2] = d2;
	rp->rp_shape[3] = d3;
}

int
resnet_params(const struct resnet_arch *arch, int num_classes,
    struct resnet_param **out, size_t *n)
{
	static const char *const bnp[] = { "weight", "bias", "running_mean",
	    "running_var" };
	struct rn_plan *pl;
	struct resnet_param *rp = NULL;
	size_t k = 0, j;
	int i, r = AG_ERR_ALLOC;

	*out = NULL;
	*n = 0;
	if (arch == NULL || num_classes < 1 ||
	    num_classes > RESNET_MAX_CLASSES)
		return AG_ERR_INVALID_ARG;
	if ((pl = malloc(sizeof(*pl))) == NULL)
		return AG_ERR_ALLOC;
	if (rn_plan_make(arch, pl) != 0) {
		r = AG_ERR_INTERNAL;
		goto out;
	}
	/* Per conv: weight, 4 BatchNorm tensors, num_batches_tracked. */
	if ((rp = calloc((size_t)pl->pl_nconv * 6 + 2, sizeof(*rp))) == NULL)
		goto out;
	for (i = 0; i < pl->pl_nconv; i++) {
		const struct rn_convspec *cs = &pl->pl_conv[i];

		rn_param_set(&rp[k++], cs->cs_conv, "weight",
		    RESNET_PARAM_FLOAT, 4, cs->cs_cout, cs->cs_cin, cs->cs_k,
		    cs->cs_k);
		for (j = 0; j < 4; j++)
			rn_param_set(&rp[k++], cs->cs_bn, bnp[j],
			    RESNET_PARAM_FLOAT, 1, cs->cs_cout, 0, 0, 0);
		rn_param_set(&rp[k++], cs->cs_bn, "num_batches_tracked",
		    RESNET_PARAM_COUNTER, 0, 0, 0, 0, 0);
	}
	rn_param_set(&rp[k++], "fc", "weight", RESNET_PARAM_FLOAT, 2,
	    num_classes, pl->pl_feat, 0, 0);
	rn_param_set(&rp[k++], "fc", "bias", RESNET_PARAM_FLOAT, 1,
	    num_classes, 0, 0, 0);
	*out = rp;
	*n = k;
	rp = NULL;
	r = 0;
 out:
	free(rp);
	free(pl);
	return r;
}

/* ==== Building: fetch, fold, seal ==== */

struct resnet {
	const struct resnet_arch *rn_arch;
	int		 rn_classes;
	struct rn_plan	 rn_plan;
	struct conv	 rn_conv[RN_MAX_CONVS];
	const float	*rn_fc_wt;	/* (feat, classes): fc.weight^T */
	const float	*rn_fc_b;	/* (classes) */
	struct conv	 rn_fc;		/* fc as a 1x1 conv for the kernel:
					   packed only when it runs */
	void		*rn_wmem;	/* all weights; read-only once built */
	size_t		 rn_wlen;
};

static int
rn_check_finite(const char *name, const float *v, size_t n, char *err,
    size_t errlen)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isfinite(v[i]))
			return ag_errf(err, errlen, AG_ERR_NUMERIC,
			    "tensor %s: element %zu is not finite", name, i);
	return 0;
}

static int
rn_fetch(resnet_fetch_fn fetch, void *ctx, const char *base,
    const char *suffix, float *dst, size_t count, char *err, size_t errlen)
{
	char name[RN_NAME + 32];
	int r;

	snprintf(name, sizeof(name), "%s.%s", base, suffix);
	if ((r = fetch(ctx, name, dst, count, err, errlen)) != 0)
		return r;
	return rn_check_finite(name, dst, count, err, errlen);
}

/*
 * Folds BatchNorm into the conv: with s = gamma / sqrt(var + eps),
 * w'[co] = w[co] * s[co] and b' = beta - mean * s, computed in double.
 * Also reorders the weight from PyTorch's (cout, cin, k, k) to the
 * GEMM's (k, k, cin, cout).
 */
static int
rn_fold(const struct rn_convspec *cs, const float *w, const float *bn,
    float *wout, float *bout, char *err, size_t errlen)
{
	const int cin = cs->cs_cin, cout = cs->cs_cout, kk = cs->cs_k * cs->cs_k;
	const float *gamma = bn, *beta = bn + cout, *mean = bn + 2 * cout;
	const float *var = bn + 3 * cout;
	double *scale;
	int co, co0, ci, kyx;

	if ((scale = malloc((size_t)cout * sizeof(*scale))) == NULL)
		return ag_errf(err, errlen, AG_ERR_ALLOC, "out of memory");
	for (co = 0; co < cout; co++) {
		double v = (double)var[co] + RESNET_BN_EPS;

		if (!(v > 0.0)) {
			free(scale);
			return ag_errf(err, errlen, AG_ERR_NUMERIC,
			    "tensor %s.running_var: element %d is %g, "
			    "variance must be >= 0", cs->cs_bn, co,
			    (double)var[co]);
		}
		scale[co] = (double)gamma[co] / sqrt(v);
		bout[co] = (float)((double)beta[co] - (double)mean[co] *
		    scale[co]);
	}
	/*
	 * (cout, cin, ky, kx) to (ky, kx, cin, cout), 16 output channels at a
	 * time: each write fills a cache line, and the 16 rows read stay in
	 * cache while their (cin, ky, kx) run is consumed.
	 */
	for (co0 = 0; co0 < cout; co0 += 16) {
		int co1 = co0 + 16 < cout ? co0 + 16 : cout;

		for (ci = 0; ci < cin; ci++)
			for (kyx = 0; kyx < kk; kyx++) {
				float *o = wout + ((size_t)kyx * cin + ci) *
				    cout;

				for (co = co0; co < co1; co++)
					o[co] = (float)(scale[co] *
					    w[((size_t)co * cin + ci) * kk +
					    kyx]);
			}
	}
	free(scale);
	return 0;
}

/*
 * Winograd for the 3x3 stride-1 convs: F(4x4, 3x3) everywhere, 4x fewer
 * multiplications than the direct conv.  Its transformed weights are 4x
 * the size: kept for the first two stages (7 MB); the third and last
 * stages transform theirs during the pass (rn_wino_fly()).  On the last
 * stage's 7x7 pixels the 4x4 tiles cover 8x8 and F(2x2) has the same
 * waste, so F(4x4) does 44 % fewer multiplications there; measured per
 * layer, during the pass, against F(2x2) transformed at load (which kept
 * 50 MB): 0.76 against 0.75 ms at batch 1, 1.92 against 2.75 ms at batch 4.
 * The 3x3 stride-2 convs (pad 1) take the stride-2 scheme, WINO_S2, where
 * its weights are small (below), and the 7x7 stem its own, WINO_STEM.
 * Returns the tile size (WINO_S2 or WINO_STEM for those schemes), or 0
 * for the direct kernel.  AG_WINOGRAD=0, 2 or 4 overrides
 * the choice for the stride-1 convs, and 0 for the stride-2 ones too (for
 * benchmarks and tests).
 */
static int rn_low_memory;	/* resnet_set_low_memory() */

static int
rn_wino_m(const struct rn_convspec *cs)
{
	const char *e = getenv("AG_WINOGRAD");

	/*
	 * The stem: its phase image and F(3x3, 4x4) (winograd.h), 144
	 * multiplications per input and output channel and 3x3 output
	 * tile instead of 441; 117 KB of weights instead of 38.
	 */
	if (cs->cs_k == 7 && cs->cs_stride == 2 && cs->cs_pad == 3 &&
	    cs->cs_cin == 3)
		return e != NULL && strcmp(e, "0") == 0 ? 0 : WINO_STEM;
	if (cs->cs_k == 3 && cs->cs_stride == 2 && cs->cs_pad == 1) {
		/*
		 * The stride-2 scheme (winograd.h), on 2x2 output tiles:
		 * for the second and third stages' first convs (28x28 and
		 * 14x14 outputs, whole tiles; 2.6 MB more weights).  Not for
		 * the last stage's: its 7x7 output takes 4x4 tiles, 9 %
		 * fewer multiplications than direct for 8.4 MB more, or,
		 * transformed during the pass, a pass no faster (five
		 * pairs in turns, batch 4).  Not in low-memory mode.
		 */
		if ((e != NULL && strcmp(e, "0") == 0) ||
		    __atomic_load_n(&rn_low_memory, __ATOMIC_RELAXED) ||
		    (long)cs->cs_cin * cs->cs_cout > 128L * 256)
			return 0;
		return WINO_S2;
	}
	if (cs->cs_k != 3 || cs->cs_stride != 1)
		return 0;
	if (e != NULL && (strcmp(e, "0") == 0 || strcmp(e, "2") == 0 ||
	    strcmp(e, "4") == 0))
		return e[0] - '0';
	return 4;
}

/*
 * Whether a Winograd conv keeps its weights folded and transforms them
 * during each pass (winograd.h) rather than at load.  For F(4x4) with 256
 * or more channels in and out (ResNet-18's third and last stages) that
 * costs no time measurably, at batch 1 or 4, and spares 3/4 of the
 * memory: 35 MB instead of 141.  F(2x2) (AG_WINOGRAD=2) gains less
 * memory (16/9) and the transform shows there, 10-30 % of the layer, so it
 * keeps the packed copy.  AG_WINOGRAD_FLY=0 or =1 overrides: never, or for
 * every Winograd conv.
 */
static int
rn_wino_fly(const struct rn_convspec *cs)
{
	const char *e = getenv("AG_WINOGRAD_FLY");

	/* The stride-2 and stem schemes are packed only (winograd.h). */
	if (rn_wino_m(cs) == 0 || rn_wino_m(cs) == WINO_S2 ||
	    rn_wino_m(cs) == WINO_STEM)
		return 0;
	if (e != NULL && (strcmp(e, "0") == 0 || strcmp(e, "1") == 0))
		return e[0] == '1';
	if (__atomic_load_n(&rn_low_memory, __ATOMIC_RELAXED))
		return 1;
	return rn_wino_m(cs) == 4 && (long)cs->cs_cin * cs->cs_cout >=
	    256L * 256;
}

void
resnet_set_low_memory(int on)
{
	__atomic_store_n(&rn_low_memory, on != 0, __ATOMIC_RELAXED);
}

/*
 * Building the network: each convolution's weights are fetched, folded
 * and laid out for the kernel by one task, the tasks spread over the
 * engine's threads (a model load is mostly this work), the largest first
 * so that the threads finish together.  Each task writes only its own conv
 * and its own part of the weight mapping; each thread has its own scratch.
 */
#define RN_ERRLEN	512

struct rn_build {
	const struct rn_plan	*rb_pl;
	struct resnet		*rb_net;
	resnet_fetch_fn		 rb_fetch;
	void			*rb_ctx;
	int			 rb_packed;
	size_t			 rb_maxw, rb_maxc;
	float			*rb_dst[RN_MAX_CONVS];	/* conv i's weights */
	int			 rb_order[RN_MAX_CONVS]; /* largest first */
	float			*rb_scratch[POOL_MAX_THREADS];
	int			 rb_r[RN_MAX_CONVS];
	char			 rb_err[RN_MAX_CONVS][RN_ERRLEN];
};

/* Floats conv cs takes in the weight mapping. */
static size_t
rn_conv_floats(const struct rn_convspec *cs, int packed)
{
	size_t wl = (size_t)cs->cs_k * cs->cs_k * cs->cs_cin * cs->cs_cout;

	if (!packed)
		return wl + (size_t)cs->cs_cout;
	if (rn_wino_fly(cs))
		return wino_folded_floats(cs->cs_cin, cs->cs_cout);
	if (rn_wino_m(cs) != 0)
		return wino_packed_floats(rn_wino_m(cs), cs->cs_cin,
		    cs->cs_cout);
	return conv_packed_floats(cs->cs_k * cs->cs_k * cs->cs_cin,
	    cs->cs_cout);
}

/* Conv i: fetch, check, fold, lay out.  s: the thread's scratch. */
static int
rn_build_conv(struct rn_build *b, int i, float *s, char *err, size_t errlen)
{
	const struct rn_convspec *cs = &b->rb_pl->pl_conv[i];
	struct conv *cv = &b->rb_net->rn_conv[i];
	const size_t co = (size_t)cs->cs_cout;
	const size_t wl = (size_t)cs->cs_k * cs->cs_k * cs->cs_cin * co;
	float *wtmp = s, *bn = s + b->rb_maxw;
	float *fold = bn + 4 * b->rb_maxc, *p = b->rb_dst[i];
	int r;

	if ((r = rn_fetch(b->rb_fetch, b->rb_ctx, cs->cs_conv, "weight", wtmp,
	    wl, err, errlen)) != 0 ||
	    (r = rn_fetch(b->rb_fetch, b->rb_ctx, cs->cs_bn, "weight", bn, co,
	    err, errlen)) != 0 ||
	    (r = rn_fetch(b->rb_fetch, b->rb_ctx, cs->cs_bn, "bias", bn + co,
	    co, err, errlen)) != 0 ||
	    (r = rn_fetch(b->rb_fetch, b->rb_ctx, cs->cs_bn, "running_mean",
	    bn + 2 * co, co, err, errlen)) != 0 ||
	    (r = rn_fetch(b->rb_fetch, b->rb_ctx, cs->cs_bn, "running_var",
	    bn + 3 * co, co, err, errlen)) != 0)
		return r;
	cv->cv_cin = cs->cs_cin;
	cv->cv_cout = cs->cs_cout;
	cv->cv_k = cs->cs_k;
	cv->cv_stride = cs->cs_stride;
	cv->cv_pad = cs->cs_pad;
	if (!b->rb_packed) {
		if ((r = rn_fold(cs, wtmp, bn, p, p + wl, err, errlen)) != 0)
			return r;
		cv->cv_w = p;
		cv->cv_b = p + wl;
		return 0;
	}
	/* Fold into scratch, then lay out for the kernel. */
	if ((r = rn_fold(cs, wtmp, bn, fold, fold + wl, err, errlen)) != 0)
		return r;
	if (rn_wino_fly(cs)) {
		wino_pack_folded(cv, rn_wino_m(cs), fold, fold + wl, p);
		return 0;
	}
	if (rn_wino_m(cs) != 0) {
		if (wino_pack(cv, rn_wino_m(cs), fold, fold + wl, p) != 0)
			return ag_errf(err, errlen, AG_ERR_INTERNAL,
			    "bad Winograd tile size");
		return 0;
	}
	conv_pack(cv, fold, fold + wl, p);
	return 0;
}

static void
rn_build_task(void *arg, int task, int thread)
{
	struct rn_build *b = arg;
	int i = b->rb_order[task];
	float **s = &b->rb_scratch[thread];

	/* wtmp (maxw), bn (4 maxc), fold (maxw + maxc) */
	if (*s == NULL && (*s = malloc((2 * b->rb_maxw + 5 * b->rb_maxc) *
	    sizeof(float))) == NULL) {
		b->rb_r[i] = ag_errf(b->rb_err[i], RN_ERRLEN, AG_ERR_ALLOC,
		    "out of memory");
		return;
	}
	b->rb_r[i] = rn_build_conv(b, i, *s, b->rb_err[i], RN_ERRLEN);
}

int
resnet_new(const struct resnet_arch *arch, int num_classes,
    resnet_fetch_fn fetch, void *ctx, struct resnet **out, char *err,
    size_t errlen)
{
	struct resnet *net = NULL;
	struct rn_build *b = NULL;
	struct rn_plan *pl;
	float *fcw = NULL, *p;
	size_t total = 0, wl, pg, sz[RN_MAX_CONVS];
	int i, j, c, f, r, packed = conv_kernel_available();

	*out = NULL;
	if (arch == NULL || fetch == NULL || num_classes < 1 ||
	    num_classes > RESNET_MAX_CLASSES)
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG,
		    "bad architecture or class count");
	if ((net = calloc(1, sizeof(*net))) == NULL ||
	    (b = calloc(1, sizeof(*b))) == NULL) {
		free(net);
		return ag_errf(err, errlen, AG_ERR_ALLOC, "out of memory");
	}
	net->rn_arch = arch;
	net->rn_classes = num_classes;
	pl = &net->rn_plan;
	if (rn_plan_make(arch, pl) != 0) {
		r = ag_errf(err, errlen, AG_ERR_INTERNAL, "bad plan for %s",
		    arch->ra_name);
		goto fail;
	}
	b->rb_pl = pl;
	b->rb_net = net;
	b->rb_fetch = fetch;
	b->rb_ctx = ctx;
	b->rb_packed = packed;
	for (i = 0; i < pl->pl_nconv; i++) {
		const struct rn_convspec *cs = &pl->pl_conv[i];

		wl = (size_t)cs->cs_k * cs->cs_k * cs->cs_cin * cs->cs_cout;
		sz[i] = rn_conv_floats(cs, packed);
		total += sz[i];
		b->rb_maxw = wl > b->rb_maxw ? wl : b->rb_maxw;
		b->rb_maxc = (size_t)cs->cs_cout > b->rb_maxc ?
		    (size_t)cs->cs_cout : b->rb_maxc;
		/* insertion sort, largest first */
		for (j = i; j > 0 && sz[b->rb_order[j - 1]] < sz[i]; j--)
			b->rb_order[j] = b->rb_order[j - 1];
		b->rb_order[j] = i;
	}
	f = pl->pl_feat;
	total += (size_t)f * num_classes + (size_t)num_classes;
	if (packed)	/* + 16: the packed copy starts 64-byte aligned */
		total += conv_packed_floats(f, num_classes) + 16;

	/*
	 * One anonymous mapping for all weights, so that it can be sealed
	 * read-only (mprotect) once built: nothing writes to the model after
	 * load, and a stray write faults instead of corrupting it.
	 */
	pg = 4096;
	net->rn_wlen = (total * sizeof(float) + pg - 1) / pg * pg;
	net->rn_wmem = mmap(NULL, net->rn_wlen, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (net->rn_wmem == MAP_FAILED) {
		net->rn_wmem = NULL;
		r = ag_errf(err, errlen, AG_ERR_ALLOC,
		    "cannot map %zu bytes of weights", net->rn_wlen);
		goto fail;
	}
	/*
	 * Every pass streams all the weights: huge pages spare the TLB.
	 * Advice only; without transparent huge pages nothing changes.
	 */
	(void)madvise(net->rn_wmem, net->rn_wlen, MADV_HUGEPAGE);

	p = net->rn_wmem;
	for (i = 0; i < pl->pl_nconv; i++) {
		b->rb_dst[i] = p;
		p += sz[i];
	}
	pool_run(rn_build_task, b, pl->pl_nconv);
	/* The first failure in the plan's order, as a serial build's. */
	for (i = 0; i < pl->pl_nconv; i++)
		if (b->rb_r[i] != 0) {
			r = ag_errf(err, errlen, b->rb_r[i], "%s",
			    b->rb_err[i]);
			goto fail;
		}

	if ((fcw = malloc((size_t)f * num_classes * sizeof(*fcw))) == NULL) {
		r = ag_errf(err, errlen, AG_ERR_ALLOC, "out of memory");
		goto fail;
	}
	if ((r = rn_fetch(fetch, ctx, "fc", "weight", fcw,
	    (size_t)f * num_classes, err, errlen)) != 0)
		goto fail;
	/* Store fc.weight (classes, feat) transposed: (feat, classes). */
	for (c = 0; c < num_classes; c++)
		for (i = 0; i < f; i++)
			p[(size_t)i * num_classes + c] =
			    fcw[(size_t)c * f + i];
	net->rn_fc_wt = p;
	p += (size_t)f * num_classes;
	if ((r = rn_fetch(fetch, ctx, "fc", "bias", p, (size_t)num_classes,
	    err, errlen)) != 0)
		goto fail;
	net->rn_fc_b = p;
	p += num_classes;
	if (packed) {
		/* The fc layer is a 1x1 conv over a 1x1 image of f channels. */
		p += (16 - (size_t)((uintptr_t)p / sizeof(float)) % 16) % 16;
		net->rn_fc.cv_cin = f;
		net->rn_fc.cv_cout = num_classes;
		net->rn_fc.cv_k = 1;
		net->rn_fc.cv_stride = 1;
		conv_pack(&net->rn_fc, net->rn_fc_wt, net->rn_fc_b, p);
	}

	if (mprotect(net->rn_wmem, net->rn_wlen, PROT_READ) != 0) {
		r = ag_errf(err, errlen, AG_ERR_SYSTEM,
		    "mprotect weights: %s", strerror(errno));
		goto fail;
	}
	r = 0;
	*out = net;
	net = NULL;
 fail:
	for (i = 0; i < POOL_MAX_THREADS; i++)
		free(b->rb_scratch[i]);
	free(b);
	free(fcw);
	resnet_free(net);
	return r;
}

void
resnet_free(struct resnet *net)
{
	if (net == NULL)
		return;
	if (net->rn_wmem != NULL)
		munmap(net->rn_wmem, net->rn_wlen);
	free(net);
}

int
resnet_num_classes(const struct resnet *net)
{
	return net->rn_classes;
}

const struct resnet_arch *
resnet_get_arch(const struct resnet *net)
{
	return net->rn_arch;
}

/* ==== Workspace ==== */

#define RN_NBUF		4
/* Scratch for one im2col tile: big enough to keep GEMMs efficient, small
 * enough to stay in the L2 cache with its output. */
#define RN_COL_FLOATS	(512u * 1024)

struct resnet_ws {
	int	 ws_max, ws_h, ws_w;
	int	 ws_threads;		/* engine threads it was sized for */
	size_t	 ws_bufcap[RN_NBUF];	/* floats per activation buffer */
	size_t	 ws_colcap;		/* floats of im2col scratch */
	float	*ws_buf[RN_NBUF];
	float	*ws_col;
	float	*ws_feat;		/* (max, feat) */
	size_t	 ws_bytes;
};

/*
 * The big activation and scratch buffers: anonymous mappings, page
 * aligned, sized for the largest batch but resident only as far as used.
 * Not advised for huge pages, unlike the weights: a batch of one touches
 * a few MB of each, and 2 MB pages would make that 2-3 times as much
 * resident memory, for no speed measured (docs/benchmarks.md).  Returns
 * NULL when out of memory.
 */
static float *
rn_map(size_t nfloats)
{
	size_t len;
	void *p;

	if (ag_mul_size(nfloats, sizeof(float), &len) != 0 || len == 0)
		return NULL;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	return p;
}

static void
rn_unmap(float *p, size_t nfloats)
{
	if (p != NULL)
		munmap(p, nfloats * sizeof(float));
}

/*
 * Largest activations (floats per image) at h x w: of the input and of the
 * stem's output (*in, *stem), and of anything after the max pool (the
 * return value).  The stem's output is by far the largest; it only ever
 * sits in buffer 1, the input only in buffer 2, one image of each.
 */
static size_t
rn_max_act(const struct resnet *net, int h, int w, size_t *maxk, size_t *in,
    size_t *stem)
{
	const struct rn_plan *pl = &net->rn_plan;
	size_t m, a;
	int b, j, oh, ow, ch, cw;

	*maxk = 0;
	*in = (size_t)3 * h * w;
	if (wino_stem_phase_floats(h, w) > *in)	/* the stem's phase image */
		*in = wino_stem_phase_floats(h, w);
	/* stem, then maxpool 3x3/2 pad 1 */
	oh = conv_out_size(h, 7, 2, 3);
	ow = conv_out_size(w, 7, 2, 3);
	*stem = (size_t)oh * ow * 64;
	h = conv_out_size(oh, 3, 2, 1);
	w = conv_out_size(ow, 3, 2, 1);
	m = (size_t)h * w * 64;
	for (j = 0; j < pl->pl_nconv; j++) {
		const struct rn_convspec *cs = &pl->pl_conv[j];
		size_t kk = (size_t)cs->cs_k * cs->cs_k * cs->cs_cin;

		*maxk = kk > *maxk ? kk : *maxk;
	}
	for (b = 0; b < pl->pl_nblocks; b++) {
		const struct rn_blockspec *bs = &pl->pl_block[b];

		ch = h;
		cw = w;
		for (j = 0; j < bs->bs_nconv; j++) {
			const struct rn_convspec *cs =
			    &pl->pl_conv[bs->bs_first + j];

			ch = conv_out_size(ch, cs->cs_k, cs->cs_stride,
			    cs->cs_pad);
			cw = conv_out_size(cw, cs->cs_k, cs->cs_stride,
			    cs->cs_pad);
			a = (size_t)ch * cw * cs->cs_cout;
			m = a > m ? a : m;
		}
		h = ch;
		w = cw;
	}
	return m;
}

int
resnet_ws_new(const struct resnet *net, int max_batch, int h, int w,
    struct resnet_ws **out, char *err, size_t errlen)
{
	struct resnet_ws *ws;
	size_t per, in, stem, cap[RN_NBUF], maxk, total;
	int i;

	*out = NULL;
	if (max_batch < 1 || max_batch > RESNET_MAX_BATCH)
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG,
		    "batch %d out of range 1..%d", max_batch,
		    RESNET_MAX_BATCH);
	if (h < RESNET_MIN_SIDE || w < RESNET_MIN_SIDE ||
	    h > RESNET_MAX_SIDE || w > RESNET_MAX_SIDE)
		return ag_errf(err, errlen, AG_ERR_SHAPE,
		    "input %dx%d out of range %d..%d", w, h,
		    RESNET_MIN_SIDE, RESNET_MAX_SIDE);
	if ((ws = calloc(1, sizeof(*ws))) == NULL)
		return ag_errf(err, errlen, AG_ERR_ALLOC, "out of memory");
	ws->ws_max = max_batch;
	ws->ws_h = h;
	ws->ws_w = w;
	per = rn_max_act(net, h, w, &maxk, &in, &stem);
	/*
	 * Every buffer holds max_batch activations; the stem, run one image
	 * at a time, also needs one image's input in buffer 2 and its output
	 * in buffer 1 (see resnet_forward()).
	 */
	if (ag_mul_size(per, (size_t)max_batch, &cap[0]))
		goto nomem;
	for (i = 1; i < RN_NBUF; i++)
		cap[i] = cap[0];
	cap[1] = stem > cap[1] ? stem : cap[1];
	cap[2] = in > cap[2] ? in : cap[2];
	/* Each engine thread gets its own share of the scratch. */
	ws->ws_colcap = RN_COL_FLOATS > maxk * 16 ? RN_COL_FLOATS : maxk * 16;
	if (ws->ws_colcap < wino_scratch_floats(4, 512, 512))
		ws->ws_colcap = wino_scratch_floats(4, 512, 512);
	ws->ws_threads = pool_threads();
	ws->ws_colcap *= (size_t)ws->ws_threads;
	for (i = 0, total = 0; i < RN_NBUF; i++) {
		ws->ws_bufcap[i] = cap[i];
		total += cap[i];
		if ((ws->ws_buf[i] = rn_map(cap[i])) == NULL)
			goto nomem;
	}
	if ((ws->ws_col = rn_map(ws->ws_colcap)) == NULL ||
	    (ws->ws_feat = malloc((size_t)max_batch *
	    net->rn_plan.pl_feat * sizeof(float))) == NULL)
		goto nomem;
	ws->ws_bytes = (total + ws->ws_colcap + (size_t)max_batch *
	    net->rn_plan.pl_feat) * sizeof(float);
	*out = ws;
	return 0;
 nomem:
	resnet_ws_free(ws);
	return ag_errf(err, errlen, AG_ERR_ALLOC,
	    "cannot allocate activations for batch %d at %dx%d", max_batch,
	    w, h);
}

void
resnet_ws_free(struct resnet_ws *ws)
{
	int i;

	if (ws == NULL)
		return;
	for (i = 0; i < RN_NBUF; i++)
		rn_unmap(ws->ws_buf[i], ws->ws_bufcap[i]);
	rn_unmap(ws->ws_col, ws->ws_colcap);
	free(ws->ws_feat);
	free(ws);
}

size_t
resnet_ws_bytes(const struct resnet_ws *ws)
{
	return ws->ws_bytes;
}

/* ==== Forward ==== */

/*
 * Blocks [b0, b1) on n images from buffer *x (h x w x c per image) on;
 * updates *x, *h, *w, *c to where the output is.  Tensors in buffer *x
 * (where the batch is) are those of images [i0, i0 + n), at i0 times their
 * per-image size; the others are at the start of their buffers.
 *
 * Four buffers rotate: X (block input), T1, T2 and R (residual).  A basic
 * block writes its output into T2's slot, a bottleneck block into T1's
 * (free again by then); either way no conv reads the buffer it writes.
 */
static void
rn_blocks(const struct resnet *net, struct resnet_ws *ws, int b0, int b1,
    int i0, int n, int *x, int *h, int *w, int *c)
{
	const struct rn_plan *pl = &net->rn_plan;
	float **buf = ws->ws_buf;
	const int keep = *x;
	int b;

	for (b = b0; b < b1; b++) {
		const struct rn_blockspec *bs = &pl->pl_block[b];
		const struct conv *cv = &net->rn_conv[bs->bs_first];
		const int co = cv[bs->bs_nconv - 1].cv_cout;
		int h1, w1, h2, w2, last;
		float *X, *T1, *T2, *R;
		const float *res;

		h1 = conv_out_size(*h, cv[0].cv_k, cv[0].cv_stride,
		    cv[0].cv_pad);
		w1 = conv_out_size(*w, cv[0].cv_k, cv[0].cv_stride,
		    cv[0].cv_pad);
		h2 = conv_out_size(h1, cv[1].cv_k, cv[1].cv_stride,
		    cv[1].cv_pad);
		w2 = conv_out_size(w1, cv[1].cv_k, cv[1].cv_stride,
		    cv[1].cv_pad);
		X = buf[*x] + (*x == keep ? (size_t)i0 * *h * *w * *c : 0);
		T1 = buf[(*x + 1) % RN_NBUF];
		T2 = buf[(*x + 2) % RN_NBUF];
		R = buf[(*x + 3) % RN_NBUF];
		/* Of one image among others, only a basic block's output. */
		AG_ASSERT(i0 == 0 || (bs->bs_nconv == 2 &&
		    (*x + 1) % RN_NBUF != keep && (*x + 3) % RN_NBUF != keep));
		if ((*x + 2) % RN_NBUF == keep)
			T2 += (size_t)i0 * h2 * w2 * co;
		res = X;
		conv_forward(&cv[0], X, n, *h, *w, NULL, 1, T1, ws->ws_col,
		    ws->ws_colcap);
		if (bs->bs_ds >= 0) {
			conv_forward(&net->rn_conv[bs->bs_ds], X, n, *h, *w,
			    NULL, 0, R, ws->ws_col, ws->ws_colcap);
			res = R;
		}
		if (bs->bs_nconv == 2) {
			/* y = relu(bn2(conv2(t1)) + res) */
			conv_forward(&cv[1], T1, n, h1, w1, res, 1, T2,
			    ws->ws_col, ws->ws_colcap);
			last = (*x + 2) % RN_NBUF;
		} else {
			conv_forward(&cv[1], T1, n, h1, w1, NULL, 1, T2,
			    ws->ws_col, ws->ws_colcap);
			/* y = relu(bn3(conv3(t2)) + res), into T1 */
			conv_forward(&cv[2], T2, n, h2, w2, res, 1, T1,
			    ws->ws_col, ws->ws_colcap);
			last = (*x + 1) % RN_NBUF;
		}
		*h = h2;
		*w = w2;
		*c = co;
		*x = last;
	}
}

/*
 * The leading blocks that run one image at a time, with the stem: basic
 * blocks that keep the stem's shape (ResNet-18's and -34's first stage).
 * Their weights are small (0.6 MB a conv), so a batch gains nothing
 * there, and their activations are the network's largest after the
 * stem's (0.8 MB a tensor per image at 224).  Image i's tensors in buffer
 * 0 (its input, every other block's output, the last one's) sit at their
 * place in the batch, the others at the start of their buffers: they take
 * one image's room, not the batch's.  The output must end in buffer 0, as
 * the next image's stem uses 1 and 2.  At batch 4 the worker is 3 MB
 * smaller under load, the pass as fast (in turns, best of 20 passes:
 * 36.8-37.7 against 36.6-38.1 ms).
 */
static int
rn_per_image_blocks(const struct resnet *net)
{
	const struct rn_plan *pl = &net->rn_plan;
	int b, pre = 0, x = 0;

	for (b = 0; b < pl->pl_nblocks; b++) {
		const struct rn_blockspec *bs = &pl->pl_block[b];
		const struct conv *cv = &net->rn_conv[bs->bs_first];

		if (bs->bs_nconv != 2 || bs->bs_ds >= 0 ||
		    cv[0].cv_stride != 1 || cv[1].cv_stride != 1 ||
		    cv[0].cv_cin != 64 || cv[0].cv_cout != 64 ||
		    cv[1].cv_cout != 64)
			break;
		x = (x + 2) % RN_NBUF;
		if (x == 0)
			pre = b + 1;
	}
	return pre;
}

int
resnet_forward(const struct resnet *net, struct resnet_ws *ws,
    const float *in, int n, float *logits)
{
	const struct rn_plan *pl = &net->rn_plan;
	float **buf = ws->ws_buf;
	int h0 = ws->ws_h, w0 = ws->ws_w, oh, ow, ph, pw, i, pre;
	int x = 0, h = 0, w = 0, c = 0;

	if (n < 1 || n > ws->ws_max || in == NULL || logits == NULL)
		return AG_ERR_INVALID_ARG;
	/* Each thread has its own share of the scratch: no more threads. */
	if (pool_threads() > ws->ws_threads)
		return AG_ERR_INVALID_ARG;

	/*
	 * The stem, one image at a time: (3, h, w) -> NHWC in buffer 2, conv
	 * 7x7/2 + BN + ReLU into buffer 1, maxpool 3x3/2 pad 1 into the
	 * image's place in buffer 0.  The stem's output, the largest
	 * activation of the network (4x the next), is so held for one image
	 * only, whatever the batch.  Then the image's first blocks (above).
	 */
	oh = conv_out_size(h0, 7, 2, 3);
	ow = conv_out_size(w0, 7, 2, 3);
	ph = conv_out_size(oh, 3, 2, 1);
	pw = conv_out_size(ow, 3, 2, 1);
	pre = rn_per_image_blocks(net);
	for (i = 0; i < n; i++) {
		if (net->rn_conv[0].cv_u != NULL &&
		    net->rn_conv[0].cv_wm == WINO_STEM)
			wino_stem_phase(in + (size_t)i * 3 * h0 * w0, h0, w0,
			    buf[2]);
		else
			ops_nchw_to_nhwc(in + (size_t)i * 3 * h0 * w0, 1, 3,
			    h0, w0, buf[2]);
		conv_forward(&net->rn_conv[0], buf[2], 1, h0, w0, NULL, 1,
		    buf[1], ws->ws_col, ws->ws_colcap);
		ops_maxpool(buf[1], 1, oh, ow, 64, 3, 2, 1, buf[0] +
		    (size_t)i * ph * pw * 64);
		x = 0;
		h = ph;
		w = pw;
		c = 64;
		rn_blocks(net, ws, 0, pre, i, 1, &x, &h, &w, &c);
	}
	rn_blocks(net, ws, pre, pl->pl_nblocks, 0, n, &x, &h, &w, &c);

	/* AdaptiveAvgPool2d(1), flatten, fc */
	ops_global_avgpool(buf[x], n, h, w, c, ws->ws_feat);
	if (net->rn_fc.cv_wp != NULL)
		conv_forward(&net->rn_fc, ws->ws_feat, n, 1, 1, NULL, 0,
		    logits, ws->ws_col, ws->ws_colcap);
	else
		ops_linear(ws->ws_feat, n, c, net->rn_fc_wt, net->rn_fc_b,
		    net->rn_classes, logits);
	return 0;
}

int
resnet_set_threads(int n)
{
	/*
	 * With the engine's own kernel, every layer runs on the engine's
	 * threads and the BLAS is never called: leave it alone.  Setting
	 * its thread count, even to one, restarts a BLAS thread pool that a
	 * fork shut down (OpenBLAS does so lazily), and that thread spins
	 * for a tenth of a second against ours: the worker's model load
	 * took twice as long (docs/benchmarks.md, cold start).
	 */
	if (conv_kernel_available())
		return pool_set_threads(n);
	return gemm_set_threads(n);
}

const char *
resnet_backend(void)
{
	static char name[128];

	if (!conv_kernel_available())
		return gemm_backend();
	snprintf(name, sizeof(name), "aiguard AVX-512 kernels, %d threads",
	    pool_threads());
	return name;
}
