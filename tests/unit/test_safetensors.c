/* SPDX-License-Identifier: ISC */
/*
 * test_safetensors.c: unit tests for the strict safetensors reader.
 *
 * Files are built in memory: valid ones by a small writer (stw_*), broken
 * ones from a raw header string, so each case shows the exact bytes it
 * feeds the parser.  Every malformed case checks the AG_ERR_* code and that
 * the message names the tensor at fault.  The mutation test at the end
 * applies the OpenSSH fuzz strategies (bit flips, byte overwrites,
 * truncation at both ends) to a valid file and requires every mutant to
 * either parse into tensors that lie inside the buffer or fail cleanly.
 * Each mutant gets its own exact-size heap copy, so that an ASan build
 * catches a read one byte past the end.
 */
#include <sys/stat.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/ag_err.h"
#include "model/safetensors.h"
#include "test_helper.h"

#define ERRLEN	512

/* ==== Building files =================================================== */

/* A valid-file writer: tensors are laid out in the order they are added. */
struct stw {
	char	 hdr[16384];
	size_t	 hlen;
	uint8_t	 data[8192];
	size_t	 dlen;
};

static void
stw_puts(struct stw *w, const char *s)
{
	size_t n = strlen(s);

	if (w->hlen + n >= sizeof(w->hdr)) {
		fprintf(stderr, "stw: header too long\n");
		exit(99);
	}
	memcpy(w->hdr + w->hlen, s, n + 1);
	w->hlen += n;
}

/* meta: the JSON text of __metadata__, or NULL for none. */
static void
stw_init(struct stw *w, const char *meta)
{
	memset(w, 0, sizeof(*w));
	stw_puts(w, "{");
	if (meta != NULL) {
		stw_puts(w, "\"__metadata__\":");
		stw_puts(w, meta);
	}
}

static void
stw_add(struct stw *w, const char *name, const char *dtype,
    const int64_t *shape, int ndim, const void *bytes, size_t nbytes)
{
	char buf[1024];
	int i;

	if (w->dlen + nbytes > sizeof(w->data)) {
		fprintf(stderr, "stw: data too long\n");
		exit(99);
	}
	snprintf(buf, sizeof(buf), "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[",
	    w->hlen > 1 ? "," : "", name, dtype);
	stw_puts(w, buf);
	for (i = 0; i < ndim; i++) {
		snprintf(buf, sizeof(buf), "%s%lld", i ? "," : "",
		    (long long)shape[i]);
		stw_puts(w, buf);
	}
	snprintf(buf, sizeof(buf), "],\"data_offsets\":[%zu,%zu]}", w->dlen,
	    w->dlen + nbytes);
	stw_puts(w, buf);
	if (nbytes > 0)
		memcpy(w->data + w->dlen, bytes, nbytes);
	w->dlen += nbytes;
}

static void
put_le64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Length prefix hl, then hdr (hdrlen bytes), then data.  Caller frees. */
static uint8_t *
mkfile_hl(uint64_t hl, const char *hdr, size_t hdrlen, const void *data,
    size_t dlen, size_t *lenp)
{
	uint8_t *b;

	*lenp = 8 + hdrlen + dlen;
	if ((b = malloc(*lenp)) == NULL) {
		perror("malloc");
		exit(99);
	}
	put_le64(b, hl);
	memcpy(b + 8, hdr, hdrlen);
	if (dlen > 0)
		memcpy(b + 8 + hdrlen, data, dlen);
	return b;
}

static uint8_t *
mkfile(const char *hdr, const void *data, size_t dlen, size_t *lenp)
{
	return mkfile_hl(strlen(hdr), hdr, strlen(hdr), data, dlen, lenp);
}

/*
 * Closes the header, pads it with spaces to 8 bytes as the reference
 * writer does, and returns the file (caller frees).
 */
static uint8_t *
stw_finish(struct stw *w, size_t *lenp)
{
	stw_puts(w, "}");
	while (w->hlen % 8 != 0)
		stw_puts(w, " ");
	return mkfile(w->hdr, w->data, w->dlen, lenp);
}

static void
write_file(const char *path, const void *buf, size_t len)
{
	FILE *fp;

	if ((fp = fopen(path, "wb")) == NULL ||
	    fwrite(buf, 1, len, fp) != len || fclose(fp) != 0) {
		perror(path);
		exit(99);
	}
}

/* Bytes for a data section: n zero bytes (enough for every bad case). */
static const uint8_t zeros[4096];

/* ==== Malformed files ================================================== */

/* Parses buf and requires failure with code and a message holding needle. */
static void
expect_buf(const char *what, uint8_t *buf, size_t len, int code,
    const char *needle)
{
	struct st_file *f = (struct st_file *)&f;	/* not NULL */
	char err[ERRLEN];
	int r;

	TEST_START(what);
	memset(err, 0, sizeof(err));
	r = st_parse(buf, len, &f, err, sizeof(err));
	ASSERT_INT_EQ(r, code);
	ASSERT_PTR_EQ(f, NULL);
	ASSERT_TRUE(err[0] != '\0');
	if (needle != NULL)
		ASSERT_STRING_CONTAINS(err, needle);
	TEST_DONE();
	printf("    %d %s\n", r, err);
	free(buf);
}

static void
expect_hdr(const char *what, const char *hdr, size_t dlen, int code,
    const char *needle)
{
	size_t len;
	uint8_t *buf;

	buf = mkfile(hdr, zeros, dlen, &len);
	expect_buf(what, buf, len, code, needle);
}

/* A valid file of two F32 tensors "a" (2x2) and "b" (3), with metadata. */
static uint8_t *
good_file(size_t *lenp, size_t *hlenp)
{
	static const float a[4] = { 1, 2, 3, 4 }, b[3] = { 5, 6, 7 };
	const int64_t sa[2] = { 2, 2 }, sb[1] = { 3 };
	struct stw w;
	uint8_t *buf;

	stw_init(&w, "{\"format\":\"pt\"}");
	stw_add(&w, "a", "F32", sa, 2, a, sizeof(a));
	stw_add(&w, "b", "F32", sb, 1, b, sizeof(b));
	buf = stw_finish(&w, lenp);
	*hlenp = w.hlen;
	return buf;
}

static uint8_t *
dup_prefix(const uint8_t *src, size_t n)
{
	uint8_t *b = malloc(n ? n : 1);

	if (b == NULL)
		exit(99);
	if (n > 0)
		memcpy(b, src, n);
	return b;
}

