/* SPDX-License-Identifier: ISC */
/*
 * test_store.c: unit tests for the versioned model store (model/store.h).
 *
 * Model directories are small and made here (a config, labels, a few
 * kilobytes of pseudo-random "weights" and a file in a subdirectory), and
 * signed with keys made here: the store only needs them to verify, not to
 * load.  Each refusal checks the code, the message and that the store is
 * exactly as before (every entry of STORE/NAME and where current points).
 * The failure injection hook (AIGUARD_FAILPOINT) is exercised at every
 * step in both modes: an error in this process, a SIGKILL in a forked
 * child.  Children leave with _exit(), so that the helper's exit handler
 * (which removes the scratch directory) runs in the parent only.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ag_err.h"
#include "model/mfiles.h"
#include "model/msig.h"
#include "model/store.h"
#include "test_helper.h"

#define ERRLEN	1024
#define NOGID	((gid_t)-1)	/* the store's group: ours */

static char key1[PATH_MAX], pub1[PATH_MAX], key2[PATH_MAX], pub2[PATH_MAX];
static struct msig_trust *trust1, *trust2;

static const char *const steps[] = {
	"copy", "fsync", "verify", "rename", "link", "switch", "prune",
};
#define NSTEPS	(sizeof(steps) / sizeof(steps[0]))

/* ==== Helpers ========================================================== */

static void
write_file(const char *path, const void *data, size_t len)
{
	FILE *fp;

	if ((fp = fopen(path, "w")) == NULL)
		test_die("%s", path);
	if (len > 0 && fwrite(data, 1, len, fp) != len)
		test_die("%s", path);
	if (fclose(fp) != 0)
		test_die("%s", path);
}

/* Signs dir with the private key at key (model.sig written in dir). */
static void
sign_dir(const char *dir, const char *key)
{
	struct msig_sign_opts o;
	struct mfiles *mf;
	char err[ERRLEN], p[PATH_MAX];
	char *sig;
	size_t siglen;

	memset(&o, 0, sizeof(o));
	if (mfiles_open(dir, &mf, err, sizeof(err)) != 0 ||
	    msig_sign(mf, key, &o, &sig, &siglen, err, sizeof(err)) != 0) {
		fprintf(stderr, "signing %s: %s\n", dir, err);
		exit(99);
	}
	mfiles_close(mf);
	test_path(p, sizeof(p), dir, MSIG_FILE);
	write_file(p, sig, siglen);
	free(sig);
}

/*
 * Makes an unsigned model directory tmp/name whose weights depend on seed,
 * and returns its path (static buffer, one per call site's copy).
 */
static void
make_model(char *dir, size_t len, const char *name, unsigned int seed)
{
	char p[PATH_MAX];
	unsigned char w[8192];
	unsigned int x = seed * 2654435761U + 1;
	size_t i;

	test_path(dir, len, test_tmpdir(), name);
	if (mkdir(dir, 0755) == -1)
		test_die("%s", dir);
	test_path(p, sizeof(p), dir, "config.json");
	write_file(p, "{\"format\": \"test\"}\n", 19);
	test_path(p, sizeof(p), dir, "labels.txt");
	write_file(p, "a\nb\n", 4);
	for (i = 0; i < sizeof(w); i++) {
		x = x * 1103515245U + 12345U;
		w[i] = (unsigned char)(x >> 16);
	}
	test_path(p, sizeof(p), dir, "model.safetensors");
	write_file(p, w, sizeof(w));
	test_path(p, sizeof(p), dir, "extra");
	if (mkdir(p, 0700) == -1)
		test_die("%s", p);
	test_path(p, sizeof(p), dir, "extra/notes.txt");
	write_file(p, "notes\n", 6);
}

static void
make_signed(char *dir, size_t len, const char *name, unsigned int seed)
{
	make_model(dir, len, name, seed);
	sign_dir(dir, key1);
}

static int
verify_dir(const char *dir, struct msig_result *res)
{
	struct mfiles *mf;
	char err[ERRLEN];
	int r;

	if ((r = mfiles_open(dir, &mf, err, sizeof(err))) != 0)
		return r;
	r = msig_verify(mf, trust1, NULL, 0, res, err, sizeof(err));
	mfiles_close(mf);
	return r;
}

/* The version current points to, 0 when none, -1 when not a version. */
static long
current_of(const char *store, const char *name)
{
	char p[PATH_MAX], buf[64];
	ssize_t n;

	snprintf(p, sizeof(p), "%s/%s/current", store, name);
	if ((n = readlink(p, buf, sizeof(buf) - 1)) == -1)
		return errno == ENOENT ? 0 : -1;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * A picture of STORE/NAME: the sorted entries (the lock file left out)
 * with the file names inside each version, and current's target.
 */
static void
snapshot(const char *store, const char *name, char *out, size_t len)
{
	char dir[PATH_MAX], sub[PATH_MAX], *ents[256], tgt[64];
	struct dirent *de;
	DIR *d, *d2;
	size_t n = 0, i, o = 0;
	ssize_t tl;

	out[0] = '\0';
	test_path(dir, sizeof(dir), store, name);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL && n < 256)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0 &&
		    strcmp(de->d_name, ".lock") != 0)
			ents[n++] = strdup(de->d_name);
	closedir(d);
	qsort(ents, n, sizeof(*ents), cmp_str);
	for (i = 0; i < n; i++) {
		o += (size_t)snprintf(out + o, len - o, "%s", ents[i]);
		test_path(sub, sizeof(sub), dir, ents[i]);
		if ((d2 = opendir(sub)) != NULL) {
			while ((de = readdir(d2)) != NULL && o < len)
				o += (size_t)snprintf(out + o, len - o, ":%s",
				    de->d_name);
			closedir(d2);
		}
		if (o < len)
			o += (size_t)snprintf(out + o, len - o, " ");
		free(ents[i]);
		if (o >= len)
			break;
	}
	test_path(sub, sizeof(sub), dir, "current");
	if ((tl = readlink(sub, tgt, sizeof(tgt) - 1)) >= 0 && o < len) {
		tgt[tl] = '\0';
		snprintf(out + o, len - o, "-> %s", tgt);
	}
}

