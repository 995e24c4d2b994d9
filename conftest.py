"""Fixtures shared by every app's tests."""

import pytest
from django.contrib.auth.models import Group


@pytest.fixture(autouse=True)
def _in_memory_channel_layer(settings):
    """Each test gets a fresh in-memory layer unless it asks for Redis."""
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _fresh_presence():
    """Nobody is online at the start of a test (the in-memory presence store is per process)."""
    from chat.live import presence

    presence.reset_memory()
    yield
    presence.reset_memory()


def bring_online(*users) -> None:
    """Give each user an open agent socket in the presence store, as an admin page does."""
    import time

    from chat.live import presence

    presence.store().refresh({f"test-socket-{user.pk}": user.pk for user in users}, {}, time.time())


# Every test user is made here: make_staff (agents, managers, superusers with
# is_superuser=True), make_user (a signed-in person who is not staff), and the fixtures below.
# Socket helpers: chat/tests/sockets.py, with the two socket fixtures below.
PASSWORD = "pass-1234-word"


def make_user(django_user_model, username: str, *groups: str, password: str = PASSWORD, **extra):
    """A user with ``password``, in ``groups``, read back fresh (an empty permission cache)."""
    user = django_user_model.objects.create_user(username=username, password=password, **extra)
    if groups:
        user.groups.add(*Group.objects.filter(name__in=groups))
    return django_user_model.objects.get(pk=user.pk)


def make_staff(django_user_model, username: str, *groups: str, **extra):
    """A staff user (agents are staff in the *Agentes* group, managers in *Gestores*)."""
    return make_user(django_user_model, username, *groups, is_staff=True, **extra)


@pytest.fixture
def agent(django_user_model):
    return make_staff(django_user_model, "ana", "Agentes", display_name="Ana")


@pytest.fixture
def other_agent(django_user_model):
    return make_staff(django_user_model, "bruno", "Agentes", display_name="Bruno")


@pytest.fixture
def manager(django_user_model):
    return make_staff(django_user_model, "gabi", "Gestores", display_name="Gabi")


@pytest.fixture
def sockets_share_the_test_transaction(monkeypatch):
    """Run the consumers' database calls inside this test's transaction.

    They already run on this thread (async_to_sync from a sync test); Channels also closes
    "old" connections around each call, which would end the test's transaction. Socket test
    modules use it for every test (``pytestmark``); helpers: chat/tests/sockets.py.
    """
    monkeypatch.setattr("channels.db.close_old_connections", lambda: None)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Call a service from an async test as if its transaction committed (events go out)."""
    from channels.db import database_sync_to_async

    def call(service, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return service(**kwargs)

    return database_sync_to_async(call)


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def redis_layer(settings):
    """Use the real Redis channel layer (and an empty test database in Redis)."""
    import redis
    from channels.layers import channel_layers

    from jtchat.testing import redis_test_url

    url = redis_test_url()
    redis.Redis.from_url(url).flushdb()
    settings.CHANNEL_LAYERS = {
        # The production layer (jtchat/settings.py), so tests and server processes agree.
        "default": {
            "BACKEND": "chat.live.layers.SharedDecodingPubSubChannelLayer",
            "CONFIG": {"hosts": [url], "prefix": "jtchat" + (url.rsplit("/", 1)[-1] or "0")},
        }
    }
    channel_layers.backends.clear()
    yield url
    channel_layers.backends.clear()


@pytest.fixture
def live_asgi_server(transactional_db, redis_layer, tmp_path):
    """A real ASGI server process (HTTP + WebSockets) sharing this test's database and Redis.

    Services called in the test publish through Redis, so the server's sockets receive them.
    """
    from jtchat.testing import start_asgi_server

    server = start_asgi_server(redis_layer, tmp_path)
    yield server
    server.stop()


@pytest.fixture
def browser(monkeypatch):
    """Headless Chromium driven by Playwright.

    Playwright's sync API keeps an event loop in this thread, so the test's ORM calls are
    allowed beside it (Django refuses them there unless told the synchronous use is
    intended); the connections they open are not the ones pytest-django closes, so they are
    closed here, or PostgreSQL could not drop the test database.
    """
    import os

    from django.db import connections

    from jtchat.testing import CHROMIUM, skip_or_fail

    if not os.path.exists(CHROMIUM):
        skip_or_fail(f"{CHROMIUM} not installed")
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--no-first-run",
            ],
        )
        yield instance
        instance.close()
    connections.close_all()


@pytest.fixture(scope="session", autouse=True)
def _uploaded_files_removed_after_the_run():
    """The run's MEDIA_ROOT (jtchat/settings_test.py: a folder of its own) goes at its end."""
    import shutil

    from django.conf import settings

    yield
    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)
