/* permessage-deflate (RFC 7692), in pure C (zlib, no Python): the
   negotiation of the Sec-WebSocket-Extensions header, and the inflate and
   deflate streams of one connection. */
#ifndef DWS_PMD_H
#define DWS_PMD_H

#include <stddef.h>
#include <stdint.h>

#include <zlib.h>

/* What the server is willing to do (from the settings). Window bits are
   9..15: zlib cannot compress with an 8-bit window. */
typedef struct {
    int server_max_window_bits;     /* our compressor's window, at most */
    int client_max_window_bits;     /* asked of the client when it allows it */
    int server_no_context_takeover; /* reset our compressor after each message */
    int client_no_context_takeover; /* ask the client to reset its compressor */
} ws_pmd_config;

/* The agreed parameters of an accepted offer. */
typedef struct {
    int server_max_window_bits;     /* 9..15 */
    int client_max_window_bits;     /* 8..15 */
    int server_no_context_takeover;
    int client_no_context_takeover;
    /* Which window sizes the response states. */
    int say_server_bits, say_client_bits;
} ws_pmd_params;

/* Longest response value ws_pmd_response() can write, with its NUL. */
#define WS_PMD_RESPONSE_MAX 160  /* the longest is 128 characters */

/* Pick the first acceptable permessage-deflate offer of a
   Sec-WebSocket-Extensions value (offers of other extensions are skipped).
   An offer with an unknown, repeated or invalid parameter is declined; a
   value that is not valid header syntax declines everything after the
   error. Returns 1 and fills *out, or 0: no offer accepted. */
int ws_pmd_negotiate(const char *value, size_t n, const ws_pmd_config *cfg,
                     ws_pmd_params *out);

/* The Sec-WebSocket-Extensions response value for accepted parameters;
   returns its length. */
size_t ws_pmd_response(const ws_pmd_params *prm, char out[WS_PMD_RESPONSE_MAX]);

/* ------------------------------------------------------------------ */
/* Inflating received messages. The zlib state is allocated on the first
   compressed message only, and freed after each message when the client
   does not take its context over: an idle connection holds none. */

typedef struct {
    z_stream zs;
    int ready;               /* zs is initialized */
    int window_bits;         /* 9..15 */
    int no_context_takeover; /* free the state after each message */
    int after_final;         /* the last input ended a final block (BFINAL) */
} ws_inflater;

enum ws_inflate_result {
    WS_INF_OK = 0,     /* all the input was consumed */
    WS_INF_FULL,       /* the output is full: more room, then call again */
    WS_INF_BAD,        /* not valid deflate data */
    WS_INF_NOMEM
};

void ws_inflater_init(ws_inflater *f, int window_bits, int no_context_takeover);

/* Inflate in[0..n) into out[0..room); *in_used and *out_used say how much
   was taken and written. */
enum ws_inflate_result ws_inflate(ws_inflater *f, const uint8_t *in, size_t n,
                                  size_t *in_used, uint8_t *out, size_t room,
                                  size_t *out_used);

/* The 4 bytes a sender strips from each message (section 7.2.2), to be
   inflated after the message's last byte, unless the message ended with a
   final block (after_final: then they belong to no stream). */
extern const uint8_t ws_pmd_tail[4];

/* 1 when the stream stands between two deflate blocks, as it must after a
   message and its 00 00 FF FF tail; 0 for a message cut inside a block. */
int ws_inflater_at_block_boundary(const ws_inflater *f);

/* The message is complete: reset or free the state as negotiated. */
void ws_inflater_end_message(ws_inflater *f);

void ws_inflater_free(ws_inflater *f);

/* ------------------------------------------------------------------ */
/* Deflating sent messages. */

typedef struct {
    z_stream zs;
    int ready;
    int window_bits, mem_level, level;
} ws_deflater;

void ws_deflater_init(ws_deflater *d, int window_bits, int mem_level, int level);

/* An upper bound of the compressed size of one message of n bytes. */
size_t ws_deflate_bound(ws_deflater *d, size_t n);

/* Compress one message: in[0..n) into out[0..room), without the final
   00 00 FF FF. room must be at least ws_deflate_bound(). Returns the
   compressed size, or (size_t)-1 out of memory. With reset, the stream
   forgets the message afterwards (no context takeover). */
size_t ws_deflate_message(ws_deflater *d, const uint8_t *in, size_t n,
                          uint8_t *out, size_t room, int reset);

void ws_deflater_free(ws_deflater *d);

#endif
