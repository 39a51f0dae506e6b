/* rnn.h: the vanilla RNN of min-char-rnn, forward and backward, batched.
 *
 * Legend (every shape below uses these letters):
 *   V  vocabulary size          H  hidden size
 *   T  time steps in a window   B  sequences side by side (batch)
 * Matrices are row-major (C order): Wxh (H,V) is H rows of V.
 *
 * Model, for t = 0..T-1 and each sequence b:
 *   h[t] = tanh(Wxh[:, x[t]] + Whh h[t-1] + bh)      h[-1] = h0
 *   p[t] = softmax(Why h[t] + by)
 *   loss = (1/B) sum_b sum_t -ln p[t][y[t]]
 * Gradients are of that loss (so averaged over B, summed over T).
 *
 * Each operation has a plain reference version (_ref: straight loops, as in
 * min-char-rnn) and the optimised one that programs use; tests compare the
 * two. `real` is float, or double when built with -DCHARNN_DOUBLE. */
#ifndef CHARNN_RNN_H
#define CHARNN_RNN_H

#include <stddef.h>
#include <stdint.h>

#include "ts.h"

#ifdef CHARNN_DOUBLE
typedef double real;
#define TS_REAL TS_F64
#else
typedef float real;
#define TS_REAL TS_F32
#endif

/* Parameters, or gradients, or Adagrad memory: same shapes. The pointers
 * may point into a mapped file; nothing here allocates them. */
struct rnn_params {
	int V, H;
	real *Wxh;	/* (H,V) */
	real *Whh;	/* (H,H) */
	real *Why;	/* (V,H) */
	real *bh;	/* (H) */
	real *by;	/* (V) */
};

/* Number of reals in Wxh, Whh, Why, bh, by together: H*V + H*H + V*H + H + V. */
size_t rnn_nparams(int V, int H);

/* Set P's sizes to V, H and point its five arrays, in that order, into the
 * rnn_nparams(V, H) reals at base (which stays the caller's). Returns the
 * end of them, base + rnn_nparams(V, H), where a next block may start. */
real *rnn_params_bind(struct rnn_params *P, real *base, int V, int H);

/* Bytes of scratch memory rnn_backward needs for these sizes. */
size_t rnn_scratch_bytes(int V, int H, int T, int B);

/* Forward pass over one window.
 * x, y: (T,B) input and target indices, each in [0,V)
 * h0: (B,H) hidden state before the window
 * hs: (T,B,H) out, hidden states; ps: (T,B,V) out, probabilities
 * loss: (B) out, each sequence's summed -ln p[t][y[t]]
 * Returns the window loss, (1/B) sum_b loss[b], accumulated in double. */
double rnn_forward(const struct rnn_params *P, int T, int B, const int32_t *x,
		   const int32_t *y, const real *h0, real *hs, real *ps, real *loss);
double rnn_forward_ref(const struct rnn_params *P, int T, int B, const int32_t *x,
		       const int32_t *y, const real *h0, real *hs, real *ps, real *loss);

/* Backward pass over one window: the gradients of the window loss.
 * G: out, overwritten (not accumulated), same shapes as P
 * dh0: (B,H) out, gradient with respect to h0
 * x, y, h0, hs, ps: as given to and produced by rnn_forward
 * scratch: rnn_scratch_bytes(V,H,T,B) bytes, aligned for real
 * No clipping here: see rnn_clip. */
void rnn_backward(struct rnn_params *G, real *dh0, const struct rnn_params *P,
		  int T, int B, const int32_t *x, const int32_t *y, const real *h0,
		  const real *hs, const real *ps, void *scratch);
void rnn_backward_ref(struct rnn_params *G, real *dh0, const struct rnn_params *P,
		      int T, int B, const int32_t *x, const int32_t *y, const real *h0,
		      const real *hs, const real *ps, void *scratch);

/* Clip every element of G to [-c, c] (min-char-rnn: c = 5). */
void rnn_clip(struct rnn_params *G, real c);

/* Adagrad on n reals: mem += g*g; p -= lr * g / sqrt(mem + 1e-8). */
void adagrad_update(real *p, real *mem, const real *g, size_t n, real lr);
void adagrad_update_ref(real *p, real *mem, const real *g, size_t n, real lr);

/* One step of the recurrence for one sequence, as sampling needs it:
 * h: (H) in: previous hidden state, out: new one; x: input index. The
 * logits of the new state come from the output layer below (rnn_out). */
void rnn_step(const struct rnn_params *P, real *h, int x);

/* The output layer for one state at a time, as a sampler runs it: logits
 * (V) = b + W (V,H) h (Why h + by, before the softmax), from a copy of W
 * made once (by rnn_out_init) in panels of RNN_OUT_PANEL of its rows,
 * each stored transposed (H rows of the panel's width) and read front to
 * back, so that no sum across a vector's lanes is needed and the panels
 * split over the threads. Equal to the reference forward's logits within
 * rounding, and the same bytes for any thread count. b and the sizes are
 * kept; W is not needed after init. */
enum { RNN_OUT_PANEL = 64 };
struct rnn_out {
	real *pk;	/* (V,H) in panels */
	const real *b;	/* (V) */
	int V, H;
};
void rnn_out_init(struct rnn_out *o, const real *W, const real *b, int V, int H);
void rnn_out_logits(const struct rnn_out *o, const real *h, real *logits);
void rnn_out_free(struct rnn_out *o);

/* Softmax of logits (V) divided by temperature into p (V), max subtracted
 * first; returns ln of the normaliser (for log-probabilities). */
double rnn_softmax(real *p, const real *logits, int V, real temperature);

/* The optimised functions come in versions for several instruction sets;
 * the fastest one the CPU runs is used unless rnn_set_isa chose another.
 * rnn_isa names the one in use: "avx512", "avx2" or "base". rnn_set_isa
 * picks one by name (for tests and benchmarks) and returns 1, or 0 if there
 * is no such version or the CPU cannot run it. */
const char *rnn_isa(void);
int rnn_set_isa(const char *name);
/* The name of version i (0 the fastest), whether or not this CPU runs it;
 * NULL for i past the last: for tests and benchmarks to try each. */
const char *rnn_isa_name(int i);

/* Threads for the optimised functions: rnn_set_threads(n) uses n (1 to
 * RNN_MAX_THREADS; 0: as if never set); otherwise the first call reads the
 * environment variable CHARNN_THREADS (dying, exit 2, if it is not a
 * number in that range), and without it there is one. Results are the same
 * bytes whatever the number. rnn_threads returns the number in use. */
enum { RNN_MAX_THREADS = 256 };
void rnn_set_threads(int n);
int rnn_threads(void);
/* rnn_set_threads from a program's -j argument s; dies (exit 2) naming -j
 * if it is not a number from 1 to RNN_MAX_THREADS. */
void rnn_set_threads_arg(const char *s);

#endif
