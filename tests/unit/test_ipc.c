/* SPDX-License-Identifier: ISC */
/*
 * test_ipc.c: the messages between aiguardd's processes, and the worker
 * facing a front that breaks the protocol.
 *
 * Framing: round trips with and without a passed descriptor; every header
 * and body check (bad magic, version, type, length, counts, strings); a
 * million random and mutated messages that must be refused or accepted
 * without a crash.  The worker: with a real model (AG_MODEL), a valid
 * request gets the engine's answer in the shared area; a slot out of
 * range, a slot named twice, too many images and an unexpected message
 * type each make it exit with an error instead of reading out of bounds.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ag_err.h"
#include "common/config.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/daemon.h"
#include "daemon/ipc.h"
#include "image/image.h"
#include "model/model.h"
#include "test_helper.h"

static void
pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		perror("socketpair");
		exit(99);
	}
}

static union {
	struct ipc_hdr	h;
	uint8_t		b[IPC_MAX_MSG];
} rbuf;

static void
test_roundtrip(void)
{
	struct ipc_ctl_worker cw;
	struct ipc_result rs;
	struct stat st;
	char err[256];
	int sv[2], fd, n;

	TEST_START("send and receive, with and without a descriptor");
	pair(sv);
	memset(&rs, 0, sizeof(rs));
	ipc_hdr_init(&rs.rs_hdr, IPC_RESULT, sizeof(rs), 42);
	rs.rs_n = 3;
	rs.rs_batch_size = 5;
	rs.rs_batch_first = 1;
	ASSERT_INT_EQ(ipc_send(sv[0], &rs, sizeof(rs), -1), 0);
	n = ipc_recv(sv[1], &rbuf, sizeof(rbuf), &fd, 0, err, sizeof(err));
	ASSERT_INT_EQ(n, (int)sizeof(rs));
	ASSERT_INT_EQ(fd, -1);
	ASSERT_INT_EQ(rbuf.h.ih_type, IPC_RESULT);
	ASSERT_TRUE(rbuf.h.ih_id == 42);

	memset(&cw, 0, sizeof(cw));
	ipc_hdr_init(&cw.cw_hdr, IPC_CTL_WORKER, sizeof(cw), 0);
	cw.cw_id = 1;
	ASSERT_INT_EQ(ipc_send(sv[0], &cw, sizeof(cw), sv[0]), 0);
	n = ipc_recv(sv[1], &rbuf, sizeof(rbuf), &fd, 0, err, sizeof(err));
	ASSERT_INT_EQ(n, (int)sizeof(cw));
	ASSERT_INT_GE(fd, 0);
	ASSERT_INT_EQ(fstat(fd, &st), 0);
	ASSERT_TRUE(S_ISSOCK(st.st_mode));
	ASSERT_INT_NE(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	close(fd);

	/* A descriptor nobody asked for is closed, not leaked. */
	ASSERT_INT_EQ(ipc_send(sv[0], &cw, sizeof(cw), sv[0]), 0);
	n = ipc_recv(sv[1], &rbuf, sizeof(rbuf), NULL, 0, err, sizeof(err));
	ASSERT_INT_EQ(n, (int)sizeof(cw));

	/* Non-blocking with nothing to read; then end of stream. */
	ASSERT_INT_EQ(ipc_recv(sv[1], &rbuf, sizeof(rbuf), NULL, 1, err,
	    sizeof(err)), AG_ERR_BUSY);
	close(sv[0]);
	ASSERT_INT_EQ(ipc_recv(sv[1], &rbuf, sizeof(rbuf), NULL, 0, err,
	    sizeof(err)), 0);
	/* Sending to a closed peer: an error, never SIGPIPE. */
	ASSERT_INT_EQ(ipc_send(sv[1], &rs, sizeof(rs), -1), AG_ERR_SYSTEM);
	close(sv[1]);
	TEST_DONE();
}

/* Sends len raw bytes and returns what ipc_recv() makes of them. */
static int
recv_raw(const void *msg, size_t len)
{
	char err[256];
	int sv[2], r;

	pair(sv);
	if (send(sv[0], msg, len, 0) != (ssize_t)len) {
		perror("send");
		exit(99);
	}
	r = ipc_recv(sv[1], &rbuf, sizeof(rbuf), NULL, 0, err, sizeof(err));
	close(sv[0]);
	close(sv[1]);
	return r;
}

static void
valid_hello(struct ipc_hello *hl)
{
	memset(hl, 0, sizeof(*hl));
	ipc_hdr_init(&hl->hl_hdr, IPC_HELLO, sizeof(*hl), 0);
	hl->hl_model.d_classes = 1000;
	hl->hl_model.d_channels = 3;
	hl->hl_model.d_height = hl->hl_model.d_width = 224;
	hl->hl_model.d_resize = 256;
	hl->hl_model.d_max_request = 8;
	hl->hl_slots = 16;
	hl->hl_slot_bytes = ipc_slot_bytes(3, 224, 224, 1000);
	hl->hl_shm_bytes = hl->hl_slot_bytes * 16;
	hl->hl_labels_bytes = 9000;
	strcpy(hl->hl_model.d_name, "resnet18");
	strcpy(hl->hl_model.d_version, "1");
}

