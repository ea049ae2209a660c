/* SPDX-License-Identifier: ISC */
/*
 * probe.c: aiguard probe [--config FILE] [--model DIR]
 *          [--sandbox required|best-effort|off] [--json]
 *          [--expect blocked|allowed] [--compare] [--layers LIST]
 *
 * The attack experiment of the article, run from inside aiguardd's own
 * confined roles.  The configuration is built as aiguardd builds it
 * (defaults, the file, the overrides), then for each role (front, worker)
 * and each attempt below, a fresh child is forked from the unconfined
 * probe; the child takes the role's settings (daemon_sandbox_conf()),
 * calls sandbox_enter() and sandbox_lock() exactly as aiguardd does, makes
 * ONE attempt and reports through a pipe.  A child killed by SIGSYS was
 * stopped by seccomp.
 *
 * Harmless by construction: the model directory is copied into a scratch
 * directory (mkdtemp, /tmp/aiguard-probe.XXXXXX) and the worker's sandbox
 * is given that copy, so the real model is never touched, even with the
 * sandbox off.  After each attempt the probe puts the copy back when the
 * attempt changed it, and removes what an allowed attempt created outside
 * (/tmp/aiguard-probe-PID-*, /var/www/aiguard-probe-PID).  Everything is
 * removed at the end.  The "sibling" is a child of the probe that sleeps
 * until the probe kills it; the loopback TCP port and the abstract UNIX
 * socket are the probe's own, bound before any child is forked.
 *
 * Kinds of attempts: an attack must be BLOCKED when confined; a control
 * (the worker reading its own model) must be ALLOWED when confined, or the
 * sandbox would break the daemon; "info" (threads) is reported and not
 * judged: seccomp lets clone(CLONE_THREAD) through, and RLIMIT_NPROC 0
 * refuses it to a non-root process only.
 *
 * Expected under plain DAC (sandbox off), used by --expect allowed: the
 * scratch files are the invoker's own, so everything on them is allowed
 * to root and non-root alike; /etc/shadow only where access(R_OK) says
 * so (root); /var/www only where it is writable (root); ptrace,
 * process_vm_readv and /proc/PID/mem of the sibling when root, or when
 * Yama's ptrace_scope is 0 or absent (the sibling is not a descendant of
 * the attacker); the memory attempt when RLIMIT_AS allows it; python3
 * when it is installed (else SKIPPED).
 *
 * Layers alone (--layers landlock, seccomp, ...): the children apply only
 * those layers (sandbox_conf.sb_only; no_new_privs comes with Landlock and
 * seccomp, which need it), to show that each layer blocks by itself what
 * it claims to.  Every attack declares, per role, the layers that claim
 * it (see "The claims" above the table); with --layers, the attacks the
 * asked layers claim must be BLOCKED, the others are reported and not
 * judged, and a claiming layer asked for but not in force (seccomp in a
 * sanitizer build) is a failure.  Without --layers every layer is
 * applied and every attack judged, and each is claimed by one layer at
 * least.  The JSON carries, per attempt, "claimed_by", "claims_void"
 * (claims that do not hold in a child with root privileges),
 * "layers_in_force" and "judged".
 *
 * Exit status: 2 on a usage error; 1 when a child could not apply its
 * sandbox, when an attempt failed in an unexpected way (ERROR), or when
 * the expectation is not met.  The expectation is --expect's; without it,
 * "blocked" for the modes required and best-effort, nothing for off.
 * "blocked": every attack BLOCKED (or SKIPPED) and every control ALLOWED.
 * "allowed": every attack or control that DAC allows is ALLOWED.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <linux/capability.h>

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "common/config.h"
#include "common/log.h"
#include "daemon/daemon.h"
#include "model/model.h"
#include "sandbox/sandbox.h"

#if defined(__SANITIZE_ADDRESS__)
#define PROBE_SANITIZER	1
#else
#define PROBE_SANITIZER	0
#endif

#ifndef PR_GET_MDWE
#define PR_GET_MDWE		66
#endif

#define PROBE_EXEC_STATUS	42	/* what an exec'd shell exits with */
#define PROBE_CHILD_TIMEOUT	10	/* seconds, per attempt */
#define PROBE_PATH_MAX		512	/* paths under the scratch dir */
#define PROBE_EV_MAX		96
#define PROBE_LIB		"/lib/x86_64-linux-gnu/libm.so.6"

enum probe_result { R_BLOCKED, R_ALLOWED, R_SKIPPED, R_ERROR };
enum probe_kind { K_NONE, K_ATTACK, K_CONTROL, K_INFO };
enum probe_msg_type { MSG_STATE, MSG_SANDBOX_ERR, MSG_RESULT };
enum probe_expect { EXPECT_NONE, EXPECT_BLOCKED, EXPECT_ALLOWED };

struct probe_msg {
	int		pm_type;
	int		pm_result;
	uint32_t	pm_active, pm_missing;
	int		pm_privileged;	/* see probe_privileged() */
	char		pm_text[200];
};

struct probe_attempt {
	const char	*pa_scenario;
	const char	*pa_name;
	int		 pa_front, pa_worker;	/* K_* per role */
	int		(*pa_fn)(char *, size_t);
	int		(*pa_dac)(void);	/* allowed by DAC alone */
	const char	*(*pa_skip)(void);	/* why not run, or NULL */
	/*
	 * The layers (SB_*) that claim to block this attack by themselves,
	 * front and worker (see "The claims" above the table); of those,
	 * the ones whose claim holds only in a child without root
	 * privileges (RLIMIT_NPROC).
	 */
	uint32_t	 pa_claim_front, pa_claim_worker;
	uint32_t	 pa_unpriv;
};

struct probe_record {
	const char	*pr_role;
	const struct probe_attempt *pr_a;
	int		 pr_kind;
	int		 pr_result;
	int		 pr_dac;	/* pa_dac(), before the clean-up */
	uint32_t	 pr_active;	/* layers in force in the child */
	uint32_t	 pr_claims;	/* the role's claims holding there */
	uint32_t	 pr_void;	/* claims that do not (privileged) */
	int		 pr_judged;	/* the verdict counts */
	char		 pr_ev[256];
};

/* Everything the attempts aim at, set up by the unconfined probe. */
static struct {
	char	scratch[64];
	char	model[128];		/* scratch/model: the worker's dir */
	char	moved[PROBE_PATH_MAX];	/* scratch/model-moved */
	char	weights[PROBE_PATH_MAX];
	char	labels[PROBE_PATH_MAX];
	char	cfgfile[PROBE_PATH_MAX];
	char	planted[PROBE_PATH_MAX];	/* scratch/planted-weights */
	char	secret[PROBE_PATH_MAX];	/* scratch/secret, 0600 */
	char	ssh[PATH_MAX + 64];		/* ~/.ssh or a fake key */
	int	ssh_is_dir;
	char	lib[PROBE_PATH_MAX];		/* a copy of libm */
	char	tmp_link[PROBE_PATH_MAX];	/* /tmp/aiguard-probe-PID-link */
	char	tmp_copy[PROBE_PATH_MAX];
	char	www_dir[128];	/* /var/www or scratch/var-www */
	char	www_copy[PROBE_PATH_MAX];
	char	proc_mem[64];
	char	unix_name[64];		/* abstract: leading NUL */
	size_t	unix_len;
	int	tcp_fd, unix_fd;
	int	tcp_port;
	pid_t	sibling;
	uint64_t max_memory;
	char	sig[8192];		/* the model copy, as last restored */
} pe;

/* The sibling's memory that process_vm_readv and /proc/PID/mem aim at. */
static char probe_secret[32] = "aiguard-probe-secret";

/* ---- helpers -------------------------------------------------------- */

static const char *
probe_errname(int e)
{
	const char *n = strerrorname_np(e);

	return n != NULL ? n : "errno?";
}

/* A failed step: BLOCKED for the errors a sandbox answers with. */
static int
probe_fail(char *ev, size_t evlen, const char *step)
{
	int e = errno;

	(void)snprintf(ev, evlen, "%s: %s", step, probe_errname(e));
	switch (e) {
	case EACCES:
	case EPERM:
	case EAGAIN:
	case EXDEV:	/* Landlock refuses a link or rename across rules */
	case ENOMEM:	/* RLIMIT_AS */
	case ENOSYS:	/* seccomp's answer to clone3 */
		return R_BLOCKED;
	default:
		return R_ERROR;
	}
}

