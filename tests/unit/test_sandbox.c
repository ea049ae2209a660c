/* SPDX-License-Identifier: ISC */
/*
 * test_sandbox.c: a process confined as aiguardd's worker or front is
 * denied what an attacker inside it would try, and still does its job.
 *
 * Each case forks a child that applies sandbox_enter() and sandbox_lock()
 * for a role and then makes one attempt; the parent reads how the child
 * ended (exit code: 0 allowed, 1 denied with the expected errno, 2
 * anything else; or the signal).  Every attack is also made with the
 * sandbox off, where it must succeed: the test cannot pass vacuously.
 * sb_only (layers alone, for aiguard probe --layers): each layer applied
 * alone is the only one in force, blocks what it should and lets through
 * what only the others block.  The model directory's rule as aiguardd
 * computes it (daemon_resolve_model()): a model.dir that is a link to a
 * model elsewhere opens that model only, not the link's own directory
 * (issue 18 item 8); a store's NAME/current opens NAME, for reloads.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/ag_err.h"
#include "common/config.h"
#include "common/log.h"
#include "daemon/daemon.h"
#include "sandbox/landlock.h"
#include "sandbox/sandbox.h"
#include "test_helper.h"

static char model_dir[512], model_file[600], outside[600];
static int listen_port;

enum { OK_ALLOWED = 0, OK_DENIED = 1, UNEXPECTED = 2 };

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZER	1
#else
#define SANITIZER	0
#endif

typedef int (*attempt_fn)(void);

/* errno after a failed call: denied when it is one of the sandbox's. */
static int
denied(void)
{
	return errno == EACCES || errno == EPERM || errno == EAGAIN ?
	    OK_DENIED : UNEXPECTED;
}

static int
try_write_model(void)
{
	int fd = open(model_file, O_WRONLY | O_APPEND);

	if (fd == -1)
		return denied();
	close(fd);
	return OK_ALLOWED;
}

static int
try_read_model(void)
{
	char b[4];
	int fd = open(model_file, O_RDONLY);

	if (fd == -1)
		return denied();
	if (read(fd, b, sizeof(b)) != 4) {
		close(fd);
		return UNEXPECTED;
	}
	close(fd);
	return OK_ALLOWED;
}

static int
try_create_in_model_dir(void)
{
	char p[700];
	int fd;

	(void)snprintf(p, sizeof(p), "%s/planted", model_dir);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644)) == -1)
		return denied();
	close(fd);
	unlink(p);
	return OK_ALLOWED;
}

static int
try_unlink_model(void)
{
	char p[700];

	/* A copy, so that an allowed unlink costs the other cases nothing. */
	(void)snprintf(p, sizeof(p), "%s/victim", model_dir);
	if (unlink(p) == -1)
		return denied();
	return OK_ALLOWED;
}

static int
try_read_outside(void)
{
	int fd = open(outside, O_RDONLY);

	if (fd == -1)
		return denied();
	close(fd);
	return OK_ALLOWED;
}

static int
try_exec(void)
{
	char *const argv[] = { "true", NULL };

	execv("/bin/true", argv);
	return denied();
}

static int
try_fork(void)
{
	pid_t pid = fork();
	int st;

	if (pid == -1)
		return denied();
	if (pid == 0)
		_exit(0);
	waitpid(pid, &st, 0);
	return OK_ALLOWED;
}

static int
try_wx(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return denied();
	munmap(p, 4096);
	return OK_ALLOWED;
}

static int
try_connect(void)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0), r;

	if (fd == -1)
		return denied();
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)listen_port);
	r = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	close(fd);
	return r == -1 ? denied() : OK_ALLOWED;
}

static int
try_kill_parent(void)
{
	return kill(getppid(), 0) == -1 ? denied() : OK_ALLOWED;
}

/* What the daemon itself needs after start-up must keep working. */
static int
try_daily_work(void)
{
	void *p = malloc(1 << 20);

	if (p == NULL)
		return UNEXPECTED;
	struct timespec ts;

	memset(p, 1, 1 << 20);
	free(p);
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return UNEXPECTED;
	return OK_ALLOWED;
}

