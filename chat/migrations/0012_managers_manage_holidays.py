"""Gestores manage holidays (chat/policy.py's MANAGE_HOURS): the days the service is closed."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

HOLIDAYS = [("chat", f"{action}_holiday") for action in ("view", "add", "change", "delete")]


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Gestores")
    for app_label, codename in HOLIDAYS:
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(content_type__app_label="chat", codename__endswith="_holiday")
    for group in Group.objects.filter(name="Gestores"):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [("chat", "0011_presence_hours_reply_emails")]

    operations = [migrations.RunPython(grant, revoke)]
