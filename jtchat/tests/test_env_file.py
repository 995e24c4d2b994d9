"""The local .env: ``make run`` writes it once, settings read it, the environment wins over it.

Fresh processes, as a person would run them in a checkout (settings are read once per
process). JTCHAT_ENV_FILE points the settings at the test's file instead of the checkout's.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)

pytestmark = pytest.mark.slow


def make_env_file(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", "-f", str(BASE_DIR / "Makefile"), "-C", str(folder), ".env"],
        capture_output=True,
        text=True,
        timeout=60,
    )


def checkout_env(folder: Path, **overrides) -> dict:
    """The environment of a person's shell: none of the project's settings set."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CHAT_", "SECURE_", "DATABASE_URL", "REDIS_URL", "JTCHAT_"))
        and key not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "SQLITE_PATH")
    }
    env.update(JTCHAT_ENV_FILE=str(folder / ".env"), SQLITE_PATH=str(folder / "db.sqlite3"))
    env.update(overrides)
    return env


def manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_make_run_writes_a_local_env_once_and_never_overwrites_it(tmp_path):
    assert make_env_file(tmp_path).returncode == 0
    written = (tmp_path / ".env").read_text()
    values = dict(line.split("=", 1) for line in written.splitlines() if "=" in line)
    assert values["DEBUG"] == "1"
    assert len(values["SECRET_KEY"]) >= 50

    (tmp_path / ".env").write_text(written + "TIME_ZONE=UTC\n")
    again = make_env_file(tmp_path)
    assert again.returncode == 0
    assert (tmp_path / ".env").read_text() == written + "TIME_ZONE=UTC\n"

    other = tmp_path / "other"
    other.mkdir()
    make_env_file(other)
    assert (other / ".env").read_text() != written  # each checkout gets its own key


def test_createsuperuser_works_after_make_run_as_the_readme_shows(tmp_path):
    env = checkout_env(tmp_path, DJANGO_SUPERUSER_PASSWORD="uma-senha-longa-2026")
    before = manage(env, "check")
    assert before.returncode != 0 and "SECRET_KEY is required" in before.stderr

    assert make_env_file(tmp_path).returncode == 0
    assert manage(env, "migrate", "--noinput", "-v", "0").returncode == 0
    created = manage(
        env, "createsuperuser", "--noinput", "--username", "chefe", "--email", "chefe@example.com"
    )
    assert created.returncode == 0, created.stderr
    shown = manage(
        env,
        "shell",
        "-c",
        "from django.conf import settings; from accounts.models import User; "
        "print(settings.DEBUG, User.objects.get(username='chefe').is_superuser)",
    )
    assert shown.stdout.splitlines()[-1].split() == ["True", "True"], shown.stdout + shown.stderr


def test_the_environment_wins_over_the_file(tmp_path):
    (tmp_path / ".env").write_text(
        "# comments and blank lines are skipped\n\n"
        "DEBUG=1\n"
        "SECRET_KEY='a-quoted-local-key-of-some-length-0123456789'\n"
        'TIME_ZONE="America/Manaus"\n'
        "export LANGUAGE_CODE=en\n"
    )
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.SECRET_KEY, s.TIME_ZONE, s.LANGUAGE_CODE)"
    )
    env = checkout_env(tmp_path, DJANGO_SETTINGS_MODULE="jtchat.settings")
    from_file = subprocess.run(
        [sys.executable, "-c", script], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert from_file.stdout.split() == [
        "True",
        "a-quoted-local-key-of-some-length-0123456789",
        "America/Manaus",
        "en",
    ], from_file.stderr

    overridden = subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env={**env, "DEBUG": "0", "ALLOWED_HOSTS": "chat.example.com", "TIME_ZONE": "UTC"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert overridden.stdout.split()[0::2] == ["False", "UTC"], overridden.stderr


def test_a_malformed_line_is_a_clear_error(tmp_path):
    (tmp_path / ".env").write_text("DEBUG=1\nthis is not a setting\n")
    result = manage(checkout_env(tmp_path), "check")
    assert result.returncode != 0
    assert "line 2: expected KEY=VALUE" in result.stderr
