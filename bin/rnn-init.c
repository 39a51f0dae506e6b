/* rnn-init: a fresh model for a vocabulary.
 *
 * The default (-C rnn, one layer) writes one frame "params": the vocabulary,
 * Wxh (H,V), Whh (H,H), Why (V,H) drawn from N(0,1) * 0.01 as min-char-rnn
 * does, and bh (H), by (V) zero. The draws come from lib/rng in a fixed
 * order (Wxh, Whh, Why, row-major), so a seed gives the same bytes on every
 * machine. Any other cell or layer count writes the model family's frame
 * (lib/netmodel.h): vocab, arch, Wx.l, Wh.l, b.l for each layer, Why, by,
 * the weights drawn in that order uniform on +-1/sqrt(H) as PyTorch does
 * (N(0,1) * 0.01 trains them far worse: measured on tiny-shakespeare, a GRU
 * 2x128 with Adam 2e-3 held out 2.81 bpc after 120 s so, 2.29 after 60 s
 * with this), the biases zero but an LSTM's forget-gate block, 1. -i draws
 * the weights another way (normal of any scale, uniform, Xavier's,
 * PyTorch's), in the same order; the biases stay as they are. See
 * formats/model.md, INITIALISATION.
 *
 * Legend: V vocab, H hidden, L layers, G gates.
 *
 * Its contract (options, streams, exit status): man/charnn-rnn-init.1. */
#include <ctype.h>
#include <limits.h>
#include <math.h>
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
	fputs("usage: rnn-init [-C cell] [-L layers] [-H hidden[,hidden...]] [-i scheme] [-s seed] [VOCAB]\n", stderr);
	exit(EXIT_USAGE);
}

static void help(void)
{
	puts("usage: rnn-init [-C cell] [-L layers] [-H hidden[,hidden...]] [-i scheme] [-s seed] [VOCAB]\n"
	     "Write a new model (frame \"params\") for the vocabulary in VOCAB or on\n"
	     "stdin (any stream holding a tensor \"vocab\", e.g. from vocab or a model).\n"
	     "  -C C   cell: rnn (default), lstm or gru\n"
	     "  -L N   layers, 1 to 16 (1; or as many as -H gives sizes)\n"
	     "  -H N   hidden units (100), one size for all layers or one per layer\n"
	     "         (-H 128,256)\n"
	     "  -i I   how the weights are drawn: normal:S, N(0,1) times S\n"
	     "         (min-char-rnn's normal:0.01, the default model's default);\n"
	     "         uniform:A, uniform on +-A (char-rnn's: uniform:0.08); xavier,\n"
	     "         uniform on +-sqrt(6/(fan_in+fan_out)); pytorch, uniform on\n"
	     "         +-1/sqrt(H) (the default for any other cell or layers)\n"
	     "  -s N   random seed (0); the same seed gives the same model everywhere");
	efshut_stdout();
}

/* An initialisation scheme (-i): how the weight matrices are drawn. */
enum { INIT_NORMAL, INIT_UNIFORM, INIT_XAVIER, INIT_PYTORCH };
struct init {
	int kind;
	double a;	/* normal: S, the scale; uniform: A, the bound */
};

/* -i's argument s: normal:S, uniform:A (S, A in (0, 10]), xavier or
 * pytorch. */
static struct init parse_init(const char *s)
{
	static const struct { const char *prefix, *letter; int kind; } num[] = {
		{ "normal:", "S", INIT_NORMAL },
		{ "uniform:", "A", INIT_UNIFORM },
	};
	if (strcmp(s, "xavier") == 0)
		return (struct init){ INIT_XAVIER, 0 };
	if (strcmp(s, "pytorch") == 0)
		return (struct init){ INIT_PYTORCH, 0 };
	for (size_t k = 0; k < sizeof num / sizeof num[0]; k++) {
		size_t n = strlen(num[k].prefix);
		if (strncmp(s, num[k].prefix, n) != 0)
			continue;
		const char *t = s + n;
		char *end;
		if (!*t || isspace((unsigned char)*t))	/* strtod skips blanks */
			break;
		double a = strtod(t, &end);
		if (*end)
			break;
		if (!(a > 0 && a <= 10))	/* NaN too */
			uprintf("-i: '%s': %s is out of range (0, 10]", s, num[k].letter);
		return (struct init){ num[k].kind, a };
	}
	uprintf("-i: '%s' is not normal:S, uniform:A, xavier or pytorch", s);
}

/* Draw the n reals of a weight matrix p (row-major) by scheme in: fan_in
 * its columns, fan_out the rows of one gate block, H the hidden size of its
 * layer (of the top layer for Why). A normal draw is N(0,1) * S; a uniform
 * one b * (2u - 1), u uniform in [0, 1) from the top 53 bits; either is
 * computed in double and rounded once to real. */
