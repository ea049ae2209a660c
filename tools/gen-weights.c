/* SPDX-License-Identifier: ISC */
/*
 * gen-weights: writes a model directory with deterministic SYNTHETIC
 * ResNet weights (no trained model can be downloaded here, and none is
 * bundled).  The same seed always gives the same file for a given build.
 *
 * Convolutions are He-initialised (normal, std sqrt(2 / fan_in)).
 * BatchNorm statistics are drawn near identity (gamma ~ U(0.7, 1.3),
 * beta and running_mean ~ N(0, 0.1), running_var ~ U(0.6, 1.6)), with the
 * last BatchNorm of each residual branch scaled down (gamma ~ U(0.2, 0.5))
 * so that activations stay in range through the residual adds.  The fc
 * layer is calibrated with the engine itself: features of a few seeded
 * random inputs are measured, the fc bias centres the logits on their mean
 * feature and the weights are scaled so that logits have a standard
 * deviation of about 4 across classes: the answers are not flat and depend
 * on the image.  None of this makes the labels meaningful: the config says
 * "synthetic": true and the labels are placeholders.
 *
 * usage: gen-weights [--arch NAME] [--seed N] [--classes N] [--name NAME]
 *                    --out DIR
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ag_err.h"
#include "common/log.h"
#include "common/util.h"
#include "engine/resnet.h"
#include "model/model.h"
#include "model/st_write.h"

/* ==== Deterministic random numbers (splitmix64) ==== */

static uint64_t rng_state;

static uint64_t
rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1): the top 53 bits. */
static double
rng_unif(void)
{
	return (double)(rng_next() >> 11) * (1.0 / 9007199254740992.0);
}

