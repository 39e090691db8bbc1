/* Connection: the per-message work of one WebSocket connection, in C.

   Why: on a threaded server every Python bytecode run per message is paid
   again each time the GIL changes hands among the connections' threads.
   So a round trip is two calls into this type, and the GIL is released only
   around the system calls that may block:

   - next(): the next received message. Pops the receive queue; when it is
     empty, reads the socket once (GIL released; SO_RCVTIMEO bounds the wait
     to the next keepalive action), feeds the FrameParser, moves its data
     messages to the queue as TextMessage / BinaryMessage, and pops. What
     needs the Python policy (a ping or close frame, a protocol error,
     keepalive due, EOF) is returned as a small int instead (NEXT_*).
   - write(data): one frame (or part) written, without giving up the GIL
     when it is small (SEND_HOLD_GIL_MAX) and the socket takes it at once;
     a full socket is waited for with poll() up to the send timeout, the
     GIL released.

   Green servers (gevent): the socket is non-blocking, so every call here
   returns at once; next() says NEXT_WOULD_BLOCK and the Python layer waits
   in the hub; write() returns what the socket took and the Python layer
   writes the rest through the library's own socket.

   The queue, its byte count and the keepalive clock live here, so that the
   Python WebSocket reads them without a lock: every access holds the GIL.
   The socket is the server's: its file descriptor is used until release(),
   which the WebSocket calls at its end, before the server closes it. */
#include "core.h"

#include <structmember.h>

#include "parser_api.h"
#include "wsparse.h"

#ifndef _WIN32

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

/* One receive buffer per OS thread that reads: the parser copies the bytes
   out before the call returns, so it is never held between calls (and the
   greenlets of one thread never switch inside one). */
#define RECEIVE_CHUNK 65536

/* A native write of a frame up to this size is made without releasing the
   GIL (MSG_DONTWAIT: it cannot block). bench_e2e.py, 16 B x 50 connections
   under gunicorn gthread, server CPU per round trip: 9.7 us held against
   20.3 released (median of 7 rounds; 4.0 futex calls per round trip
   against 8.7 under perf). A bigger frame is a long copy: others run. */
#define SEND_HOLD_GIL_MAX 4096

/* Timeout of a read when no keepalive bounds it (the loop reads again). */
#define IDLE_READ_SLICE 3600.0

/* How far the read timeout already set may be from the wanted one and be
   kept, when only keepalive bounds the read (a fraction, plus 1 ms):
   waking a little early or late is harmless, a setsockopt per message is not. */
#define KEEPALIVE_SLACK 0.01

enum {
    NEXT_TIMEOUT = 0,      /* SO_RCVTIMEO expired: look at keepalive again */
    NEXT_EVENTS = 1,       /* a control frame or a protocol error waits */
    NEXT_KEEPALIVE = 2,    /* a ping is due, or the last one went unanswered */
    NEXT_EOF = 3,          /* the peer closed TCP (or release() was called) */
    NEXT_WOULD_BLOCK = 4,  /* green: wait in the hub until readable */
};

typedef struct {
    PyObject_HEAD
    int fd;              /* -1 after release() */
    char green;          /* non-blocking socket: never wait here */
    char discard;        /* drop received data messages (we are closing) */
    int wait_first;      /* green: the last read drained the socket */
    int text_as_str;     /* text waits as plain bytes, decoded by pop() */
    PyObject *parser;    /* FrameParser, NULL after release() */
    PyObject *text_type;
    PyObject *binary_type;
    PyObject **ring;     /* received messages, oldest at ring[head] */
    Py_ssize_t cap, head, count;
    Py_ssize_t queued_bytes;
    double last_received;  /* monotonic seconds */
    double last_read;      /* when a message was last popped, 0 if never */
    double ping_interval;  /* < 0: no keepalive */
    double ping_timeout;
    double ping_sent_at;   /* 0: no ping outstanding */
    double rcvtimeo;       /* what SO_RCVTIMEO holds; 0: never set (forever) */
    double send_timeout;
} Connection;

static double
monotonic_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------ thread buffer */

static pthread_key_t buffer_key;
static pthread_once_t buffer_once = PTHREAD_ONCE_INIT;
static int buffer_key_ok;

