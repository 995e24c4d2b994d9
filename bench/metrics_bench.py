"""Metrics benchmark: compute_daily_metrics on one day of 100,000 chats and 1,000,000 messages.

Usage (PostgreSQL; the database is created if missing, migrated, and seeded once):

    .venv/bin/python bench/metrics_bench.py
    .venv/bin/python bench/metrics_bench.py --reseed --runs 5 --explain

It seeds the day with ``manage.py seed_chats`` into a database of its own (``jt_bench`` by
default, or DATABASE_URL), then times, in the same run, ``chat.analytics.daily.compute_daily_metrics``
(SQL aggregation) against a straightforward Python loop over the same rows: the seed MVP's
way, reading every chat and every message of the day as model objects and adding up in
Python. Both must give the same figures; the script checks that and prints both times and
the ratio (targets: under 5 s, and at least 20 times faster). It is not a test.
"""

import argparse
import os
import statistics
import sys
import time
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/jt_bench"


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--date", default="2024-05-10", help="The benchmark day (YYYY-MM-DD).")
    parser.add_argument("--agents", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3, help="Timed runs of compute_daily_metrics.")
    parser.add_argument("--reseed", action="store_true", help="Empty the chat tables and seed again.")
    parser.add_argument("--explain", action="store_true", help="Print the plans of the metrics queries.")
    return parser.parse_args()


def ensure_database(url: str) -> None:
    """Create the benchmark database when it does not exist yet."""
    from urllib.parse import urlsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jtchat.settings_test")
    import django

    django.setup()


def seed_day(day: date, sessions: int, messages: int, agents: int, reseed: bool) -> None:
    from django.core.management import call_command
    from django.db import connection

    from chat.analytics.days import local_day_bounds
    from chat.models import ChatMessage, ChatSession

    start, end = local_day_bounds(day)
    have = ChatSession.objects.filter(started_at__gte=start, started_at__lt=end).count()
    if have == sessions and not reseed:
        print(
            f"seed: the day already has {have:,} chats "
            f"({ChatMessage.objects.count():,} messages in the table)"
        )
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE chat_chatmessage, chat_chatsession, chat_chatanalytics RESTART IDENTITY CASCADE"
        )
    started = time.perf_counter()
    call_command(
        "seed_chats",
        sessions=sessions,
        messages=messages,
        date=day.isoformat(),
        agents=agents,
        waiting=0,
        active=0,
        seed=2024,
    )
    seeded = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE chat_chatsession")
        cursor.execute("VACUUM ANALYZE chat_chatmessage")
    print(f"seed: {sessions:,} chats and {messages:,} messages with seed_chats in {seeded:.1f} s")


def python_loop(day: date) -> dict:
    """The same figures the slow way: every row of the day as a model object, sums in Python."""
    from django.conf import settings

    from chat.analytics.days import local_day_bounds
    from chat.analytics.sql import interpolated_percentile
    from chat.models import ChatMessage, ChatSession

    start, end = local_day_bounds(day)
    sla = settings.CHAT_SLA_FIRST_RESPONSE_SECONDS
    total = answered = ended = abandoned = sla_met = 0
    frts, durations, ratings = [], [], []
    issues = Counter()
    agent_chats = defaultdict(int)
    for session in ChatSession.objects.filter(started_at__gte=start, started_at__lt=end).iterator(
        chunk_size=5000
    ):
        total += 1
        if session.first_response_at is not None:
            answered += 1
            frt = (session.first_response_at - session.started_at).total_seconds()
            frts.append(frt)
            sla_met += frt <= sla
        if session.status == ChatSession.Status.ENDED and session.ended_at is not None:
            ended += 1
            durations.append((session.ended_at - session.started_at).total_seconds())
            if session.first_response_at is None:
                abandoned += 1
        if session.satisfaction_rating is not None:
            ratings.append(session.satisfaction_rating)
        if session.issue:
            issues[session.issue] += 1
        if session.assigned_agent_id:
            agent_chats[session.assigned_agent_id] += 1
    customer = agent = 0
    responses = []
    for message in ChatMessage.objects.filter(created_at__gte=start, created_at__lt=end).iterator(
        chunk_size=5000
    ):
        if message.is_internal:
            continue
        if message.author == ChatMessage.Author.CUSTOMER:
            customer += 1
        elif message.author == ChatMessage.Author.AGENT:
            agent += 1
            if message.response_seconds is not None:
                responses.append(message.response_seconds)
    frts.sort()
    responses.sort()

    def mean(values):
        return sum(values) / len(values) if values else None

    return {
        "total_sessions": total,
        "answered_sessions": answered,
        "ended_sessions": ended,
        "abandoned_sessions": abandoned,
        "customer_messages": customer,
        "agent_messages": agent,
        "frt_avg": mean(frts),
        "frt_median": interpolated_percentile(frts, 0.5),
        "frt_p90": interpolated_percentile(frts, 0.9),
        "avg_response_time": mean(responses),
        "response_time_median": interpolated_percentile(responses, 0.5),
        "avg_session_duration": mean(durations),
        "satisfaction_avg": mean(ratings),
        "ratings_count": len(ratings),
        "csat_share": sum(1 for r in ratings if r >= 4) / len(ratings) if ratings else None,
        "sla_share": sla_met / answered if answered else None,
        "common_issues": sorted(issues.items(), key=lambda item: (-item[1], item[0])),
        "agents": dict(agent_chats),
    }


