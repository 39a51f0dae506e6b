/* rnn-init: a fresh model for a vocabulary.
 *
 * Writes one frame "params": the vocabulary, Wxh (H,V), Whh (H,H), Why (V,H)
 * drawn from N(0,1) * 0.01 as min-char-rnn does, and bh (H), by (V) zero.
 * The draws come from lib/rng in a fixed order (Wxh, Whh, Why, row-major),
 * so a seed gives the same bytes on every machine. See formats/model.md.
 *
 * Legend: V vocab, H hidden.
 *
 * Its contract (options, streams, exit status): man/charnn-rnn-init.1. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arg.h"
#include "err.h"
#include "model.h"
#include "rng.h"
#include "ts.h"
#include "vocab.h"
#include "workspace.h"

static void usage(void)
{
	fputs("usage: rnn-init [-H hidden] [-s seed] [VOCAB]\n", stderr);
	exit(EXIT_USAGE);
}

static void help(void)
{
	puts("usage: rnn-init [-H hidden] [-s seed] [VOCAB]\n"
	     "Write a new model (frame \"params\") for the vocabulary in VOCAB or on\n"
	     "stdin (any stream holding a tensor \"vocab\", e.g. from vocab or a model).\n"
	     "  -H N   hidden units (100)\n"
	     "  -s N   random seed (0); the same seed gives the same model everywhere");
	efshut_stdout();
}

/* n draws of N(0,1) * 0.01, scaled in double and rounded once to real. */
static void draw(real *p, size_t n, struct rng *g)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (real)(rng_normal(g) * 0.01);
}

int main(int argc, char **argv)
{
	int c, H = 100;
	unsigned long long seed = 0;

	setprog(argv[0]);
	if (argc > 1 && is_help(argv[1]))
		help();
	while ((c = getopt(argc, argv, "H:s:")) != -1) {
		switch (c) {
		case 'H':
			H = (int)estrtonum(optarg, 1, MODEL_MAX_H, "-H");
			break;
		case 's':
			seed = (unsigned long long)estrtonum(optarg, 0, LLONG_MAX, "-s");
			break;
		default:
			usage();
		}
	}
	if (argc - optind > 1)
		usage();

	const char *path = argv[optind];
	struct vocab v;
	vocab_load(&v, path);
	if (v.V < 1 || v.V > MODEL_MAX_V)
		eprintf("%s: vocabulary of %d entries (a model needs 1 to %d)",
			!path || strcmp(path, "-") == 0 ? "<stdin>" : path, v.V, MODEL_MAX_V);

	struct rnn_params P;
	struct rng g;
	size_t h = (size_t)H, V = (size_t)v.V;
	model_alloc(&P, v.V, H);
	rng_seed(&g, seed);
	draw(P.Wxh, h * V, &g);
	draw(P.Whh, h * h, &g);
	draw(P.Why, V * h, &g);

	struct ts_writer w;
	ts_wopen(&w, NULL);
	ts_write_frame(&w, WS_PARAMS, 1 + MODEL_NTENSORS);
	vocab_write(&w, &v);
	model_write(&w, &P, "");
	ts_wclose(&w);
	model_free(&P);
	vocab_free(&v);
	return 0;
}
