"""Structured logs: one JSON line per request, with nothing a customer typed or holds."""

import json
import logging
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import Client

from chat import services
from jtchat.logging import JsonFormatter

pytestmark = pytest.mark.django_db

JSON = "application/json"
SECRET_TEXT = "meu CPF é 123.456.789-00"


def request_lines(caplog) -> list[dict]:
    formatter = JsonFormatter()
    return [
        json.loads(formatter.format(record)) for record in caplog.records if record.name == "jtchat.request"
    ]


def test_one_line_per_request_with_status_and_duration(caplog):
    caplog.set_level(logging.INFO, logger="jtchat.request")
    Client().post("/api/chat/session", "{}", content_type=JSON)
    Client().get("/api/chat/queue")
    lines = request_lines(caplog)
    assert [(line["method"], line["path"], line["status"]) for line in lines] == [
        ("POST", "/api/chat/session", 201),
        ("GET", "/api/chat/queue", 200),
    ]
    for line in lines:
        assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
        assert line["level"] == "INFO" and line["time"]


def test_no_session_key_message_text_or_query_string_in_the_log(caplog):
    caplog.set_level(logging.DEBUG)
    session = services.session_open(customer_name="Maria Cliente", customer_email="maria@example.com")
    key = str(session.session_id)
    client = Client()
    client.post(
        "/api/chat/message",
        json.dumps({"session_id": key, "content": SECRET_TEXT}),
        content_type=JSON,
    )
    client.get("/api/chat/messages?after=0&token=abc-secret-token", HTTP_X_CHAT_SESSION=key)
    client.post("/api/chat/end", json.dumps({"session_id": key, "comment": SECRET_TEXT}), content_type=JSON)
    client.post("/api/chat/message", "{not json " + SECRET_TEXT, content_type=JSON)

    formatter = JsonFormatter()
    text = "\n".join(formatter.format(record) for record in caplog.records)
    assert "/api/chat/messages" in text
    for secret in (key, key.replace("-", ""), SECRET_TEXT, "abc-secret-token", "maria@example.com"):
        assert secret not in text


def test_staff_requests_carry_the_user_id(agent_client, agent, caplog):
    caplog.set_level(logging.INFO, logger="jtchat.request")
    agent_client.get("/api/chat/sessions/")
    Client().get("/api/chat/queue")
    staff_line, anonymous_line = request_lines(caplog)
    assert staff_line["user_id"] == agent.pk
    assert anonymous_line["user_id"] is None


def test_a_failing_request_is_logged_with_its_status(caplog, monkeypatch):
    caplog.set_level(logging.INFO)

    def explode(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("chat.services.session_open", explode)
    client = Client(raise_request_exception=False)
    response = client.post("/api/chat/session", "{}", content_type=JSON)
    assert response.status_code == 500
    lines = request_lines(caplog)
    assert lines[-1]["status"] == 500
    errors = [JsonFormatter().format(r) for r in caplog.records if r.name == "django.request"]
    assert errors and "RuntimeError: boom" in json.loads(errors[0])["exception"]


def test_each_log_record_is_one_json_line():
    formatter = JsonFormatter()
    try:
        raise ValueError("multi\nline")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed %s", ("here",), sys.exc_info())
    record.path = "/api/chat/message"
    line = formatter.format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "failed here"
    assert parsed["path"] == "/api/chat/message"
    assert "ValueError: multi" in parsed["exception"]


@pytest.mark.slow
def test_the_settings_send_json_lines_to_stderr(tmp_path):
    """The real LOGGING configuration, in a fresh process as a server would start."""
    script = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "Client().get('/healthz?password=hunter2')\n"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update(
        DJANGO_SETTINGS_MODULE="jtchat.settings",
        DEBUG="0",
        SECRET_KEY="x" * 60,
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="0",
        SQLITE_PATH=str(tmp_path / "log.sqlite3"),
        REDIS_URL="",
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    request_line = next(line for line in lines if line["logger"] == "jtchat.request")
    assert request_line["path"] == "/healthz" and request_line["status"] == 200
    assert "hunter2" not in result.stderr
