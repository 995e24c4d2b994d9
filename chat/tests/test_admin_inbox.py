"""The inbox: the chat changelist in the admin, its tabs, columns, search, actions (one
module of over 400 lines: one page, whose tests share its fixtures)."""

import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chat import selectors, services
from chat.live import announce
from chat.models import ChatMessage, ChatSession
from conftest import bring_online, make_staff

pytestmark = pytest.mark.django_db

INBOX = reverse("admin:chat_chatsession_changelist")
Author = ChatMessage.Author
Status = ChatSession.Status


def open_chat(name="Maria", content="Olá, cadê meu pedido?", **fields):
    session = services.session_open(customer_name=name, **fields)
    if content:
        services.customer_message_post(session_key=session.session_id, content=content)
    return session


def row_ids(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'name="_selected_action" value="(\d+)"', response.content.decode())]


def row_of(html: str, session) -> str:
    return re.search(rf'value="{session.pk}".*?</tr>', html, re.S).group(0)


def set_times(session, **fields):
    ChatSession.objects.filter(pk=session.pk).update(**fields)


def flash(response) -> list[tuple[str, str]]:
    return [(message.level_tag, str(message)) for message in get_messages(response.wsgi_request)]


class TestOrderAndTabs:
    def test_waiting_first_then_active_then_ended_oldest_wait_first(self, agent_client, agent, other_agent):
        now = timezone.now()
        ended = open_chat("Ended")
        services.session_end(session=ended, ended_by=ChatSession.EndedBy.CUSTOMER)
        active_calm = open_chat("Calm")
        services.agent_message_post(session_pk=active_calm.pk, agent=other_agent, content="Oi!")
        active_waiting = open_chat("Needs answer")
        services.session_claim(session=active_waiting, agent=agent)
        newer = open_chat("Newer")
        older = open_chat("Older")
        silent = open_chat("Silent", content="")
        set_times(older, waiting_since=now - timedelta(minutes=9))
        set_times(newer, waiting_since=now - timedelta(minutes=2))
        set_times(silent, started_at=now - timedelta(minutes=5))
        set_times(active_waiting, waiting_since=now - timedelta(minutes=30))

        response = agent_client.get(INBOX)

        assert response.status_code == 200
        expected = [older, silent, newer, active_waiting, active_calm]
        assert row_ids(response) == [session.pk for session in expected]
        # Ended chats are only in their own tab, never below the open ones.
        assert row_ids(agent_client.get(INBOX, {"tab": "ended"})) == [ended.pk]

    def test_tabs_show_their_chats_and_counts(self, agent_client, agent, other_agent):
        waiting = open_chat("W")
        mine = open_chat("M")
        services.session_claim(session=mine, agent=agent)
        theirs = open_chat("T")
        services.session_claim(session=theirs, agent=other_agent)
        ended = open_chat("E")
        services.session_end(session=ended, ended_by=ChatSession.EndedBy.CUSTOMER)

        expected = {
            "waiting": [waiting.pk],
            "mine": [mine.pk],
            "active": sorted([mine.pk, theirs.pk]),
            "ended": [ended.pk],
        }
        for tab, ids in expected.items():
            response = agent_client.get(INBOX, {"tab": tab})
            assert sorted(row_ids(response)) == ids, tab
        default = agent_client.get(INBOX)
        assert sorted(row_ids(default)) == sorted([waiting.pk, mine.pk, theirs.pk])  # open chats

        html = default.content.decode()
        assert re.search(r'data-tab="open"[^>]*>Abertas <span', html)
        for tab, count in (("open", 3), ("waiting", 1), ("mine", 1), ("active", 2)):
            badge = rf'data-tab="{tab}"[^>]*>[^<]*<span class="inbox-tab-count[^"]*" data-count="{tab}">'
            badge += rf"{count}</span>"
            assert re.search(badge, html), tab

    def test_date_filter_on_started_at(self, agent_client):
        today = open_chat("Today")
        old = open_chat("Old")
        set_times(old, started_at=timezone.now() - timedelta(days=20))
        week_ago = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=7)
        since = week_ago.isoformat()

        response = agent_client.get(INBOX, {"started_at__gte": since})

        assert row_ids(response) == [today.pk]