static void
test_truncation(void)
{
	uint8_t *good, *buf;
	size_t len, hlen;

	good = good_file(&len, &hlen);
	expect_buf("truncated: 0 bytes", dup_prefix(good, 0), 0,
	    AG_ERR_TRUNCATED, "too short");
	expect_buf("truncated: 7 bytes", dup_prefix(good, 7), 7,
	    AG_ERR_TRUNCATED, "too short");
	expect_buf("truncated: length only", dup_prefix(good, 8), 8,
	    AG_ERR_TRUNCATED, "past the end");
	expect_buf("truncated: inside the header",
	    dup_prefix(good, 8 + hlen / 2), 8 + hlen / 2, AG_ERR_TRUNCATED,
	    "past the end");
	expect_buf("truncated: right after the header",
	    dup_prefix(good, 8 + hlen), 8 + hlen, AG_ERR_TRUNCATED,
	    "tensor 'a'");
	expect_buf("truncated: inside tensor data",
	    dup_prefix(good, 8 + hlen + 20), 8 + hlen + 20, AG_ERR_TRUNCATED,
	    "tensor 'b'");
	expect_buf("truncated: last byte", dup_prefix(good, len - 1),
	    len - 1, AG_ERR_TRUNCATED, "tensor 'b'");

	buf = mkfile_hl(1000, "{}", 2, NULL, 0, &len);
	expect_buf("header length past the end", buf, len, AG_ERR_TRUNCATED,
	    "1000");
	/* At the bound: one byte past the end, and eight (the prefix's). */
	buf = mkfile_hl(3, "{}", 2, NULL, 0, &len);
	expect_buf("header length 1 byte past the end", buf, len,
	    AG_ERR_TRUNCATED, "past the end");
	buf = mkfile_hl(10, "{}", 2, NULL, 0, &len);
	expect_buf("header length 8 bytes past the end", buf, len,
	    AG_ERR_TRUNCATED, "past the end");
	buf = mkfile_hl(1ULL << 63, "{}", 2, NULL, 0, &len);
	expect_buf("header length 2^63", buf, len, AG_ERR_TOO_LARGE,
	    "limit");
	buf = mkfile_hl(UINT64_MAX, "{}", 2, NULL, 0, &len);
	expect_buf("header length 2^64-1", buf, len, AG_ERR_TOO_LARGE,
	    "limit");
	buf = mkfile_hl(ST_MAX_HEADER_LEN + 1ULL, "{}", 2, NULL, 0, &len);
	expect_buf("header length 100 MiB + 1", buf, len, AG_ERR_TOO_LARGE,
	    "limit");
	buf = mkfile_hl(0, "", 0, NULL, 0, &len);
	expect_buf("header length 0", buf, len, AG_ERR_JSON, "JSON");
	free(good);
}

