/* tensordump: show a tensor stream as text, write one from text, export its
 * tensors as NumPy files.
 *
 *   tensordump [FILE]          listing: frames, tensors, summaries, first values
 *   tensordump -a [FILE]       every value, in the text form of formats/text.md
 *   tensordump -r [FILE]       that text form in, the binary stream out
 *   tensordump -e DIR [FILE]   each tensor as DIR/F-FRAME-NAME.npy
 *
 * Reading a stream takes constant memory: data passes through one CHUNK
 * buffer, never a whole tensor at once. -r streams values into the writer as
 * it parses them, and holds a frame in memory only when the frame line gives
 * no tensor count (the writer needs the count first). */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "afile.h"
#include "arg.h"
#include "err.h"
#include "ts.h"

enum {
	CHUNK = 1 << 16,	/* data bytes handled at a time; a multiple of 8 */
	SHOW_LINES = 4,		/* lines of values a listing shows per tensor */
	TABLE_MAX = 1024,	/* tensors up to this many values print aligned */
	NUMLEN = 48		/* room for one formatted value */
};

/* The NaNs written as plain "nan" / "-nan": the quiet NaN strtod gives, and
 * the one x86 arithmetic produces (the same with the sign bit set). */
#define F32_QNAN UINT32_C(0x7fc00000)
#define F64_QNAN UINT64_C(0x7ff8000000000000)

static void usage(void)
{
	fputs("usage: tensordump [options] [FILE]\n", stderr);
	exit(EXIT_USAGE);
}

static void help(void)
{
	puts("usage: tensordump [options] [FILE]\n"
	     "List a tensor stream as text (formats/text.md): each frame, each\n"
	     "tensor's dtype, shape, summary (min, max, mean, NaN and Inf counts)\n"
	     "and first values.\n"
	     "  -a      every value: the text form, which -r reads back exactly\n"
	     "  -r      read the text form, write the binary stream on stdout\n"
	     "  -e DIR  export each tensor as a NumPy file DIR/F-FRAME-NAME.npy\n"
	     "          (F: frame number from 0; DIR is created if missing)");
	efshut_stdout();
}

/* ---- elements by their bits ---- */

static float f32_of(uint32_t bits)
{
	float v;
	memcpy(&v, &bits, sizeof v);
	return v;
}

static double f64_of(uint64_t bits)
{
	double v;
	memcpy(&v, &bits, sizeof v);
	return v;
}

/* ---- values as text ---- */

/* Whether s, a normal number printed with `full` significant digits (%.9g,
 * %.17g), may read back exactly from its first full - cut digits too. A short
 * form that does lies within half an ulp of the value, so within `near`
 * units of the last digit of s, and is a multiple of 10^cut such units: if
 * the last cut digits of s are further from one, trying it is pointless.
 * Checked to give the same text as always trying on every f32 with a 6-digit
 * form and on 20M random f64 with a 15-digit one; -a runs 1.8x faster. */
static int may_be_short(const char *s, int full, int cut, unsigned near)
{
	unsigned mod = 1, tail = 0;
	int k = 0;
	for (int i = 0; i < cut; i++)
		mod *= 10;
	for (; *s && *s != 'e'; s++) {
		if (*s < '0' || *s > '9' || (k == 0 && *s == '0'))
			continue;	/* sign, point, leading zeros */
		if (++k > full - cut)
			tail = 10 * tail + (unsigned)(*s - '0');
	}
	for (; k < full; k++)
		tail *= 10;	/* %g dropped trailing zeros */
	return tail <= near || tail >= mod - near;
}

/* Format the f32 with these bits into s; return the length. A value takes 6
 * significant digits when they read back as the same float, else 9, which
 * always do: hand-written values stay as typed, and the text is a function
 * of the bits alone, so text -> binary -> text is exact. */
static int format_f32(char *s, uint32_t bits)
{
	char s6[NUMLEN];
	float v = f32_of(bits);
	if (isnan(v)) {
		if ((bits & UINT32_C(0x7fffffff)) == F32_QNAN)
			return snprintf(s, NUMLEN, "%snan", bits >> 31 ? "-" : "");
		return snprintf(s, NUMLEN, "nan:0x%08" PRIx32, bits);
	}
	if (isinf(v))
		return snprintf(s, NUMLEN, "%sinf", v < 0 ? "-" : "");
	int n = snprintf(s, NUMLEN, "%.9g", v);
	/* Half an f32 ulp is under 2^-24 of the value: < 60 units of digit 9. */
	if (fabsf(v) < FLT_MIN || may_be_short(s, 9, 3, 64)) {
		int n6 = snprintf(s6, NUMLEN, "%.6g", v);
		if (strtof(s6, NULL) == v) {
			memcpy(s, s6, (size_t)n6 + 1);
			n = n6;
		}
	}
	return n;
}

