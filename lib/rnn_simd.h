/* rnn_simd.h: the vector kernels under rnn.c's optimised functions, in one
 * version per instruction set. Private to rnn.c and the files that build
 * the versions (rnn_avx512.c, rnn_avx2.c, rnn_base.c).
 *
 * Each version is this file's second half compiled for one vector width:
 * GCC lowers a vector type wider than the machine's registers through
 * memory, ten times slower, so every width gets its own build rather than
 * one wide type for all. rnn.c picks the version the CPU can run when it is
 * first needed.
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

/* ---- the kernels, built when a version file defines SIMD_BYTES ----
 *
 * It also defines SIMD_NAME (the struct to fill), SIMD_ISA (its name),
 * SIMD_TARGET (the function attribute selecting the instruction set, or
 * nothing), and SIMD_MR, SIMD_NV: the rows and vectors of a gemm tile, so
 * that its SIMD_MR * SIMD_NV accumulators fill about half the registers. */
#ifdef SIMD_BYTES

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Let a*b + c become one fused multiply-add where the target has it: on
 * Zen 4 gemm runs 1.5 times faster fused. (clang fuses within an expression
 * by default; GCC in ISO C mode needs telling.) */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=fast")
#endif

/* One vector of reals and its integer twin (same lane width), in GCC's
 * vector extensions (clang's too). Vectors never cross a function call by
 * value: helpers take pointers and are always inlined. */
typedef real vec __attribute__((vector_size(SIMD_BYTES)));
#ifdef CHARNN_DOUBLE
typedef int64_t ivec __attribute__((vector_size(SIMD_BYTES)));
#define SIMD_VL (SIMD_BYTES / 8)
#define SIGN_BIT INT64_MIN	/* a real's sign bit, as its integer twin */
#else
typedef int32_t ivec __attribute__((vector_size(SIMD_BYTES)));
#define SIMD_VL (SIMD_BYTES / 4)
#define SIGN_BIT INT32_MIN
#endif
enum { VL = SIMD_VL };

#define VLOAD(v, p) memcpy(&(v), (p), sizeof(vec))
#define VSTORE(p, v) memcpy((p), &(v), sizeof(vec))
#define INLINE static inline __attribute__((always_inline))
#define KERNEL static SIMD_TARGET
/* Loops over a tile's rows and vectors must vanish, for its accumulators
 * to be registers rather than an array in memory. */
#ifdef __clang__
#define UNROLL _Pragma("clang loop unroll(full)")
#else
#define UNROLL _Pragma("GCC unroll 16")
#endif

/* Every lane of *r set to c. Not (vec){ 0 } + c: that adds, and 0 + -0.0
 * is +0.0, so a constant built that way loses the sign of a zero (it did:
 * tanh's sign mask came out empty). */
INLINE void vsplat(vec *r, real c)
{
	UNROLL
	for (int i = 0; i < VL; i++)
		(*r)[i] = c;
}

/* Lanes of a where a > b, else of b: max without NaN rules, as a select. */
INLINE void vmax(vec *r, const vec *a, const vec *b)
{
	ivec m = *a > *b;
	*r = (vec)(((ivec)*a & m) | ((ivec)*b & ~m));
}

INLINE void vmin(vec *r, const vec *a, const vec *b)
{
	ivec m = *a < *b;
	*r = (vec)(((ivec)*a & m) | ((ivec)*b & ~m));
}

/* Sum of the lanes, by adding halves down to 16 bytes, then the lanes left
 * one by one (a fixed order). */
typedef real vec16 __attribute__((vector_size(16)));
INLINE real vsum(const vec *v)
{
	vec16 c;
#if SIMD_BYTES >= 32
	typedef real vec32 __attribute__((vector_size(32)));
	vec32 a;
	memcpy(&a, v, 32);
#if SIMD_BYTES == 64
	vec32 b;
	memcpy(&b, (const char *)v + 32, 32);
	a += b;
#endif
	vec16 d;
	memcpy(&c, &a, 16);
	memcpy(&d, (const char *)&a + 16, 16);
	c += d;
#else
	memcpy(&c, v, 16);
#endif
#ifdef CHARNN_DOUBLE
	return c[0] + c[1];
#else
	return (c[0] + c[2]) + (c[1] + c[3]);
#endif
}

