"""Domain errors raised by chat services; chat.api.errors maps them to HTTP answers."""

from django.utils.translation import gettext_lazy as _


class ChatError(Exception):
    status_code = 400
    code = "chat_error"
    default_message = _("The request could not be processed.")

    def __init__(self, message=None):
        self.message = message or self.default_message
        super().__init__(str(self.message))


class InvalidInput(ChatError):
    code = "invalid"

    def __init__(self, message=None, *, fields: dict | None = None):
        super().__init__(message)
        self.fields = fields or {}


class SessionNotFound(ChatError):
    status_code = 404
    code = "session_not_found"
    default_message = _("Chat session not found.")


class SessionEnded(ChatError):
    status_code = 409
    code = "session_ended"
    default_message = _("This chat has already ended.")


class AlreadyRated(ChatError):
    status_code = 409
    code = "already_rated"
    default_message = _("This chat has already been rated.")


class AlreadyClaimed(ChatError):
    status_code = 409
    code = "already_claimed"
    default_message = _("Another agent has already taken this chat.")

    def __init__(self, message=None, *, agent_name: str = ""):
        if message is None and agent_name:
            message = _("%(agent)s has already taken this chat.") % {"agent": agent_name}
        super().__init__(message)
        self.agent_name = agent_name


class NotPermitted(ChatError):
    status_code = 403
    code = "not_permitted"
    default_message = _("You are not allowed to do this.")
