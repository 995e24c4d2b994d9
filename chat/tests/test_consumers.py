"""The live sockets, driven through the real ASGI application with WebsocketCommunicator
(one module of over 400 lines: both sockets share the helpers of chat/tests/sockets.py and
the scenarios cross from one to the other)."""

import pytest
from asgiref.sync import async_to_sync
from channels.consumer import AsyncConsumer
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from chat import services
from chat.live import base, tickets
from chat.models import ChatMessage
from chat.tests.sockets import (
    WAIT,
    agent_socket,
    close_code,
    customer_socket,
    frames_until_quiet,
    next_of_type,
    run,
    session_cookie,
    signed_in_agent_socket,
    watch,
)
from conftest import bring_online, make_staff, make_user
from jtchat.asgi import application

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sockets_share_the_test_transaction")]


@pytest.fixture
def chat():
    return services.session_open(customer_name="Carla")


@pytest.fixture
def other_chat():
    return services.session_open(customer_name="Diego")


# --- customer socket: first frame -----------------------------------------------------


@pytest.mark.parametrize(
    "first_frame",
    [
        '{"type": "ping"}',
        "not json",
        "[1, 2]",
        '{"type": "hello"}',
        '{"type": "hello", "session_id": "not-a-uuid"}',
        '{"type": "hello", "session_id": "SESSION", "after": "5"}',
        '{"type": "hello", "session_id": "SESSION", "after": -1}',
        '{"type": "hello", "session_id": "SESSION", "after": true}',
    ],
)
def test_customer_socket_refuses_a_malformed_first_frame_with_4400(chat, first_frame):
    async def scenario():
        socket = WebsocketCommunicator(application, "/ws/chat/")
        assert (await socket.connect())[0]
        await socket.send_to(text_data=first_frame.replace("SESSION", str(chat.session_id)))
        assert await close_code(socket) == 4400
        await socket.disconnect()

    run(scenario)


def test_customer_socket_closes_with_4400_when_no_first_frame_comes(monkeypatch):
    monkeypatch.setattr(base.LiveConsumer, "hello_timeout", 0.1)

    async def scenario():
        socket = WebsocketCommunicator(application, "/ws/chat/")
        assert (await socket.connect())[0]
        assert await close_code(socket) == 4400
        await socket.disconnect()

    run(scenario)


def test_customer_socket_closes_with_4404_for_an_unknown_chat(chat):
    async def scenario():
        socket = WebsocketCommunicator(application, "/ws/chat/")
        assert (await socket.connect())[0]
        await socket.send_json_to({"type": "hello", "session_id": "0f0e6a44-6f55-4a3b-9d6b-1c1f0e1a2b3c"})
        assert await close_code(socket) == 4404
        await socket.disconnect()

    run(scenario)


def test_ready_carries_the_public_chat_and_the_customers_place_in_the_queue(chat, other_chat, agent):
    bring_online(agent)

    async def scenario():
        socket, ready = await customer_socket(other_chat)
        assert ready["session"]["status"] == "waiting"
        assert ready["session"]["customer_name"] == "Diego"
        assert "session_id" not in ready["session"]
        assert ready["queue"]["position"] == 2
        assert ready["queue"]["waiting_chats"] == 2
        assert ready["queue"]["estimated_wait_seconds"] > 0
        assert ready["queue"]["service"] == "available"
        await socket.send_json_to({"type": "ping"})
        assert await socket.receive_json_from(WAIT) == {"type": "pong"}
        await socket.disconnect()

    run(scenario)


def test_with_nobody_online_ready_says_offline_and_promises_no_wait(chat, agent):
    async def scenario():
        socket, ready = await customer_socket(chat)
        assert ready["queue"]["service"] == "offline"
        assert ready["queue"]["agents_available"] == 0
        assert ready["queue"]["position"] == 1
        assert ready["queue"]["estimated_wait_seconds"] is None
        await socket.disconnect()

    run(scenario)


# --- customer socket: catch-up and live events ------------------------------------------


