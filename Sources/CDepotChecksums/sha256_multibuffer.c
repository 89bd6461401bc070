// Multi-buffer SHA-256 (FIPS 180-4): the scalar kernel, the choice of kernel and the padding.
// Written for Depot; see sha256_multibuffer_x86.c for the SHA-NI and AVX-512 kernels.
#include "depot_sha256.h"
#include "sha256_kernels.h"
#include "multibuffer_common.h"
#include <pthread.h>
#include <string.h>

_Alignas(64) const uint32_t depot_sha256_k[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
    0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
    0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
    0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
    0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
    0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
    0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u,
};

static int shani_supported, avx512_8_supported, avx512_16_supported, amd;
static pthread_once_t detect_once = PTHREAD_ONCE_INIT;

static void detect(void) {
#if defined(__x86_64__)
    // __builtin_cpu_supports also checks that the OS saves the wide registers (XCR0).
    __builtin_cpu_init();
    shani_supported = __builtin_cpu_supports("sha") && __builtin_cpu_supports("sse4.1");
    // Both AVX-512 kernels byte-swap the message with vpshufb on their full width (AVX512BW).
    avx512_16_supported = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
    avx512_8_supported = avx512_16_supported && __builtin_cpu_supports("avx512vl");
    amd = __builtin_cpu_is("amd");
#endif
}

int depot_sha256_kernel_supported(int kernel) {
    pthread_once(&detect_once, detect);
    switch (kernel) {
    case DEPOT_SHA256_KERNEL_SCALAR: return 1;
    case DEPOT_SHA256_KERNEL_SHANI:
    case DEPOT_SHA256_KERNEL_SHANI_X2:
    case DEPOT_SHA256_KERNEL_SHANI_X3: return shani_supported;
    case DEPOT_SHA256_KERNEL_AVX512_8: return avx512_8_supported;
    case DEPOT_SHA256_KERNEL_AVX512_16: return avx512_16_supported;
    default: return 0;
    }
}

int depot_sha256_kernel_lanes(int kernel) {
    switch (kernel) {
    case DEPOT_SHA256_KERNEL_SHANI_X2: return 2;
    case DEPOT_SHA256_KERNEL_SHANI_X3: return 3;
    case DEPOT_SHA256_KERNEL_AVX512_8: return 8;
    case DEPOT_SHA256_KERNEL_AVX512_16: return 16;
    default: return 1;
    }
}

int depot_sha256_kernels_optimized(void) { return depot_built_optimized(); }

// The measured choice (figures in depot_sha256.h). On the Xeon: one stream SHA-NI, 2-6 streams
// two SHA-NI chains, 7-8 the 8-lane AVX-512 kernel, 9-16 the 16-lane one. On AMD (Zen 4 runs
// AVX-512 as two 256-bit halves) SHA-NI chains for every count: two for 2 streams, groups of
// three (and two) from 3 on. A CPU without one of them gets the next best it has.
int depot_sha256_kernel_for_lanes(int lanes) {
    pthread_once(&detect_once, detect);
    if (amd && shani_supported && lanes >= 2)
        return lanes >= 3 ? DEPOT_SHA256_KERNEL_SHANI_X3 : DEPOT_SHA256_KERNEL_SHANI_X2;
    if (lanes >= 9 && avx512_16_supported) return DEPOT_SHA256_KERNEL_AVX512_16;
    if (lanes >= 7 && avx512_8_supported) return DEPOT_SHA256_KERNEL_AVX512_8;
    if (shani_supported) return lanes >= 2 ? DEPOT_SHA256_KERNEL_SHANI_X2 : DEPOT_SHA256_KERNEL_SHANI;
    // No SHA extensions: one 8-wide AVX-512 lane alone (280 MB/s) still beats the scalar kernel
    // (250); the 16-wide kernel does from two lanes on (390).
    if (avx512_8_supported) return DEPOT_SHA256_KERNEL_AVX512_8;
    if (avx512_16_supported && lanes >= 2) return DEPOT_SHA256_KERNEL_AVX512_16;
    return DEPOT_SHA256_KERNEL_SCALAR;
}