/* 1 when STORE/NAME holds an entry starting with prefix. */
static int
has_entry(const char *store, const char *name, const char *prefix)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int found = 0;

	test_path(dir, sizeof(dir), store, name);
	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			found = 1;
	closedir(d);
	return found;
}

/* The versions of NAME as "1 2 3" (from store_list). */
static void
versions_of(const char *store, const char *name, char *out, size_t len)
{
	struct store_list l;
	char err[ERRLEN];
	size_t i, o = 0;

	out[0] = '\0';
	if (store_list(store, name, &l, err, sizeof(err)) != 0)
		return;
	for (i = 0; i < l.sl_n && o < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%s%u", i ? " " : "",
		    l.sl_versions[i]);
	store_list_free(&l);
}

static void
store_path(char *buf, size_t len, const char *name)
{
	test_path(buf, len, test_tmpdir(), name);
}

/* ==== Tests ============================================================ */

static void
test_names(void)
{
	char longname[STORE_NAME_MAX + 2];

	TEST_START("store_name_valid");
	ASSERT_INT_EQ(store_name_valid("resnet18"), 1);
	ASSERT_INT_EQ(store_name_valid("a"), 1);
	ASSERT_INT_EQ(store_name_valid("R.e_s-1"), 1);
	ASSERT_INT_EQ(store_name_valid(""), 0);
	ASSERT_INT_EQ(store_name_valid(NULL), 0);
	ASSERT_INT_EQ(store_name_valid("."), 0);
	ASSERT_INT_EQ(store_name_valid(".."), 0);
	ASSERT_INT_EQ(store_name_valid(".hidden"), 0);
	ASSERT_INT_EQ(store_name_valid("-x"), 0);
	ASSERT_INT_EQ(store_name_valid("a/b"), 0);
	ASSERT_INT_EQ(store_name_valid("a b"), 0);
	ASSERT_INT_EQ(store_name_valid("caf\xc3\xa9"), 0);
	memset(longname, 'a', STORE_NAME_MAX);
	longname[STORE_NAME_MAX] = '\0';
	ASSERT_INT_EQ(store_name_valid(longname), 1);
	longname[STORE_NAME_MAX] = 'a';
	longname[STORE_NAME_MAX + 1] = '\0';
	ASSERT_INT_EQ(store_name_valid(longname), 0);
	TEST_DONE();
}

