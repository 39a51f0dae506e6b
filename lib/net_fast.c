/* net_fast.c: the fast forward and backward passes of the model family
 * (net.h: net_forward, net_backward), beside the reference loops of net.c,
 * which stay the definition; test/kernels.c holds the two together.
 *
 * Legend: V vocab, L layers, H and I a layer's hidden and input sizes, G
 * its gate blocks (rnn 1, lstm 4, gru 3), T steps, B batch, n = T*B rows
 * (one per character of a window, t major), Hm the largest H. Matrices are
 * row-major; W^T is W transposed.
 *
 * As rnn.c does for the vanilla RNN, only the recurrence stays sequential.
 * Forward, per layer: the input part Wx x + b of every gate for all n rows
 * at once (layer 0: a row of Wx^T per character, its one-hot input; above:
 * one gemm on the dropped states of the layer below), into gs (or hs for
 * rnn); then per step one gemm h' Wh^T (B,H by H,GH) and the cell's
 * element-wise kernel (vector exp and tanh); then the output layer as one
 * gemm over all rows and the softmax rows (rnn.c's). Backward, per layer
 * from the top: per step the cell's gate gradients and dh' = dgates Wh (B,GH
 * by GH,H); after the loop dWh, dWx and dIn (the layer below's dH) as gemms
 * over all n rows, db as column sums. Weights are transposed once per
 * window where a gemm wants them so. The kernels are rnn_simd's (one
 * version per instruction set); the products split over threads by output
 * units or rows at fixed boundaries (rnn.c, "threads"), and the recurrence
 * by sequences when the batch is large enough and Wh fits a core's cache
 * (rnn.c, "chain"), else each step by units, so the bytes are the same for
 * any thread count.
 *
 * Measured (bench/net, float, AVX-512, one thread, one training step:
 * forward and backward, T=50 V=65, median of 5 runs; the machine shared
 * with other work, its one-core peak measured at 179 GFLOP/s then, 205-245
 * when quieter), characters/s, fast against the reference:
 *   LSTM 2x128 B=50   81k against 2.5k (33x), 99 GFLOP/s, 0.56 of peak
 *   LSTM 2x128 B=1    37k against 2.6k (14x)
 *   rnn 1x128 B=50   634k against 22k (29x); lstm 203k against 7.0k (29x);
 *                    gru 283k against 9.5k (30x)
 *   at B=1           13-17x
 *   H=512 B=50        0.54-0.64 of peak; H=1024 B=50 0.40-0.48
 * In a quiet moment LSTM 2x128 B=50 ran at 105-117k (about 0.6 of a 205
 * GFLOP/s peak). Where the time goes there (perf): the products 77% (the
 * window's dW and dIn 36%, the steps' 29%, the input and output layers'
 * 12%), the cells' element-wise kernels 12%. At B=1 a step is a
 * matrix-vector product, bound by reading Wh from the L2 cache or memory. */
#include "net.h"

#include <string.h>

#include "err.h"
#include "pool.h"
#include "rnn_simd.h"

/* ---- scratch ---- */

/* Blocks of the products over all rows of a window: MB rows of the output
 * by KB terms of the sum (the last block of the sum takes up to 2 KB - 1),
 * so that the block of A in use stays in the L2 cache while every column
 * panel of B passes it. Unblocked, dWh = dA^T Hprev at H=128 (A 5 MB, read
 * once per panel of 32 columns) ran at 40-50 GFLOP/s; blocked, 110-120. */
enum { MB = 128, KB = 256 };

/* Blocks carved one after another from a scratch area at base, each at a
 * multiple of 64 bytes from it; with base NULL only counted. */
struct carve {
	char *base;
	size_t off;
};

static void *take(struct carve *c, size_t n, size_t size)
{
	size_t bytes = emul(n, size, "window"), pad = (bytes + 63) / 64 * 64;
	void *p = c->base ? c->base + c->off : NULL;
	if (pad < bytes || c->off + pad < c->off)
		eprintf("window: too large");
	c->off += pad;
	return p;
}

