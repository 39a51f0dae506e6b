/* rnn.c: see rnn.h.
 *
 * Legend: V vocab, H hidden, T steps, B batch, N = T*B rows (one per
 * character of a window).
 *
 * The _ref functions are min-char-rnn's loops, one sequence and one step at
 * a time. The optimised ones keep only the recurrence sequential: what does
 * not depend on the previous step (the output layer, its gradients, dWhh,
 * dWxh) is done once per window as a matrix product over all N rows, so
 * each weight is loaded once per window rather than once per character.
 * Their vector kernels (rnn_simd.h, bodies in rnn_kernels.inc) come in
 * versions for AVX-512, AVX2 and any CPU, listed once in the table isas;
 * the best one the CPU runs is picked on first use.
 *
 * Measured with bench/kernels.c on AMD EPYC (Zen 4), one training step
 * (forward, backward, clip, Adagrad) at H=100 V=110 T=25, float, AVX-512:
 * about 390k characters/s at B=1 (the reference: 25k) and 680k at B=32,
 * where the products run at about 90% of the machine's peak. At B=1 the
 * two recurrences (an H x H product per character each way) take a third
 * of the time: Whh (40 KB) does not fit the 32 KB L1 cache and streams in
 * from L2 at every step. */
#include "rnn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "rnn_simd.h"

#ifdef CHARNN_DOUBLE
#define RTANH tanh
#define REXP exp
#define SQRT_R sqrt
#else
#define RTANH tanhf
#define REXP expf
#define SQRT_R sqrtf
#endif

size_t rnn_nparams(int V, int H)
{
	size_t v = (size_t)V, h = (size_t)H;
	return h * v + h * h + v * h + h + v;
}

real *rnn_params_bind(struct rnn_params *P, real *base, int V, int H)
{
	size_t v = (size_t)V, h = (size_t)H;
	P->V = V;
	P->H = H;
	P->Wxh = base;
	P->Whh = P->Wxh + h * v;
	P->Why = P->Whh + h * h;
	P->bh = P->Why + v * h;
	P->by = P->bh + h;
	return P->by + v;
}

/* Backward scratch, optimised version: dY (N,V), dH (N,H), Hprev (N,H),
 * dWxh^T (V,H). The reference needs only (V + 2H), which is never more. */
size_t rnn_scratch_bytes(int V, int H, int T, int B)
{
	size_t n = emul((size_t)T, (size_t)B, "window");
	size_t per = (size_t)V + 2 * (size_t)H;
	size_t reals = emul(n, per, "window");
	return emul(reals, sizeof(real), "window");
}

/* ---- reference versions ---- */

double rnn_forward_ref(const struct rnn_params *P, int T, int B, const int32_t *x,
		       const int32_t *y, const real *h0, real *hs, real *ps, real *loss)
{
	const int V = P->V, H = P->H;
	double total = 0;
	for (int b = 0; b < B; b++) {
		double lb = 0;
		const real *hprev = h0 + (size_t)b * H;
		for (int t = 0; t < T; t++) {
			size_t n = (size_t)t * B + b;
			real *h = hs + n * H, *p = ps + n * V;
			for (int i = 0; i < H; i++) {
				real s = 0;
				for (int j = 0; j < H; j++)
					s += P->Whh[(size_t)i * H + j] * hprev[j];
				h[i] = RTANH(P->Wxh[(size_t)i * V + x[n]] + s + P->bh[i]);
			}
			real max = -INFINITY;
			for (int v = 0; v < V; v++) {
				real s = 0;
				for (int j = 0; j < H; j++)
					s += P->Why[(size_t)v * H + j] * h[j];
				p[v] = s + P->by[v];
				if (p[v] > max)
					max = p[v];
			}
			real sum = 0;
			for (int v = 0; v < V; v++) {
				p[v] = REXP(p[v] - max);
				sum += p[v];
			}
			for (int v = 0; v < V; v++)
				p[v] /= sum;
			lb -= log(p[y[n]]);
			hprev = h;
		}
		loss[b] = (real)lb;
		total += lb;
	}
	return total / B;
}