static void
test_deploy_rollback(const char *m1, const char *m2)
{
	struct store_result res;
	struct store_list l;
	struct stat st;
	char store[PATH_MAX], p[PATH_MAX], err[ERRLEN], d1[80], d2[80];
	char vers[256];

	/*
	 * Two levels that do not exist yet: the parent 0755, the store and
	 * all in it closed to others (0750, 0640).
	 */
	store_path(store, sizeof(store), "s1/models");

	TEST_START("deploy v1 into a new store");
	ASSERT_INT_EQ(store_deploy(store, "m", m1, trust1, NULL, 0, 2, NOGID,
	    &res, err, sizeof(err)), 0);
	ASSERT_INT_EQ(res.sr_version, 1);
	ASSERT_INT_EQ(res.sr_previous, 0);
	ASSERT_INT_EQ(res.sr_pruned, 0);
	ASSERT_INT_EQ(strncmp(res.sr_sig.mr_digest, "sha256:", 7), 0);
	ASSERT_INT_EQ(strncmp(res.sr_sig.mr_signer, "key sha256:", 11), 0);
	snprintf(d1, sizeof(d1), "%s", res.sr_sig.mr_digest);
	ASSERT_INT_EQ(current_of(store, "m"), 1);
	store_path(p, sizeof(p), "s1");
	ASSERT_INT_EQ(stat(p, &st), 0);
	ASSERT_INT_EQ(st.st_mode & 07777, 0755);
	ASSERT_INT_EQ(stat(store, &st), 0);
	ASSERT_INT_EQ(st.st_mode & 07777, 0750);
	test_path(p, sizeof(p), store, "m");
	ASSERT_INT_EQ(stat(p, &st), 0);
	ASSERT_INT_EQ(st.st_mode & 07777, 0750);
	test_path(p, sizeof(p), store, "m/1");
	ASSERT_INT_EQ(stat(p, &st), 0);
	ASSERT_INT_EQ(st.st_mode & 07777, 0750);
	test_path(p, sizeof(p), store, "m/1/extra");
	ASSERT_INT_EQ(stat(p, &st), 0);
	ASSERT_INT_EQ(st.st_mode & 07777, 0750);	/* source had 0700 */
	test_path(p, sizeof(p), store, "m/1/extra/notes.txt");
	ASSERT_INT_EQ(stat(p, &st), 0);
	ASSERT_INT_EQ(st.st_mode & 07777, 0640);
	test_path(p, sizeof(p), store, "m/1/model.sig");
	ASSERT_INT_EQ(stat(p, &st), 0);
	ASSERT_INT_EQ(st.st_mode & 07777, 0640);
	test_path(p, sizeof(p), store, "m/current");
	ASSERT_INT_EQ(verify_dir(p, NULL), 0);
	ASSERT_FALSE(has_entry(store, "m", ".staging."));
	ASSERT_FALSE(has_entry(store, "m", "current.tmp"));
	TEST_DONE();

	TEST_START("deploy v2 switches current");
	ASSERT_INT_EQ(store_deploy(store, "m", m2, trust1, NULL, 0, 2, NOGID,
	    &res, err, sizeof(err)), 0);
	ASSERT_INT_EQ(res.sr_version, 2);
	ASSERT_INT_EQ(res.sr_previous, 1);
	snprintf(d2, sizeof(d2), "%s", res.sr_sig.mr_digest);
	ASSERT_INT_NE(strcmp(d1, d2), 0);
	ASSERT_INT_EQ(current_of(store, "m"), 2);
	ASSERT_INT_EQ(store_list(store, "m", &l, err, sizeof(err)), 0);
	ASSERT_INT_EQ(l.sl_n, 2);
	ASSERT_INT_EQ(l.sl_current, 2);
	if (l.sl_n == 2) {
		ASSERT_INT_EQ(l.sl_versions[0], 1);
		ASSERT_INT_EQ(l.sl_versions[1], 2);
	}
	store_list_free(&l);
	TEST_DONE();

	TEST_START("rollback to v1, then nothing older");
	ASSERT_INT_EQ(store_rollback(store, "m", trust1, NULL, 0, NOGID, &res,
	    err, sizeof(err)), 0);
	ASSERT_INT_EQ(res.sr_version, 1);
	ASSERT_INT_EQ(res.sr_previous, 2);
	ASSERT_STRING_EQ(res.sr_sig.mr_digest, d1);
	ASSERT_INT_EQ(current_of(store, "m"), 1);
	ASSERT_INT_EQ(store_rollback(store, "m", trust1, NULL, 0, NOGID, &res,
	    err, sizeof(err)), AG_ERR_NOT_FOUND);
	ASSERT_STRING_CONTAINS(err, "no version older than 1");
	ASSERT_INT_EQ(current_of(store, "m"), 1);
	TEST_DONE();

	TEST_START("a version number is never reused");
	ASSERT_INT_EQ(store_deploy(store, "m", m2, trust1, NULL, 0, 2, NOGID,
	    &res, err, sizeof(err)), 0);
	ASSERT_INT_EQ(res.sr_version, 3);
	ASSERT_INT_EQ(res.sr_previous, 1);
	ASSERT_INT_EQ(current_of(store, "m"), 3);
	versions_of(store, "m", vers, sizeof(vers));
	ASSERT_STRING_EQ(vers, "1 2 3");
	TEST_DONE();

	TEST_START("rollback verifies the older version again");
	test_path(p, sizeof(p), store, "m/2/model.safetensors");
	write_file(p, "tampered", 8);
	ASSERT_INT_EQ(store_rollback(store, "m", trust1, NULL, 0, NOGID, &res,
	    err, sizeof(err)), AG_ERR_SIGNATURE);
	ASSERT_STRING_CONTAINS(err, "rollback m: verify:");
	ASSERT_STRING_CONTAINS(err, "model.safetensors");
	ASSERT_INT_EQ(current_of(store, "m"), 3);
	ASSERT_INT_EQ(store_rollback(store, "m", trust2, NULL, 0, NOGID, &res,
	    err, sizeof(err)), AG_ERR_SIGNATURE);
	ASSERT_INT_EQ(current_of(store, "m"), 3);
	TEST_DONE();

	TEST_START("rollback and list of an unknown name");
	ASSERT_INT_EQ(store_rollback(store, "nope", trust1, NULL, 0, NOGID,
	    &res, err, sizeof(err)), AG_ERR_NOT_FOUND);
	ASSERT_INT_EQ(store_list(store, "nope", &l, err, sizeof(err)),
	    AG_ERR_NOT_FOUND);
	ASSERT_INT_EQ(store_list(store, "../x", &l, err, sizeof(err)),
	    AG_ERR_INVALID_ARG);
	ASSERT_INT_EQ(store_deploy(store, "../x", m1, trust1, NULL, 0, 2,
	    NOGID, &res, err, sizeof(err)), AG_ERR_INVALID_ARG);
	TEST_DONE();
}

