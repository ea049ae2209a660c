/* SPDX-License-Identifier: ISC */
/*
 * test_common.c: checked arithmetic, number parsing, whole-file reading and
 * the error strings.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ag_err.h"
#include "common/util.h"
#include "test_helper.h"

static void
test_arith(void)
{
	size_t r = 7;

	TEST_START("ag_mul_size / ag_add_size");
	ASSERT_INT_EQ(ag_mul_size(3, 5, &r), 0);
	ASSERT_INT_EQ(r, 15);
	ASSERT_INT_EQ(ag_mul_size(SIZE_MAX / 2 + 1, 2, &r), -1);
	ASSERT_INT_EQ(r, 15);	/* untouched on overflow */
	ASSERT_INT_EQ(ag_mul_size(0, SIZE_MAX, &r), 0);
	ASSERT_INT_EQ(r, 0);
	ASSERT_INT_EQ(ag_add_size(SIZE_MAX, 1, &r), -1);
	ASSERT_INT_EQ(ag_add_size(SIZE_MAX - 1, 1, &r), 0);
	ASSERT_TRUE(r == SIZE_MAX);
	TEST_DONE();
}

static void
test_parse(void)
{
	long v = 42;

	TEST_START("ag_parse_long");
	ASSERT_INT_EQ(ag_parse_long("17", 0, 100, &v), 0);
	ASSERT_INT_EQ(v, 17);
	ASSERT_INT_EQ(ag_parse_long("-3", -5, 5, &v), 0);
	ASSERT_INT_EQ(v, -3);
	ASSERT_INT_EQ(ag_parse_long("", 0, 100, &v), -1);
	ASSERT_INT_EQ(ag_parse_long(NULL, 0, 100, &v), -1);
	ASSERT_INT_EQ(ag_parse_long("12abc", 0, 100, &v), -1);
	ASSERT_INT_EQ(ag_parse_long("101", 0, 100, &v), -1);
	ASSERT_INT_EQ(ag_parse_long("-1", 0, 100, &v), -1);
	ASSERT_INT_EQ(ag_parse_long("99999999999999999999999", 0, LONG_MAX,
	    &v), -1);
	ASSERT_INT_EQ(v, -3);	/* untouched on failure */
	TEST_DONE();

	TEST_START("ag_list_has_token");
	ASSERT_INT_EQ(ag_list_has_token("close", "close"), 1);
	ASSERT_INT_EQ(ag_list_has_token("Close", "close"), 1);
	ASSERT_INT_EQ(ag_list_has_token(" keep-alive ,\tCLOSE\t", "close"), 1);
	ASSERT_INT_EQ(ag_list_has_token("close, Upgrade", "close"), 1);
	ASSERT_INT_EQ(ag_list_has_token("keep-alive", "close"), 0);
	ASSERT_INT_EQ(ag_list_has_token("closed", "close"), 0);
	ASSERT_INT_EQ(ag_list_has_token("not-close, x", "close"), 0);
	ASSERT_INT_EQ(ag_list_has_token("clo se", "close"), 0);
	ASSERT_INT_EQ(ag_list_has_token("", "close"), 0);
	ASSERT_INT_EQ(ag_list_has_token(",,", "close"), 0);
	ASSERT_INT_EQ(ag_list_has_token(NULL, "close"), 0);
	TEST_DONE();
}

static void
test_read_file(void)
{
	char path[512], err[256];
	uint8_t *buf = (uint8_t *)"x";
	size_t len = 9;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/f.txt", test_tmpdir());
	fp = fopen(path, "w");
	ASSERT_PTR_NE(fp, NULL);
	fputs("hello", fp);
	fclose(fp);

	TEST_START("ag_read_file reads and NUL-terminates");
	ASSERT_INT_EQ(ag_read_file(path, 100, &buf, &len, err,
	    sizeof(err)), 0);
	ASSERT_INT_EQ(len, 5);
	ASSERT_STRING_EQ((char *)buf, "hello");
	free(buf);
	TEST_DONE();

	TEST_START("ag_read_file refuses a file past the cap");
	ASSERT_INT_EQ(ag_read_file(path, 4, &buf, &len, err, sizeof(err)),
	    AG_ERR_TOO_LARGE);
	ASSERT_PTR_EQ(buf, NULL);
	ASSERT_INT_EQ(len, 0);
	ASSERT_STRING_CONTAINS(err, path);
	TEST_DONE();

	TEST_START("ag_read_file: a FIFO is refused without blocking");
	snprintf(path, sizeof(path), "%s/fifo", test_tmpdir());
	ASSERT_INT_EQ(mkfifo(path, 0600), 0);
	ASSERT_INT_EQ(ag_read_file(path, 100, &buf, &len, err, sizeof(err)),
	    AG_ERR_FORMAT);
	ASSERT_STRING_CONTAINS(err, "not a regular file");
	TEST_DONE();

	TEST_START("ag_read_file: missing file, directory");
	snprintf(path, sizeof(path), "%s/nope", test_tmpdir());
	ASSERT_INT_EQ(ag_read_file(path, 100, &buf, &len, err, sizeof(err)),
	    AG_ERR_NOT_FOUND);
	ASSERT_STRING_CONTAINS(err, "nope");
	ASSERT_INT_EQ(ag_read_file(test_tmpdir(), 100, &buf, &len, err,
	    sizeof(err)), AG_ERR_FORMAT);
	ASSERT_STRING_CONTAINS(err, "not a regular file");
	TEST_DONE();
}

static void
test_errors(void)
{
	char err[16];
	int r;

	TEST_START("ag_strerror covers every code");
	for (r = AG_ERR_MAX; r <= 0; r++)
		ASSERT_TRUE(strcmp(ag_strerror(r), "unknown error") != 0);
	ASSERT_STRING_EQ(ag_strerror(AG_ERR_MAX - 1), "unknown error");
	ASSERT_STRING_EQ(ag_strerror(5), "unknown error");
	TEST_DONE();

	TEST_START("ag_errf truncates and returns the code");
	ASSERT_INT_EQ(ag_errf(err, sizeof(err), AG_ERR_SHAPE,
	    "tensor %s is wrong", "a.very.long.name"), AG_ERR_SHAPE);
	ASSERT_INT_EQ(strlen(err), sizeof(err) - 1);
	ASSERT_INT_EQ(ag_errf(NULL, 0, AG_ERR_JSON, "x"), AG_ERR_JSON);
	TEST_DONE();
}

static void
test_hex(void)
{
	const char *digits = "0123456789abcdefABCDEF";
	int c, n = 0;

	TEST_START("ag_hex_digit: the 22 digits, nothing else");
	for (c = -1; c < 256; c++) {
		if (c > 0 && strchr(digits, c) != NULL) {
			ASSERT_INT_EQ(ag_hex_digit(c), (int)strtol(
			    (char[]){ (char)c, '\0' }, NULL, 16));
			n++;
		} else
			ASSERT_INT_EQ(ag_hex_digit(c), -1);
	}
	ASSERT_INT_EQ(n, 22);
	TEST_DONE();
}

void
tests(void)
{
	test_plan(10);
	test_arith();
	test_hex();
	test_parse();
	test_read_file();
	test_errors();
}
