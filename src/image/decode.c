/* SPDX-License-Identifier: ISC */
/*
 * decode.c: JPEG (TurboJPEG) and PNG (libspng) decoding of untrusted bytes
 * into 8-bit RGB.
 *
 * This is a trust boundary: the bytes come straight from a request.  The
 * order of work is always the same: tell the format from its signature,
 * read only the header, check the dimensions against the caller's limits,
 * compute the output size with checked arithmetic, and only then allocate
 * and decode.  Library warnings are treated as errors, so a truncated or
 * damaged file is refused instead of being half-decoded.
 *
 * The pixel values are meant to equal what PIL.Image.open(f).convert("RGB")
 * gives with Pillow 9.4 (the reference the model was evaluated with):
 *   - grayscale is replicated to R = G = B, alpha is dropped without
 *     compositing, palettes are expanded and tRNS is ignored;
 *   - 16-bit RGB, RGBA and gray+alpha PNGs keep the high byte of each
 *     sample (Pillow's "RGB;16B"-style unpacking);
 *   - 16-bit grayscale PNGs are refused: Pillow opens them as 32-bit
 *     integer images and its conversion to RGB clips every value above 255,
 *     which turns almost any real image white;
 *   - CMYK and YCCK JPEGs are read as CMYK, taken to be Adobe-inverted (as
 *     Pillow always assumes), and converted with Pillow's CMYK-to-RGB rule;
 *   - EXIF orientation is not applied: Image.open() ignores it as well.
 * No gamma, ICC profile or colour management is applied by either side.
 *
 * This module does not log; it returns AG_ERR_* codes and a message.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <spng.h>
#include <turbojpeg.h>

#include "common/ag_err.h"
#include "common/util.h"
#include "image/image.h"

/*
 * The largest file image_decode_file() reads.  A PNG of the largest image
 * the default limits allow (40 Mpixel RGBA, stored) is about 160 MB; a file
 * larger than this is not a picture we want to look at.
 */
#define IMAGE_MAX_FILE_BYTES	((size_t)256 * 1024 * 1024)

/*
 * libspng's own limits.  IMAGE_PNG_CHUNK_MAX caps the length of any one
 * chunk libspng buffers (ancillary chunks are read whole); the cache limit
 * caps what all stored ancillary chunks (text, ICC profiles, unknown chunks,
 * including their inflated size) may take together.  Image data (IDAT) is
 * streamed through zlib into the output buffer we size ourselves, so these
 * do not limit the image, only the metadata a hostile file can make us hold.
 */
#define IMAGE_PNG_CHUNK_MAX	((size_t)16 * 1024 * 1024)
#define IMAGE_PNG_CACHE_MAX	((size_t)16 * 1024 * 1024)

static const uint8_t png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a,
    '\n' };
static const uint8_t jpeg_sig[3] = { 0xff, 0xd8, 0xff };

void
image_limits_default(struct image_limits *lim)
{
	lim->max_side = IMAGE_MAX_SIDE_DEFAULT;
	lim->max_pixels = IMAGE_MAX_PIXELS_DEFAULT;
}

void
image_free(struct image *im)
{
	if (im == NULL)
		return;
	free(im->im_px);
	memset(im, 0, sizeof(*im));
}

/* ==== Common checks ==== */

/*
 * Checks header dimensions against lim and computes the size of the
 * (h, w, 3) output.  Runs before any pixel is decoded or allocated.
 */
static int
check_dims(uint64_t w, uint64_t h, const struct image_limits *lim,
    size_t *outsize, char *err, size_t errlen)
{
	size_t n;

	*outsize = 0;
	if (w == 0 || h == 0)
		return ag_errf(err, errlen, AG_ERR_IMAGE,
		    "image has zero size (%llux%llu)", (unsigned long long)w,
		    (unsigned long long)h);
	if (w > lim->max_side || h > lim->max_side)
		return ag_errf(err, errlen, AG_ERR_TOO_LARGE,
		    "image is %llux%llu, each side is limited to %u pixels",
		    (unsigned long long)w, (unsigned long long)h,
		    lim->max_side);
	/* Both are at most 2^32 here, so the product cannot wrap. */
	if (w * h > lim->max_pixels)
		return ag_errf(err, errlen, AG_ERR_TOO_LARGE,
		    "image is %llux%llu, limit %llu pixels",
		    (unsigned long long)w, (unsigned long long)h,
		    (unsigned long long)lim->max_pixels);
	if (w > SIZE_MAX || h > SIZE_MAX ||
	    ag_mul_size((size_t)w, (size_t)h, &n) != 0 ||
	    ag_mul_size(n, 3, &n) != 0)
		return ag_errf(err, errlen, AG_ERR_TOO_LARGE,
		    "image is %llux%llu, too large for this system",
		    (unsigned long long)w, (unsigned long long)h);
	*outsize = n;
	return 0;
}

