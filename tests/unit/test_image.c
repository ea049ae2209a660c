/* SPDX-License-Identifier: ISC */
/*
 * test_image.c: unit tests for src/image: JPEG and PNG decoding (valid
 * files of each kind, limits checked before decoding, truncation at every
 * length, corruption, garbage) and the Resize + CenterCrop + ToTensor
 * arithmetic on inputs whose answers are known.  Test images are made
 * here, with libspng's encoder and TurboJPEG's compressor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spng.h>
#include <turbojpeg.h>

#include "common/ag_err.h"
#include "common/util.h"
#include "image/image.h"
#include "test_helper.h"

/* ==== Making test images ==== */

/* A smooth, deterministic RGB pattern, (h, w, 3). */
static uint8_t *
pattern(int w, int h)
{
	uint8_t *p;
	int x, y;

	if ((p = malloc((size_t)w * h * 3)) == NULL)
		abort();
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			p[(y * w + x) * 3] = (uint8_t)(x * 255 / (w > 1 ?
			    w - 1 : 1));
			p[(y * w + x) * 3 + 1] = (uint8_t)(y * 255 / (h > 1 ?
			    h - 1 : 1));
			p[(y * w + x) * 3 + 2] = (uint8_t)((x + y) * 7);
		}
	return p;
}

/*
 * Encodes img (rows of the PNG's own pixel layout, 16-bit samples in host
 * order) as a PNG; caller frees.
 */
static uint8_t *
png_encode(const void *img, size_t imglen, uint32_t w, uint32_t h,
    int color, int depth, int interlace, const struct spng_plte *plte,
    size_t *len)
{
	struct spng_ihdr ihdr;
	spng_ctx *ctx;
	void *out;
	int e = 0;

	memset(&ihdr, 0, sizeof(ihdr));
	ihdr.width = w;
	ihdr.height = h;
	ihdr.color_type = (uint8_t)color;
	ihdr.bit_depth = (uint8_t)depth;
	ihdr.interlace_method = (uint8_t)interlace;
	if ((ctx = spng_ctx_new(SPNG_CTX_ENCODER)) == NULL)
		abort();
	spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
	if (spng_set_ihdr(ctx, &ihdr) != 0)
		abort();
	if (plte != NULL && spng_set_plte(ctx, (struct spng_plte *)plte) != 0)
		abort();
	if ((e = spng_encode_image(ctx, img, imglen, SPNG_FMT_PNG,
	    SPNG_ENCODE_FINALIZE)) != 0) {
		fprintf(stderr, "spng_encode_image: %s\n", spng_strerror(e));
		abort();
	}
	if ((out = spng_get_png_buffer(ctx, len, &e)) == NULL || e != 0)
		abort();
	spng_ctx_free(ctx);
	return out;
}

/* Encodes px (w, h, pf pixels) as a JPEG; caller frees with tjFree(). */
static uint8_t *
jpeg_encode(const uint8_t *px, int w, int h, int pf, int samp, int quality,
    int flags, size_t *len)
{
	tjhandle tj;
	unsigned char *jpg = NULL;
	unsigned long jlen = 0;

	if ((tj = tjInitCompress()) == NULL)
		abort();
	if (tjCompress2(tj, px, w, 0, h, pf, &jpg, &jlen, samp, quality,
	    flags) != 0) {
		fprintf(stderr, "tjCompress2: %s\n", tjGetErrorStr2(tj));
		abort();
	}
	tjDestroy(tj);
	*len = jlen;
	return jpg;
}

static uint32_t
crc32_png(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return c ^ 0xffffffffu;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Rewrites the IHDR size of a PNG made by png_encode (IHDR comes first). */
static void
png_patch_size(uint8_t *png, uint32_t w, uint32_t h)
{
	put_be32(png + 16, w);
	put_be32(png + 20, h);
	put_be32(png + 29, crc32_png(png + 12, 17));
}

/* Rewrites the frame size in the SOF marker of a baseline JPEG. */
static int
jpeg_patch_size(uint8_t *jpg, size_t len, uint16_t w, uint16_t h)
{
	size_t i;

	for (i = 2; i + 9 < len; i++)
		if (jpg[i] == 0xff && (jpg[i + 1] == 0xc0 ||
		    jpg[i + 1] == 0xc2)) {
			jpg[i + 5] = (uint8_t)(h >> 8);
			jpg[i + 6] = (uint8_t)h;
			jpg[i + 7] = (uint8_t)(w >> 8);
			jpg[i + 8] = (uint8_t)w;
			return 0;
		}
	return -1;
}

static int
image_is_zeroed(const struct image *im)
{
	return im->im_w == 0 && im->im_h == 0 && im->im_px == NULL;
}

static int
max_abs_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
	size_t i;
	int d, m = 0;

	for (i = 0; i < n; i++) {
		d = a[i] > b[i] ? a[i] - b[i] : b[i] - a[i];
		if (d > m)
			m = d;
	}
	return m;
}

/* ==== Decoding valid files ==== */

