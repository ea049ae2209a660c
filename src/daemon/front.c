/* SPDX-License-Identifier: ISC */
/*
 * front.c: the process that faces the network.
 *
 * It runs the HTTP server (src/http) and is its backend: a submitted job's
 * images are written into free slots of the shared area of the worker
 * that serves the model (and version) the request named, an INFER names
 * the slots, and the RESULT that comes back wakes the suspended HTTP
 * request.  The workers are a table: one per model version, each known by
 * the parent's id, its model and version, its default sequence (the
 * highest published is what /v2/models/NAME reaches) and its statistics.
 * The main thread reads the parent's control link (new workers, routes,
 * the repository index, the answers to load and unload), every worker's
 * link (HELLO, LABELS, RESULT, RELOAD) and the signals.
 *
 * The front never opens a model file: the labels and the geometry come
 * from the workers, and are checked like any other input; a repository's
 * worker must name the model and version it was started for.  Nor the
 * token file or the TLS files: the parent sends their bytes
 * (CTL_FRONTDOOR), at start, before the front serves anything, and after
 * each SIGHUP.  When a worker dies, every request waiting for it gets 503
 * at once and its model version is unpublished until a new worker of it
 * says HELLO; a retired one (replaced, unloaded) is drained: what it has
 * in flight is answered, then its link closes.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/ag_err.h"
#include "common/config.h"
#include "common/log.h"
#include "common/util.h"
#include "common/version.h"
#include "http/metrics.h"
#include "http/stats.h"
#include "http/server.h"
#include "http/tls.h"
#include "http/tokens.h"
#include "daemon.h"
#include "ipc.h"

#define FRONT_MAX_PENDING	4096
#define FRONT_MAX_WORKERS	64	/* model versions served at once */
#define FRONT_MAX_CONTROL	16	/* load/unload requests in flight */
#define FRONT_RETIRE_GRACE_S	5.0	/* past request_timeout: closed */

/* The shared area of one worker; freed when the last user lets go. */
struct front_shm {
	int		 fs_refs;	/* under f_mtx */
	uint8_t		*fs_base;
	size_t		 fs_bytes, fs_slot_bytes;
	uint32_t	 fs_nslots;
	uint32_t	*fs_free;	/* stack of free slot indices */
	uint32_t	 fs_nfree;
};

/*
 * One worker: one version of one model.  The slot lives from the parent's
 * CTL_WORKER to its retirement (a worker that dies keeps its slot, its
 * statistics and its id: the parent starts it again under the same id).
 */
struct front_wk {
	uint32_t	 wk_id;		/* the parent's id; 0: slot free */
	int		 wk_fd;		/* link, -1: none now */
	char		 wk_name[MODEL_NAME_MAX];	/* "": model.dir's */
	char		 wk_version[MODEL_VERSION_MAX];
	/* what it last published: its metrics' labels across a restart */
	char		 wk_last_name[MODEL_NAME_MAX];
	char		 wk_last_version[MODEL_VERSION_MAX];
	uint32_t	 wk_seq;	/* default sequence */
	int		 wk_retiring;
	double		 wk_retire_at;
	struct front_shm *wk_shm;
	struct http_model *wk_model;	/* published: ready */
	uint32_t	 wk_layers;	/* SB_* in force in it */
	size_t		 wk_npend;
	struct model_stats *wk_stats;
	/* model being announced (main thread only) */
	struct ipc_hello wk_hello;
	int		 wk_have_hello;
	char		*wk_labels;
	uint32_t	 wk_labels_got;
};

struct pending {
	uint64_t	 pd_id;		/* 0: entry unused */
	struct http_job	*pd_job;
	struct front_wk	*pd_wk;
	struct front_shm *pd_shm;
	uint32_t	 pd_n;
	int		 pd_cancelled;	/* IPC_CANCEL sent */
	uint32_t	 pd_slots[IPC_MAX_REQ_IMAGES];
};

struct front {
	const struct ag_config	*f_cf;
	struct metrics		*f_metrics;
	struct http_server	*f_http;
	int			 f_ctl;
	pthread_mutex_t		 f_mtx;
	/* under f_mtx */
	struct front_wk		 f_wk[FRONT_MAX_WORKERS];
	struct pending		*f_pend;	/* FRONT_MAX_PENDING entries */
	size_t			 f_npend;
	uint64_t		 f_next_id;
	struct ipc_ctl_index	*f_index;	/* the parent's last, or NULL */
	struct http_job		*f_control[FRONT_MAX_CONTROL];
	uint64_t		 f_control_id[FRONT_MAX_CONTROL];
	uint64_t		 f_next_control;
	/* main thread only */
	uint32_t		 f_layers;		/* ours, SB_* */
	uint32_t		 f_load_failures;	/* counted so far */
};

static void
front_shm_unref(struct front_shm *fs)
{
	if (fs == NULL || --fs->fs_refs > 0)
		return;
	(void)munmap(fs->fs_base, fs->fs_bytes);
	free(fs->fs_free);
	free(fs);
}

/* Finishes a pending entry: the job's done callback runs unlocked. */
static struct http_job *
front_pending_take(struct front *f, struct pending *pd, int status)
{
	struct http_job *job = pd->pd_job;
	uint32_t k;

	for (k = 0; k < pd->pd_n; k++)
		pd->pd_shm->fs_free[pd->pd_shm->fs_nfree++] = pd->pd_slots[k];
	front_shm_unref(pd->pd_shm);
	if (status != 0)
		job->jb_status = status;
	if (pd->pd_wk != NULL && pd->pd_wk->wk_npend > 0)
		pd->pd_wk->wk_npend--;
	pd->pd_id = 0;
	pd->pd_job = NULL;
	pd->pd_wk = NULL;
	pd->pd_shm = NULL;
	pd->pd_cancelled = 0;
	f->f_npend--;
	return job;
}

/* The name a worker's metrics and logs go under. */
static const char *
front_wk_name(const struct front_wk *wk)
{
	if (wk->wk_model != NULL)
		return wk->wk_model->hm_desc.d_name;
	if (wk->wk_have_hello)
		return wk->wk_hello.hl_model.d_name;
	if (wk->wk_last_name[0] != '\0')
		return wk->wk_last_name;
	return wk->wk_name;
}

static const char *
front_wk_version(const struct front_wk *wk)
{
	if (wk->wk_model != NULL)
		return wk->wk_model->hm_desc.d_version;
	if (wk->wk_have_hello)
		return wk->wk_hello.hl_model.d_version;
	if (wk->wk_last_version[0] != '\0')
		return wk->wk_last_version;
	return wk->wk_version;
}

