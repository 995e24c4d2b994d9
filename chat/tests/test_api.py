import json
import uuid

import pytest
from django.test import Client

from chat import services
from chat.models import ChatMessage, ChatSession
from conftest import bring_online, make_staff

pytestmark = pytest.mark.django_db

JSON = "application/json"


def post_json(client, url, body, **headers):
    return client.post(
        url, json.dumps(body) if not isinstance(body, (str, bytes)) else body, content_type=JSON, **headers
    )


@pytest.fixture
def api():
    return Client()


@pytest.fixture
def session_key(api):
    return post_json(api, "/api/chat/session", {}).json()["session_id"]


class TestSeedContract:
    """The seed README's three curl calls, as written."""

    def test_open_send_end(self, api):
        opened = post_json(api, "/api/chat/session", {}, HTTP_USER_AGENT="curl/8.0")
        assert opened.status_code == 201
        key = opened.json()["session_id"]
        session = ChatSession.objects.get(session_id=key)
        assert session.user_ip == "127.0.0.1" and session.user_agent == "curl/8.0"

        sent = post_json(
            api, "/api/chat/message", {"session_id": key, "author": "user", "content": "Olá, tudo bem?"}
        )
        assert sent.status_code == 201
        assert sent.json()["author"] == "customer"
        assert sent.json()["content"] == "Olá, tudo bem?"

        ended = post_json(api, "/api/chat/end", {"session_id": key, "rating": 5})
        assert ended.status_code == 200
        assert ended.json()["status"] == "ended"
        session.refresh_from_db()
        assert session.satisfaction_rating == 5

    def test_open_with_customer_fields(self, api):
        response = post_json(
            api,
            "/api/chat/session",
            {
                "customer_name": "João",
                "customer_email": "joao@example.com",
                "tracking_code": "JT0001",
                "topic": "rastreamento",
            },
        )
        assert response.status_code == 201
        body = response.json()
        assert body["customer_name"] == "João"
        assert body["queue"]["position"] == 1
        assert body["queue"]["waiting_chats"] == 1

    def test_open_with_an_empty_body(self, api):
        # what `curl -X POST .../api/chat/session` sends: no body at all
        assert api.post("/api/chat/session", "", content_type=JSON).status_code == 201


