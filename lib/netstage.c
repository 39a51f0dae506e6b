/* netstage.c: see netstage.h.
 *
 * Legend: V vocab, L layers, H a layer's hidden size, G its gates, T steps,
 * B batch, n = T*B. The kernels are net.c's reference ones. */
#include "netstage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "model.h"
#include "net.h"
#include "netmodel.h"
#include "tsframe.h"
#include "tsmap.h"

enum { MAXOUT = 9 * NET_MAX_L + 4 };

/* One frame's model, window and states; carried: the states came from
 * the window before (rnn-fwd only). */
struct job {
	struct net P;
	struct model_window win;
	real *h0[NET_MAX_L], *c0[NET_MAX_L];
	struct net_acts A;
	size_t n, B;
	int carried;
};


/* Fill t as a real tensor of rank 1 to 3 (unused dims 0) over data. */
static void tens(struct ts_tensor *t, const char *name, int l, int rank, size_t d0,
		 size_t d1, size_t d2, void *data)
{
	memset(t, 0, sizeof *t);
	if (l >= 0)
		snprintf(t->name, sizeof t->name, "%s.%d", name, l);
	else
		snprintf(t->name, sizeof t->name, "%s", name);
	t->dtype = TS_REAL;
	t->rank = rank;
	t->dims[0] = d0, t->dims[1] = d1, t->dims[2] = d2;
	t->data = data;
}

/* The real tensor name.l of f, of shape rank (d0,d1,d2). */
static real *need(const struct ts_frame *f, const char *name, int l, int rank, size_t d0,
		  size_t d1, size_t d2, const char *stream)
{
	struct ts_tensor t;
	tens(&t, name, l, rank, d0, d1, d2, NULL);
	return tsf_need_shaped(f, t.name, TS_REAL, rank, t.dims, stream)->data;
}

/* rnn-fwd's last window's final states, for a next window without h0.l
 * (one stream per process, so one carry). */
static struct {
	int have, cell, L;
	size_t B, H[NET_MAX_L];
	real *h[NET_MAX_L], *c[NET_MAX_L];
} carry;

/* The states of f: its own h0.l and c0.l, or, if it has no h0.0 and
 * may_carry is set, the last window's final ones (same cell, B and sizes). */
static void states(struct job *j, const struct ts_frame *f, int may_carry, const char *stream)
{
	j->carried = may_carry && !ts_frame_find(f, "h0.0");
	int same = carry.have && carry.cell == j->P.cell && carry.L == j->P.L && carry.B == j->B;
	for (int l = 0; same && l < j->P.L; l++)
		same = carry.H[l] == (size_t)j->P.l[l].H;
	if (j->carried && !same)
		eprintf("%s: frame '%s': no tensor 'h0.0', and %s", stream, f->name,
			carry.have ? "the window before it had other sizes"
				   : "no window before it");
	for (int l = 0; l < j->P.L; l++) {
		size_t H = (size_t)j->P.l[l].H;
		int lstm = j->P.cell == NET_LSTM;
		if (j->carried) {
			j->h0[l] = carry.h[l];
			j->c0[l] = lstm ? carry.c[l] : NULL;
			continue;
		}
		j->h0[l] = need(f, "h0", l, 2, j->B, H, 0, stream);
		j->c0[l] = lstm ? need(f, "c0", l, 2, j->B, H, 0, stream) : NULL;
	}
}

/* Keep the final states of j (hT.l, cT.l, in j->A) for the next window. */
static void carry_on(const struct job *j)
{
	const size_t T = (size_t)j->win.T;
	for (int l = 0; l < j->P.L; l++) {
		size_t H = (size_t)j->P.l[l].H, bh = j->B * H;
		if (!carry.have || carry.B * carry.H[l] != bh || carry.L <= l) {
			if (carry.have && carry.L > l)
				free(carry.h[l]), free(carry.c[l]);
			carry.h[l] = emalloc(bh * sizeof(real));
			carry.c[l] = emalloc(bh * sizeof(real));
		}
		carry.H[l] = H;
		memcpy(carry.h[l], j->A.hs[l] + (T - 1) * bh, bh * sizeof(real));
		if (j->A.cs[l])
			memcpy(carry.c[l], j->A.cs[l] + (T - 1) * bh, bh * sizeof(real));
	}
	for (int l = j->P.L; l < carry.L; l++)
		free(carry.h[l]), free(carry.c[l]);
	carry.have = 1;
	carry.cell = j->P.cell;
	carry.L = j->P.L;
	carry.B = j->B;
}