static void
test_prune(const char *m1)
{
	struct store_result res;
	char store[PATH_MAX], err[ERRLEN], vers[256];
	int i;

	store_path(store, sizeof(store), "s2");
	TEST_START("keep 1: current, the one before");
	for (i = 1; i <= 5; i++) {
		ASSERT_INT_EQ(store_deploy(store, "m", m1, trust1, NULL, 0, 1,
		    NOGID, &res, err, sizeof(err)), 0);
		ASSERT_INT_EQ(res.sr_version, i);
	}
	ASSERT_INT_EQ(res.sr_pruned, 1);
	versions_of(store, "m", vers, sizeof(vers));
	ASSERT_STRING_EQ(vers, "4 5");
	TEST_DONE();

	TEST_START("keep 3 keeps what is there");
	ASSERT_INT_EQ(store_deploy(store, "m", m1, trust1, NULL, 0, 3, NOGID,
	    &res, err, sizeof(err)), 0);
	ASSERT_INT_EQ(res.sr_pruned, 0);
	versions_of(store, "m", vers, sizeof(vers));
	ASSERT_STRING_EQ(vers, "4 5 6");
	TEST_DONE();

	TEST_START("keep 0: only current and the one it replaced");
	ASSERT_INT_EQ(store_deploy(store, "m", m1, trust1, NULL, 0, 0, NOGID,
	    &res, err, sizeof(err)), 0);
	ASSERT_INT_EQ(res.sr_pruned, 2);
	versions_of(store, "m", vers, sizeof(vers));
	ASSERT_STRING_EQ(vers, "6 7");
	TEST_DONE();

	TEST_START("never prune the version replaced, after a rollback");
	/* 6 7 8 9, roll back to 8: a deploy replaces 8, not 9. */
	ASSERT_INT_EQ(store_deploy(store, "m", m1, trust1, NULL, 0, 5, NOGID,
	    &res, err, sizeof(err)), 0);
	ASSERT_INT_EQ(store_deploy(store, "m", m1, trust1, NULL, 0, 5, NOGID,
	    &res, err, sizeof(err)), 0);
	ASSERT_INT_EQ(res.sr_version, 9);
	ASSERT_INT_EQ(store_rollback(store, "m", trust1, NULL, 0, NOGID, &res,
	    err, sizeof(err)), 0);
	ASSERT_INT_EQ(current_of(store, "m"), 8);
	ASSERT_INT_EQ(store_deploy(store, "m", m1, trust1, NULL, 0, 0, NOGID,
	    &res, err, sizeof(err)), 0);
	ASSERT_INT_EQ(res.sr_version, 10);
	ASSERT_INT_EQ(res.sr_previous, 8);
	versions_of(store, "m", vers, sizeof(vers));
	ASSERT_STRING_EQ(vers, "8 10");
	ASSERT_FALSE(has_entry(store, "m", ".staging."));
	TEST_DONE();
}

/* A deploy that must fail with code r, message containing what, and
 * leave the store exactly as it was. */
static void
refused(const char *store, const char *src, const struct msig_trust *t,
    int r, const char *what)
{
	struct store_result res;
	char before[4096], after[4096], err[ERRLEN];

	snapshot(store, "m", before, sizeof(before));
	ASSERT_INT_EQ(store_deploy(store, "m", src, t, NULL, 0, 0, NOGID, &res,
	    err, sizeof(err)), r);
	ASSERT_STRING_CONTAINS(err, what);
	ASSERT_INT_EQ(res.sr_version, 0);
	snapshot(store, "m", after, sizeof(after));
	ASSERT_STRING_EQ(after, before);
}

