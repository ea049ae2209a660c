/* SPDX-License-Identifier: ISC */
/*
 * landlock.c: the Landlock layer of the sandbox (see landlock.h).
 *
 * Structure after the kernel's sandboxer sample: probe the ABI, start from
 * every access right this file knows, strip what the ABI lacks in a
 * fallthrough switch, add the rules, set no_new_privs, enforce.  Policy
 * unlike the sample's: an unopenable directory is an error, not a
 * warning, and nothing partial is enforced behind the caller's back; what
 * an old kernel cannot enforce is reported in struct landlock_status for
 * the caller to refuse or log.
 *
 * We call the syscalls directly (glibc has no wrappers) and define what
 * Debian 12's <linux/landlock.h> (ABI 2) lacks, with the values of the
 * kernel's UAPI header.
 */
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <linux/landlock.h>

#include "common/ag_err.h"
#include "landlock.h"

/* ==== What older headers lack ==== */

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset	444
#endif
#ifndef SYS_landlock_add_rule
#define SYS_landlock_add_rule		445
#endif
#ifndef SYS_landlock_restrict_self
#define SYS_landlock_restrict_self	446
#endif

/* clang-format off */
#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION		(1U << 0)
#endif
#ifndef LANDLOCK_ACCESS_FS_REFER			/* ABI 2 */
#define LANDLOCK_ACCESS_FS_REFER		(1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE			/* ABI 3 */
#define LANDLOCK_ACCESS_FS_TRUNCATE		(1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP			/* ABI 4 */
#define LANDLOCK_ACCESS_NET_BIND_TCP		(1ULL << 0)
#define LANDLOCK_ACCESS_NET_CONNECT_TCP		(1ULL << 1)
#define LANDLOCK_RULE_NET_PORT			2
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV			/* ABI 5 */
#define LANDLOCK_ACCESS_FS_IOCTL_DEV		(1ULL << 15)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET		/* ABI 6 */
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET	(1ULL << 0)
#define LANDLOCK_SCOPE_SIGNAL			(1ULL << 1)
#endif
#ifndef LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF	/* ABI 7 */
#define LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF	(1U << 0)
#define LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON		(1U << 1)
#define LANDLOCK_RESTRICT_SELF_LOG_SUBDOMAINS_OFF	(1U << 2)
#endif
/* clang-format on */

/*
 * struct landlock_ruleset_attr as of ABI 6.  Older headers declare only
 * the first member, and a struct cannot be tested with #ifndef, so we use
 * our own name.  The kernel accepts the larger size on any ABI as long as
 * the members it does not know are zero (copy_struct_from_user), which the
 * ABI switch below ensures.
 */
struct ll_ruleset_attr {
	uint64_t	handled_access_fs;
	uint64_t	handled_access_net;	/* ABI 4 */
	uint64_t	scoped;			/* ABI 6 */
};

/* struct landlock_net_port_attr (ABI 4), not packed in the UAPI either. */
struct ll_net_port_attr {
	uint64_t	allowed_access;
	uint64_t	port;			/* host byte order */
};

_Static_assert(sizeof(struct ll_ruleset_attr) == 24, "ruleset attr ABI");
_Static_assert(sizeof(struct ll_net_port_attr) == 16, "net port attr ABI");
_Static_assert(sizeof(struct landlock_path_beneath_attr) == 12,
    "path beneath attr ABI");

/* ==== The access rights ==== */

/* clang-format off */
/* Every filesystem right up to ABI 5 (ABI 6 and 7 added none). */
#define LL_FS_ALL	(					\
	LANDLOCK_ACCESS_FS_EXECUTE |				\
	LANDLOCK_ACCESS_FS_WRITE_FILE |				\
	LANDLOCK_ACCESS_FS_READ_FILE |				\
	LANDLOCK_ACCESS_FS_READ_DIR |				\
	LANDLOCK_ACCESS_FS_REMOVE_DIR |				\
	LANDLOCK_ACCESS_FS_REMOVE_FILE |			\
	LANDLOCK_ACCESS_FS_MAKE_CHAR |				\
	LANDLOCK_ACCESS_FS_MAKE_DIR |				\
	LANDLOCK_ACCESS_FS_MAKE_REG |				\
	LANDLOCK_ACCESS_FS_MAKE_SOCK |				\
	LANDLOCK_ACCESS_FS_MAKE_FIFO |				\
	LANDLOCK_ACCESS_FS_MAKE_BLOCK |				\
	LANDLOCK_ACCESS_FS_MAKE_SYM |				\
	LANDLOCK_ACCESS_FS_REFER |				\
	LANDLOCK_ACCESS_FS_TRUNCATE |				\
	LANDLOCK_ACCESS_FS_IOCTL_DEV)

