/* SPDX-License-Identifier: ISC */
/*
 * config.h: the configuration of aiguardd.
 *
 * The configuration starts from config_defaults(), then an INI file
 * (config_load_file(), parsed by inih), then command-line overrides
 * (config_set(), e.g. `--set server.listen=127.0.0.1:0`), and is checked
 * as a whole by config_validate() once all of them are applied.
 * `aiguardd --check-config` prints config_dump(), which is itself a valid
 * file that loads back to the same configuration.  etc/aiguardd.conf is
 * the annotated example, every key at its default.
 *
 * File syntax (what inih reads, with our stricter rules on top):
 *
 *	# a comment; so is a line starting with ';'
 *	[server]
 *	listen = 127.0.0.1:8500		; an inline comment needs a blank
 *					; before the ';'
 *	max_body_bytes = 32m
 *
 *  - Every key belongs to a section: [server], [model], [limits],
 *    [image], [log], [worker] or [sandbox], or a per-model section
 *    [model.NAME] (below).  An unknown section or key, a key outside any
 *    section, or a key given twice in one file is an error.  A section may
 *    be opened more than once.  Names are case-sensitive.
 *  - "key = value" or "key: value".  Blanks around the key and the value
 *    are stripped; nothing else is: quotes are part of the value.
 *  - Leading blanks on a line are ignored, so there are no continuation
 *    lines (inih's multi-line values are off).
 *  - A line is at most CONFIG_LINE_MAX bytes (inih's fixed line buffer);
 *    a longer one is an error, never silently split.  NUL bytes are errors.
 *    A UTF-8 byte order mark at the start is skipped.
 *  - The file is at most CONFIG_FILE_MAX bytes and must be a regular file
 *    (a FIFO or a device is refused without blocking on it).
 *
 * Values:
 *  - Integers are plain decimal digits: no sign, no "0x", no blanks.
 *  - Byte sizes (max_header_bytes, max_body_bytes) take an optional
 *    suffix k, m or g (KiB, MiB, GiB; either case).  Counts such as
 *    image.max_pixels take no suffix: "40m" pixels would be ambiguous
 *    between 40000000 and 40 * 2^20.
 *  - Booleans: yes/no, true/false, on/off, 1/0 (any case).
 *  - server.listen: ADDR:PORT, ADDR one of an IPv4 dotted quad, [IPv6]
 *    (brackets required), "localhost" or "*" (every address); PORT
 *    0..65535, 0 meaning any free port.
 *  - log.level: fatal, warn, info or debug.
 *  - model.cert_validity: now or signing-time.
 *  - server.open: a comma-separated list of endpoint categories (health,
 *    metadata, infer, metrics, admin), or "none".
 *  - model.names: a comma-separated list of model names (blanks around a
 *    name allowed), or "" for every model of model.repository.
 *  - model.control: none or explicit.
 *  - model.versions: "latest" (the same as "latest:1"), "latest:N", or a
 *    comma-separated list of versions (decimal, no leading zero).
 *
 * Model repository (model.repository = DIR, the store layout of
 * model/store.h): each served model may have a section [model.NAME] with
 * the keys max_batch, threads, queue_slots, max_delay_us and versions,
 * over [model]'s (config_model_settings()).  The command line sets them as
 * "model.NAME.KEY".  NAME follows the store's rule (model/store.h:
 * [A-Za-z0-9][A-Za-z0-9._-]*, at most 64 bytes), so it may hold dots: the
 * key is what follows the last one.
 *
 * Errors are returned as AG_ERR_CONFIG (a bad value, key or syntax) or the
 * file's open/read error, with one line in err naming the key and the
 * value, prefixed with "FILE:LINE: " for a file.
 */
#ifndef AG_CONFIG_H
#define AG_CONFIG_H

#include <stddef.h>
#include <stdio.h>

/* Largest configuration file read, in bytes. */
#define CONFIG_FILE_MAX		(64 * 1024)
/*
 * Longest line of a configuration file, without its line end: inih's
 * line buffer is 200 bytes, which must hold the line, "\r\n" and a NUL.
 */
#define CONFIG_LINE_MAX		197
/*
 * Longest model.dir, so that config_dump()'s "dir = ..." line fits in
 * CONFIG_LINE_MAX and every valid configuration can be written and read
 * back.
 */
