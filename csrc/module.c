/* dwebsocket_c._core: module init, exceptions, constants, and thin Python
   wrappers around the pure-C protocol code. */
#include "core.h"

#include <string.h>

#include "base64.h"
#include "frames.h"
#include "handshake.h"
#include "mask.h"
#include "pmd.h"
#include "sha1.h"
#include "utf8.h"
#include "wsparse.h"

PyObject *ws_WebSocketError;
PyObject *ws_ProtocolError;
PyObject *ws_HandshakeError;

/* Masking releases the GIL above this size: up to it, the release and
   re-acquire cost more than the XOR. */
#define MASK_NOGIL_THRESHOLD (64 * 1024)

/* ------------------------------------------------------------------ */
/* Argument binding                                                    */

/* METH_FASTCALL | METH_KEYWORDS binding without private CPython API:
   names[0..n) are the parameters, the first npos may be positional, the
   first nreq are required. Unset optional ones stay NULL. */
static int
bind_args(const char *fname, PyObject *const *args, Py_ssize_t nargs,
          PyObject *kwnames, const char *const *names, int n, int npos,
          int nreq, PyObject **out)
{
    Py_ssize_t i, nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    int j;

    for (j = 0; j < n; j++)
        out[j] = NULL;
    if (nargs > npos) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %d positional arguments (%zd given)",
                     fname, npos, nargs);
        return -1;
    }
    for (i = 0; i < nargs; i++)
        out[i] = args[i];
    for (i = 0; i < nkw; i++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, i);
        for (j = 0; j < n; j++)
            if (PyUnicode_CompareWithASCIIString(key, names[j]) == 0)
                break;
        if (j == n) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'",
                         fname, key);
            return -1;
        }
        if (out[j] != NULL) {
            PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'",
                         fname, names[j]);
            return -1;
        }
        out[j] = args[nargs + i];
    }
    for (j = 0; j < nreq; j++) {
        if (out[j] == NULL) {
            PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'",
                         fname, names[j]);
            return -1;
        }
    }
    return 0;
}

/* An optional boolean argument. */
static int
opt_bool(PyObject *o, int dflt)
{
    return o == NULL ? dflt : PyObject_IsTrue(o);
}

/* Text passed as str (UTF-8) or any bytes-like object. The pointer is valid
   while `o` lives and, for a buffer, until PyBuffer_Release(view). */
static int
get_text(PyObject *o, const char *what, ws_str *s, Py_buffer *view)
{
    view->obj = NULL;
    if (PyUnicode_Check(o)) {
        Py_ssize_t n;
        s->p = PyUnicode_AsUTF8AndSize(o, &n);
        if (s->p == NULL)
            return -1;
        s->n = (size_t)n;
        return 0;
    }
    if (PyObject_CheckBuffer(o)) {
        if (PyObject_GetBuffer(o, view, PyBUF_SIMPLE) < 0)
            return -1;
        s->p = view->buf;
        s->n = (size_t)view->len;
        return 0;
    }
    PyErr_Format(PyExc_TypeError, "%s must be str or bytes, not %.100s",
                 what, Py_TYPE(o)->tp_name);
    return -1;
}

static void
release(Py_buffer *view)
{
    if (view->obj != NULL)
        PyBuffer_Release(view);
}

/* A 4-byte masking key from `o` into key; 0 if o is NULL or None, 1 if a key
   was read, -1 on error. */
static int
get_mask_key(PyObject *o, uint8_t key[4])
{
    Py_buffer view;
    if (o == NULL || o == Py_None)
        return 0;
    if (PyBytes_CheckExact(o) && PyBytes_GET_SIZE(o) == 4) {  /* the usual case */
        memcpy(key, PyBytes_AS_STRING(o), 4);
        return 1;
    }
    if (PyObject_GetBuffer(o, &view, PyBUF_SIMPLE) < 0)
        return -1;
    if (view.len != 4) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "mask_key must be 4 bytes");
        return -1;
    }
    memcpy(key, view.buf, 4);
    PyBuffer_Release(&view);
    return 1;
}

