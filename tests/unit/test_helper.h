/* SPDX-License-Identifier: ISC */
/*
 * test_helper.h: a tiny unit-test helper in the OpenSSH regress shape.
 *
 * A test binary defines tests(), which declares its plan first
 * (test_plan(N): the number of TEST_START blocks it runs) and then runs
 * sub-suites made of TEST_START("name") ... TEST_DONE() blocks.  A failed
 * ASSERT_* prints the file, line, test name and both values, and the binary
 * exits 1 at the end (after the remaining tests ran).  An assertion that
 * fails outside any test (in set-up code) fails the binary all the same.
 *
 * The binary fails, too, when it ran another number of cases than its plan
 * (less the cases it skipped with test_skip_part()), when it declared no
 * plan, when a TEST_START has no TEST_DONE, or when tests() does not come
 * back (an exit() from the middle of the suite leaves no summary line, and
 * tests/run-tests fails a binary without one).  The last line is
 * "N of M planned cases ran, K skipped, F failed".
 *
 * Skips name their reason with an id that tests/skip-allowlist.sh knows:
 * "SKIP[id]: why".  tests/run-tests fails any skip whose id is not on the
 * allowlist or whose condition does not hold on the machine.
 *
 * Exit codes: 0 pass, 1 fail, 77 skip, 99 hard error.
 */
#ifndef TEST_HELPER_H
#define TEST_HELPER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

void	tests(void);

/* The number of TEST_START blocks tests() runs; call it once, first. */
void	test_plan(int ncases);
void	test_start(const char *name);
void	test_done(void);
/*
 * Skips the whole binary (exit 77) for the allowlisted reason id, or
 * ncases planned cases that will not run (the rest of the binary runs).
 */
void	test_skip_all(const char *id, const char *why)
	    __attribute__((noreturn));
void	test_skip_part(const char *id, int ncases, const char *why);
/* Path of a scratch directory, created on first use, removed at exit. */
const char *test_tmpdir(void);
/* malloc that exits 99 (a hard error, not a failure) when out of memory. */
void	*test_xmalloc(size_t n);
/*
 * A hard error in set-up code (exit 99, not a failure): prints the
 * message, ": " and strerror(errno), as err(3) does.
 */
void	test_die(const char *fmt, ...)
	    __attribute__((noreturn, format(printf, 1, 2)));
/*
 * buf = "dir/name"; returns buf.  A path longer than len is a hard error
 * (test_die), never a truncated name.
 */
const char *test_path(char *buf, size_t len, const char *dir,
	    const char *name);
/* Directory of the test data given by AG_TEST_DATA, or "tests". */
const char *test_data_dir(void);
/*
 * The OpenSSF model-signing vectors: $AG_TOP/../shared/vectors/model-signing
 * (without AG_TOP, from the current directory), or NULL when absent.
 */
const char *test_vectors_dir(void);

void	assert_fail(const char *file, int line, const char *what);
void	assert_int_fail(const char *file, int line, const char *a,
	    const char *b, long long av, long long bv, const char *op);
void	assert_dbl_fail(const char *file, int line, const char *a,
	    const char *b, double av, double bv, const char *op);
void	assert_str_fail(const char *file, int line, const char *a,
	    const char *b, const char *av, const char *bv);

#define TEST_START(n)	test_start(n)
#define TEST_DONE()	test_done()

#define ASSERT_TRUE(x) do {						\
	if (!(x)) assert_fail(__FILE__, __LINE__, #x " is false");	\
} while (0)
#define ASSERT_FALSE(x) do {						\
	if (x) assert_fail(__FILE__, __LINE__, #x " is true");		\
} while (0)
#define ASSERT_INT_OP(a, b, op) do {					\
	long long _a = (long long)(a), _b = (long long)(b);		\
	if (!(_a op _b))						\
		assert_int_fail(__FILE__, __LINE__, #a, #b, _a, _b, #op); \
} while (0)
#define ASSERT_INT_EQ(a, b)	ASSERT_INT_OP(a, b, ==)
#define ASSERT_INT_NE(a, b)	ASSERT_INT_OP(a, b, !=)
#define ASSERT_INT_LT(a, b)	ASSERT_INT_OP(a, b, <)
#define ASSERT_INT_LE(a, b)	ASSERT_INT_OP(a, b, <=)
#define ASSERT_INT_GT(a, b)	ASSERT_INT_OP(a, b, >)
#define ASSERT_INT_GE(a, b)	ASSERT_INT_OP(a, b, >=)
#define ASSERT_DBL_OP(a, b, op) do {					\
	double _a = (double)(a), _b = (double)(b);			\
	if (!(_a op _b))						\
		assert_dbl_fail(__FILE__, __LINE__, #a, #b, _a, _b, #op); \
} while (0)
#define ASSERT_DBL_LE(a, b)	ASSERT_DBL_OP(a, b, <=)
#define ASSERT_DBL_GE(a, b)	ASSERT_DBL_OP(a, b, >=)
#define ASSERT_PTR_EQ(a, b) do {					\
	if ((const void *)(a) != (const void *)(b))			\
		assert_fail(__FILE__, __LINE__, #a " != " #b);		\
} while (0)
#define ASSERT_PTR_NE(a, b) do {					\
	if ((const void *)(a) == (const void *)(b))			\
		assert_fail(__FILE__, __LINE__, #a " == " #b);		\
} while (0)
#define ASSERT_STRING_EQ(a, b) do {					\
	const char *_a = (a), *_b = (b);				\
	if (_a == NULL || _b == NULL || strcmp(_a, _b) != 0)		\
		assert_str_fail(__FILE__, __LINE__, #a, #b, _a, _b);	\
} while (0)
#define ASSERT_STRING_CONTAINS(a, b) do {				\
	const char *_a = (a), *_b = (b);				\
	if (_a == NULL || _b == NULL || strstr(_a, _b) == NULL)		\
		assert_str_fail(__FILE__, __LINE__, #a, #b, _a, _b);	\
} while (0)
#define ASSERT_MEM_EQ(a, b, n) do {					\
	if (memcmp((a), (b), (n)) != 0)					\
		assert_fail(__FILE__, __LINE__, #a " and " #b " differ"); \
} while (0)

#endif /* TEST_HELPER_H */
