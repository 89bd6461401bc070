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
    /* SHA extensions, three streams' rounds interleaved; more streams run as groups of three, and
       of two where a group of one would be left (4 = 2 + 2, 7 = 3 + 2 + 2). */
    DEPOT_SHA256_KERNEL_SHANI_X3 = 5,
};

/* 1 when this CPU can run `kernel`, else 0. */
int depot_sha256_kernel_supported(int kernel);
/* How many lanes one pass of `kernel` computes (1, 1, 2, 8, 16, 3). */
int depot_sha256_kernel_lanes(int kernel);

/* 1 when these kernels were compiled with optimization. Unoptimized (a debug build), the SIMD
   kernels run several times slower than OpenSSL's SHA-256, so callers then prefer OpenSSL. */
int depot_sha256_kernels_optimized(void);

/* The kernel that hashes the most bytes per CPU-second for a pass with `lanes` streams that have
   work, among those the CPU supports (SCALAR when it has none of them). On AMD: 1 lane SHANI, 2
   SHANI_X2, 3-16 SHANI_X3. Elsewhere (measured on a Xeon): 1 lane SHANI, 2-6 SHANI_X2, 7-8
   AVX512_8, 9-16 AVX512_16.
   Why, on this 2-vCPU AMD EPYC (Zen 4: SHA-NI; AVX-512 executed as two 256-bit halves), clang -O2,
   MiB per CPU-second of the hashing thread, 1 MiB per lane fed 64 KiB per lane per call, medians
   of 7 interleaved runs at load 12-14 (2026-12-06; `openssl speed -evp sha256 -bytes 16384`:
   1,649 MiB/s):
       lanes        1      2      3      4      5      6      7      8      9     12     16
       OpenSSL   1701   1711   1690   1652   1623   1603   1670   1704   1698   1701   1654
       SHANI     1720   1721   1705   1638   1639   1621   1688   1711   1717   1716   1662
       SHANI_X2  1720   3405   2512   3245   2714   3200   2928   3400   3073   3392   3305
       SHANI_X3  1711   3423   3304   3279   3232   3181   3295   3395   3392   3376   3230
       AVX512_8   397    792   1159   1492   1860   2218   2630   3074   1761   2332   2951
       AVX512_16  206    406    608    780    976   1171   1373   1612   1813   2400   2942
       old choice 1711  3398   2543   3272   2739   3230   2639   3065   1812   2386   2974
       new choice 1710  3387   3365   3266   3251   3215   3287   3373   3389   3386   3259
   One SHA-NI chain is latency-bound at half of what the SHA unit does: two chains reach it
   (about 3,400), a third adds nothing measurable but leaves no stream alone (an odd count in
   pairs runs its last stream as one chain); four spill (16 xmm registers). The AVX-512 kernels
   need about 225 vector operations per block per lane (a quarter of them rotations) and top out
   near 3,000 with every lane busy: below the two chains, so on Zen 4 they are never chosen.
   On the Xeon (2-vCPU, SHA-NI and AVX-512, cc -O2, MB per CPU-second, Benchmarks/MICRO-RESULTS.md,
   2026-12-05):
       lanes        1      2      4      6      7      8      9     10     16
       OpenSSL   1434   1427   1426   1424   1426   1425   1421   1423   1418  (one stream at a time)
       SHANI     1438   1413   1432   1428   1419   1423   1429   1422   1422
       SHANI_X2  1434   1710   1719   1719   1666   1716   1675   1700   1683
       AVX512_8   284    551   1108   1644   1867   2139   1229   1348   2087
       AVX512_16  195    386    771   1148   1333   1514   1700   1883   2933
   there a second SHA-NI chain gains only 20% and the SIMD lanes pay once 7 (ymm) or 9 (zmm) of
   them have work. Unoptimized builds (depot_sha256_kernels_optimized() == 0) are slower than
   OpenSSL throughout. */
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
