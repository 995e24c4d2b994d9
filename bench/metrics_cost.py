"""CPU per ``POST /api/chat/message`` with and without the Prometheus instrumentation (not a test).

The HTTP benchmark (bench/http_bench.py --without-metrics) compares the two servers by req/s,
which a busy shared machine blurs. This one counts the CPU time of the request itself: the
production WSGI application (every middleware, PostgreSQL, Redis, multiprocess metrics
files) called in-process, one thread, the request's CPU read with ``time.thread_time``;
``METRICS_ENABLED`` on and off in separate processes, alternating round after round.

    .venv/bin/python bench/metrics_cost.py --rounds 6 --requests 3000
"""

import argparse
import io
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def child(requests: int, warmup: int) -> None:
    """One process: open chats, post messages through the WSGI application, print CPU/request."""
    sys.path.insert(0, str(BASE_DIR))
    os.environ["DJANGO_SETTINGS_MODULE"] = "jtchat.settings"
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    from chat import services

    keys = [str(services.session_open(customer_name=f"Cost {n}").session_id) for n in range(50)]

    def post(index: int) -> None:
        body = json.dumps(
            {
                "session_id": keys[index % len(keys)],
                "author": "user",
                "content": "O código de rastreio é JT0012345678BR",
                "client_id": str(uuid.uuid4()),
            }
        ).encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/api/chat/message",
            "QUERY_STRING": "",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }
        status = []
        response = application(environ, lambda s, headers, exc_info=None: status.append(s))
        b"".join(response)
        response.close()
        if not status[0].startswith("201"):
            raise SystemExit(f"answered {status[0]}")

    for index in range(warmup):
        post(index)
    started = time.thread_time()
    for index in range(requests):
        post(index)
    used = time.thread_time() - started
    print(json.dumps({"cpu_us_per_request": 1e6 * used / requests}))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/jt_bench_http")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.requests, args.warmup)
        return

    env = dict(os.environ)
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        CHAT_THROTTLE_ENABLED="0",
        REQUEST_LOG_LEVEL="WARNING",  # the log line goes to a pipe here; same either way
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=BASE_DIR, env=env, check=True
    )
    results: dict[str, list[float]] = {"with": [], "without": []}
    for round_number in range(1, args.rounds + 1):
        order = ["with", "without"] if round_number % 2 else ["without", "with"]
        for variant in order:
            with tempfile.TemporaryDirectory(prefix="jtchat-metrics-cost-") as directory:
                variant_env = {**env, "METRICS_ENABLED": "1" if variant == "with" else "0"}
                if variant == "with":
                    variant_env["PROMETHEUS_MULTIPROC_DIR"] = directory  # as under gunicorn
                command = [sys.executable, __file__, "--child", "--requests", str(args.requests)]
                command += ["--warmup", str(args.warmup)]
                output = subprocess.run(
                    command, cwd=BASE_DIR, env=variant_env, capture_output=True, text=True, check=True
                ).stdout
            cpu = json.loads(output.strip().splitlines()[-1])["cpu_us_per_request"]
            results[variant].append(cpu)
            print(f"  round {round_number} {variant:<8} {cpu:7.0f} µs CPU per request", flush=True)
    without, with_ = statistics.median(results["without"]), statistics.median(results["with"])
    paired = statistics.median(w - wo for w, wo in zip(results["with"], results["without"], strict=True))
    print(
        f"\nmedian CPU per request: without {without:.0f} µs, with {with_:.0f} µs; "
        f"the instrumentation: {paired:+.0f} µs per request (median of the rounds' differences), "
        f"{paired / without:+.1%}; load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