static void
test_decode_png(void)
{
	struct image im;
	struct spng_plte plte;
	uint8_t *src, *png, buf[64 * 3], rgba[5 * 3 * 4];
	uint16_t px16[4 * 2 * 3];
	size_t len, i;
	char err[256];
	int r;

	TEST_START("decode PNG RGB 7x5");
	src = pattern(7, 5);
	png = png_encode(src, 7 * 5 * 3, 7, 5, SPNG_COLOR_TYPE_TRUECOLOR, 8,
	    0, NULL, &len);
	r = image_decode(png, len, NULL, &im, err, sizeof(err));
	ASSERT_INT_EQ(r, 0);
	ASSERT_INT_EQ(im.im_w, 7);
	ASSERT_INT_EQ(im.im_h, 5);
	ASSERT_MEM_EQ(im.im_px, src, 7 * 5 * 3);
	image_free(&im);
	ASSERT_TRUE(image_is_zeroed(&im));
	image_free(&im);	/* twice is fine */
	free(png);
	TEST_DONE();

	TEST_START("decode PNG RGB interlaced");
	png = png_encode(src, 7 * 5 * 3, 7, 5, SPNG_COLOR_TYPE_TRUECOLOR, 8,
	    SPNG_INTERLACE_ADAM7, NULL, &len);
	ASSERT_INT_EQ(png[28], 1);	/* really Adam7 */
	r = image_decode(png, len, NULL, &im, err, sizeof(err));
	ASSERT_INT_EQ(r, 0);
	ASSERT_MEM_EQ(im.im_px, src, 7 * 5 * 3);
	image_free(&im);
	free(png);
	free(src);
	TEST_DONE();

	TEST_START("decode PNG gray replicates");
	for (i = 0; i < 6 * 4; i++)
		buf[i] = (uint8_t)(i * 11);
	png = png_encode(buf, 6 * 4, 6, 4, SPNG_COLOR_TYPE_GRAYSCALE, 8, 0,
	    NULL, &len);
	r = image_decode(png, len, NULL, &im, err, sizeof(err));
	ASSERT_INT_EQ(r, 0);
	for (i = 0; i < 6 * 4; i++) {
		ASSERT_INT_EQ(im.im_px[3 * i], buf[i]);
		ASSERT_INT_EQ(im.im_px[3 * i + 1], buf[i]);
		ASSERT_INT_EQ(im.im_px[3 * i + 2], buf[i]);
	}
	image_free(&im);
	free(png);
	TEST_DONE();

	TEST_START("decode PNG RGBA drops alpha without compositing");
	for (i = 0; i < 5 * 3; i++) {
		rgba[4 * i] = (uint8_t)(i * 17);
		rgba[4 * i + 1] = (uint8_t)(200 - i);
		rgba[4 * i + 2] = (uint8_t)(i * 3);
		rgba[4 * i + 3] = (uint8_t)(i == 0 ? 0 : i * 16);
	}
	png = png_encode(rgba, sizeof(rgba), 5, 3,
	    SPNG_COLOR_TYPE_TRUECOLOR_ALPHA, 8, 0, NULL, &len);
	r = image_decode(png, len, NULL, &im, err, sizeof(err));
	ASSERT_INT_EQ(r, 0);
	for (i = 0; i < 5 * 3; i++)
		ASSERT_MEM_EQ(im.im_px + 3 * i, rgba + 4 * i, 3);
	image_free(&im);
	free(png);
	TEST_DONE();

	TEST_START("decode PNG gray+alpha");
	for (i = 0; i < 4 * 2; i++) {
		buf[2 * i] = (uint8_t)(i * 30);
		buf[2 * i + 1] = (uint8_t)(i * 5);
	}
	png = png_encode(buf, 4 * 2 * 2, 4, 2,
	    SPNG_COLOR_TYPE_GRAYSCALE_ALPHA, 8, 0, NULL, &len);
	r = image_decode(png, len, NULL, &im, err, sizeof(err));
	ASSERT_INT_EQ(r, 0);
	for (i = 0; i < 4 * 2; i++) {
		ASSERT_INT_EQ(im.im_px[3 * i], buf[2 * i]);
		ASSERT_INT_EQ(im.im_px[3 * i + 2], buf[2 * i]);
	}
	image_free(&im);
	free(png);
	TEST_DONE();

	TEST_START("decode PNG 16-bit RGB keeps the high byte");
	for (i = 0; i < 4 * 2 * 3; i++)
		px16[i] = (uint16_t)(i * 2741 + 0x80ff);
	png = png_encode(px16, sizeof(px16), 4, 2, SPNG_COLOR_TYPE_TRUECOLOR,
	    16, 0, NULL, &len);
	r = image_decode(png, len, NULL, &im, err, sizeof(err));
	ASSERT_INT_EQ(r, 0);
	for (i = 0; i < 4 * 2 * 3; i++)
		ASSERT_INT_EQ(im.im_px[i], px16[i] >> 8);
	image_free(&im);
	free(png);
	TEST_DONE();

	TEST_START("decode PNG 16-bit gray refused");
	png = png_encode(px16, 4 * 2 * 2, 4, 2, SPNG_COLOR_TYPE_GRAYSCALE, 16,
	    0, NULL, &len);
	r = image_decode(png, len, NULL, &im, err, sizeof(err));
	ASSERT_INT_EQ(r, AG_ERR_UNSUPPORTED);
	ASSERT_STRING_CONTAINS(err, "16-bit grayscale");
	ASSERT_TRUE(image_is_zeroed(&im));
	free(png);
	TEST_DONE();

	TEST_START("decode PNG palette, short palette as gray ramp");
	memset(&plte, 0, sizeof(plte));
	plte.n_entries = 3;
	plte.entries[0].red = 10;
	plte.entries[1].green = 20;
	plte.entries[2].blue = 30;
	/* 4-bit indices, two a byte: 0 1 2 7 | 15 0 2 1 */
	buf[0] = 0x01;
	buf[1] = 0x27;
	buf[2] = 0xf0;
	buf[3] = 0x21;
	png = png_encode(buf, 4, 4, 2, SPNG_COLOR_TYPE_INDEXED, 4, 0, &plte,
	    &len);
	r = image_decode(png, len, NULL, &im, err, sizeof(err));
	ASSERT_INT_EQ(r, 0);
	{
		static const uint8_t want[8 * 3] = {
			10, 0, 0,  0, 20, 0,  0, 0, 30,  7, 7, 7,
			15, 15, 15,  10, 0, 0,  0, 0, 30,  0, 20, 0,
		};
		ASSERT_MEM_EQ(im.im_px, want, sizeof(want));
	}
	image_free(&im);
	free(png);
	TEST_DONE();

	/*
	 * Interlaced 2-bit indices: libspng assembles packed rows pass by
	 * pass (a dirty buffer once showed through here, under ASan).
	 */
	TEST_START("decode PNG palette 2-bit interlaced");
	{
		struct image flat;
		uint8_t idx[9 * 3];

		plte.n_entries = 4;
		plte.entries[3].red = 99;
		for (i = 0; i < 9 * 3; i++)
			idx[i] = (uint8_t)((i * 7 + i / 5) & 3);
		/* 9 pixels of 2 bits a row: 3 bytes, the last one partial */
		memset(buf, 0, 9);
		for (i = 0; i < 27; i++)
			buf[(i / 9) * 3 + (i % 9) / 4] |=
			    (uint8_t)(idx[i] << (6 - 2 * (i % 9 % 4)));
		png = png_encode(buf, 9, 9, 3, SPNG_COLOR_TYPE_INDEXED, 2, 0,
		    &plte, &len);
		r = image_decode(png, len, NULL, &flat, err, sizeof(err));
		ASSERT_INT_EQ(r, 0);
		free(png);
		png = png_encode(buf, 9, 9, 3, SPNG_COLOR_TYPE_INDEXED, 2,
		    SPNG_INTERLACE_ADAM7, &plte, &len);
		r = image_decode(png, len, NULL, &im, err, sizeof(err));
		ASSERT_INT_EQ(r, 0);
		ASSERT_MEM_EQ(im.im_px, flat.im_px, 9 * 3 * 3);
		for (i = 0; i < 27; i++)
			ASSERT_INT_EQ(im.im_px[3 * i], idx[i] == 0 ? 10 :
			    idx[i] == 3 ? 99 : 0);
		image_free(&flat);
		image_free(&im);
		free(png);
	}
	TEST_DONE();
}