def test_catch_up_sends_every_message_after_the_cursor_but_no_internal_note(chat, agent):
    first = services.customer_message_post(
        session_key=chat.session_id, content="Onde está meu pacote?"
    ).message
    services.agent_message_post(session_pk=chat.pk, agent=agent, content="nota interna", is_internal=True)
    services.agent_message_post(session_pk=chat.pk, agent=agent, content="Vou verificar.")
    services.customer_message_post(session_key=chat.session_id, content="Obrigada")

    async def scenario():
        socket, ready = await customer_socket(chat, after=first.pk)
        contents = []
        for _ in range(3):  # the system "joined" line, the reply and the customer's thanks
            frame = await socket.receive_json_from(WAIT)
            assert frame["type"] == "message"
            contents.append(frame["message"]["content"])
        assert contents[1:] == ["Vou verificar.", "Obrigada"]
        assert "nota interna" not in contents
        assert ready["session"]["status"] == "active"
        assert await socket.receive_nothing(0.2)
        await socket.disconnect()

    run(scenario)


def test_messages_arrive_live_once_and_internal_notes_never_reach_the_customer(
    chat, agent, client, committed
):
    async def scenario():
        socket, _ = await customer_socket(chat)
        staff = await agent_socket(cookie=await database_sync_to_async(session_cookie)(client, agent))
        assert (await staff.receive_json_from(WAIT))["type"] == "ready"

        await committed(services.customer_message_post, session_key=chat.session_id, content="Olá")
        frame = await socket.receive_json_from(WAIT)
        assert frame == {"type": "message", "message": frame["message"]}
        assert frame["message"]["content"] == "Olá"
        seen_by_agent = await staff.receive_json_from(WAIT)
        assert seen_by_agent["type"] == "message"
        assert seen_by_agent["session_id"] == chat.pk

        await committed(
            services.agent_message_post,
            session_pk=chat.pk,
            agent=agent,
            content="só equipe",
            is_internal=True,
        )
        note = await next_of_type(staff, "message")
        assert note["message"]["content"] == "só equipe"
        assert note["message"]["is_internal"] is True
        assert await socket.receive_nothing(0.2)

        await socket.disconnect()
        await staff.disconnect()

    run(scenario)


def test_nothing_crosses_to_another_chat(chat, other_chat, agent, committed):
    async def scenario():
        mine, _ = await customer_socket(chat)
        theirs, _ = await customer_socket(other_chat)
        await committed(services.customer_message_post, session_key=chat.session_id, content="privado")
        await committed(services.session_claim, session=chat, agent=agent)
        assert (await mine.receive_json_from(WAIT))["message"]["content"] == "privado"
        frames = [await theirs.receive_json_from(WAIT)]
        while not await theirs.receive_nothing(0.2):
            frames.append(await theirs.receive_json_from(WAIT))
        # The other customer only learns that the queue moved: they are now first.
        assert [frame["type"] for frame in frames] == ["queue"]
        assert frames[0]["position"] == 1
        await mine.disconnect()
        await theirs.disconnect()

    run(scenario)


def test_claim_and_end_reach_the_customer_as_session_events(chat, agent, committed):
    async def scenario():
        socket, _ = await customer_socket(chat)
        await committed(services.session_claim, session=chat, agent=agent)
        joined = await socket.receive_json_from(WAIT)
        assert joined["type"] == "message" and joined["message"]["author"] == "system"
        claimed = await socket.receive_json_from(WAIT)
        assert claimed["type"] == "session"
        assert claimed["session"]["status"] == "active"
        assert claimed["session"]["agent_name"] == "Ana"
        assert "session_id" not in claimed["session"]
        assert await socket.receive_nothing(0.2)  # no longer waiting: no queue event

        await committed(services.session_end, session=chat, ended_by="agent", agent=agent)
        assert (await socket.receive_json_from(WAIT))["type"] == "message"
        ended = await socket.receive_json_from(WAIT)
        assert ended["session"]["status"] == "ended"
        assert ended["session"]["ended_by"] == "agent"
        await socket.disconnect()

    run(scenario)


def test_queue_events_become_each_customers_own_position_without_the_id_list(
    chat, other_chat, agent, committed
):
    third = services.session_open(customer_name="Eva")

    async def scenario():
        second, ready = await customer_socket(other_chat)
        last, _ = await customer_socket(third)
        assert ready["queue"]["position"] == 2
        await committed(services.session_claim, session=chat, agent=agent)
        moved = await second.receive_json_from(WAIT)
        assert moved["type"] == "queue"
        assert set(moved) == {
            "type",
            "service",
            "position",
            "estimated_wait_seconds",
            "agents_available",
            "waiting_chats",
            "opens_at",
        }
        assert moved["position"] == 1
        assert moved["waiting_chats"] == 2
        assert (await last.receive_json_from(WAIT))["position"] == 2
        await second.disconnect()
        await last.disconnect()

    run(scenario)