/* Zero the five arrays of G. */
static void params_zero(struct rnn_params *G)
{
	size_t V = (size_t)G->V, H = (size_t)G->H;
	memset(G->Wxh, 0, H * V * sizeof(real));
	memset(G->Whh, 0, H * H * sizeof(real));
	memset(G->Why, 0, V * H * sizeof(real));
	memset(G->bh, 0, H * sizeof(real));
	memset(G->by, 0, V * sizeof(real));
}

void rnn_backward_ref(struct rnn_params *G, real *dh0, const struct rnn_params *P,
		      int T, int B, const int32_t *x, const int32_t *y, const real *h0,
		      const real *hs, const real *ps, void *scratch)
{
	const int V = P->V, H = P->H;
	real *dy = scratch, *dh = dy + V, *dhnext = dh + H;	/* (V), (H), (H) */
	const real scale = (real)1 / B;
	params_zero(G);
	for (int b = 0; b < B; b++) {
		memset(dhnext, 0, (size_t)H * sizeof(real));
		for (int t = T - 1; t >= 0; t--) {
			size_t n = (size_t)t * B + b;
			const real *h = hs + n * H, *p = ps + n * V;
			const real *hprev = t ? hs + (n - B) * H : h0 + (size_t)b * H;
			for (int v = 0; v < V; v++)
				dy[v] = (p[v] - (v == y[n])) * scale;
			for (int v = 0; v < V; v++) {
				for (int j = 0; j < H; j++)
					G->Why[(size_t)v * H + j] += dy[v] * h[j];
				G->by[v] += dy[v];
			}
			/* dh = Why^T dy + dhnext, then through tanh: dhraw. */
			memcpy(dh, dhnext, (size_t)H * sizeof(real));
			for (int v = 0; v < V; v++)
				for (int j = 0; j < H; j++)
					dh[j] += P->Why[(size_t)v * H + j] * dy[v];
			for (int j = 0; j < H; j++)
				dh[j] *= 1 - h[j] * h[j];
			for (int i = 0; i < H; i++) {
				G->bh[i] += dh[i];
				G->Wxh[(size_t)i * V + x[n]] += dh[i];
				for (int j = 0; j < H; j++)
					G->Whh[(size_t)i * H + j] += dh[i] * hprev[j];
			}
			/* dhnext = Whh^T dhraw. */
			memset(dhnext, 0, (size_t)H * sizeof(real));
			for (int i = 0; i < H; i++)
				for (int j = 0; j < H; j++)
					dhnext[j] += P->Whh[(size_t)i * H + j] * dh[i];
		}
		memcpy(dh0 + (size_t)b * H, dhnext, (size_t)H * sizeof(real));
	}
}

void adagrad_update_ref(real *p, real *mem, const real *g, size_t n, real lr)
{
	for (size_t i = 0; i < n; i++) {
		mem[i] += g[i] * g[i];
		p[i] -= lr * g[i] / SQRT_R(mem[i] + (real)1e-8);
	}
}

/* ---- choosing the kernels ---- */

#if defined(__x86_64__) && defined(__GNUC__)
static int runs_avx512(void)
{
	return __builtin_cpu_supports("avx512f");
}

