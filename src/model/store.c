/* SPDX-License-Identifier: ISC */
/*
 * store.c: the versioned model store.  See store.h.
 *
 * Every change happens below an open descriptor of STORE/NAME (opened
 * O_NOFOLLOW) with *at() calls, under NAME's flock.  The order of a deploy
 * is what makes a kill at any moment harmless: the copy is complete and
 * fsynced before it is verified, verified before it gets its version
 * number, and in place (and its directory entry fsynced) before the link
 * that points to it is renamed over current.  What a killed run leaves
 * (.staging.*, current.tmp, a version that never became current) is
 * either removed by the next run or a complete, verified version.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/ag_err.h"
#include "common/log.h"
#include "mfiles.h"
#include "msig.h"
#include "store.h"

#define STORE_LOCK		".lock"
#define STORE_CURRENT_TMP	"current.tmp"
#define STORE_STAGING		".staging."
/* Removal goes deeper than a copy can (MFILES_MAX_DEPTH), for trees an
 * operator left there, but not without bound: each level holds an fd. */
#define STORE_RM_DEPTH		64
#define STORE_MSG		1024

/* STORE/NAME, open for one operation. */
struct store_op {
	const char	*so_name;
	const char	*so_store;		/* STORE */
	char		 so_dir[PATH_MAX];	/* STORE/NAME */
	int		 so_dfd;		/* STORE/NAME, O_DIRECTORY */
	int		 so_lockfd;	/* NAME/.lock, flocked; or -1 */
};

#define STORE_OPEN_CREATE	0x1	/* mkdir STORE and STORE/NAME */
#define STORE_OPEN_LOCK		0x2	/* take NAME/.lock, waiting */
#define STORE_AUDIT_LINE	8192	/* one line of the audit log, max */

/* ==== Small helpers ==================================================== */

/*
 * The test hook (store.h): AIGUARD_FAILPOINT=deploy:STEP raises SIGKILL
 * here, deploy:STEP:error returns an error.  secure_getenv(): ignored in a
 * set-id process, where the environment is not the caller's to set.
 */
static int
store_failpoint(const char *step, char *err, size_t errlen)
{
	const char *fp = secure_getenv("AIGUARD_FAILPOINT");
	size_t n = strlen(step);

	if (fp == NULL || strncmp(fp, "deploy:", 7) != 0 ||
	    strncmp(fp + 7, step, n) != 0)
		return 0;
	if (fp[7 + n] == '\0')
		raise(SIGKILL);
	if (strcmp(fp + 7 + n, ":error") == 0)
		return ag_errf(err, errlen, AG_ERR_SYSTEM,
		    "failure injected (AIGUARD_FAILPOINT=%s)", fp);
	return 0;
}

int
store_name_valid(const char *name)
{
	size_t i;

	if (name == NULL || name[0] == '\0')
		return 0;
	/* The first character excludes ".", ".." and the hidden entries. */
	if (!((name[0] >= 'A' && name[0] <= 'Z') ||
	    (name[0] >= 'a' && name[0] <= 'z') ||
	    (name[0] >= '0' && name[0] <= '9')))
		return 0;
	for (i = 1; name[i] != '\0'; i++) {
		if (i >= STORE_NAME_MAX)
			return 0;
		if (!((name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= '0' && name[i] <= '9') || name[i] == '.' ||
		    name[i] == '_' || name[i] == '-'))
			return 0;
	}
	return 1;
}

int
store_parse_version(const char *s, unsigned int *out)
{
	unsigned int v = 0;
	size_t i;

	if (s[0] < '1' || s[0] > '9')
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= 9 || s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned int)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static int
store_cmp_version(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a;
	unsigned int y = *(const unsigned int *)b;

	return x < y ? -1 : x > y;
}

/* Copies s into out, printable ASCII only (for messages). */
static void
store_sanitize(char *out, size_t len, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	out[i] = '\0';
}

/*
 * Gives the open file or directory fd the store's group and mode.  The
 * group first: chown(2) may clear mode bits, and a mode set last is the
 * mode that stays.
 */
static int
store_set_owner(int fd, gid_t gid, mode_t mode)
{
	if (gid != (gid_t)-1 && fchown(fd, (uid_t)-1, gid) == -1)
		return -1;
	return fchmod(fd, mode);
}

/* The message for a failed store_set_owner(). */
static int
store_owner_err(char *err, size_t errlen, const char *dir, const char *rel,
    gid_t gid)
{
	if (errno == EPERM && gid != (gid_t)-1)
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "%s%s%s: cannot "
		    "give it group %lu: %s (run as root, or give --group one "
		    "of your groups)", dir, *rel ? "/" : "", rel,
		    (unsigned long)gid, strerror(errno));
	return ag_errf(err, errlen, AG_ERR_SYSTEM, "%s%s%s: %s", dir,
	    *rel ? "/" : "", rel, strerror(errno));
}

/*
 * mkdir path, 0750 with the group gid, when it does not exist yet; never
 * readable by others, not even for a moment (made 0700, then opened to
 * the group).  Returns 0 when it exists already.
 */
static int
store_mkdir_private(const char *path, gid_t gid, char *err, size_t errlen)
{
	int fd, r = 0;

	if (mkdir(path, 0700) == -1) {
		if (errno == EEXIST)
			return 0;
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "%s: mkdir: %s",
		    path, strerror(errno));
	}
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "%s: %s", path,
		    strerror(errno));
	if (store_set_owner(fd, gid, 0750) == -1)
		r = store_owner_err(err, errlen, path, "", gid);
	close(fd);
	return r;
}