class TestColumns:
    def test_customer_topic_code_last_message_agent(self, agent_client, agent):
        session = open_chat(
            "Maria Souza",
            customer_email="maria@example.com",
            tracking_code="jt1234567890br",
            topic="rastreamento",
        )
        services.agent_message_post(
            session_pk=session.pk, agent=agent, content="Um momento, por favor " + "x" * 200
        )

        html = agent_client.get(INBOX).content.decode()
        row = row_of(html, session)

        assert "Maria Souza" in row and "maria@example.com" in row
        assert "JT1234567890BR" in row
        assert "Um momento, por favor" in row and "x" * 120 not in row  # trimmed
        assert "…" in row
        assert "Ana" in row  # the agent's public name
        assert 'data-status="active"' in row

    def test_internal_notes_and_system_lines_are_not_the_last_message(self, agent_client, agent):
        session = open_chat(content="Preciso de ajuda com a entrega")
        services.session_claim(session=session, agent=agent)  # adds a system line
        services.agent_message_post(
            session_pk=session.pk, agent=agent, content="nota secreta", is_internal=True
        )

        html = agent_client.get(INBOX).content.decode()

        assert "Preciso de ajuda com a entrega" in html
        assert "nota secreta" not in html

    def test_waiting_time_is_highlighted_past_the_sla(self, agent_client, settings):
        settings.CHAT_SLA_FIRST_RESPONSE_SECONDS = 120
        late = open_chat("Late")
        fresh = open_chat("Fresh")
        set_times(late, waiting_since=timezone.now() - timedelta(minutes=7))
        set_times(fresh, waiting_since=timezone.now() - timedelta(seconds=30))

        html = agent_client.get(INBOX).content.decode()
        late_row, fresh_row = row_of(html, late), row_of(html, fresh)

        assert 'class="inbox-wait inbox-late"' in late_row and "7 min" in late_row
        assert 'class="inbox-wait"' in fresh_row

    def test_no_waiting_time_once_the_agent_answered(self, agent_client, agent):
        session = open_chat()
        services.agent_message_post(session_pk=session.pk, agent=agent, content="Olá!")

        html = agent_client.get(INBOX).content.decode()
        row = row_of(html, session)

        assert "inbox-wait" not in row

    def test_unread_counts_customer_messages_after_the_read_mark(self, agent_client, agent, other_agent):
        mine = open_chat("Mine", content="um")
        services.session_claim(session=mine, agent=agent)
        services.customer_message_post(session_key=mine.session_id, content="dois")
        theirs = open_chat("Theirs", content="um")
        services.session_claim(session=theirs, agent=other_agent)
        services.customer_message_post(session_key=theirs.session_id, content="dois")

        def unread(session):
            html = agent_client.get(INBOX).content.decode()
            row = row_of(html, session)
            found = re.search(r'class="inbox-unread"[^>]*>(\d+)<', row)
            return int(found.group(1)) if found else 0

        assert unread(mine) == 2
        assert unread(theirs) == 0  # another agent's chat: not this agent's to read

        agent_client.get(reverse("admin:chat_chatsession_change", args=[mine.pk]))
        assert unread(mine) == 2  # opening the page is a GET: it changes nothing
        last = mine.messages.order_by("-id").first()
        agent_client.post(reverse("admin:chat_chatsession_read", args=[mine.pk]), {"up_to": last.pk})
        assert unread(mine) == 0  # the page's POST once the messages are on screen

        services.customer_message_post(session_key=mine.session_id, content="três")
        services.agent_message_post(session_pk=mine.pk, agent=agent, content="resposta")
        services.customer_message_post(session_key=mine.session_id, content="quatro")
        assert unread(mine) == 1  # replying marks everything before the reply as read


class TestSearch:
    def test_by_name_email_tracking_code_number_and_message_text(self, agent_client):
        maria = open_chat("Maria Souza", customer_email="maria@example.com", tracking_code="JT555BR")
        joao = open_chat("João Lima", customer_email="joao@example.com", content="O boleto veio errado")
        for _ in range(3):
            services.customer_message_post(session_key=joao.session_id, content="boleto boleto")

        def search(term):
            return row_ids(agent_client.get(INBOX, {"q": term}))

        assert search("souza") == [maria.pk]
        assert search("joao@example") == [joao.pk]
        assert search("jt555") == [maria.pk]
        assert search("BOLETO") == [joao.pk]  # many matching messages, one row
        assert search(f"#{joao.pk}") == [joao.pk]
        assert search("maria boleto") == []  # every word must match
        assert search("joão boleto") == [joao.pk]

    def test_search_keeps_the_tab(self, agent_client, agent):
        waiting = open_chat("Carla")
        taken = open_chat("Carla Dias")
        services.session_claim(session=taken, agent=agent)

        assert row_ids(agent_client.get(INBOX, {"q": "carla", "tab": "waiting"})) == [waiting.pk]


