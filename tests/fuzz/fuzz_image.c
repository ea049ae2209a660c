/* SPDX-License-Identifier: ISC */
/*
 * fuzz_image.c: libFuzzer entry point for the image path of classify (the
 * bytes a client POSTs as image/jpeg or image/png): the decoder with its
 * limits, then the resize and centre crop and the tensor, as the front
 * runs them.
 *
 * The input is the encoded image, as sent, so that images serve as seeds.
 * Its length picks the resize and crop sides, small ones, so that every
 * path of the resampler, the crop's padding included, is reached quickly
 * and the fuzzer stays fast.  The limits are those
 * of a small server (1024 pixels a side, 2^18 pixels), so that the fuzzer
 * spends its time in the parsers, not in decoding big images.  Build and
 * run with "make fuzz", e.g.
 *	build/fuzz/fuzz_image -max_total_time=300 CORPUS_DIR
 * with samples/ as the seed corpus.  The unit tests (tests/unit/
 * test_image.c) run the corrupt, truncated and oversized images in every
 * "make check".
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "image/image.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const float mean[3] = { 0.485f, 0.456f, 0.406f };
	static const float sd[3] = { 0.229f, 0.224f, 0.225f };
	static uint8_t px[64 * 64 * 3];
	static float x[3 * 64 * 64];
	const struct image_limits lim = { 1024, 1u << 18 };
	struct image im;
	char err[256];
	int resize, crop;

	resize = 1 + (int)(size * 7 % 96);	/* 1..96 */
	crop = 1 + (int)(size * 13 % 64);	/* 1..64 */
	if (image_decode(data, size, &lim, &im, err, sizeof(err)) != 0)
		return 0;
	if (image_resize_crop(&im, resize, crop, crop, px, err,
	    sizeof(err)) == 0)
		image_to_tensor(px, crop, crop, mean, sd, x);
	image_free(&im);
	return 0;
}
