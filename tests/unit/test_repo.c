/* SPDX-License-Identifier: ISC */
/*
 * test_repo.c: unit tests for the model repository (model/repo.c).
 *
 * A scratch repository is made by hand in the store's layout (mkdir and
 * symlink, as aiguard deploy would leave it) with everything that must
 * not count as a model or a version: hidden entries, a file and a link
 * named like models, a directory with no version, a link named like a
 * version, a current link to a non-version.  repo_scan() must find the
 * models, in order, with the versions their policies select; repo_select()
 * is checked alone on the policies' edge cases (latest:N around current,
 * versions above current, specific versions missing).
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ag_err.h"
#include "common/config.h"
#include "model/repo.h"
#include "test_helper.h"

static char t_repo[PATH_MAX], t_many[PATH_MAX];

/* mkdir of the formatted path, or a hard error. */
static void __attribute__((format(printf, 1, 2)))
mkd(const char *fmt, ...)
{
	char p[PATH_MAX + 64];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(p, sizeof(p), fmt, ap);
	va_end(ap);
	if (mkdir(p, 0755) != 0)
		test_die("mkdir %s", p);
}

/* symlink(target, dir/name), or a hard error. */
static void
lnk(const char *target, const char *dir, const char *name)
{
	char p[PATH_MAX + 64];

	test_path(p, sizeof(p), dir, name);
	if (symlink(target, p) != 0)
		test_die("symlink %s", p);
}

/* An empty regular file. */
static void
touch(const char *dir, const char *name)
{
	char p[PATH_MAX + 64];
	int fd;

	test_path(p, sizeof(p), dir, name);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644)) == -1 ||
	    close(fd) != 0)
		test_die("create %s", p);
}

/*
 * REPO/
 *   alpha/1 2 3, current -> 2       a model; 3 is above current
 *   beta/5                          no current link
 *   gamma/                          no version: not a model
 *   theta/1, current -> "x"         a broken current: reported
 *   zeta/8, 7 -> ../alpha/1         a link named like a version
 *   .hidden/1  .audit.log  .lock    hidden
 *   delta                           a file named like a model
 *   eps -> alpha                    a link named like a model
 *   _x/1  "a b"/1                   not store names
 * MANY/m00 .. m16, each with 1/     17 models
 */
static void
setup(void)
{
	const char *t = test_tmpdir();
	char d[PATH_MAX + 64];
	int i;

	(void)snprintf(t_repo, sizeof(t_repo), "%s/repo", t);
	mkd("%s", t_repo);
	mkd("%s/alpha", t_repo);
	mkd("%s/alpha/1", t_repo);
	mkd("%s/alpha/2", t_repo);
	mkd("%s/alpha/3", t_repo);
	(void)snprintf(d, sizeof(d), "%s/alpha", t_repo);
	lnk("2", d, "current");
	mkd("%s/beta", t_repo);
	mkd("%s/beta/5", t_repo);
	mkd("%s/gamma", t_repo);
	mkd("%s/theta", t_repo);
	mkd("%s/theta/1", t_repo);
	(void)snprintf(d, sizeof(d), "%s/theta", t_repo);
	lnk("x", d, "current");
	mkd("%s/zeta", t_repo);
	mkd("%s/zeta/8", t_repo);
	(void)snprintf(d, sizeof(d), "%s/zeta", t_repo);
	lnk("../alpha/1", d, "7");
	mkd("%s/.hidden", t_repo);
	mkd("%s/.hidden/1", t_repo);
	touch(t_repo, ".audit.log");
	touch(t_repo, ".lock");
	touch(t_repo, "delta");
	lnk("alpha", t_repo, "eps");
	mkd("%s/_x", t_repo);
	mkd("%s/_x/1", t_repo);
	mkd("%s/a b", t_repo);
	mkd("%s/a b/1", t_repo);

	(void)snprintf(t_many, sizeof(t_many), "%s/many", t);
	mkd("%s", t_many);
	for (i = 0; i <= REPO_MODELS_MAX; i++) {
		mkd("%s/m%02d", t_many, i);
		mkd("%s/m%02d/1", t_many, i);
	}
}

