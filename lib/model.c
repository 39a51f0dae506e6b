/* model.c: see model.h and formats/model.md.
 *
 * Legend: V vocab, H hidden, T steps, B batch. Every tensor a stage reads is
 * checked here (name, dtype, shape, index range) before a kernel sees it, so
 * the kernels in rnn.c can trust their sizes. */
#include "model.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "tsframe.h"

/* Tensor data is used in place, as the little-endian bytes of the stream. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "charnn needs a little-endian machine"
#endif

const char *const model_names[MODEL_NTENSORS] = { "Wxh", "Whh", "Why", "bh", "by" };

/* The shapes of the five tensors of a model of sizes V and H. */
static void shapes(uint64_t dims[MODEL_NTENSORS][2], int rank[MODEL_NTENSORS], int V, int H)
{
	const uint64_t h = (uint64_t)H, v = (uint64_t)V;
	const uint64_t d[MODEL_NTENSORS][2] = { { h, v }, { h, h }, { v, h }, { h }, { v } };
	const int r[MODEL_NTENSORS] = { 2, 2, 2, 1, 1 };
	memcpy(dims, d, sizeof d);
	memcpy(rank, r, sizeof r);
}

/* 1 if t has the shape rank/dims. */
static int has_shape(const struct ts_tensor *t, int rank, const uint64_t *dims)
{
	int same = t->rank == rank;
	for (int i = 0; same && i < rank; i++)
		same = t->dims[i] == dims[i];
	return same;
}

/* Check the five tensors t (Wxh Whh Why bh by, all present) as one model and
 * point P at their data. Wxh (H,V) fixes the sizes the others must have. */
static void bind(struct rnn_params *P, struct ts_tensor *const t[MODEL_NTENSORS],
		 const char *stream)
{
	const struct ts_tensor *w = t[0];
	char got[TS_SHAPE_BUF];
	tsf_expect_dtype(w, TS_REAL, stream);
	if (w->rank != 2)
		eprintf("%s: tensor '%s' has shape %s, expected (H,V)", stream, w->name,
			ts_shape_fmt(got, w->rank, w->dims, 0));
	if (w->dims[0] < 1 || w->dims[0] > MODEL_MAX_H)
		eprintf("%s: tensor '%s': hidden size %llu out of range [1, %d]", stream,
			w->name, (unsigned long long)w->dims[0], MODEL_MAX_H);
	if (w->dims[1] < 1 || w->dims[1] > MODEL_MAX_V)
		eprintf("%s: tensor '%s': vocabulary size %llu out of range [1, %d]", stream,
			w->name, (unsigned long long)w->dims[1], MODEL_MAX_V);
	uint64_t dims[MODEL_NTENSORS][2];
	int rank[MODEL_NTENSORS];
	shapes(dims, rank, (int)w->dims[1], (int)w->dims[0]);
	for (int i = 1; i < MODEL_NTENSORS; i++)
		tsf_expect(t[i], TS_REAL, rank[i], dims[i], stream);
	P->V = (int)w->dims[1];
	P->H = (int)w->dims[0];
	P->Wxh = t[0]->data;
	P->Whh = t[1]->data;
	P->Why = t[2]->data;
	P->bh = t[3]->data;
	P->by = t[4]->data;
}

/* Tensors meant to fit parameters like, of which only the first (prefix+Wxh,
 * which fixes the sizes in bind) is off: name it, not the next one. */
static void blame_first(struct ts_tensor *const t[MODEL_NTENSORS],
			const struct rnn_params *like, const char *stream)
{
	uint64_t dims[MODEL_NTENSORS][2];
	int rank[MODEL_NTENSORS];
	shapes(dims, rank, like->V, like->H);
	if (has_shape(t[0], rank[0], dims[0]))
		return;
	for (int i = 1; i < MODEL_NTENSORS; i++)
		if (!has_shape(t[i], rank[i], dims[i]))
			return;
	tsf_expect(t[0], TS_REAL, rank[0], dims[0], stream);
}

/* Shared by model_from_frame and model_from_map: t holds what was found. */
static int bind_found(struct rnn_params *P, struct ts_tensor *const t[MODEL_NTENSORS],
		      const char *prefix, const char *frame, const struct rnn_params *like,
		      const char *stream)
{
	int found = 0, missing = -1;
	for (int i = 0; i < MODEL_NTENSORS; i++) {
		if (t[i])
			found++;
		else if (missing < 0)
			missing = i;
	}
	if (found == 0)
		return 0;
	if (missing >= 0)
		eprintf("%s: frame '%s': no tensor '%s%s'", stream, frame, prefix,
			model_names[missing]);
	if (like)
		blame_first(t, like, stream);
	bind(P, t, stream);
	return 1;
}

/* prefix+name of parameter i, in buf of TS_MAX_NAME+1 bytes. */
static const char *param_name(char *buf, const char *prefix, int i)
{
	snprintf(buf, TS_MAX_NAME + 1, "%s%s", prefix, model_names[i]);
	return buf;
}

int model_like_frame(struct rnn_params *P, const struct ts_frame *f, const char *prefix,
		     const struct rnn_params *like, const char *stream)
{
	struct ts_tensor *t[MODEL_NTENSORS];
	char name[TS_MAX_NAME + 1];
	for (int i = 0; i < MODEL_NTENSORS; i++)
		t[i] = ts_frame_find(f, param_name(name, prefix, i));
	return bind_found(P, t, prefix, f->name, like, stream);
}