static void
test_refusals(const char *m1)
{
	char store[PATH_MAX], dir[PATH_MAX], p[PATH_MAX], err[ERRLEN];
	struct store_result res;

	store_path(store, sizeof(store), "s3");
	ASSERT_INT_EQ(store_deploy(store, "m", m1, trust1, NULL, 0, 2, NOGID,
	    &res, err, sizeof(err)), 0);

	TEST_START("tampered model refused, store unchanged");
	make_signed(dir, sizeof(dir), "tampered", 11);
	test_path(p, sizeof(p), dir, "model.safetensors");
	write_file(p, "not the signed weights", 22);
	refused(store, dir, trust1, AG_ERR_SIGNATURE, "model.safetensors");
	TEST_DONE();

	TEST_START("unsigned model refused");
	make_model(dir, sizeof(dir), "unsigned", 12);
	refused(store, dir, trust1, AG_ERR_NOT_FOUND, "deploy m: verify:");
	TEST_DONE();

	TEST_START("wrong key refused");
	refused(store, m1, trust2, AG_ERR_SIGNATURE, "deploy m: verify:");
	TEST_DONE();

	TEST_START("a file the signature does not cover is refused");
	make_signed(dir, sizeof(dir), "extrafile", 13);
	test_path(p, sizeof(p), dir, "extra/added.txt");
	write_file(p, "x", 1);
	refused(store, dir, trust1, AG_ERR_SIGNATURE, "added.txt");
	TEST_DONE();

	TEST_START("the ignore list reaches verification; not copied");
	ASSERT_INT_EQ(store_deploy(store, "m", dir, trust1,
	    (const char *const[]){ "extra/added.txt" }, 1, 2, NOGID, &res,
	    err, sizeof(err)), 0);
	ASSERT_INT_EQ(current_of(store, "m"), 2);
	test_path(p, sizeof(p), store, "m/2/extra/added.txt");
	ASSERT_INT_EQ(access(p, F_OK), -1);
	test_path(p, sizeof(p), store, "m/2/extra/notes.txt");
	ASSERT_INT_EQ(access(p, F_OK), 0);
	TEST_DONE();

	TEST_START("symbolic link in the source refused, named");
	make_signed(dir, sizeof(dir), "withlink", 14);
	test_path(p, sizeof(p), dir, "extra/link");
	if (symlink("/etc/passwd", p) == -1)
		test_die("%s", p);
	refused(store, dir, trust1, AG_ERR_UNEXPECTED, "extra/link");
	TEST_DONE();

	TEST_START("FIFO in the source refused, named");
	make_signed(dir, sizeof(dir), "withfifo", 15);
	test_path(p, sizeof(p), dir, "fifo");
	if (mkfifo(p, 0644) == -1)
		test_die("%s", p);
	refused(store, dir, trust1, AG_ERR_UNEXPECTED, "fifo: a special file");
	TEST_DONE();

	TEST_START("missing source refused");
	test_path(dir, sizeof(dir), test_tmpdir(), "does-not-exist");
	refused(store, dir, trust1, AG_ERR_NOT_FOUND, "does-not-exist");
	TEST_DONE();

	TEST_START("current that is not a version is refused");
	test_path(p, sizeof(p), store, "m/current");
	if (unlink(p) == -1 || symlink("../../elsewhere", p) == -1)
		test_die("%s", p);
	refused(store, m1, trust1, AG_ERR_FORMAT, "not a version");
	if (unlink(p) == -1 || symlink("2", p) == -1)
		test_die("%s", p);
	TEST_DONE();

	TEST_START("NAME as a symbolic link is refused");
	test_path(p, sizeof(p), store, "linked");
	if (symlink("m", p) == -1)
		test_die("%s", p);
	ASSERT_INT_EQ(store_deploy(store, "linked", m1, trust1, NULL, 0, 2,
	    NOGID, &res, err, sizeof(err)), AG_ERR_SYSTEM);
	ASSERT_STRING_CONTAINS(err, "not a directory");
	ASSERT_INT_EQ(current_of(store, "m"), 2);
	TEST_DONE();

	TEST_START("leftovers of killed runs are removed");
	test_path(p, sizeof(p), store, "m/.staging.Ab12Cd");
	if (mkdir(p, 0700) == -1)
		test_die("%s", p);
	test_path(p, sizeof(p), store, "m/.staging.Ab12Cd/sub");
	if (mkdir(p, 0700) == -1)
		test_die("%s", p);
	test_path(p, sizeof(p), store, "m/.staging.Ab12Cd/sub/f");
	write_file(p, "x", 1);
	test_path(p, sizeof(p), store, "m/current.tmp");
	if (symlink("1", p) == -1)
		test_die("%s", p);
	ASSERT_INT_EQ(store_deploy(store, "m", m1, trust1, NULL, 0, 2, NOGID,
	    &res, err, sizeof(err)), 0);
	ASSERT_INT_EQ(res.sr_version, 3);
	ASSERT_FALSE(has_entry(store, "m", ".staging."));
	ASSERT_FALSE(has_entry(store, "m", "current.tmp"));
	TEST_DONE();
}

/* After a failed or killed deploy: current is a complete version that
 * verifies, and is want. */
static void
check_current(const char *store, long want)
{
	char p[PATH_MAX];

	ASSERT_INT_EQ(current_of(store, "m"), want);
	snprintf(p, sizeof(p), "%s/m/current", store);
	ASSERT_INT_EQ(verify_dir(p, NULL), 0);
}

