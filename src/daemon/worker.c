/* SPDX-License-Identifier: ISC */
/*
 * worker.c: the process that holds the weights.
 *
 * It loads the model, creates the shared tensor area, announces both to the
 * front, and then batches: requests arriving within max_delay_us of the
 * oldest queued one (or until max_batch images) go through the engine in
 * one call.  Every INFER is checked against the worker's own state before
 * anything is read from the shared area; a front that breaks the protocol
 * is cut off (the worker exits and the parent starts another).
 *
 * SIGHUP reloads the model from the same directory between batches.  A
 * reload that fails, or that would change the tensor geometry, keeps the
 * old model serving and says so in the log and to the front.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/ag_err.h"
#include "common/config.h"
#include "common/log.h"
#include "common/util.h"
#include "engine/resnet.h"
#include "image/image.h"
#include "model/model.h"
#include "daemon.h"
#include "ipc.h"

struct wreq {
	uint64_t	wr_id;
	uint32_t	wr_n;
	uint32_t	wr_slots[IPC_MAX_REQ_IMAGES];
	double		wr_arrival;
	int		wr_returns;	/* IPC_INFER_RETURNS */
	int		wr_pixels;	/* IPC_INFER_PIXELS */
};

struct worker {
	const struct ag_config	*w_cf;
	const struct daemon_ctx	*w_dc;
	int			 w_sock;
	int			 w_sigfd;
	struct model		*w_md;
	struct resnet_ws	*w_ws;
	int			 w_cap;		/* most images per engine call:
					   max(max_batch, max_request_batch) */
	int			 w_max_request;
	/* shared area */
	int			 w_shmfd;
	uint8_t			*w_shm;
	size_t			 w_shm_bytes, w_slot_bytes;
	uint32_t		 w_nslots;
	int			 w_c, w_h, w_w, w_classes;
	/* queue: a ring of requests, FIFO */
	struct wreq		*w_q;
	size_t			 w_qcap, w_qhead, w_qlen;
	size_t			 w_qimages;
	uint8_t			*w_slot_busy;	/* per slot: named by a queued request */
	float			*w_in, *w_out;
	uint64_t		 w_batch_id;
	uint32_t		 w_generation;
	int			 w_stopping;
	uint32_t		 w_layers;	/* SB_* in force */
	/* after a batch: images expected at once (worker_wait_s()) */
	size_t			 w_expect;
	double			 w_expect_at;
};

static int
worker_send_hello(struct worker *w, int fd)
{
	const struct model_conf *mc = &w->w_md->md_conf;
	struct ipc_hello hl;
	struct ipc_labels *lb;
	char *blob;
	size_t total = 0, off;
	int i, r;

	for (i = 0; i < mc->mc_classes; i++)
		total += strlen(model_label(w->w_md, i)) + 1;
	if (total > UINT32_MAX || (blob = malloc(total)) == NULL)
		return AG_ERR_ALLOC;
	for (i = 0, off = 0; i < mc->mc_classes; i++) {
		size_t l = strlen(model_label(w->w_md, i)) + 1;

		memcpy(blob + off, model_label(w->w_md, i), l);
		off += l;
	}

	memset(&hl, 0, sizeof(hl));
	ipc_hdr_init(&hl.hl_hdr, IPC_HELLO, sizeof(hl), 0);
	hl.hl_generation = w->w_generation;
	hl.hl_slots = w->w_nslots;
	hl.hl_slot_bytes = w->w_slot_bytes;
	hl.hl_shm_bytes = w->w_shm_bytes;
	hl.hl_labels_bytes = (uint32_t)total;
	hl.hl_layers = w->w_layers;
	model_describe(w->w_md, w->w_cf->cf_model_name, &hl.hl_model);
	hl.hl_model.d_channels = w->w_c;
	hl.hl_model.d_max_request = w->w_max_request;
	if ((r = ipc_send(w->w_sock, &hl, sizeof(hl), fd)) != 0)
		goto out;

	if ((lb = malloc(sizeof(*lb) + IPC_LABEL_CHUNK)) == NULL) {
		r = AG_ERR_ALLOC;
		goto out;
	}
	for (off = 0; off < total; off += lb->lb_len) {
		size_t len = total - off;

		if (len > IPC_LABEL_CHUNK)
			len = IPC_LABEL_CHUNK;
		ipc_hdr_init(&lb->lb_hdr, IPC_LABELS, sizeof(*lb) + len, 0);
		lb->lb_offset = (uint32_t)off;
		lb->lb_len = (uint32_t)len;
		memcpy(lb->lb_data, blob + off, len);
		if ((r = ipc_send(w->w_sock, lb, sizeof(*lb) + len, -1)) != 0)
			break;
	}
	free(lb);
 out:
	free(blob);
	return r;
}

