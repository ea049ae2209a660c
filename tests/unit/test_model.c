/* SPDX-License-Identifier: ISC */
/*
 * test_model.c: unit tests for model directories (config.json, labels.txt,
 * model.safetensors).
 *
 * model_conf_parse() is fed the exact config gen-weights writes, then that
 * text with one edit per case: each invalid edit must be refused with the
 * expected AG_ERR_* code and a message naming the key.  model_load() gets a
 * real ResNet-18 directory (10 classes, deterministic weights written with
 * st_write_file() into the test's scratch directory), then one directory
 * per fault: a missing or wrong file, bad labels, weights with a wrong
 * shape, a missing, extra or non-finite tensor.  Each error must carry the
 * AG_ERR_* code and name the file at fault.  Directories that differ only in
 * config or labels share the weights through a hard link.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ag_err.h"
#include "engine/resnet.h"
#include "model/model.h"
#include "model/st_write.h"
#include "test_helper.h"

#define ERRLEN		1024
#define CLASSES		10

/* The config gen-weights writes (tools/gen-weights.c), for 10 classes. */
static const char good_conf[] =
    "{\n"
    "  \"format\": \"aiguard-model-v1\",\n"
    "  \"name\": \"resnet18\",\n"
    "  \"architecture\": \"resnet18\",\n"
    "  \"num_classes\": 10,\n"
    "  \"input\": {\n"
    "    \"height\": 224,\n"
    "    \"width\": 224,\n"
    "    \"resize\": 256,\n"
    "    \"mean\": [0.485, 0.456, 0.406],\n"
    "    \"std\": [0.229, 0.224, 0.225]\n"
    "  },\n"
    "  \"synthetic\": true,\n"
    "  \"source\": \"synthetic weights from aiguard gen-weights --seed 1: "
    "not a trained model, labels are placeholders\"\n"
    "}\n";

static const char good_labels[] =
    "thing 0\nthing 1\nthing 2\nthe fourth label\nthing 4\nthing 5\n"
    "thing 6\nthing 7\nthing 8\nthing 9\n";

/* ==== Helpers =========================================================== */

/*
 * base with the first occurrence of from replaced by to, as a new string
 * (caller frees).  Exits 99 when from is absent: the case is broken.
 */
static char *
subst(const char *base, const char *from, const char *to)
{
	const char *at = strstr(base, from);
	size_t pre, n;
	char *out;

	if (at == NULL) {
		fprintf(stderr, "subst: \"%s\" not in the text\n", from);
		exit(99);
	}
	pre = (size_t)(at - base);
	n = strlen(base) - strlen(from) + strlen(to);
	out = test_xmalloc(n + 1);
	memcpy(out, base, pre);
	memcpy(out + pre, to, strlen(to));
	strcpy(out + pre + strlen(to), at + strlen(from));
	return out;
}

static void
write_file(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "wb");

	if (fp == NULL || fwrite(data, 1, len, fp) != len ||
	    fclose(fp) != 0) {
		perror(path);
		exit(99);
	}
}

/* ==== model_conf_parse ================================================== */

struct conf_case {
	const char	*what;
	const char	*from, *to;	/* edit of good_conf; from NULL: to is
					   the whole text */
	int		 code;
	const char	*needle;	/* must appear in the message */
};

static const char no_input_conf[] =
    "{\"format\": \"aiguard-model-v1\", \"name\": \"m\", "
    "\"architecture\": \"resnet18\", \"num_classes\": 10}";

