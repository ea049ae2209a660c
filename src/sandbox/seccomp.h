/* SPDX-License-Identifier: ISC */
/*
 * seccomp.h: the system call allowlist of each aiguardd process (libseccomp).
 *
 * seccomp_apply() loads the role's filter on every thread of the calling
 * process (SCMP_FLTATR_CTL_TSYNC) and sets no_new_privs.  Call it late:
 * after start-up (sockets bound, threads created, model loaded, the log
 * open), from sandbox_lock().  What each role may do is in the table in
 * seccomp.c, one commented line per system call.  A call that is not
 * listed kills the whole process with SIGSYS (SCMP_ACT_KILL_PROCESS); a
 * system call of another ABI (i386, x32) does too, dev mode or not.
 *
 * Filters are inherited across fork() and stack: the kernel runs every
 * filter of a process and the strictest answer wins.  The parent keeps
 * forking (a dead front or worker is started again), so its filter must
 * let a child start up and then live its whole life: the PARENT list is
 * the parent's own needs plus everything the front and the worker are
 * allowed, plus their start-up (and seccomp(2) itself, so that a child
 * can narrow itself down to its own list).  It still refuses everything
 * in the "never" list (execve, ptrace, mount, bpf, ...), and its own
 * dangerous calls are argument-filtered (kill, socketpair, clone).
 *
 * dev != 0 (for growing the lists): instead of killing, a call that is not
 * listed fails with EPERM and writes one line to stderr, from a SIGSYS
 * handler (SCMP_ACT_TRAP):
 *   level=warn proc=front pid=12 event=seccomp_denied syscall=openat
 *   nr=257 result=EPERM
 * The kernel's own seccomp log (audit, dmesg) gets those too
 * (SCMP_FLTATR_CTL_LOG), and also the calls we refuse with an errno in
 * every mode (clone3, the front's openat), which the handler never sees.
 * Dev mode replaces the process's SIGSYS handler and works on x86_64 and
 * aarch64 only (the handler writes the return register); elsewhere it
 * returns AG_ERR_UNSUPPORTED.  Not for production: a denied call that the
 * caller does not check for goes on with EPERM instead of stopping there.
 *
 * Before the front's filter: the front answers openat with EACCES, so
 * anything that opens a file on first use must have done so already:
 * call json_object_seed(0) (jansson reads /dev/urandom for its hash seed)
 * and tzset() (glibc reads /etc/localtime on the first gmtime_r, which
 * libmicrohttpd calls for the Date header).
 *
 * Returns 0, or:
 *   AG_ERR_UNSUPPORTED  a sanitizer build (ASan, LSan and TSan need ptrace,
 *                       clone, /proc and more at run time and at exit: we
 *                       do not load a filter there rather than load a
 *                       weaker one; the caller treats the layer as
 *                       unavailable), a kernel without seccomp filters,
 *                       SECCOMP_RET_KILL_PROCESS or TSYNC (before 4.14),
 *                       or dev mode on another architecture
 *   AG_ERR_INVALID_ARG  an unknown role
 *   AG_ERR_INTERNAL     a table that libseccomp refuses, or one that allows
 *                       a call of the "never" list (a bug here)
 *   AG_ERR_SYSTEM       the kernel refused the filter (err says why)
 * On failure no filter is loaded.  Not thread-safe (call it once, from the
 * thread that set the process up).
 */
#ifndef AG_SECCOMP_H
#define AG_SECCOMP_H

#include <stddef.h>

enum seccomp_role {
	SECCOMP_PARENT,
	SECCOMP_FRONT,
	SECCOMP_WORKER,
};

int	seccomp_apply(enum seccomp_role role, int dev, char *err,
	    size_t errlen);

#endif /* AG_SECCOMP_H */
