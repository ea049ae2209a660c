/* SPDX-License-Identifier: ISC */
/*
 * supervise.c: the parent's children (parent.h).
 *
 * It forks the front (HTTP) and the workers (model, engine) and
 * supervises them: a worker that dies is started again after a backoff
 * that doubles from restart_backoff_min_ms to _max_ms (reset once a
 * worker has lived a minute), and the front is handed the new worker's
 * socket; a front that dies takes the workers with it and all start
 * again.  Each worker says once, over a link of its own, that it is
 * ready; model.dir's worker dying max_start_failures times in a row before
 * that stops aiguardd (exit 1) with one fatal line, rather than a restart
 * loop (a repository's worker is left stopped instead: repository.c).
 * SIGHUP reloads: model.dir's worker in place, or the repository scanned
 * again; and the token file and the TLS files for the front
 * (frontdoor.c).  SIGTERM or SIGINT: the front stops accepting and
 * finishes what it has, then the workers stop, then the parent exits 0.
 */
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ag_err.h"
#include "common/config.h"
#include "common/log.h"
#include "common/util.h"
#include "model/locate.h"
#include "model/repo.h"
#include "model/store.h"
#include "daemon.h"
#include "ipc.h"
#include "parent.h"

#define STABLE_AFTER_S		60.0	/* a worker this old resets backoff */
#define STOP_GRACE_S		5.0	/* after request_timeout, SIGKILL */

/* In a child: forget the parent's signal handling. */
static void
child_reset(struct parent *p)
{
	sigset_t set;

	(void)close(p->p_sigfd);
	sigemptyset(&set);
	(void)sigprocmask(SIG_SETMASK, &set, NULL);
	signal(SIGCHLD, SIG_DFL);
}

/* In a child: the parent's descriptors it must not keep. */
static void
child_close_links(struct parent *p)
{
	size_t i;

	if (p->p_ctl != -1)
		(void)close(p->p_ctl);
	for (i = 0; i < P_MAX_WORKERS; i++)
		if (p->p_wk[i].w_ch.ch_ready_fd != -1)
			(void)close(p->p_wk[i].w_ch.ch_ready_fd);
}

/*
 * A socketpair and a fork: returns 0 in the child, which keeps sv[1]; the
 * parent gets the child's pid and keeps sv[0].
 */
static pid_t
spawn(struct parent *p, int sv[2])
{
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		fatal("socketpair");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid == 0) {
		(void)close(sv[0]);
		child_reset(p);
		return 0;
	}
	(void)close(sv[1]);
	return pid;
}

static void
child_started(struct child *ch, pid_t pid, const char *what)
{
	ch->ch_pid = pid;
	ch->ch_started = ag_now();
	ch->ch_starts++;
	log_debug("%s started pid=%ld", what, (long)pid);
}

static void
spawn_front(struct parent *p)
{
	int sv[2];
	pid_t pid;

	if ((pid = spawn(p, sv)) == 0) {
		child_close_links(p);
		_exit(front_main(p->p_dc, sv[1], p->p_lfd));
	}
	if (p->p_ctl != -1)
		(void)close(p->p_ctl);
	p->p_ctl = sv[0];
	child_started(&p->p_front, pid, "front");
	/* The front waits for its tokens and TLS files before it serves. */
	if (p->p_fd.fd_generation > 0) {
		char err[256];

		if (frontdoor_send(&p->p_fd, p->p_ctl, err, sizeof(err)) != 0)
			log_warnx("front door to the new front: %s", err);
	}
}

/* SIGHUP: the token file and the TLS files again, for the front. */
static void
frontdoor_reload(struct parent *p)
{
	char err[512];

	if (p->p_fd.fd_generation == 0)
		return;
	if (frontdoor_load(p->p_cf, &p->p_fd, err, sizeof(err)) != 0) {
		log_event(LOG_LVL_WARN, "event=frontdoor_reload result=failed "
		    "serving=old msg=\"%s\"", err);
		return;
	}
	log_event(LOG_LVL_INFO, "event=frontdoor_reload result=ok "
	    "generation=%u tokens=%zu tls=%s", p->p_fd.fd_generation,
	    p->p_fd.fd_ntokens, (p->p_fd.fd_flags & IPC_FD_TLS) ? "yes" :
	    "no");
	if (p->p_front.ch_pid > 0 && p->p_ctl != -1 &&
	    frontdoor_send(&p->p_fd, p->p_ctl, err, sizeof(err)) != 0)
		log_warnx("front door to the front: %s", err);
}

