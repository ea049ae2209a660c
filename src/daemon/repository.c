/* SPDX-License-Identifier: ISC */
/*
 * repository.c: model.repository in the parent (parent.h).
 *
 * One worker per selected version of each model (model/repo.c scans the
 * store and applies the version policy).  A version's worker is started
 * when the scan selects it; the one /v2/models/NAME reaches is the one
 * with the highest default sequence (the scan's default, made so when it
 * starts or, for a version already running, with CTL_ROUTE).  The
 * versions no longer selected are retired once the new default is ready
 * (a deploy: the old one serves until then), or at once when the model is
 * unloaded or gone; a version that does not load leaves the ones it was
 * to replace serving.  The front is told every worker (CTL_WORKER), each
 * change of route (CTL_ROUTE) and the index (CTL_INDEX), and its load and
 * unload requests (model.control = explicit) are answered with CTL_REPLY,
 * a load once its default version is ready or did not load.
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

static void
route_send(struct parent *p, struct wchild *w, uint32_t op)
{
	struct ipc_ctl_route rt;

	if (p->p_ctl == -1 || p->p_front.ch_pid == 0)
		return;
	memset(&rt, 0, sizeof(rt));
	ipc_hdr_init(&rt.rt_hdr, IPC_CTL_ROUTE, sizeof(rt), 0);
	rt.rt_id = w->w_id;
	rt.rt_op = op;
	rt.rt_seq = w->w_seq;
	if (ipc_send(p->p_ctl, &rt, sizeof(rt), -1) != 0)
		log_warn("cannot route worker %u", (unsigned)w->w_id);
}

/*
 * Retires w: the front stops routing to it, answers what it has in
 * flight, then closes its link, and the worker exits at the end of it.
 */
static void
worker_retire(struct parent *p, struct wchild *w, const char *why)
{
	if (w->w_retired)
		return;
	w->w_retired = 1;
	w->w_ch.ch_restart_at = 0;
	log_event(LOG_LVL_INFO, "event=model_retire model=%s version=%u "
	    "why=\"%s\"", w->w_name, w->w_version, why);
	if (w->w_ch.ch_pid == 0) {
		route_send(p, w, IPC_ROUTE_RETIRE);
		parent_worker_free(w);
		return;
	}
	route_send(p, w, IPC_ROUTE_RETIRE);
	/* Without a front to close its link, it is told directly. */
	if (p->p_front.ch_pid == 0) {
		w->w_ch.ch_ordered = 1;
		(void)kill(w->w_ch.ch_pid, SIGTERM);
	}
}

struct pmodel *
parent_model_find(struct parent *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->p_nmodels; i++)
		if (strcmp(p->p_models[i].pm_name, name) == 0)
			return &p->p_models[i];
	return NULL;
}

struct pmodel *
parent_model_add(struct parent *p, const char *name)
{
	struct pmodel *pm;

	if ((pm = parent_model_find(p, name)) != NULL)
		return pm;
	if (p->p_nmodels == REPO_MODELS_MAX)
		return NULL;
	pm = &p->p_models[p->p_nmodels++];
	memset(pm, 0, sizeof(*pm));
	(void)snprintf(pm->pm_name, sizeof(pm->pm_name), "%s", name);
	return pm;
}

/* The version of name that /v2/models/NAME reaches now (may be NULL). */
struct wchild *
parent_model_default(struct parent *p, const char *name)
{
	struct wchild *best = NULL;
	size_t i;

	for (i = 0; i < P_MAX_WORKERS; i++) {
		struct wchild *w = &p->p_wk[i];

		if (w->w_id == 0 || w->w_retired || w->w_unwanted ||
		    strcmp(w->w_name, name) != 0)
			continue;
		if (best == NULL || w->w_seq > best->w_seq)
			best = w;
	}
	return best;
}

/* The loads of name the front waits for: answered (status, msg). */
static void
reply_send(struct parent *p, uint64_t id, int status, const char *msg)
{
	struct ipc_ctl_reply rp;

	if (p->p_ctl == -1)
		return;
	memset(&rp, 0, sizeof(rp));
	ipc_hdr_init(&rp.rp_hdr, IPC_CTL_REPLY, sizeof(rp), id);
	rp.rp_status = status;
	(void)snprintf(rp.rp_msg, sizeof(rp.rp_msg), "%s", msg);
	if (ipc_send(p->p_ctl, &rp, sizeof(rp), -1) != 0)
		log_warn("cannot answer the front");
}

