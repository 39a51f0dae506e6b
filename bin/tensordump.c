/* tensordump: show a tensor stream as text, write one from text, export its
 * tensors as NumPy files and read them back, draw one as a picture.
 *
 *   tensordump [FILE]          listing: frames, tensors, summaries, first values
 *   tensordump -a [FILE]       every value, in the text form of formats/text.md
 *   tensordump -r [FILE]       that text form in, the binary stream out
 *   tensordump -e DIR [FILE]   each tensor as DIR/F-FRAME-NAME.npy, and
 *                              DIR/index.txt
 *   tensordump -i DIR          the stream those describe, back
 *   tensordump -g NAME [FILE]  the 2-D tensor NAME as a PGM image (lib/pgm)
 *
 * The work is done in lib/: the text form and the listing in lib/tstext
 * (formats/text.md), NumPy files in lib/npy, pictures in lib/pgm. Reading
 * a stream takes constant memory: data passes through one buffer, never a
 * whole tensor at once (but for the one tensor -g draws).
 *
 * Its contract (options, streams, exit status): man/charnn-tensordump.1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arg.h"
#include "err.h"
#include "npy.h"
#include "pgm.h"
#include "ts.h"
#include "tstext.h"

static void usage(void)
{
	fputs("usage: tensordump [options] [FILE]\n", stderr);
	exit(EXIT_USAGE);
}

static void help(void)
{
	puts("usage: tensordump [options] [FILE]\n"
	     "List a tensor stream as text (formats/text.md): each frame, each\n"
	     "tensor's dtype, shape, summary (min, max, mean, NaN and Inf counts)\n"
	     "and first values.\n"
	     "  -a      every value: the text form, which -r reads back exactly\n"
	     "  -r      read the text form, write the binary stream on stdout\n"
	     "  -e DIR  export each tensor as a NumPy file DIR/F-FRAME-NAME.npy\n"
	     "          (F: frame number from 0; DIR is created if missing) and\n"
	     "          their order and flags as DIR/index.txt\n"
	     "  -i DIR  the other way: the stream DIR/index.txt and its .npy files\n"
	     "          describe, on stdout\n"
	     "  -g NAME the first tensor NAME (2-D) as a PGM image on stdout: 0..max\n"
	     "          black to white, or -max..max with 0 grey if any is negative");
	efshut_stdout();
}

/* Read the text form from path (NULL or "-": stdin), write the binary
 * stream on stdout. */
static void undump(const char *path)
{
	FILE *in = stdin;
	const char *name = "<stdin>";
	if (path && strcmp(path, "-") != 0) {
		if ((in = fopen(path, "r")) == NULL)
			eprintf("%s:", path);
		name = path;
	}
	struct ts_writer w;
	ts_wopen(&w, NULL);
	tstext_read(in, name, &w);
	ts_wclose(&w);
	if (in != stdin)
		fclose(in);
}

/* The .npy files of dir (and its index.txt) as a stream on stdout. */
static void import(const char *dir)
{
	struct ts_writer w;
	ts_wopen(&w, NULL);
	npy_import(dir, &w);
	ts_wclose(&w);
}

/* The stream at path (NULL or "-": stdin) as text (mode 'a' or 0, the
 * listing), NumPy files in arg ('e') or a picture of tensor arg ('g'). */
static void from_stream(const char *path, int mode, const char *arg)
{
	struct ts_reader r;
	ts_ropen(&r, path);
	if (mode == 'e')
		npy_export(&r, arg);
	else if (mode == 'g')
		pgm_from_stream(stdout, &r, arg);
	else if (tstext_write(stdout, &r, mode != 'a') != 0)
		efshut_stdout();	/* reports the error */
	ts_rclose(&r);
}

int main(int argc, char **argv)
{
	setprog(argv[0]);
	if (argc > 1 && is_help(argv[1]))
		help();
	int mode = 0;
	const char *arg = NULL;	/* -e/-i directory, -g tensor name */
	int c;
	while ((c = getopt(argc, argv, "are:i:g:")) != -1) {
		if (c == '?')
			usage();
		if (mode && mode != c)
			uprintf("options -a, -r, -e, -i and -g exclude each other");
		mode = c;
		if (c == 'e' || c == 'i' || c == 'g')
			arg = optarg;
	}
	if (argc - optind > (mode == 'i' ? 0 : 1))
		usage();
	const char *path = optind < argc ? argv[optind] : NULL;

	if (mode == 'r')
		undump(path);
	else if (mode == 'i')
		import(arg);
	else
		from_stream(path, mode, arg);
	efshut_stdout();
}