/*
 * A worker's link gone: fail everything waiting for it.  Called with
 * f_mtx held (dropped meanwhile, to answer the jobs).  A retired worker's
 * slot is freed; any other waits for the parent to start it again.
 */
static void
front_wk_lost(struct front *f, struct front_wk *wk, const char *why)
{
	struct http_job **done;
	size_t i, n = 0;

	if (wk->wk_fd == -1)
		return;
	if (strcmp(why, "shutdown") == 0 || strcmp(why, "retired") == 0)
		log_info("closing the link of worker %u (%s %s): %s",
		    (unsigned)wk->wk_id, front_wk_name(wk),
		    front_wk_version(wk), why);
	else
		log_warnx("worker lost (%s): model=%s version=%s: %zu "
		    "request(s) answered 503; not ready until it is back",
		    why, front_wk_name(wk), front_wk_version(wk),
		    wk->wk_npend);
	(void)close(wk->wk_fd);
	wk->wk_fd = -1;
	/* Series only for a model that said who it is. */
	if (front_wk_name(wk)[0] != '\0' && wk->wk_retiring)
		metrics_model_forget(f->f_metrics, front_wk_name(wk),
		    front_wk_version(wk));
	else if (front_wk_name(wk)[0] != '\0') {
		metrics_worker_up(f->f_metrics, front_wk_name(wk),
		    front_wk_version(wk), 0);
		metrics_model(f->f_metrics, front_wk_name(wk),
		    front_wk_version(wk), 0, 0, "");
	}
	http_model_unref(wk->wk_model);
	wk->wk_model = NULL;
	done = calloc(wk->wk_npend + 1, sizeof(*done));
	for (i = 0; i < FRONT_MAX_PENDING && wk->wk_npend > 0; i++) {
		struct http_job *job;

		if (f->f_pend[i].pd_id == 0 || f->f_pend[i].pd_wk != wk)
			continue;
		job = front_pending_take(f, &f->f_pend[i], AG_ERR_UNAVAILABLE);
		if (done != NULL)
			done[n++] = job;
		else
			job->jb_done(job);	/* no memory: under the lock */
	}
	front_shm_unref(wk->wk_shm);
	wk->wk_shm = NULL;
	wk->wk_have_hello = 0;
	free(wk->wk_labels);
	wk->wk_labels = NULL;
	if (wk->wk_retiring) {
		stats_free(wk->wk_stats);
		memset(wk, 0, sizeof(*wk));
		wk->wk_fd = -1;
	}
	pthread_mutex_unlock(&f->f_mtx);
	for (i = 0; i < n; i++)
		done[i]->jb_done(done[i]);
	pthread_mutex_lock(&f->f_mtx);
	free(done);
}

static struct front_wk *
front_wk_by_id(struct front *f, uint32_t id)
{
	size_t i;

	for (i = 0; i < FRONT_MAX_WORKERS; i++)
		if (f->f_wk[i].wk_id == id && id != 0)
			return &f->f_wk[i];
	return NULL;
}

/*
 * The worker that name (and version, NULL: the default) reaches, with
 * f_mtx held: of the published versions of name, the one asked, or the
 * one with the highest default sequence.  A retired one (draining) only
 * while a version that replaces it is still loading: a deploy never
 * leaves a gap, an unload is at once.  *known: whether name (and
 * version) is served at all, ready or not.
 */
static struct front_wk *
front_route(struct front *f, const char *name, const char *version,
    int *known)
{
	struct front_wk *best = NULL, *old = NULL, *wk;
	int loading = 0;
	size_t i;

	*known = 0;
	for (i = 0; i < FRONT_MAX_WORKERS; i++) {
		wk = &f->f_wk[i];
		if (wk->wk_id == 0)
			continue;
		/* model.dir's one worker: any name, until it says its own. */
		if (wk->wk_name[0] == '\0' && wk->wk_model == NULL &&
		    !wk->wk_retiring)
			*known = 1;
		if (wk->wk_name[0] != '\0' && strcmp(wk->wk_name, name) == 0 &&
		    !wk->wk_retiring) {
			if (version == NULL || strcmp(wk->wk_version,
			    version) == 0)
				*known = 1;
			if (wk->wk_model == NULL || wk->wk_fd == -1)
				loading = 1;
		}
		if (wk->wk_model == NULL || wk->wk_fd == -1 ||
		    strcmp(wk->wk_model->hm_desc.d_name, name) != 0)
			continue;
		if (wk->wk_retiring) {
			if (version == NULL && (old == NULL ||
			    wk->wk_seq > old->wk_seq))
				old = wk;
			continue;
		}
		if (version != NULL) {
			if (strcmp(wk->wk_model->hm_desc.d_version,
			    version) != 0)
				continue;
			*known = 1;
			return wk;
		}
		*known = 1;
		if (best == NULL || wk->wk_seq > best->wk_seq)
			best = wk;
	}
	if (best == NULL && old != NULL && loading)
		best = old;
	return best;
}

static struct http_model *
front_be_model(void *ctx, const char *name, const char *version, int *known)
{
	struct front *f = ctx;
	struct front_wk *wk;
	struct http_model *hm;

	pthread_mutex_lock(&f->f_mtx);
	wk = front_route(f, name, version, known);
	hm = wk != NULL ? http_model_ref(wk->wk_model) : NULL;
	pthread_mutex_unlock(&f->f_mtx);
	return hm;
}

/*
 * Ready: every worker the parent started (and has not retired) has
 * published its model, and there is a model: model.dir's, or with a
 * repository, once the parent's index says what it started, at least one
 * (none is fine only under model control, where models load on request).
 */
static int
front_be_ready(void *ctx)
{
	struct front *f = ctx;
	int any = 0, all = 1, repo = f->f_cf->cf_repository[0] != '\0';
	size_t i;

	pthread_mutex_lock(&f->f_mtx);
	if (repo && f->f_index == NULL)
		all = 0;
	for (i = 0; i < FRONT_MAX_WORKERS; i++) {
		if (f->f_wk[i].wk_id == 0 || f->f_wk[i].wk_retiring)
			continue;
		if (f->f_wk[i].wk_model != NULL && f->f_wk[i].wk_fd != -1)
			any = 1;
		else
			all = 0;
	}
	pthread_mutex_unlock(&f->f_mtx);
	if (repo && f->f_cf->cf_model_control == CONFIG_CONTROL_EXPLICIT)
		return all;
	return any && all;
}

