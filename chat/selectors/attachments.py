"""Reads of attachments: a message's files, and one file for whoever may open it."""

from chat import policy
from chat.exceptions import InvalidInput, SessionNotFound
from chat.models import ChatAttachment, ChatMessage

from .sessions import parse_session_key


def attachment_for_customer(session_key, pk: int) -> ChatAttachment:
    """File ``pk`` for the holder of ``session_key``: only a file of that chat, never one of an
    internal note. Anything else, a malformed key included, is SessionNotFound (404): the
    answer tells a stranger nothing about which files exist."""
    try:
        key = parse_session_key(session_key)
    except InvalidInput as exc:
        raise SessionNotFound() from exc
    found = (
        ChatAttachment.objects.filter(pk=pk, session__session_id=key, message__is_internal=False)
        .select_related("message")
        .first()
    )
    if found is None:
        raise SessionNotFound()
    return found


def attachment_for_staff(user, pk: int) -> ChatAttachment:
    """File ``pk`` for staff who may view chats (NotPermitted, 403, for staff who may not)."""
    policy.require(user, policy.VIEW_CHATS)
    found = ChatAttachment.objects.filter(pk=pk).select_related("message").first()
    if found is None:
        raise SessionNotFound()
    return found


def customer_file_count(session_pk: int) -> int:
    """Files the customer has sent in a chat (the per-chat quota counts these)."""
    return ChatAttachment.objects.filter(
        session_id=session_pk, message__author=ChatMessage.Author.CUSTOMER
    ).count()