/*
 * mkdir -p path, new directories 0755 whatever the umask, except path
 * itself (the store): 0750 with the group gid (unless (gid_t)-1).  An
 * existing store is left as it is: it is the operator's.
 */
static int
store_mkdir_p(const char *path, gid_t gid, char *err, size_t errlen)
{
	char buf[PATH_MAX];
	struct stat st;
	size_t i, len = strlen(path);
	int r;

	if (len == 0 || len >= sizeof(buf))
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG,
		    "store directory: bad path length %zu", len);
	memcpy(buf, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (i == len) {
			if ((r = store_mkdir_private(buf, gid, err,
			    errlen)) != 0)
				return r;
		} else if (mkdir(buf, 0755) == 0) {
			if (chmod(buf, 0755) == -1)
				return ag_errf(err, errlen, AG_ERR_SYSTEM,
				    "%s: chmod: %s", buf, strerror(errno));
		} else if (errno != EEXIST)
			return ag_errf(err, errlen, AG_ERR_SYSTEM,
			    "%s: mkdir: %s", buf, strerror(errno));
		buf[i] = path[i];
	}
	if (stat(path, &st) == -1 || !S_ISDIR(st.st_mode))
		return ag_errf(err, errlen, AG_ERR_SYSTEM,
		    "%s: not a directory", path);
	return 0;
}

/*
 * Removes name below dfd and everything under it, never following a
 * symbolic link.  Returns 0, or -1 with errno set.
 */
static int
store_rm_tree(int dfd, const char *name, int depth)
{
	struct dirent *de;
	DIR *d;
	int fd, r = 0, serrno = 0;

	if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -1;
	if (depth >= STORE_RM_DEPTH) {
		errno = ELOOP;
		return -1;
	}
	if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		serrno = errno;
		close(fd);
		errno = serrno;
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (store_rm_tree(fd, de->d_name, depth + 1) == -1 && r == 0) {
			serrno = errno;
			r = -1;
		}
	}
	closedir(d);
	if (r == -1) {
		errno = serrno;
		return -1;
	}
	return unlinkat(dfd, name, AT_REMOVEDIR);
}

/* ==== Opening, locking, reading the layout ============================= */

static void
store_op_close(struct store_op *op)
{
	if (op->so_lockfd != -1)
		close(op->so_lockfd);	/* drops the flock */
	if (op->so_dfd != -1)
		close(op->so_dfd);
	op->so_lockfd = op->so_dfd = -1;
}

