from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "chat"
    verbose_name = _("Chat")

    def ready(self):
        # accounts announces (after commit) that someone's access narrowed; accounts must not
        # import chat, so chat listens: their agent sockets check their access again at once.
        from accounts.services import user_access_changed

        from .live.announce import access_changed

        user_access_changed.connect(access_changed, dispatch_uid="chat.live.access_changed")