/* A random masking key: the OS directly, else os.urandom. */
static int
random_key(uint8_t key[4])
{
    PyObject *os, *r;
    int ok;
    if (ws_random(key, 4) == 0)
        return 0;
    os = PyImport_ImportModule("os");
    if (os == NULL)
        return -1;
    r = PyObject_CallMethod(os, "urandom", "i", 4);
    Py_DECREF(os);
    if (r == NULL)
        return -1;
    ok = PyBytes_Check(r) && PyBytes_GET_SIZE(r) == 4;
    if (ok)
        memcpy(key, PyBytes_AS_STRING(r), 4);
    Py_DECREF(r);
    if (!ok) {
        PyErr_SetString(PyExc_RuntimeError, "os.urandom(4) did not return 4 bytes");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Exceptions                                                          */

PyObject *
ws_new_protocol_error(int code, const char *reason)
{
    return PyObject_CallFunction(ws_ProtocolError, "is", code, reason);
}

/* Raise ProtocolError(code, reason); returns NULL. */
static PyObject *
raise_protocol_error(int code, const char *reason)
{
    PyObject *exc = ws_new_protocol_error(code, reason);
    if (exc != NULL) {
        PyErr_SetObject(ws_ProtocolError, exc);
        Py_DECREF(exc);
    }
    return NULL;
}

static PyObject *
raise_handshake_error(int status, const char *reason)
{
    PyObject *exc = PyObject_CallFunction(ws_HandshakeError, "is", status, reason);
    if (exc != NULL) {
        PyErr_SetObject(ws_HandshakeError, exc);
        Py_DECREF(exc);
    }
    return NULL;
}

/* __init__(self, <first>, reason): stores both as attributes and as args.
   Shared by ProtocolError (code) and HandshakeError (status). */
static PyObject *
error_init(PyObject *self, const char *first, PyObject *args, PyObject *kwds)
{
    char *kwlist[] = {"self", (char *)first, "reason", NULL};
    PyObject *inst, *a, *b, *t;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOO:__init__", kwlist, &inst, &a, &b))
        return NULL;
    (void)self;
    t = PyTuple_Pack(2, a, b);
    if (t == NULL)
        return NULL;
    if (PyObject_SetAttrString(inst, "args", t) < 0 ||
        PyObject_SetAttrString(inst, first, a) < 0 ||
        PyObject_SetAttrString(inst, "reason", b) < 0) {
        Py_DECREF(t);
        return NULL;
    }
    Py_DECREF(t);
    Py_RETURN_NONE;
}

static PyObject *
protocol_error_init(PyObject *self, PyObject *args, PyObject *kwds)
{
    return error_init(self, "code", args, kwds);
}

static PyObject *
handshake_error_init(PyObject *self, PyObject *args, PyObject *kwds)
{
    return error_init(self, "status", args, kwds);
}

/* __str__(self): the reason alone, as the stub promises. */
static PyObject *
error_str(PyObject *self, PyObject *inst)
{
    PyObject *reason = PyObject_GetAttrString(inst, "reason");
    PyObject *s;
    (void)self;
    if (reason == NULL)
        return NULL;
    s = PyObject_Str(reason);
    Py_DECREF(reason);
    return s;
}

static PyMethodDef protocol_error_init_def = {
    "__init__", (PyCFunction)(void (*)(void))protocol_error_init,
    METH_VARARGS | METH_KEYWORDS, NULL};
static PyMethodDef handshake_error_init_def = {
    "__init__", (PyCFunction)(void (*)(void))handshake_error_init,
    METH_VARARGS | METH_KEYWORDS, NULL};
static PyMethodDef error_str_def = {"__str__", error_str, METH_O, NULL};

/* A new exception class with a C __init__ and __str__. Plain C functions
   do not bind to instances, so they are wrapped in instancemethod. */
static PyObject *
new_error_class(const char *name, const char *doc, PyObject *base,
                PyMethodDef *init_def)
{
    PyObject *dict = PyDict_New(), *f, *m, *cls = NULL;
    PyMethodDef *defs[2] = {init_def, &error_str_def};
    int i;
    if (dict == NULL)
        return NULL;
    for (i = 0; i < 2; i++) {
        f = PyCFunction_New(defs[i], NULL);
        if (f == NULL)
            goto done;
        m = PyInstanceMethod_New(f);
        Py_DECREF(f);
        if (m == NULL)
            goto done;
        if (PyDict_SetItemString(dict, defs[i]->ml_name, m) < 0) {
            Py_DECREF(m);
            goto done;
        }
        Py_DECREF(m);
    }
    cls = PyErr_NewExceptionWithDoc(name, doc, base, dict);
done:
    Py_DECREF(dict);
    return cls;
}

/* ------------------------------------------------------------------ */
/* Masking and UTF-8                                                   */

static PyObject *
do_apply_mask(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, int inplace)
{
    static const char *const names[] = {"data", "mask_key", "offset"};
    const char *fname = inplace ? "apply_mask_inplace" : "apply_mask";
    PyObject *a[3], *result = NULL;
    Py_buffer data;
    uint8_t key[4];
    size_t offset = 0;
    uint8_t *dst;

    if (nargs == 2 && kwnames == NULL) {  /* fast path: (data, key) */
        a[0] = args[0];
        a[1] = args[1];
        a[2] = NULL;
    } else if (bind_args(fname, args, nargs, kwnames, names, 3, 3, 2, a) < 0) {
        return NULL;
    }
    if (a[2] != NULL) {
        /* offset % 4, for any int: reducing mod 2**64 keeps the residue. */
        PyObject *idx = PyNumber_Index(a[2]);
        unsigned long long v;
        if (idx == NULL)
            return NULL;
        v = PyLong_AsUnsignedLongLongMask(idx);
        Py_DECREF(idx);
        if (v == (unsigned long long)-1 && PyErr_Occurred())
            return NULL;
        offset = (size_t)(v & 3);
    }
    if (get_mask_key(a[1], key) <= 0) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "mask_key must be a 4-byte bytes-like object");
        return NULL;
    }
    if (!inplace && PyBytes_CheckExact(a[0])
            && PyBytes_GET_SIZE(a[0]) <= MASK_NOGIL_THRESHOLD) {
        /* Fast path for small bytes: no buffer export (immutable, and the
           GIL stays held). */
        Py_ssize_t n = PyBytes_GET_SIZE(a[0]);
        result = PyBytes_FromStringAndSize(NULL, n);
        if (result != NULL)
            ws_mask((uint8_t *)PyBytes_AS_STRING(result),
                    (const uint8_t *)PyBytes_AS_STRING(a[0]), (size_t)n, key, offset);
        return result;
    }
    if (PyObject_GetBuffer(a[0], &data, inplace ? PyBUF_WRITABLE : PyBUF_SIMPLE) < 0)
        return NULL;
    if (inplace) {
        dst = data.buf;
    } else {
        result = PyBytes_FromStringAndSize(NULL, data.len);
        if (result == NULL)
            goto done;
        dst = (uint8_t *)PyBytes_AS_STRING(result);
    }
    if (data.len > MASK_NOGIL_THRESHOLD) {
        /* `data` stays exported (Py_buffer held), so it cannot be resized
           or freed while we work without the GIL. */
        Py_BEGIN_ALLOW_THREADS
        ws_mask(dst, data.buf, (size_t)data.len, key, offset);
        Py_END_ALLOW_THREADS
    } else {
        ws_mask(dst, data.buf, (size_t)data.len, key, offset);
    }
    if (inplace) {
        Py_INCREF(Py_None);
        result = Py_None;
    }
done:
    PyBuffer_Release(&data);
    return result;
}