static int
probe_ok(char *ev, size_t evlen, const char *what)
{
	(void)snprintf(ev, evlen, "%s", what);
	return R_ALLOWED;
}

static int
probe_copy_file(const char *src, const char *dst, mode_t mode)
{
	char buf[65536];
	ssize_t n;
	int in, out, r = 0;

	if ((in = open(src, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    mode)) == -1) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			r = -1;
			break;
		}
	if (n < 0)
		r = -1;
	close(in);
	if (fchmod(out, mode) == -1 || close(out) == -1)
		r = -1;
	return r;
}

static int
probe_rm_cb(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)remove(path);
	return 0;
}

static void
probe_rm_rf(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == -1)
		return;
	if (S_ISDIR(st.st_mode))
		(void)chmod(path, 0700);
	(void)nftw(path, probe_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* Copies the regular files of the model directory src into pe.model. */
static int
probe_copy_model(const char *src)
{
	char s[PATH_MAX + NAME_MAX + 2], d[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *dp;
	int r = 0;

	if (mkdir(pe.model, 0755) == -1 || chmod(pe.model, 0755) == -1)
		return -1;
	if ((dp = opendir(src)) == NULL)
		return -1;
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		(void)snprintf(s, sizeof(s), "%s/%s", src, de->d_name);
		(void)snprintf(d, sizeof(d), "%s/%s", pe.model, de->d_name);
		if (stat(s, &st) == -1 || !S_ISREG(st.st_mode))
			continue;
		if (probe_copy_file(s, d, 0644) == -1) {
			r = -1;
			break;
		}
	}
	closedir(dp);
	return r;
}

/* What the model copy looks like: every entry, its inode, mode, size. */
static void
probe_model_sig(char *out, size_t len)
{
	struct dirent *de;
	struct stat st;
	char p[PATH_MAX];
	size_t o = 0;
	DIR *dp;

	out[0] = '\0';
	if (lstat(pe.model, &st) == -1) {
		(void)snprintf(out, len, "missing");
		return;
	}
	o += (size_t)snprintf(out, len, "dir %lu %o %ld.%ld;",
	    (unsigned long)st.st_ino, (unsigned)st.st_mode,
	    (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	if ((dp = opendir(pe.model)) == NULL)
		return;
	while ((de = readdir(dp)) != NULL && o < len) {
		(void)snprintf(p, sizeof(p), "%s/%s", pe.model, de->d_name);
		if (lstat(p, &st) == -1)
			continue;
		o += (size_t)snprintf(out + o, len - o,
		    "%s %lu %o %lu %lld %ld.%ld;", de->d_name,
		    (unsigned long)st.st_ino, (unsigned)st.st_mode,
		    (unsigned long)st.st_nlink, (long long)st.st_size,
		    (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	}
	closedir(dp);
}

/* ---- 1. model modification ------------------------------------------ */

/* Opens the weights for writing (without writing). */
static int
try_model_open_write(char *ev, size_t evlen)
{
	int fd = open(pe.weights, O_WRONLY | O_CLOEXEC);

	if (fd == -1)
		return probe_fail(ev, evlen, "open O_WRONLY");
	close(fd);
	return probe_ok(ev, evlen, "opened for writing");
}

static int
try_model_truncate(char *ev, size_t evlen)
{
	if (truncate(pe.weights, 0) == -1)
		return probe_fail(ev, evlen, "truncate");
	return probe_ok(ev, evlen, "truncated to 0 bytes");
}

static int
try_model_append(char *ev, size_t evlen)
{
	int fd = open(pe.weights, O_WRONLY | O_APPEND | O_CLOEXEC);

	if (fd == -1)
		return probe_fail(ev, evlen, "open O_APPEND");
	if (write(fd, "X", 1) != 1) {
		close(fd);
		return probe_fail(ev, evlen, "write");
	}
	close(fd);
	return probe_ok(ev, evlen, "appended 1 byte");
}

/* Moves a planted file from the scratch directory over the weights. */
static int
try_model_rename_over(char *ev, size_t evlen)
{
	if (rename(pe.planted, pe.weights) == -1)
		return probe_fail(ev, evlen, "rename");
	return probe_ok(ev, evlen, "weights replaced");
}

static int
try_model_unlink(char *ev, size_t evlen)
{
	if (unlink(pe.weights) == -1)
		return probe_fail(ev, evlen, "unlink");
	return probe_ok(ev, evlen, "weights unlinked");
}

static int
try_model_chmod(char *ev, size_t evlen)
{
	if (chmod(pe.weights, 0666) == -1)
		return probe_fail(ev, evlen, "chmod");
	return probe_ok(ev, evlen, "mode 0666");
}

static int
try_model_create(char *ev, size_t evlen)
{
	char p[PATH_MAX];
	int fd;

	(void)snprintf(p, sizeof(p), "%s/planted", pe.model);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0644)) == -1)
		return probe_fail(ev, evlen, "open O_CREAT");
	close(fd);
	return probe_ok(ev, evlen, "created model/planted");
}

/* labels.txt becomes a symlink to /etc/passwd (symlink, then rename). */
static int
try_model_symlink(char *ev, size_t evlen)
{
	char p[PATH_MAX];

	(void)snprintf(p, sizeof(p), "%s.probe", pe.labels);
	if (symlink("/etc/passwd", p) == -1)
		return probe_fail(ev, evlen, "symlink");
	if (rename(p, pe.labels) == -1)
		return probe_fail(ev, evlen, "rename");
	return probe_ok(ev, evlen, "labels.txt -> /etc/passwd");
}

static int
try_model_hardlink(char *ev, size_t evlen)
{
	if (link(pe.weights, pe.tmp_link) == -1)
		return probe_fail(ev, evlen, "link");
	return probe_ok(ev, evlen, "linked into /tmp");
}

/* ---- 2. workload execution ------------------------------------------ */

static int
probe_exec(const char *path, char *const argv[], char *ev, size_t evlen)
{
	char *const envp[] = { NULL };

	if (access(path, X_OK) == -1 && errno == ENOENT) {
		(void)snprintf(ev, evlen, "%s not installed", path);
		return R_SKIPPED;
	}
	execve(path, argv, envp);
	return probe_fail(ev, evlen, "execve");
}

static int
try_exec_sh(char *ev, size_t evlen)
{
	char *const argv[] = { "sh", "-c", "exit 42", NULL };

	return probe_exec("/bin/sh", argv, ev, evlen);
}

static int
try_exec_python(char *ev, size_t evlen)
{
	char *const argv[] = { "python3", "-c", "raise SystemExit(42)",
	    NULL };

	return probe_exec("/usr/bin/python3", argv, ev, evlen);
}

static int
try_mmap_wx(char *ev, size_t evlen)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return probe_fail(ev, evlen, "mmap W+X");
	munmap(p, 4096);
	return probe_ok(ev, evlen, "W+X page mapped");
}

/* Writes a "ret" into a page, then asks for it executable (not run). */
static int
try_mprotect_x(char *ev, size_t evlen)
{
	unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return probe_fail(ev, evlen, "mmap");
	p[0] = 0xc3;
	if (mprotect(p, 4096, PROT_READ | PROT_EXEC) == -1) {
		munmap(p, 4096);
		return probe_fail(ev, evlen, "mprotect X");
	}
	munmap(p, 4096);
	return probe_ok(ev, evlen, "written page made executable");
}

static int
try_fork(char *ev, size_t evlen)
{
	pid_t pid = fork();
	int st;

	if (pid == -1)
		return probe_fail(ev, evlen, "fork");
	if (pid == 0)
		_exit(0);
	(void)waitpid(pid, &st, 0);
	return probe_ok(ev, evlen, "forked");
}

/* dlopen of a library the attacker dropped in a writable place. */
static int
try_dlopen(char *ev, size_t evlen)
{
	const char *msg, *tail;
	void *h;

	errno = 0;
	if ((h = dlopen(pe.lib, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		int e = errno;

		if (e == EACCES || e == EPERM)
			return probe_fail(ev, evlen, "dlopen");
		msg = dlerror();
		tail = msg != NULL ? strrchr(msg, ':') : NULL;
		(void)snprintf(ev, evlen, "dlopen:%s", tail != NULL ? tail + 1 :
		    " failed");
		/* "cannot open shared object file: Permission denied" */
		return msg != NULL && strstr(msg, "ermission") != NULL ?
		    R_BLOCKED : R_ERROR;
	}
	dlclose(h);
	return probe_ok(ev, evlen, "library loaded");
}

/* ---- 3. theft ------------------------------------------------------- */

static int
probe_read(const char *path, const char *what, char *ev, size_t evlen)
{
	char b[64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		return probe_fail(ev, evlen, "open");
	if (read(fd, b, sizeof(b)) < 0) {
		close(fd);
		return probe_fail(ev, evlen, "read");
	}
	close(fd);
	return probe_ok(ev, evlen, what);
}

static int
try_read_shadow(char *ev, size_t evlen)
{
	return probe_read("/etc/shadow", "read /etc/shadow", ev, evlen);
}

static int
try_read_secret(char *ev, size_t evlen)
{
	return probe_read(pe.secret, "read the 0600 file", ev, evlen);
}

/* ~/.ssh: lists the real directory, or reads the planted fake key. */
static int
try_read_ssh(char *ev, size_t evlen)
{
	DIR *dp;

	if (!pe.ssh_is_dir)
		return probe_read(pe.ssh, "read ~/.ssh/id_rsa", ev, evlen);
	if ((dp = opendir(pe.ssh)) == NULL)
		return probe_fail(ev, evlen, "opendir");
	errno = 0;
	if (readdir(dp) == NULL && errno != 0) {
		closedir(dp);
		return probe_fail(ev, evlen, "readdir");
	}
	closedir(dp);
	return probe_ok(ev, evlen, "listed ~/.ssh");
}

static int
try_read_model(char *ev, size_t evlen)
{
	return probe_read(pe.weights, "read the weights", ev, evlen);
}

static int
probe_copy_out(const char *dst, char *ev, size_t evlen)
{
	char b[4096];
	ssize_t n;
	int in, out;

	if ((in = open(pe.weights, O_RDONLY | O_CLOEXEC)) == -1)
		return probe_fail(ev, evlen, "open model");
	if ((n = read(in, b, sizeof(b))) < 0) {
		close(in);
		return probe_fail(ev, evlen, "read model");
	}
	close(in);
	if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0644)) == -1)
		return probe_fail(ev, evlen, "create copy");
	if (write(out, b, (size_t)n) != n) {
		close(out);
		return probe_fail(ev, evlen, "write copy");
	}
	close(out);
	return probe_ok(ev, evlen, "copied 4 KiB of weights");
}

static int
try_copy_tmp(char *ev, size_t evlen)
{
	return probe_copy_out(pe.tmp_copy, ev, evlen);
}

static int
try_copy_www(char *ev, size_t evlen)
{
	return probe_copy_out(pe.www_copy, ev, evlen);
}

static int
try_connect_tcp(char *ev, size_t evlen)
{
	struct sockaddr_in sin;
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return probe_fail(ev, evlen, "socket");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)pe.tcp_port);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return probe_fail(ev, evlen, "connect");
	}
	close(fd);
	return probe_ok(ev, evlen, "connected to 127.0.0.1");
}