static double
rng_normal(void)
{
	double u1 = rng_unif(), u2 = rng_unif();

	if (u1 < 1e-300)
		u1 = 1e-300;
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* ==== The parameter store ==== */

struct gen_param {
	struct resnet_param	 gp_p;
	float			*gp_data;
	size_t			 gp_n;
};

struct gen {
	struct gen_param	*g_params;
	size_t			 g_n;
	/* While calibrating: an identity fc of feat x feat. */
	const float		*g_fc_w, *g_fc_b;
};

static const char *
suffix(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot ? dot + 1 : name;
}

/* 1 when the BatchNorm called name closes a residual branch. */
static int
is_last_bn(const char *name, enum resnet_block_type bt)
{
	const char *want = bt == RESNET_BASIC ? ".bn2." : ".bn3.";

	return strncmp(name, "layer", 5) == 0 && strstr(name, want) != NULL;
}

static void
gen_fill(struct gen_param *gp, enum resnet_block_type bt)
{
	const struct resnet_param *p = &gp->gp_p;
	const char *sfx = suffix(p->rp_name);
	size_t i;

	if (p->rp_ndim == 4) {
		double fan_in = (double)p->rp_shape[1] * p->rp_shape[2] *
		    p->rp_shape[3], sd = sqrt(2.0 / fan_in);

		for (i = 0; i < gp->gp_n; i++)
			gp->gp_data[i] = (float)(sd * rng_normal());
		return;
	}
	for (i = 0; i < gp->gp_n; i++) {
		double v = 0.0;

		if (strncmp(p->rp_name, "fc.", 3) == 0)
			v = rng_normal();	/* rescaled in calibrate() */
		else if (strcmp(sfx, "weight") == 0)
			v = is_last_bn(p->rp_name, bt) ?
			    0.2 + 0.3 * rng_unif() : 0.7 + 0.6 * rng_unif();
		else if (strcmp(sfx, "bias") == 0 ||
		    strcmp(sfx, "running_mean") == 0)
			v = 0.1 * rng_normal();
		else if (strcmp(sfx, "running_var") == 0)
			v = 0.6 + rng_unif();
		gp->gp_data[i] = (float)v;
	}
}

static int
gen_fetch(void *ctx, const char *name, float *dst, size_t count, char *err,
    size_t errlen)
{
	struct gen *g = ctx;
	size_t i;

	if (g->g_fc_w != NULL && strcmp(name, "fc.weight") == 0) {
		memcpy(dst, g->g_fc_w, count * sizeof(*dst));
		return 0;
	}
	if (g->g_fc_b != NULL && strcmp(name, "fc.bias") == 0) {
		memcpy(dst, g->g_fc_b, count * sizeof(*dst));
		return 0;
	}
	for (i = 0; i < g->g_n; i++) {
		if (strcmp(g->g_params[i].gp_p.rp_name, name) != 0)
			continue;
		if (g->g_params[i].gp_n != count)
			return ag_errf(err, errlen, AG_ERR_SHAPE,
			    "tensor %s: size %zu, wanted %zu", name,
			    g->g_params[i].gp_n, count);
		memcpy(dst, g->g_params[i].gp_data, count * sizeof(*dst));
		return 0;
	}
	return ag_errf(err, errlen, AG_ERR_MISSING, "tensor %s missing", name);
}

static struct gen_param *
gen_find(struct gen *g, const char *name)
{
	size_t i;

	for (i = 0; i < g->g_n; i++)
		if (strcmp(g->g_params[i].gp_p.rp_name, name) == 0)
			return &g->g_params[i];
	return NULL;
}

/* ==== fc calibration ==== */

#define CAL_N		8
#define CAL_SIDE	112
#define CAL_LOGIT_SD	4.0

/* Seeded smooth random images, roughly normalised like real inputs. */
static void
cal_inputs(float *x)
{
	int i, c, y, xx, f;

	for (i = 0; i < CAL_N; i++)
		for (c = 0; c < 3; c++) {
			double a[4], fx[4], fy[4], ph[4], base = rng_normal();

			for (f = 0; f < 4; f++) {
				a[f] = rng_normal() * 0.6;
				fx[f] = 0.5 + 6.0 * rng_unif();
				fy[f] = 0.5 + 6.0 * rng_unif();
				ph[f] = 2.0 * M_PI * rng_unif();
			}
			for (y = 0; y < CAL_SIDE; y++)
				for (xx = 0; xx < CAL_SIDE; xx++) {
					double v = base * 0.5 +
					    0.3 * rng_normal();

					for (f = 0; f < 4; f++)
						v += a[f] * sin(ph[f] + 2.0 *
						    M_PI * (fx[f] * xx +
						    fy[f] * y) / CAL_SIDE);
					x[(((size_t)i * 3 + c) * CAL_SIDE +
					    y) * CAL_SIDE + xx] = (float)v;
				}
		}
}

static int
calibrate(struct gen *g, const struct resnet_arch *arch, int classes)
{
	struct gen_param *fw = gen_find(g, "fc.weight");
	struct gen_param *fb = gen_find(g, "fc.bias");
	struct resnet *net = NULL;
	struct resnet_ws *ws = NULL;
	float *x = NULL, *feat = NULL, *id = NULL, *zero = NULL;
	double *mu = NULL, sum = 0.0, sum2 = 0.0, sd, alpha;
	int nf, i, j, c, r = -1;
	char err[256];

	nf = (int)fw->gp_p.rp_shape[1];
	x = malloc((size_t)CAL_N * 3 * CAL_SIDE * CAL_SIDE * sizeof(*x));
	feat = malloc((size_t)CAL_N * nf * sizeof(*feat));
	id = calloc((size_t)nf * nf, sizeof(*id));
	zero = calloc((size_t)nf, sizeof(*zero));
	mu = calloc((size_t)nf, sizeof(*mu));
	if (x == NULL || feat == NULL || id == NULL || zero == NULL ||
	    mu == NULL)
		goto out;
	for (i = 0; i < nf; i++)
		id[(size_t)i * nf + i] = 1.0f;
	cal_inputs(x);

	/* The same net with an identity fc outputs its features. */
	g->g_fc_w = id;
	g->g_fc_b = zero;
	r = resnet_new(arch, nf, gen_fetch, g, &net, err, sizeof(err));
	g->g_fc_w = g->g_fc_b = NULL;
	if (r != 0 || (r = resnet_ws_new(net, CAL_N, CAL_SIDE, CAL_SIDE, &ws,
	    err, sizeof(err))) != 0 ||
	    (r = resnet_forward(net, ws, x, CAL_N, feat)) != 0) {
		log_warnx("calibration: %s", err);
		goto out;
	}
	for (i = 0; i < CAL_N; i++)
		for (j = 0; j < nf; j++)
			mu[j] += feat[(size_t)i * nf + j] / CAL_N;
	/* b = -W mu centres the logits; then measure their spread. */
	for (c = 0; c < classes; c++) {
		double b = 0.0;

		for (j = 0; j < nf; j++)
			b -= (double)fw->gp_data[(size_t)c * nf + j] * mu[j];
		fb->gp_data[c] = (float)b;
		for (i = 0; i < CAL_N; i++) {
			double l = b;

			for (j = 0; j < nf; j++)
				l += (double)fw->gp_data[(size_t)c * nf + j] *
				    feat[(size_t)i * nf + j];
			sum += l;
			sum2 += l * l;
		}
	}
	sum /= (double)classes * CAL_N;
	sd = sqrt(sum2 / ((double)classes * CAL_N) - sum * sum);
	if (!(sd > 1e-12)) {
		log_warnx("calibration: features do not vary");
		r = -1;
		goto out;
	}
	/* Round the scale so tiny float differences cannot change the file. */
	alpha = CAL_LOGIT_SD / sd;
	alpha = exp(round(log(alpha) * 64.0) / 64.0);
	for (i = 0; i < (int)fw->gp_n; i++)
		fw->gp_data[i] = (float)(fw->gp_data[i] * alpha);
	for (c = 0; c < classes; c++)
		fb->gp_data[c] = (float)(fb->gp_data[c] * alpha);
	log_info("calibrated fc: feature mean %.3g, logit sd %.3g -> %.1f",
	    sum, sd, CAL_LOGIT_SD);
	r = 0;
 out:
	resnet_ws_free(ws);
	resnet_free(net);
	free(x);
	free(feat);
	free(id);
	free(zero);
	free(mu);
	return r;
}

/* ==== Writing the directory ==== */

static int
write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL)
		return -1;
	if (fputs(text, fp) == EOF) {
		fclose(fp);
		return -1;
	}
	return fclose(fp) == 0 ? 0 : -1;
}

