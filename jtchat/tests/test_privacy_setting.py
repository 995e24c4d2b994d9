"""CHAT_PRIVACY_URL: only a web address or a path on this site, checked at start-up."""

import pytest

from chat.tests.test_production_settings import production_env, run

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("value", ["javascript:alert(1)", "www.jtexpress.com.br/privacidade", "data:,x"])
def test_anything_but_a_web_address_or_path_is_refused(tmp_path, value):
    result = run(["manage.py", "check"], production_env(tmp_path, CHAT_PRIVACY_URL=value))
    assert result.returncode != 0
    assert "CHAT_PRIVACY_URL must be an http(s) URL or a path" in result.stderr


@pytest.mark.parametrize("value", ["https://www.jtexpress.com.br/privacidade", "/privacidade/", ""])
def test_a_web_address_a_path_or_nothing_is_accepted(tmp_path, value):
    result = run(["manage.py", "check"], production_env(tmp_path, CHAT_PRIVACY_URL=value))
    assert result.returncode == 0, result.stderr
