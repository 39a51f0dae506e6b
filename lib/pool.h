/* pool.h: a small pool of POSIX threads that run the parts of one job side
 * by side, for the kernels of rnn.c.
 *
 * A job is a function and its argument, run as parts 0..n-1: part 0 on the
 * calling thread, part i on worker i. Which part a thread runs is fixed by
 * its number, and a job returns only when every part is done, so a caller
 * that gives each part its own output, split by index rather than by
 * thread, gets the same results whatever the number of threads. Workers
 * wait for a job by spinning for a while (a job often follows another
 * within microseconds) and then sleeping. One caller at a time: the pool is
 * not for jobs started from several threads at once. */
#ifndef CHARNN_POOL_H
#define CHARNN_POOL_H

enum { POOL_MAX = 256 };	/* threads in all, the caller's included */

/* Run fn(arg, i) for i = 0..n-1, at most POOL_MAX parts, each on its own
 * thread (starting the workers it needs the first time), and return when
 * all are done. n <= 1 runs part 0 here and starts nothing. Dies if a
 * thread cannot be started. */
void pool_run(int n, void (*fn)(void *arg, int part), void *arg);

#endif