/* A configuration of the repository dir, with key = value pairs set. */
static void
conf(struct ag_config *cf, const char *dir, ...)
{
	const char *k, *v;
	char err[512];
	va_list ap;

	config_defaults(cf);
	if (config_set(cf, "model.repository", dir, err, sizeof(err)) != 0)
		test_die("%s", err);
	va_start(ap, dir);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		if (config_set(cf, k, v, err, sizeof(err)) != 0) {
			va_end(ap);
			test_die("%s = %s: %s", k, v, err);
		}
	}
	va_end(ap);
}

/* A policy from its text. */
static struct config_version_policy
policy(const char *text)
{
	struct ag_config cf;
	char err[512];

	config_defaults(&cf);
	if (config_set(&cf, "model.versions", text, err, sizeof(err)) != 0)
		test_die("%s", err);
	return cf.cf_versions;
}

/* rm_versions as "1,2,3" for comparisons. */
static const char *
vers(const struct repo_model *rm)
{
	static char buf[256];
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < rm->rm_n && i < CONFIG_VERSIONS_MAX; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%u",
		    i ? "," : "", rm->rm_versions[i]);
	return buf;
}

static void
test_scan(void)
{
	struct repo_model *m = NULL;
	struct ag_config cf;
	char err[512];
	size_t n = 99;

	TEST_START("scan: every model, sorted; non-models skipped");
	conf(&cf, t_repo, NULL);
	err[0] = '\0';
	ASSERT_INT_EQ(repo_scan(t_repo, &cf, &m, &n, err, sizeof(err)), 0);
	ASSERT_STRING_EQ(err, "");
	ASSERT_INT_EQ(n, 4);
	ASSERT_PTR_NE(m, NULL);
	if (m != NULL && n == 4) {
		ASSERT_STRING_EQ(m[0].rm_name, "alpha");
		ASSERT_STRING_EQ(vers(&m[0]), "2");	/* 3 is above current */
		ASSERT_INT_EQ(m[0].rm_default, 2);
		ASSERT_INT_EQ(m[0].rm_current, 2);
		ASSERT_STRING_EQ(m[0].rm_why, "");
		ASSERT_STRING_EQ(m[1].rm_name, "beta");
		ASSERT_STRING_EQ(vers(&m[1]), "5");
		ASSERT_INT_EQ(m[1].rm_default, 5);
		ASSERT_INT_EQ(m[1].rm_current, 0);
		/* A broken current link: reported, nothing selected. */
		ASSERT_STRING_EQ(m[2].rm_name, "theta");
		ASSERT_INT_EQ(m[2].rm_n, 0);
		ASSERT_INT_EQ(m[2].rm_default, 0);
		ASSERT_STRING_CONTAINS(m[2].rm_why, "current");
		ASSERT_STRING_CONTAINS(m[2].rm_why, "not a version");
		/* The link named 7 is no version. */
		ASSERT_STRING_EQ(m[3].rm_name, "zeta");
		ASSERT_STRING_EQ(vers(&m[3]), "8");
		ASSERT_INT_EQ(m[3].rm_default, 8);
	}
	free(m);
	TEST_DONE();

	TEST_START("scan: per-model policies");
	conf(&cf, t_repo, "model.versions", "latest:3",
	    "model.zeta.versions", "latest", "model.beta.versions", "5,6",
	    NULL);
	ASSERT_INT_EQ(repo_scan(t_repo, &cf, &m, &n, err, sizeof(err)), 0);
	ASSERT_INT_EQ(n, 4);
	if (m != NULL && n == 4) {
		ASSERT_STRING_EQ(vers(&m[0]), "1,2");	/* never 3 */
		ASSERT_INT_EQ(m[0].rm_default, 2);
		ASSERT_STRING_EQ(vers(&m[1]), "5");
		ASSERT_STRING_CONTAINS(m[1].rm_why, "6");
		ASSERT_STRING_EQ(vers(&m[3]), "8");
	}
	free(m);
	TEST_DONE();

	TEST_START("scan: model.names, in order, one missing, one empty");
	conf(&cf, t_repo, "model.names", "zeta,nope,gamma,alpha,eps,delta",
	    NULL);
	ASSERT_INT_EQ(repo_scan(t_repo, &cf, &m, &n, err, sizeof(err)), 0);
	ASSERT_INT_EQ(n, 6);
	if (m != NULL && n == 6) {
		ASSERT_STRING_EQ(m[0].rm_name, "zeta");
		ASSERT_STRING_EQ(vers(&m[0]), "8");
		ASSERT_STRING_EQ(m[1].rm_name, "nope");
		ASSERT_INT_EQ(m[1].rm_n, 0);
		ASSERT_STRING_CONTAINS(m[1].rm_why, "no model directory nope");
		ASSERT_STRING_EQ(m[2].rm_name, "gamma");
		ASSERT_INT_EQ(m[2].rm_n, 0);
		ASSERT_STRING_CONTAINS(m[2].rm_why, "no version");
		ASSERT_STRING_EQ(m[3].rm_name, "alpha");
		ASSERT_STRING_EQ(vers(&m[3]), "2");
		/* A link or a file in place of NAME is no model. */
		ASSERT_STRING_EQ(m[4].rm_name, "eps");
		ASSERT_INT_EQ(m[4].rm_n, 0);
		ASSERT_STRING_CONTAINS(m[4].rm_why, "not a directory");
		ASSERT_STRING_EQ(m[5].rm_name, "delta");
		ASSERT_INT_EQ(m[5].rm_n, 0);
		ASSERT_INT_NE(m[5].rm_why[0], '\0');
	}
	free(m);
	TEST_DONE();

	TEST_START("scan: more than 16 models is refused, naming the count");
	conf(&cf, t_many, NULL);
	m = (struct repo_model *)&cf;	/* must come back NULL */
	ASSERT_INT_EQ(repo_scan(t_many, &cf, &m, &n, err, sizeof(err)),
	    AG_ERR_TOO_LARGE);
	ASSERT_PTR_EQ(m, NULL);
	ASSERT_INT_EQ(n, 0);
	ASSERT_STRING_CONTAINS(err, t_many);
	ASSERT_STRING_CONTAINS(err, "17 models");
	ASSERT_STRING_CONTAINS(err, "model.names");
	/* Named, a few of them serve. */
	conf(&cf, t_many, "model.names", "m16,m00", NULL);
	ASSERT_INT_EQ(repo_scan(t_many, &cf, &m, &n, err, sizeof(err)), 0);
	ASSERT_INT_EQ(n, 2);
	if (m != NULL && n == 2) {
		ASSERT_STRING_EQ(m[0].rm_name, "m16");
		ASSERT_STRING_EQ(vers(&m[0]), "1");
	}
	free(m);
	TEST_DONE();

	TEST_START("scan: a missing repository, a file, an empty one");
	{
		char p[PATH_MAX + 64];

		(void)snprintf(p, sizeof(p), "%s/nowhere", test_tmpdir());
		conf(&cf, p, NULL);
		ASSERT_INT_EQ(repo_scan(p, &cf, &m, &n, err, sizeof(err)),
		    AG_ERR_NOT_FOUND);
		ASSERT_STRING_CONTAINS(err, p);
		ASSERT_STRING_CONTAINS(err, "no such directory");
		ASSERT_PTR_EQ(m, NULL);
		(void)snprintf(p, sizeof(p), "%s/delta", t_repo);
		ASSERT_INT_EQ(repo_scan(p, &cf, &m, &n, err, sizeof(err)),
		    AG_ERR_FORMAT);
		ASSERT_STRING_CONTAINS(err, p);
		ASSERT_STRING_CONTAINS(err, "not a directory");
		/* Names or not, a missing repository is an error. */
		conf(&cf, p, "model.names", "a", NULL);
		ASSERT_INT_EQ(repo_scan(p, &cf, &m, &n, err, sizeof(err)),
		    AG_ERR_FORMAT);
		(void)snprintf(p, sizeof(p), "%s/gamma", t_repo);
		conf(&cf, p, NULL);
		ASSERT_INT_EQ(repo_scan(p, &cf, &m, &n, err, sizeof(err)), 0);
		ASSERT_INT_EQ(n, 0);
		ASSERT_PTR_EQ(m, NULL);
	}
	TEST_DONE();
}

