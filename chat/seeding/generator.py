"""The shape of fake chats: who writes when, who answers, how the chat ends (chat/seeding)."""

import math
import random
import uuid
from bisect import bisect
from datetime import date, datetime, timedelta
from itertools import accumulate

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from chat.analytics.days import local_day_bounds
from chat.classifier import classify
from chat.models import ChatMessage, ChatSession, Issue

from .texts import (
    ABANDON_SHARE,
    AGENT_LINES,
    COMMENTS,
    CUSTOMER_FOLLOW_UPS,
    FIRST_MESSAGES,
    FIRST_NAMES,
    HOUR_WEIGHTS,
    INTERNAL_NOTE_SHARE,
    INTERNAL_NOTES,
    ISSUE_WEIGHTS,
    LAST_NAMES,
    RATED_SHARE,
    RATING_WEIGHTS,
    USER_AGENTS,
)

Status = ChatSession.Status
Author = ChatMessage.Author
SESSIONS_PER_BATCH = 5000


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
