"""The agents' workspace in headless Chromium, end to end, against a real ASGI server (one
module of over 400 lines: the browsers and the server are started once for all its tests).

Two agents — Ana in São Paulo on the inbox, Bruno in Manaus on a conversation — and a
manager on the metrics screen, all with alerts on; customers on the real customer page. A
new chat reaches every desk at once (row, list, tab title, chime, notification) from its
socket event alone; Bruno's notification opens it in place; Ana answers it in three actions
(click the row, type, Enter); the details panel, the counts and the list follow every
change, through the customer's rating. axe-core checks the screens on the way (the pages'
CSP stays on: axe's script runs through Playwright).

Over 400 lines because it holds few, long scenarios: each browser test starts a server and
several browsers, so the checks of one screen share one scenario to keep CI short.
"""

import json
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.db import connections
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from chat import payloads, services
from chat.models import ChatMessage, ChatSession
from chat.tests import files

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

WAIT_MS = 10000
PHONE = {"width": 375, "height": 800}
DESK = {"width": 1400, "height": 900}
STARTER_TRACKING = "Para consultar sua encomenda, me informe o código de rastreio, por favor."

# Headless Chromium shows no desktop notifications: this stand-in for the browser's
# Notification records what the page raises, so that the test can click one.
NOTIFICATIONS = """
(() => {
  const raised = [];
  const KEY = "test.notification-permission"; // a browser keeps the answer for the site
  class RecordedNotification {
    static get permission() {
      return localStorage.getItem(KEY) || "default";
    }
    static requestPermission() {
      localStorage.setItem(KEY, "granted");
      return Promise.resolve("granted");
    }
    constructor(title, options) {
      Object.assign(this, { title, body: options.body, tag: options.tag, onclick: null });
      raised.push(this);
    }
    close() {}
  }
  window.Notification = RecordedNotification;
  window.__notifications = raised;
})();
"""


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


def signed_in(new_page, base: str, username: str, landing: str, **options):
    """A staff member's page, signed in through the admin's form, with alerts turned on."""
    page = new_page(viewport=DESK, **options)
    page.add_init_script(NOTIFICATIONS)
    page.goto(f"{base}/admin/login/?next={landing}")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass-1234-word")
    page.click("input[type=submit]")
    expect(page.locator("#live-state")).to_have_attribute("data-state", "live")
    page.click("#desk-alerts")
    expect(page.locator("#desk-alerts")).to_have_attribute("aria-pressed", "true")
    page.evaluate("window.__sameDocument = true")
    return page


def serious_violations(page, problems: list[str]) -> list[str]:
    """axe-core's serious and critical findings on the page. Its script runs through
    Playwright (the pages' CSP stays on); the inline styles axe itself tries while it
    measures are refused by that CSP, and those refusals are dropped from ``problems``."""
    before = len(problems)
    results = Axe().run(page, options={"resultTypes": ["violations"]})
    problems[before:] = [text for text in problems[before:] if not text.startswith("Applying inline style")]
    return [
        f"{item['id']} ({item['impact']}): {[node['target'] for node in item['nodes']]}"
        for item in results.response["violations"]
        if item["impact"] in ("serious", "critical")
    ]


def start_chat(page, base: str, name: str) -> ChatSession:
    page.goto(base + "/")
    page.fill("#customer-name", name)
    page.select_option("#topic", "rastreamento")
    page.click("#start-form button[type=submit]")
    expect(page.locator("#chat-view")).to_be_visible()
    return ChatSession.objects.get(session_id=page.evaluate("localStorage.getItem('jtchat.session')"))


