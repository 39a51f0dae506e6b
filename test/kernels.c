/* kernels.c: the optimised RNN kernels against the reference ones.
 *
 *     kernels
 *
 * For many sizes, odd ones included (1, below one vector, one vector and a
 * bit, the bench sizes), random models and windows: rnn_forward against
 * rnn_forward_ref, rnn_backward against rnn_backward_ref (both on the
 * reference forward's outputs), adagrad_update against adagrad_update_ref,
 * rnn_step, rnn_out_logits and rnn_softmax against the reference forward
 * for one step, and rnn_clip; rnn_out_logits at more sizes against sums in
 * double, and on 1, 2 and 16 threads (the same bytes); then the polynomial
 * tanh and exp against libm over their whole
 * range, and tanh, softmax and clip on inputs across the whole range of
 * real (every binary exponent, denormals, zeros, values near the clamps,
 * huge and infinite values), where each result must be finite and within
 * tolerance. Then the model family (lib/net.h): net_forward against
 * net_forward_ref (every layer's hs, cs, gs, then ps, loss) and
 * net_backward against net_backward_ref on the reference forward's outputs
 * (every gradient, dh0, dc0), for each cell at L 1, 2 and 3, mixed sizes
 * (5,7,3 and more), B 1 and more, V below and above T*B (the two ways of
 * reading the one-hot input), without dropout, with it on every layer and
 * on every other one; net_step against net_step_ref after one step and
 * after a window's, for sequence 0 of each of those; and, at sizes where
 * the products split, both fast passes and net_step at 1, 2 and 16
 * threads must give the same bytes. All of it for
 * each version of the kernels (instruction set) this CPU runs; then
 * net_dropout_mask once (see test_dropout_mask). Prints the largest
 * differences seen; exits 1 with a message on the first one beyond the
 * tolerance of this precision.
 *
 * Legend: V vocab, H hidden, T steps, B batch. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "net.h"
#include "rng.h"
#include "rnn.h"

/* Differences are measured relative to the size of the reference tensor
 * (its largest magnitude, at least 1e-3), since sums of many terms in a
 * different order differ by rounding relative to that scale, not to each
 * element. Float: ~2^-23 times a few hundred terms; double: 2^-52 times. */
#ifdef CHARNN_DOUBLE
static const double TOL = 1e-12, TOL_FN = 1e-14;
#else
static const double TOL = 5e-5, TOL_FN = 1e-6;
#endif

static struct rng rng;
static double worst;	/* largest relative difference seen */
static char worst_what[64];	/* and of what */
static char context[160];	/* what is being checked, for messages */

/* A uniform integer in [lo, hi]. */
static int irand(int lo, int hi)
{
	return lo + (int)(rng_uniform(&rng) * (hi - lo + 1));
}

static void fill(real *a, size_t n, double scale)
{
	for (size_t i = 0; i < n; i++)
		a[i] = (real)(scale * rng_normal(&rng));
}

/* Compare got against want (n) normwise, relative to the largest |want| but
 * at least floor; die naming what on failure. */
static void check_floor(const char *what, const real *got, const real *want, size_t n,
			double floor, int V, int H, int T, int B)
{
	double scale = floor, diff = 0;
	size_t at = 0;
	for (size_t i = 0; i < n; i++)
		if (fabs((double)want[i]) > scale)
			scale = fabs((double)want[i]);
	for (size_t i = 0; i < n; i++) {
		double d = fabs((double)got[i] - (double)want[i]);
		if (!(d <= diff)) {
			diff = d;
			at = i;
		}
	}
	double rel = diff / scale;
	if (rel > worst) {
		worst = rel;
		snprintf(worst_what, sizeof worst_what, "%s", what);
	}
	if (!(rel <= TOL)) {
		fprintf(stderr, "kernels: %s: %s differs at V=%d H=%d T=%d B=%d%s: element %zu "
			"is %.17g, reference %.17g (relative to scale %g: %g > %g)\n",
			rnn_isa(), what, V, H, T, B, context, at, (double)got[at],
			(double)want[at], scale, rel, TOL);
		exit(1);
	}
}

static void check(const char *what, const real *got, const real *want, size_t n,
		  int V, int H, int T, int B)
{
	check_floor(what, got, want, n, 1e-3, V, H, T, B);
}

/* Model with its five arrays in one allocation. */
static real *alloc_params(struct rnn_params *P, int V, int H)
{
	real *a = emalloc(rnn_nparams(V, H) * sizeof(real));
	rnn_params_bind(P, a, V, H);
	return a;
}

