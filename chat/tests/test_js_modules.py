"""Units of the shared page modules (static/chat/lib/), run in Chromium as the pages run them.

No Node tooling: a blank page imports each module from static/ (served to Chromium straight
from the source folder) and what comes back is compared here.
"""

import os

import pytest
from django.conf import settings

from jtchat.testing import CHROMIUM, skip_or_fail

pytestmark = pytest.mark.browser

ORIGIN = "http://modules.test"
BLANK = '<!doctype html><html lang="pt-BR"><title>modules</title></html>'


@pytest.fixture(scope="module")
def page():
    """One blank page for the module's tests, importing from static/ (nothing else is served)."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        skip_or_fail(f"{CHROMIUM} not installed")
    static = settings.BASE_DIR / "static"

    def serve(route):
        path = route.request.url.removeprefix(ORIGIN)
        source = static / path.removeprefix("/static/")
        if path == "/":
            route.fulfill(body=BLANK, content_type="text/html")
        elif path.startswith("/static/") and source.is_file():
            route.fulfill(body=source.read_bytes(), content_type="text/javascript")
        else:
            route.fulfill(status=404, body="missing")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        page = browser.new_page(locale="pt-BR")
        page.route(ORIGIN + "/**", serve)
        page.goto(ORIGIN + "/")
        yield page
        browser.close()


def run(page, module: str, body: str, arg=None):
    """Evaluate ``body`` (an async function body) with ``m`` bound to the imported module."""
    script = f"async (arg) => {{ const m = await import('/static/chat/lib/{module}'); {body} }}"
    return page.evaluate(script, arg)


LINK_CASES = [
    ("veja https://www.jtexpress.com.br/rastreio?c=JT1.", ["https://www.jtexpress.com.br/rastreio?c=JT1"]),
    ("(http://exemplo.com/a), e depois", ["http://exemplo.com/a"]),
    ("https://pt.wikipedia.org/wiki/J&T_(empresa)!", ["https://pt.wikipedia.org/wiki/J&T_(empresa)"]),
    ("dois: http://a.com.br, https://b.com.br;", ["http://a.com.br", "https://b.com.br"]),
    ("<https://exemplo.com/x>", ["https://exemplo.com/x"]),
    ("HTTPS://EXEMPLO.COM/Maiusculas", ["HTTPS://EXEMPLO.COM/Maiusculas"]),
    ("javascript:alert(1)", []),
    ('<a href="javascript:alert(1)">x</a> <script>alert(2)</script>', []),
    ("data:text/html,<script>alert(1)</script>", []),
    ("xhttp://colado.com ftp://arquivo.com http:// nada", []),
    ("sem link nenhum", []),
]


@pytest.mark.parametrize("text, expected", LINK_CASES)
def test_linkify_makes_links_of_web_addresses_only(page, text, expected):
    result = run(
        page,
        "linkify.js",
        """
        const fragment = m.linkify(arg);
        const holder = document.createElement('p');
        holder.append(fragment);
        return {
          text: holder.textContent,
          links: Array.from(holder.querySelectorAll('a'), (a) => ({
            text: a.textContent, href: a.getAttribute('href'), rel: a.rel, target: a.target })),
          elements: holder.querySelectorAll('*').length,
        };
        """,
        text,
    )
    assert result["text"] == text  # every character still there, as text
    assert [link["text"] for link in result["links"]] == expected
    assert result["elements"] == len(expected)  # nothing but the links became an element
    for link in result["links"]:
        assert link["href"].lower().startswith(("http://", "https://"))
        assert link["rel"] == "noopener noreferrer" and link["target"] == "_blank"


def test_retry_after_in_seconds_or_as_a_date(page):
    result = run(
        page,
        "http.js",
        """
        const now = Date.parse('2026-05-31T12:00:00Z');
        return [
          m.parseRetryAfter('5', now), m.parseRetryAfter(' 60 ', now), m.parseRetryAfter('0', now),
          m.parseRetryAfter('Sun, 31 May 2026 12:00:30 GMT', now),
          m.parseRetryAfter('Sun, 31 May 2026 11:00:00 GMT', now),
          m.parseRetryAfter('', now), m.parseRetryAfter(null, now), m.parseRetryAfter('logo', now),
          m.parseRetryAfter('-3', now),
        ];
        """,
    )
    assert result == [5000, 60000, 0, 30000, 0, 0, 0, 0, 0]


def test_retries_wait_for_retry_after_and_stop_on_a_refusal(page):
    result = run(
        page,
        "http.js",
        """
        const waits = [];
        const wait = (ms) => { waits.push(ms); return Promise.resolve(); };
        const answers = [{ status: 429, retryAfter: 7000 }, { status: 503, retryAfter: 0 }, { status: 201 }];
        let calls = 0;
        const done = await m.withRetries(async () => answers[calls++], { wait, base: 1000, max: 30000 });

        let refusedCalls = 0;
        const refused = await m.withRetries(
          async () => { refusedCalls += 1; return { status: 400 }; }, { wait });

        let offlineCalls = 0;
        const offline = await m.withRetries(
          async () => { offlineCalls += 1; return { status: 0, retryAfter: 0 }; }, { wait, attempts: 3 });

        let stop = false;
        const cancelled = await m.withRetries(
          async () => { stop = true; return { status: 0, retryAfter: 0 }; }, { wait, cancelled: () => stop });
        return { done: done.status, calls, waits, refused: refused.status, refusedCalls,
                 offline: offline.status, offlineCalls, cancelled };
        """,
    )
    assert result["done"] == 201 and result["calls"] == 3
    assert result["waits"][0] == 7000  # Retry-After, longer than the first back-off
    assert 1000 <= result["waits"][1] <= 2000  # back-off: attempt 1 of base 1 s, with jitter
    assert result["refused"] == 400 and result["refusedCalls"] == 1
    assert result["offline"] == 0 and result["offlineCalls"] == 3
    assert result["cancelled"] is None


def test_a_firm_wait_is_not_cut_short_by_a_wake(page):
    result = run(
        page,
        "backoff.js",
        """
        const alarm = new m.Alarm();
        const started = performance.now();
        const soft = alarm.wait(5000);
        alarm.wake();
        await soft;
        const softMs = performance.now() - started;

        const firmStart = performance.now();
        const firm = alarm.wait(300, { firm: true });
        alarm.wake();
        await firm;
        const firmMs = performance.now() - firmStart;

        const forcedStart = performance.now();
        const forced = alarm.wait(5000, { firm: true });
        alarm.wake({ force: true });
        await forced;
        return { softMs, firmMs, forcedMs: performance.now() - forcedStart };
        """,
    )
    assert result["softMs"] < 1000
    assert result["firmMs"] >= 290
    assert result["forcedMs"] < 1000


def test_format_fills_django_placeholders(page):
    result = run(
        page,
        "format.js",
        """
        return [
          m.format('Olá, %(name)s!', { name: '<b>Ana</b>' }),
          m.format('%(hours)d h %(minutes)02d min', { hours: 2, minutes: 5 }),
          m.format('Aguarde %(seconds)s s.', {}),
          m.format('%(count)s de %(count)s', { count: 3 }),
        ];
        """,
    )
    assert result == ["Olá, <b>Ana</b>!", "2 h 05 min", "Aguarde %(seconds)s s.", "3 de 3"]


def test_times_read_in_brazilian_portuguese(page):
    result = run(
        page,
        "time.js",
        """
        const strings = { underOneMinute: 'menos de 1 min', minutes: '%(minutes)d min',
          hours: '%(hours)d h %(minutes)02d min', day: '%(days)d dia', days: '%(days)d dias' };
        return {
          durations: [30, 90, 3900, 90000, 200000].map((s) => m.shortDuration(s, strings)),
          left: [m.secondsUntil(10500, 0), m.secondsUntil(0, 500)],
          bad: m.clockTime('not a date'),
          clock: m.clockTime(new Date(2026, 4, 31, 9, 5)),
        };
        """,
    )
    assert result["durations"] == ["menos de 1 min", "1 min", "1 h 05 min", "1 dia", "2 dias"]
    assert result["left"] == [11, 0]
    assert result["bad"] == "" and result["clock"] == "09:05"


def run_admin(page, module: str, body: str, arg=None):
    """As ``run``, for a module of the agents' pages (static/chat/admin/)."""
    script = f"async (arg) => {{ const m = await import('/static/chat/admin/{module}'); {body} }}"
    return page.evaluate(script, arg)


