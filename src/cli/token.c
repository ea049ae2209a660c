/* SPDX-License-Identifier: ISC */
/*
 * token.c: aiguard token add, list and revoke: aiguardd's token file
 * (http/tokens.h) from the command line.
 *
 *   aiguard token add --file FILE --scopes LIST [--rate R] [--burst B]
 *       [--image-rate R] [--image-burst B] [--max-inflight N]
 *       [--client-cert] [--group G] NAME
 *   aiguard token list --file FILE [--json]
 *   aiguard token revoke --file FILE NAME
 *
 * add makes a new bearer token from getrandom(2), stores its SHA-256 (never
 * the token) and prints the token once, alone on the last line of stdout;
 * with --client-cert it adds the identity of a TLS client certificate
 * whose subject CN is NAME instead (no secret, nothing printed).  add and
 * revoke hold an exclusive flock(2) on FILE.lock (left in place: removing
 * a lock file races with the next taker) while they read FILE, and
 * replace it atomically: FILE.tmp-XXXXXX in the same directory with the
 * old file's mode, owner, group and SELinux label, fsync, rename, fsync
 * of the directory.  A new file is 0640, in the group --group names, else
 * "aiguard" when that group exists, else the caller's.  A file that does
 * not parse is never rewritten.  list prints no hash.
 *
 * Exit codes: 0 done, 1 an error (the message names the file, and the
 * line for a bad file), 2 a usage error.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <selinux/label.h>
#include <selinux/selinux.h>

#include "cli.h"
#include "common/ag_err.h"
#include "common/log.h"
#include "common/util.h"
#include "http/tokens.h"

/* The group a new token file goes to when there is one (sysusers.d). */
#define TOKEN_DAEMON_GROUP	"aiguard"
#define TOKEN_NEW_MODE		0640
#define TOKEN_ERRLEN		1024

enum token_cmd {
	TOKEN_CMD_ADD,
	TOKEN_CMD_LIST,
	TOKEN_CMD_REVOKE,
};

struct token_args {
	enum token_cmd	 ta_cmd;
	const char	*ta_file;
	const char	*ta_scopes;
	const char	*ta_group;
	const char	*ta_name;
	int		 ta_cert;
	int		 ta_json;
	/* The limits of the new entry (0: the server's default). */
	struct token_entry ta_lim;
};

static void
token_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: aiguard token add --file FILE --scopes LIST [--rate R] "
	    "[--burst B]\n"
	    "           [--image-rate R] [--image-burst B] "
	    "[--max-inflight N]\n"
	    "           [--client-cert] [--group G] NAME\n"
	    "       aiguard token list --file FILE [--json]\n"
	    "       aiguard token revoke --file FILE NAME\n"
	    "  --file FILE        the token file (aiguardd's server.tokens)\n"
	    "  --scopes LIST      health, metadata, infer, infer:MODEL, "
	    "metrics, admin,\n"
	    "                     comma-separated\n"
	    "  --rate R           requests per second (decimal; default: "
	    "the server's)\n"
	    "  --burst B          requests at once above the rate\n"
	    "  --image-rate R     images per second\n"
	    "  --image-burst B    images at once above the image rate\n"
	    "  --max-inflight N   requests in flight at once\n"
	    "  --client-cert      NAME is a TLS client certificate's subject "
	    "CN: no token\n"
	    "  --group G          a new file's group (default: %s if it "
	    "exists,\n"
	    "                     else yours)\n"
	    "  --json             list as one JSON array\n"
	    "  add prints the new token once, alone on the last line; the "
	    "file keeps\n"
	    "  only its SHA-256.  NAME: 1..%d of [A-Za-z0-9._-].\n",
	    TOKEN_DAEMON_GROUP, TOKEN_NAME_MAX - 1);
}

/* A limit option's value into *v; 0 or 2. */
static int
token_limit_arg(const char *opt, const char *s, int integer, double *v)
{
	if (tokens_limit_parse(s, integer, v) == 0)
		return 0;
	log_warnx("token: --%s: expected %s 0..%d, got %s", opt,
	    integer ? "a whole number" : "a decimal number (at most 6 "
	    "digits after the point)", TOKENS_LIMIT_MAX, s);
	return 2;
}

