/* SHA-1 written from FIPS 180-4: sections 5.1.1 (padding), 5.3.1 (initial
   hash value), 6.1.2 (computation), 4.1.1 (functions), 4.2.1 (constants). */
#include "sha1.h"

#include <string.h>

static uint32_t
rotl(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32 - n));
}

static void
compress(uint32_t h[5], const uint8_t *p)
{
    uint32_t w[80];
    uint32_t a, b, c, d, e;
    int t;

    /* Message schedule: big-endian words, then the expansion. */
    for (t = 0; t < 16; t++)
        w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 |
               (uint32_t)p[4 * t + 2] << 8 | (uint32_t)p[4 * t + 3];
    for (t = 16; t < 80; t++)
        w[t] = rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);

    a = h[0]; b = h[1]; c = h[2]; d = h[3]; e = h[4];
    for (t = 0; t < 80; t++) {
        uint32_t f, k, tmp;
        if (t < 20) {
            f = (b & c) | (~b & d);            /* Ch */
            k = 0x5a827999;
        } else if (t < 40) {
            f = b ^ c ^ d;                     /* Parity */
            k = 0x6ed9eba1;
        } else if (t < 60) {
            f = (b & c) | (b & d) | (c & d);   /* Maj */
            k = 0x8f1bbcdc;
        } else {
            f = b ^ c ^ d;
            k = 0xca62c1d6;
        }
        tmp = rotl(a, 5) + f + e + k + w[t];
        e = d; d = c; c = rotl(b, 30); b = a; a = tmp;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
}

void
ws_sha1_init(ws_sha1_ctx *c)
{
    c->h[0] = 0x67452301;
    c->h[1] = 0xefcdab89;
    c->h[2] = 0x98badcfe;
    c->h[3] = 0x10325476;
    c->h[4] = 0xc3d2e1f0;
    c->total = 0;
    c->used = 0;
}

void
ws_sha1_update(ws_sha1_ctx *c, const void *data, size_t n)
{
    const uint8_t *p = data;
    c->total += n;
    if (c->used) {
        size_t take = 64 - c->used;
        if (take > n)
            take = n;
        memcpy(c->block + c->used, p, take);
        c->used += take;
        p += take;
        n -= take;
        if (c->used < 64)
            return;
        compress(c->h, c->block);
        c->used = 0;
    }
    for (; n >= 64; p += 64, n -= 64)
        compress(c->h, p);
    if (n) {
        memcpy(c->block, p, n);
        c->used = n;
    }
}

void
ws_sha1_final(ws_sha1_ctx *c, uint8_t out[WS_SHA1_DIGEST])
{
    /* Padding: a 1 bit, zeros to 56 mod 64, then the bit length (64-bit BE). */
    uint64_t bits = c->total * 8;
    int i;
    c->block[c->used++] = 0x80;
    if (c->used > 56) {
        memset(c->block + c->used, 0, 64 - c->used);
        compress(c->h, c->block);
        c->used = 0;
    }
    memset(c->block + c->used, 0, 56 - c->used);
    for (i = 0; i < 8; i++)
        c->block[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
    compress(c->h, c->block);
    for (i = 0; i < 5; i++) {
        out[4 * i] = (uint8_t)(c->h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
        out[4 * i + 3] = (uint8_t)c->h[i];
    }
}

void
ws_sha1(const void *data, size_t n, uint8_t out[WS_SHA1_DIGEST])
{
    ws_sha1_ctx c;
    ws_sha1_init(&c);
    ws_sha1_update(&c, data, n);
    ws_sha1_final(&c, out);
}