def test_a_live_list_applies_events_and_fetches_only_what_they_lack(page):
    """static/chat/admin/chats.js: what the inbox and the conversation screen's list do with
    each event (agent 7 is looking; agent 8 is a colleague)."""
    result = run_admin(
        page,
        "chats.js",
        """
        const chat = { id: 1, status: 'waiting', assigned_agent: null, agent_name: null,
          started_at: '2026-05-31T12:00:00-03:00', waiting_since: null, last_message_at: null };
        const opened = m.applyEvent(null, { type: 'session', new: true, session: chat }, 7);
        const asked = m.applyEvent(opened.row, { type: 'message', session_id: 1, message:
          { id: 5, author: 'customer', content: 'Onde   está\\nmeu pedido?', is_internal: false,
            created_at: '2026-05-31T12:01:00-03:00' } }, 7);
        const noted = m.applyEvent(asked.row, { type: 'message', session_id: 1, message:
          { id: 6, author: 'agent', content: 'nota', is_internal: true, created_at: 'x' } }, 7);
        const theirs = m.applyEvent(asked.row, { type: 'session', session:
          { ...chat, status: 'active', assigned_agent: 8, agent_name: 'Bruno' } }, 7);
        const handed = m.applyEvent(theirs.row, { type: 'session', session:
          { ...chat, status: 'active', assigned_agent: 7, agent_name: 'Ana' } }, 7);
        const read = m.applyEvent(
          { ...handed.row, unread: 3 }, { type: 'read', session_id: 1, unread: 0 }, 7);
        const unknown = m.applyEvent(null, { type: 'session', session:
          { ...chat, id: 2, status: 'active', assigned_agent: 7 } }, 7);
        return {
          opened, asked: asked.row, noted: noted.row, theirs: theirs.row.unread,
          handedFetch: handed.fetch, read: read.row.unread, unknownFetch: unknown.fetch,
          preview: m.preview('a'.repeat(100), 90).length,
        };
        """,
    )
    assert result["opened"]["fetch"] is False  # a new chat's row needs nothing but its event
    assert result["opened"]["row"]["unread"] == 0
    assert result["opened"]["row"]["waiting_for_since"] == "2026-05-31T12:00:00-03:00"
    assert result["asked"]["unread"] == 1
    assert result["asked"]["last_message"] == {"author": "customer", "preview": "Onde   está\nmeu pedido?"}
    assert result["noted"] is None  # an internal note is never a list's last message
    assert result["theirs"] is None  # a colleague's chat: not this agent's to read
    assert result["handedFetch"] is True  # handed over: its read mark went back to 0
    assert result["read"] == 0
    assert result["unknownFetch"] is True  # a chat the list lacks: its last message is fetched
    assert result["preview"] == 90


def test_a_live_list_keeps_the_inbox_order(page):
    result = run_admin(
        page,
        "chats.js",
        """
        const at = (minute) => `2026-05-31T12:${String(minute).padStart(2, '0')}:00-03:00`;
        const rows = [
          { id: 1, status: 'ended', started_at: at(0), last_message_at: at(50) },
          { id: 2, status: 'active', started_at: at(1), last_message_at: at(40), waiting_for_since: null },
          { id: 3, status: 'active', started_at: at(2), last_message_at: at(45), waiting_for_since: null },
          { id: 4, status: 'active', started_at: at(3), last_message_at: at(30), waiting_for_since: at(20) },
          { id: 5, status: 'waiting', started_at: at(4), waiting_for_since: at(10) },
          { id: 6, status: 'waiting', started_at: at(5), waiting_for_since: at(5) },
        ];
        return rows.sort(m.compareRows).map((row) => row.id);
        """,
    )
    # waiting (the longest wait first), active (waiting ones first, then the latest
    # activity), ended
    assert result == [6, 5, 4, 3, 2, 1]