/* Returns -1 to go on, or the exit status (0 for --help, 2 for usage). */
static int
token_parse(int argc, char **argv, struct token_args *a)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "scopes", required_argument, NULL, 's' },
		{ "rate", required_argument, NULL, 'r' },
		{ "burst", required_argument, NULL, 'b' },
		{ "image-rate", required_argument, NULL, 'R' },
		{ "image-burst", required_argument, NULL, 'B' },
		{ "max-inflight", required_argument, NULL, 'm' },
		{ "client-cert", no_argument, NULL, 'c' },
		{ "group", required_argument, NULL, 'g' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct token_entry *l = &a->ta_lim;
	const char *cmd = argv[0];
	double v;
	int ch, r, li;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, &li)) != -1) {
		/* Which command takes what. */
		if ((a->ta_cmd != TOKEN_CMD_ADD && ch != 'f' && ch != 'j' &&
		    ch != 'h') ||
		    (a->ta_cmd != TOKEN_CMD_LIST && ch == 'j')) {
			if (ch != '?')
				log_warnx("token %s: no option --%s", cmd,
				    ch == 'h' ? "help" : opts[li].name);
			token_usage(stderr);
			return 2;
		}
		r = 0;
		switch (ch) {
		case 'f':
			if (*optarg == '\0') {
				log_warnx("token: --file: empty path");
				return 2;
			}
			a->ta_file = optarg;
			break;
		case 's':
			a->ta_scopes = optarg;
			break;
		case 'r':
			r = token_limit_arg("rate", optarg, 0, &l->te_rate);
			break;
		case 'b':
			r = token_limit_arg("burst", optarg, 0, &l->te_burst);
			break;
		case 'R':
			r = token_limit_arg("image-rate", optarg, 0,
			    &l->te_image_rate);
			break;
		case 'B':
			r = token_limit_arg("image-burst", optarg, 0,
			    &l->te_image_burst);
			break;
		case 'm':
			if ((r = token_limit_arg("max-inflight", optarg, 1,
			    &v)) == 0)
				l->te_max_inflight = (int)v;
			break;
		case 'c':
			a->ta_cert = 1;
			break;
		case 'g':
			if (*optarg == '\0') {
				log_warnx("token: --group: empty name");
				return 2;
			}
			a->ta_group = optarg;
			break;
		case 'j':
			a->ta_json = 1;
			break;
		case 'h':
			token_usage(stdout);
			return 0;
		default:
			token_usage(stderr);
			return 2;
		}
		if (r != 0)
			return r;
	}
	if (a->ta_file == NULL) {
		log_warnx("token %s: no --file given", cmd);
		return 2;
	}
	if (a->ta_cmd == TOKEN_CMD_LIST) {
		if (optind < argc) {
			log_warnx("token list: unexpected argument %s",
			    argv[optind]);
			return 2;
		}
		return -1;
	}
	if (optind >= argc) {
		log_warnx("token %s: no NAME given", cmd);
		return 2;
	}
	if (optind + 1 < argc) {
		log_warnx("token %s: unexpected argument %s", cmd,
		    argv[optind + 1]);
		return 2;
	}
	a->ta_name = argv[optind];
	if (!tokens_name_ok(a->ta_name)) {
		log_warnx("token %s: bad NAME %s: 1..%d of [A-Za-z0-9._-]",
		    cmd, a->ta_name, TOKEN_NAME_MAX - 1);
		return 2;
	}
	if (a->ta_cmd == TOKEN_CMD_ADD && a->ta_scopes == NULL) {
		log_warnx("token add: no --scopes given");
		return 2;
	}
	return -1;
}

/* ==== the file ========================================================= */

/* What add and revoke keep of the file they replace. */
struct token_file {
	int		 tf_exists;
	struct stat	 tf_st;
	struct token_set *tf_set;
};

/* The group of a new file (see the top); 0, or 2 for no such group. */
static int
token_group(const char *name, gid_t *gid)
{
	struct group *gr;
	long n;

	if (name == NULL) {
		*gid = (gr = getgrnam(TOKEN_DAEMON_GROUP)) != NULL ?
		    gr->gr_gid : getegid();
		return 0;
	}
	if ((gr = getgrnam(name)) != NULL) {
		*gid = gr->gr_gid;
		return 0;
	}
	if (ag_parse_long(name, 0, INT_MAX, &n) != 0) {
		log_warnx("token: --group %s: no such group", name);
		return 2;
	}
	*gid = (gid_t)n;
	return 0;
}

