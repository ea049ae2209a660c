/* SPDX-License-Identifier: ISC */
/*
 * main.c: aiguardd, the parent process.
 *
 * It reads the configuration, then forks the front (HTTP) and the worker
 * (model, engine) and supervises them: a worker that dies is started again
 * after a backoff that doubles from restart_backoff_min_ms to _max_ms
 * (reset once a worker has lived a minute), and the front is handed the
 * new worker's socket; a front that dies takes the worker with it and both
 * start again.  Each worker says once, over a link of its own, that it is
 * ready; max_start_failures workers in a row that die before that stop
 * aiguardd (exit 1) with one fatal line, rather than a restart loop.
 * SIGHUP is passed to the worker (reload), and re-reads the token file and
 * the TLS files for the front (frontdoor.c).  SIGTERM or SIGINT: the front
 * stops accepting and finishes what it has, then the worker stops, then
 * the parent exits 0.
 *
 * The parent holds no model, no socket to the network and no client data:
 * it only forks, waits and signals, and reads the front door's files.
 */
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
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
#include "common/version.h"
#include "http/jsonin.h"
#include "http/server.h"
#include "http/ratelimit.h"
#include "http/tokens.h"
#include "model/model.h"
#include "sandbox/selinux.h"
#include "daemon.h"
#include "engine/resnet.h"
#include "ipc.h"

#define STABLE_AFTER_S		60.0	/* a worker this old resets backoff */
#define STOP_GRACE_S		5.0	/* after request_timeout, SIGKILL */
#define DAEMON_MMAP_THRESHOLD	(256 * 1024)	/* bytes; see main() */

struct child {
	pid_t		 ch_pid;	/* 0: not running */
	double		 ch_started;
	double		 ch_restart_at;	/* 0: no restart due */
	int		 ch_backoff_ms;
	unsigned	 ch_starts;
	/* The worker only: */
	int		 ch_ready_fd;	/* our end of its ready link, -1 */
	int		 ch_ready;	/* it said it is ready */
	int		 ch_ordered;	/* we told it to stop */
	char		 ch_why[IPC_TEXT_MAX];	/* its "E" message, or "" */
};

