/* SPDX-License-Identifier: ISC */
/*
 * test_metrics.c: the Prometheus exposition of http/metrics.c: cumulative
 * buckets, _sum and _count, status codes and code="other", label escaping
 * and UTF-8 cleaning, the layer table, exact totals under four threads, no
 * locale in the numbers, and promtool's parser and linter on the output.
 * The front door's counters: authentication failures by reason, 429s by
 * address and by token, per-token requests by code, the bounded token
 * table and its "(other)" series, and a full table rendered, parsed line
 * by line (token names only ever as label values) and checked by promtool.
 * Models: the series of two (model, version) pairs side by side, their
 * labels escaped, a pair forgotten (its gauges go, its counts stay), and
 * the bounded tables: the 65th pair and name under model="(other)", a
 * full table reusing the slot of a pair that shows no gauges.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ag_err.h"
#include "http/metrics.h"
#include "test_helper.h"

/* ==== Helpers ==== */

static char *
render(struct metrics *m)
{
	char *text = NULL;
	size_t len = 0;

	if (metrics_render(m, &text, &len) != 0 || text == NULL) {
		fprintf(stderr, "metrics_render failed\n");
		exit(99);
	}
	if (strlen(text) != len) {
		fprintf(stderr, "metrics_render: length mismatch\n");
		exit(99);
	}
	return text;
}

/* Whether text holds line as a whole line. */
static int
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p;

	for (p = text; (p = strstr(p, line)) != NULL; p++) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	}
	return 0;
}

/* Occurrences of s in text. */
static int
count_of(const char *text, const char *s)
{
	const char *p;
	int n = 0;

	for (p = text; (p = strstr(p, s)) != NULL; p += strlen(s))
		n++;
	return n;
}

#define ASSERT_LINE(text, line) do {					\
	if (!has_line((text), (line)))					\
		assert_str_fail(__FILE__, __LINE__, "text", "line",	\
		    "(no such line)", (line));				\
} while (0)
#define ASSERT_NO_LINE_WITH(text, s) do {				\
	if (strstr((text), (s)) != NULL)				\
		assert_str_fail(__FILE__, __LINE__, "text", "absent",	\
		    "(present)", (s));					\
} while (0)

/*
 * Runs "promtool check metrics" with text on its stdin; its stdout and
 * stderr together land in out.  Returns the exit status, 127 when promtool
 * could not be run, or -1 on a local failure.
 */
static int
run_promtool(const char *text, char *out, size_t outsz)
{
	char path[512];
	size_t o = 0;
	ssize_t n;
	pid_t pid;
	int fd, p[2], st;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/metrics.txt", test_tmpdir());
	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		return -1;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    lseek(fd, 0, SEEK_SET) != 0 || pipe2(p, O_CLOEXEC) == -1) {
		close(fd);
		return -1;
	}
	if ((pid = fork()) == -1) {
		close(fd);
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		if (dup2(fd, 0) == -1 || dup2(p[1], 1) == -1 ||
		    dup2(p[1], 2) == -1)
			_exit(126);
		execlp("promtool", "promtool", "check", "metrics",
		    (char *)NULL);
		_exit(127);
	}
	close(fd);
	close(p[1]);
	for (;;) {
		n = read(p[0], out + o, outsz - 1 - o);
		if (n > 0 && (o += (size_t)n) < outsz - 1)
			continue;
		if (n == -1 && errno == EINTR)
			continue;
		if (n > 0) {	/* out is full: drain the rest */
			char sink[512];

			while (read(p[0], sink, sizeof(sink)) > 0)
				;
		}
		break;
	}
	out[o] = '\0';
	close(p[0]);
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/*
 * Asserts that promtool accepts text with nothing to say.  promtool is
 * installed by scripts/install-deps (prometheus): its absence fails.
 */
static void
check_promtool(const char *text)
{
	char out[4096];
	int r;

	r = run_promtool(text, out, sizeof(out));
	if (r == 127)
		fprintf(stderr, "promtool not found: scripts/install-deps "
		    "installs it (package prometheus)\n");
	if (r != 0 || out[0] != '\0')
		fprintf(stderr, "promtool exit %d:\n%s\n--- input:\n%s", r,
		    out, text);
	ASSERT_INT_EQ(r, 0);
	ASSERT_STRING_EQ(out, "");
}

/* A metrics object with every family populated. */
static struct metrics *
full_metrics(void)
{
	struct metrics *m;

	if ((m = metrics_new("0.1.0")) == NULL)
		exit(99);
	metrics_request(m, METRICS_EP_INFER, 200, 0.001);
	metrics_request(m, METRICS_EP_INFER, 200, 0.003);
	metrics_request(m, METRICS_EP_INFER, 200, 0.2);
	metrics_request(m, METRICS_EP_INFER, 503, 20.0);
	metrics_request(m, METRICS_EP_INFER, 400, -1.0);
	metrics_request(m, METRICS_EP_INFER, 200, NAN);
	metrics_request(m, METRICS_EP_LIVE, 200, 0.0001);
	metrics_request(m, METRICS_EP_OTHER, 404, 0.0002);
	metrics_request_worker(m, "resnet18", "1", 0.0005, 0.04);
	metrics_request_worker(m, "resnet18", "1", 0.5, 1.5);
	metrics_batch(m, "resnet18", "1", 1);
	metrics_batch(m, "resnet18", "1", 3);
	metrics_batch(m, "resnet18", "1", 64);
	metrics_batch(m, "resnet18", "1", 100);
	metrics_batch(m, "resnet18", "1", 0);		/* ignored */
	metrics_batch(m, "resnet18", "1", -3);		/* ignored */
	metrics_inflight(m, 1);
	metrics_inflight(m, 1);
	metrics_inflight(m, -1);
	metrics_model(m, "resnet18", "1", 1, 1,
	    "sha256:0123456789abcdef");
	metrics_reload(m, "resnet18", 1);
	metrics_reload(m, "resnet18", 0);
	metrics_reload(m, "resnet18", 0);
	metrics_verify_failure(m, "resnet18");
	metrics_model_load_failure(m, "resnet18");
	metrics_worker_restart(m, "resnet18");
	metrics_worker_up(m, "resnet18", "1", 1);
	metrics_layer(m, "front", "landlock", 1);
	metrics_layer(m, "front", "seccomp", 1);
	metrics_layer(m, "worker", "selinux", 0);
	return m;
}

/* ==== Cases ==== */