static int
try_send_unix(char *ev, size_t evlen)
{
	struct sockaddr_un sun;
	int fd;

	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return probe_fail(ev, evlen, "socket");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, pe.unix_name, pe.unix_len);
	if (sendto(fd, "x", 1, MSG_DONTWAIT, (struct sockaddr *)&sun,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    pe.unix_len)) == -1) {
		close(fd);
		return probe_fail(ev, evlen, "sendto");
	}
	close(fd);
	return probe_ok(ev, evlen, "datagram sent");
}

/* ---- 4. directory tampering ----------------------------------------- */

static int
try_dir_rename(char *ev, size_t evlen)
{
	if (rename(pe.model, pe.moved) == -1)
		return probe_fail(ev, evlen, "rename");
	return probe_ok(ev, evlen, "model dir renamed");
}

/* rm -r: each entry, then the directory. */
static int
try_dir_delete(char *ev, size_t evlen)
{
	struct dirent *de;
	DIR *dp;
	int dfd;

	if ((dp = opendir(pe.model)) == NULL)
		return probe_fail(ev, evlen, "opendir");
	dfd = dirfd(dp);
	while ((de = readdir(dp)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dfd, de->d_name, 0) == -1) {
			closedir(dp);
			return probe_fail(ev, evlen, "unlink entry");
		}
	}
	closedir(dp);
	if (rmdir(pe.model) == -1)
		return probe_fail(ev, evlen, "rmdir");
	return probe_ok(ev, evlen, "model dir deleted");
}

static int
try_dir_mkdir(char *ev, size_t evlen)
{
	char p[PATH_MAX];

	(void)snprintf(p, sizeof(p), "%s/planted.d", pe.model);
	if (mkdir(p, 0755) == -1)
		return probe_fail(ev, evlen, "mkdir");
	return probe_ok(ev, evlen, "created model/planted.d");
}

static int
try_dir_unlink(char *ev, size_t evlen)
{
	if (unlink(pe.cfgfile) == -1)
		return probe_fail(ev, evlen, "unlink");
	return probe_ok(ev, evlen, "config.json removed");
}

static int
try_dir_chmod(char *ev, size_t evlen)
{
	if (chmod(pe.model, 0777) == -1)
		return probe_fail(ev, evlen, "chmod");
	return probe_ok(ev, evlen, "model dir mode 0777");
}

/* ---- 5. resource abuse ---------------------------------------------- */

/* At most 5 children, each exits at once and is reaped. */
static int
try_fork_bomb(char *ev, size_t evlen)
{
	pid_t pid;
	int i, n = 0, st, e = 0;

	for (i = 0; i < 5; i++) {
		if ((pid = fork()) == -1) {
			e = errno;
			break;
		}
		if (pid == 0)
			_exit(0);
		n++;
	}
	while (wait(&st) > 0)
		;
	if (n == 0) {
		errno = e;
		return probe_fail(ev, evlen, "fork");
	}
	(void)snprintf(ev, evlen, "%d of 5 forks", n);
	return R_ALLOWED;
}

/* max_memory + 64 MiB, one byte touched per MiB. */
static int
try_memory(char *ev, size_t evlen)
{
	size_t len = (size_t)pe.max_memory + ((size_t)64 << 20), i;
	volatile char *p;

	errno = 0;
	if ((p = malloc(len)) == NULL) {
		if (errno == 0)
			errno = ENOMEM;
		return probe_fail(ev, evlen, "malloc");
	}
	for (i = 0; i < len; i += (size_t)1 << 20)
		p[i] = 1;
	free((void *)p);
	(void)snprintf(ev, evlen, "allocated %zu MiB", len >> 20);
	return R_ALLOWED;
}

static const char *
skip_memory(void)
{
	if (PROBE_SANITIZER)
		return "sanitizer build: no RLIMIT_AS";
	if (pe.max_memory == 0)
		return "sandbox.max_memory is 0";
	return NULL;
}

static void *
probe_thread(void *arg)
{
	return arg;
}

static int
try_threads(char *ev, size_t evlen)
{
	pthread_t t[4];
	int i, n, r = 0;

	for (n = 0; n < 4; n++)
		if ((r = pthread_create(&t[n], NULL, probe_thread, NULL)) != 0)
			break;
	for (i = 0; i < n; i++)
		(void)pthread_join(t[i], NULL);
	if (n == 0) {
		errno = r;
		return probe_fail(ev, evlen, "pthread_create");
	}
	(void)snprintf(ev, evlen, "%d of 4 threads", n);
	return R_ALLOWED;
}

/* ---- 6. lateral movement -------------------------------------------- */

static int
try_ptrace(char *ev, size_t evlen)
{
	int st;

	if (ptrace(PTRACE_ATTACH, pe.sibling, NULL, NULL) == -1)
		return probe_fail(ev, evlen, "PTRACE_ATTACH");
	(void)waitpid(pe.sibling, &st, __WALL);
	(void)ptrace(PTRACE_DETACH, pe.sibling, NULL, NULL);
	return probe_ok(ev, evlen, "attached to the sibling");
}

static int
try_vm_readv(char *ev, size_t evlen)
{
	char b[sizeof(probe_secret)];
	struct iovec l = { b, sizeof(b) };
	struct iovec r = { probe_secret, sizeof(probe_secret) };

	if (process_vm_readv(pe.sibling, &l, 1, &r, 1, 0) == -1)
		return probe_fail(ev, evlen, "process_vm_readv");
	return probe_ok(ev, evlen, "read the sibling's memory");
}

static int
try_kill(char *ev, size_t evlen)
{
	/* SIGCONT: harmless to a sleeping process. */
	if (kill(pe.sibling, SIGCONT) == -1)
		return probe_fail(ev, evlen, "kill");
	return probe_ok(ev, evlen, "signalled the sibling");
}