static void
test_decode_jpeg(void)
{
	struct image im;
	uint8_t *src, *jpg, gray[16 * 8], cmyk[8 * 8 * 4], want[3];
	size_t len, i;
	char err[256];
	int r;

	TEST_START("decode JPEG RGB 4:4:4");
	src = pattern(16, 8);
	jpg = jpeg_encode(src, 16, 8, TJPF_RGB, TJSAMP_444, 100, 0, &len);
	r = image_decode(jpg, len, NULL, &im, err, sizeof(err));
	ASSERT_INT_EQ(r, 0);
	ASSERT_INT_EQ(im.im_w, 16);
	ASSERT_INT_EQ(im.im_h, 8);
	ASSERT_INT_LE(max_abs_diff(im.im_px, src, 16 * 8 * 3), 8);
	image_free(&im);
	tjFree(jpg);
	TEST_DONE();

	TEST_START("decode JPEG progressive 4:2:0");
	jpg = jpeg_encode(src, 16, 8, TJPF_RGB, TJSAMP_420, 95,
	    TJFLAG_PROGRESSIVE, &len);
	r = image_decode(jpg, len, NULL, &im, err, sizeof(err));
	ASSERT_INT_EQ(r, 0);
	ASSERT_INT_LE(max_abs_diff(im.im_px, src, 16 * 8 * 3), 40);
	image_free(&im);
	tjFree(jpg);
	free(src);
	TEST_DONE();

	TEST_START("decode JPEG gray replicates");
	for (i = 0; i < sizeof(gray); i++)
		gray[i] = (uint8_t)(i * 2);
	jpg = jpeg_encode(gray, 16, 8, TJPF_GRAY, TJSAMP_GRAY, 100, 0, &len);
	r = image_decode(jpg, len, NULL, &im, err, sizeof(err));
	ASSERT_INT_EQ(r, 0);
	for (i = 0; i < sizeof(gray); i++) {
		ASSERT_INT_EQ(im.im_px[3 * i], im.im_px[3 * i + 1]);
		ASSERT_INT_EQ(im.im_px[3 * i], im.im_px[3 * i + 2]);
		ASSERT_INT_LE(abs(im.im_px[3 * i] - gray[i]), 3);
	}
	image_free(&im);
	tjFree(jpg);
	TEST_DONE();

	/*
	 * Stored (Adobe-inverted) C=255 M=0 Y=128 K=255 means C=0, M=255,
	 * Y=127, K=0: R = 255, G = 0, B = 255 - 127 = 128.  TurboJPEG writes
	 * YCCK from CMYK pixels, which exercises libjpeg's conversion too.
	 */
	TEST_START("decode JPEG CMYK/YCCK as Pillow does");
	for (i = 0; i < 8 * 8; i++) {
		cmyk[4 * i] = 255;
		cmyk[4 * i + 1] = 0;
		cmyk[4 * i + 2] = 128;
		cmyk[4 * i + 3] = 255;
	}
	want[0] = 255;
	want[1] = 0;
	want[2] = 128;
	jpg = jpeg_encode(cmyk, 8, 8, TJPF_CMYK, TJSAMP_444, 100, 0, &len);
	r = image_decode(jpg, len, NULL, &im, err, sizeof(err));
	ASSERT_INT_EQ(r, 0);
	for (i = 0; i < 8 * 8; i++)
		ASSERT_INT_LE(max_abs_diff(im.im_px + 3 * i, want, 3), 2);
	image_free(&im);
	tjFree(jpg);
	TEST_DONE();
}

