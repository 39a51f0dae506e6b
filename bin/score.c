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
 * nats, B the same in bits (L / ln 2), each with 17 significant digits
 * (enough to read back the same double). The text is read in blocks, so
 * memory does not grow with it. A model with a NaN or Inf parameter, or a
 * text whose fingerprint is not the model's vocabulary's, is refused.
 * Legend: V vocab, H hidden.
 *
 * Its contract (options, streams, exit status): man/charnn-score.1. */
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
#include "model.h"
#include "netmodel.h"
#include "ts.h"

enum { BLOCK = 1 << 12 };	/* indices scored per call */

static void usage(void)
{
	fputs("usage: score [-j N] MODEL [FILE]\n", stderr);
	exit(EXIT_USAGE);
}

static void help(void)
{
	fputs("usage: score [-j N] MODEL [FILE]\n"
	      "Print \"chars N loss L bpc B\": the mean loss of the model in MODEL\n"
	      "predicting each next character of the index stream FILE (stdin if none),\n"
	      "in nats (L) and bits (B) per character, over N predictions, with 17\n"
	      "significant digits.\n"
	      "  -j N   threads for the large products (1; or CHARNN_THREADS)\n",
	      stdout);
	efshut_stdout();
}

/* The nats of predicting each character of the index stream at path from
 * the ones before it under m, from a zero hidden state; *chars gets the
 * number of predictions. Dies on a text of fewer than two characters. */
static double score_text(const struct gen_model *m, const char *path, uint64_t *chars)
{
	struct gen_seq g;
	gen_seq_open(&g, &m->m);
	/* x[0] is the last index of the previous block: the input that
	 * predicts this block's first. */
	static int32_t x[BLOCK + 1];
	size_t have = 0;	/* 1 once x[0] holds a character */
	uint64_t pos = 0;	/* text position of x[have] */
	double nats = 0;
	struct text_reader tr;
	size_t n;
	text_open(&tr, path, &m->v);
	while ((n = text_read(&tr, x + have, BLOCK)) > 0) {
		nats += gen_seq_score(&g, x, have + n);
		x[0] = x[have + n - 1];
		have = 1;
		pos += n;
	}
	if (pos < 2)
		eprintf("%s: %s: nothing to predict", tr.r.path,
			pos ? "only one character" : "no characters");
	text_close(&tr);
	gen_seq_close(&g);
	*chars = pos - 1;
	return nats;
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
	uint64_t chars;
	double loss = score_text(&m, argv[optind + 1], &chars) / (double)chars;
	/* %.17g: enough digits to give back the very double. */
	printf("chars %llu loss %.17g bpc %.17g\n", (unsigned long long)chars, loss,
	       loss / log(2.0));
	gen_free(&m);
	efshut_stdout();
}
