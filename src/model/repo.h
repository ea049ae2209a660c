/* SPDX-License-Identifier: ISC */
/*
 * repo.h: a model repository scanned, and a version policy applied.
 *
 * A repository (model.repository) is a store in the layout of store.h:
 * DIR/NAME/VERSION directories and a DIR/NAME/current link.  repo_scan()
 * reads which models it holds (or looks up the names of model.names) and,
 * for each, which versions the policy of config_model_settings() selects
 * and which of them /v2/models/NAME reaches.  It only reads: the store's
 * own listing (store_list(), no lock), never a model's files; what it
 * returns is what the parent starts workers for, each confined to the one
 * directory repo_version_dir() names.
 *
 * The store is operator territory but still distrusted: entries that are
 * not a directory with a valid store name (a symbolic link, a file, a
 * hidden entry such as .audit.log or .lock) are never models, and
 * versions are what store_list() accepts (plain decimal directories, not
 * links).
 */
#ifndef AG_REPO_H
#define AG_REPO_H

#include <stddef.h>

#include "common/config.h"
#include "store.h"

/* Models served at once. */
#define REPO_MODELS_MAX		CONFIG_MODELS_MAX

struct repo_model {
	char		rm_name[STORE_NAME_MAX + 1];
	/* The versions selected, ascending. */
	unsigned int	rm_versions[CONFIG_VERSIONS_MAX];
	size_t		rm_n;		/* 0: none selected (see rm_why) */
	unsigned int	rm_default;	/* the version /v2/models/NAME reaches;
					   0 when rm_n == 0 */
	unsigned int	rm_current;	/* the store's current link, 0: none */
	/*
	 * Why, when rm_n == 0, a listed version does not exist, or current
	 * names a version that is not there; else "".  Printable ASCII.
	 */
	char		rm_why[160];
};

/*
 * The models of the repository dir: names[0..nnames) of cf's model.names
 * when there are any (in that order; a name with no directory or no
 * version gets rm_n = 0 and rm_why says so), else every entry of dir that
 * is a directory (not a link) with a valid store name (store_name_valid())
 * holding at least one version, sorted by name (strcmp), at most
 * REPO_MODELS_MAX (more: AG_ERR_TOO_LARGE naming the count).  A model
 * whose listing fails (its current link is not a link to a version, its
 * directory is unreadable) is kept with rm_n = 0 and the error in rm_why,
 * so that the others still serve.  Entries starting with '.' are skipped
 * (.audit.log, .lock ...).  Each model's versions come from store_list()
 * and are selected by config_model_settings(cf, name).ms_versions
 * (repo_select()).
 *
 * *out is malloc'd (caller frees; NULL when *nout is 0), *nout its count.
 * Returns 0, or an AG_ERR_* with err naming dir and the fault
 * (AG_ERR_NOT_FOUND: dir missing; AG_ERR_FORMAT: not a directory;
 * AG_ERR_SYSTEM: unreadable; AG_ERR_TOO_LARGE; AG_ERR_ALLOC); then *out is
 * NULL and *nout 0.
 */
int	repo_scan(const char *dir, const struct ag_config *cf,
	    struct repo_model **out, size_t *nout, char *err, size_t errlen);

/*
 * The policy vp applied to one model's versions (ascending, n of them;
 * current = the store's current link or 0):
 *  - LATEST N: when there is a current link, current and the N-1 highest
 *    versions below it (never a version above current: that is what a
 *    rollback left, and it must not serve; a current link to a missing
 *    version selects the N highest below it, and rm_why says so); without
 *    one, the N highest.  Default: current when selected, else the
 *    highest selected.
 *  - SPECIFIC: those of the listed versions that exist; default: current
 *    when selected, else the highest selected.  A listed version that does
 *    not exist is named in rm_why (the others still load).
 * Fills rm_versions (zeroed past rm_n), rm_n, rm_default, rm_current and
 * rm_why; not rm_name.
 */
void	repo_select(const unsigned int *versions, size_t n,
	    unsigned int current, const struct config_version_policy *vp,
	    struct repo_model *rm);

/*
 * buf = "dir/name/v", the directory of one version.  Returns 0,
 * AG_ERR_INVALID_ARG for a name that is not a store name or a version out
 * of 1..STORE_VERSION_MAX, AG_ERR_TOO_LARGE when it does not fit in len
 * (buf then holds "" when len > 0).
 */
int	repo_version_dir(const char *dir, const char *name, unsigned int v,
	    char *buf, size_t len);

#endif /* AG_REPO_H */
