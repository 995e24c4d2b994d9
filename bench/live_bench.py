"""Live delivery under load, against the production serving commands (not a test; one
script of over 400 lines, run alone).

Starts bin/serve-web (gunicorn WSGI) and bin/serve-ws (uvicorn ASGI) on 127.0.0.1 with
PostgreSQL and Redis, opens N conversations — each customer and each agent on its own socket
— and has both sides post over HTTP at a steady pace. It prints messages/s, the delivery
latency (POST sent → the other side's socket has the message) next to the bare POST round
trip of the same posts, and counts lost and duplicated messages.

    .venv/bin/python bench/live_bench.py --conversations 200 --interval 4 --messages 10

The simulated clients run in two processes, so that the load generator is not what is
measured: one holds every customer (sockets and posts), the other every agent. Each agent
socket watches its own chat's transcript, as the admin's conversation page does. Both
processes stamp sends and receipts with the system-wide monotonic clock; this process sets
the chats up, starts both sides at the same instant and joins their records.

The server's own part is printed too: from the message's ``created_at`` (stamped just before
its INSERT) to the socket's receipt, on the wall clock both share.

Agents receive what concerns them (chat/events.py): their own chats, the waiting queue and
everyone's status changes; frames about another agent's active chat are counted as "foreign"
(expected: none).
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import sys
import time
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path

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
QUIET_SECONDS = 2.0
SETTLE_LIMIT_SECONDS = 180.0


# --- set-up (this process, with Django) ----------------------------------------------------


def prepare_agents(count: int) -> list[tuple[int, str]]:
    """Bench agents in the Agentes group, each with a signed-in admin session (pk, key)."""
    from django.conf import settings
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
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
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


async def open_chats(web_port: int, count: int) -> list[str]:
    opener = HttpConnection(web_port)
    keys = []
    for index in range(count):
        status, body = await opener.request(
            "POST", "/api/chat/session", {"customer_name": f"Cliente {index}"}
        )
        assert status == 201, (status, body)
        keys.append(body["session_id"])
    opener.close()
    return keys


async def claim_all(web_port: int, chats: list[dict]) -> None:
    semaphore = asyncio.Semaphore(8)

    async def claim(chat):
        async with semaphore:
            http = HttpConnection(web_port, staff_headers(chat["agent_session"], web_port))
            status, body = await http.request("POST", f"/api/chat/sessions/{chat['pk']}/claim/")
            http.close()
            assert status == 200, (status, body)

    await asyncio.gather(*(claim(chat) for chat in chats))


# --- one side of every conversation (a child process) --------------------------------------


class Side:
    """Every customer, or every agent: their sockets, their posts, what they received."""

    def __init__(self, side: str, config: dict):
        self.side = side
        self.config = config
        self.sent: dict[str, float] = {}  # client_id -> monotonic time the POST was sent
        self.received: dict[str, float] = {}  # the other side's client_id -> time it arrived
        self.stored_to_socket: list[float] = []  # the message's created_at -> its arrival
        self.post_rtt: list[float] = []
        self.post_errors = Counter()
        self.duplicates = 0
        self.foreign = 0  # agent frames about someone else's active chat
        self.frames = 0
        self.last_frame_at = time.monotonic()

    def route(self, chat: dict) -> tuple[str, dict, dict]:
        ws_url = f"ws://127.0.0.1:{self.config['ws_port']}"
        if self.side == "customer":
            return f"{ws_url}/ws/chat/", {"type": "hello", "session_id": chat["key"], "after": 0}, {}
        options = {
            "origin": f"http://127.0.0.1:{self.config['web_port']}",
            "additional_headers": {"Cookie": f"sessionid={chat['agent_session']}"},
        }
        return f"{ws_url}/ws/agents/", {"type": "hello"}, options

    async def open_socket(self, chat: dict):
        from websockets.asyncio.client import connect

        url, hello, options = self.route(chat)
        socket = await connect(url, compression=None, max_queue=None, open_timeout=60, **options)
        await socket.send(json.dumps(hello))
        ready = json.loads(await asyncio.wait_for(socket.recv(), 60))
        if ready.get("type") != "ready":
            raise SystemExit(f"socket not ready: {ready}")
        if self.side == "agent" and self.config["watch"]:
            await socket.send(json.dumps({"type": "watch", "session_id": chat["pk"]}))
        return socket

    async def reader(self, socket, chat: dict) -> None:
        seen: set[int] = set()
        async for raw in socket:
            now = time.monotonic()
            self.frames += 1
            self.last_frame_at = now
            if not raw.startswith('{"type": "message"'):
                continue
            frame = json.loads(raw)
            if self.side == "agent" and frame.get("session_id") != chat["pk"]:
                if frame.get("status") == "active":
                    self.foreign += 1
                continue
            message = frame["message"]
            if message["id"] in seen:
                self.duplicates += 1
                continue
            seen.add(message["id"])
            client_id = message.get("client_id")
            if client_id and client_id not in self.sent and client_id not in self.received:
                self.received[client_id] = now
                stored = datetime.fromisoformat(message["created_at"]).timestamp()
                self.stored_to_socket.append(time.time() - stored)

    async def post(self, chat: dict, turns: list[int], began: float) -> None:
        interval = self.config["interval"]
        if self.side == "customer":
            http = HttpConnection(self.config["web_port"])
        else:
            http = HttpConnection(
                self.config["web_port"], staff_headers(chat["agent_session"], self.config["web_port"])
            )
        start_at = began + chat["offset"]
        for turn in turns:
            await asyncio.sleep(max(0.0, start_at + turn * interval - time.monotonic()))
            client_id = str(uuid.uuid4())
            content = f"{self.side} {chat['index']} turn {turn}"
            t0 = self.sent[client_id] = time.monotonic()
            if self.side == "customer":
                body = {
                    "session_id": chat["key"],
                    "author": "user",
                    "content": content,
                    "client_id": client_id,
                }
                status, _ = await http.request("POST", "/api/chat/message", body)
            else:
                path = f"/api/chat/sessions/{chat['pk']}/messages/"
                status, _ = await http.request("POST", path, {"content": content, "client_id": client_id})
            self.post_rtt.append(time.monotonic() - t0)
            if status not in (200, 201):
                self.post_errors[status] += 1
                del self.sent[client_id]
        http.close()

    async def run(self, conn) -> None:
        chats = self.config["chats"]
        semaphore = asyncio.Semaphore(50)

        async def opened(chat):
            async with semaphore:
                return await self.open_socket(chat)

        sockets = await asyncio.gather(*(opened(chat) for chat in chats))
        readers = [
            asyncio.ensure_future(self.reader(s, chat)) for s, chat in zip(sockets, chats, strict=True)
        ]
        conn.send(("open", None))

        command, _ = await asyncio.to_thread(conn.recv)
        assert command == "settle"
        # Set-up events (claims, queue moves) drain before anything is measured.
        give_up = time.monotonic() + SETTLE_LIMIT_SECONDS
        while time.monotonic() - self.last_frame_at < QUIET_SECONDS and time.monotonic() < give_up:
            await asyncio.sleep(0.2)
        conn.send(("settled", None))

        command, began = await asyncio.to_thread(conn.recv)
        assert command == "go"
        self.sent.clear()
        self.received.clear()
        self.stored_to_socket.clear()
        self.duplicates = self.foreign = self.frames = 0
        cpu_before = time.process_time()
        parity = 0 if self.side == "customer" else 1
        turns = [turn for turn in range(self.config["messages"]) if turn % 2 == parity]
        expected = sum(1 for turn in range(self.config["messages"]) if turn % 2 != parity) * len(chats)
        await asyncio.gather(*(self.post(chat, turns, began) for chat in chats))
        posted_at = time.monotonic()
        deadline = posted_at + self.config["drain"]
        while len(self.received) < expected and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # late duplicates would show up now
        cpu = time.process_time() - cpu_before
        conn.send(
            (
                "done",
                {
                    "sent": self.sent,
                    "received": self.received,
                    "stored_to_socket": self.stored_to_socket,
                    "post_rtt": self.post_rtt,
                    "post_errors": dict(self.post_errors),
                    "duplicates": self.duplicates,
                    "foreign": self.foreign,
                    "frames": self.frames,
                    "cpu_seconds": cpu,
                    "posted_at": posted_at,
                },
            )
        )
        for task in readers:
            task.cancel()
        await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)


def side_main(conn, side: str, config: dict) -> None:
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    runner(Side(side, config).run(conn))


# --- the run -------------------------------------------------------------------------------


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    ticks = os.sysconf("SC_CLK_TCK")
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / ticks, sum(values) / ticks


def expect(conn, command: str, timeout: float):
    if not conn.poll(timeout):
        raise SystemExit(f"a client process did not answer {command!r} within {timeout:.0f} s")
    answer, value = conn.recv()
    assert answer == command, (answer, command)
    return value


def measure(args, chats: list[dict], web, ws) -> dict:
    config = {
        "web_port": args.web_port,
        "ws_port": args.ws_port,
        "interval": args.interval,
        "messages": args.messages,
        "drain": args.drain,
        "watch": not args.no_watch,
        "chats": chats,
    }
    context = multiprocessing.get_context("spawn")
    pipes, processes = {}, {}
    for side in ("customer", "agent"):
        parent_end, child_end = context.Pipe()
        process = context.Process(target=side_main, args=(child_end, side, config), name=f"bench-{side}s")
        process.start()
        pipes[side], processes[side] = parent_end, process
    try:
        for conn in pipes.values():
            expect(conn, "open", 300)
        asyncio.run(claim_all(args.web_port, chats))
        settle_started = time.monotonic()
        for conn in pipes.values():
            conn.send(("settle", None))
        for conn in pipes.values():
            expect(conn, "settled", SETTLE_LIMIT_SECONDS + 30)
        settle_seconds = time.monotonic() - settle_started

        began = time.monotonic() + 1.0
        for conn in pipes.values():
            conn.send(("go", began))
        window_began, cpu_web, cpu_ws, machine = (
            time.monotonic(),
            web.cpu_seconds(),
            ws.cpu_seconds(),
            machine_cpu_seconds(),
        )
        timeout = args.messages * args.interval + args.interval + args.drain + 120
        records = {side: expect(conn, "done", timeout) for side, conn in pipes.items()}
        elapsed = max(record["posted_at"] for record in records.values()) - began
        window = time.monotonic() - window_began
        cpu_web, cpu_ws = web.cpu_seconds() - cpu_web, ws.cpu_seconds() - cpu_ws
        machine_busy, machine_total = (
            now - then for now, then in zip(machine_cpu_seconds(), machine, strict=True)
        )
    finally:
        for process in processes.values():
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()

    customers, agents = records["customer"], records["agent"]
    to_agent = [agents["received"][c] - t0 for c, t0 in customers["sent"].items() if c in agents["received"]]
    to_customer = [
        customers["received"][c] - t0 for c, t0 in agents["sent"].items() if c in customers["received"]
    ]
    posted = len(customers["sent"]) + len(agents["sent"])
    delivered = to_agent + to_customer
    stored_to_socket = customers["stored_to_socket"] + agents["stored_to_socket"]
    rtt = customers["post_rtt"] + agents["post_rtt"]
    errors = Counter(customers["post_errors"]) + Counter(agents["post_errors"])
    ms = 1000.0
    return {
        "conversations": len(chats),
        "sockets": 2 * len(chats),
        "posted": posted,
        "post_errors": dict(errors),
        "messages_per_second": posted / elapsed,
        "delivery_p50_ms": ms * percentile(delivered, 0.50),
        "delivery_p90_ms": ms * percentile(delivered, 0.90),
        "delivery_p99_ms": ms * percentile(delivered, 0.99),
        "delivery_max_ms": ms * max(delivered, default=float("nan")),
        "to_agent_p50_ms": ms * percentile(to_agent, 0.50),
        "to_agent_p99_ms": ms * percentile(to_agent, 0.99),
        "to_customer_p50_ms": ms * percentile(to_customer, 0.50),
        "to_customer_p99_ms": ms * percentile(to_customer, 0.99),
        "post_p50_ms": ms * percentile(rtt, 0.50),
        "post_p99_ms": ms * percentile(rtt, 0.99),
        "stored_to_socket_p50_ms": ms * percentile(stored_to_socket, 0.50),
        "stored_to_socket_p99_ms": ms * percentile(stored_to_socket, 0.99),
        "customer_post_p50_ms": ms * percentile(customers["post_rtt"], 0.50),
        "agent_post_p50_ms": ms * percentile(agents["post_rtt"], 0.50),
        "lost": posted - len(delivered),
        "duplicated": customers["duplicates"] + agents["duplicates"],
        "foreign_agent_frames": agents["foreign"],
        "frames_per_second": (customers["frames"] + agents["frames"]) / elapsed,
        "cpu_web_percent": 100 * cpu_web / window,
        "cpu_ws_percent": 100 * cpu_ws / window,
        "cpu_customers_percent": 100 * customers["cpu_seconds"] / window,
        "cpu_agents_percent": 100 * agents["cpu_seconds"] / window,
        "machine_busy_percent": 100 * machine_busy / machine_total,
        "cores": os.cpu_count(),
        "settle_seconds": settle_seconds,
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
    parser.add_argument("--no-watch", action="store_true", help="agent sockets do not watch their transcript")
    parser.add_argument("--web-port", type=int, default=8410)
    parser.add_argument("--ws-port", type=int, default=8411)
    parser.add_argument("--web-workers", default="4", help="gunicorn workers (gunicorn.conf.py's default)")
    parser.add_argument("--web-threads", default="2", help="threads per worker (gunicorn.conf.py's default)")
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
        keys = asyncio.run(open_chats(args.web_port, args.conversations))
        pks = session_pks(keys)
        spread = args.interval
        chats = [
            {
                "index": index,
                "key": key,
                "pk": pks[key],
                "agent_session": agents[index][1],
                "offset": random.uniform(0, spread),
            }
            for index, key in enumerate(keys)
        ]
        figures = measure(args, chats, web, ws)
    finally:
        ws.stop()
        web.stop()

    print(
        f"live delivery: {figures['conversations']} conversations ({figures['sockets']} sockets), "
        f"{args.messages} messages each, one every {args.interval:g} s per conversation"
    )
    print(
        f"  servers: gunicorn gthread {args.web_workers}x{args.web_threads} (HTTP) + 1 uvicorn worker "
        f"(/ws/); clients: 2 processes (customers, agents{'' if args.no_watch else ' watching their chat'})"
    )
    print(f"  load average before: {load_before}; after: {load_average()}")
    print(f"  set-up events (claims) drained in {figures['settle_seconds']:.1f} s before measuring")
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
        f"    to agent p50 {figures['to_agent_p50_ms']:.1f} ms, p99 {figures['to_agent_p99_ms']:.1f} ms; "
        f"to customer p50 {figures['to_customer_p50_ms']:.1f} ms, p99 {figures['to_customer_p99_ms']:.1f} ms"
    )
    print(
        f"    the server's part, created_at (stamped before the INSERT) -> socket: "
        f"p50 {figures['stored_to_socket_p50_ms']:.1f} ms, p99 {figures['stored_to_socket_p99_ms']:.1f} ms"
    )
    print(
        f"  bare POST round trip (the same posts): p50 {figures['post_p50_ms']:.1f} ms, "
        f"p99 {figures['post_p99_ms']:.1f} ms (customer p50 {figures['customer_post_p50_ms']:.1f}, "
        f"agent p50 {figures['agent_post_p50_ms']:.1f})"
    )
    print(
        f"  lost {figures['lost']}, duplicated {figures['duplicated']}; "
        f"agent frames about another agent's active chat: {figures['foreign_agent_frames']}"
    )
    print(
        f"  socket frames received: {figures['frames_per_second']:.0f}/s; CPU (% of one core): "
        f"web {figures['cpu_web_percent']:.0f}, ws {figures['cpu_ws_percent']:.0f}, "
        f"customers' client {figures['cpu_customers_percent']:.0f}, "
        f"agents' client {figures['cpu_agents_percent']:.0f}; the machine's {figures['cores']} cores "
        f"were {figures['machine_busy_percent']:.0f}% busy (everything, other work included)"
    )


if __name__ == "__main__":
    main()
