/* rnn_avx512.c: the vector kernels of rnn_kernels.inc for x86-64 with AVX-512:
 * 64-byte vectors, 32 registers, so gemm tiles of 8 rows by 2 vectors. */
#if defined(__x86_64__) && defined(__GNUC__)
#define SIMD_NAME rnn_simd_avx512
#define SIMD_ISA "avx512"
#define SIMD_TARGET __attribute__((target("avx512f")))
#define SIMD_BYTES 64
#define SIMD_MR 8
#define SIMD_NV 2
#include "rnn_kernels.inc"
#else
typedef int rnn_avx512_unused;	/* elsewhere: nothing (ISO C wants a declaration) */
#endif