# --- typing ---------------------------------------------------------------------------


def test_customer_typing_reaches_the_assigned_agent_once_per_burst(chat, agent, other_agent, client):
    services.session_claim(session=chat, agent=agent)

    async def scenario():
        socket, _ = await customer_socket(chat)
        staff = await signed_in_agent_socket(client, agent)
        bystander = await signed_in_agent_socket(client, other_agent)

        for _ in range(5):
            await socket.send_json_to({"type": "typing", "typing": True})
        assert await staff.receive_json_from(WAIT) == {
            "type": "typing",
            "session_id": chat.pk,
            "author": "customer",
            "typing": True,
            "assigned_agent": agent.pk,
            "status": "active",
        }
        assert await bystander.receive_nothing(0.2)  # no inbox shows typing
        await bystander.disconnect()
        assert await staff.receive_nothing(0.2)
        await socket.send_json_to({"type": "typing", "typing": False})
        assert (await staff.receive_json_from(WAIT))["typing"] is False
        assert await ChatMessage.objects.exclude(author="system").acount() == 0  # typing is never stored
        await socket.disconnect()
        await staff.disconnect()

    run(scenario)


def test_agent_typing_reaches_only_that_customer(chat, other_chat, agent, client):
    async def scenario():
        mine, _ = await customer_socket(chat)
        theirs, _ = await customer_socket(other_chat)
        staff = await agent_socket(cookie=await database_sync_to_async(session_cookie)(client, agent))
        assert (await staff.receive_json_from(WAIT))["type"] == "ready"
        await staff.send_json_to({"type": "typing", "session_id": chat.pk, "typing": True})
        assert await mine.receive_json_from(WAIT) == {
            "type": "typing",
            "author": "agent",
            "name": "Ana",
            "typing": True,
        }
        assert await theirs.receive_nothing(0.2)
        await mine.disconnect()
        await theirs.disconnect()
        await staff.disconnect()

    run(scenario)


def test_agent_typing_is_ignored_for_a_chat_held_by_someone_else_or_from_a_manager(
    chat, agent, other_agent, manager, client
):
    services.session_claim(session=chat, agent=other_agent)

    async def scenario():
        socket, _ = await customer_socket(chat)
        assert (await socket.receive_json_from(WAIT))["message"]["author"] == "system"  # caught up
        for user in (agent, manager):
            staff = await agent_socket(cookie=await database_sync_to_async(session_cookie)(client, user))
            assert (await staff.receive_json_from(WAIT))["type"] == "ready"
            await staff.send_json_to({"type": "typing", "session_id": chat.pk, "typing": True})
            assert await socket.receive_nothing(0.2)
            await staff.disconnect()
        await socket.disconnect()

    run(scenario)


# --- agent socket -----------------------------------------------------------------------


def test_agent_socket_carries_new_chats_and_their_messages(agent, client, committed):
    async def scenario():
        staff = await agent_socket(cookie=await database_sync_to_async(session_cookie)(client, agent))
        assert await staff.receive_json_from(WAIT) == {"type": "ready"}
        opened = await committed(services.session_open, customer_name="Fábio")
        new = await staff.receive_json_from(WAIT)
        assert new["type"] == "session" and new["new"] is True
        assert new["session"]["id"] == opened.pk
        assert "session_id" not in new["session"]  # the customer's secret stays theirs
        counts = await staff.receive_json_from(WAIT)  # the tabs' counts, counted after the commit
        assert (counts["type"], counts["waiting"], counts["active"], counts["open"]) == ("counts", 1, 0, 1)
        assert counts["as_of"]
        await committed(services.customer_message_post, session_key=opened.session_id, content="Oi")
        message = await staff.receive_json_from(WAIT)
        assert message["type"] == "message" and message["session_id"] == opened.pk
        await staff.disconnect()

    run(scenario)