/* ==== JPEG ==== */

/* x * y / 255, rounded to nearest, for x, y in [0, 255]. */
static inline unsigned
mul_div255(unsigned x, unsigned y)
{
	unsigned t = x * y + 128;

	return (t + (t >> 8)) >> 8;
}

/*
 * CMYK (as stored in the file, i.e. Adobe-inverted) to RGB, in place order
 * from (n, 4) to (n, 3).  Pillow reads CMYK JPEGs with inverted polarity,
 * so its C = 255 - stored C; its conversion is then R = (255 - K) -
 * (255 - K) * C / 255 (rounded).  Written in the stored values, with
 * k = stored K = 255 - K: R = k - k * (255 - stored C) / 255.
 */
static void
cmyk_inverted_to_rgb(const uint8_t *cmyk, uint8_t *rgb, size_t n)
{
	size_t i;
	unsigned k, c;

	for (i = 0; i < n; i++) {
		k = cmyk[4 * i + 3];
		for (c = 0; c < 3; c++)
			rgb[3 * i + c] = (uint8_t)(k -
			    mul_div255(255u - cmyk[4 * i + c], k));
	}
}

static int
jpeg_errcode(const char *msg)
{
	/* libjpeg's wording for data that ends early. */
	if (strstr(msg, "Premature end") != NULL)
		return AG_ERR_TRUNCATED;
	return AG_ERR_IMAGE;
}

static int
decode_jpeg(const uint8_t *buf, size_t len, const struct image_limits *lim,
    struct image *out, char *err, size_t errlen)
{
	tjhandle tj;
	uint8_t *px = NULL, *cmyk = NULL;
	size_t outsize, npx, cmyksize;
	int w, h, subsamp, cs, cmykmode, flags, r;
	const char *msg;

	if (len > ULONG_MAX)
		return ag_errf(err, errlen, AG_ERR_TOO_LARGE,
		    "JPEG data too large");
	if ((tj = tjInitDecompress()) == NULL)
		return ag_errf(err, errlen, AG_ERR_ALLOC,
		    "cannot start the JPEG decoder: %s", tjGetErrorStr2(NULL));

	/*
	 * The header only: frame size and colour space, no pixels.  On data
	 * that ends early TurboJPEG 2.1 can return success with a warning
	 * and leave the outputs unset (libjpeg took the file for a
	 * "tables-only" stream), hence the preset values and both checks.
	 */
	w = h = subsamp = cs = -1;
	if (tjDecompressHeader3(tj, buf, (unsigned long)len, &w, &h, &subsamp,
	    &cs) != 0 || tjGetErrorCode(tj) == TJERR_WARNING) {
		msg = tjGetErrorStr2(tj);
		r = ag_errf(err, errlen, jpeg_errcode(msg),
		    "bad JPEG header: %s", msg);
		goto out;
	}
	if (w < 0 || h < 0 || cs < 0) {
		r = ag_errf(err, errlen, AG_ERR_IMAGE,
		    "JPEG header without a frame");
		goto out;
	}
	if ((r = check_dims((uint64_t)w, (uint64_t)h, lim, &outsize, err,
	    errlen)) != 0)
		goto out;
	npx = outsize / 3;

	/*
	 * Pitches are int in TurboJPEG; the widest row is 4 bytes a pixel.
	 * With the default limits this is far away, but lim is the caller's.
	 */
	if (w > INT_MAX / 4) {
		r = ag_errf(err, errlen, AG_ERR_TOO_LARGE,
		    "JPEG is %d pixels wide, too wide to decode", w);
		goto out;
	}

