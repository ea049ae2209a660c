/* SPDX-License-Identifier: ISC */
/*
 * oip.h: the Open Inference Protocol (KServe v2 REST) for one image model:
 * a strict parser for infer requests and a writer for infer responses, with
 * Triton's binary tensor data and classification extensions.
 *
 * Owns: the protocol (the request's schema, the response's document, the
 * error body).  Does not own: JSON syntax (jsonin.h, the reader), number
 * conversion (jsonnum.h), the output buffer and escaping (jsonout.h).
 *
 * The request body is attacker input.  The parser drives the JSON reader
 * of jsonin.h with the infer request's schema: it knows the document's shape,
 * parses the "data" numbers straight into a float buffer (correctly
 * rounded, the same float strtof() gives), and refuses everything else:
 * unknown keys, duplicate keys, wrong types, invalid UTF-8, bad escapes,
 * control characters in strings, nesting deeper than JSONIN_MAX_DEPTH,
 * trailing bytes.  It uses no recursion beyond the fixed depth of the
 * request schema, and its work is linear in the body length whatever the
 * keys: the duplicate check hashes them with a keyed hash (see
 * jsonin_init(), which must run before the first parse).
 *
 * Error codes: every failure of oip_parse_infer() is the client's fault (HTTP
 * 400) except AG_ERR_ALLOC (out of memory), AG_ERR_INVALID_ARG (a bad io or
 * NULL argument from the caller) and AG_ERR_INTERNAL (strtof() refused a
 * number we had checked: a broken C library, not the client).  The codes
 * for the client's faults: AG_ERR_JSON (syntax, strings, escapes, UTF-8),
 * AG_ERR_TOO_LARGE (depth, id length, key count, output count),
 * AG_ERR_DUPLICATE, AG_ERR_UNEXPECTED (unknown key, wrong tensor name, data
 * given twice), AG_ERR_MISSING, AG_ERR_FORMAT (wrong JSON type, bad
 * parameter value, bad header length), AG_ERR_DTYPE, AG_ERR_SHAPE (shape,
 * element count, nesting, binary size), AG_ERR_NUMERIC (number out of float
 * range, NaN or infinity in binary data).
 *
 * Error messages name the field ("inputs[0].shape: expected [N,3,224,224]
 * with 1 <= N <= 8") and never quote request bytes, except a rejected key
 * made only of [A-Za-z0-9_.-], so they are safe to log and to send back.
 */
#ifndef AG_OIP_H
#define AG_OIP_H

#include <stddef.h>
#include <stdint.h>

#include "http/jsonout.h"

struct jsonin_work;

#define OIP_MAX_ID		256	/* bytes of the request "id" */
#define OIP_MAX_OUTPUTS		4

struct oip_model_io {			/* what the served model takes */
	const char	*io_input_name;		/* "input" */
	int		 io_channels, io_height, io_width; /* 3, 224, 224 */
	int		 io_max_batch;		/* largest N accepted */
	const char	*io_output_name;	/* "logits" */
	int		 io_classes;		/* 1000 */
};

struct oip_output_req {
	int	 or_top_k;	/* classification extension: 0 = raw tensor */
	int	 or_binary;	/* 1: binary_data (binary tensor extension) */
};

struct oip_infer_req {
	char			 rq_id[OIP_MAX_ID + 1];	/* NUL-free, UTF-8 */
	int			 rq_has_id;
	int			 rq_n;		/* batch size N */
	float			*rq_data;	/* (N, C, H, W), malloc'd */
	size_t			 rq_nelem;	/* N*C*H*W */
	int			 rq_n_outputs;	/* as requested; 0 = default */
	struct oip_output_req	 rq_outputs[OIP_MAX_OUTPUTS];
	/*
	 * parameters.binary_data_output: the default output is binary.
	 * Already applied to rq_outputs[] that gave no "binary_data".
	 */
	int			 rq_binary_output;
};

/*
 * Parses an infer request body.  header_len is the value of the
 * Inference-Header-Content-Length header, or -1 when absent (then the whole
 * body is JSON).  With header_len >= 0 the JSON is body[0, header_len) and
 * the rest is the binary part, which must hold exactly the input's
 * binary_data_size bytes.
 *
 * The input must be io_input_name, FP32, shape [N, C, H, W] with
 * 1 <= N <= io_max_batch, its values in "data" (flat, or nested to match
 * the shape) or in the binary part (little-endian float32).  Outputs, if
 * listed, must be io_output_name, with "classification" in 1..io_classes.
 * Names longer than OIP_MAX_ID bytes never match.
 *
 * Returns 0 with req filled in (caller frees with oip_infer_req_free()), or
 * a negative AG_ERR_* with err set to a short message for the client
 * (400).  On failure req holds nothing to free.  body may be freed or
 * reused once this returns: req keeps no pointer into it.  Aborts when
 * jsonin_init() has not run.
 */
int	oip_parse_infer(const uint8_t *body, size_t len, long header_len,
	    const struct oip_model_io *io, struct oip_infer_req *req,
	    char *err, size_t errlen);
/*
 * oip_parse_infer(), adding the work of its duplicate-key check to *work
 * (jsonin.h; work may be NULL).
 */
int	oip_parse_infer_work(const uint8_t *body, size_t len, long header_len,
	    const struct oip_model_io *io, struct oip_infer_req *req,
	    char *err, size_t errlen, struct jsonin_work *work);
/* Scrubs and frees rq_data and clears req.  NULL-safe, idempotent. */
void	oip_infer_req_free(struct oip_infer_req *req);
/*
 * Scrubs and frees rq_data only, once the tensor has been handed on; the
 * rest of req (outputs asked for, id) stays for the answer.  NULL-safe,
 * idempotent.
 */
void	oip_infer_req_free_data(struct oip_infer_req *req);

/* Appends {"error":"<msg escaped>"}, the OIP error body. */
int	oip_write_error(struct jsonout *, const char *msg);

/*
 * Writes the infer response for req: the JSON document, followed by the
 * binary tensors when any output is binary (then *json_len < out->len and the
 * caller sends Inference-Header-Content-Length: *json_len and
 * Content-Type: application/octet-stream; otherwise application/json).
 * logits: rq_n * io_classes floats, (N, classes).  labels: io_classes
 * strings (may be NULL: then classification strings carry no label; a NULL
 * entry means that class has none).  model_version may be NULL: then the
 * response has no "model_version".
 *
 * out is reset (out->len = 0, its memory reused) before writing.  Returns 0,
 * or AG_ERR_NUMERIC when a logit is NaN or infinite (JSON cannot carry it),
 * AG_ERR_ALLOC, AG_ERR_TOO_LARGE or AG_ERR_INVALID_ARG; on failure
 * out->len and *json_len are 0.
 */
int	oip_write_infer(struct jsonout *out, size_t *json_len,
	    const char *model_name, const char *model_version,
	    const struct oip_model_io *io, const struct oip_infer_req *req,
	    const float *logits, const char *const *labels);

#endif /* AG_OIP_H */
