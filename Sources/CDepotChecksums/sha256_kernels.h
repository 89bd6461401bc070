/* The SIMD kernels of sha256_multibuffer_x86.c, called only after the CPU check says they can run. */
#ifndef DEPOT_SHA256_KERNELS_H
#define DEPOT_SHA256_KERNELS_H
#include "depot_sha256.h"
#include <stddef.h>
#include <stdint.h>

/* The 64 round constants K of FIPS 180-4 4.2.2, 64-byte aligned for vector loads. */
extern const uint32_t depot_sha256_k[64];

#if defined(__x86_64__)
/* One stream with the SHA extensions. */
void depot_sha256_x1_shani(uint32_t state[8], const uint8_t *data, size_t blocks);
/* Two streams with the SHA extensions, their rounds interleaved (`lanes` 1 or 2). */
void depot_sha256_x2_shani(uint32_t *states, const uint8_t *const *data, const size_t *blocks, int lanes);
/* Three streams with the SHA extensions, their rounds interleaved (`lanes` 1 to 3). */
void depot_sha256_x3_shani(uint32_t *states, const uint8_t *const *data, const size_t *blocks, int lanes);
/* Up to 8 lanes in one pass of AVX-512VL (ymm registers). */
void depot_sha256_x8_avx512(uint32_t *states, const uint8_t *const *data, const size_t *blocks, int lanes);
/* Up to 16 lanes in one pass of AVX-512F (zmm registers). */
void depot_sha256_x16_avx512(uint32_t *states, const uint8_t *const *data, const size_t *blocks, int lanes);
#endif

#endif
