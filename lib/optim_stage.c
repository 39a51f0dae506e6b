/* optim_stage.c: the stage program of an optimiser (rmsprop, adam): one
 * update per gradient frame, inline or in the workspace (-w), as adagrad's
 * (formats/model.md, THE OPTIMISERS). Every real tensor NAME of the
 * parameters is updated with its gradient dNAME and the optimiser's state
 * PREFIX+NAME, whatever their names and number.
 *
 * Legend: n reals of one tensor, flattened. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arg.h"
#include "err.h"
#include "optim.h"
#include "ts.h"
#include "tsframe.h"
#include "workspace.h"

static void usage(const struct optim *o)
{
	fprintf(stderr, "usage: %s [-l LR] [-R SCHED] [-G NORM] [-w WORKSPACE] [FILE]\n",
		o->name);
	exit(EXIT_USAGE);
}

static void help(const struct optim *o)
{
	printf("usage: %s [-l LR] [-R SCHED] [-G NORM] [-w WORKSPACE] [FILE]\n"
	       "%s update for each gradient frame (from rnn-bwd) of FILE or stdin:\n"
	       "writes a frame \"params\" with every parameter NAME and its state\n"
	       "%s updated, the gradients dNAME dropped.\n"
	       "  -l LR         learning rate (%g)\n"
	       "  -R SCHED      its schedule by update: step:START:EVERY:FACTOR,\n"
	       "                cosine:WARMUP:TOTAL or linear:WARMUP:TOTAL\n"
	       "  -G NORM       first scale the gradients so that their global L2 norm\n"
	       "                is at most NORM (default: no clipping)\n"
	       "  -w WORKSPACE  parameters, gradients and state from the training\n"
	       "                workspace, updated in place; writes a frame \"step\"\n"
	       "                and counts the update in the workspace's step\n"
	       "Without -w state missing from a frame is kept by this program from\n"
	       "frame to frame.\n", o->name, o->name,
	       o->nstate > 1 ? "mNAME and vNAME" : "mNAME", o->lr);
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
	/* Inline: state kept for frames that bring none, per slot. */
	int nown;
	char ownname[OPTIM_MAXSLOTS][TS_MAX_NAME + 1];
	size_t ownn[OPTIM_MAXSLOTS];
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

/* -w: update the workspace's parameters; frame f passes whole as "step",
 * then the step count goes up. */
static void step_workspace(struct optim_stage *k, struct ws_src *src, const struct ts_frame *f,
			   const char *stream, struct ts_writer *w)
{
	/* Mapped here, not with ws_src_map, which knows only the vanilla
	 * model's tensors. */
	if (!src->map.base)
		ts_map_open(&src->map, src->path, 1);
	if (!k->ns)
		bind_workspace(k, src);
	/* Parameters or gradients in the stream would be ignored for the
	 * workspace's: say so instead. */
	char n[TS_MAX_NAME + 1];
	for (int i = 0; i < k->ns; i++) {
		if (ts_frame_find(f, k->s[i].name))
			eprintf("%s: frame '%s' carries tensor '%s', but the parameters come from %s",
				stream, f->name, k->s[i].name, src->path);
		if (ts_frame_find(f, pname(n, WS_GRAD_PREFIX, k->s[i].name, stream)))
			eprintf("%s: frame '%s' carries tensor '%s', but the gradients come from %s",
				stream, f->name, n, src->path);
	}
	int64_t at = k->count ? step_load(k->count) : k->done, want;
	if (k->count && tsf_opt_i64(f, WS_STEP, stream, &want) && want != at)
		eprintf("%s: gradients of step %lld, but the parameters in %s are at step %lld",
			stream, (long long)want, src->path, (long long)at);
	optim_step(k->o, &k->h, k->s, k->ns, at + 1);
	tsf_write_pass(w, WS_STEPPED, f, NULL, NULL, 0);
	k->done++;
	if (k->count)
		step_store(k->count, at + 1);
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
		k->ownname[k->nown][0] = 0;
	if (!k->ownname[i][0]) {
		snprintf(k->ownname[i], sizeof k->ownname[i], "%s", p->name);
		k->ownn[i] = p->count;
	}
	if (strcmp(k->ownname[i], p->name) || k->ownn[i] != p->count)
		eprintf("%s: frame '%s': tensor '%s' does not fit the state kept from earlier "
			"frames for '%s' (%zu reals)", stream, f->name, p->name, k->ownname[i],
			k->ownn[i]);
	if (!k->own[i][j])
		k->own[i][j] = ecalloc(p->count, sizeof(real));
	return k->own[i][j];
}

/* Inline: the slots of frame f: each real tensor NAME with a gradient dNAME
 * in f. Returns how many; *own is set if some state is the program's. */
static int bind_inline(struct optim_stage *k, const struct ts_frame *f, const char *stream,
		       struct optim_slot *s, int *own)
{
	int ns = 0;
	char n[TS_MAX_NAME + 1];
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

struct optim_stage *optim_stage_new(const struct optim *o, const struct optim_hyper *h)
{
	struct optim_stage *k = ecalloc(1, sizeof *k);
	k->o = o;
	k->h = *h;
	return k;
}

void optim_stage_frame(struct optim_stage *k, struct ws_src *src, const struct ts_frame *f,
		       const char *stream, struct ts_writer *w)
{
	if (src->path)
		step_workspace(k, src, f, stream, w);
	else
		step_inline(k, f, stream, w);
}

void optim_stage_free(struct optim_stage *k)
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
