/* SPDX-License-Identifier: ISC */
/*
 * winograd_pass.h: what winograd.c, which plans a Winograd pass, shares
 * with the passes themselves, which are ISA code (kernel.h: kern_wino_task(),
 * kern_wino_fly_input(), kern_wino_fly_panel(); arch/x86/winograd_avx512.c):
 * the job, and the sizes of the schemes.  Internal to the engine.
 */
#ifndef AG_WINOGRAD_PASS_H
#define AG_WINOGRAD_PASS_H

#include <stddef.h>

#include "kernel.h"
#include "winograd.h"

struct conv;

#define WINO_AMAX	6
#define WINO_KB		64	/* input channels per block of U, during the pass */
/*
 * Floats from one position's U block to the next: kb rows of KERN_NR and
 * one cache line more, so that the a*a stores of one transform do not
 * fall 4 KiB apart (same-set stores and loads stall each other).
 */
#define WINO_USTRIDE(kb)	((size_t)(kb) * KERN_NR + 16)

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

/*
 * One pass of wino_forward(): the layer, its input and output, and the
 * plan (winograd.c) that the ISA's tasks follow.
 */
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

#endif /* AG_WINOGRAD_PASS_H */
