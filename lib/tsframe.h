/* tsframe.h: checking the tensors of a frame, and writing a frame that
 * passes another one's tensors through (formats/tensor.md).
 *
 * Every program that reads a frame finds and checks its tensors here, so
 * that a missing or misshapen tensor is reported in one wording everywhere:
 *
 *   STREAM: frame 'F': no tensor 'N'
 *   STREAM: tensor 'N' is f64, expected i32
 *   STREAM: tensor 'N' is f64, but this build computes in f32
 *   STREAM: tensor 'N' has shape (2,3), expected (3,2)
 *   STREAM: frame 'F': tensor 'N' must be an i64 scalar
 *   STREAM: tensor 'N': element 3 is nan, not a finite number
 *
 * and exit 1. */
#ifndef CHARNN_TSFRAME_H
#define CHARNN_TSFRAME_H

#include <stdint.h>

#include "ts.h"

struct ts_map;

/* The first tensor called name in frame f, or die naming stream. */
struct ts_tensor *tsf_need(const struct ts_frame *f, const char *name, const char *stream);
/* The same in frame `frame` of a mapped file (lib/tsmap), named by its path. */
struct ts_tensor *tsf_map_need(const struct ts_map *m, const char *frame, const char *name);
/* Die unless t has dtype (TS_REAL: the build's real, told so if t holds the
 * other precision). */
void tsf_expect_dtype(const struct ts_tensor *t, int dtype, const char *stream);
/* Die unless t has dtype and exactly the shape rank/dims. */
void tsf_expect(const struct ts_tensor *t, int dtype, int rank, const uint64_t *dims,
		const char *stream);
/* The tensor name of f, which must have dtype and shape rank/dims. */
struct ts_tensor *tsf_need_shaped(const struct ts_frame *f, const char *name, int dtype,
				  int rank, const uint64_t *dims, const char *stream);
/* Die unless every element of t (of the build's real dtype) is a finite
 * number, naming the first that is NaN or Inf. */
void tsf_expect_finite(const struct ts_tensor *t, const char *stream);

/* The i64 (or f64) scalar name of frame f; dies if it is missing or is
 * anything else. */
int64_t tsf_i64(const struct ts_frame *f, const char *name, const char *stream);
double tsf_f64(const struct ts_frame *f, const char *name, const char *stream);
/* 1 and *v if f has a tensor name (which must be an i64 scalar), 0 if not. */
int tsf_opt_i64(const struct ts_frame *f, const char *name, const char *stream, int64_t *v);

/* Write frame `name` built from input frame f the NetPBM way: f's tensors in
 * order, less those named in drop (a NULL-terminated list, or NULL); each of
 * the nout tensors in out takes the place of the input tensor of the same
 * name, or follows at the end if there is none. */
void tsf_write_pass(struct ts_writer *w, const char *name, const struct ts_frame *f,
		    const char *const *drop, const struct ts_tensor *out, int nout);

#endif