/* The same for f64: 15 significant digits, else 17. */
static int format_f64(char *s, uint64_t bits)
{
	char s15[NUMLEN];
	double v = f64_of(bits);
	if (isnan(v)) {
		if ((bits & UINT64_C(0x7fffffffffffffff)) == F64_QNAN)
			return snprintf(s, NUMLEN, "%snan", bits >> 63 ? "-" : "");
		return snprintf(s, NUMLEN, "nan:0x%016" PRIx64, bits);
	}
	if (isinf(v))
		return snprintf(s, NUMLEN, "%sinf", v < 0 ? "-" : "");
	int n = snprintf(s, NUMLEN, "%.17g", v);
	/* Half an f64 ulp is under 2^-53 of the value: < 12 units of digit 17. */
	if (fabs(v) < DBL_MIN || may_be_short(s, 17, 2, 16)) {
		int n15 = snprintf(s15, NUMLEN, "%.15g", v);
		if (strtod(s15, NULL) == v) {
			memcpy(s, s15, (size_t)n15 + 1);
			n = n15;
		}
	}
	return n;
}

/* Format the element of dtype at p into s (NUMLEN bytes); return the length. */
static int format_value(char *s, int dtype, const unsigned char *p)
{
	switch (dtype) {
	case TS_U8: return snprintf(s, NUMLEN, "%u", (unsigned)p[0]);
	case TS_I32: return snprintf(s, NUMLEN, "%" PRId32, (int32_t)ts_get32(p));
	case TS_I64: return snprintf(s, NUMLEN, "%" PRId64, (int64_t)ts_get64(p));
	case TS_F32: return format_f32(s, ts_get32(p));
	case TS_F64: return format_f64(s, ts_get64(p));
	}
	return 0;
}

/* Print a name as the text form spells it: '%' and '#' escaped as %25 and
 * %23 (so '#' always starts a comment), the empty name as "-" and the name
 * "-" as %2D. */
static void put_name(const char *s)
{
	if (!*s) {
		putchar('-');
		return;
	}
	if (strcmp(s, "-") == 0) {
		fputs("%2D", stdout);
		return;
	}
	for (; *s; s++) {
		if (*s == '%' || *s == '#')
			printf("%%%02X", (unsigned)(unsigned char)*s);
		else
			putchar(*s);
	}
}

/* "tensor NAME DTYPE [D0 D1 ...]", " live" if so and " pad N" if the data
 * is padded, without the newline. */
static void put_tensor_line(const struct ts_tensor *t)
{
	fputs("tensor ", stdout);
	put_name(t->name);
	printf(" %s [", ts_dtype_name(t->dtype));
	for (int i = 0; i < t->rank; i++)
		printf(i ? " %" PRIu64 : "%" PRIu64, t->dims[i]);
	putchar(']');
	if (t->flags & TS_FLAG_LIVE)
		fputs(" live", stdout);
	if (t->pad)
		printf(" pad %u", t->pad);
}

/* Where values go on the page: one row of the last dimension per line,
 * wrapped every per_line values (continuation lines indented further), and
 * a blank line between the matrices of a tensor of rank 3 or more. */
struct layout {
	int dtype;
	size_t esize;
	uint64_t row;		/* values in a row: the last dim (1 for a scalar) */
	uint64_t slab;		/* values in a matrix when rank >= 3, else 0 */
	uint64_t per_line;
	int width;		/* values right-aligned to this width (0: none) */
	uint64_t i;		/* values placed so far */
};

/* The layout of t's values, from the first. */
static void layout_init(struct layout *L, const struct ts_tensor *t)
{
	memset(L, 0, sizeof *L);
	L->dtype = t->dtype;
	L->esize = ts_dtype_size(t->dtype);
	L->row = t->rank ? t->dims[t->rank - 1] : 1;
	if (t->rank >= 3)
		L->slab = t->dims[t->rank - 1] * t->dims[t->rank - 2];
	L->per_line = t->dtype == TS_U8 ? 16 : t->dtype == TS_F64 ? 6 : 8;
}

/* How many of count values the first `lines` lines hold. */
static uint64_t layout_span(const struct layout *L, uint64_t count, unsigned lines)
{
	uint64_t n = 0;
	for (; lines > 0 && n < count; lines--) {
		uint64_t k = L->row - n % L->row;	/* left in this row */
		if (k > L->per_line)
			k = L->per_line;
		n += k < count - n ? k : count - n;
	}
	return n;
}

