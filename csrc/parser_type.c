/* FrameParser: the Python type around the pure-C wsparse state machine.

   Payload bytes are unmasked by wsparse straight from the fed chunk into a
   bytes object that becomes the event's payload: one copy per byte. A
   single-frame message gets a bytes object of exactly the frame's length;
   a fragmented one grows the same bytes object with _PyBytes_Resize. */
#include "core.h"

#include "parser_api.h"
#include "pmd.h"
#include "utf8.h"
#include "wsparse.h"

/* Compressed payload is unmasked into a buffer on the stack of feed() this
   big, then inflated from there into the message. */
#define INFLATE_SCRATCH 16384

/* Inflating releases the GIL when this much output room is at stake. */
#define INFLATE_NOGIL_THRESHOLD (64 * 1024)

/* With no size limit, never trust a declared length for pre-allocation:
   allocate at most this much beyond what has actually arrived. */
#define UNLIMITED_PREALLOC ((uint64_t)1 << 20)

typedef struct {
    PyObject_HEAD
    ws_parser p;
    int limited;       /* max_message_size is not None */
    int busy;          /* inside feed(): refuse re-entrant calls */
    PyObject *buf;     /* bytes being filled with the current message, or NULL */
    Py_ssize_t cap;    /* its size */
    PyObject *events;  /* list of (opcode, payload) tuples; [head:] are pending */
    Py_ssize_t head;
    PyObject *error;   /* the ProtocolError, made on first use once failed */

    /* permessage-deflate: RSV1 messages are inflated into buf. */
    int inflating;       /* negotiated */
    ws_inflater inf;
    int zactive;         /* the current message is compressed */
    uint64_t zfed;       /* its compressed bytes inflated so far */
    Py_ssize_t zlen;     /* its inflated bytes in buf */
    uint32_t zutf8;      /* UTF-8 state of its inflated text */
} FrameParser;

/* Supports GC because of `error`: an exception whose __traceback__ holds
   frames, one of which may hold this parser. The other members cannot be
   in a cycle (a private list of (int, bytes) tuples, and a bytes object),
   so they are neither visited nor cleared: the parser stays usable even
   if a finalizer reaches it after tp_clear. */
static int
parser_traverse(FrameParser *self, visitproc visit, void *arg)
{
    Py_VISIT(self->error);
    return 0;
}

static int
parser_clear(FrameParser *self)
{
    Py_CLEAR(self->error);
    return 0;
}

static void
parser_dealloc(FrameParser *self)
{
    PyObject_GC_UnTrack(self);
    Py_CLEAR(self->error);
    Py_CLEAR(self->events);
    Py_CLEAR(self->buf);
    ws_inflater_free(&self->inf);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
parser_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    FrameParser *self = (FrameParser *)type->tp_alloc(type, 0);
    (void)args;
    (void)kwds;
    if (self == NULL)
        return NULL;
    /* Usable even if a subclass forgets to call __init__. */
    ws_parser_init(&self->p, 1 << 20, 0, 0);
    self->limited = 1;
    self->events = PyList_New(0);
    if (self->events == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static int
parser_init(FrameParser *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"max_message_size", "client_side", "allow_rsv1", "deflate", NULL};
    PyObject *max_obj = NULL, *deflate = NULL, *events;
    int window_bits = 15, no_takeover = 0;
    int client_side = 0, allow_rsv1 = 0;
    uint64_t max_size = (uint64_t)PY_SSIZE_T_MAX;
    int limited = 0;

    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "FrameParser re-initialized during feed()");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|$OppO:FrameParser", kwlist,
                                     &max_obj, &client_side, &allow_rsv1, &deflate))
        return -1;
    if (deflate == Py_None)
        deflate = NULL;
    /* The peer's compressor: the client's, or the server's on a client. */
    if (deflate != NULL &&
        ws_deflate_params_get(deflate, client_side ? "server" : "client",
                              &window_bits, &no_takeover) < 0)
        return -1;
    if (max_obj == NULL) {
        max_size = 1 << 20;
        limited = 1;
    } else if (max_obj != Py_None) {
        Py_ssize_t v = PyNumber_AsSsize_t(max_obj, PyExc_OverflowError);
        if (v == -1 && PyErr_Occurred())
            return -1;
        if (v < 0) {
            PyErr_SetString(PyExc_ValueError, "max_message_size must be >= 0 or None");
            return -1;
        }
        max_size = (uint64_t)v;
        limited = 1;
    }
    events = PyList_New(0);
    if (events == NULL)
        return -1;
    /* __init__ may be called again: start over. */
    Py_XSETREF(self->events, events);
    Py_CLEAR(self->error);
    Py_CLEAR(self->buf);
    self->cap = 0;
    self->head = 0;
    self->limited = limited;
    ws_parser_init(&self->p, max_size, client_side, allow_rsv1 || deflate != NULL);
    ws_inflater_free(&self->inf);
    ws_inflater_init(&self->inf, window_bits, no_takeover);
    self->inflating = deflate != NULL;
    self->zactive = 0;
    if (self->inflating) {
        /* The inflated size is checked as it grows; the wire size of an
           incompressible message is a little over it. */
        uint64_t slack = (max_size >> 6) + 1024;
        self->p.max_compressed = max_size > UINT64_MAX - slack ? UINT64_MAX : max_size + slack;
    }
    return 0;
}