/* Exclusive lock on FILE.lock, held until exit; the fd, or -1. */
static int
token_lock(const char *file)
{
	char lock[PATH_MAX];
	int fd;

	if ((size_t)snprintf(lock, sizeof(lock), "%s.lock", file) >=
	    sizeof(lock)) {
		log_warnx("token: %s: path too long", file);
		return -1;
	}
	if ((fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
	    O_NOCTTY, 0600)) == -1) {
		log_warn("token: %s", lock);
		return -1;
	}
	while (flock(fd, LOCK_EX) == -1) {
		if (errno == EINTR)
			continue;
		log_warn("token: flock %s", lock);
		close(fd);
		return -1;
	}
	return fd;
}

/* Warns when others may read file: the hashes are not for them. */
static void
token_check_mode(const char *file, const struct stat *st)
{
	if (st->st_mode & S_IROTH)
		log_warnx("token: WARNING: %s is readable by everyone (mode "
		    "%04o): chmod o-rwx %s", file,
		    (unsigned int)(st->st_mode & 07777), file);
}

/*
 * Reads and parses file into tf; a missing file is an empty set when
 * may_miss.  0, or 1 with the reason (file and line) logged.
 */
static int
token_load(const char *file, int may_miss, struct token_file *tf)
{
	char err[TOKEN_ERRLEN];

	memset(tf, 0, sizeof(*tf));
	if (lstat(file, &tf->tf_st) == -1) {
		if (errno != ENOENT || !may_miss) {
			log_warn("token: %s", file);
			return 1;
		}
		if ((tf->tf_set = calloc(1, sizeof(*tf->tf_set))) == NULL)
			fatalx("out of memory");
		return 0;
	}
	/* The rename would replace a link by a file: say so instead. */
	if (S_ISLNK(tf->tf_st.st_mode)) {
		log_warnx("token: %s is a symbolic link: give the file it "
		    "points to", file);
		return 1;
	}
	if (tokens_read(file, &tf->tf_set, err, sizeof(err)) != 0) {
		log_warnx("token: %s; %s is left as it is", err, file);
		return 1;
	}
	tf->tf_exists = 1;
	token_check_mode(file, &tf->tf_st);
	return 0;
}

/*
 * The SELinux label for the new file: the old file's, else the policy's
 * for its path.  NULL with SELinux off or no answer (the file then gets
 * its directory's default, as any new file).  Caller frees (freecon).
 */
static char *
token_label(const char *file, const struct token_file *tf)
{
	struct selabel_handle *h;
	char *con = NULL, real[PATH_MAX], dir[PATH_MAX], *slash;
	const char *base;

	if (is_selinux_enabled() <= 0)
		return NULL;
	if (tf->tf_exists) {
		if (getfilecon(file, &con) < 0)
			return NULL;
		return con;
	}
	/* The final path: the real directory and the file's name. */
	(void)snprintf(dir, sizeof(dir), "%s", file);
	base = file;
	if ((slash = strrchr(dir, '/')) == NULL)
		(void)snprintf(dir, sizeof(dir), ".");
	else {
		base = file + (slash - dir) + 1;
		slash[slash == dir] = '\0';	/* "/x": "/" */
	}
	if (realpath(dir, real) == NULL ||
	    (size_t)snprintf(dir, sizeof(dir), "%s%s%s", real,
	    strcmp(real, "/") == 0 ? "" : "/", base) >= sizeof(dir))
		return NULL;
	if ((h = selabel_open(SELABEL_CTX_FILE, NULL, 0)) == NULL)
		return NULL;
	if (selabel_lookup(h, &con, dir, S_IFREG) != 0)
		con = NULL;
	selabel_close(h);
	return con;
}