int model_like_map(struct rnn_params *P, const struct ts_map *m, const char *frame,
		   const char *prefix, const struct rnn_params *like)
{
	struct ts_tensor *t[MODEL_NTENSORS];
	char name[TS_MAX_NAME + 1];
	for (int i = 0; i < MODEL_NTENSORS; i++)
		t[i] = ts_map_find(m, frame, param_name(name, prefix, i));
	return bind_found(P, t, prefix, frame, like, m->path);
}

int model_from_frame(struct rnn_params *P, const struct ts_frame *f,
		     const char *prefix, const char *stream)
{
	return model_like_frame(P, f, prefix, NULL, stream);
}

int model_from_map(struct rnn_params *P, const struct ts_map *m,
		   const char *frame, const char *prefix)
{
	return model_like_map(P, m, frame, prefix, NULL);
}

void model_check_same(const struct rnn_params *A, const struct rnn_params *B,
		      const char *stream, const char *what)
{
	if (A->V != B->V || A->H != B->H)
		eprintf("%s: %s: V %d, H %d, but the parameters have V %d, H %d",
			stream, what, B->V, B->H, A->V, A->H);
}

void model_tensors(struct ts_tensor out[MODEL_NTENSORS], const struct rnn_params *P,
		   const char *prefix)
{
	uint64_t dims[MODEL_NTENSORS][2];
	int rank[MODEL_NTENSORS];
	shapes(dims, rank, P->V, P->H);
	real *const data[MODEL_NTENSORS] = { P->Wxh, P->Whh, P->Why, P->bh, P->by };
	for (int i = 0; i < MODEL_NTENSORS; i++) {
		struct ts_tensor *t = &out[i];
		memset(t, 0, sizeof *t);
		param_name(t->name, prefix, i);
		t->dtype = TS_REAL;
		t->rank = rank[i];
		memcpy(t->dims, dims[i], sizeof dims[i]);
		t->count = dims[i][0] * (rank[i] == 2 ? dims[i][1] : 1);
		t->nbytes = t->count * sizeof(real);
		t->data = data[i];
	}
}

void model_write(struct ts_writer *w, const struct rnn_params *P, const char *prefix)
{
	struct ts_tensor t[MODEL_NTENSORS];
	model_tensors(t, P, prefix);
	for (int i = 0; i < MODEL_NTENSORS; i++)
		ts_write_copy(w, &t[i]);
}

/* One block for all five, in the order of rnn_nparams, so P->Wxh frees it. */
void model_alloc(struct rnn_params *P, int V, int H)
{
	if (V < 1 || V > MODEL_MAX_V || H < 1 || H > MODEL_MAX_H)
		eprintf("internal error: model of V %d, H %d", V, H);
	rnn_params_bind(P, ecalloc(rnn_nparams(V, H), sizeof(real)), V, H);
}

void model_free(struct rnn_params *P)
{
	free(P->Wxh);
	memset(P, 0, sizeof *P);
}

/* x or y: i32 (T,B) with every entry a vocabulary index. */
static const int32_t *indices(const struct ts_frame *f, const char *name,
			      const uint64_t dims[2], int V, const char *stream)
{
	const struct ts_tensor *t = tsf_need(f, name, stream);
	tsf_expect(t, TS_I32, 2, dims, stream);
	const int32_t *p = t->data;
	for (uint64_t i = 0; i < t->count; i++)
		if (p[i] < 0 || p[i] >= V)
			eprintf("%s: tensor '%s' index %ld out of range [0, %d)", stream, name,
				(long)p[i], V);
	return p;
}

void model_window(struct model_window *win, const struct ts_frame *f,
		  const struct rnn_params *P, const char *stream)
{
	const struct ts_tensor *x = tsf_need(f, "x", stream);
	char got[TS_SHAPE_BUF];
	tsf_expect_dtype(x, TS_I32, stream);
	if (x->rank != 2)
		eprintf("%s: tensor 'x' has shape %s, expected (T,B)", stream,
			ts_shape_fmt(got, x->rank, x->dims, 0));
	/* The kernels index in int and size_t: bound T and B so that neither
	 * (T,B,V) nor (T,B,H) can overflow either. */
	uint64_t T = x->dims[0], B = x->dims[1];
	if (T < 1 || B < 1)
		eprintf("%s: tensor 'x' has shape %s: an empty window", stream,
			ts_shape_fmt(got, x->rank, x->dims, 0));
	uint64_t most = (uint64_t)(P->V > P->H ? P->V : P->H);
	if (T > INT_MAX / most || B > INT_MAX / most / T)
		eprintf("%s: tensor 'x' has shape %s: window too large for V %d, H %d",
			stream, ts_shape_fmt(got, x->rank, x->dims, 0), P->V, P->H);
	win->T = (int)T;
	win->B = (int)B;
	win->x = indices(f, "x", x->dims, P->V, stream);
	win->y = indices(f, "y", x->dims, P->V, stream);
	const uint64_t hd[2] = { B, (uint64_t)P->H };
	const struct ts_tensor *h0 = ts_frame_find(f, "h0");
	win->h0 = NULL;
	if (h0) {
		tsf_expect(h0, TS_REAL, 2, hd, stream);
		win->h0 = h0->data;
	}
}

void model_check_finite(const struct rnn_params *P, const char *stream)
{
	struct ts_tensor t[MODEL_NTENSORS];
	model_tensors(t, P, "");
	for (int i = 0; i < MODEL_NTENSORS; i++)
		tsf_expect_finite(&t[i], stream);
}