static void
test_malformed(void)
{
	char hdr[200000];
	size_t i, o, len;
	uint8_t *buf;
	char *name;

	/* Shapes. */
	expect_hdr("negative shape dimension",
	    "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,-3],"
	    "\"data_offsets\":[0,24]}}", 24, AG_ERR_SHAPE, "tensor 'w'");
	expect_hdr("overflowing shape [2^62, 2^62]",
	    "{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,"
	    "4611686018427387904],\"data_offsets\":[0,16]}}", 16,
	    AG_ERR_SHAPE, "tensor 'w'");
	expect_hdr("shape times element size overflows",
	    "{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],"
	    "\"data_offsets\":[0,16]}}", 16, AG_ERR_SHAPE, "tensor 'w'");
	expect_hdr("float in shape",
	    "{\"w\":{\"dtype\":\"F32\",\"shape\":[4.0],"
	    "\"data_offsets\":[0,16]}}", 16, AG_ERR_SHAPE, "tensor 'w'");
	expect_hdr("exponent in shape",
	    "{\"w\":{\"dtype\":\"F32\",\"shape\":[4e0],"
	    "\"data_offsets\":[0,16]}}", 16, AG_ERR_SHAPE, "tensor 'w'");
	expect_hdr("string in shape",
	    "{\"w\":{\"dtype\":\"F32\",\"shape\":[\"4\"],"
	    "\"data_offsets\":[0,16]}}", 16, AG_ERR_SHAPE, "tensor 'w'");
	expect_hdr("shape not an array",
	    "{\"w\":{\"dtype\":\"F32\",\"shape\":4,"
	    "\"data_offsets\":[0,16]}}", 16, AG_ERR_SHAPE, "tensor 'w'");
	expect_hdr("shape with 9 dimensions",
	    "{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],"
	    "\"data_offsets\":[0,4]}}", 4, AG_ERR_SHAPE, "tensor 'w'");
	expect_hdr("shape dimension past int64",
	    "{\"w\":{\"dtype\":\"F32\",\"shape\":[18446744073709551616],"
	    "\"data_offsets\":[0,16]}}", 16, AG_ERR_SHAPE, "tensor 'w'");
	expect_hdr("span != shape * element size",
	    "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],"
	    "\"data_offsets\":[0,16]}}", 16, AG_ERR_SHAPE, "tensor 'w'");
	expect_hdr("span of F16 read as F32",
	    "{\"w\":{\"dtype\":\"F16\",\"shape\":[4],"
	    "\"data_offsets\":[0,16]}}", 16, AG_ERR_SHAPE, "tensor 'w'");

	/* Offsets and layout. */
	expect_hdr("offsets past the end",
	    "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],"
	    "\"data_offsets\":[64,80]}}", 16, AG_ERR_OFFSETS, "tensor 'w'");
	expect_hdr("offsets far past the end",
	    "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":"
	    "[9223372036854775791,9223372036854775807]}}", 16,
	    AG_ERR_OFFSETS, "tensor 'w'");
	expect_hdr("begin > end",
	    "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],"
	    "\"data_offsets\":[16,0]}}", 16, AG_ERR_OFFSETS, "tensor 'w'");
	expect_hdr("negative offset",
	    "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],"
	    "\"data_offsets\":[-16,0]}}", 16, AG_ERR_OFFSETS, "tensor 'w'");
	expect_hdr("float offset",
	    "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],"
	    "\"data_offsets\":[0,16.0]}}", 16, AG_ERR_OFFSETS, "tensor 'w'");
	expect_hdr("offset past int64",
	    "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],"
	    "\"data_offsets\":[0,99999999999999999999]}}", 16,
	    AG_ERR_OFFSETS, "tensor 'w'");
	expect_hdr("three offsets",
	    "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],"
	    "\"data_offsets\":[0,16,16]}}", 16, AG_ERR_OFFSETS,
	    "tensor 'w'");
	expect_hdr("offsets an object",
	    "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],"
	    "\"data_offsets\":{\"begin\":0}}}", 16, AG_ERR_OFFSETS,
	    "tensor 'w'");
	expect_hdr("overlapping tensors",
	    "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
	    "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}",
	    24, AG_ERR_OVERLAP, "tensor 'b'");
	expect_hdr("identical tensors",
	    "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
	    "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}",
	    16, AG_ERR_OVERLAP, "tensor 'b'");
	expect_hdr("zero-size tensor inside another",
	    "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
	    "\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,8]}}",
	    16, AG_ERR_OVERLAP, "tensor 'z'");
	expect_hdr("hole between tensors",
	    "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
	    "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[20,36]}}",
	    36, AG_ERR_OFFSETS, "tensor 'b'");
	expect_hdr("hole before the first tensor",
	    "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[4,20]}}",
	    20, AG_ERR_OFFSETS, "tensor 'a'");
	expect_hdr("unused bytes after the last tensor",
	    "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}",
	    17, AG_ERR_OFFSETS, "unused");
	expect_hdr("data but no tensors", "{}", 8, AG_ERR_OFFSETS, "unused");

	/* Dtypes. */
	expect_hdr("unknown dtype",
	    "{\"w\":{\"dtype\":\"F17\",\"shape\":[4],"
	    "\"data_offsets\":[0,16]}}", 16, AG_ERR_DTYPE, "tensor 'w'");
	expect_hdr("lower-case dtype",
	    "{\"w\":{\"dtype\":\"f32\",\"shape\":[4],"
	    "\"data_offsets\":[0,16]}}", 16, AG_ERR_DTYPE, "tensor 'w'");
	expect_hdr("dtype not a string",
	    "{\"w\":{\"dtype\":9,\"shape\":[4],"
	    "\"data_offsets\":[0,16]}}", 16, AG_ERR_DTYPE, "tensor 'w'");

	/* JSON and structure. */
	expect_hdr("duplicate tensor name",
	    "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
	    "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
	    16, AG_ERR_DUPLICATE, "'w'");
	expect_hdr("duplicate long tensor name",
	    "{\"layer4.1.downsample.0.weight\":{\"dtype\":\"F32\",\"shape\":"
	    "[2],\"data_offsets\":[0,8]},\"layer4.1.downsample.0.weight\":"
	    "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
	    16, AG_ERR_DUPLICATE, "'layer4.1.downsample.0.weight'");
	expect_hdr("duplicate escaped tensor name",
	    "{\"a\\\"b\\\\\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":"
	    "[0,8]},\"a\\\"b\\\\\":{\"dtype\":\"F32\",\"shape\":[2],"
	    "\"data_offsets\":[8,16]}}", 16, AG_ERR_DUPLICATE,
	    "'a\"b\\x5c'");
	expect_hdr("duplicate field",
	    "{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[4],"
	    "\"data_offsets\":[0,16]}}", 16, AG_ERR_DUPLICATE, "'dtype'");
	expect_hdr("invalid JSON", "{\"w\":{\"dtype\":\"F32\",", 0,
	    AG_ERR_JSON, "not valid JSON");
	expect_hdr("invalid UTF-8",
	    "{\"w\xff\":{\"dtype\":\"F32\",\"shape\":[4],"
	    "\"data_offsets\":[0,16]}}", 16, AG_ERR_JSON, "UTF-8");
	expect_hdr("header an array", "[1,2,3]", 0, AG_ERR_FORMAT, "array");
	expect_hdr("header a string", "\"hello\"", 0, AG_ERR_FORMAT,
	    "string");
	expect_hdr("header a number", "42", 0, AG_ERR_FORMAT, "integer");
	expect_hdr("leading whitespace", " {}", 0, AG_ERR_FORMAT, "'{'");
	expect_hdr("trailing garbage", "{} x", 0, AG_ERR_JSON, "JSON");
	expect_hdr("two objects", "{}{}", 0, AG_ERR_JSON, "JSON");
	buf = mkfile_hl(4, "{}\0\0", 4, NULL, 0, &len);
	expect_buf("trailing NUL padding", buf, len, AG_ERR_JSON, "JSON");
	expect_hdr("entry not an object", "{\"w\":[0,16]}", 16,
	    AG_ERR_FORMAT, "tensor 'w'");
	expect_hdr("entry a string", "{\"w\":\"F32\"}", 0, AG_ERR_FORMAT,
	    "tensor 'w'");
	expect_hdr("missing data_offsets",
	    "{\"w\":{\"dtype\":\"F32\",\"shape\":[4]}}", 16, AG_ERR_FORMAT,
	    "tensor 'w': missing field 'data_offsets'");
	expect_hdr("missing dtype",
	    "{\"w\":{\"shape\":[4],\"data_offsets\":[0,16]}}", 16,
	    AG_ERR_FORMAT, "tensor 'w': missing field 'dtype'");
	expect_hdr("missing shape",
	    "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,16]}}", 16,
	    AG_ERR_FORMAT, "tensor 'w': missing field 'shape'");
	expect_hdr("extra field in an entry",
	    "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16],"
	    "\"requires_grad\":true}}", 16, AG_ERR_FORMAT,
	    "tensor 'w': unknown field 'requires_grad'");
	expect_hdr("__metadata__ an array", "{\"__metadata__\":[\"pt\"]}", 0,
	    AG_ERR_FORMAT, "__metadata__");
	expect_hdr("__metadata__ value a number",
	    "{\"__metadata__\":{\"format\":\"pt\",\"epoch\":3}}", 0,
	    AG_ERR_FORMAT, "'epoch'");
	expect_hdr("__metadata__ value an object",
	    "{\"__metadata__\":{\"format\":{}}}", 0, AG_ERR_FORMAT,
	    "'format'");
	expect_hdr("empty name",
	    "{\"\":{\"dtype\":\"F32\",\"shape\":[4],"
	    "\"data_offsets\":[0,16]}}", 16, AG_ERR_FORMAT, "empty name");
	expect_hdr("NUL in name",
	    "{\"a\\u0000b\":{\"dtype\":\"F32\",\"shape\":[4],"
	    "\"data_offsets\":[0,16]}}", 16, AG_ERR_JSON, "NUL");
	expect_hdr("control character in name",
	    "{\"a\\nb\":{\"dtype\":\"F32\",\"shape\":[4],"
	    "\"data_offsets\":[0,16]}}", 16, AG_ERR_FORMAT, "tensor 'a\\x0ab'");
	expect_hdr("escape sequence in name",
	    "{\"\\u001b[31m\":{\"dtype\":\"F32\",\"shape\":[4],"
	    "\"data_offsets\":[0,16]}}", 16, AG_ERR_FORMAT, "\\x1b[31m");

	/* A name of ST_MAX_NAME + 1 bytes. */
	o = (size_t)snprintf(hdr, sizeof(hdr), "{\"");
	for (i = 0; i < ST_MAX_NAME + 1; i++)
		hdr[o++] = 'n';
	snprintf(hdr + o, sizeof(hdr) - o, "\":{\"dtype\":\"F32\","
	    "\"shape\":[4],\"data_offsets\":[0,16]}}");
	expect_hdr("name too long", hdr, 16, AG_ERR_TOO_LARGE, "nnnnnnnn...");

	/* ST_MAX_TENSORS + 1 entries (their contents are never looked at). */
	if ((name = malloc(2000000)) == NULL)
		exit(99);
	o = (size_t)snprintf(name, 2000000, "{");
	for (i = 0; i < ST_MAX_TENSORS + 1; i++)
		o += (size_t)snprintf(name + o, 2000000 - o, "%s\"t%zu\":0",
		    i ? "," : "", i);
	snprintf(name + o, 2000000 - o, "}");
	expect_hdr("too many tensors", name, 0, AG_ERR_TOO_LARGE, "100001");
	free(name);
}