static int hmax(const struct net *P)
{
	int m = 1;
	for (int l = 0; l < P->L; l++)
		m = P->l[l].H > m ? P->l[l].H : m;
	return m;
}

/* Whether layer 0 reads its one-hot input through Wx^T (V,GH), made once
 * per window, rather than down Wx's columns in place: when the window has
 * as many characters as the vocabulary, or more. */
static int onehot_transposed(const struct net *P, size_t n)
{
	return (size_t)P->V <= n;
}

/* The forward pass's scratch: wT the transposed weights of a layer, Wx^T
 * (I,GH) then Wh^T (H,GH); ah, ah2 (B,GH) one step's h' Wh^T and kgemm's
 * partial sums of it; xd (n,Hm) a layer's dropped states; whyT (H,V); term
 * (n) each row's loss; tmp (MB, max(G Hm, V)) bgemm's. */
struct fsc {
	real *wT, *ah, *ah2, *xd, *whyT, *tmp;
	double *term;
};

/* Reals of bgemm's tmp for the products of P's passes. */
static size_t tmp_reals(const struct net *P)
{
	size_t w = (size_t)net_gates(P->cell) * (size_t)hmax(P);
	return emul(MB, w > (size_t)P->V ? w : (size_t)P->V, "window");
}

static void fwd_layout(const struct net *P, int T, int B, struct carve *c, struct fsc *s)
{
	const size_t G = (size_t)net_gates(P->cell), n = emul((size_t)T, (size_t)B, "window");
	const size_t hm = (size_t)hmax(P);
	size_t w = 0;
	for (int l = 0; l < P->L; l++) {
		size_t H = (size_t)P->l[l].H, I = (size_t)P->l[l].I;
		size_t wl = emul(G * H, I + H, "window");
		w = wl > w ? wl : w;
	}
	s->wT = take(c, w, sizeof(real));
	s->ah = take(c, emul((size_t)B, G * hm, "window"), sizeof(real));
	s->ah2 = take(c, emul((size_t)B, G * hm, "window"), sizeof(real));
	s->xd = take(c, emul(n, hm, "window"), sizeof(real));
	s->whyT = take(c, emul((size_t)P->V, (size_t)P->l[P->L - 1].H, "window"), sizeof(real));
	s->term = take(c, n, sizeof(double));
	s->tmp = take(c, tmp_reals(P), sizeof(real));
}

size_t net_fwd_scratch_bytes(const struct net *P, int T, int B)
{
	struct carve c = { NULL, 0 };
	struct fsc s;
	fwd_layout(P, T, B, &c, &s);
	return c.off;
}

/* ---- pieces of both passes ---- */

/* C (M,N) = bias (N) + A (M,K) B (K,N) as rnn_pgemm (A(i,k) is a[i*ars +
 * k*acs]), in blocks of MB x KB: the blocks of the sum after the first go
 * through tmp (MB,N) and are added to C. Blocks are fixed, and threads
 * split columns, so the thread count changes no result. */
static void bgemm(const struct rnn_simd *S, real *c, size_t ldc, const real *a, size_t ars,
		  size_t acs, const real *b, size_t ldb, const real *bias, real *tmp, size_t M,
		  size_t N, size_t K)
{
	for (size_t i0 = 0; i0 < M; i0 += MB) {
		const size_t m = M - i0 < MB ? M - i0 : MB;
		for (size_t k0 = 0, kb; k0 < K; k0 += kb) {
			kb = K - k0 < 2 * KB ? K - k0 : KB;
			real *dst = k0 ? tmp : c + i0 * ldc;
			rnn_pgemm(S, dst, k0 ? N : ldc, a + i0 * ars + k0 * acs, ars, acs,
				  b + k0 * ldb, ldb, k0 ? NULL : bias, (int)m, (int)N, (int)kb);
			for (size_t r = 0; k0 && r < m; r++)
				S->add(c + (i0 + r) * ldc, tmp + r * N, (int)N);
		}
	}
}

