"""Memory of idle customer sockets held by one uvicorn worker (not a test).

Starts bin/serve-ws (one worker, PostgreSQL, Redis) on 127.0.0.1, opens N customer sockets
(each says hello and gets its ``ready``), keeps them idle, and prints the worker's resident
memory before and after, and per socket.

    .venv/bin/python bench/idle_sockets.py --sockets 2000
"""

import argparse
import asyncio
import json
import resource
import sys
import time
from pathlib import Path

from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    BASE_DIR,
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    load_average,
    migrate,
    server_env,
    setup_django,
    start_server,
)


def create_chats(count: int) -> list[str]:
    from chat.models import ChatSession

    ChatSession.objects.exclude(status=ChatSession.Status.ENDED).update(status=ChatSession.Status.ENDED)
    chats = ChatSession.objects.bulk_create(ChatSession(customer_name=f"Idle {i}") for i in range(count))
    return [str(chat.session_id) for chat in chats]


async def hold(url: str, keys: list[str], ws, idle_seconds: float) -> dict:
    async def open_one(key):
        socket = await connect(url, compression=None, open_timeout=120)
        await socket.send(json.dumps({"type": "hello", "session_id": key, "after": 0}))
        ready = json.loads(await asyncio.wait_for(socket.recv(), 120))
        assert ready["type"] == "ready", ready
        return socket

    # one socket first: the worker's baseline includes Django, the layer and a warm pool
    first = await open_one(keys[0])
    await asyncio.sleep(1)
    baseline = ws.rss_mb(ws.pids()[-1])
    began = time.perf_counter()
    sockets = [first]
    for start in range(1, len(keys), 100):
        sockets += await asyncio.gather(*(open_one(key) for key in keys[start : start + 100]))
    opened_in = time.perf_counter() - began
    await asyncio.sleep(idle_seconds)
    held = ws.rss_mb(ws.pids()[-1])
    # still alive: every socket answers a ping
    await asyncio.gather(*(s.send('{"type": "ping"}') for s in sockets))
    pongs = 0
    for socket in sockets:
        while json.loads(await asyncio.wait_for(socket.recv(), 30))["type"] != "pong":
            pass
        pongs += 1
    await asyncio.gather(*(s.close() for s in sockets))
    return {"baseline": baseline, "held": held, "opened_in": opened_in, "pongs": pongs}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sockets", type=int, default=2000)
    parser.add_argument("--idle", type=float, default=10.0, help="seconds to hold them idle")
    parser.add_argument("--ws-port", type=int, default=8413)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    args = parser.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < args.sockets + 100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.sockets + 1000), hard))
    env = server_env(args.database_url, args.redis_url)
    migrate(env)
    setup_django(env)
    keys = create_chats(args.sockets)
    ws = start_server(
        "ws-idle", "serve-ws", args.ws_port, {**env, "WEB_CONCURRENCY": "1"}, BASE_DIR / "bench" / "out"
    )
    try:
        figures = asyncio.run(hold(f"ws://127.0.0.1:{args.ws_port}/ws/chat/", keys, ws, args.idle))
    finally:
        ws.stop()
    per_socket_kb = (figures["held"] - figures["baseline"]) * 1024 / max(args.sockets - 1, 1)
    print(
        f"idle sockets: {args.sockets} customer sockets on one uvicorn worker (load average {load_average()})"
    )
    print(
        f"  opened and greeted in {figures['opened_in']:.1f} s; "
        f"{figures['pongs']} answered a ping after idling"
    )
    print(
        f"  worker RSS: {figures['baseline']:.0f} MB with one socket, {figures['held']:.0f} MB with "
        f"{args.sockets} ({per_socket_kb:.0f} KB per socket)"
    )


if __name__ == "__main__":
    main()