static void
replies_settle(struct parent *p, const char *name, int status,
    const char *msg)
{
	size_t i;

	for (i = 0; i < P_MAX_REPLIES; i++)
		if (p->p_replies[i].pr_id != 0 &&
		    strcmp(p->p_replies[i].pr_name, name) == 0) {
			reply_send(p, p->p_replies[i].pr_id, status, msg);
			p->p_replies[i].pr_id = 0;
		}
}

/*
 * Once the default version of name is ready, the versions no longer
 * selected retire (a deploy: the old one serves until the new one can).
 * A default that did not load leaves them serving.
 */
void
parent_model_settle(struct parent *p, const char *name)
{
	struct wchild *def = parent_model_default(p, name);
	size_t i;

	if (def != NULL && !def->w_ch.ch_ready)
		return;
	for (i = 0; i < P_MAX_WORKERS; i++) {
		struct wchild *w = &p->p_wk[i];

		if (w->w_id != 0 && w->w_unwanted && !w->w_retired &&
		    strcmp(w->w_name, name) == 0)
			worker_retire(p, w, def != NULL ? "replaced" :
			    "no longer selected");
	}
	if (def != NULL)
		replies_settle(p, name, 0, "");
}

/*
 * Applies one model's scan: starts the selected versions not running,
 * marks the others unwanted (retired by parent_model_settle()), and makes the
 * selected default the default.
 */
static void
model_apply(struct parent *p, const struct repo_model *rm)
{
	struct wchild *w, *def = NULL;
	size_t i, k;
	int have;

	for (i = 0; i < P_MAX_WORKERS; i++) {
		w = &p->p_wk[i];
		if (w->w_id == 0 || w->w_retired ||
		    strcmp(w->w_name, rm->rm_name) != 0)
			continue;
		w->w_unwanted = 1;
		for (k = 0; k < rm->rm_n; k++)
			if (rm->rm_versions[k] == w->w_version)
				w->w_unwanted = 0;
		if (!w->w_unwanted && w->w_version == rm->rm_default)
			def = w;
	}
	for (k = 0; k < rm->rm_n; k++) {
		for (i = 0, have = 0; i < P_MAX_WORKERS; i++)
			if (p->p_wk[i].w_id != 0 && !p->p_wk[i].w_retired &&
			    strcmp(p->p_wk[i].w_name, rm->rm_name) == 0 &&
			    p->p_wk[i].w_version == rm->rm_versions[k])
				have = 1;
		if (have)
			continue;
		w = parent_worker_new(p, rm->rm_name, rm->rm_versions[k],
		    rm->rm_versions[k] == rm->rm_default ? ++p->p_seq : 0);
		if (w == NULL)
			continue;
		if (rm->rm_versions[k] == rm->rm_default)
			def = w;
		if (p->p_front.ch_pid > 0)
			parent_spawn_worker(p, w);
	}
	/* An older version made default again (a rollback). */
	if (def != NULL && def->w_ch.ch_starts > 0) {
		struct wchild *cur = parent_model_default(p, rm->rm_name);

		if (cur != def || def->w_seq == 0) {
			def->w_seq = ++p->p_seq;
			route_send(p, def, IPC_ROUTE_DEFAULT);
		}
	}
	parent_model_settle(p, rm->rm_name);
}

/* Every worker of name retires (unload, or gone from the repository). */
static void
model_unload(struct parent *p, const char *name, const char *why)
{
	size_t i;

	for (i = 0; i < P_MAX_WORKERS; i++)
		if (p->p_wk[i].w_id != 0 && !p->p_wk[i].w_retired &&
		    strcmp(p->p_wk[i].w_name, name) == 0)
			worker_retire(p, &p->p_wk[i], why);
}

/*
 * Scans the repository and applies it: every model (control none) or
 * the loaded ones (explicit), or only (when only is not NULL) that one.
 * Returns 0, or the scan's error (err says what; nothing changed).
 */
