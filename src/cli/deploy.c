/* SPDX-License-Identifier: ISC */
/*
 * deploy.c: aiguard deploy, aiguard rollback and aiguard models: the
 * versioned model store (model/store.h) from the command line.
 *
 *   aiguard deploy [--key PUB | --ca BUNDLE] [--store DIR] [--keep N]
 *       [--group G | --config FILE] [--ignore-paths P]...
 *       [--pid-file FILE | --no-reload] SRC_DIR NAME
 *   aiguard rollback [--key PUB | --ca BUNDLE] [--store DIR]
 *       [--group G | --config FILE] [--ignore-paths P]...
 *       [--pid-file FILE | --no-reload] NAME
 *   aiguard models [--store DIR] [--log] [NAME]
 *
 * What a deploy writes is 0640 (files) and 0750 (directories), with the
 * group --group names; without it, the group the daemon runs as by its
 * configuration (--config, else DEPLOY_DAEMON_CONFIG when present:
 * sandbox.group, else sandbox.user's group), else the group of the user
 * "aiguard" (the systemd unit's, DEPLOY_DAEMON_USER) when there is one,
 * else the store directory's, else the deploying user's own: readable by
 * the daemon, by nobody else.  models --log
 * prints the store's audit log (store.h).
 *
 * Without --key or --ca the build tree's key is used when the binary runs
 * from a build tree (model_default_key()); an installed binary must be
 * told what to trust.  After a switch, the running aiguardd is asked to
 * reload (SIGHUP), found by its pid file and checked by name first, so a
 * stale pid file never gets another process signalled.
 *
 * Exit codes: 0 done, 1 an error (the message names the file and step),
 * 2 a usage error.
 */
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "common/ag_err.h"
#include "common/config.h"
#include "common/log.h"
#include "common/util.h"
#include "model/mfiles.h"
#include "model/model.h"
#include "model/msig.h"
#include "model/store.h"

#define DEPLOY_PID_FILE		"/run/aiguard/aiguardd.pid"
#define DEPLOY_DAEMON_COMM	"aiguardd"
#define DEPLOY_DAEMON_USER	"aiguard"
/* The daemon's configuration, read (when present) for its user and group. */
#define DEPLOY_DAEMON_CONFIG	"/etc/aiguard/aiguardd.conf"
#define DEPLOY_MAX_IGNORE	256
#define DEPLOY_ERRLEN		1024

struct deploy_args {
	const char	*da_key;
	const char	*da_ca;
	const char	*da_store;
	const char	*da_pidfile;
	const char	*da_group;	/* --group; NULL: the default */
	const char	*da_config;	/* --config; NULL: the default's */
	int		 da_log;	/* models --log */
	int		 da_no_reload;
	int		 da_pid_given;
	long		 da_keep;
	const char	*da_ignore[DEPLOY_MAX_IGNORE];
	size_t		 da_nignore;
};

enum deploy_cmd {
	DEPLOY_CMD_DEPLOY,
	DEPLOY_CMD_ROLLBACK,
	DEPLOY_CMD_MODELS,
};

