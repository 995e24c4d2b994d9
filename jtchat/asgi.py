"""ASGI entry point: HTTP and WebSockets (runserver with daphne, or the socket server)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jtchat.settings")
os.environ.setdefault("DJANGO_ASGI_PROCESS", "1")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

application = ProtocolTypeRouter({"http": django_asgi_app})
