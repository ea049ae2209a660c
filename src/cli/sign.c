/* SPDX-License-Identifier: ISC */
/*
 * sign.c: OpenSSF Model Signing from the command line.
 *
 *   aiguard keygen [--out PREFIX]
 *   aiguard sign --key KEY [--cert CHAIN] [--ignore-paths P...]
 *                [--allow-symlinks] [--name NAME] [--shard-size N] MODEL_DIR
 *   aiguard verify [--key PUB | --ca BUNDLE] [--ignore-paths P...]
 *                  [--cert-validity now|signing-time] [--require-valid-now]
 *                  MODEL_DIR
 *
 * keygen writes PREFIX.key (0600) and PREFIX.pub, never over existing
 * files.  sign writes MODEL_DIR/model.sig atomically (a temporary file in
 * the directory, fsync, rename, fsync of the directory).  verify prints
 * one line and exits 0 only when the signature and every file check out;
 * otherwise 1, with the file or field at fault on stderr.  Usage errors
 * exit 2.
 *
 * --ignore-paths takes every following argument up to the next option,
 * and may be repeated.  Each path is relative to MODEL_DIR, or starts with
 * MODEL_DIR (as the reference CLI takes it, relative to the working
 * directory); it is reduced to a name relative to MODEL_DIR, and one that
 * leaves it is refused.  Should the list swallow MODEL_DIR itself (it
 * ends the command line), its last entry is taken as MODEL_DIR.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "common/ag_err.h"
#include "common/log.h"
#include "common/util.h"
#include "model/mfiles.h"
#include "model/model.h"
#include "model/msig.h"

#define SIGN_MAX_IGNORE		256
#define SIGN_DEFAULT_PREFIX	"aiguard-signing"
/* The user aiguardd runs as (policy/systemd/aiguardd.service). */
#define KEYGEN_DAEMON_USER	"aiguard"

/* ==== arguments ======================================================== */

enum {
	OPT_KEY = 1 << 0,
	OPT_CA = 1 << 1,
	OPT_CERT = 1 << 2,
	OPT_NAME = 1 << 3,
	OPT_SHARD = 1 << 4,
	OPT_OUT = 1 << 5,
	OPT_IGNORE = 1 << 6,
	OPT_LINKS = 1 << 7,
	OPT_HELP = 1 << 8,
	OPT_VALIDITY = 1 << 9,
	OPT_NOW = 1 << 10,
};

static const struct {
	const char	*name;
	int		 bit;
	int		 value;	/* 0 none, 1 one, 2 one or more */
} sign_opts[] = {
	{ "key", OPT_KEY, 1 },
	{ "ca", OPT_CA, 1 },
	{ "cert", OPT_CERT, 1 },
	{ "name", OPT_NAME, 1 },
	{ "shard-size", OPT_SHARD, 1 },
	{ "out", OPT_OUT, 1 },
	{ "ignore-paths", OPT_IGNORE, 2 },
	{ "allow-symlinks", OPT_LINKS, 0 },
	{ "cert-validity", OPT_VALIDITY, 1 },
	{ "require-valid-now", OPT_NOW, 0 },
	{ "help", OPT_HELP, 0 },
};

struct sargs {
	const char	*a_cmd;
	int		 a_seen;
	const char	*a_key, *a_ca, *a_cert, *a_name, *a_shard, *a_out;
	const char	*a_validity;
	const char	*a_dir;
	const char	*a_ignore[SIGN_MAX_IGNORE];
	size_t		 a_nignore;
	int		 a_ignore_tail;	/* the last list ended argv */
};

static const char **
sargs_slot(struct sargs *a, int bit)
{
	switch (bit) {
	case OPT_KEY:	return &a->a_key;
	case OPT_CA:	return &a->a_ca;
	case OPT_CERT:	return &a->a_cert;
	case OPT_NAME:	return &a->a_name;
	case OPT_SHARD:	return &a->a_shard;
	case OPT_VALIDITY: return &a->a_validity;
	default:	return &a->a_out;
	}
}

static int
sargs_ignore(struct sargs *a, const char *p)
{
	if (a->a_nignore >= SIGN_MAX_IGNORE) {
		log_warnx("%s: more than %d ignore paths", a->a_cmd,
		    SIGN_MAX_IGNORE);
		return 2;
	}
	a->a_ignore[a->a_nignore++] = p;
	return 0;
}

