/* SPDX-License-Identifier: ISC */
/*
 * topk.c: the k best scores of a vector and their probabilities
 * (contract in topk.h).
 *
 * A binary heap of the k best seen so far, with the worst of them at the
 * root: a value that does not beat the root costs one comparison.  At the
 * end the heap is sorted in place, best first.  The comparison is a total
 * order (value, then index), so no tie is left to the heap's whims.
 */
#include <math.h>
#include <stddef.h>

#include "common/topk.h"

/* 1 when v[a] ranks before v[b] in the order of topk.h, else 0. */
static int
topk_before(const float *v, size_t a, size_t b)
{
	float x = v[a], y = v[b];
	int nx = isnan(x) != 0, ny = isnan(y) != 0;

	/* NaN after every number; among NaNs the index decides. */
	if (nx || ny) {
		if (nx != ny)
			return ny;
		return a < b;
	}
	if (x > y)
		return 1;
	if (x < y)
		return 0;
	/* Equal, -0.0 and +0.0 included: the lower index first. */
	return a < b;
}

/*
 * Restores the heap h[0, m) below slot p: each parent ranks after (is
 * worse than) its children, so h[0] is the worst.
 */
static void
topk_sift(const float *v, size_t *h, size_t m, size_t p)
{
	size_t c, t;

	while ((c = 2 * p + 1) < m) {
		/* The worse child. */
		if (c + 1 < m && topk_before(v, h[c], h[c + 1]))
			c++;
		if (!topk_before(v, h[p], h[c]))
			break;
		t = h[p];
		h[p] = h[c];
		h[c] = t;
		p = c;
	}
}

size_t
topk_select(const float *v, size_t n, size_t k, size_t *idx)
{
	size_t i, m, t;

	if (k > n)
		k = n;
	if (k == 0)
		return 0;
	for (i = 0; i < k; i++)
		idx[i] = i;
	for (i = k / 2; i > 0; i--)
		topk_sift(v, idx, k, i - 1);
	/* Only a value that beats the worst of the k best enters. */
	for (i = k; i < n; i++)
		if (topk_before(v, i, idx[0])) {
			idx[0] = i;
			topk_sift(v, idx, k, 0);
		}
	/* The worst to the end, one at a time: best first. */
	for (m = k; m > 1; m--) {
		t = idx[0];
		idx[0] = idx[m - 1];
		idx[m - 1] = t;
		topk_sift(v, idx, m - 1, 0);
	}
	return k;
}

size_t
topk_softmax(const float *x, size_t n, size_t k, size_t *idx, double *prob)
{
	double mx, sum = 0;
	size_t i, m;

	if (n == 0)
		return 0;
	mx = x[0];
	for (i = 1; i < n; i++)
		if (x[i] > mx)
			mx = x[i];
	for (i = 0; i < n; i++)
		sum += exp((double)x[i] - mx);
	m = topk_select(x, n, k, idx);
	for (i = 0; i < m; i++)
		prob[i] = exp((double)x[idx[i]] - mx) / sum;
	return m;
}