static void
test_empty(void)
{
	struct metrics *m;
	char *text;
	size_t len = 9;

	TEST_START("metrics: fresh object");
	m = metrics_new("0.1.0");
	ASSERT_PTR_NE(m, NULL);
	text = render(m);
	ASSERT_LINE(text, "# TYPE aiguard_build_info gauge");
	ASSERT_LINE(text, "aiguard_build_info{version=\"0.1.0\"} 1");
	ASSERT_STRING_CONTAINS(text, "\naiguard_start_time_seconds 1");
	ASSERT_LINE(text, "aiguard_inflight_requests 0");
	/* The model families are there, without series: no model yet. */
	ASSERT_LINE(text, "# TYPE aiguard_queue_duration_seconds histogram");
	ASSERT_LINE(text, "# TYPE aiguard_batch_size histogram");
	ASSERT_LINE(text, "# TYPE aiguard_model_reloads_total counter");
	ASSERT_LINE(text, "# TYPE aiguard_worker_up gauge");
	ASSERT_LINE(text, "# TYPE aiguard_worker_restarts_total counter");
	ASSERT_NO_LINE_WITH(text, "aiguard_queue_duration_seconds_");
	ASSERT_NO_LINE_WITH(text, "aiguard_inference_duration_seconds_");
	ASSERT_NO_LINE_WITH(text, "aiguard_batch_size_");
	ASSERT_NO_LINE_WITH(text, "aiguard_model_reloads_total{");
	ASSERT_NO_LINE_WITH(text, "\naiguard_model_load_failures_total");
	ASSERT_NO_LINE_WITH(text, "\naiguard_worker_up");
	ASSERT_NO_LINE_WITH(text, "\naiguard_worker_restarts_total");
	ASSERT_NO_LINE_WITH(text, "aiguard_model_info{");
	ASSERT_NO_LINE_WITH(text, "aiguard_model_loaded{");
	ASSERT_NO_LINE_WITH(text, "aiguard_http_requests_total{");
	ASSERT_NO_LINE_WITH(text, "aiguard_request_duration_seconds_bucket");
	ASSERT_TRUE(text[strlen(text) - 1] == '\n');
	check_promtool(text);
	free(text);
	metrics_free(m);
	TEST_DONE();

	TEST_START("metrics: bad arguments, NULL object");
	text = (char *)"x";
	ASSERT_INT_EQ(metrics_render(NULL, &text, &len), AG_ERR_INVALID_ARG);
	ASSERT_PTR_EQ(text, NULL);
	ASSERT_INT_EQ(len, 0);
	m = metrics_new(NULL);
	ASSERT_PTR_NE(m, NULL);
	ASSERT_INT_EQ(metrics_render(m, NULL, &len), AG_ERR_INVALID_ARG);
	/* Recording into NULL is a no-op, as is freeing it. */
	metrics_request(NULL, METRICS_EP_INFER, 200, 1.0);
	metrics_request_worker(NULL, "a", "b", 1.0, 1.0);
	metrics_batch(NULL, "a", "b", 1);
	metrics_inflight(NULL, 1);
	metrics_model(NULL, "a", "b", 1, 1, "");
	metrics_model_forget(NULL, "a", "b");
	metrics_reload(NULL, "a", 1);
	metrics_model_load_failure(NULL, "a");
	metrics_verify_failure(NULL, "a");
	metrics_worker_restart(NULL, "a");
	metrics_worker_up(NULL, "a", "b", 1);
	metrics_layer(NULL, "front", "mdwe", 1);
	metrics_free(NULL);
	text = render(m);
	ASSERT_LINE(text, "aiguard_build_info{version=\"\"} 1");
	free(text);
	metrics_free(m);
	TEST_DONE();
}

static void
test_histograms(void)
{
	struct metrics *m = full_metrics();
	char *text = render(m);

	TEST_START("metrics: request duration buckets are cumulative");
#define RQ "aiguard_request_duration_seconds"
	/* 0.001 (on the bound), -1 and NaN (as 0) */
	ASSERT_LINE(text, RQ "_bucket{endpoint=\"infer\",le=\"0.001\"} 3");
	ASSERT_LINE(text, RQ "_bucket{endpoint=\"infer\",le=\"0.0025\"} 3");
	ASSERT_LINE(text, RQ "_bucket{endpoint=\"infer\",le=\"0.005\"} 4");
	ASSERT_LINE(text, RQ "_bucket{endpoint=\"infer\",le=\"0.1\"} 4");
	ASSERT_LINE(text, RQ "_bucket{endpoint=\"infer\",le=\"0.25\"} 5");
	ASSERT_LINE(text, RQ "_bucket{endpoint=\"infer\",le=\"10\"} 5");
	ASSERT_LINE(text, RQ "_bucket{endpoint=\"infer\",le=\"+Inf\"} 6");
	ASSERT_LINE(text, RQ "_sum{endpoint=\"infer\"} 20.204");
	ASSERT_LINE(text, RQ "_count{endpoint=\"infer\"} 6");
	ASSERT_LINE(text, RQ "_bucket{endpoint=\"health_live\","
	    "le=\"0.001\"} 1");
	ASSERT_LINE(text, RQ "_sum{endpoint=\"health_live\"} 0.0001");
	ASSERT_LINE(text, RQ "_count{endpoint=\"other\"} 1");
	ASSERT_NO_LINE_WITH(text, "endpoint=\"classify\"");
#undef RQ
	TEST_DONE();

	TEST_START("metrics: queue, inference and batch histograms");
#define RN "model=\"resnet18\",version=\"1\""
	ASSERT_LINE(text, "aiguard_queue_duration_seconds_bucket"
	    "{" RN ",le=\"0.001\"} 1");
	ASSERT_LINE(text, "aiguard_queue_duration_seconds_bucket"
	    "{" RN ",le=\"0.25\"} 1");
	ASSERT_LINE(text, "aiguard_queue_duration_seconds_bucket"
	    "{" RN ",le=\"0.5\"} 2");
	ASSERT_LINE(text, "aiguard_queue_duration_seconds_sum{" RN "} 0.5005");
	ASSERT_LINE(text, "aiguard_queue_duration_seconds_count{" RN "} 2");
	ASSERT_LINE(text, "aiguard_inference_duration_seconds_bucket"
	    "{" RN ",le=\"0.025\"} 0");
	ASSERT_LINE(text, "aiguard_inference_duration_seconds_bucket"
	    "{" RN ",le=\"0.05\"} 1");
	ASSERT_LINE(text, "aiguard_inference_duration_seconds_bucket"
	    "{" RN ",le=\"1\"} 1");
	ASSERT_LINE(text, "aiguard_inference_duration_seconds_bucket"
	    "{" RN ",le=\"2.5\"} 2");
	ASSERT_LINE(text, "aiguard_inference_duration_seconds_sum{" RN
	    "} 1.54");
	ASSERT_LINE(text, "aiguard_batch_size_bucket{" RN ",le=\"1\"} 1");
	ASSERT_LINE(text, "aiguard_batch_size_bucket{" RN ",le=\"2\"} 1");
	ASSERT_LINE(text, "aiguard_batch_size_bucket{" RN ",le=\"4\"} 2");
	ASSERT_LINE(text, "aiguard_batch_size_bucket{" RN ",le=\"32\"} 2");
	ASSERT_LINE(text, "aiguard_batch_size_bucket{" RN ",le=\"64\"} 3");
	ASSERT_LINE(text, "aiguard_batch_size_bucket{" RN ",le=\"+Inf\"} 4");
	ASSERT_LINE(text, "aiguard_batch_size_sum{" RN "} 168");
	ASSERT_LINE(text, "aiguard_batch_size_count{" RN "} 4");
	TEST_DONE();

	TEST_START("metrics: gauges and counters");
	ASSERT_LINE(text, "aiguard_inflight_requests 1");
	ASSERT_LINE(text, "aiguard_model_loaded{model=\"resnet18\","
	    "version=\"1\"} 1");
	ASSERT_LINE(text, "aiguard_model_verified{model=\"resnet18\","
	    "version=\"1\"} 1");
	ASSERT_LINE(text, "aiguard_model_info{model=\"resnet18\","
	    "version=\"1\",digest=\"sha256:0123456789abcdef\"} 1");
	ASSERT_LINE(text, "aiguard_model_reloads_total{model=\"resnet18\","
	    "result=\"ok\"} 1");
	ASSERT_LINE(text, "aiguard_model_reloads_total{model=\"resnet18\","
	    "result=\"failed\"} 2");
	ASSERT_LINE(text, "aiguard_model_load_failures_total"
	    "{model=\"resnet18\"} 1");
	ASSERT_LINE(text, "aiguard_model_verification_failures_total"
	    "{model=\"resnet18\"} 1");
	ASSERT_LINE(text, "aiguard_worker_up{" RN "} 1");
	ASSERT_LINE(text, "aiguard_worker_restarts_total"
	    "{model=\"resnet18\"} 1");
	ASSERT_LINE(text, "aiguard_sandbox_layer_active{role=\"front\","
	    "layer=\"landlock\"} 1");
	ASSERT_LINE(text, "aiguard_sandbox_layer_active{role=\"worker\","
	    "layer=\"selinux\"} 0");
	TEST_DONE();

	TEST_START("metrics: promtool check metrics, all families");
	check_promtool(text);
	TEST_DONE();

	TEST_START("metrics: a new version beside the old, then forgotten");
	free(text);
	metrics_model(m, "resnet18", "2", 0, 0, "");
	metrics_worker_up(m, "resnet18", "2", 0);
	text = render(m);
	ASSERT_LINE(text, "aiguard_model_loaded{model=\"resnet18\","
	    "version=\"2\"} 0");
	ASSERT_LINE(text, "aiguard_model_info{model=\"resnet18\","
	    "version=\"2\",digest=\"\"} 1");
	ASSERT_LINE(text, "aiguard_model_loaded{" RN "} 1");
	ASSERT_LINE(text, "aiguard_worker_up{model=\"resnet18\","
	    "version=\"2\"} 0");
	/* Its histograms from its first appearance, at zero. */
	ASSERT_LINE(text, "aiguard_batch_size_count{model=\"resnet18\","
	    "version=\"2\"} 0");
	free(text);
	metrics_model_forget(m, "resnet18", "1");
	metrics_model_forget(m, "resnet18", "9");	/* unknown: nothing */
	text = render(m);
	ASSERT_NO_LINE_WITH(text, "aiguard_model_loaded{" RN "}");
	ASSERT_NO_LINE_WITH(text, "aiguard_model_verified{" RN "}");
	ASSERT_NO_LINE_WITH(text, "aiguard_model_info{" RN ",");
	ASSERT_NO_LINE_WITH(text, "aiguard_worker_up{" RN "}");
	ASSERT_NO_LINE_WITH(text, "version=\"9\"");
	/* Its counts stay; the other version keeps everything. */
	ASSERT_LINE(text, "aiguard_batch_size_count{" RN "} 4");
	ASSERT_LINE(text, "aiguard_model_reloads_total{model=\"resnet18\","
	    "result=\"failed\"} 2");
	ASSERT_LINE(text, "aiguard_model_loaded{model=\"resnet18\","
	    "version=\"2\"} 0");
	ASSERT_LINE(text, "aiguard_worker_up{model=\"resnet18\","
	    "version=\"2\"} 0");
	check_promtool(text);
	/* Declared again: its gauges come back. */
	free(text);
	metrics_model(m, "resnet18", "1", 1, 0, "sha256:00");
	text = render(m);
	ASSERT_LINE(text, "aiguard_model_verified{" RN "} 0");
	ASSERT_LINE(text, "aiguard_model_info{" RN ",digest=\"sha256:00\"} 1");
	ASSERT_LINE(text, "aiguard_batch_size_count{" RN "} 4");
#undef RN
	TEST_DONE();
	free(text);
	metrics_free(m);
}

