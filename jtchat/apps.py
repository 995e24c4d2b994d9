from django.apps import AppConfig


class JTChatConfig(AppConfig):
    """The project's own start-up, once logging is set up: Sentry, when configured."""

    name = "jtchat"
    verbose_name = "JT Chat"

    def ready(self):
        from jtchat import sentry

        sentry.init()