/* ==== Valid files ====================================================== */

static uint16_t
le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void
test_valid(void)
{
	static const float f32[6] = { 1.5f, -2.0f, 0.0f, 3.25f, 1e-3f, 7.0f };
	/* 1.0, -2.0, 65504, smallest subnormal */
	static const uint8_t f16[8] = { 0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b,
	    0x01, 0x00 };
	/* 1.0, -0.5, 3.0 in bfloat16 */
	static const uint8_t bf16[6] = { 0x80, 0x3f, 0x00, 0xbf, 0x40, 0x40 };
	static const uint8_t i64[8] = { 42 };
	const int64_t s_f32[2] = { 2, 3 }, s_f16[1] = { 4 }, s_bf16[1] = { 3 },
	    s_zero[2] = { 0, 5 };
	const struct st_tensor *t;
	struct st_file *f;
	struct stw w;
	uint8_t *buf;
	size_t len, i;
	float out[6];
	char err[ERRLEN];

	stw_init(&w, "{\"format\":\"pt\",\"source\":\"unit test\"}");
	stw_add(&w, "conv.weight", "F32", s_f32, 2, f32, sizeof(f32));
	stw_add(&w, "half", "F16", s_f16, 1, f16, sizeof(f16));
	stw_add(&w, "empty", "F32", s_zero, 2, NULL, 0);
	stw_add(&w, "brain", "BF16", s_bf16, 1, bf16, sizeof(bf16));
	stw_add(&w, "steps", "I64", NULL, 0, i64, sizeof(i64));
	buf = stw_finish(&w, &len);

	TEST_START("valid: parse F32/F16/BF16/I64/empty");
	ASSERT_INT_EQ(st_parse(buf, len, &f, err, sizeof(err)), 0);
	ASSERT_PTR_NE(f, NULL);
	ASSERT_INT_EQ(st_count(f), 5);
	ASSERT_PTR_EQ(st_tensor_at(f, 5), NULL);
	TEST_DONE();

	TEST_START("valid: file order and data pointers");
	t = st_tensor_at(f, 0);
	ASSERT_STRING_EQ(t->name, "conv.weight");
	ASSERT_INT_EQ(t->dtype, ST_F32);
	ASSERT_INT_EQ(t->ndim, 2);
	ASSERT_INT_EQ(t->shape[0], 2);
	ASSERT_INT_EQ(t->shape[1], 3);
	ASSERT_INT_EQ(t->nelem, 6);
	ASSERT_INT_EQ(t->begin, 0);
	ASSERT_INT_EQ(t->end, 24);
	ASSERT_PTR_EQ(t->data, buf + 8 + w.hlen);
	ASSERT_MEM_EQ(t->data, f32, sizeof(f32));
	t = st_tensor_at(f, 1);
	ASSERT_STRING_EQ(t->name, "half");
	/* "empty" (begin == end == 32) sorts before "brain" [32, 38). */
	ASSERT_STRING_EQ(st_tensor_at(f, 2)->name, "empty");
	ASSERT_INT_EQ(st_tensor_at(f, 2)->nelem, 0);
	ASSERT_INT_EQ(st_tensor_at(f, 2)->begin, 32);
	ASSERT_INT_EQ(st_tensor_at(f, 2)->end, 32);
	ASSERT_STRING_EQ(st_tensor_at(f, 3)->name, "brain");
	t = st_tensor_at(f, 4);
	ASSERT_STRING_EQ(t->name, "steps");
	ASSERT_INT_EQ(t->ndim, 0);
	ASSERT_INT_EQ(t->nelem, 1);
	ASSERT_INT_EQ(t->dtype, ST_I64);
	ASSERT_PTR_EQ(t->data + 8, buf + len);
	TEST_DONE();

	TEST_START("valid: st_find");
	for (i = 0; i < st_count(f); i++)
		ASSERT_PTR_EQ(st_find(f, st_tensor_at(f, i)->name),
		    st_tensor_at(f, i));
	ASSERT_PTR_EQ(st_find(f, "nope"), NULL);
	ASSERT_PTR_EQ(st_find(f, ""), NULL);
	ASSERT_PTR_EQ(st_find(f, "__metadata__"), NULL);
	ASSERT_PTR_EQ(st_find(f, "conv.weigh"), NULL);
	ASSERT_PTR_EQ(st_find(f, "conv.weightt"), NULL);
	TEST_DONE();

	TEST_START("valid: st_metadata");
	ASSERT_STRING_EQ(st_metadata(f, "format"), "pt");
	ASSERT_STRING_EQ(st_metadata(f, "source"), "unit test");
	ASSERT_PTR_EQ(st_metadata(f, "missing"), NULL);
	TEST_DONE();

	TEST_START("valid: st_tensor_to_f32");
	ASSERT_INT_EQ(st_tensor_to_f32(st_find(f, "conv.weight"), out, 6,
	    err, sizeof(err)), 0);
	ASSERT_MEM_EQ(out, f32, sizeof(f32));
	ASSERT_INT_EQ(st_tensor_to_f32(st_find(f, "half"), out, 4, err,
	    sizeof(err)), 0);
	ASSERT_DBL_GE(out[0], 1.0);
	ASSERT_DBL_LE(out[0], 1.0);
	ASSERT_DBL_GE(out[1], -2.0);
	ASSERT_DBL_LE(out[1], -2.0);
	ASSERT_DBL_GE(out[2], 65504.0);
	ASSERT_DBL_LE(out[2], 65504.0);
	ASSERT_DBL_GE(out[3], ldexp(1.0, -24));
	ASSERT_DBL_LE(out[3], ldexp(1.0, -24));
	ASSERT_INT_EQ(st_tensor_to_f32(st_find(f, "brain"), out, 3, err,
	    sizeof(err)), 0);
	ASSERT_DBL_GE(out[0], 1.0);
	ASSERT_DBL_LE(out[0], 1.0);
	ASSERT_DBL_GE(out[1], -0.5);
	ASSERT_DBL_LE(out[1], -0.5);
	ASSERT_DBL_GE(out[2], 3.0);
	ASSERT_DBL_LE(out[2], 3.0);
	ASSERT_INT_EQ(st_tensor_to_f32(st_find(f, "empty"), out, 0, err,
	    sizeof(err)), 0);
	ASSERT_INT_EQ(st_tensor_to_f32(st_find(f, "steps"), out, 1, err,
	    sizeof(err)), AG_ERR_DTYPE);
	ASSERT_STRING_CONTAINS(err, "tensor 'steps'");
	ASSERT_INT_EQ(st_tensor_to_f32(st_find(f, "half"), out, 3, err,
	    sizeof(err)), AG_ERR_INVALID_ARG);
	ASSERT_STRING_CONTAINS(err, "tensor 'half'");
	TEST_DONE();

	st_close(f);
	free(buf);

	TEST_START("valid: empty header, no tensors");
	buf = mkfile("{}", NULL, 0, &len);
	ASSERT_INT_EQ(st_parse(buf, len, &f, err, sizeof(err)), 0);
	ASSERT_INT_EQ(st_count(f), 0);
	ASSERT_PTR_EQ(st_find(f, "a"), NULL);
	ASSERT_PTR_EQ(st_metadata(f, "format"), NULL);
	st_close(f);
	free(buf);
	TEST_DONE();

	TEST_START("valid: header with trailing whitespace, offsets unordered");
	buf = mkfile("{\"b\":{\"dtype\":\"U8\",\"shape\":[2],"
	    "\"data_offsets\":[2,4]},\"a\":{\"dtype\":\"U8\",\"shape\":[2],"
	    "\"data_offsets\":[0,2]}} \t\r\n", "\1\2\3\4", 4, &len);
	ASSERT_INT_EQ(st_parse(buf, len, &f, err, sizeof(err)), 0);
	ASSERT_STRING_EQ(st_tensor_at(f, 0)->name, "a");
	ASSERT_STRING_EQ(st_tensor_at(f, 1)->name, "b");
	ASSERT_INT_EQ(st_find(f, "b")->data[0], 3);
	st_close(f);
	free(buf);
	TEST_DONE();

	TEST_START("st_close(NULL) and dtype names");
	st_close(NULL);
	ASSERT_INT_EQ(st_dtype_size(ST_F32), 4);
	ASSERT_INT_EQ(st_dtype_size(ST_BF16), 2);
	ASSERT_INT_EQ(st_dtype_size(ST_I64), 8);
	ASSERT_INT_EQ(st_dtype_size(ST_F8_E5M2), 1);
	ASSERT_STRING_EQ(st_dtype_name(ST_F16), "F16");
	ASSERT_STRING_EQ(st_dtype_name(ST_F8_E4M3), "F8_E4M3");
	TEST_DONE();
}

