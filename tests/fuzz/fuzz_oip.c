/* SPDX-License-Identifier: ISC */
/*
 * fuzz_oip.c: libFuzzer entry point for the Open Inference Protocol infer
 * request parser (the bytes a client sends to POST .../infer).
 *
 * The first byte of an input picks the Inference-Header-Content-Length
 * case (absent, or a split point inside the body); the rest is the body.
 * A request that parses is written back out as a response with made-up
 * logits, so that the writer's paths run too.  Build and run with
 * "make fuzz", e.g.
 *	build/fuzz/fuzz_oip -max_total_time=300 CORPUS_DIR
 * The unit test (tests/unit/test_oip.c) runs every truncation and many
 * mutations of valid requests in every "make check".
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/jsonin.h"
#include "http/jsonout.h"
#include "http/oip.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A small model keeps the tensors small and the fuzzer fast. */
	static const struct oip_model_io io = {
		.io_input_name = "input", .io_channels = 3, .io_height = 2,
		.io_width = 2, .io_max_batch = 4, .io_output_name = "logits",
		.io_classes = 5,
	};
	static const char *const labels[] = { "a", "b\"", "c\\", "d\n", "" };
	static float logits[4 * 5];
	struct oip_infer_req req;
	struct jsonout out;
	size_t json_len;
	char err[256];
	long hlen = -1;
	int i;

	if (jsonin_init() != 0)
		abort();
	if (size < 1)
		return 0;
	if (data[0] & 1)
		hlen = (long)(data[0] >> 1) % (long)size;
	data++;
	size--;
	if (oip_parse_infer(data, size, hlen, &io, &req, err,
	    sizeof(err)) != 0)
		return 0;
	for (i = 0; i < 4 * 5; i++)
		logits[i] = (float)((i * 37) % 11) - 5.0f;
	memset(&out, 0, sizeof(out));
	(void)oip_write_infer(&out, &json_len, "m", "1", &io, &req, logits,
	    (data[0] & 2) ? labels : NULL);
	jsonout_free(&out);
	oip_infer_req_free(&req);
	return 0;
}
