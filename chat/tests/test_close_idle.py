"""manage.py close_idle_sessions: ends quiet chats, tells the customer, refuses bad input."""

import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from chat import selectors, services
from chat.live import announce
from chat.live.events import session_group
from chat.models import ChatMessage, ChatSession

pytestmark = pytest.mark.django_db

Status = ChatSession.Status


def chat(minutes_quiet: float, *, agent=None, message=True):
    session = services.session_open(customer_name="Maria")
    if message:
        services.customer_message_post(session_key=session.session_id, content="Olá")
    if agent is not None:
        services.session_claim(session=session, agent=agent)
    then = timezone.now() - timedelta(minutes=minutes_quiet)
    ChatSession.objects.filter(pk=session.pk).update(
        started_at=then, last_message_at=then if message else None
    )
    return session


def test_ends_only_chats_quiet_for_longer_than_the_limit(capsys, agent):
    quiet_waiting = chat(45)
    quiet_active = chat(31, agent=agent)
    never_wrote = chat(40, message=False)
    recent = chat(10)
    already_ended = chat(90)
    services.session_end(session=already_ended, ended_by=ChatSession.EndedBy.CUSTOMER)

    call_command("close_idle_sessions", "--minutes", "30")

    assert "Closed 3 idle chats" in capsys.readouterr().out
    for session in (quiet_waiting, quiet_active, never_wrote):
        session.refresh_from_db()
        assert session.status == Status.ENDED and session.ended_by == ChatSession.EndedBy.SYSTEM
    recent.refresh_from_db()
    already_ended.refresh_from_db()
    assert recent.status == Status.WAITING
    assert already_ended.ended_by == ChatSession.EndedBy.CUSTOMER

    call_command("close_idle_sessions", "--minutes", "30")
    assert "Closed 0 idle chats" in capsys.readouterr().out


def test_the_customer_is_told(monkeypatch, django_capture_on_commit_callbacks):
    session = chat(60)
    sent = []
    monkeypatch.setattr(announce, "send_event_on_commit", lambda *event: sent.append(event))

    with django_capture_on_commit_callbacks(execute=True):
        call_command("close_idle_sessions")  # default: 30 minutes

    notice = session.messages.get(author=ChatMessage.Author.SYSTEM)
    to_customer = [event for group, event in sent if group == session_group(session.pk)]
    said = [event["message"]["content"] for event in to_customer if event["type"] == "message"]
    statuses = [event["session"]["status"] for event in to_customer if event["type"] == "session"]
    assert said == [notice.content]
    assert statuses == ["ended"]


def test_a_chat_that_woke_up_after_the_ids_were_read_stays_open(monkeypatch):
    session = chat(60)
    services.customer_message_post(session_key=session.session_id, content="Ainda estou aqui")
    monkeypatch.setattr(selectors, "idle_session_ids", lambda **kwargs: [session.pk])

    assert services.close_idle_sessions(minutes=30) == 0
    session.refresh_from_db()
    assert session.status == Status.WAITING


@pytest.mark.parametrize("minutes", ["0", "-5", "abc", "1.5"])
def test_bad_minutes_are_refused(minutes):
    session = chat(60)
    with pytest.raises(CommandError):
        call_command("close_idle_sessions", f"--minutes={minutes}")
    session.refresh_from_db()
    assert session.status == Status.WAITING


def test_bad_minutes_exit_non_zero_from_the_shell():
    result = subprocess.run(
        [sys.executable, "manage.py", "close_idle_sessions", "--minutes", "0"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "jtchat.settings_test"},
    )
    assert result.returncode != 0
    assert "--minutes must be 1 or more" in result.stderr


def test_render_runs_the_command_every_five_minutes():
    import shlex

    import yaml

    blueprint = yaml.safe_load((settings.BASE_DIR / "render.yaml").read_text())
    [job] = [s for s in blueprint["services"] if "close_idle_sessions" in s.get("startCommand", "")]
    web = next(s for s in blueprint["services"] if s["name"] == "jtchat-web")
    env = {item["key"]: item for item in job["envVars"]}
    web_env = {item["key"]: item for item in web["envVars"] if "key" in item}

    assert job["type"] == "cron" and job["schedule"] == "*/5 * * * *"
    assert env["DATABASE_URL"] == web_env["DATABASE_URL"]
    assert env["REDIS_URL"] == web_env["REDIS_URL"]  # the customer hears of it live
    assert env["SECRET_KEY"]["fromService"] == {
        "type": "web",
        "name": "jtchat-web",
        "envVarKey": "SECRET_KEY",
    }
    assert "ALLOWED_HOSTS" in env
    python, manage, command, *args = shlex.split(job["startCommand"])
    assert (manage, command, args) == ("manage.py", "close_idle_sessions", ["--minutes", "30"])


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_each_closed_chat_is_announced_as_soon_as_it_is_committed(monkeypatch):
    """A long sweep does not hold back the first customers' news until its end."""
    from chat.live import events

    first, second = chat(90), chat(90)
    sent = []
    monkeypatch.setattr(events, "_send", lambda items: sent.append([group for group, _ in items]))

    assert services.close_idle_sessions(minutes=30) == 2

    customer_sends = [groups for groups in sent if any(g.startswith("session.") for g in groups)]
    assert len(customer_sends) == 2  # one send per chat, not one for the whole sweep
    chats_per_send = [
        {g for g in groups if g in (session_group(first.pk), session_group(second.pk))}
        for groups in customer_sends
    ]
    assert sorted(map(len, chats_per_send)) == [1, 1]
    assert set.union(*chats_per_send) == {session_group(first.pk), session_group(second.pk)}
