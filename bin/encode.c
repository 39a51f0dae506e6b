/* encode: text to an index stream, one index per character.
 *
 * Each character of the FILEs (stdin if none) becomes its index in the
 * vocabulary VOCAB, any stream holding a tensor "vocab" (a vocabulary or a
 * model). Output is frames "text" (formats/corpus.md), each with two
 * tensors: "vocab_id", the vocabulary's fingerprint (vocab_id() in
 * vocab.h), so that decode, score and feed can tell a text encoded with
 * another vocabulary, then "x", i32 of rank 1, the indices:
 *   - when every input is a named regular file: one frame holding the whole
 *     text, its length counted by a first pass over the files;
 *   - otherwise (stdin, a pipe, or -u skip, when the length is not known
 *     before the end): frames of CHUNK indices (the last one shorter),
 *     written as the text arrives.
 * Either way memory does not grow with the input. Byte mode follows the
 * vocabulary: a u8 vocabulary makes every byte a character. A character
 * the vocabulary lacks is an error, unless -u says to skip it (-u skip) or
 * which character to put in its place (-u CHAR).
 *
 * Its contract (options, streams, exit status): man/charnn-encode.1. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arg.h"
#include "err.h"
#include "textio.h"
#include "ts.h"
#include "utf8.h"
#include "vocab.h"

enum {
	BATCH = 1 << 14,	/* characters decoded at a time: 64 KB blocks */
	CHUNK = 1 << 20		/* indices per frame of streamed input */
};

/* What a character missing from the vocabulary becomes: an index (>= 0),
 * nothing, or an error. */
enum { UNKNOWN_SKIP = -1, UNKNOWN_FAIL = -2 };

static struct vocab voc;
static struct vocab_map map;
static int32_t unknown = UNKNOWN_FAIL;
static int64_t id;			/* vocab_id(&voc) */
static uint32_t cp[BATCH];		/* (BATCH) code points of one batch */

static const char usage_line[] = "usage: encode [-u skip|-u CHAR] VOCAB [FILE...]\n";

static void usage(void)
{
	fputs(usage_line, stderr);
	exit(EXIT_USAGE);
}

static void help(void)
{
	fputs(usage_line, stdout);
	fputs("Write the text of the FILEs (stdin if none) as an index stream: frames\n"
	      "'text' with tensor 'x' (i32), each character replaced by its index in the\n"
	      "vocabulary of VOCAB (a vocab stream or a model), and tensor 'vocab_id', its\n"
	      "fingerprint. A u8 vocabulary means byte mode: every byte is a character.\n"
	      "A character not in the vocabulary is an error, unless\n"
	      "  -u skip   leaves it out\n"
	      "  -u CHAR   puts CHAR (one character of the vocabulary) in its place\n",
	      stdout);
	efshut_stdout();
}

/* Set unknown from the argument of -u, s: "skip", or one character (one
 * byte in byte mode) that the vocabulary has. */
static void set_unknown(const char *s)
{
	uint32_t c = (unsigned char)s[0];
	size_t len = strlen(s);
	if (strcmp(s, "skip") == 0) {
		unknown = UNKNOWN_SKIP;
		return;
	}
	if (len == 0 || (voc.bytes ? len != 1 :
			 utf8_decode((const unsigned char *)s, len, &c) != (int)len))
		uprintf("-u: '%s' is neither 'skip' nor one character", s);
	unknown = vocab_index(&voc, c);
	if (unknown < 0)
		tx_die_unknown("-u", c, voc.bytes, 0);
}

/* Indices of the n characters in cp into x; returns how many: n, or fewer
 * if unknown characters are skipped. Without -u, dies naming the first
 * character the vocabulary lacks. */
static size_t map_batch(int32_t *x, size_t n, const struct textin *t)
{
	int32_t bad = 0;	/* sign bit set iff some index is -1 */
	for (size_t i = 0; i < n; i++) {
		x[i] = vocab_map_get(&map, cp[i]);
		bad |= x[i];
	}
	if (bad >= 0)
		return n;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (x[i] < 0 && unknown == UNKNOWN_FAIL)
			tx_die_unknown(t->path, cp[i], t->bytes, tx_offset(t, cp, i));
		if (x[i] >= 0 || unknown >= 0)
			x[k++] = x[i] >= 0 ? x[i] : unknown;
	}
	return k;
}

