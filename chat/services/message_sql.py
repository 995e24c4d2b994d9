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
  ``UPDATE … RETURNING`` and the ORM's own INSERT (``save()``): the UPDATE holds the chat's
  row lock until commit, as ``select_for_update`` would, and hands back the chat as it now is.

The statement is derived from the models' fields as they are when it runs (worked out once
per set of fields, not per message), as the ORM's INSERT would be: a field with a Python
``default`` sends its value; a field left to its ``db_default`` is not named, so PostgreSQL
applies its default; a ``GeneratedField`` is never written. Every column of both rows
comes back (``RETURNING``) and goes through the database converters the ORM applies, so
the chat and the message returned hold what was stored, defaults and generated values
included. A message with any other SQL expression for a value takes the ORM path.
chat/tests/test_message_sql.py adds such fields to ChatMessage and posts messages.
"""

from dataclasses import dataclass
from functools import lru_cache

from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.models.expressions import DatabaseDefault

from chat.models import ChatMessage, ChatSession

_ENDED = ChatSession.Status.ENDED


def post_to_open_chat(*, session_key, message: ChatMessage, now) -> tuple[ChatSession, ChatMessage] | None:
    """Stamp the open chat the customer's key opens and store ``message``.

    ``message`` is an unsaved customer message with every field but its chat set. Returns
    the chat as updated and the stored message, or None when the chat does not exist or has
    ended.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    chat_fields = tuple(ChatSession._meta.concrete_fields)
    stamp = _stamp_statement(DEFAULT_DB_ALIAS, chat_fields)
    update_params = [
        stamp.stamp_field.get_db_prep_value(now, connection),
        stamp.stamp_field.get_db_prep_value(now, connection),
        stamp.key_field.get_db_prep_value(session_key, connection),
        _ENDED,
    ]
    inserted = _inserted_values(message) if connection.vendor == "postgresql" else None
    if inserted is not None:
        fields, values = inserted
        plan = _stamp_and_insert_statement(
            DEFAULT_DB_ALIAS, chat_fields, tuple(ChatMessage._meta.concrete_fields), fields
        )
        params = [
            field.get_db_prep_save(value, connection) for field, value in zip(fields, values, strict=True)
        ]
        # Inside an outer transaction (the test suite, a caller's atomic block) a savepoint
        # keeps a duplicate client_id from breaking it; on its own the statement needs none.
        if connection.in_atomic_block:
            with transaction.atomic():
                row = _fetch_one(connection, plan.sql, [*update_params, *params])
        else:
            row = _fetch_one(connection, plan.sql, [*update_params, *params])
        if row is None:
            return None
        width = len(plan.chat.fields)
        chat, stored = plan.chat.instance(row[:width]), plan.message.instance(row[width:])
        stored.session = chat
        return chat, stored
    with transaction.atomic():
        row = _fetch_one(connection, stamp.sql, update_params)
        if row is None:
            return None
        chat = stamp.chat.instance(row)
        message.session = chat
        message.save(force_insert=True)
        return chat, message


def _inserted_values(message: ChatMessage) -> tuple[tuple, list] | None:
    """The fields the INSERT names and their values, as the ORM would insert ``message``.

    Not named: the primary key, the chat (taken from the updated row), generated fields, and
    fields left to their ``db_default``. None if a value is another SQL expression: the ORM
    path stores that message.
    """
    fields, values = [], []
    for field in ChatMessage._meta.concrete_fields:
        if field.primary_key or field.name == "session" or isinstance(field, models.GeneratedField):
            continue
        value = field.pre_save(message, True)
        if isinstance(value, DatabaseDefault):
            continue
        if hasattr(value, "resolve_expression"):
            return None
        fields.append(field)
        values.append(value)
    return tuple(fields), values


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


def _rows(model, alias: str, fields: tuple) -> _Rows:
    connection = connections[alias]
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        # Bound to this thread's connection, used by every thread: converters only read the
        # connection's settings (its time zone), never its session.
        found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if found:
            converters.append((index, column, tuple(found)))
    return _Rows(model, alias, fields, [field.attname for field in fields], tuple(converters))


@dataclass(frozen=True)
class _Stamp:
    sql: str  # UPDATE the open chat … RETURNING every column
    key_field: models.Field
    stamp_field: models.Field
    chat: _Rows


@lru_cache(maxsize=16)
def _stamp_statement(alias: str, chat_fields: tuple) -> _Stamp:
    quote = connections[alias].ops.quote_name
    chats = ChatSession._meta
    key_field = chats.get_field("session_id")
    last, waiting = chats.get_field("last_message_at"), chats.get_field("waiting_since")
    returning = ", ".join(quote(field.column) for field in chat_fields)
    sql = (
        f"UPDATE {quote(chats.db_table)} SET {quote(last.column)} = %s, "
        f"{quote(waiting.column)} = COALESCE({quote(waiting.column)}, %s) "
        f"WHERE {quote(key_field.column)} = %s AND {quote(chats.get_field('status').column)} <> %s "
        f"RETURNING {returning}"
    )
    return _Stamp(sql, key_field, last, _rows(ChatSession, alias, chat_fields))


@dataclass(frozen=True)
class _StampAndInsert:
    sql: str
    chat: _Rows
    message: _Rows


@lru_cache(maxsize=16)
def _stamp_and_insert_statement(
    alias: str, chat_fields: tuple, message_fields: tuple, inserted: tuple
) -> _StampAndInsert:
    """PostgreSQL: the chat's UPDATE and the message's INSERT in one data-modifying WITH.

    The parameters: the UPDATE's four, then one per field of ``inserted``.
    """
    quote = connections[alias].ops.quote_name
    chats, messages = ChatSession._meta, ChatMessage._meta
    stamp = _stamp_statement(alias, chat_fields)
    session = messages.get_field("session")
    columns = [quote(session.column), *(quote(field.column) for field in inserted)]
    values = [f"chat.{quote(chats.pk.column)}", *("%s" for _ in inserted)]
    returning = ", ".join(quote(field.column) for field in message_fields)
    sql = (
        f"WITH chat AS ({stamp.sql}), "
        f"message AS (INSERT INTO {quote(messages.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM chat RETURNING {returning}) "
        f"SELECT chat.*, message.* FROM chat, message"
    )
    return _StampAndInsert(sql, stamp.chat, _rows(ChatMessage, alias, message_fields))


def _fetch_one(connection, sql: str, params: list):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()
