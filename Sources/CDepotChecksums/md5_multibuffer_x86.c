// The SIMD kernels of multi-buffer MD5: one stream per 32-bit lane, 16 lanes with AVX-512F, 8 with
// AVX2. Compiled with per-function target attributes, so the target needs no global -m flags and
// runs on any x86-64; md5_multibuffer.c calls them only when the CPU check says they can run.
//
// Each pass loads one 64-byte block per lane and transposes them so that vector j holds message
// word j of every lane; the 64 steps then run on all lanes at once. Lanes whose streams have
// fewer blocks read a block of zeros and keep their state (masked feed-forward), so streams that
// end at different times share a pass.
#include "md5_kernels.h"

#if defined(__x86_64__)
#include "md5_schedule.h"
#include "multibuffer_common.h"

// ---- AVX-512F: 16 lanes ----

#define AVX512_FN __attribute__((target("avx512f")))

AVX512_FN void depot_md5_x16_avx512(uint32_t *states, const uint8_t *const *data, const size_t *blocks,
                                    int lanes) {
    uint32_t sa[16] = {0}, sb[16] = {0}, sc[16] = {0}, sd[16] = {0};
    const uint8_t *next[16];
    size_t left[16], most = 0;
    for (int i = 0; i < 16; i++) {
        const int used = i < lanes && blocks[i] > 0;
        next[i] = used ? data[i] : depot_md5_idle_block;
        left[i] = used ? blocks[i] : 0;
        if (i < lanes) {
            sa[i] = states[4 * i];
            sb[i] = states[4 * i + 1];
            sc[i] = states[4 * i + 2];
            sd[i] = states[4 * i + 3];
        }
        if (left[i] > most) most = left[i];
    }
    __m512i a = _mm512_loadu_si512(sa), b = _mm512_loadu_si512(sb);
    __m512i c = _mm512_loadu_si512(sc), d = _mm512_loadu_si512(sd);
    for (size_t pass = 0; pass < most; pass++) {
        __m512i w[16];
        const __mmask16 active = depot_load_pass_16(w, next, left, pass);
        const __m512i a0 = a, b0 = b, c0 = c, d0 = d;
        // F G H I as one three-input logic instruction each: the immediate is the truth table
        // indexed by (x, y, z) bits, e.g. F = x ? y : z is 0xCA.
#define F(x, y, z) _mm512_ternarylogic_epi32(x, y, z, 0xCA)
#define G(x, y, z) _mm512_ternarylogic_epi32(x, y, z, 0xE4)
#define H(x, y, z) _mm512_ternarylogic_epi32(x, y, z, 0x96)
#define I(x, y, z) _mm512_ternarylogic_epi32(x, y, z, 0x39)
#define STEP(f, a, b, c, d, m, s, i)                                                                   \
    a = _mm512_add_epi32(                                                                              \
        b, _mm512_rol_epi32(_mm512_add_epi32(_mm512_add_epi32(a, f(b, c, d)),                         \
                                             _mm512_add_epi32(w[m], _mm512_set1_epi32((int)depot_md5_t[i]))), \
                            s));
        DEPOT_MD5_STEPS(STEP)
#undef STEP
#undef F
#undef G
#undef H
#undef I
        a = _mm512_mask_add_epi32(a0, active, a, a0);
        b = _mm512_mask_add_epi32(b0, active, b, b0);
        c = _mm512_mask_add_epi32(c0, active, c, c0);
        d = _mm512_mask_add_epi32(d0, active, d, d0);
    }
    _mm512_storeu_si512(sa, a);
    _mm512_storeu_si512(sb, b);
    _mm512_storeu_si512(sc, c);
    _mm512_storeu_si512(sd, d);
    for (int i = 0; i < lanes; i++) {
        states[4 * i] = sa[i];
        states[4 * i + 1] = sb[i];
        states[4 * i + 2] = sc[i];
        states[4 * i + 3] = sd[i];
    }
}

// ---- AVX2: 8 lanes ----

