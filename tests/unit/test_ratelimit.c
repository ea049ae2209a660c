/* SPDX-License-Identifier: ISC */
/*
 * test_ratelimit.c: the token buckets and the tables per key
 * (src/http/ratelimit.c): bursts, refills, Retry-After, requests larger
 * than the burst, no limit, a clock that goes backwards, limits changed
 * between calls, LRU eviction at the cap, in-flight counters, and one key
 * hammered from several threads on a fake clock.
 */
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "http/ratelimit.h"
#include "test_helper.h"

/* Whether a is within eps of b. */
#define NEAR(a, b, eps)	(fabs((double)(a) - (double)(b)) <= (eps))

static void
test_bucket(void)
{
	struct rl_bucket b;
	double w;
	int i;

	TEST_START("bucket: starts full, takes the burst, then refuses");
	memset(&b, 0, sizeof(b));
	for (i = 0; i < 5; i++)
		ASSERT_TRUE(rl_take(&b, 2, 5, 1, 100) == 0);
	w = rl_take(&b, 2, 5, 1, 100);
	/* One unit at 2/s: half a second. */
	ASSERT_TRUE(NEAR(w, 0.5, 1e-9));
	/* A refusal takes nothing: the same wait again. */
	ASSERT_TRUE(NEAR(rl_take(&b, 2, 5, 1, 100), 0.5, 1e-9));
	/* Three units: 1.5 s. */
	ASSERT_TRUE(NEAR(rl_take(&b, 2, 5, 3, 100), 1.5, 1e-9));
	TEST_DONE();

	TEST_START("bucket: refills at rate, never above the burst");
	/* Empty at 100; 0.25 s at 2/s is half a unit: not yet. */
	w = rl_take(&b, 2, 5, 1, 100.25);
	ASSERT_TRUE(NEAR(w, 0.25, 1e-9));
	ASSERT_TRUE(rl_take(&b, 2, 5, 1, 100.5) == 0);
	ASSERT_TRUE(rl_take(&b, 2, 5, 1, 100.5) > 0);
	/* Ten units' worth of time, but the bucket holds 5. */
	for (i = 0; i < 5; i++)
		ASSERT_TRUE(rl_take(&b, 2, 5, 1, 105.5) == 0);
	ASSERT_TRUE(rl_take(&b, 2, 5, 1, 105.5) > 0);
	/* A fractional rate: 10 per s, 0.1 s steps, each exactly one. */
	memset(&b, 0, sizeof(b));
	ASSERT_TRUE(rl_take(&b, 10, 1, 1, 0) == 0);
	for (i = 1; i <= 100; i++) {
		ASSERT_TRUE(rl_take(&b, 10, 1, 1, i * 0.1) == 0);
		ASSERT_TRUE(rl_take(&b, 10, 1, 1, i * 0.1) > 0);
	}
	TEST_DONE();

	TEST_START("bucket: images take n units at once");
	memset(&b, 0, sizeof(b));
	ASSERT_TRUE(rl_take(&b, 4, 8, 6, 0) == 0);
	/* 2 left, 3 asked: one unit at 4/s. */
	ASSERT_TRUE(NEAR(rl_take(&b, 4, 8, 3, 0), 0.25, 1e-9));
	ASSERT_TRUE(rl_take(&b, 4, 8, 2, 0) == 0);
	ASSERT_TRUE(rl_take(&b, 4, 8, 3, 0.75) == 0);
	/* n <= 0 takes nothing and passes. */
	ASSERT_TRUE(rl_take(&b, 4, 8, 0, 0.75) == 0);
	ASSERT_TRUE(rl_take(&b, 4, 8, -3, 0.75) == 0);
	ASSERT_TRUE(rl_take(&b, 4, 8, 1, 0.75) > 0);
	TEST_DONE();
}

