"""The conversation page (chat change view) and its POST endpoints (one module of over
400 lines: one page, whose tests share its fixtures)."""

import json
import re
import uuid

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from chat import services
from chat.models import CannedResponse, ChatMessage, ChatSession
from conftest import bring_online, make_staff

pytestmark = pytest.mark.django_db

Author = ChatMessage.Author
Status = ChatSession.Status


def open_chat(name="Maria", content="Olá, cadê meu pedido?", **fields):
    session = services.session_open(customer_name=name, **fields)
    if content:
        services.customer_message_post(session_key=session.session_id, content=content)
    return session


def page_url(session) -> str:
    return reverse("admin:chat_chatsession_change", args=[session.pk])


def url(name: str, session) -> str:
    return reverse(f"admin:chat_chatsession_{name}", args=[session.pk])


def flash(response) -> list[tuple[str, str]]:
    return [(message.level_tag, str(message)) for message in get_messages(response.wsgi_request)]


def page_config(response) -> dict:
    found = re.search(
        r'<script id="conversation-config" type="application/json">(.*?)</script>', response.text
    )
    return json.loads(found.group(1))


class TestTranscript:
    def test_each_kind_of_message_is_styled_apart_in_order(self, agent_client, agent):
        session = open_chat(content="Meu pacote não chegou")
        services.agent_message_post(session_pk=session.pk, agent=agent, content="Vou verificar.")
        services.agent_message_post(
            session_pk=session.pk, agent=agent, content="Cliente recorrente", is_internal=True
        )

        response = agent_client.get(page_url(session))

        assert response.status_code == 200
        kinds = re.findall(r'<li class="msg (msg-\w+(?: msg-note)?)" data-message-id="\d+"', response.text)
        assert kinds == ["msg-customer", "msg-system", "msg-agent", "msg-agent msg-note"]
        for text in ("Meu pacote não chegou", "Vou verificar.", "Cliente recorrente"):
            assert text in response.text

    def test_script_and_img_onerror_are_shown_as_text(self, agent_client):
        session = open_chat(
            "<script>alert('nome')</script>",
            content='<img src=x onerror="alert(1)"><script>alert(2)</script>',
        )

        response = agent_client.get(page_url(session))

        assert "<script>alert" not in response.text
        assert "<img src=x" not in response.text
        assert (
            "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;"
            in response.text
        )
        assert page_config(response)["strings"]["customer"] == "<script>alert('nome')</script>"

    def test_the_customer_key_never_appears(self, agent_client):
        session = open_chat()
        assert str(session.session_id) not in agent_client.get(page_url(session)).text

    def test_customer_fields_are_read_only(self, agent_client):
        session = open_chat("Maria", customer_email="maria@example.com")

        response = agent_client.get(page_url(session))
        refused = agent_client.post(page_url(session), {"customer_name": "Changed", "status": "ended"})

        assert 'name="customer_name"' not in response.text and "maria@example.com" in response.text
        assert refused.status_code == 403
        session.refresh_from_db()
        assert session.customer_name == "Maria" and session.status == Status.WAITING

    def test_opening_changes_nothing_the_pages_post_marks_read_for_the_assigned_agent_only(
        self, client, agent, other_agent
    ):
        session = open_chat()
        services.session_claim(session=session, agent=agent)
        services.customer_message_post(session_key=session.session_id, content="mais uma")
        last = session.messages.order_by("-id").first()
        read_url = reverse("admin:chat_chatsession_read", args=[session.pk])

        client.force_login(agent)
        response = client.get(page_url(session))
        assert page_config(response)["readMessageId"] < last.pk  # the page will mark it
        session.refresh_from_db()
        assert session.agent_read_message_id < last.pk  # a page view changes no stored data

        client.force_login(other_agent)
        assert client.post(read_url, {"up_to": last.pk}).status_code == 204
        session.refresh_from_db()
        assert session.agent_read_message_id < last.pk  # not Bruno's chat to read

        client.force_login(agent)
        assert client.post(read_url, {"up_to": last.pk}).status_code == 204
        session.refresh_from_db()
        assert session.agent_read_message_id == last.pk

    def test_canned_responses_are_offered(self, agent_client):
        CannedResponse.objects.create(title="Coleta", shortcut="coleta", text="A coleta está agendada.")
        session = open_chat()

        response = agent_client.get(page_url(session))

        assert '<option value="coleta">/coleta — Coleta</option>' in response.text
        assert {"shortcut": "coleta", "title": "Coleta", "text": "A coleta está agendada."} in page_config(
            response
        )["canned"]

    def test_no_reply_box_or_actions_on_an_ended_chat(self, agent_client):
        session = open_chat()
        services.session_end(session=session, ended_by=ChatSession.EndedBy.CUSTOMER)

        response = agent_client.get(page_url(session))

        assert 'id="reply-form"' not in response.text
        assert 'id="chat-actions"' not in response.text

    def test_transfer_lists_available_agents_with_their_load(
        self, agent_client, agent, other_agent, django_user_model
    ):
        reader = make_staff(django_user_model, "leitor")  # staff without the reply permission
        paused = make_staff(django_user_model, "paula", "Agentes", accepting_chats=False)
        full = make_staff(django_user_model, "fred", "Agentes")
        offline = make_staff(django_user_model, "otto", "Agentes")
        for _ in range(settings.CHAT_AGENT_MAX_ACTIVE_CHATS):
            services.session_claim(session=open_chat(), agent=full)
        services.session_claim(session=open_chat(), agent=other_agent)
        bring_online(agent, other_agent, reader, paused, full)
        session = open_chat()

        response = agent_client.get(page_url(session))
        options = re.findall(r'<option value="(\d+)">([^<]*)</option>', response.text)

        # Online, accepting and under their maximum: Ana and Bruno, each with their load.
        assert [(int(pk), label) for pk, label in options] == [
            (agent.pk, "Ana (0 conversa ativa)"),  # pt-BR: 0 is singular
            (other_agent.pk, "Bruno (1 conversa ativa)"),
        ]
        assert offline.pk not in [int(pk) for pk, _label in options]
        services.session_claim(session=session, agent=agent)
        again = agent_client.get(page_url(session)).text
        assert [int(pk) for pk in re.findall(r'<option value="(\d+)">', again)] == [other_agent.pk]

    def test_transfer_says_when_nobody_else_is_available(self, agent_client, agent):
        bring_online(agent)
        session = open_chat()
        services.session_claim(session=session, agent=agent)

        response = agent_client.get(page_url(session))

        assert re.findall(r'<option value="(\d+)">', response.text) == []
        assert 'id="transfer-form"' not in response.text
        assert 'id="transfer-nobody"' in response.text


