/* SPDX-License-Identifier: ISC */
/*
 * server.c: the HTTP server of aiguardd, on libmicrohttpd.
 *
 * libmicrohttpd runs a fixed pool of threads (http_threads), each with its
 * own epoll set; it enforces the header size (through the per-connection
 * memory pool) and the idle timeout.  We enforce the connection limits
 * (total and per client address: over them, a 503 rather than
 * libmicrohttpd's silent close, whose own limits are backstops above
 * ours), the body limit and the budget of bodies in flight, the content
 * types, and a deadline per request (request_timeout): a sweeper thread
 * shuts down a connection that has spent longer than that between two
 * answers without waiting for the engine (slow clients, slowloris), and
 * closes those whose client has gone while they waited on the engine.
 *
 * A request's life: the first call of the access handler routes it and
 * refuses what the headers alone condemn (404, 405, 411, 413, 415); the
 * body is gathered (bounded); the last call parses it (JSON tensors or an
 * image), hands a job to the backend and suspends the connection; the
 * backend's done callback resumes it, and the handler, called once more,
 * answers.  Every error is a JSON body {"error": "..."} with its status.
 *
 * The front door (access.h) judges each request on its first call, from
 * its route and headers (and the connection's client certificate, checked
 * once per connection): a refusal (401, 403, 429) is answered once the
 * request is in, its body read and dropped, so that the client reads the
 * answer rather than a reset.  TLS, when configured, is libmicrohttpd's
 * (GnuTLS), with the certificate from tls.h at every handshake.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <jansson.h>
#include <microhttpd.h>

#include "common/ag_err.h"
#include "common/config.h"
#include "common/log.h"
#include "common/topk.h"
#include "common/util.h"
#include "common/version.h"
#include "image/image.h"
#include "access.h"
#include "limits.h"
#include "metrics.h"
#include "oip.h"
#include "routes.h"
#include "server.h"
#include "tls.h"
#include "tokens.h"

#define HTTP_INPUT_NAME		"input"
#define HTTP_OUTPUT_NAME	"logits"
#define HTTP_TOP_DEFAULT	5
#define HTTP_FILE_FIELD		"file"
#define HTTP_SWEEP_MS		500
#define HTTP_MAX_LAYERS		32
/*
 * A connection over server.max_connections or max_connections_per_ip is
 * answered 503 on its first request; one that sends none is closed after
 * this long.
 */
#define HTTP_REFUSED_GRACE_S	2.0
#define HTTP_POLL_CHUNK		64
/*
 * Each connection's memory is server.max_header_bytes for the request line
 * and headers plus this much to read the body through: 64 KiB reads a
 * 600 KB binary tensor in about 20 receives, where 8 KiB took 80 (and 1 ms
 * more a request).  The header limit is then ours to enforce (http_begin).
 */
#define HTTP_READ_BUFFER	(64 * 1024)

struct http_req;

/*
 * One TCP connection: for the request deadline, and for the connection
 * limits, which are ours (limits.h): a connection over them is served a
 * 503, and one whose client has gone while its request waited on the
 * backend counts no longer.
 */
struct http_conn {
	struct http_conn	*hc_next, *hc_prev;
	int			 hc_fd;
	double			 hc_since;	/* start, or the last answer */
	double			 hc_answered;	/* the last answer; 0: none yet */
	int			 hc_waiting;	/* suspended on the backend */
	int			 hc_cut;	/* shut down by the sweeper */
	int			 hc_refused;	/* enum limits_admit; 0: served */
	int			 hc_gone;	/* the client left while waiting */
	struct http_req		*hc_rq;		/* the request waiting */
	int			 hc_family;	/* AF_INET, AF_INET6; 0: unknown */
	uint8_t			 hc_addr[16];	/* the client's address */
	/* The client certificate, checked on the first request. */
	int			 hc_peer_done;
	int			 hc_peer;	/* enum tls_peer */
	char			 hc_peer_cn[TOKEN_NAME_MAX * 2];
	char			 hc_peer_why[96];
};

struct http_server {
	struct MHD_Daemon		*hs_mhd;
	const struct ag_config		*hs_cf;
	const struct http_backend	*hs_be;
	struct metrics			*hs_m;
	struct image_limits		 hs_lim;
	int				 hs_port;
	int				 hs_inflight;	/* atomic */
	int				 hs_quiesced;
	pthread_mutex_t			 hs_mtx;	/* conns, request refs */
	struct http_conn		*hs_conns;
	pthread_t			 hs_sweeper;
	int				 hs_stop;	/* under hs_mtx */
	pthread_cond_t			 hs_cond;
	struct limits_budget		 hs_budget;	/* request bodies */
	struct access			*hs_access;	/* the front door */
	int				 hs_tls;	/* served over TLS */
	int				 hs_client_ca;	/* mutual TLS */
};

enum req_state {
	RQ_RECV,		/* gathering the body */
	RQ_GET,			/* a GET or HEAD, answered on the next call */
	RQ_WAIT,		/* suspended, the backend has the job */
	RQ_DONE,		/* the backend answered */
	RQ_ANSWERED,
};

struct http_req {
	struct http_server	*rq_srv;
	struct MHD_Connection	*rq_conn;	/* NULL once MHD let go */
	struct http_conn	*rq_hc;
	int			 rq_refs;	/* MHD + a pending job */
	enum req_state		 rq_state;
	struct route		 rq_route;
	enum metrics_endpoint	 rq_ep;
	const char		*rq_method;
	char			 rq_path[256];
	double			 rq_start;
	int			 rq_status;
	int			 rq_returns;	/* http_job's jb_returns */
	size_t			 rq_sent;
	/* body */
	uint8_t			*rq_body;
	size_t			 rq_len, rq_cap, rq_max;
	size_t			 rq_announced;	/* Content-Length; 0: chunked */
	size_t			 rq_charged;	/* of hs_budget: rq_cap */
	int			 rq_overflow;
	int			 rq_nobudget;	/* over max_body_inflight */
	int			 rq_nomem;
	int			 rq_notready;	/* no model: body read, dropped */
	size_t			 rq_dropped;	/* bytes of it */
	int			 rq_gone;	/* the client left: resumed */
	int			 rq_close;	/* answer with Connection: close */
	int			 rq_is_multipart;
	/* inference */
	struct http_model	*rq_model;
	struct oip_infer_req	 rq_oip;
	int			 rq_have_oip;
	uint8_t			*rq_pixels;	/* classify's image, RGB */
	float			*rq_logits;
	int			 rq_top;
	struct http_job		 rq_job;
	int			 rq_submitted;	/* rq_job went to the backend */
	double			 rq_submit_at, rq_done_at;
	/* the front door */
	struct access_id	 rq_id;		/* as whom */
	struct access_result	 rq_deny;	/* ar_status != 0: refused */
	/* multipart */
	uint8_t			*rq_file;
	size_t			 rq_file_len;
	int			 rq_file_seen, rq_file_bad;
	char			 rq_file_type[64];
};

static const char *const http_extensions[] = {
	"classification", "binary_tensor_data", "aiguard_classify",
	"model_repository", "statistics", NULL
};

/* Responses */

static enum MHD_Result
http_send(struct http_req *rq, int status, const char *ctype, void *body,
    size_t len, size_t json_len)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, body,
	    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    ctype);
	if (json_len != len) {
		char hl[32];

		(void)snprintf(hl, sizeof(hl), "%zu", json_len);
		(void)MHD_add_response_header(resp,
		    "Inference-Header-Content-Length", hl);
	}
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
		    rq->rq_route.rt_kind == ROUTE_INFER ||
		    rq->rq_route.rt_kind == ROUTE_CLASSIFY ||
		    rq->rq_route.rt_kind == ROUTE_REPO_INDEX ||
		    rq->rq_route.rt_kind == ROUTE_REPO_LOAD ||
		    rq->rq_route.rt_kind == ROUTE_REPO_UNLOAD ? "POST" :
		    "GET, HEAD");
	/* Bodies are JSON or Prometheus text: never sniffed as anything. */
	(void)MHD_add_response_header(resp, "X-Content-Type-Options",
	    "nosniff");
	/* Over TLS: a browser that has seen it once never falls back. */
	if (rq->rq_srv->hs_tls)
		(void)MHD_add_response_header(resp,
		    "Strict-Transport-Security", "max-age=31536000");
	if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
		(void)MHD_add_response_header(resp, "Retry-After", "1");
	if (status == MHD_HTTP_TOO_MANY_REQUESTS) {
		char ra[16];

		(void)snprintf(ra, sizeof(ra), "%u",
		    rq->rq_deny.ar_retry_after > 0 ?
		    rq->rq_deny.ar_retry_after : 1);
		(void)MHD_add_response_header(resp, "Retry-After", ra);
	}
	if (status == MHD_HTTP_UNAUTHORIZED)
		/* RFC 6750: a token that was sent and refused is named so. */
		(void)MHD_add_response_header(resp,
		    MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		    rq->rq_deny.ar_deny == ACCESS_INVALID ?
		    "Bearer realm=\"aiguard\", error=\"invalid_token\"" :
		    "Bearer realm=\"aiguard\"");
	if (rq->rq_close)
		(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION,
		    "close");
	ret = MHD_queue_response(rq->rq_conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	rq->rq_status = status;
	rq->rq_sent = len;
	rq->rq_state = RQ_ANSWERED;
	return ret;
}