/* Writes all of buf to fd; 0 or -1 (errno set). */
static int
write_all(int fd, const char *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = write(fd, buf + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

/*
 * Replaces file with ts: FILE.tmp-XXXXXX, the old file's mode, owner,
 * group and label (a new file: TOKEN_NEW_MODE, us, gid), fsync, rename,
 * fsync of the directory.  0 or 1 (logged; file untouched).
 */
static int
token_store(const char *file, const struct token_file *tf, gid_t gid,
    const struct token_set *ts)
{
	char tmp[PATH_MAX], dir[PATH_MAX], *buf = NULL, *con, *slash;
	size_t len;
	mode_t mode;
	uid_t uid;
	int fd = -1, dfd, r;

	if ((r = tokens_format(ts, &buf, &len)) != 0) {
		log_warnx("token: %s: %s", file, ag_strerror(r));
		return 1;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", file) >=
	    sizeof(tmp)) {
		log_warnx("token: %s: path too long", file);
		goto fail;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		log_warn("token: %s", tmp);
		goto fail;
	}
	mode = tf->tf_exists ? tf->tf_st.st_mode & 07777 : TOKEN_NEW_MODE;
	uid = tf->tf_exists ? tf->tf_st.st_uid : (uid_t)-1;
	gid = tf->tf_exists ? tf->tf_st.st_gid : gid;
	/* Owner first: fchown may clear the set-id bits of the mode. */
	if (fchown(fd, uid, gid) == -1) {
		log_warn("token: %s: cannot give the new file the owner %ld "
		    "and group %ld%s", file, uid == (uid_t)-1 ? (long)geteuid()
		    : (long)uid, (long)gid, tf->tf_exists ? " of the old one" :
		    " (--group names another)");
		goto fail_unlink;
	}
	if (fchmod(fd, mode) == -1) {
		log_warn("token: %s: fchmod", tmp);
		goto fail_unlink;
	}
	if ((con = token_label(file, tf)) != NULL) {
		if (fsetfilecon(fd, con) < 0) {
			log_warn("token: %s: cannot set the SELinux label %s",
			    tmp, con);
			freecon(con);
			goto fail_unlink;
		}
		freecon(con);
	}
	if (write_all(fd, buf, len) == -1 || fsync(fd) == -1) {
		log_warn("token: writing %s", tmp);
		goto fail_unlink;
	}
	r = close(fd);
	fd = -1;
	if (r == -1 || rename(tmp, file) == -1) {
		log_warn("token: replacing %s", file);
		goto fail_unlink;
	}
	/* The rename itself must survive a crash. */
	(void)snprintf(dir, sizeof(dir), "%s", file);
	if ((slash = strrchr(dir, '/')) == NULL)
		(void)snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(dfd) == -1) {
		log_warn("token: fsync %s", dir);
		if (dfd != -1)
			close(dfd);
		free(buf);
		return 1;
	}
	close(dfd);
	free(buf);
	return 0;
 fail_unlink:
	if (fd != -1)
		close(fd);
	(void)unlink(tmp);
 fail:
	free(buf);
	return 1;
}

static void
token_hint(const char *file)
{
	log_info("the running aiguardd reads %s again on SIGHUP "
	    "(systemctl reload aiguardd)", file);
}

/* ==== add, list, revoke ================================================ */

/* The entry's limits as "rate=10 burst=20", or "default". */
static void
token_limits_text(const struct token_entry *te, char *buf, size_t len)
{
	const struct {
		const char	*k;
		double		 v;
	} l[] = {
		{ "rate", te->te_rate },
		{ "burst", te->te_burst },
		{ "image_rate", te->te_image_rate },
		{ "image_burst", te->te_image_burst },
		{ "max_inflight", te->te_max_inflight },
	};
	char num[32], *p;
	size_t i, o = 0;
	int n;

	buf[0] = '\0';
	for (i = 0; i < sizeof(l) / sizeof(l[0]); i++) {
		if (l[i].v == 0)
			continue;
		(void)snprintf(num, sizeof(num), "%.6f", l[i].v);
		/* No trailing zeros: "2.5", "10". */
		p = num + strlen(num) - 1;
		while (*p == '0')
			*p-- = '\0';
		if (*p == '.')
			*p = '\0';
		n = snprintf(buf + o, len - o, "%s%s=%s", o ? " " : "",
		    l[i].k, num);
		if (n < 0 || (size_t)n >= len - o)
			break;
		o += (size_t)n;
	}
	if (o == 0)
		(void)snprintf(buf, len, "default");
}

static int
token_add(const struct token_args *a)
{
	char text[TOKEN_TEXT_LEN + 1], err[TOKEN_ERRLEN];
	char scopes[TOKENS_LINE_MAX], lim[256];
	struct token_entry te, *ne;
	struct token_file tf;
	struct token_set *ts;
	gid_t gid;
	size_t i;
	int lfd, r, rc = 1;

	memset(&te, 0, sizeof(te));
	te = a->ta_lim;
	if (tokens_scopes_parse(a->ta_scopes, &te, err, sizeof(err)) != 0) {
		log_warnx("token add: --scopes: %s", err);
		return 2;
	}
	if ((r = token_group(a->ta_group, &gid)) != 0)
		return r;
	(void)snprintf(te.te_name, sizeof(te.te_name), "%s", a->ta_name);
	te.te_kind = a->ta_cert ? TOKEN_CERT : TOKEN_BEARER;
	te.te_created = (int64_t)time(NULL);
	if ((lfd = token_lock(a->ta_file)) == -1)
		return 1;
	if (token_load(a->ta_file, 1, &tf) != 0)
		goto out;
	ts = tf.tf_set;
	if (tf.tf_exists && a->ta_group != NULL && gid != tf.tf_st.st_gid)
		log_warnx("token add: --group %s: %s exists, and keeps its "
		    "group (chgrp changes it)", a->ta_group, a->ta_file);
	for (i = 0; i < ts->ts_n; i++)
		if (strcmp(ts->ts_e[i].te_name, te.te_name) == 0) {
			log_warnx("token add: %s has an entry named %s "
			    "already (revoke it first to replace it)",
			    a->ta_file, te.te_name);
			goto out;
		}
	if (ts->ts_n >= TOKENS_MAX) {
		log_warnx("token add: %s has %d entries, the most a file "
		    "may hold", a->ta_file, TOKENS_MAX);
		goto out;
	}
	if (!a->ta_cert) {
		(void)tokens_init();
		if (tokens_generate(text, sizeof(text)) != 0) {
			log_warn("token add: getrandom");
			goto out;
		}
		tokens_hash(text, TOKEN_TEXT_LEN, te.te_hash);
	}
	if ((ne = reallocarray(ts->ts_e, ts->ts_n + 1, sizeof(*ne))) == NULL)
		fatalx("out of memory");
	ts->ts_e = ne;
	ts->ts_e[ts->ts_n++] = te;
	if (token_store(a->ta_file, &tf, gid, ts) != 0)
		goto out;
	tokens_scopes_format(&te, scopes, sizeof(scopes));
	token_limits_text(&te, lim, sizeof(lim));
	if (a->ta_cert)
		printf("added client certificate identity %s to %s (scopes "
		    "%s; limits %s):\na TLS client certificate with subject "
		    "CN %s, verified against server.tls_client_ca\n",
		    te.te_name, a->ta_file, scopes, lim, te.te_name);
	else
		printf("added token %s to %s (scopes %s; limits %s); the "
		    "token is shown once:\n%s\n", te.te_name, a->ta_file,
		    scopes, lim, text);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		log_warn("token add: stdout");
		if (!a->ta_cert)
			log_warnx("token add: the token was not printed: "
			    "revoke %s and add it again", te.te_name);
		goto out;
	}
	token_hint(a->ta_file);
	rc = 0;
 out:
	explicit_bzero(text, sizeof(text));
	tokens_free(tf.tf_set);
	close(lfd);
	return rc;
}