/* Runs fn in a child confined as role (or not at all: mode off). */
static int
run(enum sandbox_role role, enum sandbox_mode mode, attempt_fn fn,
    int *sig)
{
	pid_t pid;
	int st;

	*sig = 0;
	if ((pid = fork()) == -1)
		exit(99);
	if (pid == 0) {
		struct sandbox_conf sc;
		struct sandbox_state ss;
		char err[256];

		log_init("test-sandbox", LOG_LVL_FATAL);
		memset(&sc, 0, sizeof(sc));
		sc.sb_mode = mode;
		sc.sb_role = role;
		sc.sb_model_dir = role == SANDBOX_WORKER ? model_dir : NULL;
		sc.sb_max_files = 64;
		if (sandbox_enter(&sc, &ss, err, sizeof(err)) != 0 ||
		    sandbox_lock(&sc, &ss, err, sizeof(err)) != 0) {
			fprintf(stderr, "sandbox: %s\n", err);
			_exit(3);
		}
		_exit(fn());
	}
	if (waitpid(pid, &st, 0) != pid)
		exit(99);
	if (WIFSIGNALED(st)) {
		*sig = WTERMSIG(st);
		return OK_DENIED;
	}
	return WEXITSTATUS(st);
}

static void	recreate_victim(void);

/*
 * Runs fn in a child confined as the worker with only the layers in only
 * (sb_only); *active gets the layers the child had in force.  Returns
 * as run() does, or 3 when the sandbox failed.
 */
static int
run_only(uint32_t only, attempt_fn fn, int *sig, uint32_t *active)
{
	struct sandbox_conf sc;
	struct sandbox_state ss;
	char err[256];
	pid_t pid;
	int p[2], st;

	*sig = 0;
	*active = 0;
	if (pipe(p) == -1 || (pid = fork()) == -1)
		exit(99);
	if (pid == 0) {
		close(p[0]);
		log_init("test-sandbox", LOG_LVL_FATAL);
		memset(&sc, 0, sizeof(sc));
		sc.sb_mode = SANDBOX_REQUIRED;
		sc.sb_role = SANDBOX_WORKER;
		sc.sb_model_dir = model_dir;
		sc.sb_max_files = 64;
		sc.sb_only = only;
		if (sandbox_enter(&sc, &ss, err, sizeof(err)) != 0 ||
		    sandbox_lock(&sc, &ss, err, sizeof(err)) != 0) {
			fprintf(stderr, "sandbox: %s\n", err);
			_exit(3);
		}
		if (write(p[1], &ss.ss_active, sizeof(ss.ss_active)) !=
		    (ssize_t)sizeof(ss.ss_active))
			_exit(3);
		_exit(fn());
	}
	close(p[1]);
	if (read(p[0], active, sizeof(*active)) != (ssize_t)sizeof(*active))
		*active = 0;
	close(p[0]);
	if (waitpid(pid, &st, 0) != pid)
		exit(99);
	if (WIFSIGNALED(st)) {
		*sig = WTERMSIG(st);
		return OK_DENIED;
	}
	return WEXITSTATUS(st);
}