static int runs_avx2(void)
{
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

static int runs_anywhere(void)
{
	return 1;
}

/* The versions of the kernels, fastest first, each with its test of the
 * CPU: the only list of instruction sets (rnn_isa_name shows it to tests
 * and benchmarks). */
static const struct isa {
	const struct rnn_simd *kernels;
	int (*runs)(void);
} isas[] = {
#if defined(__x86_64__) && defined(__GNUC__)
	{ &rnn_simd_avx512, runs_avx512 },
	{ &rnn_simd_avx2, runs_avx2 },
#endif
	{ &rnn_simd_base, runs_anywhere },
};
enum { NISAS = sizeof isas / sizeof isas[0] };

static const struct rnn_simd *simd_in_use;

/* The kernels in use: the first version in isas this CPU runs, unless
 * rnn_set_isa chose. */
static const struct rnn_simd *simd(void)
{
	for (size_t i = 0; !simd_in_use; i++)
		if (isas[i].runs())
			simd_in_use = isas[i].kernels;
	return simd_in_use;
}

const char *rnn_isa(void)
{
	return simd()->name;
}

const char *rnn_isa_name(int i)
{
	return i >= 0 && i < (int)NISAS ? isas[i].kernels->name : NULL;
}

int rnn_set_isa(const char *name)
{
	for (size_t i = 0; i < NISAS; i++)
		if (strcmp(isas[i].kernels->name, name) == 0 && isas[i].runs()) {
			simd_in_use = isas[i].kernels;
			return 1;
		}
	return 0;
}

/* ---- optimised versions ---- */

double rnn_forward(const struct rnn_params *P, int T, int B, const int32_t *x,
		   const int32_t *y, const real *h0, real *hs, real *ps, real *loss)
{
	const struct rnn_simd *S = simd();
	const int V = P->V, H = P->H;
	const size_t N = (size_t)T * B;
	/* Transposed weights turn h Whh^T and h Why^T into products whose
	 * inner loop runs along a row, and the column Wxh[:, x] into a row;
	 * the copies cost O(H (H+V)) per window against O(N H (H+V)) for the
	 * products. */
	real *whhT = emalloc(((size_t)H * H + (size_t)H * V) * sizeof(real));
	real *whyT = whhT + (size_t)H * H;	/* (H,V) */
	double *lb = ecalloc((size_t)B, sizeof(double));
	S->transpose(whyT, P->Why, V, H);
	if (B > 1)	/* one sequence is as fast with dot products */
		S->transpose(whhT, P->Whh, H, H);

	for (int t = 0; t < T; t++) {
		const real *hprev = t ? hs + (size_t)(t - 1) * B * H : h0;
		real *h = hs + (size_t)t * B * H;	/* (B,H) */
		if (B > 1)
			S->gemm(h, H, hprev, H, 1, whhT, H, P->bh, B, H, H);
		else
			S->matvec(h, P->Whh, hprev, P->bh, H, H);
		/* Column x of Wxh, read in place: a window uses at most T*B
		 * of the V columns, so a transposed copy would cost more. */
		for (int b = 0; b < B; b++) {
			const real *col = P->Wxh + x[(size_t)t * B + b];
			real *hb = h + (size_t)b * H;
			for (int i = 0; i < H; i++)
				hb[i] += col[(size_t)i * V];
		}
		S->tanh(h, B * H);
	}
	/* Logits of all N rows at once, then each row's softmax in place; the
	 * loss from the logits, -ln p = ln sum exp(l - max) - (l[y] - max). */
	S->gemm(ps, V, hs, H, 1, whyT, V, P->by, (int)N, V, H);
	for (size_t n = 0; n < N; n++) {
		real *p = ps + n * V, max;
		real target = p[y[n]];
		real sum = S->exp_shifted(p, p, V, 1, &max);
		S->scale(p, (size_t)V, 1 / sum);
		lb[n % B] += log((double)sum) - ((double)target - max);
	}
	double total = 0;
	for (int b = 0; b < B; b++) {
		loss[b] = (real)lb[b];
		total += lb[b];
	}
	free(lb);
	free(whhT);
	return total / B;
}

void rnn_backward(struct rnn_params *G, real *dh0, const struct rnn_params *P,
		  int T, int B, const int32_t *x, const int32_t *y, const real *h0,
		  const real *hs, const real *ps, void *scratch)
{
	const struct rnn_simd *S = simd();
	const int V = P->V, H = P->H;
	const size_t N = (size_t)T * B, BH = (size_t)B * H;
	real *dY = scratch;		/* (N,V) */
	real *dH = dY + N * V;		/* (N,H): from the output, then dhraw */
	real *hprev = dH + N * H;	/* (N,H): h[t-1] for every row */

	/* dY = (P - onehot(y)) / B. */
	const real inv = (real)1 / B;
	memcpy(dY, ps, N * V * sizeof(real));
	S->scale(dY, N * V, inv);
	for (size_t n = 0; n < N; n++)
		dY[n * V + y[n]] -= inv;
	/* dWhy (V,H) = dY^T (V,N) Hs (N,H); dH (N,H) = dY (N,V) Why (V,H). */
	S->gemm(G->Why, H, dY, 1, V, hs, H, NULL, V, H, (int)N);
	S->colsum(G->by, dY, N, V);
	S->gemm(dH, H, dY, V, 1, P->Why, H, NULL, (int)N, H, V);

	/* Back through time: dh0 carries dh[t] into step t-1. */
	memset(dh0, 0, BH * sizeof(real));
	for (int t = T - 1; t >= 0; t--) {
		real *d = dH + (size_t)t * BH;	/* (B,H) */
		S->tanh_back(d, dh0, hs + (size_t)t * BH, (int)BH);
		S->gemm(dh0, H, d, H, 1, P->Whh, H, NULL, B, H, H);
	}

	/* dWhh (H,H) = dHraw^T (H,N) Hprev (N,H). */
	memcpy(hprev, h0, BH * sizeof(real));
	memcpy(hprev + BH, hs, (N - B) * H * sizeof(real));
	S->gemm(G->Whh, H, dH, 1, H, hprev, H, NULL, H, H, (int)N);
	S->colsum(G->bh, dH, N, H);
	/* dWxh[:, x] += dhraw, into the columns in place. */
	memset(G->Wxh, 0, (size_t)H * V * sizeof(real));
	for (size_t n = 0; n < N; n++) {
		real *col = G->Wxh + x[n];
		const real *d = dH + n * H;
		for (int i = 0; i < H; i++)
			col[(size_t)i * V] += d[i];
	}
}

void rnn_clip(struct rnn_params *G, real c)
{
	const struct rnn_simd *S = simd();
	size_t V = (size_t)G->V, H = (size_t)G->H;
	S->clip(G->Wxh, H * V, c);
	S->clip(G->Whh, H * H, c);
	S->clip(G->Why, V * H, c);
	S->clip(G->bh, H, c);
	S->clip(G->by, V, c);
}

void adagrad_update(real *p, real *mem, const real *g, size_t n, real lr)
{
	simd()->adagrad(p, mem, g, n, lr);
}

double rnn_softmax(real *p, const real *logits, int V, real temperature)
{
	const struct rnn_simd *S = simd();
	real max;
	real sum = S->exp_shifted(p, logits, V, temperature, &max);
	S->scale(p, (size_t)V, 1 / sum);
	return (double)max + log((double)sum);
}

/* The new state goes to a scratch copy first: the product reads all of h. */
void rnn_step(const struct rnn_params *P, real *h, int x, real *logits)
{
	enum { STACK_H = 1024 };
	const struct rnn_simd *S = simd();
	const int V = P->V, H = P->H;
	real stack[STACK_H];
	real *hn = H <= STACK_H ? stack : emalloc((size_t)H * sizeof(real));
	S->matvec(hn, P->Whh, h, P->bh, H, H);
	for (int i = 0; i < H; i++)
		hn[i] += P->Wxh[(size_t)i * V + x];
	S->tanh(hn, H);
	memcpy(h, hn, (size_t)H * sizeof(real));
	S->matvec(logits, P->Why, h, P->by, V, H);
	if (hn != stack)
		free(hn);
}
