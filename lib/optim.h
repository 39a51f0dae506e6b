/* optim.h: the optimisers' update rules and the stage that applies them
 * (formats/model.md, THE OPTIMISERS).
 *
 * An optimiser is a row of the table optim_table: its name (that of its
 * stage program), its default learning rate and the prefixes of its state.
 * State tensor k of parameter NAME is prefix[k]+NAME, of NAME's shape: the
 * first (prefix "m") lives in the workspace's and checkpoint's frame
 * "adagrad" beside the step count, any further one in frame "optim". The
 * stage updates every real tensor of the parameters (whatever their names
 * and number) with its gradient "d"+NAME.
 *
 * Legend: n reals of one tensor, flattened. */
#ifndef CHARNN_OPTIM_H
#define CHARNN_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "rnn.h"
#include "ts.h"

#define OPTIM_FRAME "optim"	/* state beyond the first set */
enum { OPTIM_MAXSTATE = 2, OPTIM_MAXSLOTS = 256 };

enum optim_kind { OPTIM_ADAGRAD, OPTIM_RMSPROP, OPTIM_ADAM };

struct optim {
	const char *name;
	enum optim_kind kind;
	double lr;			/* default learning rate */
	int nstate;
	const char *prefix[OPTIM_MAXSTATE];
};

extern const struct optim optim_table[];
/* The optimiser called name, or NULL. */
const struct optim *optim_find(const char *name);

/* A learning-rate schedule, stateless: the rate of update t (from 1) is a
 * function of t alone, so a resumed run is exact (formats/model.md, THE
 * OPTIMISERS). i = t - 1 updates came before:
 *   step:START:EVERY:FACTOR  lr * FACTOR^k, k = 0 while i < START, else
 *                            1 + floor((i - START) / EVERY)
 *   cosine:WARMUP:TOTAL      lr (i+1)/WARMUP while i < WARMUP, then
 *                            lr (1 + cos(pi min(1, (i-WARMUP)/(TOTAL-WARMUP)))) / 2
 *   linear:WARMUP:TOTAL      the same warm-up, then lr (1 - min(1, ...)) */
struct optim_sched {
	enum { SCHED_NONE, SCHED_STEP, SCHED_COSINE, SCHED_LINEAR } kind;
	double a, b, c;
};
/* Parse s into sc; 0 if it is not one of the forms above (counts are
 * integers >= 0, EVERY >= 1, TOTAL > WARMUP, FACTOR in (0, 1e6]). */
int optim_sched_parse(const char *s, struct optim_sched *sc);
/* The rate of update t under sc from base rate lr. */
double optim_sched_rate(const struct optim_sched *sc, double lr, int64_t t);

/* Hyperparameters of one run of a stage. */
struct optim_hyper {
	double lr;
	double decay;		/* RMSprop: mean-square decay (0.95) */
	double beta1, beta2;	/* Adam (0.9, 0.999) */
	double eps;		/* RMSprop and Adam (1e-8) */
	double gnorm;		/* clip the global L2 norm of the gradients to this; 0: off */
	struct optim_sched sched;	/* -R: the rate's schedule */
};
/* o's defaults into h. */
void optim_defaults(const struct optim *o, struct optim_hyper *h);

/* One parameter tensor with its gradient and state, all of n reals. */
struct optim_slot {
	char name[TS_MAX_NAME + 1];
	real *p, *g, *s[OPTIM_MAXSTATE];
	size_t n;
};

/* The L2 norm of the gradients of slots s[0..ns), summed in double. */
double optim_grad_norm(const struct optim_slot *s, int ns);
/* Scale the gradients of s[0..ns) by max/norm if their global norm is over
 * max (max 0: never). */
void optim_clip_norm(struct optim_slot *s, int ns, double max);
/* One update of every slot by o: the gradients scaled first so that their
 * global norm is at most h->gnorm (if set); t is the number of this update,
 * counting from 1 (Adam's bias correction). */
void optim_step(const struct optim *o, const struct optim_hyper *h, struct optim_slot *s,
		int ns, int64_t t);

/* The kernels, (n) each, and a plain reference for each: the reference is
 * the definition; optim_step uses the others.
 * RMSprop: ms = decay*ms + (1-decay)*g*g; p -= lr * g / (sqrt(ms) + eps). */
void rmsprop_update(real *p, real *ms, const real *g, size_t n, real lr, real decay,
		    real eps);
void rmsprop_update_ref(real *p, real *ms, const real *g, size_t n, real lr, real decay,
			real eps);
/* Adam, update t >= 1: m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g*g;
 * p -= lr * sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps). */
void adam_update(real *p, real *m, real *v, const real *g, size_t n, real lr, real b1,
		 real b2, real eps, int64_t t);
void adam_update_ref(real *p, real *m, real *v, const real *g, size_t n, real lr, real b1,
		     real b2, real eps, int64_t t);

/* The state of o beyond its first set (frame OPTIM_FRAME), zeros, for the
 * real tensors of params: out->n is 0 if o keeps none. Free out with
 * ts_frame_free. */
void optim_zero_state(const struct optim *o, const struct ts_frame *params,
		      struct ts_frame *out);
/* Die naming path unless frame x (frame OPTIM_FRAME of a checkpoint, .t NULL
 * if absent) holds o's state beyond the first set for every real tensor of
 * params, shaped as it. */
void optim_check_state(const struct optim *o, const struct ts_frame *params,
		       const struct ts_frame *x, const char *path);

/* The stage program of optimiser o (bin/adagrad.c, bin/rmsprop.c,
 * bin/adam.c): options, --help, inline and -w modes; returns main's
 * status. */
int optim_main(const struct optim *o, int argc, char **argv);

#endif