/*
 * What a read-only tree grants: open files for reading and list
 * directories.  Not EXECUTE (we never exec; dlopen needs only READ_FILE,
 * and everything should be loaded before the sandbox anyway).
 */
#define LL_FS_RO	(LANDLOCK_ACCESS_FS_READ_FILE |		\
	LANDLOCK_ACCESS_FS_READ_DIR)

#define LL_NET_ALL	(LANDLOCK_ACCESS_NET_BIND_TCP |		\
	LANDLOCK_ACCESS_NET_CONNECT_TCP)

#define LL_SCOPE_ALL	(LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET |	\
	LANDLOCK_SCOPE_SIGNAL)
/* clang-format on */

/* The newest ABI whose rights this file knows. */
#define LL_ABI_KNOWN	7

/* ==== Syscalls ==== */

static int
ll_create_ruleset(const struct ll_ruleset_attr *attr, size_t size,
    uint32_t flags)
{
	return (int)syscall(SYS_landlock_create_ruleset, attr, size, flags);
}

static int
ll_add_rule(int ruleset_fd, int type, const void *attr)
{
	return (int)syscall(SYS_landlock_add_rule, ruleset_fd, type, attr,
	    (uint32_t)0);
}

static int
ll_restrict_self(int ruleset_fd, uint32_t flags)
{
	return (int)syscall(SYS_landlock_restrict_self, ruleset_fd, flags);
}

int
landlock_abi(void)
{
	int abi;

	/*
	 * ENOSYS: not built in; EOPNOTSUPP: built in but not enabled at
	 * boot (lsm=).  Anything else (a seccomp filter, say) reads as
	 * unavailable too: we cannot use what we cannot probe.
	 */
	abi = ll_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	return abi < 0 ? 0 : abi;
}

/* ==== Rules ==== */

static int
ll_check_conf(const struct landlock_conf *lc, char *err, size_t errlen)
{
	size_t i;

	/* -1 and -2 are the two special values; 0 is refused (landlock.h). */
	if (lc->ll_bind_port == 0)
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG, "landlock: "
		    "bind port 0 would allow any ephemeral port; bind first "
		    "and pass the port bound");
	if (lc->ll_bind_port < LANDLOCK_BIND_ANY || lc->ll_bind_port > 65535)
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG, "landlock: "
		    "bind port %d out of range", lc->ll_bind_port);
	if (lc->ll_scope != 0 && lc->ll_scope != 1)
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG, "landlock: "
		    "scope must be 0 or 1, not %d", lc->ll_scope);
	for (i = 0; lc->ll_ro_dirs != NULL && lc->ll_ro_dirs[i] != NULL; i++)
		if (lc->ll_ro_dirs[i][0] == '\0')
			return ag_errf(err, errlen, AG_ERR_INVALID_ARG,
			    "landlock: empty read-only directory name");
	return 0;
}

/* Allows LL_FS_RO beneath path. */
static int
ll_add_ro_dir(int ruleset_fd, uint64_t handled_fs, const char *path,
    char *err, size_t errlen)
{
	struct landlock_path_beneath_attr pb;
	int fd, r, saved;

	/*
	 * O_PATH: we need the inode, not the right to read it (the sample's
	 * choice).  O_DIRECTORY: READ_DIR on a file is EINVAL, and a file
	 * where the configuration names a directory is a mistake.
	 */
	if ((fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1) {
		r = errno == ENOENT ? AG_ERR_NOT_FOUND : AG_ERR_SYSTEM;
		return ag_errf(err, errlen, r, "landlock: read-only "
		    "directory %s: %s", path, strerror(errno));
	}
	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = LL_FS_RO & handled_fs;
	pb.parent_fd = fd;
	r = 0;
	if (ll_add_rule(ruleset_fd, LANDLOCK_RULE_PATH_BENEATH, &pb) != 0) {
		saved = errno;
		r = ag_errf(err, errlen, AG_ERR_SYSTEM, "landlock: rule for "
		    "%s: %s", path, strerror(saved));
	}
	close(fd);
	return r;
}

/* Allows TCP bind on port. */
static int
ll_add_bind_port(int ruleset_fd, int port, char *err, size_t errlen)
{
	struct ll_net_port_attr np;

	memset(&np, 0, sizeof(np));
	np.allowed_access = LANDLOCK_ACCESS_NET_BIND_TCP;
	np.port = (uint64_t)port;
	if (ll_add_rule(ruleset_fd, LANDLOCK_RULE_NET_PORT, &np) != 0)
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "landlock: rule "
		    "for TCP port %d: %s", port, strerror(errno));
	return 0;
}

/* ==== Enforcement ==== */

