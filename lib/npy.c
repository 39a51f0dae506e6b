/* npy.c: NumPy files for tensors. See npy.h. */
#include "npy.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "afile.h"
#include "err.h"
#include "fdio.h"
#include "tstext.h"

enum { CHUNK = 1 << 16 };	/* data bytes copied at a time */

/* Append name to s with every byte but [A-Za-z0-9._+-] as %XX, so any
 * tensor name makes one safe file name component ('/' cannot split it). */
static char *put_file_name(char *s, const char *name)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *name; name++) {
		unsigned char c = (unsigned char)*name;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("._+-", c)) {
			*s++ = (char)c;
		} else {
			*s++ = '%';
			*s++ = hex[c >> 4];
			*s++ = hex[c & 15];
		}
	}
	return s;
}

/* The NumPy (format 1.0) header for t into h; returns its length, a
 * multiple of 64 as NumPy writes it. */
size_t npy_header(unsigned char *h, size_t cap, const struct ts_tensor *t)
{
	static const char *const descr[] = { "", "|u1", "<i4", "<i8", "<f4", "<f8" };
	char shape[TS_MAX_RANK * 24 + 4];
	size_t n = 0;
	for (int i = 0; i < t->rank; i++)
		n += (size_t)snprintf(shape + n, sizeof shape - n, "%s%" PRIu64,
				      i ? ", " : "", t->dims[i]);
	if (t->rank == 1)
		snprintf(shape + n, sizeof shape - n, ",");
	else if (t->rank == 0)
		shape[0] = 0;
	memcpy(h, "\x93NUMPY\x01\x00", 8);
	int dn = snprintf((char *)h + 10, cap - 10,
			  "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }",
			  descr[t->dtype], shape);
	size_t len = 10 + (size_t)dn + 1;	/* and the final '\n' */
	size_t total = (len + 63) & ~(size_t)63;
	memset(h + 10 + dn, ' ', total - len);
	h[total - 1] = '\n';
	h[8] = (unsigned char)((total - 10) & 0xff);
	h[9] = (unsigned char)((total - 10) >> 8);
	return total;
}

/* Write the tensor t being read from r to path as .npy: under a temporary
 * name first, renamed into place once complete, so a reader never sees a
 * half-written file and an error leaves none behind. */
static void export_tensor(struct ts_reader *r, const struct ts_tensor *t, const char *path)
{
	static unsigned char buf[CHUNK];
	struct afile a;
	afile_open(&a, path);
	int fd = a.fd;

	size_t hlen = npy_header(buf, sizeof buf, t);
	if (fd_write_all(fd, buf, hlen) != 0)
		eprintf("%s: write error:", path);
	for (uint64_t left = t->nbytes; left > 0;) {
		size_t k = left < CHUNK ? (size_t)left : CHUNK;
		ts_read_data(r, buf, k);	/* little-endian already, as .npy says */
		if (fd_write_all(fd, buf, k) != 0)
			eprintf("%s: write error:", path);
		left -= k;
	}
	afile_commit(&a, 0);
}

/* The index of an export, DIR/index.txt: gathered in memory and written
 * after the last file, so it appears only for a complete export. */
struct index {
	FILE *f;
	char *text;
	size_t len;
};

static void index_open(struct index *x)
{
	if ((x->f = open_memstream(&x->text, &x->len)) == NULL)
		eprintf("out of memory:");
	fputs("# tensordump -e: the frames and tensors of the stream, in order;\n"
	      "# tensordump -i DIR makes the stream again from them.\n", x->f);
}

/* "tensor NAME FILE [live] [pad P]" for t, exported as file (a name in the
 * directory). */
static void index_tensor(struct index *x, const struct ts_tensor *t, const char *file)
{
	fputs("tensor ", x->f);
	tstext_put_name(x->f, t->name);
	fprintf(x->f, " %s", file);
	if (t->flags & TS_FLAG_LIVE)
		fputs(" live", x->f);
	if (t->pad)
		fprintf(x->f, " pad %u", t->pad);
	putc('\n', x->f);
}

/* Write the index as dir/index.txt. */
static void index_close(struct index *x, const char *dir)
{
	if (fclose(x->f) != 0)
		eprintf("out of memory:");
	char *path = emalloc(strlen(dir) + sizeof "/" NPY_INDEX);
	sprintf(path, "%s/" NPY_INDEX, dir);
	struct afile a;
	afile_open(&a, path);
	if (fd_write_all(a.fd, x->text, x->len) != 0)
		eprintf("%s: write error:", path);
	afile_commit(&a, 0);
	free(path);
	free(x->text);
}

/* Export every tensor of r into dir as F-FRAME-NAME.npy; a name repeated
 * within a frame gets ~2, ~3, ... (put_file_name never writes '~'). Then
 * the index. */
void npy_export(struct ts_reader *r, const char *dir)
{
	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		eprintf("%s:", dir);
	size_t dlen = strlen(dir);
	char *path = emalloc(dlen + 2 * 3 * TS_MAX_NAME + 48);
	char (*seen)[TS_MAX_NAME + 1] = emalloc(TS_MAX_COUNT * sizeof *seen);
	struct index x;
	index_open(&x);
	struct ts_tensor t;
	for (uint64_t f = 0; ts_next_frame(r); f++) {
		uint32_t nseen = 0;
		fputs("frame ", x.f);
		tstext_put_name(x.f, r->frame);
		fprintf(x.f, " %" PRIu32 "\n", r->ntensors);
		while (ts_next_tensor(r, &t)) {
			uint32_t again = 0;
			for (uint32_t i = 0; i < nseen; i++)
				again += strcmp(seen[i], t.name) == 0;
			memcpy(seen[nseen++], t.name, sizeof t.name);
			char *s = path + sprintf(path, "%s/%" PRIu64 "-", dir, f);
			s = put_file_name(s, r->frame);
			*s++ = '-';
			s = put_file_name(s, t.name);
			if (again)
				s += sprintf(s, "~%" PRIu32, again + 1);
			memcpy(s, ".npy", 5);
			export_tensor(r, &t, path);
			index_tensor(&x, &t, path + dlen + 1);
		}
	}
	index_close(&x, dir);
	free(seen);
	free(path);
}
