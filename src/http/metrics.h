/* SPDX-License-Identifier: ISC */
/*
 * metrics.h: the front process's counters, gauges and histograms, rendered
 * in the Prometheus text exposition format 0.0.4 for GET /metrics.
 *
 * One struct metrics is shared by every HTTP thread: each call takes the
 * object's mutex for a few stores, and metrics_render() copies the state
 * under the mutex and formats the copy without it.  All storage is fixed
 * at metrics_new(); recording never allocates and never fails.  Label
 * values that come from outside the code (model name, version, digest) are
 * copied, cut to METRICS_LABEL_MAX bytes on a character boundary, with any
 * invalid UTF-8 replaced by U+FFFD, and escaped on output.  No number is
 * formatted through the locale: durations are kept as integer nanoseconds
 * and printed digit by digit, so the decimal mark is always '.'.
 *
 * Every recording call with m == NULL does nothing, so a caller without
 * metrics needs no checks.  Not async-signal-safe: a signal handler sets a
 * flag and the main loop calls metrics_reload().
 */
#ifndef AG_METRICS_H
#define AG_METRICS_H

#include <stddef.h>

#define METRICS_LABEL_MAX	256	/* bytes kept of a model label value */
#define METRICS_LAYER_NAME_MAX	32	/* bytes kept of a role or layer name */
#define METRICS_CODES_MAX	24	/* distinct status codes per endpoint */
#define METRICS_LAYERS_MAX	16	/* role/layer pairs */
#define METRICS_TOKENS_MAX	1024	/* token names tracked; more count as token="(other)" */
#define METRICS_TOKEN_NAME_MAX	64	/* bytes kept of a token name, with the NUL */
#define METRICS_TOKEN_CODES_MAX	12	/* distinct status codes per token */
#define METRICS_MODELS_MAX	64	/* (model, version) pairs; names */

enum metrics_endpoint {		/* label endpoint="..." */
	METRICS_EP_LIVE,	/* "health_live" */
	METRICS_EP_READY,	/* "health_ready" */
	METRICS_EP_SERVER,	/* "server_metadata" */
	METRICS_EP_MODEL,	/* "model_metadata" */
	METRICS_EP_MODEL_READY,	/* "model_ready" */
	METRICS_EP_INFER,	/* "infer" */
	METRICS_EP_CLASSIFY,	/* "classify" */
	METRICS_EP_METRICS,	/* "metrics" */
	METRICS_EP_OTHER,	/* "other" (404s, unknown paths) */
	METRICS_EP__COUNT
};

/* label reason="..." of aiguard_http_rejected_total */
enum metrics_reject {
	METRICS_REJ_CONNECTIONS,	/* "connections": server.max_connections */
	METRICS_REJ_CONNECTIONS_IP,	/* "connections_per_ip" */
	METRICS_REJ_BODY_BUDGET,	/* "body_budget": server.max_body_inflight */
	METRICS_REJ__COUNT
};

enum metrics_auth {		/* label reason="..." of aiguard_auth_failures_total */
	METRICS_AUTH_MISSING,	/* "missing": no token on a protected endpoint (401) */
	METRICS_AUTH_INVALID,	/* "invalid": a token that matches none (401) */
	METRICS_AUTH_CERTIFICATE, /* "certificate": a client certificate refused (401) */
	METRICS_AUTH_FORBIDDEN,	/* "forbidden": valid, without the scope (403) */
	METRICS_AUTH__COUNT
};

enum metrics_limit {		/* label limit="..." */
	METRICS_LIMIT_REQUESTS,	/* "requests": requests per second */
	METRICS_LIMIT_IMAGES,	/* "images": images per second */
	METRICS_LIMIT_INFLIGHT,	/* "inflight": requests at once */
	METRICS_LIMIT__COUNT
};

struct metrics;

/*
 * Returns a new metrics object (free with metrics_free()), or NULL when out
 * of memory.  version is the build_info label (copied; NULL reads as "").
 * The start time (aiguard_start_time_seconds) is the wall clock now.
 */
struct metrics *metrics_new(const char *version);
/* Frees m; NULL is a no-op.  No other thread may be using m. */
void	metrics_free(struct metrics *m);

/*
 * One finished request: endpoint (out of range counts as "other"), HTTP
 * status, total seconds.  A status outside 100..599, or a new one once the
 * endpoint has seen METRICS_CODES_MAX distinct codes, counts under
 * code="other".  Negative or NaN durations count as 0, durations past
 * 1e6 seconds as 1e6.
 */
void	metrics_request(struct metrics *m, enum metrics_endpoint ep,
	    int status, double total_s);
