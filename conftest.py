"""Fixtures shared by every app's tests."""

import pytest
from django.contrib.auth.models import Group


@pytest.fixture(autouse=True)
def _in_memory_channel_layer(settings):
    """Each test gets a fresh in-memory layer unless it asks for Redis."""
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


def make_staff(django_user_model, username: str, *groups: str, **extra):
    user = django_user_model.objects.create_user(
        username=username, password="pass-1234-word", is_staff=True, **extra
    )
    if groups:
        user.groups.add(*Group.objects.filter(name__in=groups))
    return django_user_model.objects.get(pk=user.pk)  # fresh permission cache


@pytest.fixture
def agent(django_user_model):
    return make_staff(django_user_model, "ana", "Agentes", display_name="Ana")


@pytest.fixture
def other_agent(django_user_model):
    return make_staff(django_user_model, "bruno", "Agentes", display_name="Bruno")


@pytest.fixture
def manager(django_user_model):
    return make_staff(django_user_model, "gabi", "Gestores", display_name="Gabi")


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client
