#ifndef DEPOT_CHECKSUMS_H
#define DEPOT_CHECKSUMS_H
#include <stddef.h>
#include <stdint.h>

/* Incremental CRCs. Each takes the running value (start from 0) and returns the new one;
   the pre- and post-inversion is done inside, so chaining calls equals one call over all bytes. */
uint32_t depot_crc32(uint32_t crc, const void *data, size_t length);
uint32_t depot_crc32c(uint32_t crc, const void *data, size_t length);
uint64_t depot_crc64nvme(uint64_t crc, const void *data, size_t length);

/* crc(A || B) from crc(A), crc(B) and len(B): the full-object checksum of a multipart
   upload is derived from the part checksums without reading the parts again. */
uint32_t depot_crc32_combine(uint32_t crc_a, uint32_t crc_b, uint64_t length_b);
uint32_t depot_crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t length_b);
uint64_t depot_crc64nvme_combine(uint64_t crc_a, uint64_t crc_b, uint64_t length_b);

/* Multi-buffer MD5 (the S3 ETag across concurrent uploads). */
#include "depot_md5.h"
/* Multi-buffer SHA-256 (chunk addresses across concurrent uploads). */
#include "depot_sha256.h"
/* The Gear-hash scan of FastCDC (content-defined chunking). */
#include "depot_fastcdc.h"

#endif