static void test_window(int V, int H, int T, int B)
{
	const size_t N = (size_t)T * B, np = rnn_nparams(V, H);
	struct rnn_params P, G, Gr;
	real *pa = alloc_params(&P, V, H), *ga = alloc_params(&G, V, H);
	real *gra = alloc_params(&Gr, V, H);
	/* Weights large enough that tanh saturates in places and the
	 * softmax is far from uniform. */
	fill(pa, np, 1 / sqrt((double)H));
	int32_t *x = emalloc(N * sizeof *x), *y = emalloc(N * sizeof *y);
	for (size_t n = 0; n < N; n++) {
		x[n] = irand(0, V - 1);
		y[n] = irand(0, V - 1);
	}
	real *h0 = emalloc((size_t)B * H * sizeof(real));
	fill(h0, (size_t)B * H, 0.5);
	real *hs = emalloc(N * H * sizeof(real)), *hsr = emalloc(N * H * sizeof(real));
	real *ps = emalloc(N * V * sizeof(real)), *psr = emalloc(N * V * sizeof(real));
	real *loss = emalloc((size_t)B * sizeof(real)), *lossr = emalloc((size_t)B * sizeof(real));
	real *dh0 = emalloc((size_t)B * H * sizeof(real)), *dh0r = emalloc((size_t)B * H * sizeof(real));
	void *scratch = emalloc(rnn_scratch_bytes(V, H, T, B));

	double l = rnn_forward(&P, T, B, x, y, h0, hs, ps, loss);
	double lr = rnn_forward_ref(&P, T, B, x, y, h0, hsr, psr, lossr);
	check("hs", hs, hsr, N * H, V, H, T, B);
	check("ps", ps, psr, N * V, V, H, T, B);
	check("loss", loss, lossr, (size_t)B, V, H, T, B);
	real lt = (real)l, ltr = (real)lr;
	check("window loss", &lt, &ltr, 1, V, H, T, B);

	/* Gradient arrays start as garbage: both must overwrite them. */
	fill(ga, np, 100);
	fill(gra, np, 100);
	rnn_backward(&G, dh0, &P, T, B, x, y, h0, hsr, psr, scratch);
	rnn_backward_ref(&Gr, dh0r, &P, T, B, x, y, h0, hsr, psr, scratch);
	check("dWxh", G.Wxh, Gr.Wxh, (size_t)H * V, V, H, T, B);
	check("dWhh", G.Whh, Gr.Whh, (size_t)H * H, V, H, T, B);
	check("dWhy", G.Why, Gr.Why, (size_t)V * H, V, H, T, B);
	check("dbh", G.bh, Gr.bh, (size_t)H, V, H, T, B);
	check("dby", G.by, Gr.by, (size_t)V, V, H, T, B);
	check("dh0", dh0, dh0r, (size_t)B * H, V, H, T, B);

	/* Clipping, then Adagrad from a common state. */
	real c = (real)0.05;
	memcpy(ga, gra, np * sizeof(real));
	rnn_clip(&G, c);
	for (size_t i = 0; i < np; i++) {
		real want = gra[i] > c ? c : gra[i] < -c ? -c : gra[i];
		if (ga[i] != want) {
			fprintf(stderr, "kernels: %s: rnn_clip: element %zu is %g, expected %g\n",
				rnn_isa(), i, (double)ga[i], (double)want);
			exit(1);
		}
	}
	real *mem = emalloc(np * sizeof(real)), *memr = emalloc(np * sizeof(real));
	real *pr = emalloc(np * sizeof(real));
	for (size_t i = 0; i < np; i++)
		mem[i] = memr[i] = (real)(i % 3 ? rng_uniform(&rng) : 0);
	memcpy(pr, pa, np * sizeof(real));
	adagrad_update(pa, mem, ga, np, (real)0.1);
	adagrad_update_ref(pr, memr, ga, np, (real)0.1);
	check("adagrad mem", mem, memr, np, V, H, T, B);
	check("adagrad params", pa, pr, np, V, H, T, B);

	/* One step of sequence 0 against the reference forward with T = B = 1. */
	real *h = emalloc((size_t)H * sizeof(real)), *logits = emalloc((size_t)V * sizeof(real));
	real *p = emalloc((size_t)V * sizeof(real));
	memcpy(h, h0, (size_t)H * sizeof(real));
	rnn_forward_ref(&P, 1, 1, x, y, h0, hsr, psr, lossr);
	rnn_step(&P, h, x[0]);
	struct rnn_out o;
	rnn_out_init(&o, P.Why, P.by, V, H);
	rnn_out_logits(&o, h, logits);
	rnn_out_free(&o);
	double lnz = rnn_softmax(p, logits, V, 1);
	check("rnn_step h", h, hsr, (size_t)H, V, H, 1, 1);
	check("rnn_out softmax", p, psr, (size_t)V, V, H, 1, 1);
	real lp = (real)(logits[y[0]] - lnz), lpr = -lossr[0];
	/* A difference of logits and ln Z, each of order 1: rounding is
	 * relative to them. */
	check_floor("rnn_softmax ln p", &lp, &lpr, 1, 1, V, H, 1, 1);

	free(pa), free(ga), free(gra), free(x), free(y), free(h0), free(hs), free(hsr);
	free(ps), free(psr), free(loss), free(lossr), free(dh0), free(dh0r), free(scratch);
	free(mem), free(memr), free(pr), free(h), free(logits), free(p);
}

/* rnn_forward's and rnn_backward's outputs, for comparing thread counts. */
struct rout {
	real *hs, *ps, *loss, *ga, *dh0;
};

/* One window of the vanilla RNN at V, H, T, B on 1, 2 and 16 threads: the
 * same bytes. B of 16 or more splits the recurrence by sequences (the
 * chain), B = 8k+1 ends a part on the batch's one-row tile, V above or
 * below T*B reads the inputs in place or transposed, and the window's
 * products split by rows or by columns. */
static void test_rnn_threads(int V, int H, int T, int B)
{
	static const int nt[3] = { 1, 2, 16 };
	const size_t N = (size_t)T * B, np = rnn_nparams(V, H), BH = (size_t)B * H;
	struct rnn_params P, G;
	real *pa = alloc_params(&P, V, H);
	fill(pa, np, 1 / sqrt((double)H));
	int32_t *x = emalloc(N * sizeof *x), *y = emalloc(N * sizeof *y);
	for (size_t n = 0; n < N; n++)
		x[n] = irand(0, V - 1), y[n] = irand(0, V - 1);
	real *h0 = emalloc(BH * sizeof(real));
	fill(h0, BH, 0.5);
	void *scratch = emalloc(rnn_scratch_bytes(V, H, T, B));
	struct rout o[3];
	for (int k = 0; k < 3; k++) {
		o[k] = (struct rout){ emalloc(N * H * sizeof(real)), emalloc(N * V * sizeof(real)),
				      emalloc((size_t)B * sizeof(real)), alloc_params(&G, V, H),
				      emalloc(BH * sizeof(real)) };
		rnn_set_threads(nt[k]);
		rnn_forward(&P, T, B, x, y, h0, o[k].hs, o[k].ps, o[k].loss);
		rnn_backward(&G, o[k].dh0, &P, T, B, x, y, h0, o[k].hs, o[k].ps, scratch);
	}
	rnn_set_threads(0);
	for (int k = 1; k < 3; k++)
		if (memcmp(o[k].hs, o[0].hs, N * H * sizeof(real)) ||
		    memcmp(o[k].ps, o[0].ps, N * V * sizeof(real)) ||
		    memcmp(o[k].loss, o[0].loss, (size_t)B * sizeof(real)) ||
		    memcmp(o[k].ga, o[0].ga, np * sizeof(real)) ||
		    memcmp(o[k].dh0, o[0].dh0, BH * sizeof(real))) {
			fprintf(stderr, "kernels: %s: rnn at V=%d H=%d T=%d B=%d: not the same "
				"bytes for 1 and %d threads\n", rnn_isa(), V, H, T, B, nt[k]);
			exit(1);
		}
	for (int k = 0; k < 3; k++)
		free(o[k].hs), free(o[k].ps), free(o[k].loss), free(o[k].ga), free(o[k].dh0);
	free(pa), free(x), free(y), free(h0), free(scratch);
}