static enum MHD_Result
http_send_json(struct http_req *rq, int status, json_t *doc)
{
	char *s;

	s = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (s == NULL)
		return MHD_NO;
	return http_send(rq, status, "application/json", s, strlen(s),
	    strlen(s));
}

static enum MHD_Result
http_error(struct http_req *rq, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum MHD_Result
http_error(struct http_req *rq, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return http_send_json(rq, status, json_pack("{s:s}", "error", msg));
}

/* The model metadata answer (OIP), with aiguard's parameters. */
static json_t *
http_model_metadata(const struct model_desc *d)
{
	return json_pack(
	    "{s:s, s:[s], s:s,"
	    " s:[{s:s, s:s, s:[i,i,i,i]}],"
	    " s:[{s:s, s:s, s:[i,i]}],"
	    " s:{s:s, s:i, s:i, s:b, s:b, s:s, s:s, s:s}}",
	    "name", d->d_name, "versions", d->d_version,
	    "platform", "aiguard",
	    "inputs", "name", HTTP_INPUT_NAME, "datatype", "FP32",
	    "shape", -1, d->d_channels, d->d_height, d->d_width,
	    "outputs", "name", HTTP_OUTPUT_NAME, "datatype", "FP32",
	    "shape", -1, d->d_classes,
	    "parameters", "architecture", d->d_arch,
	    "max_batch_size", d->d_max_request,
	    "resize", d->d_resize, "synthetic", d->d_synthetic,
	    "verified", d->d_verified, "digest", d->d_digest,
	    "signer", d->d_signer, "source", d->d_source);
}

/*
 * The model the route names (its version, or the default one), or NULL
 * and the 404 or 503 answered.
 */
static enum MHD_Result
http_model_for(struct http_req *rq, struct http_model **out)
{
	struct http_server *hs = rq->rq_srv;
	int known = 0;

	*out = hs->hs_be->be_model(hs->hs_be->be_ctx, rq->rq_route.rt_model,
	    rq->rq_route.rt_has_version ? rq->rq_route.rt_version : NULL,
	    &known);
	if (*out != NULL)
		return MHD_YES;
	if (!known)
		/* The name is the client's: printed escaped by jansson. */
		return http_error(rq, 404, "unknown model '%s'%s%s",
		    rq->rq_route.rt_model,
		    rq->rq_route.rt_has_version ? " version " : "",
		    rq->rq_route.rt_has_version ? rq->rq_route.rt_version : "");
	return http_error(rq, 503, "model not ready");
}

/* The front door */

/* The refusal access_check() or access_images() decided, answered. */
static enum MHD_Result
http_deny(struct http_req *rq)
{
	struct http_server *hs = rq->rq_srv;
	const struct access_result *d = &rq->rq_deny;
	const char *name = rq->rq_id.ai_anonymous ? NULL :
	    rq->rq_id.ai_entry.te_name;

	switch (d->ar_deny) {
	case ACCESS_MISSING:
		metrics_auth_failure(hs->hs_m, METRICS_AUTH_MISSING);
		break;
	case ACCESS_INVALID:
		metrics_auth_failure(hs->hs_m, METRICS_AUTH_INVALID);
		break;
	case ACCESS_CERTIFICATE:
		metrics_auth_failure(hs->hs_m, METRICS_AUTH_CERTIFICATE);
		break;
	case ACCESS_FORBIDDEN:
		metrics_auth_failure(hs->hs_m, METRICS_AUTH_FORBIDDEN);
		break;
	case ACCESS_RATE:
	case ACCESS_IMAGES:
	case ACCESS_INFLIGHT:
		metrics_rate_limited(hs->hs_m, d->ar_by_token ? name : NULL,
		    d->ar_deny == ACCESS_RATE ? METRICS_LIMIT_REQUESTS :
		    d->ar_deny == ACCESS_IMAGES ? METRICS_LIMIT_IMAGES :
		    METRICS_LIMIT_INFLIGHT);
		break;
	case ACCESS_OK:
		break;
	}
	return http_error(rq, d->ar_status, "%s", d->ar_msg);
}

/*
 * The client certificate of rq's connection, verified on its first
 * request and remembered for the others.
 */
static void
http_peer(struct http_req *rq, struct access_req *ar)
{
	struct http_server *hs = rq->rq_srv;
	struct http_conn *hc = rq->rq_hc;
	const union MHD_ConnectionInfo *ci;
	char cn[sizeof(hc->hc_peer_cn)], why[sizeof(hc->hc_peer_why)];
	enum tls_peer st = TLS_PEER_NONE;

	ar->ar_cert = TLS_PEER_NONE;
	if (!hs->hs_client_ca)
		return;
	if (hc == NULL) {
		/* Not tracked (out of memory): checked now, for this one. */
		static __thread char tcn[TOKEN_NAME_MAX * 2], twhy[96];

		ci = MHD_get_connection_info(rq->rq_conn,
		    MHD_CONNECTION_INFO_GNUTLS_SESSION);
		ar->ar_cert = ci == NULL || ci->tls_session == NULL ?
		    TLS_PEER_NONE : (int)tls_peer_verify((gnutls_session_t)
		    ci->tls_session, tcn, sizeof(tcn), twhy, sizeof(twhy));
		ar->ar_cert_cn = tcn;
		ar->ar_cert_why = twhy;
		return;
	}
	pthread_mutex_lock(&hs->hs_mtx);
	if (hc->hc_peer_done) {
		ar->ar_cert = hc->hc_peer;
		pthread_mutex_unlock(&hs->hs_mtx);
		ar->ar_cert_cn = hc->hc_peer_cn;
		ar->ar_cert_why = hc->hc_peer_why;
		return;
	}
	pthread_mutex_unlock(&hs->hs_mtx);
	cn[0] = why[0] = '\0';
	ci = MHD_get_connection_info(rq->rq_conn,
	    MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (ci != NULL && ci->tls_session != NULL)
		st = tls_peer_verify((gnutls_session_t)ci->tls_session, cn,
		    sizeof(cn), why, sizeof(why));
	/* Only this connection's thread writes these, once. */
	memcpy(hc->hc_peer_cn, cn, sizeof(cn));
	memcpy(hc->hc_peer_why, why, sizeof(why));
	pthread_mutex_lock(&hs->hs_mtx);
	hc->hc_peer = (int)st;
	hc->hc_peer_done = 1;
	pthread_mutex_unlock(&hs->hs_mtx);
	if (st == TLS_PEER_BAD)
		log_event(LOG_LVL_INFO, "event=client_cert result=refused "
		    "why=\"%s\"", why);
	ar->ar_cert = (int)st;
	ar->ar_cert_cn = hc->hc_peer_cn;
	ar->ar_cert_why = hc->hc_peer_why;
}

/*
 * The client's address as the rate limits' key: *addr and its length (4
 * or 16 bytes), or 0 when unknown (no address limit then).
 */
static size_t
http_client_key(const struct http_req *rq, const void **addr)
{
	const struct http_conn *hc = rq->rq_hc;

	*addr = NULL;
	if (hc == NULL || (hc->hc_family != AF_INET &&
	    hc->hc_family != AF_INET6))
		return 0;
	*addr = hc->hc_addr;
	return hc->hc_family == AF_INET ? 4 : 16;
}

/* access_check() for rq: 0 allowed, else rq_deny is set. */
static int
http_access(struct http_req *rq)
{
	struct http_server *hs = rq->rq_srv;
	struct access_req ar;

	memset(&ar, 0, sizeof(ar));
	ar.ar_category = access_category(rq->rq_route.rt_kind);
	ar.ar_model = rq->rq_route.rt_model[0] != '\0' ?
	    rq->rq_route.rt_model : NULL;
	ar.ar_authorization = MHD_lookup_connection_value(rq->rq_conn,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	http_peer(rq, &ar);
	ar.ar_addrlen = http_client_key(rq, &ar.ar_addr);
	ar.ar_now = ag_now();
	/* The model repository: an admin token, always (http_repository). */
	ar.ar_need_token = rq->rq_route.rt_kind == ROUTE_REPO_INDEX ||
	    rq->rq_route.rt_kind == ROUTE_REPO_LOAD ||
	    rq->rq_route.rt_kind == ROUTE_REPO_UNLOAD;
	access_check(hs->hs_access, &ar, &rq->rq_id, &rq->rq_deny);
	return rq->rq_deny.ar_status;
}

/* GET handlers (and the repository's POSTs, which have no body to read) */

static enum MHD_Result	http_repository(struct http_req *);

static enum MHD_Result
http_get(struct http_req *rq)
{
	struct http_server *hs = rq->rq_srv;
	struct http_model *hm;
	const char *layers[HTTP_MAX_LAYERS];
	int nl;
	json_t *arr;
	enum MHD_Result ret;
	size_t i;

	if (rq->rq_deny.ar_status != 0)
		return http_deny(rq);
	switch (rq->rq_route.rt_kind) {
	case ROUTE_LIVE:
		return http_send_json(rq, 200, json_pack("{s:b}", "live", 1));
	case ROUTE_READY: {
		int ready = hs->hs_be->be_ready(hs->hs_be->be_ctx);

		return http_send_json(rq, ready ? 200 : 503,
		    json_pack("{s:b}", "ready", ready));
	}
	case ROUTE_SERVER:
		arr = json_array();
		for (i = 0; http_extensions[i] != NULL; i++)
			json_array_append_new(arr,
			    json_string(http_extensions[i]));
		nl = hs->hs_be->be_layers != NULL ? hs->hs_be->be_layers(
		    hs->hs_be->be_ctx, layers, HTTP_MAX_LAYERS) : 0;
		{
			json_t *la = json_array();

			for (i = 0; i < (size_t)nl; i++)
				json_array_append_new(la,
				    json_string(layers[i]));
			return http_send_json(rq, 200, json_pack(
			    "{s:s, s:s, s:o, s:o}", "name", "aiguardd",
			    "version", AIGUARD_VERSION, "extensions", arr,
			    "aiguard_sandbox", la));
		}
	case ROUTE_METRICS: {
		char *text;
		size_t len;

		if (metrics_render(hs->hs_m, &text, &len) != 0)
			return http_error(rq, 500, "metrics unavailable");
		return http_send(rq, 200, "text/plain; version=0.0.4; "
		    "charset=utf-8", text, len, len);
	}
	case ROUTE_MODEL: {
		json_t *md;

		if ((ret = http_model_for(rq, &hm)) != MHD_YES || hm == NULL)
			return ret;
		md = http_model_metadata(&hm->hm_desc);
		/* The versions loaded, unless the route names one. */
		if (md != NULL && !rq->rq_route.rt_has_version &&
		    hs->hs_be->be_describe != NULL)
			hs->hs_be->be_describe(hs->hs_be->be_ctx,
			    rq->rq_route.rt_model, md);
		ret = http_send_json(rq, 200, md);
		http_model_unref(hm);
		return ret;
	}
	case ROUTE_MODEL_READY: {
		int ready, known = 0;

		hm = hs->hs_be->be_model(hs->hs_be->be_ctx,
		    rq->rq_route.rt_model, rq->rq_route.rt_has_version ?
		    rq->rq_route.rt_version : NULL, &known);
		if (hm == NULL && !known)
			return http_error(rq, 404, "unknown model '%s'",
			    rq->rq_route.rt_model);
		ready = hm != NULL;
		http_model_unref(hm);
		return http_send_json(rq, ready ? 200 : 503, json_pack(
		    "{s:s, s:b}", "name", rq->rq_route.rt_model, "ready",
		    ready));
	}
	case ROUTE_STATS: {
		json_t *st = hs->hs_be->be_stats == NULL ? NULL :
		    hs->hs_be->be_stats(hs->hs_be->be_ctx,
		    rq->rq_route.rt_model[0] != '\0' ? rq->rq_route.rt_model :
		    NULL, rq->rq_route.rt_has_version ?
		    rq->rq_route.rt_version : NULL);

		if (st == NULL)
			return http_error(rq, 404, "unknown model '%s'%s%s",
			    rq->rq_route.rt_model,
			    rq->rq_route.rt_has_version ? " version " : "",
			    rq->rq_route.rt_has_version ?
			    rq->rq_route.rt_version : "");
		return http_send_json(rq, 200, st);
	}
	case ROUTE_REPO_INDEX:
	case ROUTE_REPO_LOAD:
	case ROUTE_REPO_UNLOAD:
		return http_repository(rq);
	default:
		return http_error(rq, 404, "not found");
	}
}

/* Requests to the backend */

/* Frees the body and gives its bytes back to the budget. */
static void
http_body_drop(struct http_req *rq)
{
	free(rq->rq_body);
	rq->rq_body = NULL;
	rq->rq_cap = 0;
	if (rq->rq_charged > 0) {
		limits_budget_release(&rq->rq_srv->hs_budget, rq->rq_charged);
		metrics_http_body_bytes(rq->rq_srv->hs_m,
		    -(long long)rq->rq_charged);
	}
	rq->rq_charged = 0;
}

static void
http_req_unref(struct http_req *rq)
{
	struct http_server *hs = rq->rq_srv;
	int left;

	pthread_mutex_lock(&hs->hs_mtx);
	left = --rq->rq_refs;
	pthread_mutex_unlock(&hs->hs_mtx);
	if (left > 0)
		return;
	if (rq->rq_have_oip)
		oip_infer_req_free(&rq->rq_oip);
	http_model_unref(rq->rq_model);
	http_body_drop(rq);
	free(rq->rq_pixels);
	free(rq->rq_logits);
	free(rq->rq_file);
	free(rq);
}

/* The backend's answer (another thread): wake the request up. */
static void
http_job_done(struct http_job *job)
{
	struct http_req *rq = job->jb_arg;
	struct http_server *hs = rq->rq_srv;

	pthread_mutex_lock(&hs->hs_mtx);
	rq->rq_state = RQ_DONE;
	rq->rq_done_at = ag_now();
	if (rq->rq_hc != NULL) {
		/* The deadline restarts: the answer still has to go out. */
		rq->rq_hc->hc_waiting = 0;
		rq->rq_hc->hc_rq = NULL;
		rq->rq_hc->hc_since = ag_now();
	}
	/* A request whose client has gone was resumed already. */
	if (rq->rq_conn != NULL && !rq->rq_gone)
		MHD_resume_connection(rq->rq_conn);
	pthread_mutex_unlock(&hs->hs_mtx);
	http_req_unref(rq);
}

/*
 * Suspends rq's connection while the backend works for it: one more
 * reference (the job's, dropped by http_job_done()), and the sweeper
 * told that the connection waits on purpose.
 */
static void
http_suspend(struct http_req *rq)
{
	struct http_server *hs = rq->rq_srv;

	pthread_mutex_lock(&hs->hs_mtx);
	rq->rq_refs++;
	rq->rq_state = RQ_WAIT;
	if (rq->rq_hc != NULL) {
		rq->rq_hc->hc_waiting = 1;
		rq->rq_hc->hc_rq = rq;
	}
	MHD_suspend_connection(rq->rq_conn);
	pthread_mutex_unlock(&hs->hs_mtx);
}

/*
 * The model repository extension: POST /v2/repository/index, and
 * .../models/NAME/load and /unload.  Only for a token with the admin
 * scope, even where server.open opens admin (401 without one) or there is
 * no token file (403): changing what is served takes a credential,
 * always (access_check()'s ar_need_token).  Load and unload
 * wait for the backend (the parent starts or stops the workers) like an
 * inference; a request body (Triton's parameters) is not read.
 */
static enum MHD_Result
http_repository(struct http_req *rq)
{
	struct http_server *hs = rq->rq_srv;
	json_t *idx;
	int r;

	/* access_check() (ar_need_token) let only an admin token here. */
	AG_ASSERT(!rq->rq_id.ai_anonymous);
	if (rq->rq_route.rt_kind == ROUTE_REPO_INDEX) {
		idx = hs->hs_be->be_index != NULL ?
		    hs->hs_be->be_index(hs->hs_be->be_ctx) : json_array();
		if (idx == NULL)
			return http_error(rq, 503, "out of memory");
		return http_send_json(rq, 200, idx);
	}
	if (hs->hs_be->be_control == NULL)
		return http_error(rq, 403, "model control is off "
		    "(model.control = none): models load at start and on "
		    "SIGHUP");
	memset(&rq->rq_job, 0, sizeof(rq->rq_job));
	rq->rq_job.jb_done = http_job_done;
	rq->rq_job.jb_arg = rq;
	http_suspend(rq);
	r = hs->hs_be->be_control(hs->hs_be->be_ctx,
	    rq->rq_route.rt_kind == ROUTE_REPO_LOAD ? HTTP_CONTROL_LOAD :
	    HTTP_CONTROL_UNLOAD, rq->rq_route.rt_model, &rq->rq_job);
	if (r != 0) {
		rq->rq_job.jb_status = r;
		http_job_done(&rq->rq_job);
	}
	return MHD_YES;
}

/* The answer of a load or unload, once the backend is done. */
static enum MHD_Result
http_repository_answer(struct http_req *rq)
{
	int r = rq->rq_job.jb_status;

	if (r == 0)
		return http_send_json(rq, 200, json_object());
	return http_error(rq, r == AG_ERR_BUSY || r == AG_ERR_UNAVAILABLE ||
	    r == AG_ERR_ALLOC ? 503 : r == AG_ERR_NOT_FOUND ? 404 : 400,
	    "%s", rq->rq_job.jb_msg[0] != '\0' ? rq->rq_job.jb_msg :
	    ag_strerror(r));
}

/*
 * Whether the client came back within model.return_wait_us of its last
 * answer on this connection and keeps the connection (HTTP/1.1 without
 * "Connection: close"): a client that waits for each answer and sends the
 * next request at once, as a load generator, a pipeline stage or a proxy
 * under load does.  The worker holds its next batch for such clients.
 */
static int
http_returns(struct http_req *rq, const char *version)
{
	struct http_server *hs = rq->rq_srv;
	const char *c;
	double answered = 0;

	if (hs->hs_cf->cf_return_wait_us == 0 || rq->rq_conn == NULL ||
	    version == NULL || strcmp(version, MHD_HTTP_VERSION_1_1) != 0)
		return 0;
	c = MHD_lookup_connection_value(rq->rq_conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONNECTION);
	if (ag_list_has_token(c, "close"))
		return 0;
	pthread_mutex_lock(&hs->hs_mtx);
	if (rq->rq_hc != NULL)
		answered = rq->rq_hc->hc_answered;
	pthread_mutex_unlock(&hs->hs_mtx);
	return answered > 0 && rq->rq_start - answered <=
	    hs->hs_cf->cf_return_wait_us * 1e-6;
}

/*
 * Hands n images to the backend, as a tensor (input) or as RGB pixels
 * (pixels, when input is NULL), and suspends the connection.
 */
static enum MHD_Result
http_submit(struct http_req *rq, const float *input, const uint8_t *pixels,
    int n)
{
	struct http_server *hs = rq->rq_srv;
	struct http_model *hm = rq->rq_model;
	const void *addr;
	size_t nl, addrlen;
	int r;

	/* The images' buckets, now that their number is known. */
	addrlen = http_client_key(rq, &addr);
	access_images(hs->hs_access, &rq->rq_id, addr, addrlen, n, ag_now(),
	    &rq->rq_deny);
	if (rq->rq_deny.ar_status != 0)
		return http_deny(rq);
	if (ag_mul_size((size_t)n, (size_t)hm->hm_desc.d_classes, &nl) != 0 ||
	    (rq->rq_logits = malloc(nl * sizeof(float))) == NULL)
		return http_error(rq, 503, "out of memory");
	memset(&rq->rq_job, 0, sizeof(rq->rq_job));
	rq->rq_job.jb_model = hm;
	rq->rq_job.jb_n = n;
	rq->rq_job.jb_input = input;
	rq->rq_job.jb_pixels = input == NULL ? pixels : NULL;
	rq->rq_job.jb_logits = rq->rq_logits;
	rq->rq_job.jb_done = http_job_done;
	rq->rq_job.jb_arg = rq;
	rq->rq_job.jb_returns = rq->rq_returns;

	http_suspend(rq);

	rq->rq_submit_at = ag_now();
	r = hs->hs_be->be_submit(hs->hs_be->be_ctx, &rq->rq_job);
	rq->rq_submitted = r == 0;
	/*
	 * The backend has copied the tensor or the pixels (or refused
	 * them): the request's own copy goes now, not when the answer does,
	 * so that a queue of requests holds each image once.
	 */
	if (input == NULL && pixels == rq->rq_pixels) {
		free(rq->rq_pixels);
		rq->rq_pixels = NULL;
	} else if (rq->rq_have_oip && input == rq->rq_oip.rq_data)
		oip_infer_req_free_data(&rq->rq_oip);
	if (r != 0) {
		rq->rq_job.jb_status = r;
		http_job_done(&rq->rq_job);
	}
	return MHD_YES;
}

static void
http_io(const struct model_desc *d, struct oip_model_io *io)
{
	io->io_input_name = HTTP_INPUT_NAME;
	io->io_channels = d->d_channels;
	io->io_height = d->d_height;
	io->io_width = d->d_width;
	io->io_max_batch = d->d_max_request;
	io->io_output_name = HTTP_OUTPUT_NAME;
	io->io_classes = d->d_classes;
}

/* POST /v2/models/NAME/infer, the body complete. */
static enum MHD_Result
http_infer(struct http_req *rq)
{
	struct oip_model_io io;
	const char *v;
	long hlen = -1;
	char err[512];
	int r;

	v = MHD_lookup_connection_value(rq->rq_conn, MHD_HEADER_KIND,
	    "Inference-Header-Content-Length");
	if (v != NULL && (ag_parse_long(v, 0, (long)rq->rq_len, &hlen) != 0))
		return http_error(rq, 400, "Inference-Header-Content-Length: "
		    "not a length within the body");
	http_io(&rq->rq_model->hm_desc, &io);
	if ((r = oip_parse_infer(rq->rq_body, rq->rq_len, hlen, &io,
	    &rq->rq_oip, err, sizeof(err))) != 0)
		return http_error(rq, r == AG_ERR_ALLOC ? 503 :
		    routes_status(r) == 413 ? 413 : 400, "%s", err);
	rq->rq_have_oip = 1;
	http_body_drop(rq);		/* the tensor has it now */
	return http_submit(rq, rq->rq_oip.rq_data, NULL, rq->rq_oip.rq_n);
}

static enum MHD_Result
http_infer_answer(struct http_req *rq)
{
	struct oip_model_io io;
	struct jsonout out;
	size_t json_len;
	int r;

	http_io(&rq->rq_model->hm_desc, &io);
	memset(&out, 0, sizeof(out));
	r = oip_write_infer(&out, &json_len, rq->rq_model->hm_desc.d_name,
	    rq->rq_model->hm_desc.d_version, &io, &rq->rq_oip, rq->rq_logits,
	    (const char *const *)rq->rq_model->hm_labels);
	if (r != 0) {
		jsonout_free(&out);
		return http_error(rq, 500, "response: %s", ag_strerror(r));
	}
	/* The buffer goes to MHD, which frees it. */
	return http_send(rq, 200, json_len == out.len ? "application/json" :
	    "application/octet-stream", out.b, out.len, json_len);
}

/* multipart/form-data: keep the "file" field. */
static enum MHD_Result
http_post_field(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *filename, const char *content_type,
    const char *transfer_encoding, const char *data, uint64_t off,
    size_t size)
{
	struct http_req *rq = cls;
	uint8_t *p;

	if (key == NULL || strcmp(key, HTTP_FILE_FIELD) != 0)
		return MHD_YES;
	if (off == 0) {
		if (rq->rq_file_seen) {
			rq->rq_file_bad = 1;	/* two "file" fields */
			return MHD_NO;
		}
		rq->rq_file_seen = 1;
		if (content_type != NULL)
			(void)snprintf(rq->rq_file_type,
			    sizeof(rq->rq_file_type), "%s", content_type);
	}
	if (size == 0)
		return MHD_YES;
	if (off != rq->rq_file_len || size > rq->rq_len ||
	    rq->rq_file_len + size > rq->rq_len) {
		rq->rq_file_bad = 1;
		return MHD_NO;
	}
	if ((p = realloc(rq->rq_file, rq->rq_file_len + size)) == NULL) {
		rq->rq_file_bad = 1;
		return MHD_NO;
	}
	memcpy(p + rq->rq_file_len, data, size);
	rq->rq_file = p;
	rq->rq_file_len += size;
	return MHD_YES;
}

/* POST /v2/models/NAME/classify, the body complete. */
static enum MHD_Result
http_classify(struct http_req *rq)
{
	const struct model_desc *d = &rq->rq_model->hm_desc;
	struct http_server *hs = rq->rq_srv;
	const uint8_t *img = rq->rq_body;
	size_t img_len = rq->rq_len, npx;
	struct image im;
	char err[512];
	const char *v;
	long top = HTTP_TOP_DEFAULT;
	int r;

	v = MHD_lookup_connection_value(rq->rq_conn, MHD_GET_ARGUMENT_KIND,
	    "top");
	if (v != NULL && ag_parse_long(v, 1, d->d_classes, &top) != 0)
		return http_error(rq, 400, "top: expected an integer from 1 "
		    "to %d", d->d_classes);
	rq->rq_top = (int)top;

	if (rq->rq_is_multipart) {
		struct MHD_PostProcessor *pp;
		enum MHD_Result pr;

		pp = MHD_create_post_processor(rq->rq_conn, 65536,
		    http_post_field, rq);
		if (pp == NULL)
			return http_error(rq, 400, "multipart/form-data: "
			    "cannot parse (boundary missing?)");
		pr = MHD_post_process(pp, (const char *)rq->rq_body,
		    rq->rq_len);
		if (MHD_destroy_post_processor(pp) != MHD_YES || pr != MHD_YES ||
		    rq->rq_file_bad)
			return http_error(rq, 400, "multipart/form-data: "
			    "malformed body or more than one '%s' field",
			    HTTP_FILE_FIELD);
		if (!rq->rq_file_seen || rq->rq_file_len == 0)
			return http_error(rq, 400, "multipart/form-data: no "
			    "'%s' field with an image", HTTP_FILE_FIELD);
		img = rq->rq_file;
		img_len = rq->rq_file_len;
	}

	memset(&im, 0, sizeof(im));
	if ((r = image_decode(img, img_len, &hs->hs_lim, &im, err,
	    sizeof(err))) != 0)
		return http_error(rq, r == AG_ERR_TOO_LARGE ? 413 :
		    r == AG_ERR_UNSUPPORTED ? 415 : 400, "image: %s", err);
	npx = (size_t)d->d_width * d->d_height;
	if ((rq->rq_pixels = malloc(npx * 3)) == NULL) {
		image_free(&im);
		return http_error(rq, 503, "out of memory");
	}
	r = image_resize_crop(&im, d->d_resize, d->d_width, d->d_height,
	    rq->rq_pixels, err, sizeof(err));
	image_free(&im);
	if (r != 0)
		return http_error(rq, 400, "image: %s", err);
	http_body_drop(rq);
	/* The worker normalizes the pixels (a quarter of a tensor's size). */
	return http_submit(rq, NULL, rq->rq_pixels, 1);
}

static enum MHD_Result
http_classify_answer(struct http_req *rq)
{
	const struct http_model *hm = rq->rq_model;
	const struct model_desc *d = &hm->hm_desc;
	json_t *preds;
	double *prob;
	size_t *idx, k, i;

	idx = malloc((size_t)rq->rq_top * sizeof(*idx));
	prob = malloc((size_t)rq->rq_top * sizeof(*prob));
	if (idx == NULL || prob == NULL) {
		free(idx);
		free(prob);
		return http_error(rq, 503, "out of memory");
	}
	/* The shared order and probabilities (common/topk.h). */
	k = topk_softmax(rq->rq_logits, (size_t)d->d_classes,
	    (size_t)rq->rq_top, idx, prob);
	preds = json_array();
	for (i = 0; i < k; i++)
		json_array_append_new(preds, json_pack("{s:i, s:s, s:f, s:f}",
		    "index", (int)idx[i], "label", hm->hm_labels[idx[i]],
		    "probability", prob[i],
		    "logit", (double)rq->rq_logits[idx[i]]));
	free(idx);
	free(prob);
	return http_send_json(rq, 200, json_pack("{s:s, s:s, s:o}",
	    "model_name", d->d_name, "model_version", d->d_version,
	    "predictions", preds));
}

/* Adds one header's or query argument's share to the sum in cls. */
static enum MHD_Result
http_count_value(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	size_t *sum = cls;

	(void)kind;
	/* "Key: value\r\n", or "key=value&" in the query. */
	*sum += strlen(key) + (value != NULL ? strlen(value) : 0) + 4;
	return MHD_YES;
}

/*
 * The request line and headers as parsed, in bytes: what
 * server.max_header_bytes bounds (MHD's own bound, the connection's
 * memory, is larger by the body's read buffer).
 */
static size_t
http_header_bytes(struct MHD_Connection *c, const char *method,
    const char *url)
{
	size_t sum = strlen(method) + strlen(url) + sizeof(" HTTP/1.1\r\n");

	(void)MHD_get_connection_values(c, MHD_HEADER_KIND, http_count_value,
	    &sum);
	(void)MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND,
	    http_count_value, &sum);
	return sum;
}

/*
 * Whether the connection of rq was refused at its start (over a
 * connection limit): its first request is answered 503.
 */
static enum limits_admit
http_refused(struct http_req *rq)
{
	struct http_server *hs = rq->rq_srv;
	int r;

	pthread_mutex_lock(&hs->hs_mtx);
	r = rq->rq_hc != NULL ? rq->rq_hc->hc_refused : LIMITS_ADMIT_OK;
	pthread_mutex_unlock(&hs->hs_mtx);
	return (enum limits_admit)r;
}

/* The first call of a request: route it and judge its headers. */
static enum MHD_Result
http_begin(struct http_req *rq, const char *method, const char *url)
{
	struct http_server *hs = rq->rq_srv;
	struct MHD_Connection *c = rq->rq_conn;
	const char *cl, *te, *ct;
	int post, is_get;
	long long len = -1;
	size_t hb;
	enum limits_admit refused;

	/* Over a connection limit: whatever it asks, a 503, then closed. */
	if ((refused = http_refused(rq)) != LIMITS_ADMIT_OK) {
		rq->rq_ep = METRICS_EP_OTHER;
		rq->rq_close = 1;
		return http_error(rq, 503, "too many connections %s (the limit "
		    "is %d); try again later", refused == LIMITS_ADMIT_TOTAL ?
		    "to this server" : "from your address",
		    refused == LIMITS_ADMIT_TOTAL ?
		    hs->hs_cf->cf_max_connections :
		    hs->hs_cf->cf_max_connections_per_ip);
	}
	if ((hb = http_header_bytes(c, method, url)) >
	    hs->hs_cf->cf_max_header_bytes) {
		rq->rq_ep = METRICS_EP_OTHER;
		return http_error(rq, 431, "request line and headers of %zu "
		    "bytes: the limit is %zu", hb,
		    hs->hs_cf->cf_max_header_bytes);
	}
	is_get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
	    strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
	if (routes_match(rq->rq_path, &rq->rq_route) != 0) {
		rq->rq_ep = METRICS_EP_OTHER;
		return http_error(rq, 404, "no such path");
	}
	switch (rq->rq_route.rt_kind) {
	case ROUTE_LIVE:	rq->rq_ep = METRICS_EP_LIVE; break;
	case ROUTE_READY:	rq->rq_ep = METRICS_EP_READY; break;
	case ROUTE_SERVER:	rq->rq_ep = METRICS_EP_SERVER; break;
	case ROUTE_METRICS:	rq->rq_ep = METRICS_EP_METRICS; break;
	case ROUTE_MODEL:	rq->rq_ep = METRICS_EP_MODEL; break;
	case ROUTE_MODEL_READY:	rq->rq_ep = METRICS_EP_MODEL_READY; break;
	case ROUTE_INFER:	rq->rq_ep = METRICS_EP_INFER; break;
	case ROUTE_CLASSIFY:	rq->rq_ep = METRICS_EP_CLASSIFY; break;
	default:		rq->rq_ep = METRICS_EP_OTHER; break;
	}
	/*
	 * The front door.  A refusal waits for the whole request (a GET's
	 * next call, a body read and dropped): answered now, before a body
	 * the client is still sending, it would reach the client as a reset.
	 */
	if (http_access(rq) != 0) {
		rq->rq_max = hs->hs_cf->cf_max_body_bytes;
		if (rq->rq_route.rt_kind != ROUTE_INFER &&
		    rq->rq_route.rt_kind != ROUTE_CLASSIFY) {
			rq->rq_state = RQ_GET;
			return MHD_YES;
		}
		/* A body larger than any we read: answered now, closed. */
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && (strlen(cl) > 19 || strtoull(cl, NULL, 10) >
		    hs->hs_cf->cf_max_body_bytes)) {
			rq->rq_close = 1;
			return http_deny(rq);
		}
		return MHD_YES;
	}
	if (rq->rq_route.rt_kind == ROUTE_REPO_INDEX ||
	    rq->rq_route.rt_kind == ROUTE_REPO_LOAD ||
	    rq->rq_route.rt_kind == ROUTE_REPO_UNLOAD) {
		if (!post)
			return http_error(rq, 405, "method %s not allowed "
			    "here; use POST", method);
		/* Answered once the body (ignored) is in. */
		rq->rq_state = RQ_GET;
		return MHD_YES;
	}
	if (rq->rq_route.rt_kind != ROUTE_INFER &&
	    rq->rq_route.rt_kind != ROUTE_CLASSIFY) {
		if (!is_get)
			return http_error(rq, 405, "method %s not allowed "
			    "here", method);
		/*
		 * Answer on the next call, once MHD has the whole request:
		 * a response queued on the first call closes the connection.
		 */
		rq->rq_state = RQ_GET;
		return MHD_YES;
	}
	if (!post)
		return http_error(rq, 405, "method %s not allowed here; use "
		    "POST", method);

	/* POST: the body's length must be announced and within bounds. */
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	te = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_TRANSFER_ENCODING);
	if (cl == NULL && (te == NULL || strcasecmp(te, "chunked") != 0))
		return http_error(rq, 411, "Content-Length required");
	if (cl != NULL) {
		char *end;

		errno = 0;
		len = strtoll(cl, &end, 10);
		if (errno != 0 || end == cl || *end != '\0' || len < 0)
			return http_error(rq, 400, "bad Content-Length");
		if ((unsigned long long)len > hs->hs_cf->cf_max_body_bytes)
			return http_error(rq, 413, "body of %lld bytes: the "
			    "limit is %zu", len, hs->hs_cf->cf_max_body_bytes);
		if (len == 0)
			return http_error(rq, 400, "empty body");
	}
	rq->rq_max = hs->hs_cf->cf_max_body_bytes;

	ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	if (rq->rq_route.rt_kind == ROUTE_CLASSIFY) {
		if (ct == NULL)
			return http_error(rq, 415, "Content-Type required: "
			    "image/jpeg, image/png or multipart/form-data");
		if (strncasecmp(ct, "multipart/form-data", 19) == 0)
			rq->rq_is_multipart = 1;
		else if (strncasecmp(ct, "image/jpeg", 10) != 0 &&
		    strncasecmp(ct, "image/png", 9) != 0)
			return http_error(rq, 415, "unsupported Content-Type; "
			    "use image/jpeg, image/png or multipart/form-data");
	} else if (ct != NULL && *ct != '\0' &&
	    strncasecmp(ct, "application/json", 16) != 0 &&
	    strncasecmp(ct, "application/octet-stream", 24) != 0)
		return http_error(rq, 415, "unsupported Content-Type; use "
		    "application/json (or application/octet-stream with "
		    "Inference-Header-Content-Length)");

	/*
	 * No model (starting, or the worker being restarted): the 503 waits
	 * until the body is in, read and dropped.  Queued now, before the
	 * body, it would make libmicrohttpd close the connection under a
	 * client still sending, who then sees a reset or a broken pipe, not
	 * the 503 and its Retry-After.
	 */
	{
		int known = 0;

		/* The model is fixed for the request from here on. */
		rq->rq_model = hs->hs_be->be_model(hs->hs_be->be_ctx,
		    rq->rq_route.rt_model, rq->rq_route.rt_has_version ?
		    rq->rq_route.rt_version : NULL, &known);
		if (rq->rq_model == NULL && !known)
			return http_error(rq, 404, "unknown model '%s'%s%s",
			    rq->rq_route.rt_model,
			    rq->rq_route.rt_has_version ? " version " : "",
			    rq->rq_route.rt_has_version ?
			    rq->rq_route.rt_version : "");
		if (rq->rq_model == NULL) {
			rq->rq_notready = 1;
			return MHD_YES;
		}
	}
	/*
	 * Nothing is reserved for the announced length: the buffer grows as
	 * bytes arrive (http_body_append), charged to hs_budget.  A body that
	 * could not fit now is refused before the client sends it.
	 */
	if (len > 0) {
		rq->rq_announced = (size_t)len;
		if (!limits_budget_fits(&hs->hs_budget, (size_t)len)) {
			metrics_http_rejected(hs->hs_m,
			    METRICS_REJ_BODY_BUDGET);
			rq->rq_close = 1;
			return http_error(rq, 503, "busy: request bodies in "
			    "flight fill server.max_body_inflight (%zu bytes); "
			    "try again later", hs->hs_budget.lb_limit);
		}
	}
	return MHD_YES;
}

