/* SPDX-License-Identifier: ISC */
/*
 * routes.c: the one place where AG_ERR_* codes become HTTP statuses, and
 * where a request path becomes a route.
 */
#include <string.h>

#include "common/ag_err.h"
#include "routes.h"

int
routes_status(int r)
{
	switch (r) {
	case 0:
		return 200;
	case AG_ERR_TOO_LARGE:
		return 413;
	case AG_ERR_UNSUPPORTED:
		return 415;
	case AG_ERR_NOT_FOUND:
		return 404;
	case AG_ERR_UNAVAILABLE:
	case AG_ERR_BUSY:
		return 503;
	case AG_ERR_INTERNAL:
	case AG_ERR_ALLOC:
	case AG_ERR_SYSTEM:
	case AG_ERR_PROTOCOL:
		return 500;
	default:
		/* Everything else is something wrong with what was sent. */
		return 400;
	}
}

/* Copies the next path segment of *p into seg; 0 when there is none. */
static int
routes_segment(const char **p, char *seg, size_t cap)
{
	const char *s = *p, *e;
	size_t len;

	if (*s != '/')
		return 0;
	s++;
	e = strchr(s, '/');
	len = e != NULL ? (size_t)(e - s) : strlen(s);
	if (len == 0 || len >= cap)
		return -1;
	memcpy(seg, s, len);
	seg[len] = '\0';
	*p = s + len;
	return 1;
}

int
routes_match(const char *path, struct route *rt)
{
	char seg[ROUTE_SEG_MAX];
	const char *p = path;
	int r;

	memset(rt, 0, sizeof(*rt));
	if (strcmp(path, "/metrics") == 0) {
		rt->rt_kind = ROUTE_METRICS;
		return 0;
	}
	if (strcmp(path, "/v2") == 0 || strcmp(path, "/v2/") == 0) {
		rt->rt_kind = ROUTE_SERVER;
		return 0;
	}
	if (strcmp(path, "/v2/health/live") == 0) {
		rt->rt_kind = ROUTE_LIVE;
		return 0;
	}
	if (strcmp(path, "/v2/health/ready") == 0) {
		rt->rt_kind = ROUTE_READY;
		return 0;
	}
	if (strcmp(path, "/v2/repository/index") == 0) {
		rt->rt_kind = ROUTE_REPO_INDEX;
		return 0;
	}
	if (strcmp(path, "/v2/models/stats") == 0) {
		rt->rt_kind = ROUTE_STATS;
		return 0;
	}
	if (strncmp(path, "/v2/repository/models/", 22) == 0) {
		p = path + 21;
		if (routes_segment(&p, rt->rt_model,
		    sizeof(rt->rt_model)) != 1 ||
		    routes_segment(&p, seg, sizeof(seg)) != 1 || *p != '\0')
			return AG_ERR_NOT_FOUND;
		if (strcmp(seg, "load") == 0)
			rt->rt_kind = ROUTE_REPO_LOAD;
		else if (strcmp(seg, "unload") == 0)
			rt->rt_kind = ROUTE_REPO_UNLOAD;
		else
			return AG_ERR_NOT_FOUND;
		return 0;
	}
	if (strncmp(path, "/v2/models/", 11) != 0)
		return AG_ERR_NOT_FOUND;
	p = path + 10;
	if (routes_segment(&p, rt->rt_model, sizeof(rt->rt_model)) != 1)
		return AG_ERR_NOT_FOUND;
	rt->rt_kind = ROUTE_MODEL;
	if (*p == '\0')
		return 0;
	if ((r = routes_segment(&p, seg, sizeof(seg))) != 1)
		return AG_ERR_NOT_FOUND;
	if (strcmp(seg, "versions") == 0) {
		if (routes_segment(&p, rt->rt_version,
		    sizeof(rt->rt_version)) != 1)
			return AG_ERR_NOT_FOUND;
		rt->rt_has_version = 1;
		if (*p == '\0')
			return 0;
		if (routes_segment(&p, seg, sizeof(seg)) != 1)
			return AG_ERR_NOT_FOUND;
	}
	if (*p != '\0')
		return AG_ERR_NOT_FOUND;
	if (strcmp(seg, "ready") == 0)
		rt->rt_kind = ROUTE_MODEL_READY;
	else if (strcmp(seg, "infer") == 0)
		rt->rt_kind = ROUTE_INFER;
	else if (strcmp(seg, "classify") == 0)
		rt->rt_kind = ROUTE_CLASSIFY;
	else if (strcmp(seg, "stats") == 0)
		rt->rt_kind = ROUTE_STATS;
	else
		return AG_ERR_NOT_FOUND;
	return 0;
}
