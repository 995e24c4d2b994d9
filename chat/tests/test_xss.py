"""XSS sweep: hostile text in every field people type shows as text, on every screen.

Customers type their name, e-mail, tracking code, messages and rating comment (and their
browser sends its user agent); agents have a display name and write replies, notes and
canned responses. Each field here holds a payload: ``<script>``, ``<img onerror>``,
a ``javascript:`` link or an attribute break-out into ``<svg onload>``. The server-rendered
screens (inbox, conversation, metrics, the admin lists) must carry them escaped, with no
element, event handler or ``javascript:`` URL made from them; the CSV export carries them
as plain text; and in the browser (customer page and conversation page, where scripts
render text) the literal characters show and no dialog ever opens.
"""

import csv
import html
import io
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
from django.db import connections
from django.test import Client
from playwright.sync_api import expect

from chat import services
from chat.analytics.daily import compute_daily_metrics
from chat.analytics.days import yesterday
from chat.models import CannedResponse, ChatAnalytics, ChatSession
from chat.tests.analytics.factories import agent_says, customer_says, local, make_session
from chat.tests.test_csp import inline_code
from conftest import make_staff

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
LINK = '<a href="javascript:alert(1)">rastreio</a>'
BARE_LINK = "javascript:alert(1)"
BREAKOUT = '"><svg onload=alert(1)>'

CUSTOMER_NAME = f"Maria {IMG} {BREAKOUT}"
CUSTOMER_EMAIL = f'"{SCRIPT}"@example.com'
TRACKING_CODE = IMG  # stored in capitals: <IMG SRC=X ONERROR=ALERT(1)>
USER_AGENT = f"Mozilla/5.0 {SCRIPT}"
CUSTOMER_MESSAGES = [SCRIPT, IMG, LINK, f"veja {BARE_LINK}", BREAKOUT]
AGENT_NAME = f"Ana {BREAKOUT}"
COLLEAGUE_NAME = SCRIPT
AGENT_REPLY = f"Olá! {IMG}"
INTERNAL_NOTE = f"nota {SCRIPT}"
RATING_COMMENT = f"{BREAKOUT} {SCRIPT}"
CANNED_TITLE = f"Rastreio {IMG}"
CANNED_TEXT = f"Seu pedido {SCRIPT} {BREAKOUT}"

# What must never appear raw in a page (compared in lower case).
RAW_MARKUP = ["<script>alert", "<img src=x", "<svg onload", 'javascript:alert(1)"', '"><svg']