/* Widest of the n values at p, as formatted. */
static int layout_width(const struct layout *L, const unsigned char *p, size_t n)
{
	char s[NUMLEN];
	int w = 0;
	for (size_t i = 0; i < n; i++) {
		int k = format_value(s, L->dtype, p + i * L->esize);
		if (k > w)
			w = k;
	}
	return w;
}

/* Print the n values at p, continuing where the previous call stopped. */
static void layout_put(struct layout *L, const unsigned char *p, size_t n)
{
	char s[NUMLEN];
	for (size_t j = 0; j < n; j++, L->i++) {
		uint64_t col = L->i % L->row;
		if (col % L->per_line == 0) {
			if (L->i > 0)
				putchar('\n');
			if (L->slab && L->i > 0 && L->i % L->slab == 0)
				putchar('\n');
			fputs(col == 0 ? "  " : "    ", stdout);
		} else {
			putchar(' ');
		}
		int k = format_value(s, L->dtype, p + j * L->esize);
		for (int pad = k; pad < L->width; pad++)
			putchar(' ');
		fwrite(s, 1, (size_t)k, stdout);
	}
}

/* End the last line of values, if any. */
static void layout_end(const struct layout *L)
{
	if (L->i > 0)
		putchar('\n');
}

/* ---- listing ---- */

/* Summary figures over a tensor's data; floats count NaN and Inf apart and
 * take min, max and mean over the finite values only. */
struct summary {
	uint64_t n;		/* values in min/max/mean */
	uint64_t nan, inf;
	double sum;
	double min, max;	/* floats */
	int64_t imin, imax;	/* integers, exact even for i64 */
};

/* Count v in s, adding it to the partial sum *sum if it is finite. */
static void fold_float(struct summary *s, double v, double *sum)
{
	if (isnan(v)) {
		s->nan++;
	} else if (isinf(v)) {
		s->inf++;
	} else {
		if (s->n == 0 || v < s->min)
			s->min = v;
		if (s->n == 0 || v > s->max)
			s->max = v;
		s->n++;
		*sum += v;
	}
}

static void fold_int(struct summary *s, int64_t v, double *sum)
{
	if (s->n == 0 || v < s->imin)
		s->imin = v;
	if (s->n == 0 || v > s->imax)
		s->imax = v;
	s->n++;
	*sum += (double)v;
}

/* Fold the n values of dtype at p into s. Each chunk has its own partial
 * sum, which keeps the mean of a long tensor accurate. */
static void summarise(struct summary *s, int dtype, const unsigned char *p, size_t n)
{
	double sum = 0;
	for (size_t i = 0; i < n; i++) {
		switch (dtype) {
		case TS_U8: fold_int(s, p[i], &sum); break;
		case TS_I32: fold_int(s, (int32_t)ts_get32(p + 4 * i), &sum); break;
		case TS_I64: fold_int(s, (int64_t)ts_get64(p + 8 * i), &sum); break;
		case TS_F32: fold_float(s, f32_of(ts_get32(p + 4 * i)), &sum); break;
		case TS_F64: fold_float(s, f64_of(ts_get64(p + 8 * i)), &sum); break;
		}
	}
	s->sum += sum;
}

/* The comment line under t's tensor line: "# min .. max .. mean ..", with
 * the NaN and Inf counts for floats. */
static void put_summary(const struct summary *s, const struct ts_tensor *t)
{
	int isfloat = t->dtype == TS_F32 || t->dtype == TS_F64;
	fputs("  #", stdout);
	if (t->count == 0) {
		puts(" empty");
		return;
	}
	if (s->n > 0 && isfloat)
		printf(" min %.6g  max %.6g  mean %.6g ", s->min, s->max, s->sum / (double)s->n);
	else if (s->n > 0)
		printf(" min %" PRId64 "  max %" PRId64 "  mean %.6g", s->imin, s->imax,
		       s->sum / (double)s->n);
	if (isfloat)
		printf(" nan %" PRIu64 "  inf %" PRIu64, s->nan, s->inf);
	putchar('\n');
}

/* Print the tensor t being read from r: every value (all), or a summary
 * and the first SHOW_LINES lines, "..." marking what is left out. */