static void
test_open(void)
{
	char path[512], dir[512], err[ERRLEN];
	struct st_file *f;
	uint8_t *buf;
	size_t len, hlen;

	buf = good_file(&len, &hlen);
	snprintf(path, sizeof(path), "%s/good.safetensors", test_tmpdir());
	write_file(path, buf, len);

	TEST_START("st_open: a real file");
	ASSERT_INT_EQ(st_open(path, &f, err, sizeof(err)), 0);
	ASSERT_INT_EQ(st_count(f), 2);
	ASSERT_MEM_EQ(st_find(f, "b")->data, buf + 8 + hlen + 16, 12);
	ASSERT_STRING_EQ(st_metadata(f, "format"), "pt");
	st_close(f);
	TEST_DONE();

	TEST_START("st_open: through a symlink");
	snprintf(dir, sizeof(dir), "%s/link.safetensors", test_tmpdir());
	ASSERT_INT_EQ(symlink(path, dir), 0);
	ASSERT_INT_EQ(st_open(dir, &f, err, sizeof(err)), 0);
	st_close(f);
	TEST_DONE();

	TEST_START("st_open: truncated file names the path");
	write_file(path, buf, len - 4);
	f = (struct st_file *)&f;
	ASSERT_INT_EQ(st_open(path, &f, err, sizeof(err)), AG_ERR_TRUNCATED);
	ASSERT_PTR_EQ(f, NULL);
	ASSERT_STRING_CONTAINS(err, path);
	ASSERT_STRING_CONTAINS(err, "tensor 'b'");
	TEST_DONE();

	TEST_START("st_open: empty file");
	write_file(path, buf, 0);
	ASSERT_INT_EQ(st_open(path, &f, err, sizeof(err)), AG_ERR_TRUNCATED);
	ASSERT_STRING_CONTAINS(err, path);
	TEST_DONE();

	TEST_START("st_open: missing file");
	snprintf(dir, sizeof(dir), "%s/none.safetensors", test_tmpdir());
	ASSERT_INT_EQ(st_open(dir, &f, err, sizeof(err)), AG_ERR_NOT_FOUND);
	ASSERT_STRING_CONTAINS(err, dir);
	TEST_DONE();

	TEST_START("st_open: a directory");
	ASSERT_INT_EQ(st_open(test_tmpdir(), &f, err, sizeof(err)),
	    AG_ERR_FORMAT);
	ASSERT_STRING_CONTAINS(err, "regular file");
	TEST_DONE();

	TEST_START("st_open: a FIFO");
	snprintf(dir, sizeof(dir), "%s/fifo", test_tmpdir());
	ASSERT_INT_EQ(mkfifo(dir, 0600), 0);
	/* With no writer, a blocking open would hang here. */
	ASSERT_INT_EQ(st_open(dir, &f, err, sizeof(err)), AG_ERR_FORMAT);
	ASSERT_STRING_CONTAINS(err, "regular file");
	TEST_DONE();
	free(buf);
}

/* ==== Expectations ===================================================== */

