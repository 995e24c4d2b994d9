"""Groups for the service desk: Agentes work chats; Gestores also manage and read metrics."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

AGENT_PERMISSIONS = [
    ("chat", "view_chatsession"),
    ("chat", "change_chatsession"),
    ("chat", "reply_chatsession"),
    ("chat", "view_chatmessage"),
    ("chat", "view_cannedresponse"),
]
MANAGER_PERMISSIONS = AGENT_PERMISSIONS + [
    ("chat", "view_metrics"),
    ("chat", "view_chatanalytics"),
    ("chat", "add_cannedresponse"),
    ("chat", "change_cannedresponse"),
    ("chat", "delete_cannedresponse"),
    ("accounts", "view_user"),
    ("accounts", "add_user"),
    ("accounts", "change_user"),
    ("auth", "view_group"),
]
GROUPS = {"Agentes": AGENT_PERMISSIONS, "Gestores": MANAGER_PERMISSIONS}


def create_groups(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, wanted in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in wanted:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0001_initial"),
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