/* The loaded versions of name, with their digest and signer. */
static void
front_be_describe(void *ctx, const char *name, json_t *obj)
{
	struct front *f = ctx;
	json_t *vs = json_array(), *det = json_array(), *params;
	const struct model_desc *d;
	struct front_wk *def;
	size_t i;
	int known;

	if (vs == NULL || det == NULL) {
		json_decref(vs);
		json_decref(det);
		return;
	}
	pthread_mutex_lock(&f->f_mtx);
	def = front_route(f, name, NULL, &known);
	for (i = 0; i < FRONT_MAX_WORKERS; i++) {
		struct front_wk *wk = &f->f_wk[i];

		if (wk->wk_id == 0 || wk->wk_model == NULL ||
		    wk->wk_fd == -1 || wk->wk_retiring ||
		    strcmp(wk->wk_model->hm_desc.d_name, name) != 0)
			continue;
		d = &wk->wk_model->hm_desc;
		json_array_append_new(vs, json_string(d->d_version));
		json_array_append_new(det, json_pack("{s:s, s:s, s:s, s:b, "
		    "s:b}", "version", d->d_version, "digest", d->d_digest,
		    "signer", d->d_signer, "verified", d->d_verified,
		    "default", wk == def));
	}
	pthread_mutex_unlock(&f->f_mtx);
	if (json_array_size(vs) > 0)
		(void)json_object_set_new(obj, "versions", vs);
	else
		json_decref(vs);
	params = json_object_get(obj, "parameters");
	if (params != NULL)
		(void)json_object_set_new(params, "loaded_versions", det);
	else
		json_decref(det);
}

static int
front_be_submit(void *ctx, struct http_job *job)
{
	struct front *f = ctx;
	const struct model_desc *d = &job->jb_model->hm_desc, *cur;
	struct front_wk *wk;
	struct front_shm *fs;
	struct pending *pd = NULL;
	union {
		struct ipc_infer	in;
		uint8_t			b[sizeof(struct ipc_infer) +
					    IPC_MAX_REQ_IMAGES * sizeof(uint32_t)];
	} msg;
	size_t img, i, len;
	uint32_t k;
	int r;

	img = (size_t)d->d_channels * d->d_height * d->d_width;
	if (job->jb_n < 1 || job->jb_n > d->d_max_request ||
	    (job->jb_input == NULL && (job->jb_pixels == NULL ||
	    d->d_channels != 3)))
		return AG_ERR_INVALID_ARG;
	pthread_mutex_lock(&f->f_mtx);
	/* The worker that published the model the request was routed to. */
	wk = front_wk_by_id(f, job->jb_model->hm_backend);
	fs = wk != NULL ? wk->wk_shm : NULL;
	cur = wk != NULL && wk->wk_model != NULL ? &wk->wk_model->hm_desc :
	    NULL;
	if (wk == NULL || wk->wk_fd == -1 || cur == NULL || fs == NULL ||
	    cur->d_height != d->d_height || cur->d_width != d->d_width ||
	    cur->d_classes != d->d_classes) {
		pthread_mutex_unlock(&f->f_mtx);
		return AG_ERR_UNAVAILABLE;
	}
	if (fs->fs_nfree < (uint32_t)job->jb_n ||
	    f->f_npend == FRONT_MAX_PENDING) {
		pthread_mutex_unlock(&f->f_mtx);
		return AG_ERR_BUSY;
	}
	for (i = 0; i < FRONT_MAX_PENDING; i++)
		if (f->f_pend[i].pd_id == 0) {
			pd = &f->f_pend[i];
			break;
		}
	AG_ASSERT(pd != NULL);
	pd->pd_id = ++f->f_next_id;
	pd->pd_job = job;
	pd->pd_wk = wk;
	pd->pd_shm = fs;
	fs->fs_refs++;
	pd->pd_n = (uint32_t)job->jb_n;
	for (k = 0; k < pd->pd_n; k++)
		pd->pd_slots[k] = fs->fs_free[--fs->fs_nfree];
	f->f_npend++;
	wk->wk_npend++;
	/*
	 * Copied under the lock: a worker lost meanwhile would hand these
	 * slots to another request.  0.6 MB per image (a quarter as
	 * pixels), tens of microseconds.
	 */
	for (k = 0; k < pd->pd_n; k++)
		if (job->jb_input != NULL)
			memcpy(fs->fs_base + (size_t)pd->pd_slots[k] *
			    fs->fs_slot_bytes, job->jb_input + k * img,
			    img * sizeof(float));
		else
			memcpy(fs->fs_base + (size_t)pd->pd_slots[k] *
			    fs->fs_slot_bytes, job->jb_pixels + k * img, img);
	len = sizeof(msg.in) + pd->pd_n * sizeof(uint32_t);
	ipc_hdr_init(&msg.in.in_hdr, IPC_INFER, len, pd->pd_id);
	msg.in.in_n = pd->pd_n;
	msg.in.in_flags = (job->jb_returns ? IPC_INFER_RETURNS : 0) |
	    (job->jb_input == NULL ? IPC_INFER_PIXELS : 0);
	memcpy(msg.in.in_slots, pd->pd_slots, pd->pd_n * sizeof(uint32_t));
	/* Never block here: a full socket means an overloaded worker. */
	r = send(wk->wk_fd, &msg, len, MSG_NOSIGNAL | MSG_DONTWAIT) ==
	    (ssize_t)len ? 0 : (errno == EAGAIN || errno == EWOULDBLOCK) ?
	    AG_ERR_BUSY : AG_ERR_UNAVAILABLE;
	if (r != 0)
		(void)front_pending_take(f, pd, 0);
	pthread_mutex_unlock(&f->f_mtx);
	return r;
}

/*
 * The client of job has gone: asks the worker to drop it if still queued
 * (it answers it AG_ERR_UNAVAILABLE then, freeing its slots at once).
 */
static void
front_be_cancel(void *ctx, struct http_job *job)
{
	struct front *f = ctx;
	struct pending *pd;
	struct ipc_hdr h;
	size_t i;

	pthread_mutex_lock(&f->f_mtx);
	for (i = 0; i < FRONT_MAX_PENDING; i++)
		if (f->f_pend[i].pd_id != 0 && f->f_pend[i].pd_job == job)
			break;
	pd = i < FRONT_MAX_PENDING ? &f->f_pend[i] : NULL;
	if (pd != NULL && !pd->pd_cancelled && pd->pd_wk->wk_fd != -1) {
		ipc_hdr_init(&h, IPC_CANCEL, sizeof(h), pd->pd_id);
		/* Never block: a full link only means no cancel. */
		if (send(pd->pd_wk->wk_fd, &h, sizeof(h), MSG_NOSIGNAL |
		    MSG_DONTWAIT) == (ssize_t)sizeof(h))
			pd->pd_cancelled = 1;
	}
	pthread_mutex_unlock(&f->f_mtx);
}