/* sb_only applies those layers and no other; names parse; bad bits fail. */
static void
test_only(void)
{
	struct sandbox_conf sc;
	struct sandbox_state ss;
	char err[256];
	uint32_t m, active;
	int sig;

	TEST_START("sandbox_layers_parse, sandbox_layers_closure");
	ASSERT_INT_EQ(sandbox_layers_parse("landlock,seccomp", &m, err,
	    sizeof(err)), 0);
	ASSERT_INT_EQ(m, SB_LANDLOCK | SB_SECCOMP);
	ASSERT_INT_EQ(sandbox_layers_parse("nnp,caps,mdwe,rlimits,privdrop",
	    &m, err, sizeof(err)), 0);
	ASSERT_INT_EQ(m, SB_NNP | SB_CAPS | SB_MDWE | SB_RLIMITS |
	    SB_PRIVDROP);
	ASSERT_INT_EQ(sandbox_layers_parse("all", &m, err, sizeof(err)), 0);
	ASSERT_INT_EQ(m, SB_ALL);
	ASSERT_INT_EQ(sandbox_layers_parse("landlock,bogus", &m, err,
	    sizeof(err)), AG_ERR_INVALID_ARG);
	ASSERT_INT_EQ(m, 0);
	ASSERT_STRING_CONTAINS(err, "bogus");
	ASSERT_INT_EQ(sandbox_layers_parse("", &m, err, sizeof(err)),
	    AG_ERR_INVALID_ARG);
	ASSERT_INT_EQ(sandbox_layers_parse("landlock,", &m, err, sizeof(err)),
	    AG_ERR_INVALID_ARG);
	ASSERT_INT_EQ(sandbox_layers_parse("landlockx", &m, err, sizeof(err)),
	    AG_ERR_INVALID_ARG);
	ASSERT_INT_EQ(sandbox_layers_closure(0), SB_ALL);
	ASSERT_INT_EQ(sandbox_layers_closure(SB_LANDLOCK),
	    SB_LANDLOCK | SB_NNP);
	ASSERT_INT_EQ(sandbox_layers_closure(SB_SECCOMP), SB_SECCOMP | SB_NNP);
	ASSERT_INT_EQ(sandbox_layers_closure(SB_MDWE), SB_MDWE);
	TEST_DONE();

	TEST_START("sb_only: unknown bits are an error, not fewer layers");
	memset(&sc, 0, sizeof(sc));
	sc.sb_mode = SANDBOX_REQUIRED;
	sc.sb_role = SANDBOX_WORKER;
	sc.sb_only = SB_ALL + 1;
	ASSERT_INT_EQ(sandbox_enter(&sc, &ss, err, sizeof(err)),
	    AG_ERR_INVALID_ARG);
	ASSERT_INT_EQ(ss.ss_active, 0);
	ASSERT_INT_EQ(sandbox_lock(&sc, &ss, err, sizeof(err)),
	    AG_ERR_INVALID_ARG);
	TEST_DONE();

	/* Each layer alone: what it blocks, and what it leaves to others. */
	TEST_START("sb_only mdwe: W+X refused; files, fork still allowed");
	ASSERT_INT_EQ(run_only(SB_MDWE, try_wx, &sig, &active), OK_DENIED);
	ASSERT_INT_EQ(active, SB_MDWE);
	ASSERT_INT_EQ(run_only(SB_MDWE, try_read_outside, &sig, &active),
	    OK_ALLOWED);
	ASSERT_INT_EQ(run_only(SB_MDWE, try_fork, &sig, &active),
	    OK_ALLOWED);
	TEST_DONE();

	TEST_START("sb_only landlock: with no_new_privs, files refused; W+X, "
	    "fork still allowed");
	recreate_victim();
	ASSERT_INT_EQ(run_only(SB_LANDLOCK, try_unlink_model, &sig, &active),
	    OK_DENIED);
	ASSERT_INT_EQ(active, SB_LANDLOCK | SB_NNP);
	ASSERT_INT_EQ(run_only(SB_LANDLOCK, try_read_outside, &sig, &active),
	    OK_DENIED);
	ASSERT_INT_EQ(run_only(SB_LANDLOCK, try_read_model, &sig, &active),
	    OK_ALLOWED);
	ASSERT_INT_EQ(run_only(SB_LANDLOCK, try_wx, &sig, &active),
	    OK_ALLOWED);
	ASSERT_INT_EQ(run_only(SB_LANDLOCK, try_fork, &sig, &active),
	    OK_ALLOWED);
	TEST_DONE();

	if (SANITIZER) {
		test_skip_part("sanitizer-no-seccomp", 1, "sb_only seccomp: "
		    "no filter in a sanitizer build");
		return;
	}
	TEST_START("sb_only seccomp: with no_new_privs, fork killed; "
	    "read-only files still allowed");
	ASSERT_INT_EQ(run_only(SB_SECCOMP, try_fork, &sig, &active),
	    OK_DENIED);
	ASSERT_INT_EQ(sig, SIGSYS);
	ASSERT_INT_EQ(active, SB_SECCOMP | SB_NNP);
	ASSERT_INT_EQ(run_only(SB_SECCOMP, try_read_outside, &sig, &active),
	    OK_ALLOWED);
	TEST_DONE();
}

