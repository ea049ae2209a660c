/* SPDX-License-Identifier: ISC */
/*
 * test_seccomp.c: the system call filters of aiguardd's three roles.
 *
 * Every case runs in a forked child that loads one role's filter and then
 * tries one thing; the test process only looks at how the child ended
 * (killed by SIGSYS, or the exit status that says what the call returned)
 * and at what it wrote to stderr.  Children never return into the test
 * harness: they leave with _exit().
 *
 * Kill mode: execve, ptrace, W+X memory, AF_UNIX and AF_NETLINK sockets
 * and every call of the "never" list kill the child with SIGSYS in every
 * role, and fork in the front and the worker; threads, malloc, clocks,
 * writes, raise() and abort() keep working; no role makes a socket;
 * clone3 fails with ENOSYS so that glibc falls back to clone; the front
 * cannot open files
 * (EACCES), the worker opens read-only; the parent forks, reaps and
 * signals its children with the three signals it uses, and nothing else.
 * Stacked: a child of a filtered parent starts up as the front and the
 * worker do, then applies its own filter and lives under both.  OpenSSL:
 * every role may call getrandom (the worker for OpenSSL, the front for
 * GnuTLS);
 * shmget and uname, which OpenSSL's /dev/urandom fallback would call,
 * kill in every role; ECDSA P-256, P-384 and P-521 signatures and the
 * OpenSSF vectors (a P-384 key, a P-384 leaf under an intermediate)
 * verify in a child of the parent's filter, as at a worker's first load,
 * and under the worker's filter too, as at a reload.  Dev mode:
 * the same calls fail with EPERM, the child lives on and a line naming
 * the call is logged.
 *
 * The arguments given to the forbidden calls are all invalid (-1), so
 * that a filter that wrongly allowed one would still do no harm.
 *
 * Every "kills" case runs traced (run_traced()): the child must die in
 * the denied call itself, and no exec may have happened, so that a filter
 * that let execve through (the new program then dies on its loader's
 * PROT_EXEC mmap) cannot pass.
 *
 * A sanitizer build skips (seccomp_apply() returns AG_ERR_UNSUPPORTED
 * there by design), as does a kernel without seccomp filters, asked
 * directly (kernel_lacks_seccomp()); any other failure of seccomp_apply()
 * is a failure.  Skips print "SKIP[id]: why".
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <linux/seccomp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/ag_err.h"
#include "model/mfiles.h"
#include "model/msig.h"
#include "sandbox/seccomp.h"
#include "test_helper.h"

/* Exit statuses of a child; anything else is a failure. */
#define C_OK		0
#define C_APPLY		90	/* seccomp_apply() failed */
#define C_SURVIVED	91	/* a call that should have killed returned */
#define C_WRONG		92	/* a call returned the wrong thing */

static const char *const role_names[] = { "parent", "front", "worker" };

struct outcome {
	int	 status;	/* from waitpid */
	char	 out[4096];	/* what the child wrote to stderr */
	/* Traced runs only (run_traced()): */
	int	 execs;		/* exec events: execves that happened */
	long	 kill_nr;	/* call a SIGSYS death stopped in, -1 */
};

/* ==== Children ==== */

/* Writes a short note to stderr without stdio (stdio may allocate). */
static void
note(const char *s)
{
	ssize_t w = write(STDERR_FILENO, s, strlen(s));

	(void)w;
}

static void
apply_or_exit(enum seccomp_role role, int dev)
{
	char err[256];

	if (seccomp_apply(role, dev, err, sizeof(err)) != 0) {
		note(err);
		note("\n");
		_exit(C_APPLY);
	}
}

/*
 * Forks a child that runs fn(arg) with stderr on the pipe p, no core dumps
 * and its own process group; when go >= 0 it first waits for a byte on it
 * (the parent's word that it may start).  fn leaves with _exit() or
 * returns its status.  Returns the child's pid; exits 99 on a failure.
 */
static pid_t
spawn_child(int (*fn)(void *), void *arg, int p[2], int go)
{
	struct rlimit rl = { 0, 0 };
	pid_t pid;
	char c;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		perror("fork");
		exit(99);
	}
	if (pid == 0) {
		(void)close(p[0]);
		if (dup2(p[1], STDERR_FILENO) == -1)
			_exit(99);
		(void)close(p[1]);
		(void)setrlimit(RLIMIT_CORE, &rl);
		(void)setpgid(0, 0);
		if (go >= 0) {
			/* Not a step before the tracer holds us. */
			if (read(go, &c, 1) != 1)
				_exit(99);
			(void)close(go);
		}
		_exit(fn(arg));
	}
	(void)close(p[1]);
	return pid;
}

/* The child's stderr, up to EOF, into o->out. */
static void
read_output(int fd, struct outcome *o)
{
	size_t len = 0;
	ssize_t n;

	while ((n = read(fd, o->out + len, sizeof(o->out) - 1 - len)) > 0)
		len += (size_t)n;
	o->out[len] = '\0';
	(void)close(fd);
}

/* Runs fn(arg) in a child (spawn_child()) and fills o. */
static void
run_child(int (*fn)(void *), void *arg, struct outcome *o)
{
	pid_t pid;
	int p[2];

	memset(o, 0, sizeof(*o));
	if (pipe(p) == -1) {
		perror("pipe");
		exit(99);
	}
	pid = spawn_child(fn, arg, p, -1);
	read_output(p[0], o);
	if (waitpid(pid, &o->status, 0) != pid) {
		perror("waitpid");
		exit(99);
	}
}

/*
 * A SIGSYS death alone does not prove that the denied call was refused:
 * were execve allowed, the new program would die too, a moment later, on
 * its loader's PROT_EXEC mmap.  run_traced() runs fn(arg) as run_child()
 * does, but under ptrace (PTRACE_SEIZE, so no stop of its own): an exec
 * event means an execve happened (o->execs), and at the exit stop of a
 * process dying of SIGSYS the system call it was in is read from its
 * registers (o->kill_nr).  follow: trace the child's children too.
 * Exits 99 (a hard error) when ptrace is refused to us.
 */
#if defined(__x86_64__)
#define TRACE_NR(regs)	((long)(regs).orig_rax)
#endif

