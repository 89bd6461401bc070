// The SIMD kernels of multi-buffer MD5: one stream per 32-bit lane, 16 lanes with AVX-512F on zmm
// registers, 8 with AVX-512VL on ymm registers, 8 with AVX2. Compiled with per-function target
// attributes, so the target needs no global -m flags and runs on any x86-64; md5_multibuffer.c
// calls them only when the CPU check says they can run.
//
// Each pass loads one 64-byte block per lane and transposes them so that vector j holds message
// word j of every lane; the 64 steps then run on all lanes at once. Lanes whose streams have
// fewer blocks read a block of zeros and keep their state (masked feed-forward), so streams that
// end at different times share a pass.
#include "md5_kernels.h"

#if defined(__x86_64__)
#include "md5_schedule.h"
#include "multibuffer_common.h"

// Each lane's state words and blocks, gathered so that a kernel loads word j of every lane at once.
typedef struct {
    uint32_t a[16], b[16], c[16], d[16];
    const uint8_t *next[16];
    size_t left[16], most;
} md5_lanes;

static inline void lanes_begin(md5_lanes *l, int width, const uint32_t *states, const uint8_t *const *data,
                               const size_t *blocks, int lanes) {
    memset(l, 0, sizeof *l);
    for (int i = 0; i < width; i++) {
        const int used = i < lanes && blocks[i] > 0;
        l->next[i] = used ? data[i] : depot_md5_idle_block;
        l->left[i] = used ? blocks[i] : 0;
        if (i < lanes) {
            l->a[i] = states[4 * i];
            l->b[i] = states[4 * i + 1];
            l->c[i] = states[4 * i + 2];
            l->d[i] = states[4 * i + 3];
        }
        if (l->left[i] > l->most) l->most = l->left[i];
    }
}

static inline void lanes_end(const md5_lanes *l, uint32_t *states, int lanes) {
    for (int i = 0; i < lanes; i++) {
        states[4 * i] = l->a[i];
        states[4 * i + 1] = l->b[i];
        states[4 * i + 2] = l->c[i];
        states[4 * i + 3] = l->d[i];
    }
}

// A step is a = b + rol(a + F(b, c, d) + w[m] + K[i], s). Only F depends on the previous step's
// result (b), so a + w[m] + K[i] is summed first and kept whole (an empty asm the compiler cannot
// see through): otherwise clang re-associates the sum to fold K in last as a broadcast operand,
// and each step's chain from b is F, add, add, rotate, add, five dependent operations instead of
// four. On Zen 4 that fifth one cost 15-20% (MD5Kernel.swift).
#define DEPOT_MD5_KEEP(x) __asm__("" : "+v"(x))

// ---- AVX-512F: 16 lanes ----

#define AVX512_FN __attribute__((target("avx512f")))

