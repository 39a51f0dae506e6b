/* rnn_base.c: the vector kernels of rnn_kernels.inc for any machine: 16-byte
 * vectors (SSE2 on every x86-64, NEON on arm64, scalar code where there is
 * nothing better), gemm tiles of 4 rows by 2 vectors. */
#define SIMD_NAME rnn_simd_base
#define SIMD_ISA "base"
#define SIMD_TARGET
#define SIMD_BYTES 16
#define SIMD_MR 4
#define SIMD_MR_SPLIT 4
#define SIMD_NV 2
#include "rnn_kernels.inc"
