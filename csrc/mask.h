/* WebSocket masking (RFC 6455 section 5.3): XOR with a repeating 4-byte key. */
#ifndef DWS_MASK_H
#define DWS_MASK_H

#include <stddef.h>
#include <stdint.h>

/* Pick the fastest implementation for this CPU. Call once, before any
   thread may call ws_mask(); without it the portable/SSE2 code is used. */
void ws_mask_init(void);

/* dst[i] = src[i] ^ key[(offset + i) % 4] for i < len. dst may equal src
   (in place) but must not otherwise overlap it. Any alignment. */
void ws_mask(uint8_t *dst, const uint8_t *src, size_t len,
             const uint8_t key[4], size_t offset);

/* The same, and returns 1 if any output byte is >= 0x80 (not ASCII). */
int ws_mask_hi(uint8_t *dst, const uint8_t *src, size_t len,
               const uint8_t key[4], size_t offset);

/* Name of the widest implementation in use ("avx2", "sse2", "neon", "word"). */
const char *ws_mask_impl(void);

#endif
