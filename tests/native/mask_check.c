/* The masking kernels checked against a byte loop, outside Python: built by
   scripts/check-aarch64 for aarch64 (NEON path) and run under qemu, since
   the test suite itself only runs on this machine's architecture. */
#include <stdio.h>
#include <string.h>

#include "mask.h"

int
main(void)
{
    static uint8_t src[4096], dst[4096];
    const uint8_t key[4] = {0x81, 0x02, 0x73, 0xf4};
    size_t i;

    for (i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)(i * 7);
    ws_mask_init();
    for (size_t offset = 0; offset < 4; offset++)
        for (size_t align = 0; align < 8; align++)
            for (size_t len = 0; len < 1100; len += len < 300 ? 1 : 37) {
                int hi, want_hi = 0;
                ws_mask(dst + align, src + align, len, key, offset);
                for (i = 0; i < len; i++)
                    if (dst[align + i] != (src[align + i] ^ key[(i + offset) & 3])) {
                        printf("FAIL ws_mask offset=%zu align=%zu len=%zu\n", offset, align, len);
                        return 1;
                    }
                hi = ws_mask_hi(dst + align, src + align, len, key, offset);
                for (i = 0; i < len; i++)
                    want_hi |= dst[align + i] >= 0x80;
                if (hi != want_hi) {
                    printf("FAIL ws_mask_hi offset=%zu align=%zu len=%zu\n", offset, align, len);
                    return 1;
                }
            }
    printf("mask kernels ok (%s)\n", ws_mask_impl());
    return 0;
}
