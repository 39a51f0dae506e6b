/* score: how well a model predicts a text.
 *
 * FILE (stdin if none) is an index stream (formats/corpus.md): the text is
 * every tensor "x" (i32, rank 1) of every frame, in order, as encode writes
 * it with the model's vocabulary. From a zero hidden state, carried through
 * the whole text, the model predicts each character from the ones before
 * it; score prints one line
 *
 *     chars N loss L bpc B
 *
 * N the characters predicted (all but the first), L their mean -ln p in
 * nats, B the same in bits (L / ln 2). The text is read in blocks, so
 * memory does not grow with it. Legend: V vocab, H hidden. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arg.h"
#include "corpus.h"
#include "err.h"
#include "gen.h"
#include "ts.h"

enum { BLOCK = 1 << 12 };	/* indices scored per call */

static void usage(void)
{
	fputs("usage: score MODEL [FILE]\n", stderr);
	exit(EXIT_USAGE);
}

static void help(void)
{
	fputs("usage: score MODEL [FILE]\n"
	      "Print \"chars N loss L bpc B\": the mean loss of the model in MODEL\n"
	      "predicting each next character of the index stream FILE (stdin if none),\n"
	      "in nats (L) and bits (B) per character, over N predictions.\n",
	      stdout);
	efshut_stdout();
}

int main(int argc, char *argv[])
{
	setprog(argv[0]);
	if (argc > 1 && is_help(argv[1]))
		help();
	for (int c; (c = getopt(argc, argv, "j:")) != -1;) {
		if (c != 'j')
			usage();
		rnn_set_threads_arg(optarg);
	}
	if (argc - optind < 1 || argc - optind > 2)
		usage();

	struct gen_model m;
	gen_load(&m, argv[optind]);
	const struct rnn_params *P = &m.P;
	real *h = ecalloc((size_t)P->H, sizeof *h);
	real *scratch = emalloc(gen_scratch_bytes(P->V, P->H));
	/* x[0] is the last index of the previous block: the input that
	 * predicts this block's first. */
	static int32_t x[BLOCK + 1];
	size_t have = 0;	/* 1 once x[0] holds a character */
	uint64_t pos = 0;	/* text position of x[have] */
	double nats = 0;

	struct text_reader tr;
	size_t n;
	text_open(&tr, argv[optind + 1]);
	while ((n = text_read(&tr, x + have, BLOCK)) > 0) {
		for (size_t i = 0; i < n; i++)
			if (x[have + i] < 0 || x[have + i] >= P->V)
				eprintf("%s: index %ld out of range [0, %d) at position %llu",
					tr.r.path, (long)x[have + i], P->V,
					(unsigned long long)(pos + i));
		nats += gen_score(P, h, x, have + n, scratch);
		x[0] = x[have + n - 1];
		have = 1;
		pos += n;
	}
	if (pos < 2)
		eprintf("%s: %s: nothing to predict", tr.r.path,
			pos ? "only one character" : "no characters");
	text_close(&tr);

	double loss = nats / (double)(pos - 1);
	printf("chars %llu loss %.6f bpc %.6f\n", (unsigned long long)(pos - 1), loss,
	       loss / log(2.0));
	free(h);
	free(scratch);
	gen_free(&m);
	efshut_stdout();
}
