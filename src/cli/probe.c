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
 * directory (mkdtemp, /tmp/aiguard-probe.XXXXXX), as version 1 of model A
 * in a store there (store/A/1, the layout of aiguardd's repository), and
 * the worker's sandbox is given that copy, so the real model is never
 * touched, even with the sandbox off.  After each attempt the probe puts
 * the copy back when the attempt changed it, and removes what an allowed
 * attempt created outside (/tmp/aiguard-probe-PID-*,
 * /var/www/aiguard-probe-PID).  Everything is removed at the end.  The
 * "sibling" is a child of the probe that sleeps until the probe kills it;
 * the loopback TCP port and the abstract UNIX socket are the probe's own,
 * bound before any child is forked.
 *
 * Another model, for the cross-model attempts: store/B/1 holds a file
 * named as weights (the attempts are about access, not loading), and
 * model B's worker is a second sibling, forked once and confined by the
 * same code as a worker of B (daemon_sandbox_conf() with B's directory:
 * a Landlock domain of its own), in the probe's mode and layers.  Like
 * aiguardd's worker it makes its tensor slots (a sealed memfd, mapped)
 * between sandbox_enter() and sandbox_lock(), tells the probe where they
 * are, and waits; the probe kills it at the end by its pid.
 *
 * Kinds of attempts: an attack must be BLOCKED when confined; a control
 * (the worker reading its own model) must be ALLOWED when confined, or the
 * sandbox would break the daemon; "info" (threads) is reported and not
 * judged: seccomp lets clone(CLONE_THREAD) through, and RLIMIT_NPROC 0
 * refuses it to a non-root process only.
 *
 * The attempts themselves, what plain DAC allows of each (--expect
 * allowed) and the layers that claim each are the table's, in
 * probe_attacks.c; probe.h says what passes between the two files.  This
 * file runs the table and judges it.
 *
 * Layers alone (--layers landlock, seccomp, ...): the children apply only
 * those layers (sandbox_conf.sb_only; no_new_privs comes with Landlock and
 * seccomp, which need it), to show that each layer blocks by itself what
 * it claims to.  Every attack declares, per role, the layers that claim
 * it (see "The claims" above the table, in probe_attacks.c); with
 * --layers, the attacks the asked layers claim must be BLOCKED, the others
 * are reported and not judged, and a claiming layer asked for but not in
 * force (seccomp in a sanitizer build) is a failure.  Without --layers
 * every layer is applied and every attack judged, and each is claimed by
 * one layer at least.  The JSON carries, per attempt, "claimed_by",
 * "claims_void" (claims that do not hold in a child with root
 * privileges), "layers_in_force" and "judged".
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <linux/capability.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
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
#include "probe.h"
#include "sandbox/sandbox.h"

#define PROBE_CHILD_TIMEOUT	10	/* seconds, per attempt */
#define PROBE_EV_MAX		96
#define PROBE_LIB		"/lib/x86_64-linux-gnu/libm.so.6"
#define PROBE_B_SLOTS_BYTES	65536	/* model B's tensor slots */

enum probe_msg_type { MSG_STATE, MSG_SANDBOX_ERR, MSG_RESULT };
enum probe_expect { EXPECT_NONE, EXPECT_BLOCKED, EXPECT_ALLOWED };

struct probe_msg {
	int		pm_type;
	int		pm_result;
	uint32_t	pm_active, pm_missing;
	int		pm_privileged;	/* see probe_privileged() */
	char		pm_text[200];
};

/* What model B's worker tells the probe once it is confined. */
struct probe_b_msg {
	int		bm_ok;
	int		bm_fd;		/* its memfd */
	uint64_t	bm_addr;	/* where it is mapped */
	char		bm_text[200];	/* why not, when !bm_ok */
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

struct probe_env pe;

/* Model B's worker: how to start it again (probe_restore()). */
static const struct daemon_ctx *probe_b_dc;
static uint32_t probe_b_only;
static char probe_b_sig[1024];	/* model B's directory, as made */

/* ---- helpers -------------------------------------------------------- */

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

/* What a model copy looks like: every entry, its inode, mode, size. */
static void
probe_model_sig(const char *dir, char *out, size_t len)
{
	struct dirent *de;
	struct stat st;
	char p[PATH_MAX];
	size_t o = 0;
	DIR *dp;

	out[0] = '\0';
	if (lstat(dir, &st) == -1) {
		(void)snprintf(out, len, "missing");
		return;
	}
	o += (size_t)snprintf(out, len, "dir %lu %o %ld.%ld;",
	    (unsigned long)st.st_ino, (unsigned)st.st_mode,
	    (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	if ((dp = opendir(dir)) == NULL)
		return;
	while ((de = readdir(dp)) != NULL && o < len) {
		(void)snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
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

/*
 * Model B's worker, in the child: confined as a worker of B, its tensor
 * slots made between sandbox_enter() and sandbox_lock() as worker_main()
 * makes them (memfd, size, seals, mapping); it reports on wfd, then waits
 * to be killed.
 */
static void __attribute__((noreturn))
probe_b_worker(const struct daemon_ctx *dc, uint32_t only, pid_t parent,
    int wfd)
{
	struct sandbox_conf sc;
	struct sandbox_state ss;
	struct probe_b_msg m;
	char *p;
	int fd;

	/* The parent reports; this child keeps quiet, as the others do. */
	log_setlevel(LOG_LVL_FATAL);
	memset(&m, 0, sizeof(m));
	memset(&ss, 0, sizeof(ss));
	daemon_sandbox_conf(dc, SANDBOX_WORKER, &sc);
	sc.sb_only = only;
	if (sandbox_enter(&sc, &ss, m.bm_text, sizeof(m.bm_text)) != 0)
		goto bad;
	/* After the privilege drop, which clears it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(1);
	if ((fd = memfd_create("aiguard-tensors", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1 ||
	    ftruncate(fd, (off_t)PROBE_B_SLOTS_BYTES) == -1 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK |
	    F_SEAL_SEAL) == -1 ||
	    (p = mmap(NULL, PROBE_B_SLOTS_BYTES, PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0)) == MAP_FAILED) {
		(void)snprintf(m.bm_text, sizeof(m.bm_text), "tensor slots: "
		    "%s", strerror(errno));
		goto bad;
	}
	memcpy(p, PROBE_B_SLOTS, sizeof(PROBE_B_SLOTS));
	if (sandbox_lock(&sc, &ss, m.bm_text, sizeof(m.bm_text)) != 0)
		goto bad;
	m.bm_ok = 1;
	m.bm_fd = fd;
	m.bm_addr = (uint64_t)(uintptr_t)p;
	if (write(wfd, &m, sizeof(m)) != (ssize_t)sizeof(m))
		_exit(1);
	close(wfd);
	for (;;)
		(void)ppoll(NULL, 0, NULL, NULL);
 bad:
	if (write(wfd, &m, sizeof(m)) != (ssize_t)sizeof(m))
		_exit(1);
	_exit(1);
}

/*
 * Starts model B's worker (probe_b_dc, probe_b_only) and notes where its
 * tensor slots are in pe.  0, or -1 with err saying why.
 */
static int
probe_b_start(char *err, size_t errlen)
{
	struct probe_b_msg m;
	pid_t pid, me = getpid();
	ssize_t n;
	int p[2], st;

	pe.b_pid = 0;
	if (pipe2(p, O_CLOEXEC) == -1) {
		(void)snprintf(err, errlen, "model B's worker: pipe: %s",
		    strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		(void)snprintf(err, errlen, "model B's worker: fork: %s",
		    strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		probe_b_worker(probe_b_dc, probe_b_only, me, p[1]);
	}
	close(p[1]);
	memset(&m, 0, sizeof(m));
	do {
		n = read(p[0], &m, sizeof(m));
	} while (n == -1 && errno == EINTR);
	close(p[0]);
	m.bm_text[sizeof(m.bm_text) - 1] = '\0';
	if (n != (ssize_t)sizeof(m) || !m.bm_ok) {
		(void)kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
			;
		(void)snprintf(err, errlen, "model B's worker: %s",
		    n == (ssize_t)sizeof(m) ? m.bm_text : "exited without a "
		    "report");
		return -1;
	}
	pe.b_pid = pid;
	pe.b_shm_fd = m.bm_fd;
	pe.b_shm_addr = m.bm_addr;
	(void)snprintf(pe.b_shm_path, sizeof(pe.b_shm_path),
	    "/proc/%ld/fd/%d", (long)pid, m.bm_fd);
	return 0;
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
	if (pe.b_pid > 0) {
		(void)kill(pe.b_pid, SIGKILL);
		(void)waitpid(pe.b_pid, &st, 0);
		pe.b_pid = 0;
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

/* A directory of the scratch store, reachable by a dropped sandbox.user. */
static int
probe_mkdir(const char *path)
{
	if (mkdir(path, 0755) == -1 || chmod(path, 0755) == -1)
		return -1;
	return 0;
}

/* Model B's version directory: one file named as weights. */
static int
probe_b_make_dir(void)
{
	if (probe_mkdir(pe.b_dir) == -1 || probe_make_file(pe.b_weights,
	    0644, "aiguard-probe: model B's weights\n") == -1)
		return -1;
	probe_model_sig(pe.b_dir, probe_b_sig, sizeof(probe_b_sig));
	return 0;
}

/* The model copies and what an allowed attempt left, back as they were. */
static int
probe_restore(const char *src)
{
	char sig[sizeof(pe.sig)], err[256];
	struct stat st;
	int st2;

	(void)unlink(pe.tmp_link);
	(void)unlink(pe.tmp_copy);
	(void)unlink(pe.www_copy);
	probe_model_sig(pe.model, sig, sizeof(sig));
	if (strcmp(sig, pe.sig) != 0 || lstat(pe.moved, &st) == 0) {
		probe_rm_rf(pe.moved);
		probe_rm_rf(pe.model);
		if (probe_copy_model(src) == -1)
			return -1;
		probe_model_sig(pe.model, pe.sig, sizeof(pe.sig));
	}
	if (lstat(pe.planted, &st) == -1 &&
	    probe_make_file(pe.planted, 0644, "planted\n") == -1)
		return -1;
	/* Model B: its directory as made, its worker running. */
	probe_model_sig(pe.b_dir, sig, sizeof(probe_b_sig));
	if (strcmp(sig, probe_b_sig) != 0) {
		probe_rm_rf(pe.b_dir);
		if (probe_b_make_dir() == -1)
			return -1;
	}
	if (pe.b_pid > 0 && waitpid(pe.b_pid, &st2, WNOHANG) == pe.b_pid &&
	    probe_b_start(err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return -1;
	}
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
	/* A store of two models, as aiguardd's repository lays it out. */
	(void)snprintf(pe.model, sizeof(pe.model), "%s/store/A/1",
	    pe.scratch);
	(void)snprintf(pe.b_dir, sizeof(pe.b_dir), "%s/store/B/1",
	    pe.scratch);
	(void)snprintf(pe.b_weights, sizeof(pe.b_weights), "%s/%s",
	    pe.b_dir, MODEL_WEIGHTS_FILE);
	(void)snprintf(pe.b_planted, sizeof(pe.b_planted), "%s/planted",
	    pe.b_dir);
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

	(void)snprintf(p, sizeof(p), "%s/store", pe.scratch);
	if (probe_mkdir(p) == -1)
		goto sys;
	(void)snprintf(p, sizeof(p), "%s/store/A", pe.scratch);
	if (probe_mkdir(p) == -1)
		goto sys;
	(void)snprintf(p, sizeof(p), "%s/store/B", pe.scratch);
	if (probe_mkdir(p) == -1 || probe_b_make_dir() == -1)
		goto sys;
	if (probe_copy_model(src) == -1) {
		(void)snprintf(err, errlen, "copying %.300s into %s: %s", src,
		    pe.model, strerror(errno));
		return -1;
	}
	probe_model_sig(pe.model, pe.sig, sizeof(pe.sig));
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
	static struct probe_record recs[2 * PROBE_NATTEMPTS],
	    offs[2 * PROBE_NATTEMPTS];
	static struct ag_config cf, cf_off;
	static struct daemon_ctx dc, dc_off, dc_b;
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
			    "here (see probe_attacks.c): only the control is "
			    "judged", cnames);
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
	/*
	 * Model B's worker: confined in this run's mode and layers, as a
	 * worker of B (its own Landlock domain), forked after the sibling.
	 */
	dc_b = dc;
	probe_b_dc = &dc_b;
	probe_b_only = only;
	if (model_locate(pe.b_dir, &dc_b.dc_model, err, sizeof(err)) != 0 ||
	    probe_b_start(err, sizeof(err)) != 0) {
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
		for (i = 0; i < PROBE_NATTEMPTS; i++) {
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
