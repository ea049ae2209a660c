/* SPDX-License-Identifier: ISC */
/*
 * classify.c: aiguard classify [--model DIR] [--top K] [--json]
 *             [--threads N] [--config FILE] [--verify-key PUB |
 *             --verify-ca BUNDLE | --allow-unsigned]
 *             [--cert-validity MODE | --require-valid-now] IMAGE...
 *
 * Verifies the model's signature as aiguardd does (the same trust anchor,
 * chosen by the same code from the same settings: daemon_trust_setup()),
 * then decodes each JPEG/PNG, applies the model's preprocessing, runs the
 * engine in batches and prints the top-k classes with their softmax
 * probabilities.  --allow-unsigned skips the check, with a warning on
 * every run.  The process runs under PR_SET_MDWE (the engine needs no
 * writable+executable memory).  An image that fails is reported with its
 * file name and the rest still run; the exit status is then 1.
 */

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/ag_err.h"
#include "common/config.h"
#include "common/log.h"
#include "common/topk.h"
#include "common/util.h"
#include "engine/resnet.h"
#include "image/image.h"
#include "daemon/daemon.h"
#include "model/locate.h"
#include "model/model.h"
#include "model/msig.h"

#define CLASSIFY_MAX_BATCH	8

static void
classify_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: aiguard classify [--model DIR] [--top K] [--json] "
	    "[--threads N]\n"
	    "                        [--config FILE] [--verify-key PUB | "
	    "--verify-ca BUNDLE |\n"
	    "                         --allow-unsigned] [--cert-validity "
	    "now|signing-time]\n"
	    "                        [--require-valid-now] IMAGE...\n"
	    "  --model DIR   model directory (default: the bundled model)\n"
	    "  --top K       classes to show per image (default 5)\n"
	    "  --json        JSON array of {\"file\", \"top\": [{\"index\", "
	    "\"label\", \"prob\"}]}\n"
	    "  --threads N   engine threads (default 2)\n"
	    "  The model's signature (model.sig) is verified as aiguardd "
	    "verifies it:\n"
	    "  --config FILE       aiguardd's configuration: its model."
	    "verify_key,\n"
	    "                      verify_ca, allow_unsigned, cert_validity\n"
	    "  --verify-key PUB    trust signatures by this public key\n"
	    "  --verify-ca BUNDLE  trust certificate chains to these CAs\n"
	    "                      (neither: the build tree's key when run "
	    "from it)\n"
	    "  --allow-unsigned    do NOT check the signature (warned on "
	    "every run)\n"
	    "  --cert-validity now|signing-time\n"
	    "                      when a certificate chain must be valid "
	    "(default now)\n"
	    "  --require-valid-now the same as --cert-validity now\n");
}

struct classify {
	struct model	*c_md;
	struct resnet_ws *c_ws;
	int		 c_top, c_json;
	float		*c_in;		/* (batch, 3, h, w) */
	float		*c_out;		/* (batch, classes) */
	const char	*c_files[CLASSIFY_MAX_BATCH];
	int		 c_n;
	json_t		*c_arr;
	size_t		*c_idx;		/* (c_top) */
	double		*c_prob;	/* (c_top) */
};

static void
classify_flush(struct classify *c)
{
	const struct model_conf *mc = &c->c_md->md_conf;
	int i, j, r;

	if (c->c_n == 0)
		return;
	if ((r = resnet_forward(c->c_md->md_net, c->c_ws, c->c_in, c->c_n,
	    c->c_out)) != 0)
		fatalx("inference failed: %s", ag_strerror(r));
	for (i = 0; i < c->c_n; i++) {
		const float *lg = c->c_out + (size_t)i * mc->mc_classes;
		const double *p = c->c_prob;
		json_t *top = NULL;

		/*
		 * The shared order and probabilities (common/topk.h), as the
		 * server's answers have them.
		 */
		(void)topk_softmax(lg, (size_t)mc->mc_classes,
		    (size_t)c->c_top, c->c_idx, c->c_prob);
		if (c->c_json)
			top = json_array();
		else
			printf("%s:\n", c->c_files[i]);
		for (j = 0; j < c->c_top; j++) {
			int k = (int)c->c_idx[j];

			if (c->c_json)
				json_array_append_new(top, json_pack(
				    "{s:i, s:s, s:f}", "index", k, "label",
				    model_label(c->c_md, k), "prob", p[j]));
			else
				printf("  %2d. %.4f  %s (%d)\n", j + 1,
				    p[j], model_label(c->c_md, k), k);
		}
		if (c->c_json)
			json_array_append_new(c->c_arr, json_pack("{s:s, s:o}",
			    "file", c->c_files[i], "top", top));
	}
	c->c_n = 0;
}

