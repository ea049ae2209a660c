/* SPDX-License-Identifier: ISC */
/*
 * ag_err.h: aiguard's error codes.
 *
 * Every function reachable from untrusted input returns int: 0 on success,
 * a negative AG_ERR_* code on failure (the OpenSSH ssherr.h shape).  Where a
 * caller needs more than the code, functions take a char *err, size_t errlen
 * pair and write one human-readable line into it (the file, tensor or field
 * at fault); err may be NULL.
 */
#ifndef AG_ERR_H
#define AG_ERR_H

#include <stddef.h>

#define AG_OK			0
#define AG_ERR_INTERNAL		-1	/* broken invariant, not the input */
#define AG_ERR_ALLOC		-2	/* out of memory */
#define AG_ERR_INVALID_ARG	-3	/* caller passed a bad argument */
#define AG_ERR_SYSTEM		-4	/* a system call failed; see errno */
#define AG_ERR_FORMAT		-5	/* malformed input, not otherwise listed */
#define AG_ERR_TRUNCATED	-6	/* input ends before a structure does */
#define AG_ERR_TOO_LARGE	-7	/* a size or count past a limit */
#define AG_ERR_JSON		-8	/* JSON that does not parse */
#define AG_ERR_DTYPE		-9	/* unknown or unsupported element type */
#define AG_ERR_SHAPE		-10	/* bad shape, or not the expected one */
#define AG_ERR_OFFSETS		-11	/* data offsets out of range or order */
#define AG_ERR_OVERLAP		-12	/* two tensors share bytes */
#define AG_ERR_DUPLICATE	-13	/* a name given twice */
#define AG_ERR_MISSING		-14	/* a required item is absent */
#define AG_ERR_UNEXPECTED	-15	/* an item that should not be there */
#define AG_ERR_UNSUPPORTED	-16	/* valid, but not something we handle */
#define AG_ERR_IMAGE		-17	/* image data that does not decode */
#define AG_ERR_CONFIG		-18	/* bad configuration value */
#define AG_ERR_NOT_FOUND	-19	/* a file or name that does not exist */
#define AG_ERR_NUMERIC		-20	/* NaN, infinity or out-of-range number */
#define AG_ERR_UNAVAILABLE	-21	/* no model or no worker to serve it */
#define AG_ERR_BUSY		-22	/* queue full: try again later */
#define AG_ERR_PROTOCOL		-23	/* a peer process broke the IPC protocol */
#define AG_ERR_SIGNATURE	-24	/* a signature or digest that does not verify */
#define AG_ERR_MAX		-24

/* Returns a static string describing code r; never NULL. */
const char *ag_strerror(int r);

/*
 * Writes a formatted message into err (at most errlen bytes, always
 * NUL-terminated).  No-op when err is NULL or errlen is 0.  Returns r, so
 * that callers can write "return ag_errf(err, len, AG_ERR_SHAPE, ...)".
 */
int ag_errf(char *err, size_t errlen, int r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif /* AG_ERR_H */
