/* SPDX-License-Identifier: ISC */
/*
 * ratelimit.c: token buckets and in-flight counters per key (see
 * ratelimit.h).
 *
 * Keys are client addresses and token names: attacker-chosen bytes.  The
 * tables are therefore fixed in size at creation (no allocation per call,
 * whatever the number of distinct clients), and their hash is SipHash
 * under a per-process random key, so that nobody can aim many keys at one
 * chain and turn every lookup into a walk over the whole table.
 */
#include <sys/random.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/siphash.h"
#include "common/util.h"
#include "ratelimit.h"

/*
 * The shortest wait a refusal returns: a refusal must never read as 0
 * (success), and a computed wait can round to 0 or below when the units
 * missing are a rounding error.
 */
#define RL_WAIT_MIN	1e-6
/* The longest: keeps the wait finite for a rate near 0 (31 years). */
#define RL_WAIT_MAX	1e9
/*
 * Units this close to n count as n: rate * elapsed rounds (0.1 s at 10/s
 * can give 0.9999999999999999), and a client must not wait a second for
 * the last ulp of a unit.
 */
#define RL_EPSILON	1e-9
/* Retry-After's cap: a day. */
#define RL_RETRY_MAX	86400u
/* The largest table: 16M keys (about 2 GiB); indices stay 32-bit. */
#define RL_CAP_MAX	(1u << 24)
#define RL_NONE		UINT32_MAX

/* ==== The bucket ======================================================= */

double
rl_burst(double rate, double burst)
{
	return burst > 0 ? burst : rate > 1 ? rate : 1;
}

double
rl_take(struct rl_bucket *b, double rate, double burst, double n,
    double now)
{
	double elapsed, wait;

	/* No limit; an infinite rate is none either (inf * 0 is NaN). */
	if (!(rate > 0) || isinf(rate))
		return 0;
	burst = rl_burst(rate, burst);
	if (isinf(burst))
		return 0;
	/* Nothing to take (also NaN: n comes from a count, never NaN). */
	if (!(n > 0))
		return 0;

	if (!isfinite(now))
		now = b->rb_init ? b->rb_last : 0;
	if (!b->rb_init) {
		b->rb_units = burst;
		b->rb_last = now;
		b->rb_init = 1;
	}
	/*
	 * A clock that goes backwards (or a thread that read the clock
	 * before another one updated the bucket) adds nothing; rb_last keeps
	 * the latest time seen, so that time is never counted twice.
	 */
	elapsed = now - b->rb_last;
	if (elapsed > 0) {
		b->rb_units += rate * elapsed;
		b->rb_last = now;
	}
	/* Also when the burst shrank (a reloaded limit). */
	if (!(b->rb_units <= burst))
		b->rb_units = burst;
	if (b->rb_units < 0)
		b->rb_units = 0;

	if (n <= burst && b->rb_units + RL_EPSILON >= n) {
		b->rb_units -= n;
		if (b->rb_units < 0)
			b->rb_units = 0;
		return 0;
	}
	/* n > burst never passes: the wait until the bucket is full. */
	if (n > burst)
		wait = (burst - b->rb_units) / rate;
	else
		wait = (n - b->rb_units) / rate;
	if (!(wait >= RL_WAIT_MIN))
		wait = RL_WAIT_MIN;
	if (wait > RL_WAIT_MAX)
		wait = RL_WAIT_MAX;
	return wait;
}

unsigned
rl_retry_after(double wait)
{
	double s;

	if (!(wait > 1))
		return 1;
	if (wait >= RL_RETRY_MAX)
		return RL_RETRY_MAX;
	s = ceil(wait);
	return (unsigned)s;
}

/* ==== The hash key ===================================================== */

static pthread_mutex_t rl_key_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t rl_key[16];
static int rl_keyed;