static void
test_codes(void)
{
	struct metrics *m = metrics_new("0.1.0");
	char *text, line[256];
	const char *a, *b;
	int i;

	ASSERT_PTR_NE(m, NULL);
	TEST_START("metrics: status codes, sorted, unknown under other");
	metrics_request(m, METRICS_EP_INFER, 503, 0.0);
	metrics_request(m, METRICS_EP_INFER, 200, 0.0);
	metrics_request(m, METRICS_EP_INFER, 200, 0.0);
	metrics_request(m, METRICS_EP_INFER, 0, 0.0);
	metrics_request(m, METRICS_EP_INFER, 99, 0.0);
	metrics_request(m, METRICS_EP_INFER, 600, 0.0);
	metrics_request(m, METRICS_EP_INFER, -200, 0.0);
	metrics_request(m, (enum metrics_endpoint)42, 404, 0.0);
	metrics_request(m, (enum metrics_endpoint)-1, 404, 0.0);
	text = render(m);
	ASSERT_LINE(text, "aiguard_http_requests_total{endpoint=\"infer\","
	    "code=\"200\"} 2");
	ASSERT_LINE(text, "aiguard_http_requests_total{endpoint=\"infer\","
	    "code=\"503\"} 1");
	ASSERT_LINE(text, "aiguard_http_requests_total{endpoint=\"infer\","
	    "code=\"other\"} 4");
	ASSERT_LINE(text, "aiguard_http_requests_total{endpoint=\"other\","
	    "code=\"404\"} 2");
	a = strstr(text, "code=\"200\"");
	b = strstr(text, "code=\"503\"");
	ASSERT_TRUE(a != NULL && b != NULL && a < b);
	ASSERT_NO_LINE_WITH(text, "code=\"0\"");
	ASSERT_NO_LINE_WITH(text, "code=\"600\"");
	free(text);
	TEST_DONE();

	TEST_START("metrics: a full code table overflows into other");
	for (i = 0; i < METRICS_CODES_MAX + 5; i++)
		metrics_request(m, METRICS_EP_CLASSIFY, 100 + i, 0.0);
	metrics_request(m, METRICS_EP_CLASSIFY, 100, 0.0);	/* known */
	text = render(m);
	snprintf(line, sizeof(line), "aiguard_http_requests_total"
	    "{endpoint=\"classify\",code=\"%d\"} 1",
	    100 + METRICS_CODES_MAX - 1);
	ASSERT_LINE(text, line);
	ASSERT_LINE(text, "aiguard_http_requests_total{endpoint="
	    "\"classify\",code=\"100\"} 2");
	ASSERT_LINE(text, "aiguard_http_requests_total{endpoint="
	    "\"classify\",code=\"other\"} 5");
	snprintf(line, sizeof(line), "code=\"%d\"", 100 + METRICS_CODES_MAX);
	ASSERT_NO_LINE_WITH(text, line);
	ASSERT_LINE(text, "aiguard_request_duration_seconds_count"
	    "{endpoint=\"classify\"} 30");
	check_promtool(text);
	free(text);
	TEST_DONE();
	metrics_free(m);
}

static void
test_escape(void)
{
	struct metrics *m = metrics_new("1.0 \"beta\"");
	char *text, big[1024], want[1024];

	ASSERT_PTR_NE(m, NULL);
	TEST_START("metrics: label values escaped");
	metrics_model(m, "a\"b\\c\nd", "v\\1", 1, 0, "\"\n\\");
	metrics_layer(m, "fr\"ont", "land\nlock", 1);
	text = render(m);
	ASSERT_LINE(text, "aiguard_build_info{version=\"1.0 \\\"beta\\\"\"} 1");
	ASSERT_LINE(text, "aiguard_model_info{model=\"a\\\"b\\\\c\\nd\","
	    "version=\"v\\\\1\",digest=\"\\\"\\n\\\\\"} 1");
	ASSERT_LINE(text, "aiguard_model_verified{model=\"a\\\"b\\\\c\\nd\","
	    "version=\"v\\\\1\"} 0");
	ASSERT_LINE(text, "aiguard_sandbox_layer_active{role=\"fr\\\"ont\","
	    "layer=\"land\\nlock\"} 1");
	check_promtool(text);
	free(text);
	TEST_DONE();

	TEST_START("metrics: invalid UTF-8 replaced, long values cut");
	/* a lone continuation, an overlong '/', a surrogate, a cut seq */
	metrics_model(m, "x\x80y\xc0\xafz\xed\xa0\x80w\xe2\x82", "\xc3\xa9",
	    1, 1, "");
	text = render(m);
	ASSERT_LINE(text, "aiguard_model_loaded{model=\"x\xef\xbf\xbdy"
	    "\xef\xbf\xbd\xef\xbf\xbdz\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdw"
	    "\xef\xbf\xbd\xef\xbf\xbd\",version=\"\xc3\xa9\"} 1");
	check_promtool(text);
	free(text);
	/* 254 bytes, then a 2-byte character that would not fit */
	memset(big, 'x', 254);
	memcpy(big + 254, "\xc3\xa9tail", 7);
	metrics_model(m, big, "1", 1, 1, "");
	text = render(m);
	memcpy(want, "aiguard_model_loaded{model=\"", 28);
	memset(want + 28, 'x', 254);
	snprintf(want + 28 + 254, sizeof(want) - 28 - 254,
	    "\",version=\"1\"} 1");
	ASSERT_LINE(text, want);
	free(text);
	TEST_DONE();
	metrics_free(m);
}

