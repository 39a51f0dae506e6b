/* pool.c: see pool.h.
 *
 * The job in hand is announced by one atomic word, the job's number and its
 * part count packed together, so that a worker learns both in one load and
 * a worker with no part in this job never reads the rest of it (which the
 * next job may already be overwriting). The part count is below 2^9; the
 * number takes the bits above. */
#include "pool.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

enum { PARTS_BITS = 9 };
/* How long a worker spins for the next job before it sleeps: long enough to
 * bridge the gaps between the products of one training step, short enough
 * that an idle stage of a pipeline soon leaves its CPU to the others. */
static const long SPIN_NS = 50000;

static struct {
	void (*fn)(void *arg, int part);	/* the job in hand */
	void *arg;
	atomic_uint_fast64_t job;	/* number << PARTS_BITS | parts */
	atomic_int pending;		/* parts 1.. not yet done */
	atomic_int sleepers;		/* workers waiting on cv */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int workers;			/* started: parts 1..workers */
	uint_fast64_t born[POOL_MAX];	/* the job word when each was started */
} pool = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static long elapsed_ns(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000000000L + (t.tv_nsec - t0->tv_nsec);
}

/* The next job word after seen: spin, then sleep on cv. The sleeper count
 * is raised before the last look at the word and pool_run raises the word
 * before it looks at the count (both sequentially consistent), so either
 * this thread sees the new job or pool_run sees a sleeper to wake. */
static uint_fast64_t next_job(uint_fast64_t seen)
{
	uint_fast64_t j;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned k = 1;; k++) {
		if ((j = atomic_load(&pool.job)) != seen)
			return j;
		if (k % 64 == 0) {
			sched_yield();
			if (elapsed_ns(&t0) > SPIN_NS)
				break;
		}
	}
	pthread_mutex_lock(&pool.mu);
	atomic_fetch_add(&pool.sleepers, 1);
	while ((j = atomic_load(&pool.job)) == seen)
		pthread_cond_wait(&pool.cv, &pool.mu);
	atomic_fetch_sub(&pool.sleepers, 1);
	pthread_mutex_unlock(&pool.mu);
	return j;
}

/* Worker number me (1..): run part me of every job after the one in hand
 * when it was started (it may first run after the next was announced). */
static void *worker(void *p)
{
	const int me = (int)(intptr_t)p;
	uint_fast64_t seen = pool.born[me];
	for (;;) {
		seen = next_job(seen);
		int parts = (int)(seen & ((1u << PARTS_BITS) - 1));
		if (me < parts) {
			pool.fn(pool.arg, me);
			atomic_fetch_sub(&pool.pending, 1);
		}
	}
	return NULL;
}

/* Start workers up to number n-1, detached, with every signal blocked so
 * that signals go to the program's own thread. Called between jobs. */
static void start_workers(int n)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	for (; pool.workers < n - 1; pool.workers++) {
		pthread_t t;
		pool.born[pool.workers + 1] = atomic_load(&pool.job);
		if (pthread_create(&t, &at, worker, (void *)(intptr_t)(pool.workers + 1)) != 0)
			eprintf("cannot start thread %d of %d", pool.workers + 2, n);
	}
	pthread_attr_destroy(&at);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void pool_run(int n, void (*fn)(void *arg, int part), void *arg)
{
	if (n <= 1) {
		fn(arg, 0);
		return;
	}
	if (n > POOL_MAX)
		n = POOL_MAX;
	if (pool.workers < n - 1)
		start_workers(n);
	pool.fn = fn;
	pool.arg = arg;
	atomic_store(&pool.pending, n - 1);
	uint_fast64_t next = ((atomic_load(&pool.job) >> PARTS_BITS) + 1) << PARTS_BITS;
	atomic_store(&pool.job, next | (uint_fast64_t)n);
	if (atomic_load(&pool.sleepers) > 0) {
		pthread_mutex_lock(&pool.mu);
		pthread_cond_broadcast(&pool.cv);
		pthread_mutex_unlock(&pool.mu);
	}
	fn(arg, 0);
	for (unsigned k = 1; atomic_load(&pool.pending) > 0; k++)
		if (k % 64 == 0)
			sched_yield();
}
