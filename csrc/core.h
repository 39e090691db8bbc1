/* Declarations shared by the Python-facing files (module.c, parser_type.c,
   utf8_type.c). The protocol code itself (wsparse, utf8, mask...) does not
   include Python.h. */
#ifndef DWS_CORE_H
#define DWS_CORE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* Exception classes, created at import (module.c). */
extern PyObject *ws_WebSocketError;
extern PyObject *ws_ProtocolError;
extern PyObject *ws_HandshakeError;

extern PyTypeObject ws_FrameParserType;
extern PyTypeObject ws_Utf8ValidatorType;
extern PyTypeObject ws_FrameEncoderType;

/* Read "<side>_max_window_bits" and "<side>_no_context_takeover" from the
   dict negotiate_deflate() returned (side: "server" or "client"). */
int ws_deflate_params_get(PyObject *params, const char *side, int *window_bits,
                          int *no_context_takeover);

/* Adds Message, TextMessage, BinaryMessage (message_type.c). */
int ws_message_types_add(PyObject *mod);

/* payload (stolen) as an instance of the message class `type`, without a
   copy when it can be (message_type.c). */
PyObject *ws_as_message(PyObject *payload, PyObject *type);

/* Adds the Connection type and its NEXT_* constants (connection.c). */
int ws_connection_add(PyObject *mod);

/* Once at import: the per-thread shared compressor's key. */
int ws_encoder_setup(void);

/* A new ProtocolError(code, reason) instance, or NULL with an exception. */
PyObject *ws_new_protocol_error(int code, const char *reason);

#endif
