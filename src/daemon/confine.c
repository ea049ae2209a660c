/* SPDX-License-Identifier: ISC */
/*
 * confine.c: the sandbox settings of each aiguardd role, from the
 * configuration, and the layers' report for logs and metrics.
 */
#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ag_err.h"
#include "common/config.h"
#include "common/log.h"
#include "http/limits.h"
#include "model/store.h"
#include "sandbox/sandbox.h"
#include "daemon.h"

/* The user and group, looked up once by the parent (see sandbox.h). */
static struct sandbox_conf daemon_ids;
/* Links followed looking for a store's current, as the kernel's limit. */
#define DAEMON_MAX_HOPS	40

/* What the worker's Landlock rule covers (daemon_model_root()). */
static char daemon_root[PATH_MAX];

/* The parent's extra read-only directories (the front door's files). */
static char daemon_fd_dir[SB_PARENT_RO_MAX][PATH_MAX];
static const char *daemon_fd_dirs[SB_PARENT_RO_MAX + 1];

/*
 * 1 when the symbolic link path is a store's NAME/current: named
 * STORE_CURRENT and pointing to a plain version number ("7", relative,
 * no '/'), as store.c makes it.
 */
static int
daemon_is_store_current(const char *path)
{
	const char *base = strrchr(path, '/');
	char target[32];
	ssize_t n, i;

	base = base != NULL ? base + 1 : path;
	if (strcmp(base, STORE_CURRENT) != 0)
		return 0;
	if ((n = readlink(path, target, sizeof(target) - 1)) <= 0 || n > 9)
		return 0;
	if (target[0] < '1' || target[0] > '9')
		return 0;
	for (i = 1; i < n; i++)
		if (target[i] < '0' || target[i] > '9')
			return 0;
	return 1;
}

/*
 * Follows the symbolic link path one step: its target, made relative to
 * the link's directory when it is relative.  Returns 0, or -1.
 */
static int
daemon_follow(char *path, size_t len)
{
	char target[PATH_MAX], next[PATH_MAX];
	const char *slash;
	ssize_t n;
	int r;

	if ((n = readlink(path, target, sizeof(target) - 1)) <= 0)
		return -1;
	target[n] = '\0';
	if (target[0] == '/' || (slash = strrchr(path, '/')) == NULL)
		r = snprintf(next, sizeof(next), "%s", target);
	else	/* the link's directory, its '/' included */
		r = snprintf(next, sizeof(next), "%.*s%s",
		    (int)(slash - path + 1), path, target);
	if (r < 0 || (size_t)r >= sizeof(next) || (size_t)r >= len)
		return -1;
	memcpy(path, next, (size_t)r + 1);
	return 0;
}

int
daemon_model_root(const char *model_dir, char *buf, size_t len)
{
	char orig[PATH_MAX], path[PATH_MAX], real[PATH_MAX];
	struct stat st;
	size_t n;
	char *slash;
	int hops;

	if ((size_t)snprintf(orig, sizeof(orig), "%s", model_dir) >=
	    sizeof(orig))
		return AG_ERR_TOO_LARGE;
	for (n = strlen(orig); n > 1 && orig[n - 1] == '/'; n--)
		orig[n - 1] = '\0';
	memcpy(path, orig, n + 1);
	/*
	 * A store's NAME/current, or a link to one (/etc/aiguard/model ->
	 * STORE/NAME/current): the versions are its siblings, and a reload
	 * follows the link to whichever is current then, so the rule covers
	 * NAME/.  Any other link is followed now, once: the rule covers its
	 * target only, never the directory the link sits in (a link
	 * /etc/aiguard/model must not open /etc/aiguard/keys).
	 */
	for (hops = 0; hops < DAEMON_MAX_HOPS; hops++) {
		if (lstat(path, &st) != 0 || !S_ISLNK(st.st_mode))
			break;
		if (daemon_is_store_current(path)) {
			if ((slash = strrchr(path, '/')) == NULL)
				(void)snprintf(path, sizeof(path), ".");
			else if (slash == path)
				path[1] = '\0';
			else
				*slash = '\0';
			break;
		}
		if (daemon_follow(path, sizeof(path)) != 0)
			break;
	}
	/*
	 * Every link on the way resolved: the rule names what is read.  A
	 * path that does not resolve stays as given.
	 */
	if (realpath(path, real) == NULL)
		memcpy(real, orig, n + 1);
	if ((size_t)snprintf(buf, len, "%s", real) >= len)
		return AG_ERR_TOO_LARGE;
	return 0;
}

int
daemon_sandbox_model(const struct ag_config *cf, char *err, size_t errlen)
{
	if (daemon_model_root(cf->cf_model_dir, daemon_root,
	    sizeof(daemon_root)) != 0)
		return ag_errf(err, errlen, AG_ERR_TOO_LARGE,
		    "model directory path too long");
	return 0;
}