static int
try_proc_mem(char *ev, size_t evlen)
{
	char b[sizeof(probe_secret)];
	int fd;

	if ((fd = open(pe.proc_mem, O_RDONLY | O_CLOEXEC)) == -1)
		return probe_fail(ev, evlen, "open");
	if (pread(fd, b, sizeof(b), (off_t)(uintptr_t)probe_secret) < 0) {
		close(fd);
		return probe_fail(ev, evlen, "pread");
	}
	close(fd);
	return probe_ok(ev, evlen, "read /proc/SIBLING/mem");
}

/* ---- what DAC alone allows (sandbox off) ---------------------------- */

static int
dac_yes(void)
{
	return 1;
}

static int
dac_shadow(void)
{
	return access("/etc/shadow", R_OK) == 0;
}

static int
dac_www(void)
{
	return access(pe.www_dir, W_OK) == 0;
}

static int
dac_mdwe(void)
{
	return prctl(PR_GET_MDWE, 0, 0, 0, 0) <= 0;
}

static int
dac_ptrace(void)
{
	FILE *fp;
	int scope = 0;

	if ((fp = fopen("/proc/sys/kernel/yama/ptrace_scope", "re")) != NULL) {
		if (fscanf(fp, "%d", &scope) != 1)
			scope = 0;
		fclose(fp);
	}
	return geteuid() == 0 ? scope < 3 : scope == 0;
}

static int
dac_memory(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_AS, &rl) == -1)
		return 0;
	return rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur > pe.max_memory + ((uint64_t)128 << 20);
}

/* ---- the table ------------------------------------------------------ */

#define S1	"model modification"
#define S2	"workload execution"
#define S3	"theft"
#define S4	"directory tampering"
#define S5	"resource abuse"
#define S6	"lateral movement"

/*
 * The claims: which layer blocks each attack by itself, per role (the
 * last three columns: front, worker, and the claims that need a child
 * without root privileges).  `--layers X` applies X alone (and the
 * prerequisite no_new_privs) and judges exactly the attacks X claims;
 * every attack is claimed by at least one layer (probe_check_table()).
 *
 * LL, Landlock (landlock.h): every path outside the worker's model
 * directory is closed, for reading, writing, creating, removing, renaming,
 * linking, truncating and executing (execve, and dlopen's open); beneath
 * the model directory the worker may only read and list; the front may
 * not even read.  TCP connect is refused; signals and abstract UNIX
 * sockets are scoped to the sandbox; ptrace, process_vm_readv and
 * /proc/PID/mem of a process outside the sandbox are refused by its
 * ptrace rule, whatever the capabilities.  It does not see chmod (file
 * metadata), fork, memory, or W+X mappings.
 *
 * SC, seccomp (seccomp.c): every call missing from the role's list kills:
 * execve, ptrace, process_vm_readv, fork (clone without CLONE_THREAD),
 * chmod, truncate, rename, unlink, link, symlink, mkdir, socket, kill;
 * mmap and mprotect with PROT_EXEC (W+X pages, dlopen's code); the front's
 * every openat fails with EACCES, the worker's openat for writing or
 * creating kills.  It does not see what the worker opens read-only
 * (/etc/shadow, a private file, ~/.ssh: Landlock's part), nor memory
 * use.  The worker may open /proc/PID/mem too, but not read the
 * sibling's memory there: it has neither pread nor lseek to reach an
 * address.
 *
 * MD, MDWE (PR_SET_MDWE): no mapping both writable and executable, no
 * mapping made executable later.  File mappings that were never writable
 * stay allowed (dlopen is Landlock's and seccomp's).
 *
 * RL, rlimits: RLIMIT_AS refuses the allocation past sandbox.max_memory;
 * RLIMIT_NPROC 0 refuses fork, but only to a process without root
 * privileges (the kernel exempts real uid 0, CAP_SYS_RESOURCE and
 * CAP_SYS_ADMIN): a claim that holds only in such a child.
 *
 * privdrop, capabilities and no_new_privs claim nothing here: the
 * attempts aim at the invoker's own scratch files, where DAC allows
 * whoever runs the probe, and what a dropped root can no longer read
 * depends on the host's file modes, not on us.  no_new_privs guards
 * against a set-user-ID exec, which Landlock and seccomp refuse first.
 */
#define LL	SB_LANDLOCK
#define SC	SB_SECCOMP
#define MD	SB_MDWE
#define RL	SB_RLIMITS
/* The layers that claim attacks (the others: see above). */
#define PROBE_CLAIMING	(LL | SC | MD | RL)

static const struct probe_attempt attempts[] = {
	{ S1, "open the weights for writing", K_ATTACK, K_ATTACK,
	    try_model_open_write, dac_yes, NULL,
	    LL | SC, LL | SC, 0 },
	{ S1, "truncate the weights", K_ATTACK, K_ATTACK,
	    try_model_truncate, dac_yes, NULL,
	    LL | SC, LL | SC, 0 },
	{ S1, "append to the weights", K_ATTACK, K_ATTACK,
	    try_model_append, dac_yes, NULL,
	    LL | SC, LL | SC, 0 },
	{ S1, "rename a file over the weights", K_ATTACK, K_ATTACK,
	    try_model_rename_over, dac_yes, NULL,
	    LL | SC, LL | SC, 0 },
	{ S1, "unlink the weights", K_ATTACK, K_ATTACK,
	    try_model_unlink, dac_yes, NULL,
	    LL | SC, LL | SC, 0 },
	{ S1, "chmod the weights", K_ATTACK, K_ATTACK,
	    try_model_chmod, dac_yes, NULL,
	    SC, SC, 0 },
	{ S1, "create a file in the model dir", K_ATTACK, K_ATTACK,
	    try_model_create, dac_yes, NULL,
	    LL | SC, LL | SC, 0 },
	{ S1, "replace labels.txt with a symlink", K_ATTACK, K_ATTACK,
	    try_model_symlink, dac_yes, NULL,
	    LL | SC, LL | SC, 0 },
	{ S1, "hard-link the weights into /tmp", K_ATTACK, K_ATTACK,
	    try_model_hardlink, dac_yes, NULL,
	    LL | SC, LL | SC, 0 },
	{ S2, "execve /bin/sh", K_ATTACK, K_ATTACK,
	    try_exec_sh, dac_yes, NULL,
	    LL | SC, LL | SC, 0 },
	{ S2, "execve /usr/bin/python3", K_ATTACK, K_ATTACK,
	    try_exec_python, dac_yes, NULL,
	    LL | SC, LL | SC, 0 },
	{ S2, "mmap PROT_WRITE|PROT_EXEC", K_ATTACK, K_ATTACK,
	    try_mmap_wx, dac_mdwe, NULL,
	    SC | MD, SC | MD, 0 },
	{ S2, "mprotect a written page to PROT_EXEC", K_ATTACK, K_ATTACK,
	    try_mprotect_x, dac_mdwe, NULL,
	    SC | MD, SC | MD, 0 },
	{ S2, "fork", K_ATTACK, K_ATTACK,
	    try_fork, dac_yes, NULL,
	    SC | RL, SC | RL, RL },
	{ S2, "dlopen a library dropped in /tmp", K_ATTACK, K_ATTACK,
	    try_dlopen, dac_yes, NULL,
	    LL | SC, LL | SC, 0 },
	{ S3, "read /etc/shadow", K_ATTACK, K_ATTACK,
	    try_read_shadow, dac_shadow, NULL,
	    LL | SC, LL, 0 },
	{ S3, "read a private (0600) file", K_ATTACK, K_ATTACK,
	    try_read_secret, dac_yes, NULL,
	    LL | SC, LL, 0 },
	{ S3, "read ~/.ssh", K_ATTACK, K_ATTACK,
	    try_read_ssh, dac_yes, NULL,
	    LL | SC, LL, 0 },
	{ S3, "read the model file", K_ATTACK, K_CONTROL,
	    try_read_model, dac_yes, NULL,
	    LL | SC, 0, 0 },
	{ S3, "copy the model to /tmp", K_ATTACK, K_ATTACK,
	    try_copy_tmp, dac_yes, NULL,
	    LL | SC, LL | SC, 0 },
	{ S3, "copy the model to /var/www", K_ATTACK, K_ATTACK,
	    try_copy_www, dac_www, NULL,
	    LL | SC, LL | SC, 0 },
	{ S3, "connect to a loopback TCP port", K_ATTACK, K_ATTACK,
	    try_connect_tcp, dac_yes, NULL,
	    LL | SC, LL | SC, 0 },
	{ S3, "send over an abstract UNIX socket", K_ATTACK, K_ATTACK,
	    try_send_unix, dac_yes, NULL,
	    LL | SC, LL | SC, 0 },
	{ S4, "rename the model dir", K_ATTACK, K_ATTACK,
	    try_dir_rename, dac_yes, NULL,
	    LL | SC, LL | SC, 0 },
	{ S4, "delete the model dir (rm -r)", K_ATTACK, K_ATTACK,
	    try_dir_delete, dac_yes, NULL,
	    LL | SC, LL | SC, 0 },
	{ S4, "create an entry (mkdir)", K_ATTACK, K_ATTACK,
	    try_dir_mkdir, dac_yes, NULL,
	    LL | SC, LL | SC, 0 },
	{ S4, "remove an entry (config.json)", K_ATTACK, K_ATTACK,
	    try_dir_unlink, dac_yes, NULL,
	    LL | SC, LL | SC, 0 },
	{ S4, "chmod the model dir", K_ATTACK, K_ATTACK,
	    try_dir_chmod, dac_yes, NULL,
	    SC, SC, 0 },
	{ S5, "fork bomb (5 forks)", K_ATTACK, K_ATTACK,
	    try_fork_bomb, dac_yes, NULL,
	    SC | RL, SC | RL, RL },
	{ S5, "allocate past sandbox.max_memory", K_ATTACK, K_ATTACK,
	    try_memory, dac_memory, skip_memory,
	    RL, RL, 0 },
	{ S5, "create 4 threads", K_INFO, K_INFO,
	    try_threads, dac_yes, NULL,
	    0, 0, 0 },
	{ S6, "ptrace(PTRACE_ATTACH) the sibling", K_ATTACK, K_ATTACK,
	    try_ptrace, dac_ptrace, NULL,
	    LL | SC, LL | SC, 0 },
	{ S6, "process_vm_readv the sibling", K_ATTACK, K_ATTACK,
	    try_vm_readv, dac_ptrace, NULL,
	    LL | SC, LL | SC, 0 },
	{ S6, "kill(SIGCONT) the sibling", K_ATTACK, K_ATTACK,
	    try_kill, dac_yes, NULL,
	    LL | SC, LL | SC, 0 },
	{ S6, "open /proc/SIBLING/mem", K_ATTACK, K_ATTACK,
	    try_proc_mem, dac_ptrace, NULL,
	    LL | SC, LL | SC, 0 },
};