static void
test_layers(void)
{
	struct metrics *m = metrics_new("0.1.0");
	char *text, name[32], line[128];
	int i;

	ASSERT_PTR_NE(m, NULL);
	TEST_START("metrics: layer table updates and is bounded");
	for (i = 0; i < METRICS_LAYERS_MAX + 3; i++) {
		snprintf(name, sizeof(name), "layer%d", i);
		metrics_layer(m, "front", name, 1);
	}
	metrics_layer(m, "front", "layer3", 0);		/* update */
	metrics_layer(m, "worker", "layer3", 1);	/* new, dropped */
	text = render(m);
	ASSERT_LINE(text, "aiguard_sandbox_layer_active{role=\"front\","
	    "layer=\"layer3\"} 0");
	snprintf(line, sizeof(line), "aiguard_sandbox_layer_active"
	    "{role=\"front\",layer=\"layer%d\"} 1", METRICS_LAYERS_MAX - 1);
	ASSERT_LINE(text, line);
	snprintf(line, sizeof(line), "layer=\"layer%d\"", METRICS_LAYERS_MAX);
	ASSERT_NO_LINE_WITH(text, line);
	ASSERT_NO_LINE_WITH(text, "role=\"worker\"");
	free(text);
	TEST_DONE();
	metrics_free(m);
}

/* ==== Models ==== */

static void
test_models(void)
{
	struct metrics *m = metrics_new("0.1.0");
	char *text;

	ASSERT_PTR_NE(m, NULL);
	TEST_START("metrics: two models side by side, labels escaped");
#define A "model=\"alpha\",version=\"1\""
#define B "model=\"be\\\"ta\\\\x\\n\",version=\"v\\\"2\""
	metrics_model(m, "alpha", "1", 1, 1, "sha256:aa");
	metrics_model(m, "be\"ta\\x\n", "v\"2", 1, 0, "d");
	metrics_worker_up(m, "alpha", "1", 1);
	metrics_worker_up(m, "be\"ta\\x\n", "v\"2", 0);
	metrics_request_worker(m, "alpha", "1", 0.002, 0.01);
	metrics_request_worker(m, "be\"ta\\x\n", "v\"2", 0.5, 2.0);
	metrics_request_worker(m, "be\"ta\\x\n", "v\"2", 0.5, 2.0);
	metrics_batch(m, "alpha", "1", 8);
	metrics_batch(m, "be\"ta\\x\n", "v\"2", 2);
	metrics_reload(m, "alpha", 1);
	metrics_reload(m, "be\"ta\\x\n", 0);
	metrics_verify_failure(m, "be\"ta\\x\n");
	metrics_worker_restart(m, "alpha");
	/* NULL reads as "": model="" (and version=""). */
	metrics_batch(m, NULL, NULL, 3);
	metrics_model_load_failure(m, NULL);
	text = render(m);
	ASSERT_LINE(text, "aiguard_model_loaded{" A "} 1");
	ASSERT_LINE(text, "aiguard_model_loaded{" B "} 1");
	ASSERT_LINE(text, "aiguard_model_verified{" A "} 1");
	ASSERT_LINE(text, "aiguard_model_verified{" B "} 0");
	ASSERT_LINE(text, "aiguard_model_info{" A ",digest=\"sha256:aa\"} 1");
	ASSERT_LINE(text, "aiguard_model_info{" B ",digest=\"d\"} 1");
	ASSERT_LINE(text, "aiguard_worker_up{" A "} 1");
	ASSERT_LINE(text, "aiguard_worker_up{" B "} 0");
	ASSERT_LINE(text, "aiguard_queue_duration_seconds_bucket{" A
	    ",le=\"0.0025\"} 1");
	ASSERT_LINE(text, "aiguard_queue_duration_seconds_bucket{" B
	    ",le=\"0.25\"} 0");
	ASSERT_LINE(text, "aiguard_queue_duration_seconds_bucket{" B
	    ",le=\"0.5\"} 2");
	ASSERT_LINE(text, "aiguard_queue_duration_seconds_count{" A "} 1");
	ASSERT_LINE(text, "aiguard_inference_duration_seconds_sum{" A "} 0.01");
	ASSERT_LINE(text, "aiguard_inference_duration_seconds_sum{" B "} 4");
	ASSERT_LINE(text, "aiguard_batch_size_bucket{" A ",le=\"4\"} 0");
	ASSERT_LINE(text, "aiguard_batch_size_bucket{" A ",le=\"8\"} 1");
	ASSERT_LINE(text, "aiguard_batch_size_bucket{" B ",le=\"2\"} 1");
	ASSERT_LINE(text, "aiguard_batch_size_sum{" B "} 2");
	ASSERT_LINE(text, "aiguard_batch_size_sum{model=\"\",version=\"\"} 3");
	ASSERT_LINE(text, "aiguard_model_reloads_total{model=\"alpha\","
	    "result=\"ok\"} 1");
	ASSERT_LINE(text, "aiguard_model_reloads_total{model=\"alpha\","
	    "result=\"failed\"} 0");
	ASSERT_LINE(text, "aiguard_model_reloads_total{model=\"be\\\"ta\\\\x"
	    "\\n\",result=\"failed\"} 1");
	ASSERT_LINE(text, "aiguard_model_verification_failures_total"
	    "{model=\"be\\\"ta\\\\x\\n\"} 1");
	ASSERT_LINE(text, "aiguard_model_verification_failures_total"
	    "{model=\"alpha\"} 0");
	ASSERT_LINE(text, "aiguard_worker_restarts_total{model=\"alpha\"} 1");
	ASSERT_LINE(text, "aiguard_model_load_failures_total{model=\"\"} 1");
	/* A model declared has its name's counters, at 0 until counted. */
	ASSERT_LINE(text, "aiguard_model_load_failures_total{model=\"alpha\"} 0");
	ASSERT_LINE(text, "aiguard_worker_restarts_total{model=\"be\\\"ta"
	    "\\\\x\\n\"} 0");
	/* Only the pairs declared have gauges. */
	ASSERT_INT_EQ(count_of(text, "\naiguard_model_loaded{"), 2);
	ASSERT_INT_EQ(count_of(text, "\naiguard_worker_up{"), 2);
	ASSERT_INT_EQ(count_of(text, "\naiguard_batch_size_count{"), 3);
	ASSERT_INT_EQ(count_of(text, "\naiguard_worker_restarts_total{"), 3);
	ASSERT_NO_LINE_WITH(text, "be\"ta");
	check_promtool(text);
	free(text);
#undef A
#undef B
	TEST_DONE();
	metrics_free(m);
}

