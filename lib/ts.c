/* ts.c: see ts.h and formats/tensor.md. */
#define _GNU_SOURCE	/* F_SETPIPE_SZ */
#include "ts.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32.h"
#include "err.h"
#include "fdio.h"

/* Tensor data is used in place in host order, which the format fixes. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "charnn needs a little-endian machine: tensor data is used in place"
#endif

enum {
	RBUF = 1 << 18, WBUF = 1 << 18, PIPE_BYTES = 1 << 20,
	LOAD_STEP = 1 << 16	/* first allocation for data not yet seen */
};

static const unsigned char frame_magic[4] = { 'c', 'h', 'n', 'F' };
static const unsigned char tensor_magic[4] = { 'c', 'h', 'n', 'T' };

static uint64_t pad8(uint64_t n)
{
	return (n + 7) & ~(uint64_t)7;
}

size_t ts_header_bytes(const struct ts_tensor *t)
{
	return 16 + 8 * (size_t)t->rank + (size_t)pad8(strlen(t->name)) + 8 * (size_t)t->pad;
}

/* 1 if the n bytes at p are all zero: padding must be, so that a stream
 * read and written again is the same bytes. */
static int zeros(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* CRC-32 of a header with its CRC field (bytes 12..15) taken as zero: the
 * field is zeroed first, so the header is one run of bytes. */
static uint32_t header_crc(unsigned char *h, size_t n)
{
	memset(h + 12, 0, 4);
	return crc32_update(0, h, n);
}

/* 1 if the header's CRC field holds its CRC (the field is zero after). */
static int header_ok(unsigned char *h, size_t n)
{
	uint32_t want = ts_get32(h + 12);
	return header_crc(h, n) == want;
}

size_t ts_dtype_size(int dtype)
{
	switch (dtype) {
	case TS_U8: return 1;
	case TS_I32: return 4;
	case TS_I64: return 8;
	case TS_F32: return 4;
	case TS_F64: return 8;
	}
	return 0;
}

static const char *const dtype_names[] = { NULL, "u8", "i32", "i64", "f32", "f64" };

const char *ts_dtype_name(int dtype)
{
	return dtype >= TS_U8 && dtype <= TS_F64 ? dtype_names[dtype] : NULL;
}

int ts_dtype_code(const char *name)
{
	for (int i = TS_U8; i <= TS_F64; i++)
		if (strcmp(name, dtype_names[i]) == 0)
			return i;
	return 0;
}

const char *ts_name_check(const char *s, size_t n, size_t minlen)
{
	if (n < minlen || n > TS_MAX_NAME)
		return minlen ? "is not 1 to 63 bytes long" : "is longer than 63 bytes";
	if (memchr(s, 0, n))
		return "holds a NUL byte";
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return "is not printable ASCII";
	return NULL;
}

int ts_valid_name(const char *s, size_t minlen)
{
	return ts_name_check(s, strlen(s), minlen) == NULL;
}

const char *ts_shape_fmt(char buf[TS_SHAPE_BUF], int rank, const uint64_t *dims, int text)
{
	size_t len = 0, n = TS_SHAPE_BUF;
	buf[len++] = text ? '[' : '(';
	for (int i = 0; i < rank && i < TS_MAX_RANK; i++)
		len += (size_t)snprintf(buf + len, n - len, "%s%llu",
					i ? (text ? " " : ",") : "",
					(unsigned long long)dims[i]);
	snprintf(buf + len, n - len, "%s", text ? "]" : ")");
	return buf;
}

const char *ts_shape_str(const struct ts_tensor *t)
{
	static char buf[TS_SHAPE_BUF];
	return ts_shape_fmt(buf, t->rank, t->dims, 1);
}

const char *ts_shape_check(struct ts_tensor *t)
{
	size_t size = ts_dtype_size(t->dtype);
	if (!size)
		return "unknown dtype";
	if (t->rank < 0 || t->rank > TS_MAX_RANK)
		return "rank over 8";
	uint64_t count = 1;
	for (int i = 0; i < t->rank; i++) {
		if (t->dims[i] > TS_MAX_DIM)
			return "dimension over 2^40";
		if (__builtin_mul_overflow(count, t->dims[i], &count) || count > TS_MAX_ELEMS)
			return "more than 2^40 elements";
	}
	t->count = count;
	t->nbytes = count * size;
	if (t->nbytes > TS_MAX_BYTES)
		return "more than 2^42 bytes";
	return NULL;
}

/* A bigger pipe buffer lets a whole frame pass in one go; best effort. */
static void grow_pipe(int fd)
{
#ifdef F_SETPIPE_SZ
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) &&
	    fcntl(fd, F_GETPIPE_SZ) < PIPE_BYTES)
		(void)fcntl(fd, F_SETPIPE_SZ, PIPE_BYTES);
