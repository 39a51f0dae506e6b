/* net.c: how fast the model family's passes run (lib/net.h), as a table on
 * stdout.
 *
 *     net [-q] [-p GFLOPS]
 *
 * Characters per second and GFLOP/s of one training step (net_forward then
 * net_backward, no optimiser; states carried from window to window) at
 * T=50 V=65, for the LSTM of 2 layers of 128 and for rnn, gru and lstm of
 * one layer of H = 128, 512 and 1024, each at B=50 and B=1: the reference
 * (_ref) for the small ones, the fast passes on one thread and, at B=50,
 * on two. FLOPs per character are formats/model.md's: a step is 3F, F =
 * 2 (G H_0^2 + sum_{l>0} G H_l (H_{l-1} + H_l) + V H_{L-1}). With -p, the
 * peak of one core (bench/peak's gflops_1, a best of several runs), the
 * one-thread figure is also given as a fraction of it, for the median run
 * and the best. Each figure is the median of several timed runs of at
 * least a minimum time, in the thread's CPU time (one thread) or wall time
 * (two threads, and the one-thread run their speed-up is taken against).
 * -q: one short run each, the reference only where a window takes under a
 * second, no two-thread runs at H=1024. No pass or fail.
 *
 * Legend: V vocab, H hidden, L layers, G gate blocks, T steps, B batch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arg.h"
#include "err.h"
#include "net.h"
#include "rng.h"

static int runs = 5;
static double min_run = 0.3;	/* seconds */
static struct rng rng;