class TestBadInput:
    def test_a_customer_cannot_write_an_internal_note(self, api, session_key):
        response = post_json(
            api, "/api/chat/message", {"session_id": session_key, "content": "psst", "is_internal": True}
        )
        assert response.status_code == 400
        assert "is_internal" in response.json()["fields"]
        assert not ChatMessage.objects.exists()

    def test_unknown_session_is_404(self, api):
        response = post_json(api, "/api/chat/message", {"session_id": str(uuid.uuid4()), "content": "oi"})
        assert response.status_code == 404
        assert response.json()["code"] == "session_not_found"
        assert ChatMessage.objects.count() == 0

    def test_malformed_session_id_is_400(self, api):
        response = post_json(api, "/api/chat/message", {"session_id": "abc", "content": "oi"})
        assert response.status_code == 400
        assert "session_id" in response.json()["fields"]

    def test_missing_session_id_is_400(self, api):
        assert post_json(api, "/api/chat/message", {"content": "oi"}).status_code == 400

    def test_message_to_an_ended_session_is_409(self, api, session_key):
        post_json(api, "/api/chat/end", {"session_id": session_key})
        response = post_json(api, "/api/chat/message", {"session_id": session_key, "content": "oi"})
        assert response.status_code == 409
        assert response.json()["code"] == "session_ended"
        assert not ChatMessage.objects.filter(author="customer").exists()

    @pytest.mark.parametrize("rating", [0, 6, -3, 4.5, "cinco", True, [5], {"v": 5}])
    def test_rating_outside_1_to_5_or_not_an_integer_is_400(self, api, session_key, rating):
        response = post_json(api, "/api/chat/end", {"session_id": session_key, "rating": rating})
        assert response.status_code == 400, response.content
        assert "rating" in response.json()["fields"]
        session = ChatSession.objects.get(session_id=session_key)
        assert session.status == "waiting" and session.satisfaction_rating is None

    @pytest.mark.parametrize("content", ["", "   ", "\n\t", "x" * 4001])
    def test_empty_blank_or_too_long_content_is_400(self, api, session_key, content):
        response = post_json(api, "/api/chat/message", {"session_id": session_key, "content": content})
        assert response.status_code == 400
        assert "content" in response.json()["fields"]
        assert ChatMessage.objects.count() == 0

    def test_content_must_be_present(self, api, session_key):
        assert post_json(api, "/api/chat/message", {"session_id": session_key}).status_code == 400

    @pytest.mark.parametrize("body", ["{bad json", '{"session_id": ', "[1, 2", "\xff\xfe"])
    def test_malformed_json_is_400(self, api, body):
        response = api.post("/api/chat/message", body, content_type=JSON)
        assert response.status_code == 400
        assert response.json()["code"] == "parse_error"

    def test_json_that_is_not_an_object_is_400(self, api):
        assert post_json(api, "/api/chat/message", [1, 2]).status_code == 400
        assert post_json(api, "/api/chat/end", "null").status_code == 400

    def test_not_json_is_refused(self, api, session_key):
        response = api.post("/api/chat/message", {"session_id": session_key, "content": "oi"})
        assert response.status_code == 415
        assert ChatMessage.objects.count() == 0

    def test_body_over_the_size_limit_is_413(self, api, session_key, settings):
        body = {"session_id": session_key, "content": "x" * (settings.CHAT_MAX_BODY_BYTES + 10)}
        response = post_json(api, "/api/chat/message", body)
        assert response.status_code == 413
        assert response.json()["code"] == "too_large"
        assert ChatMessage.objects.count() == 0

    def test_author_agent_without_an_agent_login_is_403(self, api, session_key):
        body = {"session_id": session_key, "author": "agent", "content": "Sou agente"}
        response = post_json(api, "/api/chat/message", body)
        assert response.status_code == 403
        assert ChatMessage.objects.count() == 0

    def test_author_agent_from_staff_without_reply_permission_is_403(self, session_key, django_user_model):
        client = Client()
        client.force_login(make_staff(django_user_model, "leitor"))
        body = {"session_id": session_key, "author": "agent", "content": "Sou agente"}
        assert post_json(client, "/api/chat/message", body).status_code == 403

    def test_unknown_author_is_400(self, api, session_key):
        body = {"session_id": session_key, "author": "system", "content": "hack"}
        assert post_json(api, "/api/chat/message", body).status_code == 400

    def test_repeated_client_id_returns_the_first_message_with_200(self, api, session_key):
        body = {"session_id": session_key, "content": "oi", "client_id": str(uuid.uuid4())}
        first = post_json(api, "/api/chat/message", body)
        again = post_json(api, "/api/chat/message", body)
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json()["id"] == first.json()["id"]
        assert ChatMessage.objects.count() == 1

    def test_malformed_client_id_is_400(self, api, session_key):
        body = {"session_id": session_key, "content": "oi", "client_id": "not-a-uuid"}
        assert post_json(api, "/api/chat/message", body).status_code == 400

    def test_bad_email_on_open_is_400(self, api):
        response = post_json(api, "/api/chat/session", {"customer_email": "nope"})
        assert response.status_code == 400
        assert ChatSession.objects.count() == 0

    def test_wrong_method_is_405(self, api):
        assert api.get("/api/chat/message").status_code == 405
        assert api.delete("/api/chat/end").status_code == 405


