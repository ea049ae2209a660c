/* SPDX-License-Identifier: ISC */
/*
 * pool.c: the engine's worker threads.  See pool.h.
 *
 * One job at a time (pool_run is called from one thread).  The job's tasks
 * are claimed with an atomic counter, and the caller waits until every
 * worker has finished.  Between jobs a worker spins briefly (a forward pass
 * starts a job per layer, a fraction of a millisecond apart) and then sleeps
 * on a condition variable, so an idle engine costs no CPU.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "kernel.h"
#include "pool.h"

static struct {
	pthread_mutex_t	 mtx;
	pthread_cond_t	 go, done;
	pthread_t	 tid[POOL_MAX_THREADS];
	int		 nthreads;	/* caller included */
	atomic_ulong	 gen;		/* bumped for every job */
	atomic_int	 busy;		/* workers still in the job */
	int		 quit;
	pool_fn		 fn;
	void		*arg;
	int		 ntasks;
	atomic_int	 next;
} pool = {
	.mtx = PTHREAD_MUTEX_INITIALIZER,
	.go = PTHREAD_COND_INITIALIZER,
	.done = PTHREAD_COND_INITIALIZER,
	.nthreads = 1,
};

static void
pool_work(int self)
{
	int t;

	while ((t = atomic_fetch_add(&pool.next, 1)) < pool.ntasks)
		pool.fn(pool.arg, t, self);
}

/* Pause-loop iterations to spin before sleeping: some 100 microseconds. */
#define POOL_SPIN	4000

static void *
pool_main(void *p)
{
	int self = (int)(long)p, i;
	unsigned long seen = 0;

	for (;;) {
		for (i = 0; i < POOL_SPIN; i++) {
			if (atomic_load_explicit(&pool.gen,
			    memory_order_acquire) != seen)
				break;
			kern_spin_pause();
		}
		pthread_mutex_lock(&pool.mtx);
		while (atomic_load(&pool.gen) == seen && !pool.quit)
			pthread_cond_wait(&pool.go, &pool.mtx);
		if (pool.quit) {
			pthread_mutex_unlock(&pool.mtx);
			break;
		}
		seen = atomic_load(&pool.gen);
		pthread_mutex_unlock(&pool.mtx);
		pool_work(self);
		if (atomic_fetch_sub(&pool.busy, 1) == 1) {
			pthread_mutex_lock(&pool.mtx);
			pthread_cond_signal(&pool.done);
			pthread_mutex_unlock(&pool.mtx);
		}
	}
	return NULL;
}

static void
pool_stop(void)
{
	int i;

	pthread_mutex_lock(&pool.mtx);
	pool.quit = 1;
	pthread_cond_broadcast(&pool.go);
	pthread_mutex_unlock(&pool.mtx);
	for (i = 1; i < pool.nthreads; i++)
		pthread_join(pool.tid[i], NULL);
	pool.quit = 0;
	pool.nthreads = 1;
}

int
pool_set_threads(int n)
{
	int i;

	if (n < 1)
		n = 1;
	if (n > POOL_MAX_THREADS)
		n = POOL_MAX_THREADS;
	if (n == pool.nthreads)
		return n;
	pool_stop();
	for (i = 1; i < n; i++) {
		if (pthread_create(&pool.tid[i], NULL, pool_main,
		    (void *)(long)i) != 0)
			break;
		pool.nthreads = i + 1;
	}
	return pool.nthreads == n ? n : -1;
}

int
pool_threads(void)
{
	return pool.nthreads;
}

void
pool_run(pool_fn fn, void *arg, int ntasks)
{
	int i;

	if (pool.nthreads == 1 || ntasks <= 1) {
		int t;

		for (t = 0; t < ntasks; t++)
			fn(arg, t, 0);
		return;
	}
	pthread_mutex_lock(&pool.mtx);
	pool.fn = fn;
	pool.arg = arg;
	pool.ntasks = ntasks;
	atomic_store(&pool.next, 0);
	atomic_store(&pool.busy, pool.nthreads - 1);
	/* Release: a spinning worker that sees the new gen sees the job. */
	atomic_fetch_add_explicit(&pool.gen, 1, memory_order_release);
	pthread_cond_broadcast(&pool.go);
	pthread_mutex_unlock(&pool.mtx);

	pool_work(0);

	for (i = 0; i < POOL_SPIN && atomic_load(&pool.busy) > 0; i++)
		kern_spin_pause();
	pthread_mutex_lock(&pool.mtx);
	while (atomic_load(&pool.busy) > 0)
		pthread_cond_wait(&pool.done, &pool.mtx);
	pthread_mutex_unlock(&pool.mtx);
}
