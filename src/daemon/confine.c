/* SPDX-License-Identifier: ISC */
/*
 * confine.c: the sandbox settings of each aiguardd role, from the
 * configuration, and the layers' report for logs and metrics.
 */
#include <string.h>

#include "common/config.h"
#include "common/log.h"
#include "sandbox/sandbox.h"
#include "daemon.h"

/* The user and group, looked up once by the parent (see sandbox.h). */
static struct sandbox_conf daemon_ids;

int
daemon_sandbox_resolve(const struct ag_config *cf, char *err, size_t errlen)
{
	memset(&daemon_ids, 0, sizeof(daemon_ids));
	daemon_ids.sb_user = cf->cf_sandbox_user;
	daemon_ids.sb_group = cf->cf_sandbox_group;
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
	sc->sb_model_dir = role == SANDBOX_FRONT ? NULL : cf->cf_model_dir;
	sc->sb_seccomp_dev = cf->cf_sandbox_seccomp_dev;
	switch (role) {
	case SANDBOX_PARENT:
		/* A ceiling its children inherit: as high as the front's. */
		sc->sb_max_files = (uint64_t)cf->cf_max_connections + 64;
		break;
	case SANDBOX_FRONT:
		/* Connections, the listening socket, epoll, the links. */
		sc->sb_max_files = (uint64_t)cf->cf_max_connections + 64;
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