class TestCustomerReads:
    def test_history_and_catch_up_hide_internal_notes(self, api, session_key, agent):
        session = ChatSession.objects.get(session_id=session_key)
        first = services.customer_message_post(session_key=session.session_id, content="oi").message
        services.agent_message_post(session_pk=session.pk, agent=agent, content="nota", is_internal=True)
        reply = services.agent_message_post(session_pk=session.pk, agent=agent, content="Olá!").message

        everything = api.get("/api/chat/messages", HTTP_X_CHAT_SESSION=session_key).json()
        contents = [m["content"] for m in everything["messages"]]
        assert "nota" not in contents
        assert contents[0] == "oi" and contents[-1] == "Olá!"
        assert everything["status"] == "active"

        after = api.get(f"/api/chat/messages?after={first.pk}", HTTP_X_CHAT_SESSION=session_key).json()
        assert [m["id"] for m in after["messages"]][-1] == reply.pk
        assert first.pk not in [m["id"] for m in after["messages"]]
        assert after["messages"][-1]["agent_name"] == "Ana"

    def test_history_needs_the_session_key_header(self, api, session_key):
        assert api.get("/api/chat/messages").status_code == 400
        assert api.get("/api/chat/messages", HTTP_X_CHAT_SESSION=str(uuid.uuid4())).status_code == 404
        assert api.get("/api/chat/messages?after=-1", HTTP_X_CHAT_SESSION=session_key).status_code == 400
        assert api.get("/api/chat/messages?after=x", HTTP_X_CHAT_SESSION=session_key).status_code == 400

    def test_session_state_by_header(self, api, session_key, agent):
        session = ChatSession.objects.get(session_id=session_key)
        services.session_claim(session=session, agent=agent)
        body = api.get("/api/chat/session", HTTP_X_CHAT_SESSION=session_key).json()
        assert body["status"] == "active"
        assert body["agent_name"] == "Ana"
        assert body["queue"]["position"] == 0

    def test_queue_status_counts_agents_online_and_positions(
        self, api, agent, other_agent, django_user_model
    ):
        paused = make_staff(django_user_model, "off", "Agentes", accepting_chats=False)
        bring_online(agent, paused)  # other_agent has no admin page open
        keys = [post_json(api, "/api/chat/session", {}).json()["session_id"] for _ in range(3)]
        public = api.get("/api/chat/queue").json()
        assert public == {
            "service": "available",
            "agents_available": 1,
            "waiting_chats": 3,
            "opens_at": None,
            "holidays": [],
        }
        mine = api.get("/api/chat/queue", HTTP_X_CHAT_SESSION=keys[2]).json()
        assert mine["position"] == 3
        assert mine["estimated_wait_seconds"] > 0
        services.session_claim(session=ChatSession.objects.get(session_id=keys[0]), agent=agent)
        assert api.get("/api/chat/queue", HTTP_X_CHAT_SESSION=keys[2]).json()["position"] == 2

    def test_the_session_key_never_needs_a_url(self):
        from django.urls import get_resolver

        patterns = [str(p.pattern) for p in get_resolver().url_patterns]
        assert not any("session_id" in pattern for pattern in patterns)


