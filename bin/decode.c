/* decode: an index stream back to text.
 *
 * Every tensor named "x" (i32, rank 1) of the stream FILE (stdin if none),
 * in order, is a run of indices into the vocabulary of VOCAB; each index
 * becomes its character, as UTF-8 (or the raw byte, for a u8 vocabulary).
 * Other tensors and frames are skipped, so the output of encode, and any
 * stream carrying text the same way, decodes. Reads and writes in blocks:
 * memory does not grow with the stream.
 *
 * Its contract (options, streams, exit status): man/charnn-decode.1. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arg.h"
#include "corpus.h"
#include "err.h"
#include "ts.h"
#include "utf8.h"
#include "vocab.h"

enum { BATCH = 1 << 14 };	/* indices read at a time */

static struct vocab voc;
static uint32_t *glyph;		/* (V) the bytes of entry i, in memory order */
static unsigned char *glen;	/* (V) how many of them: 1 to 4 */
static int32_t x[BATCH];	/* (BATCH) indices of one block */
static unsigned char out[UTF8_MAX * BATCH];	/* text of one block, at worst */

static void usage(void)
{
	fputs("usage: decode VOCAB [FILE]\n", stderr);
	exit(EXIT_USAGE);
}

static void help(void)
{
	fputs("usage: decode VOCAB [FILE]\n"
	      "Write the text an index stream FILE (stdin if none) holds: every tensor\n"
	      "'x' (i32), index by index, as the characters of the vocabulary of VOCAB\n"
	      "(a vocab stream or a model), in UTF-8, or as bytes for a u8 vocabulary.\n",
	      stdout);
	efshut_stdout();
}

/* The text of indices x[0..n), each in [0, V) (text_read checks them), to
 * stdout. */
static void emit(size_t n)
{
	unsigned char *o = out;
	for (size_t i = 0; i < n; i++) {
		memcpy(o, &glyph[x[i]], 4);	/* out has room for 4 per index */
		o += glen[x[i]];
	}
	size_t len = (size_t)(o - out);
	if (fwrite(out, 1, len, stdout) != len)
		eprintf("<stdout>: write error:");
}

/* Fill glyph and glen from voc. */
static void glyphs_init(void)
{
	glyph = ecalloc((size_t)voc.V, sizeof *glyph);
	glen = emalloc((size_t)voc.V);
	for (int i = 0; i < voc.V; i++)
		glen[i] = (unsigned char)vocab_bytes(&voc, i, (unsigned char *)&glyph[i]);
}

int main(int argc, char *argv[])
{
	setprog(argv[0]);
	if (argc > 1 && is_help(argv[1]))
		help();
	if (getopt(argc, argv, "") != -1 || argc - optind < 1 || argc - optind > 2)
		usage();
	vocab_load(&voc, argv[optind]);
	glyphs_init();

	struct text_reader tr;
	size_t n;
	text_open(&tr, argv[optind + 1], &voc);
	while ((n = text_read(&tr, x, BATCH)) > 0)
		emit(n);
	text_close(&tr);
	free(glyph);
	free(glen);
	vocab_free(&voc);
	efshut_stdout();
}
