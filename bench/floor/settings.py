"""The framework's floor for bench/http_bench.py: Django + DRF and nothing else.

Same database (DATABASE_URL, connections kept as in production), no middleware, no
sessions or authentication, one view (bench/floor/views.py). It is what
``POST /api/chat/message`` would cost if the product did no more than validate the body
and insert one row.
"""

import os

import dj_database_url

SECRET_KEY = os.environ.get("SECRET_KEY", "bench-floor-only-" + "x" * 40)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["rest_framework"]
MIDDLEWARE = []
ROOT_URLCONF = "bench.floor.urls"
WSGI_APPLICATION = "bench.floor.wsgi.application"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ["DATABASE_URL"],
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "600")),
        conn_health_checks=True,
    )
}
USE_TZ = True
TIME_ZONE = "America/Sao_Paulo"
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
}
LOGGING = {"version": 1, "disable_existing_loggers": False}
