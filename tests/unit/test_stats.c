/* SPDX-License-Identifier: ISC */
/*
 * test_stats.c: http/stats.c, the statistics extension's counts of one
 * model version: a fresh object with every key of Triton's shape and
 * nothing else, requests and a failure adding up, bad durations, the
 * executions by batch size with sizes out of range ignored, names that
 * are not UTF-8, exact totals from four threads with a reader beside
 * them, and the JSON round trip.
 */
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "http/stats.h"
#include "test_helper.h"

/* ==== Helpers ==== */

static const char *const dur_keys[] = {
	"success", "fail", "queue", "compute_input", "compute_infer",
	"compute_output", "cache_hit", "cache_miss",
};
#define NDUR	(sizeof(dur_keys) / sizeof(dur_keys[0]))

static json_t *
xjson(const struct model_stats *st, const char *name, const char *version)
{
	json_t *j;

	if ((j = stats_json(st, name, version)) == NULL)
		test_die("stats_json");
	return j;
}

/* The integer o.key, or -1 when it is missing or not an integer. */
static long long
int_at(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

/* inference_stats.key.field ("count" or "ns"), or -1. */
static long long
dur_at(const json_t *j, const char *key, const char *field)
{
	const json_t *is = json_object_get(j, "inference_stats");

	return int_at(json_object_get(is, key), field);
}

/* Whether d is exactly {"count":I,"ns":I}. */
static int
is_duration(const json_t *d)
{
	return json_is_object(d) && json_object_size(d) == 2 &&
	    json_is_integer(json_object_get(d, "count")) &&
	    json_is_integer(json_object_get(d, "ns"));
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ==== Cases ==== */

static void
test_fresh(void)
{
	struct model_stats *st;
	const json_t *is, *d;
	json_t *j;
	size_t i;

	TEST_START("stats: a fresh object has every key, at zero");
	st = stats_new();
	ASSERT_PTR_NE(st, NULL);
	j = xjson(st, "resnet18", "3");
	ASSERT_INT_EQ(json_object_size(j), 7);
	ASSERT_STRING_EQ(json_string_value(json_object_get(j, "name")),
	    "resnet18");
	ASSERT_STRING_EQ(json_string_value(json_object_get(j, "version")),
	    "3");
	ASSERT_INT_EQ(int_at(j, "last_inference"), 0);
	ASSERT_INT_EQ(int_at(j, "inference_count"), 0);
	ASSERT_INT_EQ(int_at(j, "execution_count"), 0);
	is = json_object_get(j, "inference_stats");
	ASSERT_TRUE(json_is_object(is));
	ASSERT_INT_EQ(json_object_size(is), NDUR);
	for (i = 0; i < NDUR; i++) {
		d = json_object_get(is, dur_keys[i]);
		ASSERT_TRUE(is_duration(d));
		ASSERT_INT_EQ(int_at(d, "count"), 0);
		ASSERT_INT_EQ(int_at(d, "ns"), 0);
	}
	ASSERT_TRUE(json_is_array(json_object_get(j, "batch_stats")));
	ASSERT_INT_EQ(json_array_size(json_object_get(j, "batch_stats")), 0);
	json_decref(j);
	stats_free(st);
	TEST_DONE();

	TEST_START("stats: NULL object, NULL names");
	stats_request(NULL, 1, 1, 1.0, 1.0, 1.0, 1.0, 1.0);
	stats_execution(NULL, 1, 0.001);
	stats_free(NULL);
	ASSERT_PTR_EQ(stats_json(NULL, "a", "1"), NULL);
	st = stats_new();
	ASSERT_PTR_NE(st, NULL);
	j = xjson(st, NULL, NULL);
	ASSERT_STRING_EQ(json_string_value(json_object_get(j, "name")), "");
	ASSERT_STRING_EQ(json_string_value(json_object_get(j, "version")),
	    "");
	json_decref(j);
	stats_free(st);
	TEST_DONE();
}

static void
test_requests(void)
{
	struct model_stats *st = stats_new();
	long long t0, t1, last;
	json_t *j;

	ASSERT_PTR_NE(st, NULL);
	TEST_START("stats: ok requests add up in every duration");
	t0 = now_ms();
	stats_request(st, 1, 1, 0.010, 0.001, 0.002, 0.005, 0.0005);
	stats_request(st, 1, 2, 0.020, 0.002, 0.004, 0.010, 0.0015);
	stats_request(st, 1, 4, 1.5, 0.25, 0.125, 1.0, 0.000000001);
	t1 = now_ms();
	j = xjson(st, "m", "1");
	ASSERT_INT_EQ(dur_at(j, "success", "count"), 3);
	ASSERT_INT_EQ(dur_at(j, "success", "ns"), 1530000000LL);
	ASSERT_INT_EQ(dur_at(j, "queue", "count"), 3);
	ASSERT_INT_EQ(dur_at(j, "queue", "ns"), 253000000LL);
	ASSERT_INT_EQ(dur_at(j, "compute_input", "count"), 3);
	ASSERT_INT_EQ(dur_at(j, "compute_input", "ns"), 131000000LL);
	ASSERT_INT_EQ(dur_at(j, "compute_infer", "count"), 3);
	ASSERT_INT_EQ(dur_at(j, "compute_infer", "ns"), 1015000000LL);
	ASSERT_INT_EQ(dur_at(j, "compute_output", "count"), 3);
	ASSERT_INT_EQ(dur_at(j, "compute_output", "ns"), 2000001LL);
	ASSERT_INT_EQ(dur_at(j, "fail", "count"), 0);
	ASSERT_INT_EQ(dur_at(j, "cache_hit", "count"), 0);
	ASSERT_INT_EQ(dur_at(j, "cache_miss", "count"), 0);
	/* Images, not requests. */
	ASSERT_INT_EQ(int_at(j, "inference_count"), 7);
	/* stats_request() alone runs no execution. */
	ASSERT_INT_EQ(int_at(j, "execution_count"), 0);
	last = int_at(j, "last_inference");
	ASSERT_INT_GE(last, t0);
	ASSERT_INT_LE(last, t1);
	json_decref(j);
	TEST_DONE();

	TEST_START("stats: a failed request counts in fail only");
	stats_request(st, 0, 3, 0.75, 0.1, 0.1, 0.1, 0.1);
	stats_request(st, 0, 1, 0.25, 9.0, 9.0, 9.0, 9.0);
	j = xjson(st, "m", "1");
	ASSERT_INT_EQ(dur_at(j, "fail", "count"), 2);
	ASSERT_INT_EQ(dur_at(j, "fail", "ns"), 1000000000LL);
	ASSERT_INT_EQ(dur_at(j, "success", "count"), 3);
	ASSERT_INT_EQ(dur_at(j, "queue", "count"), 3);
	ASSERT_INT_EQ(dur_at(j, "queue", "ns"), 253000000LL);
	ASSERT_INT_EQ(dur_at(j, "compute_infer", "ns"), 1015000000LL);
	ASSERT_INT_EQ(int_at(j, "inference_count"), 7);
	/* A failure is a request made: the time moves on. */
	ASSERT_INT_GE(int_at(j, "last_inference"), last);
	json_decref(j);
	TEST_DONE();

	TEST_START("stats: bad durations and image counts");
	stats_free(st);
	st = stats_new();
	ASSERT_PTR_NE(st, NULL);
	/* NaN and negatives as 0, past 1e6 s as 1e6 s, images < 0 as 0. */
	stats_request(st, 1, -5, NAN, -1.0, INFINITY, 2e6, -INFINITY);
	j = xjson(st, "m", "1");
	ASSERT_INT_EQ(dur_at(j, "success", "count"), 1);
	ASSERT_INT_EQ(dur_at(j, "success", "ns"), 0);
	ASSERT_INT_EQ(dur_at(j, "queue", "ns"), 0);
	ASSERT_INT_EQ(dur_at(j, "compute_input", "ns"), 1000000000000000LL);
	ASSERT_INT_EQ(dur_at(j, "compute_infer", "ns"), 1000000000000000LL);
	ASSERT_INT_EQ(dur_at(j, "compute_output", "ns"), 0);
	ASSERT_INT_EQ(int_at(j, "inference_count"), 0);
	json_decref(j);
	stats_free(st);
	TEST_DONE();
}

static void
test_batches(void)
{
	static const int sizes[] = { 1, 4, 1, STATS_BATCH_MAX, 4, 1 };
	static const int bad[] = { 0, -1, STATS_BATCH_MAX + 1, INT_MAX,
	    INT_MIN };
	static const struct { int size, count; } want[] = {
		{ 1, 3 }, { 4, 2 }, { STATS_BATCH_MAX, 1 },
	};
	static const char *const keys[] = {
		"compute_input", "compute_infer", "compute_output",
	};
	struct model_stats *st = stats_new();
	const json_t *bs, *e, *d;
	json_t *j;
	size_t i, k;

	ASSERT_PTR_NE(st, NULL);
	TEST_START("stats: executions by batch size, out of range ignored");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		stats_execution(st, sizes[i], 0.002);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		stats_execution(st, bad[i], 0.002);
	j = xjson(st, "m", "1");
	ASSERT_INT_EQ(int_at(j, "execution_count"), 6);
	ASSERT_INT_EQ(int_at(j, "inference_count"), 0);
	bs = json_object_get(j, "batch_stats");
	ASSERT_INT_EQ(json_array_size(bs), 3);
	for (i = 0; i < 3; i++) {
		e = json_array_get(bs, i);
		ASSERT_INT_EQ(json_object_size(e), 4);
		ASSERT_INT_EQ(int_at(e, "batch_size"), want[i].size);
		for (k = 0; k < 3; k++) {
			d = json_object_get(e, keys[k]);
			ASSERT_TRUE(is_duration(d));
			ASSERT_INT_EQ(int_at(d, "count"), want[i].count);
			/* The engine's time per size (2 ms a run); the
			 * front's parts are not split by batch. */
			ASSERT_INT_EQ(int_at(d, "ns"), strcmp(keys[k],
			    "compute_infer") == 0 ? want[i].count * 2000000 :
			    0);
		}
	}
	json_decref(j);
	stats_free(st);
	TEST_DONE();
}

static void
test_names(void)
{
	struct model_stats *st = stats_new();
	json_t *j, *back;
	char *text;

	ASSERT_PTR_NE(st, NULL);
	TEST_START("stats: names made valid UTF-8, the JSON round-trips");
	stats_request(st, 1, 2, 0.5, 0.1, 0.1, 0.1, 0.1);
	stats_execution(st, 2, 0.001);
	/* a lone continuation, an overlong '/', a cut sequence; a quote */
	j = xjson(st, "a\x80" "b\xc0\xaf\"c\xe2\x82", "v\xc3\xa9");
	ASSERT_STRING_EQ(json_string_value(json_object_get(j, "name")),
	    "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd\"c\xef\xbf\xbd"
	    "\xef\xbf\xbd");
	ASSERT_STRING_EQ(json_string_value(json_object_get(j, "version")),
	    "v\xc3\xa9");
	text = json_dumps(j, JSON_COMPACT);
	ASSERT_PTR_NE(text, NULL);
	back = json_loads(text, 0, NULL);
	ASSERT_PTR_NE(back, NULL);
	ASSERT_TRUE(json_equal(j, back));
	ASSERT_STRING_CONTAINS(text, "\"inference_count\":2");
	ASSERT_STRING_CONTAINS(text, "\"batch_stats\":[{");
	json_decref(back);
	free(text);
	json_decref(j);
	stats_free(st);
	TEST_DONE();
}

/* ==== Concurrency ==== */

#define CC_THREADS	4
#define CC_REQUESTS	10000

static void *
cc_worker(void *arg)
{
	struct model_stats *st = arg;
	int i;

	for (i = 0; i < CC_REQUESTS; i++) {
		stats_request(st, i % 4 != 0, 2, 0.004, 0.001, 0.0005, 0.002,
		    0.00025);
		stats_execution(st, 1 + i % 8, 0.001);
	}
	return NULL;
}

static void *
cc_reader(void *arg)
{
	struct model_stats *st = arg;
	json_t *j;
	int i;

	for (i = 0; i < 200; i++) {
		if ((j = stats_json(st, "m", "1")) == NULL)
			return arg;
		json_decref(j);
	}
	return NULL;
}

static void
test_concurrency(void)
{
	struct model_stats *st = stats_new();
	pthread_t th[CC_THREADS], rth;
	const json_t *bs, *e;
	long long ok = CC_THREADS * CC_REQUESTS / 4 * 3;
	long long fail = CC_THREADS * CC_REQUESTS / 4;
	json_t *j;
	void *rv;
	int i;

	ASSERT_PTR_NE(st, NULL);
	TEST_START("stats: 4 threads x 10000 requests, exact totals");
	ASSERT_INT_EQ(pthread_create(&rth, NULL, cc_reader, st), 0);
	for (i = 0; i < CC_THREADS; i++)
		ASSERT_INT_EQ(pthread_create(&th[i], NULL, cc_worker, st), 0);
	for (i = 0; i < CC_THREADS; i++)
		ASSERT_INT_EQ(pthread_join(th[i], NULL), 0);
	ASSERT_INT_EQ(pthread_join(rth, &rv), 0);
	ASSERT_PTR_EQ(rv, NULL);
	j = xjson(st, "m", "1");
	ASSERT_INT_EQ(dur_at(j, "success", "count"), ok);
	ASSERT_INT_EQ(dur_at(j, "success", "ns"), ok * 4000000);
	ASSERT_INT_EQ(dur_at(j, "fail", "count"), fail);
	ASSERT_INT_EQ(dur_at(j, "fail", "ns"), fail * 4000000);
	ASSERT_INT_EQ(dur_at(j, "queue", "ns"), ok * 1000000);
	ASSERT_INT_EQ(dur_at(j, "compute_input", "ns"), ok * 500000);
	ASSERT_INT_EQ(dur_at(j, "compute_infer", "ns"), ok * 2000000);
	ASSERT_INT_EQ(dur_at(j, "compute_output", "count"), ok);
	ASSERT_INT_EQ(dur_at(j, "compute_output", "ns"), ok * 250000);
	ASSERT_INT_EQ(int_at(j, "inference_count"), ok * 2);
	ASSERT_INT_EQ(int_at(j, "execution_count"), CC_THREADS * CC_REQUESTS);
	bs = json_object_get(j, "batch_stats");
	ASSERT_INT_EQ(json_array_size(bs), 8);
	for (i = 0; i < 8; i++) {
		e = json_array_get(bs, (size_t)i);
		ASSERT_INT_EQ(int_at(e, "batch_size"), i + 1);
		ASSERT_INT_EQ(int_at(json_object_get(e, "compute_infer"),
		    "count"), CC_THREADS * CC_REQUESTS / 8);
	}
	json_decref(j);
	stats_free(st);
	TEST_DONE();
}

void
tests(void)
{
	test_plan(8);
	test_fresh();
	test_requests();
	test_batches();
	test_names();
	test_concurrency();
}
