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
 * Then the model family (lib/net.h): for each cell (rnn, lstm, gru) and L
 * = 1 and 3 layers, NET_TRIALS random models (V 3..8, each H 2..6, T 1..5,
 * B 1..3), every parameter, every layer's h0 and (lstm) c0 from
 * net_backward_ref against the same difference of net_forward_ref (with
 * the floor NET_FLOOR, see there); then the same for the fast net_backward
 * against differences of the fast net_forward (kernels in use: the best
 * this CPU runs); then both at L = 3 with dropout multipliers (p 0.3, on
 * every layer but the middle one), the same masks in every evaluation.
 *
 * Legend: V vocab, H hidden, T steps, B batch. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "rng.h"
#include "net.h"
#include "rnn.h"

enum { TRIALS = 60, NET_TRIALS = 6 };
static const double EPS = 1e-3, TOL = 1e-6, FLOOR = 1e-12;
/* Deep LSTMs have gradients of 1e-8 and less (the first layer's, through
 * three layers of gates), where the differences' rounding, about 1e-16 |L|
 * / EPS = 1e-13, is already 1e-5 of the value: below 1e-6 in |a| + |n| a
 * pair is judged by its absolute error (under 1e-12). */
static const double NET_FLOOR = 1e-6;
/* The fast forward's exp and tanh are polynomials good to a few units in
 * the last place, where libm's are good to half of one: its differences
 * carry a few times the rounding (measured: 1.6e-12 absolute on a
 * gradient of 8e-8 in a 3-layer LSTM), so its floor is NET_FLOOR_FAST. */
static const double NET_FLOOR_FAST = 1e-5;

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

/* A window of the model family: parameters, states and activations. */
struct nwindow {
	struct net P, G;
	int T, B, fast;
	void *fscratch;	/* net_forward's, when fast */
	int32_t *x, *y;
	real *h0[NET_MAX_L], *c0[NET_MAX_L], *dh0[NET_MAX_L], *dc0[NET_MAX_L];
	struct net_acts A;
	real *ps, *loss;
};

static double nloss(struct nwindow *w)
{
	if (w->fast)
		return net_forward(&w->P, w->T, w->B, w->x, w->y, w->h0, w->c0, &w->A, w->ps,
				   w->loss, w->fscratch);
	return net_forward_ref(&w->P, w->T, w->B, w->x, w->y, w->h0, w->c0, &w->A, w->ps,
			       w->loss);
}

static double nnumeric(struct nwindow *w, real *p)
{
	real save = *p;
	double l[4];
	static const double at[4] = { 1, -1, 2, -2 };
	for (int i = 0; i < 4; i++) {
		*p = save + at[i] * EPS;
		l[i] = nloss(w);
	}
	*p = save;
	return (8 * (l[0] - l[1]) - (l[2] - l[3])) / (12 * EPS);
}

/* Check n analytic values g against the derivative at each of p. */
static void ncompare(struct nwindow *w, const char *what, real *p, const real *g, size_t n,
		     int k)
{
	for (size_t i = 0; i < n; i++) {
		double a = g[i], d = nnumeric(w, &p[i]);
		double den = fabs(a) + fabs(d), floor = w->fast ? NET_FLOOR_FAST : NET_FLOOR;
		double rel = fabs(a - d) / (den > floor ? den : floor);
		if (rel > worst)
			worst = rel;
		if (!(rel < TOL)) {
			fprintf(stderr, "gradcheck: %s%s L=%d trial %d (V=%d T=%d B=%d%s): %s[%zu] "
				"is %.15g, finite difference %.15g: relative error %.3g >= %g\n",
				w->fast ? "fast " : "", net_cell_names[w->P.cell], w->P.L, k,
				w->P.V, w->T, w->B, w->A.drop[0] ? ", dropout" : "", what, i, a,
				d, rel, TOL);
			exit(1);
		}
	}
}

static real *rnd(size_t n, double scale)
{
	real *p = emalloc((n ? n : 1) * sizeof(real));
	for (size_t i = 0; i < n; i++)
		p[i] = (real)(scale * rng_normal(&rng));
	return p;
}

/* One random model and window of cell and L layers; the fast passes if
 * fast; dropout multipliers if drop. */