static void
test_models_full(void)
{
	struct metrics *m = metrics_new("0.1.0");
	char *text, name[32], line[256];
	int i;

	ASSERT_PTR_NE(m, NULL);
	TEST_START("metrics: past METRICS_MODELS_MAX pairs, model=\"(other)\"");
	for (i = 0; i <= METRICS_MODELS_MAX; i++) {
		/* the last one lands in "(other)" */
		snprintf(name, sizeof(name), "m%d", i);
		metrics_model(m, name, "1", 1, 1, "");
		metrics_worker_up(m, name, "1", 1);
		metrics_batch(m, name, "1", 1);
		metrics_reload(m, name, 1);
	}
	metrics_batch(m, "m0", "1", 1);			/* known */
	metrics_batch(m, "m0", "2", 4);			/* a new pair */
	metrics_request_worker(m, "m0", "3", 0.1, 0.1);	/* another */
	metrics_batch(m, "(other)", "7", 2);		/* never its own */
	text = render(m);
	ASSERT_LINE(text, "aiguard_batch_size_count{model=\"m0\","
	    "version=\"1\"} 2");
	snprintf(line, sizeof(line), "aiguard_model_loaded{model=\"m%d\","
	    "version=\"1\"} 1", METRICS_MODELS_MAX - 1);
	ASSERT_LINE(text, line);
	snprintf(line, sizeof(line), "model=\"m%d\"", METRICS_MODELS_MAX);
	ASSERT_NO_LINE_WITH(text, line);
	ASSERT_NO_LINE_WITH(text, "version=\"2\"");
	ASSERT_NO_LINE_WITH(text, "version=\"3\"");
	ASSERT_NO_LINE_WITH(text, "version=\"7\"");
	ASSERT_LINE(text, "aiguard_batch_size_count{model=\"(other)\","
	    "version=\"\"} 3");
	ASSERT_LINE(text, "aiguard_batch_size_sum{model=\"(other)\","
	    "version=\"\"} 7");
	ASSERT_LINE(text, "aiguard_queue_duration_seconds_count"
	    "{model=\"(other)\",version=\"\"} 1");
	ASSERT_LINE(text, "aiguard_model_reloads_total{model=\"(other)\","
	    "result=\"ok\"} 1");
	/* No gauges for "(other)": it stands for many. */
	ASSERT_NO_LINE_WITH(text, "aiguard_model_loaded{model=\"(other)\"");
	ASSERT_NO_LINE_WITH(text, "aiguard_worker_up{model=\"(other)\"");
	ASSERT_INT_EQ(count_of(text, "\naiguard_model_loaded{"),
	    METRICS_MODELS_MAX);
	ASSERT_INT_EQ(count_of(text, "\naiguard_batch_size_count{"),
	    METRICS_MODELS_MAX + 1);
	ASSERT_INT_EQ(count_of(text, "\naiguard_worker_restarts_total{"),
	    METRICS_MODELS_MAX + 1);
	check_promtool(text);
	free(text);
	TEST_DONE();

	TEST_START("metrics: a full table reuses a forgotten pair's slot");
	metrics_model_forget(m, "m5", "1");
	metrics_batch(m, "new", "1", 3);	/* takes m5's slot */
	text = render(m);
	ASSERT_LINE(text, "aiguard_batch_size_count{model=\"new\","
	    "version=\"1\"} 1");
	ASSERT_NO_LINE_WITH(text, "model=\"m5\",version");
	/* Not declared: histograms, no gauges. */
	ASSERT_NO_LINE_WITH(text, "aiguard_model_loaded{model=\"new\"");
	/* m5's name keeps its counters until a name needs the slot. */
	ASSERT_LINE(text, "aiguard_model_reloads_total{model=\"m5\","
	    "result=\"ok\"} 1");
	free(text);
	/* "new" was never declared: the next new pair takes its slot. */
	metrics_model(m, "newest", "1", 1, 0, "");
	metrics_batch(m, "newer", "1", 3);	/* none free: "(other)" */
	metrics_worker_restart(m, "newest");	/* takes m5's name slot */
	metrics_worker_restart(m, "x");		/* none free: "(other)" */
	text = render(m);
	ASSERT_NO_LINE_WITH(text, "model=\"new\"");
	ASSERT_NO_LINE_WITH(text, "model=\"newer\"");
	ASSERT_NO_LINE_WITH(text, "model=\"m5\"");
	ASSERT_NO_LINE_WITH(text, "model=\"x\"");
	ASSERT_LINE(text, "aiguard_model_loaded{model=\"newest\","
	    "version=\"1\"} 1");
	ASSERT_LINE(text, "aiguard_batch_size_count{model=\"newest\","
	    "version=\"1\"} 0");
	ASSERT_LINE(text, "aiguard_batch_size_count{model=\"(other)\","
	    "version=\"\"} 4");
	ASSERT_LINE(text, "aiguard_worker_restarts_total{model=\"newest\"} 1");
	ASSERT_LINE(text, "aiguard_worker_restarts_total{model=\"(other)\"} 1");
	ASSERT_INT_EQ(count_of(text, "\naiguard_model_loaded{"),
	    METRICS_MODELS_MAX);
	ASSERT_INT_EQ(count_of(text, "\naiguard_batch_size_count{"),
	    METRICS_MODELS_MAX + 1);
	ASSERT_INT_EQ(count_of(text, "\naiguard_worker_restarts_total{"),
	    METRICS_MODELS_MAX + 1);
	check_promtool(text);
	free(text);
	TEST_DONE();
	metrics_free(m);
}

/* ==== Front door ==== */

#define AF "aiguard_auth_failures_total"
#define RL "aiguard_rate_limited_total"
#define TR "aiguard_token_requests_total"
#define TL "aiguard_token_rate_limited_total"

static void
test_auth(void)
{
	struct metrics *m = metrics_new("0.1.0");
	char *text;
	int i;

	ASSERT_PTR_NE(m, NULL);
	TEST_START("metrics: auth failures by reason, fixed labels at 0");
	text = render(m);
	ASSERT_LINE(text, "# TYPE " AF " counter");
	ASSERT_LINE(text, AF "{reason=\"missing\"} 0");
	ASSERT_LINE(text, AF "{reason=\"invalid\"} 0");
	ASSERT_LINE(text, AF "{reason=\"certificate\"} 0");
	ASSERT_LINE(text, AF "{reason=\"forbidden\"} 0");
	ASSERT_LINE(text, "# TYPE " TR " counter");
	ASSERT_LINE(text, "# TYPE " TL " counter");
	ASSERT_NO_LINE_WITH(text, TR "{");
	ASSERT_NO_LINE_WITH(text, TL "{");
	free(text);
	metrics_auth_failure(m, METRICS_AUTH_MISSING);
	for (i = 0; i < 2; i++)
		metrics_auth_failure(m, METRICS_AUTH_INVALID);
	for (i = 0; i < 3; i++)
		metrics_auth_failure(m, METRICS_AUTH_CERTIFICATE);
	for (i = 0; i < 4; i++)
		metrics_auth_failure(m, METRICS_AUTH_FORBIDDEN);
	/* Out of range and NULL: nothing. */
	metrics_auth_failure(m, METRICS_AUTH__COUNT);
	metrics_auth_failure(m, (enum metrics_auth)-1);
	metrics_auth_failure(NULL, METRICS_AUTH_MISSING);
	text = render(m);
	ASSERT_LINE(text, AF "{reason=\"missing\"} 1");
	ASSERT_LINE(text, AF "{reason=\"invalid\"} 2");
	ASSERT_LINE(text, AF "{reason=\"certificate\"} 3");
	ASSERT_LINE(text, AF "{reason=\"forbidden\"} 4");
	ASSERT_INT_EQ(count_of(text, "\n" AF "{"), 4);
	check_promtool(text);
	free(text);
	TEST_DONE();
	metrics_free(m);
}

