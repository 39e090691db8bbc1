/* Incremental UTF-8 validation (RFC 3629) with a small DFA. */
#ifndef DWS_UTF8_H
#define DWS_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* DFA states worth naming: ACCEPT is "at a character boundary", REJECT is
   final. Any other value means "inside a multi-byte character". */
#define WS_UTF8_ACCEPT 0u
#define WS_UTF8_REJECT 1u

/* Feed bytes starting from `state` (WS_UTF8_ACCEPT at the start of a text);
   returns the new state. Once REJECT, always REJECT. */
uint32_t ws_utf8_feed(uint32_t state, const uint8_t *s, size_t n);

/* Whole-buffer check: 1 if valid and complete, else 0. */
int ws_utf8_valid(const uint8_t *s, size_t n);

#endif
