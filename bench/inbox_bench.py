"""Inbox benchmark: the admin chat changelist over 100,000 chats and 1,000,000 messages.

Usage (PostgreSQL only; the database is created by migrate if empty, seeded once):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jt_b .venv/bin/python bench/inbox_bench.py

Seeds once with ``manage.py seed_chats`` (60 days of chats, 40 waiting, 120 active), then
times the inbox page in-process through Django's test client (middleware, admin, template
rendering included; no network) and prints the number of queries and the p50/p90 server
time of each page, with the p50 split into CPU time in the Django process and time spent
waiting for PostgreSQL (telling on a busy machine). Options: --sessions, --messages,
--runs, --explain (print the plans of the list and search queries).
"""

import argparse
import logging
import os
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jtchat.settings_test")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, Q  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

INBOX_URL = "/admin/chat/chatsession/"
AGENTS = 20
WAITING = 40
ACTIVE = 120
DAYS = 60


def seed(sessions: int, messages: int) -> None:
    """Fill the database once with ``manage.py seed_chats`` (COPY on PostgreSQL)."""
    from chat.models import ChatMessage, ChatSession

    have_sessions = ChatSession.objects.count()
    have_messages = ChatMessage.objects.count()
    if have_sessions == sessions and have_messages == messages and busiest_agent() is not None:
        print(f"seed: already {have_sessions:,} chats and {have_messages:,} messages")
        return
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE chat_chatmessage, chat_chatsession RESTART IDENTITY CASCADE")
    call_command(
        "seed_chats",
        sessions=sessions,
        messages=messages,
        days=DAYS,
        agents=AGENTS,
        waiting=WAITING,
        active=ACTIVE,
        seed=4,
        verbosity=0,
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE chat_chatsession")
        cursor.execute("VACUUM ANALYZE chat_chatmessage")
    print(
        f"seed (manage.py seed_chats): {ChatSession.objects.count():,} chats, "
        f"{ChatMessage.objects.count():,} messages in {time.perf_counter() - started:.0f} s"
    )


def busiest_agent():
    """The seeded agent with the most open chats, so that the "mine" tab has rows."""
    return (
        get_user_model()
        .objects.filter(username__startswith="agente")
        .annotate(open_chats=Count("assigned_sessions", filter=Q(assigned_sessions__status="active")))
        .order_by("-open_chats", "pk")
        .first()
    )


def sample_tracking_code() -> str:
    from chat.models import ChatSession

    return (
        ChatSession.objects.exclude(tracking_code="")
        .order_by("id")
        .values_list("tracking_code", flat=True)
        .first()
        or "JT"
    )


class SqlTimer:
    """Adds up the time spent waiting for the database (an execute wrapper)."""

    def __init__(self):
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started


def measure(client: Client, url: str, runs: int) -> dict:
    """Wall time per request, and its split: CPU in this process, waiting for SQL."""
    client.get(url)  # warm caches and the connection
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    query_count = len(queries)  # now: the next request resets the connection's query log
    wall, cpu, sql = [], [], []
    for _ in range(runs):
        timer = SqlTimer()
        started, started_cpu = time.perf_counter(), time.process_time()
        with connection.execute_wrapper(timer):
            response = client.get(url)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        sql.append(timer.seconds * 1000)
    return {"queries": query_count, "wall": wall, "cpu": cpu, "sql": sql, "size": len(response.content)}


def explain(agent, term: str) -> None:
    from chat import selectors

    for label, qs in (
        ("first page", selectors.inbox_sessions(agent=agent)),
        ("search", selectors.inbox_search(selectors.inbox_sessions(agent=agent), term)),
    ):
        print(f"\n--- plan: {label}")
        print(qs[:50].explain(analyze=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("This benchmark needs PostgreSQL: set DATABASE_URL=postgres://...")

    logging.getLogger("jtchat.request").setLevel(logging.WARNING)
    call_command("migrate", verbosity=0)
    seed(args.sessions, args.messages)
    agent = busiest_agent()
    client = Client()
    client.force_login(agent)

    pages = [
        ("first page (all tabs)", INBOX_URL),
        ("waiting tab", INBOX_URL + "?tab=waiting"),
        ("mine tab", INBOX_URL + "?tab=mine"),
        ("ended tab, page 2", INBOX_URL + "?tab=ended&p=2"),
        ("search: customer name", INBOX_URL + "?q=Juliana+Costa"),
        ("search: message text", INBOX_URL + "?q=quebrada"),
        ("search: tracking code", INBOX_URL + "?q=" + sample_tracking_code()),
    ]
    print(f"\ninbox benchmark, {args.runs} runs each (server time in-process, ms)")
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'page':<26}{'queries':>8}{'p50':>8}{'p90':>8}{'cpu p50':>9}{'sql p50':>9}{'KB':>6}")
    for label, url in pages:
        result = measure(client, url, args.runs)
        p90 = statistics.quantiles(result["wall"], n=10)[8]
        print(
            f"{label:<26}{result['queries']:>8}{statistics.median(result['wall']):>8.1f}{p90:>8.1f}"
            f"{statistics.median(result['cpu']):>9.1f}{statistics.median(result['sql']):>9.1f}"
            f"{result['size'] / 1024:>6.0f}"
        )
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    if args.explain:
        explain(agent, "quebrada")


if __name__ == "__main__":
    main()