INLINE real vmaxlanes(const vec *v)
{
	real l[VL];
	memcpy(l, v, sizeof l);
	real m = l[0];
	UNROLL
	for (int i = 1; i < VL; i++)
		m = l[i] > m ? l[i] : m;
	return m;
}

/* ---- exp and tanh ---- */

/* expm1 on the reduced range |r| <= ln2/2 by its Taylor series, 1/k! for
 * k = 2..DEG: the first omitted term is below 2^-26 (float, DEG 7) or
 * 2^-56 (double, DEG 13) relative to r, so the polynomial is as good as the
 * rounding of its own evaluation. */
#ifdef CHARNN_DOUBLE
enum { EXPM1_DEG = 13 };
static const real expm1_c[EXPM1_DEG - 1] = {
	1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040,
	1.0 / 40320, 1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800,
	1.0 / 479001600, 1.0 / 6227020800
};
#define LN2_HI 6.93147180369123816490e-01	/* 32 bits: n*LN2_HI exact */
#define LN2_LO 1.90821492927058770002e-10
#define ROUND_MAGIC 6755399441055744.0		/* 1.5 * 2^52 */
#define EXP_MIN (-708.0)			/* keeps 2^n normal */
#define TANH_MAX 19.1				/* tanh is 1 to double beyond */
enum { MANT_BITS = 52, EXP_BIAS = 1023 };
#else
enum { EXPM1_DEG = 7 };
static const real expm1_c[EXPM1_DEG - 1] = {
	1.0f / 2, 1.0f / 6, 1.0f / 24, 1.0f / 120, 1.0f / 720, 1.0f / 5040
};
#define LN2_HI 0.693359375f	/* 9 bits: n*LN2_HI exact */
#define LN2_LO (-2.12194440e-4f)
#define ROUND_MAGIC 12582912.0f	/* 1.5 * 2^23 */
#define EXP_MIN (-87.0f)
#define TANH_MAX 9.0f
enum { MANT_BITS = 23, EXP_BIAS = 127 };
#endif
#define LOG2E ((real)1.44269504088896340736)

/* z = n ln2 + r with n an integer and |r| <= ln2/2: *s = 2^n and
 * *q = expm1(r), so exp(z) = s + s q and expm1(z) = s q + (s - 1).
 * Lanes of z below EXP_MIN are taken as EXP_MIN (their exp is < 1e-37
 * relative to 1, and 2^n stays a normal number). z must be <= 0: above
 * about 88 (float) 2^n overflows its exponent field into garbage. A NaN
 * stays NaN. */
INLINE void vexp_split(const vec *z, vec *s, vec *q)
{
	vec lo, zz, magic, p;
	vsplat(&lo, (real)EXP_MIN);
	vmax(&zz, &lo, z);	/* this order keeps a NaN */
	/* Adding 1.5*2^MANT_BITS rounds to an integer, left in the low bits. */
	vsplat(&magic, ROUND_MAGIC);
	vec t = zz * LOG2E + magic;
	vec n = t - magic;
	ivec ni = (ivec)t - (ivec)magic;
	vec r = (zz - n * LN2_HI) - n * LN2_LO;
	vsplat(&p, expm1_c[EXPM1_DEG - 2]);
	UNROLL
	for (int k = EXPM1_DEG - 3; k >= 0; k--)
		p = p * r + expm1_c[k];
	*q = r + r * r * p;
	*s = (vec)((ni + EXP_BIAS) << MANT_BITS);
}

/* exp of lanes <= 0. */
INLINE void vexp(vec *e, const vec *z)
{
	vec s, q;
	vexp_split(z, &s, &q);
	*e = s + s * q;
}

/* tanh(x) = -u / (u + 2) with u = expm1(-2|x|), sign restored: u is exact
 * to its last bits even for tiny x, where 1 - 2/(e^2x + 1) would cancel. */
INLINE void vtanh(vec *r, const vec *x)
{
	const ivec sign = (ivec){ 0 } + SIGN_BIT;
	vec ax = (vec)((ivec)*x & ~sign), top, z, s, q;
	vsplat(&top, TANH_MAX);
	vmin(&ax, &top, &ax);	/* this order keeps a NaN */
	z = ax * (real)-2;
	vexp_split(&z, &s, &q);
	vec u = s * q + (s - 1);
	vec t = -u / (u + 2);
	*r = (vec)(((ivec)t & ~sign) | ((ivec)*x & sign));
}

/* The contracts of the KERNEL functions are in struct rnn_simd above. */