static void
deploy_usage(enum deploy_cmd cmd, FILE *fp)
{
	switch (cmd) {
	case DEPLOY_CMD_DEPLOY:
		fprintf(fp, "usage: aiguard deploy [--key PUB | --ca BUNDLE] "
		    "[--store DIR] [--keep N]\n"
		    "           [--group G | --config FILE] [--ignore-paths "
		    "P]...\n"
		    "           [--pid-file FILE | --no-reload] SRC_DIR NAME\n");
		break;
	case DEPLOY_CMD_ROLLBACK:
		fprintf(fp, "usage: aiguard rollback [--key PUB | --ca BUNDLE] "
		    "[--store DIR]\n"
		    "           [--group G | --config FILE] [--ignore-paths "
		    "P]...\n"
		    "           [--pid-file FILE | --no-reload] NAME\n");
		break;
	case DEPLOY_CMD_MODELS:
		fprintf(fp, "usage: aiguard models [--store DIR] [--log] "
		    "[NAME]\n"
		    "  prints \"NAME VERSION\" per version, \"current\" after "
		    "the one served;\n"
		    "  --log: the store's audit log instead (one line per "
		    "deploy and rollback)\n");
		break;
	}
	if (cmd == DEPLOY_CMD_MODELS)
		return;
	fprintf(fp,
	    "  --key PUB          trust this ECDSA public key (PEM)\n"
	    "  --ca BUNDLE        trust certificate chains to these CAs (PEM)\n"
	    "                     (neither: the build tree's key, if any)\n"
	    "  --store DIR        the model store (default %s)\n",
	    STORE_DEFAULT_DIR);
	if (cmd == DEPLOY_CMD_DEPLOY)
		fprintf(fp, "  --keep N           versions older than the new "
		    "one to keep (default %d)\n", STORE_KEEP_DEFAULT);
	fprintf(fp,
	    "  --group G          the group (name or number) of what is "
	    "written: files 0640,\n"
	    "                     directories 0750 (default: the daemon's "
	    "group by its\n"
	    "                     configuration, else user %s's group, else "
	    "the store\n"
	    "                     directory's, else yours)\n"
	    "  --config FILE      the daemon's configuration, for its "
	    "sandbox.group or\n"
	    "                     sandbox.user (default %s, if present)\n",
	    DEPLOY_DAEMON_USER, DEPLOY_DAEMON_CONFIG);
	fprintf(fp,
	    "  --ignore-paths P   one more path in the model that "
	    "verification skips\n"
	    "                     (relative; one per option, repeat it)\n"
	    "  --pid-file FILE    aiguardd's pid file, for the reload "
	    "(default %s)\n"
	    "  --no-reload        do not ask aiguardd to reload\n",
	    DEPLOY_PID_FILE);
}

/*
 * Parses the options common to the three commands.  Returns -1 to go on,
 * or the exit status (0 for --help, 2 for a usage error).
 */
static int
deploy_parse(enum deploy_cmd cmd, int argc, char **argv,
    struct deploy_args *a)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "ca", required_argument, NULL, 'c' },
		{ "store", required_argument, NULL, 's' },
		{ "keep", required_argument, NULL, 'n' },
		{ "ignore-paths", required_argument, NULL, 'i' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "no-reload", no_argument, NULL, 'R' },
		{ "group", required_argument, NULL, 'g' },
		{ "config", required_argument, NULL, 'C' },
		{ "log", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(a, 0, sizeof(*a));
	a->da_store = STORE_DEFAULT_DIR;
	a->da_pidfile = DEPLOY_PID_FILE;
	a->da_keep = STORE_KEEP_DEFAULT;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		/* models takes --store and --log; only models takes --log. */
		if ((cmd == DEPLOY_CMD_MODELS && ch != 's' && ch != 'h' &&
		    ch != 'L') || (cmd != DEPLOY_CMD_MODELS && ch == 'L'))
			ch = '?';
		switch (ch) {
		case 'k':
			a->da_key = optarg;
			break;
		case 'c':
			a->da_ca = optarg;
			break;
		case 's':
			if (*optarg == '\0') {
				log_warnx("--store: empty path");
				return 2;
			}
			a->da_store = optarg;
			break;
		case 'n':
			if (cmd != DEPLOY_CMD_DEPLOY) {
				deploy_usage(cmd, stderr);
				return 2;
			}
			if (ag_parse_long(optarg, 0, STORE_MAX_VERSIONS,
			    &a->da_keep) != 0) {
				log_warnx("--keep: expected 0..%d, got %s",
				    STORE_MAX_VERSIONS, optarg);
				return 2;
			}
			break;
		case 'i':
			if (a->da_nignore >= DEPLOY_MAX_IGNORE) {
				log_warnx("--ignore-paths: more than %d",
				    DEPLOY_MAX_IGNORE);
				return 2;
			}
			a->da_ignore[a->da_nignore++] = optarg;
			break;
		case 'p':
			a->da_pidfile = optarg;
			a->da_pid_given = 1;
			break;
		case 'R':
			a->da_no_reload = 1;
			break;
		case 'g':
			if (*optarg == '\0') {
				log_warnx("--group: empty name");
				return 2;
			}
			a->da_group = optarg;
			break;
		case 'C':
			if (*optarg == '\0') {
				log_warnx("--config: empty path");
				return 2;
			}
			a->da_config = optarg;
			break;
		case 'L':
			a->da_log = 1;
			break;
		case 'h':
			deploy_usage(cmd, stdout);
			return 0;
		default:
			deploy_usage(cmd, stderr);
			return 2;
		}
	}
	if (a->da_key != NULL && a->da_ca != NULL) {
		log_warnx("--key and --ca: give one of them");
		return 2;
	}
	if (a->da_group != NULL && a->da_config != NULL) {
		log_warnx("--group and --config: give one of them");
		return 2;
	}
	if (a->da_no_reload && a->da_pid_given) {
		log_warnx("--pid-file and --no-reload: give one of them");
		return 2;
	}
	return -1;
}

