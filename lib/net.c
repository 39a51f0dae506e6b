/* net.c: see net.h and formats/model.md (THE MODEL FAMILY).
 *
 * Legend: V vocab, L layers, H and I a layer's hidden and input sizes, G
 * its gates, T steps, B batch, n = T*B characters. The loops are the
 * reference: one character and one layer at a time, straight from the
 * equations, as rnn.c's _ref functions are for the vanilla RNN.
 *
 * The fast versions are in net_fast.c. Measured (rnn-fwd -m | rnn-bwd -m,
 * float, T=50 B=50 V=65, this machine shared with other work): LSTM 2x128
 * about 3.0k characters/s, GRU 2x128 3.9k, where the vanilla RNN at H=128
 * with rnn.c's kernels does 310k.
 *
 * Dropout (net_acts.drop): the input of layer l+1, and the output layer's
 * for the top one, is the layer's state times its mask (dropped()); the
 * backward pass multiplies the gradients going down those paths by it. */
#include "net.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

#ifdef CHARNN_DOUBLE
#define RTANH tanh
#define REXP exp
#else
#define RTANH tanhf
#define REXP expf
#endif

static int hmax(const struct net *P);

const char *const net_cell_names[NET_NCELLS] = { "rnn", "lstm", "gru" };

int net_gates(int cell)
{
	static const int g[NET_NCELLS] = { 1, 4, 3 };
	return g[cell];
}

size_t net_nparams(int cell, int L, int V, const int *H)
{
	size_t n = 0, G = (size_t)net_gates(cell), in = (size_t)V;
	for (int l = 0; l < L; l++) {
		size_t h = (size_t)H[l];
		n += G * h * in + G * h * h + G * h;
		in = h;
	}
	return n + (size_t)V * in + (size_t)V;
}

real *net_bind(struct net *N, real *base, int cell, int L, int V, const int *H)
{
	size_t G = (size_t)net_gates(cell);
	int in = V;
	N->cell = cell;
	N->L = L;
	N->V = V;
	for (int l = 0; l < L; l++) {
		struct net_layer *y = &N->l[l];
		size_t h = (size_t)H[l];
		y->I = in;
		y->H = H[l];
		y->Wx = base;
		y->Wh = y->Wx + G * h * (size_t)in;
		y->b = y->Wh + G * h * h;
		base = y->b + G * h;
		in = H[l];
	}
	N->Why = base;
	N->by = N->Why + (size_t)V * (size_t)in;
	return N->by + V;
}

void net_acts_sizes(const struct net *P, int l, size_t n, size_t size[3])
{
	size_t h = (size_t)P->l[l].H;
	size[0] = n * h;
	size[1] = P->cell == NET_LSTM ? n * h : 0;
	size[2] = P->cell == NET_RNN ? 0 : n * 4 * h;
}

static real sigm(real a)
{
	return 1 / (1 + REXP(-a));
}

/* out (R) = b + W in: W (R,I) applied to in (I), or to the one-hot column
 * xi when in is NULL. */
static void affine(real *out, const real *W, const real *b, const real *in, int xi,
		   int R, int I)
{
	for (int r = 0; r < R; r++) {
		const real *w = W + (size_t)r * I;
		real s = b ? b[r] : 0;
		if (!in)
			s += w[xi];
		else
			for (int i = 0; i < I; i++)
				s += w[i] * in[i];
		out[r] = s;
	}
}

/* One cell step for one sequence. a (G*H): Wx in + b; hp, cp (H) the
 * previous states; h, c (H) out; g (4H) out (lstm, gru). */
