/* vocab.c: see vocab.h and formats/corpus.md. */
#include "vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32.h"
#include "err.h"
#include "utf8.h"

/* Element i of the loaded vocab tensor t, i32 or u8, in host order. */
static int64_t entry(const struct ts_tensor *t, uint64_t i)
{
	const unsigned char *p = t->data;
	if (t->dtype == TS_U8)
		return p[i];
	return (int32_t)ts_get32(p + 4 * i);
}

/* Entry c as a message shows it: U+0061, or 0x61 for a byte. */
static const char *show(char buf[24], int bytes, int32_t c)
{
	snprintf(buf, 24, bytes ? "0x%02X" : "U+%04X", (unsigned)c);
	return buf;
}

void vocab_from_tensor(struct vocab *v, const struct ts_tensor *t, const char *stream)
{
	if (t->dtype != TS_I32 && t->dtype != TS_U8)
		eprintf("%s: tensor 'vocab' is %s, expected i32 or u8", stream,
			ts_dtype_name(t->dtype));
	if (t->rank != 1)
		eprintf("%s: tensor 'vocab' has rank %d, expected 1", stream, t->rank);
	if (t->count == 0)
		eprintf("%s: tensor 'vocab' is empty", stream);
	if (t->count > VOCAB_LIMIT)
		eprintf("%s: tensor 'vocab' has %llu entries (limit %d)", stream,
			(unsigned long long)t->count, VOCAB_LIMIT);
	int bytes = t->dtype == TS_U8;
	int32_t *cp = emalloc((size_t)t->count * sizeof *cp);
	for (uint64_t i = 0; i < t->count; i++) {
		int64_t c = entry(t, i);
		if (c < 0 || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
			char a[24];
			if (c < 0)
				snprintf(a, sizeof a, "%lld", (long long)c);
			else
				show(a, 0, (int32_t)c);
			eprintf("%s: tensor 'vocab': entry %llu (%s) is not a Unicode scalar value",
				stream, (unsigned long long)i, a);
		}
		if (i > 0 && c <= cp[i - 1]) {
			char a[24], b[24];
			eprintf("%s: tensor 'vocab' is not strictly increasing at entry %llu (%s after %s)",
				stream, (unsigned long long)i, show(a, bytes, (int32_t)c),
				show(b, bytes, cp[i - 1]));
		}
		cp[i] = (int32_t)c;
	}
	v->bytes = bytes;
	v->V = (int)t->count;
	v->cp = cp;
	v->src = stream;
}

void vocab_load(struct vocab *v, const char *path)
{
	struct ts_reader r;
	struct ts_tensor t;
	ts_ropen(&r, path);
	while (ts_next_frame(&r)) {
		while (ts_next_tensor(&r, &t)) {
			if (strcmp(t.name, "vocab") != 0)
				continue;
			/* Bounded before it is loaded; the rest is checked after. */
			if (t.count > VOCAB_LIMIT)
				ts_rdie(&r, r.tensor_off, "tensor 'vocab' has %llu entries (limit %d)",
					(unsigned long long)t.count, VOCAB_LIMIT);
			t.data = ts_load_data(&r);
			vocab_from_tensor(v, &t, r.path);
			free(t.data);
			ts_rclose(&r);
			return;
		}
	}
	eprintf("%s: no tensor 'vocab' in the stream", r.path);
}

int vocab_index(const struct vocab *v, uint32_t c)
{
	int lo = 0, hi = v->V;	/* the answer, if any, is in [lo, hi) */
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if ((uint32_t)v->cp[mid] < c)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < v->V && (uint32_t)v->cp[lo] == c ? lo : -1;
}

int vocab_bytes(const struct vocab *v, int i, unsigned char out[4])
{
	if (v->bytes) {
		out[0] = (unsigned char)v->cp[i];
		return 1;
	}
	return utf8_encode((uint32_t)v->cp[i], out);
}

/* The V entries as the tensor stores them (u8, or i32 little-endian), in
 * new memory of *size bytes. */
static unsigned char *tensor_data(const struct vocab *v, size_t *size)
{
	size_t each = v->bytes ? 1 : 4;
	unsigned char *p = emalloc(emul((size_t)v->V, each, "vocabulary"));
	for (int i = 0; i < v->V; i++) {
		if (v->bytes)
			p[i] = (unsigned char)v->cp[i];
		else
			ts_put32(p + 4 * i, (uint32_t)v->cp[i]);
	}
	*size = (size_t)v->V * each;
	return p;
}

void vocab_write(struct ts_writer *w, const struct vocab *v)
{
	uint64_t dims[1] = { (uint64_t)v->V };
	size_t size;
	unsigned char *p = tensor_data(v, &size);
	ts_write_tensor(w, "vocab", v->bytes ? TS_U8 : TS_I32, 1, dims, p);
	free(p);
}

uint32_t vocab_id(const struct vocab *v)
{
	unsigned char head[9];
	size_t size;
	head[0] = v->bytes ? TS_U8 : TS_I32;
	ts_put64(head + 1, (uint64_t)v->V);
	unsigned char *p = tensor_data(v, &size);
	uint32_t crc = crc32_update(crc32_update(0, head, sizeof head), p, size);
	free(p);
	return crc;
}

void vocab_free(struct vocab *v)
{
	free(v->cp);
	memset(v, 0, sizeof *v);
}

void vocab_map_init(struct vocab_map *m, const struct vocab *v)
{
	size_t npages = 1;	/* page 0 is the shared absent page */
	for (int i = 0; i < v->V; i++)
		if (i == 0 || v->cp[i] >> 8 != v->cp[i - 1] >> 8)
			npages++;
	m->mem = emalloc(emul(npages, 256 * sizeof *m->mem, "vocabulary map"));
	memset(m->mem, 0xff, npages * 256 * sizeof *m->mem);	/* all -1 */
	for (int b = 0; b < VOCAB_NPAGES; b++)
		m->page[b] = m->mem;
	int32_t *next = m->mem;
	for (int i = 0; i < v->V; i++) {
		int b = v->cp[i] >> 8;
		if (m->page[b] == m->mem) {
			next += 256;
			m->page[b] = next;
		}
		next[v->cp[i] & 0xff] = i;	/* sorted: block b's page is the last one */
	}
}

void vocab_map_free(struct vocab_map *m)
{
	free(m->mem);
	m->mem = NULL;
}
