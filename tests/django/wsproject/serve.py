"""Serve wsproject with eventlet.wsgi or gevent.pywsgi: serve.py eventlet|gevent PORT."""

import sys

kind, port = sys.argv[1], int(sys.argv[2])
if kind == "eventlet":
    import eventlet

    eventlet.monkey_patch()
    import eventlet.wsgi
else:
    from gevent import monkey

    monkey.patch_all()
    from gevent.pywsgi import WSGIServer

from wsproject.wsgi import application  # noqa: E402

if kind == "eventlet":
    eventlet.wsgi.server(eventlet.listen(("127.0.0.1", port)), application)
else:
    WSGIServer(("127.0.0.1", port), application).serve_forever()