/* h (n) = tanh(h), in whole vectors with the tail through a padded copy. */
KERNEL void tanh_v(real *h, int n)
{
	int i = 0;
	for (; i + VL <= n; i += VL) {
		vec v;
		VLOAD(v, h + i);
		vtanh(&v, &v);
		VSTORE(h + i, v);
	}
	if (i < n) {
		real buf[VL] = { 0 };
		memcpy(buf, h + i, (size_t)(n - i) * sizeof(real));
		vec v;
		VLOAD(v, buf);
		vtanh(&v, &v);
		VSTORE(buf, v);
		memcpy(h + i, buf, (size_t)(n - i) * sizeof(real));
	}
}

/* The maximum first, then exp in whole vectors and the tail through a
 * copy padded with the maximum. Each exponent is (l - lmax) * inv, never
 * l * inv - max: fused into one multiply-add that leaves the rounding error
 * of max (1e23 for a logit of 1e30 at temperature 0.3), either way from 0,
 * where only exact differences keep every exponent <= 0 and the largest
 * exactly 0. With temp 1 both forms give the same bits. */
KERNEL real exp_shifted(real *p, const real *l, int n, real temp, real *max)
{
	real inv = 1 / temp, lmax = -INFINITY;
	int i = 0;
	if (n >= VL) {
		vec mv, v;
		vsplat(&mv, lmax);
		for (; i + VL <= n; i += VL) {
			VLOAD(v, l + i);
			vmax(&mv, &mv, &v);
		}
		VLOAD(v, l + n - VL);
		vmax(&mv, &mv, &v);
		lmax = vmaxlanes(&mv);
	} else {
		for (; i < n; i++)
			lmax = l[i] > lmax ? l[i] : lmax;
	}
	vec acc = { 0 }, e;
	for (i = 0; i + VL <= n; i += VL) {
		VLOAD(e, l + i);
		e = (e - lmax) * inv;
		vexp(&e, &e);
		VSTORE(p + i, e);
		acc += e;
	}
	real sum = vsum(&acc);
	if (i < n) {
		real buf[VL];
		for (int j = 0; j < VL; j++)
			buf[j] = j < n - i ? l[i + j] : lmax;
		VLOAD(e, buf);
		e = (e - lmax) * inv;
		vexp(&e, &e);
		VSTORE(buf, e);
		for (int j = 0; j < n - i; j++)
			sum += buf[j];
		memcpy(p + i, buf, (size_t)(n - i) * sizeof(real));
	}
	*max = lmax * inv;
	return sum;
}

/* ---- elementwise ---- */

/* p (n) *= s. */
KERNEL void scale(real *p, size_t n, real s)
{
	size_t i = 0;
	for (; i + VL <= n; i += VL) {
		vec v;
		VLOAD(v, p + i);
		v *= s;
		VSTORE(p + i, v);
	}
	for (; i < n; i++)
		p[i] *= s;
}

/* d (n) += s (n). */
KERNEL void add(real *d, const real *s, int n)
{
	int i = 0;
	for (; i + VL <= n; i += VL) {
		vec a, b;
		VLOAD(a, d + i);
		VLOAD(b, s + i);
		a += b;
		VSTORE(d + i, a);
	}
	for (; i < n; i++)
		d[i] += s[i];
}

/* d (n) = (1 - h^2) (d + e). */
KERNEL void tanh_back(real *d, const real *e, const real *h, int n)
{
	int i = 0;
	for (; i + VL <= n; i += VL) {
		vec dv, ev, hv;
		VLOAD(dv, d + i);
		VLOAD(ev, e + i);
		VLOAD(hv, h + i);
		dv = (1 - hv * hv) * (dv + ev);
		VSTORE(d + i, dv);
	}
	for (; i < n; i++)
		d[i] = (1 - h[i] * h[i]) * (d[i] + e[i]);
}

/* Columns in groups of NSUM vectors (the last group moved back to end at
 * column n), each summed down all rows in registers. */
