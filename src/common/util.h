/* SPDX-License-Identifier: ISC */
/*
 * util.h: checked arithmetic, number parsing, whole-file reading and the
 * always-on assertion.
 */
#ifndef AG_UTIL_H
#define AG_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Aborts (SIGABRT) on a broken internal invariant, also in release builds. */
#define AG_ASSERT(cond) do {						\
	if (!(cond))							\
		ag_assert_fail(#cond, __FILE__, __LINE__);		\
} while (0)

void	ag_assert_fail(const char *expr, const char *file, int line)
	    __attribute__((noreturn));

/* *out = a * b; returns 0, or -1 (and leaves *out alone) on overflow. */
int	ag_mul_size(size_t a, size_t b, size_t *out);
/* *out = a + b; returns 0, or -1 on overflow. */
int	ag_add_size(size_t a, size_t b, size_t *out);

/*
 * Parses all of s as a decimal integer in [lo, hi] into *out.  Returns 0,
 * or -1 on an empty string, trailing garbage or a value out of range.
 */
int	ag_parse_long(const char *s, long lo, long hi, long *out);

/* The value of hex digit c (0-9, a-f, A-F), or -1. */
int	ag_hex_digit(int c);

/*
 * Whether the comma-separated list s (an HTTP header value such as
 * Connection's: elements separated by commas, each with optional spaces
 * or tabs around it) holds token, compared without regard to case.  A
 * NULL s holds nothing.
 */
int	ag_list_has_token(const char *s, const char *token);

/*
 * Opens path read-only (O_CLOEXEC, and O_NONBLOCK so that a FIFO cannot
 * hang the open) and checks that it is a regular file.  Symlinks are
 * followed.  On success *fdp is the open descriptor (caller closes) and
 * *sizep its size.  Returns 0 or an AG_ERR_* code with a message naming
 * path (AG_ERR_NOT_FOUND, AG_ERR_SYSTEM, AG_ERR_FORMAT for not a file).
 */
int	ag_open_regular(const char *path, int *fdp, uint64_t *sizep,
	    char *err, size_t errlen);

/*
 * Reads the whole regular file at path into a new buffer (caller frees)
 * with one extra NUL byte after the data.  Refuses files past max bytes.
 * Returns 0 or an AG_ERR_* code with a message naming path in err.
 */
int	ag_read_file(const char *path, size_t max, uint8_t **out,
	    size_t *outlen, char *err, size_t errlen);

/*
 * The process id in a pid file (aiguardd --pid-file: one decimal number,
 * then blanks or a newline).  Returns 0, AG_ERR_NOT_FOUND when there is
 * no such file, or another AG_ERR_* code, with a message naming path.
 */
int	ag_pidfile_read(const char *path, long *pid, char *err,
	    size_t errlen);

/*
 * 1 when process pid's name (/proc/PID/comm) starts with prefix, 0 when
 * it does not, -1 with errno set when it cannot be read (ENOENT or ESRCH:
 * the process is gone).  A stale pid file names some other process.
 */
int	ag_proc_comm_is(long pid, const char *prefix);

/*
 * PR_SET_MDWE(PR_MDWE_REFUSE_EXEC_GAIN) for the rest of the process: no
 * memory can become writable and executable.  Returns 0, or -1 with errno
 * set when the kernel does not offer it.
 */
int	ag_mdwe_enable(void);

/* Monotonic clock in seconds. */
double	ag_now(void);

#endif /* AG_UTIL_H */