	/*
	 * STOPONWARNING: libjpeg "warnings" include premature end of data
	 * and corrupt entropy-coded segments; it would fill the rest of the
	 * image with grey and report success.  We refuse instead.
	 * LIMITSCANS: refuse progressive files with an absurd number of
	 * scans, a known way to burn CPU with a small file.
	 * ACCURATEDCT: the integer "islow" IDCT, libjpeg's default and what
	 * Pillow uses; TurboJPEG's default is the same, said explicitly.
	 */
	flags = TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS | TJFLAG_ACCURATEDCT;
	cmykmode = (cs == TJCS_CMYK || cs == TJCS_YCCK);

	/* Zeroed for the same reason as in decode_png(). */
	if ((px = calloc(1, outsize)) == NULL) {
		r = ag_errf(err, errlen, AG_ERR_ALLOC,
		    "out of memory for a %dx%d image", w, h);
		goto out;
	}
	if (cmykmode) {
		/* libjpeg cannot convert CMYK to RGB; take CMYK and do it. */
		if (ag_mul_size(npx, 4, &cmyksize) != 0) {
			r = ag_errf(err, errlen, AG_ERR_TOO_LARGE,
			    "JPEG is too large");
			goto out;
		}
		if ((cmyk = calloc(1, cmyksize)) == NULL) {
			r = ag_errf(err, errlen, AG_ERR_ALLOC,
			    "out of memory for a %dx%d CMYK image", w, h);
			goto out;
		}
	}
	if (tjDecompress2(tj, buf, (unsigned long)len, cmykmode ? cmyk : px,
	    w, w * (cmykmode ? 4 : 3), h, cmykmode ? TJPF_CMYK : TJPF_RGB,
	    flags) != 0) {
		msg = tjGetErrorStr2(tj);
		r = ag_errf(err, errlen, jpeg_errcode(msg),
		    "JPEG data does not decode: %s", msg);
		goto out;
	}
	if (cmykmode)
		cmyk_inverted_to_rgb(cmyk, px, npx);
	/*
	 * Belt and braces: a warning that did not stop the decoder (there
	 * should be none with STOPONWARNING) still means damaged data.
	 */
	if (tjGetErrorCode(tj) == TJERR_WARNING) {
		msg = tjGetErrorStr2(tj);
		r = ag_errf(err, errlen, jpeg_errcode(msg),
		    "JPEG data is damaged: %s", msg);
		goto out;
	}

	out->im_w = (uint32_t)w;
	out->im_h = (uint32_t)h;
	out->im_px = px;
	px = NULL;
	r = 0;
 out:
	free(cmyk);
	free(px);
	tjDestroy(tj);
	return r;
}

/* ==== PNG ==== */

static int
png_errcode(int e)
{
	switch (e) {
	case SPNG_EUSER_WIDTH:
	case SPNG_EUSER_HEIGHT:
		return AG_ERR_TOO_LARGE;
	case SPNG_EOF:
	case SPNG_IO_EOF:
		return AG_ERR_TRUNCATED;
	case SPNG_EMEM:
	case SPNG_ECHUNK_LIMITS:
		/* EMEM is also what libspng reports for our chunk limits. */
		return AG_ERR_TOO_LARGE;
	default:
		return AG_ERR_IMAGE;
	}
}

/*
 * Indexed PNG: decodes the (possibly packed) indices and expands them
 * through the palette into px (h, w, 3).  libspng would expand by itself,
 * but it maps indices past the end of a short palette to black, where
 * Pillow's palette continues as a gray ramp (entry i is (i, i, i)); such
 * files break the PNG rules, but we still mean to see what Pillow sees.
 */
