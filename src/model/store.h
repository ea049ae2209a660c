/* SPDX-License-Identifier: ISC */
/*
 * store.h: the versioned model store, with atomic deploy and rollback.
 *
 * Layout, below a store directory (STORE_DEFAULT_DIR unless told):
 *   .audit.log               one line per deploy and rollback, appended
 *                            (STORE_AUDIT_LOG; store_log_print())
 *   NAME/1, NAME/2, ...      one complete, verified model directory per
 *                            version: decimal, never reused (a new one is
 *                            the highest existing number + 1)
 *   NAME/current             symbolic link to "V" (relative): the version
 *                            served.  Replaced only by rename(2) over it,
 *                            so a reader sees the old or the new target,
 *                            never a missing or half-written one.
 *   NAME/.lock               flock(LOCK_EX) serializes the deploys and
 *                            rollbacks of NAME; a second one waits
 *   NAME/.staging.XXXXXX     a deploy in progress (or one that was killed;
 *                            removed by the next deploy or rollback)
 *   NAME/current.tmp         the new link before it is renamed over current
 *
 * Nothing in the store is readable by others: what a deploy makes is 0750
 * (directories, STORE itself when it makes it) or 0640 (files), with a
 * group the daemon's user is in (gid; (gid_t)-1 leaves the deploying
 * process's group).  The weights are an asset to keep confidential.
 *
 * The store is operator territory, but everything in it is still checked:
 * NAME is a restricted name, versions are plain decimal directories (a
 * symbolic link named like a version is not one), and the version that
 * becomes current is verified (msig_verify()) in the store itself, after
 * the copy, so the bytes checked are the bytes that will be served.
 *
 * Test hook: the environment variable AIGUARD_FAILPOINT=deploy:STEP makes
 * store_deploy() raise SIGKILL at that step (as a kill -9 at that moment
 * would), and AIGUARD_FAILPOINT=deploy:STEP:error makes the step fail with
 * an error instead.  STEP, in the order a deploy reaches them:
 *   copy     after the first file has been copied into the staging dir
 *   fsync    every file copied, before the staging dir itself is fsynced
 *   verify   before the staging copy is verified
 *   rename   verified, before staging is renamed to NAME/V
 *   link     NAME/V in place, before the current.tmp link is created
 *   switch   current.tmp created, before it is renamed over current
 *   prune    switched (and fsynced), before old versions are removed
 * A kill before switch leaves current on the old version; from switch on
 * (a kill at prune) current is the new one.  An error before switch leaves
 * the store as it was; an error at prune leaves the extra old versions and
 * the deploy still succeeds (with a warning).  Read with secure_getenv().
 */
#ifndef AG_STORE_H
#define AG_STORE_H

#include <sys/types.h>

#include <stddef.h>
#include <stdio.h>

#include "msig.h"

#define STORE_DEFAULT_DIR	"/var/lib/aiguard/models"
#define STORE_NAME_MAX		64		/* bytes of NAME */
#define STORE_VERSION_MAX	999999999U	/* 9 decimal digits */
#define STORE_MAX_VERSIONS	100000		/* entries in NAME/ */
#define STORE_CURRENT		"current"
#define STORE_KEEP_DEFAULT	2
#define STORE_AUDIT_LOG		".audit.log"	/* STORE/.audit.log */

/*
 * Returns 1 when name is a valid model name: [A-Za-z0-9][A-Za-z0-9._-]*,
 * at most STORE_NAME_MAX bytes; else 0.
 */
int	store_name_valid(const char *name);

/*
 * Parses a version, decimal without leading zeros, 1..STORE_VERSION_MAX
 * (at most 9 digits), into *out: 0, or -1 (nothing written).
 */
int	store_parse_version(const char *s, unsigned int *out);

struct store_result {
	unsigned int	sr_version;	/* current now */
	unsigned int	sr_previous;	/* current before; 0: none */
	size_t		sr_pruned;	/* old versions removed */
	struct msig_result sr_sig;	/* the verified signature */
};

