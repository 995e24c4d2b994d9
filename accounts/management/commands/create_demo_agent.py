import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "On a new database with DEBUG on, create a demo agent with a random password."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            self.stdout.write("DEBUG is off: no demo agent is created.")
            return
        User = get_user_model()
        if User.objects.exists():
            return
        password = secrets.token_urlsafe(12)
        user = User.objects.create_user(
            username="agente",
            password=password,
            display_name="Ana (demo)",
            first_name="Ana",
            is_staff=True,
        )
        user.groups.add(*Group.objects.filter(name__in=["Agentes", "Gestores"]))
        self.stdout.write(
            self.style.SUCCESS(
                "Demo agent created — sign in at /admin/ with "
                f"username: {user.username}  password: {password}"
            )
        )
