"""Signed-in staff stay signed in across the switch to accounts.backends.ModelBackend.

A login session names the backend that authenticated it, and Django only accepts a backend
still listed in AUTHENTICATION_BACKENDS. Sessions made before the switch name Django's
ModelBackend; this rewrites them to name the project's (a subclass: same users, same
passwords), so that agents are not signed out by the deploy that brings it.
"""

from django.contrib.auth import BACKEND_SESSION_KEY
from django.db import migrations
from django.utils import timezone

DJANGO_BACKEND = "django.contrib.auth.backends.ModelBackend"
PROJECT_BACKEND = "accounts.backends.ModelBackend"


def rename_backend(apps, old: str, new: str) -> None:
    from django.contrib.sessions.backends.db import SessionStore

    Session = apps.get_model("sessions", "Session")
    store = SessionStore()
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        data = store.decode(session.session_data)
        if data.get(BACKEND_SESSION_KEY) == old:
            data[BACKEND_SESSION_KEY] = new
            Session.objects.filter(pk=session.pk).update(session_data=store.encode(data))


def forwards(apps, schema_editor):
    rename_backend(apps, DJANGO_BACKEND, PROJECT_BACKEND)


def backwards(apps, schema_editor):
    rename_backend(apps, PROJECT_BACKEND, DJANGO_BACKEND)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("sessions", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
