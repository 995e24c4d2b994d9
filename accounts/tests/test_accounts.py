import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_demo_agent_is_created_once_on_a_new_database_with_debug_on(settings, capsys, django_user_model):
    settings.DEBUG = True
    call_command("create_demo_agent")
    output = capsys.readouterr().out
    user = django_user_model.objects.get()
    password = output.split("password:")[1].strip()
    assert user.username in output
    assert user.is_staff and user.check_password(password)
    assert user.has_perm("chat.reply_chatsession") and user.has_perm("chat.view_metrics")

    call_command("create_demo_agent")
    assert django_user_model.objects.count() == 1
    assert "password" not in capsys.readouterr().out


def test_no_demo_agent_with_debug_off(settings, django_user_model):
    settings.DEBUG = False
    call_command("create_demo_agent")
    assert not django_user_model.objects.exists()


def test_public_name_prefers_display_name(django_user_model):
    user = django_user_model(username="ana.silva", first_name="Ana")
    assert user.public_name == "Ana"
    user.display_name = "Ana S."
    assert user.public_name == "Ana S."
    assert django_user_model(username="ze").public_name == "ze"