class TestStaffEndpoints:
    def test_customers_are_refused(self, api, session_key):
        session = ChatSession.objects.get(session_id=session_key)
        assert api.get("/api/chat/sessions/").status_code == 403
        assert api.get(f"/api/chat/sessions/{session.pk}/").status_code == 403
        assert api.post(f"/api/chat/sessions/{session.pk}/claim/").status_code == 403
        assert api.get("/api/users/").status_code == 403

    def test_list_puts_waiting_first_oldest_first(self, agent_client, agent):
        older = services.session_open(customer_name="A")
        newer = services.session_open(customer_name="B")
        active = services.session_open(customer_name="C")
        services.session_claim(session=active, agent=agent)
        services.customer_message_post(session_key=newer.session_id, content="oi")
        services.customer_message_post(session_key=older.session_id, content="oi")  # waits less
        rows = agent_client.get("/api/chat/sessions/").json()["results"]
        assert [row["customer_name"] for row in rows] == ["B", "A", "C"]
        assert "session_id" not in rows[0]
        waiting = agent_client.get("/api/chat/sessions/?status=waiting").json()["results"]
        assert {row["customer_name"] for row in waiting} == {"A", "B"}
        assert agent_client.get("/api/chat/sessions/?status=nope").status_code == 400

    def test_detail_transcript_reply_claim_end(self, agent_client, agent, other_agent):
        session = services.session_open(customer_name="Rita")
        services.customer_message_post(session_key=session.session_id, content="oi")
        base = f"/api/chat/sessions/{session.pk}/"
        assert agent_client.get(base).json()["customer_name"] == "Rita"
        assert agent_client.get("/api/chat/sessions/999999/").status_code == 404

        claimed = agent_client.post(base + "claim/")
        assert claimed.status_code == 200 and claimed.json()["agent_name"] == "Ana"

        note = post_json(agent_client, base + "messages/", {"content": "vip", "is_internal": True})
        reply = post_json(agent_client, base + "messages/", {"content": "Olá Rita"})
        assert (note.status_code, reply.status_code) == (201, 201)
        transcript = agent_client.get(base + "messages/").json()["messages"]
        assert [m["content"] for m in transcript][-2:] == ["vip", "Olá Rita"]

        other = Client()
        other.force_login(other_agent)
        lost = other.post(base + "claim/")
        assert lost.status_code == 409 and "Ana" in lost.json()["error"]

        ended = agent_client.post(base + "end/")
        assert ended.json()["status"] == "ended" and ended.json()["ended_by"] == "agent"
        assert post_json(agent_client, base + "messages/", {"content": "?"}).status_code == 409

    def test_transfer(self, agent_client, agent, other_agent):
        bring_online(other_agent)
        session = services.session_open()
        services.session_claim(session=session, agent=agent)
        url = f"/api/chat/sessions/{session.pk}/transfer/"
        assert post_json(agent_client, url, {"to_agent": other_agent.pk}).json()["agent_name"] == "Bruno"
        unknown = post_json(agent_client, url, {"to_agent": 99999})
        assert unknown.status_code == 404 and unknown.json()["code"] == "agent_not_found"

    def test_transfer_with_a_handover_note_for_the_agents_only(self, agent_client, agent, other_agent):
        bring_online(other_agent)
        session = services.session_open()
        services.session_claim(session=session, agent=agent)
        url = f"/api/chat/sessions/{session.pk}/transfer/"
        too_long = post_json(agent_client, url, {"to_agent": other_agent.pk, "note": "x" * 4001})
        assert too_long.status_code == 400 and "note" in too_long.json()["fields"]
        session.refresh_from_db()
        assert session.assigned_agent == agent  # refused: nothing changed

        done = post_json(agent_client, url, {"to_agent": other_agent.pk, "note": "  Cliente VIP  "})

        assert done.status_code == 200 and done.json()["agent_name"] == "Bruno"
        note = session.messages.get(is_internal=True)
        assert (note.author, note.agent, note.content) == ("agent", agent, "Cliente VIP")
        customer = Client(HTTP_X_CHAT_SESSION=str(session.session_id))
        seen = [message["content"] for message in customer.get("/api/chat/messages").json()["messages"]]
        assert "Cliente VIP" not in seen and any("Bruno" in text for text in seen)

    def test_agent_with_login_can_send_as_agent_on_the_seed_endpoint(self, agent_client, session_key):
        body = {"session_id": session_key, "author": "agent", "content": "Olá, aqui é a Ana"}
        response = post_json(agent_client, "/api/chat/message", body)
        assert response.status_code == 201
        assert response.json()["agent_name"] == "Ana"


class TestUsersApi:
    def test_only_managers_can_list_or_create(self, agent, manager):
        client = Client()
        client.force_login(agent)
        assert client.get("/api/users/").status_code == 403
        new = {"username": "novo", "password": "s3nha-forte-123", "is_staff": True}
        assert post_json(client, "/api/users/", new).status_code == 403
        client.force_login(manager)
        created = post_json(client, "/api/users/", new)
        assert created.status_code == 201
        assert "password" not in created.json()
        assert type(agent).objects.get(username="novo").check_password("s3nha-forte-123")


class TestSchemaAndDocs:
    def test_schema_and_docs_are_served_without_internet(self, api):
        schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
        assert schema.status_code == 200
        paths = json.loads(schema.content)["paths"]
        for path in ["/api/chat/session", "/api/chat/message", "/api/chat/end", "/api/chat/messages"]:
            assert path in paths
        docs = api.get("/api/docs/")
        assert docs.status_code == 200
        html = docs.content.decode()
        assert "cdn." not in html and "unpkg" not in html


class TestHealth:
    def test_health_checks_the_database(self, api):
        response = api.get("/healthz")
        assert response.status_code == 200
        assert response.json()["database"] == "ok"