/* Temperature: softmax(l/t) against libm, and the returned ln normaliser. */
static void test_softmax(int V, double temp)
{
	real *l = emalloc((size_t)V * sizeof(real)), *p = emalloc((size_t)V * sizeof(real));
	real *want = emalloc((size_t)V * sizeof(real));
	fill(l, (size_t)V, 5);
	double max = -INFINITY, sum = 0;
	for (int v = 0; v < V; v++)
		max = fmax(max, l[v] / temp);
	for (int v = 0; v < V; v++)
		sum += exp(l[v] / temp - max);
	for (int v = 0; v < V; v++)
		want[v] = (real)(exp(l[v] / temp - max) / sum);
	double lnz = rnn_softmax(p, l, V, (real)temp);
	check("rnn_softmax", p, want, (size_t)V, V, 0, 0, 0);
	real got = (real)lnz, w = (real)(max + log(sum));
	check("rnn_softmax ln normaliser", &got, &w, 1, V, 0, 0, 0);
	free(l), free(p), free(want);
}

/* rnn_out_logits on a random W (V,H), b and h against the sums in double
 * (tolerance), and with 1, 2 and 16 threads: the same bytes. */
static void test_out(int V, int H)
{
	static const int nt[3] = { 1, 2, 16 };
	real *W = emalloc((size_t)V * H * sizeof(real)), *b = emalloc((size_t)V * sizeof(real));
	real *h = emalloc((size_t)H * sizeof(real)), *want = emalloc((size_t)V * sizeof(real)), *got[3];
	fill(W, (size_t)V * H, 1 / sqrt((double)H));
	fill(b, (size_t)V, 1);
	fill(h, (size_t)H, 1);
	for (int v = 0; v < V; v++) {
		double sum = b[v];
		for (int k = 0; k < H; k++)
			sum += (double)W[(size_t)v * H + k] * h[k];
		want[v] = (real)sum;
	}
	struct rnn_out o;
	rnn_out_init(&o, W, b, V, H);
	for (int k = 0; k < 3; k++) {
		got[k] = emalloc((size_t)V * sizeof(real));
		rnn_set_threads(nt[k]);
		rnn_out_logits(&o, h, got[k]);
	}
	rnn_set_threads(0);
	check_floor("rnn_out logits", got[0], want, (size_t)V, 1, V, H, 1, 1);
	for (int k = 1; k < 3; k++)
		if (memcmp(got[k], got[0], (size_t)V * sizeof(real)) != 0) {
			fprintf(stderr, "kernels: %s: rnn_out logits at V=%d H=%d: not the same bytes "
				"for 1, 2 and 16 threads\n", rnn_isa(), V, H);
			exit(1);
		}
	rnn_out_free(&o);
	free(W), free(b), free(h), free(want);
	for (int k = 0; k < 3; k++)
		free(got[k]);
}

/* The polynomial tanh (through rnn_step on a model whose hidden layer is
 * h = tanh(Wxh[:,0])) and exp (through rnn_softmax of [0, -d]) against libm
 * in double, relative to the true value; returns nothing, dies on a miss. */
static void test_functions(void)
{
	enum { H = 4001 };
	struct rnn_params P;
	real *pa = alloc_params(&P, 1, H);
	memset(pa, 0, rnn_nparams(1, H) * sizeof(real));
	real *h = ecalloc(H, sizeof(real));
	double maxrel = 0, at = 0;
	for (int pass = 0; pass < 3; pass++) {
		for (int i = 0; i < H; i++) {
			double u = (double)i / (H - 1) * 2 - 1;
			/* Wide, then near zero, then where it rounds to 1. */
			double v = pass == 0 ? 12 * u : pass == 1 ? 1e-3 * u : 8 + 12 * fabs(u);
			P.Wxh[i] = (real)v;
		}
		memset(h, 0, H * sizeof(real));
		rnn_step(&P, h, 0);
		for (int i = 0; i < H; i++) {
			double want = tanh((double)P.Wxh[i]);
			double rel = want == 0 ? fabs((double)h[i]) : fabs((double)h[i] - want) / fabs(want);
			if (!(rel <= maxrel)) {
				maxrel = rel;
				at = P.Wxh[i];
			}
		}
	}
	printf("tanh %s: largest relative error %.3g (at x = %.9g)\n", rnn_isa(), maxrel, at);
	if (!(maxrel <= TOL_FN)) {
		fprintf(stderr, "kernels: %s: tanh(%.17g): relative error %g > %g\n", rnn_isa(),
			at, maxrel, TOL_FN);
		exit(1);
	}
	maxrel = 0;
	for (int i = 0; i <= 10000; i++) {
		double d = 80.0 * i / 10000;
		real l[2] = { 0, (real)-d }, p[2];
		rnn_softmax(p, l, 2, 1);
		double e = exp(-(double)(real)d);
		double want = e / (1 + e);
		double rel = fabs((double)p[1] - want) / want;
		if (!(rel <= maxrel)) {
			maxrel = rel;
			at = -d;
		}
	}
	printf("exp %s: largest relative error %.3g (at x = %.9g)\n", rnn_isa(), maxrel, at);
	if (!(maxrel <= TOL_FN)) {
		fprintf(stderr, "kernels: %s: exp(%.17g): relative error %g > %g\n", rnn_isa(),
			at, maxrel, TOL_FN);
		exit(1);
	}
	free(pa);
	free(h);
}