static void cell_step(const struct net *P, const struct net_layer *y, real *a,
		      const real *hp, const real *cp, real *h, real *c, real *g)
{
	const int H = y->H;
	real *u = g ? g + 3 * (size_t)H : NULL;
	if (P->cell != NET_GRU) {
		for (int r = 0; r < net_gates(P->cell) * H; r++)
			for (int i = 0; i < H; i++)
				a[r] += y->Wh[(size_t)r * H + i] * hp[i];
	} else {
		for (int r = 0; r < 3 * H; r++) {
			real s = 0;
			for (int i = 0; i < H; i++)
				s += y->Wh[(size_t)r * H + i] * hp[i];
			if (r < 2 * H)
				a[r] += s;
			else
				u[r - 2 * H] = s;
		}
	}
	for (int k = 0; k < H; k++) {
		if (P->cell == NET_RNN) {
			h[k] = RTANH(a[k]);
		} else if (P->cell == NET_LSTM) {
			real i = sigm(a[k]), f = sigm(a[H + k]), o = sigm(a[2 * H + k]);
			real gg = RTANH(a[3 * H + k]);
			c[k] = f * cp[k] + i * gg;
			h[k] = o * RTANH(c[k]);
			g[k] = i, g[H + k] = f, g[2 * H + k] = o, g[3 * H + k] = gg;
		} else {
			real z = sigm(a[k]), r = sigm(a[H + k]);
			real nn = RTANH(a[2 * H + k] + r * u[k]);
			h[k] = (1 - z) * nn + z * hp[k];
			g[k] = z, g[H + k] = r, g[2 * H + k] = nn;
		}
	}
}

/* p (V) = softmax(p), max subtracted first, in double. */
static void softmax(real *p, int V)
{
	real max = p[0];
	double sum = 0;
	for (int v = 1; v < V; v++)
		max = p[v] > max ? p[v] : max;
	for (int v = 0; v < V; v++)
		sum += (double)(p[v] = REXP(p[v] - max));
	for (int v = 0; v < V; v++)
		p[v] = (real)(p[v] / sum);
}

/* in (I) = row (I) times its dropout multipliers drop (I), or row itself
 * when drop is NULL. */
static const real *dropped(real *in, const real *row, const real *drop, int I)
{
	if (!drop)
		return row;
	for (int i = 0; i < I; i++)
		in[i] = row[i] * drop[i];
	return in;
}

/* Softmax output layer and loss over the top layer's states top (n,H)
 * times drop (n,H) (NULL: none), as rnn.c; in (H) scratch. */
static double output_ref(const struct net *P, int T, int B, const int32_t *y,
			 const real *top, const real *drop, real *in, real *ps, real *loss)
{
	const int V = P->V, H = P->l[P->L - 1].H;
	double sum = 0;
	for (int b = 0; b < B; b++)
		loss[b] = 0;
	for (int t = 0; t < T; t++)
		for (int b = 0; b < B; b++) {
			size_t n = (size_t)t * B + b;
			real *p = ps + n * V;
			const real *h = dropped(in, top + n * H, drop ? drop + n * H : NULL, H);
			affine(p, P->Why, P->by, h, 0, V, H);
			softmax(p, V);
			loss[b] += (real)-log((double)p[y[n]]);
		}
	for (int b = 0; b < B; b++)
		sum += loss[b];
	return sum / B;
}

double net_forward_ref(const struct net *P, int T, int B, const int32_t *x,
		       const int32_t *y, real *const *h0, real *const *c0,
		       const struct net_acts *A, real *ps, real *loss)
{
	int Hmax = 1;
	for (int l = 0; l < P->L; l++)
		Hmax = P->l[l].H > Hmax ? P->l[l].H : Hmax;
	real *a = emalloc(5 * (size_t)Hmax * sizeof(real)), *xin = a + 4 * (size_t)Hmax;
	for (int l = 0; l < P->L; l++) {
		const struct net_layer *ly = &P->l[l];
		const size_t H = (size_t)ly->H, G = (size_t)net_gates(P->cell);
		for (int t = 0; t < T; t++)
			for (int b = 0; b < B; b++) {
				size_t n = (size_t)t * B + b, np = n - (size_t)B;
				const real *hp = t ? A->hs[l] + np * H : h0[l] + (size_t)b * H;
				const real *cp = NULL;
				if (P->cell == NET_LSTM)
					cp = t ? A->cs[l] + np * H : c0[l] + (size_t)b * H;
				const real *in = NULL, *dr = l ? A->drop[l - 1] : NULL;
				if (l)
					in = dropped(xin, A->hs[l - 1] + n * (size_t)ly->I,
						     dr ? dr + n * (size_t)ly->I : NULL, ly->I);
				affine(a, ly->Wx, ly->b, in, l ? 0 : x[n], (int)(G * H), ly->I);
				cell_step(P, ly, a, hp, cp, A->hs[l] + n * H,
					  A->cs[l] ? A->cs[l] + n * H : NULL,
					  A->gs[l] ? A->gs[l] + n * 4 * H : NULL);
			}
	}
	double sum = output_ref(P, T, B, y, A->hs[P->L - 1], A->drop[P->L - 1], xin, ps, loss);
	free(a);
	return sum;
}