#else
	(void)fd;
#endif
}

/* ---- reading ---- */

void ts_rdie(const struct ts_reader *r, uint64_t off, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	eprintf("%s: offset %llu: %s", r->path, (unsigned long long)off, msg);
}

void ts_rfdopen(struct ts_reader *r, int fd, const char *name)
{
	memset(r, 0, sizeof *r);
	r->fd = fd;
	r->path = name;
	r->cap = RBUF;
	r->buf = emalloc(r->cap);
	grow_pipe(fd);
}

void ts_ropen(struct ts_reader *r, const char *path)
{
	if (!path || strcmp(path, "-") == 0) {
		ts_rfdopen(r, 0, "<stdin>");
		return;
	}
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		eprintf("%s:", path);
	ts_rfdopen(r, fd, path);
}

void ts_rclose(struct ts_reader *r)
{
	if (r->fd > 2)
		close(r->fd);
	free(r->buf);
	r->buf = NULL;
}

/* Have at least need bytes (need <= cap) buffered, unless the stream ends
 * first; returns how many are buffered. */
static size_t fill(struct ts_reader *r, size_t need)
{
	if (r->len - r->pos >= need)
		return r->len - r->pos;
	if (r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
	}
	while (r->len < need && !r->eof) {
		ssize_t n = fd_read(r->fd, r->buf + r->len, r->cap - r->len);
		if (n < 0)
			eprintf("%s: read error:", r->path);
		if (n == 0)
			r->eof = 1;
		r->len += (size_t)n;
	}
	return r->len;
}

/* Copy exactly n bytes of the stream to dst (NULL: discard), or die naming
 * what was being read. */
static void take(struct ts_reader *r, void *dst, size_t n, const char *what)
{
	unsigned char *d = dst;
	uint64_t start = r->off;
	while (n > 0) {
		if (r->pos == r->len) {
			r->pos = r->len = 0;
			/* Large reads go straight to their destination. */
			if (d && n >= r->cap / 2 && !r->eof) {
				ssize_t k = fd_read(r->fd, d, n);
				if (k < 0)
					eprintf("%s: read error:", r->path);
				if (k == 0) {
					r->eof = 1;
					ts_rdie(r, start, "truncated stream (%s)", what);
				}
				d += k;
				n -= (size_t)k;
				r->off += (uint64_t)k;
				continue;
			}
			if (fill(r, 1) == 0)
				ts_rdie(r, start, "truncated stream (%s)", what);
		}
		size_t k = r->len - r->pos;
		if (k > n)
			k = n;
		if (d) {
			memcpy(d, r->buf + r->pos, k);
			d += k;
		}
		r->pos += k;
		r->off += k;
		n -= k;
	}
}