static int
store_op_open(struct store_op *op, const char *store, const char *name,
    int flags, gid_t gid, char *err, size_t errlen)
{
	int n, r;

	memset(op, 0, sizeof(*op));
	op->so_dfd = op->so_lockfd = -1;
	op->so_name = name;
	op->so_store = store;
	if (store == NULL || *store == '\0')
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG,
		    "no store directory");
	if (!store_name_valid(name))
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG,
		    "bad model name (want [A-Za-z0-9][A-Za-z0-9._-]*, at most "
		    "%d bytes)", STORE_NAME_MAX);
	n = snprintf(op->so_dir, sizeof(op->so_dir), "%s/%s", store, name);
	if (n < 0 || (size_t)n >= sizeof(op->so_dir))
		return ag_errf(err, errlen, AG_ERR_TOO_LARGE,
		    "%s: path too long", store);
	if (flags & STORE_OPEN_CREATE) {
		if ((r = store_mkdir_p(store, gid, err, errlen)) != 0 ||
		    (r = store_mkdir_private(op->so_dir, gid, err,
		    errlen)) != 0)
			return r;
	}
	/* O_NOFOLLOW: a symbolic link in place of NAME is not a model. */
	if ((op->so_dfd = open(op->so_dir, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1) {
		r = errno == ENOENT ? AG_ERR_NOT_FOUND : AG_ERR_SYSTEM;
		return ag_errf(err, errlen, r, "%s: %s", op->so_dir,
		    errno == ENOENT ? "no such model in the store" :
		    errno == ELOOP || errno == ENOTDIR ? "not a directory" :
		    strerror(errno));
	}
	/*
	 * A deploy closes NAME to others, also one that an older aiguard
	 * made 0755: its versions (0644 then) are unreachable through it.
	 */
	if ((flags & STORE_OPEN_CREATE) &&
	    store_set_owner(op->so_dfd, gid, 0750) == -1) {
		r = store_owner_err(err, errlen, op->so_dir, "", gid);
		goto fail;
	}
	if ((flags & STORE_OPEN_LOCK) == 0)
		return 0;
	if ((op->so_lockfd = openat(op->so_dfd, STORE_LOCK, O_RDWR | O_CREAT |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1) {
		r = ag_errf(err, errlen, AG_ERR_SYSTEM, "%s/%s: %s",
		    op->so_dir, STORE_LOCK, strerror(errno));
		goto fail;
	}
	if (flock(op->so_lockfd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK) {
		r = ag_errf(err, errlen, AG_ERR_SYSTEM, "%s/%s: flock: %s",
		    op->so_dir, STORE_LOCK, strerror(errno));
		goto fail;
	}
	log_info("%s/%s: another deploy or rollback of %s is running; "
	    "waiting for it", op->so_dir, STORE_LOCK, name);
	while (flock(op->so_lockfd, LOCK_EX) == -1) {
		if (errno == EINTR)
			continue;
		r = ag_errf(err, errlen, AG_ERR_SYSTEM, "%s/%s: flock: %s",
		    op->so_dir, STORE_LOCK, strerror(errno));
		goto fail;
	}
	return 0;
 fail:
	store_op_close(op);
	return r;
}

/*
 * Reads NAME/current into *cur: 0 when there is no link.  A link that is
 * not to a plain version number is an error (the operator must look).
 */
static int
store_read_current(struct store_op *op, unsigned int *cur, char *err,
    size_t errlen)
{
	char buf[64], safe[64];
	ssize_t n;

	*cur = 0;
	if ((n = readlinkat(op->so_dfd, STORE_CURRENT, buf,
	    sizeof(buf) - 1)) == -1) {
		if (errno == ENOENT)
			return 0;
		return ag_errf(err, errlen, errno == EINVAL ? AG_ERR_FORMAT :
		    AG_ERR_SYSTEM, "%s/%s: %s", op->so_dir, STORE_CURRENT,
		    errno == EINVAL ? "not a symbolic link" : strerror(errno));
	}
	buf[n] = '\0';
	if ((size_t)n >= sizeof(buf) - 1 ||
	    store_parse_version(buf, cur) != 0) {
		store_sanitize(safe, sizeof(safe), buf);
		*cur = 0;
		return ag_errf(err, errlen, AG_ERR_FORMAT,
		    "%s/%s: points to \"%s\", not a version", op->so_dir,
		    STORE_CURRENT, safe);
	}
	return 0;
}

/* NAME/ as a directory stream of its own (so_dfd stays open). */
static int
store_opendir(struct store_op *op, DIR **out, char *err, size_t errlen)
{
	int fd, e;

	*out = NULL;
	if ((fd = openat(op->so_dfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || (*out = fdopendir(fd)) == NULL) {
		e = errno;
		if (fd != -1)
			close(fd);
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "%s: %s",
		    op->so_dir, strerror(e));
	}
	return 0;
}

/*
 * Lists the versions in NAME/ (directories named as versions; not
 * following links), ascending, into *vp (caller frees), and in *maxp the
 * highest version number that any entry uses, so that a new version never
 * takes a name already there.
 */
static int
store_scan(struct store_op *op, unsigned int **vp, size_t *np,
    unsigned int *maxp, char *err, size_t errlen)
{
	unsigned int *v = NULL, *nv, ver, max = 0;
	size_t n = 0, cap = 0, entries = 0;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd, r;

	*vp = NULL;
	*np = 0;
	if (maxp != NULL)
		*maxp = 0;
	if ((r = store_opendir(op, &d, err, errlen)) != 0)
		return r;
	fd = dirfd(d);
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (++entries > STORE_MAX_VERSIONS) {
			r = ag_errf(err, errlen, AG_ERR_TOO_LARGE,
			    "%s: more than %d entries", op->so_dir,
			    STORE_MAX_VERSIONS);
			goto fail;
		}
		if (store_parse_version(de->d_name, &ver) != 0)
			continue;
		if (ver > max)
			max = ver;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
			r = ag_errf(err, errlen, AG_ERR_SYSTEM, "%s/%s: %s",
			    op->so_dir, de->d_name, strerror(errno));
			goto fail;
		}
		if (!S_ISDIR(st.st_mode))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				r = ag_errf(err, errlen, AG_ERR_ALLOC,
				    "%s: out of memory", op->so_dir);
				goto fail;
			}
			v = nv;
		}
		v[n++] = ver;
	}
	if (errno != 0) {
		r = ag_errf(err, errlen, AG_ERR_SYSTEM, "%s: readdir: %s",
		    op->so_dir, strerror(errno));
		goto fail;
	}
	closedir(d);
	if (n > 0)
		qsort(v, n, sizeof(*v), store_cmp_version);
	*vp = v;
	*np = n;
	if (maxp != NULL)
		*maxp = max;
	return 0;
 fail:
	closedir(d);
	free(v);
	return r;
}

/*
 * Removes what killed runs left: staging directories (also those of a
 * removal in progress) and a current.tmp link.  Under the lock, so none
 * of them belongs to a live run.
 */
static int
store_cleanup(struct store_op *op, char *err, size_t errlen)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd, r = 0;

	if ((r = store_opendir(op, &d, err, errlen)) != 0)
		return r;
	fd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, STORE_STAGING,
		    strlen(STORE_STAGING)) != 0)
			continue;
		if (store_rm_tree(fd, de->d_name, 0) == -1) {
			r = ag_errf(err, errlen, AG_ERR_SYSTEM,
			    "%s/%s: removing a leftover: %s", op->so_dir,
			    de->d_name, strerror(errno));
			break;
		}
		log_info("%s/%s: removed (left by an interrupted deploy)",
		    op->so_dir, de->d_name);
	}
	closedir(d);
	if (r != 0)
		return r;
	if (fstatat(op->so_dfd, STORE_CURRENT_TMP, &st,
	    AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			return 0;
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "%s/%s: %s",
		    op->so_dir, STORE_CURRENT_TMP, strerror(errno));
	}
	/* Only ever a link we made; anything else is not ours to delete. */
	if (!S_ISLNK(st.st_mode))
		return ag_errf(err, errlen, AG_ERR_UNEXPECTED,
		    "%s/%s: not a symbolic link; remove it by hand",
		    op->so_dir, STORE_CURRENT_TMP);
	if (unlinkat(op->so_dfd, STORE_CURRENT_TMP, 0) == -1)
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "%s/%s: %s",
		    op->so_dir, STORE_CURRENT_TMP, strerror(errno));
	log_info("%s/%s: removed (left by an interrupted deploy)",
	    op->so_dir, STORE_CURRENT_TMP);
	return 0;
}

/*
 * Removes version v: renamed first to a staging name, so that an
 * interrupted removal never leaves a partial directory under a version
 * number (the next run removes the staging name).
 */
