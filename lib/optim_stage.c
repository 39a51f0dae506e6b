/* optim_stage.c: the stage program of an optimiser (adagrad, rmsprop,
 * adam): one update per gradient frame, inline or in the workspace (-w)
 * (formats/model.md, THE OPTIMISERS). Every real tensor NAME of the
 * parameters is updated with its gradient dNAME and the optimiser's state
 * PREFIX+NAME, whatever their names and number; inline, a frame that holds
 * a model (model.h, netmodel.h) must bring the gradient of each of its
 * parameters.
 *
 * Legend: n reals of one tensor, flattened. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arg.h"
#include "err.h"
#include "model.h"
#include "optim.h"
#include "params.h"
#include "ts.h"
#include "tsframe.h"
#include "workspace.h"

static void usage(const struct optim *o)
{
	fprintf(stderr, "usage: %s [-l LR] [-R SCHED] [-G NORM] [-w WORKSPACE] [FILE]\n",
		o->name);
	exit(EXIT_USAGE);
}

/* What --help says of each optimiser: its name, its rule (with
 * optim_defaults' constants), what its state is. */
static const struct {
	const char *title, *rule, *state, *names;
} about[] = {
	[OPTIM_ADAGRAD] = { "Adagrad", "mem += g*g; p -= lr*g/sqrt(mem+1e-8)", "memory", "mNAME" },
	[OPTIM_RMSPROP] = { "RMSprop", "ms = 0.95*ms + 0.05*g*g; p -= lr*g/(sqrt(ms)+1e-8)",
			    "mean square", "mNAME" },
	[OPTIM_ADAM] = { "Adam", "m = 0.9*m + 0.1*g; v = 0.999*v + 0.001*g*g;\n"
			 "  p -= lr*sqrt(1-0.999^t)/(1-0.9^t)*m/(sqrt(v)+1e-8), t the update",
			 "moments", "mNAME and vNAME" },
};

static void help(const struct optim *o)
{
	const char *state = about[o->kind].state;
	printf("usage: %s [-l LR] [-R SCHED] [-G NORM] [-w WORKSPACE] [FILE]\n"
	       "%s update for each gradient frame (from rnn-bwd) of FILE or stdin,\n"
	       "element by element:\n"
	       "  %s\n"
	       "Writes a frame \"params\" with the parameters NAME updated, their\n"
	       "%s (%s) beside them and the gradients dNAME dropped.\n"
	       "  -l LR         learning rate (%g)\n"
	       "  -R SCHED      its schedule by update: step:START:EVERY:FACTOR,\n"
	       "                cosine:WARMUP:TOTAL or linear:WARMUP:TOTAL\n"
	       "  -G NORM       first scale the gradients so that their global L2 norm\n"
	       "                is at most NORM (default: no clipping)\n"
	       "  -w WORKSPACE  parameters, gradients and %s from the training\n"
	       "                workspace, updated in place; writes a frame \"step\"\n"
	       "                and counts the update in the workspace's step\n"
	       "Without -w, a frame that brings no %s uses this program's own,\n"
	       "kept from frame to frame, zero at first.\n", o->name, about[o->kind].title,
	       about[o->kind].rule, state, about[o->kind].names, o->lr, state, state);
	efshut_stdout();
}

/* What lasts from frame to frame. */
struct optim_stage {
	const struct optim *o;
	struct optim_hyper h;
	int ns;
	struct optim_slot s[OPTIM_MAXSLOTS];	/* -w: bound once */
	int64_t *count;		/* -w: the workspace's step, or NULL */
	int64_t done;		/* updates made (when there is no count) */
	/* Inline: state kept for frames that bring none, per slot: the
	 * parameter it was made for (name and shape; data NULL), its arrays. */
	int nown;
	struct ts_tensor ownp[OPTIM_MAXSLOTS];
	real *own[OPTIM_MAXSLOTS][OPTIM_MAXSTATE];
};

/* prefix+name into buf, or die naming stream if it is too long. */
static char *pname(char buf[TS_MAX_NAME + 1], const char *prefix, const char *name,
		   const char *stream)
{
	if (strlen(prefix) + strlen(name) > TS_MAX_NAME)
		eprintf("%s: tensor '%s': name too long for '%s%s'", stream, name, prefix, name);
	size_t a = strlen(prefix);
	memcpy(buf, prefix, a);
	memcpy(buf + a, name, strlen(name) + 1);
	return buf;
}