static void
test_rate_limited(void)
{
	struct metrics *m = metrics_new("0.1.0");
	char *text;

	ASSERT_PTR_NE(m, NULL);
	TEST_START("metrics: rate limited by address and by token");
	text = render(m);
	ASSERT_LINE(text, RL "{by=\"address\",limit=\"requests\"} 0");
	ASSERT_LINE(text, RL "{by=\"address\",limit=\"images\"} 0");
	ASSERT_LINE(text, RL "{by=\"address\",limit=\"inflight\"} 0");
	ASSERT_LINE(text, RL "{by=\"token\",limit=\"requests\"} 0");
	ASSERT_LINE(text, RL "{by=\"token\",limit=\"images\"} 0");
	ASSERT_LINE(text, RL "{by=\"token\",limit=\"inflight\"} 0");
	free(text);
	metrics_rate_limited(m, NULL, METRICS_LIMIT_REQUESTS);
	metrics_rate_limited(m, NULL, METRICS_LIMIT_REQUESTS);
	metrics_rate_limited(m, NULL, METRICS_LIMIT_IMAGES);
	metrics_rate_limited(m, "ci-bot", METRICS_LIMIT_IMAGES);
	metrics_rate_limited(m, "ci-bot", METRICS_LIMIT_IMAGES);
	metrics_rate_limited(m, "ci-bot", METRICS_LIMIT_INFLIGHT);
	metrics_rate_limited(m, "alice", METRICS_LIMIT_REQUESTS);
	/* Out of range and NULL: nothing, and no token entry made. */
	metrics_rate_limited(m, "mallory", METRICS_LIMIT__COUNT);
	metrics_rate_limited(m, "mallory", (enum metrics_limit)-1);
	metrics_rate_limited(NULL, "alice", METRICS_LIMIT_REQUESTS);
	text = render(m);
	ASSERT_LINE(text, RL "{by=\"address\",limit=\"requests\"} 2");
	ASSERT_LINE(text, RL "{by=\"address\",limit=\"images\"} 1");
	ASSERT_LINE(text, RL "{by=\"address\",limit=\"inflight\"} 0");
	ASSERT_LINE(text, RL "{by=\"token\",limit=\"requests\"} 1");
	ASSERT_LINE(text, RL "{by=\"token\",limit=\"images\"} 2");
	ASSERT_LINE(text, RL "{by=\"token\",limit=\"inflight\"} 1");
	/* A limited token shows all three limits, zeros included. */
	ASSERT_LINE(text, TL "{token=\"ci-bot\",limit=\"requests\"} 0");
	ASSERT_LINE(text, TL "{token=\"ci-bot\",limit=\"images\"} 2");
	ASSERT_LINE(text, TL "{token=\"ci-bot\",limit=\"inflight\"} 1");
	ASSERT_LINE(text, TL "{token=\"alice\",limit=\"requests\"} 1");
	ASSERT_LINE(text, TL "{token=\"alice\",limit=\"images\"} 0");
	ASSERT_INT_EQ(count_of(text, "\n" TL "{"), 6);
	ASSERT_NO_LINE_WITH(text, "mallory");
	/* Limited, but no request finished yet: no request series. */
	ASSERT_NO_LINE_WITH(text, TR "{");
	check_promtool(text);
	free(text);
	TEST_DONE();
	metrics_free(m);
}

static void
test_token_requests(void)
{
	struct metrics *m = metrics_new("0.1.0");
	char *text, line[256];
	const char *a, *b;
	int i;

	ASSERT_PTR_NE(m, NULL);
	TEST_START("metrics: token requests per code, bounded codes");
	metrics_token_request(m, "alice", 200);
	metrics_token_request(m, "alice", 200);
	metrics_token_request(m, "alice", 429);
	metrics_token_request(m, "alice", 0);
	metrics_token_request(m, "alice", 600);
	metrics_token_request(m, "bob", 403);
	metrics_token_request(m, NULL, 200);		/* no token: nothing */
	metrics_token_request(NULL, "alice", 200);
	/* carol sees more codes than a token keeps */
	for (i = 0; i < METRICS_TOKEN_CODES_MAX + 3; i++)
		metrics_token_request(m, "carol", 500 + i);
	metrics_token_request(m, "carol", 500);		/* known */
	text = render(m);
	ASSERT_LINE(text, TR "{token=\"alice\",code=\"200\"} 2");
	ASSERT_LINE(text, TR "{token=\"alice\",code=\"429\"} 1");
	ASSERT_LINE(text, TR "{token=\"alice\",code=\"other\"} 2");
	ASSERT_LINE(text, TR "{token=\"bob\",code=\"403\"} 1");
	ASSERT_NO_LINE_WITH(text, "token=\"bob\",code=\"other\"");
	a = strstr(text, TR "{token=\"alice\",code=\"200\"}");
	b = strstr(text, TR "{token=\"alice\",code=\"429\"}");
	ASSERT_TRUE(a != NULL && b != NULL && a < b);
	ASSERT_LINE(text, TR "{token=\"carol\",code=\"500\"} 2");
	snprintf(line, sizeof(line), TR "{token=\"carol\",code=\"%d\"} 1",
	    500 + METRICS_TOKEN_CODES_MAX - 1);
	ASSERT_LINE(text, line);
	snprintf(line, sizeof(line), "code=\"%d\"",
	    500 + METRICS_TOKEN_CODES_MAX);
	ASSERT_NO_LINE_WITH(text, line);
	ASSERT_LINE(text, TR "{token=\"carol\",code=\"other\"} 3");
	ASSERT_INT_EQ(count_of(text, "\n" TR "{"),
	    3 + 1 + METRICS_TOKEN_CODES_MAX + 1);
	/* Not rate limited: no per-token limit series. */
	ASSERT_NO_LINE_WITH(text, TL "{");
	/* The endpoint counters are a separate family. */
	ASSERT_NO_LINE_WITH(text, "aiguard_http_requests_total{");
	check_promtool(text);
	free(text);
	TEST_DONE();
	metrics_free(m);
}

static void
test_token_overflow(void)
{
	struct metrics *m = metrics_new("0.1.0");
	char *text, name[32], line[256];
	int i;

	ASSERT_PTR_NE(m, NULL);
	TEST_START("metrics: past METRICS_TOKENS_MAX names, token=\"(other)\"");
	for (i = 0; i < METRICS_TOKENS_MAX + 5; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		metrics_token_request(m, name, 200);
	}
	metrics_token_request(m, "t0", 200);		/* known: its own */
	metrics_rate_limited(m, "t1030", METRICS_LIMIT_IMAGES); /* new */
	/* Never a name of their own: empty, and "(other)" itself. */
	metrics_token_request(m, "", 200);
	metrics_token_request(m, "(other)", 401);
	text = render(m);
	ASSERT_LINE(text, TR "{token=\"t0\",code=\"200\"} 2");
	snprintf(line, sizeof(line), TR "{token=\"t%d\",code=\"200\"} 1",
	    METRICS_TOKENS_MAX - 1);
	ASSERT_LINE(text, line);
	snprintf(line, sizeof(line), "token=\"t%d\"", METRICS_TOKENS_MAX);
	ASSERT_NO_LINE_WITH(text, line);
	ASSERT_NO_LINE_WITH(text, "token=\"t1030\"");
	ASSERT_NO_LINE_WITH(text, "token=\"\"");
	ASSERT_LINE(text, TR "{token=\"(other)\",code=\"200\"} 6");
	ASSERT_LINE(text, TR "{token=\"(other)\",code=\"401\"} 1");
	ASSERT_LINE(text, TL "{token=\"(other)\",limit=\"images\"} 1");
	ASSERT_LINE(text, TL "{token=\"(other)\",limit=\"requests\"} 0");
	ASSERT_LINE(text, RL "{by=\"token\",limit=\"images\"} 1");
	ASSERT_INT_EQ(count_of(text, "\n" TR "{"), METRICS_TOKENS_MAX + 2);
	ASSERT_INT_EQ(count_of(text, "{token=\"(other)\""), 2 + 3);
	check_promtool(text);
	free(text);
	TEST_DONE();
	metrics_free(m);
}

