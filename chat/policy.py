"""Who may do what."""

REPLY_PERMISSION = "chat.reply_chatsession"


def can_reply(user) -> bool:
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm(REPLY_PERMISSION)
    )