KERNEL void colsum(real *s, const real *a, size_t m, int n)
{
	enum { NSUM = 4 };
	if (n < VL) {
		memset(s, 0, (size_t)n * sizeof(real));
		for (size_t r = 0; r < m; r++)
			for (int j = 0; j < n; j++)
				s[j] += a[r * n + j];
		return;
	}
	for (int j0 = 0; j0 < n; j0 += NSUM * VL) {
		int off[NSUM];
		UNROLL
		for (int v = 0; v < NSUM; v++)
			off[v] = j0 + v * VL + VL <= n ? j0 + v * VL : n - VL;
		vec acc[NSUM] = { { 0 } };
		for (size_t r = 0; r < m; r++)
			UNROLL
			for (int v = 0; v < NSUM; v++) {
				vec x;
				VLOAD(x, a + r * n + off[v]);
				acc[v] += x;
			}
		UNROLL
		for (int v = 0; v < NSUM; v++)
			VSTORE(s + off[v], acc[v]);
	}
}

/* g (n) clipped to [-c, c]; the selects keep a NaN. */
KERNEL void clip(real *g, size_t n, real c)
{
	vec hi, lo, v;
	vsplat(&hi, c);
	lo = -hi;
	size_t i = 0;
	for (; i + VL <= n; i += VL) {
		VLOAD(v, g + i);
		vmin(&v, &hi, &v);
		vmax(&v, &lo, &v);
		VSTORE(g + i, v);
	}
	for (; i < n; i++)
		g[i] = g[i] > c ? c : g[i] < -c ? -c : g[i];
}

/* 1/sqrt(a) for lanes a > 0 by Newton's iteration y <- y (3 - a y^2)/2 from
 * a first guess made of a's bits (its exponent halved and negated), good to
 * 3.5%: each step squares the relative error, so 3 steps (float) or 4
 * (double) end below the rounding error. Libm's sqrt would do as well, but
 * a call that may set errno keeps the compiler from vectorising the loop. */
#ifdef CHARNN_DOUBLE
#define RSQRT_MAGIC 0x5fe6eb50c7b537a9
enum { RSQRT_STEPS = 4 };
#else
#define RSQRT_MAGIC 0x5f3759df
enum { RSQRT_STEPS = 3 };
#endif
INLINE void vrsqrt(vec *y, const vec *a)
{
	vec half = *a * (real)0.5;
	*y = (vec)(RSQRT_MAGIC - ((ivec)*a >> 1));
	UNROLL
	for (int i = 0; i < RSQRT_STEPS; i++)
		*y = *y * ((real)1.5 - half * *y * *y);
}

/* One vector of Adagrad, at p, mem, g. */
INLINE void adagrad_vec(real *p, real *mem, const real *g, real lr)
{
	vec pv, mv, gv, a, y;
	VLOAD(pv, p);
	VLOAD(mv, mem);
	VLOAD(gv, g);
	mv += gv * gv;
	a = mv + (real)1e-8;
	vrsqrt(&y, &a);
	pv -= lr * gv * y;
	VSTORE(mem, mv);
	VSTORE(p, pv);
}

/* Whole vectors, the tail through padded copies. */
KERNEL void adagrad(real *p, real *mem, const real *g, size_t n, real lr)
{
	size_t i = 0;
	for (; i + VL <= n; i += VL)
		adagrad_vec(p + i, mem + i, g + i, lr);
	if (i < n) {
		real pb[VL] = { 0 }, mb[VL] = { 0 }, gb[VL] = { 0 };
		size_t m = (n - i) * sizeof(real);
		memcpy(pb, p + i, m);
		memcpy(mb, mem + i, m);
		memcpy(gb, g + i, m);
		adagrad_vec(pb, mb, gb, lr);
		memcpy(p + i, pb, m);
		memcpy(mem + i, mb, m);
	}
}

/* ---- matrix products ---- */

/* Largest tile of gemm: MRMAX rows by NVMAX vectors, each accumulated in
 * KSMAX sums. One-row products use panels of NV1 vectors. */
enum { MRMAX = 8, NVMAX = 4, KSMAX = 2, NV1 = 4 };
#if SIMD_MR > 8 || SIMD_NV > 2
#error "gemm tiles are at most 8 rows by 2 vectors"
#endif

/* Rows 0..mr-1, columns 0..nv*VL-1 of C = bias + A B (see gemm). With
 * ks = 2 even and odd k go to separate accumulators, for more independent
 * sums when there is only one row. mr, nv, ks are constants after
 * inlining, so the accumulators live in registers and every address is a
 * pointer plus a constant. */
