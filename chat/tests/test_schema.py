"""The OpenAPI schema as the API's contract: what it says, and that the API keeps to it.

The schema is fuzzed from outside by chat/tests/test_schema_outside.py (schemathesis against
the real server, every phase and check, three identities); these tests pin the rules an
integrator reads in it, each with the answer the API gives.
"""

import uuid

import pytest
from django.test import Client

from chat import services
from chat.api.schema import LINKS
from chat.attachments.content import accepted_content_types
from conftest import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema():
    return Client().get("/api/schema/", {"format": "json"}).json()


def operation(schema, path: str, method: str) -> dict:
    return schema["paths"][path][method]


def documented(schema, path: str, method: str) -> set[int]:
    return {int(code) for code in operation(schema, path, method)["responses"] if code.isdigit()}


def parameter(schema, path: str, method: str, name: str) -> dict:
    return next(
        item for item in operation(schema, path, method).get("parameters", []) if item["name"] == name
    )


def component(schema, reference: str) -> dict:
    return schema["components"]["schemas"][reference.rsplit("/", 1)[-1]]


def request_schema(schema, path: str, method: str, media_type: str = "application/json") -> dict:
    return component(
        schema, operation(schema, path, method)["requestBody"]["content"][media_type]["schema"]["$ref"]
    )


# --- where the customer's key goes ------------------------------------------------------


def test_reads_take_the_key_in_a_required_header_and_writes_in_the_body(schema):
    for path in ("/api/chat/session", "/api/chat/messages"):
        assert parameter(schema, path, "get", "X-Chat-Session")["required"] is True
        assert parameter(schema, path, "get", "X-Chat-Session")["schema"]["format"] == "uuid"
    assert parameter(schema, "/api/chat/queue", "get", "X-Chat-Session").get("required", False) is False
    for path in ("/api/chat/end", "/api/chat/email"):
        body = request_schema(schema, path, "post")
        assert "session_id" in body["required"]
        assert not any(
            item["name"] == "X-Chat-Session" for item in operation(schema, path, "post").get("parameters", [])
        )


def test_reads_without_the_key_or_with_a_malformed_one_are_400():
    client = Client()
    assert client.get("/api/chat/session").status_code == 400
    assert client.get("/api/chat/messages").status_code == 400
    malformed = client.get("/api/chat/queue", HTTP_X_CHAT_SESSION="not-a-uuid")
    assert malformed.status_code == 400 and malformed.json()["code"] == "invalid"
    braces = client.get("/api/chat/session", HTTP_X_CHAT_SESSION=f"{{{uuid.uuid4()}}}")
    assert braces.status_code == 400
    assert client.get("/api/chat/queue").status_code == 200  # the service's state, for anyone


def test_writes_read_the_key_from_the_body_as_the_seed_sends_it():
    client = Client()
    key = client.post("/api/chat/session", {}, content_type="application/json").json()["session_id"]
    header_only = client.post(
        "/api/chat/message", {"content": "Olá"}, content_type="application/json", HTTP_X_CHAT_SESSION=key
    )
    assert header_only.status_code == 400
    assert "session_id" in header_only.json()["fields"]
    sent = client.post(
        "/api/chat/message",
        {"session_id": key, "author": "user", "content": "Olá"},
        content_type="application/json",
    )
    assert sent.status_code == 201
    ended = client.post("/api/chat/end", {"session_id": key, "rating": 5}, content_type="application/json")
    assert ended.status_code == 200 and ended.json()["satisfaction_rating"] == 5


# --- one message call, two shapes -------------------------------------------------------


def test_the_message_body_is_the_customers_shape_or_the_agents(schema):
    body = operation(schema, "/api/chat/message", "post")["requestBody"]
    assert body["required"] is True
    one_of = component(schema, body["content"]["application/json"]["schema"]["$ref"])["oneOf"]
    customer, agent = (component(schema, item["$ref"]) for item in one_of)
    assert component(schema, customer["properties"]["is_internal"]["allOf"][0]["$ref"])["enum"] == [False]
    authors = component(schema, customer["properties"]["author"]["allOf"][0]["$ref"])["enum"]
    assert authors == ["customer", "user"]
    assert {"author", "session_id", "content"} <= set(agent["required"])


def test_a_customer_cannot_send_an_internal_note():
    client = Client()
    key = client.post("/api/chat/session", {}, content_type="application/json").json()["session_id"]
    answer = client.post(
        "/api/chat/message",
        {"session_id": key, "content": "Oi", "is_internal": True},
        content_type="application/json",
    )
    assert answer.status_code == 400
    assert answer.json()["fields"] == {"is_internal": ["Clientes não podem escrever notas internas."]}


