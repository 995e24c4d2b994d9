"""The health check Render polls: database and (when configured) Redis."""

import pytest
from django.db.utils import OperationalError
from django.test import Client

pytestmark = pytest.mark.django_db


def test_healthy_without_redis(settings):
    settings.REDIS_URL = ""
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_unreachable_redis_is_503(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "redis": "error"}


def test_broken_database_is_503(settings, monkeypatch):
    settings.REDIS_URL = ""

    class BrokenConnection:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr("jtchat.health.connection", BrokenConnection())
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "error"


@pytest.mark.redis
def test_healthy_with_redis(settings):
    from jtchat.testing import redis_test_url

    settings.REDIS_URL = redis_test_url()
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_not_redirected_to_https(settings):
    """Render's health checker speaks plain HTTP to the service."""
    settings.SECURE_SSL_REDIRECT = True
    settings.REDIS_URL = ""
    assert Client().get("/healthz").status_code == 200
    assert Client().get("/").status_code == 301