static int
decode_png_indexed(spng_ctx *ctx, const struct spng_ihdr *ihdr, uint8_t *px,
    char *err, size_t errlen)
{
	struct spng_plte plte;
	uint8_t table[256][3], *idx = NULL, *row, *o;
	size_t stride, isize, want, x, y;
	unsigned depth, mask, v, i;
	int e, r;

	memset(&plte, 0, sizeof(plte));
	if ((e = spng_get_plte(ctx, &plte)) != 0)
		return ag_errf(err, errlen, png_errcode(e),
		    "indexed PNG without a usable palette: %s",
		    spng_strerror(e));
	for (i = 0; i < 256; i++) {
		if (i < plte.n_entries && plte.n_entries <= 256) {
			table[i][0] = plte.entries[i].red;
			table[i][1] = plte.entries[i].green;
			table[i][2] = plte.entries[i].blue;
		} else
			table[i][0] = table[i][1] = table[i][2] = (uint8_t)i;
	}

	depth = ihdr->bit_depth;
	if (depth != 1 && depth != 2 && depth != 4 && depth != 8)
		return ag_errf(err, errlen, AG_ERR_IMAGE,
		    "indexed PNG with bit depth %u", depth);
	mask = (1u << depth) - 1;
	/* Rows of packed indices, as in the file, without filter bytes. */
	stride = ((size_t)ihdr->width * depth + 7) / 8;
	if (ag_mul_size(stride, ihdr->height, &want) != 0)
		return ag_errf(err, errlen, AG_ERR_TOO_LARGE,
		    "indexed PNG too large");
	if ((e = spng_decoded_image_size(ctx, SPNG_FMT_PNG, &isize)) != 0)
		return ag_errf(err, errlen, png_errcode(e), "bad PNG: %s",
		    spng_strerror(e));
	if (isize != want)
		return ag_errf(err, errlen, AG_ERR_INTERNAL,
		    "PNG decoder wants %zu bytes for %zu", isize, want);
	/*
	 * Zeroed: for interlaced images below 8 bits libspng ORs each pass's
	 * pixels into the packed rows, so it needs a clean buffer.
	 */
	if ((idx = calloc(1, isize)) == NULL)
		return ag_errf(err, errlen, AG_ERR_ALLOC,
		    "out of memory for a %ux%u image", ihdr->width,
		    ihdr->height);
	if ((e = spng_decode_image(ctx, idx, isize, SPNG_FMT_PNG, 0)) != 0) {
		r = ag_errf(err, errlen, png_errcode(e),
		    "PNG data does not decode: %s", spng_strerror(e));
		goto out;
	}
	o = px;
	for (y = 0; y < ihdr->height; y++) {
		row = idx + y * stride;
		for (x = 0; x < ihdr->width; x++, o += 3) {
			/* Leftmost pixel in the high bits. */
			v = row[x * depth / 8] >>
			    (8 - depth - (unsigned)(x * depth % 8));
			memcpy(o, table[v & mask], 3);
		}
	}
	r = 0;
 out:
	free(idx);
	return r;
}

static int
decode_png(const uint8_t *buf, size_t len, const struct image_limits *lim,
    struct image *out, char *err, size_t errlen)
{
	spng_ctx *ctx;
	struct spng_ihdr ihdr;
	uint8_t *px = NULL;
	size_t outsize, spngsize;
	uint32_t side;
	int e, r;

	if ((ctx = spng_ctx_new(0)) == NULL)
		return ag_errf(err, errlen, AG_ERR_ALLOC,
		    "cannot start the PNG decoder");

	/*
	 * libspng refuses dimensions past these while it reads IHDR; its
	 * ceiling is 2^31 - 1.  Our own check below is the one that counts.
	 */
	side = lim->max_side < INT32_MAX ? lim->max_side : INT32_MAX;
	if (side == 0)
		side = 1;
	if ((e = spng_set_image_limits(ctx, side, side)) != 0 ||
	    (e = spng_set_chunk_limits(ctx, IMAGE_PNG_CHUNK_MAX,
	    IMAGE_PNG_CACHE_MAX)) != 0 ||
	    (e = spng_set_png_buffer(ctx, buf, len)) != 0) {
		r = ag_errf(err, errlen, AG_ERR_INTERNAL,
		    "cannot set up the PNG decoder: %s", spng_strerror(e));
		goto out;
	}

	if ((e = spng_get_ihdr(ctx, &ihdr)) != 0) {
		if (e == SPNG_EUSER_WIDTH || e == SPNG_EUSER_HEIGHT)
			r = ag_errf(err, errlen, AG_ERR_TOO_LARGE,
			    "PNG is larger than %u pixels a side", side);
		else
			r = ag_errf(err, errlen, png_errcode(e),
			    "bad PNG header: %s", spng_strerror(e));
		goto out;
	}
	if ((r = check_dims(ihdr.width, ihdr.height, lim, &outsize, err,
	    errlen)) != 0)
		goto out;
	if (ihdr.bit_depth == 16 &&
	    ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE) {
		/* See the top of the file: Pillow clips these to 255. */
		r = ag_errf(err, errlen, AG_ERR_UNSUPPORTED,
		    "16-bit grayscale PNG is not supported (the reference "
		    "pipeline clips it); convert it to 8 bits");
		goto out;
	}

