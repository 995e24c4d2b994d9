"""Live events: announced only after commit, from services, in JSON-safe shapes."""

import asyncio
import json
import uuid

import pytest
from asgiref.sync import async_to_sync
from django.db import transaction

from chat import services
from chat.api.serializers import PublicSessionSerializer
from chat.exceptions import SessionEnded
from chat.live import events
from chat.models import ChatMessage
from conftest import bring_online

pytestmark = pytest.mark.django_db

PUBLIC_SESSION_FIELDS = set(PublicSessionSerializer.Meta.fields) - {"session_id"}


@pytest.fixture
def published(monkeypatch):
    """Every (group, event) handed to the channel layer."""
    sent = []
    monkeypatch.setattr(events, "_publish", lambda group, payload, *_: sent.append((group, payload)))
    return sent


def test_a_committed_write_is_announced(published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        chat = services.session_open(customer_name="Carla")
        services.customer_message_post(session_key=chat.session_id, content="Olá")
    groups = [group for group, _ in published]
    assert events.session_group(chat.pk) in groups
    assert events.AGENTS_GROUP in groups
    assert events.QUEUE_GROUP in groups


def test_a_rolled_back_write_announces_nothing(published, django_capture_on_commit_callbacks):
    chat = services.session_open()
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            services.customer_message_post(session_key=chat.session_id, content="nunca guardada")
            raise RuntimeError("the surrounding work failed")
    assert published == []
    assert not ChatMessage.objects.exists()


def test_a_refused_write_announces_nothing(published, django_capture_on_commit_callbacks, agent):
    chat = services.session_open()
    services.session_end(session=chat, ended_by="customer")
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(SessionEnded):
        services.agent_message_post(session_pk=chat.pk, agent=agent, content="tarde demais")
    assert published == []


def test_a_retried_message_is_announced_again(published, django_capture_on_commit_callbacks):
    """The first attempt stored the message, but its worker died before publishing: the
    customer's retry (same client_id) announces it, so the agent still gets it live."""
    chat = services.session_open(customer_name="Carla")
    client_id = uuid.uuid4()
    send = {"session_key": chat.session_id, "content": "Olá", "client_id": client_id}
    with django_capture_on_commit_callbacks(execute=False):  # killed before the publish
        first = services.customer_message_post(**send).message
    assert published == []
    with django_capture_on_commit_callbacks(execute=True):
        retried = services.customer_message_post(**send)
    assert retried.created is False and retried.message.pk == first.pk
    announced = [(group, event["message"]["id"]) for group, event in published if event["type"] == "message"]
    assert (events.session_group(chat.pk), first.pk) in announced
    assert (events.AGENTS_GROUP, first.pk) in announced  # a waiting chat: every agent
    assert ChatMessage.objects.filter(client_id=client_id).count() == 1


def test_a_whole_chat_as_its_customer_and_agents_see_it_live(
    published, django_capture_on_commit_callbacks, agent, other_agent
):
    bring_online(other_agent)
    with django_capture_on_commit_callbacks(execute=True):
        chat = services.session_open(customer_name="Carla", customer_email="carla@example.com")
        services.customer_message_post(session_key=chat.session_id, content="Meu pacote atrasou")
        services.session_claim(session=chat, agent=agent)
        services.agent_message_post(session_pk=chat.pk, agent=agent, content="nota", is_internal=True)
        services.agent_message_post(session_pk=chat.pk, agent=agent, content="Vou ver")
        services.session_transfer(session=chat, agent=agent, to_agent=other_agent)
        services.session_end(session=chat, ended_by="customer", rating=5, comment="Ótimo")

    def seen(event):
        if event["type"] == "message":
            return ("message", event["message"]["author"], event["message"]["content"])
        return ("session", event["session"]["status"], event["session"]["agent_name"])

    customer = [event for group, event in published if group == events.session_group(chat.pk)]
    assert [seen(event) for event in customer] == [
        ("message", "customer", "Meu pacote atrasou"),
        ("message", "system", "Ana entrou na conversa."),
        ("session", "active", "Ana"),
        ("message", "agent", "Vou ver"),
        ("message", "system", "A conversa foi transferida para Bruno."),
        ("session", "active", "Bruno"),
        ("message", "system", "O cliente encerrou a conversa."),
        ("session", "ended", "Bruno"),
    ]  # never the internal note
    assert customer[3]["message"]["agent_name"] == "Ana"
    assert customer[-1]["session"]["satisfaction_rating"] == 5
    for event in customer:
        assert "carla@example.com" not in json.dumps(event) and str(chat.session_id) not in json.dumps(event)
        if event["type"] == "session":
            assert set(event["session"]) <= PUBLIC_SESSION_FIELDS

    def agent_messages(group):
        return [e["message"]["content"] for g, e in published if g == group and e["type"] == "message"]

    # Ana's sockets have the note and her reply; Bruno's, what happened once the chat was his.
    assert "nota" in agent_messages(f"agent.{agent.pk}") and "Vou ver" in agent_messages(f"agent.{agent.pk}")
    assert agent_messages(f"agent.{other_agent.pk}") == [
        "A conversa foi transferida para Bruno.",
        "O cliente encerrou a conversa.",
    ]
    # Every inbox saw the chat arrive, wait, get taken, change hands and end.
    inbox = [
        e["session"]["status"] for g, e in published if g == events.AGENTS_GROUP and e["type"] == "session"
    ]
    assert inbox[0] == "waiting" and inbox[-1] == "ended" and "active" in inbox
    queue = [e for g, e in published if g == events.QUEUE_GROUP]
    assert queue and set(queue[-1]) == {
        "type",
        "waiting",
        "service",
        "agents_available",
        "agents_staffed",
        "outside_hours",
        "opens_at",
        "wait_per_chat_seconds",
    }


def test_agents_events_go_to_every_agent_only_for_the_queue_and_status_changes(
    monkeypatch, django_capture_on_commit_callbacks, agent
):
    sent = []
    monkeypatch.setattr(
        events,
        "_publish",
        lambda group, payload, message_type=events.EVENT: sent.append((group, message_type, payload)),
    )
    chat = services.session_open(customer_name="Carla")

    def agents_events(service, **kwargs):
        sent.clear()
        with django_capture_on_commit_callbacks(execute=True):
            service(**kwargs)
        return [
            (group, message_type, event["type"], event.get("activity", False))
            for group, message_type, event in sent
            if not group.startswith("queue") and group != events.session_group(chat.pk)
        ]

    everyone = events.AGENTS_GROUP, events.EVENT
    own = f"agent.{agent.pk}", events.EVENT
    watchers = f"session.{chat.pk}.agents", events.WATCHED_EVENT
    # Waiting: a customer message and its inbox refresh are the queue's business.
    assert agents_events(services.customer_message_post, session_key=chat.session_id, content="Oi") == [
        (*everyone, "message", False),
        (*everyone, "session", True),
    ]
    # The claim is a status change; its "joined" line belongs to the chat.
    assert agents_events(services.session_claim, session=chat, agent=agent) == [
        (*own, "message", False),
        (*watchers, "message", False),
        (*everyone, "session", False),
        (*everyone, "counts", False),  # the tabs' counts moved
    ]
    # The first answer moves the chat's inbox row (answered, no longer waiting): activity.
    reply = {"session_pk": chat.pk, "agent": agent, "content": "Olá!"}
    assert agents_events(services.agent_message_post, **reply) == [
        (*own, "message", False),
        (*watchers, "message", False),
        (*own, "session", True),
        (*watchers, "session", True),
    ]
    # The agent reads the chat on the conversation page: their other pages hear the unread count.
    with django_capture_on_commit_callbacks(execute=True):
        services.customer_message_post(session_key=chat.session_id, content="Obrigada")
    chat.refresh_from_db()
    last = chat.messages.order_by("-id").first()
    assert agents_events(services.session_mark_read, session=chat, agent=agent, up_to_message_id=last.pk) == [
        (*own, "read", False)
    ]
    assert sent[0][2] == {"type": "read", "session_id": chat.pk, "unread": 0}
    assert (
        agents_events(services.session_mark_read, session=chat, agent=agent, up_to_message_id=last.pk) == []
    )
    agents_events(services.agent_message_post, **reply)
    agent_bound = [event for group, _type, event in sent if group in (own[0], watchers[0])]
    assert {(e["session_id"], e["assigned_agent"], e["status"]) for e in agent_bound} == {
        (chat.pk, agent.pk, "active")
    }


def test_a_payload_that_is_not_json_fails_where_it_is_made():
    with pytest.raises(TypeError):
        events.send_event_on_commit(events.AGENTS_GROUP, {"type": "session", "when": object()})


def test_a_channel_layer_failure_does_not_fail_the_write(
    monkeypatch, django_capture_on_commit_callbacks, caplog
):
    class BrokenLayer:
        async def group_send(self, group, message):
            raise ConnectionError("layer down")

    monkeypatch.setattr(events, "get_channel_layer", lambda: BrokenLayer())
    chat = services.session_open()
    with django_capture_on_commit_callbacks(execute=True):
        result = services.customer_message_post(session_key=chat.session_id, content="guardada mesmo assim")
    assert ChatMessage.objects.filter(pk=result.message.pk).exists()
    assert "not delivered" in caplog.text


def test_ephemeral_events_are_sent_at_once(monkeypatch):
    sent = []

    class RecordingLayer:
        async def group_send(self, group, message):
            sent.append((group, message))

    monkeypatch.setattr(events, "get_channel_layer", lambda: RecordingLayer())
    typing = {"type": "typing", "session_id": 7, "author": "customer", "typing": True}
    async_to_sync(events.send_ephemeral_event)(events.AGENTS_GROUP, typing)
    assert sent == [(events.AGENTS_GROUP, {"type": "chat.event", "event": typing})]


# --- one round trip per service call (publishing_batch) --------------------------------


class BatchingLayer:
    """Records each call of the production layer's batch send."""

    def __init__(self, fail: bool = False):
        self.sends = []
        self.fail = fail

    def group_send_many_blocking(self, items):
        self.sends.append([(group, message["event"].get("n")) for group, message in items])
        if self.fail:
            raise ConnectionError("Redis down")


@pytest.fixture
def batching_layer(monkeypatch):
    layer = BatchingLayer()
    monkeypatch.setattr(events, "get_channel_layer", lambda: layer)
    return layer


def announce(*groups_and_numbers):
    for group, n in groups_and_numbers:
        events.send_event_on_commit(group, {"type": "test", "n": n})


def test_a_batch_sends_its_committed_events_together_in_order(
    batching_layer, django_capture_on_commit_callbacks
):
    with events.publishing_batch():
        with django_capture_on_commit_callbacks(execute=True):
            announce(("session.1", 1), ("agent.2", 2))
        with django_capture_on_commit_callbacks(execute=True):
            announce(("session.1", 3))
        assert batching_layer.sends == []  # kept until the service call ends
    assert batching_layer.sends == [[("session.1", 1), ("agent.2", 2), ("session.1", 3)]]


def test_outside_a_batch_each_event_is_sent_at_its_commit(batching_layer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        announce(("session.1", 1), ("agent.2", 2))
    assert batching_layer.sends == [[("session.1", 1)], [("agent.2", 2)]]


def test_a_nested_batch_joins_the_outer_one(batching_layer, django_capture_on_commit_callbacks):
    @events.publishing_batch()
    def inner_service(n):
        with django_capture_on_commit_callbacks(execute=True):
            announce(("session.1", n))

    with events.publishing_batch():
        inner_service(1)
        with events.publishing_batch():
            inner_service(2)
        assert batching_layer.sends == []
    assert batching_layer.sends == [[("session.1", 1), ("session.1", 2)]]
    inner_service(3)  # the batch ended: a call on its own is its own batch
    assert batching_layer.sends[-1] == [("session.1", 3)]


def test_a_failing_block_still_sends_what_it_committed_and_raises(
    batching_layer, django_capture_on_commit_callbacks
):
    with pytest.raises(RuntimeError), events.publishing_batch():
        with django_capture_on_commit_callbacks(execute=True):
            announce(("session.1", 1))
        raise RuntimeError("failed after the commit")
    assert batching_layer.sends == [[("session.1", 1)]]
    with django_capture_on_commit_callbacks(execute=True):
        announce(("session.1", 2))
    assert batching_layer.sends[-1] == [("session.1", 2)]  # no batch left open by the failure


def test_a_retried_message_in_a_batch_is_announced_once_the_call_ends(
    batching_layer, django_capture_on_commit_callbacks
):
    """The retry path announces after its IntegrityError: those events go out too."""
    chat = services.session_open(customer_name="Carla")
    send = {"session_key": chat.session_id, "content": "Olá", "client_id": uuid.uuid4()}
    services.customer_message_post(**send)  # its worker died before the publish: nothing announced
    with events.publishing_batch(), django_capture_on_commit_callbacks(execute=True):
        retried = services.customer_message_post(**send)
    assert retried.created is False
    assert len(batching_layer.sends) == 1
    groups = [group for group, _ in batching_layer.sends[0]]
    assert events.session_group(chat.pk) in groups and events.AGENTS_GROUP in groups


def test_events_committed_after_the_batch_ended_are_sent_one_by_one(
    batching_layer, django_capture_on_commit_callbacks
):
    """An outer transaction still open when the batch ends commits later: its events are
    not lost in a batch that is gone, they go out at that commit as without a batch."""
    with django_capture_on_commit_callbacks(execute=True):
        with events.publishing_batch():
            announce(("session.1", 1), ("agent.2", 2))
        assert batching_layer.sends == []  # not committed yet: nothing to send
    assert batching_layer.sends == [[("session.1", 1)], [("agent.2", 2)]]


def test_a_failed_batch_send_is_logged_and_not_raised(
    monkeypatch, django_capture_on_commit_callbacks, caplog
):
    monkeypatch.setattr(events, "get_channel_layer", lambda: BatchingLayer(fail=True))
    chat = services.session_open()
    with events.publishing_batch():
        with django_capture_on_commit_callbacks(execute=True):
            result = services.customer_message_post(session_key=chat.session_id, content="guardada")
    assert ChatMessage.objects.filter(pk=result.message.pk).exists()
    assert f"live event to {events.session_group(chat.pk)}, agents not delivered" in caplog.text


def test_the_in_memory_layer_gets_every_event_of_a_batch(django_capture_on_commit_callbacks):
    layer = events.get_channel_layer()
    groups = ["session.1", "agent.2"]
    channels = {group: async_to_sync(layer.new_channel)() for group in groups}
    for group, channel in channels.items():
        async_to_sync(layer.group_add)(group, channel)
    with events.publishing_batch():
        with django_capture_on_commit_callbacks(execute=True):
            announce(("session.1", 1), ("agent.2", 2), ("session.1", 3))
    with django_capture_on_commit_callbacks(execute=True):
        announce(("session.1", "end"), ("agent.2", "end"))  # after the batch: nothing more before it

    async def receive(channel):
        return (await asyncio.wait_for(layer.receive(channel), 2))["event"]["n"]

    received = {
        group: [async_to_sync(receive)(channel) for _ in range(count)]
        for (group, channel), count in zip(channels.items(), (3, 2), strict=True)
    }
    assert received == {"session.1": [1, 3, "end"], "agent.2": [2, "end"]}
