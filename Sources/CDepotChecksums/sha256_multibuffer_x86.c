// The SIMD kernels of multi-buffer SHA-256 (FIPS 180-4 6.2.2): SHA-NI for one stream and for two
// streams interleaved, AVX-512 for 8 (ymm) or 16 (zmm) streams, one per 32-bit lane. Compiled with
// per-function target attributes, so the target needs no global -m flags and runs on any x86-64;
// sha256_multibuffer.c calls them only when the CPU check says they can run.
#include "sha256_kernels.h"

#if defined(__x86_64__)
#include "multibuffer_common.h"

// ---- SHA extensions ----
//
// sha256rnds2 runs two rounds on the state split as {A, B, E, F} and {C, D, G, H} (most significant
// word first), taking W[t] + K[t] for both rounds from the low half of its third operand; after it the
// old {A, B, E, F} is the new {C, D, G, H}, so the two halves swap roles every call. sha256msg1 and
// sha256msg2 compute four words of the message schedule between them.

#define SHA_FN __attribute__((target("sha,sse4.1,ssse3")))

// Each 32-bit word byte-reversed: the message is big-endian.
#define SHA_BYTE_ORDER _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL)

// {A, B, C, D} {E, F, G, H} (state order) into {A, B, E, F} {C, D, G, H} (sha256rnds2's order).
static inline SHA_FN void shani_load_state(const uint32_t state[8], __m128i *abef, __m128i *cdgh) {
    const __m128i badc = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)state), 0xB1);
    const __m128i hgfe = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(state + 4)), 0x1B);
    *abef = _mm_alignr_epi8(badc, hgfe, 8);
    *cdgh = _mm_blend_epi16(hgfe, badc, 0xF0);
}

static inline SHA_FN void shani_store_state(uint32_t state[8], __m128i abef, __m128i cdgh) {
    const __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
    const __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
    _mm_storeu_si128((__m128i *)state, _mm_blend_epi16(feba, dchg, 0xF0));
    _mm_storeu_si128((__m128i *)(state + 4), _mm_alignr_epi8(dchg, feba, 8));
}

// Four rounds (group g: rounds 4g .. 4g+3) of one stream whose schedule words are in `w`.
#define SHANI_ROUNDS4(abef, cdgh, w, g)                                                                 \
    do {                                                                                               \
        const __m128i wk_ = _mm_add_epi32(w, _mm_load_si128((const __m128i *)(depot_sha256_k + 4 * (g)))); \
        cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk_);                                                 \
        abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk_, 0x0E));                        \
    } while (0)

// The schedule words of group g from groups g-4 (w0, replaced), g-3, g-2 and g-1.
#define SHANI_SCHEDULE(w0, w1, w2, w3)                                                                 \
    w0 = _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32(w0, w1), _mm_alignr_epi8(w3, w2, 4)), w3)

// 64 rounds over one block already loaded into m0..m3, for one stream (X = one round group).
#define SHANI_BLOCK(X)                                                                                 \
    X(0, m0) X(1, m1) X(2, m2) X(3, m3)                                                                \
    SHANI_GROUP(4, m0, m1, m2, m3, X) SHANI_GROUP(5, m1, m2, m3, m0, X)                                \
    SHANI_GROUP(6, m2, m3, m0, m1, X) SHANI_GROUP(7, m3, m0, m1, m2, X)                                \
    SHANI_GROUP(8, m0, m1, m2, m3, X) SHANI_GROUP(9, m1, m2, m3, m0, X)                                \
    SHANI_GROUP(10, m2, m3, m0, m1, X) SHANI_GROUP(11, m3, m0, m1, m2, X)                              \
    SHANI_GROUP(12, m0, m1, m2, m3, X) SHANI_GROUP(13, m1, m2, m3, m0, X)                              \
    SHANI_GROUP(14, m2, m3, m0, m1, X) SHANI_GROUP(15, m3, m0, m1, m2, X)