/*
 * In the worker's child: its configuration and its model.  A repository's
 * worker gets its model's settings ([model.NAME]) and its one version,
 * pinned: its sandbox covers that directory alone.
 */
static void
worker_child(struct parent *p, struct wchild *w, int sock, int ready)
{
	static struct ag_config wcf;
	static struct daemon_ctx wdc;
	struct config_model_settings ms;
	char err[512];

	if (w->w_name[0] == '\0')
		_exit(worker_main(p->p_dc, sock, ready));
	wcf = *p->p_cf;
	config_model_settings(p->p_cf, w->w_name, &ms);
	wcf.cf_max_batch = ms.ms_max_batch;
	wcf.cf_threads = ms.ms_threads;
	wcf.cf_queue_slots = ms.ms_queue_slots;
	wcf.cf_max_delay_us = ms.ms_max_delay_us;
	if (wcf.cf_max_request_batch > wcf.cf_queue_slots)
		wcf.cf_max_request_batch = wcf.cf_queue_slots;
	(void)snprintf(wcf.cf_model_name, sizeof(wcf.cf_model_name), "%s",
	    w->w_name);
	wdc = *p->p_dc;
	wdc.dc_cf = &wcf;
	if (model_locate_version(p->p_cf->cf_repository, w->w_name,
	    w->w_version, &wdc.dc_model, err, sizeof(err)) != 0) {
		char msg[IPC_TEXT_MAX];
		size_t len = strlen(err);

		/* As worker_main() says it: "E" and why, cut to fit. */
		if (len > sizeof(msg) - 2)
			len = sizeof(msg) - 2;
		msg[0] = 'E';
		memcpy(msg + 1, err, len);
		if (write(ready, msg, len + 1) == -1)
			_exit(WORKER_EXIT_MODEL);
		_exit(WORKER_EXIT_MODEL);
	}
	_exit(worker_main(&wdc, sock, ready));
}

void
parent_spawn_worker(struct parent *p, struct wchild *w)
{
	struct ipc_ctl_worker cw;
	int sv[2], rd[2];
	pid_t pid;
	char what[96];

	/* The ready link: non-blocking, read by the poll loop and reap(). */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0, rd) == -1)
		fatal("socketpair");
	if ((pid = spawn(p, sv)) == 0) {
		child_close_links(p);
		(void)close(p->p_lfd);	/* the worker holds no network socket */
		(void)close(rd[0]);
		worker_child(p, w, sv[1], rd[1]);
	}
	(void)close(rd[1]);
	w->w_ch.ch_ready_fd = rd[0];
	w->w_ch.ch_ready = 0;
	w->w_ch.ch_ordered = 0;
	w->w_ch.ch_why[0] = '\0';
	if (w->w_name[0] != '\0')
		(void)snprintf(what, sizeof(what), "worker %s/%u", w->w_name,
		    w->w_version);
	else
		(void)snprintf(what, sizeof(what), "worker");
	child_started(&w->w_ch, pid, what);
	memset(&cw, 0, sizeof(cw));
	ipc_hdr_init(&cw.cw_hdr, IPC_CTL_WORKER, sizeof(cw), 0);
	cw.cw_restarts = w->w_ch.ch_starts - 1;
	cw.cw_load_failures = p->p_load_failures;
	cw.cw_id = w->w_id;
	cw.cw_default_seq = w->w_seq;
	memcpy(cw.cw_name, w->w_name, sizeof(cw.cw_name));
	if (w->w_version > 0)
		(void)snprintf(cw.cw_version, sizeof(cw.cw_version), "%u",
		    w->w_version);
	if (ipc_send(p->p_ctl, &cw, sizeof(cw), sv[0]) != 0)
		log_warn("cannot hand the worker to the front");
	(void)close(sv[0]);
}

/* A new worker slot for name's version v (name "": model.dir's). */
struct wchild *
parent_worker_new(struct parent *p, const char *name, unsigned int v,
    uint32_t seq)
{
	struct wchild *w;
	size_t i;

	for (i = 0; i < P_MAX_WORKERS; i++)
		if (p->p_wk[i].w_id == 0)
			break;
	if (i == P_MAX_WORKERS) {
		log_warnx("model %s version %u not started: %d model "
		    "versions served already", name, v, P_MAX_WORKERS);
		return NULL;
	}
	w = &p->p_wk[i];
	memset(w, 0, sizeof(*w));
	w->w_ch.ch_ready_fd = -1;
	w->w_id = ++p->p_next_id;
	(void)snprintf(w->w_name, sizeof(w->w_name), "%s", name);
	w->w_version = v;
	w->w_seq = seq;
	return w;
}

