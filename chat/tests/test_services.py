import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat import services
from chat.exceptions import (
    AlreadyClaimed,
    AlreadyRated,
    InvalidInput,
    NotPermitted,
    SessionEnded,
    SessionNotFound,
)
from chat.live import events
from chat.models import ChatMessage, ChatSession, Issue
from conftest import bring_online, make_staff

pytestmark = pytest.mark.django_db

Author = ChatMessage.Author
Status = ChatSession.Status


def post(session, content="Olá", *, author=Author.CUSTOMER, agent=None, **kwargs):
    """A customer's message (by the chat's key), or an agent's reply or note."""
    if author == Author.CUSTOMER:
        return services.customer_message_post(session_key=session.session_id, content=content, **kwargs)
    return services.agent_message_post(session_pk=session.pk, agent=agent, content=content, **kwargs)


class TestSessionOpen:
    def test_opens_a_waiting_chat_with_customer_fields(self):
        session = services.session_open(
            customer_name=" Maria ",
            customer_email="maria@example.com",
            tracking_code="jt123br",
            topic=Issue.TRACKING,
            user_ip="203.0.113.9",
            user_agent="Mozilla/5.0",
        )
        session.refresh_from_db()
        assert session.status == Status.WAITING
        assert session.customer_name == "Maria"
        assert session.tracking_code == "JT123BR"
        assert session.issue == Issue.TRACKING
        assert session.user_ip == "203.0.113.9"
        assert session.user_agent == "Mozilla/5.0"
        assert isinstance(session.session_id, uuid.UUID)

    def test_refuses_a_bad_email_and_unknown_topic(self):
        with pytest.raises(InvalidInput) as error:
            services.session_open(customer_email="not-an-email", topic="alien")
        assert set(error.value.fields) == {"customer_email", "topic"}
        assert ChatSession.objects.count() == 0

    def test_auto_assignment_is_off_by_default(self, agent):
        session = services.session_open()
        assert session.status == Status.WAITING
        assert session.assigned_agent is None


