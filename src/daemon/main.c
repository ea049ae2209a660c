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
#include "model/repo.h"
#include "model/store.h"
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
	/* A worker only: */
	int		 ch_ready_fd;	/* our end of its ready link, -1 */
	int		 ch_ready;	/* it said it is ready */
	int		 ch_ordered;	/* we told it to stop */
	char		 ch_why[IPC_TEXT_MAX];	/* its "E" message, or "" */
};

#define P_MAX_WORKERS		64	/* model versions at once */
#define P_MAX_REPLIES		16	/* loads waiting for their worker */

/*
 * One worker: model.dir's one (w_name ""), or one version of one model of
 * the repository.  Its id names it to the front across its restarts.
 */
struct wchild {
	struct child	 w_ch;
	uint32_t	 w_id;		/* 0: slot free */
	char		 w_name[MODEL_NAME_MAX];
	unsigned int	 w_version;	/* 0: model.dir's */
	uint32_t	 w_seq;		/* default sequence (ipc.h) */
	int		 w_retired;	/* the front drains and closes it */
	int		 w_unwanted;	/* not in its model's selection now */
	unsigned	 w_start_failures; /* in a row, before ready */
};

/* A model of the repository, as the parent last scanned it. */
struct pmodel {
	char		 pm_name[MODEL_NAME_MAX];
	int		 pm_present;	/* in the last scan */
	int		 pm_loaded;	/* to be served (control) */
	char		 pm_why[160];	/* why not (all) served, or "" */
};

/* A load the front asked for, answered once its worker is ready. */
struct preply {
	uint64_t	 pr_id;		/* 0: unused */
	char		 pr_name[MODEL_NAME_MAX];
};

struct parent {
	const struct ag_config	*p_cf;
	const struct daemon_ctx	*p_dc;		/* resolved once */
	int			 p_sigfd;
	int			 p_ctl;		/* our end of the front link */
	int			 p_lfd;		/* the listening socket */
	struct child		 p_front;
	struct wchild		 p_wk[P_MAX_WORKERS];
	uint32_t		 p_next_id;
	uint32_t		 p_seq;		/* default sequences given */
	int			 p_repo;	/* model.repository */
	struct pmodel		 p_models[REPO_MODELS_MAX];
	size_t			 p_nmodels;
	struct preply		 p_replies[P_MAX_REPLIES];
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
			char key[128], *eq = strchr(optarg, '=');

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

/* The load the worker does, of dir: 0, or 1 with the reason printed. */
static int
check_load(const char *what, const char *dir)
{
	struct model *md;
	char err[512];

	if (model_load_signed(dir, daemon_trust(), &md, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "aiguardd: %s: %s\n", what, err);
		return 1;
	}
	fprintf(stderr, "aiguardd: %s (%s, %d classes) loads from %s in "
	    "%.1f ms (read and verify %.1f, build %.1f)\n", what,
	    md->md_conf.mc_arch, md->md_conf.mc_classes, md->md_dir,
	    (md->md_verify_s + md->md_build_s) * 1e3, md->md_verify_s * 1e3,
	    md->md_build_s * 1e3);
	if (md->md_signed)
		fprintf(stderr, "aiguardd: signature verified: %zu files, "
		    "digest %s, signer %s\n", md->md_sig.mr_files,
		    md->md_sig.mr_digest, md->md_sig.mr_signer);
	else
		fprintf(stderr, "aiguardd: signature NOT checked "
		    "(allow_unsigned)\n");
	model_free(md);
	return 0;
}

/*
 * --check-config of a repository: what the scan selects of each model,
 * and whether each selected version loads.
 */
static int
check_repository(const struct ag_config *cf)
{
	struct config_model_settings ms;
	struct repo_model *rms = NULL;
	char err[512], what[128], dir[PATH_MAX], pol[64];
	size_t n = 0, i, k;
	int bad = 0;

	if (repo_scan(cf->cf_repository, cf, &rms, &n, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "aiguardd: %s\n", err);
		return 1;
	}
	if (cf->cf_model_control == CONFIG_CONTROL_EXPLICIT)
		fprintf(stderr, "aiguardd: model.control = explicit: %s load "
		    "at start\n", cf->cf_nmodel_names > 0 ?
		    "the models named by model.names" : "no model");
	for (i = 0; i < n; i++) {
		config_model_settings(cf, rms[i].rm_name, &ms);
		config_versions_format(&ms.ms_versions, pol, sizeof(pol));
		fprintf(stderr, "aiguardd: model %s: versions %s: %zu "
		    "selected, default %u%s%s\n", rms[i].rm_name, pol,
		    rms[i].rm_n, rms[i].rm_default,
		    rms[i].rm_why[0] ? "; " : "", rms[i].rm_why);
		if (rms[i].rm_n == 0)
			bad = 1;
		for (k = 0; k < rms[i].rm_n; k++) {
			(void)snprintf(what, sizeof(what), "model %s version "
			    "%u", rms[i].rm_name, rms[i].rm_versions[k]);
			if (repo_version_dir(cf->cf_repository,
			    rms[i].rm_name, rms[i].rm_versions[k], dir,
			    sizeof(dir)) != 0) {
				fprintf(stderr, "aiguardd: %s: path too "
				    "long\n", what);
				bad = 1;
				continue;
			}
			resnet_set_threads(ms.ms_threads);
			bad |= check_load(what, dir);
		}
	}
	free(rms);
	if (n == 0) {
		fprintf(stderr, "aiguardd: %s: no model in the repository\n",
		    cf->cf_repository);
		return 1;
	}
	if (bad)
		return 1;
	fprintf(stderr, "aiguardd: configuration OK; %zu model(s)\n", n);
	return 0;
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
	if (cf->cf_repository[0] == '\0' &&
	    model_locate(cf->cf_model_dir, &loc, err, sizeof(err)) != 0) {
		fprintf(stderr, "aiguardd: %s\n", err);
		return 1;
	}
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
	resnet_set_low_memory(cf->cf_low_memory);
	if (cf->cf_repository[0] != '\0')
		return check_repository(cf);
	model_loc_current(&loc, dir, sizeof(dir), ver, sizeof(ver));
	/* The load the worker does, on as many threads. */
	resnet_set_threads(cf->cf_threads);
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

static void	index_send(struct parent *);

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

static void
spawn_worker(struct parent *p, struct wchild *w)
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
static struct wchild *
worker_new(struct parent *p, const char *name, unsigned int v, uint32_t seq)
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

static void
worker_free(struct wchild *w)
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
		worker_free(w);
		return;
	}
	route_send(p, w, IPC_ROUTE_RETIRE);
	/* Without a front to close its link, it is told directly. */
	if (p->p_front.ch_pid == 0) {
		w->w_ch.ch_ordered = 1;
		(void)kill(w->w_ch.ch_pid, SIGTERM);
	}
}

