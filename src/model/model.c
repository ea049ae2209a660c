/* SPDX-License-Identifier: ISC */
/*
 * model.c: loading a model directory (config, labels, weights) into the
 * engine.  See model.h.
 */
#include <sys/stat.h>

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ag_err.h"
#include "common/util.h"
#include "engine/resnet.h"
#include "mfiles.h"
#include "model.h"
#include "msig.h"
#include "safetensors.h"

/* ==== config.json ==== */

/* where: "" for a top-level key, "input." for one inside "input". */
static int
conf_int(json_t *obj, const char *where, const char *key, long lo, long hi,
    int *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL)
		return ag_errf(err, errlen, AG_ERR_MISSING,
		    "missing key \"%s%s\"", where, key);
	if (!json_is_integer(v) || json_integer_value(v) < lo ||
	    json_integer_value(v) > hi)
		return ag_errf(err, errlen, AG_ERR_CONFIG,
		    "\"%s%s\" must be an integer in %ld..%ld", where, key, lo,
		    hi);
	*out = (int)json_integer_value(v);
	return 0;
}

static int
conf_str(json_t *obj, const char *key, int required, char *out, size_t len,
    char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, key);
	size_t i, n;
	const char *s;

	if (v == NULL) {
		if (required)
			return ag_errf(err, errlen, AG_ERR_MISSING,
			    "missing key \"%s\"", key);
		out[0] = '\0';
		return 0;
	}
	if (!json_is_string(v))
		return ag_errf(err, errlen, AG_ERR_CONFIG,
		    "\"%s\" must be a string", key);
	s = json_string_value(v);
	n = json_string_length(v);
	if (n >= len)
		return ag_errf(err, errlen, AG_ERR_CONFIG,
		    "\"%s\" is longer than %zu bytes", key, len - 1);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return ag_errf(err, errlen, AG_ERR_CONFIG,
			    "\"%s\" holds a control character", key);
	memcpy(out, s, n + 1);
	return 0;
}

static int
conf_vec3(json_t *obj, const char *key, int positive, float out[3],
    char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, key), *e;
	double d;
	size_t i;

	if (v == NULL)
		return ag_errf(err, errlen, AG_ERR_MISSING,
		    "missing key \"input.%s\"", key);
	if (!json_is_array(v) || json_array_size(v) != 3)
		return ag_errf(err, errlen, AG_ERR_CONFIG,
		    "\"input.%s\" must be an array of 3 numbers", key);
	for (i = 0; i < 3; i++) {
		e = json_array_get(v, i);
		if (!json_is_number(e))
			return ag_errf(err, errlen, AG_ERR_CONFIG,
			    "\"input.%s\"[%zu] is not a number", key, i);
		d = json_number_value(e);
		if (!isfinite(d) || fabs(d) > 1e6 || (positive && !(d > 0)))
			return ag_errf(err, errlen, AG_ERR_CONFIG,
			    "\"input.%s\"[%zu] = %g is out of range%s", key,
			    i, d, positive ? " (must be > 0)" : "");
		out[i] = (float)d;
	}
	return 0;
}

/* Refuses keys of obj not in the NULL-terminated list allowed. */
static int
conf_only(json_t *obj, const char *where, const char *const *allowed,
    char *err, size_t errlen)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(obj, key, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL)
			return ag_errf(err, errlen, AG_ERR_UNEXPECTED,
			    "unknown key \"%s%s\"", where, key);
	}
	return 0;
}

