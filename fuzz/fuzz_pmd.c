/* libFuzzer harness for the permessage-deflate negotiation (pmd.c).

   Input: byte 0 = the server's configuration (bits 0-2: server window
   9 + n % 7, bits 3-5: client window 9 + n % 7, bit 6: server no context
   takeover, bit 7: client no context takeover), the rest = a
   Sec-WebSocket-Extensions value. An accepted offer must give parameters
   within the RFC's and the configuration's bounds, and the response
   header, read back as an offer, must be accepted with the same result. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmd.h"
#include "fuzz_check.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ws_pmd_config cfg;
    ws_pmd_params prm, again;
    char resp[WS_PMD_RESPONSE_MAX];
    char *value;
    size_t n;

    if (size < 1)
        return 0;
    cfg.server_max_window_bits = 9 + (data[0] & 7) % 7;
    cfg.client_max_window_bits = 9 + ((data[0] >> 3) & 7) % 7;
    cfg.server_no_context_takeover = (data[0] >> 6) & 1;
    cfg.client_no_context_takeover = (data[0] >> 7) & 1;
    /* Its own heap block, not NUL-terminated: ASan sees any overread. */
    value = malloc(size - 1 ? size - 1 : 1);
    CHECK(value != NULL);
    memcpy(value, data + 1, size - 1);
    if (ws_pmd_negotiate(value, size - 1, &cfg, &prm)) {
        CHECK(prm.server_max_window_bits >= 9 &&
              prm.server_max_window_bits <= cfg.server_max_window_bits);
        CHECK(prm.client_max_window_bits >= 8 && prm.client_max_window_bits <= 15);
        CHECK(prm.server_no_context_takeover >= cfg.server_no_context_takeover);
        CHECK(prm.client_no_context_takeover >= cfg.client_no_context_takeover);
        n = ws_pmd_response(&prm, resp);
        CHECK(n < WS_PMD_RESPONSE_MAX && strlen(resp) == n);
        CHECK(ws_pmd_negotiate(resp, n, &cfg, &again));
        CHECK(again.server_max_window_bits == prm.server_max_window_bits);
        CHECK(again.server_no_context_takeover == prm.server_no_context_takeover);
        CHECK(again.client_no_context_takeover == prm.client_no_context_takeover);
        if (prm.say_client_bits)
            CHECK(again.client_max_window_bits == prm.client_max_window_bits);
    }
    free(value);
    return 0;
}
