"""Presence (chat/live/presence.py): who is online, since when, and who is available.

The stores are driven with explicit times (TTL, grace, since); the sockets through the real
ASGI application; the Redis store against the real Redis server.
"""

import time

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from chat import selectors, services
from chat.live import presence
from chat.models import ChatSession
from conftest import bring_online, make_staff
from jtchat.asgi import application

pytestmark = pytest.mark.django_db

WAIT = 3


@pytest.fixture
def redis_presence(settings, redis_layer):
    """Presence in the real Redis server (an empty test database)."""
    settings.REDIS_URL = redis_layer
    return presence.store()


@pytest.fixture(params=["memory", "redis"])
def store(request, settings):
    if request.param == "redis":
        return request.getfixturevalue("redis_presence")
    return presence.store()


class TestStores:
    def test_an_agent_is_online_while_a_socket_lives_and_until_its_ttl(self, store, settings):
        now = time.time()
        store.refresh({"socket-a": 7}, {}, now)

        assert store.online_agent_ids(now + 1) == {7}
        assert store.online_agent_ids(now + settings.CHAT_PRESENCE_TTL_SECONDS - 1) == {7}
        # No heartbeat (a crashed process): gone after the TTL.
        assert store.online_agent_ids(now + settings.CHAT_PRESENCE_TTL_SECONDS + 1) == set()

    def test_heartbeats_keep_an_agent_online(self, store, settings):
        ttl = settings.CHAT_PRESENCE_TTL_SECONDS
        now = time.time()
        for beat in range(4):
            store.refresh({"socket-a": 7}, {}, now + beat * ttl / 3)
        assert store.online_agent_ids(now + 3 * ttl / 3 + ttl - 1) == {7}

    def test_a_closed_socket_counts_only_for_the_grace(self, store):
        now = time.time()
        store.refresh({"socket-a": 7, "socket-b": 8}, {}, now)
        _gone(store, "socket-a", 7, now)

        assert store.online_agent_ids(now + presence.grace_seconds() - 1) == {7, 8}
        assert store.online_agent_ids(now + presence.grace_seconds() + 0.5) == {8}

    def test_another_open_socket_keeps_the_agent_online(self, store):
        now = time.time()
        store.refresh({"inbox": 7, "conversation": 7}, {}, now)
        _gone(store, "inbox", 7, now)
        assert store.online_agent_ids(now + presence.grace_seconds() + 1) == {7}

    def test_online_since_survives_moving_between_pages(self, store, settings):
        first = time.time()
        beat = settings.CHAT_PRESENCE_TTL_SECONDS / 3
        for n in range(5):
            store.refresh({"inbox": 7}, {}, first + n * beat)
        _gone(store, "inbox", 7, first + 4 * beat)
        store.refresh({"conversation": 7}, {}, first + 4 * beat + 1)  # the next page's socket

        assert store.online_since({7}, first + 4 * beat + 2) == {7: pytest.approx(first, abs=0.01)}

    def test_coming_back_after_being_away_starts_a_new_since(self, store, settings):
        first = time.time()
        store.refresh({"inbox": 7}, {}, first)
        later = first + settings.CHAT_PRESENCE_TTL_SECONDS + 30
        if isinstance(store, presence.RedisStore):
            store.client.delete(presence._since_key(7))  # what Redis's own expiry does
        store.refresh({"inbox-again": 7}, {}, later)

        assert store.online_since({7}, later + 1) == {7: pytest.approx(later, abs=0.01)}

    def test_a_customer_is_connected_while_a_socket_or_a_poll_lives(self, store, settings):
        now = time.time()
        store.refresh({}, {"socket-c": 40}, now)
        assert store.customer_connected(40, now + 1)
        assert not store.customer_connected(41, now + 1)
        _customer_gone(store, "socket-c", 40)
        assert not store.customer_connected(40, now + 1)  # no grace for customers

        store.refresh({}, {presence.POLL: 40}, now)
        assert store.customer_connected(40, now + settings.CHAT_PRESENCE_TTL_SECONDS - 1)
        assert not store.customer_connected(40, now + settings.CHAT_PRESENCE_TTL_SECONDS + 1)


def _gone(store, socket, user_id, now):
    if isinstance(store, presence.RedisStore):
        async_to_sync(store.aagent_gone)(socket, user_id, now)
    else:
        store.agent_gone(socket, user_id, now)


def _customer_gone(store, socket, session_pk):
    if isinstance(store, presence.RedisStore):
        async_to_sync(store.acustomer_gone)(socket, session_pk)
    else:
        store.customer_gone(socket, session_pk)


