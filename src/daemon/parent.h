/* SPDX-License-Identifier: ISC */
/*
 * parent.h: aiguardd's parent process, for src/daemon only.
 *
 *   main.c        the command line, --check-config, the start-up: the
 *                 configuration, the listening socket, the trust anchor,
 *                 the front door's files, the parent's own sandbox
 *   supervise.c   the children: forks the front and the workers, reaps
 *                 and restarts them with backoff, signals (SIGHUP reload,
 *                 SIGTERM stop), the front's requests (CTL_REQUEST)
 *   repository.c  model.repository: which worker serves which version of
 *                 which model, the scan applied, deploys (a new version
 *                 replaces the old once ready), retirement, the index
 *                 and model control, as the front is told (ipc.h)
 *
 * The parent holds no model, no socket to the network and no client data:
 * it forks, waits, signals, reads the front door's files and lists the
 * repository.
 */
#ifndef AG_DAEMON_PARENT_H
#define AG_DAEMON_PARENT_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "model/mdesc.h"
#include "model/repo.h"
#include "daemon.h"
#include "ipc.h"


struct child {
	pid_t		 ch_pid;	/* 0: not running */
	double		 ch_started;
	double		 ch_restart_at;	/* 0: no restart due */
	int		 ch_backoff_ms;
	unsigned	 ch_starts;
	/* A worker only: */
	int		 ch_ready_fd;	/* our end of its ready link, -1 */
	int		 ch_ready;	/* it said it is ready */
	int		 ch_ordered;	/* we told it to stop */
	char		 ch_why[IPC_TEXT_MAX];	/* its "E" message, or "" */
};

#define P_MAX_WORKERS		64	/* model versions at once */
#define P_MAX_REPLIES		16	/* loads waiting for their worker */

/*
 * One worker: model.dir's one (w_name ""), or one version of one model of
 * the repository.  Its id names it to the front across its restarts.
 */
struct wchild {
	struct child	 w_ch;
	uint32_t	 w_id;		/* 0: slot free */
	char		 w_name[MODEL_NAME_MAX];
	unsigned int	 w_version;	/* 0: model.dir's */
	uint32_t	 w_seq;		/* default sequence (ipc.h) */
	int		 w_retired;	/* the front drains and closes it */
	int		 w_unwanted;	/* not in its model's selection now */
	unsigned	 w_start_failures; /* in a row, before ready */
};

/* A model of the repository, as the parent last scanned it. */
struct pmodel {
	char		 pm_name[MODEL_NAME_MAX];
	int		 pm_present;	/* in the last scan */
	int		 pm_loaded;	/* to be served (control) */
	char		 pm_why[160];	/* why not (all) served, or "" */
};

/* A load the front asked for, answered once its worker is ready. */
struct preply {
	uint64_t	 pr_id;		/* 0: unused */
	char		 pr_name[MODEL_NAME_MAX];
};

struct parent {
	const struct ag_config	*p_cf;
	const struct daemon_ctx	*p_dc;		/* resolved once */
	int			 p_sigfd;
	int			 p_ctl;		/* our end of the front link */
	int			 p_lfd;		/* the listening socket */
	struct child		 p_front;
	struct wchild		 p_wk[P_MAX_WORKERS];
	uint32_t		 p_next_id;
	uint32_t		 p_seq;		/* default sequences given */
	int			 p_repo;	/* model.repository */
	struct pmodel		 p_models[REPO_MODELS_MAX];
	size_t			 p_nmodels;
	struct preply		 p_replies[P_MAX_REPLIES];
	int			 p_stopping;
	double			 p_stop_deadline;
	int			 p_status;
	unsigned		 p_load_failures;
	unsigned		 p_start_failures;	/* in a row */
	struct frontdoor	 p_fd;		/* tokens, TLS: the last good */
};

/* supervise.c */
/*
 * Forks the front and the workers and supervises them until SIGTERM or
 * SIGINT (or a fatal condition); returns the exit status.
 */
int	supervise(struct parent *p);
/* Starts worker w (its slot filled) and hands its link to the front. */
void	parent_spawn_worker(struct parent *p, struct wchild *w);
/* A free slot for name's version v (name "": model.dir's), or NULL. */
struct wchild *parent_worker_new(struct parent *p, const char *name,
	    unsigned int v, uint32_t seq);
void	parent_worker_free(struct wchild *w);
void	parent_begin_stop(struct parent *p, const char *why);

/* repository.c */
/*
 * Scans the repository and applies it (every model, or only that one):
 * 0, or the scan's error in err, nothing changed.
 */
int	parent_repo_reload(struct parent *p, const char *only, char *err,
	    size_t errlen);
/* The repository as the parent sees it, sent to the front (CTL_INDEX). */
void	parent_index_send(struct parent *p);
/* A load or unload the front asked for (model.control = explicit). */
void	parent_control(struct parent *p, const struct ipc_ctl_request *rq);
struct pmodel *parent_model_find(struct parent *p, const char *name);
struct pmodel *parent_model_add(struct parent *p, const char *name);
/* The worker /v2/models/NAME reaches now, or NULL. */
struct wchild *parent_model_default(struct parent *p, const char *name);
/* Once name's default is ready: its unwanted versions retire. */
void	parent_model_settle(struct parent *p, const char *name);
/* A worker of the repository that will not serve (did not load). */
void	parent_worker_failed(struct parent *p, struct wchild *w,
	    const char *why);

#endif /* AG_DAEMON_PARENT_H */
