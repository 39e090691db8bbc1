/* Building frames (RFC 6455 section 5.2) and the random masking keys. */
#ifndef DWS_FRAMES_H
#define DWS_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#define WS_MAX_HEADER 14  /* 2 + 8-byte length + 4-byte key */

/* Writes the header of a frame with `len` payload bytes into out and
   returns its size. key == NULL: unmasked. No checks: see ws_frame_check. */
size_t ws_frame_header(uint8_t out[WS_MAX_HEADER], unsigned opcode, int fin,
                       int rsv1, uint64_t len, const uint8_t *key);

/* NULL if a frame with these fields may be sent, else why not. */
const char *ws_frame_check(unsigned opcode, int fin, int rsv1, uint64_t len);

/* Fill buf with n random bytes from the OS; 0 on success, -1 if no source
   works (the caller then falls back to os.urandom). */
int ws_random(uint8_t *buf, size_t n);

#endif