static const struct conf_case conf_cases[] = {
	{ "invalid JSON (two commas)", "10,\n", "10,,\n", AG_ERR_JSON,
	    "JSON" },
	{ "invalid JSON (unterminated)", NULL, "{\"format\": \"aiguard-",
	    AG_ERR_JSON, "JSON" },
	{ "empty text", NULL, "", AG_ERR_JSON, "JSON" },
	{ "garbage after the object", "placeholders\"\n}\n",
	    "placeholders\"\n} x\n", AG_ERR_JSON, "JSON" },
	{ "not an object", NULL, "[1, 2, 3]", AG_ERR_CONFIG, "object" },
	{ "a bare string (not a JSON text here)", NULL, "\"resnet18\"",
	    AG_ERR_JSON, "JSON" },
	{ "duplicate key", "  \"architecture\"",
	    "  \"name\": \"other\",\n  \"architecture\"", AG_ERR_JSON,
	    "name" },
	{ "unknown top-level key", "  \"synthetic\"",
	    "  \"labels\": \"x.txt\",\n  \"synthetic\"", AG_ERR_UNEXPECTED,
	    "labels" },
	{ "unknown input key", "    \"resize\"",
	    "    \"crop\": 224,\n    \"resize\"", AG_ERR_UNEXPECTED,
	    "input.crop" },
	{ "missing format", "  \"format\": \"aiguard-model-v1\",\n", "",
	    AG_ERR_MISSING, "format" },
	{ "missing name", "  \"name\": \"resnet18\",\n", "",
	    AG_ERR_MISSING, "name" },
	{ "missing architecture", "  \"architecture\": \"resnet18\",\n", "",
	    AG_ERR_MISSING, "architecture" },
	{ "missing num_classes", "  \"num_classes\": 10,\n", "",
	    AG_ERR_MISSING, "num_classes" },
	{ "missing input", NULL, no_input_conf, AG_ERR_MISSING, "input" },
	{ "missing input.resize", "    \"resize\": 256,\n", "",
	    AG_ERR_MISSING, "resize" },
	{ "missing input.std", ",\n    \"std\": [0.229, 0.224, 0.225]", "",
	    AG_ERR_MISSING, "input.std" },
	{ "wrong format", "aiguard-model-v1", "aiguard-model-v2",
	    AG_ERR_UNSUPPORTED, "format" },
	{ "format not a string", "\"aiguard-model-v1\"", "1", AG_ERR_CONFIG,
	    "format" },
	{ "unknown architecture", "\"architecture\": \"resnet18\"",
	    "\"architecture\": \"vgg16\"", AG_ERR_UNSUPPORTED,
	    "architecture" },
	{ "num_classes 0", "\"num_classes\": 10", "\"num_classes\": 0",
	    AG_ERR_CONFIG, "num_classes" },
	{ "num_classes 100001", "\"num_classes\": 10",
	    "\"num_classes\": 100001", AG_ERR_CONFIG, "num_classes" },
	{ "num_classes -3", "\"num_classes\": 10", "\"num_classes\": -3",
	    AG_ERR_CONFIG, "num_classes" },
	{ "num_classes a string", "\"num_classes\": 10",
	    "\"num_classes\": \"10\"", AG_ERR_CONFIG, "num_classes" },
	{ "num_classes 1.5", "\"num_classes\": 10", "\"num_classes\": 1.5",
	    AG_ERR_CONFIG, "num_classes" },
	{ "num_classes huge", "\"num_classes\": 10",
	    "\"num_classes\": 4294967306", AG_ERR_CONFIG, "num_classes" },
	{ "name with /", "\"name\": \"resnet18\"", "\"name\": \"a/b\"",
	    AG_ERR_CONFIG, "name" },
	{ "name with a space", "\"name\": \"resnet18\"",
	    "\"name\": \"res net\"", AG_ERR_CONFIG, "name" },
	{ "name starting with .", "\"name\": \"resnet18\"",
	    "\"name\": \".hidden\"", AG_ERR_CONFIG, "name" },
	{ "name ..", "\"name\": \"resnet18\"", "\"name\": \"..\"",
	    AG_ERR_CONFIG, "name" },
	{ "name empty", "\"name\": \"resnet18\"", "\"name\": \"\"",
	    AG_ERR_CONFIG, "name" },
	{ "name of 64 bytes", "\"name\": \"resnet18\"", "\"name\": \""
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "\"", AG_ERR_CONFIG, "name" },
	{ "name with a control character", "\"name\": \"resnet18\"",
	    "\"name\": \"res\\u0007net\"", AG_ERR_CONFIG, "name" },
	{ "height 31", "\"height\": 224", "\"height\": 31", AG_ERR_CONFIG,
	    "height" },
	{ "height 4097", "\"height\": 224", "\"height\": 4097",
	    AG_ERR_CONFIG, "height" },
	{ "width 0", "\"width\": 224", "\"width\": 0", AG_ERR_CONFIG,
	    "width" },
	{ "resize 0", "\"resize\": 256", "\"resize\": 0", AG_ERR_CONFIG,
	    "resize" },
	{ "std with a 0", "[0.229, 0.224, 0.225]", "[0.229, 0, 0.225]",
	    AG_ERR_CONFIG, "input.std" },
	{ "std negative", "[0.229, 0.224, 0.225]", "[0.229, 0.224, -0.2]",
	    AG_ERR_CONFIG, "input.std" },
	{ "mean with 2 elements", "[0.485, 0.456, 0.406]", "[0.485, 0.456]",
	    AG_ERR_CONFIG, "input.mean" },
	{ "mean with 4 elements", "[0.485, 0.456, 0.406]",
	    "[0.485, 0.456, 0.406, 0.5]", AG_ERR_CONFIG, "input.mean" },
	{ "mean with a string", "[0.485, 0.456, 0.406]",
	    "[0.485, \"0.456\", 0.406]", AG_ERR_CONFIG, "input.mean" },
	{ "mean not an array", "[0.485, 0.456, 0.406]", "0.5",
	    AG_ERR_CONFIG, "input.mean" },
	{ "mean out of range", "[0.485, 0.456, 0.406]", "[0.485, 1e300, 0]",
	    AG_ERR_CONFIG, "input.mean" },
	{ "synthetic not a boolean", "\"synthetic\": true",
	    "\"synthetic\": \"yes\"", AG_ERR_CONFIG, "synthetic" },
	{ "synthetic 1", "\"synthetic\": true", "\"synthetic\": 1",
	    AG_ERR_CONFIG, "synthetic" },
	{ "input not an object", NULL,
	    "{\"format\": \"aiguard-model-v1\", \"name\": \"m\", "
	    "\"architecture\": \"resnet18\", \"num_classes\": 10, "
	    "\"input\": 224}", AG_ERR_CONFIG, "input" },
	{ "source not a string", "\"source\": \"synthetic weights from "
	    "aiguard gen-weights --seed 1: not a trained model, labels are "
	    "placeholders\"", "\"source\": 5", AG_ERR_CONFIG, "source" },
	{ "source with a control character", "--seed 1:", "--seed\\n1:",
	    AG_ERR_CONFIG, "source" },
};