static PyObject *
apply_mask(PyObject *m, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    (void)m;
    return do_apply_mask(args, nargs, kwnames, 0);
}

static PyObject *
apply_mask_inplace(PyObject *m, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    (void)m;
    return do_apply_mask(args, nargs, kwnames, 1);
}

static PyObject *
validate_utf8(PyObject *m, PyObject *arg)
{
    Py_buffer view;
    int ok;
    (void)m;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    ok = ws_utf8_valid(view.buf, (size_t)view.len);
    PyBuffer_Release(&view);
    return PyBool_FromLong(ok);
}

/* ------------------------------------------------------------------ */
/* Frames                                                              */

static PyObject *
parse_close(PyObject *m, PyObject *arg)
{
    Py_buffer view;
    unsigned code;
    const char *why;
    int err;
    PyObject *reason, *r;
    (void)m;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    err = ws_check_close(view.buf, (size_t)view.len, &code, &why);
    if (err) {
        PyBuffer_Release(&view);
        if (err == 1002 && view.len >= 2) {  /* an invalid code: say which */
            char msg[64];
            PyOS_snprintf(msg, sizeof(msg), "%s %u", why, code);
            return raise_protocol_error(err, msg);
        }
        return raise_protocol_error(err, why);
    }
    if (view.len == 0)
        reason = PyUnicode_FromStringAndSize(NULL, 0);
    else
        reason = PyUnicode_DecodeUTF8((const char *)view.buf + 2, view.len - 2, "strict");
    PyBuffer_Release(&view);
    if (reason == NULL)
        return NULL;
    r = Py_BuildValue("(IN)", code, reason);
    return r;
}

/* Shared by build_frame and frame_header: checks, and the header bytes. */
static int
make_header(PyObject *opcode_obj, uint64_t len, PyObject *fin_obj, PyObject *rsv1_obj,
            const uint8_t *key, uint8_t hdr[WS_MAX_HEADER], size_t *hlen)
{
    long opcode = PyLong_AsLong(opcode_obj);
    int fin = opt_bool(fin_obj, 1), rsv1 = opt_bool(rsv1_obj, 0);
    const char *why;
    if (opcode == -1 && PyErr_Occurred())
        return -1;
    if (fin < 0 || rsv1 < 0)
        return -1;
    if (opcode < 0 || opcode > 0xf) {
        PyErr_Format(PyExc_ValueError, "unknown opcode %ld", opcode);
        return -1;
    }
    why = ws_frame_check((unsigned)opcode, fin, rsv1, len);
    if (why != NULL) {
        if (strcmp(why, "unknown opcode") == 0)
            PyErr_Format(PyExc_ValueError, "unknown opcode %ld", opcode);
        else
            PyErr_SetString(PyExc_ValueError, why);
        return -1;
    }
    *hlen = ws_frame_header(hdr, (unsigned)opcode, fin, rsv1, len, key);
    return 0;
}

/* The masking key for build_frame/build_close: explicit, random, or none.
   Returns 1 if masked, 0 if not, -1 on error. */
static int
choose_key(PyObject *mask_obj, PyObject *key_obj, uint8_t key[4])
{
    int mask, r = get_mask_key(key_obj, key);
    if (r != 0)
        return r;
    mask = opt_bool(mask_obj, 0);
    if (mask <= 0)
        return mask;
    return random_key(key) < 0 ? -1 : 1;
}

