/* SPDX-License-Identifier: ISC */
/*
 * st_write.h: writing float32 safetensors files (for the weight generator
 * and tests).  The header is padded with spaces to a multiple of 8 bytes and
 * the data section is contiguous, in the order given, as the reference
 * writer lays it out.
 */
#ifndef AG_ST_WRITE_H
#define AG_ST_WRITE_H

#include <stddef.h>
#include <stdint.h>

struct st_wtensor {
	const char	*name;
	int		 ndim;
	int64_t		 shape[4];
	const float	*data;		/* product of shape floats */
};

/*
 * Writes the tensors and the string pairs meta[0..2*nmeta) ("key", "value",
 * ...) as __metadata__ to path, through a temporary file renamed into
 * place.  Returns 0 or an AG_ERR_* code with a message naming path.
 */
int	st_write_file(const char *path, const struct st_wtensor *t, size_t n,
	    const char *const *meta, size_t nmeta, char *err, size_t errlen);

#endif /* AG_ST_WRITE_H */