/* Die unless t (found as frame/name of stream) is real and shaped as p. */
static void same_shape(const struct ts_tensor *t, const struct ts_tensor *p,
		       const char *stream)
{
	tsf_expect(t, TS_REAL, p->rank, p->dims, stream);
}

/* -w: the workspace tensor frame/prefix+name, shaped as p; die if missing. */
static real *ws_need(const struct ws_src *src, const char *frame, const char *prefix,
		     const struct ts_tensor *p)
{
	char n[TS_MAX_NAME + 1];
	struct ts_tensor *t = tsf_map_need(&src->map, frame, pname(n, prefix, p->name, src->path));
	same_shape(t, p, src->path);
	return t->data;
}

/* -w: bind every real tensor of the workspace's parameters to its gradient
 * and state, once. */
static void bind_workspace(struct optim_stage *k, struct ws_src *src)
{
	for (size_t i = 0; i < src->map.n; i++) {
		struct ts_mapped *m = &src->map.t[i];
		if (strcmp(m->frame, WS_PARAMS) || m->t.dtype != TS_REAL)
			continue;
		if (k->ns == OPTIM_MAXSLOTS)
			eprintf("%s: more than %d parameter tensors", src->path, OPTIM_MAXSLOTS);
		struct optim_slot *s = &k->s[k->ns++];
		snprintf(s->name, sizeof s->name, "%s", m->t.name);
		s->p = m->t.data;
		s->n = m->t.count;
		s->g = ws_need(src, WS_GRADS, WS_GRAD_PREFIX, &m->t);
		for (int j = 0; j < k->o->nstate; j++)
			s->s[j] = ws_need(src, j ? OPTIM_FRAME : WS_MEMORY, k->o->prefix[j], &m->t);
	}
	if (!k->ns)
		eprintf("%s: frame '%s': no parameters", src->path, WS_PARAMS);
	k->count = ws_src_count(src);
}

/* -w: die if frame f carries a gradient or a parameter of the workspace's
 * (gradients first): it would be silently unused. */
static void not_in_frame(const struct optim_stage *k, const struct ws_src *src,
			 const struct ts_frame *f, const char *stream)
{
	char n[TS_MAX_NAME + 1];
	for (int i = 0; i < k->ns; i++)
		if (ts_frame_find(f, pname(n, WS_GRAD_PREFIX, k->s[i].name, stream)))
			eprintf("%s: frame '%s' carries tensor '%s', but the gradients come from %s",
				stream, f->name, n, src->path);
	for (int i = 0; i < k->ns; i++)
		if (ts_frame_find(f, k->s[i].name))
			eprintf("%s: frame '%s' carries tensor '%s', but the parameters come from %s",
				stream, f->name, k->s[i].name, src->path);
}

/* -w: update the workspace's parameters; frame f passes whole as "step",
 * then the step count goes up. */
static void step_workspace(struct optim_stage *k, struct ws_src *src, const struct ts_frame *f,
			   const char *stream, struct ts_writer *w)
{
	/* Mapped here, not with ws_src_map, which checks the file for a model
	 * of either kind: this stage takes parameters of any names. */
	if (!src->map.base)
		ts_map_open(&src->map, src->path, 1);
	if (!k->ns)
		bind_workspace(k, src);
	not_in_frame(k, src, f, stream);
	int64_t at = k->count ? step_load(k->count) : k->done, want;
	if (k->count && tsf_opt_i64(f, WS_STEP, stream, &want) && want != at)
		eprintf("%s: gradients of step %lld, but the parameters in %s are at step %lld",
			stream, (long long)want, src->path, (long long)at);
	optim_step(k->o, &k->h, k->s, k->ns, at + 1);
	/* The frame first (so the data stage never waits for it), then the
	 * count that lets the next window in. */
	tsf_write_pass(w, WS_STEPPED, f, NULL, NULL, 0);
	k->done++;
	if (k->count)
		step_store(k->count, at + 1);
}