/* One inference answered: the statistics of the worker that ran it. */
static void
front_be_account(void *ctx, const struct http_model *hm, int ok, int images,
    double total_s, double input_s, double output_s,
    const struct http_job *job)
{
	struct front *f = ctx;
	struct front_wk *wk;

	pthread_mutex_lock(&f->f_mtx);
	wk = front_wk_by_id(f, hm->hm_backend);
	if (wk != NULL && wk->wk_stats != NULL)
		stats_request(wk->wk_stats, ok, images, total_s,
		    job != NULL ? job->jb_queue_s : 0, input_s,
		    job != NULL ? job->jb_infer_s : 0, output_s);
	pthread_mutex_unlock(&f->f_mtx);
}

/* GET /v2/models[/NAME[/versions/V]]/stats */
static json_t *
front_be_stats(void *ctx, const char *name, const char *version)
{
	struct front *f = ctx;
	json_t *arr = json_array(), *o;
	size_t i;
	int known = name == NULL;

	if (arr == NULL)
		return NULL;
	pthread_mutex_lock(&f->f_mtx);
	for (i = 0; i < FRONT_MAX_WORKERS; i++) {
		struct front_wk *wk = &f->f_wk[i];
		const char *n = front_wk_name(wk), *v = front_wk_version(wk);

		if (wk->wk_id == 0 || wk->wk_retiring || wk->wk_stats ==
		    NULL || n[0] == '\0' || (name != NULL &&
		    strcmp(n, name) != 0) || (version != NULL &&
		    strcmp(v, version) != 0))
			continue;
		known = 1;
		if ((o = stats_json(wk->wk_stats, n, v)) != NULL)
			json_array_append_new(arr, o);
	}
	pthread_mutex_unlock(&f->f_mtx);
	if (!known) {
		json_decref(arr);
		return NULL;
	}
	return json_pack("{s:o}", "model_stats", arr);
}

static const char *const front_index_states[] = {
	"UNAVAILABLE", "LOADING", "READY", "UNLOADING"
};

/* POST /v2/repository/index: the parent's view of the repository. */
static json_t *
front_be_index(void *ctx)
{
	struct front *f = ctx;
	json_t *arr = json_array(), *e;
	uint32_t i;

	if (arr == NULL)
		return NULL;
	pthread_mutex_lock(&f->f_mtx);
	for (i = 0; f->f_index != NULL && i < f->f_index->ix_n; i++) {
		const struct ipc_index_entry *ie = &f->f_index->ix_e[i];

		e = json_pack("{s:s, s:s}", "name", ie->ie_name, "state",
		    front_index_states[ie->ie_state]);
		if (e == NULL)
			continue;
		if (ie->ie_version[0] != '\0')
			(void)json_object_set_new(e, "version",
			    json_string(ie->ie_version));
		if (ie->ie_reason[0] != '\0')
			(void)json_object_set_new(e, "reason",
			    json_string(ie->ie_reason));
		json_array_append_new(arr, e);
	}
	pthread_mutex_unlock(&f->f_mtx);
	return arr;
}

/* POST /v2/repository/models/NAME/load|unload: asks the parent. */
static int
front_be_control(void *ctx, int op, const char *name, struct http_job *job)
{
	struct front *f = ctx;
	struct ipc_ctl_request rq;
	size_t i;
	int r;

	if (strlen(name) >= sizeof(rq.rq_name)) {
		(void)snprintf(job->jb_msg, sizeof(job->jb_msg), "model name "
		    "too long");
		return AG_ERR_INVALID_ARG;
	}
	pthread_mutex_lock(&f->f_mtx);
	for (i = 0; i < FRONT_MAX_CONTROL; i++)
		if (f->f_control[i] == NULL)
			break;
	if (i == FRONT_MAX_CONTROL || f->f_ctl == -1) {
		pthread_mutex_unlock(&f->f_mtx);
		(void)snprintf(job->jb_msg, sizeof(job->jb_msg), "busy: %d "
		    "model loads or unloads in progress", FRONT_MAX_CONTROL);
		return AG_ERR_BUSY;
	}
	memset(&rq, 0, sizeof(rq));
	ipc_hdr_init(&rq.rq_hdr, IPC_CTL_REQUEST, sizeof(rq),
	    ++f->f_next_control);
	rq.rq_op = op == HTTP_CONTROL_LOAD ? IPC_REQUEST_LOAD :
	    IPC_REQUEST_UNLOAD;
	memcpy(rq.rq_name, name, strlen(name) + 1);
	if ((r = ipc_send(f->f_ctl, &rq, sizeof(rq), -1)) == 0) {
		f->f_control[i] = job;
		f->f_control_id[i] = f->f_next_control;
	}
	pthread_mutex_unlock(&f->f_mtx);
	return r == 0 ? 0 : AG_ERR_UNAVAILABLE;
}

/* "front:landlock", ...: static strings for GET /v2, made at start. */
static char front_layer_names[2][8][32];

static void
front_layer_names_init(void)
{
	uint32_t bit;
	int i;

	for (bit = 1, i = 0; bit <= SB_ALL && i < 8; bit <<= 1, i++) {
		(void)snprintf(front_layer_names[0][i], 32, "front:%s",
		    sandbox_layer_name(bit));
		(void)snprintf(front_layer_names[1][i], 32, "worker:%s",
		    sandbox_layer_name(bit));
	}
}

/*
 * The front's layers, then the workers': a layer is listed for the worker
 * role when every published worker has it in force.
 */
static int
front_be_layers(void *ctx, const char **out, int max)
{
	struct front *f = ctx;
	uint32_t bit, wl = SB_ALL;
	int n = 0, i, any = 0;
	size_t k;

	pthread_mutex_lock(&f->f_mtx);
	for (k = 0; k < FRONT_MAX_WORKERS; k++)
		if (f->f_wk[k].wk_id != 0 && f->f_wk[k].wk_model != NULL) {
			wl &= f->f_wk[k].wk_layers;
			any = 1;
		}
	for (bit = 1, i = 0; bit <= SB_ALL && i < 8; bit <<= 1, i++)
		if ((f->f_layers & bit) && n < max)
			out[n++] = front_layer_names[0][i];
	for (bit = 1, i = 0; bit <= SB_ALL && i < 8; bit <<= 1, i++)
		if (any && (wl & bit) && n < max)
			out[n++] = front_layer_names[1][i];
	pthread_mutex_unlock(&f->f_mtx);
	return n;
}

/* The layers of one role, as gauges. */
static void
front_layer_metrics(struct front *f, const char *role, uint32_t layers)
{
	uint32_t bit;

	for (bit = 1; bit <= SB_ALL; bit <<= 1)
		metrics_layer(f->f_metrics, role, sandbox_layer_name(bit),
		    (layers & bit) != 0);
}