/* Option argv[*i] ("--name" or "--name=value"), allowed by the mask. */
static int
sargs_option(struct sargs *a, int allowed, int argc, char **argv, int *i)
{
	const char *arg = argv[*i] + 2, *eq;
	size_t n, k, nopts = sizeof(sign_opts) / sizeof(sign_opts[0]);
	int first = *i;

	if (strcmp(argv[*i], "-h") == 0)
		arg = "help";
	else if (argv[*i][1] != '-')
		arg = "";	/* no other short options */
	eq = strchr(arg, '=');
	n = eq ? (size_t)(eq - arg) : strlen(arg);
	for (k = 0; k < nopts; k++)
		if (strlen(sign_opts[k].name) == n &&
		    strncmp(sign_opts[k].name, arg, n) == 0)
			break;
	if (k == nopts || !(allowed & sign_opts[k].bit) ||
	    (eq != NULL && sign_opts[k].value == 0)) {
		log_warnx("%s: unknown option %s", a->a_cmd, argv[*i]);
		return 2;
	}
	a->a_seen |= sign_opts[k].bit;
	if (sign_opts[k].value == 0)
		return 0;
	if (sign_opts[k].value == 1) {
		if (eq == NULL && *i + 1 >= argc) {
			log_warnx("%s: --%s needs a value", a->a_cmd,
			    sign_opts[k].name);
			return 2;
		}
		*sargs_slot(a, sign_opts[k].bit) = eq ? eq + 1 : argv[++*i];
		return 0;
	}
	/* --ignore-paths: one or more, up to the next option. */
	if (eq != NULL && sargs_ignore(a, eq + 1) != 0)
		return 2;
	a->a_ignore_tail = 0;
	while (*i + 1 < argc && argv[*i + 1][0] != '-')
		if (sargs_ignore(a, argv[++*i]) != 0)
			return 2;
	if (eq == NULL && *i == first) {
		log_warnx("%s: --ignore-paths needs at least one path",
		    a->a_cmd);
		return 2;
	}
	a->a_ignore_tail = *i + 1 == argc;
	return 0;
}

/* Returns 0, 2 on a usage error, or -1 after --help. */
static int
sargs_parse(struct sargs *a, int allowed, int need_dir, int argc,
    char **argv)
{
	int i, r, opts_done = 0;

	for (i = 1; i < argc; i++) {
		if (!opts_done && strcmp(argv[i], "--") == 0) {
			opts_done = 1;
			continue;
		}
		if (!opts_done && argv[i][0] == '-' && argv[i][1] != '\0') {
			if ((r = sargs_option(a, allowed, argc, argv,
			    &i)) != 0)
				return r;
			if (a->a_seen & OPT_HELP)
				return -1;
			continue;
		}
		if (a->a_dir != NULL || !need_dir) {
			log_warnx("%s: unexpected argument %s", a->a_cmd,
			    argv[i]);
			return 2;
		}
		a->a_dir = argv[i];
	}
	/* "--ignore-paths a b MODEL_DIR": the list took MODEL_DIR. */
	if (need_dir && a->a_dir == NULL && a->a_ignore_tail &&
	    a->a_nignore >= 2)
		a->a_dir = a->a_ignore[--a->a_nignore];
	if (need_dir && a->a_dir == NULL) {
		log_warnx("%s: no MODEL_DIR given", a->a_cmd);
		return 2;
	}
	return 0;
}

/* ==== ignore paths ===================================================== */

/*
 * Lexical clean-up: no empty or "." components, no trailing '/'.  ".."
 * is kept (and refused later).  "" for the directory itself.
 */
static int
path_clean(const char *in, char *out, size_t len)
{
	const char *c = in, *e;
	size_t o = 0, n;

	if (*in == '/') {
		if (len < 2)
			return -1;
		out[o++] = '/';
	}
	for (; *c != '\0'; c = *e ? e + 1 : e) {
		e = strchrnul(c, '/');
		n = (size_t)(e - c);
		if (n == 0 || (n == 1 && c[0] == '.'))
			continue;
		if (o + n + 2 > len)
			return -1;
		if (o > 0 && out[o - 1] != '/')
			out[o++] = '/';
		memcpy(out + o, c, n);
		o += n;
	}
	out[o] = '\0';
	return 0;
}