static void dump_tensor(struct ts_reader *r, const struct ts_tensor *t, int all)
{
	static unsigned char buf[CHUNK];
	struct layout L;
	layout_init(&L, t);
	put_tensor_line(t);
	putchar('\n');
	if (all && t->count <= TABLE_MAX) {
		if (t->nbytes > 0)
			ts_read_data(r, buf, (size_t)t->nbytes);
		L.width = layout_width(&L, buf, (size_t)t->count);
		layout_put(&L, buf, (size_t)t->count);
	} else if (all) {
		for (uint64_t left = t->nbytes; left > 0;) {
			size_t n = left < CHUNK ? (size_t)left : CHUNK;
			ts_read_data(r, buf, n);
			layout_put(&L, buf, n / L.esize);
			left -= n;
		}
	} else {
		unsigned char head[SHOW_LINES * 16 * 8];
		size_t nshow = (size_t)layout_span(&L, t->count, SHOW_LINES);
		struct summary s = { 0 };
		for (uint64_t left = t->nbytes; left > 0;) {
			size_t n = left < CHUNK ? (size_t)left : CHUNK;
			ts_read_data(r, buf, n);
			if (left == t->nbytes)	/* the first chunk holds them all */
				memcpy(head, buf, nshow * L.esize);
			summarise(&s, t->dtype, buf, n / L.esize);
			left -= n;
		}
		put_summary(&s, t);
		L.width = layout_width(&L, head, nshow);
		layout_put(&L, head, nshow);
		if (nshow < t->count)
			fputs("\n  ...", stdout);
	}
	layout_end(&L);
}

/* List every frame of r as text: all values (all) or a summary listing. */
static void dump_stream(struct ts_reader *r, int all)
{
	struct ts_tensor t;
	for (uint64_t f = 0; ts_next_frame(r); f++) {
		fputs("frame ", stdout);
		put_name(r->frame);
		printf(" %" PRIu32, r->ntensors);
		if (!all)
			printf("  # frame %" PRIu64, f);
		putchar('\n');
		while (ts_next_tensor(r, &t))
			dump_tensor(r, &t, all);
		/* A frame is shown once complete, as it is written: tensordump
		 * at the end of a pipeline follows it live, and what came before
		 * a damaged frame is on the screen before its error. */
		if (fflush(stdout) != 0)
			efshut_stdout();	/* reports the error */
	}
}

/* ---- -e: NumPy export ---- */

/* Write all n bytes at p to fd, or die naming path. */
static void write_all(int fd, const void *p, size_t n, const char *path)
{
	const char *s = p;
	while (n > 0) {
		ssize_t k = write(fd, s, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			eprintf("%s: write error:", path);
		}
		s += k;
		n -= (size_t)k;
	}
}

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
static size_t npy_header(unsigned char *h, size_t cap, const struct ts_tensor *t)
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
	write_all(fd, buf, hlen, path);
	for (uint64_t left = t->nbytes; left > 0;) {
		size_t k = left < CHUNK ? (size_t)left : CHUNK;
		ts_read_data(r, buf, k);	/* little-endian already, as .npy says */
		write_all(fd, buf, k, path);
		left -= k;
	}
	afile_commit(&a, 0);
}

/* Export every tensor of r into dir as F-FRAME-NAME.npy; a name repeated
 * within a frame gets ~2, ~3, ... (put_file_name never writes '~'). */
static void export_stream(struct ts_reader *r, const char *dir)
{
	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		eprintf("%s:", dir);
	size_t dlen = strlen(dir);
	char *path = emalloc(dlen + 2 * 3 * TS_MAX_NAME + 48);
	char (*seen)[TS_MAX_NAME + 1] = emalloc(TS_MAX_COUNT * sizeof *seen);
	struct ts_tensor t;
	for (uint64_t f = 0; ts_next_frame(r); f++) {
		uint32_t nseen = 0;
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
		}
	}
	free(seen);
	free(path);
}

/* ---- -r: text form to binary ---- */

/* A tensor of a frame held in memory until the frame ends. */
struct held {
	struct ts_tensor t;	/* t.data: len bytes so far, room for cap */
	size_t len, cap;
};

struct parser {
	FILE *in;
	const char *path;
	char *line;
	size_t cap;
	unsigned long lineno;
	char *p;		/* next unread character of line */
	struct ts_writer w;
	/* the current frame */
	int in_frame;
	char frame[TS_MAX_NAME + 1];
	unsigned long frame_line;
	long declared;		/* its tensor count, or -1: held until it ends */
	uint32_t ntensors;	/* tensors begun so far */
	struct held *held;	/* when declared < 0, those tensors */
	uint32_t nheld;		/* room in held */
	/* the current tensor */
	int in_tensor;		/* values still owed */
	int have_t;		/* t is a tensor of this frame */
	struct ts_tensor t;
	unsigned long tensor_line;
	uint64_t have;		/* values read so far */
	unsigned char chunk[CHUNK];
	size_t clen;
};

/* Die with "prog: FILE: line N: message". */
static void perr_at(const struct parser *ps, unsigned long line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));
static void perr_at(const struct parser *ps, unsigned long line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	eprintf("%s: line %lu: %s", ps->path, line, msg);
}

#define perr(ps, ...) perr_at((ps), (ps)->lineno, __VA_ARGS__)

