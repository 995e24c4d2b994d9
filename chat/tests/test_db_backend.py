"""The WSGI workers' PostgreSQL backend: no health-check round trip on a connection just proven.

Requests go through Django's WSGI handler as gunicorn's workers run it, so the connection is
kept between requests and checked at the request boundaries exactly as in production. What is
counted is what reaches the server: every statement executed on the workers' connection,
Django's own ``SELECT 1`` health check included (it bypasses Django's query log).
"""

import json
import subprocess
import sys
from contextlib import contextmanager
from types import SimpleNamespace
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import connection
from django.db.utils import ProgrammingError

SQLITE_REASON = "The backend is PostgreSQL's: SQLite's health check sends nothing over a network."


def on_postgresql(test):
    """A test of the kept connection itself: no test transaction around it (TransactionTestCase)."""
    for mark in (
        pytest.mark.postgres,
        pytest.mark.django_db(transaction=True, serialized_rollback=True),
        pytest.mark.skipif(connection.vendor != "postgresql", reason=SQLITE_REASON),
    ):
        test = mark(test)
    return test


# /healthz answers from one statement of its own: SELECT 1.
HEALTHZ = ["SELECT 1"]
HEALTH_CHECK_AND_HEALTHZ = ["SELECT 1", "SELECT 1"]


class Clock:
    """The backend's clock, moved by hand: the grace is about idle time, not test speed."""

    def __init__(self, start):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def backend(monkeypatch):
    from jtchat.db.postgresql import base

    assert connection.settings_dict["ENGINE"] == "jtchat.db.postgresql"
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] and connection.settings_dict["CONN_MAX_AGE"]
    clock = Clock(base.monotonic())
    monkeypatch.setattr(base, "monotonic", clock)
    return SimpleNamespace(clock=clock, grace=base.HEALTH_CHECK_GRACE_SECONDS)


@pytest.fixture
def sent(monkeypatch):
    """Statements the test thread's connection (whichever it is now) sends, health checks included."""
    connection.ensure_connection()
    cursor_class = connection.connection.cursor_factory
    original = cursor_class.execute
    statements = []

    def execute(cursor, query, *args, **kwargs):
        if cursor.connection is connection.connection:
            statements.append(query if isinstance(query, str) else str(query))
        return original(cursor, query, *args, **kwargs)

    monkeypatch.setattr(cursor_class, "execute", execute)
    return statements


@pytest.fixture
def serve(sent, settings):
    """GET a path through the WSGI handler; the statements it sent and the server process."""
    settings.REDIS_URL = ""  # /healthz then asks the database only
    handler = WSGIHandler()

    def serve(path):
        environ = {"PATH_INFO": path, "HTTP_HOST": "testserver"}
        setup_testing_defaults(environ)
        statuses = []
        sent.clear()
        response = handler(environ, lambda status, headers, exc_info=None: statuses.append(status))
        try:
            body = b"".join(response)
        finally:
            response.close()  # request_finished, as the WSGI server sends it
        return {
            "status": int(statuses[0].split()[0]),
            "body": body,
            "sent": list(sent),
            "pid": connection.connection.info.backend_pid if connection.connection else None,
        }

    return serve


@contextmanager
def request():
    """A request's boundaries without a view, for what no page of the product does."""
    request_started.send(sender=WSGIHandler, environ={})
    try:
        yield
    finally:
        request_finished.send(sender=WSGIHandler)


def kill_server_process(pid):
    """Terminate the connection's server process from a second connection, and wait for it."""
    other = connection.copy()
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            assert cursor.fetchone()[0] is True
            for _attempt in range(200):
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
                if cursor.fetchone()[0] == 0:
                    return
                cursor.execute("SELECT pg_sleep(0.01)")
        raise AssertionError(f"server process {pid} still there")
    finally:
        other.close()


@on_postgresql
def test_back_to_back_requests_send_no_health_check(backend, serve):
    first = serve("/healthz")
    assert first["status"] == 200
    for _request in range(3):
        backend.clock.advance(0.2)
        answer = serve("/healthz")
        assert answer["status"] == 200
        assert answer["sent"] == HEALTHZ
        assert answer["pid"] == first["pid"]  # the kept connection, not a new one


