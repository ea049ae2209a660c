/* SPDX-License-Identifier: ISC */
/*
 * sandbox.c: the order in which a process confines itself (sandbox.h),
 * and what each mode does when a layer cannot be applied.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <linux/capability.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/ag_err.h"
#include "common/log.h"
#include "common/util.h"
#include "landlock.h"
#include "sandbox.h"
#include "seccomp.h"

#if defined(__SANITIZE_ADDRESS__)
#define SB_SANITIZER	1
#else
#define SB_SANITIZER	0
#endif

const char *
sandbox_layer_name(uint32_t bit)
{
	switch (bit) {
	case SB_PRIVDROP:	return "privdrop";
	case SB_CAPS:		return "capabilities";
	case SB_NNP:		return "no_new_privs";
	case SB_MDWE:		return "mdwe";
	case SB_RLIMITS:	return "rlimits";
	case SB_LANDLOCK:	return "landlock";
	case SB_SECCOMP:	return "seccomp";
	}
	return "?";
}

void
sandbox_layers_format(uint32_t mask, char *buf, size_t len)
{
	size_t o = 0;
	uint32_t bit;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (bit = 1; bit <= SB_ALL && o < len; bit <<= 1)
		if (mask & bit)
			o += (size_t)snprintf(buf + o, len - o, "%s%s",
			    o ? "," : "", sandbox_layer_name(bit));
	if (buf[0] == '\0')
		(void)snprintf(buf, len, "none");
}

uint32_t
sandbox_layers_closure(uint32_t only)
{
	uint32_t m;

	m = only == 0 ? SB_ALL : only & SB_ALL;
	if (m & SB_NNP_NEEDED_BY)
		m |= SB_NNP;
	return m;
}

int
sandbox_layers_parse(const char *list, uint32_t *mask, char *err,
    size_t errlen)
{
	static const struct {
		const char	*name;
		uint32_t	 bits;
	} alias[] = {
		{ "all", SB_ALL },
		{ "nnp", SB_NNP },
		{ "caps", SB_CAPS },
	};
	const char *p, *e;
	uint32_t bit, m = 0, got;
	size_t i, n;

	*mask = 0;
	for (p = list; ; p = e + 1) {
		e = strchr(p, ',');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		got = 0;
		for (bit = 1; bit <= SB_ALL && got == 0; bit <<= 1)
			if (strlen(sandbox_layer_name(bit)) == n &&
			    strncmp(p, sandbox_layer_name(bit), n) == 0)
				got = bit;
		for (i = 0; i < sizeof(alias) / sizeof(alias[0]) && got == 0;
		    i++)
			if (strlen(alias[i].name) == n &&
			    strncmp(p, alias[i].name, n) == 0)
				got = alias[i].bits;
		if (got == 0)
			return ag_errf(err, errlen, AG_ERR_INVALID_ARG,
			    "unknown sandbox layer \"%.*s\" (privdrop, caps, "
			    "nnp, mdwe, rlimits, landlock, seccomp, all)",
			    (int)(n > 32 ? 32 : n), p);
		m |= got;
		if (e == NULL)
			break;
	}
	*mask = m;
	return 0;
}

const char *
sandbox_mode_name(enum sandbox_mode mode)
{
	switch (mode) {
	case SANDBOX_OFF:		return "off";
	case SANDBOX_BEST_EFFORT:	return "best-effort";
	case SANDBOX_REQUIRED:		return "required";
	}
	return "?";
}

static const char *
sb_role_name(enum sandbox_role role)
{
	switch (role) {
	case SANDBOX_PARENT:	return "parent";
	case SANDBOX_FRONT:	return "front";
	case SANDBOX_WORKER:	return "worker";
	}
	return "?";
}

/*
 * A layer could not be applied: an error in required mode, a loud
 * warning otherwise.  msg is already in err.
 */
static int
sb_missing(const struct sandbox_conf *sc, struct sandbox_state *ss,
    uint32_t bit, int r, char *err, size_t errlen)
{
	ss->ss_missing |= bit;
	if (sc->sb_mode == SANDBOX_REQUIRED)
		return r != 0 ? r : AG_ERR_UNSUPPORTED;
	log_warnx("sandbox (%s, best-effort): layer %s NOT applied: %s",
	    sb_role_name(sc->sb_role), sandbox_layer_name(bit), err);
	if (errlen > 0)
		err[0] = '\0';
	return 0;
}