static double now(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Everything one training step touches. */
struct bench {
	struct net P, G;
	int T, B;
	int32_t *x, *y;
	real *pa, *ga, *ps, *loss, *h0[NET_MAX_L], *c0[NET_MAX_L], *dh0[NET_MAX_L],
	    *dc0[NET_MAX_L];
	struct net_acts A;
	void *fs, *bs;
};

static real *zeros(size_t n)
{
	return ecalloc(n ? n : 1, sizeof(real));
}

static void setup(struct bench *b, int cell, int L, const int *H, int V, int T, int B)
{
	const size_t np = net_nparams(cell, L, V, H), n = (size_t)T * B;
	memset(b, 0, sizeof *b);
	b->T = T, b->B = B;
	b->pa = zeros(np), b->ga = zeros(np);
	for (size_t i = 0; i < np; i++)
		b->pa[i] = (real)(0.01 * rng_normal(&rng));
	net_bind(&b->P, b->pa, cell, L, V, H);
	net_bind(&b->G, b->ga, cell, L, V, H);
	b->x = emalloc(n * sizeof(int32_t));
	b->y = emalloc(n * sizeof(int32_t));
	for (size_t i = 0; i < n; i++) {
		b->x[i] = (int32_t)(rng_next(&rng) % (uint64_t)V);
		b->y[i] = (int32_t)(rng_next(&rng) % (uint64_t)V);
	}
	for (int l = 0; l < L; l++) {
		size_t s[3], bh = (size_t)B * H[l];
		net_acts_sizes(&b->P, l, n, s);
		b->A.hs[l] = zeros(s[0]), b->A.cs[l] = zeros(s[1]), b->A.gs[l] = zeros(s[2]);
		b->h0[l] = zeros(bh), b->c0[l] = zeros(bh), b->dh0[l] = zeros(bh);
		b->dc0[l] = zeros(bh);
	}
	b->ps = zeros(n * V), b->loss = zeros((size_t)B);
	b->fs = emalloc(net_fwd_scratch_bytes(&b->P, T, B));
	b->bs = emalloc(net_scratch_bytes(&b->P, T, B));
}

static void teardown(struct bench *b)
{
	for (int l = 0; l < b->P.L; l++) {
		free(b->A.hs[l]), free(b->A.cs[l]), free(b->A.gs[l]);
		free(b->h0[l]), free(b->c0[l]), free(b->dh0[l]), free(b->dc0[l]);
	}
	free(b->pa), free(b->ga), free(b->x), free(b->y), free(b->ps), free(b->loss);
	free(b->fs), free(b->bs);
}

/* One training step; every layer's last states start the next window. */
static void step(struct bench *b, int ref)
{
	const struct net *P = &b->P;
	if (ref) {
		net_forward_ref(P, b->T, b->B, b->x, b->y, b->h0, b->c0, &b->A, b->ps, b->loss);
		net_backward_ref(&b->G, b->dh0, b->dc0, P, b->T, b->B, b->x, b->y, b->h0, b->c0,
				 &b->A, b->ps, b->bs);
	} else {
		net_forward(P, b->T, b->B, b->x, b->y, b->h0, b->c0, &b->A, b->ps, b->loss, b->fs);
		net_backward(&b->G, b->dh0, b->dc0, P, b->T, b->B, b->x, b->y, b->h0, b->c0,
			     &b->A, b->ps, b->bs);
	}
	for (int l = 0; l < P->L; l++) {
		size_t bh = (size_t)b->B * P->l[l].H, last = (size_t)(b->T - 1) * bh;
		memcpy(b->h0[l], b->A.hs[l] + last, bh * sizeof(real));
		if (b->A.cs[l])
			memcpy(b->c0[l], b->A.cs[l] + last, bh * sizeof(real));
	}
}

/* Median over runs of characters per second of training steps, on
 * threads threads, timed by clock; the best run into *best if not NULL. */
static double rate(struct bench *b, int ref, int threads, clockid_t clock, double *best)
{
	double r[32];
	rnn_set_threads(threads);
	if (!ref)
		step(b, ref);	/* warm the caches, start the workers */
	for (int i = 0; i < runs; i++) {
		long steps = 0;
		double t0 = now(clock), t;
		do {
			step(b, ref);
			steps++;
		} while ((t = now(clock) - t0) < min_run);
		r[i] = (double)steps * b->T * b->B / t;
	}
	rnn_set_threads(1);
	qsort(r, (size_t)runs, sizeof r[0], cmp_double);
	if (best)
		*best = r[runs - 1];
	return r[runs / 2];
}

/* FLOPs of one training step per character: 3F. */
static double step_flops(int cell, int L, const int *H, int V)
{
	double G = net_gates(cell), f = G * H[0] * H[0];
	for (int l = 1; l < L; l++)
		f += G * H[l] * (double)(H[l - 1] + H[l]);
	return 3 * 2 * (f + (double)V * H[L - 1]);
}

static double peak;	/* GFLOP/s of one core, 0 unknown */

/* One row of the table: cell, L layers of H, at B; the reference when ref,
 * two threads when two. */
static void row(int cell, int L, const int *H, int B, int ref, int two)
{
	enum { V = 65, T = 50 };
	const clockid_t cpu = CLOCK_THREAD_CPUTIME_ID, wall = CLOCK_MONOTONIC;
	struct bench b;
	char what[40], rs[16] = "-", sp[16] = "-", fr[16] = "-", bfr[16] = "-", f2s[40] = "-";
	double best;
	setup(&b, cell, L, H, V, T, B);
	const double fl = step_flops(cell, L, H, V) / 1e9;
	const double r = ref ? rate(&b, 1, 1, cpu, NULL) : 0, f = rate(&b, 0, 1, cpu, &best);
	if (two) {
		double w1 = rate(&b, 0, 1, wall, NULL), w2 = rate(&b, 0, 2, wall, NULL);
		snprintf(f2s, sizeof f2s, "%.0f (%.2fx)", w2, w2 / w1);
	}
	teardown(&b);
	snprintf(what, sizeof what, "%s %dx%d B=%d", net_cell_names[cell], L, H[0], B);
	if (ref) {
		snprintf(rs, sizeof rs, "%.0f", r);
		snprintf(sp, sizeof sp, "%.1fx", f / r);
	}
	if (peak > 0) {
		snprintf(fr, sizeof fr, "%.2f", f * fl / peak);
		snprintf(bfr, sizeof bfr, "%.2f", best * fl / peak);
	}
	printf("%-17s %9s %9.0f %7s %9.0f %7.1f %5s %5s  %s\n", what, rs, f, sp, best, f * fl,
	       fr, bfr, f2s);
	fflush(stdout);
}

int main(int argc, char *argv[])
{
	int c, quick = 0;
	setprog(argv[0]);
	while ((c = getopt(argc, argv, "qp:")) != -1) {
		if (c == 'q')
			quick = 1;
		else if (c == 'p')
			peak = estrtod(optarg, 0, 1e6, "-p");
		else
			uprintf("usage: net [-q] [-p GFLOPS]");
	}
	if (quick)
		runs = 1, min_run = 0.1;
	rng_seed(&rng, 1);
	printf("model family: one training step (forward + backward) in %s, kernels for %s,\n"
	       "T=50 V=65, chars/s (median of %d runs), GFLOP/s (3F a char), the fraction of\n"
	       "one core's peak (%.1f GFLOP/s, bench/peak) of the median and the best run;\n"
	       "2 threads: chars/s in wall time, speed-up over 1 thread in wall time\n",
	       sizeof(real) == 4 ? "float" : "double", rnn_isa(), runs, peak);
	printf("%-17s %9s %9s %7s %9s %7s %5s %5s  %s\n", "model", "reference", "fast",
	       "speedup", "best", "GFLOP/s", "peak", "best", "2 threads");
	static const int two[2] = { 128, 128 };
	row(NET_LSTM, 2, two, 50, 1, 1);
	row(NET_LSTM, 2, two, 1, 1, 0);
	static const int Hs[3] = { 128, 512, 1024 };
	for (int i = 0; i < 3; i++)
		for (int cell = 0; cell < NET_NCELLS; cell++)
			for (int B = 50; B >= 1; B -= 49)
				row(cell, 1, &Hs[i], B, Hs[i] == 128, B > 1 && (!quick || Hs[i] < 1024));
	efshut_stdout();
}
