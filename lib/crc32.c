/* crc32.c: see crc32.h.
 *
 * The table version is the classic byte-at-a-time recurrence extended to
 * eight bytes a step ("slice-by-8"). The fast version folds the message 64
 * bytes at a time with PCLMULQDQ, following the method of Gopal et al.,
 * "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ" (Intel,
 * 2009); the folding constants below are x^k mod P for the reflected
 * polynomial, as published there. */
#include "crc32.h"

#include <string.h>

static uint32_t table[8][256];
static int table_ready;

static void make_tables(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xEDB88320u & -(c & 1));
		table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int s = 1; s < 8; s++)
			table[s][i] = (table[s - 1][i] >> 8) ^ table[0][table[s - 1][i] & 0xff];
	table_ready = 1;
}

/* The bare CRC register (no pre/post inversion) over n bytes. */
static uint32_t crc_tables_raw(uint32_t c, const unsigned char *p, size_t n)
{
	if (!table_ready)
		make_tables();
	while (n >= 8) {
		uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
				   (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
		c = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^
		    table[5][(lo >> 16) & 0xff] ^ table[4][lo >> 24] ^
		    table[3][p[4]] ^ table[2][p[5]] ^ table[1][p[6]] ^ table[0][p[7]];
		p += 8;
		n -= 8;
	}
	while (n--)
		c = (c >> 8) ^ table[0][(c ^ *p++) & 0xff];
	return c;
}

uint32_t crc32_tables(uint32_t crc, const void *p, size_t n)
{
	return ~crc_tables_raw(~crc, p, n);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>

#define FAST __attribute__((target("pclmul,sse4.1")))

/* Fold n bytes (n >= 16, a multiple of 16) into the bare register c: four
 * lanes 64 bytes at a time while there are 64, then one lane 16 at a time. */
FAST static uint32_t crc_pclmul_raw(uint32_t c, const unsigned char *p, size_t n)
{
	const __m128i k1k2 = _mm_set_epi64x(0x1c6e41596, 0x154442bd4);
	const __m128i k3k4 = _mm_set_epi64x(0x0ccaa009e, 0x1751997d0);
	const __m128i k5 = _mm_set_epi64x(0, 0x163cd6124);
	const __m128i poly = _mm_set_epi64x(0x1f7011641, 0x1db710641);
	const __m128i mask32 = _mm_set_epi32(0, 0, 0, -1);
	__m128i x1, x2;
#define FOLD(x, k, next) \
	x = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), \
					_mm_clmulepi64_si128(x, k, 0x11)), next)

	if (n >= 64) {
		x1 = _mm_loadu_si128((const __m128i *)p);
		x2 = _mm_loadu_si128((const __m128i *)(p + 16));
		__m128i x3 = _mm_loadu_si128((const __m128i *)(p + 32));
		__m128i x4 = _mm_loadu_si128((const __m128i *)(p + 48));
		x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)c));
		p += 64;
		n -= 64;
		/* Fold 512 bits forward 512 bits at a time. */
		while (n >= 64) {
			FOLD(x1, k1k2, _mm_loadu_si128((const __m128i *)p));
			FOLD(x2, k1k2, _mm_loadu_si128((const __m128i *)(p + 16)));
			FOLD(x3, k1k2, _mm_loadu_si128((const __m128i *)(p + 32)));
			FOLD(x4, k1k2, _mm_loadu_si128((const __m128i *)(p + 48)));
			p += 64;
			n -= 64;
		}
		/* The four lanes into one. */
		FOLD(x1, k3k4, x2);
		FOLD(x1, k3k4, x3);
		FOLD(x1, k3k4, x4);
	} else {
		x1 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)p),
				   _mm_cvtsi32_si128((int)c));
		p += 16;
		n -= 16;
	}
	/* The remaining 16-byte blocks. */
	while (n >= 16) {
		FOLD(x1, k3k4, _mm_loadu_si128((const __m128i *)p));
		p += 16;
		n -= 16;
	}
#undef FOLD
	/* 128 -> 64 bits, then 64 -> 32 with a Barrett reduction. */
	x1 = _mm_xor_si128(_mm_clmulepi64_si128(k3k4, x1, 0x01), _mm_srli_si128(x1, 8));
	x2 = _mm_clmulepi64_si128(_mm_and_si128(x1, mask32), k5, 0x00);
	x1 = _mm_xor_si128(_mm_srli_si128(x1, 4), x2);
	x2 = _mm_clmulepi64_si128(_mm_and_si128(x1, mask32), poly, 0x10);
	x2 = _mm_clmulepi64_si128(_mm_and_si128(x2, mask32), poly, 0x00);
	x1 = _mm_xor_si128(x1, x2);
	return (uint32_t)_mm_extract_epi32(x1, 1);
}

static int have_pclmul = -1;

static int detect(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(1, &a, &b, &c, &d))
		return 0;
	return (c & bit_PCLMUL) && (c & bit_SSE4_1);
}

uint32_t crc32_update(uint32_t crc, const void *buf, size_t n)
{
	const unsigned char *p = buf;
	uint32_t c = ~crc;
	if (have_pclmul < 0)
		have_pclmul = detect();
	if (have_pclmul && n >= 16) {
		size_t m = n & ~(size_t)15;
		c = crc_pclmul_raw(c, p, m);
		p += m;
		n -= m;
	}
	return ~crc_tables_raw(c, p, n);
}

const char *crc32_impl(void)
{
	if (have_pclmul < 0)
		have_pclmul = detect();
	return have_pclmul ? "pclmul" : "tables";
}
#else
uint32_t crc32_update(uint32_t crc, const void *p, size_t n)
{
	return crc32_tables(crc, p, n);
}

const char *crc32_impl(void)
{
	return "tables";
}
#endif
