"""The framework's floor for bench/http_bench.py: Django + DRF with their defaults, nothing else.

Django's defaults: no middleware, no sessions or authentication, and no connection health
check (``CONN_HEALTH_CHECKS`` is off by default: no ``SELECT 1`` before a request uses a
kept connection). One view (bench/floor/views.py) validates the body and does one INSERT.
It is what ``POST /api/chat/message`` would cost if the product did no more than that.

Two settings are not Django's defaults, and both make the floor harder to reach, never
easier: connections are kept between requests as production keeps them (``CONN_MAX_AGE``;
a new connection per request would measure PostgreSQL's start-up, not the framework), and
DRF runs without its default authentication classes and browsable renderer.
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
        conn_health_checks=False,  # Django's default
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
