"""The agents' back office in headless Chromium, end to end, against a real ASGI server.

An agent signs in through /admin/login/ and keeps the inbox open; a customer starts a chat
on the real customer page; the chat appears in the inbox without a reload; the agent opens
it, sees the customer typing, inserts a canned response by its shortcut, edits it and sends
it; that reply claims the chat and reaches the customer's page live.
"""

import pytest
from django.db import connections
from playwright.sync_api import expect

from chat.models import CannedResponse, ChatSession

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

WAIT_MS = 10000
CANNED_TEXT = "Seu pedido está em rota de entrega e chega em até 2 dias úteis."


@pytest.fixture(autouse=True)
def _database_beside_playwright(monkeypatch, browser):
    """ORM calls beside Playwright's event loop; their connections closed afterwards."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    yield
    connections.close_all()


@pytest.fixture
def new_page(browser):
    contexts = []
    problems: list[str] = []

    def opener(**options):
        context = browser.new_context(locale="pt-BR", **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on(
            "console",
            lambda message: (
                problems.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        return page

    opener.problems = problems
    yield opener
    for context in contexts:
        context.close()


def test_agent_sees_a_new_chat_live_and_answers_with_a_canned_response(live_asgi_server, new_page, agent):
    CannedResponse.objects.create(title="Rastreio", shortcut="rastreio", text=CANNED_TEXT)
    base = live_asgi_server.url

    inbox = new_page(viewport={"width": 1400, "height": 900})
    inbox.goto(base + "/admin/login/?next=/admin/chat/chatsession/")
    inbox.fill("#id_username", "ana")
    inbox.fill("#id_password", "pass-1234-word")
    inbox.click("input[type=submit]")
    expect(inbox.locator("#result_list, .paginator").first).to_be_visible()
    expect(inbox.locator("#live-state")).to_have_attribute("data-state", "live")
    inbox.evaluate("window.__sameDocument = true")

    customer = new_page(viewport={"width": 375, "height": 800})
    customer.goto(base + "/")
    customer.fill("#customer-name", "Maria <img src=x onerror=alert(1)>")
    customer.select_option("#topic", "rastreamento")
    customer.click("#start-form button[type=submit]")
    expect(customer.locator("#chat-view")).to_be_visible()
    customer.fill("#message-input", "Onde está meu pedido?")
    customer.press("#message-input", "Enter")

    session = ChatSession.objects.get(session_id=customer.evaluate("localStorage.getItem('jtchat.session')"))
    row_link = inbox.locator(f'#result_list a[href$="/{session.pk}/change/"]')
    expect(row_link).to_be_visible()
    expect(row_link).to_contain_text("Maria <img src=x onerror=alert(1)>")  # shown as text
    expect(inbox.locator(f'#result_list tr:has(a[href$="/{session.pk}/change/"])')).to_contain_text(
        "Onde está meu pedido?"
    )
    assert inbox.evaluate("window.__sameDocument") is True  # no reload
    assert inbox.title().startswith("(1) ")
    expect(inbox.locator("#inbox-header")).to_have_attribute("data-alerts", "1")

    row_link.click()
    conversation = inbox
    expect(conversation.locator("#live-state")).to_have_attribute("data-state", "live")
    expect(conversation.locator("#transcript")).to_contain_text("Onde está meu pedido?")

    customer.type("#message-input", "Alô")
    expect(conversation.locator("#typing-indicator")).to_be_visible()

    reply = conversation.locator("#reply-content")
    reply.click()
    reply.type("/rast")
    expect(conversation.locator("#canned-suggestions [role=option]")).to_have_count(1)
    reply.press("Tab")
    expect(reply).to_have_value(CANNED_TEXT)
    reply.press("End")
    reply.type(" Obrigada!")
    conversation.click("#reply-send")

    sent = CANNED_TEXT + " Obrigada!"
    expect(conversation.locator("#transcript .msg-agent")).to_contain_text(sent)
    expect(reply).to_have_value("")
    expect(customer.locator("#message-log .msg[data-author=agent]").filter(has_text=sent)).to_be_visible()
    expect(conversation.locator("#chat-status")).to_have_attribute("data-status", "active")

    session.refresh_from_db()
    assert session.status == ChatSession.Status.ACTIVE
    assert session.assigned_agent == agent
    assert session.messages.filter(author="agent", content=sent).count() == 1
    assert new_page.problems == []