struct parent {
	const struct ag_config	*p_cf;
	const struct daemon_ctx	*p_dc;		/* resolved once */
	int			 p_sigfd;
	int			 p_ctl;		/* our end of the front link */
	int			 p_lfd;		/* the listening socket */
	struct child		 p_front, p_worker;
	int			 p_stopping;
	double			 p_stop_deadline;
	int			 p_status;
	unsigned		 p_load_failures;
	unsigned		 p_start_failures;	/* in a row */
	struct frontdoor	 p_fd;		/* tokens, TLS: the last good */
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: aiguardd [--config FILE] [--listen ADDR:PORT] [--model DIR]\n"
	    "                [--name NAME] [--threads N] [--max-batch N]\n"
	    "                [--max-delay-us N] [--log-level LEVEL]\n"
	    "                [--verify-key PUB | --verify-ca BUNDLE |\n"
	    "                 --allow-unsigned]\n"
	    "                [--cert-validity now|signing-time | "
	    "--require-valid-now]\n"
	    "                [--pid-file FILE]\n"
	    "                [--tls-cert FILE --tls-key FILE "
	    "[--tls-client-ca FILE]]\n"
	    "                [--tokens FILE]\n"
	    "                [--set SECTION.KEY=VALUE]... [--check-config]\n"
	    "       aiguardd --help | --version\n"
	    "\n"
	    "Serves an image classification model over HTTP: the Open Inference\n"
	    "Protocol (KServe v2 REST) at /v2, POST /v2/models/NAME/classify\n"
	    "for JPEG or PNG bodies, Prometheus metrics at /metrics.\n"
	    "\n"
	    "  --config FILE        INI configuration (see etc/aiguardd.conf);\n"
	    "                       flags override it\n"
	    "  --listen ADDR:PORT   default 127.0.0.1:8500 (port 0: any free port,\n"
	    "                       logged at start; not loopback: only with TLS,\n"
	    "                       tokens and only health open, or with\n"
	    "                       --set server.allow_insecure=yes)\n"
	    "  --model DIR          model directory (default: the bundled model)\n"
	    "  --name NAME          name served under /v2/models/ (default: the\n"
	    "                       model's own)\n"
	    "  --threads N          engine threads (default 2)\n"
	    "  --max-batch N        images per engine call (default 4)\n"
	    "  --max-delay-us N     batching window in microseconds (default 0)\n"
	    "  --log-level LEVEL    fatal, warn, info or debug (default info)\n"
	    "  --verify-key PUB     trust model signatures by this ECDSA public key\n"
	    "  --verify-ca BUNDLE   trust model signatures whose certificate chain\n"
	    "                       leads to a CA in this PEM bundle\n"
	    "                       (neither: the build tree's key when run from\n"
	    "                       it; a model that does not verify never loads)\n"
	    "  --allow-unsigned     with no trust anchor, load models unchecked\n"
	    "  --cert-validity now|signing-time\n"
	    "                       when a certificate chain must be valid:\n"
	    "                       now (default), or at the leaf's notBefore\n"
	    "                       as the reference tool checks it\n"
	    "  --require-valid-now  the same as --cert-validity now\n"
	    "  --pid-file FILE      write the parent's pid there (for aiguard deploy)\n"
	    "  --tls-cert FILE      serve HTTPS (TLS 1.2 and 1.3) with this PEM\n"
	    "                       certificate chain, leaf first\n"
	    "  --tls-key FILE       the certificate's private key (PEM)\n"
	    "  --tls-client-ca FILE ask clients for a certificate and accept those\n"
	    "                       that lead to a CA in this PEM bundle (mutual\n"
	    "                       TLS; a \"cert\" entry of the token file names them)\n"
	    "  --tokens FILE        the token file (aiguard token add): every\n"
	    "                       category but server.open needs a bearer token\n"
	    "  --set KEY=VALUE      any configuration key, e.g. server.max_body_bytes=8m\n"
	    "  --check-config       check the configuration and the model, print the\n"
	    "                       effective configuration, exit\n"
	    "\n"
	    "Signals: SIGHUP reloads the model, the token file and the TLS files\n"
	    "(a failed reload keeps the old ones);\n"
	    "SIGTERM finishes the requests in progress and exits 0.\n");
}

static void
set_or_die(struct ag_config *cf, const char *key, const char *val)
{
	char err[512];

	if (config_set(cf, key, val, err, sizeof(err)) != 0) {
		fprintf(stderr, "aiguardd: %s\n", err);
		exit(2);
	}
}

