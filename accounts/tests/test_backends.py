import pytest
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.backends import ModelBackend
from chat import policy
from conftest import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def users(django_user_model):
    export = Permission.objects.get(codename="view_chatsession")
    reply = Permission.objects.get(codename="reply_chatsession")
    own_only = make_staff(django_user_model, "own")
    own_only.user_permissions.add(reply)
    both = make_staff(django_user_model, "both", "Agentes", "Gestores")
    both.user_permissions.add(export, reply)  # also held through a group: listed once
    return {
        "agent": make_staff(django_user_model, "agent", "Agentes"),
        "manager": make_staff(django_user_model, "manager", "Gestores"),
        "own_only": django_user_model.objects.get(pk=own_only.pk),
        "both": django_user_model.objects.get(pk=both.pk),
        "none": make_staff(django_user_model, "none"),
        "inactive": make_staff(django_user_model, "inactive", "Agentes", is_active=False),
        "superuser": make_staff(django_user_model, "root", is_superuser=True),
    }


def fresh(user):
    return type(user).objects.get(pk=user.pk)


def test_same_permissions_as_djangos_backend(users):
    for name, user in users.items():
        expected = DjangoModelBackend().get_all_permissions(fresh(user))
        assert ModelBackend().get_all_permissions(fresh(user)) == expected, name
    assert "chat.reply_chatsession" in ModelBackend().get_all_permissions(fresh(users["own_only"]))
    assert ModelBackend().get_all_permissions(fresh(users["inactive"])) == set()


def test_the_reply_check_reads_permissions_in_one_query_per_request(users):
    agent = fresh(users["agent"])
    with CaptureQueriesContext(connection) as queries:
        assert policy.can(agent, policy.REPLY)
        assert policy.can(agent, policy.REPLY)  # the answer is kept on the user for the request
    assert len(queries) == 1


def test_who_may_reply(users):
    may = {name for name, user in users.items() if policy.can(fresh(user), policy.REPLY)}
    # Managers answer too; replying needs the permission to view chats as well (chat/policy.py).
    assert may == {"agent", "manager", "both", "superuser"}


def test_staff_signed_in_before_the_backend_switch_stay_signed_in(users, client):
    import importlib

    from django.apps import apps
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    migration = importlib.import_module("accounts.migrations.0002_sessions_use_accounts_backend")
    agent = users["agent"]
    session = SessionStore()
    session[SESSION_KEY] = str(agent.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"  # as stored before
    session[HASH_SESSION_KEY] = agent.get_session_auth_hash()
    session.create()
    client.cookies["sessionid"] = session.session_key
    assert client.get("/api/chat/sessions/").status_code == 403  # not accepted as it stands

    migration.forwards(apps, None)

    assert client.get("/api/chat/sessions/").status_code == 200  # the same login, still signed in