/* header + (masked) payload as one bytes object. */
static PyObject *
frame_bytes(const uint8_t *hdr, size_t hlen, const uint8_t *payload, size_t n,
            const uint8_t *key)
{
    PyObject *r = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(hlen + n));
    uint8_t *out;
    if (r == NULL)
        return NULL;
    out = (uint8_t *)PyBytes_AS_STRING(r);
    memcpy(out, hdr, hlen);
    if (key)
        ws_mask(out + hlen, payload, n, key, 0);
    else if (n)
        memcpy(out + hlen, payload, n);
    return r;
}

static PyObject *
build_frame(PyObject *m, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"opcode", "payload", "fin", "mask", "mask_key", "rsv1"};
    PyObject *a[6], *r = NULL;
    Py_buffer payload = {0};
    uint8_t key[4], hdr[WS_MAX_HEADER];
    size_t hlen;
    int masked;
    (void)m;

    if (bind_args("build_frame", args, nargs, kwnames, names, 6, 2, 1, a) < 0)
        return NULL;
    if (a[1] != NULL) {
        if (PyObject_GetBuffer(a[1], &payload, PyBUF_SIMPLE) < 0)
            return NULL;
    }
    masked = choose_key(a[3], a[4], key);
    if (masked < 0)
        goto done;
    if (make_header(a[0], (uint64_t)payload.len, a[2], a[5], masked ? key : NULL,
                    hdr, &hlen) < 0)
        goto done;
    r = frame_bytes(hdr, hlen, payload.buf, (size_t)payload.len, masked ? key : NULL);
done:
    if (payload.obj != NULL)
        PyBuffer_Release(&payload);
    return r;
}

static PyObject *
frame_header(PyObject *m, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"opcode", "length", "fin", "mask_key", "rsv1"};
    PyObject *a[5], *idx;
    uint8_t key[4], hdr[WS_MAX_HEADER];
    unsigned long long len;
    size_t hlen;
    int masked;
    (void)m;

    if (bind_args("frame_header", args, nargs, kwnames, names, 5, 2, 2, a) < 0)
        return NULL;
    idx = PyNumber_Index(a[1]);
    if (idx == NULL)
        return NULL;
    {
        int overflow;
        long long v = PyLong_AsLongLongAndOverflow(idx, &overflow);
        Py_DECREF(idx);
        if (v == -1 && PyErr_Occurred())
            return NULL;
        if (overflow < 0 || (overflow == 0 && v < 0)) {
            PyErr_SetString(PyExc_ValueError, "length must be >= 0");
            return NULL;
        }
        if (overflow > 0) {
            PyErr_SetString(PyExc_ValueError, "payload too long for a frame");
            return NULL;
        }
        len = (unsigned long long)v;
    }
    masked = get_mask_key(a[3], key);
    if (masked < 0)
        return NULL;
    if (make_header(a[0], len, a[2], a[4], masked ? key : NULL, hdr, &hlen) < 0)
        return NULL;
    return PyBytes_FromStringAndSize((const char *)hdr, (Py_ssize_t)hlen);
}

static PyObject *
build_close(PyObject *m, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"code", "reason", "mask", "mask_key"};
    PyObject *a[4], *r = NULL;
    uint8_t key[4], hdr[WS_MAX_HEADER], payload[WS_MAX_CONTROL];
    size_t hlen, n = 0;
    ws_str reason = {"", 0};
    Py_buffer view = {0};
    int masked;
    (void)m;

    if (bind_args("build_close", args, nargs, kwnames, names, 4, 2, 0, a) < 0)
        return NULL;
    if (a[1] != NULL && get_text(a[1], "reason", &reason, &view) < 0)
        return NULL;
    if (a[0] == Py_None) {
        if (reason.n) {
            PyErr_SetString(PyExc_ValueError, "a close frame without a code cannot have a reason");
            goto done;
        }
    } else {
        long code = a[0] == NULL ? 1000 : PyLong_AsLong(a[0]);
        if (code == -1 && PyErr_Occurred())
            goto done;
        if (code < 0 || code > 0xffff || !ws_close_code_valid((unsigned)code)) {
            PyErr_Format(PyExc_ValueError, "close code %ld may not be sent", code);
            goto done;
        }
        /* 125 bytes of control payload minus the 2-byte code. */
        if (reason.n > WS_MAX_CONTROL - 2) {
            PyErr_SetString(PyExc_ValueError, "close reason longer than 123 bytes");
            goto done;
        }
        if (!ws_utf8_valid((const uint8_t *)reason.p, reason.n)) {
            PyErr_SetString(PyExc_ValueError, "close reason is not valid UTF-8");
            goto done;
        }
        payload[0] = (uint8_t)(code >> 8);
        payload[1] = (uint8_t)code;
        memcpy(payload + 2, reason.p, reason.n);
        n = 2 + reason.n;
    }
    masked = choose_key(a[2], a[3], key);
    if (masked < 0)
        goto done;
    hlen = ws_frame_header(hdr, WS_OP_CLOSE, 1, 0, n, masked ? key : NULL);
    r = frame_bytes(hdr, hlen, payload, n, masked ? key : NULL);
done:
    release(&view);
    return r;
}

/* ------------------------------------------------------------------ */
/* Handshake                                                           */

