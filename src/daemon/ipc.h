/* SPDX-License-Identifier: ISC */
/*
 * ipc.h: the protocol between aiguardd's processes.
 *
 * front <-> worker: a SOCK_SEQPACKET socketpair (one message per datagram,
 * never split) plus a shared-memory tensor area that the worker creates
 * (memfd, sealed against growing and shrinking) and passes to the front with
 * its HELLO.  The area is an array of slots; a slot holds one image's input
 * tensor (C*H*W floats) followed by its logits (classes floats).  The front
 * writes inputs, names the slots in an INFER message; the worker answers each
 * INFER with one RESULT after writing the logits.
 *
 * parent <-> front: a SOCK_SEQPACKET socketpair carrying CTL_WORKER, whose
 * ancillary data is the front's end of a new worker's socketpair (one per
 * model version served, each named by the parent's worker id), CTL_ROUTE
 * (retire a worker, or make it its model's default version), CTL_INDEX
 * (the repository as the parent sees it), and
 * CTL_FRONTDOOR, whose ancillary data is a memfd holding the token file's
 * and the TLS files' bytes, back to back, which the parent read (the
 * front opens no file).  The front sends only CTL_REQUEST (load or
 * unload a model of the repository, model.control = explicit), which the
 * parent checks like any message from a process that faces the network,
 * and answers with CTL_REPLY.
 *
 * Every message starts with struct ipc_hdr (magic, version, type, exact
 * length).  Each side checks every field of every message it receives: a
 * peer that breaks the protocol is treated as compromised and cut off.
 */
#ifndef AG_IPC_H
#define AG_IPC_H

#include <stddef.h>
#include <stdint.h>

#include "model/mdesc.h"

#define IPC_MAGIC		0x50494741u	/* "AGIP" little-endian */
#define IPC_VERSION		8
#define IPC_MAX_REQ_IMAGES	256		/* images in one INFER */
#define IPC_MAX_MSG		65536
#define IPC_LABEL_CHUNK		32768
#define IPC_TEXT_MAX		256


enum ipc_type {
	IPC_HELLO = 1,		/* worker -> front: model loaded (+ shm fd) */
	IPC_LABELS = 2,		/* worker -> front: a chunk of labels */
	IPC_INFER = 3,		/* front -> worker */
	IPC_RESULT = 4,		/* worker -> front */
	IPC_RELOAD = 5,		/* worker -> front: result of a reload */
	IPC_CANCEL = 6,		/* front -> worker: drop a queued INFER */
	IPC_CTL_WORKER = 16,	/* parent -> front: a new worker (+ fd) */
	IPC_CTL_FRONTDOOR = 17,	/* parent -> front: tokens, TLS (+ fd) */
	IPC_CTL_ROUTE = 18,	/* parent -> front: retire, or make default */
	IPC_CTL_INDEX = 19,	/* parent -> front: the repository index */
	IPC_CTL_REQUEST = 20,	/* front -> parent: load or unload a model */
	IPC_CTL_REPLY = 21,	/* parent -> front: its outcome */
};

struct ipc_hdr {
	uint32_t	ih_magic;
	uint16_t	ih_version;
	uint16_t	ih_type;
	uint32_t	ih_len;		/* whole message, header included */
	uint32_t	ih_pad;
	uint64_t	ih_id;		/* request id (INFER/RESULT), else 0 */
};

/*
 * A model, loaded: its description (model/mdesc.h, every field checked
 * on receipt), the shared area's geometry; the labels follow in
 * IPC_LABELS messages.
 */