static int hmax(const struct net *P)
{
	int m = 1;
	for (int l = 0; l < P->L; l++)
		m = P->l[l].H > m ? P->l[l].H : m;
	return m;
}

/* net_backward_ref's: dH and dIn (n,Hmax) each, dax and dah (4Hmax), dhp
 * and in (Hmax), dhn and dcn (B,Hmax), dl (V); net_backward's are more. */
size_t net_scratch_bytes(const struct net *P, int T, int B)
{
	size_t h = (size_t)hmax(P);
	size_t n = emul((size_t)T, (size_t)B, "window");
	size_t reals = emul(emul(n, 2, "window"), h, "window");
	reals += 10 * h + 2 * (size_t)B * h + (size_t)P->V;
	size_t ref = emul(reals, sizeof(real), "window"), fast = net_bwd_scratch_bytes(P, T, B);
	return ref > fast ? ref : fast;
}

/* The output layer backward: G->Why, G->by, and dH (n,H) the gradient of
 * the loss with respect to the top layer's states top (n,H), whose dropout
 * multipliers are drop (n,H) (NULL: none); in (H) scratch. */
static void output_back(struct net *G, real *dH, const struct net *P, int T, int B,
			const int32_t *y, const real *top, const real *drop, real *in,
			const real *ps, real *dl)
{
	const int V = P->V, H = P->l[P->L - 1].H;
	for (int t = 0; t < T; t++)
		for (int b = 0; b < B; b++) {
			size_t n = (size_t)t * B + b;
			const real *h = dropped(in, top + n * H, drop ? drop + n * H : NULL, H);
			for (int v = 0; v < V; v++)
				dl[v] = ps[n * V + v] / B;
			dl[y[n]] -= (real)1 / B;
			for (int i = 0; i < H; i++)
				dH[n * H + i] = 0;
			for (int v = 0; v < V; v++) {
				G->by[v] += dl[v];
				for (int i = 0; i < H; i++) {
					G->Why[(size_t)v * H + i] += dl[v] * h[i];
					dH[n * H + i] += P->Why[(size_t)v * H + i] * dl[v];
				}
			}
			for (int i = 0; drop && i < H; i++)
				dH[n * H + i] *= drop[n * H + i];
		}
}

/* Gate gradients of one step: from dh (H) and, for lstm, dc (H, in: from
 * the step after, out: to the step before), fill dax (G*H, the gradient of
 * Wx in + b) and dah (G*H, of the Wh hp part) and dhp (H, the direct part
 * of the previous state's gradient: gru's z h[t-1], else 0). */
static void cell_back(const struct net *P, int H, const real *dh, real *dc,
		      const real *g, const real *h, const real *hp, const real *cp,
		      const real *c, real *dax, real *dah, real *dhp)
{
	for (int k = 0; k < H; k++) {
		dhp[k] = 0;
		if (P->cell == NET_RNN) {
			dax[k] = dah[k] = dh[k] * (1 - h[k] * h[k]);
		} else if (P->cell == NET_LSTM) {
			real i = g[k], f = g[H + k], o = g[2 * H + k], gg = g[3 * H + k];
			real tc = RTANH(c[k]);
			real dck = dh[k] * o * (1 - tc * tc) + dc[k];
			dax[k] = dck * gg * i * (1 - i);
			dax[H + k] = dck * cp[k] * f * (1 - f);
			dax[2 * H + k] = dh[k] * tc * o * (1 - o);
			dax[3 * H + k] = dck * i * (1 - gg * gg);
			dc[k] = dck * f;
		} else {
			real z = g[k], r = g[H + k], nn = g[2 * H + k], u = g[3 * H + k];
			real dan = dh[k] * (1 - z) * (1 - nn * nn);
			dax[k] = dh[k] * (hp[k] - nn) * z * (1 - z);
			dax[H + k] = dan * u * r * (1 - r);
			dax[2 * H + k] = dan;
			dah[2 * H + k] = dan * r;
			dhp[k] = dh[k] * z;
		}
	}
	if (P->cell != NET_GRU)
		memcpy(dah, dax, (size_t)net_gates(P->cell) * H * sizeof(real));
	else
		memcpy(dah, dax, 2 * (size_t)H * sizeof(real));
}