static PyObject *
accept_key(PyObject *m, PyObject *arg)
{
    ws_str key;
    Py_buffer view;
    char out[WS_ACCEPT_LEN + 1];
    (void)m;
    if (get_text(arg, "key", &key, &view) < 0)
        return NULL;
    ws_accept_key(key.p, key.n, out);
    release(&view);
    return PyUnicode_FromStringAndSize(out, WS_ACCEPT_LEN);
}

static PyObject *
check_request(PyObject *m, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"method", "upgrade", "connection", "version", "key"};
    PyObject *a[5], *r = NULL;
    ws_str s[5];
    Py_buffer views[5];
    char accept[WS_ACCEPT_LEN + 1];
    const char *reason;
    int i, status;
    (void)m;

    if (bind_args("check_request", args, nargs, kwnames, names, 5, 5, 5, a) < 0)
        return NULL;
    for (i = 0; i < 5; i++)
        views[i].obj = NULL;
    for (i = 0; i < 5; i++) {
        s[i].p = NULL;
        s[i].n = 0;
        if (a[i] != Py_None && get_text(a[i], names[i], &s[i], &views[i]) < 0)
            goto done;
    }
    status = ws_check_request(s[0], s[1], s[2], s[3], s[4], accept, &reason);
    if (status)
        raise_handshake_error(status, reason);
    else
        r = PyUnicode_FromStringAndSize(accept, WS_ACCEPT_LEN);
done:
    for (i = 0; i < 5; i++)
        release(&views[i]);
    return r;
}

static PyObject *
select_subprotocol(PyObject *m, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"offered", "supported"};
    PyObject *a[2], *seq, *r = NULL;
    ws_str offered;
    Py_buffer view;
    Py_ssize_t i, n;
    (void)m;

    if (bind_args("select_subprotocol", args, nargs, kwnames, names, 2, 2, 2, a) < 0)
        return NULL;
    if (a[0] == Py_None)
        Py_RETURN_NONE;
    if (get_text(a[0], "offered", &offered, &view) < 0)
        return NULL;
    seq = PySequence_Fast(a[1], "supported must be a sequence of str");
    if (seq == NULL)
        goto done;
    n = PySequence_Fast_GET_SIZE(seq);
    for (i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        Py_ssize_t len;
        const char *p;
        if (!PyUnicode_Check(item)) {
            PyErr_Format(PyExc_TypeError, "supported subprotocols must be str, not %.100s",
                         Py_TYPE(item)->tp_name);
            goto done;
        }
        p = PyUnicode_AsUTF8AndSize(item, &len);
        if (p == NULL)
            goto done;
        /* Subprotocol names are compared exactly (RFC 6455 section 4.1). */
        if (ws_token_list_has(offered.p, offered.n, p, (size_t)len, 0)) {
            Py_INCREF(item);
            r = item;
            goto done;
        }
    }
    Py_INCREF(Py_None);
    r = Py_None;
done:
    Py_XDECREF(seq);
    release(&view);
    return r;
}

/* A header field as bytes: str is encoded as ISO-8859-1 (what HTTP/1.1
   and WSGI use), bytes pass as they are. CR, LF and NUL are refused. */
static PyObject *
header_bytes(PyObject *o, const char *what)
{
    PyObject *b;
    if (PyUnicode_Check(o)) {
        b = PyUnicode_AsLatin1String(o);
        if (b == NULL)
            return NULL;
    } else if (PyBytes_Check(o)) {
        Py_INCREF(o);
        b = o;
    } else {
        PyErr_Format(PyExc_TypeError, "%s must be str, not %.100s", what, Py_TYPE(o)->tp_name);
        return NULL;
    }
    if (!ws_header_safe(PyBytes_AS_STRING(b), (size_t)PyBytes_GET_SIZE(b))) {
        PyErr_Format(PyExc_ValueError, "%s contains CR, LF or NUL", what);
        Py_DECREF(b);
        return NULL;
    }
    return b;
}

static const char RESPONSE_HEAD[] =
    "HTTP/1.1 101 Switching Protocols\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Accept: ";

