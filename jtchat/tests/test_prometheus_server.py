"""A real Prometheus scraping the production pair: gunicorn (2 workers) and the socket process.

Prometheus runs on 127.0.0.1 with its own port and data directory, scraping both every
second with the bearer token; the test drives a few chats over HTTP and a socket, kills the
worker that served the first requests (its counts must survive it), and asks Prometheus'
HTTP API what it saw.
"""

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import websockets
from prometheus_client.multiprocess import MultiProcessCollector

from jtchat.testing import BASE_DIR, ServerProcess, free_port, server_env, skip_or_fail, wait_for_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.timeout(180),
]

TOKEN = "prometheus-test-token-5f1c9a"
CHATS = 3
MESSAGES_PER_CHAT = 4


def start(name: str, command: list[str], env: dict, port: int, tmp_path: Path) -> ServerProcess:
    log_path = tmp_path / f"{name}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = ServerProcess(port=port, process=process, log_path=log_path)
    try:
        wait_for_port(port, timeout=30, process=process)
    except RuntimeError as exc:
        server.stop()
        raise RuntimeError(f"{exc}\n{server.log()}") from exc
    return server


@pytest.fixture
def stack(redis_layer, tmp_path):
    if not shutil.which("prometheus"):
        skip_or_fail("prometheus not installed (Debian package prometheus)")
    web_port, ws_port, prometheus_port = free_port(), free_port(), free_port()
    metrics_dir = tmp_path / "multiproc"
    env = server_env(redis_layer, PYTHON=sys.executable, HOST="127.0.0.1", METRICS_TOKEN=TOKEN)
    servers = []
    try:
        servers.append(
            start(
                "web",
                [str(BASE_DIR / "bin" / "serve-web")],
                {
                    **env,
                    "PORT": str(web_port),
                    "WEB_CONCURRENCY": "2",
                    "GUNICORN_THREADS": "2",
                    "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
                },
                web_port,
                tmp_path,
            )
        )
        servers.append(
            start(
                "ws",
                [str(BASE_DIR / "bin" / "serve-ws")],
                {**env, "PORT": str(ws_port), "WEB_CONCURRENCY": "1"},
                ws_port,
                tmp_path,
            )
        )
        config = tmp_path / "prometheus.yml"
        config.write_text(
            json.dumps(  # JSON is YAML
                {
                    "global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
                    "scrape_configs": [
                        {
                            "job_name": job,
                            "authorization": {"type": "Bearer", "credentials": TOKEN},
                            "static_configs": [{"targets": [f"127.0.0.1:{port}"]}],
                        }
                        for job, port in (("jtchat-web", web_port), ("jtchat-ws", ws_port))
                    ],
                }
            )
        )
        servers.append(
            start(
                "prometheus",
                [
                    "prometheus",
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{prometheus_port}",
                    "--log.level=warn",
                ],
                dict(os.environ),
                prometheus_port,
                tmp_path,
            )
        )
        yield {
            "web": f"http://127.0.0.1:{web_port}",
            "ws": f"ws://127.0.0.1:{ws_port}",
            "prometheus": f"http://127.0.0.1:{prometheus_port}",
            "web_server": servers[0],
            "metrics_dir": metrics_dir,
        }
    finally:
        for server in reversed(servers):
            server.stop()


def query(prometheus: str, expr: str) -> list[dict]:
    answer = httpx.get(f"{prometheus}/api/v1/query", params={"query": expr}, timeout=5).json()
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


def eventually(prometheus: str, expr: str, expected: float, timeout: float = 40.0) -> list[dict]:
    """Prometheus' answer once its single value is ``expected`` (scrapes every second).

    Series are read with ``last_over_time``: on a busy machine a scrape may pass its
    one-second timeout, and Prometheus then marks the target's series stale until the next.
    """
    deadline = time.monotonic() + timeout
    result: list[dict] = []
    while time.monotonic() < deadline:
        result = query(prometheus, expr)
        if len(result) == 1 and float(result[0]["value"][1]) == expected:
            return result
        time.sleep(0.5)
    raise AssertionError(f"{expr}: expected {expected}, Prometheus says {result}")


