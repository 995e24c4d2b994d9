"""The metrics screen and the daily rows in the admin: managers only, figures, charts."""

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from chat.analytics.days import yesterday
from chat.models import ChatAnalytics, ChatSession
from conftest import bring_online, make_staff

from .factories import local, make_session

pytestmark = pytest.mark.django_db

METRICS_URL = "/admin/chat/chatanalytics/metrics/"
CHANGELIST_URL = "/admin/chat/chatanalytics/"


def add_day(day, **figures):
    values = {
        "total_sessions": 10,
        "total_messages": 80,
        "customer_messages": 45,
        "agent_messages": 35,
        "answered_sessions": 8,
        "abandoned_sessions": 2,
        "ended_sessions": 10,
        "frt_avg": 90.0,
        "frt_median": 60.0,
        "frt_p90": 200.0,
        "avg_response_time": 45.0,
        "timed_replies": 30,
        "avg_session_duration": 600.0,
        "satisfaction_avg": 4.5,
        "ratings_count": 4,
        "csat_share": 0.75,
        "sla_share": 0.875,
        "common_issues": [{"issue": "rastreamento", "count": 6}, {"issue": "endereco", "count": 2}],
        "per_agent": [],
    }
    values.update(figures)
    return ChatAnalytics.objects.create(date=day, **values)


class Cards(HTMLParser):
    """Reads the headline cards as {key: (value, change, trend)}."""

    def __init__(self):
        super().__init__()
        self.cards, self._key, self._part, self._trend = {}, None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-figure" in attrs:
            self._key = attrs["data-figure"]
            self.cards[self._key] = {"value": "", "change": "", "trend": ""}
        cls = attrs.get("class") or ""
        if self._key and cls in ("metrics-card__value", "metrics-card__change"):
            self._part = "value" if cls.endswith("value") else "change"
            if self._part == "change":
                self.cards[self._key]["trend"] = attrs.get("data-trend")
        if cls == "visually-hidden":
            self._part = None

    def handle_endtag(self, tag):
        if tag == "li":
            self._key = None
        if tag == "span" and self._part == "value":
            self._part = None

    def handle_data(self, data):
        if self._key and self._part:
            self.cards[self._key][self._part] += data.strip()


def cards(html: str) -> dict:
    parser = Cards()
    parser.feed(html)
    return parser.cards


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def test_a_plain_agent_is_refused(agent_client):
    assert agent_client.get(METRICS_URL).status_code == 403
    assert agent_client.get(CHANGELIST_URL).status_code == 403


