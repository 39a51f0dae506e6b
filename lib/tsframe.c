/* tsframe.c: see tsframe.h. */
#include "tsframe.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "rnn.h"	/* TS_REAL */
#include "tsmap.h"

/* The one wording of a missing tensor. */
static __attribute__((noreturn)) void no_tensor(const char *stream, const char *frame, const char *name)
{
	eprintf("%s: frame '%s': no tensor '%s'", stream, frame, name);
}

struct ts_tensor *tsf_need(const struct ts_frame *f, const char *name, const char *stream)
{
	struct ts_tensor *t = ts_frame_find(f, name);
	if (!t)
		no_tensor(stream, f->name, name);
	return t;
}

struct ts_tensor *tsf_map_need(const struct ts_map *m, const char *frame, const char *name)
{
	struct ts_tensor *t = ts_map_find(m, frame, name);
	if (!t)
		no_tensor(m->path, frame, name);
	return t;
}

/* A float build handed f64 (or the reverse) is told which build it is,
 * since that is the likely mistake. */
void tsf_expect_dtype(const struct ts_tensor *t, int dtype, const char *stream)
{
	if (t->dtype == dtype)
		return;
	const char *got = ts_dtype_name(t->dtype), *want = ts_dtype_name(dtype);
	if (dtype == TS_REAL && (t->dtype == TS_F32 || t->dtype == TS_F64))
		eprintf("%s: tensor '%s' is %s, but this build computes in %s",
			stream, t->name, got, want);
	eprintf("%s: tensor '%s' is %s, expected %s", stream, t->name, got ? got : "?", want);
}

void tsf_expect(const struct ts_tensor *t, int dtype, int rank, const uint64_t *dims,
		const char *stream)
{
	tsf_expect_dtype(t, dtype, stream);
	int same = t->rank == rank;
	for (int i = 0; same && i < rank; i++)
		same = t->dims[i] == dims[i];
	if (!same) {
		char got[TS_SHAPE_BUF], want[TS_SHAPE_BUF];
		eprintf("%s: tensor '%s' has shape %s, expected %s", stream, t->name,
			ts_shape_fmt(got, t->rank, t->dims, 0),
			ts_shape_fmt(want, rank, dims, 0));
	}
}

struct ts_tensor *tsf_need_shaped(const struct ts_frame *f, const char *name, int dtype,
				  int rank, const uint64_t *dims, const char *stream)
{
	struct ts_tensor *t = tsf_need(f, name, stream);
	tsf_expect(t, dtype, rank, dims, stream);
	return t;
}

void tsf_expect_finite(const struct ts_tensor *t, const char *stream)
{
	tsf_expect_dtype(t, TS_REAL, stream);
	const real *a = t->data;
	for (uint64_t k = 0; k < t->count; k++)
		if (!isfinite(a[k]))
			eprintf("%s: tensor '%s': element %llu is %s, not a finite number", stream,
				t->name, (unsigned long long)k,
				isnan(a[k]) ? "nan" : a[k] > 0 ? "inf" : "-inf");
}

/* The scalar name of f, of dtype, or die; t is never NULL when it returns. */
static const struct ts_tensor *scalar(const struct ts_frame *f, const char *name,
				      int dtype, const char *stream)
{
	const struct ts_tensor *t = tsf_need(f, name, stream);
	if (t->dtype != dtype || t->rank != 0)
		eprintf("%s: frame '%s': tensor '%s' must be an %s scalar", stream, f->name,
			name, ts_dtype_name(dtype));
	return t;
}

int64_t tsf_i64(const struct ts_frame *f, const char *name, const char *stream)
{
	int64_t v;
	memcpy(&v, scalar(f, name, TS_I64, stream)->data, sizeof v);
	return v;
}

double tsf_f64(const struct ts_frame *f, const char *name, const char *stream)
{
	double v;
	memcpy(&v, scalar(f, name, TS_F64, stream)->data, sizeof v);
	return v;
}

int tsf_opt_i64(const struct ts_frame *f, const char *name, const char *stream, int64_t *v)
{
	if (!ts_frame_find(f, name))
		return 0;
	*v = tsf_i64(f, name, stream);
	return 1;
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

/* The tensors of the frame tsf_write_pass writes: f's, replaced or dropped,
 * then the out tensors that took no place; write them if w is not NULL.
 * Returns how many. An input name seen twice keeps only its first place
 * (programs use the first). */
static uint32_t pass(struct ts_writer *w, const struct ts_frame *f, const char *const *drop,
		     const struct ts_tensor *out, int nout)
{
	unsigned char placed[TS_MAX_COUNT] = { 0 };	/* out[k] took a place */
	uint32_t count = 0;
	for (uint32_t i = 0; i < f->n; i++) {
		int k = out_index(f->t[i].name, out, nout);
		const struct ts_tensor *t = k >= 0 && !placed[k] ? &out[k] :
					    k < 0 && !listed(f->t[i].name, drop) ? &f->t[i] : NULL;
		if (k >= 0)
			placed[k] = 1;
		if (t && w)
			ts_write_copy(w, t);
		count += t != NULL;
	}
	for (int k = 0; k < nout; k++) {
		if (!placed[k] && w)
			ts_write_copy(w, &out[k]);
		count += !placed[k];
	}
	return count;
}

void tsf_write_pass(struct ts_writer *w, const char *name, const struct ts_frame *f,
		    const char *const *drop, const struct ts_tensor *out, int nout)
{
	if (nout < 0 || nout > TS_MAX_COUNT)
		eprintf("internal error: %d tensors to write", nout);
	uint32_t count = pass(NULL, f, drop, out, nout);
	if (count > TS_MAX_COUNT)
		eprintf("%s: frame '%s' would have %u tensors (limit %d)", w->path, name,
			count, TS_MAX_COUNT);
	ts_write_frame(w, name, count);
	pass(w, f, drop, out, nout);
}
