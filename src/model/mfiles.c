/* SPDX-License-Identifier: ISC */
/*
 * mfiles.c: a model directory's files, each read once.  See mfiles.h.
 *
 * Every path below the directory is resolved one component at a time,
 * relative to a directory descriptor, and each component is looked at
 * with fstatat(AT_SYMLINK_NOFOLLOW) before it is opened: a symbolic link
 * is refused (unless allowed) and a FIFO, socket or device is never
 * opened, so it can neither block us nor trigger a driver.  The opens
 * that follow use O_NOFOLLOW and the file's identity (device, inode) is
 * compared with what fstatat saw, so a swap between the two is caught.
 *
 * System calls used (the worker's seccomp allowlist depends on this
 * list): openat, newfstatat, fstat, getdents64, read, mmap, mprotect,
 * munmap, close; malloc may use brk or mmap.  No readlink, no fcntl (we
 * call getdents64 rather than fdopendir(), which issues F_GETFL).
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ag_err.h"
#include "mfiles.h"

/* Directory entries looked at by one walk, files or not. */
#define MFILES_MAX_ENTRIES	(4 * MFILES_MAX_FILES)
#define MFILES_DENTS_BUF	8192
/* Files from this size on are read into transparent huge pages. */
#define MFILES_HUGE_MIN		(4 * 1024 * 1024)

struct mfiles {
	char		 *ms_path;	/* as given to mfiles_open() */
	int		  ms_dirfd;
	struct mfile	**ms_files;	/* sorted by mf_name (strcmp) */
	size_t		  ms_nfiles;
};

/* ==== names ============================================================ */

/*
 * A relative name: not empty, no leading or trailing '/', no empty, "."
 * or ".." component, within the length and depth caps.
 */
int
mfiles_name_valid(const char *name)
{
	const char *p, *c;
	size_t len, depth = 0;

	if (name == NULL || (len = strlen(name)) == 0 ||
	    len >= MFILES_NAME_MAX)
		return 0;
	for (c = name;; c = p + 1) {
		p = strchr(c, '/');
		len = p != NULL ? (size_t)(p - c) : strlen(c);
		if (len == 0 || (len == 1 && c[0] == '.') ||
		    (len == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		if (p == NULL)
			break;
		if (++depth > MFILES_MAX_DEPTH)
			return 0;
	}
	return 1;
}

static int
mfiles_errno(int e)
{
	return e == ENOENT || e == ENOTDIR ? AG_ERR_NOT_FOUND : AG_ERR_SYSTEM;
}

/* ==== the set ========================================================== */

int
mfiles_open(const char *dir, struct mfiles **out, char *err, size_t errlen)
{
	struct mfiles *ms;
	int fd;

	*out = NULL;
	if (dir == NULL || *dir == '\0')
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG,
		    "model directory: empty path");
	/* The one place where links are followed: a store's "current". */
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return ag_errf(err, errlen, errno == ENOTDIR ? AG_ERR_FORMAT :
		    mfiles_errno(errno), "%s: %s", dir, errno == ENOTDIR ?
		    "not a model directory" : strerror(errno));
	if ((ms = calloc(1, sizeof(*ms))) == NULL ||
	    (ms->ms_path = strdup(dir)) == NULL) {
		free(ms);
		close(fd);
		return ag_errf(err, errlen, AG_ERR_ALLOC, "%s: out of memory",
		    dir);
	}
	ms->ms_dirfd = fd;
	*out = ms;
	return 0;
}

static void
mfile_free(struct mfile *f)
{
	if (f == NULL)
		return;
	if (f->mf_data != NULL)
		munmap((void *)f->mf_data, f->mf_len);
	free(f->mf_name);
	free(f);
}

void
mfiles_close(struct mfiles *ms)
{
	size_t i;

	if (ms == NULL)
		return;
	for (i = 0; i < ms->ms_nfiles; i++)
		mfile_free(ms->ms_files[i]);
	free(ms->ms_files);
	if (ms->ms_dirfd != -1)
		close(ms->ms_dirfd);
	free(ms->ms_path);
	free(ms);
}

const char *
mfiles_path(const struct mfiles *ms)
{
	return ms->ms_path;
}

/* Index of name in ms_files, or where it would go (*found = 0). */
static size_t
mfiles_find(const struct mfiles *ms, const char *name, int *found)
{
	size_t lo = 0, hi = ms->ms_nfiles, mid;
	int c;

	*found = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(name, ms->ms_files[mid]->mf_name)) == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* ==== opening one file ================================================= */

/*
 * Looks at component comp below dfd without following it, into *st.  A
 * link passes only when allow_links: then *via_link is set and *nofollow
 * is 0 (else O_NOFOLLOW, for the open that follows).
 */
static int
mfiles_look(const struct mfiles *ms, int dfd, const char *comp,
    const char *name, int allow_links, struct stat *st, int *via_link,
    int *nofollow, char *err, size_t errlen)
{
	*nofollow = O_NOFOLLOW;
	if (fstatat(dfd, comp, st, AT_SYMLINK_NOFOLLOW) == -1)
		return ag_errf(err, errlen, mfiles_errno(errno), "%s/%s: %s",
		    ms->ms_path, name, strerror(errno));
	if (!S_ISLNK(st->st_mode))
		return 0;
	if (!allow_links)
		return ag_errf(err, errlen, AG_ERR_UNEXPECTED,
		    "%s/%s: a symbolic link (%s; not allowed)", ms->ms_path,
		    name, comp);
	*via_link = 1;
	*nofollow = 0;
	return 0;
}

/*
 * Opens the directory component comp below dfd (which stays open).  A
 * link is followed only when allow_links, and then *via_link is set.
 */
static int
mfiles_open_dir(const struct mfiles *ms, int dfd, const char *comp,
    const char *name, int allow_links, int *via_link, int *out, char *err,
    size_t errlen)
{
	struct stat st;
	int fd, nofollow, r;

	*out = -1;
	if ((r = mfiles_look(ms, dfd, comp, name, allow_links, &st, via_link,
	    &nofollow, err, errlen)) != 0)
		return r;
	if (!S_ISLNK(st.st_mode) && !S_ISDIR(st.st_mode))
		return ag_errf(err, errlen, AG_ERR_NOT_FOUND,
		    "%s/%s: %s is not a directory", ms->ms_path, name, comp);
	if ((fd = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    nofollow)) == -1)
		return ag_errf(err, errlen, mfiles_errno(errno),
		    "%s/%s: %s: %s", ms->ms_path, name, comp,
		    strerror(errno));
	*out = fd;
	return 0;
}

