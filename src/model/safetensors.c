/* SPDX-License-Identifier: ISC */
/*
 * safetensors.c: the strict safetensors reader declared in safetensors.h.
 *
 * The file is operator input, but we treat every byte of it as hostile: a
 * model directory may come from anywhere, and this parser runs in the
 * privileged parent before the sandbox is applied.  So nothing in the header
 * is believed until it is checked: the header length against the file and
 * ST_MAX_HEADER_LEN, the JSON by jansson (duplicate keys refused), each entry
 * field by field, each size with checked arithmetic, and finally the layout
 * of all tensors together (sorted by offset, no overlap, no hole, nothing
 * left over, nothing past the end).  Only after all of that do the tensors
 * get data pointers.
 *
 * Ownership: an st_file keeps the parsed JSON alive, so tensor names and
 * metadata strings are jansson's own strings, borrowed by the caller until
 * st_close().  Tensor data points into the caller's buffer (st_parse) or
 * into our read-only mapping (st_open).
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/ag_err.h"
#include "common/util.h"
#include "model/safetensors.h"

/* Size of the little-endian header length that starts every file. */
#define ST_PREFIX_LEN	8
/* How many bytes of a tensor name go into an error message. */
#define ST_SHOW_NAME	96
/* Room for a name escaped with \xNN plus "...". */
#define ST_SHOW_BUF	(ST_SHOW_NAME * 4 + 8)
#define ST_MSG_LEN	1024
#define ST_METADATA_KEY	"__metadata__"

struct st_file {
	const uint8_t		*sf_buf;	/* whole file, borrowed */
	size_t			 sf_len;
	const uint8_t		*sf_data;	/* data section, in sf_buf */
	size_t			 sf_datalen;
	void			*sf_map;	/* st_open's mapping or NULL */
	size_t			 sf_maplen;
	json_t			*sf_root;	/* owns names and metadata */
	json_t			*sf_meta;	/* borrowed from sf_root */
	struct st_tensor	*sf_tensors;	/* ascending offsets */
	size_t			 sf_ntensors;
	const struct st_tensor	**sf_byname;	/* ascending names */
};

static const struct {
	const char	*name;
	size_t		 size;
} st_dtypes[] = {
	/* In enum st_dtype order. */
	[ST_BOOL] =	{ "BOOL", 1 },
	[ST_U8] =	{ "U8", 1 },
	[ST_I8] =	{ "I8", 1 },
	[ST_I16] =	{ "I16", 2 },
	[ST_U16] =	{ "U16", 2 },
	[ST_F16] =	{ "F16", 2 },
	[ST_BF16] =	{ "BF16", 2 },
	[ST_I32] =	{ "I32", 4 },
	[ST_U32] =	{ "U32", 4 },
	[ST_F32] =	{ "F32", 4 },
	[ST_F64] =	{ "F64", 8 },
	[ST_I64] =	{ "I64", 8 },
	[ST_U64] =	{ "U64", 8 },
	[ST_F8_E4M3] =	{ "F8_E4M3", 1 },
	[ST_F8_E5M2] =	{ "F8_E5M2", 1 },
};
#define ST_NDTYPES	(sizeof(st_dtypes) / sizeof(st_dtypes[0]))

/* ==== Small helpers ==================================================== */

size_t
st_dtype_size(enum st_dtype dtype)
{
	if ((size_t)dtype >= ST_NDTYPES)
		return 0;
	return st_dtypes[dtype].size;
}

const char *
st_dtype_name(enum st_dtype dtype)
{
	if ((size_t)dtype >= ST_NDTYPES)
		return "?";
	return st_dtypes[dtype].name;
}

static int
st_dtype_lookup(const char *s, enum st_dtype *out)
{
	size_t i;

	for (i = 0; i < ST_NDTYPES; i++) {
		if (strcmp(s, st_dtypes[i].name) == 0) {
			*out = (enum st_dtype)i;
			return 0;
		}
	}
	return -1;
}

static uint64_t
st_le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/*
 * Copies s into dst (ST_SHOW_BUF bytes) for an error message: at most
 * ST_SHOW_NAME bytes of it, with every byte outside printable ASCII written
 * as \xNN.  Names come from the file, and messages end up in logs and on
 * terminals: a name must not be able to forge a log line or send escape
 * sequences.
 */
