"""WSGI entry point, used by every server (gunicorn, uWSGI, eventlet...).

    gunicorn -k gthread --threads 50 mysite.wsgi:application
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")

application = get_wsgi_application()
