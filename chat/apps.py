from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "chat"
    verbose_name = _("Chat")

    def ready(self):
        # accounts announces (after commit) that someone's access narrowed; accounts must not
        # import chat, so chat listens: their agent sockets check their access again at once.
        from django.db.models.signals import post_delete

        from accounts.services import user_access_changed

        from . import checks  # noqa: F401  (registers the settings checks)
        from .attachments.storage import files_of_deleted_attachment
        from .live.announce import access_changed
        from .models import ChatAttachment

        user_access_changed.connect(access_changed, dispatch_uid="chat.live.access_changed")
        # Deleting a chat (or a message) deletes its files from the storage, after commit.
        post_delete.connect(
            files_of_deleted_attachment, sender=ChatAttachment, dispatch_uid="chat.attachments.files"
        )

        # /metrics reads the queue and the jobs' last runs when Prometheus scrapes.
        from jtchat import prometheus

        from .instruments import ChatStateCollector

        if prometheus.enabled():
            prometheus.register_scrape_collector(ChatStateCollector())
