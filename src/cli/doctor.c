/* SPDX-License-Identifier: ISC */
/*
 * doctor.c: aiguard doctor, a read-only check of a host's deployment.
 *
 *   aiguard doctor [--json] [--config FILE] [--root DIR] [--listen A:P]
 *
 * Each check prints one line, PASS, WARN or FAIL, with its name and the
 * evidence, and a WARN or a FAIL a "fix:" line under it (docs/doctor.md
 * lists the checks).  A check about many paths (labels, the store, the
 * keys) prints one line per bad path, at most DR_SHOW_MAX, then one line
 * counting the rest.  --json prints one JSON object instead:
 * {"checks":[{"name","status","evidence","fix"}...],
 *  "summary":{"pass","warn","fail"}}.
 *
 * Every evidence and fix text goes through log_escape() before it is
 * stored, so a file name with a newline or an escape sequence shows as
 * \n or \x1b and cannot forge a line (plain output) nor carry invalid
 * UTF-8 into the JSON.
 *
 * --root DIR puts DIR in front of every path doctor knows by default
 * (/etc/aiguard, /var/lib/aiguard/models, /run/aiguard, the binaries and
 * the unit), for a scratch tree or a mounted image; paths read from the
 * configuration are used as written.  SELinux labels are looked up for
 * the path without DIR.  --listen replaces server.listen for the live
 * check (a server started on a port of its own).
 *
 * doctor changes nothing.  It reads: the configuration, the unit file,
 * the installed packages under share/selinux/packages, every file below
 * /etc/aiguard and the store (the first DR_HEAD_MAX bytes of each, for
 * private keys), their attributes and SELinux labels, the pid file and
 * /proc/PID/comm, the loaded policy (libselinux; its port labels with
 * libsepol); it runs, without a shell and with a fixed argument list,
 * systemd-analyze, semodule and the pp-to-CIL compiler; and it connects
 * to the listen address for GET /v2.
 *
 * Exit codes: 0 no FAIL, 1 at least one FAIL, 2 a usage error.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <linux/seccomp.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <selinux/context.h>
#include <selinux/label.h>
#include <selinux/selinux.h>
#include <sepol/policydb.h>
#include <sepol/port_record.h>
#include <sepol/ports.h>
#include <sepol/context_record.h>
#include <sepol/handle.h>
#include <sepol/debug.h>

#include "cli.h"
#include "common/ag_err.h"
#include "common/config.h"
#include "common/log.h"
#include "common/util.h"
#include "sandbox/landlock.h"
#include "sandbox/sandbox.h"

#ifndef PR_GET_MDWE
#define PR_GET_MDWE		66
#endif
#ifndef SECCOMP_GET_ACTION_AVAIL
#define SECCOMP_GET_ACTION_AVAIL 2
#endif
#ifndef SECCOMP_RET_KILL_PROCESS
#define SECCOMP_RET_KILL_PROCESS 0x80000000U
#endif

#define DR_CONFIG	"/etc/aiguard/aiguardd.conf"
#define DR_CONFDIR	"/etc/aiguard"
#define DR_KEYS		"/etc/aiguard/keys"
#define DR_STORE	"/var/lib/aiguard/models"
#define DR_RUNDIR	"/run/aiguard"
#define DR_PIDFILE	"/run/aiguard/aiguardd.pid"
#define DR_UNIT		"aiguardd.service"
#define DR_DOMAIN_CTX	"system_u:system_r:aiguard_t:s0"
#define DR_PORT_TYPE	"aiguard_port_t"
#ifndef DR_MODULE	/* a test may name another module */
#define DR_MODULE	"aiguard"
#endif

#define DR_EVIDENCE	512	/* bytes of one evidence text, escaped */
#define DR_FIX		256	/* bytes of one fix text, escaped */
#define DR_RESULTS_MAX	256	/* lines in all */
#define DR_SHOW_MAX	10	/* bad paths shown per check */
#define DR_WALK_DEPTH	8	/* directory levels below a walked root */
#define DR_WALK_MAX	10000	/* entries per walk */
#define DR_HEAD_MAX	(64 * 1024) /* bytes read of a file for a key */
#define DR_EXEC_MS	30000	/* the longest a helper program runs */
#define DR_HTTP_MS	3000	/* the whole GET /v2 */
#define DR_HTTP_MAX	(64 * 1024) /* bytes of its response */
/* The exposure score the unit must stay at or below (1.2 as shipped). */
#define DR_EXPOSURE_MAX	2.0

enum dr_status { DR_PASS, DR_WARN, DR_FAIL };

static const char *const dr_status_names[] = { "PASS", "WARN", "FAIL" };

struct dr_result {
	enum dr_status	 r_status;
	char		 r_name[24];
	char		 r_evidence[DR_EVIDENCE];
	char		 r_fix[DR_FIX];
};

/* Where to look and what the daemon runs as. */
struct dr_ctx {
	const char	*d_root;		/* "" or --root */
	char		 d_config[PATH_MAX];
	int		 d_config_ok;		/* loaded and valid */
	struct ag_config d_cf;
	char		 d_unit[PATH_MAX];	/* "": none found */
	char		 d_unit_user[64], d_unit_group[64];
	char		 d_user[64], d_group[64];	/* "": none */
	int		 d_have_uid, d_have_gid;
	uid_t		 d_uid;
	gid_t		 d_gid;
	int		 d_selinux;		/* is_selinux_enabled() > 0 */
};

static struct dr_result	dr_results[DR_RESULTS_MAX];
static size_t		dr_nresults;
static size_t		dr_dropped;	/* past DR_RESULTS_MAX */

/* ==== Results ========================================================== */

static void
dr_vadd(enum dr_status status, const char *name, const char *fix,
    const char *fmt, va_list ap)
{
	struct dr_result *r;
	char raw[2048];

	if (dr_nresults == DR_RESULTS_MAX) {
		dr_dropped++;
		return;
	}
	r = &dr_results[dr_nresults++];
	r->r_status = status;
	(void)snprintf(r->r_name, sizeof(r->r_name), "%s", name);
	(void)vsnprintf(raw, sizeof(raw), fmt, ap);
	(void)log_escape(r->r_evidence, sizeof(r->r_evidence), raw, 0);
	(void)log_escape(r->r_fix, sizeof(r->r_fix),
	    status == DR_PASS || fix == NULL ? "" : fix, 0);
}

