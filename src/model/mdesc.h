/* SPDX-License-Identifier: ISC */
/*
 * mdesc.h: the description of a loaded model, as it travels.
 *
 * Plain fixed-size data, defined once: the worker fills it from the model
 * it loaded (model_describe()), sends it to the front inside its HELLO
 * message (daemon/ipc.h, which checks every field of it), and the http
 * layer publishes it (http/hmodel.h).  The sizes are the model's own
 * limits: config.json's name and arch, the signature's digest and signer
 * (model.c asserts that they fit), the store's versions.  Strings are
 * NUL-terminated within their arrays.
 */
#ifndef AG_MDESC_H
#define AG_MDESC_H

#include <stdint.h>

#define MODEL_NAME_MAX		64	/* [A-Za-z0-9._-]+ */
#define MODEL_VERSION_MAX	16	/* "1".."999999999" */
#define MODEL_ARCH_MAX		32	/* "resnet18", ... */
#define MODEL_DIGEST_MAX	80	/* "sha256:" + 64 hex */
#define MODEL_SIGNER_MAX	512	/* the key's or certificate's name */
#define MODEL_SOURCE_MAX	256	/* config.json's free text */
/* The labels, which follow the description: one per class. */
#define MODEL_LABEL_MAX		200	/* bytes of one label */
#define MODEL_LABELS_MAX	(4 * 1024 * 1024)	/* labels.txt */

struct model_desc {
	char	d_name[MODEL_NAME_MAX];
	char	d_version[MODEL_VERSION_MAX];
	char	d_arch[MODEL_ARCH_MAX];
	char	d_digest[MODEL_DIGEST_MAX];	/* "" when unsigned */
	char	d_signer[MODEL_SIGNER_MAX];	/* "" when unsigned */
	char	d_source[MODEL_SOURCE_MAX];
	int32_t	d_channels, d_height, d_width;	/* the input tensor */
	int32_t	d_classes;
	int32_t	d_resize;			/* shorter side before crop */
	int32_t	d_max_request;			/* images per request */
	int32_t	d_synthetic;			/* 1: not trained weights */
	int32_t	d_verified;			/* 1: model.sig verified */
};

#endif /* AG_MDESC_H */
