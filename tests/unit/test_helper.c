/* SPDX-License-Identifier: ISC */
/*
 * test_helper.c: see test_helper.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_helper.h"

static const char *cur_test;
static int cur_failed, n_tests, n_failed;
static char tmpdir[256];

void
test_start(const char *name)
{
	cur_test = name;
	cur_failed = 0;
	n_tests++;
}

void
test_done(void)
{
	if (cur_failed)
		n_failed++;
	else
		printf("ok %s\n", cur_test);
	cur_test = NULL;
}

static void
fail_header(const char *file, int line)
{
	fprintf(stderr, "FAIL %s (%s:%d): ", cur_test ? cur_test : "?",
	    file, line);
	cur_failed = 1;
}

void
assert_fail(const char *file, int line, const char *what)
{
	fail_header(file, line);
	fprintf(stderr, "%s\n", what);
}

void
assert_int_fail(const char *file, int line, const char *a, const char *b,
    long long av, long long bv, const char *op)
{
	fail_header(file, line);
	fprintf(stderr, "%s %s %s: %lld vs %lld\n", a, op, b, av, bv);
}

void
assert_dbl_fail(const char *file, int line, const char *a, const char *b,
    double av, double bv, const char *op)
{
	fail_header(file, line);
	fprintf(stderr, "%s %s %s: %g vs %g\n", a, op, b, av, bv);
}

void
assert_str_fail(const char *file, int line, const char *a, const char *b,
    const char *av, const char *bv)
{
	fail_header(file, line);
	fprintf(stderr, "%s vs %s: \"%s\" vs \"%s\"\n", a, b,
	    av ? av : "(null)", bv ? bv : "(null)");
}

static void
rm_tmpdir(void)
{
	char cmd[300];

	if (tmpdir[0] == '\0')
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

const char *
test_tmpdir(void)
{
	const char *base;

	if (tmpdir[0] != '\0')
		return tmpdir;
	if ((base = getenv("TMPDIR")) == NULL || *base == '\0')
		base = "/tmp";
	snprintf(tmpdir, sizeof(tmpdir), "%s/agtest.XXXXXX", base);
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		exit(99);
	}
	atexit(rm_tmpdir);
	return tmpdir;
}

void *
test_xmalloc(size_t n)
{
	void *p = malloc(n == 0 ? 1 : n);

	if (p == NULL) {
		fprintf(stderr, "out of memory (%zu bytes)\n", n);
		exit(99);
	}
	return p;
}

const char *
test_data_dir(void)
{
	const char *d = getenv("AG_TEST_DATA");

	return d != NULL && *d != '\0' ? d : "tests";
}

void
test_skip_all(const char *why)
{
	printf("SKIP: %s\n", why);
	exit(77);
}

int
main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	tests();
	printf("%d tests, %d failed\n", n_tests, n_failed);
	return n_failed ? 1 : 0;
}