static void
parse_args(int argc, char **argv, struct ag_config *cf, int *check)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "model", required_argument, NULL, 'm' },
		{ "name", required_argument, NULL, 'n' },
		{ "threads", required_argument, NULL, 't' },
		{ "max-batch", required_argument, NULL, 'b' },
		{ "max-delay-us", required_argument, NULL, 'd' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "set", required_argument, NULL, 's' },
		{ "verify-key", required_argument, NULL, 'K' },
		{ "verify-ca", required_argument, NULL, 'A' },
		{ "allow-unsigned", no_argument, NULL, 'U' },
		{ "cert-validity", required_argument, NULL, 'W' },
		{ "require-valid-now", no_argument, NULL, 'N' },
		{ "pid-file", required_argument, NULL, 'P' },
		{ "tls-cert", required_argument, NULL, 'T' },
		{ "tls-key", required_argument, NULL, 'k' },
		{ "tls-client-ca", required_argument, NULL, 'a' },
		{ "tokens", required_argument, NULL, 'o' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *file = NULL;
	char err[512];
	int ch;

	/* First pass: the file, so that every flag overrides it. */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("aiguardd %s\n", AIGUARD_VERSION);
			exit(0);
		case '?':
			fprintf(stderr, "aiguardd: unknown or incomplete "
			    "option %s\n", argv[optind - 1]);
			usage(stderr);
			exit(2);
		default:
			break;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "aiguardd: unexpected argument %s\n",
		    argv[optind]);
		usage(stderr);
		exit(2);
	}
	config_defaults(cf);
	if (file != NULL && config_load_file(cf, file, err, sizeof(err)) != 0) {
		fprintf(stderr, "aiguardd: %s\n", err);
		exit(2);
	}
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'l': set_or_die(cf, "server.listen", optarg); break;
		case 'm': set_or_die(cf, "model.dir", optarg); break;
		case 'n': set_or_die(cf, "model.name", optarg); break;
		case 't': set_or_die(cf, "model.threads", optarg); break;
		case 'b': set_or_die(cf, "model.max_batch", optarg); break;
		case 'd': set_or_die(cf, "model.max_delay_us", optarg); break;
		case 'L': set_or_die(cf, "log.level", optarg); break;
		case 'C': *check = 1; break;
		/* A flag's anchor replaces the file's, of either kind. */
		case 'K':
			set_or_die(cf, "model.verify_ca", "");
			set_or_die(cf, "model.verify_key", optarg);
			break;
		case 'A':
			set_or_die(cf, "model.verify_key", "");
			set_or_die(cf, "model.verify_ca", optarg);
			break;
		case 'U': set_or_die(cf, "model.allow_unsigned", "yes"); break;
		case 'W': set_or_die(cf, "model.cert_validity", optarg); break;
		case 'N': set_or_die(cf, "model.cert_validity", "now"); break;
		case 'P': set_or_die(cf, "server.pid_file", optarg); break;
		case 'T': set_or_die(cf, "server.tls_cert", optarg); break;
		case 'k': set_or_die(cf, "server.tls_key", optarg); break;
		case 'a': set_or_die(cf, "server.tls_client_ca", optarg); break;
		case 'o': set_or_die(cf, "server.tokens", optarg); break;
		case 's': {
			char key[64], *eq = strchr(optarg, '=');

			if (eq == NULL || (size_t)(eq - optarg) >= sizeof(key)) {
				fprintf(stderr, "aiguardd: --set %s: expected "
				    "SECTION.KEY=VALUE\n", optarg);
				exit(2);
			}
			memcpy(key, optarg, (size_t)(eq - optarg));
			key[eq - optarg] = '\0';
			set_or_die(cf, key, eq + 1);
			break;
		}
		default:
			break;
		}
	}
	if (config_validate(cf, err, sizeof(err)) != 0) {
		fprintf(stderr, "aiguardd: %s\n", err);
		exit(2);
	}
}

/* --check-config: the configuration, and whether the model loads. */
static int
check_config(struct ag_config *cf)
{
	struct model_loc loc;
	struct model *md;
	char dir[PATH_MAX], ver[MODEL_VERSION_MAX], err[512];
	int r;

	config_dump(cf, stdout);
	if (model_locate(cf->cf_model_dir, &loc, err, sizeof(err)) != 0) {
		fprintf(stderr, "aiguardd: %s\n", err);
		return 1;
	}
	model_loc_current(&loc, dir, sizeof(dir), ver, sizeof(ver));
	if (daemon_trust_setup(cf, err, sizeof(err)) != 0) {
		fprintf(stderr, "aiguardd: %s\n", err);
		return 1;
	}
	/* The front door's files, read and checked as at start. */
	if (cf->cf_tokens[0] != '\0' || cf->cf_tls_cert[0] != '\0') {
		struct frontdoor fd;

		memset(&fd, 0, sizeof(fd));
		if (frontdoor_load(cf, &fd, err, sizeof(err)) != 0) {
			fprintf(stderr, "aiguardd: %s\n", err);
			return 1;
		}
		if (cf->cf_tokens[0] != '\0')
			fprintf(stderr, "aiguardd: token file %s: %zu "
			    "entries\n", cf->cf_tokens, fd.fd_ntokens);
		if (fd.fd_flags & IPC_FD_TLS)
			fprintf(stderr, "aiguardd: TLS: %s\n", fd.fd_tls_desc);
		frontdoor_clear(&fd);
	}
	/* The load the worker does, on as many threads. */
	resnet_set_threads(cf->cf_threads);
	resnet_set_low_memory(cf->cf_low_memory);
	if ((r = model_load_signed(dir, daemon_trust(), &md, err,
	    sizeof(err))) != 0) {
		fprintf(stderr, "aiguardd: model: %s\n", err);
		return 1;
	}
	fprintf(stderr, "aiguardd: configuration OK; model %s (%s, %d "
	    "classes) loads from %s in %.1f ms (read and verify %.1f, "
	    "build %.1f)\n", md->md_conf.mc_name, md->md_conf.mc_arch,
	    md->md_conf.mc_classes, md->md_dir,
	    (md->md_verify_s + md->md_build_s) * 1e3, md->md_verify_s * 1e3,
	    md->md_build_s * 1e3);
	if (md->md_signed)
		fprintf(stderr, "aiguardd: signature verified: %zu files, "
		    "digest %s, signer %s\n", md->md_sig.mr_files,
		    md->md_sig.mr_digest, md->md_sig.mr_signer);
	else
		fprintf(stderr, "aiguardd: signature NOT checked "
		    "(allow_unsigned)\n");
	if (md->md_signed && md->md_sig.mr_cert_note[0] != '\0')
		fprintf(stderr, "aiguardd: WARNING: %s\n",
		    md->md_sig.mr_cert_note);
	model_free(md);
	return 0;
}

