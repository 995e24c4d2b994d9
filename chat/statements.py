"""Hand-written SQL for the product's most frequent write: a customer's message.

Only :mod:`chat.services` uses this module. A customer's message stamps its chat (the time of
the last message and, unless the chat already waits for an answer, the start of the wait)
and stores the message, and only while the chat is open. Written with the ORM that is a
transaction of a locking read and two writes: five round trips to the database with BEGIN
and COMMIT. Here it is:

* on PostgreSQL, one statement: a data-modifying ``WITH`` that updates the open chat and
  inserts the message from the updated row. A single statement is atomic by itself, so it
  runs without BEGIN/COMMIT (in autocommit): one round trip. A retried ``client_id`` breaks
  the unique constraint and the whole statement, chat stamp included, takes no effect.
* elsewhere (SQLite, which has no data-modifying ``WITH``), a transaction of a conditional
  ``UPDATE … RETURNING`` and the INSERT: the UPDATE holds the chat's row lock until commit,
  as ``select_for_update`` would, and hands back the chat as it now is.

Both return the chat as updated and the stored message, built with the same database
converters the ORM applies; or None when the chat does not exist or has ended.
"""

from contextlib import nullcontext

from django.db import connection, transaction

from .models import ChatMessage, ChatSession

_ENDED = ChatSession.Status.ENDED


def post_to_open_chat(
    *, session_pk: int | None, session_key, message: ChatMessage, now
) -> tuple[ChatSession, ChatMessage] | None:
    """Stamp the open chat (by primary key, else by the customer's key) and store ``message``.

    ``message`` is an unsaved customer message with every field but its chat set.
    """
    update_sql, update_params = _stamp_open_chat_sql(session_pk, session_key, now)
    if connection.vendor == "postgresql":
        # Inside an outer transaction (the test suite, a caller's atomic block) a savepoint
        # keeps a duplicate client_id from breaking it; on its own the statement needs none.
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            return _stamp_and_insert(update_sql, update_params, message)
    with transaction.atomic():
        chat = _fetch_one(ChatSession, update_sql, update_params)
        if chat is None:
            return None
        message.session = chat
        message.save(force_insert=True)
        return chat, message


def _stamp_open_chat_sql(session_pk, session_key, now) -> tuple[str, list]:
    meta = ChatSession._meta
    quote = connection.ops.quote_name
    if session_pk is not None:
        key_field, key = meta.pk, session_pk
    else:
        key_field, key = meta.get_field("session_id"), session_key
    last, waiting = meta.get_field("last_message_at"), meta.get_field("waiting_since")
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {quote(last.column)} = %s, "
        f"{quote(waiting.column)} = COALESCE({quote(waiting.column)}, %s) "
        f"WHERE {quote(key_field.column)} = %s AND {quote(meta.get_field('status').column)} <> %s "
        f"RETURNING {_columns(ChatSession)}"
    )
    stamp = last.get_db_prep_value(now, connection)
    return sql, [stamp, stamp, key_field.get_db_prep_value(key, connection), _ENDED]


def _stamp_and_insert(update_sql: str, update_params: list, message: ChatMessage):
    """PostgreSQL: the stamp and the INSERT in one statement; the chat's row, then the message's."""
    quote = connection.ops.quote_name
    meta = ChatMessage._meta
    fields = _insert_fields()
    values, params = [], []
    for field in fields:
        if field.name == "session":
            values.append(f"chat.{quote(ChatSession._meta.pk.column)}")
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(field.pre_save(message, True), connection))
    sql = (
        f"WITH chat AS ({update_sql}), "
        f"message AS (INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"SELECT {', '.join(values)} FROM chat RETURNING {_columns(ChatMessage)}) "
        f"SELECT chat.*, message.* FROM chat, message"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*update_params, *params])
        row = cursor.fetchone()
    if row is None:
        return None
    width = len(ChatSession._meta.concrete_fields)
    chat = _instance(ChatSession, row[:width])
    stored = _instance(ChatMessage, row[width:])
    stored.session = chat
    return chat, stored


def _insert_fields():
    return [field for field in ChatMessage._meta.concrete_fields if not field.primary_key]


def _columns(model) -> str:
    quote = connection.ops.quote_name
    return ", ".join(quote(field.column) for field in model._meta.concrete_fields)


def _fetch_one(model, sql: str, params: list):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else _instance(model, row)


def _instance(model, row):
    """A model instance from a row of its concrete fields, converted as the ORM converts."""
    fields = model._meta.concrete_fields
    values = []
    for field, value in zip(fields, row, strict=True):
        column = field.get_col(model._meta.db_table)
        for converter in connection.ops.get_db_converters(column) + column.get_db_converters(connection):
            value = converter(value, column, connection)
        values.append(value)
    return model.from_db(connection.alias, [field.attname for field in fields], values)
