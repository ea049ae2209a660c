/* SPDX-License-Identifier: ISC */
/*
 * test_routes.c: unit tests for request paths to routes (routes.c): the
 * Open Inference Protocol's paths, versions, the statistics and model
 * repository extensions, and the paths that must not match (404), and
 * each route's endpoint category (access.c).
 */
#include <stdio.h>
#include <string.h>

#include "common/ag_err.h"
#include "http/access.h"
#include "http/routes.h"
#include "http/tokens.h"
#include "test_helper.h"

struct rcase {
	const char	*path;
	int		 kind;		/* ROUTE_*, or -1: no route (404) */
	const char	*model;
	const char	*version;	/* NULL: none */
};

static const struct rcase cases[] = {
	{ "/v2", ROUTE_SERVER, "", NULL },
	{ "/v2/health/ready", ROUTE_READY, "", NULL },
	{ "/v2/models/r18", ROUTE_MODEL, "r18", NULL },
	{ "/v2/models/r18/versions/2", ROUTE_MODEL, "r18", "2" },
	{ "/v2/models/r18/versions/2/infer", ROUTE_INFER, "r18", "2" },
	{ "/v2/models/r18/ready", ROUTE_MODEL_READY, "r18", NULL },
	{ "/v2/models/r18/classify", ROUTE_CLASSIFY, "r18", NULL },
	{ "/v2/models/stats", ROUTE_STATS, "", NULL },
	{ "/v2/models/r18/stats", ROUTE_STATS, "r18", NULL },
	{ "/v2/models/r18/versions/3/stats", ROUTE_STATS, "r18", "3" },
	/* A model named "stats": its metadata by version only. */
	{ "/v2/models/stats/versions/1", ROUTE_MODEL, "stats", "1" },
	{ "/v2/repository/index", ROUTE_REPO_INDEX, "", NULL },
	{ "/v2/repository/models/r50/load", ROUTE_REPO_LOAD, "r50", NULL },
	{ "/v2/repository/models/r50/unload", ROUTE_REPO_UNLOAD, "r50",
	    NULL },
	{ "/v2/repository/models/r50", -1, NULL, NULL },
	{ "/v2/repository/models/r50/load/x", -1, NULL, NULL },
	{ "/v2/repository/models//load", -1, NULL, NULL },
	{ "/v2/repository/models/r50/reload", -1, NULL, NULL },
	{ "/v2/repository/index/x", -1, NULL, NULL },
	{ "/v2/repository", -1, NULL, NULL },
	{ "/v2/models/r18/versions", -1, NULL, NULL },
	{ "/v2/models/r18/versions/2/stats/x", -1, NULL, NULL },
	{ "/v2/models/r18/statistics", -1, NULL, NULL },
	{ "/v2/models//stats", -1, NULL, NULL },
};

void
tests(void)
{
	struct route rt;
	char name[300];
	size_t i;
	int r;

	test_plan((int)(sizeof(cases) / sizeof(cases[0])) + 2);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		(void)snprintf(name, sizeof(name), "route %s", cases[i].path);
		TEST_START(name);
		r = routes_match(cases[i].path, &rt);
		if (cases[i].kind == -1)
			ASSERT_INT_EQ(r, AG_ERR_NOT_FOUND);
		else {
			ASSERT_INT_EQ(r, 0);
			ASSERT_INT_EQ(rt.rt_kind, cases[i].kind);
			ASSERT_TRUE(strcmp(rt.rt_model,
			    cases[i].model) == 0);
			ASSERT_INT_EQ(rt.rt_has_version,
			    cases[i].version != NULL);
			if (cases[i].version != NULL)
				ASSERT_TRUE(strcmp(rt.rt_version,
				    cases[i].version) == 0);
		}
		TEST_DONE();
	}

	TEST_START("a segment too long is no route");
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	memcpy(name, "/v2/repository/models/", 22);
	ASSERT_INT_EQ(routes_match(name, &rt), AG_ERR_NOT_FOUND);
	TEST_DONE();

	TEST_START("categories: statistics are metrics, the repository admin");
	ASSERT_INT_EQ(access_category(ROUTE_STATS), TOKEN_SCOPE_METRICS);
	ASSERT_INT_EQ(access_category(ROUTE_REPO_INDEX), TOKEN_SCOPE_ADMIN);
	ASSERT_INT_EQ(access_category(ROUTE_REPO_LOAD), TOKEN_SCOPE_ADMIN);
	ASSERT_INT_EQ(access_category(ROUTE_REPO_UNLOAD), TOKEN_SCOPE_ADMIN);
	ASSERT_INT_EQ(access_category(ROUTE_INFER), TOKEN_SCOPE_INFER);
	TEST_DONE();
}
