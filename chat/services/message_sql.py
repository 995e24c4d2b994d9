"""Hand-written SQL for the product's most frequent write: a customer's message.

Only :mod:`chat.services.messages` uses this module. A customer's message stamps its chat (the time of
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
converters the ORM applies; or None when the chat does not exist or has ended. The SQL and
the converters are worked out from the models once per database, not per message.
"""

from contextlib import nullcontext
from dataclasses import dataclass
from functools import cache

from django.db import DEFAULT_DB_ALIAS, connections, transaction

from chat.models import ChatMessage, ChatSession

_ENDED = ChatSession.Status.ENDED


def post_to_open_chat(*, session_key, message: ChatMessage, now) -> tuple[ChatSession, ChatMessage] | None:
    """Stamp the open chat the customer's key opens and store ``message``.

    ``message`` is an unsaved customer message with every field but its chat set.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    plan = _plan(DEFAULT_DB_ALIAS, connection.vendor)
    stamp = plan.stamp_field.get_db_prep_value(now, connection)
    key = plan.key_field.get_db_prep_value(session_key, connection)
    update_params = [stamp, stamp, key, _ENDED]
    if plan.stamp_and_insert_sql:
        params = [
            field.get_db_prep_save(field.pre_save(message, True), connection) for field in plan.message_fields
        ]
        # Inside an outer transaction (the test suite, a caller's atomic block) a savepoint
        # keeps a duplicate client_id from breaking it; on its own the statement needs none.
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            row = _fetch_one(connection, plan.stamp_and_insert_sql, [*update_params, *params])
        if row is None:
            return None
        width = len(plan.chat.fields)
        chat, stored = plan.chat.instance(row[:width]), plan.message.instance(row[width:])
        stored.session = chat
        return chat, stored
    with transaction.atomic():
        row = _fetch_one(connection, plan.stamp_sql, update_params)
        if row is None:
            return None
        chat = plan.chat.instance(row)
        message.session = chat
        message.save(force_insert=True)
        return chat, message


@dataclass(frozen=True)
class _Rows:
    """Turns a row of a model's concrete fields into an instance, as the ORM would."""

    model: type
    alias: str
    fields: tuple
    attnames: list
    converters: tuple

    def instance(self, row):
        connection = connections[self.alias]
        values = list(row)
        for index, column, converters in self.converters:
            for converter in converters:
                values[index] = converter(values[index], column, connection)
        return self.model.from_db(self.alias, self.attnames, values)


@dataclass(frozen=True)
class _Plan:
    stamp_sql: str
    stamp_and_insert_sql: str  # "" where the database has no data-modifying WITH
    key_field: object
    stamp_field: object
    message_fields: list  # the INSERT's parameters, in order (the chat's id comes from the UPDATE)
    chat: _Rows
    message: _Rows


def _rows(model, alias: str) -> _Rows:
    connection = connections[alias]
    fields = tuple(model._meta.concrete_fields)
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        # Bound to this thread's connection, used by every thread: converters only read the
        # connection's settings (its time zone), never its session.
        found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if found:
            converters.append((index, column, tuple(found)))
    return _Rows(model, alias, fields, [field.attname for field in fields], tuple(converters))


@cache
def _plan(alias: str, vendor: str) -> _Plan:
    connection = connections[alias]
    quote = connection.ops.quote_name
    chats, messages = ChatSession._meta, ChatMessage._meta
    key_field = chats.get_field("session_id")
    last, waiting = chats.get_field("last_message_at"), chats.get_field("waiting_since")
    chat_columns = ", ".join(quote(field.column) for field in chats.concrete_fields)
    stamp_sql = (
        f"UPDATE {quote(chats.db_table)} SET {quote(last.column)} = %s, "
        f"{quote(waiting.column)} = COALESCE({quote(waiting.column)}, %s) "
        f"WHERE {quote(key_field.column)} = %s AND {quote(chats.get_field('status').column)} <> %s "
        f"RETURNING {chat_columns}"
    )
    insert_fields = [field for field in messages.concrete_fields if not field.primary_key]
    message_fields = [field for field in insert_fields if field.name != "session"]
    stamp_and_insert_sql = ""
    if vendor == "postgresql":
        values = ", ".join(
            f"chat.{quote(chats.pk.column)}" if field.name == "session" else "%s" for field in insert_fields
        )
        message_columns = ", ".join(quote(field.column) for field in messages.concrete_fields)
        stamp_and_insert_sql = (
            f"WITH chat AS ({stamp_sql}), "
            f"message AS (INSERT INTO {quote(messages.db_table)} "
            f"({', '.join(quote(field.column) for field in insert_fields)}) "
            f"SELECT {values} FROM chat RETURNING {message_columns}) "
            f"SELECT chat.*, message.* FROM chat, message"
        )
    return _Plan(
        stamp_sql=stamp_sql,
        stamp_and_insert_sql=stamp_and_insert_sql,
        key_field=key_field,
        stamp_field=last,
        message_fields=message_fields,
        chat=_rows(ChatSession, alias),
        message=_rows(ChatMessage, alias),
    )


def _fetch_one(connection, sql: str, params: list):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()
