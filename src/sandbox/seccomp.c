/* SPDX-License-Identifier: ISC */
/*
 * seccomp.c: the system call allowlists of aiguardd's three processes.
 * See seccomp.h for the contract.
 *
 * One table, sc_rules[], says for every system call who may make it after
 * start-up and why; a line per call (or per argument pattern), in the
 * order: every process, memory, threads, signals, the parent, the front,
 * the worker, and the start-up of a child under its parent's filter.
 * Columns: the call, the roles, and for an argument filter up to two
 * comparisons (libseccomp 2.5 allows one comparison per argument in a
 * rule; several rules for one call are ORed).  A rule with an errno
 * makes the call fail instead of allowing it.
 *
 * The roles:
 *   SC_P  the parent, for its own work (supervise(): poll, signalfd, fork,
 *         waitpid, kill, the front's control link)
 *   SC_F  the front after start-up (http/server.c, daemon/front.c)
 *   SC_W  the worker after start-up (daemon/worker.c, engine/, reload)
 *   SC_K  a child between fork() and its own seccomp_apply() (start-up of
 *         front_main() and worker_main(), sandbox_enter(), libseccomp)
 * Every filter is inherited by the children forked after it and stays in
 * force for them (see seccomp.h), so the PARENT filter is: the SC_P and
 * SC_K rules, and every SC_F or SC_W rule that allows a call without a
 * per-process argument (the SC_F/SC_W "own pid" rules have SC_P/SC_K
 * counterparts; the front's openat EACCES is narrowed in the front's own
 * filter).
 *
 * The lists were grown from strace -f of aiguardd through start-up, every
 * endpoint, a reload, a worker and a front killed and restarted, and
 * SIGTERM; then checked by running the end-to-end tests with the filters
 * applied, in dev mode (no line logged) and in kill mode.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include <seccomp.h>

#include "common/ag_err.h"
#include "seccomp.h"

#ifndef MPOL_PREFERRED
#define MPOL_PREFERRED		1	/* <numaif.h>, not a libc header */
#endif
#ifndef PR_SET_MDWE
#define PR_SET_MDWE		65
#endif
#ifndef SYS_SECCOMP
#define SYS_SECCOMP		1	/* si_code of a seccomp SIGSYS */
#endif

/*
 * Sanitizer builds: LeakSanitizer ptraces the process from a clone()d
 * helper at exit, ASan reads /proc/self/maps and installs sigaltstack
 * handlers, TSan runs a background thread; rather than a second, weaker
 * list for them, no filter at all (AG_ERR_UNSUPPORTED).
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SC_SANITIZER	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define SC_SANITIZER	1
#endif
#endif

/* Dev mode's handler makes the trapped call return -EPERM. */
#if defined(__x86_64__)
#define SC_SET_RETURN(uc, v)	((uc)->uc_mcontext.gregs[REG_RAX] = (v))
#elif defined(__aarch64__)
#define SC_SET_RETURN(uc, v)	((uc)->uc_mcontext.regs[0] = (v))
#endif

#define SC_P		0x01
#define SC_F		0x02
#define SC_W		0x04
#define SC_K		0x08
#define SC_FW		(SC_F | SC_W)
#define SC_ALL		(SC_P | SC_F | SC_W | SC_K)

/* Flags */
#define SR_SELF		0x01	/* first comparison's datum := getpid() */

struct sc_rule {
	int			 sr_nr;		/* SCMP_SYS(); < 0: not here */
	unsigned		 sr_roles;	/* SC_* */
	int			 sr_errno;	/* 0: allow */
	unsigned		 sr_flags;	/* SR_* */
	unsigned		 sr_argc;
	struct scmp_arg_cmp	 sr_arg[2];
};

#define SC_CMP(i, op, v)	{ (i), (op), (scmp_datum_t)(v), 0 }
#define SC_EQ(i, v)		SC_CMP(i, SCMP_CMP_EQ, v)
#define SC_MASKED(i, m, v)	\
	{ (i), SCMP_CMP_MASKED_EQ, (scmp_datum_t)(m), (scmp_datum_t)(v) }

#define ALLOW(sys, roles) \
	{ SCMP_SYS(sys), (roles), 0, 0, 0, { { 0 } } }
#define ALLOW1(sys, roles, a) \
	{ SCMP_SYS(sys), (roles), 0, 0, 1, { a } }
