/* SPDX-License-Identifier: ISC */
/*
 * selinux.c: SELinux status of the calling process (selinux.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <selinux/selinux.h>

#include "common/ag_err.h"
#include "selinux.h"

/* The type of "user:role:type:level[:...]", or "" when malformed. */
static void
se_type_of(const char *ctx, char *out, size_t outlen)
{
	const char *p = ctx, *e;
	int i;

	out[0] = '\0';
	for (i = 0; i < 2; i++)
		if ((p = strchr(p, ':')) == NULL)
			return;
		else
			p++;
	e = strchr(p, ':');
	if (e == NULL)
		e = p + strlen(p);
	if ((size_t)(e - p) >= outlen || e == p)
		return;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
}

void
selinux_status_get(struct selinux_status *st)
{
	char *con = NULL;

	memset(st, 0, sizeof(*st));
	st->se_enforcing = -1;
	st->se_enabled = is_selinux_enabled() == 1;
	if (!st->se_enabled)
		return;
	st->se_enforcing = security_getenforce();
	if (st->se_enforcing != 0 && st->se_enforcing != 1)
		st->se_enforcing = -1;
	if (getcon(&con) == 0 && con != NULL) {
		(void)snprintf(st->se_context, sizeof(st->se_context), "%s",
		    con);
		se_type_of(st->se_context, st->se_type, sizeof(st->se_type));
		freecon(con);
	}
}

int
selinux_check_domain(const struct selinux_status *st, const char *domain,
    char *err, size_t errlen)
{
	if (domain == NULL || domain[0] == '\0')
		return 0;
	if (!st->se_enabled)
		return ag_errf(err, errlen, AG_ERR_CONFIG, "sandbox."
		    "selinux_domain is %s but SELinux is not enabled",
		    domain);
	if (strcmp(st->se_type, domain) != 0)
		return ag_errf(err, errlen, AG_ERR_CONFIG, "sandbox."
		    "selinux_domain is %s but this process runs in %s",
		    domain, st->se_context[0] ? st->se_context : "(unknown)");
	return 0;
}