struct ipc_hello {
	struct ipc_hdr	hl_hdr;
	uint32_t	hl_generation;	/* worker's reload count */
	uint32_t	hl_slots;	/* slots in the shared area */
	uint64_t	hl_slot_bytes;	/* bytes per slot (page multiple) */
	uint64_t	hl_shm_bytes;	/* slots * slot_bytes */
	uint32_t	hl_labels_bytes; /* total of the IPC_LABELS payloads */
	uint32_t	hl_layers;	/* SB_* layers in force in the worker */
	struct model_desc hl_model;
};
/* A fixed layout, the same on both sides: no padding to leak. */
_Static_assert(sizeof(struct model_desc) % 8 == 0 &&
    sizeof(struct ipc_hello) == sizeof(struct ipc_hdr) + 32 +
    sizeof(struct model_desc), "struct ipc_hello has no padding");

/* Labels: NUL-terminated strings back to back, split at any byte. */
struct ipc_labels {
	struct ipc_hdr	lb_hdr;
	uint32_t	lb_offset;
	uint32_t	lb_len;
	char		lb_data[];	/* lb_len bytes */
};

/*
 * IPC_INFER_RETURNS: the client came back quickly after its last answer
 * (http_job's jb_returns); the worker may hold its next batch for it.
 */
#define IPC_INFER_RETURNS	0x1u
/*
 * IPC_INFER_PIXELS: each slot holds one image as 8-bit RGB (H, W, 3), not
 * as floats; the worker normalizes it with its model's mean and std.  A
 * quarter of the shared memory an image in flight takes (classify).
 */
#define IPC_INFER_PIXELS	0x2u

struct ipc_infer {
	struct ipc_hdr	in_hdr;
	uint32_t	in_n;
	uint32_t	in_flags;	/* IPC_INFER_* */
	uint32_t	in_slots[];	/* in_n slot indices */
};

struct ipc_result {
	struct ipc_hdr	rs_hdr;
	int32_t		rs_status;	/* 0 or AG_ERR_* */
	uint32_t	rs_n;		/* images, as in the INFER */
	uint64_t	rs_batch_id;
	uint32_t	rs_batch_size;	/* images in the engine call */
	uint32_t	rs_batch_first;	/* 1 for one request per batch */
	uint32_t	rs_queue_us;	/* arrival to engine start */
	uint32_t	rs_infer_us;	/* the engine call */
};

struct ipc_reload {
	struct ipc_hdr	rl_hdr;
	int32_t		rl_ok;
	int32_t		rl_code;	/* 0 or the AG_ERR_* of the failure */
	char		rl_msg[IPC_TEXT_MAX];
};

/*
 * A worker: its id (the parent's, 1.., stable across its restarts), the
 * model and version it serves ("" for the one model of model.dir: the
 * worker's HELLO names it), and its default sequence: of the versions of
 * one model, the one with the highest is what /v2/models/NAME reaches.
 */
struct ipc_ctl_worker {
	struct ipc_hdr	cw_hdr;
	uint32_t	cw_restarts;	/* this worker's restarts so far */
	uint32_t	cw_load_failures; /* workers whose model did not load */
	uint32_t	cw_id;
	uint32_t	cw_default_seq;
	char		cw_name[MODEL_NAME_MAX];
	char		cw_version[MODEL_VERSION_MAX];
};

#define IPC_ROUTE_RETIRE	1	/* stop routing; close when drained */
#define IPC_ROUTE_DEFAULT	2	/* rt_seq: a new default sequence */
struct ipc_ctl_route {
	struct ipc_hdr	rt_hdr;
	uint32_t	rt_id;		/* the worker */
	uint32_t	rt_op;		/* IPC_ROUTE_* */
	uint32_t	rt_seq;
	uint32_t	rt_pad;
};