static void draw(real *p, size_t n, int fan_in, int fan_out, int H,
		 const struct init *in, struct rng *g)
{
	double b;
	switch (in->kind) {
	case INIT_NORMAL:
		for (size_t i = 0; i < n; i++)
			p[i] = (real)(rng_normal(g) * in->a);
		return;
	case INIT_UNIFORM:
		b = in->a;
		break;
	case INIT_XAVIER:
		b = sqrt(6.0 / ((double)fan_in + (double)fan_out));
		break;
	default:	/* INIT_PYTORCH */
		b = 1.0 / sqrt((double)H);
		break;
	}
	for (size_t i = 0; i < n; i++)
		p[i] = (real)((2 * rng_uniform(g) - 1) * b);
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
static void write_net(const struct vocab *v, int cell, int L, const int *H,
		      const struct init *in, struct rng *g)
{
	struct net P;
	real *base = ecalloc(net_nparams(cell, L, v->V, H), sizeof(real));
	net_bind(&P, base, cell, L, v->V, H);
	const size_t G = (size_t)net_gates(cell);
	for (int l = 0; l < L; l++) {
		size_t h = (size_t)H[l];
		draw(P.l[l].Wx, G * h * (size_t)P.l[l].I, P.l[l].I, H[l], H[l], in, g);
		draw(P.l[l].Wh, G * h * h, H[l], H[l], H[l], in, g);
		if (cell == NET_LSTM)
			for (size_t k = h; k < 2 * h; k++)
				P.l[l].b[k] = 1;
	}
	draw(P.Why, (size_t)v->V * (size_t)H[L - 1], H[L - 1], v->V, H[L - 1], in, g);
	struct ts_writer w;
	ts_wopen(&w, NULL);
	ts_write_frame(&w, WS_PARAMS, 1 + (uint32_t)netmodel_ntensors(&P, ""));
	vocab_write(&w, v);
	netmodel_write(&w, &P, "");
	ts_wclose(&w);
	free(base);
}

/* The default model's frame (one rnn layer of H), vocabulary v. */
static void write_rnn(const struct vocab *v, int H, const struct init *in, struct rng *g)
{
	struct rnn_params P;
	size_t h = (size_t)H, V = (size_t)v->V;
	model_alloc(&P, v->V, H);
	draw(P.Wxh, h * V, v->V, H, H, in, g);
	draw(P.Whh, h * h, H, H, H, in, g);
	draw(P.Why, V * h, H, v->V, H, in, g);
	struct ts_writer w;
	ts_wopen(&w, NULL);
	ts_write_frame(&w, WS_PARAMS, 1 + MODEL_NTENSORS);
	vocab_write(&w, v);
	model_write(&w, &P, "");
	ts_wclose(&w);
	model_free(&P);
}

struct opts {
	int cell, L;
	int H[NET_MAX_L];	/* each layer's size */
	struct init in;
	unsigned long long seed;
	const char *vocab;	/* NULL or "-": stdin */
};

/* The options into o; -L and -H together give L and every layer's size. */
static void parse(struct opts *o, int argc, char **argv)
{
	int c, nh = 1;
	*o = (struct opts){ .cell = NET_RNN, .H = { 100 }, .in = { -1, 0 } };
	if (argc > 1 && is_help(argv[1]))
		help();
	while ((c = getopt(argc, argv, "C:L:H:i:s:")) != -1) {
		switch (c) {
		case 'C':
			if ((o->cell = netmodel_cell(optarg)) < 0)
				uprintf("-C: unknown cell '%s' (rnn, lstm or gru)", optarg);
			break;
		case 'L':
			o->L = (int)estrtonum(optarg, 1, NET_MAX_L, "-L");
			break;
		case 'H':
			nh = parse_sizes(optarg, o->H);
			break;
		case 'i':
			o->in = parse_init(optarg);
			break;
		case 's':
			o->seed = (unsigned long long)estrtonum(optarg, 0, LLONG_MAX, "-s");
			break;
		default:
			usage();
		}
	}
	if (argc - optind > 1)
		usage();
	o->vocab = argv[optind];
	if (o->L == 0)
		o->L = nh;
	if (nh == 1)
		for (int l = 1; l < o->L; l++)
			o->H[l] = o->H[0];
	else if (nh != o->L)
		uprintf("-H: %d sizes for %d layers", nh, o->L);
	/* min-char-rnn's for its model, PyTorch's for the family. */
	if (o->in.kind < 0)
		o->in = o->cell == NET_RNN && o->L == 1 ? (struct init){ INIT_NORMAL, 0.01 }
							: (struct init){ INIT_PYTORCH, 0 };
}

int main(int argc, char **argv)
{
	struct opts o;
	setprog(argv[0]);
	parse(&o, argc, argv);

	struct vocab v;
	vocab_load(&v, o.vocab);
	if (v.V < 1 || v.V > MODEL_MAX_V)
		eprintf("%s: vocabulary of %d entries (a model needs 1 to %d)",
			!o.vocab || strcmp(o.vocab, "-") == 0 ? "<stdin>" : o.vocab, v.V,
			MODEL_MAX_V);
	struct rng g;
	rng_seed(&g, o.seed);
	if (o.cell != NET_RNN || o.L > 1)
		write_net(&v, o.cell, o.L, o.H, &o.in, &g);
	else
		write_rnn(&v, o.H[0], &o.in, &g);
	vocab_free(&v);
	return 0;
}