/* ==== Limits ==== */

static void
test_limits(void)
{
	struct image_limits lim;
	struct image im;
	uint8_t *src, *png, *jpg;
	size_t len;
	char err[256];
	double t0;
	int r;

	TEST_START("limits: defaults");
	image_limits_default(&lim);
	ASSERT_INT_EQ(lim.max_side, IMAGE_MAX_SIDE_DEFAULT);
	ASSERT_INT_EQ(lim.max_pixels, IMAGE_MAX_PIXELS_DEFAULT);
	TEST_DONE();

	src = pattern(7, 5);
	png = png_encode(src, 7 * 5 * 3, 7, 5, SPNG_COLOR_TYPE_TRUECOLOR, 8,
	    0, NULL, &len);

	TEST_START("limits: side and pixel count");
	lim.max_side = 6;
	lim.max_pixels = 1000;
	r = image_decode(png, len, &lim, &im, err, sizeof(err));
	ASSERT_INT_EQ(r, AG_ERR_TOO_LARGE);
	ASSERT_TRUE(image_is_zeroed(&im));
	lim.max_side = 7;
	lim.max_pixels = 34;
	r = image_decode(png, len, &lim, &im, err, sizeof(err));
	ASSERT_INT_EQ(r, AG_ERR_TOO_LARGE);
	lim.max_pixels = 35;
	r = image_decode(png, len, &lim, &im, err, sizeof(err));
	ASSERT_INT_EQ(r, 0);
	image_free(&im);
	TEST_DONE();

	/*
	 * A 100000 x 100000 header over a few bytes of data: refused from the
	 * header alone (30 GB would be needed otherwise), and fast.
	 */
	TEST_START("limits: huge PNG header refused before decoding");
	png_patch_size(png, 100000, 100000);
	t0 = ag_now();
	r = image_decode(png, len, NULL, &im, err, sizeof(err));
	ASSERT_INT_EQ(r, AG_ERR_TOO_LARGE);
	ASSERT_TRUE(image_is_zeroed(&im));
	/* Past libspng's own side limit too: our pixel count check. */
	lim.max_side = 200000;
	lim.max_pixels = IMAGE_MAX_PIXELS_DEFAULT;
	r = image_decode(png, len, &lim, &im, err, sizeof(err));
	ASSERT_INT_EQ(r, AG_ERR_TOO_LARGE);
	ASSERT_STRING_CONTAINS(err, "100000x100000");
	ASSERT_DBL_LE(ag_now() - t0, 0.5);
	TEST_DONE();

	TEST_START("limits: zero-size PNG refused");
	png_patch_size(png, 0, 5);
	r = image_decode(png, len, NULL, &im, err, sizeof(err));
	ASSERT_INT_NE(r, 0);
	ASSERT_TRUE(image_is_zeroed(&im));
	free(png);
	TEST_DONE();

	TEST_START("limits: huge JPEG header refused before decoding");
	jpg = jpeg_encode(src, 7, 5, TJPF_RGB, TJSAMP_420, 90, 0, &len);
	ASSERT_INT_EQ(jpeg_patch_size(jpg, len, 60000, 60000), 0);
	t0 = ag_now();
	r = image_decode(jpg, len, NULL, &im, err, sizeof(err));
	ASSERT_INT_EQ(r, AG_ERR_TOO_LARGE);
	ASSERT_TRUE(image_is_zeroed(&im));
	ASSERT_DBL_LE(ag_now() - t0, 0.5);
	ASSERT_INT_EQ(jpeg_patch_size(jpg, len, 9000, 4), 0);
	r = image_decode(jpg, len, NULL, &im, err, sizeof(err));
	ASSERT_INT_EQ(r, AG_ERR_TOO_LARGE);
	ASSERT_INT_EQ(jpeg_patch_size(jpg, len, 7, 0), 0);
	r = image_decode(jpg, len, NULL, &im, err, sizeof(err));
	ASSERT_INT_NE(r, 0);
	ASSERT_TRUE(image_is_zeroed(&im));
	tjFree(jpg);
	free(src);
	TEST_DONE();
}