void depot_sha256_init_state(uint32_t state[8]) {
    state[0] = 0x6a09e667u;
    state[1] = 0xbb67ae85u;
    state[2] = 0x3c6ef372u;
    state[3] = 0xa54ff53au;
    state[4] = 0x510e527fu;
    state[5] = 0x9b05688cu;
    state[6] = 0x1f83d9abu;
    state[7] = 0x5be0cd19u;
}

static inline uint32_t rotate_right(uint32_t x, int s) { return (x >> s) | (x << (32 - s)); }

// Big-endian whatever the CPU: SHA-256 reads its message words that way.
static inline uint32_t load_be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static void scalar_blocks(uint32_t state[8], const uint8_t *p, size_t count) {
    for (; count > 0; count--, p += 64) {
        // The message schedule kept as a ring of 16 words (FIPS 180-4 6.2.2 step 1).
        uint32_t w[16];
        for (int i = 0; i < 16; i++) w[i] = load_be32(p + 4 * i);
        uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
        uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
        for (int t = 0; t < 64; t++) {
            uint32_t word;
            if (t < 16) {
                word = w[t];
            } else {
                const uint32_t w15 = w[(t - 15) & 15], w2 = w[(t - 2) & 15];
                const uint32_t s0 = rotate_right(w15, 7) ^ rotate_right(w15, 18) ^ (w15 >> 3);
                const uint32_t s1 = rotate_right(w2, 17) ^ rotate_right(w2, 19) ^ (w2 >> 10);
                word = w[t & 15] = w[t & 15] + s0 + w[(t - 7) & 15] + s1;
            }
            const uint32_t sigma1 = rotate_right(e, 6) ^ rotate_right(e, 11) ^ rotate_right(e, 25);
            const uint32_t choose = g ^ (e & (f ^ g));
            const uint32_t t1 = h + sigma1 + choose + depot_sha256_k[t] + word;
            const uint32_t sigma0 = rotate_right(a, 2) ^ rotate_right(a, 13) ^ rotate_right(a, 22);
            const uint32_t majority = (a & b) | (c & (a | b));
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + sigma0 + majority;
        }
        state[0] += a;
        state[1] += b;
        state[2] += c;
        state[3] += d;
        state[4] += e;
        state[5] += f;
        state[6] += g;
        state[7] += h;
    }
}

#if defined(__x86_64__)
// Writes to `order` the lanes that have blocks, most blocks first; returns how many there are.
static int order_lanes(const size_t *blocks, int lanes, int order[DEPOT_SHA256_MAX_LANES]) {
    int count = 0;
    for (int lane = 0; lane < lanes; lane++) {
        if (blocks[lane] == 0) continue;
        int at = count++;
        for (; at > 0 && blocks[order[at - 1]] < blocks[lane]; at--) order[at] = order[at - 1];
        order[at] = lane;
    }
    return count;
}

/* The lanes that have blocks, most blocks first, copied side by side: slot i is lane order[i]. A
   multi-lane kernel run over the first `count` slots gives no slot to a lane without work, and each
   of its passes holds lanes of similar length. */
struct depot_sha256_packed {
    int order[DEPOT_SHA256_MAX_LANES];
    int count;
    uint32_t states[8 * DEPOT_SHA256_MAX_LANES];
    const uint8_t *data[DEPOT_SHA256_MAX_LANES];
    size_t blocks[DEPOT_SHA256_MAX_LANES];
};

/* Fills `packed` from the first `lanes` (at most DEPOT_SHA256_MAX_LANES) lanes. */
static void pack_lanes(struct depot_sha256_packed *packed, const uint32_t *states, const uint8_t *const *data,
                       const size_t *blocks, int lanes) {
    packed->count = order_lanes(blocks, lanes, packed->order);
    for (int i = 0; i < packed->count; i++) {
        memcpy(packed->states + 8 * i, states + 8 * packed->order[i], 32);
        packed->data[i] = data[packed->order[i]];
        packed->blocks[i] = blocks[packed->order[i]];
    }
}