static PyObject *
build_response(PyObject *m, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"accept", "subprotocol", "extra_headers"};
    PyObject *a[3], *parts = NULL, *seq = NULL, *r = NULL, *b;
    Py_ssize_t i, n, total;
    char *out;
    (void)m;

    if (bind_args("build_response", args, nargs, kwnames, names, 3, 3, 1, a) < 0)
        return NULL;
    /* parts = [accept, subprotocol or None, name0, value0, name1, ...] */
    parts = PyList_New(0);
    if (parts == NULL)
        return NULL;
    if ((b = header_bytes(a[0], "accept")) == NULL || PyList_Append(parts, b) < 0)
        goto fail_b;
    Py_DECREF(b);
    if (a[1] == NULL || a[1] == Py_None) {
        if (PyList_Append(parts, Py_None) < 0)
            goto done;
    } else {
        if ((b = header_bytes(a[1], "subprotocol")) == NULL || PyList_Append(parts, b) < 0)
            goto fail_b;
        Py_DECREF(b);
    }
    if (a[2] != NULL) {
        seq = PySequence_Fast(a[2], "extra_headers must be a sequence of (name, value)");
        if (seq == NULL)
            goto done;
        n = PySequence_Fast_GET_SIZE(seq);
        for (i = 0; i < n; i++) {
            PyObject *pair = PySequence_Fast_GET_ITEM(seq, i);
            if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
                PyErr_SetString(PyExc_TypeError, "extra_headers items must be (name, value) tuples");
                goto done;
            }
            if ((b = header_bytes(PyTuple_GET_ITEM(pair, 0), "header name")) == NULL ||
                PyList_Append(parts, b) < 0)
                goto fail_b;
            Py_DECREF(b);
            if ((b = header_bytes(PyTuple_GET_ITEM(pair, 1), "header value")) == NULL ||
                PyList_Append(parts, b) < 0)
                goto fail_b;
            Py_DECREF(b);
        }
    }

    n = PyList_GET_SIZE(parts);
    total = (Py_ssize_t)sizeof(RESPONSE_HEAD) - 1 + 2 + 2;  /* head, CRLF, final CRLF */
    for (i = 0; i < n; i++) {
        PyObject *p = PyList_GET_ITEM(parts, i);
        if (p == Py_None)
            continue;
        total += PyBytes_GET_SIZE(p);
        if (i == 1)
            total += (Py_ssize_t)sizeof("Sec-WebSocket-Protocol: \r\n") - 1;
        else if (i >= 2)
            total += 2;  /* ": " after a name, CRLF after a value */
    }
    r = PyBytes_FromStringAndSize(NULL, total);
    if (r == NULL)
        goto done;
    out = PyBytes_AS_STRING(r);
#define PUT(p, len) (memcpy(out, (p), (size_t)(len)), out += (len))
#define PUTB(o) PUT(PyBytes_AS_STRING(o), PyBytes_GET_SIZE(o))
    PUT(RESPONSE_HEAD, sizeof(RESPONSE_HEAD) - 1);
    PUTB(PyList_GET_ITEM(parts, 0));
    PUT("\r\n", 2);
    if (PyList_GET_ITEM(parts, 1) != Py_None) {
        PUT("Sec-WebSocket-Protocol: ", 24);
        PUTB(PyList_GET_ITEM(parts, 1));
        PUT("\r\n", 2);
    }
    for (i = 2; i < n; i += 2) {
        PUTB(PyList_GET_ITEM(parts, i));
        PUT(": ", 2);
        PUTB(PyList_GET_ITEM(parts, i + 1));
        PUT("\r\n", 2);
    }
    PUT("\r\n", 2);
#undef PUTB
#undef PUT
    goto done;
fail_b:
    Py_XDECREF(b);
done:
    Py_XDECREF(seq);
    Py_DECREF(parts);
    return r;
}

/* permessage-deflate negotiation: the C parser, the response, and the
   agreed parameters as a dict (what FrameParser and FrameEncoder take). */
static PyObject *
negotiate_deflate(PyObject *m, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {
        "offer", "server_max_window_bits", "client_max_window_bits",
        "server_no_context_takeover", "client_no_context_takeover"};
    PyObject *a[5], *params;
    ws_pmd_config cfg;
    ws_pmd_params prm;
    ws_str offer;
    Py_buffer view;
    char resp[WS_PMD_RESPONSE_MAX];
    size_t rlen;
    int i, accepted, *bits[2];
    (void)m;

    if (bind_args("negotiate_deflate", args, nargs, kwnames, names, 5, 1, 1, a) < 0)
        return NULL;
    cfg.server_max_window_bits = cfg.client_max_window_bits = 15;
    bits[0] = &cfg.server_max_window_bits;
    bits[1] = &cfg.client_max_window_bits;
    for (i = 0; i < 2; i++) {
        long v;
        if (a[1 + i] == NULL)
            continue;
        v = PyLong_AsLong(a[1 + i]);
        if (v == -1 && PyErr_Occurred())
            return NULL;
        if (v < 9 || v > 15) {
            PyErr_Format(PyExc_ValueError, "%s must be in 9..15, not %ld", names[1 + i], v);
            return NULL;
        }
        *bits[i] = (int)v;
    }
    if ((cfg.server_no_context_takeover = opt_bool(a[3], 1)) < 0 ||
        (cfg.client_no_context_takeover = opt_bool(a[4], 0)) < 0)
        return NULL;
    if (a[0] == Py_None)
        Py_RETURN_NONE;
    if (get_text(a[0], "offer", &offer, &view) < 0)
        return NULL;
    accepted = ws_pmd_negotiate(offer.p, offer.n, &cfg, &prm);
    release(&view);
    if (!accepted)
        Py_RETURN_NONE;
    rlen = ws_pmd_response(&prm, resp);
    params = Py_BuildValue("{s:i,s:i,s:O,s:O}",
                           "server_max_window_bits", prm.server_max_window_bits,
                           "client_max_window_bits", prm.client_max_window_bits,
                           "server_no_context_takeover",
                           prm.server_no_context_takeover ? Py_True : Py_False,
                           "client_no_context_takeover",
                           prm.client_no_context_takeover ? Py_True : Py_False);
    if (params == NULL)
        return NULL;
    return Py_BuildValue("(s#N)", resp, (Py_ssize_t)rlen, params);
}