static struct pmodel *
model_find(struct parent *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->p_nmodels; i++)
		if (strcmp(p->p_models[i].pm_name, name) == 0)
			return &p->p_models[i];
	return NULL;
}

static struct pmodel *
model_add(struct parent *p, const char *name)
{
	struct pmodel *pm;

	if ((pm = model_find(p, name)) != NULL)
		return pm;
	if (p->p_nmodels == REPO_MODELS_MAX)
		return NULL;
	pm = &p->p_models[p->p_nmodels++];
	memset(pm, 0, sizeof(*pm));
	(void)snprintf(pm->pm_name, sizeof(pm->pm_name), "%s", name);
	return pm;
}

/* The version of name that /v2/models/NAME reaches now (may be NULL). */
static struct wchild *
model_default(struct parent *p, const char *name)
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
static void
model_settle(struct parent *p, const char *name)
{
	struct wchild *def = model_default(p, name);
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
 * marks the others unwanted (retired by model_settle()), and makes the
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
		w = worker_new(p, rm->rm_name, rm->rm_versions[k],
		    rm->rm_versions[k] == rm->rm_default ? ++p->p_seq : 0);
		if (w == NULL)
			continue;
		if (rm->rm_versions[k] == rm->rm_default)
			def = w;
		if (p->p_front.ch_pid > 0)
			spawn_worker(p, w);
	}
	/* An older version made default again (a rollback). */
	if (def != NULL && def->w_ch.ch_starts > 0) {
		struct wchild *cur = model_default(p, rm->rm_name);

		if (cur != def || def->w_seq == 0) {
			def->w_seq = ++p->p_seq;
			route_send(p, def, IPC_ROUTE_DEFAULT);
		}
	}
	model_settle(p, rm->rm_name);
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
static int
repo_reload(struct parent *p, const char *only, char *err, size_t errlen)
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
		if ((pm = model_add(p, rms[i].rm_name)) == NULL)
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
	/* Models gone from the repository (or from its selection). */
	for (i = 0; i < p->p_nmodels; i++) {
		pm = &p->p_models[i];
		if ((only == NULL || strcmp(pm->pm_name, only) == 0) &&
		    !pm->pm_present)
			model_unload(p, pm->pm_name, "gone from the "
			    "repository");
	}
	free(rms);
	index_send(p);
	return 0;
}

