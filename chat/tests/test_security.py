"""Who may do what: customers' keys, staff endpoints, reply permission, CORS, CSRF, headers."""

import json

import pytest
from django.test import Client

from chat import services
from chat.models import ChatMessage, ChatSession
from conftest import make_staff, make_user

pytestmark = pytest.mark.django_db

JSON = "application/json"


def post_json(client, url, body, **extra):
    return client.post(url, json.dumps(body), content_type=JSON, **extra)


@pytest.fixture
def two_chats():
    first = services.session_open(customer_name="Primeira", tracking_code="JT111")
    second = services.session_open(customer_name="Segunda", tracking_code="JT222")
    services.customer_message_post(session_key=first.session_id, content="mensagem da primeira")
    services.customer_message_post(session_key=second.session_id, content="mensagem da segunda")
    return first, second


class TestACustomerKeyOpensOnlyItsChat:
    def test_history_shows_only_that_chat(self, two_chats):
        first, _second = two_chats
        response = Client().get("/api/chat/messages", HTTP_X_CHAT_SESSION=str(first.session_id))
        contents = [message["content"] for message in response.json()["messages"]]
        assert contents == ["mensagem da primeira"]

    def test_state_is_that_chats_only(self, two_chats):
        first, _second = two_chats
        body = Client().get("/api/chat/session", HTTP_X_CHAT_SESSION=str(first.session_id)).json()
        assert body["customer_name"] == "Primeira" and body["tracking_code"] == "JT111"
        assert "Segunda" not in json.dumps(body)

    def test_a_message_lands_in_that_chat_only(self, two_chats):
        first, second = two_chats
        sent = post_json(
            Client(), "/api/chat/message", {"session_id": str(first.session_id), "content": "oi"}
        )
        assert sent.status_code == 201
        assert first.messages.filter(content="oi").exists()
        assert not second.messages.filter(content="oi").exists()

    def test_ending_ends_that_chat_only(self, two_chats):
        first, second = two_chats
        post_json(Client(), "/api/chat/end", {"session_id": str(first.session_id), "rating": 5})
        first.refresh_from_db()
        second.refresh_from_db()
        assert first.status == "ended" and second.status == "waiting"

    def test_the_key_is_never_taken_from_the_url(self, two_chats):
        first, _second = two_chats
        response = Client().get(f"/api/chat/messages?session_id={first.session_id}")
        assert response.status_code == 400
        assert "mensagem da primeira" not in response.content.decode()

    def test_a_customer_key_opens_nothing_on_the_staff_side(self, two_chats):
        first, _second = two_chats
        client = Client(HTTP_X_CHAT_SESSION=str(first.session_id))
        assert client.get(f"/api/chat/sessions/{first.pk}/").status_code == 403
        assert client.get(f"/api/chat/sessions/{first.pk}/messages/").status_code == 403

    def test_agents_never_see_the_customers_key(self, two_chats, agent_client):
        first, second = two_chats
        listing = agent_client.get("/api/chat/sessions/").content.decode()
        detail = agent_client.get(f"/api/chat/sessions/{first.pk}/").content.decode()
        for key in (first.session_id, second.session_id):
            assert str(key) not in listing and str(key) not in detail


STAFF_CALLS = [
    ("get", "/api/chat/sessions/"),
    ("get", "/api/chat/sessions/{pk}/"),
    ("get", "/api/chat/sessions/{pk}/messages/"),
    ("post", "/api/chat/sessions/{pk}/messages/"),
    ("post", "/api/chat/sessions/{pk}/claim/"),
    ("post", "/api/chat/sessions/{pk}/transfer/"),
    ("post", "/api/chat/sessions/{pk}/end/"),
    ("get", "/api/users/"),
    ("post", "/api/users/"),
]


class TestStaffEndpointsRefuseCustomers:
    @pytest.mark.parametrize("method, path", STAFF_CALLS)
    def test_anonymous_is_refused(self, two_chats, method, path):
        first, _second = two_chats
        url = path.format(pk=first.pk)
        body = {"content": "sou agente", "to_agent": 1, "username": "intruso"}
        if method == "get":
            response = Client().get(url)
        else:
            response = post_json(Client(), url, body)
        assert response.status_code == 403
        assert response.json()["code"] == "not_authenticated"
        first.refresh_from_db()
        assert first.status == "waiting" and first.assigned_agent is None
        assert not ChatMessage.objects.filter(author="agent").exists()

    def test_a_signed_in_non_staff_user_is_refused(self, two_chats, django_user_model):
        first, _second = two_chats
        customer = make_user(django_user_model, "cliente")
        client = Client()
        client.force_login(customer)
        assert client.get("/api/chat/sessions/").status_code == 403
        assert post_json(client, f"/api/chat/sessions/{first.pk}/claim/", {}).status_code == 403


