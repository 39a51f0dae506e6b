/* stepsync.c: see stepsync.h. */
#define _DEFAULT_SOURCE	/* syscall(2) */
#include <time.h>

#include "stepsync.h"

#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

int64_t step_load(const int64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_ACQUIRE);
}

void step_store(int64_t *c, int64_t v)
{
	__atomic_store_n(c, v, __ATOMIC_RELEASE);
#ifdef __linux__
	/* Shared (not FUTEX_PRIVATE): the waiters are other processes. */
	(void)syscall(SYS_futex, (uint32_t *)c, FUTEX_WAKE, 0x7fffffff, NULL, NULL, 0);
#endif
}

void step_sleep(const int64_t *c, int64_t seen, int ms)
{
#ifdef __linux__
	struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000 };
	/* Returns at once if the low word changed since seen was read; any
	 * change of the counter changes its low word. */
	(void)syscall(SYS_futex, (uint32_t *)c, FUTEX_WAIT, (uint32_t)seen, &t, NULL, 0);
#else
	struct timespec t = { 0, 50000 };	/* 50 us */
	for (long waited = 0; step_load(c) == seen && waited < ms * 20L; waited++)
		nanosleep(&t, NULL);
#endif
}
