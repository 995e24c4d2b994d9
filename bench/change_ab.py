"""What each change saves on ``POST /api/chat/message``, paired in one process (not a test).

One process serves the endpoint through Django's WSGI handler with the production settings
(PostgreSQL, Redis), alternating blocks of requests with and without one change: a method
swapped back to the framework's, an option turned off, the former lazy message middleware.
Both sides of a pair share the machine's load, which on a busy machine moves req/s far more
than any one change does. Printed per change: CPU per request of the process and of its
PostgreSQL backend, with and without, and the median of the blocks' differences
(docs/performance.md, "What each change gained"). It swaps the project's own functions and
a few of the frameworks' for the measurement only; nothing here runs in the product.

    .venv/bin/python bench/change_ab.py 2>/dev/null       # PostgreSQL jt_bench_http, Redis db 5 (the
                                                          # request log goes to stderr, as in production)
    .venv/bin/python bench/change_ab.py --requests 300 --blocks 8 --only "one statement" 2>/dev/null
"""

import argparse
import io
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def setup(database_url: str, redis_url: str) -> None:
    sys.path.insert(0, str(BASE_DIR))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="jtchat.settings",
        DEBUG="0",
        SECRET_KEY=os.environ.get("BENCH_SECRET_KEY", "bench-only-" + "x" * 40),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        CHAT_THROTTLE_ENABLED="0",
        JTCHAT_ENV_FILE=str(BASE_DIR / "bench" / "no-local.env"),  # a checkout's .env stays out
    )
    import django

    django.setup()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Bench:
    def __init__(self, requests: int, blocks: int):
        from chat import services

        self.requests = requests
        self.blocks = blocks
        self.keys = [str(services.session_open(customer_name=f"Bench {n}").session_id) for n in range(100)]

    def post(self, app, number: int) -> None:
        body = json.dumps(
            {
                "session_id": self.keys[number % len(self.keys)],
                "author": "user",
                "content": "Olá, meu pedido não chegou",
                "client_id": str(uuid.uuid4()),
            }
        ).encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/api/chat/message",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
        }
        statuses = []
        response = app(environ, lambda status, headers, *args: statuses.append(status))
        try:
            b"".join(response)
        finally:
            response.close()
        assert statuses[0].startswith("201"), statuses

    def block(self, app) -> tuple[float, float]:
        """CPU per request (ms) of this process and of its PostgreSQL backend."""
        from django.db import connection

        connection.ensure_connection()
        backend = connection.connection.info.backend_pid
        process, database = time.process_time(), cpu_seconds(backend)
        for number in range(self.requests):
            self.post(app, number)
        return (
            1000 * (time.process_time() - process) / self.requests,
            1000 * (cpu_seconds(backend) - database) / self.requests,
        )

    def compare(self, name: str, without, with_, app_without, app_with) -> None:
        pairs = []
        for _ in range(self.blocks):
            without()
            self.post(app_without, 0)
            measured_without = self.block(app_without)
            with_()
            self.post(app_with, 0)
            pairs.append((measured_without, self.block(app_with)))

        def median(side: int, part: int) -> float:
            return statistics.median(pair[side][part] for pair in pairs)

        saved = statistics.median(sum(pair[0]) - sum(pair[1]) for pair in pairs)
        total = median(0, 0) + median(0, 1)
        print(
            f"| {name} | {median(0, 0):.3f} + {median(0, 1):.3f} | {median(1, 0):.3f} + {median(1, 1):.3f} "
            f"| {saved:+.3f} ms ({saved / total:.0%}) | {os.getloadavg()[0]:.1f} |",
            flush=True,
        )


