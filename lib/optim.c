/* optim.c: the update rules; see optim.h and formats/model.md (THE
 * OPTIMISERS).
 *
 * Legend: n reals of one tensor, flattened. */
#include "optim.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "tsframe.h"

#ifdef CHARNN_DOUBLE
#define sqrt_r sqrt
#else
#define sqrt_r sqrtf
#endif

const struct optim optim_table[] = {
	{ "adagrad", OPTIM_ADAGRAD, 0.1, 1, { "m" } },
	{ "rmsprop", OPTIM_RMSPROP, 2e-3, 1, { "m" } },
	{ "adam", OPTIM_ADAM, 2e-3, 2, { "m", "v" } },
	{ NULL, 0, 0, 0, { NULL } },
};

const struct optim *optim_find(const char *name)
{
	for (const struct optim *o = optim_table; o->name; o++)
		if (!strcmp(o->name, name))
			return o;
	return NULL;
}

void optim_defaults(const struct optim *o, struct optim_hyper *h)
{
	h->lr = o->lr;
	h->decay = 0.95;
	h->beta1 = 0.9;
	h->beta2 = 0.999;
	h->eps = 1e-8;
	h->gnorm = 0;
}

/* (n): the definition, one element at a time. */
void rmsprop_update_ref(real *p, real *ms, const real *g, size_t n, real lr, real decay,
			real eps)
{
	for (size_t i = 0; i < n; i++) {
		ms[i] = decay * ms[i] + (1 - decay) * g[i] * g[i];
		p[i] -= lr * g[i] / (sqrt_r(ms[i]) + eps);
	}
}

/* (n): the same, its constants hoisted and its pointers unaliased, so the
 * compiler vectorises it. */
void rmsprop_update(real *restrict p, real *restrict ms, const real *restrict g, size_t n,
		    real lr, real decay, real eps)
{
	const real keep = decay, add = 1 - decay;
	for (size_t i = 0; i < n; i++) {
		real m = keep * ms[i] + add * g[i] * g[i];
		ms[i] = m;
		p[i] -= lr * g[i] / (sqrt_r(m) + eps);
	}
}

/* Adam's step size at update t: lr * sqrt(1 - b2^t) / (1 - b1^t), in double. */
static real adam_rate(real lr, real b1, real b2, int64_t t)
{
	double c1 = 1 - pow(b1, (double)t), c2 = 1 - pow(b2, (double)t);
	return (real)((double)lr * sqrt(c2) / c1);
}

/* (n): the definition, one element at a time. */
void adam_update_ref(real *p, real *m, real *v, const real *g, size_t n, real lr, real b1,
		     real b2, real eps, int64_t t)
{
	for (size_t i = 0; i < n; i++) {
		m[i] = b1 * m[i] + (1 - b1) * g[i];
		v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
		p[i] -= adam_rate(lr, b1, b2, t) * m[i] / (sqrt_r(v[i]) + eps);
	}
}

/* (n): the same, the step size computed once; blocks of ADAM_BLOCK
 * elements, each a loop of known length that GCC turns into vector
 * instructions (sqrtps, divps: rounded as the scalar ones, the same
 * bytes) when sqrt need not set errno (the Makefile builds this file with
 * -fno-math-errno; v is never negative). */
/* One element of adam_update: the order of operations of adam_update_ref. */
static inline void adam_one(real *p, real *m, real *v, real g, real a, real b1, real b2,
			    real c1, real c2, real eps)
{
	real mi = b1 * *m + c1 * g, vi = b2 * *v + c2 * g * g;
	*m = mi;
	*v = vi;
	*p -= a * mi / (sqrt_r(vi) + eps);
}

void adam_update(real *restrict p, real *restrict m, real *restrict v,
		 const real *restrict g, size_t n, real lr, real b1, real b2, real eps,
		 int64_t t)
{
	enum { ADAM_BLOCK = 16 };
	const real a = adam_rate(lr, b1, b2, t), c1 = 1 - b1, c2 = 1 - b2;
	size_t i = 0;
	for (; i + ADAM_BLOCK <= n; i += ADAM_BLOCK)
		for (size_t k = i; k < i + ADAM_BLOCK; k++)
			adam_one(p + k, m + k, v + k, g[k], a, b1, b2, c1, c2, eps);
	for (; i < n; i++)
		adam_one(p + i, m + i, v + i, g[i], a, b1, b2, c1, c2, eps);
}

double optim_grad_norm(const struct optim_slot *s, int ns)
{
	double sum = 0;
	for (int k = 0; k < ns; k++)
		for (size_t i = 0; i < s[k].n; i++)
			sum += (double)s[k].g[i] * s[k].g[i];
	return sqrt(sum);
}