class TestReply:
    def test_reply_to_a_waiting_chat_claims_it(self, agent_client, agent):
        session = open_chat()

        response = agent_client.post(url("reply", session), {"content": "Olá! Sou a Ana."})

        assert response.status_code == 302 and response["Location"] == page_url(session)
        session.refresh_from_db()
        assert session.status == Status.ACTIVE and session.assigned_agent == agent
        reply = session.messages.get(author=Author.AGENT)
        assert reply.content == "Olá! Sou a Ana." and reply.agent == agent and not reply.is_internal

    def test_internal_note_does_not_claim_or_answer(self, agent_client):
        session = open_chat()

        agent_client.post(url("reply", session), {"content": "VIP", "is_internal": "1"})

        session.refresh_from_db()
        assert session.status == Status.WAITING and session.first_response_at is None
        assert session.messages.get(author=Author.AGENT).is_internal

    def test_json_answer_and_a_retried_client_id_stores_once(self, agent_client):
        session = open_chat()
        client_id = str(uuid.uuid4())
        body = {"content": "Um momento", "client_id": client_id}

        first = agent_client.post(url("reply", session), body, HTTP_ACCEPT="application/json")
        again = agent_client.post(url("reply", session), body, HTTP_ACCEPT="application/json")

        assert first.status_code == 201 and again.status_code == 200
        assert first.json()["message"]["id"] == again.json()["message"]["id"]
        assert first.json()["message"]["content"] == "Um momento"
        assert first.json()["session"]["status"] == Status.ACTIVE
        assert session.messages.filter(author=Author.AGENT).count() == 1

    def test_empty_reply_is_refused_and_stores_nothing(self, agent_client):
        session = open_chat()

        as_json = agent_client.post(url("reply", session), {"content": "   "}, HTTP_ACCEPT="application/json")
        as_form = agent_client.post(url("reply", session), {"content": ""}, follow=True)

        assert as_json.status_code == 400 and as_json.json()["error"]
        assert [level for level, _text in flash(as_form)] == ["error"]
        assert not session.messages.filter(author=Author.AGENT).exists()

    def test_reply_to_an_ended_chat_is_refused(self, agent_client):
        session = open_chat()
        services.session_end(session=session, ended_by=ChatSession.EndedBy.CUSTOMER)

        response = agent_client.post(url("reply", session), {"content": "Oi"}, HTTP_ACCEPT="application/json")

        assert response.status_code == 409

    def test_unknown_chat_is_404(self, agent_client):
        assert agent_client.post("/admin/chat/chatsession/999999/reply/", {"content": "x"}).status_code == 404
        assert agent_client.post("/admin/chat/chatsession/abc/claim/").status_code == 404


