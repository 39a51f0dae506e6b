/* tstext.c: writing the text form and the listing (formats/text.md); the
 * reader is tstext_read.c. See tstext.h. */
#include "tstext.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

enum {
	CHUNK = TSTEXT_CHUNK,
	SHOW_LINES = 4,		/* lines of values a listing shows per tensor */
	TABLE_MAX = 1024,	/* tensors up to this many values print aligned */
	NUMLEN = TSTEXT_NUMLEN
};

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
	float v = ts_f32_of(bits);
	if (isnan(v)) {
		if ((bits & UINT32_C(0x7fffffff)) == TSTEXT_F32_QNAN)
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
	double v = ts_f64_of(bits);
	if (isnan(v)) {
		if ((bits & UINT64_C(0x7fffffffffffffff)) == TSTEXT_F64_QNAN)
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
int tstext_format_value(char *s, int dtype, const unsigned char *p)
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
void tstext_put_name(FILE *out, const char *s)
{
	if (!*s) {
		putc('-', out);
		return;
	}
	if (strcmp(s, "-") == 0) {
		fputs("%2D", out);
		return;
	}
	for (; *s; s++) {
		if (*s == '%' || *s == '#')
			fprintf(out, "%%%02X", (unsigned)(unsigned char)*s);
		else
			putc(*s, out);
	}
}

/* "tensor NAME DTYPE [D0 D1 ...]", " live" if so and " pad N" if the data
 * is padded, without the newline. */
void tstext_put_tensor_line(FILE *out, const struct ts_tensor *t)
{
	fputs("tensor ", out);
	tstext_put_name(out, t->name);
	fprintf(out, " %s [", ts_dtype_name(t->dtype));
	for (int i = 0; i < t->rank; i++)
		fprintf(out, i ? " %" PRIu64 : "%" PRIu64, t->dims[i]);
	putc(']', out);
	if (t->flags & TS_FLAG_LIVE)
		fputs(" live", out);
	if (t->pad)
		fprintf(out, " pad %u", t->pad);
}

/* Where values go on the page: one row of the last dimension per line,
 * wrapped every per_line values (continuation lines indented further), and
 * a blank line between the matrices of a tensor of rank 3 or more. */
struct layout {
	FILE *out;
	int dtype;
	size_t esize;
	uint64_t row;		/* values in a row: the last dim (1 for a scalar) */
	uint64_t slab;		/* values in a matrix when rank >= 3, else 0 */
	uint64_t per_line;
	int width;		/* values right-aligned to this width (0: none) */
	uint64_t i;		/* values placed so far */
};

/* The layout of t's values, from the first. */
static void layout_init(struct layout *L, FILE *out, const struct ts_tensor *t)
{
	memset(L, 0, sizeof *L);
	L->out = out;
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
		int k = tstext_format_value(s, L->dtype, p + i * L->esize);
		if (k > w)
			w = k;
	}
	return w;
}

/* Print the n values at p, continuing where the previous call stopped. */
static void layout_put(struct layout *L, const unsigned char *p, size_t n)
{
	FILE *out = L->out;
	char s[NUMLEN];
	for (size_t j = 0; j < n; j++, L->i++) {
		uint64_t col = L->i % L->row;
		if (col % L->per_line == 0) {
			if (L->i > 0)
				putc('\n', out);
			if (L->slab && L->i > 0 && L->i % L->slab == 0)
				putc('\n', out);
			fputs(col == 0 ? "  " : "    ", out);
		} else {
			putc(' ', out);
		}
		int k = tstext_format_value(s, L->dtype, p + j * L->esize);
		for (int pad = k; pad < L->width; pad++)
			putc(' ', out);
		fwrite(s, 1, (size_t)k, out);
	}
}

/* End the last line of values, if any. */
static void layout_end(const struct layout *L)
{
	FILE *out = L->out;
	if (L->i > 0)
		putc('\n', out);
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
		case TS_F32: fold_float(s, ts_f32_of(ts_get32(p + 4 * i)), &sum); break;
		case TS_F64: fold_float(s, ts_f64_of(ts_get64(p + 8 * i)), &sum); break;
		}
	}
	s->sum += sum;
}

/* The comment line under t's tensor line: "# min .. max .. mean ..", with
 * the NaN and Inf counts for floats. */
static void put_summary(FILE *out, const struct summary *s, const struct ts_tensor *t)
{
	int isfloat = t->dtype == TS_F32 || t->dtype == TS_F64;
	fputs("  #", out);
	if (t->count == 0) {
		fputs(" empty\n", out);
		return;
	}
	if (s->n > 0 && isfloat)
		fprintf(out, " min %.6g  max %.6g  mean %.6g ", s->min, s->max, s->sum / (double)s->n);
	else if (s->n > 0)
		fprintf(out, " min %" PRId64 "  max %" PRId64 "  mean %.6g", s->imin, s->imax,
		       s->sum / (double)s->n);
	if (isfloat)
		fprintf(out, " nan %" PRIu64 "  inf %" PRIu64, s->nan, s->inf);
	putc('\n', out);
}

