/* SPDX-License-Identifier: ISC */
/*
 * test_limits.c: the HTTP server's admission arithmetic (src/http/limits.c):
 * the in-flight body budget, how a body buffer grows, the connection
 * limits, and libmicrohttpd's backstop limits above ours.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ag_err.h"
#include "http/limits.h"
#include "test_helper.h"

#define MIB	(1024 * 1024)

static void
test_budget(void)
{
	struct limits_budget b;

	TEST_START("budget: charges up to the limit, no further");
	limits_budget_init(&b, 10 * MIB);
	ASSERT_INT_EQ(limits_budget_used(&b), 0);
	ASSERT_TRUE(limits_budget_fits(&b, 10 * MIB));
	ASSERT_FALSE(limits_budget_fits(&b, 10 * MIB + 1));
	ASSERT_INT_EQ(limits_budget_charge(&b, 4 * MIB), 0);
	ASSERT_INT_EQ(limits_budget_charge(&b, 6 * MIB), 0);
	ASSERT_INT_EQ(limits_budget_used(&b), 10 * MIB);
	ASSERT_FALSE(limits_budget_fits(&b, 1));
	ASSERT_INT_EQ(limits_budget_charge(&b, 1), AG_ERR_BUSY);
	/* A refused charge takes nothing. */
	ASSERT_INT_EQ(limits_budget_used(&b), 10 * MIB);
	limits_budget_release(&b, 4 * MIB);
	ASSERT_INT_EQ(limits_budget_used(&b), 6 * MIB);
	ASSERT_TRUE(limits_budget_fits(&b, 4 * MIB));
	ASSERT_INT_EQ(limits_budget_charge(&b, 4 * MIB + 1), AG_ERR_BUSY);
	ASSERT_INT_EQ(limits_budget_charge(&b, 4 * MIB), 0);
	TEST_DONE();

	TEST_START("budget: no overflow, no underflow");
	limits_budget_init(&b, 10 * MIB);
	ASSERT_INT_EQ(limits_budget_charge(&b, 1 * MIB), 0);
	ASSERT_INT_EQ(limits_budget_charge(&b, SIZE_MAX), AG_ERR_BUSY);
	ASSERT_INT_EQ(limits_budget_charge(&b, SIZE_MAX - MIB + 1),
	    AG_ERR_BUSY);
	ASSERT_FALSE(limits_budget_fits(&b, SIZE_MAX));
	ASSERT_INT_EQ(limits_budget_used(&b), 1 * MIB);
	limits_budget_release(&b, 5 * MIB);	/* more than charged */
	ASSERT_INT_EQ(limits_budget_used(&b), 0);
	ASSERT_INT_EQ(limits_budget_charge(&b, 0), 0);
	TEST_DONE();
}

/* Charges and releases from several threads: the books balance. */
#define RACE_THREADS	4
#define RACE_ROUNDS	100000

struct race {
	struct limits_budget	*b;
	int			 refused;
};

static void *
race_run(void *arg)
{
	struct race *r = arg;
	int i;

	for (i = 0; i < RACE_ROUNDS; i++) {
		if (limits_budget_charge(r->b, 3) != 0) {
			r->refused++;
			continue;
		}
		limits_budget_release(r->b, 3);
	}
	return NULL;
}

static void
test_budget_threads(void)
{
	struct limits_budget b;
	struct race r[RACE_THREADS];
	pthread_t t[RACE_THREADS];
	int i;

	TEST_START("budget: charges from threads at once never pass the limit");
	/* Room for two charges of 3 at a time among four threads. */
	limits_budget_init(&b, 7);
	for (i = 0; i < RACE_THREADS; i++) {
		r[i].b = &b;
		r[i].refused = 0;
		ASSERT_INT_EQ(pthread_create(&t[i], NULL, race_run, &r[i]), 0);
	}
	for (i = 0; i < RACE_THREADS; i++)
		ASSERT_INT_EQ(pthread_join(t[i], NULL), 0);
	ASSERT_INT_EQ(limits_budget_used(&b), 0);
	TEST_DONE();
}

