/* workspace.h: the training workspace, and where a stage takes its
 * parameters from (formats/model.md, THE WORKSPACE).
 *
 * The workspace is one tensor file that feed creates and rnn-fwd, rnn-bwd
 * and adagrad map (lib/tsmap) and compute on in place: frames params
 * (vocab, Wxh..by), adagrad (mWxh..mby, the optimiser's first state, and
 * the step count), for Adam optim (vWxh..vby: lib/optim.h), grads
 * (dWxh..dby) and forward (hs, ps). The step count is the number of updates
 * the parameters have had: adagrad -w advances it after each one, rnn-fwd
 * -w waits for it to reach the step of the window it is about to compute,
 * so that feed can send windows ahead while every forward pass still sees
 * the parameters of the step before it.
 *
 * The count is an aligned int64_t in a shared mapping. On Linux a waiter
 * sleeps on a futex on its low 32 bits (little-endian hosts only, as the
 * whole build); elsewhere it polls with short sleeps. */
#ifndef CHARNN_WORKSPACE_H
#define CHARNN_WORKSPACE_H

#include <stdint.h>

#include "net.h"
#include "params.h"
#include "rnn.h"
#include "ts.h"
#include "tsmap.h"

/* Frame names, in the workspace and in the loop's streams. */
#define WS_PARAMS "params"	/* vocab, Wxh..by: a model */
#define WS_MEMORY "adagrad"	/* mWxh..mby, and the step count */
#define WS_GRADS "grads"	/* dWxh..dby */
#define WS_FORWARD "forward"	/* hs, ps; rnn-fwd's output frame */
#define WS_WINDOW "window"	/* feed's windows */
#define WS_STEPPED "step"	/* what adagrad -w writes back to feed */
/* Tensor names. */
#define WS_VOCAB "vocab"
#define WS_STEP "step"	/* i64 scalar: in WS_MEMORY, and in every loop frame */
#define WS_HS "hs"	/* (T,B,H) */
#define WS_PS "ps"	/* (T,B,V) */
#define WS_CS "cs"	/* family: cs.l (T,B,H_l), lstm */
#define WS_GS "gs"	/* family: gs.l (T,B,4H_l), lstm and gru */
#define WS_DROP "drop"	/* family: drop.l (T,B,H_l), the dropout multipliers */
/* Prefixes of the parameters' names for gradients and memory. */
#define WS_GRAD_PREFIX "d"
#define WS_MEM_PREFIX "m"

/* Activation tensors the forward pass leaves in frame "forward" for the
 * backward one: the default model's hs (T,B,H) and ps (T,B,V); a family
 * model's, layer by layer, hs.l (T,B,H_l), for lstm cs.l, for lstm and gru
 * gs.l (T,B,4H_l), with dropout drop.l (T,B,H_l), then ps (T,B,V). Their
 * names and shapes (data NULL) into out (WS_MAX_ACTS at most); returns how
 * many. */
enum { WS_MAX_ACTS = 4 * NET_MAX_L + 1 };
int ws_acts(const struct params *P, int T, int B, int dropout, struct ts_tensor *out);

/* Write a new workspace to path (atomically): the model P (either kind)
 * with its vocabulary tensor, memory M, the optimiser's further state X
 * (frame "optim", lib/optim.h; NULL or empty: none), zero gradients, the
 * step count at step and, zeros, the activation tensors act[0..nact)
 * (ws_acts). */
void ws_create(const char *path, const struct ts_tensor *vocab, const struct params *P,
	       const struct params *M, const struct ts_frame *X, int64_t step,
	       const struct ts_tensor *act, int nact);

/* Where a stage takes its parameters from: each frame (inline), a model
 * file (-m, mapped read-only) or the training workspace (-w, mapped
 * read-write). The file is mapped when first needed, so a workspace that
 * another stage creates need not exist when the pipeline starts. */
struct ws_src {
	const char *path;	/* NULL: inline */
	int writable;		/* -w: a workspace */
	struct ts_map map;	/* map.base is NULL until mapped */
	struct params prm;	/* the file's frame "params", once mapped */
	struct rnn_params P;	/* prm.P: the default model's */
	/* The step count, once looked for (a workspace may have none). */
	int looked, pipe;	/* pipe: reading one, so the count may move */
	int64_t *count;
};

/* Take option c with argument arg: -m MODEL or -w WORKSPACE. Returns 0, or
 * 1 if c is neither or a source was given already (a usage error). */
int ws_src_opt(struct ws_src *s, int c, const char *arg);
/* After the options: a model file (-m) is mapped now, as it must exist. */
void ws_src_start(struct ws_src *s);
/* Map s's file now if there is one and it is not mapped yet. */
void ws_src_map(struct ws_src *s);
/* Point P at the parameters for frame f: f's own Wxh..by when inline (die
 * if missing), else the file's (die if f carries parameters too). */
void ws_src_params(struct ws_src *s, struct rnn_params *P, const struct ts_frame *f,
		   const char *stream);
/* The same for a model of the family: 1 and N pointing at f's own or the
 * file's, or 0 if that model is the default one (then ws_src_params). */
int ws_src_net(struct ws_src *s, struct net *N, const struct ts_frame *f, const char *stream);
/* Point out at the workspace's tensors prefix+Wxh.. of frame `frame`; die
 * naming the first one missing, or one whose shape differs from the
 * parameters'. s is mapped. */
void ws_src_find(const struct ws_src *s, struct rnn_params *out, const char *frame,
		 const char *prefix);
/* The workspace's tensor frame/name if s is a workspace that has one of
 * dtype TS_REAL and exactly the shape dims, else NULL: rnn-fwd writes the
 * activations (frame "forward": hs, ps) there instead of into the stream
 * when feed made room for them, and rnn-bwd reads them from there. */
real *ws_src_scratch(const struct ws_src *s, const char *frame, const char *name,
		     int rank, const uint64_t *dims);
/* The workspace's step count if s is a mapped workspace that keeps one,
 * else NULL; dies if it is misshapen. */
int64_t *ws_src_count(struct ws_src *s);
void ws_src_close(struct ws_src *s);

/* rnn-fwd -w: frame f (read from r) carries the step n of its window; wait
 * until the workspace's parameters are at step n. Reading a pipe, adagrad
 * may yet get there; die if the stages around this one have gone, or if the
 * parameters are already past n. Does nothing for a frame without a step or
 * a source that is not a workspace with a count. */
void ws_wait_step(struct ws_src *s, const struct ts_frame *f, const struct ts_reader *r);

/* The count's value, read after (and ordered before) what it guards. */
int64_t step_load(const int64_t *c);
/* *c = v, published after everything written before it, and every waiter
 * woken. */
void step_store(int64_t *c, int64_t v);
/* Sleep until *c is no longer seen or about ms milliseconds have passed (or
 * a signal came); the caller checks the value again either way. */
void step_sleep(const int64_t *c, int64_t seen, int ms);

#endif
