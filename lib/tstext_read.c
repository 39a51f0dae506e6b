/* tstext_read.c: the reader of the text form (formats/text.md), for
 * tensordump -r. See tstext.h.
 *
 * Values stream into the writer as they are parsed, a CHUNK at a time; a
 * frame whose line gives no tensor count is held in memory until it ends,
 * since the writer needs the count first. */
#include "tstext.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"

enum { CHUNK = TSTEXT_CHUNK };

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
	struct ts_writer *w;
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
	unsigned char *chunk;	/* CHUNK bytes */
	size_t clen;
};

/* Die with "prog: FILE: line N: message". */
#define perr_at(ps, line, ...) tstext_die_line((ps)->path, (line), __VA_ARGS__)
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

const char *tstext_get_name(const char *s, size_t n, char *dst, size_t minlen)
{
	static char why[64];
	size_t k = 0;
	if (n == 1 && s[0] == '-') {
		dst[0] = 0;
		return minlen ? ": a tensor name cannot be empty" : NULL;
	}
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
			int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return ": '%' must be followed by two hex digits";
			c = hi << 4 | lo;
			i += 2;
		}
		if (k == TS_MAX_NAME)
			return " is longer than 63 bytes";
		dst[k++] = (char)c;
	}
	dst[k] = 0;
	const char *bad = ts_name_check(dst, k, minlen);	/* %00 included */
	if (!bad)
		return NULL;
	snprintf(why, sizeof why, " %s", bad);
	return why;
}

/* Decode the name word s into dst, or die; what says whose. */
static void parse_name(struct parser *ps, const char *s, size_t n, char *dst,
		       size_t minlen, const char *what)
{
	if (!s)
		perr(ps, "%s name missing", what);
	const char *bad = tstext_get_name(s, n, dst, minlen);
	if (bad)
		perr(ps, "%s name '%s'%s", what, show(s, n), bad);
}

/* Pass the buffered data of the current tensor on: to the writer, or to
 * the held frame. */
static void flush_chunk(struct parser *ps)
{
	if (ps->declared >= 0) {
		ts_write_data(ps->w, ps->chunk, ps->clen);
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
		ts_write_frame(ps->w, ps->frame, ps->ntensors);
		for (uint32_t i = 0; i < ps->ntensors; i++) {
			struct ts_tensor *t = &ps->held[i].t;
			ps->w->flags = t->flags;
			ps->w->pad = t->pad;
			ts_write_tensor(ps->w, t->name, t->dtype, t->rank, t->dims, t->data);
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
		ts_write_frame(ps->w, name, (uint32_t)count);
}

/* The shape after a tensor's dtype: [D0 D1 ...] or (D0, D1, ...), spaces
 * and commas between; into t's rank and dims, checked against the limits. */
static void tensor_shape(struct parser *ps, struct ts_tensor *t)
{
	char *s = ps->p;
	while (is_space(*s))
		s++;
	if (*s != '[' && *s != '(')
		perr(ps, "tensor '%s': shape missing (tensor NAME DTYPE [DIMS])", t->name);
	char close = *s++ == '[' ? ']' : ')';
	for (;;) {
		while (is_space(*s) || *s == ',')
			s++;
		if (*s == close)
			break;
		if (*s < '0' || *s > '9')
			perr(ps, "tensor '%s': bad shape: expected a size or '%c', found '%s'",
			     t->name, close, *s ? show(s, 1) : "end of line");
		if (t->rank == TS_MAX_RANK)
			perr(ps, "tensor '%s': rank over %d", t->name, TS_MAX_RANK);
		uint64_t d = 0;
		for (; *s >= '0' && *s <= '9'; s++) {
			if (d > TS_MAX_DIM)
				break;	/* too big either way; keep d from wrapping */
			d = 10 * d + (uint64_t)(*s - '0');
		}
		while (*s >= '0' && *s <= '9')
			s++;
		t->dims[t->rank++] = d;
	}
	ps->p = s + 1;
	const char *bad = ts_shape_check(t);
	if (bad)
		perr(ps, "tensor '%s': %s", t->name, bad);
}

/* "[live] [pad N]" after a tensor's shape, into t's flags and pad. */
static void tensor_flags(struct parser *ps, struct ts_tensor *t)
{
	size_t n;
	char *s;
	char *rest = ps->p;
	if ((s = word(ps, &n, 0)) != NULL && is_word(s, n, "live"))
		t->flags = TS_FLAG_LIVE;
	else
		ps->p = rest;	/* values, on the same line */
	rest = ps->p;
	if ((s = word(ps, &n, 0)) != NULL && is_word(s, n, "pad")) {
		unsigned long k = 0;
		if ((s = word(ps, &n, 0)) == NULL)
			perr(ps, "tensor '%s': pad without a count", t->name);
		for (size_t i = 0; i < n && k <= TS_MAX_PAD; i++) {
			if (s[i] < '0' || s[i] > '9')
				perr(ps, "tensor '%s': bad pad count '%s'", t->name, show(s, n));
			k = 10 * k + (unsigned long)(s[i] - '0');
		}
		if (k > TS_MAX_PAD)
			perr(ps, "tensor '%s': pad %s words (limit %d)", t->name, show(s, n),
			     TS_MAX_PAD);
		t->pad = (unsigned)k;
	} else {
		ps->p = rest;
	}
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

	tensor_shape(ps, &t);
	tensor_flags(ps, &t);

	if (ps->declared >= 0) {
		ps->w->flags = t.flags;
		ps->w->pad = t.pad;
		ts_begin_tensor(ps->w, t.name, t.dtype, t.rank, t.dims);
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
		*bits = (f32 ? TSTEXT_F32_QNAN : TSTEXT_F64_QNAN) | neg;
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
		if (f32 ? !isnan(ts_f32_of((uint32_t)b)) : !isnan(ts_f64_of(b)))
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
			PRIu64 " values", ps->t.name, ts_shape_str(&ps->t), ps->have,
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
		     show(s, n), ps->t.name, ts_shape_str(&ps->t), ps->t.count,
		     ps->t.count == 1 ? "" : "s");
	else
		perr(ps, "expected 'frame' or 'tensor', found '%s'", show(s, n));
}

/* Read the text form from path (NULL or "-": stdin), write the binary
 * stream on stdout. */
void tstext_die_line(const char *path, unsigned long line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	eprintf("%s: line %lu: %s", path, line, msg);
}

void tstext_read(FILE *in, const char *path, struct ts_writer *w)
{
	struct parser *ps = ecalloc(1, sizeof *ps);
	ps->in = in;
	ps->path = path;
	ps->w = w;
	ps->chunk = emalloc(CHUNK);
	while (next_line(ps)) {
		char *s;
		size_t n;
		while ((s = word(ps, &n, ps->in_tensor)) != NULL) {
			if (ps->in_tensor)
				value(ps, s, n);
			else
				statement(ps, s, n);
		}
	}
	if (ps->in_tensor)
		perr_at(ps, ps->tensor_line, "tensor '%s' %s has %" PRIu64 " of its %" PRIu64
			" values", ps->t.name, ts_shape_str(&ps->t), ps->have, ps->t.count);
	end_frame(ps);
	free(ps->chunk);
	free(ps->held);
	free(ps->line);
	free(ps);
}
