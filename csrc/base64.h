/* Standard base64 (RFC 4648 section 4), with padding. */
#ifndef DWS_BASE64_H
#define DWS_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Output size of encoding n bytes (no terminator). */
#define WS_B64_ENCODED_LEN(n) ((((n) + 2) / 3) * 4)

/* Encode n bytes into dst (WS_B64_ENCODED_LEN(n) bytes); returns that size. */
size_t ws_base64_encode(const uint8_t *src, size_t n, char *dst);

/* Strict decode: length a multiple of 4, only A-Z a-z 0-9 + /, and '='
   only as the last one or two characters. dst needs n / 4 * 3 bytes.
   Returns the decoded size, or -1 if the input is not valid base64. */
ptrdiff_t ws_base64_decode(const char *src, size_t n, uint8_t *dst);

#endif