AVX512_FN void depot_md5_x16_avx512(uint32_t *states, const uint8_t *const *data, const size_t *blocks,
                                    int lanes) {
    md5_lanes l;
    lanes_begin(&l, 16, states, data, blocks, lanes);
    __m512i a = _mm512_loadu_si512(l.a), b = _mm512_loadu_si512(l.b);
    __m512i c = _mm512_loadu_si512(l.c), d = _mm512_loadu_si512(l.d);
    for (size_t pass = 0; pass < l.most; pass++) {
        __m512i w[16];
        const __mmask16 active = depot_load_pass_16(w, l.next, l.left, pass);
        const __m512i a0 = a, b0 = b, c0 = c, d0 = d;
        // F G H I as one three-input logic instruction each: the immediate is the truth table
        // indexed by (x, y, z) bits, e.g. F = x ? y : z is 0xCA.
#define F(x, y, z) _mm512_ternarylogic_epi32(x, y, z, 0xCA)
#define G(x, y, z) _mm512_ternarylogic_epi32(x, y, z, 0xE4)
#define H(x, y, z) _mm512_ternarylogic_epi32(x, y, z, 0x96)
#define I(x, y, z) _mm512_ternarylogic_epi32(x, y, z, 0x39)
#define STEP(f, a, b, c, d, m, s, i)                                                                   \
    {                                                                                                  \
        __m512i sum = _mm512_add_epi32(a, _mm512_add_epi32(w[m], _mm512_set1_epi32((int)depot_md5_t[i]))); \
        DEPOT_MD5_KEEP(sum);                                                                           \
        a = _mm512_add_epi32(b, _mm512_rol_epi32(_mm512_add_epi32(sum, f(b, c, d)), s));               \
    }
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
    _mm512_storeu_si512(l.a, a);
    _mm512_storeu_si512(l.b, b);
    _mm512_storeu_si512(l.c, c);
    _mm512_storeu_si512(l.d, d);
    lanes_end(&l, states, lanes);
}

// ---- AVX-512VL: 8 lanes on ymm registers ----
// The same steps at half the width, for passes of at most 8 streams: on Zen 4 a zmm instruction
// takes two 256-bit slots, so a 16-lane pass with 8 lanes busy costs as much as a full one. Lane
// i's block is loaded as two halves (words 0-7 and 8-15), each half transposed 8 x 8.

#define AVX512VL_FN __attribute__((target("avx512f,avx512vl")))

// One pass's message words for 8 lanes; returns the lanes that had a block.
static inline AVX512VL_FN __mmask8 load_pass_8(__m256i w[16], const md5_lanes *l, size_t pass) {
    __mmask8 active = 0;
    for (int i = 0; i < 8; i++) {
        const uint8_t *block = depot_md5_idle_block;
        if (l->left[i] > pass) {
            block = l->next[i] + 64 * pass;
            active |= (__mmask8)(1u << i);
        }
        w[i] = _mm256_loadu_si256((const __m256i *)block);
        w[8 + i] = _mm256_loadu_si256((const __m256i *)(block + 32));
    }
    depot_transpose_8x8(w);
    depot_transpose_8x8(w + 8);
    return active;
}

AVX512VL_FN void depot_md5_x8_avx512vl(uint32_t *states, const uint8_t *const *data, const size_t *blocks,
                                       int lanes) {
    md5_lanes l;
    lanes_begin(&l, 8, states, data, blocks, lanes);
    __m256i a = _mm256_loadu_si256((const __m256i *)l.a), b = _mm256_loadu_si256((const __m256i *)l.b);
    __m256i c = _mm256_loadu_si256((const __m256i *)l.c), d = _mm256_loadu_si256((const __m256i *)l.d);
    for (size_t pass = 0; pass < l.most; pass++) {
        __m256i w[16];
        const __mmask8 active = load_pass_8(w, &l, pass);
        const __m256i a0 = a, b0 = b, c0 = c, d0 = d;
#define F(x, y, z) _mm256_ternarylogic_epi32(x, y, z, 0xCA)
#define G(x, y, z) _mm256_ternarylogic_epi32(x, y, z, 0xE4)
#define H(x, y, z) _mm256_ternarylogic_epi32(x, y, z, 0x96)
#define I(x, y, z) _mm256_ternarylogic_epi32(x, y, z, 0x39)
#define STEP(f, a, b, c, d, m, s, i)                                                                   \
    {                                                                                                  \
        __m256i sum = _mm256_add_epi32(a, _mm256_add_epi32(w[m], _mm256_set1_epi32((int)depot_md5_t[i]))); \
        DEPOT_MD5_KEEP(sum);                                                                           \
        a = _mm256_add_epi32(b, _mm256_rol_epi32(_mm256_add_epi32(sum, f(b, c, d)), s));               \
    }
        DEPOT_MD5_STEPS(STEP)
#undef STEP
#undef F
#undef G
#undef H
#undef I
        a = _mm256_mask_add_epi32(a0, active, a, a0);
        b = _mm256_mask_add_epi32(b0, active, b, b0);
        c = _mm256_mask_add_epi32(c0, active, c, c0);
        d = _mm256_mask_add_epi32(d0, active, d, d0);
    }
    _mm256_storeu_si256((__m256i *)l.a, a);
    _mm256_storeu_si256((__m256i *)l.b, b);
    _mm256_storeu_si256((__m256i *)l.c, c);
    _mm256_storeu_si256((__m256i *)l.d, d);
    lanes_end(&l, states, lanes);
}

// ---- AVX2: 8 lanes ----

#define AVX2_FN __attribute__((target("avx2")))

AVX2_FN void depot_md5_x8_avx2(uint32_t *states, const uint8_t *const *data, const size_t *blocks, int lanes) {
    md5_lanes l;
    lanes_begin(&l, 8, states, data, blocks, lanes);
    __m256i a = _mm256_loadu_si256((const __m256i *)l.a), b = _mm256_loadu_si256((const __m256i *)l.b);
    __m256i c = _mm256_loadu_si256((const __m256i *)l.c), d = _mm256_loadu_si256((const __m256i *)l.d);
    const __m256i ones = _mm256_set1_epi32(-1);
    for (size_t pass = 0; pass < l.most; pass++) {
        int32_t on[8];
        __m256i w[16];
        for (int i = 0; i < 8; i++) {
            const uint8_t *block = l.left[i] > pass ? l.next[i] + 64 * pass : depot_md5_idle_block;
            on[i] = l.left[i] > pass ? -1 : 0;
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
        // Summed in the RFC's order: ten operations a step keep this kernel busy more than its
        // chain does, and the order of DEPOT_MD5_KEEP measured no faster here (4,090 against
        // 4,120 MiB/s for 8 lanes on Zen 4).
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
    _mm256_storeu_si256((__m256i *)l.a, a);
    _mm256_storeu_si256((__m256i *)l.b, b);
    _mm256_storeu_si256((__m256i *)l.c, c);
    _mm256_storeu_si256((__m256i *)l.d, d);
    lanes_end(&l, states, lanes);
}

#endif
