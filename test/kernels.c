/* kernels.c: the optimised RNN kernels against the reference ones.
 *
 *     kernels
 *
 * For many sizes, odd ones included (1, below one vector, one vector and a
 * bit, the bench sizes), random models and windows: rnn_forward against
 * rnn_forward_ref, rnn_backward against rnn_backward_ref (both on the
 * reference forward's outputs), adagrad_update against adagrad_update_ref,
 * rnn_step and rnn_softmax against the reference forward for one step, and
 * rnn_clip; then the polynomial tanh and exp against libm over their whole
 * range, and tanh, softmax and clip on inputs across the whole range of
 * real (every binary exponent, denormals, zeros, values near the clamps,
 * huge and infinite values), where each result must be finite and within
 * tolerance. All of it for each version of the kernels (instruction set) this
 * CPU runs. Prints the largest differences seen; exits 1 with a message on
 * the first one beyond the tolerance of this precision.
 *
 * Legend: V vocab, H hidden, T steps, B batch. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
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
static const char *worst_what = "";

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
		worst_what = what;
	}
	if (!(rel <= TOL)) {
		fprintf(stderr, "kernels: %s: %s differs at V=%d H=%d T=%d B=%d: element %zu "
			"is %.17g, reference %.17g (relative to scale %g: %g > %g)\n",
			rnn_isa(), what, V, H, T, B, at, (double)got[at], (double)want[at],
			scale, rel, TOL);
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
	rnn_step(&P, h, x[0], logits);
	double lnz = rnn_softmax(p, logits, V, 1);
	check("rnn_step h", h, hsr, (size_t)H, V, H, 1, 1);
	check("rnn_step softmax", p, psr, (size_t)V, V, H, 1, 1);
	real lp = (real)(logits[y[0]] - lnz), lpr = -lossr[0];
	/* A difference of logits and ln Z, each of order 1: rounding is
	 * relative to them. */
	check_floor("rnn_softmax ln p", &lp, &lpr, 1, 1, V, H, 1, 1);

	free(pa), free(ga), free(gra), free(x), free(y), free(h0), free(hs), free(hsr);
	free(ps), free(psr), free(loss), free(lossr), free(dh0), free(dh0r), free(scratch);
	free(mem), free(memr), free(pr), free(h), free(logits), free(p);
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

/* The polynomial tanh (through rnn_step on a model whose hidden layer is
 * h = tanh(Wxh[:,0])) and exp (through rnn_softmax of [0, -d]) against libm
 * in double, relative to the true value; returns nothing, dies on a miss. */
static void test_functions(void)
{
	enum { H = 4001 };
	struct rnn_params P;
	real *pa = alloc_params(&P, 1, H);
	memset(pa, 0, rnn_nparams(1, H) * sizeof(real));
	real *h = ecalloc(H, sizeof(real)), logit;
	double maxrel = 0, at = 0;
	for (int pass = 0; pass < 3; pass++) {
		for (int i = 0; i < H; i++) {
			double u = (double)i / (H - 1) * 2 - 1;
			/* Wide, then near zero, then where it rounds to 1. */
			double v = pass == 0 ? 12 * u : pass == 1 ? 1e-3 * u : 8 + 12 * fabs(u);
			P.Wxh[i] = (real)v;
		}
		memset(h, 0, H * sizeof(real));
		rnn_step(&P, h, 0, &logit);
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
	real *h = ecalloc((size_t)H, sizeof(real)), ps[4], loss[2], logit[2];
	rnn_step(&P, h, 0, logit);
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
	test_functions();
	test_tanh_range();
	test_softmax_range();
	test_clip_range();
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
	return 0;
}
