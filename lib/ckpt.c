/* ckpt.c: see ckpt.h and formats/model.md (THE CHECKPOINT).
 *
 * Legend: V vocab, H hidden, B sequences side by side. */
#include "ckpt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "optim.h"
#include "tsframe.h"
#include "workspace.h"

const char *ckpt_get(const struct ckpt_settings *set, const char *name)
{
	for (int i = 0; i < set->n; i++)
		if (strcmp(set->name[i], name) == 0)
			return set->value[i];
	return NULL;
}

void ckpt_resume_nums(struct ckpt_num *n, int count, const struct ckpt_settings *set,
		      const char *path)
{
	for (int i = 0; i < count; i++) {
		const char *v = ckpt_get(set, n[i].name);
		if (!v)
			v = n[i].dflt;
		if (n[i].given && strtod(v, NULL) != strtod(n[i].arg, NULL))
			uprintf("%s %s: the checkpoint %s was made with %s %s", n[i].opt,
				n[i].arg, path, n[i].opt, v);
		double x = strtod(v, NULL);
		if (!(x >= n[i].lo && x <= n[i].hi))
			eprintf("%s: frame '%s': %s %s out of range [%g, %g]", path,
				CKPT_SETTINGS, n[i].name, v, n[i].lo, n[i].hi);
		n[i].arg = v;
	}
}

void ckpt_set(struct ckpt_settings *set, const char *name, const char *value,
	      const char *what)
{
	char copy[CKPT_MAX_VALUE + 1];
	int i = 0;
	while (i < set->n && strcmp(set->name[i], name) != 0)
		i++;
	if (i == CKPT_MAX_SETTINGS)
		uprintf("%s: more than %d settings", what, CKPT_MAX_SETTINGS);
	if (!ts_valid_name(name, 1) || strlen(value) > CKPT_MAX_VALUE)
		uprintf("%s: a setting needs a name of 1 to %d characters and a value of "
			"at most %d", what, TS_MAX_NAME, CKPT_MAX_VALUE);
	/* value may be a setting's own: copied before it is overwritten. */
	snprintf(copy, sizeof copy, "%s", value);
	if (i == set->n)
		set->n++;
	snprintf(set->name[i], sizeof set->name[i], "%s", name);
	memcpy(set->value[i], copy, sizeof copy);
}

/* The settings as frame CKPT_SETTINGS: one u8 tensor of text per setting. */
static void write_settings(struct ts_writer *w, const struct ckpt_settings *set)
{
	ts_write_frame(w, CKPT_SETTINGS, (uint32_t)set->n);
	for (int i = 0; i < set->n; i++) {
		uint64_t n = strlen(set->value[i]);
		ts_write_tensor(w, set->name[i], TS_U8, 1, &n, set->value[i]);
	}
}

/* The frame CKPT_SETTINGS of a checkpoint into set. */
static void read_settings(struct ckpt_settings *set, const struct ts_frame *f,
			  const char *path)
{
	set->n = 0;
	for (uint32_t i = 0; i < f->n; i++) {
		const struct ts_tensor *t = &f->t[i];
		char v[CKPT_MAX_VALUE + 1];
		if (t->dtype != TS_U8 || t->rank != 1 || t->count > CKPT_MAX_VALUE ||
		    memchr(t->data, 0, t->count) || i >= CKPT_MAX_SETTINGS)
			eprintf("%s: frame '%s': tensor '%s' is not a setting (u8 text of at "
				"most %d bytes, at most %d of them)", path, f->name, t->name,
				CKPT_MAX_VALUE, CKPT_MAX_SETTINGS);
		memcpy(v, t->data, t->count);
		v[t->count] = 0;
		ckpt_set(set, t->name, v, path);
	}
}