/*
 * The ignore paths as names relative to the model directory, as
 * msig_verify() takes them: "SRC_DIR/x" (the path from here, as the
 * reference CLI takes it) becomes "x".  src is NULL for a rollback.
 * Returns 0, or 2 (a usage error) for a path outside the directory.
 */
static int
deploy_ignore_relative(struct deploy_args *a, const char *src)
{
	const char *p;
	size_t i, n = src != NULL ? strlen(src) : 0;

	while (n > 1 && src[n - 1] == '/')
		n--;
	for (i = 0; i < a->da_nignore; i++) {
		p = a->da_ignore[i];
		if (n > 0 && strncmp(p, src, n) == 0 && p[n] == '/')
			p += n + 1;
		if (!mfiles_name_valid(p)) {
			log_warnx("--ignore-paths %s: not a relative path "
			    "inside the model directory", a->da_ignore[i]);
			return 2;
		}
		a->da_ignore[i] = p;
	}
	return 0;
}

/*
 * The group the daemon runs as by its configuration: sandbox.group, else
 * sandbox.user's primary group.  Returns 0 with *gid set, -1 when there is
 * nothing to go by (no file at the default path, or a configuration that
 * keeps the starting user), or 2 for a file given with --config that
 * cannot be used, or a user or group it names that does not exist here
 * (the daemon would not start either).
 */
static int
deploy_group_config(const struct deploy_args *a, gid_t *gid)
{
	const char *path = a->da_config ? a->da_config : DEPLOY_DAEMON_CONFIG;
	struct ag_config cf;
	struct passwd *pw;
	struct group *gr;
	char err[512];

	if (a->da_config == NULL && access(path, F_OK) != 0)
		return -1;
	config_defaults(&cf);
	if (config_load_file(&cf, path, err, sizeof(err)) != 0) {
		if (a->da_config != NULL) {
			log_warnx("--config: %s", err);
			return 2;
		}
		log_warnx("%s (not used for the group)", err);
		return -1;
	}
	if (cf.cf_sandbox_group[0] != '\0') {
		if ((gr = getgrnam(cf.cf_sandbox_group)) == NULL) {
			log_warnx("%s: sandbox.group %s: no such group; give "
			    "--group", path, cf.cf_sandbox_group);
			return 2;
		}
		*gid = gr->gr_gid;
		return 0;
	}
	if (cf.cf_sandbox_user[0] != '\0') {
		if ((pw = getpwnam(cf.cf_sandbox_user)) == NULL) {
			log_warnx("%s: sandbox.user %s: no such user; give "
			    "--group", path, cf.cf_sandbox_user);
			return 2;
		}
		*gid = pw->pw_gid;
		return 0;
	}
	return -1;
}

/*
 * The group of what the deploy writes: --group (a name, or a number that
 * names no group), else the daemon's by its configuration
 * (deploy_group_config), else the group of DEPLOY_DAEMON_USER, else the store
 * directory's when it exists (the one the store was set up with: also a
 * systemd dynamic group, which has no name while the service is down),
 * else ours.  Returns 0, or 2 (a usage error) for a group that does not
 * exist.
 */