/* One line; fix is NULL for a PASS.  Both texts are escaped here. */
static void
dr_add(enum dr_status status, const char *name, const char *fix,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
dr_add(enum dr_status status, const char *name, const char *fix,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dr_vadd(status, name, fix, fmt, ap);
	va_end(ap);
}

/*
 * A check over many paths: dr_bad() for each problem (shown up to
 * DR_SHOW_MAX), then dr_done(), which adds the PASS line when there was
 * none, or one line counting the problems not shown.
 */
struct dr_list {
	const char	*l_name;
	int		 l_bad, l_hidden;
	enum dr_status	 l_worst;
	size_t		 l_seen;	/* paths looked at */
};

static void
dr_list_init(struct dr_list *l, const char *name)
{
	memset(l, 0, sizeof(*l));
	l->l_name = name;
	l->l_worst = DR_PASS;
}

/* The fix names the path: "PATH" in it (once) becomes path. */
static void
dr_bad(struct dr_list *l, enum dr_status status, const char *path,
    const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
dr_bad(struct dr_list *l, enum dr_status status, const char *path,
    const char *fix, const char *fmt, ...)
{
	char fixbuf[PATH_MAX + DR_FIX];
	const char *p;
	va_list ap;

	if (status > l->l_worst)
		l->l_worst = status;
	if (l->l_bad++ >= DR_SHOW_MAX) {
		l->l_hidden++;
		return;
	}
	if (path != NULL && (p = strstr(fix, "PATH")) != NULL) {
		(void)snprintf(fixbuf, sizeof(fixbuf), "%.*s%s%s",
		    (int)(p - fix), fix, path, p + 4);
		fix = fixbuf;
	}
	va_start(ap, fmt);
	dr_vadd(status, l->l_name, fix, fmt, ap);
	va_end(ap);
}

static void
dr_done(struct dr_list *l, const char *what)
{
	if (l->l_bad == 0)
		dr_add(DR_PASS, l->l_name, NULL, "%zu paths checked: %s",
		    l->l_seen, what);
	else if (l->l_hidden > 0)
		dr_add(l->l_worst, l->l_name, "see the lines above",
		    "%d more problems not shown", l->l_hidden);
}

static int
dr_print(int json)
{
	size_t i, n[3] = { 0, 0, 0 };
	json_t *arr, *top;
	char *s;

	for (i = 0; i < dr_nresults; i++)
		n[dr_results[i].r_status]++;
	if (!json) {
		for (i = 0; i < dr_nresults; i++) {
			printf("%s  %-16s  %s\n",
			    dr_status_names[dr_results[i].r_status],
			    dr_results[i].r_name, dr_results[i].r_evidence);
			if (dr_results[i].r_status != DR_PASS)
				printf("      fix: %s\n", dr_results[i].r_fix);
		}
		if (dr_dropped > 0)
			printf("(%zu more lines dropped)\n", dr_dropped);
		printf("%zu passed, %zu warnings, %zu failed\n", n[DR_PASS],
		    n[DR_WARN], n[DR_FAIL]);
	} else {
		if ((arr = json_array()) == NULL)
			fatalx("out of memory");
		for (i = 0; i < dr_nresults; i++)
			if (json_array_append_new(arr, json_pack(
			    "{s:s, s:s, s:s, s:s}", "name",
			    dr_results[i].r_name, "status",
			    dr_status_names[dr_results[i].r_status],
			    "evidence", dr_results[i].r_evidence, "fix",
			    dr_results[i].r_fix)) != 0)
				fatalx("out of memory");
		top = json_pack("{s:o, s:{s:I, s:I, s:I}}", "checks", arr,
		    "summary", "pass", (json_int_t)n[DR_PASS], "warn",
		    (json_int_t)n[DR_WARN], "fail", (json_int_t)n[DR_FAIL]);
		if (top == NULL || (s = json_dumps(top, JSON_COMPACT)) == NULL)
			fatalx("out of memory");
		printf("%s\n", s);
		free(s);
		json_decref(top);
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		return 1;
	return n[DR_FAIL] > 0 ? 1 : 0;
}

/* ==== Helpers ========================================================== */

/* ROOT + path into out; 0, or -1 when it does not fit. */
static int
dr_path(const struct dr_ctx *c, const char *path, char *out, size_t len)
{
	return (size_t)snprintf(out, len, "%s%s", c->d_root, path) >= len ?
	    -1 : 0;
}

/* The path as the system sees it: without the --root prefix. */
static const char *
dr_sys_path(const struct dr_ctx *c, const char *path)
{
	size_t n = strlen(c->d_root);

	if (n > 0 && strncmp(path, c->d_root, n) == 0 && path[n] == '/')
		return path + n;
	return path;
}

static void
dr_user_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw;

	if ((pw = getpwuid(uid)) != NULL && strlen(pw->pw_name) < 64)
		(void)snprintf(buf, len, "%s", pw->pw_name);
	else
		(void)snprintf(buf, len, "%lu", (unsigned long)uid);
}

static void
dr_group_name(gid_t gid, char *buf, size_t len)
{
	struct group *gr;

	if ((gr = getgrgid(gid)) != NULL && strlen(gr->gr_name) < 64)
		(void)snprintf(buf, len, "%s", gr->gr_name);
	else
		(void)snprintf(buf, len, "%lu", (unsigned long)gid);
}

/* "root:aiguard 0640" for messages. */
static void
dr_owner_mode(const struct stat *st, char *buf, size_t len)
{
	char u[64], g[64];

	dr_user_name(st->st_uid, u, sizeof(u));
	dr_group_name(st->st_gid, g, sizeof(g));
	(void)snprintf(buf, len, "%.63s:%.63s %04o", u, g,
	    (unsigned)(st->st_mode & 07777));
}

/*
 * Walks root and everything below it, not following symbolic links, at
 * most DR_WALK_DEPTH levels and DR_WALK_MAX entries; fn sees each entry
 * (root first) with its lstat().  Returns the number of entries seen, or
 * -1 when root cannot be lstat()ed (errno set).
 */
typedef void (*dr_walk_fn)(struct dr_ctx *, const char *,
    const struct stat *, void *);

static void
dr_walk1(struct dr_ctx *c, const char *path, const struct stat *st,
    int depth, size_t *count, dr_walk_fn fn, void *arg)
{
	char sub[PATH_MAX];
	struct dirent *de;
	struct stat sst;
	DIR *d;
	int fd;

	if (*count >= DR_WALK_MAX)
		return;
	(*count)++;
	fn(c, path, st, arg);
	if (!S_ISDIR(st->st_mode) || depth >= DR_WALK_DEPTH)
		return;
	/* Not opendir(): a directory swapped for a link is not followed. */
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL && *count < DR_WALK_MAX) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path,
		    de->d_name) >= sizeof(sub) || lstat(sub, &sst) == -1)
			continue;
		dr_walk1(c, sub, &sst, depth + 1, count, fn, arg);
	}
	closedir(d);
}

static long
dr_walk(struct dr_ctx *c, const char *root, dr_walk_fn fn, void *arg)
{
	struct stat st;
	size_t count = 0;

	if (lstat(root, &st) == -1)
		return -1;
	dr_walk1(c, root, &st, 0, &count, fn, arg);
	return (long)count;
}

/*
 * Runs argv[0], an absolute path, with argv: no shell, a fixed
 * environment, stdin /dev/null, stdout and stderr into out (NUL-ended;
 * beyond outlen - 1 bytes the rest is read and dropped), for at most
 * DR_EXEC_MS.  Returns the exit status, or -1 with why set: the program
 * is missing, could not be run (127: exec refused, by SELinux say),
 * timed out or died of a signal.
 */
static int
dr_exec(char *const argv[], char *out, size_t outlen, char *why,
    size_t whylen)
{
	static char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
	    "LC_ALL=C", "SYSTEMD_COLORS=0", "SYSTEMD_PAGER=", "TERM=dumb",
	    NULL };
	struct pollfd pfd;
	double deadline;
	size_t n = 0;
	ssize_t k;
	pid_t pid;
	int p[2], devnull, status, left, timedout = 0;
	char junk[4096];

	out[0] = '\0';
	if (access(argv[0], X_OK) != 0) {
		(void)snprintf(why, whylen, "%s: %s", argv[0],
		    strerror(errno));
		return -1;
	}
	if (pipe2(p, O_CLOEXEC) == -1) {
		(void)snprintf(why, whylen, "pipe: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		(void)snprintf(why, whylen, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		if ((devnull = open("/dev/null", O_RDONLY)) == -1 ||
		    dup2(devnull, 0) == -1 || dup2(p[1], 1) == -1 ||
		    dup2(p[1], 2) == -1)
			_exit(127);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	close(p[1]);
	deadline = ag_now() + DR_EXEC_MS / 1000.0;
	for (;;) {
		left = (int)((deadline - ag_now()) * 1000);
		if (left <= 0) {
			timedout = 1;
			break;
		}
		pfd.fd = p[0];
		pfd.events = POLLIN;
		if (poll(&pfd, 1, left) == -1) {
			if (errno == EINTR)
				continue;
			timedout = 1;
			break;
		}
		if (n + 1 < outlen)
			k = read(p[0], out + n, outlen - 1 - n);
		else
			k = read(p[0], junk, sizeof(junk));
		if (k == -1 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		if (n + 1 < outlen)
			n += (size_t)k;
	}
	out[n] = '\0';
	close(p[0]);
	if (timedout)
		(void)kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			(void)snprintf(why, whylen, "waitpid: %s",
			    strerror(errno));
			return -1;
		}
	if (timedout) {
		(void)snprintf(why, whylen, "%s: no answer in %d s", argv[0],
		    DR_EXEC_MS / 1000);
		return -1;
	}
	if (WIFSIGNALED(status)) {
		(void)snprintf(why, whylen, "%s: killed by signal %d",
		    argv[0], WTERMSIG(status));
		return -1;
	}
	if (WEXITSTATUS(status) == 127) {
		(void)snprintf(why, whylen, "%s: could not be run (exec "
		    "refused?)", argv[0]);
		return -1;
	}
	return WEXITSTATUS(status);
}