/* hs (m) times its dropout multipliers drop (m) into xd, returned; or hs
 * itself without dropout (drop NULL). */
static const real *dropped(const struct rnn_simd *S, real *xd, const real *hs,
			   const real *drop, size_t m)
{
	if (!drop)
		return hs;
	S->mul(xd, hs, drop, m);
	return xd;
}

/* ax (n rows of stride ldx, GH columns) = b + Wx's column x[r] for row r:
 * layer 0's input part, through wxT (V,GH) = Wx^T when not NULL. */
static void onehot_fwd(const struct rnn_simd *S, real *ax, size_t ldx, const struct net_layer *ly,
		       size_t GH, const int32_t *x, size_t n, const real *wxT)
{
	const size_t V = (size_t)ly->I;
	for (size_t r = 0; r < n; r++) {
		real *a = ax + r * ldx;
		if (wxT) {
			memcpy(a, ly->b, GH * sizeof(real));
			S->add(a, wxT + (size_t)x[r] * GH, (int)GH);
		} else {
			for (size_t i = 0; i < GH; i++)
				a[i] = ly->b[i] + ly->Wx[i * V + (size_t)x[r]];
		}
	}
}

/* dWx (GH,V) of layer 0 = the sum over rows r of dax[r] (n,GH) into
 * column x[r], through wT (V,GH) when not NULL. */
static void onehot_back(const struct rnn_simd *S, real *dWx, const real *dax, size_t GH,
			size_t V, const int32_t *x, size_t n, real *wT)
{
	if (wT) {
		memset(wT, 0, V * GH * sizeof(real));
		for (size_t r = 0; r < n; r++)
			S->add(wT + (size_t)x[r] * GH, dax + r * GH, (int)GH);
		S->transpose(dWx, wT, (int)V, (int)GH);
		return;
	}
	memset(dWx, 0, GH * V * sizeof(real));
	for (size_t r = 0; r < n; r++)
		for (size_t i = 0; i < GH; i++)
			dWx[i * V + (size_t)x[r]] += dax[r * GH + i];
}

/* C (M,n) = A (M,K) B (K,n), C and t rows ldc apart, A lda, B ldb: one
 * step's product, its sum in blocks of KB terms when K is long (the later
 * ones through t and added to C), so that the panel of B in use stays in
 * the L1 cache: at H=1024 B=50, 63 -> 80 GFLOP/s forward (K 1024), 55 ->
 * 91 backward (K 4096); no change below K = 2 KB, where it is one block. */
static void kgemm(const struct rnn_simd *S, real *c, real *t, size_t ldc, const real *a,
		  size_t lda, const real *b, size_t ldb, int M, int n, int K)
{
	for (int k0 = 0, kb; k0 < K; k0 += kb) {
		kb = K - k0 < 2 * KB ? K - k0 : KB;
		S->gemm(k0 ? t : c, ldc, a + k0, lda, 1, b + (size_t)k0 * ldb, ldb, NULL, M, n, kb);
		for (int r = 0; k0 && r < M; r++)
			S->add(c + (size_t)r * ldc, t + (size_t)r * ldc, n);
	}
}

/* ---- forward ---- */

/* The steps of a layer over a window, on the window's arrays: h0, c0
 * (B,H) the carries in; ax (T*B rows of stride ldx: Wx x + b in, gates
 * out); hs, cs (T*B,H) out (cs lstm's, else NULL); ah, ah2 (B,GH) one
 * step's h' Wh^T and kgemm's partial sums of it. Split over threads by
 * units at each step (t the step in hand) or by rows for the whole window
 * (rnn.c, "chain"). */
struct fstep {
	const struct rnn_simd *S;
	const real *whT;	/* (H,GH) */
	real *ah, *ah2, *ax;
	size_t ldx;
	const real *h0, *c0;
	real *cs, *hs;
	int cell, B, H, G, T, t, parts;
};

/* Step t for rows [b0, b1) and units [k0, k1): ah = h' Wh^T, then the
 * cell. Each element's sums are formed alike for any rows and units, so
 * either split gives the same bytes. */