static void
test_select(void)
{
	static const unsigned int v3[] = { 1, 2, 3 };
	static const unsigned int v6[] = { 1, 2, 3, 4, 5, 6 };
	static const unsigned int v135[] = { 1, 3, 5 };
	static const unsigned int v125[] = { 1, 2, 5 };
	struct config_version_policy vp;
	struct repo_model rm;

	TEST_START("select: latest:1 with and without current");
	memset(&rm, 0xa5, sizeof(rm));
	vp = policy("latest");
	repo_select(v3, 3, 0, &vp, &rm);
	ASSERT_STRING_EQ(vers(&rm), "3");
	ASSERT_INT_EQ(rm.rm_default, 3);
	ASSERT_INT_EQ(rm.rm_current, 0);
	ASSERT_STRING_EQ(rm.rm_why, "");
	ASSERT_INT_EQ(rm.rm_versions[1], 0);	/* zeroed past rm_n */
	repo_select(v3, 3, 2, &vp, &rm);
	ASSERT_STRING_EQ(vers(&rm), "2");
	ASSERT_INT_EQ(rm.rm_default, 2);
	ASSERT_INT_EQ(rm.rm_current, 2);
	repo_select(v3, 3, 1, &vp, &rm);
	ASSERT_STRING_EQ(vers(&rm), "1");
	TEST_DONE();

	TEST_START("select: latest:N around current");
	vp = policy("latest:3");
	repo_select(v6, 6, 4, &vp, &rm);
	ASSERT_STRING_EQ(vers(&rm), "2,3,4");	/* never 5 or 6 */
	ASSERT_INT_EQ(rm.rm_default, 4);
	repo_select(v6, 6, 0, &vp, &rm);
	ASSERT_STRING_EQ(vers(&rm), "4,5,6");
	ASSERT_INT_EQ(rm.rm_default, 6);
	repo_select(v6, 6, 2, &vp, &rm);
	ASSERT_STRING_EQ(vers(&rm), "1,2");
	ASSERT_INT_EQ(rm.rm_default, 2);
	repo_select(v6 + 5, 1, 0, &vp, &rm);	/* fewer than N */
	ASSERT_STRING_EQ(vers(&rm), "6");
	vp = policy("latest:16");
	repo_select(v6, 6, 6, &vp, &rm);
	ASSERT_STRING_EQ(vers(&rm), "1,2,3,4,5,6");
	ASSERT_INT_EQ(rm.rm_default, 6);
	/* A current link to a version that is gone: those below it. */
	vp = policy("latest:2");
	repo_select(v125, 3, 4, &vp, &rm);
	ASSERT_STRING_EQ(vers(&rm), "1,2");
	ASSERT_INT_EQ(rm.rm_default, 2);
	ASSERT_INT_EQ(rm.rm_current, 4);
	ASSERT_STRING_CONTAINS(rm.rm_why, "current names version 4");
	repo_select(v6 + 4, 2, 3, &vp, &rm);	/* 5, 6 above current 3 */
	ASSERT_INT_EQ(rm.rm_n, 0);
	ASSERT_INT_EQ(rm.rm_default, 0);
	ASSERT_STRING_CONTAINS(rm.rm_why, "at or below current (3)");
	repo_select(NULL, 0, 0, &vp, &rm);
	ASSERT_INT_EQ(rm.rm_n, 0);
	ASSERT_STRING_CONTAINS(rm.rm_why, "no version");
	TEST_DONE();

	TEST_START("select: specific versions, some missing");
	vp = policy("7,3,1");
	repo_select(v135, 3, 3, &vp, &rm);
	ASSERT_STRING_EQ(vers(&rm), "1,3");
	ASSERT_INT_EQ(rm.rm_default, 3);	/* current */
	ASSERT_STRING_CONTAINS(rm.rm_why, "not in the store: version 7");
	vp = policy("5,7");
	repo_select(v135, 3, 3, &vp, &rm);
	ASSERT_STRING_EQ(vers(&rm), "5");	/* above current: listed */
	ASSERT_INT_EQ(rm.rm_default, 5);
	ASSERT_STRING_CONTAINS(rm.rm_why, "7");
	vp = policy("1,5");
	repo_select(v135, 3, 0, &vp, &rm);
	ASSERT_STRING_EQ(vers(&rm), "1,5");
	ASSERT_INT_EQ(rm.rm_default, 5);	/* the highest */
	ASSERT_STRING_EQ(rm.rm_why, "");
	vp = policy("9,7");
	repo_select(v135, 3, 3, &vp, &rm);
	ASSERT_INT_EQ(rm.rm_n, 0);
	ASSERT_INT_EQ(rm.rm_default, 0);
	ASSERT_STRING_CONTAINS(rm.rm_why, "7,9");
	/* Sixteen missing, each named or the text cut short, no more. */
	vp = policy("999999984,999999985,999999986,999999987,999999988,"
	    "999999989,999999990,999999991,999999992,999999993,999999994,"
	    "999999995,999999996,999999997,999999998,999999999");
	repo_select(v135, 3, 3, &vp, &rm);
	ASSERT_INT_EQ(rm.rm_n, 0);
	ASSERT_INT_LT(strlen(rm.rm_why), sizeof(rm.rm_why));
	ASSERT_STRING_CONTAINS(rm.rm_why, "999999984");
	TEST_DONE();
}

