"""Rate limits of the public chat API (DRF throttles).

Rates come from ``settings.CHAT_THROTTLE_RATES`` (scope → ``"n/period"`` or None for no
limit), read on every request so that a deploy or a test can change them. The counters live
in the default cache: Redis when ``REDIS_URL`` is set, so every worker and machine shares
them; the per-process memory cache otherwise (one process, the embedded default).
"""

import hashlib
import logging
import uuid

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from jtchat.network import client_ip

SESSION_HEADER = "HTTP_X_CHAT_SESSION"

logger = logging.getLogger(__name__)


class ChatRateThrottle(SimpleRateThrottle):
    def get_rate(self):
        return getattr(settings, "CHAT_THROTTLE_RATES", {}).get(self.scope)

    def get_ident(self, request):
        return client_ip(request) or "unknown"

    def allow_request(self, request, view):
        """A limit that cannot be counted (the cache, Redis, is down) lets the request in:
        refusing every customer while Redis restarts would be worse than a moment unlimited."""
        try:
            return super().allow_request(request, view)
        except Exception:
            logger.warning("rate limit %s not checked: cache unavailable", self.scope, exc_info=True)
            return True


class SessionOpenIPThrottle(ChatRateThrottle):
    """Chats opened per client IP: each one lands in every agent's queue."""

    scope = "session_open_ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class MessageIPThrottle(ChatRateThrottle):
    """Messages sent per client IP, whatever the chat."""

    scope = "message_ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class MessageSessionThrottle(ChatRateThrottle):
    """Messages sent into one chat, whatever the IP (a flood into one agent's transcript).

    The key is a hash of the chat's session_id: the secret itself never becomes a cache
    key. A request without a well-formed key is left to the per-IP limit (it gets a 400 or
    404 anyway).
    """

    scope = "message_session"

    def session_key(self, request):
        """Where the call carries the key: a message's JSON body."""
        data = request.data
        return data.get("session_id") if isinstance(data, dict) else None

    def get_cache_key(self, request, view):
        raw = self.session_key(request)
        if not isinstance(raw, str):
            return None
        try:
            key = uuid.UUID(raw.strip())
        except ValueError:
            return None
        ident = hashlib.sha256(key.bytes).hexdigest()[:32]
        return self.cache_format % {"scope": self.scope, "ident": ident}


class UploadSessionThrottle(MessageSessionThrottle):
    """Files sent into one chat count with its messages. The key is read from the
    ``X-Chat-Session`` header, as uploads carry it, so that a flood is refused before its
    upload is read."""

    def session_key(self, request):
        return request.META.get(SESSION_HEADER)