def changes():
    """(name, undo, redo): undo puts the framework's way back, redo the project's."""
    from django.db import connection
    from django.db.backends.postgresql.base import DatabaseWrapper as DjangoWrapper
    from rest_framework.views import APIView

    from chat.api.views import CustomerChatViewSet
    from chat.live import events
    from chat.services import message_sql
    from jtchat.db.postgresql.base import DatabaseWrapper

    ours = {
        "authenticate": CustomerChatViewSet.perform_authentication,
        "check": DatabaseWrapper.close_if_health_check_failed,
        "inserted": message_sql._inserted_values,
        "send": events._send,
    }

    def send_through_group_send(items):
        layer = events.get_channel_layer()

        async def send_all():
            for group, message in items:
                await layer.group_send(group, message)

        events._background_loop().run(send_all())

    def bind_on_server(on: bool) -> None:
        options = connection.settings_dict["OPTIONS"]
        if on:
            options.update(server_side_binding=True, prepare_threshold=5)
        else:
            options.pop("server_side_binding", None)
            options.pop("prepare_threshold", None)
        connection.close()

    def swap(owner, attribute, value):
        return lambda: setattr(owner, attribute, value)

    return [
        (
            "a customer's message as one statement, vs the ORM's transaction",
            swap(message_sql, "_inserted_values", lambda message: None),
            swap(message_sql, "_inserted_values", ours["inserted"]),
        ),
        (
            "a call's events in one pipeline, vs group_send on an event loop",
            swap(events, "_send", send_through_group_send),
            swap(events, "_send", ours["send"]),
        ),
        (
            "no health check on a busy connection, vs Django's check",
            swap(DatabaseWrapper, "close_if_health_check_failed", DjangoWrapper.close_if_health_check_failed),
            swap(DatabaseWrapper, "close_if_health_check_failed", ours["check"]),
        ),
        (
            "the same, vs no check at all (Django's default)",
            swap(connection, "health_check_enabled", False),
            swap(connection, "health_check_enabled", True),
        ),
        (
            "parameters bound on the server, frequent statements prepared",
            lambda: bind_on_server(False),
            lambda: bind_on_server(True),
        ),
        (
            "DRF authentication when the user is asked for",
            swap(CustomerChatViewSet, "perform_authentication", APIView.perform_authentication),
            swap(CustomerChatViewSet, "perform_authentication", ours["authenticate"]),
        ),
    ]


def lazy_messages_handler():
    """The WSGI handler with the message middleware the project had before (storage built
    only when used, through ``request._messages``): to show what dropping it cost."""
    from django.conf import settings
    from django.contrib.messages.middleware import MessageMiddleware
    from django.contrib.messages.storage import default_storage
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.utils import override_settings
    from django.utils.functional import SimpleLazyObject, empty

    class LazyMessageMiddleware(MessageMiddleware):
        def process_request(self, request):
            request._messages = SimpleLazyObject(lambda: default_storage(request))

        def process_response(self, request, response):
            messages = getattr(request, "_messages", None)
            if isinstance(messages, SimpleLazyObject) and messages._wrapped is empty:
                return response
            return super().process_response(request, response)

    sys.modules[__name__].LazyMessageMiddleware = LazyMessageMiddleware
    stock = "django.contrib.messages.middleware.MessageMiddleware"
    lazy = f"{__name__}.LazyMessageMiddleware"
    with override_settings(MIDDLEWARE=[lazy if name == stock else name for name in settings.MIDDLEWARE]):
        return WSGIHandler()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/jt_bench_http")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5")
    parser.add_argument("--requests", type=int, default=150, help="requests per block")
    parser.add_argument("--blocks", type=int, default=8, help="blocks per side")
    parser.add_argument("--only", help="only the changes whose name contains this")
    args = parser.parse_args()
    setup(args.database_url, args.redis_url)
    from django.core.handlers.wsgi import WSGIHandler

    bench = Bench(args.requests, args.blocks)
    handler = WSGIHandler()
    for number in range(300):  # warm up: imports, prepared statements, Redis connection
        bench.post(handler, number)
    print(f"{args.blocks} blocks of {args.requests} requests per side; CPU per request, process + PostgreSQL")
    print("| change | without | with | saved | load average |")
    print("|---|---:|---:|---:|---:|")
    for name, undo, redo in changes():
        if not args.only or args.only in name:
            bench.compare(name, undo, redo, handler, handler)
    if not args.only or args.only in "Django's MessageMiddleware":
        bench.compare(
            "Django's MessageMiddleware, vs the former lazy one",
            lambda: None,
            lambda: None,
            lazy_messages_handler(),
            handler,
        )


if __name__ == "__main__":
    main()
