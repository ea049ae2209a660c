/* SPDX-License-Identifier: ISC */
/*
 * pool.h: a fixed set of worker threads for the engine's parallel loops.
 *
 * pool_run(fn, arg, ntasks) calls fn(arg, task, thread) for every task in
 * [0, ntasks) across the caller and the workers, and returns when all are
 * done.  Tasks are handed out through an atomic counter.  The threads are
 * created by pool_set_threads() (at start-up, before any sandbox), and
 * never per call: the request path creates no threads.
 */
#ifndef AG_POOL_H
#define AG_POOL_H

#define POOL_MAX_THREADS	64

typedef void (*pool_fn)(void *arg, int task, int thread);

/* Sets the number of threads (caller included); returns it, or -1. */
int	pool_set_threads(int n);
int	pool_threads(void);
void	pool_run(pool_fn fn, void *arg, int ntasks);

#endif /* AG_POOL_H */