/* Largest finite real, smallest denormal, and the |x| beyond which the
 * kernels take tanh as 1 (TANH_MAX of rnn_simd.h, near which a clamp bites). */
#ifdef CHARNN_DOUBLE
static const double REAL_MAX = DBL_MAX, REAL_TRUE_MIN = 4.9406564584124654e-324;
static const double TANH_CLAMP = 19.1;
enum { MIN_EXP2 = -1074, MAX_EXP2 = 1023 };
#else
static const double REAL_MAX = FLT_MAX, REAL_TRUE_MIN = 1.40129846e-45;
static const double TANH_CLAMP = 9.0;
enum { MIN_EXP2 = -149, MAX_EXP2 = 127 };
#endif

/* Into v (room for n), values of both signs across the whole range of real:
 * 1, 1.5 and 1.9 times every power of two, zeros, denormals, values near
 * the tanh clamp and near -44 (where exp(-2x) of float overflows), huge and
 * infinite ones. Returns how many. */
static int extreme_values(real *v, int n)
{
	static const double special[] = {
		0, 1e-40, 1e-300, 1e-30, 0.5, 1, 8.99, 9, 9.01, 19.09, 19.1, 19.2, 43.9,
		44, 44.5, 48.4, 88, 89, 700, 710, 1e4, 1e30, 1e300
	};
	int k = 0;
	for (int e = MIN_EXP2; e <= MAX_EXP2 && k + 6 <= n; e++)
		for (int m = 0; m < 3; m++) {
			double x = ldexp(m == 0 ? 1 : m == 1 ? 1.5 : 1.9, e);
			v[k++] = (real)x;
			v[k++] = (real)-x;
		}
	double more[] = { REAL_MAX, REAL_TRUE_MIN, INFINITY,
			  nextafter(TANH_CLAMP, 0), nextafter(TANH_CLAMP, 100) };
	for (size_t i = 0; i < sizeof special / sizeof special[0] && k + 2 <= n; i++) {
		v[k++] = (real)special[i];
		v[k++] = (real)-special[i];
	}
	for (size_t i = 0; i < sizeof more / sizeof more[0] && k + 2 <= n; i++) {
		v[k++] = (real)more[i];
		v[k++] = (real)-more[i];
	}
	return k;
}

/* got against want, one number: dies naming what unless got is finite and
 * within TOL_FN of want relative to |want| (or absolutely, if want is 0). */
static void check_value(const char *what, double x, double got, double want)
{
	double err = fabs(got - want) / (want == 0 ? 1 : fabs(want));
	if (!isfinite(got) || !(err <= TOL_FN)) {
		fprintf(stderr, "kernels: %s: %s(%.9g) is %.17g, expected %.17g\n",
			rnn_isa(), what, x, got, want);
		exit(1);
	}
}

/* tanh of values v (n) against libm, through the three ways a hidden layer
 * is made: rnn_step (one row), rnn_forward with B 2 (the batched product),
 * rnn_forward_ref. The model has V 2, H n, Wxh's two columns v and -v,
 * every other weight 0, so the pre-activations are exactly the values. */
static void tanh_values(const real *v, int n)
{
	const int H = n;
	struct rnn_params P;
	real *pa = alloc_params(&P, 2, H);
	memset(pa, 0, rnn_nparams(2, H) * sizeof(real));
	for (int i = 0; i < H; i++) {
		P.Wxh[(size_t)i * 2] = v[i];
		P.Wxh[(size_t)i * 2 + 1] = -v[i];
	}
	const int32_t x[2] = { 0, 1 }, y[2] = { 0, 0 };
	real *h0 = ecalloc(2 * (size_t)H, sizeof(real)), *hs = emalloc(2 * (size_t)H * sizeof(real));
	real *h = ecalloc((size_t)H, sizeof(real)), ps[4], loss[2];
	rnn_step(&P, h, 0);
	for (int i = 0; i < H; i++)
		check_value("tanh, rnn_step", v[i], h[i], tanh((double)v[i]));
	for (int ref = 0; ref < 2; ref++) {
		(ref ? rnn_forward_ref : rnn_forward)(&P, 1, 2, x, y, h0, hs, ps, loss);
		for (int b = 0; b < 2; b++)
			for (int i = 0; i < H; i++) {
				double xi = b ? -(double)v[i] : v[i];
				check_value(ref ? "tanh, rnn_forward_ref" : "tanh, rnn_forward B=2",
					    xi, hs[(size_t)b * H + i], tanh(xi));
			}
	}
	free(pa), free(h0), free(hs), free(h);
}

/* tanh_values on every value of extreme_values, in models of H up to 300. */
static void test_tanh_range(void)
{
	enum { CAP = 6 * (MAX_EXP2 - MIN_EXP2 + 1) + 64, CHUNK = 300 };
	real *vals = emalloc(CAP * sizeof(real));
	const int n = extreme_values(vals, CAP);
	for (int i = 0; i < n; i += CHUNK)
		tanh_values(vals + i, n - i < CHUNK ? n - i : CHUNK);
	printf("tanh %s: %d values across the range, finite and within %g\n", rnn_isa(), n, TOL_FN);
	free(vals);
}

/* rnn_softmax of logits l (n) at temperature temp against libm in double:
 * every p finite and in [0, 1], normwise within TOL, and ln Z within TOL
 * relative to its size (at least 1). */
