"""The compute_daily_metrics command: days chosen, progress, summary, and argument errors."""

import subprocess
import sys
from datetime import date, timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from chat.models import ChatAnalytics

from .factories import customer_says, local, make_session

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("compute_daily_metrics", *args, stdout=out)
    return out.getvalue()


def test_without_options_it_computes_yesterday():
    yesterday = timezone.localdate() - timedelta(days=1)
    session = make_session(local(yesterday, 12, 0))
    customer_says(session, local(yesterday, 12, 1))

    output = run()

    row = ChatAnalytics.objects.get()
    assert row.date == yesterday
    assert (row.total_sessions, row.total_messages) == (1, 1)
    assert str(yesterday) in output and "1 sessions" in output


def test_one_date():
    day = date(2024, 5, 10)
    make_session(local(day, 8, 0))
    make_session(local(day, 9, 0))

    output = run("--date", "2024-05-10")

    assert ChatAnalytics.objects.get(date=day).total_sessions == 2
    assert "2024-05-10: 2 sessions" in output


def test_a_backfill_prints_progress_and_writes_one_row_per_day():
    make_session(local(date(2024, 5, 2), 10, 0))

    output = run("--from", "2024-05-01", "--to", "2024-05-03")

    assert list(ChatAnalytics.objects.order_by("date").values_list("date", "total_sessions")) == [
        (date(2024, 5, 1), 0),
        (date(2024, 5, 2), 1),
        (date(2024, 5, 3), 0),
    ]
    assert "[1/3] 2024-05-01" in output and "[3/3] 2024-05-03" in output
    assert "3 days, 2024-05-01 to 2024-05-03: 1 sessions" in output


def test_running_a_backfill_twice_keeps_one_row_per_day():
    run("--from", "2024-05-01", "--to", "2024-05-03")
    run("--from", "2024-05-02", "--to", "2024-05-04")

    assert ChatAnalytics.objects.count() == 4


def test_days_recomputes_the_days_ending_yesterday():
    run("--days", "3")
    yesterday = timezone.localdate() - timedelta(days=1)
    assert list(ChatAnalytics.objects.order_by("date").values_list("date", flat=True)) == [
        yesterday - timedelta(days=2),
        yesterday - timedelta(days=1),
        yesterday,
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--date", "31/05/2024"], "use YYYY-MM-DD"),
        (["--date", "2024-02-30"], "not a real date"),
        (["--date", "yesterday"], "use YYYY-MM-DD"),
        (["--date", "20240531"], "use YYYY-MM-DD"),
        (["--from", "2024-05-10", "--to", "2024-05-01"], "reversed"),
        (["--from", "2024-05-01", "--to", "nope"], "--to"),
        (["--to", "2024-05-01"], "--to needs --from"),
        (["--date", "2024-05-01", "--from", "2024-05-01"], "only one of"),
        (["--days", "2", "--date", "2024-05-01"], "only one of"),
        (["--days", "0"], "1 or more"),
        (["--date", "2999-01-01"], "in the future"),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_message(args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert ChatAnalytics.objects.count() == 0


def test_from_the_shell_a_bad_date_exits_non_zero():
    """The real command line: a message on stderr and a non-zero exit status."""
    env = {"DJANGO_SETTINGS_MODULE": "jtchat.settings_test", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "manage.py", "compute_daily_metrics", "--date", "2024-13-01"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "not a real date" in result.stderr


def test_render_runs_the_command_every_day():
    """The blueprint's cron job calls this command with arguments it accepts."""
    import shlex

    import yaml

    blueprint = yaml.safe_load((settings.BASE_DIR / "render.yaml").read_text())
    jobs = [
        s
        for s in blueprint["services"]
        if s["type"] == "cron" and "compute_daily_metrics" in s["startCommand"]
    ]
    assert len(jobs) == 1
    job = jobs[0]
    minute, hour, day_of_month, month, day_of_week = job["schedule"].split()
    assert (day_of_month, month, day_of_week) == ("*", "*", "*")
    env = {item["key"] for item in job["envVars"]}
    assert {"DATABASE_URL", "SECRET_KEY", "ALLOWED_HOSTS"} <= env

    python, manage, command, *args = shlex.split(job["startCommand"])
    assert (manage, command) == ("manage.py", "compute_daily_metrics")
    run(*args)
    assert ChatAnalytics.objects.filter(date=timezone.localdate() - timedelta(days=1)).exists()
