"""Shared pieces of the benchmarks: production servers on 127.0.0.1, a tiny HTTP client, figures.

Not tests: the benchmarks print figures (README, "Performance: live delivery").
"""

import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/jt_d"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/4"


def server_env(database_url: str, redis_url: str, **extra: str) -> dict:
    """Production settings (DEBUG off), on 127.0.0.1, without the per-IP rate limits: every
    simulated customer comes from the same address."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="jtchat.settings",
        DEBUG="0",
        SECRET_KEY=os.environ.get("BENCH_SECRET_KEY", "bench-only-" + "x" * 40),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        CHAT_THROTTLE_ENABLED="0",
        REQUEST_LOG_LEVEL="WARNING",
        LOG_LEVEL="WARNING",
        PYTHON=sys.executable,
        HOST="127.0.0.1",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def setup_django(env: dict) -> None:
    """Use the benchmark's database from this process (to create agents and chats fast)."""
    for key in (
        "DJANGO_SETTINGS_MODULE",
        "DEBUG",
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "DATABASE_URL",
        "REDIS_URL",
    ):
        os.environ[key] = env[key]
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()


def ensure_database(database_url: str) -> None:
    """Create the benchmark's PostgreSQL database when it does not exist yet."""
    from urllib.parse import urlparse

    import psycopg

    name = urlparse(database_url).path.lstrip("/")
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def migrate(env: dict) -> None:
    ensure_database(env["DATABASE_URL"])
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=BASE_DIR, env=env, check=True
    )


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    port: int

    def pids(self) -> list[int]:
        """The server process and its workers."""
        found = [self.process.pid]
        for child in Path("/proc").iterdir():
            if child.name.isdigit():
                try:
                    stat = (child / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(stat[1]) in found:
                    found.append(int(child.name))
        return found

    def cpu_seconds(self) -> float:
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in self.pids():
            try:
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(stat[11]) + int(stat[12])) / ticks
        return total

    def rss_mb(self, pid: int | None = None) -> float:
        for line in Path(f"/proc/{pid or self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_server(
    name: str, script: str, port: int, env: dict, log_dir: Path, base_dir: Path = BASE_DIR
) -> Server:
    """``bin/<script>`` of the checkout at ``base_dir`` (this one unless a benchmark compares)."""
    if port_open(port):
        raise SystemExit(f"port {port} is busy: pick others with --web-port/--ws-port")
    log_dir.mkdir(parents=True, exist_ok=True)
    log = open(log_dir / f"{name}.log", "wb")  # noqa: SIM115 (kept open for the child's lifetime)
    process = subprocess.Popen(
        [str(base_dir / "bin" / script)],
        cwd=base_dir,
        env={**env, "PORT": str(port)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopped with its workers
    )
    server = Server(name, process, port)
    deadline = time.monotonic() + 60
    while not port_open(port):
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise SystemExit(f"{name} did not start; see {log_dir / (name + '.log')}")
        time.sleep(0.1)
    return server


class HttpConnection:
    """One keep-alive HTTP/1.1 connection, reopened when the server closed it.

    Retrying a POST is safe here: every message carries a client_id, so a retry returns the
    first message instead of storing a second one.
    """

    def __init__(self, port: int, headers: dict[str, str] | None = None):
        self.port = port
        self.headers = "".join(f"{key}: {value}\r\n" for key, value in (headers or {}).items())
        self.reader = self.writer = None

    async def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else b""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n{self.headers}"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        ).encode()
        for attempt in range(3):
            try:
                if self.writer is None:
                    self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
                self.writer.write(head + data)
                return await self._response()
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _response(self) -> tuple[int, dict]:
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin1").split("\r\n")
        status = int(lines[0].split()[1])
        length, closing = 0, False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                closing = True
        payload = await self.reader.readexactly(length)
        if closing:
            self.close()
        return status, (json.loads(payload) if payload else {})

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def staff_headers(session_key: str, web_port: int) -> dict[str, str]:
    """Cookie + CSRF headers for an agent's staff API calls (a signed-in admin session)."""
    csrf = secrets.token_hex(16)
    return {
        "Cookie": f"sessionid={session_key}; csrftoken={csrf}",
        "X-CSRFToken": csrf,
        "Origin": f"http://127.0.0.1:{web_port}",
    }


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])