static void
test_conf_valid(void)
{
	struct model_conf mc;
	char err[ERRLEN], *t;

	TEST_START("model_conf_parse: the gen-weights config");
	err[0] = '\0';
	ASSERT_INT_EQ(model_conf_parse(good_conf, strlen(good_conf), &mc, err,
	    sizeof(err)), 0);
	ASSERT_STRING_EQ(mc.mc_name, "resnet18");
	ASSERT_STRING_EQ(mc.mc_arch, "resnet18");
	ASSERT_INT_EQ(mc.mc_classes, 10);
	ASSERT_INT_EQ(mc.mc_height, 224);
	ASSERT_INT_EQ(mc.mc_width, 224);
	ASSERT_INT_EQ(mc.mc_resize, 256);
	ASSERT_TRUE(mc.mc_mean[0] == 0.485f && mc.mc_mean[1] == 0.456f &&
	    mc.mc_mean[2] == 0.406f);
	ASSERT_TRUE(mc.mc_std[0] == 0.229f && mc.mc_std[1] == 0.224f &&
	    mc.mc_std[2] == 0.225f);
	ASSERT_INT_EQ(mc.mc_synthetic, 1);
	ASSERT_STRING_CONTAINS(mc.mc_source, "gen-weights --seed 1");
	TEST_DONE();

	TEST_START("model_conf_parse: optional keys absent, other values");
	t = subst(good_conf, ",\n  \"synthetic\": true,\n  \"source\": "
	    "\"synthetic weights from aiguard gen-weights --seed 1: not a "
	    "trained model, labels are placeholders\"", "");
	ASSERT_INT_EQ(model_conf_parse(t, strlen(t), &mc, err, sizeof(err)),
	    0);
	ASSERT_INT_EQ(mc.mc_synthetic, 0);
	ASSERT_STRING_EQ(mc.mc_source, "");
	free(t);
	t = subst(good_conf, "\"synthetic\": true", "\"synthetic\": false");
	ASSERT_INT_EQ(model_conf_parse(t, strlen(t), &mc, err, sizeof(err)),
	    0);
	ASSERT_INT_EQ(mc.mc_synthetic, 0);
	free(t);
	t = strdup("{\"input\": {\"std\": [1, 2, 3], \"mean\": [-1, 0, 1.5], "
	    "\"resize\": 40, \"width\": 4096, \"height\": 32}, "
	    "\"num_classes\": 100000, \"architecture\": \"resnet50\", "
	    "\"name\": \"My_Model-2.1\", \"format\": \"aiguard-model-v1\"}");
	ASSERT_PTR_NE(t, NULL);
	ASSERT_INT_EQ(model_conf_parse(t, strlen(t), &mc, err, sizeof(err)),
	    0);
	ASSERT_STRING_EQ(mc.mc_name, "My_Model-2.1");
	ASSERT_STRING_EQ(mc.mc_arch, "resnet50");
	ASSERT_INT_EQ(mc.mc_classes, 100000);
	ASSERT_INT_EQ(mc.mc_height, 32);
	ASSERT_INT_EQ(mc.mc_width, 4096);
	ASSERT_INT_EQ(mc.mc_resize, 40);
	ASSERT_TRUE(mc.mc_mean[0] == -1.0f && mc.mc_std[2] == 3.0f);
	free(t);
	TEST_DONE();

	TEST_START("model_conf_parse: length is honoured (NUL inside)");
	/* The same text with a NUL byte in the middle must not parse. */
	{
		size_t n = strlen(good_conf);
		char *b = test_xmalloc(n + 1);

		memcpy(b, good_conf, n + 1);
		b[n / 2] = '\0';
		ASSERT_INT_EQ(model_conf_parse(b, n, &mc, err, sizeof(err)),
		    AG_ERR_JSON);
		/* A prefix is not the whole config. */
		ASSERT_INT_NE(model_conf_parse(good_conf, n / 2, &mc, err,
		    sizeof(err)), 0);
		free(b);
	}
	TEST_DONE();
}

