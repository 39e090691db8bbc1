/* libFuzzer harness for the frame parser (wsparse) with its UTF-8 and
   close-payload validation, the masking code, and permessage-deflate's
   inflate path (pmd.c, zlib).

   Input: byte 0 = configuration (side, RSV1, size limit, inflate, context
   takeover), byte 1 = seed for the chunking, the
   rest = the stream. With inflate, each RSV1 message is inflated in pieces
   as the chunking says, into an output that grows by a few bytes at a
   time, bounded by the size limit (+1 byte to see it passed), as
   parser_type.c does. The stream is parsed three
   times (whole, random chunks with a stingy buffer, one byte at a time);
   all three must give exactly the same events and error (see
   same_verdict() for the one case where the close code may differ). Every event is
   checked against the rules the parser promises. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mask.h"
#include "pmd.h"
#include "utf8.h"
#include "wsparse.h"
#include "fuzz_check.h"

static const uint64_t limits[8] = {0, 1, 125, 126, 1000, 65536, 1 << 20, UINT64_MAX};

typedef struct {
    uint64_t hash;      /* FNV-1a over every event */
    unsigned events;
    int error_code;
    char error_reason[96];
} transcript;

static void
mix(transcript *t, const void *p, size_t n)
{
    const uint8_t *b = p;
    size_t i;
    for (i = 0; i < n; i++)
        t->hash = (t->hash ^ b[i]) * UINT64_C(0x100000001b3);
}

/* Inflate an RSV1 message like parser_type.c: returns 0, or the close
   code (1007 bad data or UTF-8, 1009 over the limit). */
static int
inflate_message(ws_inflater *f, const uint8_t *in, size_t n, unsigned opcode, uint64_t max,
                int chunking, uint32_t *rng, transcript *t)
{
    uint8_t *out = NULL;
    size_t cap = 0, len = 0;
    uint64_t hard = max == UINT64_MAX ? UINT64_MAX : max + 1;
    uint32_t utf8 = WS_UTF8_ACCEPT;
    int phase, code = 0;

    /* Phase 0: the message; phase 1: the 00 00 FF FF tail. */
    for (phase = 0; phase < 2 && !code; phase++) {
        const uint8_t *src = phase ? ws_pmd_tail : in;
        size_t srclen = phase ? 4 : n, at = 0;
        if (n == 0)
            break;  /* an empty message: nothing to inflate, not even the tail */
        if (phase && f->after_final)
            break;
        for (;;) {
            size_t piece = srclen - at, used, wrote;
            enum ws_inflate_result r;
            if (chunking == 1) {
                *rng = *rng * 1103515245u + 12345u;
                if (piece > 1 + (*rng >> 16) % 37)
                    piece = 1 + (*rng >> 16) % 37;
            } else if (chunking == 2 && piece > 1) {
                piece = 1;
            }
            if (len == cap) {
                size_t grow = chunking == 0 ? 4096 : 1 + (*rng >> 8) % 7;
                if ((uint64_t)cap + grow > hard)
                    grow = (size_t)(hard - cap);
                if (grow == 0) {
                    code = 1009;
                    break;
                }
                out = realloc(out, cap + grow);
                CHECK(out != NULL);
                cap += grow;
            }
            r = ws_inflate(f, src + at, piece, &used, out + len, cap - len, &wrote);
            CHECK(used <= piece && wrote <= cap - len);
            if (opcode == WS_OP_TEXT && wrote) {
                utf8 = ws_utf8_feed(utf8, out + len, wrote);
                if (utf8 == WS_UTF8_REJECT)
                    code = 1007;
            }
            len += wrote;
            at += used;
            if (!code && (uint64_t)len > max)
                code = 1009;  /* after the UTF-8 check, as parser_type.c */
            if (r == WS_INF_BAD && !code)
                code = 1007;
            CHECK(r != WS_INF_NOMEM);
            if (code)
                break;
            if (r == WS_INF_OK && at == srclen)
                break;
        }
    }
    if (!code && n && !ws_inflater_at_block_boundary(f))
        code = 1007;
    if (!code && opcode == WS_OP_TEXT) {
        if (utf8 != WS_UTF8_ACCEPT)
            code = 1007;
        else
            CHECK(ws_utf8_valid(out, len));
    }
    if (!code) {
        CHECK(len <= max);
        mix(t, "Z", 1);
        mix(t, &len, sizeof(len));
        if (len)
            mix(t, out, len);
        ws_inflater_end_message(f);
    }
    free(out);
    return code;
}

