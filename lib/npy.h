/* npy.h: tensors as NumPy .npy files (formats/text.md, NUMPY FILES).
 *
 * The data of a tensor is already what .npy wants (little-endian, C
 * order), so a file is a header and the stream's data bytes. */
#ifndef CHARNN_NPY_H
#define CHARNN_NPY_H

#include <stddef.h>

#include "ts.h"

/* The NumPy (format 1.0) header for a tensor shaped as t into h (cap
 * bytes, at least 256); returns its length, a multiple of 64 as NumPy
 * writes it. */
size_t npy_header(unsigned char *h, size_t cap, const struct ts_tensor *t);
/* Write every tensor of r into dir (made if missing) as F-FRAME-NAME.npy
 * (tensordump -e), each file under a temporary name until complete. */
void npy_export(struct ts_reader *r, const char *dir);

#endif
