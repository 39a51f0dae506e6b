/* netstage.h: rnn-fwd's and rnn-bwd's work on a frame that carries a model
 * of the model family (formats/model.md, THE MODEL FAMILY) inline.
 *
 * Per layer l the frames carry h0.l (B,H) and, for lstm, c0.l (B,H): the
 * states before the window. The forward frame adds hs.l (T,B,H), for lstm
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

/* If frame f holds a family model ("arch"), run the forward pass and write
 * frame "forward" to w, returning 1; 0 (nothing done) if it holds none. */
int netstage_forward(const struct ts_frame *f, const char *stream, struct ts_writer *w);
/* The same for the backward pass, each gradient element clipped to [-clip,
 * clip] (0: not clipped), frame "grads". */
int netstage_backward(const struct ts_frame *f, const char *stream, struct ts_writer *w,
		      real clip);

#endif