static void
test_token_names(void)
{
	struct metrics *m = metrics_new("0.1.0");
	char *text, big[128], want[256];

	ASSERT_PTR_NE(m, NULL);
	TEST_START("metrics: token names cleaned, cut and escaped");
	/* a quote, a backslash, a newline, a lone continuation byte */
	metrics_token_request(m, "a\"b\\c\nd\x80" "e", 200);
	metrics_rate_limited(m, "a\"b\\c\nd\x80" "e", METRICS_LIMIT_INFLIGHT);
	text = render(m);
	ASSERT_LINE(text, TR "{token=\"a\\\"b\\\\c\\nd\xef\xbf\xbd" "e\","
	    "code=\"200\"} 1");
	ASSERT_LINE(text, TL "{token=\"a\\\"b\\\\c\\nd\xef\xbf\xbd" "e\","
	    "limit=\"inflight\"} 1");
	ASSERT_NO_LINE_WITH(text, "\x80");
	check_promtool(text);
	free(text);
	/*
	 * Two names alike in their first 63 bytes are one token (the token
	 * file's names are shorter); the cut never splits a character.
	 */
	memset(big, 'n', 62);
	memcpy(big + 62, "\xc3\xa9-one", 7);
	metrics_token_request(m, big, 204);
	memcpy(big + 62, "\xc3\xa9-two", 7);
	metrics_token_request(m, big, 204);
	text = render(m);
	memcpy(want, TR "{token=\"", sizeof(TR) - 1 + 8);
	memset(want + sizeof(TR) - 1 + 8, 'n', 62);
	snprintf(want + sizeof(TR) - 1 + 8 + 62,
	    sizeof(want) - (sizeof(TR) - 1 + 8 + 62),
	    "\",code=\"204\"} 2");
	ASSERT_LINE(text, want);
	ASSERT_NO_LINE_WITH(text, "\xc3\xa9");
	free(text);
	TEST_DONE();
	metrics_free(m);
}

/*
 * Parses one label set at *pp (just past the '{'), up to and past the
 * '}'.  Label values named "token" are skipped; any other byte of the set
 * goes to rest.  Returns 0, or -1 on a syntax error.
 */
static int
parse_labels(const char **pp, char *rest, size_t restsz, size_t *ro)
{
	const char *p = *pp, *n;
	int token;

	for (;;) {
		n = p;
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    *p == '_'))
			return -1;
		while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' &&
		    *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_')
			p++;
		token = p - n == 5 && strncmp(n, "token", 5) == 0;
		if (p[0] != '=' || p[1] != '"')
			return -1;
		for (p += 2; *p != '"'; p++) {
			if (*p == '\0' || *p == '\n')
				return -1;
			if (*p == '\\') {
				if (p[1] != '\\' && p[1] != '"' && p[1] != 'n')
					return -1;
				if (!token && *ro + 2 < restsz) {
					rest[(*ro)++] = p[0];
					rest[(*ro)++] = p[1];
				}
				p++;
			} else if (!token && *ro + 1 < restsz)
				rest[(*ro)++] = *p;
		}
		p++;
		if (*p == '}') {
			*pp = p + 1;
			rest[*ro] = '\0';
			return 0;
		}
		if (*p++ != ',')
			return -1;
	}
}

/*
 * Every line of text is a HELP, a TYPE or a sample of the family last
 * typed, and needle occurs only inside token="..." values.  Returns the
 * number of samples, or -1 (after printing the line) on the first bad one.
 */
static int
check_lines(const char *text, const char *needle)
{
	char line[1024], family[128] = "", rest[1024], *sp;
	const char *p = text, *e, *q;
	size_t n, ro;
	int samples = 0;

	for (; *p != '\0'; p = e + 1) {
		if ((e = strchr(p, '\n')) == NULL || (n = (size_t)(e - p)) == 0 ||
		    n >= sizeof(line))
			goto bad;
		memcpy(line, p, n);
		line[n] = '\0';
		if (strncmp(line, "# HELP aiguard_", 15) == 0) {
			if (strstr(line, needle) != NULL)
				goto bad;
			continue;
		}
		if (strncmp(line, "# TYPE aiguard_", 15) == 0) {
			if ((sp = strchr(line + 7, ' ')) == NULL ||
			    (strcmp(sp, " counter") != 0 &&
			    strcmp(sp, " gauge") != 0 &&
			    strcmp(sp, " histogram") != 0) ||
			    (size_t)(sp - line - 7) >= sizeof(family))
				goto bad;
			memcpy(family, line + 7, (size_t)(sp - line - 7));
			family[sp - line - 7] = '\0';
			if (strstr(family, needle) != NULL)
				goto bad;
			continue;
		}
		/* A sample: name[{labels}] value */
		n = strlen(family);
		if (n == 0 || strncmp(line, family, n) != 0)
			goto bad;
		for (q = line + n; (*q >= 'a' && *q <= 'z') || *q == '_'; q++)
			;
		/* the family itself, or a histogram's own series */
		if (!(q == line + n ||
		    (q - line - n == 7 && strncmp(line + n, "_bucket", 7) == 0) ||
		    (q - line - n == 4 && strncmp(line + n, "_sum", 4) == 0) ||
		    (q - line - n == 6 && strncmp(line + n, "_count", 6) == 0)))
			goto bad;
		ro = 0;
		rest[0] = '\0';
		if (*q == '{' && (q++, parse_labels(&q, rest, sizeof(rest),
		    &ro) != 0))
			goto bad;
		if (strstr(rest, needle) != NULL || *q++ != ' ' || *q == '\0')
			goto bad;
		for (; *q != '\0'; q++)
			if (!((*q >= '0' && *q <= '9') || *q == '.' || *q == '-'))
				goto bad;
		samples++;
	}
	return samples;
 bad:
	fprintf(stderr, "bad exposition line: %.*s\n",
	    e != NULL ? (int)(e - p) : (int)strlen(p), p);
	return -1;
}

static void
test_token_full(void)
{
	struct metrics *m = full_metrics();
	char *text, name[32], line[256];
	size_t len;
	int i, k, samples;

	TEST_START("metrics: a full token table renders, parses, lints");
	for (i = 0; i <= METRICS_TOKENS_MAX; i++) {
		/* the last one lands in "(other)" */
		snprintf(name, sizeof(name), "tok-%04d", i);
		for (k = 0; k <= METRICS_TOKEN_CODES_MAX; k++)
			metrics_token_request(m, name, 200 + k);
		metrics_token_request(m, name, 0);
		for (k = 0; k < METRICS_LIMIT__COUNT; k++)
			metrics_rate_limited(m, name, (enum metrics_limit)k);
	}
	for (k = 0; k < METRICS_AUTH__COUNT; k++)
		metrics_auth_failure(m, (enum metrics_auth)k);
	text = render(m);
	len = strlen(text);
	/* 1025 names x 13 series, 3 more each: far past the first 8 KB. */
	ASSERT_INT_GT(len, (METRICS_TOKENS_MAX + 1) *
	    (METRICS_TOKEN_CODES_MAX + 1 + METRICS_LIMIT__COUNT) * 50);
	snprintf(line, sizeof(line), TR "{token=\"tok-%04d\",code=\"other\"} 2",
	    METRICS_TOKENS_MAX - 1);
	ASSERT_LINE(text, line);
	ASSERT_LINE(text, TR "{token=\"(other)\",code=\"other\"} 2");
	ASSERT_LINE(text, TL "{token=\"(other)\",limit=\"inflight\"} 1");
	snprintf(line, sizeof(line), RL "{by=\"token\",limit=\"images\"} %d",
	    METRICS_TOKENS_MAX + 1);
	ASSERT_LINE(text, line);
	ASSERT_INT_EQ(count_of(text, "\n" TR "{"), (METRICS_TOKENS_MAX + 1) *
	    (METRICS_TOKEN_CODES_MAX + 1));
	ASSERT_INT_EQ(count_of(text, "\n" TL "{"), (METRICS_TOKENS_MAX + 1) *
	    METRICS_LIMIT__COUNT);
	/* The line checker itself: it accepts and refuses. */
	ASSERT_INT_EQ(check_lines("# TYPE aiguard_x counter\n"
	    "aiguard_x{token=\"tok-1\",code=\"200\"} 1\n", "tok-"), 1);
	ASSERT_INT_EQ(check_lines("# TYPE aiguard_x counter\n"
	    "aiguard_x{token=\"a\",code=\"tok-1\"} 1\n", "tok-"), -1);
	ASSERT_INT_EQ(check_lines("# TYPE aiguard_x counter\n"
	    "aiguard_x{token=\"a\\q\"} 1\n", "tok-"), -1);
	ASSERT_INT_EQ(check_lines("# TYPE aiguard_x counter\n"
	    "aiguard_y 1\n", "tok-"), -1);
	ASSERT_INT_EQ(check_lines("# HELP aiguard_x tok-1\n", "tok-"), -1);
	ASSERT_INT_EQ(check_lines("aiguard_x 1", "tok-"), -1);
	/* Every line well formed; names only as token="..." values. */
	samples = check_lines(text, "tok-");
	ASSERT_INT_GT(samples, (METRICS_TOKENS_MAX + 1) *
	    (METRICS_TOKEN_CODES_MAX + 1 + METRICS_LIMIT__COUNT));
	ASSERT_INT_EQ(count_of(text, "tok-"), METRICS_TOKENS_MAX *
	    (METRICS_TOKEN_CODES_MAX + 1 + METRICS_LIMIT__COUNT));
	ASSERT_INT_EQ(count_of(text, "token=\"tok-"), METRICS_TOKENS_MAX *
	    (METRICS_TOKEN_CODES_MAX + 1 + METRICS_LIMIT__COUNT));
	check_promtool(text);
	free(text);
	TEST_DONE();
	metrics_free(m);
}