/* config_set() or exit, naming the flag. */
static void
classify_set(struct ag_config *cf, const char *flag, const char *key,
    const char *value)
{
	char err[512];

	if (config_set(cf, key, value, err, sizeof(err)) != 0)
		fatalx("%s: %s", flag, err);
}

/*
 * The trust anchor, chosen as aiguardd chooses it (daemon_trust_setup()):
 * the configuration file, then the flags over it.  *trust is NULL only
 * when the check is off (--allow-unsigned), which is said every run.
 */
static void
classify_trust(const char *config, const char *key, const char *ca,
    int unsigned_, const char *validity, int now,
    const struct msig_trust **trust)
{
	struct ag_config cf;
	char err[768];

	config_defaults(&cf);
	if (config != NULL && config_load_file(&cf, config, err,
	    sizeof(err)) != 0)
		fatalx("%s", err);
	/* A flag's anchor replaces the file's, of either kind (aiguardd). */
	if (key != NULL) {
		classify_set(&cf, "--verify-key", "model.verify_ca", "");
		classify_set(&cf, "--verify-key", "model.verify_key", key);
	}
	if (ca != NULL) {
		classify_set(&cf, "--verify-ca", "model.verify_key", "");
		classify_set(&cf, "--verify-ca", "model.verify_ca", ca);
	}
	if (validity != NULL)
		classify_set(&cf, "--cert-validity", "model.cert_validity",
		    validity);
	if (now) {
		if (cf.cf_cert_validity != MSIG_VALID_NOW && validity != NULL)
			fatalx("--require-valid-now and --cert-validity %s "
			    "disagree", validity);
		classify_set(&cf, "--require-valid-now", "model.cert_validity",
		    "now");
	}
	/*
	 * --allow-unsigned on the command line skips the check even where
	 * the file names an anchor: the user asked for it, here, by name.
	 */
	if (unsigned_) {
		classify_set(&cf, "--allow-unsigned", "model.verify_key", "");
		classify_set(&cf, "--allow-unsigned", "model.verify_ca", "");
		classify_set(&cf, "--allow-unsigned", "model.allow_unsigned",
		    "yes");
	}
	if (config_validate(&cf, err, sizeof(err)) != 0)
		fatalx("%s", err);
	/* Its "signatures required" line is for the daemon's log. */
	log_setlevel(LOG_LVL_WARN);
	if (daemon_trust_setup(&cf, err, sizeof(err)) != 0)
		fatalx("%s", err);
	log_setlevel(LOG_LVL_INFO);
	*trust = daemon_trust();
	if (*trust == NULL)
		log_warnx("WARNING: the model's signature is NOT checked "
		    "(allow_unsigned): its labels and weights may have been "
		    "changed by anyone who could write them");
}

