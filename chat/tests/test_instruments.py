"""The chat's metrics: counters after commit, the queue read at scrape time, the jobs' last
runs, and live delivery (sockets, lag, 1012, events published and failed)."""

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from chat import services
from chat.instruments import ChatStateCollector
from chat.live.instruments import LayerCollector
from chat.models import ChatSession, JobRun
from conftest import bring_online, make_staff
from jtchat.asgi import application
from jtchat.prometheus import exposition

pytestmark = pytest.mark.django_db
WAIT = 2


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def chat_state() -> dict:
    """The figures /metrics reads from the database, as {(name, labels): value}."""
    text = exposition(include_shared=True).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


# --- counters: after commit, never for a rolled-back write -------------------------------


def test_chats_and_messages_are_counted_when_their_transaction_commits(
    agent, django_capture_on_commit_callbacks
):
    opened, customer = sample("jtchat_chats_opened_total"), sample("jtchat_messages_total", author="customer")
    agent_messages = sample("jtchat_messages_total", author="agent")
    system = sample("jtchat_messages_total", author="system")
    ended = sample("jtchat_chats_ended_total", ended_by="customer")
    with django_capture_on_commit_callbacks(execute=True):
        session = services.session_open()
    with django_capture_on_commit_callbacks(execute=True):
        services.customer_message_post(session_key=session.session_id, content="Olá")
    with django_capture_on_commit_callbacks(execute=True):
        services.agent_message_post(session_pk=session.pk, agent=agent, content="Bom dia")  # + "joined"
    with django_capture_on_commit_callbacks(execute=True):
        services.session_end(session=session, ended_by="customer")
        services.session_end(session=session, ended_by="customer")  # already ended: not counted
    assert sample("jtchat_chats_opened_total") == opened + 1
    assert sample("jtchat_messages_total", author="customer") == customer + 1
    assert sample("jtchat_messages_total", author="agent") == agent_messages + 1
    assert sample("jtchat_messages_total", author="system") == system + 2  # joined, ended
    assert sample("jtchat_chats_ended_total", ended_by="customer") == ended + 1


def test_a_rolled_back_chat_is_not_counted(django_capture_on_commit_callbacks):
    opened = sample("jtchat_chats_opened_total")
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                services.session_open()
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
    assert sample("jtchat_chats_opened_total") == opened


# --- the queue, read when Prometheus scrapes ---------------------------------------------


def test_queue_figures_match_the_open_chats(agent, settings):
    settings.CHAT_SLA_FIRST_RESPONSE_SECONDS = 120
    now = timezone.now()
    ChatSession.objects.create(status="waiting", started_at=now - timedelta(seconds=600))  # over the SLA
    ChatSession.objects.create(status="waiting", started_at=now - timedelta(seconds=30))
    ChatSession.objects.create(
        status="active",
        assigned_agent=agent,
        started_at=now - timedelta(hours=1),
        waiting_since=now - timedelta(seconds=200),
    )
    ChatSession.objects.create(status="active", assigned_agent=agent, waiting_since=None)  # answered
    ChatSession.objects.create(status="ended", started_at=now - timedelta(days=1))
    state = chat_state()
    assert state[("jtchat_chat_state_up", ())] == 1
    assert state[("jtchat_chats_waiting", ())] == 2
    assert state[("jtchat_chats_active", ())] == 2
    assert state[("jtchat_chats_over_sla", ())] == 2
    assert 600 <= state[("jtchat_chats_longest_wait_seconds", ())] < 630
    assert state[("jtchat_sla_first_response_seconds", ())] == 120


def test_an_empty_queue_reports_zero_waits():
    state = chat_state()
    assert state[("jtchat_chats_waiting", ())] == 0
    assert state[("jtchat_chats_longest_wait_seconds", ())] == 0


def test_the_scrape_costs_the_same_queries_whatever_the_number_of_chats(agent):
    bring_online(agent)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            list(ChatStateCollector().collect())
        return len(captured)

    for _ in range(3):
        ChatSession.objects.create()
    few = queries()
    ChatSession.objects.bulk_create([ChatSession(status="active", assigned_agent=agent) for _ in range(50)])
    ChatSession.objects.bulk_create([ChatSession(status="ended") for _ in range(50)])
    assert queries() == few <= 4  # open chats, jobs, holidays, online agents


