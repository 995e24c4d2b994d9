"""Bulk-add realistic fake chats (sessions and messages) for demos and benchmarks.

Chats follow the shape the services give real ones: the customer writes first, an agent
joins (a system message) and answers, the two alternate, and the chat ends with a system
message and often a rating; some customers give up before anyone answers. Timestamps follow
a working-day curve in local time; ``first_response_at``, ``waiting_since``,
``last_message_at``, ``response_seconds`` and ``issue`` are filled in as the services would.
``messages`` is the exact number of message rows added, system messages included.

PostgreSQL is fed through COPY (psycopg 3), ids reserved from the tables' sequences; other
databases get large ``bulk_create`` batches. Rows are written directly, not through the
services: this is test data, and a million service calls would take hours.

By concern: texts.py (what the chats say), generator.py (their shape), writers.py (COPY
and bulk_create). ``python manage.py seed_chats`` calls :func:`seed_chats`.
"""

import random
from datetime import date

from django.db import connection, transaction

from .generator import ChatGenerator, ensure_agents
from .writers import BulkCreateWriter, PostgresCopyWriter


def seed_chats(
    *,
    sessions: int,
    messages: int,
    first: date,
    last: date,
    agents: int,
    waiting: int,
    active: int,
    seed: int | None = None,
) -> list:
    """Add the chats in one transaction; returns the agents who answered them."""
    generator = ChatGenerator(rng=random.Random(seed), agents=ensure_agents(agents), first=first, last=last)
    writer = PostgresCopyWriter() if connection.vendor == "postgresql" else BulkCreateWriter()
    with transaction.atomic():
        for batch in generator.plan(sessions, messages, waiting, active):
            writer.write(generator.build(batch))
    writer.finish()
    return generator.agents