int
model_conf_parse(const char *buf, size_t len, struct model_conf *conf,
    char *err, size_t errlen)
{
	static const char *const top[] = { "format", "name", "architecture",
	    "num_classes", "input", "synthetic", "source", NULL };
	static const char *const inp[] = { "height", "width", "resize",
	    "mean", "std", NULL };
	char fmt[32];
	json_error_t jerr;
	json_t *root, *in, *syn;
	size_t i;
	int r;

	memset(conf, 0, sizeof(*conf));
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return ag_errf(err, errlen, AG_ERR_JSON,
		    "invalid JSON at line %d column %d: %s", jerr.line,
		    jerr.column, jerr.text);
	if (!json_is_object(root)) {
		r = ag_errf(err, errlen, AG_ERR_CONFIG, "not a JSON object");
		goto out;
	}
	if ((r = conf_only(root, "", top, err, errlen)) != 0 ||
	    (r = conf_str(root, "format", 1, fmt, sizeof(fmt), err,
	    errlen)) != 0)
		goto out;
	if (strcmp(fmt, MODEL_CONFIG_FORMAT) != 0) {
		r = ag_errf(err, errlen, AG_ERR_UNSUPPORTED,
		    "\"format\" is \"%s\", expected \"%s\"", fmt,
		    MODEL_CONFIG_FORMAT);
		goto out;
	}
	if ((r = conf_str(root, "name", 1, conf->mc_name,
	    sizeof(conf->mc_name), err, errlen)) != 0 ||
	    (r = conf_str(root, "architecture", 1, conf->mc_arch,
	    sizeof(conf->mc_arch), err, errlen)) != 0 ||
	    (r = conf_str(root, "source", 0, conf->mc_source,
	    sizeof(conf->mc_source), err, errlen)) != 0 ||
	    (r = conf_int(root, "", "num_classes", 1, RESNET_MAX_CLASSES,
	    &conf->mc_classes, err, errlen)) != 0)
		goto out;
	/* The name appears in URLs and logs: keep it to a safe alphabet. */
	for (i = 0; conf->mc_name[i] != '\0'; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789._-", conf->mc_name[i]) == NULL)
			break;
	if (i == 0 || conf->mc_name[i] != '\0' || conf->mc_name[0] == '.') {
		r = ag_errf(err, errlen, AG_ERR_CONFIG, "\"name\" must be "
		    "1-%d of [A-Za-z0-9._-], not starting with '.'",
		    MODEL_NAME_MAX - 1);
		goto out;
	}
	if (resnet_arch_find(conf->mc_arch) == NULL) {
		r = ag_errf(err, errlen, AG_ERR_UNSUPPORTED,
		    "\"architecture\" \"%s\" is not one of %s", conf->mc_arch,
		    resnet_arch_names());
		goto out;
	}
	if ((syn = json_object_get(root, "synthetic")) != NULL) {
		if (!json_is_boolean(syn)) {
			r = ag_errf(err, errlen, AG_ERR_CONFIG,
			    "\"synthetic\" must be true or false");
			goto out;
		}
		conf->mc_synthetic = json_is_true(syn);
	}
	in = json_object_get(root, "input");
	if (in == NULL || !json_is_object(in)) {
		r = ag_errf(err, errlen, in ? AG_ERR_CONFIG : AG_ERR_MISSING,
		    "\"input\" must be an object");
		goto out;
	}
	if ((r = conf_only(in, "input.", inp, err, errlen)) != 0 ||
	    (r = conf_int(in, "input.", "height", RESNET_MIN_SIDE,
	    RESNET_MAX_SIDE, &conf->mc_height, err, errlen)) != 0 ||
	    (r = conf_int(in, "input.", "width", RESNET_MIN_SIDE,
	    RESNET_MAX_SIDE, &conf->mc_width, err, errlen)) != 0 ||
	    (r = conf_int(in, "input.", "resize", 1, 8192, &conf->mc_resize,
	    err, errlen)) != 0 ||
	    (r = conf_vec3(in, "mean", 0, conf->mc_mean, err, errlen)) != 0 ||
	    (r = conf_vec3(in, "std", 1, conf->mc_std, err, errlen)) != 0)
		goto out;
	r = 0;
 out:
	json_decref(root);
	return r;
}

/* ==== labels.txt ==== */

/* Splits the labels file into n lines; refuses any other count. */
static int
labels_parse(const char *buf, size_t len, int n, char ***out, char *err,
    size_t errlen)
{
	char **lab;
	const char *p = buf, *end = buf + len, *nl;
	size_t i, l;
	int k = 0, r;

	*out = NULL;
	if ((lab = calloc((size_t)n, sizeof(*lab))) == NULL)
		return ag_errf(err, errlen, AG_ERR_ALLOC, "out of memory");
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (l > 0 && p[l - 1] == '\r')
			l--;
		if (k >= n) {
			r = ag_errf(err, errlen, AG_ERR_SHAPE,
			    "more than %d lines (num_classes)", n);
			goto fail;
		}
		if (l == 0 || l > MODEL_LABEL_MAX) {
			r = ag_errf(err, errlen, AG_ERR_FORMAT,
			    "line %d: label empty or longer than %d bytes",
			    k + 1, MODEL_LABEL_MAX);
			goto fail;
		}
		for (i = 0; i < l; i++)
			if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f ||
			    p[i] == '"' || p[i] == '\\') {
				r = ag_errf(err, errlen, AG_ERR_FORMAT,
				    "line %d: control character, quote or "
				    "backslash in label", k + 1);
				goto fail;
			}
		if ((lab[k] = strndup(p, l)) == NULL) {
			r = ag_errf(err, errlen, AG_ERR_ALLOC,
			    "out of memory");
			goto fail;
		}
		k++;
		p = nl ? nl + 1 : end;
	}
	if (k != n) {
		r = ag_errf(err, errlen, AG_ERR_SHAPE,
		    "%d labels, num_classes is %d", k, n);
		goto fail;
	}
	*out = lab;
	return 0;
 fail:
	for (k = 0; k < n; k++)
		free(lab[k]);
	free(lab);
	return r;
}

