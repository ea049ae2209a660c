/* SPDX-License-Identifier: ISC */
/*
 * jsonout.c: the output buffer and JSON string escaping declared in
 * jsonout.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/ag_err.h"
#include "common/util.h"
#include "http/jsonin.h"
#include "http/jsonout.h"

/* ==== Output buffer ==================================================== */
void
jsonout_free(struct jsonout *b)
{
	if (b == NULL)
		return;
	free(b->b);
	b->b = NULL;
	b->len = b->cap = 0;
}

int
jsonout_reserve(struct jsonout *b, size_t n)
{
	size_t need, cap;
	char *nb;

	if (ag_add_size(b->len, n, &need) != 0 || need > JSONOUT_MAX)
		return AG_ERR_TOO_LARGE;
	if (need <= b->cap)
		return 0;
	cap = b->cap < 256 ? 256 : b->cap;
	while (cap < need)
		cap = cap > JSONOUT_MAX / 2 ? JSONOUT_MAX : cap * 2;
	if ((nb = realloc(b->b, cap)) == NULL)
		return AG_ERR_ALLOC;
	b->b = nb;
	b->cap = cap;
	return 0;
}

int
jsonout_put(struct jsonout *b, const void *p, size_t n)
{
	int r;

	if (n == 0)
		return 0;
	if ((r = jsonout_reserve(b, n)) != 0)
		return r;
	memcpy(b->b + b->len, p, n);
	b->len += n;
	return 0;
}

int
jsonout_puts(struct jsonout *b, const char *s)
{
	return jsonout_put(b, s, strlen(s));
}

/* ==== JSON strings ===================================================== */

/* The escaped text of s, without quotes (see jsonout_escape()). */
int
jsonout_escape_body(struct jsonout *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = (const uint8_t *)s, *end = p + len;
	size_t need;
	char *o;
	int n, r;

	/* At most 6 bytes out per byte in ("\u00XX"; U+FFFD takes 3). */
	if (ag_mul_size(len, 6, &need) != 0)
		return AG_ERR_TOO_LARGE;
	if ((r = jsonout_reserve(b, need)) != 0)
		return r;
	o = b->b + b->len;
	while (p < end) {
		if (*p == '"' || *p == '\\') {
			*o++ = '\\';
			*o++ = (char)*p++;
		} else if (*p < 0x20 || *p == 0x7f) {
			memcpy(o, "\\u00", 4);
			o[4] = hex[*p >> 4];
			o[5] = hex[*p & 0xf];
			o += 6;
			p++;
		} else if (*p < 0x80) {
			*o++ = (char)*p++;
		} else if ((n = jsonin_utf8_len(p, end)) > 0) {
			memcpy(o, p, (size_t)n);
			o += n;
			p += n;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);	/* U+FFFD */
			o += 3;
			p++;
		}
	}
	b->len = (size_t)(o - b->b);
	return 0;
}

int
jsonout_escape(struct jsonout *b, const char *s, size_t len)
{
	int r;

	if ((r = jsonout_put(b, "\"", 1)) != 0 ||
	    (r = jsonout_escape_body(b, s, len)) != 0 ||
	    (r = jsonout_put(b, "\"", 1)) != 0)
		return r;
	return 0;
}