/* The first of paths (each under --root) that exists, into out; or -1. */
static int
dr_first(const struct dr_ctx *c, const char *const *paths, char *out,
    size_t len)
{
	struct stat st;
	size_t i;

	for (i = 0; paths[i] != NULL; i++)
		if (dr_path(c, paths[i], out, len) == 0 &&
		    stat(out, &st) == 0)
			return 0;
	out[0] = '\0';
	return -1;
}

/* The value of "KEY=" on a line of the unit file, or "". */
static void
dr_unit_value(const char *text, const char *key, char *out, size_t len)
{
	const char *p = text, *e;
	size_t kl = strlen(key), n;

	out[0] = '\0';
	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == '\t')
			p++;
		e = strchr(p, '\n');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
			n -= kl + 1;
			if (n >= len)
				n = len - 1;
			memcpy(out, p + kl + 1, n);
			out[n] = '\0';
			while (n > 0 && (out[n - 1] == ' ' ||
			    out[n - 1] == '\r' || out[n - 1] == '\t'))
				out[--n] = '\0';
		}
		p = e != NULL ? e + 1 : NULL;
	}
}

/* ==== Configuration, unit, daemon's identity ========================== */

static void
dr_check_config(struct dr_ctx *c)
{
	char err[512], om[160];
	struct stat st;
	int r;

	config_defaults(&c->d_cf);
	if ((r = config_load_file(&c->d_cf, c->d_config, err,
	    sizeof(err))) != 0) {
		config_defaults(&c->d_cf);
		dr_add(DR_FAIL, "config", r == AG_ERR_NOT_FOUND ?
		    "install it (make install), or name it with --config" :
		    "correct the file (aiguardd --check-config --config FILE)",
		    "%s (the checks below use the defaults)", err);
		return;
	}
	if (config_validate(&c->d_cf, err, sizeof(err)) != 0) {
		dr_add(DR_FAIL, "config", "correct the file (aiguardd "
		    "--check-config --config FILE)", "%s: %s", c->d_config,
		    err);
		return;
	}
	c->d_config_ok = 1;
	dr_add(DR_PASS, "config", NULL, "%s loads and is valid",
	    c->d_config);
	if (lstat(c->d_config, &st) == -1)
		return;
	dr_owner_mode(&st, om, sizeof(om));
	if (!S_ISREG(st.st_mode))
		dr_add(DR_FAIL, "config-perms", "make it a regular file owned "
		    "by root", "%s: not a regular file (%s)", c->d_config, om);
	else if (st.st_uid != 0)
		dr_add(DR_FAIL, "config-perms", "chown root FILE",
		    "%s: %s, not owned by root", c->d_config, om);
	else if (st.st_mode & (S_IWGRP | S_IWOTH))
		dr_add(DR_FAIL, "config-perms", "chmod go-w FILE (0644)",
		    "%s: %s, writable by %s", c->d_config, om,
		    (st.st_mode & S_IWOTH) ? "everyone" : "its group");
	else
		dr_add(DR_PASS, "config-perms", NULL, "%s: %s", c->d_config,
		    om);
}

/* Finds the unit file and its User= and Group=. */
static void
dr_find_unit(struct dr_ctx *c)
{
	static const char *const units[] = {
		"/etc/systemd/system/" DR_UNIT,
		"/usr/lib/systemd/system/" DR_UNIT,
		"/usr/local/lib/systemd/system/" DR_UNIT,
		"/lib/systemd/system/" DR_UNIT,
		NULL
	};
	char err[256];
	uint8_t *text;
	size_t len;

	if (dr_first(c, units, c->d_unit, sizeof(c->d_unit)) != 0)
		return;
	if (ag_read_file(c->d_unit, 256 * 1024, &text, &len, err,
	    sizeof(err)) != 0)
		return;
	dr_unit_value((char *)text, "User", c->d_unit_user,
	    sizeof(c->d_unit_user));
	dr_unit_value((char *)text, "Group", c->d_unit_group,
	    sizeof(c->d_unit_group));
	free(text);
}

/*
 * The daemon's user and group: sandbox.user and sandbox.group, else the
 * unit's User= and Group=; the group defaults to the user's.
 */
static void
dr_daemon_ids(struct dr_ctx *c)
{
	struct passwd *pw;
	struct group *gr;

	(void)snprintf(c->d_user, sizeof(c->d_user), "%s",
	    c->d_cf.cf_sandbox_user[0] != '\0' ? c->d_cf.cf_sandbox_user :
	    c->d_unit_user);
	(void)snprintf(c->d_group, sizeof(c->d_group), "%s",
	    c->d_cf.cf_sandbox_group[0] != '\0' ? c->d_cf.cf_sandbox_group :
	    c->d_cf.cf_sandbox_user[0] != '\0' ? "" : c->d_unit_group);
	if (c->d_user[0] != '\0' && (pw = getpwnam(c->d_user)) != NULL) {
		c->d_have_uid = 1;
		c->d_uid = pw->pw_uid;
		if (c->d_group[0] == '\0') {
			c->d_have_gid = 1;
			c->d_gid = pw->pw_gid;
			dr_group_name(pw->pw_gid, c->d_group,
			    sizeof(c->d_group));
		}
	}
	if (!c->d_have_gid && c->d_group[0] != '\0' &&
	    (gr = getgrnam(c->d_group)) != NULL) {
		c->d_have_gid = 1;
		c->d_gid = gr->gr_gid;
	}
}

static void
dr_check_sandbox_conf(struct dr_ctx *c)
{
	const struct ag_config *cf = &c->d_cf;

	if (cf->cf_sandbox_user[0] != '\0')
		dr_add(DR_PASS, "sandbox-user", NULL, "sandbox.user = %s%s",
		    cf->cf_sandbox_user, c->d_have_uid ? "" :
		    " (no such user here yet)");
	else if (c->d_unit_user[0] != '\0')
		dr_add(DR_PASS, "sandbox-user", NULL, "sandbox.user is empty; "
		    "the unit %s runs it as User=%s", c->d_unit,
		    c->d_unit_user);
	else
		dr_add(DR_WARN, "sandbox-user", "set sandbox.user = aiguard "
		    "(or run the shipped unit, User=aiguard)",
		    "sandbox.user is empty and no unit sets User=: aiguardd "
		    "keeps the user that starts it");
	switch (cf->cf_sandbox_mode) {
	case SANDBOX_REQUIRED:
		dr_add(DR_PASS, "sandbox-mode", NULL, "sandbox.mode = "
		    "required");
		break;
	case SANDBOX_BEST_EFFORT:
		dr_add(DR_WARN, "sandbox-mode", "set sandbox.mode = required",
		    "sandbox.mode = best-effort: a layer the kernel lacks is "
		    "only logged");
		break;
	default:
		dr_add(DR_FAIL, "sandbox-mode", "set sandbox.mode = required",
		    "sandbox.mode = %s: aiguardd confines nothing",
		    sandbox_mode_name((enum sandbox_mode)cf->cf_sandbox_mode));
		break;
	}
}

static void
dr_check_listen(struct dr_ctx *c)
{
	const char *a = c->d_cf.cf_listen_addr, *why, *what;
	int port = c->d_cf.cf_listen_port;

	why = config_exposure(&c->d_cf);
	what = strcmp(a, "*") == 0 || strcmp(a, "0.0.0.0") == 0 ||
	    strcmp(a, "::") == 0 ? "every address" : "not loopback";
	if (config_listen_loopback(&c->d_cf))
		dr_add(DR_PASS, "listen", NULL, "server.listen %s:%d is "
		    "loopback only", a, port);
	else if (why == NULL)
		dr_add(DR_PASS, "listen", NULL, "server.listen %s:%d is %s, "
		    "behind TLS and tokens (only health open)", a, port, what);
	else if (c->d_cf.cf_allow_insecure)
		dr_add(DR_WARN, "listen", "configure server.tls_cert, "
		    "server.tls_key and server.tokens (server.open = health), "
		    "then remove server.allow_insecure", "server.listen %s:%d "
		    "is %s and %s: server.allow_insecure = yes", a, port, what,
		    why);
	else
		dr_add(DR_FAIL, "listen", "configure TLS and tokens, listen "
		    "on 127.0.0.1, or set server.allow_insecure = yes "
		    "knowingly", "server.listen %s:%d is not loopback and %s, "
		    "without server.allow_insecure: aiguardd refuses to start",
		    a, port, why);
}

