/* peak: the machine's single-precision multiply-add peak, for `make bench`
 * to hold the kernels' GFLOP/s against.
 *
 *     peak [-j THREADS]
 *
 * Prints one line
 *     isa NAME lanes L gflops_1 X gflops_all Y gflops_all_median Z threads N
 * X: one thread, in its own CPU time (so that other programs on the machine
 * disturb it less); Y: THREADS threads side by side (default: the CPUs
 * online), all the work over the wall time, each the best of a few runs;
 * Z: the median of those runs of THREADS, what the machine gives them
 * most of the time (on a virtual machine whose host lends the other CPUs
 * less at some moments than at others, Z falls below Y).
 * A flop is a multiply or an add: a fused multiply-add counts 2, as the
 * kernels' figures count them.
 *
 * The loop: NACC independent accumulators, each acc = acc * m + a per
 * round, enough of them to cover the latency of the multiply-add units
 * (4 cycles, 2 units on recent x86), in the widest vectors the CPU runs
 * (AVX-512, AVX2 with FMA, else 16-byte vectors with a separate multiply
 * and add). m < 1 keeps every value bounded and normal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arg.h"
#include "err.h"
#include "pool.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=fast")
#endif
#ifdef __clang__
#define UNROLL _Pragma("clang loop unroll(full)")
#else
#define UNROLL _Pragma("GCC unroll 16")
#endif

enum { NACC = 12 };
static const long ROUNDS = 20000000;	/* about 0.1 s at 100 GFLOP/s */

/* One version of the loop for vectors of BYTES bytes under attribute ATTR:
 * rounds rounds of NACC multiply-adds; returns a sum of the accumulators so
 * the loop cannot be dropped. */
#define PEAK_LOOP(NAME, BYTES, ATTR) \
	ATTR static float NAME(long rounds) \
	{ \
		typedef float v __attribute__((vector_size(BYTES))); \
		v acc[NACC], m, a; \
		for (int l = 0; l < (int)(BYTES / sizeof(float)); l++) { \
			m[l] = 0.999f; \
			a[l] = 0.001f; \
		} \
		UNROLL \
		for (int i = 0; i < NACC; i++) \
			acc[i] = a * (float)(i + 1); \
		for (long r = 0; r < rounds; r++) \
			UNROLL \
			for (int i = 0; i < NACC; i++) \
				acc[i] = acc[i] * m + a; \
		float s = 0; \
		for (int i = 0; i < NACC; i++) \
			for (int l = 0; l < (int)(BYTES / sizeof(float)); l++) \
				s += acc[i][l]; \
		return s; \
	}

#if defined(__x86_64__) && defined(__GNUC__)
PEAK_LOOP(loop_avx512, 64, __attribute__((target("avx512f"))))
PEAK_LOOP(loop_avx2, 32, __attribute__((target("avx2,fma"))))
#endif
PEAK_LOOP(loop_base, 16, )

static struct {
	const char *isa;
	int lanes;
	double flops_per_round;	/* per round of NACC vectors */
	float (*loop)(long rounds);
} best;

/* The widest version this CPU runs. */
static void choose(void)
{
	best.isa = "base", best.lanes = 4, best.loop = loop_base;
#if defined(__x86_64__) && defined(__GNUC__)
	if (__builtin_cpu_supports("avx512f"))
		best.isa = "avx512", best.lanes = 16, best.loop = loop_avx512;
	else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		best.isa = "avx2", best.lanes = 8, best.loop = loop_avx2;
#endif
	best.flops_per_round = 2.0 * NACC * best.lanes;
}

static double seconds(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static volatile float sink;

static void run_part(void *arg, int part)
{
	(void)arg;
	(void)part;
	sink = best.loop(ROUNDS);
}

/* GFLOP/s of n threads running the loop side by side, in wall time (n 1:
 * the thread's CPU time). */
static double rate(int n)
{
	clockid_t clock = n == 1 ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC;
	double t0 = seconds(clock);
	pool_run(n, run_part, NULL);
	double dt = seconds(clock) - t0;
	return best.flops_per_round * (double)ROUNDS * n / dt / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int n = cpus > 0 && cpus <= POOL_MAX ? (int)cpus : 1, c;
	setprog(argv[0]);
	while ((c = getopt(argc, argv, "j:")) != -1) {
		if (c != 'j')
			uprintf("usage: peak [-j THREADS]");
		n = (int)estrtonum(optarg, 1, POOL_MAX, "-j");
	}
	choose();
	enum { RUNS = 9 };
	double one = 0, all[RUNS];
	for (int i = 0; i < RUNS; i++) {
		double r1 = rate(1);
		one = r1 > one ? r1 : one;
		all[i] = rate(n);
	}
	qsort(all, RUNS, sizeof all[0], cmp_double);
	printf("isa %s lanes %d gflops_1 %.1f gflops_all %.1f gflops_all_median %.1f threads %d\n",
	       best.isa, best.lanes, one, all[RUNS - 1], all[RUNS / 2], n);
	efshut_stdout();
}
