/* textio.h: reading text input fast, as code points, for vocab and encode.
 *
 * A textin reads one file (or stdin) in large blocks and turns it into
 * characters: Unicode code points of strict UTF-8 (utf8.h), or byte values
 * in byte mode. Invalid UTF-8, including a sequence cut short by the end of
 * the input, is fatal: "prog: FILE: invalid UTF-8 at byte offset N", N the
 * offset of the sequence's first byte. Memory is one buffer, whatever the
 * size of the input.
 *
 *     tx_open(&t, path, bytes);
 *     while ((n = tx_read(&t, cp, max)) > 0)
 *         ... cp[0..n) ...
 *     tx_close(&t);
 */
#ifndef CHARNN_TEXTIO_H
#define CHARNN_TEXTIO_H

#include <stddef.h>
#include <stdint.h>

struct textin {
	int fd;
	const char *path;	/* as shown in messages: file name or <stdin> */
	int bytes;		/* 1: byte mode, every byte is a character */
	unsigned char *buf;
	size_t cap, pos, len;
	uint64_t off;		/* stream offset of buf[0] */
	uint64_t mark;		/* stream offset of the last batch's first character */
	int eof;
};

/* Open path ("-" or NULL: stdin) for reading, or die naming it; bytes
 * selects byte mode. tx_close closes it (stdin stays open) and frees it. */
void tx_open(struct textin *t, const char *path, int bytes);
void tx_close(struct textin *t);
/* Number of characters of a freshly opened input, read to its end without
 * validating it (only the first byte of each UTF-8 sequence is counted). */
uint64_t tx_count(struct textin *t);

/* Decode up to max characters into cp (max >= 1); returns how many, and 0
 * only at the end of the input. Dies on invalid UTF-8. */
size_t tx_read(struct textin *t, uint32_t *cp, size_t max);
/* Stream offset of cp[i] of the batch the last tx_read returned in cp. */
uint64_t tx_offset(const struct textin *t, const uint32_t *cp, size_t i);

/* Die "WHERE: character U+00E9 'é' at byte offset OFF is not in the
 * vocabulary" for character c (showing it itself only when it is
 * printable), or in byte mode "WHERE: byte 0xE9 at ...". */
void tx_die_unknown(const char *where, uint32_t c, int bytes, uint64_t off)
	__attribute__((noreturn));

#endif
