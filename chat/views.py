"""The customer chat page."""

from django.conf import settings
from django.utils.decorators import method_decorator
from django.utils.functional import lazy
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.generic import TemplateView

from . import selectors
from .attachments.content import accepted_formats_text, browser_accept
from .models import Issue
from .services import MAX_COMMENT_LENGTH

# Every string the page's script shows, translated here and handed over in a json_script
# block (the page runs no inline script). Placeholders are %(name)s, filled in by the page's
# modules (static/chat/customer/, with lib/format.js).
UI_STRINGS = {
    "you": _("You"),
    "agent": _("Agent"),
    "system": _("J&T Express"),
    "sending": _("Sending…"),
    "sent": _("Sent"),
    "retrying": _("No connection. Trying again…"),
    "throttled": _("You are sending messages too fast. Wait %(seconds)s s."),
    "send_failed": _("Not sent: %(reason)s"),
    "send_failed_ended": _("Not sent: this chat has already ended."),
    "greeting": _("Hello! Thanks for contacting J&T Express."),
    "greeting_named": _("Hello, %(name)s! Thanks for contacting J&T Express."),
    "queue_position": _("You are number %(position)s in line."),
    "queue_next": _("You are next in line."),
    "wait_under_minute": _("Estimated wait: less than a minute."),
    "wait_minutes_one": _("Estimated wait: about 1 minute."),
    "wait_minutes_other": _("Estimated wait: about %(minutes)s minutes."),
    "no_agents": _(
        "Our agents are all offline right now. Leave your message and we will answer as soon "
        "as someone is back."
    ),
    "all_busy": _("All our agents are busy with other customers."),
    "closed_until": _("We are outside business hours. We are back %(when)s."),
    "closed": _("We are outside business hours. Leave your message and we will answer when we are back."),
    "today_at": _("today at %(time)s"),
    "tomorrow_at": _("tomorrow at %(time)s"),
    "day_at": _("on %(day)s at %(time)s"),
    "email_saved": _("Done: if you leave this page, the answer goes to %(email)s."),
    "closed_on": _("Closed on %(day)s (%(name)s)."),
    "link_invalid": _("This link is no longer valid. You can start a new chat."),
    "waiting_hint": _("You can already describe what you need while you wait."),
    "agent_helping": _("%(agent)s is helping you."),
    "chat_ended": _("This chat has ended."),
    "confirm_end": _("End this chat? You will not be able to send more messages in it."),
    "agent_typing": _("%(agent)s is typing…"),
    "someone_typing": _("The agent is typing…"),
    "status_waiting": _("Waiting for an agent"),
    "status_active": _("In a chat with %(agent)s"),
    "status_ended": _("Chat ended"),
    "connection_reconnecting": _("Reconnecting…"),
    "connection_offline": _("No connection. Reconnecting…"),
    "network_error": _("Could not reach J&T Express. Check your connection and try again."),
    "too_many_requests": _("Too many attempts. Please wait a moment and try again."),
    "generic_error": _("Something went wrong. Please try again."),
    "session_lost": _("This chat is no longer available. You can start a new one."),
    "rating_required": _("Choose from 1 to 5 stars."),
    "transcript_title": _("J&T Express — customer service chat"),
    "transcript_started": _("Started: %(date)s"),
    "transcript_ended": _("Ended: %(date)s"),
    "transcript_agent": _("Agent: %(agent)s"),
    "transcript_tracking": _("Tracking code: %(code)s"),
    "transcript_filename": _("jt-express-chat"),
    "new_messages_title": _("(%(count)s) New message — J&T Express"),
    "characters_left": _("%(count)s characters left"),
    "too_many_files": _("At most %(max)s files per message."),
    "file_type": _("“%(name)s” cannot be sent: send %(formats)s."),
    "accepted_formats": lazy(accepted_formats_text, str)(),
    "file_too_large": _("“%(name)s” is too large: each file may have at most %(max)s."),
    "remove_file": _("Remove %(name)s"),
    "uploading": _("Sending the files"),
    "cancel_upload": _("Cancel"),
    "upload_cancelled": _("Not sent."),
    "retry_upload": _("Try again"),
    "remove_message": _("Remove"),
    "photo_label": _("Photo %(name)s, %(size)s: open"),
    "document_label": _("Document %(name)s, %(size)s: download"),
    "file_removed": _("File removed"),
    "transcript_file": _("File: %(name)s (%(size)s)"),
}


def html_language_tag(language: str) -> str:
    """Django's ``pt-br`` as the BCP 47 tag browsers and screen readers expect: ``pt-BR``."""
    base, _sep, region = language.partition("-")
    return f"{base}-{region.upper()}" if region else base


@method_decorator(ensure_csrf_cookie, name="dispatch")
class ChatPageView(TemplateView):
    """The customer chat page. Everything dynamic is done by static/chat/customer/main.js."""

    template_name = "chat/index.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["topics"] = Issue.choices
        context["websocket_url"] = settings.CHAT_WEBSOCKET_URL
        context["max_length"] = settings.CHAT_MAX_MESSAGE_LENGTH
        context["comment_max_length"] = MAX_COMMENT_LENGTH
        context["language_tag"] = html_language_tag(get_language() or settings.LANGUAGE_CODE)
        context["ui_strings"] = {key: str(text) for key, text in UI_STRINGS.items()}
        context["privacy_url"] = settings.CHAT_PRIVACY_URL
        context["attachment_max_bytes"] = settings.CHAT_ATTACHMENT_MAX_BYTES
        context["attachment_max_files"] = settings.CHAT_ATTACHMENT_MAX_PER_MESSAGE
        context["attachment_accept"] = browser_accept()
        context["time_zone"] = settings.TIME_ZONE
        # The week's hours come from a setting; whether anyone is online now and the coming
        # holidays are read by the page (GET /api/chat/queue): the page asks nothing of the
        # database, so that serving it stays as cheap as serving a file.
        context["weekly_hours"] = selectors.weekly_hours()
        return context