static void
run_traced(int (*fn)(void *), void *arg, int follow, struct outcome *o)
{
	unsigned long msg, opts;
	pid_t pid, w;
	int p[2], go[2], st, ev, done = 0;
	char c = 0;
#ifdef TRACE_NR
	struct user_regs_struct regs;
#endif

	memset(o, 0, sizeof(*o));
	o->kill_nr = -1;
	if (pipe(p) == -1 || pipe(go) == -1) {
		perror("pipe");
		exit(99);
	}
	pid = spawn_child(fn, arg, p, go[0]);
	(void)close(go[0]);
	opts = PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT;
	if (follow)
		opts |= PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
		    PTRACE_O_TRACECLONE;
	if (ptrace(PTRACE_SEIZE, pid, NULL, (void *)opts) == -1) {
		perror("PTRACE_SEIZE of our own child");
		(void)kill(pid, SIGKILL);
		exit(99);
	}
	if (write(go[1], &c, 1) != 1) {
		perror("write");
		exit(99);
	}
	(void)close(go[1]);
	while (!done) {
		if ((w = waitpid(-1, &st, __WALL)) == -1) {
			if (errno == EINTR)
				continue;
			perror("waitpid");
			exit(99);
		}
		if (!WIFSTOPPED(st)) {
			/* Dead: the child (its status), or one it forked. */
			if (w == pid) {
				o->status = st;
				done = 1;
			}
			continue;
		}
		ev = st >> 16;
		if (ev == PTRACE_EVENT_EXEC)
			o->execs++;
		if (ev == PTRACE_EVENT_EXIT &&
		    ptrace(PTRACE_GETEVENTMSG, w, NULL, &msg) == 0 &&
		    WIFSIGNALED((int)msg) && WTERMSIG((int)msg) == SIGSYS &&
		    o->kill_nr == -1) {
#ifdef TRACE_NR
			if (ptrace(PTRACE_GETREGS, w, NULL, &regs) == 0)
				o->kill_nr = TRACE_NR(regs);
#endif
		}
		/* A signal-delivery stop passes the signal on; events
		 * (exec, exit, fork, a new child's first stop) pass none. */
		(void)ptrace(PTRACE_CONT, w, NULL, (void *)(long)(ev == 0 ?
		    WSTOPSIG(st) : 0));
	}
	read_output(p[0], o);
}

static int
killed_by_sigsys(const struct outcome *o)
{
	return WIFSIGNALED(o->status) && WTERMSIG(o->status) == SIGSYS;
}

static int
exited_ok(const struct outcome *o)
{
	return WIFEXITED(o->status) && WEXITSTATUS(o->status) == C_OK;
}

/* For the messages: how the child ended. */
static const char *
how(const struct outcome *o)
{
	static char buf[5000];

	if (WIFSIGNALED(o->status))
		(void)snprintf(buf, sizeof(buf), "signal %d in call %ld, %d "
		    "exec(s); stderr: %s", WTERMSIG(o->status), o->kill_nr,
		    o->execs, o->out);
	else
		(void)snprintf(buf, sizeof(buf), "exit %d; stderr: %s",
		    WEXITSTATUS(o->status), o->out);
	return buf;
}

#define ASSERT_SIGSYS(o) do {						\
	if (!killed_by_sigsys(o))					\
		assert_str_fail(__FILE__, __LINE__, "child", "SIGSYS",	\
		    how(o), "killed by SIGSYS");			\
} while (0)
/*
 * Killed by SIGSYS in system call nr, and no exec happened (a traced
 * run).  Where the registers cannot be read (another architecture),
 * the exec check stands alone.
 */
#ifdef TRACE_NR
#define KILL_NR_OK(o, nr)	((o)->kill_nr == (long)(nr))
#else
#define KILL_NR_OK(o, nr)	1
#endif
#define ASSERT_KILLED_IN(o, nr) do {					\
	ASSERT_SIGSYS(o);						\
	ASSERT_INT_EQ((o)->execs, 0);					\
	if (!KILL_NR_OK(o, nr))						\
		assert_int_fail(__FILE__, __LINE__, "the call SIGSYS "	\
		    "stopped", #nr, (o)->kill_nr, (long)(nr), "==");	\
} while (0)
#define ASSERT_CHILD_OK(o) do {						\
	if (!exited_ok(o))						\
		assert_str_fail(__FILE__, __LINE__, "child", "exit 0",	\
		    how(o), "exit 0");					\
} while (0)

struct req {
	enum seccomp_role	 rq_role;
	int			 rq_dev;
	long			 rq_nr;		/* never-list cases */
};

/* The call must not return (kill mode) or must fail with EPERM (dev). */
static int
expect_denied(const struct req *rq, long r)
{
	if (!rq->rq_dev)
		return C_SURVIVED;
	return r == -1 && errno == EPERM ? C_OK : C_WRONG;
}

static int
c_probe(void *arg)
{
	const struct req *rq = arg;

	apply_or_exit(rq->rq_role, rq->rq_dev);
	return C_OK;
}

static int
c_execve(void *arg)
{
	const struct req *rq = arg;
	char *const argv[] = { "true", NULL };
	char *const envp[] = { NULL };
	long r;

	apply_or_exit(rq->rq_role, rq->rq_dev);
	r = execve("/bin/true", argv, envp);
	return expect_denied(rq, r);
}

static int
c_ptrace(void *arg)
{
	const struct req *rq = arg;
	long r;

	apply_or_exit(rq->rq_role, rq->rq_dev);
	/* PTRACE_TRACEME, spelled out to avoid <sys/ptrace.h>'s varargs */
	r = syscall(SYS_ptrace, 0L, 0L, 0L, 0L);
	return expect_denied(rq, r);
}

static int
c_fork(void *arg)
{
	const struct req *rq = arg;
	pid_t pid;
	int st;

	apply_or_exit(rq->rq_role, rq->rq_dev);
	if ((pid = fork()) == 0)
		_exit(7);
	if (pid == -1)
		return expect_denied(rq, -1);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 7)
		return C_WRONG;
	return rq->rq_role == SECCOMP_PARENT ? C_OK : C_SURVIVED;
}

