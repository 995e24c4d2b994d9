"""Sentry, when ``SENTRY_DSN`` is set: errors of the pages, the API, the sockets and the jobs.

Nothing personal leaves. The SDK is allowed to gather what it usually does (the request body,
frame variables) so that :func:`scrub` can learn the values behind sensitive names (message
text, session keys, e-mails, names, comments) and blank them wherever else they appear
(an exception's message, a log line); then it drops the body, the variables, cookies,
headers other than a few harmless ones, the user's IP and e-mail, and masks anything shaped
like an e-mail, a UUID (session keys) or an IP address. ``send_default_pii`` stays off.

A DSN the SDK cannot read logs a warning at start-up and the product runs without Sentry.
"""

import ipaddress
import logging
import os
import re
import subprocess

from django.conf import settings

logger = logging.getLogger(__name__)

FILTERED = "[Filtered]"

# Keys whose values are personal or secret wherever they appear (request data, extra, tags…).
SENSITIVE_KEYS = frozenset(
    {
        "content",
        "text",
        "message_text",
        "session_id",
        "session_key",
        "sessionid",
        "x-chat-session",
        "http_x_chat_session",
        "key",
        "ticket",
        "customer_name",
        "customer_email",
        "email",
        "e-mail",
        "name",
        "first_name",
        "last_name",
        "display_name",
        "username",
        "comment",
        "satisfaction_comment",
        "tracking_code",
        "user_ip",
        "ip",
        "ip_address",
        "remote_addr",
        "http_x_forwarded_for",
        "x-forwarded-for",
        "x-real-ip",
        "user_agent",
        "user-agent",
        "password",
        "token",
        "authorization",
        "cookie",
        "cookies",
        "csrftoken",
        "csrfmiddlewaretoken",
        "x-csrftoken",
        "set-cookie",
    }
)
# Request headers worth keeping: they say nothing about who sent the request.
SAFE_HEADERS = frozenset({"content-type", "content-length", "accept", "origin", "host", "x-forwarded-proto"})
# Parts of an event that describe the program, not the people using it.
PROGRAM_PARTS = frozenset(
    {
        "event_id",
        "timestamp",
        "start_timestamp",
        "level",
        "sdk",
        "contexts",
        "modules",
        "debug_meta",
        "release",
        "environment",
        "platform",
        "type",
    }
)

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
UUID = re.compile(r"\b[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\b")
IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
IPV6_CANDIDATE = re.compile(r"(?<![\w:])[0-9a-fA-F:]*:[0-9a-fA-F:]*:[0-9a-fA-F:.]*(?![\w:])")
SHORTEST_LEARNED_VALUE = 3  # shorter values would blank unrelated text


def _learn(value, learned: set[str]) -> None:
    if isinstance(value, str):
        if len(value.strip()) >= SHORTEST_LEARNED_VALUE:
            learned.add(value.strip())
    elif isinstance(value, dict):
        for item in value.values():
            _learn(item, learned)
    elif isinstance(value, list | tuple):
        for item in value:
            _learn(item, learned)


