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
#define NPY_INDEX "index.txt"	/* the order of frames and tensors */

/* Write every tensor of r into dir (made if missing) as F-FRAME-NAME.npy,
 * and dir/index.txt, which lists the frames and the tensors' names, files
 * and flags in order (tensordump -e). Each file is written under a
 * temporary name until complete. */
void npy_export(struct ts_reader *r, const char *dir);
/* Write the stream that dir/index.txt describes to w, the data from the
 * .npy files it names (tensordump -i): the inverse of npy_export. Dies
 * naming the file and line of anything wrong. */
void npy_import(const char *dir, struct ts_writer *w);

#endif
