"""Sentry: errors reach the DSN, and nothing personal goes with them; a bad DSN only warns."""

import gzip
import json
import subprocess
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from jtchat import sentry
from jtchat.testing import BASE_DIR, free_port, server_env, wait_for_port

NAME = "Maria Aparecida Silva"
EMAIL = "maria.silva@example.com"
CLIENT_IP = "198.51.100.23"
CONTENT = "Meu pedido JT0012345678BR não chegou, moro na Rua das Flores 12"
SESSION_COOKIE = "k3v9sessioncookievalue0000abcd"
CSRF_COOKIE = "csrfcookievalue1111efgh"


class SentryStandIn(ThreadingHTTPServer):
    """A local HTTP server in Sentry's place: keeps every envelope it is sent."""

    def __init__(self):
        self.envelopes: list[bytes] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(handler):  # noqa: N805
                body = handler.rfile.read(int(handler.headers.get("Content-Length", 0)))
                encoding = handler.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                self.envelopes.append(body)
                handler.send_response(200)
                handler.send_header("Content-Type", "application/json")
                handler.end_headers()
                handler.wfile.write(b"{}")

            def log_message(handler, *args):  # noqa: N805
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def dsn(self) -> str:
        return f"http://publickey@127.0.0.1:{self.server_address[1]}/42"

    def events(self) -> list[dict]:
        """The error events of every envelope (an envelope is JSON lines: header, item header, item)."""
        found = []
        for envelope in self.envelopes:
            lines = envelope.split(b"\n")
            for index, line in enumerate(lines[1:-1], start=1):
                try:
                    header = json.loads(line)
                except ValueError:
                    continue
                if isinstance(header, dict) and header.get("type") == "event":
                    found.append(json.loads(lines[index + 1]))
        return found

    def stop(self):
        self.shutdown()
        self.server_close()


@pytest.fixture
def sentry_stand_in():
    server = SentryStandIn()
    yield server
    server.stop()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_error_in_a_view_reaches_sentry_without_anything_personal(sentry_stand_in, tmp_path):
    """A real gunicorn whose chat services fail (jtchat/tests/sentry_urls.py), Sentry's DSN
    pointing at a local HTTP server: both errors arrive, and none of the customer's data."""
    port = free_port()
    env = server_env(
        "",
        PYTHON=sys.executable,
        HOST="127.0.0.1",
        PORT=str(port),
        WEB_CONCURRENCY="1",
        SENTRY_DSN=sentry_stand_in.dsn,
        SENTRY_ENVIRONMENT="ci",
        RENDER_GIT_COMMIT="0123456789abcdef0123456789abcdef01234567",
        TRUSTED_PROXY_COUNT="1",
    )
    env.pop("REDIS_URL")
    env["DJANGO_SETTINGS_MODULE"] = "jtchat.tests.sentry_settings"
    log_path = tmp_path / "web.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(BASE_DIR / "bin" / "serve-web")], cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        wait_for_port(port, process=process)
        from chat import services

        key = str(services.session_open(customer_email=EMAIL, customer_name=NAME).session_id)
        base = f"http://127.0.0.1:{port}"
        headers = {
            "X-Forwarded-For": CLIENT_IP,
            "Cookie": f"sessionid={SESSION_COOKIE}; csrftoken={CSRF_COOKIE}",
            "X-Chat-Session": key,
        }
        opened = httpx.post(
            f"{base}/api/chat/session",
            json={"customer_name": NAME, "customer_email": EMAIL},
            headers=headers,
        )
        posted = httpx.post(
            f"{base}/api/chat/message",
            json={"session_id": key, "author": "user", "content": CONTENT},
            headers=headers,
        )
        assert opened.status_code == posted.status_code == 500
        deadline = time.monotonic() + 15
        while len(sentry_stand_in.events()) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=20)

    events = sentry_stand_in.events()
    assert len(events) == 2, log_path.read_text(errors="replace")
    raw = b"\n".join(sentry_stand_in.envelopes).decode("utf-8", errors="replace")
    for personal in (NAME, EMAIL, CLIENT_IP, CONTENT, key, key.replace("-", ""), SESSION_COOKIE, CSRF_COOKIE):
        assert personal not in raw, f"{personal!r} left for Sentry"
    assert "Rua das Flores" not in raw and "maria.silva" not in raw
    # Still an error report worth reading: what failed, where, in which release.
    for event in events:
        assert event["exception"]["values"][-1]["type"] == "RuntimeError"
        assert event["release"] == "0123456789abcdef0123456789abcdef01234567"
        assert event["environment"] == "ci"
        assert len(event["event_id"]) == 32
        assert event["request"]["method"] == "POST"
        assert "cookies" not in event["request"] and "data" not in event["request"]
        assert set(event.get("user", {})) <= {"id"}
    assert {event["request"]["url"].rsplit("/", 1)[-1] for event in events} == {"session", "message"}
    assert any("could not store [Filtered]" in event["exception"]["values"][-1]["value"] for event in events)