#define CONFIG_MODEL_DIR_MAX	(CONFIG_LINE_MAX - 6)
/* The same for any path key: "key = " and the path fit on one line. */
#define CONFIG_PATH_MAX(key)	(CONFIG_LINE_MAX - (sizeof(key) - 1) - 3)
/* Every path field (CK_DIR) is a char[CONFIG_PATH_SIZE]. */
#define CONFIG_PATH_SIZE	4096

/* Models of a repository served at once: model.names, [model.NAME]. */
#define CONFIG_MODELS_MAX	16
/* Bytes of a model name of a repository (the store's STORE_NAME_MAX). */
#define CONFIG_MODEL_NAME_MAX	64
/*
 * Longest model.names value, so that config_dump()'s "names = ..." line
 * fits in CONFIG_LINE_MAX (16 names of 64 bytes would not).
 */
#define CONFIG_NAMES_LIST_MAX	(CONFIG_LINE_MAX - 8)
/* Versions in a specific version policy; also the most of latest:N. */
#define CONFIG_VERSIONS_MAX	16
/* Highest version number (the store's STORE_VERSION_MAX). */
#define CONFIG_VERSION_MAX	999999999U

/* model.control */
#define CONFIG_CONTROL_NONE	0	/* loaded at start and on SIGHUP */
#define CONFIG_CONTROL_EXPLICIT	1	/* the repository extension's load */

/*
 * A version policy (model.versions, [model.NAME] versions).  Unused
 * fields are zero: vp_versions past vp_nversions, vp_latest for SPECIFIC,
 * vp_nversions for LATEST.
 */
enum config_vp_kind { CONFIG_VP_LATEST = 0, CONFIG_VP_SPECIFIC = 1 };
struct config_version_policy {
	int		vp_kind;	/* CONFIG_VP_* */
	int		vp_latest;	/* LATEST: how many, 1..16 */
	/* SPECIFIC: the versions, ascending */
	unsigned int	vp_versions[CONFIG_VERSIONS_MAX];
	int		vp_nversions;
};

/*
 * One [model.NAME] section: the keys it gave (cm_set), the others zero.
 * Sections are kept in the order they first appeared.
 */
struct config_model {
	char		cm_name[CONFIG_MODEL_NAME_MAX + 1];
	unsigned	cm_set;		/* CONFIG_CM_* bits: which keys */
	int		cm_max_batch, cm_threads, cm_queue_slots,
			cm_max_delay_us;
	struct config_version_policy cm_versions;
};
#define CONFIG_CM_MAX_BATCH	0x1
#define CONFIG_CM_THREADS	0x2
#define CONFIG_CM_QUEUE_SLOTS	0x4
#define CONFIG_CM_MAX_DELAY	0x8
#define CONFIG_CM_VERSIONS	0x10