static void
st_show(char *dst, const char *s, size_t slen)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;
	unsigned char c;

	for (i = 0; i < slen && i < ST_SHOW_NAME; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			dst[o++] = (char)c;
			continue;
		}
		dst[o++] = '\\';
		dst[o++] = 'x';
		dst[o++] = hex[c >> 4];
		dst[o++] = hex[c & 0xf];
	}
	if (i < slen) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	AG_ASSERT(o < ST_SHOW_BUF);
	dst[o] = '\0';
}

/* ag_errf() with "tensor 'NAME': " in front, NAME escaped by st_show(). */
static int
st_terr(char *err, size_t errlen, int r, const char *name, const char *fmt,
    ...) __attribute__((format(printf, 5, 6)));

static int
st_terr(char *err, size_t errlen, int r, const char *name, const char *fmt,
    ...)
{
	char shown[ST_SHOW_BUF], msg[ST_MSG_LEN];
	va_list ap;

	if (err == NULL || errlen == 0)
		return r;
	st_show(shown, name, strlen(name));
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ag_errf(err, errlen, r, "tensor '%s': %s", shown, msg);
}

/* Writes "[d0, d1, ...]" into dst (always NUL-terminated). */
static void
st_fmt_shape(char *dst, size_t dstlen, const int64_t *shape, int ndim)
{
	size_t o = 0;
	int i, n;

	n = snprintf(dst, dstlen, "[");
	for (i = 0; i < ndim && n >= 0 && (o += (size_t)n) < dstlen; i++)
		n = snprintf(dst + o, dstlen - o, "%s%lld", i ? ", " : "",
		    (long long)shape[i]);
	if (n >= 0 && (o += (size_t)n) < dstlen)
		(void)snprintf(dst + o, dstlen - o, "]");
}

static const char *
st_json_type(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:	return "object";
	case JSON_ARRAY:	return "array";
	case JSON_STRING:	return "string";
	case JSON_INTEGER:	return "integer";
	case JSON_REAL:		return "number";
	case JSON_TRUE:
	case JSON_FALSE:	return "boolean";
	case JSON_NULL:		return "null";
	}
	return "value";
}

/* ==== JSON errors ====================================================== */

/*
 * jansson reports a duplicate key at the byte just past the key's closing
 * quote, but names the key only when it is short.  Recover the key from the
 * raw header: scan back to the opening quote (inside a JSON string every
 * quote is escaped, so the first one preceded by an even number of
 * backslashes opens it) and let jansson decode the string token.
 */
static void
st_dup_key(const char *h, size_t hlen, size_t pos, char *dst)
{
	json_error_t jerr;
	json_t *s;
	size_t i, nbs;

	memcpy(dst, "?", 2);
	if (pos < 2 || pos > hlen || h[pos - 1] != '"')
		return;
	for (i = pos - 1; i-- > 0;) {
		if (h[i] != '"')
			continue;
		for (nbs = 0; nbs < i && h[i - 1 - nbs] == '\\'; nbs++)
			;
		if (nbs % 2 == 0)
			break;
	}
	if (i == (size_t)-1 || h[i] != '"')
		return;
	s = json_loadb(h + i, pos - i, JSON_DECODE_ANY, &jerr);
	if (s != NULL && json_is_string(s))
		st_show(dst, json_string_value(s), json_string_length(s));
	json_decref(s);
}

/* Is j a number that jansson could not hold as a 64-bit integer? */
static int
st_big_number(const json_t *j)
{
	double v;

	if (!json_is_real(j))
		return 0;
	v = json_real_value(j);
	return v >= 9223372036854775808.0 || v < -9223372036854775808.0;
}

/*
 * jansson refuses an integer outside int64 outright, so it cannot tell us
 * where it was.  Parse again with every integer read as a double to find
 * the tensor whose shape or data_offsets holds it.
 */