static void fstep_block(const struct fstep *j, size_t t, size_t b0, size_t b1, size_t k0,
			size_t k1)
{
	const size_t H = (size_t)j->H, GH = (size_t)j->G * H, BH = (size_t)j->B * H;
	const real *hp = (t ? j->hs + (t - 1) * BH : j->h0) + b0 * H;
	const real *cp = j->cs ? (t ? j->cs + (t - 1) * BH : j->c0) + b0 * H : NULL;
	real *ah = j->ah + b0 * GH, *ax = j->ax + (t * j->B + b0) * j->ldx;
	real *h = j->hs + t * BH + b0 * H, *c = j->cs ? j->cs + t * BH + b0 * H : NULL;
	for (size_t g = 0; g < (size_t)j->G; g++)
		kgemm(j->S, ah + g * H + k0, j->ah2 + b0 * GH + g * H + k0, GH, hp, H,
		      j->whT + g * H + k0, GH, (int)(b1 - b0), (int)(k1 - k0), (int)H);
	for (size_t b = 0; b < b1 - b0; b++) {
		size_t o = b * H + k0;
		j->S->cell_fwd[j->cell](ax + b * j->ldx + k0, ah + b * GH + k0, H, hp + o,
					cp ? cp + o : NULL, c ? c + o : NULL, h + o,
					(int)(k1 - k0));
	}
}

/* Step j->t, the units split into parts. */
static void fstep_part(void *arg, int part)
{
	const struct fstep *j = arg;
	const size_t H = (size_t)j->H;
	const size_t k0 = rnn_part_start(H, j->parts, part, RNN_PART_ALIGN);
	const size_t k1 = rnn_part_start(H, j->parts, part + 1, RNN_PART_ALIGN);
	fstep_block(j, (size_t)j->t, 0, (size_t)j->B, k0, k1);
}

/* Every step, the rows split into parts. */
static void fchain_part(void *arg, int part)
{
	const struct fstep *j = arg;
	const size_t b0 = rnn_part_start((size_t)j->B, j->parts, part, RNN_CHAIN_ALIGN);
	const size_t b1 = rnn_part_start((size_t)j->B, j->parts, part + 1, RNN_CHAIN_ALIGN);
	for (size_t t = 0; t < (size_t)j->T; t++)
		fstep_block(j, t, b0, b1, 0, (size_t)j->H);
}

/* Layer l over the window: hs[l] (and cs[l], gs[l]) of A from the layer
 * below's states (or x), h0 and c0 (B,H). */
static void layer_fwd(const struct rnn_simd *S, const struct net *P, int l, int T, int B,
		      const int32_t *x, const real *h0, const real *c0,
		      const struct net_acts *A, const struct fsc *s)
{
	const struct net_layer *ly = &P->l[l];
	const size_t H = (size_t)ly->H, I = (size_t)ly->I;
	const size_t G = (size_t)net_gates(P->cell), n = (size_t)T * B;
	const int lstm = P->cell == NET_LSTM;
	real *ax = P->cell == NET_RNN ? A->hs[l] : A->gs[l], *wxT = s->wT, *whT = s->wT + I * G * H;
	const size_t ldx = P->cell == NET_RNN ? H : 4 * H;
	if (l == 0) {
		if (onehot_transposed(P, n))
			S->transpose(wxT, ly->Wx, (int)(G * H), (int)I);
		onehot_fwd(S, ax, ldx, ly, G * H, x, n, onehot_transposed(P, n) ? wxT : NULL);
	} else {
		const real *in = dropped(S, s->xd, A->hs[l - 1], A->drop[l - 1], n * I);
		S->transpose(wxT, ly->Wx, (int)(G * H), (int)I);
		bgemm(S, ax, ldx, in, I, 1, wxT, G * H, ly->b, s->tmp, n, G * H, I);
	}
	S->transpose(whT, ly->Wh, (int)(G * H), (int)H);
	struct fstep j = { S, whT, s->ah, s->ah2, ax, ldx, h0, c0, lstm ? A->cs[l] : NULL,
			   A->hs[l], P->cell, B, (int)H, (int)G, T, 0, 1 };
	j.parts = rnn_chain_parts(T, B, G * H * H);
	if (j.parts > 1) {
		pool_run(j.parts, fchain_part, &j);
		return;
	}
	j.parts = rnn_nparts((double)B * H * G * H, H / RNN_PART_ALIGN);
	for (j.t = 0; j.t < T; j.t++)
		pool_run(j.parts, fstep_part, &j);
}