# --- types are the schema's -------------------------------------------------------------


@pytest.mark.parametrize(
    "body, field",
    [
        ({"tracking_code": 0}, "tracking_code"),
        ({"customer_name": ["Ana"]}, "customer_name"),
        ({"customer_email": 5}, "customer_email"),
        ({"topic": 1}, "topic"),
    ],
)
def test_opening_a_chat_refuses_values_of_the_wrong_type(body, field):
    answer = Client().post("/api/chat/session", body, content_type="application/json")
    assert answer.status_code == 400
    assert field in answer.json()["fields"]


@pytest.mark.parametrize("body", [None, [], "x", 0])
def test_a_body_that_is_not_an_object_is_refused(body):
    import json

    answer = Client().post("/api/chat/session", json.dumps(body), content_type="application/json")
    assert answer.status_code == 400


@pytest.mark.parametrize(
    "extra, field",
    [
        ({"rating": "5"}, "rating"),
        ({"rating": 4.0}, "rating"),
        ({"rating": True}, "rating"),
        ({"comment": 3}, "comment"),
    ],
)
def test_ending_refuses_values_of_the_wrong_type(extra, field):
    client = Client()
    key = client.post("/api/chat/session", {}, content_type="application/json").json()["session_id"]
    answer = client.post("/api/chat/end", {"session_id": key, **extra}, content_type="application/json")
    assert answer.status_code == 400 and field in answer.json()["fields"]


def test_a_key_that_is_not_a_hyphenated_uuid_is_refused():
    client = Client()
    key = client.post("/api/chat/session", {}, content_type="application/json").json()["session_id"]
    for variant in (key.replace("-", ""), f"urn:uuid:{key}", uuid.UUID(key).int):
        answer = client.post(
            "/api/chat/message", {"session_id": variant, "content": "Oi"}, content_type="application/json"
        )
        assert answer.status_code == 400, variant


def test_text_fields_say_what_the_api_takes(schema):
    content = component(schema, "CustomerMessageRequest")["properties"]["content"]
    assert content["pattern"] == r"^[^\x00]*[^\x00\s][^\x00]*$"  # not blank, no NUL
    assert content["maxLength"] == 4000
    name = request_schema(schema, "/api/chat/session", "post")["properties"]["customer_name"]
    assert name["oneOf"] == [  # "" or text without NUL
        {"type": "string", "pattern": r"^[^\x00]+$", "maxLength": 120},
        {"type": "string", "maxLength": 0},
    ]


# --- errors -----------------------------------------------------------------------------


def test_error_answers_are_documented(schema):
    assert {400, 403, 404, 409, 413, 415, 429} <= documented(schema, "/api/chat/message", "post")
    assert {400, 403, 413, 415, 429} <= documented(schema, "/api/chat/session", "post")
    assert {400, 404} <= documented(schema, "/api/chat/messages", "get")
    assert {400, 404} <= documented(schema, "/api/chat/queue", "get")
    assert {403, 404} <= documented(schema, "/api/chat/sessions/{id}/claim/", "post")
    assert {400, 403, 404, 409} <= documented(schema, "/api/chat/sessions/{id}/transfer/", "post")
    assert {404} <= documented(schema, "/api/chat/reopen", "post")
    assert {400, 403, 409} <= documented(schema, "/api/users/", "post")
    assert 403 in documented(schema, "/api/users/", "get")


def test_every_error_answer_has_the_error_shape(schema):
    for path, operations in schema["paths"].items():
        for method, spec in operations.items():
            for code, answer in spec["responses"].items():
                if code.startswith(("4", "5")):
                    reference = answer["content"]["application/json"]["schema"]["$ref"]
                    assert reference == "#/components/schemas/Error", (method, path, code)


