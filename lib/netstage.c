/* netstage.c: see netstage.h.
 *
 * Legend: V vocab, L layers, H a layer's hidden size, T steps, B batch,
 * n = T*B characters. The kernels are lib/net_fast.c's. */
#include "netstage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "model.h"
#include "netmodel.h"
#include "tsframe.h"
#include "tsmap.h"

enum { MAXOUT = WS_MAX_ACTS + PARAMS_MAX + 3 * PARAMS_MAX_STATES + 2 };

/* One frame's model, window, states and activations. */
struct job {
	struct net P;
	struct params m;	/* P, listed: names and shapes */
	struct model_window win;
	size_t T, B;
	struct ts_tensor st[PARAMS_MAX_STATES];	/* h0.l, c0.l */
	int nst;
	real *h0[NET_MAX_L], *c0[NET_MAX_L];
	struct ts_tensor act[WS_MAX_ACTS];	/* ws_acts, data bound */
	int nact;
	struct net_acts A;
	real *ps;
	int carried;		/* the states came from the window before */
	double dropout;		/* the rate of the masks in A.drop (0: none) */
};

/* p holding at least n bytes (cap tracks its size); contents not kept. */
static void *reserve(void *p, size_t *cap, size_t n)
{
	if (n <= *cap)
		return p;
	free(p);
	*cap = n;
	return emalloc(n);
}

/* ns->buf with room for n reals. */
static real *buffer(struct netstage *ns, size_t n)
{
	size_t bytes = ns->cap * sizeof(real);
	ns->buf = reserve(ns->buf, &bytes, emul(n, sizeof(real), "window"));
	ns->cap = bytes / sizeof(real);
	return ns->buf;
}

/* j->h0 and j->c0 from the state tensors j->st (h.l then, for lstm, c.l,
 * layer by layer). */
static void point_states(struct job *j)
{
	int k = 0;
	for (int l = 0; l < j->P.L; l++) {
		j->h0[l] = j->st[k++].data;
		j->c0[l] = j->P.cell == NET_LSTM ? j->st[k++].data : NULL;
	}
}

/* Does the last window's carry fit j (same cell, B and sizes)? */
static int carry_fits(const struct netstage *ns, const struct job *j)
{
	int same = ns->carry.have && ns->carry.cell == j->P.cell && ns->carry.L == j->P.L &&
		   ns->carry.B == j->B;
	for (int l = 0; same && l < j->P.L; l++)
		same = ns->carry.H[l] == (size_t)j->P.l[l].H;
	return same;
}

/* The states of f: its own h0.l and c0.l, or, if it has no h0.0 and
 * may_carry is set, the last window's final ones. */
static void states(struct job *j, const struct netstage *ns, const struct ts_frame *f,
		   int may_carry, const char *stream)
{
	j->carried = may_carry && !ts_frame_find(f, "h0.0");
	if (j->carried && !carry_fits(ns, j))
		eprintf("%s: frame '%s': no tensor 'h0.0', and %s", stream, f->name,
			ns->carry.have ? "the window before it had other sizes"
				       : "no window before it");
	j->nst = params_states(&j->m, j->B, "h0", j->carried ? ns->carry.s : NULL, j->st);
	for (int i = 0; !j->carried && i < j->nst; i++)
		j->st[i].data = tsf_need_shaped(f, j->st[i].name, TS_REAL, 2, j->st[i].dims,
						stream)->data;
	point_states(j);
}

/* Read the model (inline or src's), window and states of f into j; 0 if
 * the model is the default one. may_carry: as for states(). */