def test_a_wrong_dsn_warns_at_start_up_and_the_product_runs():
    code = (
        "import django; django.setup(); from django.test import Client; "
        "print(Client().get('/healthz').status_code)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "jtchat.settings_test",
            "SENTRY_DSN": "sentry.example.com/not-a-dsn",
            "SQLITE_PATH": ":memory:",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "SENTRY_DSN is not a valid Sentry DSN" in result.stderr
    assert result.stdout.strip().splitlines()[-1] in ("200", "503")  # the product answers


def test_the_scrubber_blanks_every_personal_field_of_an_event():
    event = {
        "message": f"customer {EMAIL} wrote",
        "logentry": {"message": "ticket %s", "params": ["0f5b1c2e-8d7a-4c1b-9e3f-2a6b8c9d0e1f"]},
        "request": {
            "url": "http://jtchat.example/api/chat/message",
            "method": "POST",
            "data": {"session_id": "0f5b1c2e-8d7a-4c1b-9e3f-2a6b8c9d0e1f", "content": CONTENT},
            "cookies": {"sessionid": SESSION_COOKIE},
            "headers": {"Content-Type": "application/json", "Cookie": "x", "X-Forwarded-For": CLIENT_IP},
            "env": {"REMOTE_ADDR": CLIENT_IP},
            "query_string": "after=10",
        },
        "user": {"id": 7, "email": EMAIL, "ip_address": CLIENT_IP, "username": "maria"},
        "exception": {
            "values": [
                {
                    "type": "RuntimeError",
                    "value": f"could not store {CONTENT!r} for {NAME}",
                    "stacktrace": {
                        "frames": [{"function": "post", "vars": {"customer_name": NAME, "x": "1"}}]
                    },
                }
            ]
        },
        "breadcrumbs": {
            "values": [
                {
                    "category": "query",
                    "message": "INSERT INTO chat_message ...",
                    "data": {"db.params": [CONTENT]},
                },
                {"category": "jtchat.request", "message": "POST /api/chat/message 500"},
            ]
        },
        "extra": {"customer_email": EMAIL, "note": f"from {CLIENT_IP} and 2001:db8::7"},
        "contexts": {"runtime": {"name": "CPython"}},
    }
    scrubbed = json.dumps(sentry.scrub(event))
    for personal in (NAME, EMAIL, CLIENT_IP, CONTENT, SESSION_COOKIE, "0f5b1c2e", "2001:db8::7", "maria"):
        assert personal not in scrubbed, personal
    assert event["request"]["headers"] == {"Content-Type": "application/json"}
    assert event["user"] == {"id": 7}
    assert event["exception"]["values"][0]["value"] == "could not store '[Filtered]' for [Filtered]"
    assert event["breadcrumbs"]["values"][1]["message"] == "POST /api/chat/message 500"
    assert event["contexts"]["runtime"]["name"] == "CPython"
