/* pool.h: a small pool of POSIX threads that run the parts of one job side
 * by side, for the kernels of rnn.c.
 *
 * A job is a function and its argument, run as parts 0..n-1 on up to n
 * threads, the caller's among them: each thread takes the next part not yet
 * taken, so a thread the system is slow to schedule holds nothing up. A job
 * returns only when every part is done. A caller that gives each part its
 * own output, by part number, gets the same results whatever the number of
 * threads and whichever ran what. Workers wait for a job by spinning for a
 * while (a job often follows another within microseconds) and then
 * sleeping. One caller at a time: the pool is not for jobs started from
 * several threads at once. */
#ifndef CHARNN_POOL_H
#define CHARNN_POOL_H

enum { POOL_MAX = 256 };	/* threads in all, the caller's included */

/* Run fn(arg, i) for i = 0..n-1 (at most POOL_MAX parts) on this thread
 * and n-1 workers (started the first time they are needed), and return
 * when all are done. n <= 1 runs part 0 here and starts nothing. Dies if a
 * thread cannot be started. */
void pool_run(int n, void (*fn)(void *arg, int part), void *arg);

#endif
