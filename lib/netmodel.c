/* netmodel.c: see netmodel.h and formats/model.md.
 *
 * Legend: V vocab, L layers, H, I, G a layer's hidden size, input size,
 * gates. */
#include "netmodel.h"

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "model.h"
#include "tsframe.h"

int netmodel_ntensors(const struct net *P, const char *prefix)
{
	return (prefix[0] == 0) + 3 * P->L + 2;
}

const char *netmodel_name(char *buf, const char *prefix, int k, int l)
{
	static const char *const base[3] = { "Wx", "Wh", "b" };
	snprintf(buf, TS_MAX_NAME + 1, "%s%s.%d", prefix, base[k], l);
	return buf;
}

int netmodel_cell(const char *name)
{
	for (int c = 0; c < NET_NCELLS; c++)
		if (strcmp(name, net_cell_names[c]) == 0)
			return c;
	return -1;
}

void netmodel_write(struct ts_writer *w, const struct net *P, const char *prefix)
{
	int32_t arch[1 + NET_MAX_L];
	char name[TS_MAX_NAME + 1];
	uint64_t d = (uint64_t)P->L + 1;
	arch[0] = P->cell;
	for (int l = 0; l < P->L; l++)
		arch[1 + l] = P->l[l].H;
	if (prefix[0] == 0)
		ts_write_tensor(w, "arch", TS_I32, 1, &d, arch);
	const uint64_t g = (uint64_t)net_gates(P->cell);
	for (int l = 0; l < P->L; l++) {
		const struct net_layer *y = &P->l[l];
		const uint64_t h = (uint64_t)y->H, gh = g * h;
		const uint64_t dx[2] = { gh, (uint64_t)y->I }, dh[2] = { gh, h };
		ts_write_tensor(w, netmodel_name(name, prefix, 0, l), TS_REAL, 2, dx, y->Wx);
		ts_write_tensor(w, netmodel_name(name, prefix, 1, l), TS_REAL, 2, dh, y->Wh);
		ts_write_tensor(w, netmodel_name(name, prefix, 2, l), TS_REAL, 1, &gh, y->b);
	}
	const uint64_t v = (uint64_t)P->V, dy[2] = { v, (uint64_t)P->l[P->L - 1].H };
	snprintf(name, sizeof name, "%sWhy", prefix);
	ts_write_tensor(w, name, TS_REAL, 2, dy, P->Why);
	snprintf(name, sizeof name, "%sby", prefix);
	ts_write_tensor(w, name, TS_REAL, 1, &v, P->by);
}

/* Check the record arch (i32 (1+L)) and set P's cell, L and sizes. */
static void read_arch(struct net *P, const struct ts_tensor *t, int V, const char *stream)
{
	tsf_expect_dtype(t, TS_I32, stream);
	if (t->rank != 1 || t->dims[0] < 2 || t->dims[0] > 1 + NET_MAX_L)
		eprintf("%s: tensor 'arch' must be i32 (1+L) with 1 <= L <= %d", stream,
			NET_MAX_L);
	const int32_t *a = t->data;
	if (a[0] < 0 || a[0] >= NET_NCELLS)
		eprintf("%s: tensor 'arch': cell %ld unknown (0 rnn, 1 lstm, 2 gru)", stream,
			(long)a[0]);
	P->cell = a[0];
	P->L = (int)t->dims[0] - 1;
	P->V = V;
	for (int l = 0; l < P->L; l++) {
		if (a[1 + l] < 1 || a[1 + l] > MODEL_MAX_H)
			eprintf("%s: tensor 'arch': layer %d: hidden size %ld out of range "
				"[1, %d]", stream, l, (long)a[1 + l], MODEL_MAX_H);
		P->l[l].H = a[1 + l];
		P->l[l].I = l ? P->l[l - 1].H : V;
	}
}

/* The data of tensor name of f, which must be real of shape (d0) or (d0,d1). */
static real *need(const struct ts_frame *f, const char *name, int rank, uint64_t d0,
		  uint64_t d1, const char *stream)
{
	const uint64_t d[2] = { d0, d1 };
	return tsf_need_shaped(f, name, TS_REAL, rank, d, stream)->data;
}

int netmodel_from_frame(struct net *P, const struct ts_frame *f, const char *stream)
{
	const struct ts_tensor *arch = ts_frame_find(f, "arch");
	if (!arch)
		return 0;
	const struct ts_tensor *by = tsf_need(f, "by", stream);
	tsf_expect_dtype(by, TS_REAL, stream);
	if (by->rank != 1 || by->dims[0] < 1 || by->dims[0] > MODEL_MAX_V)
		eprintf("%s: tensor 'by' must be (V) with 1 <= V <= %d", stream, MODEL_MAX_V);
	read_arch(P, arch, (int)by->dims[0], stream);
	char name[TS_MAX_NAME + 1];
	const uint64_t G = (uint64_t)net_gates(P->cell), V = (uint64_t)P->V;
	for (int l = 0; l < P->L; l++) {
		struct net_layer *y = &P->l[l];
		const uint64_t gh = G * (uint64_t)y->H;
		y->Wx = need(f, netmodel_name(name, "", 0, l), 2, gh, (uint64_t)y->I, stream);
		y->Wh = need(f, netmodel_name(name, "", 1, l), 2, gh, (uint64_t)y->H, stream);
		y->b = need(f, netmodel_name(name, "", 2, l), 1, gh, 0, stream);
	}
	P->Why = need(f, "Why", 2, V, (uint64_t)P->l[P->L - 1].H, stream);
	P->by = by->data;
	return 1;
}

void netmodel_check_finite(const struct ts_frame *f, const char *stream)
{
	for (uint32_t i = 0; i < f->n; i++)
		if (f->t[i].dtype == TS_REAL)
			tsf_expect_finite(&f->t[i], stream);
}