def test_a_new_chat_reaches_every_desk_at_once_and_is_answered_in_three_actions(
    live_asgi_server, new_page, agent, other_agent, manager
):
    base = live_asgi_server.url
    bruno_chat = services.session_open(customer_name="Carla")
    services.session_claim(session=bruno_chat, agent=other_agent)

    ana = signed_in(new_page, base, "ana", "/admin/", timezone_id="America/Sao_Paulo")
    assert urlsplit(ana.url).path == "/admin/chat/chatsession/"  # /admin/ lands agents on the inbox
    bruno = signed_in(
        new_page,
        base,
        "bruno",
        f"/admin/chat/chatsession/{bruno_chat.pk}/change/",
        timezone_id="America/Manaus",
    )
    gabi = signed_in(new_page, base, "gabi", "/admin/chat/chatanalytics/metrics/")
    inbox_fetches = []
    ana.on(
        "request",
        lambda request: (
            inbox_fetches.append(request.url)
            if urlsplit(request.url).path.startswith("/admin/chat/chatsession/")
            and request.resource_type == "fetch"
            else None
        ),
    )

    customer = new_page(viewport=PHONE)
    session = start_chat(customer, base, "Maria <img src=x onerror=alert(1)>")

    # Every desk has it from the socket's event: the row, the list, the title, the alerts.
    row_link = ana.locator(f'#result_list a[href$="/{session.pk}/change/"]')
    expect(row_link).to_contain_text("Maria <img src=x onerror=alert(1)>")  # shown as text
    expect(ana.locator('#inbox-tabs [data-count="waiting"]')).to_have_text("1")
    expect(ana.locator("#inbox-result-count")).to_have_text("2 resultados")  # with Bruno's chat
    expect(bruno.locator(f'#worklist-queue a[data-chat="{session.pk}"]')).to_be_visible()
    for page in (ana, bruno, gabi):
        expect(page).to_have_title(re.compile(r"^\(1\) "))
        expect(page.locator("#desk-alerts")).to_have_attribute("data-notified", "1")
        expect(page.locator("#desk-alerts")).to_have_attribute("data-chimes", "1")
    assert inbox_fetches == []  # applied to the page, nothing fetched

    customer.fill("#message-input", "Onde está meu pedido?")
    customer.press("#message-input", "Enter")
    ana_row = ana.locator(f'#result_list tr:has(a[href$="/{session.pk}/change/"])')
    expect(ana_row.locator(".field-last_message_column")).to_have_text("ClienteOnde está meu pedido?")
    expect(ana_row.locator(".inbox-unread")).to_have_text("1")
    # The row the events drew reads as the one the server draws.
    drawn_live = ana_row.locator("td, th").all_inner_texts()
    reloaded = ana.context.new_page()
    reloaded.goto(base + "/admin/chat/chatsession/")
    server_row = reloaded.locator(f'#result_list tr:has(a[href$="/{session.pk}/change/"])')
    assert server_row.locator("td, th").all_inner_texts() == drawn_live
    reloaded.close()

    # Bruno clicks the notification: the chat opens in place, the address follows.
    bruno.evaluate("window.__notifications[0].onclick()")
    expect(bruno).to_have_url(re.compile(rf"/admin/chat/chatsession/{session.pk}/change/$"))
    expect(bruno.locator("#chat-title")).to_contain_text("Maria")
    expect(bruno.locator("#transcript")).to_contain_text("Onde está meu pedido?")
    expect(bruno.locator("#reply-content")).to_be_focused()
    assert bruno.evaluate("window.__sameDocument") is True

    # Ana's first reply: click the row, type, Enter.
    row_link.click()
    expect(ana.locator("#reply-content")).to_be_focused()
    ana.keyboard.type("Olá, Maria! Vou verificar.")
    ana.keyboard.press("Enter")
    expect(customer.locator("#message-log .msg[data-author=agent]")).to_contain_text(
        "Olá, Maria! Vou verificar."
    )

    # Everything that moved says so: the panel on both screens, the queue, the titles.
    for page in (ana, bruno):
        expect(page.locator('#chat-details [data-field="status"]')).to_have_text("Em atendimento")
        expect(page.locator('#chat-details [data-field="agent_name"]')).to_have_text("Ana")
        expect(page.locator('#chat-details [data-field="first_response_at"] time')).to_be_visible()
    expect(bruno.locator(f'#worklist-queue a[data-chat="{session.pk}"]')).to_have_count(0)
    for page in (ana, bruno, gabi):
        expect(page).not_to_have_title(re.compile(r"^\("))

    # A canned response by its shortcut; Shift+Enter adds a line, Enter sends.
    reply = ana.locator("#reply-content")
    reply.type("/rast")
    expect(ana.locator("#canned-suggestions [role=option]")).to_have_count(1)
    reply.press("Tab")
    expect(reply).to_have_value(re.compile("^" + re.escape(STARTER_TRACKING)))
    reply.press("End")
    reply.press("Shift+Enter")
    reply.type("Abraço!")
    expect(reply).to_have_value(re.compile(r"\nAbraço!$"))
    reply.press("Enter")
    expect(customer.locator("#message-log .msg[data-author=agent]")).to_have_count(2)
    expect(reply).to_have_value("")

    # Another customer while Ana is in a conversation: her title, chime, notification, list.
    other_customer = new_page(viewport=PHONE)
    second = start_chat(other_customer, base, "Paulo")
    expect(ana).to_have_title(re.compile(r"^\(1\) "))
    expect(ana.locator("#desk-alerts")).to_have_attribute("data-notified", "1")  # a new page
    expect(ana.locator(f'#worklist-queue a[data-chat="{second.pk}"]')).to_be_visible()

    # The customer ends and rates: the panel says so and the reply box goes.
    customer.click("#end-button")
    customer.click("#end-confirm")
    customer.click("label[for=rating-4]")
    customer.fill("#rating-comment", "Rápido")
    customer.click("#rating-submit")
    expect(ana.locator('#chat-details [data-field="status"]')).to_have_text("Encerrada")
    expect(ana.locator('#chat-details [data-field="ended_by"]')).to_have_text("Cliente")
    expect(ana.locator('#chat-details [data-field="satisfaction_rating"]')).to_have_text("4 de 5")
    expect(ana.locator('#chat-details [data-field="satisfaction_comment"]')).to_have_text("Rápido")
    expect(ana.locator("#reply-form")).to_be_hidden()
    expect(ana.locator(f'#worklist-mine a[data-chat="{session.pk}"]')).to_have_count(0)

    session.refresh_from_db()
    assert session.assigned_agent == agent and session.satisfaction_rating == 4
    assert session.messages.filter(author="agent", is_internal=False).count() == 2
    assert new_page.problems == []

    # No serious or critical accessibility problem on the three screens.
    assert serious_violations(ana, new_page.problems) == []  # the conversation screen, rated
    assert serious_violations(gabi, new_page.problems) == []  # the metrics screen with its desk bar
    ana.go_back()
    expect(ana.locator(f'#result_list a[href$="/{second.pk}/change/"]')).to_be_visible()
    assert serious_violations(ana, new_page.problems) == []  # the inbox


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


