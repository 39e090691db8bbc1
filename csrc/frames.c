/* Frame headers and masking keys. */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#  define _GNU_SOURCE  /* getrandom() in <sys/random.h> */
#endif
#include "frames.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#if defined(__linux__) && defined(__has_include)
#  if __has_include(<sys/random.h>)
#    include <sys/random.h>
#    define WS_HAVE_GETRANDOM 1
#  endif
#endif

size_t
ws_frame_header(uint8_t out[WS_MAX_HEADER], unsigned opcode, int fin,
                int rsv1, uint64_t len, const uint8_t *key)
{
    size_t n;
    int i;
    out[0] = (uint8_t)((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | (opcode & 0x0f));
    /* Always the minimal length encoding (section 5.2). */
    if (len < 126) {
        out[1] = (uint8_t)len;
        n = 2;
    } else if (len <= 0xffff) {
        out[1] = 126;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        n = 4;
    } else {
        out[1] = 127;
        for (i = 0; i < 8; i++)
            out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
        n = 10;
    }
    if (key) {
        out[1] |= 0x80;
        memcpy(out + n, key, 4);
        n += 4;
    }
    return n;
}

const char *
ws_frame_check(unsigned opcode, int fin, int rsv1, uint64_t len)
{
    if ((opcode >= 3 && opcode <= 7) || opcode >= 0xb)
        return "unknown opcode";
    if (len >> 63)
        return "payload too long for a frame";
    if (opcode >= 8) {
        if (!fin)
            return "control frames cannot be fragmented";
        if (len > 125)
            return "control frame payload longer than 125 bytes";
        if (rsv1)
            return "RSV1 cannot be set on a control frame";
    }
    return NULL;
}

int
ws_random(uint8_t *buf, size_t n)
{
    size_t got = 0;
#ifdef WS_HAVE_GETRANDOM
    while (got < n) {
        ssize_t r = getrandom(buf + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            break;  /* ENOSYS on old kernels: try the device */
        }
        got += (size_t)r;
    }
    if (got == n)
        return 0;
    got = 0;
#endif
    {
        FILE *f = fopen("/dev/urandom", "rb");
        if (f == NULL)
            return -1;
        got = fread(buf, 1, n, f);
        fclose(f);
    }
    return got == n ? 0 : -1;
}
