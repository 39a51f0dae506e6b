/* gen.c: see gen.h.
 *
 * Legend: V vocab, H hidden, W the window gen_score hands to rnn_forward. */
#include "gen.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "model.h"
#include "netmodel.h"
#include "tsframe.h"
#include "workspace.h"

/* The window of gen_score: 64 characters, long enough that rnn_forward's
 * products amortise its per-call set-up, unless hs and ps would then pass
 * 2^20 reals (a vocabulary of many thousands). */
static size_t window(int V, int H)
{
	size_t w = ((size_t)1 << 20) / ((size_t)V + (size_t)H);
	return w > 64 ? 64 : w < 1 ? 1 : w;
}

/* gen_seq_next: logits (V), p (V). gen_score: hs (W,H), ps (W,V), loss (1). */
size_t gen_scratch_bytes(int V, int H)
{
	size_t v = (size_t)V, h = (size_t)H;
	size_t next = 2 * v, score = window(V, H) * (h + v) + 1;
	return emul(next > score ? next : score, sizeof(real), "scratch");
}

/* The next index from logits (V), p (V) scratch: see gen_seq_next. */
static int pick(const real *logits, real *p, int V, real temperature, int argmax,
		struct rng *r)
{
	if (argmax) {
		int best = 0;
		for (int v = 1; v < V; v++)
			if (logits[v] > logits[best])
				best = v;
		return best;
	}
	rnn_softmax(p, logits, V, temperature);
	double u = rng_uniform(r), c = 0;
	for (int v = 0; v < V; v++) {
		c += p[v];
		if (u < c)
			return v;
	}
	/* The p sum to 1 only up to rounding: u fell in the gap above. */
	int v = V - 1;
	while (v > 0 && !(p[v] > 0))
		v--;
	return v;
}

/* A family model's: logits (V), p (V), then net_step's scratch. */
static size_t seq_net_scratch(const struct net *N)
{
	size_t n = 2 * (size_t)N->V + net_step_scratch(N);
	return emul(n, sizeof(real), "scratch");
}

/* The top layer's h in a family model's states: each layer's h, and for
 * lstm then its c, layer after layer. */
static real *top_state(const struct net *N, real *state)
{
	for (int l = 0; l < N->L - 1; l++)
		state += (size_t)N->l[l].H * (N->cell == NET_LSTM ? 2 : 1);
	return state;
}

double gen_score(const struct rnn_params *P, real *h, const int32_t *x, size_t n,
		 real *scratch)
{
	const int V = P->V, H = P->H;
	const size_t W = window(V, H);
	real *hs = scratch, *ps = hs + W * H, *loss = ps + W * V;
	double nats = 0;
	for (size_t i = 0; i + 1 < n; i += W) {
		int T = (int)(n - 1 - i < W ? n - 1 - i : W);
		nats += rnn_forward(P, T, 1, x + i, x + i + 1, h, hs, ps, loss);
		memcpy(h, hs + (size_t)(T - 1) * H, (size_t)H * sizeof(real));
	}
	return nats;
}

void gen_load(struct gen_model *m, const char *path)
{
	struct ts_reader r;
	ts_ropen(&r, path);
	for (;;) {
		if (!ts_read_frame(&r, &m->f))
			eprintf("%s: no frame '%s': not a model", r.path, WS_PARAMS);
		if (strcmp(m->f.name, WS_PARAMS) == 0)
			break;
		ts_frame_free(&m->f);
	}
	/* Neither kind of model: then there is no Wxh, and tsf_need says so. */
	if (!params_from_frame(&m->m, &m->f, r.path))
		tsf_need(&m->f, model_names[0], r.path);
	vocab_from_tensor(&m->v, tsf_need(&m->f, WS_VOCAB, r.path), r.path);
	if (m->v.V != m->m.V)
		eprintf("%s: vocabulary of %d characters, but the parameters have V %d",
			r.path, m->v.V, m->m.V);
	if (m->m.fam)
		netmodel_check_finite(&m->f, m->v.src);
	else
		model_check_finite(&m->m.P, m->v.src);
	ts_rclose(&r);
}

void gen_free(struct gen_model *m)
{
	vocab_free(&m->v);
	ts_frame_free(&m->f);
}

/* A family model's scoring window: W characters at a time through
 * net_forward (B = 1), so that each weight is read once a window rather
 * than once a character, with net_fast.c's kernels (measured: score on
 * 200k characters under an LSTM 2x128, 45 s one character at a time with
 * the reference net_step_ref, 4.6 s so). */