static int
store_remove_version(struct store_op *op, unsigned int v, char *err,
    size_t errlen)
{
	char vname[16], tmp[48];

	snprintf(vname, sizeof(vname), "%u", v);
	snprintf(tmp, sizeof(tmp), "%sremove-%u", STORE_STAGING, v);
	if (renameat(op->so_dfd, vname, op->so_dfd, tmp) == -1)
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "%s/%s: rename: %s",
		    op->so_dir, vname, strerror(errno));
	if (store_rm_tree(op->so_dfd, tmp, 0) == -1)
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "%s/%s: %s",
		    op->so_dir, tmp, strerror(errno));
	return 0;
}

/*
 * Renames the staging directory from to the new version name to, never
 * over an existing entry (max + 1 is free, but be sure).  A file system
 * without RENAME_NOREPLACE gets a check first, which the lock makes as
 * good: nobody else adds versions meanwhile.
 */
static int
store_rename_new(struct store_op *op, const char *from, const char *to,
    char *err, size_t errlen)
{
	struct stat st;

	if (renameat2(op->so_dfd, from, op->so_dfd, to,
	    RENAME_NOREPLACE) == 0)
		return 0;
	if (errno == EINVAL || errno == ENOSYS) {
		if (fstatat(op->so_dfd, to, &st, AT_SYMLINK_NOFOLLOW) == 0)
			errno = EEXIST;
		else if (errno == ENOENT && renameat(op->so_dfd, from,
		    op->so_dfd, to) == 0)
			return 0;
	}
	return ag_errf(err, errlen, AG_ERR_SYSTEM, "%s/%s: rename to %s: %s",
	    op->so_dir, from, to, strerror(errno));
}

/* ==== Copy into staging ================================================ */

/*
 * What a deploy copies: the source verified (mfiles, msig_verify()), and
 * of its files only those the signature covers, and model.sig, with the
 * bytes that were hashed.  Anything else in the source (a .git directory,
 * the statement's or the caller's ignore_paths) stays behind: the store
 * holds what was signed and nothing more.  Files are 0640 and directories
 * 0750, with the group sc_gid when it is not (gid_t)-1.
 */
struct store_copy {
	const char	*sc_src;	/* source root, for messages */
	const char	*sc_dst;	/* staging root, for messages */
	gid_t		 sc_gid;	/* group of what is made; or -1 */
	size_t		 sc_files;
};

/* Writes all of buf[0..len) to fd. */
static int
store_write_all(int fd, const uint8_t *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Opens the directory that holds the file rel below the staging root
 * tfd, creating what is missing (0750, the store's group).  *out is a new
 * descriptor; *base points into rel at the file's own name.
 */
static int
store_copy_parent(struct store_copy *c, int tfd, const char *rel,
    int *out, const char **base, char *err, size_t errlen)
{
	char comp[MFILES_NAME_MAX];
	const char *p = rel, *slash;
	size_t n;
	int dfd, sub;

	*out = -1;
	if ((dfd = dup(tfd)) == -1)
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "%s: dup: %s",
		    c->sc_dst, strerror(errno));
	while ((slash = strchr(p, '/')) != NULL) {
		n = (size_t)(slash - p);
		memcpy(comp, p, n);
		comp[n] = '\0';
		if (mkdirat(dfd, comp, 0700) == -1 && errno != EEXIST)
			goto fail;
		if ((sub = openat(dfd, comp, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) == -1)
			goto fail;
		close(dfd);
		dfd = sub;
		if (store_set_owner(dfd, c->sc_gid, 0750) == -1) {
			close(dfd);
			return store_owner_err(err, errlen, c->sc_dst, rel,
			    c->sc_gid);
		}
		p = slash + 1;
	}
	*out = dfd;
	*base = p;
	return 0;
 fail:
	close(dfd);
	return ag_errf(err, errlen, AG_ERR_SYSTEM, "%s/%s: %s", c->sc_dst, rel,
	    strerror(errno));
}

/* Writes the file f (read and hashed by the source's check) into tfd. */
static int
store_copy_file(struct store_copy *c, int tfd, const struct mfile *f,
    char *err, size_t errlen)
{
	const char *base = NULL;
	int dfd, out = -1, r;

	if (f->mf_via_link)
		return ag_errf(err, errlen, AG_ERR_UNEXPECTED,
		    "%s/%s: is a symbolic link; the store takes regular "
		    "files only", c->sc_src, f->mf_name);
	if ((r = store_copy_parent(c, tfd, f->mf_name, &dfd, &base, err,
	    errlen)) != 0)
		return r;
	/* 0600 until the group is set: never readable by others. */
	if ((out = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1) {
		r = ag_errf(err, errlen, AG_ERR_SYSTEM, "%s/%s: %s",
		    c->sc_dst, f->mf_name, strerror(errno));
		goto out;
	}
	if (store_write_all(out, f->mf_data, f->mf_len) == -1) {
		r = ag_errf(err, errlen, AG_ERR_SYSTEM, "%s/%s: write: %s",
		    c->sc_dst, f->mf_name, strerror(errno));
		goto out;
	}
	if (store_set_owner(out, c->sc_gid, 0640) == -1) {
		r = store_owner_err(err, errlen, c->sc_dst, f->mf_name,
		    c->sc_gid);
		goto out;
	}
	if (fsync(out) == -1) {
		r = ag_errf(err, errlen, AG_ERR_SYSTEM, "%s/%s: fsync: %s",
		    c->sc_dst, f->mf_name, strerror(errno));
		goto out;
	}
	if (close(out) == -1) {
		out = -1;
		r = ag_errf(err, errlen, AG_ERR_SYSTEM, "%s/%s: close: %s",
		    c->sc_dst, f->mf_name, strerror(errno));
		goto out;
	}
	out = -1;
	r = 0;
	if (++c->sc_files == 1)
		r = store_failpoint("copy", err, errlen);
 out:
	if (out != -1)
		close(out);
	close(dfd);
	return r;
}

/*
 * fsyncs every directory below dfd (not dfd itself), deepest first, so
 * that the entries of the copy are on disk before it is renamed.
 */
static int
store_fsync_dirs(int dfd, const char *dst, int depth, char *err,
    size_t errlen)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd, sub, r = 0;

	if (depth >= MFILES_MAX_DEPTH)
		return ag_errf(err, errlen, AG_ERR_TOO_LARGE,
		    "%s: more than %d directory levels", dst, MFILES_MAX_DEPTH);
	if ((fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "%s: %s", dst,
		    strerror(errno));
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "%s: %s", dst,
		    strerror(errno));
	}
	while (r == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		/* d_type may be DT_UNKNOWN: ask the inode. */
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
			r = ag_errf(err, errlen, AG_ERR_SYSTEM, "%s/%s: %s",
			    dst, de->d_name, strerror(errno));
			break;
		}
		if (!S_ISDIR(st.st_mode))
			continue;
		if ((sub = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) == -1) {
			r = ag_errf(err, errlen, AG_ERR_SYSTEM, "%s/%s: %s",
			    dst, de->d_name, strerror(errno));
			break;
		}
		if ((r = store_fsync_dirs(sub, dst, depth + 1, err,
		    errlen)) == 0 && fsync(sub) == -1)
			r = ag_errf(err, errlen, AG_ERR_SYSTEM,
			    "%s/%s: fsync: %s", dst, de->d_name,
			    strerror(errno));
		close(sub);
	}
	closedir(d);
	return r;
}

