"""Auto-assignment (CHAT_AUTO_ASSIGN): a new chat goes to the least busy available agent
(online, accepting, under the maximum)."""

import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Permission

from chat import services
from chat.models import ChatSession
from conftest import bring_online, make_staff

pytestmark = pytest.mark.django_db

Status = ChatSession.Status


@pytest.fixture
def carla(django_user_model):
    return make_staff(django_user_model, "carla", "Agentes", display_name="Carla")


@pytest.fixture
def auto(settings):
    settings.CHAT_AUTO_ASSIGN = True
    settings.CHAT_AGENT_MAX_ACTIVE_CHATS = 3
    return settings


def give(agent, count):
    """``count`` chats already active with ``agent``."""
    ChatSession.objects.bulk_create(
        ChatSession(status=Status.ACTIVE, assigned_agent=agent) for _ in range(count)
    )


def test_off_by_default(agent):
    environment = {key: value for key, value in os.environ.items() if key != "CHAT_AUTO_ASSIGN"}
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.CHAT_AUTO_ASSIGN)"],
        env={**environment, "DJANGO_SETTINGS_MODULE": "jtchat.settings_test"},
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "False", result.stderr
    session = services.session_open()
    assert session.status == Status.WAITING and session.assigned_agent is None


def test_the_agent_with_the_fewest_active_chats_gets_it(auto, agent, other_agent, carla):
    bring_online(agent, other_agent, carla)
    give(agent, 2)
    give(other_agent, 1)
    give(carla, 2)

    session = services.session_open(customer_name="Maria")

    assert session.assigned_agent == other_agent and session.status == Status.ACTIVE
    assert session.messages.filter(author="system", content__contains="Bruno").exists()


def test_ended_chats_do_not_count_as_busy(auto, agent, other_agent):
    bring_online(agent, other_agent)
    give(agent, 1)
    give(other_agent, 2)
    for session in ChatSession.objects.filter(assigned_agent=other_agent):
        services.session_end(session=session, ended_by=ChatSession.EndedBy.AGENT, agent=other_agent)

    assert services.session_open().assigned_agent == other_agent


def test_the_maximum_is_respected(auto, agent, other_agent):
    bring_online(agent, other_agent)
    give(agent, 3)
    give(other_agent, 2)

    assert services.session_open().assigned_agent == other_agent  # now 3 each
    overflow = services.session_open()

    assert overflow.status == Status.WAITING and overflow.assigned_agent is None


def test_agents_not_accepting_chats_are_skipped(auto, agent, other_agent):
    bring_online(agent, other_agent)
    give(other_agent, 2)
    type(agent).objects.filter(pk=agent.pk).update(accepting_chats=False)

    assert services.session_open().assigned_agent == other_agent
    type(other_agent).objects.filter(pk=other_agent.pk).update(accepting_chats=False)
    assert services.session_open().status == Status.WAITING


def test_only_active_staff_who_may_reply_are_picked(auto, agent, django_user_model):
    give(agent, 2)
    reader = make_staff(django_user_model, "leitor")
    reader.user_permissions.add(Permission.objects.get(codename="view_chatsession"))
    former = make_staff(django_user_model, "ex", "Agentes", is_active=False)
    bring_online(agent, reader, former)

    assert services.session_open().assigned_agent == agent


def test_agents_who_are_not_online_are_skipped(auto, agent, other_agent):
    give(agent, 2)
    bring_online(agent)  # Bruno, with no chat, has no admin page open

    assert services.session_open().assigned_agent == agent


def test_with_nobody_online_the_chat_waits_and_is_marked(auto, agent):
    session = services.session_open()

    assert session.status == Status.WAITING and session.assigned_agent is None
    assert session.opened_without_agents is True