INLINE void tile(real *c, size_t ldc, const real *a, size_t ars, size_t acs,
		 const real *b, size_t ldb, const real *bias, int K, int mr, int nv, int ks)
{
	vec acc[KSMAX][MRMAX][NVMAX];
	const real *ar[MRMAX];
	UNROLL
	for (int r = 0; r < mr; r++)
		ar[r] = a + r * ars;
	UNROLL
	for (int h = 0; h < ks; h++)
		UNROLL
		for (int r = 0; r < mr; r++)
			UNROLL
			for (int v = 0; v < nv; v++)
				acc[h][r][v] = (vec){ 0 };
	int k = 0;
	for (; k + ks <= K; k += ks)
		UNROLL
		for (int h = 0; h < ks; h++) {
			const real *bk = b + (size_t)(k + h) * ldb;
			size_t ak = (size_t)(k + h) * acs;
			vec bv[NVMAX];
			UNROLL
			for (int v = 0; v < nv; v++)
				VLOAD(bv[v], bk + v * VL);
			UNROLL
			for (int r = 0; r < mr; r++) {
				real s = ar[r][ak];
				UNROLL
				for (int v = 0; v < nv; v++)
					acc[h][r][v] += s * bv[v];
			}
		}
	for (; k < K; k++) {
		const real *bk = b + (size_t)k * ldb;
		size_t ak = (size_t)k * acs;
		vec bv[NVMAX];
		UNROLL
		for (int v = 0; v < nv; v++)
			VLOAD(bv[v], bk + v * VL);
		UNROLL
		for (int r = 0; r < mr; r++) {
			real s = ar[r][ak];
			UNROLL
			for (int v = 0; v < nv; v++)
				acc[0][r][v] += s * bv[v];
		}
	}
	UNROLL
	for (int r = 0; r < mr; r++)
		UNROLL
		for (int v = 0; v < nv; v++) {
			vec o = acc[0][r][v];
			if (ks > 1)
				o += acc[1][r][v];
			if (bias) {
				vec bb;
				VLOAD(bb, bias + v * VL);
				o += bb;
			}
			VSTORE(c + r * ldc + v * VL, o);
		}
}

/* All M rows of one column panel of nv vectors: tiles of SIMD_MR rows, then
 * the rest of the rows in one smaller tile; a single row gets split sums. */
INLINE void panel(real *c, size_t ldc, const real *a, size_t ars, size_t acs,
		  const real *b, size_t ldb, const real *bias, int M, int K, int nv)
{
	int i = 0;
	for (; i + SIMD_MR <= M; i += SIMD_MR)
		tile(c + (size_t)i * ldc, ldc, a + (size_t)i * ars, ars, acs, b, ldb,
		     bias, K, SIMD_MR, nv, 1);
	c += (size_t)i * ldc;
	a += (size_t)i * ars;
	switch (M - i) {
	case 7: tile(c, ldc, a, ars, acs, b, ldb, bias, K, 7, nv, 1); break;
	case 6: tile(c, ldc, a, ars, acs, b, ldb, bias, K, 6, nv, 1); break;
	case 5: tile(c, ldc, a, ars, acs, b, ldb, bias, K, 5, nv, 1); break;
	case 4: tile(c, ldc, a, ars, acs, b, ldb, bias, K, 4, nv, 1); break;
	case 3: tile(c, ldc, a, ars, acs, b, ldb, bias, K, 3, nv, 1); break;
	case 2: tile(c, ldc, a, ars, acs, b, ldb, bias, K, 2, nv, 1); break;
	case 1: tile(c, ldc, a, ars, acs, b, ldb, bias, K, 1, nv, 2); break;
	}
}

/* Columns go in panels of whole vectors, SIMD_NV of them (NV1 for one row);
 * the last panel is moved left to end at column N, recomputing a few
 * columns (same values, so writing them twice is harmless) instead of
 * running a scalar tail, or split if it would start before column 0. */