double net_forward(const struct net *P, int T, int B, const int32_t *x, const int32_t *y,
		   real *const *h0, real *const *c0, const struct net_acts *A, real *ps,
		   real *loss, void *scratch)
{
	const struct rnn_simd *S = rnn_simd_use();
	const int V = P->V, H = P->l[P->L - 1].H;
	const size_t n = (size_t)T * B;
	struct carve c = { scratch, 0 };
	struct fsc s;
	fwd_layout(P, T, B, &c, &s);
	for (int l = 0; l < P->L; l++)
		layer_fwd(S, P, l, T, B, x, h0[l], P->cell == NET_LSTM ? c0[l] : NULL, A, &s);
	const real *top = dropped(S, s.xd, A->hs[P->L - 1], A->drop[P->L - 1], n * H);
	S->transpose(s.whyT, P->Why, V, H);
	bgemm(S, ps, (size_t)V, top, (size_t)H, 1, s.whyT, (size_t)V, P->by, s.tmp, n,
	      (size_t)V, (size_t)H);
	return rnn_softmax_loss(S, ps, y, s.term, T, B, V, loss);
}

/* ---- one step of one sequence ---- */

/* net_step: per layer, ax (GH) = Wx x + b (layer 0: column x of Wx, its
 * one-hot input), ah (GH) = Wh h' as matrix-vector products (rnn_pmatvec:
 * dot products along the rows, split by rows over the threads when
 * large), then the cell's kernel. Nothing is transposed: each weight is
 * read once, along its rows. scratch (10 Hm, net_step_scratch): ax (4 Hm,
 * room for gru's fourth block), ah (4 Hm), h, c (Hm). */
void net_step(const struct net *P, real *state, int x, real *scratch)
{
	const struct rnn_simd *S = rnn_simd_use();
	const size_t m = (size_t)hmax(P);
	real *ax = scratch, *ah = ax + 4 * m, *h = ah + 4 * m, *c = h + m;
	const real *in = NULL;
	for (int l = 0; l < P->L; l++) {
		const struct net_layer *y = &P->l[l];
		const size_t H = (size_t)y->H, GH = (size_t)net_gates(P->cell) * H;
		real *hl = state, *cl = P->cell == NET_LSTM ? state + H : NULL;
		if (in) {
			rnn_pmatvec(S, ax, y->Wx, in, y->b, (int)GH, y->I);
		} else {
			for (size_t r = 0; r < GH; r++)
				ax[r] = y->b[r] + y->Wx[r * (size_t)y->I + (size_t)x];
		}
		rnn_pmatvec(S, ah, y->Wh, hl, NULL, (int)GH, (int)H);
		S->cell_fwd[P->cell](ax, ah, H, hl, cl, cl ? c : NULL, h, (int)H);
		memcpy(hl, h, H * sizeof(real));
		if (cl)
			memcpy(cl, c, H * sizeof(real));
		in = hl;
		state += cl ? 2 * H : H;
	}
}

/* ---- backward ---- */

/* The backward pass's scratch: dY (n,V); dH, dIn (n,Hm) the gradients of
 * a layer's states and of the layer below's; dax (n,G Hm) the gradients of
 * Wx x + b, dah those of Wh h' (gru's; else dax); hprev (n,Hm) h' of every
 * row; xd (n,Hm) dropped states; dc, r, r2 (B,Hm) the cell state's
 * gradient, one step's dh' and kgemm's partial sums of it; wT (V,G H_0)
 * layer 0's dWx^T, when onehot_transposed; tmp bgemm's. */
