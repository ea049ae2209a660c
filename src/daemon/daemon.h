/* SPDX-License-Identifier: ISC */
/*
 * daemon.h: aiguardd's three process roles.
 *
 *   parent   main.c    supervises: starts the front and the worker, restarts
 *                      them with backoff, forwards SIGHUP (reload) to the
 *                      worker, orders the shutdown on SIGTERM
 *   front    front.c   the listening socket, HTTP, JSON, image decoding;
 *                      never opens model files, never maps the weights
 *   worker   worker.c  the model and the engine, dynamic batching; never
 *                      holds a network socket
 */
#ifndef AG_DAEMON_H
#define AG_DAEMON_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "model/locate.h"
#include "sandbox/sandbox.h"

struct ag_config;
struct msig_trust;

/* Exit status of a worker whose model failed to load. */
#define WORKER_EXIT_MODEL	3
/* Exit status of a front that could not listen. */
#define FRONT_EXIT_LISTEN	4

/* Exit status of a process whose sandbox could not be applied. */
#define EXIT_SANDBOX		5

/*
 * What the parent resolves once, before it forks or confines anything,
 * and hands down to each role: the configuration, where the model is
 * (model/locate.h: the one reading of model.dir), the sandbox user's ids
 * and the directories of the front door's files.  Read-only after
 * daemon_resolve(); the children inherit it.
 */
struct daemon_ctx {
	const struct ag_config	*dc_cf;
	struct model_loc	 dc_model;
	struct sandbox_conf	 dc_ids;	/* sb_uid, sb_gid, sb_ids_set */
	char			 dc_fd_dir[SB_PARENT_RO_MAX][PATH_MAX];
	const char		*dc_fd_dirs[SB_PARENT_RO_MAX + 1];
};

/*
 * Fills dc, in two steps: daemon_resolve_model() sets dc_cf to cf and
 * locates the model (all that tests need); daemon_resolve_sandbox() then
 * resolves the directories of the front door's files and looks up
 * sandbox.user and sandbox.group.  0, or an AG_ERR_* code with err saying
 * what.
 */
int	daemon_resolve_model(const struct ag_config *cf, struct daemon_ctx *dc,
	    char *err, size_t errlen);
int	daemon_resolve_sandbox(struct daemon_ctx *dc, char *err,
	    size_t errlen);
/* The sandbox settings of a role (confine.c). */
void	daemon_sandbox_conf(const struct daemon_ctx *dc, enum sandbox_role role,
	    struct sandbox_conf *sc);

/*
 * The worker: serves requests from sock until EOF or SIGTERM.  ready is
 * its link to the parent, closed after one message: "R" once the worker
 * is ready (model loaded, sandbox locked, HELLO sent), or "E" and the
 * reason when its model does not load; -1: none (tests).
 */
int	worker_main(const struct daemon_ctx *dc, int sock, int ready);

/*
 * The front: serves HTTP on the listening socket lfd; ctl is its link to
 * the parent, which sends each new worker's socket over it.  Returns the
 * exit status.
 */
int	front_main(const struct daemon_ctx *dc, int ctl, int lfd);

/*
 * The trust anchor of the model signatures (trust.c), read once by the
 * parent before it confines itself; the worker inherits it.  From
 * model.verify_key or model.verify_ca, else the build tree's key, else
 * none when model.allow_unsigned, else an error.  Logs what it decided.
 */
int	daemon_trust_setup(const struct ag_config *cf, char *err,
	    size_t errlen);
/* The anchor; NULL when models are loaded unchecked. */
const struct msig_trust *daemon_trust(void);

/* One log line: the mode, the layers in force and those missing. */
void	daemon_sandbox_log(const struct sandbox_conf *sc,
	    const struct sandbox_state *ss);

/*
 * The front door's files (frontdoor.c): the token file and the TLS
 * certificate chain, key and client CA, as the parent last read them
 * (checked whole), to be handed to the front.
 */
struct ipc_ctl_frontdoor;
struct token_set;
struct tls_creds;
struct frontdoor {
	uint32_t	 fd_generation;		/* 0: never loaded */
	uint32_t	 fd_flags;		/* IPC_FD_* */
	uint8_t		*fd_buf;		/* the four files, back to back */
	size_t		 fd_len;
	uint32_t	 fd_part[4];		/* tokens, cert, key, CA */
	size_t		 fd_ntokens;
	char		 fd_tls_desc[256];	/* for the log */
};
/*
 * Reads and checks the files cf names into fd (all or nothing: on an
 * error fd is unchanged and err names the file and the fault).
 */
int	frontdoor_load(const struct ag_config *cf, struct frontdoor *fd,
	    char *err, size_t errlen);
void	frontdoor_clear(struct frontdoor *fd);
/* Sends fd to the front over ctl (a memfd and IPC_CTL_FRONTDOOR). */
int	frontdoor_send(const struct frontdoor *fd, int ctl, char *err,
	    size_t errlen);
/*
 * In the front: the files of message m (memfd mfd) parsed: *tsp (NULL
 * without a token file) and *tcp (NULL without TLS).  0, or an error with
 * nothing returned.
 */
int	frontdoor_receive(const struct ag_config *cf,
	    const struct ipc_ctl_frontdoor *m, int mfd, struct token_set **tsp,
	    struct tls_creds **tcp, char *err, size_t errlen);

#endif /* AG_DAEMON_H */