/* A token as shown in messages: at most 24 bytes, unprintables as '?'. */
static const char *show(const char *s, size_t n)
{
	static char buf[32];
	size_t k = n > 24 ? 21 : n;
	for (size_t i = 0; i < k; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (k < n)
		memcpy(buf + k, "...", 3), k += 3;
	buf[k] = 0;
	return buf;
}

/* The shape of t as "[2 3]", for messages. */
static const char *shape_str(const struct ts_tensor *t)
{
	static char buf[TS_MAX_RANK * 21 + 3];
	size_t n = 0;
	buf[n++] = '[';
	for (int i = 0; i < t->rank; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, i ? " %" PRIu64 : "%" PRIu64,
				      t->dims[i]);
	snprintf(buf + n, sizeof buf - n, "]");
	return buf;
}

/* Read the next line, its comment cut off; 0 at the end of the text. */
static int next_line(struct parser *ps)
{
	ssize_t n = getline(&ps->line, &ps->cap, ps->in);
	if (n < 0) {
		if (ferror(ps->in))
			eprintf("%s: read error:", ps->path);
		return 0;
	}
	ps->lineno++;
	if (ps->lineno == 1 && n >= 4 && memcmp(ps->line, "chnF", 4) == 0)
		eprintf("%s: a binary tensor stream already; -r reads the text form",
			ps->path);
	if (memchr(ps->line, 0, (size_t)n))
		perr(ps, "NUL byte: this is not text");
	char *hash = strchr(ps->line, '#');
	if (hash)
		*hash = 0;
	ps->p = ps->line;
	return 1;
}

/* White space between words; \r too, so CRLF text reads as well. */
static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* The next word of the line (its length in *len), or NULL (length 0) at
 * its end. Words end at white space, values also at commas ([1, 2, 3]
 * pasted in). */
static char *word(struct parser *ps, size_t *len, int commas)
{
	char *s = ps->p;
	while (is_space(*s) || (commas && *s == ','))
		s++;
	if (!*s) {
		ps->p = s;
		*len = 0;
		return NULL;
	}
	char *e = s;
	while (*e && !is_space(*e) && !(commas && *e == ','))
		e++;
	ps->p = e;
	*len = (size_t)(e - s);
	return s;
}

static int is_word(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && memcmp(s, w, n) == 0;
}

/* The value of hex digit c, or -1. */
static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode the name word s (see put_name) into dst; what says whose. */
static void parse_name(struct parser *ps, const char *s, size_t n, char *dst,
		       size_t minlen, const char *what)
{
	size_t k = 0;
	if (!s)
		perr(ps, "%s name missing", what);
	if (is_word(s, n, "-")) {
		if (minlen > 0)
			perr(ps, "%s name '-': a tensor name cannot be empty", what);
		dst[0] = 0;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
			int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				perr(ps, "%s name '%s': '%%' must be followed by two hex digits",
				     what, show(s, n));
			c = hi << 4 | lo;
			i += 2;
		}
		if (k == TS_MAX_NAME)
			perr(ps, "%s name '%s' is longer than 63 bytes", what, show(s, n));
		dst[k++] = (char)c;
	}
	dst[k] = 0;
	const char *bad = ts_name_check(dst, k, minlen);	/* %00 included */
	if (bad)
		perr(ps, "%s name '%s' %s", what, show(s, n), bad);
}

/* Pass the buffered data of the current tensor on: to the writer, or to
 * the held frame. */
static void flush_chunk(struct parser *ps)
{
	if (ps->declared >= 0) {
		ts_write_data(&ps->w, ps->chunk, ps->clen);
	} else {
		struct held *h = &ps->held[ps->ntensors - 1];
		if (h->len + ps->clen > h->cap) {
			size_t want = h->cap ? 2 * h->cap : CHUNK;
			if (want > h->t.nbytes)
				want = (size_t)h->t.nbytes;
			h->cap = want;
			h->t.data = erealloc(h->t.data, h->cap);
		}
		memcpy((unsigned char *)h->t.data + h->len, ps->chunk, ps->clen);
		h->len += ps->clen;
	}
	ps->clen = 0;
}

/* End the current frame: check its tensor count, or write it if held. */
static void end_frame(struct parser *ps)
{
	if (!ps->in_frame)
		return;
	if (ps->declared >= 0 && ps->ntensors != (uint32_t)ps->declared)
		perr_at(ps, ps->frame_line, "frame '%s' has %" PRIu32 " tensor%s, not %ld",
			ps->frame, ps->ntensors, ps->ntensors == 1 ? "" : "s", ps->declared);
	if (ps->declared < 0) {
		ts_write_frame(&ps->w, ps->frame, ps->ntensors);
		for (uint32_t i = 0; i < ps->ntensors; i++) {
			struct ts_tensor *t = &ps->held[i].t;
			ps->w.flags = t->flags;
			ps->w.pad = t->pad;
			ts_write_tensor(&ps->w, t->name, t->dtype, t->rank, t->dims, t->data);
			free(t->data);
		}
	}
	ps->in_frame = 0;
}