/* Fail the stream from our side (out of memory). */
static void
parser_abort(FrameParser *self, const char *reason)
{
    ws_parser_abort(&self->p, 1011, reason);
    Py_CLEAR(self->buf);
    self->cap = 0;
}

/* Give wsparse room for the payload waiting in the current frame. */
static int
parser_grow(FrameParser *self)
{
    ws_parser *p = &self->p;
    uint64_t need = p->msg_len + p->remaining;  /* exact if this frame is the last */
    uint64_t cap = (uint64_t)self->cap, target = need;
    Py_ssize_t size;

    if (!p->fin && cap * 2 > target)
        target = cap * 2;  /* more fragments will follow: grow geometrically */
    if (!self->limited) {
        /* Unlimited: a hostile header must not make us allocate; allocate
           a bounded amount past what has arrived, doubling as data comes. */
        uint64_t ahead = cap > UNLIMITED_PREALLOC ? cap : UNLIMITED_PREALLOC;
        if (target > p->msg_len + ahead)
            target = p->msg_len + ahead;
    }
    if (target > p->max_size)
        target = p->max_size;  /* max_size <= PY_SSIZE_T_MAX */
    size = (Py_ssize_t)target;

    if (self->buf == NULL) {
        self->buf = PyBytes_FromStringAndSize(NULL, size);
        if (self->buf == NULL)
            return -1;
    } else if (_PyBytes_Resize(&self->buf, size) < 0) {
        return -1;  /* buf was freed and set to NULL */
    }
    self->cap = size;
    p->out = (uint8_t *)PyBytes_AS_STRING(self->buf) + p->msg_len;
    p->out_room = (size_t)(target - p->msg_len);
    return 0;
}

static int
parser_push(FrameParser *self, long opcode, PyObject *payload)
{
    PyObject *op, *ev;
    int r;
    if (payload == NULL)
        return -1;
    op = PyLong_FromLong(opcode);
    if (op == NULL) {
        Py_DECREF(payload);
        return -1;
    }
    ev = PyTuple_New(2);
    if (ev == NULL) {
        Py_DECREF(op);
        Py_DECREF(payload);
        return -1;
    }
    PyTuple_SET_ITEM(ev, 0, op);
    PyTuple_SET_ITEM(ev, 1, payload);
    r = PyList_Append(self->events, ev);
    Py_DECREF(ev);
    return r;
}

/* The message just completed, as a bytes object of its exact size. */
static PyObject *
parser_take_message(FrameParser *self)
{
    PyObject *msg = self->buf;
    Py_ssize_t len = (Py_ssize_t)self->p.ev_len;
    self->buf = NULL;
    self->cap = 0;
    if (msg == NULL)
        return PyBytes_FromStringAndSize(NULL, 0);
    if (Py_SIZE(msg) != len && _PyBytes_Resize(&msg, len) < 0)
        return NULL;
    return msg;
}

