"""What several services share: cleaning input, and the system lines a chat's story records."""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from chat import instruments
from chat.exceptions import InvalidInput
from chat.live import announce
from chat.models import ChatMessage, ChatSession

MAX_COMMENT_LENGTH = 1000


def clean_content(content, *, allow_empty: bool = False) -> str:
    """A message's text; ``allow_empty`` for a message that carries files (a caption)."""
    if content is None and allow_empty:
        content = ""
    if not isinstance(content, str):
        raise InvalidInput(fields={"content": [_("Must be text.")]})
    text = content.strip()
    if not text and not allow_empty:
        raise InvalidInput(fields={"content": [_("The message is empty.")]})
    if len(text) > settings.CHAT_MAX_MESSAGE_LENGTH:
        raise InvalidInput(
            fields={
                "content": [
                    _("The message is too long (at most %(max)d characters).")
                    % {"max": settings.CHAT_MAX_MESSAGE_LENGTH}
                ]
            }
        )
    return text


def clean_note(note) -> str:
    """An optional note (a transfer's handover): empty is fine, else like a message."""
    if note is None or (isinstance(note, str) and not note.strip()):
        return ""
    try:
        return clean_content(note)
    except InvalidInput as exc:
        raise InvalidInput(fields={"note": exc.fields["content"]}) from exc


def clean_rating(rating) -> int:
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidInput(fields={"rating": [_("The rating must be a whole number from 1 to 5.")]})
    return rating


def clean_comment(comment) -> str:
    if comment is None:
        return ""
    if not isinstance(comment, str):
        raise InvalidInput(fields={"comment": [_("Must be text.")]})
    comment = comment.strip()
    if len(comment) > MAX_COMMENT_LENGTH:
        raise InvalidInput(
            fields={"comment": [_("At most %(max)d characters.") % {"max": MAX_COMMENT_LENGTH}]}
        )
    return comment


def system_text(message: str, **params) -> str:
    """System messages are stored in the product's language, whatever the request's."""
    with translation.override(settings.LANGUAGE_CODE):
        return _(message) % params if params else _(message)


def add_system_message(session: ChatSession, text: str, now) -> ChatMessage:
    """A line of the chat's story (joined, transferred, ended), shown to both sides."""
    message = ChatMessage.objects.create(
        session=session, author=ChatMessage.Author.SYSTEM, content=text, created_at=now
    )
    message.attachment_list = []
    instruments.message_stored(ChatMessage.Author.SYSTEM)
    announce.message(session, message)
    return message
