"""Bulk-add realistic fake chats for demos and benchmarks: chat/seeding says how."""

import time
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from chat.seeding import seed_chats

from .compute_daily_metrics import parse_day


class Command(BaseCommand):
    help = "Add realistic fake chats and messages (bulk; COPY on PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--sessions", type=int, default=1000, help="Chats to add (default 1000).")
        parser.add_argument(
            "--messages",
            type=int,
            help="Message rows to add in total, system messages included (default 10 per chat).",
        )
        parser.add_argument("--date", metavar="YYYY-MM-DD", help="Last day of the chats (default yesterday).")
        parser.add_argument("--days", type=int, default=1, help="Number of days ending --date (default 1).")
        parser.add_argument(
            "--agents", type=int, default=10, help="Agents answering (created if missing; default 10)."
        )
        parser.add_argument(
            "--waiting", type=int, help="Chats left waiting in the queue (default 0.04%% of the chats)."
        )
        parser.add_argument(
            "--active", type=int, help="Chats left open with an agent (default 0.12%% of the chats)."
        )
        parser.add_argument("--seed", type=int, help="Random seed, for the same data on every run.")

    def handle(self, *args, **options):
        sessions = options["sessions"]
        messages = options["messages"] if options["messages"] is not None else sessions * 10
        days = options["days"]
        agents = options["agents"]
        waiting = options["waiting"] if options["waiting"] is not None else round(sessions * 0.0004)
        active = options["active"] if options["active"] is not None else round(sessions * 0.0012)
        for name, value in (("--sessions", sessions), ("--messages", messages), ("--agents", agents)):
            if value < 0:
                raise CommandError(f"{name} must be 0 or more.")
        if days < 1:
            raise CommandError("--days must be 1 or more.")
        if messages and not sessions:
            raise CommandError("--messages need --sessions to belong to.")
        if waiting < 0 or active < 0 or waiting + active > sessions:
            raise CommandError("--waiting and --active must be 0 or more and fit in --sessions.")
        if active and not agents:
            raise CommandError("--active chats need at least one agent (--agents).")
        today = timezone.localdate()
        last = parse_day(options["date"], "--date") if options["date"] else today - timedelta(days=1)
        if last > today:
            raise CommandError(f"--date {last} is in the future.")
        first = last - timedelta(days=days - 1)

        started = time.monotonic()
        answering = seed_chats(
            sessions=sessions,
            messages=messages,
            first=first,
            last=last,
            agents=agents,
            waiting=waiting,
            active=active,
            seed=options["seed"],
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {sessions:,} chats and {messages:,} messages from {first} to {last} "
                f"({len(answering)} agents) in {time.monotonic() - started:.1f} s."
            )
        )