def test_the_conversation_screen_lists_switches_and_answers_to_the_keyboard_in_the_agents_own_zone(
    live_asgi_server, new_page, agent, other_agent
):
    """Bruno, in Manaus with the dark theme: his two chats and the queue beside the
    transcript, times in his zone, chats switched by the list, the keyboard and the
    browser's history without a reload, a claim, a transfer with a handover note, an end."""
    base = live_asgi_server.url
    now = timezone.now()
    carla = services.session_open(customer_name="Carla")
    services.session_claim(session=carla, agent=other_agent)
    early = services.customer_message_post(session_key=carla.session_id, content="Bom dia").message
    ChatMessage.objects.filter(pk=early.pk).update(created_at=datetime(2026, 5, 31, 15, 7, tzinfo=UTC))
    diego = services.session_open(customer_name="Diego")
    services.session_claim(session=diego, agent=other_agent)
    services.customer_message_post(session_key=diego.session_id, content="Meu pacote chegou aberto")
    elisa = services.session_open(customer_name="Elisa")
    services.customer_message_post(session_key=elisa.session_id, content="Alguém aí?")
    ChatSession.objects.filter(pk=elisa.pk).update(waiting_since=now - timedelta(minutes=5))

    # Ana keeps her inbox open: she is online, so she can take a transfer.
    signed_in(new_page, base, "ana", "/admin/chat/chatsession/")
    bruno = signed_in(
        new_page,
        base,
        "bruno",
        f"/admin/chat/chatsession/{carla.pk}/change/",
        timezone_id="America/Manaus",
        color_scheme="dark",
    )

    # One clock: the agent's zone, named; server-drawn and live times alike.
    expect(bruno.locator("#desk-zone")).to_have_text("Horários no fuso de Manaus (GMT-4)")
    expect(bruno.locator(f'[data-message-id="{early.pk}"] time')).to_have_text("11:07")  # 15:07 UTC
    live = services.customer_message_post(session_key=carla.session_id, content="Ainda aí?").message
    manaus = live.created_at.astimezone(ZoneInfo("America/Manaus")).strftime("%H:%M")
    expect(bruno.locator(f'[data-message-id="{live.pk}"] time')).to_have_text(manaus)
    started = carla.started_at.astimezone(ZoneInfo("America/Manaus")).strftime("%d/%m/%Y, %H:%M")
    expect(bruno.locator('#chat-details [data-field="started_at"]')).to_have_text(started)

    # The list: his chats (with their unread messages) and the queue (late past the target).
    mine, queue = bruno.locator("#worklist-mine"), bruno.locator("#worklist-queue")
    expect(mine.locator("a[data-chat]")).to_have_count(2)
    expect(mine.locator(f'a[data-chat="{carla.pk}"]')).to_have_attribute("aria-current", "page")
    expect(mine.locator(f'a[data-chat="{diego.pk}"] .worklist-unread')).to_have_text("1")
    expect(queue.locator(f'a[data-chat="{elisa.pk}"] .worklist-late')).to_have_text("aguardando há 5 min")

    # R: the reply box (the focus is on the alerts switch Bruno clicked). Alt+↓: the next chat
    # of the list, in place; its unread count goes once it is read. What Bruno had typed for
    # Carla waits for him in her reply box.
    bruno.keyboard.press("r")
    expect(bruno.locator("#reply-content")).to_be_focused()
    bruno.keyboard.type("Rascunho para a Carla")
    order = [
        int(chat)
        for chat in bruno.locator("#worklist a[data-chat]").evaluate_all("l => l.map(a => a.dataset.chat)")
    ]
    following = order[order.index(carla.pk) + 1]
    bruno.keyboard.press("Alt+ArrowDown")
    expect(bruno).to_have_url(re.compile(rf"/{following}/change/$"))
    expect(bruno.locator("#chat-view")).to_have_attribute("data-session-id", str(following))
    expect(bruno.locator("#reply-content")).to_be_focused()
    bruno.click(f'#worklist a[data-chat="{diego.pk}"]')
    expect(bruno.locator("#chat-title")).to_have_text(f"#{diego.pk} Diego")
    expect(bruno).to_have_title(re.compile(rf"^\(1\) #{diego.pk} Diego \|"))  # one waiting
    expect(mine.locator(f'a[data-chat="{diego.pk}"] .worklist-unread')).to_have_count(0)

    # Esc leaves the reply box; K is the previous chat; back and forward follow the address.
    bruno.keyboard.press("Escape")
    bruno.keyboard.press("k")
    previous = order[order.index(diego.pk) - 1]
    expect(bruno).to_have_url(re.compile(rf"/{previous}/change/$"))
    assert previous == carla.pk  # Carla has waited longer than Diego
    expect(bruno.locator("#reply-content")).to_have_value("Rascunho para a Carla")
    bruno.go_back()
    expect(bruno.locator("#chat-view")).to_have_attribute("data-session-id", str(diego.pk))
    bruno.go_forward()
    expect(bruno.locator("#chat-view")).to_have_attribute("data-session-id", str(previous))

    # ? lists the shortcuts (checked by axe while open, in the dark theme).
    bruno.keyboard.press("Escape")
    bruno.keyboard.press("?")
    expect(bruno.locator("#shortcuts-help")).to_be_visible()
    expect(bruno.locator("#shortcuts-help")).to_contain_text("Próxima conversa da lista")
    assert serious_violations(bruno, new_page.problems) == []
    bruno.keyboard.press("Escape")
    expect(bruno.locator("#shortcuts-help")).to_be_hidden()

    # The queue's chat: C takes it, and it moves from the queue to his chats.
    bruno.click(f'#worklist a[data-chat="{elisa.pk}"]')
    expect(bruno.locator("#chat-view")).to_have_attribute("data-session-id", str(elisa.pk))
    bruno.keyboard.press("Escape")
    bruno.keyboard.press("c")
    expect(bruno.locator('#chat-details [data-field="agent_name"]')).to_have_text("Bruno")
    expect(mine.locator(f'a[data-chat="{elisa.pk}"]')).to_be_visible()
    expect(queue.locator(f'a[data-chat="{elisa.pk}"]')).to_have_count(0)

    # Transfer: only who can take it, with their load, and a note for them alone.
    expect(bruno.locator("#transfer-to option[value]:not([value='']):not([disabled])")).to_have_text(
        ["Ana (0 conversa ativa)"]
    )
    bruno.select_option("#transfer-to", str(agent.pk))
    bruno.fill("#transfer-note", "Cliente VIP, endereço já confirmado.")
    bruno.click("#transfer-form button[type=submit]")
    expect(bruno.locator('#chat-details [data-field="agent_name"]')).to_have_text("Ana")
    expect(bruno.locator("#transcript .msg-note")).to_contain_text("Cliente VIP, endereço já confirmado.")
    expect(bruno.locator("#transcript .msg-system").last).to_contain_text("transferida para Ana")
    expect(mine.locator(f'a[data-chat="{elisa.pk}"]')).to_have_count(0)

    # Back to Carla: a photo with its caption goes with Enter too, and shows as a thumbnail.
    bruno.click(f'#worklist a[data-chat="{carla.pk}"]')
    expect(bruno.locator("#chat-view")).to_have_attribute("data-session-id", str(carla.pk))
    bruno.set_input_files(
        "#reply-files", files=[{"name": "etiqueta.png", "mimeType": "image/png", "buffer": files.png_bytes()}]
    )
    bruno.fill("#reply-content", "Esta é a etiqueta do seu pedido.")
    bruno.press("#reply-content", "Enter")
    sent_photo = bruno.locator("#transcript .msg-agent").filter(has_text="Esta é a etiqueta do seu pedido.")
    expect(sent_photo.locator("img.msg-thumbnail")).to_be_visible()

    # E ends the chat on screen, after asking.
    bruno.once("dialog", lambda dialog: dialog.accept())
    bruno.keyboard.press("Escape")
    bruno.keyboard.press("e")
    expect(bruno.locator('#chat-details [data-field="status"]')).to_have_text("Encerrada")

    assert bruno.evaluate("window.__sameDocument") is True  # never reloaded
    elisa.refresh_from_db()
    assert elisa.assigned_agent == agent
    note = elisa.messages.get(is_internal=True)
    assert note.agent == other_agent and note.content == "Cliente VIP, endereço já confirmado."
    customer_sees = [message.content for message in elisa.messages.filter(is_internal=False)]
    assert note.content not in customer_sees
    assert ChatSession.objects.get(pk=carla.pk).status == ChatSession.Status.ENDED
    assert new_page.problems == []