static void
test_checks(void)
{
	struct ipc_hello hl;
	union {
		struct ipc_infer	in;
		uint8_t			b[4096];
	} in;
	struct ipc_result rs;
	struct ipc_reload rl;
	struct ipc_labels *lb;
	char err[256];

	TEST_START("slot size");
	ASSERT_TRUE(ipc_slot_bytes(3, 224, 224, 1000) % 4096 == 0);
	ASSERT_TRUE(ipc_slot_bytes(3, 224, 224, 1000) >=
	    (3 * 224 * 224 + 1000) * sizeof(float));
	ASSERT_TRUE(ipc_slot_bytes(0, 224, 224, 1000) == 0);
	ASSERT_TRUE(ipc_slot_bytes(3, INT32_MAX, INT32_MAX, 1000) == 0);
	TEST_DONE();

	TEST_START("header checks");
	valid_hello(&hl);
	ASSERT_INT_EQ(recv_raw(&hl, sizeof(hl)), (int)sizeof(hl));
	hl.hl_hdr.ih_magic ^= 1;
	ASSERT_INT_EQ(recv_raw(&hl, sizeof(hl)), AG_ERR_PROTOCOL);
	valid_hello(&hl);
	hl.hl_hdr.ih_version = IPC_VERSION + 1;
	ASSERT_INT_EQ(recv_raw(&hl, sizeof(hl)), AG_ERR_PROTOCOL);
	valid_hello(&hl);
	hl.hl_hdr.ih_len++;
	ASSERT_INT_EQ(recv_raw(&hl, sizeof(hl)), AG_ERR_PROTOCOL);
	/* Less than received, too: the field must equal what came. */
	valid_hello(&hl);
	hl.hl_hdr.ih_len--;
	ASSERT_INT_EQ(recv_raw(&hl, sizeof(hl)), AG_ERR_PROTOCOL);
	valid_hello(&hl);
	hl.hl_hdr.ih_type = 99;
	ASSERT_INT_EQ(recv_raw(&hl, sizeof(hl)), AG_ERR_PROTOCOL);
	ASSERT_INT_EQ(recv_raw(&hl, 10), AG_ERR_PROTOCOL);	/* short */
	TEST_DONE();

	TEST_START("hello checks");
	valid_hello(&hl);
	ASSERT_INT_EQ(ipc_check(&hl, sizeof(hl), err, sizeof(err)), 0);
	memset(hl.hl_model.d_name, 'a', sizeof(hl.hl_model.d_name));
	ASSERT_INT_EQ(ipc_check(&hl, sizeof(hl), err, sizeof(err)),
	    AG_ERR_PROTOCOL);
	valid_hello(&hl);
	hl.hl_model.d_classes = 0;
	ASSERT_INT_EQ(ipc_check(&hl, sizeof(hl), err, sizeof(err)),
	    AG_ERR_PROTOCOL);
	valid_hello(&hl);
	hl.hl_model.d_height = 100000;
	ASSERT_INT_EQ(ipc_check(&hl, sizeof(hl), err, sizeof(err)),
	    AG_ERR_PROTOCOL);
	valid_hello(&hl);
	hl.hl_shm_bytes += 4096;	/* area and slots disagree */
	ASSERT_INT_EQ(ipc_check(&hl, sizeof(hl), err, sizeof(err)),
	    AG_ERR_PROTOCOL);
	valid_hello(&hl);
	hl.hl_slot_bytes = 4096;	/* a slot too small for an image */
	hl.hl_shm_bytes = 4096 * 16;
	ASSERT_INT_EQ(ipc_check(&hl, sizeof(hl), err, sizeof(err)),
	    AG_ERR_PROTOCOL);
	valid_hello(&hl);
	hl.hl_slots = 0xffffffff;
	ASSERT_INT_EQ(ipc_check(&hl, sizeof(hl), err, sizeof(err)),
	    AG_ERR_PROTOCOL);
	valid_hello(&hl);
	hl.hl_labels_bytes = 10;	/* fewer bytes than labels */
	ASSERT_INT_EQ(ipc_check(&hl, sizeof(hl), err, sizeof(err)),
	    AG_ERR_PROTOCOL);
	valid_hello(&hl);
	hl.hl_layers = 0x80;
	ASSERT_INT_EQ(ipc_check(&hl, sizeof(hl), err, sizeof(err)),
	    AG_ERR_PROTOCOL);
	TEST_DONE();

	TEST_START("infer, result and reload checks");
	memset(&in, 0, sizeof(in));
	ipc_hdr_init(&in.in.in_hdr, IPC_INFER, sizeof(in.in) + 8, 1);
	in.in.in_n = 2;
	ASSERT_INT_EQ(ipc_check(&in, sizeof(in.in) + 8, err, sizeof(err)), 0);
	ASSERT_INT_EQ(ipc_check(&in, sizeof(in.in) + 4, err, sizeof(err)),
	    AG_ERR_PROTOCOL);
	in.in.in_n = 0;
	ASSERT_INT_EQ(ipc_check(&in, sizeof(in.in), err, sizeof(err)),
	    AG_ERR_PROTOCOL);
	in.in.in_n = 0x40000001;	/* n * 4 wraps in 32 bits */
	ASSERT_INT_EQ(ipc_check(&in, sizeof(in.in) + 4, err, sizeof(err)),
	    AG_ERR_PROTOCOL);
	in.in.in_n = 2;
	in.in.in_flags = IPC_INFER_RETURNS;
	ASSERT_INT_EQ(ipc_check(&in, sizeof(in.in) + 8, err, sizeof(err)), 0);
	in.in.in_flags = IPC_INFER_RETURNS | IPC_INFER_PIXELS;
	ASSERT_INT_EQ(ipc_check(&in, sizeof(in.in) + 8, err, sizeof(err)), 0);
	in.in.in_flags = 4;		/* no such flag */
	ASSERT_INT_EQ(ipc_check(&in, sizeof(in.in) + 8, err, sizeof(err)),
	    AG_ERR_PROTOCOL);
	in.in.in_flags = 0;
	{
		struct ipc_hdr h;
		struct {
			struct ipc_hdr	h;
			uint64_t	more;
		} hm;

		/* CANCEL: the header alone, naming a request. */
		ipc_hdr_init(&h, IPC_CANCEL, sizeof(h), 9);
		ASSERT_INT_EQ(ipc_check(&h, sizeof(h), err, sizeof(err)), 0);
		memset(&hm, 0, sizeof(hm));
		ipc_hdr_init(&hm.h, IPC_CANCEL, sizeof(hm), 9);
		ASSERT_INT_EQ(ipc_check(&hm, sizeof(hm), err, sizeof(err)),
		    AG_ERR_PROTOCOL);
		h.ih_id = 0;
		ASSERT_INT_EQ(ipc_check(&h, sizeof(h), err, sizeof(err)),
		    AG_ERR_PROTOCOL);
	}
	memset(&rs, 0, sizeof(rs));
	ipc_hdr_init(&rs.rs_hdr, IPC_RESULT, sizeof(rs), 1);
	ASSERT_INT_EQ(ipc_check(&rs, sizeof(rs), err, sizeof(err)), 0);
	rs.rs_status = 5;
	ASSERT_INT_EQ(ipc_check(&rs, sizeof(rs), err, sizeof(err)),
	    AG_ERR_PROTOCOL);
	rs.rs_status = 0;
	rs.rs_n = IPC_MAX_REQ_IMAGES + 1;
	ASSERT_INT_EQ(ipc_check(&rs, sizeof(rs), err, sizeof(err)),
	    AG_ERR_PROTOCOL);
	memset(&rl, 'x', sizeof(rl));
	ipc_hdr_init(&rl.rl_hdr, IPC_RELOAD, sizeof(rl), 0);
	ASSERT_INT_EQ(ipc_check(&rl, sizeof(rl), err, sizeof(err)),
	    AG_ERR_PROTOCOL);	/* message unterminated */
	TEST_DONE();

	/*
	 * A LABELS chunk: lb_len must say exactly how many bytes follow, or
	 * the front would copy bytes that never came (or drop some).
	 */
	TEST_START("labels checks");
	memset(&in, 0, sizeof(in));
	lb = (struct ipc_labels *)(void *)in.b;
	ipc_hdr_init(&lb->lb_hdr, IPC_LABELS, sizeof(*lb) + 6, 0);
	lb->lb_len = 6;
	memcpy(lb->lb_data, "a\nb\nc\n", 6);
	ASSERT_INT_EQ(ipc_check(lb, sizeof(*lb) + 6, err, sizeof(err)), 0);
	lb->lb_len = 7;		/* one byte more than came */
	ASSERT_INT_EQ(ipc_check(lb, sizeof(*lb) + 6, err, sizeof(err)),
	    AG_ERR_PROTOCOL);
	lb->lb_len = 5;		/* one byte less */
	ASSERT_INT_EQ(ipc_check(lb, sizeof(*lb) + 6, err, sizeof(err)),
	    AG_ERR_PROTOCOL);
	lb->lb_len = 0;
	ASSERT_INT_EQ(ipc_check(lb, sizeof(*lb), err, sizeof(err)), 0);
	ASSERT_INT_EQ(ipc_check(lb, sizeof(*lb) - 1, err, sizeof(err)),
	    AG_ERR_PROTOCOL);	/* shorter than its fixed part */
	lb->lb_len = IPC_LABEL_CHUNK + 1;
	ASSERT_INT_EQ(ipc_check(lb, sizeof(*lb) + 6, err, sizeof(err)),
	    AG_ERR_PROTOCOL);
	TEST_DONE();
}

