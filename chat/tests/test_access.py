"""Who may do what, as people try it: the access policy (chat/policy.py) at every door.

The first class holds the five ways past the admin that the screens used to leave open; each
of its tests failed before the one policy. Users are managed safely on every path, and access
to personal data in bulk is written to the audit log.
"""

import json

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts import services as user_services
from audit.models import AuditEntry
from chat import services
from chat.models import ChatMessage, ChatSession
from chat.tests.sockets import WAIT, agent_socket, close_code, run, session_cookie
from conftest import make_staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sockets_share_the_test_transaction")]

Action = AuditEntry.Action


def post_json(client, url, body, method="post"):
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def clerk(django_user_model):
    """Staff, in no group: may sign in to the admin, and nothing else."""
    return make_staff(django_user_model, "clerk")


@pytest.fixture
def reader(django_user_model):
    """Read-only staff: may view chats, not answer them."""
    user = make_staff(django_user_model, "leitor")
    user.user_permissions.add(Permission.objects.get(codename="view_chatsession"))
    return django_user_model.objects.get(pk=user.pk)


@pytest.fixture
def root(django_user_model):
    return make_staff(
        django_user_model, "root", is_superuser=True, email="root@example.com", password="raiz-secreta-2026"
    )


@pytest.fixture
def chat(agent):
    chat = services.session_open(customer_name="Maria", customer_email="maria@example.com")
    services.customer_message_post(session_key=chat.session_id, content="Meu pacote sumiu")
    services.agent_message_post(session_pk=chat.pk, agent=agent, content="cliente VIP", is_internal=True)
    return chat


class TestTheFiveLeaks:
    def test_staff_with_no_group_sees_no_chat_over_the_api_the_admin_or_the_socket(self, clerk, chat, client):
        api = signed_in(clerk)
        listed = api.get("/api/chat/sessions/")
        assert listed.status_code == 403
        assert "maria@example.com" not in listed.text
        transcript = api.get(f"/api/chat/sessions/{chat.pk}/messages/")
        assert transcript.status_code == 403
        assert "VIP" not in transcript.text
        assert api.get(f"/api/chat/sessions/{chat.pk}/").status_code == 403
        assert api.get(reverse("admin:chat_chatsession_changelist")).status_code == 403

        async def scenario():
            socket = await agent_socket(cookie=await database_sync_to_async(session_cookie)(client, clerk))
            assert await close_code(socket) == 4403
            await socket.disconnect()

        run(scenario)

    def test_a_manager_cannot_take_over_or_deactivate_a_superuser(self, manager, root):
        api = signed_in(manager)
        changed = post_json(api, f"/api/users/{root.pk}/", {"password": "tomada-de-conta-99"}, "patch")
        assert changed.status_code == 403
        assert changed.json()["code"] == "permission_denied"
        assert post_json(api, f"/api/users/{root.pk}/", {"is_active": False}, "patch").status_code == 403
        root.refresh_from_db()
        assert root.is_active and root.check_password("raiz-secreta-2026")
        assert not AuditEntry.objects.exists()

    def test_the_users_api_runs_the_password_validators(self, manager, django_user_model):
        answer = post_json(
            signed_in(manager), "/api/users/", {"username": "novo", "password": "12345678", "is_staff": True}
        )
        assert answer.status_code == 400
        said = " ".join(answer.json()["fields"]["password"])
        assert "comum" in said and "numérica" in said  # Django's validators, in pt-BR
        assert not django_user_model.objects.filter(username="novo").exists()

    def test_nobody_changes_their_own_access_but_may_change_their_own_password(self, manager):
        api = signed_in(manager)
        me = f"/api/users/{manager.pk}/"
        for change in ({"is_active": False}, {"is_staff": False}, {"groups": []}):
            refused = post_json(api, me, change, "patch")
            assert refused.status_code == 403, change
        changed = post_json(api, me, {"password": "nova-senha-da-gabi-42"}, "patch")
        assert changed.status_code == 200
        assert api.get("/api/users/").status_code == 200  # still signed in, as after the admin's form
        manager.refresh_from_db()
        assert manager.is_active and manager.check_password("nova-senha-da-gabi-42")

    def test_a_username_takes_letters_digits_and_symbols_the_schema_can_say(self, manager):
        api = signed_in(manager)
        for name in ("joão", "ana maria", "ana\x00"):
            answer = post_json(api, "/api/users/", {"username": name, "password": "entrega-rapida-77"})
            assert answer.status_code == 400 and "username" in answer.json()["fields"], name
        ok = post_json(api, "/api/users/", {"username": "joao.silva+sp@jt", "password": "entrega-rapida-77"})
        assert ok.status_code == 201

    def test_opening_a_conversation_changes_nothing(self, agent, chat):
        services.session_claim(session=chat, agent=agent)
        services.customer_message_post(session_key=chat.session_id, content="ainda aqui")
        before = ChatSession.objects.values().get(pk=chat.pk)
        response = signed_in(agent).get(reverse("admin:chat_chatsession_change", args=[chat.pk]))
        assert response.status_code == 200
        assert ChatSession.objects.values().get(pk=chat.pk) == before

    def test_ending_a_chat_needs_the_permission_to_end_as_claiming_does(self, reader, agent, chat):
        as_reader = signed_in(reader)
        assert as_reader.post(f"/api/chat/sessions/{chat.pk}/end/").status_code == 403
        assert as_reader.post(reverse("admin:chat_chatsession_end", args=[chat.pk])).status_code == 403
        chat.refresh_from_db()
        assert chat.status == ChatSession.Status.WAITING
        assert signed_in(agent).post(f"/api/chat/sessions/{chat.pk}/end/").status_code == 200


