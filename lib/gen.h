/* gen.h: running a trained model one character at a time: sampling text
 * from it and scoring text with it (bin/sample, bin/score, and the training
 * loop's sampler and validation).
 *
 * Legend: V vocab, H hidden. Indices are vocabulary indices in [0, V); the
 * hidden state h (H) is the caller's and is carried from call to call.
 * Large products (a big H, or a big V's output layer) run on the threads
 * rnn_set_threads gives (sample -j, score -j), with the same results. */
#ifndef CHARNN_GEN_H
#define CHARNN_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "net.h"
#include "params.h"
#include "rng.h"
#include "rnn.h"
#include "ts.h"
#include "vocab.h"

/* A model read from a file for sampling or scoring: the first frame
 * "params" of the stream, kept in memory, with m (either kind of model,
 * params.h) pointing into it. */
struct gen_model {
	struct ts_frame f;
	struct params m;
	struct vocab v;
};

/* Read the model in the stream at path ("-": stdin): its first frame
 * "params", which must hold a model of either kind and a "vocab" of V
 * entries, every parameter finite. Dies naming path if there is no such
 * frame or it is not a model. */
void gen_load(struct gen_model *m, const char *path);
void gen_free(struct gen_model *m);

/* Bytes of scratch memory gen_score (and a vanilla model's gen_seq)
 * needs (aligned for real). */
size_t gen_scratch_bytes(int V, int H);

/* Feed x[0..n-2], updating h, and return the summed -ln p of each x[i+1]
 * given what came before it: the nats of predicting x[1..n-1]. n < 2
 * predicts nothing and returns 0. A text scored in chunks gives the same
 * sum if consecutive chunks overlap by one index (the last of one chunk is
 * the first of the next: it is the target there and the input here). */
double gen_score(const struct rnn_params *P, real *h, const int32_t *x, size_t n,
		 real *scratch);

/* One sequence through a model of either kind: its states, zeros at
 * first (a family model's: each layer's, net_state_reals), scratch, and
 * the output layer as a sampler reads it (rnn_out, made when opened). */
struct gen_seq {
	const struct params *m;
	real *state;		/* params_state_reals */
	real *scratch;
	struct rnn_out out;
	struct gen_win *win;	/* a family model's scoring window, once needed */
};
void gen_seq_open(struct gen_seq *g, const struct params *m);
void gen_seq_close(struct gen_seq *g);
/* Feed input x, updating the states, and return the next index: drawn
 * from softmax(logits / temperature) with r, or the most probable one (the
 * lowest index among equals) if argmax is set, when r and temperature are
 * not used. temperature > 0. */
int gen_seq_next(struct gen_seq *g, int x, real temperature, int argmax, struct rng *r);
/* Feed x alone (priming: nothing drawn). */
void gen_seq_feed(struct gen_seq *g, int x);
/* gen_score for g. */
double gen_seq_score(struct gen_seq *g, const int32_t *x, size_t n);

#endif
