"""gunicorn settings for the pages and the API (WSGI); the sockets run in bin/serve-ws.

On a 2-core machine, one INSERT per request on PostgreSQL: WSGI `gthread` workers that keep
their database connections served ~2,300 req/s, Django's ASGI handler under uvicorn ~650 and
WSGI inside uvicorn (a2wsgi) ~1,270 (DESIGN.md). So HTTP stays on WSGI and only /ws/ goes to
the ASGI process (README, "Serving (production topology)").
"""

import os

from jtchat.serving import mark_worker_dead, prepare_metrics_dir, refuse_many_processes_without_redis

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
# Defaults sized for a 2-core machine: two processes per core, two threads each. A request
# holds the GIL for most of its ~2 ms of CPU, so threads of one process mostly wait for each
# other; on this machine 4 workers x 2 threads served POST /api/chat/message at ~590 req/s
# where 2 x 4 swung between ~340 and ~600 (bench/http_bench.py). Same 8 database connections
# either way. Render's starter plan (half a CPU) sets 2 x 4 in render.yaml.
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
keepalive = 5
timeout = 30
graceful_timeout = 20
# Static files are served by WhiteNoise from each worker; nothing is preloaded so that each
# worker opens its own database and Redis connections after the fork.
preload_app = False
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None  # jtchat.request logs each request
errorlog = "-"


def on_starting(server):
    """Refuse several workers without Redis: their events would not reach the sockets. Then
    give the workers one directory to share their metrics in (PROMETHEUS_MULTIPROC_DIR, or a
    new one), emptied, so that whichever worker answers /metrics reports them all."""
    refuse_many_processes_without_redis(
        server.cfg.workers, "gunicorn (workers / WEB_CONCURRENCY)", "WEB_CONCURRENCY=1"
    )
    prepare_metrics_dir()


def child_exit(server, worker):
    """A worker died or was replaced: prometheus-client's bookkeeping for its files."""
    mark_worker_dead(worker.pid)
