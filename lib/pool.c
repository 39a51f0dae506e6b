/* pool.c: see pool.h.
 *
 * The job in hand is announced by one atomic word, the job's number and its
 * part count packed together (the count below 2^9, the number above). The
 * parts are claimed one at a time from a second word, the job's number
 * (low 32 bits) and the next part, by whichever thread comes first, the
 * caller included: a worker the system has not scheduled yet then delays
 * nothing, since the caller runs the parts left. A claim names its job, so
 * a worker that wakes late cannot take a part of the next one by mistake;
 * and fn and arg, read only after a claim succeeds, stay in place until
 * every part of that job is done. Which thread runs a part changes no
 * result: the parts write their own outputs.
 *
 * Where the environment names the CPUs of a run (CHARNN_CPUS, a list such
 * as "0,2-3", set by pipelines/train), worker k runs on the (k+1)th of them,
 * round the list, and the caller stays where it was put (the first): the
 * stages of a training loop then share one CPU and its cache, as without
 * threads, and their workers take the others. Linux only; elsewhere the
 * list is ignored. */
#ifdef __linux__
#define _GNU_SOURCE	/* sched_setaffinity, CPU_SET */
#endif
#include "pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

enum { PARTS_BITS = 9 };
/* How long a worker spins for the next job before it sleeps: long enough to
 * bridge the gaps between the products of one training step, short enough
 * that an idle stage of a pipeline soon leaves its CPU to the others. For
 * the first YIELD_NS of it a waiting thread only spins; after that it
 * also yields, as it must when there are more threads than CPUs free (a
 * worker sharing the caller's CPU), though a yield may lose the CPU for a
 * whole time slice when other programs are runnable. */
static const long SPIN_NS = 50000, YIELD_NS = 5000;

static struct {
	void (*fn)(void *arg, int part);	/* the job in hand */
	void *arg;
	atomic_uint_fast64_t job;	/* number << PARTS_BITS | parts */
	atomic_uint_fast64_t claim;	/* number << 32 | next part to run */
	atomic_int done;		/* parts finished */
	atomic_int sleepers;		/* workers waiting on cv */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int workers;			/* threads started besides the caller */
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
			long ns = elapsed_ns(&t0);
			if (ns > SPIN_NS)
				break;
			if (ns > YIELD_NS)
				sched_yield();
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

/* Claim and run parts of job number (job word) j, of parts parts, until
 * none is left. */
static void run_parts(uint_fast64_t j, int parts)
{
	const uint_fast64_t mine = (j >> PARTS_BITS) & 0xffffffffu;
	uint_fast64_t c = atomic_load(&pool.claim);
	while (c >> 32 == mine && (int)(c & 0xffffffffu) < parts) {
		if (!atomic_compare_exchange_weak(&pool.claim, &c, c + 1))
			continue;	/* c now holds the word seen */
		pool.fn(pool.arg, (int)(c & 0xffffffffu));
		atomic_fetch_add(&pool.done, 1);
		c = atomic_load(&pool.claim);
	}
}

/* The k-th CPU (from 0, round the list) of the list s ("0,2-3"), or -1 if
 * s is empty; dies on a list that is not one. */
static int nth_cpu(const char *s, int k)
{
	int n = 0, cpu[POOL_MAX];
	while (*s && n < POOL_MAX) {
		char *end;
		long a = strtol(s, &end, 10), b = a;
		if (end == s || a < 0 || a > 4095)
			eprintf("CHARNN_CPUS: not a list of CPUs: '%s'", s);
		if (*end == '-') {
			s = end + 1;
			b = strtol(s, &end, 10);
			if (end == s || b < a || b > 4095)
				eprintf("CHARNN_CPUS: not a list of CPUs: '%s'", s);
		}
		for (long c = a; c <= b && n < POOL_MAX; c++)
			cpu[n++] = (int)c;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			eprintf("CHARNN_CPUS: not a list of CPUs: '%s'", end);
	}
	return n ? cpu[k % n] : -1;
}

/* Put this thread, worker k, on its CPU of CHARNN_CPUS (see above); a CPU
 * the system refuses leaves it where it is. */
static void place_worker(int k)
{
#ifdef __linux__
	const char *list = getenv("CHARNN_CPUS");
	int c = list ? nth_cpu(list, k + 1) : -1;
	if (c >= 0 && c < CPU_SETSIZE) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(c, &set);
		(void)sched_setaffinity(0, sizeof set, &set);
	}
#else
	(void)k;
	(void)nth_cpu;
#endif
}

/* A worker: run parts of every job after the one in hand when it was
 * started (it may first run after the next was announced). */
static void *worker(void *p)
{
	uint_fast64_t seen = *(const uint_fast64_t *)p;
	place_worker((int)((const uint_fast64_t *)p - pool.born));
	for (;;) {
		seen = next_job(seen);
		run_parts(seen, (int)(seen & ((1u << PARTS_BITS) - 1)));
	}
	return NULL;
}

/* Start workers until there are n-1, detached, with every signal blocked
 * so that signals go to the program's own thread. Called between jobs. */
static void start_workers(int n)
{
	const char *list = getenv("CHARNN_CPUS");
	if (list)
		(void)nth_cpu(list, 0);	/* checked here, not in a worker */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	for (; pool.workers < n - 1; pool.workers++) {
		pthread_t t;
		uint_fast64_t *born = &pool.born[pool.workers];
		*born = atomic_load(&pool.job);
		if (pthread_create(&t, &at, worker, born) != 0)
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
	atomic_store(&pool.done, 0);
	uint_fast64_t next = ((atomic_load(&pool.job) >> PARTS_BITS) + 1) << PARTS_BITS;
	atomic_store(&pool.claim, (next >> PARTS_BITS & 0xffffffffu) << 32);
	atomic_store(&pool.job, next | (uint_fast64_t)n);
	if (atomic_load(&pool.sleepers) > 0) {
		pthread_mutex_lock(&pool.mu);
		pthread_cond_broadcast(&pool.cv);
		pthread_mutex_unlock(&pool.mu);
	}
	run_parts(next | (uint_fast64_t)n, n);
	/* The parts left are running on workers: spin, then also yield. */
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned k = 1; atomic_load(&pool.done) < n; k++)
		if (k % 64 == 0 && elapsed_ns(&t0) > YIELD_NS)
			sched_yield();
}
