/* model.c: see model.h and formats/model.md.
 *
 * Legend: V vocab, H hidden, T steps, B batch. Every tensor a stage reads is
 * checked here (name, dtype, shape, index range) before a kernel sees it, so
 * the kernels in rnn.c can trust their sizes. */
#include "model.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

/* Tensor data is used in place, as the little-endian bytes of the stream. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "charnn needs a little-endian machine"
#endif

const char *const model_names[MODEL_NTENSORS] = { "Wxh", "Whh", "Why", "bh", "by" };

/* "(3,4)" for a shape, in buf. */
static const char *shape_str(char *buf, size_t n, int rank, const uint64_t *dims)
{
	size_t len = (size_t)snprintf(buf, n, "(");
	for (int i = 0; i < rank && len < n; i++)
		len += (size_t)snprintf(buf + len, n - len, "%s%llu", i ? "," : "",
					(unsigned long long)dims[i]);
	if (len < n)
		snprintf(buf + len, n - len, ")");
	return buf;
}

struct ts_tensor *model_need(const struct ts_frame *f, const char *name,
			     const char *stream)
{
	struct ts_tensor *t = ts_frame_find(f, name);
	if (!t)
		eprintf("%s: frame '%s': no tensor '%s'", stream, f->name, name);
	return t;
}

/* Die unless t has dtype; a float build handed f64 (or the reverse) is told
 * which build it is, since that is the likely mistake. */
static void expect_dtype(const struct ts_tensor *t, int dtype, const char *stream)
{
	if (t->dtype == dtype)
		return;
	if (dtype == TS_REAL && (t->dtype == TS_F32 || t->dtype == TS_F64))
		eprintf("%s: tensor '%s' is %s, but this build computes in %s",
			stream, t->name, ts_dtype_name(t->dtype), ts_dtype_name(dtype));
	eprintf("%s: tensor '%s' is %s, expected %s", stream, t->name,
		ts_dtype_name(t->dtype), ts_dtype_name(dtype));
}

void model_expect(const struct ts_tensor *t, int dtype, int rank,
		  const uint64_t *dims, const char *stream)
{
	expect_dtype(t, dtype, stream);
	int same = t->rank == rank;
	for (int i = 0; same && i < rank; i++)
		same = t->dims[i] == dims[i];
	if (!same) {
		char got[TS_MAX_RANK * 21 + 3], want[TS_MAX_RANK * 21 + 3];
		eprintf("%s: tensor '%s' has shape %s, expected %s", stream, t->name,
			shape_str(got, sizeof got, t->rank, t->dims),
			shape_str(want, sizeof want, rank, dims));
	}
}

/* Check the five tensors t (Wxh Whh Why bh by, all present) as one model and
 * point P at their data. Wxh (H,V) fixes the sizes the others must have. */
static void bind(struct rnn_params *P, struct ts_tensor *const t[MODEL_NTENSORS],
		 const char *stream)
{
	const struct ts_tensor *w = t[0];
	char got[TS_MAX_RANK * 21 + 3];
	expect_dtype(w, TS_REAL, stream);
	if (w->rank != 2)
		eprintf("%s: tensor '%s' has shape %s, expected (H,V)", stream, w->name,
			shape_str(got, sizeof got, w->rank, w->dims));
	if (w->dims[0] < 1 || w->dims[0] > MODEL_MAX_H)
		eprintf("%s: tensor '%s': hidden size %llu out of range [1, %d]", stream,
			w->name, (unsigned long long)w->dims[0], MODEL_MAX_H);
	if (w->dims[1] < 1 || w->dims[1] > MODEL_MAX_V)
		eprintf("%s: tensor '%s': vocabulary size %llu out of range [1, %d]", stream,
			w->name, (unsigned long long)w->dims[1], MODEL_MAX_V);
	uint64_t H = w->dims[0], V = w->dims[1];
	const uint64_t dims[MODEL_NTENSORS][2] = { { H, V }, { H, H }, { V, H }, { H }, { V } };
	const int rank[MODEL_NTENSORS] = { 2, 2, 2, 1, 1 };
	for (int i = 1; i < MODEL_NTENSORS; i++)
		model_expect(t[i], TS_REAL, rank[i], dims[i], stream);
	P->V = (int)V;
	P->H = (int)H;
	P->Wxh = t[0]->data;
	P->Whh = t[1]->data;
	P->Why = t[2]->data;
	P->bh = t[3]->data;
	P->by = t[4]->data;
}

/* Shared by model_from_frame and model_from_map: t holds what was found. */
static int bind_found(struct rnn_params *P, struct ts_tensor *const t[MODEL_NTENSORS],
		      const char *prefix, const char *frame, const char *stream)
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
	bind(P, t, stream);
	return 1;
}