struct attack {
	const char	*name;
	attempt_fn	 fn;
	int		 front, worker;	/* expected when confined */
};

static const struct attack attacks[] = {
	{ "write a model file", try_write_model, OK_DENIED, OK_DENIED },
	{ "read a model file", try_read_model, OK_DENIED, OK_ALLOWED },
	{ "create a file in the model dir", try_create_in_model_dir,
	    OK_DENIED, OK_DENIED },
	{ "unlink a model file", try_unlink_model, OK_DENIED, OK_DENIED },
	{ "read a file outside", try_read_outside, OK_DENIED, OK_DENIED },
	{ "execve /bin/true", try_exec, OK_DENIED, OK_DENIED },
	{ "fork", try_fork, OK_DENIED, OK_DENIED },
	{ "mmap W+X", try_wx, OK_DENIED, OK_DENIED },
	{ "connect to loopback TCP", try_connect, OK_DENIED, OK_DENIED },
	{ "signal the parent", try_kill_parent, OK_DENIED, OK_DENIED },
	{ "malloc and the clock", try_daily_work, OK_ALLOWED,
	    OK_ALLOWED },
};

static void
setup(void)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd;

	(void)snprintf(model_dir, sizeof(model_dir), "%s/model",
	    test_tmpdir());
	(void)snprintf(model_file, sizeof(model_file), "%s/weights",
	    model_dir);
	(void)snprintf(outside, sizeof(outside), "%s/outside", test_tmpdir());
	if (mkdir(model_dir, 0755) == -1)
		exit(99);
	if ((fd = open(model_file, O_WRONLY | O_CREAT, 0644)) == -1 ||
	    write(fd, "safetensors", 11) != 11)
		exit(99);
	close(fd);
	if ((fd = open(outside, O_WRONLY | O_CREAT, 0644)) == -1)
		exit(99);
	close(fd);
	/* A listening socket the children may not reach. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 8) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) == -1)
		exit(99);
	listen_port = ntohs(sin.sin_port);
}

static void
recreate_victim(void)
{
	char p[700];
	int fd;

	(void)snprintf(p, sizeof(p), "%s/victim", model_dir);
	if ((fd = open(p, O_WRONLY | O_CREAT, 0644)) == -1)
		exit(99);
	close(fd);
}

/* ==== The model directory's rule, through the daemon's configuration ==== */

/*
 * A fixture below the scratch directory:
 *   etc/model -> ../data/real    a model.dir that is a link elsewhere
 *   etc/served -> ../store/m/current   a link to a store's current
 *   etc/keys/secret              what the link's directory also holds
 *   data/real/weights            the model
 *   data/other                   beside the model
 *   store/m/1/weights, store/m/2/weights, store/m/current -> 1
 *   store/secret                 beside the store's NAME
 */
static char lk_model[512], lk_keys[600], lk_weights[600], lk_other[600];
static char st_current[600], st_v1[600], st_v2[600], st_secret[600];
static char lk_served[600];

static void
put(const char *path, const char *text)
{
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1 ||
	    write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		exit(99);
	close(fd);
}

static void
mk(const char *fmt, const char *arg)
{
	char p[700];

	(void)snprintf(p, sizeof(p), fmt, test_tmpdir(), arg);
	if (mkdir(p, 0755) == -1)
		exit(99);
}

