/* params.c: see params.h.
 *
 * Legend: V vocab, L layers, H a layer's hidden size, G its gates, B
 * sequences side by side. */
#include "params.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "model.h"
#include "netmodel.h"
#include "tsframe.h"

/* Fill t as a real tensor name of shape (d0) or (d0,d1) over data. */
static void tens(struct ts_tensor *t, const char *name, int rank, uint64_t d0, uint64_t d1,
		 real *data)
{
	memset(t, 0, sizeof *t);
	snprintf(t->name, sizeof t->name, "%.*s", TS_MAX_NAME, name);
	t->dtype = TS_REAL;
	t->rank = rank;
	t->dims[0] = d0;
	t->dims[1] = d1;
	t->count = rank == 1 ? d0 : d0 * d1;
	t->nbytes = t->count * sizeof(real);
	t->data = data;
}

/* m->t from m->P or m->N, in the order of formats/model.md. */
static void list(struct params *m)
{
	if (!m->fam) {
		model_tensors(m->t, &m->P, "");
		m->n = MODEL_NTENSORS;
		return;
	}
	const struct net *N = &m->N;
	const uint64_t G = (uint64_t)net_gates(N->cell);
	char name[TS_MAX_NAME + 1];
	int k = 0;
	for (int l = 0; l < N->L; l++) {
		const struct net_layer *y = &N->l[l];
		const uint64_t gh = G * (uint64_t)y->H;
		tens(&m->t[k++], netmodel_name(name, "", 0, l), 2, gh, (uint64_t)y->I, y->Wx);
		tens(&m->t[k++], netmodel_name(name, "", 1, l), 2, gh, (uint64_t)y->H, y->Wh);
		tens(&m->t[k++], netmodel_name(name, "", 2, l), 1, gh, 0, y->b);
	}
	tens(&m->t[k++], "Why", 2, (uint64_t)N->V, (uint64_t)N->l[N->L - 1].H, N->Why);
	tens(&m->t[k++], "by", 1, (uint64_t)N->V, 0, N->by);
	m->n = k;
}

/* m->P or m->N pointed at the data of m->t (m's sizes set). */
static void bind(struct params *m)
{
	if (!m->fam) {
		real *p[MODEL_NTENSORS];
		for (int i = 0; i < MODEL_NTENSORS; i++)
			p[i] = m->t[i].data;
		m->P.Wxh = p[0], m->P.Whh = p[1], m->P.Why = p[2], m->P.bh = p[3], m->P.by = p[4];
		return;
	}
	struct net *N = &m->N;
	for (int l = 0; l < N->L; l++) {
		N->l[l].Wx = m->t[3 * l].data;
		N->l[l].Wh = m->t[3 * l + 1].data;
		N->l[l].b = m->t[3 * l + 2].data;
	}
	N->Why = m->t[3 * N->L].data;
	N->by = m->t[3 * N->L + 1].data;
}

int params_from_frame(struct params *m, const struct ts_frame *f, const char *stream)
{
	memset(m, 0, sizeof *m);
	if (netmodel_from_frame(&m->N, f, stream)) {
		m->fam = 1;
		m->V = m->N.V;
		m->arch = ts_frame_find(f, "arch");
	} else if (model_from_frame(&m->P, f, "", stream)) {
		m->V = m->P.V;
	} else {
		return 0;
	}
	list(m);
	return 1;
}

void params_of_net(struct params *m, const struct net *N)
{
	memset(m, 0, sizeof *m);
	m->fam = 1;
	m->N = *N;
	m->V = N->V;
	list(m);
}

int params_from_map(struct params *m, const struct ts_map *map, const char *frame)
{
	struct ts_frame view;
	ts_map_frame(map, frame, &view);
	int found = params_from_frame(m, &view, map->path);
	/* arch's header is the view's, which goes: point at the map's. */
	if (found && m->fam)
		m->arch = ts_map_find(map, frame, "arch");
	ts_map_frame_free(&view);
	return found;
}

