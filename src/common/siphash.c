/* SPDX-License-Identifier: ISC */
/*
 * siphash.c: SipHash-2-4 in one call (siphash.h has the byte-by-byte
 * form).  The reference vectors are checked in tests/unit/test_oip.c.
 */
#include <stddef.h>
#include <stdint.h>

#include "common/siphash.h"

static uint64_t
le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

void
siphash24_key(const uint8_t key[16], uint64_t *k0, uint64_t *k1)
{
	*k0 = le64(key);
	*k1 = le64(key + 8);
}

uint64_t
siphash24(const uint8_t key[16], const void *msg, size_t len)
{
	const uint8_t *p = msg;
	struct siphash24 h;

	siphash24_init(&h, le64(key), le64(key + 8));
	while (len-- > 0)
		siphash24_byte(&h, *p++);
	return siphash24_final(&h);
}