static void *
thread_main(void *arg)
{
	struct timespec ts;
	char *p;

	(void)arg;
	if ((p = malloc(1 << 20)) == NULL)
		return NULL;
	memset(p, 1, 1 << 20);
	free(p);
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return NULL;
	return (void *)1;
}

static int
c_thread(void *arg)
{
	const struct req *rq = arg;
	pthread_t t[3];
	void *ret;
	int i;

	apply_or_exit(rq->rq_role, rq->rq_dev);
	for (i = 0; i < 3; i++)
		if (pthread_create(&t[i], NULL, thread_main, NULL) != 0)
			return C_WRONG;
	for (i = 0; i < 3; i++)
		if (pthread_join(t[i], &ret) != 0 || ret != (void *)1)
			return C_WRONG;
	/* clone3 is refused with ENOSYS: glibc fell back to clone. */
	errno = 0;
	if (syscall(SYS_clone3, NULL, (size_t)0) != -1 || errno != ENOSYS)
		return C_WRONG;
	return C_OK;
}

/* malloc (brk, mmap, mremap, munmap), clocks, a write: ordinary work. */
static int
c_normal_work(void)
{
	struct timespec ts;
	char *small, *big;
	size_t i;

	for (i = 0; i < 1000; i++) {
		if ((small = malloc(100 + i)) == NULL)
			return C_WRONG;
		free(small);
	}
	if ((big = malloc(8 << 20)) == NULL)
		return C_WRONG;
	memset(big, 2, 8 << 20);
	if ((big = realloc(big, 32 << 20)) == NULL)
		return C_WRONG;
	free(big);
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0 ||
	    clock_gettime(CLOCK_REALTIME, &ts) != 0 || time(NULL) == -1)
		return C_WRONG;
	if (getpid() <= 0)
		return C_WRONG;
	note("normal work done\n");
	return C_OK;
}

static int
c_normal(void *arg)
{
	const struct req *rq = arg;

	apply_or_exit(rq->rq_role, rq->rq_dev);
	return c_normal_work();
}

static int
c_mmap_wx(void *arg)
{
	const struct req *rq = arg;
	void *p;

	apply_or_exit(rq->rq_role, rq->rq_dev);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return expect_denied(rq, p == MAP_FAILED ? -1 : 0);
}

static int
c_mprotect_x(void *arg)
{
	const struct req *rq = arg;
	void *p;

	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 99;
	apply_or_exit(rq->rq_role, rq->rq_dev);
	return expect_denied(rq, mprotect(p, 4096, PROT_READ | PROT_EXEC));
}

/* Read-only and read-write mappings stay possible. */
static int
c_mmap_ok(void *arg)
{
	const struct req *rq = arg;
	void *p;

	apply_or_exit(rq->rq_role, rq->rq_dev);
	p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || mprotect(p, 1 << 20, PROT_READ) != 0 ||
	    madvise(p, 1 << 20, MADV_DONTNEED) != 0 || munmap(p, 1 << 20) != 0)
		return C_WRONG;
	return C_OK;
}

static int
c_socket_unix(void *arg)
{
	const struct req *rq = arg;

	apply_or_exit(rq->rq_role, rq->rq_dev);
	return expect_denied(rq, socket(AF_UNIX, SOCK_STREAM, 0));
}

static int
c_socket_netlink(void *arg)
{
	const struct req *rq = arg;

	apply_or_exit(rq->rq_role, rq->rq_dev);
	return expect_denied(rq, socket(AF_NETLINK, SOCK_RAW, 0));
}

static int
c_socket_inet(void *arg)
{
	const struct req *rq = arg;
	int fd;

	apply_or_exit(rq->rq_role, rq->rq_dev);
	/* Nobody makes a socket after start-up, not even the front. */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	return expect_denied(rq, fd);
}

/* The front: no file opens (EACCES, in dev mode too). */
static int
c_open_front(void *arg)
{
	const struct req *rq = arg;
	int fd;

	apply_or_exit(rq->rq_role, rq->rq_dev);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return fd == -1 && errno == EACCES ? C_OK : C_WRONG;
}

/* The worker: read-only opens (a reload), never for writing. */
static int
c_open_worker_ro(void *arg)
{
	const struct req *rq = arg;
	char c;
	int fd;

	apply_or_exit(rq->rq_role, rq->rq_dev);
	if ((fd = open("/dev/zero", O_RDONLY | O_CLOEXEC)) == -1 ||
	    read(fd, &c, 1) != 1)
		return C_WRONG;
	(void)close(fd);
	return C_OK;
}

static int
c_open_worker_rw(void *arg)
{
	const struct req *rq = arg;

	apply_or_exit(rq->rq_role, rq->rq_dev);
	return expect_denied(rq, open("/dev/null", O_WRONLY | O_CLOEXEC));
}

static int
c_open_worker_creat(void *arg)
{
	const struct req *rq = arg;
	char path[300];

	(void)snprintf(path, sizeof(path), "%s/created", test_tmpdir());
	apply_or_exit(rq->rq_role, rq->rq_dev);
	return expect_denied(rq, open(path, O_RDONLY | O_CREAT | O_CLOEXEC,
	    0600));
}

/* raise() signals the caller itself: allowed in every role. */
static volatile sig_atomic_t got_usr1;

static void
on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

static int
c_raise(void *arg)
{
	const struct req *rq = arg;

	signal(SIGUSR1, on_usr1);
	apply_or_exit(rq->rq_role, rq->rq_dev);
	if (raise(SIGUSR1) != 0 || !got_usr1)
		return C_WRONG;
	return C_OK;
}

/* abort() still ends in SIGABRT (tgkill to self), not in SIGSYS. */
static int
c_abort(void *arg)
{
	const struct req *rq = arg;

	apply_or_exit(rq->rq_role, rq->rq_dev);
	abort();
}

/* A helper process to signal: dies with us, whatever happens. */
static pid_t
spawn_sleeper(void)
{
	pid_t pid, parent = getpid();

	if ((pid = fork()) == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(0);	/* it died before the prctl */
		for (;;)
			pause();
	}
	return pid;
}