/*
 * The directories of the token file and the TLS files, resolved, each
 * once: the parent reads them again on SIGHUP, under its sandbox.
 */
static int
daemon_frontdoor_dirs(const struct ag_config *cf, char *err, size_t errlen)
{
	const char *paths[4];
	char dir[PATH_MAX], real[PATH_MAX], *slash;
	int i, j, n = 0;

	paths[0] = cf->cf_tokens;
	paths[1] = cf->cf_tls_cert;
	paths[2] = cf->cf_tls_key;
	paths[3] = cf->cf_tls_client_ca;
	memset(daemon_fd_dirs, 0, sizeof(daemon_fd_dirs));
	for (i = 0; i < 4; i++) {
		if (paths[i][0] == '\0')
			continue;
		if ((size_t)snprintf(dir, sizeof(dir), "%s", paths[i]) >=
		    sizeof(dir))
			return ag_errf(err, errlen, AG_ERR_TOO_LARGE,
			    "%s: path too long", paths[i]);
		if ((slash = strrchr(dir, '/')) == NULL)
			(void)snprintf(dir, sizeof(dir), ".");
		else if (slash == dir)
			dir[1] = '\0';
		else
			*slash = '\0';
		if (realpath(dir, real) == NULL)
			return ag_errf(err, errlen, AG_ERR_NOT_FOUND,
			    "%s: directory does not resolve", paths[i]);
		for (j = 0; j < n; j++)
			if (strcmp(daemon_fd_dir[j], real) == 0)
				break;
		if (j < n)
			continue;
		memcpy(daemon_fd_dir[n], real, strlen(real) + 1);
		daemon_fd_dirs[n] = daemon_fd_dir[n];
		n++;
	}
	return 0;
}

int
daemon_sandbox_resolve(const struct ag_config *cf, char *err, size_t errlen)
{
	if (daemon_frontdoor_dirs(cf, err, errlen) != 0)
		return AG_ERR_NOT_FOUND;
	memset(&daemon_ids, 0, sizeof(daemon_ids));
	daemon_ids.sb_user = cf->cf_sandbox_user;
	daemon_ids.sb_group = cf->cf_sandbox_group;
	if (daemon_sandbox_model(cf, err, errlen) != 0)
		return AG_ERR_TOO_LARGE;
	return sandbox_resolve_ids(&daemon_ids, err, errlen);
}

void
daemon_sandbox_conf(const struct ag_config *cf, enum sandbox_role role,
    struct sandbox_conf *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->sb_ids_set = daemon_ids.sb_ids_set;
	sc->sb_uid = daemon_ids.sb_uid;
	sc->sb_gid = daemon_ids.sb_gid;
	sc->sb_mode = (enum sandbox_mode)cf->cf_sandbox_mode;
	sc->sb_role = role;
	sc->sb_user = cf->cf_sandbox_user;
	sc->sb_group = cf->cf_sandbox_group;
	/* Only the worker (and the parent that forks it) reads the model. */
	sc->sb_model_dir = role == SANDBOX_FRONT ? NULL : daemon_root[0] ?
	    daemon_root : cf->cf_model_dir;
	sc->sb_seccomp_dev = cf->cf_sandbox_seccomp_dev;
	switch (role) {
	case SANDBOX_PARENT:
		sc->sb_parent_ro = daemon_fd_dirs;
		/* A ceiling its children inherit: as high as the front's. */
		sc->sb_max_files = limits_front_files(cf->cf_max_connections,
		    cf->cf_http_threads);
		break;
	case SANDBOX_FRONT:
		/*
		 * Connections (libmicrohttpd's backstop limit, above ours),
		 * the listening socket, epoll, the links.
		 */
		sc->sb_max_files = limits_front_files(cf->cf_max_connections,
		    cf->cf_http_threads);
		sc->sb_max_memory = cf->cf_sandbox_max_memory;
		break;
	case SANDBOX_WORKER:
		sc->sb_max_files = 64;
		sc->sb_max_memory = cf->cf_sandbox_max_memory;
		break;
	}
}

void
daemon_sandbox_log(const struct sandbox_conf *sc,
    const struct sandbox_state *ss)
{
	char on[160], off[160];

	sandbox_layers_format(ss->ss_active, on, sizeof(on));
	sandbox_layers_format(ss->ss_missing & ~ss->ss_active, off,
	    sizeof(off));
	log_event(sc->sb_mode == SANDBOX_OFF || ss->ss_missing ?
	    LOG_LVL_WARN : LOG_LVL_INFO, "event=sandbox mode=%s active=%s "
	    "missing=%s landlock_abi=%d", sandbox_mode_name(sc->sb_mode), on,
	    off, ss->ss_landlock_abi);
}