/*
 * Copies what the signature covers in the source mf (verified by the
 * caller), and model.sig, into the staging directory tfd.
 */
static int
store_copy_model(struct store_copy *c, struct mfiles *mf, int tfd,
    char *err, size_t errlen)
{
	const struct mfile *f;
	size_t i;
	int r;

	for (i = 0; (f = mfiles_at(mf, i)) != NULL; i++) {
		if (!f->mf_verified && strcmp(f->mf_name, MSIG_FILE) != 0)
			continue;
		if ((r = store_copy_file(c, tfd, f, err, errlen)) != 0)
			return r;
	}
	return store_fsync_dirs(tfd, c->sc_dst, 0, err, errlen);
}

/* ==== Verify and switch ================================================ */

static int
store_verify(const char *dir, const struct msig_trust *trust,
    const char *const *ignore, size_t nignore, struct msig_result *res,
    char *err, size_t errlen)
{
	struct mfiles *mf = NULL;
	int r;

	if ((r = mfiles_open(dir, &mf, err, errlen)) != 0)
		return r;
	r = msig_verify(mf, trust, ignore, nignore, res, err, errlen);
	mfiles_close(mf);
	return r;
}

/*
 * Points current at version v: a new link current.tmp -> "v", renamed over
 * current (rename(2) replaces the name atomically), then NAME/ fsynced.
 * *step follows along for messages.  With failpoints, the deploy test hook
 * applies.  On failure current is unchanged and current.tmp is gone.
 */
static int
store_switch(struct store_op *op, unsigned int v, int failpoints,
    const char **step, char *err, size_t errlen)
{
	char vname[16];
	int r;

	snprintf(vname, sizeof(vname), "%u", v);
	*step = "link";
	if (failpoints && (r = store_failpoint("link", err, errlen)) != 0)
		return r;
	if (unlinkat(op->so_dfd, STORE_CURRENT_TMP, 0) == -1 &&
	    errno != ENOENT)
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "%s/%s: %s",
		    op->so_dir, STORE_CURRENT_TMP, strerror(errno));
	if (symlinkat(vname, op->so_dfd, STORE_CURRENT_TMP) == -1)
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "%s/%s: symlink: %s",
		    op->so_dir, STORE_CURRENT_TMP, strerror(errno));
	*step = "switch";
	if (failpoints && (r = store_failpoint("switch", err, errlen)) != 0)
		goto fail;
	if (renameat(op->so_dfd, STORE_CURRENT_TMP, op->so_dfd,
	    STORE_CURRENT) == -1) {
		r = ag_errf(err, errlen, AG_ERR_SYSTEM, "%s/%s: rename to %s: "
		    "%s", op->so_dir, STORE_CURRENT_TMP, STORE_CURRENT,
		    strerror(errno));
		goto fail;
	}
	/*
	 * The switch is made; a failed fsync cannot undo it (nor would
	 * switching back be any more durable), so it is only reported.
	 */
	if (fsync(op->so_dfd) == -1)
		log_warn("%s: fsync after switching to version %u", op->so_dir,
		    v);
	return 0;
 fail:
	(void)unlinkat(op->so_dfd, STORE_CURRENT_TMP, 0);
	return r;
}

/*
 * The start of a deploy or a rollback: NAME opened with flags (and
 * locked), what killed runs left removed, the current version and the
 * versions (and the highest, when max is not NULL) read.  *step names
 * the step reached, for the caller's message.
 */
static int
store_begin(struct store_op *op, const char *store, const char *name,
    int flags, gid_t gid, const char **step, unsigned int *cur,
    unsigned int **vers, size_t *nvers, unsigned int *max, char *msg,
    size_t msglen)
{
	int r;

	*step = "open";
	if ((r = store_op_open(op, store, name, flags, gid, msg,
	    msglen)) != 0)
		return r;
	*step = "cleanup";
	if ((r = store_cleanup(op, msg, msglen)) != 0)
		return r;
	*step = "scan";
	if ((r = store_read_current(op, cur, msg, msglen)) != 0)
		return r;
	return store_scan(op, vers, nvers, max, msg, msglen);
}

