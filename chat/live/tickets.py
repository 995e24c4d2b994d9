"""Short-lived signed tickets that let a signed-in agent open the agent socket on another host.

When the sockets are served from their own host (see README, "Serving"), the browser does
not send the admin's session cookie there, so the admin page fetches a ticket over the API
(same origin, session login) and sends it in the socket's first frame. A ticket names one
user, is signed with SECRET_KEY and expires after ``TICKET_MAX_AGE_SECONDS``.
"""

from django.contrib.auth import get_user_model
from django.core import signing

TICKET_SALT = "chat.agent-ticket"
TICKET_MAX_AGE_SECONDS = 60


def issue_agent_ticket(user) -> str:
    return signing.dumps({"user": user.pk}, salt=TICKET_SALT)


def agent_from_ticket(ticket) -> object | None:
    """The active staff user a valid, unexpired ticket names; None otherwise."""
    if not isinstance(ticket, str) or not ticket or len(ticket) > 500:
        return None
    try:
        data = signing.loads(ticket, salt=TICKET_SALT, max_age=TICKET_MAX_AGE_SECONDS)
    except signing.BadSignature:  # SignatureExpired is a BadSignature too
        return None
    user_pk = data.get("user") if isinstance(data, dict) else None
    if not isinstance(user_pk, int):
        return None
    return get_user_model().objects.filter(pk=user_pk, is_active=True, is_staff=True).first()
