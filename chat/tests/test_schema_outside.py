"""The API fuzzed from outside, as integrators call it (chat/tests/fuzzing/run.py): the real
server process on this suite's kind of database (SQLite, or a database of its own on the
suite's PostgreSQL server) with Redis, schemathesis with every phase and every check, as an
anonymous visitor, a customer and a signed-in manager. Bounded here (a fixed seed, a few
examples per operation); ``make fuzz`` runs long with a random seed it prints.
"""

import os
import subprocess
import sys

import pytest
from django.db import connection

from jtchat.testing import BASE_DIR, redis_test_url

CI_SEED = 2026
CI_EXAMPLES = 6


def database_url() -> str | None:
    """The suite's PostgreSQL server (the run makes its own database there), or None: SQLite."""
    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        return None
    user, password = db["USER"] or "postgres", db["PASSWORD"] or ""
    return f"postgres://{user}:{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/postgres"


def reported(output: str) -> str:
    """What schemathesis reported (failures, warnings, summaries), before the server's log."""
    lines = [line for line in output.splitlines() if '"logger": "' not in line]
    return "\n".join(lines)[-30000:]


@pytest.mark.slow
def test_schemathesis_from_outside_finds_no_failure_and_no_warning():
    command = [
        sys.executable,
        "-m",
        "chat.tests.fuzzing.run",
        f"--max-examples={CI_EXAMPLES}",
        f"--seed={CI_SEED}",
        f"--redis-url={redis_test_url()}",
    ]
    url = database_url()
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    if url:
        command.append(f"--database-url={url}")
    result = subprocess.run(command, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=900)
    output = result.stdout + result.stderr
    assert result.returncode == 0, reported(output)
    assert output.count("No issues found") == 3, output[-5000:]
    assert "[fuzz] seed 2026: no failure, no warning" in output