def requests_by_worker(metrics_dir: Path) -> dict[int, float]:
    """Messages posted (201) as each gunicorn worker counted them, from its own file."""
    counts = {}
    for path in metrics_dir.glob("counter_*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])
        counts[pid] = sum(
            sample.value
            for metric in MultiProcessCollector.merge([str(path)])
            for sample in metric.samples
            if sample.name == "jtchat_http_requests_total"
            and sample.labels.get("route") == "chat-message"
            and sample.labels.get("status") == "201"
        )
    return counts


def open_chats_and_post(web: str, chats: int) -> list[str]:
    """Each request on a connection of its own, several at once: both workers take some."""
    with ThreadPoolExecutor(max_workers=6) as pool:
        keys = list(
            pool.map(
                lambda n: httpx.post(f"{web}/api/chat/session", json={}).json()["session_id"], range(chats)
            )
        )

        def post(item):
            key, n = item
            answer = httpx.post(
                f"{web}/api/chat/message", json={"session_id": key, "content": f"Mensagem {n}"}
            )
            assert answer.status_code == 201, answer.text

        list(pool.map(post, [(key, n) for key in keys for n in range(MESSAGES_PER_CHAT)]))
    return keys


def test_prometheus_sees_the_queue_and_every_workers_requests(stack):
    web, prometheus = stack["web"], stack["prometheus"]
    eventually(prometheus, 'count(max_over_time(up{job=~"jtchat-.*"}[1m]) == 1)', 2)

    open_chats_and_post(web, CHATS - 1)
    first = requests_by_worker(stack["metrics_dir"])
    busy_pid = max(first, key=first.get)
    assert first[busy_pid] > 0
    # The worker that served the most goes away; what it counted must stay counted.
    os.kill(busy_pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while busy_pid in _worker_pids(stack["web_server"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    open_chats_and_post(web, 1)

    posted = CHATS * MESSAGES_PER_CHAT
    by_worker = requests_by_worker(stack["metrics_dir"])
    assert sum(by_worker.values()) == posted
    assert len([pid for pid, count in by_worker.items() if count]) >= 2  # summed across workers
    eventually(
        prometheus,
        'sum(last_over_time(jtchat_http_requests_total{route="chat-message", status="201"}[1m]))',
        posted,
    )
    eventually(
        prometheus,
        'sum(last_over_time(jtchat_http_requests_total{route="chat-session", status="201"}[1m]))',
        CHATS,
    )

    # The queue comes from the web service alone, read from the database at each scrape.
    waiting = eventually(prometheus, "last_over_time(jtchat_chats_waiting[1m])", CHATS)
    assert waiting[0]["metric"]["job"] == "jtchat-web"
    eventually(prometheus, 'sum(last_over_time(jtchat_messages_total{author="customer"}[1m]))', posted)

    # The socket process: a customer's socket open, a message delivered to it.
    async def socket_part():
        key = httpx.post(f"{web}/api/chat/session", json={}).json()["session_id"]
        async with websockets.connect(f"{stack['ws']}/ws/chat/") as socket:
            await socket.send(json.dumps({"type": "hello", "session_id": key, "after": 0}))
            assert json.loads(await asyncio.wait_for(socket.recv(), 10))["type"] == "ready"
            await asyncio.to_thread(
                httpx.post, f"{web}/api/chat/message", json={"session_id": key, "content": "Ao vivo"}
            )
            while json.loads(await asyncio.wait_for(socket.recv(), 10)).get("type") != "message":
                pass
            await asyncio.to_thread(
                eventually,
                prometheus,
                'last_over_time(jtchat_live_sockets_open{job="jtchat-ws", kind="customer"}[1m])',
                1,
            )
            await asyncio.to_thread(
                eventually,
                prometheus,
                'last_over_time(jtchat_live_delivery_lag_seconds_count{job="jtchat-ws"}[1m])',
                1,
            )

    asyncio.run(socket_part())
    eventually(prometheus, "last_over_time(jtchat_chats_waiting[1m])", CHATS + 1)
    lag = query(
        prometheus, 'last_over_time(jtchat_live_delivery_lag_seconds_bucket{job="jtchat-ws", le="1.0"}[1m])'
    )
    assert float(lag[0]["value"][1]) == 1  # delivered well within a second


def _worker_pids(server: ServerProcess) -> set[int]:
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if parent == server.process.pid:
                pids.add(int(entry.name))
    return pids