struct bsc {
	real *dY, *dH, *dIn, *dax, *dah, *hprev, *xd, *dc, *r, *r2, *wT, *tmp;
};

static void bwd_layout(const struct net *P, int T, int B, struct carve *c, struct bsc *s)
{
	const size_t G = (size_t)net_gates(P->cell), n = emul((size_t)T, (size_t)B, "window");
	const size_t hm = (size_t)hmax(P), nh = emul(n, hm, "window");
	s->dY = take(c, emul(n, (size_t)P->V, "window"), sizeof(real));
	s->dH = take(c, nh, sizeof(real));
	s->dIn = take(c, nh, sizeof(real));
	s->dax = take(c, emul(nh, G, "window"), sizeof(real));
	s->dah = P->cell == NET_GRU ? take(c, emul(nh, G, "window"), sizeof(real)) : s->dax;
	s->hprev = take(c, nh, sizeof(real));
	s->xd = take(c, nh, sizeof(real));
	s->dc = take(c, emul((size_t)B, hm, "window"), sizeof(real));
	s->r = take(c, emul((size_t)B, hm, "window"), sizeof(real));
	s->r2 = take(c, emul((size_t)B, hm, "window"), sizeof(real));
	s->wT = NULL;
	if (onehot_transposed(P, n))
		s->wT = take(c, emul((size_t)P->V, G * (size_t)P->l[0].H, "window"), sizeof(real));
	s->tmp = take(c, tmp_reals(P), sizeof(real));
}

size_t net_bwd_scratch_bytes(const struct net *P, int T, int B)
{
	struct carve c = { NULL, 0 };
	struct bsc s;
	bwd_layout(P, T, B, &c, &s);
	return c.off;
}

/* The steps back through a layer over a window, on the window's arrays:
 * dH (T*B,H) the gradient of the layer's states in; dax, dah (T*B,GH) the
 * gradients of Wx x + b and (gru) of Wh h' out (dah is dax for rnn and
 * lstm); gs, hs, cs (and h0, c0) as the forward pass made them; dc (B,H)
 * the cell state's gradient carried back, zero in; r, r2 (B,H) one step's
 * dh' and kgemm's partial sums of it; dh0 (B,H) out. Split over threads by
 * units at each step (t the step in hand, each step in two jobs, since the
 * product needs every unit's gates) or by rows for the whole window. */
struct bstep {
	const struct rnn_simd *S;
	const real *Wh;	/* (GH,H) */
	real *dax, *dah, *dH, *dc, *r, *r2, *dh0;
	const real *gs, *hs, *h0, *c0, *cs;
	int cell, B, H, G, T, t, parts;
};

/* Step t, rows [b0, b1), units [k0, k1): the cell's gradients dax and dah
 * from dH's rows of step t and dc. */
static void bcell_block(const struct bstep *j, size_t t, size_t b0, size_t b1, size_t k0,
			size_t k1)
{
	const size_t H = (size_t)j->H, GH = (size_t)j->G * H, BH = (size_t)j->B * H;
	for (size_t b = b0; b < b1; b++) {
		size_t o = t * BH + b * H + k0, g = (t * j->B + b) * GH + k0;
		const real *hp = t ? j->hs + o - BH : j->h0 + b * H + k0;
		const real *cp = j->cs ? (t ? j->cs + o - BH : j->c0 + b * H + k0) : NULL;
		const real *gs = j->gs ? j->gs + (t * BH + b * H) * 4 + k0 : NULL;
		j->S->cell_back[j->cell](j->dax + g, j->dah + g, H, j->dH + o, j->dc + b * H + k0,
					 gs, j->hs + o, hp, cp, j->cs ? j->cs + o : NULL,
					 (int)(k1 - k0));
	}
}

/* Step t, rows [b0, b1), units [k0, k1): r = dah Wh, the gradient of h',
 * added to dH's rows of step t-1 (or set into dh0), plus gru's direct part
 * left in dH. */
