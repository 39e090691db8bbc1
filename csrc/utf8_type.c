/* Utf8Validator: incremental UTF-8 validation for Python callers (e.g. the
   permessage-deflate layer validating inflated text chunk by chunk). */
#include "core.h"

#include "utf8.h"

typedef struct {
    PyObject_HEAD
    uint32_t state;
} Utf8Validator;

static int
validator_init(Utf8Validator *self, PyObject *args, PyObject *kwds)
{
    if (!PyArg_ParseTuple(args, ":Utf8Validator") ||
        (kwds && PyDict_GET_SIZE(kwds))) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "Utf8Validator() takes no arguments");
        return -1;
    }
    self->state = WS_UTF8_ACCEPT;
    return 0;
}

static PyObject *
validator_feed(Utf8Validator *self, PyObject *arg)
{
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    self->state = ws_utf8_feed(self->state, view.buf, (size_t)view.len);
    PyBuffer_Release(&view);
    return PyBool_FromLong(self->state != WS_UTF8_REJECT);
}

static PyObject *
validator_finish(Utf8Validator *self, PyObject *unused)
{
    (void)unused;
    return PyBool_FromLong(self->state == WS_UTF8_ACCEPT);
}

static PyObject *
validator_reset(Utf8Validator *self, PyObject *unused)
{
    (void)unused;
    self->state = WS_UTF8_ACCEPT;
    Py_RETURN_NONE;
}

static PyMethodDef validator_methods[] = {
    {"feed", (PyCFunction)validator_feed, METH_O,
     "feed($self, data, /)\n--\n\nFalse once the bytes so far cannot be valid UTF-8."},
    {"finish", (PyCFunction)validator_finish, METH_NOARGS,
     "finish($self, /)\n--\n\nTrue if all bytes fed are valid and end on a character boundary."},
    {"reset", (PyCFunction)validator_reset, METH_NOARGS,
     "reset($self, /)\n--\n\nStart over, as if new."},
    {NULL, NULL, 0, NULL},
};

PyTypeObject ws_Utf8ValidatorType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "dwebsocket_c._core.Utf8Validator",
    .tp_basicsize = sizeof(Utf8Validator),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "Utf8Validator()\n--\n\nIncremental UTF-8 validation across chunks.",
    .tp_methods = validator_methods,
    .tp_init = (initproc)validator_init,
    .tp_new = PyType_GenericNew,  /* zeroed: state == WS_UTF8_ACCEPT */
};
