/* SPDX-License-Identifier: ISC */
/*
 * test_helper.h: a tiny unit-test helper in the OpenSSH regress shape.
 *
 * A test binary defines tests(), which runs sub-suites made of
 * TEST_START("name") ... TEST_DONE() blocks.  A failed ASSERT_* prints the
 * file, line, test name and both values, and the binary exits 1 at the end
 * (after the remaining tests ran).  Exit codes: 0 pass, 1 fail, 77 skip.
 */
#ifndef TEST_HELPER_H
#define TEST_HELPER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

void	tests(void);

void	test_start(const char *name);
void	test_done(void);
void	test_skip_all(const char *why) __attribute__((noreturn));
/* Path of a scratch directory, created on first use, removed at exit. */
const char *test_tmpdir(void);
/* malloc that exits 99 (a hard error, not a failure) when out of memory. */
void	*test_xmalloc(size_t n);
/* Directory of the test data given by AG_TEST_DATA, or "tests". */
const char *test_data_dir(void);

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