static void
test_retry_after(void)
{
	TEST_START("retry-after: ceil, at least 1, at most a day");
	ASSERT_INT_EQ(rl_retry_after(1e-6), 1);
	ASSERT_INT_EQ(rl_retry_after(0.5), 1);
	ASSERT_INT_EQ(rl_retry_after(1), 1);
	ASSERT_INT_EQ(rl_retry_after(1.0001), 2);
	ASSERT_INT_EQ(rl_retry_after(2), 2);
	ASSERT_INT_EQ(rl_retry_after(59.2), 60);
	ASSERT_INT_EQ(rl_retry_after(86400), 86400);
	ASSERT_INT_EQ(rl_retry_after(1e12), 86400);
	ASSERT_INT_EQ(rl_retry_after(INFINITY), 86400);
	/* Never 0, whatever comes in. */
	ASSERT_INT_EQ(rl_retry_after(0), 1);
	ASSERT_INT_EQ(rl_retry_after(-5), 1);
	ASSERT_INT_EQ(rl_retry_after(NAN), 1);
	TEST_DONE();
}

static void
test_edges(void)
{
	struct rl_bucket b;
	double w;
	int i;

	TEST_START("bucket: n over the burst: refused with a finite wait");
	memset(&b, 0, sizeof(b));
	/* Full bucket: nothing to wait for, but still a refusal (> 0). */
	w = rl_take(&b, 2, 4, 5, 0);
	ASSERT_TRUE(w > 0 && isfinite(w));
	ASSERT_INT_EQ(rl_retry_after(w), 1);
	/* It took nothing. */
	for (i = 0; i < 4; i++)
		ASSERT_TRUE(rl_take(&b, 2, 4, 1, 0) == 0);
	/* Empty: the time to fill the whole bucket, 4 units at 2/s. */
	w = rl_take(&b, 2, 4, 1000, 0);
	ASSERT_TRUE(NEAR(w, 2, 1e-9));
	ASSERT_INT_EQ(rl_retry_after(w), 2);
	/* A rate near 0: still finite. */
	memset(&b, 0, sizeof(b));
	ASSERT_TRUE(rl_take(&b, 1e-300, 1, 1, 0) == 0);
	w = rl_take(&b, 1e-300, 1, 1, 0);
	ASSERT_TRUE(w > 0 && isfinite(w));
	ASSERT_INT_EQ(rl_retry_after(w), 86400);
	TEST_DONE();

	TEST_START("bucket: rate <= 0 is no limit; burst <= 0 is max(rate, 1)");
	memset(&b, 0, sizeof(b));
	for (i = 0; i < 1000; i++) {
		ASSERT_TRUE(rl_take(&b, 0, 1, 1, 0) == 0);
		ASSERT_TRUE(rl_take(&b, -1, 1, 1, 0) == 0);
		ASSERT_TRUE(rl_take(&b, INFINITY, 1, 5, 0) == 0);
	}
	/* burst 0 at rate 3: a burst of 3. */
	memset(&b, 0, sizeof(b));
	for (i = 0; i < 3; i++)
		ASSERT_TRUE(rl_take(&b, 3, 0, 1, 0) == 0);
	ASSERT_TRUE(rl_take(&b, 3, 0, 1, 0) > 0);
	/* burst -1 at rate 0.5: a burst of 1. */
	memset(&b, 0, sizeof(b));
	ASSERT_TRUE(rl_take(&b, 0.5, -1, 1, 0) == 0);
	ASSERT_TRUE(NEAR(rl_take(&b, 0.5, -1, 1, 0), 2, 1e-9));
	TEST_DONE();

	TEST_START("bucket: a clock that goes backwards adds nothing");
	memset(&b, 0, sizeof(b));
	ASSERT_TRUE(rl_take(&b, 1, 2, 2, 50) == 0);
	/* Back 40 s, then forward to 49: still before 50, nothing new. */
	ASSERT_TRUE(rl_take(&b, 1, 2, 1, 10) > 0);
	ASSERT_TRUE(rl_take(&b, 1, 2, 1, 49) > 0);
	/* The time since 50 counts once, not from the backwards reading. */
	ASSERT_TRUE(rl_take(&b, 1, 2, 1, 51) == 0);
	ASSERT_TRUE(rl_take(&b, 1, 2, 1, 51) > 0);
	/* Not a number, or infinite: no time passed either. */
	ASSERT_TRUE(rl_take(&b, 1, 2, 1, NAN) > 0);
	ASSERT_TRUE(rl_take(&b, 1, 2, 1, INFINITY) > 0);
	ASSERT_TRUE(rl_take(&b, 1, 2, 1, -INFINITY) > 0);
	ASSERT_TRUE(rl_take(&b, 1, 2, 1, 52) == 0);
	TEST_DONE();

	TEST_START("bucket: rate and burst changed between calls");
	memset(&b, 0, sizeof(b));
	/* Full at 10; the burst drops to 3: 3 left, no more. */
	ASSERT_TRUE(rl_take(&b, 1, 10, 1, 0) == 0);
	for (i = 0; i < 3; i++)
		ASSERT_TRUE(rl_take(&b, 1, 3, 1, 0) == 0);
	ASSERT_TRUE(rl_take(&b, 1, 3, 1, 0) > 0);
	/* The burst grows back to 10: the units held stay (0), no gift. */
	ASSERT_TRUE(rl_take(&b, 1, 10, 1, 0) > 0);
	/* The rate goes to 100/s: 0.05 s gives 5 units. */
	for (i = 0; i < 5; i++)
		ASSERT_TRUE(rl_take(&b, 100, 10, 1, 0.05) == 0);
	ASSERT_TRUE(rl_take(&b, 100, 10, 1, 0.05) > 0);
	/* Down to 1/s: one unit takes a second. */
	ASSERT_TRUE(NEAR(rl_take(&b, 1, 10, 1, 0.05), 1, 1e-9));
	TEST_DONE();
}