#define NATTEMPTS	(sizeof(attempts) / sizeof(attempts[0]))

/*
 * The table's own consistency: every attack is claimed, in each role it
 * is made in, by a layer whose claim holds for root too; only the
 * claiming layers claim; nothing else (a control, info) is claimed.
 * Returns 0, or -1 with a line logged per fault.
 */
static int
probe_check_table(void)
{
	const struct probe_attempt *a;
	uint32_t c;
	size_t i;
	int r = 0, k, role;

	for (i = 0; i < NATTEMPTS; i++) {
		a = &attempts[i];
		for (role = 0; role < 2; role++) {
			k = role == 0 ? a->pa_front : a->pa_worker;
			c = role == 0 ? a->pa_claim_front : a->pa_claim_worker;
			if ((c & ~(uint32_t)PROBE_CLAIMING) ||
			    (a->pa_unpriv & ~(a->pa_claim_front |
			    a->pa_claim_worker)) ||
			    (k == K_ATTACK && (c & ~a->pa_unpriv) == 0) ||
			    (k != K_ATTACK && c != 0)) {
				log_warnx("probe table: %s (%s): claims 0x%x, "
				    "unprivileged 0x%x: every attack needs "
				    "a layer that blocks it for root too, "
				    "and only attacks are claimed",
				    a->pa_name, role == 0 ? "front" :
				    "worker", (unsigned)c,
				    (unsigned)a->pa_unpriv);
				r = -1;
			}
		}
	}
	return r;
}

/* ---- set-up and clean-up -------------------------------------------- */

static pid_t
probe_sibling_start(void)
{
	pid_t pid;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		alarm(120);
		for (;;)
			pause();
	}
	return pid;
}

static void
probe_cleanup(void)
{
	int st;

	if (pe.sibling > 0) {
		(void)kill(pe.sibling, SIGKILL);
		(void)waitpid(pe.sibling, &st, 0);
		pe.sibling = 0;
	}
	if (pe.tcp_fd != -1)
		close(pe.tcp_fd);
	if (pe.unix_fd != -1)
		close(pe.unix_fd);
	pe.tcp_fd = pe.unix_fd = -1;
	if (pe.tmp_link[0] != '\0')
		(void)unlink(pe.tmp_link);
	if (pe.tmp_copy[0] != '\0')
		(void)unlink(pe.tmp_copy);
	if (pe.www_copy[0] != '\0')
		(void)unlink(pe.www_copy);
	if (pe.scratch[0] != '\0')
		probe_rm_rf(pe.scratch);
}

static int
probe_make_file(const char *path, mode_t mode, const char *text)
{
	int fd;
	size_t n = strlen(text);

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    mode)) == -1)
		return -1;
	if (write(fd, text, n) != (ssize_t)n || fchmod(fd, mode) == -1) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* The model copy and what an allowed attempt left, back as they were. */
static int
probe_restore(const char *src)
{
	char sig[sizeof(pe.sig)];
	struct stat st;
	int st2;

	(void)unlink(pe.tmp_link);
	(void)unlink(pe.tmp_copy);
	(void)unlink(pe.www_copy);
	probe_model_sig(sig, sizeof(sig));
	if (strcmp(sig, pe.sig) != 0 || lstat(pe.moved, &st) == 0) {
		probe_rm_rf(pe.moved);
		probe_rm_rf(pe.model);
		if (probe_copy_model(src) == -1)
			return -1;
		probe_model_sig(pe.sig, sizeof(pe.sig));
	}
	if (lstat(pe.planted, &st) == -1 &&
	    probe_make_file(pe.planted, 0644, "planted\n") == -1)
		return -1;
	/* The sibling: running, not stopped by a ptrace attach. */
	if (waitpid(pe.sibling, &st2, WNOHANG) == pe.sibling &&
	    (pe.sibling = probe_sibling_start()) == -1)
		return -1;
	(void)kill(pe.sibling, SIGCONT);
	/* Connections and datagrams an allowed attempt left. */
	while ((st2 = accept4(pe.tcp_fd, NULL, NULL, SOCK_CLOEXEC)) != -1)
		close(st2);
	while (recv(pe.unix_fd, sig, sizeof(sig), MSG_DONTWAIT) > 0)
		;
	return 0;
}

