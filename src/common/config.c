/* SPDX-License-Identifier: ISC */
/*
 * config.c: aiguardd's configuration: defaults, one key at a time from
 * text, an INI file through inih, cross-field checks and the dump.  See
 * config.h for the syntax.
 *
 * One table (config_keys[]) names every key, its type, its field and its
 * range; config_set(), config_validate() and config_dump() all walk it, so
 * a key cannot be settable but not dumped, or dumped but not checked.
 * The per-model sections [model.NAME] have their own small table
 * (config_mkeys[]), each entry pointing at the [model] key whose syntax
 * and range it shares.
 *
 * inih does the INI parsing.  We feed it lines through our own reader
 * (ini_parse_stream()) over the file's bytes read into memory, which lets
 * us count lines for messages (Debian's inih does not pass the line number
 * to the handler), refuse over-long lines and NUL bytes that inih would
 * silently split or truncate, and drop leading blanks so that inih never
 * treats an indented line as the continuation of the previous value.  We
 * do not touch inih's global run-time options.  inih also cuts a section
 * name to 49 bytes without a word, too short for [model.NAME] with a
 * 64-byte NAME, so our reader records each section line itself and the
 * handler takes the name from there.
 */
#include <arpa/inet.h>

#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "ag_err.h"
#include "config.h"
#include "log.h"
#include "util.h"

#if INI_HANDLER_LINENO
#error "config.c expects inih's handler without the line number argument"
#endif

_Static_assert(CONFIG_LINE_MAX + 3 <= INI_MAX_LINE,
    "CONFIG_LINE_MAX does not fit in inih's line buffer");
_Static_assert(CONFIG_MODEL_DIR_MAX < CONFIG_PATH_SIZE &&
    sizeof(((struct ag_config *)0)->cf_model_dir) == CONFIG_PATH_SIZE &&
    sizeof(((struct ag_config *)0)->cf_pid_file) == CONFIG_PATH_SIZE &&
    sizeof(((struct ag_config *)0)->cf_verify_key) == CONFIG_PATH_SIZE &&
    sizeof(((struct ag_config *)0)->cf_verify_ca) == CONFIG_PATH_SIZE &&
    sizeof(((struct ag_config *)0)->cf_tls_cert) == CONFIG_PATH_SIZE &&
    sizeof(((struct ag_config *)0)->cf_tls_key) == CONFIG_PATH_SIZE &&
    sizeof(((struct ag_config *)0)->cf_tls_client_ca) == CONFIG_PATH_SIZE &&
    sizeof(((struct ag_config *)0)->cf_tokens) == CONFIG_PATH_SIZE &&
    sizeof(((struct ag_config *)0)->cf_repository) == CONFIG_PATH_SIZE,
    "path fields must be CONFIG_PATH_SIZE");
/* "versions = " and 16 versions of 9 digits with commas fit on a line. */
_Static_assert(11 + CONFIG_VERSIONS_MAX * 10 - 1 <= CONFIG_LINE_MAX,
    "model.versions does not fit in a line");
_Static_assert(sizeof(((struct ag_config *)0)->cf_model_names[0]) ==
    CONFIG_MODEL_NAME_MAX + 1 &&
    sizeof(((struct config_model *)0)->cm_name) == CONFIG_MODEL_NAME_MAX + 1,
    "model name fields must be CONFIG_MODEL_NAME_MAX + 1");
_Static_assert(LOG_LVL_FATAL == 0 && LOG_LVL_WARN == 1 &&
    LOG_LVL_INFO == 2 && LOG_LVL_DEBUG == 3, "log level names out of step");

/* Longest value echoed back in a message; the rest becomes "...". */
#define CONFIG_ECHO_MAX		64

enum config_type {
	CK_LISTEN,	/* server.listen: cf_listen_addr + cf_listen_port */
	CK_INT,		/* int, plain digits */
	CK_SIZE,	/* size_t, digits with an optional k/m/g suffix */
	CK_LLONG,	/* long long, plain digits */
	CK_DIR,		/* char[CONFIG_PATH_SIZE], a path or "" */
	CK_NAME,	/* char[64], a model name or "" */
	CK_LEVEL,	/* int, LOG_LVL_* from its name */
	CK_BOOL,	/* int, 0 or 1 */
	CK_MODE,	/* int, SANDBOX_* from its name */
	CK_VALIDITY,	/* int, MSIG_VALID_* from its name */
	CK_OPEN,	/* int, CONFIG_OPEN_* bits from a list of names */
	CK_NAMES,	/* model.names: cf_model_names + cf_nmodel_names */
	CK_CONTROL,	/* int, CONFIG_CONTROL_* from its name */
	CK_VERSIONS,	/* struct config_version_policy */
};

struct config_key {
	const char		*ck_section;
	const char		*ck_name;
	enum config_type	 ck_type;
	size_t			 ck_off;	/* of the field in ag_config */
	long long		 ck_lo, ck_hi;	/* numeric range, inclusive */
};

#define KEY(s, n, t, f, lo, hi) \
	{ s, n, t, offsetof(struct ag_config, f), lo, hi }

#define KIB	1024LL
#define MIB	(1024LL * 1024)
#define GIB	(1024LL * 1024 * 1024)

/* In the order of etc/aiguardd.conf and of config_dump(). */
static const struct config_key config_keys[] = {
	KEY("server", "listen", CK_LISTEN, cf_listen_addr, 0, 65535),
	KEY("server", "http_threads", CK_INT, cf_http_threads, 1, 64),
	KEY("server", "max_connections", CK_INT, cf_max_connections,
	    1, 65536),
	/* The upper bound is max_connections, checked in config_validate(). */
	KEY("server", "max_connections_per_ip", CK_INT,
	    cf_max_connections_per_ip, 1, 65536),
	KEY("server", "max_header_bytes", CK_SIZE, cf_max_header_bytes,
	    KIB, MIB),
	KEY("server", "max_body_bytes", CK_SIZE, cf_max_body_bytes, KIB, GIB),
	/* At least max_body_bytes, checked in config_validate(). */
	KEY("server", "max_body_inflight", CK_SIZE, cf_max_body_inflight,
	    KIB, 64 * GIB),
	KEY("server", "connection_timeout", CK_INT, cf_connection_timeout,
	    1, 3600),
	KEY("server", "request_timeout", CK_INT, cf_request_timeout, 1, 3600),
	KEY("server", "pid_file", CK_DIR, cf_pid_file, 0,
	    CONFIG_PATH_MAX("pid_file")),
	KEY("server", "allow_insecure", CK_BOOL, cf_allow_insecure, 0, 1),
	KEY("server", "tls_cert", CK_DIR, cf_tls_cert, 0,
	    CONFIG_PATH_MAX("tls_cert")),
	KEY("server", "tls_key", CK_DIR, cf_tls_key, 0,
	    CONFIG_PATH_MAX("tls_key")),
	KEY("server", "tls_client_ca", CK_DIR, cf_tls_client_ca, 0,
	    CONFIG_PATH_MAX("tls_client_ca")),
	KEY("server", "tokens", CK_DIR, cf_tokens, 0,
	    CONFIG_PATH_MAX("tokens")),
	KEY("server", "open", CK_OPEN, cf_open, 0, CONFIG_OPEN_ALL),
	KEY("model", "dir", CK_DIR, cf_model_dir, 0, CONFIG_MODEL_DIR_MAX),
	KEY("model", "name", CK_NAME, cf_model_name, 0, 63),
	KEY("model", "repository", CK_DIR, cf_repository, 0,
	    CONFIG_PATH_MAX("repository")),
	KEY("model", "names", CK_NAMES, cf_model_names, 0, CONFIG_MODELS_MAX),
	KEY("model", "control", CK_CONTROL, cf_model_control,
	    CONFIG_CONTROL_NONE, CONFIG_CONTROL_EXPLICIT),
	KEY("model", "versions", CK_VERSIONS, cf_versions, 0, 0),
	KEY("model", "max_batch", CK_INT, cf_max_batch, 1, 256),
	KEY("model", "max_delay_us", CK_INT, cf_max_delay_us, 0, 1000000),
	KEY("model", "return_wait_us", CK_INT, cf_return_wait_us, 0, 1000000),
	KEY("model", "threads", CK_INT, cf_threads, 1, 256),
	KEY("model", "low_memory", CK_BOOL, cf_low_memory, 0, 1),
	KEY("model", "queue_slots", CK_INT, cf_queue_slots, 1, 4096),
	KEY("model", "max_request_batch", CK_INT, cf_max_request_batch,
	    1, 256),
	KEY("model", "verify_key", CK_DIR, cf_verify_key, 0,
	    CONFIG_PATH_MAX("verify_key")),
	KEY("model", "verify_ca", CK_DIR, cf_verify_ca, 0,
	    CONFIG_PATH_MAX("verify_ca")),
	KEY("model", "allow_unsigned", CK_BOOL, cf_allow_unsigned, 0, 1),
	KEY("model", "cert_validity", CK_VALIDITY, cf_cert_validity, 0, 1),
	KEY("limits", "ip_rate", CK_INT, cf_ip_rate, 0, 1000000),
	KEY("limits", "ip_burst", CK_INT, cf_ip_burst, 0, 1000000),
	KEY("limits", "ip_image_rate", CK_INT, cf_ip_image_rate, 0, 1000000),
	KEY("limits", "ip_image_burst", CK_INT, cf_ip_image_burst, 0, 1000000),
	KEY("limits", "token_rate", CK_INT, cf_token_rate, 0, 1000000),
	KEY("limits", "token_burst", CK_INT, cf_token_burst, 0, 1000000),
	KEY("limits", "token_image_rate", CK_INT, cf_token_image_rate,
	    0, 1000000),
	KEY("limits", "token_image_burst", CK_INT, cf_token_image_burst,
	    0, 1000000),
	KEY("limits", "token_max_inflight", CK_INT, cf_token_max_inflight,
	    0, 65536),
	/* JPEG cannot describe a side past 65535. */
	KEY("image", "max_side", CK_INT, cf_image_max_side, 1, 65535),
	/* One decoded 8-bit RGB image stays under 3 GB. */
	KEY("image", "max_pixels", CK_LLONG, cf_image_max_pixels,
	    1, 1000000000),
	KEY("log", "level", CK_LEVEL, cf_log_level, LOG_LVL_FATAL,
	    LOG_LVL_DEBUG),
	KEY("log", "access_log", CK_BOOL, cf_access_log, 0, 1),
	/*
	 * The backoff doubles from the minimum, so zero would mean a crash
	 * loop that restarts at once, forever.
	 */
	KEY("worker", "restart_backoff_min_ms", CK_INT, cf_restart_min_ms,
	    1, 3600000),
	KEY("worker", "restart_backoff_max_ms", CK_INT, cf_restart_max_ms,
	    1, 3600000),
	KEY("worker", "max_start_failures", CK_INT, cf_max_start_failures,
	    1, 1000),
	KEY("sandbox", "mode", CK_MODE, cf_sandbox_mode, 0, 2),
	KEY("sandbox", "user", CK_NAME, cf_sandbox_user, 0, 63),
	KEY("sandbox", "group", CK_NAME, cf_sandbox_group, 0, 63),
	KEY("sandbox", "max_memory", CK_SIZE, cf_sandbox_max_memory, 0,
	    1024 * GIB),
	KEY("sandbox", "seccomp_dev", CK_BOOL, cf_sandbox_seccomp_dev, 0, 1),
	KEY("sandbox", "selinux_domain", CK_NAME, cf_sandbox_selinux_domain,
	    0, 63),
};
#define CONFIG_NKEYS	(sizeof(config_keys) / sizeof(config_keys[0]))

