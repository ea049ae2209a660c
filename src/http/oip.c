/* SPDX-License-Identifier: ISC */
/*
 * oip.c: the Open Inference Protocol infer request parser and response
 * writer declared in oip.h.
 *
 * Owns: the infer request's schema (which key may hold what, the input's
 * name, type and shape, the outputs and parameters asked for, the binary
 * part) and the response document.  Does not own: JSON syntax, strings,
 * keys and nesting (jsonin.c), number conversion either way (jsonnum.c),
 * the output buffer and string escaping (jsonout.c).
 *
 * The request is read in one pass with the JSON reader; the "data" numbers
 * are scanned right here, straight into the float buffer, with the inline
 * scanner of jsonnum.h: this loop is the hot path of /infer.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ag_err.h"
#include "common/topk.h"
#include "common/util.h"
#include "http/jsonin.h"
#include "http/jsonnum.h"
#include "http/jsonout.h"
#include "http/oip.h"

/* ==== The infer request ================================================ */

#define WHAT_INPUT	"inputs[0]"
#define WHAT_DATA	"inputs[0].data"
#define WHAT_SHAPE	"inputs[0].shape"
#define WHAT_IPARAMS	"inputs[0].parameters"

/* A string value equal to want (compared in full, NULs included). */
static int
parse_name(struct jsonin *jp, const char *what, const char *want,
    int code)
{
	char buf[OIP_MAX_ID + 1];
	size_t len;
	int r;

	jsonin_ws(jp);
	if ((r = jsonin_string(jp, what, buf, sizeof(buf), &len, NULL)) != 0)
		return r;
	if (len != strlen(want) || memcmp(buf, want, len) != 0)
		return ag_errf(jp->err, jp->errlen, code,
		    "%s: expected \"%s\"", what, want);
	return 0;
}

/* What we learn about inputs[0] while reading it. */
struct in_state {
	int		 have_name, have_dtype, have_shape, have_data;
	int64_t		 dims[4];	/* N, C, H, W once have_shape */
	int64_t		 bin_size;	/* -1: no binary_data_size */
	const uint8_t	*data_at;	/* "data" seen before "shape" */
	int		 data_depth;
};

/* Binary part and output flags: resolved after the whole document. */
struct top_state {
	int		 have_inputs;
	int		 binary_output;		/* -1: not given */
	int		 out_binary[OIP_MAX_OUTPUTS];	/* -1: not given */
};

static int
data_elem_error(struct jsonin *jp, const uint8_t *at, size_t elem,
    int r)
{
	jp->p = at;
	if (r == AG_ERR_NUMERIC)
		return ag_errf(jp->err, jp->errlen, AG_ERR_NUMERIC,
		    "%s: element %zu is out of float range", WHAT_DATA, elem);
	if (r != AG_ERR_JSON)
		return ag_errf(jp->err, jp->errlen, r, "%s: element %zu: %s",
		    WHAT_DATA, elem, ag_strerror(r));
	/* A string, literal, object or array: valid JSON, wrong type. */
	if (jsonin_at_value(jp) && *at != '-' && (*at < '0' || *at > '9'))
		return ag_errf(jp->err, jp->errlen, AG_ERR_FORMAT,
		    "%s: element %zu is not a number", WHAT_DATA, elem);
	return jsonin_syntax(jp, WHAT_DATA);
}

/* One number of "data" at *pp into *out (elem: its index, for messages). */
static inline int
data_num(struct jsonin *jp, const uint8_t **pp, float *out, size_t elem)
{
	const uint8_t *tok = *pp;
	struct jsonnum nt;
	int r;

	if (jsonnum_scan(pp, jp->end, &nt) != 0)
		return data_elem_error(jp, tok, elem, AG_ERR_JSON);
	if ((r = jsonnum_to_f32(&nt, tok, (size_t)(*pp - tok), out)) != 0)
		return data_elem_error(jp, tok, elem, r);
	return 0;
}

#define WS(c)	((c) == ' ' || (c) == '\n' || (c) == '\r' || (c) == '\t')

/*
 * Reads a run of numbers ending with ']' (the first is at *pp): at most
 * max of them into dst.  Returns 0 with *pp past the ']' and *np the count.
 */
static inline int
data_run(struct jsonin *jp, const uint8_t **pp, float *dst, size_t max,
    size_t base, size_t *np)
{
	const uint8_t *p = *pp, *end = jp->end;
	size_t n = 0;
	int r;

	for (;;) {
		if (n == max) {
			jp->p = p;
			if (!jsonin_at_value(jp))
				return jsonin_syntax(jp, WHAT_DATA);
			return ag_errf(jp->err, jp->errlen, AG_ERR_SHAPE,
			    "%s: more than %zu numbers where the shape has "
			    "%zu", WHAT_DATA, max, max);
		}
		if ((r = data_num(jp, &p, &dst[n], base + n)) != 0)
			return r;
		n++;
		while (p < end && WS(*p))
			p++;
		if (p < end && *p == ',') {
			p++;
			while (p < end && WS(*p))
				p++;
			continue;
		}
		if (p < end && *p == ']')
			break;
		jp->p = p;
		return jsonin_syntax(jp, WHAT_DATA);
	}
	*pp = p + 1;
	*np = n;
	return 0;
}