def _collect(value, learned: set[str]) -> None:
    """Remember every value found under a sensitive key, anywhere in ``value``."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and key.lower() in SENSITIVE_KEYS:
                _learn(item, learned)
            else:
                _collect(item, learned)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect(item, learned)


def _mask_text(text: str, learned: list[str]) -> str:
    for value in learned:
        if value in text:
            text = text.replace(value, FILTERED)
    text = EMAIL.sub(FILTERED, text)
    text = UUID.sub(FILTERED, text)
    text = IPV4.sub(FILTERED, text)
    return IPV6_CANDIDATE.sub(_mask_ipv6, text)


def _mask_ipv6(match: re.Match) -> str:
    """An IPv6 address, not a time of day or a Python ``a::b``."""
    try:
        ipaddress.IPv6Address(match.group(0))
    except ValueError:
        return match.group(0)
    return FILTERED


def _mask(value, learned: list[str]):
    """``value`` with sensitive keys blanked and every string masked."""
    if isinstance(value, str):
        return _mask_text(value, learned)
    if isinstance(value, dict):
        return {
            key: FILTERED if isinstance(key, str) and key.lower() in SENSITIVE_KEYS else _mask(item, learned)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_mask(item, learned) for item in value]
    return value


def _scrub_request(request: dict) -> dict:
    headers = request.get("headers") or {}
    return {
        "method": request.get("method"),
        "url": request.get("url"),  # path only: session keys never travel in URLs
        "headers": {name: value for name, value in headers.items() if name.lower() in SAFE_HEADERS},
    }


def scrub(event: dict, hint=None) -> dict:
    """Sentry's ``before_send``: the event without message text, keys, e-mails, names, IPs
    or cookies (module docstring)."""
    learned: set[str] = set()
    for part, value in event.items():
        if part not in PROGRAM_PARTS:
            _collect(value, learned)
    request = event.get("request")
    if isinstance(request, dict):
        data = request.get("data")
        if isinstance(data, dict | list):
            _collect(data, learned)
        else:
            _learn(data, learned)  # a body that is not JSON: whatever was typed
        _learn(request.get("cookies"), learned)
        _learn(request.get("query_string"), learned)
        event["request"] = _scrub_request(request)
    user = event.get("user")
    if isinstance(user, dict):
        _learn({key: value for key, value in user.items() if key != "id"}, learned)
        event["user"] = {"id": user["id"]} if "id" in user else {}
    for container in ("exception", "threads"):
        for item in (event.get(container) or {}).get("values") or []:
            for frame in (item.get("stacktrace") or {}).get("frames") or []:
                frame.pop("vars", None)  # what sensitive names held was learned above
    crumbs = event.get("breadcrumbs")
    for crumb in (crumbs or {}).get("values", []) if isinstance(crumbs, dict) else crumbs or []:
        if crumb.get("category") == "query":
            _learn(crumb.pop("data", None), learned)  # SQL parameters: rows as typed
    for span in event.get("spans") or []:
        _learn((span.get("data") or {}).pop("db.params", None), learned)
    # Longest first, so that a value containing a shorter one is blanked whole.
    ordered = sorted(learned, key=len, reverse=True)
    for part in list(event):
        if part not in PROGRAM_PARTS and part != "user":
            event[part] = _mask(event[part], ordered)
    return event


def release() -> str | None:
    """The deployed commit: Render's RENDER_GIT_COMMIT, else ``git rev-parse HEAD``."""
    commit = os.environ.get("SENTRY_RELEASE") or os.environ.get("RENDER_GIT_COMMIT")
    if commit:
        return commit.strip()
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    return result.stdout.strip() or None


def init() -> bool:
    """Start Sentry when ``SENTRY_DSN`` is set; True when it runs.

    A DSN the SDK cannot read is logged as a warning and the product goes on without it.
    """
    dsn = settings.SENTRY_DSN
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.utils import BadDsn

    try:
        sentry_sdk.init(
            dsn=dsn,
            integrations=[DjangoIntegration()],
            release=release(),
            environment=settings.SENTRY_ENVIRONMENT,
            send_default_pii=False,
            # Gathered for scrub() to learn what to blank, then dropped by it.
            include_local_variables=True,
            max_request_body_size="medium",
            before_send=scrub,
            traces_sample_rate=settings.SENTRY_TRACES_SAMPLE_RATE,
            before_send_transaction=scrub,
        )
    except BadDsn as exc:
        logger.warning(
            "SENTRY_DSN is not a valid Sentry DSN (%s): errors are not reported to Sentry. "
            "Expected https://<key>@<host>/<project id>.",
            exc,
        )
        return False
    return True


def wrap_asgi(application):
    """The ASGI application inside Sentry's ASGI middleware when Sentry runs (socket
    consumers' errors are reported with the socket's route)."""
    import sentry_sdk

    if not sentry_sdk.get_client().is_active():
        return application
    from sentry_sdk.integrations.asgi import SentryAsgiMiddleware

    return SentryAsgiMiddleware(application)
