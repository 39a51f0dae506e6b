/* rnn-init: a fresh model for a vocabulary.
 *
 * The default (-C rnn, one layer) writes one frame "params": the vocabulary,
 * Wxh (H,V), Whh (H,H), Why (V,H) drawn from N(0,1) * 0.01 as min-char-rnn
 * does, and bh (H), by (V) zero. The draws come from lib/rng in a fixed
 * order (Wxh, Whh, Why, row-major), so a seed gives the same bytes on every
 * machine. Any other cell or layer count writes the model family's frame
 * (lib/netmodel.h): vocab, arch, Wx.l, Wh.l, b.l for each layer, Why, by,
 * the weights drawn the same way in that order, the biases zero but an
 * LSTM's forget-gate block, 1. See formats/model.md.
 *
 * Legend: V vocab, H hidden, L layers, G gates.
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
#include "net.h"
#include "netmodel.h"
#include "rng.h"
#include "ts.h"
#include "vocab.h"
#include "workspace.h"

static void usage(void)
{
	fputs("usage: rnn-init [-C cell] [-L layers] [-H hidden[,hidden...]] [-s seed] [VOCAB]\n", stderr);
	exit(EXIT_USAGE);
}

static void help(void)
{
	puts("usage: rnn-init [-C cell] [-L layers] [-H hidden[,hidden...]] [-s seed] [VOCAB]\n"
	     "Write a new model (frame \"params\") for the vocabulary in VOCAB or on\n"
	     "stdin (any stream holding a tensor \"vocab\", e.g. from vocab or a model).\n"
	     "  -C C   cell: rnn (default), lstm or gru\n"
	     "  -L N   layers, 1 to 16 (1; or as many as -H gives sizes)\n"
	     "  -H N   hidden units (100), one size for all layers or one per layer\n"
	     "         (-H 128,256)\n"
	     "  -s N   random seed (0); the same seed gives the same model everywhere");
	efshut_stdout();
}

/* n draws of N(0,1) * 0.01, scaled in double and rounded once to real. */
static void draw(real *p, size_t n, struct rng *g)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (real)(rng_normal(g) * 0.01);
}

/* Parse -H's argument s: one size, or sizes separated by commas, into H;
 * returns how many. */
static int parse_sizes(const char *s, int H[NET_MAX_L])
{
	char buf[256];
	int n = 0;
	if (strlen(s) >= sizeof buf)
		uprintf("-H: too long: '%.20s...'", s);
	strcpy(buf, s);
	for (char *p = buf, *end;; p = end + 1) {
		end = strchr(p, ',');
		if (end)
			*end = 0;
		if (n == NET_MAX_L)
			uprintf("-H: more than %d sizes", NET_MAX_L);
		H[n++] = (int)estrtonum(p, 1, MODEL_MAX_H, "-H");
		if (!end)
			return n;
	}
}

/* The model family's frame for cell, L layers of sizes H, vocabulary v. */
static void write_net(const struct vocab *v, int cell, int L, const int *H, struct rng *g)
{
	struct net P;
	real *base = ecalloc(net_nparams(cell, L, v->V, H), sizeof(real));
	net_bind(&P, base, cell, L, v->V, H);
	const size_t G = (size_t)net_gates(cell);
	for (int l = 0; l < L; l++) {
		size_t h = (size_t)H[l];
		draw(P.l[l].Wx, G * h * (size_t)P.l[l].I, g);
		draw(P.l[l].Wh, G * h * h, g);
		if (cell == NET_LSTM)
			for (size_t k = h; k < 2 * h; k++)
				P.l[l].b[k] = 1;
	}
	draw(P.Why, (size_t)v->V * (size_t)H[L - 1], g);
	struct ts_writer w;
	ts_wopen(&w, NULL);
	ts_write_frame(&w, WS_PARAMS, 1 + (uint32_t)netmodel_ntensors(&P, ""));
	vocab_write(&w, v);
	netmodel_write(&w, &P, "");
	ts_wclose(&w);
	free(base);
}

int main(int argc, char **argv)
{
	int c, H = 100, cell = NET_RNN, L = 0, nh = 1;
	int sizes[NET_MAX_L] = { 100 };
	unsigned long long seed = 0;

	setprog(argv[0]);
	if (argc > 1 && is_help(argv[1]))
		help();
	while ((c = getopt(argc, argv, "C:L:H:s:")) != -1) {
		switch (c) {
		case 'C':
			if ((cell = netmodel_cell(optarg)) < 0)
				uprintf("-C: unknown cell '%s' (rnn, lstm or gru)", optarg);
			break;
		case 'L':
			L = (int)estrtonum(optarg, 1, NET_MAX_L, "-L");
			break;
		case 'H':
			nh = parse_sizes(optarg, sizes);
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
	if (L == 0)
		L = nh;
	if (nh == 1)
		for (int l = 1; l < L; l++)
			sizes[l] = sizes[0];
	else if (nh != L)
		uprintf("-H: %d sizes for %d layers", nh, L);
	H = sizes[0];

	const char *path = argv[optind];
	struct vocab v;
	vocab_load(&v, path);
	if (v.V < 1 || v.V > MODEL_MAX_V)
		eprintf("%s: vocabulary of %d entries (a model needs 1 to %d)",
			!path || strcmp(path, "-") == 0 ? "<stdin>" : path, v.V, MODEL_MAX_V);

	struct rng g;
	rng_seed(&g, seed);
	if (cell != NET_RNN || L > 1) {
		write_net(&v, cell, L, sizes, &g);
		vocab_free(&v);
		return 0;
	}
	struct rnn_params P;
	size_t h = (size_t)H, V = (size_t)v.V;
	model_alloc(&P, v.V, H);
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
