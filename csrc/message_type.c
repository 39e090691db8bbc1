/* Message, TextMessage, BinaryMessage: what wait() returns (see
   dwebsocket_c/message.py, which documents and re-exports them).

   They are bytes subclasses defined in C, without a __dict__ and without
   GC support, so an instance is laid out and freed exactly like a plain
   bytes object. That lets the Connection (connection.c) turn the bytes
   object the parser filled into the message itself, by setting its type:
   no second copy of the payload (a class statement's subclass of bytes is
   a GC type, with a header before the object, so it cannot be done for
   one). Python subclasses of these classes work as usual. */
#include "core.h"

static PyObject *
message_repr(PyObject *self)
{
    const char *name = Py_TYPE(self)->tp_name, *dot = strrchr(name, '.');
    PyObject *inner = PyBytes_Type.tp_repr(self), *r;
    if (inner == NULL)
        return NULL;
    r = PyUnicode_FromFormat("%s(%U)", dot ? dot + 1 : name, inner);
    Py_DECREF(inner);
    return r;
}

static PyObject *
message_is_binary(PyObject *self, void *c)
{
    PyObject *is_text = PyObject_GetAttrString(self, "is_text");
    int t;
    (void)c;
    if (is_text == NULL)
        return NULL;
    t = PyObject_IsTrue(is_text);
    Py_DECREF(is_text);
    if (t < 0)
        return NULL;
    return PyBool_FromLong(!t);
}

static PyObject *
message_text(PyObject *self, void *c)
{
    (void)self;
    (void)c;
    PyErr_SetString(PyExc_TypeError,
                    "a binary message has no text; use the message itself (it is bytes)");
    return NULL;
}

static PyObject *
text_message_text(PyObject *self, void *c)
{
    (void)c;
    return PyUnicode_DecodeUTF8(PyBytes_AS_STRING(self), PyBytes_GET_SIZE(self), NULL);
}

static PyGetSetDef message_getset[] = {
    {"is_binary", message_is_binary, NULL, "True for a binary message.", NULL},
    {"text", message_text, NULL, "The payload decoded from UTF-8 (text messages only).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyGetSetDef text_message_getset[] = {
    {"text", text_message_text, NULL, "The payload decoded from UTF-8.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject ws_MessageType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "dwebsocket_c.message.Message",
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "A received message: its payload as bytes, plus its kind.",
    .tp_repr = message_repr,
    .tp_getset = message_getset,
};

PyTypeObject ws_TextMessageType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "dwebsocket_c.message.TextMessage",
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "A text message. Its bytes are valid UTF-8 (the protocol core checked).",
    .tp_getset = text_message_getset,
};

PyTypeObject ws_BinaryMessageType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "dwebsocket_c.message.BinaryMessage",
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "A binary message.",
};

static int
ready(PyObject *mod, PyTypeObject *type, PyTypeObject *base, const char *name, int is_text)
{
    type->tp_base = base;
    /* The layout of bytes, so that a bytes object can become one. */
    type->tp_basicsize = PyBytes_Type.tp_basicsize;
    type->tp_itemsize = PyBytes_Type.tp_itemsize;
    if (PyType_Ready(type) < 0)
        return -1;
    if (is_text >= 0) {
        if (PyDict_SetItemString(type->tp_dict, "is_text", is_text ? Py_True : Py_False) < 0)
            return -1;
        PyType_Modified(type);
    }
    Py_INCREF(type);
    if (PyModule_AddObject(mod, name, (PyObject *)type) < 0) {
        Py_DECREF(type);
        return -1;
    }
    return 0;
}

int
ws_message_types_add(PyObject *mod)
{
    if (ready(mod, &ws_MessageType, &PyBytes_Type, "Message", 0) < 0 ||
        ready(mod, &ws_TextMessageType, &ws_MessageType, "TextMessage", 1) < 0 ||
        ready(mod, &ws_BinaryMessageType, &ws_MessageType, "BinaryMessage", 0) < 0)
        return -1;
    return 0;
}

/* `payload` (a new reference, stolen) as a message of `type`: the object
   itself when it is a plain bytes object nobody else holds and `type` one
   of the C message types (same layout and deallocator), else a copy made
   by calling `type`. */
PyObject *
ws_as_message(PyObject *payload, PyObject *type)
{
    PyObject *msg;
    if (PyBytes_CheckExact(payload) && Py_REFCNT(payload) == 1 &&
        (type == (PyObject *)&ws_TextMessageType || type == (PyObject *)&ws_BinaryMessageType)) {
        Py_SET_TYPE(payload, (PyTypeObject *)type);
        return payload;
    }
    msg = PyObject_CallOneArg(type, payload);
    Py_DECREF(payload);
    return msg;
}
