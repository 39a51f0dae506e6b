/* vocab: the set of characters of some text, as a vocabulary stream.
 *
 * Reads UTF-8 text (or, with -b, any bytes) from the FILEs or stdin and
 * writes one frame "vocab" holding the tensor "vocab": the distinct code
 * points, i32, or byte values, u8, in increasing order (formats/corpus.md).
 * Memory is one flag per possible character, whatever the input size: a byte
 * each rather than a bit, as plain stores run twice as fast as read-modify-
 * write on a bitmap (measured on 50 MB of text).
 *
 * Its contract (options, streams, exit status): man/charnn-vocab.1. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arg.h"
#include "err.h"
#include "textio.h"
#include "ts.h"
#include "vocab.h"

enum { BATCH = 1 << 16 };	/* characters decoded at a time */

static unsigned char seen[VOCAB_LIMIT];	/* seen[c]: character c occurs */
static uint32_t cp[BATCH];		/* (BATCH) characters of one batch */

static void usage(void)
{
	fputs("usage: vocab [-b] [FILE...]\n", stderr);
	exit(EXIT_USAGE);
}

static void help(void)
{
	fputs("usage: vocab [-b] [FILE...]\n"
	      "Write the set of characters of the UTF-8 text in the FILEs (stdin if none)\n"
	      "as a vocabulary stream: frame 'vocab', tensor 'vocab', sorted by code point.\n"
	      "  -b  byte mode: every byte is a character (binary input); dtype u8\n",
	      stdout);
	efshut_stdout();
}

/* Mark every character of the input at path in seen[]. Returns 1 if it
 * had any. */
static int scan(const char *path, int bytes)
{
	struct textin t;
	size_t n;
	int any = 0;
	tx_open(&t, path, bytes);
	while ((n = tx_read(&t, cp, BATCH)) > 0) {
		any = 1;
		for (size_t i = 0; i < n; i++)
			seen[cp[i]] = 1;
	}
	tx_close(&t);
	return any;
}

int main(int argc, char *argv[])
{
	int bytes = 0, c;
	setprog(argv[0]);
	if (argc > 1 && is_help(argv[1]))
		help();
	while ((c = getopt(argc, argv, "b")) != -1) {
		switch (c) {
		case 'b':
			bytes = 1;
			break;
		default:
			usage();
		}
	}
	int nfiles = argc - optind;
	char **files = argv + optind;
	int any = 0;
	if (nfiles == 0)
		any = scan(NULL, bytes);
	for (int i = 0; i < nfiles; i++)
		any |= scan(files[i], bytes);
	if (!any) {
		if (nfiles == 0 || (nfiles == 1 && strcmp(files[0], "-") == 0))
			eprintf("<stdin>: no characters");
		if (nfiles == 1)
			eprintf("%s: no characters", files[0]);
		eprintf("no characters in %d inputs", nfiles);
	}

	struct vocab v = { .bytes = bytes };
	v.cp = emalloc(VOCAB_LIMIT * sizeof *v.cp);
	for (uint32_t ch = 0; ch < VOCAB_LIMIT; ch++)
		if (seen[ch])
			v.cp[v.V++] = (int32_t)ch;
	struct ts_writer w;
	ts_wopen(&w, NULL);
	ts_write_frame(&w, "vocab", 1);
	vocab_write(&w, &v);
	ts_wclose(&w);
	vocab_free(&v);
	return 0;
}