/* ==== weights ==== */

static int
weights_fetch(void *ctx, const char *name, float *dst, size_t count,
    char *err, size_t errlen)
{
	const struct st_tensor *t = st_find(ctx, name);

	if (t == NULL)
		return ag_errf(err, errlen, AG_ERR_MISSING,
		    "tensor %s is missing", name);
	return st_tensor_to_f32(t, dst, count, err, errlen);
}

static int
weights_check(const struct st_file *sf, const struct model_conf *conf,
    char *err, size_t errlen)
{
	const struct resnet_arch *arch = resnet_arch_find(conf->mc_arch);
	struct resnet_param *rp = NULL;
	struct st_expect *ex = NULL;
	size_t n, i;
	int r, d;

	if ((r = resnet_params(arch, conf->mc_classes, &rp, &n)) != 0)
		return ag_errf(err, errlen, r, "cannot list parameters");
	if ((ex = calloc(n, sizeof(*ex))) == NULL) {
		r = ag_errf(err, errlen, AG_ERR_ALLOC, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		ex[i].name = rp[i].rp_name;
		ex[i].ndim = rp[i].rp_ndim;
		for (d = 0; d < 4; d++)
			ex[i].shape[d] = rp[i].rp_shape[d];
		if (rp[i].rp_kind == RESNET_PARAM_FLOAT)
			ex[i].float_ok = 1;
		else {
			/* BatchNorm's step counter: tolerated, ignored. */
			ex[i].dtype = ST_I64;
			ex[i].optional = 1;
		}
	}
	r = st_check_expected(sf, ex, n, err, errlen);
 out:
	free(ex);
	free(rp);
	return r;
}

/* ==== the directory ==== */

/*
 * One file of the model, as read (once) by mf.  When the model is signed,
 * the file must be one the signature covers: a signer's ignore_paths may
 * leave files out of the signature, but never one that we load.
 */
static int
model_file(struct mfiles *mf, const char *name, size_t max, int signed_,
    const struct mfile **out, char *err, size_t errlen)
{
	const struct mfile *f;
	char msg[512];
	int r;

	if ((r = mfiles_read(mf, name, 1, &f, msg, sizeof(msg))) != 0)
		return ag_errf(err, errlen, r, "%s", msg);
	if (f->mf_len > max)
		return ag_errf(err, errlen, AG_ERR_TOO_LARGE,
		    "%s/%s: %zu bytes, more than the %zu allowed",
		    mfiles_path(mf), name, f->mf_len, max);
	if (signed_ && !f->mf_verified)
		return ag_errf(err, errlen, AG_ERR_SIGNATURE,
		    "%s/%s: not covered by the signature (ignored when it was "
		    "signed)", mfiles_path(mf), name);
	*out = f;
	return 0;
}

/* Config, labels and weights from mf into md. */
static int
model_parse(struct mfiles *mf, struct model *md, int signed_, char *err,
    size_t errlen)
{
	const char *dir = mfiles_path(mf);
	const struct mfile *f;
	struct st_file *sf = NULL;
	char msg[512];
	int r;

	if ((r = model_file(mf, MODEL_CONFIG_FILE, MODEL_CONFIG_MAX, signed_,
	    &f, err, errlen)) != 0)
		return r;
	if ((r = model_conf_parse((const char *)f->mf_data, f->mf_len,
	    &md->md_conf, msg, sizeof(msg))) != 0)
		return ag_errf(err, errlen, r, "%s/%s: %s", dir,
		    MODEL_CONFIG_FILE, msg);

	if ((r = model_file(mf, MODEL_LABELS_FILE, MODEL_LABELS_MAX, signed_,
	    &f, err, errlen)) != 0)
		return r;
	if ((r = labels_parse((const char *)f->mf_data, f->mf_len,
	    md->md_conf.mc_classes, &md->md_labels, msg, sizeof(msg))) != 0)
		return ag_errf(err, errlen, r, "%s/%s: %s", dir,
		    MODEL_LABELS_FILE, msg);

	if ((r = model_file(mf, MODEL_WEIGHTS_FILE, SIZE_MAX, signed_, &f,
	    err, errlen)) != 0)
		return r;
	if ((r = st_parse(f->mf_data, f->mf_len, &sf, msg, sizeof(msg))) != 0 ||
	    (r = weights_check(sf, &md->md_conf, msg, sizeof(msg))) != 0 ||
	    (r = resnet_new(resnet_arch_find(md->md_conf.mc_arch),
	    md->md_conf.mc_classes, weights_fetch, sf, &md->md_net, msg,
	    sizeof(msg))) != 0)
		r = ag_errf(err, errlen, r, "%s/%s: %s", dir,
		    MODEL_WEIGHTS_FILE, msg);
	st_close(sf);
	return r;
}

int
model_load_signed(const char *dir, const struct msig_trust *trust,
    struct model **out, char *err, size_t errlen)
{
	struct model *md = NULL;
	struct mfiles *mf = NULL;
	char msg[1024];
	double t0 = ag_now(), t1;
	int r;

	*out = NULL;
	if ((r = mfiles_open(dir, &mf, err, errlen)) != 0)
		return r;
	if ((md = calloc(1, sizeof(*md))) == NULL ||
	    (md->md_dir = strdup(dir)) == NULL) {
		r = ag_errf(err, errlen, AG_ERR_ALLOC, "out of memory");
		goto fail;
	}
	if (trust != NULL) {
		r = msig_verify(mf, trust, NULL, 0, &md->md_sig, msg,
		    sizeof(msg));
		if (r == AG_ERR_NOT_FOUND)
			r = ag_errf(err, errlen, AG_ERR_SIGNATURE, "%s/%s: "
			    "missing: the model is not signed", dir, MSIG_FILE);
		else if (r != 0)
			(void)ag_errf(err, errlen, r, "%s", msg);
		if (r != 0)
			goto fail;
		md->md_signed = 1;
	}
	t1 = ag_now();
	if ((r = model_parse(mf, md, trust != NULL, err, errlen)) != 0)
		goto fail;
	md->md_verify_s = t1 - t0;
	md->md_build_s = ag_now() - t1;
	mfiles_close(mf);
	*out = md;
	return 0;
 fail:
	mfiles_close(mf);
	model_free(md);
	return r;
}

int
model_load(const char *dir, struct model **out, char *err, size_t errlen)
{
	return model_load_signed(dir, NULL, out, err, errlen);
}

void
model_free(struct model *md)
{
	int i;

	if (md == NULL)
		return;
	if (md->md_labels != NULL)
		for (i = 0; i < md->md_conf.mc_classes; i++)
			free(md->md_labels[i]);
	free(md->md_labels);
	resnet_free(md->md_net);
	free(md->md_dir);
	free(md);
}

const char *
model_label(const struct model *md, int i)
{
	if (i < 0 || i >= md->md_conf.mc_classes || md->md_labels == NULL)
		return "?";
	return md->md_labels[i];
}

/*
 * Finds rel (a directory, relative to the build tree) next to the running
 * binary: in build/bin (rel is "../rel") or build/asan/bin ("../../rel"),
 * holding the file probe.  Writes "DIR/rel" (probe excluded) into buf.
 */
static int
model_build_path(const char *rel, const char *probe, char *buf, size_t len)
{
	static const char *const up[] = { "..", "../.." };
	char exe[PATH_MAX], cand[PATH_MAX + 256], *slash;
	struct stat st;
	ssize_t n;
	size_t i;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return AG_ERR_NOT_FOUND;
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) != NULL)
		*slash = '\0';
	for (i = 0; i < sizeof(up) / sizeof(up[0]); i++) {
		(void)snprintf(cand, sizeof(cand), "%s/%s/%s/%s", exe, up[i],
		    rel, probe);
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
			if ((size_t)snprintf(buf, len, "%s/%s/%s", exe, up[i],
			    rel) >= len)
				return AG_ERR_TOO_LARGE;
			return 0;
		}
	}
	return AG_ERR_NOT_FOUND;
}

