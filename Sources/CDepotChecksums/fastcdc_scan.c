// The Gear-hash scan of FastCDC, written for Depot (see include/depot_fastcdc.h and FastCDC.swift).
//
// Why C: the same loop written in Swift came out 8-16% slower than here (measured 2026-12-05,
// Benchmarks/MICRO-RESULTS.md), because Swift has no way to mark the rare cut branches unlikely:
// its code put taken jumps in the hot path. The loop is bound by how many
// instructions and branches it issues per byte, so the layout matters.
#include "depot_fastcdc.h"

// The first of four consecutive hashes that is a cut, as an index just after its byte, or -1.
static inline ptrdiff_t first_cut_of_four(uint64_t h1, uint64_t h2, uint64_t h3, uint64_t h4, uint64_t mask,
                                          ptrdiff_t i) {
    if ((h1 & mask) == 0) return i + 1;
    if ((h2 & mask) == 0) return i + 2;
    if ((h3 & mask) == 0) return i + 3;
    if ((h4 & mask) == 0) return i + 4;
    return -1;
}

// Eight bytes per step. With t1 = G[b0] and t(k+1) = 2 tk + G[bk] (no dependency on h), the hash
// after k of the bytes is hk = (h << k) + tk, mod 2^64 exactly like the byte-by-byte recurrence, so
// the table loads and shifts of a step overlap instead of waiting on each other; the second four
// bytes start from h4 the same way, and the step's new h is (h << 8) + (t4 << 4) + u4.
//
// Cuts are rare (one in average/4 bytes at least), so instead of one branch per byte each pair
// of neighbouring hashes is tested once: (ha & hb & mask) == 0 holds whenever ha or hb alone is a
// cut, and a random pair passes it falsely with probability (3/4)^bits(mask) (0.2-0.6% with the
// standard parameters); only then are the four hashes tested one by one, in order, so the first cut
// is the one returned. Four branches per eight bytes instead of eight.
ptrdiff_t depot_gear_roll(const uint8_t *bytes, ptrdiff_t from, ptrdiff_t end, uint64_t *hash, uint64_t mask,
                          const uint64_t *gear) {
    uint64_t h = *hash;
    ptrdiff_t i = from;
    while (end - i >= 8) {
        const uint8_t *b = bytes + i;
        uint64_t t1 = gear[b[0]];
        uint64_t t2 = (t1 << 1) + gear[b[1]];
        uint64_t t3 = (t2 << 1) + gear[b[2]];
        uint64_t t4 = (t3 << 1) + gear[b[3]];
        uint64_t u1 = gear[b[4]];
        uint64_t u2 = (u1 << 1) + gear[b[5]];
        uint64_t u3 = (u2 << 1) + gear[b[6]];
        uint64_t u4 = (u3 << 1) + gear[b[7]];
        uint64_t h1 = (h << 1) + t1, h2 = (h << 2) + t2, h3 = (h << 3) + t3, h4 = (h << 4) + t4;
        uint64_t h5 = (h4 << 1) + u1, h6 = (h4 << 2) + u2, h7 = (h4 << 3) + u3;
        uint64_t h8 = (h << 8) + ((t4 << 4) + u4);
        if (__builtin_expect((h1 & h2 & mask) == 0, 0)) {
            ptrdiff_t cut = first_cut_of_four(h1, h2, h3, h4, mask, i);
            if (cut >= 0) return cut;
        }
        if (__builtin_expect((h3 & h4 & mask) == 0, 0)) {
            ptrdiff_t cut = first_cut_of_four(h1, h2, h3, h4, mask, i);
            if (cut >= 0) return cut;
        }
        if (__builtin_expect((h5 & h6 & mask) == 0, 0)) {
            ptrdiff_t cut = first_cut_of_four(h5, h6, h7, h8, mask, i + 4);
            if (cut >= 0) return cut;
        }
        if (__builtin_expect((h7 & h8 & mask) == 0, 0)) {
            ptrdiff_t cut = first_cut_of_four(h5, h6, h7, h8, mask, i + 4);
            if (cut >= 0) return cut;
        }
        h = h8;
        i += 8;
    }
    while (i < end) {
        h = (h << 1) + gear[bytes[i]];
        i += 1;
        if ((h & mask) == 0) return i;
    }
    *hash = h;
    return -1;
}
