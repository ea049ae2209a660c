/* SPDX-License-Identifier: ISC */
/*
 * landlock.h: confine the calling thread with Landlock (files, TCP, scopes).
 *
 * Landlock is deny-by-default for every access right a ruleset "handles".
 * landlock_apply() handles every right of this file's knowledge that the
 * running kernel offers, and grants back only:
 *   - READ_FILE and READ_DIR beneath each of ll_ro_dirs;
 *   - TCP bind on ll_bind_port (or on any port, when asked with -2).
 * So, from then on: no open for reading or writing, no execve, no create,
 * remove, rename, link or truncate, no device ioctl, anywhere else; no TCP
 * connect at all; and, with ll_scope, no signal and no abstract UNIX socket
 * connection to a process outside the sandbox.
 *
 * What Landlock does not cover (the other layers' job, seccomp above all):
 * descriptors opened before landlock_apply() keep the rights they were
 * opened with (open log files, sockets, /dev/null before applying);
 * metadata calls on any path: stat, access, chdir, chmod, chown, utimes,
 * xattrs, flock (the kernel documents these as not yet restricted); UDP,
 * raw and other socket families; pathname UNIX sockets; listen() on an
 * unbound socket, which binds an ephemeral port without a bind() call;
 * TCP Fast Open: sendto(2) or sendmsg(2) with MSG_FASTOPEN connects
 * without the connect(2) hook, so despite CONNECT_TCP being denied (seen
 * on 6.18; landlock-lsm/linux issue 41); access rights newer than ABI 7
 * (left unhandled, so allowed).
 *
 * Threads: landlock_restrict_self(2) restricts only the calling thread
 * and the threads and processes it creates afterwards.  Threads that exist
 * already stay unconfined.  Call landlock_apply() before creating any
 * thread (OpenBLAS, libmicrohttpd, the engine's pool), in every process.
 *
 * Ports: a Landlock rule names one concrete port.  A rule for port 0 would
 * allow bind(2) to port 0, which the kernel turns into any free port in the
 * ephemeral range: wider than "this port only", so 0 is refused.  When the
 * configuration says "port 0", bind first, then either pass the port the
 * socket got (getsockname(2)) or, when no further bind is needed, -1.
 *
 * Audit: from ABI 7, the kernel logs denials to the audit log.  We pass no
 * restrict_self flags, which keeps its defaults: denials by this program
 * are logged (we never expect one, so each is worth a look), denials after
 * an execve(2) are not (we never exec), and domains nested inside ours are
 * logged.
 */
#ifndef AG_LANDLOCK_H
#define AG_LANDLOCK_H

#include <stddef.h>

/* ll_bind_port values other than a port. */
#define LANDLOCK_BIND_NONE	-1	/* no TCP bind at all */
#define LANDLOCK_BIND_ANY	-2	/* bind not restricted */

struct landlock_conf {
	/*
	 * NULL-terminated list of directories to allow read-only (READ_FILE,
	 * READ_DIR) with everything beneath them, e.g. the worker's model
	 * directory.  NULL: none.  Borrowed during the call only; each is
	 * opened when landlock_apply() runs, so a rename afterwards does not
	 * change which tree is allowed.
	 */
	const char *const *ll_ro_dirs;
	/*
	 * TCP: LANDLOCK_BIND_NONE, LANDLOCK_BIND_ANY, or a port in 1..65535
	 * (the only one bind(2) may use).  TCP connect is always denied.
	 */
	int	 ll_bind_port;
	/* 1: scope signals and abstract UNIX sockets (ABI >= 6). */
	int	 ll_scope;
};

struct landlock_status {
	int	 ls_abi;	/* kernel ABI, 0 = no Landlock */
	/*
	 * 1 when that part is enforced in full.  0 when it is not enforced,
	 * or only in part: an ABI below 5 lacks some file rights (REFER
	 * before 2, TRUNCATE before 3, IOCTL_DEV before 5), and the rights it
	 * does have are enforced all the same.  ls_net is 0 below ABI 4,
	 * ls_scope 0 below ABI 6 or when ll_scope was 0.
	 */
	int	 ls_fs, ls_net, ls_scope;
	/* Everything asked for is enforced (fs, net, and scope if asked). */
	int	 ls_complete;
};

/*
 * Returns the kernel's Landlock ABI version, 0 when Landlock is unavailable
 * (not built in, or not enabled at boot).  Safe to call at any time; it
 * changes nothing.
 */
int	landlock_abi(void);

/*
 * Restricts the calling thread, and the threads and processes it creates
 * afterwards, to lc (see the top of this file).  Irreversible.  Sets
 * no_new_privs, which landlock_restrict_self(2) requires of a caller
 * without CAP_SYS_ADMIN, just before enforcing.
 *
 * Clears *st first and always fills st->ls_abi.  Returns 0 when the
 * ruleset is enforced: st says which parts, and st->ls_complete whether
 * all that was asked for is; the caller decides whether a partial
 * sandbox is acceptable.  Otherwise nothing was enforced (and no_new_privs
 * was not set unless restrict_self itself failed), err says why, and the
 * return is AG_ERR_UNSUPPORTED (no Landlock in this kernel),
 * AG_ERR_INVALID_ARG (bad lc: port 0 or out of range, an empty path),
 * AG_ERR_NOT_FOUND (a directory in ll_ro_dirs does not exist; err names
 * it) or AG_ERR_SYSTEM (a system call failed; err names it and the path).
 */
int	landlock_apply(const struct landlock_conf *lc,
	    struct landlock_status *st, char *err, size_t errlen);

#endif /* AG_LANDLOCK_H */