static void net_trial(int cell, int L, int k, int fast, int drop)
{
	struct nwindow w;
	int H[NET_MAX_L];
	memset(&w, 0, sizeof w);
	w.fast = fast;
	const int V = irand(3, 8);
	for (int l = 0; l < L; l++)
		H[l] = irand(2, 6);
	w.T = irand(1, 5);
	w.B = irand(1, 3);
	const size_t np = net_nparams(cell, L, V, H), N = (size_t)w.T * w.B;
	real *pa = rnd(np, 0.6), *ga = emalloc(np * sizeof(real));
	net_bind(&w.P, pa, cell, L, V, H);
	net_bind(&w.G, ga, cell, L, V, H);
	w.x = emalloc(N * sizeof(int32_t));
	w.y = emalloc(N * sizeof(int32_t));
	for (size_t n = 0; n < N; n++)
		w.x[n] = irand(0, V - 1), w.y[n] = irand(0, V - 1);
	for (int l = 0; l < L; l++) {
		size_t s[3], bh = (size_t)w.B * H[l];
		net_acts_sizes(&w.P, l, N, s);
		w.h0[l] = rnd(bh, 0.5), w.c0[l] = rnd(bh, 0.5);
		w.dh0[l] = rnd(bh, 0), w.dc0[l] = rnd(bh, 0);
		w.A.hs[l] = rnd(s[0], 0);
		w.A.cs[l] = s[1] ? rnd(s[1], 0) : NULL;
		w.A.gs[l] = s[2] ? rnd(s[2], 0) : NULL;
		if (drop && l != 1) {
			w.A.drop[l] = rnd(s[0], 0);
			net_dropout_mask(w.A.drop[l], s[0], 0.3, (uint64_t)k, l);
		}
	}
	w.ps = rnd(N * V, 0), w.loss = rnd((size_t)w.B, 0);
	void *scratch = emalloc(net_scratch_bytes(&w.P, w.T, w.B));
	w.fscratch = emalloc(net_fwd_scratch_bytes(&w.P, w.T, w.B));
	nloss(&w);
	(fast ? net_backward : net_backward_ref)(&w.G, w.dh0, w.dc0, &w.P, w.T, w.B, w.x, w.y,
						 w.h0, w.c0, &w.A, w.ps, scratch);
	ncompare(&w, "dparams", pa, ga, np, k);
	for (int l = 0; l < L; l++) {
		size_t bh = (size_t)w.B * H[l];
		ncompare(&w, "dh0", w.h0[l], w.dh0[l], bh, k);
		if (cell == NET_LSTM)
			ncompare(&w, "dc0", w.c0[l], w.dc0[l], bh, k);
	}
	for (int l = 0; l < L; l++) {
		free(w.h0[l]), free(w.c0[l]), free(w.dh0[l]), free(w.dc0[l]);
		free(w.A.hs[l]), free(w.A.cs[l]), free(w.A.gs[l]), free(w.A.drop[l]);
	}
	free(pa), free(ga), free(w.x), free(w.y), free(w.ps), free(w.loss), free(scratch);
	free(w.fscratch);
}

/* The model family: each cell at L = 1 and 3 (j 0 and 1), and at 3 with
 * dropout (j 2); the reference passes, then the fast ones. */
static void net_checks(void)
{
	static const int Ls[3] = { 1, 3, 3 };
	static const char *const kind[2][3] = {
		{ "", "", "dropout " }, { "fast ", "fast ", "fast dropout " }
	};
	for (int fast = 0; fast < 2; fast++)
		for (int cell = 0; cell < NET_NCELLS; cell++)
			for (int j = 0; j < 3; j++) {
				worst = 0;
				for (int k = 0; k < NET_TRIALS; k++) {
					rng_seed(&rng, (uint64_t)(1000 + 100 * cell + 10 * j + k));
					net_trial(cell, Ls[j], k, fast, j == 2);
				}
				printf("gradcheck %s%s L=%d: %d trials, largest relative error %.3g "
				       "(limit %g)\n", kind[fast][j], net_cell_names[cell], Ls[j],
				       NET_TRIALS, worst, TOL);
			}
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
	net_checks();
	return 0;
}
