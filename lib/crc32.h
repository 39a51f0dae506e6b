/* crc32.h: CRC-32 as zlib, PNG and Python's zlib.crc32 compute it.
 *
 * crc32_update(0, p, n) is zlib.crc32(p); feed pieces by passing the previous
 * result back in. Uses carry-less multiply folding where the CPU has it
 * (checked at run time), and slice-by-8 tables elsewhere. */
#ifndef CHARNN_CRC32_H
#define CHARNN_CRC32_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32_update(uint32_t crc, const void *p, size_t n);

/* The portable table-driven version, always available (tests compare). */
uint32_t crc32_tables(uint32_t crc, const void *p, size_t n);

/* Name of the implementation crc32_update uses here: "pclmul" or "tables". */
const char *crc32_impl(void);

#endif
