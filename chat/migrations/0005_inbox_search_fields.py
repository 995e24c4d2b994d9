"""A PostgreSQL trigram index for the inbox search on a chat's own fields.

chat.selectors.inbox_search matches the customer's name, e-mail and tracking code with
Django's icontains (UPPER(field) LIKE UPPER('%word%')) in a subquery of chat ids; one GIN
index over the three expressions lets PostgreSQL answer it with a bitmap OR instead of
testing every chat. Needs pg_trgm (see 0004); without it the search still works, by scanning.
SQLite: nothing to do.
"""

import logging

from django.db import migrations, transaction

logger = logging.getLogger(__name__)

SEARCH_FIELDS_INDEX = """
CREATE INDEX IF NOT EXISTS chat_session_search_trgm_idx ON chat_chatsession USING gin (
    UPPER(customer_name) gin_trgm_ops,
    UPPER(customer_email) gin_trgm_ops,
    UPPER(tracking_code) gin_trgm_ops
)
"""


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            schema_editor.execute(SEARCH_FIELDS_INDEX)
    except Exception as exc:  # noqa: BLE001 (an optional speed-up; the search works without it)
        logger.warning("pg_trgm unavailable, the inbox search will scan: %s", exc)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS chat_session_search_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [("chat", "0004_inbox_indexes")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
