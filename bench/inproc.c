/* inproc: the training loop of pipelines/train in one process, for `make
 * bench`: the same schedule, kernels and update as feed | rnn-fwd | rnn-bwd |
 * adagrad, without pipes. Its speed is the limit the pipeline is held to.
 *
 * usage: inproc [-r] [-B batch] [-T steps] [-j threads] CORPUS MODEL ITERATIONS
 *   -r  use the plain reference kernels (_ref) instead of the optimised ones
 *   -j  threads for the optimised kernels (rnn_set_threads; default 1)
 * Prints "chars_per_s N loss L" (L the last window's loss).
 * Legend: V vocab, H hidden, T steps, B batch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arg.h"
#include "corpus.h"
#include "err.h"
#include "model.h"
#include "rnn.h"
#include "ts.h"

static void usage(void)
{
	fputs("usage: inproc [-r] [-B batch] [-T steps] [-j threads] CORPUS MODEL ITERATIONS\n",
	      stderr);
	exit(EXIT_USAGE);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	int T = 25, B = 1, ref = 0, c;
	setprog(argv[0]);
	while ((c = getopt(argc, argv, "rB:T:j:")) != -1) {
		switch (c) {
		case 'r': ref = 1; break;
		case 'B': B = (int)estrtonum(optarg, 1, 1 << 16, "-B"); break;
		case 'T': T = (int)estrtonum(optarg, 1, 1 << 16, "-T"); break;
		case 'j': rnn_set_threads_arg(optarg); break;
		default: usage();
		}
	}
	if (argc - optind != 3)
		usage();
	long long iters = estrtonum(argv[optind + 2], 1, 1LL << 40, "ITERATIONS");

	struct ts_reader r;
	struct ts_frame f;
	struct rnn_params P, M, G;
	ts_ropen(&r, argv[optind + 1]);
	if (!ts_read_frame(&r, &f) || !model_from_frame(&P, &f, "", argv[optind + 1]))
		eprintf("%s: no model in the first frame", argv[optind + 1]);
	int V = P.V, H = P.H;
	model_alloc(&M, V, H);
	model_alloc(&G, V, H);

	struct corpus corpus;
	corpus_open(&corpus, argv[optind], V);
	uint64_t L = corpus.n / (uint64_t)B;
	if (L < (uint64_t)T + 2)
		eprintf("%s: too short", argv[optind]);
	size_t TB = (size_t)T * B;
	int32_t *x = emalloc(TB * sizeof *x), *y = emalloc(TB * sizeof *y);
	int32_t *run = emalloc(((size_t)T + 1) * sizeof *run);
	real *h = ecalloc((size_t)B * H, sizeof *h);
	real *dh0 = emalloc((size_t)B * H * sizeof *dh0);
	real *hs = emalloc(TB * H * sizeof *hs), *ps = emalloc(TB * V * sizeof *ps);
	real *loss = emalloc((size_t)B * sizeof *loss);
	void *scratch = emalloc(rnn_scratch_bytes(V, H, T, B));
	struct corpus_cursor *cur = emalloc((size_t)B * sizeof *cur);
	for (int b = 0; b < B; b++)
		cursor_init(&cur[b], &corpus, 4096);

	uint64_t pos = 0;
	double last = 0, t0 = now();
	for (long long it = 0; it < iters; it++) {
		if (pos + (uint64_t)T + 1 >= L) {
			pos = 0;
			memset(h, 0, (size_t)B * H * sizeof *h);
		}
		corpus_window(cur, B, L, pos, T, x, y, run);
		if (ref) {
			last = rnn_forward_ref(&P, T, B, x, y, h, hs, ps, loss);
			rnn_backward_ref(&G, dh0, &P, T, B, x, y, h, hs, ps, scratch);
		} else {
			last = rnn_forward(&P, T, B, x, y, h, hs, ps, loss);
			rnn_backward(&G, dh0, &P, T, B, x, y, h, hs, ps, scratch);
		}
		rnn_clip(&G, 5);
		real *p[5] = { P.Wxh, P.Whh, P.Why, P.bh, P.by };
		real *m[5] = { M.Wxh, M.Whh, M.Why, M.bh, M.by };
		real *g[5] = { G.Wxh, G.Whh, G.Why, G.bh, G.by };
		size_t n[5] = { (size_t)H * V, (size_t)H * H, (size_t)V * H, (size_t)H, (size_t)V };
		for (int i = 0; i < 5; i++)
			(ref ? adagrad_update_ref : adagrad_update)(p[i], m[i], g[i], n[i], (real)0.1);
		memcpy(h, hs + (TB - B) * H, (size_t)B * H * sizeof *h);
		pos += (uint64_t)T;
	}
	double dt = now() - t0;
	printf("chars_per_s %.0f loss %.4f\n", (double)iters * (double)TB / dt, last);
	return 0;
}
