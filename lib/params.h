/* params.h: the parameters of a model of either kind, the default one
 * (model.h: Wxh ... by) or one of the family (netmodel.h: arch, Wx.l ...),
 * as the list of its real tensors, and the states it carries from window
 * to window: for the code that handles every model the same way (the
 * checkpoint, the workspace, feed). formats/model.md says what the tensors
 * are.
 *
 * Gradients, optimiser state and the like are "like" the parameters: the
 * same tensors under a prefix (dWxh, mWx.0, ...), bound here as a struct
 * params of their own.
 *
 * Legend: V vocab, L layers, H a layer's hidden size, B sequences side by
 * side. */
#ifndef CHARNN_PARAMS_H
#define CHARNN_PARAMS_H

#include <stddef.h>

#include "net.h"
#include "rnn.h"
#include "ts.h"
#include "tsmap.h"

enum { PARAMS_MAX = 3 * NET_MAX_L + 2, PARAMS_MAX_STATES = 2 * NET_MAX_L };

struct params {
	int fam;		/* a model of the family: N; else the default: P */
	struct rnn_params P;
	struct net N;
	int V;
	int n;			/* parameter tensors */
	struct ts_tensor t[PARAMS_MAX];	/* names without prefix, shapes, data */
	const struct ts_tensor *arch;	/* fam: the record (i32 (1+L)) */
	real *block;		/* params_zeros's allocation, else NULL */
};

/* The model of frame f (stream names it in messages) into m, pointing at
 * f's data: 1, or 0 if f holds no model of either kind; dies on a bad one. */
int params_from_frame(struct params *m, const struct ts_frame *f, const char *stream);
/* The same for frame `frame` of a mapped file. */
int params_from_map(struct params *m, const struct ts_map *map, const char *frame);
/* A family model N (its arrays wherever they are) as a struct params. */
void params_of_net(struct params *m, const struct net *N);
/* The tensors prefix+NAME of frame f for each parameter NAME of m, shaped as
 * it, into out: 1, or 0 if f has none of them; dies naming the first one
 * missing or misshapen (what names them, for the default model's message:
 * "Adagrad memory"). */
int params_like_frame(struct params *out, const struct params *m, const struct ts_frame *f,
		      const char *prefix, const char *what, const char *stream);
int params_like_map(struct params *out, const struct params *m, const struct ts_map *map,
		    const char *frame, const char *prefix);
/* out: tensors shaped as m, one after another from base (params_count
 * reals, the caller's); returns the end of them. */
real *params_point(struct params *out, const struct params *m, real *base);
/* out: zeros shaped as m, in one allocation; params_free frees it. */
void params_zeros(struct params *out, const struct params *m);
void params_free(struct params *m);

/* Reals in all the parameters. */
size_t params_count(const struct params *m);
/* Tensors params_write writes. */
int params_ntensors(const struct params *m, const char *prefix);
/* Write the parameters of m as prefix+NAME, in order; with prefix "" a
 * family model's arch first. The default model's bytes are model_write's. */
void params_write(struct ts_writer *w, const struct params *m, const char *prefix);
/* 1 if every parameter is a finite number. */
int params_finite(const struct params *m);

/* The states one sequence carries: reals of all of them (the default
 * model: h (H); the family: each layer's h (H_l) and, for lstm, c (H_l)). */
size_t params_state_reals(const struct params *m);
/* The state tensors of B sequences named after base ("h", "h0", "hT"):
 * the default model's one, base (B,H); the family's base.l (B,H_l) and,
 * for lstm, the same name with c for its h (c0.l, cT.l, dc0.l ...), layer
 * by layer,
 * their data consecutive in block (B * params_state_reals reals; NULL: the
 * names and shapes alone). Returns how many (at most PARAMS_MAX_STATES). */
int params_states(const struct params *m, size_t B, const char *base, real *block,
		  struct ts_tensor *out);
/* Sequence b's states in block (as params_states lays them out for B
 * sequences) into seq, in the order net_step (or rnn_step) keeps them. */
void params_state_of(const struct params *m, const real *block, size_t B, size_t b,
		     real *seq);

#endif