static const char *const config_level_names[] = {
	"fatal", "warn", "info", "debug"
};

/* In the order of SANDBOX_OFF, _BEST_EFFORT, _REQUIRED. */
static const char *const config_mode_names[] = {
	"off", "best-effort", "required"
};

/*
 * The keys of a [model.NAME] section: each takes the syntax and the range
 * of the [model] key of the same name, and is dumped in this order.
 */
static const struct config_mkey {
	const char	*mk_name;
	unsigned	 mk_bit;	/* CONFIG_CM_* */
	size_t		 mk_off;	/* of the field in config_model */
} config_mkeys[] = {
	{ "max_batch", CONFIG_CM_MAX_BATCH,
	    offsetof(struct config_model, cm_max_batch) },
	{ "threads", CONFIG_CM_THREADS,
	    offsetof(struct config_model, cm_threads) },
	{ "queue_slots", CONFIG_CM_QUEUE_SLOTS,
	    offsetof(struct config_model, cm_queue_slots) },
	{ "max_delay_us", CONFIG_CM_MAX_DELAY,
	    offsetof(struct config_model, cm_max_delay_us) },
	{ "versions", CONFIG_CM_VERSIONS,
	    offsetof(struct config_model, cm_versions) },
};
#define CONFIG_NMKEYS	(sizeof(config_mkeys) / sizeof(config_mkeys[0]))

/* In the order of CONFIG_CONTROL_NONE, _EXPLICIT. */
static const char *const config_control_names[] = {
	"none", "explicit"
};

/* In the order of MSIG_VALID_NOW, MSIG_VALID_SIGNING_TIME. */
static const char *const config_validity_names[] = {
	"now", "signing-time"
};

/* The categories of server.open, bit 0 first (CONFIG_OPEN_*). */
static const char *const config_open_names[] = {
	"health", "metadata", "infer", "metrics", "admin"
};
_Static_assert(sizeof(config_open_names) / sizeof(config_open_names[0]) ==
    5 && CONFIG_OPEN_ALL == 0x1f, "server.open names out of step");

/* ==== Helpers ==== */

/*
 * Copies s into buf for a message: printable ASCII only (anything else
 * becomes '?'), at most CONFIG_ECHO_MAX characters, then "...".
 */
