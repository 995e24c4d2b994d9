"""Fuzzed API: schemathesis drives every operation of our own OpenAPI schema.

Checked: no answer is a 5xx, and every answer's status, content type, headers and body
match what the schema documents. Left out: schemathesis's guesses about which requests
should be accepted or refused, since the customer's key may come in the body or in the
X-Chat-Session header (OpenAPI 3.0 cannot say "one of the two"), and DRF accepts a number
for a text field.
"""

from contextlib import contextmanager

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import negative_data_rejection, positive_data_acceptance

from chat import services
from conftest import make_staff

pytestmark = pytest.mark.django_db

EXAMPLES = 10
EXCLUDED_CHECKS = [positive_data_acceptance, negative_data_rejection]
# Bounded (CI runs the suite twice in 20 minutes); no example database left in the tree.
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)

schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@contextmanager
def transaction_kept_open():
    """What Django's test client does: requests must not close the test's open transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def staff_headers(django_user_model):
    """A signed-in superuser's cookie and CSRF token, and a few chats to act on."""
    make_staff(django_user_model, "fuzz-admin", is_superuser=True)
    for name in ("Ana", "Bia", "Caio"):
        session = services.session_open(customer_name=name)
        services.customer_message_post(session_key=session.session_id, content="Olá")
    client = Client()
    client.force_login(django_user_model.objects.get(username="fuzz-admin"))
    client.get("/admin/", follow=True)  # the inbox sets the csrftoken cookie
    cookies = {name: morsel.value for name, morsel in client.cookies.items()}
    return {
        "Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items()),
        "X-CSRFToken": cookies["csrftoken"],
    }


@schema.parametrize()
@FUZZ_SETTINGS
def test_anonymous(case):
    with transaction_kept_open():
        case.call_and_validate(excluded_checks=EXCLUDED_CHECKS)


@schema.parametrize()
@FUZZ_SETTINGS
def test_signed_in_agent(case, staff_headers):
    with transaction_kept_open():
        case.call_and_validate(headers=staff_headers, excluded_checks=EXCLUDED_CHECKS)


def documented(path: str, method: str) -> set[int]:
    return {int(code) for code in schema.raw_schema["paths"][path][method]["responses"] if code.isdigit()}


def test_error_answers_are_documented():
    assert {400, 403, 404, 409, 413, 415, 429} <= documented("/api/chat/message", "post")
    assert {400, 403, 413, 415, 429} <= documented("/api/chat/session", "post")
    assert {400, 404} <= documented("/api/chat/messages", "get")
    assert {403, 404} <= documented("/api/chat/sessions/{id}/claim/", "post")
    assert {400, 403} <= documented("/api/users/", "post")
    assert 403 in documented("/api/users/", "get")


def test_every_error_answer_has_the_error_shape():
    for path, operations in schema.raw_schema["paths"].items():
        for method, operation in operations.items():
            for code, answer in operation["responses"].items():
                if code.startswith(("4", "5")):
                    reference = answer["content"]["application/json"]["schema"]["$ref"]
                    assert reference == "#/components/schemas/Error", (method, path, code)


def test_unknown_api_urls_answer_json_and_pages_html():
    api = Client().get("/api/chat/sessions/abc.def/claim/")
    assert api.status_code == 404
    assert api.json() == {"error": api.json()["error"], "code": "not_found"}
    page = Client().get("/nowhere/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")
