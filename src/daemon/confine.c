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
#include "sandbox/sandbox.h"
#include "daemon.h"

int
daemon_resolve_model(const struct ag_config *cf, struct daemon_ctx *dc,
    char *err, size_t errlen)
{
	memset(dc, 0, sizeof(*dc));
	dc->dc_cf = cf;
	/*
	 * A repository: the parent's sandbox covers all of it (it scans it,
	 * and its workers' rules lie inside its own); each worker's model
	 * is located, one version, when it starts.
	 */
	if (cf->cf_repository[0] != '\0')
		return model_locate(cf->cf_repository, &dc->dc_model, err,
		    errlen);
	return model_locate(cf->cf_model_dir, &dc->dc_model, err, errlen);
}

/*
 * The directories of the token file and the TLS files, resolved, each
 * once: the parent reads them again on SIGHUP, under its sandbox.
 */
static int
daemon_frontdoor_dirs(const struct ag_config *cf, struct daemon_ctx *dc,
    char *err, size_t errlen)
{
	const char *paths[4];
	char dir[PATH_MAX], real[PATH_MAX], *slash;
	int i, j, n = 0;

	paths[0] = cf->cf_tokens;
	paths[1] = cf->cf_tls_cert;
	paths[2] = cf->cf_tls_key;
	paths[3] = cf->cf_tls_client_ca;
	memset(dc->dc_fd_dirs, 0, sizeof(dc->dc_fd_dirs));
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
			if (strcmp(dc->dc_fd_dir[j], real) == 0)
				break;
		if (j < n)
			continue;
		memcpy(dc->dc_fd_dir[n], real, strlen(real) + 1);
		dc->dc_fd_dirs[n] = dc->dc_fd_dir[n];
		n++;
	}
	return 0;
}

int
daemon_resolve_sandbox(struct daemon_ctx *dc, char *err, size_t errlen)
{
	const struct ag_config *cf = dc->dc_cf;

	if (daemon_frontdoor_dirs(cf, dc, err, errlen) != 0)
		return AG_ERR_NOT_FOUND;
	dc->dc_ids.sb_user = cf->cf_sandbox_user;
	dc->dc_ids.sb_group = cf->cf_sandbox_group;
	return sandbox_resolve_ids(&dc->dc_ids, err, errlen);
}

void
daemon_sandbox_conf(const struct daemon_ctx *dc, enum sandbox_role role,
    struct sandbox_conf *sc)
{
	const struct ag_config *cf = dc->dc_cf;

	memset(sc, 0, sizeof(*sc));
	sc->sb_ids_set = dc->dc_ids.sb_ids_set;
	sc->sb_uid = dc->dc_ids.sb_uid;
	sc->sb_gid = dc->dc_ids.sb_gid;
	sc->sb_mode = (enum sandbox_mode)cf->cf_sandbox_mode;
	sc->sb_role = role;
	sc->sb_user = cf->cf_sandbox_user;
	sc->sb_group = cf->cf_sandbox_group;
	/* Only the worker (and the parent that forks it) reads the model. */
	sc->sb_model_dir = role == SANDBOX_FRONT ? NULL :
	    dc->dc_model.ml_root;
	sc->sb_seccomp_dev = cf->cf_sandbox_seccomp_dev;
	switch (role) {
	case SANDBOX_PARENT:
		sc->sb_parent_ro = dc->dc_fd_dirs;
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