/* "frame NAME [COUNT]" after its first word. */
static void frame_line(struct parser *ps)
{
	char name[TS_MAX_NAME + 1];
	size_t n;
	char *s = word(ps, &n, 0);
	parse_name(ps, s, n, name, 0, "frame");
	long count = -1;
	if ((s = word(ps, &n, 0)) != NULL) {
		count = 0;
		for (size_t i = 0; i < n; i++) {
			if (s[i] < '0' || s[i] > '9')
				perr(ps, "frame tensor count '%s' is not a number", show(s, n));
			if (count <= TS_MAX_COUNT)	/* stop before it could wrap */
				count = 10 * count + (s[i] - '0');
		}
		if (count > TS_MAX_COUNT)
			perr(ps, "frame of %s tensors (limit %d)", show(s, n), TS_MAX_COUNT);
	}
	if ((s = word(ps, &n, 0)) != NULL)
		perr(ps, "'%s' after the frame line (frame NAME [COUNT])", show(s, n));
	end_frame(ps);
	memcpy(ps->frame, name, sizeof name);
	ps->in_frame = 1;
	ps->frame_line = ps->lineno;
	ps->declared = count;
	ps->ntensors = 0;
	ps->have_t = 0;
	if (count >= 0)
		ts_write_frame(&ps->w, name, (uint32_t)count);
}

/* "tensor NAME DTYPE [DIMS] [live] [pad N]" after its first word; values may
 * follow on the same line. */
static void tensor_line(struct parser *ps)
{
	struct ts_tensor t = { 0 };
	size_t n;
	char *s;
	if (!ps->in_frame)
		perr(ps, "tensor before any frame line");
	if (ps->declared >= 0 && ps->ntensors == (uint32_t)ps->declared)
		perr(ps, "frame '%s' has more than the %ld tensor%s its line says",
		     ps->frame, ps->declared, ps->declared == 1 ? "" : "s");
	if (ps->ntensors == TS_MAX_COUNT)
		perr(ps, "frame '%s' has more than %d tensors", ps->frame, TS_MAX_COUNT);
	s = word(ps, &n, 0);
	parse_name(ps, s, n, t.name, 1, "tensor");
	if ((s = word(ps, &n, 0)) == NULL)
		perr(ps, "tensor '%s': dtype missing (tensor NAME DTYPE [DIMS])", t.name);
	char dname[8] = "";
	if (n < sizeof dname)
		memcpy(dname, s, n), dname[n] = 0;
	if ((t.dtype = ts_dtype_code(dname)) == 0)
		perr(ps, "tensor '%s': unknown dtype '%s' (u8 i32 i64 f32 f64)", t.name,
		     show(s, n));

	/* The shape: [D0 D1 ...] or (D0, D1, ...), spaces and commas between. */
	s = ps->p;
	while (is_space(*s))
		s++;
	if (*s != '[' && *s != '(')
		perr(ps, "tensor '%s': shape missing (tensor NAME DTYPE [DIMS])", t.name);
	char close = *s++ == '[' ? ']' : ')';
	for (;;) {
		while (is_space(*s) || *s == ',')
			s++;
		if (*s == close)
			break;
		if (*s < '0' || *s > '9')
			perr(ps, "tensor '%s': bad shape: expected a size or '%c', found '%s'",
			     t.name, close, *s ? show(s, 1) : "end of line");
		if (t.rank == TS_MAX_RANK)
			perr(ps, "tensor '%s': rank over %d", t.name, TS_MAX_RANK);
		uint64_t d = 0;
		for (; *s >= '0' && *s <= '9'; s++) {
			if (d > TS_MAX_DIM)
				break;	/* too big either way; keep d from wrapping */
			d = 10 * d + (uint64_t)(*s - '0');
		}
		while (*s >= '0' && *s <= '9')
			s++;
		t.dims[t.rank++] = d;
	}
	ps->p = s + 1;
	const char *bad = ts_shape_check(&t);
	if (bad)
		perr(ps, "tensor '%s': %s", t.name, bad);
	char *rest = ps->p;
	if ((s = word(ps, &n, 0)) != NULL && is_word(s, n, "live"))
		t.flags = TS_FLAG_LIVE;
	else
		ps->p = rest;	/* values, on the same line */
	rest = ps->p;
	if ((s = word(ps, &n, 0)) != NULL && is_word(s, n, "pad")) {
		unsigned long k = 0;
		if ((s = word(ps, &n, 0)) == NULL)
			perr(ps, "tensor '%s': pad without a count", t.name);
		for (size_t i = 0; i < n && k <= TS_MAX_PAD; i++) {
			if (s[i] < '0' || s[i] > '9')
				perr(ps, "tensor '%s': bad pad count '%s'", t.name, show(s, n));
			k = 10 * k + (unsigned long)(s[i] - '0');
		}
		if (k > TS_MAX_PAD)
			perr(ps, "tensor '%s': pad %s words (limit %d)", t.name, show(s, n),
			     TS_MAX_PAD);
		t.pad = (unsigned)k;
	} else {
		ps->p = rest;
	}

	if (ps->declared >= 0) {
		ps->w.flags = t.flags;
		ps->w.pad = t.pad;
		ts_begin_tensor(&ps->w, t.name, t.dtype, t.rank, t.dims);
	} else {
		if (ps->ntensors == ps->nheld) {
			ps->nheld = ps->nheld ? 2 * ps->nheld : 16;
			ps->held = erealloc(ps->held, ps->nheld * sizeof *ps->held);
		}
		ps->held[ps->ntensors] = (struct held){ .t = t };
	}
	ps->ntensors++;
	ps->t = t;
	ps->tensor_line = ps->lineno;
	ps->have = 0;
	ps->clen = 0;
	ps->in_tensor = t.count > 0;
	ps->have_t = 1;
}