/*
 * Appends to the body, growing its buffer as the bytes arrive, each growth
 * charged to the server's budget.  A body over its limit, over the budget
 * or out of memory is dropped; its flag says what to answer once MHD has
 * read the rest.
 */
static void
http_body_append(struct http_req *rq, const char *data, size_t size)
{
	struct http_server *hs = rq->rq_srv;
	size_t cap;
	uint8_t *p;

	if (rq->rq_overflow || rq->rq_nobudget || rq->rq_nomem)
		return;
	if (rq->rq_notready || rq->rq_deny.ar_status != 0) {
		if (size > rq->rq_max - rq->rq_dropped)
			rq->rq_overflow = 1;
		else
			rq->rq_dropped += size;
		return;
	}
	if (size > rq->rq_max - rq->rq_len) {
		rq->rq_overflow = 1;
		http_body_drop(rq);
		return;
	}
	if (rq->rq_len + size > rq->rq_cap) {
		cap = limits_body_grow(rq->rq_cap, rq->rq_len + size,
		    rq->rq_announced, rq->rq_max);
		if (cap == 0) {
			rq->rq_overflow = 1;
			http_body_drop(rq);
			return;
		}
		if (limits_budget_charge(&hs->hs_budget, cap - rq->rq_cap) !=
		    0) {
			rq->rq_nobudget = 1;
			http_body_drop(rq);
			return;
		}
		rq->rq_charged += cap - rq->rq_cap;
		metrics_http_body_bytes(hs->hs_m, (long long)(cap - rq->rq_cap));
		if ((p = realloc(rq->rq_body, cap)) == NULL) {
			rq->rq_nomem = 1;
			http_body_drop(rq);
			return;
		}
		rq->rq_body = p;
		rq->rq_cap = cap;
	}
	memcpy(rq->rq_body + rq->rq_len, data, size);
	rq->rq_len += size;
}

