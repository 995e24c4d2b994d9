"""Fuzz the API from outside, as integrators will call it: schemathesis against the real
server process (bin/serve-web: gunicorn, production settings, Redis, rate limits on with a
generous budget), every phase and every check, in three identities.

    .venv/bin/python -m chat.tests.fuzzing.run                   # make fuzz (longer)
    .venv/bin/python -m chat.tests.fuzzing.run --max-examples 5 --seed 1
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python -m chat.tests.fuzzing.run

The database is new for each run: a temporary SQLite file, or with a PostgreSQL
DATABASE_URL a database of its own on that server, dropped afterwards. Identities:
anonymous (the calls that need no key), customer (the customer's calls, with a chat the
hooks open), agent (every call, signed in as a manager). The exit code is non-zero when any
identity reports a failure or a warning (schemathesis.toml: warnings fail the run).
"""

import argparse
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

BASE_DIR = Path(__file__).resolve().parents[3]
CONFIG = Path(__file__).with_name("schemathesis.toml")
IDENTITIES = ("anonymous", "customer", "agent")
# The calls each identity makes (schemathesis filters); the agent makes them all.
SELECTION = {
    "anonymous": [
        "--include-operation-id=chat_session_create",
        "--include-operation-id=chat_queue_retrieve",
        "--include-operation-id=chat_reopen_create",
    ],
    "customer": ["--include-tag=customer"],
    "agent": [],
}
MANAGER = ("fuzz-gestora", "Gestores")
AGENT = ("fuzz-agente", "Agentes")
CREATE_USERS = """
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
User = get_user_model()
for username, group in {users!r}:
    user = User.objects.create_user(username, password={password!r}, is_staff=True, display_name=username)
    user.groups.add(Group.objects.get(name=group))
"""


def log(message: str) -> None:
    print(f"[fuzz] {message}", flush=True)


class Database:
    """A new database for the run: SQLite in ``directory``, or one on a PostgreSQL server."""

    def __init__(self, url: str | None, directory: Path):
        self.url = url if url and url.startswith(("postgres://", "postgresql://")) else None
        self.sqlite_path = directory / "fuzz.sqlite3"
        self.name = f"jtchat_fuzz_{os.getpid()}"

    def env(self) -> dict:
        if self.url is None:
            return {"SQLITE_PATH": str(self.sqlite_path)}
        parts = urlsplit(self.url)
        return {"DATABASE_URL": urlunsplit(parts._replace(path=f"/{self.name}"))}

    def _admin(self, statement: str) -> None:
        import psycopg

        parts = urlsplit(self.url)
        with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as connection:
            connection.execute(statement)

    def create(self) -> None:
        if self.url:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}"')
            self._admin(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        if self.url:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database: Database, redis_url: str, directory: Path, port: int) -> dict:
    (directory / "metrics").mkdir()
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "SQLITE_PATH"}}
    env.pop("DJANGO_ASGI_PROCESS", None)
    env.update(
        database.env(),
        DJANGO_SETTINGS_MODULE="jtchat.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        REDIS_URL=redis_url,
        MEDIA_ROOT=str(directory / "media"),
        PROMETHEUS_MULTIPROC_DIR=str(directory / "metrics"),
        # Rate limits stay on, with a budget no test run reaches.
        CHAT_THROTTLE_ENABLED="1",
        CHAT_RATE_SESSIONS_PER_IP="100000/min",
        CHAT_RATE_MESSAGES_PER_IP="100000/min",
        CHAT_RATE_MESSAGES_PER_SESSION="100000/min",
        CHAT_ATTACHMENT_MAX_PER_CHAT="1000",
        PYTHON=sys.executable,
        HOST="127.0.0.1",
        PORT=str(port),
        WEB_CONCURRENCY="2",
        PYTHONUNBUFFERED="1",
    )
    return env


def manage(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)


def wait_for(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer {url} in {timeout} s")


class SignedIn:
    """An agent signed in through the admin's login form. Its cookies are kept here, not in
    a cookie jar: the server marks them Secure (production settings) and the run talks
    plain HTTP to 127.0.0.1."""

    def __init__(self, base: str, username: str, password: str):
        self.client = httpx.Client(base_url=base, timeout=30)
        self.cookies: dict[str, str] = {}
        self._keep(self.client.get("/admin/login/"))
        answer = self.client.post(
            "/admin/login/",
            data={
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": self.cookies["csrftoken"],
                "next": "/admin/",
            },
            headers=self.headers(),
        )
        self._keep(answer)
        if "sessionid" not in self.cookies:
            raise RuntimeError(f"could not sign in as {username}: {answer.status_code}")

    def _keep(self, response: httpx.Response) -> None:
        for header in response.headers.get_list("set-cookie"):
            cookie = SimpleCookie()
            cookie.load(header)
            self.cookies.update({name: morsel.value for name, morsel in cookie.items()})
        self.client.cookies.clear()

    def headers(self) -> dict:
        return {
            "Cookie": "; ".join(f"{name}={value}" for name, value in self.cookies.items()),
            "X-CSRFToken": self.cookies["csrftoken"],
        }

    def get(self, path: str) -> httpx.Response:
        return self.client.get(path, headers=self.headers()).raise_for_status()


class AgentOnline:
    """The other agent's open inbox: an agent socket on bin/serve-ws, held in a thread, so
    that the agent counts as online and chats can be transferred to them (real presence).
    It closes by itself if the run deactivates that agent."""

    def __init__(self, ws_url: str, origin: str, agent: SignedIn):
        import threading

        self.ws_url, self.origin = ws_url, origin
        self.ticket = agent.get("/api/chat/agent-ticket").json()["ticket"]
        self.ready = threading.Event()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._hold, daemon=True)
        self.thread.start()
        if not self.ready.wait(30):
            raise RuntimeError("the agent socket did not open")

    def _hold(self) -> None:
        import asyncio

        import websockets

        async def hold():
            async with websockets.connect(f"{self.ws_url}/ws/agents/", origin=self.origin) as socket:
                await socket.send(json.dumps({"type": "hello", "ticket": self.ticket}))
                while json.loads(await socket.recv())["type"] != "ready":
                    pass
                self.ready.set()
                while not self.stopped.is_set():
                    try:
                        await asyncio.wait_for(socket.recv(), 0.5)
                    except TimeoutError:
                        continue

        try:
            asyncio.run(hold())
        except websockets.ConnectionClosed:
            pass

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=10)