static void
test_conf_invalid(void)
{
	struct model_conf mc;
	char err[ERRLEN], name[128], *t;
	size_t i;

	for (i = 0; i < sizeof(conf_cases) / sizeof(conf_cases[0]); i++) {
		const struct conf_case *cc = &conf_cases[i];

		snprintf(name, sizeof(name), "model_conf_parse refuses: %s",
		    cc->what);
		TEST_START(name);
		t = cc->from != NULL ? subst(good_conf, cc->from, cc->to) :
		    strdup(cc->to);
		ASSERT_PTR_NE(t, NULL);
		strcpy(err, "(unchanged)");
		ASSERT_INT_EQ(model_conf_parse(t, strlen(t), &mc, err,
		    sizeof(err)), cc->code);
		ASSERT_STRING_CONTAINS(err, cc->needle);
		free(t);
		TEST_DONE();
	}
}

/* ==== Model directories ================================================= */

/* The weights of the good model, kept to write the broken variants. */
struct wset {
	struct resnet_param	*ws_params;
	size_t			 ws_nparams;
	struct st_wtensor	*ws_t;		/* float tensors, file order */
	float			**ws_data;
	size_t			 ws_n;
};

static uint64_t rng_state;

static float
rng_f(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (float)((rng_state * 0x2545f4914f6cdd1dULL) >> 40) /
	    8388608.0f - 1.0f;
}

/* Deterministic He-scaled weights, near-identity BatchNorms. */
static void
wset_make(struct wset *w)
{
	const struct resnet_arch *arch = resnet_arch_find("resnet18");
	size_t i, j, cnt;
	int d;

	memset(w, 0, sizeof(*w));
	if (resnet_params(arch, CLASSES, &w->ws_params, &w->ws_nparams) != 0)
		exit(99);
	w->ws_t = test_xmalloc(w->ws_nparams * sizeof(*w->ws_t));
	w->ws_data = test_xmalloc(w->ws_nparams * sizeof(*w->ws_data));
	rng_state = 0x9e3779b97f4a7c15ULL;
	for (i = 0; i < w->ws_nparams; i++) {
		const struct resnet_param *p = &w->ws_params[i];
		const char *sfx = strrchr(p->rp_name, '.') + 1;
		struct st_wtensor *t = &w->ws_t[w->ws_n];
		double scale = 0.1, off = 0.0;
		float *v;

		if (p->rp_kind != RESNET_PARAM_FLOAT)
			continue;
		for (cnt = 1, d = 0; d < p->rp_ndim; d++)
			cnt *= (size_t)p->rp_shape[d];
		if (p->rp_ndim >= 2)
			scale = sqrt(6.0 / (double)(p->rp_shape[1] *
			    (p->rp_ndim == 4 ? p->rp_shape[2] *
			    p->rp_shape[3] : 1)));
		else if (strcmp(sfx, "weight") == 0) {
			off = 0.5;
			scale = 0.1;
		} else if (strcmp(sfx, "running_var") == 0) {
			off = 1.0;
			scale = 0.5;
		}
		v = test_xmalloc(cnt * sizeof(*v));
		for (j = 0; j < cnt; j++)
			v[j] = (float)(off + scale * rng_f());
		t->name = p->rp_name;
		t->ndim = p->rp_ndim;
		for (d = 0; d < 4; d++)
			t->shape[d] = p->rp_shape[d];
		t->data = v;
		w->ws_data[w->ws_n++] = v;
	}
}

static void
wset_free(struct wset *w)
{
	size_t i;

	for (i = 0; i < w->ws_n; i++)
		free(w->ws_data[i]);
	free(w->ws_data);
	free(w->ws_t);
	free(w->ws_params);
}

static const struct st_wtensor *
wset_find(const struct wset *w, const char *name)
{
	size_t i;

	for (i = 0; i < w->ws_n; i++)
		if (strcmp(w->ws_t[i].name, name) == 0)
			return &w->ws_t[i];
	return NULL;
}