static void softmax_values(const real *l, int n, double temp)
{
	real *p = emalloc((size_t)n * sizeof(real)), *want = emalloc((size_t)n * sizeof(real));
	double max = -INFINITY, sum = 0;
	for (int v = 0; v < n; v++)
		max = fmax(max, (double)l[v]);
	for (int v = 0; v < n; v++)
		sum += exp(((double)l[v] - max) / temp);
	for (int v = 0; v < n; v++)
		want[v] = (real)(exp(((double)l[v] - max) / temp) / sum);
	double lnz = rnn_softmax(p, l, n, (real)temp), wz = max / temp + log(sum);
	for (int v = 0; v < n; v++)
		if (!(p[v] >= 0 && p[v] <= 1)) {
			fprintf(stderr, "kernels: %s: rnn_softmax of %d logits at temperature %g: "
				"p[%d] is %g (logit %.9g)\n", rnn_isa(), n, temp, v, (double)p[v],
				(double)l[v]);
			exit(1);
		}
	check("rnn_softmax, extreme logits", p, want, (size_t)n, n, 0, 0, 0);
	real got = (real)lnz, w = (real)wz;
	check_floor("rnn_softmax ln normaliser, extreme logits", &got, &w, 1, fabs(wz) > 1 ? fabs(wz) : 1,
		    n, 0, 0, 0);
	free(p), free(want);
}

/* Softmax of logits from extreme_values: in windows of several lengths
 * (below one vector, several vectors and a tail) and orders, at
 * temperatures 1, 0.3 and 2.5, leaving out what would make l/temp itself
 * overflow real (|l| > REAL_MAX / 4) and infinities. */
static void test_softmax_range(void)
{
	enum { CAP = 6 * (MAX_EXP2 - MIN_EXP2 + 1) + 64 };
	real *vals = emalloc(CAP * sizeof(real)), *l = emalloc(CAP * sizeof(real));
	int n = 0, all = extreme_values(vals, CAP);
	for (int i = 0; i < all; i++)
		if (fabs((double)vals[i]) <= REAL_MAX / 4)
			vals[n++] = vals[i];
	static const int lens[] = { 1, 3, 17, 37, 100 };
	static const double temps[] = { 1, 0.3, 2.5 };
	for (size_t t = 0; t < sizeof temps / sizeof temps[0]; t++)
		for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++)
			for (int start = 0; start < n; start += lens[k] * 7) {
				int m = n - start < lens[k] ? n - start : lens[k];
				/* A stride through the values mixes sizes in one window. */
				for (int j = 0; j < m; j++)
					l[j] = vals[(start + (size_t)j * 97) % (size_t)n];
				softmax_values(l, m, temps[t]);
			}
	printf("softmax %s: logits across the range, finite and within %g\n", rnn_isa(), TOL);
	free(vals), free(l);
}

/* rnn_clip at c 5 on extreme_values and NaN: each value clamped to
 * [-5, 5] exactly, a NaN left NaN. */
static void test_clip_range(void)
{
	enum { CAP = 6 * (MAX_EXP2 - MIN_EXP2 + 1) + 64 };
	real *vals = emalloc((CAP + 1) * sizeof(real));
	int n = extreme_values(vals, CAP);
	vals[n++] = (real)NAN;
	/* rnn_clip takes a model: V 1 and H with 3H + H^2 + 1 >= n reals. */
	int H = 1;
	while (rnn_nparams(1, H) < (size_t)n)
		H++;
	struct rnn_params G;
	real *ga = alloc_params(&G, 1, H);
	size_t np = rnn_nparams(1, H);
	for (size_t i = 0; i < np; i++)
		ga[i] = vals[i % (size_t)n];
	rnn_clip(&G, 5);
	for (size_t i = 0; i < np; i++) {
		real v = vals[i % (size_t)n], want = v > 5 ? 5 : v < -5 ? -5 : v;
		if (!(ga[i] == want || (isnan(v) && isnan(ga[i])))) {
			fprintf(stderr, "kernels: %s: rnn_clip(%.9g) at 5 is %.9g\n", rnn_isa(),
				(double)v, (double)ga[i]);
			exit(1);
		}
	}
	free(vals), free(ga);
}

/* ---- the model family (net.h) ---- */

/* A family model and a window for it: parameters, inputs, states before
 * the window and dropout multipliers (drop[l] NULL: none on layer l). */
struct nmodel {
	struct net P;
	int T, B, H[NET_MAX_L];
	int32_t *x, *y;
	real *pa, *h0[NET_MAX_L], *c0[NET_MAX_L], *drop[NET_MAX_L];
};

/* What the passes write: activations, ps, loss, gradients, dh0, dc0. */
struct nout {
	struct net G;
	struct net_acts A;
	real *ga, *ps, *loss, *dh0[NET_MAX_L], *dc0[NET_MAX_L];
	double wl;
};

static real *nalloc(size_t n, double scale)
{
	real *p = emalloc((n ? n : 1) * sizeof(real));
	fill(p, n, scale);
	return p;
}

/* A random model of cell, L layers of sizes H, V, and window T, B; dropout
 * p 0.3 on every layer (drop 1), every other one from l = 0 (drop 2), or
 * none (0). */
static void nmodel_make(struct nmodel *m, int cell, int L, int V, const int *H, int T, int B,
			int drop)
{
	const size_t N = (size_t)T * B;
	int hm = 1;
	for (int l = 0; l < L; l++)
		hm = H[l] > hm ? H[l] : hm;
	m->T = T, m->B = B;
	memcpy(m->H, H, (size_t)L * sizeof(int));
	const size_t np = net_nparams(cell, L, V, H);
	m->pa = nalloc(np, 1 / sqrt((double)hm));
	net_bind(&m->P, m->pa, cell, L, V, H);
	m->x = emalloc(N * sizeof(int32_t));
	m->y = emalloc(N * sizeof(int32_t));
	for (size_t n = 0; n < N; n++)
		m->x[n] = irand(0, V - 1), m->y[n] = irand(0, V - 1);
	for (int l = 0; l < L; l++) {
		m->h0[l] = nalloc((size_t)B * H[l], 0.5);
		m->c0[l] = nalloc((size_t)B * H[l], 0.5);
		m->drop[l] = NULL;
		if (drop == 1 || (drop == 2 && l % 2 == 0)) {
			m->drop[l] = emalloc(N * H[l] * sizeof(real));
			net_dropout_mask(m->drop[l], N * H[l], 0.3, 99, l);
		}
	}
}