SHA_FN void depot_sha256_x1_shani(uint32_t state[8], const uint8_t *data, size_t blocks) {
    const __m128i order = SHA_BYTE_ORDER;
    __m128i abef, cdgh;
    shani_load_state(state, &abef, &cdgh);
    for (; blocks > 0; blocks--, data += 64) {
        const __m128i abef0 = abef, cdgh0 = cdgh;
        __m128i m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)data), order);
        __m128i m1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 16)), order);
        __m128i m2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 32)), order);
        __m128i m3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 48)), order);
#define SHANI_GROUP(g, w0, w1, w2, w3, X) SHANI_SCHEDULE(w0, w1, w2, w3); X(g, w0)
#define ONE(g, w) SHANI_ROUNDS4(abef, cdgh, w, g);
        SHANI_BLOCK(ONE)
#undef ONE
#undef SHANI_GROUP
        abef = _mm_add_epi32(abef, abef0);
        cdgh = _mm_add_epi32(cdgh, cdgh0);
    }
    shani_store_state(state, abef, cdgh);
}

// Two streams, each step of one followed by the same step of the other: each stream's rounds form
// one dependent chain of sha256rnds2, so a second chain fills the cycles the first waits.
SHA_FN void depot_sha256_x2_shani(uint32_t *states, const uint8_t *const *data, const size_t *blocks, int lanes) {
    if (lanes < 2 || blocks[0] == 0 || blocks[1] == 0) {
        for (int lane = 0; lane < lanes && lane < 2; lane++)
            if (blocks[lane] > 0) depot_sha256_x1_shani(states + 8 * lane, data[lane], blocks[lane]);
        return;
    }
    const __m128i order = SHA_BYTE_ORDER;
    const size_t both = blocks[0] < blocks[1] ? blocks[0] : blocks[1];
    const uint8_t *p = data[0], *q = data[1];
    __m128i abef, cdgh, xabef, xcdgh;
    shani_load_state(states, &abef, &cdgh);
    shani_load_state(states + 8, &xabef, &xcdgh);
    for (size_t block = 0; block < both; block++, p += 64, q += 64) {
        const __m128i abef0 = abef, cdgh0 = cdgh, xabef0 = xabef, xcdgh0 = xcdgh;
        __m128i m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)p), order);
        __m128i n0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)q), order);
        __m128i m1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), order);
        __m128i n1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(q + 16)), order);
        __m128i m2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), order);
        __m128i n2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(q + 32)), order);
        __m128i m3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), order);
        __m128i n3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(q + 48)), order);
        // The second stream's schedule words n0..n3 rotate in step with the first's m0..m3.
#define N_OF_m0 n0
#define N_OF_m1 n1
#define N_OF_m2 n2
#define N_OF_m3 n3
#define N_OF(w) N_OF_##w
#define SHANI_GROUP(g, w0, w1, w2, w3, X)                                                              \
    SHANI_SCHEDULE(w0, w1, w2, w3);                                                                    \
    SHANI_SCHEDULE(N_OF(w0), N_OF(w1), N_OF(w2), N_OF(w3));                                            \
    X(g, w0)
#define TWO(g, w)                                                                                      \
    {                                                                                                  \
        const __m128i k_ = _mm_load_si128((const __m128i *)(depot_sha256_k + 4 * (g)));                \
        const __m128i wk_ = _mm_add_epi32(w, k_), xwk_ = _mm_add_epi32(N_OF(w), k_);                   \
        cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk_);                                                 \
        xcdgh = _mm_sha256rnds2_epu32(xcdgh, xabef, xwk_);                                             \
        abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk_, 0x0E));                        \
        xabef = _mm_sha256rnds2_epu32(xabef, xcdgh, _mm_shuffle_epi32(xwk_, 0x0E));                    \
    }
        SHANI_BLOCK(TWO)
