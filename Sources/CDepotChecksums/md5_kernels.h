/* The SIMD kernels of md5_multibuffer_x86.c, called only after the CPU check says they can run. */
#ifndef DEPOT_MD5_KERNELS_H
#define DEPOT_MD5_KERNELS_H
#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__)
/* Up to 16 lanes in one pass of AVX-512F. */
void depot_md5_x16_avx512(uint32_t *states, const uint8_t *const *data, const size_t *blocks, int lanes);
/* Up to 8 lanes in one pass of AVX-512VL on ymm registers. */
void depot_md5_x8_avx512vl(uint32_t *states, const uint8_t *const *data, const size_t *blocks, int lanes);
/* Up to 8 lanes in one pass of AVX2. */
void depot_md5_x8_avx2(uint32_t *states, const uint8_t *const *data, const size_t *blocks, int lanes);
#endif

/* Lanes with no block left read this instead of their own data, so loads stay in bounds. */
extern const uint8_t depot_md5_idle_block[64];

#endif
