/* SPDX-License-Identifier: ISC */
/*
 * mfiles.h: a model directory's files, each read once.
 *
 * The bytes that the signature check hashes are the bytes the loader then
 * parses: the directory is opened once (a store's "current" link is
 * followed there, once), every file below it is opened relative to that
 * descriptor, and its content is read into a private anonymous mapping
 * that is then made read-only.  Nobody can change those bytes after the
 * check, not even the owner of the file: there is no reopening between
 * check and use.
 *
 * Names are relative to the directory, '/'-separated, without ".", ".."
 * or empty components.  Everything in the directory is distrusted: file
 * count, depth, name length and file size are capped, and special files
 * (FIFOs, sockets, devices) are refused without being opened for reading.
 */
#ifndef AG_MFILES_H
#define AG_MFILES_H

#include <stddef.h>
#include <stdint.h>

#define MFILES_MAX_FILES	4096		/* files in one model */
#define MFILES_MAX_DEPTH	16		/* directory levels */
#define MFILES_NAME_MAX		1024		/* relative name, bytes */
#define MFILES_FILE_MAX		(64ULL << 30)	/* one file */

struct mfile {
	char		*mf_name;	/* relative name */
	const uint8_t	*mf_data;	/* read-only; NULL when mf_len is 0 */
	size_t		 mf_len;
	int		 mf_via_link;	/* reached through a symbolic link */
	int		 mf_verified;	/* covered by a verified signature */
};

struct mfiles;

/*
 * Opens the model directory dir (symbolic links in the path are followed,
 * here only).  *out is new; free with mfiles_close().  Returns 0 or an
 * AG_ERR_* code with a message naming dir.
 */
int	mfiles_open(const char *dir, struct mfiles **out, char *err,
	    size_t errlen);
void	mfiles_close(struct mfiles *mf);

/* The path given to mfiles_open(). */
const char *mfiles_path(const struct mfiles *mf);

/*
 * Reads the file name (relative) once and returns it; later calls return
 * the same struct and bytes.  A symbolic link anywhere in name is refused
 * (AG_ERR_UNEXPECTED) unless allow_links, and then it must lead to a
 * regular file inside or outside the directory.  AG_ERR_NOT_FOUND when
 * the file does not exist.  Errors name the file.
 */
int	mfiles_read(struct mfiles *mf, const char *name, int allow_links,
	    const struct mfile **out, char *err, size_t errlen);

/*
 * Lists the files below the directory, sorted by name (strcmp), skipping
 * every name equal to one of ignore[0..nignore) or below such a directory
 * (ignore entries are relative names too).  Directories themselves are
 * not listed; empty ones vanish.  A symbolic link is an error
 * (AG_ERR_UNEXPECTED, naming it) unless allow_links, and then it must
 * lead to a regular file.  A special file is an error.  *names is a new
 * array of new strings: free with mfiles_names_free().
 */
int	mfiles_walk(struct mfiles *mf, const char *const *ignore,
	    size_t nignore, int allow_links, char ***names, size_t *n,
	    char *err, size_t errlen);
void	mfiles_names_free(char **names, size_t n);

/*
 * The signature check's marks: mfiles_set_verified() marks a file already
 * read (AG_ERR_NOT_FOUND when it was not); mfiles_clear_verified() clears
 * every mark (a new check begins).
 */
int	mfiles_set_verified(struct mfiles *mf, const char *name);
void	mfiles_clear_verified(struct mfiles *mf);

/*
 * The files read so far, sorted by name: mfiles_count() of them, the i-th
 * by mfiles_at() (NULL past the end).  After msig_verify() these are the
 * covered files (mf_verified) and model.sig, with the bytes that were
 * hashed: what a copy of the model should take (aiguard deploy).
 */
size_t	mfiles_count(const struct mfiles *mf);
const struct mfile *mfiles_at(const struct mfiles *mf, size_t i);

/*
 * 1 when name is a relative name as described above (no leading '/', no
 * empty, "." or ".." component, within MFILES_NAME_MAX and
 * MFILES_MAX_DEPTH), else 0.  The signature code checks signed names
 * with it before using them.
 */
int	mfiles_name_valid(const char *name);

#endif /* AG_MFILES_H */