/*
 * The token file and the TLS key: secrets of aiguardd's group.  Owned by
 * root, readable by no other user, writable by root alone.
 */
static void
dr_secret(const char *check, const char *key, const char *path)
{
	struct stat st;

	if (path[0] == '\0')
		return;
	if (stat(path, &st) == -1) {
		dr_add(DR_FAIL, check, "create it, or clear the key", "%s %s: "
		    "%s: aiguardd refuses to start", key, path,
		    strerror(errno));
		return;
	}
	if (!S_ISREG(st.st_mode))
		dr_add(DR_FAIL, check, "point the key at a regular file",
		    "%s %s: not a regular file", key, path);
	else if (st.st_mode & (S_IROTH | S_IWOTH | S_IWGRP))
		dr_add(DR_FAIL, check, "chmod 0640 PATH (owner root, group "
		    "the daemon's)", "%s %s: mode %04o: %s", key, path,
		    (unsigned)(st.st_mode & 07777), (st.st_mode & S_IROTH) ?
		    "readable by every user" : "writable by others than root");
	else if (st.st_uid != 0)
		dr_add(DR_WARN, check, "chown root PATH", "%s %s: owned by "
		    "uid %u, not root: its owner may change it", key, path,
		    (unsigned)st.st_uid);
	else
		dr_add(DR_PASS, check, NULL, "%s %s: root's, mode %04o", key,
		    path, (unsigned)(st.st_mode & 07777));
}

static void
dr_check_frontdoor(struct dr_ctx *c)
{
	const struct ag_config *cf = &c->d_cf;

	dr_secret("tokens-file", "server.tokens", cf->cf_tokens);
	dr_secret("tls-key", "server.tls_key", cf->cf_tls_key);
}

/* ==== Kernel features ================================================== */

static void
dr_check_kernel(struct dr_ctx *c)
{
	int required = c->d_cf.cf_sandbox_mode == SANDBOX_REQUIRED;
	enum dr_status miss = required ? DR_FAIL : DR_WARN;
	unsigned int action = SECCOMP_RET_KILL_PROCESS;
	const char *why;
	int abi, r;

	why = required ? "; with sandbox.mode = required aiguardd refuses to "
	    "start" : "; aiguardd runs without it";
	abi = landlock_abi();
	if (abi >= 6)
		dr_add(DR_PASS, "landlock", NULL, "Landlock ABI %d (files, "
		    "TCP, scopes)", abi);
	else if (abi > 0)
		dr_add(miss, "landlock", "a kernel with Landlock ABI 6 or "
		    "later (Linux 6.12)", "Landlock ABI %d lacks %s%s", abi,
		    abi < 4 ? "TCP rules and scopes" : "scopes", why);
	else
		dr_add(miss, "landlock", "boot with lsm=landlock,... on a "
		    "kernel with CONFIG_SECURITY_LANDLOCK", "no Landlock%s",
		    why);

	r = prctl(PR_GET_MDWE, 0L, 0L, 0L, 0L);
	if (r >= 0)
		dr_add(DR_PASS, "mdwe", NULL, "PR_SET_MDWE is available");
	else
		dr_add(miss, "mdwe", "a kernel with PR_SET_MDWE (Linux 6.3 "
		    "or later)", "PR_GET_MDWE: %s%s", strerror(errno), why);

	if (prctl(PR_GET_SECCOMP, 0L, 0L, 0L, 0L) == -1)
		dr_add(miss, "seccomp", "a kernel with CONFIG_SECCOMP_FILTER",
		    "PR_GET_SECCOMP: %s%s", strerror(errno), why);
	else if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0,
	    &action) != 0)
		dr_add(miss, "seccomp", "a kernel with seccomp filters and "
		    "SECCOMP_RET_KILL_PROCESS (Linux 4.14 or later)",
		    "seccomp filters: %s%s", strerror(errno), why);
	else
		dr_add(DR_PASS, "seccomp", NULL, "seccomp filters with "
		    "SECCOMP_RET_KILL_PROCESS are available");
}

/* ==== SELinux ========================================================== */

/* The type field of a context, into out ("" when it has none). */
static void
dr_ctx_type(const char *con, char *out, size_t len)
{
	context_t ct;
	const char *t;

	out[0] = '\0';
	if (con == NULL || (ct = context_new(con)) == NULL)
		return;
	if ((t = context_type_get(ct)) != NULL)
		(void)snprintf(out, len, "%s", t);
	context_free(ct);
}

/*
 * The module's identity: semodule -l -m prints the SHA-256 of each
 * module's CIL, which is what the pp compiler makes of the package, so
 * hashing its output for the installed package gives the same number
 * when the loaded module is that package.
 */
static void dr_module_identity(struct dr_ctx *);

static void
dr_check_module(struct dr_ctx *c)
{
	const char *fix = "semodule -i /usr/share/selinux/packages/aiguard.pp";

	/*
	 * EINVAL is the policy's "no such context"; anything else (EACCES
	 * where the domain doctor runs in may not ask) is no answer.
	 */
	if (security_check_context(DR_DOMAIN_CTX) != 0 &&
	    security_check_context("system_u:system_r:aiguard_t") != 0) {
		if (errno == EINVAL)
			dr_add(DR_FAIL, "selinux-module", fix, "the loaded "
			    "policy has no type aiguard_t: the aiguard module "
			    "is not loaded");
		else
			dr_add(DR_WARN, "selinux-module", "run doctor as root "
			    "outside a confined domain, or check seinfo -t "
			    "aiguard_t", "could not ask the loaded policy "
			    "about aiguard_t: %s", strerror(errno));
		return;
	}
	dr_module_identity(c);
}

static void
dr_module_identity(struct dr_ctx *c)
{
	static const char *const pkgs[] = {
		"/usr/share/selinux/packages/" DR_MODULE ".pp",
		"/usr/local/share/selinux/packages/" DR_MODULE ".pp",
		NULL
	};
	char pkg[PATH_MAX], why[256], want[80], have[80], *out, *line, *p;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen, i;
	size_t outmax = 8 * 1024 * 1024;
	char fix[PATH_MAX + 16];
	int r;

	if (dr_first(c, pkgs, pkg, sizeof(pkg)) != 0) {
		struct stat st;

		/* Missing, or out of reach (doctor confined in a domain). */
		if (dr_path(c, pkgs[0], pkg, sizeof(pkg)) == 0 &&
		    stat(pkg, &st) == -1 && errno != ENOENT)
			dr_add(DR_WARN, "selinux-module", "run doctor as root "
			    "outside a confined domain to compare it",
			    "aiguard_t is known; the installed package cannot "
			    "be read to identify the loaded module: %s: %s",
			    pkgs[0], strerror(errno));
		else
			dr_add(DR_WARN, "selinux-module", "install the package "
			    "(make install) to compare it", "aiguard_t is "
			    "known; no installed aiguard.pp to identify the "
			    "loaded module by");
		return;
	}
	(void)snprintf(fix, sizeof(fix), "semodule -i %s", dr_sys_path(c, pkg));
	if ((out = malloc(outmax)) == NULL)
		fatalx("out of memory");
	{
		char *const argv[] = { "/usr/libexec/selinux/hll/pp", pkg,
		    NULL };

		r = dr_exec(argv, out, outmax, why, sizeof(why));
	}
	if (r != 0 || strlen(out) + 1 >= outmax) {
		dr_add(DR_WARN, "selinux-module", "compare semodule -l -m "
		    "with the package by hand", "aiguard_t is known; the "
		    "package %s could not be converted: %s", pkg,
		    r == -1 ? why : "pp failed");
		goto out;
	}
	if (EVP_Digest(out, strlen(out), md, &mdlen, EVP_sha256(), NULL)
	    != 1)
		fatalx("sha256 failed");
	(void)snprintf(want, sizeof(want), "sha256:");
	for (i = 0; i < mdlen && 7 + 2 * i + 2 < sizeof(want); i++)
		(void)snprintf(want + 7 + 2 * i, 3, "%02x", md[i]);
	{
		char *const argv[] = { "/usr/sbin/semodule", "-l", "-m",
		    NULL };

		r = dr_exec(argv, out, 1024 * 1024, why, sizeof(why));
	}
	if (r != 0) {
		dr_add(DR_WARN, "selinux-module", "run semodule -l -m as root "
		    "and compare it with the package", "aiguard_t is known; "
		    "semodule -l -m: %s", r == -1 ? why : "failed");
		goto out;
	}
	have[0] = '\0';
	for (line = strtok(out, "\n"); line != NULL;
	    line = strtok(NULL, "\n")) {
		if (strncmp(line, DR_MODULE " ", strlen(DR_MODULE) + 1) != 0)
			continue;
		p = line + strlen(DR_MODULE);
		p += strspn(p, " \t");
		(void)snprintf(have, sizeof(have), "%.*s",
		    (int)strcspn(p, " \t"), p);
	}
	if (have[0] == '\0')
		dr_add(DR_WARN, "selinux-module", fix, "aiguard_t is known "
		    "but semodule -l -m lists no module %s", DR_MODULE);
	else if (strcmp(have, want) != 0)
		dr_add(DR_WARN, "selinux-module", fix, "the loaded module "
		    DR_MODULE " (%s) is not %s (%s)", have, pkg, want);
	else
		dr_add(DR_PASS, "selinux-module", NULL, "module " DR_MODULE
		    " loaded, %s, the same as %s", have, pkg);
 out:
	free(out);
}

