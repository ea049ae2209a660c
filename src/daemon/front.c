/* SPDX-License-Identifier: ISC */
/*
 * front.c: the process that faces the network.
 *
 * It runs the HTTP server (src/http) and is its backend: a submitted job's
 * images are written into free slots of the shared area that the worker
 * created, an INFER names the slots, and the RESULT that comes back wakes
 * the suspended HTTP request.  The main thread reads the parent's control
 * link (new workers), the worker link (HELLO, LABELS, RESULT, RELOAD) and
 * the signals.
 *
 * The front never opens a model file: the labels and the geometry come
 * from the worker, and are checked like any other input.  Nor the token
 * file or the TLS files: the parent sends their bytes (CTL_FRONTDOOR), at
 * start, before the front serves anything, and after each SIGHUP.  When the worker
 * dies, every request waiting for it gets 503 at once and the model is
 * unpublished (ready is false) until a new worker says HELLO.
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
#include "http/server.h"
#include "http/tls.h"
#include "http/tokens.h"
#include "daemon.h"
#include "ipc.h"

#define FRONT_MAX_PENDING	4096

/* The shared area of one worker; freed when the last user lets go. */
struct front_shm {
	int		 fs_refs;	/* under f_mtx */
	uint8_t		*fs_base;
	size_t		 fs_bytes, fs_slot_bytes;
	uint32_t	 fs_nslots;
	uint32_t	*fs_free;	/* stack of free slot indices */
	uint32_t	 fs_nfree;
};

struct pending {
	uint64_t	 pd_id;		/* 0: entry unused */
	struct http_job	*pd_job;
	struct front_shm *pd_shm;
	uint32_t	 pd_n;
	int		 pd_cancelled;	/* IPC_CANCEL sent */
	uint32_t	 pd_slots[IPC_MAX_REQ_IMAGES];
};

struct front {
	const struct ag_config	*f_cf;
	struct metrics		*f_metrics;
	struct http_server	*f_http;
	pthread_mutex_t		 f_mtx;
	/* worker link, under f_mtx */
	int			 f_wfd;
	struct front_shm	*f_shm;
	struct http_model	*f_model;	/* published: ready */
	struct pending		*f_pend;	/* FRONT_MAX_PENDING entries */
	size_t			 f_npend;
	uint64_t		 f_next_id;
	/* model being announced (main thread only) */
	struct ipc_hello	 f_hello;
	int			 f_have_hello;
	char			*f_labels;
	uint32_t		 f_labels_got;
	uint32_t		 f_layers;		/* ours, SB_* */
	uint32_t		 f_worker_layers;	/* under f_mtx */
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
	pd->pd_id = 0;
	pd->pd_job = NULL;
	pd->pd_shm = NULL;
	pd->pd_cancelled = 0;
	f->f_npend--;
	return job;
}

/* Worker gone: fail everything waiting for it.  Called with f_mtx held. */
static void
front_worker_lost(struct front *f, const char *why)
{
	struct http_job **done;
	size_t i, n = 0;

	if (f->f_wfd == -1)
		return;
	if (strcmp(why, "shutdown") == 0)
		log_info("closing the worker link");
	else
		log_warnx("worker lost (%s): %zu request(s) answered 503; "
		    "not ready until it is back", why, f->f_npend);
	(void)close(f->f_wfd);
	f->f_wfd = -1;
	http_model_unref(f->f_model);
	f->f_model = NULL;
	metrics_worker_up(f->f_metrics, f->f_hello.hl_model.d_name,
	    f->f_hello.hl_model.d_version, 0);
	metrics_model(f->f_metrics, f->f_hello.hl_model.d_name,
	    f->f_hello.hl_model.d_version, 0, 0, "");
	done = calloc(f->f_npend + 1, sizeof(*done));
	for (i = 0; i < FRONT_MAX_PENDING && f->f_npend > 0; i++) {
		struct http_job *job;

		if (f->f_pend[i].pd_id == 0)
			continue;
		job = front_pending_take(f, &f->f_pend[i], AG_ERR_UNAVAILABLE);
		if (done != NULL)
			done[n++] = job;
		else
			job->jb_done(job);	/* no memory: under the lock */
	}
	front_shm_unref(f->f_shm);
	f->f_shm = NULL;
	f->f_have_hello = 0;
	free(f->f_labels);
	f->f_labels = NULL;
	pthread_mutex_unlock(&f->f_mtx);
	for (i = 0; i < n; i++)
		done[i]->jb_done(done[i]);
	pthread_mutex_lock(&f->f_mtx);
	free(done);
}

