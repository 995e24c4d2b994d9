"""The agents' workspace in a real browser, against the production serving commands (not a
test): how soon a new chat is on screen in an agent's open inbox, and how many actions a
first reply takes.

Starts bin/serve-web (gunicorn) and bin/serve-ws (uvicorn) on 127.0.0.1 with PostgreSQL and
Redis, the pages opening their sockets on the socket server (CHAT_WEBSOCKET_URL, as on
Render). Two agents are signed in, each in headless Chromium: Bruno keeps the inbox open,
Ana answers.

* **New chat visible**: a customer opens a chat (``POST /api/chat/session``, timed from just
  before the request leaves); the inbox page notes the moment the chat's row is in the
  document and the next frame is painted (a MutationObserver, then requestAnimationFrame).
  Both clocks are this machine's wall clock. Each chat is ended before the next one, so
  the open tab stays the same size. Prints p50, p90 and max over ``--repetitions``.
* **Actions to a first reply**: a customer writes; Ana, on her inbox, does what an agent
  does — click the chat's row; click the reply box unless it already has the focus; type;
  press Enter, and click *Send* unless Enter sent it — and each step she needed is counted.

    .venv/bin/python bench/workspace_bench.py --repetitions 100 \\
        --database-url postgres://postgres@127.0.0.1:5432/jt_bench_workspace --redis-url redis://127.0.0.1:6379/9

``--checkout PATH`` serves another checkout of the project (e.g. the main branch before the
workspace) with the same database, to compare.
"""

import argparse
import http.client
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    BASE_DIR,
    DEFAULT_REDIS_URL,
    load_average,
    migrate,
    percentile,
    server_env,
    setup_django,
    start_server,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/jt_bench_workspace"
CHROMIUM = "/usr/bin/chromium"
INBOX = "/admin/chat/chatsession/"
WARM_UP = 3
SETTLE_S = 0.4
WAIT_S = 10.0

# On the inbox page: when each chat's row (by the customer's name) entered the document and
# when the frame after it was painted, in ms on the wall clock.
ROW_WATCH = """
(() => {
  window.__rows = {};
  new MutationObserver((records) => {
    const now = performance.timeOrigin + performance.now();
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node.nodeType !== 1) continue;
        const rows = node.matches("tr") ? [node] : node.querySelectorAll("tr");
        for (const row of rows) {
          const name = row.querySelector(".inbox-name");
          const key = name && name.textContent;
          if (!key || key in window.__rows) continue;
          window.__rows[key] = { inserted: now };
          requestAnimationFrame(() => {
            window.__rows[key].painted = performance.timeOrigin + performance.now();
          });
        }
      }
    }
  }).observe(document, { childList: true, subtree: true });
})();
"""


def prepare_agents() -> dict[str, str]:
    """Ana and Bruno in Agentes, each with a signed-in admin session: {username: key}."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from chat.models import ChatSession

    # Earlier runs' chats would sit in the inbox: end them.
    ChatSession.objects.exclude(status=ChatSession.Status.ENDED).update(status=ChatSession.Status.ENDED)
    User = get_user_model()
    group = Group.objects.get(name="Agentes")
    keys = {}
    for username, name in (("bench-ana", "Ana"), ("bench-bruno", "Bruno")):
        user, _created = User.objects.update_or_create(
            username=username,
            defaults={
                "is_staff": True,
                "display_name": name,
                "accepting_chats": True,
                "last_login": timezone.now(),
            },
        )
        user.set_unusable_password()
        user.save()
        user.groups.add(group)
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        keys[username] = session.session_key
    return keys


class Customer:
    """The customer's side over one keep-alive connection: open a chat, write, end it."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def post(self, path: str, body: dict) -> dict:
        self.connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        response = self.connection.getresponse()
        data = response.read()
        if response.status >= 300:
            raise SystemExit(f"{path}: {response.status} {data[:200]!r}")
        return json.loads(data)

    def open(self, name: str) -> tuple[float, str]:
        """Open a chat; (wall-clock ms just before the request left, its session key)."""
        started = time.time() * 1000
        return started, self.post("/api/chat/session", {"customer_name": name})["session_id"]


def agent_page(browser, base: str, session_key: str, path: str):
    context = browser.new_context(locale="pt-BR", viewport={"width": 1400, "height": 900})
    context.add_cookies([{"name": "sessionid", "value": session_key, "url": base}])
    page = context.new_page()
    page.set_default_timeout(WAIT_S * 1000)
    page.add_init_script(ROW_WATCH)
    page.goto(base + path)
    page.wait_for_selector("#live-state[data-state=live]")
    return page