def test_a_database_failure_reports_the_figures_as_unreadable(monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr("chat.selectors.open_chats_summary", broken)
    state = chat_state()
    assert state[("jtchat_chat_state_up", ())] == 0
    assert ("jtchat_chats_waiting", ()) not in state


# --- agents and opening hours -------------------------------------------------------------


def test_agents_online_and_available_come_from_presence(agent, other_agent, django_user_model):
    paused = make_staff(django_user_model, "paula", "Agentes", accepting_chats=False)
    reader = make_staff(django_user_model, "leitor")
    make_staff(django_user_model, "ausente", "Agentes")  # never opened the admin
    bring_online(agent, other_agent, paused, reader)
    state = chat_state()
    assert state[("jtchat_agents_online", ())] == 4
    assert state[("jtchat_agents_available", ())] == 2  # Ana and Bruno: accepting, allowed to reply


def test_nobody_online_is_zero_agents(agent):
    state = chat_state()
    assert state[("jtchat_agents_online", ())] == 0
    assert state[("jtchat_agents_available", ())] == 0


def test_unreadable_presence_leaves_the_agents_out_and_the_rest_in(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    state = chat_state()
    assert ("jtchat_agents_online", ()) not in state
    assert state[("jtchat_chats_waiting", ())] == 0


def test_business_hours_say_whether_the_service_is_open(settings):
    settings.CHAT_BUSINESS_HOURS = ""  # always open
    assert chat_state()[("jtchat_business_hours_open", ())] == 1
    settings.CHAT_BUSINESS_HOURS = "sun 00:00-00:01"  # closed nearly all week
    now = timezone.localtime()
    expected = 1 if now.weekday() == 6 and now.hour == 0 and now.minute == 0 else 0
    assert chat_state()[("jtchat_business_hours_open", ())] == expected


# --- jobs ------------------------------------------------------------------------------


def test_each_scheduled_command_leaves_its_last_success_and_duration():
    before = timezone.now().timestamp()
    call_command("close_idle_sessions", "--minutes", "30")
    call_command("anonymize_sessions")
    call_command("compute_daily_metrics")
    call_command("send_reply_emails")
    state = chat_state()
    for command in (
        "close_idle_sessions",
        "anonymize_sessions",
        "compute_daily_metrics",
        "send_reply_emails",
    ):
        labels = (("command", command),)
        assert state[("jtchat_job_last_success_timestamp_seconds", labels)] >= before
        assert 0 <= state[("jtchat_job_last_duration_seconds", labels)] < 60
        assert ("jtchat_job_last_failure_timestamp_seconds", labels) not in state


def test_a_failed_run_is_a_failure_not_a_success():
    call_command("close_idle_sessions", "--minutes", "30")
    succeeded = JobRun.objects.get(command="close_idle_sessions").last_success_at
    with pytest.raises(CommandError):
        call_command("close_idle_sessions", "--minutes", "0")
    run = JobRun.objects.get(command="close_idle_sessions")
    assert run.last_success_at == succeeded
    assert run.last_failure_at is not None and run.last_failure_at >= succeeded
    state = chat_state()
    assert ("jtchat_job_last_failure_timestamp_seconds", (("command", "close_idle_sessions"),)) in state


def test_a_job_that_never_ran_has_no_success_series():
    state = chat_state()
    assert not any(name == "jtchat_job_last_success_timestamp_seconds" for name, _labels in state)


# --- live delivery ---------------------------------------------------------------------


@pytest.mark.usefixtures("sockets_share_the_test_transaction")
def test_sockets_open_and_delivery_lag_are_measured_where_frames_go_out(django_capture_on_commit_callbacks):
    session = services.session_open()

    def post(content):
        with django_capture_on_commit_callbacks(execute=True):
            services.customer_message_post(session_key=session.session_id, content=content)

    async def scenario():
        open_before = sample("jtchat_live_sockets_open", kind="customer")
        lag_before = sample("jtchat_live_delivery_lag_seconds_count")
        socket = WebsocketCommunicator(application, "/ws/chat/")
        assert (await socket.connect())[0]
        await socket.send_json_to({"type": "hello", "session_id": str(session.session_id), "after": 0})
        assert (await socket.receive_json_from(WAIT))["type"] == "ready"
        assert sample("jtchat_live_sockets_open", kind="customer") == open_before + 1
        await database_sync_to_async(post)("Olá")
        frame = await socket.receive_json_from(WAIT)
        assert frame["message"]["content"] == "Olá"
        assert sample("jtchat_live_delivery_lag_seconds_count") == lag_before + 1
        assert sample("jtchat_live_delivery_lag_seconds_bucket", le="1.0") == lag_before + 1  # well under 1 s
        await socket.disconnect()
        assert sample("jtchat_live_sockets_open", kind="customer") == open_before

    async_to_sync(scenario)()


@pytest.mark.usefixtures("sockets_share_the_test_transaction")
def test_a_socket_asked_to_reconnect_is_counted(django_capture_on_commit_callbacks):
    session = services.session_open()

    async def scenario():
        before = sample("jtchat_live_reconnect_requests_total")
        socket = WebsocketCommunicator(application, "/ws/chat/")
        await socket.connect()
        await socket.send_json_to({"type": "hello", "session_id": str(session.session_id), "after": 0})
        await socket.receive_json_from(WAIT)
        get_channel_layer().subscriber_reconnections = 1  # the layer's subscriber came back
        await get_channel_layer().group_send(
            f"session.{session.pk}", {"type": "chat.event", "event": {"type": "session", "session": {}}}
        )
        closed = await socket.receive_output(WAIT)
        assert closed["type"] == "websocket.close" and closed["code"] == 1012
        assert sample("jtchat_live_reconnect_requests_total") == before + 1
        await socket.wait()

    async_to_sync(scenario)()


def test_events_published_and_failed_are_counted(django_capture_on_commit_callbacks, monkeypatch):
    published, failed = (
        sample("jtchat_live_events_published_total"),
        sample("jtchat_live_events_failed_total"),
    )
    layer = get_channel_layer()
    delivered = []
    send = layer.group_send

    async def counted(group, message):
        delivered.append(group)
        await send(group, message)

    monkeypatch.setattr(layer, "group_send", counted)
    with django_capture_on_commit_callbacks(execute=True):
        session = services.session_open()  # the new chat and the counts to agents, the queue
    assert {"agents", "queue"} <= set(delivered)
    assert sample("jtchat_live_events_published_total") == published + len(delivered)
    published = sample("jtchat_live_events_published_total")

    async def refuse(group, message):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(layer, "group_send", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        services.customer_message_post(session_key=session.session_id, content="Olá")
    assert sample("jtchat_live_events_failed_total") >= failed + 2  # to the customer and to agents
    assert sample("jtchat_live_events_published_total") == published


def test_redis_subscriber_reconnections_are_reported_from_the_layer():
    layer = get_channel_layer()
    layer.subscriber_reconnections = 3
    (family,) = LayerCollector().collect()
    assert family.samples[0].name == "jtchat_live_redis_reconnections_total"
    assert family.samples[0].value == 3
