/* UTF-8 validator: an ASCII fast path 8 to 32 bytes at a time, and a DFA for
   everything else. The DFA was derived by hand from the well-formed byte
   sequences table of RFC 3629 / Unicode 15 table 3-7:

     00..7F
     C2..DF 80..BF
     E0     A0..BF 80..BF
     E1..EC 80..BF 80..BF
     ED     80..9F 80..BF          (no UTF-16 surrogates)
     EE..EF 80..BF 80..BF
     F0     90..BF 80..BF 80..BF   (no overlong 4-byte forms)
     F1..F3 80..BF 80..BF 80..BF
     F4     80..8F 80..BF 80..BF   (nothing above U+10FFFF)

   C0, C1 (overlong 2-byte) and F5..FF never appear. Bytes are first mapped
   to one of 12 classes, then (state, class) gives the next state. */
#include "utf8.h"

#include <string.h>

/* Byte classes:
   0 ASCII, 1 80..8F, 2 90..9F, 3 A0..BF, 4 never valid (C0 C1 F5..FF),
   5 C2..DF, 6 E0, 7 E1..EC EE..EF, 8 ED, 9 F0, 10 F1..F3, 11 F4. */
static const uint8_t utf8_class[256] = {
    /* 00..7F */
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    /* 80..8F, 90..9F */
    1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,
    /* A0..BF */
    3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3, 3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,
    /* C0..DF */
    4,4,5,5,5,5,5,5,5,5,5,5,5,5,5,5, 5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,
    /* E0..EF */
    6,7,7,7,7,7,7,7,7,7,7,7,7,8,7,7,
    /* F0..FF */
    9,10,10,10,11,4,4,4,4,4,4,4,4,4,4,4,
};

/* States: 0 accept, 1 reject, 2 need 1 more (80..BF), 3 need 2 more,
   4 after E0 (need A0..BF), 5 after ED (need 80..9F), 6 need 3 more,
   7 after F0 (need 90..BF), 8 after F4 (need 80..8F).
   Rows are padded to 16 classes so the index is state * 16 + class. */
#define R 1
static const uint8_t utf8_next[9 * 16] = {
    /*        0  1  2  3  4  5  6  7  8  9 10 11 */
    /* 0 */   0, R, R, R, R, 2, 4, 3, 5, 7, 6, 8, R, R, R, R,
    /* 1 */   R, R, R, R, R, R, R, R, R, R, R, R, R, R, R, R,
    /* 2 */   R, 0, 0, 0, R, R, R, R, R, R, R, R, R, R, R, R,
    /* 3 */   R, 2, 2, 2, R, R, R, R, R, R, R, R, R, R, R, R,
    /* 4 */   R, R, R, 2, R, R, R, R, R, R, R, R, R, R, R, R,
    /* 5 */   R, 2, 2, R, R, R, R, R, R, R, R, R, R, R, R, R,
    /* 6 */   R, 3, 3, 3, R, R, R, R, R, R, R, R, R, R, R, R,
    /* 7 */   R, R, 3, 3, R, R, R, R, R, R, R, R, R, R, R, R,
    /* 8 */   R, 3, R, R, R, R, R, R, R, R, R, R, R, R, R, R,
};
#undef R

#define HIGH_BITS UINT64_C(0x8080808080808080)

/* One whole character at s (lead byte >= 0x80, at least 4 bytes readable):
   its length, or 0 if it is not well-formed. The same table as the DFA,
   as range checks: far fewer steps per character of non-Latin text. */
static inline size_t
utf8_sequence(const uint8_t *s)
{
    const uint8_t c = s[0];
    uint8_t lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        return (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
        return (s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80) ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
        return (s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80
                && (s[3] & 0xC0) == 0x80) ? 4 : 0;
    }
    return 0;
}

uint32_t
ws_utf8_feed(uint32_t state, const uint8_t *s, size_t n)
{
    const uint8_t *end;
    if (state > 8)  /* not a state we produce: treat as corrupt */
        return WS_UTF8_REJECT;
    if (n == 0)
        return state;  /* s may be NULL then, and NULL + 0 is undefined */
    end = s + n;
    while (s < end) {
        if (state == WS_UTF8_ACCEPT) {
            if (*s < 0x80) {
                /* Text is mostly ASCII: skip 32, then 8 bytes at a time
                   while every high bit is clear (one test per 32 bytes). */
                while ((size_t)(end - s) >= 32) {
                    uint64_t w[4];
                    memcpy(w, s, 32);
                    if ((w[0] | w[1] | w[2] | w[3]) & HIGH_BITS)
                        break;
                    s += 32;
                }
                while ((size_t)(end - s) >= 8) {
                    uint64_t w;
                    memcpy(&w, s, 8);
                    if (w & HIGH_BITS)
                        break;
                    s += 8;
                }
                while (s < end && *s < 0x80)
                    s++;
                continue;
            }
            if ((size_t)(end - s) >= 4) {
                /* Whole characters in the buffer: check each at once, for
                   as long as the text stays non-ASCII. */
                do {
                    size_t len = utf8_sequence(s);
                    if (len == 0)
                        return WS_UTF8_REJECT;
                    s += len;
                } while ((size_t)(end - s) >= 4 && *s >= 0x80);
                continue;
            }
        }
        /* Near the end of the buffer, or inside a character split across
           chunks: one byte at a time, through the DFA. */
        state = utf8_next[state * 16 + utf8_class[*s++]];
        if (state == WS_UTF8_REJECT)
            return state;
    }
    return state;
}

int
ws_utf8_valid(const uint8_t *s, size_t n)
{
    return ws_utf8_feed(WS_UTF8_ACCEPT, s, n) == WS_UTF8_ACCEPT;
}