def test_a_visitor_is_sent_to_the_login_page(client):
    response = client.get(METRICS_URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_the_screen_shows_headline_figures_against_the_previous_period(manager_client):
    last = yesterday()
    for offset in range(7):  # this week: 10 chats a day, FRT 90 s
        add_day(last - timedelta(days=offset))
    for offset in range(7, 14):  # the week before: 5 chats a day, FRT 180 s
        add_day(
            last - timedelta(days=offset),
            total_sessions=5,
            answered_sessions=4,
            frt_avg=180.0,
            csat_share=0.5,
        )

    response = manager_client.get(METRICS_URL, {"days": 7})

    assert response.status_code == 200
    html = response.content.decode()
    figures = cards(html)
    assert figures["total_sessions"]["value"] == "70"  # 7 × 10
    assert figures["total_sessions"]["change"] == "+100,0 %"  # 70 against 35
    # FRT 1:30 against 3:00: −50 %, lower is better
    assert figures["frt_avg"]["value"] == "1:30"
    assert figures["frt_avg"]["change"] == "−50,0 %" and figures["frt_avg"]["trend"] == "better"
    # CSAT 75 % against 50 %: +25 percentage points
    assert figures["csat_share"]["value"] == "75,0 %"
    assert figures["csat_share"]["change"] == "+25,0 p.p." and figures["csat_share"]["trend"] == "better"
    assert 'aria-current="page"' in html and 'data-period-link="7" aria-current="page"' in html


def test_charts_are_accessible_svg_with_units_and_pt_br_numbers(manager_client):
    last = yesterday()
    add_day(last, frt_avg=95.5, frt_median=80.0, frt_p90=110.0)  # all under 2 min: seconds
    add_day(last - timedelta(days=1), frt_avg=30.0, frt_median=20.0, frt_p90=60.0)

    html = manager_client.get(METRICS_URL, {"days": 7}).content.decode()

    svgs = re.findall(r'<svg class="chart"[^>]*>', html)
    assert len(svgs) == 6
    assert all('role="img"' in svg and "aria-labelledby" in svg for svg in svgs)
    frt = html[html.index('id="chart-frt"') : html.index("</svg>", html.index('id="chart-frt"'))]
    assert '<title id="chart-frt-title">' in frt
    assert "Primeira resposta (min:s)" in frt  # the y axis and its unit
    assert f"{last:%d/%m}: 1:36" in frt  # a point's tooltip: dd/mm and min:s
    assert "<script" not in html.split('<div id="content-main"')[1]  # no JavaScript needed


def test_agent_and_issue_names_are_escaped(manager_client, django_user_model):

    sneaky = make_staff(django_user_model, "sneaky", "Agentes", display_name="<script>alert(1)</script>")
    add_day(
        yesterday(),
        common_issues=[{"issue": "<img src=x onerror=alert(1)>", "count": 3}],
        per_agent=[
            {"agent_id": sneaky.pk, "agent_name": "x", "chats": 3, "answered": 3, "frt_avg": 50.0,
             "replies": 5, "timed_replies": 4, "avg_response_time": 20.0, "ratings": 1,
             "satisfaction_avg": 5.0}
        ],
    )  # fmt: skip

    html = manager_client.get(METRICS_URL).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_per_agent_table_combines_the_days(manager_client, agent, other_agent):
    def entry(user, chats, frt, replies, timed, response, ratings, satisfaction):
        return {"agent_id": user.pk, "agent_name": user.public_name, "chats": chats, "answered": chats,
                "frt_avg": frt, "replies": replies, "timed_replies": timed, "avg_response_time": response,
                "ratings": ratings, "satisfaction_avg": satisfaction}  # fmt: skip

    add_day(
        yesterday(),
        per_agent=[entry(agent, 3, 60.0, 9, 6, 30.0, 2, 5.0), entry(other_agent, 1, 10.0, 2, 1, 5.0, 1, 1.0)],
    )
    add_day(yesterday() - timedelta(days=1), per_agent=[entry(agent, 1, 20.0, 3, 2, 90.0, 1, 2.0)])

    html = manager_client.get(METRICS_URL, {"days": 7}).content.decode()

    row = re.search(rf'<tr data-agent="{agent.pk}">(.*?)</tr>', html, re.S).group(1)
    cells = [
        re.sub(r"\s+", " ", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
    ]
    # chats 3 + 1; FRT (60 × 3 + 20 × 1) / 4 = 50 s; replies 9 + 3;
    # response (30 × 6 + 90 × 2) / 8 = 45 s; ratings 2 + 1; satisfaction (5 × 2 + 2 × 1) / 3 = 4
    assert cells == ["Ana", "4", "0:50", "12", "0:45", "3", "4,00"]
    assert html.index(f'data-agent="{agent.pk}"') < html.index(f'data-agent="{other_agent.pk}"')


def test_live_figures(manager_client, manager, agent, other_agent, django_user_model):
    other_agent.accepting_chats = False
    other_agent.save()
    make_staff(django_user_model, "carla", "Agentes")  # never signed in: not online
    bring_online(manager, agent, other_agent)
    now = timezone.now()
    make_session(now - timedelta(minutes=7))  # waiting 7 min: the longest wait
    make_session(now - timedelta(minutes=2))
    make_session(now - timedelta(minutes=30), agent=agent, first_response_at=now - timedelta(minutes=29))
    make_session(now - timedelta(hours=3), ended_at=now - timedelta(hours=2))

    html = manager_client.get(METRICS_URL).content.decode()

    def live(key):
        block = re.search(rf'data-live="{key}"><dt>.*?</dt><dd>(.*?)</dd>', html, re.S)
        return block.group(1).strip()

    assert live("waiting") == "2"
    assert live("active") == "1"
    assert live("agents-online") == "3"  # Ana, Bruno and the manager have a chat page open
    assert live("agents") == "2"  # Ana and the manager; Bruno paused new chats
    assert re.fullmatch(r"7:0\d", live("oldest-wait"))  # min:s, as every duration (a slow run adds seconds)


def test_the_screen_costs_the_same_queries_for_7_or_90_days(manager_client, agent):
    for offset in range(90):
        add_day(yesterday() - timedelta(days=offset))
    manager_client.get(METRICS_URL, {"days": 7})
    manager_client.get(METRICS_URL, {"days": 90})  # fills the 90 days before (see the fill tests)
    with CaptureQueriesContext(connection) as short:
        manager_client.get(METRICS_URL, {"days": 7})
    with CaptureQueriesContext(connection) as long:
        manager_client.get(METRICS_URL, {"days": 90})
    assert len(long) == len(short)


def test_an_unknown_period_falls_back_to_30_days(manager_client):
    html = manager_client.get(METRICS_URL, {"days": "9999"}).content.decode()
    assert 'data-period="30"' in html


def test_the_daily_rows_are_read_only_and_link_to_the_screen(manager_client):
    row = add_day(yesterday())
    response = manager_client.get(CHANGELIST_URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="{METRICS_URL}"' in html
    assert "/admin/chat/chatanalytics/add/" not in html
    detail = manager_client.get(f"/admin/chat/chatanalytics/{row.pk}/change/")
    assert detail.status_code == 200
    assert b'name="total_sessions"' not in detail.content  # shown, not editable
    assert manager_client.post(f"/admin/chat/chatanalytics/{row.pk}/delete/").status_code == 403


def test_the_screen_works_with_the_real_pipeline(manager_client, agent):
    """Chats → compute_daily_metrics → the screen, without hand-made rows."""
    from chat.analytics.daily import compute_daily_metrics

    day = yesterday()
    make_session(
        local(day, 9), agent=agent, first_response_at=local(day, 9, 2), ended_at=local(day, 9, 30), rating=4
    )
    compute_daily_metrics(day)
    html = manager_client.get(METRICS_URL, {"days": 7}).content.decode()
    figures = cards(html)
    assert figures["total_sessions"]["value"] == "1"
    assert figures["frt_avg"]["value"] == "2:00"
    assert ChatSession.objects.count() == 1


def test_the_screen_works_before_any_day_was_computed(manager_client):
    html = manager_client.get(METRICS_URL).content.decode()
    figures = cards(html)
    assert figures["total_sessions"]["value"] == "0"
    assert figures["frt_avg"]["value"] == "—" and figures["frt_avg"]["trend"] == "none"
    content = html.split('<div id="content-main"')[1]
    assert " style=" not in content  # nothing a strict Content-Security-Policy would block


def table_row(html: str, table: str, header: str) -> dict:
    """A row of one of the screen's tables as {column heading: cell text}."""
    block = re.search(rf'<table class="metrics-table" data-table="{table}">(.*?)</table>', html, re.S).group(
        1
    )
    headings = [
        re.sub(r"\s+", " ", cell).strip() for cell in re.findall(r'<th scope="col">(.*?)</th>', block)
    ]
    row = re.search(rf'<tr[^>]*>\s*<th scope="row">{re.escape(header)}</th>(.*?)</tr>', block, re.S).group(1)
    cells = [re.sub(r"\s+", " ", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
    return dict(zip(headings[1:], cells, strict=True))


def test_each_figure_reads_the_same_on_cards_charts_tables_and_the_admin_list(manager_client):
    last = yesterday()
    for offset in range(7):
        add_day(last - timedelta(days=offset), satisfaction_avg=4.0)
    for offset in range(7, 14):
        add_day(last - timedelta(days=offset), satisfaction_avg=3.5)

    html = manager_client.get(METRICS_URL, {"days": 7}).content.decode()

    figures = cards(html)
    assert figures["frt_avg"]["value"] == "1:30"  # 90 s: min:s, as on the chart and in the CSV
    assert figures["avg_response_time"]["value"] == "0:45"
    assert figures["avg_session_duration"]["value"] == "10:00"
    assert figures["satisfaction_avg"]["value"] == "4,00"  # a rating always has two decimals
    assert figures["satisfaction_avg"]["change"] == "+0,50"
    assert figures["csat_share"]["value"] == "75,0 %"  # a share always has one
    assert figures["sla_share"]["value"] == "87,5 %"
    assert figures["answered_share"]["value"] == "80,0 %"
    assert figures["total_sessions"]["change"] == "0,0 %"
    assert "Tempo da primeira resposta (TPR), média (min:s)" in html  # the unit where the value has none
    frt_chart = html[html.index('id="chart-frt"') : html.index("</svg>", html.index('id="chart-frt"'))]
    assert f"Média, {last:%d/%m}: 1:30" in frt_chart and f"Percentil 90, {last:%d/%m}: 3:20" in frt_chart
    day = table_row(html, "daily", f"{last:%d/%m/%Y}")
    assert day["Conversas"] == "10"
    assert day["Tempo da primeira resposta (TPR), média (min:s)"] == "1:30"
    assert day["TPR, p90 (min:s)"] == "3:20"
    assert day["Satisfação (CSAT, notas 4–5)"] == "75,0 %"
    assert day["Dentro do SLA"] == "87,5 %"
    assert " s<" not in html and " s:" not in html  # no figure left in plain seconds

    listing = manager_client.get(CHANGELIST_URL).content.decode()
    assert '<td class="field-frt_avg_shown">1:30</td>' in listing
    assert '<td class="field-satisfaction_avg_shown">4,00</td>' in listing
    assert '<td class="field-csat_share_shown">75,0 %</td>' in listing
    assert "TPR, p90 (min:s)" in listing