/* The repository as the parent sees it, for the front's index. */
static void
index_send(struct parent *p)
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
static void
control_request(struct parent *p, const struct ipc_ctl_request *rq)
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
		if ((pm = model_find(p, rq->rq_name)) == NULL ||
		    !pm->pm_loaded) {
			reply_send(p, id, AG_ERR_NOT_FOUND, "model not loaded");
			return;
		}
		pm->pm_loaded = 0;
		model_unload(p, rq->rq_name, "unloaded");
		replies_settle(p, rq->rq_name, AG_ERR_UNAVAILABLE,
		    "unloaded meanwhile");
		index_send(p);
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
	if ((pm = model_add(p, rq->rq_name)) == NULL) {
		reply_send(p, id, AG_ERR_BUSY, "too many models");
		return;
	}
	pm->pm_loaded = 1;
	p->p_replies[i].pr_id = id;
	(void)snprintf(p->p_replies[i].pr_name,
	    sizeof(p->p_replies[i].pr_name), "%s", rq->rq_name);
	if (repo_reload(p, rq->rq_name, err, sizeof(err)) != 0) {
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
		if (pm->pm_why[0] == '\0' && model_default(p,
		    rq->rq_name) == NULL) {
			i = (size_t)(pm - p->p_models);
			memmove(pm, pm + 1, (p->p_nmodels - i - 1) *
			    sizeof(*pm));
			p->p_nmodels--;
		}
		index_send(p);
		return;
	}
	def = model_default(p, rq->rq_name);
	if (def != NULL && def->w_ch.ch_ready)
		replies_settle(p, rq->rq_name, 0, "");
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
	control_request(p, (const struct ipc_ctl_request *)&m);
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
		struct pmodel *pm = model_find(p, w->w_name);

		if (pm != NULL && model_default(p, w->w_name) == w)
			pm->pm_why[0] = '\0';
		model_settle(p, w->w_name);
		index_send(p);
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

/*
 * A repository's worker that will not serve: its model did not load, or
 * it died max_start_failures times before it was ready.  Not started
 * again (the next SIGHUP or load tries again); the versions it was to
 * replace keep serving; the loads waiting for it fail with why.
 */
static void
repo_worker_failed(struct parent *p, struct wchild *w, const char *why)
{
	struct pmodel *pm = model_find(p, w->w_name);
	char name[MODEL_NAME_MAX], q[600];
	int was_default = model_default(p, w->w_name) == w;

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
		worker_free(w);
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
	index_send(p);
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
			worker_free(w);
			index_send(p);
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
		begin_stop(p, "sandbox");
		return;
	}
	if (p->p_repo) {
		if (w->w_ch.ch_ordered) {
			/* Stopped with its front: started again with it. */
			return;
		}
		if (WIFEXITED(status) && WEXITSTATUS(status) ==
		    WORKER_EXIT_MODEL) {
			repo_worker_failed(p, w, w->w_ch.ch_why[0] != '\0' ?
			    w->w_ch.ch_why : "its model did not load");
			return;
		}
		if (!w->w_ch.ch_ready && ++w->w_start_failures >=
		    (unsigned)p->p_cf->cf_max_start_failures) {
			describe_start_failure(status, w->w_ch.ch_why, why,
			    sizeof(why));
			repo_worker_failed(p, w, why);
			return;
		}
		w->w_ch.ch_ready = 0;
		schedule_restart(p, &w->w_ch, "worker");
		index_send(p);
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
				worker_free(&p->p_wk[i]);
		}
		/* Loads in progress: the new front has not asked for them. */
		for (i = 0; i < P_MAX_REPLIES; i++)
			p->p_replies[i].pr_id = 0;
		schedule_restart(p, &p->p_front, "front");
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
		if (repo_reload(p, NULL, err, sizeof(err)) != 0)
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
			spawn_worker(p, &p->p_wk[i]);
	index_send(p);
}

static int
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
				struct pmodel *pm = model_add(p,
				    p->p_cf->cf_model_names[i]);

				if (pm != NULL)
					pm->pm_loaded = 1;
			}
		if (repo_reload(p, NULL, err, sizeof(err)) != 0) {
			log_warnx("%s", err);
			p->p_status = 1;
			begin_stop(p, "repository");
		}
		workers_start(p);
	} else {
		struct wchild *w = worker_new(p, "", 0, ++p->p_seq);

		spawn_worker(p, w);
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
					spawn_worker(p, &p->p_wk[i]);
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
					begin_stop(p, "SIGTERM");
					break;
				case SIGINT:
					begin_stop(p, "SIGINT");
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
	size_t i;

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
	p.p_repo = cf.cf_repository[0] != '\0';
	for (i = 0; i < P_MAX_WORKERS; i++)
		p.p_wk[i].w_ch.ch_ready_fd = -1;
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