static const char *
config_echo(const char *s, char *buf, size_t len)
{
	size_t i, o = 0;

	for (i = 0; s[i] != '\0' && o + 4 < len; i++) {
		if (i == CONFIG_ECHO_MAX) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		buf[o++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	}
	buf[o] = '\0';
	return buf;
}

/* "SECTION.NAME: invalid value ...": section is "model.NAME" for a
 * per-model key. */
static int
config_bad_at(char *err, size_t errlen, const char *section,
    const char *name, const char *value, const char *why)
{
	char echo[CONFIG_ECHO_MAX + 8];

	return ag_errf(err, errlen, AG_ERR_CONFIG, "%s.%s: invalid value "
	    "\"%s\": %s", section, name,
	    config_echo(value, echo, sizeof(echo)), why);
}

static int
config_bad(char *err, size_t errlen, const struct config_key *ck,
    const char *value, const char *why)
{
	return config_bad_at(err, errlen, ck->ck_section, ck->ck_name, value,
	    why);
}

static void *
config_field(struct ag_config *cf, const struct config_key *ck)
{
	return (char *)cf + ck->ck_off;
}

static const void *
config_cfield(const struct ag_config *cf, const struct config_key *ck)
{
	return (const char *)cf + ck->ck_off;
}

static long long
config_get_num(const struct ag_config *cf, const struct config_key *ck)
{
	const void *p = config_cfield(cf, ck);

	switch (ck->ck_type) {
	case CK_SIZE:
		return (long long)*(const size_t *)p;
	case CK_LLONG:
		return *(const long long *)p;
	case CK_INT:
	case CK_LEVEL:
	case CK_BOOL:
	case CK_MODE:
	case CK_VALIDITY:
	case CK_OPEN:
	case CK_CONTROL:
		return *(const int *)p;
	default:
		AG_ASSERT(0);
	}
	return 0;
}

static void
config_put_num(struct ag_config *cf, const struct config_key *ck,
    long long v)
{
	void *p = config_field(cf, ck);

	/* Every caller has checked v against ck_lo..ck_hi, which fit. */
	AG_ASSERT(v >= ck->ck_lo && v <= ck->ck_hi);
	switch (ck->ck_type) {
	case CK_SIZE:
		*(size_t *)p = (size_t)v;
		break;
	case CK_LLONG:
		*(long long *)p = v;
		break;
	case CK_INT:
	case CK_LEVEL:
	case CK_BOOL:
	case CK_MODE:
	case CK_VALIDITY:
	case CK_OPEN:
	case CK_CONTROL:
		*(int *)p = (int)v;
		break;
	default:
		AG_ASSERT(0);
	}
}

/* Stores s in a char array field, zeroing its tail. */
static void
config_put_str(char *dst, size_t dstlen, const char *s)
{
	size_t n = strlen(s);

	AG_ASSERT(n < dstlen);
	memset(dst, 0, dstlen);
	memcpy(dst, s, n);
}

/* ==== Values ==== */

#define NUM_OK		0
#define NUM_JUNK	-1	/* not digits (with a suffix where allowed) */
#define NUM_NEGATIVE	-2
#define NUM_OVERFLOW	-3

/*
 * Parses s as decimal digits with, where suffix_ok, one trailing k, m or g
 * (binary multiples).  No sign, no blanks, no base prefix.
 */
static int
config_parse_num(const char *s, int suffix_ok, long long *out)
{
	char digits[24];
	size_t n = strspn(s, "0123456789");
	long long mul = 1, v;
	long lv;

	if (s[0] == '-')
		return NUM_NEGATIVE;
	if (n == 0)
		return NUM_JUNK;
	if (s[n] != '\0') {
		if (!suffix_ok || s[n + 1] != '\0')
			return NUM_JUNK;
		switch (s[n]) {
		case 'k': case 'K':
			mul = KIB;
			break;
		case 'm': case 'M':
			mul = MIB;
			break;
		case 'g': case 'G':
			mul = GIB;
			break;
		default:
			return NUM_JUNK;
		}
	}
	/* More digits than any long holds: skip the copy, it overflows. */
	if (n >= sizeof(digits))
		return NUM_OVERFLOW;
	memcpy(digits, s, n);
	digits[n] = '\0';
	if (ag_parse_long(digits, 0, LONG_MAX, &lv) != 0)
		return NUM_OVERFLOW;
	if (__builtin_mul_overflow((long long)lv, mul, &v))
		return NUM_OVERFLOW;
	*out = v;
	return NUM_OK;
}

/*
 * Parses value as ck's number, in ck's range, into *out; errors name the
 * key as section.name (ck's own, or a per-model key's).
 */
static int
config_num_parse(const struct config_key *ck, const char *section,
    const char *name, const char *value, long long *out, char *err,
    size_t errlen)
{
	char why[96];
	long long v = 0;
	int r;

	r = config_parse_num(value, ck->ck_type == CK_SIZE, &v);
	switch (r) {
	case NUM_OK:
		break;
	case NUM_NEGATIVE:
		return config_bad_at(err, errlen, section, name, value,
		    "must not be negative");
	case NUM_JUNK:
		return config_bad_at(err, errlen, section, name, value,
		    ck->ck_type == CK_SIZE ? "expected digits with an "
		    "optional k, m or g suffix" : "expected decimal digits");
	default:
		v = LLONG_MAX;	/* reported as out of range below */
		break;
	}
	if (v < ck->ck_lo || v > ck->ck_hi) {
		snprintf(why, sizeof(why), "out of range (%lld..%lld)",
		    ck->ck_lo, ck->ck_hi);
		return config_bad_at(err, errlen, section, name, value, why);
	}
	*out = v;
	return 0;
}

static int
config_set_num(struct ag_config *cf, const struct config_key *ck,
    const char *value, char *err, size_t errlen)
{
	long long v = 0;
	int r;

	if ((r = config_num_parse(ck, ck->ck_section, ck->ck_name, value, &v,
	    err, errlen)) != 0)
		return r;
	config_put_num(cf, ck, v);
	return 0;
}

int
config_listen_loopback(const struct ag_config *cf)
{
	const char *a = cf->cf_listen_addr;
	struct in6_addr a6;
	struct in_addr a4;

	if (strcmp(a, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, a, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, a, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

/* The address part of listen: "localhost", "*", an IPv4 dotted quad. */
static int
config_host_ok(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcmp(host, "localhost") == 0 || strcmp(host, "*") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return 1;
	return inet_pton(AF_INET6, host, &a6) == 1;
}

static int
config_set_listen(struct ag_config *cf, const struct config_key *ck,
    const char *value, char *err, size_t errlen)
{
	char host[sizeof(cf->cf_listen_addr)];
	struct in6_addr a6;
	struct in_addr a4;
	const char *colon, *port;
	size_t hlen;
	long long v;

	if (value[0] == '[') {
		/* [IPv6]:PORT */
		if ((colon = strchr(value, ']')) == NULL)
			return config_bad(err, errlen, ck, value,
			    "missing ']' after the IPv6 address");
		hlen = (size_t)(colon - value - 1);
		if (colon[1] != ':')
			return config_bad(err, errlen, ck, value,
			    "expected ':PORT' after ']'");
		if (hlen == 0 || hlen >= sizeof(host))
			return config_bad(err, errlen, ck, value,
			    "bad IPv6 address");
		memcpy(host, value + 1, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return config_bad(err, errlen, ck, value,
			    "bad IPv6 address");
		port = colon + 2;
	} else {
		/* IPv4:PORT, localhost:PORT or *:PORT */
		if ((colon = strchr(value, ':')) == NULL)
			return config_bad(err, errlen, ck, value,
			    "expected ADDR:PORT");
		if (strchr(colon + 1, ':') != NULL)
			return config_bad(err, errlen, ck, value,
			    "an IPv6 address needs brackets: [ADDR]:PORT");
		hlen = (size_t)(colon - value);
		if (hlen == 0 || hlen >= sizeof(host))
			return config_bad(err, errlen, ck, value,
			    "expected an IPv4 address, [IPv6], localhost or * "
			    "before ':'");
		memcpy(host, value, hlen);
		host[hlen] = '\0';
		if (strcmp(host, "localhost") != 0 &&
		    strcmp(host, "*") != 0 &&
		    inet_pton(AF_INET, host, &a4) != 1)
			return config_bad(err, errlen, ck, value,
			    "expected an IPv4 address a.b.c.d, [IPv6], "
			    "localhost or * before ':'");
		port = colon + 1;
	}
	if (*port == '\0')
		return config_bad(err, errlen, ck, value, "missing port");
	if (config_parse_num(port, 0, &v) != NUM_OK || v > 65535)
		return config_bad(err, errlen, ck, value,
		    "the port must be 0..65535");
	config_put_str(cf->cf_listen_addr, sizeof(cf->cf_listen_addr), host);
	cf->cf_listen_port = (int)v;
	return 0;
}

/*
 * A model directory: a path that inih gives back unchanged when dumped as
 * "dir = PATH", so no control characters, no blanks at either end and no
 * blank followed by ';' (an inline comment).  "" means the default.
 */
static const char *
config_dir_why(const char *s, size_t max)
{
	size_t i, n = strnlen(s, max + 1);

	if (n > max)
		return "path too long";
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return "control character in the path";
		if ((s[i] == ' ' || s[i] == '\t') && s[i + 1] == ';')
			return "blank before ';' in the path (an inline "
			    "comment)";
	}
	if (n > 0 && (s[0] == ' ' || s[n - 1] == ' '))
		return "blank at the start or end of the path";
	return NULL;
}

/* A model name: [A-Za-z0-9._-]+ not starting with '.', as model.c wants. */
static const char *
config_name_why(const char *s, size_t max)
{
	size_t i, n = strnlen(s, max + 1);

	if (n > max)
		return "name too long";
	/* Spelled out, not isalnum(): that one follows the locale. */
	for (i = 0; i < n; i++)
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789._-", s[i]) == NULL)
			return "use only A-Z a-z 0-9 . _ -";
	if (s[0] == '.')
		return "must not start with '.'";
	return NULL;
}

/* ==== Model repository values ==== */

static const char config_alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "abcdefghijklmnopqrstuvwxyz0123456789";

/*
 * A model name of a repository, s[0..n): [A-Za-z0-9][A-Za-z0-9._-]*, at
 * most CONFIG_MODEL_NAME_MAX bytes.  This mirrors store_name_valid() of
 * model/store.h, which common/ may not include: a name the store would
 * refuse (a hidden entry, "..", a path) never gets past the
 * configuration.  NULL, or why not.
 */
static const char *
config_store_name_why(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return "an empty name";
	if (n > CONFIG_MODEL_NAME_MAX)
		return "a name is at most 64 bytes";
	/* memchr over the letters only: a NUL byte is no letter. */
	if (memchr(config_alnum, s[0], sizeof(config_alnum) - 1) == NULL)
		return "a name starts with A-Z a-z 0-9";
	for (i = 1; i < n; i++)
		if (memchr(config_alnum, s[i], sizeof(config_alnum) - 1) ==
		    NULL && s[i] != '.' && s[i] != '_' && s[i] != '-')
			return "use only A-Z a-z 0-9 . _ -";
	return NULL;
}
_Static_assert(CONFIG_MODEL_NAME_MAX == 64 && CONFIG_MODELS_MAX == 16 &&
    CONFIG_VERSIONS_MAX == 16, "messages below spell these out");

/*
 * model.names: "" (every model of the repository), or names separated by
 * commas, blanks around a name allowed; at most CONFIG_MODELS_MAX, each
 * once, and the list as config_dump() writes it ("a,b,c") at most
 * CONFIG_NAMES_LIST_MAX bytes, so that it fits on a line.  Fills names
 * (zeroed first) and *n; NULL, or why not.
 */
static const char *
config_names_parse(const char *value,
    char names[CONFIG_MODELS_MAX][CONFIG_MODEL_NAME_MAX + 1], int *n)
{
	const char *p = value, *e, *why;
	size_t len, total = 0;
	int i, cnt = 0;

	memset(names, 0, CONFIG_MODELS_MAX * sizeof(names[0]));
	*n = 0;
	if (*value == '\0')
		return NULL;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		for (e = p; *e != '\0' && *e != ',' && *e != ' ' &&
		    *e != '\t'; e++)
			;
		len = (size_t)(e - p);
		if ((why = config_store_name_why(p, len)) != NULL)
			return why;
		for (i = 0; i < cnt; i++)
			if (strlen(names[i]) == len &&
			    memcmp(names[i], p, len) == 0)
				return "a name given twice";
		if (cnt == CONFIG_MODELS_MAX)
			return "more than 16 names";
		memcpy(names[cnt], p, len);
		total += len + (cnt > 0);
		cnt++;
		if (total > CONFIG_NAMES_LIST_MAX)
			return "the list does not fit on one line of the file";
		for (p = e; *p == ' ' || *p == '\t'; p++)
			;
		if (*p == '\0')
			break;
		if (*p++ != ',')
			return "expected a comma between names";
	}
	*n = cnt;
	return NULL;
}

/*
 * A version, s[0..n): decimal without a leading zero, 1..CONFIG_VERSION_MAX
 * (at most 9 digits), as store_parse_version() reads a version directory's
 * name.  0, or -1.
 */
static int
config_version_parse(const char *s, size_t n, unsigned int *out)
{
	unsigned int v = 0;
	size_t i;

	if (n == 0 || n > 9 || s[0] < '1' || s[0] > '9')
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned int)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/*
 * model.versions: "latest" (latest:1), "latest:N" (N 1..16), or versions
 * separated by commas (blanks around one allowed), at most 16, each once,
 * stored ascending.  Fills *vp (zeroed first); NULL, or why not.
 */
static const char *
config_versions_parse(const char *value, struct config_version_policy *vp)
{
	const char *p = value, *e;
	unsigned int v;
	long long n;
	int i, cnt = 0;

	memset(vp, 0, sizeof(*vp));
	if (strcmp(value, "latest") == 0) {
		vp->vp_kind = CONFIG_VP_LATEST;
		vp->vp_latest = 1;
		return NULL;
	}
	if (strncmp(value, "latest:", 7) == 0) {
		if (config_parse_num(value + 7, 0, &n) != NUM_OK || n < 1 ||
		    n > CONFIG_VERSIONS_MAX)
			return "latest:N takes N from 1 to 16";
		vp->vp_kind = CONFIG_VP_LATEST;
		vp->vp_latest = (int)n;
		return NULL;
	}
	vp->vp_kind = CONFIG_VP_SPECIFIC;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		for (e = p; *e != '\0' && *e != ',' && *e != ' ' &&
		    *e != '\t'; e++)
			;
		if (config_version_parse(p, (size_t)(e - p), &v) != 0)
			return "expected latest, latest:N or a list of "
			    "versions (1..999999999, no leading zero)";
		for (i = 0; i < cnt; i++)
			if (vp->vp_versions[i] == v)
				return "a version given twice";
		if (cnt == CONFIG_VERSIONS_MAX)
			return "more than 16 versions";
		/* Insert in order: the list is short. */
		for (i = cnt; i > 0 && vp->vp_versions[i - 1] > v; i--)
			vp->vp_versions[i] = vp->vp_versions[i - 1];
		vp->vp_versions[i] = v;
		cnt++;
		for (p = e; *p == ' ' || *p == '\t'; p++)
			;
		if (*p == '\0')
			break;
		if (*p++ != ',')
			return "expected a comma between versions";
	}
	vp->vp_nversions = cnt;
	return NULL;
}

/* A policy set directly in the struct: NULL, or why it is not one. */
static const char *
config_vp_why(const struct config_version_policy *vp)
{
	int i;

	switch (vp->vp_kind) {
	case CONFIG_VP_LATEST:
		if (vp->vp_latest < 1 || vp->vp_latest > CONFIG_VERSIONS_MAX)
			return "latest:N out of range (1..16)";
		return NULL;
	case CONFIG_VP_SPECIFIC:
		if (vp->vp_nversions < 1 ||
		    vp->vp_nversions > CONFIG_VERSIONS_MAX)
			return "1 to 16 versions";
		for (i = 0; i < vp->vp_nversions; i++) {
			if (vp->vp_versions[i] < 1 ||
			    vp->vp_versions[i] > CONFIG_VERSION_MAX)
				return "a version out of range "
				    "(1..999999999)";
			if (i > 0 && vp->vp_versions[i] <=
			    vp->vp_versions[i - 1])
				return "versions not ascending, or one twice";
		}
		return NULL;
	}
	return "unknown kind of policy";
}

void
config_versions_format(const struct config_version_policy *vp, char *buf,
    size_t len)
{
	size_t o = 0;
	int i, n;

	if (len == 0)
		return;
	buf[0] = '\0';
	switch (vp->vp_kind) {
	case CONFIG_VP_LATEST:
		if (vp->vp_latest == 1)
			(void)snprintf(buf, len, "latest");
		else
			(void)snprintf(buf, len, "latest:%d", vp->vp_latest);
		return;
	case CONFIG_VP_SPECIFIC:
		for (i = 0; i < vp->vp_nversions && i < CONFIG_VERSIONS_MAX;
		    i++) {
			n = snprintf(buf + o, len - o, "%s%u", i ? "," : "",
			    vp->vp_versions[i]);
			if (n < 0 || (size_t)n >= len - o)
				return;		/* cut short */
			o += (size_t)n;
		}
		return;
	default:
		(void)snprintf(buf, len, "invalid");
		return;
	}
}

static int
config_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static const struct config_key *
config_find(const char *section, size_t seclen, const char *name)
{
	size_t i;

	for (i = 0; i < CONFIG_NKEYS; i++)
		if (strlen(config_keys[i].ck_section) == seclen &&
		    strncmp(config_keys[i].ck_section, section, seclen) == 0 &&
		    strcmp(config_keys[i].ck_name, name) == 0)
			return &config_keys[i];
	return NULL;
}

static int
config_section_known(const char *section)
{
	size_t i;

	for (i = 0; i < CONFIG_NKEYS; i++)
		if (strcmp(config_keys[i].ck_section, section) == 0)
			return 1;
	return 0;
}

/* Sets ck from value; cf is written only once the value checks out. */
/*
 * server.open: "none", or category names separated by commas (blanks
 * around a name allowed), each at most once.  NULL and *bits, or why not.
 */
static const char *
config_open_parse(const char *value, int *bits)
{
	const char *p = value, *e;
	size_t i, len;
	int b = 0;

	*bits = 0;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strcasecmp(p, "none") == 0)
		return NULL;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		for (e = p; *e != '\0' && *e != ',' && *e != ' ' &&
		    *e != '\t'; e++)
			;
		len = (size_t)(e - p);
		for (i = 0; i < 5; i++)
			if (strlen(config_open_names[i]) == len &&
			    strncmp(p, config_open_names[i], len) == 0)
				break;
		if (i == 5)
			return "expected none, or a list of health, metadata, "
			    "infer, metrics, admin";
		if (b & (1 << i))
			return "a category named twice";
		b |= 1 << i;
		for (p = e; *p == ' ' || *p == '\t'; p++)
			;
		if (*p == '\0')
			break;
		if (*p++ != ',')
			return "expected a comma between categories";
	}
	*bits = b;
	return NULL;
}