#define ALLOW2(sys, roles, a, b) \
	{ SCMP_SYS(sys), (roles), 0, 0, 2, { a, b } }
#define ALLOW_SELF(sys, roles) \
	{ SCMP_SYS(sys), (roles), 0, SR_SELF, 1, { SC_EQ(0, 0) } }
#define FAIL(sys, roles, e) \
	{ SCMP_SYS(sys), (roles), (e), 0, 0, { { 0 } } }
#define FAIL1(sys, roles, e, a) \
	{ SCMP_SYS(sys), (roles), (e), 0, 1, { a } }

/* Namespaces and tracing: never through clone() either. */
#define SC_CLONE_NS	(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | \
	    CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP | \
	    CLONE_PTRACE)
/* open(2) flags that write or create: the worker opens read-only. */
#define SC_OPEN_WRITE	(O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND)
/* glibc's internal signal for set*id() in every thread (nptl/pthreadP.h) */
#define SC_SIGSETXID	33
/* Bits that make a kill() pid negative to the kernel (an int), or junk */
#define SC_PID_NONPOS	0xffffffff80000000ULL

/* clang-format off */
static const struct sc_rule sc_rules[] = {
	/* ==== Every process ==== */

	/* parent, front, worker: signalfd; front: MHD's eventfd; worker:
	 * the model files (reload); children: files at start-up */
	ALLOW(read,		SC_ALL),
	/* log.c: every log line (stderr); front: MHD wakes its threads
	 * through an eventfd (MHD_resume_connection) */
	ALLOW(write,		SC_ALL),
	ALLOW(close,		SC_ALL),
	/* glibc: mutexes, condition variables (the sweeper's
	 * pthread_cond_timedwait, the engine pool), pthread_join */
	ALLOW(futex,		SC_ALL),
	/* a poll or futex wait interrupted by SIGSTOP/SIGCONT resumes here */
	ALLOW(restart_syscall,	SC_ALL),
	/* a thread ends (MHD pool, engine pool, OpenBLAS at exit) */
	ALLOW(exit,		SC_ALL),
	ALLOW(exit_group,	SC_ALL),
	/* return from a signal handler (dev mode's SIGSYS handler) */
	ALLOW(rt_sigreturn,	SC_ALL),
	/* glibc: pthread_create and thread exit block signals; abort() */
	ALLOW(rt_sigprocmask,	SC_ALL),
	/* log.c writes pid= on every line; raise() */
	ALLOW(getpid,		SC_ALL),
	/* raise() and abort(): tgkill(getpid(), gettid(), sig) */
	ALLOW(gettid,		SC_ALL),
	/* ag_now(), MHD's timeouts: vDSO, these when the clock source has
	 * no vDSO support */
	ALLOW(clock_gettime,	SC_ALL),
	ALLOW(gettimeofday,	SC_ALL),
	ALLOW(time,		SC_ALL),

	/* ==== Memory: glibc malloc, thread stacks, the shared area ==== */

	/* malloc's main arena */
	ALLOW(brk,		SC_ALL),
	/* malloc's large blocks and thread arenas, thread stacks; front: the
	 * worker's shared area (MAP_SHARED memfd); worker: the weights on a
	 * reload (PROT_READ).  Never executable (PR_SET_MDWE says so too). */
	ALLOW1(mmap,		SC_ALL, SC_MASKED(2, PROT_EXEC, 0)),
	/* malloc grows thread arenas (PROT_READ|PROT_WRITE), glibc sets
	 * stack guards; worker: the weights made read-only after a reload */
	ALLOW1(mprotect,	SC_ALL, SC_MASKED(2, PROT_EXEC, 0)),
	ALLOW(munmap,		SC_ALL),
	/* realloc of large blocks: request bodies, JSON, model load */
	ALLOW(mremap,		SC_FW),
	/* free() and malloc_trim() give pages back; thread stacks */
	ALLOW1(madvise,		SC_ALL, SC_EQ(2, MADV_DONTNEED)),
	/* worker: the weights and the engine's arena (model/, engine/) */
	ALLOW1(madvise,		SC_W, SC_EQ(2, MADV_HUGEPAGE)),

	/* ==== Threads ==== */

	/* glibc 2.34+ pthread_create tries clone3 first, whose flags sit
	 * in memory where a filter cannot see them: ENOSYS makes it fall
	 * back to clone, whose flags we can check */
	FAIL(clone3,		SC_P | SC_FW, ENOSYS),
	/* front, worker: threads only (pthread_create: engine pool, MHD);
	 * no new process, no namespace, no tracing */
	ALLOW1(clone,		SC_FW,
	    SC_MASKED(0, CLONE_THREAD | SC_CLONE_NS, CLONE_THREAD)),
	/* parent: fork() (spawn_front, spawn_worker), and through its filter
	 * the children's threads; no namespace, no tracing */
	ALLOW1(clone,		SC_P, SC_MASKED(0, SC_CLONE_NS, 0)),
	/* glibc: the first pthread_create of a process (or of a child after
	 * fork) installs the handler of SIGSETXID (33, __SIGRTMIN + 1), for
	 * setuid() across threads; no other disposition changes */
	ALLOW1(rt_sigaction,	SC_FW, SC_EQ(0, SC_SIGSETXID)),
	/* glibc: a new thread registers its robust list and rseq area */
	ALLOW(set_robust_list,	SC_FW),
	ALLOW(rseq,		SC_FW),
	/* worker: the engine pool and OpenBLAS threads spin between jobs */
	ALLOW(sched_yield,	SC_W),
	/* worker, on the BLAS path (no AVX-512, AG_ENGINE_KERNEL=blas):
	 * OpenBLAS's buffers ask for local NUMA memory as they are mapped
	 * (alloc_mmap: mbind(MPOL_PREFERRED, no nodes)) */
	ALLOW1(mbind,		SC_W, SC_EQ(2, MPOL_PREFERRED)),

	/* ==== Signals ==== */

	/* front, worker: raise() and abort() signal the caller only */
	ALLOW_SELF(tgkill,	SC_FW),
	ALLOW_SELF(tgkill,	SC_P),
	/* parent: a child's abort() passes through our filter too */
	ALLOW1(tgkill,		SC_P | SC_K, SC_EQ(2, SIGABRT)),
	/* parent: kill(0) would signal the whole process group; refused
	 * first, as the next rules would let pid 0 through (libseccomp
	 * checks the rules of one call in the order they were added) */
	FAIL1(kill,		SC_P, EPERM, SC_EQ(0, 0)),
	/* parent: SIGTERM (stop, a front gone), SIGHUP (reload) and SIGKILL
	 * (grace period over) to one child, never to a group or to -1 */
	ALLOW2(kill,		SC_P, SC_MASKED(0, SC_PID_NONPOS, 0),
	    SC_EQ(1, SIGTERM)),
	ALLOW2(kill,		SC_P, SC_MASKED(0, SC_PID_NONPOS, 0),
	    SC_EQ(1, SIGHUP)),
	ALLOW2(kill,		SC_P, SC_MASKED(0, SC_PID_NONPOS, 0),
	    SC_EQ(1, SIGKILL)),

	/* ==== The parent ==== */

	/* supervise(): the signalfd; front: its main loop */
	ALLOW(poll,		SC_P | SC_F),
	/* worker: its main loop; glibc's poll() where there is no poll(2) */
	ALLOW(ppoll,		SC_ALL),
	/* reap(): waitpid() */
	ALLOW(wait4,		SC_P),
	/* spawn_front(), spawn_worker(): the links to a new child */
	ALLOW1(socketpair,	SC_P, SC_EQ(0, AF_UNIX)),
	/* parent: a new worker's socket to the front (SCM_RIGHTS); front,
	 * worker: ipc_send(); front: MHD's responses (writev-like) */
	ALLOW(sendmsg,		SC_P | SC_FW),

	/* ==== The front ==== */

	/* MHD: new connections on the listening socket */
	ALLOW(accept4,		SC_F),
	/* MHD: request bytes (recv) */
	ALLOW(recvfrom,		SC_F),
	/* MHD: responses; front_be_submit(): send() of an INFER */
	ALLOW(sendto,		SC_F),
	/* front: ipc_recv() of the worker's and the parent's messages
	 * (SCM_RIGHTS); worker: ipc_recv() of INFERs */
	ALLOW(recvmsg,		SC_FW),
	/* MHD: closing a connection; the sweeper cuts a slow one */
	ALLOW(shutdown,		SC_F),
	/* MHD: TCP_NODELAY (and corking) on each connection */
	ALLOW(setsockopt,	SC_F),
	/* MHD: one epoll set per pool thread */
	ALLOW(epoll_wait,	SC_F),
	ALLOW(epoll_pwait,	SC_F),
	ALLOW(epoll_ctl,	SC_F),
	/* front_map_shm(): the worker's shared area must be sealed */
	ALLOW1(fcntl,		SC_F, SC_EQ(1, F_GET_SEALS)),
	/* front_map_shm(): fstat of the shared area; worker: of the model
	 * files (glibc 2.33+ fstat is newfstatat(fd, "", AT_EMPTY_PATH)),
	 * and model_loc_current()'s lstat of the links to a store's
	 * current, once per load */
	ALLOW(fstat,		SC_FW),
	ALLOW(newfstatat,	SC_FW),
	/* MHD names each pool thread when it starts, which can be after
	 * the filter (TSYNC covers threads that have not run yet) */
	ALLOW1(prctl,		SC_F, SC_EQ(0, PR_SET_NAME)),
	/* No socket() for anyone after start-up: the parent bound the
	 * listening socket before its filter, and MHD only accepts on it.
	 * (A new TCP socket would also allow a TCP Fast Open sendto(), which
	 * Landlock's connect rule does not catch on this kernel.) */
	/* the front opens no file: jansson's hash seed (/dev/urandom) and
	 * glibc's time zone (/etc/localtime) are read before the filter
	 * (seccomp.h); anything else gets what Landlock would say, and
	 * copes: glibc malloc reads /proc/sys/vm/overcommit_memory when an
	 * MHD thread's arena first shrinks, and without it uses madvise */
	FAIL(openat,		SC_F, EACCES),

	/* ==== The worker ==== */

	/* worker_reload(): config.json, labels.txt, model.safetensors, read
	 * only (Landlock limits the paths); children: /dev/urandom (jansson)
	 * and the model at start-up */
	ALLOW1(openat,		SC_W | SC_K, SC_MASKED(2, SC_OPEN_WRITE, 0)),
	/* mfiles_walk() (getdents64 itself, no fdopendir): the model
	 * directory's entries, since a signature must cover every file in
	 * it; worker_load(): a store's "current" link, read once per load
	 * (model_loc_current(), model/locate.h) */
	ALLOW(getdents64,	SC_W | SC_K),
	ALLOW(readlink,		SC_W | SC_K),
	ALLOW(readlinkat,	SC_W | SC_K),
	/* model/msig.c: OpenSSL's random generators, on a load and a
	 * reload.  Verifying a P-384 signature or certificate blinds the
	 * field inversion with random numbers (P-521 too where OpenSSL is
	 * built without its own P-521 code), and a process forked after
	 * the parent seeded them (msig_init()) reseeds them on its first
	 * draw, so priming alone does not do.  getrandom only reads the
	 * kernel's generator: no file, no IPC, no other process.  (Were it
	 * refused, OpenSSL would fall back to /dev/urandom and ask shmget
	 * and uname whether that is seeded: both stay refused.)  The
	 * front, when it serves TLS: GnuTLS draws every handshake's nonces
	 * and ephemeral keys, reseeding from getrandom as it goes (and at
	 * once after the fork); never a file. */
	ALLOW(getrandom,	SC_FW),

	/* ==== A child's start-up, under the parent's filter ==== */

	/* child_reset(), front_main(), worker_main(): signal(); dev mode's
	 * SIGSYS handler */
	ALLOW(rt_sigaction,	SC_K),
	/* front_main(), worker_main(): SIGTERM (and SIGHUP) by signalfd */
	ALLOW(signalfd4,	SC_K),
	/* front_main(), worker_main(): death with the parent; W^X
	 * (ag_mdwe_enable()); no_new_privs (sandbox_enter(), libseccomp);
	 * the capability bounding set when started as root.  The process
	 * name (PR_SET_NAME) comes with the front's rule. */
	ALLOW1(prctl,		SC_K, SC_EQ(0, PR_SET_PDEATHSIG)),
	ALLOW1(prctl,		SC_K, SC_EQ(0, PR_SET_MDWE)),
	ALLOW1(prctl,		SC_K, SC_EQ(0, PR_SET_NO_NEW_PRIVS)),
	ALLOW1(prctl,		SC_K, SC_EQ(0, PR_CAPBSET_DROP)),
	/* sandbox_enter(): which capabilities are in the bounding set, and
	 * clearing the ambient set */
	ALLOW1(prctl,		SC_K, SC_EQ(0, PR_CAPBSET_READ)),
	ALLOW1(prctl,		SC_K, SC_EQ(0, PR_CAP_AMBIENT)),
	/* sandbox_enter(): whether we run as root, and the check after a
	 * privilege drop */
	ALLOW(geteuid,		SC_K),
	ALLOW(getuid,		SC_K),
	ALLOW(getegid,		SC_K),
	ALLOW(getgid,		SC_K),
	ALLOW(getresuid,	SC_K),
	ALLOW(getresgid,	SC_K),
	/* http_start(): MHD checks the listening socket it is given */
	ALLOW(getsockopt,	SC_K),
	/* sandbox_enter(): privileges dropped by each child when the daemon
	 * starts as root */
	ALLOW(capget,		SC_K),
	ALLOW(capset,		SC_K),
	ALLOW(setgroups,	SC_K),
	ALLOW(setresgid,	SC_K),
	ALLOW(setresuid,	SC_K),
	/* sandbox_enter(), sandbox_lock(): rlimits of the calling process */
	ALLOW1(prlimit64,	SC_K, SC_EQ(0, 0)),
	/* sandbox_enter(): Landlock (only ever narrows) */
	ALLOW(landlock_create_ruleset, SC_K),
	ALLOW(landlock_add_rule, SC_K),
	ALLOW(landlock_restrict_self, SC_K),
	/* sandbox_lock(): the child's own, narrower filter (libseccomp
	 * probes the kernel's actions and flags with it too) */
	ALLOW(seccomp,		SC_K),
	/* worker_shm_create(): the sealed shared area */
	ALLOW(memfd_create,	SC_K),
	ALLOW(ftruncate,	SC_K),
	ALLOW1(fcntl,		SC_K, SC_EQ(1, F_ADD_SEALS)),
	/* http_start(): MHD makes its listening socket non-blocking; the
	 * parent: fdopendir() (store_list(), repo_scan(), a repository
	 * scanned at start, on SIGHUP and on a load) reads the flags and
	 * marks the directory close-on-exec */
	ALLOW1(fcntl,		SC_K, SC_EQ(1, F_GETFL)),
	ALLOW1(fcntl,		SC_P, SC_EQ(1, F_SETFD)),
	ALLOW1(fcntl,		SC_K, SC_EQ(1, F_SETFL)),
	/* http_start(): the address of the listening socket the parent
	 * bound (nobody binds or listens after start-up) */
	ALLOW(getsockname,	SC_K),
	/* http_start(): MHD's epoll sets and inter-thread eventfds */
	ALLOW(epoll_create1,	SC_K),
	ALLOW(eventfd2,		SC_K),
	/* worker: glibc's qsort (safetensors) asks for the memory size once */
	ALLOW(sysinfo,		SC_K),
	/* front: tzset() before its filter reads /etc/localtime (seccomp.h),
	 * under ours when the front is restarted */
	ALLOW(lseek,		SC_K),
};
/* clang-format on */