#undef AF
#undef RL
#undef TR
#undef TL

/* ==== Concurrency ==== */

#define CC_THREADS	4
#define CC_REQUESTS	10000

/* Threads 0 and 2 record for model "m0", 1 and 3 for "m1". */
struct cc_arg {
	struct metrics	*ca_m;
	const char	*ca_model;
};

static void *
cc_worker(void *arg)
{
	const struct cc_arg *ca = arg;
	struct metrics *m = ca->ca_m;
	int i;

	for (i = 0; i < CC_REQUESTS; i++) {
		metrics_inflight(m, 1);
		metrics_request_worker(m, ca->ca_model, "1", 0.001, 0.002);
		metrics_batch(m, ca->ca_model, "1", 1 + i % 8);
		metrics_request(m, METRICS_EP_INFER, i % 2 ? 200 : 429,
		    0.002);
		metrics_inflight(m, -1);
	}
	return NULL;
}

static void *
cc_renderer(void *arg)
{
	struct metrics *m = arg;
	char *text;
	size_t len;
	int i;

	for (i = 0; i < 200; i++) {
		if (metrics_render(m, &text, &len) != 0)
			return arg;
		free(text);
	}
	return NULL;
}

static void
test_concurrency(void)
{
	struct metrics *m = metrics_new("0.1.0");
	pthread_t th[CC_THREADS], rth;
	struct cc_arg ca[CC_THREADS];
	char *text, line[256];
	void *rv;
	int i, k;

	ASSERT_PTR_NE(m, NULL);
	TEST_START("metrics: 4 threads x 10000 requests, exact totals");
	ASSERT_INT_EQ(pthread_create(&rth, NULL, cc_renderer, m), 0);
	for (i = 0; i < CC_THREADS; i++) {
		ca[i].ca_m = m;
		ca[i].ca_model = i % 2 ? "m1" : "m0";
		ASSERT_INT_EQ(pthread_create(&th[i], NULL, cc_worker, &ca[i]),
		    0);
	}
	for (i = 0; i < CC_THREADS; i++)
		ASSERT_INT_EQ(pthread_join(th[i], NULL), 0);
	ASSERT_INT_EQ(pthread_join(rth, &rv), 0);
	ASSERT_PTR_EQ(rv, NULL);
	text = render(m);
	snprintf(line, sizeof(line), "aiguard_http_requests_total"
	    "{endpoint=\"infer\",code=\"200\"} %d",
	    CC_THREADS * CC_REQUESTS / 2);
	ASSERT_LINE(text, line);
	snprintf(line, sizeof(line), "aiguard_http_requests_total"
	    "{endpoint=\"infer\",code=\"429\"} %d",
	    CC_THREADS * CC_REQUESTS / 2);
	ASSERT_LINE(text, line);
	snprintf(line, sizeof(line), "aiguard_request_duration_seconds_count"
	    "{endpoint=\"infer\"} %d", CC_THREADS * CC_REQUESTS);
	ASSERT_LINE(text, line);
	/* 40000 x 2 ms, summed in integer nanoseconds: exactly 80 s. */
	ASSERT_LINE(text, "aiguard_request_duration_seconds_sum"
	    "{endpoint=\"infer\"} 80");
	/* Per model: 20000 x 1 ms and 20000 x 2 ms. */
	for (k = 0; k < 2; k++) {
		snprintf(line, sizeof(line), "aiguard_queue_duration_seconds_sum"
		    "{model=\"m%d\",version=\"1\"} 20", k);
		ASSERT_LINE(text, line);
		snprintf(line, sizeof(line), "aiguard_inference_duration_"
		    "seconds_sum{model=\"m%d\",version=\"1\"} 40", k);
		ASSERT_LINE(text, line);
		snprintf(line, sizeof(line), "aiguard_batch_size_count"
		    "{model=\"m%d\",version=\"1\"} %d", k,
		    CC_THREADS / 2 * CC_REQUESTS);
		ASSERT_LINE(text, line);
		/* 1..8 evenly: 4.5 per batch */
		snprintf(line, sizeof(line), "aiguard_batch_size_sum"
		    "{model=\"m%d\",version=\"1\"} %d", k,
		    CC_THREADS / 2 * CC_REQUESTS / 2 * 9);
		ASSERT_LINE(text, line);
	}
	ASSERT_LINE(text, "aiguard_inflight_requests 0");
	free(text);
	TEST_DONE();
	metrics_free(m);
}

/* ==== Locale ==== */

static void
test_locale(void)
{
	static const char *const locs[] = {
		"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8",
	};
	struct metrics *m;
	char *text;
	size_t i;

	TEST_START("metrics: numbers ignore LC_NUMERIC");
	/*
	 * scripts/install-deps generates de_DE.UTF-8: without a comma-decimal
	 * locale this case would prove nothing, so its absence fails.
	 */
	for (i = 0; i < sizeof(locs) / sizeof(locs[0]); i++)
		if (setlocale(LC_NUMERIC, locs[i]) != NULL)
			break;
	ASSERT_INT_LT(i, sizeof(locs) / sizeof(locs[0]));
	/* The locale in force really writes a comma: the case can fail. */
	{
		char probe[16];

		(void)snprintf(probe, sizeof(probe), "%.1f", 1.5);
		ASSERT_STRING_EQ(probe, "1,5");
	}
	m = full_metrics();
	text = render(m);
	ASSERT_LINE(text, "aiguard_request_duration_seconds_sum"
	    "{endpoint=\"infer\"} 20.204");
	ASSERT_LINE(text, "aiguard_inference_duration_seconds_sum"
	    "{model=\"resnet18\",version=\"1\"} 1.54");
	ASSERT_STRING_CONTAINS(text, "le=\"0.0025\"");
	ASSERT_NO_LINE_WITH(text, "0,");
	setlocale(LC_NUMERIC, "C");
	free(text);
	metrics_free(m);
	TEST_DONE();
}

void
tests(void)
{
	test_plan(23);
	test_empty();
	test_histograms();
	test_models();
	test_models_full();
	test_codes();
	test_escape();
	test_layers();
	test_auth();
	test_rate_limited();
	test_token_requests();
	test_token_overflow();
	test_token_names();
	test_token_full();
	test_concurrency();
	test_locale();
}
