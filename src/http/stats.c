/* SPDX-License-Identifier: ISC */
/*
 * stats.c: the counts of one model version for the statistics extension,
 * and their JSON object.
 *
 * The state is one plain struct of counters (about 2 KB, most of it the
 * executions by batch size) behind one mutex.  Recording adds under the
 * mutex; stats_json() copies the struct under it and builds the jansson
 * objects from the copy without it, so a slow client of /stats never
 * holds up a request.  Durations are integer nanoseconds: sums are exact
 * whatever the order of the additions, and no float reaches the JSON.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "http/jsonin.h"
#include "http/stats.h"

#define STS_NS_PER_S	1000000000ULL
/* Longest duration recorded: keeps the double-to-integer cast defined. */
#define STS_DUR_CAP_S	1000000ULL

/* ==== State ==== */

enum sts_dur {			/* the durations of inference_stats */
	STS_SUCCESS,
	STS_FAIL,
	STS_QUEUE,
	STS_INPUT,
	STS_INFER,
	STS_OUTPUT,
	STS__COUNT
};

/* Their JSON keys, in Triton's order. */
static const char *const sts_keys[STS__COUNT] = {
	[STS_SUCCESS] = "success",
	[STS_FAIL] = "fail",
	[STS_QUEUE] = "queue",
	[STS_INPUT] = "compute_input",
	[STS_INFER] = "compute_infer",
	[STS_OUTPUT] = "compute_output",
};

/* Everything reported: plain data, copied whole by stats_json(). */
struct sts_counts {
	uint64_t		c_last_ms;	/* 0: no request yet */
	uint64_t		c_inferences;	/* images of ok requests */
	uint64_t		c_executions;
	struct stats_duration	c_dur[STS__COUNT];
	uint64_t		c_batch[STATS_BATCH_MAX + 1]; /* [0] unused */
	uint64_t		c_batch_ns[STATS_BATCH_MAX + 1]; /* engine */
};

struct model_stats {
	pthread_mutex_t		ms_mtx;
	struct sts_counts	ms_c;
};

static void
sts_lock(const struct model_stats *st)
{
	/*
	 * The mutex is the one member a reader changes: stats_json() takes
	 * a const object for its counts.  A failure is a broken mutex.
	 */
	AG_ASSERT(pthread_mutex_lock((pthread_mutex_t *)&st->ms_mtx) == 0);
}

static void
sts_unlock(const struct model_stats *st)
{
	AG_ASSERT(pthread_mutex_unlock((pthread_mutex_t *)&st->ms_mtx) == 0);
}

/* ==== Recording ==== */

/* Seconds to nanoseconds: NaN and negatives read as 0, capped above. */
static uint64_t
sts_ns(double s)
{
	if (!(s > 0.0))
		return 0;
	if (s >= (double)STS_DUR_CAP_S)
		return STS_DUR_CAP_S * STS_NS_PER_S;
	return (uint64_t)(s * 1e9 + 0.5);
}

/* a += b, stuck at UINT64_MAX rather than wrapping. */
static void
sts_add(uint64_t *a, uint64_t b)
{
	*a = *a > UINT64_MAX - b ? UINT64_MAX : *a + b;
}

static void
sts_dur_add(struct stats_duration *d, uint64_t ns)
{
	sts_add(&d->sd_count, 1);
	sts_add(&d->sd_ns, ns);
}

/* The wall clock in ms since the epoch, 0 if it cannot be read. */
static uint64_t
sts_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct model_stats *
stats_new(void)
{
	struct model_stats *st;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	if (pthread_mutex_init(&st->ms_mtx, NULL) != 0) {
		free(st);
		return NULL;
	}
	return st;
}

void
stats_free(struct model_stats *st)
{
	if (st == NULL)
		return;
	pthread_mutex_destroy(&st->ms_mtx);
	free(st);
}

void
stats_request(struct model_stats *st, int ok, int images, double total_s,
    double queue_s, double input_s, double infer_s, double output_s)
{
	uint64_t total = sts_ns(total_s), queue = sts_ns(queue_s);
	uint64_t input = sts_ns(input_s), infer = sts_ns(infer_s);
	uint64_t output = sts_ns(output_s), now = sts_now_ms();
	struct sts_counts *c;

	if (st == NULL)
		return;
	sts_lock(st);
	c = &st->ms_c;
	/* Two threads may finish out of order: keep the later time. */
	if (now > c->c_last_ms)
		c->c_last_ms = now;
	if (!ok) {
		sts_dur_add(&c->c_dur[STS_FAIL], total);
		goto out;
	}
	sts_dur_add(&c->c_dur[STS_SUCCESS], total);
	sts_dur_add(&c->c_dur[STS_QUEUE], queue);
	sts_dur_add(&c->c_dur[STS_INPUT], input);
	sts_dur_add(&c->c_dur[STS_INFER], infer);
	sts_dur_add(&c->c_dur[STS_OUTPUT], output);
	if (images > 0)
		sts_add(&c->c_inferences, (uint64_t)images);
 out:
	sts_unlock(st);
}

