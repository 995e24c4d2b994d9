"""The sockets on the real Redis channel layer (REDIS_TEST_URL), as in production."""

import asyncio

import pytest
import redis
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import channel_layers, get_channel_layer
from django.core.exceptions import ImproperlyConfigured

from chat import services
from chat.live import base, events, layer_watch
from chat.models import ChatMessage
from chat.tests.sockets import (
    WAIT,
    agent_socket,
    close_code,
    customer_socket,
    next_of_type,
    run,
    session_cookie,
)
from jtchat.testing import free_port

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.redis,
    pytest.mark.usefixtures("sockets_share_the_test_transaction"),
]


@pytest.fixture
def chat(redis_layer):
    return services.session_open(customer_name="Carla")


def test_events_published_by_services_reach_both_sockets_through_redis(chat, agent, client, committed):
    async def scenario():
        customer, _ = await customer_socket(chat)
        staff = await agent_socket(cookie=await database_sync_to_async(session_cookie)(client, agent))
        assert await staff.receive_json_from(WAIT) == {"type": "ready"}
        await committed(services.customer_message_post, session_key=chat.session_id, content="Via Redis")
        assert (await customer.receive_json_from(WAIT))["message"]["content"] == "Via Redis"
        seen = await next_of_type(staff, "message")
        assert seen["session_id"] == chat.pk
        await committed(services.agent_message_post, session_pk=chat.pk, agent=agent, content="Resposta")
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
    monkeypatch.setattr(base.LiveConsumer, "rejoin_seconds", 0.1)

    async def scenario():
        customer, _ = await customer_socket(chat)
        layer = get_channel_layer()
        group = events.session_group(chat.pk)
        members = {channel for channels in layer.groups.values() for channel in channels}
        for channel in members:
            await layer.group_discard(group, channel)  # as if the membership was lost
        await asyncio.sleep(0.4)  # a few re-join rounds
        await committed(services.customer_message_post, session_key=chat.session_id, content="ainda ao vivo")
        assert (await customer.receive_json_from(WAIT))["message"]["content"] == "ainda ao vivo"
        await customer.disconnect()

    run(scenario)


def test_sockets_are_asked_to_reconnect_when_redis_lost_its_data(chat, redis_layer, monkeypatch):
    """A Redis restart without persistence: clients reconnect (1012) and catch up."""
    monkeypatch.setattr(layer_watch, "CHECK_SECONDS", 0)

    async def scenario():
        customer, _ = await customer_socket(chat)
        await customer.send_json_to({"type": "ping"})
        assert await customer.receive_json_from(WAIT) == {"type": "pong"}
        redis.Redis.from_url(redis_layer).flushdb()
        await customer.send_json_to({"type": "ping"})
        assert await close_code(customer) == 1012
        await customer.disconnect()

    run(scenario)


def kill_the_layers_subscriber(redis_url: str) -> int:
    """Drop this process's subscriber connection from the Redis side (CLIENT KILL), as a
    network blip or a proxy's timeout would. Only pub/sub clients of the test's database."""
    client = redis.Redis.from_url(redis_url)
    database = client.connection_pool.connection_kwargs.get("db", 0)
    subscribers = [c for c in client.client_list(_type="pubsub") if int(c["db"]) == database]
    for subscriber in subscribers:
        client.client_kill_filter(_id=subscriber["id"])
    return len(subscribers)