/* The NaN or Inf a word spells, if it is one (1), into *bits. Accepted:
 * nan, -nan, inf, -inf, infinity in any case, with an optional sign, and
 * nan:0xBITS for a NaN with any payload. */
static int parse_special(struct parser *ps, const char *s, size_t n, int dtype,
			 uint64_t *bits)
{
	int f32 = dtype == TS_F32;
	uint64_t sign = f32 ? UINT64_C(1) << 31 : UINT64_C(1) << 63;
	uint64_t neg = 0;
	if (n > 0 && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-' ? sign : 0;
		s++, n--;
	}
	if (n == 3 && strncasecmp(s, "nan", 3) == 0) {
		*bits = (f32 ? F32_QNAN : F64_QNAN) | neg;
		return 1;
	}
	if ((n == 3 && strncasecmp(s, "inf", 3) == 0) ||
	    (n == 8 && strncasecmp(s, "infinity", 8) == 0)) {
		*bits = (f32 ? UINT64_C(0x7f800000) : UINT64_C(0x7ff0000000000000)) | neg;
		return 1;
	}
	if (n > 6 && strncasecmp(s, "nan:0x", 6) == 0 && !neg) {
		size_t ndig = n - 6;
		uint64_t b = 0;
		if (ndig > (f32 ? 8u : 16u))
			return 0;
		for (size_t i = 6; i < n; i++) {
			int h = hexval(s[i]);
			if (h < 0)
				return 0;
			b = b << 4 | (uint64_t)h;
		}
		if (f32 ? !isnan(f32_of((uint32_t)b)) : !isnan(f64_of(b)))
			perr(ps, "'%s' is not the bit pattern of a NaN", show(s, n));
		*bits = b;
		return 1;
	}
	return 0;
}

/* Parse one value word of the current tensor's dtype into the chunk. */
static void parse_value(struct parser *ps, char *s, size_t n)
{
	static const struct { long long min, max; } range[] = {
		[TS_U8] = { 0, 255 },
		[TS_I32] = { INT32_MIN, INT32_MAX },
		[TS_I64] = { INT64_MIN, INT64_MAX },
	};
	const struct ts_tensor *t = &ps->t;
	unsigned char *out = ps->chunk + ps->clen;
	char saved = s[n], *end;
	uint64_t bits;
	s[n] = 0;	/* for strtoll/strtod; put back below */
	errno = 0;
	if (t->dtype == TS_F32 || t->dtype == TS_F64) {
		if (parse_special(ps, s, n, t->dtype, &bits)) {
			if (t->dtype == TS_F32)
				ts_put32(out, (uint32_t)bits);
			else
				ts_put64(out, bits);
		} else if (t->dtype == TS_F32) {
			float v = strtof(s, &end);
			if (end == s || *end || isnan(v) || (isinf(v) && errno != ERANGE))
				perr(ps, "'%s' is not a number", show(s, n));
			if (isinf(v))
				perr(ps, "'%s' is out of range for f32", show(s, n));
			uint32_t b;
			memcpy(&b, &v, 4);
			ts_put32(out, b);
		} else {
			double v = strtod(s, &end);
			if (end == s || *end || isnan(v) || (isinf(v) && errno != ERANGE))
				perr(ps, "'%s' is not a number", show(s, n));
			if (isinf(v))
				perr(ps, "'%s' is out of range for f64", show(s, n));
			memcpy(&bits, &v, 8);
			ts_put64(out, bits);
		}
	} else {
		long long v = strtoll(s, &end, 10);
		if (end == s || *end)
			perr(ps, "'%s' is not an integer (tensor '%s' is %s)", show(s, n),
			     t->name, ts_dtype_name(t->dtype));
		if (errno == ERANGE || v < range[t->dtype].min || v > range[t->dtype].max)
			perr(ps, "'%s' is out of range for %s", show(s, n),
			     ts_dtype_name(t->dtype));
		if (t->dtype == TS_U8)
			out[0] = (unsigned char)v;
		else if (t->dtype == TS_I32)
			ts_put32(out, (uint32_t)v);
		else
			ts_put64(out, (uint64_t)v);
	}
	s[n] = saved;
	ps->clen += ts_dtype_size(t->dtype);
}