/* chunking: 0 = all at once, 1 = pseudo-random chunks, 2 = one byte each.
   The caller's buffer grows by exactly what is needed (mode 0) or by a
   few bytes at a time (other modes) to exercise WS_NEED_SPACE. */
static void
run(const uint8_t *data, size_t len, unsigned cfg, unsigned seed, int chunking,
    transcript *t)
{
    ws_parser p;
    uint8_t *buf = NULL;
    size_t cap = 0, pos = 0;
    uint32_t rng = seed * 2654435761u + 1;
    uint64_t max = limits[(cfg >> 2) & 7];
    int inflating = (cfg >> 1) & (cfg >> 5) & 1;
    ws_inflater inf;

    memset(t, 0, sizeof(*t));
    t->hash = UINT64_C(0xcbf29ce484222325);
    ws_parser_init(&p, max, cfg & 1, (cfg >> 1) & 1);
    /* A 15-bit window: zlib checks a back-reference against its window
       only across calls (within one call it may reach into what that call
       wrote), so a stream that reaches further back than a smaller window
       is accepted or refused depending on how the output is split. With
       15 bits every distance deflate allows is inside the window, and the
       three parses must agree. (The smaller windows are tested in
       tests/core/test_deflate_messages.py.) */
    ws_inflater_init(&inf, 15, (cfg >> 6) & 1);
    if (inflating && max != UINT64_MAX)
        p.max_compressed = max + (max >> 6) + 1024;  /* as parser_type.c */
    while (pos < len) {
        size_t n = len - pos, used;
        enum ws_result r;
        if (chunking == 1) {
            rng = rng * 1103515245u + 12345u;
            n = 1 + (rng >> 16) % 37;
            if (n > len - pos)
                n = len - pos;
        } else if (chunking == 2) {
            n = 1;
        }
        /* Drain this chunk completely before taking the next one. */
        while (n > 0) {
            r = ws_parse(&p, data + pos, n, &used);
            CHECK(used <= n);
            pos += used;
            n -= used;
            CHECK(p.msg_len <= (p.msg_rsv1 ? p.max_compressed : p.max_size));
            if (r == WS_NEED_INPUT) {
                CHECK(n == 0);
                break;
            }
            if (r == WS_NEED_SPACE) {
                size_t grow;
                CHECK(p.out_room == 0 && p.remaining > 0 && n > 0);
                CHECK(p.msg_len == cap);
                /* Never more than the bytes at hand: a header may declare
                   far more than the input holds. */
                grow = chunking == 0 ? n : 1 + (rng >> 8) % 7;
                if (grow > p.remaining)
                    grow = (size_t)p.remaining;
                buf = realloc(buf, cap + grow);
                CHECK(buf != NULL);
                p.out = buf + cap;
                p.out_room = grow;
                cap += grow;
                continue;
            }
            if (r == WS_MESSAGE) {
                unsigned op = p.ev_opcode | (p.ev_rsv1 ? 0x40u : 0);
                CHECK(p.ev_opcode == WS_OP_TEXT || p.ev_opcode == WS_OP_BINARY);
                CHECK(p.ev_len <= (p.ev_rsv1 ? p.max_compressed : max) && p.ev_len <= cap);
                CHECK(!p.ev_rsv1 || (cfg & 2));
                if (p.ev_opcode == WS_OP_TEXT && !p.ev_rsv1)
                    CHECK(ws_utf8_valid(buf, (size_t)p.ev_len));
                mix(t, "M", 1);
                mix(t, &op, sizeof(op));
                mix(t, &p.ev_len, sizeof(p.ev_len));
                if (p.ev_len)
                    mix(t, buf, (size_t)p.ev_len);
                t->events++;
                if (inflating && p.ev_rsv1) {
                    int code = inflate_message(&inf, buf, (size_t)p.ev_len, p.ev_opcode, max,
                                               chunking, &rng, t);
                    if (code) {
                        ws_parser_abort(&p, code, "inflate");
                        t->error_code = code;
                        ws_inflater_free(&inf);
                    }
                }
                free(buf);
                buf = NULL;
                cap = 0;
            } else if (r == WS_CONTROL) {
                unsigned code;
                const char *why;
                CHECK(p.ev_opcode == WS_OP_PING || p.ev_opcode == WS_OP_PONG ||
                      p.ev_opcode == WS_OP_CLOSE);
                CHECK(p.ctrl_len <= WS_MAX_CONTROL);
                if (p.ev_opcode == WS_OP_CLOSE) {
                    CHECK(ws_check_close(p.ctrl, p.ctrl_len, &code, &why) == 0);
                    CHECK(ws_parser_closed(&p));
                }
                mix(t, "C", 1);
                mix(t, &p.ev_opcode, sizeof(p.ev_opcode));
                mix(t, p.ctrl, p.ctrl_len);
                t->events++;
            } else {
                CHECK(r == WS_ERROR);
                CHECK(ws_parser_failed(&p));
                CHECK(p.error_code == 1002 || p.error_code == 1007 || p.error_code == 1009);
                CHECK(p.error_code != 1009 || max != UINT64_MAX);
                t->error_code = p.error_code;
                memcpy(t->error_reason, p.error_reason, sizeof(t->error_reason));
            }
        }
    }
    /* After a close or an error, input is swallowed and nothing happens. */
    if (ws_parser_closed(&p) || ws_parser_failed(&p)) {
        size_t used;
        CHECK(ws_parse(&p, data, len, &used) == WS_NEED_INPUT && used == len);
    }
    ws_inflater_free(&inf);
    free(buf);
}

