#ifndef DEPOT_FASTCDC_H
#define DEPOT_FASTCDC_H
#include <stddef.h>
#include <stdint.h>

/* The Gear-hash scan at the heart of FastCDC (Sources/DepotStorage/Chunking/FastCDC.swift holds the
   definition and the only caller). Rolls bytes[from..<end) into *hash, one byte at a time by the
   definition h = (h << 1) + gear[b] (mod 2^64), and returns the index just after the first byte
   whose rolled hash has (h & mask) == 0. Returns -1 when no byte in the range gives a cut; *hash
   then holds the hash after bytes[end - 1], so the next call resumes the same chunk. */
ptrdiff_t depot_gear_roll(const uint8_t *bytes, ptrdiff_t from, ptrdiff_t end, uint64_t *hash, uint64_t mask,
                          const uint64_t *gear);

#endif