static struct http_model *
front_be_model(void *ctx)
{
	struct front *f = ctx;
	struct http_model *hm;

	pthread_mutex_lock(&f->f_mtx);
	hm = http_model_ref(f->f_model);
	pthread_mutex_unlock(&f->f_mtx);
	return hm;
}

static int
front_be_submit(void *ctx, struct http_job *job)
{
	struct front *f = ctx;
	const struct model_desc *d = &job->jb_model->hm_desc, *cur;
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
	fs = f->f_shm;
	cur = f->f_model != NULL ? &f->f_model->hm_desc : NULL;
	if (f->f_wfd == -1 || cur == NULL || fs == NULL ||
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
	pd->pd_shm = fs;
	fs->fs_refs++;
	pd->pd_n = (uint32_t)job->jb_n;
	for (k = 0; k < pd->pd_n; k++)
		pd->pd_slots[k] = fs->fs_free[--fs->fs_nfree];
	f->f_npend++;
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
	r = send(f->f_wfd, &msg, len, MSG_NOSIGNAL | MSG_DONTWAIT) ==
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
	struct ipc_hdr h;
	size_t i;

	pthread_mutex_lock(&f->f_mtx);
	for (i = 0; i < FRONT_MAX_PENDING; i++)
		if (f->f_pend[i].pd_id != 0 && f->f_pend[i].pd_job == job)
			break;
	if (i < FRONT_MAX_PENDING && !f->f_pend[i].pd_cancelled &&
	    f->f_wfd != -1) {
		ipc_hdr_init(&h, IPC_CANCEL, sizeof(h), f->f_pend[i].pd_id);
		/* Never block: a full link only means no cancel. */
		if (send(f->f_wfd, &h, sizeof(h), MSG_NOSIGNAL |
		    MSG_DONTWAIT) == (ssize_t)sizeof(h))
			f->f_pend[i].pd_cancelled = 1;
	}
	pthread_mutex_unlock(&f->f_mtx);
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

static int
front_be_layers(void *ctx, const char **out, int max)
{
	struct front *f = ctx;
	uint32_t bit;
	int n = 0, i;

	pthread_mutex_lock(&f->f_mtx);
	for (bit = 1, i = 0; bit <= SB_ALL && i < 8; bit <<= 1, i++)
		if ((f->f_layers & bit) && n < max)
			out[n++] = front_layer_names[0][i];
	for (bit = 1, i = 0; bit <= SB_ALL && i < 8; bit <<= 1, i++)
		if (f->f_model != NULL && (f->f_worker_layers & bit) &&
		    n < max)
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

/* A RESULT for one of ours: copy the logits out, wake the request. */
static void
front_on_result(struct front *f, const struct ipc_result *rs)
{
	struct pending *pd = NULL;
	const struct model_desc *d;
	struct http_job *job;
	struct front_shm *fs;
	size_t i, img;
	uint32_t k;
	int cancelled;

	pthread_mutex_lock(&f->f_mtx);
	for (i = 0; i < FRONT_MAX_PENDING; i++)
		if (f->f_pend[i].pd_id == rs->rs_hdr.ih_id &&
		    rs->rs_hdr.ih_id != 0) {
			pd = &f->f_pend[i];
			break;
		}
	if (pd == NULL || pd->pd_n != rs->rs_n) {
		front_worker_lost(f, "result for an unknown request");
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
	pthread_mutex_unlock(&f->f_mtx);
	if (!cancelled) {
		metrics_request_worker(f->f_metrics, d->d_name, d->d_version,
		    job->jb_queue_s, job->jb_infer_s);
		if (rs->rs_batch_first)
			metrics_batch(f->f_metrics, d->d_name, d->d_version,
			    (int)rs->rs_batch_size);
	}
	job->jb_done(job);
}

/* Maps the worker's shared area after checking what it is. */
static int
front_map_shm(struct front *f, const struct ipc_hello *hl, int fd,
    struct front_shm **out, char *err, size_t errlen)
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
front_publish(struct front *f, char *err, size_t errlen)
{
	const struct ipc_hello *hl = &f->f_hello;
	const struct model_desc *d;
	struct http_model *hm, *old;
	char *labels = f->f_labels;
	int r;

	f->f_labels = NULL;
	if ((r = http_model_new(&hl->hl_model, labels, hl->hl_labels_bytes,
	    &hm, err, errlen)) != 0)
		return r;
	d = &hm->hm_desc;

	pthread_mutex_lock(&f->f_mtx);
	old = f->f_model;
	f->f_model = hm;
	f->f_worker_layers = hl->hl_layers;
	pthread_mutex_unlock(&f->f_mtx);
	front_layer_metrics(f, "worker", hl->hl_layers);
	http_model_unref(old);
	metrics_model(f->f_metrics, d->d_name, d->d_version, 1, d->d_verified,
	    d->d_digest);
	metrics_worker_up(f->f_metrics, d->d_name, d->d_version, 1);
	log_info("ready model=%s version=%s arch=%s classes=%d input=%dx%d",
	    d->d_name, d->d_version, d->d_arch, d->d_classes, d->d_height,
	    d->d_width);
	return 0;
}

/* One message from the worker; a bad one costs the worker its link. */
static void
front_worker_msg(struct front *f, const struct ipc_hdr *h, int fd)
{
	char err[256];
	int r = 0;

	err[0] = '\0';
	switch (h->ih_type) {
	case IPC_HELLO: {
		const struct ipc_hello *hl = (const void *)h;
		struct front_shm *fs = NULL;

		pthread_mutex_lock(&f->f_mtx);
		fs = f->f_shm;
		pthread_mutex_unlock(&f->f_mtx);
		if (fs == NULL) {
			/* A new worker: its first HELLO brings the area. */
			if (fd == -1) {
				r = ag_errf(err, sizeof(err), AG_ERR_PROTOCOL,
				    "first hello without a shared area");
				break;
			}
			if ((r = front_map_shm(f, hl, fd, &fs, err,
			    sizeof(err))) != 0)
				break;
			pthread_mutex_lock(&f->f_mtx);
			f->f_shm = fs;
			pthread_mutex_unlock(&f->f_mtx);
		} else if (fd != -1 || hl->hl_shm_bytes != fs->fs_bytes ||
		    hl->hl_slot_bytes != fs->fs_slot_bytes ||
		    hl->hl_slots != fs->fs_nslots) {
			r = ag_errf(err, sizeof(err), AG_ERR_PROTOCOL,
			    "reload hello changes the shared area");
			break;
		}
		f->f_hello = *hl;
		f->f_have_hello = 1;
		free(f->f_labels);
		f->f_labels_got = 0;
		if ((f->f_labels = malloc(hl->hl_labels_bytes)) == NULL)
			r = AG_ERR_ALLOC;
		break;
	}
	case IPC_LABELS: {
		const struct ipc_labels *lb = (const void *)h;

		if (!f->f_have_hello || f->f_labels == NULL ||
		    lb->lb_offset != f->f_labels_got ||
		    lb->lb_len > f->f_hello.hl_labels_bytes - f->f_labels_got) {
			r = ag_errf(err, sizeof(err), AG_ERR_PROTOCOL,
			    "labels out of order or too long");
			break;
		}
		memcpy(f->f_labels + f->f_labels_got, lb->lb_data, lb->lb_len);
		f->f_labels_got += lb->lb_len;
		if (f->f_labels_got == f->f_hello.hl_labels_bytes)
			r = front_publish(f, err, sizeof(err));
		break;
	}
	case IPC_RESULT:
		front_on_result(f, (const void *)h);
		break;
	case IPC_RELOAD: {
		const struct ipc_reload *rl = (const void *)h;
		char q[600];

		log_quote_value(q, sizeof(q), rl->rl_msg);
		metrics_reload(f->f_metrics, f->f_hello.hl_model.d_name,
		    rl->rl_ok != 0);
		if (!rl->rl_ok && rl->rl_code == AG_ERR_SIGNATURE)
			metrics_verify_failure(f->f_metrics,
			    f->f_hello.hl_model.d_name);
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
		front_worker_lost(f, err[0] ? err : ag_strerror(r));
		pthread_mutex_unlock(&f->f_mtx);
	}
}

static void
front_worker_read(struct front *f)
{
	static union ipc_msg msg;	/* one reader: the front's main thread */
	union ipc_msg *m = &msg;
	char err[256];
	int n, fd, wfd;

	for (;;) {
		pthread_mutex_lock(&f->f_mtx);
		wfd = f->f_wfd;
		pthread_mutex_unlock(&f->f_mtx);
		if (wfd == -1)
			break;
		/* Only this thread closes f_wfd, so wfd stays valid here. */
		n = ipc_recv(wfd, m, sizeof(*m), &fd, 1, err, sizeof(err));
		if (n == AG_ERR_BUSY)
			break;
		if (n <= 0) {
			pthread_mutex_lock(&f->f_mtx);
			front_worker_lost(f, n == 0 ? "end of link" : err);
			pthread_mutex_unlock(&f->f_mtx);
			break;
		}
		front_worker_msg(f, &m->h, fd);
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

/* A message from the parent: a new worker's socket, or the front door. */
static int
front_ctl_read(struct front *f, int ctl)
{
	union {
		struct ipc_hdr		 h;
		struct ipc_ctl_worker	 cw;
		struct ipc_ctl_frontdoor fd;
		uint8_t			 b[256];
	} m;
	char err[256];
	int n, fd;

	n = ipc_recv(ctl, &m, sizeof(m), &fd, 0, err, sizeof(err));
	if (n == 0) {
		log_warnx("parent gone; stopping");
		return -1;
	}
	if (n < 0)
		fatalx("parent link: %s", err);
	if (m.h.ih_type == IPC_CTL_FRONTDOOR) {
		front_frontdoor(f, &m.fd, fd, NULL);
		if (fd != -1)
			(void)close(fd);
		return 0;
	}
	if (m.h.ih_type != IPC_CTL_WORKER || fd == -1)
		fatalx("parent link: unexpected message %u", m.h.ih_type);
	pthread_mutex_lock(&f->f_mtx);
	front_worker_lost(f, "replaced");
	f->f_wfd = fd;
	pthread_mutex_unlock(&f->f_mtx);
	if (m.cw.cw_restarts > 0)
		metrics_worker_restart(f->f_metrics,
		    f->f_hello.hl_model.d_name);
	while (f->f_load_failures < m.cw.cw_load_failures) {
		metrics_model_load_failure(f->f_metrics,
		    f->f_hello.hl_model.d_name);
		f->f_load_failures++;
	}
	log_debug("new worker link (restarts so far: %u)",
	    (unsigned)m.cw.cw_restarts);
	return 0;
}

int
front_main(const struct daemon_ctx *dc, int ctl, int lfd)
{
	const struct ag_config *cf = dc->dc_cf;
	struct http_backend be;
	struct sandbox_conf sc;
	struct sandbox_state ss;
	struct front f;
	struct token_set *ts = NULL;
	struct pollfd pfd[3];
	sigset_t set;
	char err[512];
	int sigfd, stopping = 0;
	double deadline = 0;

	memset(&f, 0, sizeof(f));
	f.f_cf = cf;
	f.f_wfd = -1;
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
	be.be_ctx = &f;
	be.be_model = front_be_model;
	be.be_submit = front_be_submit;
	be.be_cancel = front_be_cancel;
	be.be_layers = front_be_layers;
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
		int nfd = 0, wfd, timeout = -1;

		pthread_mutex_lock(&f.f_mtx);
		wfd = f.f_wfd;
		pthread_mutex_unlock(&f.f_mtx);
		pfd[nfd].fd = sigfd;
		pfd[nfd++].events = POLLIN;
		pfd[nfd].fd = ctl;
		pfd[nfd++].events = POLLIN;
		if (wfd != -1) {
			pfd[nfd].fd = wfd;
			pfd[nfd++].events = POLLIN;
		}
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
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR) &&
		    front_ctl_read(&f, ctl) != 0) {
			ctl = -1;	/* poll() skips it from now on */
			if (!stopping) {
				stopping = 1;
				deadline = ag_now() + cf->cf_request_timeout;
				http_quiesce(f.f_http);
			}
		}
		if (nfd == 3 && (pfd[2].revents & (POLLIN | POLLHUP | POLLERR)))
			front_worker_read(&f);
	}
	/* Fail what still waits (resuming it) before the server goes. */
	pthread_mutex_lock(&f.f_mtx);
	front_worker_lost(&f, "shutdown");
	pthread_mutex_unlock(&f.f_mtx);
	http_stop(f.f_http);
	log_info("stopped");
	return 0;
}