struct ag_config {
	/* [server] */
	char	 cf_listen_addr[64];	/* listen: address text, no brackets */
	int	 cf_listen_port;	/* listen: port, 0..65535 */
	int	 cf_http_threads;	/* 1..64 */
	int	 cf_max_connections;	/* 1..65536 */
	int	 cf_max_connections_per_ip; /* 1..cf_max_connections */
	size_t	 cf_max_header_bytes;	/* 1k..1m */
	size_t	 cf_max_body_bytes;	/* 1k..1g */
	size_t	 cf_max_body_inflight;	/* bodies held at once, all clients */
	int	 cf_connection_timeout;	/* seconds idle, 1..3600 */
	int	 cf_request_timeout;	/* seconds per whole request, 1..3600 */
	char	 cf_pid_file[CONFIG_PATH_SIZE]; /* "" : none written */
	int	 cf_allow_insecure;	/* serve a non-loopback address as is */
	/* The front door: TLS (all three PEM files, read by the parent) and
	 * the token file; "" : none. */
	char	 cf_tls_cert[CONFIG_PATH_SIZE];	/* chain, leaf first */
	char	 cf_tls_key[CONFIG_PATH_SIZE];
	char	 cf_tls_client_ca[CONFIG_PATH_SIZE]; /* mutual TLS */
	char	 cf_tokens[CONFIG_PATH_SIZE];
	/* Categories served without a token (CONFIG_OPEN_* bits) when a
	 * token file is configured; without one every category is open. */
	int	 cf_open;
	/* [model] */
	char	 cf_model_dir[CONFIG_PATH_SIZE]; /* "": the default (locate.h) */
	char	 cf_model_name[64];	/* "" means the model's own name */
	/* A model repository (the store layout); "": none.  With one,
	 * cf_model_dir and cf_model_name are empty. */
	char	 cf_repository[CONFIG_PATH_SIZE];
	/* The models of the repository to serve, in this order; none: all. */
	char	 cf_model_names[CONFIG_MODELS_MAX][CONFIG_MODEL_NAME_MAX + 1];
	int	 cf_nmodel_names;
	int	 cf_model_control;	/* CONFIG_CONTROL_* */
	struct config_version_policy cf_versions; /* default: latest:1 */
	int	 cf_max_batch;		/* images per engine call, 1..256 */
	int	 cf_max_delay_us;	/* batching delay, 0..1000000 */
	int	 cf_return_wait_us;	/* wait for returning clients, 0..1e6 */
	int	 cf_threads;		/* engine threads, 1..256 */
	int	 cf_low_memory;		/* 0 or 1: weights transformed per pass */
	int	 cf_queue_slots;	/* images front->worker, 1..4096 */
	int	 cf_max_request_batch;	/* images per infer request, 1..256 */
	/* Trust anchors of the model signatures (src/model/msig.h): a public
	 * key, or a CA bundle; neither: the build tree's key when there is
	 * one, else aiguardd refuses to start unless cf_allow_unsigned. */
	char	 cf_verify_key[CONFIG_PATH_SIZE];
	char	 cf_verify_ca[CONFIG_PATH_SIZE];
	int	 cf_allow_unsigned;	/* 0 or 1: load models unchecked */
	/* When a signature's certificate chain must be valid: enum
	 * msig_validity (model/msig.h), "now" (0, the default) or
	 * "signing-time" (the leaf's notBefore, as the reference does). */
	int	 cf_cert_validity;
	/* [limits]: token buckets; a rate of 0 is no limit.  Per client
	 * address (every category but health), and each token's defaults
	 * (the token file may give its own). */
	int	 cf_ip_rate, cf_ip_burst;		/* requests/s, bucket */
	int	 cf_ip_image_rate, cf_ip_image_burst;	/* images/s, bucket */
	int	 cf_token_rate, cf_token_burst;
	int	 cf_token_image_rate, cf_token_image_burst;
	int	 cf_token_max_inflight;			/* 0: no cap */
	/* [image] */
	int	 cf_image_max_side;	/* pixels per side, 1..65535 */
	long long cf_image_max_pixels;	/* w * h, 1..1000000000 */
	/* [log] */
	int	 cf_log_level;		/* LOG_LVL_* (common/log.h) */
	int	 cf_access_log;		/* 0 or 1 */
	/* [worker] */
	int	 cf_restart_min_ms;	/* restart backoff, 1..3600000 */
	int	 cf_restart_max_ms;	/* 1..3600000, >= cf_restart_min_ms */
	int	 cf_max_start_failures;	/* workers dead before ready in a
					   row that stop aiguardd, 1..1000 */
	/* [sandbox] */
	int	 cf_sandbox_mode;	/* SANDBOX_* of sandbox/sandbox.h */
	char	 cf_sandbox_user[64];	/* "" : no change of user */
	char	 cf_sandbox_group[64];	/* "" : the user's group */
	size_t	 cf_sandbox_max_memory;	/* RLIMIT_AS; 0: no limit */
	int	 cf_sandbox_seccomp_dev; /* EPERM and log instead of kill */
	char	 cf_sandbox_selinux_domain[64]; /* "" or the type to run in */
	/* [model.NAME] sections, cf_models[0..cf_nmodels) */
	struct config_model cf_models[CONFIG_MODELS_MAX];
	int	 cf_nmodels;
};

/*
 * Fills cf with the defaults (the values in etc/aiguardd.conf).  Unused
 * bytes, string tails included, are zero, so two configurations built the
 * same way compare equal with memcmp().
 */
void	config_defaults(struct ag_config *cf);

