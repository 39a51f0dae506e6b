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
	const char *src;	/* the stream it was read from, for messages */
};

/* Build v from tensor t (dtype i32 or u8, rank 1, valid and sorted), or die
 * naming stream; v->src = stream (not copied: it must outlive v). */
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
/* The fingerprint of v that index streams carry (formats/corpus.md): CRC-32
 * of its dtype code (one byte), V (u64) and its entries as the tensor
 * stores them. */
uint32_t vocab_id(const struct vocab *v);
void vocab_free(struct vocab *v);

/* Additions for encode and decode (and anyone mapping text in a loop). */

enum {
	VOCAB_LIMIT = 0x110000,		/* entries: one per code point at most */
	VOCAB_NPAGES = 0x110000 >> 8	/* blocks of 256 code points */
};

/* Code point (or byte) to index in constant time: one page of 256 indices
 * per block of 256 code points; blocks without an entry share one page of
 * -1, so the map costs 1 KB per block the vocabulary touches. */
struct vocab_map {
	const int32_t *page[VOCAB_NPAGES];
	int32_t *mem;
};

/* Build the map of v's entries to their indices; vocab_map_free frees it. */
void vocab_map_init(struct vocab_map *m, const struct vocab *v);
void vocab_map_free(struct vocab_map *m);
/* Index of c (any value below 0x110000), or -1 if it is not in the map. */
static inline int32_t vocab_map_get(const struct vocab_map *m, uint32_t c)
{
	return m->page[c >> 8][c & 0xff];
}

#endif