/* ISO 8601 UTC of t, "1970-01-01T00:00:00Z". */
static void
token_time(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(buf, len, "%lld", (long long)t);
}

static json_t *
token_json_limit(double v)
{
	return v == 0 ? json_null() : json_real(v);
}

static int
token_list_json(const struct token_set *ts)
{
	const struct token_entry *te;
	json_t *arr, *o, *sc;
	char when[64];
	size_t i;
	int k, r = 0;

	if ((arr = json_array()) == NULL)
		fatalx("out of memory");
	for (i = 0; i < ts->ts_n; i++) {
		te = &ts->ts_e[i];
		if ((sc = json_array()) == NULL)
			fatalx("out of memory");
		for (k = 0; k < 5; k++)
			if (te->te_scopes & (1u << k))
				json_array_append_new(sc, json_string(
				    tokens_category_name(1u << k)));
		for (k = 0; k < te->te_nmodels; k++) {
			char s[TOKEN_MODEL_MAX + 8];

			(void)snprintf(s, sizeof(s), "infer:%s",
			    te->te_models[k]);
			json_array_append_new(sc, json_string(s));
		}
		token_time(te->te_created, when, sizeof(when));
		o = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:s, "
		    "s:I}", "name", te->te_name, "kind",
		    te->te_kind == TOKEN_BEARER ? "token" : "cert",
		    "scopes", sc, "rate", token_json_limit(te->te_rate),
		    "burst", token_json_limit(te->te_burst),
		    "image_rate", token_json_limit(te->te_image_rate),
		    "image_burst", token_json_limit(te->te_image_burst),
		    "max_inflight", te->te_max_inflight == 0 ? json_null() :
		    json_integer(te->te_max_inflight),
		    "created", when, "created_unix",
		    (json_int_t)te->te_created);
		if (o == NULL || json_array_append_new(arr, o) != 0)
			fatalx("out of memory");
	}
	if (json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10))
	    != 0)
		r = -1;
	putchar('\n');
	json_decref(arr);
	return r;
}