class TestAvailable:
    def test_available_means_online_allowed_to_reply_accepting_and_under_the_maximum(
        self, settings, agent, other_agent, manager, django_user_model
    ):
        settings.CHAT_AGENT_MAX_ACTIVE_CHATS = 1
        reader = make_staff(django_user_model, "leitor")
        paused = make_staff(django_user_model, "paula", "Agentes", accepting_chats=False)
        make_staff(django_user_model, "seed", "Agentes")  # made by seed_chats, never signed in
        bring_online(agent, other_agent, manager, reader, paused)
        services.session_claim(session=services.session_open(), agent=other_agent)  # Bruno is full

        counts = selectors.agent_counts()

        assert {user.username for user in selectors.available_agents()} == {"ana", "gabi"}
        assert counts == selectors.AgentCounts(available=2, staffed=3, online=4)
        assert presence.available_agents_count() == 2

    def test_the_count_costs_one_query_and_none_when_nobody_is_online(self, agent, other_agent):
        with CaptureQueriesContext(connection) as nobody:
            assert selectors.agent_counts().available == 0
        assert len(nobody) == 0
        bring_online(agent, other_agent)
        with CaptureQueriesContext(connection) as some:
            assert selectors.agent_counts().available == 2
        assert len(some) == 1

    def test_an_unreachable_presence_store_counts_nobody_online(self, settings, agent):
        bring_online(agent)
        settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there

        assert selectors.online_agent_ids() == set()
        assert selectors.service_status()["service"] == "offline"
        with pytest.raises(presence.PresenceUnavailable):
            presence.online_agent_ids()

    def test_online_agents_reports_since_times(self, agent):
        before = time.time()
        bring_online(agent)
        online = presence.online_agents()
        assert list(online) == [agent.pk]
        assert before - 1 <= online[agent.pk].timestamp() <= time.time()
        assert presence.is_agent_online(agent.pk)


# --- the sockets ---------------------------------------------------------------------


@pytest.fixture
def short_presence(settings):
    """A 3 s TTL: 1 s heartbeats and grace, so that leaving shows within a test's patience."""
    settings.CHAT_PRESENCE_TTL_SECONDS = 3


async def _agent_socket(cookie: bytes) -> WebsocketCommunicator:
    socket = WebsocketCommunicator(
        application, "/ws/agents/", headers=[(b"origin", b"http://testserver"), (b"cookie", cookie)]
    )
    assert (await socket.connect())[0]
    await socket.send_json_to({"type": "hello"})
    assert await socket.receive_json_from(WAIT) == {"type": "ready"}
    return socket


async def _customer_socket(session) -> tuple[WebsocketCommunicator, dict]:
    socket = WebsocketCommunicator(application, "/ws/chat/")
    assert (await socket.connect())[0]
    await socket.send_json_to({"type": "hello", "session_id": str(session.session_id)})
    ready = await socket.receive_json_from(WAIT)
    assert ready["type"] == "ready"
    return socket, ready


async def _queue_frame(socket, timeout: float = 6) -> dict:
    while True:
        frame = await socket.receive_json_from(timeout)
        if frame["type"] == "queue":
            return frame


def _cookie(client, user) -> bytes:
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_agent_socket_makes_the_agent_available_and_waiting_customers_are_told(
    short_presence, client, django_user_model
):
    agent = make_staff(django_user_model, "ana", "Agentes", display_name="Ana")
    chat = services.session_open(customer_name="Carla")
    cookie = _cookie(client, agent)

    async def scenario():
        customer, ready = await _customer_socket(chat)
        assert ready["queue"]["service"] == "offline"
        assert ready["queue"]["estimated_wait_seconds"] is None

        staff = await _agent_socket(cookie)
        assert await database_sync_to_async(presence.online_agent_ids)() == {agent.pk}
        opened = await _queue_frame(customer)
        assert opened["service"] == "available"
        assert opened["agents_available"] == 1
        assert opened["estimated_wait_seconds"] > 0

        await staff.disconnect()
        started = time.monotonic()
        closed = await _queue_frame(customer)
        assert closed["service"] == "offline" and closed["estimated_wait_seconds"] is None
        assert time.monotonic() - started < 4  # grace 1 s, looked at every second
        await customer.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_staff_who_may_only_read_are_online_but_never_available(short_presence, client, django_user_model):
    reader = make_staff(django_user_model, "leitor")
    reader.user_permissions.add(
        *type(reader)._meta.apps.get_model("auth", "Permission").objects.filter(codename="view_chatsession")
    )
    cookie = _cookie(client, reader)

    async def scenario():
        staff = await _agent_socket(cookie)
        assert await database_sync_to_async(presence.online_agent_ids)() == {reader.pk}
        assert await database_sync_to_async(selectors.available_agents_count)() == 0
        await staff.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_customer_socket_marks_when_the_customer_was_last_seen(short_presence):
    chat = services.session_open(customer_name="Carla")

    async def scenario():
        customer, _ready = await _customer_socket(chat)
        assert await database_sync_to_async(presence.customer_connected)(chat.pk)
        opened_at = (await ChatSession.objects.aget(pk=chat.pk)).customer_seen_at
        assert opened_at is not None
        await customer.disconnect()
        assert not await database_sync_to_async(presence.customer_connected)(chat.pk)
        assert (await ChatSession.objects.aget(pk=chat.pk)).customer_seen_at >= opened_at

    async_to_sync(scenario)()


def test_polling_keeps_a_customer_without_a_socket_present(client):
    chat = services.session_open()
    assert not presence.customer_connected(chat.pk)
    response = client.get(reverse("chat-messages"), HTTP_X_CHAT_SESSION=str(chat.session_id))
    assert response.status_code == 200
    assert presence.customer_connected(chat.pk)


def test_redis_presence_is_what_every_process_reads(redis_presence, agent):
    """Written by one "process" (the store), read through the public API: one key space."""
    redis_presence.refresh({"socket-a": agent.pk}, {}, time.time())
    assert presence.online_agent_ids() == {agent.pk}
    assert selectors.available_agents_count() == 1
    assert redis_presence.client.zcard(presence.AGENTS_KEY) == 1
