"""PostgreSQL indexes for the admin inbox (chat.selectors.inbox_sessions / inbox_search).

- chat_session_inbox_order_idx: the inbox's ORDER BY, expression for expression, so that
  the first page is read from the index and stops after one page instead of sorting every
  chat. The expressions must stay identical to selectors.INBOX_ORDERING (a test checks
  the plan).
- chat_message_content_trgm_idx: a trigram index for the message-text search (Django's
  icontains is UPPER(content) LIKE UPPER('%word%')). pg_trgm is a trusted extension
  (PostgreSQL 13+), so the database owner can create it; where it cannot, the search
  still works, by scanning.

SQLite (the embedded default) keeps its plain indexes: nothing here applies to it.
"""

import logging

from django.db import migrations, transaction

logger = logging.getLogger(__name__)

INBOX_ORDER_INDEX = """
CREATE INDEX IF NOT EXISTS chat_session_inbox_order_idx ON chat_chatsession (
    (CASE WHEN status = 'waiting' THEN 0 WHEN status = 'active' THEN 1 ELSE 2 END),
    (CASE WHEN status = 'waiting' THEN COALESCE(waiting_since, started_at)
          WHEN status = 'active' THEN waiting_since
          ELSE NULL END) NULLS LAST,
    (COALESCE(last_message_at, started_at)) DESC,
    id DESC
)
"""
CONTENT_TRGM_INDEX = """
CREATE INDEX IF NOT EXISTS chat_message_content_trgm_idx
    ON chat_chatmessage USING gin (UPPER(content) gin_trgm_ops)
"""


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(INBOX_ORDER_INDEX)
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            schema_editor.execute(CONTENT_TRGM_INDEX)
    except Exception as exc:  # noqa: BLE001 (an optional speed-up; the search works without it)
        logger.warning("pg_trgm unavailable, message search will scan: %s", exc)


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS chat_message_content_trgm_idx")
    schema_editor.execute("DROP INDEX IF EXISTS chat_session_inbox_order_idx")


class Migration(migrations.Migration):
    dependencies = [("chat", "0003_analytics_weights")]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