/*
 * The port's label in the loaded policy: /sys/fs/selinux/policy (the
 * kernel's own copy, so a module installed but not loaded does not
 * count), read with libsepol; of the tcp portcon entries that cover the
 * port, the narrowest is the one the kernel uses.
 */
#define DR_POLICY_FILE	"/sys/fs/selinux/policy"
#define DR_POLICY_MAX	((size_t)256 * 1024 * 1024)

struct dr_port_arg {
	int	pa_port;
	int	pa_width;
	char	pa_type[128];
};

static int
dr_port1(const sepol_port_t *port, void *arg)
{
	struct dr_port_arg *pa = arg;
	sepol_context_t *con;
	const char *type;
	int lo, hi;

	if (sepol_port_get_proto(port) != SEPOL_PROTO_TCP)
		return 0;
	lo = sepol_port_get_low(port);
	hi = sepol_port_get_high(port);
	if (pa->pa_port < lo || pa->pa_port > hi)
		return 0;
	if (pa->pa_width != -1 && hi - lo >= pa->pa_width)
		return 0;
	if ((con = sepol_port_get_con(port)) == NULL ||
	    (type = sepol_context_get_type(con)) == NULL)
		return 0;
	pa->pa_width = hi - lo;
	(void)snprintf(pa->pa_type, sizeof(pa->pa_type), "%s", type);
	return 0;
}

static void
dr_check_port(struct dr_ctx *c)
{
	struct dr_port_arg pa;
	sepol_handle_t *h = NULL;
	sepol_policy_file_t *pf = NULL;
	sepol_policydb_t *pdb = NULL;
	char fix[192], why[256];
	uint8_t *buf = NULL;
	size_t len = 0;
	int port = c->d_cf.cf_listen_port;

	if (port == 0) {
		dr_add(DR_WARN, "selinux-port", "set a fixed port in "
		    "server.listen", "server.listen has port 0 (any): no "
		    "label to check");
		return;
	}
	(void)snprintf(fix, sizeof(fix), "semodule -i /usr/share/selinux/"
	    "packages/aiguard_port.cil (or semanage port -a -t "
	    DR_PORT_TYPE " -p tcp %d)", port);
	/* selinuxfs gives the policy file its size when it is opened. */
	if (ag_read_file(DR_POLICY_FILE, DR_POLICY_MAX, &buf, &len, why,
	    sizeof(why)) != 0)
		goto unknown;
	(void)snprintf(why, sizeof(why), "%s: libsepol cannot read it",
	    DR_POLICY_FILE);
	if ((h = sepol_handle_create()) == NULL)
		goto unknown;
	sepol_msg_set_callback(h, NULL, NULL);
	if (sepol_policy_file_create(&pf) != 0 ||
	    sepol_policydb_create(&pdb) != 0)
		goto unknown;
	sepol_policy_file_set_mem(pf, (char *)buf, len);
	sepol_policy_file_set_handle(pf, h);
	if (sepol_policydb_read(pdb, pf) != 0)
		goto unknown;
	memset(&pa, 0, sizeof(pa));
	pa.pa_port = port;
	pa.pa_width = -1;
	if (sepol_port_iterate(h, pdb, dr_port1, &pa) < 0)
		goto unknown;
	if (strcmp(pa.pa_type, DR_PORT_TYPE) == 0)
		dr_add(DR_PASS, "selinux-port", NULL, "tcp port %d is %s "
		    "in the loaded policy", port, pa.pa_type);
	else
		dr_add(DR_FAIL, "selinux-port", fix, "tcp port %d is %s, not "
		    DR_PORT_TYPE ": aiguard_t cannot bind it", port,
		    pa.pa_type[0] != '\0' ? pa.pa_type : "unlabelled");
	goto out;
 unknown:
	dr_add(DR_WARN, "selinux-port", "run aiguard doctor as root "
	    "outside a confined domain, or check semanage port -l | grep "
	    DR_PORT_TYPE, "could not check tcp port %d: %s", port, why);
 out:
	sepol_policydb_free(pdb);
	sepol_policy_file_free(pf);
	sepol_handle_destroy(h);
	free(buf);
}

struct dr_label_arg {
	struct selabel_handle	*la_h;
	struct dr_list		*la_list;
};

static void
dr_label1(struct dr_ctx *c, const char *path, const struct stat *st,
    void *arg)
{
	struct dr_label_arg *la = arg;
	const char *sys = dr_sys_path(c, path);
	char *want = NULL, *have = NULL, wt[128], ht[128];

	la->la_list->l_seen++;
	if (selabel_lookup(la->la_h, &want, sys, st->st_mode) != 0) {
		dr_bad(la->la_list, DR_WARN, path, "add the path to the "
		    "module's file contexts, or move it", "%s: no file "
		    "context in the loaded policy for %s", path, sys);
		return;
	}
	if (lgetfilecon(path, &have) < 0) {
		dr_bad(la->la_list, DR_FAIL, path, "restorecon -RF PATH",
		    "%s: expected %s, actual none (%s)", path,
		    (dr_ctx_type(want, wt, sizeof(wt)), wt), strerror(errno));
		freecon(want);
		return;
	}
	dr_ctx_type(want, wt, sizeof(wt));
	dr_ctx_type(have, ht, sizeof(ht));
	if (strcmp(wt, ht) != 0)
		dr_bad(la->la_list, DR_FAIL, path, "restorecon -RF PATH",
		    "%s: expected %s, actual %s", path, wt, ht);
	freecon(want);
	freecon(have);
}

static void
dr_check_labels(struct dr_ctx *c)
{
	static const char *const files[] = {
		"/usr/sbin/aiguardd", "/usr/local/sbin/aiguardd",
		"/usr/bin/aiguard", "/usr/local/bin/aiguard",
		NULL
	};
	static const char *const trees[] = {
		DR_CONFDIR, DR_STORE, DR_RUNDIR, NULL
	};
	struct dr_label_arg la;
	struct dr_list l;
	struct stat st;
	char p[PATH_MAX];
	size_t i;

	dr_list_init(&l, "selinux-labels");
	if ((la.la_h = selabel_open(SELABEL_CTX_FILE, NULL, 0)) == NULL) {
		dr_add(DR_WARN, "selinux-labels", "check that the policy's "
		    "file_contexts are installed", "selabel_open: %s",
		    strerror(errno));
		return;
	}
	la.la_list = &l;
	for (i = 0; files[i] != NULL; i++)
		if (dr_path(c, files[i], p, sizeof(p)) == 0 &&
		    lstat(p, &st) == 0)
			dr_label1(c, p, &st, &la);
	if (c->d_unit[0] != '\0' && lstat(c->d_unit, &st) == 0)
		dr_label1(c, c->d_unit, &st, &la);
	for (i = 0; trees[i] != NULL; i++)
		if (dr_path(c, trees[i], p, sizeof(p)) == 0)
			(void)dr_walk(c, p, dr_label1, &la);
	selabel_close(la.la_h);
	dr_done(&l, "every label matches the loaded policy's file contexts");
}

