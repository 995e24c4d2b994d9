"""Presence across two real server processes sharing Redis (chat/live/presence.py).

An agent's socket on process A makes them available to a customer on process B (B's API and
B's customer socket say so); closing the socket drops them, and so does killing process A
while the socket is open (its entries expire). The servers run with a 3 s presence TTL so
that the test stays short; the README gives the figures measured with the default 45 s.
"""

import asyncio
import json
import os
import secrets
import signal
import time

import httpx
import pytest
import websockets

from conftest import make_staff
from jtchat.testing import start_asgi_server

pytestmark = [
    pytest.mark.slow,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

TTL = 3
WAIT = 10


@pytest.fixture
def two_servers(redis_layer, tmp_path):
    first = start_asgi_server(redis_layer, tmp_path, name="a", CHAT_PRESENCE_TTL_SECONDS=str(TTL))
    try:
        second = start_asgi_server(redis_layer, tmp_path, name="b", CHAT_PRESENCE_TTL_SECONDS=str(TTL))
    except Exception:
        first.stop()
        raise
    yield first, second
    first.stop()
    second.stop()


async def queue_frame(socket, service: str) -> dict:
    """The next queue frame saying ``service`` (each process that notices a change tells
    waiting customers, so the same news may come twice)."""
    while True:
        frame = json.loads(await asyncio.wait_for(socket.recv(), WAIT))
        if frame["type"] == "queue" and frame["service"] == service:
            return frame


async def queue_until(http: httpx.AsyncClient, url: str, key: str, wanted: str) -> float:
    """Poll B's queue API until the service is ``wanted``; the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < WAIT:
        body = (await http.get(url, headers={"X-Chat-Session": key})).json()
        if body["service"] == wanted:
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    raise AssertionError(f"queue never became {wanted}: {body}")


def test_an_agent_on_one_process_is_available_to_a_customer_on_another(
    two_servers, django_user_model, client
):
    first, second = two_servers
    agent = make_staff(django_user_model, "ana", "Agentes", display_name="Ana")
    client.force_login(agent)
    csrf_token = secrets.token_hex(16)
    cookie = f"sessionid={client.cookies['sessionid'].value}; csrftoken={csrf_token}"
    agent_http = httpx.Client(base_url=first.url, headers={"Cookie": cookie, "X-CSRFToken": csrf_token})

    opened = httpx.post(f"{second.url}/api/chat/session", json={"customer_name": "Carla"})
    assert opened.status_code == 201
    assert opened.json()["queue"]["service"] == "offline"
    key = opened.json()["session_id"]
    queue_url = f"{second.url}/api/chat/queue"
    measured = {}

    async def scenario():
        async with websockets.connect(f"{second.ws_url}/ws/chat/") as customer, httpx.AsyncClient() as http:
            await customer.send(json.dumps({"type": "hello", "session_id": key}))
            ready = json.loads(await asyncio.wait_for(customer.recv(), WAIT))
            assert ready["queue"]["service"] == "offline"
            assert ready["queue"]["estimated_wait_seconds"] is None

            async def agent_socket():
                ticket = (await asyncio.to_thread(agent_http.get, "/api/chat/agent-ticket")).json()["ticket"]
                socket = await websockets.connect(f"{first.ws_url}/ws/agents/", origin=first.url)
                await socket.send(json.dumps({"type": "hello", "ticket": ticket}))
                while json.loads(await asyncio.wait_for(socket.recv(), WAIT))["type"] != "ready":
                    pass
                return socket

            # Opening the inbox on A: B's customer is told at once, and B's API agrees.
            staff = await agent_socket()
            frame = await queue_frame(customer, "available")
            assert frame["agents_available"] == 1
            assert frame["estimated_wait_seconds"] > 0
            await queue_until(http, queue_url, key, "available")

            # Closing it: dropped after the grace.
            await staff.close()
            measured["closed socket"] = await queue_until(http, queue_url, key, "offline")
            await queue_frame(customer, "offline")

            # Killing process A with the socket open: dropped when its entries expire.
            staff = await agent_socket()
            await queue_frame(customer, "available")
            os.kill(first.process.pid, signal.SIGKILL)
            measured["killed process"] = await queue_until(http, queue_url, key, "offline")
            await queue_frame(customer, "offline")  # B noticed on its own
            await staff.close()

    try:
        asyncio.run(scenario())
    except Exception:
        print(first.log(), second.log())
        raise
    finally:
        agent_http.close()
    print(f"presence TTL {TTL} s: dropped after " + ", ".join(f"{k} {v:.1f} s" for k, v in measured.items()))
    assert measured["closed socket"] < 1 + 2  # grace (1 s at this TTL) and a look
    assert measured["killed process"] < TTL + 2