class TestUsers:
    def test_a_manager_creates_an_agent_with_a_group(self, manager, django_user_model):
        answer = post_json(
            signed_in(manager),
            "/api/users/",
            {"username": "bia", "password": "entrega-rapida-77", "is_staff": True, "groups": ["Agentes"]},
        )
        assert answer.status_code == 201
        assert answer.json()["groups"] == ["Agentes"]
        bia = django_user_model.objects.get(username="bia")
        assert bia.check_password("entrega-rapida-77") and bia.has_perm("chat.reply_chatsession")
        entry = AuditEntry.objects.get()
        assert (entry.action, entry.actor, entry.target) == (Action.USER_CREATED, manager, f"#{bia.pk} bia")

    def test_a_manager_never_widens_their_own_access(self, manager):
        api = signed_in(manager)
        mine = f"/api/users/{manager.pk}/"
        assert post_json(api, mine, {"groups": ["Gestores", "Agentes"]}, "patch").status_code == 403
        assert post_json(api, mine, {"display_name": "Gabi G."}, "patch").status_code == 200  # own profile
        assert list(manager.groups.values_list("name", flat=True)) == ["Gestores"]

    def test_a_manager_gives_only_groups_whose_permissions_they_hold(self, manager, agent):
        auditors = Group.objects.create(name="Auditores")
        auditors.permissions.add(Permission.objects.get(codename="view_auditentry"))
        api = signed_in(manager)
        refused = post_json(api, f"/api/users/{agent.pk}/", {"groups": ["Agentes", "Auditores"]}, "patch")
        assert refused.status_code == 403
        assert post_json(api, f"/api/users/{agent.pk}/", {"groups": ["Gestores"]}, "patch").status_code == 200
        assert list(agent.groups.values_list("name", flat=True)) == ["Gestores"]

    def test_the_admin_offers_a_manager_no_superuser_switch_nor_their_own_groups(self, manager, agent):
        admin = signed_in(manager)
        own = admin.get(reverse("admin:accounts_user_change", args=[manager.pk])).text
        assert 'name="is_superuser"' not in own and 'name="groups"' not in own
        other = admin.get(reverse("admin:accounts_user_change", args=[agent.pk])).text
        assert 'name="is_superuser"' not in other and 'name="groups"' in other

    def test_a_manager_cannot_open_a_superusers_password_page(self, manager, root):
        page = reverse("admin:auth_user_password_change", args=[root.pk])
        assert signed_in(manager).post(page, {"password1": "x", "password2": "x"}).status_code == 403

    def test_the_admins_password_form_validates_saves_and_audits(self, manager, agent):
        page = reverse("admin:auth_user_password_change", args=[agent.pk])
        admin = signed_in(manager)
        weak = admin.post(
            page, {"set_usable_password": "true", "password1": "senha123", "password2": "senha123"}
        )
        assert weak.status_code == 200 and "comum" in weak.text
        strong = "rastreio-veloz-2026"
        done = admin.post(page, {"set_usable_password": "true", "password1": strong, "password2": strong})
        assert done.status_code == 302
        agent.refresh_from_db()
        assert agent.check_password(strong)
        assert AuditEntry.objects.get().action == Action.PASSWORD_SET

    def test_deactivating_an_agent_closes_their_sockets_and_ends_their_sessions(
        self, manager, agent, client, django_capture_on_commit_callbacks
    ):
        def deactivate():
            agent.is_active = False
            with django_capture_on_commit_callbacks(execute=True):
                user_services.user_save(actor=manager, user=agent)

        async def scenario():
            cookie = await database_sync_to_async(session_cookie)(client, agent)
            socket = await agent_socket(cookie=cookie)
            assert await socket.receive_json_from(WAIT) == {"type": "ready"}
            await database_sync_to_async(deactivate)()
            assert await close_code(socket) == 4403
            await socket.disconnect()

        run(scenario)
        assert not [s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(agent.pk)]
        assert client.get(reverse("admin:chat_chatsession_changelist")).status_code == 302  # to sign-in
        assert AuditEntry.objects.get().action == Action.USER_DEACTIVATED


