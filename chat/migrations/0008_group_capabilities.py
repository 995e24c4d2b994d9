"""The groups get the permissions of chat/policy.py's capabilities.

Agentes: view chats, reply, internal notes, take, transfer, end, use canned responses.
Gestores: all of that, manage canned responses, metrics and exports, manage users.
A staff user in neither group holds none of them and can do nothing with chats.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

AGENT = [
    ("chat", "view_chatsession"),
    ("chat", "reply_chatsession"),
    ("chat", "note_chatsession"),
    ("chat", "claim_chatsession"),
    ("chat", "transfer_chatsession"),
    ("chat", "end_chatsession"),
    ("chat", "view_cannedresponse"),
]
MANAGER = AGENT + [
    ("chat", "add_cannedresponse"),
    ("chat", "change_cannedresponse"),
    ("chat", "delete_cannedresponse"),
    ("chat", "view_metrics"),
    ("chat", "export_metrics"),
    ("chat", "view_chatanalytics"),
    ("accounts", "view_user"),
    ("accounts", "add_user"),
    ("accounts", "change_user"),
    ("auth", "view_group"),
]
GRANTS = {"Agentes": AGENT, "Gestores": MANAGER}
NEW = {("chat", "note_chatsession"), ("chat", "claim_chatsession"), ("chat", "transfer_chatsession")}
NEW |= {("chat", "end_chatsession"), ("chat", "export_metrics")}


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, wanted in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in wanted:
            permission = Permission.objects.get(content_type__app_label=app_label, codename=codename)
            group.permissions.add(permission)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    new = [Permission.objects.filter(content_type__app_label=a, codename=c).first() for a, c in NEW]
    for group in Group.objects.filter(name__in=GRANTS):
        group.permissions.remove(*[permission for permission in new if permission is not None])


class Migration(migrations.Migration):
    dependencies = [("chat", "0007_capability_permissions")]

    operations = [migrations.RunPython(grant, revoke)]