int
parent_repo_reload(struct parent *p, const char *only, char *err,
    size_t errlen)
{
	struct repo_model *rms = NULL;
	struct pmodel *pm;
	size_t n = 0, i;
	int r;

	/*
	 * With model control, every model of the repository can be loaded
	 * (and is in the index): model.names is only what loads at start.
	 */
	if (p->p_cf->cf_model_control == CONFIG_CONTROL_EXPLICIT) {
		static struct ag_config all;

		all = *p->p_cf;
		all.cf_nmodel_names = 0;
		r = repo_scan(all.cf_repository, &all, &rms, &n, err, errlen);
	} else
		r = repo_scan(p->p_cf->cf_repository, p->p_cf, &rms, &n, err,
		    errlen);
	if (r != 0)
		return r;
	for (i = 0; i < p->p_nmodels; i++)
		if (only == NULL || strcmp(p->p_models[i].pm_name, only) == 0)
			p->p_models[i].pm_present = 0;
	for (i = 0; i < n; i++) {
		if (only != NULL && strcmp(rms[i].rm_name, only) != 0)
			continue;
		if (strlen(rms[i].rm_name) >= MODEL_NAME_MAX) {
			log_warnx("repository: model name %s longer than %d "
			    "bytes: not served", rms[i].rm_name,
			    MODEL_NAME_MAX - 1);
			continue;
		}
		if ((pm = parent_model_add(p, rms[i].rm_name)) == NULL)
			continue;
		pm->pm_present = rms[i].rm_n > 0;
		(void)snprintf(pm->pm_why, sizeof(pm->pm_why), "%s",
		    rms[i].rm_why);
		if (rms[i].rm_why[0] != '\0')
			log_warnx("repository: model %s: %s", rms[i].rm_name,
			    rms[i].rm_why);
		if (p->p_cf->cf_model_control == CONFIG_CONTROL_NONE)
			pm->pm_loaded = 1;
		if (pm->pm_loaded && pm->pm_present)
			model_apply(p, &rms[i]);
	}
	if (n == 0 && only == NULL)
		log_warnx("repository %s: no model in it%s",
		    p->p_cf->cf_repository, p->p_cf->cf_nmodel_names > 0 ?
		    " of model.names" : "");
	/* Models gone from the repository (or from its selection). */
	for (i = 0; i < p->p_nmodels; i++) {
		pm = &p->p_models[i];
		if ((only == NULL || strcmp(pm->pm_name, only) == 0) &&
		    !pm->pm_present)
			model_unload(p, pm->pm_name, "gone from the "
			    "repository");
	}
	free(rms);
	parent_index_send(p);
	return 0;
}

/* The repository as the parent sees it, for the front's index. */
void
parent_index_send(struct parent *p)
{
	static union ipc_msg m;
	struct ipc_ctl_index *ix = (struct ipc_ctl_index *)&m;
	struct ipc_index_entry *ie;
	size_t i, k;
	int any;

	if (!p->p_repo || p->p_ctl == -1 || p->p_front.ch_pid == 0)
		return;
	memset(ix, 0, sizeof(*ix));
	for (i = 0; i < p->p_nmodels; i++) {
		const struct pmodel *pm = &p->p_models[i];

		any = 0;
		for (k = 0; k < P_MAX_WORKERS && ix->ix_n < IPC_INDEX_MAX;
		    k++) {
			const struct wchild *w = &p->p_wk[k];

			if (w->w_id == 0 || strcmp(w->w_name, pm->pm_name))
				continue;
			ie = &ix->ix_e[ix->ix_n++];
			memset(ie, 0, sizeof(*ie));
			memcpy(ie->ie_name, pm->pm_name, sizeof(ie->ie_name));
			(void)snprintf(ie->ie_version, sizeof(ie->ie_version),
			    "%u", w->w_version);
			ie->ie_state = w->w_retired ? IPC_INDEX_UNLOADING :
			    w->w_ch.ch_ready ? IPC_INDEX_READY :
			    IPC_INDEX_LOADING;
			any = 1;
		}
		if ((any && pm->pm_why[0] == '\0') ||
		    ix->ix_n == IPC_INDEX_MAX)
			continue;
		ie = &ix->ix_e[ix->ix_n++];
		memset(ie, 0, sizeof(*ie));
		memcpy(ie->ie_name, pm->pm_name, sizeof(ie->ie_name));
		ie->ie_state = IPC_INDEX_UNAVAILABLE;
		(void)snprintf(ie->ie_reason, sizeof(ie->ie_reason), "%s",
		    pm->pm_why[0] != '\0' ? pm->pm_why : !pm->pm_present ?
		    "not in the repository" : "not loaded");
	}
	ipc_hdr_init(&ix->ix_hdr, IPC_CTL_INDEX, sizeof(*ix) +
	    ix->ix_n * sizeof(ix->ix_e[0]), 0);
	if (ipc_send(p->p_ctl, ix, sizeof(*ix) + ix->ix_n *
	    sizeof(ix->ix_e[0]), -1) != 0)
		log_warn("cannot send the index to the front");
}