/* Loads the model and its workspace; nothing in w changes on failure. */
static int
worker_load(struct worker *w, struct model **mdp, struct resnet_ws **wsp,
    char *err, size_t errlen)
{
	char dir[PATH_MAX], ver[MODEL_VERSION_MAX], q[1100], qd[4200];
	int r;

	*mdp = NULL;
	*wsp = NULL;
	/*
	 * A store's current link is read here, once per load: everything is
	 * read from one version even if a deploy switches the link meanwhile.
	 */
	model_loc_current(&w->w_dc->dc_model, dir, sizeof(dir), ver,
	    sizeof(ver));
	log_quote_value(qd, sizeof(qd), dir);
	if ((r = model_load_signed(dir, daemon_trust(), mdp, err,
	    errlen)) != 0) {
		if (r == AG_ERR_SIGNATURE || daemon_trust() != NULL) {
			log_quote_value(q, sizeof(q), err);
			log_event(LOG_LVL_WARN, "event=model_verify result=failed "
			    "dir=%s version=%s msg=%s", qd, ver, q);
		}
		return r;
	}
	(void)snprintf((*mdp)->md_version, sizeof((*mdp)->md_version), "%s",
	    ver);
	if ((*mdp)->md_signed) {
		log_quote_value(q, sizeof(q), (*mdp)->md_sig.mr_signer);
		log_event(LOG_LVL_INFO, "event=model_verify result=ok dir=%s "
		    "version=%s files=%zu digest=%s signer=%s", qd, ver,
		    (*mdp)->md_sig.mr_files, (*mdp)->md_sig.mr_digest, q);
		/* model.cert_validity = signing-time let an old chain in. */
		if ((*mdp)->md_sig.mr_cert_note[0] != '\0') {
			log_quote_value(q, sizeof(q),
			    (*mdp)->md_sig.mr_cert_note);
			log_event(LOG_LVL_WARN, "event=model_verify "
			    "result=ok dir=%s version=%s msg=%s", qd, ver, q);
		}
	}
	if ((r = resnet_ws_new((*mdp)->md_net, w->w_cap,
	    (*mdp)->md_conf.mc_height, (*mdp)->md_conf.mc_width, wsp, err,
	    errlen)) != 0) {
		model_free(*mdp);
		*mdp = NULL;
	}
	/* Loading's scratch (tens of MB) goes back to the system. */
	(void)malloc_trim(0);
	return r;
}