int ts_next_frame(struct ts_reader *r)
{
	struct ts_tensor t;
	while (r->left > 0 || r->in_tensor)
		ts_next_tensor(r, &t);
	unsigned char h[16 + TS_MAX_NAME + 1 + 8];
	uint64_t start = r->off;
	size_t have = fill(r, 16);
	if (have == 0)
		return 0;
	if (have < 4 && memcmp(r->buf + r->pos, frame_magic, have) == 0)
		ts_rdie(r, start, "truncated stream (frame header)");
	if (have < 4 || memcmp(r->buf + r->pos, frame_magic, 4) != 0) {
		if (have >= 4 && memcmp(r->buf + r->pos, tensor_magic, 4) == 0)
			ts_rdie(r, start, "tensor record where a frame header was expected");
		ts_rdie(r, start, "bad magic: not a charnn tensor stream");
	}
	take(r, h, 16, "frame header");
	if (h[4] != 1)
		ts_rdie(r, start, "unsupported version %u", h[4]);
	unsigned nlen = h[5];
	if (nlen > TS_MAX_NAME)
		ts_rdie(r, start, "frame name of %u bytes (limit 63)", nlen);
	if (h[6] || h[7])
		ts_rdie(r, start, "reserved bytes not zero in frame header");
	uint32_t count = ts_get32(h + 8);
	size_t hlen = 16 + pad8(nlen);
	take(r, h + 16, hlen - 16, "frame header");
	if (!header_ok(h, hlen))
		ts_rdie(r, start, "frame header CRC mismatch");
	if (count > TS_MAX_COUNT)
		ts_rdie(r, start, "frame of %u tensors (limit %d)", count, TS_MAX_COUNT);
	if (!zeros(h + 16 + nlen, hlen - 16 - nlen))
		ts_rdie(r, start, "padding not zero in frame header");
	const char *bad = ts_name_check((const char *)h + 16, nlen, 0);
	if (bad)
		ts_rdie(r, start, "frame name %s", bad);
	memcpy(r->frame, h + 16, nlen);
	r->frame[nlen] = 0;
	r->ntensors = r->left = count;
	return 1;
}

/* After the last data byte: padding, data CRC, reserved word. */
static void finish_tensor(struct ts_reader *r)
{
	unsigned char tail[16];
	size_t padn = (size_t)(pad8(r->cur.nbytes) - r->cur.nbytes);
	uint64_t where = r->off;
	take(r, tail, padn + 8, r->cur.name);
	if (!zeros(tail, padn))
		ts_rdie(r, where, "padding not zero after tensor '%s'", r->cur.name);
	if (!zeros(tail + padn + 4, 4))
		ts_rdie(r, where + padn + 4, "reserved word not zero after tensor '%s'",
			r->cur.name);
	/* A live tensor stores 0: anything else is damage, not a CRC. */
	uint32_t want = r->cur.flags & TS_FLAG_LIVE ? 0 : r->crc;
	if (ts_get32(tail + padn) != want)
		ts_rdie(r, where, "%s '%s'", want ? "data CRC mismatch in tensor" :
			"data CRC not zero in a live tensor", r->cur.name);
	r->in_tensor = 0;
}

