/* SPDX-License-Identifier: ISC */
/*
 * hmodel.h: the model the HTTP server answers for, as published.
 *
 * The backend (in aiguardd: the front's link to the worker) tells what it
 * serves with a description (model/mdesc.h) and the labels; http_model_new()
 * checks the labels and makes one struct http_model of them.  Once
 * published it is immutable and reference-counted: a request holds a
 * reference from routing to its answer, so a reload that publishes a new
 * model never changes one under a request.
 */
#ifndef AG_HTTP_HMODEL_H
#define AG_HTTP_HMODEL_H

#include <stddef.h>

#include "model/mdesc.h"

struct http_model {
	int			 hm_refs;	/* atomic */
	struct model_desc	 hm_desc;
	char			**hm_labels;	/* hm_desc.d_classes strings */
	char			*hm_label_buf;	/* their storage */
	/*
	 * The backend's tag (in aiguardd: which worker published it), set
	 * before the model is published; the http layer never reads it.
	 */
	unsigned int		 hm_backend;
};

/*
 * A new model of d (d_classes >= 1, as the IPC checked) and its labels:
 * labels[0, len) holds d_classes NUL-terminated strings back to back, each
 * at most MODEL_LABEL_MAX bytes, nothing after them.  labels becomes the
 * model's (or is freed, on failure).  0 with *out holding one reference,
 * or AG_ERR_ALLOC, or AG_ERR_PROTOCOL with err naming the fault.
 */
int	http_model_new(const struct model_desc *d, char *labels, size_t len,
	    struct http_model **out, char *err, size_t errlen);
/* Another reference to hm (NULL: NULL). */
struct http_model *http_model_ref(struct http_model *hm);
/* Drops one reference; the last one frees hm.  NULL: nothing. */
void	http_model_unref(struct http_model *hm);

#endif /* AG_HTTP_HMODEL_H */