/* The fetch callback for resnet_new() straight from the arrays. */
static int
wset_fetch(void *ctx, const char *name, float *dst, size_t count, char *err,
    size_t errlen)
{
	const struct st_wtensor *t = wset_find(ctx, name);

	if (t == NULL)
		return ag_errf(err, errlen, AG_ERR_MISSING, "no %s", name);
	memcpy(dst, t->data, count * sizeof(*dst));
	return 0;
}

static void
wset_write(const struct st_wtensor *t, size_t n, const char *path)
{
	static const char *const meta[] = { "format", "pt" };
	char err[ERRLEN];

	if (st_write_file(path, t, n, meta, 1, err, sizeof(err)) != 0) {
		fprintf(stderr, "st_write_file: %s\n", err);
		exit(99);
	}
}

static char good_dir[PATH_MAX];

/*
 * Makes the model directory tmp/name.  conf and labels: text, or NULL to
 * leave the file out.  weights: 1 links the good weights, 0 leaves them
 * out, -1 leaves the writing to the caller.
 */
static const char *
mkmodel(const char *name, const char *conf, const char *labels, int weights)
{
	static char dir[PATH_MAX];
	char p[PATH_MAX], g[PATH_MAX];

	test_path(dir, sizeof(dir), test_tmpdir(), name);
	if (mkdir(dir, 0755) != 0) {
		perror(dir);
		exit(99);
	}
	if (conf != NULL) {
		test_path(p, sizeof(p), dir, MODEL_CONFIG_FILE);
		write_file(p, conf, strlen(conf));
	}
	if (labels != NULL) {
		test_path(p, sizeof(p), dir, MODEL_LABELS_FILE);
		write_file(p, labels, strlen(labels));
	}
	if (weights == 1) {
		test_path(p, sizeof(p), dir, MODEL_WEIGHTS_FILE);
		test_path(g, sizeof(g), good_dir, MODEL_WEIGHTS_FILE);
		if (link(g, p) != 0 && symlink(g, p) != 0) {
			perror(p);
			exit(99);
		}
	}
	return dir;
}

/*
 * model_load(dir) must fail with code, *out NULL, and a message holding
 * dir/file (file NULL: dir itself) and needle (when not NULL).
 */
static void
load_fails(const char *what, const char *dir, const char *file, int code,
    const char *needle)
{
	struct model *md = (struct model *)&md;
	char err[ERRLEN], name[160], at[PATH_MAX];
	int r;

	snprintf(name, sizeof(name), "model_load refuses: %s", what);
	TEST_START(name);
	if (file != NULL)
		test_path(at, sizeof(at), dir, file);
	else
		snprintf(at, sizeof(at), "%s", dir);
	strcpy(err, "(unchanged)");
	r = model_load(dir, &md, err, sizeof(err));
	ASSERT_INT_EQ(r, code);
	ASSERT_PTR_EQ(md, NULL);
	ASSERT_STRING_CONTAINS(err, at);
	if (needle != NULL)
		ASSERT_STRING_CONTAINS(err, needle);
	if (r == 0)
		model_free(md);
	TEST_DONE();
}

static void
test_load_good(const struct wset *w)
{
	struct model *md = NULL;
	struct resnet *net = NULL;
	struct resnet_ws *ws = NULL;
	float x[3 * 32 * 32], y1[CLASSES], y2[CLASSES];
	char err[ERRLEN];
	const char *dir;
	size_t i;
	int r;

	TEST_START("model_load: a good directory");
	err[0] = '\0';
	r = model_load(good_dir, &md, err, sizeof(err));
	ASSERT_INT_EQ(r, 0);
	if (r != 0) {
		fprintf(stderr, "model_load: %s\n", err);
		TEST_DONE();
		return;
	}
	ASSERT_PTR_NE(md->md_net, NULL);
	ASSERT_STRING_EQ(md->md_conf.mc_name, "resnet18");
	ASSERT_INT_EQ(md->md_conf.mc_classes, CLASSES);
	ASSERT_INT_EQ(resnet_num_classes(md->md_net), CLASSES);
	ASSERT_PTR_EQ(resnet_get_arch(md->md_net),
	    resnet_arch_find("resnet18"));
	ASSERT_STRING_EQ(model_label(md, 0), "thing 0");
	ASSERT_STRING_EQ(model_label(md, 3), "the fourth label");
	ASSERT_STRING_EQ(model_label(md, 9), "thing 9");
	ASSERT_STRING_EQ(model_label(md, -1), "?");
	ASSERT_STRING_EQ(model_label(md, 10), "?");
	ASSERT_STRING_EQ(model_label(md, 1 << 30), "?");
	TEST_DONE();

	TEST_START("model_load: the loaded net computes what its weights say");
	for (i = 0; i < sizeof(x) / sizeof(x[0]); i++)
		x[i] = (float)((i * 7919) % 255) / 127.5f - 1.0f;
	ASSERT_INT_EQ(resnet_new(resnet_arch_find("resnet18"), CLASSES,
	    wset_fetch, (void *)w, &net, err, sizeof(err)), 0);
	ASSERT_INT_EQ(resnet_ws_new(md->md_net, 1, 32, 32, &ws, err,
	    sizeof(err)), 0);
	if (net != NULL && ws != NULL) {
		ASSERT_INT_EQ(resnet_forward(md->md_net, ws, x, 1, y1), 0);
		ASSERT_INT_EQ(resnet_forward(net, ws, x, 1, y2), 0);
		for (i = 0; i < CLASSES; i++) {
			ASSERT_TRUE(isfinite(y1[i]));
			ASSERT_DBL_LE(fabs((double)y1[i] - y2[i]), 1e-6 *
			    (fabs((double)y2[i]) + 1.0));
		}
	}
	resnet_ws_free(ws);
	resnet_free(net);
	model_free(md);
	model_free(NULL);
	TEST_DONE();

	TEST_START("model_load: CRLF labels, no final newline");
	dir = mkmodel("crlf", good_conf, "a\r\nb\r\nc\r\nd d\r\ne\r\nf\r\n"
	    "g\r\nh\r\ni\r\nlast one", 1);
	r = model_load(dir, &md, err, sizeof(err));
	ASSERT_INT_EQ(r, 0);
	if (r == 0) {
		ASSERT_STRING_EQ(model_label(md, 3), "d d");
		ASSERT_STRING_EQ(model_label(md, 9), "last one");
		model_free(md);
	} else
		fprintf(stderr, "model_load: %s\n", err);
	TEST_DONE();
}

