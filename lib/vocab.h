/* vocab.h: the vocabulary, a sorted list of the characters of a corpus.
 *
 * Stored as a tensor named "vocab" of rank 1 (formats/corpus.md): dtype i32
 * holding Unicode code points (text is UTF-8), or u8 holding byte values
 * (byte mode: text is any bytes). Entries are strictly increasing, so a
 * vocabulary is deterministic, and index i stands for entry i. */
#ifndef CHARNN_VOCAB_H
#define CHARNN_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#include "ts.h"

struct vocab {
	int bytes;	/* 1: byte mode (u8), 0: Unicode code points (i32) */
	int V;
	int32_t *cp;	/* (V) strictly increasing code points or byte values */
};

/* Build v from tensor t (dtype i32 or u8, rank 1, valid and sorted), or die
 * naming stream. */
void vocab_from_tensor(struct vocab *v, const struct ts_tensor *t, const char *stream);
/* Read the first tensor named "vocab" from the stream at path (a vocabulary
 * file, or a model, which carries its vocabulary); die if there is none. */
void vocab_load(struct vocab *v, const char *path);
/* Index of code point c, or -1 if it is not in the vocabulary. */
int vocab_index(const struct vocab *v, uint32_t c);
/* Bytes of entry i as text (UTF-8, or the raw byte); returns the length. */
int vocab_bytes(const struct vocab *v, int i, unsigned char out[4]);
/* Write v as tensor "vocab" (one tensor: count it in the frame). */
void vocab_write(struct ts_writer *w, const struct vocab *v);
void vocab_free(struct vocab *v);

#endif
