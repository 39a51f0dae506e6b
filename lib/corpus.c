/* corpus.c: see corpus.h. */
#include "corpus.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "ts.h"

/* Start t on the stream r is open on; v as for text_open. */
static void text_start(struct text_reader *t, const struct vocab *v)
{
	t->left = 0;
	t->pos = 0;
	t->v = v;
	t->want = v ? (int64_t)vocab_id(v) : -1;
	t->id = -1;
	t->seen_x = 0;
}

void text_open(struct text_reader *t, const char *path, const struct vocab *v)
{
	ts_ropen(&t->r, path);
	text_start(t, v);
}

void text_close(struct text_reader *t)
{
	ts_rclose(&t->r);
}

/* Die unless each of the n indices x, the first at position pos of the
 * text of stream, lies in [0, V). */
static void check_range(const char *stream, const int32_t *x, size_t n, uint64_t pos, int V)
{
	/* x is in [0, V) iff neither x nor V-1-x is negative: or the two
	 * (unsigned: it wraps) over the block, four at a time, and look at the
	 * sign bit. -O2 vectorises no loop; the plain loop made decode 38%
	 * slower, this one 25% (35 MB of text: 47 and 43 ms against 34 ms with
	 * the check inside decode's output loop). */
	typedef uint32_t u32x4 __attribute__((vector_size(16)));
	u32x4 bad = { 0 }, top = (u32x4){ 0 } + (uint32_t)(V - 1);
	size_t i = 0;
	for (; i + 4 <= n; i += 4) {
		u32x4 v;
		memcpy(&v, x + i, sizeof v);
		bad |= v | (top - v);
	}
	uint32_t any = bad[0] | bad[1] | bad[2] | bad[3];
	for (; i < n; i++)
		any |= (uint32_t)x[i] | ((uint32_t)(V - 1) - (uint32_t)x[i]);
	if (!(any >> 31))
		return;
	for (i = 0; i < n; i++)
		if ((uint32_t)x[i] >= (uint32_t)V)
			eprintf("%s: index %ld out of range [0, %d) at position %llu", stream,
				(long)x[i], V, (unsigned long long)(pos + i));
}

/* Die: the text of stream was encoded with vocabulary id, not v. */
static void __attribute__((noreturn))
mismatch(const char *stream, int64_t id, const struct vocab *v)
{
	eprintf("%s: encoded with vocabulary %08llx, %s's is %08lx", stream,
		(unsigned long long)id, v->src, (unsigned long)vocab_id(v));
}

/* Read the fingerprint x (the tensor "vocab_id" just begun) as the current
 * frame's. */
static void read_id(struct text_reader *t, const struct ts_tensor *x)
{
	struct ts_reader *r = &t->r;
	unsigned char b[8];
	if (x->dtype != TS_I64 || x->rank != 0)
		ts_rdie(r, r->tensor_off, "tensor 'vocab_id' is %s of rank %d, expected i64 of rank 0",
			ts_dtype_name(x->dtype), x->rank);
	if (t->id >= 0 || t->seen_x)
		ts_rdie(r, r->tensor_off,
			"tensor 'vocab_id' must come once in its frame, before tensor 'x'");
	ts_read_data(r, b, sizeof b);
	uint64_t id = ts_get64(b);
	if (id > UINT32_MAX)
		ts_rdie(r, r->tensor_off, "tensor 'vocab_id' is %llu, over 2^32-1",
			(unsigned long long)id);
	t->id = (int64_t)id;
}

/* Move to the next tensor "x" of the stream, checking its frame's
 * fingerprint against t->v; 0 at the stream's end. */
static int next_x(struct text_reader *t, struct ts_tensor *x)
{
	struct ts_reader *r = &t->r;
	for (;;) {
		while (!r->in_tensor && r->left == 0) {
			if (!ts_next_frame(r))
				return 0;
			t->id = -1;
			t->seen_x = 0;
		}
		while (ts_next_tensor(r, x)) {
			if (strcmp(x->name, "vocab_id") == 0)
				read_id(t, x);
			if (strcmp(x->name, "x") != 0)
				continue;
			if (x->dtype != TS_I32 || x->rank != 1)
				ts_rdie(r, r->tensor_off,
					"tensor 'x' is %s of rank %d, expected i32 of rank 1",
					ts_dtype_name(x->dtype), x->rank);
			t->seen_x = 1;
			if (t->want >= 0 && t->id >= 0 && t->id != t->want)
				mismatch(r->path, t->id, t->v);
			return 1;
		}
	}
}

size_t text_read(struct text_reader *t, int32_t *dst, size_t max)
{
	struct ts_tensor x;
	while (t->left == 0)
		if (!next_x(t, &x))
			return 0;
		else
			t->left = x.count;
	size_t n = t->left < max ? (size_t)t->left : max;
	ts_read_data(&t->r, dst, n * sizeof *dst);
	if (t->v)
		check_range(t->r.path, dst, n, t->pos, t->v->V);
	t->left -= n;
	t->pos += n;
	return n;
}