int netstage_model(struct ts_frame *mf, const char *path)
{
	/* A look at the map first, so a default model (mapped by ws_src) is
	 * not also read whole here. */
	struct ts_map m;
	ts_map_open(&m, path, 0);
	int fam = ts_map_find(&m, "params", "arch") != NULL;
	ts_map_close(&m);
	if (!fam)
		return 0;
	struct ts_reader r;
	ts_ropen(&r, path);
	if (!ts_read_frame(&r, mf))
		eprintf("%s: no frame in the file", r.path);
	struct net P;
	if (netmodel_from_frame(&P, mf, r.path)) {
		ts_rclose(&r);
		return 1;
	}
	ts_rclose(&r);
	ts_frame_free(mf);
	return 0;
}

/* Read the model (of mf, or else of f), window and states of f into j; 0
 * if there is no family model. may_carry: as for states(). */
static int job_start(struct job *j, const struct ts_frame *f, const struct ts_frame *mf,
		     int may_carry, const char *stream)
{
	if (mf && (ts_frame_find(f, "arch") || ts_frame_find(f, "Wxh")))
		eprintf("%s: frame '%s' carries parameters, but they come from -m", stream,
			f->name);
	if (mf)
		netmodel_from_frame(&j->P, mf, "-m");	/* checked by netstage_model */
	else if (!netmodel_from_frame(&j->P, f, stream))
		return 0;
	int Hmax = 1;
	for (int l = 0; l < j->P.L; l++)
		Hmax = j->P.l[l].H > Hmax ? j->P.l[l].H : Hmax;
	/* model_window's checks and bounds, for the largest layer (the family
	 * has no "h0"; its states are checked below). */
	struct rnn_params like = { .V = j->P.V, .H = 4 * Hmax };
	model_window(&j->win, f, &like, stream);
	j->B = (size_t)j->win.B;
	j->n = (size_t)j->win.T * j->B;
	states(j, f, may_carry, stream);
	return 1;
}

int netstage_forward(const struct ts_frame *f, const struct ts_frame *mf, const char *stream,
		     struct ts_writer *w)
{
	struct job j;
	if (!job_start(&j, f, mf, 1, stream))
		return 0;
	const size_t T = (size_t)j.win.T, B = j.B, V = (size_t)j.P.V;
	struct ts_tensor out[MAXOUT];
	int k = 0;
	for (int l = 0; l < j.P.L; l++) {
		size_t s[3], H = (size_t)j.P.l[l].H;
		net_acts_sizes(&j.P, l, j.n, s);
		j.A.hs[l] = ecalloc(s[0], sizeof(real));
		j.A.cs[l] = s[1] ? ecalloc(s[1], sizeof(real)) : NULL;
		j.A.gs[l] = s[2] ? ecalloc(s[2], sizeof(real)) : NULL;
		tens(&out[k++], "hs", l, 3, T, B, H, j.A.hs[l]);
		if (j.A.cs[l])
			tens(&out[k++], "cs", l, 3, T, B, H, j.A.cs[l]);
		if (j.A.gs[l])
			tens(&out[k++], "gs", l, 3, T, B, 4 * H, j.A.gs[l]);
	}
	real *ps = ecalloc(emul(j.n, V, "window"), sizeof(real));
	real *loss = ecalloc(B, sizeof(real));
	net_forward_ref(&j.P, j.win.T, j.win.B, j.win.x, j.win.y, j.h0, j.c0, &j.A, ps, loss);
	tens(&out[k++], "ps", -1, 3, T, B, V, ps);
	tens(&out[k++], "loss", -1, 1, B, 0, 0, loss);
	for (int l = 0; l < j.P.L; l++) {
		size_t H = (size_t)j.P.l[l].H;
		tens(&out[k++], "hT", l, 2, B, H, 0, j.A.hs[l] + (T - 1) * B * H);
		if (j.A.cs[l])
			tens(&out[k++], "cT", l, 2, B, H, 0, j.A.cs[l] + (T - 1) * B * H);
	}
	/* Carried states go on: rnn-bwd needs them. */
	for (int l = 0; j.carried && l < j.P.L; l++) {
		tens(&out[k++], "h0", l, 2, B, (size_t)j.P.l[l].H, 0, j.h0[l]);
		if (j.c0[l])
			tens(&out[k++], "c0", l, 2, B, (size_t)j.P.l[l].H, 0, j.c0[l]);
	}
	tsf_write_pass(w, "forward", f, NULL, out, k);
	carry_on(&j);
	for (int l = 0; l < j.P.L; l++)
		free(j.A.hs[l]), free(j.A.cs[l]), free(j.A.gs[l]);
	free(ps), free(loss);
	return 1;
}