/* ------------------------------------------------------------------ */
/* SHA-1 and base64, exposed for tests                                 */

static PyObject *
py_sha1(PyObject *m, PyObject *arg)
{
    Py_buffer view;
    uint8_t out[WS_SHA1_DIGEST];
    (void)m;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    ws_sha1(view.buf, (size_t)view.len, out);
    PyBuffer_Release(&view);
    return PyBytes_FromStringAndSize((const char *)out, WS_SHA1_DIGEST);
}

static PyObject *
py_base64_encode(PyObject *m, PyObject *arg)
{
    Py_buffer view;
    PyObject *r = NULL;
    (void)m;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    if ((size_t)view.len > ((size_t)PY_SSIZE_T_MAX / 4) * 3 - 2) {
        PyErr_NoMemory();
        goto done;
    }
    r = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)WS_B64_ENCODED_LEN((size_t)view.len));
    if (r != NULL)
        ws_base64_encode(view.buf, (size_t)view.len, PyBytes_AS_STRING(r));
done:
    PyBuffer_Release(&view);
    return r;
}

static PyObject *
py_base64_decode(PyObject *m, PyObject *arg)
{
    ws_str s;
    Py_buffer view;
    PyObject *r;
    ptrdiff_t n;
    (void)m;
    if (get_text(arg, "data", &s, &view) < 0)
        return NULL;
    r = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(s.n / 4 * 3));
    if (r == NULL)
        goto done;
    n = ws_base64_decode(s.p, s.n, (uint8_t *)PyBytes_AS_STRING(r));
    if (n < 0) {
        Py_CLEAR(r);
        PyErr_SetString(PyExc_ValueError, "invalid base64");
        goto done;
    }
    if (n != PyBytes_GET_SIZE(r))
        _PyBytes_Resize(&r, (Py_ssize_t)n);  /* shrinking: r is NULL on failure */
done:
    release(&view);
    return r;
}

/* ------------------------------------------------------------------ */
/* Module                                                              */

#define FASTCALL_KW (METH_FASTCALL | METH_KEYWORDS)
#define FASTFN(f) (PyCFunction)(void (*)(void))(f)