/* prefix+name of parameter i, in buf of TS_MAX_NAME+1 bytes. */
static const char *param_name(char *buf, const char *prefix, int i)
{
	snprintf(buf, TS_MAX_NAME + 1, "%s%s", prefix, model_names[i]);
	return buf;
}

int model_from_frame(struct rnn_params *P, const struct ts_frame *f,
		     const char *prefix, const char *stream)
{
	struct ts_tensor *t[MODEL_NTENSORS];
	char name[TS_MAX_NAME + 1];
	for (int i = 0; i < MODEL_NTENSORS; i++)
		t[i] = ts_frame_find(f, param_name(name, prefix, i));
	return bind_found(P, t, prefix, f->name, stream);
}

int model_from_map(struct rnn_params *P, const struct ts_map *m,
		   const char *frame, const char *prefix)
{
	struct ts_tensor *t[MODEL_NTENSORS];
	char name[TS_MAX_NAME + 1];
	for (int i = 0; i < MODEL_NTENSORS; i++)
		t[i] = ts_map_find(m, frame, param_name(name, prefix, i));
	return bind_found(P, t, prefix, frame, m->path);
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
	const uint64_t H = (uint64_t)P->H, V = (uint64_t)P->V;
	const uint64_t dims[MODEL_NTENSORS][2] = { { H, V }, { H, H }, { V, H }, { H }, { V } };
	const int rank[MODEL_NTENSORS] = { 2, 2, 2, 1, 1 };
	real *const data[MODEL_NTENSORS] = { P->Wxh, P->Whh, P->Why, P->bh, P->by };
	for (int i = 0; i < MODEL_NTENSORS; i++) {
		struct ts_tensor *t = &out[i];
		memset(t, 0, sizeof *t);
		param_name(t->name, prefix, i);
		t->dtype = TS_REAL;
		t->rank = rank[i];
		memcpy(t->dims, dims[i], sizeof dims[i]);
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
	size_t h = (size_t)H, v = (size_t)V;
	real *p = ecalloc(rnn_nparams(V, H), sizeof *p);
	P->V = V;
	P->H = H;
	P->Wxh = p;
	P->Whh = P->Wxh + h * v;
	P->Why = P->Whh + h * h;
	P->bh = P->Why + v * h;
	P->by = P->bh + h;
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
	const struct ts_tensor *t = model_need(f, name, stream);
	model_expect(t, TS_I32, 2, dims, stream);
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
	const struct ts_tensor *x = model_need(f, "x", stream);
	char got[TS_MAX_RANK * 21 + 3];
	expect_dtype(x, TS_I32, stream);
	if (x->rank != 2)
		eprintf("%s: tensor 'x' has shape %s, expected (T,B)", stream,
			shape_str(got, sizeof got, x->rank, x->dims));
	/* The kernels index in int and size_t: bound T and B so that neither
	 * (T,B,V) nor (T,B,H) can overflow either. */
	uint64_t T = x->dims[0], B = x->dims[1];
	if (T < 1 || B < 1)
		eprintf("%s: tensor 'x' has shape %s: an empty window", stream,
			shape_str(got, sizeof got, x->rank, x->dims));
	uint64_t most = (uint64_t)(P->V > P->H ? P->V : P->H);
	if (T > INT_MAX / most || B > INT_MAX / most / T)
		eprintf("%s: tensor 'x' has shape %s: window too large for V %d, H %d",
			stream, shape_str(got, sizeof got, x->rank, x->dims), P->V, P->H);
	win->T = (int)T;
	win->B = (int)B;
	win->x = indices(f, "x", x->dims, P->V, stream);
	win->y = indices(f, "y", x->dims, P->V, stream);
	const uint64_t hd[2] = { B, (uint64_t)P->H };
	const struct ts_tensor *h0 = ts_frame_find(f, "h0");
	win->h0 = NULL;
	if (h0) {
		model_expect(h0, TS_REAL, 2, hd, stream);
		win->h0 = h0->data;
	}
}

void model_src_map(struct model_src *s)
{
	if (!s->path || s->map.base)
		return;
	ts_map_open(&s->map, s->path, s->writable);
	if (!model_from_map(&s->P, &s->map, "params", ""))
		eprintf("%s: frame 'params': no tensor 'Wxh'", s->path);
}

void model_src_params(struct model_src *s, struct rnn_params *P,
		      const struct ts_frame *f, const char *stream)
{
	if (!s->path) {
		if (!model_from_frame(P, f, "", stream))
			eprintf("%s: frame '%s': no tensor 'Wxh'", stream, f->name);
		return;
	}
	/* Two sources of parameters would leave one of them silently unused. */
	for (int i = 0; i < MODEL_NTENSORS; i++)
		if (ts_frame_find(f, model_names[i]))
			eprintf("%s: frame '%s' carries tensor '%s', but the parameters come from %s",
				stream, f->name, model_names[i], s->path);
	model_src_map(s);
	*P = s->P;
}

real *model_src_scratch(const struct model_src *s, const char *frame,
			const char *name, int rank, const uint64_t *dims)
{
	if (!s->path || !s->writable || !s->map.base)
		return NULL;
	struct ts_tensor *t = ts_map_find(&s->map, frame, name);
	if (!t || t->dtype != TS_REAL || t->rank != rank)
		return NULL;
	for (int i = 0; i < rank; i++)
		if (t->dims[i] != dims[i])
			return NULL;
	return t->data;
}

int64_t *model_src_step(const struct model_src *s)
{
	if (!s->path || !s->map.base)
		return NULL;
	struct ts_tensor *t = ts_map_find(&s->map, "adagrad", "step");
	if (t && (t->dtype != TS_I64 || t->count != 1))
		eprintf("%s: frame 'adagrad': tensor 'step' must be an i64 scalar", s->path);
	return t ? t->data : NULL;
}

int model_step(const struct ts_frame *f, const char *stream, int64_t *n)
{
	const struct ts_tensor *t = ts_frame_find(f, "step");
	if (!t)
		return 0;
	if (t->dtype != TS_I64 || t->count != 1)
		eprintf("%s: frame '%s': tensor 'step' must be an i64 scalar", stream, f->name);
	*n = *(const int64_t *)t->data;
	return 1;
}

void model_src_close(struct model_src *s)
{
	if (s->map.base)
		ts_map_close(&s->map);
}

/* 1 if name is in the NULL-terminated list (NULL: empty). */
static int listed(const char *name, const char *const *list)
{
	for (; list && *list; list++)
		if (strcmp(name, *list) == 0)
			return 1;
	return 0;
}

/* The index of the out tensor called name, or -1. */
static int out_index(const char *name, const struct ts_tensor *out, int nout)
{
	for (int i = 0; i < nout; i++)
		if (strcmp(name, out[i].name) == 0)
			return i;
	return -1;
}

void model_write_pass(struct ts_writer *w, const char *name, const struct ts_frame *f,
		      const char *const *drop, const struct ts_tensor *out, int nout)
{
	/* placed[i]: out[i] has taken an input tensor's place. An input name
	 * seen twice keeps only its first place (programs use the first). */
	unsigned char placed[TS_MAX_COUNT] = { 0 };
	uint32_t count = 0;
	if (nout < 0 || nout > TS_MAX_COUNT)
		eprintf("internal error: %d tensors to write", nout);
	for (uint32_t i = 0; i < f->n; i++) {
		int k = out_index(f->t[i].name, out, nout);
		if (k >= 0 && !placed[k]) {
			placed[k] = 1;
			count++;
		} else if (k < 0 && !listed(f->t[i].name, drop)) {
			count++;
		}
	}
	for (int k = 0; k < nout; k++)
		count += !placed[k];
	if (count > TS_MAX_COUNT)
		eprintf("%s: frame '%s' would have %u tensors (limit %d)", w->path, name,
			count, TS_MAX_COUNT);
	ts_write_frame(w, name, count);
	memset(placed, 0, sizeof placed);
	for (uint32_t i = 0; i < f->n; i++) {
		int k = out_index(f->t[i].name, out, nout);
		if (k >= 0 && !placed[k]) {
			placed[k] = 1;
			ts_write_copy(w, &out[k]);
		} else if (k < 0 && !listed(f->t[i].name, drop)) {
			ts_write_copy(w, &f->t[i]);
		}
	}
	for (int k = 0; k < nout; k++)
		if (!placed[k])
			ts_write_copy(w, &out[k]);
}

void model_check_finite(const struct rnn_params *P, const char *stream)
{
	struct ts_tensor t[MODEL_NTENSORS];
	model_tensors(t, P, "");
	for (int i = 0; i < MODEL_NTENSORS; i++) {
		const real *a = t[i].data;
		size_t n = (size_t)t[i].dims[0] * (t[i].rank == 2 ? (size_t)t[i].dims[1] : 1);
		for (size_t k = 0; k < n; k++)
			if (!isfinite(a[k]))
				eprintf("%s: tensor '%s': element %zu is %s, not a finite number",
					stream, t[i].name, k,
					isnan(a[k]) ? "nan" : a[k] > 0 ? "inf" : "-inf");
	}
}
