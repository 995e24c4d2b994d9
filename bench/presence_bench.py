"""Presence (chat/live/presence.py): what it costs the queue path, and how soon an agent whose
browser or socket process dies stops counting as available.

Production settings on PostgreSQL and Redis, the default CHAT_PRESENCE_TTL_SECONDS (45):

- read: in this process, with 5 of 10 agents online and 20 chats waiting, the presence read
  alone, ``agent_counts()`` (the read plus one query) and a customer's ``queue_status()``;
- browser: an agent signs in on Chromium and keeps the inbox open on a socket server; the
  browser is killed (SIGKILL); seconds until that server's ``/api/chat/queue`` says nobody
  is available;
- process: an agent's socket on socket server A, the customer's API on server B; A is killed
  (SIGKILL); seconds until B says nobody is available.

    .venv/bin/python bench/presence_bench.py \\
        --database-url postgres://postgres@127.0.0.1:5432/jt_bench_presence --redis-url redis://127.0.0.1:6379/7

It prints figures; it is not a test (chat/tests/test_presence*.py are).
"""

import argparse
import asyncio
import json
import logging
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import load_average, migrate, server_env, setup_django, start_server  # noqa: E402

PASSWORD = "presenca-bench-2026"


def timed(call, runs: int) -> tuple[float, float]:
    """p50 and p99 of ``call`` in milliseconds."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def prepare():
    from django.contrib.auth.models import Group

    from chat.models import ChatSession
    from chat.services import session_open

    User = __import__("django.contrib.auth", fromlist=["get_user_model"]).get_user_model()
    agents = []
    for number in range(10):
        user, _ = User.objects.get_or_create(username=f"presenca{number}", defaults={"is_staff": True})
        user.set_password(PASSWORD)
        user.is_staff = True
        user.accepting_chats = True
        user.save()
        user.groups.add(Group.objects.get(name="Agentes"))
        agents.append(user)
    ChatSession.objects.filter(status=ChatSession.Status.WAITING).update(status=ChatSession.Status.ENDED)
    chats = [session_open() for _ in range(20)]
    return agents, chats


def read_cost(agents, chats, runs: int) -> None:
    from chat import selectors
    from chat.live import presence

    store = presence.store()
    store.client.delete(presence.AGENTS_KEY)
    store.refresh({f"bench-{user.pk}": user.pk for user in agents[:5]}, {}, time.time())
    assert selectors.agent_counts().available == 5
    last = chats[-1]
    for name, call in (
        (
            "before presence: accepting count",
            selectors.reply_capable_agents().filter(accepting_chats=True).count,
        ),
        ("presence read (ZRANGEBYSCORE)", presence.online_agent_ids),
        ("agent_counts() (read + 1 query)", selectors.agent_counts),
        ("queue_status(chat) (whole)", lambda: selectors.queue_status(last)),
    ):
        call()
        p50, p99 = timed(call, runs)
        print(f"  {name:34s} p50 {p50:6.3f} ms   p99 {p99:6.3f} ms")
    store.client.delete(presence.AGENTS_KEY)


async def wait_until_nobody(url: str, started: float, limit: float = 120) -> float:
    async with httpx.AsyncClient() as http:
        while time.monotonic() - started < limit:
            if (await http.get(url)).json()["agents_available"] == 0:
                return time.monotonic() - started
            await asyncio.sleep(0.1)
    raise SystemExit("the agent never dropped")


def killed_browser(server, agent) -> float:
    from playwright.sync_api import sync_playwright

    url = f"http://127.0.0.1:{server.port}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page()
        page.goto(url + "/admin/login/?next=/admin/chat/chatsession/")
        if not page.locator("#id_username").count():
            raise SystemExit(f"no sign-in form at {page.url}: {page.content()[:500]}")
        page.fill("#id_username", agent.username)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_selector('#live-state[data-state="live"]')
        assert httpx.get(url + "/api/chat/queue").json()["agents_available"] == 1
        for pid in _children(os.getpid(), "chrom"):
            os.kill(pid, signal.SIGKILL)
        started = time.monotonic()
        while httpx.get(url + "/api/chat/queue").json()["agents_available"] != 0:
            if time.monotonic() - started > 120:
                raise SystemExit("the agent never dropped")
            time.sleep(0.1)
        seconds = time.monotonic() - started
        try:
            browser.close()
        except Exception:  # already dead
            pass
    return seconds


def killed_process(first, second, agent) -> float:
    from django.test import Client

    client = Client()
    client.force_login(agent)
    cookie = f"sessionid={client.cookies['sessionid'].value}"

    async def run():
        socket = await websockets.connect(
            f"ws://127.0.0.1:{first.port}/ws/agents/",
            origin=f"http://127.0.0.1:{first.port}",
            additional_headers={"Cookie": cookie},
        )
        await socket.send(json.dumps({"type": "hello"}))
        while json.loads(await socket.recv())["type"] != "ready":
            pass
        url = f"http://127.0.0.1:{second.port}/api/chat/queue"
        async with httpx.AsyncClient() as http:
            while (await http.get(url)).json()["agents_available"] != 1:
                await asyncio.sleep(0.1)
        # Die a heartbeat's third into the TTL: what is left of it is the wait.
        for pid in first.pids():
            os.kill(pid, signal.SIGKILL)
        started = time.monotonic()
        seconds = await wait_until_nobody(url, started)
        await socket.close()
        return seconds

    return asyncio.run(run())


def _children(root: int, name: str) -> list[int]:
    found, parents = [], {root}
    changed = True
    while changed:
        changed = False
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) in parents:
                continue
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if parent in parents:
                parents.add(int(entry.name))
                changed = True
                if name.encode() in command:
                    found.append(int(entry.name))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/jt_bench_presence")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/7")
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--ports", type=int, nargs=2, default=(8721, 8722))
    args = parser.parse_args()

    env = server_env(args.database_url, args.redis_url)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    migrate(env)
    # The admin pages the browser signs in on need the production static files.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], env=env, check=True
    )
    setup_django(env)
    agents, chats = prepare()
    print(f"presence, TTL {os.environ.get('CHAT_PRESENCE_TTL_SECONDS', '45')} s; load {load_average()}")
    print("read cost (5 agents online, 20 chats waiting):")
    read_cost(agents, chats, args.runs)

    logs = Path(tempfile.mkdtemp(prefix="presence-bench-"))
    first = start_server("ws-a", "serve-ws", args.ports[0], env, logs)
    second = start_server("ws-b", "serve-ws", args.ports[1], env, logs)
    try:
        print(f"killed browser: dropped after {killed_browser(first, agents[0]):.1f} s")
        print(f"killed socket process: dropped after {killed_process(first, second, agents[1]):.1f} s")
    finally:
        first.stop()
        second.stop()


if __name__ == "__main__":
    main()
