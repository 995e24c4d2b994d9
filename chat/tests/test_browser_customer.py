"""The customer chat page driven in headless Chromium, end to end.

Two servers: pytest-django's ``live_server`` (WSGI, no sockets: the page falls back to
polling) and ``live_asgi_server`` (uvicorn + Redis: the page runs on its socket). The agent
side is played by the services, as the admin would call them.
"""

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from asgiref.sync import async_to_sync
from playwright.sync_api import expect

from chat import services
from chat.live.events import send_ephemeral_event, session_group
from chat.models import ChatMessage, ChatSession

# Live servers need committed data (a transactional database); serialized_rollback brings
# back the agent groups made by a data migration, which each transactional test's flush erases.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PHONE = {"width": 375, "height": 800}
WAIT_MS = 8000


@pytest.fixture
def open_page(browser):
    """Open the chat page on a phone-sized screen; collects script errors and CSP refusals."""
    contexts = []
    problems: list[str] = []

    def opener(base_url: str):
        context = browser.new_context(viewport=PHONE, locale="pt-BR", accept_downloads=True)
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
        page.goto(base_url + "/")
        return page

    opener.problems = problems
    yield opener
    for context in contexts:
        context.close()


def start_chat(page, name: str = "Maria") -> ChatSession:
    expect(page.locator("#start-view")).to_be_visible()
    page.fill("#customer-name", name)
    page.select_option("#topic", "rastreamento")
    page.click("#start-form button[type=submit]")
    expect(page.locator("#chat-view")).to_be_visible()
    key = page.evaluate("localStorage.getItem('jtchat.session')")
    return ChatSession.objects.get(session_id=key)


def send(page, text: str) -> None:
    page.fill("#message-input", text)
    page.press("#message-input", "Enter")


def bubbles(page, author: str, text: str | None = None):
    locator = page.locator(f"#message-log .msg[data-author={author}]")
    return locator.filter(has_text=text) if text else locator


def is_catch_up(url: str) -> bool:
    return urlsplit(url).path == "/api/chat/messages"


def agent_typing(session, typing: bool) -> None:
    """What the agent's socket sends when Ana types (from a thread: Playwright owns this loop)."""
    event = {"type": "typing", "author": "agent", "name": "Ana", "typing": typing}
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(async_to_sync(send_ephemeral_event), session_group(session.pk), event).result()


def shown_message_ids(page) -> list[int]:
    return page.eval_on_selector_all(
        "#message-log .msg[data-message-id]", "items => items.map(item => Number(item.dataset.messageId))"
    )


def stored_message_ids(session) -> list[int]:
    return list(
        ChatMessage.objects.filter(session=session, is_internal=False)
        .order_by("id")
        .values_list("id", flat=True)
    )


def test_chat_with_polling_fallback_reload_transcript_and_rating(live_server, open_page, agent):
    page = open_page(live_server.url)
    session = start_chat(page)
    expect(page.locator("#app")).to_have_attribute("data-connection", "polling", timeout=WAIT_MS)

    # The first answer to the send is lost after the server stored the message: the page
    # retries with the same client_id and the message is shown and stored once.
    answers_lost = []

    def lose_first_answer(route):
        if not answers_lost:
            route.fetch()
            answers_lost.append(route.request.post_data_json["client_id"])
            route.abort()
        else:
            route.continue_()

    page.route("**/api/chat/message", lose_first_answer)
    send(page, "Meu pacote JT123 atrasou <b>urgente</b>")
    mine = bubbles(page, "customer")
    expect(mine).to_have_count(1)
    expect(mine).to_have_attribute("data-state", "sent")
    expect(mine.locator(".msg__text")).to_have_text("Meu pacote JT123 atrasou <b>urgente</b>")
    assert len(answers_lost) == 1
    stored = ChatMessage.objects.get(session=session, author="customer")
    assert str(stored.client_id) == answers_lost[0]
    page.unroute("**/api/chat/message")

    reply = "Oi Maria, vou verificar. <img src=x onerror=window.pwned=1>"
    services.agent_message_post(session_pk=session.pk, agent=agent, content=reply)
    expect(bubbles(page, "agent", "Oi Maria, vou verificar.")).to_have_count(1, timeout=WAIT_MS)
    expect(bubbles(page, "agent").locator(".msg__text")).to_have_text(reply)
    assert page.locator("#message-log img").count() == 0
    assert page.evaluate("window.pwned") is None
    expect(bubbles(page, "agent").locator(".msg__author")).to_have_text("Ana")
    expect(page.locator("#greeting")).to_contain_text("Ana")
    expect(page.locator("#chat-status")).to_contain_text("Ana")
    assert shown_message_ids(page) == stored_message_ids(session)

    with page.expect_download() as download_info:
        page.click("#download-button")
    download = download_info.value
    assert download.suggested_filename.endswith(".txt")
    transcript = Path(download.path()).read_text(encoding="utf-8-sig")
    assert "Maria: Meu pacote JT123 atrasou <b>urgente</b>" in transcript
    assert f"Ana: {reply}" in transcript
    assert re.search(r"\[\d{2}/\d{2}/\d{4},? \d{2}:\d{2}\]", transcript), transcript

    page.reload()
    expect(bubbles(page, "agent")).to_have_count(1)
    expect(bubbles(page, "customer")).to_have_count(1)
    with page.expect_response(lambda response: is_catch_up(response.url)):
        pass  # one more poll after the reload brings nothing twice
    assert shown_message_ids(page) == stored_message_ids(session)
    expect(bubbles(page, "customer")).to_have_attribute("data-state", "sent")

    page.click("#end-button")
    page.click("#end-confirm")
    expect(page.locator("#rating-view")).to_be_visible()
    expect(page.locator("#composer")).to_be_hidden()
    # Keyboard only: check the first star, arrow to the fifth, tab to the comment and submit.
    page.focus("#rating-1")
    page.keyboard.press("Space")
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#rating-5")).to_be_checked()
    page.keyboard.press("Tab")
    page.keyboard.type("Rápido e gentil")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#thanks-view")).to_be_visible()

    session.refresh_from_db()
    assert session.status == ChatSession.Status.ENDED
    assert session.ended_by == ChatSession.EndedBy.CUSTOMER
    assert session.satisfaction_rating == 5
    assert session.satisfaction_comment == "Rápido e gentil"

    page.click("#new-chat-button")
    expect(page.locator("#start-view")).to_be_visible()
    assert page.evaluate("localStorage.getItem('jtchat.session')") is None
    assert open_page.problems == []


