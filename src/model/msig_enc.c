/* SPDX-License-Identifier: ISC */
/*
 * msig_enc.c: the encodings of OpenSSF Model Signing: lower-case hex and
 * padded base64 (RFC 4648 section 4), both decoded strictly so that each
 * byte string has one encoding, as the reference writes it; and an
 * untrusted string made safe to quote in a message.  No I/O, no state.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/util.h"
#include "msig_impl.h"

void
msig_hex_encode(const uint8_t *p, size_t n, char *out)
{
	static const char x[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = x[p[i] >> 4];
		out[2 * i + 1] = x[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Exactly 64 hex digits into out[32]; 0 or -1. */
int
msig_hex_decode32(const char *s, size_t len, uint8_t out[32])
{
	int hi, lo;
	size_t i;

	if (len != 64)
		return -1;
	for (i = 0; i < 32; i++) {
		if ((hi = ag_hex_digit((unsigned char)s[2 * i])) < 0 ||
		    (lo = ag_hex_digit((unsigned char)s[2 * i + 1])) < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int
b64_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Strict base64 (RFC 4648 section 4, padded): the standard alphabet only,
 * no whitespace, '=' only as the last one or two characters, and the
 * bits the padding drops must be zero, so that each byte string has one
 * encoding.  *out is new (caller frees).  0 or -1.
 */
int
msig_b64_decode(const char *s, size_t len, uint8_t **out, size_t *outlen)
{
	size_t i, pad = 0;
	uint8_t *buf;
	int n;

	*out = NULL;
	*outlen = 0;
	if (len % 4 != 0 || len > INT_MAX)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] == '=') {
			if (i + 2 < len)
				return -1;
			pad++;
		} else if (pad != 0 || b64_val((unsigned char)s[i]) < 0)
			return -1;
	}
	if ((pad == 1 && (b64_val((unsigned char)s[len - 2]) & 3) != 0) ||
	    (pad == 2 && (b64_val((unsigned char)s[len - 3]) & 15) != 0))
		return -1;
	if ((buf = malloc(len / 4 * 3 + 1)) == NULL)
		return -1;
	n = len == 0 ? 0 : EVP_DecodeBlock(buf, (const unsigned char *)s,
	    (int)len);
	if (n < 0 || (size_t)n < pad) {
		free(buf);
		return -1;
	}
	*out = buf;
	*outlen = (size_t)n - pad;
	return 0;
}

/* New NUL-terminated base64 of p[0..n) (caller frees), or NULL. */
char *
msig_b64_encode(const uint8_t *p, size_t n)
{
	char *s;

	if (n > INT_MAX / 2 || (s = malloc((n + 2) / 3 * 4 + 1)) == NULL)
		return NULL;
	(void)EVP_EncodeBlock((unsigned char *)s, p, (int)n);
	return s;
}

/*
 * Copies at most 60 bytes of an untrusted string for a message, with
 * anything not printable ASCII shown as '?'.
 */
const char *
msig_safe_str(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < len && i < 60; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	buf[i] = '\0';
	if (s[i] != '\0' && i >= 3)
		memcpy(buf + i - 3, "...", 3);
	return buf;
}
