/* SPDX-License-Identifier: ISC */
/*
 * test_mfiles.c: unit tests for the read-once file set (mfiles.c).
 *
 * A scratch directory is filled with regular files, a subdirectory, an
 * ignored directory, then a symbolic link, a FIFO and deep nesting, and
 * each is checked against the contract in mfiles.h: sorted walk, ignores
 * by name and below, links refused unless allowed (and then only to
 * regular files), special files refused without being opened, one read
 * per file, read-only bytes, and the verified marks.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ag_err.h"
#include "model/mfiles.h"
#include "test_helper.h"

#define ERRLEN	1024

static void
put(const char *dir, const char *name, const char *text)
{
	char p[1024];
	FILE *fp;

	test_path(p, sizeof(p), dir, name);
	if ((fp = fopen(p, "w")) == NULL || fputs(text, fp) == EOF ||
	    fclose(fp) != 0) {
		perror(p);
		exit(99);
	}
}

static void
mkdir_in(const char *dir, const char *name)
{
	char p[1024];

	test_path(p, sizeof(p), dir, name);
	if (mkdir(p, 0755) != 0 && errno != EEXIST) {
		perror(p);
		exit(99);
	}
}

/* A fresh directory below the scratch one. */
static const char *
fresh(const char *name)
{
	static char p[512];

	test_path(p, sizeof(p), test_tmpdir(), name);
	if (mkdir(p, 0755) != 0) {
		perror(p);
		exit(99);
	}
	return p;
}

static void
test_walk(void)
{
	const char *ign[] = { "skip", "model.sig", "sub/not-me" };
	char err[ERRLEN], **names = NULL, d[512];
	struct mfiles *mf = NULL;
	size_t n = 0;

	snprintf(d, sizeof(d), "%s", fresh("walk"));
	put(d, "b", "bee");
	put(d, "a-b", "x");
	mkdir_in(d, "a");
	put(d, "a/z", "zed");
	mkdir_in(d, "sub");
	put(d, "sub/c", "sea");
	put(d, "sub/not-me", "no");
	mkdir_in(d, "skip");
	put(d, "skip/hidden", "h");
	mkdir_in(d, "empty");
	put(d, "model.sig", "{}");

	TEST_START("mfiles_walk: sorted, ignores by name and below");
	ASSERT_INT_EQ(mfiles_open(d, &mf, err, sizeof(err)), 0);
	ASSERT_INT_EQ(mfiles_walk(mf, ign, 3, 0, &names, &n, err,
	    sizeof(err)), 0);
	ASSERT_INT_EQ(n, 4);
	if (n == 4) {
		/* strcmp order: '-' (0x2d) sorts before '/' (0x2f). */
		ASSERT_STRING_EQ(names[0], "a-b");
		ASSERT_STRING_EQ(names[1], "a/z");
		ASSERT_STRING_EQ(names[2], "b");
		ASSERT_STRING_EQ(names[3], "sub/c");
	}
	mfiles_names_free(names, n);
	TEST_DONE();

	TEST_START("mfiles_read: once, same bytes, read-only copy");
	{
		const struct mfile *f1 = NULL, *f2 = NULL;

		ASSERT_INT_EQ(mfiles_read(mf, "sub/c", 0, &f1, err,
		    sizeof(err)), 0);
		ASSERT_PTR_NE(f1, NULL);
		if (f1 != NULL) {
			ASSERT_INT_EQ(f1->mf_len, 3);
			ASSERT_MEM_EQ(f1->mf_data, "sea", 3);
		}
		/* Changing the file afterwards changes nothing we hold. */
		put(d, "sub/c", "SEA!");
		ASSERT_INT_EQ(mfiles_read(mf, "sub/c", 0, &f2, err,
		    sizeof(err)), 0);
		ASSERT_PTR_EQ(f1, f2);
		if (f2 != NULL) {
			ASSERT_INT_EQ(f2->mf_len, 3);
			ASSERT_MEM_EQ(f2->mf_data, "sea", 3);
		}
	}
	TEST_DONE();

	TEST_START("mfiles_read: bad names, missing files, directories");
	{
		const struct mfile *f;

		ASSERT_INT_EQ(mfiles_read(mf, "../walk/b", 0, &f, err,
		    sizeof(err)), AG_ERR_INVALID_ARG);
		ASSERT_INT_EQ(mfiles_read(mf, "/etc/passwd", 0, &f, err,
		    sizeof(err)), AG_ERR_INVALID_ARG);
		ASSERT_INT_EQ(mfiles_read(mf, "a//z", 0, &f, err,
		    sizeof(err)), AG_ERR_INVALID_ARG);
		ASSERT_INT_EQ(mfiles_read(mf, "./b", 0, &f, err,
		    sizeof(err)), AG_ERR_INVALID_ARG);
		ASSERT_INT_EQ(mfiles_read(mf, "nope", 0, &f, err,
		    sizeof(err)), AG_ERR_NOT_FOUND);
		ASSERT_STRING_CONTAINS(err, "nope");
		ASSERT_INT_EQ(mfiles_read(mf, "b/x", 0, &f, err,
		    sizeof(err)), AG_ERR_NOT_FOUND);
		ASSERT_INT_EQ(mfiles_read(mf, "sub", 0, &f, err,
		    sizeof(err)), AG_ERR_FORMAT);
		ASSERT_STRING_CONTAINS(err, "not a regular file");
		ASSERT_PTR_EQ(f, NULL);
	}
	TEST_DONE();

	TEST_START("mfiles marks");
	{
		const struct mfile *f = NULL;

		ASSERT_INT_EQ(mfiles_set_verified(mf, "b"), AG_ERR_NOT_FOUND);
		ASSERT_INT_EQ(mfiles_read(mf, "b", 0, &f, err, sizeof(err)),
		    0);
		ASSERT_INT_EQ(mfiles_set_verified(mf, "b"), 0);
		ASSERT_INT_EQ(f != NULL && f->mf_verified, 1);
		mfiles_clear_verified(mf);
		ASSERT_INT_EQ(f != NULL && f->mf_verified, 0);
	}
	TEST_DONE();
	mfiles_close(mf);
}