/*
 * Never allowed after start-up, in any role: checked against the table at
 * every seccomp_apply().  Not a deny list (everything not in the table is
 * refused): a guard against a table edit.  The first group is the
 * project's rule; the second, calls of the same kind.
 */
static const struct {
	int		 sn_nr;
	const char	*sn_name;
} sc_never[] = {
#define NEVER(sys)	{ SCMP_SYS(sys), #sys }
	NEVER(execve), NEVER(execveat), NEVER(ptrace),
	NEVER(process_vm_readv), NEVER(process_vm_writev), NEVER(bpf),
	NEVER(mount), NEVER(umount2), NEVER(keyctl), NEVER(add_key),
	NEVER(request_key), NEVER(perf_event_open), NEVER(userfaultfd),
	NEVER(io_uring_setup), NEVER(io_uring_enter), NEVER(io_uring_register),
	NEVER(init_module), NEVER(finit_module), NEVER(kexec_load),
	NEVER(setns), NEVER(unshare), NEVER(pivot_root), NEVER(chroot),
	NEVER(open_by_handle_at), NEVER(personality),

	NEVER(fork), NEVER(vfork), NEVER(kexec_file_load),
	NEVER(delete_module), NEVER(fsopen), NEVER(fsmount), NEVER(fsconfig),
	NEVER(fspick), NEVER(move_mount), NEVER(open_tree),
	NEVER(mount_setattr), NEVER(pidfd_getfd), NEVER(process_madvise),
	NEVER(kcmp), NEVER(reboot), NEVER(pkey_mprotect),
	NEVER(remap_file_pages),
#undef NEVER
};

