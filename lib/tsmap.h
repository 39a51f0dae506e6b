/* tsmap.h: a tensor stream file mapped into memory, its data used in place.
 *
 * The training workspace is such a file: rnn-fwd, rnn-bwd and adagrad map
 * the same file, so parameters and gradients are shared between processes
 * instead of being copied through pipes every step. A file mapped writable
 * has all its tensors marked live (formats/tensor.md): their data changes in
 * place, so no data CRC is kept for them until they are copied out with
 * ts_write_copy, which writes a fresh one. */
#ifndef CHARNN_TSMAP_H
#define CHARNN_TSMAP_H

#include <stddef.h>

#include "ts.h"

struct ts_mapped {
	char frame[TS_MAX_NAME + 1];	/* name of the frame holding it */
	size_t fno;			/* that frame's number, from 0 */
	struct ts_tensor t;		/* t.data points into the mapping */
};

struct ts_map {
	const char *path;
	unsigned char *base;
	size_t size;
	size_t n;
	struct ts_mapped *t;	/* n tensors in stream order */
};

/* Validate path as a whole stream (as ts_reader does, CRCs included) and
 * map it, shared; writable maps it read-write and marks every tensor live.
 * Dies with a message naming path on any problem. */
void ts_map_open(struct ts_map *m, const char *path, int writable);
void ts_map_close(struct ts_map *m);
/* The first tensor called name in a frame called frame (NULL: any frame),
 * or NULL. */
struct ts_tensor *ts_map_find(const struct ts_map *m, const char *frame, const char *name);
/* The first frame called frame of m as a struct ts_frame (view->t
 * allocated, each data pointing into the mapping), so the frame checks of
 * lib/tsframe work on a mapped file; view->n is 0 if there is no such
 * frame. Free with ts_map_frame_free, not ts_frame_free. */
void ts_map_frame(const struct ts_map *m, const char *frame, struct ts_frame *view);
void ts_map_frame_free(struct ts_frame *view);

#endif
