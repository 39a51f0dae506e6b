/* rnn_avx512.c: the vector kernels of rnn_kernels.inc for x86-64 with AVX-512:
 * 64-byte vectors, 32 registers, so gemm tiles of up to 10 rows by 2 vectors
 * (20 accumulators; 12 rows measured no faster). */
#if defined(__x86_64__) && defined(__GNUC__)
#define SIMD_NAME rnn_simd_avx512
#define SIMD_ISA "avx512"
#define SIMD_TARGET __attribute__((target("avx512f")))
#define SIMD_BYTES 64
#define SIMD_MR 10
#define SIMD_MR_SPLIT 8
#define SIMD_NV 2
#include "rnn_kernels.inc"
#else
typedef int rnn_avx512_unused;	/* elsewhere: nothing (ISO C wants a declaration) */
#endif
