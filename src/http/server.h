/* SPDX-License-Identifier: ISC */
/*
 * server.h: aiguardd's HTTP front end (libmicrohttpd): the Open Inference
 * Protocol (KServe v2 REST), the classify extension, /metrics.
 *
 * The server parses requests and images; the inference itself is somebody
 * else's job, reached through struct http_backend (in aiguardd: the front
 * process's link to the worker).  A request waiting for the backend is
 * suspended, so a few HTTP threads carry many requests in flight.
 */
#ifndef AG_HTTP_SERVER_H
#define AG_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hmodel.h"

struct ag_config;
struct metrics;
struct token_set;

/* One inference: jb_n images shaped for jb_model. */
struct http_job {
	struct http_model *jb_model;	/* referenced by the job */
	int		 jb_n;
	const float	*jb_input;	/* n*C*H*W, or NULL: */
	const uint8_t	*jb_pixels;	/* n images of H*W*3 8-bit RGB, not yet
					   normalized (classify's), when
					   jb_input is NULL */
	float		*jb_logits;	/* n*classes, filled by the backend */
	int		 jb_status;	/* 0 or AG_ERR_* */
	double		 jb_queue_s, jb_infer_s;
	int		 jb_batch_size, jb_batch_first;
	/*
	 * The client sent this request within model.return_wait_us of its
	 * previous answer, on a connection it keeps open: it is likely to
	 * come back as quickly after this one's.
	 */
	int		 jb_returns;
	void		(*jb_done)(struct http_job *);
	void		*jb_arg;
	/* A model control job (be_control): what went wrong, or "". */
	char		 jb_msg[256];
};

/* be_control()'s operations: the model repository extension. */
enum http_control { HTTP_CONTROL_LOAD = 1, HTTP_CONTROL_UNLOAD = 2 };

struct http_backend {
	void	*be_ctx;
	/*
	 * The model name names (version: that version, NULL: the model's
	 * default one), referenced; NULL when there is none ready, *known
	 * then says whether the name is one the backend serves at all (503)
	 * or not (404).
	 */
	struct http_model *(*be_model)(void *ctx, const char *name,
	    const char *version, int *known);
	/* 1 when the server is ready: every model it serves is. */
	int	(*be_ready)(void *ctx);
	/*
	 * What the metadata of name adds besides its default version's
	 * description: "versions" (every loaded version) and per-version
	 * details, set into obj.  May be NULL.
	 */
	void	(*be_describe)(void *ctx, const char *name, json_t *obj);
	/*
	 * Queues job, copying jb_input or jb_pixels before it returns (the
	 * caller frees them then).  0: jb_done() will be called exactly
	 * once, from another thread, after jb_status and jb_logits are set.
	 * < 0 (AG_ERR_BUSY, AG_ERR_UNAVAILABLE): not queued, jb_done() is
	 * never called.
	 */
	int	(*be_submit)(void *ctx, struct http_job *job);
	/*
	 * The client of a submitted job has gone: the backend may drop the
	 * job if it has not run (jb_done() is still called, exactly once,
	 * with jb_status set).  May be NULL.
	 */
	void	(*be_cancel)(void *ctx, struct http_job *job);
	/*
	 * Confinement layers active now, as "role:layer" static strings, for
	 * GET /v2: fills out (at most max) and returns the count.  May be NULL.
	 */
	int	(*be_layers)(void *ctx, const char **out, int max);
	/*
	 * Statistics (the Triton statistics extension): a new object
	 * {"model_stats": [...]} for name (NULL: every model) and version
	 * (NULL: every loaded version), or NULL when name or version is not
	 * served (404).  May be NULL (no statistics: 404).
	 */
	json_t	*(*be_stats)(void *ctx, const char *name, const char *version);
	/*
	 * One inference request answered (ok or not) for hm, with its
	 * images and the time it took, whole (total_s), before the backend
	 * (input_s: reading, parsing, decoding) and after it (output_s: the
	 * answer built); job is the backend's job when it was submitted, for
	 * its queue and engine times, else NULL.  May be NULL.
	 */
	void	(*be_account)(void *ctx, const struct http_model *hm, int ok,
	    int images, double total_s, double input_s, double output_s,
	    const struct http_job *job);
	/*
	 * The repository index: a new array of {"name", "version", "state",
	 * "reason"}.  May be NULL (an empty index).
	 */
	json_t	*(*be_index)(void *ctx);
	/*
	 * Model control: load or unload name (enum http_control), answered
	 * like be_submit (0: jb_done() once, with jb_status and jb_msg
	 * set; < 0: not taken, jb_msg may say why).  NULL: model control is
	 * off (model.control = none).
	 */
	int	(*be_control)(void *ctx, int op, const char *name,
	    struct http_job *job);
};

struct http_server;

/*
 * Opens the listening socket for cf's address (before any sandbox: after
 * start-up nothing binds).  *portp gets the bound port (cf may say 0).
 */
int	http_listen(const struct ag_config *cf, int *fdp, int *portp,
	    char *err, size_t errlen);

/*
 * Serves on the listening socket lfd with cf's limits and HTTP threads,
 * and its front door: the token set ts (taken, even on failure; NULL: none
 * loaded, which refuses every protected category when cf names a token
 * file), TLS with the credentials installed by tls_creds_install() when
 * cf names a certificate.  The server borrows cf, be and m until
 * http_stop().
 */
int	http_start(const struct ag_config *cf, int lfd,
	    const struct http_backend *be, struct metrics *m,
	    struct token_set *ts, struct http_server **out, char *err,
	    size_t errlen);
/* Replaces the token set (taken; a SIGHUP's); safe while serving. */
void	http_set_tokens(struct http_server *srv, struct token_set *ts);
/* The bound port (useful when the configuration asked for port 0). */
int	http_port(const struct http_server *srv);
/* Stops accepting connections; requests in progress go on. */
void	http_quiesce(struct http_server *srv);
/* Requests received and not yet answered. */
int	http_inflight(const struct http_server *srv);
/* Closes every connection and frees srv. */
void	http_stop(struct http_server *srv);

#endif /* AG_HTTP_SERVER_H */