def test_sockets_are_asked_to_reconnect_when_the_layers_subscriber_connection_came_back(
    chat, committed, redis_layer
):
    """What was published while the subscriber was away is lost: a later event must not reach
    the client (its cursor would move past the gap); the socket closes 1012 instead."""

    async def scenario():
        customer, _ = await customer_socket(chat)
        layer = get_channel_layer()
        assert layer.subscriber_reconnections == 0
        assert kill_the_layers_subscriber(redis_layer) == 1  # redis-py connects and subscribes again
        for _ in range(100):
            if layer.subscriber_reconnections:
                break
            await asyncio.sleep(0.05)
        assert layer.subscriber_reconnections == 1, "the layer no longer sees its subscriber reconnect"
        await committed(
            services.customer_message_post, session_key=chat.session_id, content="depois da falha"
        )
        assert await close_code(customer) == 1012
        await customer.disconnect()

        # The client reconnects, catches up from its cursor, and is live again.
        customer, _ = await customer_socket(chat)
        assert (await customer.receive_json_from(WAIT))["message"]["content"] == "depois da falha"
        await committed(
            services.customer_message_post, session_key=chat.session_id, content="de novo ao vivo"
        )
        assert (await customer.receive_json_from(WAIT))["message"]["content"] == "de novo ao vivo"
        await customer.disconnect()

    run(scenario)


def test_the_layer_decodes_one_received_message_once_for_all_local_sockets(redis_layer):
    layer = get_channel_layer()
    received = layer.serialize({"type": "chat.event", "event": {"type": "session"}})
    assert layer.deserialize(received) is layer.deserialize(received)
    assert layer.deserialize(bytes(received)) == layer.deserialize(received)


# --- a service call's events in one round trip (events.publishing_batch) --------------


@pytest.fixture
def publish_packets(monkeypatch):
    """How many PUBLISH commands each write to a Redis socket carried, from synchronous
    clients (the layer's publishing side): one write, one round trip."""
    packets = []
    send = redis.connection.AbstractConnection.send_packed_command

    def counting_send(connection, command, *args, **kwargs):
        parts = [command] if isinstance(command, bytes | str) else command
        data = b"".join(part.encode() if isinstance(part, str) else bytes(part) for part in parts)
        if publishes := data.count(b"PUBLISH"):
            packets.append(publishes)
        return send(connection, command, *args, **kwargs)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting_send)
    return packets


@pytest.fixture
def batched(django_capture_on_commit_callbacks):
    """A service call as services are called in production: in a batch, committed."""

    def call(service, **kwargs):
        with events.publishing_batch(), django_capture_on_commit_callbacks(execute=True):
            return service(**kwargs)

    return database_sync_to_async(call)


def group_channel(group: str) -> str:
    return get_channel_layer().group_channel(group)


async def until_subscribed(redis_url: str, groups) -> None:
    """The layer subscribes in the background; publishing before Redis has the subscription
    would lose the message."""
    client = redis.Redis.from_url(redis_url)
    channels = [group_channel(group) for group in groups]
    for _ in range(100):
        if all(count for _, count in client.pubsub_numsub(*channels)):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{groups} never subscribed")


def test_group_members_are_subscribed_where_the_blocking_publish_sends(redis_layer):
    """The blocking publish names a group's Redis channel itself (channels-redis's naming, not
    its documented API: README, "Private internals"): the layer's own group_add must subscribe
    that very channel, or every event published by the web processes is lost."""
    client = redis.Redis.from_url(redis_layer)

    async def scenario():
        layer = get_channel_layer()
        await layer.group_add("agents", await layer.new_channel())
        for _ in range(100):
            subscribed = {name.decode() for name in client.pubsub_channels(f"{layer.prefix}__group__*")}
            if subscribed:
                return subscribed
            await asyncio.sleep(0.02)
        return set()

    assert async_to_sync(scenario)() == {get_channel_layer().group_channel("agents")}, (
        "channels-redis names a group's channel differently: update group_channel() in chat/live/layers.py"
    )


def test_the_layer_takes_one_redis_host(redis_layer, settings):
    settings.CHANNEL_LAYERS = {
        "default": {
            **settings.CHANNEL_LAYERS["default"],
            "CONFIG": {**settings.CHANNEL_LAYERS["default"]["CONFIG"], "hosts": [redis_layer, redis_layer]},
        }
    }
    channel_layers.backends.clear()
    with pytest.raises(ImproperlyConfigured, match="one Redis host"):
        get_channel_layer()