/*
 * The parent's pid, for aiguard deploy and rollback (SIGHUP).  Written
 * before the sandbox, which then forbids removing it: a stale file is
 * told apart by the process it names (/proc/PID/comm).
 */
static int
write_pid_file(const char *path, char *err, size_t errlen)
{
	char buf[32];
	int fd, n;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0644);
	if (fd == -1)
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "%s: %s", path,
		    strerror(errno));
	/*
	 * 0644 whatever the umask (systemd units often set 0077): aiguard
	 * deploy reads it as root, and root in its SELinux domain has no
	 * dac_override.  A process id is no secret.
	 */
	if (fchmod(fd, 0644) == -1) {
		(void)close(fd);
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "%s: chmod: %s",
		    path, strerror(errno));
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		(void)close(fd);
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "%s: write: %s",
		    path, strerror(errno));
	}
	return close(fd) == 0 ? 0 : ag_errf(err, errlen, AG_ERR_SYSTEM,
	    "%s: %s", path, strerror(errno));
}

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
		if (p->p_ctl != -1)
			(void)close(p->p_ctl);
		if (p->p_worker.ch_ready_fd != -1)
			(void)close(p->p_worker.ch_ready_fd);
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

static void
spawn_worker(struct parent *p)
{
	struct ipc_ctl_worker cw;
	int sv[2], rd[2];
	pid_t pid;

	/* The ready link: non-blocking, read by the poll loop and reap(). */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0, rd) == -1)
		fatal("socketpair");
	if ((pid = spawn(p, sv)) == 0) {
		(void)close(p->p_ctl);
		(void)close(p->p_lfd);	/* the worker holds no network socket */
		(void)close(rd[0]);
		_exit(worker_main(p->p_dc, sv[1], rd[1]));
	}
	(void)close(rd[1]);
	p->p_worker.ch_ready_fd = rd[0];
	p->p_worker.ch_ready = 0;
	p->p_worker.ch_ordered = 0;
	p->p_worker.ch_why[0] = '\0';
	child_started(&p->p_worker, pid, "worker");
	memset(&cw, 0, sizeof(cw));
	ipc_hdr_init(&cw.cw_hdr, IPC_CTL_WORKER, sizeof(cw), 0);
	cw.cw_restarts = p->p_worker.ch_starts - 1;
	cw.cw_load_failures = p->p_load_failures;
	if (ipc_send(p->p_ctl, &cw, sizeof(cw), sv[0]) != 0)
		log_warn("cannot hand the worker to the front");
	(void)close(sv[0]);
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

static void	begin_stop(struct parent *p, const char *why);

/*
 * Reads the worker's ready link (daemon.h): "R" makes it ready and clears
 * the count of workers that died before that; "E" keeps why its model
 * did not load.  That message or end of file (it died first) closes our
 * end.  Never blocks.
 */
static void
worker_ready_read(struct parent *p)
{
	struct child *ch = &p->p_worker;
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
		log_debug("worker ready pid=%ld", (long)ch->ch_pid);
	} else if (n >= 1 && buf[0] == 'E') {
		buf[n] = '\0';
		(void)snprintf(ch->ch_why, sizeof(ch->ch_why), "%s", buf + 1);
	}
	(void)close(ch->ch_ready_fd);
	ch->ch_ready_fd = -1;
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
 * A worker died before it was ever ready: the max_start_failures-th in a
 * row stops aiguardd with one fatal line.  Returns 1 when it did.
 */
