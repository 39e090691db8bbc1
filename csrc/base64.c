/* base64 (RFC 4648). The decoder is strict on purpose: a Sec-WebSocket-Key
   with whitespace or missing padding is refused rather than guessed at.
   Like Python's base64.b64decode(validate=True), the unused low bits of
   the last character are not required to be zero. */
#include "base64.h"

static const char alphabet[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
ws_base64_encode(const uint8_t *src, size_t n, char *dst)
{
    char *out = dst;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 | src[i + 2];
        *out++ = alphabet[v >> 18];
        *out++ = alphabet[(v >> 12) & 63];
        *out++ = alphabet[(v >> 6) & 63];
        *out++ = alphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)src[i] << 16;
        *out++ = alphabet[v >> 18];
        *out++ = alphabet[(v >> 12) & 63];
        *out++ = '=';
        *out++ = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8;
        *out++ = alphabet[v >> 18];
        *out++ = alphabet[(v >> 12) & 63];
        *out++ = alphabet[(v >> 6) & 63];
        *out++ = '=';
    }
    return (size_t)(out - dst);
}

/* Value of a base64 digit, or -1. A switch on ranges rather than a table,
   so there is nothing to get out of sync with `alphabet`. */
static int
digit(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

ptrdiff_t
ws_base64_decode(const char *src, size_t n, uint8_t *dst)
{
    size_t i, pad = 0;
    uint8_t *out = dst;
    if (n % 4)
        return -1;
    if (n >= 1 && src[n - 1] == '=')
        pad = (n >= 2 && src[n - 2] == '=') ? 2 : 1;
    for (i = 0; i < n; i += 4) {
        int v[4], j, k = (i + 4 == n) ? 4 - (int)pad : 4;
        uint32_t w = 0;
        for (j = 0; j < 4; j++) {
            v[j] = j < k ? digit((unsigned char)src[i + j]) : 0;
            if (v[j] < 0)
                return -1;
            w = w << 6 | (uint32_t)v[j];
        }
        *out++ = (uint8_t)(w >> 16);
        if (k > 2)
            *out++ = (uint8_t)(w >> 8);
        if (k > 3)
            *out++ = (uint8_t)w;
    }
    return out - dst;
}
