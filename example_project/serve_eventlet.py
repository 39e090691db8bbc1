"""Serve the example project with eventlet's own WSGI server.

    python serve_eventlet.py [HOST] [PORT]        (default 127.0.0.1 8000)

gunicorn no longer has an eventlet worker (removed in gunicorn 26), and
eventlet itself discourages new use: prefer gunicorn gthread or gevent.
"""

import eventlet

eventlet.monkey_patch()  # before anything else imports socket/threading

import os  # noqa: E402
import sys  # noqa: E402

import eventlet.wsgi  # noqa: E402


def main(argv):
    host = argv[1] if len(argv) > 1 else "127.0.0.1"
    port = int(argv[2]) if len(argv) > 2 else 8000
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
    from mysite.wsgi import application

    listener = eventlet.listen((host, port))
    print(f"eventlet.wsgi serving on http://{host}:{port}/", flush=True)
    # max_size: how many connections (green threads) at once.
    eventlet.wsgi.server(listener, application, max_size=1000)


if __name__ == "__main__":
    main(sys.argv)
