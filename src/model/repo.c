/* SPDX-License-Identifier: ISC */
/*
 * repo.c: the models of a repository and the versions each serves.
 *
 * repo_scan() lists the repository directory once (or looks up the names
 * it was given), asks store_list() for each model's versions and current
 * link, and applies the model's version policy with repo_select(), a pure
 * function over those numbers.  Nothing here opens a model's files or
 * takes a store lock: a deploy running meanwhile is seen before or after
 * its switch of current, never half-way (store.h), and the worker that
 * loads a version checks its signature anyway.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ag_err.h"
#include "common/config.h"
#include "common/util.h"
#include "repo.h"
#include "store.h"

_Static_assert(CONFIG_MODEL_NAME_MAX == STORE_NAME_MAX,
    "the configuration's model names are the store's");
_Static_assert(CONFIG_VERSION_MAX == STORE_VERSION_MAX,
    "the configuration's versions are the store's");

/* Entries of the repository directory read at most (the store's cap). */
#define REPO_ENTRIES_MAX	STORE_MAX_VERSIONS

/* rm_why = the formatted text, cut to fit. */
static void __attribute__((format(printf, 2, 3)))
repo_why(struct repo_model *rm, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(rm->rm_why, sizeof(rm->rm_why), fmt, ap);
	va_end(ap);
}

/* Appends ",V" (or "V" first) to buf, holding o bytes; the new length. */
static size_t
repo_why_version(char *buf, size_t len, size_t o, unsigned int v)
{
	int n;

	if (o >= len)
		return o;
	n = snprintf(buf + o, len - o, "%s%u", o > 0 ? "," : "", v);
	if (n < 0 || (size_t)n >= len - o)
		return len;	/* full: nothing more fits */
	return o + (size_t)n;
}

static int
repo_has(const unsigned int *versions, size_t n, unsigned int v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (versions[i] == v)
			return 1;
	return 0;
}

/* ==== The policy ==== */

void
repo_select(const unsigned int *versions, size_t n, unsigned int current,
    const struct config_version_policy *vp, struct repo_model *rm)
{
	char missing[sizeof(rm->rm_why)];
	size_t i, hi, lo, want, nv, o = 0;
	int has_cur;

	memset(rm->rm_versions, 0, sizeof(rm->rm_versions));
	rm->rm_n = 0;
	rm->rm_default = 0;
	rm->rm_current = current;
	rm->rm_why[0] = '\0';
	/* store_list() sorts them; anything else is a caller's bug. */
	for (i = 1; i < n; i++)
		AG_ASSERT(versions[i - 1] < versions[i]);
	has_cur = current != 0 && repo_has(versions, n, current);

	if (vp->vp_kind == CONFIG_VP_SPECIFIC) {
		nv = vp->vp_nversions < 0 ? 0 : (size_t)vp->vp_nversions;
		if (nv > CONFIG_VERSIONS_MAX)
			nv = CONFIG_VERSIONS_MAX;
		missing[0] = '\0';
		for (i = 0; i < nv; i++) {
			if (repo_has(versions, n, vp->vp_versions[i])) {
				/* Insert in order (the list may be any). */
				for (lo = rm->rm_n; lo > 0 &&
				    rm->rm_versions[lo - 1] >
				    vp->vp_versions[i]; lo--)
					rm->rm_versions[lo] =
					    rm->rm_versions[lo - 1];
				rm->rm_versions[lo] = vp->vp_versions[i];
				rm->rm_n++;
			} else
				o = repo_why_version(missing, sizeof(missing),
				    o, vp->vp_versions[i]);
		}
		if (nv == 0)
			repo_why(rm, "no version listed");
		else if (o > 0)
			repo_why(rm, "not in the store: version %s", missing);
	} else {
		want = vp->vp_latest < 1 ? 1 : (size_t)vp->vp_latest;
		if (want > CONFIG_VERSIONS_MAX)
			want = CONFIG_VERSIONS_MAX;
		/*
		 * The candidates are versions[0..hi): all of them, or, with a
		 * current link, those up to current.  A version above current
		 * is one a rollback stepped back from.
		 */
		hi = n;
		if (current != 0)
			for (hi = 0; hi < n && versions[hi] <= current; hi++)
				;
		lo = hi > want ? hi - want : 0;
		for (i = lo; i < hi; i++)
			rm->rm_versions[rm->rm_n++] = versions[i];
		if (n == 0)
			repo_why(rm, "no version in the store");
		else if (rm->rm_n == 0)
			repo_why(rm, "no version at or below current (%u)",
			    current);
		else if (current != 0 && !has_cur)
			repo_why(rm, "current names version %u, which is not "
			    "in the store", current);
	}
	if (rm->rm_n == 0)
		return;
	rm->rm_default = has_cur && repo_has(rm->rm_versions, rm->rm_n,
	    current) ? current : rm->rm_versions[rm->rm_n - 1];
}

