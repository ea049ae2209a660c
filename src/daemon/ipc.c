/* SPDX-License-Identifier: ISC */
/*
 * ipc.c: framing and checks for the messages of ipc.h.
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/ag_err.h"
#include "common/util.h"
#include "engine/resnet.h"
#include "model/model.h"
#include "sandbox/sandbox.h"
#include "http/tokens.h"
#include "ipc.h"

void
ipc_hdr_init(struct ipc_hdr *h, enum ipc_type type, size_t len, uint64_t id)
{
	memset(h, 0, sizeof(*h));
	h->ih_magic = IPC_MAGIC;
	h->ih_version = IPC_VERSION;
	h->ih_type = (uint16_t)type;
	h->ih_len = (uint32_t)len;
	h->ih_id = id;
}

int
ipc_send(int sock, const void *msg, size_t len, int fd)
{
	struct msghdr mh;
	struct iovec iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cm;
	ssize_t n;

	if (len == 0 || len > IPC_MAX_MSG)
		return AG_ERR_INVALID_ARG;
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = (void *)(uintptr_t)msg;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do {
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return AG_ERR_SYSTEM;
	if ((size_t)n != len) {
		errno = EMSGSIZE;
		return AG_ERR_SYSTEM;
	}
	return 0;
}

/* Closes every descriptor carried by mh; returns the first in *fdp. */
static void
ipc_take_fds(struct msghdr *mh, int *fdp)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		size_t i, nfd;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfd; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (fdp != NULL && *fdp == -1)
				*fdp = fd;
			else
				(void)close(fd);
		}
	}
}

int
ipc_recv(int sock, void *buf, size_t cap, int *fdp, int nonblock, char *err,
    size_t errlen)
{
	struct msghdr mh;
	struct iovec iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(4 * sizeof(int))];
	} cm;
	const struct ipc_hdr *h = buf;
	ssize_t n;
	int r;

	if (fdp != NULL)
		*fdp = -1;
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = buf;
	iov.iov_len = cap;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	do {
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC |
		    (nonblock ? MSG_DONTWAIT : 0));
	} while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (nonblock && (errno == EAGAIN || errno == EWOULDBLOCK))
			return AG_ERR_BUSY;
		/* The peer closed with messages of ours unread: gone too. */
		if (errno == ECONNRESET)
			return 0;
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "recvmsg: %s",
		    strerror(errno));
	}
	ipc_take_fds(&mh, fdp);
	if (n == 0)
		return 0;
	r = AG_ERR_PROTOCOL;
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		ag_errf(err, errlen, r, "message or its descriptors truncated");
		goto bad;
	}
	if ((size_t)n < sizeof(*h)) {
		ag_errf(err, errlen, r, "short message (%zd bytes)", n);
		goto bad;
	}
	if (h->ih_magic != IPC_MAGIC || h->ih_version != IPC_VERSION) {
		ag_errf(err, errlen, r, "bad magic or version %u",
		    (unsigned)h->ih_version);
		goto bad;
	}
	if (h->ih_len != (size_t)n) {
		ag_errf(err, errlen, r, "length field %u, received %zd",
		    (unsigned)h->ih_len, n);
		goto bad;
	}
	if ((r = ipc_check(buf, (size_t)n, err, errlen)) != 0)
		goto bad;
	return (int)n;
 bad:
	if (fdp != NULL && *fdp != -1) {
		(void)close(*fdp);
		*fdp = -1;
	}
	return AG_ERR_PROTOCOL;
}

