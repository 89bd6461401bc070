#ifndef DEPOT_MD5_H
#define DEPOT_MD5_H
#include <stddef.h>
#include <stdint.h>

/* Multi-buffer MD5: the compression function of RFC 1321 run over several independent streams
   ("lanes") at once, one stream per 32-bit SIMD lane (AVX2 and AVX-512VL: 8 lanes, AVX-512F: 16).
   MD5 is serial inside one stream, so one stream cannot use the vector unit; many concurrent
   uploads can. */

#define DEPOT_MD5_MAX_LANES 16

/* The kernels. A kernel the CPU (or the build's architecture) lacks is never run: a call naming it
   runs the scalar kernel instead, so the result is always right. */
enum {
    DEPOT_MD5_KERNEL_SCALAR = 0,
    DEPOT_MD5_KERNEL_AVX2 = 1,
    /* AVX-512F on zmm registers: 16 streams. */
    DEPOT_MD5_KERNEL_AVX512_16 = 2,
    /* AVX-512 (F, VL) on ymm registers: 8 streams. */
    DEPOT_MD5_KERNEL_AVX512_8 = 3,
};

/* 1 when this CPU can run `kernel`, else 0. */
int depot_md5_kernel_supported(int kernel);
/* The widest kernel this CPU runs. */
int depot_md5_best_kernel(void);
/* How many lanes one pass of `kernel` computes (1, 8 or 16). */
int depot_md5_kernel_lanes(int kernel);

/* The kernel that hashes the most bytes per CPU-second for a pass of `lanes` streams, among those
   the CPU supports: AVX512_8 for 1-8, AVX512_16 for 9-16 (else AVX2, else SCALAR). Each stream's
   steps are one serial chain of four 1-cycle operations per step, so a pass takes about as long
   whatever the width until the vector unit is full; on Zen 4, where a zmm instruction takes two
   256-bit slots, 16 lanes fill it and a half-empty zmm pass costs a full one. Measured on the
   2-vCPU AMD EPYC (Zen 4), clang -O2, 1 MiB per lane, one core, MiB per CPU-second in all lanes,
   medians of 5 interleaved runs at load 12 (MD5Kernel.swift has the whole table):
       lanes        1      2      4      8     12     16
       AVX512_8   642   1283   2591   5101   3894   5131
       AVX512_16  541   1072   2106   4041   5871   7420
   Unoptimized builds (depot_md5_kernels_optimized() == 0) are slower than OpenSSL throughout. */
int depot_md5_kernel_for_lanes(int lanes);

/* 1 when these kernels were compiled with optimization. Unoptimized (a debug build), the SIMD
   kernels run several times slower than OpenSSL's MD5, so callers then use them only for wide passes. */
int depot_md5_kernels_optimized(void);

/* Sets the four state words of a new stream (RFC 1321 3.3). */
void depot_md5_init_state(uint32_t state[4]);

/* For each lane i < lanes (at most DEPOT_MD5_MAX_LANES): runs `blocks[i]` 64-byte blocks read from
   `data[i]` through the state words `states[4*i ... 4*i+3]`. Lanes may have different block counts,
   including 0 (that lane's state is left as it is, and `data[i]` is not read). */
void depot_md5_multi_blocks(int kernel, uint32_t *states, const uint8_t *const *data, const size_t *blocks,
                            int lanes);

/* Ends a stream: pads the last `tail_length` (< 64) bytes at `tail`, given the stream's whole length
   in bytes, runs the last one or two blocks and writes the 16-byte digest. */
void depot_md5_finish(const uint32_t state[4], const uint8_t *tail, size_t tail_length, uint64_t total_length,
                      uint8_t digest[16]);

#endif
