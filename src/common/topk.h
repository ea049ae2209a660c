/* SPDX-License-Identifier: ISC */
/*
 * topk.h: the k best scores of a vector, in one total order.
 *
 * Every place that ranks classes (the classify endpoint, the infer
 * classification extension, aiguard classify) uses this one function, so
 * that equal scores come out in the same order everywhere.
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

#endif /* AG_TOPK_H */
