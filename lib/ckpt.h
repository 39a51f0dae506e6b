/* ckpt.h: the training checkpoint (formats/model.md, THE CHECKPOINT).
 *
 * A checkpoint is a model (frame params) followed by the optimiser's memory
 * (frame adagrad) and the state of the run (frame state), from which feed
 * resumes exactly. feed -i reads a model with the same reader: then only
 * the frame params is needed. */
#ifndef CHARNN_CKPT_H
#define CHARNN_CKPT_H

#include <stdint.h>

#include "params.h"
#include "rng.h"
#include "rnn.h"
#include "ts.h"

#define CKPT_STATE "state"
#define CKPT_SETTINGS "settings"

/* The settings a run was made with, each a name and its value as text
 * (formats/model.md, THE SETTINGS): a later run resuming it must use the
 * same ones. */
enum { CKPT_MAX_SETTINGS = 32, CKPT_MAX_VALUE = 255 };
struct ckpt_settings {
	int n;
	char name[CKPT_MAX_SETTINGS][TS_MAX_NAME + 1];
	char value[CKPT_MAX_SETTINGS][CKPT_MAX_VALUE + 1];
};
/* The value of setting name, or NULL. */
const char *ckpt_get(const struct ckpt_settings *set, const char *name);
/* A number a run is made with, given as an option or taken from the
 * checkpoint it resumes (the held-out fraction, the seed, ...). */
struct ckpt_num {
	const char *name;	/* the setting */
	const char *opt;	/* the option, for messages: "-v" */
	const char *dflt;	/* a checkpoint without the setting had this */
	double lo, hi;		/* the range of a checkpoint's value */
	const char *arg;	/* in: as given, or the default; out: the run's */
	int given;		/* the option was given */
};
/* On resume from the checkpoint at path with settings set: each number not
 * given is the checkpoint's (or its dflt); one given that differs from it
 * is a usage error naming the option and both values; a checkpoint's value
 * out of range is bad data. arg then points into set (or at dflt). */
void ckpt_resume_nums(struct ckpt_num *n, int count, const struct ckpt_settings *set,
		      const char *path);
/* Set name to value (replacing any value it had); what names the source of
 * a bad one (too long, too many) in a usage error. */
void ckpt_set(struct ckpt_settings *set, const char *name, const char *value,
	      const char *what);

/* Everything a checkpoint holds besides parameters and memory. */
struct ckpt_state {
	long long iter;		/* iterations completed */
	long long pos;		/* window start within each sequence's slice */
	long long ntrain;	/* characters used for training */
	long long T, B;
	double smooth;		/* smoothed loss */
	double val;		/* the last scheduled held-out bpc (-1: none yet) */
	double best;		/* the lowest of them (-1: none yet) */
	real *h;		/* the states carried into the next window: B
				 * sequences' (params_states "h": (B,H) for
				 * the default model) */
	struct rng rng;		/* the sampler's */
	struct ckpt_settings set;
	/* ckpt_write: the optimiser's state beyond its memory (lib/optim.h),
	 * written as frame "optim" if nx > 0. */
	const struct ts_tensor *xt;
	int nx;
};

/* A model or checkpoint file as read. */
struct ckpt {
	const char *path;
	struct ts_frame params, mem, state, set;	/* .t NULL if absent */
	struct ts_frame xstate;	/* frame "optim" (lib/optim.h), .t NULL if absent */
	const struct ts_tensor *vocab;
	struct params P, M;	/* M: zeros (params_zeros) when there is none */
	int resumable;		/* it had memory and state */
};

/* Write a checkpoint to path atomically (fsynced): the model P (either
 * kind) with its vocabulary tensor, memory M and state s (s->h the states
 * of s->B sequences). */
void ckpt_write(const char *path, const struct ts_tensor *vocab, const struct params *P,
		const struct params *M, const struct ckpt_state *s);
/* Read path: a model (either kind), or with resume a checkpoint, checked
 * whole (every tensor of params and adagrad; the state's tensors are there
 * with their dtypes and shapes, the states of the B sequences the state
 * gives). Dies naming path on any problem. */
void ckpt_read(struct ckpt *c, const char *path, int resume);
/* Die naming c's path and the tensor unless every parameter and every
 * value of the state of optimiser o (lib/optim.h) in c is finite, and the
 * state not negative where o's never is. */
struct optim;
void ckpt_check_values(const struct ckpt *c, const struct optim *o);
/* The state of a checkpoint read with resume, into s (s->h allocated):
 * every field is checked for dtype and shape, and T, B and iter for range;
 * the caller checks pos and ntrain against its corpus. */
void ckpt_state(const struct ckpt *c, struct ckpt_state *s);
void ckpt_free(struct ckpt *c);

#endif
