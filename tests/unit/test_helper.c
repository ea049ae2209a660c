/* SPDX-License-Identifier: ISC */
/*
 * test_helper.c: see test_helper.h.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_helper.h"

static const char *cur_test;
static int cur_failed, n_tests, n_failed;
/* Failures outside TEST_START/TEST_DONE, and misuses of the helper. */
static int n_stray;
static int plan = -1, n_skipped;
static char tmpdir[256];

/* A misuse of the helper is a failure of the binary, never a pass. */
static void __attribute__((format(printf, 1, 2)))
stray(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FAIL (test helper): ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	n_stray++;
}

void
test_plan(int ncases)
{
	if (plan >= 0 || n_tests > 0)
		stray("test_plan(%d) after the plan or a case", ncases);
	plan = ncases;
}

void
test_start(const char *name)
{
	if (cur_test != NULL)
		stray("TEST_START while \"%s\" has no TEST_DONE", cur_test);
	cur_test = name;
	cur_failed = 0;
	n_tests++;
}

void
test_done(void)
{
	if (cur_test == NULL) {
		stray("TEST_DONE without TEST_START");
		return;
	}
	if (cur_failed)
		n_failed++;
	else
		printf("ok %s\n", cur_test);
	cur_test = NULL;
}

static void
fail_header(const char *file, int line)
{
	if (cur_test != NULL) {
		fprintf(stderr, "FAIL %s (%s:%d): ", cur_test, file, line);
		cur_failed = 1;
	} else {
		/* Set-up code: no case to blame, the binary fails. */
		fprintf(stderr, "FAIL outside any test (%s:%d): ", file,
		    line);
		n_stray++;
	}
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

void
test_die(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(e));
	exit(99);
}

const char *
test_path(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		test_die("%s/%s", dir, name);
	}
	return buf;
}

const char *
test_data_dir(void)
{
	const char *d = getenv("AG_TEST_DATA");

	return d != NULL && *d != '\0' ? d : "tests";
}

const char *
test_vectors_dir(void)
{
	static char p[1024];
	const char *top = getenv("AG_TOP");
	struct stat st;

	if (top != NULL && *top != '\0')
		(void)snprintf(p, sizeof(p), "%s/../shared/vectors/"
		    "model-signing", top);
	else
		(void)snprintf(p, sizeof(p), "../shared/vectors/model-signing");
	if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
		return NULL;
	return p;
}

void
test_skip_all(const char *id, const char *why)
{
	printf("SKIP[%s]: %s\n", id, why);
	/* A case already failed is not excused by the skip. */
	if (n_failed || n_stray || cur_test != NULL) {
		fprintf(stderr, "FAIL: skip after a failure or inside "
		    "a case\n");
		exit(1);
	}
	exit(77);
}

void
test_skip_part(const char *id, int ncases, const char *why)
{
	printf("SKIP[%s]: %d case%s: %s\n", id, ncases,
	    ncases == 1 ? "" : "s", why);
	if (ncases < 0)
		stray("test_skip_part with %d cases", ncases);
	else
		n_skipped += ncases;
}

int
main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	tests();
	if (cur_test != NULL)
		stray("\"%s\" has no TEST_DONE", cur_test);
	if (plan < 0)
		stray("tests() declared no plan (test_plan(N))");
	else if (n_tests + n_skipped != plan) {
		fprintf(stderr, "FAIL (test helper): %d cases ran and %d "
		    "were skipped, the plan is %d\n", n_tests, n_skipped,
		    plan);
		n_stray++;
	}
	/* tests/run-tests reads this line; without it the binary failed. */
	printf("%d of %d planned cases ran, %d skipped, %d failed\n",
	    n_tests, plan, n_skipped, n_failed + n_stray);
	return n_failed || n_stray ? 1 : 0;
}