/* ==== Dev mode: EPERM and a log line ==== */

#define SC_NAMES	512	/* x86_64 and aarch64 numbers stay below */
#define SC_NAME_LEN	32

/* Filled before the handler is installed; read-only in it. */
static char sc_names[SC_NAMES][SC_NAME_LEN];
static const char *volatile sc_role_name = "?";

/* Appends s at *n, truncating; async-signal-safe. */
static void
sc_cat(char *buf, size_t len, size_t *n, const char *s)
{
	while (*s != '\0' && *n + 1 < len)
		buf[(*n)++] = *s++;
	buf[*n] = '\0';
}

static void
sc_cat_num(char *buf, size_t len, size_t *n, long v)
{
	char tmp[24];
	size_t i = sizeof(tmp) - 1;
	unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;

	tmp[i] = '\0';
	do {
		tmp[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0 && i > 1);
	if (v < 0)
		tmp[--i] = '-';
	sc_cat(buf, len, n, tmp + i);
}

#ifdef SC_SET_RETURN
/*
 * SIGSYS from SCMP_ACT_TRAP: the call did not happen.  Say which it was,
 * in one write(2) (allowed in every role), and make it return -EPERM.
 * Only async-signal-safe work: the names were resolved beforehand.
 */
static void
sc_sigsys(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	char line[256];
	size_t n = 0;
	ssize_t w;
	int saved = errno, nr;

	(void)sig;
	if (si->si_code != SYS_SECCOMP)
		return;
	nr = si->si_syscall;
	sc_cat(line, sizeof(line), &n, "level=warn proc=");
	sc_cat(line, sizeof(line), &n, sc_role_name);
	sc_cat(line, sizeof(line), &n, " pid=");
	sc_cat_num(line, sizeof(line), &n, (long)getpid());
	sc_cat(line, sizeof(line), &n, " event=seccomp_denied syscall=");
	sc_cat(line, sizeof(line), &n, nr >= 0 && nr < SC_NAMES &&
	    sc_names[nr][0] != '\0' ? sc_names[nr] : "?");
	sc_cat(line, sizeof(line), &n, " nr=");
	sc_cat_num(line, sizeof(line), &n, nr);
	sc_cat(line, sizeof(line), &n, " result=EPERM\n");
	w = write(STDERR_FILENO, line, n);
	(void)w;	/* nothing to do about a lost line */
	SC_SET_RETURN(uc, -EPERM);
	errno = saved;
}
#endif

static int
sc_dev_setup(char *err, size_t errlen)
{
#ifdef SC_SET_RETURN
	struct sigaction sa;
	char *name;
	int nr;

	for (nr = 0; nr < SC_NAMES; nr++) {
		if (sc_names[nr][0] != '\0')
			continue;	/* a child: the parent did it */
		name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		if (name == NULL)
			continue;
		(void)strncpy(sc_names[nr], name, SC_NAME_LEN - 1);
		free(name);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sc_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) == -1)
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "seccomp: "
		    "sigaction SIGSYS: %s", strerror(errno));
	return 0;