static void nmodel_free(struct nmodel *m)
{
	for (int l = 0; l < m->P.L; l++)
		free(m->h0[l]), free(m->c0[l]), free(m->drop[l]);
	free(m->pa), free(m->x), free(m->y);
}

/* n reals of garbage: 1e3 each (quicker than random ones, and as sure to
 * be caught if a pass leaves one unwritten). */
static real *garbage(size_t n)
{
	real *p = emalloc((n ? n : 1) * sizeof(real));
	for (size_t i = 0; i < n; i++)
		p[i] = 1e3;
	return p;
}

/* Room for every output of m's passes, filled with garbage that the passes
 * must overwrite. */
static void nout_alloc(struct nout *o, const struct nmodel *m)
{
	const struct net *P = &m->P;
	const size_t N = (size_t)m->T * m->B;
	o->ga = garbage(net_nparams(P->cell, P->L, P->V, m->H));
	net_bind(&o->G, o->ga, P->cell, P->L, P->V, m->H);
	memset(&o->A, 0, sizeof o->A);
	for (int l = 0; l < P->L; l++) {
		size_t s[3], bh = (size_t)m->B * m->H[l];
		net_acts_sizes(P, l, N, s);
		o->A.hs[l] = garbage(s[0]);
		o->A.cs[l] = s[1] ? garbage(s[1]) : NULL;
		o->A.gs[l] = s[2] ? garbage(s[2]) : NULL;
		o->A.drop[l] = m->drop[l];
		o->dh0[l] = garbage(bh);
		o->dc0[l] = garbage(bh);
	}
	o->ps = garbage(N * P->V);
	o->loss = nalloc((size_t)m->B, 100);
}

static void nout_free(struct nout *o, int L)
{
	for (int l = 0; l < L; l++) {
		free(o->A.hs[l]), free(o->A.cs[l]), free(o->A.gs[l]);
		free(o->dh0[l]), free(o->dc0[l]);
	}
	free(o->ga), free(o->ps), free(o->loss);
}

/* got against want (n): within tolerance, or (exact) the same bytes. */
static void ncheck(const char *what, const real *got, const real *want, size_t n,
		   const struct nmodel *m, int exact)
{
	if (!exact) {
		check(what, got, want, n, m->P.V, m->H[0], m->T, m->B);
	} else if (memcmp(got, want, n * sizeof(real)) != 0) {
		fprintf(stderr, "kernels: %s: %s%s: not the same bytes for 1, 2 and 16 threads\n",
			rnn_isa(), what, context);
		exit(1);
	}
}

/* The forward pass's outputs: every layer's hs, cs, gs, then ps, loss. */
static void compare_fwd(const struct nout *g, const struct nout *w, const struct nmodel *m,
			int exact)
{
	static const char *const names[3] = { "hs", "cs", "gs" };
	char what[32];
	for (int l = 0; l < m->P.L; l++) {
		size_t s[3];
		net_acts_sizes(&m->P, l, (size_t)m->T * m->B, s);
		const real *gp[3] = { g->A.hs[l], g->A.cs[l], g->A.gs[l] };
		const real *wp[3] = { w->A.hs[l], w->A.cs[l], w->A.gs[l] };
		for (int k = 0; k < 3; k++)
			if (s[k]) {
				snprintf(what, sizeof what, "%s.%d", names[k], l);
				ncheck(what, gp[k], wp[k], s[k], m, exact);
			}
	}
	ncheck("ps", g->ps, w->ps, (size_t)m->T * m->B * m->P.V, m, exact);
	ncheck("loss", g->loss, w->loss, (size_t)m->B, m, exact);
	real a = (real)g->wl, b = (real)w->wl;
	ncheck("window loss", &a, &b, 1, m, exact);
}

/* The backward pass's outputs: each gradient, dh0 and (lstm) dc0. */
static void compare_bwd(const struct nout *g, const struct nout *w, const struct nmodel *m,
			int exact)
{
	const struct net *P = &m->P;
	const size_t G = (size_t)net_gates(P->cell);
	char what[32];
	for (int l = 0; l < P->L; l++) {
		const size_t H = (size_t)m->H[l], I = (size_t)P->l[l].I;
		snprintf(what, sizeof what, "dWx.%d", l);
		ncheck(what, g->G.l[l].Wx, w->G.l[l].Wx, G * H * I, m, exact);
		snprintf(what, sizeof what, "dWh.%d", l);
		ncheck(what, g->G.l[l].Wh, w->G.l[l].Wh, G * H * H, m, exact);
		snprintf(what, sizeof what, "db.%d", l);
		ncheck(what, g->G.l[l].b, w->G.l[l].b, G * H, m, exact);
		snprintf(what, sizeof what, "dh0.%d", l);
		ncheck(what, g->dh0[l], w->dh0[l], (size_t)m->B * H, m, exact);
		snprintf(what, sizeof what, "dc0.%d", l);
		if (P->cell == NET_LSTM)
			ncheck(what, g->dc0[l], w->dc0[l], (size_t)m->B * H, m, exact);
	}
	const size_t Ht = (size_t)m->H[P->L - 1];
	ncheck("dWhy", g->G.Why, w->G.Why, (size_t)P->V * Ht, m, exact);
	ncheck("dby", g->G.by, w->G.by, (size_t)P->V, m, exact);
}

/* The forward pass of m into o, the reference (ref) or the fast one. */
static void run_fwd(struct nout *o, const struct nmodel *m, int ref, void *scratch)
{
	if (ref)
		o->wl = net_forward_ref(&m->P, m->T, m->B, m->x, m->y, m->h0, m->c0, &o->A, o->ps,
					o->loss);
	else
		o->wl = net_forward(&m->P, m->T, m->B, m->x, m->y, m->h0, m->c0, &o->A, o->ps,
				    o->loss, scratch);
}

/* The backward pass of m into o, on the forward outputs of from. */
static void run_bwd(struct nout *o, const struct nmodel *m, const struct nout *from, int ref,
		    void *scratch)
{
	(ref ? net_backward_ref : net_backward)(&o->G, o->dh0, o->dc0, &m->P, m->T, m->B, m->x,
						m->y, m->h0, m->c0, &from->A, from->ps, scratch);
}