int
landlock_apply(const struct landlock_conf *lc, struct landlock_status *st,
    char *err, size_t errlen)
{
	struct ll_ruleset_attr ra;
	size_t i;
	int abi, fd, r;

	if (st != NULL)
		memset(st, 0, sizeof(*st));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (st == NULL)
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG,
		    "landlock: no status");
	/* First, so that the caller can log the ABI whatever happens. */
	st->ls_abi = abi = landlock_abi();
	if (lc == NULL)
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG,
		    "landlock: no configuration");
	if ((r = ll_check_conf(lc, err, errlen)) != 0)
		return r;
	if (abi == 0)
		return ag_errf(err, errlen, AG_ERR_UNSUPPORTED, "landlock: "
		    "not available in this kernel (absent or disabled)");

	/*
	 * Handle everything we know, then drop what this ABI lacks: the
	 * kernel refuses (EINVAL) a ruleset that names a right it does not
	 * know.  Each case removes what the next ABI added.
	 */
	memset(&ra, 0, sizeof(ra));
	ra.handled_access_fs = LL_FS_ALL;
	ra.handled_access_net = LL_NET_ALL;
	if (lc->ll_bind_port == LANDLOCK_BIND_ANY)
		ra.handled_access_net &= ~LANDLOCK_ACCESS_NET_BIND_TCP;
	ra.scoped = lc->ll_scope ? LL_SCOPE_ALL : 0;
	switch (abi < LL_ABI_KNOWN ? abi : LL_ABI_KNOWN) {
	case 1:
		/*
		 * ABI 1 cannot handle REFER, but then denies every rename
		 * or link across directories anyway.
		 */
		ra.handled_access_fs &= ~LANDLOCK_ACCESS_FS_REFER;
		/* FALLTHROUGH */
	case 2:
		ra.handled_access_fs &= ~LANDLOCK_ACCESS_FS_TRUNCATE;
		/* FALLTHROUGH */
	case 3:
		ra.handled_access_net = 0;
		/* FALLTHROUGH */
	case 4:
		ra.handled_access_fs &= ~LANDLOCK_ACCESS_FS_IOCTL_DEV;
		/* FALLTHROUGH */
	case 5:
		ra.scoped = 0;
		/* FALLTHROUGH */
	case 6:
		/* The restrict_self log flags: we use none (landlock.h). */
		/* FALLTHROUGH */
	case LL_ABI_KNOWN:
		/*
		 * A newer kernel may offer rights we do not know; they stay
		 * unhandled, hence allowed (seccomp is the backstop).
		 */
		break;
	default:
		return ag_errf(err, errlen, AG_ERR_INTERNAL, "landlock: "
		    "ABI %d", abi);
	}

	if ((fd = ll_create_ruleset(&ra, sizeof(ra), 0)) == -1)
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "landlock: "
		    "create_ruleset (ABI %d): %s", abi, strerror(errno));
	for (i = 0; lc->ll_ro_dirs != NULL && lc->ll_ro_dirs[i] != NULL; i++)
		if ((r = ll_add_ro_dir(fd, ra.handled_access_fs,
		    lc->ll_ro_dirs[i], err, errlen)) != 0)
			goto err_close_ruleset;
	if ((ra.handled_access_net & LANDLOCK_ACCESS_NET_BIND_TCP) != 0 &&
	    lc->ll_bind_port > 0 &&
	    (r = ll_add_bind_port(fd, lc->ll_bind_port, err, errlen)) != 0)
		goto err_close_ruleset;

	/*
	 * landlock_restrict_self(2) requires no_new_privs or CAP_SYS_ADMIN;
	 * set it whatever our capabilities (it is idempotent), so that
	 * nothing we exec later can regain privileges either.  Set only now,
	 * so that a failure above leaves the process as it was.
	 */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		r = ag_errf(err, errlen, AG_ERR_SYSTEM, "landlock: "
		    "no_new_privs: %s", strerror(errno));
		goto err_close_ruleset;
	}
	/* Flags 0: the kernel's default audit logging (landlock.h). */
	if (ll_restrict_self(fd, 0) != 0) {
		r = ag_errf(err, errlen, AG_ERR_SYSTEM, "landlock: "
		    "restrict_self: %s", strerror(errno));
		goto err_close_ruleset;
	}
	close(fd);

	st->ls_fs = ra.handled_access_fs == LL_FS_ALL;
	st->ls_net = (ra.handled_access_net & LANDLOCK_ACCESS_NET_CONNECT_TCP)
	    != 0;
	st->ls_scope = lc->ll_scope && ra.scoped == LL_SCOPE_ALL;
	st->ls_complete = st->ls_fs && st->ls_net &&
	    (st->ls_scope || !lc->ll_scope);
	return 0;

 err_close_ruleset:
	close(fd);
	return r;
}
