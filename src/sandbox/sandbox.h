/* SPDX-License-Identifier: ISC */
/*
 * sandbox.h: each aiguardd process confines itself, in two steps.
 *
 * sandbox_enter(), before the process creates any thread (Landlock binds
 * only the calling thread and the threads created after it):
 *   1. drop to the configured user and group when running as root
 *      (setgroups, setresgid, setresuid), and drop every capability;
 *   2. no_new_privs;
 *   3. PR_SET_MDWE: no memory both writable and executable, ever;
 *   4. rlimits: RLIMIT_CORE 0, RLIMIT_NOFILE, RLIMIT_AS;
 *   5. Landlock: the worker reads its model directory and nothing else on
 *      disk; the front touches nothing on disk; nobody binds or connects
 *      TCP (the parent binds the listening socket before any of this);
 *      signals and abstract UNIX sockets scoped to the sandbox.
 * sandbox_lock(), once the process has its threads:
 *   6. RLIMIT_NPROC 0 for the front and the worker (no new process);
 *   7. seccomp, the role's allowlist, on every thread (TSYNC).
 *
 * Modes: SANDBOX_REQUIRED refuses (an error) when any layer cannot be
 * applied in full; SANDBOX_BEST_EFFORT applies what the kernel offers and
 * logs loudly what is missing; SANDBOX_OFF applies nothing and says so at
 * every start (experiments, development).
 *
 * Layers alone (sb_only): a test and experiment knob, used by `aiguard
 * probe --layers` to show that each layer blocks by itself what it claims
 * to block.  It is not a configuration setting: aiguardd always leaves it
 * 0, which means every layer.  A reduced set is logged loudly by
 * sandbox_enter(), never applied silently.
 */
#ifndef AG_SANDBOX_H
#define AG_SANDBOX_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

enum sandbox_mode {
	SANDBOX_OFF = 0,
	SANDBOX_BEST_EFFORT = 1,
	SANDBOX_REQUIRED = 2,
};

enum sandbox_role {
	SANDBOX_PARENT,
	SANDBOX_FRONT,
	SANDBOX_WORKER,
};

/* Layers, as bits of sandbox_state.ss_active. */
#define SB_PRIVDROP	0x0001	/* running as the configured user */
#define SB_CAPS		0x0002	/* no capabilities */
#define SB_NNP		0x0004	/* no_new_privs */
#define SB_MDWE		0x0008	/* PR_SET_MDWE */
#define SB_RLIMITS	0x0010	/* core, files, memory, processes */
#define SB_LANDLOCK	0x0020	/* files, TCP, scopes */
#define SB_SECCOMP	0x0040	/* the role's syscall allowlist */
#define SB_ALL		0x007f

/*
 * Prerequisites: Landlock's restrict_self(2) needs no_new_privs (or
 * CAP_SYS_ADMIN), and seccomp_apply() sets it too (a filter without it
 * needs CAP_SYS_ADMIN).  landlock_apply() and seccomp_apply() set it
 * themselves; asking for either layer alone brings SB_NNP with it, and
 * the state says so.
 */
#define SB_NNP_NEEDED_BY	(SB_LANDLOCK | SB_SECCOMP)

/* Directories in sandbox_conf.sb_parent_ro, at most. */
#define SB_PARENT_RO_MAX	4

struct sandbox_conf {
	enum sandbox_mode	 sb_mode;
	enum sandbox_role	 sb_role;
	const char		*sb_user;	/* "" or NULL: stay */
	const char		*sb_group;	/* "" or NULL: the user's */
	/*
	 * The user and group resolved already (sandbox_resolve_ids(), in a
	 * parent before it confines itself: its children cannot read
	 * /etc/passwd any more).
	 */
	int			 sb_ids_set;
	uid_t			 sb_uid;
	gid_t			 sb_gid;
	const char		*sb_model_dir;	/* read-only for the worker */
	/*
	 * The parent only: directories it reads again while confined (those
	 * of the token file and the TLS files, re-read on SIGHUP: a file
	 * replaced by a rename is a new file, so the rule covers its
	 * directory).  NULL-terminated; NULL: none.
	 */
	const char *const	*sb_parent_ro;	/* at most SB_PARENT_RO_MAX */
	uint64_t		 sb_max_memory;	/* RLIMIT_AS; 0: no limit */
	uint64_t		 sb_max_files;	/* RLIMIT_NOFILE */
	int			 sb_seccomp_dev; /* EPERM + log, not kill */
	/*
	 * 0 (what memset gives, and what aiguardd always uses): every layer.
	 * Otherwise only these SB_* bits, plus their prerequisites
	 * (sandbox_layers_closure()); tests and experiments only (see the
	 * top of this file).  Bits outside SB_ALL are an error.
	 */
	uint32_t		 sb_only;
};

struct sandbox_state {
	uint32_t	ss_active;	/* SB_* in force */
	uint32_t	ss_missing;	/* SB_* asked for, not in force */
	int		ss_landlock_abi;
};

/*
 * Looks up sc's user and group and stores their ids in sc (sb_ids_set).
 * 0 when there is no user to look up.
 */
int	sandbox_resolve_ids(struct sandbox_conf *sc, char *err, size_t errlen);

int	sandbox_enter(const struct sandbox_conf *sc, struct sandbox_state *ss,
	    char *err, size_t errlen);
int	sandbox_lock(const struct sandbox_conf *sc, struct sandbox_state *ss,
	    char *err, size_t errlen);

/* "landlock", "seccomp", ... for one SB_* bit. */
const char *sandbox_layer_name(uint32_t bit);
/* The layers of mask as "landlock,seccomp,...", or "none". */
void	sandbox_layers_format(uint32_t mask, char *buf, size_t len);
/*
 * The layers that sandbox_enter() and sandbox_lock() apply for sb_only:
 * SB_ALL for 0, else only & SB_ALL plus SB_NNP when a layer that needs it
 * is in (SB_NNP_NEEDED_BY).
 */
uint32_t sandbox_layers_closure(uint32_t only);
/*
 * Parses a comma-separated list of layer names ("landlock,seccomp") into
 * *mask: the names of sandbox_layer_name(), "nnp" for no_new_privs,
 * "caps" for capabilities, and "all".  Returns 0, or AG_ERR_INVALID_ARG
 * (an unknown or empty name; err says which) with *mask 0.
 */
int	sandbox_layers_parse(const char *list, uint32_t *mask, char *err,
	    size_t errlen);
/* "off", "best-effort", "required". */
const char *sandbox_mode_name(enum sandbox_mode mode);

#endif /* AG_SANDBOX_H */
