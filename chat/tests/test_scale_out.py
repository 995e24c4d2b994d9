"""Scale-out: two real server processes share PostgreSQL/SQLite and Redis.

A customer connected to one server and an agent connected to the other exchange messages
live; each sends over HTTP to either server, as a load balancer would spread them.
"""

import asyncio
import json
import secrets

import httpx
import pytest
import websockets

from conftest import make_staff
from jtchat.testing import start_asgi_server

pytestmark = [
    pytest.mark.slow,
    pytest.mark.redis,
    # Real processes read committed rows; the data migration's groups are restored after.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

WAIT = 5


@pytest.fixture
def two_servers(redis_layer, tmp_path):
    first = start_asgi_server(redis_layer, tmp_path, name="first")
    try:
        second = start_asgi_server(redis_layer, tmp_path, name="second")
    except Exception:
        first.stop()
        raise
    yield first, second
    first.stop()
    second.stop()


async def next_frame(socket, kind: str) -> dict:
    """The next frame of one type (agents also get inbox updates in between)."""
    while True:
        frame = json.loads(await asyncio.wait_for(socket.recv(), WAIT))
        if frame["type"] == kind:
            return frame


def test_customer_and_agent_on_different_servers_talk_live(two_servers, django_user_model, client):
    first, second = two_servers
    agent = make_staff(django_user_model, "ana", "Agentes", display_name="Ana")
    client.force_login(agent)
    csrf_token = secrets.token_hex(16)
    # A header, not the cookie jar: the test settings mark cookies Secure, and this is http.
    agent_http = httpx.Client(
        base_url=second.url,
        headers={
            "Cookie": f"sessionid={client.cookies['sessionid'].value}; csrftoken={csrf_token}",
            "X-CSRFToken": csrf_token,
        },
    )
    ticket = agent_http.get("/api/chat/agent-ticket").json()["ticket"]

    opened = httpx.post(f"{first.url}/api/chat/session", json={"customer_name": "Carla"})
    assert opened.status_code == 201
    key = opened.json()["session_id"]

    async def conversation():
        async with (
            websockets.connect(f"{first.ws_url}/ws/chat/") as customer,
            websockets.connect(f"{second.ws_url}/ws/agents/", origin=first.url) as staff,
        ):
            await customer.send(json.dumps({"type": "hello", "session_id": key, "after": 0}))
            assert (await next_frame(customer, "ready"))["session"]["status"] == "waiting"
            await staff.send(json.dumps({"type": "hello", "ticket": ticket}))
            await next_frame(staff, "ready")

            async with httpx.AsyncClient() as http:
                sent = await http.post(
                    f"{first.url}/api/chat/message",
                    json={"session_id": key, "author": "user", "content": "Cadê meu pacote?"},
                )
                assert sent.status_code == 201
                seen = await next_frame(staff, "message")
                assert seen["message"]["content"] == "Cadê meu pacote?"
                chat_id = seen["session_id"]

                # The agent opens the transcript: its typing comes to the transcript's watchers.
                await staff.send(json.dumps({"type": "watch", "session_id": chat_id}))
                await next_frame(staff, "watching")
                await customer.send(json.dumps({"type": "typing", "typing": True}))
                typing = await next_frame(staff, "typing")
                assert typing == {
                    "type": "typing",
                    "session_id": chat_id,
                    "author": "customer",
                    "typing": True,
                    "assigned_agent": None,
                    "status": "waiting",
                }

                reply = await asyncio.to_thread(
                    agent_http.post,
                    f"/api/chat/sessions/{chat_id}/messages/",
                    json={"content": "Já verifico para você."},
                )
                assert reply.status_code == 201, reply.text
                contents = []
                while "Já verifico para você." not in contents:
                    contents.append((await next_frame(customer, "message"))["message"]["content"])
                assert "Cadê meu pacote?" in contents
                await staff.send(json.dumps({"type": "typing", "session_id": chat_id, "typing": True}))
                assert (await next_frame(customer, "typing"))["name"] == "Ana"

    try:
        asyncio.run(conversation())
    except Exception:
        print(first.log(), second.log())
        raise
    finally:
        agent_http.close()
