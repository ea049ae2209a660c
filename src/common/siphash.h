/* SPDX-License-Identifier: ISC */
/*
 * siphash.h: SipHash-2-4 (Aumasson and Bernstein, 2012), a keyed 64-bit
 * hash that is a PRF: without the 128-bit key nobody can choose inputs
 * that collide.  Used where attacker bytes pick a slot of a table (the
 * JSON reader's duplicate-key check, the rate limiter's client map).
 *
 * Owns: the hash itself, one-shot and byte by byte.  Does not own any key:
 * each user draws and keeps its own (getrandom(2) before the sandbox).
 *
 * The byte-by-byte form is inline, for readers that hash a string while
 * they decode it.
 */
#ifndef AG_SIPHASH_H
#define AG_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

struct siphash24 {
	uint64_t	 v0, v1, v2, v3;
	uint64_t	 m;		/* the bytes of the word being filled */
	uint64_t	 n;		/* bytes hashed so far */
};

#define SIPHASH24_ROTL(x, b)	(((x) << (b)) | ((x) >> (64 - (b))))

static inline void
siphash24_round(struct siphash24 *h)
{
	h->v0 += h->v1;
	h->v1 = SIPHASH24_ROTL(h->v1, 13);
	h->v1 ^= h->v0;
	h->v0 = SIPHASH24_ROTL(h->v0, 32);
	h->v2 += h->v3;
	h->v3 = SIPHASH24_ROTL(h->v3, 16);
	h->v3 ^= h->v2;
	h->v0 += h->v3;
	h->v3 = SIPHASH24_ROTL(h->v3, 21);
	h->v3 ^= h->v0;
	h->v2 += h->v1;
	h->v1 = SIPHASH24_ROTL(h->v1, 17);
	h->v1 ^= h->v2;
	h->v2 = SIPHASH24_ROTL(h->v2, 32);
}

/* Starts a hash under the key k0, k1 (see siphash24_key()). */
static inline void
siphash24_init(struct siphash24 *h, uint64_t k0, uint64_t k1)
{
	h->v0 = k0 ^ 0x736f6d6570736575ULL;
	h->v1 = k1 ^ 0x646f72616e646f6dULL;
	h->v2 = k0 ^ 0x6c7967656e657261ULL;
	h->v3 = k1 ^ 0x7465646279746573ULL;
	h->m = 0;
	h->n = 0;
}

/* Hashes one more byte. */
static inline void
siphash24_byte(struct siphash24 *h, uint8_t c)
{
	h->m |= (uint64_t)c << (8 * (h->n & 7));
	if ((++h->n & 7) == 0) {
		h->v3 ^= h->m;
		siphash24_round(h);
		siphash24_round(h);
		h->v0 ^= h->m;
		h->m = 0;
	}
}

/* The hash of the bytes given so far; h is spent. */
static inline uint64_t
siphash24_final(struct siphash24 *h)
{
	uint64_t b = h->n << 56 | h->m;

	h->v3 ^= b;
	siphash24_round(h);
	siphash24_round(h);
	h->v0 ^= b;
	h->v2 ^= 0xff;
	siphash24_round(h);
	siphash24_round(h);
	siphash24_round(h);
	siphash24_round(h);
	return h->v0 ^ h->v1 ^ h->v2 ^ h->v3;
}

/* The 16 key bytes as the two little-endian words siphash24_init() takes. */
void	siphash24_key(const uint8_t key[16], uint64_t *k0, uint64_t *k1);
/* SipHash-2-4 of msg[0, len) under key (the reference's byte order). */
uint64_t siphash24(const uint8_t key[16], const void *msg, size_t len);

#endif /* AG_SIPHASH_H */
