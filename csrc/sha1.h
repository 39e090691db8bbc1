/* SHA-1 (FIPS 180-4 section 6.1). Only used for Sec-WebSocket-Accept, where
   SHA-1's weaknesses do not matter (RFC 6455 section 10.8). */
#ifndef DWS_SHA1_H
#define DWS_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define WS_SHA1_DIGEST 20

typedef struct {
    uint32_t h[5];
    uint64_t total;        /* message length so far, in bytes */
    uint8_t block[64];
    size_t used;           /* bytes waiting in block */
} ws_sha1_ctx;

void ws_sha1_init(ws_sha1_ctx *c);
void ws_sha1_update(ws_sha1_ctx *c, const void *data, size_t n);
void ws_sha1_final(ws_sha1_ctx *c, uint8_t out[WS_SHA1_DIGEST]);
void ws_sha1(const void *data, size_t n, uint8_t out[WS_SHA1_DIGEST]);

#endif
