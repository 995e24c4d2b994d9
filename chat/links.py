"""Reopen links: how a reply e-mail brings its customer back to the chat.

The link carries a signed token naming one chat (``django.core.signing``, salted for this
use only, so no other signed value — an agent's socket ticket, say — passes for it), valid
for ``CHAT_EMAIL_LINK_MAX_AGE_HOURS``. It never carries the session key: the key is the
customer's secret and URLs leak (logs, history, Referer). The token rides in the URL's
fragment (``/#reopen=…``), which browsers never send to a server, so it is not in any
request log either; the page trades it for the chat with a POST (``/api/chat/reopen``) and
keeps the key as it keeps any chat's.
"""

from django.conf import settings
from django.core import signing

REOPEN_SALT = "chat.reopen-link"
MAX_TOKEN_LENGTH = 200


def reopen_token(session) -> str:
    return signing.dumps({"chat": session.pk}, salt=REOPEN_SALT)


def reopen_url(session) -> str:
    return f"{settings.CHAT_PUBLIC_URL}/#reopen={reopen_token(session)}"


def chat_id_from_token(token) -> int | None:
    """The chat a genuine, unexpired token names; None for anything else."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        data = signing.loads(token, salt=REOPEN_SALT, max_age=settings.CHAT_EMAIL_LINK_MAX_AGE_HOURS * 3600)
    except signing.BadSignature:  # SignatureExpired is one too
        return None
    chat = data.get("chat") if isinstance(data, dict) else None
    return chat if isinstance(chat, int) and not isinstance(chat, bool) else None