static int
probe_setup(const char *src, char *err, size_t errlen)
{
	struct sockaddr_in sin;
	struct sockaddr_un sun;
	socklen_t sl = sizeof(sin);
	const char *home;
	struct stat st;
	char p[PATH_MAX];
	pid_t me = getpid();

	(void)snprintf(pe.scratch, sizeof(pe.scratch),
	    "/tmp/aiguard-probe.XXXXXX");
	if (mkdtemp(pe.scratch) == NULL) {
		pe.scratch[0] = '\0';
		(void)snprintf(err, errlen, "mkdtemp: %s", strerror(errno));
		return -1;
	}
	/* A dropped sandbox.user must still reach its model copy. */
	(void)chmod(pe.scratch, 0755);
	log_info("scratch copy in %s, pid %ld", pe.scratch, (long)me);
	(void)snprintf(pe.model, sizeof(pe.model), "%s/model", pe.scratch);
	(void)snprintf(pe.moved, sizeof(pe.moved), "%s/model-moved",
	    pe.scratch);
	(void)snprintf(pe.weights, sizeof(pe.weights), "%s/%s", pe.model,
	    MODEL_WEIGHTS_FILE);
	(void)snprintf(pe.labels, sizeof(pe.labels), "%s/%s", pe.model,
	    MODEL_LABELS_FILE);
	(void)snprintf(pe.cfgfile, sizeof(pe.cfgfile), "%s/%s", pe.model,
	    MODEL_CONFIG_FILE);
	(void)snprintf(pe.planted, sizeof(pe.planted), "%s/planted-weights",
	    pe.scratch);
	(void)snprintf(pe.secret, sizeof(pe.secret), "%s/secret",
	    pe.scratch);
	(void)snprintf(pe.lib, sizeof(pe.lib), "%s/libprobe.so", pe.scratch);
	(void)snprintf(pe.tmp_link, sizeof(pe.tmp_link),
	    "/tmp/aiguard-probe-%ld-link", (long)me);
	(void)snprintf(pe.tmp_copy, sizeof(pe.tmp_copy),
	    "/tmp/aiguard-probe-%ld-copy", (long)me);
	if (stat("/var/www", &st) == 0 && S_ISDIR(st.st_mode))
		(void)snprintf(pe.www_dir, sizeof(pe.www_dir), "/var/www");
	else {
		/* No web root here: a stand-in, named as such. */
		(void)snprintf(pe.www_dir, sizeof(pe.www_dir),
		    "%s/var-www", pe.scratch);
		if (mkdir(pe.www_dir, 0755) == -1)
			goto sys;
	}
	(void)snprintf(pe.www_copy, sizeof(pe.www_copy),
	    "%s/aiguard-probe-%ld", pe.www_dir, (long)me);

	if (probe_copy_model(src) == -1) {
		(void)snprintf(err, errlen, "copying %.300s into %s: %s", src,
		    pe.model, strerror(errno));
		return -1;
	}
	probe_model_sig(pe.sig, sizeof(pe.sig));
	if (probe_make_file(pe.planted, 0644, "planted\n") == -1 ||
	    probe_make_file(pe.secret, 0600, "private\n") == -1)
		goto sys;
	if (probe_copy_file(PROBE_LIB, pe.lib, 0755) == -1) {
		(void)snprintf(err, errlen, "copying %s: %s", PROBE_LIB,
		    strerror(errno));
		return -1;
	}

	/* ~/.ssh: the invoker's when it exists, else a fake one. */
	home = getenv("HOME");
	if (home != NULL && home[0] == '/' &&
	    (size_t)snprintf(p, sizeof(p), "%s/.ssh", home) < sizeof(p) &&
	    stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
		(void)snprintf(pe.ssh, sizeof(pe.ssh), "%s", p);
		pe.ssh_is_dir = 1;
	} else {
		(void)snprintf(p, sizeof(p), "%s/home", pe.scratch);
		if (mkdir(p, 0755) == -1 || setenv("HOME", p, 1) == -1)
			goto sys;
		(void)snprintf(p, sizeof(p), "%s/home/.ssh", pe.scratch);
		if (mkdir(p, 0700) == -1)
			goto sys;
		(void)snprintf(pe.ssh, sizeof(pe.ssh), "%s/home/.ssh/id_rsa",
		    pe.scratch);
		if (probe_make_file(pe.ssh, 0600, "-----BEGIN FAKE KEY-----\n")
		    == -1)
			goto sys;
	}

	/* A loopback port and an abstract socket, the probe's own. */
	if ((pe.tcp_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1)
		goto sys;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(pe.tcp_fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(pe.tcp_fd, 16) == -1 ||
	    getsockname(pe.tcp_fd, (struct sockaddr *)&sin, &sl) == -1)
		goto sys;
	pe.tcp_port = ntohs(sin.sin_port);
	if ((pe.unix_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		goto sys;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	pe.unix_len = 1 + (size_t)snprintf(pe.unix_name + 1,
	    sizeof(pe.unix_name) - 1, "aiguard-probe-%ld", (long)me);
	memcpy(sun.sun_path, pe.unix_name, pe.unix_len);
	if (bind(pe.unix_fd, (struct sockaddr *)&sun,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    pe.unix_len)) == -1)
		goto sys;

	if ((pe.sibling = probe_sibling_start()) == -1)
		goto sys;
	(void)snprintf(pe.proc_mem, sizeof(pe.proc_mem), "/proc/%ld/mem",
	    (long)pe.sibling);
	return 0;
 sys:
	(void)snprintf(err, errlen, "set-up: %s", strerror(errno));
	return -1;
}

/* ---- one attempt ---------------------------------------------------- */

static void
probe_send(int fd, struct probe_msg *m)
{
	ssize_t n;

	do {
		n = write(fd, m, sizeof(*m));
	} while (n == -1 && errno == EINTR);
}

/*
 * Whether the kernel would exempt this process from RLIMIT_NPROC: real uid
 * 0, or CAP_SYS_RESOURCE or CAP_SYS_ADMIN in effect (copy_process()).
 * Asked between sandbox_enter() and sandbox_lock(): seccomp refuses
 * getuid and capget afterwards.  In doubt (capget failed): privileged.
 */
static int
probe_privileged(void)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[2];

	if (getuid() == 0)
		return 1;
	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &hdr, data) == -1)
		return 1;
	return (data[0].effective & (1U << CAP_SYS_RESOURCE)) != 0 ||
	    (data[0].effective & (1U << CAP_SYS_ADMIN)) != 0;
}

static void __attribute__((noreturn))
probe_child(const struct daemon_ctx *dc, enum sandbox_role role,
    const struct probe_attempt *a, uint32_t only, int wfd)
{
	struct sandbox_conf sc;
	struct sandbox_state ss;
	struct probe_msg m;
	char ev[PROBE_EV_MAX];
	int r, priv;

	/* The parent reports the layers; the children keep quiet. */
	log_setlevel(LOG_LVL_FATAL);
	alarm(PROBE_CHILD_TIMEOUT);
	memset(&m, 0, sizeof(m));
	memset(&ss, 0, sizeof(ss));
	daemon_sandbox_conf(dc, role, &sc);
	/* --layers: these alone (sandbox.h); the parent said so loudly. */
	sc.sb_only = only;
	if (sandbox_enter(&sc, &ss, m.pm_text, sizeof(m.pm_text)) != 0)
		goto bad;
	priv = probe_privileged();
	if (sandbox_lock(&sc, &ss, m.pm_text, sizeof(m.pm_text)) != 0)
		goto bad;
	m.pm_type = MSG_STATE;
	m.pm_privileged = priv;
	m.pm_active = ss.ss_active;
	m.pm_missing = ss.ss_missing;
	probe_send(wfd, &m);

	ev[0] = '\0';
	r = a->pa_fn(ev, sizeof(ev));
	memset(&m, 0, sizeof(m));
	m.pm_type = MSG_RESULT;
	m.pm_result = r;
	(void)snprintf(m.pm_text, sizeof(m.pm_text), "%s", ev);
	probe_send(wfd, &m);
	_exit(0);
 bad:
	m.pm_type = MSG_SANDBOX_ERR;
	probe_send(wfd, &m);
	_exit(1);
}

/*
 * Runs attempt a in a child confined as role.  Returns 0, or -1 when the
 * child could not apply its sandbox (rec says why).
 */
