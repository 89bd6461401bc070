/* What multi-buffer MD5 and SHA-256 share: the build flag their callers check, the padding of a
   stream's last block, and the x86 steps that turn one 64-byte block per lane into one vector per
   message word. Internal to CDepotChecksums; every function is static inline, so each kernel file
   gets its own copy under its own target attributes. */
#ifndef DEPOT_MULTIBUFFER_COMMON_H
#define DEPOT_MULTIBUFFER_COMMON_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* 1 when the including file was compiled with optimization: the SIMD kernels are several times
   slower unoptimized, so callers then prefer OpenSSL. */
static inline int depot_built_optimized(void) {
#if defined(__OPTIMIZE__)
    return 1;
#else
    return 0;
#endif
}

/* MD5 and SHA-256 pad alike (RFC 1321 3.1, FIPS 180-4 5.1.1): the tail, a 1 bit, zeros up to 56
   bytes mod 64, then the length in bits, whose byte order is the caller's (the last 8 bytes are
   left zero for it). `last` must be zeroed; returns the padded length, 64 or 128. */
static inline size_t depot_pad_tail(uint8_t last[128], const uint8_t *tail, size_t tail_length) {
    if (tail_length > 63) tail_length = 63;
    if (tail_length > 0) memcpy(last, tail, tail_length);
    last[tail_length] = 0x80;
    return tail_length < 56 ? 64 : 128;
}

#if defined(__x86_64__)
#include <immintrin.h>

/* Row i (lane i's block) becomes column i: afterwards rows[j] holds word j of all 16 lanes. Only
   AVX-512F instructions, so it inlines into any AVX-512 kernel. */
static inline __attribute__((target("avx512f"))) void depot_transpose_16x16(__m512i rows[16]) {
    __m512i t[16], u[16];
    // Pairs of lanes, inside each 128-bit quarter.
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_epi32(rows[i], rows[i + 1]);
        t[i + 1] = _mm512_unpackhi_epi32(rows[i], rows[i + 1]);
    }
    // Fours of lanes: u[4g + m], quarter k, holds word 4k + m of lanes 4g .. 4g+3.
    for (int i = 0; i < 16; i += 4) {
        u[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
        u[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
        u[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
        u[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
    // A 4x4 transpose of 128-bit quarters gathers word 4k + m of all four groups.
    for (int m = 0; m < 4; m++) {
        const __m512i low01 = _mm512_shuffle_i32x4(u[m], u[4 + m], 0x44);
        const __m512i high01 = _mm512_shuffle_i32x4(u[m], u[4 + m], 0xEE);
        const __m512i low23 = _mm512_shuffle_i32x4(u[8 + m], u[12 + m], 0x44);
        const __m512i high23 = _mm512_shuffle_i32x4(u[8 + m], u[12 + m], 0xEE);
        rows[m] = _mm512_shuffle_i32x4(low01, low23, 0x88);
        rows[4 + m] = _mm512_shuffle_i32x4(low01, low23, 0xDD);
        rows[8 + m] = _mm512_shuffle_i32x4(high01, high23, 0x88);
        rows[12 + m] = _mm512_shuffle_i32x4(high01, high23, 0xDD);
    }
}

/* One pass's message words for 16 lanes: lane i's block `pass` (read from next[i]) when it has
   more than `pass` blocks (`left[i]`), else zeros; w[j] then holds word j of every lane. Returns
   the lanes that had a block, for the kernel's masked feed-forward. */
static inline __attribute__((target("avx512f"))) __mmask16 depot_load_pass_16(__m512i w[16],
                                                                               const uint8_t *const next[16],
                                                                               const size_t left[16], size_t pass) {
    __mmask16 active = 0;
    for (int i = 0; i < 16; i++) {
        if (left[i] > pass) {
            active |= (__mmask16)(1u << i);
            w[i] = _mm512_loadu_si512(next[i] + 64 * pass);
        } else {
            w[i] = _mm512_setzero_si512();
        }
    }
    depot_transpose_16x16(w);
    return active;
}

/* Eight rows of eight words (half a block per lane) become eight columns. Only AVX2 instructions,
   so it inlines into the AVX2 MD5 kernel and the AVX-512VL SHA-256 one alike. */
static inline __attribute__((target("avx2"))) void depot_transpose_8x8(__m256i rows[8]) {
    __m256i t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_epi32(rows[i], rows[i + 1]);
        t[i + 1] = _mm256_unpackhi_epi32(rows[i], rows[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_unpacklo_epi64(t[i], t[i + 2]);
        u[i + 1] = _mm256_unpackhi_epi64(t[i], t[i + 2]);
        u[i + 2] = _mm256_unpacklo_epi64(t[i + 1], t[i + 3]);
        u[i + 3] = _mm256_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
    for (int m = 0; m < 4; m++) {
        rows[m] = _mm256_permute2x128_si256(u[m], u[4 + m], 0x20);
        rows[4 + m] = _mm256_permute2x128_si256(u[m], u[4 + m], 0x31);
    }
}
#endif

#endif
