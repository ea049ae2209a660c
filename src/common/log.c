/* SPDX-License-Identifier: ISC */
/*
 * log.c: level-filtered log lines on stderr.  See log.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

int log_verbosity = LOG_LVL_INFO;
static const char *log_progname = "aiguard";

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

static void
log_vemit(int level, int with_errno, const char *func, const char *fmt,
    va_list ap)
{
	char msg[1024];
	int saved = errno;

	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
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