/* A retired worker with nothing left in flight: its link closes. */
static void
front_wk_drained(struct front *f, struct front_wk *wk)
{
	int refs;

	if (!wk->wk_retiring || wk->wk_fd == -1 || wk->wk_npend > 0)
		return;
	/*
	 * A request routed to it may not have been submitted yet (its body
	 * still arriving): it holds a reference to the model.  Closed once
	 * only ours is left, or past the grace period.
	 */
	refs = wk->wk_model != NULL ? __atomic_load_n(&wk->wk_model->hm_refs,
	    __ATOMIC_ACQUIRE) : 1;
	if (refs > 1 && ag_now() < wk->wk_retire_at)
		return;
	front_wk_lost(f, wk, "retired");
}

/* A RESULT for one of ours: copy the logits out, wake the request. */
static void
front_on_result(struct front *f, struct front_wk *wk,
    const struct ipc_result *rs)
{
	struct pending *pd = NULL;
	const struct model_desc *d;
	struct http_job *job;
	struct front_shm *fs;
	size_t i, img;
	uint32_t k;
	int cancelled;
	char name[MODEL_NAME_MAX], ver[MODEL_VERSION_MAX];

	pthread_mutex_lock(&f->f_mtx);
	for (i = 0; i < FRONT_MAX_PENDING; i++)
		if (f->f_pend[i].pd_id == rs->rs_hdr.ih_id &&
		    rs->rs_hdr.ih_id != 0 && f->f_pend[i].pd_wk == wk) {
			pd = &f->f_pend[i];
			break;
		}
	if (pd == NULL || pd->pd_n != rs->rs_n) {
		front_wk_lost(f, wk, "result for an unknown request");
		pthread_mutex_unlock(&f->f_mtx);
		return;
	}
	job = pd->pd_job;
	fs = pd->pd_shm;
	d = &job->jb_model->hm_desc;
	img = (size_t)d->d_channels * d->d_height * d->d_width;
	if (rs->rs_status == 0)
		for (k = 0; k < pd->pd_n; k++)
			memcpy(job->jb_logits + k * d->d_classes,
			    fs->fs_base + (size_t)pd->pd_slots[k] *
			    fs->fs_slot_bytes + img * sizeof(float),
			    (size_t)d->d_classes * sizeof(float));
	job->jb_status = rs->rs_status;
	job->jb_queue_s = rs->rs_queue_us * 1e-6;
	job->jb_infer_s = rs->rs_infer_us * 1e-6;
	job->jb_batch_size = (int)rs->rs_batch_size;
	job->jb_batch_first = (int)rs->rs_batch_first;
	cancelled = pd->pd_cancelled && rs->rs_status != 0;
	(void)front_pending_take(f, pd, 0);
	if (!cancelled && rs->rs_batch_first && wk->wk_stats != NULL)
		stats_execution(wk->wk_stats, (int)rs->rs_batch_size,
		    rs->rs_infer_us * 1e-6);
	(void)snprintf(name, sizeof(name), "%s", d->d_name);
	(void)snprintf(ver, sizeof(ver), "%s", d->d_version);
	front_wk_drained(f, wk);
	pthread_mutex_unlock(&f->f_mtx);
	if (!cancelled) {
		metrics_request_worker(f->f_metrics, name, ver,
		    job->jb_queue_s, job->jb_infer_s);
		if (rs->rs_batch_first)
			metrics_batch(f->f_metrics, name, ver,
			    (int)rs->rs_batch_size);
	}
	job->jb_done(job);
}

/* Maps the worker's shared area after checking what it is. */
static int
front_map_shm(const struct ipc_hello *hl, int fd, struct front_shm **out,
    char *err, size_t errlen)
{
	struct front_shm *fs;
	struct stat st;
	int seals;
	uint32_t i;

	*out = NULL;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size != hl->hl_shm_bytes)
		return ag_errf(err, errlen, AG_ERR_PROTOCOL,
		    "shared area: not a file of %llu bytes",
		    (unsigned long long)hl->hl_shm_bytes);
	seals = fcntl(fd, F_GET_SEALS);
	if (seals == -1 || !(seals & F_SEAL_SHRINK))
		return ag_errf(err, errlen, AG_ERR_PROTOCOL,
		    "shared area: not sealed against shrinking");
	if ((fs = calloc(1, sizeof(*fs))) == NULL ||
	    (fs->fs_free = calloc(hl->hl_slots, sizeof(uint32_t))) == NULL) {
		if (fs != NULL)
			free(fs);
		return AG_ERR_ALLOC;
	}
	fs->fs_base = mmap(NULL, (size_t)hl->hl_shm_bytes, PROT_READ |
	    PROT_WRITE, MAP_SHARED, fd, 0);
	if (fs->fs_base == MAP_FAILED) {
		free(fs->fs_free);
		free(fs);
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "mmap: %s",
		    strerror(errno));
	}
	fs->fs_refs = 1;
	fs->fs_bytes = (size_t)hl->hl_shm_bytes;
	fs->fs_slot_bytes = (size_t)hl->hl_slot_bytes;
	fs->fs_nslots = hl->hl_slots;
	for (i = 0; i < hl->hl_slots; i++)
		fs->fs_free[i] = hl->hl_slots - 1 - i;
	fs->fs_nfree = hl->hl_slots;
	*out = fs;
	return 0;
}

/* All the labels arrived: check them and publish the model. */
static int
front_publish(struct front *f, struct front_wk *wk, char *err, size_t errlen)
{
	const struct ipc_hello *hl = &wk->wk_hello;
	const struct model_desc *d;
	struct http_model *hm, *old;
	char *labels = wk->wk_labels;
	int r;

	wk->wk_labels = NULL;
	/* A repository's worker serves the model and version it was for. */
	if (wk->wk_name[0] != '\0' && (strcmp(hl->hl_model.d_name,
	    wk->wk_name) != 0 || strcmp(hl->hl_model.d_version,
	    wk->wk_version) != 0)) {
		free(labels);
		return ag_errf(err, errlen, AG_ERR_PROTOCOL, "hello: model %s "
		    "version %s, not the %s %s it was started for",
		    hl->hl_model.d_name, hl->hl_model.d_version, wk->wk_name,
		    wk->wk_version);
	}
	if ((r = http_model_new(&hl->hl_model, labels, hl->hl_labels_bytes,
	    &hm, err, errlen)) != 0)
		return r;
	hm->hm_backend = wk->wk_id;
	d = &hm->hm_desc;

	pthread_mutex_lock(&f->f_mtx);
	old = wk->wk_model;
	wk->wk_model = hm;
	wk->wk_layers = hl->hl_layers;
	memcpy(wk->wk_last_name, d->d_name, sizeof(wk->wk_last_name));
	memcpy(wk->wk_last_version, d->d_version,
	    sizeof(wk->wk_last_version));
	pthread_mutex_unlock(&f->f_mtx);
	front_layer_metrics(f, "worker", hl->hl_layers);
	/* A reload to another version: the old one's gauges go. */
	if (old != NULL && (strcmp(old->hm_desc.d_name, d->d_name) != 0 ||
	    strcmp(old->hm_desc.d_version, d->d_version) != 0))
		metrics_model_forget(f->f_metrics, old->hm_desc.d_name,
		    old->hm_desc.d_version);
	http_model_unref(old);
	metrics_model(f->f_metrics, d->d_name, d->d_version, 1, d->d_verified,
	    d->d_digest);
	metrics_worker_up(f->f_metrics, d->d_name, d->d_version, 1);
	log_info("ready model=%s version=%s arch=%s classes=%d input=%dx%d",
	    d->d_name, d->d_version, d->d_arch, d->d_classes, d->d_height,
	    d->d_width);
	return 0;
}