#else
	return ag_errf(err, errlen, AG_ERR_UNSUPPORTED, "seccomp: dev mode "
	    "is not supported on this architecture");
#endif
}

/* ==== The filter ==== */

static int
sc_role_bit(enum seccomp_role role)
{
	switch (role) {
	case SECCOMP_PARENT:
		return SC_P;
	case SECCOMP_FRONT:
		return SC_F;
	case SECCOMP_WORKER:
		return SC_W;
	}
	return 0;
}

/* Whether rule sr goes into role's filter; see the comment at the top. */
static int
sc_wanted(const struct sc_rule *sr, enum seccomp_role role)
{
	if (sr->sr_nr < 0)
		return 0;	/* no such call on this architecture */
	if (role != SECCOMP_PARENT)
		return (sr->sr_roles & sc_role_bit(role)) != 0;
	if (sr->sr_roles & (SC_P | SC_K))
		return 1;
	return sr->sr_errno == 0 && !(sr->sr_flags & SR_SELF);
}

/* The table allows nothing of sc_never[], in any role. */
static int
sc_check_never(char *err, size_t errlen)
{
	size_t i, j;

	for (i = 0; i < sizeof(sc_rules) / sizeof(sc_rules[0]); i++) {
		if (sc_rules[i].sr_errno != 0 || sc_rules[i].sr_nr < 0)
			continue;
		for (j = 0; j < sizeof(sc_never) / sizeof(sc_never[0]); j++)
			if (sc_rules[i].sr_nr == sc_never[j].sn_nr)
				return ag_errf(err, errlen, AG_ERR_INTERNAL,
				    "seccomp: the table allows %s",
				    sc_never[j].sn_name);
	}
	return 0;
}