static void
test_version_dir(void)
{
	char buf[64];

	TEST_START("repo_version_dir");
	ASSERT_INT_EQ(repo_version_dir("/srv/m", "r.50", 12, buf,
	    sizeof(buf)), 0);
	ASSERT_STRING_EQ(buf, "/srv/m/r.50/12");
	ASSERT_INT_EQ(repo_version_dir("/srv/m", "r.50", 12, buf, 14),
	    AG_ERR_TOO_LARGE);
	ASSERT_STRING_EQ(buf, "");
	ASSERT_INT_EQ(repo_version_dir("/srv/m", "r.50", 12, buf, 15), 0);
	ASSERT_INT_EQ(repo_version_dir("/srv/m", "..", 1, buf, sizeof(buf)),
	    AG_ERR_INVALID_ARG);
	ASSERT_INT_EQ(repo_version_dir("/srv/m", "a/b", 1, buf, sizeof(buf)),
	    AG_ERR_INVALID_ARG);
	ASSERT_INT_EQ(repo_version_dir("/srv/m", "a", 0, buf, sizeof(buf)),
	    AG_ERR_INVALID_ARG);
	ASSERT_INT_EQ(repo_version_dir("/srv/m", "a", 1000000000, buf,
	    sizeof(buf)), AG_ERR_INVALID_ARG);
	TEST_DONE();
}

void
tests(void)
{
	test_plan(9);
	setup();
	test_scan();
	test_select();
	test_version_dir();
}
