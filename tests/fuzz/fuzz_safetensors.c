/* SPDX-License-Identifier: ISC */
/*
 * fuzz_safetensors.c: libFuzzer entry point for the safetensors reader.
 *
 * Feeds each input to st_parse() as a whole file.  When it parses, every
 * tensor is looked up by name and its bytes are read (and converted, for
 * the float dtypes), so that AddressSanitizer sees any data pointer that
 * strays outside the input.  Build and run with "make fuzz", e.g.
 *	build/fuzz/fuzz_safetensors -max_total_time=300 CORPUS_DIR
 * The unit test's mutation pass (tests/unit/test_safetensors.c) covers the
 * same parser deterministically in every "make check".
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/ag_err.h"
#include "common/util.h"
#include "model/safetensors.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static float scratch[4096];
	const struct st_tensor *t;
	struct st_file *f;
	char err[256];
	volatile uint8_t sink = 0;
	size_t i, j;
	int r;

	r = st_parse(data, size, &f, err, sizeof(err));
	if (r != 0) {
		/* A refusal must be a real code with a message. */
		AG_ASSERT(r < 0 && r >= AG_ERR_MAX && f == NULL);
		AG_ASSERT(err[0] != '\0');
		return 0;
	}
	for (i = 0; i < st_count(f); i++) {
		t = st_tensor_at(f, i);
		AG_ASSERT(st_find(f, t->name) == t);
		for (j = t->begin; j < t->end; j++)
			sink ^= t->data[j - t->begin];
		if (t->nelem <= sizeof(scratch) / sizeof(scratch[0]))
			(void)st_tensor_to_f32(t, scratch, t->nelem, err,
			    sizeof(err));
	}
	(void)st_metadata(f, "format");
	st_close(f);
	(void)sink;
	return 0;
}