/* Record the fingerprint of the frame of the x t has just met in c: every
 * frame that has one must have the same. */
static void note_id(struct corpus *c, const struct text_reader *t)
{
	if (t->id < 0)
		return;
	if (c->vocab_id >= 0 && c->vocab_id != t->id)
		eprintf("%s: frames encoded with two vocabularies, %08llx and %08llx", c->path,
			(unsigned long long)c->vocab_id, (unsigned long long)t->id);
	c->vocab_id = t->id;
}

void corpus_open(struct corpus *c, const char *path, int V)
{
	memset(c, 0, sizeof *c);
	c->path = path;
	c->V = V;
	c->vocab_id = -1;
	c->fd = open(path, O_RDONLY);
	if (c->fd < 0)
		eprintf("%s:", path);
	int fd = dup(c->fd);
	if (fd < 0)
		eprintf("%s: dup:", path);

	struct text_reader tr;
	ts_rfdopen(&tr.r, fd, path);
	text_start(&tr, NULL);
	size_t cap = 8;
	c->runs = emalloc(cap * sizeof *c->runs);
	struct ts_tensor t;
	while (next_x(&tr, &t)) {
		note_id(c, &tr);
		if (c->nruns == cap) {
			cap *= 2;
			c->runs = erealloc(c->runs, cap * sizeof *c->runs);
		}
		c->runs[c->nruns++] = (struct corpus_run){ tr.r.off, c->n, t.count };
		c->n += t.count;
	}
	ts_rclose(&tr.r);
	if (c->n == 0)
		eprintf("%s: no text in the corpus (no tensor 'x')", path);
}

void corpus_check_vocab(const struct corpus *c, const struct vocab *v)
{
	if (c->vocab_id >= 0 && c->vocab_id != (int64_t)vocab_id(v))
		mismatch(c->path, c->vocab_id, v);
}

void corpus_close(struct corpus *c)
{
	close(c->fd);
	free(c->runs);
	memset(c, 0, sizeof *c);
}

void cursor_init(struct corpus_cursor *k, const struct corpus *c, size_t cap)
{
	k->c = c;
	k->pos = 0;
	k->len = 0;
	k->cap = cap;
	k->buf = emalloc(emul(cap, sizeof *k->buf, "cursor"));
}

void cursor_free(struct corpus_cursor *k)
{
	free(k->buf);
	k->buf = NULL;
}

/* Fill k's buffer with the text from pos on. */
static void refill(struct corpus_cursor *k, uint64_t pos)
{
	const struct corpus *c = k->c;
	size_t lo = 0, hi = c->nruns;
	while (hi - lo > 1) {	/* the run holding pos */
		size_t mid = (lo + hi) / 2;
		if (c->runs[mid].start <= pos)
			lo = mid;
		else
			hi = mid;
	}
	k->pos = pos;
	k->len = 0;
	for (size_t i = lo; i < c->nruns && k->len < k->cap; i++) {
		const struct corpus_run *run = &c->runs[i];
		uint64_t skip = pos + k->len - run->start;
		uint64_t n = run->n - skip;
		if (n > k->cap - k->len)
			n = k->cap - k->len;
		char *dst = (char *)(k->buf + k->len);
		size_t want = (size_t)n * sizeof *k->buf;
		off_t at = (off_t)(run->off + skip * sizeof *k->buf);
		while (want > 0) {
			ssize_t got = pread(c->fd, dst, want, at);
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0)
				eprintf("%s: read error:", c->path);
			if (got == 0)
				eprintf("%s: file shrank while training", c->path);
			dst += got;
			want -= (size_t)got;
			at += got;
		}
		check_range(c->path, k->buf + k->len, (size_t)n, pos + k->len, c->V);
		k->len += (size_t)n;
	}
}

void cursor_read(struct corpus_cursor *k, uint64_t pos, int32_t *dst, size_t n)
{
	while (n > 0) {
		if (pos < k->pos || pos >= k->pos + k->len)
			refill(k, pos);
		size_t off = (size_t)(pos - k->pos);
		size_t m = k->len - off < n ? k->len - off : n;
		memcpy(dst, k->buf + off, m * sizeof *dst);
		dst += m;
		pos += m;
		n -= m;
	}
}

void corpus_window(struct corpus_cursor *cur, int B, uint64_t L, uint64_t pos, int T,
		   int32_t *x, int32_t *y, int32_t *run)
{
	for (int b = 0; b < B; b++) {
		cursor_read(&cur[b], (uint64_t)b * L + pos, run, (size_t)T + 1);
		for (int t = 0; t < T; t++) {
			x[(size_t)t * B + b] = run[t];
			y[(size_t)t * B + b] = run[t + 1];
		}
	}
}