/* ==== The repository ==== */

/*
 * rm = the model name of dir: its listing and its selection.  *found is 1
 * when it is a model to report (versions, or a listing that failed), 0
 * when it has no directory or no version (rm_why says which).  Returns 0,
 * or AG_ERR_ALLOC, the one failure that ends the scan.
 */
static int
repo_model_fill(const char *dir, const char *name,
    const struct ag_config *cf, struct repo_model *rm, int *found,
    char *err, size_t errlen)
{
	struct config_model_settings ms;
	struct store_list sl;
	char serr[256];
	int r;

	memset(rm, 0, sizeof(*rm));
	*found = 0;
	(void)snprintf(rm->rm_name, sizeof(rm->rm_name), "%s", name);
	if (!store_name_valid(name)) {
		repo_why(rm, "not a model name");
		return 0;
	}
	config_model_settings(cf, name, &ms);
	serr[0] = '\0';
	r = store_list(dir, name, &sl, serr, sizeof(serr));
	if (r == AG_ERR_ALLOC)
		return ag_errf(err, errlen, r, "%s", serr);
	if (r == AG_ERR_NOT_FOUND) {
		repo_why(rm, "no model directory %s in the repository", name);
		return 0;
	}
	if (r != 0) {
		*found = 1;
		repo_why(rm, "%s", serr);
		return 0;
	}
	if (sl.sl_n == 0) {
		store_list_free(&sl);
		repo_why(rm, "no version in the model directory %s", name);
		return 0;
	}
	*found = 1;
	repo_select(sl.sl_versions, sl.sl_n, sl.sl_current, &ms.ms_versions,
	    rm);
	store_list_free(&sl);
	return 0;
}

static int
repo_cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

/*
 * The directory entries of d that may be models: valid store names of
 * directories (links not followed), sorted.  *namesp (caller frees) holds
 * *np names of STORE_NAME_MAX + 1 bytes each.
 */
static int
repo_list_dirs(const char *dir, DIR *d, char (**namesp)[STORE_NAME_MAX + 1],
    size_t *np, char *err, size_t errlen)
{
	char (*names)[STORE_NAME_MAX + 1] = NULL, (*nn)[STORE_NAME_MAX + 1];
	size_t n = 0, cap = 0, entries = 0;
	struct dirent *de;
	struct stat st;
	int r, fd = dirfd(d);

	*namesp = NULL;
	*np = 0;
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (++entries > REPO_ENTRIES_MAX) {
			r = ag_errf(err, errlen, AG_ERR_TOO_LARGE,
			    "%s: more than %d entries", dir, REPO_ENTRIES_MAX);
			goto fail;
		}
		/* Hidden entries (.audit.log, .lock, ".", "..") too. */
		if (de->d_name[0] == '.' || !store_name_valid(de->d_name))
			continue;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
			if (errno == ENOENT)	/* removed meanwhile */
				continue;
			r = ag_errf(err, errlen, AG_ERR_SYSTEM, "%s/%s: %s",
			    dir, de->d_name, strerror(errno));
			goto fail;
		}
		/* A link named like a model is not one (store.h). */
		if (!S_ISDIR(st.st_mode))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nn = reallocarray(names, cap,
			    sizeof(*names))) == NULL) {
				r = ag_errf(err, errlen, AG_ERR_ALLOC,
				    "%s: out of memory", dir);
				goto fail;
			}
			names = nn;
		}
		memset(names[n], 0, sizeof(names[n]));
		memcpy(names[n], de->d_name, strlen(de->d_name));
		n++;
	}
	if (errno != 0) {
		r = ag_errf(err, errlen, AG_ERR_SYSTEM, "%s: readdir: %s", dir,
		    strerror(errno));
		goto fail;
	}
	if (n > 1)
		qsort(names, n, sizeof(*names), repo_cmp_name);
	*namesp = names;
	*np = n;
	return 0;
 fail:
	free(names);
	return r;
}

