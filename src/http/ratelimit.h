/* SPDX-License-Identifier: ISC */
/*
 * ratelimit.h: token buckets for aiguardd's rate limits, kept pure (the
 * time is an argument) so that the unit tests reach every case.
 *
 * A bucket holds up to burst units and refills at rate units per second;
 * a request takes n units (1 per request, or its images) or is refused
 * with the seconds until n would be there (the Retry-After).  n larger
 * than burst can never pass: it is refused with the time to fill the
 * whole bucket, so its Retry-After stays finite; the caller should say
 * that the request is larger than the burst.
 *
 * A table maps keys (a token's name, a client's address) to buckets, at
 * most rl_cap of them: when full, the bucket least recently used is
 * dropped (a dropped bucket is full again when its key comes back, which
 * only ever favours that client: no key can push another over its limit).
 * A table is safe from any thread (one mutex).  A key's rate and burst are
 * those of each call, so a changed limit (a reloaded token file) applies
 * from the next request, keeping the units the bucket holds (capped at
 * the new burst).
 */
#ifndef AG_HTTP_RATELIMIT_H
#define AG_HTTP_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#define RL_KEY_MAX	64	/* bytes of a key */

struct rl_bucket {
	double	rb_units;	/* available now (as of rb_last) */
	double	rb_last;	/* time of the last update, seconds */
	int	rb_init;	/* 0: never used (starts full) */
};

/*
 * Takes n units from b at time now if it has them: returns 0.  Otherwise
 * takes nothing and returns the seconds until it would have n (> 0; for
 * n > burst, the time to refill burst).  rate <= 0: no limit (always 0).
 * burst <= 0 means burst = max(rate, 1).
 */
double	rl_take(struct rl_bucket *b, double rate, double burst, double n,
	    double now);

/* The bucket size rl_take() uses: burst, or max(rate, 1) when burst <= 0. */
double	rl_burst(double rate, double burst);

/* Retry-After seconds for a wait: ceil(wait), at least 1, at most 86400. */
unsigned rl_retry_after(double wait);

/*
 * Draws the per-process key of the tables' hash (SipHash-2-4, 128-bit key
 * from getrandom(2)), so that no client can choose keys (addresses) that
 * collide.  Call it before the sandbox forbids getrandom (the children
 * inherit the key); rl_table_new() and rl_inflight_new() call it, too, and
 * fail when it fails.  Returns 0, or -1 (errno set).
 */
int	rl_init(void);

struct rl_table;

/*
 * A table of at most cap buckets (1 <= cap <= 2^24), all allocated here:
 * no call below allocates.  NULL when out of memory, for a cap out of
 * range (EINVAL) or when rl_init() fails.
 */
struct rl_table *rl_table_new(size_t cap);
void	rl_table_free(struct rl_table *t);
/*
 * rl_take() on the bucket of key (keylen bytes, at most RL_KEY_MAX: only
 * the first RL_KEY_MAX bytes of a longer key count), created full when
 * absent.  Returns as rl_take().  rate <= 0 creates no bucket.
 */
double	rl_table_take(struct rl_table *t, const void *key, size_t keylen,
	    double rate, double burst, double n, double now);
/* Buckets held now (for tests and metrics). */
size_t	rl_table_size(struct rl_table *t);

/*
 * Counters of requests in flight per key, bounded like the buckets (but a
 * key with requests in flight is never dropped; a full table of keys all
 * in flight refuses a new key).
 */
struct rl_inflight;
/* As rl_table_new(); a key is held only while its count is above 0. */
struct rl_inflight *rl_inflight_new(size_t cap);
void	rl_inflight_free(struct rl_inflight *t);
/* One more in flight for key if fewer than max (max <= 0: no cap): 0,
 * else -1 (over the cap, or no room for the key).  With no cap and no
 * room, the request passes uncounted (0), and its leave is a no-op. */
int	rl_inflight_enter(struct rl_inflight *t, const void *key,
	    size_t keylen, int max);
/* One fewer in flight for key (entered before). */
void	rl_inflight_leave(struct rl_inflight *t, const void *key,
	    size_t keylen);
/* In flight now for key. */
int	rl_inflight_count(struct rl_inflight *t, const void *key,
	    size_t keylen);

#endif /* AG_HTTP_RATELIMIT_H */
