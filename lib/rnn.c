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
 * the best one the CPU runs is picked on first use. The large products
 * (and each step of the recurrence, softmax rows, clip and Adagrad) are
 * split over threads by output, never by sum (see "threads" below), so
 * the thread count changes no result.
 *
 * Measured with bench/kernels.c on AMD EPYC (Zen 4), one training step
 * (forward, backward, clip, Adagrad) at H=100 V=110 T=25, float, AVX-512:
 * about 390k characters/s at B=1 (the reference: 25k) and 680k at B=32,
 * where the products run at about 90% of the machine's peak. At B=1 the
 * two recurrences (an H x H product per character each way) take a third
 * of the time: Whh (40 KB) does not fit the 32 KB L1 cache and streams in
 * from L2 at every step.
 *
 * Threads, measured with bench/inproc on 2 cores of AMD EPYC (AVX-512, peak
 * 245 GFLOP/s a core by bench/peak), the machine shared with other work:
 * H=512 B=32 80k chars/s on 1 thread, 142k on 2 (1.75x); V=2501 H=128 B=32
 * 73k, 120k (1.65x); H=100 B=32 1.25M, 1.8M (1.45x: each step's product
 * is only 320k multiply-adds); H=100 B=1 715k either way (nothing splits);
 * sampling at V=2500 H=128 1.75x. */
#include "rnn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arg.h"
#include "err.h"
#include "pool.h"
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
const struct rnn_simd *rnn_simd_use(void)
{
	for (size_t i = 0; !simd_in_use; i++)
		if (isas[i].runs())
			simd_in_use = isas[i].kernels;
	return simd_in_use;
}