static enum MHD_Result
http_handler(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct http_server *hs = cls;
	struct http_req *rq = *con_cls;

	if (rq == NULL) {
		const union MHD_ConnectionInfo *ci;

		if ((rq = calloc(1, sizeof(*rq))) == NULL)
			return MHD_NO;
		rq->rq_srv = hs;
		rq->rq_conn = conn;
		rq->rq_refs = 1;
		rq->rq_id.ai_anonymous = 1;
		rq->rq_start = ag_now();
		rq->rq_method = method;
		(void)snprintf(rq->rq_path, sizeof(rq->rq_path), "%s", url);
		ci = MHD_get_connection_info(conn,
		    MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		rq->rq_hc = ci != NULL ? ci->socket_context : NULL;
		*con_cls = rq;
		__atomic_add_fetch(&hs->hs_inflight, 1, __ATOMIC_RELAXED);
		metrics_inflight(hs->hs_m, 1);
		if (strlen(url) >= sizeof(rq->rq_path))
			return http_error(rq, 404, "path too long");
		return http_begin(rq, method, url);
	}

	switch (rq->rq_state) {
	case RQ_RECV:
		if (*upload_data_size != 0) {
			http_body_append(rq, upload_data, *upload_data_size);
			*upload_data_size = 0;
			return MHD_YES;
		}
		if (rq->rq_deny.ar_status != 0) {
			rq->rq_close = rq->rq_overflow;
			return http_deny(rq);
		}
		if (rq->rq_overflow)
			return http_error(rq, 413, "body over the limit of %zu "
			    "bytes", rq->rq_max);
		if (rq->rq_nobudget) {
			metrics_http_rejected(hs->hs_m,
			    METRICS_REJ_BODY_BUDGET);
			return http_error(rq, 503, "busy: request bodies in "
			    "flight fill server.max_body_inflight (%zu bytes); "
			    "try again later", hs->hs_budget.lb_limit);
		}
		if (rq->rq_nomem)
			return http_error(rq, 503, "out of memory");
		if (rq->rq_notready)
			return http_error(rq, 503, "model not ready");
		if (rq->rq_len == 0)
			return http_error(rq, 400, "empty body");
		rq->rq_returns = http_returns(rq, version);
		return rq->rq_route.rt_kind == ROUTE_INFER ? http_infer(rq) :
		    http_classify(rq);
	case RQ_GET:
		if (*upload_data_size != 0)	/* a body on a GET: ignored */
			*upload_data_size = 0;
		else
			return http_get(rq);
		return MHD_YES;
	case RQ_WAIT:
		if (rq->rq_gone) {
			enum MHD_Result ret;

			/* Resumed by the sweeper: nobody reads this. */
			rq->rq_close = 1;
			ret = http_error(rq, 503, "client gone");
			rq->rq_status = 499;
			return ret;
		}
		return MHD_YES;	/* spurious: still suspended */
	case RQ_DONE:
		if (rq->rq_route.rt_kind == ROUTE_REPO_LOAD ||
		    rq->rq_route.rt_kind == ROUTE_REPO_UNLOAD)
			return http_repository_answer(rq);
		if (rq->rq_job.jb_status != 0)
			return http_error(rq, 503, "%s",
			    rq->rq_job.jb_status == AG_ERR_BUSY ?
			    "overloaded: the queue is full, try again" :
			    rq->rq_job.jb_status == AG_ERR_UNAVAILABLE ?
			    "the model worker is not available" :
			    ag_strerror(rq->rq_job.jb_status));
		return rq->rq_route.rt_kind == ROUTE_INFER ?
		    http_infer_answer(rq) : http_classify_answer(rq);
	case RQ_ANSWERED:
		if (*upload_data_size != 0)	/* answered early: drop */
			*upload_data_size = 0;
		return MHD_YES;
	}
	return MHD_NO;
}

/* The access log line and the metrics of a finished request. */
static void
http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_server *hs = cls;
	struct http_req *rq = *con_cls;
	double dt;

	if (rq == NULL)
		return;
	*con_cls = NULL;
	dt = ag_now() - rq->rq_start;
	if (rq->rq_status == 0)
		rq->rq_status = 499;	/* closed before an answer */
	metrics_request(hs->hs_m, rq->rq_ep, rq->rq_status, dt);
	/* The model's statistics: every inference that reached a model. */
	if (rq->rq_model != NULL && hs->hs_be->be_account != NULL &&
	    (rq->rq_route.rt_kind == ROUTE_INFER ||
	    rq->rq_route.rt_kind == ROUTE_CLASSIFY))
		hs->hs_be->be_account(hs->hs_be->be_ctx, rq->rq_model,
		    rq->rq_status == 200, rq->rq_job.jb_n > 0 ?
		    rq->rq_job.jb_n : 1, dt, rq->rq_submit_at > 0 ?
		    rq->rq_submit_at - rq->rq_start : dt,
		    rq->rq_done_at > 0 ? ag_now() - rq->rq_done_at : 0,
		    rq->rq_submitted ? &rq->rq_job : NULL);
	metrics_inflight(hs->hs_m, -1);
	if (!rq->rq_id.ai_anonymous)
		metrics_token_request(hs->hs_m, rq->rq_id.ai_entry.te_name,
		    rq->rq_status);
	access_leave(hs->hs_access, &rq->rq_id);
	__atomic_sub_fetch(&hs->hs_inflight, 1, __ATOMIC_RELAXED);
	if (hs->hs_cf->cf_access_log) {
		const union MHD_ConnectionInfo *ci;
		/*
		 * The method and the path are the client's bytes: quoted and
		 * escaped (log_quote_value), never bare, or a method of
		 * "GET\tstatus=200\tevent=x" forges fields.  Room for a
		 * whole rq_path written as \xHH.
		 */
		char addr[INET6_ADDRSTRLEN] = "-", method[80];
		char path[4 * sizeof(rq->rq_path) + 3];

		ci = MHD_get_connection_info(conn,
		    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (ci != NULL && ci->client_addr != NULL) {
			const struct sockaddr *sa = ci->client_addr;

			if (sa->sa_family == AF_INET)
				(void)inet_ntop(AF_INET, &((const struct
				    sockaddr_in *)(const void *)sa)->sin_addr,
				    addr, sizeof(addr));
			else if (sa->sa_family == AF_INET6)
				(void)inet_ntop(AF_INET6, &((const struct
				    sockaddr_in6 *)(const void *)sa)->sin6_addr,
				    addr, sizeof(addr));
		}
		log_quote_value(path, sizeof(path), rq->rq_path);
		log_quote_value(method, sizeof(method), rq->rq_method != NULL ?
		    rq->rq_method : "");
		log_event(LOG_LVL_INFO, "event=access client=%s method=%s "
		    "path=%s status=%d bytes=%zu ms=%.3f token=%s%s%s", addr,
		    method, path, rq->rq_status, rq->rq_sent, dt * 1e3,
		    rq->rq_id.ai_anonymous ? "-" : rq->rq_id.ai_entry.te_name,
		    toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" :
		    " terminated=", toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ?
		    "" : toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ?
		    "timeout" : toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT ?
		    "client" : "error");
	}
	pthread_mutex_lock(&hs->hs_mtx);
	rq->rq_conn = NULL;
	if (rq->rq_hc != NULL) {
		rq->rq_hc->hc_since = ag_now();
		rq->rq_hc->hc_waiting = 0;
		rq->rq_hc->hc_rq = NULL;
		if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
			rq->rq_hc->hc_answered = rq->rq_hc->hc_since;
		/* The connection may close before the backend answers. */
		rq->rq_hc = NULL;
	}
	pthread_mutex_unlock(&hs->hs_mtx);
	http_req_unref(rq);
}

/* Whether a and b are connections from the same client address. */
static int
http_same_client(const struct http_conn *a, const struct http_conn *b)
{
	return a->hc_family != 0 && a->hc_family == b->hc_family &&
	    memcmp(a->hc_addr, b->hc_addr, sizeof(a->hc_addr)) == 0;
}

static void
http_conn_addr(struct MHD_Connection *conn, struct http_conn *hc)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_INET) {
		hc->hc_family = AF_INET;
		memcpy(hc->hc_addr, &((const struct sockaddr_in *)(const void *)
		    sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		hc->hc_family = AF_INET6;
		memcpy(hc->hc_addr, &((const struct sockaddr_in6 *)(const void *)
		    sa)->sin6_addr, 16);
	}
}

/*
 * Marks the connections waiting on the backend whose client has gone (reset,
 * or shut its side): a suspended connection is not polled by libmicrohttpd,
 * which would otherwise keep it, counted against its client's limit, until
 * the backend answers.  Only those from hc's address when hc is not NULL.
 * The sweeper resumes them, so that libmicrohttpd closes them.  Returns how
 * many it marked.  Under hs_mtx.
 */
static int
http_reap_gone(struct http_server *hs, const struct http_conn *only)
{
	struct pollfd pfd[HTTP_POLL_CHUNK];
	struct http_conn *hcs[HTTP_POLL_CHUNK], *hc, *next;
	int n, i, gone = 0;

	for (hc = hs->hs_conns; hc != NULL; hc = next) {
		for (n = 0, next = hc; next != NULL && n < HTTP_POLL_CHUNK;
		    next = next->hc_next) {
			if (!next->hc_waiting || next->hc_gone ||
			    next->hc_fd < 0 ||
			    (only != NULL && !http_same_client(next, only)))
				continue;
			pfd[n].fd = next->hc_fd;
			pfd[n].events = POLLRDHUP;
			pfd[n].revents = 0;
			hcs[n++] = next;
		}
		if (n == 0 || poll(pfd, (nfds_t)n, 0) <= 0)
			continue;
		for (i = 0; i < n; i++)
			if (pfd[i].revents & (POLLRDHUP | POLLHUP | POLLERR)) {
				hcs[i]->hc_gone = 1;
				gone++;
			}
	}
	return gone;
}

/* Connections served now from hc's address, and in total.  Under hs_mtx. */
static void
http_count_conns(struct http_server *hs, const struct http_conn *nc,
    int *total, int *from_ip)
{
	struct http_conn *hc;

	*total = *from_ip = 0;
	for (hc = hs->hs_conns; hc != NULL; hc = hc->hc_next) {
		if (hc->hc_refused || hc->hc_gone)
			continue;
		(*total)++;
		if (http_same_client(hc, nc))
			(*from_ip)++;
	}
}

/*
 * Whether the new connection hc is within the limits, counting only live
 * clients: at a limit, the waiting connections whose client has gone are
 * looked for first.  Under hs_mtx.
 */
static enum limits_admit
http_admit(struct http_server *hs, const struct http_conn *hc)
{
	const struct ag_config *cf = hs->hs_cf;
	enum limits_admit a;
	int total, from_ip;

	http_count_conns(hs, hc, &total, &from_ip);
	a = limits_admit(total, from_ip, cf->cf_max_connections,
	    cf->cf_max_connections_per_ip);
	if (a == LIMITS_ADMIT_OK || http_reap_gone(hs,
	    a == LIMITS_ADMIT_PER_IP ? hc : NULL) == 0)
		return a;
	pthread_cond_signal(&hs->hs_cond);	/* the sweeper resumes them */
	http_count_conns(hs, hc, &total, &from_ip);
	return limits_admit(total, from_ip, cf->cf_max_connections,
	    cf->cf_max_connections_per_ip);
}

/* Connections: tracked for the limits and the sweeper. */
static void
http_notify_conn(void *cls, struct MHD_Connection *conn, void **socket_ctx,
    enum MHD_ConnectionNotificationCode code)
{
	struct http_server *hs = cls;
	struct http_conn *hc;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci;
		enum limits_admit a;

		if ((hc = calloc(1, sizeof(*hc))) == NULL)
			return;
		/*
		 * Mutual TLS: ask for a certificate (REQUEST, not REQUIRE:
		 * a client without one is anonymous, and gets a 401 in
		 * JSON where a token is needed, not a failed handshake).
		 */
		if (hs->hs_client_ca && (ci = MHD_get_connection_info(conn,
		    MHD_CONNECTION_INFO_GNUTLS_SESSION)) != NULL &&
		    ci->tls_session != NULL)
			gnutls_certificate_server_set_request(
			    (gnutls_session_t)ci->tls_session,
			    GNUTLS_CERT_REQUEST);
		ci = MHD_get_connection_info(conn,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		hc->hc_fd = ci != NULL ? ci->connect_fd : -1;
		hc->hc_since = ag_now();
		http_conn_addr(conn, hc);
		pthread_mutex_lock(&hs->hs_mtx);
		a = http_admit(hs, hc);
		hc->hc_refused = (int)a;
		hc->hc_next = hs->hs_conns;
		if (hs->hs_conns != NULL)
			hs->hs_conns->hc_prev = hc;
		hs->hs_conns = hc;
		pthread_mutex_unlock(&hs->hs_mtx);
		*socket_ctx = hc;
		if (a != LIMITS_ADMIT_OK) {
			metrics_http_rejected(hs->hs_m, a == LIMITS_ADMIT_TOTAL ?
			    METRICS_REJ_CONNECTIONS :
			    METRICS_REJ_CONNECTIONS_IP);
			log_event(LOG_LVL_DEBUG, "event=connection_refused "
			    "reason=%s", a == LIMITS_ADMIT_TOTAL ?
			    "connections" : "connections_per_ip");
		}
	} else if ((hc = *socket_ctx) != NULL) {
		/* MHD closes the descriptor after this returns. */
		pthread_mutex_lock(&hs->hs_mtx);
		if (hc->hc_prev != NULL)
			hc->hc_prev->hc_next = hc->hc_next;
		else
			hs->hs_conns = hc->hc_next;
		if (hc->hc_next != NULL)
			hc->hc_next->hc_prev = hc->hc_prev;
		pthread_mutex_unlock(&hs->hs_mtx);
		free(hc);
		*socket_ctx = NULL;
	}
}

/* Cuts connections that take longer than request_timeout. */
static void *
http_sweeper(void *arg)
{
	struct http_server *hs = arg;
	struct http_req *gone[HTTP_POLL_CHUNK];
	struct timespec ts;
	size_t ngone, i;

	pthread_mutex_lock(&hs->hs_mtx);
	while (!hs->hs_stop) {
		struct http_conn *hc;
		double now = ag_now();

		(void)http_reap_gone(hs, NULL);
		ngone = 0;
		for (hc = hs->hs_conns; hc != NULL; hc = hc->hc_next) {
			struct http_req *rq = hc->hc_rq;

			/*
			 * The client has gone: resumed, its request is
			 * answered at once and libmicrohttpd closes the
			 * connection, whose slot frees now rather than when
			 * the backend answers; and the backend is asked to
			 * drop the job (below, unlocked).
			 */
			if (hc->hc_gone && rq != NULL && !rq->rq_gone &&
			    rq->rq_state == RQ_WAIT && rq->rq_conn != NULL) {
				if (ngone == HTTP_POLL_CHUNK)
					continue;	/* next round */
				rq->rq_gone = 1;
				rq->rq_refs++;
				gone[ngone++] = rq;
				MHD_resume_connection(rq->rq_conn);
				continue;
			}
			if (hc->hc_refused && !hc->hc_cut && hc->hc_fd >= 0 &&
			    now - hc->hc_since >= HTTP_REFUSED_GRACE_S) {
				(void)shutdown(hc->hc_fd, SHUT_RDWR);
				hc->hc_cut = 1;
				continue;
			}
			if (hc->hc_waiting || hc->hc_cut || hc->hc_fd < 0 ||
			    now - hc->hc_since < hs->hs_cf->cf_request_timeout)
				continue;
			/* The descriptor is open: CLOSED needs hs_mtx. */
			(void)shutdown(hc->hc_fd, SHUT_RDWR);
			hc->hc_cut = 1;
			log_event(LOG_LVL_INFO, "event=timeout after_s=%.1f "
			    "msg=\"request not complete in time; connection "
			    "closed\"", now - hc->hc_since);
		}
		if (ngone > 0) {
			/* The backend takes its own lock, then maybe ours. */
			pthread_mutex_unlock(&hs->hs_mtx);
			for (i = 0; i < ngone; i++) {
				if (hs->hs_be->be_cancel != NULL)
					hs->hs_be->be_cancel(hs->hs_be->be_ctx,
					    &gone[i]->rq_job);
				http_req_unref(gone[i]);
			}
			pthread_mutex_lock(&hs->hs_mtx);
			if (ngone == HTTP_POLL_CHUNK)
				continue;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += HTTP_SWEEP_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&hs->hs_cond, &hs->hs_mtx, &ts);
	}
	pthread_mutex_unlock(&hs->hs_mtx);
	return NULL;
}

static void
http_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512], q[600];
	size_t n;

	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_quote_value(q, sizeof(q), msg);
	log_event(LOG_LVL_DEBUG, "event=http msg=%s", q);
}

