/* Opening handshake checks. Header values arrive as raw strings (WSGI gives
   them joined with ", " when a header is repeated), so list-valued headers
   are parsed as comma-separated tokens with optional whitespace (RFC 9110
   section 5.6.1). */
#include "handshake.h"

#include <string.h>

#include "base64.h"
#include "sha1.h"

static const char GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

void
ws_accept_key(const char *key, size_t n, char out[WS_ACCEPT_LEN + 1])
{
    uint8_t digest[WS_SHA1_DIGEST];
    ws_sha1_ctx c;
    ws_sha1_init(&c);
    ws_sha1_update(&c, key, n);
    ws_sha1_update(&c, GUID, sizeof(GUID) - 1);
    ws_sha1_final(&c, digest);
    ws_base64_encode(digest, sizeof(digest), out);
    out[WS_ACCEPT_LEN] = '\0';
}

static int
is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static char
lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Equal, the case of ASCII letters ignored when asked (and only ASCII: a
   locale-dependent tolower() has no place in protocol parsing). */
static int
same(const char *a, const char *b, size_t n, int ignore_case)
{
    size_t i;
    if (!ignore_case)
        return memcmp(a, b, n) == 0;
    for (i = 0; i < n; i++)
        if (lower(a[i]) != lower(b[i]))
            return 0;
    return 1;
}

int
ws_token_list_has(const char *list, size_t n, const char *tok, size_t tn,
                  int ignore_case)
{
    size_t i = 0;
    while (i < n) {
        size_t start, end;
        while (i < n && is_ows(list[i]))
            i++;
        start = i;
        while (i < n && list[i] != ',')
            i++;
        end = i;
        while (end > start && is_ows(list[end - 1]))
            end--;
        if (end > start && end - start == tn && same(list + start, tok, tn, ignore_case))
            return 1;
        i++;  /* skip the comma */
    }
    return 0;
}

/* The value with leading and trailing optional whitespace removed. */
static ws_str
trim(ws_str s)
{
    while (s.n && is_ows(s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n && is_ows(s.p[s.n - 1]))
        s.n--;
    return s;
}

int
ws_check_request(ws_str method, ws_str upgrade, ws_str connection,
                 ws_str version, ws_str key,
                 char accept[WS_ACCEPT_LEN + 1], const char **reason)
{
    uint8_t raw[18];  /* 24 base64 characters decode to at most 18 bytes */

    /* Method tokens are case-sensitive (RFC 9110 section 9.1). */
    if (method.p == NULL || method.n != 3 || memcmp(method.p, "GET", 3) != 0) {
        *reason = "the method must be GET";
        return 400;
    }
    if (upgrade.p == NULL) {
        *reason = "missing Upgrade header";
        return 400;
    }
    if (!ws_token_list_has(upgrade.p, upgrade.n, "websocket", 9, 1)) {
        *reason = "Upgrade header does not contain 'websocket'";
        return 400;
    }
    if (connection.p == NULL) {
        *reason = "missing Connection header";
        return 400;
    }
    if (!ws_token_list_has(connection.p, connection.n, "upgrade", 7, 1)) {
        *reason = "Connection header does not contain 'upgrade'";
        return 400;
    }
    /* 426 tells the client which version to use instead (section 4.4). */
    if (version.p == NULL) {
        *reason = "missing Sec-WebSocket-Version header";
        return 426;
    }
    version = trim(version);
    if (version.n != 2 || memcmp(version.p, "13", 2) != 0) {
        *reason = "unsupported Sec-WebSocket-Version (only 13 is supported)";
        return 426;
    }
    if (key.p == NULL) {
        *reason = "missing Sec-WebSocket-Key header";
        return 400;
    }
    key = trim(key);
    /* A 16-byte nonce is exactly 24 base64 characters, "==" included. */
    if (key.n != 24 || ws_base64_decode(key.p, key.n, raw) != 16) {
        *reason = "Sec-WebSocket-Key is not the base64 of 16 bytes";
        return 400;
    }
    ws_accept_key(key.p, key.n, accept);
    return 0;
}

int
ws_header_safe(const char *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (p[i] == '\r' || p[i] == '\n' || p[i] == '\0')
            return 0;
    return 1;
}