static void
setup_links(void)
{
	const char *t = test_tmpdir();
	char p[700];

	mk("%s/%s", "etc");
	mk("%s/%s", "etc/keys");
	mk("%s/%s", "data");
	mk("%s/%s", "data/real");
	mk("%s/%s", "store");
	mk("%s/%s", "store/m");
	mk("%s/%s", "store/m/1");
	mk("%s/%s", "store/m/2");
	(void)snprintf(lk_model, sizeof(lk_model), "%s/etc/model", t);
	if (symlink("../data/real", lk_model) == -1)
		exit(99);
	(void)snprintf(lk_keys, sizeof(lk_keys), "%s/etc/keys/secret", t);
	put(lk_keys, "private key\n");
	(void)snprintf(lk_weights, sizeof(lk_weights), "%s/weights", lk_model);
	(void)snprintf(p, sizeof(p), "%s/data/real/weights", t);
	put(p, "weights\n");
	(void)snprintf(lk_other, sizeof(lk_other), "%s/data/other", t);
	put(lk_other, "other\n");
	(void)snprintf(st_current, sizeof(st_current), "%s/store/m/current",
	    t);
	if (symlink("1", st_current) == -1)
		exit(99);
	(void)snprintf(lk_served, sizeof(lk_served), "%s/etc/served", t);
	if (symlink("../store/m/current", lk_served) == -1)
		exit(99);
	(void)snprintf(st_v1, sizeof(st_v1), "%s/store/m/1/weights", t);
	put(st_v1, "v1\n");
	(void)snprintf(st_v2, sizeof(st_v2), "%s/store/m/2/weights", t);
	put(st_v2, "v2\n");
	(void)snprintf(st_secret, sizeof(st_secret), "%s/store/secret", t);
	put(st_secret, "secret\n");
}

/*
 * Confines a child as the daemon's worker with model.dir = dir (the
 * rule from daemon_resolve_model() and daemon_sandbox_conf(), as aiguardd
 * computes it) and reads path there: OK_ALLOWED, OK_DENIED (EACCES), or
 * UNEXPECTED.
 */
static int
run_model_read(const char *dir, const char *path)
{
	pid_t pid;
	int st;

	if ((pid = fork()) == -1)
		exit(99);
	if (pid == 0) {
		static struct daemon_ctx dc;
		struct ag_config cf;
		struct sandbox_conf sc;
		struct sandbox_state ss;
		char err[256], b[2];
		int fd;

		log_init("test-sandbox", LOG_LVL_FATAL);
		config_defaults(&cf);
		(void)snprintf(cf.cf_model_dir, sizeof(cf.cf_model_dir), "%s",
		    dir);
		cf.cf_sandbox_mode = SANDBOX_REQUIRED;
		if (daemon_resolve_model(&cf, &dc, err, sizeof(err)) != 0)
			_exit(3);
		daemon_sandbox_conf(&dc, SANDBOX_WORKER, &sc);
		sc.sb_only = SB_LANDLOCK | SB_NNP;
		if (sandbox_enter(&sc, &ss, err, sizeof(err)) != 0 ||
		    sandbox_lock(&sc, &ss, err, sizeof(err)) != 0) {
			fprintf(stderr, "sandbox: %s\n", err);
			_exit(3);
		}
		if ((fd = open(path, O_RDONLY)) == -1)
			_exit(errno == EACCES ? OK_DENIED : UNEXPECTED);
		_exit(read(fd, b, 1) == 1 ? OK_ALLOWED : UNEXPECTED);
	}
	if (waitpid(pid, &st, 0) != pid)
		exit(99);
	return WIFEXITED(st) ? WEXITSTATUS(st) : UNEXPECTED;
}

/* What the worker's sandbox rule covers for model.dir = dir. */
static int
model_root(const char *dir, char *buf, size_t len)
{
	static struct model_loc ml;
	char err[256];
	int r;

	if ((r = model_locate(dir, &ml, err, sizeof(err))) != 0)
		return r;
	return (size_t)snprintf(buf, len, "%s", ml.ml_root) >= len ? -1 : 0;
}