/* The parent's and the front's control messages (model repository). */
static void
test_control(void)
{
	union {
		struct ipc_ctl_worker	cw;
		struct ipc_ctl_route	rt;
		struct ipc_ctl_request	rq;
		struct ipc_ctl_reply	rp;
		struct ipc_ctl_index	ix;
		uint8_t			b[sizeof(struct ipc_ctl_index) +
					    (IPC_INDEX_MAX + 1) *
					    sizeof(struct ipc_index_entry)];
	} m;
	size_t len;
	char err[256];

	TEST_START("control checks: worker, route, index, request, reply");
	memset(&m, 0, sizeof(m));
	ipc_hdr_init(&m.cw.cw_hdr, IPC_CTL_WORKER, sizeof(m.cw), 0);
	m.cw.cw_id = 3;
	memcpy(m.cw.cw_name, "r18", 4);
	memcpy(m.cw.cw_version, "2", 2);
	ASSERT_INT_EQ(ipc_check(&m, sizeof(m.cw), err, sizeof(err)), 0);
	m.cw.cw_id = 0;			/* ids start at 1 */
	ASSERT_INT_EQ(ipc_check(&m, sizeof(m.cw), err, sizeof(err)),
	    AG_ERR_PROTOCOL);
	m.cw.cw_id = 3;
	memset(m.cw.cw_name, 'a', sizeof(m.cw.cw_name));  /* unterminated */
	ASSERT_INT_EQ(ipc_check(&m, sizeof(m.cw), err, sizeof(err)),
	    AG_ERR_PROTOCOL);
	memset(m.cw.cw_name, 0, sizeof(m.cw.cw_name));
	memset(m.cw.cw_version, '9', sizeof(m.cw.cw_version));
	ASSERT_INT_EQ(ipc_check(&m, sizeof(m.cw), err, sizeof(err)),
	    AG_ERR_PROTOCOL);

	memset(&m, 0, sizeof(m));
	ipc_hdr_init(&m.rt.rt_hdr, IPC_CTL_ROUTE, sizeof(m.rt), 0);
	m.rt.rt_id = 1;
	m.rt.rt_op = IPC_ROUTE_RETIRE;
	ASSERT_INT_EQ(ipc_check(&m, sizeof(m.rt), err, sizeof(err)), 0);
	m.rt.rt_op = IPC_ROUTE_DEFAULT;
	ASSERT_INT_EQ(ipc_check(&m, sizeof(m.rt), err, sizeof(err)), 0);
	m.rt.rt_op = 3;
	ASSERT_INT_EQ(ipc_check(&m, sizeof(m.rt), err, sizeof(err)),
	    AG_ERR_PROTOCOL);
	m.rt.rt_op = IPC_ROUTE_RETIRE;
	m.rt.rt_id = 0;
	ASSERT_INT_EQ(ipc_check(&m, sizeof(m.rt), err, sizeof(err)),
	    AG_ERR_PROTOCOL);

	memset(&m, 0, sizeof(m));
	ipc_hdr_init(&m.rq.rq_hdr, IPC_CTL_REQUEST, sizeof(m.rq), 7);
	m.rq.rq_op = IPC_REQUEST_LOAD;
	memcpy(m.rq.rq_name, "r34", 4);
	ASSERT_INT_EQ(ipc_check(&m, sizeof(m.rq), err, sizeof(err)), 0);
	m.rq.rq_op = IPC_REQUEST_UNLOAD;
	ASSERT_INT_EQ(ipc_check(&m, sizeof(m.rq), err, sizeof(err)), 0);
	m.rq.rq_op = 0;
	ASSERT_INT_EQ(ipc_check(&m, sizeof(m.rq), err, sizeof(err)),
	    AG_ERR_PROTOCOL);
	m.rq.rq_op = IPC_REQUEST_LOAD;
	m.rq.rq_hdr.ih_id = 0;		/* a reply could not name it */
	ASSERT_INT_EQ(ipc_check(&m, sizeof(m.rq), err, sizeof(err)),
	    AG_ERR_PROTOCOL);
	m.rq.rq_hdr.ih_id = 7;
	memset(m.rq.rq_name, 'x', sizeof(m.rq.rq_name));
	ASSERT_INT_EQ(ipc_check(&m, sizeof(m.rq), err, sizeof(err)),
	    AG_ERR_PROTOCOL);

	memset(&m, 0, sizeof(m));
	ipc_hdr_init(&m.rp.rp_hdr, IPC_CTL_REPLY, sizeof(m.rp), 7);
	ASSERT_INT_EQ(ipc_check(&m, sizeof(m.rp), err, sizeof(err)), 0);
	m.rp.rp_status = AG_ERR_NOT_FOUND;
	ASSERT_INT_EQ(ipc_check(&m, sizeof(m.rp), err, sizeof(err)), 0);
	m.rp.rp_status = 1;
	ASSERT_INT_EQ(ipc_check(&m, sizeof(m.rp), err, sizeof(err)),
	    AG_ERR_PROTOCOL);
	m.rp.rp_status = AG_ERR_MAX - 1;
	ASSERT_INT_EQ(ipc_check(&m, sizeof(m.rp), err, sizeof(err)),
	    AG_ERR_PROTOCOL);
	m.rp.rp_status = 0;
	memset(m.rp.rp_msg, 'x', sizeof(m.rp.rp_msg));
	ASSERT_INT_EQ(ipc_check(&m, sizeof(m.rp), err, sizeof(err)),
	    AG_ERR_PROTOCOL);

	memset(&m, 0, sizeof(m));
	m.ix.ix_n = 2;
	len = sizeof(m.ix) + 2 * sizeof(m.ix.ix_e[0]);
	ipc_hdr_init(&m.ix.ix_hdr, IPC_CTL_INDEX, len, 0);
	memcpy(m.ix.ix_e[0].ie_name, "r18", 4);
	m.ix.ix_e[0].ie_state = IPC_INDEX_READY;
	memcpy(m.ix.ix_e[1].ie_name, "r50", 4);
	m.ix.ix_e[1].ie_state = IPC_INDEX_UNAVAILABLE;
	ASSERT_INT_EQ(ipc_check(&m, len, err, sizeof(err)), 0);
	/* The count and the length must agree. */
	ASSERT_INT_EQ(ipc_check(&m, len - 1, err, sizeof(err)),
	    AG_ERR_PROTOCOL);
	m.ix.ix_n = 3;
	ASSERT_INT_EQ(ipc_check(&m, len, err, sizeof(err)), AG_ERR_PROTOCOL);
	m.ix.ix_n = 2;
	m.ix.ix_e[1].ie_state = IPC_INDEX_UNLOADING + 1;
	ASSERT_INT_EQ(ipc_check(&m, len, err, sizeof(err)), AG_ERR_PROTOCOL);
	m.ix.ix_e[1].ie_state = IPC_INDEX_LOADING;
	memset(m.ix.ix_e[1].ie_reason, 'r', sizeof(m.ix.ix_e[1].ie_reason));
	ASSERT_INT_EQ(ipc_check(&m, len, err, sizeof(err)), AG_ERR_PROTOCOL);
	/* At most IPC_INDEX_MAX entries. */
	memset(&m, 0, sizeof(m));
	m.ix.ix_n = IPC_INDEX_MAX + 1;
	len = sizeof(m.ix) + (IPC_INDEX_MAX + 1) * sizeof(m.ix.ix_e[0]);
	ipc_hdr_init(&m.ix.ix_hdr, IPC_CTL_INDEX, len, 0);
	ASSERT_INT_EQ(ipc_check(&m, len, err, sizeof(err)), AG_ERR_PROTOCOL);
	TEST_DONE();
}