static void
test_load_dirs(void)
{
	char p[PATH_MAX], *t;
	const char *dir;

	test_path(p, sizeof(p), test_tmpdir(), "does-not-exist");
	load_fails("missing directory", p, NULL, AG_ERR_NOT_FOUND, NULL);
	test_path(p, sizeof(p), good_dir, MODEL_CONFIG_FILE);
	load_fails("a file instead of a directory", p, NULL, AG_ERR_FORMAT,
	    NULL);

	dir = mkmodel("no-config", NULL, good_labels, 1);
	load_fails("missing config.json", dir, MODEL_CONFIG_FILE,
	    AG_ERR_NOT_FOUND, NULL);
	dir = mkmodel("config-dir", NULL, good_labels, 1);
	test_path(p, sizeof(p), dir, MODEL_CONFIG_FILE);
	if (mkdir(p, 0755) != 0)
		exit(99);
	load_fails("config.json a directory", dir, MODEL_CONFIG_FILE,
	    AG_ERR_FORMAT, NULL);
	t = test_xmalloc(MODEL_CONFIG_MAX + 2);
	memset(t, ' ', MODEL_CONFIG_MAX + 1);
	memcpy(t, good_conf, strlen(good_conf));
	t[MODEL_CONFIG_MAX + 1] = '\0';
	dir = mkmodel("config-big", t, good_labels, 1);
	free(t);
	load_fails("config.json over the size cap", dir, MODEL_CONFIG_FILE,
	    AG_ERR_TOO_LARGE, NULL);
	t = subst(good_conf, "\"num_classes\": 10", "\"num_classes\": 0");
	dir = mkmodel("config-bad", t, good_labels, 1);
	free(t);
	load_fails("bad config.json", dir, MODEL_CONFIG_FILE, AG_ERR_CONFIG,
	    "num_classes");
	dir = mkmodel("config-json", "{\"format\": ", good_labels, 1);
	load_fails("config.json not JSON", dir, MODEL_CONFIG_FILE,
	    AG_ERR_JSON, NULL);
	t = subst(good_conf, "\"num_classes\": 10", "\"num_classes\": 9");
	dir = mkmodel("config-nine", t, good_labels, 1);
	free(t);
	load_fails("num_classes 9 with 10 labels", dir, MODEL_LABELS_FILE,
	    AG_ERR_SHAPE, NULL);
}

