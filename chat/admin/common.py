"""What the admin screens share."""

from chat.exceptions import ChatError


def error_text(exc: ChatError) -> str:
    """A service error as one sentence (field errors joined), for message_user."""
    fields = getattr(exc, "fields", None) or {}
    details = [str(message) for errors in fields.values() for message in errors]
    return " ".join(details) if details else str(exc.message)