	/*
	 * Zeroed, so that no pixel a decoder might skip could carry old heap
	 * contents into a request's result.
	 */
	if ((px = calloc(1, outsize)) == NULL) {
		r = ag_errf(err, errlen, AG_ERR_ALLOC,
		    "out of memory for a %ux%u image", ihdr.width, ihdr.height);
		goto out;
	}
	if (ihdr.color_type == SPNG_COLOR_TYPE_INDEXED) {
		if ((r = decode_png_indexed(ctx, &ihdr, px, err, errlen)) != 0)
			goto out;
		goto done;
	}

	/*
	 * SPNG_FMT_RGB8 from the other colour types: gray is replicated (bit
	 * depths below 8 scaled to 0..255), alpha and tRNS not applied,
	 * 16-bit samples reduced to their high byte.
	 */
	if ((e = spng_decoded_image_size(ctx, SPNG_FMT_RGB8, &spngsize)) != 0) {
		r = ag_errf(err, errlen, png_errcode(e), "bad PNG: %s",
		    spng_strerror(e));
		goto out;
	}
	if (spngsize != outsize) {
		r = ag_errf(err, errlen, AG_ERR_INTERNAL,
		    "PNG decoder wants %zu bytes for %zu", spngsize, outsize);
		goto out;
	}
	if ((e = spng_decode_image(ctx, px, outsize, SPNG_FMT_RGB8, 0)) != 0) {
		r = ag_errf(err, errlen, png_errcode(e),
		    "PNG data does not decode: %s", spng_strerror(e));
		goto out;
	}

 done:
	/*
	 * The pixels are complete once the zlib stream ends, but we read on
	 * to IEND so that a cut file (last CRC or IEND missing) is refused
	 * like any other truncation.  Pillow would accept those; we prefer
	 * one rule: the whole file or nothing.
	 */
	if ((e = spng_decode_chunks(ctx)) != 0) {
		r = ag_errf(err, errlen, png_errcode(e),
		    "PNG data after the image is bad: %s", spng_strerror(e));
		goto out;
	}

	out->im_w = ihdr.width;
	out->im_h = ihdr.height;
	out->im_px = px;
	px = NULL;
	r = 0;
 out:
	free(px);
	spng_ctx_free(ctx);
	return r;
}

/* ==== Entry points ==== */

int
image_decode(const uint8_t *buf, size_t len, const struct image_limits *lim,
    struct image *out, char *err, size_t errlen)
{
	struct image_limits deflim;

	if (out == NULL)
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG,
		    "no output image");
	memset(out, 0, sizeof(*out));
	if (buf == NULL && len != 0)
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG,
		    "no input buffer");
	if (lim == NULL) {
		image_limits_default(&deflim);
		lim = &deflim;
	}
	if (len == 0)
		return ag_errf(err, errlen, AG_ERR_IMAGE, "empty image data");

	if (len >= sizeof(png_sig) && memcmp(buf, png_sig,
	    sizeof(png_sig)) == 0)
		return decode_png(buf, len, lim, out, err, errlen);
	if (len >= sizeof(jpeg_sig) && memcmp(buf, jpeg_sig,
	    sizeof(jpeg_sig)) == 0)
		return decode_jpeg(buf, len, lim, out, err, errlen);

	/* A file cut inside its own signature is truncated, not foreign. */
	if ((len < sizeof(png_sig) && memcmp(buf, png_sig, len) == 0) ||
	    (len < sizeof(jpeg_sig) && memcmp(buf, jpeg_sig, len) == 0))
		return ag_errf(err, errlen, AG_ERR_TRUNCATED,
		    "image data ends inside the file signature");
	return ag_errf(err, errlen, AG_ERR_UNSUPPORTED,
	    "not a JPEG or PNG image");
}

int
image_decode_file(const char *path, const struct image_limits *lim,
    struct image *out, char *err, size_t errlen)
{
	uint8_t *buf = NULL;
	size_t len;
	char msg[256];
	int r;

	if (out == NULL || path == NULL)
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG,
		    "no path or output image");
	memset(out, 0, sizeof(*out));
	/* ag_read_file's messages already name the file. */
	if ((r = ag_read_file(path, IMAGE_MAX_FILE_BYTES, &buf, &len, err,
	    errlen)) != 0)
		return r;
	msg[0] = '\0';
	if ((r = image_decode(buf, len, lim, out, msg, sizeof(msg))) != 0)
		ag_errf(err, errlen, r, "%s: %s", path, msg);
	free(buf);
	return r;
}
