/* pgm.h: a 2-D tensor as a picture, a NetPBM PGM image (P5, maxval 255).
 *
 * The scaling (formats/text.md, PICTURES): with m the largest |x|, a
 * tensor with no negative value maps 0..m to black..white (255 x / m,
 * rounded); one with negative values maps -m..m to black..white, 0 to
 * middle grey (127.5 + 127.5 x / m, rounded), so the sign of a weight is
 * its side of grey. Row i of the tensor is row i of the image. A tensor of
 * higher rank is drawn if it is 2-D once its dimensions of size 1 are left
 * out (hidden states (T,1,H) of a window of one sequence). */
#ifndef CHARNN_PGM_H
#define CHARNN_PGM_H

#include <stdio.h>

#include "ts.h"

/* Find the first tensor called name in the stream of r and write it to
 * out as a PGM image. Dies naming the stream if there is none, or it is
 * not 2-D (size-1 dimensions aside), is empty or holds NaN or Inf. */
void pgm_from_stream(FILE *out, struct ts_reader *r, const char *name);

#endif
