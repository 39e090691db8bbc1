/* Server side of the opening handshake (RFC 6455 section 4.2), in pure C. */
#ifndef DWS_HANDSHAKE_H
#define DWS_HANDSHAKE_H

#include <stddef.h>

/* Length of a Sec-WebSocket-Accept value: base64 of a SHA-1 digest. */
#define WS_ACCEPT_LEN 28

/* A header value; p == NULL means the header is absent. */
typedef struct {
    const char *p;
    size_t n;
} ws_str;

/* Sec-WebSocket-Accept for a key: base64(SHA-1(key + GUID)). Writes
   WS_ACCEPT_LEN characters and a NUL. */
void ws_accept_key(const char *key, size_t n, char out[WS_ACCEPT_LEN + 1]);

/* Does the comma-separated list `list` contain `tok`? Elements are trimmed
   of optional whitespace (SP, HTAB); empty elements are skipped. */
int ws_token_list_has(const char *list, size_t n, const char *tok, size_t tn,
                      int ignore_case);

/* Check a client's opening handshake. Returns 0 and writes the accept key,
   or returns 400 / 426 and points *reason at a static message. */
int ws_check_request(ws_str method, ws_str upgrade, ws_str connection,
                     ws_str version, ws_str key,
                     char accept[WS_ACCEPT_LEN + 1], const char **reason);

/* 1 if a header name or value may be sent as is (no CR, LF or NUL: they
   would let a value inject headers or end the response early). */
int ws_header_safe(const char *p, size_t n);

#endif