KERNEL void gemm(real *c, size_t ldc, const real *a, size_t ars, size_t acs,
		 const real *b, size_t ldb, const real *bias, int M, int N, int K)
{
	if (N < VL) {
		for (int i = 0; i < M; i++) {
			real *ci = c + (size_t)i * ldc;
			for (int j = 0; j < N; j++)
				ci[j] = bias ? bias[j] : 0;
			for (int k = 0; k < K; k++) {
				real s = a[(size_t)i * ars + (size_t)k * acs];
				for (int j = 0; j < N; j++)
					ci[j] += s * b[(size_t)k * ldb + j];
			}
		}
		return;
	}
	int width = M == 1 ? NV1 : SIMD_NV;
	for (int j = 0; j < N;) {
		int n = (N - j + VL - 1) / VL;
		if (n > width)
			n = width;
		int j0 = j;
		if (j0 + n * VL > N) {
			j0 = N - n * VL;
			if (j0 < 0) {
				n = (N - j) / VL;
				j0 = j;
			}
		}
		real *cj = c + j0;
		const real *bj = b + j0, *biasj = bias ? bias + j0 : NULL;
		if (M == 1) {
			switch (n) {
			case 4: tile(cj, 0, a, 0, acs, bj, ldb, biasj, K, 1, 4, 2); break;
			case 3: tile(cj, 0, a, 0, acs, bj, ldb, biasj, K, 1, 3, 2); break;
			case 2: tile(cj, 0, a, 0, acs, bj, ldb, biasj, K, 1, 2, 2); break;
			case 1: tile(cj, 0, a, 0, acs, bj, ldb, biasj, K, 1, 1, 2); break;
			}
		} else if (n == 2) {
			panel(cj, ldc, a, ars, acs, bj, ldb, biasj, M, K, 2);
		} else {
			panel(cj, ldc, a, ars, acs, bj, ldb, biasj, M, K, 1);
		}
		j = j0 + n * VL;
	}
}

/* Dot products along W's rows, four rows at a time sharing the loads of x;
 * when K is not a multiple of VL the last vector is read ending at K, with
 * the lanes already counted masked off in x. For one step there is nothing
 * to amortise a transposed copy of W over. */
KERNEL void matvec(real *y, const real *W, const real *x, const real *bias, int M, int K)
{
	if (K < VL) {
		for (int i = 0; i < M; i++) {
			real s = 0;
			for (int k = 0; k < K; k++)
				s += W[(size_t)i * K + k] * x[k];
			y[i] = bias[i] + s;
		}
		return;
	}
	int kv = K / VL * VL, tail = K - kv;
	vec xt = (vec){ 0 };
	if (tail) {
		real buf[VL] = { 0 };
		memcpy(buf + VL - tail, x + K - tail, (size_t)tail * sizeof(real));
		VLOAD(xt, buf);
	}
	int i = 0;
	for (; i + 4 <= M; i += 4) {
		const real *w = W + (size_t)i * K;
		vec a0 = (vec){ 0 }, a1 = a0, a2 = a0, a3 = a0, xv, wv;
		for (int k = 0; k < kv; k += VL) {
			VLOAD(xv, x + k);
			VLOAD(wv, w + k);
			a0 += wv * xv;
			VLOAD(wv, w + K + k);
			a1 += wv * xv;
			VLOAD(wv, w + 2 * (size_t)K + k);
			a2 += wv * xv;
			VLOAD(wv, w + 3 * (size_t)K + k);
			a3 += wv * xv;
		}
		if (tail) {
			VLOAD(wv, w + K - VL);
			a0 += wv * xt;
			VLOAD(wv, w + 2 * (size_t)K - VL);
			a1 += wv * xt;
			VLOAD(wv, w + 3 * (size_t)K - VL);
			a2 += wv * xt;
			VLOAD(wv, w + 4 * (size_t)K - VL);
			a3 += wv * xt;
		}
		y[i] = bias[i] + vsum(&a0);
		y[i + 1] = bias[i + 1] + vsum(&a1);
		y[i + 2] = bias[i + 2] + vsum(&a2);
		y[i + 3] = bias[i + 3] + vsum(&a3);
	}
	for (; i < M; i++) {
		const real *w = W + (size_t)i * K;
		vec a0 = (vec){ 0 }, xv, wv;
		for (int k = 0; k < kv; k += VL) {
			VLOAD(xv, x + k);
			VLOAD(wv, w + k);
			a0 += wv * xv;
		}
		if (tail) {
			VLOAD(wv, w + K - VL);
			a0 += wv * xt;
		}
		y[i] = bias[i] + vsum(&a0);
	}
}

/* ---- transposing ---- */

