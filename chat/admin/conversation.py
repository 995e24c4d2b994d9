"""The conversation screen: the chat's change page — the agent's list of chats, the
transcript with the reply box, the chat's details and claim/transfer/end — and the POST
endpoints it uses, each calling one service and answering JSON to the page's script (or a
notice with ``message_user`` and a redirect without it)."""

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from audit import services as audit
from chat import payloads, policy, selectors, services
from chat.attachments.content import browser_accept
from chat.exceptions import ChatError, InvalidInput, SessionNotFound
from chat.models import ChatSession, EmailStatus
from jtchat.network import client_ip

from . import desk, details
from .common import error_text

Status = ChatSession.Status


class ConversationMixin:
    """The change-page side of ChatSessionAdmin (chat/admin/chats.py)."""

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self._conversation_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _conversation_context(self, request, session) -> dict:
        # Reading the page changes nothing: the page marks what it showed as read with a POST
        # (read_view) once the messages are on screen.
        lines = selectors.transcript(session=session)
        last_id = lines[-1].pk if lines else 0
        user = request.user
        can = {
            "reply": policy.can(user, policy.REPLY),
            "note": policy.can(user, policy.WRITE_NOTES),
            "claim": policy.can(user, policy.CLAIM),
            "transfer": policy.can(user, policy.TRANSFER),
            "end": policy.can(user, policy.END),
        }
        may_reply = can["reply"]
        is_open = session.status != Status.ENDED
        transfer_agents = []
        if can["transfer"] and is_open:
            # Only who can take it now: online, accepting and under their maximum.
            transfer_agents = selectors.transfer_targets(exclude_agent_id=session.assigned_agent_id)
        canned = (
            selectors.canned_responses()
            if may_reply and is_open and policy.can(user, policy.USE_CANNED)
            else []
        )
        urls = {
            name: reverse(f"admin:chat_chatsession_{name}", args=[session.pk])
            for name in ("reply", "claim", "transfer", "end", "read", "transcript")
        }
        shape = payloads.agent_session(session)
        counts = selectors.inbox_tab_counts(agent=user)
        worklist = selectors.worklist(agent=user)
        return {
            "title": str(session),
            "subtitle": None,
            "transcript": lines,
            "customer_label": session.customer_name or _("Customer"),
            "can": can,
            "is_open": is_open,
            "transfer_agents": transfer_agents,
            "email_after_minutes": settings.CHAT_EMAIL_AFTER_MINUTES,
            "reply_emails": [
                {
                    "status": email.status,
                    "retrying": email.status == EmailStatus.PENDING and email.attempts > 0,
                    "due_at": email.due_at,
                    "sent_at": email.sent_at,
                    "attempts": email.attempts,
                    "error": email.last_error,
                    "replies": email.reply_count,
                }
                for email in selectors.reply_emails(session)
                if email.status != EmailStatus.SKIPPED
            ],
            "canned": canned,
            "details": details.sections(session),
            "reply_client_id": uuid.uuid4(),
            "chat_urls": urls,
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete_link": False,
            "attachment_accept": browser_accept(),
            "attachment_max_bytes": settings.CHAT_ATTACHMENT_MAX_BYTES,
            "attachment_max_files": settings.CHAT_ATTACHMENT_MAX_PER_MESSAGE,
            **desk.desk_context(request, counts=counts),
            "worklist_data": {
                "mine": [payloads.inbox_row(chat) for chat in worklist["mine"]],
                "queue": [payloads.inbox_row(chat) for chat in worklist["queue"]],
                "queueLimit": selectors.WORKLIST_QUEUE_LIMIT,
                "strings": {
                    "mine": _("My chats"),
                    "queue": _("Waiting"),
                    "noMine": _("No open chats of yours."),
                    "noQueue": _("Nobody is waiting."),
                    "more": _("%(count)d more waiting: see the inbox."),
                    "agent": _("Agent"),
                    "unread": ngettext("%(count)d unread message", "%(count)d unread messages", 1),
                    "unreadMany": ngettext("%(count)d unread message", "%(count)d unread messages", 2),
                    "waiting": _("waiting %(time)s"),
                },
            },
            "conversation_config": {
                "sessionId": session.pk,
                "session": shape,
                "status": session.status,
                "assignedAgentId": session.assigned_agent_id,
                "lastMessageId": last_id,
                "readMessageId": session.agent_read_message_id,
                "canReply": may_reply,
                "canned": canned,
                "maxLength": settings.CHAT_MAX_MESSAGE_LENGTH,
                "title": str(session),
                "urls": {
                    **urls,
                    "messages": reverse("staff-session-messages", args=[session.pk]),
                    "attachments": reverse("staff-session-attachments", args=[session.pk]),
                },
                "strings": {
                    "customer": session.customer_name or _("Customer"),
                    "agent": _("Agent"),
                    "system": _("System"),
                    "note": _("Internal note"),
                    "typing": _("%(name)s is typing…"),
                    "sending": _("Sending…"),
                    "sendFailed": _("Not sent: %(reason)s"),
                    "actionFailed": _("Not done: %(reason)s"),
                    "ended": _("This chat has ended."),
                    "nowWith": _("Now with %(agent)s."),
                    "rating": _("%(rating)s of 5"),
                    "offline": _("Reconnecting…"),
                    "fileRemoved": _("File removed"),
                    "uploadCancelled": _("Sending the files was cancelled."),
                    "emailStatus": {
                        EmailStatus.PENDING: _("E-mail waiting: it goes if the customer does not come back."),
                        EmailStatus.SENT: _("E-mail sent to the customer just now."),
                        EmailStatus.FAILED: _("E-mail not sent: trying again later."),
                    },
                    "switchFailed": _("This chat could not be opened. Try again."),
                },
            },
        }

    # --- POST endpoints: each calls one service ----------------------------------------

    def get_urls(self):
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("accepting/", wrap(require_POST(self.accepting_view)), name=f"{info}_accepting"),
            path("<path:object_id>/reply/", wrap(require_POST(self.reply_view)), name=f"{info}_reply"),
            path("<path:object_id>/claim/", wrap(require_POST(self.claim_view)), name=f"{info}_claim"),
            path(
                "<path:object_id>/transfer/",
                wrap(require_POST(self.transfer_view)),
                name=f"{info}_transfer",
            ),
            path("<path:object_id>/end/", wrap(require_POST(self.end_view)), name=f"{info}_end"),
            path("<path:object_id>/read/", wrap(require_POST(self.read_view)), name=f"{info}_read"),
            path(
                "<path:object_id>/transcript.txt",
                wrap(require_GET(self.transcript_view)),
                name=f"{info}_transcript",
            ),
        ] + super().get_urls()

    def _session_pk_for_post(self, request, object_id, capability: policy.Capability) -> int:
        if not policy.can(request.user, capability):
            raise PermissionDenied
        pk = unquote(object_id)
        if not pk.isdigit():
            raise Http404
        return int(pk)

    def _session_for_post(self, request, object_id, capability: policy.Capability) -> ChatSession:
        pk = self._session_pk_for_post(request, object_id, capability)
        try:
            return selectors.chat_for_staff(request.user, pk, capability)
        except SessionNotFound as exc:
            raise Http404 from exc

    def _back_to(self, session_pk: int) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:chat_chatsession_change", args=[session_pk]))

    @staticmethod
    def _wants_json(request) -> bool:
        return request.headers.get("Accept", "").startswith("application/json")

    def reply_view(self, request, object_id):
        # The service finds and locks the chat itself (one query): no look-up here.
        is_internal = request.POST.get("is_internal") in {"1", "on", "true"}
        session_pk = self._session_pk_for_post(
            request, object_id, policy.WRITE_NOTES if is_internal else policy.REPLY
        )
        try:
            client_id = uuid.UUID(request.POST.get("client_id", ""))
        except ValueError:
            client_id = None
        try:
            result = services.agent_message_post(
                session_pk=session_pk,
                agent=request.user,
                content=request.POST.get("content", ""),
                client_id=client_id,
                is_internal=is_internal,
            )
        except SessionNotFound as exc:
            raise Http404 from exc
        except ChatError as exc:
            if self._wants_json(request):
                return JsonResponse({"error": error_text(exc), "code": exc.code}, status=exc.status_code)
            self.message_user(request, error_text(exc), messages.ERROR)
            return self._back_to(session_pk)
        if self._wants_json(request):
            return JsonResponse(
                {
                    "message": result.payload,
                    # The chat as the message left it (claimed, answered), from the service.
                    "session": payloads.agent_session(result.message.session),
                },
                status=201 if result.created else 200,
            )
        self.message_user(request, _("Note saved.") if is_internal else _("Reply sent."), messages.SUCCESS)
        return self._back_to(session_pk)

    def _answer(self, request, session_pk: int, *, done: str = "", changed=None, error=None):
        """An action's answer: JSON for the page's script (the chat as the action left it, or
        the error with its status), else a notice and back to the conversation."""
        if self._wants_json(request):
            if error is not None:
                return JsonResponse(
                    {"error": error_text(error), "code": error.code}, status=error.status_code
                )
            return JsonResponse({"session": payloads.agent_session(changed), "done": done})
        if error is not None:
            self.message_user(request, error_text(error), messages.ERROR)
        else:
            self.message_user(request, done, messages.SUCCESS)
        return self._back_to(session_pk)

    def claim_view(self, request, object_id):
        session = self._session_for_post(request, object_id, policy.CLAIM)
        try:
            changed = services.session_claim(session=session, agent=request.user)
        except ChatError as exc:
            return self._answer(request, session.pk, error=exc)
        return self._answer(request, session.pk, done=_("You took this chat."), changed=changed)

    def transfer_view(self, request, object_id):
        session = self._session_for_post(request, object_id, policy.TRANSFER)
        to_agent_id = request.POST.get("to_agent", "")
        to_agent = None
        if to_agent_id.isdigit() and len(to_agent_id) < 19:
            to_agent = selectors.reply_capable_agents().filter(pk=int(to_agent_id)).first()
        if to_agent is None:
            error = InvalidInput(fields={"to_agent": [_("Choose an agent who can answer chats.")]})
            return self._answer(request, session.pk, error=error)
        # The service refuses an agent who is no longer available (went offline, paused).
        try:
            changed = services.session_transfer(
                session=session, agent=request.user, to_agent=to_agent, note=request.POST.get("note", "")
            )
        except ChatError as exc:
            return self._answer(request, session.pk, error=exc)
        done = _("Chat transferred to %(agent)s.") % {"agent": to_agent.public_name}
        return self._answer(request, session.pk, done=done, changed=changed)

    def end_view(self, request, object_id):
        session = self._session_for_post(request, object_id, policy.END)
        try:
            changed = services.session_end(
                session=session, ended_by=ChatSession.EndedBy.AGENT, agent=request.user
            )
        except ChatError as exc:
            return self._answer(request, session.pk, error=exc)
        return self._answer(request, session.pk, done=_("Chat ended."), changed=changed)

    def read_view(self, request, object_id):
        session = self._session_for_post(request, object_id, policy.VIEW_CHATS)
        up_to = request.POST.get("up_to", "")
        if not up_to.isdigit():
            return JsonResponse({"error": _("Send up_to, a message id.")}, status=400)
        services.session_mark_read(session=session, agent=request.user, up_to_message_id=int(up_to))
        return HttpResponse(status=204)

    def transcript_view(self, request, object_id):
        """The whole chat as text, internal notes marked (written to the audit log)."""
        session = self._session_for_post(request, object_id, policy.VIEW_CHATS)
        audit.record(
            actor=request.user,
            action=audit.Action.TRANSCRIPT,
            target=f"chat #{session.pk}",
            ip=client_ip(request),
        )
        labels = {"customer": session.customer_name or _("Customer"), "system": _("System")}
        lines = [_("Chat #%(id)s") % {"id": session.pk}, ""]
        for message in selectors.transcript(session=session, limit=None):
            when = timezone.localtime(message.created_at).strftime("%Y-%m-%d %H:%M:%S")
            who = labels.get(message.author) or (message.agent.public_name if message.agent else _("Agent"))
            note = f" [{_('Internal note')}]" if message.is_internal else ""
            lines.append(f"[{when}] {who}{note}: {message.content}")
            for item in message.attachment_list:
                name = item.name or _("File removed")
                lines.append(
                    "    "
                    + _("File: %(name)s (%(size)s)") % {"name": name, "size": filesizeformat(item.size)}
                )
        response = HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="chat-{session.pk}.txt"'
        response["Cache-Control"] = "no-store"
        return response

    def accepting_view(self, request):
        if not policy.can(request.user, policy.REPLY):  # only who answers chats is available
            raise PermissionDenied
        accepting = request.POST.get("accepting") == "1"
        services.user_set_accepting_chats(user=request.user, accepting=accepting)
        if accepting:
            self.message_user(request, _("You are accepting new chats."), messages.SUCCESS)
        else:
            self.message_user(request, _("You will get no new chats until you resume."), messages.SUCCESS)
        target = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            target = reverse("admin:chat_chatsession_changelist")
        return HttpResponseRedirect(target)