/*
 * Reads "data" at the cursor into dst (count = N*C*H*W floats): a flat
 * array of count numbers, or arrays nested four deep whose lengths are
 * the shape's.  Never writes past dst[count - 1].
 */
static int
parse_data(struct jsonin *jp, const int64_t dims[4], float *dst,
    size_t count)
{
	size_t idx[4], pos = 0, n;
	int lvl, first, r;

	jsonin_ws(jp);
	if (jp->p >= jp->end || *jp->p != '[')
		return jsonin_type(jp, WHAT_DATA, "an array of numbers");
	if ((r = jsonin_enter(jp, WHAT_DATA)) != 0)
		return r;
	jsonin_ws(jp);
	if (jp->p < jp->end && *jp->p != '[') {
		/* Flat. */
		if (*jp->p == ']') {
			n = 0;
			jp->p++;
		} else if ((r = data_run(jp, &jp->p, dst, count, 0, &n)) != 0)
			return r;
		if (n != count)
			return ag_errf(jp->err, jp->errlen, AG_ERR_SHAPE,
			    "%s: %zu numbers where the shape has %zu",
			    WHAT_DATA, n, count);
		jp->depth--;
		return 0;
	}
	/* Nested: lvl is the open array (0 outermost), idx[] the elements
	 * each has so far. */
	lvl = 0;
	idx[0] = 0;
	first = 1;
	for (;;) {
		/* At an element of level lvl, or ']' of an empty array. */
		jsonin_ws(jp);
		if (jp->p >= jp->end)
			return jsonin_syntax(jp, WHAT_DATA);
		if (*jp->p == ']' && first)
			goto close;
		if (!jsonin_at_value(jp))
			return jsonin_syntax(jp, WHAT_DATA);
		if ((int64_t)idx[lvl] == dims[lvl])
			return ag_errf(jp->err, jp->errlen, AG_ERR_SHAPE,
			    "%s: more than %lld elements at depth %d",
			    WHAT_DATA, (long long)dims[lvl], lvl + 1);
		if (lvl < 3) {
			if (*jp->p != '[')
				return ag_errf(jp->err, jp->errlen,
				    AG_ERR_SHAPE, "%s: expected an array at "
				    "depth %d, nested like the shape",
				    WHAT_DATA, lvl + 2);
			if ((r = jsonin_enter(jp, WHAT_DATA)) != 0)
				return r;
			idx[++lvl] = 0;
			first = 1;
			continue;
		}
		if (*jp->p == '[')
			return ag_errf(jp->err, jp->errlen, AG_ERR_SHAPE,
			    "%s: arrays nested deeper than the shape",
			    WHAT_DATA);
		/* Innermost: idx[3] is 0 here, the run fills this row. */
		AG_ASSERT(pos + (size_t)dims[3] <= count);
		if ((r = data_run(jp, &jp->p, dst + pos, (size_t)dims[3], pos,
		    &n)) != 0)
			return r;
		pos += n;
		idx[3] = n;
		jp->p--;	/* back on the ']' for close */
 close:
		/* At the ']' of level lvl; close until one goes on. */
		for (;;) {
			if ((int64_t)idx[lvl] != dims[lvl])
				return ag_errf(jp->err, jp->errlen,
				    AG_ERR_SHAPE, "%s: %zu elements at depth "
				    "%d where the shape has %lld", WHAT_DATA,
				    idx[lvl], lvl + 1, (long long)dims[lvl]);
			jp->p++;
			jp->depth--;
			if (lvl == 0) {
				AG_ASSERT(pos == count);
				return 0;
			}
			idx[--lvl]++;
			jsonin_ws(jp);
			if (jp->p < jp->end && *jp->p == ',') {
				jp->p++;
				first = 0;
				break;
			}
			if (jp->p < jp->end && *jp->p == ']')
				continue;
			return jsonin_syntax(jp, WHAT_DATA);
		}
	}
}

/* Allocates rq_data for the shape, then reads "data" at the cursor. */
static int
input_data(struct jsonin *jp, struct in_state *in,
    struct oip_infer_req *req)
{
	/* Every element is written before success; on failure it is freed. */
	if (req->rq_data == NULL) {
		if ((req->rq_data = malloc(req->rq_nelem *
		    sizeof(float))) == NULL)
			return ag_errf(jp->err, jp->errlen, AG_ERR_ALLOC,
			    "out of memory");
	}
	return parse_data(jp, in->dims, req->rq_data, req->rq_nelem);
}

