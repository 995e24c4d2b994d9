"""How the product is served: one process for `make run`, WSGI + ASGI processes in production."""

import asyncio
import importlib.util
import json
import os
import subprocess
import sys
from types import SimpleNamespace

import httpx
import pytest
import websockets
import yaml

from jtchat import serving
from jtchat.testing import BASE_DIR, free_port, server_env, wait_for_port

STARTUP_FAILURE = serving.STARTUP_FAILURE_EXIT_CODE


def load_gunicorn_conf():
    spec = importlib.util.spec_from_file_location("gunicorn_conf", BASE_DIR / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def without_redis_env(**extra) -> dict:
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env.update(DJANGO_SETTINGS_MODULE="jtchat.settings_test", **extra)
    return env


# --- start-up refuses several processes without Redis -----------------------------------


def test_gunicorn_uses_gthread_workers_and_refuses_several_without_redis(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))  # on_starting prepares it
    conf = load_gunicorn_conf()
    assert conf.worker_class == "gthread"
    monkeypatch.delenv("REDIS_URL", raising=False)
    conf.on_starting(SimpleNamespace(cfg=SimpleNamespace(workers=1)))
    with pytest.raises(SystemExit) as refused:
        conf.on_starting(SimpleNamespace(cfg=SimpleNamespace(workers=3)))
    assert refused.value.code == STARTUP_FAILURE
    assert "REDIS_URL" in capsys.readouterr().err
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    conf.on_starting(SimpleNamespace(cfg=SimpleNamespace(workers=3)))


def test_uvicorn_worker_count_reads_the_command_line_then_web_concurrency():
    uvicorn = ["/srv/.venv/bin/uvicorn", "jtchat.asgi:application"]
    assert serving.uvicorn_worker_count([*uvicorn, "--workers", "4"], {}) == 4
    assert serving.uvicorn_worker_count([*uvicorn, "--workers=2"], {}) == 2
    assert serving.uvicorn_worker_count(uvicorn, {"WEB_CONCURRENCY": "3"}) == 3
    assert serving.uvicorn_worker_count(uvicorn, {}) == 1
    assert serving.uvicorn_worker_count(["manage.py", "runserver"], {"WEB_CONCURRENCY": "3"}) == 1


def test_the_asgi_entry_refuses_several_uvicorn_workers_without_redis():
    code = (
        "import sys; sys.argv = ['uvicorn', 'jtchat.asgi:application', '--workers', '2']; import jtchat.asgi"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=without_redis_env(), capture_output=True, text=True
    )
    assert result.returncode == STARTUP_FAILURE
    assert "REDIS_URL is not set" in result.stderr


def test_the_socket_server_script_refuses_several_processes_without_redis():
    result = subprocess.run(
        [str(BASE_DIR / "bin" / "serve-ws")],
        env=without_redis_env(PYTHON=sys.executable, WEB_CONCURRENCY="2", PORT=str(free_port())),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == STARTUP_FAILURE
    assert "REDIS_URL is not set" in result.stderr


# --- the Render blueprint ---------------------------------------------------------------


def test_render_blueprint_declares_the_production_topology():
    blueprint = yaml.safe_load((BASE_DIR / "render.yaml").read_text())
    services = {service["name"]: service for service in blueprint["services"]}
    web, ws, kv = services["jtchat-web"], services["jtchat-ws"], services["jtchat-kv"]
    assert web["type"] == ws["type"] == "web"
    assert kv["type"] == "keyvalue"
    assert web["startCommand"] == "bin/serve-web"
    assert ws["startCommand"] == "bin/serve-ws"

    def env(service):
        return {item["key"]: item for item in service["envVars"] if "key" in item}

    for service in (web, ws):
        assert env(service)["REDIS_URL"]["fromService"] == {
            "type": "keyvalue",
            "name": "jtchat-kv",
            "property": "connectionString",
        }
        assert "fromDatabase" in env(service)["DATABASE_URL"]
    assert env(web)["CHAT_WEBSOCKET_URL"]["value"].startswith("wss://")
    assert env(ws)["SECRET_KEY"]["fromService"]["name"] == "jtchat-web"  # tickets verify there
    assert env(ws)["WEB_CONCURRENCY"]["value"] == "1"


# --- real servers -----------------------------------------------------------------------


def start(command: list[str], env: dict, port: int, log_path) -> subprocess.Popen:
    log = open(log_path, "wb")  # noqa: SIM115 (kept open for the child's lifetime)
    process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, process=process)
    except RuntimeError as exc:
        stop(process)
        raise RuntimeError(f"{exc}\n{log_path.read_text(errors='replace')}") from exc
    return process


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def first_frames(ws_url: str, key: str, then_post=None) -> list[dict]:
    async with websockets.connect(f"{ws_url}/ws/chat/") as socket:
        await socket.send(json.dumps({"type": "hello", "session_id": key, "after": 0}))
        frames = [json.loads(await asyncio.wait_for(socket.recv(), 10))]
        if then_post:
            await asyncio.to_thread(then_post)
            frames.append(json.loads(await asyncio.wait_for(socket.recv(), 10)))
        return frames


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_runserver_serves_pages_and_sockets_on_one_port_without_redis(tmp_path):
    """`make run`: runserver (daphne) with the in-memory layer, HTTP and /ws/ on one port."""
    port = free_port()
    env = server_env("", DEBUG="1")
    env.pop("REDIS_URL")
    process = start(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        env,
        port,
        tmp_path / "run.log",
    )
    try:
        base = f"http://127.0.0.1:{port}"
        key = httpx.post(f"{base}/api/chat/session", json={}).json()["session_id"]

        def post():
            httpx.post(f"{base}/api/chat/message", json={"session_id": key, "content": "Olá"})

        frames = asyncio.run(first_frames(f"ws://127.0.0.1:{port}", key, then_post=post))
        assert frames[0]["type"] == "ready"
        assert frames[1]["message"]["content"] == "Olá"
    finally:
        stop(process)


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_production_pair_gunicorn_for_http_and_uvicorn_for_sockets(redis_layer, tmp_path):
    """A message POSTed to gunicorn (WSGI) reaches a socket held by uvicorn, through Redis."""
    web_port, ws_port = free_port(), free_port()
    env = server_env(redis_layer, PYTHON=sys.executable, HOST="127.0.0.1", WEB_CONCURRENCY="2")
    web = start(
        [str(BASE_DIR / "bin" / "serve-web")], {**env, "PORT": str(web_port)}, web_port, tmp_path / "web.log"
    )
    try:
        ws = start(
            [str(BASE_DIR / "bin" / "serve-ws")],
            {**env, "PORT": str(ws_port), "WEB_CONCURRENCY": "1"},
            ws_port,
            tmp_path / "ws.log",
        )
        try:
            base = f"http://127.0.0.1:{web_port}"
            key = httpx.post(f"{base}/api/chat/session", json={}).json()["session_id"]

            def post():
                httpx.post(f"{base}/api/chat/message", json={"session_id": key, "content": "Via gunicorn"})

            frames = asyncio.run(first_frames(f"ws://127.0.0.1:{ws_port}", key, then_post=post))
            assert frames[0]["type"] == "ready"
            assert frames[1]["message"]["content"] == "Via gunicorn"
        finally:
            stop(ws)
    finally:
        stop(web)
