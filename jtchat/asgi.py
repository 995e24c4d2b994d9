"""ASGI entry point: WebSockets (and HTTP) — runserver with daphne, or uvicorn in production.

In production the pages and the API are served by gunicorn (WSGI) and this process serves
the sockets at /ws/ (see README, "Serving (production topology)"). It still answers HTTP,
for the health check and for single-process set-ups.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jtchat.settings")
os.environ.setdefault("DJANGO_ASGI_PROCESS", "1")
# The socket process keeps its metrics in its own registry: gunicorn's multiprocess directory,
# if the environment passed it on, belongs to the web workers (jtchat/prometheus.py).
os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)

from jtchat.serving import refuse_many_processes_without_redis, uvicorn_worker_count  # noqa: E402

refuse_many_processes_without_redis(
    uvicorn_worker_count(), "uvicorn --workers / WEB_CONCURRENCY", "uvicorn --workers 1"
)

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from chat.live.routing import websocket_urlpatterns  # noqa: E402
from jtchat import sentry  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,  # Sentry's Django integration covers it
        "websocket": sentry.wrap_asgi(URLRouter(websocket_urlpatterns)),
    }
)
