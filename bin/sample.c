/* sample: text from a trained model.
 *
 * Runs the model of MODEL (a stream with a frame "params", which carries its
 * vocabulary) one character at a time from a zero hidden state, each
 * character drawn from the softmax of the model's output divided by the
 * temperature (or the most probable one, -a), and writes them as UTF-8, or
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
 * character). Legend: V vocab, H hidden. */
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
#include "rng.h"
#include "textio.h"
#include "utf8.h"

static const char usage_line[] =
	"usage: sample [-a] [-u] [-n N] [-t TEMP] [-s SEED] [-p PRIME] MODEL\n";

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
	      "  -a        take the most probable character instead of sampling\n"
	      "  -u        flush every character (default: every line, or after 20 ms)\n",
	      stdout);
	efshut_stdout();
}

static struct {
	int unbuffered;
	double last;	/* time of the last flush, seconds */
} out;

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
		if (idx < 0) {
			char what[40];
			tx_describe(what, sizeof what, c, v->bytes);
			eprintf("-p: %s at byte offset %zu is not in the vocabulary", what, i);
		}
		x[n++] = idx;
		i += (size_t)k;
	}
	return n;
}

int main(int argc, char *argv[])
{
	long long n = 200;
	unsigned long long seed = 1;
	double temp = 1;
	const char *prime = NULL;
	int c, argmax = 0;

	setprog(argv[0]);
	if (argc > 1 && is_help(argv[1]))
		help();
	while ((c = getopt(argc, argv, "n:t:s:p:auj:")) != -1) {
		switch (c) {
		case 'n':
			n = estrtonum(optarg, 0, LLONG_MAX, "-n");
			break;
		case 't':
			temp = estrtod(optarg, 1e-4, 1e4, "-t");
			break;
		case 's':
			seed = (unsigned long long)estrtonum(optarg, 0, LLONG_MAX, "-s");
			break;
		case 'p':
			prime = optarg;
			break;
		case 'a':
			argmax = 1;
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
	/* `sample | head` should end quietly, even if started with SIGPIPE
	 * ignored. */
	signal(SIGPIPE, SIG_DFL);

	struct gen_model m;
	gen_load(&m, argv[optind]);
	const struct rnn_params *P = &m.P;
	real *h = ecalloc((size_t)P->H, sizeof *h);
	real *scratch = emalloc(gen_scratch_bytes(P->V, P->H));
	struct rng r;
	rng_seed(&r, seed);
	static char buf[1 << 16];
	setvbuf(stdout, buf, _IOFBF, sizeof buf);
	out.last = now();

	int x;
	if (prime && *prime) {
		int32_t *px = emalloc(strlen(prime) * sizeof *px);
		size_t np = prime_indices(px, prime, &m.v);
		for (size_t i = 0; i < np; i++)
			emit(&m.v, px[i]);
		for (size_t i = 0; i + 1 < np; i++)
			rnn_step(P, h, px[i], scratch);
		x = px[np - 1];
		free(px);
	} else {
		x = (int)(rng_uniform(&r) * P->V);
		if (x >= P->V)	/* u * V may round up to V */
			x = P->V - 1;
	}
	for (long long i = 0; i < n; i++) {
		x = gen_next(P, h, x, (real)temp, argmax, &r, scratch);
		emit(&m.v, x);
	}
	free(h);
	free(scratch);
	gen_free(&m);
	efshut_stdout();
}
