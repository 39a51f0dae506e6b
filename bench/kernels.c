/* kernels.c: how fast the RNN kernels run, as a table on stdout.
 *
 *     kernels [-q]
 *
 * Characters per second of one training step (rnn_forward, rnn_backward,
 * rnn_clip, adagrad_update on all parameters) for the reference and the
 * optimised kernels at H=100 V=110 T=25 and several batch sizes; the
 * optimised step for growing H at B=1, whose cost per character should grow
 * as H^2; and one sampling step (rnn_step with the logits, and
 * gen_seq_next with its softmax and draw); then the last two for each
 * version of the kernels (instruction set) the CPU runs. Each figure is the median of several timed runs of at least 0.2 s,
 * timed in CPU time of the thread, so that other programs running on the
 * machine disturb it less. -q: fewer and shorter runs, for a quick look. No
 * pass or fail: read the numbers.
 *
 * Legend: V vocab, H hidden, T steps, B batch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "gen.h"
#include "rng.h"
#include "rnn.h"

static int runs = 7;
static double min_run = 0.2;	/* seconds */
static struct rng rng;

/* Seconds of CPU time this thread has used. */
static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Everything one training step touches. */
struct bench {
	int V, H, T, B;
	struct rnn_params P, G, M;
	real *mem;
	int32_t *x, *y;
	real *h0, *hs, *ps, *loss, *dh0;
	void *scratch;
};

static void setup(struct bench *b, int V, int H, int T, int B)
{
	size_t np = rnn_nparams(V, H), N = (size_t)T * B;
	b->V = V, b->H = H, b->T = T, b->B = B;
	real *a = emalloc(3 * np * sizeof(real));
	for (size_t i = 0; i < np; i++)
		a[i] = (real)(0.01 * rng_normal(&rng));
	memset(a + np, 0, 2 * np * sizeof(real));
	real *g = rnn_params_bind(&b->P, a, V, H);
	rnn_params_bind(&b->M, rnn_params_bind(&b->G, g, V, H), V, H);
	b->x = emalloc(N * sizeof(int32_t));
	b->y = emalloc(N * sizeof(int32_t));
	for (size_t n = 0; n < N; n++) {
		b->x[n] = (int32_t)(rng_next(&rng) % (uint64_t)V);
		b->y[n] = (int32_t)(rng_next(&rng) % (uint64_t)V);
	}
	b->h0 = ecalloc((size_t)B * H, sizeof(real));
	b->dh0 = ecalloc((size_t)B * H, sizeof(real));
	b->hs = ecalloc(N * H, sizeof(real));
	b->ps = ecalloc(N * V, sizeof(real));
	b->loss = ecalloc((size_t)B, sizeof(real));
	b->scratch = emalloc(rnn_scratch_bytes(V, H, T, B));
}

static void teardown(struct bench *b)
{
	free(b->P.Wxh), free(b->x), free(b->y), free(b->h0), free(b->dh0);
	free(b->hs), free(b->ps), free(b->loss), free(b->scratch);
}

/* One training step; the hidden state is carried as in training. */
static void step(struct bench *b, int ref)
{
	size_t np = rnn_nparams(b->V, b->H), BH = (size_t)b->B * b->H;
	if (ref) {
		rnn_forward_ref(&b->P, b->T, b->B, b->x, b->y, b->h0, b->hs, b->ps, b->loss);
		rnn_backward_ref(&b->G, b->dh0, &b->P, b->T, b->B, b->x, b->y, b->h0,
				 b->hs, b->ps, b->scratch);
		rnn_clip(&b->G, 5);
		adagrad_update_ref(b->P.Wxh, b->M.Wxh, b->G.Wxh, np, (real)0.1);
	} else {
		rnn_forward(&b->P, b->T, b->B, b->x, b->y, b->h0, b->hs, b->ps, b->loss);
		rnn_backward(&b->G, b->dh0, &b->P, b->T, b->B, b->x, b->y, b->h0,
			     b->hs, b->ps, b->scratch);
		rnn_clip(&b->G, 5);
		adagrad_update(b->P.Wxh, b->M.Wxh, b->G.Wxh, np, (real)0.1);
	}
	memcpy(b->h0, b->hs + (size_t)(b->T - 1) * BH, BH * sizeof(real));
}

