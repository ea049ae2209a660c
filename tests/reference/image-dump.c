/* SPDX-License-Identifier: ISC */
/*
 * image-dump.c: writes what the image module makes of a file, for the
 * comparison against Pillow + torchvision (preprocess-vs-pillow.sh).
 *
 *   image-dump [--resize N] [--crop-w N] [--crop-h N] [--raw-decoded]
 *       [--tensor] IMAGE OUTFILE
 *
 * By default OUTFILE gets the (crop_h, crop_w, 3) uint8 result of
 * image_decode_file() + image_resize_crop() (resize 256, crop 224x224),
 * with no header.  --raw-decoded writes the decoded (h, w, 3) image
 * instead and prints "W H" on stdout.  --tensor writes the (3, crop_h,
 * crop_w) float32 result of image_to_tensor() with the ImageNet mean and
 * std, in host byte order.  Exits 1 with a message naming the file on any
 * error, 2 on a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ag_err.h"
#include "common/util.h"
#include "image/image.h"

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: image-dump [--resize N] [--crop-w N] "
	    "[--crop-h N] [--raw-decoded] [--tensor] IMAGE OUTFILE\n");
	exit(2);
}

static int
write_all(const char *path, const void *buf, size_t len)
{
	FILE *f;
	int ok;

	if ((f = fopen(path, "wb")) == NULL) {
		fprintf(stderr, "image-dump: %s: cannot create\n", path);
		return -1;
	}
	ok = fwrite(buf, 1, len, f) == len;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok) {
		fprintf(stderr, "image-dump: %s: write failed\n", path);
		return -1;
	}
	return 0;
}

static int
int_arg(const char *s)
{
	long v;

	/* Wide on purpose: the library's own range checks are under test. */
	if (ag_parse_long(s, -1000000, 1000000, &v) != 0)
		usage();
	return (int)v;
}

int
main(int argc, char **argv)
{
	static const float mean[3] = { 0.485f, 0.456f, 0.406f };
	static const float std[3] = { 0.229f, 0.224f, 0.225f };
	struct image_limits lim;
	struct image im = { 0 };
	uint8_t *px = NULL;
	float *t = NULL;
	size_t n;
	char err[512];
	int i, r, resize = 256, cw = 224, ch = 224, raw = 0, tensor = 0;
	int rc = 1;

	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (strcmp(argv[i], "--raw-decoded") == 0)
			raw = 1;
		else if (strcmp(argv[i], "--tensor") == 0)
			tensor = 1;
		else if (i + 1 < argc && strcmp(argv[i], "--resize") == 0)
			resize = int_arg(argv[++i]);
		else if (i + 1 < argc && strcmp(argv[i], "--crop-w") == 0)
			cw = int_arg(argv[++i]);
		else if (i + 1 < argc && strcmp(argv[i], "--crop-h") == 0)
			ch = int_arg(argv[++i]);
		else
			usage();
	}
	if (argc - i != 2 || (raw && tensor))
		usage();

	image_limits_default(&lim);
	if ((r = image_decode_file(argv[i], &lim, &im, err,
	    sizeof(err))) != 0) {
		fprintf(stderr, "image-dump: %s (%s)\n", err, ag_strerror(r));
		goto out;
	}
	if (raw) {
		n = (size_t)im.im_w * im.im_h * 3;
		if (write_all(argv[i + 1], im.im_px, n) != 0)
			goto out;
		printf("%u %u\n", im.im_w, im.im_h);
		rc = 0;
		goto out;
	}
	/*
	 * Sizes out of the library's range (1..4096) are passed on so that
	 * its refusal can be seen; the buffer is then a token one.
	 */
	if (cw < 1 || ch < 1 || cw > 4096 || ch > 4096)
		n = 3;
	else
		n = (size_t)cw * (size_t)ch * 3;
	if ((px = malloc(n)) == NULL) {
		fprintf(stderr, "image-dump: %s: out of memory\n", argv[i]);
		goto out;
	}
	if ((r = image_resize_crop(&im, resize, cw, ch, px, err,
	    sizeof(err))) != 0) {
		fprintf(stderr, "image-dump: %s: %s (%s)\n", argv[i], err,
		    ag_strerror(r));
		goto out;
	}
	if (tensor) {
		if ((t = calloc(n, sizeof(float))) == NULL) {
			fprintf(stderr, "image-dump: %s: out of memory\n",
			    argv[i]);
			goto out;
		}
		image_to_tensor(px, cw, ch, mean, std, t);
		if (write_all(argv[i + 1], t, n * sizeof(float)) != 0)
			goto out;
	} else if (write_all(argv[i + 1], px, n) != 0)
		goto out;
	rc = 0;
 out:
	free(t);
	free(px);
	image_free(&im);
	return rc;
}
