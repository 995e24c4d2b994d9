"""Presence: who is here now — agents' and customers' open sockets, across every process.

An agent is *online* while at least one of their agent sockets (any admin chat page) is
open; a customer is *connected* while their chat's socket is open or their page polls. Each
process writes its own sockets here (chat/live/heartbeat.py): when one opens, every
``heartbeat_seconds()`` while it stays open (all of the process's sockets in one round
trip), and when it closes. An entry expires ``ttl_seconds()`` (``CHAT_PRESENCE_TTL_SECONDS``,
45 s) after its last heartbeat, so a crashed process's agents drop out within the TTL, and a
killed browser as soon as the server sees its socket close. An agent's closed socket still
counts for ``grace_seconds()`` (10 s), so that going from one admin page to the next never
shows them offline in between; a customer's counts for nothing once closed.

Where: Redis when ``REDIS_URL`` is set (every process and machine shares it), else this
process's memory (``make run`` is one process). Expiry times are written by one machine and
compared by another: the machines' clocks must agree within a few seconds (NTP does).

Public API, for screens, selectors and metrics exporters (all synchronous, one Redis round
trip each unless said otherwise):

    online_agent_ids() -> set[int]            who is online: the queue path's read
    online_agents() -> dict[int, datetime]    user id -> online since (aware, UTC); two trips
    is_agent_online(user_id) -> bool
    customer_connected(session_pk) -> bool    a socket (or a poll) of that chat is live now
    available_agents_count() -> int           online, allowed to answer chats (the access
                                              policy's REPLY), accepting (*Pausar* off) and
                                              under CHAT_AGENT_MAX_ACTIVE_CHATS; also reads
                                              the database (chat.selectors.agent_counts)

Reads raise :class:`PresenceUnavailable` when Redis does not answer; chat.selectors treats
that as nobody online, so customers are asked for an e-mail rather than promised a wait.
"Since" survives page changes and reloads: it is when the agent came online after having
been offline for longer than the TTL.

Writes: only chat/live/heartbeat.py (sockets) and :func:`customer_polled` (the customer API's
catch-up, which a page without a socket polls).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings

logger = logging.getLogger(__name__)

KEY_PREFIX = "jtchat:presence:"
AGENTS_KEY = KEY_PREFIX + "agents"  # sorted set: "<user id>:<socket>" scored by expiry time
POLL = "poll"  # the customer-connection name a polling page uses


class PresenceUnavailable(Exception):
    """The presence store (Redis) did not answer."""


def ttl_seconds() -> float:
    return float(settings.CHAT_PRESENCE_TTL_SECONDS)


def heartbeat_seconds() -> float:
    return ttl_seconds() / 3


def grace_seconds() -> float:
    return min(10.0, ttl_seconds() / 3)


def _since_key(user_id: int) -> str:
    return f"{KEY_PREFIX}since:{user_id}"


def _customer_key(session_pk: int) -> str:
    return f"{KEY_PREFIX}customer:{session_pk}"


def _member(user_id: int, socket: str) -> str:
    return f"{user_id}:{socket}"


def _user_of(member: bytes | str) -> int:
    text = member.decode() if isinstance(member, bytes) else member
    return int(text.split(":", 1)[0])


# --- stores ----------------------------------------------------------------------------


@dataclass
class MemoryStore:
    """One process's presence (no REDIS_URL): the same rules as Redis, in dicts."""

    agents: dict[str, tuple[int, float]] = field(default_factory=dict)  # member -> (user, expiry)
    since: dict[int, tuple[float, float]] = field(default_factory=dict)  # user -> (since, expiry)
    customers: dict[int, dict[str, float]] = field(default_factory=dict)  # chat -> socket -> expiry
    lock: threading.Lock = field(default_factory=threading.Lock)

    def refresh(self, agents: dict[str, int], customers: dict[str, int], now: float) -> None:
        expiry, since_expiry = now + ttl_seconds(), now + ttl_seconds() + grace_seconds()
        with self.lock:
            for socket, user_id in agents.items():
                self.agents[_member(user_id, socket)] = (user_id, expiry)
                started = self.since.get(user_id)
                self.since[user_id] = (
                    started[0] if started and started[1] > now else now,
                    since_expiry,
                )
            for socket, session_pk in customers.items():
                self.customers.setdefault(session_pk, {})[socket] = expiry
            for member, (_user, until) in list(self.agents.items()):
                if until <= now:
                    del self.agents[member]

    def agent_gone(self, socket: str, user_id: int, now: float) -> None:
        with self.lock:
            member = _member(user_id, socket)
            if member in self.agents:
                self.agents[member] = (user_id, now + grace_seconds())

    def customer_gone(self, socket: str, session_pk: int) -> None:
        with self.lock:
            sockets = self.customers.get(session_pk, {})
            sockets.pop(socket, None)
            if not sockets:
                self.customers.pop(session_pk, None)

    def online_agent_ids(self, now: float) -> set[int]:
        with self.lock:
            return {user_id for user_id, until in self.agents.values() if until > now}

    def online_since(self, user_ids: set[int], now: float) -> dict[int, float]:
        with self.lock:
            entries = {user_id: self.since.get(user_id) for user_id in user_ids}
        return {user_id: entry[0] for user_id, entry in entries.items() if entry and entry[1] > now}

    def customer_connected(self, session_pk: int, now: float) -> bool:
        with self.lock:
            return any(until > now for until in self.customers.get(session_pk, {}).values())

    def clear(self) -> None:
        with self.lock:
            self.agents.clear()
            self.since.clear()
            self.customers.clear()

    # the sockets' side, as RedisStore has it

    async def arefresh(self, agents: dict[str, int], customers: dict[str, int], now: float) -> None:
        self.refresh(agents, customers, now)

    async def aagent_gone(self, socket: str, user_id: int, now: float) -> None:
        self.agent_gone(socket, user_id, now)

    async def acustomer_gone(self, socket: str, session_pk: int) -> None:
        self.customer_gone(socket, session_pk)

    async def aonline_agent_ids(self, now: float) -> set[int]:
        return self.online_agent_ids(now)


