"""Faults under load, a small run of bench/faults.py: nothing answered is lost or doubled.

The production serving commands (gunicorn with two workers, uvicorn for /ws/) run against
this test's database and a redis-server of the test's own. Customers post steadily with
client_ids and retry as the page does; during the run a gunicorn worker is killed, Redis is
restarted empty and uvicorn is killed and started again. Every message that got a 2xx must be
stored exactly once and reach the agent's socket, live or by catch-up after a reconnect.
"""

import shutil

import pytest

from bench import faults
from jtchat.testing import free_port, server_env, skip_or_fail

pytestmark = [
    pytest.mark.slow,  # its own redis-server: needs the binary, not REDIS_TEST_URL
    # Real processes read committed rows; the data migration's groups are restored after.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.timeout(150),
]

PLAN = faults.Plan(
    customers=6,
    interval=0.3,
    rounds=1,
    warmup=2.0,
    gap=2.5,
    notice_limit=20.0,
    drain=10.0,
)


@pytest.fixture
def stack(tmp_path):
    if not shutil.which("redis-server"):
        skip_or_fail("redis-server not installed")
    ports = {free_port() for _ in range(3)}
    while len(ports) < 3:
        ports.add(free_port())
    web_port, ws_port, redis_port = sorted(ports)
    env = server_env(f"redis://127.0.0.1:{redis_port}/0")
    servers = faults.Stack(env, web_port, ws_port, redis_port, tmp_path, workers=2)
    servers.start()
    yield servers
    servers.stop()


def test_answered_messages_are_stored_once_and_reach_the_agent_through_faults(stack, capsys):
    chats, agent_session = faults.prepare(PLAN.customers)
    try:
        record = faults.run_faults(PLAN, stack, chats, agent_session)
    except Exception:
        print((stack.log_dir / "web.log").read_text(errors="replace")[-5000:])
        print((stack.log_dir / "ws.log").read_text(errors="replace")[-5000:])
        raise
    figures = faults.tally(record, faults.stored_rows(chats))
    with capsys.disabled():
        print("\n" + faults.report(figures, record, "faults (CI run)"))

    assert figures["sent"] > 0
    assert figures["given_up"] == 0 and figures["2xx"] == figures["sent"]
    assert figures["lost"] == 0
    assert figures["duplicates"] == 0 and figures["stored_rows"] == figures["stored"]
    assert figures["stored"] == figures["2xx"]
    assert figures["missing"] == 0 and figures["delivered_to_agent"] == figures["stored"]
    assert figures["announced_not_stored"] == 0
    # What was posted while Redis was down had no live event: it came by catch-up, after the
    # socket server asked the agent to reconnect (1012), or after uvicorn came back.
    assert "1012" in figures["agent_reconnects"]
    assert figures["delivered_by_catch_up"] > 0
    assert figures["customer_sockets_saw_own"] == figures["stored"]