/* One message from a worker; a bad one costs the worker its link. */
static void
front_worker_msg(struct front *f, struct front_wk *wk, const struct ipc_hdr *h,
    int fd)
{
	char err[256];
	int r = 0;

	err[0] = '\0';
	switch (h->ih_type) {
	case IPC_HELLO: {
		const struct ipc_hello *hl = (const void *)h;
		struct front_shm *fs = NULL;

		pthread_mutex_lock(&f->f_mtx);
		fs = wk->wk_shm;
		pthread_mutex_unlock(&f->f_mtx);
		if (fs == NULL) {
			/* A new worker: its first HELLO brings the area. */
			if (fd == -1) {
				r = ag_errf(err, sizeof(err), AG_ERR_PROTOCOL,
				    "first hello without a shared area");
				break;
			}
			if ((r = front_map_shm(hl, fd, &fs, err,
			    sizeof(err))) != 0)
				break;
			pthread_mutex_lock(&f->f_mtx);
			wk->wk_shm = fs;
			pthread_mutex_unlock(&f->f_mtx);
		} else if (fd != -1 || hl->hl_shm_bytes != fs->fs_bytes ||
		    hl->hl_slot_bytes != fs->fs_slot_bytes ||
		    hl->hl_slots != fs->fs_nslots) {
			r = ag_errf(err, sizeof(err), AG_ERR_PROTOCOL,
			    "reload hello changes the shared area");
			break;
		}
		wk->wk_hello = *hl;
		wk->wk_have_hello = 1;
		free(wk->wk_labels);
		wk->wk_labels_got = 0;
		if ((wk->wk_labels = malloc(hl->hl_labels_bytes)) == NULL)
			r = AG_ERR_ALLOC;
		break;
	}
	case IPC_LABELS: {
		const struct ipc_labels *lb = (const void *)h;

		if (!wk->wk_have_hello || wk->wk_labels == NULL ||
		    lb->lb_offset != wk->wk_labels_got ||
		    lb->lb_len > wk->wk_hello.hl_labels_bytes -
		    wk->wk_labels_got) {
			r = ag_errf(err, sizeof(err), AG_ERR_PROTOCOL,
			    "labels out of order or too long");
			break;
		}
		memcpy(wk->wk_labels + wk->wk_labels_got, lb->lb_data,
		    lb->lb_len);
		wk->wk_labels_got += lb->lb_len;
		if (wk->wk_labels_got == wk->wk_hello.hl_labels_bytes)
			r = front_publish(f, wk, err, sizeof(err));
		break;
	}
	case IPC_RESULT:
		front_on_result(f, wk, (const void *)h);
		break;
	case IPC_RELOAD: {
		const struct ipc_reload *rl = (const void *)h;
		char q[600];

		log_quote_value(q, sizeof(q), rl->rl_msg);
		metrics_reload(f->f_metrics, front_wk_name(wk), rl->rl_ok != 0);
		if (!rl->rl_ok && rl->rl_code == AG_ERR_SIGNATURE)
			metrics_verify_failure(f->f_metrics,
			    front_wk_name(wk));
		if (rl->rl_ok)
			log_event(LOG_LVL_INFO, "event=reload result=ok msg=%s",
			    q);
		else
			log_event(LOG_LVL_WARN, "event=reload result=failed "
			    "serving=old msg=%s", q);
		break;
	}
	default:
		r = ag_errf(err, sizeof(err), AG_ERR_PROTOCOL,
		    "unexpected message type %u", (unsigned)h->ih_type);
	}
	if (fd != -1)
		(void)close(fd);
	if (r != 0) {
		pthread_mutex_lock(&f->f_mtx);
		front_wk_lost(f, wk, err[0] ? err : ag_strerror(r));
		pthread_mutex_unlock(&f->f_mtx);
	}
}

static void
front_worker_read(struct front *f, struct front_wk *wk)
{
	static union ipc_msg msg;	/* one reader: the front's main thread */
	union ipc_msg *m = &msg;
	char err[256];
	int n, fd, wfd;

	for (;;) {
		pthread_mutex_lock(&f->f_mtx);
		wfd = wk->wk_fd;
		pthread_mutex_unlock(&f->f_mtx);
		if (wfd == -1)
			break;
		/* Only this thread closes wk_fd, so wfd stays valid here. */
		n = ipc_recv(wfd, m, sizeof(*m), &fd, 1, err, sizeof(err));
		if (n == AG_ERR_BUSY)
			break;
		if (n <= 0) {
			pthread_mutex_lock(&f->f_mtx);
			front_wk_lost(f, wk, n == 0 ? "end of link" : err);
			pthread_mutex_unlock(&f->f_mtx);
			break;
		}
		front_worker_msg(f, wk, &m->h, fd);
	}
}

/*
 * The parent's CTL_FRONTDOOR: the token set and the TLS credentials, put
 * in force (on a server that runs, srv != NULL) or kept for http_start()
 * (*tsp).  A set that does not parse here (the parent checked it) keeps
 * the one in force.
 */
static void
front_frontdoor(struct front *f, const struct ipc_ctl_frontdoor *m, int fd,
    struct token_set **tsp)
{
	struct token_set *ts = NULL;
	struct tls_creds *tc = NULL;
	char err[512];

	if (frontdoor_receive(f->f_cf, m, fd, &ts, &tc, err,
	    sizeof(err)) != 0) {
		log_warnx("front door (generation %u) refused, keeping the "
		    "one in force: %s", m->fd_generation, err);
		return;
	}
	if (tc != NULL)
		tls_creds_install(tc);
	if (f->f_http != NULL)
		http_set_tokens(f->f_http, ts);
	else if (tsp != NULL) {
		tokens_free(*tsp);
		*tsp = ts;
	} else
		tokens_free(ts);
	log_debug("front door generation %u in force", m->fd_generation);
}