/*
 * Opens the last component comp below dfd: a regular file, looked at
 * before it is opened, and checked to be the same file after.
 */
static int
mfiles_open_leaf(const struct mfiles *ms, int dfd, const char *comp,
    const char *name, int allow_links, int *via_link, int *out,
    struct stat *stp, char *err, size_t errlen)
{
	struct stat st;
	int fd, nofollow, r;

	*out = -1;
	if ((r = mfiles_look(ms, dfd, comp, name, allow_links, &st, via_link,
	    &nofollow, err, errlen)) != 0)
		return r;
	if (S_ISLNK(st.st_mode) && fstatat(dfd, comp, &st, 0) == -1)
		return ag_errf(err, errlen, mfiles_errno(errno),
		    "%s/%s: a symbolic link to nothing: %s", ms->ms_path,
		    name, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return ag_errf(err, errlen, AG_ERR_FORMAT,
		    "%s/%s: not a regular file", ms->ms_path, name);
	/* O_NONBLOCK: should a FIFO replace the file now, open won't hang. */
	if ((fd = openat(dfd, comp, O_RDONLY | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC | nofollow)) == -1)
		return ag_errf(err, errlen, mfiles_errno(errno), "%s/%s: %s",
		    ms->ms_path, name, strerror(errno));
	if (fstat(fd, stp) == -1 || !S_ISREG(stp->st_mode) ||
	    stp->st_dev != st.st_dev || stp->st_ino != st.st_ino) {
		close(fd);
		return ag_errf(err, errlen, AG_ERR_UNEXPECTED,
		    "%s/%s: replaced while being opened", ms->ms_path, name);
	}
	*out = fd;
	return 0;
}

/* Resolves name below the directory, one component at a time. */
static int
mfiles_open_name(const struct mfiles *ms, const char *name, int allow_links,
    int *via_link, int *out, struct stat *st, char *err, size_t errlen)
{
	char comp[MFILES_NAME_MAX];
	const char *c, *p;
	int dfd = ms->ms_dirfd, nfd, r;

	*out = -1;
	*via_link = 0;
	for (c = name; (p = strchr(c, '/')) != NULL; c = p + 1) {
		memcpy(comp, c, (size_t)(p - c));
		comp[p - c] = '\0';
		r = mfiles_open_dir(ms, dfd, comp, name, allow_links, via_link,
		    &nfd, err, errlen);
		if (dfd != ms->ms_dirfd)
			close(dfd);
		if (r != 0)
			return r;
		dfd = nfd;
	}
	r = mfiles_open_leaf(ms, dfd, c, name, allow_links, via_link, out, st,
	    err, errlen);
	if (dfd != ms->ms_dirfd)
		close(dfd);
	return r;
}

/*
 * Reads len bytes of fd into a new private mapping, then seals it
 * read-only.  A file that shrinks meanwhile is an error; one that grows
 * is read up to len, and those are the bytes everyone sees.
 */
static int
mfiles_slurp(const struct mfiles *ms, const char *name, int fd, size_t len,
    const uint8_t **out, char *err, size_t errlen)
{
	uint8_t *p;
	size_t off = 0;
	ssize_t n;

	*out = NULL;
	if (len == 0)
		return 0;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED)
		return ag_errf(err, errlen, AG_ERR_ALLOC,
		    "%s/%s: %zu bytes: %s", ms->ms_path, name, len,
		    strerror(errno));
	/* Weights are tens of MB: huge pages save thousands of page
	 * faults.  Only a hint; without it we are just slower. */
	if (len >= MFILES_HUGE_MIN)
		(void)madvise(p, len, MADV_HUGEPAGE);
	while (off < len) {
		n = read(fd, p + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			munmap(p, len);
			if (n == 0)
				return ag_errf(err, errlen, AG_ERR_TRUNCATED,
				    "%s/%s: shrank while being read",
				    ms->ms_path, name);
			return ag_errf(err, errlen, AG_ERR_SYSTEM,
			    "%s/%s: read: %s", ms->ms_path, name,
			    strerror(errno));
		}
		off += (size_t)n;
	}
	if (mprotect(p, len, PROT_READ) == -1) {
		munmap(p, len);
		return ag_errf(err, errlen, AG_ERR_SYSTEM,
		    "%s/%s: mprotect: %s", ms->ms_path, name,
		    strerror(errno));
	}
	*out = p;
	return 0;
}