class TestClaimTransferEnd:
    def test_claim(self, agent_client, agent):
        session = open_chat()

        response = agent_client.post(url("claim", session), follow=True)

        session.refresh_from_db()
        assert session.assigned_agent == agent
        assert [level for level, _text in flash(response)] == ["success"]

    def test_the_notice_shows_once_on_the_page_after_the_redirect(self, agent_client):
        session = open_chat()
        agent_client.get("/api/chat/queue")  # a request that never looks at notices in between

        page = agent_client.post(url("claim", session), follow=True)
        assert "Você assumiu esta conversa." in page.content.decode()

        again = agent_client.get(url("change", session))
        assert "Você assumiu esta conversa." not in again.content.decode()

    def test_a_lost_claim_says_who_has_the_chat(self, agent_client, other_agent):
        session = open_chat()
        services.session_claim(session=session, agent=other_agent)

        response = agent_client.post(url("claim", session), follow=True)

        session.refresh_from_db()
        assert session.assigned_agent == other_agent
        [(level, text)] = flash(response)
        assert level == "error" and "Bruno" in text

    def test_transfer_to_another_agent(self, agent_client, agent, other_agent):
        bring_online(other_agent)
        session = open_chat()
        services.session_claim(session=session, agent=agent)

        agent_client.post(url("transfer", session), {"to_agent": other_agent.pk})

        session.refresh_from_db()
        assert session.assigned_agent == other_agent
        assert session.messages.filter(author=Author.SYSTEM, content__contains="Bruno").exists()

    def test_transfer_to_an_agent_who_went_offline_is_refused(self, agent_client, agent, other_agent):
        session = open_chat()
        services.session_claim(session=session, agent=agent)

        response = agent_client.post(url("transfer", session), {"to_agent": other_agent.pk}, follow=True)

        assert [level for level, _text in flash(response)] == ["error"]
        assert "Bruno" in flash(response)[0][1]
        session.refresh_from_db()
        assert session.assigned_agent == agent

    def test_transfer_to_someone_who_cannot_reply_is_refused(self, agent_client, agent, django_user_model):
        reader = make_staff(django_user_model, "leitor")
        session = open_chat()
        services.session_claim(session=session, agent=agent)

        for target in (reader.pk, "", "abc", 999999):
            response = agent_client.post(url("transfer", session), {"to_agent": target}, follow=True)
            assert [level for level, _text in flash(response)] == ["error"], target

        session.refresh_from_db()
        assert session.assigned_agent == agent

    def test_end(self, agent_client, agent):
        session = open_chat()
        services.session_claim(session=session, agent=agent)

        agent_client.post(url("end", session))

        session.refresh_from_db()
        assert session.status == Status.ENDED and session.ended_by == ChatSession.EndedBy.AGENT
        assert session.messages.filter(author=Author.SYSTEM, content__contains="Ana").exists()


class TestReadMark:
    def test_moves_forward_to_an_existing_message(self, agent_client, agent):
        session = open_chat(content="um")
        services.session_claim(session=session, agent=agent)
        services.customer_message_post(session_key=session.session_id, content="dois")
        first, *_rest, last = session.messages.order_by("id")
        ChatSession.objects.filter(pk=session.pk).update(agent_read_message_id=0)

        assert agent_client.post(url("read", session), {"up_to": first.pk}).status_code == 204
        session.refresh_from_db()
        assert session.agent_read_message_id == first.pk

        agent_client.post(url("read", session), {"up_to": last.pk + 1000})
        session.refresh_from_db()
        assert session.agent_read_message_id == last.pk  # never past the last message

    def test_bad_up_to_is_400(self, agent_client):
        session = open_chat()
        assert agent_client.post(url("read", session), {"up_to": "x"}).status_code == 400


