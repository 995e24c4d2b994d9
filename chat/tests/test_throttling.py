"""Rate limits of the public chat API and the client IP they count by."""

import json

import pytest
from django.core.cache import cache, caches
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory

from chat.models import ChatSession
from chat.tests import files
from jtchat.network import client_ip

pytestmark = pytest.mark.django_db

JSON = "application/json"


@pytest.fixture
def limits(settings):
    settings.CHAT_THROTTLE_RATES = {
        "session_open_ip": "3/min",
        "message_ip": "6/min",
        "message_session": "2/min",
    }
    cache.clear()
    yield settings.CHAT_THROTTLE_RATES
    cache.clear()


def open_chat(client, **headers):
    return client.post("/api/chat/session", "{}", content_type=JSON, **headers)


def send(client, key, text="Olá", **headers):
    body = json.dumps({"session_id": key, "author": "user", "content": text})
    return client.post("/api/chat/message", body, content_type=JSON, **headers)


def assert_throttled(response):
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    body = response.json()
    assert body["code"] == "throttled" and body["error"]


class TestOpeningChats:
    def test_fourth_chat_from_one_ip_within_a_minute_is_refused(self, limits):
        client = Client()
        for _ in range(3):
            assert open_chat(client).status_code == 201
        assert_throttled(open_chat(client))
        assert ChatSession.objects.count() == 3

    def test_another_ip_is_counted_apart(self, limits):
        client = Client()
        for _ in range(3):
            open_chat(client)
        assert open_chat(client, REMOTE_ADDR="203.0.113.9").status_code == 201

    def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(self, limits):
        client = Client()
        for n in range(3):
            open_chat(client, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
        assert_throttled(open_chat(client, HTTP_X_FORWARDED_FOR="198.51.100.77"))

    def test_behind_a_trusted_proxy_each_client_has_its_own_limit(self, limits, settings):
        settings.TRUSTED_PROXY_COUNT = 1
        proxy = {"REMOTE_ADDR": "10.0.0.5"}
        for _ in range(3):
            assert open_chat(Client(), HTTP_X_FORWARDED_FOR="198.51.100.1", **proxy).status_code == 201
        # A forged left-hand entry does not make a new client: the proxy's entry counts.
        forged = open_chat(Client(), HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.1", **proxy)
        assert_throttled(forged)
        assert open_chat(Client(), HTTP_X_FORWARDED_FOR="198.51.100.2", **proxy).status_code == 201

    def test_no_limit_when_rates_are_off(self, settings):
        settings.CHAT_THROTTLE_RATES = {}
        cache.clear()
        client = Client()
        assert all(open_chat(client).status_code == 201 for _ in range(12))


class TestSendingMessages:
    def _chat(self, **headers):
        return open_chat(Client(), **headers).json()["session_id"]

    def test_one_chat_is_limited_whatever_the_ip(self, limits):
        key = self._chat()
        assert send(Client(), key, "um", REMOTE_ADDR="203.0.113.1").status_code == 201
        assert send(Client(), key, "dois", REMOTE_ADDR="203.0.113.2").status_code == 201
        assert_throttled(send(Client(), key, "três", REMOTE_ADDR="203.0.113.3"))
        assert ChatSession.objects.get(session_id=key).messages.count() == 2

    def test_files_count_with_the_chats_messages(self, limits):
        key = self._chat()
        for _ in range(2):
            assert send(Client(), key).status_code == 201
        photo = files.upload("a.png", files.png_bytes(), "image/png")
        upload = Client().post("/api/chat/attachments", {"files": [photo]}, HTTP_X_CHAT_SESSION=key)
        assert_throttled(upload)

    def test_other_chats_are_not_slowed_by_a_flooded_one(self, limits):
        flooded, quiet = self._chat(REMOTE_ADDR="203.0.113.1"), self._chat(REMOTE_ADDR="203.0.113.2")
        for _ in range(3):
            send(Client(), flooded, REMOTE_ADDR="203.0.113.1")
        assert send(Client(), quiet, REMOTE_ADDR="203.0.113.2").status_code == 201

    def test_one_ip_is_limited_across_chats(self, limits):
        keys = [self._chat(REMOTE_ADDR=f"203.0.113.{n}") for n in range(4)]
        client = Client(REMOTE_ADDR="198.51.100.50")
        sent = [send(client, key).status_code for key in keys for _ in range(2)]
        assert sent[:6] == [201] * 6
        assert_throttled(send(client, keys[3], "mais um"))

    def test_reading_is_not_limited(self, limits):
        key = self._chat()
        client = Client()
        for _ in range(10):
            assert client.get("/api/chat/messages", HTTP_X_CHAT_SESSION=key).status_code == 200


@pytest.mark.redis
def test_limits_live_in_redis_so_every_worker_shares_them(limits, settings):
    from jtchat.testing import redis_test_url

    url = redis_test_url()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "jtchat-throttle-test",
        }
    }
    cache.clear()
    try:
        for _ in range(3):
            assert open_chat(Client()).status_code == 201
        import redis

        assert redis.Redis.from_url(url).keys("jtchat-throttle-test:*throttle_session_open_ip*")
        # A fresh cache connection, as another worker process would have, sees the count.
        caches["default"].close()
        del caches["default"]
        assert_throttled(open_chat(Client()))
    finally:
        cache.clear()


