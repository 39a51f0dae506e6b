/* corpus.h: reading index streams (formats/corpus.md): in order
 * (text_reader: decode, score), or by random access to a file in constant
 * memory (corpus: feed).
 *
 * An encoded corpus is a stream whose i32 "x" tensors, concatenated, are
 * the text; a frame may carry the fingerprint of the vocabulary it was
 * encoded with (tensor "vocab_id"), which both readers check, with one
 * wording of their errors. corpus_open scans the file once (validating
 * every record and CRC with the ordinary reader) and remembers where each
 * run of indices lies; cursors then read any stretch through a small buffer
 * with pread, so training on a 1 GB corpus needs no more memory than on a
 * 1 MB one. */
#ifndef CHARNN_CORPUS_H
#define CHARNN_CORPUS_H

#include <stddef.h>
#include <stdint.h>

#include "ts.h"
#include "vocab.h"

struct corpus_run {
	uint64_t off;	/* file offset of the run's first index */
	uint64_t start;	/* its position in the text */
	uint64_t n;	/* indices in the run */
};

struct corpus {
	const char *path;
	int fd;
	uint64_t n;	/* characters in the text */
	int V;		/* every index is checked to lie in [0, V) */
	int64_t vocab_id;	/* the frames' fingerprint, -1 if none has one */
	size_t nruns;
	struct corpus_run *runs;
};

/* A sequential reader over a corpus: next() from a position on. */
struct corpus_cursor {
	const struct corpus *c;
	uint64_t pos;		/* text position of buf[0] */
	size_t len, cap;	/* indices in buf, its capacity */
	int32_t *buf;
};

/* Sequential reading of an index stream: the text is every tensor named
 * "x" (i32, rank 1) of every frame, in order; anything else is skipped but
 * a frame's fingerprint, the tensor "vocab_id" (i64 scalar) before its x. */
struct text_reader {
	struct ts_reader r;
	uint64_t left;	/* indices of the current x not yet read */
	uint64_t pos;	/* text position of the next index */
	const struct vocab *v;	/* the vocabulary x must be encoded with, or NULL */
	int64_t want;	/* vocab_id(v), or -1 */
	int64_t id;	/* the current frame's fingerprint, -1 if none (yet) */
	int seen_x;	/* the current frame has had an x */
};

/* Open path (NULL or "-": stdin) as an index stream encoded with v: a frame
 * whose fingerprint is not vocab_id(v) is an error naming both; a frame
 * without one is taken as it is (formats/corpus.md). */
void text_open(struct text_reader *t, const char *path, const struct vocab *v);
void text_close(struct text_reader *t);
/* Up to max next indices of the text into dst; 0 at its end. Dies on an
 * "x" that is not i32 of rank 1, and, if t was opened with a vocabulary,
 * on an index outside it. */
size_t text_read(struct text_reader *t, int32_t *dst, size_t max);

/* Open and scan path; V bounds the indices. Dies on any problem, and on
 * frames that carry different fingerprints. */
void corpus_open(struct corpus *c, const char *path, int V);
/* Die, naming both, if c carries a fingerprint that is not vocab_id(v):
 * every program that has the corpus's vocabulary calls it after opening. */
void corpus_check_vocab(const struct corpus *c, const struct vocab *v);
void corpus_close(struct corpus *c);

/* Cursor over c with a buffer of cap indices. */
void cursor_init(struct corpus_cursor *k, const struct corpus *c, size_t cap);
void cursor_free(struct corpus_cursor *k);
/* Copy n indices from text position pos on (pos + n <= c->n) into dst;
 * cheap when reads move forward through the text. */
void cursor_read(struct corpus_cursor *k, uint64_t pos, int32_t *dst, size_t n);

/* The training window at position pos of each of B slices of L characters
 * (slice b starts at b*L; cursor cur[b] reads it): x (T,B) the inputs and y
 * (T,B) the targets, the characters after them. run is scratch of T+1
 * indices. pos + T + 1 <= L. */
void corpus_window(struct corpus_cursor *cur, int B, uint64_t L, uint64_t pos, int T,
		   int32_t *x, int32_t *y, int32_t *run);

#endif