/* Adds delta (+1 on entry, -1 on exit) to the in-flight request gauge. */
void	metrics_inflight(struct metrics *m, int delta);
/* A connection or request refused with 503 before any work, by reason. */
void	metrics_http_rejected(struct metrics *m, enum metrics_reject why);
/* Bytes of request bodies the server holds, changed by delta. */
void	metrics_http_body_bytes(struct metrics *m, long long delta);

/*
 * The front door.  Tokens are named by the token file's names, never by
 * the token: a name is cleaned and cut like any label value (to
 * METRICS_TOKEN_NAME_MAX - 1 bytes), and looked up in a table of
 * METRICS_TOKENS_MAX names fixed at metrics_new().  A new name once the
 * table is full, an empty name and the name "(other)" itself all count
 * under token="(other)", so the label set stays bounded.
 */
/* A request refused for want of credentials (401) or of a scope (403). */
void	metrics_auth_failure(struct metrics *m, enum metrics_auth why);
/*
 * A request refused with 429: by the limit of a token (its name) or, token
 * NULL, of a client address.
 */
void	metrics_rate_limited(struct metrics *m, const char *token,
	    enum metrics_limit what);
/*
 * One finished request made with a token (its name), by status; codes are
 * kept as metrics_request() keeps them, METRICS_TOKEN_CODES_MAX distinct
 * ones per token.  A NULL token is ignored.
 */
void	metrics_token_request(struct metrics *m, const char *token,
	    int status);

/*
 * Models.  The front serves many models, each version in its own worker,
 * and records per (model, version): the aiguard_model_* gauges, the queue,
 * inference and batch histograms and aiguard_worker_up carry the labels
 * model="NAME",version="VERSION"; the reload, failure and restart counters
 * carry model="NAME" only.  Names and versions are copied, cleaned and cut
 * like any label value; NULL reads as "" (so a NULL name is model="").
 *
 * The pairs live in a table of METRICS_MODELS_MAX entries fixed at
 * metrics_new(), the names in another of the same size: recording never
 * allocates and never fails.  Once a table is full, a new pair takes the
 * slot of a pair that shows no gauges (forgotten, or never declared by
 * metrics_model() or metrics_worker_up()), and a new name the slot of a
 * name none of whose pairs shows gauges; the old entry's series go.  With
 * no such slot the new one counts under model="(other)",version="" (a
 * name under model="(other)"), as does the name "(other)" itself, so the
 * label set stays bounded.  "(other)" never has gauges: metrics_model()
 * and metrics_worker_up() do nothing there.
 */

/*
 * The (name, version) pair as the front knows it: created or updated,
 * and the name's counters made (at 0).  loaded 0 keeps the series with
 * the value 0 (a model unloaded stays visible as not loaded).  digest is
 * copied (NULL reads as "").
 */
void	metrics_model(struct metrics *m, const char *name,
	    const char *version, int loaded, int verified, const char *digest);
/*
 * The pair is gone (unloaded for good): its gauges (aiguard_model_loaded,
 * _verified, _info and aiguard_worker_up) go at once; its histograms stay
 * until its slot is taken by a new pair.  An unknown pair is ignored.
 */
void	metrics_model_forget(struct metrics *m, const char *name,
	    const char *version);
/* One request's time in the pair's worker queue and in its engine (s). */
void	metrics_request_worker(struct metrics *m, const char *name,
	    const char *version, double queue_s, double infer_s);
/* One engine batch of n images (once per batch); n < 1 is ignored. */
void	metrics_batch(struct metrics *m, const char *name,
	    const char *version, int n);
/* One reload of the model name: ok != 0 counts result="ok", else "failed". */
void	metrics_reload(struct metrics *m, const char *name, int ok);
void	metrics_model_load_failure(struct metrics *m, const char *name);
/* A reload refused by the signature check (counted besides the reload). */
void	metrics_verify_failure(struct metrics *m, const char *name);
void	metrics_worker_restart(struct metrics *m, const char *name);
/* The pair's worker process is up (1) or not (0). */
void	metrics_worker_up(struct metrics *m, const char *name,
	    const char *version, int up);

/*
 * Confinement layer ("landlock", "seccomp", "no_new_privs", "mdwe",
 * "selinux", "privdrop", "rlimits", ...) active or not in a process role
 * ("front", "worker").  A later call for the same pair updates it; past
 * METRICS_LAYERS_MAX pairs, new pairs are dropped.  Names are cut to
 * METRICS_LAYER_NAME_MAX - 1 bytes.
 */
void	metrics_layer(struct metrics *m, const char *role, const char *layer,
	    int active);

/*
 * Renders every family into a new NUL-terminated buffer: *out (caller
 * frees), *len its length without the NUL.  Returns 0, AG_ERR_INVALID_ARG
 * or AG_ERR_ALLOC; on failure *out is NULL and *len 0.
 */
int	metrics_render(struct metrics *m, char **out, size_t *len);

#endif /* AG_METRICS_H */