static void
test_links(void)
{
	char err[ERRLEN], **names = NULL, d[512], p[1024], q[1024];
	const struct mfile *f = NULL;
	struct mfiles *mf = NULL;
	size_t n = 0;

	snprintf(d, sizeof(d), "%s", fresh("links"));
	put(d, "real", "data");
	put(test_tmpdir(), "outside", "outer");
	mkdir_in(d, "dir");
	snprintf(p, sizeof(p), "%s/link", d);
	snprintf(q, sizeof(q), "%s/outside", test_tmpdir());
	if (symlink(q, p) != 0)
		exit(99);
	snprintf(p, sizeof(p), "%s/dlink", d);
	if (symlink("dir", p) != 0)
		exit(99);

	TEST_START("mfiles: a symbolic link is refused by default");
	ASSERT_INT_EQ(mfiles_open(d, &mf, err, sizeof(err)), 0);
	ASSERT_INT_EQ(mfiles_walk(mf, NULL, 0, 0, &names, &n, err,
	    sizeof(err)), AG_ERR_UNEXPECTED);
	ASSERT_STRING_CONTAINS(err, "symbolic link");
	ASSERT_PTR_EQ(names, NULL);
	ASSERT_INT_EQ(mfiles_read(mf, "link", 0, &f, err, sizeof(err)),
	    AG_ERR_UNEXPECTED);
	ASSERT_STRING_CONTAINS(err, "link: a symbolic link");
	ASSERT_INT_EQ(mfiles_read(mf, "dlink/x", 0, &f, err, sizeof(err)),
	    AG_ERR_UNEXPECTED);
	TEST_DONE();

	TEST_START("mfiles: allowed links lead to regular files only");
	/* dlink leads to a directory: still refused by the walk. */
	ASSERT_INT_EQ(mfiles_walk(mf, NULL, 0, 1, &names, &n, err,
	    sizeof(err)), AG_ERR_UNEXPECTED);
	ASSERT_STRING_CONTAINS(err, "dlink");
	{
		const char *ign[] = { "dlink" };

		ASSERT_INT_EQ(mfiles_walk(mf, ign, 1, 1, &names, &n, err,
		    sizeof(err)), 0);
		ASSERT_INT_EQ(n, 2);
		mfiles_names_free(names, n);
	}
	ASSERT_INT_EQ(mfiles_read(mf, "link", 1, &f, err, sizeof(err)), 0);
	if (f != NULL) {
		ASSERT_INT_EQ(f->mf_via_link, 1);
		ASSERT_INT_EQ(f->mf_len, 5);
	}
	/* Read through a link once: a later strict read still refuses. */
	ASSERT_INT_EQ(mfiles_read(mf, "link", 0, &f, err, sizeof(err)),
	    AG_ERR_UNEXPECTED);
	TEST_DONE();
	mfiles_close(mf);
}

