"""Project middleware: request metrics, a Content-Security-Policy on HTML pages and one log
line per request."""

import base64
import functools
import hashlib
import importlib.util
import logging
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.db import connection
from django.utils.deprecation import MiddlewareMixin

from jtchat import prometheus

request_logger = logging.getLogger("jtchat.request")

CSP_HEADER = "Content-Security-Policy"


def websocket_origins(request) -> list[str]:
    """Origins the pages may open sockets to: this host (ws/wss) and CHAT_WEBSOCKET_URL's."""
    origins = []
    try:
        host = request.get_host()
    except DisallowedHost:
        host = ""
    if host:
        origins.append(f"{'wss' if request.is_secure() else 'ws'}://{host}")
    configured = urlsplit(settings.CHAT_WEBSOCKET_URL or "")
    if configured.netloc:
        scheme = {"http": "ws", "https": "wss"}.get(configured.scheme, configured.scheme)
        if scheme in ("ws", "wss"):
            origin = f"{scheme}://{configured.netloc}"
            if origin not in origins:
                origins.append(origin)
    return origins


@functools.cache
def _storage_origin(endpoint: str, bucket: str) -> tuple[str, ...]:
    if endpoint:
        parts = urlsplit(endpoint)
        host = parts.netloc
        return (f"{parts.scheme}://{host}", f"{parts.scheme}://*.{host}")
    if bucket:
        return (f"https://{bucket}.s3.amazonaws.com", "https://*.amazonaws.com")
    return ()


def attachment_origins() -> tuple[str, ...]:
    """Where signed attachment URLs point when the attachments live in a bucket."""
    options = settings.STORAGES.get("attachments", {}).get("OPTIONS", {})
    return _storage_origin(options.get("endpoint_url", ""), options.get("bucket_name", ""))


# Library templates with a fixed inline <style> block (no template variables inside it).
TEMPLATES_WITH_INLINE_STYLE = (
    ("django.contrib.admin", "templates/admin/change_list.html"),
    ("drf_spectacular", "templates/drf_spectacular/swagger_ui.html"),
)


@functools.cache
def library_inline_style_hashes() -> tuple[str, ...]:
    """CSP hashes of the fixed inline ``<style>`` blocks in the libraries' templates.

    Django 5.2's admin has no inline scripts and no style attributes, but its change list
    without actions carries one ``<style>`` block, and so does the Swagger UI page; allowing
    exactly those blocks by their hashes keeps ``'unsafe-inline'`` out of style-src.
    """
    hashes = []
    for package, relative in TEMPLATES_WITH_INLINE_STYLE:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        template = Path(next(iter(spec.submodule_search_locations))) / relative
        try:
            text = template.read_text()
        except OSError:
            continue
        for block in re.findall(r"<style>(.*?)</style>", text, flags=re.DOTALL):
            digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
            hashes.append(f"'sha256-{digest}'")
    return tuple(hashes)


def content_security_policy(request) -> str:
    """No inline or third-party scripts anywhere; see README, Security, for style-src."""
    style_src = " ".join(["'self'", *library_inline_style_hashes(), *settings.CSP_STYLE_SRC_EXTRA])
    directives = [
        "default-src 'self'",
        "script-src 'self'",
        f"style-src {style_src}",
        # blob: the customer page shows files it fetched with the chat's key; the bucket: with
        # object storage, agents' browsers are sent to signed URLs of the files.
        "img-src " + " ".join(["'self'", "data:", "blob:", *attachment_origins()]),
        "font-src 'self'",
        "connect-src " + " ".join(["'self'", *websocket_origins(request)]),
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
    return "; ".join(directives)


class ContentSecurityPolicyMiddleware(MiddlewareMixin):
    """Adds the policy to every HTML answer (chat page, admin, API docs) that has none."""

    def process_response(self, request, response):
        if CSP_HEADER not in response and response.get("Content-Type", "").startswith("text/html"):
            response[CSP_HEADER] = content_security_policy(request)
        return response


def _staff_user_id(request) -> int | None:
    """The signed-in staff user's id.

    Without a session cookie nobody is signed in, and the user is not loaded for the log (the
    customer's API calls never load it). With one, the user is whoever the request was for;
    the log never fails a request, whatever loading it raises.
    """
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return None
    try:
        user = getattr(request, "user", None)
        return user.pk if getattr(user, "is_staff", False) else None
    except Exception:
        return None


class RequestLogMiddleware(MiddlewareMixin):
    """One structured line per request: method, path, status, duration, staff user id.

    The path only: the query string may carry anything a client typed. Session keys travel
    in bodies and headers, never in paths, and neither is logged.
    """

    def process_request(self, request):
        request._log_started = time.perf_counter()

    def process_response(self, request, response):
        started = getattr(request, "_log_started", None)
        duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
        path = request.path[:300]
        request_logger.info(
            "%s %s %s",
            request.method,
            path,
            response.status_code,
            extra={
                "method": request.method,
                "path": path,
                "status": response.status_code,
                "duration_ms": duration_ms,
                "user_id": _staff_user_id(request),
            },
        )
        return response


HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "unmatched"
STATIC_ROUTE = "static"

REQUESTS = prometheus.counter(
    "jtchat_http_requests",
    "HTTP requests answered, by route name, method and status.",
    ["route", "method", "status"],
)
REQUEST_SECONDS = prometheus.histogram(
    "jtchat_http_request_duration_seconds",
    "Time from the request reaching Django to its answer, by route name and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
REQUEST_QUERIES = prometheus.histogram(
    "jtchat_http_request_db_queries",
    "Database queries run while answering one request, by route name.",
    ["route"],
    buckets=(0, 1, 2, 3, 5, 8, 13, 21, 34, 55),
)


def route_label(request) -> str:
    """The route's name (``chat-api:message``), never the path: ids and keys stay out of the
    labels, and their number stays that of the routes. Unresolved paths share one label."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name or match.route or UNMATCHED_ROUTE
    if request.path_info.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return STATIC_ROUTE  # answered by WhiteNoise before any URL is resolved
    return UNMATCHED_ROUTE


class _QueryCounter:
    """``connection.execute_wrapper`` hook: counts the request's queries, changes nothing."""

    __slots__ = ("count",)

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


class RequestMetricsMiddleware:
    """Counts each request by route, method and status; times it; counts its queries.

    The labelled series are looked up once per (route, method, status) and kept, so a
    request pays for three updates of shared memory (see README, "Operations", for the
    measured cost on ``POST /api/chat/message``).
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self._requests: dict[tuple, object] = {}
        self._timings: dict[tuple, tuple] = {}

    def __call__(self, request):
        queries = _QueryCounter()
        started = time.perf_counter()
        with connection.execute_wrapper(queries):
            response = self.get_response(request)
        elapsed = time.perf_counter() - started
        route = route_label(request)
        method = request.method if request.method in HTTP_METHODS else "other"
        key = (route, method, response.status_code)
        requests = self._requests.get(key)
        if requests is None:
            requests = self._requests[key] = REQUESTS.labels(route, method, str(response.status_code))
        timing = self._timings.get(key[:2])
        if timing is None:
            timing = self._timings[key[:2]] = (
                REQUEST_SECONDS.labels(route, method),
                REQUEST_QUERIES.labels(route),
            )
        requests.inc()
        timing[0].observe(elapsed)
        timing[1].observe(queries.count)
        return response
