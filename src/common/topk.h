/* SPDX-License-Identifier: ISC */
/*
 * topk.h: the k best scores of a vector, in one total order, and their
 * probabilities.
 *
 * Every place that ranks classes (the classify endpoint, the infer
 * classification extension, aiguard classify) ranks the logits with
 * topk_select(), so that equal scores come out in the same order
 * everywhere, and every place that reports probabilities computes them
 * with topk_softmax(), so that the HTTP answers and aiguard classify agree
 * to the last digit.
 */
#ifndef AG_TOPK_H
#define AG_TOPK_H

#include <stddef.h>

/*
 * Writes the indices of the min(k, n) best values of v[0, n) into
 * idx[0, min(k, n)), best first, and returns min(k, n).  The order is
 * total, so the answer never depends on the algorithm:
 *   - a larger value ranks first (+inf before every finite value);
 *   - equal values rank by ascending index; -0.0 and +0.0 are equal;
 *   - NaN ranks after every number (-inf included), NaNs among
 *     themselves by ascending index.
 * idx must hold min(k, n) entries; v may be NULL only when n is 0.
 * k of 0 writes nothing.  No allocation, no I/O: O(n log k) comparisons
 * at worst, about n when most values do not enter the k best (a top-5 of
 * 1000 classes), so it can run on the request path.
 */
size_t	topk_select(const float *v, size_t n, size_t k, size_t *idx);

/*
 * topk_select() of the n logits x into idx, and the softmax probability
 * of each of those: prob[j] = exp(x[idx[j]] - m) / sum_i exp(x[i] - m),
 * in double, m the largest logit (so that no finite logit overflows).
 * Returns min(k, n); idx and prob must hold that many entries.  A NaN
 * logit makes every probability NaN (the caller checks its logits).
 */
size_t	topk_softmax(const float *x, size_t n, size_t k, size_t *idx,
	    double *prob);

#endif /* AG_TOPK_H */
