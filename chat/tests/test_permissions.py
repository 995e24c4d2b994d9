"""Who may do what in the back office: Agentes, Gestores, a reader, a plain staff user."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from chat import policy, services
from chat.models import CannedResponse, ChatMessage, ChatSession
from conftest import make_staff

pytestmark = pytest.mark.django_db

INBOX = reverse("admin:chat_chatsession_changelist")
CANNED = reverse("admin:chat_cannedresponse_changelist")
CANNED_ADD = reverse("admin:chat_cannedresponse_add")
USERS = reverse("admin:accounts_user_changelist")
USER_ADD = reverse("admin:accounts_user_add")


def open_chat():
    session = services.session_open(customer_name="Maria")
    services.customer_message_post(session_key=session.session_id, content="Olá")
    return session


def chat_url(name, session):
    return reverse(f"admin:chat_chatsession_{name}", args=[session.pk])


@pytest.fixture
def reader(django_user_model):
    """Staff who may read chats but not answer them."""
    user = make_staff(django_user_model, "leitor")
    user.user_permissions.add(Permission.objects.get(codename="view_chatsession"))
    return django_user_model.objects.get(pk=user.pk)


@pytest.fixture
def plain_staff(django_user_model):
    return make_staff(django_user_model, "estagiario")


class TestAgentes:
    def test_work_chats(self, agent_client, agent):
        session = open_chat()
        assert agent_client.get(INBOX).status_code == 200
        page = agent_client.get(chat_url("change", session))
        assert 'id="reply-form"' in page.text and 'id="claim-form"' in page.text

        agent_client.post(chat_url("reply", session), {"content": "Olá!"})
        session.refresh_from_db()
        assert session.assigned_agent == agent

    def test_read_but_do_not_manage_canned_responses(self, agent_client):
        canned = CannedResponse.objects.create(title="Oi", shortcut="oi", text="Olá!")
        assert agent_client.get(CANNED).status_code == 200
        assert agent_client.get(CANNED_ADD).status_code == 403
        change_url = reverse("admin:chat_cannedresponse_change", args=[canned.pk])
        assert agent_client.post(change_url, {"title": "x", "shortcut": "oi", "text": "x"}).status_code == 403
        canned.refresh_from_db()
        assert canned.text == "Olá!"

    def test_cannot_manage_users_or_see_metrics(self, agent_client):
        assert agent_client.get(USERS).status_code == 403
        assert agent_client.get(USER_ADD).status_code == 403


class TestGestores:
    def test_work_chats_too(self, client, manager):
        client.force_login(manager)
        session = open_chat()
        client.post(chat_url("claim", session))
        session.refresh_from_db()
        assert session.assigned_agent == manager

    def test_manage_canned_responses(self, client, manager):
        client.force_login(manager)

        response = client.post(CANNED_ADD, {"title": "Coleta", "shortcut": "coleta", "text": "Agendada."})
        canned = CannedResponse.objects.get(shortcut="coleta")
        client.post(
            reverse("admin:chat_cannedresponse_change", args=[canned.pk]),
            {"title": "Coleta", "shortcut": "coleta", "text": "Coleta agendada para amanhã."},
        )
        canned.refresh_from_db()

        assert response.status_code == 302
        assert canned.text == "Coleta agendada para amanhã."
        client.post(reverse("admin:chat_cannedresponse_delete", args=[canned.pk]), {"post": "yes"})
        assert not CannedResponse.objects.filter(shortcut="coleta").exists()

    def test_add_an_agent_with_a_display_name_and_group(self, client, manager, django_user_model):
        from django.contrib.auth.models import Group

        client.force_login(manager)
        agentes = Group.objects.get(name="Agentes")
        response = client.post(
            USER_ADD,
            {
                "username": "carla",
                "usable_password": "true",
                "password1": "uma-senha-forte-123",
                "password2": "uma-senha-forte-123",
                "display_name": "Carla",
                "is_staff": "on",
                "groups": [agentes.pk],
            },
        )
        assert response.status_code == 302, response.content[:500]
        carla = django_user_model.objects.get(username="carla")
        assert carla.public_name == "Carla" and carla.is_staff
        assert policy.can(carla, policy.REPLY)

    def test_cannot_make_anyone_superuser_or_touch_a_superuser(
        self, client, manager, agent, django_user_model
    ):
        root = make_staff(django_user_model, "root", is_superuser=True, email="root@example.com")
        client.force_login(manager)

        page = client.get(reverse("admin:accounts_user_change", args=[agent.pk]))
        assert page.status_code == 200 and 'name="is_superuser"' not in page.text
        assert 'name="user_permissions"' not in page.text

        assert client.get(reverse("admin:auth_user_password_change", args=[root.pk])).status_code == 403
        client.post(reverse("admin:accounts_user_change", args=[root.pk]), {"username": "hacked"})
        root.refresh_from_db()
        assert root.username == "root"


class TestReaderWithoutReplyPermission:
    def test_reads_the_inbox_and_the_chat_but_gets_no_reply_box(self, client, reader):
        client.force_login(reader)
        session = open_chat()

        inbox = client.get(INBOX)
        page = client.get(chat_url("change", session))

        assert inbox.status_code == 200 and "claim_selected" not in inbox.text
        assert page.status_code == 200 and "Olá" in page.text
        assert 'id="reply-form"' not in page.text and 'id="chat-actions"' not in page.text

    def test_every_write_is_refused(self, client, reader, other_agent):
        client.force_login(reader)
        session = open_chat()

        for name, data in (
            ("reply", {"content": "Oi"}),
            ("claim", {}),
            ("transfer", {"to_agent": other_agent.pk}),
            ("end", {}),
        ):
            assert client.post(chat_url(name, session), data).status_code == 403, name
        client.post(INBOX, {"action": "claim_selected", "_selected_action": [session.pk]})

        session.refresh_from_db()
        assert session.status == ChatSession.Status.WAITING and session.assigned_agent is None
        assert not session.messages.filter(author=ChatMessage.Author.AGENT).exists()


class TestPlainStaff:
    def test_sees_no_chats_and_cannot_write(self, client, plain_staff):
        client.force_login(plain_staff)
        session = open_chat()

        assert client.get(INBOX).status_code == 403
        assert client.get(chat_url("change", session)).status_code == 403
        assert client.post(chat_url("reply", session), {"content": "Oi"}).status_code == 403
        assert client.post(chat_url("read", session), {"up_to": 1}).status_code == 403
        assert client.post(reverse("admin:chat_chatsession_accepting"), {"accepting": "0"}).status_code == 403
        plain_staff.refresh_from_db()
        assert plain_staff.accepting_chats is True
        assert not session.messages.filter(author=ChatMessage.Author.AGENT).exists()


def test_signed_out_visitors_are_sent_to_the_login(client):
    session = open_chat()
    for target in (INBOX, chat_url("change", session)):
        response = client.get(target)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    response = client.post(chat_url("reply", session), {"content": "Oi"})
    assert response.status_code in (302, 403)
    assert not session.messages.filter(author=ChatMessage.Author.AGENT).exists()