/* ==== Broken input ==== */

/* Every prefix shorter than must_fail bytes has to be refused. */
static void
truncate_all(const uint8_t *data, size_t len, size_t must_fail)
{
	struct image im;
	uint8_t *copy;
	char err[256];
	size_t cut;
	int r;

	for (cut = 0; cut < len; cut++) {
		/* A copy of exactly cut bytes, so ASan sees any over-read. */
		if ((copy = malloc(cut ? cut : 1)) == NULL)
			abort();
		memcpy(copy, data, cut);
		err[0] = '\0';
		r = image_decode(copy, cut, NULL, &im, err, sizeof(err));
		if (cut < must_fail) {
			if (r == 0)
				fprintf(stderr, "prefix of %zu/%zu decoded\n",
				    cut, len);
			ASSERT_INT_NE(r, 0);
		}
		if (r != 0) {
			if (r != AG_ERR_IMAGE && r != AG_ERR_TRUNCATED &&
			    r != AG_ERR_UNSUPPORTED)
				fprintf(stderr, "prefix of %zu/%zu: %d %s\n",
				    cut, len, r, err);
			ASSERT_TRUE(r == AG_ERR_IMAGE ||
			    r == AG_ERR_TRUNCATED || r == AG_ERR_UNSUPPORTED);
			ASSERT_TRUE(err[0] != '\0');
			ASSERT_TRUE(image_is_zeroed(&im));
		}
		image_free(&im);
		free(copy);
	}
}

/* XORs every byte in turn; whatever comes back, nothing may crash. */
static void
mutate_all(const uint8_t *data, size_t len)
{
	struct image im;
	uint8_t *copy;
	char err[256];
	size_t i;
	int r;

	if ((copy = malloc(len)) == NULL)
		abort();
	for (i = 0; i < len; i++) {
		memcpy(copy, data, len);
		copy[i] ^= (uint8_t)(0x55 + i);
		r = image_decode(copy, len, NULL, &im, err, sizeof(err));
		if (r != 0)
			ASSERT_TRUE(image_is_zeroed(&im));
		else
			ASSERT_TRUE(im.im_px != NULL && im.im_w > 0);
		image_free(&im);
	}
	free(copy);
}