void
parent_worker_free(struct wchild *w)
{
	if (w->w_ch.ch_ready_fd != -1)
		(void)close(w->w_ch.ch_ready_fd);
	memset(w, 0, sizeof(*w));
	w->w_ch.ch_ready_fd = -1;
}

static struct wchild *
worker_by_pid(struct parent *p, pid_t pid)
{
	size_t i;

	for (i = 0; i < P_MAX_WORKERS; i++)
		if (p->p_wk[i].w_id != 0 && p->p_wk[i].w_ch.ch_pid == pid)
			return &p->p_wk[i];
	return NULL;
}

static int
workers_running(const struct parent *p)
{
	size_t i;

	for (i = 0; i < P_MAX_WORKERS; i++)
		if (p->p_wk[i].w_id != 0 && p->p_wk[i].w_ch.ch_pid > 0)
			return 1;
	return 0;
}

static void
workers_kill(struct parent *p, int sig)
{
	size_t i;

	for (i = 0; i < P_MAX_WORKERS; i++)
		if (p->p_wk[i].w_id != 0 && p->p_wk[i].w_ch.ch_pid > 0) {
			p->p_wk[i].w_ch.ch_ordered = 1;
			(void)kill(p->p_wk[i].w_ch.ch_pid, sig);
		}
}

/* What the front sent: only CTL_REQUEST is accepted from it. */
static void
ctl_read(struct parent *p)
{
	static union ipc_msg m;
	char err[256];
	int n, fd;

	n = ipc_recv(p->p_ctl, &m, sizeof(m), &fd, 1, err, sizeof(err));
	if (n == AG_ERR_BUSY || n == 0)
		return;
	if (fd != -1)
		(void)close(fd);
	if (n < 0 || m.h.ih_type != IPC_CTL_REQUEST) {
		log_warnx("front link: %s; closing it", n < 0 ? err :
		    "unexpected message");
		if (p->p_front.ch_pid > 0)
			(void)kill(p->p_front.ch_pid, SIGKILL);
		return;
	}
	parent_control(p, (const struct ipc_ctl_request *)&m);
}

static void
schedule_restart(struct parent *p, struct child *ch, const char *what)
{
	const struct ag_config *cf = p->p_cf;

	if (ag_now() - ch->ch_started > STABLE_AFTER_S ||
	    ch->ch_backoff_ms == 0)
		ch->ch_backoff_ms = cf->cf_restart_min_ms;
	else if (ch->ch_backoff_ms < cf->cf_restart_max_ms / 2)
		ch->ch_backoff_ms *= 2;
	else
		ch->ch_backoff_ms = cf->cf_restart_max_ms;
	ch->ch_restart_at = ag_now() + ch->ch_backoff_ms / 1000.0;
	log_event(LOG_LVL_WARN, "event=restart_scheduled child=%s "
	    "in_ms=%d", what, ch->ch_backoff_ms);
}

static void
describe_exit(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		(void)snprintf(buf, len, "exit=%d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		(void)snprintf(buf, len, "signal=%d (%s)", WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	else
		(void)snprintf(buf, len, "status=%d", status);
}

/*
 * Reads a worker's ready link (daemon.h): "R" makes it ready and clears
 * the count of workers that died before that; "E" keeps why its model
 * did not load.  That message or end of file (it died first) closes our
 * end.  Never blocks.
 */
static void
worker_ready_read(struct parent *p, struct wchild *w)
{
	struct child *ch = &w->w_ch;
	char buf[IPC_TEXT_MAX];
	ssize_t n;

	if (ch->ch_ready_fd == -1)
		return;
	n = read(ch->ch_ready_fd, buf, sizeof(buf) - 1);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n >= 1 && buf[0] == 'R') {
		ch->ch_ready = 1;
		p->p_start_failures = 0;
		w->w_start_failures = 0;
		log_debug("worker ready pid=%ld", (long)ch->ch_pid);
	} else if (n >= 1 && buf[0] == 'E') {
		buf[n] = '\0';
		(void)snprintf(ch->ch_why, sizeof(ch->ch_why), "%s", buf + 1);
	}
	(void)close(ch->ch_ready_fd);
	ch->ch_ready_fd = -1;
	if (ch->ch_ready && p->p_repo) {
		struct pmodel *pm = parent_model_find(p, w->w_name);

		if (pm != NULL && parent_model_default(p, w->w_name) == w)
			pm->pm_why[0] = '\0';
		parent_model_settle(p, w->w_name);
		parent_index_send(p);
	}
}