#undef TWO
#undef SHANI_GROUP
#undef N_OF
#undef N_OF_m0
#undef N_OF_m1
#undef N_OF_m2
#undef N_OF_m3
        abef = _mm_add_epi32(abef, abef0);
        cdgh = _mm_add_epi32(cdgh, cdgh0);
        xabef = _mm_add_epi32(xabef, xabef0);
        xcdgh = _mm_add_epi32(xcdgh, xcdgh0);
    }
    shani_store_state(states, abef, cdgh);
    shani_store_state(states + 8, xabef, xcdgh);
    // The longer stream's remaining blocks run alone.
    if (blocks[0] > both) depot_sha256_x1_shani(states, p, blocks[0] - both);
    if (blocks[1] > both) depot_sha256_x1_shani(states + 8, q, blocks[1] - both);
}

// Three streams, `count` blocks each, their rounds interleaved step by step as in the two-stream
// kernel; written as loops over the streams, which unroll fully when optimized. On Zen 4 one chain
// runs at half of the SHA unit's rate and two fill it; three run as fast as two (0-3% more), so
// groups of three and two hash an odd number of streams without a chain alone (depot_sha256.h).
// Four chains were slower (2,774-2,915 MiB per CPU-s against 3,281-3,390 for two pairs): they
// spill, sha256rnds2 having only the 16 legacy xmm registers.
static SHA_FN void shani_three_chains(uint32_t *states, const uint8_t *p[3], size_t count) {
    const __m128i order = SHA_BYTE_ORDER;
    __m128i abef[3], cdgh[3];
    for (int s = 0; s < 3; s++) shani_load_state(states + 8 * s, &abef[s], &cdgh[s]);
    for (; count > 0; count--) {
        __m128i abef0[3], cdgh0[3], m[3][4];
        for (int s = 0; s < 3; s++) {
            abef0[s] = abef[s];
            cdgh0[s] = cdgh[s];
            for (int j = 0; j < 4; j++)
                m[s][j] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p[s] + 16 * j)), order);
            p[s] += 64;
        }
#pragma GCC unroll 16
        for (int g = 0; g < 16; g++) {
            const __m128i k = _mm_load_si128((const __m128i *)(depot_sha256_k + 4 * g));
            __m128i wk[3];
#pragma GCC unroll 3
            for (int s = 0; s < 3; s++) {
                if (g >= 4) SHANI_SCHEDULE(m[s][g & 3], m[s][(g + 1) & 3], m[s][(g + 2) & 3], m[s][(g + 3) & 3]);
                wk[s] = _mm_add_epi32(m[s][g & 3], k);
            }
#pragma GCC unroll 3
            for (int s = 0; s < 3; s++) cdgh[s] = _mm_sha256rnds2_epu32(cdgh[s], abef[s], wk[s]);
#pragma GCC unroll 3
            for (int s = 0; s < 3; s++)
                abef[s] = _mm_sha256rnds2_epu32(abef[s], cdgh[s], _mm_shuffle_epi32(wk[s], 0x0E));
        }
        for (int s = 0; s < 3; s++) {
            abef[s] = _mm_add_epi32(abef[s], abef0[s]);
            cdgh[s] = _mm_add_epi32(cdgh[s], cdgh0[s]);
        }
    }
    for (int s = 0; s < 3; s++) shani_store_state(states + 8 * s, abef[s], cdgh[s]);
}