def seed(base: str, manager: SignedIn, secret_key: str) -> dict:
    """Chats (some with a photo) opened through the API, and what the hooks need of them."""
    from django.core.signing import TimestampSigner

    from chat.links import REOPEN_SALT
    from chat.tests.fuzzing.hooks import open_chat

    attachment_ids = []
    for number in range(6):
        key, files = open_chat(base)
        attachment_ids += files
        httpx.post(
            f"{base}/api/chat/message", json={"session_id": key, "content": f"Meu pedido {number}"}
        ).raise_for_status()
    chats = manager.get("/api/chat/sessions/").json()["results"]
    users = manager.get("/api/users/").json()["results"]
    chat_ids = [chat["id"] for chat in chats]
    return {
        "base_url": base,
        "agent_cookies": {name: manager.cookies[name] for name in ("sessionid", "csrftoken")},
        "chat_ids": chat_ids,
        "attachment_ids": attachment_ids,
        "user_ids": [user["id"] for user in users],
        "agent_ids": [user["id"] for user in users if user["username"] == AGENT[0]],
        "reopen_tokens": [  # what chat.links.reopen_token signs, with the server's key
            TimestampSigner(key=secret_key, salt=REOPEN_SALT, fallback_keys=[]).sign_object({"chat": pk})
            for pk in chat_ids
        ],
    }


def run_identity(identity: str, base: str, data_path: Path, args) -> int:
    """One identity's schemathesis run, from the run's temporary folder (where schemathesis
    keeps its cache); its exit code."""
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(CONFIG),
        "run",
        f"{base}/api/schema/",
        f"--max-examples={args.max_examples}",
        f"--seed={args.seed}",
        *SELECTION[identity],
    ]
    if args.max_time:
        command.append(f"--max-time={args.max_time}")
    env = dict(os.environ, SCHEMATHESIS_HOOKS="chat.tests.fuzzing.hooks")
    env.update(
        JTCHAT_FUZZ_IDENTITY=identity,
        JTCHAT_FUZZ_DATA=str(data_path),
        JTCHAT_FUZZ_SEED=str(args.seed),
        PYTHONPATH=str(BASE_DIR),
    )
    log(f"identity {identity}: {' '.join(command[3:])}")
    return subprocess.run(command, cwd=data_path.parent, env=env).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--max-time", type=int, default=0, help="seconds per identity (0: no limit)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--identity", choices=IDENTITIES, action="append")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/13"))
    args = parser.parse_args(argv)
    args.seed = args.seed if args.seed is not None else random.randrange(2**31)
    log(f"seed {args.seed} (repeat with --seed {args.seed})")

    directory = Path(tempfile.mkdtemp(prefix="jtchat-fuzz-"))
    database = Database(args.database_url, directory)
    port, ws_port = free_port(), free_port()
    env = server_env(database, args.redis_url, directory, port)
    base = f"http://127.0.0.1:{port}"
    database.create()
    servers, online = [], None
    try:
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "collectstatic", "--noinput", "-v0")  # the build step: the login page needs it
        password = secrets.token_urlsafe(16)
        manage(env, "shell", "-c", CREATE_USERS.format(users=[MANAGER, AGENT], password=password))
        log_file = (directory / "server.log").open("wb")
        for command, extra in (
            ("serve-web", {}),
            ("serve-ws", {"PORT": str(ws_port), "WEB_CONCURRENCY": "1"}),
        ):
            servers.append(
                subprocess.Popen(
                    [str(BASE_DIR / "bin" / command)],
                    cwd=BASE_DIR,
                    env={**env, **extra},
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                )
            )
        wait_for(f"{base}/healthz", servers[0])
        wait_for(f"http://127.0.0.1:{ws_port}/healthz", servers[1])
        manager = SignedIn(base, MANAGER[0], password)
        online = AgentOnline(f"ws://127.0.0.1:{ws_port}", base, SignedIn(base, AGENT[0], password))
        data_path = directory / "data.json"
        data_path.write_text(json.dumps(seed(base, manager, env["SECRET_KEY"])))
        failed = [
            identity
            for identity in args.identity or IDENTITIES
            if run_identity(identity, base, data_path, args) != 0
        ]
        log(
            f"seed {args.seed}: "
            + (f"FAILED for {', '.join(failed)}" if failed else "no failure, no warning")
        )
        if failed:  # the server's side of what failed (a 5xx leaves its traceback here)
            print((directory / "server.log").read_text(errors="replace")[-20000:], flush=True)
        return 1 if failed else 0
    finally:
        if online is not None:
            online.stop()
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
        database.drop()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