static int
ipc_strz(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

size_t
ipc_slot_bytes(int channels, int height, int width, int classes)
{
	size_t in, out, sz;
	long pg = sysconf(_SC_PAGESIZE);

	if (channels <= 0 || height <= 0 || width <= 0 || classes <= 0 ||
	    pg <= 0)
		return 0;
	if (ag_mul_size((size_t)channels, (size_t)height, &in) != 0 ||
	    ag_mul_size(in, (size_t)width, &in) != 0 ||
	    ag_mul_size(in, sizeof(float), &in) != 0 ||
	    ag_mul_size((size_t)classes, sizeof(float), &out) != 0 ||
	    ag_add_size(in, out, &sz) != 0 ||
	    ag_add_size(sz, (size_t)pg - 1, &sz) != 0)
		return 0;
	return sz / (size_t)pg * (size_t)pg;
}

static int
ipc_check_hello(const struct ipc_hello *hl, char *err, size_t errlen)
{
	const struct model_desc *d = &hl->hl_model;
	uint64_t total;
	size_t sb;

	if (!ipc_strz(d->d_name, sizeof(d->d_name)) ||
	    !ipc_strz(d->d_version, sizeof(d->d_version)) ||
	    !ipc_strz(d->d_arch, sizeof(d->d_arch)) ||
	    !ipc_strz(d->d_digest, sizeof(d->d_digest)) ||
	    !ipc_strz(d->d_signer, sizeof(d->d_signer)) ||
	    !ipc_strz(d->d_source, sizeof(d->d_source)))
		return ag_errf(err, errlen, AG_ERR_PROTOCOL,
		    "hello: unterminated string");
	if (d->d_classes < 1 || d->d_classes > RESNET_MAX_CLASSES ||
	    d->d_channels != 3 ||
	    d->d_height < RESNET_MIN_SIDE || d->d_height > RESNET_MAX_SIDE ||
	    d->d_width < RESNET_MIN_SIDE || d->d_width > RESNET_MAX_SIDE ||
	    d->d_resize < 1 || d->d_resize > RESNET_MAX_SIDE ||
	    d->d_max_request < 1 || d->d_max_request > IPC_MAX_REQ_IMAGES ||
	    (d->d_synthetic != 0 && d->d_synthetic != 1) ||
	    (d->d_verified != 0 && d->d_verified != 1))
		return ag_errf(err, errlen, AG_ERR_PROTOCOL,
		    "hello: geometry out of range");
	sb = ipc_slot_bytes(d->d_channels, d->d_height, d->d_width,
	    d->d_classes);
	if (sb == 0 || hl->hl_slot_bytes != sb || hl->hl_slots < 1 ||
	    hl->hl_slots > 65536 ||
	    __builtin_mul_overflow(hl->hl_slot_bytes, (uint64_t)hl->hl_slots,
	    &total) || total != hl->hl_shm_bytes)
		return ag_errf(err, errlen, AG_ERR_PROTOCOL,
		    "hello: shared area size inconsistent");
	if (hl->hl_layers & ~(uint32_t)SB_ALL)
		return ag_errf(err, errlen, AG_ERR_PROTOCOL,
		    "hello: unknown confinement layers");
	if (hl->hl_labels_bytes < (uint32_t)d->d_classes ||
	    hl->hl_labels_bytes > MODEL_LABELS_MAX + (uint32_t)d->d_classes)
		return ag_errf(err, errlen, AG_ERR_PROTOCOL,
		    "hello: labels size out of range");
	return 0;
}

int
ipc_check(const void *msg, size_t len, char *err, size_t errlen)
{
	const struct ipc_hdr *h = msg;

	switch (h->ih_type) {
	case IPC_HELLO:
		if (len != sizeof(struct ipc_hello))
			break;
		return ipc_check_hello(msg, err, errlen);
	case IPC_LABELS: {
		const struct ipc_labels *lb = msg;

		if (len < sizeof(*lb) || lb->lb_len > IPC_LABEL_CHUNK ||
		    len != sizeof(*lb) + lb->lb_len)
			break;
		return 0;
	}
	case IPC_INFER: {
		const struct ipc_infer *in = msg;

		if (len < sizeof(*in) || in->in_n < 1 ||
		    in->in_n > IPC_MAX_REQ_IMAGES ||
		    (in->in_flags & ~(IPC_INFER_RETURNS |
		    IPC_INFER_PIXELS)) != 0 ||
		    len != sizeof(*in) + in->in_n * sizeof(uint32_t))
			break;
		return 0;
	}
	case IPC_RESULT: {
		const struct ipc_result *rs = msg;

		if (len != sizeof(*rs) || rs->rs_n > IPC_MAX_REQ_IMAGES ||
		    rs->rs_status > 0 || rs->rs_status < AG_ERR_MAX ||
		    rs->rs_batch_size > 65536 || rs->rs_batch_first > 1)
			break;
		return 0;
	}
	case IPC_RELOAD: {
		const struct ipc_reload *rl = msg;

		if (len != sizeof(*rl) || !ipc_strz(rl->rl_msg,
		    sizeof(rl->rl_msg)) || rl->rl_code > 0 ||
		    rl->rl_code < AG_ERR_MAX || (rl->rl_ok && rl->rl_code))
			break;
		return 0;
	}
	case IPC_CTL_WORKER: {
		const struct ipc_ctl_worker *cw = msg;

		if (len != sizeof(*cw) || cw->cw_id == 0 ||
		    !ipc_strz(cw->cw_name, sizeof(cw->cw_name)) ||
		    !ipc_strz(cw->cw_version, sizeof(cw->cw_version)))
			break;
		return 0;
	}
	case IPC_CTL_ROUTE: {
		const struct ipc_ctl_route *rt = msg;

		if (len != sizeof(*rt) || rt->rt_id == 0 ||
		    (rt->rt_op != IPC_ROUTE_RETIRE &&
		    rt->rt_op != IPC_ROUTE_DEFAULT))
			break;
		return 0;
	}
	case IPC_CTL_INDEX: {
		const struct ipc_ctl_index *ix = msg;
		uint32_t i;

		if (len < sizeof(*ix) || ix->ix_n > IPC_INDEX_MAX ||
		    len != sizeof(*ix) + ix->ix_n * sizeof(ix->ix_e[0]))
			break;
		for (i = 0; i < ix->ix_n; i++)
			if (!ipc_strz(ix->ix_e[i].ie_name,
			    sizeof(ix->ix_e[i].ie_name)) ||
			    !ipc_strz(ix->ix_e[i].ie_version,
			    sizeof(ix->ix_e[i].ie_version)) ||
			    !ipc_strz(ix->ix_e[i].ie_reason,
			    sizeof(ix->ix_e[i].ie_reason)) ||
			    ix->ix_e[i].ie_state > IPC_INDEX_UNLOADING)
				return ag_errf(err, errlen, AG_ERR_PROTOCOL,
				    "index: bad entry %u", (unsigned)i);
		return 0;
	}
	case IPC_CTL_REQUEST: {
		const struct ipc_ctl_request *rq = msg;

		if (len != sizeof(*rq) || h->ih_id == 0 ||
		    (rq->rq_op != IPC_REQUEST_LOAD &&
		    rq->rq_op != IPC_REQUEST_UNLOAD) ||
		    !ipc_strz(rq->rq_name, sizeof(rq->rq_name)))
			break;
		return 0;
	}
	case IPC_CTL_REPLY: {
		const struct ipc_ctl_reply *rp = msg;

		if (len != sizeof(*rp) || h->ih_id == 0 ||
		    rp->rp_status > 0 || rp->rp_status < AG_ERR_MAX ||
		    !ipc_strz(rp->rp_msg, sizeof(rp->rp_msg)))
			break;
		return 0;
	}
	case IPC_CTL_FRONTDOOR: {
		const struct ipc_ctl_frontdoor *fd = msg;

		if (len != sizeof(*fd) || fd->fd_generation == 0 ||
		    (fd->fd_flags & ~(IPC_FD_TOKENS | IPC_FD_TLS)) != 0 ||
		    fd->fd_tokens_len > TOKENS_FILE_MAX ||
		    (!(fd->fd_flags & IPC_FD_TOKENS) && fd->fd_tokens_len) ||
		    fd->fd_cert_len > IPC_TLS_FILE_MAX ||
		    fd->fd_key_len > IPC_TLS_FILE_MAX ||
		    fd->fd_ca_len > IPC_TLS_FILE_MAX ||
		    ((fd->fd_flags & IPC_FD_TLS) != 0) !=
		    (fd->fd_cert_len > 0 && fd->fd_key_len > 0) ||
		    (!(fd->fd_flags & IPC_FD_TLS) && fd->fd_ca_len))
			break;
		return 0;
	}
	case IPC_CANCEL:
		/* The header alone: ih_id names the INFER. */
		if (len != sizeof(struct ipc_hdr) || h->ih_id == 0)
			break;
		return 0;
	default:
		return ag_errf(err, errlen, AG_ERR_PROTOCOL,
		    "unknown message type %u", (unsigned)h->ih_type);
	}
	return ag_errf(err, errlen, AG_ERR_PROTOCOL,
	    "message type %u: bad length or field", (unsigned)h->ih_type);
}
