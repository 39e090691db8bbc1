/* Incremental RFC 6455 frame parser, in pure C (no Python), so that a fuzzer
   can drive it directly.

   The parser never allocates. Data payloads are unmasked straight into a
   buffer owned by the caller: when payload bytes are waiting and there is
   no room left, ws_parse() returns WS_NEED_SPACE and the caller points
   `out`/`out_room` at free space (growing its buffer as it sees fit), then
   calls ws_parse() again with the rest of the input. Control payloads are
   at most 125 bytes and are kept inside the parser.

   Loop:
       while (len) {
           r = ws_parse(&p, data, len, &used); data += used; len -= used;
           switch (r) { ... }   // WS_NEED_INPUT: everything was consumed
       }
*/
#ifndef DWS_WSPARSE_H
#define DWS_WSPARSE_H

#include <stddef.h>
#include <stdint.h>

#define WS_OP_CONT 0x0
#define WS_OP_TEXT 0x1
#define WS_OP_BINARY 0x2
#define WS_OP_CLOSE 0x8
#define WS_OP_PING 0x9
#define WS_OP_PONG 0xA

#define WS_MAX_CONTROL 125

enum ws_result {
    WS_NEED_INPUT = 0,  /* all the input was consumed */
    WS_NEED_SPACE,      /* set out / out_room, then call again */
    WS_MESSAGE,         /* a data message is complete: ev_opcode, ev_rsv1, ev_len */
    WS_CONTROL,         /* a control frame: ev_opcode, ctrl[0..ctrl_len) */
    WS_ERROR            /* the stream is failed: error_code, error_reason */
};

typedef struct {
    /* Configuration (set by ws_parser_init). */
    uint64_t max_size;      /* largest message accepted, in bytes */
    int client_side;        /* we are the client: frames must be unmasked */
    int allow_rsv1;         /* an extension (permessage-deflate) owns RSV1 */
    uint64_t max_compressed;/* wire-size limit of an RSV1 message: max_size,
                               unless the caller inflates and checks the
                               inflated size itself (then a little more, for
                               incompressible data) */

    int state;              /* private: header, payload, closed, failed */

    /* Current frame: header bytes gathered so far, then its fields. */
    uint8_t hdr[14];
    unsigned hdr_len, hdr_need;
    unsigned opcode, fin;
    uint8_t key[4];
    int masked;
    uint64_t remaining;     /* payload bytes of this frame still to come */
    uint64_t frame_pos;     /* payload bytes of this frame seen (key phase) */

    /* Data message in progress (possibly fragmented). */
    int in_message;
    unsigned msg_opcode;    /* WS_OP_TEXT or WS_OP_BINARY */
    int msg_rsv1;           /* compressed: the payload is not UTF-8 checked */
    uint64_t msg_len;       /* bytes written to the caller's buffer */
    uint32_t utf8_state;

    /* Caller's buffer for the message payload. */
    uint8_t *out;
    size_t out_room;

    /* Event details, valid until the next ws_parse() call. */
    unsigned ev_opcode;
    int ev_rsv1;
    uint64_t ev_len;

    uint8_t ctrl[WS_MAX_CONTROL];
    unsigned ctrl_len;

    int error_code;
    char error_reason[96];
} ws_parser;

/* max_size: UINT64_MAX for no limit (the caller should still cap it at what
   it can allocate). */
void ws_parser_init(ws_parser *p, uint64_t max_size, int client_side,
                    int allow_rsv1);

/* Consume input until an event or the end of the input; *consumed says how
   much was used. After WS_ERROR or a close frame, input is ignored (fully
   consumed, WS_NEED_INPUT). */
enum ws_result ws_parse(ws_parser *p, const uint8_t *data, size_t len,
                        size_t *consumed);

/* Fail the stream from outside (e.g. out of memory): like WS_ERROR. */
void ws_parser_abort(ws_parser *p, int code, const char *reason);

/* 1 once a close frame was parsed; 1 once the stream failed. */
int ws_parser_closed(const ws_parser *p);
int ws_parser_failed(const ws_parser *p);

/* May this close code appear on the wire (RFC 6455 section 7.4)? */
int ws_close_code_valid(unsigned code);

/* Validate a close payload. Returns 0 and sets *code (1005 when empty), or
   returns the close code to fail with and sets *reason. */
int ws_check_close(const uint8_t *p, size_t n, unsigned *code,
                   const char **reason);

#endif
