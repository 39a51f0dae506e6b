/* stepsync.h: the training workspace's step counter, shared by processes.
 *
 * The workspace (formats/model.md) holds in frame "adagrad" a live i64
 * scalar "step": how many updates the parameters have had. adagrad -w
 * advances it after each update; rnn-fwd -w waits until it reaches the step
 * of the window it is about to compute, so that feed can send windows ahead
 * while every forward pass still sees the parameters of the step before it.
 *
 * The counter is an aligned int64_t in a shared mapping. On Linux a waiter
 * sleeps on a futex on its low 32 bits (little-endian hosts only, as the
 * whole build); elsewhere it polls with short sleeps. */
#ifndef CHARNN_STEPSYNC_H
#define CHARNN_STEPSYNC_H

#include <stdint.h>

/* The counter's value, read after (and ordered before) what it guards. */
int64_t step_load(const int64_t *c);
/* *c = v, published after everything written before it, and every waiter
 * woken. */
void step_store(int64_t *c, int64_t v);
/* Sleep until *c is no longer seen or about ms milliseconds have passed (or
 * a signal came); the caller checks the value again either way. */
void step_sleep(const int64_t *c, int64_t seen, int ms);

#endif