@on_postgresql
def test_a_connection_idle_past_the_grace_is_checked_again(backend, serve):
    serve("/healthz")
    backend.clock.advance(backend.grace + 0.1)
    assert serve("/healthz")["sent"] == HEALTH_CHECK_AND_HEALTHZ
    backend.clock.advance(0.1)
    assert serve("/healthz")["sent"] == HEALTHZ  # that request proved it again


@on_postgresql
def test_the_grace_ends_at_the_first_use_not_at_the_start_of_the_request(backend, serve, sent):
    serve("/healthz")
    with request():
        backend.clock.advance(backend.grace + 0.1)  # say, a slow call elsewhere came first
        sent.clear()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 2")
    assert sent == ["SELECT 1", "SELECT 2"]


@on_postgresql
def test_a_request_that_does_not_use_the_database_does_not_extend_the_grace(backend, serve):
    serve("/healthz")
    backend.clock.advance(backend.grace * 0.6)
    page = serve("/")  # the chat page asks nothing of the database
    assert page["status"] == 200 and page["sent"] == []
    backend.clock.advance(backend.grace * 0.6)
    assert serve("/healthz")["sent"] == HEALTH_CHECK_AND_HEALTHZ


@on_postgresql
def test_after_a_database_error_the_next_request_is_checked(backend, serve):
    serve("/healthz")
    with request():
        with pytest.raises(ProgrammingError), connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")
    backend.clock.advance(0.1)
    assert serve("/healthz")["sent"] == HEALTH_CHECK_AND_HEALTHZ


@on_postgresql
def test_a_connection_killed_while_idle_is_replaced_before_the_next_request_uses_it(backend, serve):
    first = serve("/healthz")
    kill_server_process(first["pid"])
    backend.clock.advance(backend.grace + 0.1)
    answer = serve("/healthz")
    assert answer["status"] == 200, answer["body"]
    assert json.loads(answer["body"])["database"] == "ok"
    assert answer["pid"] != first["pid"]


@on_postgresql
def test_a_connection_killed_inside_the_grace_costs_one_request_at_most(backend, serve):
    """The price of the grace: the request that finds the connection dead fails, the next does not."""
    first = serve("/healthz")
    kill_server_process(first["pid"])
    backend.clock.advance(0.1)
    failed = serve("/healthz")
    assert failed["status"] == 503 and json.loads(failed["body"])["database"] == "error"
    assert connection.connection is None  # closed at the end of that request
    answer = serve("/healthz")
    assert answer["status"] == 200 and answer["pid"] != first["pid"]


PRINT_ENGINE = """
import json, django
django.setup()
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({"ENGINE": db["ENGINE"], "pool": "pool" in db.get("OPTIONS", {})}))
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("asgi", "engine", "pool"),
    [("0", "jtchat.db.postgresql", False), ("1", "django.db.backends.postgresql", True)],
)
def test_only_the_wsgi_processes_use_the_backend(tmp_path, asgi, engine, pool):
    from chat.tests.test_production_settings import BASE_DIR, production_env

    env = production_env(
        tmp_path, DATABASE_URL="postgres://jtchat@127.0.0.1:5432/jtchat", DJANGO_ASGI_PROCESS=asgi
    )
    result = subprocess.run(
        [sys.executable, "-c", PRINT_ENGINE], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"ENGINE": engine, "pool": pool}


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="psycopg's prepared statements")
def test_a_customers_message_is_parsed_once_per_connection_and_planned_for_its_values():
    from chat import services

    chat = services.session_open()
    for number in range(6):
        services.customer_message_post(session_key=chat.session_id, content=f"mensagem {number}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'WITH chat AS%%'")
        assert cursor.fetchone()[0] == 1
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone()[0] == "force_custom_plan"


@on_postgresql
def test_the_two_django_attributes_the_backend_relies_on_still_mean_what_they_did(backend):
    """README, "Private internals": the backend reads ``errors_occurred`` and sets
    ``health_check_done``, attributes of Django's connection that its documentation does not
    name. If an upgrade renames them or changes when Django sets them, this fails (and so do
    the request tests above): look again at jtchat/db/postgresql/base.py."""
    with request():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        assert connection.health_check_done is True, "Django no longer marks a used connection as checked"
        assert connection.errors_occurred is False
        with pytest.raises(ProgrammingError), connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table_anywhere")
        assert connection.errors_occurred is True, "Django no longer notes database errors on the connection"
    with request():
        assert connection.errors_occurred is False  # the boundary checked the connection and cleared it
