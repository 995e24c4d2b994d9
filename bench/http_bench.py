"""HTTP throughput of ``POST /api/chat/message``: production vs the framework's floor (not a test;
one script of over 400 lines, run alone).

Both servers run in the same run, on 127.0.0.1, with the same gunicorn settings
(gunicorn.conf.py: WSGI ``gthread`` workers, kept connections) against the same PostgreSQL
database:

* production — ``bin/serve-web`` (gunicorn ``jtchat.wsgi``) with the production settings:
  DEBUG off, every middleware, Redis channel layer (each message is announced to the
  sockets), the JSON request log; rate limits off (every simulated customer is 127.0.0.1);
* floor — ``bench/floor``: one DRF view that validates the same body and does one INSERT.

wrk posts messages (each with its own client_id) to a pool of open chats, rotating, at each
connection count; the floor and production runs alternate, round after round. Reported: the
median round of each (req/s, p50/p99 latency, server CPU per request) and the median of the
rounds' production/floor ratios. The CPU per request (master and workers, from /proc) holds
better than req/s when other work shares the machine.

    .venv/bin/python bench/http_bench.py                 # make bench-http
    .venv/bin/python bench/http_bench.py --connections 16 64 --duration 10 --rounds 2
    .venv/bin/python bench/http_bench.py --profile       # py-spy of the production workers
    .venv/bin/python bench/http_bench.py --without-metrics   # + production with METRICS_ENABLED=0
    git archive HEAD~1 | tar -x -C /tmp/before            # a change's gain, side by side:
    .venv/bin/python bench/http_bench.py --variant before=/tmp/before
"""

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
OUT_DIR = BASE_DIR / "bench" / "out"
PATH = "/api/chat/message"
TABLE_HEADER = (
    "| server | connections | floor req/s | floor p50 / p99 | floor CPU/req (PostgreSQL) "
    "| req/s | p50 / p99 | CPU/req (PostgreSQL) | ratio req/s | ratio CPU |"
)
CONTENTS = [
    "Olá, meu pedido não chegou ainda",
    "O código de rastreio é JT0012345678BR",
    "Está parado no centro de distribuição há 3 dias",
    "Quero mudar o endereço de entrega, por favor",
    "A caixa chegou amassada, o que eu faço?",
    "Obrigado pela ajuda!",
]


@dataclass
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    cpu_ms_per_request: float = float("nan")
    db_cpu_ms_per_request: float = float("nan")
    load_average: float = float("nan")


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log_path: Path

    def worker_pids(self) -> list[int]:
        children = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                if parent == self.process.pid:
                    children.append(int(entry.name))
        return children

    def cpu_seconds(self) -> float:
        """CPU time used so far by the master and its workers (user + system)."""
        return sum(process_cpu_seconds(pid) for pid in [self.process.pid, *self.worker_pids()])

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def database_cpu_seconds(database: str) -> float:
    """CPU time used so far by the PostgreSQL backends serving ``database`` (their process
    titles name it). Only the server being measured sends queries meanwhile, so the
    difference over a run is what its requests cost PostgreSQL."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres: ") and f" {database} " in title:
            total += process_cpu_seconds(int(entry.name))
    return total


def base_env(database_url: str, redis_url: str) -> dict:
    env = dict(os.environ)
    env.update(
        DEBUG="0",
        SECRET_KEY=os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        CHAT_THROTTLE_ENABLED="0",
        HOST="127.0.0.1",
        PYTHON=sys.executable,
        PYTHONUNBUFFERED="1",
    )
    return env


def ensure_database(database_url: str) -> None:
    import psycopg

    name = urlparse(database_url).path.lstrip("/")
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')


def open_chats(env: dict, count: int) -> list[str]:
    """Migrate the bench database and open ``count`` chats through the service (their keys)."""
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "jtchat.settings"},
        check=True,
    )
    for key in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"):
        os.environ[key] = env[key]
    os.environ["DJANGO_SETTINGS_MODULE"] = "jtchat.settings"
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()
    from chat import services
    from chat.models import ChatSession

    # Earlier runs' chats: ended, so that the queue holds only this run's.
    ChatSession.objects.exclude(status=ChatSession.Status.ENDED).update(status=ChatSession.Status.ENDED)
    return [str(services.session_open(customer_name=f"Bench {n}").session_id) for n in range(count)]


def write_wrk_script(keys: list[str], path: Path) -> None:
    quoted_keys = ",\n".join(f'  "{key}"' for key in keys)
    quoted_contents = ",\n".join(f'  "{text}"' for text in CONTENTS)
    path.write_text(
        f"""-- Generated by bench/http_bench.py: one message per request, rotating over open chats.