/* Why a worker that was never ready died, for the fatal line. */
static void
describe_start_failure(int status, const char *why, char *buf, size_t len)
{
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		(void)snprintf(buf, len, "killed by SIGSYS: a system call "
		    "outside the seccomp allowlist (sandbox.seccomp_dev = yes "
		    "logs which)");
	else if (WIFSIGNALED(status))
		(void)snprintf(buf, len, "killed by signal %d (%s)",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	else if (WIFEXITED(status) && WEXITSTATUS(status) ==
	    WORKER_EXIT_MODEL && why[0] != '\0')
		(void)snprintf(buf, len, "its model did not load: %s", why);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_MODEL)
		(void)snprintf(buf, len, "its model did not load (the worker's "
		    "model: line says why)");
	else if (WIFEXITED(status))
		(void)snprintf(buf, len, "exit status %d (the worker's last "
		    "warn line says why)", WEXITSTATUS(status));
	else
		(void)snprintf(buf, len, "status %d", status);
}

/*
 * model.dir's worker died before it was ever ready: the
 * max_start_failures-th in a row stops aiguardd with one fatal line.
 * Returns 1 when it did.
 */
static int
worker_start_failed(struct parent *p, struct wchild *w, int status)
{
	char why[512], q[1100];

	if (w->w_ch.ch_ready || w->w_ch.ch_ordered)
		return 0;
	if (++p->p_start_failures < (unsigned)p->p_cf->cf_max_start_failures)
		return 0;
	describe_start_failure(status, w->w_ch.ch_why, why, sizeof(why));
	log_quote_value(q, sizeof(q), why);
	log_event(LOG_LVL_FATAL, "event=worker_start_failed failures=%u "
	    "cause=%s msg=\"the worker died %u time(s) in a row before it "
	    "was ready (worker.max_start_failures); stopping\"",
	    p->p_start_failures, q, p->p_start_failures);
	p->p_status = 1;
	p->p_stopping = 1;
	p->p_stop_deadline = ag_now() + STOP_GRACE_S;
	if (p->p_front.ch_pid > 0)
		(void)kill(p->p_front.ch_pid, SIGTERM);
	return 1;
}

static void
reap_worker(struct parent *p, struct wchild *w, int status, const char *how)
{
	char what[96], why[512];

	w->w_ch.ch_pid = 0;
	/* Its message, if it sent one, came before its end. */
	worker_ready_read(p, w);
	if (w->w_ch.ch_ready_fd != -1) {
		(void)close(w->w_ch.ch_ready_fd);
		w->w_ch.ch_ready_fd = -1;
	}
	if (w->w_name[0] != '\0')
		(void)snprintf(what, sizeof(what), "worker model=%s version=%u",
		    w->w_name, w->w_version);
	else
		(void)snprintf(what, sizeof(what), "worker");
	if (p->p_stopping || w->w_retired) {
		log_event(LOG_LVL_INFO, "event=child_exit child=%s %s", what,
		    how);
		if (w->w_retired) {
			parent_worker_free(w);
			parent_index_send(p);
		}
		return;
	}
	if (!w->w_ch.ch_ready && WIFEXITED(status) && WEXITSTATUS(status) ==
	    WORKER_EXIT_MODEL)
		log_event(LOG_LVL_WARN, "event=child_exit child=%s %s "
		    "msg=\"its model did not load; it served nothing\"", what,
		    how);
	else
		log_event(LOG_LVL_WARN, "event=child_exit child=%s %s "
		    "msg=\"worker died; requests in flight were answered "
		    "503\"", what, how);
	if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_MODEL)
		p->p_load_failures++;
	if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_SANDBOX) {
		log_warnx("the worker cannot confine itself; stopping");
		p->p_status = 1;
		parent_begin_stop(p, "sandbox");
		return;
	}
	if (p->p_repo) {
		if (w->w_ch.ch_ordered) {
			/* Stopped with its front: started again with it. */
			return;
		}
		if (WIFEXITED(status) && WEXITSTATUS(status) ==
		    WORKER_EXIT_MODEL) {
			parent_worker_failed(p, w, w->w_ch.ch_why[0] != '\0' ?
			    w->w_ch.ch_why : "its model did not load");
			return;
		}
		if (!w->w_ch.ch_ready && ++w->w_start_failures >=
		    (unsigned)p->p_cf->cf_max_start_failures) {
			describe_start_failure(status, w->w_ch.ch_why, why,
			    sizeof(why));
			parent_worker_failed(p, w, why);
			return;
		}
		w->w_ch.ch_ready = 0;
		schedule_restart(p, &w->w_ch, "worker");
		parent_index_send(p);
		return;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_MODEL &&
	    w->w_ch.ch_starts == 1) {
		log_warnx("the model does not load; stopping "
		    "(aiguardd --check-config says why)");
		p->p_status = 1;
		p->p_stopping = 1;
		if (p->p_front.ch_pid > 0)
			(void)kill(p->p_front.ch_pid, SIGTERM);
		return;
	}
	if (worker_start_failed(p, w, status))
		return;
	schedule_restart(p, &w->w_ch, "worker");
}