int
sandbox_resolve_ids(struct sandbox_conf *sc, char *err, size_t errlen)
{
	const struct passwd *pw;
	const struct group *gr;

	if (sc->sb_user == NULL || sc->sb_user[0] == '\0')
		return 0;
	if ((pw = getpwnam(sc->sb_user)) == NULL)
		return ag_errf(err, errlen, AG_ERR_CONFIG, "sandbox.user: no "
		    "user %s", sc->sb_user);
	sc->sb_uid = pw->pw_uid;
	sc->sb_gid = pw->pw_gid;
	if (sc->sb_group != NULL && sc->sb_group[0] != '\0') {
		if ((gr = getgrnam(sc->sb_group)) == NULL)
			return ag_errf(err, errlen, AG_ERR_CONFIG,
			    "sandbox.group: no group %s", sc->sb_group);
		sc->sb_gid = gr->gr_gid;
	}
	sc->sb_ids_set = 1;
	return 0;
}

/* Running as root with a user configured: become that user for good. */
static int
sb_privdrop(const struct sandbox_conf *sc, struct sandbox_state *ss,
    char *err, size_t errlen)
{
	struct sandbox_conf tmp;
	uid_t uid, ru, eu, su;
	gid_t gid, rg, eg, sg;
	int r;

	if (sc->sb_user == NULL || sc->sb_user[0] == '\0') {
		if (geteuid() == 0)
			log_warnx("sandbox (%s): running as root: set "
			    "sandbox.user to drop to an unprivileged user",
			    sb_role_name(sc->sb_role));
		return 0;
	}
	tmp = *sc;
	if (!tmp.sb_ids_set &&
	    (r = sandbox_resolve_ids(&tmp, err, errlen)) != 0)
		return sb_missing(sc, ss, SB_PRIVDROP, r, err, errlen);
	uid = tmp.sb_uid;
	gid = tmp.sb_gid;
	if (uid == 0) {
		ag_errf(err, errlen, AG_ERR_CONFIG, "sandbox.user %s is root",
		    sc->sb_user);
		return sb_missing(sc, ss, SB_PRIVDROP, AG_ERR_CONFIG, err,
		    errlen);
	}
	if (geteuid() != 0) {
		/* Not root: nothing to drop, as long as we are that user. */
		if (geteuid() == uid && getuid() == uid)
			ss->ss_active |= SB_PRIVDROP;
		else {
			ag_errf(err, errlen, AG_ERR_SYSTEM, "sandbox.user is "
			    "%s but running as uid %ld without the right to "
			    "change", sc->sb_user, (long)geteuid());
			return sb_missing(sc, ss, SB_PRIVDROP, AG_ERR_SYSTEM,
			    err, errlen);
		}
		return 0;
	}
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1) {
		ag_errf(err, errlen, AG_ERR_SYSTEM, "cannot become %s: %s",
		    sc->sb_user, strerror(errno));
		return sb_missing(sc, ss, SB_PRIVDROP, AG_ERR_SYSTEM, err,
		    errlen);
	}
	/* Check, as OpenSSH's permanently_set_uid() does. */
	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1 ||
	    ru != uid || eu != uid || su != uid || rg != gid || eg != gid ||
	    sg != gid || setuid(0) != -1) {
		ag_errf(err, errlen, AG_ERR_INTERNAL, "privilege drop to %s "
		    "did not hold", sc->sb_user);
		return AG_ERR_INTERNAL;	/* never carry on half-dropped */
	}
	ss->ss_active |= SB_PRIVDROP;
	return 0;
}

/*
 * Empties the bounding set, so that no exec could ever give a capability
 * back.  Needs CAP_SETPCAP: done first, while still root (a process that
 * is not has nothing to drop, and gets EPERM).
 */
static void
sb_bset_drop(void)
{
	int cap;

	for (cap = 0; cap <= 63; cap++) {
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) <= 0)
			continue;	/* not in the set, or past the last */
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1)
			break;		/* EPERM: not ours to drop */
	}
}

/* Every capability: bounding set, ambient, then the process's sets. */
static int
sb_caps(const struct sandbox_conf *sc, struct sandbox_state *ss, char *err,
    size_t errlen)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[2];
	int cap;

	sb_bset_drop();
	for (cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) > 0 && geteuid() == 0) {
			ag_errf(err, errlen, AG_ERR_SYSTEM, "capability %d "
			    "stays in the bounding set", cap);
			return sb_missing(sc, ss, SB_CAPS, AG_ERR_SYSTEM, err,
			    errlen);
		}
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	/* None to drop (an unprivileged start, a systemd unit that filters
	 * capset): nothing to do. */
	if (syscall(SYS_capget, &hdr, data) == 0 && !data[0].effective &&
	    !data[0].permitted && !data[0].inheritable &&
	    !data[1].effective && !data[1].permitted && !data[1].inheritable) {
		ss->ss_active |= SB_CAPS;
		return 0;
	}
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capset, &hdr, data) == -1) {
		ag_errf(err, errlen, AG_ERR_SYSTEM, "capset: %s",
		    strerror(errno));
		return sb_missing(sc, ss, SB_CAPS, AG_ERR_SYSTEM, err, errlen);
	}
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &hdr, data) == -1 || data[0].effective ||
	    data[0].permitted || data[0].inheritable || data[1].effective ||
	    data[1].permitted || data[1].inheritable) {
		ag_errf(err, errlen, AG_ERR_SYSTEM, "capabilities remain");
		return sb_missing(sc, ss, SB_CAPS, AG_ERR_SYSTEM, err, errlen);
	}
	ss->ss_active |= SB_CAPS;
	return 0;
}