static int
st_big_int(const char *h, size_t hlen, const char *jtext, char *err,
    size_t errlen)
{
	json_error_t jerr;
	json_t *root, *ent, *arr, *v;
	const char *name;
	size_t i;
	int r = AG_ERR_JSON;

	root = json_loadb(h, hlen, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL,
	    &jerr);
	if (root != NULL && json_is_object(root)) {
		json_object_foreach(root, name, ent) {
			if ((arr = json_object_get(ent, "shape")) != NULL &&
			    json_is_array(arr)) {
				json_array_foreach(arr, i, v) {
					if (!st_big_number(v))
						continue;
					r = st_terr(err, errlen, AG_ERR_SHAPE,
					    name, "shape dimension %zu does "
					    "not fit in 64 bits", i);
					goto out;
				}
			}
			if ((arr = json_object_get(ent, "data_offsets")) !=
			    NULL && json_is_array(arr)) {
				json_array_foreach(arr, i, v) {
					if (!st_big_number(v))
						continue;
					r = st_terr(err, errlen,
					    AG_ERR_OFFSETS, name, "data_offsets"
					    " value %zu does not fit in 64 "
					    "bits", i);
					goto out;
				}
			}
		}
	}
	r = ag_errf(err, errlen, AG_ERR_JSON, "header: %s", jtext);
 out:
	json_decref(root);
	return r;
}

static int
st_json_error(const char *h, size_t hlen, const json_error_t *jerr,
    char *err, size_t errlen)
{
	char text[ST_SHOW_BUF + 64], key[ST_SHOW_BUF];
	size_t pos = jerr->position > 0 ? (size_t)jerr->position : 0;

	/* jansson quotes up to 20 raw bytes of the input: escape them. */
	st_show(text, jerr->text, strnlen(jerr->text, sizeof(jerr->text)));
	(void)snprintf(text + strlen(text), sizeof(text) - strlen(text),
	    " (byte %zu)", pos);

	switch (json_error_code(jerr)) {
	case json_error_out_of_memory:
		return ag_errf(err, errlen, AG_ERR_ALLOC,
		    "header: out of memory parsing JSON");
	case json_error_duplicate_key:
		st_dup_key(h, hlen, pos, key);
		return ag_errf(err, errlen, AG_ERR_DUPLICATE,
		    "header: key '%s' appears twice in one object (byte %zu)",
		    key, pos);
	case json_error_numeric_overflow:
		return st_big_int(h, hlen, text, err, errlen);
	case json_error_invalid_utf8:
		return ag_errf(err, errlen, AG_ERR_JSON,
		    "header is not valid UTF-8: %s", text);
	default:
		return ag_errf(err, errlen, AG_ERR_JSON,
		    "header is not valid JSON: %s", text);
	}
}

/* ==== Header entries =================================================== */

/* Reads a JSON integer in [0, SIZE_MAX]; -1 for anything else. */
static int
st_get_size(const json_t *j, size_t *out)
{
	json_int_t v;

	if (!json_is_integer(j))
		return -1;
	v = json_integer_value(j);
	if (v < 0 || (uint64_t)v > SIZE_MAX)
		return -1;
	*out = (size_t)v;
	return 0;
}

static int
st_check_name(const char *name, size_t len, char *err, size_t errlen)
{
	size_t i;

	if (len == 0)
		return ag_errf(err, errlen, AG_ERR_FORMAT,
		    "header: a tensor has an empty name");
	/* jansson refuses \u0000 in keys, but do not depend on it. */
	if (strlen(name) != len)
		return st_terr(err, errlen, AG_ERR_FORMAT, name,
		    "name contains a NUL byte");
	if (len > ST_MAX_NAME)
		return st_terr(err, errlen, AG_ERR_TOO_LARGE, name,
		    "name is %zu bytes, limit %d", len, ST_MAX_NAME);
	/* No real model names tensors with control characters. */
	for (i = 0; i < len; i++) {
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return st_terr(err, errlen, AG_ERR_FORMAT, name,
			    "name contains control character 0x%02x",
			    (unsigned char)name[i]);
	}
	return 0;
}

static int
st_parse_shape(const char *name, const json_t *j, struct st_tensor *t,
    char *err, size_t errlen)
{
	const json_t *v;
	size_t i, n, d;

	if (!json_is_array(j))
		return st_terr(err, errlen, AG_ERR_SHAPE, name,
		    "shape is a JSON %s, not an array", st_json_type(j));
	if ((n = json_array_size(j)) > ST_MAX_DIMS)
		return st_terr(err, errlen, AG_ERR_SHAPE, name,
		    "shape has %zu dimensions, limit %d", n, ST_MAX_DIMS);
	t->ndim = (int)n;
	t->nelem = 1;
	json_array_foreach(j, i, v) {
		if (!json_is_integer(v))
			return st_terr(err, errlen, AG_ERR_SHAPE, name,
			    "shape dimension %zu is a JSON %s, not an integer",
			    i, st_json_type(v));
		if (st_get_size(v, &d) != 0)
			return st_terr(err, errlen, AG_ERR_SHAPE, name,
			    "shape dimension %zu is negative (%lld)", i,
			    (long long)json_integer_value(v));
		t->shape[i] = (int64_t)d;
		if (ag_mul_size(t->nelem, d, &t->nelem) != 0)
			return st_terr(err, errlen, AG_ERR_SHAPE, name,
			    "element count overflows at dimension %zu", i);
	}
	return 0;
}