static void
test_failpoints(const char *m1, const char *m2)
{
	struct store_result res;
	char store[PATH_MAX], err[ERRLEN], name[64], env[64], want[64];
	char before[4096], after[4200], vers[4200];
	size_t i;
	long cur;
	pid_t pid;
	int status;

	store_path(store, sizeof(store), "s4");
	ASSERT_INT_EQ(store_deploy(store, "m", m1, trust1, NULL, 0, 100, NOGID,
	    &res, err, sizeof(err)), 0);

	for (i = 0; i < NSTEPS; i++) {
		snprintf(name, sizeof(name), "failpoint deploy:%s:error",
		    steps[i]);
		TEST_START(name);
		cur = current_of(store, "m");
		snapshot(store, "m", before, sizeof(before));
		snprintf(env, sizeof(env), "deploy:%s:error", steps[i]);
		setenv("AIGUARD_FAILPOINT", env, 1);
		/* keep 0: the prune step has something to remove. */
		memset(err, 0, sizeof(err));
		if (strcmp(steps[i], "prune") != 0) {
			ASSERT_INT_EQ(store_deploy(store, "m", i % 2 ? m1 : m2,
			    trust1, NULL, 0, 0, NOGID, &res, err, sizeof(err)),
			    AG_ERR_SYSTEM);
			snprintf(want, sizeof(want), "deploy m: %s: failure "
			    "injected", steps[i]);
			ASSERT_STRING_CONTAINS(err, want);
			unsetenv("AIGUARD_FAILPOINT");
			snapshot(store, "m", after, sizeof(after));
			ASSERT_STRING_EQ(after, before);
			check_current(store, cur);
		} else {
			/* After the switch: done, but nothing pruned. */
			versions_of(store, "m", before, sizeof(before));
			ASSERT_INT_EQ(store_deploy(store, "m", m2, trust1,
			    NULL, 0, 0, NOGID, &res, err, sizeof(err)), 0);
			unsetenv("AIGUARD_FAILPOINT");
			ASSERT_INT_EQ(res.sr_pruned, 0);
			check_current(store, (long)res.sr_version);
			versions_of(store, "m", vers, sizeof(vers));
			snprintf(after, sizeof(after), "%s %u", before,
			    res.sr_version);
			ASSERT_STRING_EQ(vers, after);
		}
		/* The next deploy works and leaves no staging. */
		ASSERT_INT_EQ(store_deploy(store, "m", m1, trust1, NULL, 0,
		    100, NOGID, &res, err, sizeof(err)), 0);
		check_current(store, (long)res.sr_version);
		ASSERT_FALSE(has_entry(store, "m", ".staging."));
		ASSERT_FALSE(has_entry(store, "m", "current.tmp"));
		TEST_DONE();
	}

	for (i = 0; i < NSTEPS; i++) {
		snprintf(name, sizeof(name), "failpoint deploy:%s (SIGKILL)",
		    steps[i]);
		TEST_START(name);
		cur = current_of(store, "m");
		fflush(NULL);
		if ((pid = fork()) == -1)
			test_die("%s", "fork");
		if (pid == 0) {
			snprintf(env, sizeof(env), "deploy:%s", steps[i]);
			setenv("AIGUARD_FAILPOINT", env, 1);
			store_deploy(store, "m", m2, trust1, NULL, 0, 0, NOGID,
			    &res, err, sizeof(err));
			_exit(3);	/* not reached: killed */
		}
		ASSERT_INT_EQ(waitpid(pid, &status, 0), pid);
		ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		/*
		 * Before the switch current has not moved; at prune the
		 * switch is done and the new version is current.
		 */
		if (strcmp(steps[i], "prune") == 0)
			ASSERT_INT_GT(current_of(store, "m"), cur);
		else
			ASSERT_INT_EQ(current_of(store, "m"), cur);
		check_current(store, current_of(store, "m"));
		ASSERT_INT_EQ(store_deploy(store, "m", m1, trust1, NULL, 0,
		    100, NOGID, &res, err, sizeof(err)), 0);
		check_current(store, (long)res.sr_version);
		ASSERT_FALSE(has_entry(store, "m", ".staging."));
		ASSERT_FALSE(has_entry(store, "m", "current.tmp"));
		TEST_DONE();
	}

	TEST_START("an unknown failpoint is ignored");
	setenv("AIGUARD_FAILPOINT", "deploy:copyX", 1);
	ASSERT_INT_EQ(store_deploy(store, "m", m1, trust1, NULL, 0, 100, NOGID,
	    &res, err, sizeof(err)), 0);
	setenv("AIGUARD_FAILPOINT", "rollback:copy:error", 1);
	ASSERT_INT_EQ(store_deploy(store, "m", m1, trust1, NULL, 0, 100, NOGID,
	    &res, err, sizeof(err)), 0);
	unsetenv("AIGUARD_FAILPOINT");
	TEST_DONE();
}

/* The names in dir, sorted, space-separated, into out. */
static void
list_dir(const char *dir, char *out, size_t len)
{
	char *ents[64];
	struct dirent *de;
	DIR *d;
	size_t n = 0, i, o = 0;

	out[0] = '\0';
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL && n < 64)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			ents[n++] = strdup(de->d_name);
	closedir(d);
	qsort(ents, n, sizeof(*ents), cmp_str);
	for (i = 0; i < n; i++) {
		if (o < len)
			o += (size_t)snprintf(out + o, len - o, "%s%s",
			    i ? " " : "", ents[i]);
		free(ents[i]);
	}
}

/* Lines of the file path into lines[] (up to max), newline cut. */
static size_t
read_lines(const char *path, char lines[][1024], size_t max)
{
	FILE *fp;
	size_t n = 0;

	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	while (n < max && fgets(lines[n], 1024, fp) != NULL) {
		lines[n][strcspn(lines[n], "\n")] = '\0';
		n++;
	}
	fclose(fp);
	return n;
}

/* store_log_print() of name into a string; the number of lines. */
static size_t
log_print(const char *store, const char *name, char *out, size_t len)
{
	char err[ERRLEN];
	FILE *fp;
	size_t n = 0, i;

	out[0] = '\0';
	if ((fp = fmemopen(out, len, "w")) == NULL)
		test_die("%s", "fmemopen");
	if (store_log_print(store, name, fp, err, sizeof(err)) != 0)
		fprintf(stderr, "store_log_print: %s\n", err);
	fclose(fp);
	for (i = 0; out[i] != '\0'; i++)
		n += out[i] == '\n';
	return n;
}

/* One audit line has the fields of this deploy or rollback. */
static void
check_audit_line(const char *line, const char *event, const char *name,
    unsigned int v, unsigned int prev, const char *digest)
{
	char want[256];

	/* time=YYYY-MM-DDTHH:MM:SSZ first. */
	ASSERT_INT_EQ(strncmp(line, "time=", 5), 0);
	ASSERT_INT_EQ(strlen(line) > 25 && line[9] == '-' && line[15] == 'T' &&
	    line[24] == 'Z' && line[25] == ' ', 1);
	snprintf(want, sizeof(want), " event=%s model=\"%s\" version=%u "
	    "previous=%u digest=\"%s\" signer=\"key sha256:", event, name, v,
	    prev, digest);
	ASSERT_STRING_CONTAINS(line, want);
	snprintf(want, sizeof(want), "\" uid=%lu user=\"",
	    (unsigned long)getuid());
	ASSERT_STRING_CONTAINS(line, want);
}