static void
test_broken(void)
{
	struct image im;
	uint8_t *src, *png, *jpg, junk[4096];
	size_t len, i;
	char err[256];
	int r;

	src = pattern(40, 24);

	TEST_START("truncated PNG at every length");
	png = png_encode(src, 40 * 24 * 3, 40, 24, SPNG_COLOR_TYPE_TRUECOLOR,
	    8, 0, NULL, &len);
	/* Cutting into the final IEND chunk alone may pass, as in Pillow. */
	truncate_all(png, len, len - 12);
	free(png);
	png = png_encode(src, 40 * 24 * 3, 40, 24, SPNG_COLOR_TYPE_TRUECOLOR,
	    8, SPNG_INTERLACE_ADAM7, NULL, &len);
	truncate_all(png, len, len - 12);
	TEST_DONE();

	TEST_START("corrupted PNG bytes");
	mutate_all(png, len);
	/* A flipped bit inside the image data is caught by the CRC. */
	png[len / 2] ^= 1;
	r = image_decode(png, len, NULL, &im, err, sizeof(err));
	ASSERT_INT_EQ(r, AG_ERR_IMAGE);
	free(png);
	TEST_DONE();

	TEST_START("truncated JPEG at every length");
	jpg = jpeg_encode(src, 40, 24, TJPF_RGB, TJSAMP_420, 90, 0, &len);
	truncate_all(jpg, len, len);
	tjFree(jpg);
	jpg = jpeg_encode(src, 40, 24, TJPF_RGB, TJSAMP_444, 90,
	    TJFLAG_PROGRESSIVE, &len);
	truncate_all(jpg, len, len);
	TEST_DONE();

	TEST_START("truncated JPEG says so");
	r = image_decode(jpg, len - 40, NULL, &im, err, sizeof(err));
	ASSERT_INT_EQ(r, AG_ERR_TRUNCATED);
	ASSERT_STRING_CONTAINS(err, "Premature end");
	TEST_DONE();

	TEST_START("corrupted JPEG bytes");
	mutate_all(jpg, len);
	tjFree(jpg);
	TEST_DONE();

	TEST_START("garbage and empty input");
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)((i * 2654435761u) >> 13);
	r = image_decode(junk, sizeof(junk), NULL, &im, err, sizeof(err));
	ASSERT_INT_EQ(r, AG_ERR_UNSUPPORTED);
	ASSERT_STRING_EQ(err, "not a JPEG or PNG image");
	ASSERT_TRUE(image_is_zeroed(&im));
	r = image_decode(junk, 0, NULL, &im, err, sizeof(err));
	ASSERT_INT_EQ(r, AG_ERR_IMAGE);
	r = image_decode(NULL, 0, NULL, &im, err, sizeof(err));
	ASSERT_INT_EQ(r, AG_ERR_IMAGE);
	r = image_decode(NULL, 0, NULL, &im, NULL, 0);
	ASSERT_INT_EQ(r, AG_ERR_IMAGE);
	/* A right signature followed by junk. */
	junk[0] = 0xff;
	junk[1] = 0xd8;
	junk[2] = 0xff;
	r = image_decode(junk, sizeof(junk), NULL, &im, err, sizeof(err));
	ASSERT_INT_EQ(r, AG_ERR_IMAGE);
	ASSERT_TRUE(image_is_zeroed(&im));
	memcpy(junk, "\x89PNG\r\n\x1a\n", 8);
	r = image_decode(junk, sizeof(junk), NULL, &im, err, sizeof(err));
	ASSERT_TRUE(r == AG_ERR_IMAGE || r == AG_ERR_TRUNCATED);
	ASSERT_TRUE(image_is_zeroed(&im));
	r = image_decode(junk, 3, NULL, &im, err, sizeof(err));
	ASSERT_INT_EQ(r, AG_ERR_TRUNCATED);
	/* TurboJPEG calls this a header without complaint; we do not. */
	r = image_decode((const uint8_t *)"\xff\xd8\xff\xe0", 4, NULL, &im,
	    err, sizeof(err));
	ASSERT_INT_EQ(r, AG_ERR_TRUNCATED);
	ASSERT_TRUE(image_is_zeroed(&im));
	/* GIF and BMP are valid images, but not ours. */
	r = image_decode((const uint8_t *)"GIF89a\1\0\1\0", 10, NULL, &im,
	    err, sizeof(err));
	ASSERT_INT_EQ(r, AG_ERR_UNSUPPORTED);
	TEST_DONE();

	free(src);
}

static void
test_decode_file(void)
{
	struct image im;
	uint8_t *src, *png;
	size_t len;
	char path[512], err[512];
	FILE *f;
	int r;

	TEST_START("decode file");
	src = pattern(9, 4);
	png = png_encode(src, 9 * 4 * 3, 9, 4, SPNG_COLOR_TYPE_TRUECOLOR, 8,
	    0, NULL, &len);
	snprintf(path, sizeof(path), "%s/ok.png", test_tmpdir());
	ASSERT_TRUE((f = fopen(path, "wb")) != NULL);
	ASSERT_INT_EQ(fwrite(png, 1, len, f), len);
	fclose(f);
	r = image_decode_file(path, NULL, &im, err, sizeof(err));
	ASSERT_INT_EQ(r, 0);
	ASSERT_MEM_EQ(im.im_px, src, 9 * 4 * 3);
	image_free(&im);

	snprintf(path, sizeof(path), "%s/bad.jpg", test_tmpdir());
	ASSERT_TRUE((f = fopen(path, "wb")) != NULL);
	ASSERT_INT_EQ(fwrite(png, 1, len / 2, f), len / 2);
	fclose(f);
	r = image_decode_file(path, NULL, &im, err, sizeof(err));
	ASSERT_INT_NE(r, 0);
	ASSERT_STRING_CONTAINS(err, path);
	ASSERT_TRUE(image_is_zeroed(&im));

	snprintf(path, sizeof(path), "%s/missing.png", test_tmpdir());
	r = image_decode_file(path, NULL, &im, err, sizeof(err));
	ASSERT_INT_EQ(r, AG_ERR_NOT_FOUND);
	ASSERT_STRING_CONTAINS(err, path);
	free(png);
	free(src);
	TEST_DONE();
}

/* ==== Resize and crop ==== */

/* An image of w x h with pixel (x, y) = f(x, y) in each channel. */
static struct image
make_image(uint32_t w, uint32_t h, int kind)
{
	struct image im;
	uint32_t x, y;
	uint8_t v;

	im.im_w = w;
	im.im_h = h;
	if ((im.im_px = malloc((size_t)w * h * 3)) == NULL)
		abort();
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			switch (kind) {
			case 0:		/* constant */
				im.im_px[(y * w + x) * 3] = 10;
				im.im_px[(y * w + x) * 3 + 1] = 128;
				im.im_px[(y * w + x) * 3 + 2] = 250;
				continue;
			case 1:		/* row index, column index */
				im.im_px[(y * w + x) * 3] = (uint8_t)y;
				im.im_px[(y * w + x) * 3 + 1] = (uint8_t)x;
				im.im_px[(y * w + x) * 3 + 2] = 7;
				continue;
			default:	/* steps of 70 across */
				v = (uint8_t)(70 * (x % 4));
				break;
			}
			im.im_px[(y * w + x) * 3] = v;
			im.im_px[(y * w + x) * 3 + 1] = v;
			im.im_px[(y * w + x) * 3 + 2] = v;
		}
	return im;
}