/* Random bytes and mutations of valid messages: refused or accepted,
 * never a crash (ASan watches the reads). */
static void
test_mutations(void)
{
	struct ipc_hello hl;
	uint8_t m[sizeof(struct ipc_hello) + 64];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	char err[256];
	int i, accepted = 0;

	TEST_START("1,000,000 mutated messages");
	for (i = 0; i < 1000000; i++) {
		size_t len, k;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		valid_hello(&hl);
		memcpy(m, &hl, sizeof(hl));
		len = sizeof(hl);
		if (i % 7 == 0)
			len = sizeof(struct ipc_hdr) + (x >> 20) % 64;
		for (k = 0; k < 1 + (x >> 40) % 4; k++)
			m[(x >> (8 * k)) % len] ^= (uint8_t)(1u << (x >> 60 &
			    7));
		if (i % 3 == 0)		/* valid header, random type */
			((struct ipc_hdr *)(void *)m)->ih_type =
			    (uint16_t)(x >> 33) % 24;
		((struct ipc_hdr *)(void *)m)->ih_len = (uint32_t)len;
		if (len >= sizeof(struct ipc_hdr) &&
		    ipc_check(m, len, err, sizeof(err)) == 0)
			accepted++;
	}
	ASSERT_INT_GT(accepted, 0);
	ASSERT_INT_LT(accepted, 1000000);
	TEST_DONE();
}