/* Inserts f at index i of the sorted ms_files. */
static int
mfiles_insert(struct mfiles *ms, size_t i, struct mfile *f)
{
	struct mfile **nf;

	nf = reallocarray(ms->ms_files, ms->ms_nfiles + 1, sizeof(*nf));
	if (nf == NULL)
		return AG_ERR_ALLOC;
	ms->ms_files = nf;
	memmove(nf + i + 1, nf + i, (ms->ms_nfiles - i) * sizeof(*nf));
	nf[i] = f;
	ms->ms_nfiles++;
	return 0;
}

int
mfiles_read(struct mfiles *ms, const char *name, int allow_links,
    const struct mfile **out, char *err, size_t errlen)
{
	struct mfile *f = NULL;
	struct stat st;
	size_t i;
	int fd = -1, found, via, r;

	*out = NULL;
	if (!mfiles_name_valid(name))
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG,
		    "%s: not a relative file name: \"%.80s\"", ms->ms_path,
		    name != NULL ? name : "");
	i = mfiles_find(ms, name, &found);
	if (found) {
		f = ms->ms_files[i];
		/* Read once, by whichever rule came first; never relaxed. */
		if (f->mf_via_link && !allow_links)
			return ag_errf(err, errlen, AG_ERR_UNEXPECTED,
			    "%s/%s: reached through a symbolic link",
			    ms->ms_path, name);
		*out = f;
		return 0;
	}
	if (ms->ms_nfiles >= MFILES_MAX_FILES)
		return ag_errf(err, errlen, AG_ERR_TOO_LARGE,
		    "%s/%s: more than %d files read", ms->ms_path, name,
		    MFILES_MAX_FILES);
	if ((r = mfiles_open_name(ms, name, allow_links, &via, &fd, &st, err,
	    errlen)) != 0)
		return r;
	if (st.st_size < 0 || (unsigned long long)st.st_size >
	    MFILES_FILE_MAX || (unsigned long long)st.st_size > SIZE_MAX) {
		r = ag_errf(err, errlen, AG_ERR_TOO_LARGE,
		    "%s/%s: %lld bytes, more than the %llu allowed",
		    ms->ms_path, name, (long long)st.st_size, MFILES_FILE_MAX);
		goto out;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->mf_name = strdup(name)) == NULL) {
		r = ag_errf(err, errlen, AG_ERR_ALLOC, "%s/%s: out of memory",
		    ms->ms_path, name);
		goto out;
	}
	f->mf_via_link = via;
	if ((r = mfiles_slurp(ms, name, fd, (size_t)st.st_size, &f->mf_data,
	    err, errlen)) != 0)
		goto out;
	f->mf_len = (size_t)st.st_size;
	if ((r = mfiles_insert(ms, i, f)) != 0) {
		r = ag_errf(err, errlen, r, "%s/%s: out of memory",
		    ms->ms_path, name);
		goto out;
	}
	*out = f;
	f = NULL;
 out:
	mfile_free(f);
	if (fd != -1)
		close(fd);
	return r;
}

