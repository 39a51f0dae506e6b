/* npy_read.c: NumPy files back into a stream (tensordump -i). See npy.h.
 *
 * DIR/index.txt gives the frames and, for each tensor, its name, its file
 * and the stream-only flags (live, pad); each .npy file gives its tensor's
 * dtype, shape and data, so an array edited (or made) in NumPy goes back
 * with whatever shape it has now. */
#include "npy.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "fdio.h"
#include "tstext.h"

enum {
	CHUNK = 1 << 16,		/* data bytes copied at a time */
	HEADER_MAX = 1 << 20		/* longest .npy header taken */
};

/* Read exactly n bytes of path's fd into p, or die. */
static void read_exact(int fd, void *p, size_t n, const char *path)
{
	for (unsigned char *d = p; n > 0;) {
		ssize_t k = fd_read(fd, d, n);
		if (k < 0)
			eprintf("%s: read error:", path);
		if (k == 0)
			eprintf("%s: truncated NumPy file", path);
		d += k;
		n -= (size_t)k;
	}
}

/* A cursor over the header's dictionary text, for messages its file. */
struct hdr {
	const char *s;
	const char *path;
};

static void skip_space(struct hdr *h)
{
	while (*h->s == ' ' || *h->s == '\t' || *h->s == '\n')
		h->s++;
}

static void hdr_die(const struct hdr *h, const char *what)
	__attribute__((noreturn));
static void hdr_die(const struct hdr *h, const char *what)
{
	eprintf("%s: NumPy header: %s", h->path, what);
}

/* A quoted Python string ('...' or "...", no escapes) into dst (cap bytes). */
static void hdr_string(struct hdr *h, char *dst, size_t cap)
{
	skip_space(h);
	char q = *h->s;
	if (q != '\'' && q != '"')
		hdr_die(h, "expected a quoted string");
	const char *e = strchr(h->s + 1, q);
	if (!e || (size_t)(e - h->s - 1) >= cap)
		hdr_die(h, "bad string");
	memcpy(dst, h->s + 1, (size_t)(e - h->s - 1));
	dst[e - h->s - 1] = 0;
	h->s = e + 1;
}

/* The shape tuple "(2, 3)", "(3,)" or "()" into t's rank and dims. */
static void hdr_shape(struct hdr *h, struct ts_tensor *t)
{
	skip_space(h);
	if (*h->s++ != '(')
		hdr_die(h, "shape is not a tuple");
	for (;;) {
		skip_space(h);
		if (*h->s == ')')
			break;
		if (*h->s < '0' || *h->s > '9')
			hdr_die(h, "bad shape");
		if (t->rank == TS_MAX_RANK)
			hdr_die(h, "rank over 8");
		char *e;
		unsigned long long d = strtoull(h->s, &e, 10);
		t->dims[t->rank++] = d > TS_MAX_DIM ? TS_MAX_DIM + 1 : d;
		h->s = e;
		skip_space(h);
		if (*h->s == ',')
			h->s++;
		else if (*h->s != ')')
			hdr_die(h, "bad shape");
	}
	h->s++;
}

/* The dtype code of a descr such as '<f4' (little-endian or one byte). */
static int descr_dtype(const struct hdr *h, const char *d)
{
	static const char *const names[] = { NULL, "u1", "i4", "i8", "f4", "f8" };
	const char *code = d[0] == '<' || d[0] == '|' || d[0] == '=' ? d + 1 : d;
	for (int i = TS_U8; i <= TS_F64; i++)
		if (strcmp(code, names[i]) == 0 && (d[0] != '>' || i == TS_U8))
			return i;
	char msg[96];
	snprintf(msg, sizeof msg, "dtype '%.20s' is not one of |u1 <i4 <i8 <f4 <f8", d);
	hdr_die(h, msg);
}

/* The dictionary {'descr': ..., 'fortran_order': ..., 'shape': ...} into t. */
static void hdr_dict(struct hdr *h, struct ts_tensor *t)
{
	int have = 0;
	skip_space(h);
	if (*h->s++ != '{')
		hdr_die(h, "not a dictionary");
	for (;;) {
		char key[32], val[32];
		skip_space(h);
		if (*h->s == '}')
			break;
		hdr_string(h, key, sizeof key);
		skip_space(h);
		if (*h->s++ != ':')
			hdr_die(h, "expected ':'");
		skip_space(h);
		if (strcmp(key, "descr") == 0) {
			hdr_string(h, val, sizeof val);
			t->dtype = descr_dtype(h, val);
			have |= 1;
		} else if (strcmp(key, "fortran_order") == 0) {
			if (strncmp(h->s, "False", 5) != 0)
				hdr_die(h, "Fortran order (save a C-ordered array)");
			h->s += 5;
			have |= 2;
		} else if (strcmp(key, "shape") == 0) {
			hdr_shape(h, t);
			have |= 4;
		} else {
			hdr_die(h, "unknown key");
		}
		skip_space(h);
		if (*h->s == ',')
			h->s++;
		else if (*h->s != '}')
			hdr_die(h, "expected ',' or '}'");
	}
	if (have != 7)
		hdr_die(h, "descr, fortran_order or shape missing");
}

