/* SPDX-License-Identifier: ISC */
/*
 * probe.h: the contract between the two halves of `aiguard probe`, for
 * src/cli only.
 *
 *   probe_attacks.c  the attack table (attempts[]): each attempt as code
 *                    and as a line of description, its scenario, its
 *                    kind per role, what DAC alone allows of it, and the
 *                    sandbox layers that claim to block it by themselves.
 *                    It never forks, confines or reports.
 *   probe.c          the command: options, the configuration, the
 *                    scratch copy and the targets in `pe`, one confined
 *                    child per role and attempt, the verdict and the
 *                    table or JSON output.
 *
 * How an attempt reports: a child confined as a role calls pa_fn(ev,
 * evlen) once.  The function writes one line of evidence into ev (what
 * was refused, with its errno name, or what was done) and returns an
 * enum probe_result.  It may also not return: a child that exec'd a shell
 * exits PROBE_EXEC_STATUS (ALLOWED), one killed by SIGSYS was stopped by
 * seccomp (BLOCKED); probe.c tells these apart from the child's status.
 */
#ifndef AG_CLI_PROBE_H
#define AG_CLI_PROBE_H

#include <sys/types.h>

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "sandbox/sandbox.h"

#if defined(__SANITIZE_ADDRESS__)
#define PROBE_SANITIZER	1
#else
#define PROBE_SANITIZER	0
#endif

#define PROBE_EXEC_STATUS	42	/* what an exec'd shell exits with */
#define PROBE_PATH_MAX		512	/* paths under the scratch dir */
/* The rows of attempts[] (probe_attacks.c asserts it). */
#define PROBE_NATTEMPTS		42
/* The layers that claim attacks (see "The claims" in probe_attacks.c). */
#define PROBE_CLAIMING	(SB_LANDLOCK | SB_SECCOMP | SB_MDWE | SB_RLIMITS)

enum probe_result { R_BLOCKED, R_ALLOWED, R_SKIPPED, R_ERROR };
enum probe_kind { K_NONE, K_ATTACK, K_CONTROL, K_INFO };

struct probe_attempt {
	const char	*pa_scenario;
	const char	*pa_name;
	int		 pa_front, pa_worker;	/* K_* per role */
	int		(*pa_fn)(char *, size_t);
	int		(*pa_dac)(void);	/* allowed by DAC alone */
	const char	*(*pa_skip)(void);	/* why not run, or NULL */
	/*
	 * The layers (SB_*) that claim to block this attack by themselves,
	 * front and worker (see "The claims" above the table); of those,
	 * the ones whose claim holds only in a child without root
	 * privileges (RLIMIT_NPROC).
	 */
	uint32_t	 pa_claim_front, pa_claim_worker;
	uint32_t	 pa_unpriv;
};

/*
 * What model B's worker writes at the start of its tensor slots, for the
 * attempts that read them to recognise.
 */
#define PROBE_B_SLOTS		"aiguard-probe: model B's tensor slots"

/*
 * Everything the attempts aim at, set up by the unconfined probe.  The
 * scratch directory holds a store of two models, as aiguardd's repository
 * does (STORE/NAME/VERSION): store/A/1, the copy of the model that the
 * worker under test serves (model A), and store/B/1, another model's
 * version directory.  Model B's worker is a sibling process, confined by
 * the same code as a worker of B, that holds its tensor slots in a sealed
 * memfd as aiguardd's worker does.
 */
struct probe_env {
	char	scratch[64];
	char	model[128];		/* scratch/store/A/1: the worker's dir */
	char	moved[PROBE_PATH_MAX];	/* scratch/model-moved */
	char	weights[PROBE_PATH_MAX];
	char	labels[PROBE_PATH_MAX];
	char	cfgfile[PROBE_PATH_MAX];
	char	planted[PROBE_PATH_MAX];	/* scratch/planted-weights */
	char	secret[PROBE_PATH_MAX];	/* scratch/secret, 0600 */
	char	ssh[PATH_MAX + 64];		/* ~/.ssh or a fake key */
	int	ssh_is_dir;
	char	lib[PROBE_PATH_MAX];		/* a copy of libm */
	char	tmp_link[PROBE_PATH_MAX];	/* /tmp/aiguard-probe-PID-link */
	char	tmp_copy[PROBE_PATH_MAX];
	char	www_dir[128];	/* /var/www or scratch/var-www */
	char	www_copy[PROBE_PATH_MAX];
	char	proc_mem[64];
	char	unix_name[64];		/* abstract: leading NUL */
	size_t	unix_len;
	int	tcp_fd, unix_fd;
	int	tcp_port;
	pid_t	sibling;
	char	b_dir[128];			/* scratch/store/B/1 */
	char	b_weights[PROBE_PATH_MAX];	/* b_dir/model.safetensors */
	char	b_planted[PROBE_PATH_MAX];	/* b_dir/planted */
	pid_t	b_pid;			/* model B's worker */
	int	b_shm_fd;		/* its memfd, a descriptor of b_pid */
	uint64_t b_shm_addr;		/* where b_pid maps it */
	char	b_shm_path[64];		/* /proc/B_PID/fd/B_SHM_FD */
	uint64_t max_memory;
	char	sig[8192];		/* the model copy, as last restored */
};

/* probe.c fills it before the first child; the attempts only read it. */
extern struct probe_env pe;

/* probe_attacks.c: the table, in the order the probe runs it. */
extern const struct probe_attempt attempts[];

int	probe_check_table(void);

#endif /* AG_CLI_PROBE_H */
