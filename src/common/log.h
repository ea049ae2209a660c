/* SPDX-License-Identifier: ISC */
/*
 * log.h: the only code that writes log lines (OpenBSD log.c shape).
 *
 * Lines go to stderr, one event per line, prefixed with the program name and
 * level.  The macros check the level before evaluating their arguments.
 * Never pass raw request bytes: log lengths, hashes and sanitised names.
 */
#ifndef AG_LOG_H
#define AG_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LVL_FATAL = 0,
	LOG_LVL_WARN = 1,
	LOG_LVL_INFO = 2,
	LOG_LVL_DEBUG = 3,
};

extern int log_verbosity;

/* Sets the program name shown on every line (borrowed, not copied). */
void	log_init(const char *progname, int level);
void	log_setlevel(int level);

/*
 * The daemon logs one key=value line per event (logfmt; journald keeps it
 * whole): "level=info proc=front pid=12 msg=\"...\"".  log_set_role() names
 * the process in it.  log_event() writes its own fields after level, proc
 * and pid; every value that a client (or a model's files) could choose
 * goes in quoted by log_quote_value(), never as a bare %s.
 *
 * log_escape() is the one escaping function of every log line: it copies
 * s to out (outlen bytes, NUL-terminated) with each byte outside printable
 * ASCII (0x20..0x7e) written as \n, \r, \t or \xHH, so that no control
 * byte reaches a terminal and one event stays one line.  With
 * LOG_ESC_QUOTE it also escapes '"' and '\\' and wraps the result in double
 * quotes: a logfmt value that no '=', blank or quote inside can break out
 * of.  A value too long for out is cut before an escape, never inside one,
 * and keeps its closing quote.  Returns the length written.  The message
 * of log_warnx() and the others, and log_event()'s whole field list, pass
 * through it too.
 */
#define LOG_ESC_QUOTE	1
size_t	log_escape(char *out, size_t outlen, const char *s, int flags);
void	log_set_kv(int on);
void	log_set_role(const char *role);
void	log_event(int level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	log_quote_value(char *out, size_t outlen, const char *s);

void	log_emit(int level, int with_errno, const char *func,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void	fatal_emit(int with_errno, const char *func, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4), noreturn));

#define LOG_AT(lvl, e, fn, ...) do {				\
	if (log_verbosity >= (lvl))				\
		log_emit((lvl), (e), (fn), __VA_ARGS__);	\
} while (0)

#define log_warn(...)	LOG_AT(LOG_LVL_WARN, 1, NULL, __VA_ARGS__)
#define log_warnx(...)	LOG_AT(LOG_LVL_WARN, 0, NULL, __VA_ARGS__)
#define log_info(...)	LOG_AT(LOG_LVL_INFO, 0, NULL, __VA_ARGS__)
#define log_debug(...)	LOG_AT(LOG_LVL_DEBUG, 0, NULL, __VA_ARGS__)
#define log_warn_f(...)	LOG_AT(LOG_LVL_WARN, 1, __func__, __VA_ARGS__)
#define log_warnx_f(...) LOG_AT(LOG_LVL_WARN, 0, __func__, __VA_ARGS__)
#define log_debug_f(...) LOG_AT(LOG_LVL_DEBUG, 0, __func__, __VA_ARGS__)
#define fatal(...)	fatal_emit(1, NULL, __VA_ARGS__)
#define fatalx(...)	fatal_emit(0, NULL, __VA_ARGS__)
#define fatal_f(...)	fatal_emit(1, __func__, __VA_ARGS__)
#define fatalx_f(...)	fatal_emit(0, __func__, __VA_ARGS__)

#endif /* AG_LOG_H */
