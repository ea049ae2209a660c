/* SPDX-License-Identifier: ISC */
/*
 * ops.c: pooling, the fully connected layer and layout changes (the
 * softmax of the logits is common/topk.c's).
 */
#include <stddef.h>

#include "conv.h"
#include "gemm.h"
#include "kernel.h"
#include "ops.h"
#include "pool.h"

/*
 * The layout change runs on the engine's threads, in blocks of rows of
 * one image.  It was a serial loop of scalar stores at stride c: for
 * the network's input (3 x 224 x 224) 0.08-0.12 ms on one thread, the
 * other waiting, and in aiguardd's worker, whose input was just written
 * by another process, about 1 % of the worker's time.
 */
#define NHWC_ROWS	16	/* rows per task */

struct nhwc_job {
	const float	*x;
	float		*y;
	int		 n, c, h, w, tasks_per_image;
};

static void
nhwc_rows_scalar(const struct nhwc_job *j, const float *xi, float *yi,
    size_t hw, int y0, int y1)
{
	size_t p;
	int ch;

	for (ch = 0; ch < j->c; ch++)
		for (p = (size_t)y0 * j->w; p < (size_t)y1 * j->w; p++)
			yi[p * j->c + ch] = xi[(size_t)ch * hw + p];
}

static void
nhwc_task(void *arg, int task, int thread)
{
	const struct nhwc_job *j = arg;
	const int i = task / j->tasks_per_image;
	const int y0 = task % j->tasks_per_image * NHWC_ROWS;
	const int y1 = y0 + NHWC_ROWS < j->h ? y0 + NHWC_ROWS : j->h;
	const size_t hw = (size_t)j->h * j->w;
	const float *xi = j->x + (size_t)i * j->c * hw;
	float *yi = j->y + (size_t)i * j->c * hw;

	if (j->c == 3 && conv_kernel_available())
		kern_nhwc_rows3(xi, yi, hw, (size_t)y0 * j->w,
		    (size_t)y1 * j->w);
	else
		nhwc_rows_scalar(j, xi, yi, hw, y0, y1);
}

void
ops_nchw_to_nhwc(const float *x, int n, int c, int h, int w, float *y)
{
	struct nhwc_job j = { x, y, n, c, h, w,
	    (h + NHWC_ROWS - 1) / NHWC_ROWS };

	if (n < 1 || c < 1 || h < 1 || w < 1)
		return;
	pool_run(nhwc_task, &j, n * j.tasks_per_image);
}

/* One output row (image i, row oy) of the max pooling. */
static void
maxpool_row(void *arg, int task, int thread)
{
	const struct maxpool_job *j = arg;
	const int c = j->c, i = task / j->oh, oy = task % j->oh;
	int ox, ky, kx, ch;

	for (ox = 0; ox < j->ow; ox++) {
		float *yo = j->y + (((size_t)i * j->oh + oy) * j->ow + ox) * c;
		int first = 1;

		for (ky = 0; ky < j->k; ky++) {
			int iy = oy * j->s - j->p + ky;

			if (iy < 0 || iy >= j->h)
				continue;
			for (kx = 0; kx < j->k; kx++) {
				int ix = ox * j->s - j->p + kx;
				const float *xi;

				if (ix < 0 || ix >= j->w)
					continue;
				xi = j->x + (((size_t)i * j->h + iy) * j->w +
				    ix) * c;
				if (first) {
					for (ch = 0; ch < c; ch++)
						yo[ch] = xi[ch];
					first = 0;
					continue;
				}
				for (ch = 0; ch < c; ch++)
					yo[ch] = xi[ch] > yo[ch] ? xi[ch] :
					    yo[ch];
			}
		}
		/*
		 * With p < k every window holds at least one real pixel, so
		 * first is clear here (the ResNet stem: k 3, p 1).
		 */
	}
}

void
ops_maxpool(const float *x, int n, int h, int w, int c, int k, int s, int p,
    float *y)
{
	struct maxpool_job j = { x, y, h, w, c, k, s, p,
	    (h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1 };

	/* p < k: every window holds a pixel (see maxpool_row()). */
	if (c % 16 == 0 && p < k && conv_kernel_available())
		pool_run(kern_maxpool_row16, &j, n * j.oh);
	else
		pool_run(maxpool_row, &j, n * j.oh);
}

void
ops_global_avgpool(const float *x, int n, int h, int w, int c, float *y)
{
	size_t hw = (size_t)h * w, p;
	int i, ch;

	for (i = 0; i < n; i++) {
		const float *xi = x + (size_t)i * hw * c;
		float *yi = y + (size_t)i * c;

		for (ch = 0; ch < c; ch++)
			yi[ch] = 0.0f;
		for (p = 0; p < hw; p++)
			for (ch = 0; ch < c; ch++)
				yi[ch] += xi[p * c + ch];
		for (ch = 0; ch < c; ch++)
			yi[ch] /= (float)hw;
	}
}

void
ops_linear(const float *x, int n, int in, const float *wt, const float *b,
    int out, float *y)
{
	int i, o;

	/* Y(n, out) = X(n, in) @ Wt(in, out); wt is stored transposed. */
	gemm_f32(n, out, in, x, in, wt, out, y, out, 0);
	for (i = 0; i < n; i++)
		for (o = 0; o < out; o++)
			y[(size_t)i * out + o] += b[o];
}

