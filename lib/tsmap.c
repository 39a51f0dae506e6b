/* tsmap.c: see tsmap.h. */
#include "tsmap.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32.h"
#include "err.h"

/* The index pass: read path (open as fd) whole with the ordinary reader,
 * which validates it, CRCs included, and record each tensor in m->t and the
 * offset of its data in *offs (allocated). Returns the stream's size; fd
 * stays open. */
static uint64_t map_index(struct ts_map *m, int fd, const char *path, uint64_t **offs)
{
	struct ts_reader r;
	ts_rfdopen(&r, fd, path);
	size_t cap = 16;
	*offs = emalloc(cap * sizeof **offs);
	m->t = emalloc(cap * sizeof *m->t);
	for (size_t fno = 0; ts_next_frame(&r); fno++) {
		struct ts_tensor t;
		while (ts_next_tensor(&r, &t)) {
			if (m->n == cap) {
				cap *= 2;
				*offs = erealloc(*offs, cap * sizeof **offs);
				m->t = erealloc(m->t, cap * sizeof *m->t);
			}
			(*offs)[m->n] = r.off;
			memcpy(m->t[m->n].frame, r.frame, sizeof r.frame);
			m->t[m->n].fno = fno;
			m->t[m->n].t = t;
			m->n++;
		}
	}
	uint64_t size = r.off;
	r.fd = -1;		/* keep fd open: the mapping is made from it */
	ts_rclose(&r);
	return size;
}

/* Mark tensor t of a writable mapping live in the file: set flag bit 0 in
 * its header, refresh the header CRC and zero the data CRC after it. */
static void mark_live(struct ts_tensor *t)
{
	size_t hlen = ts_header_bytes(t);
	unsigned char *h = (unsigned char *)t->data - hlen;
	unsigned char *tail = (unsigned char *)t->data + ((t->nbytes + 7) & ~(uint64_t)7);
	t->flags |= TS_FLAG_LIVE;
	h[8] |= TS_FLAG_LIVE;
	memset(h + 12, 0, 4);
	ts_put32(h + 12, crc32_update(0, h, hlen));
	memset(tail, 0, 4);
}

void ts_map_open(struct ts_map *m, const char *path, int writable)
{
	memset(m, 0, sizeof *m);
	m->path = path;
	int fd = open(path, writable ? O_RDWR : O_RDONLY);
	if (fd < 0)
		eprintf("%s:", path);
	/* Only a stream that validates whole is mapped. */
	uint64_t *offs, size = map_index(m, fd, path, &offs);
	if (size == 0)
		eprintf("%s: empty tensor file", path);
	if (size > SIZE_MAX)
		eprintf("%s: too large to map", path);
	m->size = (size_t)size;
	void *p = mmap(NULL, m->size, writable ? PROT_READ | PROT_WRITE : PROT_READ,
		       MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		eprintf("%s: mmap:", path);
	close(fd);
	m->base = p;
	for (size_t i = 0; i < m->n; i++) {
		struct ts_tensor *t = &m->t[i].t;
		t->data = m->base + offs[i];
		if (writable && !(t->flags & TS_FLAG_LIVE))
			mark_live(t);
	}
	free(offs);
}

void ts_map_close(struct ts_map *m)
{
	if (m->base)
		munmap(m->base, m->size);
	free(m->t);
	memset(m, 0, sizeof *m);
}

struct ts_tensor *ts_map_find(const struct ts_map *m, const char *frame, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if ((!frame || strcmp(m->t[i].frame, frame) == 0) &&
		    strcmp(m->t[i].t.name, name) == 0)
			return &m->t[i].t;
	return NULL;
}

void ts_map_frame(const struct ts_map *m, const char *frame, struct ts_frame *view)
{
	size_t first = 0, n = 0;
	while (first < m->n && strcmp(m->t[first].frame, frame) != 0)
		first++;
	while (first + n < m->n && m->t[first + n].fno == m->t[first].fno)
		n++;
	memset(view, 0, sizeof *view);
	snprintf(view->name, sizeof view->name, "%s", frame);
	view->n = (uint32_t)n;
	view->t = n ? emalloc(n * sizeof *view->t) : NULL;
	for (size_t i = 0; i < n; i++)
		view->t[i] = m->t[first + i].t;
}

void ts_map_frame_free(struct ts_frame *view)
{
	free(view->t);
	memset(view, 0, sizeof *view);
}
