/* SPDX-License-Identifier: ISC */
/*
 * test_topk.c: unit tests for the shared top-k (topk.c).
 *
 * Each case gives a vector and the exact indices expected, best first:
 * distinct values, equal values (all equal, ties inside the k best, ties
 * straddling the k-th place, ties that arrive after the k best are full),
 * k of 1, k equal to and past n, k of 0, -0.0 against +0.0, infinities
 * and NaN.  Then random vectors with few distinct values (many ties),
 * ascending and descending runs, each checked against a reference made
 * here by sorting (value, index) pairs with qsort.  topk_softmax(): the
 * same ranking, and each probability against a long double reference
 * (wide ranges, logits near FLT_MAX that must not overflow, one class,
 * equal logits).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/topk.h"
#include "test_helper.h"

#define MAXN	1000

/* Runs topk_select() on v[0, n) and compares with want[0, nwant). */
static void
check(const char *name, const float *v, size_t n, size_t k,
    const size_t *want, size_t nwant)
{
	size_t idx[64], i, got;

	TEST_START(name);
	for (i = 0; i < 64; i++)
		idx[i] = 999;
	got = topk_select(v, n, k, idx);
	ASSERT_INT_EQ(got, nwant);
	for (i = 0; i < nwant; i++)
		ASSERT_INT_EQ(idx[i], want[i]);
	/* Nothing written past min(k, n). */
	for (i = nwant; i < 64; i++)
		ASSERT_INT_EQ(idx[i], 999);
	TEST_DONE();
}

#define CHECK(name, v, k, ...) do {					\
	const size_t w_[] = { __VA_ARGS__ };				\
	check(name, v, sizeof(v) / sizeof(v[0]), k, w_,			\
	    sizeof(w_) / sizeof(w_[0]));				\
} while (0)

static void
test_cases(void)
{
	static const float distinct[] = { 0.5f, -2, 7, 3, 1e-3f, 6.5f };
	static const float ties[] = { 1, 3, 2, 3, 0, 3, 2, -1, 3, 2 };
	static const float same[] = { 4, 4, 4, 4, 4, 4, 4 };
	static const float edge[] = { 5, 1, 4, 4, 4, 0 };
	static const float late[] = { 0, 2, 2, 9, 2, 2 };
	static const float one[] = { 3, 7, 7, 1 };
	static const float zeros[] = { -0.0f, 0.0f, -0.0f, -1, 0.0f };
	static const float zeros2[] = { 0.0f, -0.0f, 0.0f };
	static const float inf[] = { -INFINITY, 1, INFINITY, -1e30f,
	    INFINITY };
	float nan[] = { NAN, 1, NAN, -INFINITY, INFINITY, -NAN };
	size_t idx[4] = { 7, 7, 7, 7 };

	CHECK("distinct values, k 3", distinct, 3, 2, 5, 3);
	CHECK("distinct values, k n", distinct, 6, 2, 5, 3, 0, 4, 1);
	CHECK("equal values: each tie by ascending index, k n", ties, 10,
	    1, 3, 5, 8, 2, 6, 9, 0, 4, 7);
	CHECK("equal values: a tie cut by the k-th place", ties, 5,
	    1, 3, 5, 8, 2);
	CHECK("equal values: k inside the best tie", ties, 2, 1, 3);
	CHECK("all equal, k n", same, 7, 0, 1, 2, 3, 4, 5, 6);
	CHECK("all equal, k 3", same, 3, 0, 1, 2);
	CHECK("all equal, k 1", same, 1, 0);
	CHECK("a tie at the k boundary: the lower indices enter", edge, 3,
	    0, 2, 3);
	CHECK("a tie past the boundary: the later equals stay out", late, 2,
	    3, 1);
	CHECK("late ties, k 4", late, 4, 3, 1, 2, 4);
	CHECK("k 1: the first of the best", one, 1, 1);
	CHECK("k past n: n written", one, 9, 1, 2, 0, 3);
	CHECK("-0.0 and +0.0 are equal: by index", zeros, 5, 0, 1, 2, 4, 3);
	CHECK("+0.0 and -0.0 are equal: by index", zeros2, 2, 0, 1);
	CHECK("infinities rank as numbers", inf, 5, 2, 4, 1, 3, 0);
	CHECK("NaN after every number, NaNs by index", nan, 6,
	    4, 1, 3, 0, 2, 5);
	CHECK("NaN never enters while a number is left", nan, 3, 4, 1, 3);
	nan[1] = NAN;
	nan[3] = NAN;
	nan[4] = NAN;
	CHECK("all NaN: by index", nan, 4, 0, 1, 2, 3);

	TEST_START("k 0 and n 0 write nothing");
	ASSERT_INT_EQ(topk_select(one, 4, 0, idx), 0);
	ASSERT_INT_EQ(topk_select(NULL, 0, 5, idx), 0);
	ASSERT_INT_EQ(idx[0], 7);
	TEST_DONE();
}