int
repo_scan(const char *dir, const struct ag_config *cf,
    struct repo_model **out, size_t *nout, char *err, size_t errlen)
{
	char (*names)[STORE_NAME_MAX + 1] = NULL;
	struct repo_model *models = NULL, tmp;
	size_t i, n = 0, nnames, count = 0;
	DIR *d = NULL;
	int fd, found, r, e;

	*out = NULL;
	*nout = 0;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		e = errno;
		return ag_errf(err, errlen, e == ENOENT ? AG_ERR_NOT_FOUND :
		    e == ENOTDIR ? AG_ERR_FORMAT : AG_ERR_SYSTEM,
		    "model repository %s: %s", dir, e == ENOENT ?
		    "no such directory" : e == ENOTDIR ? "not a directory" :
		    strerror(e));
	}
	if ((d = fdopendir(fd)) == NULL) {
		e = errno;
		close(fd);
		return ag_errf(err, errlen, AG_ERR_SYSTEM,
		    "model repository %s: %s", dir, strerror(e));
	}

	if (cf->cf_nmodel_names > 0) {
		/* The names given, in their order, found or not. */
		nnames = (size_t)cf->cf_nmodel_names;
		if (nnames > REPO_MODELS_MAX) {
			r = ag_errf(err, errlen, AG_ERR_TOO_LARGE,
			    "model repository %s: %zu names, more than %d",
			    dir, nnames, REPO_MODELS_MAX);
			goto out;
		}
		if ((models = calloc(nnames, sizeof(*models))) == NULL) {
			r = ag_errf(err, errlen, AG_ERR_ALLOC,
			    "model repository %s: out of memory", dir);
			goto out;
		}
		for (i = 0; i < nnames; i++)
			if ((r = repo_model_fill(dir, cf->cf_model_names[i],
			    cf, &models[i], &found, err, errlen)) != 0)
				goto out;
		n = nnames;
		r = 0;
		goto out;
	}

	/* Every model in it: a directory with a version at least. */
	if ((r = repo_list_dirs(dir, d, &names, &nnames, err, errlen)) != 0)
		goto out;
	if ((models = calloc(REPO_MODELS_MAX, sizeof(*models))) == NULL) {
		r = ag_errf(err, errlen, AG_ERR_ALLOC,
		    "model repository %s: out of memory", dir);
		goto out;
	}
	for (i = 0; i < nnames; i++) {
		if ((r = repo_model_fill(dir, names[i], cf, &tmp, &found, err,
		    errlen)) != 0)
			goto out;
		if (!found)
			continue;
		/* Go on counting past the cap, for the message. */
		if (count < REPO_MODELS_MAX)
			models[count] = tmp;
		count++;
	}
	if (count > REPO_MODELS_MAX) {
		r = ag_errf(err, errlen, AG_ERR_TOO_LARGE,
		    "model repository %s: %zu models, more than %d served at "
		    "once: name those to serve in model.names", dir, count,
		    REPO_MODELS_MAX);
		goto out;
	}
	n = count;
	r = 0;
 out:
	free(names);
	closedir(d);
	if (r != 0 || n == 0) {
		free(models);
		return r;
	}
	*out = models;
	*nout = n;
	return 0;
}

int
repo_version_dir(const char *dir, const char *name, unsigned int v,
    char *buf, size_t len)
{
	int n;

	if (len > 0)
		buf[0] = '\0';
	if (!store_name_valid(name) || v == 0 || v > STORE_VERSION_MAX)
		return AG_ERR_INVALID_ARG;
	n = snprintf(buf, len, "%s/%s/%u", dir, name, v);
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			buf[0] = '\0';
		return AG_ERR_TOO_LARGE;
	}
	return 0;
}
