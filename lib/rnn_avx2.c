/* rnn_avx2.c: the vector kernels of rnn_kernels.inc for x86-64 with AVX2 and
 * FMA: 32-byte vectors, 16 registers, so gemm tiles of 4 rows by 2
 * vectors. */
#if defined(__x86_64__) && defined(__GNUC__)
#define SIMD_NAME rnn_simd_avx2
#define SIMD_ISA "avx2"
#define SIMD_TARGET __attribute__((target("avx2,fma")))
#define SIMD_BYTES 32
#define SIMD_MR 4
#define SIMD_MR_SPLIT 4
#define SIMD_NV 2
#include "rnn_kernels.inc"
#else
typedef int rnn_avx2_unused;	/* elsewhere: nothing (ISO C wants a declaration) */
#endif