int
http_listen(const struct ag_config *cf, int *fdp, int *portp, char *err,
    size_t errlen)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl;
	int fd, on = 1, v6 = 0;

	*fdp = -1;
	memset(&ss, 0, sizeof(ss));
	if (strcmp(cf->cf_listen_addr, "localhost") == 0)
		inet_pton(AF_INET, "127.0.0.1", &sin->sin_addr);
	else if (strcmp(cf->cf_listen_addr, "*") == 0)
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (inet_pton(AF_INET, cf->cf_listen_addr, &sin->sin_addr) != 1) {
		if (inet_pton(AF_INET6, cf->cf_listen_addr,
		    &sin6->sin6_addr) != 1)
			return ag_errf(err, errlen, AG_ERR_CONFIG,
			    "listen: bad address %s", cf->cf_listen_addr);
		v6 = 1;
	}
	if (v6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)cf->cf_listen_port);
		sl = sizeof(*sin6);
	} else {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)cf->cf_listen_port);
		sl = sizeof(*sin);
	}
	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0);
	if (fd == -1)
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "socket: %s",
		    strerror(errno));
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (v6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
		    sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, sl) == -1 ||
	    listen(fd, 128) == -1) {
		int e = errno;

		(void)close(fd);
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "cannot listen on "
		    "%s:%d: %s", cf->cf_listen_addr, cf->cf_listen_port,
		    strerror(e));
	}
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1) {
		(void)close(fd);
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "getsockname: %s",
		    strerror(errno));
	}
	*portp = ntohs(ss.ss_family == AF_INET6 ? sin6->sin6_port :
	    sin->sin_port);
	*fdp = fd;
	return 0;
}

