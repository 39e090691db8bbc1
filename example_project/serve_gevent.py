"""Serve the example project with gevent's own WSGI server (gevent.pywsgi).

    python serve_gevent.py [HOST] [PORT]        (default 127.0.0.1 8000)

For production, `gunicorn -k gevent` runs the same event loop with process
management around it.
"""

from gevent import monkey

monkey.patch_all()  # before anything else imports socket/threading

import os  # noqa: E402
import sys  # noqa: E402

from gevent.pywsgi import WSGIServer  # noqa: E402


def main(argv):
    host = argv[1] if len(argv) > 1 else "127.0.0.1"
    port = int(argv[2]) if len(argv) > 2 else 8000
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
    from mysite.wsgi import application

    print(f"gevent.pywsgi serving on http://{host}:{port}/", flush=True)
    WSGIServer((host, port), application).serve_forever()


if __name__ == "__main__":
    main(sys.argv)