static int
sb_nnp(const struct sandbox_conf *sc, struct sandbox_state *ss, char *err,
    size_t errlen)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		ag_errf(err, errlen, AG_ERR_SYSTEM, "no_new_privs: %s",
		    strerror(errno));
		return sb_missing(sc, ss, SB_NNP, AG_ERR_SYSTEM, err, errlen);
	}
	ss->ss_active |= SB_NNP;
	return 0;
}

static int
sb_mdwe(const struct sandbox_conf *sc, struct sandbox_state *ss, char *err,
    size_t errlen)
{
	if (ag_mdwe_enable() != 0) {
		ag_errf(err, errlen, AG_ERR_UNSUPPORTED, "PR_SET_MDWE: %s",
		    strerror(errno));
		return sb_missing(sc, ss, SB_MDWE, AG_ERR_UNSUPPORTED, err,
		    errlen);
	}
	ss->ss_active |= SB_MDWE;
	return 0;
}

static int
sb_setrlimit(int res, uint64_t v)
{
	struct rlimit rl;

	rl.rlim_cur = rl.rlim_max = (rlim_t)v;
	return setrlimit(res, &rl);
}

static int
sb_rlimits(const struct sandbox_conf *sc, struct sandbox_state *ss,
    char *err, size_t errlen)
{
	if (sb_setrlimit(RLIMIT_CORE, 0) == -1 ||
	    (sc->sb_max_files > 0 &&
	    sb_setrlimit(RLIMIT_NOFILE, sc->sb_max_files) == -1)) {
		ag_errf(err, errlen, AG_ERR_SYSTEM, "setrlimit: %s",
		    strerror(errno));
		return sb_missing(sc, ss, SB_RLIMITS, AG_ERR_SYSTEM, err,
		    errlen);
	}
	/* ASan reserves terabytes of address space for its shadow. */
	if (sc->sb_max_memory > 0 && !SB_SANITIZER &&
	    sb_setrlimit(RLIMIT_AS, sc->sb_max_memory) == -1) {
		ag_errf(err, errlen, AG_ERR_SYSTEM, "setrlimit AS: %s",
		    strerror(errno));
		return sb_missing(sc, ss, SB_RLIMITS, AG_ERR_SYSTEM, err,
		    errlen);
	}
	ss->ss_active |= SB_RLIMITS;
	return 0;
}