static int
input_shape(struct jsonin *jp, const struct oip_model_io *io,
    struct in_state *in, struct oip_infer_req *req)
{
	int64_t v;
	size_t n, bytes;
	int i, r, nelem = 0;

	if ((r = jsonin_arr_begin(jp, WHAT_SHAPE)) != 0)
		goto bad;
	for (i = 0; (r = jsonin_arr_next(jp, WHAT_SHAPE, &nelem)) == 1; i++) {
		if (i == 4) {
			r = AG_ERR_FORMAT;
			goto bad;
		}
		if ((r = jsonin_int(jp, WHAT_SHAPE, 0, INT64_MAX, &v)) != 0)
			goto bad;
		in->dims[i] = v;
	}
	if (r < 0)
		goto bad;
	if (i != 4 || in->dims[0] < 1 || in->dims[0] > io->io_max_batch ||
	    in->dims[1] != io->io_channels || in->dims[2] != io->io_height ||
	    in->dims[3] != io->io_width) {
		r = AG_ERR_FORMAT;
		goto bad;
	}
	/* io_valid() checked the largest batch; this is the same check. */
	if (ag_mul_size((size_t)in->dims[0], (size_t)in->dims[1], &n) != 0 ||
	    ag_mul_size(n, (size_t)in->dims[2], &n) != 0 ||
	    ag_mul_size(n, (size_t)in->dims[3], &n) != 0 ||
	    ag_mul_size(n, sizeof(float), &bytes) != 0)
		return ag_errf(jp->err, jp->errlen, AG_ERR_TOO_LARGE,
		    "%s: too many elements", WHAT_SHAPE);
	req->rq_nelem = n;
	req->rq_n = (int)in->dims[0];
	in->have_shape = 1;
	return 0;
 bad:
	/* Syntax errors keep their message; the rest get the shape's. */
	if (r != AG_ERR_FORMAT)
		return r;
	return ag_errf(jp->err, jp->errlen, AG_ERR_SHAPE,
	    "%s: expected [N,%d,%d,%d] with 1 <= N <= %d", WHAT_SHAPE,
	    io->io_channels, io->io_height, io->io_width, io->io_max_batch);
}

static int
input_params(struct jsonin *jp, struct in_state *in)
{
	char key[JSONIN_KEYLEN];
	int frame, n = 0, r;

	if ((r = jsonin_obj_begin(jp, WHAT_IPARAMS, &frame)) != 0)
		return r;
	while ((r = jsonin_obj_next(jp, WHAT_IPARAMS, frame, &n, key)) == 1) {
		if (strcmp(key, "binary_data_size") == 0)
			r = jsonin_int(jp, WHAT_IPARAMS ".binary_data_size", 0,
			    INT64_MAX, &in->bin_size);
		else
			r = jsonin_skip(jp, WHAT_IPARAMS);	/* not ours */
		if (r != 0)
			return r;
	}
	return r;
}

static int
parse_input(struct jsonin *jp, const struct oip_model_io *io,
    struct in_state *in, struct oip_infer_req *req)
{
	const uint8_t *save;
	char key[JSONIN_KEYLEN];
	int frame, n = 0, r, depth;

	if ((r = jsonin_obj_begin(jp, WHAT_INPUT, &frame)) != 0)
		return r;
	while ((r = jsonin_obj_next(jp, WHAT_INPUT, frame, &n, key)) == 1) {
		if (strcmp(key, "name") == 0) {
			r = parse_name(jp, WHAT_INPUT ".name",
			    io->io_input_name, AG_ERR_UNEXPECTED);
			in->have_name = 1;
		} else if (strcmp(key, "datatype") == 0) {
			r = parse_name(jp, WHAT_INPUT ".datatype", "FP32",
			    AG_ERR_DTYPE);
			in->have_dtype = 1;
		} else if (strcmp(key, "shape") == 0)
			r = input_shape(jp, io, in, req);
		else if (strcmp(key, "parameters") == 0)
			r = input_params(jp, in);
		else if (strcmp(key, "data") == 0) {
			in->have_data = 1;
			if (in->have_shape)
				r = input_data(jp, in, req);
			else {
				/* Read it once the shape is known. */
				in->data_at = jp->p;
				in->data_depth = jp->depth;
				r = jsonin_skip(jp, WHAT_DATA);
			}
		} else
			r = jsonin_unknown(jp, WHAT_INPUT, key);
		if (r != 0)
			return r;
	}
	if (r != 0)
		return r;
	if (!in->have_name)
		return ag_errf(jp->err, jp->errlen, AG_ERR_MISSING,
		    "%s: \"name\" is missing", WHAT_INPUT);
	if (!in->have_dtype)
		return ag_errf(jp->err, jp->errlen, AG_ERR_MISSING,
		    "%s: \"datatype\" is missing", WHAT_INPUT);
	if (!in->have_shape)
		return ag_errf(jp->err, jp->errlen, AG_ERR_MISSING,
		    "%s: \"shape\" is missing", WHAT_INPUT);
	if (in->bin_size >= 0) {
		if (in->have_data)
			return ag_errf(jp->err, jp->errlen, AG_ERR_UNEXPECTED,
			    "%s: both \"data\" and binary_data_size given",
			    WHAT_INPUT);
		if ((uint64_t)in->bin_size != req->rq_nelem * sizeof(float))
			return ag_errf(jp->err, jp->errlen, AG_ERR_SHAPE,
			    "%s.binary_data_size: %lld bytes where the shape "
			    "needs %zu", WHAT_IPARAMS,
			    (long long)in->bin_size,
			    req->rq_nelem * sizeof(float));
		return 0;
	}
	if (!in->have_data)
		return ag_errf(jp->err, jp->errlen, AG_ERR_MISSING,
		    "%s: \"data\" is missing", WHAT_INPUT);
	if (in->data_at != NULL) {
		save = jp->p;
		depth = jp->depth;
		jp->p = in->data_at;
		jp->depth = in->data_depth;
		if ((r = input_data(jp, in, req)) != 0)
			return r;
		jp->p = save;
		jp->depth = depth;
	}
	return 0;
}

