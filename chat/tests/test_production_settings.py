"""Production settings, checked in fresh processes (settings are read once per process)."""

import json
import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

BASE_DIR = str(settings.BASE_DIR)

pytestmark = pytest.mark.slow


def production_env(tmp_path, **overrides) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CHAT_", "SECURE_", "DATABASE_URL", "REDIS_URL", "SQLITE_PATH"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="jtchat.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="chat.example.com",
        SQLITE_PATH=str(tmp_path / "production.sqlite3"),
        JTCHAT_ENV_FILE=str(tmp_path / "no-local.env"),  # a checkout's .env never leaks in
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run(args, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )


def test_check_deploy_is_clean(tmp_path):
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_no_secret_key_with_debug_off_is_a_clear_error(tmp_path):
    result = run(["manage.py", "check"], production_env(tmp_path, SECRET_KEY=""))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


def test_no_allowed_hosts_with_debug_off_is_a_clear_error(tmp_path):
    result = run(["manage.py", "check"], production_env(tmp_path, ALLOWED_HOSTS=None))
    assert result.returncode != 0
    assert "ALLOWED_HOSTS is required" in result.stderr


def test_a_malformed_rate_limit_is_a_clear_error(tmp_path):
    result = run(["manage.py", "check"], production_env(tmp_path, CHAT_RATE_MESSAGES_PER_IP="muitas"))
    assert result.returncode != 0
    assert "CHAT_RATE_MESSAGES_PER_IP must look like 20/min" in result.stderr


def test_local_development_needs_no_secret(tmp_path):
    result = run(
        ["manage.py", "check"], production_env(tmp_path, DEBUG="1", SECRET_KEY=None, ALLOWED_HOSTS=None)
    )
    assert result.returncode == 0, result.stderr


PRINT_SETTINGS = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "DEBUG": s.DEBUG,
    "SECURE_SSL_REDIRECT": s.SECURE_SSL_REDIRECT,
    "SECURE_HSTS_SECONDS": s.SECURE_HSTS_SECONDS,
    "SESSION_COOKIE_SECURE": s.SESSION_COOKIE_SECURE,
    "CSRF_COOKIE_SECURE": s.CSRF_COOKIE_SECURE,
    "CORS_ALLOWED_ORIGINS": s.CORS_ALLOWED_ORIGINS,
    "TRUSTED_PROXY_COUNT": s.TRUSTED_PROXY_COUNT,
    "CHAT_THROTTLE_RATES": s.CHAT_THROTTLE_RATES,
    "CHAT_RETENTION_DAYS": s.CHAT_RETENTION_DAYS,
    "ADMIN_LOGIN_FAILURES_PER_USER": s.ADMIN_LOGIN_FAILURES_PER_USER,
    "CACHE": s.CACHES["default"]["BACKEND"],
    "LOG_FORMATTER": s.LOGGING["formatters"]["json"]["()"],
}))
"""


def test_production_defaults(tmp_path):
    result = run(["-c", PRINT_SETTINGS], production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["DEBUG"] is False
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"]
    assert values["CORS_ALLOWED_ORIGINS"] == []
    assert values["TRUSTED_PROXY_COUNT"] == 0  # X-Forwarded-For ignored unless configured
    assert values["CHAT_THROTTLE_RATES"] == {
        "session_open_ip": "10/min",
        "message_ip": "60/min",
        "message_session": "20/min",
    }
    assert values["CHAT_RETENTION_DAYS"] == 180
    assert values["ADMIN_LOGIN_FAILURES_PER_USER"] == 5
    assert values["CACHE"].endswith("LocMemCache")
    assert values["LOG_FORMATTER"] == "jtchat.logging.JsonFormatter"


def test_redis_url_shares_the_rate_limit_counters(tmp_path):
    result = run(["-c", PRINT_SETTINGS], production_env(tmp_path, REDIS_URL="redis://127.0.0.1:6379/5"))
    assert json.loads(result.stdout)["CACHE"] == "django.core.cache.backends.redis.RedisCache"


def test_render_runs_the_anonymizer_daily_and_trusts_its_proxy():
    from pathlib import Path

    import yaml

    blueprint = yaml.safe_load((Path(BASE_DIR) / "render.yaml").read_text())
    services = {service["name"]: service for service in blueprint["services"]}

    def env(service):
        return {item["key"]: item for item in service["envVars"] if "key" in item}

    cron = services["jtchat-anonymize-sessions"]
    assert cron["type"] == "cron" and cron["startCommand"] == "python manage.py anonymize_sessions"
    minute, hour, day, month, weekday = cron["schedule"].split()
    assert (day, month, weekday) == ("*", "*", "*")
    assert {"SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"} <= set(env(cron))
    assert env(services["jtchat-web"])["TRUSTED_PROXY_COUNT"]["value"] == "2"