class RedisStore:
    """Presence in Redis, shared by every process: see the module's docstring for the keys."""

    def __init__(self, url: str):
        import redis

        self.url = url
        self.client = redis.Redis.from_url(
            url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30
        )
        self._async_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def async_client(self):
        """One asyncio client per event loop (a client cannot cross loops)."""
        import redis.asyncio

        loop = asyncio.get_running_loop()
        client = self._async_clients.get(loop)
        if client is None:
            client = redis.asyncio.Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)
            self._async_clients[loop] = client
        return client

    @staticmethod
    def queue_refresh(pipe, agents: dict[str, int], customers: dict[str, int], now: float) -> None:
        ttl, grace = ttl_seconds(), grace_seconds()
        if agents:
            pipe.zadd(AGENTS_KEY, {_member(user_id, socket): now + ttl for socket, user_id in agents.items()})
            for user_id in set(agents.values()):
                # Kept while any socket of theirs lives (and a grace after): "online since".
                pipe.set(_since_key(user_id), repr(now), nx=True, ex=int(ttl + grace) + 1)
                pipe.expire(_since_key(user_id), int(ttl + grace) + 1)
        for socket, session_pk in customers.items():
            pipe.hset(_customer_key(session_pk), socket, repr(now + ttl))
            pipe.expire(_customer_key(session_pk), int(ttl) + 1)
        pipe.zremrangebyscore(AGENTS_KEY, "-inf", now)

    # synchronous (request threads)

    def refresh(self, agents: dict[str, int], customers: dict[str, int], now: float) -> None:
        pipe = self.client.pipeline(transaction=False)
        self.queue_refresh(pipe, agents, customers, now)
        self._run(pipe.execute)

    def online_agent_ids(self, now: float) -> set[int]:
        members = self._run(lambda: self.client.zrangebyscore(AGENTS_KEY, now, "+inf"))
        return {_user_of(member) for member in members}

    def online_since(self, user_ids: set[int], now: float) -> dict[int, float]:
        ordered = sorted(user_ids)
        if not ordered:
            return {}
        values = self._run(lambda: self.client.mget([_since_key(user_id) for user_id in ordered]))
        return {user_id: float(value) for user_id, value in zip(ordered, values, strict=True) if value}

    def customer_connected(self, session_pk: int, now: float) -> bool:
        values = self._run(lambda: self.client.hvals(_customer_key(session_pk)))
        return any(float(value) > now for value in values)

    @staticmethod
    def _run(call):
        try:
            return call()
        except Exception as exc:  # redis errors, timeouts, refused connections
            raise PresenceUnavailable(str(exc)) from exc

    # asynchronous (the sockets' event loop)

    async def arefresh(self, agents: dict[str, int], customers: dict[str, int], now: float) -> None:
        pipe = self.async_client().pipeline(transaction=False)
        self.queue_refresh(pipe, agents, customers, now)
        await pipe.execute()

    async def aagent_gone(self, socket: str, user_id: int, now: float) -> None:
        await self.async_client().zadd(AGENTS_KEY, {_member(user_id, socket): now + grace_seconds()}, xx=True)

    async def acustomer_gone(self, socket: str, session_pk: int) -> None:
        await self.async_client().hdel(_customer_key(session_pk), socket)

    async def aonline_agent_ids(self, now: float) -> set[int]:
        members = await self.async_client().zrangebyscore(AGENTS_KEY, now, "+inf")
        return {_user_of(member) for member in members}


_memory = MemoryStore()
_redis_stores: dict[str, RedisStore] = {}
_redis_lock = threading.Lock()


def store() -> MemoryStore | RedisStore:
    url = settings.REDIS_URL
    if not url:
        return _memory
    found = _redis_stores.get(url)
    if found is None:
        with _redis_lock:
            found = _redis_stores.setdefault(url, RedisStore(url))
    return found


def reset_memory() -> None:
    """Forget the in-memory presence (tests)."""
    _memory.clear()


# --- the public API ------------------------------------------------------------------


def online_agent_ids() -> set[int]:
    """Ids of the agents with a live socket (one Redis round trip)."""
    return store().online_agent_ids(time.time())


def online_agents() -> dict[int, datetime]:
    """Online agents' ids, each with when they came online (aware, UTC)."""
    now = time.time()
    current = store()
    ids = current.online_agent_ids(now)
    since = current.online_since(ids, now)
    return {user_id: datetime.fromtimestamp(since.get(user_id, now), tz=UTC) for user_id in ids}


def is_agent_online(user_id: int) -> bool:
    return user_id in online_agent_ids()


def customer_connected(session_pk: int) -> bool:
    """Whether chat ``session_pk``'s customer has a live socket (or polled within the TTL)."""
    return store().customer_connected(session_pk, time.time())


def customer_polled(session_pk: int) -> None:
    """The customer's page fetched its messages without a socket: it is here for a TTL.
    Never raises: presence is best effort, the request goes on."""
    try:
        store().refresh({}, {POLL: session_pk}, time.time())
    except PresenceUnavailable:
        logger.warning("presence: could not record a poll", exc_info=True)


def available_agents_count() -> int:
    """Agents who can take a chat now (see the module's docstring)."""
    from chat.selectors import agent_counts

    return agent_counts().available