static int job_start(struct job *j, const struct netstage *ns, struct ws_src *src,
		     const struct ts_frame *f, int may_carry, const char *stream)
{
	struct net N;
	if (!ws_src_net(src, &N, f, stream))
		return 0;
	memset(j, 0, sizeof *j);
	j->P = N;
	params_of_net(&j->m, &j->P);
	int Hmax = 1;
	for (int l = 0; l < j->P.L; l++)
		Hmax = j->P.l[l].H > Hmax ? j->P.l[l].H : Hmax;
	/* model_window's checks and bounds, for the largest activation row
	 * (the family has no "h0"; its states are checked below). */
	struct rnn_params like = { .V = j->P.V, .H = 4 * Hmax };
	model_window(&j->win, f, &like, stream);
	j->T = (size_t)j->win.T;
	j->B = (size_t)j->win.B;
	states(j, ns, f, may_carry, stream);
	return 1;
}

/* j->A and j->ps from j->act, in ws_acts's order. */
static void point_acts(struct job *j)
{
	int k = 0;
	for (int l = 0; l < j->P.L; l++) {
		j->A.hs[l] = j->act[k++].data;
		j->A.cs[l] = j->P.cell == NET_LSTM ? j->act[k++].data : NULL;
		j->A.gs[l] = j->P.cell != NET_RNN ? j->act[k++].data : NULL;
		j->A.drop[l] = j->dropout > 0 ? j->act[k++].data : NULL;
	}
	j->ps = j->act[k].data;
}

/* The activations' home for the forward pass: the workspace's frame
 * "forward" if it has every one of them (returns 1), else ns->buf, which
 * also holds loss (B) after them. Returns whether they are shared. */
static int forward_home(struct job *j, struct netstage *ns, const struct ws_src *src,
			real **loss)
{
	j->nact = ws_acts(&j->m, j->win.T, j->win.B, j->dropout > 0, j->act);
	int shared = 1;
	size_t n = j->B;
	for (int i = 0; i < j->nact; i++) {
		struct ts_tensor *t = &j->act[i];
		t->data = ws_src_scratch(src, WS_FORWARD, t->name, 3, t->dims);
		shared = shared && t->data;
		n += t->count;
	}
	real *p = buffer(ns, shared ? j->B : n);
	*loss = p;
	for (int i = 0; !shared && i < j->nact; i++) {
		j->act[i].data = p + j->B;
		p += j->act[i].count;
	}
	point_acts(j);
	return shared;
}

/* The dropout masks of the window of f, which carries the iteration as
 * "step" (0 if not): keyed by -s and the step (formats/model.md, DROPOUT). */
static void masks(struct job *j, const struct netstage *ns, const struct ts_frame *f,
		  const char *stream)
{
	int64_t step = 0;
	tsf_opt_i64(f, WS_STEP, stream, &step);
	uint64_t key = ns->seed ^ ((uint64_t)step * 0x9e3779b97f4a7c15ULL);
	for (int l = 0; l < j->P.L; l++)
		net_dropout_mask(j->A.drop[l], j->T * j->B * (size_t)j->P.l[l].H, j->dropout,
				 key, l);
}

/* Keep the final states of j (hT.l, cT.l) for the next window. */
static void carry_on(struct netstage *ns, const struct job *j, const struct ts_tensor *hT,
		     int nT)
{
	size_t n = j->B * params_state_reals(&j->m), at = 0;
	if (!carry_fits(ns, j)) {
		free(ns->carry.s);
		ns->carry.s = emalloc(n * sizeof(real));
	}
	for (int i = 0; i < nT; i++) {
		memcpy(ns->carry.s + at, hT[i].data, hT[i].nbytes);
		at += hT[i].count;
	}
	ns->carry.have = 1;
	ns->carry.cell = j->P.cell;
	ns->carry.L = j->P.L;
	ns->carry.B = j->B;
	for (int l = 0; l < j->P.L; l++)
		ns->carry.H[l] = (size_t)j->P.l[l].H;
}

