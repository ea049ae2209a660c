/* SPDX-License-Identifier: ISC */
/*
 * ag_err.c: descriptions of the AG_ERR_* codes and the error-message helper.
 */
#include <stdarg.h>
#include <stdio.h>

#include "ag_err.h"

const char *
ag_strerror(int r)
{
	switch (r) {
	case AG_OK:			return "success";
	case AG_ERR_INTERNAL:		return "internal error";
	case AG_ERR_ALLOC:		return "out of memory";
	case AG_ERR_INVALID_ARG:	return "invalid argument";
	case AG_ERR_SYSTEM:		return "system error";
	case AG_ERR_FORMAT:		return "malformed input";
	case AG_ERR_TRUNCATED:		return "truncated input";
	case AG_ERR_TOO_LARGE:		return "size past limit";
	case AG_ERR_JSON:		return "invalid JSON";
	case AG_ERR_DTYPE:		return "unsupported data type";
	case AG_ERR_SHAPE:		return "bad shape";
	case AG_ERR_OFFSETS:		return "bad data offsets";
	case AG_ERR_OVERLAP:		return "overlapping tensors";
	case AG_ERR_DUPLICATE:		return "duplicate name";
	case AG_ERR_MISSING:		return "missing item";
	case AG_ERR_UNEXPECTED:		return "unexpected item";
	case AG_ERR_UNSUPPORTED:	return "unsupported";
	case AG_ERR_IMAGE:		return "invalid image";
	case AG_ERR_CONFIG:		return "bad configuration";
	case AG_ERR_NOT_FOUND:		return "not found";
	case AG_ERR_NUMERIC:		return "bad numeric value";
	case AG_ERR_UNAVAILABLE:	return "service unavailable";
	case AG_ERR_BUSY:		return "overloaded";
	case AG_ERR_PROTOCOL:		return "IPC protocol violation";
	case AG_ERR_SIGNATURE:		return "signature does not verify";
	default:			return "unknown error";
	}
}

int
ag_errf(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return r;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return r;
}