/* The characters of a vocabulary (a rank-1 tensor "vocab", lib/vocab.h),
 * which a listing shows beside their code points: the first CHARS_SHOW of
 * them, quoted, as UTF-8 for code points (bytes of byte mode above 0x7f
 * as \xHH), with C's escapes for '"', '\\' and control characters, and
 * \u{H} for what is not a character. */
enum { CHARS_SHOW = 256 };

struct chars {
	char s[CHARS_SHOW * 12 + 1];	/* 12: the longest, \u{ffffffff} */
	size_t len;
	uint64_t n;		/* entries seen */
};

static int is_vocab(const struct ts_tensor *t)
{
	return strcmp(t->name, "vocab") == 0 && t->rank == 1 &&
	       (t->dtype == TS_I32 || t->dtype == TS_U8);
}

/* Append entry v (a code point, or a byte when bytes) to c. */
static void chars_put(struct chars *c, int64_t v, int bytes)
{
	static const char esc[] = "\a\b\t\n\v\f\r", letter[] = "abtnvfr";
	char *d = c->s + c->len;
	const char *e = v > 0 && v < 0x20 ? strchr(esc, (int)v) : NULL;
	unsigned char u[UTF8_MAX];
	int k;
	if (v == '"' || v == '\\')
		k = sprintf(d, "\\%c", (int)v);
	else if (e)
		k = sprintf(d, "\\%c", letter[e - esc]);
	else if (v >= 0x20 && v < 0x7f)
		k = sprintf(d, "%c", (int)v);
	else if (bytes || (v >= 0 && v < 0x20) || v == 0x7f)
		k = sprintf(d, "\\x%02x", (unsigned)v);
	else if (v >= 0xa0 && v <= 0x10ffff && (k = utf8_encode((uint32_t)v, u)) > 0)
		memcpy(d, u, (size_t)k);
	else
		k = sprintf(d, "\\u{%llx}", (unsigned long long)(v & 0xffffffff));
	c->len += (size_t)k;
}

/* Add the n values of a vocabulary's dtype at p to c, up to CHARS_SHOW. */
static void chars_add(struct chars *c, int dtype, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n && c->n < CHARS_SHOW; i++, c->n++)
		chars_put(c, dtype == TS_U8 ? p[i] : (int32_t)ts_get32(p + 4 * i),
			  dtype == TS_U8);
}

/* The listing's line of t's characters: "  # chars "..."", and how many
 * of them it shows when not all. */
static void put_chars(FILE *out, const struct chars *c, const struct ts_tensor *t)
{
	fputs("  # chars \"", out);
	fwrite(c->s, 1, c->len, out);
	putc('"', out);
	if (c->n < t->count)
		fprintf(out, " (the first %" PRIu64 " of %" PRIu64 ")", c->n, t->count);
	putc('\n', out);
}

/* List the tensor t being read from r: its summary (and characters, for a
 * vocabulary), then the first SHOW_LINES lines, "..." marking the rest. */
static void list_tensor(FILE *out, struct ts_reader *r, const struct ts_tensor *t,
			struct layout *L)
{
	static unsigned char buf[CHUNK];
	unsigned char head[SHOW_LINES * 16 * 8];
	size_t nshow = (size_t)layout_span(L, t->count, SHOW_LINES);
	struct summary s = { 0 };
	static struct chars c;
	c.len = c.n = 0;
	for (uint64_t left = t->nbytes; left > 0;) {
		size_t n = left < CHUNK ? (size_t)left : CHUNK;
		ts_read_data(r, buf, n);
		if (left == t->nbytes)	/* the first chunk holds them all */
			memcpy(head, buf, nshow * L->esize);
		summarise(&s, t->dtype, buf, n / L->esize);
		if (is_vocab(t))
			chars_add(&c, t->dtype, buf, n / L->esize);
		left -= n;
	}
	put_summary(out, &s, t);
	if (is_vocab(t) && t->count > 0)
		put_chars(out, &c, t);
	L->width = layout_width(L, head, nshow);
	layout_put(L, head, nshow);
	if (nshow < t->count)
		fputs("\n  ...", out);
}

/* Print the tensor t being read from r: every value (all), or a listing. */
static void dump_tensor(FILE *out, struct ts_reader *r, const struct ts_tensor *t, int all)
{
	static unsigned char buf[CHUNK];
	struct layout L;
	layout_init(&L, out, t);
	tstext_put_tensor_line(out, t);
	putc('\n', out);
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
		list_tensor(out, r, t, &L);
	}
	layout_end(&L);
}

int tstext_write(FILE *out, struct ts_reader *r, int listing)
{
	struct ts_tensor t;
	for (uint64_t f = 0; ts_next_frame(r); f++) {
		fputs("frame ", out);
		tstext_put_name(out, r->frame);
		fprintf(out, " %" PRIu32, r->ntensors);
		if (listing)
			fprintf(out, "  # frame %" PRIu64, f);
		putc('\n', out);
		while (ts_next_tensor(r, &t))
			dump_tensor(out, r, &t, !listing);
		/* A frame is shown once complete, as it is written: tensordump
		 * at the end of a pipeline follows it live, and what came before
		 * a damaged frame is on the screen before its error. */
		if (fflush(out) != 0)
			return -1;
	}
	return 0;
}
