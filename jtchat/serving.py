"""Start-up checks shared by gunicorn.conf.py and jtchat/asgi.py (no Django imports here),
and gunicorn's part of the workers' shared metrics (prepare_metrics_dir, mark_worker_dead).

The in-memory channel layer lives inside one process: with two or more processes, an
event published by one never reaches a socket held by another, and chats silently stop
being live. So more than one process without REDIS_URL is refused at start-up.
"""

import os
import sys

MANY_PROCESSES_WITHOUT_REDIS = (
    "{what} would run {count} processes but REDIS_URL is not set. Live events only cross "
    "processes through Redis (the in-memory channel layer lives inside one process), so "
    "set REDIS_URL, or run a single process ({how})."
)


# uvicorn's supervisor stops, instead of restarting the worker again and again, when a
# worker exits with this code ("failed before it started serving").
STARTUP_FAILURE_EXIT_CODE = 3


class ServingConfigError(SystemExit):
    """Stops a server at start-up after printing why, instead of a traceback."""


def refuse_many_processes_without_redis(count: int, what: str, how: str) -> None:
    if count > 1 and not os.environ.get("REDIS_URL"):
        sys.stderr.write(MANY_PROCESSES_WITHOUT_REDIS.format(what=what, count=count, how=how) + "\n")
        raise ServingConfigError(STARTUP_FAILURE_EXIT_CODE)


def uvicorn_worker_count(argv: list[str] | None = None, environ=None) -> int:
    """How many worker processes the running uvicorn command starts (1 when not uvicorn).

    uvicorn starts its workers with multiprocessing's spawn, which gives each worker the
    parent's ``sys.argv``, so the ``--workers`` option can be read here in every worker.
    """
    argv = sys.argv if argv is None else argv
    environ = os.environ if environ is None else environ
    if not argv or "uvicorn" not in argv[0]:  # .../bin/uvicorn or .../uvicorn/__main__.py
        return 1
    for index, arg in enumerate(argv):
        if arg == "--workers" and index + 1 < len(argv):
            return _as_count(argv[index + 1])
        if arg.startswith("--workers="):
            return _as_count(arg.partition("=")[2])
    return _as_count(environ.get("WEB_CONCURRENCY") or "1")


def _as_count(value: str) -> int:
    try:
        return max(int(value), 1)
    except ValueError:
        return 1


METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_metrics_dir(environ=None) -> str:
    """gunicorn's master, before any worker starts: the directory in which the workers share
    their metrics (prometheus-client's multiprocess mode), emptied of a previous run's files.

    ``PROMETHEUS_MULTIPROC_DIR`` names it, or a new temporary directory is made; the workers
    inherit the variable. Files left by an earlier run would add its counts to this one's.
    """
    import tempfile
    from pathlib import Path

    environ = os.environ if environ is None else environ
    directory = environ.get(METRICS_DIR_ENV) or tempfile.mkdtemp(prefix="jtchat-metrics-")
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for leftover in path.glob("*.db"):
        leftover.unlink()
    environ[METRICS_DIR_ENV] = str(path)
    return str(path)


def mark_worker_dead(pid: int) -> None:
    """gunicorn's ``child_exit``: the dead worker's live gauges stop counting."""
    if os.environ.get(METRICS_DIR_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