static int
deploy_group(const struct deploy_args *a, gid_t *gid)
{
	struct passwd *pw;
	struct group *gr;
	struct stat st;
	long n;
	int r;

	if (a->da_group != NULL) {
		if ((gr = getgrnam(a->da_group)) != NULL) {
			*gid = gr->gr_gid;
			return 0;
		}
		if (ag_parse_long(a->da_group, 0, INT_MAX, &n) != 0) {
			log_warnx("--group %s: no such group", a->da_group);
			return 2;
		}
		*gid = (gid_t)n;
		return 0;
	}
	if ((r = deploy_group_config(a, gid)) != -1)
		return r;
	if ((pw = getpwnam(DEPLOY_DAEMON_USER)) != NULL) {
		*gid = pw->pw_gid;
		return 0;
	}
	if (stat(a->da_store, &st) == 0 && S_ISDIR(st.st_mode)) {
		*gid = st.st_gid;
		return 0;
	}
	*gid = getegid();
	return 0;
}

/* The group's name for messages, or its number. */
static void
deploy_group_name(gid_t gid, char *buf, size_t len)
{
	struct group *gr;

	if ((gr = getgrgid(gid)) != NULL && strlen(gr->gr_name) < 64)
		snprintf(buf, len, "%s", gr->gr_name);
	else
		snprintf(buf, len, "%lu", (unsigned long)gid);
}

/* Loads what to trust; *t is new.  Returns 0, or the exit status. */
static int
deploy_trust(const struct deploy_args *a, struct msig_trust **t)
{
	char path[PATH_MAX], err[DEPLOY_ERRLEN];
	const char *key = a->da_key;
	int r;

	*t = NULL;
	msig_init();
	if (a->da_ca != NULL)
		r = msig_trust_ca(a->da_ca, t, err, sizeof(err));
	else {
		if (key == NULL) {
			if (model_default_key(path, sizeof(path)) != 0) {
				log_warnx("no --key or --ca given, and no "
				    "build key next to this binary: say "
				    "what to trust");
				return 2;
			}
			log_info("no --key or --ca: trusting the build key %s",
			    path);
			key = path;
		}
		r = msig_trust_key(key, t, err, sizeof(err));
	}
	if (r != 0) {
		log_warnx("%s", err);
		return 1;
	}
	return 0;
}

/* ==== Asking aiguardd to reload ======================================= */

static void
deploy_no_daemon(const char *pidfile, const char *why)
{
	printf("no running aiguardd found (%s%s%s); the new version is served "
	    "at its next start or reload\n", pidfile, *why ? ": " : "", why);
}

/* pidfd_open(2), or -1 when the kernel or headers lack it. */
static int
deploy_pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	errno = ENOSYS;
	return -1;
#endif
}

/* SIGHUP through the pidfd when there is one, else by pid. */
static int
deploy_signal(int pidfd, pid_t pid)
{
#ifdef SYS_pidfd_send_signal
	if (pidfd != -1)
		return (int)syscall(SYS_pidfd_send_signal, pidfd, SIGHUP,
		    NULL, 0);
#endif
	return kill(pid, SIGHUP);
}

/*
 * Sends SIGHUP to the aiguardd named by pidfile.  A missing pid file, or
 * one naming a process that is gone or is not aiguardd, means no daemon
 * runs: said on stdout, and not an error.  Returns 0 or 1 (an error).
 *
 * The process is pinned with a pidfd before its name is read, and the
 * signal goes through that pidfd: if the process exits and its pid is
 * reused in between, the signal fails (ESRCH) instead of reaching the
 * newcomer.
 */