local keys = {{
{quoted_keys}
}}
local contents = {{
{quoted_contents}
}}
local counter = 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function init(args)
  math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1000000) % 1000)
  counter = math.random(#keys)
end

local function hex(digits)
  local out = {{}}
  for i = 1, digits do out[i] = string.format("%x", math.random(0, 15)) end
  return table.concat(out)
end

local function uuid4()
  return hex(8) .. "-" .. hex(4) .. "-4" .. hex(3) .. "-" .. string.format("%x", math.random(8, 11))
    .. hex(3) .. "-" .. hex(12)
end

function request()
  counter = counter % #keys + 1
  local body = string.format(
    '{{"session_id":"%s","author":"user","content":"%s","client_id":"%s"}}',
    keys[counter], contents[counter % #contents + 1], uuid4())
  return wrk.format(nil, nil, nil, body)
end
""",
        encoding="utf-8",
    )


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def start(name: str, command: list[str], port: int, env: dict, cwd: Path = BASE_DIR) -> Server:
    if port_open(port):
        raise SystemExit(f"port {port} is busy: choose another with --ports")
    log_path = OUT_DIR / f"http-{name}.log"
    log = open(log_path, "wb")  # noqa: SIM115 (kept open for the child's lifetime)
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env={**env, "PORT": str(port)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Server(name, port, process, log_path)
    deadline = time.monotonic() + 60
    while not port_open(port):
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise SystemExit(f"{name} did not start: see {log_path}")
        time.sleep(0.2)
    return server


def milliseconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(output: str) -> WrkResult:
    def latency(percent: str) -> float:
        match = re.search(rf"^\s+{percent}%\s+(\S+)", output, flags=re.MULTILINE)
        return milliseconds(match.group(1)) if match else float("nan")

    requests = int(re.search(r"(\d+) requests in", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    if socket_errors:
        errors += sum(int(group) for group in socket_errors.groups())
    return WrkResult(
        requests_per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p50_ms=latency("50"),
        p99_ms=latency("99"),
        requests=requests,
        errors=errors,
    )


def wrk(port: int, connections: int, seconds: int, threads: int, script: Path) -> WrkResult:
    command = [
        "wrk",
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}{PATH}",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if result.returncode != 0:
        raise SystemExit(f"wrk failed: {result.stderr}")
    return parse_wrk(result.stdout)


def median_run(runs: list[WrkResult]) -> WrkResult:
    return sorted(runs, key=lambda run: run.requests_per_second)[(len(runs) - 1) // 2]


def check_answer(port: int, key: str) -> None:
    """One request by hand: the server answers 201 (a bench of 4xx answers would be void)."""
    import json
    import urllib.request
    import uuid

    body = json.dumps(
        {"session_id": key, "author": "user", "content": "teste", "client_id": str(uuid.uuid4())}
    )
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{PATH}",
        data=body.encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.status != 201:
            raise SystemExit(f"port {port} answered {response.status}")


def profile(server: Server, seconds: int, connections: int, threads: int, script: Path) -> Path:
    """py-spy the production workers while wrk loads them; a speedscope file per worker.

    Samples only the thread holding the GIL (``--gil``): where the workers spend CPU in
    Python, not where their threads wait. After a warm-up, so first-request imports stay out.
    """
    wrk(server.port, connections, 3, threads, script)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        raise SystemExit("py-spy is not installed: .venv/bin/pip install py-spy")
    recorders = []
    for pid in server.worker_pids():
        output = OUT_DIR / f"http-profile-{server.name}-{pid}.speedscope.json"
        recorders.append(
            subprocess.Popen(
                [
                    py_spy,
                    "record",
                    "--pid",
                    str(pid),
                    "--duration",
                    str(seconds),
                    "--rate",
                    "250",
                    "--format",
                    "speedscope",
                    "--output",
                    str(output),
                    "--nonblocking",
                    "--gil",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    wrk(server.port, connections, seconds, threads, script)
    for recorder in recorders:
        recorder.wait(timeout=60)
    return OUT_DIR


def parse_variant(text: str) -> tuple[str, Path]:
    name, sep, folder = text.partition("=")
    path = Path(folder).resolve()
    if not sep or not name or not (path / "bin" / "serve-web").exists():
        raise argparse.ArgumentTypeError(f"expected NAME=DIR with DIR/bin/serve-web, got {text!r}")
    return name, path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/jt_bench_http")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5")
    parser.add_argument("--ports", type=int, nargs=2, default=[8510, 8511], metavar=("PRODUCTION", "FLOOR"))
    parser.add_argument("--connections", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds before each measured run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--chats", type=int, default=400, help="open chats the messages rotate over")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument(
        "--profile",
        nargs="?",
        const="production",
        metavar="SERVER",
        help="py-spy the workers of one server (production unless named: floor, a variant)",
    )
    parser.add_argument(
        "--without-metrics",
        action="store_true",
        help="also run production with METRICS_ENABLED=0 in the same rounds (on the port after the "
        "variants'): what the Prometheus instrumentation costs",
    )
    parser.add_argument(
        "--variant",
        type=parse_variant,
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="also run DIR/bin/serve-web (another checkout of the code, e.g. from git archive) in "
        "the same rounds, on the ports after FLOOR: a change's gain measured side by side",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    if urlparse(args.database_url).hostname not in ("127.0.0.1", "localhost"):
        raise SystemExit("the benchmark runs on 127.0.0.1 only")

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    ensure_database(args.database_url)
    env = base_env(args.database_url, args.redis_url)
    keys = open_chats(env, args.chats)
    script = OUT_DIR / "http-post-message.lua"
    write_wrk_script(keys, script)

    production_port, floor_port = args.ports
    gunicorn = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"]
    servers: dict[str, Server] = {}
    try:
        servers["floor"] = start(
            "floor",
            [*gunicorn, "bench.floor.wsgi:application"],
            floor_port,
            {**env, "DJANGO_SETTINGS_MODULE": "bench.floor.settings"},
        )
        servers["production"] = start(
            "production",
            [str(BASE_DIR / "bin" / "serve-web")],
            production_port,
            {**env, "DJANGO_SETTINGS_MODULE": "jtchat.settings"},
        )
        for offset, (name, folder) in enumerate(args.variant, start=1):
            servers[name] = start(
                name,
                [str(folder / "bin" / "serve-web")],
                floor_port + offset,
                {**env, "DJANGO_SETTINGS_MODULE": "jtchat.settings"},
                cwd=folder,
            )
        if args.without_metrics:
            servers["no-metrics"] = start(
                "no-metrics",
                [str(BASE_DIR / "bin" / "serve-web")],
                floor_port + len(args.variant) + 1,
                {**env, "DJANGO_SETTINGS_MODULE": "jtchat.settings", "METRICS_ENABLED": "0"},
            )
        for server in servers.values():
            check_answer(server.port, keys[0])
        workers = len(servers["production"].worker_pids())
        print(
            f"gunicorn gthread: {workers} workers x {os.environ.get('GUNICORN_THREADS', '2')} threads "
            f"(gunicorn.conf.py); PostgreSQL {urlparse(args.database_url).path.lstrip('/')}; "
            f"{args.chats} open chats; wrk {args.wrk_threads} threads, {args.duration}s runs; "
            f"load average {os.getloadavg()[0]:.2f} at start"
        )
        if args.profile:
            folder = profile(
                servers[args.profile], args.duration, max(args.connections), args.wrk_threads, script
            )
            print(f"profiles written to {folder}/http-profile-{args.profile}-*.speedscope.json")
            return
        results = measure(servers, args, script)
        report(results, list(servers), args.connections)
    finally:
        for server in servers.values():
            server.stop()


def measure(servers: dict[str, Server], args, script: Path) -> dict[tuple[str, int], list[WrkResult]]:
    """Every server at every connection count, round after round, back to back."""
    results: dict[tuple[str, int], list[WrkResult]] = {}
    database = urlparse(args.database_url).path.lstrip("/")
    for round_number in range(1, args.rounds + 1):
        for connections in args.connections:
            for name, server in servers.items():
                wrk(server.port, connections, args.warmup, args.wrk_threads, script)
                cpu_before, db_before = server.cpu_seconds(), database_cpu_seconds(database)
                result = wrk(server.port, connections, args.duration, args.wrk_threads, script)
                used, db_used = server.cpu_seconds() - cpu_before, database_cpu_seconds(database) - db_before
                result.cpu_ms_per_request = 1000 * used / max(result.requests, 1)
                result.db_cpu_ms_per_request = 1000 * db_used / max(result.requests, 1)
                result.load_average = os.getloadavg()[0]
                print(
                    f"  round {round_number} {name:<12} c={connections:<3} "
                    f"{result.requests_per_second:8.0f} req/s  p50 {result.p50_ms:6.2f} ms  "
                    f"p99 {result.p99_ms:6.2f} ms  CPU {result.cpu_ms_per_request:.2f} ms/req  "
                    f"PostgreSQL {result.db_cpu_ms_per_request:.2f} ms/req  "
                    f"errors {result.errors}  load {result.load_average:.2f}",
                    flush=True,
                )
                if result.errors:
                    print(f"    {result.errors} answers were not 2xx: see {server.log_path}")
                results.setdefault((name, connections), []).append(result)
            floor = results[("floor", connections)][-1].requests_per_second
            ratios = "  ".join(
                f"{name} {results[(name, connections)][-1].requests_per_second / floor:.0%}"
                for name in servers
                if name != "floor"
            )
            print(f"  round {round_number} c={connections:<3} of the floor: {ratios}", flush=True)
    return results


def report(results: dict[tuple[str, int], list[WrkResult]], names: list[str], connection_counts) -> None:
    print()
    print(TABLE_HEADER)
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for connections in connection_counts:
        floors = results[("floor", connections)]
        floor = median_run(floors)
        for name in names:
            if name == "floor":
                continue
            runs = results[(name, connections)]
            # Each round ran the servers back to back: the ratio of a pair shares the machine's load.
            paired = statistics.median(
                p.requests_per_second / f.requests_per_second for f, p in zip(floors, runs, strict=True)
            )
            median = median_run(runs)
            cpu_ratio = floor.cpu_ms_per_request / median.cpu_ms_per_request
            print(
                f"| {name} | {connections} | {floor.requests_per_second:,.0f} "
                f"| {floor.p50_ms:.1f} / {floor.p99_ms:.1f} ms "
                f"| {floor.cpu_ms_per_request:.2f} ({floor.db_cpu_ms_per_request:.2f}) ms "
                f"| {median.requests_per_second:,.0f} "
                f"| {median.p50_ms:.1f} / {median.p99_ms:.1f} ms "
                f"| {median.cpu_ms_per_request:.2f} ({median.db_cpu_ms_per_request:.2f}) ms "
                f"| {paired:.0%} | {cpu_ratio:.0%} |"
            )
    print(
        "\nreq/s, latency and CPU: the median round of each; ratio req/s: the median of the rounds'"
        " server/floor ratios; ratio CPU: floor CPU per request / server CPU per request (the servers'"
        " processes; PostgreSQL's backends in brackets, not in the ratio)."
    )
    if "no-metrics" in names:
        print("\nThe instrumentation's cost: production with it against production without it")
        print("| connections | with / without (median of rounds) | CPU/req without → with |")
        print("|---:|---:|---:|")
        for connections in connection_counts:
            with_, without = results[("production", connections)], results[("no-metrics", connections)]
            paired = statistics.median(
                w.requests_per_second / o.requests_per_second for w, o in zip(with_, without, strict=True)
            )
            print(
                f"| {connections} | {paired:.0%} | {median_run(without).cpu_ms_per_request:.2f} → "
                f"{median_run(with_).cpu_ms_per_request:.2f} ms |"
            )
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end (2 cores; wrk shares them with the servers)")


if __name__ == "__main__":
    main()