static int
worker_start_failed(struct parent *p, int status)
{
	char why[512], q[1100];

	if (p->p_worker.ch_ready || p->p_worker.ch_ordered)
		return 0;
	if (++p->p_start_failures < (unsigned)p->p_cf->cf_max_start_failures)
		return 0;
	describe_start_failure(status, p->p_worker.ch_why, why, sizeof(why));
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
reap(struct parent *p)
{
	char how[96];
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		describe_exit(status, how, sizeof(how));
		if (pid == p->p_worker.ch_pid) {
			p->p_worker.ch_pid = 0;
			/* Its message, if it sent one, came before its end. */
			worker_ready_read(p);
			if (p->p_worker.ch_ready_fd != -1) {
				(void)close(p->p_worker.ch_ready_fd);
				p->p_worker.ch_ready_fd = -1;
			}
			if (p->p_stopping) {
				log_event(LOG_LVL_INFO, "event=child_exit "
				    "child=worker %s", how);
				continue;
			}
			log_event(LOG_LVL_WARN, "event=child_exit child=worker "
			    "%s msg=\"worker died; requests in flight were "
			    "answered 503\"", how);
			if (WIFEXITED(status) && WEXITSTATUS(status) ==
			    WORKER_EXIT_MODEL)
				p->p_load_failures++;
			if (WIFEXITED(status) && WEXITSTATUS(status) ==
			    EXIT_SANDBOX) {
				log_warnx("the worker cannot confine itself; "
				    "stopping");
				p->p_status = 1;
				begin_stop(p, "sandbox");
				continue;
			}
			if (WIFEXITED(status) && WEXITSTATUS(status) ==
			    WORKER_EXIT_MODEL && p->p_worker.ch_starts == 1) {
				log_warnx("the model does not load; stopping "
				    "(aiguardd --check-config says why)");
				p->p_status = 1;
				p->p_stopping = 1;
				if (p->p_front.ch_pid > 0)
					(void)kill(p->p_front.ch_pid, SIGTERM);
				continue;
			}
			if (worker_start_failed(p, status))
				continue;
			schedule_restart(p, &p->p_worker, "worker");
		} else if (pid == p->p_front.ch_pid) {
			p->p_front.ch_pid = 0;
			if (p->p_stopping) {
				log_event(LOG_LVL_INFO, "event=child_exit "
				    "child=front %s", how);
				if (p->p_worker.ch_pid > 0)
					(void)kill(p->p_worker.ch_pid, SIGTERM);
				continue;
			}
			log_event(LOG_LVL_WARN, "event=child_exit child=front "
			    "%s", how);
			if (WIFEXITED(status) && (WEXITSTATUS(status) ==
			    FRONT_EXIT_LISTEN || WEXITSTATUS(status) ==
			    EXIT_SANDBOX)) {
				log_warnx("the front cannot %s; stopping",
				    WEXITSTATUS(status) == EXIT_SANDBOX ?
				    "confine itself" : "serve");
				p->p_status = 1;
				p->p_stopping = 1;
				p->p_stop_deadline = ag_now() + STOP_GRACE_S;
				if (p->p_worker.ch_pid > 0)
					(void)kill(p->p_worker.ch_pid, SIGTERM);
				continue;
			}
			/* The worker's link died with the front: both again. */
			if (p->p_worker.ch_pid > 0) {
				p->p_worker.ch_ordered = 1;
				(void)kill(p->p_worker.ch_pid, SIGTERM);
			}
			p->p_worker.ch_restart_at = 0;
			schedule_restart(p, &p->p_front, "front");
		}
	}
}

static void
begin_stop(struct parent *p, const char *why)
{
	if (p->p_stopping)
		return;
	p->p_stopping = 1;
	p->p_stop_deadline = ag_now() + p->p_cf->cf_request_timeout +
	    STOP_GRACE_S;
	log_info("%s: stopping", why);
	if (p->p_front.ch_pid > 0)
		(void)kill(p->p_front.ch_pid, SIGTERM);
	else if (p->p_worker.ch_pid > 0)
		(void)kill(p->p_worker.ch_pid, SIGTERM);
}

