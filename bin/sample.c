/* sample: text from a trained model.
 *
 * Runs the model of MODEL (a stream with a frame "params", which carries its
 * vocabulary) one character at a time from a zero hidden state, each
 * character drawn from the softmax of the model's output divided by the
 * temperature (or the most probable one, -g), and writes them as UTF-8, or
 * as raw bytes for a byte-mode vocabulary.
 *
 * The start: with -p, the characters of PRIME are fed in first and written
 * out, so the output continues them; without it, one input character is
 * drawn uniformly from the vocabulary (with the seed) and fed in, but not
 * written. Either way N characters follow. A seed gives the same text at
 * every run on one machine (CPUs with other vector units may round the
 * model's sums differently, and so draw differently).
 *
 * Output is written as it is made: flushed after every newline, or when 20
 * ms have passed since the last flush, so a reader at the other end of a
 * pipe sees text at once without a write per character (-u: flush every
 * character). A model with a NaN or Inf parameter is refused. Legend: V
 * vocab, H hidden.
 *
 * Its contract (options, streams, exit status): man/charnn-sample.1. */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arg.h"
#include "err.h"
#include "gen.h"
#include "model.h"
#include "netmodel.h"
#include "rng.h"
#include "textio.h"
#include "utf8.h"

static const char usage_line[] =
	"usage: sample [-g] [-u] [-n N] [-t TEMP] [-s SEED] [-p PRIME] [-j N] MODEL\n";

static void usage(void)
{
	fputs(usage_line, stderr);
	exit(EXIT_USAGE);
}

static void help(void)
{
	fputs(usage_line, stdout);
	fputs("Write text sampled from the model in MODEL (\"-\": stdin).\n"
	      "  -n N      characters to generate (200)\n"
	      "  -t TEMP   temperature, 0.0001 to 10000 (1): lower is more conservative\n"
	      "  -s SEED   random seed (1): the same seed gives the same text\n"
	      "  -p PRIME  start from this text (written first); without it, from one\n"
	      "            character drawn at random (not written)\n"
	      "  -g        greedy: take the most probable character instead of sampling\n"
	      "  -u        flush every character (default: every line, or after 20 ms)\n"
	      "  -j N      threads for the large products (1; or CHARNN_THREADS)\n",
	      stdout);
	efshut_stdout();
}

static struct {
	int unbuffered;
	double last;	/* time of the last flush, seconds */
} out;

/* The command line. */
struct opts {
	long long n;		/* characters to generate */
	unsigned long long seed;
	double temp;
	const char *prime;	/* NULL: none */
	int greedy;
	const char *model;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void flush(void)
{
	if (fflush(stdout) != 0)
		eprintf("<stdout>: write error:");
	out.last = now();
}

/* Write character i of v, then flush if it is time. */
static void emit(const struct vocab *v, int i)
{
	unsigned char b[UTF8_MAX];
	int n = vocab_bytes(v, i, b);
	if (fwrite(b, 1, (size_t)n, stdout) != (size_t)n)
		eprintf("<stdout>: write error:");
	if (out.unbuffered || (n == 1 && b[0] == '\n') || now() - out.last >= 0.020)
		flush();
}

/* The vocabulary indices of the characters of s into x (room for strlen(s));
 * returns how many. A malformed s is a usage error, a character the model
 * does not know a data error. */
static size_t prime_indices(int32_t *x, const char *s, const struct vocab *v)
{
	size_t len = strlen(s), n = 0;
	for (size_t i = 0; i < len;) {
		uint32_t c = (unsigned char)s[i];
		int k = 1;
		if (!v->bytes) {
			k = utf8_decode((const unsigned char *)s + i, len - i, &c);
			if (k <= 0)
				uprintf("-p: invalid UTF-8 at byte offset %zu", i);
		}
		int idx = vocab_index(v, c);
		if (idx < 0)
			tx_die_unknown("-p", c, v->bytes, i);
		x[n++] = idx;
		i += (size_t)k;
	}
	return n;
}

/* Fill o from the command line, or exit with a usage error. */
static void parse(struct opts *o, int argc, char *argv[])
{
	int c;
	*o = (struct opts){ .n = 200, .seed = 1, .temp = 1 };
	if (argc > 1 && is_help(argv[1]))
		help();
	while ((c = getopt(argc, argv, "n:t:s:p:guj:")) != -1) {
		switch (c) {
		case 'n':
			o->n = estrtonum(optarg, 0, LLONG_MAX, "-n");
			break;
		case 't':
			o->temp = estrtod(optarg, 1e-4, 1e4, "-t");
			break;
		case 's':
			o->seed = (unsigned long long)estrtonum(optarg, 0, LLONG_MAX, "-s");
			break;
		case 'p':
			o->prime = optarg;
			break;
		case 'g':
			o->greedy = 1;
			break;
		case 'u':
			out.unbuffered = 1;
			break;
		case 'j': rnn_set_threads_arg(optarg); break;
		default:
			usage();
		}
	}
	if (argc - optind != 1)
		usage();
	o->model = argv[optind];
}

/* Bring g to the start of the text and return the first input: the prime
 * fed in (and written) up to its last character, or one character drawn
 * with r (not written). */
static int start(const struct gen_model *m, struct gen_seq *g, const char *prime,
		 struct rng *r)
{
	const int V = m->m.V;
	int x;
	if (!prime || !*prime) {
		x = (int)(rng_uniform(r) * V);
		return x < V ? x : V - 1;	/* u * V may round up to V */
	}
	int32_t *px = emalloc(strlen(prime) * sizeof *px);
	size_t np = prime_indices(px, prime, &m->v);
	for (size_t i = 0; i < np; i++)
		emit(&m->v, px[i]);
	for (size_t i = 0; i + 1 < np; i++)
		gen_seq_feed(g, px[i]);
	x = px[np - 1];
	free(px);
	return x;
}

int main(int argc, char *argv[])
{
	struct opts o;
	setprog(argv[0]);
	parse(&o, argc, argv);
	/* `sample | head` should end quietly, even if started with SIGPIPE
	 * ignored. */
	signal(SIGPIPE, SIG_DFL);

	struct gen_model m;
	struct gen_seq g;
	gen_load(&m, o.model);
	gen_seq_open(&g, &m.m);
	struct rng r;
	rng_seed(&r, o.seed);
	static char buf[1 << 16];
	setvbuf(stdout, buf, _IOFBF, sizeof buf);
	out.last = now();

	int x = start(&m, &g, o.prime, &r);
	for (long long i = 0; i < o.n; i++) {
		x = gen_seq_next(&g, x, (real)o.temp, o.greedy, &r);
		emit(&m.v, x);
	}
	gen_seq_close(&g);
	gen_free(&m);
	efshut_stdout();
}
