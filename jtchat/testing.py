"""Test helpers: real server processes and required-service checks."""

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

BASE_DIR = Path(settings.BASE_DIR)
CHROMIUM = "/usr/bin/chromium"


def services_required() -> bool:
    return os.environ.get("JTCHAT_REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str):
    """Skip on a bare machine; fail in CI, where every service must be there."""
    if services_required():
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


def redis_test_url() -> str:
    url = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/6")
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        client.ping()
    except Exception as exc:  # noqa: BLE001
        skip_or_fail(f"Redis not reachable at {url}: {exc}")
    return url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not start in {timeout}s")


def server_env(redis_url: str, **extra: str) -> dict:
    """Environment for a server process that shares this test run's database and Redis."""
    env = dict(os.environ)
    db = connection.settings_dict
    env.pop("DATABASE_URL", None)
    # Importing jtchat.asgi in this process (the consumers' tests do) marks it an ASGI process;
    # a server started from here decides that for itself (jtchat/asgi.py sets it).
    env.pop("DJANGO_ASGI_PROCESS", None)
    if db["ENGINE"] == "django.db.backends.sqlite3":
        env["SQLITE_PATH"] = str(db["NAME"])
    else:
        env["DATABASE_URL"] = (
            f"postgres://{db['USER'] or 'postgres'}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}"
            f":{db['PORT'] or 5432}/{db['NAME']}"
        )
    env.update(
        DJANGO_SETTINGS_MODULE="jtchat.settings_test",
        REDIS_URL=redis_url,
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


@dataclass
class ServerProcess:
    port: int
    process: subprocess.Popen
    log_path: Path
    extra: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def start_asgi_server(redis_url: str, tmp_path: Path, name: str = "asgi", **env_extra: str) -> ServerProcess:
    """Start ``uvicorn jtchat.asgi:application`` (HTTP and WebSockets) on a free port."""
    port = free_port()
    log_path = tmp_path / f"{name}-{port}.log"
    log = open(log_path, "wb")  # noqa: SIM115 (kept open for the child's lifetime)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "jtchat.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--lifespan",
            "off",
        ],
        cwd=BASE_DIR,
        env=server_env(redis_url, **env_extra),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = ServerProcess(port=port, process=process, log_path=log_path)
    try:
        wait_for_port(port, process=process)
    except RuntimeError as exc:
        server.stop()
        raise RuntimeError(f"{exc}\n{server.log()}") from exc
    return server
