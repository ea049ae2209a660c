/* SPDX-License-Identifier: ISC */
/*
 * locate.c: the model directory, from what the user gave (locate.h).
 */
#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ag_err.h"
#include "locate.h"
#include "model.h"
#include "store.h"

/* Links followed looking for a store's current, as the kernel's limit. */
#define LOCATE_MAX_HOPS	40

/*
 * The version the symbolic link path names when it is a store's
 * NAME/current (named STORE_CURRENT, to a plain version, as store.c
 * makes it), written into ver; else 0.
 */
static int
locate_store_current(const char *path, char *ver, size_t verlen)
{
	const char *base = strrchr(path, '/');
	char target[32];
	unsigned int v;
	ssize_t n;

	base = base != NULL ? base + 1 : path;
	if (strcmp(base, STORE_CURRENT) != 0)
		return 0;
	if ((n = readlink(path, target, sizeof(target) - 1)) <= 0)
		return 0;
	target[n] = '\0';
	if (store_parse_version(target, &v) != 0 || (size_t)n >= verlen)
		return 0;
	memcpy(ver, target, (size_t)n + 1);
	return 1;
}

/*
 * Follows the symbolic link path one step: its target, made relative to
 * the link's directory when it is relative.  Returns 0, or -1.
 */
static int
locate_follow(char *path, size_t len)
{
	char target[PATH_MAX], next[PATH_MAX];
	const char *slash;
	ssize_t n;
	int r;

	if ((n = readlink(path, target, sizeof(target) - 1)) <= 0)
		return -1;
	target[n] = '\0';
	if (target[0] == '/' || (slash = strrchr(path, '/')) == NULL)
		r = snprintf(next, sizeof(next), "%s", target);
	else	/* the link's directory, its '/' included */
		r = snprintf(next, sizeof(next), "%.*s%s",
		    (int)(slash - path + 1), path, target);
	if (r < 0 || (size_t)r >= sizeof(next) || (size_t)r >= len)
		return -1;
	memcpy(path, next, (size_t)r + 1);
	return 0;
}

/* Cuts path at its last '/': the directory it is in ("." or "/"). */
static void
locate_parent(char *path)
{
	char *slash = strrchr(path, '/');

	if (slash == NULL)
		(void)snprintf(path, 2, ".");
	else if (slash == path)
		path[1] = '\0';
	else
		*slash = '\0';
}

/*
 * Walks from dir along symbolic links to a store's NAME/current: 1 with
 * link holding the path of that link (as followed) and ver its version;
 * 0 when dir is not a store entry (a plain directory, another link, one
 * that does not resolve, or a chain past LOCATE_MAX_HOPS).
 */
static int
locate_walk(const char *dir, char *link, size_t linklen, char *ver,
    size_t verlen)
{
	struct stat st;
	int hops;

	if ((size_t)snprintf(link, linklen, "%s", dir) >= linklen)
		return 0;
	for (hops = 0; hops < LOCATE_MAX_HOPS; hops++) {
		if (lstat(link, &st) != 0 || !S_ISLNK(st.st_mode))
			return 0;
		if (locate_store_current(link, ver, verlen))
			return 1;
		if (locate_follow(link, linklen) != 0)
			return 0;
	}
	return 0;
}

int
model_locate(const char *given, struct model_loc *ml, char *err,
    size_t errlen)
{
	char link[PATH_MAX], real[PATH_MAX];
	const char *base;
	size_t n;
	int r;

	memset(ml, 0, sizeof(*ml));
	if (given == NULL || *given == '\0') {
		if ((r = model_default_dir(ml->ml_dir,
		    sizeof(ml->ml_dir))) != 0)
			return ag_errf(err, errlen, r, r == AG_ERR_TOO_LARGE ?
			    "default model directory: path too long" :
			    "no model directory given and none found");
	} else if ((size_t)snprintf(ml->ml_dir, sizeof(ml->ml_dir), "%s",
	    given) >= sizeof(ml->ml_dir))
		return ag_errf(err, errlen, AG_ERR_TOO_LARGE,
		    "model directory path too long");
	for (n = strlen(ml->ml_dir); n > 1 && ml->ml_dir[n - 1] == '/'; n--)
		ml->ml_dir[n - 1] = '\0';
	(void)snprintf(ml->ml_version, sizeof(ml->ml_version), "1");

	if (locate_walk(ml->ml_dir, link, sizeof(link), ml->ml_version,
	    sizeof(ml->ml_version))) {
		/* STORE/NAME/current: the rule covers NAME/. */
		locate_parent(link);
		base = strrchr(link, '/');
		base = base != NULL ? base + 1 : link;
		if (strlen(base) < sizeof(ml->ml_name))
			memcpy(ml->ml_name, base, strlen(base) + 1);
	} else {
		/*
		 * Any other link is followed now, to the end, by realpath()
		 * below: the rule names what is read.
		 */
		memcpy(link, ml->ml_dir, strlen(ml->ml_dir) + 1);
	}
	if (realpath(link, real) == NULL)
		memcpy(real, ml->ml_dir, strlen(ml->ml_dir) + 1);
	memcpy(ml->ml_root, real, strlen(real) + 1);
	if (ml->ml_name[0] != '\0') {
		memcpy(link, ml->ml_root, strlen(ml->ml_root) + 1);
		locate_parent(link);
		memcpy(ml->ml_store, link, strlen(link) + 1);
	}
	return 0;
}

void
model_loc_current(const struct model_loc *ml, char *dir, size_t dirlen,
    char *ver, size_t verlen)
{
	char link[PATH_MAX], v[MODEL_VERSION_MAX];
	int r;

	(void)snprintf(dir, dirlen, "%s", ml->ml_dir);
	if (ml->ml_pinned) {
		(void)snprintf(ver, verlen, "%s", ml->ml_version);
		return;
	}
	(void)snprintf(ver, verlen, "1");
	if (!locate_walk(ml->ml_dir, link, sizeof(link), v, sizeof(v)))
		return;
	/* NAME/current -> NAME/VERSION, the link's sibling. */
	locate_parent(link);
	r = snprintf(dir, dirlen, "%s/%s", link, v);
	if (r < 0 || (size_t)r >= dirlen) {
		(void)snprintf(dir, dirlen, "%s", ml->ml_dir);
		return;
	}
	(void)snprintf(ver, verlen, "%s", v);
}

int
model_locate_version(const char *store, const char *name,
    unsigned int version, struct model_loc *ml, char *err, size_t errlen)
{
	int r;

	memset(ml, 0, sizeof(*ml));
	if (!store_name_valid(name) || strlen(name) >= MODEL_NAME_MAX)
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG,
		    "%s: not a model name", name);
	r = snprintf(ml->ml_dir, sizeof(ml->ml_dir), "%s/%s/%u", store, name,
	    version);
	if (r < 0 || (size_t)r >= sizeof(ml->ml_dir))
		return ag_errf(err, errlen, AG_ERR_TOO_LARGE,
		    "%s/%s: path too long", store, name);
	if (realpath(ml->ml_dir, ml->ml_root) == NULL)
		memcpy(ml->ml_root, ml->ml_dir, sizeof(ml->ml_root));
	if (realpath(store, ml->ml_store) == NULL)
		(void)snprintf(ml->ml_store, sizeof(ml->ml_store), "%s",
		    store);
	memcpy(ml->ml_name, name, strlen(name) + 1);
	(void)snprintf(ml->ml_version, sizeof(ml->ml_version), "%u",
	    version);
	ml->ml_pinned = 1;
	return 0;
}