/* Front and worker: tgkill of another process is refused. */
static int
c_tgkill_other(void *arg)
{
	const struct req *rq = arg;
	pid_t pid;
	long r;

	if ((pid = spawn_sleeper()) == -1)
		return 99;
	apply_or_exit(rq->rq_role, rq->rq_dev);
	r = syscall(SYS_tgkill, (long)pid, (long)pid, (long)SIGTERM);
	return expect_denied(rq, r);
}

/* The parent: SIGTERM, SIGHUP, SIGKILL to a child, and it reaps it. */
static int
c_parent_kill_ok(void *arg)
{
	const struct req *rq = arg;
	static const int sigs[] = { SIGHUP, SIGTERM, SIGKILL };
	pid_t pid;
	int st;
	size_t i;

	apply_or_exit(rq->rq_role, rq->rq_dev);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if ((pid = fork()) == 0) {
			for (;;)	/* pause(2) is not on the list */
				(void)poll(NULL, 0, -1);
		}
		if (pid == -1 || kill(pid, sigs[i]) != 0 ||
		    waitpid(pid, &st, 0) != pid || !WIFSIGNALED(st) ||
		    WTERMSIG(st) != sigs[i])
			return C_WRONG;
	}
	return C_OK;
}

/* The parent: another signal is refused. */
static int
c_parent_kill_usr1(void *arg)
{
	const struct req *rq = arg;
	pid_t pid;

	if ((pid = spawn_sleeper()) == -1)
		return 99;
	apply_or_exit(rq->rq_role, rq->rq_dev);
	return expect_denied(rq, kill(pid, SIGUSR1));
}

/* The parent: kill(0) (our own process group, see run_child) is EPERM. */
static int
c_parent_kill_group(void *arg)
{
	const struct req *rq = arg;

	signal(SIGHUP, SIG_IGN);	/* in case the filter lets it through */
	apply_or_exit(rq->rq_role, rq->rq_dev);
	if (kill(0, SIGHUP) != -1 || errno != EPERM)
		return C_WRONG;
	return C_OK;
}

/* The parent: a process group by negative pid is refused (killed). */
static int
c_parent_kill_negative(void *arg)
{
	const struct req *rq = arg;

	signal(SIGHUP, SIG_IGN);
	apply_or_exit(rq->rq_role, rq->rq_dev);
	return expect_denied(rq, kill(-getpid(), SIGHUP));
}

static int
c_parent_socketpair(void *arg)
{
	const struct req *rq = arg;
	int sv[2];

	apply_or_exit(rq->rq_role, rq->rq_dev);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return C_WRONG;
	(void)close(sv[0]);
	(void)close(sv[1]);
	return C_OK;
}

static int
c_parent_socketpair_inet(void *arg)
{
	const struct req *rq = arg;
	int sv[2];

	apply_or_exit(rq->rq_role, rq->rq_dev);
	return expect_denied(rq, socketpair(AF_INET, SOCK_STREAM, 0, sv));
}

/*
 * Under the parent's filter, a child starts up as the front or the worker
 * does (signals, names, rlimits, Landlock, the shared area, the listening
 * socket, threads, its own filter), then lives under both filters.
 * rq_nr: 0, ordinary work after; 1, open (the front: EACCES); 2, execve.
 */
static int stacked_lfd = -1;