static void
test_table(void)
{
	struct rl_table *t;
	char key[32];
	int i, n;

	TEST_START("table: one bucket per key, keys by length and bytes");
	t = rl_table_new(16);
	ASSERT_PTR_NE(t, NULL);
	ASSERT_INT_EQ(rl_table_size(t), 0);
	ASSERT_TRUE(rl_table_take(t, "10.0.0.1", 8, 1, 2, 1, 0) == 0);
	ASSERT_TRUE(rl_table_take(t, "10.0.0.1", 8, 1, 2, 1, 0) == 0);
	ASSERT_TRUE(rl_table_take(t, "10.0.0.1", 8, 1, 2, 1, 0) > 0);
	/* Another key, a prefix of it, and one with a NUL byte: their own. */
	ASSERT_TRUE(rl_table_take(t, "10.0.0.2", 8, 1, 2, 2, 0) == 0);
	ASSERT_TRUE(rl_table_take(t, "10.0.0.", 7, 1, 2, 2, 0) == 0);
	ASSERT_TRUE(rl_table_take(t, "10.0.0.1\0", 9, 1, 2, 2, 0) == 0);
	ASSERT_TRUE(rl_table_take(t, "", 0, 1, 2, 2, 0) == 0);
	ASSERT_TRUE(rl_table_take(t, NULL, 0, 1, 2, 1, 0) > 0);
	ASSERT_INT_EQ(rl_table_size(t), 5);
	/* No limit: passes and holds no bucket. */
	ASSERT_TRUE(rl_table_take(t, "other", 5, 0, 2, 1, 0) == 0);
	ASSERT_INT_EQ(rl_table_size(t), 5);
	/* The first key refills like a bucket. */
	ASSERT_TRUE(rl_table_take(t, "10.0.0.1", 8, 1, 2, 1, 1) == 0);
	ASSERT_TRUE(rl_table_take(t, "10.0.0.1", 8, 1, 2, 1, 1) > 0);
	rl_table_free(t);
	rl_table_free(NULL);
	TEST_DONE();

	TEST_START("table: a key over RL_KEY_MAX bytes counts by its prefix");
	{
		char a[RL_KEY_MAX + 20], b[RL_KEY_MAX + 20];

		t = rl_table_new(4);
		ASSERT_PTR_NE(t, NULL);
		memset(a, 'a', sizeof(a));
		memcpy(b, a, sizeof(b));
		b[sizeof(b) - 1] = 'b';
		ASSERT_TRUE(rl_table_take(t, a, sizeof(a), 1, 1, 1, 0) == 0);
		ASSERT_TRUE(rl_table_take(t, b, sizeof(b), 1, 1, 1, 0) > 0);
		ASSERT_TRUE(rl_table_take(t, a, RL_KEY_MAX, 1, 1, 1, 0) > 0);
		ASSERT_INT_EQ(rl_table_size(t), 1);
		rl_table_free(t);
	}
	TEST_DONE();

	TEST_START("table: full, the least recently used bucket goes");
	t = rl_table_new(3);
	ASSERT_PTR_NE(t, NULL);
	/* Burst 1, no refill in the test's time: a present key refuses. */
	ASSERT_TRUE(rl_table_take(t, "a", 1, 1, 1, 1, 0) == 0);
	ASSERT_TRUE(rl_table_take(t, "b", 1, 1, 1, 1, 0) == 0);
	ASSERT_TRUE(rl_table_take(t, "c", 1, 1, 1, 1, 0) == 0);
	/* a used again (refused, but used): b is now the oldest. */
	ASSERT_TRUE(rl_table_take(t, "a", 1, 1, 1, 1, 0) > 0);
	ASSERT_TRUE(rl_table_take(t, "d", 1, 1, 1, 1, 0) == 0);
	ASSERT_INT_EQ(rl_table_size(t), 3);
	/* a, c, d are held (empty); b was dropped and comes back full. */
	ASSERT_TRUE(rl_table_take(t, "a", 1, 1, 1, 1, 0) > 0);
	ASSERT_TRUE(rl_table_take(t, "d", 1, 1, 1, 1, 0) > 0);
	ASSERT_TRUE(rl_table_take(t, "c", 1, 1, 1, 1, 0) > 0);
	/* Order now, oldest first: a, d, c.  b pushes a out. */
	ASSERT_TRUE(rl_table_take(t, "b", 1, 1, 1, 1, 0) == 0);
	ASSERT_TRUE(rl_table_take(t, "d", 1, 1, 1, 1, 0) > 0);
	ASSERT_TRUE(rl_table_take(t, "c", 1, 1, 1, 1, 0) > 0);
	ASSERT_TRUE(rl_table_take(t, "b", 1, 1, 1, 1, 0) > 0);
	ASSERT_TRUE(rl_table_take(t, "a", 1, 1, 1, 1, 0) == 0);
	ASSERT_INT_EQ(rl_table_size(t), 3);
	rl_table_free(t);
	/* A table of one. */
	t = rl_table_new(1);
	ASSERT_PTR_NE(t, NULL);
	ASSERT_TRUE(rl_table_take(t, "a", 1, 1, 1, 1, 0) == 0);
	ASSERT_TRUE(rl_table_take(t, "a", 1, 1, 1, 1, 0) > 0);
	ASSERT_TRUE(rl_table_take(t, "b", 1, 1, 1, 1, 0) == 0);
	ASSERT_TRUE(rl_table_take(t, "a", 1, 1, 1, 1, 0) == 0);
	ASSERT_INT_EQ(rl_table_size(t), 1);
	rl_table_free(t);
	TEST_DONE();

	TEST_START("table: many distinct keys stay within the cap");
	t = rl_table_new(64);
	ASSERT_PTR_NE(t, NULL);
	for (i = 0; i < 100000; i++) {
		n = snprintf(key, sizeof(key), "192.0.2.%d:%d", i % 256, i);
		ASSERT_TRUE(rl_table_take(t, key, (size_t)n, 1, 1, 1, 0) == 0);
		ASSERT_INT_LE(rl_table_size(t), 64);
	}
	ASSERT_INT_EQ(rl_table_size(t), 64);
	/* The 64 latest are held (empty), the one before them is not. */
	for (i = 100000 - 64; i < 100000; i++) {
		n = snprintf(key, sizeof(key), "192.0.2.%d:%d", i % 256, i);
		ASSERT_TRUE(rl_table_take(t, key, (size_t)n, 1, 1, 1, 0) > 0);
	}
	rl_table_free(t);
	TEST_DONE();

	TEST_START("table: a cap of 0 or too large is refused");
	ASSERT_PTR_EQ(rl_table_new(0), NULL);
	ASSERT_PTR_EQ(rl_table_new(SIZE_MAX), NULL);
	ASSERT_PTR_EQ(rl_inflight_new(0), NULL);
	ASSERT_PTR_EQ(rl_inflight_new(SIZE_MAX / 2), NULL);
	TEST_DONE();
}