class Elements(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def assert_shown_as_text(page: str, *texts: str) -> None:
    """Each text is in the page escaped; no markup, handler or URL was made from any payload."""
    lowered = page.lower()
    for raw in RAW_MARKUP:
        assert raw not in lowered, raw
    assert inline_code(page) == []  # no inline script, on* attribute or javascript: URL
    parser = Elements()
    parser.feed(page)
    for tag, attrs in parser.tags:  # an attribute value may hold the text, escaped and quoted
        assert not (tag == "img" and attrs.get("src") == "x"), attrs
    for text in texts:
        assert html.escape(text) in page, text


@dataclass
class Hostile:
    agent: object
    manager: object
    open_chat: ChatSession
    rated_chat: ChatSession
    canned: CannedResponse


@pytest.fixture
def hostile(django_user_model):
    agent = make_staff(django_user_model, "ana", "Agentes", display_name=AGENT_NAME)
    make_staff(django_user_model, "bia", "Agentes", display_name=COLLEAGUE_NAME)
    manager = make_staff(django_user_model, "gabi", "Gestores", display_name="Gabi")
    canned, _ = CannedResponse.objects.update_or_create(
        shortcut="rastreio", defaults={"title": CANNED_TITLE, "text": CANNED_TEXT}
    )

    chat = services.session_open(
        customer_name=CUSTOMER_NAME,
        customer_email=CUSTOMER_EMAIL,
        tracking_code=TRACKING_CODE,
        topic="rastreamento",
        user_agent=USER_AGENT,
    )
    for text in CUSTOMER_MESSAGES:
        services.customer_message_post(session_key=chat.session_id, content=text)
    services.agent_message_post(session_pk=chat.pk, agent=agent, content=AGENT_REPLY)
    services.agent_message_post(session_pk=chat.pk, agent=agent, content=INTERNAL_NOTE, is_internal=True)
    services.customer_message_post(session_key=chat.session_id, content=BREAKOUT)  # the inbox's last message

    # Yesterday's rated chat: the metrics screen and the exports show yesterday and before.
    day = yesterday()
    rated = make_session(
        local(day, 9, 0),
        agent=agent,
        first_response_at=local(day, 9, 1),
        ended_at=local(day, 9, 10),
        rating=2,
        comment=RATING_COMMENT,
        issue="rastreamento",
        customer_name=CUSTOMER_NAME,
        topic="rastreamento",
    )
    customer_says(rated, local(day, 9, 0, 30), content=SCRIPT)
    agent_says(rated, agent, local(day, 9, 1), response_seconds=30, content=AGENT_REPLY)
    compute_daily_metrics(day)
    return Hostile(agent, manager, ChatSession.objects.get(pk=chat.pk), rated, canned)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
class TestServerRenderedScreens:
    def test_inbox(self, hostile):
        client = signed_in(hostile.agent)
        for tab in ("", "mine", "ended"):
            page = client.get("/admin/chat/chatsession/", {"tab": tab} if tab else {}).content.decode()
            assert_shown_as_text(page, AGENT_NAME)
            assert_shown_as_text(page, CUSTOMER_NAME)
        page = client.get("/admin/chat/chatsession/", {"tab": "mine"}).content.decode()
        assert_shown_as_text(page, CUSTOMER_EMAIL, TRACKING_CODE.upper(), BREAKOUT)
        searched = client.get("/admin/chat/chatsession/", {"q": SCRIPT}).content.decode()
        assert_shown_as_text(searched, SCRIPT)  # the search box echoes the query

    def test_conversation_page(self, hostile):
        page = signed_in(hostile.agent).get(f"/admin/chat/chatsession/{hostile.open_chat.pk}/change/")
        assert page.status_code == 200
        text = page.content.decode()
        assert_shown_as_text(
            text,
            CUSTOMER_NAME,
            CUSTOMER_EMAIL,
            TRACKING_CODE.upper(),
            USER_AGENT,
            *CUSTOMER_MESSAGES,
            AGENT_REPLY,
            INTERNAL_NOTE,
            AGENT_NAME,
            COLLEAGUE_NAME,  # in the transfer list
            CANNED_TITLE,  # in the canned response list
        )

    def test_a_rated_chat_shows_its_comment_as_text(self, hostile):
        page = signed_in(hostile.agent).get(f"/admin/chat/chatsession/{hostile.rated_chat.pk}/change/")
        assert_shown_as_text(page.content.decode(), RATING_COMMENT, SCRIPT, AGENT_REPLY)

    def test_metrics_screen_and_daily_rows(self, hostile):
        client = signed_in(hostile.manager)
        page = client.get("/admin/chat/chatanalytics/metrics/", {"days": 7}).content.decode()
        assert 'data-table="agents"' in page
        assert_shown_as_text(page, AGENT_NAME)
        listing = client.get("/admin/chat/chatanalytics/").content.decode()
        assert_shown_as_text(listing)
        row = ChatAnalytics.objects.get(date=yesterday())
        assert any(entry["agent_name"] == AGENT_NAME for entry in row.per_agent)
        detail = client.get(f"/admin/chat/chatanalytics/{row.pk}/change/")
        assert detail.status_code == 200
        assert_shown_as_text(detail.content.decode())

    def test_canned_responses_and_users_in_the_admin(self, hostile, admin_client):
        listing = admin_client.get("/admin/chat/cannedresponse/").content.decode()
        assert_shown_as_text(listing, CANNED_TITLE, CANNED_TEXT)
        form = admin_client.get(f"/admin/chat/cannedresponse/{hostile.canned.pk}/change/").content.decode()
        assert_shown_as_text(form, CANNED_TITLE, CANNED_TEXT)
        users = admin_client.get("/admin/accounts/user/").content.decode()
        assert_shown_as_text(users)
        agent_form = admin_client.get(f"/admin/accounts/user/{hostile.agent.pk}/change/").content.decode()
        assert_shown_as_text(agent_form, AGENT_NAME)

    def test_conversations_export_carries_the_text_as_it_was_typed(self, hostile):
        day = yesterday()
        response = signed_in(hostile.manager).get(
            "/admin/chat/chatanalytics/export/conversations.csv", {"from": day, "to": day}
        )
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        raw = b"".join(response.streaming_content).decode("utf-8-sig")
        header, *rows = list(csv.reader(io.StringIO(raw), delimiter=";"))
        row = dict(zip(header, rows[0], strict=True))
        assert row["Nome do cliente"] == CUSTOMER_NAME
        assert row["Atendente"] == AGENT_NAME
        assert row["Comentário"] == RATING_COMMENT
        assert "&lt;" not in raw  # plain text, not HTML


# --- in the browser ---------------------------------------------------------------------------

WAIT_MS = 10000
HOSTILE_ELEMENTS = (
    "script:not([src]):not([type='application/json']), img[src='x'], svg[onload], a[href^='javascript']"
)


@pytest.fixture
def watched_page(browser):
    """Pages whose dialogs, script errors and CSP refusals are all recorded."""
    contexts = []
    events: list[str] = []

    def opener(**options):
        context = browser.new_context(locale="pt-BR", **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)

        def on_dialog(dialog):
            events.append(f"dialog: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda error: events.append(f"page error: {error}"))
        page.on(
            "console",
            lambda message: (
                events.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        return page

    opener.events = events
    yield opener
    for context in contexts:
        context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_customer_page_and_conversation_page_render_payloads_as_text(
    live_asgi_server, watched_page, django_user_model, monkeypatch
):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # ORM calls beside Playwright's loop
    try:
        _customer_and_agent_exchange_payloads(live_asgi_server.url, watched_page, django_user_model)
    finally:
        connections.close_all()


def _customer_and_agent_exchange_payloads(base, watched_page, django_user_model):
    agent = make_staff(django_user_model, "ana", "Agentes", display_name=AGENT_NAME)
    CannedResponse.objects.update_or_create(
        shortcut="rastreio", defaults={"title": CANNED_TITLE, "text": CANNED_TEXT}
    )

    customer = watched_page(viewport={"width": 375, "height": 800})
    customer.goto(base + "/")
    customer.fill("#customer-name", CUSTOMER_NAME)
    customer.fill("#customer-email", CUSTOMER_EMAIL)
    customer.fill("#tracking-code", TRACKING_CODE)
    customer.select_option("#topic", "rastreamento")
    customer.click("#start-form button[type=submit]")
    expect(customer.locator("#chat-view")).to_be_visible()
    expect(customer.locator("#greeting-text")).to_contain_text(CUSTOMER_NAME)
    log = customer.locator("#message-log")
    for text in CUSTOMER_MESSAGES:
        customer.fill("#message-input", text)
        customer.press("#message-input", "Enter")
        expect(
            log.locator(".msg[data-author=customer][data-message-id]").filter(has_text=text)
        ).to_be_visible()
    chat = ChatSession.objects.get(session_id=customer.evaluate("localStorage.getItem('jtchat.session')"))
    assert chat.customer_name == CUSTOMER_NAME and chat.tracking_code == TRACKING_CODE.upper()
    assert chat.messages.count() == len(CUSTOMER_MESSAGES)

    client = Client()
    client.force_login(agent)
    staff = watched_page(viewport={"width": 1400, "height": 900})
    staff.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
    )
    staff.goto(f"{base}/admin/chat/chatsession/{chat.pk}/change/")
    transcript = staff.locator("#transcript")
    expect(staff.locator("#live-state")).to_have_attribute("data-state", "live")
    for text in CUSTOMER_MESSAGES:
        expect(transcript.locator(".msg-customer .msg-body").filter(has_text=text)).to_have_count(1)

    # Scripts render what arrives live: the customer's message, the customer's typing, the
    # canned suggestions, the agent's own reply; on the customer's side the agent's name.
    customer.type("#message-input", "digitando")
    expect(staff.locator("#typing-indicator")).to_contain_text(CUSTOMER_NAME)
    customer.fill("#message-input", IMG + " chegou?")
    customer.press("#message-input", "Enter")
    expect(transcript.locator(".msg-customer .msg-body").filter(has_text=IMG + " chegou?")).to_be_visible()

    reply = staff.locator("#reply-content")
    reply.type("um momento")
    expect(customer.locator("#typing-indicator")).to_contain_text(AGENT_NAME)
    reply.fill("")
    reply.type("/rast")
    expect(staff.locator("#canned-suggestions [role=option]")).to_contain_text(CANNED_TITLE)
    reply.press("Tab")
    expect(reply).to_have_value(CANNED_TEXT)
    staff.click("#reply-send")
    expect(transcript.locator(".msg-agent .msg-body").filter(has_text=CANNED_TEXT)).to_be_visible()
    expect(transcript.locator(".msg-agent .msg-author").filter(has_text=AGENT_NAME)).to_be_visible()

    agent_line = log.locator(".msg[data-author=agent]").filter(has_text=CANNED_TEXT)
    expect(agent_line).to_be_visible()
    expect(agent_line).to_contain_text(AGENT_NAME)
    expect(customer.locator("#chat-status")).to_contain_text(AGENT_NAME)

    for page in (customer, staff):
        assert page.locator(HOSTILE_ELEMENTS).count() == 0
    assert watched_page.events == []  # no dialog, no script error, nothing the CSP had to refuse
    assert chat.messages.filter(content=CANNED_TEXT, author="agent").count() == 1