static void bprop_block(const struct bstep *j, size_t t, size_t b0, size_t b1, size_t k0,
			size_t k1)
{
	const size_t H = (size_t)j->H, GH = (size_t)j->G * H, BH = (size_t)j->B * H;
	const int m = (int)(k1 - k0);
	kgemm(j->S, j->r + b0 * H + k0, j->r2 + b0 * H + k0, H, j->dah + (t * j->B + b0) * GH,
	      GH, j->Wh + k0, H, (int)(b1 - b0), m, (int)GH);
	real *dst = t ? j->dH + (t - 1) * BH : j->dh0;
	for (size_t b = b0; b < b1; b++) {
		size_t o = b * H + k0;
		if (t)
			j->S->add(dst + o, j->r + o, m);
		else
			memcpy(dst + o, j->r + o, (size_t)m * sizeof(real));
		if (j->cell == NET_GRU)
			j->S->add(dst + o, j->dH + t * BH + o, m);
	}
}

/* Step j->t, the units split into parts: first every unit's gates... */
static void bcell_part(void *arg, int part)
{
	const struct bstep *j = arg;
	const size_t H = (size_t)j->H;
	const size_t k0 = rnn_part_start(H, j->parts, part, RNN_PART_ALIGN);
	const size_t k1 = rnn_part_start(H, j->parts, part + 1, RNN_PART_ALIGN);
	bcell_block(j, (size_t)j->t, 0, (size_t)j->B, k0, k1);
}

/* ...then the product. */
static void bprop_part(void *arg, int part)
{
	const struct bstep *j = arg;
	const size_t H = (size_t)j->H;
	const size_t k0 = rnn_part_start(H, j->parts, part, RNN_PART_ALIGN);
	const size_t k1 = rnn_part_start(H, j->parts, part + 1, RNN_PART_ALIGN);
	bprop_block(j, (size_t)j->t, 0, (size_t)j->B, k0, k1);
}

/* Every step back, the rows split into parts. */
static void bchain_part(void *arg, int part)
{
	const struct bstep *j = arg;
	const size_t b0 = rnn_part_start((size_t)j->B, j->parts, part, RNN_CHAIN_ALIGN);
	const size_t b1 = rnn_part_start((size_t)j->B, j->parts, part + 1, RNN_CHAIN_ALIGN);
	for (size_t t = (size_t)j->T; t-- > 0;) {
		bcell_block(j, t, b0, b1, 0, (size_t)j->H);
		bprop_block(j, t, b0, b1, 0, (size_t)j->H);
	}
}

/* Back through layer l's recurrence: from s->dH (n,H), the gradient of its
 * states from above, fill s->dax and s->dah for every row, dh0 and (lstm)
 * dc0 (B,H). s->dH is used up. */
static void layer_steps_back(const struct rnn_simd *S, const struct net *P, int l, int T,
			     int B, real *dh0, real *dc0, const real *h0, const real *c0,
			     const struct net_acts *A, const struct bsc *s)
{
	const struct net_layer *ly = &P->l[l];
	const size_t H = (size_t)ly->H, BH = (size_t)B * H, G = (size_t)net_gates(P->cell);
	const int lstm = P->cell == NET_LSTM;
	struct bstep j = { S, ly->Wh, s->dax, s->dah, s->dH, s->dc, s->r, s->r2, dh0, A->gs[l],
			   A->hs[l], h0, c0, lstm ? A->cs[l] : NULL, P->cell, B, (int)H, (int)G, T,
			   0, 1 };
	memset(s->dc, 0, BH * sizeof(real));
	j.parts = rnn_chain_parts(T, B, G * H * H);
	if (j.parts > 1) {
		pool_run(j.parts, bchain_part, &j);
	} else {
		j.parts = rnn_nparts((double)BH * G * H, H / RNN_PART_ALIGN);
		for (j.t = T - 1; j.t >= 0; j.t--) {
			pool_run(j.parts, bcell_part, &j);
			pool_run(j.parts, bprop_part, &j);
		}
	}
	if (lstm)
		memcpy(dc0, s->dc, BH * sizeof(real));
}