static void
dr_check_selinux(struct dr_ctx *c)
{
	const char *dom = c->d_cf.cf_sandbox_selinux_domain;
	const char *skip = "SELinux is disabled: not checked";
	const char *sfix = "enable SELinux (see the selinux line)";
	char *type = NULL;
	int e;

	c->d_selinux = is_selinux_enabled() > 0;
	if (!c->d_selinux) {
		if (dom[0] != '\0')
			dr_add(DR_FAIL, "selinux", "enable SELinux, or empty "
			    "sandbox.selinux_domain", "SELinux is disabled but "
			    "sandbox.selinux_domain = %s: aiguardd refuses to "
			    "start", dom);
		else
			dr_add(DR_WARN, "selinux", "enable SELinux enforcing "
			    "and install the aiguard module (docs/selinux.md)",
			    "SELinux is disabled; aiguardd's own layers "
			    "(Landlock, seccomp, privilege drop) still apply");
		dr_add(DR_WARN, "selinux-module", sfix, "%s", skip);
		dr_add(DR_WARN, "selinux-port", sfix, "%s", skip);
		dr_add(DR_WARN, "selinux-labels", sfix, "%s", skip);
		return;
	}
	(void)selinux_getpolicytype(&type);
	e = security_getenforce();
	if (e == 1)
		dr_add(DR_PASS, "selinux", NULL, "enforcing (policy %s)",
		    type != NULL ? type : "?");
	else if (e == 0)
		dr_add(DR_WARN, "selinux", "setenforce 1, and SELINUX="
		    "enforcing in /etc/selinux/config", "permissive (policy "
		    "%s): denials are only logged", type != NULL ? type : "?");
	else
		dr_add(DR_WARN, "selinux", "check /sys/fs/selinux/enforce",
		    "the mode cannot be read: %s", strerror(errno));
	free(type);
	/*
	 * Without it, a policy that stops putting aiguardd in aiguard_t (a
	 * module without init_t's nnp_transition leaves it in init_t under
	 * NoNewPrivileges=yes) goes unnoticed: aiguardd runs, outside its
	 * domain.  With it, aiguardd refuses to run there.
	 */
	if (dom[0] != '\0')
		dr_add(DR_PASS, "selinux-domain", NULL, "sandbox.selinux_domain "
		    "= %s: aiguardd refuses to run in any other domain", dom);
	else
		dr_add(DR_WARN, "selinux-domain", "set sandbox.selinux_domain "
		    "= aiguard_t", "sandbox.selinux_domain is empty: aiguardd "
		    "would run in whatever domain the policy leaves it in");
	dr_check_module(c);
	dr_check_port(c);
	dr_check_labels(c);
}

/* ==== systemd ========================================================== */

static void
dr_check_unit(struct dr_ctx *c)
{
	char out[128 * 1024], why[256], *p;
	char *argv[] = { "/usr/bin/systemd-analyze", "security",
	    "--offline=true", c->d_unit, NULL };
	double score;
	int r;

	if (c->d_unit[0] == '\0') {
		dr_add(DR_WARN, "systemd-exposure", "install the unit (make "
		    "install), or run aiguardd under another supervisor",
		    "no " DR_UNIT " in /etc/systemd/system, /usr/lib/systemd/"
		    "system or /usr/local/lib/systemd/system");
		return;
	}
	r = dr_exec(argv, out, sizeof(out), why, sizeof(why));
	if (r == -1) {
		dr_add(DR_WARN, "systemd-exposure", "run systemd-analyze "
		    "security --offline=true UNIT yourself", "not run: %s",
		    why);
		return;
	}
	if ((p = strstr(out, "Overall exposure level for ")) == NULL ||
	    (p = strchr(p, ':')) == NULL ||
	    sscanf(p + 1, "%lf", &score) != 1) {
		dr_add(DR_WARN, "systemd-exposure", "run systemd-analyze "
		    "security --offline=true UNIT yourself", "%s: no score "
		    "from systemd-analyze (exit %d)", c->d_unit, r);
		return;
	}
	if (score <= DR_EXPOSURE_MAX)
		dr_add(DR_PASS, "systemd-exposure", NULL, "%s: exposure %.1f "
		    "(at most %.1f)", c->d_unit, score, DR_EXPOSURE_MAX);
	else
		dr_add(DR_WARN, "systemd-exposure", "restore the shipped unit "
		    "(exposure 1.2); put changes in a drop-in that keeps the "
		    "sandboxing", "%s: exposure %.1f, above %.1f", c->d_unit,
		    score, DR_EXPOSURE_MAX);
}

/* ==== Owners and modes ================================================= */

static void
dr_store1(struct dr_ctx *c, const char *path, const struct stat *st,
    void *arg)
{
	struct dr_list *l = arg;
	char om[160];
	mode_t m = st->st_mode;

	l->l_seen++;
	if (S_ISLNK(m))
		return;		/* its target is an entry of its own */
	dr_owner_mode(st, om, sizeof(om));
	if (!S_ISREG(m) && !S_ISDIR(m))
		dr_bad(l, DR_WARN, path, "remove PATH", "%s: %s, neither a "
		    "file nor a directory", path, om);
	if (m & (S_IROTH | S_IWOTH))
		dr_bad(l, DR_FAIL, path, "chmod o-rwx PATH (aiguard deploy "
		    "writes 0640 and 0750)", "%s: %s, %s by everyone", path, om,
		    (m & S_IWOTH) ? "writable" : "readable");
	if (c->d_have_uid && st->st_uid == c->d_uid)
		dr_bad(l, DR_FAIL, path, "chown root PATH", "%s: %s, owned "
		    "by the daemon's user %s (it could change it)", path, om,
		    c->d_user);
	if (m & S_IWGRP)
		dr_bad(l, DR_FAIL, path, "chmod g-w PATH", "%s: %s, writable "
		    "by its group", path, om);
	if (c->d_have_gid && (m & S_IRWXG) && st->st_gid != c->d_gid) {
		char fix[128];

		(void)snprintf(fix, sizeof(fix), "chgrp %.63s PATH, or "
		    "deploy again with aiguard deploy", c->d_group);
		dr_bad(l, DR_FAIL, path, fix, "%s: %s, group is not the "
		    "daemon's %s", path, om, c->d_group);
	}
}

static void
dr_check_store(struct dr_ctx *c)
{
	char store[PATH_MAX];
	struct dr_list l;

	if (dr_path(c, DR_STORE, store, sizeof(store)) != 0)
		return;
	if (!c->d_have_gid)
		dr_add(DR_WARN, "store", "set sandbox.group, or create the "
		    "group (systemd-sysusers)", "the daemon's group (%s) is "
		    "unknown here: the store's group is not checked",
		    c->d_group[0] != '\0' ? c->d_group : "none configured");
	dr_list_init(&l, "store");
	if (dr_walk(c, store, dr_store1, &l) == -1) {
		dr_add(DR_WARN, "store", "systemd-tmpfiles --create, then "
		    "aiguard deploy", "%s: %s", store, strerror(errno));
		return;
	}
	/* A model directory outside the store is the store too. */
	if (c->d_cf.cf_model_dir[0] != '\0' &&
	    strncmp(c->d_cf.cf_model_dir, store, strlen(store)) != 0 &&
	    dr_walk(c, c->d_cf.cf_model_dir, dr_store1, &l) == -1)
		dr_bad(&l, DR_WARN, NULL, "aiguard deploy a model",
		    "model.dir %s: %s", c->d_cf.cf_model_dir, strerror(errno));
	dr_done(&l, "no file readable by others or writable by the daemon");
}

static void
dr_keys1(struct dr_ctx *c, const char *path, const struct stat *st,
    void *arg)
{
	struct dr_list *l = arg;
	char om[160];

	l->l_seen++;
	if (S_ISLNK(st->st_mode))
		return;
	dr_owner_mode(st, om, sizeof(om));
	if (st->st_uid != 0)
		dr_bad(l, DR_FAIL, path, "chown root PATH", "%s: %s, not "
		    "owned by root", path, om);
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		dr_bad(l, DR_FAIL, path, "chmod go-w PATH", "%s: %s, "
		    "writable by %s", path, om,
		    (st->st_mode & S_IWOTH) ? "everyone" : "its group");
}