static int
parse_inputs(struct jsonin *jp, const struct oip_model_io *io,
    struct in_state *in, struct oip_infer_req *req)
{
	int n = 0, r;

	if ((r = jsonin_arr_begin(jp, "inputs")) != 0)
		return r;
	while ((r = jsonin_arr_next(jp, "inputs", &n)) == 1) {
		if (n > 1)
			break;
		if ((r = parse_input(jp, io, in, req)) != 0)
			return r;
	}
	if (r < 0)
		return r;
	if (n != 1)
		return ag_errf(jp->err, jp->errlen, AG_ERR_SHAPE,
		    "inputs: expected exactly one input, \"%s\"",
		    io->io_input_name);
	return 0;
}

static int
output_params(struct jsonin *jp, const char *what,
    const struct oip_model_io *io, struct oip_output_req *o, int *binary)
{
	char key[JSONIN_KEYLEN], w[64];
	int64_t v;
	int frame, n = 0, r;

	if ((r = jsonin_obj_begin(jp, what, &frame)) != 0)
		return r;
	while ((r = jsonin_obj_next(jp, what, frame, &n, key)) == 1) {
		if (strcmp(key, "classification") == 0) {
			(void)snprintf(w, sizeof(w), "%s.classification",
			    what);
			if ((r = jsonin_int(jp, w, 1, io->io_classes, &v)) == 0)
				o->or_top_k = (int)v;
		} else if (strcmp(key, "binary_data") == 0) {
			(void)snprintf(w, sizeof(w), "%s.binary_data", what);
			r = jsonin_bool(jp, w, binary);
		} else
			r = jsonin_skip(jp, what);
		if (r != 0)
			return r;
	}
	return r;
}

static int
parse_output(struct jsonin *jp, int i, const struct oip_model_io *io,
    struct oip_output_req *o, int *binary)
{
	char key[JSONIN_KEYLEN], what[32], w[48];
	int frame, n = 0, r, have_name = 0;

	(void)snprintf(what, sizeof(what), "outputs[%d]", i);
	if ((r = jsonin_obj_begin(jp, what, &frame)) != 0)
		return r;
	while ((r = jsonin_obj_next(jp, what, frame, &n, key)) == 1) {
		if (strcmp(key, "name") == 0) {
			(void)snprintf(w, sizeof(w), "%s.name", what);
			r = parse_name(jp, w, io->io_output_name,
			    AG_ERR_UNEXPECTED);
			have_name = 1;
		} else if (strcmp(key, "parameters") == 0) {
			(void)snprintf(w, sizeof(w), "%s.parameters", what);
			r = output_params(jp, w, io, o, binary);
		} else
			r = jsonin_unknown(jp, what, key);
		if (r != 0)
			return r;
	}
	if (r != 0)
		return r;
	if (!have_name)
		return ag_errf(jp->err, jp->errlen, AG_ERR_MISSING,
		    "%s: \"name\" is missing", what);
	return 0;
}

static int
parse_outputs(struct jsonin *jp, const struct oip_model_io *io,
    struct top_state *ts, struct oip_infer_req *req)
{
	int n = 0, r;

	if ((r = jsonin_arr_begin(jp, "outputs")) != 0)
		return r;
	while ((r = jsonin_arr_next(jp, "outputs", &n)) == 1) {
		if (n > OIP_MAX_OUTPUTS)
			return ag_errf(jp->err, jp->errlen, AG_ERR_TOO_LARGE,
			    "outputs: more than %d", OIP_MAX_OUTPUTS);
		if ((r = parse_output(jp, n - 1, io,
		    &req->rq_outputs[n - 1], &ts->out_binary[n - 1])) != 0)
			return r;
	}
	if (r < 0)
		return r;
	req->rq_n_outputs = n;
	return 0;
}

