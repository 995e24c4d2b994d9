"""The agents' back office in the Django admin.

The chat changelist is the inbox and its change page is the conversation. Every column is
an annotation made once in :func:`chat.selectors.inbox_sessions`, so the inbox costs the
same number of queries for 5 rows or 500. Every write (claim, transfer, end, reply, mark
read, availability) is a POST to a URL added in ``get_urls()`` that calls one service and
reports the outcome with ``message_user``.
"""

import uuid

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy
from django.views.decorators.http import require_POST

from accounts.services import user_set_accepting_chats

from . import (
    admin_metrics,  # noqa: F401  (managers' metrics screen registers itself)
    selectors,
    services,
)
from .exceptions import ChatError, SessionNotFound
from .models import CannedResponse, ChatMessage, ChatSession, Issue
from .serializers import agent_session_payload

Status = ChatSession.Status
LAST_MESSAGE_CHARS = 90
# Choice labels by value, built once: Model.get_FOO_display() rebuilds (and hashes) the
# whole choice list on every call, which costs the inbox a few milliseconds per page.
TOPIC_LABELS = dict(Issue.choices)
STATUS_LABELS = dict(Status.choices)


def short_duration(seconds: float) -> str:
    """A waiting time as an agent reads it at a glance: "4 min", "1 h 05 min", "2 days"."""
    minutes = int(max(seconds, 0) // 60)
    if minutes < 1:
        return _("under 1 min")
    if minutes < 60:
        return _("%(minutes)d min") % {"minutes": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return _("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": minutes}
    days = hours // 24
    return ngettext("%(days)d day", "%(days)d days", days) % {"days": days}


def error_text(exc: ChatError) -> str:
    """A service error as one sentence (field errors joined), for message_user."""
    fields = getattr(exc, "fields", None) or {}
    details = [str(message) for errors in fields.values() for message in errors]
    return " ".join(details) if details else str(exc.message)


class InboxTabFilter(admin.SimpleListFilter):
    """The inbox tabs. Rendered above the list (not in the side panel), with counts."""

    title = gettext_lazy("inbox")
    parameter_name = "tab"
    template = "admin/chat/chatsession/inbox_tabs.html"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.counts = selectors.inbox_tab_counts(agent=request.user)

    def lookups(self, request, model_admin):
        return [
            ("waiting", gettext_lazy("Waiting")),
            ("mine", gettext_lazy("Mine")),
            ("active", gettext_lazy("Active")),
            # A tab of many chats ("Encerradas"), where the status label is one chat's.
            ("ended", pgettext_lazy("inbox tab", "Ended")),
        ]

    def choices(self, changelist):
        values = [""] + [value for value, _label in self.lookup_choices]
        for value, choice in zip(values, super().choices(changelist), strict=True):
            yield {**choice, "value": value or "all", "count": self.counts.get(value)}

    def queryset(self, request, queryset):
        return selectors.inbox_filter(queryset, tab=self.value() or "", agent=request.user)


class StartedFilter(admin.DateFieldListFilter):
    """The date filter on started_at, titled so that "By start date" reads well."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.title = gettext_lazy("start date")


@admin.register(ChatSession)
class ChatSessionAdmin(admin.ModelAdmin):
    list_display = (
        "customer_column",
        "topic_column",
        "last_message_column",
        "waiting_column",
        "agent_column",
        "unread_column",
    )
    list_display_links = ("customer_column",)
    list_filter = (InboxTabFilter, ("started_at", StartedFilter))
    list_select_related = ("assigned_agent",)
    list_per_page = 50
    list_max_show_all = 200
    # The paginator's one COUNT of the filtered rows is enough; no second COUNT of the table.
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    sortable_by = ()
    search_fields = ("customer_name", "customer_email", "tracking_code")
    search_help_text = gettext_lazy(
        "Name, e-mail, tracking code, chat number or words from the conversation."
    )
    actions = ("claim_selected", "end_selected")
    fieldsets = (
        (
            gettext_lazy("Customer"),
            {"fields": ("customer_name", "customer_email", "tracking_code", "topic", "issue")},
        ),
        (
            gettext_lazy("Chat"),
            {
                "fields": (
                    "status",
                    "agent_name",
                    "started_at",
                    "first_response_at",
                    "waiting_since",
                    "ended_at",
                    "ended_by",
                )
            },
        ),
        (gettext_lazy("Rating"), {"fields": ("satisfaction_rating", "satisfaction_comment")}),
        (
            gettext_lazy("Device"),
            {"fields": ("user_ip", "user_agent"), "classes": ("collapse",)},
        ),
    )
    readonly_fields = tuple(field for _name, options in fieldsets for field in options["fields"])

    # --- permissions: chats are read here and changed only through the services -----

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_reply_permission(self, request):
        return services.can_reply(request.user)

    # --- the inbox -------------------------------------------------------------------

    def get_queryset(self, request):
        # Ordered by get_ordering(), which the changelist applies.
        return selectors.inbox_sessions(agent=request.user).order_by()

    def get_ordering(self, request):
        return selectors.INBOX_ORDERING

    def get_search_results(self, request, queryset, search_term):
        return selectors.inbox_search(queryset, search_term), False

    def changelist_view(self, request, extra_context=None):
        context = {
            "title": _("Inbox"),
            "inbox_config": {
                "slaSeconds": settings.CHAT_SLA_FIRST_RESPONSE_SECONDS,
                "accepting": bool(request.user.accepting_chats),
                "changeUrl": reverse("admin:chat_chatsession_change", args=[0]),
                "strings": {
                    "newChat": _("New chat"),
                    "newChatFrom": _("%(customer)s is waiting"),
                    "customer": _("Customer"),
                    "live": _("Live"),
                    "offline": _("Reconnecting…"),
                    "underOneMinute": _("under 1 min"),
                    "minutes": _("%(minutes)d min"),
                    "hours": _("%(hours)d h %(minutes)02d min"),
                    # the catalog's plural entry, in its one-day and many-days forms
                    "day": ngettext("%(days)d day", "%(days)d days", 1),
                    "days": ngettext("%(days)d day", "%(days)d days", 2),
                    "staleList": _("The list changed. Clear your selection to update it."),
                },
            },
            "accepting_url": reverse("admin:chat_chatsession_accepting"),
            "websocket_url": settings.CHAT_WEBSOCKET_URL,
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=context)

    @admin.display(description=gettext_lazy("Customer"))
    def customer_column(self, session):
        name = session.customer_name or _("Customer #%(id)s") % {"id": session.pk}
        return format_html(
            '<span class="inbox-name">{}</span><span class="inbox-sub">{}</span>',
            name,
            session.customer_email or f"#{session.pk}",
        )

    @admin.display(description=gettext_lazy("Topic"))
    def topic_column(self, session):
        topic = TOPIC_LABELS.get(session.topic) or TOPIC_LABELS.get(session.issue) or "—"
        if not session.tracking_code:
            return topic
        return format_html('{}<span class="inbox-sub inbox-code">{}</span>', topic, session.tracking_code)

    @admin.display(description=gettext_lazy("Last message"), empty_value="")
    def last_message_column(self, session):
        if not session.last_message_preview:
            return ""
        text = Truncator(" ".join(session.last_message_preview.split())).chars(LAST_MESSAGE_CHARS)
        who = _("Agent") if session.last_message_author == ChatMessage.Author.AGENT else _("Customer")
        return format_html('<span class="inbox-sub inbox-who">{}</span>{}', who, text)

    @admin.display(description=gettext_lazy("Waiting for"), empty_value="")
    def waiting_column(self, session):
        since = session.waiting_since_for_inbox
        if since is None:
            return ""
        seconds = (timezone.now() - since).total_seconds()
        late = seconds > settings.CHAT_SLA_FIRST_RESPONSE_SECONDS
        return format_html(
            '<time class="inbox-wait{}" datetime="{}" data-since="{}">{}</time>',
            " inbox-late" if late else "",
            since.isoformat(),
            since.isoformat(),
            short_duration(seconds),
        )

    @admin.display(description=gettext_lazy("Agent"))
    def agent_column(self, session):
        return format_html(
            '<span class="inbox-agent">{}</span>'
            '<span class="chat-status chat-status-{}" data-status="{}">{}</span>',
            session.assigned_agent.public_name if session.assigned_agent_id else "—",
            session.status,
            session.status,
            STATUS_LABELS.get(session.status, session.status),
        )

    @admin.display(description=gettext_lazy("Unread"), empty_value="")
    def unread_column(self, session):
        if not session.unread_count:
            return ""
        label = ngettext("%(count)d unread message", "%(count)d unread messages", session.unread_count)
        return format_html(
            '<span class="inbox-unread" title="{}">{}</span>',
            label % {"count": session.unread_count},
            session.unread_count,
        )

    @admin.display(description=gettext_lazy("agent"))
    def agent_name(self, session):
        return session.assigned_agent.public_name if session.assigned_agent_id else "—"

    # --- actions on the inbox ------------------------------------------------------

    @admin.action(description=gettext_lazy("Take the selected chats"), permissions=["reply"])
    def claim_selected(self, request, queryset):
        taken = 0
        for session in queryset.order_by("id"):
            try:
                services.session_claim(session=session, agent=request.user)
                taken += 1
            except ChatError as exc:
                self._report_for(request, session, exc)
        if taken:
            self.message_user(
                request,
                ngettext("You took %(count)d chat.", "You took %(count)d chats.", taken) % {"count": taken},
                messages.SUCCESS,
            )

    @admin.action(description=gettext_lazy("End the selected chats"), permissions=["reply"])
    def end_selected(self, request, queryset):
        ended = 0
        for session in queryset.exclude(status=Status.ENDED).order_by("id"):
            try:
                services.session_end(session=session, ended_by=ChatSession.EndedBy.AGENT, agent=request.user)
                ended += 1
            except ChatError as exc:
                self._report_for(request, session, exc)
        self.message_user(
            request,
            ngettext("%(count)d chat ended.", "%(count)d chats ended.", ended) % {"count": ended},
            messages.SUCCESS if ended else messages.WARNING,
        )

    def _report_for(self, request, session, exc: ChatError):
        self.message_user(
            request,
            _("Chat #%(id)s: %(error)s") % {"id": session.pk, "error": error_text(exc)},
            messages.ERROR,
        )

    # --- the conversation page -------------------------------------------------------

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self._conversation_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _conversation_context(self, request, session) -> dict:
        lines = selectors.transcript(session=session)
        last_id = lines[-1].pk if lines else 0
        if request.method == "GET" and last_id:
            services.session_mark_read(session=session, agent=request.user, up_to_message_id=last_id)
        can_reply = services.can_reply(request.user)
        is_open = session.status != Status.ENDED
        transfer_agents = []
        if can_reply and is_open:
            transfer_agents = [
                agent for agent in selectors.reply_capable_agents() if agent.pk != session.assigned_agent_id
            ]
        canned = selectors.canned_responses() if can_reply and is_open else []
        urls = {
            name: reverse(f"admin:chat_chatsession_{name}", args=[session.pk])
            for name in ("reply", "claim", "transfer", "end", "read")
        }
        return {
            "title": str(session),
            "subtitle": None,
            "transcript": lines,
            "customer_label": session.customer_name or _("Customer"),
            "can_reply": can_reply,
            "is_open": is_open,
            "transfer_agents": transfer_agents,
            "canned": canned,
            "reply_client_id": uuid.uuid4(),
            "chat_urls": urls,
            "websocket_url": settings.CHAT_WEBSOCKET_URL,
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete_link": False,
            "conversation_config": {
                "sessionId": session.pk,
                "status": session.status,
                "assignedAgentId": session.assigned_agent_id,
                "userId": request.user.pk,
                "lastMessageId": last_id,
                "canReply": can_reply,
                "canned": canned,
                "maxLength": settings.CHAT_MAX_MESSAGE_LENGTH,
                "urls": {
                    **urls,
                    "messages": reverse("staff-session-messages", args=[session.pk]),
                },
                "strings": {
                    "customer": session.customer_name or _("Customer"),
                    "agent": _("Agent"),
                    "system": _("System"),
                    "note": _("Internal note"),
                    "typing": _("%(name)s is typing…"),
                    "sending": _("Sending…"),
                    "sendFailed": _("Not sent: %(reason)s"),
                    "ended": _("This chat has ended."),
                    "nowWith": _("Now with %(agent)s."),
                    "statuses": {value: str(label) for value, label in Status.choices},
                    "live": _("Live"),
                    "offline": _("Reconnecting…"),
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
        ] + super().get_urls()

    def _session_pk_for_post(self, request, object_id, *, reply: bool = True) -> int:
        if not self.has_view_permission(request) or (reply and not self.has_reply_permission(request)):
            raise PermissionDenied
        pk = unquote(object_id)
        if not pk.isdigit():
            raise Http404
        return int(pk)

    def _session_for_post(self, request, object_id, *, reply: bool = True) -> ChatSession:
        try:
            return selectors.session_for_staff(self._session_pk_for_post(request, object_id, reply=reply))
        except SessionNotFound as exc:
            raise Http404 from exc

    def _back_to(self, session_pk: int) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:chat_chatsession_change", args=[session_pk]))

    @staticmethod
    def _wants_json(request) -> bool:
        return request.headers.get("Accept", "").startswith("application/json")

    def reply_view(self, request, object_id):
        # The service finds and locks the chat itself (one query): no look-up here.
        session_pk = self._session_pk_for_post(request, object_id)
        is_internal = request.POST.get("is_internal") in {"1", "on", "true"}
        try:
            client_id = uuid.UUID(request.POST.get("client_id", ""))
        except ValueError:
            client_id = None
        try:
            result = services.message_post(
                session_pk=session_pk,
                author=ChatMessage.Author.AGENT,
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
                    "session": agent_session_payload(result.message.session),
                },
                status=201 if result.created else 200,
            )
        self.message_user(request, _("Note saved.") if is_internal else _("Reply sent."), messages.SUCCESS)
        return self._back_to(session_pk)

    def claim_view(self, request, object_id):
        session = self._session_for_post(request, object_id)
        try:
            services.session_claim(session=session, agent=request.user)
        except ChatError as exc:
            self.message_user(request, error_text(exc), messages.ERROR)
        else:
            self.message_user(request, _("You took this chat."), messages.SUCCESS)
        return self._back_to(session.pk)

    def transfer_view(self, request, object_id):
        session = self._session_for_post(request, object_id)
        to_agent_id = request.POST.get("to_agent", "")
        to_agent = None
        if to_agent_id.isdigit():
            to_agent = selectors.reply_capable_agents().filter(pk=int(to_agent_id)).first()
        if to_agent is None:
            self.message_user(request, _("Choose an agent who can answer chats."), messages.ERROR)
            return self._back_to(session.pk)
        try:
            services.session_transfer(session=session, agent=request.user, to_agent=to_agent)
        except ChatError as exc:
            self.message_user(request, error_text(exc), messages.ERROR)
        else:
            done = _("Chat transferred to %(agent)s.") % {"agent": to_agent.public_name}
            self.message_user(request, done, messages.SUCCESS)
        return self._back_to(session.pk)

    def end_view(self, request, object_id):
        session = self._session_for_post(request, object_id)
        try:
            services.session_end(session=session, ended_by=ChatSession.EndedBy.AGENT, agent=request.user)
        except ChatError as exc:
            self.message_user(request, error_text(exc), messages.ERROR)
        else:
            self.message_user(request, _("Chat ended."), messages.SUCCESS)
        return self._back_to(session.pk)

    def read_view(self, request, object_id):
        session = self._session_for_post(request, object_id, reply=False)
        up_to = request.POST.get("up_to", "")
        if not up_to.isdigit():
            return JsonResponse({"error": _("Send up_to, a message id.")}, status=400)
        services.session_mark_read(session=session, agent=request.user, up_to_message_id=int(up_to))
        return HttpResponse(status=204)

    def accepting_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        accepting = request.POST.get("accepting") == "1"
        user_set_accepting_chats(user=request.user, accepting=accepting)
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


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    list_display = ("shortcut_column", "title", "text_preview", "updated_at")
    list_display_links = ("shortcut_column", "title")
    search_fields = ("shortcut", "title", "text")
    fields = ("title", "shortcut", "text")

    @admin.display(description=gettext_lazy("shortcut"), ordering="shortcut")
    def shortcut_column(self, canned):
        return f"/{canned.shortcut}"

    @admin.display(description=gettext_lazy("text"))
    def text_preview(self, canned):
        return Truncator(canned.text).chars(100)
