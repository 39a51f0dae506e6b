/* utf8.c: see utf8.h. */
#include "utf8.h"

int utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	if (n == 0)
		return UTF8_INCOMPLETE;
	unsigned c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	int len;
	uint32_t v, min;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2, v = c & 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, v = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, v = c & 0x07, min = 0x10000;
	} else {
		return UTF8_INVALID;	/* continuation byte, C0, C1 or F5..FF */
	}
	for (int i = 1; i < len; i++) {
		if ((size_t)i >= n)
			return UTF8_INCOMPLETE;
		if ((s[i] & 0xc0) != 0x80)
			return UTF8_INVALID;
		v = v << 6 | (s[i] & 0x3f);
		/* Reject overlong and out-of-range forms as early as possible,
		 * so an invalid prefix is not reported as incomplete. */
		if (i == 1) {
			if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) ||
			    (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
				return UTF8_INVALID;
		}
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return UTF8_INVALID;
	*cp = v;
	return len;
}

int utf8_encode(uint32_t cp, unsigned char out[UTF8_MAX])
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xc0 | cp >> 6);
		out[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp >= 0xd800 && cp <= 0xdfff)
		return 0;
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xe0 | cp >> 12);
		out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	if (cp <= 0x10ffff) {
		out[0] = (unsigned char)(0xf0 | cp >> 18);
		out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		out[3] = (unsigned char)(0x80 | (cp & 0x3f));
		return 4;
	}
	return 0;
}