/*
 * Deploys the model directory src as a new version of name in the store
 * directory store (created 0750 with group gid, with STORE/NAME, when
 * missing; STORE/NAME is set to 0750 and gid each time), under NAME's
 * lock: removes what killed runs left, verifies src against trust
 * (ignore[0..nignore) passed on to msig_verify()) and copies the files
 * its signature covers, and model.sig, with the bytes verified, into a
 * staging directory (files 0640, directories 0750, group gid, all
 * fsynced; a file reached through a symbolic link is refused), verifies
 * the copy again, renames it to NAME/V and switches current to it.  Then
 * appends a line to STORE/.audit.log (opened, 0640 with gid when new,
 * before anything changes: one that cannot be opened fails the deploy)
 * and removes versions older than current past the newest keep of them
 * (never current or the version it replaced).  Fills *out (may be NULL).
 *
 * Returns 0, or an AG_ERR_* code with a message naming the file and step
 * (AG_ERR_SIGNATURE for a model that does not verify, AG_ERR_NOT_FOUND for
 * one that is not signed).  On failure current is what it was and no new
 * version exists.
 */
int	store_deploy(const char *store, const char *name, const char *src,
	    const struct msig_trust *trust, const char *const *ignore,
	    size_t nignore, unsigned int keep, gid_t gid,
	    struct store_result *out, char *err, size_t errlen);

/*
 * Switches name's current back to the highest version lower than the
 * current one, after verifying that version again against trust (it may
 * have changed since it was deployed).  Under NAME's lock.  Appends a
 * line to STORE/.audit.log as store_deploy() does (gid: the log's group
 * when it is new).  Fills *out (sr_pruned is 0).  Returns 0, or
 * AG_ERR_NOT_FOUND when there is no current version or none older,
 * AG_ERR_SIGNATURE (or another AG_ERR_*) when the older version does not
 * verify; current is then unchanged.
 */
int	store_rollback(const char *store, const char *name,
	    const struct msig_trust *trust, const char *const *ignore,
	    size_t nignore, gid_t gid, struct store_result *out, char *err,
	    size_t errlen);

struct store_list {
	unsigned int	*sl_versions;	/* ascending; caller frees */
	size_t		 sl_n;
	unsigned int	 sl_current;	/* 0: no current link */
};

/*
 * Lists the versions of name (directories only) and the current one,
 * without taking the lock or changing anything.  *out is filled; free its
 * array with store_list_free().  Returns 0, or AG_ERR_NOT_FOUND when the
 * store has no such name, another AG_ERR_* with a message.
 */
int	store_list(const char *store, const char *name,
	    struct store_list *out, char *err, size_t errlen);
void	store_list_free(struct store_list *l);

/*
 * The audit log, STORE/.audit.log: one line per deploy or rollback that
 * switched current, in logfmt, strings quoted (log_quote_value()):
 *   time=2026-01-02T03:04:05Z event=deploy|rollback model="NAME"
 *   version=V previous=P digest="sha256:HEX" signer="key sha256:HEX"
 *   uid=UID user="NAME" [loginuid=UID]
 * previous is 0 for the first deploy; signer is the key's hint or the
 * certificate's subject and fingerprint; uid and user the real user who
 * ran aiguard, loginuid the login session's user (through sudo) when the
 * kernel keeps one.  Written with one write(2) to an O_APPEND descriptor
 * and fsynced.  A failure to write it after the switch is a warning.
 *
 * store_log_print() prints the log's lines to fp, only those of name
 * unless name is NULL; a byte that is not printable ASCII is shown as
 * '?'.  Returns 0, AG_ERR_NOT_FOUND when there is no log, another
 * AG_ERR_* with a message.
 */
int	store_log_print(const char *store, const char *name, FILE *fp,
	    char *err, size_t errlen);

#endif /* AG_STORE_H */