static int
st_parse_offsets(const char *name, const json_t *j, struct st_tensor *t,
    char *err, size_t errlen)
{
	const json_t *v;
	size_t i, off[2];

	if (!json_is_array(j) || json_array_size(j) != 2)
		return st_terr(err, errlen, AG_ERR_OFFSETS, name,
		    "data_offsets is not an array [begin, end]");
	json_array_foreach(j, i, v) {
		if (!json_is_integer(v))
			return st_terr(err, errlen, AG_ERR_OFFSETS, name,
			    "data_offsets value %zu is a JSON %s, not an "
			    "integer", i, st_json_type(v));
		if (st_get_size(v, &off[i]) != 0)
			return st_terr(err, errlen, AG_ERR_OFFSETS, name,
			    "data_offsets value %zu is negative (%lld)", i,
			    (long long)json_integer_value(v));
	}
	if (off[0] > off[1])
		return st_terr(err, errlen, AG_ERR_OFFSETS, name,
		    "data_offsets begin %zu is past end %zu", off[0], off[1]);
	t->begin = off[0];
	t->end = off[1];
	return 0;
}

/*
 * Fills t from one header entry.  Checks the entry alone; its place in the
 * data section is st_check_layout()'s job.
 */
static int
st_parse_entry(const char *name, const json_t *ent, struct st_tensor *t,
    char *err, size_t errlen)
{
	static const char *const fields[] = { "dtype", "shape",
	    "data_offsets" };
	const json_t *dtype, *v;
	const char *key;
	char have[ST_MSG_LEN], want[ST_MSG_LEN];
	size_t i, nbytes;
	int r;

	if (!json_is_object(ent))
		return st_terr(err, errlen, AG_ERR_FORMAT, name,
		    "entry is a JSON %s, not an object", st_json_type(ent));
	json_object_foreach((json_t *)ent, key, v) {
		for (i = 0; i < 3; i++)
			if (strcmp(key, fields[i]) == 0)
				break;
		if (i == 3) {
			st_show(have, key, strlen(key));
			return st_terr(err, errlen, AG_ERR_FORMAT, name,
			    "unknown field '%s'", have);
		}
	}
	for (i = 0; i < 3; i++) {
		if (json_object_get(ent, fields[i]) == NULL)
			return st_terr(err, errlen, AG_ERR_FORMAT, name,
			    "missing field '%s'", fields[i]);
	}

	t->name = name;
	dtype = json_object_get(ent, "dtype");
	if (!json_is_string(dtype))
		return st_terr(err, errlen, AG_ERR_DTYPE, name,
		    "dtype is a JSON %s, not a string", st_json_type(dtype));
	if (st_dtype_lookup(json_string_value(dtype), &t->dtype) != 0) {
		st_show(have, json_string_value(dtype),
		    json_string_length(dtype));
		return st_terr(err, errlen, AG_ERR_DTYPE, name,
		    "unknown dtype '%s'", have);
	}
	if ((r = st_parse_shape(name, json_object_get(ent, "shape"), t, err,
	    errlen)) != 0)
		return r;
	if (ag_mul_size(t->nelem, st_dtype_size(t->dtype), &nbytes) != 0)
		return st_terr(err, errlen, AG_ERR_SHAPE, name,
		    "size of %zu %s elements overflows", t->nelem,
		    st_dtype_name(t->dtype));
	if ((r = st_parse_offsets(name, json_object_get(ent, "data_offsets"),
	    t, err, errlen)) != 0)
		return r;
	if (t->end - t->begin != nbytes) {
		st_fmt_shape(have, sizeof(have), t->shape, t->ndim);
		(void)snprintf(want, sizeof(want), "%zu", nbytes);
		return st_terr(err, errlen, AG_ERR_SHAPE, name,
		    "data_offsets span %zu bytes, but shape %s of %s needs %s",
		    t->end - t->begin, have, st_dtype_name(t->dtype), want);
	}
	return 0;
}