/* 1 if a and b have the same name and shape. */
static int same_tensor(const struct ts_tensor *a, const struct ts_tensor *b)
{
	int same = !strcmp(a->name, b->name) && a->rank == b->rank;
	for (int i = 0; same && i < a->rank; i++)
		same = a->dims[i] == b->dims[i];
	return same;
}

/* Inline: the state prefix+p of frame f if it has one (shaped as p), else
 * the program's own for slot i, created (zeros) on the first frame. */
static real *inline_state(struct optim_stage *k, const struct ts_frame *f, const struct ts_tensor *p,
			  int i, int j, const char *stream, int *own)
{
	char n[TS_MAX_NAME + 1];
	struct ts_tensor *t = ts_frame_find(f, pname(n, k->o->prefix[j], p->name, stream));
	if (t) {
		same_shape(t, p, stream);
		return t->data;
	}
	*own = 1;
	/* Slots before i may have brought all their state: theirs stay
	 * unnamed until they need some. */
	for (; k->nown <= i; k->nown++)
		k->ownp[k->nown].name[0] = 0;
	if (!k->ownp[i].name[0]) {
		k->ownp[i] = *p;
		k->ownp[i].data = NULL;
	}
	const struct ts_tensor *q = &k->ownp[i];
	if (!same_tensor(q, p)) {
		char got[TS_SHAPE_BUF], kept[TS_SHAPE_BUF];
		eprintf("%s: frame '%s': tensor '%s' %s does not fit the state kept from "
			"earlier frames for '%s' %s", stream, f->name, p->name,
			ts_shape_fmt(got, p->rank, p->dims, 0), q->name,
			ts_shape_fmt(kept, q->rank, q->dims, 0));
	}
	if (!k->own[i][j])
		k->own[i][j] = ecalloc(p->count, sizeof(real));
	return k->own[i][j];
}

/* Inline: if frame f holds a model of either kind, die naming the first of
 * its parameters without a gradient in f: a model is updated whole. (A
 * frame of parameters of other names has no such list.) */
static void need_model_grads(const struct ts_frame *f, const char *stream)
{
	struct params m;
	char n[TS_MAX_NAME + 1];
	if (!ts_frame_find(f, "arch"))
		for (int i = 0; i < MODEL_NTENSORS; i++)
			if (!ts_frame_find(f, model_names[i]))
				return;
	if (!params_from_frame(&m, f, stream))
		return;
	for (int i = 0; i < m.n; i++)
		tsf_need(f, pname(n, WS_GRAD_PREFIX, m.t[i].name, stream), stream);
}

/* Inline: the slots of frame f: each real tensor NAME with a gradient dNAME
 * in f. Returns how many; *own is set if some state is the program's. */
static int bind_inline(struct optim_stage *k, const struct ts_frame *f, const char *stream,
		       struct optim_slot *s, int *own)
{
	int ns = 0;
	char n[TS_MAX_NAME + 1];
	need_model_grads(f, stream);
	for (uint32_t i = 0; i < f->n; i++) {
		struct ts_tensor *p = &f->t[i], *g;
		if ((p->dtype != TS_F32 && p->dtype != TS_F64) || strlen(p->name) == TS_MAX_NAME ||
		    !(g = ts_frame_find(f, pname(n, WS_GRAD_PREFIX, p->name, stream))))
			continue;
		tsf_expect_dtype(p, TS_REAL, stream);
		if (ns == OPTIM_MAXSLOTS)
			eprintf("%s: frame '%s': more than %d parameter tensors", stream, f->name,
				OPTIM_MAXSLOTS);
		same_shape(g, p, stream);
		snprintf(s[ns].name, sizeof s[ns].name, "%s", p->name);
		s[ns].p = p->data;
		s[ns].g = g->data;
		s[ns].n = p->count;
		for (int j = 0; j < k->o->nstate; j++)
			s[ns].s[j] = inline_state(k, f, p, ns, j, stream, own);
		ns++;
	}
	if (!ns)
		eprintf("%s: frame '%s': no parameters with gradients", stream, f->name);
	return ns;
}

/* Inline: update frame f's parameters (and the state it brings) in place
 * and write it out as "params", less the gradients, with the program's own
 * state (if it used any) at the end. */
