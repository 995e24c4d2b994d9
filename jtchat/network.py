"""The client's IP address, for rate limits and for the ``user_ip`` stored with a new chat.

``REMOTE_ADDR`` is the only address nobody can forge: it is the peer of the TCP connection.
Behind reverse proxies (on Render: Cloudflare, then Render's proxy), that peer is the last
proxy, and the client's address is in ``X-Forwarded-For``, which each proxy extends on the
right with the address it saw (``client, cloudflare-edge`` on Render). Only
the entries appended by proxies we trust are believable; anything to their left was sent
by the client and may be made up. So with ``TRUSTED_PROXY_COUNT = n`` the client is the
n-th entry from the right (the right-most one that no trusted proxy vouches for being a
proxy itself), and with 0 (the default) the header is ignored.
"""

import ipaddress

from django.conf import settings


def _valid_ip(value: str) -> str | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The client's address as far as the trusted proxies vouch for it, or None."""
    remote = _valid_ip(request.META.get("REMOTE_ADDR") or "")
    trusted = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if trusted <= 0:
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    entries = [entry for entry in forwarded.split(",") if entry.strip()]
    if not entries:
        return remote
    # Fewer entries than trusted proxies: every entry came from a trusted proxy.
    candidate = entries[-min(trusted, len(entries))]
    return _valid_ip(candidate) or remote