int
rl_init(void)
{
	uint8_t key[16];
	size_t got = 0;
	ssize_t n;
	int r = 0;

	pthread_mutex_lock(&rl_key_lock);
	if (rl_keyed)
		goto out;
	/* Flags 0: blocks until the kernel's pool is ready, once. */
	while (got < sizeof(key)) {
		n = getrandom(key + got, sizeof(key) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			r = -1;
			goto out;
		}
		got += (size_t)n;
	}
	memcpy(rl_key, key, sizeof(rl_key));
	explicit_bzero(key, sizeof(key));
	rl_keyed = 1;
 out:
	pthread_mutex_unlock(&rl_key_lock);
	return r;
}

/* ==== The map: fixed entries, hash chains, an LRU list ================= */

/*
 * cap entries allocated at creation.  A used entry is on the chain of its
 * hash slot and on the LRU list (m_lru_head the most recent); a free one
 * is on the free list (through re_next).  Indices, not pointers: RL_NONE
 * ends a list.
 */
struct rl_ent {
	uint64_t		re_hash;
	uint32_t		re_next;	/* chain, or free list */
	uint32_t		re_newer;	/* LRU neighbours */
	uint32_t		re_older;
	uint32_t		re_keylen;
	uint8_t			re_key[RL_KEY_MAX];
	struct rl_bucket	re_bucket;	/* rl_table */
	int			re_count;	/* rl_inflight */
};

struct rl_map {
	pthread_mutex_t	 m_lock;
	struct rl_ent	*m_ent;		/* m_cap entries */
	uint32_t	*m_slot;	/* m_mask + 1 chain heads */
	uint32_t	 m_mask;
	uint32_t	 m_cap;
	uint32_t	 m_used;
	uint32_t	 m_free;
	uint32_t	 m_lru_head;	/* most recently used */
	uint32_t	 m_lru_tail;	/* least recently used */
};

struct rl_table {
	struct rl_map	t_map;
};

struct rl_inflight {
	struct rl_map	i_map;
};

static int
map_init(struct rl_map *m, size_t cap)
{
	size_t nslot, i;

	memset(m, 0, sizeof(*m));
	if (cap < 1 || cap > RL_CAP_MAX) {
		errno = EINVAL;
		return -1;
	}
	/* The key must be drawn before the sandbox forbids getrandom. */
	if (rl_init() != 0)
		return -1;
	/* Twice as many slots as entries: chains of one, mostly. */
	for (nslot = 1; nslot < 2 * cap; nslot <<= 1)
		;
	m->m_ent = calloc(cap, sizeof(*m->m_ent));
	m->m_slot = calloc(nslot, sizeof(*m->m_slot));
	if (m->m_ent == NULL || m->m_slot == NULL) {
		free(m->m_ent);
		free(m->m_slot);
		errno = ENOMEM;
		return -1;
	}
	if (pthread_mutex_init(&m->m_lock, NULL) != 0) {
		free(m->m_ent);
		free(m->m_slot);
		return -1;
	}
	for (i = 0; i < nslot; i++)
		m->m_slot[i] = RL_NONE;
	for (i = 0; i < cap; i++)
		m->m_ent[i].re_next = i + 1 < cap ? (uint32_t)(i + 1) : RL_NONE;
	m->m_mask = (uint32_t)(nslot - 1);
	m->m_cap = (uint32_t)cap;
	m->m_free = 0;
	m->m_lru_head = m->m_lru_tail = RL_NONE;
	return 0;
}

static void
map_cleanup(struct rl_map *m)
{
	pthread_mutex_destroy(&m->m_lock);
	/* Client addresses: scrubbed like any request bytes. */
	explicit_bzero(m->m_ent, (size_t)m->m_cap * sizeof(*m->m_ent));
	free(m->m_ent);
	free(m->m_slot);
}

/*
 * A key longer than RL_KEY_MAX is a caller's mistake; its first
 * RL_KEY_MAX bytes stand for it (keys that share them share a bucket,
 * which only ever limits more).
 */
