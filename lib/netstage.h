/* netstage.h: rnn-fwd's and rnn-bwd's work on a frame that carries a model
 * of the model family (formats/model.md, THE MODEL FAMILY) inline.
 *
 * Per layer l the frames carry h0.l (B,H) and, for lstm, c0.l (B,H): the
 * states before the window; rnn-fwd takes a frame without h0.0 to start
 * where the one before it ended, and adds those states to its output. The forward frame adds hs.l (T,B,H), for lstm
 * cs.l (T,B,H), for lstm and gru gs.l (T,B,4H) (net.h says what they hold),
 * ps (T,B,V), loss (B), hT.l and cT.l (B,H); the gradient frame drops the
 * window and activations and adds dWx.l, dWh.l, db.l, dWhy, dby (clipped)
 * and dh0.l, dc0.l.
 *
 * Legend: V vocab, H a layer's hidden size, T steps, B batch. */
#ifndef CHARNN_NETSTAGE_H
#define CHARNN_NETSTAGE_H

#include "ts.h"
#include "rnn.h"

/* -m MODEL: if the first frame of the file path holds a family model
 * ("arch"), load it into mf and return 1 (the caller then passes mf to the
 * functions below and frees it); else return 0, mf untouched. */
int netstage_model(struct ts_frame *mf, const char *path);

/* If mf (a netstage_model, or NULL) or else frame f holds a family model,
 * run the forward pass over f's window and write frame "forward" to w,
 * returning 1; 0 (nothing done) if neither holds one. With mf, a frame
 * that carries a model of its own is an error. */
int netstage_forward(const struct ts_frame *f, const struct ts_frame *mf, const char *stream,
		     struct ts_writer *w);
/* The same for the backward pass, each gradient element clipped to [-clip,
 * clip] (0: not clipped), frame "grads". */
int netstage_backward(const struct ts_frame *f, const struct ts_frame *mf, const char *stream,
		      struct ts_writer *w, real clip);

#endif
