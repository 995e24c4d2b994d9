"""Faults under load: kill a web worker, restart Redis, restart the socket server (not a
test; one script of over 400 lines, run alone).

Starts the production serving commands on 127.0.0.1 — bin/serve-web (gunicorn, 2 WSGI
workers) and bin/serve-ws (uvicorn, /ws/) — with a redis-server of its own (no persistence,
on its own port, so the shared Redis is never touched). Customers post messages steadily,
each with a client_id kept across retries, as the chat page does (status 0, 408, 429 and 5xx
are retried with back-off); each customer also keeps its socket and catches up with
``after`` when it reconnects. One agent socket does what the admin's scripts do: hello,
``watch`` for the transcripts it has open, and ``GET /api/chat/sessions/{id}/messages/?after=``
for its chats after every (re)connection. The agent's chats cover the three ways messages
reach an agent: waiting chats (every agent), chats assigned to the agent, and another
agent's chats the agent watches.

While the customers post, in order: ``kill -9`` of one gunicorn worker (gunicorn starts
another); Redis killed and started again empty on the same port; the run then waits for the
agent socket to be asked to reconnect (close 1012, the socket server noticed Redis lost its
data); ``kill -9`` of uvicorn, started again. Then it counts, from the database and the
clients' records: messages sent, answered 2xx, retried, stored (by client_id), stored twice,
delivered to the agent (live or by catch-up) and missing.

    .venv/bin/python bench/faults.py                         # 40 customers, 2 rounds of faults
    .venv/bin/python bench/faults.py --customers 100 --interval 1 --rounds 3

chat/tests/test_faults.py runs a small version of the same run in CI.
"""

import argparse
import asyncio
import json
import logging
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    BASE_DIR,
    Server,
    migrate,
    port_open,
    server_env,
    setup_django,
    start_server,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/jt_faults"
CATCH_UP_PAGE_SIZE = 500  # chat.selectors.messages_after's page
MAX_WATCHED_CHATS = 20  # chat.consumers.MAX_WATCHED_CHATS
CLOSE_REFUSED = 4403
CLOSE_RECONNECT = 1012


@dataclass
class Plan:
    """How many clients, how fast, and the pauses between faults."""

    customers: int = 40
    interval: float = 0.5  # seconds between one customer's messages
    rounds: int = 2  # each round: worker kill, Redis restart, socket server restart
    warmup: float = 3.0  # load before the first fault
    gap: float = 4.0  # load between two faults, and after the last one
    redis_outage: float = 1.5
    ws_outage: float = 1.0
    notice_limit: float = 45.0  # at most this long for the agent socket to notice Redis's restart
    drain: float = 20.0  # at most this long for late deliveries once posting stopped
    request_timeout: float = 5.0
    # The page's and admin's values (static/chat/chat.js, static/chat/admin/agent-socket.js),
    # with lower caps so that a run stays short.
    send_backoff: tuple[float, float] = (1.0, 8.0)
    socket_backoff: tuple[float, float] = (0.4, 5.0)
    customer_ping: float = 25.0
    agent_ping: float = 25.0


@dataclass
class Chat:
    index: int
    key: str
    pk: int
    route: str  # "waiting", "assigned" (to the agent) or "watched" (another agent's, watched)


# --- set-up and counting (Django, in this process) --------------------------------------------


def prepare(customers: int) -> tuple[list[Chat], str]:
    """Open the customers' chats and sign the agent in: (chats, the agent's session key)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.db import SessionStore

    from chat import services
    from chat.models import ChatSession

    # Earlier runs' chats would sit in the queue, and every agent gets the queue: end them.
    ChatSession.objects.exclude(status=ChatSession.Status.ENDED).update(status=ChatSession.Status.ENDED)
    User = get_user_model()
    group = Group.objects.get(name="Agentes")
    agent, other = (
        User.objects.get_or_create(
            username=username,
            defaults={"is_staff": True, "display_name": name, "password": "!faults-agents-have-no-password"},
        )[0]
        for username, name in (("faults-agent", "Ana"), ("faults-other", "Bruno"))
    )
    agent.groups.add(group)
    other.groups.add(group)
    agent, other = User.objects.get(pk=agent.pk), User.objects.get(pk=other.pk)  # fresh permissions

    chats = []
    watched = 0
    for index in range(customers):
        session = services.session_open(customer_name=f"Cliente {index}")
        route = ("waiting", "assigned", "watched")[index % 3]
        if route == "watched" and watched >= MAX_WATCHED_CHATS:
            route = "assigned"
        if route == "assigned":
            services.session_claim(session=session, agent=agent)
        elif route == "watched":
            services.session_claim(session=session, agent=other)
            watched += 1
        chats.append(Chat(index, str(session.session_id), session.pk, route))

    login = SessionStore()
    login[SESSION_KEY] = str(agent.pk)
    login[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    login[HASH_SESSION_KEY] = agent.get_session_auth_hash()
    login.create()
    return chats, login.session_key


def stored_rows(chats: list[Chat]) -> list[tuple[str | None, int]]:
    """(client_id, message id) of every customer message stored in the run's chats."""
    from chat.models import ChatMessage

    rows = ChatMessage.objects.filter(
        session_id__in=[chat.pk for chat in chats], author=ChatMessage.Author.CUSTOMER
    ).values_list("client_id", "id")
    return [(str(client_id) if client_id else None, pk) for client_id, pk in rows]