static int
probe_run(const struct daemon_ctx *dc, enum sandbox_role role,
    const struct probe_attempt *a, uint32_t only, struct probe_record *rec,
    uint32_t *active, uint32_t *missing)
{
	struct probe_msg m;
	const char *why;
	int p[2], st, got = 0, sberr = 0;
	ssize_t n;
	pid_t pid;

	rec->pr_result = R_ERROR;
	rec->pr_ev[0] = '\0';
	if (a->pa_skip != NULL && (why = a->pa_skip()) != NULL) {
		rec->pr_result = R_SKIPPED;
		(void)snprintf(rec->pr_ev, sizeof(rec->pr_ev), "%s", why);
		return 0;
	}
	if (pipe2(p, O_CLOEXEC) == -1 || (pid = fork()) == -1) {
		(void)snprintf(rec->pr_ev, sizeof(rec->pr_ev), "fork: %s",
		    strerror(errno));
		return 0;
	}
	if (pid == 0) {
		close(p[0]);
		probe_child(dc, role, a, only, p[1]);
	}
	close(p[1]);
	for (;;) {
		n = read(p[0], &m, sizeof(m));
		if (n == -1 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(m))
			break;
		m.pm_text[sizeof(m.pm_text) - 1] = '\0';
		switch (m.pm_type) {
		case MSG_STATE:
			*active = rec->pr_active = m.pm_active;
			*missing = m.pm_missing;
			if (m.pm_privileged) {
				rec->pr_void = rec->pr_claims &
				    a->pa_unpriv;
				rec->pr_claims &= ~a->pa_unpriv;
			}
			break;
		case MSG_SANDBOX_ERR:
			sberr = 1;
			(void)snprintf(rec->pr_ev, sizeof(rec->pr_ev),
			    "sandbox: %s", m.pm_text);
			break;
		case MSG_RESULT:
			got = 1;
			rec->pr_result = m.pm_result;
			(void)snprintf(rec->pr_ev, sizeof(rec->pr_ev), "%s",
			    m.pm_text);
			break;
		}
	}
	close(p[0]);
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	if (sberr)
		return -1;
	if (got)
		return 0;
	if (WIFSIGNALED(st)) {
		const char *s = sigabbrev_np(WTERMSIG(st));

		(void)snprintf(rec->pr_ev, sizeof(rec->pr_ev),
		    "killed by SIG%s", s != NULL ? s : "?");
		rec->pr_result = WTERMSIG(st) == SIGSYS ? R_BLOCKED : R_ERROR;
	} else if (WIFEXITED(st) && WEXITSTATUS(st) == PROBE_EXEC_STATUS) {
		(void)snprintf(rec->pr_ev, sizeof(rec->pr_ev),
		    "executed (exit %d)", PROBE_EXEC_STATUS);
		rec->pr_result = R_ALLOWED;
	} else
		(void)snprintf(rec->pr_ev, sizeof(rec->pr_ev),
		    "child exited %d without a report",
		    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}

/* ---- output and verdict --------------------------------------------- */

static const char *
probe_result_name(int r)
{
	switch (r) {
	case R_BLOCKED:	return "BLOCKED";
	case R_ALLOWED:	return "ALLOWED";
	case R_SKIPPED:	return "SKIPPED";
	default:	return "ERROR";
	}
}

static const char *
probe_kind_name(int k)
{
	switch (k) {
	case K_CONTROL:	return "control";
	case K_INFO:	return "info";
	default:	return "attack";
	}
}

/* Whether rec meets the expectation; NULL, or why not. */
static const char *
probe_judge(const struct probe_record *rec, enum probe_expect ex)
{
	if (rec->pr_result == R_ERROR)
		return "unexpected failure";
	if (rec->pr_result == R_SKIPPED || rec->pr_kind == K_INFO)
		return NULL;
	switch (ex) {
	case EXPECT_BLOCKED:
		if (rec->pr_kind == K_ATTACK && rec->pr_judged &&
		    rec->pr_result != R_BLOCKED)
			return "attack not blocked";
		if (rec->pr_kind == K_CONTROL && rec->pr_result != R_ALLOWED)
			return "control not allowed";
		return NULL;
	case EXPECT_ALLOWED:
		if (rec->pr_dac && rec->pr_result != R_ALLOWED)
			return "allowed by DAC, yet not allowed";
		return NULL;
	default:
		return NULL;
	}
}

static void
probe_layers(const char *role, enum sandbox_mode mode, uint32_t active,
    uint32_t missing)
{
	char on[160], off[160];

	sandbox_layers_format(active, on, sizeof(on));
	sandbox_layers_format(missing & ~active, off, sizeof(off));
	log_info("%s: sandbox %s, active: %s, missing: %s%s", role,
	    sandbox_mode_name(mode), on, off, PROBE_SANITIZER ?
	    " (sanitizer build: no seccomp, no RLIMIT_AS)" : "");
}

static void
probe_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: aiguard probe [--config FILE] [--model DIR] "
	    "[--sandbox MODE] [--json]\n"
	    "                     [--expect blocked|allowed] [--compare] "
	    "[--layers LIST]\n"
	    "  --config FILE    aiguardd's configuration file\n"
	    "  --model DIR      model directory (copied; never modified)\n"
	    "  --sandbox MODE   required, best-effort or off "
	    "(sandbox.mode)\n"
	    "  --json           JSON array of {\"role\", \"scenario\", "
	    "\"attempt\", \"kind\",\n"
	    "                   \"result\", \"evidence\", \"claimed_by\", "
	    "\"judged\", ...}\n"
	    "  --expect WHAT    blocked: every attack blocked; allowed: "
	    "every attack\n"
	    "                   that plain DAC allows succeeds\n"
	    "  --compare        each attempt twice, sandbox off (DAC only) "
	    "and in MODE,\n"
	    "                   side by side: the article's comparison\n"
	    "  --layers LIST    only these layers (and no_new_privs, which "
	    "landlock and\n"
	    "                   seccomp need), e.g. landlock or seccomp: "
	    "every attack they\n"
	    "                   claim must be blocked, the others are "
	    "reported only;\n"
	    "                   LIST: privdrop, caps, nnp, mdwe, rlimits, "
	    "landlock,\n"
	    "                   seccomp, all (a test, not a confinement)\n");
}

/* mask as a JSON array of layer names. */
static json_t *
probe_json_layers(uint32_t mask)
{
	json_t *a;
	uint32_t bit;

	if ((a = json_array()) == NULL)
		fatalx("out of memory");
	for (bit = 1; bit <= SB_ALL; bit <<= 1)
		if (mask & bit)
			json_array_append_new(a,
			    json_string(sandbox_layer_name(bit)));
	return a;
}