static int
parse_params(struct jsonin *jp, struct top_state *ts)
{
	char key[JSONIN_KEYLEN];
	int frame, n = 0, r;

	if ((r = jsonin_obj_begin(jp, "parameters", &frame)) != 0)
		return r;
	while ((r = jsonin_obj_next(jp, "parameters", frame, &n, key)) == 1) {
		if (strcmp(key, "binary_data_output") == 0)
			r = jsonin_bool(jp, "parameters.binary_data_output",
			    &ts->binary_output);
		else
			r = jsonin_skip(jp, "parameters");	/* not ours */
		if (r != 0)
			return r;
	}
	return r;
}

static int
parse_id(struct jsonin *jp, struct oip_infer_req *req)
{
	size_t len;
	int r;

	if ((r = jsonin_string(jp, "id", req->rq_id, sizeof(req->rq_id), &len,
	    NULL)) != 0)
		return r;
	if (len > OIP_MAX_ID)
		return ag_errf(jp->err, jp->errlen, AG_ERR_TOO_LARGE,
		    "id: longer than %d bytes", OIP_MAX_ID);
	/* We hand it on as a C string. */
	if (memchr(req->rq_id, '\0', len) != NULL)
		return ag_errf(jp->err, jp->errlen, AG_ERR_FORMAT,
		    "id: contains U+0000");
	req->rq_has_id = 1;
	return 0;
}

static int
parse_top(struct jsonin *jp, const struct oip_model_io *io,
    struct in_state *in, struct top_state *ts, struct oip_infer_req *req)
{
	char key[JSONIN_KEYLEN];
	int frame, n = 0, r;

	if ((r = jsonin_obj_begin(jp, "request", &frame)) != 0)
		return r;
	while ((r = jsonin_obj_next(jp, "request", frame, &n, key)) == 1) {
		if (strcmp(key, "id") == 0)
			r = parse_id(jp, req);
		else if (strcmp(key, "parameters") == 0)
			r = parse_params(jp, ts);
		else if (strcmp(key, "inputs") == 0) {
			r = parse_inputs(jp, io, in, req);
			ts->have_inputs = 1;
		} else if (strcmp(key, "outputs") == 0)
			r = parse_outputs(jp, io, ts, req);
		else
			r = jsonin_unknown(jp, "request", key);
		if (r != 0)
			return r;
	}
	if (r != 0)
		return r;
	if (!ts->have_inputs)
		return ag_errf(jp->err, jp->errlen, AG_ERR_MISSING,
		    "request: \"inputs\" is missing");
	return 0;
}

/* Little-endian float32s to floats, refusing NaN and infinity. */
static int
input_binary(const uint8_t *bin, struct oip_infer_req *req, char *err,
    size_t errlen)
{
	uint32_t u;
	float f;
	size_t i;

	if ((req->rq_data = malloc(req->rq_nelem * sizeof(float))) == NULL)
		return ag_errf(err, errlen, AG_ERR_ALLOC, "out of memory");
	for (i = 0; i < req->rq_nelem; i++, bin += 4) {
		u = (uint32_t)bin[0] | (uint32_t)bin[1] << 8 |
		    (uint32_t)bin[2] << 16 | (uint32_t)bin[3] << 24;
		memcpy(&f, &u, sizeof(f));
		/* The engine sees only finite numbers, as JSON gives. */
		if (!isfinite(f))
			return ag_errf(err, errlen, AG_ERR_NUMERIC,
			    "%s: binary element %zu is NaN or infinite",
			    WHAT_INPUT, i);
		req->rq_data[i] = f;
	}
	return 0;
}

static int
io_valid(const struct oip_model_io *io)
{
	size_t n;

	if (io == NULL || io->io_input_name == NULL ||
	    io->io_output_name == NULL || io->io_channels < 1 ||
	    io->io_height < 1 || io->io_width < 1 || io->io_max_batch < 1 ||
	    io->io_classes < 1)
		return 0;
	/* A name a request can spell (parse_name() reads at most that). */
	if (strlen(io->io_input_name) > OIP_MAX_ID ||
	    strlen(io->io_output_name) > OIP_MAX_ID)
		return 0;
	/* The largest batch must be addressable, in bytes. */
	if (ag_mul_size((size_t)io->io_max_batch, (size_t)io->io_channels,
	    &n) != 0 || ag_mul_size(n, (size_t)io->io_height, &n) != 0 ||
	    ag_mul_size(n, (size_t)io->io_width, &n) != 0 ||
	    ag_mul_size(n, sizeof(float), &n) != 0)
		return 0;
	return 1;
}

int
oip_parse_infer(const uint8_t *body, size_t len, long header_len,
    const struct oip_model_io *io, struct oip_infer_req *req,
    char *err, size_t errlen)
{
	return oip_parse_infer_work(body, len, header_len, io, req, err,
	    errlen, NULL);
}