/* ---- the worker against a front that misbehaves ------------------------ */

struct wk {
	pid_t		 pid;
	int		 sock;
	uint8_t		*shm;
	struct ipc_hello hl;
};

/* The worker of cf on sock, its model located as aiguardd's parent does. */
static int
run_worker(const struct ag_config *cf, int sock)
{
	static struct daemon_ctx dc;
	char err[256];

	if (daemon_resolve_model(cf, &dc, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 99;
	}
	return worker_main(&dc, sock, -1);
}

static int
wk_start(struct wk *wk, const struct ag_config *cf)
{
	char err[256];
	int sv[2], fd = -1, n;

	pair(sv);
	if ((wk->pid = fork()) == -1)
		exit(99);
	if (wk->pid == 0) {
		close(sv[0]);
		log_init("test-worker", LOG_LVL_FATAL);
		_exit(run_worker(cf, sv[1]));
	}
	close(sv[1]);
	wk->sock = sv[0];
	n = ipc_recv(wk->sock, &rbuf, sizeof(rbuf), &fd, 0, err, sizeof(err));
	if (n != (int)sizeof(struct ipc_hello) || fd == -1)
		return -1;
	memcpy(&wk->hl, &rbuf, sizeof(wk->hl));
	wk->shm = mmap(NULL, wk->hl.hl_shm_bytes, PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0);
	close(fd);
	if (wk->shm == MAP_FAILED)
		return -1;
	/* The labels. */
	for (n = 0; (uint32_t)n < wk->hl.hl_labels_bytes; ) {
		int r = ipc_recv(wk->sock, &rbuf, sizeof(rbuf), NULL, 0, err,
		    sizeof(err));

		if (r <= 0 || rbuf.h.ih_type != IPC_LABELS)
			return -1;
		n += (int)((struct ipc_labels *)(void *)&rbuf)->lb_len;
	}
	return 0;
}

/* Waits for the worker to exit; its status, or -1 after 20 s. */
static int
wk_wait(struct wk *wk)
{
	int st, i;

	for (i = 0; i < 2000; i++) {
		if (waitpid(wk->pid, &st, WNOHANG) == wk->pid)
			return st;
		usleep(10000);
	}
	kill(wk->pid, SIGKILL);
	waitpid(wk->pid, &st, 0);
	return -1;
}

static void
wk_send_infer_flags(struct wk *wk, const uint32_t *slots, uint32_t n,
    uint64_t id, uint32_t flags)
{
	union {
		struct ipc_infer	in;
		uint8_t			b[sizeof(struct ipc_infer) + 4 * 300];
	} m;
	size_t len = sizeof(m.in) + n * sizeof(uint32_t);

	memset(&m, 0, sizeof(m));
	ipc_hdr_init(&m.in.in_hdr, IPC_INFER, len, id);
	m.in.in_n = n;
	m.in.in_flags = flags;
	memcpy(m.in.in_slots, slots, n * sizeof(uint32_t));
	if (ipc_send(wk->sock, &m, len, -1) != 0)
		exit(99);
}

static void
wk_send_infer(struct wk *wk, const uint32_t *slots, uint32_t n, uint64_t id)
{
	wk_send_infer_flags(wk, slots, n, id, 0);
}

/* The next RESULT: its id and the size of its engine call. */
static int
wk_result(struct wk *wk, uint64_t *id, uint32_t *batch)
{
	char err[256];
	int n;

	n = ipc_recv(wk->sock, &rbuf, sizeof(rbuf), NULL, 0, err, sizeof(err));
	if (n != (int)sizeof(struct ipc_result) ||
	    rbuf.h.ih_type != IPC_RESULT)
		return -1;
	*id = rbuf.h.ih_id;
	*batch = ((struct ipc_result *)(void *)&rbuf)->rs_batch_size;
	return ((struct ipc_result *)(void *)&rbuf)->rs_status;
}

static void
test_worker(void)
{
	struct ag_config cf;
	struct wk wk;
	const char *model = getenv("AG_MODEL");
	char err[256];
	uint32_t slots[4];
	int st, n;

	/* tests/run-tests always gives the model: its absence is a failure. */
	if (model == NULL || access(model, R_OK) != 0) {
		fprintf(stderr, "FAIL: AG_MODEL (%s) is not a readable model "
		    "directory: the worker cases cannot run\n",
		    model != NULL ? model : "unset");
		exit(99);
	}
	config_defaults(&cf);
	if (config_set(&cf, "model.dir", model, err, sizeof(err)) != 0 ||
	    config_set(&cf, "model.queue_slots", "8", err, sizeof(err)) != 0 ||
	    config_set(&cf, "model.max_request_batch", "4", err,
	    sizeof(err)) != 0 ||
	    config_set(&cf, "model.max_delay_us", "0", err, sizeof(err)) != 0) {
		printf("config: %s\n", err);
		exit(99);
	}

	TEST_START("worker: a valid request is answered in its slots");
	ASSERT_INT_EQ(wk_start(&wk, &cf), 0);
	ASSERT_INT_EQ(wk.hl.hl_slots, 8);
	ASSERT_INT_EQ(wk.hl.hl_model.d_max_request, 4);
	{
		size_t img = 3 * 224 * 224, i;
		float *in = (float *)(void *)(wk.shm + 5 * wk.hl.hl_slot_bytes);
		const float *lg;

		for (i = 0; i < img; i++)
			in[i] = (float)((i * 7919) % 255) / 255.0f - 0.5f;
		slots[0] = 5;
		wk_send_infer(&wk, slots, 1, 77);
		n = ipc_recv(wk.sock, &rbuf, sizeof(rbuf), NULL, 0, err,
		    sizeof(err));
		ASSERT_INT_EQ(n, (int)sizeof(struct ipc_result));
		ASSERT_INT_EQ(rbuf.h.ih_type, IPC_RESULT);
		ASSERT_TRUE(rbuf.h.ih_id == 77);
		ASSERT_INT_EQ(((struct ipc_result *)(void *)&rbuf)->rs_status,
		    0);
		lg = (const float *)(const void *)(wk.shm + 5 *
		    wk.hl.hl_slot_bytes + img * sizeof(float));
		for (i = 0; i < 1000; i++)
			ASSERT_TRUE(lg[i] == lg[i] && lg[i] != 0.0f);
	}
	close(wk.sock);		/* the worker exits cleanly at EOF */
	st = wk_wait(&wk);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	TEST_DONE();

	/*
	 * An image as RGB pixels (IPC_INFER_PIXELS, classify's way): the
	 * worker normalizes it with the model's mean and std, and the
	 * logits are those of the tensor the front used to make.
	 */
	TEST_START("worker: RGB pixels give the logits of their tensor");
	ASSERT_INT_EQ(wk_start(&wk, &cf), 0);
	{
		size_t img = 3 * 224 * 224, i, lo = img * sizeof(float);
		uint8_t *px = wk.shm + 6 * wk.hl.hl_slot_bytes;
		float *in = (float *)(void *)(wk.shm + 2 * wk.hl.hl_slot_bytes);
		const float *l1, *l2;
		uint64_t id = 0;
		uint32_t batch = 0;
		struct model_conf mc;
		char path[4096];
		uint8_t *conf = NULL;
		size_t clen = 0;

		/* The model's own normalisation, from its config.json. */
		snprintf(path, sizeof(path), "%s/%s", model, MODEL_CONFIG_FILE);
		ASSERT_INT_EQ(ag_read_file(path, 1 << 20, &conf, &clen, err,
		    sizeof(err)), 0);
		ASSERT_INT_EQ(model_conf_parse((const char *)conf, clen, &mc,
		    err, sizeof(err)), 0);
		free(conf);
		for (i = 0; i < img; i++)
			px[i] = (uint8_t)((i * 7919 + i / 672) % 256);
		image_to_tensor(px, 224, 224, mc.mc_mean, mc.mc_std, in);
		slots[0] = 2;
		wk_send_infer(&wk, slots, 1, 1);
		ASSERT_INT_EQ(wk_result(&wk, &id, &batch), 0);
		ASSERT_TRUE(id == 1);
		slots[0] = 6;
		wk_send_infer_flags(&wk, slots, 1, 2, IPC_INFER_PIXELS);
		ASSERT_INT_EQ(wk_result(&wk, &id, &batch), 0);
		ASSERT_TRUE(id == 2);
		l1 = (const float *)(const void *)(wk.shm + 2 *
		    wk.hl.hl_slot_bytes + lo);
		l2 = (const float *)(const void *)(wk.shm + 6 *
		    wk.hl.hl_slot_bytes + lo);
		ASSERT_TRUE(l1[0] == l1[0] && l1[0] != 0.0f);
		ASSERT_INT_EQ(memcmp(l1, l2, 1000 * sizeof(float)), 0);
	}
	close(wk.sock);
	st = wk_wait(&wk);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	TEST_DONE();

	/*
	 * Two requests from clients that come back at once share a call;
	 * the next request then waits (model.return_wait_us, long here) for
	 * as many images and goes with the first one to come; a request
	 * after a call of clients that do not come back goes at once.
	 */
	TEST_START("worker: a batch waits for clients that come back");
	{
		struct ag_config rc = cf;
		uint64_t id = 0;
		uint32_t batch = 0;
		double t;

		ASSERT_INT_EQ(config_set(&rc, "model.max_batch", "2", err,
		    sizeof(err)), 0);
		ASSERT_INT_EQ(config_set(&rc, "model.return_wait_us", "1000000",
		    err, sizeof(err)), 0);
		ASSERT_INT_EQ(wk_start(&wk, &rc), 0);
		/*
		 * One request of two images, so that the call surely holds
		 * both (two requests could be read one pass apart).
		 */
		slots[0] = 0;
		slots[1] = 1;
		wk_send_infer_flags(&wk, slots, 2, 1, IPC_INFER_RETURNS);
		ASSERT_INT_EQ(wk_result(&wk, &id, &batch), 0);
		ASSERT_TRUE(id == 1);
		ASSERT_INT_EQ(batch, 2);
		/* Two images back expected: the next request waits for one. */
		slots[0] = 2;
		wk_send_infer(&wk, slots, 1, 3);
		usleep(100 * 1000);
		slots[0] = 3;
		wk_send_infer(&wk, slots, 1, 4);
		ASSERT_INT_EQ(wk_result(&wk, &id, &batch), 0);
		ASSERT_TRUE(id == 3);
		ASSERT_INT_EQ(batch, 2);
		ASSERT_INT_EQ(wk_result(&wk, &id, &batch), 0);
		ASSERT_TRUE(id == 4);
		ASSERT_INT_EQ(batch, 2);
		/* Neither comes back: the next one goes alone, at once. */
		slots[0] = 4;
		t = ag_now();
		wk_send_infer(&wk, slots, 1, 5);
		ASSERT_INT_EQ(wk_result(&wk, &id, &batch), 0);
		ASSERT_TRUE(id == 5);
		ASSERT_INT_EQ(batch, 1);
		ASSERT_TRUE(ag_now() - t < 0.9);
		close(wk.sock);
		st = wk_wait(&wk);
		ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	TEST_DONE();

	/*
	 * A load that never lets the queue empty (eight requests in flight,
	 * each answered one sent again at once): a SIGHUP is still seen
	 * between two batches, and the reload is answered while the load
	 * goes on.
	 */
	TEST_START("worker: a reload under load that never stops");
	{
		struct ag_config lc = cf;
		uint32_t k;
		int results = 0, reloaded = 0, sent_hup = 0;

		ASSERT_INT_EQ(wk_start(&wk, &lc), 0);
		for (k = 0; k < 8; k++)
			wk_send_infer(&wk, &k, 1, 100 + k);
		while (!reloaded && results < 400) {
			n = ipc_recv(wk.sock, &rbuf, sizeof(rbuf), NULL, 0, err,
			    sizeof(err));
			ASSERT_TRUE(n > 0);
			if (rbuf.h.ih_type == IPC_RELOAD) {
				ASSERT_INT_EQ(((struct ipc_reload *)(void *)
				    &rbuf)->rl_ok, 1);
				reloaded = 1;
				break;
			}
			ASSERT_INT_EQ(rbuf.h.ih_type, IPC_RESULT);
			results++;
			k = (uint32_t)(rbuf.h.ih_id - 100) % 8;
			wk_send_infer(&wk, &k, 1, 100 + k);
			if (results == 8 && !sent_hup) {
				ASSERT_INT_EQ(kill(wk.pid, SIGHUP), 0);
				sent_hup = 1;
			}
		}
		ASSERT_TRUE(reloaded);
		close(wk.sock);
		st = wk_wait(&wk);
		ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	TEST_DONE();

	TEST_START("worker: a slot out of range ends it");
	ASSERT_INT_EQ(wk_start(&wk, &cf), 0);
	slots[0] = 8;
	wk_send_infer(&wk, slots, 1, 1);
	st = wk_wait(&wk);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) != 0);
	close(wk.sock);
	TEST_DONE();

	TEST_START("worker: a slot named twice ends it");
	ASSERT_INT_EQ(wk_start(&wk, &cf), 0);
	slots[0] = 2;
	slots[1] = 2;
	wk_send_infer(&wk, slots, 2, 1);
	st = wk_wait(&wk);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) != 0);
	close(wk.sock);
	TEST_DONE();

	TEST_START("worker: more images than max_request_batch end it");
	ASSERT_INT_EQ(wk_start(&wk, &cf), 0);
	{
		uint32_t s5[5] = { 0, 1, 2, 3, 4 };

		wk_send_infer(&wk, s5, 5, 1);
	}
	st = wk_wait(&wk);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) != 0);
	close(wk.sock);
	TEST_DONE();

	TEST_START("worker: a cancelled request leaves the queue, its slots free");
	{
		struct ag_config cf2 = cf;
		struct ipc_hdr h;
		uint64_t id = 0, id1 = 0;
		uint32_t batch = 0;
		int r1, r2;

		/* The queue waits a second for a batch: nothing runs early. */
		cf2.cf_max_delay_us = 1000000;
		ASSERT_INT_EQ(wk_start(&wk, &cf2), 0);
		slots[0] = 0;
		wk_send_infer(&wk, slots, 1, 1);
		slots[0] = 1;
		wk_send_infer(&wk, slots, 1, 2);
		ipc_hdr_init(&h, IPC_CANCEL, sizeof(h), 2);
		ASSERT_INT_EQ(ipc_send(wk.sock, &h, sizeof(h), -1), 0);
		/* Answered at once, unrun. */
		ASSERT_INT_EQ(wk_result(&wk, &id, &batch), AG_ERR_UNAVAILABLE);
		ASSERT_TRUE(id == 2);
		ASSERT_INT_EQ(batch, 0);
		/* One it does not have (run, or never sent): no matter. */
		ipc_hdr_init(&h, IPC_CANCEL, sizeof(h), 99);
		ASSERT_INT_EQ(ipc_send(wk.sock, &h, sizeof(h), -1), 0);
		/* Slot 1 is free again: naming it is no protocol breach. */
		wk_send_infer(&wk, slots, 1, 3);
		r1 = wk_result(&wk, &id1, &batch);
		r2 = wk_result(&wk, &id, &batch);
		ASSERT_INT_EQ(r1, 0);
		ASSERT_INT_EQ(r2, 0);
		ASSERT_TRUE((id1 == 1 && id == 3) || (id1 == 3 && id == 1));
		close(wk.sock);
		st = wk_wait(&wk);
		ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	TEST_DONE();

	TEST_START("worker: a message it never takes ends it");
	ASSERT_INT_EQ(wk_start(&wk, &cf), 0);
	{
		struct ipc_hello hl;

		valid_hello(&hl);
		ASSERT_INT_EQ(ipc_send(wk.sock, &hl, sizeof(hl), -1), 0);
	}
	st = wk_wait(&wk);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) != 0);
	close(wk.sock);
	TEST_DONE();

	TEST_START("worker: a model that does not load");
	{
		struct ag_config bad = cf;
		int sv[2];

		ASSERT_INT_EQ(config_set(&bad, "model.dir", test_tmpdir(), err,
		    sizeof(err)), 0);
		pair(sv);
		if ((wk.pid = fork()) == 0) {
			close(sv[0]);
			log_init("test-worker", LOG_LVL_FATAL);
			_exit(run_worker(&bad, sv[1]));
		}
		close(sv[1]);
		st = wk_wait(&wk);
		ASSERT_TRUE(WIFEXITED(st) &&
		    WEXITSTATUS(st) == WORKER_EXIT_MODEL);
		close(sv[0]);
	}
	TEST_DONE();
}

void
tests(void)
{
	test_plan(18);
	signal(SIGPIPE, SIG_IGN);
	test_roundtrip();
	test_checks();
	test_control();
	test_mutations();
	test_worker();
}