/* ==== marks ============================================================ */

int
mfiles_set_verified(struct mfiles *ms, const char *name)
{
	size_t i;
	int found;

	i = mfiles_find(ms, name, &found);
	if (!found)
		return AG_ERR_NOT_FOUND;
	ms->ms_files[i]->mf_verified = 1;
	return 0;
}

void
mfiles_clear_verified(struct mfiles *ms)
{
	size_t i;

	for (i = 0; i < ms->ms_nfiles; i++)
		ms->ms_files[i]->mf_verified = 0;
}

size_t
mfiles_count(const struct mfiles *ms)
{
	return ms->ms_nfiles;
}

const struct mfile *
mfiles_at(const struct mfiles *ms, size_t i)
{
	return i < ms->ms_nfiles ? ms->ms_files[i] : NULL;
}

/* ==== the walk ========================================================= */

struct mwalk {
	struct mfiles		 *w_ms;
	const char *const	 *w_ignore;
	size_t			  w_nignore;
	int			  w_links;
	char			**w_names;
	size_t			  w_n, w_cap;
	size_t			  w_entries;	/* seen, for the cap */
	char			 *w_err;
	size_t			  w_errlen;
};

static int
mwalk_ignored(const struct mwalk *w, const char *rel)
{
	size_t i;

	for (i = 0; i < w->w_nignore; i++)
		if (w->w_ignore[i] != NULL && strcmp(w->w_ignore[i], rel) == 0)
			return 1;
	return 0;
}

static int
mwalk_add(struct mwalk *w, const char *rel)
{
	char **nn;

	if (w->w_n >= MFILES_MAX_FILES)
		return ag_errf(w->w_err, w->w_errlen, AG_ERR_TOO_LARGE,
		    "%s: more than %d files", w->w_ms->ms_path,
		    MFILES_MAX_FILES);
	if (w->w_n == w->w_cap) {
		w->w_cap = w->w_cap ? 2 * w->w_cap : 16;
		if ((nn = reallocarray(w->w_names, w->w_cap,
		    sizeof(*nn))) == NULL)
			return ag_errf(w->w_err, w->w_errlen, AG_ERR_ALLOC,
			    "%s: out of memory", w->w_ms->ms_path);
		w->w_names = nn;
	}
	if ((w->w_names[w->w_n] = strdup(rel)) == NULL)
		return ag_errf(w->w_err, w->w_errlen, AG_ERR_ALLOC,
		    "%s: out of memory", w->w_ms->ms_path);
	w->w_n++;
	return 0;
}

static int mwalk_dir(struct mwalk *, int, char *, size_t, int);

