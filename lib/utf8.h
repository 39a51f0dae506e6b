/* utf8.h: strict UTF-8 decoding and encoding (RFC 3629).
 *
 * Overlong forms, surrogates (U+D800..U+DFFF) and code points above
 * U+10FFFF are invalid, as are stray continuation bytes. */
#ifndef CHARNN_UTF8_H
#define CHARNN_UTF8_H

#include <stddef.h>
#include <stdint.h>

enum { UTF8_MAX = 4, UTF8_INCOMPLETE = 0, UTF8_INVALID = -1 };

/* Decode one character from the n bytes at s into *cp. Returns its length
 * (1 to 4), UTF8_INCOMPLETE if s holds a valid but unfinished prefix (more
 * bytes are needed), or UTF8_INVALID. */
int utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Encode cp (a valid code point) into out; returns the length, 1 to 4, or 0
 * if cp is not a Unicode scalar value. */
int utf8_encode(uint32_t cp, unsigned char out[UTF8_MAX]);

#endif