def test_agent_socket_refuses_anonymous_and_non_staff_with_4403(client, django_user_model):
    customer_user = make_user(django_user_model, "cliente")

    async def scenario():
        for cookie in (b"", await database_sync_to_async(session_cookie)(client, customer_user)):
            staff = await agent_socket(cookie=cookie)
            assert await close_code(staff) == 4403
            await staff.disconnect()

    run(scenario)


def test_agent_socket_refuses_a_foreign_origin(agent, client):
    async def scenario():
        cookie = await database_sync_to_async(session_cookie)(client, agent)
        socket = WebsocketCommunicator(
            application, "/ws/agents/", headers=[(b"origin", b"https://evil.example"), (b"cookie", cookie)]
        )
        connected, _ = await socket.connect()
        assert not connected
        await socket.disconnect()

    run(scenario)


def test_agent_socket_accepts_the_origin_of_the_configured_web_host(agent, client, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://jtchat-web.example"]

    async def scenario():
        cookie = await database_sync_to_async(session_cookie)(client, agent)
        staff = await agent_socket(cookie=cookie, origin=b"https://jtchat-web.example")
        assert await staff.receive_json_from(WAIT) == {"type": "ready"}
        await staff.disconnect()

    run(scenario)


def test_agent_ticket_opens_the_agent_socket_without_a_cookie(agent, client):
    client.force_login(agent)
    answer = client.get("/api/chat/agent-ticket")
    assert answer.status_code == 200
    assert answer["Cache-Control"] == "no-store"
    ticket = answer.json()["ticket"]

    async def scenario():
        staff = await agent_socket(ticket=ticket)
        assert await staff.receive_json_from(WAIT) == {"type": "ready"}
        await staff.disconnect()
        for bad in ("forged", ticket[:-2] + "xx", 42):
            refused = await agent_socket(ticket=bad)
            assert await close_code(refused) == 4403
            await refused.disconnect()

    run(scenario)


def test_agent_ticket_expires_and_is_only_for_staff(agent, client, django_user_model, monkeypatch):
    assert client.get("/api/chat/agent-ticket").status_code == 403
    ticket = tickets.issue_agent_ticket(agent)
    monkeypatch.setattr(tickets, "TICKET_MAX_AGE_SECONDS", -1)
    assert tickets.agent_from_ticket(ticket) is None
    monkeypatch.undo()
    agent.is_staff = False
    agent.save()
    assert tickets.agent_from_ticket(ticket) is None


# --- agent socket: only what concerns the agent ------------------------------------------


def test_another_agents_active_chat_reaches_an_agent_only_as_status_changes(
    chat, agent, other_agent, manager, client, committed
):
    services.session_claim(session=chat, agent=other_agent)

    async def scenario():
        holder = await signed_in_agent_socket(client, other_agent)
        bystander = await signed_in_agent_socket(client, agent)
        boss = await signed_in_agent_socket(client, manager)

        await committed(services.customer_message_post, session_key=chat.session_id, content="Cadê?")
        await committed(
            services.agent_message_post,
            session_pk=chat.pk,
            agent=other_agent,
            content="nota",
            is_internal=True,
        )
        seen = [frame for frame in await frames_until_quiet(holder) if frame["type"] == "message"]
        assert [frame["message"]["content"] for frame in seen] == ["Cadê?", "nota"]
        assert seen[0]["session_id"] == chat.pk
        assert seen[0]["assigned_agent"] == other_agent.pk
        assert seen[0]["status"] == "active"
        assert await bystander.receive_nothing(0.2)
        assert await boss.receive_nothing(0.2)

        await committed(services.session_end, session=chat, ended_by="customer")
        for socket in (bystander, boss):  # the open tab shows everyone's chats' status
            frames = await frames_until_quiet(socket)
            assert [(frame["type"], frame.get("session", {}).get("status")) for frame in frames] == [
                ("session", "ended"),
                ("counts", None),
            ]
            assert frames[0]["session_id"] == chat.pk and "activity" not in frames[0]
            assert (frames[1]["waiting"], frames[1]["active"]) == (0, 0)
        assert {frame["type"] for frame in await frames_until_quiet(holder)} == {
            "message",
            "session",
            "counts",
        }
        for socket in (holder, bystander, boss):
            await socket.disconnect()

    run(scenario)


def test_every_change_of_the_waiting_queue_reaches_every_agent(agent, other_agent, client, committed):
    async def scenario():
        staff = await signed_in_agent_socket(client, agent)
        opened = await committed(services.session_open, customer_name="Fábio")
        new = await staff.receive_json_from(WAIT)
        assert new["type"] == "session" and new["new"] is True and new["status"] == "waiting"
        assert (await staff.receive_json_from(WAIT))["type"] == "counts"

        await committed(services.customer_message_post, session_key=opened.session_id, content="Oi")
        message, refresh = await staff.receive_json_from(WAIT), await staff.receive_json_from(WAIT)
        assert message["type"] == "message" and message["message"]["content"] == "Oi"
        assert message["assigned_agent"] is None
        assert refresh["type"] == "session" and refresh["activity"] is True  # waiting since

        await committed(services.session_claim, session=opened, agent=other_agent)
        frames = await frames_until_quiet(staff)
        # The claim (not the "joined" line, which is the chat's own business), then the counts.
        assert [frame["type"] for frame in frames] == ["session", "counts"]
        assert frames[0]["assigned_agent"] == other_agent.pk and frames[0]["status"] == "active"
        assert (frames[1]["waiting"], frames[1]["active"], frames[1]["open"]) == (0, 1, 1)
        await staff.disconnect()

    run(scenario)


def test_an_agents_own_chats_reach_every_socket_of_that_agent_once(chat, agent, client, committed):
    services.session_claim(session=chat, agent=agent)

    async def scenario():
        inbox = await signed_in_agent_socket(client, agent)
        conversation = await signed_in_agent_socket(client, agent)
        await watch(conversation, chat)  # the agent's own chat, open in a second tab
        await committed(services.customer_message_post, session_key=chat.session_id, content="Oi de novo")
        for socket in (inbox, conversation):
            frames = await frames_until_quiet(socket)
            messages = [frame["message"]["content"] for frame in frames if frame["type"] == "message"]
            assert messages == ["Oi de novo"]
            assert [frame.get("activity") for frame in frames if frame["type"] == "session"] == [True]
            await socket.disconnect()

    run(scenario)


def test_a_watched_transcript_reaches_its_watcher_until_unwatched(
    chat, agent, other_agent, client, committed
):
    services.session_claim(session=chat, agent=other_agent)

    async def scenario():
        customer, _ = await customer_socket(chat)
        staff = await signed_in_agent_socket(client, agent)
        await watch(staff, chat)
        await watch(staff, chat)  # watching twice is watching once

        await committed(services.customer_message_post, session_key=chat.session_id, content="Alguém aí?")
        frames = await frames_until_quiet(staff)
        assert [frame["message"]["content"] for frame in frames if frame["type"] == "message"] == [
            "Alguém aí?"
        ]
        await committed(
            services.agent_message_post,
            session_pk=chat.pk,
            agent=other_agent,
            content="só equipe",
            is_internal=True,
        )
        note = await next_of_type(staff, "message")
        assert note["message"]["is_internal"] is True
        await customer.send_json_to({"type": "typing", "typing": True})
        typing = await staff.receive_json_from(WAIT)
        assert typing["type"] == "typing" and typing["session_id"] == chat.pk
        assert await staff.receive_nothing(0.2)

        await staff.send_json_to({"type": "unwatch", "session_id": chat.pk})
        await committed(services.customer_message_post, session_key=chat.session_id, content="Oi?")
        assert await staff.receive_nothing(0.2)
        contents = [
            frame["message"]["content"]
            for frame in await frames_until_quiet(customer)
            if frame["type"] == "message"
        ]
        assert "só equipe" not in contents  # internal notes never reach the customer
        await customer.disconnect()
        await staff.disconnect()

    run(scenario)


def test_the_agent_socket_needs_the_permission_to_view_chats(chat, agent, client, django_user_model):
    services.session_claim(session=chat, agent=agent)
    clerk = make_staff(django_user_model, "clerk")  # staff, but not in the chat groups

    async def scenario():
        staff = await agent_socket(cookie=await database_sync_to_async(session_cookie)(client, clerk))
        assert await close_code(staff) == 4403
        await staff.disconnect()

    run(scenario)


def test_watching_a_chat_that_does_not_exist_is_refused_and_the_socket_stays(agent, client, chat, committed):
    async def scenario():
        staff = await signed_in_agent_socket(client, agent)
        await staff.send_json_to({"type": "watch", "session_id": 999_999})
        assert await staff.receive_json_from(WAIT) == {
            "type": "error",
            "code": "session_not_found",
            "session_id": 999_999,
        }
        await committed(services.session_claim, session=chat, agent=agent)  # still live
        assert (await staff.receive_json_from(WAIT))["type"] == "message"
        await staff.disconnect()

    run(scenario)


def test_agent_groups_are_joined_again_on_ping(agent, client, committed):
    """A socket that lost its group (as after a Redis restart) receives again after a ping."""

    async def scenario():
        staff = await agent_socket(cookie=await database_sync_to_async(session_cookie)(client, agent))
        assert await staff.receive_json_from(WAIT) == {"type": "ready"}
        get_channel_layer().groups.pop("agents", None)  # the layer forgets the group
        await committed(services.session_open)
        assert await staff.receive_nothing(0.2)
        await staff.send_json_to({"type": "ping"})
        assert await staff.receive_json_from(WAIT) == {"type": "pong"}
        await committed(services.session_open)
        assert (await staff.receive_json_from(WAIT))["type"] == "session"
        await staff.disconnect()

    run(scenario)


def test_own_and_watched_chat_groups_are_joined_again_on_ping(
    chat, other_chat, agent, other_agent, client, committed
):
    services.session_claim(session=chat, agent=agent)
    services.session_claim(session=other_chat, agent=other_agent)

    async def scenario():
        staff = await signed_in_agent_socket(client, agent)
        await watch(staff, other_chat)
        layer = get_channel_layer()
        layer.groups.pop(f"agent.{agent.pk}", None)
        layer.groups.pop(f"session.{other_chat.pk}.agents", None)
        for session in (chat, other_chat):
            await committed(services.customer_message_post, session_key=session.session_id, content="perdida")
        assert await staff.receive_nothing(0.2)
        await staff.send_json_to({"type": "ping"})
        assert await staff.receive_json_from(WAIT) == {"type": "pong"}
        for session in (chat, other_chat):
            await committed(
                services.customer_message_post, session_key=session.session_id, content="de volta"
            )
        frames = await frames_until_quiet(staff)
        assert sorted(frame["session_id"] for frame in frames if frame["type"] == "message") == sorted(
            [chat.pk, other_chat.pk]
        )
        await staff.disconnect()

    run(scenario)


def test_typing_throttle_lets_changes_through_and_repeats_slowly():
    throttle = base.TypingThrottle()
    assert throttle.allow(True, now=100.0)
    assert not throttle.allow(True, now=101.0)
    assert throttle.allow(True, now=100.0 + base.TYPING_REPEAT_SECONDS)
    assert throttle.allow(False, now=103.1)
    assert not throttle.allow(False, now=103.2)
    assert not throttle.allow(True, now=103.3)  # on/off flapping is slowed down
    assert throttle.allow(True, now=103.6)


def test_events_reach_the_socket_without_channels_per_message_database_hop(chat, committed, monkeypatch):
    """LiveConsumer.dispatch is Channels' AsyncConsumer.dispatch less its per-message
    ``aclose_old_connections()`` (README, "Private internals"). This fails if an upgrade of
    Channels moves that call or stops making it: then look again at what chat/live/base.py
    leaves out."""
    hops = []

    async def counting_hop():
        hops.append(1)

    monkeypatch.setattr("channels.consumer.aclose_old_connections", counting_hop)  # must exist

    class Plain(AsyncConsumer):
        async def chat_event(self, message):
            pass

    async_to_sync(Plain().dispatch)({"type": "chat.event"})
    assert hops == [1], "Channels' dispatch no longer hops per message: LiveConsumer.dispatch may go"
    hops.clear()

    async def scenario():
        socket, _ = await customer_socket(chat)
        await committed(services.customer_message_post, session_key=chat.session_id, content="sem escala")
        assert (await socket.receive_json_from(WAIT))["message"]["content"] == "sem escala"
        await socket.disconnect()

    run(scenario)
    assert hops == []


def test_an_event_is_encoded_once_for_every_socket_that_receives_it():
    encoding = base.SharedEncoding(size=2)
    event = {"type": "session", "session": {"id": 1}}
    assert encoding.text(event) is encoding.text(event)
    assert (
        encoding.text({"type": "session", "session": {"id": 2}})
        == '{"type": "session", "session": {"id": 2}}'
    )