/* The final states hT.l (and cT.l) of j: the last step of hs.l (cs.l). */
static int final_states(const struct job *j, struct ts_tensor *out)
{
	int n = params_states(&j->m, j->B, "hT", NULL, out), k = 0;
	const size_t last = j->T - 1;
	for (int l = 0; l < j->P.L; l++) {
		size_t bh = j->B * (size_t)j->P.l[l].H;
		out[k++].data = j->A.hs[l] + last * bh;
		if (j->P.cell == NET_LSTM)
			out[k++].data = j->A.cs[l] + last * bh;
	}
	return n;
}

int netstage_forward(struct netstage *ns, struct ws_src *src, const struct ts_frame *f,
		     const struct ts_reader *r, struct ts_writer *w)
{
	struct job j;
	if (!job_start(&j, ns, src, f, 1, r->path))
		return 0;
	ws_wait_step(src, f, r);
	j.dropout = ns->dropout;
	real *loss;
	int shared = forward_home(&j, ns, src, &loss);
	if (j.dropout > 0)
		masks(&j, ns, f, r->path);
	ns->scratch = reserve(ns->scratch, &ns->scratch_cap,
			      net_fwd_scratch_bytes(&j.P, j.win.T, j.win.B));
	net_forward(&j.P, j.win.T, j.win.B, j.win.x, j.win.y, j.h0, j.c0, &j.A, j.ps, loss,
		    ns->scratch);

	struct ts_tensor out[MAXOUT];
	int k = 0;
	for (int i = 0; !shared && i < j.nact; i++)
		out[k++] = j.act[i];
	out[k++] = (struct ts_tensor){ .name = "loss", .dtype = TS_REAL, .rank = 1,
				       .dims = { j.B }, .data = loss };
	int nT = final_states(&j, out + k);
	const struct ts_tensor *hT = out + k;
	k += nT;
	if (j.dropout > 0)
		out[k++] = (struct ts_tensor){ .name = "dropout", .dtype = TS_F64,
					       .data = &j.dropout };
	/* Carried states go on: rnn-bwd needs them. */
	for (int i = 0; j.carried && i < j.nst; i++)
		out[k++] = j.st[i];
	tsf_write_pass(w, WS_FORWARD, f, NULL, out, k);
	carry_on(ns, &j, hT, nT);
	return 1;
}

/* The activations of f for the backward pass: in the frame, or, if the
 * frame has none, where rnn-fwd -w left them in the workspace. */
static void backward_acts(struct job *j, const struct ws_src *src, const struct ts_frame *f,
			  const char *stream)
{
	const struct ts_tensor *d = ts_frame_find(f, "dropout");
	if (d) {
		tsf_expect(d, TS_F64, 0, NULL, stream);
		j->dropout = *(const double *)d->data;
		if (!(j->dropout >= 0 && j->dropout < 1))
			eprintf("%s: tensor 'dropout': %g is out of range [0, 1)", stream,
				j->dropout);
	}
	j->nact = ws_acts(&j->m, j->win.T, j->win.B, j->dropout > 0, j->act);
	int inframe = ts_frame_find(f, j->act[0].name) != NULL;
	for (int i = 0; i < j->nact; i++) {
		struct ts_tensor *t = &j->act[i];
		t->data = inframe ? NULL : ws_src_scratch(src, WS_FORWARD, t->name, 3, t->dims);
		if (!t->data)
			t->data = tsf_need_shaped(f, t->name, TS_REAL, 3, t->dims, stream)->data;
	}
	point_acts(j);
}

/* The gradients' home: the workspace's frame "grads" with -w, else the
 * start of ns->buf; dstate (B sequences' dh0.l, dc0.l) follows in ns->buf. */
static void gradients(struct params *G, real **dstate, struct netstage *ns,
		      const struct ws_src *src, const struct job *j)
{
	size_t nd = j->B * params_state_reals(&j->m);
	if (src->writable) {
		if (!params_like_map(G, &src->prm, &src->map, WS_GRADS, WS_GRAD_PREFIX))
			eprintf("%s: frame '%s': no tensor '%s%s'", src->path, WS_GRADS,
				WS_GRAD_PREFIX, j->m.t[0].name);
		*dstate = buffer(ns, nd);
		return;
	}
	*dstate = params_point(G, &j->m, buffer(ns, params_count(&j->m) + nd));
}

