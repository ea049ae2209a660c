/* SPDX-License-Identifier: ISC */
/*
 * msig_dir.c: the model directory against the statement.  Builds the
 * ignore list (model.sig, the reference's defaults, the statement's and
 * the caller's ignore paths), walks the directory, pairs its files with
 * the resources by name before reading anything (an extra or missing
 * file is reported first), then reads each file once and compares its
 * digest, or its shards' digests, with the signed one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ag_err.h"
#include "mfiles.h"
#include "msig.h"
#include "msig_impl.h"

/* Always ignored, as the reference does (its defaults, git's files). */
static const char *const msig_default_ignore[] = {
	MSIG_FILE, ".git", ".gitattributes", ".github", ".gitignore",
};
#define MSIG_NDEFAULT_IGNORE \
	(sizeof(msig_default_ignore) / sizeof(msig_default_ignore[0]))

int
msig_mignore_build(struct mignore *ig, const char *const *a, size_t na,
    const char *const *b, size_t nb)
{
	size_t i;

	ig->i_n = 0;
	if ((ig->i_names = calloc(MSIG_NDEFAULT_IGNORE + na + nb + 1,
	    sizeof(*ig->i_names))) == NULL)
		return AG_ERR_ALLOC;
	for (i = 0; i < MSIG_NDEFAULT_IGNORE; i++)
		ig->i_names[ig->i_n++] = msig_default_ignore[i];
	for (i = 0; i < na; i++)
		ig->i_names[ig->i_n++] = a[i];
	for (i = 0; i < nb; i++)
		ig->i_names[ig->i_n++] = b[i];
	return 0;
}

/* Is path (path[0..plen)) one of the ignored names or below one? */
static int
mignore_covers(const struct mignore *ig, const char *path, size_t plen)
{
	size_t i, n;

	for (i = 0; i < ig->i_n; i++) {
		n = strlen(ig->i_names[i]);
		if (n <= plen && memcmp(path, ig->i_names[i], n) == 0 &&
		    (n == plen || path[n] == '/'))
			return 1;
	}
	return 0;
}

/* Checks the caller's names: relative, as mfiles.h defines them. */
int
msig_check_names(const char *const *names, size_t n, char *err,
    size_t errlen)
{
	char b[64];
	size_t i;

	for (i = 0; i < n; i++)
		if (!mfiles_name_valid(names[i]))
			return ag_errf(err, errlen, AG_ERR_INVALID_ARG,
			    "ignore path \"%s\": not a relative path inside "
			    "the model", names[i] ? msig_safe_str(names[i], b,
			    sizeof(b)) : "");
	return 0;
}

/* One verification's view of the directory. */
struct mcheck {
	struct mfiles		 *c_mf;
	const struct mstmt	 *c_st;
	struct mignore		  c_ig;
	char			**c_names;	/* the walk (strcmp order) */
	size_t			  c_n;
	size_t			 *c_first;	/* per name, its resources */
	size_t			 *c_count;	/* in s_sorted */
	char			 *c_err;
	size_t			  c_errlen;
};

/*
 * The first signed path that the walk did not find (miss) and the first
 * file that is not signed (extra), either may be NULL: one message for
 * both, so that a renamed file shows as what it is.
 */
static int
check_names_err(const struct mcheck *c, const struct mres *miss,
    const char *extra)
{
	const char *dir = mfiles_path(c->c_mf), *why;
	char more[MFILES_NAME_MAX + 64];

	more[0] = '\0';
	if (miss == NULL)
		return ag_errf(c->c_err, c->c_errlen, AG_ERR_SIGNATURE,
		    "%s/%s: not in the signature", dir, extra);
	if (extra != NULL)
		snprintf(more, sizeof(more), "; %s: not in the signature",
		    extra);
	why = mignore_covers(&c->c_ig, miss->r_name, miss->r_plen) ?
	    "signed, but an ignore path leaves it out" : "signed but missing";
	return ag_errf(c->c_err, c->c_errlen, AG_ERR_SIGNATURE, "%s/%.*s: "
	    "%s%s", dir, (int)miss->r_plen, miss->r_name, why, more);
}

/*
 * Pairs each file of the walk with its resources (both in strcmp order),
 * by name only: nothing is read yet, so an extra or missing file is
 * reported before any hashing.
 */
static int
check_names_match(struct mcheck *c)
{
	const struct mstmt *st = c->c_st;
	const struct mres *miss = NULL;
	const char *extra = NULL;
	size_t i = 0, j = 0, k;
	int cmp;

	while (i < c->c_n || j < st->s_nres) {
		if (j >= st->s_nres)
			cmp = -1;
		else if (i >= c->c_n)
			cmp = 1;
		else
			cmp = msig_pathn_cmp(c->c_names[i],
			    strlen(c->c_names[i]), st->s_sorted[j]->r_name,
			    st->s_sorted[j]->r_plen);
		if (cmp > 0) {
			if (miss == NULL)
				miss = st->s_sorted[j];
			j++;
			continue;
		}
		if (cmp < 0) {
			/* Shards: an empty file has none (reference). */
			if (!st->s_shards && extra == NULL)
				extra = c->c_names[i];
			c->c_first[i] = j;
			c->c_count[i++] = 0;
			continue;
		}
		for (k = j + 1; k < st->s_nres && msig_pathn_cmp(
		    st->s_sorted[k]->r_name, st->s_sorted[k]->r_plen,
		    st->s_sorted[j]->r_name, st->s_sorted[j]->r_plen) == 0; k++)
			;
		c->c_first[i] = j;
		c->c_count[i++] = k - j;
		j = k;
	}
	if (miss != NULL || extra != NULL)
		return check_names_err(c, miss, extra);
	return 0;
}

