// Table-driven (slicing-by-8) CRCs, with the SSE4.2 instruction for CRC32C when the CPU has it.
// Written for Depot; the polynomials are the published reflected forms.
#include "depot_checksums.h"
#include <pthread.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define POLY_CRC32 0xEDB88320u
#define POLY_CRC32C 0x82F63B78u
#define POLY_CRC64NVME 0x9A6C9329AC4BC9B5ull

static uint32_t t32[8][256];
static uint32_t t32c[8][256];
static uint64_t t64[8][256];
#if defined(__x86_64__)
// Three lanes of this many bytes (2^16 bits) are checksummed side by side, then joined (crc32c_hw).
#define CRC32C_LANE 8192
static uint32_t crc32c_multiply(uint32_t a, uint32_t b);
static uint32_t crc32c_lane_shift;
#endif
static int have_sse42;
#if defined(__x86_64__)
static int have_fold;
#endif
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void build_tables(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t a = i, c = i;
        uint64_t d = i;
        for (int k = 0; k < 8; k++) {
            a = (a >> 1) ^ ((a & 1) ? POLY_CRC32 : 0);
            c = (c >> 1) ^ ((c & 1) ? POLY_CRC32C : 0);
            d = (d >> 1) ^ ((d & 1) ? POLY_CRC64NVME : 0);
        }
        t32[0][i] = a;
        t32c[0][i] = c;
        t64[0][i] = d;
    }
    for (int s = 1; s < 8; s++) {
        for (int i = 0; i < 256; i++) {
            t32[s][i] = (t32[s - 1][i] >> 8) ^ t32[0][t32[s - 1][i] & 0xff];
            t32c[s][i] = (t32c[s - 1][i] >> 8) ^ t32c[0][t32c[s - 1][i] & 0xff];
            t64[s][i] = (t64[s - 1][i] >> 8) ^ t64[0][t64[s - 1][i] & 0xff];
        }
    }
#if defined(__x86_64__)
    __builtin_cpu_init();
    have_sse42 = __builtin_cpu_supports("sse4.2");
    have_fold = have_sse42 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                __builtin_cpu_supports("vpclmulqdq");
    // x^(8 * 8192) = x^(2^16): x (0x40000000 reflected) squared 16 times.
    uint32_t shift = 0x40000000u;
    for (int i = 0; i < 16; i++) shift = crc32c_multiply(shift, shift);
    crc32c_lane_shift = shift;
#endif
}

static inline void init(void) { pthread_once(&once, build_tables); }

static uint32_t slice32(uint32_t tab[8][256], uint32_t crc, const uint8_t *p, size_t n) {
    while (n && ((uintptr_t)p & 7)) {
        crc = (crc >> 8) ^ tab[0][(crc ^ *p++) & 0xff];
        n--;
    }
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        w ^= crc;
        crc = tab[7][w & 0xff] ^ tab[6][(w >> 8) & 0xff] ^ tab[5][(w >> 16) & 0xff] ^
              tab[4][(w >> 24) & 0xff] ^ tab[3][(w >> 32) & 0xff] ^ tab[2][(w >> 40) & 0xff] ^
              tab[1][(w >> 48) & 0xff] ^ tab[0][(w >> 56) & 0xff];
        p += 8;
        n -= 8;
    }
    while (n--) crc = (crc >> 8) ^ tab[0][(crc ^ *p++) & 0xff];
    return crc;
}

uint32_t depot_crc32(uint32_t crc, const void *data, size_t length) {
    init();
    return ~slice32(t32, ~crc, (const uint8_t *)data, length);
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc32c_serial(uint32_t crc, const uint8_t *p, size_t n) {
    uint64_t c = crc;
    while (n && ((uintptr_t)p & 7)) {
        c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
        n--;
    }
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c = __builtin_ia32_crc32di(c, w);
        p += 8;
        n -= 8;
    }
    while (n--) c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
    return (uint32_t)c;
}

// a * b mod P for CRC states in the reflected representation (bit 31 is x^0): for every term
// x^i of a, add b * x^i, where multiplying by x is a shift right that reduces by P.
static uint32_t crc32c_multiply(uint32_t a, uint32_t b) {
    uint32_t product = 0;
    for (int i = 0; i < 32; i++) {
        if (a & (0x80000000u >> i)) product ^= b;
        b = (b >> 1) ^ ((b & 1) ? POLY_CRC32C : 0);
    }
    return product;
}