/* A CTL_REQUEST from the front: load or unload a model (explicit). */
void
parent_control(struct parent *p, const struct ipc_ctl_request *rq)
{
	uint64_t id = rq->rq_hdr.ih_id;
	struct pmodel *pm;
	struct wchild *def;
	char err[512];
	size_t i;

	if (p->p_cf->cf_model_control != CONFIG_CONTROL_EXPLICIT ||
	    !p->p_repo) {
		reply_send(p, id, AG_ERR_INVALID_ARG, "model control is off");
		return;
	}
	if (!store_name_valid(rq->rq_name)) {
		reply_send(p, id, AG_ERR_NOT_FOUND, "not a model name");
		return;
	}
	log_event(LOG_LVL_INFO, "event=model_control op=%s model=%s",
	    rq->rq_op == IPC_REQUEST_LOAD ? "load" : "unload", rq->rq_name);
	if (rq->rq_op == IPC_REQUEST_UNLOAD) {
		if ((pm = parent_model_find(p, rq->rq_name)) == NULL ||
		    !pm->pm_loaded) {
			reply_send(p, id, AG_ERR_NOT_FOUND, "model not loaded");
			return;
		}
		pm->pm_loaded = 0;
		model_unload(p, rq->rq_name, "unloaded");
		replies_settle(p, rq->rq_name, AG_ERR_UNAVAILABLE,
		    "unloaded meanwhile");
		parent_index_send(p);
		reply_send(p, id, 0, "");
		return;
	}
	for (i = 0; i < P_MAX_REPLIES; i++)
		if (p->p_replies[i].pr_id == 0)
			break;
	if (i == P_MAX_REPLIES) {
		reply_send(p, id, AG_ERR_BUSY, "too many loads in progress");
		return;
	}
	/* Marked loaded first: the scan applies only loaded models. */
	if ((pm = parent_model_add(p, rq->rq_name)) == NULL) {
		reply_send(p, id, AG_ERR_BUSY, "too many models");
		return;
	}
	pm->pm_loaded = 1;
	p->p_replies[i].pr_id = id;
	(void)snprintf(p->p_replies[i].pr_name,
	    sizeof(p->p_replies[i].pr_name), "%s", rq->rq_name);
	if (parent_repo_reload(p, rq->rq_name, err, sizeof(err)) != 0) {
		pm->pm_loaded = 0;
		replies_settle(p, rq->rq_name, AG_ERR_NOT_FOUND, err);
		return;
	}
	if (!pm->pm_present) {
		pm->pm_loaded = 0;
		replies_settle(p, rq->rq_name, AG_ERR_NOT_FOUND,
		    pm->pm_why[0] != '\0' ? pm->pm_why :
		    "no such model in the repository");
		/* A name the repository never had leaves no trace. */
		if (pm->pm_why[0] == '\0' && parent_model_default(p,
		    rq->rq_name) == NULL) {
			i = (size_t)(pm - p->p_models);
			memmove(pm, pm + 1, (p->p_nmodels - i - 1) *
			    sizeof(*pm));
			p->p_nmodels--;
		}
		parent_index_send(p);
		return;
	}
	def = parent_model_default(p, rq->rq_name);
	if (def != NULL && def->w_ch.ch_ready)
		replies_settle(p, rq->rq_name, 0, "");
}

/*
 * A repository's worker that will not serve: its model did not load, or
 * it died max_start_failures times before it was ready.  Not started
 * again (the next SIGHUP or load tries again); the versions it was to
 * replace keep serving; the loads waiting for it fail with why.
 */
void
parent_worker_failed(struct parent *p, struct wchild *w, const char *why)
{
	struct pmodel *pm = parent_model_find(p, w->w_name);
	char name[MODEL_NAME_MAX], q[600];
	int was_default = parent_model_default(p, w->w_name) == w;

	log_quote_value(q, sizeof(q), why);
	log_event(LOG_LVL_WARN, "event=model_load result=failed model=%s "
	    "version=%u msg=%s", w->w_name, w->w_version, q);
	if (pm != NULL)
		(void)snprintf(pm->pm_why, sizeof(pm->pm_why), "version %u: "
		    "%s", w->w_version, why);
	memcpy(name, w->w_name, sizeof(name));
	w->w_unwanted = 1;
	worker_retire(p, w, "did not load");
	if (w->w_id != 0 && w->w_ch.ch_pid == 0)
		parent_worker_free(w);
	/* The versions it was to replace: wanted again, serving. */
	if (was_default) {
		size_t i;

		for (i = 0; i < P_MAX_WORKERS; i++) {
			struct wchild *o = &p->p_wk[i];

			if (o->w_id != 0 && !o->w_retired &&
			    strcmp(o->w_name, name) == 0)
				o->w_unwanted = 0;
		}
		replies_settle(p, name, AG_ERR_INVALID_ARG, pm != NULL ?
		    pm->pm_why : why);
	}
	parent_index_send(p);
}
