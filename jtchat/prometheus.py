"""Prometheus metrics: where they are kept, and ``/metrics``, which only operators may read.

Two kinds of process serve JT Chat, and each keeps its metrics its own way:

* gunicorn's workers (``bin/serve-web``) share one set of figures: prometheus-client's
  multiprocess mode, each worker writing its counters and histograms to files in
  ``PROMETHEUS_MULTIPROC_DIR`` (gunicorn.conf.py makes and empties it at start and marks dead
  workers), and whichever worker answers a scrape adds up every worker's files;
* the socket process (``bin/serve-ws``, one uvicorn process) keeps its own registry in
  memory; it answers ``/metrics`` over HTTP too (jtchat/asgi.py never lets it inherit the
  multiprocess directory).

What the database knows (the queue, the jobs) is read when Prometheus scrapes, by collectors
that apps register with :func:`register_scrape_collector`; only processes that serve pages
include them, so the figures come from one place, not once per process.

``/metrics`` answers a request bearing ``Authorization: Bearer <METRICS_TOKEN>``, or one from
an address in ``METRICS_ALLOWED_NETWORKS``; anything else gets 401 or 403 and no figures.
``METRICS_ENABLED=0`` turns the instrumentation off (no middleware, no-op metrics): the
HTTP benchmark measures the product with and without it.
"""

import hmac
import ipaddress
import logging
import os
from collections.abc import Iterable

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector

from jtchat.network import client_ip

logger = logging.getLogger(__name__)

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str | None:
    """The directory gunicorn's workers share their figures in (None: one process)."""
    return os.environ.get(MULTIPROCESS_ENV) or None


def enabled() -> bool:
    return getattr(settings, "METRICS_ENABLED", True)


class _NoMetric:
    """What a metric is when METRICS_ENABLED is off: every call does nothing."""

    def labels(self, *args, **kwargs):
        return self

    def inc(self, amount=1):
        pass

    def dec(self, amount=1):
        pass

    def set(self, value):
        pass

    def observe(self, amount):
        pass


NO_METRIC = _NoMetric()


def counter(name: str, documentation: str, labelnames: Iterable[str] = ()):
    return Counter(name, documentation, labelnames) if enabled() else NO_METRIC


def histogram(name: str, documentation: str, labelnames: Iterable[str] = (), *, buckets):
    return Histogram(name, documentation, labelnames, buckets=buckets) if enabled() else NO_METRIC


def gauge(name: str, documentation: str, labelnames: Iterable[str] = ()):
    """A gauge of this process (live sockets); gunicorn's workers would each report theirs."""
    return Gauge(name, documentation, labelnames, multiprocess_mode="livesum") if enabled() else NO_METRIC


_scrape_collectors: list = []


def register_scrape_collector(collector) -> None:
    """Add a collector that reads shared state (the database) when Prometheus scrapes.

    Processes that serve pages include it in ``/metrics``; the socket process does not, so
    a figure of the whole system is reported once.
    """
    if collector not in _scrape_collectors:
        _scrape_collectors.append(collector)


class _Exposition:
    """The collectors one scrape reads, as the registry ``generate_latest`` expects."""

    def __init__(self, collectors: list):
        self.collectors = collectors

    def collect(self):
        for collector in self.collectors:
            yield from collector.collect()


def exposition(*, include_shared: bool) -> bytes:
    """This process's metrics (every worker's, in multiprocess mode) in the text format."""
    directory = multiprocess_dir()
    if directory:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=directory)
        collectors = [registry]
    else:
        collectors = [REGISTRY]
    if include_shared:
        collectors.extend(_scrape_collectors)
    return generate_latest(_Exposition(collectors))


def _allowed_networks() -> list:
    return [ipaddress.ip_network(item, strict=False) for item in settings.METRICS_ALLOWED_NETWORKS]


def _bearer_token(request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def scrape_refusal(request) -> JsonResponse | None:
    """None when the request may read the metrics; otherwise the 401/403 answer."""
    token = _bearer_token(request)
    expected = settings.METRICS_TOKEN
    if token is not None:
        if expected and hmac.compare_digest(token.encode(), expected.encode()):
            return None
        return JsonResponse(
            {"error": _("This token cannot read the metrics."), "code": "forbidden"}, status=403
        )
    address = client_ip(request)
    if address is not None:
        ip = ipaddress.ip_address(address)
        if any(ip in network for network in _allowed_networks()):
            return None
    response = JsonResponse(
        {"error": _("Reading the metrics needs the metrics token."), "code": "not_authenticated"}, status=401
    )
    response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


@csrf_exempt
@never_cache
@require_GET
def metrics_view(request):
    """``GET /metrics``: Prometheus' text format, for operators only (see module docstring)."""
    refusal = scrape_refusal(request)
    if refusal is not None:
        return refusal
    if not enabled():
        return JsonResponse({"error": _("Metrics are turned off."), "code": "not_found"}, status=404)
    include_shared = not settings.ASGI_PROCESS
    return HttpResponse(exposition(include_shared=include_shared), content_type=CONTENT_TYPE_PLAIN_0_0_4)