static void
test_body_grow(void)
{
	TEST_START("body: the first bytes take a small buffer, not the length");
	/* 30 MiB announced, one byte arrived: 16 KiB. */
	ASSERT_INT_EQ(limits_body_grow(0, 1, 30 * MIB, 32 * MIB),
	    LIMITS_BODY_FIRST);
	/* Announced less than that: exactly the announced length. */
	ASSERT_INT_EQ(limits_body_grow(0, 1, 100, 32 * MIB), 100);
	/* Chunked (0 announced): up to the limit. */
	ASSERT_INT_EQ(limits_body_grow(0, 1, 0, 32 * MIB), LIMITS_BODY_FIRST);
	TEST_DONE();

	TEST_START("body: grows by doubling, capped by the length and the limit");
	ASSERT_INT_EQ(limits_body_grow(LIMITS_BODY_FIRST,
	    LIMITS_BODY_FIRST + 1, 30 * MIB, 32 * MIB), 2 * LIMITS_BODY_FIRST);
	ASSERT_INT_EQ(limits_body_grow(LIMITS_BODY_FIRST, 5 * MIB, 30 * MIB,
	    32 * MIB), 8 * MIB);
	ASSERT_INT_EQ(limits_body_grow(16 * MIB, 16 * MIB + 1, 30 * MIB,
	    32 * MIB), 30 * MIB);
	ASSERT_INT_EQ(limits_body_grow(16 * MIB, 16 * MIB + 1, 0, 20 * MIB),
	    20 * MIB);
	/* Enough already: unchanged. */
	ASSERT_INT_EQ(limits_body_grow(64 * 1024, 1000, 30 * MIB, 32 * MIB),
	    64 * 1024);
	/* Exactly the length. */
	ASSERT_INT_EQ(limits_body_grow(2 * MIB, 3 * MIB, 3 * MIB, 32 * MIB),
	    3 * MIB);
	TEST_DONE();

	TEST_START("body: over the length or the limit, 0");
	ASSERT_INT_EQ(limits_body_grow(0, 101, 100, 32 * MIB), 0);
	ASSERT_INT_EQ(limits_body_grow(0, 32 * MIB + 1, 0, 32 * MIB), 0);
	/* An announced length over the limit is bounded by the limit. */
	ASSERT_INT_EQ(limits_body_grow(0, 33 * MIB, 64 * MIB, 32 * MIB), 0);
	ASSERT_INT_EQ(limits_body_grow(0, SIZE_MAX, 0, SIZE_MAX - 1), 0);
	ASSERT_INT_EQ(limits_body_grow(SIZE_MAX / 2 + 1, SIZE_MAX / 2 + 2, 0,
	    SIZE_MAX), SIZE_MAX);
	TEST_DONE();
}

static void
test_admit(void)
{
	TEST_START("admit: below the limits, at the total, at the address");
	ASSERT_INT_EQ(limits_admit(0, 0, 256, 64), LIMITS_ADMIT_OK);
	ASSERT_INT_EQ(limits_admit(255, 63, 256, 64), LIMITS_ADMIT_OK);
	ASSERT_INT_EQ(limits_admit(100, 64, 256, 64), LIMITS_ADMIT_PER_IP);
	ASSERT_INT_EQ(limits_admit(256, 10, 256, 64), LIMITS_ADMIT_TOTAL);
	ASSERT_INT_EQ(limits_admit(256, 64, 256, 64), LIMITS_ADMIT_TOTAL);
	TEST_DONE();

	TEST_START("admit: libmicrohttpd's limits stay above ours");
	/* Each thread's share covers our total, with room. */
	ASSERT_INT_GT(limits_mhd_total(256, 2) / 2, 256);
	ASSERT_INT_GT(limits_mhd_total(256, 7) / 7, 256);
	ASSERT_INT_GT(limits_mhd_total(1, 64) / 64, 1);
	/* Room for as many clients gone as live ones. */
	ASSERT_INT_GE(limits_mhd_per_ip(64), 128);
	ASSERT_INT_GE(limits_mhd_per_ip(1), 2);
	ASSERT_INT_EQ(limits_front_files(256, 2),
	    (long long)limits_mhd_total(256, 2) + 64);
	/* Bounded for the largest settings. */
	ASSERT_INT_LE(limits_mhd_total(65536, 64), 1000000);
	ASSERT_INT_LE(limits_mhd_per_ip(65536), 1000000);
	TEST_DONE();
}

void
tests(void)
{
	test_plan(8);
	test_budget();
	test_budget_threads();
	test_body_grow();
	test_admit();
}