/* Copies the packed slots' states back to their lanes in `states`. */
static void unpack_states(const struct depot_sha256_packed *packed, uint32_t *states) {
    for (int i = 0; i < packed->count; i++) memcpy(states + 8 * packed->order[i], packed->states + 8 * i, 32);
}

// Runs the lanes with work through a multi-lane kernel, packed so that no slot of a pass goes to a
// lane without blocks, and longest first, so that each pass (or SHA-NI pair) holds lanes of similar
// length and few blocks run with idle slots beside them.
static void run_packed(int kernel, uint32_t *states, const uint8_t *const *data, const size_t *blocks, int lanes) {
    struct depot_sha256_packed packed;
    pack_lanes(&packed, states, data, blocks, lanes);
    const int count = packed.count, width = depot_sha256_kernel_lanes(kernel);
    for (int first = 0, group; first < count; first += group) {
        group = count - first < width ? count - first : width;
        // Three-chain passes leave no stream alone: the last four streams run as two pairs.
        if (kernel == DEPOT_SHA256_KERNEL_SHANI_X3 && count - first == 4) group = 2;
        uint32_t *const group_states = packed.states + 8 * first;
        if (kernel == DEPOT_SHA256_KERNEL_SHANI_X3)
            depot_sha256_x3_shani(group_states, packed.data + first, packed.blocks + first, group);
        else if (kernel == DEPOT_SHA256_KERNEL_SHANI_X2)
            depot_sha256_x2_shani(group_states, packed.data + first, packed.blocks + first, group);
        else if (kernel == DEPOT_SHA256_KERNEL_AVX512_8)
            depot_sha256_x8_avx512(group_states, packed.data + first, packed.blocks + first, group);
        else
            depot_sha256_x16_avx512(group_states, packed.data + first, packed.blocks + first, group);
    }
    unpack_states(&packed, states);
}
#endif

void depot_sha256_multi_blocks(int kernel, uint32_t *states, const uint8_t *const *data, const size_t *blocks,
                               int lanes) {
    if (lanes > DEPOT_SHA256_MAX_LANES) lanes = DEPOT_SHA256_MAX_LANES;
    if (!depot_sha256_kernel_supported(kernel)) kernel = DEPOT_SHA256_KERNEL_SCALAR;
#if defined(__x86_64__)
    if (kernel == DEPOT_SHA256_KERNEL_SHANI) {
        for (int lane = 0; lane < lanes; lane++)
            if (blocks[lane] > 0) depot_sha256_x1_shani(states + 8 * lane, data[lane], blocks[lane]);
        return;
    }
    if (kernel != DEPOT_SHA256_KERNEL_SCALAR) {
        run_packed(kernel, states, data, blocks, lanes);
        return;
    }
#endif
    for (int lane = 0; lane < lanes; lane++)
        if (blocks[lane] > 0) scalar_blocks(states + 8 * lane, data[lane], blocks[lane]);
}

void depot_sha256_finish(const uint32_t state[8], const uint8_t *tail, size_t tail_length, uint64_t total_length,
                         uint8_t digest[32]) {
    // Padded as depot_pad_tail says, the length in bits big-endian.
    uint8_t last[128] = {0};
    const size_t length = depot_pad_tail(last, tail, tail_length);
    const uint64_t bits = total_length * 8;
    for (int i = 0; i < 8; i++) last[length - 1 - i] = (uint8_t)(bits >> (8 * i));
    uint32_t words[8];
    for (int i = 0; i < 8; i++) words[i] = state[i];
    scalar_blocks(words, last, length / 64);
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 4; j++) digest[4 * i + j] = (uint8_t)(words[i] >> (24 - 8 * j));
}