# --- the servers ------------------------------------------------------------------------------


class RedisServer:
    """A redis-server of this run's own: no snapshot, no append-only file."""

    def __init__(self, port: int, log_dir: Path):
        self.port = port
        self.log_dir = log_dir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        if port_open(self.port):
            raise RuntimeError(f"port {self.port} is busy")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / "redis.log", "ab")  # noqa: SIM115 (kept open for the child's lifetime)
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                str(self.log_dir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while not port_open(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start; see {self.log_dir / 'redis.log'}")
            time.sleep(0.05)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class Stack:
    """gunicorn (bin/serve-web), uvicorn (bin/serve-ws) and the run's Redis."""

    def __init__(self, env: dict, web_port: int, ws_port: int, redis_port: int, log_dir: Path, workers: int):
        self.redis = RedisServer(redis_port, log_dir)
        self.env = {**env, "REDIS_URL": self.redis.url, "PYTHON": sys.executable, "HOST": "127.0.0.1"}
        self.web_port, self.ws_port, self.log_dir, self.workers = web_port, ws_port, log_dir, workers
        self.web: Server | None = None
        self.ws: Server | None = None

    def start(self) -> None:
        self.redis.start()
        try:
            self.web = start_server(
                "web",
                "serve-web",
                self.web_port,
                {**self.env, "WEB_CONCURRENCY": str(self.workers)},
                self.log_dir,
            )
            self.ws = self._start_ws()
        except BaseException:
            self.stop()
            raise

    def _start_ws(self) -> Server:
        return start_server(
            "ws", "serve-ws", self.ws_port, {**self.env, "WEB_CONCURRENCY": "1"}, self.log_dir
        )

    def web_workers(self) -> list[int]:
        return self.web.pids()[1:]

    def kill_web_worker(self) -> int:
        victim = self.web_workers()[0]
        os.kill(victim, signal.SIGKILL)
        return victim

    def restart_redis(self, outage: float) -> None:
        self.redis.kill()
        time.sleep(outage)
        self.redis.start()

    def restart_ws(self, outage: float) -> None:
        os.kill(self.ws.process.pid, signal.SIGKILL)
        self.ws.process.wait()
        time.sleep(outage)
        self.ws = self._start_ws()

    def stop(self) -> None:
        for server in (self.ws, self.web):
            if server is not None:
                server.stop()
        self.redis.kill()


# --- the clients ------------------------------------------------------------------------------


def backoff(attempt: int, base: float, cap: float) -> float:
    return min(cap, base * 2**attempt) * random.uniform(0.75, 1.25)


def retryable(status: int) -> bool:
    """The chat page's rule (static/chat/chat.js, isRetryable)."""
    return status in (0, 408, 429) or status >= 500


@dataclass
class Record:
    """What the clients did and saw."""

    started: float = field(default_factory=time.monotonic)
    sent: dict[str, int] = field(default_factory=dict)  # client_id -> chat index
    sent_at: dict[str, float] = field(default_factory=dict)  # client_id -> seconds into the run
    answered: dict[str, int] = field(default_factory=dict)  # client_id -> the 2xx status
    failed: dict[str, int] = field(default_factory=dict)  # client_id -> last status, given up
    retries: int = 0
    retried: set[str] = field(default_factory=set)
    attempt_statuses: Counter = field(default_factory=Counter)
    agent_live: dict[int, str | None] = field(default_factory=dict)  # message id -> client_id
    agent_catch_up: dict[int, str | None] = field(default_factory=dict)
    agent_duplicate_frames: int = 0
    agent_closes: list[tuple[float, object]] = field(default_factory=list)  # (time, close code)
    agent_ready: list[float] = field(default_factory=list)
    customer_seen: set[str] = field(default_factory=set)  # own client_ids seen on the socket
    customer_closes: Counter = field(default_factory=Counter)
    events: list[tuple[float, str]] = field(default_factory=list)

    def at(self) -> float:
        return time.monotonic() - self.started

    def note(self, text: str) -> None:
        self.events.append((self.at(), text))

    def agent_has(self) -> set[str]:
        return {cid for cid in (*self.agent_live.values(), *self.agent_catch_up.values()) if cid}


def close_code(exc: BaseException | None, code: int | None = None) -> object:
    """How a socket ended: its close code, 1006 when the connection just dropped."""
    from websockets.exceptions import ConnectionClosed

    if isinstance(exc, ConnectionClosed):
        return exc.rcvd.code if exc.rcvd is not None else 1006
    if exc is None:
        return code if code is not None else 1006
    if isinstance(exc, OSError | TimeoutError):
        return "unreachable"
    return type(exc).__name__


class Clients:
    def __init__(self, plan: Plan, chats: list[Chat], agent_session: str, web_port: int, ws_port: int):
        self.plan = plan
        self.chats = chats
        self.by_pk = {chat.pk: chat for chat in chats}
        self.web_url = f"http://127.0.0.1:{web_port}"
        self.ws_url = f"ws://127.0.0.1:{ws_port}"
        self.agent_cookie = f"sessionid={agent_session}"
        self.record = Record()
        self.posting = True
        self.running = True
        self.in_flight = 0  # posts sent and not answered yet
        # Per chat: the agent has every message up to ``agent_complete``, and has seen up to
        # ``agent_seen``; until a chat's catch-up after a (re)connection has finished, live
        # events do not move its complete mark (a catch-up cut short starts again from there).
        self.agent_complete = {chat.pk: 0 for chat in chats}
        self.agent_seen = {chat.pk: 0 for chat in chats}
        self.agent_catching_up: set[int] = set()

    # customers -----------------------------------------------------------------------------

    async def customer(self, chat: Chat) -> None:
        import httpx

        await asyncio.sleep(random.uniform(0, self.plan.interval))
        async with httpx.AsyncClient(base_url=self.web_url, timeout=self.plan.request_timeout) as http:
            turn = 0
            while self.posting:
                next_at = time.monotonic() + self.plan.interval
                await self.send(http, chat, f"cliente {chat.index} mensagem {turn}")
                turn += 1
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def send(self, http, chat: Chat, content: str) -> None:
        """One message, retried with the same client_id until answered (as the page does)."""
        import httpx

        client_id = str(uuid.uuid4())
        record = self.record
        record.sent[client_id] = chat.index
        record.sent_at[client_id] = record.at()
        body = {"session_id": chat.key, "author": "user", "content": content, "client_id": client_id}
        give_up = None
        attempt = 0
        while True:
            self.in_flight += 1
            try:
                status = (await http.post("/api/chat/message", json=body)).status_code
            except httpx.HTTPError:
                status = 0
            finally:
                self.in_flight -= 1
            record.attempt_statuses[status] += 1
            if 200 <= status < 300:
                record.answered[client_id] = status
                return
            if not self.posting and give_up is None:
                give_up = time.monotonic() + self.plan.drain
            if not retryable(status) or (give_up is not None and time.monotonic() > give_up):
                record.failed[client_id] = status
                return
            record.retries += 1
            record.retried.add(client_id)
            await asyncio.sleep(backoff(attempt, *self.plan.send_backoff))
            attempt += 1

    async def customer_socket(self, chat: Chat) -> None:
        from websockets.asyncio.client import connect

        cursor, attempt = 0, 0
        while self.running:
            error, code = None, None
            try:
                async with connect(f"{self.ws_url}/ws/chat/", open_timeout=10, max_queue=None) as socket:
                    await socket.send(json.dumps({"type": "hello", "session_id": chat.key, "after": cursor}))
                    pinger = asyncio.ensure_future(self.pinger(socket, self.plan.customer_ping))
                    try:
                        async for raw in socket:
                            frame = json.loads(raw)
                            if frame["type"] == "ready":
                                attempt = 0
                            elif frame["type"] == "message":
                                message = frame["message"]
                                cursor = max(cursor, message["id"])
                                if message.get("client_id"):
                                    self.record.customer_seen.add(message["client_id"])
                        code = socket.close_code
                    finally:
                        pinger.cancel()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 (any failure: reconnect, as the page does)
                error = exc
            if not self.running:
                return
            self.record.customer_closes[close_code(error, code)] += 1
            await asyncio.sleep(backoff(attempt, *self.plan.socket_backoff))
            attempt += 1

    # the agent -------------------------------------------------------------------------------

    async def agent(self) -> None:
        import httpx
        from websockets.asyncio.client import connect

        origin = self.web_url
        watched = [chat.pk for chat in self.chats if chat.route == "watched"]
        others = [chat.pk for chat in self.chats if chat.route != "watched"]
        attempt = 0
        async with httpx.AsyncClient(
            base_url=self.web_url, timeout=self.plan.request_timeout, headers={"Cookie": self.agent_cookie}
        ) as http:
            while self.running:
                error, code = None, None
                catching_up: list[asyncio.Task] = []
                try:
                    async with connect(
                        f"{self.ws_url}/ws/agents/",
                        origin=origin,
                        additional_headers={"Cookie": self.agent_cookie},
                        open_timeout=10,
                        max_queue=None,
                    ) as socket:
                        await socket.send(json.dumps({"type": "hello"}))
                        pinger = asyncio.ensure_future(self.pinger(socket, self.plan.agent_ping))
                        try:
                            async for raw in socket:
                                frame = json.loads(raw)
                                kind = frame.get("type")
                                if kind == "ready":
                                    attempt = 0
                                    self.record.agent_ready.append(self.record.at())
                                    self.agent_catching_up = set(self.by_pk)
                                    # The conversation pages watch their transcript, the inbox
                                    # refreshes; each then reads what came while disconnected.
                                    for pk in watched:
                                        await socket.send(json.dumps({"type": "watch", "session_id": pk}))
                                    catching_up.append(asyncio.ensure_future(self.catch_up(http, others)))
                                elif kind == "watching" and frame.get("session_id") in self.by_pk:
                                    catching_up.append(
                                        asyncio.ensure_future(self.catch_up(http, [frame["session_id"]]))
                                    )
                                elif kind == "message" and frame.get("session_id") in self.by_pk:
                                    self.agent_message(frame["session_id"], frame["message"], live=True)
                            code = socket.close_code
                        finally:
                            pinger.cancel()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 (any failure: reconnect, as the admin does)
                    error = exc
                finally:
                    for task in catching_up:
                        task.cancel()
                if not self.running:
                    return
                code = close_code(error, code)
                self.record.agent_closes.append((self.record.at(), code))
                if code == CLOSE_REFUSED:
                    raise RuntimeError("the agent socket refused the agent (4403)")
                await asyncio.sleep(backoff(attempt, *self.plan.socket_backoff))
                attempt += 1

    def agent_message(self, session_pk: int, message: dict, live: bool) -> None:
        record = self.record
        if message["id"] in record.agent_live or message["id"] in record.agent_catch_up:
            if live:
                record.agent_duplicate_frames += 1
            return
        (record.agent_live if live else record.agent_catch_up)[message["id"]] = message.get("client_id")
        self.agent_seen[session_pk] = max(self.agent_seen[session_pk], message["id"])
        if session_pk not in self.agent_catching_up:
            self.agent_complete[session_pk] = self.agent_seen[session_pk]

    async def catch_up(self, http, session_pks: list[int]) -> None:
        """GET .../messages/?after=<complete mark> for each chat, page by page; a failed read
        is tried again. The socket was live before the read: once it answered, the chat is
        complete up to the last id seen."""
        import httpx

        for pk in session_pks:
            after, attempt = self.agent_complete[pk], 0
            while True:
                try:
                    response = await http.get(f"/api/chat/sessions/{pk}/messages/?after={after}")
                    status = response.status_code
                except httpx.HTTPError:
                    status = 0
                if status != 200:
                    await asyncio.sleep(backoff(attempt, *self.plan.send_backoff))
                    attempt += 1
                    continue
                messages = response.json()["messages"]
                for message in messages:
                    self.agent_message(pk, message, live=False)
                if len(messages) < CATCH_UP_PAGE_SIZE:
                    break
                after = messages[-1]["id"]
            self.agent_catching_up.discard(pk)
            self.agent_complete[pk] = self.agent_seen[pk]

    async def pinger(self, socket, every: float) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            while True:
                await asyncio.sleep(every)
                await socket.send(json.dumps({"type": "ping"}))
        except ConnectionClosed:
            return

    # the run ---------------------------------------------------------------------------------

    async def wait_for(self, condition, limit: float) -> bool:
        deadline = time.monotonic() + limit
        while not condition():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    async def run(self, stack: Stack) -> Record:
        plan, record = self.plan, self.record
        record.started = time.monotonic()
        tasks = [asyncio.ensure_future(self.agent())]
        tasks += [asyncio.ensure_future(self.customer_socket(chat)) for chat in self.chats]
        if not await self.wait_for(lambda: record.agent_ready, 20):
            raise RuntimeError("the agent socket did not open")
        posting = [asyncio.ensure_future(self.customer(chat)) for chat in self.chats]
        try:
            await asyncio.sleep(plan.warmup)
            for round_number in range(1, plan.rounds + 1):
                await self.faults(stack, round_number)
            await asyncio.sleep(plan.gap)
            self.posting = False
            record.note("customers stop posting")
            await asyncio.gather(*posting)
            record.note("every message answered or given up")
            everything = set(record.answered)
            await self.wait_for(
                lambda: everything <= record.agent_has() and everything <= record.customer_seen, plan.drain
            )
            await asyncio.sleep(0.5)  # a late duplicate would show now
        finally:
            self.posting = self.running = False
            for task in tasks + posting:
                task.cancel()
            await asyncio.gather(*tasks, *posting, return_exceptions=True)
        return record

    async def faults(self, stack: Stack, round_number: int) -> None:
        plan, record = self.plan, self.record
        # Kill while posts are on their way, so that some answers are lost with the worker.
        await self.wait_for(lambda: self.in_flight >= max(1, plan.customers // 4), 2.0)
        victim = stack.kill_web_worker()
        record.note(f"round {round_number}: kill -9 gunicorn worker {victim}")
        await asyncio.sleep(plan.gap)

        closes_before = len(record.agent_closes)
        record.note(f"round {round_number}: redis-server killed, started again in {plan.redis_outage:g} s")
        await asyncio.to_thread(stack.restart_redis, plan.redis_outage)
        record.note(f"round {round_number}: redis-server up (empty)")
        noticed = await self.wait_for(lambda: len(record.agent_closes) > closes_before, plan.notice_limit)
        if noticed:
            _, code = record.agent_closes[closes_before]
            record.note(f"round {round_number}: agent socket closed with {code}, reconnects and catches up")
        else:
            record.note(
                f"round {round_number}: agent socket not asked to reconnect within {plan.notice_limit:g} s"
            )
        await asyncio.sleep(plan.gap)

        record.note(f"round {round_number}: kill -9 uvicorn")
        await asyncio.to_thread(stack.restart_ws, plan.ws_outage)
        record.note(f"round {round_number}: uvicorn listening again")
        if round_number < plan.rounds:
            await asyncio.sleep(plan.gap)


def run_faults(plan: Plan, stack: Stack, chats: list[Chat], agent_session: str) -> Record:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    clients = Clients(plan, chats, agent_session, stack.web_port, stack.ws_port)
    try:
        import uvloop

        return uvloop.run(clients.run(stack))
    except ImportError:
        return asyncio.run(clients.run(stack))


# --- the figures ------------------------------------------------------------------------------


def tally(record: Record, rows: list[tuple[str | None, int]]) -> dict:
    """The counts, from the clients' record and the stored rows of the run's chats."""
    stored = Counter(client_id for client_id, _ in rows)
    stored.pop(None, None)
    delivered = record.agent_has()
    answered = set(record.answered)
    stored_ids = {pk for _, pk in rows}
    customer_ids_seen = {
        pk for pk, client_id in (*record.agent_live.items(), *record.agent_catch_up.items()) if client_id
    }
    return {
        "sent": len(record.sent),
        "2xx": len(answered),
        "answered_201": sum(1 for status in record.answered.values() if status == 201),
        "answered_200": sum(1 for status in record.answered.values() if status == 200),
        "given_up": len(record.failed),
        "retried": record.retries,
        "retried_messages": len(record.retried),
        "attempt_statuses": dict(sorted(record.attempt_statuses.items())),
        "stored": len(stored),
        "stored_rows": len(rows),
        "stored_without_2xx": len(set(stored) - answered),
        "lost": len(answered - set(stored)),  # answered 2xx, not stored
        "duplicates": sum(count - 1 for count in stored.values() if count > 1),
        "delivered_to_agent": len(set(stored) & delivered),
        "delivered_live": len(set(record.agent_live) & stored_ids),
        "delivered_by_catch_up": len(set(record.agent_catch_up) & stored_ids),
        "missing": len(set(stored) - delivered),  # stored, never reached the agent
        "missing_sent_at": sorted(round(record.sent_at[cid], 1) for cid in set(stored) - delivered),
        "agent_duplicate_frames": record.agent_duplicate_frames,
        "announced_not_stored": len(customer_ids_seen - stored_ids),
        "agent_reconnects": dict(Counter(str(code) for _, code in record.agent_closes)),
        "customer_reconnects": dict(Counter({str(code): n for code, n in record.customer_closes.items()})),
        "customer_sockets_saw_own": len(set(stored) & record.customer_seen),
    }


def report(figures: dict, record: Record, title: str) -> str:
    lines = [title]
    lines += [f"  t={at:6.1f} s  {text}" for at, text in record.events]
    lines.append(
        "  sent {sent}, 2xx {2xx} (201: {answered_201}, 200 for a retried client_id: {answered_200}), "
        "given up {given_up}, retried {retried} (attempts, in {retried_messages} messages), "
        "stored {stored}, duplicates {duplicates}, lost (2xx, not stored) {lost}, "
        "delivered-to-agent {delivered_to_agent} (live {delivered_live}, catch-up {delivered_by_catch_up}), "
        "missing {missing}".format(**figures)
    )
    lines.append(
        "  attempts by status {attempt_statuses}; agent socket reconnects by close code {agent_reconnects}; "
        "customer sockets: reconnects {customer_reconnects}, "
        "own messages seen {customer_sockets_saw_own}/{stored}".format(**figures)
    )
    if figures["missing_sent_at"]:
        lines.append(f"  missing messages were sent at t= {figures['missing_sent_at'][:20]} s")
    return "\n".join(lines)


# --- the command ------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=40)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between one customer's messages")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--gap", type=float, default=4.0, help="seconds of load between faults")
    parser.add_argument("--web-port", type=int, default=8850)
    parser.add_argument("--ws-port", type=int, default=8851)
    parser.add_argument("--redis-port", type=int, default=8852)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument(
        "--throttles",
        action="store_true",
        help="rate limits on (counted in Redis), with limits no customer reaches",
    )
    args = parser.parse_args()

    plan = Plan(customers=args.customers, interval=args.interval, rounds=args.rounds, gap=args.gap)
    redis_url = f"redis://127.0.0.1:{args.redis_port}/0"
    extra = {}
    if args.throttles:
        extra = {
            "CHAT_THROTTLE_ENABLED": "1",
            "CHAT_RATE_SESSIONS_PER_IP": "100000/min",
            "CHAT_RATE_MESSAGES_PER_IP": "100000/min",
            "CHAT_RATE_MESSAGES_PER_SESSION": "100000/min",
        }
    env = server_env(args.database_url, redis_url, **extra)
    migrate(env)
    # This process sets the chats up without Redis (the run's Redis starts with the servers).
    setup_django({**env, "REDIS_URL": ""})
    chats, agent_session = prepare(plan.customers)

    stack = Stack(env, args.web_port, args.ws_port, args.redis_port, BASE_DIR / "bench" / "out" / "faults", 2)
    stack.start()
    try:
        record = run_faults(plan, stack, chats, agent_session)
    finally:
        stack.stop()
    figures = tally(record, stored_rows(chats))
    routes = Counter(chat.route for chat in chats)
    print(
        report(
            figures,
            record,
            f"faults: {plan.customers} customers, one message every {plan.interval:g} s each (client_id, "
            f"retried as the page does), sockets reconnecting with after; 1 agent socket "
            f"({routes['waiting']} waiting chats, {routes['assigned']} assigned, {routes['watched']} "
            f"watched); gunicorn 2 workers + uvicorn + own redis-server; {plan.rounds} rounds of faults"
            + ("; rate limits on" if args.throttles else ""),
        )
    )


if __name__ == "__main__":
    main()