static void step_inline(struct optim_stage *k, const struct ts_frame *f, const char *stream,
			struct ts_writer *w)
{
	static struct optim_slot s[OPTIM_MAXSLOTS];
	static char dropname[OPTIM_MAXSLOTS][TS_MAX_NAME + 1];
	static const char *drop[OPTIM_MAXSLOTS + 1];
	static struct ts_tensor out[OPTIM_MAXSLOTS * OPTIM_MAXSTATE];
	int own = 0, ns = bind_inline(k, f, stream, s, &own), nout = 0;
	int64_t t;
	if (!tsf_opt_i64(f, WS_STEP, stream, &t))
		t = k->done;
	optim_step(k->o, &k->h, s, ns, t + 1);
	k->done++;
	for (int i = 0; i < ns; i++) {
		drop[i] = pname(dropname[i], WS_GRAD_PREFIX, s[i].name, stream);
		const struct ts_tensor *p = ts_frame_find(f, s[i].name);
		for (int j = 0; own && j < k->o->nstate; j++) {
			char n[TS_MAX_NAME + 1];
			if (ts_frame_find(f, pname(n, k->o->prefix[j], p->name, stream)))
				continue;
			out[nout] = *p;
			snprintf(out[nout].name, sizeof out[nout].name, "%s", n);
			out[nout].flags = 0;
			out[nout].pad = 0;
			out[nout++].data = s[i].s[j];
		}
	}
	drop[ns] = NULL;
	tsf_write_pass(w, WS_PARAMS, f, drop, out, nout);
}

/* -R SCHED into sc, or a usage error. */
static void sched_opt(struct optim_sched *sc, const char *arg)
{
	if (!optim_sched_parse(arg, sc))
		uprintf("-R: '%s' is not step:START:EVERY:FACTOR, cosine:WARMUP:TOTAL or "
			"linear:WARMUP:TOTAL", arg);
}

/* A stage of optimiser o with hyperparameters h; optim_stage_free frees it. */
static struct optim_stage *optim_stage_new(const struct optim *o, const struct optim_hyper *h)
{
	struct optim_stage *k = ecalloc(1, sizeof *k);
	k->o = o;
	k->h = *h;
	return k;
}

/* One update of every real parameter tensor for frame f, in src's
 * workspace (-w) or inline. */
static void optim_stage_frame(struct optim_stage *k, struct ws_src *src,
			      const struct ts_frame *f, const char *stream, struct ts_writer *w)
{
	if (src->path)
		step_workspace(k, src, f, stream, w);
	else
		step_inline(k, f, stream, w);
}

static void optim_stage_free(struct optim_stage *k)
{
	for (int i = 0; k && i < k->nown; i++)
		for (int j = 0; j < OPTIM_MAXSTATE; j++)
			free(k->own[i][j]);
	free(k);
}

int optim_main(const struct optim *o, int argc, char **argv)
{
	struct ws_src src = { 0 };
	struct optim_hyper h;
	int c;

	optim_defaults(o, &h);
	setprog(argv[0]);
	if (argc > 1 && is_help(argv[1]))
		help(o);
	while ((c = getopt(argc, argv, "l:R:G:w:")) != -1) {
		if (c == 'l')
			h.lr = estrtod(optarg, 0, 1e6, "-l");
		else if (c == 'R')
			sched_opt(&h.sched, optarg);
		else if (c == 'G')
			h.gnorm = estrtod(optarg, 0, 1e30, "-G");
		else if (c != 'w' || ws_src_opt(&src, c, optarg))
			usage(o);
	}
	if (argc - optind > 1)
		usage(o);

	struct ts_reader r;
	struct ts_writer w;
	struct ts_frame f;
	struct optim_stage *k = optim_stage_new(o, &h);
	ts_ropen(&r, argv[optind]);
	ts_wopen(&w, NULL);
	while (ts_read_frame(&r, &f)) {
		optim_stage_frame(k, &src, &f, r.path, &w);
		ts_frame_free(&f);
	}
	ts_rclose(&r);
	ts_wclose(&w);
	ws_src_close(&src);
	optim_stage_free(k);
	return 0;
}