static void
reap(struct parent *p)
{
	struct wchild *w;
	char how[96];
	pid_t pid;
	int status;
	size_t i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		describe_exit(status, how, sizeof(how));
		if ((w = worker_by_pid(p, pid)) != NULL) {
			reap_worker(p, w, status, how);
			continue;
		}
		if (pid != p->p_front.ch_pid)
			continue;
		p->p_front.ch_pid = 0;
		if (p->p_stopping) {
			log_event(LOG_LVL_INFO, "event=child_exit "
			    "child=front %s", how);
			workers_kill(p, SIGTERM);
			continue;
		}
		log_event(LOG_LVL_WARN, "event=child_exit child=front %s", how);
		if (WIFEXITED(status) && (WEXITSTATUS(status) ==
		    FRONT_EXIT_LISTEN || WEXITSTATUS(status) == EXIT_SANDBOX)) {
			log_warnx("the front cannot %s; stopping",
			    WEXITSTATUS(status) == EXIT_SANDBOX ?
			    "confine itself" : "serve");
			p->p_status = 1;
			p->p_stopping = 1;
			p->p_stop_deadline = ag_now() + STOP_GRACE_S;
			workers_kill(p, SIGTERM);
			continue;
		}
		/* The workers' links died with the front: all again. */
		workers_kill(p, SIGTERM);
		for (i = 0; i < P_MAX_WORKERS; i++) {
			p->p_wk[i].w_ch.ch_restart_at = 0;
			/* A retired worker is not started again. */
			if (p->p_wk[i].w_id != 0 && p->p_wk[i].w_retired &&
			    p->p_wk[i].w_ch.ch_pid == 0)
				parent_worker_free(&p->p_wk[i]);
		}
		/* Loads in progress: the new front has not asked for them. */
		for (i = 0; i < P_MAX_REPLIES; i++)
			p->p_replies[i].pr_id = 0;
		schedule_restart(p, &p->p_front, "front");
	}
}

void
parent_begin_stop(struct parent *p, const char *why)
{
	if (p->p_stopping)
		return;
	p->p_stopping = 1;
	p->p_stop_deadline = ag_now() + p->p_cf->cf_request_timeout +
	    STOP_GRACE_S;
	log_info("%s: stopping", why);
	if (p->p_front.ch_pid > 0)
		(void)kill(p->p_front.ch_pid, SIGTERM);
	else
		workers_kill(p, SIGTERM);
}

/* SIGHUP: the front door's files, then the models. */
static void
reload(struct parent *p)
{
	char err[512];
	size_t i;

	frontdoor_reload(p);
	if (p->p_repo) {
		log_info("SIGHUP: scanning the repository");
		if (parent_repo_reload(p, NULL, err, sizeof(err)) != 0)
			log_event(LOG_LVL_WARN, "event=reload result=failed "
			    "serving=old msg=\"%s\"", err);
		return;
	}
	for (i = 0; i < P_MAX_WORKERS; i++)
		if (p->p_wk[i].w_id != 0 && p->p_wk[i].w_ch.ch_pid > 0) {
			log_info("SIGHUP: reloading the model");
			(void)kill(p->p_wk[i].w_ch.ch_pid, SIGHUP);
			return;
		}
	log_warnx("SIGHUP: no worker to reload");
}

/* Starts every worker that has a slot and is not running (a new front). */
static void
workers_start(struct parent *p)
{
	size_t i;

	for (i = 0; i < P_MAX_WORKERS; i++)
		if (p->p_wk[i].w_id != 0 && !p->p_wk[i].w_retired &&
		    p->p_wk[i].w_ch.ch_pid == 0)
			parent_spawn_worker(p, &p->p_wk[i]);
	parent_index_send(p);
}