static void
test_copy_group_log(const char *m1, const char *m2)
{
	struct store_result res;
	struct stat st;
	char store[PATH_MAX], dir[PATH_MAX], p[PATH_MAX], err[ERRLEN];
	char names[1024], before[4096], after[4096], d[3][80];
	char lines[8][1024], out[8192];
	gid_t gid = geteuid() == 0 ? 65534 : getegid();
	size_t n;

	TEST_START("deploy copies only what the signature covers");
	store_path(store, sizeof(store), "s7");
	make_signed(dir, sizeof(dir), "withgit", 21);
	/* Ignored by the signature (the reference's default ignores). */
	test_path(p, sizeof(p), dir, ".git");
	if (mkdir(p, 0755) == -1)
		test_die("%s", p);
	test_path(p, sizeof(p), dir, ".git/config");
	write_file(p, "[remote]\n\turl = https://user:TOKEN@example.org/x\n",
	    48);
	test_path(p, sizeof(p), dir, ".gitignore");
	write_file(p, "*.tmp\n", 6);
	ASSERT_INT_EQ(store_deploy(store, "m", dir, trust1, NULL, 0, 2, NOGID,
	    &res, err, sizeof(err)), 0);
	test_path(p, sizeof(p), store, "m/1");
	list_dir(p, names, sizeof(names));
	ASSERT_STRING_EQ(names,
	    "config.json extra labels.txt model.safetensors model.sig");
	test_path(p, sizeof(p), store, "m/current");
	ASSERT_INT_EQ(verify_dir(p, NULL), 0);
	TEST_DONE();

	TEST_START("deploy gives the group; an old 0755 NAME is closed");
	store_path(store, sizeof(store), "s8");
	if (mkdir(store, 0755) == -1)
		test_die("%s", store);
	test_path(p, sizeof(p), store, "m");
	if (mkdir(p, 0755) == -1 || chmod(p, 0755) == -1)
		test_die("%s", p);
	ASSERT_INT_EQ(store_deploy(store, "m", m1, trust1, NULL, 0, 5, gid,
	    &res, err, sizeof(err)), 0);
	snprintf(d[0], sizeof(d[0]), "%s", res.sr_sig.mr_digest);
	ASSERT_INT_EQ(stat(store, &st), 0);
	ASSERT_INT_EQ(st.st_mode & 07777, 0755);	/* the operator's */
	test_path(p, sizeof(p), store, "m");
	ASSERT_INT_EQ(stat(p, &st), 0);
	ASSERT_INT_EQ(st.st_mode & 07777, 0750);
	ASSERT_INT_EQ(st.st_gid, gid);
	test_path(p, sizeof(p), store, "m/1");
	ASSERT_INT_EQ(stat(p, &st), 0);
	ASSERT_INT_EQ(st.st_mode & 07777, 0750);
	ASSERT_INT_EQ(st.st_gid, gid);
	test_path(p, sizeof(p), store, "m/1/extra");
	ASSERT_INT_EQ(stat(p, &st), 0);
	ASSERT_INT_EQ(st.st_gid, gid);
	test_path(p, sizeof(p), store, "m/1/model.safetensors");
	ASSERT_INT_EQ(stat(p, &st), 0);
	ASSERT_INT_EQ(st.st_mode & 07777, 0640);
	ASSERT_INT_EQ(st.st_gid, gid);
	test_path(p, sizeof(p), store, STORE_AUDIT_LOG);
	ASSERT_INT_EQ(stat(p, &st), 0);
	ASSERT_INT_EQ(st.st_mode & 07777, 0640);
	ASSERT_INT_EQ(st.st_gid, gid);
	TEST_DONE();

	TEST_START("the audit log: one line per deploy and rollback");
	ASSERT_INT_EQ(store_deploy(store, "m", m2, trust1, NULL, 0, 5, gid,
	    &res, err, sizeof(err)), 0);
	snprintf(d[1], sizeof(d[1]), "%s", res.sr_sig.mr_digest);
	/* Refused: no line. */
	ASSERT_INT_EQ(store_deploy(store, "m", m1, trust2, NULL, 0, 5, gid,
	    &res, err, sizeof(err)), AG_ERR_SIGNATURE);
	ASSERT_INT_EQ(store_rollback(store, "m", trust1, NULL, 0, gid, &res,
	    err, sizeof(err)), 0);
	ASSERT_INT_EQ(store_deploy(store, "other", m2, trust1, NULL, 0, 5,
	    gid, &res, err, sizeof(err)), 0);
	snprintf(d[2], sizeof(d[2]), "%s", res.sr_sig.mr_digest);
	test_path(p, sizeof(p), store, STORE_AUDIT_LOG);
	n = read_lines(p, lines, 8);
	ASSERT_INT_EQ(n, 4);
	if (n == 4) {
		check_audit_line(lines[0], "deploy", "m", 1, 0, d[0]);
		check_audit_line(lines[1], "deploy", "m", 2, 1, d[1]);
		check_audit_line(lines[2], "rollback", "m", 1, 2, d[0]);
		check_audit_line(lines[3], "deploy", "other", 1, 0, d[2]);
	}
	ASSERT_INT_EQ(log_print(store, "m", out, sizeof(out)), 3);
	ASSERT_STRING_CONTAINS(out, "event=rollback model=\"m\" version=1");
	ASSERT_INT_EQ(log_print(store, "other", out, sizeof(out)), 1);
	ASSERT_INT_EQ(log_print(store, "none", out, sizeof(out)), 0);
	ASSERT_INT_EQ(log_print(store, NULL, out, sizeof(out)), 4);
	TEST_DONE();

	TEST_START("an audit log that cannot be opened stops the deploy");
	test_path(p, sizeof(p), store, STORE_AUDIT_LOG);
	if (unlink(p) == -1 || symlink("/dev/null", p) == -1)
		test_die("%s", p);
	snapshot(store, "m", before, sizeof(before));
	ASSERT_INT_EQ(store_deploy(store, "m", m2, trust1, NULL, 0, 5, gid,
	    &res, err, sizeof(err)), AG_ERR_SYSTEM);
	ASSERT_STRING_CONTAINS(err, "deploy m: log:");
	ASSERT_STRING_CONTAINS(err, STORE_AUDIT_LOG);
	ASSERT_INT_EQ(store_rollback(store, "m", trust1, NULL, 0, gid, &res,
	    err, sizeof(err)), AG_ERR_SYSTEM);
	ASSERT_STRING_CONTAINS(err, "rollback m: log:");
	snapshot(store, "m", after, sizeof(after));
	ASSERT_STRING_EQ(after, before);
	TEST_DONE();
}

