/* textio.c: see textio.h.
 *
 * The decoder is the hot loop of vocab and encode. It takes eight ASCII
 * bytes at a time, decodes well-formed 2- and 3-byte sequences inline, and
 * leaves everything else (4-byte sequences, errors, a sequence cut by the
 * end of the buffer) to utf8_decode, so strictness lives in one place. */
#include "textio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "fdio.h"
#include "utf8.h"

enum { TXBUF = 1 << 20 };
#define HIGH_BITS 0x8080808080808080ull

void tx_open(struct textin *t, const char *path, int bytes)
{
	memset(t, 0, sizeof *t);
	if (!path || strcmp(path, "-") == 0) {
		t->fd = 0;
		t->path = "<stdin>";
	} else {
		t->fd = open(path, O_RDONLY);
		if (t->fd < 0)
			eprintf("%s:", path);
		t->path = path;
	}
	t->bytes = bytes;
	t->cap = TXBUF;
	t->buf = emalloc(t->cap);
}

void tx_close(struct textin *t)
{
	if (t->fd > 2)
		close(t->fd);
	free(t->buf);
	t->buf = NULL;
}

/* Keep the unread bytes (at most a partial character), append what read()
 * gives; sets eof when it gives nothing. */
static void refill(struct textin *t)
{
	if (t->pos > 0) {
		memmove(t->buf, t->buf + t->pos, t->len - t->pos);
		t->len -= t->pos;
		t->off += t->pos;
		t->pos = 0;
	}
	ssize_t n = fd_read(t->fd, t->buf + t->len, t->cap - t->len);
	if (n < 0)
		eprintf("%s: read error:", t->path);
	if (n == 0)
		t->eof = 1;
	t->len += (size_t)n;
}

/* Continuation bytes (10xxxxxx) among the n bytes at s: eight at a time,
 * a 0/1 flag per byte lane summed in the lanes before they can overflow. */
static uint64_t continuations(const unsigned char *s, size_t n)
{
	uint64_t total = 0;
	size_t i = 0;
	while (n - i >= 8) {
		uint64_t acc = 0;
		for (int k = 0; k < 255 && n - i >= 8; k++, i += 8) {
			uint64_t w;
			memcpy(&w, s + i, 8);
			acc += ((w & ~(w << 1)) & HIGH_BITS) >> 7;
		}
		acc = (acc & 0x00ff00ff00ff00ffull) + (acc >> 8 & 0x00ff00ff00ff00ffull);
		total += (acc * 0x0001000100010001ull) >> 48;
	}
	for (; i < n; i++)
		total += (s[i] & 0xc0) == 0x80;
	return total;
}

uint64_t tx_count(struct textin *t)
{
	uint64_t n = 0;
	while (!t->eof) {
		t->pos = t->len;	/* counted: let refill drop it */
		refill(t);
		n += t->len;
		if (!t->bytes)
			n -= continuations(t->buf, t->len);
	}
	return n;
}

/* Index of the first byte with its high bit set in the word w read from
 * memory, w & HIGH_BITS being non-zero. Little-endian: the first byte is
 * the lowest (ts.c refuses to build on anything else). */
static int first_high(uint64_t w)
{
	return __builtin_ctzll(w & HIGH_BITS) >> 3;
}

/* Decode the buffered bytes into out[0..max): stops when out is full, or
 * when what is left of the buffer is not a whole character. */
