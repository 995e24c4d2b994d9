"""Who answers a chat: claiming, transferring, auto-assignment, and agents' availability."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from chat import policy, selectors
from chat.exceptions import AlreadyClaimed, InvalidInput, SessionEnded
from chat.live import announce
from chat.live.events import publishing_batch
from chat.models import ChatSession

from .common import add_system_message, system_text

Status = ChatSession.Status


def pick_agent_for_new_chat():
    """The accepting agent with the fewest active chats, below the per-agent maximum."""
    return (
        selectors.reply_capable_agents()
        .filter(accepting_chats=True, active_chats__lt=settings.CHAT_AGENT_MAX_ACTIVE_CHATS)
        .order_by("active_chats", "pk")
        .first()
    )


@publishing_batch()
def session_claim(*, session: ChatSession, agent) -> ChatSession:
    """Take a waiting chat. Exactly one of several agents claiming at once wins.

    The guard is the conditional UPDATE itself (status still waiting, no agent yet), so
    two concurrent claims cannot both succeed whatever the isolation level.
    """
    policy.require(agent, policy.CLAIM)
    now = timezone.now()
    with transaction.atomic():
        won = ChatSession.objects.filter(
            pk=session.pk, status=Status.WAITING, assigned_agent__isnull=True
        ).update(status=Status.ACTIVE, assigned_agent=agent)
        current = ChatSession.objects.select_related("assigned_agent").get(pk=session.pk)
        if not won:
            if current.status == Status.ENDED:
                raise SessionEnded()
            if current.assigned_agent_id == agent.pk:
                return current
            holder = current.assigned_agent.public_name if current.assigned_agent else ""
            raise AlreadyClaimed(agent_name=holder)
        joined = system_text(gettext_noop("%(agent)s joined the chat."), agent=agent.public_name)
        add_system_message(current, joined, now)
        announce.session(current)
        announce.queue()
    return current


@publishing_batch()
def session_transfer(*, session: ChatSession, agent, to_agent) -> ChatSession:
    """Hand an open chat to another agent (who must be allowed to reply)."""
    policy.require(agent, policy.TRANSFER)
    if not policy.can(to_agent, policy.REPLY):
        raise InvalidInput(fields={"to_agent": [_("This person cannot answer chats.")]})
    now = timezone.now()
    with transaction.atomic():
        current = ChatSession.objects.select_for_update().get(pk=session.pk)
        if current.status == Status.ENDED:
            raise SessionEnded()
        if current.assigned_agent_id == to_agent.pk:
            return current
        was_waiting = current.status == Status.WAITING
        current.assigned_agent = to_agent
        current.status = Status.ACTIVE
        current.agent_read_message_id = 0
        current.save(update_fields=["assigned_agent", "status", "agent_read_message_id"])
        add_system_message(
            current,
            system_text(gettext_noop("The chat was transferred to %(agent)s."), agent=to_agent.public_name),
            now,
        )
        announce.session(current)
        if was_waiting:
            announce.queue()
    return current


@publishing_batch()
def user_set_accepting_chats(*, user, accepting: bool) -> bool:
    """Switch whether ``user`` takes new chats; True when the flag changed.

    The queue's "agents available" figure counts accepting agents, so waiting customers
    are told when it moves.
    """
    with transaction.atomic():
        changed = (
            get_user_model()
            .objects.filter(pk=user.pk)
            .exclude(accepting_chats=accepting)
            .update(accepting_chats=accepting)
        )
        user.accepting_chats = accepting
        if changed:
            announce.queue()
    return bool(changed)
