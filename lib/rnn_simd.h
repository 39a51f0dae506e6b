/* rnn_simd.h: the interface of the vector kernels under rnn.c's optimised
 * functions, which come in one version per instruction set. Private to
 * rnn.c and the files that build the versions (rnn_avx512.c, rnn_avx2.c,
 * rnn_base.c).
 *
 * Each version is the body lib/rnn_kernels.inc compiled for one vector
 * width: GCC lowers a vector type wider than the machine's registers
 * through memory, ten times slower, so every width gets its own build
 * rather than one wide type for all. rnn.c's table of versions picks the
 * one the CPU can run when it is first needed.
 *
 * Legend: V vocab, H hidden, N rows, VL lanes of one vector (SIMD_BYTES /
 * sizeof(real)). Matrices are row-major. */
#ifndef CHARNN_RNN_SIMD_H
#define CHARNN_RNN_SIMD_H

#include <stddef.h>

#include "rnn.h"

struct rnn_simd {
	const char *name;
	/* C (M,N) = bias (N) + A (M,K) B (K,N), C overwritten; A(i,k) is
	 * a[i*ars + k*acs] (A may be read transposed), B and C have row
	 * strides ldb and ldc, bias may be NULL (zero). */
	void (*gemm)(real *c, size_t ldc, const real *a, size_t ars, size_t acs,
		     const real *b, size_t ldb, const real *bias, int M, int N, int K);
	/* y (M) = bias (M) + W (M,K) x (K). */
	void (*matvec)(real *y, const real *W, const real *x, const real *bias, int M, int K);
	/* dst (C,R) = src (R,C) transposed. */
	void (*transpose)(real *dst, const real *src, int R, int C);
	/* h (n) = tanh(h). */
	void (*tanh)(real *h, int n);
	/* p (n) = exp(l/temp - max) for l (n), max the largest l/temp (p may
	 * be l); sets *max and returns the sum of p. */
	real (*exp_shifted)(real *p, const real *l, int n, real temp, real *max);
	/* p (n) *= s. */
	void (*scale)(real *p, size_t n, real s);
	/* d (n) += s (n). */
	void (*add)(real *d, const real *s, int n);
	/* d (n) = (1 - h^2) (d + e): back through tanh. */
	void (*tanh_back)(real *d, const real *e, const real *h, int n);
	/* s (n) = the sum of the m rows of a (m,n). */
	void (*colsum)(real *s, const real *a, size_t m, int n);
	/* g (n) clipped to [-c, c]; a NaN stays NaN. */
	void (*clip)(real *g, size_t n, real c);
	/* Adagrad on n reals, as adagrad_update. */
	void (*adagrad)(real *p, real *mem, const real *g, size_t n, real lr);
};

extern const struct rnn_simd rnn_simd_avx512, rnn_simd_avx2, rnn_simd_base;

#endif