static int
st_parse_metadata(const json_t *meta, char *err, size_t errlen)
{
	const char *key;
	const json_t *v;
	char shown[ST_SHOW_BUF];

	if (!json_is_object(meta))
		return ag_errf(err, errlen, AG_ERR_FORMAT,
		    "header: __metadata__ is a JSON %s, not an object",
		    st_json_type(meta));
	json_object_foreach((json_t *)meta, key, v) {
		if (json_is_string(v))
			continue;
		st_show(shown, key, strlen(key));
		return ag_errf(err, errlen, AG_ERR_FORMAT,
		    "header: __metadata__ value '%s' is a JSON %s, not a "
		    "string", shown, st_json_type(v));
	}
	return 0;
}

/* ==== Layout =========================================================== */

static int
st_cmp_offsets(const void *a, const void *b)
{
	const struct st_tensor *ta = a, *tb = b;

	if (ta->begin != tb->begin)
		return ta->begin < tb->begin ? -1 : 1;
	if (ta->end != tb->end)
		return ta->end < tb->end ? -1 : 1;
	return strcmp(ta->name, tb->name);
}

static int
st_cmp_names(const void *a, const void *b)
{
	const struct st_tensor *const *ta = a, *const *tb = b;

	return strcmp((*ta)->name, (*tb)->name);
}

static int
st_cmp_find(const void *key, const void *elem)
{
	const struct st_tensor *const *t = elem;

	return strcmp(key, (*t)->name);
}

/*
 * Sorts the tensors by offset and checks that they tile the data section
 * exactly: each one starts where the previous one ended, and the last one
 * ends at the end of the file.  A hole would be bytes nobody accounts for
 * (a place to hide data from review), an overlap two tensors aliasing one
 * another; the reference format forbids both.  A zero-size tensor takes no
 * bytes, so it must sit exactly on a boundary.
 */
static int
st_check_layout(struct st_file *f, char *err, size_t errlen)
{
	struct st_tensor *t, *prev = NULL;
	size_t i, pos = 0;
	char shown[ST_SHOW_BUF];

	if (f->sf_ntensors > 1)
		qsort(f->sf_tensors, f->sf_ntensors, sizeof(*f->sf_tensors),
		    st_cmp_offsets);
	for (i = 0; i < f->sf_ntensors; i++) {
		t = &f->sf_tensors[i];
		if (t->begin < pos) {
			AG_ASSERT(prev != NULL);
			st_show(shown, prev->name, strlen(prev->name));
			return st_terr(err, errlen, AG_ERR_OVERLAP, t->name,
			    "data_offsets [%zu, %zu] overlap tensor '%s' "
			    "[%zu, %zu]", t->begin, t->end, shown,
			    prev->begin, prev->end);
		}
		if (t->end > f->sf_datalen) {
			/* Laid out right up to here: the file was cut. */
			if (t->begin == pos)
				return st_terr(err, errlen, AG_ERR_TRUNCATED,
				    t->name, "data ends at byte %zu of the "
				    "data section, which has only %zu: file "
				    "truncated", t->end, f->sf_datalen);
			return st_terr(err, errlen, AG_ERR_OFFSETS, t->name,
			    "data_offsets [%zu, %zu] lie past the end of the "
			    "data section (%zu bytes)", t->begin, t->end,
			    f->sf_datalen);
		}
		if (t->begin > pos)
			return st_terr(err, errlen, AG_ERR_OFFSETS, t->name,
			    "%zu unused bytes before its data_offsets "
			    "[%zu, %zu]", t->begin - pos, t->begin, t->end);
		pos = t->end;
		prev = t;
	}
	if (pos != f->sf_datalen)
		return ag_errf(err, errlen, AG_ERR_OFFSETS,
		    "data section has %zu unused bytes after the last tensor "
		    "(tensors end at %zu of %zu)", f->sf_datalen - pos, pos,
		    f->sf_datalen);
	for (i = 0; i < f->sf_ntensors; i++) {
		t = &f->sf_tensors[i];
		t->data = f->sf_data + t->begin;
	}
	return 0;
}

/* ==== Parsing ========================================================== */