static void
test_inflight(void)
{
	struct rl_inflight *t;
	int i;

	TEST_START("inflight: enter up to max, leave, count");
	t = rl_inflight_new(8);
	ASSERT_PTR_NE(t, NULL);
	ASSERT_INT_EQ(rl_inflight_count(t, "tok", 3), 0);
	for (i = 0; i < 3; i++)
		ASSERT_INT_EQ(rl_inflight_enter(t, "tok", 3, 3), 0);
	ASSERT_INT_EQ(rl_inflight_count(t, "tok", 3), 3);
	ASSERT_INT_EQ(rl_inflight_enter(t, "tok", 3, 3), -1);
	ASSERT_INT_EQ(rl_inflight_count(t, "tok", 3), 3);
	/* Another key is not held to this one's count. */
	ASSERT_INT_EQ(rl_inflight_enter(t, "tok2", 4, 3), 0);
	rl_inflight_leave(t, "tok", 3);
	ASSERT_INT_EQ(rl_inflight_count(t, "tok", 3), 2);
	ASSERT_INT_EQ(rl_inflight_enter(t, "tok", 3, 3), 0);
	ASSERT_INT_EQ(rl_inflight_enter(t, "tok", 3, 3), -1);
	/* A lower max (reloaded) refuses until the count is below it. */
	ASSERT_INT_EQ(rl_inflight_enter(t, "tok", 3, 2), -1);
	for (i = 0; i < 3; i++)
		rl_inflight_leave(t, "tok", 3);
	ASSERT_INT_EQ(rl_inflight_count(t, "tok", 3), 0);
	/* Leaving more than entered: never below 0. */
	rl_inflight_leave(t, "tok", 3);
	rl_inflight_leave(t, "never", 5);
	ASSERT_INT_EQ(rl_inflight_count(t, "tok", 3), 0);
	ASSERT_INT_EQ(rl_inflight_enter(t, "tok", 3, 1), 0);
	ASSERT_INT_EQ(rl_inflight_count(t, "tok", 3), 1);
	rl_inflight_free(t);
	rl_inflight_free(NULL);
	TEST_DONE();

	TEST_START("inflight: max <= 0 is no cap, still counted");
	t = rl_inflight_new(2);
	ASSERT_PTR_NE(t, NULL);
	for (i = 0; i < 1000; i++)
		ASSERT_INT_EQ(rl_inflight_enter(t, "a", 1, 0), 0);
	ASSERT_INT_EQ(rl_inflight_count(t, "a", 1), 1000);
	ASSERT_INT_EQ(rl_inflight_enter(t, "a", 1, -1), 0);
	ASSERT_INT_EQ(rl_inflight_count(t, "a", 1), 1001);
	rl_inflight_free(t);
	TEST_DONE();

	TEST_START("inflight: a full table of keys in flight refuses new keys");
	t = rl_inflight_new(2);
	ASSERT_PTR_NE(t, NULL);
	ASSERT_INT_EQ(rl_inflight_enter(t, "a", 1, 5), 0);
	ASSERT_INT_EQ(rl_inflight_enter(t, "b", 1, 5), 0);
	ASSERT_INT_EQ(rl_inflight_enter(t, "c", 1, 5), -1);
	/* Keys held still enter. */
	ASSERT_INT_EQ(rl_inflight_enter(t, "a", 1, 5), 0);
	/* No cap: passes uncounted, and its leave takes nothing off. */
	ASSERT_INT_EQ(rl_inflight_enter(t, "c", 1, 0), 0);
	ASSERT_INT_EQ(rl_inflight_count(t, "c", 1), 0);
	rl_inflight_leave(t, "c", 1);
	ASSERT_INT_EQ(rl_inflight_count(t, "a", 1), 2);
	ASSERT_INT_EQ(rl_inflight_count(t, "b", 1), 1);
	/* b drops to 0: its room goes to c. */
	rl_inflight_leave(t, "b", 1);
	ASSERT_INT_EQ(rl_inflight_enter(t, "c", 1, 5), 0);
	ASSERT_INT_EQ(rl_inflight_count(t, "c", 1), 1);
	ASSERT_INT_EQ(rl_inflight_enter(t, "b", 1, 5), -1);
	/* a is kept while in flight, however old. */
	ASSERT_INT_EQ(rl_inflight_count(t, "a", 1), 2);
	rl_inflight_free(t);
	TEST_DONE();
}