static size_t decode_utf8(struct textin *t, uint32_t *out, size_t max)
{
	const unsigned char *s = t->buf + t->pos, *e = t->buf + t->len;
	uint32_t *o = out, *oe = out + max;
	while (o < oe && s < e) {
		if (e - s >= 8 && oe - o >= 8) {
			uint64_t w;
			memcpy(&w, s, 8);
			if (!(w & HIGH_BITS)) {
				o[0] = s[0], o[1] = s[1], o[2] = s[2], o[3] = s[3];
				o[4] = s[4], o[5] = s[5], o[6] = s[6], o[7] = s[7];
				s += 8;
				o += 8;
				continue;
			}
			int k = first_high(w);
			for (int i = 0; i < k; i++)
				o[i] = s[i];
			s += k;
			o += k;
		}
		uint32_t c = s[0];
		if (c < 0x80) {
			*o++ = c;
			s++;
			continue;
		}
		if (c >= 0xc2 && c < 0xe0 && e - s >= 2 && (s[1] & 0xc0) == 0x80) {
			*o++ = (c & 0x1f) << 6 | (s[1] & 0x3f);
			s += 2;
			continue;
		}
		if (c >= 0xe0 && c < 0xf0 && e - s >= 3 && (s[1] & 0xc0) == 0x80 &&
		    (s[2] & 0xc0) == 0x80) {
			uint32_t v = (c & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
			if (v >= 0x800 && (v < 0xd800 || v > 0xdfff)) {
				*o++ = v;
				s += 3;
				continue;
			}
		}
		int k = utf8_decode(s, (size_t)(e - s), &c);
		if (k == UTF8_INCOMPLETE)
			break;
		if (k == UTF8_INVALID)
			eprintf("%s: invalid UTF-8 at byte offset %llu", t->path,
				(unsigned long long)(t->off + (uint64_t)(s - t->buf)));
		*o++ = c;
		s += k;
	}
	t->pos = (size_t)(s - t->buf);
	return (size_t)(o - out);
}

static size_t decode_bytes(struct textin *t, uint32_t *out, size_t max)
{
	size_t n = t->len - t->pos;
	if (n > max)
		n = max;
	const unsigned char *s = t->buf + t->pos;
	for (size_t i = 0; i < n; i++)
		out[i] = s[i];
	t->pos += n;
	return n;
}

size_t tx_read(struct textin *t, uint32_t *cp, size_t max)
{
	size_t n = 0;
	t->mark = t->off + t->pos;
	for (;;) {
		n += t->bytes ? decode_bytes(t, cp + n, max - n)
			      : decode_utf8(t, cp + n, max - n);
		if (n == max)
			return n;
		if (t->eof) {
			/* Only an unfinished sequence can be left over. */
			if (t->pos < t->len)
				eprintf("%s: invalid UTF-8 at byte offset %llu", t->path,
					(unsigned long long)(t->off + t->pos));
			return n;
		}
		refill(t);
	}
}

uint64_t tx_offset(const struct textin *t, const uint32_t *cp, size_t i)
{
	uint64_t off = t->mark;
	if (t->bytes)
		return off + i;
	for (size_t j = 0; j < i; j++)
		off += cp[j] < 0x80 ? 1 : cp[j] < 0x800 ? 2 : cp[j] < 0x10000 ? 3 : 4;
	return off;
}

/* Characters that would not show as themselves in a terminal line: controls,
 * invisible format characters, separators other than space, private use,
 * noncharacters. A short list instead of a locale, so messages are the same
 * everywhere. */
static int printable(uint32_t c)
{
	if (c < 0x20 || (c >= 0x7f && c < 0xa0) || c == 0xad)
		return 0;
	if ((c >= 0x200b && c <= 0x200f) || (c >= 0x2028 && c <= 0x202e) ||
	    (c >= 0x2060 && c <= 0x206f) || c == 0xfeff || (c >= 0xfff9 && c <= 0xfffb))
		return 0;
	if ((c >= 0xe000 && c <= 0xf8ff) || c >= 0xf0000 || (c >= 0xe0000 && c <= 0xe007f))
		return 0;
	if ((c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe)
		return 0;
	return 1;
}

void tx_die_unknown(const char *where, uint32_t c, int bytes, uint64_t off)
{
	char what[40];
	unsigned char u[UTF8_MAX + 1] = { 0 };
	if (bytes)
		snprintf(what, sizeof what, "byte 0x%02X", (unsigned)c);
	else if (printable(c) && utf8_encode(c, u) > 0)
		snprintf(what, sizeof what, "character U+%04X '%s'", (unsigned)c, (const char *)u);
	else
		snprintf(what, sizeof what, "character U+%04X", (unsigned)c);
	eprintf("%s: %s at byte offset %llu is not in the vocabulary", where, what,
		(unsigned long long)off);
}