class TestReplyPermission:
    @pytest.fixture
    def viewer(self, django_user_model):
        """Staff without the reply permission (no group)."""
        return make_staff(django_user_model, "leitor")

    def test_staff_without_reply_permission_cannot_answer_as_agent(self, two_chats, viewer):
        first, _second = two_chats
        client = Client()
        client.force_login(viewer)
        body = {"session_id": str(first.session_id), "author": "agent", "content": "resposta"}
        assert post_json(client, "/api/chat/message", body).status_code == 403
        assert (
            post_json(client, f"/api/chat/sessions/{first.pk}/messages/", {"content": "resposta"}).status_code
            == 403
        )
        assert post_json(client, f"/api/chat/sessions/{first.pk}/claim/", {}).status_code == 403
        assert not ChatMessage.objects.filter(author="agent").exists()
        first.refresh_from_db()
        assert first.assigned_agent is None

    def test_an_agent_with_the_permission_can(self, two_chats, agent_client):
        first, _second = two_chats
        response = post_json(agent_client, f"/api/chat/sessions/{first.pk}/messages/", {"content": "Olá!"})
        assert response.status_code == 201

    def test_anyone_claiming_to_be_an_agent_is_refused(self, two_chats):
        first, _second = two_chats
        body = {"session_id": str(first.session_id), "author": "agent", "content": "sou da J&T"}
        assert post_json(Client(), "/api/chat/message", body).status_code == 403
        assert not ChatMessage.objects.filter(author="agent").exists()


class TestCors:
    def preflight(self, origin):
        return Client().options(
            "/api/chat/message",
            HTTP_ORIGIN=origin,
            HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
            HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
        )

    def test_no_other_origin_by_default(self, settings):
        settings.CORS_ALLOWED_ORIGINS = []
        assert "Access-Control-Allow-Origin" not in self.preflight("https://evil.example")
        response = post_json(Client(), "/api/chat/session", {}, HTTP_ORIGIN="https://evil.example")
        assert "Access-Control-Allow-Origin" not in response

    def test_only_the_listed_origins(self, settings):
        settings.CORS_ALLOWED_ORIGINS = ["https://parceiro.example"]
        allowed = self.preflight("https://parceiro.example")
        assert allowed["Access-Control-Allow-Origin"] == "https://parceiro.example"
        assert "Access-Control-Allow-Credentials" not in allowed  # never staff cookies cross-site
        assert "Access-Control-Allow-Origin" not in self.preflight("https://evil.example")

    def test_pages_are_never_shared_cross_origin(self, settings):
        settings.CORS_ALLOWED_ORIGINS = ["https://parceiro.example"]
        response = Client().get("/admin/login/", HTTP_ORIGIN="https://parceiro.example")
        assert "Access-Control-Allow-Origin" not in response


class TestCsrf:
    @pytest.fixture
    def strict_agent(self, agent):
        client = Client(enforce_csrf_checks=True)
        client.force_login(agent)
        client.get("/admin/", follow=True)  # the inbox sets the csrftoken cookie
        return client

    def test_a_signed_in_agent_needs_the_token(self, two_chats, strict_agent):
        first, _second = two_chats
        refused = post_json(strict_agent, f"/api/chat/sessions/{first.pk}/claim/", {})
        assert refused.status_code == 403
        assert "CSRF" in refused.json()["error"]
        first.refresh_from_db()
        assert first.assigned_agent is None

        token = strict_agent.cookies["csrftoken"].value
        accepted = post_json(
            strict_agent, f"/api/chat/sessions/{first.pk}/claim/", {}, HTTP_X_CSRFTOKEN=token
        )
        assert accepted.status_code == 200
        first.refresh_from_db()
        assert first.assigned_agent is not None

    def test_a_forged_post_from_an_agents_browser_cannot_answer_as_agent(self, two_chats, strict_agent):
        first, _second = two_chats
        body = {"session_id": str(first.session_id), "author": "agent", "content": "forjada"}
        assert post_json(strict_agent, "/api/chat/message", body).status_code == 403
        assert not ChatMessage.objects.filter(content="forjada").exists()

    def test_customers_need_no_token(self):
        response = post_json(Client(enforce_csrf_checks=True), "/api/chat/session", {})
        assert response.status_code == 201
        assert ChatSession.objects.count() == 1


class TestSecurityHeaders:
    def test_pages_cannot_be_framed_or_sniffed(self):
        response = Client().get("/")
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"

    def test_https_answers_carry_hsts(self):
        response = Client().get("/", secure=True)
        assert "max-age=" in response["Strict-Transport-Security"]