static void
test_model_links(void)
{
	char root[PATH_MAX], want[700], real[PATH_MAX];

	setup_links();

	TEST_START("model_locate: a link resolved, a store's NAME");
	ASSERT_INT_EQ(model_root(lk_model, root, sizeof(root)), 0);
	(void)snprintf(want, sizeof(want), "%s/data/real", test_tmpdir());
	ASSERT_PTR_NE(realpath(want, real), NULL);
	ASSERT_STRING_EQ(root, real);
	ASSERT_INT_EQ(model_root(st_current, root, sizeof(root)), 0);
	(void)snprintf(want, sizeof(want), "%s/store/m", test_tmpdir());
	ASSERT_PTR_NE(realpath(want, real), NULL);
	ASSERT_STRING_EQ(root, real);
	ASSERT_INT_EQ(model_root(lk_served, root, sizeof(root)), 0);
	ASSERT_STRING_EQ(root, real);
	TEST_DONE();

	TEST_START("model.dir a link: the model is readable");
	ASSERT_INT_EQ(run_model_read(lk_model, lk_weights), OK_ALLOWED);
	TEST_DONE();
	TEST_START("model.dir a link: the link's directory is not");
	ASSERT_INT_EQ(run_model_read(lk_model, lk_keys), OK_DENIED);
	TEST_DONE();
	TEST_START("model.dir a link: beside its target is not readable");
	ASSERT_INT_EQ(run_model_read(lk_model, lk_other), OK_DENIED);
	TEST_DONE();
	TEST_START("store current: the version served is readable");
	ASSERT_INT_EQ(run_model_read(st_current, st_v1), OK_ALLOWED);
	TEST_DONE();
	TEST_START("store current: the next version too (a reload)");
	ASSERT_INT_EQ(run_model_read(st_current, st_v2), OK_ALLOWED);
	TEST_DONE();
	TEST_START("store current: beside NAME is not readable");
	ASSERT_INT_EQ(run_model_read(st_current, st_secret), OK_DENIED);
	TEST_DONE();
	TEST_START("a link to a store's current: NAME, not the link's dir");
	ASSERT_INT_EQ(run_model_read(lk_served, st_v2), OK_ALLOWED);
	ASSERT_INT_EQ(run_model_read(lk_served, lk_keys), OK_DENIED);
	TEST_DONE();
}

void
tests(void)
{
	char name[160];
	size_t i;
	int sig, r;

	test_plan(46);

	if (landlock_abi() < 6)
		test_skip_all("landlock-abi-6",
		    "Landlock ABI 6 or later needed");
	signal(SIGPIPE, SIG_IGN);
	setup();
	test_only();
	test_model_links();
	for (i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++) {
		const struct attack *a = &attacks[i];

		(void)snprintf(name, sizeof(name), "sandbox off: %s: allowed",
		    a->name);
		TEST_START(name);
		recreate_victim();
		r = run(SANDBOX_WORKER, SANDBOX_OFF, a->fn, &sig);
		ASSERT_INT_EQ(r, OK_ALLOWED);	/* /bin/true exits 0 too */
		TEST_DONE();

		if (a->fn == try_fork && SANITIZER && geteuid() == 0) {
			/*
			 * No seccomp in a sanitizer build, and the kernel
			 * does not apply RLIMIT_NPROC to root.
			 */
			test_skip_part("sanitizer-no-seccomp", 2,
			    "worker and front: fork as root");
			continue;
		}
		(void)snprintf(name, sizeof(name), "worker: %s: %s", a->name,
		    a->worker == OK_DENIED ? "denied" : "allowed");
		TEST_START(name);
		recreate_victim();
		r = run(SANDBOX_WORKER, SANDBOX_REQUIRED, a->fn, &sig);
		ASSERT_INT_EQ(r, a->worker);
		if (a->worker == OK_DENIED && sig != 0)
			ASSERT_INT_EQ(sig, SIGSYS);
		TEST_DONE();

		(void)snprintf(name, sizeof(name), "front: %s: %s", a->name,
		    a->front == OK_DENIED ? "denied" : "allowed");
		TEST_START(name);
		recreate_victim();
		r = run(SANDBOX_FRONT, SANDBOX_REQUIRED, a->fn, &sig);
		ASSERT_INT_EQ(r, a->front);
		if (a->front == OK_DENIED && sig != 0)
			ASSERT_INT_EQ(sig, SIGSYS);
		TEST_DONE();
	}
}