/* p below prefix ("" is the current directory): what follows, or NULL. */
static const char *
path_below(const char *p, const char *prefix)
{
	size_t n = strlen(prefix);

	if (n == 0)
		return *p == '/' ? NULL : p;
	if (strcmp(prefix, "/") == 0)
		return *p == '/' ? p + 1 : NULL;
	if (strncmp(p, prefix, n) == 0 && p[n] == '/')
		return p + n + 1;
	return NULL;
}

/* One --ignore-paths entry as a name relative to dir, into out. */
static int
ignore_normalize(const char *dir, const char *p, char *out, size_t len)
{
	char cdir[PATH_MAX], cp[PATH_MAX], real[PATH_MAX];
	const char *rel = NULL;

	if (path_clean(dir, cdir, sizeof(cdir)) != 0 ||
	    path_clean(p, cp, sizeof(cp)) != 0)
		return -1;
	if (*cdir != '\0' && strcmp(cdir, "/") != 0)
		rel = path_below(cp, cdir);
	if (rel == NULL && *cp == '/' && realpath(dir, real) != NULL)
		rel = path_below(cp, real);
	if (rel == NULL && *cp != '/')
		rel = cp;
	if (rel == NULL || !mfiles_name_valid(rel) ||
	    (size_t)snprintf(out, len, "%s", rel) >= len)
		return -1;
	return 0;
}

/*
 * Replaces each ignore path by its name relative to MODEL_DIR; the names
 * live in *bufs (new, caller frees, also on failure).  0 or 2.
 */
static int
ignore_all(struct sargs *a, char **bufs)
{
	size_t i;

	if ((*bufs = calloc(a->a_nignore + 1, PATH_MAX)) == NULL)
		fatalx("out of memory");
	for (i = 0; i < a->a_nignore; i++) {
		if (ignore_normalize(a->a_dir, a->a_ignore[i],
		    *bufs + i * PATH_MAX, PATH_MAX) != 0) {
			log_warnx("%s: --ignore-paths %s: not a path inside %s",
			    a->a_cmd, a->a_ignore[i], a->a_dir);
			return 2;
		}
		a->a_ignore[i] = *bufs + i * PATH_MAX;
	}
	return 0;
}

/* ==== keygen =========================================================== */

static void
keygen_usage(FILE *fp)
{
	fprintf(fp, "usage: aiguard keygen [--out PREFIX]\n"
	    "  writes PREFIX.key (private, 0600) and PREFIX.pub (public), an "
	    "ECDSA P-256\n  pair; PREFIX defaults to \"" SIGN_DEFAULT_PREFIX
	    "\".  Existing files are not\n  overwritten.\n");
}

/*
 * Where aiguardd can read a file (docs/signing.md): below one of its own
 * directories (the SELinux policy lets aiguard_t read /etc/aiguard, keys
 * included, the model store /var/lib/aiguard and /run/aiguard; the
 * installed models are in /usr/share/aiguard), inside a model directory
 * (one that holds model.sig or config.json, here or above), or anywhere
 * when the key's owner, who runs keygen, is the daemon's user "aiguard".
 * dir is the directory the key goes to.  Writes the reason into why and
 * returns 1, else 0.
 */
static int
keygen_daemon_reads(const char *dir, char *why, size_t len)
{
	static const char *const daemon_dirs[] = { "/etc/aiguard",
	    "/var/lib/aiguard", "/run/aiguard", "/usr/share/aiguard" };
	char abs[PATH_MAX], raw[PATH_MAX], cwd[PATH_MAX], p[PATH_MAX + 16];
	struct passwd *pw;
	size_t i, n;
	char *slash;

	/* Not there yet (keygen then fails): the path as written. */
	if (realpath(dir, raw) == NULL) {
		if (*dir == '/' || getcwd(cwd, sizeof(cwd)) == NULL ||
		    (size_t)snprintf(raw, sizeof(raw), "%s/%s", cwd, dir) >=
		    sizeof(raw))
			(void)snprintf(raw, sizeof(raw), "%s", dir);
	}
	if (path_clean(raw, abs, sizeof(abs)) != 0)
		return 0;
	for (i = 0; i < sizeof(daemon_dirs) / sizeof(daemon_dirs[0]); i++) {
		n = strlen(daemon_dirs[i]);
		if (strncmp(abs, daemon_dirs[i], n) == 0 &&
		    (abs[n] == '\0' || abs[n] == '/')) {
			(void)snprintf(why, len, "%s is below %s, which "
			    "aiguardd may read", abs, daemon_dirs[i]);
			return 1;
		}
	}
	/* This directory and each above it: a model directory? */
	for (;;) {
		if ((size_t)snprintf(p, sizeof(p), "%s/" MSIG_FILE, abs) <
		    sizeof(p) && access(p, F_OK) == 0)
			break;
		if ((size_t)snprintf(p, sizeof(p), "%s/config.json", abs) <
		    sizeof(p) && access(p, F_OK) == 0)
			break;
		if ((slash = strrchr(abs, '/')) == NULL || slash == abs)
			goto user;
		*slash = '\0';
	}
	(void)snprintf(why, len, "%s is a model directory, which aiguardd "
	    "reads (and aiguard deploy copies)", abs);
	return 1;
 user:
	if ((pw = getpwnam(KEYGEN_DAEMON_USER)) != NULL &&
	    pw->pw_uid == geteuid()) {
		(void)snprintf(why, len, "you are the daemon's user \"%s\": "
		    "the key would be its file", KEYGEN_DAEMON_USER);
		return 1;
	}
	return 0;
}