/* The activations of f (as netstage_forward wrote them) into j->A and ps. */
static const real *activations(struct job *j, const struct ts_frame *f, const char *stream)
{
	const size_t T = (size_t)j->win.T, B = j->B;
	for (int l = 0; l < j->P.L; l++) {
		size_t H = (size_t)j->P.l[l].H;
		j->A.hs[l] = need(f, "hs", l, 3, T, B, H, stream);
		j->A.cs[l] = j->P.cell == NET_LSTM ? need(f, "cs", l, 3, T, B, H, stream) : NULL;
		j->A.gs[l] = j->P.cell != NET_RNN ? need(f, "gs", l, 3, T, B, 4 * H, stream) : NULL;
	}
	return need(f, "ps", -1, 3, T, B, (size_t)j->P.V, stream);
}

/* The gradient tensors of G (named d + the parameter) into out; returns
 * how many. */
static int grad_tensors(struct ts_tensor *out, const struct net *G)
{
	const size_t g = (size_t)net_gates(G->cell);
	int k = 0;
	for (int l = 0; l < G->L; l++) {
		size_t H = (size_t)G->l[l].H;
		tens(&out[k++], "dWx", l, 2, g * H, (size_t)G->l[l].I, 0, G->l[l].Wx);
		tens(&out[k++], "dWh", l, 2, g * H, H, 0, G->l[l].Wh);
		tens(&out[k++], "db", l, 1, g * H, 0, 0, G->l[l].b);
	}
	tens(&out[k++], "dWhy", -1, 2, (size_t)G->V, (size_t)G->l[G->L - 1].H, 0, G->Why);
	tens(&out[k++], "dby", -1, 1, (size_t)G->V, 0, 0, G->by);
	return k;
}

/* Names rnn-bwd consumes: the window, states and activations. */
static int drop_names(char names[][TS_MAX_NAME + 1], const char **drop, int L)
{
	static const char *const per[5] = { "h0", "c0", "hs", "cs", "gs" };
	int k = 0;
	strcpy(names[k++], "x");
	strcpy(names[k++], "y");
	strcpy(names[k++], "ps");
	for (int l = 0; l < L; l++)
		for (int i = 0; i < 5; i++)
			snprintf(names[k++], TS_MAX_NAME + 1, "%s.%d", per[i], l);
	for (int i = 0; i < k; i++)
		drop[i] = names[i];
	drop[k] = NULL;
	return k;
}

int netstage_backward(const struct ts_frame *f, const struct ts_frame *mf, const char *stream,
		      struct ts_writer *w, real clip)
{
	struct job j;
	if (!job_start(&j, f, mf, 0, stream))
		return 0;
	const real *ps = activations(&j, f, stream);
	int H[NET_MAX_L];
	for (int l = 0; l < j.P.L; l++)
		H[l] = j.P.l[l].H;
	struct net G;
	size_t np = net_nparams(j.P.cell, j.P.L, j.P.V, H);
	real *base = ecalloc(np, sizeof(real));
	net_bind(&G, base, j.P.cell, j.P.L, j.P.V, H);
	real *dh0[NET_MAX_L], *dc0[NET_MAX_L];
	for (int l = 0; l < j.P.L; l++) {
		dh0[l] = ecalloc(j.B * (size_t)H[l], sizeof(real));
		dc0[l] = ecalloc(j.B * (size_t)H[l], sizeof(real));
	}
	void *scratch = emalloc(net_scratch_bytes(&j.P, j.win.T, j.win.B));
	net_backward_ref(&G, dh0, dc0, &j.P, j.win.T, j.win.B, j.win.x, j.win.y, j.h0, j.c0,
			 &j.A, ps, scratch);
	for (size_t i = 0; clip > 0 && i < np; i++)
		base[i] = base[i] > clip ? clip : base[i] < -clip ? -clip : base[i];
	struct ts_tensor out[MAXOUT];
	int k = grad_tensors(out, &G);
	for (int l = 0; l < j.P.L; l++) {
		tens(&out[k++], "dh0", l, 2, j.B, (size_t)H[l], 0, dh0[l]);
		if (j.P.cell == NET_LSTM)
			tens(&out[k++], "dc0", l, 2, j.B, (size_t)H[l], 0, dc0[l]);
	}
	char names[3 + 5 * NET_MAX_L][TS_MAX_NAME + 1];
	const char *drop[4 + 5 * NET_MAX_L];
	drop_names(names, drop, j.P.L);
	tsf_write_pass(w, "grads", f, drop, out, k);
	for (int l = 0; l < j.P.L; l++)
		free(dh0[l]), free(dc0[l]);
	free(base), free(scratch);
	return 1;
}