static void
test_resize_crop(void)
{
	struct image im;
	uint8_t *out;
	char err[256];
	size_t i;
	int r, x, y;

	if ((out = malloc(4096 * 3 * 4)) == NULL)
		abort();

	TEST_START("resize: constant image stays constant");
	im = make_image(300, 200, 0);
	r = image_resize_crop(&im, 256, 32, 32, out, err, sizeof(err));
	ASSERT_INT_EQ(r, 0);
	for (i = 0; i < 32 * 32; i++) {
		ASSERT_INT_EQ(out[3 * i], 10);
		ASSERT_INT_EQ(out[3 * i + 1], 128);
		ASSERT_INT_EQ(out[3 * i + 2], 250);
	}
	/* Upscaling as well. */
	r = image_resize_crop(&im, 1000, 40, 30, out, err, sizeof(err));
	ASSERT_INT_EQ(r, 0);
	for (i = 0; i < 40 * 30; i++)
		ASSERT_INT_EQ(out[3 * i + 2], 250);
	image_free(&im);
	TEST_DONE();

	TEST_START("resize: extreme aspect ratio, crop only computed");
	/* 1 x 8192 resized to 256 x 2097152: only the crop is made. */
	im = make_image(1, 8192, 0);
	r = image_resize_crop(&im, 256, 64, 64, out, err, sizeof(err));
	ASSERT_INT_EQ(r, 0);
	for (i = 0; i < 64 * 64; i++)
		ASSERT_INT_EQ(out[3 * i + 1], 128);
	image_free(&im);
	TEST_DONE();

	TEST_START("resize: identity when sizes are equal");
	im = make_image(16, 20, 1);
	/* Shorter side 16 already: no resize; crop 16x18 from the middle. */
	r = image_resize_crop(&im, 16, 16, 18, out, err, sizeof(err));
	ASSERT_INT_EQ(r, 0);
	for (y = 0; y < 18; y++)
		ASSERT_MEM_EQ(out + y * 16 * 3, im.im_px + (y + 1) * 16 * 3,
		    16 * 3);
	image_free(&im);
	TEST_DONE();

	/*
	 * torchvision: top = int(round((h - crop) / 2.0)), Python's round
	 * sends halves to even: 37/2 = 18.5 -> 18, 35/2 = 17.5 -> 18,
	 * 33/2 = 16.5 -> 16, 39/2 = 19.5 -> 20.
	 */
	TEST_START("crop offsets round half to even");
	{
		static const int hs[4] = { 37, 35, 33, 39 };
		static const int tops[4] = { 18, 18, 16, 20 };
		int k;

		for (k = 0; k < 4; k++) {
			im = make_image(10, 10 + (uint32_t)hs[k], 1);
			r = image_resize_crop(&im, 10, 10, 10, out, err,
			    sizeof(err));
			ASSERT_INT_EQ(r, 0);
			ASSERT_INT_EQ(out[0], tops[k]);
			ASSERT_INT_EQ(out[1], 0);
			image_free(&im);
			/* The same sideways. */
			im = make_image(10 + (uint32_t)hs[k], 10, 1);
			r = image_resize_crop(&im, 10, 10, 10, out, err,
			    sizeof(err));
			ASSERT_INT_EQ(r, 0);
			ASSERT_INT_EQ(out[1], tops[k]);
			ASSERT_INT_EQ(out[0], 0);
			image_free(&im);
		}
	}
	TEST_DONE();

	/*
	 * 5x3 kept at 5x3 (shorter side 3 = resize), cropped to 8x6: padded
	 * (8 - 5) // 2 = 1 left and (6 - 3) // 2 = 1 on top with zeros.
	 */
	TEST_START("crop larger than the image pads with zeros");
	im = make_image(5, 3, 1);
	r = image_resize_crop(&im, 3, 8, 6, out, err, sizeof(err));
	ASSERT_INT_EQ(r, 0);
	for (y = 0; y < 6; y++)
		for (x = 0; x < 8; x++) {
			const uint8_t *p = out + (y * 8 + x) * 3;

			if (x >= 1 && x < 6 && y >= 1 && y < 4) {
				ASSERT_INT_EQ(p[0], y - 1);
				ASSERT_INT_EQ(p[1], x - 1);
				ASSERT_INT_EQ(p[2], 7);
			} else
				ASSERT_TRUE(p[0] == 0 && p[1] == 0 &&
				    p[2] == 0);
		}
	/* Wider only: pad the width, crop the height (3 -> 2, top 0). */
	r = image_resize_crop(&im, 3, 7, 2, out, err, sizeof(err));
	ASSERT_INT_EQ(r, 0);
	ASSERT_INT_EQ(out[0 * 3 + 2], 0);	/* padding at x = 0 */
	ASSERT_INT_EQ(out[1 * 3 + 2], 7);	/* image from x = 1 */
	ASSERT_INT_EQ(out[1 * 3 + 0], 0);	/* row 0 */
	ASSERT_INT_EQ(out[(7 + 1) * 3 + 0], 1);	/* row 1 */
	ASSERT_INT_EQ(out[6 * 3 + 2], 0);	/* padding at x = 6 */
	image_free(&im);
	TEST_DONE();

	/*
	 * 4 -> 2 halves with the stretched triangle: taps 3/7 3/7 1/7 and
	 * 1/7 3/7 3/7.  Row 0 70 140 210 gives 350/7 = 50, 1120/7 = 160.
	 */
	TEST_START("resize: 2x antialiased shrink of a known row");
	im = make_image(4, 4, 2);
	r = image_resize_crop(&im, 2, 2, 2, out, err, sizeof(err));
	ASSERT_INT_EQ(r, 0);
	{
		static const uint8_t want[2 * 2 * 3] = {
			50, 50, 50,  160, 160, 160,
			50, 50, 50,  160, 160, 160,
		};
		ASSERT_MEM_EQ(out, want, sizeof(want));
	}
	image_free(&im);
	TEST_DONE();

	TEST_START("resize: argument checks");
	im = make_image(8, 8, 0);
	ASSERT_INT_EQ(image_resize_crop(&im, 0, 4, 4, out, err, sizeof(err)),
	    AG_ERR_INVALID_ARG);
	ASSERT_INT_EQ(image_resize_crop(&im, 8, 0, 4, out, err, sizeof(err)),
	    AG_ERR_INVALID_ARG);
	ASSERT_INT_EQ(image_resize_crop(&im, 8, 4, -1, out, err, sizeof(err)),
	    AG_ERR_INVALID_ARG);
	ASSERT_INT_EQ(image_resize_crop(&im, 8, 4097, 4, out, err,
	    sizeof(err)), AG_ERR_INVALID_ARG);
	ASSERT_INT_EQ(image_resize_crop(NULL, 8, 4, 4, out, err, sizeof(err)),
	    AG_ERR_INVALID_ARG);
	ASSERT_INT_EQ(image_resize_crop(&im, 8, 4, 4, NULL, err, sizeof(err)),
	    AG_ERR_INVALID_ARG);
	im.im_w = 0;
	ASSERT_INT_EQ(image_resize_crop(&im, 8, 4, 4, out, err, sizeof(err)),
	    AG_ERR_INVALID_ARG);
	im.im_w = 8;
	/* 4096 is allowed. */
	ASSERT_INT_EQ(image_resize_crop(&im, 8, 4096, 4, out, err,
	    sizeof(err)), 0);
	image_free(&im);
	TEST_DONE();

	free(out);
}

