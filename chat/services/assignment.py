"""Who answers a chat: claiming, transferring, auto-assignment, and agents' availability."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from chat import policy, selectors
from chat.exceptions import AgentUnavailable, AlreadyClaimed, SessionEnded
from chat.live import announce
from chat.live.events import publishing_batch
from chat.models import ChatMessage, ChatSession

from .common import add_system_message, clean_note, system_text

Status = ChatSession.Status


def pick_agent_for_new_chat():
    """The available agent (online, accepting, under the maximum) with the fewest active chats."""
    return selectors.available_agents().order_by("active_chats", "pk").first()


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
def session_transfer(*, session: ChatSession, agent, to_agent, note: str = "") -> ChatSession:
    """Hand an open chat to another agent, who must be available: online, allowed to reply,
    accepting chats and under their maximum (a chat handed to someone away would wait
    unseen). ``note``: an optional handover note, stored as an internal note of ``agent``
    (never shown to the customer) just before the transfer's line in the chat's story."""
    policy.require(agent, policy.TRANSFER)
    if not policy.can(to_agent, policy.REPLY):
        raise AgentUnavailable(_("This person cannot answer chats."))
    note = clean_note(note)
    if not selectors.is_available(to_agent):
        raise AgentUnavailable(
            _("%(agent)s is not available now (offline, paused or at their chat limit).")
            % {"agent": to_agent.public_name}
        )
    now = timezone.now()
    with transaction.atomic():
        current = ChatSession.objects.select_for_update().get(pk=session.pk)
        if current.status == Status.ENDED:
            raise SessionEnded()
        if current.assigned_agent_id == to_agent.pk:
            return current
        current.assigned_agent = to_agent
        current.status = Status.ACTIVE
        current.agent_read_message_id = 0
        current.save(update_fields=["assigned_agent", "status", "agent_read_message_id"])
        if note:
            handover = ChatMessage.objects.create(
                session=current,
                author=ChatMessage.Author.AGENT,
                agent=agent,
                content=note,
                created_at=now,
                is_internal=True,
            )
            announce.message(current, handover)
        add_system_message(
            current,
            system_text(gettext_noop("The chat was transferred to %(agent)s."), agent=to_agent.public_name),
            now,
        )
        announce.session(current)
        announce.queue()  # the queue, or two agents' loads (and so who is available), moved
    return current


@publishing_batch()
def user_set_accepting_chats(*, user, accepting: bool) -> bool:
    """Switch whether ``user`` takes new chats; True when the flag changed.

    Only accepting agents are available (chat/selectors/agents.py), so waiting customers are
    told when it moves.
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