/* Read the header of the .npy file open on fd into t's dtype, rank, dims,
 * count and nbytes, leaving fd at the data; dies naming path. */
static void read_header(int fd, const char *path, struct ts_tensor *t)
{
	unsigned char pre[12];
	read_exact(fd, pre, 10, path);
	if (memcmp(pre, "\x93NUMPY", 6) != 0)
		eprintf("%s: not a NumPy file", path);
	uint32_t hlen = pre[8] | (uint32_t)pre[9] << 8;
	if (pre[6] == 2 || pre[6] == 3) {
		read_exact(fd, pre + 10, 2, path);
		hlen = ts_get32(pre + 8);
	} else if (pre[6] != 1) {
		eprintf("%s: NumPy format version %u.%u (1.0 to 3.0 are read)", path,
			pre[6], pre[7]);
	}
	if (hlen > HEADER_MAX)
		eprintf("%s: NumPy header of %" PRIu32 " bytes (limit 1 MiB)", path, hlen);
	char *text = emalloc(hlen + 1);
	read_exact(fd, text, hlen, path);
	text[hlen] = 0;
	struct hdr h = { text, path };
	memset(t, 0, sizeof *t);
	hdr_dict(&h, t);
	free(text);
	const char *bad = ts_shape_check(t);
	if (bad)
		eprintf("%s: %s", path, bad);
}

/* Copy the data of the .npy file open on fd (header read, t from it) into
 * the tensor begun on w; the file must hold exactly that much. */
static void copy_data(int fd, const char *path, const struct ts_tensor *t,
		      struct ts_writer *w)
{
	static unsigned char buf[CHUNK];
	for (uint64_t left = t->nbytes; left > 0;) {
		size_t k = left < CHUNK ? (size_t)left : CHUNK;
		ssize_t got = fd_read(fd, buf, k);
		if (got < 0)
			eprintf("%s: read error:", path);
		if (got == 0)
			eprintf("%s: %" PRIu64 " bytes of data where its shape needs %" PRIu64,
				path, t->nbytes - left, t->nbytes);
		ts_write_data(w, buf, (size_t)got);
		left -= (uint64_t)got;
	}
	if (fd_read(fd, buf, 1) != 0)
		eprintf("%s: more data than its shape holds", path);
}

/* Reading the index, line by line. */
struct idx {
	FILE *f;
	char *path;		/* DIR/index.txt */
	const char *dir;
	char *line;
	size_t cap;
	unsigned long lineno;
	char *p;		/* the rest of line */
	struct ts_writer *w;
	int in_frame;
	char frame[TS_MAX_NAME + 1];
	unsigned long frame_line;
	uint32_t count, seen;	/* the frame's tensors: declared, so far */
};

/* Die with "prog: DIR/index.txt: line N: message". */
#define idx_die(x, line, ...) tstext_die_line((x)->path, (line), __VA_ARGS__)

/* The next white-space separated word of the line, NUL-terminated in place,
 * or NULL at its end. */
static char *idx_word(struct idx *x)
{
	char *s = x->p + strspn(x->p, " \t\r\n");
	if (!*s)
		return x->p = s, NULL;
	char *e = s + strcspn(s, " \t\r\n");
	x->p = *e ? e + 1 : e;
	*e = 0;
	return s;
}

/* A name word into dst, or die; what says whose. */
static void idx_name(struct idx *x, const char *s, char *dst, size_t minlen, const char *what)
{
	if (!s)
		idx_die(x, x->lineno, "%s name missing", what);
	const char *bad = tstext_get_name(s, strlen(s), dst, minlen);
	if (bad)
		idx_die(x, x->lineno, "%s name '%.24s'%s", what, s, bad);
}

/* End the current frame: it must have had the tensors its line says. */
static void idx_end_frame(struct idx *x)
{
	if (x->in_frame && x->seen != x->count)
		idx_die(x, x->frame_line, "frame '%s' has %" PRIu32 " tensors, not %" PRIu32,
			x->frame, x->seen, x->count);
	x->in_frame = 0;
}

