"""Admin sign-in is limited against password guessing."""

import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.test import Client

from conftest import PASSWORD, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clean_counters(settings):
    settings.ADMIN_LOGIN_FAILURES_PER_USER = 5
    settings.ADMIN_LOGIN_FAILURES_PER_IP = 20
    settings.ADMIN_LOGIN_LOCKOUT_SECONDS = 900
    cache.clear()
    yield
    cache.clear()


def sign_in(username, password, ip="198.51.100.7"):
    client = Client(REMOTE_ADDR=ip)
    response = client.post("/admin/login/?next=/admin/", {"username": username, "password": password})
    return client, response


def signed_in(client) -> bool:
    return SESSION_KEY in client.session


def form_error_codes(response) -> list[str]:
    return [error.code for error in response.context["form"].errors.as_data().get("__all__", [])]


def test_a_right_password_signs_in(agent):
    client, response = sign_in("ana", PASSWORD)
    assert response.status_code == 302 and signed_in(client)


def test_after_five_failures_even_the_right_password_is_refused(agent):
    for _ in range(5):
        client, response = sign_in("ana", "guess")
        assert response.status_code == 200 and not signed_in(client)
    client, response = sign_in("ana", PASSWORD)
    assert response.status_code == 200
    assert not signed_in(client)
    assert form_error_codes(response) == ["too_many_attempts"]
    assert "15" in response.content.decode()  # how long to wait


def test_four_failures_do_not_lock_and_a_success_forgets_them(agent):
    for _ in range(4):
        sign_in("ana", "guess")
    client, _response = sign_in("ana", PASSWORD)
    assert signed_in(client)
    for _ in range(4):
        sign_in("ana", "guess")
    client, _response = sign_in("ana", PASSWORD)
    assert signed_in(client)


def test_the_username_is_matched_whatever_its_case(agent):
    for name in ["ana", "ANA", "Ana", "aNa", "anA"]:
        sign_in(name, "guess")
    client, _response = sign_in("ana", PASSWORD)
    assert not signed_in(client)


def test_the_lock_is_per_address(agent):
    for _ in range(5):
        sign_in("ana", "guess", ip="198.51.100.7")
    client, _response = sign_in("ana", PASSWORD, ip="203.0.113.20")
    assert signed_in(client)


def test_one_address_trying_many_usernames_is_locked(django_user_model, settings):
    settings.ADMIN_LOGIN_FAILURES_PER_IP = 6
    make_staff(django_user_model, "bruno", "Agentes")
    for n in range(6):
        sign_in(f"user{n}", "guess")
    client, _response = sign_in("bruno", PASSWORD)
    assert not signed_in(client)
    client, _response = sign_in("bruno", PASSWORD, ip="203.0.113.20")
    assert signed_in(client)


def test_the_lock_ends_with_the_window(agent, settings):
    settings.ADMIN_LOGIN_LOCKOUT_SECONDS = 1
    for _ in range(5):
        sign_in("ana", "guess")
    assert not signed_in(sign_in("ana", PASSWORD)[0])
    time.sleep(1.1)
    assert signed_in(sign_in("ana", PASSWORD)[0])