// Up to three streams: the blocks all three have run as three chains, the rest of the longer ones
// as two chains or one (the two-stream kernel).
SHA_FN void depot_sha256_x3_shani(uint32_t *states, const uint8_t *const *data, const size_t *blocks, int lanes) {
    if (lanes < 3 || blocks[0] == 0 || blocks[1] == 0 || blocks[2] == 0) {
        // At most two lanes with blocks: side by side for the two-stream kernel.
        uint32_t pair[16];
        const uint8_t *pair_data[2];
        size_t pair_blocks[2];
        int pair_lane[2], count = 0;
        for (int lane = 0; lane < lanes && lane < 3; lane++) {
            if (blocks[lane] == 0) continue;
            memcpy(pair + 8 * count, states + 8 * lane, 32);
            pair_data[count] = data[lane];
            pair_blocks[count] = blocks[lane];
            pair_lane[count++] = lane;
        }
        depot_sha256_x2_shani(pair, pair_data, pair_blocks, count);
        for (int i = 0; i < count; i++) memcpy(states + 8 * pair_lane[i], pair + 8 * i, 32);
        return;
    }
    size_t all = blocks[0];
    for (int lane = 1; lane < 3; lane++)
        if (blocks[lane] < all) all = blocks[lane];
    const uint8_t *p[3] = {data[0], data[1], data[2]};
    shani_three_chains(states, p, all);
    const size_t left[3] = {blocks[0] - all, blocks[1] - all, blocks[2] - all};
    depot_sha256_x3_shani(states, p, left, 3);
}

// ---- AVX-512: one stream per 32-bit lane ----
//
// Each pass loads one 64-byte block per lane and transposes them so that vector j holds message
// word j of every lane; the 64 rounds then run on all lanes at once, with vprord for the rotations
// and vpternlogd for Ch, Maj and the three-way xors of the sigmas. Lanes whose streams have fewer
// blocks read zeros and keep their state (masked feed-forward), so streams that end at different
// times share a pass. The rounds are written once, over the operations ADD ROR SHR TERN K below.

#define SIGMA0(x) TERN(ROR(x, 2), ROR(x, 13), ROR(x, 22), 0x96)
#define SIGMA1(x) TERN(ROR(x, 6), ROR(x, 11), ROR(x, 25), 0x96)
#define SMALL_SIGMA0(x) TERN(ROR(x, 7), ROR(x, 18), SHR(x, 3), 0x96)
#define SMALL_SIGMA1(x) TERN(ROR(x, 17), ROR(x, 19), SHR(x, 10), 0x96)
// Ch = e ? f : g is truth table 0xCA; Maj (two of three set) is 0xE8.
#define CHOOSE(e, f, g) TERN(e, f, g, 0xCA)
#define MAJORITY(a, b, c) TERN(a, b, c, 0xE8)

// Round t; from round 16 on, w[t mod 16] first becomes schedule word t. The next round names the
// same variables shifted by one, so no value moves between registers.
#define ROUND(a, b, c, d, e, f, g, h, t)                                                               \
    {                                                                                                  \
        if ((t) >= 16)                                                                                 \
            w[(t) & 15] = ADD(ADD(w[(t) & 15], SMALL_SIGMA0(w[((t) + 1) & 15])),                      \
                              ADD(w[((t) + 9) & 15], SMALL_SIGMA1(w[((t) + 14) & 15])));                \
        const VEC t1_ = ADD(ADD(h, SIGMA1(e)), ADD(ADD(CHOOSE(e, f, g), K(t)), w[(t) & 15]));           \
        d = ADD(d, t1_);                                                                               \
        h = ADD(t1_, ADD(SIGMA0(a), MAJORITY(a, b, c)));                                               \
    }
#define ROUNDS8(t)                                                                                     \
    ROUND(a, b, c, d, e, f, g, h, (t)) ROUND(h, a, b, c, d, e, f, g, (t) + 1)                           \
    ROUND(g, h, a, b, c, d, e, f, (t) + 2) ROUND(f, g, h, a, b, c, d, e, (t) + 3)                       \
    ROUND(e, f, g, h, a, b, c, d, (t) + 4) ROUND(d, e, f, g, h, a, b, c, (t) + 5)                       \
    ROUND(c, d, e, f, g, h, a, b, (t) + 6) ROUND(b, c, d, e, f, g, h, a, (t) + 7)
