/* Frame-parsing state machine (RFC 6455 section 5).

   Every check is made on the first byte that can decide it, so a stream
   fails as early as possible and the events completed before the bad byte
   are still delivered by the caller. */
#include "wsparse.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mask.h"
#include "utf8.h"

enum { ST_HEADER, ST_PAYLOAD, ST_CLOSED, ST_FAILED };

void
ws_parser_init(ws_parser *p, uint64_t max_size, int client_side, int allow_rsv1)
{
    memset(p, 0, sizeof(*p));
    p->max_size = max_size;
    p->max_compressed = max_size;
    p->client_side = client_side != 0;
    p->allow_rsv1 = allow_rsv1 != 0;
    p->state = ST_HEADER;
    p->utf8_state = WS_UTF8_ACCEPT;
}

int
ws_parser_closed(const ws_parser *p)
{
    return p->state == ST_CLOSED;
}

int
ws_parser_failed(const ws_parser *p)
{
    return p->state == ST_FAILED;
}

static enum ws_result
fail(ws_parser *p, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->error_reason, sizeof(p->error_reason), fmt, ap);
    va_end(ap);
    p->error_code = code;
    p->state = ST_FAILED;
    return WS_ERROR;
}

void
ws_parser_abort(ws_parser *p, int code, const char *reason)
{
    fail(p, code, "%s", reason);
}