static int
config_set_key(struct ag_config *cf, const struct config_key *ck,
    const char *value, char *err, size_t errlen)
{
	const char *why;
	size_t i;
	int b, r;

	switch (ck->ck_type) {
	case CK_LISTEN:
		return config_set_listen(cf, ck, value, err, errlen);
	case CK_INT:
	case CK_SIZE:
	case CK_LLONG:
		return config_set_num(cf, ck, value, err, errlen);
	case CK_DIR:
		if ((why = config_dir_why(value, (size_t)ck->ck_hi)) != NULL)
			return config_bad(err, errlen, ck, value, why);
		config_put_str(config_field(cf, ck), CONFIG_PATH_SIZE, value);
		return 0;
	case CK_NAME:
		if ((why = config_name_why(value, (size_t)ck->ck_hi)) != NULL)
			return config_bad(err, errlen, ck, value, why);
		config_put_str(config_field(cf, ck), sizeof(cf->cf_model_name),
		    value);
		return 0;
	case CK_LEVEL:
		for (i = 0; i < sizeof(config_level_names) /
		    sizeof(config_level_names[0]); i++) {
			if (strcasecmp(value, config_level_names[i]) == 0) {
				config_put_num(cf, ck, (long long)i);
				return 0;
			}
		}
		return config_bad(err, errlen, ck, value,
		    "expected fatal, warn, info or debug");
	case CK_MODE:
		for (i = 0; i < sizeof(config_mode_names) /
		    sizeof(config_mode_names[0]); i++) {
			if (strcasecmp(value, config_mode_names[i]) == 0) {
				config_put_num(cf, ck, (long long)i);
				return 0;
			}
		}
		return config_bad(err, errlen, ck, value,
		    "expected required, best-effort or off");
	case CK_VALIDITY:
		for (i = 0; i < sizeof(config_validity_names) /
		    sizeof(config_validity_names[0]); i++) {
			if (strcasecmp(value, config_validity_names[i]) == 0) {
				config_put_num(cf, ck, (long long)i);
				return 0;
			}
		}
		return config_bad(err, errlen, ck, value,
		    "expected now or signing-time");
	case CK_BOOL:
		if ((r = config_parse_bool(value, &b)) != 0)
			return config_bad(err, errlen, ck, value,
			    "expected yes or no (true/false, on/off, 1/0)");
		config_put_num(cf, ck, b);
		return 0;
	case CK_OPEN:
		if ((why = config_open_parse(value, &b)) != NULL)
			return config_bad(err, errlen, ck, value, why);
		config_put_num(cf, ck, b);
		return 0;
	case CK_CONTROL:
		for (i = 0; i < sizeof(config_control_names) /
		    sizeof(config_control_names[0]); i++) {
			if (strcasecmp(value, config_control_names[i]) == 0) {
				config_put_num(cf, ck, (long long)i);
				return 0;
			}
		}
		return config_bad(err, errlen, ck, value,
		    "expected none or explicit");
	case CK_NAMES: {
		char names[CONFIG_MODELS_MAX][CONFIG_MODEL_NAME_MAX + 1];

		if ((why = config_names_parse(value, names, &b)) != NULL)
			return config_bad(err, errlen, ck, value, why);
		memcpy(cf->cf_model_names, names, sizeof(cf->cf_model_names));
		cf->cf_nmodel_names = b;
		return 0;
	}
	case CK_VERSIONS: {
		struct config_version_policy vp;

		if ((why = config_versions_parse(value, &vp)) != NULL)
			return config_bad(err, errlen, ck, value, why);
		memcpy(config_field(cf, ck), &vp, sizeof(vp));
		return 0;
	}
	}
	AG_ASSERT(0);
	return AG_ERR_INTERNAL;
}