#define ROUNDS64                                                                                       \
    ROUNDS8(0) ROUNDS8(8) ROUNDS8(16) ROUNDS8(24) ROUNDS8(32) ROUNDS8(40) ROUNDS8(48) ROUNDS8(56)

// Lane i's state words from `states`, word j of every lane in column j; lanes >= `lanes` get zeros.
static void gather_states(uint32_t columns[8][16], const uint32_t *states, int lanes, int width) {
    for (int i = 0; i < width; i++)
        for (int j = 0; j < 8; j++) columns[j][i] = i < lanes ? states[8 * i + j] : 0;
}

static void scatter_states(uint32_t *states, uint32_t columns[8][16], int lanes) {
    for (int i = 0; i < lanes; i++)
        for (int j = 0; j < 8; j++) states[8 * i + j] = columns[j][i];
}

// ---- 16 lanes, zmm ----

#define AVX512_FN __attribute__((target("avx512f,avx512bw")))

AVX512_FN void depot_sha256_x16_avx512(uint32_t *states, const uint8_t *const *data, const size_t *blocks,
                                       int lanes) {
    _Alignas(64) uint32_t columns[8][16];
    const uint8_t *next[16];
    size_t left[16], most = 0;
    for (int i = 0; i < 16; i++) {
        left[i] = i < lanes ? blocks[i] : 0;
        next[i] = left[i] > 0 ? data[i] : 0;
        if (left[i] > most) most = left[i];
    }
    if (most == 0) return;
    gather_states(columns, states, lanes, 16);
    __m512i a = _mm512_load_si512(columns[0]), b = _mm512_load_si512(columns[1]);
    __m512i c = _mm512_load_si512(columns[2]), d = _mm512_load_si512(columns[3]);
    __m512i e = _mm512_load_si512(columns[4]), f = _mm512_load_si512(columns[5]);
    __m512i g = _mm512_load_si512(columns[6]), h = _mm512_load_si512(columns[7]);
    const __m512i order = _mm512_broadcast_i32x4(SHA_BYTE_ORDER);
    for (size_t pass = 0; pass < most; pass++) {
        __m512i w[16];
        const __mmask16 active = depot_load_pass_16(w, next, left, pass);
        for (int j = 0; j < 16; j++) w[j] = _mm512_shuffle_epi8(w[j], order);
        const __m512i a0 = a, b0 = b, c0 = c, d0 = d, e0 = e, f0 = f, g0 = g, h0 = h;
#define VEC __m512i
#define ADD(x, y) _mm512_add_epi32(x, y)
#define ROR(x, n) _mm512_ror_epi32(x, n)
#define SHR(x, n) _mm512_srli_epi32(x, n)
#define TERN(x, y, z, table) _mm512_ternarylogic_epi32(x, y, z, table)
#define K(t) _mm512_set1_epi32((int)depot_sha256_k[t])
        ROUNDS64
#undef VEC
#undef ADD
#undef ROR
#undef SHR
#undef TERN
#undef K
        a = _mm512_mask_add_epi32(a0, active, a, a0);
        b = _mm512_mask_add_epi32(b0, active, b, b0);
        c = _mm512_mask_add_epi32(c0, active, c, c0);
        d = _mm512_mask_add_epi32(d0, active, d, d0);
        e = _mm512_mask_add_epi32(e0, active, e, e0);
        f = _mm512_mask_add_epi32(f0, active, f, f0);
        g = _mm512_mask_add_epi32(g0, active, g, g0);
        h = _mm512_mask_add_epi32(h0, active, h, h0);
    }
    _mm512_store_si512(columns[0], a);
    _mm512_store_si512(columns[1], b);
    _mm512_store_si512(columns[2], c);
    _mm512_store_si512(columns[3], d);
    _mm512_store_si512(columns[4], e);
    _mm512_store_si512(columns[5], f);
    _mm512_store_si512(columns[6], g);
    _mm512_store_si512(columns[7], h);
    scatter_states(states, columns, lanes);
}

// ---- 8 lanes, ymm (AVX-512VL) ----

