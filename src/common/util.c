/* SPDX-License-Identifier: ISC */
/*
 * util.c: small safe helpers.  See util.h.
 */
#include <sys/prctl.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "ag_err.h"
#include "util.h"

void
ag_assert_fail(const char *expr, const char *file, int line)
{
	fprintf(stderr, "assertion failed: %s (%s:%d)\n", expr, file, line);
	abort();
}

int
ag_mul_size(size_t a, size_t b, size_t *out)
{
	size_t r;

	if (__builtin_mul_overflow(a, b, &r))
		return -1;
	*out = r;
	return 0;
}

int
ag_add_size(size_t a, size_t b, size_t *out)
{
	size_t r;

	if (__builtin_add_overflow(a, b, &r))
		return -1;
	*out = r;
	return 0;
}

int
ag_parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int
ag_open_regular(const char *path, int *fdp, uint64_t *sizep, char *err,
    size_t errlen)
{
	struct stat st;
	int fd, r;

	*fdp = -1;
	*sizep = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1)
		return ag_errf(err, errlen, errno == ENOENT ?
		    AG_ERR_NOT_FOUND : AG_ERR_SYSTEM, "%s: %s", path,
		    strerror(errno));
	if (fstat(fd, &st) == -1) {
		r = ag_errf(err, errlen, AG_ERR_SYSTEM, "%s: fstat: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < 0) {
		r = ag_errf(err, errlen, AG_ERR_FORMAT,
		    "%s: not a regular file", path);
		goto fail;
	}
	*fdp = fd;
	*sizep = (uint64_t)st.st_size;
	return 0;
 fail:
	close(fd);
	return r;
}

int
ag_read_file(const char *path, size_t max, uint8_t **out, size_t *outlen,
    char *err, size_t errlen)
{
	uint8_t *buf = NULL;
	uint64_t size;
	size_t len, off = 0;
	ssize_t n;
	int fd, r;

	*out = NULL;
	*outlen = 0;
	if ((r = ag_open_regular(path, &fd, &size, err, errlen)) != 0)
		return r;
	if (size > max) {
		r = ag_errf(err, errlen, AG_ERR_TOO_LARGE,
		    "%s: file is %llu bytes, limit %zu", path,
		    (unsigned long long)size, max);
		goto out;
	}
	len = (size_t)size;
	if ((buf = malloc(len + 1)) == NULL) {
		r = ag_errf(err, errlen, AG_ERR_ALLOC, "%s: out of memory",
		    path);
		goto out;
	}
	while (off < len) {
		n = read(fd, buf + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			r = ag_errf(err, errlen, AG_ERR_SYSTEM, "%s: read: %s",
			    path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;	/* shrank under us: use what we got */
		off += (size_t)n;
	}
	buf[off] = '\0';
	*out = buf;
	*outlen = off;
	buf = NULL;
	r = 0;
 out:
	free(buf);
	close(fd);
	return r;
}

int
ag_pidfile_read(const char *path, long *pid, char *err, size_t errlen)
{
	uint8_t *buf;
	size_t len;
	int r;

	if ((r = ag_read_file(path, 64, &buf, &len, err, errlen)) != 0)
		return r;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	r = strlen((char *)buf) != len ||
	    ag_parse_long((char *)buf, 2, INT_MAX, pid) != 0 ?
	    ag_errf(err, errlen, AG_ERR_FORMAT, "%s: not a process id",
	    path) : 0;
	free(buf);
	return r;
}

int
ag_proc_comm_is(long pid, const char *prefix)
{
	char path[64], comm[64];
	ssize_t n;
	int fd, e;

	/* Not ag_read_file(): a /proc file has no size to go by. */
	(void)snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, comm, sizeof(comm) - 1);
	e = errno;
	(void)close(fd);
	if (n == -1) {
		errno = e;
		return -1;
	}
	comm[n] = '\0';
	return strncmp(comm, prefix, strlen(prefix)) == 0;
}

/* Older headers lack the constants (Linux 6.3). */
#ifndef PR_SET_MDWE
#define PR_SET_MDWE			65
#define PR_MDWE_REFUSE_EXEC_GAIN	1
#endif

int
ag_mdwe_enable(void)
{
	return prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0L, 0L, 0L) == 0 ?
	    0 : -1;
}

double
ag_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int
ag_list_has_token(const char *s, const char *token)
{
	size_t tl = strlen(token), n;
	const char *e;

	if (s == NULL)
		return 0;
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		e = strchr(s, ',');
		n = e != NULL ? (size_t)(e - s) : strlen(s);
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		if (n == tl && strncasecmp(s, token, tl) == 0)
			return 1;
		if (e == NULL)
			return 0;
		s = e + 1;
	}
}

int
ag_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