static void
rm_dir_files(const char *dir)
{
	static const char *const files[] = { MODEL_CONFIG_FILE,
	    MODEL_LABELS_FILE, MODEL_WEIGHTS_FILE, MODEL_WEIGHTS_FILE ".tmp",
	    MSIG_FILE };
	char p[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		(void)unlink(p);
	}
	(void)rmdir(dir);
}

static void
usage(void)
{
	fprintf(stderr, "usage: gen-weights [--arch NAME] [--seed N] "
	    "[--classes N] [--name NAME] --out DIR\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "arch", required_argument, NULL, 'a' },
		{ "seed", required_argument, NULL, 's' },
		{ "classes", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'n' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *archname = "resnet18", *out = NULL, *name = NULL;
	char tmp[PATH_MAX], old[PATH_MAX], path[PATH_MAX + 64], err[256];
	char seedstr[32], *cfg = NULL, *labels = NULL;
	const struct resnet_arch *arch;
	struct resnet_param *rp = NULL;
	struct st_wtensor *wt;
	struct gen g;
	long seed = 1, classes = 1000, v;
	size_t i, k, nw;
	int ch, d;

	log_init("gen-weights", LOG_LVL_INFO);
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'a': archname = optarg; break;
		case 'o': out = optarg; break;
		case 'n': name = optarg; break;
		case 's':
			if (ag_parse_long(optarg, 0, LONG_MAX, &seed) != 0)
				fatalx("--seed: not a number: %s", optarg);
			break;
		case 'c':
			if (ag_parse_long(optarg, 1, RESNET_MAX_CLASSES,
			    &v) != 0)
				fatalx("--classes: 1..%d", RESNET_MAX_CLASSES);
			classes = v;
			break;
		default: usage();
		}
	}
	if (out == NULL || optind != argc)
		usage();
	if (strlen(out) > PATH_MAX - 16)
		fatalx("--out: path too long");
	if ((arch = resnet_arch_find(archname)) == NULL)
		fatalx("unknown architecture %s (known: %s)", archname,
		    resnet_arch_names());
	if (name == NULL)
		name = archname;
	rng_state = (uint64_t)seed * 0x2545f4914f6cdd1dULL + 1;

	memset(&g, 0, sizeof(g));
	if (resnet_params(arch, (int)classes, &rp, &g.g_n) != 0)
		fatalx("cannot list parameters");
	if ((g.g_params = calloc(g.g_n, sizeof(*g.g_params))) == NULL ||
	    (wt = calloc(g.g_n, sizeof(*wt))) == NULL)
		fatalx("out of memory");
	for (i = 0, nw = 0; i < g.g_n; i++) {
		struct gen_param *gp = &g.g_params[i];

		gp->gp_p = rp[i];
		gp->gp_n = 1;
		for (d = 0; d < rp[i].rp_ndim; d++)
			gp->gp_n *= (size_t)rp[i].rp_shape[d];
		if (rp[i].rp_kind != RESNET_PARAM_FLOAT)
			continue;	/* num_batches_tracked: not written */
		if ((gp->gp_data = malloc(gp->gp_n * sizeof(float))) == NULL)
			fatalx("out of memory");
		gen_fill(gp, arch->ra_block);
		wt[nw].name = gp->gp_p.rp_name;
		wt[nw].ndim = rp[i].rp_ndim;
		for (d = 0; d < 4; d++)
			wt[nw].shape[d] = rp[i].rp_shape[d];
		wt[nw].data = gp->gp_data;
		nw++;
	}
	/* Deterministic: one thread, a fixed summation order. */
	resnet_set_threads(1);
	if (calibrate(&g, arch, (int)classes) != 0)
		fatalx("fc calibration failed");

	/* Build everything in DIR.tmp, then swap it into place. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", out);
	snprintf(old, sizeof(old), "%s.old", out);
	rm_dir_files(tmp);
	if (mkdir(tmp, 0755) != 0)
		fatal("mkdir %s", tmp);
	snprintf(seedstr, sizeof(seedstr), "%ld", seed);
	{
		const char *meta[] = { "format", "pt", "synthetic", "true",
		    "generator", "aiguard gen-weights", "architecture",
		    archname, "seed", seedstr };

		snprintf(path, sizeof(path), "%s/%s", tmp, MODEL_WEIGHTS_FILE);
		if (st_write_file(path, wt, nw, meta, 5, err,
		    sizeof(err)) != 0)
			fatalx("%s", err);
	}
	if (asprintf(&cfg, "{\n  \"format\": \"%s\",\n  \"name\": \"%s\",\n"
	    "  \"architecture\": \"%s\",\n  \"num_classes\": %ld,\n"
	    "  \"input\": {\n    \"height\": 224,\n    \"width\": 224,\n"
	    "    \"resize\": 256,\n    \"mean\": [0.485, 0.456, 0.406],\n"
	    "    \"std\": [0.229, 0.224, 0.225]\n  },\n"
	    "  \"synthetic\": true,\n  \"source\": \"synthetic weights from "
	    "aiguard gen-weights --seed %ld: not a trained model, labels are "
	    "placeholders\"\n}\n", MODEL_CONFIG_FORMAT, name, archname,
	    classes, seed) < 0)
		fatalx("out of memory");
	snprintf(path, sizeof(path), "%s/%s", tmp, MODEL_CONFIG_FILE);
	if (write_text(path, cfg) != 0)
		fatal("%s", path);
	if ((labels = malloc((size_t)classes * 32)) == NULL)
		fatalx("out of memory");
	for (k = 0, v = 0; v < classes; v++)
		k += (size_t)snprintf(labels + k, 32, "synthetic_class_%04ld\n",
		    v);
	snprintf(path, sizeof(path), "%s/%s", tmp, MODEL_LABELS_FILE);
	if (write_text(path, labels) != 0)
		fatal("%s", path);

	rm_dir_files(old);
	if (rename(out, old) != 0 && errno != ENOENT)
		fatal("rename %s", out);
	if (rename(tmp, out) != 0)
		fatal("rename %s", tmp);
	rm_dir_files(old);
	log_info("wrote %s (%s, %zu tensors, seed %ld, synthetic)", out,
	    archname, nw, seed);

	for (i = 0; i < g.g_n; i++)
		free(g.g_params[i].gp_data);
	free(g.g_params);
	free(wt);
	free(rp);
	free(cfg);
	free(labels);
	return 0;
}