/*
 * Several threads take from one key as fast as they can while a clock
 * thread moves a fake clock on in steps; the clock waits, at each step,
 * until a thread was refused at that time (the bucket is empty), so that
 * no refill is lost to a full bucket.  Admitted in all: the burst plus
 * rate * elapsed, to one unit.
 */
#define HAM_THREADS	4
#define HAM_STEPS	4000
#define HAM_STEP	0.001	/* seconds */
#define HAM_RATE	250.0	/* a quarter unit per step */
#define HAM_BURST	20.0

struct hammer {
	struct rl_table	*h_table;
	uint64_t	 h_tick;	/* the fake clock, in steps; atomic */
	uint64_t	 h_drained;	/* refused at this tick; atomic */
	int		 h_stop;	/* atomic */
};

struct hammer_thread {
	struct hammer	*ht_h;
	long		 ht_admitted;
};

static void *
hammer_run(void *arg)
{
	struct hammer_thread *ht = arg;
	struct hammer *h = ht->ht_h;
	uint64_t tick;

	while (!__atomic_load_n(&h->h_stop, __ATOMIC_ACQUIRE)) {
		tick = __atomic_load_n(&h->h_tick, __ATOMIC_ACQUIRE);
		if (rl_table_take(h->h_table, "flood", 5, HAM_RATE, HAM_BURST,
		    1, tick * HAM_STEP) == 0)
			ht->ht_admitted++;
		else
			__atomic_store_n(&h->h_drained, tick,
			    __ATOMIC_RELEASE);
	}
	return NULL;
}

