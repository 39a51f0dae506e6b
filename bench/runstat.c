/* runstat: run a command; print its wall time and the peak resident memory
 * of the largest process it ran, for `make bench`.
 *
 * usage: runstat COMMAND [ARG...]     (sh -c '...' for a pipeline)
 * Prints "seconds S maxrss_kib K" on stderr; exits with the command's status
 * (128 + signal number if a signal ended it). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "err.h"

int main(int argc, char **argv)
{
	setprog(argv[0]);
	if (argc < 2) {
		fputs("usage: runstat COMMAND [ARG...]\n", stderr);
		return EXIT_USAGE;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid < 0)
		eprintf("fork:");
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		eprintf("%s:", argv[1]);
	}
	int st;
	if (waitpid(pid, &st, 0) < 0)
		eprintf("waitpid:");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	fprintf(stderr, "seconds %.6f maxrss_kib %ld\n",
		(double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9, ru.ru_maxrss);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
