/* SPDX-License-Identifier: ISC */
/*
 * test_log.c: log injection.  Every value a client chooses reaches the log
 * through log_escape() (log_quote_value() for logfmt values): control
 * bytes, ESC sequences, 8-bit bytes, quotes, backslashes, blanks and
 * "key=value" pairs go through each path (a quoted value, log_event()'s
 * field list, the message of log_warnx() and log_warn() in the daemon's
 * key=value mode and in the tool's text mode), and each line written must
 * be one line of printable ASCII that parses as logfmt with exactly the
 * keys expected, the value decoding back to the bytes that went in.
 *
 * The lines are captured by pointing descriptor 2 at a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "test_helper.h"

/* What a client may send: the review's forged fields, and worse. */
static const char evil_method[] = "GET\tstatus=200\tevent=model_verify";
static const char evil[] = "a \"b\" c\\d key=value\n"
    "level=fatal proc=parent pid=1 msg=\"forged\"\r\x1b[2J\x1b]0;t\x07"
    "\x7f\x9b" "31m\xc2\x9b\xff end";

/* ==== Capture ========================================================== */

static int cap_saved = -1, cap_fd = -1;
static char cap_path[512];

static void
cap_begin(void)
{
	snprintf(cap_path, sizeof(cap_path), "%s/stderr", test_tmpdir());
	fflush(stderr);
	if ((cap_fd = open(cap_path, O_RDWR | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    (cap_saved = dup(2)) == -1 || dup2(cap_fd, 2) == -1) {
		perror("capture");
		exit(99);
	}
}

/* The bytes written since cap_begin() (caller frees). */
static char *
cap_end(void)
{
	char *buf;
	off_t n;

	fflush(stderr);
	if (dup2(cap_saved, 2) == -1 || (n = lseek(cap_fd, 0, SEEK_END)) < 0) {
		perror("capture");
		exit(99);
	}
	buf = test_xmalloc((size_t)n + 1);
	if (pread(cap_fd, buf, (size_t)n, 0) != n) {
		perror("capture read");
		exit(99);
	}
	buf[n] = '\0';
	close(cap_fd);
	close(cap_saved);
	return buf;
}

/* ==== A strict logfmt reader ============================================ */

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Parses one line (no newline): pairs key=value with one blank between,
 * keys of [a-z_], values bare (printable ASCII but blank, '"', '=' and
 * '\') or quoted with the escapes \" \\ \n \r \t \xHH.  Returns the number
 * of pairs, or -1; the keys go to keys (blank-separated), the decoded
 * value of the key want to val.
 */
static int
logfmt_parse(const char *p, char *keys, size_t keyslen, const char *want,
    char *val, size_t vallen)
{
	char key[64], v[4096];
	size_t k, o;
	int n = 0, h, l;

	keys[0] = '\0';
	val[0] = '\0';
	while (*p != '\0') {
		if (n > 0 && *p++ != ' ')
			return -1;
		for (k = 0; (*p >= 'a' && *p <= 'z') || *p == '_'; p++)
			if (k < sizeof(key) - 1)
				key[k++] = *p;
		key[k] = '\0';
		if (k == 0 || *p++ != '=')
			return -1;
		o = 0;
		if (*p == '"') {
			for (p++; *p != '"'; p++) {
				if (*p == '\0' || *p < 0x20 || *p > 0x7e)
					return -1;
				if (*p != '\\') {
					v[o++] = *p;
				} else if (p[1] == '"' || p[1] == '\\') {
					v[o++] = *++p;
				} else if (p[1] == 'n' || p[1] == 'r' ||
				    p[1] == 't') {
					p++;
					v[o++] = *p == 'n' ? '\n' :
					    *p == 'r' ? '\r' : '\t';
				} else if (p[1] == 'x' &&
				    (h = hexval(p[2])) >= 0 &&
				    (l = hexval(p[3])) >= 0) {
					v[o++] = (char)(h << 4 | l);
					p += 3;
				} else
					return -1;
				if (o >= sizeof(v) - 1)
					return -1;
			}
			p++;
		} else {
			for (; *p > 0x20 && *p < 0x7f && *p != '"' &&
			    *p != '=' && *p != '\\'; p++)
				if (o < sizeof(v) - 1)
					v[o++] = *p;
			if (o == 0)
				return -1;
		}
		v[o] = '\0';
		if (strlen(keys) + strlen(key) + 2 > keyslen)
			return -1;
		if (n > 0)
			strcat(keys, " ");
		strcat(keys, key);
		if (strcmp(key, want) == 0)
			snprintf(val, vallen, "%s", v);
		n++;
	}
	return n;
}

/* Exactly one line of printable ASCII, then its newline. */
static int
one_clean_line(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || s[n - 1] != '\n')
		return 0;
	for (i = 0; i + 1 < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

/* Checks a captured key=value line: its keys, and want's value. */
static void
check_kv(char *out, const char *keys_want, const char *want,
    const char *val_want)
{
	char keys[256], val[4096];

	ASSERT_INT_EQ(one_clean_line(out), 1);
	out[strcspn(out, "\n")] = '\0';
	ASSERT_INT_GE(logfmt_parse(out, keys, sizeof(keys), want, val,
	    sizeof(val)), 1);
	ASSERT_STRING_EQ(keys, keys_want);
	if (val_want != NULL)
		ASSERT_STRING_EQ(val, val_want);
}

/* ==== The cases ========================================================= */

static void
test_quote(void)
{
	char q[1024], keys[64], val[1024], line[1100], all[256];
	int c;

	TEST_START("quote: a forged method stays one quoted value");
	log_quote_value(q, sizeof(q), evil_method);
	ASSERT_STRING_EQ(q, "\"GET\\tstatus=200\\tevent=model_verify\"");
	snprintf(line, sizeof(line), "method=%s status=404", q);
	ASSERT_INT_EQ(logfmt_parse(line, keys, sizeof(keys), "method", val,
	    sizeof(val)), 2);
	ASSERT_STRING_EQ(keys, "method status");
	ASSERT_STRING_EQ(val, evil_method);
	TEST_DONE();

	TEST_START("quote: bytes 0x01..0xff, printable ASCII out, same in");
	for (c = 1; c < 256; c++)
		all[c - 1] = (char)c;
	all[255] = '\0';
	log_quote_value(q, sizeof(q), all);
	ASSERT_INT_EQ(one_clean_line(strcat(q, "\n")), 1);
	q[strlen(q) - 1] = '\0';
	snprintf(line, sizeof(line), "v=%s", q);
	ASSERT_INT_EQ(logfmt_parse(line, keys, sizeof(keys), "v", val,
	    sizeof(val)), 1);
	ASSERT_STRING_EQ(val, all);
	TEST_DONE();
}

static void
test_lines(void)
{
	char q[1024], *out;

	log_init("test", LOG_LVL_DEBUG);

	TEST_START("kv: log_event with a quoted client value");
	log_set_kv(1);
	log_set_role("front");
	log_quote_value(q, sizeof(q), evil);
	cap_begin();
	log_event(LOG_LVL_INFO, "event=access method=%s status=%d", q, 400);
	out = cap_end();
	check_kv(out, "level proc pid event method status", "method", evil);
	free(out);
	TEST_DONE();

	TEST_START("kv: a raw value a careless caller left unquoted");
	cap_begin();
	log_event(LOG_LVL_INFO, "event=x v=%s", "a\nb\x1b[31m\x9b");
	out = cap_end();
	ASSERT_INT_EQ(one_clean_line(out), 1);
	ASSERT_PTR_NE(strstr(out, "v=a\\nb\\x1b[31m\\x9b"), NULL);
	free(out);
	TEST_DONE();

	TEST_START("kv: log_warnx's message, the client's bytes inside");
	cap_begin();
	log_warnx("bad request from %s", evil);
	out = cap_end();
	check_kv(out, "level proc pid msg", "msg", NULL);
	ASSERT_PTR_NE(strstr(out, "bad request from a \\\"b\\\""), NULL);
	free(out);
	TEST_DONE();

	TEST_START("kv: log_warn's message and error");
	cap_begin();
	errno = ENOENT;
	log_warn("open %s", evil);
	out = cap_end();
	check_kv(out, "level proc pid msg error", "error",
	    "No such file or directory");
	free(out);
	TEST_DONE();

	TEST_START("text: log_warnx's message, no raw control byte");
	log_set_kv(0);
	cap_begin();
	log_warnx("model file %s", evil);
	out = cap_end();
	ASSERT_INT_EQ(one_clean_line(out), 1);
	ASSERT_PTR_NE(strstr(out, "\\x1b[2J\\x1b]0;t\\x07\\x7f\\x9b31m"),
	    NULL);
	free(out);
	TEST_DONE();

	TEST_START("text: log_event's fields, no raw control byte");
	cap_begin();
	log_event(LOG_LVL_WARN, "v=%s", evil);
	out = cap_end();
	ASSERT_INT_EQ(one_clean_line(out), 1);
	free(out);
	TEST_DONE();
}

static void
test_escape(void)
{
	static const char s[] = "\x1b\"\\x\n";
	char out[64], keys[16], val[64], line[80];
	size_t n, len;

	TEST_START("escape: without quoting, only bytes outside ASCII");
	len = log_escape(out, sizeof(out), "a \"b\" \\ k=v\t\x1b\xe9", 0);
	ASSERT_STRING_EQ(out, "a \"b\" \\ k=v\\t\\x1b\\xe9");
	ASSERT_INT_EQ(len, strlen(out));
	TEST_DONE();

	TEST_START("escape: cut before an escape, never inside, quote kept");
	for (n = 0; n < 30; n++) {
		memset(out, 'Z', sizeof(out));
		len = log_escape(out, n, s, LOG_ESC_QUOTE);
		if (n < 3) {
			ASSERT_INT_EQ(len, 0);
			if (n > 0)
				ASSERT_INT_EQ(out[0], '\0');
			continue;
		}
		ASSERT_INT_LT(len, n);
		ASSERT_INT_EQ(out[len], '\0');
		ASSERT_INT_EQ(out[0], '"');
		ASSERT_INT_EQ(out[len - 1], '"');
		snprintf(line, sizeof(line), "v=%s", out);
		ASSERT_INT_EQ(logfmt_parse(line, keys, sizeof(keys), "v",
		    val, sizeof(val)), 1);
		/* What is kept is a prefix of the value. */
		ASSERT_INT_EQ(strncmp(val, s, strlen(val)), 0);
	}
	ASSERT_STRING_EQ(val, s);
	TEST_DONE();
}

void
tests(void)
{
	test_plan(10);
	test_quote();
	test_lines();
	test_escape();
}
