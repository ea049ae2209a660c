/* SPDX-License-Identifier: ISC */
/*
 * model.h: a model directory, loaded and checked.
 *
 * A model is a directory holding
 *   config.json        what the model is (format described in docs/model.md)
 *   labels.txt         one class label per line, num_classes lines
 *   model.safetensors  the weights, with torchvision's state_dict names
 * Everything in it is operator input and is distrusted: each file has a size
 * cap, the config is parsed strictly (unknown keys refused), the labels are
 * checked for count and content, and the weights must be exactly the
 * tensors the architecture needs.  Errors name the file and the fault.
 */
#ifndef AG_MODEL_H
#define AG_MODEL_H

#include <stddef.h>

#include "mdesc.h"
#include "msig.h"

#define MODEL_CONFIG_FILE	"config.json"
#define MODEL_LABELS_FILE	"labels.txt"
#define MODEL_WEIGHTS_FILE	"model.safetensors"
#define MODEL_CONFIG_FORMAT	"aiguard-model-v1"
#define MODEL_CONFIG_MAX	(64 * 1024)

struct model_conf {
	char	mc_name[MODEL_NAME_MAX];	/* [A-Za-z0-9._-]+ */
	char	mc_arch[MODEL_ARCH_MAX];	/* "resnet18", ... */
	int	mc_classes;
	int	mc_height, mc_width;		/* network input */
	int	mc_resize;			/* shorter side before crop */
	float	mc_mean[3], mc_std[3];		/* per RGB channel */
	int	mc_synthetic;			/* 1: not trained weights */
	char	mc_source[MODEL_SOURCE_MAX];	/* free text, may be "" */
};

struct resnet;

struct model {
	struct model_conf	 md_conf;
	char			**md_labels;	/* mc_classes strings */
	struct resnet		*md_net;
	char			*md_dir;
	char			 md_version[MODEL_VERSION_MAX]; /* the caller's */
	int			 md_signed;	/* md_sig is filled */
	struct msig_result	 md_sig;	/* digest and signer */
	double			 md_verify_s;	/* seconds to read and verify */
	double			 md_build_s;	/* seconds to parse and build */
};

/*
 * Parses config.json text buf[0..len) into *conf.  Returns 0 or an AG_ERR_*
 * code with a message naming the key at fault.
 */
int	model_conf_parse(const char *buf, size_t len, struct model_conf *conf,
	    char *err, size_t errlen);

/*
 * Loads the model directory dir: config, labels and weights (folded into a
 * new engine network).  *out is new; free with model_free().  On failure
 * *out is NULL and err names the file and the fault.
 */
int	model_load(const char *dir, struct model **out, char *err,
	    size_t errlen);

/*
 * model_load(), and first, when trust is not NULL, the signature check:
 * model.sig must verify against trust (msig_verify()), and the files
 * loaded must be among those it covers.  The bytes checked are the bytes
 * loaded (mfiles.h).  With trust NULL, no check: the caller has decided
 * that unsigned models are allowed.  A model that is not signed, or whose
 * signature does not verify, gives AG_ERR_SIGNATURE (or the bundle's
 * format error) and a message naming the file or field.
 */
int	model_load_signed(const char *dir, const struct msig_trust *trust,
	    struct model **out, char *err, size_t errlen);
void	model_free(struct model *md);

/* Label of class i (borrowed until model_free()), or "?" when out of range. */
const char *model_label(const struct model *md, int i);

/*
 * The description of md (mdesc.h), named name (NULL: config.json's), with
 * d_max_request 0 (the server's setting, the caller's to fill).
 */
void	model_describe(const struct model *md, const char *name,
	    struct model_desc *d);

/*
 * Finds the bundled default model: $AIGUARD_MODEL when set, else the
 * build tree's models/resnet18 next to the running binary, else the
 * installed /usr/share/aiguard/models/resnet18.  Writes the path into buf.
 * Returns 0, or AG_ERR_NOT_FOUND when none exists.  Called by
 * model_locate() only (locate.h): everything else goes through it.
 */
int	model_default_dir(char *buf, size_t len);

/*
 * Finds the build tree's signing key, which signs the default model at
 * build time: keys/aiguard-build.pub next to the running binary's build
 * directory.  Writes the path into buf.  Returns 0, or AG_ERR_NOT_FOUND
 * when the binary does not run from a build tree.
 */
#define MODEL_BUILD_KEY		"aiguard-build.pub"
int	model_default_key(char *buf, size_t len);

#endif /* AG_MODEL_H */
