"""Bulk-add realistic fake chats (sessions and messages) for demos and benchmarks.

Chats follow the shape the services give real ones: the customer writes first, an agent
joins (a system message) and answers, the two alternate, and the chat ends with a system
message and often a rating; some customers give up before anyone answers. Timestamps follow
a working-day curve in local time; ``first_response_at``, ``waiting_since``,
``last_message_at``, ``response_seconds`` and ``issue`` are filled in as the services would.
``--messages`` is the exact number of message rows added, system messages included.

PostgreSQL is fed through COPY (psycopg 3), ids reserved from the tables' sequences; other
databases get large ``bulk_create`` batches. Rows are written directly, not through the
services: this is test data, and a million service calls would take hours.
"""

import math
import random
import time
import uuid
from bisect import bisect
from datetime import date, datetime, timedelta
from itertools import accumulate

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from chat.analytics.days import local_day_bounds
from chat.classifier import classify
from chat.models import ChatMessage, ChatSession, Issue

from .compute_daily_metrics import parse_day

Status = ChatSession.Status
Author = ChatMessage.Author

FIRST_NAMES = [
    "Maria", "João", "Ana", "Pedro", "Juliana", "Lucas", "Fernanda", "Rafael", "Camila", "Bruno",
    "Patrícia", "Marcos", "Larissa", "Diego", "Aline", "Thiago", "Beatriz", "Gustavo", "Renata",
    "Felipe", "Luana", "Carlos", "Vitória", "José", "Letícia", "Mateus", "Gabriela", "Rodrigo",
]  # fmt: skip
LAST_NAMES = [
    "Silva", "Santos", "Oliveira", "Souza", "Lima", "Pereira", "Costa", "Rodrigues", "Almeida",
    "Nascimento", "Ferreira", "Araújo", "Carvalho", "Gomes", "Ribeiro", "Barbosa", "Rocha",
]  # fmt: skip
FIRST_MESSAGES = {
    Issue.TRACKING: [
        "Olá, cadê minha encomenda? O rastreio não atualiza há três dias.",
        "Boa tarde, qual o status do pedido {code}?",
        "kd meu pedido? comprei faz uma semana",
        "Não consigo rastrear o código {code}, aparece objeto não encontrado.",
    ],
    Issue.DELAY: [
        "Meu pedido está atrasado, o prazo era ontem.",
        "O entregador não passou e o app diz destinatário ausente, mas eu estava em casa.",
        "Consta entregue mas não recebi nada.",
        "Ainda não chegou e já passou do prazo de entrega.",
    ],
    Issue.ADDRESS: [
        "Preciso alterar o endereço de entrega, mudei de casa.",
        "Coloquei o CEP errado, dá pra corrigir?",
        "Faltou o complemento no endereço, é apartamento 42.",
    ],
    Issue.DAMAGE: [
        "A encomenda veio quebrada e a caixa amassada.",
        "Meu pacote sumiu, o rastreio diz extraviado.",
        "O produto chegou molhado e com a caixa aberta.",
    ],
    Issue.RETURN: [
        "Quero devolver o produto, como faço?",
        "Quero meu dinheiro de volta, o pedido voltou para o remetente.",
        "Preciso trocar o produto, veio no tamanho errado.",
    ],
    Issue.BILLING: [
        "Me cobraram duas vezes pelo frete.",
        "Paguei a taxa de importação e o pedido não foi liberado.",
        "Recebi um boleto de cobrança que não reconheço.",
    ],
    Issue.SERVICE: [
        "Ninguém responde meus e-mails, quero falar com um atendente.",
        "Quero registrar uma reclamação sobre o atendimento.",
    ],
    Issue.OTHER: [
        "Olá, bom dia!",
        "Oi, preciso de ajuda.",
        "Vocês entregam aos sábados?",
    ],
}
ISSUE_WEIGHTS = {
    Issue.TRACKING: 30,
    Issue.DELAY: 25,
    Issue.ADDRESS: 10,
    Issue.DAMAGE: 10,
    Issue.RETURN: 8,
    Issue.BILLING: 7,
    Issue.SERVICE: 5,
    Issue.OTHER: 5,
}
CUSTOMER_FOLLOW_UPS = [
    "O código é {code}.",
    "Certo, obrigado.",
    "Mas quando chega?",
    "Pode verificar, por favor?",
    "Já faz uma semana...",
    "Ok, aguardo.",
    "Entendi.",
    "Meu CPF é o mesmo do cadastro.",
]
AGENT_LINES = [
    "Olá! Vou verificar o seu pedido, um momento por favor.",
    "Encontrei a sua encomenda, ela está em rota de entrega.",
    "Pode me informar o código de rastreio, por favor?",
    "Já registrei a sua solicitação, o prazo de retorno é de 2 dias úteis.",
    "Abri uma ocorrência para a sua encomenda.",
    "Obrigado pela paciência! Posso ajudar em algo mais?",
    "O endereço foi atualizado.",
]
INTERNAL_NOTES = [
    "Cliente já abriu chamado por e-mail.",
    "Verificar com a base de Cajamar.",
    "Ocorrência aberta no sistema de transporte.",
]
RATING_WEIGHTS = [(5, 45), (4, 25), (3, 12), (2, 8), (1, 10)]
COMMENTS = [
    "Ótimo atendimento!",
    "Resolveram rápido.",
    "Demorou, mas resolveu.",
    "Não resolveu meu problema.",
]
USER_AGENTS = [
    "Mozilla/5.0 (Linux; Android 13; SM-A536E) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
]
# Share of chats per local hour (0–23): quiet at night, busy mornings and afternoons.
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 3, 6, 10, 12, 12, 11, 9, 10, 11, 11, 10, 9, 8, 7, 6, 4, 3, 2]
ABANDON_SHARE = 0.08
RATED_SHARE = 0.65
INTERNAL_NOTE_SHARE = 0.03
SESSIONS_PER_BATCH = 5000