int
cmd_probe(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "model", required_argument, NULL, 'm' },
		{ "sandbox", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "expect", required_argument, NULL, 'e' },
		{ "compare", no_argument, NULL, 'C' },
		{ "layers", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct {
		enum sandbox_role	 role;
		const char		*name;
	} roles[] = {
		{ SANDBOX_FRONT, "front" },
		{ SANDBOX_WORKER, "worker" },
	};
	static struct probe_record recs[2 * NATTEMPTS], offs[2 * NATTEMPTS];
	static struct ag_config cf, cf_off;
	static struct daemon_ctx dc, dc_off;
	const char *config = NULL, *model = NULL, *mode = NULL, *why;
	char src[PATH_MAX], ver[MODEL_VERSION_MAX], err[768], lnames[160];
	char cnames[160];
	enum probe_expect ex = EXPECT_NONE;
	size_t i, nrec = 0, ri;
	int ch, json = 0, failed = 0, nfail = 0, sberr = 0, compare = 0;
	int njudged, nreported;
	uint32_t active, missing, only = 0, asked = 0;
	json_t *arr;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:m:s:je:CL:h", opts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'C':
			compare = 1;
			break;
		case 'L':
			if (sandbox_layers_parse(optarg, &only, err,
			    sizeof(err)) != 0) {
				log_warnx("--layers: %s", err);
				probe_usage(stderr);
				return 2;
			}
			break;
		case 'c':
			config = optarg;
			break;
		case 'm':
			model = optarg;
			break;
		case 's':
			mode = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'e':
			if (strcmp(optarg, "blocked") == 0)
				ex = EXPECT_BLOCKED;
			else if (strcmp(optarg, "allowed") == 0)
				ex = EXPECT_ALLOWED;
			else {
				log_warnx("--expect: blocked or allowed, not "
				    "%s", optarg);
				probe_usage(stderr);
				return 2;
			}
			break;
		case 'h':
			probe_usage(stdout);
			return 0;
		default:
			probe_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		probe_usage(stderr);
		return 2;
	}

	/* The configuration, as aiguardd builds it. */
	config_defaults(&cf);
	if (config != NULL && config_load_file(&cf, config, err,
	    sizeof(err)) != 0) {
		log_warnx("%s", err);
		return 1;
	}
	if ((model != NULL && config_set(&cf, "model.dir", model, err,
	    sizeof(err)) != 0) || (mode != NULL && config_set(&cf,
	    "sandbox.mode", mode, err, sizeof(err)) != 0)) {
		log_warnx("%s", err);
		probe_usage(stderr);
		return 2;
	}
	if (config_validate(&cf, err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		return 1;
	}
	if (daemon_resolve_model(&cf, &dc, err, sizeof(err)) != 0) {
		if (cf.cf_model_dir[0] == '\0')
			log_warnx("no default model found (give --model DIR)");
		else
			log_warnx("%s", err);
		return 1;
	}
	/* What is copied: a store entry's current version. */
	model_loc_current(&dc.dc_model, src, sizeof(src), ver, sizeof(ver));
	if (compare && (cf.cf_sandbox_mode == SANDBOX_OFF ||
	    ex == EXPECT_ALLOWED)) {
		log_warnx("--compare sets the sandbox off against %s: give "
		    "--sandbox required or best-effort",
		    sandbox_mode_name((enum sandbox_mode)cf.cf_sandbox_mode));
		return 2;
	}
	if (only != 0 && (cf.cf_sandbox_mode == SANDBOX_OFF ||
	    ex == EXPECT_ALLOWED)) {
		log_warnx("--layers chooses layers of a sandbox: give "
		    "--sandbox required or best-effort, and --expect blocked");
		return 2;
	}
	if (ex == EXPECT_NONE && cf.cf_sandbox_mode != SANDBOX_OFF)
		ex = EXPECT_BLOCKED;
	if (probe_check_table() != 0)
		return 1;
	if (only != 0) {
		asked = sandbox_layers_closure(only);
		sandbox_layers_format(asked, lnames, sizeof(lnames));
		sandbox_layers_format(only, cnames, sizeof(cnames));
		if (asked == SB_ALL)
			log_info("--layers %s: every layer; judged: every "
			    "attack (each is claimed by one at least)",
			    cnames);
		else
			log_warnx("--layers %s: the children apply ONLY %s%s; "
			    "every other layer is OFF; judged: the attacks "
			    "these layers claim, the others are reported",
			    cnames, lnames, asked != only ? " (no_new_privs: "
			    "a prerequisite of landlock and seccomp)" : "");
		if ((asked & PROBE_CLAIMING) == 0)
			log_warnx("--layers %s: these layers claim no attack "
			    "here (see probe.c): only the control is judged",
			    cnames);
	}
	if (daemon_resolve_sandbox(&dc, err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		return 1;
	}

	signal(SIGPIPE, SIG_IGN);
	pe.tcp_fd = pe.unix_fd = -1;
	pe.max_memory = cf.cf_sandbox_max_memory;
	if (probe_setup(src, err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		probe_cleanup();
		return 1;
	}
	/* The worker's sandbox gets the copy, never the real model. */
	if (model_locate(pe.model, &dc.dc_model, err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		probe_cleanup();
		return 1;
	}
	/* --compare: the same attempts with DAC alone, side by side. */
	cf_off = cf;
	cf_off.cf_sandbox_mode = SANDBOX_OFF;
	dc_off = dc;
	dc_off.dc_cf = &cf_off;

	if (!json && compare)
		printf("%-6s  %-19s  %-38s  %-8s  %-8s  %s\n", "ROLE",
		    "SCENARIO", "ATTEMPT", "DAC ONLY", "CONFINED",
		    "EVIDENCE (CONFINED)");
	else if (!json)
		printf("%-6s  %-19s  %-38s  %-7s  %s\n", "ROLE", "SCENARIO",
		    "ATTEMPT", "RESULT", "EVIDENCE");
	for (ri = 0; ri < sizeof(roles) / sizeof(roles[0]) && !sberr; ri++) {
		active = missing = 0;
		njudged = nreported = 0;
		for (i = 0; i < NATTEMPTS; i++) {
			const struct probe_attempt *a = &attempts[i];
			struct probe_record *rec = &recs[nrec];
			int kind = roles[ri].role == SANDBOX_FRONT ?
			    a->pa_front : a->pa_worker;
			const char *note;

			if (kind == K_NONE)
				continue;
			memset(rec, 0, sizeof(*rec));
			rec->pr_role = roles[ri].name;
			rec->pr_a = a;
			rec->pr_kind = kind;
			rec->pr_dac = a->pa_dac();
			/* probe_run() voids the unprivileged-only claims. */
			rec->pr_claims = roles[ri].role == SANDBOX_FRONT ?
			    a->pa_claim_front : a->pa_claim_worker;
			if (compare) {
				struct probe_record *o = &offs[nrec];
				uint32_t oa = 0, om = 0;

				*o = *rec;
				if (probe_run(&dc_off, roles[ri].role, a, 0, o,
				    &oa, &om) != 0 || probe_restore(src) != 0) {
					log_warnx("%s: %s", roles[ri].name,
					    o->pr_ev);
					sberr = 1;
					break;
				}
			}
			if (probe_run(&dc, roles[ri].role, a, only, rec,
			    &active, &missing) != 0) {
				log_warnx("%s: %s", roles[ri].name,
				    rec->pr_ev);
				sberr = 1;
				break;
			}
			/*
			 * Judged: every control; every attack, or with
			 * --layers the attacks that the layers asked for
			 * claim (in this child: see pa_unpriv).
			 */
			rec->pr_judged = kind == K_CONTROL ||
			    (kind == K_ATTACK && (only == 0 ||
			    (rec->pr_claims & asked) != 0));
			if (kind == K_ATTACK && rec->pr_judged)
				njudged++;
			else if (kind == K_ATTACK)
				nreported++;
			nrec++;
			note = kind == K_CONTROL ? " (control)" :
			    kind == K_INFO ? " (info)" : !rec->pr_judged ?
			    " (not claimed by these layers: not judged)" : "";
			if (!json && compare)
				printf("%-6s  %-19s  %-38s  %-8s  %-8s  %s%s\n",
				    rec->pr_role, a->pa_scenario, a->pa_name,
				    probe_result_name(offs[nrec - 1].pr_result),
				    probe_result_name(rec->pr_result),
				    rec->pr_ev, note);
			else if (!json)
				printf("%-6s  %-19s  %-38s  %-7s  %s%s\n",
				    rec->pr_role, a->pa_scenario, a->pa_name,
				    probe_result_name(rec->pr_result),
				    rec->pr_ev, note);
			if (probe_restore(src) != 0) {
				log_warn("restoring the scratch copy");
				sberr = 1;
				break;
			}
		}
		if (sberr)
			break;
		probe_layers(roles[ri].name,
		    (enum sandbox_mode)cf.cf_sandbox_mode, active, missing);
		if (only == 0)
			continue;
		log_info("%s: --layers %s: %d attacks claimed by them and "
		    "judged, %d reported only", roles[ri].name, cnames,
		    njudged, nreported);
		/* A claim cannot be judged without its layer (a sanitizer
		 * build's seccomp, a layer best-effort could not apply). */
		if (asked & PROBE_CLAIMING & ~active) {
			sandbox_layers_format(asked & PROBE_CLAIMING &
			    ~active, lnames, sizeof(lnames));
			log_warnx("%s: --layers: %s asked for, not in force: "
			    "its claims cannot be judged", roles[ri].name,
			    lnames);
			nfail++;
		}
	}
	probe_cleanup();

	if (json) {
		if ((arr = json_array()) == NULL)
			fatalx("out of memory");
		for (i = 0; i < nrec; i++) {
			json_t *o = json_pack(
			    "{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:o, s:o, "
			    "s:o, s:b}",
			    "role", recs[i].pr_role,
			    "scenario", recs[i].pr_a->pa_scenario,
			    "attempt", recs[i].pr_a->pa_name,
			    "kind", probe_kind_name(recs[i].pr_kind),
			    "result", probe_result_name(recs[i].pr_result),
			    "evidence", recs[i].pr_ev,
			    "dac_allowed", recs[i].pr_dac,
			    "claimed_by", probe_json_layers(recs[i].pr_claims),
			    "claims_void", probe_json_layers(recs[i].pr_void),
			    "layers_in_force",
			    probe_json_layers(recs[i].pr_active),
			    "judged", recs[i].pr_judged);

			if (compare && o != NULL) {
				json_object_set_new(o, "dac_only_result",
				    json_string(probe_result_name(
				    offs[i].pr_result)));
				json_object_set_new(o, "dac_only_evidence",
				    json_string(offs[i].pr_ev));
			}
			json_array_append_new(arr, o);
		}
		if (json_dumpf(arr, stdout, JSON_INDENT(2)) != 0)
			failed = 1;
		printf("\n");
		json_decref(arr);
	}
	for (i = 0; i < nrec; i++) {
		if ((why = probe_judge(&recs[i], ex)) != NULL) {
			sandbox_layers_format(recs[i].pr_claims, cnames,
			    sizeof(cnames));
			log_warnx("%s: %s: %s (%s: %s; claimed by %s)",
			    recs[i].pr_role, recs[i].pr_a->pa_name, why,
			    probe_result_name(recs[i].pr_result),
			    recs[i].pr_ev, cnames);
			nfail++;
		}
		/* Side by side, DAC alone must let through what it allows. */
		if (compare && (why = probe_judge(&offs[i],
		    EXPECT_ALLOWED)) != NULL) {
			log_warnx("%s: %s, DAC only: %s (%s: %s)",
			    offs[i].pr_role, offs[i].pr_a->pa_name, why,
			    probe_result_name(offs[i].pr_result),
			    offs[i].pr_ev);
			nfail++;
		}
	}
	if (ex != EXPECT_NONE)
		log_info("expectation %s: %s", ex == EXPECT_BLOCKED ?
		    "blocked" : "allowed", nfail || sberr ? "NOT met" : "met");
	if (fflush(stdout) != 0) {
		log_warn("stdout");
		failed = 1;
	}
	return failed || sberr || nfail ? 1 : 0;
}