class TestActionsAnswerTheScript:
    """With ``Accept: application/json`` the actions answer the chat as they left it (the
    page shows it without a reload), or the error with its status; nothing else changes."""

    JSON = {"HTTP_ACCEPT": "application/json"}

    def test_claim_transfer_end(self, agent_client, agent, other_agent):
        bring_online(other_agent)
        session = open_chat()

        claimed = agent_client.post(url("claim", session), **self.JSON)
        assert claimed.status_code == 200
        assert claimed.json()["session"]["status"] == "active"
        assert claimed.json()["session"]["agent_name"] == "Ana"

        moved = agent_client.post(
            url("transfer", session),
            {"to_agent": other_agent.pk, "note": "Pediu retorno amanhã"},
            **self.JSON,
        )
        assert moved.status_code == 200
        assert moved.json()["session"]["assigned_agent"] == other_agent.pk
        assert moved.json()["done"] == "Conversa transferida para Bruno."
        note = session.messages.get(is_internal=True)
        assert (note.agent, note.content) == (agent, "Pediu retorno amanhã")

        ended = agent_client.post(url("end", session), **self.JSON)
        assert ended.status_code == 200 and ended.json()["session"]["ended_by"] == "agent"
        assert not list(get_messages(ended.wsgi_request))  # no notice left for a later page

    def test_refusals_are_json_with_their_status_and_change_nothing(self, agent_client, other_agent):
        session = open_chat()
        services.session_claim(session=session, agent=other_agent)

        lost = agent_client.post(url("claim", session), **self.JSON)
        assert lost.status_code == 409 and "Bruno" in lost.json()["error"]

        for target in ("", "abc", "99999999999999999999"):
            refused = agent_client.post(url("transfer", session), {"to_agent": target}, **self.JSON)
            assert refused.status_code == 400, target
            assert refused.json()["code"] == "invalid"
        session.refresh_from_db()
        assert session.assigned_agent == other_agent
        assert not session.messages.filter(is_internal=True).exists()


class TestWorkspace:
    def test_the_list_beside_the_chat_has_the_agents_chats_and_the_queue(
        self, agent_client, agent, other_agent
    ):
        mine = open_chat("Minha", content="um")
        services.session_claim(session=mine, agent=agent)
        services.customer_message_post(session_key=mine.session_id, content="dois")
        theirs = open_chat("Dele")
        services.session_claim(session=theirs, agent=other_agent)
        waiting = open_chat("Na fila")
        ended = open_chat("Fim")
        services.session_end(session=ended, ended_by=ChatSession.EndedBy.CUSTOMER)

        html = agent_client.get(page_url(mine)).text
        data = json.loads(
            re.search(r'<script id="worklist-data" type="application/json">(.*?)</script>', html).group(1)
        )

        assert [(row["id"], row["unread"]) for row in data["mine"]] == [(mine.pk, 2)]
        assert [row["id"] for row in data["queue"]] == [waiting.pk]
        assert data["queue"][0]["last_message"] == {"author": "customer", "preview": "Olá, cadê meu pedido?"}
        assert data["queue"][0]["waiting_for_since"] is not None

    def test_the_details_panel_shows_the_chat_field_by_field(self, agent_client, agent):
        session = open_chat(
            "Rita", customer_email="rita@example.com", tracking_code="JT9BR", topic="endereco"
        )
        services.agent_message_post(session_pk=session.pk, agent=agent, content="Olá!")
        services.session_end(
            session=session, ended_by=ChatSession.EndedBy.CUSTOMER, rating=5, comment="Ótimo"
        )

        html = agent_client.get(page_url(session)).text

        def field(key):
            cell = re.search(rf'<dd data-field="{key}" data-kind="\w+">(.*?)</dd>', html, re.S).group(1)
            return re.sub(r"<[^>]+>", "", cell).strip()

        assert field("customer_email") == "rita@example.com"
        assert field("topic") == "Endereço"
        assert field("status") == "Encerrada"
        assert field("agent_name") == "Ana"
        assert field("ended_by") == "Cliente"
        assert field("satisfaction_rating") == "5 de 5"
        assert field("satisfaction_comment") == "Ótimo"
        assert re.search(
            r'data-field="first_response_at"[^>]*><time datetime="[^"]+" data-clock="datetime">', html
        )

    def test_the_screen_costs_the_same_queries_for_few_or_many_chats(self, agent_client, agent):
        def add_chats(count):
            for number in range(count):
                session = open_chat(f"Cliente {number}")
                if number % 2:
                    services.session_claim(session=session, agent=agent)

        def queries():
            with CaptureQueriesContext(connection) as captured:
                assert agent_client.get(page_url(first)).status_code == 200
            return len(captured)

        add_chats(3)
        first = ChatSession.objects.order_by("id").first()
        few = queries()
        add_chats(60)
        assert queries() == few