const char *rnn_isa(void)
{
	return rnn_simd_use()->name;
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

/* ---- threads ----
 *
 * A product splits the columns of its output (the rows, for a matrix-vector
 * product, or for a product with as many rows as columns) into parts, one a
 * thread (lib/pool); every element is still one sum, formed in one order by
 * one kernel call, so the results do not depend on how many parts there
 * are. Column parts start at multiples of PART_ALIGN reals (one vector of
 * the widest version) and are at least that wide, since gemm takes
 * products narrower than a vector by another path; row parts at multiples
 * of RNN_CHAIN_ALIGN rows (see the chain, below). With a batch, the
 * recurrence splits by sequences instead (the chain).
 * A product splits only as far as each part keeps MIN_WORK multiply-adds:
 * below that, handing it over costs more than it saves (2^17 take about a
 * microsecond on one AVX-512 core; an empty job costs 0.3 to 4 us,
 * measured with the other core idle and busy). */
enum { PART_ALIGN = RNN_PART_ALIGN, MIN_WORK = 1 << 17 };

static int nthreads;	/* 0: not yet known */

int rnn_threads(void)
{
	if (!nthreads) {
		const char *e = getenv("CHARNN_THREADS");
		nthreads = e ? (int)estrtonum(e, 1, RNN_MAX_THREADS, "CHARNN_THREADS") : 1;
	}
	return nthreads;
}

void rnn_set_threads(int n)
{
	if (n < 0 || n > RNN_MAX_THREADS)
		eprintf("internal error: %d threads", n);
	nthreads = n;
}

void rnn_set_threads_arg(const char *s)
{
	rnn_set_threads((int)estrtonum(s, 1, RNN_MAX_THREADS, "-j"));
}

/* How many parts for a job of work multiply-adds made of units independent
 * pieces: at most the threads, the units, and work / MIN_WORK. */
int rnn_nparts(double work, size_t units)
{
	int n = rnn_threads();
	if (n > 1 && work / MIN_WORK < n)
		n = (int)(work / MIN_WORK);
	if (units < (size_t)n)
		n = (int)units;
	return n < 1 ? 1 : n;
}

/* Where part i of n begins among N columns (N for i = n): at a multiple of
 * align, the last part ending at N; each part is at least align wide if N
 * holds n of them. */
size_t rnn_part_start(size_t N, int n, int i, size_t align)
{
	if (i >= n)
		return N;
	return (N / align) * (size_t)i / (size_t)n * align;
}

/* A gemm (as struct rnn_simd has it) and how many parts it has: of its
 * columns, or of its rows (byrows). */
struct gemm_job {
	const struct rnn_simd *S;
	real *c;
	size_t ldc;
	const real *a;
	size_t ars, acs;
	const real *b;
	size_t ldb;
	const real *bias;
	int M, N, K, parts, byrows;
};

static void gemm_part(void *arg, int i)
{
	const struct gemm_job *g = arg;
	if (g->byrows) {
		size_t i0 = rnn_part_start((size_t)g->M, g->parts, i, RNN_CHAIN_ALIGN);
		size_t i1 = rnn_part_start((size_t)g->M, g->parts, i + 1, RNN_CHAIN_ALIGN);
		g->S->gemm(g->c + i0 * g->ldc, g->ldc, g->a + i0 * g->ars, g->ars, g->acs, g->b,
			   g->ldb, g->bias, (int)(i1 - i0), g->N, g->K);
		return;
	}
	size_t j0 = rnn_part_start((size_t)g->N, g->parts, i, PART_ALIGN);
	size_t j1 = rnn_part_start((size_t)g->N, g->parts, i + 1, PART_ALIGN);
	g->S->gemm(g->c + j0, g->ldc, g->a, g->ars, g->acs, g->b + j0, g->ldb,
		   g->bias ? g->bias + j0 : NULL, g->M, (int)(j1 - j0), g->K);
}

/* S->gemm, the same arguments and the same results, split over the threads
 * when it is large enough: by rows when it has as many rows as columns, in
 * parts that begin at multiples of RNN_CHAIN_ALIGN rows (which keeps every
 * row's sums, as the chain's parts do), else by columns. A few columns
 * split badly: 65 split as 32 and 33, a panel of two vectors and one of
 * three, left the second part twice the first. */
void rnn_pgemm(const struct rnn_simd *S, real *c, size_t ldc, const real *a, size_t ars,
	       size_t acs, const real *b, size_t ldb, const real *bias, int M, int N, int K)
{
	struct gemm_job g = { S, c, ldc, a, ars, acs, b, ldb, bias, M, N, K, 1, M >= N };
	size_t units = g.byrows ? (size_t)M / RNN_CHAIN_ALIGN : (size_t)N / PART_ALIGN;
	g.parts = rnn_nparts((double)M * N * K, units);
	if (g.parts == 1)
		S->gemm(c, ldc, a, ars, acs, b, ldb, bias, M, N, K);
	else
		pool_run(g.parts, gemm_part, &g);
}

/* A matrix-vector product (as struct rnn_simd has it), rows split: each
 * row's sum is its own, so the split changes no result. */
struct matvec_job {
	const struct rnn_simd *S;
	real *y;
	const real *W, *x, *bias;
	int M, K, parts;
};

static void matvec_part(void *arg, int part)
{
	const struct matvec_job *j = arg;
	int r0 = (int)rnn_part_start((size_t)j->M, j->parts, part, PART_ALIGN);
	int r1 = (int)rnn_part_start((size_t)j->M, j->parts, part + 1, PART_ALIGN);
	j->S->matvec(j->y + r0, j->W + (size_t)r0 * j->K, j->x, j->bias ? j->bias + r0 : NULL,
		     r1 - r0, j->K);
}

void rnn_pmatvec(const struct rnn_simd *S, real *y, const real *W, const real *x,
		 const real *bias, int M, int K)
{
	struct matvec_job j = { S, y, W, x, bias, M, K, 1 };
	j.parts = rnn_nparts((double)M * K, (size_t)M / PART_ALIGN);
	if (j.parts == 1)
		S->matvec(y, W, x, bias, M, K);
	else
		pool_run(j.parts, matvec_part, &j);
}

/* One elementwise kernel over n reals: clip g to [-v, v], or Adagrad with
 * learning rate v on p, mem, g. */
struct elem_job {
	const struct rnn_simd *S;
	int adagrad;
	real *p, *mem, *g;
	size_t n;
	real v;
	int parts;
};

static void elem_part(void *arg, int i)
{
	const struct elem_job *e = arg;
	size_t i0 = rnn_part_start(e->n, e->parts, i, PART_ALIGN);
	size_t i1 = rnn_part_start(e->n, e->parts, i + 1, PART_ALIGN);
	if (e->adagrad)
		e->S->adagrad(e->p + i0, e->mem + i0, e->g + i0, i1 - i0, e->v);
	else
		e->S->clip(e->g + i0, i1 - i0, e->v);
}

/* Run e, split when large: each element's result is its own. */
static void pelem(struct elem_job *e)
{
	/* A few operations an element, memory-bound: count 4 a real. */
	e->parts = rnn_nparts(4.0 * (double)e->n, e->n / PART_ALIGN);
	pool_run(e->parts, elem_part, e);
}

/* ---- optimised versions ---- */

/* h (n,H) += the columns x[b] of Wxh (H,V), the one-hot inputs, for units
 * [i0, i1): from wxT (V,H), Wxh transposed, when the window made one (a
 * row each, contiguous), else down the columns in place. The same sums
 * either way. */
static void add_inputs(const struct rnn_simd *S, const struct rnn_params *P, const real *wxT,
		       real *h, const int32_t *x, int n, int i0, int i1)
{
	const int V = P->V, H = P->H;
	for (int b = 0; b < n; b++) {
		real *hb = h + (size_t)b * H;
		if (wxT) {
			S->add(hb + i0, wxT + (size_t)x[b] * H + i0, i1 - i0);
			continue;
		}
		const real *col = P->Wxh + x[b];
		for (int i = i0; i < i1; i++)
			hb[i] += col[(size_t)i * V];
	}
}

/* Whether a window of n characters reads Wxh through a transposed copy
 * (and rnn_backward forms dWxh in one): when it has as many characters as
 * the vocabulary, or more, so that the copy costs less than the reads. */
static int wx_transposed(int V, size_t n)
{
	return (size_t)V <= n;
}

/* One step of the recurrence for rows [b0, b1) of a batch and units
 * [i0, i1): h (B,H) = tanh(hprev (B,H) Whh^T + bh + Wxh[:, x[b]]), through
 * whhT (Whh transposed) when given, else (one sequence: as fast that way)
 * dot products along Whh's rows. Serves both splits: by units (step_part)
 * and by sequences (chain_fwd_part). */
static void step_block(const struct rnn_simd *S, const struct rnn_params *P,
		       const real *whhT, const real *wxT, const real *hprev, real *h,
		       const int32_t *x, int b0, int b1, int i0, int i1)
{
	const int H = P->H, nb = b1 - b0;
	hprev += (size_t)b0 * H;
	h += (size_t)b0 * H;
	if (whhT)
		S->gemm(h + i0, H, hprev, H, 1, whhT + i0, H, P->bh + i0, nb, i1 - i0, H);
	else
		S->matvec(h + i0, P->Whh + (size_t)i0 * H, hprev, P->bh + i0, i1 - i0, H);
	add_inputs(S, P, wxT, h, x + b0, nb, i0, i1);
	if (i0 == 0 && i1 == H)
		S->tanh(h, nb * H);
	else
		for (int b = 0; b < nb; b++)
			S->tanh(h + (size_t)b * H + i0, i1 - i0);
}

/* A step of all B sequences, parts splitting the H units. */
struct step_job {
	const struct rnn_simd *S;
	const struct rnn_params *P;
	const real *whhT, *wxT, *hprev;	/* (H,H) or NULL, (V,H) or NULL, (B,H) */
	real *h;			/* (B,H) out */
	const int32_t *x;		/* (B) */
	int B, parts;
};

static void step_part(void *arg, int part)
{
	const struct step_job *j = arg;
	const int H = j->P->H;
	const int i0 = (int)rnn_part_start((size_t)H, j->parts, part, PART_ALIGN);
	const int i1 = (int)rnn_part_start((size_t)H, j->parts, part + 1, PART_ALIGN);
	step_block(j->S, j->P, j->whhT, j->wxT, j->hprev, j->h, j->x, 0, j->B, i0, i1);
}

/* The recurrence of a whole window split by sequences instead (the
 * "chain"): part i runs rows [b0, b1) of the batch through every step,
 * forward (h, through step_block) or back (dh0 carried, as rnn_backward's
 * loop), with no meeting of the threads between steps, where the split by
 * units meets them at every step (a few microseconds each, against 1.5
 * for the whole step at H=100 B=32). Parts begin at multiples of
 * RNN_CHAIN_ALIGN rows, a multiple of every version's SIMD_MR_SPLIT, so
 * the last row of a part gets gemm's split one-row tile exactly when it is
 * the last row of the batch and gets it unsplit: every row's sums are
 * formed in the order of the unsplit product, the same bytes for any
 * thread count and either split. Chosen when the step's matrix fits a
 * core's L2 cache (CHAIN_MAX_BYTES), since each part reads all of it every
 * step; larger ones split better by units, each thread reading its share. */
enum { CHAIN_MAX_BYTES = 1 << 19 };

int rnn_chain_parts(int T, int B, size_t w)
{
	if (B < 2 * RNN_CHAIN_ALIGN || w * sizeof(real) > CHAIN_MAX_BYTES)
		return 1;
	return rnn_nparts((double)T * B * (double)w, (size_t)B / RNN_CHAIN_ALIGN);
}

struct chain_job {
	const struct rnn_simd *S;
	const struct rnn_params *P;
	int T, B, parts;
	/* forward */
	const real *whhT, *wxT, *h0;	/* (H,H), (V,H) or NULL, (B,H) */
	const int32_t *x;	/* (T,B) */
	real *hs;		/* (T,B,H) out */
	/* back */
	const real *hsr;	/* (T,B,H) */
	real *dH;		/* (T,B,H): dh in, dhraw out */
	real *dh0;		/* (B,H): the carry, zero in */
};

static void chain_fwd_part(void *arg, int part)
{
	const struct chain_job *j = arg;
	const size_t BH = (size_t)j->B * j->P->H;
	const int b0 = (int)rnn_part_start((size_t)j->B, j->parts, part, RNN_CHAIN_ALIGN);
	const int b1 = (int)rnn_part_start((size_t)j->B, j->parts, part + 1, RNN_CHAIN_ALIGN);
	for (int t = 0; t < j->T; t++)
		step_block(j->S, j->P, j->whhT, j->wxT, t ? j->hs + (t - 1) * BH : j->h0,
			   j->hs + t * BH, j->x + (size_t)t * j->B, b0, b1, 0, j->P->H);
}

static void chain_bwd_part(void *arg, int part)
{
	const struct chain_job *j = arg;
	const int H = j->P->H, B = j->B;
	const size_t b0 = rnn_part_start((size_t)B, j->parts, part, RNN_CHAIN_ALIGN);
	const size_t b1 = rnn_part_start((size_t)B, j->parts, part + 1, RNN_CHAIN_ALIGN);
	const int nb = (int)(b1 - b0);
	real *dh0 = j->dh0 + b0 * H;
	for (int t = j->T - 1; t >= 0; t--) {
		size_t at = ((size_t)t * B + b0) * H;
		j->S->tanh_back(j->dH + at, dh0, j->hsr + at, nb * H);
		j->S->gemm(dh0, H, j->dH + at, H, 1, j->P->Whh, H, NULL, nb, H, H);
	}
}

/* Rows [n0, n1) of the N rows of ps (N,V): logits in, softmax out, and
 * each row's -ln p[y] = ln sum exp(l - max) - (l[y] - max) into term. */
struct softmax_job {
	const struct rnn_simd *S;
	real *ps;
	const int32_t *y;
	double *term;
	size_t N;
	int V, parts;
};

static void softmax_part(void *arg, int part)
{
	const struct softmax_job *j = arg;
	size_t n0 = rnn_part_start(j->N, j->parts, part, 1);
	size_t n1 = rnn_part_start(j->N, j->parts, part + 1, 1);
	for (size_t n = n0; n < n1; n++) {
		real *p = j->ps + n * j->V, max;
		real target = p[j->y[n]];
		real sum = j->S->exp_shifted(p, p, j->V, 1, &max);
		j->S->scale(p, (size_t)j->V, 1 / sum);
		j->term[n] = log((double)sum) - ((double)target - max);
	}
}

double rnn_softmax_loss(const struct rnn_simd *S, real *ps, const int32_t *y, double *term,
			int T, int B, int V, real *loss)
{
	const size_t N = (size_t)T * B;
	struct softmax_job sm = { S, ps, y, term, N, V, 1 };
	sm.parts = rnn_nparts(8.0 * (double)N * V, N);
	pool_run(sm.parts, softmax_part, &sm);
	/* Each sequence's loss summed in the order of its steps. */
	double total = 0;
	for (int b = 0; b < B; b++) {
		double lb = 0;
		for (size_t n = (size_t)b; n < N; n += (size_t)B)
			lb += term[n];
		loss[b] = (real)lb;
		total += lb;
	}
	return total / B;
}

double rnn_forward(const struct rnn_params *P, int T, int B, const int32_t *x,
		   const int32_t *y, const real *h0, real *hs, real *ps, real *loss)
{
	const struct rnn_simd *S = rnn_simd_use();
	const int V = P->V, H = P->H;
	const size_t N = (size_t)T * B;
	/* Transposed weights turn h Whh^T and h Why^T into products whose
	 * inner loop runs along a row; the copies cost O(H (H+V)) per window
	 * against O(N H (H+V)) for the products. */
	real *wT = emalloc(((size_t)H * H + 2 * (size_t)H * V) * sizeof(real));
	real *whhT = B > 1 ? wT : NULL;	/* (H,H): one sequence is as fast with dot products */
	real *whyT = wT + (size_t)H * H;	/* (H,V) */
	real *wxT = wx_transposed(V, N) ? whyT + (size_t)H * V : NULL;	/* (V,H) */
	double *term = emalloc(N * sizeof(double));
	S->transpose(whyT, P->Why, V, H);
	if (whhT)
		S->transpose(whhT, P->Whh, H, H);
	if (wxT)
		S->transpose(wxT, P->Wxh, H, V);

	struct chain_job ch = { .S = S, .P = P, .T = T, .B = B, .whhT = whhT, .wxT = wxT,
				.h0 = h0, .x = x, .hs = hs,
				.parts = rnn_chain_parts(T, B, (size_t)H * H) };
	if (ch.parts > 1) {
		pool_run(ch.parts, chain_fwd_part, &ch);
	} else {
		struct step_job st = { S, P, whhT, wxT, h0, hs, x, B, 1 };
		st.parts = rnn_nparts((double)B * H * H, (size_t)H / PART_ALIGN);
		for (int t = 0; t < T; t++) {
			st.hprev = t ? hs + (size_t)(t - 1) * B * H : h0;
			st.h = hs + (size_t)t * B * H;
			st.x = x + (size_t)t * B;
			pool_run(st.parts, step_part, &st);
		}
	}
	/* Logits of all N rows at once, then each row's softmax in place. */
	rnn_pgemm(S, ps, V, hs, H, 1, whyT, V, P->by, (int)N, V, H);
	double total = rnn_softmax_loss(S, ps, y, term, T, B, V, loss);
	free(term);
	free(wT);
	return total;
}

/* dWxh (H,V): column x[n] the sum of the rows n of dH (N,H) that have it,
 * in the order of n, as add_inputs reads them: through wT (V,H), Wxh
 * transposed, when given (a row each, contiguous), else into the columns
 * in place. */
static void input_grads(const struct rnn_simd *S, real *dWxh, real *wT, const real *dH,
			const int32_t *x, size_t N, int V, int H)
{
	memset(wT ? wT : dWxh, 0, (size_t)H * V * sizeof(real));
	for (size_t n = 0; n < N; n++) {
		const real *d = dH + n * H;
		if (wT) {
			S->add(wT + (size_t)x[n] * H, d, H);
			continue;
		}
		real *col = dWxh + x[n];
		for (int i = 0; i < H; i++)
			col[(size_t)i * V] += d[i];
	}
	if (wT)
		S->transpose(dWxh, wT, V, H);
}

/* dY (N,V) = (ps - onehot(y)) / B in parts of rows: memory-bound, a pass
 * over N V reals that matters beside the output layer's products at a
 * large V. Each element's result is its own. */
struct dy_job {
	const struct rnn_simd *S;
	real *dY;
	const real *ps;		/* (N,V) */
	const int32_t *y;	/* (N) */
	size_t N;
	int V, parts;
	real inv;		/* 1/B */
};

static void dy_part(void *arg, int part)
{
	const struct dy_job *j = arg;
	const size_t n0 = rnn_part_start(j->N, j->parts, part, 1);
	const size_t n1 = rnn_part_start(j->N, j->parts, part + 1, 1);
	const size_t V = (size_t)j->V;
	memcpy(j->dY + n0 * V, j->ps + n0 * V, (n1 - n0) * V * sizeof(real));
	j->S->scale(j->dY + n0 * V, (n1 - n0) * V, j->inv);
	for (size_t n = n0; n < n1; n++)
		j->dY[n * V + (size_t)j->y[n]] -= j->inv;
}

void rnn_output_grad(const struct rnn_simd *S, real *dY, const real *ps, const int32_t *y,
		     size_t N, int V, int B)
{
	struct dy_job j = { S, dY, ps, y, N, V, 1, (real)1 / B };
	j.parts = rnn_nparts(4.0 * (double)N * V, N);
	pool_run(j.parts, dy_part, &j);
}

void rnn_backward(struct rnn_params *G, real *dh0, const struct rnn_params *P,
		  int T, int B, const int32_t *x, const int32_t *y, const real *h0,
		  const real *hs, const real *ps, void *scratch)
{
	const struct rnn_simd *S = rnn_simd_use();
	const int V = P->V, H = P->H;
	const size_t N = (size_t)T * B, BH = (size_t)B * H;
	real *dY = scratch;		/* (N,V) */
	real *dH = dY + N * V;		/* (N,H): from the output, then dhraw */
	real *hprev = dH + N * H;	/* (N,H): h[t-1] for every row */

	rnn_output_grad(S, dY, ps, y, N, V, B);
	/* dWhy (V,H) = dY^T (V,N) Hs (N,H); dH (N,H) = dY (N,V) Why (V,H). */
	rnn_pgemm(S, G->Why, H, dY, 1, V, hs, H, NULL, V, H, (int)N);
	S->colsum(G->by, dY, N, V);
	rnn_pgemm(S, dH, H, dY, V, 1, P->Why, H, NULL, (int)N, H, V);

	/* Back through time: dh0 carries dh[t] into step t-1. */
	memset(dh0, 0, BH * sizeof(real));
	struct chain_job ch = { .S = S, .P = P, .T = T, .B = B, .hsr = hs, .dH = dH,
				.dh0 = dh0, .parts = rnn_chain_parts(T, B, (size_t)H * H) };
	if (ch.parts > 1) {
		pool_run(ch.parts, chain_bwd_part, &ch);
	} else {
		for (int t = T - 1; t >= 0; t--) {
			real *d = dH + (size_t)t * BH;	/* (B,H) */
			S->tanh_back(d, dh0, hs + (size_t)t * BH, (int)BH);
			rnn_pgemm(S, dh0, H, d, H, 1, P->Whh, H, NULL, B, H, H);
		}
	}

	/* dWhh (H,H) = dHraw^T (H,N) Hprev (N,H). */
	memcpy(hprev, h0, BH * sizeof(real));
	memcpy(hprev + BH, hs, (N - B) * H * sizeof(real));
	rnn_pgemm(S, G->Whh, H, dH, 1, H, hprev, H, NULL, H, H, (int)N);
	S->colsum(G->bh, dH, N, H);
	/* hprev, used, has room for Wxh transposed: V <= N when it is made. */
	input_grads(S, G->Wxh, wx_transposed(V, N) ? hprev : NULL, dH, x, N, V, H);
}

void rnn_clip(struct rnn_params *G, real c)
{
	/* The five arrays are one block or not: clip each. */
	real *const a[5] = { G->Wxh, G->Whh, G->Why, G->bh, G->by };
	size_t V = (size_t)G->V, H = (size_t)G->H;
	const size_t n[5] = { H * V, H * H, V * H, H, V };
	for (int i = 0; i < 5; i++) {
		struct elem_job e = { rnn_simd_use(), 0, NULL, NULL, a[i], n[i], c, 1 };
		pelem(&e);
	}
}

void adagrad_update(real *p, real *mem, const real *g, size_t n, real lr)
{
	struct elem_job e = { rnn_simd_use(), 1, p, mem, (real *)g, n, lr, 1 };
	pelem(&e);
}

double rnn_softmax(real *p, const real *logits, int V, real temperature)
{
	const struct rnn_simd *S = rnn_simd_use();
	real max;
	real sum = S->exp_shifted(p, logits, V, temperature, &max);
	S->scale(p, (size_t)V, 1 / sum);
	return (double)max + log((double)sum);
}

/* ---- the output layer of a sampler ---- */

/* Panel q holds rows [q P, q P + w) of W, w = min(P, V - q P), as (H, w):
 * element (k, i) is W[q P + i][k]; it starts at q P H, every panel before
 * it being full. */
static size_t panel_width(size_t V, size_t r0)
{
	return V - r0 < RNN_OUT_PANEL ? V - r0 : RNN_OUT_PANEL;
}

void rnn_out_init(struct rnn_out *o, const real *W, const real *b, int V, int H)
{
	const size_t h = (size_t)H, v = (size_t)V;
	o->pk = emalloc(emul(emul(v, h, "output layer"), sizeof(real), "output layer"));
	o->b = b;
	o->V = V;
	o->H = H;
	for (size_t r0 = 0; r0 < v; r0 += RNN_OUT_PANEL) {
		size_t w = panel_width(v, r0);
		real *q = o->pk + r0 * h;
		for (size_t k = 0; k < h; k++)
			for (size_t i = 0; i < w; i++)
				q[k * w + i] = W[(r0 + i) * h + k];
	}
}

void rnn_out_free(struct rnn_out *o)
{
	free(o->pk);
	o->pk = NULL;
}

/* Panels of the logits, split over the threads: each panel is one
 * one-row gemm (its sums in the order of k, the same for any split). */
struct out_job {
	const struct rnn_simd *S;
	const struct rnn_out *o;
	const real *h;
	real *logits;
	size_t panels;
	int parts;
};

static void out_part(void *arg, int part)
{
	const struct out_job *j = arg;
	const size_t h = (size_t)j->o->H, v = (size_t)j->o->V;
	const size_t q0 = rnn_part_start(j->panels, j->parts, part, 1);
	const size_t q1 = rnn_part_start(j->panels, j->parts, part + 1, 1);
	for (size_t q = q0; q < q1; q++) {
		size_t r0 = q * RNN_OUT_PANEL, w = panel_width(v, r0);
		j->S->gemm(j->logits + r0, 0, j->h, 0, 1, j->o->pk + r0 * h, w, j->o->b + r0, 1,
			   (int)w, (int)h);
	}
}

void rnn_out_logits(const struct rnn_out *o, const real *h, real *logits)
{
	struct out_job j = { rnn_simd_use(), o, h, logits, 0, 1 };
	j.panels = ((size_t)o->V + RNN_OUT_PANEL - 1) / RNN_OUT_PANEL;
	j.parts = rnn_nparts((double)o->V * o->H, j.panels);
	pool_run(j.parts, out_part, &j);
}

/* The new state goes to a scratch copy first: the product reads all of h. */
void rnn_step(const struct rnn_params *P, real *h, int x)
{
	enum { STACK_H = 1024 };
	const struct rnn_simd *S = rnn_simd_use();
	const int H = P->H;
	real stack[STACK_H];
	real *hn = H <= STACK_H ? stack : emalloc((size_t)H * sizeof(real));
	const int32_t xb = x;
	struct step_job st = { S, P, NULL, NULL, h, hn, &xb, 1, 1 };
	st.parts = rnn_nparts((double)H * H, (size_t)H / PART_ALIGN);
	pool_run(st.parts, step_part, &st);
	memcpy(h, hn, (size_t)H * sizeof(real));
	if (hn != stack)
		free(hn);
}