class TestMessagePost:
    def test_customer_message_starts_the_wait_and_classifies(self):
        session = services.session_open()
        result = post(session, "Meu pacote veio quebrado e amassado")
        assert result.created
        session.refresh_from_db()
        assert session.waiting_since == result.message.created_at
        assert session.last_message_at == result.message.created_at
        assert session.issue == Issue.DAMAGE

    def test_agent_reply_to_waiting_chat_claims_it_and_measures_response(self, agent):
        session = services.session_open()
        first = post(session, "Cadê meu pedido?").message
        reply = post(session, "Vou verificar!", author=Author.AGENT, agent=agent).message
        session.refresh_from_db()
        assert session.status == Status.ACTIVE
        assert session.assigned_agent == agent
        assert session.first_response_at == reply.created_at
        assert session.waiting_since is None
        assert reply.response_seconds == pytest.approx((reply.created_at - first.created_at).total_seconds())
        # the claim left a system message before the reply
        authors = list(session.messages.values_list("author", flat=True))
        assert authors == [Author.CUSTOMER, Author.SYSTEM, Author.AGENT]

    def test_response_time_counts_from_the_oldest_unanswered_message(self, agent):
        session = services.session_open()
        first = post(session, "oi").message
        post(session, "alguém aí?")
        reply = post(session, "Olá!", author=Author.AGENT, agent=agent).message
        assert reply.response_seconds == pytest.approx((reply.created_at - first.created_at).total_seconds())
        second_wait = post(session, "obrigado, mais uma coisa").message
        second_reply = post(session, "Diga", author=Author.AGENT, agent=agent).message
        assert second_reply.response_seconds == pytest.approx(
            (second_reply.created_at - second_wait.created_at).total_seconds()
        )
        session.refresh_from_db()
        assert session.first_response_at == reply.created_at

    def test_retried_client_id_returns_the_first_message(self):
        session = services.session_open()
        client_id = uuid.uuid4()
        first = post(session, "oi", client_id=client_id)
        again = post(session, "oi", client_id=client_id)
        assert first.created and not again.created
        assert again.message.pk == first.message.pk
        assert session.messages.count() == 1

    def test_a_retry_after_the_answer_does_not_put_the_chat_back_in_the_queue(self, agent):
        session = services.session_open()
        client_id = uuid.uuid4()
        post(session, "Meu pacote veio quebrado", client_id=client_id)
        reply = post(session, "Vou verificar", author=Author.AGENT, agent=agent).message
        again = post(session, "Meu pacote veio quebrado", client_id=client_id)
        assert not again.created
        session.refresh_from_db()
        assert session.waiting_since is None  # still answered: the retry stamped nothing
        assert session.last_message_at == reply.created_at

    def test_a_message_read_back_matches_what_was_stored(self):
        session = services.session_open(customer_name="Ana")
        result = post(session, "Cadê meu pedido?", client_id=uuid.uuid4())
        stored = ChatMessage.objects.select_related("session").get(pk=result.message.pk)
        for field in ChatMessage._meta.concrete_fields:
            assert getattr(result.message, field.attname) == getattr(stored, field.attname), field.name
        for field in ChatSession._meta.concrete_fields:
            assert getattr(result.message.session, field.attname) == getattr(stored.session, field.attname)

    def test_retry_after_the_chat_ended_still_returns_the_original(self):
        session = services.session_open()
        client_id = uuid.uuid4()
        first = post(session, "tchau", client_id=client_id)
        services.session_end(session=session, ended_by=ChatSession.EndedBy.CUSTOMER)
        again = post(session, "tchau", client_id=client_id)
        assert again.message.pk == first.message.pk and not again.created

    def test_same_client_id_in_another_session_is_a_new_message(self):
        client_id = uuid.uuid4()
        a, b = services.session_open(), services.session_open()
        post(a, "oi", client_id=client_id)
        assert post(b, "oi", client_id=client_id).created

    @pytest.mark.parametrize("content", ["", "   \n\t ", "x" * 4001, None])
    def test_refuses_empty_blank_and_too_long_content(self, content):
        session = services.session_open()
        with pytest.raises(InvalidInput) as error:
            post(session, content)
        assert "content" in error.value.fields
        assert session.messages.count() == 0

    def test_accepts_exactly_the_maximum_length(self):
        session = services.session_open()
        assert len(post(session, "é" * 4000).message.content) == 4000

    def test_refuses_messages_to_an_ended_chat(self):
        session = services.session_open()
        services.session_end(session=session, ended_by=ChatSession.EndedBy.CUSTOMER)
        with pytest.raises(SessionEnded):
            post(session, "ainda aí?")
        assert not session.messages.filter(author=Author.CUSTOMER).exists()

    def test_agent_without_reply_permission_is_refused(self, django_user_model):
        reader = make_staff(django_user_model, "leitor")
        session = services.session_open()
        with pytest.raises(NotPermitted):
            post(session, "Olá", author=Author.AGENT, agent=reader)
        with pytest.raises(NotPermitted):
            post(session, "Olá", author=Author.AGENT, agent=None)
        assert session.messages.count() == 0

    def test_internal_note_changes_nothing_the_customer_sees(self, agent):
        session = services.session_open()
        waiting = post(session, "oi").message
        note = post(session, "cliente recorrente", author=Author.AGENT, agent=agent, is_internal=True)
        session.refresh_from_db()
        assert note.message.is_internal
        assert session.status == Status.WAITING
        assert session.waiting_since == waiting.created_at
        assert session.first_response_at is None


