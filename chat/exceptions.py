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


class AgentNotFound(ChatError):
    status_code = 404
    code = "agent_not_found"
    default_message = _("Agent not found.")


class AgentUnavailable(ChatError):
    """The agent named cannot take a chat now (away, paused, at their limit, or not one who
    answers chats): a conflict with that person's state, not a malformed request."""

    status_code = 409
    code = "agent_unavailable"
    default_message = _("This agent cannot take the chat now.")


class NotPermitted(ChatError):
    status_code = 403
    code = "not_permitted"
    default_message = _("You are not allowed to do this.")


# --- attachments ------------------------------------------------------------------------


class FileError(ChatError):
    """A sent file was refused; ``fields`` names it, so the sender knows which one."""

    def __init__(self, message=None, *, name: str = ""):
        super().__init__(message)
        self.fields = {"files": [str(self.message)]}
        self.name = name


class FileTooLarge(FileError):
    status_code = 413
    code = "file_too_large"
    default_message = _("The file is too large.")


class UnsupportedFile(FileError):
    status_code = 415
    code = "unsupported_file"
    default_message = _("This type of file is not accepted.")


class InvalidFile(FileError):
    code = "invalid_file"
    default_message = _("The file could not be read.")


class TooManyPixels(FileError):
    code = "too_many_pixels"
    default_message = _("The image has too many pixels.")


class TooManyFiles(FileError):
    code = "too_many_files"
    default_message = _("Too many files.")


class FileQuotaReached(FileError):
    code = "file_quota"
    default_message = _("This chat cannot take more files.")


# --- reply e-mails --------------------------------------------------------------------


class LinkInvalid(ChatError):
    """A reopen link that is forged, expired or names no chat: all answered alike, as a
    link that leads nowhere."""

    status_code = 404
    code = "link_invalid"
    default_message = _("This link is no longer valid. You can start a new chat.")
