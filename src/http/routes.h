/* SPDX-License-Identifier: ISC */
/*
 * routes.h: request paths to routes, error codes to HTTP statuses.
 *
 * Paths (Open Inference Protocol, KServe v2 REST, plus two of ours):
 *   /v2/health/live  /v2/health/ready  /v2  /metrics
 *   /v2/models/NAME[/versions/V][/ready|/infer|/classify|/stats]
 *   /v2/models/stats (every model's statistics: a model named "stats" is
 *   reached by its metadata only as /v2/models/stats/versions/V)
 *   /v2/repository/index  /v2/repository/models/NAME/load|unload
 * A model name is only ever compared with the served model's name; it is
 * never used to build a file name.
 */
#ifndef AG_HTTP_ROUTES_H
#define AG_HTTP_ROUTES_H

#define ROUTE_SEG_MAX	128

enum route_kind {
	ROUTE_NONE = 0,
	ROUTE_LIVE,
	ROUTE_READY,
	ROUTE_SERVER,
	ROUTE_METRICS,
	ROUTE_MODEL,		/* model metadata */
	ROUTE_MODEL_READY,
	ROUTE_INFER,
	ROUTE_CLASSIFY,
	ROUTE_STATS,		/* rt_model "" : every model */
	ROUTE_REPO_INDEX,
	ROUTE_REPO_LOAD,
	ROUTE_REPO_UNLOAD,
};

struct route {
	enum route_kind	rt_kind;
	char		rt_model[ROUTE_SEG_MAX];
	char		rt_version[ROUTE_SEG_MAX];
	int		rt_has_version;
};

/* 0 and rt filled, or AG_ERR_NOT_FOUND. */
int	routes_match(const char *path, struct route *rt);

/* The HTTP status for an AG_ERR_* code (0 gives 200). */
int	routes_status(int r);

#endif /* AG_HTTP_ROUTES_H */