static void
test_load_labels(void)
{
	const char *dir;
	char big[MODEL_LABEL_MAX + 64];

	dir = mkmodel("no-labels", good_conf, NULL, 1);
	load_fails("missing labels.txt", dir, MODEL_LABELS_FILE,
	    AG_ERR_NOT_FOUND, NULL);
	dir = mkmodel("labels-9", good_conf,
	    "a\nb\nc\nd\ne\nf\ng\nh\ni\n", 1);
	load_fails("9 labels for 10 classes", dir, MODEL_LABELS_FILE,
	    AG_ERR_SHAPE, NULL);
	dir = mkmodel("labels-11", good_conf,
	    "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\n", 1);
	load_fails("11 labels for 10 classes", dir, MODEL_LABELS_FILE,
	    AG_ERR_SHAPE, NULL);
	dir = mkmodel("labels-empty-file", good_conf, "", 1);
	load_fails("empty labels.txt", dir, MODEL_LABELS_FILE, AG_ERR_SHAPE,
	    NULL);
	dir = mkmodel("labels-empty-line", good_conf,
	    "a\nb\nc\n\ne\nf\ng\nh\ni\nj\n", 1);
	load_fails("an empty label line", dir, MODEL_LABELS_FILE,
	    AG_ERR_FORMAT, "line 4");
	dir = mkmodel("labels-trailing-blank", good_conf,
	    "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n", 1);
	load_fails("a blank line after the labels", dir, MODEL_LABELS_FILE,
	    AG_ERR_SHAPE, NULL);
	dir = mkmodel("labels-ctrl", good_conf,
	    "a\nb\nc\nd\ne\nf\x1b[31mred\ng\nh\ni\nj\n", 1);
	load_fails("a label with a control character", dir,
	    MODEL_LABELS_FILE, AG_ERR_FORMAT, "line 6");
	dir = mkmodel("labels-tab", good_conf,
	    "a\nb\nc\nd\ne\nf\ng\th\nh\ni\nj\n", 1);
	load_fails("a label with a tab", dir, MODEL_LABELS_FILE,
	    AG_ERR_FORMAT, "line 7");
	dir = mkmodel("labels-quote", good_conf,
	    "a\nb\"\nc\nd\ne\nf\ng\nh\ni\nj\n", 1);
	load_fails("a label with a quote", dir, MODEL_LABELS_FILE,
	    AG_ERR_FORMAT, "line 2");
	memset(big, 'x', sizeof(big));
	memcpy(big, "a\nb\nc\nd\ne\nf\ng\nh\ni\n", 18);
	big[18 + MODEL_LABEL_MAX + 1] = '\n';
	big[18 + MODEL_LABEL_MAX + 2] = '\0';
	dir = mkmodel("labels-long", good_conf, big, 1);
	load_fails("a label over the length cap", dir, MODEL_LABELS_FILE,
	    AG_ERR_FORMAT, "line 10");
}