static int
deploy_reload(const char *pidfile)
{
	char err[DEPLOY_ERRLEN], why[128];
	long pid;
	int pidfd = -1, r, ret = 1;

	if ((r = ag_pidfile_read(pidfile, &pid, err, sizeof(err))) != 0) {
		if (r == AG_ERR_NOT_FOUND) {
			deploy_no_daemon(pidfile, "");
			return 0;
		}
		log_warnx("reload: %s", err);
		return 1;
	}
	if ((pidfd = deploy_pidfd_open((pid_t)pid)) == -1 && errno == ESRCH) {
		snprintf(why, sizeof(why), "process %ld is gone", pid);
		deploy_no_daemon(pidfile, why);
		ret = 0;
		goto out;
	}
	if ((r = ag_proc_comm_is(pid, DEPLOY_DAEMON_COMM)) == -1) {
		if (errno == ENOENT || errno == ESRCH) {
			snprintf(why, sizeof(why), "process %ld is gone", pid);
			deploy_no_daemon(pidfile, why);
			ret = 0;
		} else
			log_warn("reload: /proc/%ld/comm", pid);
		goto out;
	}
	if (r == 0) {
		snprintf(why, sizeof(why), "process %ld is not %s", pid,
		    DEPLOY_DAEMON_COMM);
		deploy_no_daemon(pidfile, why);
		ret = 0;
		goto out;
	}
	if (deploy_signal(pidfd, (pid_t)pid) == -1) {
		if (errno == ESRCH) {
			snprintf(why, sizeof(why), "process %ld is gone", pid);
			deploy_no_daemon(pidfile, why);
			ret = 0;
		} else
			log_warn("reload: SIGHUP to %s (pid %ld)",
			    DEPLOY_DAEMON_COMM, pid);
		goto out;
	}
	printf("reload requested: SIGHUP sent to %s (pid %ld)\n",
	    DEPLOY_DAEMON_COMM, pid);
	ret = 0;
 out:
	if (pidfd != -1)
		close(pidfd);
	return ret;
}

/* ==== The commands ===================================================== */

int
cmd_deploy(int argc, char **argv)
{
	struct deploy_args a;
	struct msig_trust *trust = NULL;
	struct store_result res;
	char err[DEPLOY_ERRLEN], gname[64];
	const char *src, *name;
	gid_t gid;
	int ret;

	if ((ret = deploy_parse(DEPLOY_CMD_DEPLOY, argc, argv, &a)) != -1)
		return ret;
	if (argc - optind != 2) {
		deploy_usage(DEPLOY_CMD_DEPLOY, stderr);
		return 2;
	}
	src = argv[optind];
	name = argv[optind + 1];
	if (!store_name_valid(name)) {
		log_warnx("bad model name \"%s\": want [A-Za-z0-9]"
		    "[A-Za-z0-9._-]*, at most %d bytes", name, STORE_NAME_MAX);
		return 2;
	}
	if ((ret = deploy_ignore_relative(&a, src)) != 0 ||
	    (ret = deploy_group(&a, &gid)) != 0 ||
	    (ret = deploy_trust(&a, &trust)) != 0)
		return ret;
	if (store_deploy(a.da_store, name, src, trust, a.da_ignore,
	    a.da_nignore, (unsigned int)a.da_keep, gid, &res, err,
	    sizeof(err)) != 0) {
		log_warnx("%s", err);
		msig_trust_free(trust);
		return 1;
	}
	msig_trust_free(trust);
	printf("%s: version %u deployed (digest %s, signer %s); current -> "
	    "%u\n", name, res.sr_version, res.sr_sig.mr_digest,
	    res.sr_sig.mr_signer, res.sr_version);
	deploy_group_name(gid, gname, sizeof(gname));
	printf("%s: files 0640, directories 0750, group %s\n", name, gname);
	if (res.sr_previous != 0)
		printf("%s: replaced version %u; %zu old version%s pruned\n",
		    name, res.sr_previous, res.sr_pruned,
		    res.sr_pruned == 1 ? "" : "s");
	if (a.da_no_reload) {
		printf("reload not requested (--no-reload)\n");
		return 0;
	}
	return deploy_reload(a.da_pidfile);
}