int
sandbox_enter(const struct sandbox_conf *sc, struct sandbox_state *ss,
    char *err, size_t errlen)
{
	struct landlock_conf lc;
	struct landlock_status ls;
	const char *ro[SB_PARENT_RO_MAX + 3];
	char on[160], asked[160];
	uint32_t m;
	int n, r, i;

	memset(ss, 0, sizeof(*ss));
	if (errlen > 0)
		err[0] = '\0';
	if (sc->sb_mode == SANDBOX_OFF) {
		log_warnx("sandbox (%s): OFF: no confinement at all; for "
		    "experiments and development only",
		    sb_role_name(sc->sb_role));
		return 0;
	}
	/* Never read an unknown bit as "fewer layers" (or as all). */
	if (sc->sb_only & ~(uint32_t)SB_ALL)
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG, "sandbox: "
		    "unknown layer bits 0x%x", (unsigned)sc->sb_only);
	m = sandbox_layers_closure(sc->sb_only);
	if (m != SB_ALL) {
		sandbox_layers_format(m, on, sizeof(on));
		sandbox_layers_format(sc->sb_only, asked, sizeof(asked));
		log_warnx("sandbox (%s): ONLY the layers %s (asked for: %s%s); "
		    "every other layer is OFF: a test or an experiment, not "
		    "a confinement", sb_role_name(sc->sb_role), on, asked,
		    (m & ~sc->sb_only) ? "; no_new_privs is a prerequisite "
		    "of landlock and seccomp" : "");
	}
	if (m & SB_CAPS)
		sb_bset_drop();	/* before the privilege drop */
	if ((m & SB_PRIVDROP) &&
	    (r = sb_privdrop(sc, ss, err, errlen)) != 0)
		return r;
	if ((m & SB_CAPS) && (r = sb_caps(sc, ss, err, errlen)) != 0)
		return r;
	if ((m & SB_NNP) && (r = sb_nnp(sc, ss, err, errlen)) != 0)
		return r;
	if ((m & SB_MDWE) && (r = sb_mdwe(sc, ss, err, errlen)) != 0)
		return r;
	if ((m & SB_RLIMITS) && (r = sb_rlimits(sc, ss, err, errlen)) != 0)
		return r;
	if (!(m & SB_LANDLOCK))
		return 0;

	memset(&lc, 0, sizeof(lc));
	n = 0;
	memset(ro, 0, sizeof(ro));
	if (sc->sb_role != SANDBOX_FRONT && sc->sb_model_dir != NULL &&
	    sc->sb_model_dir[0] != '\0')
		ro[n++] = sc->sb_model_dir;
	if (sc->sb_role == SANDBOX_PARENT && sc->sb_parent_ro != NULL)
		for (i = 0; sc->sb_parent_ro[i] != NULL &&
		    i < SB_PARENT_RO_MAX; i++)
			ro[n++] = sc->sb_parent_ro[i];
	/*
	 * A sanitizer build (tests only) reads /proc at exit: LeakSanitizer
	 * lists the threads in /proc/PID/task.  Never in a real build.
	 */
	if (SB_SANITIZER)
		ro[n++] = "/proc";
	if (n > 0)
		lc.ll_ro_dirs = ro;
	/* The parent bound the listening socket before any of this. */
	lc.ll_bind_port = LANDLOCK_BIND_NONE;
	lc.ll_scope = 1;
	r = landlock_apply(&lc, &ls, err, errlen);
	ss->ss_landlock_abi = ls.ls_abi;
	if (r == 0 && ls.ls_complete)
		ss->ss_active |= SB_LANDLOCK;
	else {
		if (r == 0) {
			ss->ss_active |= SB_LANDLOCK;	/* in part */
			ag_errf(err, errlen, AG_ERR_UNSUPPORTED, "Landlock ABI "
			    "%d lacks%s%s%s", ls.ls_abi, ls.ls_fs ? "" :
			    " some file rights", ls.ls_net ? "" :
			    " TCP rules", ls.ls_scope ? "" : " scopes");
		} else if (r == AG_ERR_UNSUPPORTED)
			ag_errf(err, errlen, r, "Landlock is not available "
			    "in this kernel");
		if ((r = sb_missing(sc, ss, SB_LANDLOCK, r != 0 ? r :
		    AG_ERR_UNSUPPORTED, err, errlen)) != 0)
			return r;
	}
	return 0;
}

int
sandbox_lock(const struct sandbox_conf *sc, struct sandbox_state *ss,
    char *err, size_t errlen)
{
	enum seccomp_role role;
	uint32_t m;
	int r;

	if (sc->sb_mode == SANDBOX_OFF)
		return 0;
	if (sc->sb_only & ~(uint32_t)SB_ALL)
		return ag_errf(err, errlen, AG_ERR_INVALID_ARG, "sandbox: "
		    "unknown layer bits 0x%x", (unsigned)sc->sb_only);
	m = sandbox_layers_closure(sc->sb_only);
	/*
	 * No new process from here on (threads count too: they exist
	 * already).  The kernel does not apply this limit to root; seccomp
	 * refuses fork to the front and the worker in any case.
	 */
	if ((m & SB_RLIMITS) && sc->sb_role != SANDBOX_PARENT &&
	    sb_setrlimit(RLIMIT_NPROC, 0) == -1) {
		ag_errf(err, errlen, AG_ERR_SYSTEM, "setrlimit NPROC: %s",
		    strerror(errno));
		ss->ss_active &= ~(uint32_t)SB_RLIMITS;
		if ((r = sb_missing(sc, ss, SB_RLIMITS, AG_ERR_SYSTEM, err,
		    errlen)) != 0)
			return r;
	}
	if (!(m & SB_SECCOMP))
		return 0;
	role = sc->sb_role == SANDBOX_PARENT ? SECCOMP_PARENT :
	    sc->sb_role == SANDBOX_FRONT ? SECCOMP_FRONT : SECCOMP_WORKER;
	r = seccomp_apply(role, sc->sb_seccomp_dev, err, errlen);
	if (r == AG_ERR_UNSUPPORTED && SB_SANITIZER) {
		/*
		 * A sanitizer build (tests only): the sanitizers' run time
		 * needs ptrace, clone and /proc, so no filter is loaded.  A
		 * property of the build, not of the host: not "missing".
		 */
		log_warnx("sandbox (%s): seccomp is not applied in a "
		    "sanitizer build", sb_role_name(sc->sb_role));
		if (errlen > 0)
			err[0] = '\0';
		return 0;
	}
	if (r != 0)
		return sb_missing(sc, ss, SB_SECCOMP, r, err, errlen);
	ss->ss_active |= SB_SECCOMP;
	return 0;
}