static int
token_list(const struct token_args *a)
{
	const struct token_entry *te;
	struct token_file tf;
	char scopes[TOKENS_LINE_MAX], lim[256], when[64];
	size_t i, w = 4, ws = 6, n;
	int rc = 1;

	if (token_load(a->ta_file, 0, &tf) != 0)
		return 1;
	if (a->ta_json) {
		if (token_list_json(tf.tf_set) != 0)
			goto out;
	} else {
		for (i = 0; i < tf.tf_set->ts_n; i++) {
			te = &tf.tf_set->ts_e[i];
			if ((n = strlen(te->te_name)) > w)
				w = n;
			tokens_scopes_format(te, scopes, sizeof(scopes));
			if ((n = strlen(scopes)) > ws)
				ws = n;
		}
		printf("%-*s  %-5s  %-20s  %-*s  %s\n", (int)w, "NAME", "KIND",
		    "CREATED", (int)ws, "SCOPES", "LIMITS");
		for (i = 0; i < tf.tf_set->ts_n; i++) {
			te = &tf.tf_set->ts_e[i];
			tokens_scopes_format(te, scopes, sizeof(scopes));
			token_limits_text(te, lim, sizeof(lim));
			token_time(te->te_created, when, sizeof(when));
			printf("%-*s  %-5s  %-20s  %-*s  %s\n", (int)w,
			    te->te_name, te->te_kind == TOKEN_BEARER ?
			    "token" : "cert", when, (int)ws, scopes, lim);
		}
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		log_warn("token list: stdout");
		goto out;
	}
	rc = 0;
 out:
	tokens_free(tf.tf_set);
	return rc;
}

static int
token_revoke(const struct token_args *a)
{
	struct token_file tf;
	struct token_set *ts;
	enum token_kind kind;
	size_t i;
	int lfd, rc = 1;

	if ((lfd = token_lock(a->ta_file)) == -1)
		return 1;
	if (token_load(a->ta_file, 0, &tf) != 0)
		goto out;
	ts = tf.tf_set;
	for (i = 0; i < ts->ts_n; i++)
		if (strcmp(ts->ts_e[i].te_name, a->ta_name) == 0)
			break;
	if (i == ts->ts_n) {
		log_warnx("token revoke: %s has no entry named %s", a->ta_file,
		    a->ta_name);
		goto out;
	}
	kind = ts->ts_e[i].te_kind;
	memmove(&ts->ts_e[i], &ts->ts_e[i + 1],
	    (ts->ts_n - i - 1) * sizeof(ts->ts_e[0]));
	ts->ts_n--;
	if (token_store(a->ta_file, &tf, 0, ts) != 0)
		goto out;
	printf("revoked %s %s from %s\n", kind == TOKEN_BEARER ? "token" :
	    "client certificate identity", a->ta_name, a->ta_file);
	token_hint(a->ta_file);
	rc = 0;
 out:
	tokens_free(tf.tf_set);
	close(lfd);
	return rc;
}

int
cmd_token(int argc, char **argv)
{
	struct token_args a;
	int r;

	memset(&a, 0, sizeof(a));
	if (argc < 2) {
		token_usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		token_usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "add") == 0)
		a.ta_cmd = TOKEN_CMD_ADD;
	else if (strcmp(argv[1], "list") == 0)
		a.ta_cmd = TOKEN_CMD_LIST;
	else if (strcmp(argv[1], "revoke") == 0)
		a.ta_cmd = TOKEN_CMD_REVOKE;
	else {
		log_warnx("token: unknown command %s (add, list, revoke)",
		    argv[1]);
		token_usage(stderr);
		return 2;
	}
	if ((r = token_parse(argc - 1, argv + 1, &a)) != -1)
		return r;
	switch (a.ta_cmd) {
	case TOKEN_CMD_ADD:
		return token_add(&a);
	case TOKEN_CMD_LIST:
		return token_list(&a);
	default:
		return token_revoke(&a);
	}
}