#define AVX2_FN __attribute__((target("avx2")))

AVX2_FN void depot_md5_x8_avx2(uint32_t *states, const uint8_t *const *data, const size_t *blocks, int lanes) {
    uint32_t sa[8] = {0}, sb[8] = {0}, sc[8] = {0}, sd[8] = {0};
    const uint8_t *next[8];
    size_t left[8], most = 0;
    for (int i = 0; i < 8; i++) {
        const int used = i < lanes && blocks[i] > 0;
        next[i] = used ? data[i] : depot_md5_idle_block;
        left[i] = used ? blocks[i] : 0;
        if (i < lanes) {
            sa[i] = states[4 * i];
            sb[i] = states[4 * i + 1];
            sc[i] = states[4 * i + 2];
            sd[i] = states[4 * i + 3];
        }
        if (left[i] > most) most = left[i];
    }
    __m256i a = _mm256_loadu_si256((const __m256i *)sa), b = _mm256_loadu_si256((const __m256i *)sb);
    __m256i c = _mm256_loadu_si256((const __m256i *)sc), d = _mm256_loadu_si256((const __m256i *)sd);
    const __m256i ones = _mm256_set1_epi32(-1);
    for (size_t pass = 0; pass < most; pass++) {
        int32_t on[8];
        __m256i w[16];
        for (int i = 0; i < 8; i++) {
            const uint8_t *block = left[i] > pass ? next[i] + 64 * pass : depot_md5_idle_block;
            on[i] = left[i] > pass ? -1 : 0;
            w[i] = _mm256_loadu_si256((const __m256i *)block);
            w[8 + i] = _mm256_loadu_si256((const __m256i *)(block + 32));
        }
        depot_transpose_8x8(w);
        depot_transpose_8x8(w + 8);
        const __m256i active = _mm256_loadu_si256((const __m256i *)on);
        const __m256i a0 = a, b0 = b, c0 = c, d0 = d;
#define F(x, y, z) _mm256_xor_si256(z, _mm256_and_si256(x, _mm256_xor_si256(y, z)))
#define G(x, y, z) _mm256_xor_si256(y, _mm256_and_si256(z, _mm256_xor_si256(x, y)))
#define H(x, y, z) _mm256_xor_si256(_mm256_xor_si256(x, y), z)
#define I(x, y, z) _mm256_xor_si256(y, _mm256_or_si256(x, _mm256_xor_si256(z, ones)))
#define ROL(x, s) _mm256_or_si256(_mm256_slli_epi32(x, s), _mm256_srli_epi32(x, 32 - (s)))
#define STEP(f, a, b, c, d, m, s, i)                                                                   \
    a = _mm256_add_epi32(                                                                              \
        b, ROL(_mm256_add_epi32(_mm256_add_epi32(a, f(b, c, d)),                                      \
                                _mm256_add_epi32(w[m], _mm256_set1_epi32((int)depot_md5_t[i]))),         \
               s));
        DEPOT_MD5_STEPS(STEP)
#undef STEP
#undef ROL
#undef F
#undef G
#undef H
#undef I
        // Lanes out of blocks add zero: their state stays as it was.
        a = _mm256_add_epi32(a0, _mm256_and_si256(a, active));
        b = _mm256_add_epi32(b0, _mm256_and_si256(b, active));
        c = _mm256_add_epi32(c0, _mm256_and_si256(c, active));
        d = _mm256_add_epi32(d0, _mm256_and_si256(d, active));
    }
    _mm256_storeu_si256((__m256i *)sa, a);
    _mm256_storeu_si256((__m256i *)sb, b);
    _mm256_storeu_si256((__m256i *)sc, c);
    _mm256_storeu_si256((__m256i *)sd, d);
    for (int i = 0; i < lanes; i++) {
        states[4 * i] = sa[i];
        states[4 * i + 1] = sb[i];
        states[4 * i + 2] = sc[i];
        states[4 * i + 3] = sd[i];
    }
}

#endif