/* Both fast passes with 1, 2 and 16 threads: the same bytes. */
static void net_threads(const struct nmodel *m, void *scratch)
{
	static const int nt[3] = { 1, 2, 16 };
	struct nout o[3];
	for (int k = 0; k < 3; k++) {
		nout_alloc(&o[k], m);
		rnn_set_threads(nt[k]);
		run_fwd(&o[k], m, 0, scratch);
		run_bwd(&o[k], m, &o[k], 0, scratch);
	}
	rnn_set_threads(0);
	for (int k = 1; k < 3; k++) {
		compare_fwd(&o[k], &o[0], m, 1);
		compare_bwd(&o[k], &o[0], m, 1);
	}
	for (int k = 0; k < 3; k++)
		nout_free(&o[k], m->P.L);
}

/* Sequence 0 of m's window through n steps of net_step and rnn_out (ref:
 * net_step_ref) from its h0 and c0: state (net_state_reals) and logits
 * (V) after the last. */
static void run_steps(const struct nmodel *m, int n, int ref, real *state, real *logits)
{
	const struct net *P = &m->P;
	real *scratch = emalloc(net_step_scratch(P) * sizeof(real)), *s = state, *top = state;
	for (int l = 0; l < P->L; l++) {
		memcpy(top = s, m->h0[l], (size_t)m->H[l] * sizeof(real));
		s += m->H[l];
		if (P->cell == NET_LSTM) {
			memcpy(s, m->c0[l], (size_t)m->H[l] * sizeof(real));
			s += m->H[l];
		}
	}
	for (int t = 0; t < n; t++) {
		int32_t x = m->x[(size_t)t * m->B];
		if (ref)
			net_step_ref(P, state, x, logits, scratch);
		else
			net_step(P, state, x, scratch);
	}
	if (!ref) {
		struct rnn_out o;
		rnn_out_init(&o, P->Why, P->by, P->V, P->l[P->L - 1].H);
		rnn_out_logits(&o, top, logits);
		rnn_out_free(&o);
	}
	free(scratch);
}

/* net_step against net_step_ref after 1 and T steps, and with 1, 2 and 16
 * threads: the same bytes. */
static void test_net_step(const struct nmodel *m)
{
	static const int nt[3] = { 1, 2, 16 };
	const size_t ns = net_state_reals(&m->P), V = (size_t)m->P.V;
	real *s[4], *lg[4];
	for (int k = 0; k < 4; k++)
		s[k] = garbage(ns), lg[k] = garbage(V);
	for (int n = 1; n <= m->T; n += m->T > 1 ? m->T - 1 : 1) {
		run_steps(m, n, 1, s[3], lg[3]);
		for (int k = 0; k < 3; k++) {
			rnn_set_threads(nt[k]);
			run_steps(m, n, 0, s[k], lg[k]);
		}
		rnn_set_threads(0);
		ncheck("net_step state", s[0], s[3], ns, m, 0);
		ncheck("net_step logits", lg[0], lg[3], V, m, 0);
		for (int k = 1; k < 3; k++) {
			ncheck("net_step state", s[k], s[0], ns, m, 1);
			ncheck("net_step logits", lg[k], lg[0], V, m, 1);
		}
	}
	for (int k = 0; k < 4; k++)
		free(s[k]), free(lg[k]);
}

/* net_forward and net_backward against the reference ones (each backward
 * on the reference forward's outputs) for one model and window, and
 * net_step against net_step_ref; with threads, also net_threads. */
static void test_net(int cell, int L, int V, const int *H, int T, int B, int drop, int threads)
{
	struct nmodel m;
	struct nout r, f;
	nmodel_make(&m, cell, L, V, H, T, B, drop);
	int k = snprintf(context, sizeof context, " (%s L=%d H=", net_cell_names[cell], L);
	for (int l = 0; l < L && k < 100; l++)
		k += snprintf(context + k, sizeof context - (size_t)k, l ? ",%d" : "%d", H[l]);
	snprintf(context + k, sizeof context - (size_t)k, " dropout %d)", drop);
	size_t fb = net_fwd_scratch_bytes(&m.P, T, B), bb = net_scratch_bytes(&m.P, T, B);
	void *scratch = emalloc(fb > bb ? fb : bb);
	nout_alloc(&r, &m);
	nout_alloc(&f, &m);
	run_fwd(&r, &m, 1, scratch);
	run_fwd(&f, &m, 0, scratch);
	compare_fwd(&f, &r, &m, 0);
	run_bwd(&r, &m, &r, 1, scratch);
	run_bwd(&f, &m, &r, 0, scratch);
	compare_bwd(&f, &r, &m, 0);
	if (threads)
		net_threads(&m, scratch);
	test_net_step(&m);
	nout_free(&r, L), nout_free(&f, L), nmodel_free(&m), free(scratch);
	context[0] = 0;
}

/* Every cell, L 1 and 3, mixed sizes, B 1 and more, one-hot inputs read
 * both ways (V above and below T*B), with and without dropout; then sizes
 * where products split, at 1, 2 and 16 threads. */
