/* SPDX-License-Identifier: ISC */
/*
 * st_write.c: a float32 safetensors writer.  See st_write.h.
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ag_err.h"
#include "st_write.h"

static size_t
st_w_nelem(const struct st_wtensor *t)
{
	size_t n = 1;
	int d;

	for (d = 0; d < t->ndim; d++)
		n *= (size_t)t->shape[d];
	return n;
}

int
st_write_file(const char *path, const struct st_wtensor *t, size_t n,
    const char *const *meta, size_t nmeta, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	json_t *root = NULL, *e, *md;
	char *hdr = NULL;
	FILE *fp = NULL;
	size_t off = 0, i, hl, padded, ne;
	uint8_t lenbuf[8];
	int r = AG_ERR_ALLOC, d;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return ag_errf(err, errlen, AG_ERR_TOO_LARGE,
		    "%s: path too long", path);
	if ((root = json_object()) == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		json_t *shape = json_array();

		ne = st_w_nelem(&t[i]);
		for (d = 0; shape != NULL && d < t[i].ndim; d++)
			json_array_append_new(shape,
			    json_integer(t[i].shape[d]));
		e = json_pack("{s:s, s:o, s:[I, I]}", "dtype", "F32",
		    "shape", shape, "data_offsets", (json_int_t)off,
		    (json_int_t)(off + ne * 4));
		if (e == NULL || json_object_set_new(root, t[i].name, e) != 0)
			goto fail;
		off += ne * 4;
	}
	if (nmeta > 0) {
		if ((md = json_object()) == NULL ||
		    json_object_set_new(root, "__metadata__", md) != 0)
			goto fail;
		for (i = 0; i < nmeta; i++)
			if (json_object_set_new(md, meta[2 * i],
			    json_string(meta[2 * i + 1])) != 0)
				goto fail;
	}
	if ((hdr = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER)) ==
	    NULL)
		goto fail;
	hl = strlen(hdr);
	padded = (hl + 7) / 8 * 8;
	for (i = 0; i < 8; i++)
		lenbuf[i] = (uint8_t)((uint64_t)padded >> (8 * i));

	if ((fp = fopen(tmp, "wbx")) == NULL) {
		r = ag_errf(err, errlen, AG_ERR_SYSTEM, "%s: %s", tmp,
		    strerror(errno));
		goto out;
	}
	if (fwrite(lenbuf, 1, 8, fp) != 8 || fwrite(hdr, 1, hl, fp) != hl)
		goto wfail;
	for (i = hl; i < padded; i++)
		if (fputc(' ', fp) == EOF)
			goto wfail;
	for (i = 0; i < n; i++) {
		/* Little-endian float32: the host order on every target. */
		ne = st_w_nelem(&t[i]);
		if (fwrite(t[i].data, 4, ne, fp) != ne)
			goto wfail;
	}
	if (fflush(fp) != 0 || fsync(fileno(fp)) != 0)
		goto wfail;
	if (fclose(fp) != 0) {
		fp = NULL;
		goto wfail;
	}
	fp = NULL;
	if (rename(tmp, path) != 0)
		goto wfail;
	r = 0;
	goto out;
 wfail:
	r = ag_errf(err, errlen, AG_ERR_SYSTEM, "%s: write: %s", tmp,
	    strerror(errno));
	if (fp != NULL)
		fclose(fp);
	fp = NULL;
	unlink(tmp);
	goto out;
 fail:
	r = ag_errf(err, errlen, AG_ERR_ALLOC, "%s: cannot build header",
	    path);
 out:
	free(hdr);
	json_decref(root);
	return r;
}