int
ws_close_code_valid(unsigned code)
{
    /* 1004-1006 and 1015 are reserved or must never be sent; 1016-2999 are
       for future RFCs; 3000-4999 are for libraries and applications. */
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

int
ws_check_close(const uint8_t *p, size_t n, unsigned *code, const char **reason)
{
    if (n == 0) {
        *code = 1005;  /* "no status code was present" */
        return 0;
    }
    if (n == 1) {
        *code = 0;
        *reason = "close frame payload of 1 byte";
        return 1002;
    }
    *code = (unsigned)p[0] << 8 | p[1];
    if (!ws_close_code_valid(*code)) {
        *reason = "invalid close code";
        return 1002;
    }
    if (!ws_utf8_valid(p + 2, n - 2)) {
        *reason = "close reason is not valid UTF-8";
        return 1007;
    }
    return 0;
}

/* Checks that only need the first byte: FIN, RSV1-3, opcode. */
static enum ws_result
check_byte0(ws_parser *p)
{
    unsigned b = p->hdr[0], op = b & 0x0f;
    int control = op >= 8;

    if (b & 0x20)
        return fail(p, 1002, "reserved bit RSV2 set");
    if (b & 0x10)
        return fail(p, 1002, "reserved bit RSV3 set");
    if ((op >= 3 && op <= 7) || op >= 0xb)
        return fail(p, 1002, "reserved opcode 0x%X", op);
    if (b & 0x40) {
        if (!p->allow_rsv1)
            return fail(p, 1002, "reserved bit RSV1 set");
        /* RFC 7692 section 6: only the first frame of a message has RSV1. */
        if (control)
            return fail(p, 1002, "RSV1 set on a control frame");
        if (op == WS_OP_CONT)
            return fail(p, 1002, "RSV1 set on a continuation frame");
    }
    if (control && !(b & 0x80))
        return fail(p, 1002, "fragmented control frame");
    if (op == WS_OP_CONT && !p->in_message)
        return fail(p, 1002, "continuation frame without a message in progress");
    if (!control && op != WS_OP_CONT && p->in_message)
        return fail(p, 1002, "new data frame while a fragmented message is in progress");
    return WS_NEED_INPUT;
}

/* Checks on the second byte: MASK bit, 7-bit length. Sets hdr_need. */
static enum ws_result
check_byte1(ws_parser *p)
{
    unsigned b = p->hdr[1], len7 = b & 0x7f;
    int masked = (b & 0x80) != 0;

    /* Section 5.1: clients mask, servers do not. */
    if (p->client_side && masked)
        return fail(p, 1002, "masked frame from the server");
    if (!p->client_side && !masked)
        return fail(p, 1002, "unmasked frame from the client");
    if ((p->hdr[0] & 0x0f) >= 8 && len7 > WS_MAX_CONTROL)
        return fail(p, 1002, "control frame payload longer than 125 bytes");
    p->hdr_need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (masked ? 4 : 0);
    return WS_NEED_INPUT;
}

/* The whole header is in hdr: decode it and set up the frame. */
static enum ws_result
start_frame(ws_parser *p)
{
    unsigned len7 = p->hdr[1] & 0x7f, pos = 2, i;
    uint64_t len = len7;

    /* Non-minimal length encodings are accepted: RFC 6455 section 5.2 only
       binds the sender ("the minimal number of bytes MUST be used"). */
    if (len7 == 126) {
        len = (uint64_t)p->hdr[2] << 8 | p->hdr[3];
        pos = 4;
    } else if (len7 == 127) {
        len = 0;
        for (i = 0; i < 8; i++)
            len = len << 8 | p->hdr[2 + i];
        pos = 10;
        if (len >> 63)
            return fail(p, 1002, "64-bit payload length with the most significant bit set");
    }
    p->masked = (p->hdr[1] & 0x80) != 0;
    if (p->masked)
        memcpy(p->key, p->hdr + pos, 4);
    p->opcode = p->hdr[0] & 0x0f;
    p->fin = (p->hdr[0] & 0x80) != 0;
    p->remaining = len;
    p->frame_pos = 0;

    if (p->opcode >= 8) {
        p->ctrl_len = 0;
    } else {
        /* Refuse an oversized message from its header, before buffering any
           of it (msg_len is exact here: earlier fragments are complete). */
        uint64_t before = p->opcode == WS_OP_CONT ? p->msg_len : 0;
        int rsv1 = p->opcode == WS_OP_CONT ? p->msg_rsv1 : (p->hdr[0] & 0x40) != 0;
        uint64_t limit = rsv1 ? p->max_compressed : p->max_size;
        if (len > limit - before)
            return fail(p, 1009, "message of %llu bytes exceeds the limit of %llu bytes",
                        (unsigned long long)(before + len),
                        (unsigned long long)limit);
        if (p->opcode != WS_OP_CONT) {
            p->in_message = 1;
            p->msg_opcode = p->opcode;
            p->msg_rsv1 = (p->hdr[0] & 0x40) != 0;
            p->msg_len = 0;
            p->utf8_state = WS_UTF8_ACCEPT;
            p->out = NULL;
            p->out_room = 0;
        }
    }
    p->state = ST_PAYLOAD;
    return WS_NEED_INPUT;
}

enum ws_result
ws_parse(ws_parser *p, const uint8_t *data, size_t len, size_t *consumed)
{
    size_t i = 0;
    enum ws_result r;

    if (p->state == ST_CLOSED || p->state == ST_FAILED) {
        *consumed = len;  /* nothing after a close frame or an error counts */
        return WS_NEED_INPUT;
    }
    if (len == 0) {
        /* Nothing can be pending without input (empty frames complete with
           their header), and data may be NULL. */
        *consumed = 0;
        return WS_NEED_INPUT;
    }
    for (;;) {
        if (p->state == ST_HEADER) {
            if (i == len)
                break;
            if (p->hdr_len == 0) {
                p->hdr[0] = data[i++];
                p->hdr_len = 1;
                if ((r = check_byte0(p)) != WS_NEED_INPUT)
                    goto out;
                if (i == len)
                    break;
            }
            if (p->hdr_len == 1) {
                p->hdr[1] = data[i++];
                p->hdr_len = 2;
                if ((r = check_byte1(p)) != WS_NEED_INPUT)
                    goto out;
            }
            if (p->hdr_len < p->hdr_need) {
                size_t n = p->hdr_need - p->hdr_len;
                if (n > len - i)
                    n = len - i;
                memcpy(p->hdr + p->hdr_len, data + i, n);
                p->hdr_len += (unsigned)n;
                i += n;
                if (p->hdr_len < p->hdr_need)
                    break;
            }
            if ((r = start_frame(p)) != WS_NEED_INPUT)
                goto out;
        }

        /* ST_PAYLOAD */
        if (p->opcode >= 8) {
            size_t n = len - i;
            if (n > p->remaining)
                n = (size_t)p->remaining;
            if (p->masked)
                ws_mask(p->ctrl + p->ctrl_len, data + i, n, p->key, (size_t)p->frame_pos);
            else if (n)
                memcpy(p->ctrl + p->ctrl_len, data + i, n);
            p->ctrl_len += (unsigned)n;
            p->remaining -= n;
            p->frame_pos += n;
            i += n;
            if (p->remaining)
                break;
            p->state = ST_HEADER;
            p->hdr_len = 0;
            p->ev_opcode = p->opcode;
            if (p->opcode == WS_OP_CLOSE) {
                unsigned code;
                const char *why;
                int err = ws_check_close(p->ctrl, p->ctrl_len, &code, &why);
                if (err == 1002 && p->ctrl_len >= 2)  /* an invalid code: say which */
                    r = fail(p, err, "%s %u", why, code);
                else if (err)
                    r = fail(p, err, "%s", why);
                else
                    p->state = ST_CLOSED;
                if (err)
                    goto out;
            }
            r = WS_CONTROL;
            goto out;
        }

        while (p->remaining && i < len) {
            size_t n = len - i;
            int check;
            if (p->out_room == 0) {
                r = WS_NEED_SPACE;
                goto out;
            }
            if (n > p->remaining)
                n = (size_t)p->remaining;
            if (n > p->out_room)
                n = p->out_room;
            /* Text is validated as the bytes arrive: a bad message fails
               now, not when its last fragment comes in. Compressed (RSV1)
               text is validated after inflating, by the extension. */
            check = p->msg_opcode == WS_OP_TEXT && !p->msg_rsv1;
            if (p->masked) {
                /* Unmasking reports non-ASCII output for free: pure ASCII
                   at a character boundary needs no DFA pass. */
                if (!ws_mask_hi(p->out, data + i, n, p->key, (size_t)p->frame_pos) &&
                    p->utf8_state == WS_UTF8_ACCEPT)
                    check = 0;
            } else {
                memcpy(p->out, data + i, n);
            }
            if (check) {
                p->utf8_state = ws_utf8_feed(p->utf8_state, p->out, n);
                if (p->utf8_state == WS_UTF8_REJECT) {
                    i += n;
                    r = fail(p, 1007, "text message is not valid UTF-8");
                    goto out;
                }
            }
            p->out += n;
            p->out_room -= n;
            p->msg_len += n;
            p->remaining -= n;
            p->frame_pos += n;
            i += n;
        }
        if (p->remaining)
            break;
        p->state = ST_HEADER;
        p->hdr_len = 0;
        if (!p->fin)
            continue;
        if (p->msg_opcode == WS_OP_TEXT && !p->msg_rsv1 &&
            p->utf8_state != WS_UTF8_ACCEPT) {
            r = fail(p, 1007, "text message is not valid UTF-8: it ends inside a character");
            goto out;
        }
        p->ev_opcode = p->msg_opcode;
        p->ev_rsv1 = p->msg_rsv1;
        p->ev_len = p->msg_len;
        p->in_message = 0;
        p->msg_len = 0;
        p->out = NULL;
        p->out_room = 0;
        r = WS_MESSAGE;
        goto out;
    }
    r = WS_NEED_INPUT;
out:
    *consumed = i;
    return r;
}