/*
 * Removes versions older than cur past the newest keep of them, never
 * prev (the version cur replaced).  Failures are warnings: the deploy is
 * done.  Returns the number removed.
 */
static size_t
store_prune(struct store_op *op, unsigned int cur, unsigned int prev,
    unsigned int keep)
{
	char msg[STORE_MSG];
	unsigned int *v = NULL;
	size_t n, i, kept = 0, removed = 0;

	if (store_failpoint("prune", msg, sizeof(msg)) != 0 ||
	    store_scan(op, &v, &n, NULL, msg, sizeof(msg)) != 0) {
		log_warnx("%s: prune: %s; old versions kept", op->so_dir, msg);
		return 0;
	}
	for (i = n; i-- > 0;) {
		if (v[i] >= cur)
			continue;
		if (kept < keep || v[i] == prev) {
			kept++;
			continue;
		}
		if (store_remove_version(op, v[i], msg, sizeof(msg)) != 0) {
			log_warnx("%s: prune: %s", op->so_dir, msg);
			continue;
		}
		removed++;
	}
	if (removed > 0 && fsync(op->so_dfd) == -1)
		log_warn("%s: fsync after pruning", op->so_dir);
	free(v);
	return removed;
}

/* ==== The audit log ==================================================== */

/*
 * Opens STORE/.audit.log for appending, made 0640 with the group gid
 * when new.  Opened before anything changes, so that a log that cannot
 * be written stops the deploy or rollback while the store is as it was.
 */
static int
store_audit_open(struct store_op *op, gid_t gid, int *fdp, char *err,
    size_t errlen)
{
	char path[PATH_MAX];
	struct stat st;
	int fd, n;

	*fdp = -1;
	n = snprintf(path, sizeof(path), "%s/%s", op->so_store,
	    STORE_AUDIT_LOG);
	if (n < 0 || (size_t)n >= sizeof(path))
		return ag_errf(err, errlen, AG_ERR_TOO_LARGE,
		    "%s: path too long", op->so_store);
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) != -1) {
		if (store_set_owner(fd, gid, 0640) == -1) {
			n = store_owner_err(err, errlen, path, "", gid);
			close(fd);
			return n;
		}
	} else if (errno != EEXIST || (fd = open(path, O_WRONLY | O_APPEND |
	    O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) == -1)
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "%s: %s", path,
		    strerror(errno));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return ag_errf(err, errlen, AG_ERR_UNEXPECTED,
		    "%s: not a regular file", path);
	}
	*fdp = fd;
	return 0;
}

/* The audit uid of this session (/proc/self/loginuid), or -1: unset. */
static long
store_loginuid(void)
{
	char buf[16];
	ssize_t n;
	long v = 0;
	int fd, i;

	if ((fd = open("/proc/self/loginuid", O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	for (i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++)
		v = v * 10 + (buf[i] - '0');
	if (i == 0 || i > 10 || v >= 4294967295L)
		return -1;
	return v;
}

/*
 * Appends one line to the audit log fd: what became current, and who
 * made it so.  One write(2) to an O_APPEND descriptor, so that lines of
 * concurrent deploys (of other names) never mix, then fsync.  The switch
 * is made already: a failure here is a loud warning, not an error.
 */
static void
store_audit_write(int fd, struct store_op *op, const char *event,
    const struct store_result *res)
{
	char line[STORE_AUDIT_LINE], when[32], login[32];
	char qname[4 * STORE_NAME_MAX + 8], qdig[4 * 80 + 8];
	char qsig[4 * sizeof(res->sr_sig.mr_signer) + 8], quser[4 * 64 + 8];
	struct passwd *pw;
	struct tm tm;
	time_t now = time(NULL);
	uid_t uid = getuid();
	long luid = store_loginuid();
	ssize_t w;
	int n;

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(when, sizeof(when), "@%lld", (long long)now);
	pw = getpwuid(uid);
	log_quote_value(qname, sizeof(qname), op->so_name);
	log_quote_value(qdig, sizeof(qdig), res->sr_sig.mr_digest);
	log_quote_value(qsig, sizeof(qsig), res->sr_sig.mr_signer);
	log_quote_value(quser, sizeof(quser), pw != NULL &&
	    strlen(pw->pw_name) < 64 ? pw->pw_name : "");
	login[0] = '\0';
	if (luid != -1)
		snprintf(login, sizeof(login), " loginuid=%ld", luid);
	n = snprintf(line, sizeof(line), "time=%s event=%s model=%s "
	    "version=%u previous=%u digest=%s signer=%s uid=%lu user=%s%s\n",
	    when, event, qname, res->sr_version, res->sr_previous, qdig, qsig,
	    (unsigned long)uid, quser, login);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		log_warnx("%s/%s: %s of %s version %u NOT logged: line too "
		    "long", op->so_store, STORE_AUDIT_LOG, event, op->so_name,
		    res->sr_version);
		return;
	}
	while ((w = write(fd, line, (size_t)n)) == -1 && errno == EINTR)
		;
	if (w != n) {
		log_warnx("%s/%s: %s of %s version %u NOT logged: %s",
		    op->so_store, STORE_AUDIT_LOG, event, op->so_name,
		    res->sr_version, w == -1 ? strerror(errno) :
		    "short write");
		return;
	}
	if (fsync(fd) == -1)
		log_warn("%s/%s: fsync", op->so_store, STORE_AUDIT_LOG);
}

/*
 * Copies line to fp with every byte that is not printable ASCII (the
 * log's own lines have none) shown as '?': the file is read back, and
 * whoever could write it must not reach the terminal.
 */
static void
store_audit_put(FILE *fp, const char *line)
{
	for (; *line != '\0' && *line != '\n'; line++)
		fputc(*line >= 0x20 && *line < 0x7f ? *line : '?', fp);
	fputc('\n', fp);
}

int
store_log_print(const char *store, const char *name, FILE *fp, char *err,
    size_t errlen)
{
	char path[PATH_MAX], line[STORE_AUDIT_LINE], want[STORE_NAME_MAX + 16];
	size_t len;
	FILE *in;
	int fd, n, skip = 0;

	if (name != NULL && !store_name_valid(name))
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG,
		    "bad model name");
	n = snprintf(path, sizeof(path), "%s/%s", store, STORE_AUDIT_LOG);
	if (n < 0 || (size_t)n >= sizeof(path))
		return ag_errf(err, errlen, AG_ERR_TOO_LARGE,
		    "%s: path too long", store);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC)) == -1)
		return ag_errf(err, errlen, errno == ENOENT ?
		    AG_ERR_NOT_FOUND : AG_ERR_SYSTEM, "%s: %s", path,
		    errno == ENOENT ? "no audit log (nothing deployed yet)" :
		    strerror(errno));
	if ((in = fdopen(fd, "r")) == NULL) {
		close(fd);
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "%s: %s", path,
		    strerror(errno));
	}
	/* A valid name needs no escaping: model="NAME" as written. */
	if (name != NULL)
		(void)snprintf(want, sizeof(want), " model=\"%s\" ", name);
	while (fgets(line, sizeof(line), in) != NULL) {
		len = strlen(line);
		/* The rest of a line too long for us: not ours, skipped. */
		if (skip) {
			skip = len > 0 && line[len - 1] != '\n';
			continue;
		}
		if (len > 0 && line[len - 1] != '\n' && !feof(in)) {
			skip = 1;
			continue;
		}
		if (name != NULL && strstr(line, want) == NULL)
			continue;
		store_audit_put(fp, line);
	}
	n = ferror(in) ? ag_errf(err, errlen, AG_ERR_SYSTEM, "%s: read "
	    "error", path) : 0;
	fclose(in);
	return n;
}