def test_a_batch_reaches_every_group_in_order_once_in_one_round_trip(
    redis_layer, publish_packets, django_capture_on_commit_callbacks
):
    session, agent, watchers = "session.1", "agent.2", "session.1.agents"

    def announce(*groups_and_numbers):
        with django_capture_on_commit_callbacks(execute=True):
            for group, n in groups_and_numbers:
                events.send_event_on_commit(group, {"type": "test", "n": n})

    def service_call():
        with events.publishing_batch():
            announce((session, 1), (agent, 2), (session, 3))
            announce((watchers, 4), (agent, 5), (session, 6))

    async def scenario():
        layer = get_channel_layer()
        receivers = {group: await layer.new_channel() for group in (session, agent, watchers)}
        for group, channel in receivers.items():
            await layer.group_add(group, channel)
        await until_subscribed(redis_layer, receivers)
        await database_sync_to_async(service_call)()
        batch_packets = list(publish_packets)
        # A last event per group after the batch: anything received before it came from the
        # batch, so a duplicate or a lost event would show.
        await database_sync_to_async(announce)(*((group, "end") for group in receivers))
        received = {}
        for group, channel in receivers.items():
            received[group] = [(await asyncio.wait_for(layer.receive(channel), WAIT))["event"]["n"]]
            while received[group][-1] != "end":
                received[group].append((await asyncio.wait_for(layer.receive(channel), WAIT))["event"]["n"])
        return batch_packets, received

    batch_packets, received = async_to_sync(scenario)()
    assert received == {session: [1, 3, 6, "end"], agent: [2, 5, "end"], watchers: [4, "end"]}
    assert len(batch_packets) == 1 and sum(batch_packets) == 6


def test_a_service_call_in_a_batch_reaches_the_sockets_in_one_round_trip(
    chat, agent, client, batched, committed, publish_packets
):
    services.session_claim(session=chat, agent=agent)
    joined = ChatMessage.objects.filter(session=chat).latest("pk")  # "Ana joined": already seen

    async def scenario():
        customer, _ = await customer_socket(chat, after=joined.pk)
        staff = await agent_socket(cookie=await database_sync_to_async(session_cookie)(client, agent))
        assert await staff.receive_json_from(WAIT) == {"type": "ready"}
        await staff.send_json_to({"type": "watch", "session_id": chat.pk})  # the open transcript
        assert await staff.receive_json_from(WAIT) == {"type": "watching", "session_id": chat.pk}

        await batched(services.agent_message_post, session_pk=chat.pk, agent=agent, content="Uma ida")
        # The customer's socket, the agent's own group and the transcript's watchers, at least.
        assert len(publish_packets) == 1 and publish_packets[0] >= 3
        assert (await next_of_type(customer, "message"))["message"]["content"] == "Uma ida"
        assert (await next_of_type(staff, "message"))["message"]["content"] == "Uma ida"

        # Without a batch, as before: one round trip per event.
        publish_packets.clear()
        await committed(services.agent_message_post, session_pk=chat.pk, agent=agent, content="Várias")
        assert len(publish_packets) >= 3 and set(publish_packets) == {1}
        assert (await next_of_type(customer, "message"))["message"]["content"] == "Várias"
        assert (await next_of_type(staff, "message"))["message"]["content"] == "Várias"
        await customer.disconnect()
        await staff.disconnect()

    run(scenario)


def test_redis_down_while_a_batch_is_sent_is_logged_and_the_message_kept(
    redis_layer, settings, batched, caplog
):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "chat.live.layers.SharedDecodingPubSubChannelLayer",
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{free_port()}/0"]},  # nothing listens
        }
    }
    channel_layers.backends.clear()
    chat = services.session_open()
    result = async_to_sync(batched)(
        services.customer_message_post, session_key=chat.session_id, content="Guardada"
    )
    assert ChatMessage.objects.filter(pk=result.message.pk).exists()
    assert f"live event to {events.session_group(chat.pk)}, agents not delivered" in caplog.text
    assert "Connection refused" in caplog.text