class Command(BaseCommand):
    help = "Add realistic fake chats and messages (bulk; COPY on PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--sessions", type=int, default=1000, help="Chats to add (default 1000).")
        parser.add_argument(
            "--messages",
            type=int,
            help="Message rows to add in total, system messages included (default 10 per chat).",
        )
        parser.add_argument("--date", metavar="YYYY-MM-DD", help="Last day of the chats (default yesterday).")
        parser.add_argument("--days", type=int, default=1, help="Number of days ending --date (default 1).")
        parser.add_argument(
            "--agents", type=int, default=10, help="Agents answering (created if missing; default 10)."
        )
        parser.add_argument(
            "--waiting", type=int, help="Chats left waiting in the queue (default 0.04%% of the chats)."
        )
        parser.add_argument(
            "--active", type=int, help="Chats left open with an agent (default 0.12%% of the chats)."
        )
        parser.add_argument("--seed", type=int, help="Random seed, for the same data on every run.")

    def handle(self, *args, **options):
        sessions = options["sessions"]
        messages = options["messages"] if options["messages"] is not None else sessions * 10
        days = options["days"]
        agents = options["agents"]
        waiting = options["waiting"] if options["waiting"] is not None else round(sessions * 0.0004)
        active = options["active"] if options["active"] is not None else round(sessions * 0.0012)
        for name, value in (("--sessions", sessions), ("--messages", messages), ("--agents", agents)):
            if value < 0:
                raise CommandError(f"{name} must be 0 or more.")
        if days < 1:
            raise CommandError("--days must be 1 or more.")
        if messages and not sessions:
            raise CommandError("--messages need --sessions to belong to.")
        if waiting < 0 or active < 0 or waiting + active > sessions:
            raise CommandError("--waiting and --active must be 0 or more and fit in --sessions.")
        if active and not agents:
            raise CommandError("--active chats need at least one agent (--agents).")
        today = timezone.localdate()
        last = parse_day(options["date"], "--date") if options["date"] else today - timedelta(days=1)
        if last > today:
            raise CommandError(f"--date {last} is in the future.")
        first = last - timedelta(days=days - 1)

        started = time.monotonic()
        generator = ChatGenerator(
            rng=random.Random(options["seed"]),
            agents=ensure_agents(agents),
            first=first,
            last=last,
        )
        writer = PostgresCopyWriter() if connection.vendor == "postgresql" else BulkCreateWriter()
        with transaction.atomic():
            plan = generator.plan(sessions, messages, waiting, active)
            for batch in plan:
                writer.write(generator.build(batch))
        writer.finish()
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {sessions:,} chats and {messages:,} messages from {first} to {last} "
                f"({len(generator.agents)} agents) in {time.monotonic() - started:.1f} s."
            )
        )


def ensure_agents(count: int) -> list:
    """Agents ``agente01``… in the Agentes group, made once and reused on later runs."""
    User = get_user_model()
    group = Group.objects.filter(name="Agentes").first()
    agents = []
    for number in range(1, count + 1):
        username = f"agente{number:02d}"
        user = User.objects.filter(username=username).first()
        if user is None:
            name = FIRST_NAMES[(number - 1) % len(FIRST_NAMES)]
            user = User.objects.create_user(
                username=username,
                password=None,
                is_staff=True,
                first_name=name,
                last_name=LAST_NAMES[(number - 1) % len(LAST_NAMES)],
                display_name=name if number <= len(FIRST_NAMES) else f"{name} {number}",
            )
            if group is not None:
                user.groups.add(group)
        agents.append(user)
    return agents


