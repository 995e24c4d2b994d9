"""Compute the daily metrics (ChatAnalytics rows) for one local day or a range of days."""

import re
import time
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from chat.analytics.daily import compute_metrics_range
from chat.analytics.days import yesterday
from chat.services import job_run

ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_day(value: str, option: str) -> date:
    if not ISO_DAY.match(value or ""):
        raise CommandError(f"{option}: {value!r} is not a date; use YYYY-MM-DD, e.g. 2024-05-31.")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{option}: {value!r} is not a real date ({exc}).") from exc


class Command(BaseCommand):
    help = (
        "Compute the chat metrics of local days (TIME_ZONE) and store one row per day. "
        "Without options: yesterday. Running a day again replaces its row."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", metavar="YYYY-MM-DD", help="One day.")
        parser.add_argument("--from", dest="from_date", metavar="YYYY-MM-DD", help="First day of a backfill.")
        parser.add_argument(
            "--to", dest="to_date", metavar="YYYY-MM-DD", help="Last day of a backfill (default: yesterday)."
        )
        parser.add_argument(
            "--days",
            type=int,
            metavar="N",
            help="The N days ending yesterday (recomputes recent days, e.g. to take in late ratings).",
        )

    @job_run(command="compute_daily_metrics")  # its last success, for /metrics
    def handle(self, *args, **options):
        first, last = self._days(options)
        count = (last - first).days + 1
        started = time.monotonic()

        def progress(index, total, row):
            if total > 1:
                self.stdout.write(
                    f"[{index}/{total}] {row.date}: {row.total_sessions} sessions, "
                    f"{row.total_messages} messages"
                )

        rows = compute_metrics_range(first, last, progress=progress)
        elapsed = time.monotonic() - started
        if count == 1:
            row = rows[0]
            frt = "-" if row.frt_avg is None else f"{row.frt_avg:.1f} s"
            satisfaction = "-" if row.satisfaction_avg is None else f"{row.satisfaction_avg:.2f}"
            self.stdout.write(
                self.style.SUCCESS(
                    f"Metrics for {row.date}: {row.total_sessions} sessions, {row.total_messages} messages, "
                    f"FRT average {frt}, satisfaction {satisfaction} ({row.ratings_count} ratings) "
                    f"in {elapsed:.2f} s."
                )
            )
        else:
            sessions = sum(row.total_sessions for row in rows)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Metrics for {count} days, {first} to {last}: {sessions} sessions in {elapsed:.2f} s."
                )
            )

    def _days(self, options) -> tuple[date, date]:
        one_day, from_raw, to_raw, days = (
            options.get("date"),
            options.get("from_date"),
            options.get("to_date"),
            options.get("days"),
        )
        chosen = [
            name
            for name, value in (("--date", one_day), ("--from/--to", from_raw or to_raw), ("--days", days))
            if value is not None
        ]
        if len(chosen) > 1:
            raise CommandError(f"Use only one of {' or '.join(chosen)}.")
        today = timezone.localdate()
        if one_day is not None:
            day = parse_day(one_day, "--date")
            self._not_future(day, today, "--date")
            return day, day
        if days is not None:
            if days < 1:
                raise CommandError("--days must be 1 or more.")
            return yesterday() - timedelta(days=days - 1), yesterday()
        if to_raw is not None and from_raw is None:
            raise CommandError("--to needs --from (the first day of the range).")
        if from_raw is not None:
            first = parse_day(from_raw, "--from")
            last = parse_day(to_raw, "--to") if to_raw is not None else yesterday()
            if first > last:
                raise CommandError(f"--from {first} is after --to {last}: the range is reversed.")
            self._not_future(last, today, "--to")
            return first, last
        day = yesterday()
        return day, day

    @staticmethod
    def _not_future(day: date, today: date, option: str) -> None:
        if day > today:
            raise CommandError(f"{option} {day} is in the future (today is {today} in the local time zone).")