/* The family's tensors prefix+NAME of f into out (m's shapes); 0 if none. */
static int like_net(struct params *out, const struct params *m, const struct ts_frame *f,
		    const char *prefix, const char *stream)
{
	char name[TS_MAX_NAME + 1];
	int found = 0, missing = -1;
	for (int i = 0; i < m->n; i++) {
		snprintf(name, sizeof name, "%s%s", prefix, m->t[i].name);
		struct ts_tensor *t = ts_frame_find(f, name);
		if (t) {
			tsf_expect(t, TS_REAL, m->t[i].rank, m->t[i].dims, stream);
			out->t[i].data = t->data;
			found++;
		} else if (missing < 0) {
			missing = i;
		}
	}
	if (found && missing >= 0)
		eprintf("%s: frame '%s': no tensor '%s%s'", stream, f->name, prefix,
			m->t[missing].name);
	return found > 0;
}

int params_like_frame(struct params *out, const struct params *m, const struct ts_frame *f,
		      const char *prefix, const char *what, const char *stream)
{
	*out = *m;
	out->arch = NULL;
	out->block = NULL;
	if (!m->fam) {
		if (!model_like_frame(&out->P, f, prefix, &m->P, stream))
			return 0;
		model_check_same(&m->P, &out->P, stream, what);
		list(out);
		return 1;
	}
	if (!like_net(out, m, f, prefix, stream))
		return 0;
	bind(out);
	return 1;
}

int params_like_map(struct params *out, const struct params *m, const struct ts_map *map,
		    const char *frame, const char *prefix)
{
	struct ts_frame view;
	ts_map_frame(map, frame, &view);
	char what[TS_MAX_NAME + 16];
	snprintf(what, sizeof what, "frame '%s'", frame);
	int found = params_like_frame(out, m, &view, prefix, what, map->path);
	ts_map_frame_free(&view);
	return found;
}

size_t params_count(const struct params *m)
{
	size_t n = 0;
	for (int i = 0; i < m->n; i++)
		n += m->t[i].count;
	return n;
}

real *params_point(struct params *out, const struct params *m, real *base)
{
	*out = *m;
	out->arch = NULL;
	out->block = NULL;
	for (int i = 0; i < m->n; i++) {
		out->t[i].data = base;
		base += m->t[i].count;
	}
	bind(out);
	return base;
}

void params_zeros(struct params *out, const struct params *m)
{
	real *block = ecalloc(params_count(m) ? params_count(m) : 1, sizeof(real));
	params_point(out, m, block);
	out->block = block;
}

void params_free(struct params *m)
{
	free(m->block);
	m->block = NULL;
}

int params_ntensors(const struct params *m, const char *prefix)
{
	return m->n + (m->fam && prefix[0] == 0);
}

void params_write(struct ts_writer *w, const struct params *m, const char *prefix)
{
	if (!m->fam) {
		model_write(w, &m->P, prefix);
		return;
	}
	netmodel_write(w, &m->N, prefix);
}

int params_finite(const struct params *m)
{
	for (int i = 0; i < m->n; i++) {
		const real *a = m->t[i].data;
		for (uint64_t k = 0; k < m->t[i].count; k++)
			if (!isfinite(a[k]))
				return 0;
	}
	return 1;
}

size_t params_state_reals(const struct params *m)
{
	if (!m->fam)
		return (size_t)m->P.H;
	return net_state_reals(&m->N);
}

int params_states(const struct params *m, size_t B, const char *base, real *block,
		  struct ts_tensor *out)
{
	if (!m->fam) {
		tens(&out[0], base, 2, B, (uint64_t)m->P.H, block);
		return 1;
	}
	int k = 0;
	size_t at = 0;
	char name[TS_MAX_NAME + 1];
	for (int l = 0; l < m->N.L; l++) {
		size_t H = (size_t)m->N.l[l].H;
		for (int c = 0; c < 1 + (m->N.cell == NET_LSTM); c++) {
			snprintf(name, sizeof name, "%s.%d", base, l);
			char *h = strchr(name, 'h');
			if (c && h)
				*h = 'c';
			tens(&out[k++], name, 2, B, H, block ? block + at : NULL);
			at += B * H;
		}
	}
	return k;
}

void params_state_of(const struct params *m, const real *block, size_t B, size_t b,
		     real *seq)
{
	struct ts_tensor t[PARAMS_MAX_STATES];
	int n = params_states(m, B, "h", (real *)block, t);
	for (int i = 0; i < n; i++) {
		size_t H = (size_t)t[i].dims[1];
		memcpy(seq, (const real *)t[i].data + b * H, H * sizeof(real));
		seq += H;
	}
}
