"""The customer page in headless Chromium: sending too fast, links in messages, the privacy
link and accessibility (axe-core).

pytest-django's ``live_server`` runs in this process, so the rate limits and the privacy
link are set with the ``settings`` fixture; the agent side is played by the services.
"""

import re
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.cache import cache
from playwright.sync_api import expect

from chat import services
from chat.models import ChatMessage
from chat.tests import test_browser_customer as customer_page
from chat.tests.test_browser_customer import WAIT_MS, bubbles, send, start_chat

open_page = customer_page.open_page  # the same fixture: a phone-sized page, problems collected

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

TOO_FAST = re.compile(r"^Você está enviando mensagens rápido demais\. Aguarde (\d+) s\.$")


def countdown_seconds(locator) -> int:
    return int(TOO_FAST.match(locator.text_content()).group(1))


def test_a_message_sent_too_fast_counts_down_and_goes_once_the_wait_is_over(live_server, open_page, settings):
    settings.CHAT_THROTTLE_RATES = {"message_session": "2/min"}
    cache.clear()
    page = open_page(live_server.url)
    page.clock.install()  # the page's timers, so a minute can pass in a moment
    page.reload()
    session = start_chat(page)
    posted: list[tuple[int, str, str]] = []

    def record(response):
        if urlsplit(response.url).path == "/api/chat/message":
            body = response.request.post_data_json
            posted.append((response.status, body["content"], body["client_id"]))

    page.on("response", record)
    for text in ("um", "dois"):
        send(page, text)
        expect(bubbles(page, "customer", text)).to_have_attribute("data-state", "sent")

    send(page, "três")
    third = bubbles(page, "customer", "três")
    expect(third).to_have_attribute("data-state", "throttled")
    countdown = third.locator(".msg__countdown")
    expect(countdown).to_have_text(TOO_FAST)
    first = countdown_seconds(countdown)
    assert 55 <= first <= 60, first  # the server's Retry-After for a 2/min limit
    page.clock.run_for(3000)
    page.wait_for_function(
        "([limit]) => Number(document.querySelector('[data-state=throttled] .msg__countdown')"
        ".textContent.match(/\\d+/)[0]) <= limit",
        arg=[first - 3],
    )
    assert not ChatMessage.objects.filter(session=session, content="três").exists()

    # A reload while waiting loses nothing: the message is still there, still waiting.
    page.reload()
    third = bubbles(page, "customer", "três")
    expect(third).to_have_count(1)
    expect(third).to_have_attribute("data-state", "throttled")
    expect(third.locator(".msg__countdown")).to_have_text(TOO_FAST)

    cache.clear()  # the server's minute is over
    page.clock.fast_forward("01:01")
    expect(third).to_have_attribute("data-state", "sent", timeout=WAIT_MS)
    stored = ChatMessage.objects.get(session=session, content="três")
    attempts = [(status, client_id) for status, content, client_id in posted if content == "três"]
    assert [status for status, _ in attempts].count(429) >= 2
    assert [status for status, _ in attempts][-1] == 201
    assert {client_id for _, client_id in attempts} == {str(stored.client_id)}
    assert ChatMessage.objects.filter(session=session, author="customer").count() == 3
    assert open_page.problems == []


def test_web_addresses_in_messages_are_links_and_nothing_else_becomes_markup(live_server, open_page, agent):
    page = open_page(live_server.url)
    session = start_chat(page)
    page.context.route(
        "https://www.jtexpress.com.br/**",
        lambda route: route.fulfill(body="<title>Rastreio</title>", content_type="text/html"),
    )
    text = (
        "Acompanhe em https://www.jtexpress.com.br/rastreio?codigo=JT123BR. "
        "Ou (veja http://exemplo.com.br/ajuda), mas não javascript:alert(1) "
        'nem <a href="javascript:alert(2)">isto</a> <script>window.pwned=1</script>'
    )
    services.agent_message_post(session_pk=session.pk, agent=agent, content=text)
    reply = bubbles(page, "agent").locator(".msg__text")
    expect(reply).to_have_text(text)
    links = reply.locator("a")
    expect(links).to_have_count(2)
    expect(links.nth(0)).to_have_text("https://www.jtexpress.com.br/rastreio?codigo=JT123BR")
    expect(links.nth(0)).to_have_attribute("href", "https://www.jtexpress.com.br/rastreio?codigo=JT123BR")
    expect(links.nth(1)).to_have_text("http://exemplo.com.br/ajuda")
    expect(links.nth(1)).to_have_attribute("href", "http://exemplo.com.br/ajuda")
    for index in range(2):
        expect(links.nth(index)).to_have_attribute("rel", "noopener noreferrer")
        expect(links.nth(index)).to_have_attribute("target", "_blank")
    assert page.locator("#message-log a[href^='javascript'], #message-log script").count() == 0
    assert page.evaluate("window.pwned") is None

    with page.context.expect_page() as opened:
        links.nth(0).click()
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.url == "https://www.jtexpress.com.br/rastreio?codigo=JT123BR"
    assert tab.evaluate("window.opener") is None
    tab.close()

    send(page, "Meu pedido: https://exemplo.com.br/pedido/42")
    mine = bubbles(page, "customer", "Meu pedido")
    expect(mine).to_have_attribute("data-state", "sent")
    expect(mine.locator("a")).to_have_attribute("href", "https://exemplo.com.br/pedido/42")
    assert open_page.problems == []


def test_privacy_link_is_shown_beside_the_start_button_only_when_configured(live_server, open_page, settings):
    page = open_page(live_server.url)
    expect(page.locator("#start-button")).to_be_visible()
    expect(page.get_by_role("link", name="Política de privacidade")).to_have_count(0)

    settings.CHAT_PRIVACY_URL = "https://www.jtexpress.com.br/privacidade"
    page.reload()
    link = page.locator("#start-form").get_by_role("link", name="Política de privacidade")
    expect(link).to_be_visible()
    expect(link).to_have_attribute("href", "https://www.jtexpress.com.br/privacidade")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    assert open_page.problems == []


def violations(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{item['id']} ({item['impact']}): {[node['target'] for node in item['nodes']]}"
        for item in results.response["violations"]
    ]


def test_axe_finds_nothing_on_the_start_form_the_conversation_and_the_rating(
    live_server, open_page, agent, settings
):
    settings.CHAT_PRIVACY_URL = "https://www.jtexpress.com.br/privacidade"
    page = open_page(live_server.url)
    expect(page.locator("#start-view")).to_be_visible()
    assert violations(page) == []

    session = start_chat(page)
    send(page, "Onde está meu pedido? https://www.jtexpress.com.br/rastreio")
    expect(bubbles(page, "customer")).to_have_attribute("data-state", "sent")
    services.agent_message_post(
        session_pk=session.pk, agent=agent, content="Veja em https://www.jtexpress.com.br/ajuda."
    )
    expect(bubbles(page, "agent")).to_have_count(1)
    expect(page.locator("#chat-status")).to_be_visible()
    assert violations(page) == []

    page.click("#end-button")
    page.click("#end-confirm")
    expect(page.locator("#rating-view")).to_be_visible()
    assert violations(page) == []
    assert open_page.problems == []