static const char *
sc_role_str(enum seccomp_role role)
{
	switch (role) {
	case SECCOMP_PARENT:
		return "parent";
	case SECCOMP_FRONT:
		return "front";
	case SECCOMP_WORKER:
		return "worker";
	}
	return "?";
}

int
seccomp_apply(enum seccomp_role role, int dev, char *err, size_t errlen)
{
	scmp_filter_ctx ctx;
	struct scmp_arg_cmp args[2];
	const struct sc_rule *sr;
	unsigned api;
	size_t i;
	int r, rc;

#ifdef SC_SANITIZER
	return ag_errf(err, errlen, AG_ERR_UNSUPPORTED, "seccomp: not applied "
	    "in a sanitizer build (LeakSanitizer needs ptrace and clone at "
	    "exit)");
#endif
	if (sc_role_bit(role) == 0)
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG, "seccomp: "
		    "unknown role %d", (int)role);
	if ((r = sc_check_never(err, errlen)) != 0)
		return r;
	/* 3: SECCOMP_RET_KILL_PROCESS, SECCOMP_FILTER_FLAG_LOG (4.14). */
	if ((api = seccomp_api_get()) < 3)
		return ag_errf(err, errlen, AG_ERR_UNSUPPORTED, "seccomp: the "
		    "kernel lacks seccomp filters with KILL_PROCESS and TSYNC "
		    "(libseccomp API level %u, 3 needed)", api);
	if ((ctx = seccomp_init(dev ? SCMP_ACT_TRAP :
	    SCMP_ACT_KILL_PROCESS)) == NULL)
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "seccomp_init "
		    "failed");
	/*
	 * Another ABI (i386 int 0x80, x32) is never expected: kill, in dev
	 * mode too.  The kernel's own errno, not -ECANCELED, on failure.
	 */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1)) != 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS)) != 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) != 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1)) != 0 ||
	    (dev && (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG,
	    1)) != 0)) {
		r = ag_errf(err, errlen, AG_ERR_SYSTEM, "seccomp_attr_set: %s",
		    strerror(-rc));
		goto out;
	}
	for (i = 0; i < sizeof(sc_rules) / sizeof(sc_rules[0]); i++) {
		sr = &sc_rules[i];
		if (!sc_wanted(sr, role))
			continue;
		memcpy(args, sr->sr_arg, sizeof(args));
		if (sr->sr_flags & SR_SELF)
			args[0].datum_a = (scmp_datum_t)getpid();
		rc = seccomp_rule_add_array(ctx, sr->sr_errno != 0 ?
		    SCMP_ACT_ERRNO((uint32_t)sr->sr_errno) : SCMP_ACT_ALLOW,
		    sr->sr_nr, sr->sr_argc, args);
		if (rc != 0) {
			char *name = seccomp_syscall_resolve_num_arch(
			    SCMP_ARCH_NATIVE, sr->sr_nr);

			r = ag_errf(err, errlen, AG_ERR_INTERNAL, "seccomp: "
			    "rule %zu (%s): %s", i, name ? name : "?",
			    strerror(-rc));
			free(name);
			goto out;
		}
	}
	if (dev && (r = sc_dev_setup(err, errlen)) != 0)
		goto out;
	sc_role_name = sc_role_str(role);
	if ((rc = seccomp_load(ctx)) != 0) {
		r = ag_errf(err, errlen, rc == -EINVAL || rc == -ENOSYS ?
		    AG_ERR_UNSUPPORTED : AG_ERR_SYSTEM, "seccomp_load: %s",
		    strerror(-rc));
		goto out;
	}
	r = 0;
 out:
	seccomp_release(ctx);
	return r;
}