int
cmd_classify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "top", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ "threads", required_argument, NULL, 't' },
		{ "config", required_argument, NULL, 'c' },
		{ "verify-key", required_argument, NULL, 'K' },
		{ "verify-ca", required_argument, NULL, 'A' },
		{ "allow-unsigned", no_argument, NULL, 'U' },
		{ "cert-validity", required_argument, NULL, 'W' },
		{ "require-valid-now", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct msig_trust *trust = NULL;
	const char *config = NULL, *vkey = NULL, *vca = NULL;
	const char *validity = NULL;
	int unsigned_ = 0, now = 0;
	struct classify c;
	struct image_limits lim;
	struct image im;
	char dir[PATH_MAX], ver[MODEL_VERSION_MAX], err[768];
	struct model_loc loc;
	const char *model = NULL;
	long top = 5, threads = 2;
	uint8_t *crop = NULL;
	int ch, i, batch, failed = 0, h, w, r;
	size_t per;

	memset(&c, 0, sizeof(c));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "m:k:jt:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 'K':
			vkey = optarg;
			break;
		case 'A':
			vca = optarg;
			break;
		case 'U':
			unsigned_ = 1;
			break;
		case 'W':
			validity = optarg;
			break;
		case 'N':
			now = 1;
			break;
		case 'm':
			model = optarg;
			break;
		case 'k':
			if (ag_parse_long(optarg, 1, 1000, &top) != 0)
				fatalx("--top: expected 1..1000, got %s",
				    optarg);
			break;
		case 'j':
			c.c_json = 1;
			break;
		case 't':
			if (ag_parse_long(optarg, 1, 64, &threads) != 0)
				fatalx("--threads: expected 1..64, got %s",
				    optarg);
			break;
		case 'h':
			classify_usage(stdout);
			return 0;
		default:
			classify_usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		classify_usage(stderr);
		return 2;
	}
	if ((vkey != NULL) + (vca != NULL) + unsigned_ > 1) {
		log_warnx("give one of --verify-key, --verify-ca and "
		    "--allow-unsigned");
		classify_usage(stderr);
		return 2;
	}

	/*
	 * No JIT anywhere: refuse writable+executable memory for the rest of
	 * the process before any input is read.
	 */
	if (ag_mdwe_enable() != 0)
		log_warn("prctl(PR_SET_MDWE) not available");

	if (model_locate(model, &loc, err, sizeof(err)) != 0) {
		if (model == NULL)
			fatalx("no default model found (run make, or give "
			    "--model DIR)");
		fatalx("%s", err);
	}
	/* A store entry: the version current now, read once. */
	model_loc_current(&loc, dir, sizeof(dir), ver, sizeof(ver));
	model = dir;
	classify_trust(config, vkey, vca, unsigned_, validity, now, &trust);
	resnet_set_threads((int)threads);
	if (model_load_signed(model, trust, &c.c_md, err, sizeof(err)) != 0)
		fatalx("%s", err);
	if (c.c_md->md_signed && c.c_md->md_sig.mr_cert_note[0] != '\0')
		log_warnx("WARNING: %s", c.c_md->md_sig.mr_cert_note);
	if (c.c_md->md_conf.mc_synthetic)
		log_info("model %s has SYNTHETIC weights: its labels are "
		    "placeholders, not real classes", c.c_md->md_conf.mc_name);
	h = c.c_md->md_conf.mc_height;
	w = c.c_md->md_conf.mc_width;
	c.c_top = top < c.c_md->md_conf.mc_classes ? (int)top :
	    c.c_md->md_conf.mc_classes;
	batch = argc - optind < CLASSIFY_MAX_BATCH ? argc - optind :
	    CLASSIFY_MAX_BATCH;
	if ((r = resnet_ws_new(c.c_md->md_net, batch, h, w, &c.c_ws, err,
	    sizeof(err))) != 0)
		fatalx("%s: %s", model, err);
	per = (size_t)3 * h * w;
	c.c_in = malloc((size_t)batch * per * sizeof(float));
	c.c_out = malloc((size_t)batch * c.c_md->md_conf.mc_classes *
	    sizeof(float));
	c.c_idx = malloc((size_t)c.c_top * sizeof(*c.c_idx));
	c.c_prob = malloc((size_t)c.c_top * sizeof(*c.c_prob));
	crop = malloc(per);
	c.c_arr = json_array();
	if (c.c_in == NULL || c.c_out == NULL || c.c_idx == NULL ||
	    c.c_prob == NULL ||
	    crop == NULL || c.c_arr == NULL)
		fatalx("out of memory");

	image_limits_default(&lim);
	for (i = optind; i < argc; i++) {
		const char *f = argv[i];

		if ((r = image_decode_file(f, &lim, &im, err,
		    sizeof(err))) != 0) {
			log_warnx("%s", err);
			failed = 1;
			continue;
		}
		r = image_resize_crop(&im, c.c_md->md_conf.mc_resize, w, h,
		    crop, err, sizeof(err));
		image_free(&im);
		if (r != 0) {
			log_warnx("%s: %s", f, err);
			failed = 1;
			continue;
		}
		image_to_tensor(crop, w, h, c.c_md->md_conf.mc_mean,
		    c.c_md->md_conf.mc_std, c.c_in + (size_t)c.c_n * per);
		c.c_files[c.c_n++] = f;
		if (c.c_n == batch)
			classify_flush(&c);
	}
	classify_flush(&c);
	if (c.c_json) {
		if (json_dumpf(c.c_arr, stdout, JSON_INDENT(2) |
		    JSON_REAL_PRECISION(7)) != 0)
			failed = 1;
		printf("\n");
	}
	json_decref(c.c_arr);
	free(crop);
	free(c.c_in);
	free(c.c_out);
	free(c.c_idx);
	free(c.c_prob);
	resnet_ws_free(c.c_ws);
	model_free(c.c_md);
	if (fflush(stdout) != 0) {
		log_warn("stdout");
		failed = 1;
	}
	return failed ? 1 : 0;
}