def test_unknown_api_urls_answer_json_and_pages_html():
    api = Client().get("/api/chat/sessions/abc.def/claim/")
    assert api.status_code == 404
    assert api.json() == {"error": api.json()["error"], "code": "not_found"}
    page = Client().get("/nowhere/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


# --- links and uploads ------------------------------------------------------------------


def test_links_walk_the_customer_and_staff_flows(schema):
    ids = {spec["operationId"] for operations in schema["paths"].values() for spec in operations.values()}
    opened = operation(schema, "/api/chat/session", "post")["responses"]["201"]["links"]
    assert {"GetChat", "SendMessage", "History", "End"} <= set(opened)
    assert opened["SendMessage"]["requestBody"] == {"session_id": "$response.body#/session_id"}
    claimed = operation(schema, "/api/chat/sessions/{id}/claim/", "post")["responses"]["200"]["links"]
    assert {"Reply", "End"} <= set(claimed)
    for (source, _code), links in LINKS.items():
        assert source in ids
        assert all(target in ids for target, _ in links.values())


def test_uploads_name_the_file_types_they_take(schema):
    form = operation(schema, "/api/chat/attachments", "post")["requestBody"]["content"]["multipart/form-data"]
    assert form["encoding"]["files"]["contentType"].split(", ") == accepted_content_types()
    assert "application/pdf" in accepted_content_types()


# --- integrators' edge cases, as the fuzzing found them ---------------------------------


def test_paging_values_out_of_range_are_refused(django_user_model, client):
    client.force_login(make_staff(django_user_model, "gestora", "Gestores"))
    assert client.get("/api/users/", {"offset": "x"}).status_code == 400
    assert client.get("/api/users/", {"limit": "0"}).status_code == 400
    assert client.get("/api/users/", {"limit": "201"}).status_code == 400
    assert client.get("/api/users/", {"limit": "1", "offset": "0"}).json()["count"] == 1


def test_a_username_in_use_is_a_conflict(django_user_model, client):
    client.force_login(make_staff(django_user_model, "gestora", "Gestores"))
    answer = client.post(
        "/api/users/",
        {"username": "gestora", "password": "Senha-forte-2026"},
        content_type="application/json",
    )
    assert answer.status_code == 409
    assert answer.json()["code"] == "conflict" and "username" in answer.json()["fields"]


def test_groups_must_be_a_list_of_existing_groups(django_user_model, client, schema):
    client.force_login(make_staff(django_user_model, "gestora", "Gestores"))
    agent = make_staff(django_user_model, "ana", "Agentes")
    for groups in ({}, "Agentes", ["Ninguém"]):
        answer = client.patch(f"/api/users/{agent.pk}/", {"groups": groups}, content_type="application/json")
        assert answer.status_code == 400, groups
    groups = request_schema(schema, "/api/users/", "post")["properties"]["groups"]["items"]
    assert component(schema, groups["allOf"][0]["$ref"])["enum"] == ["Agentes", "Gestores"]


def test_a_transfer_to_someone_absent_or_unknown_says_which(agent, other_agent, client):
    client.force_login(agent)
    session = services.session_open(customer_name="Ana")
    services.customer_message_post(session_key=session.session_id, content="Olá")
    unknown = client.post(
        f"/api/chat/sessions/{session.pk}/transfer/", {"to_agent": 99999}, content_type="application/json"
    )
    assert unknown.status_code == 404 and unknown.json()["code"] == "agent_not_found"
    away = client.post(
        f"/api/chat/sessions/{session.pk}/transfer/",
        {"to_agent": other_agent.pk},
        content_type="application/json",
    )
    assert away.status_code == 409 and away.json()["code"] == "agent_unavailable"


def test_a_reopen_link_that_leads_nowhere_is_404():
    answer = Client().post("/api/chat/reopen", {"token": "forjado"}, content_type="application/json")
    assert answer.status_code == 404 and answer.json()["code"] == "link_invalid"


def test_the_docs_page_shows_both_flows_in_portuguese(schema, client):
    description = schema["info"]["description"]
    assert "## Fluxo do cliente" in description and "## Fluxo da mesa (agentes)" in description
    assert "POST /api/chat/sessions/{id}/claim/" in description
    examples = operation(schema, "/api/chat/message", "post")["requestBody"]["content"]["application/json"]
    assert examples["examples"]["MensagemDoCliente"]["value"]["content"].startswith("Olá")
    assert client.get("/api/docs/").status_code == 200


def test_a_query_parameter_a_call_does_not_take_is_refused(django_user_model, client):
    client.force_login(make_staff(django_user_model, "gestora", "Gestores"))
    typo = client.get("/api/chat/sessions/", {"statu": "waiting"})
    assert typo.status_code == 400 and list(typo.json()["fields"]) == ["statu"]
    assert client.get("/api/chat/sessions/", {"status": "waiting", "limit": "5"}).status_code == 200
    assert client.get("/api/users/", {"ordering": "username"}).status_code == 400
    assert client.get("/api/chat/analytics/", {"from": "2026-01-01", "days": "3"}).status_code == 400
    assert Client().get("/api/chat/queue", {"x": "1"}).status_code == 400
    assert Client().get("/api/chat/sessions/", {"statu": "x"}).status_code == 403  # who first