static int
st_parse_header(struct st_file *f, const char *h, size_t hlen, char *err,
    size_t errlen)
{
	json_error_t jerr;
	json_t *ent;
	const char *name;
	size_t n, i = 0;
	int r;

	if ((f->sf_root = json_loadb(h, hlen, JSON_REJECT_DUPLICATES |
	    JSON_DECODE_ANY, &jerr)) == NULL)
		return st_json_error(h, hlen, &jerr, err, errlen);
	if (!json_is_object(f->sf_root))
		return ag_errf(err, errlen, AG_ERR_FORMAT,
		    "header is a JSON %s, not an object",
		    st_json_type(f->sf_root));
	/* As the reference reader: no leading whitespace, trailing only. */
	if (h[0] != '{')
		return ag_errf(err, errlen, AG_ERR_FORMAT,
		    "header does not start with '{'");

	n = json_object_size(f->sf_root);
	if ((f->sf_meta = json_object_get(f->sf_root, ST_METADATA_KEY)) !=
	    NULL) {
		if ((r = st_parse_metadata(f->sf_meta, err, errlen)) != 0)
			return r;
		n--;
	}
	if (n > ST_MAX_TENSORS)
		return ag_errf(err, errlen, AG_ERR_TOO_LARGE,
		    "header lists %zu tensors, limit %d", n, ST_MAX_TENSORS);
	/* One spare element: calloc(0) may return NULL. */
	if ((f->sf_tensors = calloc(n + 1, sizeof(*f->sf_tensors))) == NULL ||
	    (f->sf_byname = calloc(n + 1, sizeof(*f->sf_byname))) == NULL)
		return ag_errf(err, errlen, AG_ERR_ALLOC,
		    "header: out of memory for %zu tensors", n);

	/* jansson iterates in file order, so errors are reproducible. */
	json_object_foreach(f->sf_root, name, ent) {
		if (strcmp(name, ST_METADATA_KEY) == 0)
			continue;
		AG_ASSERT(i < n);
		if ((r = st_check_name(name, json_object_iter_key_len(
		    json_object_key_to_iter(name)), err, errlen)) != 0)
			return r;
		if ((r = st_parse_entry(name, ent, &f->sf_tensors[i], err,
		    errlen)) != 0)
			return r;
		i++;
	}
	AG_ASSERT(i == n);
	f->sf_ntensors = n;
	return 0;
}

int
st_parse(const uint8_t *buf, size_t len, struct st_file **out, char *err,
    size_t errlen)
{
	struct st_file *f = NULL;
	uint64_t hlen;
	size_t i;
	int r;

	*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (buf == NULL && len != 0)
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG,
		    "st_parse: NULL buffer");
	if (len < ST_PREFIX_LEN)
		return ag_errf(err, errlen, AG_ERR_TRUNCATED,
		    "file is %zu bytes, too short for the 8-byte header "
		    "length", len);
	hlen = st_le64(buf);
	if (hlen > ST_MAX_HEADER_LEN)
		return ag_errf(err, errlen, AG_ERR_TOO_LARGE,
		    "header length %llu is past the limit of %u bytes",
		    (unsigned long long)hlen, ST_MAX_HEADER_LEN);
	if (hlen > len - ST_PREFIX_LEN)
		return ag_errf(err, errlen, AG_ERR_TRUNCATED,
		    "header length %llu runs past the end of the file "
		    "(%zu bytes after the length): file truncated",
		    (unsigned long long)hlen, len - ST_PREFIX_LEN);

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return ag_errf(err, errlen, AG_ERR_ALLOC, "out of memory");
	f->sf_buf = buf;
	f->sf_len = len;
	f->sf_data = buf + ST_PREFIX_LEN + hlen;
	f->sf_datalen = len - ST_PREFIX_LEN - (size_t)hlen;

	if ((r = st_parse_header(f, (const char *)buf + ST_PREFIX_LEN,
	    (size_t)hlen, err, errlen)) != 0)
		goto fail;
	if ((r = st_check_layout(f, err, errlen)) != 0)
		goto fail;
	for (i = 0; i < f->sf_ntensors; i++)
		f->sf_byname[i] = &f->sf_tensors[i];
	if (f->sf_ntensors > 1)
		qsort(f->sf_byname, f->sf_ntensors, sizeof(*f->sf_byname),
		    st_cmp_names);
	*out = f;
	return 0;
 fail:
	st_close(f);
	return r;
}