class TestQueryCount:
    @pytest.mark.parametrize("chats", [5, 500])
    def test_same_number_of_queries_for_5_and_500_chats(
        self, chats, agent_client, agent, other_agent, django_assert_num_queries
    ):
        now = timezone.now()
        statuses = [Status.WAITING, Status.ACTIVE, Status.ENDED]
        sessions = ChatSession.objects.bulk_create(
            ChatSession(
                customer_name=f"Cliente {number}",
                customer_email=f"c{number}@example.com",
                tracking_code=f"JT{number:08d}BR",
                topic="rastreamento",
                status=statuses[number % 3],
                assigned_agent=None if number % 3 == 0 else (agent if number % 2 else other_agent),
                started_at=now - timedelta(minutes=number),
                waiting_since=now - timedelta(minutes=number) if number % 3 == 0 else None,
            )
            for number in range(chats)
        )
        ChatMessage.objects.bulk_create(
            ChatMessage(session=session, author=author, content=f"mensagem {session.pk}")
            for session in sessions
            for author in (Author.CUSTOMER, Author.AGENT)
        )
        # session, user, the user's permissions, tab counts, the agent's open chats (for the
        # live "Mine" count), page count, rows
        with django_assert_num_queries(7):
            response = agent_client.get(INBOX)
        open_chats = sum(1 for session in sessions if session.status != Status.ENDED)
        assert len(row_ids(response)) == min(open_chats, 50)  # the default tab: open chats

    def test_searching_costs_no_more_queries(self, agent_client, django_assert_num_queries):
        for number in range(20):
            open_chat(f"Cliente {number}", content="pedido atrasado")
        with django_assert_num_queries(7):
            response = agent_client.get(INBOX, {"q": "atrasado", "tab": "waiting"})
        assert len(row_ids(response)) == 20


@pytest.mark.skipif(connection.vendor != "postgresql", reason="expression index exists on PostgreSQL only")
def test_first_page_is_read_from_the_inbox_order_index(agent):
    """The ORDER BY must match migration 0004's index expression for expression."""
    open_chat()
    queryset = selectors.inbox_sessions(agent=agent)[:50]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        plan = queryset.explain()
    assert "chat_session_inbox_order_idx" in plan
    assert "Sort" not in plan


class TestEscaping:
    def test_script_and_img_onerror_show_as_text(self, agent_client):
        open_chat(
            "<script>alert('name')</script>",
            content='<img src=x onerror="alert(1)"> e <script>alert(2)</script>',
            customer_email="",
        )

        html = agent_client.get(INBOX).content.decode()

        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "&lt;script&gt;alert(&#x27;name&#x27;)&lt;/script&gt;" in html
        assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


class TestActions:
    def test_claim_takes_waiting_chats_and_names_who_has_the_others(self, agent_client, agent, other_agent):
        free = open_chat("Free")
        taken = open_chat("Taken")
        services.session_claim(session=taken, agent=other_agent)

        response = agent_client.post(
            INBOX, {"action": "claim_selected", "_selected_action": [free.pk, taken.pk]}, follow=True
        )

        free.refresh_from_db()
        taken.refresh_from_db()
        assert free.status == Status.ACTIVE and free.assigned_agent == agent
        assert taken.assigned_agent == other_agent
        levels = flash(response)
        assert any(level == "error" and "Bruno" in text for level, text in levels)
        assert any(level == "success" for level, _text in levels)

    def test_end_ends_the_selected_open_chats(self, agent_client, agent):
        first, second = open_chat("A"), open_chat("B")
        services.session_claim(session=second, agent=agent)

        agent_client.post(INBOX, {"action": "end_selected", "_selected_action": [first.pk, second.pk]})

        for session in (first, second):
            session.refresh_from_db()
            assert session.status == Status.ENDED
            assert session.ended_by == ChatSession.EndedBy.AGENT
            assert session.messages.filter(author=Author.SYSTEM, content__contains="Ana").exists()


class TestAvailability:
    URL = reverse("admin:chat_chatsession_accepting")

    def test_the_switch_changes_only_the_agents_own_flag(self, agent_client, agent, other_agent):
        bring_online(agent, other_agent)
        before = selectors.available_agents_count()
        assert before == 2

        response = agent_client.post(
            self.URL, {"accepting": "0", "user": other_agent.pk, "next": INBOX + "?tab=mine"}
        )

        assert response.status_code == 302 and response["Location"] == INBOX + "?tab=mine"
        agent.refresh_from_db()
        other_agent.refresh_from_db()
        assert agent.accepting_chats is False and other_agent.accepting_chats is True
        assert selectors.available_agents_count() == before - 1
        assert 'aria-checked="false"' in agent_client.get(INBOX).content.decode()

        agent_client.post(self.URL, {"accepting": "1"})
        agent.refresh_from_db()
        assert agent.accepting_chats is True

    def test_an_outside_next_is_not_followed(self, agent_client):
        response = agent_client.post(self.URL, {"accepting": "0", "next": "https://evil.example/"})
        assert response["Location"] == INBOX

    def test_waiting_customers_are_told_when_availability_changes(
        self, agent_client, agent, other_agent, monkeypatch, django_capture_on_commit_callbacks
    ):
        bring_online(agent, other_agent)
        open_chat()
        sent = []
        monkeypatch.setattr(announce, "send_event_on_commit", lambda *event: sent.append(event))
        with django_capture_on_commit_callbacks(execute=True):
            agent_client.post(self.URL, {"accepting": "0"})
        assert [event["agents_available"] for group, event in sent if group == "queue"] == [1]  # Bruno only


