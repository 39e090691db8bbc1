/* The C entry points of a FrameParser (parser_type.c), for the
   connection's hot path (connection.c): feed bytes and look at the events
   without going through Python calls. */
#ifndef DWS_PARSER_API_H
#define DWS_PARSER_API_H

#include "core.h"

#include <stdint.h>

/* What ws_frameparser_peek() returns when no event is pending. */
#define WS_PEEK_NONE (-1)
/* ... and the stream failed: the next ws_frameparser_next() raises. */
#define WS_PEEK_FAILED (-2)

/* parser.feed(data[:len]): 0, or -1 with an exception set. */
int ws_frameparser_feed(PyObject *parser, const uint8_t *data, size_t len);

/* The opcode (0x40 set for an RSV1 frame left compressed) of the oldest
   pending event, or WS_PEEK_NONE / WS_PEEK_FAILED. Never fails. */
int ws_frameparser_peek(PyObject *parser);

/* next(parser): the oldest event as an (opcode, payload) tuple; NULL with
   the ProtocolError set once failed, or NULL without an exception. */
PyObject *ws_frameparser_next(PyObject *parser);

#endif