void
stats_execution(struct model_stats *st, int n, double infer_s)
{
	if (st == NULL || n < 1 || n > STATS_BATCH_MAX)
		return;
	sts_lock(st);
	sts_add(&st->ms_c.c_executions, 1);
	sts_add(&st->ms_c.c_batch[n], 1);
	sts_add(&st->ms_c.c_batch_ns[n], sts_ns(infer_s));
	sts_unlock(st);
}

/* ==== JSON ==== */

/* A counter as a JSON integer: jansson's are signed 64-bit. */
static json_t *
sts_int(uint64_t v)
{
	return json_integer(v > INT64_MAX ? (json_int_t)INT64_MAX :
	    (json_int_t)v);
}

/*
 * Sets key of o to v (stolen, even on failure); a NULL v, from a failed
 * allocation, fails too.  Returns 0 or -1.
 */
static int
sts_set(json_t *o, const char *key, json_t *v)
{
	return v == NULL || json_object_set_new(o, key, v) != 0 ? -1 : 0;
}

/* {"count":N,"ns":N}, or NULL: no memory. */
static json_t *
sts_duration(uint64_t count, uint64_t ns)
{
	json_t *o;

	if ((o = json_object()) == NULL)
		return NULL;
	if (sts_set(o, "count", sts_int(count)) != 0 ||
	    sts_set(o, "ns", sts_int(ns)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * s (NULL reads as "") as a JSON string, each byte that does not start
 * well-formed UTF-8 replaced by U+FFFD: jansson refuses invalid UTF-8,
 * and a name is not to fail the whole answer.  NULL: no memory.
 */
static json_t *
sts_string(const char *s)
{
	const uint8_t *p, *end;
	size_t len, o = 0;
	json_t *j;
	char *buf;
	int n;

	if (s == NULL)
		s = "";
	len = strlen(s);
	/* Each byte becomes at most 3: SIZE_MAX / 3 is far past any name. */
	if (len > (SIZE_MAX - 1) / 3 || (buf = malloc(3 * len + 1)) == NULL)
		return NULL;
	p = (const uint8_t *)s;
	end = p + len;
	while (p < end) {
		if (*p < 0x80)
			n = 1;
		else if ((n = jsonin_utf8_len(p, end)) == 0) {
			memcpy(buf + o, "\xef\xbf\xbd", 3);
			o += 3;
			p++;
			continue;
		}
		memcpy(buf + o, p, (size_t)n);
		o += (size_t)n;
		p += n;
	}
	j = json_stringn(buf, o);
	free(buf);
	return j;
}

/* "batch_stats": one entry per size seen, in increasing size. */
static json_t *
sts_batches(const struct sts_counts *c)
{
	json_t *a, *e;
	int n;

	if ((a = json_array()) == NULL)
		return NULL;
	for (n = 1; n <= STATS_BATCH_MAX; n++) {
		if (c->c_batch[n] == 0)
			continue;
		/* json_array_append_new() takes e, even when it fails. */
		if ((e = json_object()) == NULL ||
		    json_array_append_new(a, e) != 0)
			goto fail;
		/*
		 * Executions per size and their engine time; the front's
		 * parts of a batch (its requests' input and output) are not
		 * split by batch (0).
		 */
		if (sts_set(e, "batch_size", json_integer(n)) != 0 ||
		    sts_set(e, "compute_input",
		    sts_duration(c->c_batch[n], 0)) != 0 ||
		    sts_set(e, "compute_infer",
		    sts_duration(c->c_batch[n], c->c_batch_ns[n])) != 0 ||
		    sts_set(e, "compute_output",
		    sts_duration(c->c_batch[n], 0)) != 0)
			goto fail;
	}
	return a;
 fail:
	json_decref(a);
	return NULL;
}

/* "inference_stats": the six durations, then the cache's two at zero. */
static json_t *
sts_inference(const struct sts_counts *c)
{
	json_t *o;
	int i;

	if ((o = json_object()) == NULL)
		return NULL;
	for (i = 0; i < STS__COUNT; i++)
		if (sts_set(o, sts_keys[i], sts_duration(c->c_dur[i].sd_count,
		    c->c_dur[i].sd_ns)) != 0)
			goto fail;
	if (sts_set(o, "cache_hit", sts_duration(0, 0)) != 0 ||
	    sts_set(o, "cache_miss", sts_duration(0, 0)) != 0)
		goto fail;
	return o;
 fail:
	json_decref(o);
	return NULL;
}

json_t *
stats_json(const struct model_stats *st, const char *name,
    const char *version)
{
	struct sts_counts c;
	json_t *o;

	if (st == NULL)
		return NULL;
	sts_lock(st);
	c = st->ms_c;
	sts_unlock(st);

	if ((o = json_object()) == NULL)
		return NULL;
	if (sts_set(o, "name", sts_string(name)) != 0 ||
	    sts_set(o, "version", sts_string(version)) != 0 ||
	    sts_set(o, "last_inference", sts_int(c.c_last_ms)) != 0 ||
	    sts_set(o, "inference_count", sts_int(c.c_inferences)) != 0 ||
	    sts_set(o, "execution_count", sts_int(c.c_executions)) != 0 ||
	    sts_set(o, "inference_stats", sts_inference(&c)) != 0 ||
	    sts_set(o, "batch_stats", sts_batches(&c)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}