/* Names rnn-bwd consumes: the window, states and activations. */
static int consumed(char names[][TS_MAX_NAME + 1], const char **drop, int L)
{
	static const char *const per[6] = { "h0", "c0", "hs", "cs", "gs", "drop" };
	int k = 0;
	strcpy(names[k++], "x");
	strcpy(names[k++], "y");
	strcpy(names[k++], "ps");
	strcpy(names[k++], "dropout");
	for (int l = 0; l < L; l++)
		for (int i = 0; i < 6; i++)
			snprintf(names[k++], TS_MAX_NAME + 1, "%s.%d", per[i], l);
	for (int i = 0; i < k; i++)
		drop[i] = names[i];
	drop[k] = NULL;
	return k;
}

/* Scale every gradient of G and the n reals of d by s. */
static void scale(const struct params *G, real *d, size_t n, real s)
{
	for (int i = 0; i < G->n; i++) {
		real *g = G->t[i].data;
		for (uint64_t k = 0; k < G->t[i].count; k++)
			g[k] *= s;
	}
	for (size_t k = 0; k < n; k++)
		d[k] *= s;
}

/* Clip every gradient of G to [-c, c] (c 0: not at all). */
static void clip(const struct params *G, real c)
{
	for (int i = 0; c > 0 && i < G->n; i++) {
		real *g = G->t[i].data;
		for (uint64_t k = 0; k < G->t[i].count; k++)
			g[k] = g[k] > c ? c : g[k] < -c ? -c : g[k];
	}
}

int netstage_backward(struct netstage *ns, struct ws_src *src, const struct ts_frame *f,
		      const char *stream, struct ts_writer *w)
{
	struct job j;
	if (!job_start(&j, ns, src, f, 0, stream))
		return 0;
	backward_acts(&j, src, f, stream);
	ns->scratch = reserve(ns->scratch, &ns->scratch_cap,
			      net_scratch_bytes(&j.P, j.win.T, j.win.B));
	struct params G;
	real *dstate, *dh0[NET_MAX_L], *dc0[NET_MAX_L];
	gradients(&G, &dstate, ns, src, &j);
	struct ts_tensor out[MAXOUT];
	int ng = src->writable ? 0 : G.n;
	for (int i = 0; i < ng; i++) {
		out[i] = G.t[i];
		snprintf(out[i].name, sizeof out[i].name, "%s%.*s", WS_GRAD_PREFIX,
			 TS_MAX_NAME - 1, G.t[i].name);
	}
	int nd = params_states(&j.m, j.B, "dh0", dstate, out + ng), k = ng;
	for (int l = 0; l < j.P.L; l++) {
		dh0[l] = out[k++].data;
		dc0[l] = j.P.cell == NET_LSTM ? out[k++].data : NULL;
	}
	net_backward(&G.N, dh0, dc0, &j.P, j.win.T, j.win.B, j.win.x, j.win.y, j.h0, j.c0, &j.A,
		     j.ps, ns->scratch);
	if (ns->mean)
		scale(&G, dstate, j.B * params_state_reals(&j.m), (real)(1.0 / j.win.T));
	clip(&G, ns->clip);
	char names[4 + 6 * NET_MAX_L][TS_MAX_NAME + 1];
	const char *drop[5 + 6 * NET_MAX_L];
	consumed(names, drop, j.P.L);
	tsf_write_pass(w, WS_GRADS, f, drop, out, ng + nd);
	return 1;
}

void netstage_free(struct netstage *ns)
{
	free(ns->carry.s);
	free(ns->buf);
	free(ns->scratch);
	memset(ns, 0, sizeof *ns);
}
