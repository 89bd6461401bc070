#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/err.h>
#include <openssl/md5.h>
#include <openssl/sha.h>
#include <stddef.h>
#include <stdint.h>

/* Runs `blocks` whole 64-byte MD5 blocks through OpenSSL's assembly on a state held by the caller
   (A, B, C, D): multi-buffer MD5 (DepotHashing) hands a lone stream to it, since one stream gains
   nothing from SIMD lanes and OpenSSL's single-stream code is the fastest. MD5_CTX is public API;
   its functions are deprecated in OpenSSL 3 only in favour of EVP, which cannot take a state, and
   this [system] module keeps that warning out of the build. */
static inline void depot_openssl_md5_blocks(uint32_t state[4], const void *data, size_t blocks) {
    MD5_CTX context;
    MD5_Init(&context);
    context.A = state[0];
    context.B = state[1];
    context.C = state[2];
    context.D = state[3];
    MD5_Update(&context, data, blocks * 64);
    state[0] = context.A;
    state[1] = context.B;
    state[2] = context.C;
    state[3] = context.D;
}

/* The same for SHA-256 (SHA-NI when the CPU has it): a chunk's address stream that has a pass of
   the multi-buffer service to itself (DepotHashing's MultiBufferHashing). */
static inline void depot_openssl_sha256_blocks(uint32_t state[8], const void *data, size_t blocks) {
    SHA256_CTX context;
    SHA256_Init(&context);
    for (int word = 0; word < 8; word++) context.h[word] = state[word];
    SHA256_Update(&context, data, blocks * 64);
    for (int word = 0; word < 8; word++) state[word] = context.h[word];
}