/* ==== Per-model sections [model.NAME] ==== */

static const struct config_mkey *
config_mkey_find(const char *name)
{
	size_t i;

	for (i = 0; i < CONFIG_NMKEYS; i++)
		if (strcmp(config_mkeys[i].mk_name, name) == 0)
			return &config_mkeys[i];
	return NULL;
}

/* cf_nmodels within 0..CONFIG_MODELS_MAX, for loops over fields that
 * config_validate() has not checked yet. */
static int
config_nmodels(const struct ag_config *cf)
{
	if (cf->cf_nmodels < 0)
		return 0;
	return cf->cf_nmodels > CONFIG_MODELS_MAX ? CONFIG_MODELS_MAX :
	    cf->cf_nmodels;
}

/* The index of the section [model.NAME] (name[0..len)), or -1. */
static int
config_model_find(const struct ag_config *cf, const char *name, size_t len)
{
	const struct config_model *cm;
	int i;

	for (i = 0; i < config_nmodels(cf); i++) {
		cm = &cf->cf_models[i];
		if (strnlen(cm->cm_name, sizeof(cm->cm_name)) == len &&
		    memcmp(cm->cm_name, name, len) == 0)
			return i;
	}
	return -1;
}

/*
 * Sets the key mk of [model.NAME] (name[0..namelen), not necessarily
 * NUL-terminated) from value, making the section when it is new.  Errors
 * name the key "model.NAME.KEY"; cf is unchanged on failure.
 */
static int
config_model_set(struct ag_config *cf, const char *name, size_t namelen,
    const struct config_mkey *mk, const char *value, char *err,
    size_t errlen)
{
	char section[CONFIG_MODEL_NAME_MAX + 8], raw[CONFIG_ECHO_MAX + 8];
	char echo[CONFIG_ECHO_MAX + 8];
	const struct config_key *ck;
	struct config_version_policy vp;
	struct config_model *cm;
	const char *why;
	long long v = 0;
	int i, r;

	if ((why = config_store_name_why(name, namelen)) != NULL) {
		(void)snprintf(raw, sizeof(raw), "%.*s", (int)(namelen <
		    CONFIG_ECHO_MAX + 1 ? namelen : CONFIG_ECHO_MAX + 1), name);
		return ag_errf(err, errlen, AG_ERR_CONFIG, "[model.%s]: bad "
		    "model name: %s", config_echo(raw, echo, sizeof(echo)),
		    why);
	}
	(void)snprintf(section, sizeof(section), "model.%.*s", (int)namelen,
	    name);
	ck = config_find("model", 5, mk->mk_name);
	AG_ASSERT(ck != NULL);
	if (mk->mk_bit == CONFIG_CM_VERSIONS) {
		if ((why = config_versions_parse(value, &vp)) != NULL)
			return config_bad_at(err, errlen, section, mk->mk_name,
			    value, why);
	} else if ((r = config_num_parse(ck, section, mk->mk_name, value, &v,
	    err, errlen)) != 0)
		return r;

	if ((i = config_model_find(cf, name, namelen)) == -1) {
		AG_ASSERT(cf->cf_nmodels >= 0);
		if (cf->cf_nmodels >= CONFIG_MODELS_MAX)
			return ag_errf(err, errlen, AG_ERR_CONFIG, "[%s]: more "
			    "than %d per-model sections", section,
			    CONFIG_MODELS_MAX);
		i = cf->cf_nmodels++;
		cm = &cf->cf_models[i];
		memset(cm, 0, sizeof(*cm));
		memcpy(cm->cm_name, name, namelen);
	}
	cm = &cf->cf_models[i];
	if (mk->mk_bit == CONFIG_CM_VERSIONS)
		cm->cm_versions = vp;
	else
		*(int *)(void *)((char *)cm + mk->mk_off) = (int)v;
	cm->cm_set |= mk->mk_bit;
	return 0;
}

void
config_model_settings(const struct ag_config *cf, const char *name,
    struct config_model_settings *out)
{
	const struct config_model *cm;
	int i;

	memset(out, 0, sizeof(*out));
	out->ms_max_batch = cf->cf_max_batch;
	out->ms_threads = cf->cf_threads;
	out->ms_queue_slots = cf->cf_queue_slots;
	out->ms_max_delay_us = cf->cf_max_delay_us;
	out->ms_versions = cf->cf_versions;
	if (name == NULL ||
	    (i = config_model_find(cf, name, strlen(name))) == -1)
		return;
	cm = &cf->cf_models[i];
	if (cm->cm_set & CONFIG_CM_MAX_BATCH)
		out->ms_max_batch = cm->cm_max_batch;
	if (cm->cm_set & CONFIG_CM_THREADS)
		out->ms_threads = cm->cm_threads;
	if (cm->cm_set & CONFIG_CM_QUEUE_SLOTS)
		out->ms_queue_slots = cm->cm_queue_slots;
	if (cm->cm_set & CONFIG_CM_MAX_DELAY)
		out->ms_max_delay_us = cm->cm_max_delay_us;
	if (cm->cm_set & CONFIG_CM_VERSIONS)
		out->ms_versions = cm->cm_versions;
}

/* ==== Public: defaults, set, validate, dump ==== */

void
config_defaults(struct ag_config *cf)
{
	memset(cf, 0, sizeof(*cf));
	config_put_str(cf->cf_listen_addr, sizeof(cf->cf_listen_addr),
	    "127.0.0.1");
	cf->cf_listen_port = 8500;
	cf->cf_http_threads = 2;
	cf->cf_max_connections = 256;
	cf->cf_max_connections_per_ip = 64;
	cf->cf_max_header_bytes = 16 * 1024;
	cf->cf_max_body_bytes = 32 * 1024 * 1024;
	cf->cf_max_body_inflight = 128 * 1024 * 1024;
	cf->cf_connection_timeout = 15;
	cf->cf_request_timeout = 30;
	/* cf_model_dir, cf_model_name, cf_repository: "" (zeroed above);
	 * model.names empty (every model), model.control none. */
	cf->cf_model_control = CONFIG_CONTROL_NONE;
	cf->cf_versions.vp_kind = CONFIG_VP_LATEST;
	cf->cf_versions.vp_latest = 1;
	cf->cf_max_batch = 4;
	cf->cf_max_delay_us = 0;
	cf->cf_return_wait_us = 10000;
	cf->cf_threads = 2;
	cf->cf_queue_slots = 64;
	cf->cf_max_request_batch = 8;
	cf->cf_image_max_side = 8192;
	cf->cf_image_max_pixels = 40000000;
	cf->cf_log_level = LOG_LVL_INFO;
	cf->cf_access_log = 1;
	cf->cf_sandbox_mode = 2;	/* SANDBOX_REQUIRED */
	cf->cf_sandbox_max_memory = 4 * (size_t)GIB;
	cf->cf_restart_min_ms = 100;
	cf->cf_restart_max_ms = 5000;
	cf->cf_max_start_failures = 5;
	cf->cf_open = CONFIG_OPEN_HEALTH;
	cf->cf_token_max_inflight = 64;
}

int
config_set(struct ag_config *cf, const char *key, const char *value,
    char *err, size_t errlen)
{
	const struct config_key *ck;
	const struct config_mkey *mk;
	const char *dot, *last;
	char echo[CONFIG_ECHO_MAX + 8];

	if (key == NULL || value == NULL)
		return ag_errf(err, errlen, AG_ERR_CONFIG, "missing key or "
		    "value");
	/* model.NAME.KEY: NAME may hold dots, KEY never does. */
	if (strncmp(key, "model.", 6) == 0 &&
	    (last = strrchr(key, '.')) != key + 5) {
		if ((mk = config_mkey_find(last + 1)) == NULL)
			return ag_errf(err, errlen, AG_ERR_CONFIG,
			    "unknown key \"%s\"",
			    config_echo(key, echo, sizeof(echo)));
		return config_model_set(cf, key + 6, (size_t)(last - key - 6),
		    mk, value, err, errlen);
	}
	if ((dot = strchr(key, '.')) == NULL ||
	    (ck = config_find(key, (size_t)(dot - key), dot + 1)) == NULL)
		return ag_errf(err, errlen, AG_ERR_CONFIG, "unknown key \"%s\"",
		    config_echo(key, echo, sizeof(echo)));
	return config_set_key(cf, ck, value, err, errlen);
}

