/* SPDX-License-Identifier: ISC */
/*
 * test_locate.c: unit tests for the model's location (model/locate.c).
 *
 * A scratch tree holds a plain model directory, a store (STORE/m/1,
 * STORE/m/2, STORE/m/current -> 2), a link to the store's current, links
 * that only look like a store's (named "current" to a non-version, named
 * otherwise to a version), and a link to a plain directory.  Each is
 * located and checked field by field: the path loads open, the root the
 * sandbox covers, the store and name, the version; then the store's link
 * is switched and model_loc_current() must follow it while the located
 * version stays.
 */
#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ag_err.h"
#include "model/locate.h"
#include "test_helper.h"

static char t_plain[PATH_MAX], t_store[PATH_MAX], t_current[PATH_MAX];
static char t_link_cur[PATH_MAX], t_fake_cur[PATH_MAX], t_digits[PATH_MAX];
static char t_link_plain[PATH_MAX];

static void
mk(const char *fmt, const char *a, const char *b)
{
	char p[PATH_MAX + 64];

	(void)snprintf(p, sizeof(p), fmt, a, b);
	if (mkdir(p, 0755) != 0) {
		perror(p);
		exit(99);
	}
}

static void
ln(const char *target, const char *fmt, const char *a)
{
	char p[PATH_MAX + 64];

	(void)snprintf(p, sizeof(p), fmt, a);
	(void)unlink(p);
	if (symlink(target, p) != 0) {
		perror(p);
		exit(99);
	}
}

static void
setup(void)
{
	const char *t = test_tmpdir();

	mk("%s/plain%s", t, "");
	mk("%s/store%s", t, "");
	mk("%s/store/m%s", t, "");
	mk("%s/store/m/1%s", t, "");
	mk("%s/store/m/2%s", t, "");
	mk("%s/store/m/3%s", t, "");
	mk("%s/other%s", t, "");
	mk("%s/other/latest%s", t, "");
	mk("%s/other/7%s", t, "");
	ln("2", "%s/store/m/current", t);
	ln("latest", "%s/other/current", t);
	ln("7", "%s/other/model", t);
	(void)snprintf(t_plain, sizeof(t_plain), "%s/plain", t);
	(void)snprintf(t_store, sizeof(t_store), "%s/store", t);
	(void)snprintf(t_current, sizeof(t_current), "%s/store/m/current", t);
	ln(t_current, "%s/served", t);
	(void)snprintf(t_link_cur, sizeof(t_link_cur), "%s/served", t);
	(void)snprintf(t_fake_cur, sizeof(t_fake_cur), "%s/other/current", t);
	(void)snprintf(t_digits, sizeof(t_digits), "%s/other/model", t);
	ln("plain", "%s/aslink", t);
	(void)snprintf(t_link_plain, sizeof(t_link_plain), "%s/aslink", t);
}

/* realpath(fmt % a) into buf, or the test binary stops. */
static const char *
real(char *buf, const char *fmt, const char *a)
{
	char p[PATH_MAX + 64];

	(void)snprintf(p, sizeof(p), fmt, a);
	if (realpath(p, buf) == NULL) {
		perror(p);
		exit(99);
	}
	return buf;
}

