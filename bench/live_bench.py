"""Live delivery under load, against the production serving commands (not a test).

Starts bin/serve-web (gunicorn WSGI) and bin/serve-ws (uvicorn ASGI) on 127.0.0.1 with
PostgreSQL and Redis, opens N conversations — each customer and each agent on its own socket
— and has both sides post over HTTP at a steady pace. It prints messages/s, the delivery
latency (POST sent → the other side's socket has the message) next to the bare POST round
trip measured in the same run, and counts lost and duplicated messages.

    .venv/bin/python bench/live_bench.py --conversations 200 --interval 4 --messages 10

Every agent socket is in the agents' group and receives every message and inbox update of
every chat (that is what the admin inbox shows), so the socket server's fan-out grows with
agents x messages; the figures include it.
"""

import argparse
import asyncio
import json
import random
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    BASE_DIR,
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    HttpConnection,
    load_average,
    migrate,
    percentile,
    server_env,
    setup_django,
    staff_headers,
    start_server,
)

AGENT_PASSWORD_HASH = "!bench-agents-sign-in-through-their-session"


def prepare_agents(count: int) -> list[tuple[int, str]]:
    """Bench agents in the Agentes group, each with a signed-in admin session (pk, key)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.db import SessionStore

    from chat.models import ChatSession

    # Earlier runs' chats would sit in the queue: end them.
    ChatSession.objects.exclude(status=ChatSession.Status.ENDED).update(status=ChatSession.Status.ENDED)
    User = get_user_model()
    group = Group.objects.get(name="Agentes")
    agents = []
    for index in range(count):
        user, created = User.objects.get_or_create(
            username=f"bench-agent-{index:04d}",
            defaults={"is_staff": True, "display_name": f"Agente {index}", "password": AGENT_PASSWORD_HASH},
        )
        if created:
            user.groups.add(group)
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        agents.append((user.pk, session.session_key))
    User.objects.filter(username__startswith="bench-agent-").exclude(
        username__in=[f"bench-agent-{i:04d}" for i in range(count)]
    ).update(accepting_chats=False)
    return agents


def session_pks(keys: list[str]) -> dict[str, int]:
    from chat.models import ChatSession

    return {
        str(key): pk
        for key, pk in ChatSession.objects.filter(session_id__in=keys).values_list("session_id", "pk")
    }


class Run:
    def __init__(self, args, web_port: int, ws_port: int):
        self.args = args
        self.web_port = web_port
        self.ws_url = f"ws://127.0.0.1:{ws_port}"
        self.sent: dict[str, tuple[float, int, str]] = {}  # client_id -> (t0, conversation, side)
        self.delivered: dict[str, float] = {}
        self.latency = {"customer": [], "agent": []}
        self.post_rtt: list[float] = []
        self.post_errors = Counter()
        self.duplicates = 0
        self.agent_message_frames = Counter()
        self.frames = 0

    async def reader(self, socket, conversation: int, side: str, pk: int) -> None:
        """Record deliveries meant for this side; count every message frame (duplicates)."""
        seen = Counter()
        own_marker = f'"session_id": {pk}}}'
        async for raw in socket:
            now = time.perf_counter()
            self.frames += 1
            if side == "agent":
                if not raw.startswith('{"type": "message"'):
                    continue
                self.agent_message_frames[conversation] += 1
                if not raw.endswith(own_marker):
                    continue
            frame = json.loads(raw)
            if frame.get("type") != "message":
                continue
            message = frame["message"]
            seen[message["id"]] += 1
            if seen[message["id"]] > 1:
                self.duplicates += 1
                continue
            client_id = message.get("client_id")
            origin = self.sent.get(client_id)
            if origin and origin[2] != side and client_id not in self.delivered:
                self.delivered[client_id] = now
                self.latency[origin[2]].append(now - origin[0])

    async def conversation(self, index: int, key: str, pk: int, agent_session: str, start_at: float) -> None:
        args = self.args
        customer_http = HttpConnection(self.web_port)
        agent_http = HttpConnection(self.web_port, staff_headers(agent_session, self.web_port))
        for turn in range(args.messages):
            side = "customer" if turn % 2 == 0 else "agent"
            await asyncio.sleep(max(0.0, start_at + turn * args.interval - time.perf_counter()))
            client_id = str(uuid.uuid4())
            content = f"{side} {index} turn {turn}"
            self.sent[client_id] = (time.perf_counter(), index, side)
            t0 = self.sent[client_id][0]
            if side == "customer":
                status, _ = await customer_http.request(
                    "POST",
                    "/api/chat/message",
                    {"session_id": key, "author": "user", "content": content, "client_id": client_id},
                )
            else:
                status, _ = await agent_http.request(
                    "POST", f"/api/chat/sessions/{pk}/messages/", {"content": content, "client_id": client_id}
                )
            self.post_rtt.append(time.perf_counter() - t0)
            if status not in (200, 201):
                self.post_errors[status] += 1
                del self.sent[client_id]
        customer_http.close()
        agent_http.close()


async def open_socket(url: str, hello: dict, **options):
    socket = await connect(url, compression=None, max_queue=None, open_timeout=60, **options)
    await socket.send(json.dumps(hello))
    ready = json.loads(await asyncio.wait_for(socket.recv(), 60))
    if ready.get("type") != "ready":
        raise SystemExit(f"socket not ready: {ready}")
    return socket


async def gather_limited(coroutines, limit: int = 50):
    semaphore = asyncio.Semaphore(limit)

    async def limited(coroutine):
        async with semaphore:
            return await coroutine

    return await asyncio.gather(*(limited(c) for c in coroutines))


async def bench(args, web_port: int, ws_port: int, agents: list[tuple[int, str]], web, ws) -> dict:
    run = Run(args, web_port, ws_port)
    count = args.conversations

    opener = HttpConnection(web_port)
    keys = []
    for index in range(count):
        status, body = await opener.request(
            "POST", "/api/chat/session", {"customer_name": f"Cliente {index}"}
        )
        assert status == 201, (status, body)
        keys.append(body["session_id"])
    opener.close()
    pks = await asyncio.to_thread(session_pks, keys)

    customer_sockets = await gather_limited(
        open_socket(f"{run.ws_url}/ws/chat/", {"type": "hello", "session_id": key, "after": 0})
        for key in keys
    )
    agent_sockets = await gather_limited(
        open_socket(
            f"{run.ws_url}/ws/agents/",
            {"type": "hello"},
            origin=f"http://127.0.0.1:{web_port}",
            additional_headers={"Cookie": f"sessionid={session_key}"},
        )
        for _, session_key in agents
    )
    readers = [
        asyncio.ensure_future(run.reader(socket, i, "customer", pks[keys[i]]))
        for i, socket in enumerate(customer_sockets)
    ] + [
        asyncio.ensure_future(run.reader(socket, i, "agent", pks[keys[i]]))
        for i, socket in enumerate(agent_sockets)
    ]

    async def claim(index: int):
        http = HttpConnection(web_port, staff_headers(agents[index][1], web_port))
        status, body = await http.request("POST", f"/api/chat/sessions/{pks[keys[index]]}/claim/")
        http.close()
        assert status == 200, (status, body)

    await gather_limited((claim(i) for i in range(count)), limit=8)
    # Every claim reaches every agent socket (and moves every waiting customer's queue):
    # wait until that backlog has drained, so the measurement sees the steady state.
    quiet_since, frames_seen, give_up = time.perf_counter(), run.frames, time.perf_counter() + 180
    while time.perf_counter() - quiet_since < 2 and time.perf_counter() < give_up:
        await asyncio.sleep(0.5)
        if run.frames != frames_seen:
            quiet_since, frames_seen = time.perf_counter(), run.frames
    setup_drain_seconds = time.perf_counter() - (give_up - 180)

    frames_before, cpu_web, cpu_ws = run.frames, web.cpu_seconds(), ws.cpu_seconds()
    cpu_client = time.process_time()
    fanout_before = Counter(run.agent_message_frames)
    began = time.perf_counter()
    spread = args.interval
    await asyncio.gather(
        *(
            run.conversation(i, keys[i], pks[keys[i]], agents[i][1], began + random.uniform(0, spread))
            for i in range(count)
        )
    )
    posting_seconds = time.perf_counter() - began
    deadline = time.perf_counter() + args.drain
    while len(run.delivered) < len(run.sent) and time.perf_counter() < deadline:
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # late duplicates would show up now
    elapsed = time.perf_counter() - began
    cpu_web, cpu_ws = web.cpu_seconds() - cpu_web, ws.cpu_seconds() - cpu_ws
    cpu_client = time.process_time() - cpu_client

    for task in readers:
        task.cancel()
    for socket in customer_sockets + agent_sockets:
        await socket.close()

    posted = len(run.sent)
    fanout = [run.agent_message_frames[i] - fanout_before[i] for i in range(count)]
    short = sum(1 for frames in fanout if frames < posted)  # every agent sees every message
    over = sum(1 for frames in fanout if frames > posted)
    delivered_all = run.latency["customer"] + run.latency["agent"]
    return {
        "conversations": count,
        "sockets": 2 * count,
        "posted": posted,
        "post_errors": dict(run.post_errors),
        "messages_per_second": posted / posting_seconds,
        "delivery_p50_ms": 1000 * percentile(delivered_all, 0.50),
        "delivery_p90_ms": 1000 * percentile(delivered_all, 0.90),
        "delivery_p99_ms": 1000 * percentile(delivered_all, 0.99),
        "delivery_max_ms": 1000 * max(delivered_all, default=float("nan")),
        "to_agent_p50_ms": 1000 * percentile(run.latency["customer"], 0.50),
        "to_customer_p50_ms": 1000 * percentile(run.latency["agent"], 0.50),
        "post_p50_ms": 1000 * percentile(run.post_rtt, 0.50),
        "post_p99_ms": 1000 * percentile(run.post_rtt, 0.99),
        "lost": posted - len(run.delivered),
        "duplicated": run.duplicates,
        "agent_sockets_missing_fanout": short,
        "agent_sockets_with_extra_frames": over,
        "frames_per_second": (run.frames - frames_before) / elapsed,
        "cpu_web_percent": 100 * cpu_web / elapsed,
        "cpu_ws_percent": 100 * cpu_ws / elapsed,
        "cpu_client_percent": 100 * cpu_client / elapsed,
        "setup_drain_seconds": setup_drain_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--messages", type=int, default=10, help="messages per conversation (both sides)")
    parser.add_argument(
        "--interval", type=float, default=4.0, help="seconds between a conversation's messages"
    )
    parser.add_argument("--drain", type=float, default=10.0, help="seconds to wait for late deliveries")
    parser.add_argument("--web-port", type=int, default=8410)
    parser.add_argument("--ws-port", type=int, default=8411)
    parser.add_argument("--web-workers", default="2")
    parser.add_argument("--web-threads", default="4")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    args = parser.parse_args()

    env = server_env(args.database_url, args.redis_url, GUNICORN_THREADS=args.web_threads)
    migrate(env)
    setup_django(env)
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    agents = prepare_agents(args.conversations)

    log_dir = BASE_DIR / "bench" / "out"
    web = start_server(
        "web", "serve-web", args.web_port, {**env, "WEB_CONCURRENCY": args.web_workers}, log_dir
    )
    ws = start_server("ws", "serve-ws", args.ws_port, {**env, "WEB_CONCURRENCY": "1"}, log_dir)
    load_before = load_average()
    try:
        try:
            import uvloop

            runner = uvloop.run
        except ImportError:
            runner = asyncio.run
        figures = runner(bench(args, args.web_port, args.ws_port, agents, web, ws))
    finally:
        ws.stop()
        web.stop()

    print(
        f"live delivery: {figures['conversations']} conversations ({figures['sockets']} sockets), "
        f"{args.messages} messages each, one every {args.interval:g} s per conversation"
    )
    print(
        f"  servers: gunicorn gthread {args.web_workers}x{args.web_threads} (HTTP) + 1 uvicorn worker (/ws/)"
    )
    print(f"  load average before: {load_before}; after: {load_average()}")
    print(f"  set-up events (claims) drained in {figures['setup_drain_seconds']:.1f} s before measuring")
    print(
        f"  posted {figures['posted']} messages at {figures['messages_per_second']:.1f} msg/s; "
        f"errors {figures['post_errors']}"
    )
    print(
        f"  delivery (POST sent -> other side's socket): p50 {figures['delivery_p50_ms']:.1f} ms, "
        f"p90 {figures['delivery_p90_ms']:.1f} ms, p99 {figures['delivery_p99_ms']:.1f} ms, "
        f"max {figures['delivery_max_ms']:.1f} ms"
    )
    print(
        f"    to agent p50 {figures['to_agent_p50_ms']:.1f} ms; "
        f"to customer p50 {figures['to_customer_p50_ms']:.1f} ms"
    )
    print(f"  bare POST round trip: p50 {figures['post_p50_ms']:.1f} ms, p99 {figures['post_p99_ms']:.1f} ms")
    print(
        f"  lost {figures['lost']}, duplicated {figures['duplicated']}; agent sockets missing inbox messages "
        f"{figures['agent_sockets_missing_fanout']}, with extra {figures['agent_sockets_with_extra_frames']}"
    )
    print(
        f"  socket frames received: {figures['frames_per_second']:.0f}/s; server CPU: "
        f"web {figures['cpu_web_percent']:.0f}%, ws {figures['cpu_ws_percent']:.0f}% of one core; "
        f"this client {figures['cpu_client_percent']:.0f}%"
    )


if __name__ == "__main__":
    main()