/* model.names as stored: NULL, or why it could not have been set. */
static const char *
config_names_why(const struct ag_config *cf)
{
	size_t len, total = 0;
	int i, j;

	if (cf->cf_nmodel_names < 0 ||
	    cf->cf_nmodel_names > CONFIG_MODELS_MAX)
		return "bad number of names";
	for (i = 0; i < cf->cf_nmodel_names; i++) {
		len = strnlen(cf->cf_model_names[i],
		    sizeof(cf->cf_model_names[i]));
		if (len == sizeof(cf->cf_model_names[i]))
			return "not NUL-terminated";
		if (config_store_name_why(cf->cf_model_names[i], len) != NULL)
			return "a bad name";
		for (j = 0; j < i; j++)
			if (strcmp(cf->cf_model_names[i],
			    cf->cf_model_names[j]) == 0)
				return "a name given twice";
		total += len + (i > 0);
	}
	if (total > CONFIG_NAMES_LIST_MAX)
		return "the list does not fit on one line of the file";
	return NULL;
}

/* 1 when name is in model.names. */
static int
config_names_has(const struct ag_config *cf, const char *name)
{
	int i;

	for (i = 0; i < cf->cf_nmodel_names && i < CONFIG_MODELS_MAX; i++)
		if (strcmp(cf->cf_model_names[i], name) == 0)
			return 1;
	return 0;
}

/*
 * The [model.NAME] sections as stored, and the rules of a repository:
 * model.repository excludes model.dir and model.name (a repository names
 * its models itself); model.names, model.control = explicit and the
 * sections mean nothing without one, so they are refused rather than
 * ignored.
 */
static int
config_validate_repository(const struct ag_config *cf, char *err,
    size_t errlen)
{
	const struct config_model *cm;
	const struct config_mkey *mk;
	const struct config_key *ck;
	const char *why;
	size_t m, len;
	int i, j, v;
	int repo = cf->cf_repository[0] != '\0';

	if (cf->cf_nmodels < 0 || cf->cf_nmodels > CONFIG_MODELS_MAX)
		return ag_errf(err, errlen, AG_ERR_CONFIG, "%d [model.NAME] "
		    "sections: at most %d", cf->cf_nmodels, CONFIG_MODELS_MAX);
	for (i = 0; i < cf->cf_nmodels; i++) {
		cm = &cf->cf_models[i];
		len = strnlen(cm->cm_name, sizeof(cm->cm_name));
		if (len == sizeof(cm->cm_name) ||
		    config_store_name_why(cm->cm_name, len) != NULL)
			return ag_errf(err, errlen, AG_ERR_CONFIG,
			    "[model.NAME] section %d: bad model name", i + 1);
		for (j = 0; j < i; j++)
			if (strcmp(cf->cf_models[j].cm_name, cm->cm_name) == 0)
				return ag_errf(err, errlen, AG_ERR_CONFIG,
				    "[model.%s]: stored twice", cm->cm_name);
		for (m = 0; m < CONFIG_NMKEYS; m++) {
			mk = &config_mkeys[m];
			if ((cm->cm_set & mk->mk_bit) == 0)
				continue;
			if (mk->mk_bit == CONFIG_CM_VERSIONS) {
				if ((why = config_vp_why(&cm->cm_versions)) !=
				    NULL)
					return ag_errf(err, errlen,
					    AG_ERR_CONFIG, "model.%s.%s: %s",
					    cm->cm_name, mk->mk_name, why);
				continue;
			}
			ck = config_find("model", 5, mk->mk_name);
			AG_ASSERT(ck != NULL);
			v = *(const int *)(const void *)((const char *)cm +
			    mk->mk_off);
			if (v < ck->ck_lo || v > ck->ck_hi)
				return ag_errf(err, errlen, AG_ERR_CONFIG,
				    "model.%s.%s: %d is out of range "
				    "(%lld..%lld)", cm->cm_name, mk->mk_name,
				    v, ck->ck_lo, ck->ck_hi);
		}
	}

	if (repo && cf->cf_model_dir[0] != '\0')
		return ag_errf(err, errlen, AG_ERR_CONFIG,
		    "model.dir and model.repository: set one of them");
	if (repo && cf->cf_model_name[0] != '\0')
		return ag_errf(err, errlen, AG_ERR_CONFIG,
		    "model.name: names come from the repository");
	if (!repo && cf->cf_nmodel_names > 0)
		return ag_errf(err, errlen, AG_ERR_CONFIG,
		    "model.names needs model.repository");
	if (!repo && cf->cf_model_control == CONFIG_CONTROL_EXPLICIT)
		return ag_errf(err, errlen, AG_ERR_CONFIG,
		    "model.control = explicit needs model.repository");
	if (!repo && cf->cf_nmodels > 0)
		return ag_errf(err, errlen, AG_ERR_CONFIG,
		    "[model.%s] needs model.repository",
		    cf->cf_models[0].cm_name);
	for (i = 0; i < cf->cf_nmodels; i++) {
		cm = &cf->cf_models[i];
		if (cf->cf_nmodel_names > 0 && !config_names_has(cf,
		    cm->cm_name))
			return ag_errf(err, errlen, AG_ERR_CONFIG,
			    "[model.%s]: %s is not in model.names",
			    cm->cm_name, cm->cm_name);
		/* As for [model]: one request's images fit in the queue. */
		if ((cm->cm_set & CONFIG_CM_QUEUE_SLOTS) &&
		    cf->cf_max_request_batch > cm->cm_queue_slots)
			return ag_errf(err, errlen, AG_ERR_CONFIG,
			    "model.max_request_batch (%d) is larger than "
			    "model.%s.queue_slots (%d)",
			    cf->cf_max_request_batch, cm->cm_name,
			    cm->cm_queue_slots);
	}
	return 0;
}

int
config_validate(const struct ag_config *cf, char *err, size_t errlen)
{
	const struct config_key *ck;
	const char *s, *why;
	long long v;
	size_t i, size;

	for (i = 0; i < CONFIG_NKEYS; i++) {
		ck = &config_keys[i];
		switch (ck->ck_type) {
		case CK_LISTEN:
			if (strnlen(cf->cf_listen_addr,
			    sizeof(cf->cf_listen_addr)) ==
			    sizeof(cf->cf_listen_addr) ||
			    !config_host_ok(cf->cf_listen_addr))
				return ag_errf(err, errlen, AG_ERR_CONFIG,
				    "server.listen: bad address");
			v = cf->cf_listen_port;
			break;
		case CK_DIR:
		case CK_NAME:
			s = config_cfield(cf, ck);
			size = ck->ck_type == CK_DIR ? CONFIG_PATH_SIZE :
			    sizeof(cf->cf_model_name);
			if (strnlen(s, size) == size)
				why = "not NUL-terminated";
			else if (ck->ck_type == CK_DIR)
				why = config_dir_why(s, (size_t)ck->ck_hi);
			else
				why = config_name_why(s, (size_t)ck->ck_hi);
			if (why != NULL)
				return ag_errf(err, errlen, AG_ERR_CONFIG,
				    "%s.%s: %s", ck->ck_section, ck->ck_name,
				    why);
			continue;
		case CK_NAMES:
			if ((why = config_names_why(cf)) != NULL)
				return ag_errf(err, errlen, AG_ERR_CONFIG,
				    "%s.%s: %s", ck->ck_section, ck->ck_name,
				    why);
			continue;
		case CK_VERSIONS:
			if ((why = config_vp_why(config_cfield(cf, ck))) !=
			    NULL)
				return ag_errf(err, errlen, AG_ERR_CONFIG,
				    "%s.%s: %s", ck->ck_section, ck->ck_name,
				    why);
			continue;
		default:
			v = config_get_num(cf, ck);
			break;
		}
		if (v < ck->ck_lo || v > ck->ck_hi)
			return ag_errf(err, errlen, AG_ERR_CONFIG,
			    "%s.%s: %lld is out of range (%lld..%lld)",
			    ck->ck_section, ck->ck_name, v, ck->ck_lo,
			    ck->ck_hi);
	}
	if (cf->cf_max_connections_per_ip > cf->cf_max_connections)
		return ag_errf(err, errlen, AG_ERR_CONFIG,
		    "server.max_connections_per_ip (%d) is larger than "
		    "server.max_connections (%d)",
		    cf->cf_max_connections_per_ip, cf->cf_max_connections);
	if (cf->cf_max_body_inflight < cf->cf_max_body_bytes)
		return ag_errf(err, errlen, AG_ERR_CONFIG,
		    "server.max_body_inflight (%zu) is smaller than "
		    "server.max_body_bytes (%zu): no body of the largest size "
		    "could be received", cf->cf_max_body_inflight,
		    cf->cf_max_body_bytes);
	/* TLS takes a certificate and its key; mutual TLS, TLS. */
	if ((cf->cf_tls_cert[0] != '\0') != (cf->cf_tls_key[0] != '\0'))
		return ag_errf(err, errlen, AG_ERR_CONFIG,
		    "server.tls_cert and server.tls_key go together: give "
		    "both, or neither");
	if (cf->cf_tls_client_ca[0] != '\0' && cf->cf_tls_cert[0] == '\0')
		return ag_errf(err, errlen, AG_ERR_CONFIG,
		    "server.tls_client_ca needs server.tls_cert and "
		    "server.tls_key: client certificates are a part of TLS");
	/*
	 * No accidental exposure: serving another address than loopback
	 * takes TLS, a token file and only health open, or an explicit yes
	 * (and a warning at every start, aiguardd's).
	 */
	if ((why = config_exposure(cf)) != NULL && !cf->cf_allow_insecure)
		return ag_errf(err, errlen, AG_ERR_CONFIG,
		    "server.listen %s:%d is not a loopback address, and %s: "
		    "anyone who reaches it could use it; configure "
		    "server.tls_cert, server.tls_key and server.tokens (with "
		    "server.open = health), listen on 127.0.0.1, or set "
		    "server.allow_insecure = yes", cf->cf_listen_addr,
		    cf->cf_listen_port, why);
	if (cf->cf_restart_min_ms > cf->cf_restart_max_ms)
		return ag_errf(err, errlen, AG_ERR_CONFIG,
		    "worker.restart_backoff_min_ms (%d) is larger than "
		    "worker.restart_backoff_max_ms (%d)",
		    cf->cf_restart_min_ms, cf->cf_restart_max_ms);
	/* One request's images must fit in the queue at once, or it waits
	 * forever for slots that cannot free up. */
	if (cf->cf_max_request_batch > cf->cf_queue_slots)
		return ag_errf(err, errlen, AG_ERR_CONFIG,
		    "model.max_request_batch (%d) is larger than "
		    "model.queue_slots (%d)",
		    cf->cf_max_request_batch, cf->cf_queue_slots);
	/* One kind of anchor: a key and a CA would be two policies. */
	if (cf->cf_verify_key[0] != '\0' && cf->cf_verify_ca[0] != '\0')
		return ag_errf(err, errlen, AG_ERR_CONFIG,
		    "model.verify_key and model.verify_ca are both set; "
		    "give one");
	return config_validate_repository(cf, err, errlen);
}

