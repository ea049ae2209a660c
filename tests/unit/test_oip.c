/* SPDX-License-Identifier: ISC */
/*
 * test_oip.c: unit tests for the Open Inference Protocol parser and writer,
 * and through them for the modules they stand on: the JSON reader
 * (jsonin.h), numbers (jsonnum.h), the output buffer (jsonout.h) and
 * SipHash (common/siphash.h).
 *
 * Requests are written out as JSON text in each case, so the bytes fed to
 * the parser are visible.  Most cases use a small model (3x2x2 input, 5
 * classes) so that whole requests and responses fit on a line; the timing
 * case builds a real 1x3x224x224 request.  Every malformed case checks the
 * AG_ERR_* code and that the message names the field.  Each parse gets an
 * exact-size heap copy of its body, so an ASan build catches a read one
 * byte past the end; the truncation and mutation tests run every prefix and
 * many mutants of valid requests that way.
 *
 * Numbers: jsonnum_strtof() must agree with strtof() bit for bit; the test
 * draws a few million tokens of many kinds (printed floats and doubles,
 * random digit strings, exponents at the limits, subnormals, exact halfway
 * points, very long tokens).  jsonnum_format_f32() must read back exactly
 * and be no longer than the shortest %.<P>g that does.
 *
 * Times are printed, never asserted.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/ag_err.h"
#include "common/siphash.h"
#include "http/jsonin.h"
#include "http/jsonnum.h"
#include "http/jsonout.h"
#include "http/oip.h"
#include "test_helper.h"

#define ERRLEN	512

static const struct oip_model_io small_io = {
	"input", 3, 2, 2, 2, "logits", 5
};
static const struct oip_model_io real_io = {
	"input", 3, 224, 224, 8, "logits", 1000
};

/* ==== Helpers ========================================================== */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static float
u2f(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

static uint32_t
f2u(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

/* A growable string for building requests. */
struct sb {
	char	*s;
	size_t	 len, cap;
};

static void
sb_add(struct sb *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		if ((b->s = realloc(b->s, b->cap)) == NULL) {
			perror("realloc");
			exit(99);
		}
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
sb_puts(struct sb *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/*
 * Parses body[0, len) from an exact-size heap copy.  Fills req (caller
 * frees) and err.
 */
static int
parse_n(const void *body, size_t len, long hl,
    const struct oip_model_io *io, struct oip_infer_req *req, char *err)
{
	uint8_t *copy;
	int r;

	copy = test_xmalloc(len > 0 ? len : 1);
	memcpy(copy, body, len);
	r = oip_parse_infer(copy, len, hl, io, req, err, ERRLEN);
	free(copy);
	return r;
}

static int
parse_s(const char *body, struct oip_infer_req *req, char *err)
{
	return parse_n(body, strlen(body), -1, &small_io, req, err);
}

/* The common parts of a small request. */
#define IN_HEAD	"{\"name\":\"input\",\"datatype\":\"FP32\","
#define SHAPE1	"\"shape\":[1,3,2,2]"
#define DATA12	"\"data\":[1,2,3,4,5,6,7,8,9,10,11,12]"
#define VALID1	"{\"inputs\":[" IN_HEAD SHAPE1 "," DATA12 "}]}"

/* Checks that body is refused with code r and a message holding what. */
static void
check_bad(const char *name, const char *body, int code, const char *what)
{
	struct oip_infer_req req;
	char err[ERRLEN];
	int r;

	TEST_START(name);
	r = parse_s(body, &req, err);
	ASSERT_INT_EQ(r, code);
	ASSERT_STRING_CONTAINS(err, what);
	ASSERT_PTR_EQ(req.rq_data, NULL);
	ASSERT_INT_EQ(req.rq_n, 0);
	TEST_DONE();
}

/* ==== Valid requests ================================================== */

static void
check_12(const struct oip_infer_req *req, int n)
{
	int i;

	ASSERT_INT_EQ(req->rq_n, n);
	ASSERT_INT_EQ(req->rq_nelem, 12 * n);
	ASSERT_PTR_NE(req->rq_data, NULL);
	for (i = 0; i < 12 * n; i++)
		ASSERT_DBL_OP(req->rq_data[i], (float)(i + 1), ==);
}

static void
test_valid(void)
{
	struct oip_infer_req req;
	char err[ERRLEN];
	float v;

	TEST_START("valid: flat data");
	ASSERT_INT_EQ(parse_s(VALID1, &req, err), 0);
	check_12(&req, 1);
	ASSERT_INT_EQ(req.rq_has_id, 0);
	ASSERT_INT_EQ(req.rq_n_outputs, 0);
	ASSERT_INT_EQ(req.rq_binary_output, 0);
	oip_infer_req_free_data(&req);	/* the tensor only */
	ASSERT_PTR_EQ(req.rq_data, NULL);
	ASSERT_INT_EQ(req.rq_n, 1);
	oip_infer_req_free_data(&req);	/* idempotent */
	oip_infer_req_free_data(NULL);
	oip_infer_req_free(&req);
	ASSERT_PTR_EQ(req.rq_data, NULL);
	oip_infer_req_free(&req);	/* idempotent */
	oip_infer_req_free(NULL);
	TEST_DONE();

	TEST_START("valid: nested data, whitespace everywhere");
	ASSERT_INT_EQ(parse_s(" \r\n\t{ \"inputs\" : [ { \"name\" : \"input\" ,"
	    " \"datatype\" : \"FP32\" , \"shape\" : [ 1 , 3 , 2 , 2 ] ,"
	    " \"data\" : [ [ [ [ 1 , 2 ] , [ 3 , 4 ] ] , [ [ 5 , 6 ] , [ 7 ,"
	    " 8 ] ] , [ [ 9 , 10 ] , [ 11 , 12 ] ] ] ] } ] } \n", &req, err),
	    0);
	check_12(&req, 1);
	oip_infer_req_free(&req);
	TEST_DONE();

	TEST_START("valid: data before shape, keys in any order");
	ASSERT_INT_EQ(parse_s("{\"inputs\":[{" DATA12 ",\"datatype\":\"FP32\","
	    SHAPE1 ",\"name\":\"input\"}],\"id\":\"x\"}", &req, err), 0);
	check_12(&req, 1);
	oip_infer_req_free(&req);
	ASSERT_INT_EQ(parse_s("{\"inputs\":[{\"data\":[[[[1,2],[3,4]],"
	    "[[5,6],[7,8]],[[9,10],[11,12]]]],\"name\":\"input\","
	    "\"datatype\":\"FP32\"," SHAPE1 "}]}", &req, err), 0);
	check_12(&req, 1);
	oip_infer_req_free(&req);
	TEST_DONE();

	TEST_START("valid: batch 2, flat and nested");
	ASSERT_INT_EQ(parse_s("{\"inputs\":[" IN_HEAD "\"shape\":[2,3,2,2],"
	    "\"data\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,"
	    "22,23,24]}]}", &req, err), 0);
	check_12(&req, 2);
	oip_infer_req_free(&req);
	ASSERT_INT_EQ(parse_s("{\"inputs\":[" IN_HEAD "\"shape\":[2,3,2,2],"
	    "\"data\":[[[[1,2],[3,4]],[[5,6],[7,8]],[[9,10],[11,12]]],"
	    "[[[13,14],[15,16]],[[17,18],[19,20]],[[21,22],[23,24]]]]}]}",
	    &req, err), 0);
	check_12(&req, 2);
	oip_infer_req_free(&req);
	TEST_DONE();

	TEST_START("valid: number forms");
	ASSERT_INT_EQ(parse_s("{\"inputs\":[" IN_HEAD SHAPE1 ",\"data\":[0,"
	    "-0,0.5,-1.25e2,1E-2,3e+1,-0.0,1e-50,123456789012345678901234,"
	    "0.1,1e38,-3.4028234663852886e38]}]}", &req, err), 0);
	ASSERT_DBL_OP(req.rq_data[0], 0.0, ==);
	ASSERT_TRUE(signbit(req.rq_data[1]));
	ASSERT_DBL_OP(req.rq_data[2], 0.5, ==);
	ASSERT_DBL_OP(req.rq_data[3], -125.0, ==);
	ASSERT_DBL_OP(req.rq_data[4], 0.01f, ==);
	ASSERT_DBL_OP(req.rq_data[5], 30.0, ==);
	ASSERT_TRUE(signbit(req.rq_data[6]));
	ASSERT_DBL_OP(req.rq_data[7], 0.0, ==);
	ASSERT_DBL_OP(req.rq_data[8], 123456789012345678901234.0f, ==);
	ASSERT_DBL_OP(req.rq_data[9], 0.1f, ==);
	ASSERT_DBL_OP(req.rq_data[10], 1e38f, ==);
	ASSERT_DBL_OP(req.rq_data[11], -FLT_MAX, ==);
	oip_infer_req_free(&req);
	TEST_DONE();

	TEST_START("valid: id echo, escapes and UTF-8");
	ASSERT_INT_EQ(parse_s("{\"id\":\"a\\\"b\\\\c\\/\\n\\u00e9\\ud83d\\ude00"
	    "\xc3\xa9\xf0\x9f\x98\x80\",\"inputs\":[" IN_HEAD SHAPE1 ","
	    DATA12 "}]}", &req, err), 0);
	ASSERT_INT_EQ(req.rq_has_id, 1);
	ASSERT_STRING_EQ(req.rq_id, "a\"b\\c/\n\xc3\xa9\xf0\x9f\x98\x80"
	    "\xc3\xa9\xf0\x9f\x98\x80");
	oip_infer_req_free(&req);
	TEST_DONE();

	TEST_START("valid: id of exactly OIP_MAX_ID bytes");
	{
		struct sb b = { 0 };
		char id[OIP_MAX_ID + 1];

		memset(id, 'z', OIP_MAX_ID);
		id[OIP_MAX_ID] = '\0';
		sb_puts(&b, "{\"id\":\"");
		sb_puts(&b, id);
		sb_puts(&b, "\",\"inputs\":[" IN_HEAD SHAPE1 "," DATA12 "}]}");
		ASSERT_INT_EQ(parse_s(b.s, &req, err), 0);
		ASSERT_STRING_EQ(req.rq_id, id);
		oip_infer_req_free(&req);
		free(b.s);
	}
	TEST_DONE();

	TEST_START("valid: outputs and parameters");
	ASSERT_INT_EQ(parse_s("{\"parameters\":{\"binary_data_output\":true,"
	    "\"priority\":1,\"x\":{\"deep\":[1,{\"a\":null}],\"b\":\"s\"}},"
	    "\"inputs\":[" IN_HEAD SHAPE1 "," DATA12 ",\"parameters\":{"
	    "\"foo\":\"bar\"}}],\"outputs\":[{\"name\":\"logits\"},"
	    "{\"name\":\"logits\",\"parameters\":{\"classification\":3}},"
	    "{\"name\":\"logits\",\"parameters\":{\"classification\":5,"
	    "\"binary_data\":false}},{\"parameters\":{\"binary_data\":true},"
	    "\"name\":\"logits\"}]}", &req, err), 0);
	ASSERT_INT_EQ(req.rq_binary_output, 1);
	ASSERT_INT_EQ(req.rq_n_outputs, 4);
	ASSERT_INT_EQ(req.rq_outputs[0].or_top_k, 0);
	ASSERT_INT_EQ(req.rq_outputs[0].or_binary, 1);
	ASSERT_INT_EQ(req.rq_outputs[1].or_top_k, 3);
	ASSERT_INT_EQ(req.rq_outputs[1].or_binary, 1);
	ASSERT_INT_EQ(req.rq_outputs[2].or_top_k, 5);
	ASSERT_INT_EQ(req.rq_outputs[2].or_binary, 0);
	ASSERT_INT_EQ(req.rq_outputs[3].or_binary, 1);
	oip_infer_req_free(&req);
	ASSERT_INT_EQ(parse_s("{\"inputs\":[" IN_HEAD SHAPE1 "," DATA12 "}],"
	    "\"outputs\":[]}", &req, err), 0);
	ASSERT_INT_EQ(req.rq_n_outputs, 0);
	oip_infer_req_free(&req);
	TEST_DONE();

	TEST_START("valid: binary input");
	{
		const char *js = "{\"inputs\":[" IN_HEAD SHAPE1 ","
		    "\"parameters\":{\"binary_data_size\":48}}],"
		    "\"outputs\":[{\"name\":"
		    "\"logits\",\"parameters\":{\"binary_data\":true}}]}";
		uint8_t body[1024];
		size_t jl = strlen(js);
		uint32_t u;
		int i, j;

		memcpy(body, js, jl);
		for (i = 0; i < 12; i++) {
			v = (float)(i + 1);
			u = f2u(v);
			for (j = 0; j < 4; j++)
				body[jl + 4 * i + j] = (uint8_t)(u >> (8 * j));
		}
		ASSERT_INT_EQ(parse_n(body, jl + 48, (long)jl, &small_io,
		    &req, err), 0);
		check_12(&req, 1);
		ASSERT_INT_EQ(req.rq_outputs[0].or_binary, 1);
		oip_infer_req_free(&req);

		/* A header length with no binary part is fine. */
		ASSERT_INT_EQ(parse_n(VALID1, strlen(VALID1),
		    (long)strlen(VALID1), &small_io, &req, err), 0);
		oip_infer_req_free(&req);

		/* Binary part mismatches. */
		ASSERT_INT_EQ(parse_n(body, jl + 47, (long)jl, &small_io,
		    &req, err), AG_ERR_SHAPE);
		ASSERT_STRING_CONTAINS(err, "binary");
		ASSERT_INT_EQ(parse_n(body, jl + 49, (long)jl, &small_io,
		    &req, err), AG_ERR_SHAPE);
		ASSERT_INT_EQ(parse_n(body, jl + 48, -1, &small_io, &req,
		    err), AG_ERR_JSON);
		ASSERT_INT_EQ(parse_n(body, jl, -1, &small_io, &req, err),
		    AG_ERR_MISSING);
		ASSERT_STRING_CONTAINS(err, "Inference-Header-Content-Length");
		ASSERT_INT_EQ(parse_n(body, jl + 48, (long)jl + 49, &small_io,
		    &req, err), AG_ERR_FORMAT);
		ASSERT_STRING_CONTAINS(err, "Inference-Header-Content-Length");
		ASSERT_INT_EQ(parse_n(body, jl + 48, -2, &small_io, &req,
		    err), AG_ERR_FORMAT);
		ASSERT_INT_EQ(parse_n(body, jl + 48, (long)jl - 1, &small_io,
		    &req, err), AG_ERR_JSON);
		/* A binary part nobody claims. */
		memcpy(body, VALID1, strlen(VALID1));
		ASSERT_INT_EQ(parse_n(body, strlen(VALID1) + 4,
		    (long)strlen(VALID1), &small_io, &req, err),
		    AG_ERR_UNEXPECTED);
		/* NaN and infinity in binary data. */
		memcpy(body, js, jl);
		memset(body + jl, 0, 48);
		u = 0x7fc00000;
		memcpy(body + jl + 8, &u, 4);
		ASSERT_INT_EQ(parse_n(body, jl + 48, (long)jl, &small_io,
		    &req, err), AG_ERR_NUMERIC);
		ASSERT_STRING_CONTAINS(err, "element 2");
		u = 0xff800000;
		memcpy(body + jl + 8, &u, 4);
		ASSERT_INT_EQ(parse_n(body, jl + 48, (long)jl, &small_io,
		    &req, err), AG_ERR_NUMERIC);
		ASSERT_PTR_EQ(req.rq_data, NULL);
	}
	TEST_DONE();
}

/* ==== Malformed requests =============================================== */

static void
test_malformed(void)
{
	struct sb b = { 0 };
	int i;

	check_bad("bad: empty body", "", AG_ERR_JSON, "request");
	check_bad("bad: only whitespace", "  \n", AG_ERR_JSON, "request");
	check_bad("bad: not an object", "[1]", AG_ERR_FORMAT, "request");
	check_bad("bad: byte order mark", "\xef\xbb\xbf" VALID1, AG_ERR_JSON,
	    "request");
	check_bad("bad: trailing garbage", VALID1 "x", AG_ERR_JSON,
	    "after the JSON");
	check_bad("bad: two documents", VALID1 VALID1, AG_ERR_JSON,
	    "after the JSON");
	check_bad("bad: trailing comma in object",
	    "{\"inputs\":[" IN_HEAD SHAPE1 "," DATA12 ",}]}", AG_ERR_JSON,
	    "inputs[0]");
	check_bad("bad: trailing comma in data",
	    "{\"inputs\":[" IN_HEAD SHAPE1 ",\"data\":[1,2,3,4,5,6,7,8,9,10,"
	    "11,12,]}]}", AG_ERR_JSON, "inputs[0].data");
	check_bad("bad: trailing comma in nested data",
	    "{\"inputs\":[" IN_HEAD SHAPE1 ",\"data\":[[[[1,2],[3,4]],"
	    "[[5,6],[7,8]],[[9,10],[11,12]],]]}]}", AG_ERR_JSON,
	    "inputs[0].data");
	check_bad("bad: missing colon", "{\"inputs\" [1]}", AG_ERR_JSON,
	    "request");
	check_bad("bad: single quotes", "{'inputs':[]}", AG_ERR_JSON,
	    "request");
	check_bad("bad: unknown top-level key",
	    "{\"model_name\":\"m\",\"inputs\":[" IN_HEAD SHAPE1 "," DATA12
	    "}]}", AG_ERR_UNEXPECTED, "request: unknown key \"model_name\"");
	check_bad("bad: unknown key, not echoed",
	    "{\"<script>\":1,\"inputs\":[]}", AG_ERR_UNEXPECTED,
	    "request: unknown key");
	check_bad("bad: unknown input key",
	    "{\"inputs\":[" IN_HEAD SHAPE1 "," DATA12 ",\"foo\":1}]}",
	    AG_ERR_UNEXPECTED, "inputs[0]: unknown key \"foo\"");
	check_bad("bad: unknown output key",
	    "{\"inputs\":[" IN_HEAD SHAPE1 "," DATA12 "}],\"outputs\":[{"
	    "\"name\":\"logits\",\"foo\":1}]}", AG_ERR_UNEXPECTED,
	    "outputs[0]: unknown key");
	check_bad("bad: duplicate top-level key",
	    "{\"id\":\"a\",\"inputs\":[" IN_HEAD SHAPE1 "," DATA12 "}],"
	    "\"id\":\"b\"}", AG_ERR_DUPLICATE, "request: duplicate key");
	check_bad("bad: duplicate key spelled with an escape",
	    "{\"inputs\":[" IN_HEAD SHAPE1 "," DATA12 "}],\"id\":\"a\","
	    "\"\\u0069d\":\"b\"}", AG_ERR_DUPLICATE, "duplicate key");
	check_bad("bad: duplicate input key",
	    "{\"inputs\":[" IN_HEAD SHAPE1 "," SHAPE1 "," DATA12 "}]}",
	    AG_ERR_DUPLICATE, "inputs[0]: duplicate key");
	check_bad("bad: duplicate data",
	    "{\"inputs\":[" IN_HEAD SHAPE1 "," DATA12 "," DATA12 "}]}",
	    AG_ERR_DUPLICATE, "inputs[0]: duplicate key");
	check_bad("bad: duplicate unknown parameter",
	    "{\"parameters\":{\"a\":1,\"b\":2,\"a\":3},\"inputs\":[]}",
	    AG_ERR_DUPLICATE, "parameters: duplicate key");
	check_bad("bad: duplicate key deep inside a parameter",
	    "{\"parameters\":{\"a\":[{\"x\":1,\"y\":{\"z\":1,"
	    "\"\\ud83d\\ude00\":2,\"\xf0\x9f\x98\x80\":3}}]},\"inputs\":[]}",
	    AG_ERR_DUPLICATE, "parameters: duplicate key");
	check_bad("bad: no inputs", "{\"id\":\"x\"}", AG_ERR_MISSING,
	    "\"inputs\" is missing");
	check_bad("bad: empty inputs", "{\"inputs\":[]}", AG_ERR_SHAPE,
	    "exactly one input");
	check_bad("bad: two inputs",
	    "{\"inputs\":[" IN_HEAD SHAPE1 "," DATA12 "}," IN_HEAD SHAPE1 ","
	    DATA12 "}]}", AG_ERR_SHAPE, "exactly one input");
	check_bad("bad: inputs not an array", "{\"inputs\":{}}",
	    AG_ERR_FORMAT, "inputs: expected an array");
	check_bad("bad: wrong input name",
	    "{\"inputs\":[{\"name\":\"image\",\"datatype\":\"FP32\"," SHAPE1
	    "," DATA12 "}]}", AG_ERR_UNEXPECTED,
	    "inputs[0].name: expected \"input\"");
	check_bad("bad: input name with a NUL",
	    "{\"inputs\":[{\"name\":\"input\\u0000\",\"datatype\":\"FP32\","
	    SHAPE1 "," DATA12 "}]}", AG_ERR_UNEXPECTED, "inputs[0].name");
	check_bad("bad: name not a string",
	    "{\"inputs\":[{\"name\":7,\"datatype\":\"FP32\"," SHAPE1 "," DATA12
	    "}]}", AG_ERR_FORMAT, "inputs[0].name: expected a string");
	check_bad("bad: wrong datatype",
	    "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP16\"," SHAPE1
	    "," DATA12 "}]}", AG_ERR_DTYPE,
	    "inputs[0].datatype: expected \"FP32\"");
	check_bad("bad: datatype in lower case",
	    "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"fp32\"," SHAPE1
	    "," DATA12 "}]}", AG_ERR_DTYPE, "inputs[0].datatype");
	check_bad("bad: missing name",
	    "{\"inputs\":[{\"datatype\":\"FP32\"," SHAPE1 "," DATA12 "}]}",
	    AG_ERR_MISSING, "\"name\" is missing");
	check_bad("bad: missing datatype",
	    "{\"inputs\":[{\"name\":\"input\"," SHAPE1 "," DATA12 "}]}",
	    AG_ERR_MISSING, "\"datatype\" is missing");
	check_bad("bad: missing shape",
	    "{\"inputs\":[" IN_HEAD DATA12 "}]}", AG_ERR_MISSING,
	    "\"shape\" is missing");
	check_bad("bad: missing data",
	    "{\"inputs\":[" IN_HEAD SHAPE1 "}]}", AG_ERR_MISSING,
	    "\"data\" is missing");

	/* Shapes. */
	check_bad("bad: shape rank 3",
	    "{\"inputs\":[" IN_HEAD "\"shape\":[3,2,2]," DATA12 "}]}",
	    AG_ERR_SHAPE,
	    "inputs[0].shape: expected [N,3,2,2] with 1 <= N <= 2");
	check_bad("bad: shape rank 5",
	    "{\"inputs\":[" IN_HEAD "\"shape\":[1,3,2,2,1]," DATA12 "}]}",
	    AG_ERR_SHAPE, "inputs[0].shape");
	check_bad("bad: shape wrong channels",
	    "{\"inputs\":[" IN_HEAD "\"shape\":[1,4,2,2]," DATA12 "}]}",
	    AG_ERR_SHAPE, "inputs[0].shape");
	check_bad("bad: shape wrong width",
	    "{\"inputs\":[" IN_HEAD "\"shape\":[1,3,2,3]," DATA12 "}]}",
	    AG_ERR_SHAPE, "inputs[0].shape");
	check_bad("bad: batch 0",
	    "{\"inputs\":[" IN_HEAD "\"shape\":[0,3,2,2],\"data\":[]}]}",
	    AG_ERR_SHAPE, "inputs[0].shape");
	check_bad("bad: batch past the maximum",
	    "{\"inputs\":[" IN_HEAD "\"shape\":[3,3,2,2]," DATA12 "}]}",
	    AG_ERR_SHAPE, "inputs[0].shape");
	check_bad("bad: negative dimension",
	    "{\"inputs\":[" IN_HEAD "\"shape\":[-1,3,2,2]," DATA12 "}]}",
	    AG_ERR_SHAPE, "inputs[0].shape");
	check_bad("bad: huge dimension",
	    "{\"inputs\":[" IN_HEAD "\"shape\":[18446744073709551617,3,2,2],"
	    DATA12 "}]}", AG_ERR_SHAPE, "inputs[0].shape");
	check_bad("bad: fractional dimension",
	    "{\"inputs\":[" IN_HEAD "\"shape\":[1.0,3,2,2]," DATA12 "}]}",
	    AG_ERR_SHAPE, "inputs[0].shape");
	check_bad("bad: dimension with exponent",
	    "{\"inputs\":[" IN_HEAD "\"shape\":[1e0,3,2,2]," DATA12 "}]}",
	    AG_ERR_SHAPE, "inputs[0].shape");
	check_bad("bad: dimension as a string",
	    "{\"inputs\":[" IN_HEAD "\"shape\":[\"1\",3,2,2]," DATA12 "}]}",
	    AG_ERR_SHAPE, "inputs[0].shape");
	check_bad("bad: shape not an array",
	    "{\"inputs\":[" IN_HEAD "\"shape\":12," DATA12 "}]}",
	    AG_ERR_SHAPE, "inputs[0].shape");

	/* Data. */
	check_bad("bad: too few numbers",
	    "{\"inputs\":[" IN_HEAD SHAPE1 ",\"data\":[1,2,3,4,5,6,7,8,9,10,"
	    "11]}]}", AG_ERR_SHAPE, "inputs[0].data: 11 numbers where the "
	    "shape has 12");
	check_bad("bad: too many numbers",
	    "{\"inputs\":[" IN_HEAD SHAPE1 ",\"data\":[1,2,3,4,5,6,7,8,9,10,"
	    "11,12,13]}]}", AG_ERR_SHAPE, "inputs[0].data: more than 12");
	check_bad("bad: empty data",
	    "{\"inputs\":[" IN_HEAD SHAPE1 ",\"data\":[]}]}", AG_ERR_SHAPE,
	    "inputs[0].data: 0 numbers");
	check_bad("bad: data not an array",
	    "{\"inputs\":[" IN_HEAD SHAPE1 ",\"data\":1}]}", AG_ERR_FORMAT,
	    "inputs[0].data: expected an array");
	check_bad("bad: string in data",
	    "{\"inputs\":[" IN_HEAD SHAPE1 ",\"data\":[1,2,\"3\",4,5,6,7,8,9,"
	    "10,11,12]}]}", AG_ERR_FORMAT,
	    "inputs[0].data: element 2 is not a number");
	check_bad("bad: null in data",
	    "{\"inputs\":[" IN_HEAD SHAPE1 ",\"data\":[1,2,3,4,5,6,7,8,9,10,"
	    "11,null]}]}", AG_ERR_FORMAT, "element 11 is not a number");
	check_bad("bad: true in data",
	    "{\"inputs\":[" IN_HEAD SHAPE1 ",\"data\":[true,2,3,4,5,6,7,8,9,"
	    "10,11,12]}]}", AG_ERR_FORMAT, "element 0 is not a number");
	check_bad("bad: object in data",
	    "{\"inputs\":[" IN_HEAD SHAPE1 ",\"data\":[1,{},3,4,5,6,7,8,9,"
	    "10,11,12]}]}", AG_ERR_FORMAT, "element 1 is not a number");
	check_bad("bad: NaN in data",
	    "{\"inputs\":[" IN_HEAD SHAPE1 ",\"data\":[NaN,2,3,4,5,6,7,8,9,"
	    "10,11,12]}]}", AG_ERR_JSON, "inputs[0].data");
	check_bad("bad: Infinity in data",
	    "{\"inputs\":[" IN_HEAD SHAPE1 ",\"data\":[1,-Infinity,3,4,5,6,7,"
	    "8,9,10,11,12]}]}", AG_ERR_JSON, "inputs[0].data");
	check_bad("bad: plus sign",
	    "{\"inputs\":[" IN_HEAD SHAPE1 ",\"data\":[+1,2,3,4,5,6,7,8,9,10,"
	    "11,12]}]}", AG_ERR_JSON, "inputs[0].data");
	check_bad("bad: leading zero",
	    "{\"inputs\":[" IN_HEAD SHAPE1 ",\"data\":[01,2,3,4,5,6,7,8,9,10,"
	    "11,12]}]}", AG_ERR_JSON, "inputs[0].data");
	check_bad("bad: leading dot",
	    "{\"inputs\":[" IN_HEAD SHAPE1 ",\"data\":[.5,2,3,4,5,6,7,8,9,10,"
	    "11,12]}]}", AG_ERR_JSON, "inputs[0].data");
	check_bad("bad: trailing dot",
	    "{\"inputs\":[" IN_HEAD SHAPE1 ",\"data\":[1.,2,3,4,5,6,7,8,9,10,"
	    "11,12]}]}", AG_ERR_JSON, "inputs[0].data");
	check_bad("bad: bare exponent",
	    "{\"inputs\":[" IN_HEAD SHAPE1 ",\"data\":[1e,2,3,4,5,6,7,8,9,10,"
	    "11,12]}]}", AG_ERR_JSON, "inputs[0].data");
	check_bad("bad: hex number",
	    "{\"inputs\":[" IN_HEAD SHAPE1 ",\"data\":[0x10,2,3,4,5,6,7,8,9,"
	    "10,11,12]}]}", AG_ERR_JSON, "inputs[0].data");
	check_bad("bad: huge exponent",
	    "{\"inputs\":[" IN_HEAD SHAPE1 ",\"data\":[1,2,3,4e99999999999999"
	    "99999999,5,6,7,8,9,10,11,12]}]}", AG_ERR_NUMERIC,
	    "inputs[0].data: element 3 is out of float range");
	check_bad("bad: past FLT_MAX",
	    "{\"inputs\":[" IN_HEAD SHAPE1 ",\"data\":[1,2,3,4,5,6,7,8,9,10,"
	    "11,3.5e38]}]}", AG_ERR_NUMERIC, "element 11");
	check_bad("bad: a double, out of float range",
	    "{\"inputs\":[" IN_HEAD SHAPE1 ",\"data\":[1,2,3,4,5,6,7,8,9,10,"
	    "11,-1e300]}]}", AG_ERR_NUMERIC, "element 11");
	check_bad("bad: nested, row too short",
	    "{\"inputs\":[" IN_HEAD SHAPE1 ",\"data\":[[[[1,2],[3]],"
	    "[[5,6],[7,8]],[[9,10],[11,12]]]]}]}", AG_ERR_SHAPE,
	    "inputs[0].data: 1 elements at depth 4 where the shape has 2");
	check_bad("bad: nested, row too long",
	    "{\"inputs\":[" IN_HEAD SHAPE1 ",\"data\":[[[[1,2,2],[3,4]],"
	    "[[5,6],[7,8]],[[9,10],[11,12]]]]}]}", AG_ERR_SHAPE,
	    "inputs[0].data: more than 2");
	check_bad("bad: nested, too few channels",
	    "{\"inputs\":[" IN_HEAD SHAPE1 ",\"data\":[[[[1,2],[3,4]],"
	    "[[5,6],[7,8]]]]}]}", AG_ERR_SHAPE, "at depth 2");
	check_bad("bad: nested, too many images",
	    "{\"inputs\":[" IN_HEAD SHAPE1 ",\"data\":[[[[1,2],[3,4]],"
	    "[[5,6],[7,8]],[[9,10],[11,12]]],[[[1,2],[3,4]],"
	    "[[5,6],[7,8]],[[9,10],[11,12]]]]}]}", AG_ERR_SHAPE,
	    "more than 1 elements at depth 1");
	check_bad("bad: nested, too shallow",
	    "{\"inputs\":[" IN_HEAD SHAPE1 ",\"data\":[[1,2,3,4,5,6,7,8,9,10,"
	    "11,12]]}]}", AG_ERR_SHAPE, "expected an array at depth 3");
	check_bad("bad: nested, too deep",
	    "{\"inputs\":[" IN_HEAD SHAPE1 ",\"data\":[[[[[1],2],[3,4]],"
	    "[[5,6],[7,8]],[[9,10],[11,12]]]]}]}", AG_ERR_SHAPE,
	    "nested deeper than the shape");
	check_bad("bad: nested, ragged",
	    "{\"inputs\":[" IN_HEAD SHAPE1 ",\"data\":[[[[1,2],[3,4]],"
	    "[5,6,7,8],[[9,10],[11,12]]]]}]}", AG_ERR_SHAPE,
	    "expected an array at depth 4");
	check_bad("bad: nested, empty",
	    "{\"inputs\":[" IN_HEAD SHAPE1 ",\"data\":[[]]}]}", AG_ERR_SHAPE,
	    "0 elements at depth 2");
	check_bad("bad: deferred data too short",
	    "{\"inputs\":[{\"data\":[1,2],\"name\":\"input\",\"datatype\":"
	    "\"FP32\"," SHAPE1 "}]}", AG_ERR_SHAPE,
	    "inputs[0].data: 2 numbers");
	check_bad("bad: deferred data with a string",
	    "{\"inputs\":[{\"data\":[\"a\"],\"name\":\"input\",\"datatype\":"
	    "\"FP32\"," SHAPE1 "}]}", AG_ERR_FORMAT, "not a number");
	check_bad("bad: data and binary_data_size",
	    "{\"inputs\":[" IN_HEAD SHAPE1 "," DATA12 ",\"parameters\":{"
	    "\"binary_data_size\":48}}]}", AG_ERR_UNEXPECTED,
	    "both \"data\" and binary_data_size");
	check_bad("bad: binary_data_size wrong for the shape",
	    "{\"inputs\":[" IN_HEAD SHAPE1 ",\"parameters\":{"
	    "\"binary_data_size\":44}}]}", AG_ERR_SHAPE,
	    "inputs[0].parameters.binary_data_size: 44 bytes");
	check_bad("bad: binary_data_size negative",
	    "{\"inputs\":[" IN_HEAD SHAPE1 ",\"parameters\":{"
	    "\"binary_data_size\":-48}}]}", AG_ERR_FORMAT,
	    "inputs[0].parameters.binary_data_size");
	check_bad("bad: binary_data_size a string",
	    "{\"inputs\":[" IN_HEAD SHAPE1 ",\"parameters\":{"
	    "\"binary_data_size\":\"48\"}}]}", AG_ERR_FORMAT,
	    "inputs[0].parameters.binary_data_size");

	/* Strings. */
	check_bad("bad: unknown escape",
	    "{\"id\":\"a\\x41\",\"inputs\":[]}", AG_ERR_JSON, "id: bad string");
	check_bad("bad: short \\u escape",
	    "{\"id\":\"a\\u12\",\"inputs\":[]}", AG_ERR_JSON, "id: bad string");
	check_bad("bad: non-hex \\u escape",
	    "{\"id\":\"a\\u12g4\",\"inputs\":[]}", AG_ERR_JSON, "id");
	check_bad("bad: lone high surrogate",
	    "{\"id\":\"\\ud83d\",\"inputs\":[]}", AG_ERR_JSON, "id");
	check_bad("bad: high surrogate then a letter",
	    "{\"id\":\"\\ud83dx\",\"inputs\":[]}", AG_ERR_JSON, "id");
	check_bad("bad: two high surrogates",
	    "{\"id\":\"\\ud83d\\ud83d\",\"inputs\":[]}", AG_ERR_JSON, "id");
	check_bad("bad: lone low surrogate",
	    "{\"id\":\"\\ude00\",\"inputs\":[]}", AG_ERR_JSON, "id");
	check_bad("bad: raw control character",
	    "{\"id\":\"a\tb\",\"inputs\":[]}", AG_ERR_JSON, "id");
	check_bad("bad: raw newline in a key",
	    "{\"i\nd\":\"a\",\"inputs\":[]}", AG_ERR_JSON, "request");
	check_bad("bad: UTF-8 continuation byte alone",
	    "{\"id\":\"\x80\",\"inputs\":[]}", AG_ERR_JSON, "id");
	check_bad("bad: UTF-8 overlong",
	    "{\"id\":\"\xc0\xaf\",\"inputs\":[]}", AG_ERR_JSON, "id");
	check_bad("bad: UTF-8 overlong, 3 bytes",
	    "{\"id\":\"\xe0\x80\xaf\",\"inputs\":[]}", AG_ERR_JSON, "id");
	check_bad("bad: UTF-8 surrogate",
	    "{\"id\":\"\xed\xa0\x80\",\"inputs\":[]}", AG_ERR_JSON, "id");
	check_bad("bad: UTF-8 past U+10FFFF",
	    "{\"id\":\"\xf4\x90\x80\x80\",\"inputs\":[]}", AG_ERR_JSON, "id");
	check_bad("bad: UTF-8 truncated",
	    "{\"id\":\"\xe2\x82\",\"inputs\":[]}", AG_ERR_JSON, "id");
	check_bad("bad: invalid UTF-8 in a key",
	    "{\"\xff\":1,\"inputs\":[]}", AG_ERR_JSON, "request");
	check_bad("bad: invalid UTF-8 in a skipped parameter",
	    "{\"parameters\":{\"a\":[\"\xfe\"]},\"inputs\":[]}", AG_ERR_JSON,
	    "parameters");
	check_bad("bad: id not a string",
	    "{\"id\":42,\"inputs\":[]}", AG_ERR_FORMAT,
	    "id: expected a string");
	check_bad("bad: id with NUL",
	    "{\"id\":\"a\\u0000b\",\"inputs\":[]}", AG_ERR_FORMAT, "id");

	TEST_START("bad: id one byte too long");
	{
		struct oip_infer_req req;
		char err[ERRLEN], id[OIP_MAX_ID + 2];

		memset(id, 'z', OIP_MAX_ID + 1);
		id[OIP_MAX_ID + 1] = '\0';
		b.len = 0;
		sb_puts(&b, "{\"id\":\"");
		sb_puts(&b, id);
		sb_puts(&b, "\",\"inputs\":[" IN_HEAD SHAPE1 "," DATA12 "}]}");
		ASSERT_INT_EQ(parse_s(b.s, &req, err), AG_ERR_TOO_LARGE);
		ASSERT_STRING_CONTAINS(err, "id: longer than 256");
		/* 128 two-byte characters plus one: 258 bytes. */
		b.len = 0;
		sb_puts(&b, "{\"id\":\"");
		for (i = 0; i < 129; i++)
			sb_puts(&b, "\\u00e9");
		sb_puts(&b, "\",\"inputs\":[]}");
		ASSERT_INT_EQ(parse_s(b.s, &req, err), AG_ERR_TOO_LARGE);
	}
	TEST_DONE();

	/* Parameters and outputs. */
	check_bad("bad: binary_data_output not a bool",
	    "{\"parameters\":{\"binary_data_output\":1},\"inputs\":[]}",
	    AG_ERR_FORMAT, "parameters.binary_data_output: expected true or "
	    "false");
	check_bad("bad: parameters not an object",
	    "{\"parameters\":[],\"inputs\":[]}", AG_ERR_FORMAT,
	    "parameters: expected an object");
	check_bad("bad: invalid JSON in a skipped parameter",
	    "{\"parameters\":{\"a\":[1,]},\"inputs\":[]}", AG_ERR_JSON,
	    "parameters");
	check_bad("bad: bad literal in a skipped parameter",
	    "{\"parameters\":{\"a\":tru},\"inputs\":[]}", AG_ERR_JSON,
	    "parameters");
	check_bad("bad: bad number in a skipped parameter",
	    "{\"parameters\":{\"a\":-},\"inputs\":[]}", AG_ERR_JSON,
	    "parameters");
	check_bad("bad: wrong output name",
	    "{\"inputs\":[" IN_HEAD SHAPE1 "," DATA12 "}],\"outputs\":[{"
	    "\"name\":\"probs\"}]}", AG_ERR_UNEXPECTED,
	    "outputs[0].name: expected \"logits\"");
	check_bad("bad: output without a name",
	    "{\"inputs\":[" IN_HEAD SHAPE1 "," DATA12 "}],\"outputs\":[{"
	    "\"name\":\"logits\"},{\"parameters\":{}}]}", AG_ERR_MISSING,
	    "outputs[1]: \"name\" is missing");
	check_bad("bad: too many outputs",
	    "{\"inputs\":[" IN_HEAD SHAPE1 "," DATA12 "}],\"outputs\":["
	    "{\"name\":\"logits\"},{\"name\":\"logits\"},{\"name\":\"logits\"},"
	    "{\"name\":\"logits\"},{\"name\":\"logits\"}]}", AG_ERR_TOO_LARGE,
	    "outputs: more than 4");
	check_bad("bad: classification 0",
	    "{\"inputs\":[" IN_HEAD SHAPE1 "," DATA12 "}],\"outputs\":[{"
	    "\"name\":\"logits\",\"parameters\":{\"classification\":0}}]}",
	    AG_ERR_FORMAT, "outputs[0].parameters.classification: expected "
	    "an integer in 1..5");
	check_bad("bad: classification past the classes",
	    "{\"inputs\":[" IN_HEAD SHAPE1 "," DATA12 "}],\"outputs\":[{"
	    "\"name\":\"logits\",\"parameters\":{\"classification\":6}}]}",
	    AG_ERR_FORMAT, "classification");
	check_bad("bad: classification fractional",
	    "{\"inputs\":[" IN_HEAD SHAPE1 "," DATA12 "}],\"outputs\":[{"
	    "\"name\":\"logits\",\"parameters\":{\"classification\":2.5}}]}",
	    AG_ERR_FORMAT, "classification");
	check_bad("bad: binary_data not a bool",
	    "{\"inputs\":[" IN_HEAD SHAPE1 "," DATA12 "}],\"outputs\":[{"
	    "\"name\":\"logits\",\"parameters\":{\"binary_data\":\"yes\"}}]}",
	    AG_ERR_FORMAT, "outputs[0].parameters.binary_data");

	/* Depth. */
	TEST_START("bad: depth bomb in a parameter");
	{
		struct oip_infer_req req;
		char err[ERRLEN];

		b.len = 0;
		sb_puts(&b, "{\"parameters\":{\"a\":");
		for (i = 0; i < 100000; i++)
			sb_puts(&b, "[");
		for (i = 0; i < 100000; i++)
			sb_puts(&b, "]");
		sb_puts(&b, "},\"inputs\":[]}");
		ASSERT_INT_EQ(parse_s(b.s, &req, err), AG_ERR_TOO_LARGE);
		ASSERT_STRING_CONTAINS(err, "deeper than 32");
		b.len = 0;
		sb_puts(&b, "{\"parameters\":{\"a\":");
		for (i = 0; i < 100000; i++)
			sb_puts(&b, "{\"a\":");
		ASSERT_INT_EQ(parse_s(b.s, &req, err), AG_ERR_TOO_LARGE);
		/* Exactly 32 deep is allowed: 2 levels + 30. */
		b.len = 0;
		sb_puts(&b, "{\"parameters\":{\"a\":");
		for (i = 0; i < 30; i++)
			sb_puts(&b, "[");
		for (i = 0; i < 30; i++)
			sb_puts(&b, "]");
		sb_puts(&b, "},\"inputs\":[" IN_HEAD SHAPE1 "," DATA12 "}]}");
		ASSERT_INT_EQ(parse_s(b.s, &req, err), 0);
		oip_infer_req_free(&req);
		b.len = 0;
		sb_puts(&b, "{\"parameters\":{\"a\":");
		for (i = 0; i < 31; i++)
			sb_puts(&b, "[");
		for (i = 0; i < 31; i++)
			sb_puts(&b, "]");
		sb_puts(&b, "},\"inputs\":[" IN_HEAD SHAPE1 "," DATA12 "}]}");
		ASSERT_INT_EQ(parse_s(b.s, &req, err), AG_ERR_TOO_LARGE);
	}
	TEST_DONE();

	TEST_START("bad: depth bomb in data");
	{
		struct oip_infer_req req;
		char err[ERRLEN];

		b.len = 0;
		sb_puts(&b, "{\"inputs\":[{\"data\":");
		for (i = 0; i < 100000; i++)
			sb_puts(&b, "[");
		ASSERT_INT_EQ(parse_s(b.s, &req, err), AG_ERR_TOO_LARGE);
		b.len = 0;
		sb_puts(&b, "{\"inputs\":[" IN_HEAD SHAPE1 ",\"data\":");
		for (i = 0; i < 100000; i++)
			sb_puts(&b, "[");
		ASSERT_INT_EQ(parse_s(b.s, &req, err), AG_ERR_SHAPE);
	}
	TEST_DONE();

	TEST_START("bad: too many keys in open objects");
	{
		struct oip_infer_req req;
		char err[ERRLEN], k[32];

		b.len = 0;
		sb_puts(&b, "{\"parameters\":{");
		for (i = 0; i < JSONIN_MAX_KEYS; i++) {
			snprintf(k, sizeof(k), "%s\"k%d\":%d", i ? "," : "",
			    i, i);
			sb_puts(&b, k);
		}
		sb_puts(&b, "},\"inputs\":[]}");
		ASSERT_INT_EQ(parse_s(b.s, &req, err), AG_ERR_TOO_LARGE);
		ASSERT_STRING_CONTAINS(err, "keys");
		/* Keys of closed objects do not count. */
		b.len = 0;
		sb_puts(&b, "{\"parameters\":{\"a\":[");
		for (i = 0; i < 1000; i++)
			sb_puts(&b, i ? ",{\"x\":1,\"y\":2}" : "{\"x\":1}");
		sb_puts(&b, "]},\"inputs\":[" IN_HEAD SHAPE1 "," DATA12 "}]}");
		ASSERT_INT_EQ(parse_s(b.s, &req, err), 0);
		oip_infer_req_free(&req);
	}
	TEST_DONE();
	free(b.s);
}

/* ==== Truncation and mutation ========================================= */

static const char *const trunc_bases[] = {
	VALID1,
	"{\"id\":\"r\\u00e9\\ud83d\\ude00\xc3\xa9\",\"parameters\":{"
	    "\"binary_data_output\":false,\"p\":[1.5e3,\"s\",null,true,{}]},"
	    "\"inputs\":[{\"data\":[[[[1,-2.5],[3e1,4]],[[5,6],[7,8]],"
	    "[[9,10],[11,0.125]]]],\"name\":\"input\",\"datatype\":\"FP32\","
	    "\"shape\":[1,3,2,2],\"parameters\":{}}],\"outputs\":[{\"name\":"
	    "\"logits\",\"parameters\":{\"classification\":2,"
	    "\"binary_data\":true}}]}",
};

static void
test_truncation(void)
{
	struct oip_infer_req req;
	char err[ERRLEN];
	size_t i, j, len;
	int bad;

	for (j = 0; j < sizeof(trunc_bases) / sizeof(trunc_bases[0]); j++) {
		TEST_START("truncation: every prefix is refused");
		len = strlen(trunc_bases[j]);
		ASSERT_INT_EQ(parse_n(trunc_bases[j], len, -1, &small_io, &req,
		    err), 0);
		oip_infer_req_free(&req);
		for (bad = 0, i = 0; i < len; i++) {
			if (parse_n(trunc_bases[j], i, -1, &small_io, &req,
			    err) == 0 || req.rq_data != NULL || err[0] == '\0')
				bad++;
		}
		ASSERT_INT_EQ(bad, 0);
		TEST_DONE();
	}

	TEST_START("truncation: binary request, every length");
	{
		const char *js = "{\"inputs\":[" IN_HEAD SHAPE1 ","
		    "\"parameters\":{\"binary_data_size\":48}}]}";
		uint8_t body[512];
		size_t jl = strlen(js);

		memcpy(body, js, jl);
		memset(body + jl, 0x3f, 48);
		ASSERT_INT_EQ(parse_n(body, jl + 48, (long)jl, &small_io, &req,
		    err), 0);
		oip_infer_req_free(&req);
		for (bad = 0, i = 0; i < jl + 48; i++)
			if (parse_n(body, i, (long)jl, &small_io, &req,
			    err) == 0 || parse_n(body, i, (long)(i < jl ? i :
			    jl), &small_io, &req, err) == 0)
				bad++;
		ASSERT_INT_EQ(bad, 0);
	}
	TEST_DONE();
}

/* A mutant must parse into a well-formed request or fail cleanly. */
static int
mutant_ok(const uint8_t *b, size_t len)
{
	struct oip_infer_req req;
	char err[ERRLEN];
	size_t i;
	int r;

	r = parse_n(b, len, -1, &small_io, &req, err);
	if (r != 0)
		return req.rq_data == NULL && r < 0 && r >= AG_ERR_MAX &&
		    err[0] != '\0';
	if (req.rq_n < 1 || req.rq_n > 2 || req.rq_nelem != (size_t)req.rq_n *
	    12 || req.rq_n_outputs > OIP_MAX_OUTPUTS)
		return 0;
	for (i = 0; i < req.rq_nelem; i++)
		if (!isfinite(req.rq_data[i]))
			return 0;
	oip_infer_req_free(&req);
	return 1;
}

static void
test_mutation(void)
{
	static const uint8_t vals[] = { 0x00, 0xff, '"', '{', '}', '[', ']',
	    '9', '-', '0', ',', ':', ' ', '\\', 'e', '.', 0x80, 'u' };
	uint8_t *b;
	size_t len, i, j;
	int bad, k;

	for (k = 0; k < 2; k++) {
		len = strlen(trunc_bases[k]);
		b = test_xmalloc(len);
		TEST_START("mutation: every 1-bit flip and byte overwrite");
		for (bad = 0, i = 0; i < len * 8; i++) {
			memcpy(b, trunc_bases[k], len);
			b[i / 8] ^= (uint8_t)(1u << (i % 8));
			bad += !mutant_ok(b, len);
		}
		for (i = 0; i < len; i++)
			for (j = 0; j < sizeof(vals); j++) {
				memcpy(b, trunc_bases[k], len);
				b[i] = vals[j];
				bad += !mutant_ok(b, len);
			}
		for (i = 0; i < len; i++) {
			/* Truncate the start. */
			bad += !mutant_ok((const uint8_t *)trunc_bases[k] + i,
			    len - i);
		}
		ASSERT_INT_EQ(bad, 0);
		TEST_DONE();
		free(b);
	}
}

/* ==== Responses ======================================================== */

static const float small_logits[10] = {
	0.5f, -1.25f, 3.0f, 0.1f, 2.0f,		/* image 0 */
	1.0f, 3.0f, 3.0f, 2.0f, 0.0f,		/* image 1: a tie */
};
static const char *const small_labels[5] = {
	"cat", "dog", "say \"hi\"\n", NULL, "\xc3\xa9t\xff",
};

/* The response as a NUL-terminated string (JSON part only). */
static char *
json_of(const struct jsonout *out, size_t json_len)
{
	char *s = test_xmalloc(json_len + 1);

	memcpy(s, out->b, json_len);
	s[json_len] = '\0';
	return s;
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
test_response(void)
{
	struct oip_infer_req req;
	struct jsonout out = { NULL, 0, 0 };
	size_t jl;
	char *s;
	const uint8_t *p;
	int i;

	TEST_START("response: default output, JSON");
	memset(&req, 0, sizeof(req));
	req.rq_n = 1;
	ASSERT_INT_EQ(oip_write_infer(&out, &jl, "resnet18", "1", &small_io,
	    &req, small_logits, NULL), 0);
	ASSERT_INT_EQ(jl, out.len);
	s = json_of(&out, jl);
	ASSERT_STRING_EQ(s, "{\"model_name\":\"resnet18\",\"model_version\":"
	    "\"1\",\"outputs\":[{\"name\":\"logits\",\"datatype\":\"FP32\","
	    "\"shape\":[1,5],\"data\":[0.5,-1.25,3,0.1,2]}]}");
	free(s);
	TEST_DONE();

	TEST_START("response: id echo, escaped; no version");
	strcpy(req.rq_id, "a\"b\\c\n\x01\xc3\xa9");
	req.rq_has_id = 1;
	req.rq_n = 2;
	ASSERT_INT_EQ(oip_write_infer(&out, &jl, "m\"", NULL, &small_io,
	    &req, small_logits, NULL), 0);
	s = json_of(&out, jl);
	ASSERT_STRING_EQ(s, "{\"model_name\":\"m\\\"\",\"id\":\"a\\\"b\\\\c"
	    "\\u000a\\u0001\xc3\xa9\",\"outputs\":[{\"name\":\"logits\","
	    "\"datatype\":\"FP32\",\"shape\":[2,5],\"data\":[0.5,-1.25,3,0.1,"
	    "2,1,3,3,2,0]}]}");
	free(s);
	TEST_DONE();

	TEST_START("response: classification, labels, ties, order");
	memset(&req, 0, sizeof(req));
	req.rq_n = 2;
	req.rq_n_outputs = 1;
	req.rq_outputs[0].or_top_k = 3;
	ASSERT_INT_EQ(oip_write_infer(&out, &jl, "m", "2", &small_io, &req,
	    small_logits, small_labels), 0);
	s = json_of(&out, jl);
	ASSERT_STRING_EQ(s, "{\"model_name\":\"m\",\"model_version\":\"2\","
	    "\"outputs\":[{\"name\":\"logits\",\"datatype\":\"BYTES\","
	    "\"shape\":[2,3],\"data\":[\"3:2:say \\\"hi\\\"\\u000a\","
	    "\"2:4:\xc3\xa9t\xef\xbf\xbd\",\"0.5:0:cat\",\"3:1:dog\","
	    "\"3:2:say \\\"hi\\\"\\u000a\",\"2:3\"]}]}");
	free(s);
	ASSERT_INT_EQ(oip_write_infer(&out, &jl, "m", "2", &small_io, &req,
	    small_logits, NULL), 0);
	s = json_of(&out, jl);
	ASSERT_STRING_CONTAINS(s, "\"data\":[\"3:2\",\"2:4\",\"0.5:0\","
	    "\"3:1\",\"3:2\",\"2:3\"]}]}");
	free(s);
	TEST_DONE();

	TEST_START("response: classification ranks ties by ascending index");
	{
		static const float tie[10] = { 2, 5, 2, 5, 2,
		    0.0f, -0.0f, 1, -0.0f, 0.0f };
		static float big[2000];

		memset(&req, 0, sizeof(req));
		req.rq_n = 2;
		req.rq_n_outputs = 2;
		req.rq_outputs[0].or_top_k = 3;
		req.rq_outputs[1].or_top_k = 5;
		ASSERT_INT_EQ(oip_write_infer(&out, &jl, "m", NULL, &small_io,
		    &req, tie, NULL), 0);
		s = json_of(&out, jl);
		/* A tie cut by the k-th place; -0 and 0 are equal. */
		ASSERT_STRING_CONTAINS(s, "\"shape\":[2,3],\"data\":["
		    "\"5:1\",\"5:3\",\"2:0\",\"1:2\",\"0:0\",\"-0:1\"]");
		ASSERT_STRING_CONTAINS(s, "\"shape\":[2,5],\"data\":["
		    "\"5:1\",\"5:3\",\"2:0\",\"2:2\",\"2:4\",\"1:2\","
		    "\"0:0\",\"-0:1\",\"-0:3\",\"0:4\"]");
		free(s);
		/* 1000 classes, top-3: all equal, then equal maxima. */
		for (i = 0; i < 2000; i++)
			big[i] = i >= 1000 && i % 7 == 3 ? 2 : 1;
		req.rq_n_outputs = 1;
		ASSERT_INT_EQ(oip_write_infer(&out, &jl, "m", NULL, &real_io,
		    &req, big, NULL), 0);
		s = json_of(&out, jl);
		ASSERT_STRING_CONTAINS(s, "\"data\":[\"1:0\",\"1:1\","
		    "\"1:2\",\"2:4\",\"2:11\",\"2:18\"]");
		free(s);
	}
	TEST_DONE();

	TEST_START("response: several outputs, binary FP32 and BYTES");
	memset(&req, 0, sizeof(req));
	req.rq_n = 2;
	req.rq_n_outputs = 3;
	req.rq_outputs[0].or_binary = 1;
	req.rq_outputs[1].or_top_k = 1;
	req.rq_outputs[2].or_top_k = 2;
	req.rq_outputs[2].or_binary = 1;
	ASSERT_INT_EQ(oip_write_infer(&out, &jl, "m", "1", &small_io, &req,
	    small_logits, small_labels), 0);
	s = json_of(&out, jl);
	/* BYTES: 4+13, 4+8, 4+7, 4+13 bytes (labels raw, not escaped). */
	ASSERT_STRING_EQ(s, "{\"model_name\":\"m\",\"model_version\":\"1\","
	    "\"outputs\":[{\"name\":\"logits\",\"datatype\":\"FP32\","
	    "\"shape\":[2,5],\"parameters\":{\"binary_data_size\":40}},"
	    "{\"name\":\"logits\",\"datatype\":\"BYTES\",\"shape\":[2,1],"
	    "\"data\":[\"3:2:say \\\"hi\\\"\\u000a\",\"3:1:dog\"]},"
	    "{\"name\":\"logits\",\"datatype\":\"BYTES\",\"shape\":[2,2],"
	    "\"parameters\":{\"binary_data_size\":57}}]}");
	free(s);
	p = (const uint8_t *)out.b + jl;
	ASSERT_INT_EQ(out.len - jl, 40 + 57);
	for (i = 0; i < 10; i++)
		ASSERT_INT_EQ(le32(p + 4 * i), f2u(small_logits[i]));
	p += 40;
	ASSERT_INT_EQ(le32(p), 13);
	ASSERT_MEM_EQ(p + 4, "3:2:say \"hi\"\n", 13);
	p += 17;
	ASSERT_INT_EQ(le32(p), 8);
	ASSERT_MEM_EQ(p + 4, "2:4:\xc3\xa9t\xff", 8);
	p += 12;
	ASSERT_INT_EQ(le32(p), 7);
	ASSERT_MEM_EQ(p + 4, "3:1:dog", 7);
	p += 11;
	ASSERT_INT_EQ(le32(p), 13);
	ASSERT_MEM_EQ(p + 4, "3:2:say \"hi\"\n", 13);
	p += 17;
	ASSERT_PTR_EQ(p, out.b + out.len);
	TEST_DONE();

	TEST_START("response: default output binary via binary_data_output");
	memset(&req, 0, sizeof(req));
	req.rq_n = 1;
	req.rq_binary_output = 1;
	ASSERT_INT_EQ(oip_write_infer(&out, &jl, "m", NULL, &small_io, &req,
	    small_logits, NULL), 0);
	s = json_of(&out, jl);
	ASSERT_STRING_EQ(s, "{\"model_name\":\"m\",\"outputs\":[{\"name\":"
	    "\"logits\",\"datatype\":\"FP32\",\"shape\":[1,5],\"parameters\":"
	    "{\"binary_data_size\":20}}]}");
	free(s);
	ASSERT_INT_EQ(out.len, jl + 20);
	ASSERT_INT_EQ(le32((const uint8_t *)out.b + jl + 8), f2u(3.0f));
	TEST_DONE();

	TEST_START("response: NaN logits and bad arguments are refused");
	{
		float bad[5] = { 1, 2, NAN, 4, 5 };

		ASSERT_INT_EQ(oip_write_infer(&out, &jl, "m", NULL, &small_io,
		    &req, bad, NULL), AG_ERR_NUMERIC);
		ASSERT_INT_EQ(out.len, 0);
		ASSERT_INT_EQ(jl, 0);
		bad[2] = INFINITY;
		ASSERT_INT_EQ(oip_write_infer(&out, &jl, "m", NULL, &small_io,
		    &req, bad, NULL), AG_ERR_NUMERIC);
		req.rq_n = 0;
		ASSERT_INT_EQ(oip_write_infer(&out, &jl, "m", NULL, &small_io,
		    &req, small_logits, NULL), AG_ERR_INVALID_ARG);
		req.rq_n = 1;
		req.rq_n_outputs = 1;
		req.rq_outputs[0].or_top_k = 6;
		ASSERT_INT_EQ(oip_write_infer(&out, &jl, "m", NULL, &small_io,
		    &req, small_logits, NULL), AG_ERR_INVALID_ARG);
	}
	TEST_DONE();

	TEST_START("response: error body and escaping");
	out.len = 0;
	ASSERT_INT_EQ(oip_write_error(&out, "inputs[0].name: expected "
	    "\"input\"\x7f\xc0"), 0);
	s = json_of(&out, out.len);
	ASSERT_STRING_EQ(s, "{\"error\":\"inputs[0].name: expected "
	    "\\\"input\\\"\\u007f\xef\xbf\xbd\"}");
	free(s);
	TEST_DONE();

	TEST_START("response: round trip through the parser");
	{
		/* A response's JSON data re-read as a request's data. */
		struct oip_model_io io5 = { "input", 1, 1, 5, 2, "logits", 5 };
		struct oip_infer_req rq;
		char err[ERRLEN];
		struct sb b = { 0 };
		float lg[10];
		char *d, *e;

		for (i = 0; i < 10; i++)
			lg[i] = u2f((uint32_t)rng());
		for (i = 0; i < 10; i++)
			if (!isfinite(lg[i]))
				lg[i] = (float)i;
		memset(&req, 0, sizeof(req));
		req.rq_n = 2;
		ASSERT_INT_EQ(oip_write_infer(&out, &jl, "m", NULL, &io5, &req,
		    lg, NULL), 0);
		s = json_of(&out, jl);
		d = strstr(s, "\"data\":");
		ASSERT_PTR_NE(d, NULL);
		e = strchr(d, ']');
		ASSERT_PTR_NE(e, NULL);
		e[1] = '\0';
		sb_puts(&b, "{\"inputs\":[{\"name\":\"input\",\"datatype\":"
		    "\"FP32\",\"shape\":[2,1,1,5],");
		sb_puts(&b, d);
		sb_puts(&b, "}]}");
		ASSERT_INT_EQ(parse_n(b.s, b.len, -1, &io5, &rq, err), 0);
		for (i = 0; i < 10; i++)
			ASSERT_INT_EQ(f2u(rq.rq_data[i]), f2u(lg[i]));
		oip_infer_req_free(&rq);
		free(b.s);
		free(s);
	}
	TEST_DONE();
	jsonout_free(&out);
	jsonout_free(&out);
}

/* ==== Numbers ========================================================== */

struct nstats {
	long	n, bad;
	char	first_bad[256];
};

/* Compares jsonnum_strtof() with strtof() on tok. */
static void
num_check(struct nstats *st, const char *tok)
{
	float ours, ref;
	char *ep;
	int r;

	st->n++;
	r = jsonnum_strtof(tok, strlen(tok), &ours);
	errno = 0;
	ref = strtof(tok, &ep);
	if (*ep != '\0' || ep == tok) {
		/* Our generators only make valid JSON numbers. */
		st->bad++;
	} else if (isinf(ref)) {
		if (r != AG_ERR_NUMERIC)
			st->bad++;
		else
			return;
	} else if (r != 0 || f2u(ours) != f2u(ref))
		st->bad++;
	else
		return;
	if (st->first_bad[0] == '\0')
		snprintf(st->first_bad, sizeof(st->first_bad), "%.200s", tok);
}

static void
num_done(struct nstats *st)
{
	if (st->bad > 0)
		fprintf(stderr, "mismatch: %ld of %ld, first: %s\n", st->bad,
		    st->n, st->first_bad);
	ASSERT_INT_EQ(st->bad, 0);
}

/* Random digits (first one nonzero when lead is set). */
static void
rand_digits(char *o, int n, int lead)
{
	int i;

	for (i = 0; i < n; i++)
		o[i] = (char)('0' + rng() % 10);
	if (lead && n > 0 && o[0] == '0')
		o[0] = (char)('1' + rng() % 9);
	o[n] = '\0';
}

/* A random finite float with a random exponent, incl. subnormals. */
static float
rand_float(void)
{
	uint32_t u;

	do {
		u = (uint32_t)rng();
	} while ((u & 0x7f800000u) == 0x7f800000u);
	return u2f(u);
}

static void
test_strtof(void)
{
	static const char *const fixed[] = {
		"0", "-0", "0.0", "0e0", "0E+5", "-0.000e-999999999999", "1",
		"-1", "0.1", "3.4028235e38",
		"3.40282346638528859811704183484516925440e+38",
		"3.4028235677973366e38", "3.4028235677973367e38",
		"3.40282357e38", "1.17549435e-38", "1.1754943508222875e-38",
		"1.4e-45", "1.401298464324817e-45", "7.006492321624085e-46",
		"7.0064923216240854e-46", "7.0064923216240862e-46", "1e-46",
		"2.8e-45", "1e39", "-1e39", "1e-400", "-1e-400", "1e38",
		"9999999999999999999999999999", "16777217", "16777216.5",
		"16777218.999999999999999999999", "33554433",
		"0.30000001192092896",
		"1.00000005960464477539062", "1.000000059604644775390625",
		"1.000000059604644775390626",
		"123456789012345678901234567890e-30",
		"0.000000000000000000000000000000000000000000001",
		"4.9406564584124654e-324", "1.7976931348623157e308",
		"2.2250738585072014e-308",
	};
	struct nstats st;
	char tok[2048], dig[64], dig2[64];
	long i;
	int j, n, m;
	float f;
	double dd;
	uint64_t u64;
	double t0 = now();

	TEST_START("strtof: fixed tokens");
	memset(&st, 0, sizeof(st));
	for (j = 0; j < (int)(sizeof(fixed) / sizeof(fixed[0])); j++)
		num_check(&st, fixed[j]);
	num_done(&st);
	TEST_DONE();

	TEST_START("strtof: syntax is strict");
	{
		static const char *const bad[] = {
			"", "-", "+1", "01", "-01", ".5", "5.", "1e", "1e+",
			"1e-", "0x10", "NaN", "nan", "Infinity", "-Infinity",
			"inf", "1 ", " 1", "1.5.5", "1e5e5", "--1", "1,5",
			"\xef\xbc\x91", "0.e1", "1.e1", "- 1",
		};

		for (j = 0; j < (int)(sizeof(bad) / sizeof(bad[0])); j++)
			ASSERT_INT_EQ(jsonnum_strtof(bad[j], strlen(bad[j]),
			    &f), AG_ERR_JSON);
		ASSERT_INT_EQ(jsonnum_strtof("1e39", 4, &f), AG_ERR_NUMERIC);
		ASSERT_INT_EQ(jsonnum_strtof("1e3", 2, &f), AG_ERR_JSON);
		ASSERT_INT_EQ(jsonnum_strtof("12", 1, &f), 0);	/* just "1" */
		ASSERT_DBL_OP(f, 1.0, ==);
	}
	TEST_DONE();

	TEST_START("strtof: random floats as %.9g, %.8g, %.17g");
	memset(&st, 0, sizeof(st));
	for (i = 0; i < 150000; i++) {
		f = rand_float();
		snprintf(tok, sizeof(tok), "%.9g", (double)f);
		num_check(&st, tok);
		snprintf(tok, sizeof(tok), "%.8g", (double)f);
		num_check(&st, tok);
		snprintf(tok, sizeof(tok), "%.17g", (double)f);
		num_check(&st, tok);
	}
	num_done(&st);
	TEST_DONE();

	TEST_START("strtof: random doubles in float range, %.17g and %.12g");
	memset(&st, 0, sizeof(st));
	for (i = 0; i < 150000; i++) {
		/* Exponents spanning the float range and past it. */
		u64 = rng();
		u64 = (u64 & 0x800fffffffffffffULL) |
		    (uint64_t)(1023 - 160 + (int)(rng() % 300)) << 52;
		memcpy(&dd, &u64, sizeof(dd));
		snprintf(tok, sizeof(tok), "%.17g", dd);
		num_check(&st, tok);
		snprintf(tok, sizeof(tok), "%.12g", dd);
		num_check(&st, tok);
	}
	num_done(&st);
	TEST_DONE();

	TEST_START("strtof: random digit strings");
	memset(&st, 0, sizeof(st));
	for (i = 0; i < 250000; i++) {
		n = 1 + (int)(rng() % 25);
		m = (int)(rng() % 25);
		rand_digits(dig, n, 1);
		if (rng() % 4 == 0)
			strcpy(dig, "0");
		rand_digits(dig2, m, 0);
		j = (int)(rng() % 110) - 70;
		switch (rng() % 4) {
		case 0:
			snprintf(tok, sizeof(tok), "%s%s", rng() % 2 ? "-" :
			    "", dig);
			break;
		case 1:
			snprintf(tok, sizeof(tok), "%s%s.%s", rng() % 2 ? "-" :
			    "", dig, m ? dig2 : "0");
			break;
		case 2:
			snprintf(tok, sizeof(tok), "%s%se%d", rng() % 2 ? "-" :
			    "", dig, j);
			break;
		default:
			snprintf(tok, sizeof(tok), "%s%s.%sE%+d", rng() % 2 ?
			    "-" : "", dig, m ? dig2 : "0", j);
			break;
		}
		num_check(&st, tok);
	}
	num_done(&st);
	TEST_DONE();

	TEST_START("strtof: exponents near the limits");
	memset(&st, 0, sizeof(st));
	for (i = 0; i < 150000; i++) {
		n = 1 + (int)(rng() % 20);
		rand_digits(dig, n, 1);
		/* Leading digit exponent in [-47, -36] or [36, 40]. */
		if (rng() % 2)
			j = -47 + (int)(rng() % 12) - (n - 1);
		else
			j = 36 + (int)(rng() % 5) - (n - 1);
		snprintf(tok, sizeof(tok), "%se%d", dig, j);
		num_check(&st, tok);
		snprintf(tok, sizeof(tok), "%c.%se%d", dig[0], dig + 1,
		    j + n - 1);
		if (n > 1)
			num_check(&st, tok);
	}
	num_done(&st);
	TEST_DONE();

	TEST_START("strtof: subnormals and normals next to FLT_MIN");
	memset(&st, 0, sizeof(st));
	for (i = 0; i < 100000; i++) {
		f = u2f((uint32_t)(rng() % 0x01000000u) |
		    (uint32_t)(rng() % 2) << 31);
		snprintf(tok, sizeof(tok), "%.9g", (double)f);
		num_check(&st, tok);
		snprintf(tok, sizeof(tok), "%.17g", (double)f);
		num_check(&st, tok);
		snprintf(tok, sizeof(tok), "%.3g", (double)f);
		num_check(&st, tok);
	}
	num_done(&st);
	TEST_DONE();

	TEST_START("strtof: exact halfway points and their neighbours");
	memset(&st, 0, sizeof(st));
	for (i = 0; i < 60000; i++) {
		double lo, hi, mid;

		do {
			f = fabsf(rand_float());
		} while (f == FLT_MAX);
		if (i % 4 == 0)	/* sometimes tiny or huge on purpose */
			f = u2f((uint32_t)(rng() % 0x007fffffu) +
			    (i % 8 == 0 ? 0 : 0x7f000000u));
		lo = f;
		hi = nextafterf(f, INFINITY);
		mid = (lo + hi) / 2;	/* exact in double */
		/* Exact decimal: %.*e with enough digits. */
		snprintf(tok, sizeof(tok), "%.120e", mid);
		num_check(&st, tok);
		/* Long tokens (over the slow path's buffer): canonicalised. */
		snprintf(tok, sizeof(tok), "%.300e", mid);
		num_check(&st, tok);
		n = (int)strlen(tok);
		/* Just above: a 1 in the 300th place. */
		memmove(tok + 303, tok + 302, (size_t)n - 302 + 1);
		tok[302] = '1';
		num_check(&st, tok);
		snprintf(tok, sizeof(tok), "%.17e", mid);
		num_check(&st, tok);
		snprintf(tok, sizeof(tok), "%.17e", nextafter(mid, 0));
		num_check(&st, tok);
		snprintf(tok, sizeof(tok), "%.17e", nextafter(mid, 1e300));
		num_check(&st, tok);
	}
	num_done(&st);
	TEST_DONE();

	TEST_START("strtof: a few ulps of a double from a halfway point");
	memset(&st, 0, sizeof(st));
	for (i = 0; i < 40000; i++) {
		double mid;
		int64_t k;

		do {
			f = fabsf(rand_float());
		} while (f >= FLT_MAX || f < FLT_MIN);
		mid = ((double)f + nextafterf(f, INFINITY)) / 2;
		/* Where the fast path's margin (16 ulps) decides. */
		k = (int64_t)(rng() % 81) - 40;
		memcpy(&u64, &mid, sizeof(u64));
		u64 += (uint64_t)k;
		memcpy(&dd, &u64, sizeof(dd));
		snprintf(tok, sizeof(tok), "%.17g", dd);
		num_check(&st, tok);
		snprintf(tok, sizeof(tok), "%.19g", dd);
		num_check(&st, tok);
		snprintf(tok, sizeof(tok), "%.19e", -dd);
		num_check(&st, tok);
	}
	num_done(&st);
	TEST_DONE();

	TEST_START("strtof: long tokens");
	memset(&st, 0, sizeof(st));
	for (i = 0; i < 20000; i++) {
		char *o = tok;

		n = (int)(rng() % 400);
		if (rng() % 2)
			*o++ = '-';
		if (rng() % 2) {
			/* 0.000...000ddd */
			*o++ = '0';
			*o++ = '.';
			for (j = 0; j < n && j < 1000; j++)
				*o++ = '0';
			rand_digits(o, 1 + (int)(rng() % 40), 1);
			o += strlen(o);
			sprintf(o, "e%d", n - (int)(rng() % 80) + 30);
		} else {
			/* ddd...ddd.ddd with n digits, then an exponent */
			rand_digits(o, 1 + n, 1);
			o += strlen(o);
			if (rng() % 2) {
				*o++ = '.';
				rand_digits(o, 1 + (int)(rng() % 300), 0);
				o += strlen(o);
			}
			sprintf(o, "e%d", -n + (int)(rng() % 90) - 50);
		}
		num_check(&st, tok);
	}
	num_done(&st);
	TEST_DONE();
	printf("# strtof comparisons: %.2f s\n", now() - t0);
}

/* The shortest %.<P>g that reads back as f. */
static int
shortest_g(char *buf, size_t cap, float f)
{
	int p;

	for (p = 1; p <= 9; p++) {
		snprintf(buf, cap, "%.*g", p, (double)f);
		if (strtof(buf, NULL) == f)
			return p;
	}
	return 9;
}

static int
sig_digits(const char *s)
{
	int n = 0, seen = 0, zeros = 0;

	for (; *s != '\0' && *s != 'e'; s++) {
		if (*s < '0' || *s > '9')
			continue;
		if (*s == '0' && !seen)
			continue;
		seen = 1;
		if (*s == '0')
			zeros++;
		else {
			n += zeros + 1;
			zeros = 0;
		}
	}
	return n;
}

static void
test_format(void)
{
	static const float fixed[] = { 0.5f, -1.25f, 3.0f, 0.1f, 100.0f,
	    1e9f, 123456789.0f, 1e-5f, 1e-4f, 0.0001234f, FLT_MAX, -FLT_MAX,
	    FLT_MIN, 1.4e-45f, 16777216.0f, 1e10f, 0.3f, 2.5f, 1e38f,
	    3.0e-45f, 1.0f / 3.0f, 999999.9f };
	char buf[JSONNUM_F32_BUFLEN], ref[64];
	long i, bad = 0, longer = 0, same = 0, total = 0;
	float f, g;
	int n;
	double t0;

	TEST_START("format: fixed values");
	ASSERT_INT_EQ(jsonnum_format_f32(buf, 0.0f), 1);
	ASSERT_STRING_EQ(buf, "0");
	ASSERT_INT_EQ(jsonnum_format_f32(buf, -0.0f), 2);
	ASSERT_STRING_EQ(buf, "-0");
	ASSERT_INT_EQ(jsonnum_format_f32(buf, NAN), -1);
	ASSERT_INT_EQ(jsonnum_format_f32(buf, -INFINITY), -1);
	jsonnum_format_f32(buf, 0.1f);
	ASSERT_STRING_EQ(buf, "0.1");
	jsonnum_format_f32(buf, 1e-5f);
	ASSERT_STRING_EQ(buf, "1e-05");
	jsonnum_format_f32(buf, 100.0f);
	ASSERT_STRING_EQ(buf, "100");
	jsonnum_format_f32(buf, 123456789.0f);
	ASSERT_STRING_EQ(buf, "123456790");
	jsonnum_format_f32(buf, 1e9f);
	ASSERT_STRING_EQ(buf, "1e+09");
	jsonnum_format_f32(buf, 0.0001234f);
	ASSERT_STRING_EQ(buf, "0.0001234");
	jsonnum_format_f32(buf, -2.5e-7f);
	ASSERT_STRING_EQ(buf, "-2.5e-07");
	jsonnum_format_f32(buf, 1.0f / 3.0f);
	ASSERT_STRING_EQ(buf, "0.33333334");
	jsonnum_format_f32(buf, FLT_MAX);
	ASSERT_STRING_EQ(buf, "3.4028235e+38");
	jsonnum_format_f32(buf, 1.4e-45f);
	ASSERT_STRING_EQ(buf, "1e-45");
	for (i = 0; i < (long)(sizeof(fixed) / sizeof(fixed[0])); i++) {
		n = jsonnum_format_f32(buf, fixed[i]);
		ASSERT_INT_EQ(n, (int)strlen(buf));
		ASSERT_INT_EQ(f2u(strtof(buf, NULL)), f2u(fixed[i]));
		shortest_g(ref, sizeof(ref), fixed[i]);
		ASSERT_INT_LE(sig_digits(buf), sig_digits(ref));
	}
	TEST_DONE();

	TEST_START("format: random floats read back, no longer than %g");
	for (i = 0; i < 100000; i++) {
		f = rand_float();
		if (i % 3 == 0)	/* logit-like magnitudes */
			f = (float)((double)(int64_t)rng() / 9.2e18 * 30);
		n = jsonnum_format_f32(buf, f);
		total++;
		if (n <= 0 || n >= JSONNUM_F32_BUFLEN ||
		    (size_t)n != strlen(buf)) {
			bad++;
			continue;
		}
		g = strtof(buf, NULL);
		if (f2u(g) != f2u(f)) {
			if (bad++ == 0)
				fprintf(stderr, "%.9g -> %s\n", (double)f, buf);
			continue;
		}
		shortest_g(ref, sizeof(ref), f);
		if (strcmp(buf, ref) == 0)
			same++;
		else if (sig_digits(buf) > sig_digits(ref)) {
			if (longer++ == 0)
				fprintf(stderr, "%s longer than %s\n", buf,
				    ref);
		}
	}
	ASSERT_INT_EQ(bad, 0);
	ASSERT_INT_EQ(longer, 0);
	printf("# format: %ld of %ld identical to the shortest %%.Pg\n", same,
	    total);
	TEST_DONE();

	TEST_START("format: timing, 8000 floats");
	{
		float lg[8000];
		double best = 1e9, t;
		int rep;

		for (i = 0; i < 8000; i++)
			lg[i] = (float)((double)(int64_t)rng() / 9.2e18 * 20);
		for (rep = 0; rep < 5; rep++) {
			t0 = now();
			for (i = 0; i < 8000; i++)
				n = jsonnum_format_f32(buf, lg[i]);
			t = now() - t0;
			if (t < best)
				best = t;
		}
		printf("# format: 8000 floats in %.3f ms\n", best * 1e3);
	}
	TEST_DONE();
}

/* ==== A real request: 1x3x224x224 ===================================== */

static void
test_big(void)
{
	struct oip_infer_req req;
	struct jsonout out = { NULL, 0, 0 };
	struct sb b = { 0 };
	char err[ERRLEN], tok[64];
	const size_t n = 3 * 224 * 224;
	float *vals = test_xmalloc(n * sizeof(float));
	double t0, best, t;
	size_t i;
	int rep, kind, bad;
	static const char *const kinds[] = { "%.17g", "%.9g" };

	for (kind = 0; kind < 2; kind++) {
		TEST_START("big: 1x3x224x224 request, timed");
		b.len = 0;
		sb_puts(&b, "{\"id\":\"bench\",\"inputs\":[{\"name\":\"input\","
		    "\"shape\":[1,3,224,224],\"datatype\":\"FP32\",\"data\":[");
		for (i = 0; i < n; i++) {
			/* Normalised pixels, as a client sends them: a
			 * float32 printed as the double it widens to. */
			vals[i] = (float)((double)(rng() >> 11) /
			    9007199254740992.0 * 4.9 - 2.2);
			snprintf(tok, sizeof(tok), kinds[kind],
			    (double)vals[i]);
			vals[i] = strtof(tok, NULL);
			if (i > 0)
				sb_puts(&b, ", ");
			sb_puts(&b, tok);
		}
		sb_puts(&b, "]}],\"outputs\":[{\"name\":\"logits\","
		    "\"parameters\":{\"classification\":5}}]}");
		best = 1e9;
		for (rep = 0; rep < 5; rep++) {
			t0 = now();
			if (oip_parse_infer((const uint8_t *)b.s, b.len, -1,
			    &real_io, &req, err, sizeof(err)) != 0) {
				fprintf(stderr, "%s\n", err);
				ASSERT_TRUE(0);
				break;
			}
			t = now() - t0;
			if (t < best)
				best = t;
			if (rep < 4)
				oip_infer_req_free(&req);
		}
		if (rep == 5) {
			for (bad = 0, i = 0; i < n; i++)
				bad += f2u(req.rq_data[i]) != f2u(vals[i]);
			ASSERT_INT_EQ(bad, 0);
			oip_infer_req_free(&req);
		}
		printf("# parse: %.2f MB (%s) in %.2f ms, %.0f MB/s\n",
		    (double)b.len / 1e6, kinds[kind], best * 1e3,
		    (double)b.len / 1e6 / best);
		TEST_DONE();
	}

	TEST_START("big: response for batch 8, 1000 classes, timed");
	{
		float *lg = test_xmalloc(8000 * sizeof(float));
		size_t jl;

		memset(&req, 0, sizeof(req));
		req.rq_n = 8;
		for (i = 0; i < 8000; i++)
			lg[i] = (float)((double)(int64_t)rng() / 9.2e18 * 20);
		best = 1e9;
		for (rep = 0; rep < 5; rep++) {
			t0 = now();
			ASSERT_INT_EQ(oip_write_infer(&out, &jl, "resnet18",
			    "1", &real_io, &req, lg, NULL), 0);
			t = now() - t0;
			if (t < best)
				best = t;
		}
		printf("# write: 8x1000 logits, %zu bytes in %.3f ms\n",
		    out.len, best * 1e3);
		req.rq_n_outputs = 1;
		req.rq_outputs[0].or_top_k = 5;
		t0 = now();
		ASSERT_INT_EQ(oip_write_infer(&out, &jl, "resnet18", "1",
		    &real_io, &req, lg, NULL), 0);
		printf("# write: 8x top-5 in %.3f ms\n", (now() - t0) * 1e3);
		free(lg);
	}
	TEST_DONE();
	jsonout_free(&out);
	free(b.s);
	free(vals);
}

/* ==== Key flooding ===================================================== */

/*
 * The duplicate-key check once hashed keys with unkeyed 32-bit FNV-1a and
 * compared in full on a match: keys built to share that hash and a long
 * prefix made each new key cost a compare with every earlier one (19.9 s
 * of CPU for a 32 MiB body).  These cases count the check's work
 * (oip_parse_infer_work) on such bodies and bound it by the body length.
 */
#define FNV_BASIS	2166136261u
#define FNV_PRIME	16777619u
#define FLOOD_KEYS	250	/* per object: under JSONIN_MAX_KEYS with the
				 * enclosing objects' keys */
#define FLOOD_SUF	8	/* 2 + 3 + 3 characters after the prefix */

static uint32_t
fnv1a(uint32_t h, const char *s, size_t n)
{
	while (n-- > 0)
		h = (h ^ (uint8_t)*s++) * FNV_PRIME;
	return h;
}

/* 64 characters that need no escape in a JSON string. */
static const char flood_abc[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

struct flood_back {
	uint32_t	 fb_h;		/* state before the 3 characters */
	uint32_t	 fb_code;	/* the 3 characters, 6 bits each */
};

static int
flood_back_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct flood_back *)a)->fb_h;
	uint32_t y = ((const struct flood_back *)b)->fb_h;

	return x < y ? -1 : x > y;
}

/*
 * Fills suf[0..n) with distinct FLOOD_SUF-character suffixes such that
 * prefix + suffix all have one FNV-1a hash, meet in the middle: the last
 * three characters run backwards from the target (the state before
 * character c is (h * P^-1) ^ c), the three before them forwards from
 * prefix + two characters, 16 matches expected per two-character start.
 */
static void
flood_keys(const char *prefix, char (*suf)[FLOOD_SUF + 1], int n)
{
	const uint32_t target = 0x5eed1e55u;
	struct flood_back *tab, key, *hit;
	uint32_t pinv = FNV_PRIME, h0, h2, h, x;
	int got = 0, a, b, i, c[3];

	for (i = 0; i < 5; i++)		/* Newton: P * pinv = 1 mod 2^32 */
		pinv *= 2 - FNV_PRIME * pinv;
	tab = test_xmalloc(sizeof(*tab) << 18);
	for (i = 0; i < 1 << 18; i++) {
		c[0] = i >> 12, c[1] = i >> 6 & 63, c[2] = i & 63;
		x = target;
		x = (x * pinv) ^ (uint8_t)flood_abc[c[2]];
		x = (x * pinv) ^ (uint8_t)flood_abc[c[1]];
		x = (x * pinv) ^ (uint8_t)flood_abc[c[0]];
		tab[i].fb_h = x;
		tab[i].fb_code = (uint32_t)i;
	}
	qsort(tab, (size_t)1 << 18, sizeof(*tab), flood_back_cmp);
	h0 = fnv1a(FNV_BASIS, prefix, strlen(prefix));
	for (a = 0; got < n && a < 64 * 64; a++) {
		char two[2] = { flood_abc[a >> 6], flood_abc[a & 63] };

		h2 = fnv1a(h0, two, 2);
		for (b = 0; got < n && b < 1 << 18; b++) {
			char three[3] = { flood_abc[b >> 12],
			    flood_abc[b >> 6 & 63], flood_abc[b & 63] };

			key.fb_h = h = fnv1a(h2, three, 3);
			hit = bsearch(&key, tab, (size_t)1 << 18,
			    sizeof(*tab), flood_back_cmp);
			if (hit == NULL)
				continue;
			/* The first of a run of equal states will do. */
			snprintf(suf[got], FLOOD_SUF + 1, "%c%c%c%c%c%c%c%c",
			    two[0], two[1], three[0], three[1], three[2],
			    flood_abc[hit->fb_code >> 12],
			    flood_abc[hit->fb_code >> 6 & 63],
			    flood_abc[hit->fb_code & 63]);
			got++;
		}
	}
	free(tab);
	if (got < n) {
		fprintf(stderr, "flood_keys: %d of %d keys\n", got, n);
		exit(99);
	}
}

/*
 * {"parameters":{"x":[OBJ,...]},"inputs":[<a valid small input>]} with
 * nobj objects of n members "<prefix><suf[i]>":0, then extra (if not NULL)
 * as the last member of the last object.
 */
static void
flood_body(struct sb *b, const char *prefix, char (*suf)[FLOOD_SUF + 1],
    int n, int nobj, const char *extra)
{
	int o, i;

	b->len = 0;
	sb_puts(b, "{\"parameters\":{\"x\":[");
	for (o = 0; o < nobj; o++) {
		sb_puts(b, o > 0 ? ",{" : "{");
		for (i = 0; i < n; i++) {
			sb_puts(b, i > 0 ? ",\"" : "\"");
			sb_puts(b, prefix);
			sb_puts(b, suf[i]);
			sb_puts(b, "\":0");
		}
		if (extra != NULL && o == nobj - 1)
			sb_puts(b, extra);
		sb_puts(b, "}");
	}
	sb_puts(b, "]},\"inputs\":[" IN_HEAD SHAPE1 "," DATA12 "}]}");
}

/* Parses b; returns the code, the work in *w. */
static int
flood_parse(const struct sb *b, struct jsonin_work *w, char *err)
{
	struct oip_infer_req req;
	uint8_t *copy;
	int r;

	memset(w, 0, sizeof(*w));
	copy = test_xmalloc(b->len);
	memcpy(copy, b->s, b->len);
	r = oip_parse_infer_work(copy, b->len, -1, &small_io, &req, err,
	    ERRLEN, w);
	free(copy);
	oip_infer_req_free(&req);
	printf("# %zu bytes: %llu keys, %llu probes, %llu code points "
	    "compared\n", b->len, (unsigned long long)w->jw_keys,
	    (unsigned long long)w->jw_probes, (unsigned long long)w->jw_cmp);
	return r;
}

/* SipHash-2-4: the reference vectors (key 00..0f, message 00..n-1). */
static void
test_siphash(void)
{
	static const struct { size_t n; uint64_t h; } v[] = {
		{ 0, 0x726fdb47dd0e0e31ULL }, { 1, 0x74f839c593dc67fdULL },
		{ 7, 0xab0200f58b01d137ULL }, { 8, 0x93f5f5799a932462ULL },
		{ 15, 0xa129ca6149be45e5ULL }, { 16, 0x3f2acc7f57c29bdbULL },
	};
	uint8_t key[16], msg[16];
	size_t i;

	TEST_START("flood: the key hash is SipHash-2-4 (reference vectors)");
	for (i = 0; i < 16; i++)
		key[i] = msg[i] = (uint8_t)i;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		ASSERT_INT_EQ(siphash24(key, msg, v[i].n) == v[i].h, 1);
	TEST_DONE();
}

static void
test_flood(void)
{
	char (*suf)[FLOOD_SUF + 1];
	char *prefix, err[ERRLEN], extra[64];
	struct sb b = { 0 };
	struct jsonin_work w;
	uint32_t h;
	int i, j, same;

	suf = test_xmalloc(FLOOD_KEYS * sizeof(*suf));
	prefix = test_xmalloc(1025);
	memset(prefix, 'k', 1024);
	prefix[1024] = '\0';

	TEST_START("flood: 250 distinct 1 KiB keys with one FNV-1a hash");
	flood_keys(prefix, suf, FLOOD_KEYS);
	h = fnv1a(fnv1a(FNV_BASIS, prefix, 1024), suf[0], FLOOD_SUF);
	for (same = 0, i = 0; i < FLOOD_KEYS; i++) {
		same += fnv1a(fnv1a(FNV_BASIS, prefix, 1024), suf[i],
		    FLOOD_SUF) == h;
		for (j = 0; j < i; j++)
			ASSERT_INT_NE(strcmp(suf[i], suf[j]), 0);
	}
	ASSERT_INT_EQ(same, FLOOD_KEYS);
	TEST_DONE();

	TEST_START("flood: 8 objects of them parse, key work <= body length");
	flood_body(&b, prefix, suf, FLOOD_KEYS, 8, NULL);
	ASSERT_INT_EQ(flood_parse(&b, &w, err), 0);
	ASSERT_INT_GE(w.jw_keys, 8 * FLOOD_KEYS);
	ASSERT_INT_LE(w.jw_probes + w.jw_cmp, b.len);
	TEST_DONE();

	TEST_START("flood: a duplicate among them is refused");
	{
		struct sb e = { 0 };

		sb_puts(&e, ",\"");
		sb_puts(&e, prefix);
		sb_puts(&e, suf[117]);
		sb_puts(&e, "\":1");
		flood_body(&b, prefix, suf, FLOOD_KEYS, 2, e.s);
		free(e.s);
	}
	ASSERT_INT_EQ(flood_parse(&b, &w, err), AG_ERR_DUPLICATE);
	ASSERT_STRING_CONTAINS(err, "parameters: duplicate key");
	TEST_DONE();

	TEST_START("flood: a duplicate spelled with an escape is refused");
	{
		struct sb e = { 0 };

		/* The first character as \u00XX: other bytes, same key. */
		snprintf(extra, sizeof(extra), ",\"\\u%04x", 'k');
		sb_puts(&e, extra);
		sb_puts(&e, prefix + 1);
		sb_puts(&e, suf[FLOOD_KEYS - 1]);
		sb_puts(&e, "\":1");
		flood_body(&b, prefix, suf, FLOOD_KEYS, 1, e.s);
		free(e.s);
	}
	ASSERT_INT_EQ(flood_parse(&b, &w, err), AG_ERR_DUPLICATE);
	TEST_DONE();

	TEST_START("flood: 64 objects of 250 short keys, key work <= length");
	for (i = 0; i < FLOOD_KEYS; i++)
		snprintf(suf[i], FLOOD_SUF + 1, "%d", i);
	flood_body(&b, "", suf, FLOOD_KEYS, 64, NULL);
	ASSERT_INT_EQ(flood_parse(&b, &w, err), 0);
	ASSERT_INT_GE(w.jw_keys, 64 * FLOOD_KEYS);
	ASSERT_INT_LE(w.jw_probes + w.jw_cmp, b.len);
	TEST_DONE();

	free(b.s);
	free(prefix);
	free(suf);
}

void
tests(void)
{
	test_plan(159);
	/* The parser's hash key, as the front draws it before its sandbox. */
	if (jsonin_init() != 0) {
		perror("jsonin_init");
		exit(99);
	}
	test_valid();
	test_malformed();
	test_truncation();
	test_mutation();
	test_response();
	test_format();
	test_strtof();
	test_big();
	test_siphash();
	test_flood();
}
