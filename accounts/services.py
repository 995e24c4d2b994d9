"""Writes to a person's own service-desk profile."""

from django.contrib.auth import get_user_model
from django.db import transaction

from chat.services import agent_availability_changed


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
            agent_availability_changed()
    return bool(changed)