int
st_open(const char *path, struct st_file **out, char *err, size_t errlen)
{
	struct st_file *f = NULL;
	uint64_t size;
	void *map = MAP_FAILED;
	size_t len = 0;
	char msg[ST_MSG_LEN];
	int fd, r;

	*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	/*
	 * Symlinks are followed on purpose: model versions are activated by
	 * switching a link.  What we end up on must be a regular file.
	 */
	if ((r = ag_open_regular(path, &fd, &size, err, errlen)) != 0)
		return r;
	if (size < ST_PREFIX_LEN) {
		r = ag_errf(err, errlen, AG_ERR_TRUNCATED, "%s: file is %llu "
		    "bytes, too short for the 8-byte header length", path,
		    (unsigned long long)size);
		goto out;
	}
	if (size > SIZE_MAX) {
		r = ag_errf(err, errlen, AG_ERR_TOO_LARGE,
		    "%s: file too large to map", path);
		goto out;
	}
	len = (size_t)size;
	/*
	 * A private read-only mapping: we never write the weights.  Note
	 * that a file shrunk under us by someone else would still fault
	 * (SIGBUS); model files are expected to be immutable once installed.
	 */
	if ((map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0)) ==
	    MAP_FAILED) {
		r = ag_errf(err, errlen, AG_ERR_SYSTEM, "%s: mmap: %s", path,
		    strerror(errno));
		goto out;
	}
	if ((r = st_parse(map, len, &f, msg, sizeof(msg))) != 0) {
		(void)ag_errf(err, errlen, r, "%s: %s", path, msg);
		goto out;
	}
	f->sf_map = map;
	f->sf_maplen = len;
	map = MAP_FAILED;
	*out = f;
	r = 0;
 out:
	if (map != MAP_FAILED)
		(void)munmap(map, len);
	close(fd);
	return r;
}

void
st_close(struct st_file *f)
{
	if (f == NULL)
		return;
	json_decref(f->sf_root);
	free(f->sf_tensors);
	free(f->sf_byname);
	if (f->sf_map != NULL)
		(void)munmap(f->sf_map, f->sf_maplen);
	free(f);
}

/* ==== Lookups ========================================================== */

size_t
st_count(const struct st_file *f)
{
	return f->sf_ntensors;
}

const struct st_tensor *
st_tensor_at(const struct st_file *f, size_t i)
{
	if (i >= f->sf_ntensors)
		return NULL;
	return &f->sf_tensors[i];
}

const struct st_tensor *
st_find(const struct st_file *f, const char *name)
{
	const struct st_tensor *const *tp;

	if (name == NULL || f->sf_ntensors == 0)
		return NULL;
	tp = bsearch(name, f->sf_byname, f->sf_ntensors,
	    sizeof(*f->sf_byname), st_cmp_find);
	return tp != NULL ? *tp : NULL;
}

const char *
st_metadata(const struct st_file *f, const char *key)
{
	const json_t *v;

	if (f->sf_meta == NULL || key == NULL)
		return NULL;
	if ((v = json_object_get(f->sf_meta, key)) == NULL)
		return NULL;
	return json_string_value(v);	/* checked to be a string */
}

/* ==== Expectations ===================================================== */

static int
st_float_dtype(enum st_dtype d)
{
	return d == ST_F32 || d == ST_F16 || d == ST_BF16;
}

int
st_check_expected(const struct st_file *f, const struct st_expect *exp,
    size_t nexp, char *err, size_t errlen)
{
	const struct st_tensor *t;
	uint8_t *seen = NULL;
	char have[ST_MSG_LEN], want[ST_MSG_LEN];
	size_t i;
	int d, r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if ((seen = calloc(f->sf_ntensors + 1, 1)) == NULL)
		return ag_errf(err, errlen, AG_ERR_ALLOC, "out of memory");
	for (i = 0; i < nexp; i++) {
		if (exp[i].name == NULL || exp[i].ndim < 0 || exp[i].ndim >
		    (int)(sizeof(exp[i].shape) / sizeof(exp[i].shape[0]))) {
			r = ag_errf(err, errlen, AG_ERR_INVALID_ARG,
			    "st_check_expected: bad expectation %zu", i);
			goto out;
		}
		if ((t = st_find(f, exp[i].name)) == NULL) {
			if (exp[i].optional)
				continue;
			r = st_terr(err, errlen, AG_ERR_MISSING, exp[i].name,
			    "missing from the file");
			goto out;
		}
		seen[t - f->sf_tensors] = 1;
		if (exp[i].float_ok ? !st_float_dtype(t->dtype) :
		    t->dtype != exp[i].dtype) {
			r = st_terr(err, errlen, AG_ERR_DTYPE, t->name,
			    "dtype %s, expected %s", st_dtype_name(t->dtype),
			    exp[i].float_ok ? "F32, F16 or BF16" :
			    st_dtype_name(exp[i].dtype));
			goto out;
		}
		for (d = 0; d < t->ndim && t->ndim == exp[i].ndim; d++)
			if (t->shape[d] != exp[i].shape[d])
				break;
		if (t->ndim != exp[i].ndim || d != t->ndim) {
			st_fmt_shape(have, sizeof(have), t->shape, t->ndim);
			st_fmt_shape(want, sizeof(want), exp[i].shape,
			    exp[i].ndim);
			r = st_terr(err, errlen, AG_ERR_SHAPE, t->name,
			    "shape %s, expected %s", have, want);
			goto out;
		}
	}
	for (i = 0; i < f->sf_ntensors; i++) {
		if (seen[i])
			continue;
		r = st_terr(err, errlen, AG_ERR_UNEXPECTED,
		    f->sf_tensors[i].name, "not expected in this model");
		goto out;
	}
	r = 0;
 out:
	free(seen);
	return r;
}