static int
g_startup(const struct req *rq)
{
	struct rlimit rl;
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	sigset_t set;
	pthread_t t;
	void *ret;
	int fd, s, seals;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0 ||
	    (fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		return 10;
	(void)close(fd);
	signal(SIGPIPE, SIG_IGN);
	if (prctl(PR_SET_NAME, "aiguardd-test") != 0 ||
	    prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return 11;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 ||
	    setrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 12;
	/* Landlock's ABI probe: any answer, as long as we live. */
	(void)syscall(SYS_landlock_create_ruleset, NULL, (size_t)0, 1U);
	if ((fd = memfd_create("t", MFD_CLOEXEC | MFD_ALLOW_SEALING)) == -1 ||
	    ftruncate(fd, 1 << 16) != 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0 ||
	    (seals = fcntl(fd, F_GET_SEALS)) == -1 || !(seals & F_SEAL_SHRINK))
		return 13;
	(void)close(fd);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* The listening socket was bound before the parent's filter. */
	if ((s = stacked_lfd) == -1 ||
	    getsockname(s, (struct sockaddr *)&sin, &sl) != 0 ||
	    fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK) != 0)
		return 14;
	if ((fd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return 15;
	(void)close(fd);
	if ((fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		return 16;
	(void)close(fd);
	if ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		return 17;
	(void)close(fd);
	if (pthread_create(&t, NULL, thread_main, NULL) != 0 ||
	    pthread_join(t, &ret) != 0 || ret != (void *)1)
		return 18;
	apply_or_exit(rq->rq_role, 0);
	switch (rq->rq_nr) {
	case 1:
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (rq->rq_role == SECCOMP_FRONT)
			return fd == -1 && errno == EACCES ? C_OK : C_WRONG;
		return fd >= 0 ? C_OK : C_WRONG;
	case 2: {
		char *const argv[] = { "true", NULL };
		char *const envp[] = { NULL };

		(void)execve("/bin/true", argv, envp);
		return C_SURVIVED;
	}
	}
	if (pthread_create(&t, NULL, thread_main, NULL) != 0 ||
	    pthread_join(t, &ret) != 0 || ret != (void *)1)
		return 19;
	return c_normal_work();
}

static int
c_stacked(void *arg)
{
	const struct req *rq = arg;
	pid_t pid;
	int st;

	struct sockaddr_in sin;

	/* As aiguardd's parent: bind the listening socket, then filter. */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((stacked_lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC,
	    0)) == -1 || bind(stacked_lfd, (struct sockaddr *)&sin,
	    sizeof(sin)) != 0 || listen(stacked_lfd, 16) != 0)
		return 98;
	apply_or_exit(SECCOMP_PARENT, 0);
	if ((pid = fork()) == -1)
		return 99;
	if (pid == 0)
		_exit(g_startup(rq));
	if (waitpid(pid, &st, 0) != pid)
		return 99;
	if (WIFSIGNALED(st))
		return 100 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

/* One call of the never list, every argument invalid. */
static int
c_never(void *arg)
{
	const struct req *rq = arg;
	long r;

	apply_or_exit(rq->rq_role, rq->rq_dev);
	r = syscall(rq->rq_nr, -1L, -1L, -1L, -1L, -1L, -1L);
	return expect_denied(rq, r);
}

/* OpenSSL's random generators reseed by getrandom(2) after a fork. */
static int
c_getrandom(void *arg)
{
	const struct req *rq = arg;
	unsigned char b[16];

	apply_or_exit(rq->rq_role, rq->rq_dev);
	return syscall(SYS_getrandom, b, sizeof(b), 0) == (long)sizeof(b) ?
	    C_OK : C_WRONG;
}

/* ==== Signatures under the filters ==== */

#define SIG_CURVES	3
static const char *const sig_curves[SIG_CURVES] = {
	"P-256", "P-384", "P-521"
};
/* A signed directory and its trust per curve; the vectors' (or NULL). */
static char sig_dir[SIG_CURVES][512];
static struct msig_trust *sig_trust[SIG_CURVES];
static char vec_key_dir[1100], vec_cert_dir[1100];
static struct msig_trust *vec_key, *vec_ca;

/* In the test process, before any filter: keys, signed directories. */
static void
sig_prepare(void)
{
	char p[1200], err[512], *out = NULL;
	struct msig_sign_opts o;
	struct mfiles *mf;
	EVP_PKEY *k;
	size_t len, i;
	FILE *fp;
	const char *v;

	msig_init();
	memset(&o, 0, sizeof(o));
	for (i = 0; i < SIG_CURVES; i++) {
		(void)snprintf(sig_dir[i], sizeof(sig_dir[i]), "%s/m%s",
		    test_tmpdir(), sig_curves[i]);
		(void)snprintf(p, sizeof(p), "%s/weights.bin", sig_dir[i]);
		if (mkdir(sig_dir[i], 0700) != 0 ||
		    (fp = fopen(p, "w")) == NULL ||
		    fprintf(fp, "weights of %s\n", sig_curves[i]) < 0 ||
		    fclose(fp) != 0 ||
		    (k = EVP_EC_gen(sig_curves[i])) == NULL)
			exit(99);
		(void)snprintf(p, sizeof(p), "%s/%s.key", test_tmpdir(),
		    sig_curves[i]);
		if ((fp = fopen(p, "w")) == NULL || PEM_write_PrivateKey(fp, k,
		    NULL, NULL, 0, NULL, NULL) != 1 || fclose(fp) != 0)
			exit(99);
		if (mfiles_open(sig_dir[i], &mf, err, sizeof(err)) != 0 ||
		    msig_sign(mf, p, &o, &out, &len, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s: %s\n", sig_curves[i], err);
			exit(99);
		}
		mfiles_close(mf);
		(void)snprintf(p, sizeof(p), "%s/%s", sig_dir[i], MSIG_FILE);
		if ((fp = fopen(p, "w")) == NULL ||
		    fwrite(out, 1, len, fp) != len || fclose(fp) != 0)
			exit(99);
		free(out);
		(void)snprintf(p, sizeof(p), "%s/%s.pub", test_tmpdir(),
		    sig_curves[i]);
		if ((fp = fopen(p, "w")) == NULL ||
		    PEM_write_PUBKEY(fp, k) != 1 || fclose(fp) != 0 ||
		    msig_trust_key(p, &sig_trust[i], err, sizeof(err)) != 0)
			exit(99);
		EVP_PKEY_free(k);
	}
	if ((v = test_vectors_dir()) == NULL)
		return;
	(void)snprintf(vec_key_dir, sizeof(vec_key_dir),
	    "%s/v1.1.0-elliptic-key", v);
	(void)snprintf(vec_cert_dir, sizeof(vec_cert_dir),
	    "%s/v1.1.0-certificate", v);
	(void)snprintf(p, sizeof(p), "%s/keys/signing-key-pub.pem", v);
	if (msig_trust_key(p, &vec_key, err, sizeof(err)) != 0)
		exit(99);
	(void)snprintf(p, sizeof(p), "%s/keys/ca-cert.pem", v);
	if (msig_trust_ca(p, &vec_ca, err, sizeof(err)) != 0)
		exit(99);
}

static int
sig_verify_one(const char *dir, const struct msig_trust *t, const char *ign)
{
	const char *ig[1] = { ign };
	struct mfiles *mf;
	char err[512];
	int r;

	if ((r = mfiles_open(dir, &mf, err, sizeof(err))) == 0) {
		r = msig_verify(mf, t, ign != NULL ? ig : NULL,
		    ign != NULL ? 1 : 0, NULL, err, sizeof(err));
		mfiles_close(mf);
	}
	if (r != 0) {
		note(dir);
		note(": ");
		note(err);
		note("\n");
	}
	return r;
}

/*
 * rq_nr 0: the three curves, 1: the vectors; rq_role SECCOMP_PARENT:
 * under the parent's filter alone (a worker's first load), else under
 * the worker's too (a reload).
 */
static int
g_verify(const struct req *rq)
{
	size_t i;

	if (rq->rq_role != SECCOMP_PARENT)
		apply_or_exit(rq->rq_role, 0);
	if (rq->rq_nr == 1)
		return sig_verify_one(vec_key_dir, vec_key, NULL) != 0 ||
		    sig_verify_one(vec_cert_dir, vec_ca, "ignore-me") != 0 ?
		    C_WRONG : C_OK;
	for (i = 0; i < SIG_CURVES; i++)
		if (sig_verify_one(sig_dir[i], sig_trust[i], NULL) != 0)
			return C_WRONG;
	return C_OK;
}

/* As aiguardd: the parent's filter, then a fork, then the verification. */
static int
c_verify_stacked(void *arg)
{
	const struct req *rq = arg;
	pid_t pid;
	int st;

	apply_or_exit(SECCOMP_PARENT, 0);
	if ((pid = fork()) == -1)
		return 99;
	if (pid == 0)
		_exit(g_verify(rq));
	if (waitpid(pid, &st, 0) != pid)
		return 99;
	if (WIFSIGNALED(st))
		return 100 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

/* ==== Tests ==== */

static struct req
mkreq(enum seccomp_role role, int dev)
{
	struct req rq;

	memset(&rq, 0, sizeof(rq));
	rq.rq_role = role;
	rq.rq_dev = dev;
	return rq;
}

/*
 * What the kernel lacks of what seccomp_apply() needs, or NULL: seccomp
 * filters (PR_GET_SECCOMP answers rather than EINVAL) and
 * SECCOMP_RET_KILL_PROCESS (seccomp(2)'s GET_ACTION_AVAIL, 4.14).  Asked
 * of the kernel itself, never through seccomp_apply(): a failure of ours
 * must not pass for a kernel without seccomp.
 */
static const char *
kernel_lacks_seccomp(void)
{
	uint32_t action = SECCOMP_RET_KILL_PROCESS;

	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == -1 && errno == EINVAL)
		return "the kernel has no seccomp (PR_GET_SECCOMP: EINVAL)";
	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == -1)
		return errno == ENOSYS ? "the kernel has no seccomp(2)" :
		    "the kernel lacks SECCOMP_RET_KILL_PROCESS";
	return NULL;
}

/*
 * Whether this build and kernel load filters at all.  Skips in a
 * sanitizer build (no filter by design) and on a kernel without seccomp;
 * anywhere else, a seccomp_apply() that fails is a failure.
 */
static void
test_probe(void)
{
	struct outcome o;
	struct req rq = mkreq(SECCOMP_WORKER, 0);
	const char *why;
	char err[256];
	int r;

	TEST_START("seccomp_apply: bad role");
	r = seccomp_apply((enum seccomp_role)7, 0, err, sizeof(err));
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	ASSERT_INT_EQ(r, AG_ERR_UNSUPPORTED);
#else
	ASSERT_INT_EQ(r, AG_ERR_INVALID_ARG);
#endif
	TEST_DONE();

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	TEST_START("sanitizer build: AG_ERR_UNSUPPORTED, no filter");
	run_child(c_probe, &rq, &o);
	ASSERT_TRUE(WIFEXITED(o.status) && WEXITSTATUS(o.status) == C_APPLY);
	ASSERT_STRING_CONTAINS(o.out, "sanitizer");
	TEST_DONE();
	test_skip_all("sanitizer-no-seccomp", "sanitizer build: "
	    "seccomp_apply() returns AG_ERR_UNSUPPORTED by design");
#endif
	if ((why = kernel_lacks_seccomp()) != NULL)
		test_skip_all("no-seccomp", why);
	TEST_START("seccomp_apply: each role loads, kill and dev mode");
	for (r = SECCOMP_PARENT; r <= SECCOMP_WORKER; r++) {
		rq = mkreq((enum seccomp_role)r, 0);
		run_child(c_probe, &rq, &o);
		ASSERT_CHILD_OK(&o);
		rq.rq_dev = 1;
		run_child(c_probe, &rq, &o);
		ASSERT_CHILD_OK(&o);
	}
	TEST_DONE();
}

static void
test_kill_mode(void)
{
	static int (*const deny_all[])(void *) = {
		c_execve, c_ptrace, c_mmap_wx, c_mprotect_x,
		c_socket_unix, c_socket_netlink,
	};
	static const char *const deny_names[] = {
		"execve", "ptrace", "mmap W+X", "mprotect +X",
		"socket(AF_UNIX)", "socket(AF_NETLINK)",
	};
	/* The call each dies in (and not later, in another). */
	static const long deny_nrs[] = {
		SYS_execve, SYS_ptrace, SYS_mmap, SYS_mprotect,
		SYS_socket, SYS_socket,
	};
	static int (*const allow_all[])(void *) = {
		c_normal, c_thread, c_mmap_ok, c_raise,
	};
	struct outcome o;
	struct req rq;
	char name[128];
	size_t i;
	int r;

	for (r = SECCOMP_PARENT; r <= SECCOMP_WORKER; r++) {
		rq = mkreq((enum seccomp_role)r, 0);
		for (i = 0; i < sizeof(deny_all) / sizeof(deny_all[0]); i++) {
			(void)snprintf(name, sizeof(name), "%s: %s kills",
			    role_names[r], deny_names[i]);
			TEST_START(name);
			run_traced(deny_all[i], &rq, 0, &o);
			ASSERT_KILLED_IN(&o, deny_nrs[i]);
			TEST_DONE();
		}
		(void)snprintf(name, sizeof(name), "%s: malloc, threads "
		    "(clone3 ENOSYS, clone), mmap RW/RO, clocks, raise work",
		    role_names[r]);
		TEST_START(name);
		for (i = 0; i < sizeof(allow_all) / sizeof(allow_all[0]);
		    i++) {
			run_child(allow_all[i], &rq, &o);
			ASSERT_CHILD_OK(&o);
		}
		TEST_DONE();
		(void)snprintf(name, sizeof(name), "%s: abort() ends in "
		    "SIGABRT", role_names[r]);
		TEST_START(name);
		run_child(c_abort, &rq, &o);
		ASSERT_TRUE(WIFSIGNALED(o.status) &&
		    WTERMSIG(o.status) == SIGABRT);
		TEST_DONE();
	}

	TEST_START("front, worker: fork kills");
	rq = mkreq(SECCOMP_FRONT, 0);
	run_traced(c_fork, &rq, 0, &o);
	ASSERT_KILLED_IN(&o, SYS_clone);
	rq = mkreq(SECCOMP_WORKER, 0);
	run_traced(c_fork, &rq, 0, &o);
	ASSERT_KILLED_IN(&o, SYS_clone);
	TEST_DONE();

	TEST_START("front, worker: tgkill of another process kills");
	rq = mkreq(SECCOMP_FRONT, 0);
	run_traced(c_tgkill_other, &rq, 0, &o);
	ASSERT_KILLED_IN(&o, SYS_tgkill);
	rq = mkreq(SECCOMP_WORKER, 0);
	run_traced(c_tgkill_other, &rq, 0, &o);
	ASSERT_KILLED_IN(&o, SYS_tgkill);
	TEST_DONE();

	TEST_START("front: socket(AF_INET) kills");
	rq = mkreq(SECCOMP_FRONT, 0);
	run_traced(c_socket_inet, &rq, 0, &o);
	ASSERT_KILLED_IN(&o, SYS_socket);
	TEST_DONE();

	TEST_START("worker: socket(AF_INET) kills");
	rq = mkreq(SECCOMP_WORKER, 0);
	run_traced(c_socket_inet, &rq, 0, &o);
	ASSERT_KILLED_IN(&o, SYS_socket);
	TEST_DONE();

	TEST_START("front: open fails with EACCES");
	rq = mkreq(SECCOMP_FRONT, 0);
	run_child(c_open_front, &rq, &o);
	ASSERT_CHILD_OK(&o);
	TEST_DONE();

	TEST_START("worker: open read-only works, for writing kills");
	(void)test_tmpdir();	/* made here, removed at our exit */
	rq = mkreq(SECCOMP_WORKER, 0);
	run_child(c_open_worker_ro, &rq, &o);
	ASSERT_CHILD_OK(&o);
	run_traced(c_open_worker_rw, &rq, 0, &o);
	ASSERT_KILLED_IN(&o, SYS_openat);
	run_traced(c_open_worker_creat, &rq, 0, &o);
	ASSERT_KILLED_IN(&o, SYS_openat);
	TEST_DONE();

	rq = mkreq(SECCOMP_PARENT, 0);
	TEST_START("parent: fork works");
	run_child(c_fork, &rq, &o);
	ASSERT_CHILD_OK(&o);
	TEST_DONE();

	TEST_START("parent: SIGHUP, SIGTERM, SIGKILL to a child work");
	run_child(c_parent_kill_ok, &rq, &o);
	ASSERT_CHILD_OK(&o);
	TEST_DONE();

	TEST_START("parent: SIGUSR1 to a child kills");
	run_traced(c_parent_kill_usr1, &rq, 0, &o);
	ASSERT_KILLED_IN(&o, SYS_kill);
	TEST_DONE();

	TEST_START("parent: kill(0) is EPERM, kill(-pgid) kills");
	run_child(c_parent_kill_group, &rq, &o);
	ASSERT_CHILD_OK(&o);
	run_traced(c_parent_kill_negative, &rq, 0, &o);
	ASSERT_KILLED_IN(&o, SYS_kill);
	TEST_DONE();

	TEST_START("parent: socketpair(AF_UNIX) works, AF_INET kills");
	run_child(c_parent_socketpair, &rq, &o);
	ASSERT_CHILD_OK(&o);
	run_traced(c_parent_socketpair_inet, &rq, 0, &o);
	ASSERT_KILLED_IN(&o, SYS_socketpair);
	TEST_DONE();
}

static void
test_stacked(void)
{
	struct outcome o;
	struct req rq;
	char name[128];
	int r;

	for (r = SECCOMP_FRONT; r <= SECCOMP_WORKER; r++) {
		rq = mkreq((enum seccomp_role)r, 0);
		(void)snprintf(name, sizeof(name), "parent then %s: start-up "
		    "passes the parent's filter, then both hold",
		    role_names[r]);
		TEST_START(name);
		run_child(c_stacked, &rq, &o);
		ASSERT_CHILD_OK(&o);
		rq.rq_nr = 1;
		run_child(c_stacked, &rq, &o);
		ASSERT_CHILD_OK(&o);
		rq.rq_nr = 2;
		/* Traced with its child: that one dies in execve itself. */
		run_traced(c_stacked, &rq, 1, &o);
		ASSERT_TRUE(WIFEXITED(o.status) &&
		    WEXITSTATUS(o.status) == 100 + SIGSYS);
		ASSERT_INT_EQ(o.execs, 0);
		if (!KILL_NR_OK(&o, SYS_execve))
			assert_int_fail(__FILE__, __LINE__, "the call SIGSYS "
			    "stopped", "SYS_execve", o.kill_nr, SYS_execve,
			    "==");
		TEST_DONE();
	}
}

/* The project's "never" list, from the headers (not from seccomp.c). */
static const struct {
	long		 nr;
	const char	*name;
} never[] = {
#define N(x)	{ SYS_##x, #x }
	N(execve), N(execveat), N(ptrace), N(process_vm_readv),
	N(process_vm_writev), N(bpf), N(mount), N(umount2), N(keyctl),
	N(add_key), N(request_key), N(perf_event_open), N(userfaultfd),
	N(io_uring_setup), N(io_uring_enter), N(io_uring_register),
	N(init_module), N(finit_module), N(kexec_load), N(setns),
	N(unshare), N(pivot_root), N(chroot), N(open_by_handle_at),
	N(personality),
#undef N
};

static void
test_never(void)
{
	struct outcome o;
	struct req rq;
	char name[128];
	size_t i;
	int r;

	for (r = SECCOMP_PARENT; r <= SECCOMP_WORKER; r++) {
		(void)snprintf(name, sizeof(name), "%s: every call of the "
		    "never list kills", role_names[r]);
		TEST_START(name);
		for (i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
			rq = mkreq((enum seccomp_role)r, 0);
			rq.rq_nr = never[i].nr;
			run_traced(c_never, &rq, 0, &o);
			if (!killed_by_sigsys(&o) || o.execs != 0 ||
			    !KILL_NR_OK(&o, never[i].nr))
				assert_str_fail(__FILE__, __LINE__,
				    never[i].name, "SIGSYS in that call",
				    how(&o), "killed by SIGSYS");
		}
		TEST_DONE();
	}
}

static void
test_openssl(void)
{
	static const struct {
		long		 nr;
		const char	*name;
	} fallback[] = {
		{ SYS_shmget, "shmget" }, { SYS_uname, "uname" },
	};
	struct outcome o;
	struct req rq;
	size_t i;
	int r;

	/*
	 * Every role: the worker's signature checks (OpenSSL's blinding),
	 * the front's TLS handshakes (GnuTLS's nonces and ephemeral keys),
	 * and the parent, whose filter its children inherit.
	 */
	TEST_START("getrandom works in every role (P-384 blinding, TLS)");
	rq = mkreq(SECCOMP_PARENT, 0);
	run_child(c_getrandom, &rq, &o);
	ASSERT_CHILD_OK(&o);
	rq = mkreq(SECCOMP_WORKER, 0);
	run_child(c_getrandom, &rq, &o);
	ASSERT_CHILD_OK(&o);
	rq = mkreq(SECCOMP_FRONT, 0);
	run_child(c_getrandom, &rq, &o);
	ASSERT_CHILD_OK(&o);
	TEST_DONE();

	/* OpenSSL's /dev/urandom fallback: not needed, not allowed. */
	TEST_START("shmget and uname kill in every role");
	for (r = SECCOMP_PARENT; r <= SECCOMP_WORKER; r++)
		for (i = 0; i < sizeof(fallback) / sizeof(fallback[0]); i++) {
			rq = mkreq((enum seccomp_role)r, 0);
			rq.rq_nr = fallback[i].nr;
			run_traced(c_never, &rq, 0, &o);
			if (!killed_by_sigsys(&o) || o.execs != 0 ||
			    !KILL_NR_OK(&o, fallback[i].nr))
				assert_str_fail(__FILE__, __LINE__,
				    fallback[i].name, "SIGSYS in that call",
				    how(&o), "killed by SIGSYS");
		}
	TEST_DONE();

	sig_prepare();
	TEST_START("ECDSA P-256, P-384, P-521 verify in a child of the "
	    "parent's filter (load) and under the worker's (reload)");
	rq = mkreq(SECCOMP_PARENT, 0);
	run_child(c_verify_stacked, &rq, &o);
	ASSERT_CHILD_OK(&o);
	rq = mkreq(SECCOMP_WORKER, 0);
	run_child(c_verify_stacked, &rq, &o);
	ASSERT_CHILD_OK(&o);
	TEST_DONE();

	if (vec_key == NULL) {
		test_skip_part("no-shared-vectors", 1, "vectors: "
		    "../shared/vectors/model-signing not found");
		return;
	}
	TEST_START("the OpenSSF vectors (P-384 key; P-384 leaf, "
	    "intermediate) verify at load and at reload");
	rq = mkreq(SECCOMP_PARENT, 0);
	rq.rq_nr = 1;
	run_child(c_verify_stacked, &rq, &o);
	ASSERT_CHILD_OK(&o);
	rq = mkreq(SECCOMP_WORKER, 0);
	rq.rq_nr = 1;
	run_child(c_verify_stacked, &rq, &o);
	ASSERT_CHILD_OK(&o);
	TEST_DONE();
}

static void
test_dev_mode(void)
{
	struct outcome o;
	struct req rq;
	char name[128];
	size_t i;
	int r;

#if !defined(__x86_64__) && !defined(__aarch64__)
	TEST_START("dev mode: unsupported on this architecture");
	rq = mkreq(SECCOMP_WORKER, 1);
	run_child(c_probe, &rq, &o);
	ASSERT_TRUE(WIFEXITED(o.status) && WEXITSTATUS(o.status) == C_APPLY);
	TEST_DONE();
	return;
#endif
	for (r = SECCOMP_PARENT; r <= SECCOMP_WORKER; r++) {
		rq = mkreq((enum seccomp_role)r, 1);
		(void)snprintf(name, sizeof(name), "%s, dev mode: execve is "
		    "EPERM, logged, the child lives on", role_names[r]);
		TEST_START(name);
		run_traced(c_execve, &rq, 0, &o);
		ASSERT_CHILD_OK(&o);
		ASSERT_INT_EQ(o.execs, 0);
		ASSERT_STRING_CONTAINS(o.out, "event=seccomp_denied "
		    "syscall=execve ");
		ASSERT_STRING_CONTAINS(o.out, role_names[r]);
		ASSERT_STRING_CONTAINS(o.out, "result=EPERM");
		TEST_DONE();

		(void)snprintf(name, sizeof(name), "%s, dev mode: ptrace, W+X "
		    "mmap, AF_UNIX socket are EPERM", role_names[r]);
		TEST_START(name);
		run_child(c_ptrace, &rq, &o);
		ASSERT_CHILD_OK(&o);
		ASSERT_STRING_CONTAINS(o.out, "syscall=ptrace ");
		run_child(c_mmap_wx, &rq, &o);
		ASSERT_CHILD_OK(&o);
		ASSERT_STRING_CONTAINS(o.out, "syscall=mmap ");
		run_child(c_socket_unix, &rq, &o);
		ASSERT_CHILD_OK(&o);
		ASSERT_STRING_CONTAINS(o.out, "syscall=socket ");
		TEST_DONE();

		(void)snprintf(name, sizeof(name), "%s, dev mode: ordinary "
		    "work logs nothing", role_names[r]);
		TEST_START(name);
		run_child(c_normal, &rq, &o);
		ASSERT_CHILD_OK(&o);
		ASSERT_STRING_EQ(o.out, "normal work done\n");
		run_child(c_thread, &rq, &o);
		ASSERT_CHILD_OK(&o);
		ASSERT_STRING_EQ(o.out, "");
		TEST_DONE();

		(void)snprintf(name, sizeof(name), "%s, dev mode: the never "
		    "list is EPERM and logged", role_names[r]);
		TEST_START(name);
		for (i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
			char want[64];

			rq.rq_nr = never[i].nr;
			run_child(c_never, &rq, &o);
			(void)snprintf(want, sizeof(want), "syscall=%s ",
			    never[i].name);
			if (!exited_ok(&o) || strstr(o.out, want) == NULL)
				assert_str_fail(__FILE__, __LINE__,
				    never[i].name, "EPERM", how(&o),
				    "exit 0 and a log line");
		}
		TEST_DONE();
	}

	TEST_START("front, worker, dev mode: fork is EPERM");
	rq = mkreq(SECCOMP_FRONT, 1);
	run_child(c_fork, &rq, &o);
	ASSERT_CHILD_OK(&o);
	ASSERT_STRING_CONTAINS(o.out, "syscall=clone ");
	rq = mkreq(SECCOMP_WORKER, 1);
	run_child(c_fork, &rq, &o);
	ASSERT_CHILD_OK(&o);
	TEST_DONE();
}

void
tests(void)
{
	test_plan(59);
	test_probe();
	test_kill_mode();
	test_stacked();
	test_never();
	test_openssl();
	test_dev_mode();
}