/* Add the step's parameter gradients and propagate: dWx += dax in^T (or
 * its one-hot column xi), db += dax, dWh += dah hp^T, dhp += Wh^T dah,
 * din (I) = Wx^T dax when din is not NULL. */
static void layer_grads(struct net_layer *gl, const struct net_layer *ly, int R,
			const real *dax, const real *dah, const real *in, int xi,
			const real *hp, real *dhp, real *din)
{
	const int I = ly->I, H = ly->H;
	if (din)
		for (int i = 0; i < I; i++)
			din[i] = 0;
	for (int r = 0; r < R; r++) {
		real *gw = gl->Wx + (size_t)r * I;
		const real *w = ly->Wx + (size_t)r * I;
		gl->b[r] += dax[r];
		if (!in)
			gw[xi] += dax[r];
		else
			for (int i = 0; i < I; i++)
				gw[i] += dax[r] * in[i];
		if (din)
			for (int i = 0; i < I; i++)
				din[i] += w[i] * dax[r];
		for (int i = 0; i < H; i++) {
			gl->Wh[(size_t)r * H + i] += dah[r] * hp[i];
			dhp[i] += ly->Wh[(size_t)r * H + i] * dah[r];
		}
	}
}

/* Set every gradient of G, of P's shapes, to zero. */
static void net_zero(struct net *G, const struct net *P)
{
	const size_t g = (size_t)net_gates(P->cell);
	for (int l = 0; l < P->L; l++) {
		const size_t H = (size_t)P->l[l].H, I = (size_t)P->l[l].I;
		memset(G->l[l].Wx, 0, g * H * I * sizeof(real));
		memset(G->l[l].Wh, 0, g * H * H * sizeof(real));
		memset(G->l[l].b, 0, g * H * sizeof(real));
	}
	memset(G->Why, 0, (size_t)P->V * P->l[P->L - 1].H * sizeof(real));
	memset(G->by, 0, (size_t)P->V * sizeof(real));
}

/* Scratch of net_backward_ref, carved from one block. */
struct bscratch {
	real *dH, *dIn, *dax, *dah, *dhp, *in, *dhn, *dcn, *dl;
};

/* Backward through layer l over the window: dH (n,H) in, the gradient of
 * its states from above; dIn (n,I) out for the layer below (l > 0): the
 * gradient of its states, through its dropout multipliers. */
static void layer_back(struct net *G, real *const *dh0, real *const *dc0, const struct net *P,
		       int l, int T, int B, const int32_t *x, real *const *h0, real *const *c0,
		       const struct net_acts *A, struct bscratch *s)
{
	const struct net_layer *ly = &P->l[l];
	const size_t H = (size_t)ly->H, I = (size_t)ly->I;
	const int R = net_gates(P->cell) * ly->H;
	const real *drop = l ? A->drop[l - 1] : NULL;
	memset(s->dhn, 0, (size_t)B * H * sizeof(real));
	memset(s->dcn, 0, (size_t)B * H * sizeof(real));
	for (int t = T - 1; t >= 0; t--)
		for (int b = 0; b < B; b++) {
			size_t n = (size_t)t * B + b, np = n - (size_t)B;
			real *dh = s->dH + n * H, *dhn = s->dhn + (size_t)b * H;
			const real *hp = t ? A->hs[l] + np * H : h0[l] + (size_t)b * H;
			const real *cp = NULL, *c = NULL, *g = NULL;
			if (P->cell == NET_LSTM) {
				cp = t ? A->cs[l] + np * H : c0[l] + (size_t)b * H;
				c = A->cs[l] + n * H;
			}
			if (P->cell != NET_RNN)
				g = A->gs[l] + n * 4 * H;
			for (size_t k = 0; k < H; k++)
				dh[k] += dhn[k];
			cell_back(P, ly->H, dh, s->dcn + (size_t)b * H, g, A->hs[l] + n * H,
				  hp, cp, c, s->dax, s->dah, s->dhp);
			const real *in = NULL;
			if (l)
				in = dropped(s->in, A->hs[l - 1] + n * I, drop ? drop + n * I : NULL,
					     ly->I);
			layer_grads(&G->l[l], ly, R, s->dax, s->dah, in, l ? 0 : x[n], hp,
				    s->dhp, l ? s->dIn + n * I : NULL);
			memcpy(dhn, s->dhp, H * sizeof(real));
		}
	for (size_t i = 0; drop && i < (size_t)T * B * I; i++)
		s->dIn[i] *= drop[i];
	memcpy(dh0[l], s->dhn, (size_t)B * H * sizeof(real));
	if (P->cell == NET_LSTM)
		memcpy(dc0[l], s->dcn, (size_t)B * H * sizeof(real));
}

