// Multi-buffer MD5 (RFC 1321): the scalar kernel, the choice of kernel and the padding.
// Written for Depot; see md5_multibuffer_x86.c for the SIMD kernels.
#include "depot_md5.h"
#include "md5_kernels.h"
#include "multibuffer_common.h"
#include "md5_schedule.h"
#include <pthread.h>
#include <string.h>

const uint8_t depot_md5_idle_block[64] = {0};

static int best_kernel = DEPOT_MD5_KERNEL_SCALAR;
static int avx2_supported, avx512_supported, avx512vl_supported;
static pthread_once_t detect_once = PTHREAD_ONCE_INIT;

static void detect(void) {
#if defined(__x86_64__)
    // __builtin_cpu_supports also checks that the OS saves the wide registers (XCR0).
    __builtin_cpu_init();
    avx2_supported = __builtin_cpu_supports("avx2");
    avx512_supported = __builtin_cpu_supports("avx512f");
    avx512vl_supported = avx512_supported && __builtin_cpu_supports("avx512vl");
#endif
    best_kernel = avx512_supported ? DEPOT_MD5_KERNEL_AVX512_16
                  : avx2_supported ? DEPOT_MD5_KERNEL_AVX2
                                   : DEPOT_MD5_KERNEL_SCALAR;
}

int depot_md5_kernel_supported(int kernel) {
    pthread_once(&detect_once, detect);
    switch (kernel) {
    case DEPOT_MD5_KERNEL_SCALAR: return 1;
    case DEPOT_MD5_KERNEL_AVX2: return avx2_supported;
    case DEPOT_MD5_KERNEL_AVX512_16: return avx512_supported;
    case DEPOT_MD5_KERNEL_AVX512_8: return avx512vl_supported;
    default: return 0;
    }
}

int depot_md5_best_kernel(void) {
    pthread_once(&detect_once, detect);
    return best_kernel;
}

int depot_md5_kernel_lanes(int kernel) {
    switch (kernel) {
    case DEPOT_MD5_KERNEL_AVX2:
    case DEPOT_MD5_KERNEL_AVX512_8: return 8;
    case DEPOT_MD5_KERNEL_AVX512_16: return 16;
    default: return 1;
    }
}

// The measured choice (figures in depot_md5.h).
int depot_md5_kernel_for_lanes(int lanes) {
    pthread_once(&detect_once, detect);
    if (lanes <= 8 && avx512vl_supported) return DEPOT_MD5_KERNEL_AVX512_8;
    return best_kernel;
}

int depot_md5_kernels_optimized(void) { return depot_built_optimized(); }

void depot_md5_init_state(uint32_t state[4]) {
    state[0] = 0x67452301u;
    state[1] = 0xefcdab89u;
    state[2] = 0x98badcfeu;
    state[3] = 0x10325476u;
}

static inline uint32_t rotate_left(uint32_t x, int s) { return (x << s) | (x >> (32 - s)); }

// Little-endian whatever the CPU: MD5 reads its message words that way.
static inline uint32_t load_le32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void scalar_blocks(uint32_t state[4], const uint8_t *p, size_t count) {
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    for (; count > 0; count--, p += 64) {
        uint32_t w[16];
        for (int i = 0; i < 16; i++) w[i] = load_le32(p + 4 * i);
        const uint32_t a0 = a, b0 = b, c0 = c, d0 = d;
        // F and G in their select forms, one operation shorter than the RFC's and-or forms.
#define F(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define G(x, y, z) ((y) ^ ((z) & ((x) ^ (y))))
#define H(x, y, z) ((x) ^ (y) ^ (z))
#define I(x, y, z) ((y) ^ ((x) | ~(z)))
#define STEP(f, a, b, c, d, m, s, i) a = b + rotate_left(a + f(b, c, d) + w[m] + depot_md5_t[i], s);
        DEPOT_MD5_STEPS(STEP)
#undef STEP
#undef F
#undef G
#undef H
#undef I
        a += a0;
        b += b0;
        c += c0;
        d += d0;
    }
    state[0] = a;
    state[1] = b;
    state[2] = c;
    state[3] = d;
}

void depot_md5_multi_blocks(int kernel, uint32_t *states, const uint8_t *const *data, const size_t *blocks,
                            int lanes) {
    if (lanes > DEPOT_MD5_MAX_LANES) lanes = DEPOT_MD5_MAX_LANES;
    if (!depot_md5_kernel_supported(kernel)) kernel = DEPOT_MD5_KERNEL_SCALAR;
#if defined(__x86_64__)
    const int width = depot_md5_kernel_lanes(kernel);
    if (kernel != DEPOT_MD5_KERNEL_SCALAR) {
        for (int first = 0; first < lanes; first += width) {
            const int group = lanes - first < width ? lanes - first : width;
            if (kernel == DEPOT_MD5_KERNEL_AVX512_16)
                depot_md5_x16_avx512(states + 4 * first, data + first, blocks + first, group);
            else if (kernel == DEPOT_MD5_KERNEL_AVX512_8)
                depot_md5_x8_avx512vl(states + 4 * first, data + first, blocks + first, group);
            else
                depot_md5_x8_avx2(states + 4 * first, data + first, blocks + first, group);
        }
        return;
    }
#endif
    for (int lane = 0; lane < lanes; lane++) scalar_blocks(states + 4 * lane, data[lane], blocks[lane]);
}

void depot_md5_finish(const uint32_t state[4], const uint8_t *tail, size_t tail_length, uint64_t total_length,
                      uint8_t digest[16]) {
    // Padded as depot_pad_tail says, the length in bits little-endian.
    uint8_t last[128] = {0};
    const size_t length = depot_pad_tail(last, tail, tail_length);
    const uint64_t bits = total_length * 8;
    for (int i = 0; i < 8; i++) last[length - 8 + i] = (uint8_t)(bits >> (8 * i));
    uint32_t words[4] = {state[0], state[1], state[2], state[3]};
    scalar_blocks(words, last, length / 64);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) digest[4 * i + j] = (uint8_t)(words[i] >> (8 * j));
}
