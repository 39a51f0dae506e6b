/* ts.h: reading and writing charnn tensor streams (formats/tensor.md).
 *
 * A stream is frames of named tensors. Readers and writers here do full,
 * buffered I/O that loops over short reads and writes, check every size
 * against the format's limits before allocating, and verify CRCs. On bad
 * data they print "prog: STREAM: offset N: what was wrong" and exit 1, so
 * a filter never has to check a return value for corruption.
 *
 * Reading, one tensor at a time (constant memory):
 *     ts_ropen(&r, path);
 *     while (ts_next_frame(&r))
 *         while (ts_next_tensor(&r, &t))
 *             ts_read_data(&r, buf, n) ... (any amount up to t.nbytes)
 * or a frame at a time, every tensor loaded (struct ts_frame).
 *
 * Writing: ts_wopen, ts_write_frame(name, count), then count tensors with
 * ts_write_tensor (all data at once) or ts_begin_tensor + ts_write_data. The
 * writer flushes at the end of every frame, so a frame reaches the next
 * stage of a pipeline as soon as it is complete. It works on a non-blocking
 * descriptor too, waiting whenever the descriptor is full. */
#ifndef CHARNN_TS_H
#define CHARNN_TS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "afile.h"

enum ts_dtype { TS_U8 = 1, TS_I32 = 2, TS_I64 = 3, TS_F32 = 4, TS_F64 = 5 };

enum {
	TS_MAX_RANK = 8,
	TS_MAX_NAME = 63,
	TS_MAX_COUNT = 4096,	/* tensors per frame */
	TS_FLAG_LIVE = 1,	/* data CRC not kept (file updated in place) */
	TS_PAD_SHIFT = 8,	/* flags bits 8-15: pad words before the data */
	TS_MAX_PAD = 255
};
#define TS_MAX_DIM ((uint64_t)1 << 40)
#define TS_MAX_ELEMS ((uint64_t)1 << 40)
#define TS_MAX_BYTES ((uint64_t)1 << 42)

/* The header of one tensor. */
struct ts_tensor {
	char name[TS_MAX_NAME + 1];
	int dtype;
	int rank;
	uint64_t dims[TS_MAX_RANK];
	uint64_t count;		/* elements: product of dims (1 for rank 0) */
	uint64_t nbytes;	/* count * dtype size */
	uint32_t flags;		/* TS_FLAG_LIVE or 0 */
	unsigned pad;		/* 8-byte words of zeros before the data (0-255) */
	void *data;		/* loaded data, when part of a struct ts_frame */
};

struct ts_reader {
	int fd;
	const char *path;	/* as shown in messages: file name or <stdin> */
	unsigned char *buf;
	size_t cap, pos, len;
	uint64_t off;		/* stream offset of buf[pos] */
	int eof;
	char frame[TS_MAX_NAME + 1];	/* name of the current frame */
	uint32_t ntensors;	/* tensors in the current frame */
	uint32_t left;		/* tensors of the current frame not yet begun */
	struct ts_tensor cur;	/* tensor whose data is being read */
	uint64_t data_left;	/* its unread data bytes */
	uint64_t tensor_off;	/* its stream offset, for messages */
	uint32_t crc;		/* running CRC of its data */
	int in_tensor;
};

struct ts_writer {
	int fd;
	const char *path;	/* as shown in messages */
	struct afile file;	/* named output (file.path set), renamed at close */
	unsigned char *buf;
	size_t cap, len;
	uint32_t left;		/* tensors still owed to the current frame */
	uint64_t data_left;	/* data bytes still owed to the current tensor */
	uint64_t nbytes;
	uint32_t crc;
	uint64_t off;		/* bytes written so far */
	uint32_t flags;		/* flags written on every tensor (TS_FLAG_LIVE) */
	/* Data alignment: with align (a multiple of 8, at most 2048) each
	 * tensor's data starts at a multiple of align bytes from the start of
	 * the stream, e.g. 64 for a file that is mapped and computed on in
	 * place; else each tensor has pad words of padding (tensordump -r). */
	unsigned align, pad;
	/* On a non-blocking descriptor that is full, called to wait until it
	 * takes more (NULL: poll for it), e.g. to watch another descriptor
	 * meanwhile. */
	void (*stalled)(struct ts_writer *w);
};

/* A whole frame in memory. */
struct ts_frame {
	char name[TS_MAX_NAME + 1];
	uint32_t n;
	struct ts_tensor *t;	/* n tensors, each with data loaded */
};

/* Little-endian integers at p, whatever the machine's byte order. */
static inline uint32_t ts_get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t ts_get64(const unsigned char *p)
{
	return (uint64_t)ts_get32(p) | (uint64_t)ts_get32(p + 4) << 32;
}

static inline void ts_put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline void ts_put64(unsigned char *p, uint64_t v)
{
	ts_put32(p, (uint32_t)v);
	ts_put32(p + 4, (uint32_t)(v >> 32));
}