class TestClientIp:
    factory = RequestFactory()

    def test_remote_addr_by_default(self, settings):
        settings.TRUSTED_PROXY_COUNT = 0
        request = self.factory.get("/", REMOTE_ADDR="192.0.2.7", HTTP_X_FORWARDED_FOR="203.0.113.1")
        assert client_ip(request) == "192.0.2.7"

    @pytest.mark.parametrize(
        "count, header, expected",
        [
            (1, "203.0.113.1", "203.0.113.1"),
            (1, "6.6.6.6, 203.0.113.1", "203.0.113.1"),
            (2, "6.6.6.6, 203.0.113.1, 10.1.1.1", "203.0.113.1"),
            (2, "203.0.113.1", "203.0.113.1"),
            (2, "203.0.113.1, 104.22.17.40", "203.0.113.1"),  # Render: client, Cloudflare edge
            (2, "6.6.6.6, 203.0.113.1, 104.22.17.40", "203.0.113.1"),
            (1, " 2001:db8::1 ", "2001:db8::1"),
            (1, "[2001:db8::2]:443", "2001:db8::2"),
            (1, "not-an-ip", "10.0.0.5"),
            (1, "", "10.0.0.5"),
        ],
    )
    def test_behind_trusted_proxies(self, settings, count, header, expected):
        settings.TRUSTED_PROXY_COUNT = count
        request = self.factory.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=header)
        assert client_ip(request) == expected

    def test_the_chat_stores_the_client_ip_the_proxy_saw(self, settings):
        settings.TRUSTED_PROXY_COUNT = 1
        forwarded = "6.6.6.6, 203.0.113.44"
        response = open_chat(Client(), REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=forwarded)
        key = response.json()["session_id"]
        assert ChatSession.objects.get(session_id=key).user_ip == "203.0.113.44"

    def test_a_garbage_header_never_reaches_the_database(self, settings):
        settings.TRUSTED_PROXY_COUNT = 1
        response = open_chat(Client(), REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="<script>, 999.1.1.1")
        assert response.status_code == 201
        assert ChatSession.objects.get(session_id=response.json()["session_id"]).user_ip == "10.0.0.5"


@pytest.mark.parametrize("value", ["lots", "10", "10/fortnight", "/min"])
def test_a_malformed_rate_is_a_clear_configuration_error(monkeypatch, value):
    from jtchat.env import env_rate

    monkeypatch.setenv("CHAT_RATE_MESSAGES_PER_IP", value)
    with pytest.raises(ImproperlyConfigured, match="CHAT_RATE_MESSAGES_PER_IP"):
        env_rate("CHAT_RATE_MESSAGES_PER_IP", "60/min")


def test_rates_can_be_set_or_turned_off_by_environment(monkeypatch):
    from jtchat.env import env_rate

    monkeypatch.setenv("CHAT_RATE_MESSAGES_PER_IP", "120/min")
    assert env_rate("CHAT_RATE_MESSAGES_PER_IP", "60/min") == "120/min"
    monkeypatch.setenv("CHAT_RATE_MESSAGES_PER_IP", "off")
    assert env_rate("CHAT_RATE_MESSAGES_PER_IP", "60/min") is None
    monkeypatch.delenv("CHAT_RATE_MESSAGES_PER_IP")
    assert env_rate("CHAT_RATE_MESSAGES_PER_IP", "60/min") == "60/min"


def test_a_cache_outage_lets_messages_through_instead_of_failing_them(limits, monkeypatch):
    """While Redis restarts, customers keep chatting (unlimited for the moment), not 500."""
    key = open_chat(Client()).json()["session_id"]

    def down(*args, **kwargs):
        raise ConnectionError("Redis is restarting")

    monkeypatch.setattr(cache, "get", down)
    for text in ["um", "dois", "três"]:
        assert send(Client(), key, text).status_code == 201
    assert ChatSession.objects.get(session_id=key).messages.count() == 3
