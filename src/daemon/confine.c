/* SPDX-License-Identifier: ISC */
/*
 * confine.c: the sandbox settings of each aiguardd role, from the
 * configuration, and the layers' report for logs and metrics.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <string.h>

#include "common/ag_err.h"
#include "common/config.h"
#include "common/log.h"
#include "http/limits.h"
#include "sandbox/sandbox.h"
#include "daemon.h"

/* The user and group, looked up once by the parent (see sandbox.h). */
static struct sandbox_conf daemon_ids;
/* What the worker's Landlock rule covers (daemon_model_root()). */
static char daemon_root[4096];

int
daemon_model_root(const char *model_dir, char *buf, size_t len)
{
	struct stat st;
	size_t n;
	char *slash;

	if ((size_t)snprintf(buf, len, "%s", model_dir) >= len)
		return AG_ERR_TOO_LARGE;
	for (n = strlen(buf); n > 1 && buf[n - 1] == '/'; n--)
		buf[n - 1] = '\0';
	if (lstat(buf, &st) != 0 || !S_ISLNK(st.st_mode))
		return 0;
	/* A store's NAME/current: the versions are its siblings. */
	if ((slash = strrchr(buf, '/')) == NULL)
		(void)snprintf(buf, len, ".");
	else if (slash == buf)
		buf[1] = '\0';
	else
		*slash = '\0';
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

int
daemon_sandbox_resolve(const struct ag_config *cf, char *err, size_t errlen)
{
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
