/* SPDX-License-Identifier: ISC */
/*
 * main.c: aiguardd, the parent process's start: the command line,
 * --check-config, then the configuration, the listening socket, the trust
 * anchor, the front door's files and the parent's own sandbox, before
 * supervise() (supervise.c) forks the front and the workers (parent.h).
 *
 * The parent holds no model, no socket to the network and no client data:
 * it forks, waits, signals, reads the front door's files and lists the
 * repository.
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
#include "parent.h"

#define DAEMON_MMAP_THRESHOLD	(256 * 1024)	/* bytes; see main() */

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

/*
 * The load the worker does, of dir, reported: 0, or 1 with the reason
 * printed.  what names a repository's model version; NULL: model.dir's.
 */
static int
check_load(const char *what, const char *dir)
{
	struct model *md;
	char err[512];

	if (model_load_signed(dir, daemon_trust(), &md, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "aiguardd: %s: %s\n", what != NULL ? what :
		    "model", err);
		return 1;
	}
	if (what != NULL)
		fprintf(stderr, "aiguardd: %s (", what);
	else
		fprintf(stderr, "aiguardd: configuration OK; model %s (",
		    md->md_conf.mc_name);
	fprintf(stderr, "%s, %d classes) loads from %s in %.1f ms (read and "
	    "verify %.1f, build %.1f)\n", md->md_conf.mc_arch,
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
	char dir[PATH_MAX], ver[MODEL_VERSION_MAX], err[512];

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
	return check_load(NULL, dir);
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
