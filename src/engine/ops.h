/* SPDX-License-Identifier: ISC */
/*
 * ops.h: the engine's other operators, on NHWC activations.
 */
#ifndef AG_OPS_H
#define AG_OPS_H

/* y (n, h, w, c) = x (n, c, h, w) transposed. */
void	ops_nchw_to_nhwc(const float *x, int n, int c, int h, int w,
	    float *y);

/*
 * Max pooling, window k, stride s, padding p (padding never wins, as with
 * PyTorch's -inf padding): y (n, oh, ow, c) from x (n, h, w, c).
 */
void	ops_maxpool(const float *x, int n, int h, int w, int c, int k,
	    int s, int p, float *y);

/* Adaptive average pooling to 1x1: y (n, c) = mean over (h, w) of x. */
void	ops_global_avgpool(const float *x, int n, int h, int w, int c,
	    float *y);

/*
 * Fully connected: y (n, out) = x (n, in) @ wt (in, out) + b (out), where
 * wt is the transpose of PyTorch's (out, in) weight.
 */
void	ops_linear(const float *x, int n, int in, const float *wt,
	    const float *b, int out, float *y);

#endif /* AG_OPS_H */
