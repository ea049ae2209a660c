/* SPDX-License-Identifier: ISC */
/*
 * limits.c: the HTTP server's admission arithmetic (see limits.h).
 */
#include <stddef.h>
#include <stdint.h>

#include "common/ag_err.h"
#include "limits.h"

void
limits_budget_init(struct limits_budget *b, size_t limit)
{
	b->lb_limit = limit;
	b->lb_used = 0;
}

int
limits_budget_charge(struct limits_budget *b, size_t n)
{
	size_t used, want;

	used = __atomic_load_n(&b->lb_used, __ATOMIC_RELAXED);
	do {
		if (n > b->lb_limit || used > b->lb_limit - n)
			return AG_ERR_BUSY;
		want = used + n;
	} while (!__atomic_compare_exchange_n(&b->lb_used, &used, want, 1,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return 0;
}

void
limits_budget_release(struct limits_budget *b, size_t n)
{
	size_t used;

	used = __atomic_load_n(&b->lb_used, __ATOMIC_RELAXED);
	/* Never below zero, whatever a caller's bug. */
	while (!__atomic_compare_exchange_n(&b->lb_used, &used,
	    n > used ? 0 : used - n, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

size_t
limits_budget_used(struct limits_budget *b)
{
	return __atomic_load_n(&b->lb_used, __ATOMIC_RELAXED);
}

int
limits_budget_fits(struct limits_budget *b, size_t n)
{
	size_t used = limits_budget_used(b);

	return n <= b->lb_limit && used <= b->lb_limit - n;
}

size_t
limits_body_grow(size_t cap, size_t need, size_t announced, size_t max)
{
	size_t top = announced > 0 && announced < max ? announced : max;

	if (need > top)
		return 0;
	if (need <= cap)
		return cap;
	if (cap < LIMITS_BODY_FIRST)
		cap = LIMITS_BODY_FIRST;
	while (cap < need)
		cap = cap > top / 2 ? top : cap * 2;
	return cap < top ? cap : top;
}

enum limits_admit
limits_admit(int total, int from_ip, int max_total, int max_per_ip)
{
	if (total >= max_total)
		return LIMITS_ADMIT_TOTAL;
	if (from_ip >= max_per_ip)
		return LIMITS_ADMIT_PER_IP;
	return LIMITS_ADMIT_OK;
}

unsigned int
limits_mhd_total(int max_total, int threads)
{
	uint64_t per = (uint64_t)max_total + (uint64_t)max_total / 2 + 16;
	uint64_t t = per * (uint64_t)(threads > 0 ? threads : 1);

	return t > 1000000 ? 1000000 : (unsigned int)t;
}

unsigned int
limits_mhd_per_ip(int max_per_ip)
{
	uint64_t t = 2 * (uint64_t)max_per_ip + 16;

	return t > 1000000 ? 1000000 : (unsigned int)t;
}

unsigned long
limits_front_files(int max_total, int threads)
{
	return (unsigned long)limits_mhd_total(max_total, threads) + 64;
}