/* One directory entry ent of dfd, whose relative name is rel. */
static int
mwalk_entry(struct mwalk *w, int dfd, const char *ent, char *rel,
    size_t rlen, int depth)
{
	const char *dir = w->w_ms->ms_path;
	struct stat st;
	int fd, r;

	if (++w->w_entries > MFILES_MAX_ENTRIES)
		return ag_errf(w->w_err, w->w_errlen, AG_ERR_TOO_LARGE,
		    "%s: more than %d entries", dir, MFILES_MAX_ENTRIES);
	if (mwalk_ignored(w, rel))
		return 0;
	if (fstatat(dfd, ent, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return ag_errf(w->w_err, w->w_errlen, mfiles_errno(errno),
		    "%s/%s: %s", dir, rel, strerror(errno));
	if (S_ISREG(st.st_mode))
		return mwalk_add(w, rel);
	if (S_ISDIR(st.st_mode)) {
		if (depth + 1 > MFILES_MAX_DEPTH)
			return ag_errf(w->w_err, w->w_errlen, AG_ERR_TOO_LARGE,
			    "%s/%s: more than %d directory levels", dir, rel,
			    MFILES_MAX_DEPTH);
		if ((fd = openat(dfd, ent, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) == -1)
			return ag_errf(w->w_err, w->w_errlen,
			    mfiles_errno(errno), "%s/%s: %s", dir, rel,
			    strerror(errno));
		r = mwalk_dir(w, fd, rel, rlen, depth + 1);
		close(fd);
		return r;
	}
	if (S_ISLNK(st.st_mode)) {
		if (!w->w_links)
			return ag_errf(w->w_err, w->w_errlen, AG_ERR_UNEXPECTED,
			    "%s/%s: a symbolic link (not allowed)", dir, rel);
		if (fstatat(dfd, ent, &st, 0) == -1 || !S_ISREG(st.st_mode))
			return ag_errf(w->w_err, w->w_errlen, AG_ERR_UNEXPECTED,
			    "%s/%s: a symbolic link to something not a "
			    "regular file", dir, rel);
		return mwalk_add(w, rel);
	}
	return ag_errf(w->w_err, w->w_errlen, AG_ERR_UNEXPECTED,
	    "%s/%s: a special file (FIFO, socket or device)", dir, rel);
}

/*
 * Lists the directory dfd, whose relative name is rel[0..rlen) ("" for
 * the top); rel is a MFILES_NAME_MAX buffer, extended in place.
 */
static int
mwalk_dir(struct mwalk *w, int dfd, char *rel, size_t rlen, int depth)
{
	struct dirent64 *d;
	char *buf;
	size_t off, nlen, pre;
	ssize_t n;
	int r = 0;

	if ((buf = malloc(MFILES_DENTS_BUF)) == NULL)
		return ag_errf(w->w_err, w->w_errlen, AG_ERR_ALLOC,
		    "%s: out of memory", w->w_ms->ms_path);
	pre = rlen == 0 ? 0 : rlen + 1;
	while ((n = getdents64(dfd, buf, MFILES_DENTS_BUF)) != 0) {
		if (n == -1) {
			r = ag_errf(w->w_err, w->w_errlen, AG_ERR_SYSTEM,
			    "%s/%s: getdents64: %s", w->w_ms->ms_path, rel,
			    strerror(errno));
			break;
		}
		for (off = 0; r == 0 && off < (size_t)n; off += d->d_reclen) {
			d = (struct dirent64 *)(void *)(buf + off);
			if (strcmp(d->d_name, ".") == 0 ||
			    strcmp(d->d_name, "..") == 0)
				continue;
			nlen = strlen(d->d_name);
			if (pre + nlen >= MFILES_NAME_MAX) {
				r = ag_errf(w->w_err, w->w_errlen,
				    AG_ERR_TOO_LARGE, "%s/%s: a name longer "
				    "than %d bytes below", w->w_ms->ms_path,
				    rlen ? rel : ".", MFILES_NAME_MAX - 1);
				break;
			}
			if (rlen != 0)
				rel[rlen] = '/';
			memcpy(rel + pre, d->d_name, nlen + 1);
			r = mwalk_entry(w, dfd, d->d_name, rel, pre + nlen,
			    depth);
			rel[rlen] = '\0';
		}
		if (r != 0)
			break;
	}
	free(buf);
	return r;
}

static int
mwalk_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
mfiles_names_free(char **names, size_t n)
{
	size_t i;

	if (names == NULL)
		return;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int
mfiles_walk(struct mfiles *ms, const char *const *ignore, size_t nignore,
    int allow_links, char ***names, size_t *n, char *err, size_t errlen)
{
	struct mwalk w;
	char rel[MFILES_NAME_MAX];
	int fd, r;

	*names = NULL;
	*n = 0;
	memset(&w, 0, sizeof(w));
	w.w_ms = ms;
	w.w_ignore = ignore;
	w.w_nignore = nignore;
	w.w_links = allow_links;
	w.w_err = err;
	w.w_errlen = errlen;
	/* A descriptor of our own: getdents64 moves its offset. */
	if ((fd = openat(ms->ms_dirfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "%s: %s",
		    ms->ms_path, strerror(errno));
	rel[0] = '\0';
	r = mwalk_dir(&w, fd, rel, 0, 0);
	close(fd);
	if (r != 0) {
		mfiles_names_free(w.w_names, w.w_n);
		return r;
	}
	if (w.w_n > 1)
		qsort(w.w_names, w.w_n, sizeof(*w.w_names), mwalk_cmp);
	*names = w.w_names;
	*n = w.w_n;
	return 0;
}