static void
test_expected(void)
{
	static const float z[64];
	const int64_t s_w[4] = { 2, 1, 2, 2 }, s_b[1] = { 2 };
	struct st_expect exp[3] = {
		{ "conv.weight", 4, { 2, 1, 2, 2 }, 1, ST_F32, 0 },
		{ "conv.bias", 1, { 2 }, 1, ST_F32, 0 },
		{ "fc.bias", 1, { 10 }, 1, ST_F32, 1 },
	};
	struct st_file *f;
	struct stw w;
	uint8_t *buf;
	size_t len;
	char err[ERRLEN];

	stw_init(&w, NULL);
	stw_add(&w, "conv.weight", "F32", s_w, 4, z, 32);
	stw_add(&w, "conv.bias", "F16", s_b, 1, z, 4);
	buf = stw_finish(&w, &len);
	if (st_parse(buf, len, &f, err, sizeof(err)) != 0) {
		fprintf(stderr, "test_expected: %s\n", err);
		exit(99);
	}

	TEST_START("expected: exact match, optional absent");
	ASSERT_INT_EQ(st_check_expected(f, exp, 3, err, sizeof(err)), 0);
	TEST_DONE();

	TEST_START("expected: missing tensor");
	exp[1].name = "conv.bias2";
	ASSERT_INT_EQ(st_check_expected(f, exp, 3, err, sizeof(err)),
	    AG_ERR_MISSING);
	ASSERT_STRING_CONTAINS(err, "conv.bias2");
	exp[1].name = "conv.bias";
	TEST_DONE();

	TEST_START("expected: unexpected tensor");
	ASSERT_INT_EQ(st_check_expected(f, exp, 1, err, sizeof(err)),
	    AG_ERR_UNEXPECTED);
	ASSERT_STRING_CONTAINS(err, "tensor 'conv.bias'");
	TEST_DONE();

	TEST_START("expected: wrong shape");
	exp[0].shape[3] = 3;
	ASSERT_INT_EQ(st_check_expected(f, exp, 3, err, sizeof(err)),
	    AG_ERR_SHAPE);
	ASSERT_STRING_CONTAINS(err, "tensor 'conv.weight'");
	ASSERT_STRING_CONTAINS(err, "[2, 1, 2, 2]");
	ASSERT_STRING_CONTAINS(err, "[2, 1, 2, 3]");
	exp[0].shape[3] = 2;
	TEST_DONE();

	TEST_START("expected: wrong rank");
	exp[1].ndim = 2;
	exp[1].shape[1] = 1;
	ASSERT_INT_EQ(st_check_expected(f, exp, 3, err, sizeof(err)),
	    AG_ERR_SHAPE);
	ASSERT_STRING_CONTAINS(err, "tensor 'conv.bias'");
	exp[1].ndim = 1;
	TEST_DONE();

	TEST_START("expected: wrong dtype");
	exp[1].float_ok = 0;
	exp[1].dtype = ST_F32;
	ASSERT_INT_EQ(st_check_expected(f, exp, 3, err, sizeof(err)),
	    AG_ERR_DTYPE);
	ASSERT_STRING_CONTAINS(err, "tensor 'conv.bias'");
	exp[1].dtype = ST_F16;
	ASSERT_INT_EQ(st_check_expected(f, exp, 3, err, sizeof(err)), 0);
	exp[1].float_ok = 1;
	TEST_DONE();

	TEST_START("expected: optional present with the wrong shape");
	exp[2].name = "conv.bias";
	exp[2].shape[0] = 3;
	ASSERT_INT_EQ(st_check_expected(f, exp, 3, err, sizeof(err)),
	    AG_ERR_SHAPE);
	ASSERT_STRING_CONTAINS(err, "tensor 'conv.bias'");
	TEST_DONE();

	TEST_START("expected: optional present with the wrong dtype");
	exp[2].shape[0] = 2;
	exp[2].float_ok = 0;
	exp[2].dtype = ST_I64;
	ASSERT_INT_EQ(st_check_expected(f, exp, 3, err, sizeof(err)),
	    AG_ERR_DTYPE);
	ASSERT_STRING_CONTAINS(err, "tensor 'conv.bias'");
	TEST_DONE();

	st_close(f);
	free(buf);

	TEST_START("expected: I64 tensor against a float expectation");
	stw_init(&w, NULL);
	stw_add(&w, "conv.weight", "I64", s_w, 4, z, 64);
	buf = stw_finish(&w, &len);
	ASSERT_INT_EQ(st_parse(buf, len, &f, err, sizeof(err)), 0);
	ASSERT_INT_EQ(st_check_expected(f, exp, 1, err, sizeof(err)),
	    AG_ERR_DTYPE);
	ASSERT_STRING_CONTAINS(err, "tensor 'conv.weight'");
	st_close(f);
	free(buf);
	TEST_DONE();
}

/* ==== Conversion ======================================================= */

/*
 * The reference: the value of half h computed in double, then rounded to
 * float (exact, since every half is a float).
 */
static float
ref_f16(uint16_t h)
{
	int e = (h >> 10) & 0x1f, m = h & 0x3ff;
	double v;

	v = e == 0 ? ldexp(m, -24) : ldexp(1024 + m, e - 25);
	return (float)((h & 0x8000) ? -v : v);
}