void optim_clip_norm(struct optim_slot *s, int ns, double max)
{
	if (!(max > 0))
		return;	/* not even the norm: a pass over every gradient */
	double norm = optim_grad_norm(s, ns);
	if (!(norm > max))
		return;
	real f = (real)(max / norm);
	for (int k = 0; k < ns; k++)
		for (size_t i = 0; i < s[k].n; i++)
			s[k].g[i] *= f;
}

void optim_step(const struct optim *o, const struct optim_hyper *h, struct optim_slot *s,
		int ns, int64_t t)
{
	optim_clip_norm(s, ns, h->gnorm);
	real lr = (real)optim_sched_rate(&h->sched, h->lr, t), eps = (real)h->eps;
	for (int k = 0; k < ns; k++) {
		struct optim_slot *x = &s[k];
		if (o->kind == OPTIM_ADAGRAD)
			adagrad_update(x->p, x->s[0], x->g, x->n, lr);
		else if (o->kind == OPTIM_RMSPROP)
			rmsprop_update(x->p, x->s[0], x->g, x->n, lr, (real)h->decay, eps);
		else
			adam_update(x->p, x->s[0], x->s[1], x->g, x->n, lr, (real)h->beta1,
				    (real)h->beta2, eps, t);
	}
}

void optim_zero_state(const struct optim *o, const struct ts_frame *params,
		      struct ts_frame *out)
{
	memset(out, 0, sizeof *out);
	snprintf(out->name, sizeof out->name, "%s", OPTIM_FRAME);
	if (o->nstate < 2)
		return;
	out->t = ecalloc(params->n * (size_t)(o->nstate - 1), sizeof *out->t);
	for (int j = 1; j < o->nstate; j++)
		for (uint32_t i = 0; i < params->n; i++) {
			const struct ts_tensor *p = &params->t[i];
			if (p->dtype != TS_REAL)
				continue;
			struct ts_tensor *t = &out->t[out->n++];
			*t = *p;
			snprintf(t->name, sizeof t->name, "%s%.*s", o->prefix[j],
				 (int)(TS_MAX_NAME - strlen(o->prefix[j])), p->name);
			t->flags = 0;
			t->pad = 0;
			t->data = ecalloc(p->count, sizeof(real));
		}
}

void optim_check_state(const struct optim *o, const struct ts_frame *params,
		       const struct ts_frame *x, const char *path)
{
	if (o->nstate < 2)
		return;
	if (!x->t)
		eprintf("%s: no \"%s\" frame: not a checkpoint of %s", path, OPTIM_FRAME, o->name);
	for (int j = 1; j < o->nstate; j++)
		for (uint32_t i = 0; i < params->n; i++) {
			const struct ts_tensor *p = &params->t[i];
			char n[TS_MAX_NAME + 1];
			if (p->dtype != TS_REAL)
				continue;
			snprintf(n, sizeof n, "%s%.*s", o->prefix[j],
				 (int)(TS_MAX_NAME - strlen(o->prefix[j])), p->name);
			tsf_need_shaped(x, n, TS_REAL, p->rank, p->dims, path);
		}
}

/* A count: an integer in [0, 2^53]. */
static int is_count(double v)
{
	return v >= 0 && v <= 9007199254740992.0 && v == floor(v);
}

int optim_sched_parse(const char *s, struct optim_sched *sc)
{
	char kind[16], end;
	memset(sc, 0, sizeof *sc);
	int n = sscanf(s, "%15[a-z]:%lf:%lf%c", kind, &sc->a, &sc->b, &end);
	if (!strcmp(kind, "step") && n == 4 && end == ':') {
		if (sscanf(s, "step:%lf:%lf:%lf%c", &sc->a, &sc->b, &sc->c, &end) != 3)
			return 0;
		sc->kind = SCHED_STEP;
		return is_count(sc->a) && is_count(sc->b) && sc->b >= 1 && sc->c > 0 &&
		       sc->c <= 1e6;
	}
	if (n != 3 || (strcmp(kind, "cosine") && strcmp(kind, "linear")))
		return 0;
	sc->kind = kind[0] == 'c' ? SCHED_COSINE : SCHED_LINEAR;
	return is_count(sc->a) && is_count(sc->b) && sc->b > sc->a;
}

double optim_sched_rate(const struct optim_sched *sc, double lr, int64_t t)
{
	double i = (double)(t > 0 ? t - 1 : 0);
	if (sc->kind == SCHED_NONE)
		return lr;
	if (sc->kind == SCHED_STEP)
		return i < sc->a ? lr : lr * pow(sc->c, 1 + floor((i - sc->a) / sc->b));
	if (i < sc->a)
		return lr * (i + 1) / sc->a;
	double f = (i - sc->a) / (sc->b - sc->a);
	if (f >= 1)
		return 0;	/* exactly, not cos's rounding of pi */
	return sc->kind == SCHED_COSINE ? lr * (1 + cos(3.14159265358979323846 * f)) / 2 : lr * (1 - f);
}