int
http_start(const struct ag_config *cf, int lfd, const struct http_backend *be,
    struct metrics *m, struct token_set *ts, struct http_server **out,
    char *err, size_t errlen)
{
	struct http_server *hs;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	const union MHD_DaemonInfo *di;
	struct MHD_OptionItem opts[8];
	unsigned int flags;
	int n = 0;

	*out = NULL;
	if (getsockname(lfd, (struct sockaddr *)&ss, &sl) == -1) {
		tokens_free(ts);
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "listening socket: "
		    "%s", strerror(errno));
	}
	if ((hs = calloc(1, sizeof(*hs))) == NULL ||
	    (hs->hs_access = access_new(cf)) == NULL) {
		free(hs);
		tokens_free(ts);
		return AG_ERR_ALLOC;
	}
	access_set_tokens(hs->hs_access, ts);
	hs->hs_cf = cf;
	hs->hs_be = be;
	hs->hs_m = m;
	hs->hs_tls = cf->cf_tls_cert[0] != '\0';
	hs->hs_client_ca = cf->cf_tls_client_ca[0] != '\0';
	image_limits_default(&hs->hs_lim);
	hs->hs_lim.max_side = (uint32_t)cf->cf_image_max_side;
	hs->hs_lim.max_pixels = (uint64_t)cf->cf_image_max_pixels;
	pthread_mutex_init(&hs->hs_mtx, NULL);
	pthread_cond_init(&hs->hs_cond, NULL);
	limits_budget_init(&hs->hs_budget, cf->cf_max_body_inflight);

	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (hs->hs_tls) {
		/*
		 * TLS: the certificate and key at every handshake from
		 * tls.h (current after a SIGHUP), our versions and suites.
		 * Clients are asked for a certificate per connection
		 * (http_notify_conn), not through libmicrohttpd's trust
		 * option, which it reads once at start: tls_peer_verify()
		 * checks the certificate against the CA current then.
		 */
		flags |= MHD_USE_TLS;
		opts[n++] = (struct MHD_OptionItem){
		    MHD_OPTION_HTTPS_CERT_CALLBACK2,
		    (intptr_t)0, (void *)tls_retrieve };
		opts[n++] = (struct MHD_OptionItem){
		    MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)tls_priorities };
	}
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	/* The socket is bound already: after start-up nobody binds. */
	hs->hs_mhd = MHD_start_daemon(flags, 0,
	    NULL, NULL, http_handler, hs,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)lfd,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)cf->cf_http_threads,
	    /*
	     * Backstops above our limits (limits.h): at its own limits
	     * libmicrohttpd closes accepted sockets without an answer.
	     */
	    MHD_OPTION_CONNECTION_LIMIT,
	    limits_mhd_total(cf->cf_max_connections, cf->cf_http_threads),
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    limits_mhd_per_ip(cf->cf_max_connections_per_ip),
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    cf->cf_max_header_bytes + HTTP_READ_BUFFER,
	    MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned int)cf->cf_connection_timeout,
	    MHD_OPTION_NOTIFY_COMPLETED, http_completed, hs,
	    MHD_OPTION_NOTIFY_CONNECTION, http_notify_conn, hs,
	    MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, hs,
	    MHD_OPTION_STRICT_FOR_CLIENT, 1,
	    MHD_OPTION_ARRAY, opts,
	    MHD_OPTION_END);
	if (hs->hs_mhd == NULL) {
		access_free(hs->hs_access);
		pthread_mutex_destroy(&hs->hs_mtx);
		pthread_cond_destroy(&hs->hs_cond);
		free(hs);
		return ag_errf(err, errlen, AG_ERR_SYSTEM,
		    "cannot start the HTTP server on %s:%d%s",
		    cf->cf_listen_addr, cf->cf_listen_port, cf->cf_tls_cert[0] ?
		    " (with TLS)" : "");
	}
	di = MHD_get_daemon_info(hs->hs_mhd, MHD_DAEMON_INFO_BIND_PORT);
	hs->hs_port = di != NULL ? di->port : cf->cf_listen_port;
	if (pthread_create(&hs->hs_sweeper, NULL, http_sweeper, hs) != 0) {
		MHD_stop_daemon(hs->hs_mhd);
		access_free(hs->hs_access);
		free(hs);
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "pthread_create");
	}
	*out = hs;
	return 0;
}

