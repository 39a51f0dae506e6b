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
/* The same for tensors that must fit parameters like (gradients, memory):
 * if all but prefix+Wxh have like's shapes, the message names that one. */
int model_like_frame(struct rnn_params *P, const struct ts_frame *f, const char *prefix,
		     const struct rnn_params *like, const char *stream);
int model_like_map(struct rnn_params *P, const struct ts_map *m, const char *frame,
		   const char *prefix, const struct rnn_params *like);
/* Die unless A and B have the same V and H; what names B in the message. */
void model_check_same(const struct rnn_params *A, const struct rnn_params *B,
		      const char *stream, const char *what);
/* The five tensors of P named prefix+name, headers filled, data pointing
 * into P, ready for ts_write_copy or tsf_write_pass. */
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

#endif
