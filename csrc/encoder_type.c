/* FrameEncoder: the data frames of one connection, compressed with
   permessage-deflate when it was negotiated and the message is big enough
   to gain from it.

   Without context takeover (server_no_context_takeover, the default), the
   compressor forgets each message: one zlib stream per OS thread serves
   every connection of the thread (uWebSockets' "shared compressor"), so a
   connection costs no compressor memory, and the frame for a message
   depends only on the parameters: a group can compress it once for every
   member with the same `share_key`. With context takeover each connection
   keeps its own stream, created on its first compressed message. */
#include "core.h"

#include <stdlib.h>
#include <string.h>

#include "frames.h"
#include "mask.h"
#include "pmd.h"
#include "wsparse.h"

#ifndef _WIN32
#  include <pthread.h>
#  define WS_SHARED_DEFLATER 1
#endif

/* Compressing releases the GIL from this many bytes of input. */
#define DEFLATE_NOGIL_THRESHOLD (32 * 1024)

#define DEFAULT_THRESHOLD 128
#define DEFAULT_MEM_LEVEL 8

typedef struct {
    PyObject_HEAD
    int deflate;             /* permessage-deflate negotiated */
    int client_side;         /* frames are masked */
    int no_context_takeover;
    Py_ssize_t threshold;    /* smaller messages go uncompressed */
    ws_deflater own;         /* context takeover: this connection's stream */
    int window_bits, mem_level, level;
    int busy;
} FrameEncoder;

/* ------------------------------------------------------------------ */
/* Negotiated parameters, as the dict negotiate_deflate() returns.      */

/* An int item of `params` within [lo, hi], or dflt when absent. */
static int
dict_int(PyObject *params, const char *key, int lo, int hi, int dflt, int *out)
{
    PyObject *v = PyDict_GetItemString(params, key);  /* borrowed */
    long x;
    if (v == NULL || v == Py_None) {
        *out = dflt;
        return 0;
    }
    if (PyBool_Check(v)) {
        x = v == Py_True;
    } else {
        x = PyLong_AsLong(v);
        if (x == -1 && PyErr_Occurred())
            return -1;
    }
    if (x < lo || x > hi) {
        PyErr_Format(PyExc_ValueError, "deflate parameter %s must be in %d..%d, not %ld",
                     key, lo, hi, x);
        return -1;
    }
    *out = (int)x;
    return 0;
}

int
ws_deflate_params_get(PyObject *params, const char *side, int *window_bits,
                      int *no_context_takeover)
{
    char key[48];
    if (!PyDict_Check(params)) {
        PyErr_Format(PyExc_TypeError, "deflate must be a dict of negotiated parameters or None, "
                     "not %.100s", Py_TYPE(params)->tp_name);
        return -1;
    }
    PyOS_snprintf(key, sizeof(key), "%s_max_window_bits", side);
    if (dict_int(params, key, 8, 15, 15, window_bits) < 0)
        return -1;
    PyOS_snprintf(key, sizeof(key), "%s_no_context_takeover", side);
    return dict_int(params, key, 0, 1, 0, no_context_takeover);
}

/* ------------------------------------------------------------------ */
/* The per-thread shared compressor                                    */

#ifdef WS_SHARED_DEFLATER
static pthread_key_t shared_key;
static int shared_key_ok;

static void
shared_free(void *p)
{
    ws_deflater_free(p);
    free(p);
}

/* This thread's compressor, set up for these parameters; NULL if none. */
static ws_deflater *
shared_deflater(int window_bits, int mem_level, int level)
{
    ws_deflater *d;
    if (!shared_key_ok)
        return NULL;
    d = pthread_getspecific(shared_key);
    if (d == NULL) {
        d = malloc(sizeof(*d));
        if (d == NULL)
            return NULL;
        ws_deflater_init(d, window_bits, mem_level, level);
        if (pthread_setspecific(shared_key, d) != 0) {
            free(d);
            return NULL;
        }
    }
    if (d->window_bits != window_bits || d->mem_level != mem_level || d->level != level) {
        ws_deflater_free(d);
        ws_deflater_init(d, window_bits, mem_level, level);
    }
    return d;
}
#endif

static int
shared_available(void)
{
#ifdef WS_SHARED_DEFLATER
    return shared_key_ok;
#else
    return 0;
#endif
}