// crc32c_lane_shift (set with the tables) is x^(8 * CRC32C_LANE) mod P: shifting a state over a lane.
// The crc32 instruction has a latency of 3 cycles and a throughput of 1 per cycle, so one chain
// of them runs at a third of what the core can do. Three independent lanes over consecutive
// 8 KiB blocks keep it busy; since a CRC state is linear, state(A B C) = (state(A) x^|B| +
// crc0(B)) x^|C| + crc0(C), two multiplications by a constant join them. Segment records CRC
// every payload byte: 4% of the server's CPU under 8 x 32 MiB PUTs with the serial loop.
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const uint8_t *p, size_t n) {
    while (n >= 3 * CRC32C_LANE) {
        uint64_t a = crc, b = 0, c = 0;
        const uint8_t *pa = p, *pb = p + CRC32C_LANE, *pc = p + 2 * CRC32C_LANE;
        for (size_t i = 0; i < CRC32C_LANE; i += 8) {
            uint64_t wa, wb, wc;
            memcpy(&wa, pa + i, 8);
            memcpy(&wb, pb + i, 8);
            memcpy(&wc, pc + i, 8);
            a = __builtin_ia32_crc32di(a, wa);
            b = __builtin_ia32_crc32di(b, wb);
            c = __builtin_ia32_crc32di(c, wc);
        }
        crc = crc32c_multiply(crc32c_multiply((uint32_t)a, crc32c_lane_shift) ^ (uint32_t)b, crc32c_lane_shift) ^
            (uint32_t)c;
        p += 3 * CRC32C_LANE;
        n -= 3 * CRC32C_LANE;
    }
    return crc32c_serial(crc, p, n);
}
#endif

// CRC32C by carry-less multiplication (VPCLMULQDQ on 512-bit vectors), for CPUs with AVX-512:
// four vectors of 64 bytes each are folded forward 256 bytes per step (a * x^2048 mod P, split
// into two 64-bit multiplications by constants), then folded into one vector and that into one
// 128-bit lane; the CRC of those 16 bytes, then of the tail, comes from the crc32 instruction.
// The running CRC is XORed into the first four bytes, which is the same as starting from it.
// Each constant is x^e mod P in the reflected form the data has (e = 8 * distance ± 32 - 1,
// found and checked by brute force against the table CRC). Why: CRC32C of every record payload
// was 2.4-3.0% of a 32 MiB PUT's server samples with the three crc32 lanes (about 10 GB/s a
// core); this does about 40 GB/s (clang -O2 micro benchmark, 1 MiB buffers, same machine).
#if defined(__x86_64__)
#define FOLD_FN __attribute__((target("avx512f,avx512vl,vpclmulqdq,pclmul,sse4.2")))
static inline FOLD_FN __m512i crc32c_fold_constants(uint64_t low, uint64_t high) {
    return _mm512_set_epi64((long long)high, (long long)low, (long long)high, (long long)low, (long long)high,
                            (long long)low, (long long)high, (long long)low);
}
// x * (distance) folded onto `next`: each 128-bit lane's low half times `low`, high half times `high`.
static inline FOLD_FN __m512i crc32c_fold512(__m512i x, __m512i constants, __m512i next) {
    return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(x, constants, 0x00),
                                     _mm512_clmulepi64_epi128(x, constants, 0x11), next, 0x96);
}
static inline FOLD_FN __m128i crc32c_fold128(__m128i x, uint64_t low, uint64_t high, __m128i next) {
    const __m128i constants = _mm_set_epi64x((long long)high, (long long)low);
    return _mm_ternarylogic_epi64(_mm_clmulepi64_si128(x, constants, 0x00), _mm_clmulepi64_si128(x, constants, 0x11),
                                  next, 0x96);
}
// Takes and returns the raw (uninverted) state, like crc32c_hw; n must be at least 256.
static FOLD_FN uint32_t crc32c_fold(uint32_t crc, const uint8_t *p, size_t n) {
    __m512i x0 = _mm512_loadu_si512(p), x1 = _mm512_loadu_si512(p + 64), x2 = _mm512_loadu_si512(p + 128),
            x3 = _mm512_loadu_si512(p + 192);
    // Zero-extended: a cast would leave the upper 384 bits undefined (garbage at -O0).
    x0 = _mm512_xor_si512(x0, _mm512_zextsi128_si512(_mm_cvtsi32_si128((int)crc)));
    p += 256;
    n -= 256;
    const __m512i by256 = crc32c_fold_constants(0xdcb17aa4, 0xb9e02b86);
    while (n >= 256) {
        x0 = crc32c_fold512(x0, by256, _mm512_loadu_si512(p));
        x1 = crc32c_fold512(x1, by256, _mm512_loadu_si512(p + 64));
        x2 = crc32c_fold512(x2, by256, _mm512_loadu_si512(p + 128));
        x3 = crc32c_fold512(x3, by256, _mm512_loadu_si512(p + 192));
        p += 256;
        n -= 256;
    }
    const __m512i by64 = crc32c_fold_constants(0x740eef02, 0x9e4addf8);
    __m512i x = crc32c_fold512(
        x0, crc32c_fold_constants(0xa87ab8a8, 0xab7aff2a),
        crc32c_fold512(x1, crc32c_fold_constants(0x6992cea2, 0x0d3b6092), crc32c_fold512(x2, by64, x3)));
    while (n >= 64) {
        x = crc32c_fold512(x, by64, _mm512_loadu_si512(p));
        p += 64;
        n -= 64;
    }
    const __m128i r = crc32c_fold128(
        _mm512_extracti32x4_epi32(x, 0), 0x1c291d04, 0xddc0152b,
        crc32c_fold128(_mm512_extracti32x4_epi32(x, 1), 0x3da6d0cb, 0xba4fc28e,
                       crc32c_fold128(_mm512_extracti32x4_epi32(x, 2), 0xf20c0dfe, 0x493c7d27,
                                      _mm512_extracti32x4_epi32(x, 3))));
    uint64_t c = __builtin_ia32_crc32di(0, (uint64_t)_mm_extract_epi64(r, 0));
    c = __builtin_ia32_crc32di(c, (uint64_t)_mm_extract_epi64(r, 1));
    return crc32c_serial((uint32_t)c, p, n);
}
#endif

