/* SPDX-License-Identifier: ISC */
/*
 * portable.c: the ISA interface (kernel.h) on a target for which the
 * engine has no ISA code (anything but x86-64): kern_available() is 0,
 * so the engine takes its portable path (im2col + BLAS, scalar loops)
 * and never calls the others, which abort if it ever did.
 */
#include <stddef.h>

#include "common/util.h"
#include "engine/kernel.h"

#if !defined(__x86_64__)

int
kern_available(void)
{
	return 0;
}

void
kern_tile(int mr, int k, const float *a, size_t lda, const float *bp,
    const float *bias, const float *res, size_t ldr, int relu, float *y,
    size_t ldy, int ncols)
{
	AG_ASSERT(!"kern_tile without ISA code");
}

void
kern_nhwc_rows3(const float *xi, float *yi, size_t hw, size_t p0, size_t p1)
{
	AG_ASSERT(!"kern_nhwc_rows3 without ISA code");
}

void
kern_maxpool_row16(void *arg, int task, int thread)
{
	AG_ASSERT(!"kern_maxpool_row16 without ISA code");
}

void
kern_wino_task(void *arg, int task, int thread)
{
	AG_ASSERT(!"kern_wino_task without ISA code");
}

void
kern_wino_fly_input(void *arg, int task, int thread)
{
	AG_ASSERT(!"kern_wino_fly_input without ISA code");
}

void
kern_wino_fly_panel(void *arg, int task, int thread)
{
	AG_ASSERT(!"kern_wino_fly_panel without ISA code");
}

#endif /* !__x86_64__ */
