"""The sockets on the real Redis channel layer (REDIS_TEST_URL), as in production."""

import asyncio

import pytest
import redis
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from chat import consumers, events, services
from chat.tests.test_consumers import (
    WAIT,
    agent_socket,
    close_code,
    customer_socket,
    next_of_type,
    run,
    session_cookie,
)

pytestmark = [pytest.mark.django_db, pytest.mark.redis]


@pytest.fixture(autouse=True)
def _consumers_share_the_test_transaction(monkeypatch):
    monkeypatch.setattr("channels.db.close_old_connections", lambda: None)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    def call(service, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return service(**kwargs)

    return database_sync_to_async(call)


@pytest.fixture
def chat(redis_layer):
    return services.session_open(customer_name="Carla")


def test_events_published_by_services_reach_both_sockets_through_redis(chat, agent, client, committed):
    async def scenario():
        customer, _ = await customer_socket(chat)
        staff = await agent_socket(cookie=await database_sync_to_async(session_cookie)(client, agent))
        assert await staff.receive_json_from(WAIT) == {"type": "ready"}
        await committed(services.message_post, session=chat, author="customer", content="Via Redis")
        assert (await customer.receive_json_from(WAIT))["message"]["content"] == "Via Redis"
        seen = await next_of_type(staff, "message")
        assert seen["session_id"] == chat.pk
        await committed(services.message_post, session=chat, author="agent", agent=agent, content="Resposta")
        frames = [await customer.receive_json_from(WAIT) for _ in range(3)]
        assert [f["type"] for f in frames] == ["message", "session", "message"]  # joined, claimed, reply
        assert frames[-1]["message"]["content"] == "Resposta"
        await customer.disconnect()
        await staff.disconnect()

    run(scenario)


def test_typing_crosses_redis_both_ways(chat, agent, client):
    async def scenario():
        customer, _ = await customer_socket(chat)
        staff = await agent_socket(cookie=await database_sync_to_async(session_cookie)(client, agent))
        assert await staff.receive_json_from(WAIT) == {"type": "ready"}
        await staff.send_json_to({"type": "watch", "session_id": chat.pk})  # the open transcript
        assert await staff.receive_json_from(WAIT) == {"type": "watching", "session_id": chat.pk}
        await customer.send_json_to({"type": "typing", "typing": True})
        assert (await staff.receive_json_from(WAIT))["author"] == "customer"
        await staff.send_json_to({"type": "typing", "session_id": chat.pk, "typing": True})
        assert (await customer.receive_json_from(WAIT))["name"] == "Ana"
        await customer.disconnect()
        await staff.disconnect()

    run(scenario)


def test_a_socket_that_lost_its_group_joins_again_and_receives(chat, committed, monkeypatch):
    monkeypatch.setattr(consumers.LiveConsumer, "rejoin_seconds", 0.1)

    async def scenario():
        customer, _ = await customer_socket(chat)
        layer = get_channel_layer()
        group = events.session_group(chat.pk)
        members = {channel for channels in layer.groups.values() for channel in channels}
        for channel in members:
            await layer.group_discard(group, channel)  # as if the membership was lost
        await asyncio.sleep(0.4)  # a few re-join rounds
        await committed(services.message_post, session=chat, author="customer", content="ainda ao vivo")
        assert (await customer.receive_json_from(WAIT))["message"]["content"] == "ainda ao vivo"
        await customer.disconnect()

    run(scenario)


def test_sockets_are_asked_to_reconnect_when_redis_lost_its_data(chat, redis_layer, monkeypatch):
    """A Redis restart without persistence: clients reconnect (1012) and catch up."""
    monkeypatch.setattr(consumers, "REJOIN_SECONDS", 0)

    async def scenario():
        customer, _ = await customer_socket(chat)
        await customer.send_json_to({"type": "ping"})
        assert await customer.receive_json_from(WAIT) == {"type": "pong"}
        redis.Redis.from_url(redis_layer).flushdb()
        await customer.send_json_to({"type": "ping"})
        assert await close_code(customer) == 1012
        await customer.disconnect()

    run(scenario)


def test_sockets_are_asked_to_reconnect_when_the_layers_subscriber_connection_came_back(chat, committed):
    """What was published while the subscriber was away is lost: a later event must not reach
    the client (its cursor would move past the gap); the socket closes 1012 instead."""

    async def scenario():
        customer, _ = await customer_socket(chat)
        layer = get_channel_layer()
        subscriber = layer._get_layer()._shards[0]._pubsub
        await subscriber.connection.disconnect()  # redis-py connects and subscribes again
        for _ in range(100):
            if layer.subscriber_reconnections:
                break
            await asyncio.sleep(0.05)
        assert layer.subscriber_reconnections == 1
        await committed(services.message_post, session=chat, author="customer", content="depois da falha")
        assert await close_code(customer) == 1012
        await customer.disconnect()

        # The client reconnects, catches up from its cursor, and is live again.
        customer, _ = await customer_socket(chat)
        assert (await customer.receive_json_from(WAIT))["message"]["content"] == "depois da falha"
        await committed(services.message_post, session=chat, author="customer", content="de novo ao vivo")
        assert (await customer.receive_json_from(WAIT))["message"]["content"] == "de novo ao vivo"
        await customer.disconnect()

    run(scenario)


def test_the_layer_decodes_one_received_message_once_for_all_local_sockets(redis_layer):
    layer = get_channel_layer()
    received = layer.serialize({"type": "chat.event", "event": {"type": "session"}})
    assert layer.deserialize(received) is layer.deserialize(received)
    assert layer.deserialize(bytes(received)) == layer.deserialize(received)