/* ==== Conversion ======================================================= */

/*
 * IEEE half to single precision, exactly: every half value is a single
 * value.  Subnormal halves (m * 2^-24) become normal singles: shift the
 * mantissa up until its implicit bit (0x400) appears, lowering the
 * exponent once per shift.  Infinity and NaN keep sign and payload.
 */
static uint32_t
st_f16_bits(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16;
	uint32_t e = (h >> 10) & 0x1f, m = h & 0x3ff;
	int32_t ne;

	if (e == 0x1f)
		return sign | 0x7f800000u | (m << 13);
	if (e != 0)
		return sign | ((e + 112) << 23) | (m << 13);
	if (m == 0)
		return sign;
	/* Subnormal: value 0.m * 2^-14, unbiased exponent -14 at ne = 1. */
	ne = 1;
	while ((m & 0x400) == 0) {
		m <<= 1;
		ne--;
	}
	return sign | ((uint32_t)(ne + 112) << 23) | ((m & 0x3ff) << 13);
}

/* Refuses the first infinity or NaN (all-ones exponent) in v[0..n). */
static int
st_check_finite(const struct st_tensor *t, const float *v, size_t n,
    char *err, size_t errlen)
{
	uint32_t u;
	size_t i;

	for (i = 0; i < n; i++) {
		memcpy(&u, &v[i], sizeof(u));
		if ((u & 0x7f800000u) != 0x7f800000u)
			continue;
		return st_terr(err, errlen, AG_ERR_NUMERIC, t->name,
		    "element %zu is %s", i,
		    (u & 0x007fffffu) ? "NaN" : "infinite");
	}
	return 0;
}

int
st_tensor_to_f32(const struct st_tensor *t, float *dst, size_t count,
    char *err, size_t errlen)
{
	const uint8_t *p = t->data;
	uint32_t u;
	size_t i;

	if (!st_float_dtype(t->dtype))
		return st_terr(err, errlen, AG_ERR_DTYPE, t->name,
		    "dtype %s cannot be converted to F32",
		    st_dtype_name(t->dtype));
	if (count != t->nelem)
		return st_terr(err, errlen, AG_ERR_INVALID_ARG, t->name,
		    "%zu elements requested, tensor has %zu", count,
		    t->nelem);
	/* The data is little-endian and unaligned: memcpy or assemble. */
	switch (t->dtype) {
	case ST_F32:
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		if (count > 0)
			memcpy(dst, p, count * sizeof(float));
#else
		for (i = 0; i < count; i++, p += 4) {
			u = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
			    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
			memcpy(&dst[i], &u, sizeof(u));
		}
#endif
		break;
	case ST_F16:
		for (i = 0; i < count; i++, p += 2) {
			u = st_f16_bits((uint16_t)(p[0] | p[1] << 8));
			memcpy(&dst[i], &u, sizeof(u));
		}
		break;
	case ST_BF16:
		/* bfloat16 is the top half of a float32. */
		for (i = 0; i < count; i++, p += 2) {
			u = ((uint32_t)p[0] | (uint32_t)p[1] << 8) << 16;
			memcpy(&dst[i], &u, sizeof(u));
		}
		break;
	default:
		AG_ASSERT(0);	/* checked above */
	}
	return st_check_finite(t, dst, count, err, errlen);
}
