"""Driving the live sockets in tests, in one place: the ASGI application through Channels'
WebsocketCommunicator, from synchronous pytest tests.

The fixtures that go with these (``committed``, ``sockets_share_the_test_transaction``) and
the users (``make_staff`` and friends) are in the root conftest.py.
"""

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from jtchat.asgi import application

WAIT = 2  # seconds to wait for a frame that must arrive
ALLOWED_ORIGIN = b"http://testserver"


def run(scenario) -> None:
    """Run an async test scenario from a synchronous test."""
    async_to_sync(scenario)()


async def customer_socket(session, after=0):
    """The customer's socket, greeted: (socket, the ``ready`` frame)."""
    socket = WebsocketCommunicator(application, "/ws/chat/")
    connected, _ = await socket.connect()
    assert connected
    await socket.send_json_to({"type": "hello", "session_id": str(session.session_id), "after": after})
    ready = await socket.receive_json_from(WAIT)
    assert ready["type"] == "ready"
    return socket, ready


def session_cookie(client, user) -> bytes:
    """The admin session cookie of ``user`` signed in through Django's test client."""
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def agent_socket(cookie=b"", ticket=None, origin=ALLOWED_ORIGIN):
    """An agent socket that has sent its first frame (with a cookie or a ticket)."""
    headers = [(b"origin", origin)]
    if cookie:
        headers.append((b"cookie", cookie))
    socket = WebsocketCommunicator(application, "/ws/agents/", headers=headers)
    connected, _ = await socket.connect()
    assert connected
    hello = {"type": "hello"} if ticket is None else {"type": "hello", "ticket": ticket}
    await socket.send_json_to(hello)
    return socket


async def signed_in_agent_socket(client, user):
    """``user``'s agent socket, signed in by cookie and ready."""
    staff = await agent_socket(cookie=await database_sync_to_async(session_cookie)(client, user))
    assert await staff.receive_json_from(WAIT) == {"type": "ready"}
    return staff


async def watch(staff, chat) -> None:
    """Open ``chat``'s transcript on an agent socket, as the conversation page does."""
    await staff.send_json_to({"type": "watch", "session_id": chat.pk})
    assert await staff.receive_json_from(WAIT) == {"type": "watching", "session_id": chat.pk}


async def next_of_type(socket, kind: str) -> dict:
    """The next frame of one type, skipping others (agents also get inbox updates)."""
    while True:
        frame = await socket.receive_json_from(WAIT)
        if frame["type"] == kind:
            return frame


async def frames_until_quiet(socket) -> list[dict]:
    """Every frame that arrives until the socket has been quiet for a moment."""
    frames = []
    while not await socket.receive_nothing(0.2):
        frames.append(await socket.receive_json_from(WAIT))
    return frames


async def close_code(socket) -> int:
    """The code the server closed the socket with (the next output must be the close)."""
    output = await socket.receive_output(WAIT)
    assert output["type"] == "websocket.close", output
    return output["code"]


async def first_frame_answer(path: str, hello, headers=None):
    """Open a socket, send one first frame; the close code, or the first frame received."""
    socket = WebsocketCommunicator(application, path, headers=headers or [(b"origin", ALLOWED_ORIGIN)])
    connected, _ = await socket.connect()
    assert connected
    if isinstance(hello, str):
        await socket.send_to(text_data=hello)
    else:
        await socket.send_json_to(hello)
    output = await socket.receive_output(WAIT)
    await socket.disconnect()
    return output["code"] if output["type"] == "websocket.close" else output