static void
dr_check_keys(struct dr_ctx *c)
{
	char keys[PATH_MAX];
	struct dr_list l;

	if (dr_path(c, DR_KEYS, keys, sizeof(keys)) != 0)
		return;
	dr_list_init(&l, "keys");
	if (dr_walk(c, keys, dr_keys1, &l) == -1) {
		dr_add(DR_WARN, "keys", "install -d -m 0755 " DR_KEYS
		    " and put the public key there", "%s: %s", keys,
		    strerror(errno));
		return;
	}
	dr_done(&l, "public keys owned by root, writable by root only");
}

/*
 * Whether the file holds a PEM private key ("-----BEGIN ... PRIVATE
 * KEY-----") in its first DR_HEAD_MAX bytes.  Never blocks on a FIFO and
 * never follows a link.
 */
static int
dr_has_private_key(const char *path)
{
	static const char mark[] = "PRIVATE KEY-----";
	char *buf;
	struct stat st;
	ssize_t k;
	size_t n = 0;
	int fd, found = 0;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return 0;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (buf = malloc(DR_HEAD_MAX + 1)) == NULL) {
		close(fd);
		return 0;
	}
	while (n < DR_HEAD_MAX && (k = read(fd, buf + n,
	    DR_HEAD_MAX - n)) > 0)
		n += (size_t)k;
	close(fd);
	buf[n] = '\0';
	/* memmem: the head may hold NUL bytes before the key. */
	if (memmem(buf, n, mark, sizeof(mark) - 1) != NULL &&
	    memmem(buf, n, "-----BEGIN ", 11) != NULL)
		found = 1;
	free(buf);
	return found;
}

/* Whether st is the file at path (path may be ""). */
static int
dr_same_file(const char *path, const struct stat *st)
{
	struct stat o;

	return path[0] != '\0' && stat(path, &o) == 0 &&
	    o.st_dev == st->st_dev && o.st_ino == st->st_ino;
}

/*
 * st is one of the TLS files: the key aiguardd must read, and the
 * certificates beside it, which SELinux labels as the key (doctor reads
 * none of them).
 */
static int
dr_is_tls_key(struct dr_ctx *c, const struct stat *st)
{
	return dr_same_file(c->d_cf.cf_tls_key, st) ||
	    dr_same_file(c->d_cf.cf_tls_cert, st) ||
	    dr_same_file(c->d_cf.cf_tls_client_ca, st);
}

static void
dr_priv1(struct dr_ctx *c, const char *path, const struct stat *st,
    void *arg)
{
	struct dr_list *l = arg;
	const char *fix = "move it where only its owner reads it (e.g. "
	    "/root/aiguard-keys, mode 0600), then remove PATH";
	size_t n = strlen(path);

	l->l_seen++;
	if (!S_ISREG(st->st_mode) || dr_is_tls_key(c, st))
		return;
	if (dr_has_private_key(path))
		dr_bad(l, DR_FAIL, path, fix, "%s: a PEM private key where "
		    "aiguardd can read it", path);
	else if (n > 4 && strcmp(path + n - 4, ".key") == 0)
		dr_bad(l, DR_FAIL, path, fix, "%s: named like aiguard keygen's "
		    "private key, where aiguardd can read it", path);
}

static void
dr_check_private(struct dr_ctx *c)
{
	char p[PATH_MAX];
	struct dr_list l;
	struct stat st;

	dr_list_init(&l, "private-keys");
	if (dr_path(c, DR_CONFDIR, p, sizeof(p)) == 0)
		(void)dr_walk(c, p, dr_priv1, &l);
	if (dr_path(c, DR_STORE, p, sizeof(p)) == 0)
		(void)dr_walk(c, p, dr_priv1, &l);
	if (c->d_cf.cf_verify_key[0] != '\0' &&
	    stat(c->d_cf.cf_verify_key, &st) == 0)
		dr_priv1(c, c->d_cf.cf_verify_key, &st, &l);
	dr_done(&l, "no private key in the configuration directory, the "
	    "keys or the store");
}

/* ==== The running daemon =============================================== */

/*
 * Whether the pid file names a live aiguardd: 1 yes (*pid set), 0 no,
 * with why saying what was found.
 */
static int
dr_daemon_pid(const char *pidfile, long *pid, char *why, size_t len)
{
	char err[256];
	int r;

	if (ag_pidfile_read(pidfile, pid, err, sizeof(err)) != 0) {
		if (access(pidfile, F_OK) == -1)
			(void)snprintf(why, len, "no pid file %s", pidfile);
		else
			(void)snprintf(why, len, "%s holds no process id",
			    pidfile);
		return 0;
	}
	if ((r = ag_proc_comm_is(*pid, "aiguardd")) == 1) {
		(void)snprintf(why, len, "aiguardd runs as pid %ld", *pid);
		return 1;
	}
	if (r == 0)
		(void)snprintf(why, len, "process %ld of %s is not aiguardd",
		    *pid, pidfile);
	else
		(void)snprintf(why, len, "process %ld of %s is gone", *pid,
		    pidfile);
	return 0;
}

/*
 * GET /v2 over HTTP/1.0 on a plain TCP connection to host:port, all of
 * it within DR_HTTP_MS.  Returns the parsed body (caller decrefs), or
 * NULL with why set.
 */
static json_t *
dr_get_v2(const char *host, int port, char *why, size_t len)
{
	struct addrinfo hints, *ai = NULL;
	struct pollfd pfd;
	json_error_t jerr;
	json_t *j = NULL;
	char req[256], serv[16], *buf = NULL, *body;
	const char *h = host;
	double deadline = ag_now() + DR_HTTP_MS / 1000.0;
	size_t n = 0, sent = 0, reqlen;
	ssize_t k;
	socklen_t sl;
	int fd = -1, soerr, left, status;

	/* Every address or the name: ask on the loopback address. */
	if (strcmp(h, "*") == 0 || strcmp(h, "0.0.0.0") == 0 ||
	    strcmp(h, "localhost") == 0)
		h = "127.0.0.1";
	else if (strcmp(h, "::") == 0)
		h = "::1";
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_STREAM;
	(void)snprintf(serv, sizeof(serv), "%d", port);
	if (getaddrinfo(h, serv, &hints, &ai) != 0 || ai == NULL) {
		(void)snprintf(why, len, "%s: not a numeric address", h);
		goto out;
	}
	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		(void)snprintf(why, len, "socket: %s", strerror(errno));
		goto out;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1 &&
	    errno != EINPROGRESS) {
		(void)snprintf(why, len, "connect %s port %d: %s", h, port,
		    strerror(errno));
		goto out;
	}
	reqlen = (size_t)snprintf(req, sizeof(req), "GET /v2 HTTP/1.0\r\n"
	    "Host: %s\r\nUser-Agent: aiguard-doctor\r\n\r\n",
	    strchr(h, ':') != NULL ? "localhost" : h);
	if ((buf = malloc(DR_HTTP_MAX + 1)) == NULL)
		fatalx("out of memory");
	for (;;) {
		if ((left = (int)((deadline - ag_now()) * 1000)) <= 0) {
			(void)snprintf(why, len, "no answer from %s port %d "
			    "in %d ms", h, port, DR_HTTP_MS);
			goto out;
		}
		pfd.fd = fd;
		pfd.events = sent < reqlen ? POLLOUT : POLLIN;
		if (poll(&pfd, 1, left) <= 0)
			continue;
		if (sent < reqlen) {
			sl = sizeof(soerr);
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr,
			    &sl) == -1 || soerr != 0) {
				(void)snprintf(why, len, "connect %s port %d: "
				    "%s", h, port, strerror(soerr));
				goto out;
			}
			if ((k = send(fd, req + sent, reqlen - sent,
			    MSG_NOSIGNAL)) == -1) {
				if (errno == EAGAIN || errno == EINTR)
					continue;
				(void)snprintf(why, len, "send: %s",
				    strerror(errno));
				goto out;
			}
			sent += (size_t)k;
			continue;
		}
		k = read(fd, buf + n, DR_HTTP_MAX - n);
		if (k == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (k == -1) {
			(void)snprintf(why, len, "read: %s", strerror(errno));
			goto out;
		}
		if (k == 0)
			break;
		n += (size_t)k;
		if (n == DR_HTTP_MAX) {
			(void)snprintf(why, len, "answer larger than %d bytes",
			    DR_HTTP_MAX);
			goto out;
		}
	}
	buf[n] = '\0';
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1 || status != 200 ||
	    (body = strstr(buf, "\r\n\r\n")) == NULL) {
		(void)snprintf(why, len, "GET /v2 on %s port %d: not a 200 "
		    "answer", h, port);
		goto out;
	}
	body += 4;
	if ((j = json_loadb(body, n - (size_t)(body - buf), 0, &jerr)) ==
	    NULL || !json_is_object(j)) {
		(void)snprintf(why, len, "GET /v2: the body is not a JSON "
		    "object");
		json_decref(j);
		j = NULL;
	}
 out:
	if (fd != -1)
		close(fd);
	if (ai != NULL)
		freeaddrinfo(ai);
	free(buf);
	return j;
}