void ckpt_write(const char *path, const struct ts_tensor *vocab, const struct params *P,
		const struct params *M, const struct ckpt_state *s)
{
	struct ts_writer w;
	ts_wopen(&w, path);
	ts_write_frame(&w, WS_PARAMS, 1 + (uint32_t)params_ntensors(P, ""));
	ts_write_copy(&w, vocab);
	params_write(&w, P, "");
	ts_write_frame(&w, WS_MEMORY, (uint32_t)params_ntensors(M, WS_MEM_PREFIX));
	params_write(&w, M, WS_MEM_PREFIX);
	if (s->nx > 0) {
		ts_write_frame(&w, OPTIM_FRAME, (uint32_t)s->nx);
		for (int i = 0; i < s->nx; i++)
			ts_write_copy(&w, &s->xt[i]);
	}

	struct ts_tensor h[PARAMS_MAX_STATES];
	int nh = params_states(P, (size_t)s->B, "h", s->h, h);
	uint64_t four = 4;
	int64_t rs[4], iv[5] = { s->iter, s->pos, s->ntrain, s->T, s->B };
	memcpy(rs, s->rng.s, sizeof rs);
	ts_write_frame(&w, CKPT_STATE, 9 + (uint32_t)nh);
	ts_write_tensor(&w, "iter", TS_I64, 0, NULL, &iv[0]);
	ts_write_tensor(&w, "pos", TS_I64, 0, NULL, &iv[1]);
	ts_write_tensor(&w, "ntrain", TS_I64, 0, NULL, &iv[2]);
	ts_write_tensor(&w, "T", TS_I64, 0, NULL, &iv[3]);
	ts_write_tensor(&w, "B", TS_I64, 0, NULL, &iv[4]);
	ts_write_tensor(&w, "smooth", TS_F64, 0, NULL, &s->smooth);
	for (int i = 0; i < nh; i++)
		ts_write_copy(&w, &h[i]);
	ts_write_tensor(&w, "rng", TS_I64, 1, &four, rs);
	ts_write_tensor(&w, "val", TS_F64, 0, NULL, &s->val);
	ts_write_tensor(&w, "best", TS_F64, 0, NULL, &s->best);
	write_settings(&w, &s->set);
	ts_wclose(&w);
}

/* Keep the first frames params, adagrad, state and settings of path; drop
 * the rest. */
static void load(struct ckpt *c, const char *path)
{
	struct ts_reader r;
	struct ts_frame f;
	ts_ropen(&r, path);
	while (ts_read_frame(&r, &f)) {
		struct ts_frame *keep = !strcmp(f.name, WS_PARAMS) && !c->params.t ? &c->params :
					!strcmp(f.name, WS_MEMORY) && !c->mem.t ? &c->mem :
					!strcmp(f.name, CKPT_STATE) && !c->state.t ? &c->state :
					!strcmp(f.name, CKPT_SETTINGS) && !c->set.t ? &c->set :
					!strcmp(f.name, OPTIM_FRAME) && !c->xstate.t ? &c->xstate :
					NULL;
		if (keep)
			*keep = f;
		else
			ts_frame_free(&f);
	}
	ts_rclose(&r);
}

void ckpt_read(struct ckpt *c, const char *path, int resume)
{
	memset(c, 0, sizeof *c);
	c->path = path;
	load(c, path);
	if (!c->params.t || !params_from_frame(&c->P, &c->params, path))
		eprintf("%s: no \"%s\" frame with a model", path, WS_PARAMS);
	c->vocab = tsf_need(&c->params, WS_VOCAB, path);
	if (!resume) {
		params_zeros(&c->M, &c->P);
		return;
	}
	if (!c->mem.t ||
	    !params_like_frame(&c->M, &c->P, &c->mem, WS_MEM_PREFIX, "Adagrad memory", path))
		eprintf("%s: no \"%s\" frame: not a checkpoint", path, WS_MEMORY);
	if (!c->state.t)
		eprintf("%s: no \"%s\" frame: not a checkpoint", path, CKPT_STATE);
	c->resumable = 1;
}

/* Die naming path and the tensor unless every value of real tensor t is
 * finite, and, if who names an optimiser, not negative (its state). */
static void values(const struct ts_tensor *t, int nonneg, const char *who, const char *path)
{
	const real *a = t->data;
	for (uint64_t k = 0; k < t->count; k++) {
		if (!isfinite(a[k]))
			eprintf("%s: tensor '%s': element %llu is %s, not a finite number", path,
				t->name, (unsigned long long)k,
				isnan(a[k]) ? "nan" : a[k] > 0 ? "inf" : "-inf");
		if (nonneg && a[k] < 0)
			eprintf("%s: tensor '%s': element %llu is %g, but %s's state is never "
				"negative", path, t->name, (unsigned long long)k, (double)a[k], who);
	}
}