int ts_next_tensor(struct ts_reader *r, struct ts_tensor *t)
{
	static unsigned char junk[1 << 16];
	while (r->in_tensor) {
		size_t k = r->data_left < sizeof junk ? (size_t)r->data_left : sizeof junk;
		ts_read_data(r, junk, k);
	}
	if (r->left == 0)
		return 0;
	unsigned char h[16 + 8 * TS_MAX_RANK + TS_MAX_NAME + 1 + 8 * (TS_MAX_PAD + 1)];
	uint64_t start = r->off;
	size_t have = fill(r, 4);
	if (have >= 4 && memcmp(r->buf + r->pos, tensor_magic, 4) != 0)
		ts_rdie(r, start, "bad magic: expected a tensor record");
	take(r, h, 16, "tensor header");
	if (h[4] != 1)
		ts_rdie(r, start, "unsupported version %u", h[4]);
	memset(t, 0, sizeof *t);
	t->dtype = h[5];
	t->rank = h[6];
	unsigned nlen = h[7];
	t->flags = ts_get32(h + 8);
	if (!ts_dtype_size(t->dtype))
		ts_rdie(r, start, "unknown dtype code %d", t->dtype);
	if (t->rank > TS_MAX_RANK)
		ts_rdie(r, start, "rank %d (limit 8)", t->rank);
	if (nlen < 1 || nlen > TS_MAX_NAME)
		ts_rdie(r, start, "tensor name of %u bytes (must be 1 to 63)", nlen);
	if (t->flags & ~((uint32_t)TS_FLAG_LIVE | (uint32_t)TS_MAX_PAD << TS_PAD_SHIFT))
		ts_rdie(r, start, "unknown flags 0x%x", t->flags);
	t->pad = t->flags >> TS_PAD_SHIFT & TS_MAX_PAD;
	t->flags &= TS_FLAG_LIVE;
	size_t hlen = 16 + 8 * (size_t)t->rank + pad8(nlen) + 8 * (size_t)t->pad;
	take(r, h + 16, hlen - 16, "tensor header");
	for (int i = 0; i < t->rank; i++)
		t->dims[i] = ts_get64(h + 16 + 8 * i);
	const char *bad = ts_name_check((const char *)h + 16 + 8 * t->rank, nlen, 1);
	if (bad)
		ts_rdie(r, start, "tensor name %s", bad);
	memcpy(t->name, h + 16 + 8 * t->rank, nlen);
	t->name[nlen] = 0;
	if (!zeros(h + 16 + 8 * t->rank + nlen, hlen - 16 - 8 * (size_t)t->rank - nlen))
		ts_rdie(r, start, "padding not zero in tensor header");
	/* Limits before the CRC: a hand-made header with absurd dimensions is
	 * reported as such. Nothing has been allocated either way. */
	bad = ts_shape_check(t);
	if (bad)
		ts_rdie(r, start, "tensor '%s': %s", t->name, bad);
	if (!header_ok(h, hlen))
		ts_rdie(r, start, "tensor header CRC mismatch");
	r->left--;
	r->cur = *t;
	r->data_left = t->nbytes;
	r->tensor_off = start;
	r->crc = 0;
	r->in_tensor = 1;
	if (t->nbytes == 0)
		finish_tensor(r);
	return 1;
}

void ts_read_data(struct ts_reader *r, void *dst, size_t n)
{
	if (!r->in_tensor || n > r->data_left)
		eprintf("internal error: read past the data of a tensor");
	if (n == 0)
		return;
	take(r, dst, n, r->cur.name);
	if (!(r->cur.flags & TS_FLAG_LIVE))
		r->crc = crc32_update(r->crc, dst, n);
	r->data_left -= n;
	if (r->data_left == 0)
		finish_tensor(r);
}

/* Bytes certainly still to come when r reads a regular file (what it holds
 * past the read position, plus what is buffered); 0 if r reads anything
 * else. */