int
oip_parse_infer_work(const uint8_t *body, size_t len, long header_len,
    const struct oip_model_io *io, struct oip_infer_req *req,
    char *err, size_t errlen, struct jsonin_work *work)
{
	struct jsonin *jp = NULL;
	struct in_state in;
	struct top_state ts;
	size_t jlen, binlen;
	int i, r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	AG_ASSERT(jsonin_ready());	/* jsonin_init(), before the sandbox */
	if (req == NULL)
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG, "no request");
	memset(req, 0, sizeof(*req));
	if ((body == NULL && len > 0) || !io_valid(io))
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG,
		    "bad arguments");
	if (header_len < -1)
		return ag_errf(err, errlen, AG_ERR_FORMAT,
		    "Inference-Header-Content-Length: negative");
	if (header_len >= 0 && (unsigned long)header_len > len)
		return ag_errf(err, errlen, AG_ERR_FORMAT,
		    "Inference-Header-Content-Length: %ld is past the body "
		    "(%zu bytes)", header_len, len);
	jlen = header_len >= 0 ? (size_t)header_len : len;
	binlen = len - jlen;

	/* 8 KiB of key table: off the stack of a server thread. */
	if ((jp = malloc(sizeof(*jp))) == NULL)
		return ag_errf(err, errlen, AG_ERR_ALLOC, "out of memory");
	jsonin_begin(jp, body, jlen, err, errlen);
	memset(&in, 0, sizeof(in));
	in.bin_size = -1;
	memset(&ts, 0, sizeof(ts));
	ts.binary_output = -1;
	for (i = 0; i < OIP_MAX_OUTPUTS; i++)
		ts.out_binary[i] = -1;

	if (jlen == 0) {
		r = ag_errf(err, errlen, AG_ERR_JSON, "request: empty");
		goto fail;
	}
	if ((r = parse_top(jp, io, &in, &ts, req)) != 0)
		goto fail;
	jsonin_ws(jp);
	if (jp->p != jp->end) {
		r = ag_errf(err, errlen, AG_ERR_JSON,
		    "request: bytes after the JSON object (byte %zu)",
		    (size_t)(jp->p - jp->start));
		goto fail;
	}
	AG_ASSERT(jp->depth == 0);

	/* The binary part: exactly the input's bytes, or nothing. */
	if (in.bin_size >= 0) {
		if (header_len < 0) {
			r = ag_errf(err, errlen, AG_ERR_MISSING,
			    "%s: binary_data_size without "
			    "Inference-Header-Content-Length", WHAT_IPARAMS);
			goto fail;
		}
		if ((uint64_t)in.bin_size != binlen) {
			r = ag_errf(err, errlen, AG_ERR_SHAPE,
			    "binary data: %zu bytes after the JSON where "
			    "binary_data_size says %lld", binlen,
			    (long long)in.bin_size);
			goto fail;
		}
		if ((r = input_binary(body + jlen, req, err, errlen)) != 0)
			goto fail;
	} else if (binlen != 0) {
		r = ag_errf(err, errlen, AG_ERR_UNEXPECTED,
		    "binary data: %zu bytes after the JSON, but no input has "
		    "binary_data_size", binlen);
		goto fail;
	}

	req->rq_binary_output = ts.binary_output == 1;
	for (i = 0; i < req->rq_n_outputs; i++)
		req->rq_outputs[i].or_binary = ts.out_binary[i] >= 0 ?
		    ts.out_binary[i] : req->rq_binary_output;
	r = 0;
	goto out;
 fail:
	oip_infer_req_free(req);
 out:
	if (work != NULL) {
		work->jw_keys += jp->work.jw_keys;
		work->jw_probes += jp->work.jw_probes;
		work->jw_cmp += jp->work.jw_cmp;
	}
	free(jp);
	return r;
}

void
oip_infer_req_free_data(struct oip_infer_req *req)
{
	if (req == NULL || req->rq_data == NULL)
		return;
	/* It held the client's tensor. */
	explicit_bzero(req->rq_data, req->rq_nelem * sizeof(float));
	free(req->rq_data);
	req->rq_data = NULL;
}

void
oip_infer_req_free(struct oip_infer_req *req)
{
	if (req == NULL)
		return;
	oip_infer_req_free_data(req);
	memset(req, 0, sizeof(*req));
}

/* ==== The error body ================================================== */

int
oip_write_error(struct jsonout *b, const char *msg)
{
	int r;

	if ((r = jsonout_puts(b, "{\"error\":")) != 0 ||
	    (r = jsonout_escape(b, msg, strlen(msg))) != 0 ||
	    (r = jsonout_puts(b, "}")) != 0)
		return r;
	return 0;
}

/* ==== The infer response ============================================== */

/*
 * "<value>:<index>[:<label>]" of class i of one image's logits lg into
 * buf; returns its length.
 */