class TestAudit:
    def test_exports_and_transcripts_are_recorded_with_who_and_where(self, manager, chat):
        admin = signed_in(manager)
        daily = admin.get(reverse("admin:chat_metrics_export_daily"), REMOTE_ADDR="198.51.100.7")
        assert daily.status_code == 200
        b"".join(daily.streaming_content)
        transcript = admin.get(reverse("admin:chat_chatsession_transcript", args=[chat.pk]))
        assert transcript.status_code == 200
        assert "[Nota interna]: cliente VIP" in transcript.content.decode()
        assert transcript["Content-Disposition"] == f'attachment; filename="chat-{chat.pk}.txt"'
        entries = list(AuditEntry.objects.order_by("id").values_list("actor_name", "action", "target", "ip"))
        assert entries[0][:2] == ("gabi", Action.EXPORT_DAILY) and entries[0][3] == "198.51.100.7"
        assert entries[1][:3] == ("gabi", Action.TRANSCRIPT, f"chat #{chat.pk}")

    def test_anonymisation_is_recorded_and_keeps_the_log(self, chat, root):
        services.session_end(session=chat, ended_by=ChatSession.EndedBy.CUSTOMER)
        ChatSession.objects.filter(pk=chat.pk).update(ended_at=chat.started_at.replace(year=2020))
        call_command("anonymize_sessions", "--messages", stdout=open("/dev/null", "w"))  # noqa: SIM115
        entry = AuditEntry.objects.get(action=Action.ANONYMIZED)
        # the customer's message and the note
        assert entry.detail == "1 chats, 2 messages, 0 files" and entry.actor is None
        call_command("anonymize_sessions", stdout=open("/dev/null", "w"))  # noqa: SIM115
        assert AuditEntry.objects.filter(action=Action.ANONYMIZED).count() == 2  # nothing is removed

    def test_only_superusers_read_the_log_and_nobody_edits_it(self, manager, root):
        entry = AuditEntry.objects.create(actor=root, actor_name="root", action=Action.ANONYMIZED)
        listing = reverse("admin:audit_auditentry_changelist")
        assert signed_in(manager).get(listing).status_code == 403
        as_root = signed_in(root)
        assert as_root.get(listing).status_code == 200
        assert (
            as_root.post(
                reverse("admin:audit_auditentry_delete", args=[entry.pk]), {"post": "yes"}
            ).status_code
            == 403
        )
        assert (
            as_root.post(
                reverse("admin:audit_auditentry_change", args=[entry.pk]), {"target": "x"}
            ).status_code
            == 403
        )
        assert AuditEntry.objects.get().target == ""


def test_internal_notes_reach_no_customer(chat):
    """A customer's own door (their key) shows their chat without the agents' notes."""
    answer = Client().get("/api/chat/messages", HTTP_X_CHAT_SESSION=str(chat.session_id))
    assert [m["content"] for m in answer.json()["messages"]] == ["Meu pacote sumiu"]
    assert ChatMessage.objects.filter(is_internal=True).count() == 1
