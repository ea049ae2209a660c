/* SPDX-License-Identifier: ISC */
/*
 * trust.c: which signatures aiguardd accepts on its models.
 *
 * The parent reads the anchor (a public key or a CA bundle) once, before
 * its sandbox closes the file system; the worker, forked from it, checks
 * every load and reload against that copy.  Changing the anchor takes a
 * restart, by design: a reload cannot be used to swap the trust too.
 */
#include <stdio.h>
#include <string.h>

#include "common/ag_err.h"
#include "common/config.h"
#include "common/log.h"
#include "daemon.h"
#include "model/model.h"
#include "model/msig.h"

static struct msig_trust *daemon_anchor;

const struct msig_trust *
daemon_trust(void)
{
	return daemon_anchor;
}

int
daemon_trust_setup(const struct ag_config *cf, char *err, size_t errlen)
{
	char path[4096], q[1024];
	const char *how;
	int r;

	msig_init();
	if (cf->cf_verify_key[0] != '\0') {
		how = "model.verify_key";
		r = msig_trust_key(cf->cf_verify_key, &daemon_anchor, err,
		    errlen);
	} else if (cf->cf_verify_ca[0] != '\0') {
		how = "model.verify_ca";
		r = msig_trust_ca(cf->cf_verify_ca, &daemon_anchor, err,
		    errlen);
	} else if (cf->cf_allow_unsigned) {
		log_event(LOG_LVL_WARN, "event=signatures state=off msg=\"no "
		    "trust anchor and allow_unsigned: models are loaded "
		    "WITHOUT any signature check\"");
		return 0;
	} else if (model_default_key(path, sizeof(path)) == 0) {
		how = "build tree";
		r = msig_trust_key(path, &daemon_anchor, err, errlen);
	} else
		return ag_errf(err, errlen, AG_ERR_CONFIG, "no trust anchor "
		    "for model signatures: give --verify-key PUB or "
		    "--verify-ca BUNDLE (model.verify_key, model.verify_ca), "
		    "or --allow-unsigned to load models unchecked");
	if (r != 0)
		return r;
	msig_trust_set_validity(daemon_anchor, cf->cf_cert_validity);
	log_quote_value(q, sizeof(q), msig_trust_describe(daemon_anchor));
	log_event(LOG_LVL_INFO, "event=signatures state=required "
	    "from=\"%s\" trust=%s", how, q);
	return 0;
}
