"""This process's sockets in the presence store (chat/live/presence.py), and telling waiting
customers when the agents online change.

Each event loop with open sockets runs one :class:`ProcessPresence`: every heartbeat it
refreshes all of its sockets' entries in one round trip (not one timer per socket), and every
few seconds it reads who is online. When that changes — an agent opened their first admin
page, closed their last one, or another process died and its agents expired — it announces
the queue again (chat.live.announce.queue), because waiting customers' "agents available",
estimate and offline notice depend on it. Every process with sockets watches, so a process
dying is noticed by the others; each announces (the same snapshot twice is harmless).

The loop stops when the process has no socket left, and starts again with the next one.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref

from channels.db import database_sync_to_async

from . import presence

logger = logging.getLogger(__name__)

CHECK_SECONDS = 5.0  # how often a process reads who is online (at most)


def _announce_queue() -> None:
    from chat.live import announce

    announce.queue()  # outside a transaction: sent at once


class ProcessPresence:
    """The sockets of one event loop, kept in the presence store together."""

    def __init__(self):
        self.agents: dict[str, int] = {}  # socket (channel name) -> user id
        self.customers: dict[str, int] = {}  # socket -> chat id
        self.online: set[int] | None = None  # who was online at the last look
        self.task: asyncio.Task | None = None
        self.wake = asyncio.Event()
        self.refreshed_at = 0.0

    # --- sockets come and go ---------------------------------------------------------

    async def agent_connected(self, socket: str, user_id: int) -> None:
        store = presence.store()
        try:
            if self.online is None:
                self.online = await store.aonline_agent_ids(time.time())
            await store.arefresh({socket: user_id}, {}, time.time())
        except Exception:
            logger.warning("presence: could not record an agent socket", exc_info=True)
        self.agents[socket] = user_id
        self._run()
        if self.online is not None and user_id not in self.online:
            self.wake.set()  # tell waiting customers now, not at the next look

    async def agent_disconnected(self, socket: str) -> None:
        user_id = self.agents.pop(socket, None)
        if user_id is not None:
            try:
                await presence.store().aagent_gone(socket, user_id, time.time())
            except Exception:  # the entry expires by itself
                logger.warning("presence: could not record an agent leaving", exc_info=True)
        self._stop_if_idle()

    async def customer_connected(self, socket: str, session_pk: int) -> None:
        try:
            await presence.store().arefresh({}, {socket: session_pk}, time.time())
        except Exception:
            logger.warning("presence: could not record a customer socket", exc_info=True)
        self.customers[socket] = session_pk
        self._run()

    async def customer_disconnected(self, socket: str) -> None:
        session_pk = self.customers.pop(socket, None)
        if session_pk is not None:
            try:
                await presence.store().acustomer_gone(socket, session_pk)
            except Exception:
                logger.warning("presence: could not record a customer leaving", exc_info=True)
        self._stop_if_idle()

    # --- the loop ----------------------------------------------------------------------

    def _run(self) -> None:
        if self.task is None or self.task.done():
            self.task = asyncio.ensure_future(self._loop())

    def _stop_if_idle(self) -> None:
        if not self.agents and not self.customers and self.task is not None:
            self.task.cancel()
            self.task = None
            self.online = None

    async def _loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self.wake.wait(), min(CHECK_SECONDS, presence.heartbeat_seconds()))
            except TimeoutError:
                pass
            self.wake.clear()
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("presence: heartbeat failed; retrying", exc_info=True)

    async def tick(self) -> None:
        store = presence.store()
        now = time.time()
        if now - self.refreshed_at >= presence.heartbeat_seconds():
            await store.arefresh(dict(self.agents), dict(self.customers), now)
            self.refreshed_at = now
        online = await store.aonline_agent_ids(time.time())
        changed = self.online is not None and online != self.online
        self.online = online
        if changed:
            await database_sync_to_async(_announce_queue)()


_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ProcessPresence] = weakref.WeakKeyDictionary()


def process_presence() -> ProcessPresence:
    """The running event loop's :class:`ProcessPresence`."""
    loop = asyncio.get_running_loop()
    found = _by_loop.get(loop)
    if found is None:
        found = _by_loop[loop] = ProcessPresence()
    return found
