/* SPDX-License-Identifier: ISC */
/*
 * winograd.h: 3x3 stride-1 convolutions by Winograd's minimal filtering,
 * F(2x2, 3x3) or F(4x4, 3x3).
 *
 * Each m x m output tile is computed from an (m+2) x (m+2) input tile with
 * (m+2)^2 multiplications per (input, output) channel pair instead of
 * 9 m^2: 2.25x fewer for m = 2, 4x fewer for m = 4.  The input tiles are
 * transformed (V = Bt d B), multiplied per transform position by the
 * transformed weights (U = G g Gt, prepared at load time or, for the big
 * layers, panel by panel during the pass) with the engine's
 * GEMM kernel, and transformed back (Y = At M A) in an output pass that also
 * adds the bias and the residual and applies the ReLU.  Tiles are processed
 * in blocks per thread, so the transformed data stays in cache.  Used only
 * where the AVX-512 kernel runs.
 *
 * The same scheme serves 3x3 stride-2 convolutions (pad 1), m = WINO_S2:
 * along each axis the output's even pixels see the input's odd pixels
 * through taps 0 and 2 and its even ones through tap 1, so a 2-pixel
 * output run is a 2-tap F(2, 2) on the odd phase plus 1-tap products on
 * the even one, 5 transformed points from 5 input pixels.  A 2x2 output
 * tile then takes 25 multiplications per channel pair instead of 36, from
 * a 5x5 input tile at stride 4, and the transformed weights are 25/9 the
 * size of the direct ones (wino_pack() only: not transformed during the
 * pass).  Its a = m + 2 = 5 holds too.
 */
#ifndef AG_WINOGRAD_H
#define AG_WINOGRAD_H

#include <stddef.h>

struct conv;

#define WINO_S2		3	/* m for 3x3 stride 2: 2x2 tiles, a = 5 */
#define WINO_STEM	5	/* m for the 7x7 stride-2 stem: 3x3 tiles, a = 6 */

/*
 * The stem (7x7, stride 2, pad 3, WINO_STEM) as a 4x4 stride-1 conv:
 * split along each axis into its even and odd input pixels, the padded
 * image becomes a phase image of 4 * cin channels, (py, px, c), at half
 * the resolution:
 *   P[q][s][(2 py + px) cin + c] = x[c][2q + py - 3][2s + px - 3]
 * (zero outside the image), oh + 3 by ow + 3 pixels, and the 7x7 taps
 * become 4x4 taps on it (tap (u, v) of phase (py, px) is the 7x7 tap
 * (2u + py, 2v + px), zero past 6).  That 4x4 conv, with no padding,
 * gives the stem's output, and runs as F(3x3, 4x4): the same
 * interpolation points as F(4x4, 3x3) (so the same Bt), a 6x6 input tile
 * at stride 3 for a 3x3 output tile, 36 multiplications per channel pair
 * instead of 144.  The products are short (K = 12 for an RGB image), the
 * transforms cheap (12 input channels).
 */
size_t	wino_stem_phase_floats(int h, int w);

/* y = the phase image of x (3, h, w) (NCHW, one image), for WINO_STEM. */
void	wino_stem_phase(const float *x, int h, int w, float *y);

/* Floats wino_pack() writes for m (as below), cin x cout. */
size_t	wino_packed_floats(int m, int cin, int cout);

/*
 * Transforms and packs the folded weights w (3, 3, cin, cout), or (7, 7,
 * cin, cout) for WINO_STEM, and bias b (cout) for m (2, 4, WINO_S2 or
 * WINO_STEM) into dst (64-byte aligned); sets cv->cv_u and cv->cv_wm.
 * Returns 0, or -1 for another m.
 */
int	wino_pack(struct conv *cv, int m, const float *w, const float *b,
	    float *dst);

/* Floats wino_pack_folded() writes, cin x cout. */
size_t	wino_folded_floats(int cin, int cout);

/*
 * The same without the transformed copy: packs the folded weights w
 * (3, 3, cin, cout) and bias b into dst (64-byte aligned) as they are,
 * panel by panel: (ceil(cout / 32), cin, 9, 32), zero-padded, then the
 * bias; sets cv->cv_wf and cv->cv_wm (cv_u NULL).  wino_forward() then
 * transforms a panel's weights into its scratch as the pass uses them:
 * 16/9 (m = 2) or 4 (m = 4) times less memory for the weights, and as
 * much less to read per pass, for the transform's arithmetic (a small
 * share of the layer's).  The results differ from wino_pack()'s in the
 * last bits only: the transform runs in float, factored, not in double.
 */
void	wino_pack_folded(struct conv *cv, int m, const float *w,
	    const float *b, float *dst);

/* Scratch floats one thread needs (see conv_forward()'s col). */
size_t	wino_scratch_floats(int m, int cin, int cout);

/*
 * y (n, oh, ow, cout) = [relu](conv3x3(x (n, h, w, cin)) + b + res), with
 * oh x ow = h x w for stride 1 and ceil(h / 2) x ceil(w / 2) for
 * WINO_S2 (stride 2, pad 1); res may be NULL.  For WINO_STEM, h x w is
 * the image's size and x its phase image (wino_stem_phase(), one after
 * the other for n > 1).  scratch holds colcap floats, at least
 * wino_scratch_floats() per engine thread.
 */
void	wino_forward(const struct conv *cv, const float *x, int n, int h,
	    int w, const float *res, int relu, float *y, float *scratch,
	    size_t colcap);

#endif /* AG_WINOGRAD_H */
