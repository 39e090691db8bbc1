/* libFuzzer harness for the opening-handshake validator and its helpers
   (token lists, base64, SHA-1 accept key).

   Input: byte 0 says which of the five fields are present (bit i), the
   rest is split on '\n' into method, Upgrade, Connection, version, key. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "handshake.h"
#include "fuzz_check.h"

/* Each field is copied to its own heap block so ASan sees overreads. */
static char *
dup_field(const uint8_t *p, size_t n)
{
    char *s = malloc(n ? n : 1);
    CHECK(s != NULL);
    if (n)
        memcpy(s, p, n);
    return s;
}

static void
check_base64(const char *s, size_t n)
{
    uint8_t *raw = malloc(n / 4 * 3 + 1);
    ptrdiff_t r;
    CHECK(raw != NULL);
    r = ws_base64_decode(s, n, raw);
    if (r >= 0) {
        /* Whatever decodes must re-encode to the same length and decode
           back to the same bytes (trailing bits may differ). */
        char *enc = malloc(WS_B64_ENCODED_LEN((size_t)r) + 1);
        uint8_t *again = malloc((size_t)r + 3);
        CHECK(enc && again);
        CHECK(ws_base64_encode(raw, (size_t)r, enc) == n);
        CHECK(ws_base64_decode(enc, n, again) == r);
        CHECK(memcmp(raw, again, (size_t)r) == 0);
        free(enc);
        free(again);
    }
    free(raw);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ws_str f[5];
    char *bufs[5] = {0};
    char accept[WS_ACCEPT_LEN + 1];
    const char *reason = NULL;
    unsigned present;
    size_t pos = 1;
    int i, status;

    if (size < 1)
        return 0;
    present = data[0];
    for (i = 0; i < 5; i++) {
        size_t start = pos, end = pos;
        while (end < size && data[end] != '\n')
            end++;
        pos = end < size ? end + 1 : end;
        bufs[i] = dup_field(data + start, end - start);
        f[i].p = (present >> i) & 1 ? bufs[i] : NULL;
        f[i].n = end - start;
    }
    status = ws_check_request(f[0], f[1], f[2], f[3], f[4], accept, &reason);
    if (status == 0) {
        char again[WS_ACCEPT_LEN + 1];
        uint8_t raw[18];
        size_t a = 0, b = f[4].n;
        CHECK(strlen(accept) == WS_ACCEPT_LEN);
        CHECK(ws_token_list_has(f[1].p, f[1].n, "WebSocket", 9, 1));
        CHECK(ws_token_list_has(f[2].p, f[2].n, "UPGRADE", 7, 1));
        while (a < b && (f[4].p[a] == ' ' || f[4].p[a] == '\t'))
            a++;
        while (b > a && (f[4].p[b - 1] == ' ' || f[4].p[b - 1] == '\t'))
            b--;
        CHECK(b - a == 24 && ws_base64_decode(f[4].p + a, 24, raw) == 16);
        ws_accept_key(f[4].p + a, 24, again);
        CHECK(memcmp(accept, again, sizeof(again)) == 0);
    } else {
        CHECK(status == 400 || status == 426);
        CHECK(reason != NULL && reason[0] != '\0');
    }
    for (i = 0; i < 5; i++) {
        check_base64(bufs[i], f[i].n);
        (void)ws_header_safe(bufs[i], f[i].n);
        if (i > 0)
            (void)ws_token_list_has(bufs[0], f[0].n, bufs[i], f[i].n, i & 1);
    }
    for (i = 0; i < 5; i++)
        free(bufs[i]);
    return 0;
}