static void
test_convert(void)
{
	struct st_tensor t;
	uint8_t *raw;
	float *out, want;
	uint32_t u;
	size_t n, i, bad;
	char err[ERRLEN];

	if ((raw = malloc(65536 * 2)) == NULL ||
	    (out = malloc(65536 * sizeof(float))) == NULL)
		exit(99);

	TEST_START("F16: every finite value converts exactly");
	for (n = 0, i = 0; i < 65536; i++) {
		if (((i >> 10) & 0x1f) == 0x1f)
			continue;
		raw[2 * n] = (uint8_t)i;
		raw[2 * n + 1] = (uint8_t)(i >> 8);
		n++;
	}
	ASSERT_INT_EQ(n, 65536 - 2048);
	memset(&t, 0, sizeof(t));
	t.name = "all.f16";
	t.dtype = ST_F16;
	t.ndim = 1;
	t.shape[0] = (int64_t)n;
	t.nelem = n;
	t.data = raw;
	ASSERT_INT_EQ(st_tensor_to_f32(&t, out, n, err, sizeof(err)), 0);
	for (bad = 0, i = 0; i < n; i++) {
		want = ref_f16(le16(raw + 2 * i));
		if (memcmp(&want, &out[i], sizeof(want)) != 0)
			bad++;
	}
	ASSERT_INT_EQ(bad, 0);
	TEST_DONE();

	TEST_START("F16: signed zeros and subnormal bounds");
	memcpy(&u, &out[0], 4);
	ASSERT_INT_EQ(u, 0x00000000);
	memcpy(&u, &out[0x8000 - 1024], 4);	/* 0x8000 after the skip */
	ASSERT_INT_EQ(u, 0x80000000);
	ASSERT_DBL_GE(out[1], ldexp(1.0, -24));
	ASSERT_DBL_LE(out[1], ldexp(1.0, -24));
	ASSERT_DBL_GE(out[0x3ff], ldexp(1023.0, -24));
	ASSERT_DBL_LE(out[0x3ff], ldexp(1023.0, -24));
	ASSERT_DBL_GE(out[0x400], ldexp(1.0, -14));
	ASSERT_DBL_LE(out[0x400], ldexp(1.0, -14));
	TEST_DONE();

	TEST_START("BF16: every finite value converts exactly");
	for (n = 0, i = 0; i < 65536; i++) {
		if (((i >> 7) & 0xff) == 0xff)
			continue;
		raw[2 * n] = (uint8_t)i;
		raw[2 * n + 1] = (uint8_t)(i >> 8);
		n++;
	}
	t.name = "all.bf16";
	t.dtype = ST_BF16;
	t.shape[0] = (int64_t)n;
	t.nelem = n;
	ASSERT_INT_EQ(st_tensor_to_f32(&t, out, n, err, sizeof(err)), 0);
	for (bad = 0, i = 0; i < n; i++) {
		u = (uint32_t)le16(raw + 2 * i) << 16;
		if (memcmp(&u, &out[i], sizeof(u)) != 0)
			bad++;
	}
	ASSERT_INT_EQ(bad, 0);
	TEST_DONE();

	TEST_START("F16: infinity and NaN refused with their index");
	t.name = "bad.half";
	t.dtype = ST_F16;
	t.nelem = 3;
	t.shape[0] = 3;
	memcpy(raw, "\x00\x3c\x00\x3c\x00\x7c", 6);	/* 1, 1, +inf */
	ASSERT_INT_EQ(st_tensor_to_f32(&t, out, 3, err, sizeof(err)),
	    AG_ERR_NUMERIC);
	ASSERT_STRING_CONTAINS(err, "tensor 'bad.half'");
	ASSERT_STRING_CONTAINS(err, "element 2 is infinite");
	memcpy(raw, "\x01\xfc\x00\x3c\x00\x3c", 6);	/* NaN, 1, 1 */
	ASSERT_INT_EQ(st_tensor_to_f32(&t, out, 3, err, sizeof(err)),
	    AG_ERR_NUMERIC);
	ASSERT_STRING_CONTAINS(err, "element 0 is NaN");
	memcpy(raw, "\x00\x3c\x00\xfc\x00\x3c", 6);	/* 1, -inf, 1 */
	ASSERT_INT_EQ(st_tensor_to_f32(&t, out, 3, err, sizeof(err)),
	    AG_ERR_NUMERIC);
	ASSERT_STRING_CONTAINS(err, "element 1 is infinite");
	TEST_DONE();

	TEST_START("BF16: infinity and NaN refused");
	t.name = "bad.bf16";
	t.dtype = ST_BF16;
	memcpy(raw, "\x80\x3f\x80\x7f\x80\x3f", 6);	/* 1, +inf, 1 */
	ASSERT_INT_EQ(st_tensor_to_f32(&t, out, 3, err, sizeof(err)),
	    AG_ERR_NUMERIC);
	ASSERT_STRING_CONTAINS(err, "element 1 is infinite");
	memcpy(raw, "\x80\x3f\x80\x3f\xc1\xff", 6);	/* 1, 1, NaN */
	ASSERT_INT_EQ(st_tensor_to_f32(&t, out, 3, err, sizeof(err)),
	    AG_ERR_NUMERIC);
	ASSERT_STRING_CONTAINS(err, "element 2 is NaN");
	TEST_DONE();

	TEST_START("F32: NaN refused, unaligned data read");
	t.name = "bad.f32";
	t.dtype = ST_F32;
	t.nelem = 2;
	t.shape[0] = 2;
	/* 1.0f then a quiet NaN, starting at an odd address. */
	memcpy(raw + 1, "\x00\x00\x80\x3f\x00\x00\xc0\x7f", 8);
	t.data = raw + 1;
	ASSERT_INT_EQ(st_tensor_to_f32(&t, out, 2, err, sizeof(err)),
	    AG_ERR_NUMERIC);
	ASSERT_STRING_CONTAINS(err, "tensor 'bad.f32'");
	ASSERT_STRING_CONTAINS(err, "element 1 is NaN");
	t.nelem = 1;
	ASSERT_INT_EQ(st_tensor_to_f32(&t, out, 1, err, sizeof(err)), 0);
	ASSERT_DBL_GE(out[0], 1.0);
	ASSERT_DBL_LE(out[0], 1.0);
	TEST_DONE();

	free(raw);
	free(out);
}

/* ==== Mutation test ==================================================== */

struct mstats {
	size_t	 n, ok, refused, bad;
};

/* A deterministic generator (xorshift64), so failures reproduce. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * Parses the mutant b[0..len) (an exact-size heap block, freed here) and
 * checks the outcome.  what, x and y describe the mutation for the report.
 */
static void
check_mutant(struct mstats *ms, uint8_t *b, size_t len, const char *what,
    size_t x, size_t y)
{
	static float scratch[1024];
	const struct st_tensor *t;
	struct st_file *f;
	char err[ERRLEN];
	const char *fault = NULL;
	size_t i, nb;
	int r;

	ms->n++;
	memset(err, 0, sizeof(err));
	r = st_parse(b, len, &f, err, sizeof(err));
	if (r == 0) {
		ms->ok++;
		for (i = 0; i < st_count(f) && fault == NULL; i++) {
			t = st_tensor_at(f, i);
			nb = t->end - t->begin;
			if (t->data < b + 8 || t->data > b + len ||
			    nb > (size_t)(b + len - t->data))
				fault = "tensor outside the buffer";
			else if (nb != t->nelem * st_dtype_size(t->dtype))
				fault = "tensor size inconsistent";
			else if (st_find(f, t->name) != t)
				fault = "st_find disagrees";
			else if (t->nelem <= 1024 && (t->dtype == ST_F32 ||
			    t->dtype == ST_F16 || t->dtype == ST_BF16)) {
				r = st_tensor_to_f32(t, scratch, t->nelem,
				    err, sizeof(err));
				if (r != 0 && r != AG_ERR_NUMERIC)
					fault = "conversion failed";
				r = 0;
			}
		}
		if (fault == NULL && st_tensor_at(f, st_count(f)) != NULL)
			fault = "st_tensor_at past the end";
		(void)st_metadata(f, "format");
		st_close(f);
	} else {
		ms->refused++;
		if (r > 0 || r < AG_ERR_MAX)
			fault = "code out of range";
		else if (err[0] == '\0')
			fault = "empty message";
		else if (f != NULL)
			fault = "*out not cleared";
		for (i = 0; err[i] != '\0' && fault == NULL; i++)
			if ((unsigned char)err[i] < 0x20 ||
			    (unsigned char)err[i] >= 0x7f)
				fault = "unprintable byte in message";
	}
	if (fault != NULL) {
		if (ms->bad++ < 10)
			fprintf(stderr, "mutant %s(%zu, %zu): %s (r=%d, %s)\n",
			    what, x, y, fault, r, err);
	}
	free(b);
}