static void
test_load_weights(struct wset *w)
{
	struct st_wtensor *t = test_xmalloc((w->ws_n + 1) * sizeof(*t));
	const struct st_wtensor *src;
	char p[PATH_MAX];
	const char *dir;
	float *bigfc, *bad, zero = 0.0f;
	size_t i, k, n;

	dir = mkmodel("no-weights", good_conf, good_labels, 0);
	load_fails("missing model.safetensors", dir, MODEL_WEIGHTS_FILE,
	    AG_ERR_NOT_FOUND, NULL);

	dir = mkmodel("weights-empty", good_conf, good_labels, -1);
	test_path(p, sizeof(p), dir, MODEL_WEIGHTS_FILE);
	write_file(p, "", 0);
	load_fails("empty model.safetensors", dir, MODEL_WEIGHTS_FILE,
	    AG_ERR_TRUNCATED, NULL);

	/* fc.weight (11, 512) where (10, 512) is expected. */
	bigfc = test_xmalloc((size_t)(CLASSES + 1) * 512 * sizeof(*bigfc));
	memset(bigfc, 0, (size_t)(CLASSES + 1) * 512 * sizeof(*bigfc));
	memcpy(t, w->ws_t, w->ws_n * sizeof(*t));
	for (i = 0; i < w->ws_n; i++)
		if (strcmp(t[i].name, "fc.weight") == 0) {
			t[i].shape[0] = CLASSES + 1;
			t[i].data = bigfc;
		}
	dir = mkmodel("weights-fc-shape", good_conf, good_labels, -1);
	test_path(p, sizeof(p), dir, MODEL_WEIGHTS_FILE);
	wset_write(t, w->ws_n, p);
	load_fails("fc.weight of the wrong shape", dir, MODEL_WEIGHTS_FILE,
	    AG_ERR_SHAPE, "fc.weight");
	free(bigfc);

	/* Without layer4.1.bn2.running_var. */
	for (i = 0, n = 0; i < w->ws_n; i++)
		if (strcmp(w->ws_t[i].name, "layer4.1.bn2.running_var") != 0)
			t[n++] = w->ws_t[i];
	dir = mkmodel("weights-missing", good_conf, good_labels, -1);
	test_path(p, sizeof(p), dir, MODEL_WEIGHTS_FILE);
	wset_write(t, n, p);
	load_fails("a missing tensor", dir, MODEL_WEIGHTS_FILE,
	    AG_ERR_MISSING, "layer4.1.bn2.running_var");

	/* Everything, plus extra.weight. */
	memcpy(t, w->ws_t, w->ws_n * sizeof(*t));
	t[w->ws_n].name = "extra.weight";
	t[w->ws_n].ndim = 1;
	t[w->ws_n].shape[0] = 1;
	t[w->ws_n].data = &zero;
	dir = mkmodel("weights-extra", good_conf, good_labels, -1);
	test_path(p, sizeof(p), dir, MODEL_WEIGHTS_FILE);
	wset_write(t, w->ws_n + 1, p);
	load_fails("an extra tensor", dir, MODEL_WEIGHTS_FILE,
	    AG_ERR_UNEXPECTED, "extra.weight");

	/* layer3.0.bn1.running_var with one negative element. */
	src = wset_find(w, "layer3.0.bn1.running_var");
	bad = test_xmalloc((size_t)src->shape[0] * sizeof(*bad));
	memcpy(bad, src->data, (size_t)src->shape[0] * sizeof(*bad));
	bad[17] = -0.5f;
	memcpy(t, w->ws_t, w->ws_n * sizeof(*t));
	for (i = 0; i < w->ws_n; i++)
		if (t[i].data == src->data)
			t[i].data = bad;
	dir = mkmodel("weights-negvar", good_conf, good_labels, -1);
	test_path(p, sizeof(p), dir, MODEL_WEIGHTS_FILE);
	wset_write(t, w->ws_n, p);
	load_fails("a negative running_var", dir, MODEL_WEIGHTS_FILE,
	    AG_ERR_NUMERIC, "layer3.0.bn1.running_var");

	/* The same tensor with a NaN. */
	bad[17] = NAN;
	dir = mkmodel("weights-nan", good_conf, good_labels, -1);
	test_path(p, sizeof(p), dir, MODEL_WEIGHTS_FILE);
	wset_write(t, w->ws_n, p);
	load_fails("a NaN in running_var", dir, MODEL_WEIGHTS_FILE,
	    AG_ERR_NUMERIC, "layer3.0.bn1.running_var");
	free(bad);

	/* A counter stored as F32 (torchvision stores int64). */
	memcpy(t, w->ws_t, w->ws_n * sizeof(*t));
	for (i = 0, k = 0; i < w->ws_n; i++)
		if (strcmp(t[i].name, "bn1.running_var") == 0)
			k = i;
	memmove(&t[k + 2], &t[k + 1], (w->ws_n - k - 1) * sizeof(*t));
	memset(&t[k + 1], 0, sizeof(*t));
	t[k + 1].name = "bn1.num_batches_tracked";
	t[k + 1].ndim = 0;
	t[k + 1].data = &zero;
	dir = mkmodel("weights-counter-f32", good_conf, good_labels, -1);
	test_path(p, sizeof(p), dir, MODEL_WEIGHTS_FILE);
	wset_write(t, w->ws_n + 1, p);
	load_fails("num_batches_tracked as F32", dir, MODEL_WEIGHTS_FILE,
	    AG_ERR_DTYPE, "bn1.num_batches_tracked");

	/* The good file cut short. */
	{
		static char head[4096];
		FILE *fp;
		size_t got;

		test_path(p, sizeof(p), good_dir, MODEL_WEIGHTS_FILE);
		if ((fp = fopen(p, "rb")) == NULL)
			exit(99);
		got = fread(head, 1, sizeof(head), fp);
		fclose(fp);
		dir = mkmodel("weights-cut", good_conf, good_labels, -1);
		test_path(p, sizeof(p), dir, MODEL_WEIGHTS_FILE);
		write_file(p, head, got);
		TEST_START("model_load refuses: a truncated model.safetensors");
		{
			struct model *md = (struct model *)&md;
			char err[ERRLEN];

			ASSERT_INT_LT(model_load(dir, &md, err, sizeof(err)),
			    0);
			ASSERT_PTR_EQ(md, NULL);
			ASSERT_STRING_CONTAINS(err, p);
		}
		TEST_DONE();
	}
	free(t);
}

void
tests(void)
{
	struct wset w;
	const char *dir;

	test_plan(81);

	test_conf_valid();
	test_conf_invalid();

	wset_make(&w);
	dir = mkmodel("good", good_conf, good_labels, -1);
	snprintf(good_dir, sizeof(good_dir), "%s", dir);
	{
		char p[PATH_MAX];

		test_path(p, sizeof(p), good_dir, MODEL_WEIGHTS_FILE);
		wset_write(w.ws_t, w.ws_n, p);
	}
	test_load_good(&w);
	test_load_dirs();
	test_load_labels();
	test_load_weights(&w);
	wset_free(&w);
}