def test_post_endpoints_refuse_get(agent_client):
    session = open_chat()
    for name in ("reply", "claim", "transfer", "end", "read"):
        url = reverse(f"admin:chat_chatsession_{name}", args=[session.pk])
        assert agent_client.get(url).status_code == 405, name
    assert agent_client.get(reverse("admin:chat_chatsession_accepting")).status_code == 405


def test_a_superuser_sees_the_inbox(client, django_user_model):
    admin_user = make_staff(django_user_model, "root", is_superuser=True, email="root@example.com")
    client.force_login(admin_user)
    open_chat()
    assert client.get(INBOX).status_code == 200


def test_managers_see_the_inbox_too(client, django_user_model):
    client.force_login(make_staff(django_user_model, "gestora", "Gestores"))
    session = open_chat()
    assert row_ids(client.get(INBOX)) == [session.pk]


class TestRowsForLiveLists:
    """``rows/?ids=``: what a live list fetches when an event lacks a column."""

    URL = reverse("admin:chat_chatsession_rows")

    def test_the_chats_asked_for_as_the_lists_show_them(self, agent_client, agent, other_agent):
        mine = open_chat("Minha", content="um")
        services.session_claim(session=mine, agent=agent)
        services.customer_message_post(session_key=mine.session_id, content="dois")
        theirs = open_chat("Dele")
        services.session_claim(session=theirs, agent=other_agent)
        open_chat("Outra")

        rows = agent_client.get(self.URL, {"ids": f"{theirs.pk},{mine.pk},999999"}).json()["rows"]

        # in inbox order (Minha has waited longer); no row for a chat that does not exist
        assert [row["id"] for row in rows] == [mine.pk, theirs.pk]
        by_id = {row["id"]: row for row in rows}
        assert by_id[mine.pk]["unread"] == 2
        assert by_id[mine.pk]["last_message"] == {"author": "customer", "preview": "dois"}
        assert by_id[theirs.pk]["unread"] is None  # a colleague's chat: not this agent's to read
        assert by_id[theirs.pk]["agent_name"] == "Bruno"
        assert "session_id" not in by_id[mine.pk]  # the customer's key stays theirs

    def test_bad_ids_are_a_clear_400(self, agent_client):
        for ids in ("", "abc", "1,,x", ",".join(["1"] * 51), "9" * 30):
            response = agent_client.get(self.URL, {"ids": ids})
            assert response.status_code == 400, ids
            assert response.json()["code"] == "invalid"

    def test_reading_costs_the_same_queries_for_one_chat_or_fifty(
        self, agent_client, django_assert_num_queries
    ):
        ids = [open_chat(f"Cliente {number}").pk for number in range(50)]
        # session, user, the user's permissions, the rows
        with django_assert_num_queries(4):
            one = agent_client.get(self.URL, {"ids": str(ids[0])})
        with django_assert_num_queries(4):
            fifty = agent_client.get(self.URL, {"ids": ",".join(map(str, ids))})
        assert len(one.json()["rows"]) == 1 and len(fifty.json()["rows"]) == 50


class TestLanding:
    def test_who_may_view_chats_lands_on_the_inbox(self, agent_client, client, manager, django_user_model):
        assert agent_client.get("/admin/")["Location"] == INBOX
        clerk = make_staff(django_user_model, "clerk")
        client.force_login(clerk)
        assert client.get("/admin/").status_code == 200  # nothing of chats to land on

    def test_managers_keep_a_way_to_every_section(self, manager, agent):
        client, agent_client = Client(), Client()
        client.force_login(manager)
        agent_client.force_login(agent)
        assert client.get("/admin/")["Location"] == INBOX
        inbox = client.get(INBOX).content.decode()
        assert 'href="/admin/?sections=1"' in inbox and 'href="/admin/chat/chatanalytics/metrics/"' in inbox
        sections = client.get("/admin/?sections=1").content.decode()
        assert "/admin/accounts/user/" in sections and "/admin/chat/cannedresponse/" in sections
        assert "sections=1" not in agent_client.get(INBOX).content.decode()  # agents have only the inbox