/* ==== against a reference ============================================== */

struct pair {
	float	p_v;
	size_t	p_i;
};

/* The documented order, written out independently for qsort. */
static int
pair_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	int xn = isnan(x->p_v) ? 1 : 0, yn = isnan(y->p_v) ? 1 : 0;

	if (xn != yn)
		return xn - yn;
	if (!xn && x->p_v != y->p_v)
		return x->p_v < y->p_v ? 1 : -1;
	return x->p_i < y->p_i ? -1 : x->p_i > y->p_i;
}

static int
matches_ref(const float *v, size_t n, size_t k)
{
	static struct pair ref[MAXN];
	static size_t idx[MAXN];
	size_t i, m;

	for (i = 0; i < n; i++) {
		ref[i].p_v = v[i];
		ref[i].p_i = i;
	}
	qsort(ref, n, sizeof(ref[0]), pair_cmp);
	m = topk_select(v, n, k, idx);
	if (m != (k < n ? k : n))
		return 0;
	for (i = 0; i < m; i++)
		if (idx[i] != ref[i].p_i) {
			fprintf(stderr, "    n %zu k %zu: place %zu is %zu, "
			    "want %zu\n", n, k, i, idx[i], ref[i].p_i);
			return 0;
		}
	return 1;
}

static void
test_reference(void)
{
	static float v[MAXN];
	static const size_t ks[] = { 1, 2, 3, 5, 10, 64, 999, 1000, 1001 };
	size_t i, j, n, bad = 0, runs = 0;

	srand(17);
	TEST_START("random vectors with many ties match a sort");
	for (j = 0; j < 3000; j++) {
		n = 1 + (size_t)rand() % (j < 2500 ? 40 : MAXN);
		for (i = 0; i < n; i++) {
			v[i] = (float)(rand() % 4);
			/* Now and then -0.0 or NaN. */
			if (rand() % 16 == 0)
				v[i] = rand() % 2 ? -0.0f : NAN;
		}
		bad += !matches_ref(v, n, 1 + (size_t)rand() % (n + 2));
		runs++;
	}
	ASSERT_INT_EQ(bad, 0);
	ASSERT_INT_EQ(runs, 3000);
	TEST_DONE();

	TEST_START("ascending, descending and flat runs of 1000");
	for (j = 0; j < sizeof(ks) / sizeof(ks[0]); j++) {
		for (i = 0; i < MAXN; i++)
			v[i] = (float)i;
		bad += !matches_ref(v, MAXN, ks[j]);
		for (i = 0; i < MAXN; i++)
			v[i] = (float)(MAXN - i);
		bad += !matches_ref(v, MAXN, ks[j]);
		for (i = 0; i < MAXN; i++)
			v[i] = (float)(i / 100);
		bad += !matches_ref(v, MAXN, ks[j]);
		for (i = 0; i < MAXN; i++)
			v[i] = 1;
		bad += !matches_ref(v, MAXN, ks[j]);
	}
	ASSERT_INT_EQ(bad, 0);
	TEST_DONE();
}