/* The valid file that every mutant starts from. */
static uint8_t *
mutation_base(size_t *lenp, size_t *hlenp)
{
	static const float w[12] = { 0.5f, -1, 2, 0.25f, 3, -4, 5, 6, 7, 8,
	    9, 10 };
	static const uint8_t h[8] = { 0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b,
	    0x01, 0x80 };
	static const uint8_t bf[4] = { 0x80, 0x3f, 0x00, 0xbf };
	static const uint8_t l[8] = { 7 };
	const int64_t s_w[4] = { 3, 1, 2, 2 }, s_h[2] = { 2, 2 },
	    s_bf[1] = { 2 }, s_z[1] = { 0 };
	struct stw sw;
	uint8_t *buf;

	stw_init(&sw, "{\"format\":\"pt\",\"source\":\"mutation base\"}");
	stw_add(&sw, "conv1.weight", "F32", s_w, 4, w, sizeof(w));
	stw_add(&sw, "bn1.running_var", "F16", s_h, 2, h, sizeof(h));
	stw_add(&sw, "fc.bias", "BF16", s_bf, 1, bf, sizeof(bf));
	stw_add(&sw, "bn1.num_batches_tracked", "I64", NULL, 0, l, sizeof(l));
	stw_add(&sw, "layer1.0.empty", "F32", s_z, 1, NULL, 0);
	buf = stw_finish(&sw, lenp);
	*hlenp = sw.hlen;
	return buf;
}

static void
test_mutation(void)
{
	static const uint8_t vals[] = { 0x00, 0xff, '"', '{', '}', '[', ']',
	    '9', '-', '0', ',', ':', ' ', '\\', 'e', '.', 0x80 };
	struct mstats ms = { 0 };
	struct st_file *f;
	struct timespec t0, t1;
	uint8_t *base, *b;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	size_t len, hlen, region, i, j, k;
	char err[ERRLEN];

	base = mutation_base(&len, &hlen);
	/* The length prefix, the header and the first data bytes. */
	region = 8 + hlen + 16;
	clock_gettime(CLOCK_MONOTONIC, &t0);

	TEST_START("mutation: the base file parses");
	ASSERT_INT_EQ(st_parse(base, len, &f, err, sizeof(err)), 0);
	ASSERT_INT_EQ(st_count(f), 5);
	st_close(f);
	TEST_DONE();

	TEST_START("mutation: every 1-bit flip");
	for (i = 0; i < region * 8; i++) {
		b = dup_prefix(base, len);
		b[i / 8] ^= (uint8_t)(1u << (i % 8));
		check_mutant(&ms, b, len, "bitflip", i, 0);
	}
	ASSERT_INT_EQ(ms.bad, 0);
	TEST_DONE();

	TEST_START("mutation: 2-bit flips (sampled)");
	for (k = 0; k < 100000; k++) {
		i = (size_t)(rnd(&seed) % (region * 8));
		j = (size_t)(rnd(&seed) % (region * 8));
		b = dup_prefix(base, len);
		b[i / 8] ^= (uint8_t)(1u << (i % 8));
		b[j / 8] ^= (uint8_t)(1u << (j % 8));
		check_mutant(&ms, b, len, "bitflip2", i, j);
	}
	ASSERT_INT_EQ(ms.bad, 0);
	TEST_DONE();

	TEST_START("mutation: every 1-byte overwrite with special values");
	for (i = 0; i < region; i++) {
		for (k = 0; k < sizeof(vals); k++) {
			if (base[i] == vals[k])
				continue;
			b = dup_prefix(base, len);
			b[i] = vals[k];
			check_mutant(&ms, b, len, "byte", i, vals[k]);
		}
	}
	ASSERT_INT_EQ(ms.bad, 0);
	TEST_DONE();

	TEST_START("mutation: 1-byte overwrites with random values");
	for (k = 0; k < 20000; k++) {
		i = (size_t)(rnd(&seed) % region);
		b = dup_prefix(base, len);
		b[i] = (uint8_t)rnd(&seed);
		check_mutant(&ms, b, len, "byterand", i, b[i]);
	}
	ASSERT_INT_EQ(ms.bad, 0);
	TEST_DONE();

	TEST_START("mutation: 2-byte overwrites (sampled)");
	for (k = 0; k < 100000; k++) {
		i = (size_t)(rnd(&seed) % region);
		j = (size_t)(rnd(&seed) % region);
		b = dup_prefix(base, len);
		b[i] = vals[rnd(&seed) % sizeof(vals)];
		b[j] = (k & 1) ? (uint8_t)rnd(&seed) :
		    vals[rnd(&seed) % sizeof(vals)];
		check_mutant(&ms, b, len, "byte2", i, j);
	}
	ASSERT_INT_EQ(ms.bad, 0);
	TEST_DONE();

	TEST_START("mutation: truncate the end at every length");
	for (i = 0; i < len; i++)
		check_mutant(&ms, dup_prefix(base, i), i, "cut-end", i, 0);
	ASSERT_INT_EQ(ms.bad, 0);
	TEST_DONE();

	TEST_START("mutation: truncate the start at every length");
	for (i = 1; i <= len; i++) {
		b = dup_prefix(base + i, len - i);
		check_mutant(&ms, b, len - i, "cut-start", i, 0);
	}
	ASSERT_INT_EQ(ms.bad, 0);
	TEST_DONE();

	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("mutation: %zu mutants of a %zu-byte file, %zu parsed, "
	    "%zu refused, %.2f s\n", ms.n, len, ms.ok, ms.refused,
	    (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	free(base);
}

void
tests(void)
{
	test_plan(109);
	test_truncation();
	test_malformed();
	test_valid();
	test_open();
	test_expected();
	test_convert();
	test_mutation();
}