static PyMethodDef core_methods[] = {
    {"parse_close", parse_close, METH_O,
     "parse_close(payload, /)\n--\n\nValidate a close payload; return (code, reason)."},
    {"build_frame", FASTFN(build_frame), FASTCALL_KW,
     "build_frame(opcode, payload=b'', *, fin=True, mask=False, mask_key=None, rsv1=False)\n"
     "--\n\nBuild one frame."},
    {"frame_header", FASTFN(frame_header), FASTCALL_KW,
     "frame_header(opcode, length, *, fin=True, mask_key=None, rsv1=False)\n"
     "--\n\nJust the header of a frame of `length` payload bytes."},
    {"build_close", FASTFN(build_close), FASTCALL_KW,
     "build_close(code=1000, reason='', *, mask=False, mask_key=None)\n--\n\nA close frame."},
    {"apply_mask", FASTFN(apply_mask), FASTCALL_KW,
     "apply_mask(data, mask_key, offset=0)\n--\n\n`data` XOR the 4-byte key, as new bytes."},
    {"apply_mask_inplace", FASTFN(apply_mask_inplace), FASTCALL_KW,
     "apply_mask_inplace(data, mask_key, offset=0)\n--\n\nThe same, in place."},
    {"validate_utf8", validate_utf8, METH_O,
     "validate_utf8(data, /)\n--\n\nTrue when data is well-formed UTF-8."},
    {"accept_key", accept_key, METH_O,
     "accept_key(key, /)\n--\n\nSec-WebSocket-Accept for a Sec-WebSocket-Key."},
    {"check_request", FASTFN(check_request), FASTCALL_KW,
     "check_request(method, upgrade, connection, version, key)\n--\n\n"
     "Validate a client's opening handshake; return the accept key."},
    {"select_subprotocol", FASTFN(select_subprotocol), FASTCALL_KW,
     "select_subprotocol(offered, supported)\n--\n\n"
     "The first of `supported` that the client offered, or None."},
    {"build_response", FASTFN(build_response), FASTCALL_KW,
     "build_response(accept, subprotocol=None, extra_headers=())\n--\n\n"
     "The exact bytes of the 101 response."},
    {"negotiate_deflate", FASTFN(negotiate_deflate), FASTCALL_KW,
     "negotiate_deflate(offer, *, server_max_window_bits=15, client_max_window_bits=15,\n"
     "                  server_no_context_takeover=True, client_no_context_takeover=False)\n"
     "--\n\n"
     "Accept the first acceptable permessage-deflate offer of a\n"
     "Sec-WebSocket-Extensions value: (response header value, parameters),\n"
     "or None when no offer is acceptable."},
    {"sha1", py_sha1, METH_O, "sha1(data, /)\n--\n\nSHA-1 digest (20 bytes)."},
    {"base64_encode", py_base64_encode, METH_O,
     "base64_encode(data, /)\n--\n\nStandard base64 with padding."},
    {"base64_decode", py_base64_decode, METH_O,
     "base64_decode(data, /)\n--\n\nStrict standard base64; ValueError if invalid."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "dwebsocket_c._core",
    .m_doc = "RFC 6455 protocol core (sans-I/O), written in C.",
    .m_size = -1,
    .m_methods = core_methods,
};

static const struct {
    const char *name;
    long value;
} constants[] = {
    {"OP_CONTINUATION", WS_OP_CONT},
    {"OP_TEXT", WS_OP_TEXT},
    {"OP_BINARY", WS_OP_BINARY},
    {"OP_CLOSE", WS_OP_CLOSE},
    {"OP_PING", WS_OP_PING},
    {"OP_PONG", WS_OP_PONG},
    {"FLAG_RSV1", 0x40},
    {"CLOSE_NORMAL", 1000},
    {"CLOSE_GOING_AWAY", 1001},
    {"CLOSE_PROTOCOL_ERROR", 1002},
    {"CLOSE_UNSUPPORTED_DATA", 1003},
    {"CLOSE_NO_STATUS", 1005},
    {"CLOSE_ABNORMAL", 1006},
    {"CLOSE_INVALID_DATA", 1007},
    {"CLOSE_POLICY_VIOLATION", 1008},
    {"CLOSE_MESSAGE_TOO_BIG", 1009},
    {"CLOSE_MANDATORY_EXTENSION", 1010},
    {"CLOSE_INTERNAL_ERROR", 1011},
};

/* PyModule_AddObject steals only on success; this always steals. */
static int
add_object(PyObject *mod, const char *name, PyObject *o)
{
    if (o == NULL)
        return -1;
    if (PyModule_AddObject(mod, name, o) < 0) {
        Py_DECREF(o);
        return -1;
    }
    return 0;
}

PyMODINIT_FUNC
PyInit__core(void)
{
    PyObject *mod;
    size_t i;

    ws_mask_init();
    if (PyType_Ready(&ws_FrameParserType) < 0 || PyType_Ready(&ws_Utf8ValidatorType) < 0 ||
        PyType_Ready(&ws_FrameEncoderType) < 0)
        return NULL;
    ws_encoder_setup();
    mod = PyModule_Create(&core_module);
    if (mod == NULL)
        return NULL;
    for (i = 0; i < sizeof(constants) / sizeof(constants[0]); i++)
        if (PyModule_AddIntConstant(mod, constants[i].name, constants[i].value) < 0)
            goto fail;
    if (PyModule_AddStringConstant(mod, "_mask_impl", ws_mask_impl()) < 0)
        goto fail;

    /* Single-phase init: the classes live as long as the process. */
    if (ws_WebSocketError == NULL) {
        ws_WebSocketError = PyErr_NewExceptionWithDoc(
            "dwebsocket_c._core.WebSocketError",
            "Base class of every error raised by the protocol core.",
            PyExc_Exception, NULL);
        if (ws_WebSocketError == NULL)
            goto fail;
        ws_ProtocolError = new_error_class(
            "dwebsocket_c._core.ProtocolError",
            "ProtocolError(code, reason): the peer broke RFC 6455; fail the\n"
            "connection with close code `code`. str(exc) is `reason`.",
            ws_WebSocketError, &protocol_error_init_def);
        if (ws_ProtocolError == NULL)
            goto fail;
        ws_HandshakeError = new_error_class(
            "dwebsocket_c._core.HandshakeError",
            "HandshakeError(status, reason): the opening handshake is refused\n"
            "with HTTP `status` (400, or 426 for an unsupported version).",
            ws_WebSocketError, &handshake_error_init_def);
        if (ws_HandshakeError == NULL)
            goto fail;
    }
    Py_INCREF(ws_WebSocketError);
    if (add_object(mod, "WebSocketError", ws_WebSocketError) < 0)
        goto fail;
    Py_INCREF(ws_ProtocolError);
    if (add_object(mod, "ProtocolError", ws_ProtocolError) < 0)
        goto fail;
    Py_INCREF(ws_HandshakeError);
    if (add_object(mod, "HandshakeError", ws_HandshakeError) < 0)
        goto fail;
    Py_INCREF(&ws_FrameParserType);
    if (add_object(mod, "FrameParser", (PyObject *)&ws_FrameParserType) < 0)
        goto fail;
    Py_INCREF(&ws_FrameEncoderType);
    if (add_object(mod, "FrameEncoder", (PyObject *)&ws_FrameEncoderType) < 0)
        goto fail;
    if (PyModule_AddStringConstant(mod, "ZLIB_VERSION", zlibVersion()) < 0)
        goto fail;
    Py_INCREF(&ws_Utf8ValidatorType);
    if (add_object(mod, "Utf8Validator", (PyObject *)&ws_Utf8ValidatorType) < 0)
        goto fail;
    if (ws_message_types_add(mod) < 0 || ws_connection_add(mod) < 0)
        goto fail;
    return mod;
fail:
    Py_DECREF(mod);
    return NULL;
}