static void test_net_all(void)
{
	static const struct { int L, V, T, B, H[3], drops; } sz[] = {
		{ 1, 7, 3, 1, { 5 }, 3 }, { 1, 4, 5, 4, { 7 }, 3 }, { 1, 20, 3, 2, { 130 }, 3 },
		{ 3, 6, 3, 1, { 5, 7, 3 }, 3 }, { 3, 9, 4, 5, { 5, 7, 3 }, 3 },
		{ 2, 65, 5, 7, { 33, 17 }, 3 }, { 3, 3, 2, 3, { 16, 1, 20 }, 3 },
		{ 2, 30, 20, 30, { 20, 9 }, 3 },	/* 600 rows: sums over rows in blocks */
		{ 1, 5, 2, 3, { 520 }, 2 },	/* a step's sums in blocks */
	};
	static const int big[2] = { 130, 67 };
	worst = 0;
	for (int cell = 0; cell < NET_NCELLS; cell++) {
		for (size_t i = 0; i < sizeof sz / sizeof sz[0]; i++)
			for (int drop = 0; drop < sz[i].drops; drop++)
				test_net(cell, sz[i].L, sz[i].V, sz[i].H, sz[i].T, sz[i].B, drop, 0);
		test_net(cell, 2, 65, big, 5, 6, 2, 1);	/* steps split by units */
		test_net(cell, 2, 65, big, 22, 24, 2, 1);
		test_net(cell, 1, 40, big + 1, 9, 25, 1, 1);	/* 8k+1 rows: B's one-row tile */
		test_net(cell, 1, 40, big + 1, 9, 18, 0, 1);	/* a part of 10 rows */
	}
	printf("net kernels %s: rnn lstm gru, L 1 to 3, with and without dropout: largest "
	       "difference from the reference %.3g (%s)\n", rnn_isa(), worst, worst_what);
	printf("net threads %s: 1, 2 and 16 threads give the same bytes\n", rnn_isa());
}

/* net_dropout_mask: p = 0 gives ones; at p = 0.3 over 10^6 elements the
 * kept fraction is 0.7 within 0.003 (6.5 standard deviations) and every
 * kept one is (real)(1/0.7); and the first 64 of a few (seed, layer) at p
 * = 0.5 are the bits an independent implementation of formats/model.md's
 * hash gave (1 kept), so a change of the hash is caught. */
static void test_dropout_mask(void)
{
	static const struct { uint64_t seed; int l; const char *bits; } known[] = {
		{ 42, 0, "0100100101100011101011101111111110101111011110011001001111001101" },
		{ 42, 1, "1011101010101011111101001011000000111001100010100011000011100110" },
		{ 7, 3, "1001010001001100110111100110101111101010111000110000110000101110" },
	};
	enum { N = 1000000 };
	real *m = emalloc(N * sizeof(real));
	net_dropout_mask(m, 1000, 0, 5, 2);
	for (int i = 0; i < 1000; i++)
		if (m[i] != 1)
			eprintf("dropout mask p 0: element %d is %g", i, (double)m[i]);
	net_dropout_mask(m, N, 0.3, 1, 0);
	size_t kept = 0;
	for (size_t i = 0; i < N; i++) {
		if (m[i] != 0 && m[i] != (real)(1 / 0.7))
			eprintf("dropout mask p 0.3: element %zu is %.9g", i, (double)m[i]);
		kept += m[i] != 0;
	}
	double frac = (double)kept / N;
	if (!(fabs(frac - 0.7) < 0.003))
		eprintf("dropout mask p 0.3: kept fraction %g, expected 0.7 +- 0.003", frac);
	for (size_t k = 0; k < sizeof known / sizeof known[0]; k++) {
		net_dropout_mask(m, 64, 0.5, known[k].seed, known[k].l);
		for (int i = 0; i < 64; i++)
			if ((m[i] != 0) != (known[k].bits[i] == '1'))
				eprintf("dropout mask seed %llu layer %d: element %d is %g, expected %s",
					(unsigned long long)known[k].seed, known[k].l, i, (double)m[i],
					known[k].bits[i] == '1' ? "kept" : "0");
	}
	printf("dropout mask: p 0 all ones, p 0.3 kept %.4f of 10^6, known values at 3 seeds\n",
	       frac);
	free(m);
}

/* Every check, with the kernels of the instruction set in use. */
static void test_all(void)
{
	static const int sizes[][4] = {	/* V, H, T, B */
		{ 1, 1, 1, 1 }, { 2, 1, 3, 2 }, { 3, 2, 1, 1 }, { 5, 7, 3, 2 },
		{ 8, 8, 2, 3 }, { 9, 15, 4, 3 }, { 16, 16, 2, 4 }, { 17, 17, 5, 5 },
		{ 15, 33, 3, 1 }, { 33, 31, 7, 1 }, { 65, 64, 3, 6 }, { 200, 33, 2, 9 },
		{ 3, 129, 3, 2 }, { 110, 100, 25, 1 }, { 110, 100, 25, 32 },
		{ 65, 100, 10, 7 }, { 97, 250, 4, 2 },
	};
	worst = 0;
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		test_window(sizes[i][0], sizes[i][1], sizes[i][2], sizes[i][3]);
	for (int i = 0; i < 40; i++)
		test_window(irand(1, 140), irand(1, 140), irand(1, 12), irand(1, 12));
	for (int V = 1; V <= 70; V += 3)
		test_softmax(V, 0.3 + 2 * rng_uniform(&rng));
	printf("kernels %s: largest difference from the reference %.3g (%s)\n",
	       rnn_isa(), worst, worst_what);
	test_rnn_threads(65, 100, 25, 32);
	test_rnn_threads(40, 64, 12, 17);
	test_rnn_threads(40, 64, 12, 18);
	test_rnn_threads(400, 64, 10, 33);
	test_rnn_threads(30, 300, 4, 41);
	printf("rnn threads %s: 1, 2 and 16 threads give the same bytes\n", rnn_isa());
	static const int outs[][2] = { { 1, 1 }, { 15, 7 }, { 16, 3 }, { 64, 33 }, { 65, 100 },
				       { 79, 16 }, { 200, 130 }, { 2500, 128 }, { 1031, 257 } };
	for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++)
		test_out(outs[i][0], outs[i][1]);
	printf("rnn_out %s: panels against the sums in double, the same bytes on 1, 2 and 16 "
	       "threads\n", rnn_isa());
	test_functions();
	test_tanh_range();
	test_softmax_range();
	test_clip_range();
	test_net_all();
}

int main(int argc, char *argv[])
{
	(void)argc;
	setprog(argv[0]);
	const char *isa;
	for (int i = 0; (isa = rnn_isa_name(i)); i++) {
		if (!rnn_set_isa(isa)) {
			printf("kernels %s: not on this CPU\n", isa);
			continue;
		}
		rng_seed(&rng, 1);
		test_all();
	}
	test_dropout_mask();
	return 0;
}
