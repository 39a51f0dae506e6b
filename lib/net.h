/* net.h: the model family of formats/model.md: L stacked layers of one cell
 * (rnn, lstm or gru) under a softmax output layer, forward and backward,
 * batched: the plain reference loops (_ref) and the fast versions beside
 * them (lib/net_fast.c), which programs use; tests compare the two. The
 * default model (rnn, one layer) keeps its own fast kernels in rnn.h.
 *
 * Legend (every shape below uses these letters):
 *   V  vocabulary size        L  layers, l = 0..L-1 from the input up
 *   H  hidden size of a layer (H[l]); I its input size (V for l = 0, else
 *      H[l-1]); G its gate count: rnn 1, lstm 4, gru 3
 *   T  time steps in a window B  sequences side by side (batch)
 * Matrices are row-major. The equations are on formats/model.md. */
#ifndef CHARNN_NET_H
#define CHARNN_NET_H

#include <stddef.h>
#include <stdint.h>

#include "rnn.h"

enum { NET_RNN, NET_LSTM, NET_GRU, NET_NCELLS };
enum { NET_MAX_L = 16 };
extern const char *const net_cell_names[NET_NCELLS];	/* rnn lstm gru */

/* One layer's parameters (or gradients): gate blocks stacked by rows. */
struct net_layer {
	int I, H;
	real *Wx;	/* (G*H, I) */
	real *Wh;	/* (G*H, H) */
	real *b;	/* (G*H) */
};

/* A model's parameters, or gradients of the same shapes. */
struct net {
	int cell, L, V;
	struct net_layer l[NET_MAX_L];
	real *Why;	/* (V, H[L-1]) */
	real *by;	/* (V) */
};

/* Gates of a cell: 1, 4, 3. */
int net_gates(int cell);
/* Reals in all the parameters of sizes cell, L, V, H[0..L-1]. */
size_t net_nparams(int cell, int L, int V, const int *H);
/* Set N's sizes and point its arrays, layer by layer (Wx, Wh, b), then Why,
 * by, into the net_nparams reals at base. Returns the end of them. */
real *net_bind(struct net *N, real *base, int cell, int L, int V, const int *H);

/* What the forward pass keeps for the backward one, per layer l:
 * hs[l] (T,B,H) hidden states; for lstm cs[l] (T,B,H) cell states and
 * gs[l] (T,B,4H) gates i f o g after their nonlinearity; for gru gs[l]
 * (T,B,4H): z r n and u = Whn h[t-1] (the product the reset gate scales).
 * rnn needs no gs or cs (NULL).
 * drop[l]: NULL (no dropout on layer l), else (T,B,H) multipliers (each 0
 * or 1/(1-p), net_dropout_mask) on layer l's output where it feeds the
 * layer above, or the output layer for l = L-1: the input of layer l+1 at
 * step t is hs[l][t] * drop[l][t], the logits Why (hs[L-1][t] *
 * drop[L-1][t]) + by. hs keeps the undropped states, which the recurrence
 * (and the next window) carries. An input of both passes. */
struct net_acts {
	real *hs[NET_MAX_L], *cs[NET_MAX_L], *gs[NET_MAX_L];
	real *drop[NET_MAX_L];
};
/* Reals of acts layer l needs for T*B = n characters: (hs, cs, gs). */
void net_acts_sizes(const struct net *P, int l, size_t n, size_t size[3]);

/* Forward pass over one window.
 * x, y: (T,B) indices in [0,V); h0[l], c0[l]: (B,H) states before the
 * window (c0 only for lstm, else ignored); A: out; ps: (T,B,V) out;
 * loss: (B) out, each sequence's summed -ln p[t][y[t]].
 * Returns (1/B) sum_b loss[b], accumulated in double. */
double net_forward_ref(const struct net *P, int T, int B, const int32_t *x,
		       const int32_t *y, real *const *h0, real *const *c0,
		       const struct net_acts *A, real *ps, real *loss);

/* The same, fast (lib/net_fast.c): results equal to net_forward_ref's
 * within rounding, the same bytes for any number of threads
 * (rnn_set_threads). scratch: net_fwd_scratch_bytes(P,T,B) bytes, aligned
 * for double (as malloc's). */
double net_forward(const struct net *P, int T, int B, const int32_t *x, const int32_t *y,
		   real *const *h0, real *const *c0, const struct net_acts *A, real *ps,
		   real *loss, void *scratch);
size_t net_fwd_scratch_bytes(const struct net *P, int T, int B);

/* Bytes of scratch net_backward_ref and net_backward need: the larger of
 * the reference's and net_bwd_scratch_bytes, the fast one's. */
size_t net_scratch_bytes(const struct net *P, int T, int B);
size_t net_bwd_scratch_bytes(const struct net *P, int T, int B);

/* Backward pass: the gradients of the window loss into G (overwritten, same
 * shapes as P), dh0[l], dc0[l] (B,H) (dc0 only for lstm); inputs as given to
 * and produced by net_forward_ref; no clipping. */
void net_backward_ref(struct net *G, real *const *dh0, real *const *dc0,
		      const struct net *P, int T, int B, const int32_t *x,
		      const int32_t *y, real *const *h0, real *const *c0,
		      const struct net_acts *A, const real *ps, void *scratch);
/* The same, fast, as net_forward is to net_forward_ref. */
void net_backward(struct net *G, real *const *dh0, real *const *dc0, const struct net *P,
		  int T, int B, const int32_t *x, const int32_t *y, real *const *h0,
		  real *const *c0, const struct net_acts *A, const real *ps, void *scratch);

/* Dropout multipliers of layer l: mask (n) element k is 0 with probability
 * p, else (real)(1/(1-p)), from a counter-based hash of (seed, l, k) (no
 * state; formats/model.md, DROPOUT, says which bit for bit). p = 0 gives
 * all ones; p outside [0, 1) is an internal error (dies). */
void net_dropout_mask(real *mask, size_t n, double p, uint64_t seed, int l);


/* One step for one sequence, as sampling needs it. state holds each
 * layer's h (H) and, for lstm, then its c (H), layer after layer:
 * net_state_reals of them, in: before x, out: after it. scratch:
 * net_step_scratch reals. The reference loops also give the logits (V),
 * Why h + by of the top layer; the fast version (lib/net_fast.c) the
 * states alone, whose logits come from rnn_out (rnn.h). Its results
 * equal the reference's within rounding and are the same bytes for any
 * thread count. */
size_t net_state_reals(const struct net *P);
size_t net_step_scratch(const struct net *P);
void net_step_ref(const struct net *P, real *state, int x, real *logits, real *scratch);
void net_step(const struct net *P, real *state, int x, real *scratch);

#endif