void
http_set_tokens(struct http_server *hs, struct token_set *ts)
{
	access_set_tokens(hs->hs_access, ts);
}

int
http_port(const struct http_server *hs)
{
	return hs->hs_port;
}

void
http_quiesce(struct http_server *hs)
{
	MHD_socket fd;

	if (hs->hs_quiesced)
		return;
	hs->hs_quiesced = 1;
	fd = MHD_quiesce_daemon(hs->hs_mhd);
	if (fd != MHD_INVALID_SOCKET)
		(void)close(fd);
}

int
http_inflight(const struct http_server *hs)
{
	return __atomic_load_n(&hs->hs_inflight, __ATOMIC_RELAXED);
}

void
http_stop(struct http_server *hs)
{
	if (hs == NULL)
		return;
	pthread_mutex_lock(&hs->hs_mtx);
	hs->hs_stop = 1;
	pthread_cond_signal(&hs->hs_cond);
	pthread_mutex_unlock(&hs->hs_mtx);
	(void)pthread_join(hs->hs_sweeper, NULL);
	MHD_stop_daemon(hs->hs_mhd);
	access_free(hs->hs_access);
	pthread_mutex_destroy(&hs->hs_mtx);
	pthread_cond_destroy(&hs->hs_cond);
	free(hs);
}