struct gen_win {
	size_t W;
	struct net_acts A;
	real *ps, *loss, *block;
	void *scratch;
};

static struct gen_win *win_new(const struct net *N)
{
	struct gen_win *w = ecalloc(1, sizeof *w);
	size_t per = (size_t)N->V, s[3];
	for (int l = 0; l < N->L; l++) {
		net_acts_sizes(N, l, 1, s);
		per += s[0] + s[1] + s[2];
	}
	w->W = window(N->V, (int)(per - (size_t)N->V));
	real *p = w->block = emalloc(emul(w->W * per + 1, sizeof(real), "scratch"));
	for (int l = 0; l < N->L; l++) {
		net_acts_sizes(N, l, w->W, s);
		w->A.hs[l] = p, p += s[0];
		w->A.cs[l] = s[1] ? p : NULL, p += s[1];
		w->A.gs[l] = s[2] ? p : NULL, p += s[2];
	}
	w->ps = p, p += w->W * (size_t)N->V;
	w->loss = p;
	w->scratch = emalloc(net_fwd_scratch_bytes(N, (int)w->W, 1));
	return w;
}

static void win_free(struct gen_win *w)
{
	if (w) {
		free(w->block);
		free(w->scratch);
	}
	free(w);
}

/* gen_score for the family: g->win's windows, the states carried in
 * g->state (each layer's h then, for lstm, c). */
static double score_net(struct gen_seq *g, const int32_t *x, size_t n)
{
	const struct net *N = &g->m->N;
	if (!g->win)
		g->win = win_new(N);
	struct gen_win *w = g->win;
	real *h0[NET_MAX_L], *c0[NET_MAX_L], *s = g->state;
	for (int l = 0; l < N->L; l++) {
		size_t H = (size_t)N->l[l].H;
		h0[l] = s, s += H;
		c0[l] = N->cell == NET_LSTM ? s : NULL, s += N->cell == NET_LSTM ? H : 0;
	}
	double nats = 0;
	for (size_t i = 0; i + 1 < n; i += w->W) {
		int T = (int)(n - 1 - i < w->W ? n - 1 - i : w->W);
		nats += net_forward(N, T, 1, x + i, x + i + 1, h0, c0, &w->A, w->ps, w->loss,
				    w->scratch);
		for (int l = 0; l < N->L; l++) {
			size_t H = (size_t)N->l[l].H, last = (size_t)(T - 1) * H;
			memcpy(h0[l], w->A.hs[l] + last, H * sizeof(real));
			if (c0[l])
				memcpy(c0[l], w->A.cs[l] + last, H * sizeof(real));
		}
	}
	return nats;
}

void gen_seq_open(struct gen_seq *g, const struct params *m)
{
	g->win = NULL;
	g->m = m;
	g->state = ecalloc(params_state_reals(m), sizeof(real));
	g->scratch = emalloc(m->fam ? seq_net_scratch(&m->N) : gen_scratch_bytes(m->V, m->P.H));
	if (m->fam)
		rnn_out_init(&g->out, m->N.Why, m->N.by, m->V, m->N.l[m->N.L - 1].H);
	else
		rnn_out_init(&g->out, m->P.Why, m->P.by, m->V, m->P.H);
}

void gen_seq_close(struct gen_seq *g)
{
	win_free(g->win);
	rnn_out_free(&g->out);
	free(g->state);
	free(g->scratch);
}

void gen_seq_feed(struct gen_seq *g, int x)
{
	if (g->m->fam)
		net_step(&g->m->N, g->state, x, g->scratch + 2 * g->m->V);
	else
		rnn_step(&g->m->P, g->state, x);
}

int gen_seq_next(struct gen_seq *g, int x, real temperature, int argmax, struct rng *r)
{
	const int V = g->m->V;
	gen_seq_feed(g, x);
	rnn_out_logits(&g->out, g->m->fam ? top_state(&g->m->N, g->state) : g->state,
		       g->scratch);
	return pick(g->scratch, g->scratch + V, V, temperature, argmax, r);
}

double gen_seq_score(struct gen_seq *g, const int32_t *x, size_t n)
{
	if (g->m->fam)
		return score_net(g, x, n);
	return gen_score(&g->m->P, g->state, x, n, g->scratch);
}
