/* gradcheck.c: the analytic gradients against finite differences.
 *
 *     gradcheck
 *
 * Built in double precision (-DCHARNN_DOUBLE; in float the differences
 * would drown in rounding). For random small models and windows (V 3..12,
 * H 2..10, T 1..8, B 1..4, one seed per trial), every element of dWxh,
 * dWhh, dWhy, dbh, dby and dh0 from rnn_backward and from rnn_backward_ref
 * is compared with the derivative of the window loss (rnn_forward_ref, no
 * clipping) by the five-point central difference
 *     (8 (L(w+e) - L(w-e)) - (L(w+2e) - L(w-2e))) / 12e,
 * whose error is O(e^4) plus rounding of order 1e-16 |L| / e. A pair passes
 * if |a - n| / max(|a| + |n|, 1e-12) < 1e-6 (the floor only matters for
 * gradients that are zero: a character absent from the window). The
 * optimised kernels are checked in each version this CPU runs. Prints the
 * worst pair; exits 1 with a message on the first failure, 2 if built in
 * float.
 *
 * Legend: V vocab, H hidden, T steps, B batch. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "rng.h"
#include "rnn.h"

enum { TRIALS = 60 };
static const double EPS = 1e-3, TOL = 1e-6, FLOOR = 1e-12;

static struct rng rng;
static double worst;

struct window {
	int V, H, T, B;
	struct rnn_params P;
	int32_t *x, *y;
	real *h0, *hs, *ps, *loss;
};

static int irand(int lo, int hi)
{
	return lo + (int)(rng_uniform(&rng) * (hi - lo + 1));
}

static double loss(struct window *w)
{
	return rnn_forward_ref(&w->P, w->T, w->B, w->x, w->y, w->h0, w->hs, w->ps, w->loss);
}

/* The five-point derivative of the loss with respect to *p. */
static double numeric(struct window *w, real *p)
{
	real save = *p;
	double l[4];
	static const double at[4] = { 1, -1, 2, -2 };
	for (int i = 0; i < 4; i++) {
		*p = save + at[i] * EPS;
		l[i] = loss(w);
	}
	*p = save;
	return (8 * (l[0] - l[1]) - (l[2] - l[3])) / (12 * EPS);
}

static void compare(const char *what, const char *name, size_t i, double a, double n,
		    int trial, const struct window *w)
{
	double den = fabs(a) + fabs(n);
	double rel = fabs(a - n) / (den > FLOOR ? den : FLOOR);
	if (rel > worst)
		worst = rel;
	if (!(rel < TOL)) {
		fprintf(stderr, "gradcheck: trial %d (V=%d H=%d T=%d B=%d): %s %s[%zu] is "
			"%.15g, finite difference %.15g: relative error %.3g >= %g (kernels %s)\n",
			trial, w->V, w->H, w->T, w->B, what, name, i, a, n, rel, TOL, rnn_isa());
		exit(1);
	}
}

static void trial(int k)
{
	struct window w;
	w.V = irand(3, 12);
	w.H = irand(2, 10);
	w.T = irand(1, 8);
	w.B = irand(1, 4);
	const int V = w.V, H = w.H, T = w.T, B = w.B;
	const size_t N = (size_t)T * B, np = rnn_nparams(V, H);
	real *pa = emalloc(np * sizeof(real));
	real *ga = emalloc(np * sizeof(real)), *gra = emalloc(np * sizeof(real));
	struct rnn_params G, Gr;
	rnn_params_bind(&w.P, pa, V, H);
	rnn_params_bind(&G, ga, V, H);
	rnn_params_bind(&Gr, gra, V, H);
	for (size_t i = 0; i < np; i++)
		pa[i] = (real)(0.6 * rng_normal(&rng));
	w.x = emalloc(N * sizeof(int32_t));
	w.y = emalloc(N * sizeof(int32_t));
	for (size_t n = 0; n < N; n++) {
		w.x[n] = irand(0, V - 1);
		w.y[n] = irand(0, V - 1);
	}
	w.h0 = emalloc((size_t)B * H * sizeof(real));
	for (size_t i = 0; i < (size_t)B * H; i++)
		w.h0[i] = (real)(1.6 * rng_uniform(&rng) - 0.8);
	w.hs = emalloc(N * H * sizeof(real));
	w.ps = emalloc(N * V * sizeof(real));
	w.loss = emalloc((size_t)B * sizeof(real));
	real *dh0 = emalloc((size_t)B * H * sizeof(real)), *dh0r = emalloc((size_t)B * H * sizeof(real));
	void *scratch = emalloc(rnn_scratch_bytes(V, H, T, B));

	/* Each backward on its own forward's outputs. */
	rnn_forward(&w.P, T, B, w.x, w.y, w.h0, w.hs, w.ps, w.loss);
	rnn_backward(&G, dh0, &w.P, T, B, w.x, w.y, w.h0, w.hs, w.ps, scratch);
	loss(&w);
	rnn_backward_ref(&Gr, dh0r, &w.P, T, B, w.x, w.y, w.h0, w.hs, w.ps, scratch);

	static const char *const names[5] = { "dWxh", "dWhh", "dWhy", "dbh", "dby" };
	real *const ps[5] = { w.P.Wxh, w.P.Whh, w.P.Why, w.P.bh, w.P.by };
	real *const gs[5] = { G.Wxh, G.Whh, G.Why, G.bh, G.by };
	real *const grs[5] = { Gr.Wxh, Gr.Whh, Gr.Why, Gr.bh, Gr.by };
	const size_t sizes[5] = { (size_t)H * V, (size_t)H * H, (size_t)V * H, (size_t)H, (size_t)V };
	for (int t = 0; t < 5; t++)
		for (size_t i = 0; i < sizes[t]; i++) {
			double n = numeric(&w, &ps[t][i]);
			compare("rnn_backward", names[t], i, gs[t][i], n, k, &w);
			compare("rnn_backward_ref", names[t], i, grs[t][i], n, k, &w);
		}
	for (size_t i = 0; i < (size_t)B * H; i++) {
		double n = numeric(&w, &w.h0[i]);
		compare("rnn_backward", "dh0", i, dh0[i], n, k, &w);
		compare("rnn_backward_ref", "dh0", i, dh0r[i], n, k, &w);
	}

	free(pa), free(ga), free(gra), free(w.x), free(w.y), free(w.h0), free(w.hs);
	free(w.ps), free(w.loss), free(dh0), free(dh0r), free(scratch);
}

int main(int argc, char *argv[])
{
	(void)argc;
	setprog(argv[0]);
	if (sizeof(real) != sizeof(double)) {
		fprintf(stderr, "gradcheck: built in float; run the double build's\n");
		return 2;
	}
	const char *isa;
	for (int i = 0; (isa = rnn_isa_name(i)); i++) {
		if (!rnn_set_isa(isa))
			continue;
		worst = 0;
		for (int k = 0; k < TRIALS; k++) {
			rng_seed(&rng, (uint64_t)k + 1);
			trial(k);
		}
		printf("gradcheck %s: %d trials, largest relative error %.3g (limit %g)\n",
		       isa, TRIALS, worst, TOL);
	}
	return 0;
}