/* The float and double with these bits. */
static inline float ts_f32_of(uint32_t bits)
{
	float v;
	memcpy(&v, &bits, sizeof v);
	return v;
}

static inline double ts_f64_of(uint64_t bits)
{
	double v;
	memcpy(&v, &bits, sizeof v);
	return v;
}

/* Size in bytes of one element of dtype, or 0 if dtype is unknown. */
size_t ts_dtype_size(int dtype);
/* "f32" and friends; NULL for an unknown code. */
const char *ts_dtype_name(int dtype);
/* Code for a dtype name, or 0. */
int ts_dtype_code(const char *name);
/* 1 if s is a valid tensor (minlen 1) or frame (minlen 0) name. */
int ts_valid_name(const char *s, size_t minlen);
/* NULL if the n bytes at s are a valid name, else what is wrong ("holds a
 * NUL byte", ...), to follow "tensor name" or "frame name" in a message. */
const char *ts_name_check(const char *s, size_t n, size_t minlen);
/* Bytes in t's header, padding included: where its data starts. */
size_t ts_header_bytes(const struct ts_tensor *t);
/* Room for any shape written by ts_shape_fmt, with its terminating NUL. */
enum { TS_SHAPE_BUF = TS_MAX_RANK * 21 + 3 };
/* The shape rank/dims in buf: "(3,4)" as messages write it, or, with text
 * set, "[3 4]" as the text form (formats/text.md) does. Returns buf. */
const char *ts_shape_fmt(char buf[TS_SHAPE_BUF], int rank, const uint64_t *dims, int text);
/* t's shape in the text form, "[2 3]" ("[]" for a scalar); valid until the
 * next call. */
const char *ts_shape_str(const struct ts_tensor *t);
/* Fill t's count and nbytes from dtype/rank/dims, or return a static
 * message saying which limit is broken. */
const char *ts_shape_check(struct ts_tensor *t);

/* Open path for reading ("-" or NULL: stdin). Dies if it cannot. */
void ts_ropen(struct ts_reader *r, const char *path);
/* Same on an open descriptor, shown as name. */
void ts_rfdopen(struct ts_reader *r, int fd, const char *name);
void ts_rclose(struct ts_reader *r);
/* Begin the next frame, skipping what is left of the current one. Returns 1,
 * or 0 at a clean end of stream; dies on a truncated or malformed one. */
int ts_next_frame(struct ts_reader *r);
/* Begin the next tensor of the current frame (skipping unread data of the
 * previous one) and fill *t; 0 when the frame has no more. */
int ts_next_tensor(struct ts_reader *r, struct ts_tensor *t);
/* Read the next n bytes of the current tensor's data (n <= what is left). The
 * data CRC is checked when its last byte has been read. */
void ts_read_data(struct ts_reader *r, void *dst, size_t n);
/* Read the rest of the current tensor's data into new memory, which grows
 * as the data arrives: a header claiming more than comes costs nothing. */
void *ts_load_data(struct ts_reader *r);
/* Die with "prog: STREAM: offset N: message". */
void ts_rdie(const struct ts_reader *r, uint64_t off, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));

/* 1 if reading on would not block: data is buffered, or the descriptor is
 * readable (or at its end). */
int ts_rready(struct ts_reader *r);
/* Read a whole frame with its data; 0 at a clean end of stream. */
int ts_read_frame(struct ts_reader *r, struct ts_frame *f);
void ts_frame_free(struct ts_frame *f);
/* The first tensor called name, or NULL. */
struct ts_tensor *ts_frame_find(const struct ts_frame *f, const char *name);

/* Open path for writing ("-" or NULL: stdout). A named file is written under
 * a temporary name in the same directory and renamed by ts_wclose(). */
void ts_wopen(struct ts_writer *w, const char *path);
void ts_wfdopen(struct ts_writer *w, int fd, const char *name);
/* Flush and close; for a named file, fsync and rename it into place. Dies on
 * any write error (including one reported only now). */
void ts_wclose(struct ts_writer *w);
void ts_wflush(struct ts_writer *w);
/* Start a frame of count tensors. */
void ts_write_frame(struct ts_writer *w, const char *name, uint32_t count);
/* Start a tensor; its nbytes of data follow with ts_write_data. */
void ts_begin_tensor(struct ts_writer *w, const char *name, int dtype, int rank,
		     const uint64_t *dims);
void ts_write_data(struct ts_writer *w, const void *p, size_t n);
/* A whole tensor at once. */
void ts_write_tensor(struct ts_writer *w, const char *name, int dtype, int rank,
		     const uint64_t *dims, const void *data);
/* Write t (header and loaded data) as it is, e.g. to pass it through. */
void ts_write_copy(struct ts_writer *w, const struct ts_tensor *t);

#endif