/* A VL x VL tile transposed in registers by Eklundh's method: for b = VL/2
 * down to 1, rows i and i+b (i without bit b) swap their b-wide blocks at
 * columns with bit b set in row i against bit b clear in row i+b. Each step
 * is one two-source shuffle per row (vpermt2ps with AVX-512). The index
 * lists for __builtin_shufflevector (GCC 12 and later, clang): LOn_b builds
 * row i, HIn_b row i+b, numbering row i's lanes 0..VL-1 and row i+b's
 * VL..2VL-1. */
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12)
#define HAVE_SHUFFLE 1
#define LO16_8 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23
#define HI16_8 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31
#define LO16_4 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27
#define HI16_4 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31
#define LO16_2 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29
#define HI16_2 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31
#define LO16_1 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30
#define HI16_1 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31
#define LO8_4 0, 1, 2, 3, 8, 9, 10, 11
#define HI8_4 4, 5, 6, 7, 12, 13, 14, 15
#define LO8_2 0, 1, 8, 9, 4, 5, 12, 13
#define HI8_2 2, 3, 10, 11, 6, 7, 14, 15
#define LO8_1 0, 8, 2, 10, 4, 12, 6, 14
#define HI8_1 1, 9, 3, 11, 5, 13, 7, 15
#define LO4_2 0, 1, 4, 5
#define HI4_2 2, 3, 6, 7
#define LO4_1 0, 4, 2, 6
#define HI4_1 1, 5, 3, 7
#define LO2_1 0, 2
#define HI2_1 1, 3
#define STEP(r, b, lo, hi) \
	UNROLL \
	for (int i = 0; i < VL; i++) \
		if (!(i & (b))) { \
			vec x = __builtin_shufflevector(r[i], r[i + (b)], lo); \
			vec y = __builtin_shufflevector(r[i], r[i + (b)], hi); \
			r[i] = x; \
			r[i + (b)] = y; \
		}
#if SIMD_VL == 16
#define TRANSPOSE_STEPS(r) STEP(r, 8, LO16_8, HI16_8) STEP(r, 4, LO16_4, HI16_4) \
	STEP(r, 2, LO16_2, HI16_2) STEP(r, 1, LO16_1, HI16_1)
#elif SIMD_VL == 8
#define TRANSPOSE_STEPS(r) STEP(r, 4, LO8_4, HI8_4) STEP(r, 2, LO8_2, HI8_2) \
	STEP(r, 1, LO8_1, HI8_1)
#elif SIMD_VL == 4
#define TRANSPOSE_STEPS(r) STEP(r, 2, LO4_2, HI4_2) STEP(r, 1, LO4_1, HI4_1)
#else
#define TRANSPOSE_STEPS(r) STEP(r, 1, LO2_1, HI2_1)
#endif

/* dst (VL,VL) with row stride ldd = the tile src (VL,VL), stride lds,
 * transposed. */
INLINE void transpose_tile(real *dst, size_t ldd, const real *src, size_t lds)
{
	vec r[VL];
	UNROLL
	for (int i = 0; i < VL; i++)
		VLOAD(r[i], src + i * lds);
	TRANSPOSE_STEPS(r)
	UNROLL
	for (int i = 0; i < VL; i++)
		VSTORE(dst + i * ldd, r[i]);
}
#endif

/* VL x VL tiles in registers, the last row and column of tiles moved back
 * to end at the edge (overlapping tiles write the same values twice); or,
 * for thin matrices and older compilers, cache-sized blocks of scalars. */
KERNEL void transpose(real *dst, const real *src, int R, int C)
{
#ifdef HAVE_SHUFFLE
	if (R >= VL && C >= VL) {
		for (int i0 = 0; i0 < R; i0 += VL) {
			int i = i0 + VL <= R ? i0 : R - VL;
			for (int j0 = 0; j0 < C; j0 += VL) {
				int j = j0 + VL <= C ? j0 : C - VL;
				transpose_tile(dst + (size_t)j * R + i, (size_t)R,
					       src + (size_t)i * C + j, (size_t)C);
			}
		}
		return;
	}
#endif
	enum { BLK = 16 };
	for (int i0 = 0; i0 < R; i0 += BLK)
		for (int j0 = 0; j0 < C; j0 += BLK) {
			int i1 = i0 + BLK < R ? i0 + BLK : R, j1 = j0 + BLK < C ? j0 + BLK : C;
			for (int j = j0; j < j1; j++)
				for (int i = i0; i < i1; i++)
					dst[(size_t)j * R + i] = src[(size_t)i * C + j];
		}
}

const struct rnn_simd SIMD_NAME = {
	SIMD_ISA, gemm, matvec, transpose, tanh_v, exp_shifted, scale, add,
	tanh_back, colsum, clip, adagrad
};

#endif
