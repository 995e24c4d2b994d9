"""A chat's life: opening, ending, rating, read marks, and closing idle chats."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from chat import instruments, policy, selectors
from chat.exceptions import AlreadyClaimed, AlreadyRated, InvalidInput, SessionEnded
from chat.live import announce
from chat.live.events import publishing_batch
from chat.models import ChatMessage, ChatSession, Issue

from .assignment import pick_agent_for_new_chat, session_claim
from .common import add_system_message, clean_comment, clean_rating, system_text

Status = ChatSession.Status
EndedBy = ChatSession.EndedBy


@publishing_batch()
def session_open(
    *,
    customer_name: str = "",
    customer_email: str = "",
    tracking_code: str = "",
    topic: str = "",
    user_ip: str | None = None,
    user_agent: str = "",
) -> ChatSession:
    """Open a chat. It waits in the queue unless auto-assignment finds an available agent.

    It opens whatever the service's state; it records whether nobody was available and
    whether it was outside business hours (the inbox marks it, the metrics count it)."""
    errors = {}
    customer_name = (customer_name or "").strip()
    customer_email = (customer_email or "").strip()
    tracking_code = (tracking_code or "").strip().upper()
    if len(customer_name) > 120:
        errors["customer_name"] = [_("At most 120 characters.")]
    if customer_email:
        try:
            validate_email(customer_email)
        except ValidationError:
            errors["customer_email"] = [_("Enter a valid e-mail address.")]
    if len(tracking_code) > 40:
        errors["tracking_code"] = [_("At most 40 characters.")]
    if topic and topic not in Issue.values:
        errors["topic"] = [_("Unknown topic.")]
    if errors:
        raise InvalidInput(fields=errors)

    service = selectors.service_status()
    with transaction.atomic():
        session = ChatSession.objects.create(
            opened_without_agents=service["service"] != selectors.AVAILABLE,
            opened_outside_hours=service["outside_hours"],
            customer_name=customer_name,
            customer_email=customer_email,
            tracking_code=tracking_code,
            topic=topic or "",
            issue=topic if topic and topic != Issue.OTHER else "",
            user_ip=user_ip or None,
            user_agent=(user_agent or "")[:512],
        )
        instruments.chat_opened()
        announce.new_session(session)
        announce.queue()
        if settings.CHAT_AUTO_ASSIGN and service["service"] == selectors.AVAILABLE:
            agent = pick_agent_for_new_chat()
            if agent is not None:
                try:
                    session = session_claim(session=session, agent=agent)
                except AlreadyClaimed:
                    pass
    return session


@publishing_batch()
def session_end(
    *,
    session: ChatSession,
    ended_by: str,
    agent=None,
    rating: int | None = None,
    comment: str = "",
) -> ChatSession:
    """End a chat (idempotent: ending an ended chat changes nothing but may rate it)."""
    if ended_by not in EndedBy.values:
        raise InvalidInput(fields={"ended_by": [_("Unknown value.")]})
    if ended_by == EndedBy.AGENT:
        policy.require(agent, policy.END)
    if rating is not None:
        rating = clean_rating(rating)
    comment = clean_comment(comment)
    now = timezone.now()
    with transaction.atomic():
        current = (
            ChatSession.objects.select_for_update(of=("self",))
            .select_related("assigned_agent")
            .get(pk=session.pk)
        )
        if current.status == Status.ENDED:
            if rating is not None:
                return _rate_locked(current, rating, comment)
            return current
        current.status = Status.ENDED
        current.ended_at = now
        current.ended_by = ended_by
        current.waiting_since = None
        fields = ["status", "ended_at", "ended_by", "waiting_since"]
        if rating is not None:
            current.satisfaction_rating = rating
            current.satisfaction_comment = comment
            fields += ["satisfaction_rating", "satisfaction_comment"]
        current.save(update_fields=fields)
        instruments.chat_ended(ended_by)
        if ended_by == EndedBy.CUSTOMER:
            text = system_text(gettext_noop("The customer ended the chat."))
        elif ended_by == EndedBy.AGENT:
            text = system_text(gettext_noop("%(agent)s ended the chat."), agent=agent.public_name)
        else:
            text = system_text(gettext_noop("The chat was closed for inactivity."))
        add_system_message(current, text, now)
        announce.session(current)
        announce.queue()  # the queue moved, or the agent has room for one more chat
    return current


@publishing_batch()
def session_rate(*, session: ChatSession, rating: int, comment: str = "") -> ChatSession:
    """Rate an ended chat 1–5. Rating again with the same value is a harmless retry."""
    rating = clean_rating(rating)
    comment = clean_comment(comment)
    with transaction.atomic():
        current = ChatSession.objects.select_for_update().get(pk=session.pk)
        if current.status != Status.ENDED:
            raise InvalidInput(fields={"rating": [_("Only an ended chat can be rated.")]})
        return _rate_locked(current, rating, comment)


def _rate_locked(current: ChatSession, rating: int, comment: str) -> ChatSession:
    if current.satisfaction_rating is not None:
        if current.satisfaction_rating == rating:
            return current
        raise AlreadyRated()
    current.satisfaction_rating = rating
    current.satisfaction_comment = comment
    current.save(update_fields=["satisfaction_rating", "satisfaction_comment"])
    announce.session(current, change=False)
    return current


@publishing_batch()
def session_mark_read(*, session: ChatSession, agent, up_to_message_id: int) -> None:
    """Record that the assigned agent has seen the transcript up to a message id; their
    other pages hear the chat's unread count (chat/live/announce.py ``read``)."""
    if session.assigned_agent_id != getattr(agent, "pk", None):
        return
    # Never past the chat's last message: a mark ahead of it would hide the next ones.
    last_seen = (
        ChatMessage.objects.filter(session_id=session.pk, id__lte=up_to_message_id)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    if last_seen is None:
        return
    with transaction.atomic():
        moved = ChatSession.objects.filter(
            pk=session.pk, assigned_agent=agent, agent_read_message_id__lt=last_seen
        ).update(agent_read_message_id=last_seen)
        if moved:
            unread = ChatMessage.objects.filter(
                session_id=session.pk, author=ChatMessage.Author.CUSTOMER, id__gt=last_seen
            ).count()
            announce.read(session, agent, unread)


def close_idle_sessions(*, minutes: int) -> int:
    """End open chats with no message for ``minutes``; returns how many were closed."""
    if minutes < 1:
        raise InvalidInput(fields={"minutes": [_("Must be at least 1.")]})
    older_than = timezone.now() - timedelta(minutes=minutes)
    still_idle = Q(status__in=[Status.WAITING, Status.ACTIVE]) & (
        Q(last_message_at__lt=older_than) | Q(last_message_at__isnull=True, started_at__lt=older_than)
    )
    closed = 0
    for session_id in selectors.idle_session_ids(older_than=older_than):
        # One chat at a time: its customer hears of the end as soon as it is committed.
        with publishing_batch(), transaction.atomic():
            # Lock, then look again: the customer may have written since the ids were read.
            session = ChatSession.objects.select_for_update().filter(still_idle, pk=session_id).first()
            if session is None:
                continue
            session_end(session=session, ended_by=EndedBy.SYSTEM)
            closed += 1
    return closed


def session_customer_seen(*, session_pk: int) -> None:
    """The customer's socket opened or closed: replies after this reach them by e-mail if
    they stay away (chat/services/emails.py)."""
    ChatSession.objects.filter(pk=session_pk).update(customer_seen_at=timezone.now())


@publishing_batch()
def session_set_customer_email(*, session: ChatSession, customer_email: str) -> ChatSession:
    """The customer gives (or corrects) the e-mail address their answer may be sent to."""
    email = (customer_email or "").strip() if isinstance(customer_email, str) else None
    try:
        if not email:
            raise ValidationError("empty")
        validate_email(email)
    except ValidationError as exc:
        raise InvalidInput(fields={"customer_email": [_("Enter a valid e-mail address.")]}) from exc
    with transaction.atomic():
        current = (
            ChatSession.objects.select_for_update(of=("self",))
            .select_related("assigned_agent")
            .get(pk=session.pk)
        )
        if current.status == Status.ENDED:
            raise SessionEnded()
        if current.customer_email != email:
            current.customer_email = email
            current.save(update_fields=["customer_email"])
            announce.inbox_activity(current)
    return current


@publishing_batch()
def session_reopen(*, session: ChatSession) -> ChatSession:
    """The customer came back through a reply e-mail's link (chat/services/emails.py).

    A chat the system closed for inactivity (they were away, waiting for the answer) opens
    again: with its agent if they are available, else back in the queue. A chat that the
    customer or an agent ended stays ended; the page shows it.
    """
    now = timezone.now()
    with transaction.atomic():
        current = ChatSession.objects.select_for_update().get(pk=session.pk)
        if current.status != Status.ENDED or current.ended_by != EndedBy.SYSTEM:
            return ChatSession.objects.select_related("assigned_agent").get(pk=current.pk)
        agent = current.assigned_agent
        keep_agent = agent is not None and selectors.is_available(agent)
        current.status = Status.ACTIVE if keep_agent else Status.WAITING
        current.assigned_agent = agent if keep_agent else None
        current.ended_at = None
        current.ended_by = ""
        current.last_message_at = now  # or the idle sweep would close it again at once
        current.save(update_fields=["status", "assigned_agent", "ended_at", "ended_by", "last_message_at"])
        add_system_message(
            current, system_text(gettext_noop("The customer came back through the e-mail link.")), now
        )
        if keep_agent:
            announce.session(current)
        else:
            announce.new_session(current)
            announce.session(current)
            announce.queue()
    return current