void net_backward_ref(struct net *G, real *const *dh0, real *const *dc0,
		      const struct net *P, int T, int B, const int32_t *x,
		      const int32_t *y, real *const *h0, real *const *c0,
		      const struct net_acts *A, const real *ps, void *scratch)
{
	const size_t h = (size_t)hmax(P), n = (size_t)T * B;
	struct bscratch s;
	s.dH = scratch;
	s.dIn = s.dH + n * h;
	s.dax = s.dIn + n * h;
	s.dah = s.dax + 4 * h;
	s.dhp = s.dah + 4 * h;
	s.in = s.dhp + h;
	s.dhn = s.in + h;
	s.dcn = s.dhn + (size_t)B * h;
	s.dl = s.dcn + (size_t)B * h;
	net_zero(G, P);
	output_back(G, s.dH, P, T, B, y, A->hs[P->L - 1], A->drop[P->L - 1], s.in, ps, s.dl);
	for (int l = P->L - 1; l >= 0; l--) {
		layer_back(G, dh0, dc0, P, l, T, B, x, h0, c0, A, &s);
		real *tmp = s.dH;
		s.dH = s.dIn;
		s.dIn = tmp;
	}
}

/* splitmix64's output function (Steele, Lea, Flood 2014). */
static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
	return z ^ (z >> 31);
}

/* Element k is output k of splitmix64 from the state key = mix64(seed +
 * (l+1) G), G its increment 0x9E3779B97F4A7C15: mix64(key + (k+1) G),
 * all mod 2^64; its top 53 bits over 2^53 are u in [0,1). Integer
 * arithmetic and one division, so the same bytes everywhere. */
void net_dropout_mask(real *mask, size_t n, double p, uint64_t seed, int l)
{
	const uint64_t G = 0x9E3779B97F4A7C15u;
	if (!(p >= 0 && p < 1) || l < 0)
		eprintf("internal error: dropout p %g, layer %d", p, l);
	const uint64_t key = mix64(seed + ((uint64_t)l + 1) * G);
	const real keep = (real)(1.0 / (1.0 - p));
	for (size_t k = 0; k < n; k++) {
		double u = (double)(mix64(key + ((uint64_t)k + 1) * G) >> 11) * 0x1p-53;
		mask[k] = u < p ? 0 : keep;
	}
}

size_t net_state_reals(const struct net *P)
{
	size_t n = 0;
	for (int l = 0; l < P->L; l++)
		n += (size_t)P->l[l].H * (P->cell == NET_LSTM ? 2 : 1);
	return n;
}

/* a and g (4 Hmax) each, h and c (Hmax) each. */
size_t net_step_scratch(const struct net *P)
{
	return 10 * (size_t)hmax(P);
}

void net_step_ref(const struct net *P, real *state, int x, real *logits, real *scratch)
{
	const size_t m = (size_t)hmax(P);
	real *a = scratch, *g = a + 4 * m, *h = g + 4 * m, *c = h + m;
	const real *in = NULL;
	for (int l = 0; l < P->L; l++) {
		const struct net_layer *y = &P->l[l];
		const size_t H = (size_t)y->H;
		real *hl = state, *cl = P->cell == NET_LSTM ? state + H : NULL;
		affine(a, y->Wx, y->b, in, x, net_gates(P->cell) * y->H, y->I);
		cell_step(P, y, a, hl, cl, h, c, g);
		memcpy(hl, h, H * sizeof(real));
		if (cl)
			memcpy(cl, c, H * sizeof(real));
		in = hl;
		state += cl ? 2 * H : H;
	}
	affine(logits, P->Why, P->by, in, 0, P->V, P->l[P->L - 1].H);
}