class TestClaim:
    def test_first_claim_wins_and_the_second_is_told_who(self, agent, other_agent):
        session = services.session_open()
        services.session_claim(session=session, agent=agent)
        with pytest.raises(AlreadyClaimed) as error:
            services.session_claim(session=session, agent=other_agent)
        assert error.value.agent_name == "Ana"
        session.refresh_from_db()
        assert session.assigned_agent == agent and session.status == Status.ACTIVE

    def test_claiming_again_is_harmless(self, agent):
        session = services.session_open()
        services.session_claim(session=session, agent=agent)
        services.session_claim(session=session, agent=agent)
        assert session.messages.filter(author=Author.SYSTEM).count() == 1

    def test_cannot_claim_an_ended_chat(self, agent):
        session = services.session_open()
        services.session_end(session=session, ended_by=ChatSession.EndedBy.CUSTOMER)
        with pytest.raises(SessionEnded):
            services.session_claim(session=session, agent=agent)

    def test_transfer_hands_the_chat_over(self, agent, other_agent):
        bring_online(other_agent)
        session = services.session_open()
        services.session_claim(session=session, agent=agent)
        services.session_transfer(session=session, agent=agent, to_agent=other_agent)
        session.refresh_from_db()
        assert session.assigned_agent == other_agent
        assert "Bruno" in session.messages.last().content


class TestEndAndRate:
    def test_customer_ends_and_rates(self):
        session = services.session_open()
        ended = services.session_end(
            session=session, ended_by=ChatSession.EndedBy.CUSTOMER, rating=4, comment=" rápido "
        )
        assert ended.status == Status.ENDED
        assert ended.ended_by == ChatSession.EndedBy.CUSTOMER
        assert ended.satisfaction_rating == 4
        assert ended.satisfaction_comment == "rápido"
        assert ended.ended_at is not None

    def test_ending_twice_is_harmless_and_can_rate_later(self, agent):
        session = services.session_open()
        first = services.session_end(session=session, ended_by=ChatSession.EndedBy.AGENT, agent=agent)
        again = services.session_end(session=session, ended_by=ChatSession.EndedBy.CUSTOMER, rating=5)
        assert again.ended_at == first.ended_at
        assert again.ended_by == ChatSession.EndedBy.AGENT
        assert again.satisfaction_rating == 5

    def test_rating_again_with_another_value_is_refused(self):
        session = services.session_open()
        services.session_end(session=session, ended_by=ChatSession.EndedBy.CUSTOMER, rating=3)
        services.session_rate(session=session, rating=3)  # a retry
        with pytest.raises(AlreadyRated):
            services.session_rate(session=session, rating=5)
        session.refresh_from_db()
        assert session.satisfaction_rating == 3

    @pytest.mark.parametrize("rating", [0, 6, -1, 2.5, "5", True])
    def test_refuses_ratings_outside_1_to_5(self, rating):
        session = services.session_open()
        with pytest.raises(InvalidInput):
            services.session_end(session=session, ended_by=ChatSession.EndedBy.CUSTOMER, rating=rating)
        session.refresh_from_db()
        assert session.status == Status.WAITING

    def test_only_ended_chats_can_be_rated(self):
        session = services.session_open()
        with pytest.raises(InvalidInput):
            services.session_rate(session=session, rating=5)

    def test_agent_end_needs_an_agent(self):
        session = services.session_open()
        with pytest.raises(NotPermitted):
            services.session_end(session=session, ended_by=ChatSession.EndedBy.AGENT)


class TestIdleAndRead:
    def test_close_idle_sessions_ends_only_quiet_chats(self, agent):
        quiet = services.session_open()
        post(quiet, "oi")
        busy = services.session_open()
        post(busy, "oi")
        ChatSession.objects.filter(pk=quiet.pk).update(last_message_at=timezone.now() - timedelta(minutes=31))
        assert services.close_idle_sessions(minutes=30) == 1
        quiet.refresh_from_db()
        busy.refresh_from_db()
        assert quiet.status == Status.ENDED and quiet.ended_by == ChatSession.EndedBy.SYSTEM
        assert busy.status == Status.WAITING
        assert quiet.messages.last().author == Author.SYSTEM

    def test_mark_read_only_moves_forward_for_the_assigned_agent(self, agent, other_agent):
        session = services.session_open()
        services.session_claim(session=session, agent=agent)
        message = post(session, "oi").message
        services.session_mark_read(session=session, agent=other_agent, up_to_message_id=message.pk)
        session.refresh_from_db()
        assert session.agent_read_message_id < message.pk
        services.session_mark_read(session=session, agent=agent, up_to_message_id=message.pk)
        services.session_mark_read(session=session, agent=agent, up_to_message_id=1)
        session.refresh_from_db()
        assert session.agent_read_message_id == message.pk