static size_t
class_str(char *buf, size_t cap, const float *lg, size_t i,
    const char *const *labels, const char **labelp)
{
	int n;

	n = jsonnum_format_f32(buf, lg[i]);
	AG_ASSERT(n > 0);
	n += snprintf(buf + n, cap - (size_t)n, ":%zu", i);
	*labelp = labels != NULL ? labels[i] : NULL;
	return (size_t)n;
}

static int
put_le32(struct jsonout *b, uint32_t v)
{
	uint8_t x[4];

	x[0] = (uint8_t)v;
	x[1] = (uint8_t)(v >> 8);
	x[2] = (uint8_t)(v >> 16);
	x[3] = (uint8_t)(v >> 24);
	return jsonout_put(b, x, sizeof(x));
}

static int
put_fmt(struct jsonout *b, const char *fmt, long long v)
{
	char t[64];
	int n;

	n = snprintf(t, sizeof(t), fmt, v);
	AG_ASSERT(n > 0 && (size_t)n < sizeof(t));
	return jsonout_put(b, t, (size_t)n);
}

/*
 * The JSON of one output.  top: per image (a stride of the class count),
 * the indices of its best classes in the order of topk.h (only when an
 * output asks for classification).
 */
static int
write_output(struct jsonout *b, const struct oip_model_io *io,
    const struct oip_infer_req *req, const struct oip_output_req *o,
    const float *logits, const size_t *top,
    const char *const *labels)
{
	const char *label;
	char t[JSONNUM_F32_BUFLEN + 16];
	size_t ncls = (size_t)io->io_classes, i, j, n, binsz, tl;
	int r, k = o->or_top_k;

	if ((r = jsonout_puts(b, "{\"name\":")) != 0 ||
	    (r = jsonout_escape(b, io->io_output_name,
	    strlen(io->io_output_name))) != 0 ||
	    (r = jsonout_puts(b, k > 0 ? ",\"datatype\":\"BYTES\"" :
	    ",\"datatype\":\"FP32\"")) != 0 ||
	    (r = put_fmt(b, ",\"shape\":[%lld,", req->rq_n)) != 0 ||
	    (r = put_fmt(b, "%lld]", k > 0 ? k : io->io_classes)) != 0)
		return r;
	n = (size_t)req->rq_n * ncls;
	if (o->or_binary) {
		if (k == 0)
			binsz = n * 4;
		else {
			for (binsz = 0, i = 0; i < (size_t)req->rq_n; i++)
				for (j = 0; j < (size_t)k; j++) {
					tl = class_str(t, sizeof(t),
					    logits + i * ncls,
					    top[i * ncls + j], labels,
					    &label);
					binsz += 4 + tl + (label != NULL ?
					    1 + strlen(label) : 0);
				}
		}
		if ((r = put_fmt(b, ",\"parameters\":{\"binary_data_size\":"
		    "%lld}}", (long long)binsz)) != 0)
			return r;
		return 0;
	}
	if ((r = jsonout_puts(b, ",\"data\":[")) != 0)
		return r;
	if (k == 0) {
		/* Each number, its comma and a NUL fit in
		 * JSONNUM_F32_BUFLEN. */
		if (ag_mul_size(n, JSONNUM_F32_BUFLEN, &tl) != 0)
			return AG_ERR_TOO_LARGE;
		if ((r = jsonout_reserve(b, tl)) != 0)
			return r;
		for (i = 0; i < n; i++) {
			if (i > 0)
				b->b[b->len++] = ',';
			b->len += (size_t)jsonnum_format_f32(b->b + b->len,
			    logits[i]);
		}
	} else {
		for (i = 0; i < (size_t)req->rq_n; i++)
			for (j = 0; j < (size_t)k; j++) {
				tl = class_str(t, sizeof(t),
				    logits + i * ncls, top[i * ncls + j],
				    labels, &label);
				if ((r = jsonout_reserve(b, tl + 4)) != 0)
					return r;
				if (i + j > 0)
					b->b[b->len++] = ',';
				b->b[b->len++] = '"';
				memcpy(b->b + b->len, t, tl);
				b->len += tl;
				if (label != NULL) {
					b->b[b->len++] = ':';
					if ((r = jsonout_escape_body(b, label,
					    strlen(label))) != 0)
						return r;
				}
				if ((r = jsonout_puts(b, "\"")) != 0)
					return r;
			}
	}
	return jsonout_puts(b, "]}");
}

