/* netmodel.c: see netmodel.h and formats/model.md.
 *
 * Legend: V vocab, L layers, H, I, G a layer's hidden size, input size,
 * gates. */
#include "netmodel.h"

#include <stdio.h>
#include <string.h>

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