/* CTL_WORKER: a new worker's link, in a new slot or its old one. */
static void
front_new_worker(struct front *f, const struct ipc_ctl_worker *cw, int fd)
{
	struct front_wk *wk;
	size_t i;

	pthread_mutex_lock(&f->f_mtx);
	if ((wk = front_wk_by_id(f, cw->cw_id)) != NULL)
		front_wk_lost(f, wk, "replaced");
	else {
		for (i = 0; i < FRONT_MAX_WORKERS; i++)
			if (f->f_wk[i].wk_id == 0)
				break;
		if (i == FRONT_MAX_WORKERS) {
			pthread_mutex_unlock(&f->f_mtx);
			log_warnx("worker %u refused: %d model versions "
			    "served already", (unsigned)cw->cw_id,
			    FRONT_MAX_WORKERS);
			(void)close(fd);
			return;
		}
		wk = &f->f_wk[i];
		memset(wk, 0, sizeof(*wk));
		wk->wk_id = cw->cw_id;
		memcpy(wk->wk_name, cw->cw_name, sizeof(wk->wk_name));
		memcpy(wk->wk_version, cw->cw_version, sizeof(wk->wk_version));
		wk->wk_stats = stats_new();
	}
	wk->wk_fd = fd;
	wk->wk_seq = cw->cw_default_seq;
	pthread_mutex_unlock(&f->f_mtx);
	if (cw->cw_restarts > 0)
		metrics_worker_restart(f->f_metrics, front_wk_name(wk));
	while (f->f_load_failures < cw->cw_load_failures) {
		metrics_model_load_failure(f->f_metrics, front_wk_name(wk));
		f->f_load_failures++;
	}
	log_debug("new worker link id=%u model=%s version=%s (restarts so "
	    "far: %u)", (unsigned)cw->cw_id, cw->cw_name, cw->cw_version,
	    (unsigned)cw->cw_restarts);
}

/* CTL_ROUTE: a worker retired (drained, then closed) or made default. */
static void
front_route_msg(struct front *f, const struct ipc_ctl_route *rt)
{
	struct front_wk *wk;

	pthread_mutex_lock(&f->f_mtx);
	if ((wk = front_wk_by_id(f, rt->rt_id)) == NULL) {
		pthread_mutex_unlock(&f->f_mtx);
		return;
	}
	if (rt->rt_op == IPC_ROUTE_DEFAULT)
		wk->wk_seq = rt->rt_seq;
	else if (!wk->wk_retiring) {
		wk->wk_retiring = 1;
		wk->wk_retire_at = ag_now() + f->f_cf->cf_request_timeout +
		    FRONT_RETIRE_GRACE_S;
		if (wk->wk_fd == -1) {
			/* Not linked now: the slot goes at once. */
			stats_free(wk->wk_stats);
			memset(wk, 0, sizeof(*wk));
			wk->wk_fd = -1;
		} else
			front_wk_drained(f, wk);
	}
	pthread_mutex_unlock(&f->f_mtx);
}

/* CTL_REPLY: the outcome of a load or unload, to its request. */
static void
front_reply(struct front *f, const struct ipc_ctl_reply *rp)
{
	struct http_job *job = NULL;
	size_t i;

	pthread_mutex_lock(&f->f_mtx);
	for (i = 0; i < FRONT_MAX_CONTROL; i++)
		if (f->f_control[i] != NULL &&
		    f->f_control_id[i] == rp->rp_hdr.ih_id) {
			job = f->f_control[i];
			f->f_control[i] = NULL;
			break;
		}
	pthread_mutex_unlock(&f->f_mtx);
	if (job == NULL)
		return;
	job->jb_status = rp->rp_status;
	(void)snprintf(job->jb_msg, sizeof(job->jb_msg), "%s", rp->rp_msg);
	job->jb_done(job);
}

/* A message from the parent. */
static int
front_ctl_read(struct front *f, int ctl)
{
	static union ipc_msg m;		/* the main thread only */
	struct ipc_ctl_index *ix;
	char err[256];
	int n, fd;

	n = ipc_recv(ctl, &m, sizeof(m), &fd, 0, err, sizeof(err));
	if (n == 0) {
		log_warnx("parent gone; stopping");
		return -1;
	}
	if (n < 0)
		fatalx("parent link: %s", err);
	switch (m.h.ih_type) {
	case IPC_CTL_FRONTDOOR:
		front_frontdoor(f, (const void *)&m, fd, NULL);
		break;
	case IPC_CTL_WORKER:
		if (fd == -1)
			fatalx("parent link: a worker without its link");
		front_new_worker(f, (const void *)&m, fd);
		return 0;
	case IPC_CTL_ROUTE:
		front_route_msg(f, (const void *)&m);
		break;
	case IPC_CTL_INDEX:
		if ((ix = malloc((size_t)n)) == NULL)
			break;
		memcpy(ix, &m, (size_t)n);
		pthread_mutex_lock(&f->f_mtx);
		free(f->f_index);
		f->f_index = ix;
		pthread_mutex_unlock(&f->f_mtx);
		break;
	case IPC_CTL_REPLY:
		front_reply(f, (const void *)&m);
		break;
	default:
		fatalx("parent link: unexpected message %u", m.h.ih_type);
	}
	if (fd != -1)
		(void)close(fd);
	return 0;
}

/* Fails the model control requests still waiting (the parent is gone). */
static void
front_control_fail(struct front *f)
{
	struct http_job *job;
	size_t i;

	for (i = 0; i < FRONT_MAX_CONTROL; i++) {
		pthread_mutex_lock(&f->f_mtx);
		job = f->f_control[i];
		f->f_control[i] = NULL;
		pthread_mutex_unlock(&f->f_mtx);
		if (job == NULL)
			continue;
		job->jb_status = AG_ERR_UNAVAILABLE;
		(void)snprintf(job->jb_msg, sizeof(job->jb_msg), "stopping");
		job->jb_done(job);
	}
}

