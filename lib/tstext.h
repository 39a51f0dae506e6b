/* tstext.h: the text form of tensor streams (formats/text.md).
 *
 * Writing (tensordump -a and the listing): tstext_write turns a stream,
 * read with lib/ts, into text, every value or a listing. Reading
 * (tensordump -r): tstext_read parses the text form and writes the binary
 * stream, dying with "prog: FILE: line N: what was wrong" on bad text. Both
 * take constant memory for any tensor (a frame without a tensor count is
 * held until it ends: the writer needs the count first). The pieces of the
 * form (a value, a name, a tensor line) are here too, for other programs
 * that write text in it. */
#ifndef CHARNN_TSTEXT_H
#define CHARNN_TSTEXT_H

#include <stdint.h>
#include <stdio.h>

#include "ts.h"

enum {
	TSTEXT_NUMLEN = 48,	/* room for one formatted value */
	TSTEXT_CHUNK = 1 << 16	/* data bytes handled at a time; a multiple of 8 */
};

/* The NaNs written as plain "nan" / "-nan": the quiet NaN strtod gives, and
 * the one x86 arithmetic produces (the same with the sign bit set). */
#define TSTEXT_F32_QNAN UINT32_C(0x7fc00000)
#define TSTEXT_F64_QNAN UINT64_C(0x7ff8000000000000)

/* Write every frame of r to out as text: all values (listing 0, the form
 * -r reads back exactly) or a listing (summaries and the first values).
 * Each frame is flushed once complete. Returns 0, or -1 as soon as a write
 * to out fails (the caller reports it). Dies on a bad stream. */
int tstext_write(FILE *out, struct ts_reader *r, int listing);
/* Parse the text form from in (shown as path in messages) and write the
 * stream to w; the caller opens and closes w. */
void tstext_read(FILE *in, const char *path, struct ts_writer *w);

/* Die with "prog: PATH: line N: message" (printf format), as the reader
 * of the text form does; for readers of other text (tensordump -i's
 * index). */
void tstext_die_line(const char *path, unsigned long line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));

/* Format the element of dtype at p into s (TSTEXT_NUMLEN bytes) as the
 * text form writes it; returns the length. */
int tstext_format_value(char *s, int dtype, const unsigned char *p);
/* Write a name as the text form spells it: '%' and '#' as %25 and %23,
 * the empty name as "-" and the name "-" as %2D. */
void tstext_put_name(FILE *out, const char *s);
/* Decode the name word s (n bytes, as tstext_put_name spells it, any byte
 * as %XX) into dst (TS_MAX_NAME + 1 bytes); minlen 1 for a tensor's name,
 * 0 for a frame's. Returns NULL, or what is wrong with it: a message to
 * follow "name 'WORD'" directly (it starts with its own " " or ": "), e.g.
 * " holds a NUL byte"; valid until the next call. */
const char *tstext_get_name(const char *s, size_t n, char *dst, size_t minlen);
/* "tensor NAME DTYPE [D0 D1 ...]", " live" if so and " pad N" if the data
 * is padded, without the newline. */
void tstext_put_tensor_line(FILE *out, const struct ts_tensor *t);

#endif
