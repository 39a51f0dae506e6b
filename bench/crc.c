/* crc: what the stream's CRC-32 check costs, for `make bench`: MB/s of the
 * table-driven and the run-time selected implementation on a 1 MiB buffer,
 * best of several runs. Prints "crc32 IMPL MBps N tables_MBps N". */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "crc32.h"
#include "err.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Best MB/s over several timed passes of f over buf. */
static double rate(uint32_t (*f)(uint32_t, const void *, size_t), const unsigned char *buf,
		   size_t n, uint32_t *sink)
{
	double best = 0;
	for (int run = 0; run < 5; run++) {
		double t0 = now();
		for (int i = 0; i < 50; i++)
			*sink ^= f(0, buf, n);
		double r = 50.0 * (double)n / 1e6 / (now() - t0);
		if (r > best)
			best = r;
	}
	return best;
}

int main(int argc, char **argv)
{
	(void)argc;
	setprog(argv[0]);
	size_t n = 1 << 20;
	unsigned char *buf = emalloc(n);
	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)(i * 2654435761u >> 24);
	uint32_t sink = 0;	/* printed, so the work cannot be optimised away */
	double fast = rate(crc32_update, buf, n, &sink);
	double slow = rate(crc32_tables, buf, n, &sink);
	printf("crc32 %s MBps %.0f tables_MBps %.0f (%08x)\n", crc32_impl(), fast, slow, sink);
	free(buf);
	return 0;
}
