/* rnn_simd.h: the interface of the vector kernels under rnn.c's and
 * net_fast.c's optimised functions, which come in one version per
 * instruction set. Private to those two and the files that build the
 * versions (rnn_avx512.c, rnn_avx2.c, rnn_base.c).
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
#include <stdint.h>

#include "rnn.h"

struct rnn_simd {
	const char *name;
	/* C (M,N) = bias (N) + A (M,K) B (K,N), C overwritten; A(i,k) is
	 * a[i*ars + k*acs] (A may be read transposed), B and C have row
	 * strides ldb and ldc, bias may be NULL (zero). */
	void (*gemm)(real *c, size_t ldc, const real *a, size_t ars, size_t acs,
		     const real *b, size_t ldb, const real *bias, int M, int N, int K);
	/* y (M) = bias (M) + W (M,K) x (K), bias may be NULL (zero). */
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

	/* For the model family (net_fast.c, bodies in net_kernels.inc). */
	/* d (n) = a (n) * m (n); d may be a. */
	void (*mul)(real *d, const real *a, const real *m, size_t n);
	/* One cell step on units 0..n-1 of one sequence of a layer of H
	 * units, indexed by the cell numbers of net.h (rnn, lstm, gru); the
	 * gate blocks of g and ah lie H apart. g (G blocks) in: Wx x + b;
	 * out (lstm): i f o g after their nonlinearity, (gru): z r n u. ah
	 * (G blocks): Wh h'. hp, cp (n): h', c'; c, h (n) out. rnn: h =
	 * tanh(g + ah), g may be h; gru: its u block is ah's n block. */
	void (*cell_fwd[3])(real *g, const real *ah, size_t H, const real *hp,
			    const real *cp, real *c, real *h, int n);
	/* Back through one cell step, the same units: dh (n) in, the
	 * gradient of h; dc (n, lstm) in from the step after, out to the one
	 * before; dax (G blocks) out, the gradient of Wx x + b; dah (gru's,
	 * G blocks) out, of Wh h' (for rnn and lstm it is dax, not written);
	 * dh out (gru): dh z, the direct part of h''s gradient. g, h, hp, cp,
	 * c as the forward step had or made them. */
	void (*cell_back[3])(real *dax, real *dah, size_t H, real *dh, real *dc,
			     const real *g, const real *h, const real *hp, const real *cp,
			     const real *c, int n);
};

extern const struct rnn_simd rnn_simd_avx512, rnn_simd_avx2, rnn_simd_base;

/* Shared by rnn.c, which defines them, and net_fast.c. */
/* The kernels in use (rnn_set_isa). */
const struct rnn_simd *rnn_simd_use(void);
/* Threads: parts of a job of work multiply-adds made of units independent
 * pieces; where part i of n starts among N columns (N for i = n), at a
 * multiple of align; column parts of a product start at multiples of
 * RNN_PART_ALIGN (see rnn.c, "threads"). */
enum { RNN_PART_ALIGN = 16 };
int rnn_nparts(double work, size_t units);
size_t rnn_part_start(size_t N, int n, int i, size_t align);
/* The recurrence of a window split by sequences (rnn.c, "chain"): how
 * many parts for T steps of B rows whose product reads a matrix of w
 * reals each step, 1 where the split by units is better; parts begin at
 * multiples of RNN_CHAIN_ALIGN rows. */
enum { RNN_CHAIN_ALIGN = 8 };
int rnn_chain_parts(int T, int B, size_t w);
/* S->gemm, its columns split over the threads when large enough. */
void rnn_pgemm(const struct rnn_simd *S, real *c, size_t ldc, const real *a, size_t ars,
	       size_t acs, const real *b, size_t ldb, const real *bias, int M, int N, int K);
/* S->matvec, its rows split over the threads when large enough. */
void rnn_pmatvec(const struct rnn_simd *S, real *y, const real *W, const real *x,
		 const real *bias, int M, int K);
/* ps (T,B,V): logits in, softmax rows out; loss (B) each sequence's summed
 * -ln p[y]; term (T*B) scratch. Returns (1/B) sum_b loss[b]. */
double rnn_softmax_loss(const struct rnn_simd *S, real *ps, const int32_t *y, double *term,
			int T, int B, int V, real *loss);
/* dY (N,V) = (ps - onehot(y)) / B, the gradient of the loss at the
 * logits, rows split over the threads. */
void rnn_output_grad(const struct rnn_simd *S, real *dY, const real *ps, const int32_t *y,
		     size_t N, int V, int B);

#endif
