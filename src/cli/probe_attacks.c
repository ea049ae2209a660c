/* SPDX-License-Identifier: ISC */
/*
 * probe_attacks.c: the attack table of `aiguard probe` (the experiment of
 * the article): every attempt as code and as a line of description, by
 * scenario (model modification, workload execution, theft, directory
 * tampering, resource abuse, lateral movement, cross-model access), what
 * DAC alone allows of it, and which sandbox layers claim to block it ("The
 * claims", above the table).  An attempt runs once, in a confined child
 * that probe.c forked, against the targets probe.c set up in `pe`, and
 * reports as probe.h says.
 *
 * Expected under plain DAC (sandbox off), used by --expect allowed: the
 * scratch files are the invoker's own, so everything on them is allowed
 * to root and non-root alike; /etc/shadow only where access(R_OK) says
 * so (root); /var/www only where it is writable (root); ptrace,
 * process_vm_readv and /proc/PID/mem of the sibling when root, or when
 * Yama's ptrace_scope is 0 or absent (the sibling is not a descendant of
 * the attacker); the same for process_vm_readv and /proc/PID/fd of model
 * B's worker, another such sibling; the memory attempt when RLIMIT_AS
 * allows it; python3 when it is installed (else SKIPPED).
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "probe.h"

#ifndef PR_GET_MDWE
#define PR_GET_MDWE		66
#endif

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

/* ---- 7. cross-model access ------------------------------------------ */

/*
 * Model A's worker against model B: B's version directory is a sibling
 * of A's in the store, B's worker a sibling process confined as a worker
 * of B (pe, probe.h).  The control first: A reads its own weights.
 */
static int
try_own_weights(char *ev, size_t evlen)
{
	return probe_read(pe.weights, "read model A's weights", ev, evlen);
}

static int
try_b_read(char *ev, size_t evlen)
{
	return probe_read(pe.b_weights, "read model B's weights", ev, evlen);
}

static int
try_b_open_write(char *ev, size_t evlen)
{
	int fd = open(pe.b_weights, O_WRONLY | O_CLOEXEC);

	if (fd == -1)
		return probe_fail(ev, evlen, "open O_WRONLY");
	close(fd);
	return probe_ok(ev, evlen, "opened model B's weights for writing");
}

static int
try_b_create(char *ev, size_t evlen)
{
	int fd;

	if ((fd = open(pe.b_planted, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0644)) == -1)
		return probe_fail(ev, evlen, "open O_CREAT");
	close(fd);
	return probe_ok(ev, evlen, "created B/1/planted");
}

static int
try_b_kill(char *ev, size_t evlen)
{
	/* SIGCONT: harmless to a waiting process. */
	if (kill(pe.b_pid, SIGCONT) == -1)
		return probe_fail(ev, evlen, "kill");
	return probe_ok(ev, evlen, "signalled model B's worker");
}

/* Whether b holds the beginning of B's tensor slots. */
static int
probe_b_slots(const char *b, char *ev, size_t evlen, const char *what)
{
	if (memcmp(b, PROBE_B_SLOTS, sizeof(PROBE_B_SLOTS)) != 0) {
		(void)snprintf(ev, evlen, "%s, but not B's slots", what);
		return R_ERROR;
	}
	return probe_ok(ev, evlen, what);
}

