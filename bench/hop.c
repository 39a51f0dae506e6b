/* hop: what one hop down a pipe costs on this machine, for `make bench`:
 * a byte sent back and forth between two processes on one CPU, as the
 * stages of pipelines/train hand on a window, and between two threads of
 * one process on the same CPU (no change of address space), for contrast.
 * At B=1 a window is three such hops round the loop (rnn-fwd, rnn-bwd,
 * adagrad) beside its compute, which bounds the pipeline against the
 * in-process loop.
 *
 * usage: hop [-n ROUNDS] [CPU]
 * Runs on CPU (default: the one it starts on). Prints "process_us P thread_us T": microseconds per one-way hop, the
 * median of five runs of ROUNDS round trips (default 20000). */
#define _GNU_SOURCE	/* sched_setaffinity, sched_getcpu, CPU_SET */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arg.h"
#include "err.h"

static int there[2], back[2];	/* pipes: to the echo, from it */
static long rounds = 20000;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The other end: each byte read is written back. */
static void *echo(void *arg)
{
	char c;
	(void)arg;
	for (long i = 0; i < rounds; i++)
		if (read(there[0], &c, 1) != 1 || write(back[1], &c, 1) != 1)
			eprintf("echo:");
	return NULL;
}

/* Microseconds per one-way hop, the echo a process (fork) or a thread. */
static double measure(int forked)
{
	pthread_t t;
	pid_t pid = 0;
	if (pipe(there) || pipe(back))
		eprintf("pipe:");
	if (forked && (pid = fork()) < 0)
		eprintf("fork:");
	if (forked && pid == 0) {
		echo(NULL);
		_exit(0);
	}
	if (!forked && (errno = pthread_create(&t, NULL, echo, NULL)))
		eprintf("pthread_create:");
	char c = 'x';
	double t0 = now();
	for (long i = 0; i < rounds; i++)
		if (write(there[1], &c, 1) != 1 || read(back[0], &c, 1) != 1)
			eprintf("hop:");
	double us = (now() - t0) / (double)rounds / 2 * 1e6;
	if (forked)
		waitpid(pid, NULL, 0);
	else
		pthread_join(t, NULL);
	for (int i = 0; i < 2; i++) {
		close(there[i]);
		close(back[i]);
	}
	return us;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median5(int forked)
{
	double v[5];
	for (int i = 0; i < 5; i++)
		v[i] = measure(forked);
	qsort(v, 5, sizeof v[0], cmp);
	return v[2];
}

int main(int argc, char **argv)
{
	int c;
	setprog(argv[0]);
	while ((c = getopt(argc, argv, "n:")) != -1)
		if (c == 'n')
			rounds = (long)estrtonum(optarg, 1, 100000000, "-n");
		else
			goto usage;
	if (argc - optind > 1)
		goto usage;
	int cpu = optind < argc ? (int)estrtonum(argv[optind], 0, CPU_SETSIZE - 1, "CPU")
				: sched_getcpu();
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (cpu < 0 || sched_setaffinity(0, sizeof set, &set))
		eprintf("CPU %d:", cpu);
	printf("process_us %.2f thread_us %.2f\n", median5(1), median5(0));
	return 0;
usage:
	fputs("usage: hop [-n ROUNDS] [CPU]\n", stderr);
	return EXIT_USAGE;
}
