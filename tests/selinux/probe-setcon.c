/* SPDX-License-Identifier: ISC */
/*
 * probe-setcon.c: TEST-ONLY preload library for the SELinux guest test
 * (tests/selinux/run).  Loaded into `aiguard probe` with LD_PRELOAD and
 * AIGUARD_PROBE_SETCON=CONTEXT, it makes every process the probe forks
 * switch to CONTEXT (aiguardd's domain) right after fork(), before the
 * probe's code runs in it: the probe's set-up and clean-up stay in the
 * probe's own domain, each attempt (and the "sibling" and model B's
 * worker) runs in aiguard_t.  Grandchildren (the attempts' own forks) inherit the domain
 * and are left alone.  A child that cannot switch exits with status 125,
 * so an attempt never runs in the wrong domain.  With AIGUARD_PROBE_KMSG
 * set, each child notes "aiguard-probe-child seq=N pid=P" in the kernel
 * log first (N counts the probe's forks from 0: the sibling, model B's
 * worker, then one per attempt run), so that the harness can tell which
 * attempt an AVC line belongs to.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char	setcon_target[256];
static pid_t	setcon_parent;
static unsigned	setcon_forks;		/* forks so far, in the parent */
static int	setcon_kmsg;		/* note each fork in the kernel log */

static void
setcon_prepare(void)
{
	if (getpid() == setcon_parent)
		setcon_forks++;
}

static void
setcon_child(void)
{
	size_t len = strlen(setcon_target);
	int fd;

	if (getppid() != setcon_parent)
		return;
	/* Before the switch: aiguard_t may not write the kernel log.  The
	 * harness maps AVC lines to attempts by these pids. */
	if (setcon_kmsg && (fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC)) != -1) {
		char line[64];
		int n = snprintf(line, sizeof(line),
		    "aiguard-probe-child seq=%u pid=%ld\n", setcon_forks - 1,
		    (long)getpid());

		if (n > 0)
			(void)write(fd, line, (size_t)n);
		close(fd);
	}
	fd = open("/proc/thread-self/attr/current", O_WRONLY | O_CLOEXEC);
	if (fd == -1 || write(fd, setcon_target, len) != (ssize_t)len) {
		static const char msg[] = "probe-setcon: setcon failed\n";

		(void)write(2, msg, sizeof(msg) - 1);
		_exit(125);
	}
	close(fd);
}

__attribute__((constructor)) static void
setcon_init(void)
{
	const char *t = getenv("AIGUARD_PROBE_SETCON");

	if (t == NULL || t[0] == '\0' || strlen(t) >= sizeof(setcon_target))
		return;
	memcpy(setcon_target, t, strlen(t) + 1);
	setcon_parent = getpid();
	setcon_kmsg = getenv("AIGUARD_PROBE_KMSG") != NULL;
	(void)pthread_atfork(setcon_prepare, NULL, setcon_child);
}