int
ws_encoder_setup(void)
{
#ifdef WS_SHARED_DEFLATER
    if (!shared_key_ok && pthread_key_create(&shared_key, shared_free) == 0)
        shared_key_ok = 1;
#endif
    return 0;
}

/* ------------------------------------------------------------------ */
/* The type                                                            */

static void
encoder_dealloc(FrameEncoder *self)
{
    ws_deflater_free(&self->own);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int
encoder_init(FrameEncoder *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"deflate", "client_side", "threshold", "mem_level", "level", NULL};
    PyObject *deflate = Py_None;
    int client_side = 0, mem_level = DEFAULT_MEM_LEVEL, level = -1;
    int window_bits = 15, no_takeover = 0;
    Py_ssize_t threshold = DEFAULT_THRESHOLD;

    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "FrameEncoder re-initialized while encoding");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|$Opnii:FrameEncoder", kwlist, &deflate,
                                     &client_side, &threshold, &mem_level, &level))
        return -1;
    if (deflate != Py_None && PyDict_Check(deflate)) {
        /* The handshake's dict may carry the local choices too. */
        PyObject *t = PyDict_GetItemString(deflate, "threshold");
        if (t != NULL) {
            threshold = PyNumber_AsSsize_t(t, PyExc_OverflowError);
            if (threshold == -1 && PyErr_Occurred())
                return -1;
        }
        if (dict_int(deflate, "mem_level", 1, 9, mem_level, &mem_level) < 0 ||
            dict_int(deflate, "level", -1, 9, level, &level) < 0)
            return -1;
    }
    if (threshold < 0) {
        PyErr_SetString(PyExc_ValueError, "threshold must be >= 0");
        return -1;
    }
    if (mem_level < 1 || mem_level > 9) {
        PyErr_SetString(PyExc_ValueError, "mem_level must be in 1..9");
        return -1;
    }
    if (level < -1 || level > 9) {
        PyErr_SetString(PyExc_ValueError, "level must be in -1..9");
        return -1;
    }
    /* Our compressor: the server's, or the client's on a client. */
    if (deflate != Py_None &&
        ws_deflate_params_get(deflate, client_side ? "client" : "server",
                              &window_bits, &no_takeover) < 0)
        return -1;
    if (deflate != Py_None && window_bits < 9) {
        PyErr_SetString(PyExc_ValueError, "zlib cannot compress with an 8-bit window");
        return -1;
    }
    ws_deflater_free(&self->own);
    ws_deflater_init(&self->own, window_bits, mem_level, level);
    self->deflate = deflate != Py_None;
    self->client_side = client_side;
    self->no_context_takeover = no_takeover;
    self->threshold = threshold;
    self->window_bits = window_bits;
    self->mem_level = mem_level;
    self->level = level;
    return 0;
}

static PyObject *
encoder_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    FrameEncoder *self = (FrameEncoder *)type->tp_alloc(type, 0);
    (void)args;
    (void)kwds;
    if (self != NULL) {
        ws_deflater_init(&self->own, 15, DEFAULT_MEM_LEVEL, -1);
        self->threshold = DEFAULT_THRESHOLD;
        self->mem_level = DEFAULT_MEM_LEVEL;
        self->level = -1;
        self->window_bits = 15;
    }
    return (PyObject *)self;
}

/* A data opcode from Python. */
static int
data_opcode(PyObject *o, unsigned *op)
{
    long v = PyLong_AsLong(o);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (v != WS_OP_TEXT && v != WS_OP_BINARY) {
        PyErr_Format(PyExc_ValueError, "FrameEncoder encodes text (1) or binary (2) "
                     "messages, not opcode %ld", v);
        return -1;
    }
    *op = (unsigned)v;
    return 0;
}

static int
will_compress(FrameEncoder *self, Py_ssize_t n)
{
    return self->deflate && n >= self->threshold;
}

/* Masking key for a client's frame. */
static int
frame_key(FrameEncoder *self, uint8_t key[4])
{
    if (!self->client_side)
        return 0;
    if (ws_random(key, 4) < 0) {
        PyErr_SetString(PyExc_OSError, "no random source for a masking key");
        return -1;
    }
    return 1;
}