static size_t
map_keylen(const void *key, size_t keylen)
{
	AG_ASSERT(key != NULL || keylen == 0);
	return keylen > RL_KEY_MAX ? RL_KEY_MAX : keylen;
}

static uint64_t
map_hash(const void *key, size_t keylen)
{
	return siphash24(rl_key, key, keylen);
}

static void
lru_unlink(struct rl_map *m, uint32_t i)
{
	struct rl_ent *e = &m->m_ent[i];

	if (e->re_newer != RL_NONE)
		m->m_ent[e->re_newer].re_older = e->re_older;
	else
		m->m_lru_head = e->re_older;
	if (e->re_older != RL_NONE)
		m->m_ent[e->re_older].re_newer = e->re_newer;
	else
		m->m_lru_tail = e->re_newer;
	e->re_newer = e->re_older = RL_NONE;
}

static void
lru_push(struct rl_map *m, uint32_t i)
{
	struct rl_ent *e = &m->m_ent[i];

	e->re_newer = RL_NONE;
	e->re_older = m->m_lru_head;
	if (m->m_lru_head != RL_NONE)
		m->m_ent[m->m_lru_head].re_newer = i;
	else
		m->m_lru_tail = i;
	m->m_lru_head = i;
}

/* The entry of key, or RL_NONE; m_lock held. */
static uint32_t
map_find(struct rl_map *m, const void *key, size_t keylen, uint64_t h)
{
	uint32_t i;
	struct rl_ent *e;

	for (i = m->m_slot[h & m->m_mask]; i != RL_NONE; i = e->re_next) {
		e = &m->m_ent[i];
		if (e->re_hash == h && e->re_keylen == keylen &&
		    (keylen == 0 || memcmp(e->re_key, key, keylen) == 0))
			return i;
	}
	return RL_NONE;
}

/* Drops entry i (from its chain and the LRU list) to the free list. */
static void
map_remove(struct rl_map *m, uint32_t i)
{
	struct rl_ent *e = &m->m_ent[i];
	uint32_t *p;

	for (p = &m->m_slot[e->re_hash & m->m_mask]; *p != i;
	    p = &m->m_ent[*p].re_next)
		AG_ASSERT(*p != RL_NONE);
	*p = e->re_next;
	lru_unlink(m, i);
	explicit_bzero(e, sizeof(*e));
	e->re_next = m->m_free;
	m->m_free = i;
	m->m_used--;
}

/* A new entry for key (absent), zeroed; a free one must exist. */
static uint32_t
map_insert(struct rl_map *m, const void *key, size_t keylen, uint64_t h)
{
	uint32_t i, *slot;
	struct rl_ent *e;

	i = m->m_free;
	AG_ASSERT(i != RL_NONE);
	e = &m->m_ent[i];
	m->m_free = e->re_next;
	memset(e, 0, sizeof(*e));
	e->re_hash = h;
	e->re_keylen = (uint32_t)keylen;
	if (keylen > 0)
		memcpy(e->re_key, key, keylen);
	slot = &m->m_slot[h & m->m_mask];
	e->re_next = *slot;
	*slot = i;
	lru_push(m, i);
	m->m_used++;
	return i;
}

/* ==== Buckets per key ================================================== */

struct rl_table *
rl_table_new(size_t cap)
{
	struct rl_table *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if (map_init(&t->t_map, cap) != 0) {
		free(t);
		return NULL;
	}
	return t;
}

void
rl_table_free(struct rl_table *t)
{
	if (t == NULL)
		return;
	map_cleanup(&t->t_map);
	free(t);
}