/* A file's shards must tile it exactly, and each must hash as signed. */
static int
check_shards(const struct mcheck *c, const struct mfile *f, size_t first,
    size_t count)
{
	const struct mstmt *st = c->c_st;
	const char *dir = mfiles_path(c->c_mf);
	uint64_t ss = st->s_shard_size, start, end;
	size_t k, want;
	uint8_t d[32];
	struct mres *r;

	want = f->mf_len == 0 ? 0 : (f->mf_len - 1) / ss + 1;
	if (count == 0 && want > 0)
		return ag_errf(c->c_err, c->c_errlen, AG_ERR_SIGNATURE,
		    "%s/%s: not in the signature", dir, f->mf_name);
	for (k = 0; k < count || k < want; k++) {
		start = (uint64_t)k * ss;
		end = f->mf_len - start < ss ? f->mf_len : start + ss;
		r = k < count ? st->s_sorted[first + k] : NULL;
		if (count != want || r->r_start != start || r->r_end != end)
			return ag_errf(c->c_err, c->c_errlen, AG_ERR_SIGNATURE,
			    "%s/%s: size differs from the signed one (%zu "
			    "bytes now)", dir, f->mf_name, f->mf_len);
		if (msig_sha256_digest(f->mf_data + start, end - start, d) != 0)
			return ag_errf(c->c_err, c->c_errlen, AG_ERR_INTERNAL,
			    "SHA-256 failed");
		if (memcmp(d, r->r_digest, sizeof(d)) != 0)
			return ag_errf(c->c_err, c->c_errlen, AG_ERR_SIGNATURE,
			    "%s/%s: bytes %llu to %llu: digest differs from "
			    "the signed one", dir, f->mf_name,
			    (unsigned long long)start, (unsigned long long)end);
	}
	return 0;
}

/* Reads (once: these are the bytes the loader gets) and hashes a file. */
static int
check_file(const struct mcheck *c, size_t i)
{
	const struct mstmt *st = c->c_st;
	const struct mfile *f;
	uint8_t d[32];
	int r;

	if ((r = mfiles_read(c->c_mf, c->c_names[i], st->s_links, &f,
	    c->c_err, c->c_errlen)) != 0)
		return r;
	if (st->s_shards)
		return check_shards(c, f, c->c_first[i], c->c_count[i]);
	if (msig_sha256_digest(f->mf_data, f->mf_len, d) != 0)
		return ag_errf(c->c_err, c->c_errlen, AG_ERR_INTERNAL,
		    "SHA-256 failed");
	if (memcmp(d, st->s_sorted[c->c_first[i]]->r_digest, sizeof(d)) != 0)
		return ag_errf(c->c_err, c->c_errlen, AG_ERR_SIGNATURE,
		    "%s/%s: digest differs from the signed one",
		    mfiles_path(c->c_mf), f->mf_name);
	return 0;
}

int
msig_check_dir(struct mfiles *mf, const struct mstmt *st,
    const char *const *ignore, size_t nignore, size_t *nfiles, char *err,
    size_t errlen)
{
	struct mcheck c;
	size_t i;
	int r;

	memset(&c, 0, sizeof(c));
	c.c_mf = mf;
	c.c_st = st;
	c.c_err = err;
	c.c_errlen = errlen;
	if ((r = msig_mignore_build(&c.c_ig, st->s_ignore, st->s_nignore,
	    ignore, nignore)) != 0) {
		r = ag_errf(err, errlen, r, "out of memory");
		goto out;
	}
	if ((r = mfiles_walk(mf, c.c_ig.i_names, c.c_ig.i_n, st->s_links,
	    &c.c_names, &c.c_n, err, errlen)) != 0)
		goto out;
	if ((c.c_first = calloc(c.c_n + 1, sizeof(*c.c_first))) == NULL ||
	    (c.c_count = calloc(c.c_n + 1, sizeof(*c.c_count))) == NULL) {
		r = ag_errf(err, errlen, AG_ERR_ALLOC, "out of memory");
		goto out;
	}
	if ((r = check_names_match(&c)) != 0)
		goto out;
	for (i = 0; i < c.c_n; i++)
		if ((r = check_file(&c, i)) != 0)
			goto out;
	for (i = 0; i < c.c_n; i++)
		if (mfiles_set_verified(mf, c.c_names[i]) != 0) {
			r = ag_errf(err, errlen, AG_ERR_INTERNAL, "%s/%s: read "
			    "but not found", mfiles_path(mf), c.c_names[i]);
			goto out;
		}
	*nfiles = c.c_n;
 out:
	if (r != 0)
		mfiles_clear_verified(mf);
	free(c.c_first);
	free(c.c_count);
	mfiles_names_free(c.c_names, c.c_n);
	free(c.c_ig.i_names);
	return r;
}