static int
supervise(struct parent *p)
{
	struct pollfd pfd[2];

	spawn_front(p);
	spawn_worker(p);
	pfd[0].fd = p->p_sigfd;
	pfd[0].events = POLLIN;
	pfd[1].events = POLLIN;
	for (;;) {
		double now = ag_now(), next = 0;
		int timeout = -1;

		if (p->p_stopping) {
			if (p->p_front.ch_pid == 0 && p->p_worker.ch_pid == 0)
				break;
			if (p->p_stop_deadline > 0 && now > p->p_stop_deadline) {
				log_warnx("children still running after the "
				    "grace period: killing them");
				if (p->p_front.ch_pid > 0)
					(void)kill(p->p_front.ch_pid, SIGKILL);
				if (p->p_worker.ch_pid > 0)
					(void)kill(p->p_worker.ch_pid, SIGKILL);
				p->p_stop_deadline = 0;
			}
			next = p->p_stop_deadline;
		} else {
			/* Due restarts: the front first, it takes the worker. */
			if (p->p_front.ch_pid == 0 &&
			    p->p_front.ch_restart_at > 0 &&
			    now >= p->p_front.ch_restart_at &&
			    p->p_worker.ch_pid == 0) {
				p->p_front.ch_restart_at = 0;
				spawn_front(p);
				spawn_worker(p);
			} else if (p->p_front.ch_pid > 0 &&
			    p->p_worker.ch_pid == 0 &&
			    p->p_worker.ch_restart_at > 0 &&
			    now >= p->p_worker.ch_restart_at) {
				p->p_worker.ch_restart_at = 0;
				spawn_worker(p);
			}
			if (p->p_front.ch_pid == 0 && p->p_front.ch_restart_at)
				next = p->p_front.ch_restart_at;
			else if (p->p_worker.ch_pid == 0 &&
			    p->p_worker.ch_restart_at > 0)
				next = p->p_worker.ch_restart_at;
			else if (p->p_front.ch_pid == 0 &&
			    p->p_worker.ch_pid > 0)
				next = 0;	/* wait for the worker to go */
		}
		if (next > 0) {
			double d = (next - ag_now()) * 1000.0 + 1;

			timeout = d < 0 ? 0 : d > 60000 ? 60000 : (int)d;
		}
		pfd[1].fd = p->p_worker.ch_ready_fd;	/* -1: skipped */
		pfd[1].revents = 0;
		if (poll(pfd, 2, timeout) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (pfd[1].revents != 0)
			worker_ready_read(p);
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(p->p_sigfd, &si, sizeof(si)) ==
			    sizeof(si)) {
				switch (si.ssi_signo) {
				case SIGCHLD:
					reap(p);
					break;
				case SIGTERM:
					begin_stop(p, "SIGTERM");
					break;
				case SIGINT:
					begin_stop(p, "SIGINT");
					break;
				case SIGHUP:
					frontdoor_reload(p);
					if (p->p_worker.ch_pid > 0) {
						log_info("SIGHUP: reloading "
						    "the model");
						(void)kill(p->p_worker.ch_pid,
						    SIGHUP);
					} else
						log_warnx("SIGHUP: no worker "
						    "to reload");
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

int
main(int argc, char **argv)
{
	static struct daemon_ctx dc;	/* large: not on the stack */
	struct ag_config cf;
	struct parent p;
	struct sandbox_conf sc;
	struct sandbox_state ss;
	struct selinux_status se;
	sigset_t set;
	char err[512];
	int check = 0, port, status;

	/*
	 * Request bodies, tensors, a reload's model and workspace (hundreds
	 * of KB to tens of MB) come and go.  A fixed mmap threshold gives
	 * each of them back to the system when freed; glibc's sliding one
	 * would serve them from a heap after the first few, and a heap keeps
	 * its peak: the front's RSS grew with the traffic, the worker's by
	 * 18 MB at its first reload.  The children inherit the setting.
	 */
	(void)mallopt(M_MMAP_THRESHOLD, DAEMON_MMAP_THRESHOLD);
	parse_args(argc, argv, &cf, &check);
	log_init("aiguardd", cf.cf_log_level);
	if (check)
		return check_config(&cf);
	/* One model directory for the worker's loads and its sandbox. */
	if (daemon_resolve_model(&cf, &dc, err, sizeof(err)) != 0) {
		fprintf(stderr, "aiguardd: %s%s\n", err,
		    cf.cf_model_dir[0] == '\0' ? " (--model DIR)" : "");
		return 1;
	}
	log_set_kv(1);
	log_set_role("parent");
	/* Lines, not blocks, even when stderr is a pipe or a file. */
	setvbuf(stderr, NULL, _IOLBF, 0);

	memset(&p, 0, sizeof(p));
	p.p_cf = &cf;
	p.p_dc = &dc;
	p.p_ctl = -1;
	p.p_worker.ch_ready_fd = -1;
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1 ||
	    (p.p_sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		fatal("signalfd");
	log_info("aiguardd %s starting listen=%s:%d model=%s", AIGUARD_VERSION,
	    cf.cf_listen_addr, cf.cf_listen_port, dc.dc_model.ml_dir);
	{
		const char *why = config_exposure(&cf);

		if (why != NULL)
			log_warnx("insecure: serving %s:%d, not a loopback "
			    "address, and %s (server.allow_insecure = yes)",
			    cf.cf_listen_addr, cf.cf_listen_port, why);
	}
	/* Bound once, here: no process binds after start-up, and a front
	 * that is restarted serves the same socket. */
	if (http_listen(&cf, &p.p_lfd, &port, err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		return 1;
	}
	/* SELinux's view of us, asked before the sandbox closes /proc. */
	selinux_status_get(&se);
	log_event(LOG_LVL_INFO, "event=selinux enabled=%s mode=%s "
	    "context=%s", se.se_enabled ? "yes" : "no", !se.se_enabled ? "-" :
	    se.se_enforcing == 1 ? "enforcing" : se.se_enforcing == 0 ?
	    "permissive" : "unknown", se.se_context[0] ? se.se_context : "-");
	if (selinux_check_domain(&se, cf.cf_sandbox_selinux_domain, err,
	    sizeof(err)) != 0) {
		log_warnx("%s; refusing to run", err);
		return 1;
	}
	if (daemon_trust_setup(&cf, err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		return 1;
	}
	if (cf.cf_pid_file[0] != '\0' && write_pid_file(cf.cf_pid_file, err,
	    sizeof(err)) != 0) {
		log_warnx("%s", err);
		return 1;
	}
	if (daemon_resolve_sandbox(&dc, err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		return 1;
	}
	/*
	 * The front door's files, read and checked whole before anything
	 * serves: a start with a bad token file or a key that does not
	 * match its certificate fails here, naming the file.  The hash the
	 * front checks tokens with initialises now, before any filter.
	 */
	if (tokens_init() != 0)
		fatalx("SHA-256 (the token hash) does not work");
	if (cf.cf_tokens[0] != '\0' || cf.cf_tls_cert[0] != '\0') {
		char open[80];

		if (frontdoor_load(&cf, &p.p_fd, err, sizeof(err)) != 0) {
			log_warnx("%s", err);
			return 1;
		}
		config_open_format(config_open_categories(&cf), open,
		    sizeof(open));
		if (cf.cf_tokens[0] != '\0')
			log_event(LOG_LVL_INFO, "event=frontdoor tokens=%zu "
			    "open=%s", p.p_fd.fd_ntokens, open);
		if (p.p_fd.fd_flags & IPC_FD_TLS)
			log_event(LOG_LVL_INFO, "event=tls %s client_ca=%s",
			    p.p_fd.fd_tls_desc, cf.cf_tls_client_ca[0] ?
			    "yes" : "no");
	}
	/*
	 * The key of the infer parser's key hash, drawn before the filter
	 * that forbids getrandom (every child inherits it); each front
	 * inherits the key with the fork.
	 */
	if (jsonin_init() != 0)
		fatal("getrandom (the JSON key hash)");
	/* The same for the rate limits' key hash (client addresses). */
	if (rl_init() != 0)
		fatal("getrandom (the rate limits' key hash)");
	daemon_sandbox_conf(&dc, SANDBOX_PARENT, &sc);
	if (sandbox_enter(&sc, &ss, err, sizeof(err)) != 0 ||
	    sandbox_lock(&sc, &ss, err, sizeof(err)) != 0) {
		log_warnx("sandbox required but not possible: %s", err);
		return 1;
	}
	daemon_sandbox_log(&sc, &ss);
	status = supervise(&p);
	frontdoor_clear(&p.p_fd);
	return status;
}
