/* SPDX-License-Identifier: ISC */
/*
 * hmodel.c: the published model (hmodel.h).
 */
#include <stdlib.h>
#include <string.h>

#include "common/ag_err.h"
#include "hmodel.h"

int
http_model_new(const struct model_desc *d, char *labels, size_t len,
    struct http_model **out, char *err, size_t errlen)
{
	struct http_model *hm;
	size_t off = 0;
	int i;

	*out = NULL;
	if (d->d_classes < 1) {
		free(labels);
		return ag_errf(err, errlen, AG_ERR_PROTOCOL, "no classes");
	}
	if ((hm = calloc(1, sizeof(*hm))) == NULL) {
		free(labels);
		return AG_ERR_ALLOC;
	}
	hm->hm_refs = 1;
	hm->hm_label_buf = labels;	/* freed with hm from here on */
	if ((hm->hm_labels = calloc((size_t)d->d_classes,
	    sizeof(char *))) == NULL) {
		http_model_unref(hm);
		return AG_ERR_ALLOC;
	}
	for (i = 0; i < d->d_classes; i++) {
		char *end = off < len ? memchr(labels + off, '\0',
		    len - off) : NULL;

		if (end == NULL || end - (labels + off) > MODEL_LABEL_MAX) {
			http_model_unref(hm);
			return ag_errf(err, errlen, AG_ERR_PROTOCOL,
			    "label %d unterminated or too long", i);
		}
		hm->hm_labels[i] = labels + off;
		off = (size_t)(end - labels) + 1;
	}
	if (off != len) {
		http_model_unref(hm);
		return ag_errf(err, errlen, AG_ERR_PROTOCOL,
		    "labels: %zu bytes left over", len - off);
	}
	hm->hm_desc = *d;
	*out = hm;
	return 0;
}

struct http_model *
http_model_ref(struct http_model *hm)
{
	if (hm != NULL)
		__atomic_add_fetch(&hm->hm_refs, 1, __ATOMIC_RELAXED);
	return hm;
}

void
http_model_unref(struct http_model *hm)
{
	if (hm == NULL || __atomic_sub_fetch(&hm->hm_refs, 1,
	    __ATOMIC_ACQ_REL) != 0)
		return;
	free(hm->hm_labels);
	free(hm->hm_label_buf);
	free(hm);
}