/*
 * Sets one key, named "section.key" (e.g. "server.listen"), or
 * "model.NAME.key" for a per-model key (the section [model.NAME] is made
 * when it is new; a 17th one is refused), from its text value.  Used by
 * the file loader and by command-line flags.  Checks the value alone
 * (syntax and range); cross-field rules are config_validate()'s.
 * Returns 0, or AG_ERR_CONFIG with err naming the key and the value (the
 * value sanitised and capped); cf is unchanged on failure.
 */
int	config_set(struct ag_config *cf, const char *key, const char *value,
	    char *err, size_t errlen);

/*
 * Loads the INI file at path over the current values of cf: keys it does
 * not name keep their values.  All or nothing: on failure cf is unchanged.
 * The file is opened by ag_open_regular() (common/util.h) and refused past
 * CONFIG_FILE_MAX bytes.  Returns 0, AG_ERR_CONFIG with "PATH:LINE: ..." in
 * err for an unknown section or key, a duplicate key, a bad value or a line
 * inih cannot parse, or the error of opening or reading the file
 * (AG_ERR_NOT_FOUND, AG_ERR_FORMAT for not a regular file,
 * AG_ERR_TOO_LARGE, AG_ERR_SYSTEM, AG_ERR_ALLOC).  Does not run
 * config_validate(): call it after the command-line overrides.
 */
int	config_load_file(struct ag_config *cf, const char *path, char *err,
	    size_t errlen);

/*
 * Checks every field's range and the rules between fields
 * (max_connections_per_ip <= max_connections, restart min <= max,
 * max_request_batch <= queue_slots, also each model's queue_slots).  With
 * model.repository: model.dir and model.name empty.  Without one: no
 * model.names, no model.control = explicit, no [model.NAME] section.
 * With model.names, a [model.NAME] section names one of them.  Returns 0
 * or AG_ERR_CONFIG with err naming the keys.
 */
int	config_validate(const struct ag_config *cf, char *err, size_t errlen);

/* Endpoint categories (server.open), the same bits as the token scopes
 * of http/tokens.h. */
#define CONFIG_OPEN_HEALTH	0x01
#define CONFIG_OPEN_METADATA	0x02
#define CONFIG_OPEN_INFER	0x04
#define CONFIG_OPEN_METRICS	0x08
#define CONFIG_OPEN_ADMIN	0x10
#define CONFIG_OPEN_ALL		0x1f

/*
 * 1 when server.listen reaches this host only: "localhost", 127.0.0.0/8
 * or ::1.  "*", 0.0.0.0, :: and every other address are exposed.
 */
int	config_listen_loopback(const struct ag_config *cf);
/*
 * Why serving cf's address would expose aiguardd (NULL when it does not):
 * a non-loopback address without TLS, without a token file, or with a
 * category other than health open.  config_validate() refuses such an
 * address unless server.allow_insecure is set.
 */
const char *config_exposure(const struct ag_config *cf);
/* The categories served without a token: cf_open with a token file,
 * else all of them. */
int	config_open_categories(const struct ag_config *cf);
/* Category bits as "health,metadata", or "none". */
void	config_open_format(int bits, char *buf, size_t len);

/* The effective settings of one model of a repository. */
struct config_model_settings {
	int	ms_max_batch, ms_threads, ms_queue_slots, ms_max_delay_us;
	struct config_version_policy ms_versions;
};
/*
 * Fills *out with [model.NAME]'s keys where that section gives them, else
 * [model]'s (a name without a section: all of [model]'s).
 */
void	config_model_settings(const struct ag_config *cf, const char *name,
	    struct config_model_settings *out);
/*
 * A policy as text ("latest", "latest:3", "1,4,7"), as model.versions
 * takes it, for logs and the dump.  Cut short (still NUL-terminated) when
 * len is too small; 160 bytes always suffice.
 */
void	config_versions_format(const struct config_version_policy *vp,
	    char *buf, size_t len);

/*
 * Writes cf to fp as an INI file with every key and its value, in the
 * order of etc/aiguardd.conf, each [model.NAME] section (the keys it
 * gave) after [model].  For a configuration that passes config_validate(),
 * config_load_file() of the output over any starting values without
 * [model.NAME] sections (config_defaults(), for one) gives back cf: a file
 * adds to the sections it finds, it removes none.  Does not check fp for
 * write errors (the caller does, with ferror()/fclose()).
 */
void	config_dump(const struct ag_config *cf, FILE *fp);

#endif /* AG_CONFIG_H */