static void
worker_shm_create(struct worker *w)
{
	const struct model_conf *mc = &w->w_md->md_conf;
	uint64_t total;

	w->w_c = 3;
	w->w_h = mc->mc_height;
	w->w_w = mc->mc_width;
	w->w_classes = mc->mc_classes;
	w->w_nslots = (uint32_t)w->w_cf->cf_queue_slots;
	w->w_slot_bytes = ipc_slot_bytes(w->w_c, w->w_h, w->w_w, w->w_classes);
	if (w->w_slot_bytes == 0 || __builtin_mul_overflow(w->w_slot_bytes,
	    (uint64_t)w->w_nslots, &total) || total > SIZE_MAX / 2)
		fatalx("shared area: size overflow");
	w->w_shm_bytes = (size_t)total;
	w->w_shmfd = memfd_create("aiguard-tensors",
	    MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (w->w_shmfd == -1)
		fatal("memfd_create");
	if (ftruncate(w->w_shmfd, (off_t)w->w_shm_bytes) == -1)
		fatal("ftruncate shared area");
	/* The front maps it too: neither side may shrink it under the other. */
	if (fcntl(w->w_shmfd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK |
	    F_SEAL_SEAL) == -1)
		fatal("seal shared area");
	w->w_shm = mmap(NULL, w->w_shm_bytes, PROT_READ | PROT_WRITE,
	    MAP_SHARED, w->w_shmfd, 0);
	if (w->w_shm == MAP_FAILED)
		fatal("mmap shared area");
	if ((w->w_slot_busy = calloc(w->w_nslots, 1)) == NULL ||
	    (w->w_q = calloc(w->w_nslots, sizeof(*w->w_q))) == NULL)
		fatal("calloc");
	w->w_qcap = w->w_nslots;
}

static int
worker_alloc_buffers(struct worker *w)
{
	size_t in, out;

	free(w->w_in);
	free(w->w_out);
	w->w_in = w->w_out = NULL;
	if (ag_mul_size((size_t)w->w_cap * 3, (size_t)w->w_h * w->w_w, &in) ||
	    ag_mul_size((size_t)w->w_cap, (size_t)w->w_classes, &out) ||
	    (w->w_in = calloc(in, sizeof(float))) == NULL ||
	    (w->w_out = calloc(out, sizeof(float))) == NULL)
		return AG_ERR_ALLOC;
	return 0;
}

static uint32_t
worker_us(double s)
{
	if (s < 0)
		return 0;
	if (s > 4000.0)
		return UINT32_MAX;
	return (uint32_t)(s * 1e6);
}

/*
 * Runs the oldest queued requests that fit in one engine call.  Returns
 * how many of its images came from clients that come back at once
 * (IPC_INFER_RETURNS).
 */
static size_t
worker_run_batch(struct worker *w)
{
	size_t img = (size_t)w->w_c * w->w_h * w->w_w;
	size_t take = 0, nimg = 0, back = 0, i, k, at;
	struct ipc_result rs;
	double t0, t1;
	int r;

	/*
	 * Whole requests, up to max_batch images; a request of more images
	 * than that (up to max_request_batch) goes alone.
	 */
	while (take < w->w_qlen) {
		struct wreq *q = &w->w_q[(w->w_qhead + take) % w->w_qcap];

		if (take > 0 && nimg + q->wr_n > (size_t)w->w_cf->cf_max_batch)
			break;
		nimg += q->wr_n;
		take++;
	}
	/* wr_n <= w_max_request <= w_cap */
	AG_ASSERT(take > 0 && nimg <= (size_t)w->w_cap);

	for (i = 0, at = 0; i < take; i++) {
		struct wreq *q = &w->w_q[(w->w_qhead + i) % w->w_qcap];

		for (k = 0; k < q->wr_n; k++, at++) {
			const uint8_t *s = w->w_shm + (size_t)q->wr_slots[k] *
			    w->w_slot_bytes;

			if (q->wr_pixels)
				image_to_tensor(s, w->w_w, w->w_h,
				    w->w_md->md_conf.mc_mean,
				    w->w_md->md_conf.mc_std, w->w_in + at * img);
			else
				memcpy(w->w_in + at * img, s,
				    img * sizeof(float));
		}
	}
	t0 = ag_now();
	r = resnet_forward(w->w_md->md_net, w->w_ws, w->w_in, (int)nimg,
	    w->w_out);
	t1 = ag_now();
	w->w_batch_id++;
	if (r != 0)
		log_warnx("engine: batch of %zu: %s", nimg, ag_strerror(r));

	for (i = 0, at = 0; i < take; i++) {
		struct wreq *q = &w->w_q[w->w_qhead];

		for (k = 0; k < q->wr_n; k++, at++) {
			if (r == 0)
				memcpy(w->w_shm + (size_t)q->wr_slots[k] *
				    w->w_slot_bytes + img * sizeof(float),
				    w->w_out + at * w->w_classes,
				    (size_t)w->w_classes * sizeof(float));
			w->w_slot_busy[q->wr_slots[k]] = 0;
		}
		memset(&rs, 0, sizeof(rs));
		ipc_hdr_init(&rs.rs_hdr, IPC_RESULT, sizeof(rs), q->wr_id);
		rs.rs_status = r;
		rs.rs_n = q->wr_n;
		rs.rs_batch_id = w->w_batch_id;
		rs.rs_batch_size = (uint32_t)nimg;
		rs.rs_batch_first = i == 0;
		rs.rs_queue_us = worker_us(t0 - q->wr_arrival);
		rs.rs_infer_us = worker_us(t1 - t0);
		if (ipc_send(w->w_sock, &rs, sizeof(rs), -1) != 0) {
			log_info("front gone (%s); exiting", strerror(errno));
			exit(0);
		}
		if (q->wr_returns)
			back += q->wr_n;
		w->w_qimages -= q->wr_n;
		w->w_qhead = (w->w_qhead + 1) % w->w_qcap;
		w->w_qlen--;
	}
	log_debug("batch %llu: %zu request(s), %zu image(s), %.2f ms, "
	    "%.2f ms after the last one", (unsigned long long)w->w_batch_id,
	    take, nimg, (t1 - t0) * 1e3, w->w_expect_at > 0 ?
	    (t0 - w->w_expect_at) * 1e3 : 0.0);
	return back;
}

/* Queues one INFER after checking it against our own state. */
static void
worker_enqueue(struct worker *w, const struct ipc_infer *in)
{
	struct wreq *q;
	uint32_t k;

	if (in->in_n > (uint32_t)w->w_max_request || w->w_qlen == w->w_qcap)
		fatalx("front broke the protocol: request of %u image(s), "
		    "%zu queued", (unsigned)in->in_n, w->w_qlen);
	if ((in->in_flags & IPC_INFER_PIXELS) && w->w_c != 3)
		fatalx("front broke the protocol: RGB pixels for a model of "
		    "%d channels", w->w_c);
	q = &w->w_q[(w->w_qhead + w->w_qlen) % w->w_qcap];
	for (k = 0; k < in->in_n; k++) {
		uint32_t s = in->in_slots[k];

		if (s >= w->w_nslots || w->w_slot_busy[s])
			fatalx("front broke the protocol: slot %u invalid or "
			    "in use", (unsigned)s);
		w->w_slot_busy[s] = 1;
		q->wr_slots[k] = s;
	}
	q->wr_id = in->in_hdr.ih_id;
	q->wr_n = in->in_n;
	q->wr_arrival = ag_now();
	q->wr_returns = (in->in_flags & IPC_INFER_RETURNS) != 0;
	q->wr_pixels = (in->in_flags & IPC_INFER_PIXELS) != 0;
	w->w_qlen++;
	w->w_qimages += in->in_n;
}

/*
 * IPC_CANCEL: the front's client has gone.  A request still queued leaves
 * the queue unrun, its slots freed, answered AG_ERR_UNAVAILABLE; one not
 * found has run already (its RESULT is on its way) and is no matter.
 */
static void
worker_cancel(struct worker *w, uint64_t id)
{
	struct ipc_result rs;
	struct wreq *q;
	size_t i, k;

	for (i = 0; i < w->w_qlen; i++)
		if (w->w_q[(w->w_qhead + i) % w->w_qcap].wr_id == id)
			break;
	if (i == w->w_qlen)
		return;
	q = &w->w_q[(w->w_qhead + i) % w->w_qcap];
	for (k = 0; k < q->wr_n; k++)
		w->w_slot_busy[q->wr_slots[k]] = 0;
	memset(&rs, 0, sizeof(rs));
	ipc_hdr_init(&rs.rs_hdr, IPC_RESULT, sizeof(rs), id);
	rs.rs_status = AG_ERR_UNAVAILABLE;
	rs.rs_n = q->wr_n;
	if (ipc_send(w->w_sock, &rs, sizeof(rs), -1) != 0) {
		log_info("front gone (%s); exiting", strerror(errno));
		exit(0);
	}
	w->w_qimages -= q->wr_n;
	/* The ones behind it move up: the queue stays in order. */
	for (; i + 1 < w->w_qlen; i++)
		w->w_q[(w->w_qhead + i) % w->w_qcap] =
		    w->w_q[(w->w_qhead + i + 1) % w->w_qcap];
	w->w_qlen--;
	log_debug("request %llu cancelled: its client has gone",
	    (unsigned long long)id);
}

/*
 * Seconds the queue may still wait before it goes to the engine (<= 0:
 * now).  It waits while it holds fewer than max_batch images and either
 * its oldest request is younger than max_delay_us, or the batch that
 * just ran answered clients that come back at once (IPC_INFER_RETURNS),
 * return_wait_us has not passed since, and the queue has not yet got as
 * many images as that batch sent back plus those it left queued.
 * Without the second rule such clients (four of them, say) fell into
 * uneven batches - 3 then 1, the one alone while the three decode - and
 * the engine ran a batch of one at a time, its least efficient.  Clients
 * that do not come back never make it wait.
 */
static double
worker_wait_s(const struct worker *w, double now)
{
	const struct ag_config *cf = w->w_cf;
	size_t target;
	double due, ret;

	if (w->w_qlen == 0 || w->w_stopping ||
	    w->w_qimages >= (size_t)cf->cf_max_batch)
		return 0;
	due = w->w_q[w->w_qhead].wr_arrival + cf->cf_max_delay_us * 1e-6 -
	    now;
	target = w->w_expect < (size_t)cf->cf_max_batch ? w->w_expect :
	    (size_t)cf->cf_max_batch;
	if (w->w_qimages < target) {
		ret = w->w_expect_at + cf->cf_return_wait_us * 1e-6 - now;
		if (ret > due)
			due = ret;
	}
	return due;
}

/* Reads every message waiting on the socket. */
static void
worker_read(struct worker *w)
{
	static union ipc_msg msg;	/* one reader: the worker's thread */
	union ipc_msg *m = &msg;
	char err[256];
	int n;

	for (;;) {
		n = ipc_recv(w->w_sock, m, sizeof(*m), NULL, 1, err,
		    sizeof(err));
		if (n == AG_ERR_BUSY)
			break;
		if (n == 0) {
			log_info("front closed the link; exiting");
			exit(0);
		}
		if (n < 0)
			fatalx("front link: %s", err);
		if (m->h.ih_type == IPC_CANCEL) {
			worker_cancel(w, m->h.ih_id);
			continue;
		}
		if (m->h.ih_type != IPC_INFER)
			fatalx("front broke the protocol: message type %u",
			    (unsigned)m->h.ih_type);
		worker_enqueue(w, (const struct ipc_infer *)m);
	}
}

/*
 * Runs one batch if one is due.  After it, takes in what came during the
 * pass (so that the count is whole) and expects as many images as are
 * queued plus those of the clients it just answered that come back at
 * once (worker_wait_s()).  One batch per turn of the main loop: under a
 * load that never lets the queue empty, signals (SIGHUP, SIGTERM) are
 * still seen between two batches.
 */
static void
worker_run_due(struct worker *w)
{
	size_t back;

	if (w->w_qlen == 0 || worker_wait_s(w, ag_now()) > 0)
		return;
	back = worker_run_batch(w);
	worker_read(w);
	w->w_expect = back + w->w_qimages;
	w->w_expect_at = ag_now();
}

static void
worker_reload(struct worker *w)
{
	struct ipc_reload rl;
	struct model *md;
	struct resnet_ws *ws;
	char err[512];
	int r;

	/* Requests already queued are answered by the model they came for. */
	while (w->w_qlen > 0)
		worker_run_batch(w);
	memset(&rl, 0, sizeof(rl));
	ipc_hdr_init(&rl.rl_hdr, IPC_RELOAD, sizeof(rl), 0);
	log_info("reload requested");
	if ((r = worker_load(w, &md, &ws, err, sizeof(err))) != 0) {
		log_warnx("reload failed, the old model keeps serving: %s",
		    err);
		rl.rl_code = r;
		(void)snprintf(rl.rl_msg, sizeof(rl.rl_msg), "%.250s", err);
	} else if (md->md_conf.mc_height != w->w_h ||
	    md->md_conf.mc_width != w->w_w ||
	    md->md_conf.mc_classes != w->w_classes) {
		(void)snprintf(rl.rl_msg, sizeof(rl.rl_msg),
		    "new model's input %dx%d or classes %d differ from the "
		    "serving one's; restart aiguardd to change them",
		    md->md_conf.mc_height, md->md_conf.mc_width,
		    md->md_conf.mc_classes);
		log_warnx("reload refused, the old model keeps serving: %s",
		    rl.rl_msg);
		resnet_ws_free(ws);
		model_free(md);
	} else {
		resnet_ws_free(w->w_ws);
		model_free(w->w_md);
		w->w_md = md;
		w->w_ws = ws;
		w->w_generation++;
		rl.rl_ok = 1;
		(void)snprintf(rl.rl_msg, sizeof(rl.rl_msg), "reloaded %.240s",
		    md->md_dir);
		log_info("reloaded model=%s arch=%s dir=%s version=%s "
		    "digest=%s", md->md_conf.mc_name, md->md_conf.mc_arch,
		    md->md_dir, md->md_version, md->md_signed ?
		    md->md_sig.mr_digest : "unsigned");
	}
	/* The model not kept (old or refused) goes back to the system. */
	(void)malloc_trim(0);
	if (ipc_send(w->w_sock, &rl, sizeof(rl), -1) != 0 ||
	    (rl.rl_ok && worker_send_hello(w, -1) != 0)) {
		log_info("front gone; exiting");
		exit(0);
	}
}

static void
worker_signal(struct worker *w)
{
	struct signalfd_siginfo si;
	ssize_t n;

	while ((n = read(w->w_sigfd, &si, sizeof(si))) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			worker_reload(w);
		else if (si.ssi_signo == SIGTERM) {
			log_info("SIGTERM: finishing %zu queued request(s)",
			    w->w_qlen);
			w->w_stopping = 1;
		}
	}
}

/*
 * The one message of the ready link (daemon.h): 'R', ready; or 'E' and
 * why the model did not load, for the parent's fatal line.  Then closed.
 */
static void
worker_tell_parent(int ready, char what, const char *why)
{
	char msg[IPC_TEXT_MAX];
	int n;

	if (ready == -1)
		return;
	n = snprintf(msg, sizeof(msg), "%c%s", what, why);
	if (n < 0 || (size_t)n >= sizeof(msg))
		n = (int)sizeof(msg) - 1;
	if (write(ready, msg, (size_t)n) != n)
		log_warn("cannot tell the parent that we are %s", what == 'R' ?
		    "ready" : "not");
	(void)close(ready);
}

int
worker_main(const struct daemon_ctx *dc, int sock, int ready)
{
	const struct ag_config *cf = dc->dc_cf;
	struct worker w;
	struct sandbox_conf sc;
	struct sandbox_state ss;
	struct pollfd pfd[2];
	sigset_t set;
	char err[512];
	int r;

	memset(&w, 0, sizeof(w));
	w.w_cf = cf;
	w.w_dc = dc;
	w.w_sock = sock;
	log_set_role("worker");
	(void)prctl(PR_SET_NAME, "aiguardd-worker");
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	signal(SIGINT, SIG_IGN);	/* the parent orders the shutdown */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1 ||
	    (w.w_sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		fatal("signalfd");

	/* Confined before any thread exists: Landlock binds this one only. */
	daemon_sandbox_conf(dc, SANDBOX_WORKER, &sc);
	if (sandbox_enter(&sc, &ss, err, sizeof(err)) != 0) {
		log_warnx("sandbox required but not possible: %s", err);
		exit(EXIT_SANDBOX);
	}
	w.w_max_request = cf->cf_max_request_batch;
	w.w_cap = cf->cf_max_batch > w.w_max_request ? cf->cf_max_batch :
	    w.w_max_request;
	resnet_set_threads(cf->cf_threads);
	resnet_set_low_memory(cf->cf_low_memory);
	if ((r = worker_load(&w, &w.w_md, &w.w_ws, err, sizeof(err))) != 0) {
		log_warnx("model: %s", err);
		worker_tell_parent(ready, 'E', err);
		exit(WORKER_EXIT_MODEL);
	}
	worker_shm_create(&w);
	if (worker_alloc_buffers(&w) != 0)
		fatalx("out of memory for the batch buffers");
	/* The engine's threads exist: no more processes, the syscall list. */
	if (sandbox_lock(&sc, &ss, err, sizeof(err)) != 0) {
		log_warnx("sandbox required but not possible: %s", err);
		exit(EXIT_SANDBOX);
	}
	w.w_layers = ss.ss_active;
	daemon_sandbox_log(&sc, &ss);
	log_info("model loaded model=%s arch=%s classes=%d input=%dx%d "
	    "dir=%s version=%s digest=%s max_batch=%d max_delay_us=%d "
	    "return_wait_us=%d threads=%d low_memory=%s backend=\"%s\" "
	    "verify_ms=%.1f build_ms=%.1f%s",
	    cf->cf_model_name[0] != '\0' ? cf->cf_model_name :
	    w.w_md->md_conf.mc_name, w.w_md->md_conf.mc_arch, w.w_classes,
	    w.w_h, w.w_w, w.w_md->md_dir, w.w_md->md_version,
	    w.w_md->md_signed ? w.w_md->md_sig.mr_digest : "unsigned",
	    cf->cf_max_batch,
	    cf->cf_max_delay_us, cf->cf_return_wait_us, cf->cf_threads,
	    cf->cf_low_memory ? "yes" : "no", resnet_backend(),
	    w.w_md->md_verify_s * 1e3, w.w_md->md_build_s * 1e3,
	    w.w_md->md_conf.mc_synthetic ? " synthetic=yes" : "");
	if (worker_send_hello(&w, w.w_shmfd) != 0) {
		log_info("front gone before hello; exiting");
		exit(0);
	}
	/* The parent counts workers that die before this (main.c). */
	worker_tell_parent(ready, 'R', "");

	pfd[0].fd = w.w_sock;
	pfd[0].events = POLLIN;
	pfd[1].fd = w.w_sigfd;
	pfd[1].events = POLLIN;
	for (;;) {
		struct timespec ts, *tsp = NULL;

		if (w.w_qlen > 0) {
			double due = worker_wait_s(&w, ag_now());

			if (due < 0)
				due = 0;
			ts.tv_sec = (time_t)due;
			ts.tv_nsec = (long)((due - (double)ts.tv_sec) * 1e9);
			tsp = &ts;
		} else if (w.w_stopping) {
			log_info("stopped");
			exit(0);
		}
		if (ppoll(pfd, 2, tsp, NULL) == -1) {
			if (errno == EINTR)
				continue;
			fatal("ppoll");
		}
		if (pfd[1].revents & POLLIN)
			worker_signal(&w);
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
			worker_read(&w);
		worker_run_due(&w);
	}
}
