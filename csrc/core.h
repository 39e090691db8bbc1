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

/* A new ProtocolError(code, reason) instance, or NULL with an exception. */
PyObject *ws_new_protocol_error(int code, const char *reason);

#endif
