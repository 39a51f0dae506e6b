/* crc.c: the CRC-32 the format uses, checked.
 *
 *     crc
 *
 * The check value of "123456789" (0xCBF43926, zlib's CRC-32), then
 * crc32_update (carry-less multiply folding where the CPU has it, tables for
 * the rest) against crc32_tables for every length from 0 to 1100 bytes at
 * every start offset from 0 to 15, whole and split in two at random points:
 * the fast path takes different routes for under 16, under 64 and longer
 * runs, and a stream's CRC is built in pieces. Exits 1 on the first
 * difference. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32.h"
#include "err.h"
#include "rng.h"

enum { MAXLEN = 1100, OFFSETS = 16 };

int main(int argc, char **argv)
{
	(void)argc;
	setprog(argv[0]);
	if (crc32_update(0, "123456789", 9) != 0xCBF43926u ||
	    crc32_tables(0, "123456789", 9) != 0xCBF43926u)
		eprintf("the check value of \"123456789\" is not 0xCBF43926");

	static unsigned char buf[MAXLEN + OFFSETS];
	struct rng r;
	rng_seed(&r, 1);
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (unsigned char)(rng_next(&r) >> 56);
	long checked = 0;
	for (size_t off = 0; off < OFFSETS; off++) {
		for (size_t n = 0; n <= MAXLEN; n++) {
			const unsigned char *p = buf + off;
			uint32_t want = crc32_tables(0, p, n);
			size_t cut = n ? (size_t)(rng_next(&r) % (n + 1)) : 0;
			if (crc32_update(0, p, n) != want ||
			    crc32_update(crc32_update(0, p, cut), p + cut, n - cut) != want)
				eprintf("%s differs from the tables at offset %zu, %zu bytes (split at %zu)",
					crc32_impl(), off, n, cut);
			checked++;
		}
	}
	printf("crc %s: %ld runs agree with the tables\n", crc32_impl(), checked);
	return 0;
}