const char *
config_exposure(const struct ag_config *cf)
{
	if (config_listen_loopback(cf))
		return NULL;
	if (cf->cf_tls_cert[0] == '\0')
		return "it serves clear text (no server.tls_cert)";
	if (cf->cf_tokens[0] == '\0')
		return "every endpoint is open (no server.tokens)";
	if (cf->cf_open & ~CONFIG_OPEN_HEALTH)
		return "server.open leaves more than health open";
	return NULL;
}

void
config_open_format(int bits, char *buf, size_t len)
{
	size_t i, o = 0;
	int n;

	if (len == 0)
		return;
	buf[0] = '\0';
	if ((bits & CONFIG_OPEN_ALL) == 0) {
		(void)snprintf(buf, len, "none");
		return;
	}
	for (i = 0; i < 5 && o < len; i++)
		if (bits & (1 << i)) {
			n = snprintf(buf + o, len - o, "%s%s", o ? "," : "",
			    config_open_names[i]);
			if (n < 0)
				return;
			o += (size_t)n;
		}
}

int
config_open_categories(const struct ag_config *cf)
{
	return cf->cf_tokens[0] != '\0' ? cf->cf_open : CONFIG_OPEN_ALL;
}

/* Writes a byte size with the largest suffix that keeps it exact. */
static void
config_dump_size(FILE *fp, size_t sz)
{
	unsigned long long v = sz;

	if (v != 0 && v % GIB == 0)
		fprintf(fp, " %llug\n", v / GIB);
	else if (v != 0 && v % MIB == 0)
		fprintf(fp, " %llum\n", v / MIB);
	else if (v != 0 && v % KIB == 0)
		fprintf(fp, " %lluk\n", v / KIB);
	else
		fprintf(fp, " %llu\n", v);
}

/* Writes " VALUE" (nothing for "") and the line end. */
static void
config_dump_str(FILE *fp, const char *s, size_t size)
{
	if (s[0] != '\0')
		fprintf(fp, " %.*s", (int)strnlen(s, size), s);
	fputc('\n', fp);
}

/* The [model.NAME] sections, each with the keys it gave. */
static void
config_dump_models(const struct ag_config *cf, FILE *fp)
{
	const struct config_model *cm;
	const struct config_mkey *mk;
	char vbuf[200];
	size_t m;
	int i;

	for (i = 0; i < config_nmodels(cf); i++) {
		cm = &cf->cf_models[i];
		fprintf(fp, "\n[model.%.*s]\n", (int)sizeof(cm->cm_name),
		    cm->cm_name);
		for (m = 0; m < CONFIG_NMKEYS; m++) {
			mk = &config_mkeys[m];
			if ((cm->cm_set & mk->mk_bit) == 0)
				continue;
			if (mk->mk_bit == CONFIG_CM_VERSIONS) {
				config_versions_format(&cm->cm_versions,
				    vbuf, sizeof(vbuf));
				fprintf(fp, "%s = %s\n", mk->mk_name, vbuf);
			} else
				fprintf(fp, "%s = %d\n", mk->mk_name,
				    *(const int *)(const void *)
				    ((const char *)cm + mk->mk_off));
		}
	}
}

void
config_dump(const struct ag_config *cf, FILE *fp)
{
	const struct config_key *ck;
	const char *section = NULL;
	char vbuf[200];
	long long v;
	size_t i, j;
	int n;

	fprintf(fp, "# aiguardd configuration: every key, effective values\n");
	for (i = 0; i < CONFIG_NKEYS; i++) {
		ck = &config_keys[i];
		if (section == NULL || strcmp(section, ck->ck_section) != 0) {
			/* [model.NAME] right after [model]. */
			if (section != NULL && strcmp(section, "model") == 0)
				config_dump_models(cf, fp);
			section = ck->ck_section;
			fprintf(fp, "\n[%s]\n", section);
		}
		fprintf(fp, "%s =", ck->ck_name);
		switch (ck->ck_type) {
		case CK_LISTEN:
			if (strchr(cf->cf_listen_addr, ':') != NULL)
				fprintf(fp, " [%.*s]:%d\n",
				    (int)sizeof(cf->cf_listen_addr),
				    cf->cf_listen_addr, cf->cf_listen_port);
			else
				fprintf(fp, " %.*s:%d\n",
				    (int)sizeof(cf->cf_listen_addr),
				    cf->cf_listen_addr, cf->cf_listen_port);
			break;
		case CK_DIR:
			config_dump_str(fp, config_cfield(cf, ck),
			    CONFIG_PATH_SIZE);
			break;
		case CK_NAME:
			config_dump_str(fp, config_cfield(cf, ck),
			    sizeof(cf->cf_model_name));
			break;
		case CK_MODE:
			v = config_get_num(cf, ck);
			if (v >= 0 && v < (long long)
			    (sizeof(config_mode_names) /
			    sizeof(config_mode_names[0])))
				fprintf(fp, " %s\n", config_mode_names[v]);
			else
				fprintf(fp, " %lld\n", v);	/* invalid */
			break;
		case CK_VALIDITY:
			v = config_get_num(cf, ck);
			if (v >= 0 && v < (long long)
			    (sizeof(config_validity_names) /
			    sizeof(config_validity_names[0])))
				fprintf(fp, " %s\n", config_validity_names[v]);
			else
				fprintf(fp, " %lld\n", v);	/* invalid */
			break;
		case CK_SIZE:
			config_dump_size(fp, *(const size_t *)
			    config_cfield(cf, ck));
			break;
		case CK_LEVEL:
			v = config_get_num(cf, ck);
			if (v >= 0 && v < (long long)
			    (sizeof(config_level_names) /
			    sizeof(config_level_names[0])))
				fprintf(fp, " %s\n", config_level_names[v]);
			else
				fprintf(fp, " %lld\n", v);	/* invalid */
			break;
		case CK_BOOL:
			fprintf(fp, " %s\n", config_get_num(cf, ck) ? "yes" :
			    "no");
			break;
		case CK_OPEN:
			v = config_get_num(cf, ck);
			if (v == 0)
				fprintf(fp, " none");
			for (j = 0, n = 0; j < 5; j++)
				if (v & (1LL << j))
					fprintf(fp, "%s%s", n++ ? "," : " ",
					    config_open_names[j]);
			fprintf(fp, "\n");
			break;
		case CK_CONTROL:
			v = config_get_num(cf, ck);
			if (v >= 0 && v < (long long)
			    (sizeof(config_control_names) /
			    sizeof(config_control_names[0])))
				fprintf(fp, " %s\n", config_control_names[v]);
			else
				fprintf(fp, " %lld\n", v);	/* invalid */
			break;
		case CK_NAMES:
			for (n = 0; n < cf->cf_nmodel_names &&
			    n < CONFIG_MODELS_MAX; n++)
				fprintf(fp, "%s%.*s", n ? "," : " ",
				    (int)sizeof(cf->cf_model_names[n]),
				    cf->cf_model_names[n]);
			fputc('\n', fp);
			break;
		case CK_VERSIONS:
			config_versions_format(config_cfield(cf, ck), vbuf,
			    sizeof(vbuf));
			fprintf(fp, " %s\n", vbuf);
			break;
		case CK_INT:
		case CK_LLONG:
			fprintf(fp, " %lld\n", config_get_num(cf, ck));
			break;
		}
	}
	if (section != NULL && strcmp(section, "model") == 0)
		config_dump_models(cf, fp);
}

/* ==== The file loader ==== */