double
rl_table_take(struct rl_table *t, const void *key, size_t keylen,
    double rate, double burst, double n, double now)
{
	struct rl_map *m = &t->t_map;
	uint64_t h;
	uint32_t i;
	double wait;

	/* No limit: no bucket either (it would only push others out). */
	if (!(rate > 0) || isinf(rate))
		return 0;
	keylen = map_keylen(key, keylen);
	h = map_hash(key, keylen);
	pthread_mutex_lock(&m->m_lock);
	if ((i = map_find(m, key, keylen, h)) != RL_NONE) {
		lru_unlink(m, i);
		lru_push(m, i);
	} else {
		/*
		 * Full: the least recently used bucket goes.  Its key comes
		 * back to a full bucket, which favours that key alone.
		 */
		if (m->m_free == RL_NONE)
			map_remove(m, m->m_lru_tail);
		i = map_insert(m, key, keylen, h);
	}
	wait = rl_take(&m->m_ent[i].re_bucket, rate, burst, n, now);
	pthread_mutex_unlock(&m->m_lock);
	return wait;
}

size_t
rl_table_size(struct rl_table *t)
{
	size_t n;

	pthread_mutex_lock(&t->t_map.m_lock);
	n = t->t_map.m_used;
	pthread_mutex_unlock(&t->t_map.m_lock);
	return n;
}

/* ==== Requests in flight per key ======================================= */

/*
 * A key is held only while it has requests in flight: its entry goes back
 * to the free list when its count drops to 0.  So no key in flight is
 * ever dropped, and a table full of keys in flight refuses a new key.
 */
struct rl_inflight *
rl_inflight_new(size_t cap)
{
	struct rl_inflight *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if (map_init(&t->i_map, cap) != 0) {
		free(t);
		return NULL;
	}
	return t;
}

void
rl_inflight_free(struct rl_inflight *t)
{
	if (t == NULL)
		return;
	map_cleanup(&t->i_map);
	free(t);
}

int
rl_inflight_enter(struct rl_inflight *t, const void *key, size_t keylen,
    int max)
{
	struct rl_map *m = &t->i_map;
	uint64_t h;
	uint32_t i;
	int r = 0;

	keylen = map_keylen(key, keylen);
	h = map_hash(key, keylen);
	pthread_mutex_lock(&m->m_lock);
	if ((i = map_find(m, key, keylen, h)) == RL_NONE) {
		if (m->m_free == RL_NONE) {
			/*
			 * No room to count the key.  With a cap that is a
			 * refusal (the key could not be held to it); with
			 * none the request passes uncounted, and its
			 * rl_inflight_leave() finds nothing to take off.
			 */
			r = max > 0 ? -1 : 0;
			goto out;
		}
		i = map_insert(m, key, keylen, h);
	}
	if ((max > 0 && m->m_ent[i].re_count >= max) ||
	    m->m_ent[i].re_count == INT_MAX) {
		r = -1;
		goto out;
	}
	m->m_ent[i].re_count++;
 out:
	pthread_mutex_unlock(&m->m_lock);
	return r;
}

void
rl_inflight_leave(struct rl_inflight *t, const void *key, size_t keylen)
{
	struct rl_map *m = &t->i_map;
	uint64_t h;
	uint32_t i;

	keylen = map_keylen(key, keylen);
	h = map_hash(key, keylen);
	pthread_mutex_lock(&m->m_lock);
	/* Not there: entered uncounted (see above); never below 0. */
	if ((i = map_find(m, key, keylen, h)) != RL_NONE &&
	    --m->m_ent[i].re_count <= 0)
		map_remove(m, i);
	pthread_mutex_unlock(&m->m_lock);
}

int
rl_inflight_count(struct rl_inflight *t, const void *key, size_t keylen)
{
	struct rl_map *m = &t->i_map;
	uint64_t h;
	uint32_t i;
	int n = 0;

	keylen = map_keylen(key, keylen);
	h = map_hash(key, keylen);
	pthread_mutex_lock(&m->m_lock);
	if ((i = map_find(m, key, keylen, h)) != RL_NONE)
		n = m->m_ent[i].re_count;
	pthread_mutex_unlock(&m->m_lock);
	return n;
}