/* The stream fails while inflating: the message being built is dropped. */
static int
parser_zfail(FrameParser *self, int code, const char *reason)
{
    ws_parser_abort(&self->p, code, reason);
    Py_CLEAR(self->buf);
    self->cap = 0;
    self->zactive = 0;
    ws_inflater_free(&self->inf);
    return 1;
}

/* A compressed message starts. */
static void
parser_zbegin(FrameParser *self)
{
    self->zactive = 1;
    self->zfed = 0;
    self->zlen = 0;
    self->zutf8 = WS_UTF8_ACCEPT;
    Py_CLEAR(self->buf);
    self->cap = 0;
}

/* Inflate in[0..n) at the end of buf, growing it up to max_message_size
   + 1 bytes: one byte over the limit is refused (1009) before zlib may
   write more. UTF-8 is checked as the text comes out. Returns 0, 1 when
   the stream failed, -1 with a Python exception. */
static int
parser_inflate(FrameParser *self, const uint8_t *in, size_t n)
{
    uint64_t limit = self->p.max_size;
    Py_ssize_t hard = limit >= (uint64_t)PY_SSIZE_T_MAX ? PY_SSIZE_T_MAX : (Py_ssize_t)limit + 1;
    int text = self->p.msg_opcode == WS_OP_TEXT;

    for (;;) {
        size_t in_used, out_used, room;
        uint8_t *out;
        enum ws_inflate_result r;
        if (self->buf == NULL || self->zlen == self->cap) {
            Py_ssize_t cap = self->cap < 8192 ? 16384 : self->cap > hard / 2 ? hard : self->cap * 2;
            if (cap > hard)
                cap = hard;
            if (cap <= self->zlen)
                return parser_zfail(self, 1011, "inflated message too large for memory");
            if (self->buf == NULL)
                self->buf = PyBytes_FromStringAndSize(NULL, cap);
            else
                (void)_PyBytes_Resize(&self->buf, cap);
            if (self->buf == NULL) {
                self->cap = 0;
                return -1;
            }
            self->cap = cap;
        }
        out = (uint8_t *)PyBytes_AS_STRING(self->buf) + self->zlen;
        room = (size_t)(self->cap - self->zlen);
        if (room >= INFLATE_NOGIL_THRESHOLD || n >= INFLATE_NOGIL_THRESHOLD / 4) {
            /* buf and the input are ours alone while `busy` is set. */
            Py_BEGIN_ALLOW_THREADS
            r = ws_inflate(&self->inf, in, n, &in_used, out, room, &out_used);
            Py_END_ALLOW_THREADS
        } else {
            r = ws_inflate(&self->inf, in, n, &in_used, out, room, &out_used);
        }
        if (text && out_used) {
            self->zutf8 = ws_utf8_feed(self->zutf8, out, out_used);
            if (self->zutf8 == WS_UTF8_REJECT)
                return parser_zfail(self, 1007, "text message is not valid UTF-8 (after inflating)");
        }
        self->zlen += (Py_ssize_t)out_used;
        in += in_used;
        n -= in_used;
        if ((uint64_t)self->zlen > limit) {
            char why[96];
            PyOS_snprintf(why, sizeof(why),
                          "message exceeds the limit of %llu bytes once inflated",
                          (unsigned long long)limit);
            return parser_zfail(self, 1009, why);
        }
        if (r == WS_INF_BAD)
            return parser_zfail(self, 1007, "invalid compressed data (permessage-deflate)");
        if (r == WS_INF_NOMEM) {
            PyErr_NoMemory();
            return -1;
        }
        if (r == WS_INF_OK)
            return 0;
    }
}

/* feed() without the Python argument: also the C entry point of the
   connection's hot path (parser_api.h). 0, or -1 with an exception set. */
