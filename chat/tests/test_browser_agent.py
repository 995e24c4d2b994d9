"""The agents' back office in headless Chromium, end to end, against a real ASGI server.

An agent signs in through /admin/login/ and keeps the inbox open; a customer starts a chat
on the real customer page; the chat appears in the inbox without a reload; the agent opens
it, sees the customer typing, inserts a canned response by its shortcut, edits it and sends
it; that reply claims the chat and reaches the customer's page live.
"""

import json
import re

import pytest
from django.db import connections
from django.test import Client
from playwright.sync_api import expect

from chat import payloads, services
from chat.models import CannedResponse, ChatSession

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

WAIT_MS = 10000
CANNED_TEXT = "Seu pedido está em rota de entrega e chega em até 2 dias úteis."


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
    CannedResponse.objects.update_or_create(
        shortcut="rastreio", defaults={"title": "Rastreio", "text": CANNED_TEXT}
    )
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


def test_conversation_page_catches_up_from_what_it_showed_and_retries_a_failed_read(
    live_asgi_server, new_page, agent
):
    """Messages nobody saw live come by the catch-up read after the watch, from the last
    message the page showed when its socket became ready: a newer message arriving live in
    between must not move that mark, and a failed read is tried again."""
    chat = services.session_open(customer_name="Carla")
    services.session_claim(session=chat, agent=agent)
    services.customer_message_post(session_key=chat.session_id, content="antes da página")
    shown_last = chat.messages.order_by("id").last().pk
    base = live_asgi_server.url
    client = Client()
    client.force_login(agent)
    page = new_page(viewport={"width": 1400, "height": 900})
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}])
    posted = {}

    def post_while_the_socket_is_not_open(route):
        posted["missed"] = services.customer_message_post(
            session_key=chat.session_id, content="ninguém viu"
        ).message
        posted["newer"] = services.customer_message_post(
            session_key=chat.session_id, content="chegou ao vivo"
        ).message
        connections.close_all()  # opened in Playwright's callback context: closed there
        route.continue_()

    reads = []

    def first_read_fails(route):
        reads.append(route.request.url)
        if len(reads) == 1:
            route.abort()
        else:
            route.continue_()

    def newer_message_arrives_before_the_watch_answers(socket):
        server = socket.connect_to_server()
        socket.on_message(server.send)

        def from_server(frame):
            socket.send(frame)
            if json.loads(frame)["type"] == "ready":  # the chat's own agent: live at once
                event = {
                    "type": "message",
                    "message": payloads.message(posted["newer"]),
                    "session_id": chat.pk,
                }
                socket.send(json.dumps(event))

        server.on_message(from_server)

    page.route("**/chat/admin/conversation.js", post_while_the_socket_is_not_open)
    page.route(re.compile(r".*/api/chat/sessions/\d+/messages/\?after=.*"), first_read_fails)
    page.route_web_socket(re.compile(r".*/ws/agents/$"), newer_message_arrives_before_the_watch_answers)
    page.goto(f"{base}/admin/chat/chatsession/{chat.pk}/change/")

    transcript = page.locator("#transcript")
    expect(transcript.locator(".msg-body").filter(has_text="ninguém viu")).to_be_visible()
    shown = transcript.locator("[data-message-id]").evaluate_all(
        "items => items.map(i => i.dataset.messageId)"
    )
    ids = [int(value) for value in shown]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    assert posted["missed"].pk in ids and posted["newer"].pk in ids
    assert len(reads) >= 2 and all(url.endswith(f"?after={shown_last}") for url in reads)
    assert new_page.problems == []