/* "frame NAME COUNT" after its first word. */
static void idx_frame(struct idx *x)
{
	char name[TS_MAX_NAME + 1], *s, *e;
	idx_name(x, idx_word(x), name, 0, "frame");
	if ((s = idx_word(x)) == NULL)
		idx_die(x, x->lineno, "frame '%s': tensor count missing (frame NAME COUNT)", name);
	unsigned long n = strtoul(s, &e, 10);
	if (*e || *s < '0' || *s > '9' || n > TS_MAX_COUNT)
		idx_die(x, x->lineno, "frame '%s': bad tensor count '%.24s' (0 to %d)", name,
			s, TS_MAX_COUNT);
	idx_end_frame(x);
	memcpy(x->frame, name, sizeof name);
	x->in_frame = 1;
	x->frame_line = x->lineno;
	x->count = (uint32_t)n;
	x->seen = 0;
	ts_write_frame(x->w, name, x->count);
}

/* "[live] [pad P]" after a tensor's file, into the writer's flags and pad. */
static void idx_flags(struct idx *x, const char *name)
{
	char *s, *e;
	x->w->flags = 0;
	x->w->pad = 0;
	while ((s = idx_word(x)) != NULL) {
		if (strcmp(s, "live") == 0 && !x->w->flags && !x->w->pad) {
			x->w->flags = TS_FLAG_LIVE;
			continue;
		}
		if (strcmp(s, "pad") != 0 || x->w->pad)
			idx_die(x, x->lineno, "tensor '%s': '%.24s' after its file "
				"(tensor NAME FILE [live] [pad P])", name, s);
		if ((s = idx_word(x)) == NULL)
			idx_die(x, x->lineno, "tensor '%s': pad without a count", name);
		unsigned long p = strtoul(s, &e, 10);
		if (*e || *s < '0' || *s > '9' || p == 0 || p > TS_MAX_PAD)
			idx_die(x, x->lineno, "tensor '%s': bad pad count '%.24s' (1 to %d)",
				name, s, TS_MAX_PAD);
		x->w->pad = (unsigned)p;
	}
}

/* "tensor NAME FILE [live] [pad P]" after its first word: the tensor, its
 * dtype, shape and data from DIR/FILE. */
static void idx_tensor(struct idx *x)
{
	char name[TS_MAX_NAME + 1];
	if (!x->in_frame)
		idx_die(x, x->lineno, "tensor before any frame line");
	idx_name(x, idx_word(x), name, 1, "tensor");
	if (x->seen == x->count)
		idx_die(x, x->lineno, "frame '%s' has more than the %" PRIu32
			" tensors its line says", x->frame, x->count);
	const char *file = idx_word(x);
	if (!file)
		idx_die(x, x->lineno, "tensor '%s': file missing (tensor NAME FILE)", name);
	if (strchr(file, '/'))
		idx_die(x, x->lineno, "tensor '%s': file '%.24s' is not a name in %s", name,
			file, x->dir);
	char *path = emalloc(strlen(x->dir) + strlen(file) + 2);
	sprintf(path, "%s/%s", x->dir, file);
	idx_flags(x, name);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		eprintf("%s:", path);
	struct ts_tensor t;
	read_header(fd, path, &t);
	ts_begin_tensor(x->w, name, t.dtype, t.rank, t.dims);
	copy_data(fd, path, &t, x->w);
	close(fd);
	free(path);
	x->seen++;
}

void npy_import(const char *dir, struct ts_writer *w)
{
	struct idx x = { .dir = dir, .w = w };
	x.path = emalloc(strlen(dir) + sizeof "/" NPY_INDEX);
	sprintf(x.path, "%s/" NPY_INDEX, dir);
	if ((x.f = fopen(x.path, "r")) == NULL)
		eprintf("%s:", x.path);
	while (getline(&x.line, &x.cap, x.f) >= 0) {
		x.lineno++;
		x.line[strcspn(x.line, "#")] = 0;
		x.p = x.line;
		char *s = idx_word(&x);
		if (!s)
			continue;
		if (strcmp(s, "frame") == 0)
			idx_frame(&x);
		else if (strcmp(s, "tensor") == 0)
			idx_tensor(&x);
		else
			idx_die(&x, x.lineno, "expected 'frame' or 'tensor', found '%.24s'", s);
		if ((s = idx_word(&x)) != NULL)
			idx_die(&x, x.lineno, "'%.24s' at the end of the line", s);
	}
	if (ferror(x.f))
		eprintf("%s: read error:", x.path);
	idx_end_frame(&x);
	fclose(x.f);
	free(x.line);
	free(x.path);
}