int
ws_frameparser_feed(PyObject *obj, const uint8_t *data, size_t len)
{
    FrameParser *self = (FrameParser *)obj;
    uint8_t scratch[INFLATE_SCRATCH];
    int zr;

    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "FrameParser.feed() called re-entrantly");
        return -1;
    }
    self->busy = 1;
    for (;;) {
        size_t used;
        enum ws_result r = ws_parse(&self->p, data, len, &used);
        data += used;
        len -= used;
        if (self->zactive && r != WS_ERROR) {
            /* Compressed bytes unmasked into scratch since the last call. */
            uint64_t total = r == WS_MESSAGE ? self->p.ev_len : self->p.msg_len;
            size_t fresh = (size_t)(total - self->zfed);
            self->zfed = total;
            self->p.out = scratch;
            self->p.out_room = sizeof(scratch);
            if (fresh && (zr = parser_inflate(self, scratch, fresh)) != 0) {
                if (zr < 0)
                    goto nomem;
                goto done;
            }
        }
        switch (r) {
        case WS_NEED_INPUT:
            goto done;
        case WS_NEED_SPACE:
            if (self->inflating && self->p.msg_rsv1) {
                if (!self->zactive)
                    parser_zbegin(self);
                self->p.out = scratch;
                self->p.out_room = sizeof(scratch);
            } else if (parser_grow(self) < 0) {
                goto nomem;
            }
            break;
        case WS_MESSAGE:
            if (self->inflating && self->p.ev_rsv1) {
                PyObject *msg;
                if (!self->zactive)
                    parser_zbegin(self);
                /* An empty payload is an empty message: the tail alone is
                   not a whole block, and would corrupt the next message. */
                if (self->p.ev_len > 0 && !self->inf.after_final) {
                    zr = parser_inflate(self, ws_pmd_tail, sizeof(ws_pmd_tail));
                    if (zr < 0)
                        goto nomem;
                    if (zr > 0)
                        goto done;
                    if (!ws_inflater_at_block_boundary(&self->inf)) {
                        parser_zfail(self, 1007, "compressed message ends inside a deflate block");
                        goto done;
                    }
                }
                if (self->p.ev_opcode == WS_OP_TEXT && self->zutf8 != WS_UTF8_ACCEPT) {
                    parser_zfail(self, 1007, "text message is not valid UTF-8: it ends inside a character");
                    goto done;
                }
                ws_inflater_end_message(&self->inf);
                self->zactive = 0;
                self->p.out = NULL;
                self->p.out_room = 0;
                msg = self->buf;
                self->buf = NULL;
                self->cap = 0;
                if (msg == NULL)
                    msg = PyBytes_FromStringAndSize(NULL, 0);
                else if (Py_SIZE(msg) != self->zlen && _PyBytes_Resize(&msg, self->zlen) < 0)
                    msg = NULL;
                if (parser_push(self, (long)self->p.ev_opcode, msg) < 0)
                    goto nomem;
                break;
            }
            if (parser_push(self, (long)self->p.ev_opcode | (self->p.ev_rsv1 ? 0x40 : 0),
                            parser_take_message(self)) < 0)
                goto nomem;
            break;
        case WS_CONTROL:
            if (parser_push(self, (long)self->p.ev_opcode,
                            PyBytes_FromStringAndSize((const char *)self->p.ctrl,
                                                      self->p.ctrl_len)) < 0)
                goto nomem;
            break;
        case WS_ERROR:
            Py_CLEAR(self->buf);  /* the partial message is dropped */
            self->cap = 0;
            self->zactive = 0;
            goto done;
        }
    }
nomem:
    /* Only allocation fails here: the stream cannot go on. Raise the
       MemoryError now; iteration will report 1011 afterwards. */
    parser_abort(self, "out of memory while parsing a frame");
    self->zactive = 0;
    self->busy = 0;
    return -1;
done:
    if (self->zactive) {
        /* scratch dies with this call: the next bytes ask for space. */
        self->p.out = NULL;
        self->p.out_room = 0;
    }
    self->busy = 0;
    return 0;
}

static PyObject *
parser_feed(FrameParser *self, PyObject *arg)
{
    Py_buffer view;
    int r;

    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    r = ws_frameparser_feed((PyObject *)self, view.buf, (size_t)view.len);
    PyBuffer_Release(&view);
    if (r < 0)
        return NULL;
    Py_RETURN_NONE;
}

int
ws_frameparser_peek(PyObject *obj)
{
    FrameParser *self = (FrameParser *)obj;
    PyObject *ev;

    if (self->head >= PyList_GET_SIZE(self->events))
        return ws_parser_failed(&self->p) ? WS_PEEK_FAILED : WS_PEEK_NONE;
    ev = PyList_GET_ITEM(self->events, self->head);
    return (int)PyLong_AsLong(PyTuple_GET_ITEM(ev, 0));
}