int
supervise(struct parent *p)
{
	struct pollfd pfd[2 + P_MAX_WORKERS];
	struct wchild *pw[2 + P_MAX_WORKERS];
	char err[512];
	size_t i;

	spawn_front(p);
	if (p->p_repo) {
		/* Model control: model.names is what loads at start. */
		if (p->p_cf->cf_model_control == CONFIG_CONTROL_EXPLICIT)
			for (i = 0; i < (size_t)p->p_cf->cf_nmodel_names; i++) {
				struct pmodel *pm = parent_model_add(p,
				    p->p_cf->cf_model_names[i]);

				if (pm != NULL)
					pm->pm_loaded = 1;
			}
		if (parent_repo_reload(p, NULL, err, sizeof(err)) != 0) {
			log_warnx("%s", err);
			p->p_status = 1;
			parent_begin_stop(p, "repository");
		}
		workers_start(p);
	} else {
		struct wchild *w = parent_worker_new(p, "", 0, ++p->p_seq);

		parent_spawn_worker(p, w);
	}
	for (;;) {
		double now = ag_now(), next = 0;
		int timeout = -1, nfd = 0;

		if (p->p_stopping) {
			if (p->p_front.ch_pid == 0 && !workers_running(p))
				break;
			if (p->p_stop_deadline > 0 && now > p->p_stop_deadline) {
				log_warnx("children still running after the "
				    "grace period: killing them");
				if (p->p_front.ch_pid > 0)
					(void)kill(p->p_front.ch_pid, SIGKILL);
				workers_kill(p, SIGKILL);
				p->p_stop_deadline = 0;
			}
			next = p->p_stop_deadline;
		} else if (p->p_front.ch_pid == 0) {
			/* Due: the front first, then every worker with it. */
			if (p->p_front.ch_restart_at > 0 &&
			    now >= p->p_front.ch_restart_at &&
			    !workers_running(p)) {
				p->p_front.ch_restart_at = 0;
				spawn_front(p);
				workers_start(p);
			} else if (p->p_front.ch_restart_at > 0 &&
			    !workers_running(p))
				next = p->p_front.ch_restart_at;
		} else {
			for (i = 0; i < P_MAX_WORKERS; i++) {
				struct child *ch = &p->p_wk[i].w_ch;

				if (p->p_wk[i].w_id == 0 || ch->ch_pid > 0 ||
				    ch->ch_restart_at == 0)
					continue;
				if (now >= ch->ch_restart_at) {
					ch->ch_restart_at = 0;
					parent_spawn_worker(p, &p->p_wk[i]);
				} else if (next == 0 || ch->ch_restart_at <
				    next)
					next = ch->ch_restart_at;
			}
		}
		if (next > 0) {
			double d = (next - ag_now()) * 1000.0 + 1;

			timeout = d < 0 ? 0 : d > 60000 ? 60000 : (int)d;
		}
		pfd[nfd].fd = p->p_sigfd;
		pfd[nfd].events = POLLIN;
		pw[nfd++] = NULL;
		pfd[nfd].fd = p->p_front.ch_pid > 0 ? p->p_ctl : -1;
		pfd[nfd].events = POLLIN;
		pw[nfd++] = NULL;
		for (i = 0; i < P_MAX_WORKERS; i++)
			if (p->p_wk[i].w_id != 0 &&
			    p->p_wk[i].w_ch.ch_ready_fd != -1) {
				pfd[nfd].fd = p->p_wk[i].w_ch.ch_ready_fd;
				pfd[nfd].events = POLLIN;
				pw[nfd++] = &p->p_wk[i];
			}
		if (poll(pfd, (nfds_t)nfd, timeout) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		for (i = 2; i < (size_t)nfd; i++)
			if (pfd[i].revents != 0 && pw[i]->w_id != 0)
				worker_ready_read(p, pw[i]);
		if (pfd[1].revents & POLLIN)
			ctl_read(p);
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(p->p_sigfd, &si, sizeof(si)) ==
			    sizeof(si)) {
				switch (si.ssi_signo) {
				case SIGCHLD:
					reap(p);
					break;
				case SIGTERM:
					parent_begin_stop(p, "SIGTERM");
					break;
				case SIGINT:
					parent_begin_stop(p, "SIGINT");
					break;
				case SIGHUP:
					reload(p);
					break;
				}
			}
			/* A SIGCHLD may have merged with another signal. */
			reap(p);
		}
	}
	log_info("stopped status=%d", p->p_status);
	return p->p_status;
}
