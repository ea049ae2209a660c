/* SPDX-License-Identifier: ISC */
/*
 * engine-run: runs the engine on raw float32 input, for the comparison with
 * PyTorch and for the benchmark.
 *
 * usage: engine-run [--model DIR] [--threads N] [--batch N] [--height H]
 *            [--width W] [--input FILE] [--output FILE] [--repeat R]
 *            [--warmup W] [--image FILE] [--mdwe]
 *
 * --input: (batch, 3, H, W) float32, native byte order; without it a seeded
 * pseudo-random input is used.  --output: writes (batch, classes) logits.
 * --repeat: times R forward passes after W warm-up ones and prints the
 * median, min and p90 latency in ms.  --image: each pass, warm-ups and timed
 * ones alike, first makes its input from FILE (JPEG or PNG, read into
 * memory once) the way the server's classify does: decode, the model's
 * resize and centre crop, the tensor conversion, once per image of the
 * batch; the latency then covers the image work and the forward pass, and
 * "image_ms" the image work alone.  --mdwe: PR_SET_MDWE first, and fail
 * if W^X memory can still be mapped afterwards.
 */
#include <sys/mman.h>

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "engine/resnet.h"
#include "image/image.h"
#include "model/model.h"

/* The image work of one pass: x[0..batch) from the encoded image. */
static void
make_input(const struct model *md, const uint8_t *buf, size_t len,
    long batch, long h, long w, uint8_t *px, float *x)
{
	struct image im;
	char err[512];
	long b;

	for (b = 0; b < batch; b++) {
		if (image_decode(buf, len, NULL, &im, err, sizeof(err)) != 0)
			fatalx("image: %s", err);
		if (image_resize_crop(&im, md->md_conf.mc_resize, (int)w,
		    (int)h, px, err, sizeof(err)) != 0)
			fatalx("image: %s", err);
		image_free(&im);
		image_to_tensor(px, (int)w, (int)h, md->md_conf.mc_mean,
		    md->md_conf.mc_std, x + (size_t)b * 3 * h * w);
	}
}