/* One word where a value of the current tensor is due. */
static void value(struct parser *ps, char *s, size_t n)
{
	if (is_word(s, n, "frame") || is_word(s, n, "tensor"))
		perr_at(ps, ps->tensor_line, "tensor '%s' %s has %" PRIu64 " of its %"
			PRIu64 " values", ps->t.name, shape_str(&ps->t), ps->have,
			ps->t.count);
	if (is_word(s, n, "..."))
		perr(ps, "values left out ('...'): a listing is not the text form; "
		     "use tensordump -a");
	parse_value(ps, s, n);
	if (++ps->have == ps->t.count || ps->clen == CHUNK)
		flush_chunk(ps);
	if (ps->have == ps->t.count)
		ps->in_tensor = 0;
}

/* One word where a statement is due. */
static void statement(struct parser *ps, char *s, size_t n)
{
	if (is_word(s, n, "frame"))
		frame_line(ps);
	else if (is_word(s, n, "tensor"))
		tensor_line(ps);
	else if (ps->have_t && ((*s >= '0' && *s <= '9') || *s == '-' || *s == '+' ||
			      *s == '.' || strncasecmp(s, "nan", 3) == 0 ||
			      strncasecmp(s, "inf", 3) == 0))
		perr(ps, "'%s': tensor '%s' %s holds only %" PRIu64 " value%s",
		     show(s, n), ps->t.name, shape_str(&ps->t), ps->t.count,
		     ps->t.count == 1 ? "" : "s");
	else
		perr(ps, "expected 'frame' or 'tensor', found '%s'", show(s, n));
}

/* Read the text form from path (NULL or "-": stdin), write the binary
 * stream on stdout. */
static void undump(const char *path)
{
	static struct parser ps;
	if (!path || strcmp(path, "-") == 0) {
		ps.in = stdin;
		ps.path = "<stdin>";
	} else {
		if ((ps.in = fopen(path, "r")) == NULL)
			eprintf("%s:", path);
		ps.path = path;
	}
	ts_wopen(&ps.w, NULL);
	while (next_line(&ps)) {
		char *s;
		size_t n;
		while ((s = word(&ps, &n, ps.in_tensor)) != NULL) {
			if (ps.in_tensor)
				value(&ps, s, n);
			else
				statement(&ps, s, n);
		}
	}
	if (ps.in_tensor)
		perr_at(&ps, ps.tensor_line, "tensor '%s' %s has %" PRIu64 " of its %" PRIu64
			" values", ps.t.name, shape_str(&ps.t), ps.have, ps.t.count);
	end_frame(&ps);
	ts_wclose(&ps.w);
	if (ps.in != stdin)
		fclose(ps.in);
	free(ps.held);
	free(ps.line);
}

int main(int argc, char **argv)
{
	setprog(argv[0]);
	if (argc > 1 && is_help(argv[1]))
		help();
	int mode = 0;
	const char *dir = NULL;
	int c;
	while ((c = getopt(argc, argv, "are:")) != -1) {
		if (c == '?')
			usage();
		if (mode && mode != c)
			uprintf("options -a, -r and -e exclude each other");
		mode = c;
		if (c == 'e')
			dir = optarg;
	}
	if (argc - optind > 1)
		usage();
	const char *path = optind < argc ? argv[optind] : NULL;

	if (mode == 'r') {
		undump(path);
		return 0;
	}
	struct ts_reader r;
	ts_ropen(&r, path);
	if (mode == 'e') {
		export_stream(&r, dir);
		ts_rclose(&r);
		return 0;
	}
	dump_stream(&r, mode == 'a');
	ts_rclose(&r);
	efshut_stdout();
}
