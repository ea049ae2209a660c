/* SPDX-License-Identifier: ISC */
/*
 * stats.h: the statistics of one model version, in the shape of the
 * statistics extension of the Open Inference Protocol as Triton defines
 * it (GET /v2/models[/NAME[/versions/V]]/stats).
 *
 * Owns: the counts and cumulative durations of one loaded (model,
 * version), and their JSON object.  Does not own: which versions exist,
 * the routes, nor the outer answer {"model_stats":[...]} (the front and
 * the server build those).  The front makes one struct model_stats per
 * loaded (model, version), and HTTP threads and the front's main thread
 * record into it at once: every call takes the object's mutex for a few
 * additions; stats_json() copies the counts under it and builds the JSON
 * without it.  Recording never allocates and never fails.
 *
 * What each field counts (durations are kept in integer nanoseconds,
 * added with saturation; a negative or NaN duration counts as 0, one
 * past 1e6 seconds as 1e6 seconds):
 *   success         requests answered ok, and their total time
 *   fail            requests that failed, and their total time
 *   queue           ok requests: arrival in the worker to engine start
 *   compute_input   ok requests: the front's parse, decode and copy into
 *                   the worker's shared memory
 *   compute_infer   ok requests: the engine call that served them
 *   compute_output  ok requests: logits copied out and the answer built
 *   cache_hit, cache_miss   always zero: there is no response cache (the
 *                   keys are there because Triton's clients expect them)
 *   inference_count images of the ok requests (Triton counts each element
 *                   of a batch)
 *   execution_count engine executions (batches), from stats_execution()
 *   last_inference  the wall clock at the last stats_request(), ok or
 *                   not, in ms since the epoch; 0 before the first
 *   batch_stats     one entry per batch size 1..STATS_BATCH_MAX seen by
 *                   stats_execution(), in increasing size: count is the
 *                   executions of that size, the same in compute_input,
 *                   compute_infer and compute_output; ns is 0 in all
 *                   three, since durations are recorded per request, not
 *                   per execution.
 */
#ifndef AG_STATS_H
#define AG_STATS_H

#include <stdint.h>

#include <jansson.h>

/* Largest batch size counted in batch_stats; larger ones are ignored. */
#define STATS_BATCH_MAX		256

/* Triton's $duration_stat: how many times, and their total in ns. */
struct stats_duration {
	uint64_t	sd_count;
	uint64_t	sd_ns;
};

struct model_stats;		/* opaque: a mutex and the counts */

/* Returns a new, zeroed object (free with stats_free()), or NULL: no memory. */
struct model_stats *stats_new(void);
/* Frees st; NULL is a no-op.  No other thread may be using st. */
void	stats_free(struct model_stats *st);

/*
 * One request answered: ok or not, the images in it (a negative count
 * reads as 0), and its durations in seconds: total (arrival to answer),
 * queue (arrival in the worker to engine start), input (the front's
 * parse, decode and copy into shared memory), infer (the engine call),
 * output (logits copied out and the answer built).  A failed request
 * counts in fail (count and total) only; either sets last_inference.
 * st NULL is a no-op.
 */
void	stats_request(struct model_stats *st, int ok, int images,
	    double total_s, double queue_s, double input_s, double infer_s,
	    double output_s);
/*
 * One engine execution of a batch of n images, recorded once per batch,
 * and its engine time (seconds): batch_stats' compute_infer.  n outside
 * 1..STATS_BATCH_MAX is ignored (counted nowhere).  st NULL is a no-op.
 */
void	stats_execution(struct model_stats *st, int n, double infer_s);

/*
 * The object of one model version in Triton's shape:
 * {"name","version","last_inference","inference_count","execution_count",
 *  "inference_stats":{"success","fail","queue","compute_input",
 *  "compute_infer","compute_output","cache_hit","cache_miss"},
 *  "batch_stats":[{"batch_size","compute_input","compute_infer",
 *  "compute_output"}, ...]}
 * where each duration is {"count","ns"}.  name and version are copied
 * (NULL reads as ""; invalid UTF-8 becomes U+FFFD).  Numbers past
 * INT64_MAX are written as INT64_MAX.  Returns a new reference (caller
 * json_decref()s it), or NULL when st is NULL or memory runs out.
 */
json_t	*stats_json(const struct model_stats *st, const char *name,
	    const char *version);

#endif /* AG_STATS_H */