struct config_load {
	struct ag_config	*cl_cf;		/* the copy being filled */
	const char		*cl_path;
	const char		*cl_p;		/* next unread byte */
	size_t			 cl_left;	/* bytes from cl_p on */
	int			 cl_lineno;	/* of the last line read */
	int			 cl_errline;	/* first error's line, or 0 */
	int			 cl_r;		/* that error's code */
	char			*cl_err;
	size_t			 cl_errlen;
	unsigned char		 cl_seen[CONFIG_NKEYS];
	/* CONFIG_CM_* bits given in this file, by index in cf_models. */
	unsigned		 cl_mseen[CONFIG_MODELS_MAX];
	/* The last section line's name, whole (inih's copy is cut at 49
	 * bytes); a line holds at most CONFIG_LINE_MAX. */
	char			 cl_section[CONFIG_LINE_MAX + 1];
};

/*
 * Records the section that line (as handed to inih) opens, found as inih
 * finds it: after '[', up to the first ']', unless a ';' after a blank
 * (an inline comment) comes first, which inih reports as an error.
 */
static void
config_note_section(struct config_load *cl, const char *line)
{
	const char *p;
	int was_space = 0;

	if (line[0] != '[')
		return;
	for (p = line + 1; *p != '\0' && *p != ']'; p++) {
		if (was_space && *p == ';')
			return;
		was_space = isspace((unsigned char)*p);
	}
	if (*p != ']' || (size_t)(p - line - 1) >= sizeof(cl->cl_section))
		return;
	memcpy(cl->cl_section, line + 1, (size_t)(p - line - 1));
	cl->cl_section[p - line - 1] = '\0';
}

/* Records the first error at the current line; err holds the message. */
static void
config_load_fail(struct config_load *cl, int r, const char *msg)
{
	if (cl->cl_errline != 0)
		return;
	cl->cl_errline = cl->cl_lineno;
	cl->cl_r = r;
	ag_errf(cl->cl_err, cl->cl_errlen, r, "%s:%d: %s", cl->cl_path,
	    cl->cl_lineno, msg);
}

/*
 * inih's line reader (fgets-shaped): hands out one whole line per call,
 * without its leading blanks, so the line count stays exact.  Returns NULL
 * at the end, and after an error, which stops the parse there.
 */
static char *
config_reader(char *str, int num, void *stream)
{
	struct config_load *cl = stream;
	const char *p = cl->cl_p, *nl;
	size_t len, linelen, skip = 0;

	if (cl->cl_errline != 0 || cl->cl_left == 0)
		return NULL;
	cl->cl_lineno++;
	nl = memchr(p, '\n', cl->cl_left);
	linelen = nl != NULL ? (size_t)(nl - p) : cl->cl_left;
	cl->cl_p += linelen + (nl != NULL);
	cl->cl_left -= linelen + (nl != NULL);

	if (memchr(p, '\0', linelen) != NULL) {
		config_load_fail(cl, AG_ERR_CONFIG, "NUL byte in the line");
		return NULL;
	}
	/* inih needs room for the line, "\r\n" and its NUL. */
	if (linelen > CONFIG_LINE_MAX || linelen + 3 > (size_t)num) {
		config_load_fail(cl, AG_ERR_CONFIG, "line too long");
		return NULL;
	}
	if (cl->cl_lineno == 1 && linelen >= 3 &&
	    memcmp(p, "\xef\xbb\xbf", 3) == 0)
		skip = 3;
	while (skip < linelen && (p[skip] == ' ' || p[skip] == '\t'))
		skip++;
	len = linelen - skip;
	memcpy(str, p + skip, len);
	if (nl != NULL)
		str[len++] = '\n';
	str[len] = '\0';
	config_note_section(cl, str);
	return str;
}

/* A key of a [model.NAME] section; 1 to go on, 0 on an error. */
static int
config_model_handler(struct config_load *cl, const char *section,
    const char *name, const char *value)
{
	const struct config_mkey *mk;
	const char *mname = section + 6;	/* after "model." */
	char msg[512], echo[CONFIG_ECHO_MAX + 8], echo2[CONFIG_ECHO_MAX + 8];
	int i, r;

	if ((mk = config_mkey_find(name)) == NULL) {
		snprintf(msg, sizeof(msg), "unknown key \"%s\" in [%s]",
		    config_echo(name, echo, sizeof(echo)),
		    config_echo(section, echo2, sizeof(echo2)));
		config_load_fail(cl, AG_ERR_CONFIG, msg);
		return 0;
	}
	i = config_model_find(cl->cl_cf, mname, strlen(mname));
	if (i >= 0 && (cl->cl_mseen[i] & mk->mk_bit)) {
		/* The name is valid: it made a section. */
		snprintf(msg, sizeof(msg), "duplicate key model.%s.%s", mname,
		    mk->mk_name);
		config_load_fail(cl, AG_ERR_CONFIG, msg);
		return 0;
	}
	if ((r = config_model_set(cl->cl_cf, mname, strlen(mname), mk, value,
	    msg, sizeof(msg))) != 0) {
		config_load_fail(cl, r, msg);
		return 0;
	}
	i = config_model_find(cl->cl_cf, mname, strlen(mname));
	AG_ASSERT(i >= 0);
	cl->cl_mseen[i] |= mk->mk_bit;
	return 1;
}

/* inih's handler: returns 1 to go on, 0 on an error (recorded in cl). */
static int
config_handler(void *user, const char *isection, const char *name,
    const char *value)
{
	struct config_load *cl = user;
	const struct config_key *ck;
	const char *section = cl->cl_section;
	char msg[512], echo[CONFIG_ECHO_MAX + 8], echo2[CONFIG_ECHO_MAX + 8];
	size_t idx;
	int r;

	if (cl->cl_errline != 0)
		return 0;
	if (isection == NULL || name == NULL || value == NULL) {
		config_load_fail(cl, AG_ERR_CONFIG, "key without a value");
		return 0;
	}
	/* Ours is inih's, or longer where inih cut it; else we misread. */
	if (strncmp(section, isection, strlen(isection)) != 0) {
		config_load_fail(cl, AG_ERR_INTERNAL, "section line misread");
		return 0;
	}
	if (strncmp(section, "model.", 6) == 0)
		return config_model_handler(cl, section, name, value);
	if (*section == '\0') {
		snprintf(msg, sizeof(msg), "key \"%s\" outside any [section]",
		    config_echo(name, echo, sizeof(echo)));
		config_load_fail(cl, AG_ERR_CONFIG, msg);
		return 0;
	}
	if (!config_section_known(section)) {
		snprintf(msg, sizeof(msg), "unknown section [%s]",
		    config_echo(section, echo, sizeof(echo)));
		config_load_fail(cl, AG_ERR_CONFIG, msg);
		return 0;
	}
	if ((ck = config_find(section, strlen(section), name)) == NULL) {
		snprintf(msg, sizeof(msg), "unknown key \"%s\" in [%s]",
		    config_echo(name, echo, sizeof(echo)),
		    config_echo(section, echo2, sizeof(echo2)));
		config_load_fail(cl, AG_ERR_CONFIG, msg);
		return 0;
	}
	idx = (size_t)(ck - config_keys);
	if (cl->cl_seen[idx]) {
		snprintf(msg, sizeof(msg), "duplicate key %s.%s",
		    ck->ck_section, ck->ck_name);
		config_load_fail(cl, AG_ERR_CONFIG, msg);
		return 0;
	}
	cl->cl_seen[idx] = 1;
	if ((r = config_set_key(cl->cl_cf, ck, value, msg,
	    sizeof(msg))) != 0) {
		config_load_fail(cl, r, msg);
		return 0;
	}
	return 1;
}

int
config_load_file(struct ag_config *cf, const char *path, char *err,
    size_t errlen)
{
	struct ag_config copy = *cf;
	struct config_load cl;
	uint8_t *buf = NULL;
	size_t len = 0;
	int r, line;

	if ((r = ag_read_file(path, CONFIG_FILE_MAX, &buf, &len, err,
	    errlen)) != 0)
		return r;
	memset(&cl, 0, sizeof(cl));
	cl.cl_cf = &copy;
	cl.cl_path = path;
	cl.cl_p = (const char *)buf;
	cl.cl_left = len;
	cl.cl_err = err;
	cl.cl_errlen = errlen;

	line = ini_parse_stream(config_reader, &cl, config_handler, &cl);
	if (line == -2) {
		r = ag_errf(err, errlen, AG_ERR_ALLOC, "%s: out of memory",
		    path);
		goto out;
	}
	if (line < 0) {
		r = ag_errf(err, errlen, AG_ERR_INTERNAL, "%s: inih returned "
		    "%d", path, line);
		goto out;
	}
	/*
	 * inih returns the first line it found in error, ours (handler,
	 * reader) or its own (no '=' or ':', no ']').  An earlier one of its
	 * own wins over ours.
	 */
	if (line > 0 && (cl.cl_errline == 0 || line < cl.cl_errline)) {
		r = ag_errf(err, errlen, AG_ERR_CONFIG, "%s:%d: syntax error: "
		    "expected [section], key = value or a comment", path, line);
		goto out;
	}
	if (cl.cl_errline != 0) {
		r = cl.cl_r;	/* message already in err */
		goto out;
	}
	*cf = copy;
	r = 0;
 out:
	free(buf);
	return r;
}