class ChatGenerator:
    def __init__(self, *, rng: random.Random, agents: list, first: date, last: date):
        self.rng = rng
        self.agents = agents
        self.first = first
        self.last = last
        self.now = timezone.now()
        self.hour_cumulative = list(accumulate(HOUR_WEIGHTS))
        self.issues = list(ISSUE_WEIGHTS)
        self.issue_cumulative = list(accumulate(ISSUE_WEIGHTS.values()))
        self.rating_cumulative = list(accumulate(weight for _, weight in RATING_WEIGHTS))
        self._issue_of: dict[tuple[str, str], str] = {}

    # -- planning: how many messages each chat gets, when it starts, how it ends ------

    def plan(self, sessions: int, messages: int, waiting: int, active: int):
        """Batches of (start time, message count, status), oldest chats first.

        Message counts are drawn around the mean and then adjusted so that they add up to
        ``messages`` exactly; the latest chats are the ones left open.
        """
        if sessions == 0:
            return
        counts = self._message_counts(sessions, messages)
        starts = sorted(self._start_time() for _ in range(sessions))
        open_statuses = [Status.WAITING] * waiting + [Status.ACTIVE] * active
        self.rng.shuffle(open_statuses)
        first_open = sessions - len(open_statuses)
        batch = []
        for index in range(sessions):
            status = open_statuses[index - first_open] if index >= first_open else Status.ENDED
            batch.append((starts[index], counts[index], status))
            if len(batch) == SESSIONS_PER_BATCH:
                yield batch
                batch = []
        if batch:
            yield batch

    def _message_counts(self, sessions: int, messages: int) -> list[int]:
        """Message counts per chat that add up to ``messages`` exactly.

        Every chat gets a base of up to 4 (enough for an answered chat: the customer's
        message, the join, a reply, the closing), the rest is spread with gamma weights (a
        few long chats, most short). Each floor loses less than one, so the shortfall is
        below ``sessions``: one more message each for that many random chats makes it up.
        """
        base = min(4, messages // sessions)
        spread = messages - base * sessions
        weights = [self.rng.gammavariate(1.5, 1.0) for _ in range(sessions)]
        total_weight = sum(weights)
        counts = [base + int(spread * weight / total_weight) for weight in weights]
        for index in self.rng.sample(range(sessions), messages - sum(counts)):
            counts[index] += 1
        return counts

    def _start_time(self) -> datetime:
        day = self.first + timedelta(days=self.rng.randrange((self.last - self.first).days + 1))
        start, end = local_day_bounds(day)
        end = min(end, self.now - timedelta(minutes=1)) if end > self.now else end
        span = (end - start).total_seconds()
        hour = bisect(self.hour_cumulative, self.rng.random() * self.hour_cumulative[-1])
        offset = (hour + self.rng.random()) / 24 * span
        return start + timedelta(seconds=offset)

    # -- building rows ----------------------------------------------------------------

    def build(self, batch):
        """(session dicts, per-session message lists) for one batch of planned chats."""
        sessions, messages = [], []
        for started_at, count, status in batch:
            session, session_messages = self._chat(started_at, count, status)
            sessions.append(session)
            messages.append(session_messages)
        return sessions, messages

    def _chat(self, started_at: datetime, count: int, status: str):
        rng = self.rng
        issue_choice = self.issues[bisect(self.issue_cumulative, rng.random() * self.issue_cumulative[-1])]
        topic = issue_choice if rng.random() < 0.4 and issue_choice != Issue.OTHER else ""
        code = f"JT{rng.randrange(10**12, 10**13)}BR"
        first_template = rng.choice(FIRST_MESSAGES[issue_choice])
        first_text = first_template.format(code=code)
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        if status == Status.ENDED:
            # An answered chat needs the customer's message, the join, a reply and the closing.
            answered = bool(self.agents) and count >= 4 and rng.random() >= ABANDON_SHARE
            agent = rng.choice(self.agents) if answered else None
        elif status == Status.ACTIVE:
            agent = rng.choice(self.agents)
            answered = count >= 3  # otherwise taken but not answered yet
        else:
            answered, agent = False, None
        closing = 1 if status == Status.ENDED and count >= 2 else 0

        session = {
            "session_id": uuid.UUID(int=rng.getrandbits(128), version=4),
            "status": status,
            "customer_name": name if rng.random() < 0.7 else "",
            "customer_email": "",
            "tracking_code": code if rng.random() < 0.5 else "",
            "topic": topic,
            "user_ip": f"177.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            "user_agent": rng.choice(USER_AGENTS),
            "assigned_agent_id": agent.pk if agent else None,
            "started_at": started_at,
            "ended_at": None,
            "ended_by": "",
            "first_response_at": None,
            "waiting_since": None,
            "last_message_at": None,
            "agent_read_message_id": 0,
            "issue": self._issue(first_template, topic) if count else topic,
            "satisfaction_rating": None,
            "satisfaction_comment": "",
        }
        messages = self._conversation(session, count - closing, first_text, agent if answered else None, code)
        if status == Status.ENDED:
            self._end(session, messages, answered, closing)
        return session, messages

    def _issue(self, template: str, topic: str) -> str:
        key = (template, topic)
        if key not in self._issue_of:
            self._issue_of[key] = classify(template, topic)
        return self._issue_of[key]

    def _conversation(self, session: dict, count: int, first_text: str, agent, code: str) -> list[tuple]:
        """``count`` message tuples (author, agent id, content, created_at, response_seconds,
        is_internal).

        With ``agent``: the customer writes, the agent joins and replies, then they
        alternate (now and then one writes twice, and now and then the agent leaves an
        internal note). Without: only the customer writes.
        """
        if count == 0:
            return []
        rng = self.rng
        clock = session["started_at"] + timedelta(seconds=rng.uniform(5, 40))
        messages = [(Author.CUSTOMER, None, first_text, clock, None, False)]
        waiting_since = clock
        last_author = Author.CUSTOMER
        if agent is not None:
            first_response = session["started_at"] + timedelta(
                seconds=max(8.0, rng.lognormvariate(math.log(70), 0.9))
            )
            clock = max(first_response, clock + timedelta(seconds=3))
            joined = f"{agent.public_name} entrou na conversa."
            messages.append((Author.SYSTEM, None, joined, clock - timedelta(seconds=1), None, False))
            messages.append(
                (
                    Author.AGENT,
                    agent.pk,
                    rng.choice(AGENT_LINES),
                    clock,
                    (clock - waiting_since).total_seconds(),
                    False,
                )
            )
            session["first_response_at"] = clock
            waiting_since = None
            last_author = Author.AGENT
        for _ in range(count - len(messages)):
            author = Author.CUSTOMER
            if agent is not None:
                author = Author.CUSTOMER if last_author == Author.AGENT else Author.AGENT
                if rng.random() < 0.2:
                    author = last_author
            if author == Author.CUSTOMER:
                clock += timedelta(seconds=rng.uniform(15, 150))
                text = rng.choice(CUSTOMER_FOLLOW_UPS).format(code=code)
                messages.append((Author.CUSTOMER, None, text, clock, None, False))
                waiting_since = waiting_since or clock
            elif rng.random() < INTERNAL_NOTE_SHARE:
                clock += timedelta(seconds=rng.uniform(5, 30))
                messages.append((Author.AGENT, agent.pk, rng.choice(INTERNAL_NOTES), clock, None, True))
            else:
                clock += timedelta(seconds=max(3.0, rng.lognormvariate(math.log(40), 0.8)))
                response = (clock - waiting_since).total_seconds() if waiting_since else None
                messages.append((Author.AGENT, agent.pk, rng.choice(AGENT_LINES), clock, response, False))
                waiting_since = None
            last_author = author
        session["waiting_since"] = waiting_since
        session["last_message_at"] = clock
        return messages

    def _end(self, session: dict, messages: list, answered: bool, closing: int) -> None:
        rng = self.rng
        last = messages[-1][3] if messages else session["started_at"]
        ended_at = last + timedelta(seconds=rng.uniform(20, 300))
        if answered:
            ended_by = ChatSession.EndedBy.CUSTOMER if rng.random() < 0.7 else ChatSession.EndedBy.AGENT
        else:
            ended_by = ChatSession.EndedBy.CUSTOMER if rng.random() < 0.6 else ChatSession.EndedBy.SYSTEM
        if closing:
            messages.append((Author.SYSTEM, None, CLOSING_TEXT[ended_by], ended_at, None, False))
        session.update(ended_at=ended_at, ended_by=ended_by, waiting_since=None)
        if answered and rng.random() < RATED_SHARE:
            index = bisect(self.rating_cumulative, rng.random() * self.rating_cumulative[-1])
            session["satisfaction_rating"] = RATING_WEIGHTS[index][0]
            if rng.random() < 0.2:
                session["satisfaction_comment"] = rng.choice(COMMENTS)


CLOSING_TEXT = {
    ChatSession.EndedBy.CUSTOMER: "O cliente encerrou a conversa.",
    ChatSession.EndedBy.AGENT: "O atendente encerrou a conversa.",
    ChatSession.EndedBy.SYSTEM: "A conversa foi encerrada por inatividade.",
}


# --- writers -------------------------------------------------------------------------

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


class Writer:
    """Gives the rows their ids (so that a chat can point at its last read message), then
    hands them to ``write_rows``."""

    def __init__(self):
        self.session_fields = [f for f in ChatSession._meta.concrete_fields if f.column != "id"]
        # Columns this command does not fill (added by later migrations) get their default.
        self.message_extra = [f for f in ChatMessage._meta.concrete_fields if f.column not in MESSAGE_COLUMNS]
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