void ckpt_check_values(const struct ckpt *c, const struct optim *o)
{
	for (int i = 0; i < c->P.n; i++)
		values(&c->P.t[i], 0, NULL, c->path);
	/* Adam's first state is a mean of gradients, of either sign; the
	 * others' states are means or sums of squares. */
	int sq = o->kind != OPTIM_ADAM;
	char name[TS_MAX_NAME + 1];
	for (int i = 0; i < c->M.n; i++) {
		struct ts_tensor t = c->M.t[i];
		snprintf(name, sizeof name, "%s%.*s", WS_MEM_PREFIX, TS_MAX_NAME - 1, t.name);
		memcpy(t.name, name, sizeof t.name);
		values(&t, sq, o->name, c->path);
	}
	for (uint32_t i = 0; i < c->xstate.n; i++)
		if (c->xstate.t[i].dtype == TS_REAL)
			values(&c->xstate.t[i], 1, o->name, c->path);
}

/* The f64 scalar name of the state frame, finite; if it may be absent
 * (optional: checkpoints from before it was kept), dflt then. */
static double state_f64(const struct ckpt *c, const char *name, int optional, double dflt)
{
	if (optional && !ts_frame_find(&c->state, name))
		return dflt;
	double v = tsf_f64(&c->state, name, c->path);
	if (!isfinite(v))
		eprintf("%s: frame '%s': %s is not finite", c->path, CKPT_STATE, name);
	return v;
}

/* The i64 scalar name of the state frame, which must lie in [min, max]. */
static long long state_i64(const struct ckpt *c, const char *name, long long min,
			   long long max)
{
	int64_t v = tsf_i64(&c->state, name, c->path);
	if (v < min || v > max)
		eprintf("%s: frame '%s': %s %lld out of range [%lld, %lld]", c->path,
			CKPT_STATE, name, (long long)v, min, max);
	return v;
}

void ckpt_state(const struct ckpt *c, struct ckpt_state *s)
{
	const struct ts_frame *st = &c->state;
	s->iter = state_i64(c, "iter", 0, 1LL << 62);
	s->pos = state_i64(c, "pos", 0, 1LL << 62);
	s->ntrain = state_i64(c, "ntrain", 0, 1LL << 62);
	s->T = state_i64(c, "T", 1, 1 << 16);
	s->B = state_i64(c, "B", 1, 1 << 16);
	s->smooth = state_f64(c, "smooth", 0, 0);
	s->val = state_f64(c, "val", 1, -1);
	s->best = state_f64(c, "best", 1, -1);
	if ((s->val != -1 && s->val < 0) || (s->best != -1 && s->best < 0))
		eprintf("%s: frame '%s': val %g, best %g: each is -1 (none yet) or a bpc >= 0",
			c->path, CKPT_STATE, s->val, s->best);
	const uint64_t four = 4;
	size_t B = (size_t)s->B;
	/* Every state tensor found, with its shape, before the memory for
	 * them is taken: a B that lies costs nothing. */
	struct ts_tensor h[PARAMS_MAX_STATES];
	const struct ts_tensor *in[PARAMS_MAX_STATES];
	int nh = params_states(&c->P, B, "h", NULL, h);
	for (int i = 0; i < nh; i++)
		in[i] = tsf_need_shaped(st, h[i].name, TS_REAL, 2, h[i].dims, c->path);
	s->h = emalloc(B * params_state_reals(&c->P) * sizeof(real));
	params_states(&c->P, B, "h", s->h, h);
	for (int i = 0; i < nh; i++) {
		values(in[i], 0, NULL, c->path);
		memcpy(h[i].data, in[i]->data, in[i]->nbytes);
	}
	const struct ts_tensor *rs = tsf_need_shaped(st, "rng", TS_I64, 1, &four, c->path);
	memcpy(s->rng.s, rs->data, sizeof s->rng.s);
	if (!(s->rng.s[0] | s->rng.s[1] | s->rng.s[2] | s->rng.s[3]))
		eprintf("%s: frame '%s': rng is all zeros, which xoshiro256** never leaves",
			c->path, CKPT_STATE);
	s->set.n = 0;
	if (c->set.t)
		read_settings(&s->set, &c->set, c->path);
}

void ckpt_free(struct ckpt *c)
{
	if (!c->resumable)
		params_free(&c->M);
	ts_frame_free(&c->params);
	ts_frame_free(&c->mem);
	ts_frame_free(&c->state);
	ts_frame_free(&c->set);
	ts_frame_free(&c->xstate);
}