/* Start a frame "text" of the fingerprint and an x of n indices. */
static void begin_frame(struct ts_writer *w, uint64_t n)
{
	ts_write_frame(w, "text", 2);
	ts_write_tensor(w, "vocab_id", TS_I64, 0, NULL, &id);
	ts_begin_tensor(w, "x", TS_I32, 1, &n);
}

/* Whole files: count, then write one tensor of known length. A file that
 * changes between the passes is an error, not a malformed stream. */
static void encode_files(struct ts_writer *w, char **files, int nfiles)
{
	static int32_t x[BATCH];	/* (BATCH) indices */
	struct textin t;
	uint64_t total = 0;
	for (int i = 0; i < nfiles; i++) {
		tx_open(&t, files[i], voc.bytes);
		total += tx_count(&t);
		tx_close(&t);
	}
	if (total > TS_MAX_ELEMS)
		eprintf("%s: more than 2^40 characters", files[nfiles - 1]);
	uint64_t left = total;
	begin_frame(w, total);
	for (int i = 0; i < nfiles; i++) {
		size_t n;
		tx_open(&t, files[i], voc.bytes);
		while ((n = tx_read(&t, cp, BATCH)) > 0) {
			if (n > left)
				eprintf("%s: file changed while being encoded", t.path);
			map_batch(x, n, &t);
			ts_write_data(w, x, n * sizeof *x);
			left -= n;
		}
		tx_close(&t);
	}
	if (left > 0)
		eprintf("%s: file changed while being encoded", files[nfiles - 1]);
}

/* Write x[0..n), n <= CHUNK, as one frame. */
static void put_chunk(struct ts_writer *w, int32_t *x, size_t n)
{
	begin_frame(w, n);
	ts_write_data(w, x, n * sizeof *x);
}

/* Inputs of unknown length: a frame every CHUNK characters. An empty text
 * still gets one (empty) frame, as a file would. */
static void encode_stream(struct ts_writer *w, char **files, int nfiles)
{
	int32_t *x = emalloc(CHUNK * sizeof *x);	/* (CHUNK) indices of a frame */
	size_t have = 0;
	int frames = 0;
	for (int i = 0; i < nfiles; i++) {
		struct textin t;
		size_t n, room;
		tx_open(&t, files[i], voc.bytes);
		room = CHUNK - have < BATCH ? CHUNK - have : BATCH;
		while ((n = tx_read(&t, cp, room)) > 0) {
			have += map_batch(x + have, n, &t);
			if (have == CHUNK) {
				put_chunk(w, x, have);
				frames++;
				have = 0;
			}
			room = CHUNK - have < BATCH ? CHUNK - have : BATCH;
		}
		tx_close(&t);
	}
	if (have > 0 || frames == 0)
		put_chunk(w, x, have);
	free(x);
}

/* 1 if every input is a named regular file (not stdin). Dies naming the
 * first one that does not exist, before anything is written. */
static int all_regular(char **files, int nfiles)
{
	int regular = 1;
	for (int i = 0; i < nfiles; i++) {
		struct stat st;
		if (strcmp(files[i], "-") == 0) {
			regular = 0;
			continue;
		}
		if (stat(files[i], &st) != 0)
			eprintf("%s:", files[i]);
		if (!S_ISREG(st.st_mode))
			regular = 0;
	}
	return regular;
}

int main(int argc, char *argv[])
{
	static char dash[] = "-", *just_stdin[] = { dash };
	const char *unknown_arg = NULL;
	int c;
	setprog(argv[0]);
	if (argc > 1 && is_help(argv[1]))
		help();
	while ((c = getopt(argc, argv, "u:")) != -1) {
		if (c != 'u')
			usage();
		unknown_arg = optarg;
	}
	if (optind >= argc)
		usage();
	vocab_load(&voc, argv[optind]);
	vocab_map_init(&map, &voc);
	id = vocab_id(&voc);
	if (unknown_arg)
		set_unknown(unknown_arg);
	char **files = argv + optind + 1;
	int nfiles = argc - optind - 1;
	if (nfiles == 0) {
		files = just_stdin;
		nfiles = 1;
	}
	struct ts_writer w;
	ts_wopen(&w, NULL);
	if (all_regular(files, nfiles) && unknown != UNKNOWN_SKIP)
		encode_files(&w, files, nfiles);
	else
		encode_stream(&w, files, nfiles);
	ts_wclose(&w);
	vocab_map_free(&map);
	vocab_free(&voc);
	return 0;
}