/* ==== Deploy, rollback, list =========================================== */

int
store_deploy(const char *store, const char *name, const char *src,
    const struct msig_trust *trust, const char *const *ignore,
    size_t nignore, unsigned int keep, gid_t gid, struct store_result *out,
    char *err, size_t errlen)
{
	struct store_op op;
	struct store_copy c;
	struct store_result res;
	char msg[STORE_MSG], stage[PATH_MAX], vname[16];
	const char *step = "open", *stagebase = NULL;
	unsigned int max = 0, *vers = NULL;
	size_t nvers = 0;
	struct mfiles *smf = NULL;
	int tfd = -1, afd = -1, placed = 0, n, r;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	memset(&res, 0, sizeof(res));
	memset(&c, 0, sizeof(c));
	stage[0] = msg[0] = '\0';
	if (src == NULL || trust == NULL || (nignore > 0 && ignore == NULL))
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG,
		    "deploy: bad arguments");
	if ((r = store_begin(&op, store, name, STORE_OPEN_CREATE |
	    STORE_OPEN_LOCK, gid, &step, &res.sr_previous, &vers, &nvers, &max,
	    msg, sizeof(msg))) != 0)
		goto out;
	if (max >= STORE_VERSION_MAX) {
		r = ag_errf(msg, sizeof(msg), AG_ERR_TOO_LARGE,
		    "%s: version %u is the last one", op.so_dir, max);
		goto out;
	}
	res.sr_version = max + 1;
	snprintf(vname, sizeof(vname), "%u", res.sr_version);
	step = "log";
	if ((r = store_audit_open(&op, gid, &afd, msg, sizeof(msg))) != 0)
		goto out;

	/* The source, verified first: only what it signs is copied. */
	step = "verify";
	if ((r = mfiles_open(src, &smf, msg, sizeof(msg))) != 0 ||
	    (r = msig_verify(smf, trust, ignore, nignore, NULL, msg,
	    sizeof(msg))) != 0)
		goto out;

	step = "copy";
	n = snprintf(stage, sizeof(stage), "%s/%sXXXXXX", op.so_dir,
	    STORE_STAGING);
	if (n < 0 || (size_t)n >= sizeof(stage)) {
		stage[0] = '\0';
		r = ag_errf(msg, sizeof(msg), AG_ERR_TOO_LARGE,
		    "%s: path too long", op.so_dir);
		goto out;
	}
	if (mkdtemp(stage) == NULL) {
		r = ag_errf(msg, sizeof(msg), AG_ERR_SYSTEM, "%s: mkdtemp: %s",
		    stage, strerror(errno));
		stage[0] = '\0';
		goto out;
	}
	stagebase = stage + strlen(op.so_dir) + 1;
	if ((tfd = openat(op.so_dfd, stagebase, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1) {
		r = ag_errf(msg, sizeof(msg), AG_ERR_SYSTEM, "%s: %s", stage,
		    strerror(errno));
		goto out;
	}
	if (store_set_owner(tfd, gid, 0750) == -1) {
		r = store_owner_err(msg, sizeof(msg), stage, "", gid);
		goto out;
	}
	c.sc_src = src;
	c.sc_dst = stage;
	c.sc_gid = gid;
	if ((r = store_copy_model(&c, smf, tfd, msg, sizeof(msg))) != 0)
		goto out;
	mfiles_close(smf);
	smf = NULL;

	step = "fsync";
	if ((r = store_failpoint("fsync", msg, sizeof(msg))) != 0)
		goto out;
	if (fsync(tfd) == -1) {
		r = ag_errf(msg, sizeof(msg), AG_ERR_SYSTEM, "%s: fsync: %s",
		    stage, strerror(errno));
		goto out;
	}

	/* The staging copy, not src: these are the bytes to be served. */
	step = "verify";
	if ((r = store_failpoint("verify", msg, sizeof(msg))) != 0 ||
	    (r = store_verify(stage, trust, ignore, nignore, &res.sr_sig, msg,
	    sizeof(msg))) != 0)
		goto out;

	step = "rename";
	if ((r = store_failpoint("rename", msg, sizeof(msg))) != 0)
		goto out;
	if ((r = store_rename_new(&op, stagebase, vname, msg,
	    sizeof(msg))) != 0)
		goto out;
	stage[0] = '\0';
	placed = 1;
	if (fsync(op.so_dfd) == -1) {
		r = ag_errf(msg, sizeof(msg), AG_ERR_SYSTEM, "%s: fsync: %s",
		    op.so_dir, strerror(errno));
		goto out;
	}

	if ((r = store_switch(&op, res.sr_version, 1, &step, msg,
	    sizeof(msg))) != 0)
		goto out;
	placed = 0;	/* it is current now: never removed on error */

	store_audit_write(afd, &op, "deploy", &res);
	step = "prune";
	res.sr_pruned = store_prune(&op, res.sr_version, res.sr_previous,
	    keep);
	r = 0;
	if (out != NULL)
		*out = res;
 out:
	if (r != 0) {
		/* Leave the store as it was: no staging, no new version. */
		if (stage[0] != '\0' && stagebase != NULL &&
		    store_rm_tree(op.so_dfd, stagebase, 0) == -1)
			log_warn("%s: removing", stage);
		if (placed) {
			char m2[STORE_MSG];

			if (store_remove_version(&op, res.sr_version, m2,
			    sizeof(m2)) != 0)
				log_warnx("%s", m2);
			else if (fsync(op.so_dfd) == -1)
				log_warn("%s: fsync", op.so_dir);
		}
		ag_errf(err, errlen, r, "deploy %s: %s: %s", name, step, msg);
	}
	mfiles_close(smf);
	free(vers);
	if (tfd != -1)
		close(tfd);
	if (afd != -1)
		close(afd);
	store_op_close(&op);
	return r;
}

int
store_rollback(const char *store, const char *name,
    const struct msig_trust *trust, const char *const *ignore,
    size_t nignore, gid_t gid, struct store_result *out, char *err,
    size_t errlen)
{
	struct store_op op;
	struct store_result res;
	char msg[STORE_MSG], dir[PATH_MAX];
	const char *step = "open";
	unsigned int *vers = NULL;
	size_t nvers = 0, i;
	int afd = -1, n, r;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	memset(&res, 0, sizeof(res));
	msg[0] = '\0';
	if (trust == NULL || (nignore > 0 && ignore == NULL))
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG,
		    "rollback: bad arguments");
	if ((r = store_begin(&op, store, name, STORE_OPEN_LOCK, gid, &step,
	    &res.sr_previous, &vers, &nvers, NULL, msg, sizeof(msg))) != 0)
		goto out;
	step = "log";
	if ((r = store_audit_open(&op, gid, &afd, msg, sizeof(msg))) != 0)
		goto out;
	if (res.sr_previous == 0) {
		r = ag_errf(msg, sizeof(msg), AG_ERR_NOT_FOUND,
		    "%s/%s: no current version", op.so_dir, STORE_CURRENT);
		goto out;
	}
	for (i = nvers; i-- > 0;)
		if (vers[i] < res.sr_previous) {
			res.sr_version = vers[i];
			break;
		}
	if (res.sr_version == 0) {
		r = ag_errf(msg, sizeof(msg), AG_ERR_NOT_FOUND,
		    "%s: no version older than %u", op.so_dir,
		    res.sr_previous);
		goto out;
	}

	/* Checked again: it may have changed since its deploy. */
	step = "verify";
	n = snprintf(dir, sizeof(dir), "%s/%u", op.so_dir, res.sr_version);
	if (n < 0 || (size_t)n >= sizeof(dir)) {
		r = ag_errf(msg, sizeof(msg), AG_ERR_TOO_LARGE,
		    "%s: path too long", op.so_dir);
		goto out;
	}
	if ((r = store_verify(dir, trust, ignore, nignore, &res.sr_sig, msg,
	    sizeof(msg))) != 0)
		goto out;
	if ((r = store_switch(&op, res.sr_version, 0, &step, msg,
	    sizeof(msg))) != 0)
		goto out;
	store_audit_write(afd, &op, "rollback", &res);
	r = 0;
	if (out != NULL)
		*out = res;
 out:
	if (r != 0)
		ag_errf(err, errlen, r, "rollback %s: %s: %s", name, step, msg);
	free(vers);
	if (afd != -1)
		close(afd);
	store_op_close(&op);
	return r;
}

int
store_list(const char *store, const char *name, struct store_list *out,
    char *err, size_t errlen)
{
	struct store_op op;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = store_op_open(&op, store, name, 0, (gid_t)-1, err,
	    errlen)) != 0)
		return r;
	if ((r = store_read_current(&op, &out->sl_current, err,
	    errlen)) != 0 ||
	    (r = store_scan(&op, &out->sl_versions, &out->sl_n, NULL, err,
	    errlen)) != 0)
		memset(out, 0, sizeof(*out));
	store_op_close(&op);
	return r;
}

void
store_list_free(struct store_list *l)
{
	if (l == NULL)
		return;
	free(l->sl_versions);
	memset(l, 0, sizeof(*l));
}