#define AVX512VL_FN __attribute__((target("avx512f,avx512vl,avx512bw")))

AVX512VL_FN void depot_sha256_x8_avx512(uint32_t *states, const uint8_t *const *data, const size_t *blocks,
                                        int lanes) {
    _Alignas(64) uint32_t columns[8][16];
    const uint8_t *next[8];
    size_t left[8], most = 0;
    for (int i = 0; i < 8; i++) {
        left[i] = i < lanes ? blocks[i] : 0;
        next[i] = left[i] > 0 ? data[i] : 0;
        if (left[i] > most) most = left[i];
    }
    if (most == 0) return;
    gather_states(columns, states, lanes, 8);
    __m256i a = _mm256_load_si256((const __m256i *)columns[0]), b = _mm256_load_si256((const __m256i *)columns[1]);
    __m256i c = _mm256_load_si256((const __m256i *)columns[2]), d = _mm256_load_si256((const __m256i *)columns[3]);
    __m256i e = _mm256_load_si256((const __m256i *)columns[4]), f = _mm256_load_si256((const __m256i *)columns[5]);
    __m256i g = _mm256_load_si256((const __m256i *)columns[6]), h = _mm256_load_si256((const __m256i *)columns[7]);
    const __m256i order = _mm256_broadcastsi128_si256(SHA_BYTE_ORDER);
    for (size_t pass = 0; pass < most; pass++) {
        __mmask8 active = 0;
        __m256i w[16];
        for (int i = 0; i < 8; i++) {
            if (left[i] > pass) {
                active |= (__mmask8)(1u << i);
                w[i] = _mm256_loadu_si256((const __m256i *)(next[i] + 64 * pass));
                w[8 + i] = _mm256_loadu_si256((const __m256i *)(next[i] + 64 * pass + 32));
            } else {
                w[i] = w[8 + i] = _mm256_setzero_si256();
            }
        }
        depot_transpose_8x8(w);
        depot_transpose_8x8(w + 8);
        for (int j = 0; j < 16; j++) w[j] = _mm256_shuffle_epi8(w[j], order);
        const __m256i a0 = a, b0 = b, c0 = c, d0 = d, e0 = e, f0 = f, g0 = g, h0 = h;
#define VEC __m256i
#define ADD(x, y) _mm256_add_epi32(x, y)
#define ROR(x, n) _mm256_ror_epi32(x, n)
#define SHR(x, n) _mm256_srli_epi32(x, n)
#define TERN(x, y, z, table) _mm256_ternarylogic_epi32(x, y, z, table)
#define K(t) _mm256_set1_epi32((int)depot_sha256_k[t])
        ROUNDS64
#undef VEC
#undef ADD
#undef ROR
#undef SHR
#undef TERN
#undef K
        a = _mm256_mask_add_epi32(a0, active, a, a0);
        b = _mm256_mask_add_epi32(b0, active, b, b0);
        c = _mm256_mask_add_epi32(c0, active, c, c0);
        d = _mm256_mask_add_epi32(d0, active, d, d0);
        e = _mm256_mask_add_epi32(e0, active, e, e0);
        f = _mm256_mask_add_epi32(f0, active, f, f0);
        g = _mm256_mask_add_epi32(g0, active, g, g0);
        h = _mm256_mask_add_epi32(h0, active, h, h0);
    }
    _mm256_store_si256((__m256i *)columns[0], a);
    _mm256_store_si256((__m256i *)columns[1], b);
    _mm256_store_si256((__m256i *)columns[2], c);
    _mm256_store_si256((__m256i *)columns[3], d);
    _mm256_store_si256((__m256i *)columns[4], e);
    _mm256_store_si256((__m256i *)columns[5], f);
    _mm256_store_si256((__m256i *)columns[6], g);
    _mm256_store_si256((__m256i *)columns[7], h);
    scatter_states(states, columns, lanes);
}

#endif