static int
cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
apply_mdwe(void)
{
	void *p;

	if (ag_mdwe_enable() != 0)
		fatal("prctl(PR_SET_MDWE)");
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED)
		fatalx("MDWE is not in force: a W+X mapping succeeded");
	printf("mdwe=on\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "threads", required_argument, NULL, 't' },
		{ "batch", required_argument, NULL, 'b' },
		{ "height", required_argument, NULL, 'H' },
		{ "width", required_argument, NULL, 'W' },
		{ "input", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "image", required_argument, NULL, 'I' },
		{ "mdwe", no_argument, NULL, 'M' },
		{ NULL, 0, NULL, 0 },
	};
	char dir[PATH_MAX], err[512];
	const char *model = NULL, *input = NULL, *output = NULL;
	const char *image = NULL;
	uint8_t *ibuf = NULL, *px = NULL;
	size_t ilen = 0;
	double *ti;
	long threads = 2, batch = 1, h = 224, w = 224, repeat = 0, warm = 3;
	long *lp, v;
	struct model *md;
	struct resnet_ws *ws;
	float *x, *y;
	double *t;
	size_t nin, nout, i;
	int ch, mdwe = 0, classes;
	FILE *fp;

	log_init("engine-run", LOG_LVL_INFO);
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		lp = NULL;
		switch (ch) {
		case 'm': model = optarg; break;
		case 'i': input = optarg; break;
		case 'o': output = optarg; break;
		case 'I': image = optarg; break;
		case 'M': mdwe = 1; break;
		case 't': lp = &threads; break;
		case 'b': lp = &batch; break;
		case 'H': lp = &h; break;
		case 'W': lp = &w; break;
		case 'r': lp = &repeat; break;
		case 'w': lp = &warm; break;
		default: exit(2);
		}
		if (lp != NULL) {
			if (ag_parse_long(optarg, 0, 100000, &v) != 0)
				fatalx("bad number: %s", optarg);
			*lp = v;
		}
	}
	if (mdwe)
		apply_mdwe();
	if (model == NULL) {
		if (model_default_dir(dir, sizeof(dir)) != 0)
			fatalx("no default model; give --model");
		model = dir;
	}
	resnet_set_threads((int)threads);
	if (model_load(model, &md, err, sizeof(err)) != 0)
		fatalx("%s", err);
	classes = md->md_conf.mc_classes;
	if (resnet_ws_new(md->md_net, (int)batch, (int)h, (int)w, &ws, err,
	    sizeof(err)) != 0)
		fatalx("%s", err);
	nin = (size_t)batch * 3 * h * w;
	nout = (size_t)batch * classes;
	if ((x = malloc(nin * sizeof(*x))) == NULL ||
	    (y = malloc(nout * sizeof(*y))) == NULL)
		fatalx("out of memory");
	if (image != NULL) {
		if (input != NULL)
			fatalx("--image and --input exclude each other");
		if (ag_read_file(image, (size_t)64 << 20, &ibuf, &ilen, err,
		    sizeof(err)) != 0)
			fatalx("%s", err);
		if ((px = malloc((size_t)h * w * 3)) == NULL)
			fatalx("out of memory");
		make_input(md, ibuf, ilen, batch, h, w, px, x);
	} else if (input != NULL) {
		if ((fp = fopen(input, "rb")) == NULL)
			fatal("%s", input);
		if (fread(x, sizeof(*x), nin, fp) != nin)
			fatalx("%s: shorter than %zu floats", input, nin);
		fclose(fp);
	} else {
		uint32_t s = 12345;

		for (i = 0; i < nin; i++) {
			s = s * 1664525u + 1013904223u;
			x[i] = (float)((s >> 8) & 0xffff) / 32768.0f - 1.0f;
		}
	}
	if (resnet_forward(md->md_net, ws, x, (int)batch, y) != 0)
		fatalx("forward failed");
	if (output != NULL) {
		if ((fp = fopen(output, "wb")) == NULL)
			fatal("%s", output);
		if (fwrite(y, sizeof(*y), nout, fp) != nout || fclose(fp) != 0)
			fatal("%s", output);
	}
	if (repeat > 0) {
		if ((t = calloc((size_t)repeat, sizeof(*t))) == NULL ||
		    (ti = calloc((size_t)repeat, sizeof(*ti))) == NULL)
			fatalx("out of memory");
		for (i = 0; i < (size_t)warm; i++) {
			if (image != NULL)
				make_input(md, ibuf, ilen, batch, h, w, px, x);
			resnet_forward(md->md_net, ws, x, (int)batch, y);
		}
		for (i = 0; i < (size_t)repeat; i++) {
			double t0 = ag_now(), t1;

			if (image != NULL)
				make_input(md, ibuf, ilen, batch, h, w, px, x);
			t1 = ag_now();
			resnet_forward(md->md_net, ws, x, (int)batch, y);
			t[i] = (ag_now() - t0) * 1e3;
			ti[i] = (t1 - t0) * 1e3;
		}
		qsort(t, (size_t)repeat, sizeof(*t), cmp_dbl);
		qsort(ti, (size_t)repeat, sizeof(*ti), cmp_dbl);
		printf("backend=%s threads=%ld batch=%ld size=%ldx%ld\n",
		    resnet_backend(), threads, batch, w, h);
		printf("latency_ms median=%.3f min=%.3f p90=%.3f\n",
		    t[repeat / 2], t[0], t[(size_t)(repeat * 9 / 10)]);
		if (image != NULL)
			printf("image_ms median=%.3f min=%.3f\n",
			    ti[repeat / 2], ti[0]);
		printf("throughput_img_s=%.2f\n", batch * 1e3 / t[repeat / 2]);
		free(t);
		free(ti);
	}
	resnet_ws_free(ws);
	model_free(md);
	free(x);
	free(y);
	free(px);
	free(ibuf);
	return 0;
}