def test_throttled_send_is_retried_refused_send_is_explained_agent_end_asks_rating(
    live_server, open_page, agent
):
    page = open_page(live_server.url)
    session = start_chat(page, name="")
    answers = iter(
        [
            {
                "status": 429,
                "headers": {"Retry-After": "1"},
                "json": {"error": "Slow down", "code": "throttled"},
            },
            None,  # the retry goes through
            {
                "status": 400,
                "json": {"error": "Invalid", "code": "invalid", "fields": {"content": ["Conteúdo recusado"]}},
            },
        ]
    )

    def answer(route):
        canned = next(answers, None)
        if canned is None:
            route.continue_()
        else:
            route.fulfill(**canned)

    page.route("**/api/chat/message", answer)
    send(page, "Tem alguém aí?")
    expect(bubbles(page, "customer", "Tem alguém aí?")).to_have_attribute(
        "data-state", "sent", timeout=WAIT_MS
    )
    assert ChatMessage.objects.filter(session=session, content="Tem alguém aí?").count() == 1

    send(page, "Mensagem recusada")
    refused = bubbles(page, "customer", "Mensagem recusada")
    expect(refused).to_have_attribute("data-state", "failed")
    expect(refused.get_by_role("alert")).to_contain_text("Conteúdo recusado")
    assert not ChatMessage.objects.filter(session=session, content="Mensagem recusada").exists()
    page.unroute("**/api/chat/message")

    services.session_end(session=session, ended_by=ChatSession.EndedBy.AGENT, agent=agent)
    expect(page.locator("#rating-view")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#composer")).to_be_hidden()
    page.click("label[for=rating-4]")
    page.click("#rating-submit")
    expect(page.locator("#thanks-view")).to_be_visible()
    session.refresh_from_db()
    assert session.satisfaction_rating == 4
    assert open_page.problems == []


@pytest.mark.redis
def test_live_socket_delivery_and_a_cut_mid_conversation(live_asgi_server, open_page, agent):
    page = open_page(live_asgi_server.url)
    frames_sent: list[str] = []
    page.on("websocket", lambda socket: socket.on("framesent", lambda payload: frames_sent.append(payload)))
    session = start_chat(page)
    expect(page.locator("#app")).to_have_attribute("data-connection", "live")
    assert '"type":"hello"' in frames_sent[0]

    send(page, "Primeira mensagem")
    expect(bubbles(page, "customer", "Primeira mensagem")).to_have_attribute("data-state", "sent")

    polls = []
    page.on(
        "request",
        lambda request: (
            polls.append(request.url) if urlsplit(request.url).path == "/api/chat/messages" else None
        ),
    )
    agent_typing(session, True)
    expect(page.locator("#typing-indicator")).to_be_visible()
    expect(page.locator("#typing-indicator")).to_contain_text("Ana")
    services.agent_message_post(session_pk=session.pk, agent=agent, content="Resposta pelo socket")
    expect(bubbles(page, "agent", "Resposta pelo socket")).to_have_count(1)
    expect(page.locator("#typing-indicator")).to_be_hidden()
    expect(page.locator("#chat-status")).to_contain_text("Ana")
    assert polls == [], "the reply should come over the socket, not by polling"

    page.type("#message-input", "digitando")
    assert any('"type":"typing"' in frame and '"typing":true' in frame for frame in frames_sent)
    page.fill("#message-input", "")

    # Cut: the network goes away and the socket with it; the customer sends meanwhile and
    # the agent answers meanwhile. Back online, both show up once and nothing is doubled.
    page.context.set_offline(True)
    assert page.evaluate("window.jtChat.dropSocket()") is True
    send(page, "Enviada durante o corte")
    pending = bubbles(page, "customer", "Enviada durante o corte")
    expect(pending).to_have_attribute("data-state", "retrying")
    services.agent_message_post(session_pk=session.pk, agent=agent, content="Enquanto você estava fora")
    page.context.set_offline(False)

    expect(pending).to_have_attribute("data-state", "sent", timeout=WAIT_MS)
    expect(bubbles(page, "agent", "Enquanto você estava fora")).to_have_count(1)
    expect(page.locator("#app")).to_have_attribute("data-connection", "live")
    expect(pending).to_have_count(1)
    assert ChatMessage.objects.filter(session=session, content="Enviada durante o corte").count() == 1
    assert shown_message_ids(page) == stored_message_ids(session)
    assert open_page.problems == []
