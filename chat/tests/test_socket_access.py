"""Who may open which socket: a customer's key opens its own chat only; the agent socket
only for active staff, by session cookie or a valid ticket, from an allowed origin."""

import time
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core import signing

from chat import services
from chat.live import tickets
from chat.tests.sockets import (
    WAIT,
    agent_socket,
    close_code,
    customer_socket,
    first_frame_answer,
    frames_until_quiet,
    run,
    session_cookie,
)
from conftest import make_staff, make_user
from jtchat.asgi import application

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sockets_share_the_test_transaction")]


@pytest.fixture
def mine():
    return services.session_open(customer_name="Carla", tracking_code="JT111")


@pytest.fixture
def theirs():
    return services.session_open(customer_name="Diego", tracking_code="JT222")


class TestCustomerSocket:
    def test_a_key_opens_its_own_chat_and_nothing_of_another(self, mine, theirs, agent, committed, client):
        services.customer_message_post(session_key=theirs.session_id, content="segredo do Diego")
        services.session_claim(session=theirs, agent=agent)

        async def scenario():
            socket, ready = await customer_socket(mine)
            assert ready["session"]["customer_name"] == "Carla"
            assert "Diego" not in str(ready) and "JT222" not in str(ready)
            # Catch-up: nothing of the other chat either.
            assert await socket.receive_nothing(0.2)

            staff = await agent_socket(cookie=await database_sync_to_async(session_cookie)(client, agent))
            assert await staff.receive_json_from(WAIT) == {"type": "ready"}
            await committed(
                services.customer_message_post, session_key=theirs.session_id, content="mais do Diego"
            )
            await committed(
                services.agent_message_post, session_pk=theirs.pk, agent=agent, content="Oi Diego"
            )
            await staff.send_json_to({"type": "typing", "session_id": theirs.pk, "typing": True})
            await committed(services.session_end, session=theirs, ended_by="agent", agent=agent)
            frames = await frames_until_quiet(socket)
            assert "Diego" not in str(frames) and "JT222" not in str(frames)
            assert {frame["type"] for frame in frames} <= {"queue"}  # at most: the queue moved

            await committed(services.customer_message_post, session_key=mine.session_id, content="da Carla")
            assert (await socket.receive_json_from(WAIT))["message"]["content"] == "da Carla"
            await socket.disconnect()
            await staff.disconnect()

        run(scenario)

    @pytest.mark.parametrize("guess", ["random", "one digit changed"])
    def test_a_guessed_key_gets_4404(self, mine, guess):
        key = str(mine.session_id)
        if guess == "random":
            wrong = str(uuid.uuid4())
        else:
            wrong = key[:-1] + ("0" if key[-1] != "0" else "1")

        async def scenario():
            code = await first_frame_answer("/ws/chat/", {"type": "hello", "session_id": wrong, "after": 0})
            assert code == 4404

        run(scenario)

    @pytest.mark.parametrize(
        "session_id",
        [None, 42, "42", "", "not-a-key", ["x"], {"id": 1}, "a" * 5000, "' OR 1=1 --"],
    )
    def test_a_malformed_key_gets_4400(self, mine, session_id):
        async def scenario():
            hello = {"type": "hello", "session_id": session_id, "after": 0}
            assert await first_frame_answer("/ws/chat/", hello) == 4400

        run(scenario)

    def test_the_chats_number_is_not_a_key(self, mine):
        async def scenario():
            hello = {"type": "hello", "session_id": mine.pk, "after": 0}
            assert await first_frame_answer("/ws/chat/", hello) == 4400

        run(scenario)


class TestAgentSocket:
    def test_a_customer_cannot_open_it(self, mine):
        key = str(mine.session_id)

        async def scenario():
            for hello in (
                {"type": "hello"},
                {"type": "hello", "session_id": key},
                {"type": "hello", "ticket": key},
            ):
                assert await first_frame_answer("/ws/agents/", hello) == 4403

        run(scenario)

    def test_a_signed_in_user_without_staff_cannot(self, client, django_user_model):
        # In the agents' group, but not staff (no admin access): not an agent.
        not_staff = make_staff(django_user_model, "ex-agente", "Agentes")
        not_staff.is_staff = False
        not_staff.save()

        async def scenario():
            cookie = await database_sync_to_async(session_cookie)(client, not_staff)
            staff = await agent_socket(cookie=cookie)
            assert await close_code(staff) == 4403
            await staff.disconnect()

        run(scenario)

    def test_a_deactivated_agent_cannot(self, client, agent):
        cookie = session_cookie(client, agent)
        agent.is_active = False
        agent.save()

        async def scenario():
            staff = await agent_socket(cookie=cookie)
            assert await close_code(staff) == 4403
            await staff.disconnect()

        run(scenario)

    def test_a_ticket_for_a_user_without_staff_is_refused(self, agent, django_user_model):
        customer_user = make_user(django_user_model, "cliente")
        for_customer = tickets.issue_agent_ticket(customer_user)
        for_demoted = tickets.issue_agent_ticket(agent)
        agent.is_staff = False
        agent.save()

        async def scenario():
            for ticket in (for_customer, for_demoted):
                staff = await agent_socket(ticket=ticket)
                assert await close_code(staff) == 4403
                await staff.disconnect()

        run(scenario)

    def test_a_forged_ticket_is_refused(self, agent):
        valid = tickets.issue_agent_ticket(agent)
        payload, timestamp, signature = valid.split(":")
        forged = [
            signing.dumps({"user": agent.pk}, salt=tickets.TICKET_SALT, key="not-the-secret-key"),
            signing.dumps({"user": agent.pk}, salt="another.purpose"),  # another signed value
            # another user's id under this ticket's signature
            f"{signing.dumps({'user': agent.pk + 1}).split(':')[0]}:{timestamp}:{signature}",
            f"{payload}:{timestamp}:{signature[:-2]}xx",
            "",
            {"user": agent.pk},
        ]

        async def scenario():
            for ticket in forged:
                staff = await agent_socket(ticket=ticket)
                assert await close_code(staff) == 4403
                await staff.disconnect()
            staff = await agent_socket(ticket=valid)  # the genuine one still opens
            assert await staff.receive_json_from(WAIT) == {"type": "ready"}
            await staff.disconnect()

        run(scenario)

    def test_an_expired_ticket_is_refused(self, agent, monkeypatch):
        issued_at = time.time() - tickets.TICKET_MAX_AGE_SECONDS - 5
        monkeypatch.setattr(signing.time, "time", lambda: issued_at)
        expired = tickets.issue_agent_ticket(agent)
        monkeypatch.undo()

        async def scenario():
            staff = await agent_socket(ticket=expired)
            assert await close_code(staff) == 4403
            await staff.disconnect()

        run(scenario)

    @pytest.mark.parametrize(
        "origin",
        [b"https://evil.example", b"http://testserver.evil.example", b"null", None],
    )
    def test_a_wrong_origin_is_refused_even_with_valid_credentials(self, agent, client, origin):
        cookie = session_cookie(client, agent)

        async def scenario():
            headers = [(b"cookie", cookie)] + ([(b"origin", origin)] if origin is not None else [])
            socket = WebsocketCommunicator(application, "/ws/agents/", headers=headers)
            connected, _ = await socket.connect()
            assert not connected
            await socket.disconnect()

            ticketed = WebsocketCommunicator(application, "/ws/agents/", headers=headers[1:])
            connected, _ = await ticketed.connect()
            assert not connected
            await ticketed.disconnect()

        run(scenario)
