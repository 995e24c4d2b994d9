"""Two agents claim the same waiting chat at the same moment: exactly one wins.

Each thread has its own database connection (Django's are per thread), so the two claims
are two PostgreSQL sessions racing on one row; the guard is session_claim's conditional
UPDATE, not a read followed by a write.
"""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from chat import services
from chat.exceptions import AlreadyClaimed
from chat.models import ChatMessage, ChatSession

SQLITE_REASON = (
    "SQLite takes one lock for the whole database on every write transaction, so two claims "
    "run one after the other and never overlap: the row-level race this test is about cannot "
    "happen there. It runs in CI's PostgreSQL pass."
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason=SQLITE_REASON),
]


def run_in_threads(*targets, timeout=30):
    errors = []

    def guarded(target):
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 (reported below, in the test's thread)
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=guarded, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a claim hung"
    if errors:
        raise errors[0]


def test_claims_started_together_have_exactly_one_winner(agent, other_agent):
    for _round in range(8):
        session = services.session_open(customer_name="Maria")
        barrier = threading.Barrier(2)
        outcome = {}

        def claim(user, session=session, barrier=barrier, outcome=outcome):
            barrier.wait(timeout=10)
            try:
                services.session_claim(session=session, agent=user)
                outcome[user.pk] = "won"
            except AlreadyClaimed as lost:
                outcome[user.pk] = lost

        run_in_threads(lambda: claim(agent), lambda: claim(other_agent))

        winners = [user for user in (agent, other_agent) if outcome[user.pk] == "won"]
        assert len(winners) == 1, outcome
        [winner] = winners
        loser = other_agent if winner == agent else agent
        assert isinstance(outcome[loser.pk], AlreadyClaimed)
        assert outcome[loser.pk].agent_name == winner.public_name
        session.refresh_from_db()
        assert session.assigned_agent == winner and session.status == ChatSession.Status.ACTIVE
        assert session.messages.filter(author=ChatMessage.Author.SYSTEM).count() == 1


def test_a_claim_that_waited_on_the_winners_lock_loses_and_names_the_winner(agent, other_agent):
    """Bruno's claim starts while Ana's is still uncommitted: his UPDATE waits on the row
    lock, then finds the chat no longer waiting once hers commits."""
    session = services.session_open(customer_name="Maria")
    ana_claimed = threading.Event()
    outcome = {}

    def ana():
        with transaction.atomic():
            services.session_claim(session=session, agent=agent)
            ana_claimed.set()
            wait_for_a_lock_waiter()
        outcome["ana"] = "won"

    def bruno():
        assert ana_claimed.wait(10)
        try:
            services.session_claim(session=session, agent=other_agent)
            outcome["bruno"] = "won"
        except AlreadyClaimed as lost:
            outcome["bruno"] = lost

    run_in_threads(ana, bruno)

    assert outcome["ana"] == "won"
    assert isinstance(outcome["bruno"], AlreadyClaimed)
    assert outcome["bruno"].agent_name == "Ana"
    session.refresh_from_db()
    assert session.assigned_agent == agent


def wait_for_a_lock_waiter(timeout: float = 10.0) -> None:
    """Return once another session of this database waits on a lock."""
    deadline = time.monotonic() + timeout
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline:
            # Activity figures are a snapshot kept for the transaction unless cleared.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the second claim never waited on the row lock")