/* The binary part of one output (binary tensor extension). */
static int
write_binary(struct jsonout *b, const struct oip_model_io *io,
    const struct oip_infer_req *req, const struct oip_output_req *o,
    const float *logits, const size_t *top,
    const char *const *labels)
{
	const char *label;
	char t[JSONNUM_F32_BUFLEN + 16];
	size_t ncls = (size_t)io->io_classes, i, j, n, tl, ll;
	uint32_t u;
	int r;

	n = (size_t)req->rq_n * ncls;
	if (o->or_top_k == 0) {
		/* FP32, little-endian. */
		for (i = 0; i < n; i++) {
			memcpy(&u, &logits[i], sizeof(u));
			if ((r = put_le32(b, u)) != 0)
				return r;
		}
		return 0;
	}
	/* BYTES: each element a 4-byte little-endian length, then bytes. */
	for (i = 0; i < (size_t)req->rq_n; i++)
		for (j = 0; j < (size_t)o->or_top_k; j++) {
			tl = class_str(t, sizeof(t), logits + i * ncls,
			    top[i * ncls + j], labels, &label);
			ll = label != NULL ? strlen(label) : 0;
			if (ll > UINT32_MAX - 1 - tl)
				return AG_ERR_TOO_LARGE;
			if ((r = put_le32(b, (uint32_t)(tl +
			    (label != NULL ? 1 + ll : 0)))) != 0 ||
			    (r = jsonout_put(b, t, tl)) != 0)
				return r;
			if (label != NULL &&
			    ((r = jsonout_put(b, ":", 1)) != 0 ||
			    (r = jsonout_put(b, label, ll)) != 0))
				return r;
		}
	return 0;
}

int
oip_write_infer(struct jsonout *out, size_t *json_len,
    const char *model_name, const char *model_version,
    const struct oip_model_io *io, const struct oip_infer_req *req,
    const float *logits, const char *const *labels)
{
	const struct oip_output_req *outs;
	struct oip_output_req def;
	size_t *top = NULL;
	size_t ncls, n, i;
	int nout, o, r, kmax = 0, any_bin = 0;

	if (out == NULL || json_len == NULL)
		return AG_ERR_INVALID_ARG;
	out->len = 0;
	*json_len = 0;
	if (model_name == NULL || !io_valid(io) || req == NULL ||
	    logits == NULL || req->rq_n < 1 ||
	    req->rq_n_outputs < 0 || req->rq_n_outputs > OIP_MAX_OUTPUTS)
		return AG_ERR_INVALID_ARG;
	ncls = (size_t)io->io_classes;
	if (ag_mul_size((size_t)req->rq_n, ncls, &n) != 0)
		return AG_ERR_TOO_LARGE;
	/* JSON has no NaN or infinity. */
	for (i = 0; i < n; i++)
		if (!isfinite(logits[i]))
			return AG_ERR_NUMERIC;
	if (req->rq_n_outputs == 0) {
		def.or_top_k = 0;
		def.or_binary = req->rq_binary_output;
		outs = &def;
		nout = 1;
	} else {
		outs = req->rq_outputs;
		nout = req->rq_n_outputs;
	}
	for (o = 0; o < nout; o++) {
		if (outs[o].or_top_k < 0 || (size_t)outs[o].or_top_k > ncls)
			return AG_ERR_INVALID_ARG;
		if (outs[o].or_top_k > kmax)
			kmax = outs[o].or_top_k;
		any_bin |= outs[o].or_binary != 0;
	}
	if (kmax > 0) {
		/* Each image's best kmax classes, in order, for all outputs. */
		if ((top = calloc(n, sizeof(*top))) == NULL)
			return AG_ERR_ALLOC;
		for (i = 0; i < (size_t)req->rq_n; i++)
			(void)topk_select(logits + i * ncls, ncls,
			    (size_t)kmax, top + i * ncls);
	}

	if ((r = jsonout_puts(out, "{\"model_name\":")) != 0 ||
	    (r = jsonout_escape(out, model_name, strlen(model_name))) != 0)
		goto fail;
	if (model_version != NULL &&
	    ((r = jsonout_puts(out, ",\"model_version\":")) != 0 ||
	    (r = jsonout_escape(out, model_version,
	    strlen(model_version))) != 0))
		goto fail;
	if (req->rq_has_id &&
	    ((r = jsonout_puts(out, ",\"id\":")) != 0 ||
	    (r = jsonout_escape(out, req->rq_id,
	    strnlen(req->rq_id, OIP_MAX_ID))) != 0))
		goto fail;
	if ((r = jsonout_puts(out, ",\"outputs\":[")) != 0)
		goto fail;
	for (o = 0; o < nout; o++) {
		if ((o > 0 && (r = jsonout_puts(out, ",")) != 0) ||
		    (r = write_output(out, io, req, &outs[o], logits, top,
		    labels)) != 0)
			goto fail;
	}
	if ((r = jsonout_puts(out, "]}")) != 0)
		goto fail;
	*json_len = out->len;
	if (any_bin) {
		/* In the order of the outputs, as the extension says. */
		for (o = 0; o < nout; o++)
			if (outs[o].or_binary &&
			    (r = write_binary(out, io, req, &outs[o], logits,
			    top, labels)) != 0)
				goto fail;
	}
	free(top);
	return 0;
 fail:
	free(top);
	out->len = 0;
	*json_len = 0;
	return r;
}
