#ifndef DEPOT_SHA256_H
#define DEPOT_SHA256_H
#include <stddef.h>
#include <stdint.h>

/* Multi-buffer SHA-256 (FIPS 180-4 6.2): the compression function run over several independent
   streams ("lanes") at once. SHA-256 is serial inside one stream, so one stream can only use the
   SHA extensions' latency-bound chain; several concurrent uploads (one chunk stream each) can
   fill two interleaved SHA-NI chains or the 8 / 16 32-bit lanes of AVX-512. */

#define DEPOT_SHA256_MAX_LANES 16

/* The kernels. A kernel the CPU (or the build's architecture) lacks is never run: a call naming it
   runs the scalar kernel instead, so the result is always right. */
enum {
    DEPOT_SHA256_KERNEL_SCALAR = 0,
    /* SHA extensions (sha256rnds2), one stream. */
    DEPOT_SHA256_KERNEL_SHANI = 1,
    /* SHA extensions, two streams' rounds interleaved to hide sha256rnds2's latency. */
    DEPOT_SHA256_KERNEL_SHANI_X2 = 2,
    /* AVX-512 (F, VL, BW) on ymm registers: 8 streams, one per 32-bit lane. */
    DEPOT_SHA256_KERNEL_AVX512_8 = 3,
    /* AVX-512 (F, BW) on zmm registers: 16 streams. */
    DEPOT_SHA256_KERNEL_AVX512_16 = 4,
};

/* 1 when this CPU can run `kernel`, else 0. */
int depot_sha256_kernel_supported(int kernel);
/* How many lanes one pass of `kernel` computes (1, 1, 2, 8, 16). */
int depot_sha256_kernel_lanes(int kernel);

/* 1 when these kernels were compiled with optimization. Unoptimized (a debug build), the SIMD
   kernels run several times slower than OpenSSL's SHA-256, so callers then prefer OpenSSL. */
int depot_sha256_kernels_optimized(void);

/* The kernel that hashes the most bytes per CPU-second for a pass with `lanes` streams that have
   work, among those the CPU supports (SCALAR when it has none of them): 1 lane SHANI, 2-6 SHANI_X2,
   7-8 AVX512_8, 9-16 AVX512_16. Why, measured on this 2-vCPU Xeon (SHA-NI, AVX-512), cc -O2, MB
   per CPU-second, 1 MiB streams fed 64 KiB per lane per call, same figures within 3% with both
   cores busy (Benchmarks/MICRO-RESULTS.md, 2026-12-05, sweep of 1-16 lanes at load 8.6):
       lanes        1      2      4      6      7      8      9     10     16
       OpenSSL   1434   1427   1426   1424   1426   1425   1421   1423   1418  (one stream at a time)
       SHANI     1438   1413   1432   1428   1419   1423   1429   1422   1422
       SHANI_X2  1434   1710   1719   1719   1666   1716   1675   1700   1683
       AVX512_8   284    551   1108   1644   1867   2139   1229   1348   2087
       AVX512_16  195    386    771   1148   1333   1514   1700   1883   2933
   One stream's rounds are one serial chain, so a lone stream gains nothing; a second SHA-NI chain
   fills its latency (+20%), and the SIMD lanes pay once 7 (ymm) or 9 (zmm) of them have work.
   Unoptimized builds (depot_sha256_kernels_optimized() == 0) are slower than OpenSSL throughout. */
int depot_sha256_kernel_for_lanes(int lanes);

/* Sets the eight state words of a new stream (FIPS 180-4 5.3.3). */
void depot_sha256_init_state(uint32_t state[8]);

/* For each lane i < lanes (at most DEPOT_SHA256_MAX_LANES): runs `blocks[i]` 64-byte blocks read
   from `data[i]` through the state words `states[8*i ... 8*i+7]`. Lanes may have different block
   counts, including 0 (that lane's state is left as it is, and `data[i]` is not read). Lanes with no
   blocks take no slot of a multi-lane kernel, and the others are packed longest first: 8 streams
   with work among 16 slots make one full pass of AVX512_8 (2,084 MB per CPU-s measured, against
   1,062 when each pass kept its idle slots). When more lanes have work than the kernel has, they
   run in several passes of the kernel. */
void depot_sha256_multi_blocks(int kernel, uint32_t *states, const uint8_t *const *data, const size_t *blocks,
                               int lanes);

/* Ends a stream: pads the last `tail_length` (< 64) bytes at `tail`, given the stream's whole length
   in bytes, runs the last one or two blocks and writes the 32-byte digest. */
void depot_sha256_finish(const uint32_t state[8], const uint8_t *tail, size_t tail_length, uint64_t total_length,
                         uint8_t digest[32]);

#endif
