/* SPDX-License-Identifier: ISC */
/*
 * locate.h: where a model is, decided once.
 *
 * The one owner of the model directory.  What the user gave (model.dir,
 * --model, aiguard classify --model), or nothing (the default model), is
 * turned into one struct model_loc by model_locate(), once, by whoever
 * starts (aiguardd's parent, the CLI), and passed down: the worker's
 * sandbox rule (ml_root) and each load (model_loc_current()) read it, and
 * nothing else interprets the path.
 *
 * A store entry (model/store.h) is STORE/NAME/current, a symbolic link
 * named "current" to a version ("7"), or a link (a chain of links) to
 * one.  Its versions are siblings of the link: the sandbox must cover
 * NAME/ so that a reload can follow the link to whichever version is
 * current then, and each load reads the link again, once, and then only
 * NAME/VERSION (everything is read from one version even when a deploy
 * switches the link meanwhile).  Any other directory is version "1" and
 * is read as given; a link to it is followed once, for the sandbox: the
 * rule covers its target, never the directory the link sits in (a link
 * /etc/aiguard/model must not open /etc/aiguard/keys).
 */
#ifndef AG_LOCATE_H
#define AG_LOCATE_H

#include <limits.h>
#include <stddef.h>

#include "mdesc.h"
#include "store.h"

struct model_loc {
	/* As given (or the default), trailing '/' removed: what loads open. */
	char	ml_dir[PATH_MAX];
	/*
	 * What the worker's sandbox rule covers, resolved (realpath(3)): a
	 * store entry's NAME/, else the model directory.  A path that does
	 * not resolve is as given (the sandbox then fails on it, naming it).
	 */
	char	ml_root[PATH_MAX];
	/* A store entry: the store (resolved) and NAME; else both "". */
	char	ml_store[PATH_MAX];
	char	ml_name[STORE_NAME_MAX + 1];
	/* The version current when located: "1" outside a store. */
	char	ml_version[MODEL_VERSION_MAX];
	/* One version of a repository, pinned: never follows current. */
	int	ml_pinned;
};

/*
 * Locates the model directory given (NULL or "": the default model, see
 * model_default_dir()) into *ml.  0, or AG_ERR_NOT_FOUND (no directory
 * given and no default found) or AG_ERR_TOO_LARGE (a path too long), with
 * err saying which.  A directory that does not exist is not an error here:
 * loading it fails, naming it.
 */
int	model_locate(const char *given, struct model_loc *ml, char *err,
	    size_t errlen);

/*
 * One version of a repository's model (model.repository): STORE/NAME/V,
 * pinned (model_loc_current() gives it whatever current says), its
 * sandbox rule that version's directory alone.  0, or AG_ERR_INVALID_ARG
 * (a name that is not a store name) or AG_ERR_TOO_LARGE.
 */
int	model_locate_version(const char *store, const char *name,
	    unsigned int version, struct model_loc *ml, char *err,
	    size_t errlen);

/*
 * The directory one load reads and its version, now: for a store entry
 * the current link is read again (NAME/VERSION and VERSION); else ml_dir
 * and "1".  dir and ver are always written (truncated never: ml_dir fits
 * dir of PATH_MAX, a version fits MODEL_VERSION_MAX).
 */
void	model_loc_current(const struct model_loc *ml, char *dir,
	    size_t dirlen, char *ver, size_t verlen);

#endif /* AG_LOCATE_H */
