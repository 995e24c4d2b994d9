"""Writing fake chats fast: COPY on PostgreSQL (psycopg 3), large bulk_create batches elsewhere
(chat/seeding). Ids are reserved first, so that a chat can point at its last read message."""

from django.db import connection, models
from django.db.models.expressions import DatabaseDefault

from chat.models import ChatMessage, ChatSession

Status = ChatSession.Status
Author = ChatMessage.Author

MESSAGE_COLUMNS = [
    "id", "session_id", "author", "agent_id", "content", "created_at", "response_seconds", "is_internal",
]  # fmt: skip
COPY_CHUNK = 5000
MESSAGE_FIELD_NAMES = [
    "id", "session", "author", "agent", "content", "created_at", "response_seconds", "is_internal",
]  # fmt: skip
COPY_NULL = "\\N"
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def escape_copy_text(value: str) -> str:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(COPY_ESCAPES)
    return value


def copy_text_converter(field):
    """A function turning one Python value into COPY's text format for this field.

    Faster than psycopg's ``write_row`` for a million rows because the type is known per
    column instead of looked up per value.
    """
    kind = field.get_internal_type()
    if kind == "DateTimeField":
        return lambda value: COPY_NULL if value is None else value.isoformat()
    if kind == "BooleanField":
        return lambda value: COPY_NULL if value is None else ("t" if value else "f")
    if kind in ("CharField", "TextField", "EmailField", "SlugField", "URLField"):
        return lambda value: COPY_NULL if value is None else escape_copy_text(value)
    return lambda value: COPY_NULL if value is None else str(value)


def written(field) -> bool:
    """Whether the rows carry a value for ``field`` (not a generated column, nor one left to
    its database default)."""
    return not isinstance(field, models.GeneratedField) and not isinstance(
        field.get_default(), DatabaseDefault
    )


class Writer:
    """Gives the rows their ids (so that a chat can point at its last read message), then
    hands them to ``write_rows``."""

    def __init__(self):
        self.session_fields = [
            f for f in ChatSession._meta.concrete_fields if f.column != "id" and written(f)
        ]
        # Columns this command does not fill (added by later migrations) get their default;
        # those left to the database (a db_default, a generated column) are not named at all.
        self.message_extra = [
            f for f in ChatMessage._meta.concrete_fields if f.column not in MESSAGE_COLUMNS and written(f)
        ]
        self.message_tail = [None if f.null else f.get_default() for f in self.message_extra]
        self.session_defaults = {
            f.attname: (None if f.null else f.get_default()) for f in self.session_fields
        }

    def write(self, built) -> None:
        sessions, message_lists = built
        session_ids = self.reserve_ids(ChatSession, len(sessions))
        message_ids = iter(self.reserve_ids(ChatMessage, sum(len(items) for items in message_lists)))
        session_rows, message_rows = [], []
        for session_id, session, items in zip(session_ids, sessions, message_lists, strict=True):
            last_agent_message = last_message = 0
            for author, agent_id, content, created_at, response, internal in items:
                message_id = next(message_ids)
                last_message = message_id
                if author == Author.AGENT:
                    last_agent_message = message_id
                message_rows.append(
                    (
                        message_id,
                        session_id,
                        author,
                        agent_id,
                        content,
                        created_at,
                        response,
                        internal,
                        *self.message_tail,
                    )
                )
            if session["assigned_agent_id"]:
                read = last_message if session["status"] == Status.ENDED else last_agent_message
                session["agent_read_message_id"] = read
            values = {**self.session_defaults, **session}
            session_rows.append([session_id, *(values[f.attname] for f in self.session_fields)])
        self.write_rows(session_rows, message_rows)

    def reserve_ids(self, model, count: int) -> list[int]:
        raise NotImplementedError

    def write_rows(self, session_rows: list, message_rows: list) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        pass


class PostgresCopyWriter(Writer):
    def reserve_ids(self, model, count: int) -> list[int]:
        if count == 0:
            return []
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [model._meta.db_table, count],
            )
            return [row[0] for row in cursor.fetchall()]

    def write_rows(self, session_rows: list, message_rows: list) -> None:
        session_fields = [ChatSession._meta.pk, *self.session_fields]
        message_fields = [ChatMessage._meta.get_field(name) for name in MESSAGE_FIELD_NAMES]
        message_fields += self.message_extra
        session_converters = [copy_text_converter(f) for f in session_fields]
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(self._copy_statement(ChatSession, session_fields)) as copy:
                for start in range(0, len(session_rows), COPY_CHUNK):
                    copy.write(
                        "".join(
                            "\t".join(
                                [
                                    convert(value)
                                    for convert, value in zip(session_converters, row, strict=True)
                                ]
                            )
                            + "\n"
                            for row in session_rows[start : start + COPY_CHUNK]
                        )
                    )
            with raw.copy(self._copy_statement(ChatMessage, message_fields)) as copy:
                for start in range(0, len(message_rows), COPY_CHUNK):
                    copy.write(self._message_lines(message_rows[start : start + COPY_CHUNK]))

    @staticmethod
    def _copy_statement(model, fields) -> str:
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        return f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"

    def _message_lines(self, rows) -> str:
        """Message rows in COPY text format, one f-string per row: the hot path (a million rows)."""
        null = COPY_NULL
        tail = "".join(
            "\t" + copy_text_converter(f)(value)
            for f, value in zip(self.message_extra, self.message_tail, strict=True)
        )
        return "".join(
            [
                f"{message_id}\t{session_id}\t{author}\t{null if agent_id is None else agent_id}\t"
                f"{escape_copy_text(content)}\t{created_at.isoformat()}\t"
                f"{null if response is None else response}\t{'t' if internal else 'f'}{tail}\n"
                for (
                    message_id,
                    session_id,
                    author,
                    agent_id,
                    content,
                    created_at,
                    response,
                    internal,
                    *_,
                ) in rows
            ]
        )

    def finish(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {ChatSession._meta.db_table}")
            cursor.execute(f"ANALYZE {ChatMessage._meta.db_table}")


class BulkCreateWriter(Writer):
    """Other databases (SQLite): ids after the current highest (the transaction holds the
    write lock), then bulk_create in large batches."""

    BATCH = 2000

    def reserve_ids(self, model, count: int) -> list[int]:
        highest = model.objects.order_by("-id").values_list("id", flat=True).first() or 0
        return list(range(highest + 1, highest + 1 + count))

    def write_rows(self, session_rows: list, message_rows: list) -> None:
        session_names = ["id"] + [f.attname for f in self.session_fields]
        message_names = MESSAGE_COLUMNS + [f.attname for f in self.message_extra]
        ChatSession.objects.bulk_create(
            [ChatSession(**dict(zip(session_names, row, strict=True))) for row in session_rows],
            batch_size=self.BATCH,
        )
        ChatMessage.objects.bulk_create(
            [ChatMessage(**dict(zip(message_names, row, strict=True))) for row in message_rows],
            batch_size=self.BATCH,
        )
