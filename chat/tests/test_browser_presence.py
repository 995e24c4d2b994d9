"""An honest page, in headless Chromium against a real ASGI server on Redis.

With no agent online the customer page says so up front and in the chat, promises no wait
and asks for an e-mail; once an agent opens the inbox (a real browser, signed in), the
same page shows the place in the queue and the estimated wait, live; when the agent's
browser goes away, the page goes back to the offline text.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from chat.models import ChatSession, Holiday
from jtchat.testing import start_asgi_server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

WAIT_MS = 10000


@pytest.fixture
def server(redis_layer, tmp_path):
    # A 3 s presence TTL: the agent's closed page counts for a 1 s grace, not 10 s.
    process = start_asgi_server(redis_layer, tmp_path, CHAT_PRESENCE_TTL_SECONDS="3")
    yield process
    process.stop()


@pytest.fixture
def new_page(browser):
    contexts, problems = [], []

    def opener(**options):
        context = browser.new_context(locale="pt-BR", **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        return page

    opener.problems = problems
    yield opener
    for context in contexts:
        context.close()


def test_offline_text_and_no_estimate_until_an_agent_opens_the_inbox(server, new_page, agent):
    Holiday.objects.create(date=timezone.localdate() + timedelta(days=3), name="Dia do Entregador")
    customer = new_page(viewport={"width": 375, "height": 800})
    customer.goto(server.url + "/")
    notice = customer.locator("#service-notice")
    expect(notice).to_have_attribute("data-service", "offline")
    expect(notice).to_contain_text("atendentes estão offline")
    holiday_day = (timezone.localdate() + timedelta(days=3)).strftime("%d/%m")
    expect(customer.locator("#holidays")).to_contain_text(f"Fechado em {holiday_day} (Dia do Entregador).")

    customer.fill("#customer-name", "Maria")
    customer.click("#start-form button[type=submit]")
    detail = customer.locator("#greeting-detail")
    expect(detail).to_contain_text("atendentes estão offline")
    expect(detail).not_to_contain_text("Espera estimada")
    expect(customer.locator("#app")).to_have_attribute("data-connection", "live")

    # Asked for an e-mail: a bad one is refused beside the field, a good one is kept.
    ask = customer.locator("#email-ask")
    expect(ask).to_be_visible()
    customer.fill("#ask-email", "maria@")
    customer.click("#ask-email-save")
    expect(customer.locator("#ask-email-error")).to_be_visible()
    expect(customer.locator("#ask-email")).to_have_attribute("aria-invalid", "true")
    customer.fill("#ask-email", "maria@example.com")
    customer.click("#ask-email-save")
    expect(customer.locator("#email-saved")).to_contain_text("maria@example.com")
    expect(ask).to_be_hidden()
    key = customer.evaluate("localStorage.getItem('jtchat.session')")
    assert ChatSession.objects.get(session_id=key).customer_email == "maria@example.com"

    # An agent signs in and keeps the inbox open: the customer's page shows the queue.
    inbox = new_page(viewport={"width": 1280, "height": 800})
    inbox.goto(server.url + "/admin/login/?next=/admin/chat/chatsession/")
    inbox.fill("#id_username", "ana")
    inbox.fill("#id_password", "pass-1234-word")
    inbox.click("input[type=submit]")
    expect(inbox.locator("#live-state")).to_have_attribute("data-state", "live")
    expect(detail).to_contain_text("Você é o próximo da fila")
    expect(detail).to_contain_text("Espera estimada")

    # A second customer arriving now is not told the service is offline.
    other = new_page(viewport={"width": 375, "height": 800})
    other.goto(server.url + "/")
    expect(other.locator("#start-view")).to_be_visible()
    expect(other.locator("#service-notice")).to_have_attribute("data-service", "available")
    expect(other.locator("#service-notice")).to_be_hidden()

    # The agent's browser goes away: back to the offline text, no estimate.
    inbox.context.close()
    expect(detail).to_contain_text("atendentes estão offline")
    expect(detail).not_to_contain_text("Espera estimada")
    assert new_page.problems == []