/* Median over runs of characters per second of training steps. */
static double train_rate(int V, int H, int T, int B, int ref)
{
	struct bench b;
	double r[32];
	setup(&b, V, H, T, B);
	step(&b, ref);	/* warm the caches */
	for (int i = 0; i < runs; i++) {
		long steps = 0;
		double t0 = now(), t;
		do {
			step(&b, ref);
			steps++;
		} while ((t = now() - t0) < min_run);
		r[i] = (double)steps * T * B / t;
	}
	teardown(&b);
	qsort(r, (size_t)runs, sizeof r[0], cmp_double);
	return r[runs / 2];
}

/* Median rate of sampling steps: the step and its logits (rnn_step and
 * rnn_out_logits), or gen_seq_next, which also draws. */
static double sample_rate(int V, int H, int full)
{
	struct bench b;
	double r[32];
	setup(&b, V, H, 1, 1);
	real *scratch = emalloc(gen_scratch_bytes(V, H));
	real *h = ecalloc((size_t)H, sizeof(real));
	struct params m = { .P = b.P, .V = V };
	struct gen_seq g;
	gen_seq_open(&g, &m);
	int x = 0;
	for (int i = 0; i < runs; i++) {
		long steps = 0;
		double t0 = now(), t;
		do {
			for (int k = 0; k < 100; k++) {
				if (full) {
					x = gen_seq_next(&g, x, 1, 0, &rng);
				} else {
					rnn_step(&b.P, h, x);
					rnn_out_logits(&g.out, h, scratch);
					x = (x + 1) % V;
				}
			}
			steps += 100;
		} while ((t = now() - t0) < min_run);
		r[i] = (double)steps / t;
	}
	gen_seq_close(&g);
	free(scratch);
	free(h);
	teardown(&b);
	qsort(r, (size_t)runs, sizeof r[0], cmp_double);
	return r[runs / 2];
}

int main(int argc, char *argv[])
{
	setprog(argv[0]);
	if (argc > 1 && strcmp(argv[1], "-q") == 0) {
		runs = 3;
		min_run = 0.05;
	} else if (argc > 1) {
		fprintf(stderr, "usage: kernels [-q]\n");
		return 2;
	}
	rng_seed(&rng, 1);
	const int V = 110, H = 100, T = 25;
	printf("training step (forward, backward, clip, adagrad) in %s, kernels for %s,\n"
	       "median of %d runs\n", sizeof(real) == 4 ? "float" : "double", rnn_isa(), runs);
	printf("H=%d V=%d T=%d          chars/s\n", H, V, T);
	printf("%6s %12s %12s %8s\n", "B", "reference", "optimised", "speedup");
	static const int Bs[] = { 1, 8, 32, 128 };
	for (size_t i = 0; i < sizeof Bs / sizeof Bs[0]; i++) {
		double ref = train_rate(V, H, T, Bs[i], 1);
		double opt = train_rate(V, H, T, Bs[i], 0);
		printf("%6d %12.0f %12.0f %7.1fx\n", Bs[i], ref, opt, opt / ref);
		fflush(stdout);
	}
	printf("\noptimised step against H, B=1 V=%d T=%d\n", V, T);
	printf("%6s %12s %10s %14s\n", "H", "chars/s", "ns/char", "ps/char/H^2");
	static const int Hs[] = { 16, 32, 64, 128, 256, 512, 1024 };
	for (size_t i = 0; i < sizeof Hs / sizeof Hs[0]; i++) {
		double r = train_rate(V, Hs[i], T, 1, 0);
		printf("%6d %12.0f %10.1f %14.1f\n", Hs[i], r, 1e9 / r,
		       1e12 / r / ((double)Hs[i] * Hs[i]));
		fflush(stdout);
	}
	printf("\nsampling, H=%d V=%d          chars/s\n", H, V);
	printf("%-28s %12.0f\n", "rnn_step + rnn_out_logits", sample_rate(V, H, 0));
	printf("%-28s %12.0f\n", "gen_seq_next (step+softmax+draw)", sample_rate(V, H, 1));

	const char *best = rnn_isa();
	printf("\neach version of the kernels, H=%d V=%d T=%d     chars/s\n", H, V, T);
	printf("%-8s %12s %12s %12s\n", "isa", "B=1", "B=32", "rnn_step");
	const char *isa;
	for (int i = 0; (isa = rnn_isa_name(i)); i++) {
		if (!rnn_set_isa(isa)) {
			printf("%-8s %12s\n", isa, "(not on this CPU)");
			continue;
		}
		printf("%-8s %12.0f %12.0f %12.0f\n", isa, train_rate(V, H, T, 1, 0),
		       train_rate(V, H, T, 32, 0), sample_rate(V, H, 0));
		fflush(stdout);
	}
	rnn_set_isa(best);
	efshut_stdout();
}