uint32_t depot_crc32c(uint32_t crc, const void *data, size_t length) {
    init();
#if defined(__x86_64__)
    if (have_fold && length >= 256) return ~crc32c_fold(~crc, (const uint8_t *)data, length);
    if (have_sse42) return ~crc32c_hw(~crc, (const uint8_t *)data, length);
#endif
    return ~slice32(t32c, ~crc, (const uint8_t *)data, length);
}

uint64_t depot_crc64nvme(uint64_t crc, const void *data, size_t length) {
    init();
    const uint8_t *p = (const uint8_t *)data;
    uint64_t c = ~crc;
    while (length && ((uintptr_t)p & 7)) {
        c = (c >> 8) ^ t64[0][(c ^ *p++) & 0xff];
        length--;
    }
    while (length >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        w ^= c;
        c = t64[7][w & 0xff] ^ t64[6][(w >> 8) & 0xff] ^ t64[5][(w >> 16) & 0xff] ^
            t64[4][(w >> 24) & 0xff] ^ t64[3][(w >> 32) & 0xff] ^ t64[2][(w >> 40) & 0xff] ^
            t64[1][(w >> 48) & 0xff] ^ t64[0][(w >> 56) & 0xff];
        p += 8;
        length -= 8;
    }
    while (length--) c = (c >> 8) ^ t64[0][(c ^ *p++) & 0xff];
    return ~c;
}

// Combining follows the GF(2) matrix method: multiplying crc_a by x^(8*length_b) mod P,
// done by repeated squaring of the "shift by one zero bit" operator.
static uint64_t gf2_times(const uint64_t *mat, uint64_t vec) {
    uint64_t sum = 0;
    while (vec) {
        if (vec & 1) sum ^= *mat;
        vec >>= 1;
        mat++;
    }
    return sum;
}

static void gf2_square(uint64_t *square, const uint64_t *mat, int width) {
    for (int n = 0; n < width; n++) square[n] = gf2_times(mat, mat[n]);
}

static uint64_t combine(uint64_t crc_a, uint64_t crc_b, uint64_t len_b, uint64_t poly, int width) {
    if (len_b == 0) return crc_a;
    uint64_t even[64], odd[64];
    odd[0] = poly;
    uint64_t row = 1;
    for (int n = 1; n < width; n++) {
        odd[n] = row;
        row <<= 1;
    }
    gf2_square(even, odd, width);  // 2 zero bits
    gf2_square(odd, even, width);  // 4 zero bits
    do {
        gf2_square(even, odd, width);
        if (len_b & 1) crc_a = gf2_times(even, crc_a);
        len_b >>= 1;
        if (!len_b) break;
        gf2_square(odd, even, width);
        if (len_b & 1) crc_a = gf2_times(odd, crc_a);
        len_b >>= 1;
    } while (len_b);
    return crc_a ^ crc_b;
}

uint32_t depot_crc32_combine(uint32_t a, uint32_t b, uint64_t len_b) {
    return (uint32_t)combine(a, b, len_b, POLY_CRC32, 32);
}
uint32_t depot_crc32c_combine(uint32_t a, uint32_t b, uint64_t len_b) {
    return (uint32_t)combine(a, b, len_b, POLY_CRC32C, 32);
}
uint64_t depot_crc64nvme_combine(uint64_t a, uint64_t b, uint64_t len_b) {
    return combine(a, b, len_b, POLY_CRC64NVME, 64);
}