static void
test_locate(void)
{
	static struct model_loc ml;
	char err[256], want[PATH_MAX + 64], given[PATH_MAX + 64];
	char dir[PATH_MAX], ver[MODEL_VERSION_MAX];
	char *big;

	TEST_START("a plain directory: as given, version 1, no store");
	(void)snprintf(given, sizeof(given), "%s///", t_plain);
	ASSERT_INT_EQ(model_locate(given, &ml, err, sizeof(err)), 0);
	ASSERT_STRING_EQ(ml.ml_dir, t_plain);
	ASSERT_STRING_EQ(ml.ml_root, real(want, "%s", t_plain));
	ASSERT_STRING_EQ(ml.ml_store, "");
	ASSERT_STRING_EQ(ml.ml_name, "");
	ASSERT_STRING_EQ(ml.ml_version, "1");
	model_loc_current(&ml, dir, sizeof(dir), ver, sizeof(ver));
	ASSERT_STRING_EQ(dir, t_plain);
	ASSERT_STRING_EQ(ver, "1");
	TEST_DONE();

	TEST_START("a store's NAME/current: NAME is the root, its version");
	ASSERT_INT_EQ(model_locate(t_current, &ml, err, sizeof(err)), 0);
	ASSERT_STRING_EQ(ml.ml_dir, t_current);
	ASSERT_STRING_EQ(ml.ml_root, real(want, "%s/m", t_store));
	ASSERT_STRING_EQ(ml.ml_store, real(want, "%s", t_store));
	ASSERT_STRING_EQ(ml.ml_name, "m");
	ASSERT_STRING_EQ(ml.ml_version, "2");
	model_loc_current(&ml, dir, sizeof(dir), ver, sizeof(ver));
	(void)snprintf(want, sizeof(want), "%s/m/2", t_store);
	ASSERT_STRING_EQ(dir, want);
	ASSERT_STRING_EQ(ver, "2");
	TEST_DONE();

	TEST_START("a link to a store's current: the same store entry");
	ASSERT_INT_EQ(model_locate(t_link_cur, &ml, err, sizeof(err)), 0);
	ASSERT_STRING_EQ(ml.ml_dir, t_link_cur);
	ASSERT_STRING_EQ(ml.ml_root, real(want, "%s/m", t_store));
	ASSERT_STRING_EQ(ml.ml_name, "m");
	ASSERT_STRING_EQ(ml.ml_version, "2");
	model_loc_current(&ml, dir, sizeof(dir), ver, sizeof(ver));
	(void)snprintf(want, sizeof(want), "%s/m/2", t_store);
	ASSERT_STRING_EQ(dir, want);
	ASSERT_STRING_EQ(ver, "2");
	TEST_DONE();

	TEST_START("a deploy switches current: each load follows it");
	ln("3", "%s/store/m/current", test_tmpdir());
	model_loc_current(&ml, dir, sizeof(dir), ver, sizeof(ver));
	(void)snprintf(want, sizeof(want), "%s/m/3", t_store);
	ASSERT_STRING_EQ(dir, want);
	ASSERT_STRING_EQ(ver, "3");
	/* What was located stays: the sandbox's root is NAME/ anyway. */
	ASSERT_STRING_EQ(ml.ml_version, "2");
	ASSERT_STRING_EQ(ml.ml_root, real(want, "%s/m", t_store));
	ln("2", "%s/store/m/current", test_tmpdir());
	TEST_DONE();

	TEST_START("\"current\" to a non-version is no store entry");
	ASSERT_INT_EQ(model_locate(t_fake_cur, &ml, err, sizeof(err)), 0);
	ASSERT_STRING_EQ(ml.ml_root, real(want, "%s/other/latest",
	    test_tmpdir()));
	ASSERT_STRING_EQ(ml.ml_name, "");
	ASSERT_STRING_EQ(ml.ml_version, "1");
	model_loc_current(&ml, dir, sizeof(dir), ver, sizeof(ver));
	ASSERT_STRING_EQ(dir, t_fake_cur);
	ASSERT_STRING_EQ(ver, "1");
	TEST_DONE();

	TEST_START("a link to a version, not named current, is no entry");
	ASSERT_INT_EQ(model_locate(t_digits, &ml, err, sizeof(err)), 0);
	ASSERT_STRING_EQ(ml.ml_root, real(want, "%s/other/7",
	    test_tmpdir()));
	ASSERT_STRING_EQ(ml.ml_store, "");
	ASSERT_STRING_EQ(ml.ml_version, "1");
	model_loc_current(&ml, dir, sizeof(dir), ver, sizeof(ver));
	ASSERT_STRING_EQ(dir, t_digits);
	ASSERT_STRING_EQ(ver, "1");
	TEST_DONE();

	TEST_START("a link to a directory: the root is its target only");
	ASSERT_INT_EQ(model_locate(t_link_plain, &ml, err, sizeof(err)), 0);
	ASSERT_STRING_EQ(ml.ml_dir, t_link_plain);
	ASSERT_STRING_EQ(ml.ml_root, real(want, "%s", t_plain));
	TEST_DONE();

	TEST_START("a path that does not exist: located as given");
	(void)snprintf(given, sizeof(given), "%s/missing/", t_plain);
	ASSERT_INT_EQ(model_locate(given, &ml, err, sizeof(err)), 0);
	(void)snprintf(want, sizeof(want), "%s/missing", t_plain);
	ASSERT_STRING_EQ(ml.ml_dir, want);
	ASSERT_STRING_EQ(ml.ml_root, want);
	TEST_DONE();

	TEST_START("the default: $AIGUARD_MODEL when set");
	ASSERT_INT_EQ(setenv("AIGUARD_MODEL", t_current, 1), 0);
	ASSERT_INT_EQ(model_locate("", &ml, err, sizeof(err)), 0);
	ASSERT_STRING_EQ(ml.ml_dir, t_current);
	ASSERT_STRING_EQ(ml.ml_name, "m");
	ASSERT_INT_EQ(model_locate(NULL, &ml, err, sizeof(err)), 0);
	ASSERT_STRING_EQ(ml.ml_version, "2");
	ASSERT_INT_EQ(unsetenv("AIGUARD_MODEL"), 0);
	TEST_DONE();

	TEST_START("a path too long: refused, named");
	big = malloc(PATH_MAX + 16);
	ASSERT_PTR_NE(big, NULL);
	memset(big, 'a', PATH_MAX + 15);
	big[PATH_MAX + 15] = '\0';
	ASSERT_INT_EQ(model_locate(big, &ml, err, sizeof(err)),
	    AG_ERR_TOO_LARGE);
	ASSERT_TRUE(strstr(err, "too long") != NULL);
	free(big);
	TEST_DONE();

	TEST_START("a repository's version: pinned, its directory the root");
	ASSERT_INT_EQ(model_locate_version(t_store, "m", 1, &ml, err,
	    sizeof(err)), 0);
	(void)snprintf(want, sizeof(want), "%s/m/1", t_store);
	ASSERT_STRING_EQ(ml.ml_dir, want);
	/* The sandbox covers that version alone, not NAME/ nor the store. */
	ASSERT_STRING_EQ(ml.ml_root, real(want, "%s/m/1", t_store));
	ASSERT_STRING_EQ(ml.ml_name, "m");
	ASSERT_STRING_EQ(ml.ml_version, "1");
	ASSERT_INT_EQ(ml.ml_pinned, 1);
	/* current says 2: a pinned load still reads version 1. */
	model_loc_current(&ml, dir, sizeof(dir), ver, sizeof(ver));
	(void)snprintf(want, sizeof(want), "%s/m/1", t_store);
	ASSERT_STRING_EQ(dir, want);
	ASSERT_STRING_EQ(ver, "1");
	/* Names are the store's: nothing that climbs out of it. */
	ASSERT_INT_EQ(model_locate_version(t_store, "..", 1, &ml, err,
	    sizeof(err)), AG_ERR_INVALID_ARG);
	ASSERT_INT_EQ(model_locate_version(t_store, "m/1", 1, &ml, err,
	    sizeof(err)), AG_ERR_INVALID_ARG);
	ASSERT_INT_EQ(model_locate_version(t_store, "", 1, &ml, err,
	    sizeof(err)), AG_ERR_INVALID_ARG);
	TEST_DONE();
}

void
tests(void)
{
	test_plan(11);
	setup();
	test_locate();
}