int
front_main(const struct daemon_ctx *dc, int ctl, int lfd)
{
	const struct ag_config *cf = dc->dc_cf;
	struct http_backend be;
	struct sandbox_conf sc;
	struct sandbox_state ss;
	static struct front f;	/* large: not on the stack */
	struct token_set *ts = NULL;
	struct pollfd pfd[3 + FRONT_MAX_WORKERS];
	struct front_wk *pwk[3 + FRONT_MAX_WORKERS];
	sigset_t set;
	char err[512];
	int sigfd, stopping = 0;
	size_t i;
	double deadline = 0;

	memset(&f, 0, sizeof(f));
	f.f_cf = cf;
	f.f_ctl = ctl;
	for (i = 0; i < FRONT_MAX_WORKERS; i++)
		f.f_wk[i].wk_fd = -1;
	log_set_role("front");
	(void)prctl(PR_SET_NAME, "aiguardd-front");
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1 ||
	    (sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		fatal("signalfd");
	/* Confined before any thread exists: Landlock binds this one only. */
	daemon_sandbox_conf(dc, SANDBOX_FRONT, &sc);
	if (sandbox_enter(&sc, &ss, err, sizeof(err)) != 0) {
		log_warnx("sandbox required but not possible: %s", err);
		return EXIT_SANDBOX;
	}
	if (pthread_mutex_init(&f.f_mtx, NULL) != 0)
		fatalx("pthread_mutex_init");
	if ((f.f_pend = calloc(FRONT_MAX_PENDING, sizeof(*f.f_pend))) == NULL)
		fatal("calloc");
	if ((f.f_metrics = metrics_new(AIGUARD_VERSION)) == NULL)
		fatalx("metrics_new");
	front_layer_names_init();
	front_layer_metrics(&f, "front", ss.ss_active);
	f.f_layers = ss.ss_active;

	/*
	 * A front door configured: its files come first, before anything
	 * is served (the parent sends them right after the fork).
	 */
	if (cf->cf_tokens[0] != '\0' || cf->cf_tls_cert[0] != '\0') {
		union {
			struct ipc_hdr		 h;
			struct ipc_ctl_frontdoor fd;
			uint8_t			 b[256];
		} m;
		int n, fd;

		n = ipc_recv(ctl, &m, sizeof(m), &fd, 0, err, sizeof(err));
		if (n <= 0 || m.h.ih_type != IPC_CTL_FRONTDOOR) {
			log_warnx("parent link: %s", n < 0 ? err : n == 0 ?
			    "closed" : "expected the front door's files");
			return FRONT_EXIT_LISTEN;
		}
		front_frontdoor(&f, &m.fd, fd, &ts);
		if (fd != -1)
			(void)close(fd);
		if ((cf->cf_tokens[0] != '\0' && ts == NULL)) {
			log_warnx("the front door's files did not load");
			return FRONT_EXIT_LISTEN;
		}
	}
	memset(&be, 0, sizeof(be));
	be.be_ctx = &f;
	be.be_model = front_be_model;
	be.be_ready = front_be_ready;
	be.be_describe = front_be_describe;
	be.be_submit = front_be_submit;
	be.be_cancel = front_be_cancel;
	be.be_layers = front_be_layers;
	be.be_stats = front_be_stats;
	be.be_account = front_be_account;
	be.be_index = front_be_index;
	be.be_control = cf->cf_model_control == CONFIG_CONTROL_EXPLICIT ?
	    front_be_control : NULL;
	/* HTTP threads start after the signal mask: they inherit it. */
	if (http_start(cf, lfd, &be, f.f_metrics, ts, &f.f_http, err,
	    sizeof(err)) != 0) {
		log_warnx("%s", err);
		return FRONT_EXIT_LISTEN;
	}
	/*
	 * The HTTP threads exist: no more processes, and the syscall list,
	 * under which the front opens no file.  What opens one on first use
	 * does it now: jansson's hash seed (/dev/urandom), glibc's time zone
	 * (/etc/localtime, for the Date header).
	 */
	json_object_seed(0);
	tzset();
	if (sandbox_lock(&sc, &ss, err, sizeof(err)) != 0) {
		log_warnx("sandbox required but not possible: %s", err);
		return EXIT_SANDBOX;
	}
	f.f_layers = ss.ss_active;
	front_layer_metrics(&f, "front", ss.ss_active);
	daemon_sandbox_log(&sc, &ss);
	log_info("listening on %s:%d", cf->cf_listen_addr,
	    http_port(f.f_http));

	for (;;) {
		int nfd = 0, timeout = -1, retiring = 0;

		pfd[nfd].fd = sigfd;
		pfd[nfd].events = POLLIN;
		pwk[nfd++] = NULL;
		pfd[nfd].fd = ctl;
		pfd[nfd].events = POLLIN;
		pwk[nfd++] = NULL;
		pthread_mutex_lock(&f.f_mtx);
		for (i = 0; i < FRONT_MAX_WORKERS; i++) {
			if (f.f_wk[i].wk_id == 0 || f.f_wk[i].wk_fd == -1)
				continue;
			/* A retired worker drains: look again soon. */
			if (f.f_wk[i].wk_retiring) {
				front_wk_drained(&f, &f.f_wk[i]);
				if (f.f_wk[i].wk_fd == -1)
					continue;
				retiring = 1;
			}
			pfd[nfd].fd = f.f_wk[i].wk_fd;
			pfd[nfd].events = POLLIN;
			pwk[nfd++] = &f.f_wk[i];
		}
		pthread_mutex_unlock(&f.f_mtx);
		if (retiring)
			timeout = 50;
		if (stopping) {
			int left = http_inflight(f.f_http);

			if (left == 0 || ag_now() > deadline) {
				if (left > 0)
					log_warnx("drain timeout: %d "
					    "request(s) cut off", left);
				break;
			}
			timeout = 20;
		}
		if (poll(pfd, (nfds_t)nfd, timeout) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sigfd, &si, sizeof(si)) == sizeof(si))
				if (si.ssi_signo == SIGTERM && !stopping) {
					stopping = 1;
					deadline = ag_now() +
					    cf->cf_request_timeout;
					http_quiesce(f.f_http);
					log_info("SIGTERM: not accepting; "
					    "finishing %d request(s)",
					    http_inflight(f.f_http));
				}
		}
		/* The workers first: a link the parent replaces is read out. */
		for (i = 2; i < (size_t)nfd; i++)
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				front_worker_read(&f, pwk[i]);
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR) &&
		    front_ctl_read(&f, ctl) != 0) {
			ctl = -1;	/* poll() skips it from now on */
			pthread_mutex_lock(&f.f_mtx);
			f.f_ctl = -1;
			pthread_mutex_unlock(&f.f_mtx);
			front_control_fail(&f);
			if (!stopping) {
				stopping = 1;
				deadline = ag_now() + cf->cf_request_timeout;
				http_quiesce(f.f_http);
			}
		}
	}
	/* Fail what still waits (resuming it) before the server goes. */
	pthread_mutex_lock(&f.f_mtx);
	for (i = 0; i < FRONT_MAX_WORKERS; i++)
		if (f.f_wk[i].wk_id != 0)
			front_wk_lost(&f, &f.f_wk[i], "shutdown");
	pthread_mutex_unlock(&f.f_mtx);
	front_control_fail(&f);
	http_stop(f.f_http);
	log_info("stopped");
	return 0;
}