int
cmd_rollback(int argc, char **argv)
{
	struct deploy_args a;
	struct msig_trust *trust = NULL;
	struct store_result res;
	char err[DEPLOY_ERRLEN];
	const char *name;
	gid_t gid;
	int ret;

	if ((ret = deploy_parse(DEPLOY_CMD_ROLLBACK, argc, argv, &a)) != -1)
		return ret;
	if (argc - optind != 1) {
		deploy_usage(DEPLOY_CMD_ROLLBACK, stderr);
		return 2;
	}
	name = argv[optind];
	if (!store_name_valid(name)) {
		log_warnx("bad model name \"%s\"", name);
		return 2;
	}
	if ((ret = deploy_ignore_relative(&a, NULL)) != 0 ||
	    (ret = deploy_group(&a, &gid)) != 0 ||
	    (ret = deploy_trust(&a, &trust)) != 0)
		return ret;
	if (store_rollback(a.da_store, name, trust, a.da_ignore, a.da_nignore,
	    gid, &res, err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		msig_trust_free(trust);
		return 1;
	}
	msig_trust_free(trust);
	printf("%s: rolled back from version %u to %u (digest %s, signer "
	    "%s); current -> %u\n", name, res.sr_previous, res.sr_version,
	    res.sr_sig.mr_digest, res.sr_sig.mr_signer, res.sr_version);
	if (a.da_no_reload) {
		printf("reload not requested (--no-reload)\n");
		return 0;
	}
	return deploy_reload(a.da_pidfile);
}

static int
deploy_cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Prints "NAME V [current]" lines for one name.  Returns 0 or 1. */
static int
deploy_list_one(const char *store, const char *name)
{
	struct store_list l;
	char err[DEPLOY_ERRLEN];
	size_t i;

	if (store_list(store, name, &l, err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		return 1;
	}
	for (i = 0; i < l.sl_n; i++)
		printf("%s %u%s\n", name, l.sl_versions[i],
		    l.sl_versions[i] == l.sl_current ? " current" : "");
	if (l.sl_current != 0 && l.sl_n == 0)
		printf("%s %u current (missing)\n", name, l.sl_current);
	store_list_free(&l);
	return 0;
}

int
cmd_models(int argc, char **argv)
{
	struct deploy_args a;
	struct dirent *de;
	struct stat st;
	char **names = NULL, **nn;
	size_t n = 0, cap = 0, i;
	DIR *d;
	int ret;

	if ((ret = deploy_parse(DEPLOY_CMD_MODELS, argc, argv, &a)) != -1)
		return ret;
	if (argc - optind > 1) {
		deploy_usage(DEPLOY_CMD_MODELS, stderr);
		return 2;
	}
	if (argc - optind == 1 && !store_name_valid(argv[optind])) {
		log_warnx("bad model name \"%s\"", argv[optind]);
		return 2;
	}
	if (a.da_log) {
		char err[DEPLOY_ERRLEN];

		if (store_log_print(a.da_store, argc - optind == 1 ?
		    argv[optind] : NULL, stdout, err, sizeof(err)) != 0) {
			log_warnx("%s", err);
			return 1;
		}
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (argc - optind == 1) {
		if (!store_name_valid(argv[optind])) {
			log_warnx("bad model name \"%s\"", argv[optind]);
			return 2;
		}
		return deploy_list_one(a.da_store, argv[optind]);
	}
	if ((d = opendir(a.da_store)) == NULL) {
		log_warn("%s", a.da_store);
		return 1;
	}
	/* Every directory with a valid name, sorted; the rest is skipped. */
	while ((de = readdir(d)) != NULL) {
		if (!store_name_valid(de->d_name) ||
		    fstatat(dirfd(d), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISDIR(st.st_mode))
			continue;
		if (n >= STORE_MAX_VERSIONS)
			break;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nn = reallocarray(names, cap,
			    sizeof(*names))) == NULL)
				fatalx("out of memory");
			names = nn;
		}
		if ((names[n] = strdup(de->d_name)) == NULL)
			fatalx("out of memory");
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), deploy_cmp_name);
	ret = 0;
	for (i = 0; i < n; i++) {
		if (deploy_list_one(a.da_store, names[i]) != 0)
			ret = 1;
		free(names[i]);
	}
	free(names);
	return ret;
}
