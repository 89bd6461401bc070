// depot_sha256_multi_blocks_auto: which kernels run which blocks of one call, from a cost model of
// the measured kernels. Written for Depot.
#include "depot_sha256.h"
#include "sha256_kernels.h"
#include <string.h>

// Measured costs (the 1-16 lane sweep in depot_sha256.h), in tenths of a nanosecond: one pass of
// the 16-lane kernel (16 x 64 bytes at 2,933 MB/s), one of the 8-lane kernel (8 x 64 at 2,139),
// one block of one stream in a SHA-NI pair (64 bytes at 1,710).
enum { COST_PASS_16 = 3490, COST_PASS_8 = 2390, COST_BLOCK_SHANI_PAIR = 376 };

// The plan: the SIMD kernel (`width` lanes, 0 for none) runs the `simd` longest lanes for `cut`
// blocks each (all of a lane's blocks when it has fewer); everything left goes to SHA-NI pairs.
struct plan {
    int width, simd;
    size_t cut;
};

static struct plan choose(const size_t *sorted, int count) {
    uint64_t total = 0;
    for (int i = 0; i < count; i++) total += sorted[i];
    struct plan best = {0, 0, 0};
    uint64_t best_cost = total * COST_BLOCK_SHANI_PAIR;
    static const int widths[2] = {8, 16};
    for (int w = 0; w < 2; w++) {
        const int width = widths[w], simd = count < width ? count : width;
        const uint64_t pass = width == 16 ? COST_PASS_16 : COST_PASS_8;
        uint64_t rest = 0, tail = 0;
        for (int i = simd; i < count; i++) rest += sorted[i];
        // Lanes 0 .. m-1 keep sorted[i] - sorted[m] blocks for SHA-NI: the SIMD passes stop once
        // only that few lanes would still be busy in them.
        for (int m = 0; m < simd; m++) {
            if (m > 0) tail += (uint64_t)m * (sorted[m - 1] - sorted[m]);
            const uint64_t cost = sorted[m] * pass + (tail + rest) * COST_BLOCK_SHANI_PAIR;
            if (cost < best_cost) {
                best_cost = cost;
                best = (struct plan){width, simd, sorted[m]};
            }
        }
    }
    return best;
}

void depot_sha256_multi_blocks_auto(uint32_t *states, const uint8_t *const *data, const size_t *blocks, int lanes) {
    if (lanes > DEPOT_SHA256_MAX_LANES) lanes = DEPOT_SHA256_MAX_LANES;
    struct depot_sha256_packed packed;
    depot_sha256_pack_lanes(&packed, states, data, blocks, lanes);
    const int count = packed.count;
    if (!depot_sha256_kernel_supported(DEPOT_SHA256_KERNEL_SHANI) ||
        !depot_sha256_kernel_supported(DEPOT_SHA256_KERNEL_AVX512_8)) {
        // The cost model is of this machine's kernels; elsewhere, the measured choice per lane count.
        depot_sha256_multi_blocks(depot_sha256_kernel_for_lanes(count), states, data, blocks, lanes);
        return;
    }
#if defined(__x86_64__)
    const struct plan plan = choose(packed.blocks, count);
    if (plan.width > 0) {
        size_t clipped[DEPOT_SHA256_MAX_LANES];
        for (int i = 0; i < plan.simd; i++) clipped[i] = packed.blocks[i] < plan.cut ? packed.blocks[i] : plan.cut;
        if (plan.width == 16 && depot_sha256_kernel_supported(DEPOT_SHA256_KERNEL_AVX512_16))
            depot_sha256_x16_avx512(packed.states, packed.data, clipped, plan.simd);
        else
            depot_sha256_x8_avx512(packed.states, packed.data, clipped, plan.simd);
        for (int i = 0; i < plan.simd; i++) {
            packed.data[i] += 64 * clipped[i];
            packed.blocks[i] -= clipped[i];
        }
    }
    // What is left (the longest lanes' tails, the lanes beyond the SIMD kernel's width) runs in
    // SHA-NI pairs of neighbours, still about longest first.
    uint32_t pair_states[8 * DEPOT_SHA256_MAX_LANES];
    const uint8_t *pair_data[DEPOT_SHA256_MAX_LANES];
    size_t pair_blocks[DEPOT_SHA256_MAX_LANES];
    int from[DEPOT_SHA256_MAX_LANES], pending = 0;
    for (int i = 0; i < count; i++) {
        if (packed.blocks[i] == 0) continue;
        memcpy(pair_states + 8 * pending, packed.states + 8 * i, 32);
        pair_data[pending] = packed.data[i];
        pair_blocks[pending] = packed.blocks[i];
        from[pending++] = i;
    }
    for (int first = 0; first < pending; first += 2)
        depot_sha256_x2_shani(pair_states + 8 * first, pair_data + first, pair_blocks + first,
                              pending - first < 2 ? 1 : 2);
    for (int j = 0; j < pending; j++) memcpy(packed.states + 8 * from[j], pair_states + 8 * j, 32);
    depot_sha256_unpack_states(&packed, states);
#endif
}