/* Warns when the private key is to go where aiguardd can read it. */
static void
keygen_check_place(const char *priv)
{
	char dir[PATH_MAX], why[PATH_MAX + 128], *slash;

	(void)snprintf(dir, sizeof(dir), "%s", priv);
	if ((slash = strrchr(dir, '/')) == NULL)
		(void)snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (keygen_daemon_reads(dir, why, sizeof(why)))
		log_warnx("keygen: WARNING: the private key %s would be "
		    "readable by aiguardd: %s.  A compromised server could "
		    "then sign models itself.  Keep the private key on the "
		    "signing host, away from the server (only the .pub goes "
		    "to /etc/aiguard/keys); see docs/signing.md", priv, why);
}

int
cmd_keygen(int argc, char **argv)
{
	struct sargs a;
	char priv[PATH_MAX], pub[PATH_MAX], err[1024];
	const char *prefix;
	int r;

	memset(&a, 0, sizeof(a));
	a.a_cmd = "keygen";
	if ((r = sargs_parse(&a, OPT_OUT | OPT_HELP, 0, argc, argv)) != 0) {
		keygen_usage(r < 0 ? stdout : stderr);
		return r < 0 ? 0 : r;
	}
	prefix = a.a_out != NULL ? a.a_out : SIGN_DEFAULT_PREFIX;
	if (*prefix == '\0' ||
	    (size_t)snprintf(priv, sizeof(priv), "%s.key", prefix) >=
	    sizeof(priv) ||
	    (size_t)snprintf(pub, sizeof(pub), "%s.pub", prefix) >=
	    sizeof(pub)) {
		log_warnx("keygen: --out: bad prefix");
		return 2;
	}
	keygen_check_place(priv);
	msig_init();
	if (msig_keygen(priv, pub, err, sizeof(err)) != 0) {
		log_warnx("keygen: %s", err);
		return 1;
	}
	printf("%s: private key (keep it secret)\n%s: public key\n", priv,
	    pub);
	return 0;
}

/* ==== sign ============================================================= */

static void
sign_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: aiguard sign --key KEY [--cert CHAIN] "
	    "[--ignore-paths PATH...]\n"
	    "                    [--allow-symlinks] [--name NAME] "
	    "[--shard-size N] MODEL_DIR\n"
	    "  --key KEY         PEM private key (ECDSA P-256/384/521)\n"
	    "  --cert CHAIN      PEM certificates, leaf (holding KEY) first: "
	    "certificate\n"
	    "                    method; without it the bundle names the key "
	    "by its hint\n"
	    "  --ignore-paths    files or directories to leave out (recorded "
	    "as signed)\n"
	    "  --allow-symlinks  follow symbolic links to regular files\n"
	    "  --name NAME       model name in the statement (default: the "
	    "directory's)\n"
	    "  --shard-size N    \"shards\" method: hash N-byte pieces\n"
	    "  Writes MODEL_DIR/" MSIG_FILE ".  --ignore-paths takes the "
	    "arguments up to the\n  next option: give MODEL_DIR first, or "
	    "last.\n");
}

