/* ckpt.h: the training checkpoint (formats/model.md, THE CHECKPOINT).
 *
 * A checkpoint is a model (frame params) followed by the optimiser's memory
 * (frame adagrad) and the state of the run (frame state), from which feed
 * resumes exactly. feed -i reads a model with the same reader: then only
 * the frame params is needed. */
#ifndef CHARNN_CKPT_H
#define CHARNN_CKPT_H

#include <stdint.h>

#include "rng.h"
#include "rnn.h"
#include "ts.h"

#define CKPT_STATE "state"

/* Everything a checkpoint holds besides parameters and memory. */
struct ckpt_state {
	long long iter;		/* iterations completed */
	long long pos;		/* window start within each sequence's slice */
	long long ntrain;	/* characters used for training */
	long long T, B;
	double smooth;		/* smoothed loss */
	real *h;		/* (B,H) hidden state carried into the next window */
	struct rng rng;		/* the sampler's */
};

/* A model or checkpoint file as read. */
struct ckpt {
	const char *path;
	struct ts_frame params, mem, state;	/* mem.t, state.t NULL if absent */
	const struct ts_tensor *vocab;
	struct rnn_params P, M;	/* M: zeros (allocated) when there is none */
	int resumable;		/* it had memory and state */
};

/* Write a checkpoint to path atomically (fsynced): the model P with its
 * vocabulary tensor, memory M and state s (s->h of s->B x P->H). */
void ckpt_write(const char *path, const struct ts_tensor *vocab, const struct rnn_params *P,
		const struct rnn_params *M, const struct ckpt_state *s);
/* Read path: a model, or with resume a checkpoint, checked whole (every
 * tensor of params and adagrad; the state's tensors are there with their
 * dtypes and shapes, h of B x H for the B the state gives). Dies naming
 * path on any problem. */
void ckpt_read(struct ckpt *c, const char *path, int resume);
/* The state of a checkpoint read with resume, into s (s->h allocated). */
void ckpt_state(const struct ckpt *c, struct ckpt_state *s);
void ckpt_free(struct ckpt *c);

#endif
