/* SPDX-License-Identifier: ISC */
/*
 * log.c: level-filtered log lines on stderr.  See log.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

int log_verbosity = LOG_LVL_INFO;
static const char *log_progname = "aiguard";
static int log_kv;			/* 1: key=value lines (the daemon) */
static const char *log_role;		/* "parent", "front", "worker" */

static const char *const log_names[] = { "fatal", "warn", "info", "debug" };

void
log_init(const char *progname, int level)
{
	if (progname != NULL)
		log_progname = progname;
	log_setlevel(level);
}

void
log_setlevel(int level)
{
	if (level < LOG_LVL_FATAL)
		level = LOG_LVL_FATAL;
	if (level > LOG_LVL_DEBUG)
		level = LOG_LVL_DEBUG;
	log_verbosity = level;
}

void
log_set_kv(int on)
{
	log_kv = on;
}

void
log_set_role(const char *role)
{
	log_role = role;
}

/*
 * Appends s to out as a double-quoted logfmt value: quote and backslash are
 * escaped, control characters become \n, \t or \xHH, so that one event
 * stays one line whatever a client put into it.
 */
static void
log_quote(char *out, size_t outlen, const char *s)
{
	size_t o = 0;

	if (outlen < 3)
		return;
	out[o++] = '"';
	for (; *s != '\0' && o + 5 < outlen; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else if (c == '\t') {
			out[o++] = '\\';
			out[o++] = 't';
		} else if (c < 0x20 || c == 0x7f) {
			(void)snprintf(out + o, outlen - o, "\\x%02x", c);
			o += 4;
		} else
			out[o++] = (char)c;
	}
	out[o++] = '"';
	out[o] = '\0';
}

static void
log_kv_line(int level, const char *fields)
{
	fprintf(stderr, "level=%s proc=%s pid=%ld %s\n", log_names[level],
	    log_role ? log_role : log_progname, (long)getpid(), fields);
}

void
log_event(int level, const char *fmt, ...)
{
	char fields[2048];
	va_list ap;
	int saved = errno;

	if (log_verbosity < level)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(fields, sizeof(fields), fmt, ap);
	va_end(ap);
	if (log_kv)
		log_kv_line(level, fields);
	else
		fprintf(stderr, "%s: %s: %s\n", log_progname,
		    log_names[level], fields);
	errno = saved;
}

void
log_quote_value(char *out, size_t outlen, const char *s)
{
	log_quote(out, outlen, s);
}

static void
log_vemit(int level, int with_errno, const char *func, const char *fmt,
    va_list ap)
{
	char msg[1024];
	int saved = errno;

	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_kv) {
		char q[2200], fields[2600];

		log_quote(q, sizeof(q), msg);
		if (with_errno) {
			char qe[256];

			log_quote(qe, sizeof(qe), strerror(saved));
			(void)snprintf(fields, sizeof(fields), "msg=%s error=%s",
			    q, qe);
		} else
			(void)snprintf(fields, sizeof(fields), "msg=%s", q);
		log_kv_line(level, fields);
		errno = saved;
		return;
	}
	/* One fprintf per line keeps lines whole when several threads log. */
	if (with_errno)
		fprintf(stderr, "%s: %s: %s%s%s: %s\n", log_progname,
		    log_names[level], func ? func : "", func ? ": " : "", msg,
		    strerror(saved));
	else
		fprintf(stderr, "%s: %s: %s%s%s\n", log_progname,
		    log_names[level], func ? func : "", func ? ": " : "", msg);
	errno = saved;
}

void
log_emit(int level, int with_errno, const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(level, with_errno, func, fmt, ap);
	va_end(ap);
}

void
fatal_emit(int with_errno, const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_LVL_FATAL, with_errno, func, fmt, ap);
	va_end(ap);
	exit(1);
}
