/* netstage.h: rnn-fwd's and rnn-bwd's work on a frame whose model is of the
 * model family (formats/model.md, THE MODEL FAMILY): carried inline, or in
 * the file of -m MODEL or -w WORKSPACE.
 *
 * Per layer l the frames carry h0.l (B,H) and, for lstm, c0.l (B,H): the
 * states before the window; rnn-fwd takes a frame without h0.0 to start
 * where the one before it ended, and adds those states to its output. The
 * forward frame adds the activations (workspace.h, ws_acts: hs.l, cs.l,
 * gs.l, with dropout drop.l, then ps), loss (B), hT.l and cT.l (B,H), and
 * with dropout the rate as "dropout" (); with -w and room for them in the
 * workspace's frame "forward", the activations go there instead of into
 * the stream. The gradient frame drops the window, states and activations
 * and adds dWx.l, dWh.l, db.l, dWhy, dby (clipped; with -w into the
 * workspace's frame "grads" instead) and dh0.l, dc0.l.
 *
 * Legend: V vocab, H a layer's hidden size, T steps, B batch. */
#ifndef CHARNN_NETSTAGE_H
#define CHARNN_NETSTAGE_H

#include <stdint.h>

#include "net.h"
#include "params.h"
#include "rnn.h"
#include "ts.h"
#include "workspace.h"

/* What a stage keeps from frame to frame: its options, the last window's
 * final states (rnn-fwd), and buffers that grow to the largest window. */
struct netstage {
	double dropout;		/* rnn-fwd -D: the rate (0: none) */
	uint64_t seed;		/* rnn-fwd -s: the dropout masks' seed */
	real clip;		/* rnn-bwd -c (0: none) */
	int mean;		/* rnn-bwd -M: gradients of the loss over T */
	struct {
		int have, cell, L;
		size_t B, H[NET_MAX_L];
		real *s;	/* B sequences' states (params_states "h") */
	} carry;
	real *buf;		/* activations, ps, loss; or gradients, dh0, dc0 */
	size_t cap;		/* reals in buf */
	void *scratch;
	size_t scratch_cap;	/* bytes */
};

/* If the model for frame f (inline, or from src's file) is of the family,
 * run the forward pass over f's window (read from r, waiting with -w for
 * its step as ws_wait_step does) and write frame "forward" to w, returning
 * 1; 0 (nothing done) for the default model. */
int netstage_forward(struct netstage *ns, struct ws_src *src, const struct ts_frame *f,
		     const struct ts_reader *r, struct ts_writer *w);
/* The same for the backward pass: frame "grads". */
int netstage_backward(struct netstage *ns, struct ws_src *src, const struct ts_frame *f,
		      const char *stream, struct ts_writer *w);
void netstage_free(struct netstage *ns);

#endif
