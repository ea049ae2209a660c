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
 * The one escaping function of log lines (see log.h).  Every byte outside
 * printable ASCII is escaped, 8-bit ones too: a raw 0x9b is CSI to an 8-bit
 * terminal, and a log reader cannot know the terminal (OpenSSH logs
 * untrusted strings through strnvis(VIS_SAFE | VIS_OCTAL) for the same
 * reason).
 */
size_t
log_escape(char *out, size_t outlen, const char *s, int flags)
{
	static const char hex[] = "0123456789abcdef";
	int quote = (flags & LOG_ESC_QUOTE) != 0;
	size_t o = 0, n;
	char e[4];

	if (outlen == 0)
		return 0;
	if (outlen < (quote ? 3u : 1u)) {
		out[0] = '\0';
		return 0;
	}
	if (quote)
		out[o++] = '"';
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		n = 2;
		e[0] = '\\';
		if (quote && (c == '"' || c == '\\'))
			e[1] = (char)c;
		else if (c == '\n')
			e[1] = 'n';
		else if (c == '\r')
			e[1] = 'r';
		else if (c == '\t')
			e[1] = 't';
		else if (c < 0x20 || c >= 0x7f) {
			e[1] = 'x';
			e[2] = hex[c >> 4];
			e[3] = hex[c & 15];
			n = 4;
		} else {
			e[0] = (char)c;
			n = 1;
		}
		/* Room for it, the closing quote and the NUL: never cut. */
		if (o + n + (size_t)quote + 1 > outlen)
			break;
		memcpy(out + o, e, n);
		o += n;
	}
	if (quote)
		out[o++] = '"';
	out[o] = '\0';
	return o;
}

/*
 * fields: key=value pairs whose client-derived values the caller quoted
 * with log_quote_value().  They go through log_escape() once more, without
 * quoting, which changes nothing in such a line (quoted values hold no raw
 * byte outside printable ASCII) but keeps any raw control byte a careless
 * caller let through off the terminal and inside this one line.
 */
static void
log_kv_line(int level, const char *fields)
{
	char safe[2048];

	(void)log_escape(safe, sizeof(safe), fields, 0);
	fprintf(stderr, "level=%s proc=%s pid=%ld %s\n", log_names[level],
	    log_role ? log_role : log_progname, (long)getpid(), safe);
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
	else {
		char safe[2048];

		(void)log_escape(safe, sizeof(safe), fields, 0);
		fprintf(stderr, "%s: %s: %s\n", log_progname,
		    log_names[level], safe);
	}
	errno = saved;
}

void
log_quote_value(char *out, size_t outlen, const char *s)
{
	(void)log_escape(out, outlen, s, LOG_ESC_QUOTE);
}

static void
log_vemit(int level, int with_errno, const char *func, const char *fmt,
    va_list ap)
{
	char msg[1024], safe[2048];
	int saved = errno;

	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_kv) {
		char q[2200], fields[2600];

		log_quote_value(q, sizeof(q), msg);
		if (with_errno) {
			char qe[256];

			log_quote_value(qe, sizeof(qe), strerror(saved));
			(void)snprintf(fields, sizeof(fields), "msg=%s error=%s",
			    q, qe);
		} else
			(void)snprintf(fields, sizeof(fields), "msg=%s", q);
		log_kv_line(level, fields);
		errno = saved;
		return;
	}
	/*
	 * Text lines (the command-line tool) carry file names and signer
	 * identities from models that may come from anyone: escaped too.
	 * One fprintf per line keeps lines whole when several threads log.
	 */
	(void)log_escape(safe, sizeof(safe), msg, 0);
	if (with_errno)
		fprintf(stderr, "%s: %s: %s%s%s: %s\n", log_progname,
		    log_names[level], func ? func : "", func ? ": " : "", safe,
		    strerror(saved));
	else
		fprintf(stderr, "%s: %s: %s%s%s\n", log_progname,
		    log_names[level], func ? func : "", func ? ": " : "", safe);
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