/* Opening a FIFO for reading would block: it must not even be opened. */
static void
test_special(void)
{
	char err[ERRLEN], **names = NULL, d[512], p[1024];
	const struct mfile *f = NULL;
	struct mfiles *mf = NULL;
	size_t n = 0;
	int r;

	snprintf(d, sizeof(d), "%s", fresh("special"));
	put(d, "ok", "fine");
	snprintf(p, sizeof(p), "%s/fifo", d);
	if (mkfifo(p, 0644) != 0)
		exit(99);
	alarm(10);	/* a hang here is the bug */
	TEST_START("mfiles: a FIFO is refused, not opened");
	ASSERT_INT_EQ(mfiles_open(d, &mf, err, sizeof(err)), 0);
	r = mfiles_walk(mf, NULL, 0, 1, &names, &n, err, sizeof(err));
	ASSERT_INT_EQ(r, AG_ERR_UNEXPECTED);
	ASSERT_STRING_CONTAINS(err, "fifo: a special file");
	ASSERT_INT_EQ(mfiles_read(mf, "fifo", 1, &f, err, sizeof(err)),
	    AG_ERR_FORMAT);
	ASSERT_STRING_CONTAINS(err, "not a regular file");
	TEST_DONE();
	alarm(0);
	mfiles_close(mf);

	TEST_START("mfiles_open: missing directory, a file");
	ASSERT_INT_EQ(mfiles_open("/nonexistent/x", &mf, err, sizeof(err)),
	    AG_ERR_NOT_FOUND);
	ASSERT_PTR_EQ(mf, NULL);
	snprintf(p, sizeof(p), "%s/ok", d);
	ASSERT_INT_EQ(mfiles_open(p, &mf, err, sizeof(err)), AG_ERR_FORMAT);
	ASSERT_STRING_CONTAINS(err, "not a model directory");
	TEST_DONE();
}

static void
test_depth(void)
{
	char err[ERRLEN], **names = NULL, d[512], p[2048];
	struct mfiles *mf = NULL;
	size_t n = 0, len;
	int i;

	snprintf(d, sizeof(d), "%s", fresh("deep"));
	snprintf(p, sizeof(p), "%s", d);
	for (i = 0; i <= MFILES_MAX_DEPTH; i++) {
		len = strlen(p);
		snprintf(p + len, sizeof(p) - len, "/d");
		if (mkdir(p, 0755) != 0)
			exit(99);
	}
	put(p, "f", "deep");

	TEST_START("mfiles_walk: more than MFILES_MAX_DEPTH levels");
	ASSERT_INT_EQ(mfiles_open(d, &mf, err, sizeof(err)), 0);
	ASSERT_INT_EQ(mfiles_walk(mf, NULL, 0, 0, &names, &n, err,
	    sizeof(err)), AG_ERR_TOO_LARGE);
	ASSERT_STRING_CONTAINS(err, "directory levels");
	mfiles_close(mf);
	TEST_DONE();

	TEST_START("mfiles_name_valid");
	ASSERT_INT_EQ(mfiles_name_valid("a/b/c"), 1);
	ASSERT_INT_EQ(mfiles_name_valid(".hidden"), 1);
	ASSERT_INT_EQ(mfiles_name_valid(""), 0);
	ASSERT_INT_EQ(mfiles_name_valid("/a"), 0);
	ASSERT_INT_EQ(mfiles_name_valid("a/"), 0);
	ASSERT_INT_EQ(mfiles_name_valid("a/../b"), 0);
	ASSERT_INT_EQ(mfiles_name_valid(".."), 0);
	ASSERT_INT_EQ(mfiles_name_valid("a/./b"), 0);
	TEST_DONE();
}

void
tests(void)
{
	test_plan(10);
	test_walk();
	test_links();
	test_special();
	test_depth();
}