/* B's memfd through /proc/B_PID/fd/N: opened, mapped, read. */
static int
try_b_shm(char *ev, size_t evlen)
{
	char b[sizeof(PROBE_B_SLOTS)];
	void *p;
	int fd;

	if ((fd = open(pe.b_shm_path, O_RDONLY | O_CLOEXEC)) == -1)
		return probe_fail(ev, evlen, "open");
	p = mmap(NULL, sizeof(b), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return probe_fail(ev, evlen, "mmap");
	memcpy(b, p, sizeof(b));
	munmap(p, sizeof(b));
	return probe_b_slots(b, ev, evlen, "mapped B's tensor slots");
}

static int
try_b_vm_readv(char *ev, size_t evlen)
{
	char b[sizeof(PROBE_B_SLOTS)];
	struct iovec l = { b, sizeof(b) };
	struct iovec r = { (void *)(uintptr_t)pe.b_shm_addr, sizeof(b) };

	if (process_vm_readv(pe.b_pid, &l, 1, &r, 1, 0) != (ssize_t)sizeof(b))
		return probe_fail(ev, evlen, "process_vm_readv");
	return probe_b_slots(b, ev, evlen, "read B's tensor slots");
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
#define S7	"cross-model access"

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
 * not even read.  Another model's version directory, a sibling of the
 * worker's in the store, is such a path.  TCP connect is refused; signals
 * and abstract UNIX sockets are scoped to the sandbox; ptrace,
 * process_vm_readv, /proc/PID/mem and /proc/PID/fd of a process outside
 * the sandbox are refused by its ptrace rule, whatever the capabilities.
 * Model B's worker is outside it: it made a domain of its own (the
 * scopes and the ptrace rule let a domain reach only itself and the
 * domains nested in it).  It does not see chmod (file metadata), fork,
 * memory, or W+X mappings.
 *
 * SC, seccomp (seccomp.c): every call missing from the role's list kills:
 * execve, ptrace, process_vm_readv, fork (clone without CLONE_THREAD),
 * chmod, truncate, rename, unlink, link, symlink, mkdir, socket, kill;
 * mmap and mprotect with PROT_EXEC (W+X pages, dlopen's code); the front's
 * every openat fails with EACCES, the worker's openat for writing or
 * creating kills.  It does not see what the worker opens read-only
 * (/etc/shadow, a private file, ~/.ssh, model B's weights: Landlock's
 * part), nor memory use.  The worker may open /proc/PID/mem too, but not
 * read the sibling's memory there: it has neither pread nor lseek to
 * reach an address.  It may open /proc/B_PID/fd/N read-only and map what
 * it opens (its own reloads map the weights): B's tensor slots are
 * Landlock's part too.
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
_Static_assert(PROBE_CLAIMING == (LL | SC | MD | RL),
    "PROBE_CLAIMING (probe.h): the layers that claim attacks");

const struct probe_attempt attempts[] = {
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
	/*
	 * The front has no model of its own (S3 reads A's weights as an
	 * attack there); every attempt on model B is an attack in both roles.
	 */
	{ S7, "read model A's weights (its own)", K_NONE, K_CONTROL,
	    try_own_weights, dac_yes, NULL,
	    0, 0, 0 },
	{ S7, "read model B's weights", K_ATTACK, K_ATTACK,
	    try_b_read, dac_yes, NULL,
	    LL | SC, LL, 0 },
	{ S7, "open model B's weights for writing", K_ATTACK, K_ATTACK,
	    try_b_open_write, dac_yes, NULL,
	    LL | SC, LL | SC, 0 },
	{ S7, "create a file in model B's dir", K_ATTACK, K_ATTACK,
	    try_b_create, dac_yes, NULL,
	    LL | SC, LL | SC, 0 },
	{ S7, "kill(SIGCONT) model B's worker", K_ATTACK, K_ATTACK,
	    try_b_kill, dac_yes, NULL,
	    LL | SC, LL | SC, 0 },
	{ S7, "map B's tensor slots via /proc/PID/fd", K_ATTACK, K_ATTACK,
	    try_b_shm, dac_ptrace, NULL,
	    LL | SC, LL, 0 },
	{ S7, "process_vm_readv B's tensor slots", K_ATTACK, K_ATTACK,
	    try_b_vm_readv, dac_ptrace, NULL,
	    LL | SC, LL | SC, 0 },
};

_Static_assert(sizeof(attempts) / sizeof(attempts[0]) == PROBE_NATTEMPTS,
    "PROBE_NATTEMPTS (probe.h): the rows of attempts[]");

/*
 * The table's own consistency: every attack is claimed, in each role it
 * is made in, by a layer whose claim holds for root too; only the
 * claiming layers claim; nothing else (a control, info) is claimed.
 * Returns 0, or -1 with a line logged per fault.
 */
int
probe_check_table(void)
{
	const struct probe_attempt *a;
	uint32_t c;
	size_t i;
	int r = 0, k, role;

	for (i = 0; i < PROBE_NATTEMPTS; i++) {
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