#define IPC_INDEX_MAX		64	/* entries of one CTL_INDEX */
enum ipc_index_state {
	IPC_INDEX_UNAVAILABLE = 0,	/* not loaded: ie_reason says why */
	IPC_INDEX_LOADING = 1,
	IPC_INDEX_READY = 2,
	IPC_INDEX_UNLOADING = 3,
};
struct ipc_index_entry {
	char		ie_name[MODEL_NAME_MAX];
	char		ie_version[MODEL_VERSION_MAX];	/* "" : the model */
	uint32_t	ie_state;	/* enum ipc_index_state */
	uint32_t	ie_pad;
	char		ie_reason[160];
};
struct ipc_ctl_index {
	struct ipc_hdr	ix_hdr;
	uint32_t	ix_n;		/* entries that follow */
	uint32_t	ix_pad;
	struct ipc_index_entry ix_e[];	/* ix_n of them */
};

#define IPC_REQUEST_LOAD	1
#define IPC_REQUEST_UNLOAD	2
/* front -> parent; ih_id names it in the reply. */
struct ipc_ctl_request {
	struct ipc_hdr	rq_hdr;
	uint32_t	rq_op;		/* IPC_REQUEST_* */
	uint32_t	rq_pad;
	char		rq_name[MODEL_NAME_MAX];
};
struct ipc_ctl_reply {
	struct ipc_hdr	rp_hdr;
	int32_t		rp_status;	/* 0 or AG_ERR_* */
	uint32_t	rp_pad;
	char		rp_msg[IPC_TEXT_MAX];
};

/* Largest TLS file passed (certificate chain, key, client CA bundle). */
#define IPC_TLS_FILE_MAX	(1024 * 1024)

/*
 * The front door's files, read by the parent at start and on each
 * SIGHUP: the memfd passed with it holds fd_tokens_len bytes of the token
 * file, then the certificate chain, the key and the client CA bundle, in
 * that order, nothing else.  A length of 0: not configured.
 */
struct ipc_ctl_frontdoor {
	struct ipc_hdr	fd_hdr;
	uint32_t	fd_generation;	/* 1 at start, +1 per reload */
	uint32_t	fd_flags;	/* IPC_FD_* */
	uint32_t	fd_tokens_len;
	uint32_t	fd_cert_len;
	uint32_t	fd_key_len;
	uint32_t	fd_ca_len;
};
#define IPC_FD_TOKENS	0x1u	/* a token file is configured */
#define IPC_FD_TLS	0x2u	/* TLS is configured */

/* Room for any message, aligned for every ipc_* struct. */
union ipc_msg {
	struct ipc_hdr	h;
	uint8_t		b[IPC_MAX_MSG];
};

/* Fills a header. */
void	ipc_hdr_init(struct ipc_hdr *h, enum ipc_type type, size_t len,
	    uint64_t id);

/*
 * Sends one message (and fd when >= 0, as SCM_RIGHTS).  Blocks; retries on
 * EINTR.  Returns 0 or AG_ERR_SYSTEM (errno set; EPIPE/ECONNRESET: peer
 * gone).  MSG_NOSIGNAL: a dead peer never raises SIGPIPE.
 */
int	ipc_send(int sock, const void *msg, size_t len, int fd);

/*
 * Receives one message into buf (cap bytes, aligned for any ipc_* struct)
 * and checks its header: magic, version, a known type, ih_len equal to the
 * bytes received.  *fdp gets a passed descriptor or -1 (only when fdp is
 * not NULL; descriptors arriving otherwise are closed).  Returns the length
 * (> 0), 0 at EOF or when the peer closed with messages unread
 * (ECONNRESET), or AG_ERR_SYSTEM / AG_ERR_PROTOCOL (err says why).
 * With nonblock, EAGAIN gives AG_ERR_BUSY.
 */
int	ipc_recv(int sock, void *buf, size_t cap, int *fdp, int nonblock,
	    char *err, size_t errlen);

/* Checks a message's body against its type; 0 or AG_ERR_PROTOCOL. */
int	ipc_check(const void *msg, size_t len, char *err, size_t errlen);

/* Bytes of one slot for this geometry, page-aligned; 0 on overflow. */
size_t	ipc_slot_bytes(int channels, int height, int width, int classes);

#endif /* AG_IPC_H */
