"""Fixtures of the chat tests that drive services and sockets together (helpers:
chat/tests/sockets.py)."""

import pytest
from channels.db import database_sync_to_async


@pytest.fixture
def sockets_share_the_test_transaction(monkeypatch):
    """Run the consumers' database calls inside this test's transaction.

    They already run on this thread (async_to_sync from a sync test); Channels also closes
    "old" connections around each call, which would end the test's transaction. Socket test
    modules use it for every test (``pytestmark``).
    """
    monkeypatch.setattr("channels.db.close_old_connections", lambda: None)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Call a service from an async test as if its transaction committed (events go out)."""

    def call(service, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return service(**kwargs)

    return database_sync_to_async(call)