PyObject *
ws_frameparser_next(PyObject *obj)
{
    return Py_TYPE(obj)->tp_iternext(obj);
}

/* The stored ProtocolError, created when first needed; NULL if not failed
   (no exception set) or on error (exception set). */
static PyObject *
parser_get_error(FrameParser *self)
{
    if (self->error == NULL && ws_parser_failed(&self->p))
        self->error = ws_new_protocol_error(self->p.error_code, self->p.error_reason);
    return self->error;
}

static PyObject *
parser_iternext(FrameParser *self)
{
    Py_ssize_t n = PyList_GET_SIZE(self->events);
    PyObject *err;

    if (self->head < n) {
        /* Take the list's reference; leave None in the slot. */
        PyObject *ev = PyList_GET_ITEM(self->events, self->head);
        Py_INCREF(Py_None);
        PyList_SET_ITEM(self->events, self->head, Py_None);
        if (++self->head == n) {
            self->head = 0;
            if (PyList_SetSlice(self->events, 0, n, NULL) < 0) {
                Py_DECREF(ev);
                return NULL;
            }
        }
        return ev;
    }
    err = parser_get_error(self);
    if (err != NULL) {
        /* Re-raising one instance would chain tracebacks without end. */
        PyException_SetTraceback(err, Py_None);
        PyErr_SetObject((PyObject *)Py_TYPE(err), err);
    }
    return NULL;  /* StopIteration when no exception is set */
}

static PyObject *
parser_get_pending(FrameParser *self, void *closure)
{
    (void)closure;
    return PyLong_FromSsize_t(PyList_GET_SIZE(self->events) - self->head);
}

static PyObject *
parser_get_close_received(FrameParser *self, void *closure)
{
    (void)closure;
    return PyBool_FromLong(ws_parser_closed(&self->p));
}

static PyObject *
parser_get_error_prop(FrameParser *self, void *closure)
{
    PyObject *err;
    (void)closure;
    err = parser_get_error(self);
    if (err == NULL) {
        if (PyErr_Occurred())
            return NULL;
        Py_RETURN_NONE;
    }
    Py_INCREF(err);
    return err;
}

static PyObject *
parser_get_max_message_size(FrameParser *self, void *closure)
{
    (void)closure;
    if (!self->limited)
        Py_RETURN_NONE;
    return PyLong_FromUnsignedLongLong(self->p.max_size);
}

static PyMethodDef parser_methods[] = {
    {"feed", (PyCFunction)parser_feed, METH_O,
     "feed($self, data, /)\n--\n\nParse a chunk of bytes; events are then popped by iterating."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef parser_getset[] = {
    {"pending", (getter)parser_get_pending, NULL,
     "Number of events waiting to be popped (not counting an error).", NULL},
    {"close_received", (getter)parser_get_close_received, NULL,
     "True once a close frame has been parsed (it may still be queued).", NULL},
    {"error", (getter)parser_get_error_prop, NULL,
     "The ProtocolError that failed the stream, or None.", NULL},
    {"max_message_size", (getter)parser_get_max_message_size, NULL,
     "The largest message accepted, in bytes, or None for no limit.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyDoc_STRVAR(parser_doc,
"FrameParser(*, max_message_size=1048576, client_side=False, allow_rsv1=False, deflate=None)\n"
"--\n\n"
"Incremental RFC 6455 frame parser: feed() bytes, iterate for\n"
"(opcode, payload) events; a protocol violation raises ProtocolError.");

PyTypeObject ws_FrameParserType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "dwebsocket_c._core.FrameParser",
    .tp_basicsize = sizeof(FrameParser),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = parser_doc,
    .tp_traverse = (traverseproc)parser_traverse,
    .tp_clear = (inquiry)parser_clear,
    .tp_dealloc = (destructor)parser_dealloc,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)parser_iternext,
    .tp_methods = parser_methods,
    .tp_getset = parser_getset,
    .tp_init = (initproc)parser_init,
    .tp_new = parser_new,
};