static void
hammer_wait_drained(struct hammer *h, uint64_t tick)
{
	while (__atomic_load_n(&h->h_drained, __ATOMIC_ACQUIRE) != tick)
		sched_yield();
}

static void
test_threads(void)
{
	struct hammer h;
	struct hammer_thread ht[HAM_THREADS];
	pthread_t t[HAM_THREADS];
	long total = 0;
	double want;
	uint64_t tick;
	int i;

	TEST_START("table: threads on one key admit burst + rate * elapsed");
	memset(&h, 0, sizeof(h));
	h.h_table = rl_table_new(4);
	ASSERT_PTR_NE(h.h_table, NULL);
	h.h_drained = UINT64_MAX;
	for (i = 0; i < HAM_THREADS; i++) {
		ht[i].ht_h = &h;
		ht[i].ht_admitted = 0;
		ASSERT_INT_EQ(pthread_create(&t[i], NULL, hammer_run, &ht[i]),
		    0);
	}
	for (tick = 0; tick < HAM_STEPS; tick++) {
		hammer_wait_drained(&h, tick);
		__atomic_store_n(&h.h_tick, tick + 1, __ATOMIC_RELEASE);
	}
	hammer_wait_drained(&h, HAM_STEPS);
	__atomic_store_n(&h.h_stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < HAM_THREADS; i++) {
		ASSERT_INT_EQ(pthread_join(t[i], NULL), 0);
		total += ht[i].ht_admitted;
	}
	/* Nothing left at the last tick either. */
	ASSERT_TRUE(rl_table_take(h.h_table, "flood", 5, HAM_RATE, HAM_BURST,
	    1, HAM_STEPS * HAM_STEP) > 0);
	want = HAM_BURST + HAM_RATE * HAM_STEPS * HAM_STEP;	/* 1020 */
	printf("# %d threads admitted %ld, burst + rate * elapsed %.0f\n",
	    HAM_THREADS, total, want);
	ASSERT_DBL_GE(total, want - 1);
	ASSERT_DBL_LE(total, want);
	ASSERT_INT_EQ(rl_table_size(h.h_table), 1);
	rl_table_free(h.h_table);
	TEST_DONE();
}

void
tests(void)
{
	test_plan(17);
	ASSERT_INT_EQ(rl_init(), 0);
	test_bucket();
	test_retry_after();
	test_edges();
	test_table();
	test_inflight();
	test_threads();
}