/* Masking and incremental UTF-8 against naive versions. */
static void
check_helpers(const uint8_t *data, size_t len, unsigned seed)
{
    uint8_t key[4] = {data[0], (uint8_t)seed, (uint8_t)(seed * 7), 0xa5};
    size_t off = seed & 3, start = len ? seed % len : 0, i;
    uint8_t *a = malloc(len + 1), *b = malloc(len + 1);
    uint32_t st;
    CHECK(a && b);
    /* An odd start offset into the buffer tests unaligned access. */
    ws_mask(a, data + start, len - start, key, off);
    for (i = start; i < len; i++)
        b[i - start] = data[i] ^ key[(off + i - start) & 3];
    CHECK(memcmp(a, b, len - start) == 0);
    memcpy(a, data + start, len - start);
    ws_mask(a, a, len - start, key, off);  /* in place */
    CHECK(memcmp(a, b, len - start) == 0);
    {
        int hi = 0;
        for (i = 0; i < len - start; i++)
            hi |= b[i] >= 0x80;
        CHECK(ws_mask_hi(a, data + start, len - start, key, off) == hi);
        CHECK(memcmp(a, b, len - start) == 0);
    }

    st = ws_utf8_feed(WS_UTF8_ACCEPT, data, start);
    st = ws_utf8_feed(st, data + start, len - start);
    CHECK((st == WS_UTF8_ACCEPT) == ws_utf8_valid(data, len));
    free(a);
    free(b);
}

/* The three parses agree. One exception: a compressed message that is both
   bad (corrupt deflate data, or text that is not UTF-8) and inflates past
   the size limit is refused with 1007 or with 1009 depending on where the
   pieces fell (with a large piece zlib fills the output to the limit before
   it reaches the bad bytes; with small ones it may meet them first). Both
   refuse the message; the events before it must still be the same. */
static int
same_verdict(const transcript *a, const transcript *b)
{
    if (memcmp(a, b, sizeof(*a)) == 0)
        return 1;
    return a->hash == b->hash && a->events == b->events
        && (a->error_code == 1007 || a->error_code == 1009)
        && (b->error_code == 1007 || b->error_code == 1009);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    transcript t0, t1, t2;
    unsigned cfg, seed;
    if (!ready) {
        ws_mask_init();
        ready = 1;
    }
    if (size < 2)
        return 0;
    cfg = data[0];
    seed = data[1];
    data += 2;
    size -= 2;
    run(data, size, cfg, seed, 0, &t0);
    run(data, size, cfg, seed, 1, &t1);
    run(data, size, cfg, seed, 2, &t2);
    CHECK(same_verdict(&t0, &t1));
    CHECK(same_verdict(&t0, &t2));
    if (size)
        check_helpers(data, size, seed);
    return 0;
}
