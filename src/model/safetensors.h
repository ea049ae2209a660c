/* SPDX-License-Identifier: ISC */
/*
 * safetensors.h: a strict reader of the safetensors format.
 *
 * Layout: 8 bytes little-endian header length L, then L bytes of JSON (an
 * object mapping tensor names to {"dtype", "shape", "data_offsets"}, plus an
 * optional "__metadata__" object of string values), then the data section.
 * Offsets are relative to the start of the data section.
 *
 * Everything in the file is untrusted: the header length must lie inside the
 * file and be at most ST_MAX_HEADER_LEN; the JSON is parsed by a real JSON
 * library with duplicate keys refused; each dtype must be known; the shape
 * product times the element size must equal the data_offsets span (checked
 * arithmetic); the offsets must lie inside the data section, in order and
 * without overlap, and cover it with no hole.  Each failure returns an
 * AG_ERR_* code and writes a message naming the tensor and the fault.
 *
 * The codes: AG_ERR_TRUNCATED for a file that ends early (under 8 bytes,
 * inside the header, or before the last tensor's data, laid out without a
 * gap up to there); AG_ERR_TOO_LARGE for a header length, name length or
 * tensor count past the limits below; AG_ERR_JSON for a header that is
 * not JSON or not UTF-8 (and for a NUL in a key); AG_ERR_DUPLICATE for a
 * key given twice in one object; AG_ERR_FORMAT for a header that is not an
 * object or does not start with '{', an entry that is not an object or has
 * a missing or unknown field, a bad __metadata__ (not an object of strings)
 * and an empty name or one holding control characters; AG_ERR_DTYPE,
 * AG_ERR_SHAPE (also for a span that does not match the shape) and
 * AG_ERR_OFFSETS (also for a hole, unused trailing bytes or offsets past
 * the end) for the entry fields; AG_ERR_OVERLAP for shared bytes.  Names in
 * messages are escaped (\xNN) and capped, since they come from the file.
 */
#ifndef AG_SAFETENSORS_H
#define AG_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#define ST_MAX_HEADER_LEN	(100u * 1024 * 1024)	/* 100 MiB */
#define ST_MAX_DIMS		8
#define ST_MAX_TENSORS		100000
#define ST_MAX_NAME		1024

enum st_dtype {
	ST_BOOL, ST_U8, ST_I8, ST_I16, ST_U16, ST_F16, ST_BF16, ST_I32,
	ST_U32, ST_F32, ST_F64, ST_I64, ST_U64, ST_F8_E4M3, ST_F8_E5M2,
};

struct st_tensor {
	const char	*name;		/* borrowed until st_close() */
	enum st_dtype	 dtype;
	int		 ndim;		/* 0 for a scalar */
	int64_t		 shape[ST_MAX_DIMS];
	size_t		 nelem;		/* product of shape (1 for scalar) */
	size_t		 begin, end;	/* offsets in the data section */
	const uint8_t	*data;		/* points into the file mapping or
					   buffer; NOT aligned: use memcpy or
					   st_tensor_to_f32() */
};

/* Opaque: a parsed file and (for st_open) its read-only mapping. */
struct st_file;

/* Element size in bytes of dtype. */
size_t	st_dtype_size(enum st_dtype dtype);
/* Canonical name ("F32", ...) of dtype. */
const char *st_dtype_name(enum st_dtype dtype);

/*
 * Maps path read-only (PROT_READ, MAP_PRIVATE) and parses it.  Symlinks
 * are followed; the target must be a regular file (else AG_ERR_FORMAT; a
 * missing one is AG_ERR_NOT_FOUND).  On success *out is a new st_file the
 * caller frees with st_close().  On failure *out is NULL and err names
 * path and the fault.  The file must not shrink while mapped (SIGBUS).
 */
int	st_open(const char *path, struct st_file **out, char *err,
	    size_t errlen);

/*
 * Parses buf[0..len) in place.  buf is borrowed: it must stay valid and
 * unchanged until st_close().  Same checks and errors as st_open().
 */
int	st_parse(const uint8_t *buf, size_t len, struct st_file **out,
	    char *err, size_t errlen);

/* Frees f and unmaps its file; st_close(NULL) is a no-op. */
void	st_close(struct st_file *f);

/* Number of tensors (the __metadata__ entry is not one). */
size_t	st_count(const struct st_file *f);
/* Tensor i in file order (ascending offsets), or NULL when out of range. */
const struct st_tensor *st_tensor_at(const struct st_file *f, size_t i);
/* The tensor called name, or NULL. */
const struct st_tensor *st_find(const struct st_file *f, const char *name);
/* The __metadata__ string for key, or NULL (borrowed until st_close()). */
const char *st_metadata(const struct st_file *f, const char *key);

/*
 * The tensors a consumer expects.  ndim and shape must match exactly.
 * Floating-point dtypes (F32, F16, BF16) are accepted for a float
 * expectation (float_ok = 1); otherwise dtype must equal the expected one.
 * An optional tensor may be absent.
 */
struct st_expect {
	const char	*name;
	int		 ndim;
	int64_t		 shape[4];
	int		 float_ok;	/* 1: any of F32/F16/BF16 */
	enum st_dtype	 dtype;		/* when float_ok is 0 */
	int		 optional;
};

/*
 * Checks that f holds exactly the expected tensors: each non-optional one
 * present (AG_ERR_MISSING), with the right dtype (AG_ERR_DTYPE) and shape
 * (AG_ERR_SHAPE), and nothing else (AG_ERR_UNEXPECTED).  The message names
 * the tensor.
 */
int	st_check_expected(const struct st_file *f, const struct st_expect *exp,
	    size_t nexp, char *err, size_t errlen);

/*
 * Copies t into dst as float32, converting F16 and BF16 (exactly, including
 * subnormals, infinities and NaN).  count must equal t->nelem (else
 * AG_ERR_INVALID_ARG).  Refuses other dtypes (AG_ERR_DTYPE) and non-finite
 * values (AG_ERR_NUMERIC, naming the tensor and the element index); on
 * failure dst may be partly written.
 */
int	st_tensor_to_f32(const struct st_tensor *t, float *dst, size_t count,
	    char *err, size_t errlen);

#endif /* AG_SAFETENSORS_H */