static uint64_t bytes_ahead(const struct ts_reader *r)
{
	struct stat st;
	if (fstat(r->fd, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	off_t at = lseek(r->fd, 0, SEEK_CUR);
	if (at < 0 || st.st_size < at)
		return 0;
	return (uint64_t)(st.st_size - at) + (r->len - r->pos);
}

/* The memory grows with the data as it arrives (doubling from LOAD_STEP),
 * unless a regular file holds it all: a header that lies about its size
 * then costs a truncation error, not an allocation of what it claims. */
void *ts_load_data(struct ts_reader *r)
{
	uint64_t n = r->data_left;
	if (n > SIZE_MAX)
		ts_rdie(r, r->tensor_off, "tensor '%s' of %llu bytes is too large to load",
			r->cur.name, (unsigned long long)n);
	size_t cap = n <= LOAD_STEP || bytes_ahead(r) >= n ? (size_t)n : LOAD_STEP;
	unsigned char *p = emalloc(cap ? cap : 1);
	for (size_t got = 0; got < n;) {
		if (got == cap) {
			cap = n - cap < cap ? (size_t)n : 2 * cap;
			p = erealloc(p, cap);
		}
		ts_read_data(r, p + got, cap - got);
		got = cap;
	}
	return p;
}

int ts_read_frame(struct ts_reader *r, struct ts_frame *f)
{
	memset(f, 0, sizeof *f);
	if (!ts_next_frame(r))
		return 0;
	memcpy(f->name, r->frame, sizeof f->name);
	f->t = ecalloc(r->ntensors, sizeof *f->t);
	struct ts_tensor t;
	while (ts_next_tensor(r, &t)) {
		t.data = ts_load_data(r);
		f->t[f->n++] = t;
	}
	return 1;
}

void ts_frame_free(struct ts_frame *f)
{
	for (uint32_t i = 0; i < f->n; i++)
		free(f->t[i].data);
	free(f->t);
	memset(f, 0, sizeof *f);
}

int ts_rready(struct ts_reader *r)
{
	if (r->pos < r->len || r->eof)
		return 1;
	struct pollfd p = { .fd = r->fd, .events = POLLIN };
	return poll(&p, 1, 0) > 0;
}

struct ts_tensor *ts_frame_find(const struct ts_frame *f, const char *name)
{
	for (uint32_t i = 0; i < f->n; i++)
		if (strcmp(f->t[i].name, name) == 0)
			return &f->t[i];
	return NULL;
}

/* ---- writing ---- */

void ts_wfdopen(struct ts_writer *w, int fd, const char *name)
{
	/* A closed descriptor is an error now, even if nothing is written. */
	if (fcntl(fd, F_GETFD) < 0)
		eprintf("%s: write error:", name);
	memset(w, 0, sizeof *w);
	w->fd = fd;
	w->path = name;
	w->cap = WBUF;
	w->buf = emalloc(w->cap);
	grow_pipe(fd);
}

void ts_wopen(struct ts_writer *w, const char *path)
{
	if (!path || strcmp(path, "-") == 0) {
		ts_wfdopen(w, 1, "<stdout>");
		return;
	}
	struct afile a;
	afile_open(&a, path);
	ts_wfdopen(w, a.fd, a.path);
	w->file = a;
}

/* w's descriptor is non-blocking and full: wait until it takes more. */
static void wwait(struct ts_writer *w)
{
	if (w->stalled) {
		w->stalled(w);
		return;
	}
	struct pollfd p = { .fd = w->fd, .events = POLLOUT };
	if (poll(&p, 1, -1) < 0 && errno != EINTR)
		eprintf("%s: poll:", w->path);
}

static void wraw(struct ts_writer *w, const void *p, size_t n)
{
	const char *s = p;
	while (n > 0) {
		ssize_t k = write(w->fd, s, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				wwait(w);
				continue;
			}
			eprintf("%s: write error:", w->path);
		}
		s += k;
		n -= (size_t)k;
	}
}

void ts_wflush(struct ts_writer *w)
{
	if (w->len) {
		wraw(w, w->buf, w->len);
		w->len = 0;
	}
}

static void put(struct ts_writer *w, const void *p, size_t n)
{
	w->off += n;
	if (w->len + n > w->cap) {
		ts_wflush(w);
		if (n >= w->cap / 2) {
			wraw(w, p, n);
			return;
		}
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

void ts_wclose(struct ts_writer *w)
{
	if (w->left || w->data_left)
		eprintf("internal error: %s closed in the middle of a frame", w->path);
	ts_wflush(w);
	if (w->file.path)
		afile_commit(&w->file, 1);
	free(w->buf);
	memset(w, 0, sizeof *w);
	w->fd = -1;
}

void ts_write_frame(struct ts_writer *w, const char *name, uint32_t count)
{
	if (w->left || w->data_left)
		eprintf("internal error: frame '%s' begun inside another", name);
	if (!ts_valid_name(name, 0) || count > TS_MAX_COUNT)
		eprintf("internal error: bad frame '%s' of %u tensors", name, count);
	unsigned char h[16 + TS_MAX_NAME + 1 + 8] = { 0 };
	size_t nlen = strlen(name), hlen = 16 + pad8(nlen);
	memcpy(h, frame_magic, 4);
	h[4] = 1;
	h[5] = (unsigned char)nlen;
	ts_put32(h + 8, count);
	memcpy(h + 16, name, nlen);
	ts_put32(h + 12, header_crc(h, hlen));
	put(w, h, hlen);
	w->left = count;
	if (count == 0)
		ts_wflush(w);
}

static void end_tensor(struct ts_writer *w)
{
	static const unsigned char zero[8];
	unsigned char tail[8] = { 0 };
	put(w, zero, (size_t)(pad8(w->nbytes) - w->nbytes));
	if (!(w->flags & TS_FLAG_LIVE))
		ts_put32(tail, w->crc);
	put(w, tail, 8);
	if (w->left == 0)
		ts_wflush(w);	/* the frame is complete: let it go */
}

void ts_begin_tensor(struct ts_writer *w, const char *name, int dtype, int rank,
		     const uint64_t *dims)
{
	struct ts_tensor t = { .dtype = dtype, .rank = rank };
	if (w->left == 0 || w->data_left)
		eprintf("internal error: tensor '%s' outside a frame", name);
	if (!ts_valid_name(name, 1))
		eprintf("internal error: bad tensor name '%s'", name);
	if (rank < 0 || rank > TS_MAX_RANK)
		eprintf("internal error: tensor '%s' of rank %d", name, rank);
	if (rank > 0)	/* a scalar may come with dims NULL */
		memcpy(t.dims, dims, sizeof *dims * (size_t)rank);
	const char *bad = ts_shape_check(&t);
	if (bad)
		eprintf("%s: tensor '%s': %s", w->path, name, bad);
	static const unsigned char zero[8 * TS_MAX_PAD];
	unsigned char h[16 + 8 * TS_MAX_RANK + TS_MAX_NAME + 1 + 8] = { 0 };
	size_t nlen = strlen(name), hlen = 16 + 8 * (size_t)rank + pad8(nlen);
	unsigned pad = w->pad;
	if (w->align) {
		if (w->align % 8 || w->align > 8 * (TS_MAX_PAD + 1))
			eprintf("internal error: alignment %u", w->align);
		pad = (unsigned)((w->align - (w->off + hlen) % w->align) % w->align / 8);
	}
	if (pad > TS_MAX_PAD)
		eprintf("internal error: %u pad words", pad);
	memcpy(h, tensor_magic, 4);
	h[4] = 1;
	h[5] = (unsigned char)dtype;
	h[6] = (unsigned char)rank;
	h[7] = (unsigned char)nlen;
	ts_put32(h + 8, w->flags | (uint32_t)pad << TS_PAD_SHIFT);
	for (int i = 0; i < rank; i++)
		ts_put64(h + 16 + 8 * i, dims[i]);
	memcpy(h + 16 + 8 * rank, name, nlen);
	ts_put32(h + 12, crc32_update(header_crc(h, hlen), zero, 8 * (size_t)pad));
	put(w, h, hlen);
	put(w, zero, 8 * (size_t)pad);
	w->left--;
	w->nbytes = w->data_left = t.nbytes;
	w->crc = 0;
	if (t.nbytes == 0)
		end_tensor(w);
}

void ts_write_data(struct ts_writer *w, const void *p, size_t n)
{
	if (n > w->data_left)
		eprintf("internal error: %s: more data than the tensor holds", w->path);
	if (n == 0)
		return;
	if (!(w->flags & TS_FLAG_LIVE))
		w->crc = crc32_update(w->crc, p, n);
	put(w, p, n);
	w->data_left -= n;
	if (w->data_left == 0)
		end_tensor(w);
}

void ts_write_tensor(struct ts_writer *w, const char *name, int dtype, int rank,
		     const uint64_t *dims, const void *data)
{
	ts_begin_tensor(w, name, dtype, rank, dims);
	ts_write_data(w, data, (size_t)w->data_left);
}

void ts_write_copy(struct ts_writer *w, const struct ts_tensor *t)
{
	ts_write_tensor(w, t->name, t->dtype, t->rank, t->dims, t->data);
}