def compare(row, loop: dict) -> list[str]:
    differences = []
    for key, expected in loop.items():
        if key == "common_issues":
            actual = [(item["issue"], item["count"]) for item in row.common_issues]
        elif key == "agents":
            actual = {entry["agent_id"]: entry["chats"] for entry in row.per_agent if entry["chats"]}
        else:
            actual = getattr(row, key)
        if isinstance(expected, float) and actual is not None:
            if abs(actual - expected) > 1e-3 * max(1.0, abs(expected)):
                differences.append(f"{key}: SQL {actual} vs loop {expected}")
        elif actual != expected:
            differences.append(f"{key}: SQL {actual!r} vs loop {expected!r}")
    return differences


def explain(day: date) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from chat.analytics.daily import day_figures

    with CaptureQueriesContext(connection) as queries:
        day_figures(day)
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            print(f"\n--- {query['time']} s: {query['sql'][:160]}...")
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            for (line,) in cursor.fetchall():
                print("   ", line)


def main() -> None:
    args = parse_args()
    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("The benchmark needs PostgreSQL: set DATABASE_URL=postgres://... (default jt_bench).")
    ensure_database(url)
    setup_django(url)

    from django.core.management import call_command
    from django.db import connection

    from chat.analytics.daily import compute_daily_metrics

    call_command("migrate", verbosity=0)
    day = date.fromisoformat(args.date)
    print(
        f"database: {connection.settings_dict['NAME']} "
        f"(PostgreSQL {connection.pg_version // 10000}); day {day}"
    )
    seed_day(day, args.sessions, args.messages, args.agents, args.reseed)

    timings = []
    for _ in range(args.runs):
        started = time.perf_counter()
        row = compute_daily_metrics(day)
        timings.append(time.perf_counter() - started)
    print(
        f"compute_daily_metrics: {', '.join(f'{t:.3f}' for t in timings)} s "
        f"(best {min(timings):.3f} s, median {statistics.median(timings):.3f} s)"
    )
    print(
        f"  {row.total_sessions:,} chats, {row.total_messages:,} messages, FRT avg/median/p90 "
        f"{row.frt_avg}/{row.frt_median}/{row.frt_p90} s, response time avg/median "
        f"{row.avg_response_time}/{row.response_time_median} s, {len(row.per_agent)} agents"
    )

    started = time.perf_counter()
    loop = python_loop(day)
    loop_time = time.perf_counter() - started
    print(f"Python loop over the same rows: {loop_time:.3f} s")

    differences = compare(row, loop)
    print("same figures: " + ("yes" if not differences else "NO\n  " + "\n  ".join(differences)))
    best = min(timings)
    ratio = loop_time / best
    print(
        f"result: {best:.3f} s (target < 5 s: {'met' if best < 5 else 'MISSED'}); "
        f"{ratio:.1f}x faster than the loop (target >= 20x: {'met' if ratio >= 20 else 'MISSED'})"
    )
    if args.explain:
        explain(day)


if __name__ == "__main__":
    main()
