/* netmodel.h: the model family's tensors in a frame (formats/model.md, THE
 * MODEL FAMILY).
 *
 * A model of any cell but the default (rnn, one layer) records itself in an
 * i32 tensor "arch" (1+L): the cell (0 rnn, 1 lstm, 2 gru), then each
 * layer's hidden size from the input up. Its parameters are the tensors
 * Wx.l (G*H,I), Wh.l (G*H,H), b.l (G*H) of each layer l, then Why (V,H of
 * the top layer) and by (V). A frame without "arch" is the default model of
 * model.h (Wxh, Whh, Why, bh, by).
 *
 * Legend: V vocab, L layers, H, I, G a layer's hidden size, input size,
 * gates (net.h). */
#ifndef CHARNN_NETMODEL_H
#define CHARNN_NETMODEL_H

#include "net.h"
#include "ts.h"

/* Tensors netmodel_write writes: 3 a layer, Why, by, and arch when prefix
 * is "" (the model itself; gradients and optimiser state carry none). */
int netmodel_ntensors(const struct net *P, const char *prefix);
/* The name of parameter k (0 Wx, 1 Wh, 2 b) of layer l, with prefix (e.g.
 * "d" for a gradient), in buf of TS_MAX_NAME+1 bytes. */
const char *netmodel_name(char *buf, const char *prefix, int k, int l);
/* Write arch (prefix "" only) and the parameters of P as prefix+name,
 * netmodel_ntensors of them, in the order above. */
void netmodel_write(struct ts_writer *w, const struct net *P, const char *prefix);
/* The cell called name (rnn lstm gru), or -1. */
int netmodel_cell(const char *name);



/* If frame f holds "arch", check it and every parameter tensor (dtype,
 * shape) and point P at their data, returning 1; 0 if f has no "arch".
 * Dies naming stream on a bad record or a missing or misshapen tensor. */
int netmodel_from_frame(struct net *P, const struct ts_frame *f, const char *stream);
/* Die naming stream and the tensor if any real tensor of f is NaN or Inf
 * (the wording of model_check_finite). */
void netmodel_check_finite(const struct ts_frame *f, const char *stream);

#endif