/* The parameter gradients of layer l (into gl) from s->dax, s->dah, and
 * (l > 0) s->dIn (n,I): the gradient of the layer below's states. */
static void layer_grads(const struct rnn_simd *S, struct net_layer *gl, const struct net *P,
			int l, int T, int B, const int32_t *x, const real *h0,
			const struct net_acts *A, const struct bsc *s)
{
	const struct net_layer *ly = &P->l[l];
	const size_t H = (size_t)ly->H, I = (size_t)ly->I, G = (size_t)net_gates(P->cell);
	const size_t n = (size_t)T * B, GH = G * H;
	memcpy(s->hprev, h0, (size_t)B * H * sizeof(real));
	memcpy(s->hprev + (size_t)B * H, A->hs[l], (n - (size_t)B) * H * sizeof(real));
	bgemm(S, gl->Wh, H, s->dah, 1, GH, s->hprev, H, NULL, s->tmp, GH, H, n);
	S->colsum(gl->b, s->dax, n, (int)GH);
	if (l == 0) {
		onehot_back(S, gl->Wx, s->dax, GH, I, x, n, s->wT);
		return;
	}
	const real *drop = A->drop[l - 1];
	const real *in = dropped(S, s->xd, A->hs[l - 1], drop, n * I);
	bgemm(S, gl->Wx, I, s->dax, 1, GH, in, I, NULL, s->tmp, GH, I, n);
	bgemm(S, s->dIn, I, s->dax, GH, 1, ly->Wx, I, NULL, s->tmp, n, I, GH);
	if (drop)
		S->mul(s->dIn, s->dIn, drop, n * I);
}

/* The output layer backward over the n rows of top (n,H), the top layer's
 * dropped states: dY = (ps - onehot(y)) / B, then dWhy (V,H) = dY^T top,
 * dby its column sums, s->dH (n,H) = dY Why. */
static void output_back(const struct rnn_simd *S, struct net *G, const struct net *P,
			const real *ps, const int32_t *y, const real *top, size_t n, int B,
			const struct bsc *s)
{
	const size_t V = (size_t)P->V, H = (size_t)P->l[P->L - 1].H;
	rnn_output_grad(S, s->dY, ps, y, n, (int)V, B);
	bgemm(S, G->Why, H, s->dY, 1, V, top, H, NULL, s->tmp, V, H, n);
	S->colsum(G->by, s->dY, n, (int)V);
	bgemm(S, s->dH, H, s->dY, V, 1, P->Why, H, NULL, s->tmp, n, H, V);
}

void net_backward(struct net *G, real *const *dh0, real *const *dc0, const struct net *P,
		  int T, int B, const int32_t *x, const int32_t *y, real *const *h0,
		  real *const *c0, const struct net_acts *A, const real *ps, void *scratch)
{
	const struct rnn_simd *S = rnn_simd_use();
	const int H = P->l[P->L - 1].H, lstm = P->cell == NET_LSTM;
	const size_t n = (size_t)T * B;
	struct carve c = { scratch, 0 };
	struct bsc s;
	bwd_layout(P, T, B, &c, &s);
	const real *drop = A->drop[P->L - 1];
	const real *top = dropped(S, s.xd, A->hs[P->L - 1], drop, n * H);
	output_back(S, G, P, ps, y, top, n, B, &s);
	if (drop)
		S->mul(s.dH, s.dH, drop, n * H);
	for (int l = P->L - 1; l >= 0; l--) {
		layer_steps_back(S, P, l, T, B, dh0[l], lstm ? dc0[l] : NULL, h0[l],
				 lstm ? c0[l] : NULL, A, &s);
		layer_grads(S, &G->l[l], P, l, T, B, x, h0[l], A, &s);
		real *tmp = s.dH;
		s.dH = s.dIn;
		s.dIn = tmp;
	}
}