/* Writes the bundle as dir/model.sig: temp file, fsync, rename, fsync. */
static int
sign_write(const char *dir, const char *buf, size_t len)
{
	char tmp[PATH_MAX], dst[PATH_MAX];
	size_t off = 0;
	ssize_t n;
	int fd, dfd, ok;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir,
	    MSIG_FILE) >= sizeof(tmp) ||
	    (size_t)snprintf(dst, sizeof(dst), "%s/%s", dir, MSIG_FILE) >=
	    sizeof(dst)) {
		log_warnx("sign: %s: path too long", dir);
		return -1;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		log_warn("sign: %s", tmp);
		return -1;
	}
	while (off < len) {
		if ((n = write(fd, buf + off, len - off)) == -1 &&
		    errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	ok = off == len && fchmod(fd, 0644) == 0 && fsync(fd) == 0;
	if (close(fd) != 0 || !ok || rename(tmp, dst) != 0) {
		log_warn("sign: writing %s", dst);
		(void)unlink(tmp);
		return -1;
	}
	/* The rename itself must survive a crash. */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(dfd) != 0) {
		log_warn("sign: fsync %s", dir);
		if (dfd != -1)
			close(dfd);
		return -1;
	}
	close(dfd);
	return 0;
}

/* msig_sign()'s report of a link out of the model: warn, loudly. */
static void
sign_link_outside(void *arg, const char *name, const char *target)
{
	const char *dir = arg;

	log_warnx("sign: WARNING: %s/%s is a symbolic link to %s, outside "
	    "the model directory: it is signed as it reads now, and whoever "
	    "can change %s changes the model", dir, name, target, target);
}

/* --name, else the last component of the real path of MODEL_DIR. */
static const char *
sign_name(const struct sargs *a, char *buf, size_t len)
{
	char real[PATH_MAX], *s;

	if (a->a_name != NULL)
		return a->a_name;
	if (realpath(a->a_dir, real) == NULL)
		return NULL;	/* msig_sign() then uses the path given */
	s = strrchr(real, '/');
	s = s != NULL && s[1] != '\0' ? s + 1 : real;
	if (strlen(s) >= len)
		return NULL;
	memcpy(buf, s, strlen(s) + 1);
	return buf;
}

int
cmd_sign(int argc, char **argv)
{
	struct msig_sign_opts o;
	struct mfiles *mf = NULL;
	struct sargs a;
	char err[1024], name[NAME_MAX + 1], *out = NULL, *bufs = NULL;
	size_t outlen = 0;
	long long ss = 0;
	int r;

	memset(&a, 0, sizeof(a));
	memset(&o, 0, sizeof(o));
	a.a_cmd = "sign";
	if ((r = sargs_parse(&a, OPT_KEY | OPT_CERT | OPT_IGNORE | OPT_LINKS |
	    OPT_NAME | OPT_SHARD | OPT_HELP, 1, argc, argv)) != 0) {
		sign_usage(r < 0 ? stdout : stderr);
		return r < 0 ? 0 : r;
	}
	if (a.a_key == NULL) {
		log_warnx("sign: --key KEY is required");
		sign_usage(stderr);
		return 2;
	}
	if (a.a_shard != NULL) {
		char *end;

		errno = 0;
		ss = strtoll(a.a_shard, &end, 10);
		if (errno != 0 || *end != '\0' || end == a.a_shard ||
		    ss < 1 || (unsigned long long)ss > (1ULL << 53)) {
			log_warnx("sign: --shard-size: expected 1 to 2^53, "
			    "got %s", a.a_shard);
			return 2;
		}
	}
	if ((r = ignore_all(&a, &bufs)) != 0) {
		free(bufs);
		return r;
	}
	o.model_name = sign_name(&a, name, sizeof(name));
	o.ignore = a.a_ignore;
	o.nignore = a.a_nignore;
	o.allow_symlinks = (a.a_seen & OPT_LINKS) != 0;
	o.shard_size = (uint64_t)ss;
	o.chain_path = a.a_cert;
	o.link_outside = sign_link_outside;
	o.link_arg = (void *)a.a_dir;
	msig_init();
	r = mfiles_open(a.a_dir, &mf, err, sizeof(err));
	if (r == 0)
		r = msig_sign(mf, a.a_key, &o, &out, &outlen, err, sizeof(err));
	mfiles_close(mf);
	free(bufs);
	if (r != 0) {
		log_warnx("sign: %s", err);
		return 1;
	}
	r = sign_write(a.a_dir, out, outlen);
	free(out);
	if (r != 0)
		return 1;
	printf("%s: signed (%s/%s)\n", a.a_dir, a.a_dir, MSIG_FILE);
	return 0;
}