static PyObject *
encoder_encode(FrameEncoder *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer view;
    unsigned op;
    uint8_t key[4], hdr[WS_MAX_HEADER];
    PyObject *r = NULL;
    int masked;

    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "encode() takes exactly 2 arguments (opcode, payload)");
        return NULL;
    }
    if (data_opcode(args[0], &op) < 0)
        return NULL;
    if (PyObject_GetBuffer(args[1], &view, PyBUF_SIMPLE) < 0)
        return NULL;
    if ((masked = frame_key(self, key)) < 0)
        goto done;
    if (!will_compress(self, view.len)) {
        size_t hlen = ws_frame_header(hdr, op, 1, 0, (uint64_t)view.len, masked ? key : NULL);
        uint8_t *out;
        r = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)hlen + view.len);
        if (r == NULL)
            goto done;
        out = (uint8_t *)PyBytes_AS_STRING(r);
        memcpy(out, hdr, hlen);
        if (masked)
            ws_mask(out + hlen, view.buf, (size_t)view.len, key, 0);
        else if (view.len)
            memcpy(out + hlen, view.buf, (size_t)view.len);
        goto done;
    }
    {
        ws_deflater *d = &self->own;
        int reset = self->no_context_takeover;
        size_t bound, clen, hlen;
        uint8_t *out;
        /* Only the connection's own stream (context takeover) has state
           that two calls could share; the per-thread one is per thread. */
        int own = !(reset && shared_available());
#ifdef WS_SHARED_DEFLATER
        if (reset) {
            ws_deflater *shared = shared_deflater(self->window_bits, self->mem_level, self->level);
            if (shared != NULL)
                d = shared;
            else
                own = 1;  /* no thread-local storage: this encoder's stream */
        }
#endif
        bound = ws_deflate_bound(d, (size_t)view.len);
        if (bound > (size_t)PY_SSIZE_T_MAX - WS_MAX_HEADER) {
            PyErr_NoMemory();
            goto done;
        }
        /* Compressed after room for the longest header; the header is
           written in front of it once the size is known. */
        r = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(WS_MAX_HEADER + bound));
        if (r == NULL)
            goto done;
        out = (uint8_t *)PyBytes_AS_STRING(r);
        if (own) {
            if (self->busy) {
                Py_CLEAR(r);
                PyErr_SetString(PyExc_RuntimeError, "FrameEncoder.encode() called concurrently "
                                "with context takeover: serialize the sends of a connection");
                goto done;
            }
            self->busy = 1;
        }
        if (view.len >= DEFLATE_NOGIL_THRESHOLD) {
            /* The shared stream is this thread's: nobody else can use it. */
            Py_BEGIN_ALLOW_THREADS
            clen = ws_deflate_message(d, view.buf, (size_t)view.len, out + WS_MAX_HEADER,
                                      bound, reset);
            Py_END_ALLOW_THREADS
        } else {
            clen = ws_deflate_message(d, view.buf, (size_t)view.len, out + WS_MAX_HEADER,
                                      bound, reset);
        }
        if (own)
            self->busy = 0;
        if (clen == (size_t)-1) {
            Py_CLEAR(r);
            PyErr_NoMemory();
            goto done;
        }
        hlen = ws_frame_header(hdr, op, 1, 1, clen, masked ? key : NULL);
        memcpy(out, hdr, hlen);
        if (masked)
            ws_mask(out + hlen, out + WS_MAX_HEADER, clen, key, 0);
        else
            memmove(out + hlen, out + WS_MAX_HEADER, clen);
        if (_PyBytes_Resize(&r, (Py_ssize_t)(hlen + clen)) < 0)
            r = NULL;
    }
done:
    PyBuffer_Release(&view);
    return r;
}

static PyObject *
encoder_compresses(FrameEncoder *self, PyObject *arg)
{
    Py_ssize_t n = PyNumber_AsSsize_t(arg, PyExc_OverflowError);
    if (n == -1 && PyErr_Occurred())
        return NULL;
    return PyBool_FromLong(will_compress(self, n));
}