/*
 * topk_softmax() of x[0, n) with k = n: the order topk_select() gives,
 * probabilities within 1e-12 of a long double reference, summing to 1.
 */
static void
softmax_check(const char *name, const float *x, size_t n)
{
	size_t *idx = calloc(n, sizeof(*idx)), *ref = calloc(n, sizeof(*ref));
	double *p = calloc(n, sizeof(*p)), err = 0, total = 0, d;
	long double mx, sum = 0;
	size_t i, m;

	TEST_START(name);
	ASSERT_PTR_NE(idx, NULL);
	ASSERT_PTR_NE(ref, NULL);
	ASSERT_PTR_NE(p, NULL);
	m = topk_softmax(x, n, n, idx, p);
	ASSERT_INT_EQ((int)m, (int)n);
	ASSERT_INT_EQ((int)topk_select(x, n, n, ref), (int)n);
	ASSERT_INT_EQ(memcmp(idx, ref, n * sizeof(*idx)), 0);
	for (mx = x[0], i = 1; i < n; i++)
		mx = x[i] > mx ? x[i] : mx;
	for (i = 0; i < n; i++)
		sum += expl((long double)x[i] - mx);
	for (i = 0; i < n; i++) {
		d = fabs(p[i] - (double)(expl((long double)x[idx[i]] - mx) /
		    sum));
		err = d > err ? d : err;
		total += p[i];
		ASSERT_TRUE(isfinite(p[i]) && p[i] >= 0 && p[i] <= 1);
		/* Best first: the probabilities do not increase. */
		if (i > 0)
			ASSERT_DBL_LE(p[i], p[i - 1]);
	}
	ASSERT_DBL_LE(err, 1e-12);
	ASSERT_DBL_LE(fabs(total - 1.0), 1e-9);
	free(idx);
	free(ref);
	free(p);
	TEST_DONE();
}

static void
test_softmax(void)
{
	static float x[MAXN];
	float big[8] = { 1000.0f, 999.0f, -1000.0f, 0.0f, 88.0f, 1000.0f,
	    -3.4e38f, 3.4e38f };
	float one[1] = { 42.0f }, flat[5] = { 7, 7, 7, 7, 7 };
	size_t idx[5], i;
	double p[5];
	int ok;

	srand(66);
	for (i = 0; i < 10; i++)
		x[i] = (float)(rand() % 1000) / 100.0f - 5.0f;
	softmax_check("topk_softmax 10 classes", x, 10);
	for (i = 0; i < MAXN; i++)
		x[i] = (float)(rand() % 4000) / 100.0f - 20.0f;
	softmax_check("topk_softmax 1000 classes, wide range", x, MAXN);
	softmax_check("topk_softmax huge logits do not overflow", big, 8);
	softmax_check("topk_softmax equal logits", flat, 5);

	TEST_START("topk_softmax one class gives 1, equal logits 1/c");
	ASSERT_INT_EQ((int)topk_softmax(one, 1, 5, idx, p), 1);
	ASSERT_TRUE(idx[0] == 0 && p[0] == 1.0);
	ASSERT_INT_EQ((int)topk_softmax(flat, 5, 5, idx, p), 5);
	for (i = 0, ok = 1; i < 5; i++)
		ok &= idx[i] == i && fabs(p[i] - 0.2) < 1e-15;
	ASSERT_TRUE(ok);
	TEST_DONE();

	TEST_START("topk_softmax: the k best only, n 0 writes nothing");
	ASSERT_INT_EQ((int)topk_softmax(big, 8, 2, idx, p), 2);
	/* 3.4e38 ranks first with probability 1; then 1000 (index 0). */
	ASSERT_TRUE(idx[0] == 7 && idx[1] == 0);
	ASSERT_TRUE(p[0] == 1.0 && p[1] == 0.0);
	ASSERT_INT_EQ((int)topk_softmax(NULL, 0, 3, idx, p), 0);
	TEST_DONE();
}

void
tests(void)
{
	test_plan(28);
	test_cases();
	test_reference();
	test_softmax();
}