static void
test_concurrent(const char *m1, const char *m2)
{
	char store[PATH_MAX], p[PATH_MAX], err[ERRLEN], vers[256];
	struct store_result res;
	pid_t pid[2];
	int i, status, lfd, pfd[2];
	unsigned int v[2];

	store_path(store, sizeof(store), "s5");
	TEST_START("two concurrent deploys are serialized");
	ASSERT_INT_EQ(store_deploy(store, "m", m1, trust1, NULL, 0, 10, NOGID,
	    &res, err, sizeof(err)), 0);
	/* Hold the lock, so that both have to wait for it. */
	test_path(p, sizeof(p), store, "m/.lock");
	if ((lfd = open(p, O_RDWR | O_CLOEXEC)) == -1 ||
	    flock(lfd, LOCK_EX) == -1)
		test_die("%s", p);
	if (pipe(pfd) == -1)
		test_die("%s", "pipe");
	fflush(NULL);
	for (i = 0; i < 2; i++) {
		if ((pid[i] = fork()) == -1)
			test_die("%s", "fork");
		if (pid[i] == 0) {
			close(pfd[0]);
			close(lfd);
			if (store_deploy(store, "m", i ? m1 : m2, trust1,
			    NULL, 0, 10, NOGID, &res, err, sizeof(err)) != 0) {
				fprintf(stderr, "child: %s\n", err);
				_exit(1);
			}
			if (write(pfd[1], &res.sr_version,
			    sizeof(res.sr_version)) !=
			    (ssize_t)sizeof(res.sr_version))
				_exit(2);
			_exit(0);
		}
	}
	close(pfd[1]);
	usleep(200 * 1000);
	/* Nobody got past the lock. */
	ASSERT_INT_EQ(current_of(store, "m"), 1);
	ASSERT_FALSE(has_entry(store, "m", ".staging."));
	close(lfd);
	for (i = 0; i < 2; i++) {
		ASSERT_INT_EQ(waitpid(pid[i], &status, 0), pid[i]);
		ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	ASSERT_INT_EQ(read(pfd[0], &v[0], sizeof(v[0])), sizeof(v[0]));
	ASSERT_INT_EQ(read(pfd[0], &v[1], sizeof(v[1])), sizeof(v[1]));
	close(pfd[0]);
	ASSERT_INT_NE(v[0], v[1]);
	ASSERT_INT_EQ(v[0] + v[1], 2 + 3);
	ASSERT_INT_EQ(current_of(store, "m"), 3);
	versions_of(store, "m", vers, sizeof(vers));
	ASSERT_STRING_EQ(vers, "1 2 3");
	check_current(store, 3);
	TEST_DONE();
}

void
tests(void)
{
	char err[ERRLEN], m1[PATH_MAX], m2[PATH_MAX];

	test_plan(42);

	msig_init();
	test_path(key1, sizeof(key1), test_tmpdir(), "k1.key");
	test_path(pub1, sizeof(pub1), test_tmpdir(), "k1.pub");
	test_path(key2, sizeof(key2), test_tmpdir(), "k2.key");
	test_path(pub2, sizeof(pub2), test_tmpdir(), "k2.pub");
	if (msig_keygen(key1, pub1, err, sizeof(err)) != 0 ||
	    msig_keygen(key2, pub2, err, sizeof(err)) != 0 ||
	    msig_trust_key(pub1, &trust1, err, sizeof(err)) != 0 ||
	    msig_trust_key(pub2, &trust2, err, sizeof(err)) != 0) {
		fprintf(stderr, "keys: %s\n", err);
		exit(99);
	}
	make_signed(m1, sizeof(m1), "model1", 1);
	make_signed(m2, sizeof(m2), "model2", 2);

	test_names();
	test_deploy_rollback(m1, m2);
	test_prune(m1);
	test_refusals(m1);
	test_failpoints(m1, m2);
	test_concurrent(m1, m2);
	test_copy_group_log(m1, m2);

	msig_trust_free(trust1);
	msig_trust_free(trust2);
}