static PyObject *
encoder_header(FrameEncoder *self, PyObject *const *args, Py_ssize_t nargs)
{
    unsigned op;
    Py_ssize_t n;
    uint8_t key[4], hdr[WS_MAX_HEADER];
    size_t hlen;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "header() takes exactly 2 arguments (opcode, length)");
        return NULL;
    }
    if (data_opcode(args[0], &op) < 0)
        return NULL;
    n = PyNumber_AsSsize_t(args[1], PyExc_OverflowError);
    if (n == -1 && PyErr_Occurred())
        return NULL;
    if (n < 0) {
        PyErr_SetString(PyExc_ValueError, "length must be >= 0");
        return NULL;
    }
    if (self->client_side) {
        PyErr_SetString(PyExc_ValueError, "header() is for unmasked (server) frames");
        return NULL;
    }
    (void)key;
    hlen = ws_frame_header(hdr, op, 1, 0, (uint64_t)n, NULL);
    return PyBytes_FromStringAndSize((const char *)hdr, (Py_ssize_t)hlen);
}

static PyObject *
encoder_get_share_key(FrameEncoder *self, void *closure)
{
    (void)closure;
    if (!self->deflate)
        return Py_BuildValue("(s)", "plain");
    if (!self->no_context_takeover || self->client_side)
        Py_RETURN_NONE;
    return Py_BuildValue("(siiin)", "deflate", self->window_bits, self->mem_level,
                         self->level, self->threshold);
}

static PyObject *
encoder_get_deflate(FrameEncoder *self, void *closure)
{
    (void)closure;
    return PyBool_FromLong(self->deflate);
}

static PyObject *
encoder_get_threshold(FrameEncoder *self, void *closure)
{
    (void)closure;
    return PyLong_FromSsize_t(self->threshold);
}

static PyObject *
encoder_get_keeps_context(FrameEncoder *self, void *closure)
{
    (void)closure;
    return PyBool_FromLong(self->deflate && !self->no_context_takeover);
}

static PyObject *
encoder_get_holds_stream(FrameEncoder *self, void *closure)
{
    (void)closure;
    return PyBool_FromLong(self->own.ready);
}

static PyMethodDef encoder_methods[] = {
    {"encode", (PyCFunction)(void (*)(void))encoder_encode, METH_FASTCALL,
     "encode($self, opcode, payload, /)\n--\n\n"
     "One whole frame for a text or binary message: compressed (RSV1) when\n"
     "deflate was negotiated and len(payload) >= threshold, else plain."},
    {"compresses", (PyCFunction)encoder_compresses, METH_O,
     "compresses($self, length, /)\n--\n\nWhether a message of `length` bytes is compressed."},
    {"header", (PyCFunction)(void (*)(void))encoder_header, METH_FASTCALL,
     "header($self, opcode, length, /)\n--\n\n"
     "The header of an uncompressed, unmasked frame (its payload is sent after it as is)."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef encoder_getset[] = {
    {"deflate", (getter)encoder_get_deflate, NULL, "Whether permessage-deflate is on.", NULL},
    {"threshold", (getter)encoder_get_threshold, NULL,
     "Messages shorter than this are sent uncompressed.", NULL},
    {"share_key", (getter)encoder_get_share_key, NULL,
     "Encoders with equal share_key produce the same frame for the same message "
     "(compress once for a group); None when the frame depends on this connection's "
     "history (context takeover) or is masked.", NULL},
    {"keeps_context", (getter)encoder_get_keeps_context, NULL,
     "True with context takeover: each frame depends on the ones encoded before, "
     "so frames must be written in the order encode() made them (encode under the "
     "send lock); False: encode() may run anywhere, even concurrently.", NULL},
    {"holds_stream", (getter)encoder_get_holds_stream, NULL,
     "Whether this encoder holds a compressor of its own (context takeover only).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyDoc_STRVAR(encoder_doc,
"FrameEncoder(*, deflate=None, client_side=False, threshold=128, mem_level=8, level=-1)\n"
"--\n\n"
"Builds the data frames of one connection. `deflate`: the parameters\n"
"negotiate_deflate() returned, or None for no compression; its keys\n"
"'threshold', 'mem_level' and 'level', when present, win over the arguments.");

PyTypeObject ws_FrameEncoderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "dwebsocket_c._core.FrameEncoder",
    .tp_basicsize = sizeof(FrameEncoder),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = encoder_doc,
    .tp_dealloc = (destructor)encoder_dealloc,
    .tp_methods = encoder_methods,
    .tp_getset = encoder_getset,
    .tp_init = (initproc)encoder_init,
    .tp_new = encoder_new,
};
