/* model.h: RNN parameters as named tensors (formats/model.md).
 *
 * A model is the five tensors Wxh, Whh, Why, bh, by (rnn.h gives shapes) and
 * the vocabulary tensor "vocab" it was made for, in a frame named "params".
 * Gradients use the same names with the prefix "d" (dWxh, ...), Adagrad
 * memory the prefix "m" (mWxh, ...). Data is of dtype TS_REAL (f32, or f64 in
 * the double build). */
#ifndef CHARNN_MODEL_H
#define CHARNN_MODEL_H

#include "rnn.h"
#include "ts.h"
#include "tsmap.h"

enum { MODEL_NTENSORS = 5, MODEL_MAX_V = 1 << 21, MODEL_MAX_H = 1 << 14 };
extern const char *const model_names[MODEL_NTENSORS];	/* Wxh Whh Why bh by */

/* Point P at the tensors prefix+name of frame f. Returns 1 if all five are
 * there, 0 if none is; dies (naming stream) if only some are, or on a wrong
 * dtype or shapes that do not agree with each other. */
int model_from_frame(struct rnn_params *P, const struct ts_frame *f,
		     const char *prefix, const char *stream);
/* The same for the tensors of frame `frame` in a mapped file. */
int model_from_map(struct rnn_params *P, const struct ts_map *m,
		   const char *frame, const char *prefix);
/* Die unless A and B have the same V and H; what names B in the message. */
void model_check_same(const struct rnn_params *A, const struct rnn_params *B,
		      const char *stream, const char *what);
/* The five tensors of P named prefix+name, headers filled, data pointing
 * into P, ready for ts_write_copy or model_write_pass. */
void model_tensors(struct ts_tensor out[MODEL_NTENSORS], const struct rnn_params *P,
		   const char *prefix);
/* Write the five tensors of P named prefix+name (count them in the frame). */
void model_write(struct ts_writer *w, const struct rnn_params *P, const char *prefix);
/* Die naming stream and the tensor if any parameter of P is NaN or Inf. */
void model_check_finite(const struct rnn_params *P, const char *stream);
/* Allocate P's five arrays, zeroed, for sizes V and H; model_free frees. */
void model_alloc(struct rnn_params *P, int V, int H);
void model_free(struct rnn_params *P);

/* Additions for the training stages (rnn-fwd, rnn-bwd, adagrad). */

/* The tensor called name in frame f, or die "STREAM: frame 'F': no tensor
 * 'NAME'". */
struct ts_tensor *model_need(const struct ts_frame *f, const char *name,
			     const char *stream);
/* Die unless t has this dtype and shape, naming t and stream. */
void model_expect(const struct ts_tensor *t, int dtype, int rank,
		  const uint64_t *dims, const char *stream);

/* One window of training data as a frame carries it, checked against P. */
struct model_window {
	int T, B;
	const int32_t *x;	/* (T,B) inputs, each in [0,V) */
	const int32_t *y;	/* (T,B) targets, each in [0,V) */
	const real *h0;		/* (B,H) hidden state before the window, or NULL */
};
/* Find and check x, y and h0 of frame f for parameters P; die naming stream
 * on anything missing, misshapen or out of range. h0 may be missing (NULL):
 * rnn-fwd then carries the previous window's last hidden state. */
void model_window(struct model_window *win, const struct ts_frame *f,
		  const struct rnn_params *P, const char *stream);

/* Where a stage takes its parameters from: each frame (inline), a model
 * file (-m, mapped read-only) or the training workspace (-w, mapped
 * read-write). The file is mapped when first needed, so a workspace that
 * another stage creates need not exist when the pipeline starts. */
struct model_src {
	const char *path;	/* NULL: inline */
	int writable;
	struct ts_map map;	/* map.base is NULL until mapped */
	struct rnn_params P;	/* the file's frame "params", once mapped */
};
/* Map s's file now if there is one and it is not mapped yet. */
void model_src_map(struct model_src *s);
/* Point P at the parameters for frame f: f's own Wxh..by when inline (die
 * if missing), else the file's (die if f carries parameters too). */
void model_src_params(struct model_src *s, struct rnn_params *P,
		      const struct ts_frame *f, const char *stream);
void model_src_close(struct model_src *s);
/* The workspace's tensor frame/name if s is a workspace that has one of
 * dtype TS_REAL and exactly the shape dims, else NULL: rnn-fwd writes the
 * activations (frame "forward": hs, ps) there instead of into the stream
 * when feed made room for them, and rnn-bwd reads them from there. */
real *model_src_scratch(const struct model_src *s, const char *frame,
			const char *name, int rank, const uint64_t *dims);

/* The workspace's count of updates (frame "adagrad", tensor "step", an i64
 * scalar: formats/model.md) if s is a mapped workspace that keeps one, else
 * NULL; dies if it is misshapen. */
int64_t *model_src_step(const struct model_src *s);
/* 1 and *n if frame f has a tensor "step" (an i64 scalar, else die naming
 * stream), 0 if it has none. */
int model_step(const struct ts_frame *f, const char *stream, int64_t *n);

/* Write frame `name` built from input frame f the NetPBM way: f's tensors in
 * order, less those named in drop (a NULL-terminated list, or NULL); each of
 * the nout tensors in out takes the place of the input tensor of the same
 * name, or follows at the end if there is none. */
void model_write_pass(struct ts_writer *w, const char *name, const struct ts_frame *f,
		      const char *const *drop, const struct ts_tensor *out, int nout);

#endif
