"""WebSocket routes: /ws/chat/ for customers, /ws/agents/ for agents.

The agent socket may be authenticated by the admin's session cookie, which a browser sends
from any page, so its Origin is checked (cross-site WebSocket hijacking). The customer
socket carries no cookie credential: its secret is the session_id in the first frame.
"""

from urllib.parse import urlparse

from channels.auth import AuthMiddlewareStack
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.urls import path

from .agent import AgentConsumer
from .customer import CustomerConsumer


def agent_socket_origins() -> list[str]:
    """Origins allowed to open the agent socket: ALLOWED_HOSTS, plus the hosts of
    CSRF_TRUSTED_ORIGINS and CHAT_WEBSOCKET_URL (the admin page's host when the sockets
    are served from another one)."""
    origins = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not origins:
        origins = ["localhost", "127.0.0.1", "[::1]"]
    for url in [*settings.CSRF_TRUSTED_ORIGINS, settings.CHAT_WEBSOCKET_URL]:
        host = urlparse(url).hostname if url else None
        if host:
            origins.append(host)
    return origins


class SettingsOriginValidator(OriginValidator):
    """OriginValidator that reads the allowed origins from the settings on each connection."""

    def __init__(self, application):
        super().__init__(application, allowed_origins=[])

    def valid_origin(self, parsed_origin):
        self.allowed_origins = agent_socket_origins()
        return super().valid_origin(parsed_origin)


websocket_urlpatterns = [
    path("ws/chat/", CustomerConsumer.as_asgi()),
    path("ws/agents/", SettingsOriginValidator(AuthMiddlewareStack(AgentConsumer.as_asgi()))),
]
