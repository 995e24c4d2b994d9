"""WSGI entry point: gunicorn serves the pages and the API (see README, Serving)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jtchat.settings")

application = get_wsgi_application()