/* ==== ToTensor + Normalize ==== */

static void
test_to_tensor(void)
{
	static const float mean[3] = { 0.485f, 0.456f, 0.406f };
	static const float std[3] = { 0.229f, 0.224f, 0.225f };
	static const float half[3] = { 0.5f, 0.5f, 0.5f };
	uint8_t px[2 * 3 * 3];
	float out[3 * 2 * 3], want;
	int c, i;

	TEST_START("to_tensor: layout and values");
	for (i = 0; i < 2 * 3 * 3; i++)
		px[i] = (uint8_t)(i * 15);
	image_to_tensor(px, 3, 2, mean, std, out);
	for (c = 0; c < 3; c++)
		for (i = 0; i < 6; i++) {
			/* (c, y, x) from (y, x, c), torchvision's float ops */
			want = ((float)px[3 * i + c] / 255.0f - mean[c]) /
			    std[c];
			ASSERT_TRUE(memcmp(&out[c * 6 + i], &want,
			    sizeof(want)) == 0);
		}
	/* Exact anchors: 0 -> -1, 255 -> 1 with mean = std = 0.5. */
	px[0] = 0;
	px[1] = 255;
	image_to_tensor(px, 3, 2, half, half, out);
	ASSERT_TRUE(out[0] == -1.0f);
	ASSERT_TRUE(out[6] == 1.0f);
	TEST_DONE();

	/*
	 * Big enough for the vectorised loop (the CPU's choice: AVX2 where
	 * there is one) and an odd tail, every byte value in every channel:
	 * the same bits as the scalar formula.
	 */
	TEST_START("to_tensor: 37x29, every byte value, bit for bit");
	{
		enum { W = 37, H = 29, N = W * H };
		static uint8_t big[N * 3];
		static float got[3 * N];

		for (i = 0; i < N * 3; i++)
			big[i] = (uint8_t)((i * 7 + i / 3) & 0xff);
		image_to_tensor(big, W, H, mean, std, got);
		for (c = 0; c < 3; c++)
			for (i = 0; i < N; i++) {
				want = ((float)big[3 * i + c] / 255.0f -
				    mean[c]) / std[c];
				ASSERT_TRUE(memcmp(&got[c * N + i], &want,
				    sizeof(want)) == 0);
			}
	}
	TEST_DONE();
}

void
tests(void)
{
	test_plan(34);
	test_decode_png();
	test_decode_jpeg();
	test_limits();
	test_broken();
	test_decode_file();
	test_resize_crop();
	test_to_tensor();
}
