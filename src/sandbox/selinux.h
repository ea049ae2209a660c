/* SPDX-License-Identifier: ISC */
/*
 * selinux.h: what SELinux says about this process (libselinux).
 *
 * aiguardd's parent asks once at start, before it confines itself (the
 * answers come from /proc/self/attr and /sys/fs/selinux, which the
 * sandbox closes): whether SELinux is enabled, enforcing or permissive,
 * and the process's context.  With sandbox.selinux_domain set, it refuses
 * to run unless its context has that type (e.g. aiguard_t), so that a
 * daemon started outside its policy domain does not serve.
 */
#ifndef AG_SB_SELINUX_H
#define AG_SB_SELINUX_H

#include <stddef.h>

struct selinux_status {
	int	 se_enabled;		/* SELinux on in this kernel */
	int	 se_enforcing;		/* 1 enforcing, 0 permissive, -1 ? */
	char	 se_context[256];	/* "" when unknown */
	char	 se_type[64];		/* the type field of the context */
};

/* Fills st; never fails (an unknown answer is left empty). */
void	selinux_status_get(struct selinux_status *st);

/*
 * 0 when domain is "" or NULL, or when st's type equals it; otherwise
 * AG_ERR_CONFIG with err saying where we run instead.
 */
int	selinux_check_domain(const struct selinux_status *st,
	    const char *domain, char *err, size_t errlen);

#endif /* AG_SB_SELINUX_H */
