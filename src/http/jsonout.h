/* SPDX-License-Identifier: ISC */
/*
 * jsonout.h: a growable output buffer and JSON string escaping, for the
 * answers the server writes.
 *
 * Owns: the buffer (growth, its cap JSONOUT_MAX) and turning any bytes
 * into a valid JSON string.  Does not own: the document's shape (the
 * writer that uses it, e.g. oip.c for infer responses), numbers
 * (jsonnum_format_f32()), nor reading JSON (jsonin.h).
 *
 * A struct jsonout starts from all zeros ({ NULL, 0, 0 }); b is not
 * NUL-terminated.  Functions that grow it return 0, AG_ERR_ALLOC, or
 * AG_ERR_TOO_LARGE past JSONOUT_MAX; b may move when it grows.  A caller
 * may write into b[len, cap) after jsonout_reserve() and then advance len.
 */
#ifndef AG_JSONOUT_H
#define AG_JSONOUT_H

#include <stddef.h>

/* A jsonout never grows past this. */
#define JSONOUT_MAX		((size_t)1 << 30)

struct jsonout { char *b; size_t len, cap; };	/* growable output */

/* Frees b and zeroes the struct.  NULL-safe. */
void	jsonout_free(struct jsonout *);
/* Makes room for n more bytes after len. */
int	jsonout_reserve(struct jsonout *, size_t n);
int	jsonout_put(struct jsonout *, const void *, size_t);
int	jsonout_puts(struct jsonout *, const char *);
/*
 * Appends s (len bytes) as a quoted JSON string: '"' and '\\' escaped,
 * control characters as \u00XX, and any invalid UTF-8 byte replaced by
 * U+FFFD, so that the output is always valid JSON whatever s holds.
 */
int	jsonout_escape(struct jsonout *, const char *s, size_t len);
/* The same without the quotes, to build a string from several parts. */
int	jsonout_escape_body(struct jsonout *, const char *s, size_t len);

#endif /* AG_JSONOUT_H */