class TestAutoAssign:
    def test_new_chat_goes_to_the_least_busy_available_agent(self, settings, agent, other_agent):
        bring_online(agent, other_agent)
        settings.CHAT_AUTO_ASSIGN = True
        settings.CHAT_AGENT_MAX_ACTIVE_CHATS = 2
        first = services.session_open()
        second = services.session_open()
        assert {first.assigned_agent, second.assigned_agent} == {agent, other_agent}
        services.session_open()
        services.session_open()
        assert services.session_open().status == Status.WAITING  # both at their maximum

    def test_agents_not_accepting_chats_are_skipped(self, settings, agent, other_agent):
        bring_online(agent, other_agent)
        settings.CHAT_AUTO_ASSIGN = True
        type(agent).objects.filter(pk=agent.pk).update(accepting_chats=False)
        assert services.session_open().assigned_agent == other_agent


class TestEventsAfterCommit:
    def test_a_rolled_back_write_announces_nothing(self, django_capture_on_commit_callbacks):
        session = services.session_open()
        with django_capture_on_commit_callbacks() as callbacks:
            try:
                with transaction.atomic():
                    post(session, "oi")
                    raise RuntimeError("boom")
            except RuntimeError:
                pass
        assert callbacks == []
        assert session.messages.count() == 0

    def test_a_committed_message_is_announced_to_customer_and_agents(
        self, django_capture_on_commit_callbacks, monkeypatch
    ):
        published = []
        monkeypatch.setattr(events, "_publish", lambda group, payload, *_: published.append((group, payload)))
        session = services.session_open()
        with django_capture_on_commit_callbacks(execute=True):
            message = post(session, "oi").message
        messages = {group: event["message"] for group, event in published if event["type"] == "message"}
        # The customer's own socket and, while nobody has taken the chat, every agent's inbox.
        assert set(messages) == {events.session_group(session.pk), events.AGENTS_GROUP}
        for shown in messages.values():
            assert (shown["id"], shown["content"], shown["author"]) == (message.pk, "oi", "customer")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
class TestCustomerMessageStatements:
    """The most frequent write of the product, counted as the database sees it (no test
    transaction around it)."""

    def test_costs_one_statement_on_postgresql_and_two_elsewhere(self):
        session = services.session_open(topic=Issue.DELAY)  # classified: no label to write
        with CaptureQueriesContext(connection) as queries:
            result = post(session, "Ainda não chegou", client_id=uuid.uuid4())
        assert result.created
        statements = [query["sql"].split()[0].upper() for query in queries]
        if connection.vendor == "postgresql":
            assert statements == ["WITH"]  # no BEGIN/COMMIT either: one atomic statement
        else:
            assert statements == ["BEGIN", "UPDATE", "INSERT", "COMMIT"]
        session.refresh_from_db()
        assert session.last_message_at == result.message.created_at
        assert session.waiting_since == result.message.created_at

    def test_a_duplicate_client_id_leaves_the_chat_untouched(self):
        session = services.session_open()
        client_id = uuid.uuid4()
        post(session, "oi", client_id=client_id)
        post(session, "alguém aí?")
        session.refresh_from_db()
        before = (session.last_message_at, session.waiting_since)
        assert not post(session, "oi", client_id=client_id).created
        session.refresh_from_db()
        assert (session.last_message_at, session.waiting_since) == before
        assert session.messages.filter(client_id=client_id).count() == 1

    def test_an_unknown_or_ended_chat_stores_nothing(self):
        session = services.session_open()
        services.session_end(session=session, ended_by=ChatSession.EndedBy.CUSTOMER)
        with pytest.raises(SessionEnded):
            post(session, "ainda aí?")
        with pytest.raises(SessionNotFound):
            services.customer_message_post(session_key=uuid.uuid4(), content="oi")
        assert ChatMessage.objects.filter(author=Author.CUSTOMER).count() == 0