static void
dr_check_daemon(struct dr_ctx *c)
{
	static const char *const roles[] = { "front", "worker" };
	const struct ag_config *cf = &c->d_cf;
	char pidfile[PATH_MAX], pwhy[PATH_MAX + 128], why[256], name[64];
	char missing[512] = "", have[PATH_MAX + 512] = "";
	const char *ver;
	json_t *j, *arr, *v;
	uint32_t bit;
	size_t i, ri, nl[2] = { 0, 0 }, nmiss = 0, nall = 0;
	long pid;
	int running, found;

	if (cf->cf_pid_file[0] != '\0')
		(void)snprintf(pidfile, sizeof(pidfile), "%s",
		    cf->cf_pid_file);
	else if (dr_path(c, DR_PIDFILE, pidfile, sizeof(pidfile)) != 0)
		return;
	running = dr_daemon_pid(pidfile, &pid, pwhy, sizeof(pwhy));
	/* GET /v2 in clear text, with no token: what the front door shuts. */
	if (cf->cf_tls_cert[0] != '\0' || !(config_open_categories(cf) &
	    CONFIG_OPEN_METADATA)) {
		dr_add(DR_WARN, "aiguardd-layers", "ask GET /v2 with a "
		    "metadata token and read aiguard_sandbox", "%s; its /v2 is "
		    "behind %s, which doctor does not pass", pwhy,
		    cf->cf_tls_cert[0] != '\0' ? "TLS" : "a token");
		return;
	}
	if (cf->cf_listen_port == 0) {
		dr_add(DR_WARN, "aiguardd-layers", "give --listen ADDR:PORT",
		    "%s; server.listen has port 0, so doctor cannot ask it",
		    pwhy);
		return;
	}
	if ((j = dr_get_v2(cf->cf_listen_addr, cf->cf_listen_port, why,
	    sizeof(why))) == NULL) {
		dr_add(DR_WARN, "aiguardd-layers", running ? "check the "
		    "journal (journalctl -u aiguardd)" : "systemctl start "
		    "aiguardd, then run doctor again", "%s; unreachable: %s",
		    pwhy, why);
		return;
	}
	ver = json_string_value(json_object_get(j, "version"));
	arr = json_object_get(j, "aiguard_sandbox");
	if (!json_is_array(arr)) {
		dr_add(DR_WARN, "aiguardd-layers", "update aiguardd",
		    "%s:%d answers GET /v2 without aiguard_sandbox",
		    cf->cf_listen_addr, cf->cf_listen_port);
		json_decref(j);
		return;
	}
	/*
	 * Each layer of each role must be listed as "ROLE:LAYER"; the
	 * privilege drop only when sandbox.user is set (without it, the
	 * unit's User= is what makes the daemon unprivileged, and
	 * sandbox-user says so).
	 */
	for (ri = 0; ri < 2; ri++) {
		for (bit = 1; bit <= SB_ALL; bit <<= 1) {
			if (bit == SB_PRIVDROP &&
			    cf->cf_sandbox_user[0] == '\0')
				continue;
			nall++;
			(void)snprintf(name, sizeof(name), "%s:%s",
			    roles[ri], sandbox_layer_name(bit));
			found = 0;
			json_array_foreach(arr, i, v)
				if (json_is_string(v) &&
				    strcmp(json_string_value(v), name) == 0)
					found = 1;
			if (found) {
				nl[ri]++;
				continue;
			}
			nmiss++;
			if (strlen(missing) + strlen(name) + 2 <
			    sizeof(missing))
				(void)snprintf(missing + strlen(missing),
				    sizeof(missing) - strlen(missing), "%s%s",
				    missing[0] != '\0' ? "," : "", name);
		}
	}
	(void)snprintf(have, sizeof(have), "aiguardd %s on %s:%d reports "
	    "front %zu/%zu and worker %zu/%zu layers active%s; %s",
	    ver != NULL ? ver : "?", cf->cf_listen_addr, cf->cf_listen_port,
	    nl[0], nall / 2, nl[1], nall / 2, cf->cf_sandbox_user[0] == '\0' ?
	    " (privdrop not counted: sandbox.user is empty)" : "", pwhy);
	if (nmiss == 0)
		dr_add(DR_PASS, "aiguardd-layers", NULL, "%s", have);
	else if (cf->cf_sandbox_mode == SANDBOX_REQUIRED)
		dr_add(DR_FAIL, "aiguardd-layers", "restart aiguardd and read "
		    "its start-up log (the configuration it runs with may not "
		    "be this one)", "%s; inactive: %s, with sandbox.mode = "
		    "required", have, missing);
	else
		dr_add(DR_WARN, "aiguardd-layers", "set sandbox.mode = "
		    "required on a kernel that has every layer", "%s; "
		    "inactive: %s", have, missing);
	json_decref(j);
}

/* ==== The command ====================================================== */

static void
doctor_usage(FILE *fp)
{
	fprintf(fp, "usage: aiguard doctor [--json] [--config FILE] "
	    "[--root DIR] [--listen ADDR:PORT]\n"
	    "  checks this host's aiguard deployment: SELinux, labels, the "
	    "unit,\n"
	    "  owners and modes, kernel layers, the configuration and the "
	    "running\n"
	    "  aiguardd; PASS, WARN or FAIL per check, with a fix.\n"
	    "  --json          one JSON object instead of lines\n"
	    "  --config FILE   the daemon's configuration (default "
	    "ROOT" DR_CONFIG ")\n"
	    "  --root DIR      look for every default path below DIR\n"
	    "  --listen A:P    ask the aiguardd on A:P (default: "
	    "server.listen)\n"
	    "exit status: 0 no FAIL, 1 a FAIL, 2 a usage error\n");
}

int
cmd_doctor(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "config", required_argument, NULL, 'c' },
		{ "root", required_argument, NULL, 'r' },
		{ "listen", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dr_ctx c;
	const char *config = NULL, *listen = NULL;
	char err[256];
	int ch, json = 0;

	memset(&c, 0, sizeof(c));
	c.d_root = "";
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'c':
			config = optarg;
			break;
		case 'r':
			if (optarg[0] != '/' || strcmp(optarg, "/") == 0) {
				log_warnx("doctor: --root: an absolute path "
				    "other than /");
				return 2;
			}
			c.d_root = optarg;
			break;
		case 'l':
			listen = optarg;
			break;
		case 'h':
			doctor_usage(stdout);
			return 0;
		default:
			doctor_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		doctor_usage(stderr);
		return 2;
	}
	if (config != NULL) {
		if ((size_t)snprintf(c.d_config, sizeof(c.d_config), "%s",
		    config) >= sizeof(c.d_config)) {
			log_warnx("doctor: --config: path too long");
			return 2;
		}
	} else if (dr_path(&c, DR_CONFIG, c.d_config,
	    sizeof(c.d_config)) != 0) {
		log_warnx("doctor: --root: path too long");
		return 2;
	}
	dr_check_config(&c);
	if (listen != NULL && config_set(&c.d_cf, "server.listen", listen,
	    err, sizeof(err)) != 0) {
		log_warnx("doctor: --listen: %s", err);
		return 2;
	}
	dr_find_unit(&c);
	dr_daemon_ids(&c);
	dr_check_sandbox_conf(&c);
	dr_check_listen(&c);
	dr_check_kernel(&c);
	dr_check_selinux(&c);
	dr_check_unit(&c);
	dr_check_store(&c);
	dr_check_keys(&c);
	dr_check_private(&c);
	dr_check_frontdoor(&c);
	dr_check_daemon(&c);
	return dr_print(json);
}