/* ==== verify =========================================================== */

/*
 * --cert-validity MODE and --require-valid-now into *v (MSIG_VALID_NOW
 * unless asked).  0, or 2 on a usage error.
 */
static int
sargs_validity(const struct sargs *a, enum msig_validity *v)
{
	*v = MSIG_VALID_NOW;
	if (a->a_validity == NULL)
		return 0;
	if (strcmp(a->a_validity, "signing-time") == 0)
		*v = MSIG_VALID_SIGNING_TIME;
	else if (strcmp(a->a_validity, "now") != 0) {
		log_warnx("%s: --cert-validity: now or signing-time, not %s",
		    a->a_cmd, a->a_validity);
		return 2;
	}
	if (*v != MSIG_VALID_NOW && (a->a_seen & OPT_NOW)) {
		log_warnx("%s: --require-valid-now and --cert-validity %s "
		    "disagree", a->a_cmd, a->a_validity);
		return 2;
	}
	return 0;
}

static void
verify_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: aiguard verify [--key PUB | --ca BUNDLE] "
	    "[--ignore-paths PATH...]\n"
	    "                      [--cert-validity now|signing-time] "
	    "[--require-valid-now] MODEL_DIR\n"
	    "  --key PUB       PEM public key the model must be signed with\n"
	    "  --ca BUNDLE     PEM CA certificates, each trusted: certificate "
	    "method\n"
	    "  --ignore-paths  more files or directories to leave out\n"
	    "  --cert-validity now|signing-time\n"
	    "                  when the certificate chain must be valid: now "
	    "(default),\n"
	    "                  or at the leaf's notBefore (the reference "
	    "tool's check)\n"
	    "  --require-valid-now  the same as --cert-validity now\n"
	    "  Without --key or --ca, the build tree's key (keys/"
	    MODEL_BUILD_KEY ").\n"
	    "  Exit status 0 only when MODEL_DIR verifies.  --ignore-paths "
	    "takes the\n  arguments up to the next option: give MODEL_DIR "
	    "first, or last.\n");
}

int
cmd_verify(int argc, char **argv)
{
	struct msig_trust *t = NULL;
	struct msig_result res;
	struct mfiles *mf = NULL;
	struct sargs a;
	enum msig_validity v;
	char err[1024], defkey[PATH_MAX], *bufs = NULL;
	int r;

	memset(&a, 0, sizeof(a));
	a.a_cmd = "verify";
	if ((r = sargs_parse(&a, OPT_KEY | OPT_CA | OPT_IGNORE | OPT_VALIDITY |
	    OPT_NOW | OPT_HELP, 1, argc, argv)) != 0) {
		verify_usage(r < 0 ? stdout : stderr);
		return r < 0 ? 0 : r;
	}
	if ((r = sargs_validity(&a, &v)) != 0)
		return r;
	if (a.a_key != NULL && a.a_ca != NULL) {
		log_warnx("verify: give --key or --ca, not both");
		return 2;
	}
	if (a.a_key == NULL && a.a_ca == NULL) {
		if (model_default_key(defkey, sizeof(defkey)) != 0) {
			log_warnx("verify: give --key PUB or --ca BUNDLE (no "
			    "build key keys/%s found)", MODEL_BUILD_KEY);
			verify_usage(stderr);
			return 2;
		}
		a.a_key = defkey;
	}
	if ((r = ignore_all(&a, &bufs)) != 0) {
		free(bufs);
		return r;
	}
	msig_init();
	r = a.a_key != NULL ? msig_trust_key(a.a_key, &t, err, sizeof(err)) :
	    msig_trust_ca(a.a_ca, &t, err, sizeof(err));
	if (r == 0) {
		msig_trust_set_validity(t, v);
		r = mfiles_open(a.a_dir, &mf, err, sizeof(err));
	}
	if (r == 0)
		r = msig_verify(mf, t, a.a_ignore, a.a_nignore, &res, err,
		    sizeof(err));
	mfiles_close(mf);
	msig_trust_free(t);
	free(bufs);
	if (r != 0) {
		log_warnx("verify: %s", err);
		return 1;
	}
	if (res.mr_cert_note[0] != '\0')
		log_warnx("verify: WARNING: %s", res.mr_cert_note);
	printf("%s: verified (%zu files, digest %s, signer %s)\n", a.a_dir,
	    res.mr_files, res.mr_digest, res.mr_signer);
	return 0;
}