def new_chat_visible(page, customer: Customer, repetitions: int) -> list[float]:
    """ms from the customer's POST to the row painted in the open inbox, per new chat."""
    figures = []
    for index in range(WARM_UP + repetitions):
        name = f"Cliente {time.time_ns()}"
        started, key = customer.open(name)
        page.wait_for_function("(name) => window.__rows[name] && window.__rows[name].painted", arg=name)
        painted = page.evaluate("(name) => window.__rows[name].painted", name)
        if index >= WARM_UP:
            figures.append(painted - started)
        customer.post("/api/chat/end", {"session_id": key})
        time.sleep(SETTLE_S)
    return figures


def actions_to_first_reply(page, customer: Customer) -> tuple[int, list[str]]:
    """What Ana must do, from her open inbox, to answer a new chat."""
    name = f"Primeira {time.time_ns()}"
    _started, key = customer.open(name)
    customer.post(
        "/api/chat/message", {"session_id": key, "author": "user", "content": "Onde está meu pedido?"}
    )
    row = page.locator("#result_list a", has_text=name)
    row.wait_for()
    done = []
    row.click()
    done.append("click the chat")
    box = page.locator("#reply-content")
    box.wait_for()
    if not box.evaluate("element => element === document.activeElement"):
        box.click()
        done.append("click the reply box")
    text = "Olá! Vou verificar o seu pedido."
    page.keyboard.type(text)
    done.append("type")
    page.keyboard.press("Enter")
    done.append("press Enter")
    sent = page.locator("#transcript .msg-agent", has_text=text)
    try:
        sent.wait_for(timeout=2000)
    except Exception:  # Enter added a line: the agent clicks Send
        page.click("#reply-send")
        done[-1] = "press Enter (a new line)"
        done.append("click Send")
        sent.wait_for()
    customer.post("/api/chat/end", {"session_id": key})
    return len([step for step in done if "new line" not in step]), done


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repetitions", type=int, default=100)
    parser.add_argument("--web-port", type=int, default=8420)
    parser.add_argument("--ws-port", type=int, default=8421)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--checkout", type=Path, default=BASE_DIR, help="the checkout to serve")
    args = parser.parse_args()

    env = server_env(
        args.database_url,
        args.redis_url,
        CHAT_WEBSOCKET_URL=f"ws://127.0.0.1:{args.ws_port}",
        CSRF_TRUSTED_ORIGINS=f"http://127.0.0.1:{args.web_port}",
    )
    migrate(env)
    setup_django(env)
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    keys = prepare_agents()

    from django.db import connections

    connections.close_all()
    from playwright.sync_api import sync_playwright

    log_dir = BASE_DIR / "bench" / "out"
    checkout = args.checkout.resolve()
    # DEBUG off: the pages' files are the hashed ones collected into the checkout's staticfiles/.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=checkout,
        env=env,
        check=True,
    )
    web = start_server("web", "serve-web", args.web_port, env, log_dir, base_dir=checkout)
    ws = start_server(
        "ws", "serve-ws", args.ws_port, {**env, "WEB_CONCURRENCY": "1"}, log_dir, base_dir=checkout
    )
    base = f"http://127.0.0.1:{args.web_port}"
    load_before = load_average()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--headless", "--no-sandbox"]
            )
            customer = Customer(args.web_port)
            bruno = agent_page(browser, base, keys["bench-bruno"], INBOX)
            latencies = new_chat_visible(bruno, customer, args.repetitions)
            ana = agent_page(browser, base, keys["bench-ana"], INBOX)
            actions, steps = actions_to_first_reply(ana, customer)
            browser.close()
    finally:
        ws.stop()
        web.stop()

    print(f"agents' workspace: {checkout}")
    print("  servers: gunicorn (HTTP) + 1 uvicorn worker (/ws/), PostgreSQL, Redis; headless Chromium")
    print(f"  load average before: {load_before}; after: {load_average()}")
    print(
        f"  new chat visible in another agent's open inbox (customer's POST -> row painted), "
        f"{len(latencies)} chats: p50 {percentile(latencies, 0.5):.0f} ms, "
        f"p90 {percentile(latencies, 0.9):.0f} ms, max {max(latencies):.0f} ms"
    )
    print(f"  actions to a first reply from the inbox: {actions} ({', '.join(steps)})")


if __name__ == "__main__":
    main()