/* What crosses to the front fits: the description's sizes are these. */
_Static_assert(sizeof(((struct model_conf *)0)->mc_name) == MODEL_NAME_MAX &&
    sizeof(((struct model_conf *)0)->mc_arch) == MODEL_ARCH_MAX &&
    sizeof(((struct model_conf *)0)->mc_source) == MODEL_SOURCE_MAX &&
    sizeof(((struct model *)0)->md_version) == MODEL_VERSION_MAX &&
    sizeof(((struct msig_result *)0)->mr_digest) == MODEL_DIGEST_MAX &&
    sizeof(((struct msig_result *)0)->mr_signer) == MODEL_SIGNER_MAX,
    "struct model_desc's sizes are the model's");

void
model_describe(const struct model *md, const char *name,
    struct model_desc *d)
{
	const struct model_conf *mc = &md->md_conf;

	memset(d, 0, sizeof(*d));
	(void)snprintf(d->d_name, sizeof(d->d_name), "%s",
	    name != NULL && *name != '\0' ? name : mc->mc_name);
	(void)snprintf(d->d_version, sizeof(d->d_version), "%s",
	    md->md_version);
	(void)snprintf(d->d_arch, sizeof(d->d_arch), "%s", mc->mc_arch);
	if (md->md_signed) {
		(void)snprintf(d->d_digest, sizeof(d->d_digest), "%s",
		    md->md_sig.mr_digest);
		(void)snprintf(d->d_signer, sizeof(d->d_signer), "%s",
		    md->md_sig.mr_signer);
	}
	(void)snprintf(d->d_source, sizeof(d->d_source), "%s", mc->mc_source);
	d->d_channels = 3;
	d->d_height = mc->mc_height;
	d->d_width = mc->mc_width;
	d->d_classes = mc->mc_classes;
	d->d_resize = mc->mc_resize;
	d->d_synthetic = mc->mc_synthetic != 0;
	d->d_verified = md->md_signed != 0;
}

int
model_default_dir(char *buf, size_t len)
{
	const char *env = getenv("AIGUARD_MODEL");
	struct stat st;
	int r;

	if (env != NULL && *env != '\0') {
		if ((size_t)snprintf(buf, len, "%s", env) >= len)
			return AG_ERR_TOO_LARGE;
		return 0;
	}
	if ((r = model_build_path("models/resnet18", MODEL_CONFIG_FILE, buf,
	    len)) != AG_ERR_NOT_FOUND)
		return r;
	if (stat("/usr/share/aiguard/models/resnet18/" MODEL_CONFIG_FILE,
	    &st) == 0) {
		snprintf(buf, len, "/usr/share/aiguard/models/resnet18");
		return 0;
	}
	return AG_ERR_NOT_FOUND;
}

int
model_default_key(char *buf, size_t len)
{
	size_t n;
	int r;

	if ((r = model_build_path("keys", MODEL_BUILD_KEY, buf, len)) != 0)
		return r;
	n = strlen(buf);
	if ((size_t)snprintf(buf + n, len - n, "/%s", MODEL_BUILD_KEY) >=
	    len - n)
		return AG_ERR_TOO_LARGE;
	return 0;
}
