"""/metrics: who may read it, what it says about HTTP requests, and the labels it uses."""

import subprocess
import sys

import pytest
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families

from chat import services
from jtchat.testing import BASE_DIR

pytestmark = pytest.mark.django_db

TOKEN = "scrape-token-for-tests-0123456789"


@pytest.fixture(autouse=True)
def _metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = []


def scrape(client) -> dict:
    """{(name, ((label, value), ...)): value} of every sample /metrics answers."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


# --- who may read it ---------------------------------------------------------------------


def test_without_credentials_the_answer_is_401_and_holds_no_figures(client):
    client.post("/api/chat/session", {}, content_type="application/json")
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["code"] == "not_authenticated"
    assert b"jtchat_" not in response.content and b"# HELP" not in response.content


def test_a_wrong_token_gets_403_and_no_figures(client):
    for header in (f"Bearer {TOKEN}x", "Bearer wrong", f"Bearer {TOKEN[:-1]}"):
        response = client.get("/metrics", HTTP_AUTHORIZATION=header)
        assert response.status_code == 403
        assert b"jtchat_" not in response.content


def test_no_token_configured_refuses_even_an_empty_or_guessed_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz").status_code == 401


def test_the_token_reads_the_metrics(client):
    samples = scrape(client)
    assert any(name == "jtchat_chats_waiting" for name, _labels in samples)


def test_an_address_in_the_allow_list_reads_without_a_token(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8", "fd00::/8"]
    assert client.get("/metrics", REMOTE_ADDR="10.20.30.40").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="fd00::1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 401


def test_behind_proxies_a_forged_forwarded_address_does_not_pass_the_allow_list(client, settings):
    """On Render the proxy's own address is private; the client's is what counts."""
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    settings.TRUSTED_PROXY_COUNT = 2
    forged = client.get(
        "/metrics", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="10.0.0.9, 203.0.113.9, 172.64.0.1"
    )
    assert forged.status_code == 401
    private = client.get("/metrics", REMOTE_ADDR="10.0.0.7")  # a private service, no proxy
    assert private.status_code == 200


def test_only_get_is_answered(client):
    response = client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 405


def test_a_bad_allow_list_stops_start_up_with_a_clear_message():
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=BASE_DIR,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "jtchat.settings",
            "DEBUG": "1",
            "METRICS_ALLOWED_NETWORKS": "10.0.0.0/8,render-private",
        },
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "METRICS_ALLOWED_NETWORKS" in result.stderr and "'render-private'" in result.stderr


# --- what it says about requests ---------------------------------------------------------


def test_requests_are_counted_by_route_name_method_and_status(client):
    before = scrape(client)
    key = client.post("/api/chat/session", {}, content_type="application/json").json()["session_id"]
    client.post("/api/chat/message", {"session_id": key, "content": "Olá"}, content_type="application/json")
    client.post("/api/chat/message", {"session_id": key, "content": ""}, content_type="application/json")
    client.get("/nothing/here/123456")
    after = scrape(client)

    def delta(**labels):
        name = "jtchat_http_requests_total"
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta(route="chat-session", method="POST", status="201") == 1
    assert delta(route="chat-message", method="POST", status="201") == 1
    assert delta(route="chat-message", method="POST", status="400") == 1
    assert delta(route="unmatched", method="GET", status="404") == 1
    timed = "jtchat_http_request_duration_seconds_count"
    assert value(after, timed, route="chat-message", method="POST") - value(
        before, timed, route="chat-message", method="POST"
    ) == pytest.approx(2)


def test_labels_never_carry_ids_keys_or_paths(client, agent_client):
    key = client.post("/api/chat/session", {}, content_type="application/json").json()["session_id"]
    session = services.session_open()
    agent_client.get(f"/api/chat/sessions/{session.pk}/")
    agent_client.get(f"/api/chat/sessions/{session.pk + 1000}/messages/")
    client.get(f"/api/chat/{key}")
    client.generic("BREW", "/api/chat/session")
    samples = scrape(client)
    routes = {dict(labels).get("route") for _name, labels in samples if dict(labels).get("route")}
    methods = {dict(labels).get("method") for _name, labels in samples if dict(labels).get("method")}
    assert "staff-session-detail" in routes and "staff-session-messages" in routes
    assert "unmatched" in routes
    for route in routes:
        assert "/" not in route and key not in route, route
        assert str(session.pk) not in route.split("-") and str(session.pk + 1000) not in route, route
    assert "BREW" not in methods and "other" in methods


def test_each_request_reports_how_many_queries_it_ran(client):
    key = client.post("/api/chat/session", {}, content_type="application/json").json()["session_id"]
    before = scrape(client)
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        client.post(
            "/api/chat/message", {"session_id": key, "content": "Oi"}, content_type="application/json"
        )
    after = scrape(client)
    name = "jtchat_http_request_db_queries_sum"
    ran = value(after, name, route="chat-message") - value(before, name, route="chat-message")
    assert ran == len(queries) > 0


def test_metrics_enabled_off_removes_the_instrumentation():
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "from chat.instruments import MESSAGES; from jtchat import prometheus; "
        "print(any('Metrics' in m for m in settings.MIDDLEWARE), MESSAGES is prometheus.NO_METRIC)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "jtchat.settings",
            "DEBUG": "1",
            "METRICS_ENABLED": "0",
        },
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]