static void
make_buffer_key(void)
{
    buffer_key_ok = pthread_key_create(&buffer_key, free) == 0;
}

static uint8_t *
thread_buffer(void)
{
    uint8_t *buf;
    if (pthread_once(&buffer_once, make_buffer_key) != 0 || !buffer_key_ok) {
        PyErr_SetString(PyExc_RuntimeError, "no thread-specific storage for the receive buffer");
        return NULL;
    }
    buf = pthread_getspecific(buffer_key);
    if (buf != NULL)
        return buf;
    buf = malloc(RECEIVE_CHUNK);
    if (buf == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    if (pthread_setspecific(buffer_key, buf) != 0) {
        free(buf);
        PyErr_NoMemory();
        return NULL;
    }
    return buf;
}

/* -------------------------------------------------------------- queue */

static int
queue_push(Connection *self, PyObject *msg)
{
    if (self->count == self->cap) {
        Py_ssize_t cap = self->cap ? self->cap * 2 : 4, i;
        PyObject **ring = PyMem_Malloc((size_t)cap * sizeof(PyObject *));
        if (ring == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        for (i = 0; i < self->count; i++)
            ring[i] = self->ring[(self->head + i) % self->cap];
        PyMem_Free(self->ring);
        self->ring = ring;
        self->cap = cap;
        self->head = 0;
    }
    self->ring[(self->head + self->count) % self->cap] = msg;  /* steals */
    self->count++;
    self->queued_bytes += PyBytes_GET_SIZE(msg);
    return 0;
}

/* The oldest message (a new reference), or NULL without an exception. */
static PyObject *
queue_pop(Connection *self)
{
    PyObject *msg;
    if (self->count == 0)
        return NULL;
    msg = self->ring[self->head];
    self->ring[self->head] = NULL;
    self->head = (self->head + 1) % self->cap;
    self->count--;
    self->queued_bytes -= PyBytes_GET_SIZE(msg);
    if (self->count == 0) {
        self->head = 0;
        if (self->cap > 64) {  /* a burst is over: give its room back */
            PyMem_Free(self->ring);
            self->ring = NULL;
            self->cap = 0;
        }
    }
    return msg;
}

static void
queue_clear(Connection *self)
{
    PyObject *msg;
    while ((msg = queue_pop(self)) != NULL)
        Py_DECREF(msg);
    PyMem_Free(self->ring);
    self->ring = NULL;
    self->cap = self->head = self->count = 0;
}

/* A popped message as the view gets it: text decoded with text_as_str. */
static PyObject *
deliver(Connection *self, PyObject *msg)
{
    PyObject *text;
    self->last_read = monotonic_now();
    if (!self->text_as_str || !PyBytes_CheckExact(msg))
        return msg;
    text = PyUnicode_DecodeUTF8(PyBytes_AS_STRING(msg), PyBytes_GET_SIZE(msg), NULL);
    Py_DECREF(msg);
    return text;
}

/* Move the parser's leading data messages to the queue (or drop them when
   closing); stop at the first control event or error. */
static int
collect(Connection *self)
{
    int op;
    while ((op = ws_frameparser_peek(self->parser)) == WS_OP_TEXT || op == WS_OP_BINARY) {
        PyObject *ev = ws_frameparser_next(self->parser), *payload, *msg;
        if (ev == NULL)
            return PyErr_Occurred() ? -1 : 0;
        payload = PyTuple_GET_ITEM(ev, 1);
        Py_INCREF(payload);
        Py_DECREF(ev);
        if (self->discard) {
            Py_DECREF(payload);
            continue;
        }
        if (op == WS_OP_TEXT && self->text_as_str) {
            msg = payload;  /* decoded when popped */
        } else {
            /* Without a copy: the bytes become the message. */
            msg = ws_as_message(payload, op == WS_OP_TEXT ? self->text_type : self->binary_type);
            if (msg == NULL)
                return -1;
            if (!PyBytes_Check(msg)) {
                PyErr_SetString(PyExc_TypeError, "message classes must make bytes objects");
                Py_DECREF(msg);
                return -1;
            }
        }
        if (queue_push(self, msg) < 0) {
            Py_DECREF(msg);
            return -1;
        }
    }
    return 0;
}

/* n bytes arrived: the peer is alive; parse them. */
static int
received(Connection *self, const uint8_t *data, size_t n)
{
    self->last_received = monotonic_now();
    self->ping_sent_at = 0.0;
    if (ws_frameparser_feed(self->parser, data, n) < 0)
        return -1;
    return collect(self);
}

/* ---------------------------------------------------------- socket I/O */

static int
set_timeval(int fd, int option, double seconds)
{
    struct timeval tv;
    if (seconds < 0.001)
        seconds = 0.001;  /* 0 would mean forever */
    tv.tv_sec = (time_t)seconds;
    tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
    if (setsockopt(fd, SOL_SOCKET, option, &tv, sizeof(tv)) < 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    return 0;
}

/* SO_RCVTIMEO for a read of at most `timeout` seconds; with !exact the
   timeout already set is kept when within KEEPALIVE_SLACK of it. */
static int
read_timeout(Connection *self, double timeout, int exact)
{
    double current = self->rcvtimeo;
    if (current == timeout)
        return 0;
    if (!exact && current > 0.0 && fabs(current - timeout) <= timeout * KEEPALIVE_SLACK + 0.001)
        return 0;
    if (set_timeval(self->fd, SO_RCVTIMEO, timeout) < 0)
        return -1;
    self->rcvtimeo = timeout;
    return 0;
}

/* One recv(): >0 bytes (fed to the parser), 0 at EOF, -2 when nothing came
   (EAGAIN: SO_RCVTIMEO expired, or non-blocking), -1 with an exception. */
static Py_ssize_t
read_once(Connection *self, int blocking)
{
    uint8_t *buf = thread_buffer();
    ssize_t n;
    int err;
    if (buf == NULL)
        return -1;
    for (;;) {
        if (blocking) {
            Py_BEGIN_ALLOW_THREADS
            n = recv(self->fd, buf, RECEIVE_CHUNK, 0);
            err = errno;
            Py_END_ALLOW_THREADS
        } else {
            n = recv(self->fd, buf, RECEIVE_CHUNK, MSG_DONTWAIT);
            err = errno;
        }
        if (n >= 0)
            break;
        if (err == EINTR) {  /* PEP 475: run the handlers, then retry */
            if (PyErr_CheckSignals() < 0)
                return -1;
            continue;
        }
        if (err == EAGAIN || err == EWOULDBLOCK)
            return -2;
        errno = err;
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    if (n > 0) {
        if (self->parser == NULL)  /* released by a finalizer meanwhile */
            return 0;
        if (received(self, buf, (size_t)n) < 0)
            return -1;
        if (self->green)
            self->wait_first = n < RECEIVE_CHUNK;  /* drained: wait before the next read */
    }
    return (Py_ssize_t)n;
}

static int
check_open(Connection *self)
{
    if (self->fd < 0 || self->parser == NULL) {
        PyErr_SetString(PyExc_OSError, "the connection's socket was released");
        return -1;
    }
    return 0;
}

/* When the next keepalive action is due (a ping after ping_interval of
   silence, or giving up ping_timeout after an unanswered one): 1 and *at,
   or 0 without keepalive. */
static int
keepalive_deadline(const Connection *self, double *at)
{
    if (self->ping_interval < 0.0)
        return 0;
    *at = self->ping_sent_at > 0.0 ? self->ping_sent_at + self->ping_timeout
                                   : self->last_received + self->ping_interval;
    return 1;
}

/* --------------------------------------------------------------- methods */

static PyObject *
conn_next(Connection *self, PyObject *Py_UNUSED(ignored))
{
    for (;;) {
        PyObject *msg = queue_pop(self);
        double at, timeout = IDLE_READ_SLICE;
        Py_ssize_t n;
        int op;
        if (msg != NULL)
            return deliver(self, msg);
        if (self->fd < 0 || self->parser == NULL)
            return PyLong_FromLong(NEXT_EOF);
        op = ws_frameparser_peek(self->parser);
        if (op == WS_OP_TEXT || op == WS_OP_BINARY) {
            /* Messages that came after a control frame next_event() took. */
            if (collect(self) < 0)
                return NULL;
            continue;
        }
        if (op != WS_PEEK_NONE)
            return PyLong_FromLong(NEXT_EVENTS);
        if (keepalive_deadline(self, &at)) {
            double now = monotonic_now();
            if (now >= at)
                return PyLong_FromLong(NEXT_KEEPALIVE);
            timeout = at - now;
        }
        if (self->green) {
            if (self->wait_first) {
                self->wait_first = 0;
                return PyLong_FromLong(NEXT_WOULD_BLOCK);
            }
        } else if (read_timeout(self, timeout, 0) < 0) {
            return NULL;
        }
        n = read_once(self, !self->green);
        if (n == -1)
            return NULL;
        if (n == -2)
            return PyLong_FromLong(self->green ? NEXT_WOULD_BLOCK : NEXT_TIMEOUT);
        if (n == 0)
            return PyLong_FromLong(NEXT_EOF);
    }
}

static PyObject *
conn_receive(Connection *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t n;
    int blocking = 0;
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "receive(timeout, exact=True) takes 1 or 2 arguments");
        return NULL;
    }
    if (check_open(self) < 0)
        return NULL;
    if (args[0] != Py_None) {
        double timeout = PyFloat_AsDouble(args[0]);
        int exact = nargs < 2 ? 1 : PyObject_IsTrue(args[1]);
        if ((timeout == -1.0 && PyErr_Occurred()) || exact < 0)
            return NULL;
        if (self->green) {
            PyErr_SetString(PyExc_ValueError, "a green connection reads without waiting (timeout=None)");
            return NULL;
        }
        if (read_timeout(self, timeout, exact) < 0)
            return NULL;
        blocking = 1;
    }
    n = read_once(self, blocking);
    if (n == -1)
        return NULL;
    if (n == -2)
        Py_RETURN_NONE;
    return PyLong_FromSsize_t(n);
}

static PyObject *
conn_feed(Connection *self, PyObject *arg)
{
    Py_buffer view;
    int r;
    if (self->parser == NULL) {
        PyErr_SetString(PyExc_OSError, "the connection's socket was released");
        return NULL;
    }
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    r = view.len > 0 ? received(self, view.buf, (size_t)view.len) : 0;
    PyBuffer_Release(&view);
    if (r < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
conn_next_event(Connection *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *ev;
    if (self->parser == NULL)
        Py_RETURN_NONE;
    if (collect(self) < 0)
        return NULL;
    ev = ws_frameparser_next(self->parser);
    if (ev == NULL && !PyErr_Occurred())
        Py_RETURN_NONE;
    return ev;
}

static PyObject *
conn_pop(Connection *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *msg = queue_pop(self);
    if (msg == NULL)
        Py_RETURN_NONE;
    return deliver(self, msg);
}

/* send() of data[done:], blocking or not, without SIGPIPE. */
static ssize_t
send_some(int fd, const char *data, size_t len, int flags)
{
    return send(fd, data, len, flags | MSG_NOSIGNAL);
}

static PyObject *
conn_write(Connection *self, PyObject *arg)
{
    Py_buffer view;
    size_t done = 0, total;
    double deadline = 0.0;
    PyObject *result = NULL;

    if (self->fd < 0) {
        PyErr_SetString(PyExc_OSError, "the connection's socket was released");
        return NULL;
    }
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    total = (size_t)view.len;
    while (done < total) {
        ssize_t n;
        int err;
        if (self->green) {
            /* Never waits: the rest is written by the hub's socket. */
            n = send_some(self->fd, (const char *)view.buf + done, total - done, MSG_DONTWAIT);
            err = errno;
            if (n < 0 && (err == EAGAIN || err == EWOULDBLOCK))
                break;
        } else if (done == 0 && deadline == 0.0) {
            /* The usual case: the kernel takes the frame at once. A small
               one is written with the GIL held: giving the GIL up and
               taking it back is a futex handoff among the connections'
               threads, once more per message. */
            if (total <= SEND_HOLD_GIL_MAX) {
                n = send_some(self->fd, (const char *)view.buf, total, MSG_DONTWAIT);
                err = errno;
            } else {
                Py_BEGIN_ALLOW_THREADS
                n = send_some(self->fd, (const char *)view.buf, total, MSG_DONTWAIT);
                err = errno;
                Py_END_ALLOW_THREADS
            }
            deadline = monotonic_now() + self->send_timeout;
            if (n < 0 && (err == EAGAIN || err == EWOULDBLOCK))
                continue;  /* full: wait below */
        } else {
            /* The socket is full: wait for room, within the send timeout. */
            double remaining = deadline - monotonic_now();
            struct pollfd pfd;
            int ready, ms;
            if (remaining <= 0.0) {
                PyErr_Format(PyExc_TimeoutError,
                             "send timed out (%zu of %zu bytes written)", done, total);
                goto out;
            }
            ms = remaining > 1e6 ? 1000000000 : (int)(remaining * 1000.0) + 1;
            pfd.fd = self->fd;
            pfd.events = POLLOUT;
            pfd.revents = 0;
            Py_BEGIN_ALLOW_THREADS
            ready = poll(&pfd, 1, ms);
            err = errno;
            n = -1;
            if (ready > 0) {
                n = send_some(self->fd, (const char *)view.buf + done, total - done, MSG_DONTWAIT);
                err = errno;
            } else if (ready == 0) {
                err = EAGAIN;
            }
            Py_END_ALLOW_THREADS
            if (n < 0 && (err == EAGAIN || err == EWOULDBLOCK))
                continue;
        }
        if (n >= 0) {
            done += (size_t)n;
            continue;
        }
        if (err == EINTR) {  /* PEP 475 */
            if (PyErr_CheckSignals() < 0)
                goto out;
            continue;
        }
        errno = err;
        PyErr_SetFromErrno(PyExc_OSError);
        goto out;
    }
    result = PyLong_FromSize_t(done);
out:
    PyBuffer_Release(&view);
    return result;
}

static PyObject *
conn_wait_readable_timeout(Connection *self, PyObject *Py_UNUSED(ignored))
{
    double at, timeout = IDLE_READ_SLICE;
    if (keepalive_deadline(self, &at)) {
        timeout = at - monotonic_now();
        if (timeout < 0.0)
            timeout = 0.0;
    }
    return PyFloat_FromDouble(timeout);
}

static PyObject *
conn_release(Connection *self, PyObject *Py_UNUSED(ignored))
{
    if (self->fd >= 0 && !self->green && self->rcvtimeo > 0.0) {
        struct timeval zero = {0, 0};
        (void)setsockopt(self->fd, SOL_SOCKET, SO_RCVTIMEO, &zero, sizeof(zero));
    }
    self->rcvtimeo = 0.0;
    self->fd = -1;
    Py_CLEAR(self->parser);
    queue_clear(self);
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------- the type */

static void
conn_dealloc(Connection *self)
{
    Py_CLEAR(self->parser);
    Py_CLEAR(self->text_type);
    Py_CLEAR(self->binary_type);
    queue_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int
check_bytes_type(PyObject *t, const char *what)
{
    if (!PyType_Check(t) || !PyType_IsSubtype((PyTypeObject *)t, &PyBytes_Type)) {
        PyErr_Format(PyExc_TypeError, "%s must be bytes or a subclass of it", what);
        return -1;
    }
    return 0;
}

static PyObject *
conn_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"fd", "parser", "text_type", "binary_type", "text_as_str",
                             "green", "send_timeout", NULL};
    int fd, text_as_str = 0, green = 0;
    double send_timeout = 30.0;
    PyObject *parser, *text_type, *binary_type;
    Connection *self;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "iO!OO|$ppd:Connection", kwlist, &fd,
                                     &ws_FrameParserType, &parser, &text_type, &binary_type,
                                     &text_as_str, &green, &send_timeout))
        return NULL;
    if (fd < 0) {
        PyErr_SetString(PyExc_ValueError, "fd must be an open file descriptor");
        return NULL;
    }
    if (check_bytes_type(text_type, "text_type") < 0 ||
        check_bytes_type(binary_type, "binary_type") < 0)
        return NULL;
    if (!(send_timeout > 0.0)) {
        PyErr_SetString(PyExc_ValueError, "send_timeout must be > 0");
        return NULL;
    }
    self = (Connection *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->fd = fd;
    self->green = green;
    self->text_as_str = text_as_str;
    Py_INCREF(parser);
    self->parser = parser;
    Py_INCREF(text_type);
    self->text_type = text_type;
    Py_INCREF(binary_type);
    self->binary_type = binary_type;
    self->last_received = monotonic_now();
    self->ping_interval = -1.0;
    self->ping_timeout = 20.0;
    self->send_timeout = send_timeout;
    return (PyObject *)self;
}

/* Seconds as a float attribute; None maps to a negative sentinel. */
static PyObject *
get_seconds(double v, double none_below)
{
    if (v < none_below)
        Py_RETURN_NONE;
    return PyFloat_FromDouble(v);
}

static int
set_seconds(double *slot, PyObject *value, double none_value, const char *name)
{
    double v;
    if (value == NULL) {
        PyErr_Format(PyExc_AttributeError, "%s cannot be deleted", name);
        return -1;
    }
    if (value == Py_None) {
        *slot = none_value;
        return 0;
    }
    v = PyFloat_AsDouble(value);
    if (v == -1.0 && PyErr_Occurred())
        return -1;
    if (!(v >= 0.0)) {
        PyErr_Format(PyExc_ValueError, "%s must be >= 0 or None", name);
        return -1;
    }
    *slot = v;
    return 0;
}

static PyObject *
get_ping_interval(Connection *self, void *c)
{
    (void)c;
    return get_seconds(self->ping_interval, 0.0);
}

static int
set_ping_interval(Connection *self, PyObject *v, void *c)
{
    (void)c;
    return set_seconds(&self->ping_interval, v, -1.0, "ping_interval");
}

static PyObject *
get_ping_timeout(Connection *self, void *c)
{
    (void)c;
    return PyFloat_FromDouble(self->ping_timeout);
}

static int
set_ping_timeout(Connection *self, PyObject *v, void *c)
{
    (void)c;
    if (v == Py_None) {
        PyErr_SetString(PyExc_ValueError, "ping_timeout must be a number");
        return -1;
    }
    return set_seconds(&self->ping_timeout, v, 0.0, "ping_timeout");
}

static PyObject *
get_ping_sent_at(Connection *self, void *c)
{
    (void)c;
    if (self->ping_sent_at <= 0.0)
        Py_RETURN_NONE;
    return PyFloat_FromDouble(self->ping_sent_at);
}

static int
set_ping_sent_at(Connection *self, PyObject *v, void *c)
{
    (void)c;
    return set_seconds(&self->ping_sent_at, v, 0.0, "ping_sent_at");
}

static PyObject *
get_keepalive_at(Connection *self, void *c)
{
    double at;
    (void)c;
    if (!keepalive_deadline(self, &at))
        Py_RETURN_NONE;
    return PyFloat_FromDouble(at);
}

static PyMethodDef conn_methods[] = {
    {"next", (PyCFunction)conn_next, METH_NOARGS,
     "next($self, /)\n--\n\n"
     "The next received message, reading the socket if none is queued; or an\n"
     "int: NEXT_TIMEOUT, NEXT_EVENTS (call next_event()), NEXT_KEEPALIVE,\n"
     "NEXT_EOF, NEXT_WOULD_BLOCK (green: wait until readable). Raises OSError."},
    {"pop", (PyCFunction)conn_pop, METH_NOARGS,
     "pop($self, /)\n--\n\nThe oldest queued message, or None. Never reads."},
    {"receive", (PyCFunction)(void (*)(void))conn_receive, METH_FASTCALL,
     "receive($self, timeout, exact=True, /)\n--\n\n"
     "One read, fed to the parser: the byte count, 0 at EOF, None when nothing\n"
     "came within timeout seconds (None: without waiting). With exact=False a\n"
     "read timeout within 1% of timeout is kept. Raises OSError."},
    {"feed", (PyCFunction)conn_feed, METH_O,
     "feed($self, data, /)\n--\n\nBytes read elsewhere, parsed as if received."},
    {"next_event", (PyCFunction)conn_next_event, METH_NOARGS,
     "next_event($self, /)\n--\n\n"
     "Queue the pending data messages, then the next control event as\n"
     "(opcode, payload), or None. Raises ProtocolError once the stream failed."},
    {"write", (PyCFunction)conn_write, METH_O,
     "write($self, data, /)\n--\n\n"
     "Write data: all of it within send_timeout (TimeoutError otherwise), or,\n"
     "green, what the socket takes now. Returns the bytes written."},
    {"read_timeout", (PyCFunction)conn_wait_readable_timeout, METH_NOARGS,
     "read_timeout($self, /)\n--\n\nSeconds until the next keepalive action (3600 without keepalive)."},
    {"release", (PyCFunction)conn_release, METH_NOARGS,
     "release($self, /)\n--\n\n"
     "The end: SO_RCVTIMEO reset, the socket, the parser and the queue let go."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef conn_getset[] = {
    {"ping_interval", (getter)get_ping_interval, (setter)set_ping_interval,
     "Seconds of silence before a ping (None: no keepalive).", NULL},
    {"ping_timeout", (getter)get_ping_timeout, (setter)set_ping_timeout,
     "Seconds a ping waits for any answer.", NULL},
    {"ping_sent_at", (getter)get_ping_sent_at, (setter)set_ping_sent_at,
     "When the unanswered ping went out (monotonic), or None.", NULL},
    {"keepalive_at", (getter)get_keepalive_at, NULL,
     "When the next keepalive action is due (monotonic), or None without keepalive.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef conn_members[] = {
    {"last_received", T_DOUBLE, offsetof(Connection, last_received), READONLY,
     "When bytes last came (monotonic)."},
    {"last_read", T_DOUBLE, offsetof(Connection, last_read), READONLY,
     "When a message was last popped (monotonic), 0.0 if never."},
    {"queued", T_PYSSIZET, offsetof(Connection, count), READONLY, "Messages waiting to be popped."},
    {"queued_bytes", T_PYSSIZET, offsetof(Connection, queued_bytes), READONLY,
     "Their size in bytes."},
    {"discard", T_BOOL, offsetof(Connection, discard), 0,
     "Drop received data messages (set once our close frame went out)."},
    {"fd", T_INT, offsetof(Connection, fd), READONLY,
     "The socket's file descriptor, -1 once released."},
    {"green", T_BOOL, offsetof(Connection, green), READONLY,
     "Whether the socket is non-blocking (gevent)."},
    {NULL, 0, 0, 0, NULL},
};

PyDoc_STRVAR(conn_doc,
"Connection(fd, parser, text_type, binary_type, *, text_as_str=False, green=False,\n"
"           send_timeout=30.0)\n"
"--\n\n"
"The per-message I/O of one WebSocket over the server's socket (see\n"
"dwebsocket_c.websocket): a receive queue fed by the FrameParser, reads\n"
"and writes that release the GIL only around blocking system calls.");

PyTypeObject ws_ConnectionType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "dwebsocket_c._core.Connection",
    .tp_basicsize = sizeof(Connection),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = conn_doc,
    .tp_dealloc = (destructor)conn_dealloc,
    .tp_methods = conn_methods,
    .tp_members = conn_members,
    .tp_getset = conn_getset,
    .tp_new = conn_new,
};

int
ws_connection_add(PyObject *mod)
{
    if (PyType_Ready(&ws_ConnectionType) < 0)
        return -1;
    Py_INCREF(&ws_ConnectionType);
    if (PyModule_AddObject(mod, "Connection", (PyObject *)&ws_ConnectionType) < 0) {
        Py_DECREF(&ws_ConnectionType);
        return -1;
    }
    if (PyModule_AddIntConstant(mod, "NEXT_TIMEOUT", NEXT_TIMEOUT) < 0 ||
        PyModule_AddIntConstant(mod, "NEXT_EVENTS", NEXT_EVENTS) < 0 ||
        PyModule_AddIntConstant(mod, "NEXT_KEEPALIVE", NEXT_KEEPALIVE) < 0 ||
        PyModule_AddIntConstant(mod, "NEXT_EOF", NEXT_EOF) < 0 ||
        PyModule_AddIntConstant(mod, "NEXT_WOULD_BLOCK", NEXT_WOULD_BLOCK) < 0 ||
        PyModule_AddIntConstant(mod, "RECEIVE_CHUNK", RECEIVE_CHUNK) < 0)
        return -1;
    return 0;
}

#else /* _WIN32: no Connection (the WSGI servers served are POSIX ones) */

int
ws_connection_add(PyObject *mod)
{
    (void)mod;
    return 0;
}

#endif
